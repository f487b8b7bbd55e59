"""
Sparse codes
============

A :class:`skae.SparseAutoEncoder` with 32 code units and a KL penalty
toward a mean activation of 0.05 uses only a few units per digit. This
example plots the distribution of the mean activations and the codes of a
few digits, against the same network without the penalty.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skae import SparseAutoEncoder

X = load_digits().data / 16.0
X_train, X_test = train_test_split(X, test_size=0.25, random_state=0)

sparse = SparseAutoEncoder(
    n_components=32, sparsity_target=0.05, max_epochs=60, random_state=0
).fit(X_train)
dense = SparseAutoEncoder(n_components=32, sparsity_weight=0.0, max_epochs=60, random_state=0).fit(
    X_train
)
codes = {
    "KL penalty (target 0.05)": sparse.transform(X_test),
    "no penalty": dense.transform(X_test),
}
for name, Z in codes.items():
    print(f"{name:26s} mean activation {Z.mean():.3f}, above 0.5: {np.mean(Z > 0.5):.3f}")

# %%
fig, axes = plt.subplots(1, 3, figsize=(12, 3.2))
for name, Z in codes.items():
    axes[0].hist(Z.mean(axis=0), bins=20, alpha=0.6, label=name)
axes[0].set_xlabel("mean activation of a code unit")
axes[0].legend(fontsize=7)
for ax, (name, Z) in zip(axes[1:], codes.items()):
    ax.imshow(Z[:20], aspect="auto", cmap="viridis", vmin=0, vmax=1)
    ax.set_title(name, fontsize=9)
    ax.set_xlabel("code unit")
    ax.set_ylabel("digit")
fig.tight_layout()
fig.savefig("sparse_codes.png", dpi=100)
