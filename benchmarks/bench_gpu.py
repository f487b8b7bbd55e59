"""skae on one GPU: overhead against a hand-written loop, Hinton's MNIST autoencoder, CUDA tests.

    python benchmarks/bench_gpu.py                   # every part: about 8 minutes on an H200
    python benchmarks/bench_gpu.py --part auto  # or tests overhead digits batch hinton outliers

1. ``overhead``: seconds per epoch of 60,000 MNIST rows, skae against a
   hand-written CUDA loop training the same module (data on the device once,
   ``randperm`` slices, fused Adam), for float32, ``bf16-mixed`` and compiled
   training (``compile=True``, which is ``"reduce-overhead"`` on CUDA; and
   ``--settings compiled-default`` for Inductor's kernels without CUDA
   graphs), at batch 256 and 4096, for skae's default network
   (784-256-128-8) and Hinton & Salakhutdinov's 784-1000-500-250-30. The loop
   uses the same autocast and the same ``torch.compile`` mode as skae.
2. ``digits`` and ``batch``: the README's example on digits, on the CPU and
   on CUDA; then the default network on MNIST at batch sizes 64 to 4096:
   seconds per epoch and held-out error after ``--batch-seconds`` of
   training, which places the default ``batch_size`` on CUDA; and ``auto``:
   the default fit (``batch_size="auto"``, early stopping) on 20,000 and
   60,000 rows against batch 64 trained for as long.
3. ``hinton``: 784-1000-500-250-30 (``StackedAutoEncoder``, 3 pretraining
   epochs per layer, BCE, AdamW with weight decay 0.1 and a cosine learning
   rate over 60 epochs, the recipe that reaches 2.95 on the CPU), test squared
   error per image (sum over the 784 pixels, mean over the 10,000 test
   images) against wall time, for at most ``--hinton-seconds`` of
   fine-tuning. The paper's figure is 3.00.
4. ``outliers``: ``bench_outliers.py`` on the 8 ODDS sets with
   ``--outlier-seeds`` splits, skae's detector (its 5 autoencoders trained
   side by side as one stacked network, on the GPU) against IsolationForest
   on the CPU: ROC-AUC and fit plus score time as a multiple of
   IsolationForest's (the target is at most 5x), and the ``hand-loop``
   column, the same training written by hand in torch on the GPU.
5. ``tests``: the CUDA tests of ``tests/`` (they skip on a machine without CUDA).

Without ``../shared/data/mnist`` the rows are random images of that shape
(parts 1 and 2 only).
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
from bench_precision import skae_fit  # the same fit, run from benchmarks/ as a script
from skorch.callbacks import Callback

from skae import AutoEncoder, StackedAutoEncoder, StopOnInterrupt
from skae._precision import autocast, compile_mode
from skae._stacked import layer_stages

HERE = Path(__file__).resolve().parent
MNIST = HERE.parents[1] / "shared" / "data" / "mnist"
NETWORKS = {
    "default 784-256-128-8": ((256, 128), 8),
    "Hinton 784-1000-500-250-30": ((1000, 500, 250), 30),
}
SETTINGS = {
    "fp32": {},
    "bf16-mixed": {"precision": "bf16-mixed"},
    "compiled": {"compile": True},  # on CUDA, mode "reduce-overhead" (CUDA graphs)
    "compiled-default": {"compile": "default"},  # Inductor's kernels without CUDA graphs
}


def mnist(data: Path):
    if (data / "train-images-idx3-ubyte.gz").exists():
        from skae.datasets import load_mnist

        return load_mnist(data, "train")[0], load_mnist(data, "test")[0]
    rng = np.random.RandomState(0)
    return rng.rand(60_000, 784).astype(np.float32), rng.rand(10_000, 784).astype(np.float32)


DEVICE = "cuda"  # --device cpu runs a smoke test of the script on a machine without a GPU


def sync():
    if DEVICE == "cuda":
        torch.cuda.synchronize()


def hand_loop(X, hidden, code, batch, epochs, setting) -> float:
    """Median seconds per epoch (after the first) of the loop a careful user would write."""
    from skae.nn.modules import mlp_autoencoder

    torch.manual_seed(0)
    module = mlp_autoencoder(784, code, hidden, "relu", "identity").to(DEVICE).train()
    x = torch.as_tensor(X, dtype=torch.float32, device=DEVICE)
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3, fused=True)
    precision = setting.get("precision", "32")
    mode = compile_mode(setting.get("compile", False), DEVICE)
    forward = module if mode is None else torch.compile(module, mode=mode)
    times = []
    for _ in range(epochs):
        sync()
        start = time.perf_counter()
        for index in torch.randperm(len(x), device=DEVICE).split(batch):
            xb = x[index]
            optimizer.zero_grad(set_to_none=True)
            with autocast(precision, DEVICE):
                out = forward(xb)["reconstruction"]
            loss = torch.nn.functional.mse_loss(out.float(), xb)
            loss.backward()
            optimizer.step()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def skae_epoch(X, X_test, hidden, code, batch, epochs, setting) -> tuple[float, float]:
    """Median seconds per epoch (after the first) and the test MSE after ``epochs``."""
    ae, _ = skae_fit(X, hidden, code, batch, epochs, device=DEVICE, **setting)
    return statistics.median(row["dur"] for row in ae.history_[1:]), -ae.score(X_test)


def overhead(X, X_test, epochs: int, settings: list[str], batches: list[int]) -> None:
    print(
        f"## seconds per epoch of {len(X):,} rows, skae against a hand-written loop "
        f"(median of epochs 2-{epochs}), and skae's test MSE after {epochs} epochs"
    )
    print("| network | batch | training | hand loop | skae | skae / loop | skae test MSE |")
    print("|---|---|---|---|---|---|---|")
    for label in settings:
        for name, (hidden, code) in NETWORKS.items():
            for batch in batches:
                start = time.perf_counter()
                try:
                    loop = hand_loop(X, hidden, code, batch, epochs, SETTINGS[label])
                    ours, mse = skae_epoch(X, X_test, hidden, code, batch, epochs, SETTINGS[label])
                except Exception as error:  # one failed setting still leaves the others' rows
                    print(f"| {name} | {batch} | {label} | failed: {error!r:.300} |", flush=True)
                    continue
                print(
                    f"| {name} | {batch} | {label} | {loop:.4f} | {ours:.4f} | {ours / loop:.2f} "
                    f"| {mse:.5f} |  ({time.perf_counter() - start:.0f} s)",
                    flush=True,
                )
    print()


def digits_fit() -> None:
    """The README's example, AutoEncoder(n_components=8).fit(digits), on the CPU and on CUDA."""
    from sklearn.datasets import load_digits

    X = (load_digits().data / 16.0).astype(np.float32)
    print("## the README's example on digits (1,797 x 64), default settings, on each device")
    print("| device | fit s | epochs | s / epoch | training MSE |")
    print("|---|---|---|---|---|")
    for device in ("cpu", DEVICE):
        start = time.perf_counter()
        ae = AutoEncoder(n_components=8, device=device, random_state=0).fit(X)
        seconds = time.perf_counter() - start
        print(
            f"| {device} | {seconds:.2f} | {ae.n_iter_} | {seconds / ae.n_iter_:.4f} "
            f"| {-ae.score(X):.5f} |",
            flush=True,
        )
    print()


