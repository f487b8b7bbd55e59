"""
Convolutional autoencoder on digit images
=========================================

:class:`skae.ConvAutoEncoder` reads each row as an image and encodes it with
stride-2 convolutions. This example compares it with PCA and the dense
:class:`skae.AutoEncoder` at the same code size on the 8x8 digits, and shows
the filters of its first convolution. The digits are tiny (64 pixels), so the
dense network is already strong here; the convolutional one pays off on
larger images (``benchmarks/bench_conv_fashion.py``: 28x28 Fashion-MNIST).
"""

# %%
# Fit the three models with an 8-value code on 75 % of the digits (pixels in
# [0, 1]) and measure them on the rest. A row of 64 values is read as an 8x8
# single-channel image; the held-out reconstructions and the codes (projected
# on two axes, coloured by digit) are plotted.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA

from skae import AutoEncoder, ConvAutoEncoder
from skae.compare import format_table, plot_comparison, run_comparison

X, y = load_digits(return_X_y=True)
methods = {
    "PCA": PCA(n_components=8),
    "AutoEncoder": AutoEncoder(n_components=8, max_epochs=20, random_state=0),
    "ConvAutoEncoder": ConvAutoEncoder(
        n_components=8, hidden_layer_sizes=(32, 64), max_epochs=20, random_state=0
    ),
}
results, X_test, y_test = run_comparison(X / 16.0, y, methods=methods, scale="none")
print(format_table(results))
plot_comparison(results, X_test, y_test, "conv_autoencoder_comparison.png")

# %%
# The fitted model also takes the images as a 4-D array ``(n, channels,
# height, width)``; ``inverse_transform`` returns flat rows, which
# ``image_shape_`` turns back into images.
cae = results[-1].estimator
images = X_test.reshape(-1, 1, 8, 8)
codes = cae.transform(images)
print("same codes from rows and from images:", np.array_equal(codes, cae.transform(X_test)))
print("reconstructed images:", cae.inverse_transform(codes).reshape(-1, *cae.image_shape_).shape)

# %%
# The 32 filters of the first convolution (3x3 each): local stroke and edge
# detectors that every position of the image shares.
filters = cae.encoder_[1].weight.detach().cpu().numpy()[:, 0]
fig, axes = plt.subplots(4, 8, figsize=(6, 3.2))
for ax, w in zip(axes.ravel(), filters):
    ax.imshow(w, cmap="RdBu_r", vmin=-abs(w).max(), vmax=abs(w).max())
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("First-layer filters of the ConvAutoEncoder")
fig.savefig("conv_autoencoder_filters.png", dpi=100)
