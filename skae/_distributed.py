"""Data-parallel training across the processes of a ``torchrun`` (or ``accelerate``) launch.

A script that calls ``fit`` trains data-parallel, unchanged, when it is
launched as several processes: every process holds the same rows, draws
the same shuffled order, and takes its share of every batch; the gradients
are averaged across processes (``DistributedDataParallel``) after each
step, so every process ends with the same weights. ``batch_size`` stays the
global batch: a batch of ``batch_size`` rows is split between the
processes, and each process's loss is weighted by its share of the rows,
so that one step is the step one process would take on the whole batch.

Nothing here knows of scikit-learn or skorch. The process group is the
launcher's: it is joined at the first data-parallel fit (gloo for CPU
tensors, NCCL for CUDA ones) and left when the process exits.
"""

from __future__ import annotations

import atexit
import dataclasses
import math
import os

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

# What torchrun (and accelerate launch, which runs it) sets in every process it starts.
_LAUNCH_VARIABLES = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


@dataclasses.dataclass(frozen=True)
class Group:
    """The processes training one model together: this one's rank, and how many there are."""

    rank: int
    world_size: int


def _launched_world() -> int:
    """How many processes the launcher started (1 without a launcher)."""
    if not all(name in os.environ for name in _LAUNCH_VARIABLES):
        return 1
    return int(os.environ["WORLD_SIZE"])


def rank(distributed) -> int:
    """This process's rank for the ``distributed`` setting, without joining anything (0 alone)."""
    if distributed is False or not dist.is_available():
        return 0
    if dist.is_initialized():
        return dist.get_rank()
    return int(os.environ.get("RANK", 0)) if _launched_world() > 1 else 0


def join(distributed) -> Group | None:
    """The group to train data-parallel in under the ``distributed`` setting, or ``None``.

    ``"auto"`` joins when the process was started by a launcher with more
    than one process (or a process group of more than one is already set
    up); ``True`` requires that, and ``False`` never joins. The first call
    sets up the launcher's process group, which later fits reuse.
    """
    if distributed is False:
        return None
    if dist.is_available() and dist.is_initialized():
        world = dist.get_world_size()
        return Group(dist.get_rank(), world) if world > 1 else None
    if not dist.is_available() or _launched_world() < 2:
        if distributed is True:
            raise ValueError(
                "distributed=True trains data-parallel across the processes of a launch, but "
                "this process was not started by one (torch.distributed is unavailable, or "
                "RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT are not all set with "
                "WORLD_SIZE > 1). Launch the script with `torchrun --nproc_per_node=N script.py`, "
                "or use distributed='auto' to train in one process when not launched."
            )
        return None
    # Both backends where CUDA is present: CPU tensors go over gloo, CUDA tensors over NCCL.
    backend = "cpu:gloo,cuda:nccl" if torch.cuda.is_available() else "gloo"
    dist.init_process_group(backend)
    atexit.register(_leave)
    return Group(dist.get_rank(), dist.get_world_size())


def _leave() -> None:
    # While the interpreter is whole, and once every process is done with the group: a
    # process that tears its connections down while a peer still uses them can abort.
    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def local_device(device: torch.device, group: Group | None) -> torch.device:
    """The device this process trains on: its own GPU (``LOCAL_RANK``) when ``device`` is CUDA."""
    if group is None:
        return device
    if device.type == "cuda" and device.index is None:
        local = int(os.environ.get("LOCAL_RANK", group.rank % torch.cuda.device_count()))
        return torch.device("cuda", local)
    if device.type not in ("cpu", "cuda"):
        raise ValueError(
            f"Data-parallel training runs on 'cpu' or 'cuda' devices, not {device.type!r}; "
            "use device='cpu', or distributed=False to train each process alone."
        )
    return device


def same_seed(seed: int, group: Group | None) -> int:
    """Rank 0's ``seed`` on every process (so that ``random_state=None`` agrees everywhere)."""
    if group is None:
        return seed
    box = [seed]
    dist.broadcast_object_list(box, src=0)
    return int(box[0])


def _summary(data) -> tuple:
    """The shape of ``data``'s rows and a checksum of a few of them (``()`` for none)."""
    if data is None:
        return ()
    X = data.X
    shape = (len(data), X.shape[1])
    if not isinstance(X, torch.Tensor):  # on disk or sparse: the shape is what is cheap to read
        return shape
    step = max(1, len(data) // 256)
    return (*shape, float(X[::step].double().sum()))


def check_same_rows(train, valid, group: Group) -> None:
    """Refuse, on every process alike, training rows that differ between the processes."""
    mine = (_summary(train), _summary(valid))
    everyone: list = [None] * group.world_size
    dist.all_gather_object(everyone, mine)
    first = everyone[0]
    if all(_close(first, other) for other in everyone[1:]):
        return
    shapes = ", ".join(
        f"rank {r}: {s[0][0]} training rows of {s[0][1]} features" for r, s in enumerate(everyone)
    )
    raise ValueError(
        f"The {group.world_size} processes of this launch passed different rows to fit "
        f"({shapes}; or the same shapes with different values). Data-parallel training needs "
        "the same X, in the same order, in every process, each training on its share of every "
        "batch: load X the same way everywhere and give an int random_state to whatever "
        "samples it, or pass distributed=False to train each process alone."
    )


def _close(a: tuple, b: tuple) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if len(x) != len(y) or x[:2] != y[:2]:
            return False
        if len(x) > 2 and not math.isclose(x[2], y[2], rel_tol=1e-6, abs_tol=1e-6):
            return False
    return True


def parallel(module: torch.nn.Module, device: torch.device) -> DistributedDataParallel:
    """``module`` wrapped to average its gradients across the group (rank 0's weights to all)."""
    ids = [device] if device.type == "cuda" else None
    return DistributedDataParallel(module, device_ids=ids)


def agree_buffers(module: torch.nn.Module, group: Group) -> None:
    """Give every process the same buffers: float ones averaged, others rank 0's.

    Buffers that training updates from the rows it sees (running statistics)
    otherwise end up differing between processes that saw different shares.
    """
    for buffer in module.buffers():
        if buffer.is_floating_point():
            dist.all_reduce(buffer)
            buffer /= group.world_size
        else:
            dist.broadcast(buffer, src=0)


def sum_across(values: list, device: torch.device) -> list[float]:
    """Each value summed over every process of the group (an epoch's loss totals)."""
    stacked = torch.stack([torch.as_tensor(v, dtype=torch.float64, device=device) for v in values])
    dist.all_reduce(stacked)
    return stacked.tolist()


class Shards:
    """This process's share of each batch of ``batches``: consecutive rows, near-equal shares.

    ``scale`` is, after each batch is yielded, the factor that makes the
    averaged gradient that of the whole batch: ``world_size`` times this
    share's fraction of the batch's rows.
    """

    def __init__(self, batches, group: Group):
        self.batches, self.group = batches, group
        self.scale = 1.0

    def __len__(self) -> int:
        return len(self.batches)

    def __iter__(self):
        rank, world = self.group.rank, self.group.world_size
        for xb, yb in self.batches:
            n = xb.shape[0]
            start, stop = n * rank // world, n * (rank + 1) // world
            self.scale = world * (stop - start) / n
            yield xb[start:stop], yb[start:stop]
