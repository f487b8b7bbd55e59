"""VariationalAutoEncoder on binarized MNIST: test ELBO in nats, and training time.

    python benchmarks/bench_vae_mnist.py [--data ../shared/data/mnist] [--epochs 30]
                                         [--binarizations 3]

MNIST pixels (/255) are binarized by sampling each pixel from a Bernoulli of
its intensity (the usual "stochastically binarized" MNIST): the test images
once (seed 1), each training image ``--binarizations`` times (seeds 100, 101,
...; more copies approach dynamic binarization and overfit less). A
Bernoulli-decoder VAE (784-512-256-32, ReLU, Adam 1e-3, batch 128, 10% of the
training rows held out for early stopping) is trained on them and scored on
the 10,000 test images with ``score``: the mean
ELBO (a lower bound on log p(x)), from 16 posterior draws per image.
Published MLP VAEs reach a test ELBO of about -90 to -95 nats and a
log-likelihood of about -90.
"""

import argparse
import time
from pathlib import Path

import numpy as np

from skae import VariationalAutoEncoder
from skae.datasets import load_mnist

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def binarize(X, seed):
    return (np.random.default_rng(seed).random(X.shape) < X).astype(np.float32)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--n-components", type=int, default=32)
    parser.add_argument("--patience", type=int, default=5)
    parser.add_argument(
        "--binarizations",
        type=int,
        default=3,
        help="training copies, each binarized with its own seed (data augmentation that "
        "approaches dynamic binarization)",
    )
    args = parser.parse_args(argv)

    X_train, _ = load_mnist(args.data, kind="train")
    X_test, _ = load_mnist(args.data, kind="test")
    X_test = binarize(X_test, 1)
    X_train = np.concatenate([binarize(X_train, 100 + i) for i in range(args.binarizations)])

    vae = VariationalAutoEncoder(
        n_components=args.n_components,
        hidden_layer_sizes=(512, 256),
        loss="bce",
        max_epochs=args.epochs,
        batch_size=128,
        n_iter_no_change=args.patience,
        random_state=0,
        verbose=0,
    )
    start = time.perf_counter()
    vae.fit(X_train)
    seconds = time.perf_counter() - start
    elbo = vae.score(X_test)
    print(
        f"VAE 784-512-256-{args.n_components}, Bernoulli decoder, binarized MNIST, "
        f"{args.binarizations} binarization(s) of the training images"
    )
    print(
        f"epochs run: {vae.n_iter_}, training time: {seconds:.0f} s "
        f"({seconds / vae.n_iter_:.1f} s/epoch)"
    )
    print(f"test ELBO: {elbo:.2f} nats per image (train: {vae.score(X_train[:10000]):.2f})")


if __name__ == "__main__":
    main()
