"""
Denoising digits
================

A :class:`skae.DenoisingAutoEncoder` learns to undo corruption: trained on
clean digits corrupted on the fly, it maps noisy held-out digits back to
clean-looking ones, better than a plain autoencoder or PCA with the same
number of components.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

from skae import AutoEncoder, DenoisingAutoEncoder

X = load_digits().data / 16.0
X_train, X_test = train_test_split(X, test_size=0.25, random_state=0)
noisy = X_test + np.random.RandomState(1).normal(scale=0.3, size=X_test.shape)

# %%
# Fit the three models at 16 components and denoise the held-out digits.
models = {
    "denoising AE": DenoisingAutoEncoder(n_components=16, noise_level=0.3, random_state=0),
    "plain AE": AutoEncoder(n_components=16, random_state=0),
    "PCA": PCA(n_components=16),
}
outputs = {}
for name, model in models.items():
    model.fit(X_train)
    outputs[name] = model.inverse_transform(model.transform(noisy))
    print(f"{name:14s} error to the clean digits: {np.mean((outputs[name] - X_test) ** 2):.4f}")

# %%
rows = [("clean", X_test), ("noisy", noisy), *outputs.items()]
fig, axes = plt.subplots(len(rows), 8, figsize=(8, 1.1 * len(rows)))
for i, (name, images) in enumerate(rows):
    for j in range(8):
        axes[i, j].imshow(images[j].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        axes[i, j].set_xticks([])
        axes[i, j].set_yticks([])
    axes[i, 0].set_ylabel(name, fontsize=7)
fig.suptitle("Denoising held-out digits (Gaussian noise, std 0.3)")
fig.savefig("denoising_before_after.png", dpi=100)
