"""The architecture, checked: which layer may import what."""

import ast
import subprocess
import sys
from pathlib import Path

import skae

PACKAGE = Path(skae.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set:
    """The absolute names of the modules ``path`` imports (relative imports resolved)."""
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def _importers(prefix: str) -> set:
    """The skae modules that import ``prefix`` or a module under it."""
    return {
        _module_name(path)
        for path in PACKAGE.rglob("*.py")
        if any(name == prefix or name.startswith(prefix + ".") for name in _imports(path))
    }


def test_the_engine_is_the_only_module_that_imports_skorch():
    assert _importers("skorch") == {"skae._engine"}


def test_the_training_path_is_the_only_module_that_talks_to_the_engine():
    # The package root re-exports the public StopOnInterrupt callback, lazily.
    assert _importers("skae._engine") == {"skae._training", "skae"}


def test_the_torch_layer_imports_no_scikit_learn_even_in_a_fresh_process():
    paths = sorted((PACKAGE / "nn").glob("*.py"))
    assert len(paths) >= 9  # the package, its modules, losses, noise, penalties...
    for path in paths:
        assert not {n.split(".")[0] for n in _imports(path)} & {"sklearn", "skorch"}, path.name
    modules = [_module_name(path) for path in paths]
    code = (
        "import sys\n"
        f"for name in {modules!r}: __import__(name)\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('sklearn', 'skorch'))\n"
        "assert not loaded, loaded[:5]\n"
        "import skae.nn.modules as m, torch\n"
        "assert m.mlp([3, 2], 'relu')(torch.zeros(1, 3)).shape == (1, 2)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_data_parallelism_speed_and_blockwise_inference_import_no_scikit_learn_themselves():
    for name in ("_distributed.py", "_blockwise.py", "_precision.py", "_threads.py"):
        top = {n.split(".")[0] for n in _imports(PACKAGE / name)}
        assert not top & {"sklearn", "skorch"}, name
    # Data-parallel training is reached only through the engine and the training path.
    assert _importers("skae._distributed") == {"skae._engine", "skae._training", "skae._supervised"}
    # So are the CPU threads and the training precision.
    assert _importers("skae._threads") == {"skae._training"}


def test_public_names_keep_their_import_paths():
    import skae.penalties
    from skae import HammingIndex, pack_bits, unpack_bits
    from skae.neighbors import HammingIndex as index_class

    assert HammingIndex is index_class
    assert skae.penalties.L1Activity is skae.nn.penalties.L1Activity
    assert (unpack_bits(pack_bits([[1, 0, 1]]), 3) == [[1, 0, 1]]).all()
    for name in skae.__all__:
        assert getattr(skae, name) is not None