def batch_sizes(X, X_test, seconds: float) -> None:
    print(
        f"## default network: batch size against time per epoch and test MSE after {seconds:.0f} s"
    )
    print("| batch_size | s / epoch | epochs | test MSE |")
    print("|---|---|---|---|")
    for batch in (64, 128, 256, 512, 1024, 4096):
        stop = StopAfter(seconds)
        ae = AutoEncoder(
            n_components=8,
            batch_size=batch,
            max_epochs=10_000,
            n_iter_no_change=None,
            device=DEVICE,
            random_state=0,
            callbacks=[stop, StopOnInterrupt()],
        ).fit(X)
        per_epoch = (
            statistics.median(row["dur"] for row in ae.history_[1:])
            if ae.n_iter_ > 1
            else ae.history_[0, "dur"]
        )
        print(f"| {batch} | {per_epoch:.4f} | {ae.n_iter_} | {-ae.score(X_test):.5f} |", flush=True)
    print()


def auto_batch(X, X_test, sizes=(20_000, 60_000)) -> None:
    """The default fit (batch_size="auto", early stopping) against batch 64 for as long."""
    print("## batch_size='auto' against 64 on CUDA: the default fit, then batch 64 for its time")
    print("| rows | auto batch | fit s | epochs | test MSE | batch 64: epochs | test MSE |")
    print("|---|---|---|---|---|---|---|")
    for rows in sizes:
        start = time.perf_counter()
        auto = AutoEncoder(n_components=8, device=DEVICE, random_state=0).fit(X[:rows])
        seconds = time.perf_counter() - start
        width = auto.net_.batch_size  # "auto" as the fit resolved it
        narrow = AutoEncoder(
            n_components=8,
            batch_size=64,
            device=DEVICE,
            random_state=0,
            callbacks=[StopAfter(seconds), StopOnInterrupt()],
        ).fit(X[:rows])
        print(
            f"| {rows:,} | {width} | {seconds:.1f} | {auto.n_iter_} | {-auto.score(X_test):.5f} "
            f"| {narrow.n_iter_} | {-narrow.score(X_test):.5f} |",
            flush=True,
        )
    print()


