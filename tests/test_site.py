"""The documentation site builds warning-free, and its links land where they should.

The build runs Sphinx with ``-W`` (every warning an error) but without executing
the gallery, which ``tests/test_docs.py`` runs script by script; the full build is
``python -m sphinx -W -b html docs docs/_build/html``.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    pytest.importorskip("sphinx")
    pytest.importorskip("numpydoc")
    pytest.importorskip("sphinx_gallery")
    out = tmp_path_factory.mktemp("site")
    command = [sys.executable, "-m", "sphinx", "-W", "-q", "-b", "html", "-D", "plot_gallery=0"]
    command += ["-d", str(out / "doctrees"), "docs", str(out / "html")]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-4000:]
    return out / "html"


def test_every_public_name_has_its_api_page(site):
    import skae

    public = [n for n in skae.__all__ if not n.startswith("__")]
    missing = [n for n in public if not (site / "generated" / f"skae.{n}.html").exists()]
    assert not missing
    page = (site / "generated" / "skae.AutoEncoder.html").read_text()
    # numpydoc's sections, the inherited methods and the rendered maths are on the page.
    for text in ("n_components", "inverse_transform", "Examples", 'class="math'):
        assert text in page, text


def test_read_more_lands_on_the_user_guide_section(site):
    page = (site / "generated" / "skae.SequenceAutoEncoder.html").read_text()
    links = re.findall(r'href="([^"]+)"><span class="std std-ref">User Guide', page)
    assert links == ["../sequences.html#sequences"]
    assert 'id="sequences"' in (site / "sequences.html").read_text()


def test_the_gallery_and_the_guide_are_in_the_navigation(site):
    home = (site / "index.html").read_text()
    for target in ("user_guide.html", "api.html", "auto_examples/index.html"):
        assert f'href="{target}"' in home, target
    assert 'href="sequences.html"' in (site / "user_guide.html").read_text()
    assert (site / "auto_examples" / "plot_timeseries_anomaly.html").exists()


def test_every_internal_link_resolves(site):
    """Each link to a page of the site, and to a section of one, lands on something."""
    broken, checked = [], 0
    for page in site.rglob("*.html"):
        if "_static" in page.parts:
            continue
        for target, anchor in re.findall(r'href="([^"#:]*\.html)?(?:#([^"]+))?"', page.read_text()):
            if not (target or anchor):
                continue
            landing = page.parent / target if target else page
            checked += 1
            if not landing.exists() or (anchor and f'id="{anchor}"' not in landing.read_text()):
                broken.append(f"{page.relative_to(site)} -> {target}#{anchor}")
    assert checked > 1000 and not broken, broken[:20]
