"""
Contractive codes
=================

A :class:`skae.ContractiveAutoEncoder` penalises the Frobenius norm of its
encoder's Jacobian. At a reconstruction error comparable to a plain
autoencoder's, its code moves much less when a digit is perturbed. The plot
shows how far the codes move, relative to their spread, as noise grows.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skae import AutoEncoder, ContractiveAutoEncoder
from skae.penalties import jacobian_frobenius

X = load_digits().data / 16.0
X_train, X_test = train_test_split(X, test_size=0.25, random_state=0)
models = {
    "plain AE": AutoEncoder(
        n_components=8, hidden_layer_sizes=(64,), max_epochs=60, random_state=0
    ),
    "contractive AE": ContractiveAutoEncoder(
        n_components=8,
        contractive_weight=2e-4,
        hidden_layer_sizes=(64,),
        max_epochs=60,
        random_state=0,
    ),
}
x = torch.tensor(X_test, dtype=torch.float32)
for name, model in models.items():
    model.fit(X_train)
    jac = float(jacobian_frobenius(model.encoder_, x).mean().detach())
    print(f"{name:15s} held-out error {-model.score(X_test):.4f}, mean ||J||^2 {jac:.3f}")

# %%
levels = np.linspace(0, 0.3, 7)
rng = np.random.RandomState(0)
fig, ax = plt.subplots(figsize=(5, 3.5))
for name, model in models.items():
    Z = model.transform(X_test)
    spread = Z.std(axis=0).mean()
    moves = [
        np.linalg.norm(
            model.transform(X_test + rng.normal(scale=s, size=X_test.shape)) - Z, axis=1
        ).mean()
        / spread
        for s in levels
    ]
    ax.plot(levels, moves, marker="o", label=name)
ax.set_xlabel("std of the input noise")
ax.set_ylabel("code displacement / code spread")
ax.legend()
fig.tight_layout()
fig.savefig("contractive_sensitivity.png", dpi=100)
