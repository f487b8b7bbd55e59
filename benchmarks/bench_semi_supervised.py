"""MNIST with 100 labels: AutoEncoderClassifier against logistic regression.

The setting of the semi-supervised literature: of MNIST's 60,000 training
images, 100 are labelled (10 per class, drawn at random) and the rest are
not; accuracy is measured on the 10,000 test images, averaged over several
draws of the labelled set.

- *LR raw*: ``LogisticRegression`` on the 100 labelled images' pixels.
- *LR on PCA*: PCA fitted on all 60,000 training images (it uses the
  unlabelled images too), then ``LogisticRegression`` on the 100 labelled
  codes; at the autoencoder's code size, and at the best of a few sizes
  chosen *on the test set* (an optimistic upper bound for PCA).
- *AutoEncoderClassifier*: the autoencoder is pretrained once on all 60,000
  training images (labels unused) and shared by every draw through
  ``FrozenEstimator``; each draw trains a head (and fine-tunes the encoder)
  on its 100 labelled images. ``--full-fit`` also times one complete
  ``fit(X, y)`` with ``y = -1`` on the unlabelled rows, pretraining included.

Run with ``OMP_NUM_THREADS=1`` on a shared machine. Prints a markdown table.

    python benchmarks/bench_semi_supervised.py --data ../shared/data/mnist
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skae import AutoEncoder, AutoEncoderClassifier
from skae.datasets import load_mnist

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def labelled_draw(y, per_class: int, seed: int) -> np.ndarray:
    """Indices of ``per_class`` random rows of each class."""
    rng = np.random.RandomState(seed)
    return np.concatenate([rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in range(10)])


def logistic_regression():
    return LogisticRegression(max_iter=5000)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of MNIST's IDX files")
    parser.add_argument("--draws", type=int, default=5, help="draws of the labelled set")
    parser.add_argument("--per-class", type=int, default=10, help="labelled images per class")
    parser.add_argument("--n-components", type=int, default=10, help="code size")
    parser.add_argument("--pretrain-epochs", type=int, default=40)
    parser.add_argument("--pca-sizes", type=int, nargs="+", default=[10, 20, 30, 50, 100])
    parser.add_argument("--full-fit", action="store_true", help="also time one fit with pretraining")
    args = parser.parse_args(argv)

    X, y = load_mnist(args.data, "train")
    X_test, y_test = load_mnist(args.data, "test")
    X, X_test = X.astype(np.float32), X_test.astype(np.float32)

    autoencoder = AutoEncoder(
        n_components=args.n_components,
        hidden_layer_sizes=(256, 128),
        loss="bce",
        max_epochs=args.pretrain_epochs,
        batch_size=256,
        random_state=0,
    )
    start = time.perf_counter()
    autoencoder.fit(X)
    pretrain_s = time.perf_counter() - start
    print(f"pretraining: {autoencoder.n_iter_} epochs on {len(X)} images, {pretrain_s:.0f} s")

    start = time.perf_counter()
    pcas = {k: PCA(n_components=k, random_state=0).fit(X) for k in sorted({args.n_components, *args.pca_sizes})}
    pca_s = time.perf_counter() - start
    codes = {k: (p.transform(X), p.transform(X_test)) for k, p in pcas.items()}

    heads = {
        "AutoEncoderClassifier (defaults: head (64,), fine-tuned after warm-up)": dict(),
        "AutoEncoderClassifier (+ reconstruction_weight=1)": dict(reconstruction_weight=1.0),
        "AutoEncoderClassifier (frozen encoder)": dict(freeze_encoder=True),
        "AutoEncoderClassifier (linear head)": dict(head_layer_sizes=()),
        "AutoEncoderClassifier (no head warm-up)": dict(warm_up_head=False),
    }
    scores: dict[str, list[float]] = {}
    seconds: dict[str, list[float]] = {}

    def record(name, seconds_taken, score):
        scores.setdefault(name, []).append(score)
        seconds.setdefault(name, []).append(seconds_taken)

    for draw in range(args.draws):
        rows = labelled_draw(y, args.per_class, seed=draw)
        start = time.perf_counter()
        lr = logistic_regression().fit(X[rows], y[rows])
        record("LR raw pixels", time.perf_counter() - start, lr.score(X_test, y_test))
        for k, (train, test) in codes.items():
            start = time.perf_counter()
            lr = logistic_regression().fit(train[rows], y[rows])
            record(f"LR on PCA({k})", time.perf_counter() - start, lr.score(test, y_test))
        start = time.perf_counter()
        probe = make_pipeline(StandardScaler(), logistic_regression())
        probe.fit(autoencoder.transform(X[rows]), y[rows])
        record("LR on the autoencoder's code (standardised)", time.perf_counter() - start,
               probe.score(autoencoder.transform(X_test), y_test))
        y_partial = np.full_like(y, -1)
        y_partial[rows] = y[rows]
        for name, params in heads.items():
            start = time.perf_counter()
            clf = AutoEncoderClassifier(FrozenEstimator(autoencoder), random_state=draw, **params)
            clf.fit(X, y_partial)
            record(name, time.perf_counter() - start, clf.score(X_test, y_test))
        print(f"draw {draw}: " + ", ".join(f"{k} {v[-1]:.3f}" for k, v in scores.items()), flush=True)

    best_pca = max(pcas, key=lambda k: np.mean(scores[f"LR on PCA({k})"]))
    shown = ["LR raw pixels", f"LR on PCA({args.n_components})"]
    if best_pca != args.n_components:
        shown.append(f"LR on PCA({best_pca})")
    shown += ["LR on the autoencoder's code (standardised)", *heads]
    print()
    print(f"MNIST, {args.per_class * 10} labels ({args.per_class} per class), test accuracy over "
          f"{args.draws} draws (10,000 test images)")
    print()
    print("| method | mean accuracy | std | min | max | fit s (mean) |")
    print("|---|---|---|---|---|---|")
    for name in shown:
        s = np.array(scores[name])
        label = name + (" (best size, chosen on test)" if name == f"LR on PCA({best_pca})" and best_pca != args.n_components else "")
        print(f"| {label} | {s.mean():.3f} | {s.std():.3f} | {s.min():.3f} | {s.max():.3f} | {np.mean(seconds[name]):.1f} |")
    print()
    print("PCA accuracy by size: " + ", ".join(f"{k}: {np.mean(scores[f'LR on PCA({k})']):.3f}" for k in pcas))
    print(f"Pretraining once: {pretrain_s:.0f} s ({autoencoder.n_iter_} epochs); PCA fits: {pca_s:.0f} s.")

    if args.full_fit:
        y_partial = np.full_like(y, -1)
        rows = labelled_draw(y, args.per_class, seed=0)
        y_partial[rows] = y[rows]
        start = time.perf_counter()
        clf = AutoEncoderClassifier(autoencoder, random_state=0).fit(X, y_partial)
        print(f"One fit(X, y) with pretraining: {time.perf_counter() - start:.0f} s, "
              f"accuracy {clf.score(X_test, y_test):.3f}")


if __name__ == "__main__":
    main()
