"""Training on rows read from disk a block at a time: memory-mapped arrays, HDF5, zarr, dask.

Such an ``X`` is never loaded whole. Its rows are cut into blocks of
consecutive rows; each epoch visits the blocks in a shuffled order, reads a
buffer of a few blocks at a time (a background thread reads the next buffer
while the current one trains), checks and casts each block to float32 on
the device, and shuffles the rows inside the buffer. A row therefore meets,
in one batch, rows of the few blocks read with it rather than rows from
anywhere in ``X``: the order is random at two levels instead of one, which
matters only if ``X`` is sorted (by time, by class), and then less the more
blocks a buffer holds. Validation rows are whole blocks chosen at random.
"""

from __future__ import annotations

import contextlib
import mmap
import queue
import threading

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils import check_array

from ._data import check_float32_range

# A block is at most 16 MiB of float32 rows, and there are at least 64 blocks (so that
# shuffling and the validation split have blocks to choose from).
_BLOCK_BYTES = 2**24
_MIN_BLOCKS = 64
# Blocks per shuffling buffer.
_BUFFER_BLOCKS = 4
# Smaller on-disk arrays are loaded at once (as float32, at most this many bytes): reading
# them block by block would cost more than it saves.
STREAM_BYTES = 2**28


def is_out_of_core(X) -> bool:
    """Whether ``X`` is dense rows to read block by block rather than load.

    A memory-mapped numpy array (``np.memmap``, ``np.load(mmap_mode="r")``),
    or a 2-D array-like with ``shape``, ``dtype`` and row slicing that is not
    a numpy array (``h5py.Dataset``, ``zarr.Array``, a dask array), of more
    than ``STREAM_BYTES`` as float32.
    """
    if sp.issparse(X) or isinstance(X, torch.Tensor):
        return False
    shape = getattr(X, "shape", None)
    if shape is None or len(shape) != 2 or 4 * shape[0] * shape[1] <= STREAM_BYTES:
        return False
    if isinstance(X, np.ndarray):
        base = X
        while base is not None:
            if isinstance(base, (np.memmap, mmap.mmap)):
                return True
            base = getattr(base, "base", None)
        return False
    return (
        hasattr(X, "dtype") and hasattr(X, "__getitem__") and not hasattr(X, "iloc")
    )  # pandas loads as it is


def is_array_on_disk(X) -> bool:
    """Whether ``X`` is out of core and not a numpy array (``h5py``, ``zarr``, dask).

    Its rows are then only read, and checked, a block at a time; a memory-mapped
    numpy array is checked whole as it is, without a copy.
    """
    return is_out_of_core(X) and not isinstance(X, np.ndarray)


def read_rows(X, start: int, stop: int) -> np.ndarray:
    """Rows ``start:stop`` of ``X`` as a numpy array (computed, for a dask array)."""
    block = X[start:stop]
    if hasattr(block, "compute"):
        block = block.compute()
    return np.asarray(block)


def check_rows(block) -> np.ndarray:
    """A block of rows checked as ``fit`` checks ``X``: numeric, finite, within float32."""
    block = check_array(
        read_rows(block, 0, len(block)), dtype=[np.float64, np.float32], input_name="X"
    )
    check_float32_range(block)
    return block


@contextlib.contextmanager
def naming_rows(start: int, stop: int):
    """Say which rows of ``X`` a ``ValueError`` raised inside is about."""
    try:
        yield
    except ValueError as exc:
        raise ValueError(f"In rows {start} to {stop - 1} of X: {exc}") from exc


def check_block(block) -> np.ndarray:
    """A block of training rows, checked (:func:`check_rows`), in float32."""
    return check_rows(block).astype(np.float32, copy=False)


