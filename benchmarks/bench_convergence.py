"""Do the defaults converge? The linear autoencoder against PCA, and the default model.

1. The linear autoencoder (``activation="identity"``, ``hidden_layer_sizes=()``)
   with default training settings and ``max_epochs=500``, fitted on all of
   digits: its training MSE over PCA's at k = 2, 4, 8 and 16. A converged
   linear autoencoder spans PCA's subspace, so the ratio tends to 1.
2. ``AutoEncoder(n_components=8)`` with every default, as ``skae compare``
   runs it (75/25 split, ``random_state=0``): held-out MSE over PCA's, epochs
   and fit time, for a few seeds.

``--params`` passes extra ``AutoEncoder`` parameters to both (a JSON object),
to try other training settings side by side.

    python benchmarks/bench_convergence.py
    python benchmarks/bench_convergence.py --params '{"validation_fraction": null}'
"""

from __future__ import annotations

import argparse
import json
import time

from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

from skae import AutoEncoder


def mse(model, X) -> float:
    return float(((model.inverse_transform(model.transform(X)) - X) ** 2).mean())


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--params", type=json.loads, default={}, help="extra AutoEncoder parameters"
    )
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args(argv)
    X = load_digits().data / 16.0
    print(f"extra parameters: {args.params or 'none'}")
    print("| k | linear AE / PCA, training MSE | epochs | fit s |")
    print("| ---: | ---: | ---: | ---: |")
    for k in (2, 4, 8, 16):
        start = time.perf_counter()
        ae = AutoEncoder(
            n_components=k,
            activation="identity",
            hidden_layer_sizes=(),
            max_epochs=500,
            random_state=0,
            **args.params,
        ).fit(X)
        seconds = time.perf_counter() - start
        ratio = mse(ae, X) / mse(PCA(k).fit(X), X)
        print(f"| {k} | {ratio:.4f} | {ae.n_iter_} | {seconds:.1f} |", flush=True)
    X_train, X_test = train_test_split(X, test_size=0.25, random_state=0)
    reference = mse(PCA(8).fit(X_train), X_test)
    print("\n| AutoEncoder(n_components=8), seed | held-out MSE / PCA | epochs | fit s |")
    print("| ---: | ---: | ---: | ---: |")
    for seed in range(args.seeds):
        start = time.perf_counter()
        ae = AutoEncoder(n_components=8, random_state=seed, **args.params).fit(X_train)
        seconds = time.perf_counter() - start
        print(
            f"| {seed} | {mse(ae, X_test) / reference:.3f} | {ae.n_iter_} | {seconds:.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
