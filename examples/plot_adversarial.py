"""
Adversarial autoencoder: codes that follow a prior
==================================================

An :class:`skae.AdversarialAutoEncoder` trains a discriminator to tell its
codes from draws of a standard normal prior, and its encoder to fool it. The
held-out codes then look like prior draws, and decoding prior draws
generates digits.
"""

# %%
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skae import AdversarialAutoEncoder, AutoEncoder

digits = load_digits()
X_train, X_test, y_train, y_test = train_test_split(
    digits.data / 16.0, digits.target, test_size=0.25, random_state=0
)
aae = AdversarialAutoEncoder(n_components=2, max_epochs=150, random_state=0).fit(X_train)
plain = AutoEncoder(n_components=2, max_epochs=150, random_state=0).fit(X_train)
Z = aae.transform(X_test)
print("AAE codes: mean", Z.mean(axis=0).round(2), "std", Z.std(axis=0).round(2))

# %%
fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
for ax, (name, codes) in zip(axes, [("adversarial AE", Z), ("plain AE", plain.transform(X_test))]):
    ax.scatter(codes[:, 0], codes[:, 1], c=y_test, cmap="tab10", s=8)
    circle = plt.Circle((0, 0), 2, fill=False, ls="--", color="k")
    ax.add_patch(circle)
    ax.set_title(f"{name}: held-out codes (circle: radius 2)")
    ax.set_aspect("equal")
samples = aae.sample(100, random_state=0).reshape(10, 10, 8, 8)
axes[2].imshow(samples.transpose(0, 2, 1, 3).reshape(80, 80), cmap="gray_r", vmin=0, vmax=1)
axes[2].set_title("decoded prior draws")
axes[2].set_xticks([])
axes[2].set_yticks([])
fig.tight_layout()
fig.savefig("adversarial_codes_and_samples.png", dpi=100)
