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
tensors, NCCL for CUDA ones) and kept until the process exits.
"""

from __future__ import annotations

import dataclasses
import math
import os
import platform
import time
from multiprocessing import resource_tracker, shared_memory

import numpy as np
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


def _setting(distributed):
    """``"auto"``, ``True`` or ``False`` (numpy booleans included)."""
    return "auto" if isinstance(distributed, str) else bool(distributed)


def rank(distributed) -> int:
    """This process's rank for the ``distributed`` setting, without joining anything (0 alone)."""
    if _setting(distributed) is False or not dist.is_available():
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
    distributed = _setting(distributed)
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
    # Left to the end of the process, as torch leaves it: destroying a gloo group at exit
    # aborts the process about one time in four (torch 2.13, on the 2-core VM).
    dist.init_process_group(backend)
    return Group(dist.get_rank(), dist.get_world_size())


def _barrier() -> None:
    """Wait for every process, over gloo (``dist.barrier`` may pick NCCL on a GPU machine)."""
    dist.all_reduce(torch.zeros(1))


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


def parallel(module: torch.nn.Module, device: torch.device, group: Group):
    """``module`` wrapped to average its gradients across ``group`` (rank 0's weights to all).

    On the CPU, with every process on this machine, gradients are averaged
    through shared memory instead of gloo's loopback TCP (see
    :class:`SharedMemoryMean`); :func:`release` frees that memory after training.
    """
    ids = [device] if device.type == "cuda" else None
    n_values = sum(p.numel() for p in module.parameters() if p.requires_grad)
    shared = device.type == "cpu" and SharedMemoryMean.fits(group, n_values)
    options = {"gradient_as_bucket_view": True}
    if shared:  # one bucket, so one wait per step: the exchange cannot overlap computing anyway
        options["bucket_cap_mb"] = n_values * 4 / 2**20 + 1
    wrapped = DistributedDataParallel(module, device_ids=ids, **options)
    if shared:
        wrapped.shared_mean = SharedMemoryMean(group, n_values)
        wrapped.register_comm_hook(wrapped.shared_mean, _shared_memory_hook)
    return wrapped


def release(wrapped) -> None:
    """Free what :func:`parallel` set up besides the wrapper itself."""
    mean = getattr(wrapped, "shared_mean", None)
    if mean is not None:
        mean.close()


def _shared_memory_hook(state, bucket):  # DDP requires these parameter names
    done = torch.futures.Future()
    done.set_result(state.average(bucket.buffer(), bucket.index()))
    return done


class SharedMemoryMean:
    """The mean of one gradient bucket over the processes of a group on one machine.

    Every process writes its gradients, divided by the number of processes,
    into its own row of a shared memory segment, waits for the others, and
    sums the rows in rank order; all thus compute the same mean. Two sets of
    rows, used in turn, let a process write the next bucket while a slower
    one still reads the last. Over
    gloo, the same exchange costs a loopback TCP round trip per bucket, which
    on a small machine takes longer than the step it serves
    (benchmarks/bench_distributed.py).

    Waiting spins on per-process counters on x86-64, whose stores are seen in
    order by the other cores; elsewhere it is a gloo barrier, which orders
    memory as a system call does.
    """

    # At most this share of the free space of /dev/shm (a container's is often only 64 MiB:
    # writing past it kills the process with SIGBUS, so the space is checked first).
    _SHM_SHARE = 0.5
    _SPIN = platform.machine().lower() in ("x86_64", "amd64")
    _TIMEOUT_S = 1800.0  # torch.distributed's default collective timeout

    @classmethod
    def fits(cls, group: Group, n_values: int) -> bool:
        """Whether every process is on this machine and the segment fits in ``/dev/shm``."""
        local = os.environ.get("LOCAL_WORLD_SIZE")
        if local is None or int(local) != group.world_size:
            return False
        try:
            stat = os.statvfs("/dev/shm")
        except OSError:
            return False
        return cls._bytes(group, n_values) <= cls._SHM_SHARE * stat.f_bavail * stat.f_frsize

    @staticmethod
    def _bytes(group: Group, n_values: int) -> int:
        return 2 * group.world_size * n_values * 4 + 64 * group.world_size

    def __init__(self, group: Group, n_values: int):
        self.group = group
        size = self._bytes(group, n_values)
        name = [None]
        if group.rank == 0:
            segment = shared_memory.SharedMemory(create=True, size=size)
            name = [segment.name]
        dist.broadcast_object_list(name, src=0)
        if group.rank != 0:
            segment = shared_memory.SharedMemory(name=name[0])
            # Rank 0 owns it: the others' resource trackers must not unlink it at exit.
            resource_tracker.unregister(segment._name, "shared_memory")
        _barrier()
        if group.rank == 0:
            segment.unlink()  # gone from /dev/shm once every process has let go, even on a crash
        self.segment = segment
        world = group.world_size
        rows = np.ndarray((2, world, n_values), dtype=np.float32, buffer=segment.buf)
        self.rows = torch.from_numpy(rows)
        self.counters = np.ndarray(
            (world, 8), dtype=np.int64, buffer=segment.buf, offset=rows.nbytes
        )
        self.counters[group.rank] = 0
        self.layout: dict = {}
        self.calls = 0
        _barrier()

    def _offset(self, bucket: torch.Tensor, index: int) -> int:
        # DDP may regroup its buckets after the first step, alike on every process.
        if self.layout.get(index, (0, bucket.numel()))[1] != bucket.numel():
            self.layout.clear()
        if index not in self.layout:
            self.layout[index] = (sum(size for _, size in self.layout.values()), bucket.numel())
        return self.layout[index][0]

    def average(self, values: torch.Tensor, index: int) -> torch.Tensor:
        """``values`` (this process's bucket ``index``) replaced by their mean over the group."""
        offset = self._offset(values, index)
        self.calls += 1
        # Rows used two calls ago: every process is past them once it has reached the last call.
        rows = self.rows[self.calls % 2, :, offset : offset + values.numel()]
        torch.mul(values, 1.0 / self.group.world_size, out=rows[self.group.rank])
        self._wait()
        # Summed in rank order, by plain adds (a third of the time of sum(dim=0) here).
        torch.add(rows[0], rows[1], out=values)
        for row in rows[2:]:
            values.add_(row)
        return values

    def _wait(self) -> None:
        """Return once every process has made as many calls as this one."""
        if not self._SPIN:
            _barrier()
            return
        self.counters[self.group.rank, 0] = self.calls
        deadline = time.monotonic() + self._TIMEOUT_S
        while (self.counters[:, 0] < self.calls).any():
            if time.monotonic() > deadline:
                raise RuntimeError(
                    "A process of the data-parallel group stopped exchanging gradients for "
                    f"{self._TIMEOUT_S:.0f} s; it has probably failed (see its log)."
                )
            os.sched_yield()

    def close(self) -> None:
        self.rows = self.counters = None
        self.segment.close()


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
