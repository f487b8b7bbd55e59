"""Time skae's fit per epoch against a hand-written torch loop and skorch's defaults.

All three train the same module (skae's default architecture,
d-256-128-8-128-256-d ReLU, from skae's layer builder) with Adam on the same
data and batch size. Printed per-epoch times are medians
over the epochs after the first (warm-up); ratios are skae / other.

    python benchmarks/bench_overhead.py                 # CPU
    python benchmarks/bench_overhead.py --device cuda   # GPU

Data: 100,000 x 32 synthetic tabular rows, and 20,000 x 784 MNIST images
(from ../shared/data/mnist, or random images of that shape without it).
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

import skae
from skae.nn.modules import mlp_autoencoder

HERE = Path(__file__).resolve().parent
MNIST = HERE.parents[1] / "shared" / "data" / "mnist"
HIDDEN = (256, 128)  # AutoEncoder's default hidden_layer_sizes


def tabular(n=100_000, d=32, seed=0):
    rng = np.random.RandomState(seed)
    latent = rng.normal(size=(n, 6))
    return np.tanh(latent @ rng.normal(size=(6, d))) + 0.05 * rng.normal(size=(n, d))


def images(n=20_000):
    path = MNIST / "train-images-idx3-ubyte.gz"
    if path.exists():
        from skae.datasets import load_idx

        return load_idx(path)[:n].reshape(n, -1) / 255.0, "MNIST"
    return np.random.RandomState(0).rand(n, 784), "random"


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def hand_loop(module, X, batch_size, epochs, device):
    """The loop a careful user would write: data on the device once, shuffled slices."""
    module = module.to(device).train()
    x = torch.as_tensor(X, dtype=torch.float32, device=device)
    # skae's optimizer="adam": torch's Adam with its fused kernel.
    opt = torch.optim.Adam(module.parameters(), lr=1e-3, fused=True)
    times = []
    for _ in range(epochs):
        sync(device)
        start = time.perf_counter()
        perm = torch.randperm(len(x), device=device)
        for i in range(0, len(x), batch_size):
            xb = x[perm[i : i + batch_size]]
            loss = (module(xb)["reconstruction"] - xb).pow(2).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        sync(device)
        times.append(time.perf_counter() - start)
    return times


class _Reconstruct(nn.Module):
    def __init__(self, ae):
        super().__init__()
        self.ae = ae

    def forward(self, x):
        return self.ae(x)["reconstruction"]


def skorch_defaults(module, X, batch_size, epochs, device):
    """skorch's NeuralNet as documented: Dataset + DataLoader, ValidSplit(5), torch.optim.Adam."""
    from skorch import NeuralNet

    net = NeuralNet(
        _Reconstruct(module),
        criterion=nn.MSELoss,
        optimizer=torch.optim.Adam,
        lr=1e-3,
        batch_size=batch_size,
        max_epochs=epochs,
        device=str(device),
        verbose=0,
    )
    Xf = X.astype(np.float32)
    net.fit(Xf, Xf)
    return [row["dur"] for row in net.history]


def skae_fit(X, batch_size, epochs, device, validation_fraction):
    ae = skae.AutoEncoder(
        n_components=8,
        hidden_layer_sizes=HIDDEN,
        max_epochs=epochs,
        batch_size=batch_size,
        validation_fraction=validation_fraction,
        n_iter_no_change=None,
        device=str(device),
        random_state=0,
    ).fit(X)
    return [row["dur"] for row in ae.history_]


def median_after_warmup(times):
    return statistics.median(times[1:] if len(times) > 1 else times)


def run(name, X, batch_size, epochs, device, with_skorch, repeats):
    torch.manual_seed(0)
    module = mlp_autoencoder(X.shape[1], 8, HIDDEN, "relu", "identity")
    # Interleaved repeats, so that drift in the machine's speed hits both sides alike.
    hand, ours = [], []
    for _ in range(repeats):
        hand.append(
            median_after_warmup(hand_loop(copy.deepcopy(module), X, batch_size, epochs, device))
        )
        ours.append(median_after_warmup(skae_fit(X, batch_size, epochs, device, 0.0)))
    hand, ours = statistics.median(hand), statistics.median(ours)
    line = (
        f"{name:<22} bs={batch_size:<4} hand {hand:7.3f} s/epoch  skae {ours:7.3f} s/epoch  "
        f"skae/hand {ours / hand:5.3f}"
    )
    if with_skorch:
        ours_v = median_after_warmup(skae_fit(X, batch_size, epochs, device, 0.1))
        sk = median_after_warmup(
            skorch_defaults(copy.deepcopy(module), X, batch_size, epochs, device)
        )
        line += (
            f"  | skae(valid 0.1) {ours_v:7.3f}  skorch default {sk:7.3f}  "
            f"skorch/skae {sk / ours_v:5.2f}x"
        )
    print(line, flush=True)


def main():
    global HIDDEN
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--hidden",
        type=int,
        nargs="*",
        default=list(HIDDEN),
        help="hidden layer sizes of the benchmarked model (default: skae's)",
    )
    parser.add_argument("--no-skorch", action="store_true", help="skip skorch's defaults")
    args = parser.parse_args()
    device = torch.device(args.device)
    HIDDEN = tuple(args.hidden)
    print(
        f"torch {torch.__version__}, threads {torch.get_num_threads()}, device {device}, "
        f"model d-{'-'.join(map(str, HIDDEN))}-8-{'-'.join(map(str, HIDDEN[::-1]))}-d"
    )
    if device.type == "cuda":
        print(torch.cuda.get_device_name(device))
    X_tab = tabular()
    X_img, source = images()
    for bs in args.batch_sizes:
        run("tabular 100000x32", X_tab, bs, args.epochs, device, not args.no_skorch, args.repeats)
        run(f"{source} 20000x784", X_img, bs, args.epochs, device, not args.no_skorch, args.repeats)


if __name__ == "__main__":
    main()
