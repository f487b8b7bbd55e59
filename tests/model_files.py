"""Build model files member by member, and fuzz settings, to hand skae.load hostile ones."""

import hashlib
import io
import json
import os
import zipfile

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from safetensors.numpy import save as save_arrays

import skae
from skae import ModelFileError


def _written(data, tmp_path, name="m.skae"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def load_bytes(data, tmp_path, name="m.skae"):
    return skae.load(_written(data, tmp_path, name))


def rezip(config, blob, text=None):
    """A model file of ``config`` (or of JSON ``text``, saying what json cannot) and ``blob``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("skae.json", json.dumps(config) if text is None else text)
        zf.writestr("weights.safetensors", blob)
    return buffer.getvalue()


def parts(model_bytes):
    """The parsed ``skae.json`` and the bytes of ``weights.safetensors`` of a model file."""
    with zipfile.ZipFile(io.BytesIO(model_bytes)) as zf:
        return json.loads(zf.read("skae.json")), zf.read("weights.safetensors")


def consistent(config, arrays):
    """A file whose checksum and manifest agree with ``arrays``: only the content is hostile."""
    blob = save_arrays(arrays)
    config = {
        **config,
        "sha256": {"weights.safetensors": hashlib.sha256(blob).hexdigest()},
        "tensors": {k: {"shape": list(v.shape), "dtype": str(v.dtype)} for k, v in arrays.items()},
    }
    return config, blob


# CI runs a small budget; SKAE_FUZZ_EXAMPLES=5000 runs a long fuzzing session.
FUZZ = settings(
    max_examples=int(os.environ.get("SKAE_FUZZ_EXAMPLES", 60)),
    deadline=2000,
    derandomize="SKAE_FUZZ_EXAMPLES" not in os.environ,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=10,
)


def load_with_any_value(data, config, blob, target, tmp_path):
    """Put an arbitrary JSON value under a drawn key of ``target``, a part of ``config``, and load.

    The file stays consistent (valid zip and checksum); loading must give a
    model or a ``ModelFileError``, and nothing else.
    """
    key = data.draw(st.sampled_from(sorted(target) + ["extra"]))
    target[key] = data.draw(JSON_VALUES)
    try:
        return skae.load(_written(rezip(config, blob), tmp_path))
    except ModelFileError:
        return None
