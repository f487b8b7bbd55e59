"""Threads for small and large networks, on a quiet machine and beside a competing process.

    python benchmarks/bench_threads.py                 # all three parts
    python benchmarks/bench_threads.py --part readme   # one of: crossover, readme, large

1. ``crossover``: skae's time per epoch at one thread and at every core, on a
   quiet machine, for networks whose forward pass costs from a few to a few
   hundred MFLOP per batch. It places ``skae._threads.ONE_THREAD_FLOPS``.
2. ``readme``: the README's example, ``AutoEncoder(n_components=8,
   random_state=0).fit(X)`` on digits, with skae's default ``n_jobs=None``
   and with torch's default threads (``n_jobs=-1``, what skae did before),
   quiet and beside a competing CPU-bound process: another torch process
   multiplying matrices at its default threads (another user's training), or a
   pure-Python loop on one core.
3. ``large``: the MNIST benchmarks' largest network, 784-1000-500-250-30 at
   batch 256, with ``n_jobs=None`` and ``n_jobs=-1`` on a quiet machine.

Times are medians over ``--repeats`` runs, the settings alternating within
each repeat so that drifts in the machine's speed fall on both alike.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits

from skae import AutoEncoder
from skae._threads import ONE_THREAD_FLOPS, forward_flops

HERE = Path(__file__).resolve().parent
COMPETITORS = {
    "torch": "import torch\na = torch.randn(1024, 1024)\nwhile True:\n    a @ a",
    "python": "while True:\n    pass",
}


def epoch_time(X, n_jobs, **params) -> float:
    """Median seconds per epoch after the first of a short fit."""
    ae = AutoEncoder(max_epochs=4, n_iter_no_change=None, random_state=0, n_jobs=n_jobs, **params)
    ae.fit(X)
    return statistics.median(row["dur"] for row in ae.history_[1:])


def crossover(repeats: int) -> None:
    rng = np.random.RandomState(0)
    cases = [
        (64, (256, 128), 8, 64),  # the README's network
        (64, (64,), 8, 256),
        (64, (256, 128), 8, 256),
        (784, (128,), 8, 64),
        (784, (256, 128), 8, 64),
        (256, (512, 256), 16, 64),
        (784, (256, 128), 8, 256),
        (784, (1000, 500, 250), 30, 64),
        (784, (1000, 500, 250), 30, 256),
    ]
    cores = torch.get_num_threads()
    print(f"## crossover: seconds per epoch of 4096 rows, 1 thread against {cores}")
    print("| features | hidden | batch | MFLOP/batch | 1 thread | all | 1 thread / all |")
    print("|---|---|---|---|---|---|---|")
    for d, hidden, code, batch in cases:
        X = rng.rand(4096, d).astype(np.float32)
        params = dict(n_components=code, hidden_layer_sizes=hidden, batch_size=batch)
        one, all_ = [], []
        for _ in range(repeats):
            one.append(epoch_time(X, 1, **params))
            all_.append(epoch_time(X, -1, **params))
        probe = AutoEncoder(max_epochs=1, **params).fit(X[:batch])
        mflop = forward_flops(probe.module_, d) * batch / 1e6
        t1, ta = statistics.median(one), statistics.median(all_)
        print(
            f"| {d} | {hidden} | {batch} | {mflop:.0f} | {t1:.3f} | {ta:.3f} | {t1 / ta:.2f} |",
            flush=True,
        )
    print(f"skae uses one thread below {ONE_THREAD_FLOPS / 1e6:.0f} MFLOP per batch.\n")


def readme_fit(X, n_jobs) -> float:
    start = time.perf_counter()
    AutoEncoder(n_components=8, random_state=0, n_jobs=n_jobs).fit(X)
    return time.perf_counter() - start


def readme(repeats: int, competitors) -> None:
    X = load_digits().data / 16.0
    readme_fit(X, None)  # warm-up: imports and first allocations
    settings = {"n_jobs=None (skae's default)": None, "n_jobs=-1 (torch's threads)": -1}
    rows = []
    for condition in ["quiet", *competitors]:
        process = None
        if condition != "quiet":
            process = subprocess.Popen([sys.executable, "-c", COMPETITORS[condition]])
            time.sleep(2.0)  # let it reach its steady state
        try:
            times = {name: [] for name in settings}
            for _ in range(repeats):
                for name, n_jobs in settings.items():
                    times[name].append(readme_fit(X, n_jobs))
        finally:
            if process is not None:
                process.kill()
                process.wait()
        for name in settings:
            rows.append((condition, name, statistics.median(times[name]), times[name]))
    print("## the README example, seconds per fit (median; all runs)")
    print("| competing process | setting | fit | runs | / quiet |")
    print("|---|---|---|---|---|")
    quiet = {name: t for condition, name, t, _ in rows if condition == "quiet"}
    for condition, name, t, runs in rows:
        listed = ", ".join(f"{r:.2f}" for r in runs)
        print(f"| {condition} | {name} | {t:.2f} | {listed} | {t / quiet[name]:.2f} |", flush=True)
    print()


def large(repeats: int) -> None:
    X = np.random.RandomState(0).rand(8192, 784).astype(np.float32)
    params = dict(n_components=30, hidden_layer_sizes=(1000, 500, 250), batch_size=256)
    auto, torch_threads = [], []
    for _ in range(repeats):
        auto.append(epoch_time(X, None, **params))
        torch_threads.append(epoch_time(X, -1, **params))
    a, t = statistics.median(auto), statistics.median(torch_threads)
    print("## 784-1000-500-250-30, batch 256, 8192 rows: seconds per epoch")
    print(f"n_jobs=None {a:.3f}, n_jobs=-1 {t:.3f}, ratio {a / t:.2f}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["crossover", "readme", "large"], action="append")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--competitor", choices=sorted(COMPETITORS), action="append")
    args = parser.parse_args()
    parts = args.part or ["crossover", "readme", "large"]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads by default\n")
    if "crossover" in parts:
        crossover(args.repeats)
    if "readme" in parts:
        readme(args.repeats, args.competitor or ["torch", "python"])
    if "large" in parts:
        large(args.repeats)


if __name__ == "__main__":
    main()
