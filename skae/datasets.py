"""Loaders for data files that the user already has. Nothing is downloaded."""

from __future__ import annotations

import gzip
from pathlib import Path

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
