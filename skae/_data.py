"""Moving data to the device once and slicing batches from it.

Dense data becomes one float32 tensor on the training device; every batch
is an ``index_select`` of that tensor with a shuffled index. Sparse CSR
data stays on the host and only one batch at a time is densified.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils.sparsefuncs import mean_variance_axis

_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _unavailable(device: torch.device) -> str | None:
    """Why ``device`` cannot be used on this machine, or ``None`` when it can."""
    if device.type == "cpu":
        return None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            return "torch.cuda.is_available() is False: no CUDA GPU, or a CPU-only build of torch"
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            return f"this machine has {count} CUDA device(s), numbered from 0"
        return None
    if device.type == "mps":
        if not torch.backends.mps.is_available():
            return "torch.backends.mps.is_available() is False: MPS needs Apple silicon and macOS"
        return None
    return f"skae trains on 'cpu', 'cuda' and 'mps' devices, not {device.type!r}"


def resolve_device(device: str) -> torch.device:
    """Turn the ``device`` parameter into a usable :class:`torch.device`."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError as exc:
        raise ValueError(
            f"device={device!r} is not a torch device; use 'auto', 'cpu', 'cuda' or 'mps'."
        ) from exc
    reason = _unavailable(resolved)
    if reason is not None:
        raise ValueError(
            f"device={device!r} was requested but cannot be used here ({reason}); "
            "use device='auto' to take a GPU when there is one and the CPU otherwise."
        )
    return resolved


def check_float32_range(X) -> None:
    """Refuse values that are finite in float64 but overflow float32, where skae computes."""
    values = X.data if sp.issparse(X) else X
    if not values.size or values.dtype != np.float64:
        return
    largest = np.abs(values).max()
    if largest > _FLOAT32_MAX:
        raise ValueError(
            f"X has values up to {largest:.3g}, beyond float32's range "
            f"(about {_FLOAT32_MAX:.3g}) in which skae trains; scale the data first "
            "(e.g. sklearn.preprocessing.StandardScaler)."
        )


def restore_device(device) -> torch.device:
    """Where restored weights go: ``device`` if it can be used here, else the CPU.

    A model fitted on a GPU thus loads on a machine without one.
    """
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError):
        return torch.device("cpu")
    return device if _unavailable(device) is None else torch.device("cpu")


def to_tensor(X, device: torch.device, dtype=np.float32) -> torch.Tensor:
    """Copy a dense array (or a CSR block, densified) to a ``dtype`` tensor on ``device``."""
    if sp.issparse(X):
        array = X.astype(dtype).toarray()
    else:
        array = np.asarray(X, dtype=dtype, order="C")
        if array is X or not array.flags.owndata:
            # The input itself (maybe read-only, maybe the user's): torch must not alias it.
            array = array.copy()
    return torch.from_numpy(array).to(device)


class InMemoryData:
    """Rows of ``X`` held once for training: on the device, or as host CSR.

    ``X`` may also be a tensor, which stays where it is if it is on ``device``.

    ``y``, when given, is the training target of each row (a supervised
    head's labels or values) and moves to the device too; without it the
    target of each row is the row itself, as an autoencoder needs.
    """

    def __init__(self, X, device: torch.device, y=None):
        self.device = device
        self.sparse = sp.issparse(X)
        if isinstance(X, torch.Tensor):  # computed on the device already (e.g. hidden values)
            self.X = X.to(device=device, dtype=torch.float32)
        else:
            self.X = X.tocsr() if self.sparse else to_tensor(X, device)
        self.y = None if y is None else torch.as_tensor(np.asarray(y)).to(device)

    @classmethod
    def from_rows(cls, X, indices: np.ndarray, device: torch.device, y=None) -> InMemoryData:
        """Rows ``indices`` of ``X`` (and of ``y``), copied once into float32 on ``device``.

        Dense rows are gathered a block at a time into the one float32 tensor,
        so no other copy of ``X`` is made on the way.
        """
        if sp.issparse(X):
            return cls(X[indices], device, y=None if y is None else np.asarray(y)[indices])
        out = torch.empty((len(indices), X.shape[1]), dtype=torch.float32, device=device)
        for start in range(0, len(indices), 65536):
            part = indices[start : start + 65536]
            out[start : start + len(part)] = torch.from_numpy(np.asarray(X[part], dtype=np.float32))
        return cls(out, device, y=None if y is None else np.asarray(y)[indices])

    def __len__(self) -> int:
        return self.X.shape[0]

    def rows(self, index) -> torch.Tensor:
        """Rows ``index`` (a slice or an index tensor) as a dense device tensor."""
        if self.sparse:
            if isinstance(index, torch.Tensor):
                index = index.cpu().numpy()
            return to_tensor(self.X[index], self.device)
        if isinstance(index, slice):
            return self.X[index]
        return self.X.index_select(0, index)

    def targets(self, index, rows: torch.Tensor) -> torch.Tensor:
        """The targets of rows ``index``: ``y``'s, or the rows themselves."""
        if self.y is None:
            return rows
        if isinstance(index, slice):
            return self.y[index]
        return self.y.index_select(0, index.to(self.y.device))

    def batches(self, batch_size: int, generator: torch.Generator | None = None):
        """Iterate over ``(X_batch, target_batch)``; shuffled when a generator is given."""
        return _Batches(self, batch_size, generator)


