"""Few labels: AutoEncoderClassifier against logistic regression, MNIST or Fashion-MNIST.

The setting of the semi-supervised literature: of the 60,000 training
images, ``k`` per class are labelled (drawn at random) and the rest are
not; accuracy is measured on the 10,000 test images, for several draws of
the labelled set and several ``k``.

- *LR raw*: ``LogisticRegression`` on the labelled images' pixels.
- *LR on PCA*: PCA fitted on all 60,000 training images (it uses the
  unlabelled images too), then ``LogisticRegression`` on the labelled
  codes; at the autoencoder's code size, and at the best of a few sizes
  chosen *on the test set* for each ``k`` (an optimistic bound for PCA).
- *AutoEncoderClassifier*: the autoencoder is pretrained once on all 60,000
  training images (labels unused) and shared by every draw through
  ``FrozenEstimator``; each draw trains the classifier, with its defaults,
  on its labelled images. ``--variants`` adds a few other settings.

Every method sees the same draws. Prints a markdown table per run.

``--dev`` is the split on which the method and its defaults are chosen,
so that the test images never are: labels are drawn from the first 50,000
training images (draws seeded 100, 101, ...) and accuracy is measured on
the last 10,000 training images. Pretraining still sees all 60,000
training images, without labels.

    python benchmarks/bench_semi_supervised.py --data ../shared/data/mnist
    python benchmarks/bench_semi_supervised.py --data ../shared/data/fashion-mnist
    python benchmarks/bench_semi_supervised.py --data ../shared/data/fashion-mnist --dev --variants
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression

import skae
from skae import AutoEncoder, AutoEncoderClassifier
from skae.datasets import load_mnist

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"

VARIANTS = {
    "passthrough=False": dict(passthrough=False),
    "linear head": dict(head_layer_sizes=()),
    "freeze_encoder=False": dict(freeze_encoder=False),
    "freeze_encoder=False, reconstruction_weight=1": dict(
        freeze_encoder=False, reconstruction_weight=1.0
    ),
    "former defaults (fine-tuned, code only, alpha=0)": dict(
        freeze_encoder=False, passthrough=False, alpha=0.0
    ),
}


def labelled_draw(y, per_class: int, seed: int, pool: int | None = None) -> np.ndarray:
    """Indices of ``per_class`` random rows of each class, among the first ``pool`` rows."""
    rng = np.random.RandomState(seed)
    y = y[:pool]
    return np.concatenate(
        [rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in range(10)]
    )


def logistic_regression():
    return LogisticRegression(max_iter=5000)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of the IDX files")
    parser.add_argument("--draws", type=int, default=5, help="draws of the labelled set")
    parser.add_argument(
        "--per-class", type=int, nargs="+", default=[3, 5, 10], help="labels per class"
    )
    parser.add_argument("--n-components", type=int, default=10, help="code size")
    parser.add_argument("--pretrain-epochs", type=int, default=40)
    parser.add_argument("--pca-sizes", type=int, nargs="+", default=[10, 20, 30, 50, 100])
    parser.add_argument("--variants", action="store_true", help="also other classifier settings")
    parser.add_argument(
        "--dev",
        action="store_true",
        help="labels from training images 0-49,999, "
        "accuracy on training images 50,000-59,999 (never the test set)",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        help="skae.save file of the pretrained autoencoder: "
        "loaded when it exists, written after pretraining otherwise",
    )
    args = parser.parse_args(argv)

    X, y = load_mnist(args.data, "train")
    X_test, y_test = load_mnist(args.data, "test")
    X, X_test = X.astype(np.float32), X_test.astype(np.float32)
    pool, first_seed, evaluated = None, 0, "test images"
    if args.dev:
        pool, first_seed, evaluated = 50_000, 100, "training images 50,000-59,999 (dev split)"
        X_test, y_test = X[pool:], y[pool:]

    autoencoder = AutoEncoder(
        n_components=args.n_components,
        hidden_layer_sizes=(256, 128),
        loss="bce",
        max_epochs=args.pretrain_epochs,
        batch_size=256,
        random_state=0,
    )
    start = time.perf_counter()
    if args.cache and args.cache.exists():
        autoencoder = skae.load(args.cache)
        print(f"pretrained autoencoder loaded from {args.cache}")
    else:
        autoencoder.fit(X)
        if args.cache:
            skae.save(autoencoder, args.cache)
    pretrain_s = time.perf_counter() - start
    print(
        f"{args.data.name}: pretraining {autoencoder.n_iter_} epochs on {len(X)} images, "
        f"{pretrain_s:.0f} s",
        flush=True,
    )

    pcas = {
        k: PCA(n_components=k, random_state=0).fit(X)
        for k in sorted({args.n_components, *args.pca_sizes})
    }
    codes = {k: (p.transform(X), p.transform(X_test)) for k, p in pcas.items()}

    classifiers = {"AutoEncoderClassifier (defaults)": {}}
    if args.variants:
        classifiers.update({f"AutoEncoderClassifier, {k}": v for k, v in VARIANTS.items()})
    # scores[name][per_class] -> one accuracy per draw
    scores: dict[str, dict[int, list[float]]] = {}
    seconds: list[float] = []

    def record(name, per_class, score):
        scores.setdefault(name, {}).setdefault(per_class, []).append(score)

    for per_class in args.per_class:
        for draw in range(args.draws):
            rows = labelled_draw(y, per_class, seed=first_seed + draw, pool=pool)
            record(
                "LR raw pixels",
                per_class,
                logistic_regression().fit(X[rows], y[rows]).score(X_test, y_test),
            )
            for k, (train, test) in codes.items():
                record(
                    f"LR on PCA({k})",
                    per_class,
                    logistic_regression().fit(train[rows], y[rows]).score(test, y_test),
                )
            y_partial = np.full_like(y, -1)
            y_partial[rows] = y[rows]
            for name, params in classifiers.items():
                start = time.perf_counter()
                clf = AutoEncoderClassifier(
                    FrozenEstimator(autoencoder), random_state=draw, **params
                )
                clf.fit(X, y_partial)
                seconds.append(time.perf_counter() - start)
                record(name, per_class, clf.score(X_test, y_test))
            print(
                f"{per_class}/class, draw {draw}: "
                + ", ".join(f"{n} {v[per_class][-1]:.3f}" for n, v in scores.items()),
                flush=True,
            )

    def cell(values):
        v = np.asarray(values)
        return f"{v.mean():.3f} ± {v.std():.3f}"

    best_pca = {
        c: max(pcas, key=lambda k: np.mean(scores[f"LR on PCA({k})"][c])) for c in args.per_class
    }
    rows = [
        ("LR, raw pixels", scores["LR raw pixels"]),
        (
            f"LR on PCA({args.n_components}) (the code size)",
            scores[f"LR on PCA({args.n_components})"],
        ),
        (
            "LR on PCA, best size chosen on test",
            {c: scores[f"LR on PCA({best_pca[c]})"][c] for c in args.per_class},
        ),
    ]
    rows += [(name, scores[name]) for name in classifiers]
    print()
    print(f"{args.data.name}: accuracy on {evaluated}, mean ± std over {args.draws} draws")
    print()
    print("| method | " + " | ".join(f"{c} labels/class" for c in args.per_class) + " |")
    print("| --- |" + " ---: |" * len(args.per_class))
    for name, by_class in rows:
        print(f"| {name} | " + " | ".join(cell(by_class[c]) for c in args.per_class) + " |")
    print()
    print("Best PCA size: " + ", ".join(f"{c}/class: {best_pca[c]}" for c in args.per_class))
    ours = scores["AutoEncoderClassifier (defaults)"]
    for name, by_class in rows[:3]:
        wins = [sum(a > b for a, b in zip(ours[c], by_class[c])) for c in args.per_class]
        print(
            f"Draws won by the defaults against {name}: "
            + ", ".join(f"{c}/class {w}/{args.draws}" for c, w in zip(args.per_class, wins))
        )
    print(
        f"Pretraining once: {pretrain_s:.0f} s ({autoencoder.n_iter_} epochs); "
        f"a classifier fit on the pretrained autoencoder: {np.mean(seconds):.1f} s on average."
    )


if __name__ == "__main__":
    main()
