"""``skae.save`` / ``skae.load``: a model file that is never unpickled.

The file is a zip archive with exactly two members:

- ``skae.json``: format name and version, the estimator's description (its
  class from an allow-list, parameters, fitted attributes and parts, see
  :mod:`skae._state`) as JSON data, library versions, the manifest of
  tensors (name, shape, dtype) and the SHA-256 of the weights;
- ``weights.safetensors``: the networks' tensors and the fitted arrays.

Loading parses JSON and safetensors only, so a file from a stranger can at
worst be refused; every problem is reported as :class:`ModelFileError`.
Loading is bounded: the JSON member is at most ``_MAX_CONFIG_BYTES``, the
weights member at most what the JSON's manifest of tensors declares, only
the stored and deflate methods (what ``save`` writes) are decompressed, and
the layer counts and widths the parameters declare are checked against the
manifest before any module is built.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import secrets
import stat
import zipfile
from pathlib import Path

import numpy as np

from ._data import resolve_device
from ._state import NODE_FIELDS, describe, field, is_count, is_root, restore, upgrade
from .exceptions import ModelFileError

FORMAT = "skae-model"
# 2: the outlier detector's members are members_ (OutlierMember); 1 still loads.
FORMAT_VERSION = 2
CONFIG, WEIGHTS = "skae.json", "weights.safetensors"
# The JSON member (parameters, fitted attributes, history, manifest); parsing this much
# takes well under a second and 100 MB.
_MAX_CONFIG_BYTES = 4 * 2**20
_MAX_WEIGHTS_BYTES = 16 * 2**30
# safetensors' header: 8 bytes of length, then JSON naming each tensor's dtype, shape and
# offsets, padded; a generous bound per tensor on top of its name.
_HEADER_BYTES, _HEADER_BYTES_PER_TENSOR = 1024, 256
_COMPRESSIONS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}
_DTYPES = {
    "float16",
    "float32",
    "float64",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "bool",
}


def _json_constant(name):
    raise ModelFileError(f"{CONFIG} contains {name}, which is not JSON data.")


# -- save ---------------------------------------------------------------------------------
def save(estimator, path) -> None:
    """Save a fitted skae estimator to a file that loading never unpickles.

    Parameters
    ----------
    estimator : skae estimator
        Any fitted public skae estimator (the outlier detector, classifier,
        regressor and :class:`~skae.HammingIndex` included) whose parameters are plain
        data or estimators skae can store. Python objects (a custom module
        class, skorch callbacks, a ``RandomState``, a ``Pipeline`` as a
        detector's ``estimator``) are refused with a ``TypeError``: use
        :func:`joblib.dump` for trusted use.
    path : str or path-like
        Destination; written atomically.

    See Also
    --------
    load : Read the file back.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.datasets import load_digits
    >>> import skae
    >>> X = load_digits().data / 16
    >>> ae = skae.AutoEncoder(n_components=4, max_epochs=2, random_state=0).fit(X)
    >>> path = os.path.join(tempfile.mkdtemp(), "digits.skae")
    >>> skae.save(ae, path)
    >>> (skae.load(path).transform(X) == ae.transform(X)).all()
    np.True_
    """
    import safetensors
    import sklearn
    import torch
    from safetensors.numpy import save as save_arrays
    from sklearn.utils.validation import check_is_fitted

    from . import __version__

    cls = type(estimator)
    if not is_root(cls):
        raise TypeError(f"{cls.__name__} is not a skae estimator; skae.save stores skae's own.")
    check_is_fitted(estimator)
    node, arrays = describe(estimator)
    blob = save_arrays(arrays)
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        **node,
        "tensors": {k: {"shape": list(v.shape), "dtype": str(v.dtype)} for k, v in arrays.items()},
        "sha256": {WEIGHTS: hashlib.sha256(blob).hexdigest()},
        "versions": {
            "skae": __version__,
            "torch": torch.__version__,
            "scikit-learn": sklearn.__version__,
            "numpy": np.__version__,
            "safetensors": safetensors.__version__,
        },
    }
    text = json.dumps(config, indent=1, allow_nan=False).encode()
    if len(text) > _MAX_CONFIG_BYTES:
        raise ValueError(
            f"The model's description ({CONFIG}: parameters, fitted attributes, history) takes "
            f"{len(text)} bytes, more than skae.load accepts ({_MAX_CONFIG_BYTES}); it is usually "
            "the feature names or a long history. Use joblib.dump for this model."
        )
    _write_atomically(Path(path), [(CONFIG, text), (WEIGHTS, blob)])


def _write_atomically(path: Path, members) -> None:
    """Write a zip of ``members`` to ``path`` so that readers see the old file or the new one.

    A symlink is followed: its target is replaced and the link kept. The new
    file gets the mode a plain ``open`` would give it (0o666 less the umask),
    or the replaced file's mode. Data and directory entry are synced to disk
    before and after the rename; the temporary file is removed on any error
    that can be caught.
    """
    path = Path(os.path.realpath(path))
    try:
        keep_mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        keep_mode = None
    # Created with 0o666 like a plain open, so the system applies the umask (mkstemp's
    # 0o600 would not, and reading the umask means setting it: a global side effect).
    tmp = path.parent / f".{path.name}.{secrets.token_hex(8)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            with zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as zf:
                for name, data in members:
                    zf.writestr(name, data)
            f.flush()
            os.fsync(f.fileno())
        if keep_mode is not None:
            os.chmod(tmp, keep_mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:
        directory = os.open(path.parent, os.O_RDONLY)
    except OSError:  # some systems cannot open a directory; the rename is still atomic
        return
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


# -- load ---------------------------------------------------------------------------------
def _read_member(zf: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """The member's bytes, decompressing at most ``limit + 1`` of them whatever its header says."""
    info = zf.getinfo(name)
    if info.compress_type not in _COMPRESSIONS:
        raise ModelFileError(
            f"{name} is compressed with zip method {info.compress_type}; skae.save writes "
            f"{' or '.join(_COMPRESSIONS.values())} only."
        )
    if info.file_size > limit:
        raise ModelFileError(f"{name} claims {info.file_size} bytes, more than allowed ({limit}).")
    with zf.open(info) as f:
        data = f.read(limit + 1)  # headers can lie; never decompress past the limit
    if len(data) > limit:
        raise ModelFileError(f"{name} is larger than allowed ({limit} bytes).")
    return data


def _manifest(config: dict) -> dict:
    """The JSON's manifest of tensors, checked: name -> (shape, dtype)."""
    manifest = field(config, "tensors", dict, CONFIG)
    out = {}
    for name, entry in manifest.items():
        shape = entry.get("shape") if isinstance(entry, dict) else None
        dtype = entry.get("dtype") if isinstance(entry, dict) else None
        if not isinstance(shape, list) or not all(is_count(n) for n in shape) or len(shape) > 8:
            raise ModelFileError(f"The manifest's shape of tensor {name!r} is not a list of sizes.")
        if dtype not in _DTYPES:
            raise ModelFileError(f"The manifest's dtype of tensor {name!r} is not one skae saves.")
        out[name] = (tuple(shape), dtype)
    return out


def _weights_limit(manifest: dict) -> int:
    """The most bytes a safetensors file holding exactly ``manifest``'s tensors can take."""
    data = sum(math.prod(shape) * np.dtype(dtype).itemsize for shape, dtype in manifest.values())
    header = _HEADER_BYTES + sum(_HEADER_BYTES_PER_TENSOR + 2 * len(k) for k in manifest)
    if data > _MAX_WEIGHTS_BYTES:
        raise ModelFileError(f"The manifest declares {data} bytes of tensors, more than allowed.")
    return data + header


def _open_regular(path):
    """Open ``path`` for reading, refusing anything but a regular file.

    The file is opened without blocking and checked on the open descriptor,
    so a FIFO, a device such as ``/dev/zero`` or a socket is refused at once
    instead of hanging or being read without end.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ModelFileError(
                f"{path} is not a regular file; a skae model is a file written by skae.save."
            )
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _parse_config(text: bytes) -> dict:
    try:
        config = json.loads(text.decode("utf-8"), parse_constant=_json_constant)
    except ModelFileError:
        raise
    except (ValueError, RecursionError) as exc:  # bad UTF-8 or JSON, a 5,000-digit integer
        raise ModelFileError(f"{CONFIG} is not valid JSON: {exc}") from exc
    if not isinstance(config, dict):
        raise ModelFileError(f"{CONFIG} must hold a JSON object.")
    return config


def _read(path):
    """The parsed JSON member and the weights' bytes, each read within its bound."""
    with _open_regular(path) as f:
        try:
            zf = zipfile.ZipFile(f)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise ModelFileError(
                f"{path} is not a zip archive written by skae.save: {exc}"
            ) from exc
        with zf:
            names = sorted(zf.namelist())
            if names != sorted([CONFIG, WEIGHTS]):
                raise ModelFileError(f"Expected members {[CONFIG, WEIGHTS]}, found {names[:10]}.")
            config = _parse_config(_read_member(zf, CONFIG, _MAX_CONFIG_BYTES))
            manifest = _manifest(config)
            blob = _read_member(zf, WEIGHTS, _weights_limit(manifest))
    return config, manifest, blob


def _weights_from(config: dict, manifest: dict, blob: bytes) -> dict:
    from safetensors.numpy import load as load_arrays

    digest = field(config, "sha256", dict, CONFIG).get(WEIGHTS)
    if digest != hashlib.sha256(blob).hexdigest():
        raise ModelFileError(f"The checksum of {WEIGHTS} does not match: the file was altered.")
    try:
        weights = load_arrays(blob)
    except Exception as exc:  # safetensors raises its own SafetensorError
        raise ModelFileError(f"{WEIGHTS} is not a valid safetensors file: {exc}") from exc
    actual = {k: (tuple(v.shape), str(v.dtype)) for k, v in weights.items()}
    if manifest != actual:
        raise ModelFileError(f"{WEIGHTS} does not hold the tensors that {CONFIG} lists.")
    for name, array in weights.items():
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            raise ModelFileError(
                f"Tensor {name!r} holds NaN or infinite values; a fitted model has none."
            )
    return weights


def load(path, device=None):
    """Load an estimator saved by :func:`save`, without unpickling anything.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save`.
    device : str or None, default=None
        Torch device for the weights. ``None`` uses the device the model was
        saved from when it is available here, else the CPU.

    Returns
    -------
    estimator : skae estimator
        Fitted, with outputs equal to the saved estimator's.

    Raises
    ------
    ModelFileError
        For any failure, whatever its cause (a missing or unreadable file
        too: the original exception is its ``__cause__``): a file that is
        not an intact skae model of a supported version is refused, within
        bounded time and memory. Only ``KeyboardInterrupt`` and
        ``SystemExit`` pass through unchanged.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.datasets import load_digits
    >>> import skae
    >>> X = load_digits().data / 16
    >>> path = os.path.join(tempfile.mkdtemp(), "ae.skae")
    >>> skae.save(skae.AutoEncoder(max_epochs=1, random_state=0).fit(X), path)
    >>> skae.load(path, device="cpu").transform(X[:2]).shape
    (2, 2)
    """
    try:
        return _load(path, device)
    except ModelFileError:
        raise
    except Exception as exc:  # whatever the cause; KeyboardInterrupt and SystemExit pass
        raise ModelFileError(f"{path} could not be loaded: {type(exc).__name__}: {exc}") from exc


def _load(path, device):
    config, manifest, blob = _read(path)
    if config.get("format") != FORMAT:
        raise ModelFileError(f"{path} is not a skae model file (format {config.get('format')!r}).")
    version = field(config, "format_version", int, CONFIG)
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path} uses format version {version}, newer than this skae reads "
            f"({FORMAT_VERSION}); upgrade skae to load it."
        )
    if version < 1:
        raise ModelFileError(f"Unknown format version {version}.")
    weights = _weights_from(config, manifest, blob)
    device = resolve_device(device) if device is not None else None
    node = {k: config[k] for k in NODE_FIELDS if k in config}
    if "attributes" not in node:
        raise ModelFileError(
            f"{path} holds no fitted attributes; skae.save writes fitted estimators only."
        )
    node, weights = upgrade(node, weights, version)
    try:
        return restore(node, weights, device)
    except ModelFileError:
        raise
    except Exception as exc:  # a parameter or fitted value that validation or building refuses
        raise ModelFileError(
            f"{path} does not describe a valid {config.get('class')}: {type(exc).__name__}: {exc}"
        ) from exc
