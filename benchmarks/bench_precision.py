"""Mixed precision and torch.compile on the CPU: time per epoch and held-out error.

    python benchmarks/bench_precision.py [--epochs 6] [--modes default max-autotune-no-cudagraphs]

For two networks, skae's default on digits (64-256-128-8, batch 64) and
Hinton & Salakhutdinov's 784-1000-500-250-30 on 20,000 MNIST images (batch
256), it prints the median seconds per epoch (epochs after the first, so the
compile time is left out and shown apart) of skae in float32, in
``bf16-mixed`` and compiled in each mode, beside a hand-written torch loop
in float32 (data in one tensor, ``randperm`` slices, fused Adam) training
the same module at the same thread count. It then prints the held-out error
of each setting on digits (1,400 rows to train, 397 held out, 30 epochs)
relative to float32, the figure that the tests hold to 1.1x (bf16) and
1.05x (compile).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits

from skae import AutoEncoder
from skae._threads import forward_flops, thread_count
from skae.nn.modules import mlp_autoencoder

MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def hand_loop(X, hidden, code, batch, epochs) -> float:
    torch.manual_seed(0)
    module = mlp_autoencoder(X.shape[1], code, hidden, "relu", "identity").train()
    x = torch.as_tensor(X, dtype=torch.float32)
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3, fused=True)
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        for index in torch.randperm(len(x)).split(batch):
            xb = x[index]
            optimizer.zero_grad(set_to_none=True)
            loss = torch.nn.functional.mse_loss(module(xb)["reconstruction"], xb)
            loss.backward()
            optimizer.step()
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def skae_fit(X, hidden, code, batch, epochs, **setting):
    start = time.perf_counter()
    ae = AutoEncoder(
        n_components=code,
        hidden_layer_sizes=hidden,
        batch_size=batch,
        max_epochs=epochs,
        n_iter_no_change=None,
        random_state=0,
        **setting,
    ).fit(X)
    return ae, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--modes", nargs="+", default=["default", "max-autotune-no-cudagraphs"])
    args = parser.parse_args()
    digits = (load_digits().data / 16.0).astype(np.float32)
    if (MNIST / "train-images-idx3-ubyte.gz").exists():
        from skae.datasets import load_mnist

        images, source = load_mnist(MNIST, "train")[0][:20_000], "MNIST"
    else:
        images, source = np.random.RandomState(0).rand(20_000, 784).astype(np.float32), "random"
    settings = {"float32": {}, "bf16-mixed": {"precision": "bf16-mixed"}}
    settings.update({f"compile={mode!r}": {"compile": mode} for mode in args.modes})
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads by default")
    cases = [
        ("64-256-128-8 on digits", digits, (256, 128), 8, 64),
        (f"784-1000-500-250-30 on {source}", images, (1000, 500, 250), 30, 256),
    ]
    for name, X, hidden, code, batch in cases:
        # The hand loop runs at the threads skae picks for this network (its n_jobs=None).
        probe, _ = skae_fit(X[:batch], hidden, code, batch, 1)
        threads = thread_count(None, forward_flops(probe.module_, X.shape[1]) * batch)
        before = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            loop = hand_loop(X, hidden, code, batch, args.epochs)
        finally:
            torch.set_num_threads(before)
        print(f"\n## {name}, batch {batch}, {threads} thread(s): seconds per epoch")
        print("| training | first epoch | later epochs (median) | / hand loop |")
        print("|---|---|---|---|")
        print(f"| hand-written loop, float32 | | {loop:.4f} | 1.00 |")
        for label, setting in settings.items():
            ae, _ = skae_fit(X, hidden, code, batch, args.epochs, **setting)
            later = statistics.median(row["dur"] for row in ae.history_[1:])
            first = ae.history_[0, "dur"]
            print(f"| {label} | {first:.2f} | {later:.4f} | {later / loop:.2f} |", flush=True)
    print("\n## held-out MSE on digits (1,400 rows to train, 397 held out, 30 epochs)")
    print("| training | MSE | / float32 |")
    print("|---|---|---|")
    reference = None
    for label, setting in settings.items():
        ae = AutoEncoder(n_components=8, max_epochs=30, random_state=0, **setting)
        error = -ae.fit(digits[:1400]).score(digits[1400:])
        reference = reference or error
        print(f"| {label} | {error:.5f} | {error / reference:.4f} |", flush=True)


if __name__ == "__main__":
    main()
