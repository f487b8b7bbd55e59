"""
Greedy layer-wise pretraining of a deep autoencoder
===================================================

:class:`skae.StackedAutoEncoder` trains each layer of a deep autoencoder as
a shallow autoencoder on the outputs of the layers below it, then fine-tunes
the whole network end to end. On the digits, a 64-64-32-16-4 network given
the same ten epochs of end-to-end training reconstructs held-out images with
a clearly smaller error when it starts from the pretrained layers.
"""

# %%
# Data: 8x8 digits in [0, 1], split 75/25.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skae import StackedAutoEncoder

X = load_digits().data / 16.0
X_train, X_test = train_test_split(X, test_size=0.25, random_state=0)

# %%
# The same network and fine-tuning budget, with and without pretraining.
# ``pretrain_epochs=0`` is a plain deep AutoEncoder. A tenth of the rows is
# held out to draw the validation curves.
models = {}
for pretrain_epochs in (0, 10):
    models[pretrain_epochs] = StackedAutoEncoder(
        n_components=4,
        hidden_layer_sizes=(64, 32, 16),
        pretrain_epochs=pretrain_epochs,
        max_epochs=10,
        n_iter_no_change=None,
        validation_fraction=0.1,
        random_state=0,
    ).fit(X_train)
    sae = models[pretrain_epochs]
    error = np.mean((sae.inverse_transform(sae.transform(X_test)) - X_test) ** 2)
    print(f"pretrain_epochs={pretrain_epochs:2d}: held-out MSE {error:.4f}")
print(
    "validation loss of each layer's shallow autoencoder:", np.round(models[10].pretrain_losses_, 4)
)

# %%
# Validation loss during fine-tuning: the pretrained network starts far
# lower and stays ahead.
fig, ax = plt.subplots(figsize=(5, 3.5))
for pretrain_epochs, sae in models.items():
    label = "greedy pretraining" if pretrain_epochs else "random start"
    ax.plot(range(1, sae.n_iter_ + 1), sae.validation_loss_curve_, marker="o", label=label)
ax.set_xlabel("fine-tuning epoch")
ax.set_ylabel("validation MSE")
ax.set_yscale("log")
ax.legend()
fig.tight_layout()
fig.savefig("stacked_pretraining_curves.png", dpi=100)
