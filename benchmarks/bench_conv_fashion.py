"""ConvAutoEncoder against PCA and the dense AutoEncoder on Fashion-MNIST.

    OMP_NUM_THREADS=1 python benchmarks/bench_conv_fashion.py [--data DIR]
        [--n-components 16] [--n-train 60000] [--epochs 20]

All three methods get the same code size and the same training rows (the
first ``--n-train`` of the 60,000), and are scored on the 10,000 test images
(pixels in [0, 1]): mean squared error per pixel and squared error per image
(the sum over the 784 pixels, averaged over images). Both networks use the
squared error, Adam lr=1e-3, batch 128, at most ``--epochs`` epochs with the
default early stopping on 10 % validation rows; the ConvAutoEncoder has two
stride-2 convolutions of 32 and 64 channels, the AutoEncoder the default
784-256-128 dense layers. Wall times are printed too.
"""

import argparse
import time
from pathlib import Path

import torch
from sklearn.decomposition import PCA

from skae import AutoEncoder, ConvAutoEncoder
from skae.datasets import load_mnist

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "fashion-mnist"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--n-components", type=int, default=16)
    parser.add_argument("--n-train", type=int, default=60000)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    X_train, _ = load_mnist(args.data, "train")  # pixels in [0, 1]
    X_test, _ = load_mnist(args.data, "test")
    X_train = X_train[: args.n_train]
    print(
        f"Fashion-MNIST: {len(X_train)} training rows, {len(X_test)} test rows, "
        f"code size {args.n_components}, torch threads {torch.get_num_threads()}"
    )

    nets = dict(
        n_components=args.n_components,
        batch_size=128,
        max_epochs=args.epochs,
        random_state=args.seed,
    )
    methods = {
        "PCA": PCA(n_components=args.n_components, random_state=args.seed),
        "AutoEncoder(256, 128)": AutoEncoder(**nets),
        "ConvAutoEncoder(32, 64)": ConvAutoEncoder(
            image_shape=(1, 28, 28), hidden_layer_sizes=(32, 64), **nets
        ),
    }
    print(f"{'method':<26} {'test MSE/pixel':>14} {'test SSE/img':>12} {'epochs':>6} {'fit s':>7}")
    for name, est in methods.items():
        start = time.perf_counter()
        est.fit(X_train)
        seconds = time.perf_counter() - start
        X_hat = est.inverse_transform(est.transform(X_test))
        sq = (X_hat - X_test) ** 2
        epochs = getattr(est, "n_iter_", "-")
        print(
            f"{name:<26} {sq.mean():>14.5f} {sq.sum(axis=1).mean():>12.3f} {epochs:>6} "
            f"{seconds:>7.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
