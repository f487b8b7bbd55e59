"""Quality of skae's defaults on scikit-learn's digits, against PCA.

    python benchmarks/bench_digits.py

1. ``AutoEncoder(n_components=8, random_state=seed)`` with default settings on
   digits scaled to [0, 1], 75/25 split: held-out reconstruction MSE divided
   by PCA's at 8 components, and fit time, for five seeds.
2. The linear autoencoder (``activation="identity"``, no hidden layer, full
   batch): training MSE divided by PCA's (Baldi & Hornik: it should be 1).
"""

import time

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

from skae import AutoEncoder


def mse(a, b):
    return float(np.mean((a - b) ** 2))


def main():
    X = load_digits().data / 16.0
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU")
    print("1. default AutoEncoder(n_components=8) vs PCA(8), held-out digits")
    ratios = []
    for seed in range(5):
        X_train, X_test = train_test_split(X, test_size=0.25, random_state=seed)
        pca = PCA(8).fit(X_train)
        pca_mse = mse(pca.inverse_transform(pca.transform(X_test)), X_test)
        start = time.perf_counter()
        ae = AutoEncoder(n_components=8, random_state=seed).fit(X_train)
        seconds = time.perf_counter() - start
        ae_mse = mse(ae.inverse_transform(ae.transform(X_test)), X_test)
        ratios.append(ae_mse / pca_mse)
        print(
            f"   seed {seed}: AE {ae_mse:.5f}  PCA {pca_mse:.5f}  ratio {ae_mse / pca_mse:.3f}  "
            f"epochs {ae.n_iter_:3d}  fit {seconds:.1f} s"
        )
    print(f"   worst ratio {max(ratios):.3f} (target <= 0.6), mean {np.mean(ratios):.3f}")

    print("2. linear AutoEncoder vs PCA, training MSE on all 1797 digits")
    pca = PCA(8).fit(X)
    pca_mse = mse(pca.inverse_transform(pca.transform(X)), X)
    start = time.perf_counter()
    lin = AutoEncoder(
        n_components=8,
        hidden_layer_sizes=(),
        activation="identity",
        lr=1e-2,
        batch_size=len(X),
        max_epochs=2000,
        n_iter_no_change=None,
        validation_fraction=0,
        random_state=0,
    ).fit(X)
    seconds = time.perf_counter() - start
    lin_mse = mse(lin.inverse_transform(lin.transform(X)), X)
    print(
        f"   linear AE {lin_mse:.6f}  PCA {pca_mse:.6f}  ratio {lin_mse / pca_mse:.4f} "
        f"(target <= 1.01)  fit {seconds:.1f} s"
    )


if __name__ == "__main__":
    main()