class StopAfter(Callback):
    """Ends training, keeping the model, once ``seconds`` of training have passed."""

    def __init__(self, seconds):
        self.seconds = seconds

    def on_train_begin(self, net, **kwargs):
        self.start = time.perf_counter()

    def on_epoch_end(self, net, **kwargs):
        if time.perf_counter() - self.start > self.seconds:
            raise KeyboardInterrupt  # skorch ends training on it; StopOnInterrupt keeps the model


class TestError(Callback):
    """Test SSE per image every ``every`` fine-tuning epochs, and the seconds it took."""

    def __init__(self, X_test, every, seconds):
        self.X_test, self.every, self.seconds = X_test, every, seconds
        self.curve = []

    def on_train_begin(self, net, **kwargs):
        self.start = time.perf_counter()

    def on_epoch_end(self, net, **kwargs):
        if len(layer_stages(net.module_.encoder)) == 1:  # a pretraining stage
            return
        epoch, elapsed = len(net.history), time.perf_counter() - self.start
        if epoch % self.every and epoch != net.max_epochs and elapsed < self.seconds:
            return
        module = net.module_.eval()
        x = torch.as_tensor(self.X_test, dtype=torch.float32, device=DEVICE)
        with torch.inference_mode():
            X_hat = torch.cat([module(xb)["reconstruction"] for xb in x.split(4096)])
        module.train()
        sse = float(((X_hat - x) ** 2).sum(dim=1).mean())
        self.curve.append((epoch, elapsed, sse))
        print(f"    epoch {epoch:4d}  {elapsed:6.1f} s  test SSE/img {sse:.3f}", flush=True)
        if elapsed > self.seconds:
            raise KeyboardInterrupt


def hinton(X, X_test, seconds: float, epochs: int, batch: int, precision: str) -> None:
    print(
        f"## Hinton & Salakhutdinov's autoencoder: {epochs} cosine epochs (AdamW, weight "
        f"decay 0.1) at batch {batch}, {precision}, at most {seconds:.0f} s"
    )
    tracker = TestError(X_test, 10, seconds)
    start = time.perf_counter()
    sae = StackedAutoEncoder(
        n_components=30,
        hidden_layer_sizes=(1000, 500, 250),
        loss="bce",
        lr=1e-3,
        batch_size=batch,
        max_epochs=epochs,
        pretrain_epochs=3,
        n_iter_no_change=None,
        lr_schedule="cosine",
        optimizer="adamw",
        weight_decay=0.1,
        device=DEVICE,
        precision=precision,
        random_state=0,
        callbacks=[("test", tracker), StopOnInterrupt()],
    ).fit(X)
    total = time.perf_counter() - start
    tracker = dict(sae.net_.callbacks_)["test"]
    epoch, elapsed, sse = tracker.curve[-1]
    print(
        f"  final: test SSE/img {sse:.3f} after {epoch} fine-tuning epochs, {elapsed:.0f} s of "
        f"fine-tuning, {total:.0f} s in all (paper: 3.00)\n"
    )


