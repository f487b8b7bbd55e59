"""Denoising on digits: DenoisingAutoEncoder against AutoEncoder and PCA.

    python benchmarks/bench_denoising.py

Held-out digits (75/25 split, seed 0) get Gaussian noise of std 0.3; each
method, fitted on clean training rows at 16 components, maps the noisy rows
through ``inverse_transform(transform(.))``; printed is the mean squared
error against the clean rows.
"""

import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

from skae import AutoEncoder, DenoisingAutoEncoder


def main():
    X = load_digits().data / 16.0
    X_train, X_test = train_test_split(X, test_size=0.25, random_state=0)
    noisy = X_test + np.random.RandomState(1).normal(scale=0.3, size=X_test.shape)
    methods = {
        "DenoisingAutoEncoder(noise_level=0.3)": DenoisingAutoEncoder(
            n_components=16, noise_level=0.3, random_state=0
        ),
        "AutoEncoder": AutoEncoder(n_components=16, random_state=0),
        "PCA": PCA(n_components=16),
    }
    for name, est in methods.items():
        est.fit(X_train)
        error = np.mean((est.inverse_transform(est.transform(noisy)) - X_test) ** 2)
        print(f"{name:<40} {error:.5f}")
    print(f"{'noisy input itself':<40} {np.mean((noisy - X_test) ** 2):.5f}")


if __name__ == "__main__":
    main()
