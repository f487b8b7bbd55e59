"""Every public class and function carries a numpydoc docstring with Examples,
and every gallery example runs and saves its figures."""

import inspect
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
    for module in (skae, skae.datasets, skae.compare, skae.cli, skae.penalties):
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