def cuda_tests() -> None:
    print("## the CUDA tests of tests/")
    # Only the files that hold CUDA tests: the others need packages a GPU image may lack.
    files = sorted(
        str(path)
        for path in (HERE.parent / "tests").glob("test_*.py")
        if "torch.cuda.is_available()" in path.read_text()
    )
    command = [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider"]
    run_and_print([*command, "-k", "cuda", *files], 3000)


def outliers(seeds: int) -> None:
    print(f"## the outlier ensemble, 8 ODDS sets, {seeds} splits")
    script = str(HERE / "bench_outliers.py")
    command = [sys.executable, script, "--seeds", str(seeds), "--detectors", "hand-loop", "IForest"]
    run_and_print(command, 6000)


def run_and_print(command: list[str], tail: int) -> None:
    """Run ``command`` and print the end of its output and of its errors."""
    result = subprocess.run(command, capture_output=True, text=True)
    print(result.stdout[-tail:], result.stderr[-2000:], flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--part",
        choices=["overhead", "digits", "batch", "auto", "hinton", "outliers", "tests"],
        action="append",
    )
    parser.add_argument("--data", type=Path, default=MNIST)
    parser.add_argument("--epochs", type=int, default=3, help="epochs per overhead timing")
    parser.add_argument(
        "--settings", nargs="+", choices=list(SETTINGS), default=["fp32", "bf16-mixed", "compiled"]
    )
    parser.add_argument("--batches", nargs="+", type=int, default=[256, 4096])
    parser.add_argument("--batch-seconds", type=float, default=8.0)
    parser.add_argument("--auto-rows", nargs="+", type=int, default=[20_000, 60_000])
    parser.add_argument("--hinton-seconds", type=float, default=120.0)
    parser.add_argument("--hinton-epochs", type=int, default=60)
    parser.add_argument("--hinton-batch", type=int, default=128)
    parser.add_argument("--hinton-precision", default="bf16-mixed")
    parser.add_argument("--outlier-seeds", type=int, default=2)
    parser.add_argument("--device", default="cuda", help="cpu: a smoke test of the script")
    parser.add_argument("--rows", type=int, default=None, help="use only this many rows")
    args = parser.parse_args()
    global DEVICE
    DEVICE = args.device
    if DEVICE == "cuda" and not torch.cuda.is_available():
        sys.exit("bench_gpu.py needs a CUDA device; torch.cuda.is_available() is False.")
    name = torch.cuda.get_device_name() if DEVICE == "cuda" else "CPU (smoke test)"
    print(f"{name}, torch {torch.__version__}, CUDA {torch.version.cuda}\n", flush=True)
    X, X_test = mnist(args.data)
    X, X_test = X[: args.rows], X_test[: args.rows]
    parts = args.part or ["tests", "overhead", "digits", "batch", "auto", "hinton", "outliers"]
    if "tests" in parts:
        cuda_tests()
    if "overhead" in parts:
        overhead(X, X_test, args.epochs, args.settings, args.batches)
    if "digits" in parts:
        digits_fit()
    if "batch" in parts:
        batch_sizes(X, X_test, args.batch_seconds)
    if "auto" in parts:
        auto_batch(X, X_test, args.auto_rows)
    if "hinton" in parts:
        hinton(
            X,
            X_test,
            args.hinton_seconds,
            args.hinton_epochs,
            args.hinton_batch,
            args.hinton_precision,
        )
    if "outliers" in parts:
        outliers(args.outlier_seeds)


if __name__ == "__main__":
    main()
