"""Data-parallel speedup under torchrun: 2 processes of 1 thread against 1 process of 1 thread.

For each model, four runs side by side, each one a fresh launch on the CPU
with ``OMP_NUM_THREADS=1``:

- skae, one process: ``AutoEncoder(...).fit(X)``;
- skae, ``torchrun --standalone --nproc_per_node=2``: the same script, unchanged;
- a hand-written torch loop, one process, and the same loop under torchrun with
  ``DistributedDataParallel`` and each process taking its half of every batch.

Each run's time per epoch is the median over its epochs after the first;
the one- and two-process runs alternate, ``--repeats`` times each (3 by
default), and the printed time is the median over the repeats, as the VM's
speed drifts by several percent from one run to the next. The speedup is the
one-process time over the two-process time, for the same global batch; the
spread gives the lowest and highest ratio of the repeats, paired in order.

    python benchmarks/bench_distributed.py [--repeats 3]

Models: MNIST-sized, 20,000 x 784 images (from ../shared/data/mnist, random
images of that shape without it), ``hidden_layer_sizes=(512, 256)``, batch 256,
where computing outweighs exchanging gradients; and a small tabular model,
100,000 x 32 rows, ``(64, 32)``, batch 256, where the exchange dominates.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
MNIST = HERE.parents[1] / "shared" / "data" / "mnist"
MODELS = {
    "mnist": {"hidden": (512, 256), "batch": 256, "epochs": 5},
    "tabular": {"hidden": (64, 32), "batch": 256, "epochs": 5},
}


def data(model: str) -> np.ndarray:
    if model == "tabular":
        rng = np.random.RandomState(0)
        latent = rng.normal(size=(100_000, 6))
        X = np.tanh(latent @ rng.normal(size=(6, 32))) + 0.05 * rng.normal(size=(100_000, 32))
        return X.astype(np.float32)
    path = MNIST / "train-images-idx3-ubyte.gz"
    if path.exists():
        from skae.datasets import load_idx

        return (load_idx(path)[:20_000].reshape(20_000, -1) / 255.0).astype(np.float32)
    return np.random.RandomState(0).rand(20_000, 784).astype(np.float32)


def skae_epochs(X, spec) -> list[float]:
    from skae import AutoEncoder

    ae = AutoEncoder(
        n_components=8,
        hidden_layer_sizes=spec["hidden"],
        batch_size=spec["batch"],
        max_epochs=spec["epochs"],
        n_iter_no_change=None,
        device="cpu",
        random_state=0,
    ).fit(X)
    return [row["dur"] for row in ae.history_]


def hand_epochs(X, spec) -> list[float]:
    """The loop a careful user would write with DDP: each process its share of every batch."""
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    from skae.nn.modules import mlp_autoencoder

    world = int(os.environ.get("WORLD_SIZE", 1))
    rank = 0
    torch.manual_seed(0)
    module = mlp_autoencoder(X.shape[1], 8, spec["hidden"], "relu", "identity")
    forward = module
    if world > 1:
        dist.init_process_group("gloo")
        rank = dist.get_rank()
        forward = DistributedDataParallel(module)
    x = torch.from_numpy(X)
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3, fused=True)
    generator = torch.Generator().manual_seed(0)
    batch, times = spec["batch"], []
    for _ in range(spec["epochs"]):
        start = time.perf_counter()
        order = torch.randperm(len(x), generator=generator)
        for i in range(0, len(x), batch):
            index = order[i : i + batch]
            index = index[len(index) * rank // world : len(index) * (rank + 1) // world]
            xb = x[index]
            loss = (forward(xb)["reconstruction"] - xb).pow(2).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        times.append(time.perf_counter() - start)
    if world > 1:
        dist.destroy_process_group()
    return times


def worker(model: str, kind: str) -> None:
    spec = MODELS[model]
    X = data(model)
    times = (skae_epochs if kind == "skae" else hand_epochs)(X, spec)
    if int(os.environ.get("RANK", 0)) == 0:
        threads = torch.get_num_threads()
        print(json.dumps({"epoch_s": statistics.median(times[1:]), "threads": threads}))


def launch(model: str, kind: str, processes: int) -> dict:
    script = [str(Path(__file__).resolve()), "--worker", model, kind]
    if processes == 1:
        command = [sys.executable, *script]
    else:
        command = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            f"--nproc_per_node={processes}",
            *script,
        ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    run = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return json.loads(run.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", nargs=2, metavar=("MODEL", "KIND"))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs; seconds per epoch (median)")
    print(
        f"{'model':8} {'loop':5} {'1 proc':>8} {'2 procs':>8} {'speedup':>8} "
        f"{'spread':>12} {'threads':>8}"
    )
    for model in MODELS:
        for kind in ("skae", "hand"):
            runs = [(launch(model, kind, 1), launch(model, kind, 2)) for _ in range(args.repeats)]
            one = statistics.median(a["epoch_s"] for a, _ in runs)
            two = statistics.median(b["epoch_s"] for _, b in runs)
            ratios = [a["epoch_s"] / b["epoch_s"] for a, b in runs]
            threads = f"{runs[0][0]['threads']}/{runs[0][1]['threads']}"
            print(
                f"{model:8} {kind:5} {one:8.3f} {two:8.3f} {one / two:7.2f}x "
                f"{min(ratios):5.2f}-{max(ratios):.2f}x {threads:>8}"
            )


if __name__ == "__main__":
    main()
