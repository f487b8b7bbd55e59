"""Inference on data that is not in memory: lazily on dask arrays, a block at a time from disk.

:func:`blockwise` wraps an estimator's row-wise methods (``transform``,
``score_samples``, ``predict``...). Each row's result depends on that row
alone, so a method may run on any split of the rows:

- a dask array gives a lazy dask array, one task per block of rows
  (``map_blocks``), so inference runs where the blocks are, on a cluster;
- an on-disk array (``h5py``, ``zarr``) larger than
  :data:`skae._streaming.STREAM_BYTES` is read a block of rows at a time,
  and the results are joined into one numpy array;
- anything else, memory-mapped numpy arrays included, goes to the method as it is.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ._streaming import is_array_on_disk, naming_rows, read_rows, row_blocks


def is_dask_array(X) -> bool:
    """Whether ``X`` is a dask array (recognised without importing dask)."""
    return type(X).__module__.split(".")[0] == "dask" and hasattr(X, "map_blocks")


def blockwise(method):
    """Make ``method(self, X, ...)``, row-wise, run block by block on dask and on-disk ``X``."""

    @functools.wraps(method)
    def run(self, X, *args, **kwargs):
        def on(rows):
            return method(self, rows, *args, **kwargs)

        if is_dask_array(X):
            return _lazily(on, X)
        if is_array_on_disk(X):
            blocks = row_blocks(X.shape[0], math.prod(X.shape[1:]))
            return np.concatenate([_block(on, X, start, stop) for start, stop in blocks])
        return on(X)

    return run


def _block(on, X, start: int, stop: int):
    with naming_rows(start, stop):  # which rows, as fit says
        return on(read_rows(X, start, stop))


def _lazily(on, X):
    """``on`` over the row blocks of the dask array ``X``, as a lazy dask array."""
    X = X.rechunk({axis: -1 for axis in range(1, X.ndim)})  # whole rows in each block
    # One row of zeros checks X's width (and that the model is fitted) now, not at compute,
    # and gives the result's shape and dtype without reading X.
    sample = np.asarray(on(np.zeros((1, *X.shape[1:]), dtype=X.dtype)))
    if sample.ndim == 1:
        chunks = (X.chunks[0],)
    else:
        chunks = (X.chunks[0], *((n,) for n in sample.shape[1:]))
    drop = tuple(range(sample.ndim, X.ndim))
    new = tuple(range(X.ndim, sample.ndim))
    return X.map_blocks(
        lambda block: np.asarray(on(block)),
        dtype=sample.dtype,
        chunks=chunks,
        drop_axis=drop,
        new_axis=new,
        meta=sample[:0],
    )
