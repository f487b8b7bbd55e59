"""Every public class and function carries a numpydoc docstring with Examples,
and every gallery example runs and saves its figures."""

import inspect
import re
import runpy
from pathlib import Path

import pytest

import skae
import skae.cli
import skae.compare
import skae.datasets
import skae.penalties

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("plot_*.py"))


def public_objects():
    for module in (skae, skae.datasets, skae.compare, skae.cli, skae.penalties, skae.neighbors):
        names = getattr(module, "__all__", None) or dir(module)
        for name in names:
            obj = getattr(module, name)
            if name.startswith("_") or not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            if getattr(obj, "__module__", "").startswith("skae"):
                yield f"{module.__name__}.{name}", obj


@pytest.mark.parametrize(
    "name, obj", list(public_objects()), ids=lambda v: v if isinstance(v, str) else ""
)
def test_public_docstrings_have_examples(name, obj):
    doc = inspect.getdoc(obj) or ""
    if inspect.isclass(obj) and issubclass(obj, Exception):
        assert "Examples" in doc, name
        return
    assert "Examples\n--------" in doc, name
    if inspect.signature(obj).parameters:  # a class's: its __init__'s
        assert "Parameters\n----------" in doc, name


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs_and_saves_figures(script, tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(script), run_name="__main__")
    assert list(tmp_path.glob("*.png")), f"{script.name} saved no figure"


@pytest.mark.parametrize("name, Estimator", skae.all_estimators())
def test_estimator_docstring_points_to_its_user_guide_section(name, Estimator):
    docs = Path(__file__).resolve().parents[1] / "docs"
    labels = {
        label
        for page in docs.glob("*.md")
        for label in re.findall(r"^\((\w+)\)=$", page.read_text(), re.M)
    }
    pointers = re.findall(r"Read more in the :ref:`User Guide <(\w+)>`\.", Estimator.__doc__)
    assert len(pointers) == 1, f"{name} has no User Guide pointer"
    assert pointers[0] in labels, f"{name} points to {pointers[0]!r}, not a label in docs/"
