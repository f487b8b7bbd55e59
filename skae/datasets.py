"""Loaders for data files that the user already has. Nothing is downloaded."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import NamedTuple

import numpy as np


def load_idx(path) -> np.ndarray:
    """Read an IDX file (the MNIST format), gzipped or not.

    Parameters
    ----------
    path : str or path-like
        File such as ``train-images-idx3-ubyte.gz``.

    Returns
    -------
    array : ndarray of uint8
        Shaped as the file's header says, e.g. ``(60000, 28, 28)``.

    Examples
    --------
    >>> import gzip, tempfile, os
    >>> import numpy as np
    >>> from skae.datasets import load_idx
    >>> raw = bytes([0, 0, 8, 1]) + (3).to_bytes(4, "big") + bytes([7, 8, 9])
    >>> path = os.path.join(tempfile.mkdtemp(), "labels-idx1-ubyte.gz")
    >>> with gzip.open(path, "wb") as f:
    ...     _ = f.write(raw)
    >>> load_idx(path)
    array([7, 8, 9], dtype=uint8)
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 8:
        raise ValueError(f"{path} is not an unsigned-byte IDX file (bad magic number).")
    ndim = raw[3]
    dims = np.frombuffer(raw[4 : 4 + 4 * ndim], dtype=">u4").astype(int)
    data = np.frombuffer(raw[4 + 4 * ndim :], dtype=np.uint8)
    if data.size != int(np.prod(dims)):
        raise ValueError(
            f"{path} is truncated: expected {int(np.prod(dims))} values, got {data.size}."
        )
    return data.reshape(dims)


def load_mnist(path, kind: str = "train"):
    """Load MNIST or Fashion-MNIST from a folder of IDX files.

    Parameters
    ----------
    path : str or path-like
        Folder holding ``{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]``.
    kind : {"train", "test"}, default="train"
        Which split to read.

    Returns
    -------
    X : ndarray of shape (n_samples, 784), float64
        Pixels scaled to [0, 1].
    y : ndarray of shape (n_samples,), int64
        Labels.

    Examples
    --------
    Two 2x2 "images" written in the IDX format, then read back:

    >>> import gzip, os, tempfile
    >>> from skae.datasets import load_mnist
    >>> folder = tempfile.mkdtemp()
    >>> def write(name, header, values):
    ...     with gzip.open(os.path.join(folder, name), "wb") as f:
    ...         _ = f.write(bytes(header) + bytes(values))
    >>> write("t10k-images-idx3-ubyte.gz", [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2],
    ...       [0, 255, 51, 0, 0, 0, 255, 255])
    >>> write("t10k-labels-idx1-ubyte.gz", [0, 0, 8, 1, 0, 0, 0, 2], [7, 3])
    >>> X, y = load_mnist(folder, "test")
    >>> X.shape, X.max(), y.tolist()
    ((2, 4), np.float64(1.0), [7, 3])
    """
    prefix = {"train": "train", "test": "t10k"}[kind]
    folder = Path(path)

    def find(stem):
        for name in (f"{prefix}-{stem}-ubyte.gz", f"{prefix}-{stem}-ubyte"):
            if (folder / name).exists():
                return folder / name
        raise FileNotFoundError(f"No {prefix}-{stem}-ubyte[.gz] in {folder}.")

    images = load_idx(find("images-idx3"))
    labels = load_idx(find("labels-idx1"))
    return images.reshape(len(images), -1) / 255.0, labels.astype(np.int64)


def load_odds(path):
    """Load an ODDS outlier-detection ``.mat`` file (as shipped with PyOD).

    Parameters
    ----------
    path : str or path-like
        A MATLAB file with variables ``X`` and ``y`` (1 = outlier).

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float64
    y : ndarray of shape (n_samples,), int64
        1 for outliers, 0 for inliers.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from scipy.io import savemat
    >>> from skae.datasets import load_odds
    >>> path = os.path.join(tempfile.mkdtemp(), "tiny.mat")
    >>> savemat(path, {"X": np.arange(6.0).reshape(3, 2), "y": np.array([[0], [0], [1]])})
    >>> X, y = load_odds(path)
    >>> X.shape, y.tolist()
    ((3, 2), [0, 0, 1])
    """
    from scipy.io import loadmat

    mat = loadmat(path)
    return np.asarray(mat["X"], dtype=np.float64), np.asarray(mat["y"]).ravel().astype(np.int64)


