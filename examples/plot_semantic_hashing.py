"""
Semantic hashing: retrieving similar digits by Hamming distance
===============================================================

A :class:`skae.HashingAutoEncoder` maps each image to a short binary code
such that similar images get codes a few bits apart. A
:class:`skae.HammingIndex` stores the packed codes and answers
nearest-neighbour queries exactly with bit operations. This example hashes
the 8x8 digits into 16 bits, shows what a few queries retrieve, and compares
the precision of Hamming ranking with two classic binary codes at the same
number of bits: the signs of the principal components and random-projection
LSH.
"""

# %%
# Data: 8x8 digits scaled to [0, 1]; 80 % are stored, 20 % are queries.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

from skae import HammingIndex, HashingAutoEncoder

digits = load_digits()
X_db, X_q, y_db, y_q = train_test_split(
    digits.data / 16.0, digits.target, test_size=0.2, random_state=0
)
n_bits = 16

# %%
# The index fits the hasher on the stored rows and keeps their packed codes
# (one uint64 word per image here). Queries are hashed by the same hasher.
# With 16 bits for 1,437 images, many images of the same digit share a code
# exactly (distance 0): the code works like a memory address, and
# ``radius_neighbors`` returns a whole Hamming ball around it.
hasher = HashingAutoEncoder(
    n_bits=n_bits, hidden_layer_sizes=(128,), loss="bce", max_epochs=60, random_state=0
)
index = HammingIndex(hasher, n_neighbors=8).fit(X_db)
print("stored codes:", index.codes_.shape, index.codes_.dtype)
dist, ind = index.kneighbors(X_q[:6])
print("Hamming distances of the first query's neighbours:", dist[0])
ball = index.radius_neighbors(X_q[:6], radius=1, return_distance=False)
print("stored images within 1 bit of each query:", [len(b) for b in ball])

fig, axes = plt.subplots(6, 9, figsize=(7.5, 5.4))
for row in range(6):
    axes[row, 0].imshow(X_q[row].reshape(8, 8), cmap="gray_r")
    axes[row, 0].set_title("query" if row == 0 else "", fontsize=8)
    for col in range(8):
        ax = axes[row, col + 1]
        ax.imshow(X_db[ind[row, col]].reshape(8, 8), cmap="gray_r")
        ax.set_title(f"d={dist[row, col]:.0f}", fontsize=7)
for ax in axes.ravel():
    ax.set_xticks([])
    ax.set_yticks([])
fig.suptitle("Queries (left) and their 8 nearest 16-bit codes")
fig.tight_layout()
fig.savefig("semantic_hashing_retrievals.png", dpi=100)

# %%
# Precision@k of Hamming ranking: the fraction of the k retrieved images
# with the query's label, for the learned codes and two data-independent
# or linear baselines with the same number of bits.
pca = PCA(n_components=n_bits).fit(X_db)
mean = X_db.mean(axis=0)
projection = np.random.default_rng(0).normal(size=(X_db.shape[1], n_bits))
hasher = index.hasher_  # the fitted clone
codes = {
    "HashingAutoEncoder": hasher.transform(X_db),
    "sign of PCA": pca.transform(X_db) > 0,
    "random-projection LSH": (X_db - mean) @ projection > 0,
}
queries = {
    "HashingAutoEncoder": hasher.transform(X_q),
    "sign of PCA": pca.transform(X_q) > 0,
    "random-projection LSH": (X_q - mean) @ projection > 0,
}
ks = [1, 5, 10, 20, 50, 100]
fig, ax = plt.subplots(figsize=(5, 3.5))
for name in codes:
    ranked = (
        HammingIndex().fit(codes[name]).kneighbors(queries[name], max(ks), return_distance=False)
    )
    hits = y_db[ranked] == y_q[:, None]
    precision = [hits[:, :k].mean() for k in ks]
    print(f"{name:<22} precision@10 = {hits[:, :10].mean():.3f}")
    ax.plot(ks, precision, marker="o", label=name)
ax.set_xscale("log")
ax.set_xlabel("k (retrieved images)")
ax.set_ylabel("precision@k")
ax.set_title(f"Digits, {n_bits}-bit codes")
ax.legend()
fig.tight_layout()
fig.savefig("semantic_hashing_precision.png", dpi=100)