class _Batches:
    """Re-iterable: each pass draws a fresh permutation from the generator."""

    def __init__(self, data: InMemoryData, batch_size: int, generator):
        self.data, self.batch_size, self.generator = data, batch_size, generator

    def __len__(self) -> int:
        return -(-len(self.data) // self.batch_size)

    def __iter__(self):
        n, bs = len(self.data), self.batch_size
        if self.generator is None:
            for start in range(0, n, bs):
                index = slice(start, start + bs)
                xb = self.data.rows(index)
                yield xb, self.data.targets(index, xb)
            return
        order = torch.randperm(n, generator=self.generator, device=self.generator.device)
        for start in range(0, n, bs):
            index = order[start : start + bs]
            xb = self.data.rows(index)
            # Without y, the autoencoder's target is its (clean) input.
            yield xb, self.data.targets(index, xb)


def column_variances(X, block_size: int = 4096) -> np.ndarray:
    """Variance of each column of a dense or CSR array, in float64, block by block."""
    if sp.issparse(X):
        return np.asarray(mean_variance_axis(X, axis=0)[1], dtype=np.float64)
    n, total, squares = 0, 0.0, 0.0
    for block in iter_row_blocks(X, block_size):
        block = np.asarray(block, dtype=np.float64)
        n, total, squares = (
            n + block.shape[0],
            total + block.sum(axis=0),
            squares + np.square(block).sum(axis=0),
        )
    mean = total / n
    return np.maximum(squares / n - np.square(mean), 0.0)


def iter_row_blocks(X, block_size: int):
    """Yield consecutive row blocks of a dense or CSR array."""
    for start in range(0, X.shape[0], block_size):
        yield X[start : start + block_size]


class MemberRows:
    """The rows of several ensemble members, side by side: ``X`` is ``(rows, members, features)``.

    Column ``m`` holds member ``m``'s rows (every member has as many). Each
    pass shuffles each member's rows with its own permutation, in one gather
    on the device, and slices batches of ``batch_size`` rows of every member.
    The rows are stored member by member, and ``X`` and the batches are views
    of that memory, as :class:`~skae.nn.members.StackedMembers` reads it.
    """

    sparse = False
    y = None

    def __init__(self, parts: list[torch.Tensor]):
        self._by_member = torch.stack(parts)
        self.X = self._by_member.transpose(0, 1)
        self.device = self.X.device

    def __len__(self) -> int:
        return self.X.shape[0]

    def batches(self, batch_size: int, generator: torch.Generator | None = None):
        """Iterate over ``(X_batch, X_batch)``; each member shuffled on its own with a generator."""
        X = self._by_member
        if generator is not None:
            # Keys drawn (rows, members), as when the rows were stored that way: a seed shuffles
            # as it did.
            n_members, n_rows = X.shape[:2]
            keys = torch.rand(n_rows, n_members, generator=generator, device=generator.device)
            order = keys.argsort(dim=0).T.to(X.device)
            X = X.gather(1, order.unsqueeze(-1).expand(X.shape))
        return [(xb, xb) for xb in X.transpose(0, 1).split(batch_size)]
