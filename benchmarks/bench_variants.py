"""The defining property of each regularised variant, measured on held-out digits.

    python benchmarks/bench_variants.py

Digits /16, 75/25 split (seed 0), hidden layer (64,), seed 0. Printed:

- SparseAutoEncoder, KL, 32 units, target 0.05: mean held-out code activation.
- SparseAutoEncoder, L1 (1e-3), 32 ReLU units: fraction of code values below
  1e-3, against the same network without the penalty and a plain AutoEncoder.
- ContractiveAutoEncoder (2e-4) against AutoEncoder, 8 components: held-out
  error, mean squared Frobenius norm of the encoder's Jacobian, and that norm
  divided by the total variance of the codes (scale-free).
- AdversarialAutoEncoder, 4 components, Gaussian and uniform priors: per-dimension
  mean and standard deviation of the held-out codes.
"""

import time

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skae import AdversarialAutoEncoder, AutoEncoder, ContractiveAutoEncoder, SparseAutoEncoder
from skae.penalties import jacobian_frobenius

SMALL = dict(hidden_layer_sizes=(64,), random_state=0)


def main():
    X = load_digits().data / 16.0
    X_train, X_test = train_test_split(X, test_size=0.25, random_state=0)
    start = time.perf_counter()

    kl = SparseAutoEncoder(n_components=32, sparsity_target=0.05, max_epochs=60, **SMALL)
    print(
        f"sparse KL: mean code activation {kl.fit(X_train).transform(X_test).mean():.4f} "
        "(target 0.05)"
    )
    zero = {}
    for name, est in {
        "L1 1e-3": SparseAutoEncoder(n_components=32, sparsity="l1", max_epochs=40, **SMALL),
        "ReLU code, no penalty": SparseAutoEncoder(
            n_components=32, sparsity="l1", sparsity_weight=0.0, max_epochs=40, **SMALL
        ),
        "plain AutoEncoder": AutoEncoder(n_components=32, max_epochs=40, **SMALL),
    }.items():
        zero[name] = np.mean(np.abs(est.fit(X_train).transform(X_test)) < 1e-3)
    print(
        "sparse L1: fraction of code values < 1e-3: "
        + ", ".join(f"{k} {v:.3f}" for k, v in zero.items())
    )

    x = torch.tensor(X_test, dtype=torch.float32)
    for name, est in {
        "AutoEncoder": AutoEncoder(n_components=8, max_epochs=60, **SMALL),
        "ContractiveAutoEncoder(2e-4)": ContractiveAutoEncoder(
            n_components=8, contractive_weight=2e-4, max_epochs=60, **SMALL
        ),
    }.items():
        est.fit(X_train)
        jac = float(jacobian_frobenius(est.encoder_, x).mean().detach())
        rel = jac / est.transform(X_test).var(axis=0).sum()
        print(
            f"{name:30s} held-out MSE {-est.score(X_test):.5f}  mean ||J||_F^2 {jac:8.3f}  "
            f"/ code variance {rel:.3f}"
        )

    for prior in ("gaussian", "uniform"):
        aae = AdversarialAutoEncoder(n_components=4, prior=prior, max_epochs=100, **SMALL)
        codes = aae.fit(X_train).transform(X_test)
        print(
            f"adversarial ({prior} prior): code mean {codes.mean(0).round(3)}, "
            f"std {codes.std(0).round(3)}"
        )
    print(f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
