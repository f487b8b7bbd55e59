"""Semantic hashing on MNIST: precision@100 of Hamming ranking, 32 and 64 bits.

    OMP_NUM_THREADS=1 python benchmarks/bench_hashing.py [--seeds 0 1 2] [--data PATH]

The 60,000 training images are hashed and stored; each of the 10,000 test
images is a query, and its 100 nearest training codes in Hamming distance
are retrieved. Printed is the mean fraction of those 100 that share the
query's label (precision@100), averaged over seeds (mean +- std).

Ties in Hamming ranking are common (at 32 bits many codes sit at the same
distance), so precision is computed tie-aware: the codes strictly closer
than the 100th distance all count, and the ones at that distance count in
proportion, which is the expected precision when ties are broken at random.

Methods, all with the same number of bits:

- ``HashingAutoEncoder``: skae's semantic hashing, with its default network
  and noise (``code_noise=1``, hidden layers (256, 128), squared error),
  20 epochs of batches of 128;
- ``sign of PCA``: the signs of the top principal components (centred);
- ``random-projection LSH``: signs of Gaussian random projections of the
  centred data (SimHash), one draw per seed.
"""

import argparse
import time
from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA

from skae import HashingAutoEncoder, pack_bits
from skae.datasets import load_mnist
from skae.neighbors._kernels import distances as _distances

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def precision_at(db_bits, db_labels, query_bits, query_labels, k=100, block=256):
    """Tie-aware mean precision@k of Hamming ranking."""
    codes = np.ascontiguousarray(pack_bits(db_bits).T)
    queries = np.ascontiguousarray(pack_bits(query_bits).T)
    precisions = []
    for start in range(0, queries.shape[1], block):
        dist = _distances(queries[:, start : start + block], codes).astype(np.int16)
        labels = query_labels[start : start + block, None]
        kth = np.partition(dist, k - 1, axis=1)[:, k - 1 : k]
        match = db_labels[None, :] == labels
        below, at = dist < kth, dist == kth
        n_below, n_at = below.sum(1), at.sum(1)
        hits = (below & match).sum(1) + (k - n_below) * (at & match).sum(1) / n_at
        precisions.append(hits / k)
    return float(np.mean(np.concatenate(precisions)))


def sign_pca(X_train, X_test, n_bits, seed):
    pca = PCA(n_components=n_bits, random_state=seed).fit(X_train)
    return pca.transform(X_train) > 0, pca.transform(X_test) > 0


def lsh(X_train, X_test, n_bits, seed):
    mean = X_train.mean(axis=0)
    projection = np.random.default_rng(seed).normal(size=(X_train.shape[1], n_bits))
    return (X_train - mean) @ projection > 0, (X_test - mean) @ projection > 0


def make_autoencoder(args):
    def fit(X_train, X_test, n_bits, seed):
        hasher = HashingAutoEncoder(
            n_bits=n_bits,
            hidden_layer_sizes=tuple(args.hidden),
            loss=args.loss,
            code_noise=args.code_noise,
            max_epochs=args.max_epochs,
            batch_size=args.batch_size,
            lr=args.lr,
            random_state=seed,
        ).fit(X_train)
        fit.epochs.append(hasher.n_iter_)
        return hasher.transform(X_train), hasher.transform(X_test)

    fit.epochs = []
    return fit


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--bits", type=int, nargs="+", default=[32, 64])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--n-train", type=int, default=None, help="use the first rows only")
    parser.add_argument("--hidden", type=int, nargs="*", default=[256, 128])
    parser.add_argument("--loss", default="mse")
    parser.add_argument("--code-noise", type=float, default=1.0)
    parser.add_argument("--max-epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    args = parser.parse_args()

    X_train, y_train = load_mnist(args.data, kind="train")
    X_test, y_test = load_mnist(args.data, kind="test")
    if args.n_train:
        X_train, y_train = X_train[: args.n_train], y_train[: args.n_train]
    autoencoder = make_autoencoder(args)
    methods = {
        "HashingAutoEncoder": autoencoder,
        "sign of PCA": sign_pca,
        "random-projection LSH": lsh,
    }
    print(
        f"MNIST: {len(X_train)} stored training images, {len(X_test)} test queries; "
        f"seeds {args.seeds}"
    )
    print(
        f"HashingAutoEncoder(hidden_layer_sizes={tuple(args.hidden)}, loss={args.loss!r}, "
        f"code_noise={args.code_noise}, max_epochs={args.max_epochs}, "
        f"batch_size={args.batch_size}, lr={args.lr})"
    )
    print(f"{'method':<24}" + "".join(f"{f'{b} bits':>20}" for b in args.bits))
    for name, method in methods.items():
        cells = []
        for n_bits in args.bits:
            scores, start = [], time.perf_counter()
            for seed in args.seeds:
                train_bits, test_bits = method(X_train, X_test, n_bits, seed)
                scores.append(precision_at(train_bits, y_train, test_bits, y_test))
            cells.append(f"{np.mean(scores):.4f} +- {np.std(scores):.4f}")
            print(
                f"  ({name}, {n_bits} bits: {time.perf_counter() - start:.0f} s, "
                f"per seed {[round(s, 4) for s in scores]})",
                flush=True,
            )
        print(f"{name:<24}" + "".join(f"{c:>20}" for c in cells), flush=True)
    if autoencoder.epochs:
        print(f"HashingAutoEncoder epochs run: {autoencoder.epochs}")


if __name__ == "__main__":
    main()
