"""How many CPU threads torch uses while skae trains or runs a network.

Small networks gain little from intra-op threads, and when another process
holds a core they collapse: every batch waits at a barrier for a thread that
is not running (docs/speed.md, Threads, has the figures). So a network
whose batches are small runs on one thread, and a larger one keeps torch's
setting. The setting of the calling thread is changed only for the call and
restored after it; torch keeps it per thread, so concurrent fits in threads
do not disturb one another. torch also keeps a process-wide value, the last
one set in any thread, which threads started later begin with: while calls
run, "torch's setting" is the value from before the first of them, and the
last to end puts that value back.
"""

from __future__ import annotations

import contextlib
import math
import threading

import joblib
import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence

from .nn.members import ParallelLinear

# Forward FLOPs of one batch below which one thread is used: the crossover measured by
# benchmarks/bench_threads.py (docs/speed.md, Threads).
ONE_THREAD_FLOPS = 5e7


def forward_flops(module: nn.Module, n_features, run=None) -> int:
    """FLOPs of the linear, convolution and recurrent layers of ``module`` in ``run`` on one row.

    ``run(x)`` (default: ``module(x)``) is called on one row of zeros of
    ``n_features`` (or of that shape, a tuple) in eval mode, without
    gradients, and the module is left in its mode: what its layers compute,
    convolutions included, whatever the module's shape or the part of it
    that ``run`` uses (a recurrent layer counts every step it runs).
    """
    flops = 0

    def count(layer, inputs, output):
        nonlocal flops
        if isinstance(layer, nn.Linear):  # on every row it gets (every step of a sequence)
            flops += 2 * layer.in_features * output.numel()
        elif isinstance(layer, ParallelLinear):
            flops += 2 * layer.weight.numel()
        elif isinstance(layer, nn.RNNBase):  # every step, each gate: input and state products
            out = output[0]
            steps = out.data.shape[0] if isinstance(out, PackedSequence) else out.shape[-2]
            gates = {"GRU": 3, "LSTM": 4}.get(layer.mode, 1)
            directions = 2 if layer.bidirectional else 1
            # The first layer reads the input, the others the layer below (both directions).
            size = layer.input_size + layer.hidden_size
            size += (layer.num_layers - 1) * (layer.hidden_size * directions + layer.hidden_size)
            flops += 2 * gates * size * layer.hidden_size * directions * steps
        elif isinstance(layer, nn.modules.conv._ConvTransposeNd):
            flops += 2 * inputs[0].numel() * layer.out_channels // layer.groups * _taps(layer)
        elif isinstance(layer, nn.modules.conv._ConvNd):
            flops += 2 * output.numel() * layer.in_channels // layer.groups * _taps(layer)

    kinds = (nn.Linear, ParallelLinear, nn.modules.conv._ConvNd, nn.RNNBase)
    layers = [m for m in module.modules() if isinstance(m, kinds)]
    handles = [layer.register_forward_hook(count) for layer in layers]
    training = module.training
    try:
        parameter = next(module.parameters(), None)
        device = parameter.device if parameter is not None else "cpu"
        shape = (
            tuple(n_features)
            if isinstance(n_features, (tuple, list, torch.Size))
            else (n_features,)
        )
        row = torch.zeros(1, *shape, device=device, dtype=torch.float32)
        with torch.no_grad():
            module.eval()
            (module if run is None else run)(row)
    finally:
        module.train(training)
        for handle in handles:
            handle.remove()
    return flops


def _taps(layer) -> int:
    return math.prod(layer.kernel_size)


def thread_count(n_jobs, flops_per_batch: float) -> int:
    """The threads for ``n_jobs``: an int as joblib reads it, or ``None`` to pick by size.

    ``None`` gives one thread below :data:`ONE_THREAD_FLOPS` per batch and
    torch's setting above it (:func:`torch_setting`, so that a limit set by
    the user, or by joblib's workers, is kept). ``-1`` is every core, ``-2``
    all but one, and so on.
    """
    if n_jobs is None:
        return 1 if flops_per_batch < ONE_THREAD_FLOPS else torch_setting()
    if n_jobs < 0:
        return max(1, joblib.cpu_count() + 1 + n_jobs)
    return n_jobs


_lock = threading.Lock()
_running = 0  # calls of torch_threads in progress, in every thread
_setting_before = None  # torch's setting before the first of them


def torch_setting() -> int:
    """torch's thread setting as the user left it: from before any skae call now running."""
    with _lock:
        return _setting_before if _running else torch.get_num_threads()


@contextlib.contextmanager
def torch_threads(n_threads: int):
    """Run the block with ``n_threads`` intra-op threads in this thread, then restore them."""
    global _running, _setting_before
    with _lock:
        before = torch.get_num_threads()
        if not _running:
            _setting_before = before
        _running += 1
    if n_threads != before:
        torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            # The last call to end also resets the process-wide value (see the module's
            # docstring), which a thread started during another's call may have inherited.
            restore = before if _running else _setting_before
            if torch.get_num_threads() != restore or not _running:
                torch.set_num_threads(restore)


def threads_for(module: nn.Module, n_features, rows: int, n_jobs, device, run=None) -> int:
    """The threads to run ``module`` (or ``run``, see forward_flops) on ``rows`` rows at a time.

    Off the CPU the host threads only feed the device, and torch's setting is kept.
    """
    if torch.device(device).type != "cpu" and n_jobs is None:
        return torch.get_num_threads()
    if n_jobs is not None:
        return thread_count(n_jobs, 0)
    return thread_count(None, forward_flops(module, n_features, run) * rows)