def row_blocks(n_samples: int, n_features: int) -> list[tuple[int, int]]:
    """``(start, stop)`` of each block of consecutive rows."""
    rows = max(1, min(_BLOCK_BYTES // (4 * max(n_features, 1)), -(-n_samples // _MIN_BLOCKS)))
    return [(start, min(n_samples, start + rows)) for start in range(0, n_samples, rows)]


class BlockData:
    """Training rows of an on-disk ``X``: the blocks ``blocks`` of it, read as needed.

    Blocks of a memory-mapped numpy array, which ``fit`` validated whole, are
    only cast as they are read; those of other arrays are checked too.
    """

    sparse = False
    y = None

    def __init__(self, X, device: torch.device, blocks: list[tuple[int, int]]):
        self.X, self.device, self.blocks = X, device, blocks
        self.checked = isinstance(X, np.ndarray)

    def __len__(self) -> int:
        return sum(stop - start for start, stop in self.blocks)

    def _capacity(self) -> int:
        """Rows of the largest buffer."""
        sizes = sorted((b - a for a, b in self.blocks), reverse=True)
        return sum(sizes[:_BUFFER_BLOCKS])

    def _read_into(self, out: torch.Tensor, indices) -> int:
        """Read, check and cast blocks ``indices`` into the host tensor ``out``; rows written."""
        n = 0
        for i in indices:
            start, stop = self.blocks[i]
            with naming_rows(start, stop):
                block = read_rows(self.X, start, stop)
                block = block.astype(np.float32, copy=False) if self.checked else check_block(block)
            out.numpy()[n : n + len(block)] = block  # a read-only view of a map: numpy copies
            n += len(block)
        return n

    def batches(self, batch_size: int, generator: torch.Generator | None = None):
        """Iterate over ``(X_batch, X_batch)``; shuffled (two levels) when a generator is given."""
        return _BlockBatches(self, batch_size, generator)


class _BlockBatches:
    def __init__(self, data: BlockData, batch_size: int, generator):
        self.data, self.batch_size, self.generator = data, batch_size, generator

    def __len__(self) -> int:
        sizes = [b - a for a, b in self.data.blocks]
        buffers = [sizes[i : i + _BUFFER_BLOCKS] for i in range(0, len(sizes), _BUFFER_BLOCKS)]
        return sum(-(-sum(b) // self.batch_size) for b in buffers)

    def _buffers(self) -> list[list[int]]:
        n = len(self.data.blocks)
        if self.generator is None:
            order = list(range(n))
        else:
            order = torch.randperm(n, generator=self.generator, device=self.generator.device)
            order = order.tolist()
        return [order[i : i + _BUFFER_BLOCKS] for i in range(0, n, _BUFFER_BLOCKS)]

    def __iter__(self):
        data, generator = self.data, self.generator
        # Buffers are allocated once per epoch and reused: allocating and freeing
        # tens of MiB per buffer, from two threads, makes the C allocator hold on to
        # far more memory than is ever in use.
        width = data.X.shape[1]
        shuffled = [
            torch.empty((data._capacity(), width), dtype=torch.float32, device=data.device)
            for _ in range(2)  # the previous buffer's last batch may still be in use
        ]
        for k, (slot, n) in enumerate(_read_ahead(data, self._buffers())):
            rows = slot[:n].to(data.device, non_blocking=True)
            out = shuffled[k % 2][:n]
            if generator is not None:
                order = torch.randperm(n, generator=generator, device=generator.device)
                torch.index_select(rows, 0, order.to(rows.device), out=out)
            else:
                out.copy_(rows)
            if rows.is_cuda:  # the copy from the pinned slot is asynchronous: wait before reuse
                torch.cuda.current_stream(rows.device).synchronize()
            slot.release()
            for start in range(0, n, self.batch_size):
                xb = out[start : start + self.batch_size]
                yield xb, xb


class _Slot:
    """A host buffer of the reader's, handed back with :meth:`release` once copied."""

    def __init__(self, tensor: torch.Tensor, free: queue.Queue):
        self.tensor, self.free = tensor, free

    def __getitem__(self, index):
        return self.tensor[index]

    def release(self) -> None:
        self.free.put(self)


def _read_ahead(data: BlockData, buffers: list[list[int]]):
    """Yield ``(slot, rows)`` per buffer; a background thread reads the next one meanwhile."""
    pin = data.device is not None and data.device.type == "cuda"
    free: queue.Queue = queue.Queue()
    for _ in range(2):
        tensor = torch.empty((data._capacity(), data.X.shape[1]), dtype=torch.float32)
        free.put(_Slot(tensor.pin_memory() if pin else tensor, free))
    filled: queue.Queue = queue.Queue()
    stop = threading.Event()

    def reader():
        try:
            for indices in buffers:
                slot = free.get()
                if stop.is_set():
                    return
                filled.put((slot, data._read_into(slot.tensor, indices), None))
        except BaseException as exc:  # raised again in the training thread
            filled.put((None, 0, exc))
            return
        filled.put((None, 0, None))

    thread = threading.Thread(target=reader, name="skae-block-reader", daemon=True)
    thread.start()
    try:
        while True:
            slot, n, error = filled.get()
            if error is not None:
                raise error
            if slot is None:
                return
            yield slot, n
    finally:
        stop.set()
        free.put(None)  # wakes a reader waiting for a free slot
        thread.join()


def split_blocks(blocks: list, fraction, seeds) -> tuple[list, list | None]:
    """Training and validation blocks: a random ``fraction`` of the blocks (at least one)."""
    if not fraction:
        return blocks, None
    n_valid = max(1, int(round(fraction * len(blocks))))
    if len(blocks) - n_valid < 1:
        raise ValueError(
            f"validation_fraction={fraction} leaves no training rows with "
            f"{sum(b - a for a, b in blocks)} rows; set validation_fraction=None."
        )
    order = np.random.default_rng(seeds).permutation(len(blocks))
    valid = sorted(order[:n_valid])
    train = sorted(order[n_valid:])
    return [blocks[i] for i in train], [blocks[i] for i in valid]
