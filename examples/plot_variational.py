"""
Variational autoencoder: latent space and samples
=================================================

A :class:`skae.VariationalAutoEncoder` with a two-dimensional latent space
on the digits: the posterior means of held-out digits, coloured by class,
and new digits decoded from a grid of latent points and from prior draws.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import norm
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skae import VariationalAutoEncoder

digits = load_digits()
X_train, X_test, y_train, y_test = train_test_split(
    digits.data / 16.0, digits.target, test_size=0.25, random_state=0
)
vae = VariationalAutoEncoder(n_components=2, loss="bce", max_epochs=150, random_state=0)
vae.fit(X_train)
print(f"held-out ELBO: {vae.score(X_test):.2f} nats per digit")

# %%
fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
Z = vae.transform(X_test)
points = axes[0].scatter(Z[:, 0], Z[:, 1], c=y_test, cmap="tab10", s=8)
fig.colorbar(points, ax=axes[0])
axes[0].set_title("posterior means of held-out digits")

# Decode a grid of latent points placed at prior quantiles.
grid = norm.ppf(np.linspace(0.05, 0.95, 10))
codes = np.array([[a, b] for b in grid[::-1] for a in grid])
images = vae.inverse_transform(codes).reshape(10, 10, 8, 8)
axes[1].imshow(images.transpose(0, 2, 1, 3).reshape(80, 80), cmap="gray_r")
axes[1].set_title("decoded latent grid")

samples = vae.sample(100, random_state=0).reshape(10, 10, 8, 8)
axes[2].imshow(samples.transpose(0, 2, 1, 3).reshape(80, 80), cmap="gray_r", vmin=0, vmax=1)
axes[2].set_title("samples from the prior")
for ax in axes[1:]:
    ax.set_xticks([])
    ax.set_yticks([])
fig.tight_layout()
fig.savefig("variational_latent_space.png", dpi=100)