def load_ts(path):
    """Load a time-series collection from a ``.ts`` file (the sktime and aeon format).

    The format of the UCR/UEA archive: ``#`` comment lines, ``@`` header
    lines (``@univariate``, ``@dimensions``, ``@equalLength``,
    ``@seriesLength``, ``@classLabel``, ``@targetLabel``...), then ``@data``
    and one case per line, its channels separated by ``:``, the values of a
    channel by ``,`` (``?`` for a missing value), and its label last when the
    header declares one.

    Parameters
    ----------
    path : str or path-like
        The ``.ts`` file, e.g. ``GunPoint_TRAIN.ts``.

    Returns
    -------
    X : ndarray of shape (n_cases, n_channels, n_timepoints), float64, or list of ndarray
        The cases in aeon's layout; when their lengths differ, a list of
        ``(n_channels, n_timepoints_i)`` arrays. Missing values are NaN.
    y : ndarray of shape (n_cases,) or None
        The class labels (strings, as in the file) with ``@classLabel true``,
        the targets (float64) with ``@targetLabel true``, else ``None``.

    Examples
    --------
    >>> import os, tempfile
    >>> from skae.datasets import load_ts
    >>> path = os.path.join(tempfile.mkdtemp(), "tiny.ts")
    >>> with open(path, "w") as f:
    ...     _ = f.write("@problemName tiny\\n@univariate false\\n@dimensions 2\\n"
    ...                 "@classLabel true a b\\n@data\\n1,2,3:4,5,6:a\\n7,8,9:1,2,3:b\\n")
    >>> X, y = load_ts(path)
    >>> X.shape, y.tolist()
    ((2, 2, 3), ['a', 'b'])
    """
    path = Path(path)
    header, cases, labels = {}, [], []
    spec = None  # what the header says, read once at @data
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if spec is None:
                if not line.startswith("@"):
                    raise ValueError(f"{path}, line {number}: expected an @ header line or @data.")
                key, _, value = line[1:].partition(" ")
                key = key.lower()
                if key == "data":
                    spec = _ts_spec(path, header)
                else:
                    header[key] = value.strip()
                continue
            case, label = _parse_ts_case(path, number, line, spec)
            cases.append(case)
            labels.append(label)
    if spec is None:
        raise ValueError(f"{path} has no @data line: it is not a .ts file.")
    if not cases:
        raise ValueError(f"{path} holds no cases after @data.")
    y = None
    if spec.classes is not None:
        y = np.asarray(labels, dtype=str)
    elif spec.targets:
        y = np.asarray(labels, dtype=np.float64)
    if len({case.shape for case in cases}) == 1:
        return np.stack(cases), y
    return cases, y


class _TsSpec(NamedTuple):
    classes: list | None  # the declared class labels, with @classLabel true
    targets: bool  # @targetLabel true
    channels: int | None  # @dimensions


def _ts_flag(header: dict, key: str) -> bool:
    return header.get(key, "false").split(" ")[0].lower() == "true"


def _ts_spec(path, header: dict) -> _TsSpec:
    if _ts_flag(header, "timestamps"):
        raise ValueError(
            f"{path} declares @timeStamps true, which load_ts does not read; give the values "
            "without timestamps (aeon.datasets.load_from_ts_file reads them)."
        )
    classes = header["classlabel"].split()[1:] if _ts_flag(header, "classlabel") else None
    channels = int(header["dimensions"]) if "dimensions" in header else None
    return _TsSpec(classes, _ts_flag(header, "targetlabel"), channels)


def _parse_ts_case(path, number: int, line: str, spec: _TsSpec):
    fields = line.split(":")
    labelled = spec.classes is not None or spec.targets
    label = fields.pop().strip() if labelled else None
    if spec.classes and label not in spec.classes:
        raise ValueError(
            f"{path}, line {number}: label {label!r} is not among the declared "
            f"@classLabel values {spec.classes}."
        )
    if spec.channels is not None and len(fields) != spec.channels:
        raise ValueError(
            f"{path}, line {number}: {len(fields)} channels, but @dimensions says {spec.channels}."
        )
    try:
        channels = [
            [np.nan if v.strip() == "?" else float(v) for v in field.split(",")] for field in fields
        ]
    except ValueError as exc:
        raise ValueError(f"{path}, line {number}: a value is not a number ({exc}).") from None
    if len({len(channel) for channel in channels}) != 1:
        raise ValueError(f"{path}, line {number}: its channels have different lengths.")
    return np.asarray(channels, dtype=np.float64), label
