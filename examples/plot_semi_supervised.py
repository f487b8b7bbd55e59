"""
Few labels: a pretrained encoder with a supervised head
=======================================================

:class:`skae.AutoEncoderClassifier` first trains an autoencoder on every
image, labelled or not, then trains a head on its code and the pixels
(``passthrough=True``) with the few labelled ones, the encoder frozen by
default. Rows labelled ``-1`` are unlabelled, as in scikit-learn's
``SelfTrainingClassifier``.

This example plots test accuracy against the number of labelled images per
class on scikit-learn's 8x8 digits, next to logistic regression on the raw
pixels and on PCA codes. The autoencoder is pretrained once and shared by
every fit through :class:`~sklearn.frozen.FrozenEstimator`.

Digits is a small, easy data set: 1,257 unlabelled images add little, and
the methods end up close. On MNIST, with 60,000 unlabelled images and 3 to
10 labels per class, the classifier wins by 9 to 13 points of accuracy, and
by 0.3 to 2.6 points on Fashion-MNIST
(``benchmarks/bench_semi_supervised.py``).
"""

# %%
# Data: 70 % of the digits form the pool (labels hidden but for a few per
# class), 30 % the test set.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from skae import AutoEncoder, AutoEncoderClassifier

X, y = load_digits(return_X_y=True)
X_pool, X_test, y_pool, y_test = train_test_split(X / 16.0, y, test_size=0.3, random_state=0)


def partial_labels(per_class, seed):
    """y_pool with all but ``per_class`` images of each class set to -1 (unlabelled)."""
    rng = np.random.RandomState(seed)
    rows = np.concatenate(
        [rng.choice(np.flatnonzero(y_pool == c), per_class, replace=False) for c in range(10)]
    )
    y_partial = np.full_like(y_pool, -1)
    y_partial[rows] = y_pool[rows]
    return y_partial


# %%
# Pretrain the autoencoder and PCA once, on the whole pool (no labels).
ae = AutoEncoder(n_components=10, loss="bce", random_state=0).fit(X_pool)
pca = PCA(n_components=10, random_state=0).fit(X_pool)

# %%
# For each number of labels per class, average two draws of the labelled set.
methods = {
    "AutoEncoderClassifier (frozen encoder)": lambda s: AutoEncoderClassifier(
        FrozenEstimator(ae), random_state=s
    ),
    "AutoEncoderClassifier (fine-tuned)": lambda s: AutoEncoderClassifier(
        FrozenEstimator(ae), freeze_encoder=False, random_state=s
    ),
}
per_class_grid = [2, 5, 10, 20]
accuracy = {name: [] for name in ["LR on pixels", "LR on PCA(10)", *methods]}
for per_class in per_class_grid:
    scores = {name: [] for name in accuracy}
    for seed in range(2):
        y_partial = partial_labels(per_class, seed)
        labelled = y_partial != -1
        lr = LogisticRegression(max_iter=2000).fit(X_pool[labelled], y_pool[labelled])
        scores["LR on pixels"].append(lr.score(X_test, y_test))
        lr = LogisticRegression(max_iter=2000).fit(
            pca.transform(X_pool[labelled]), y_pool[labelled]
        )
        scores["LR on PCA(10)"].append(lr.score(pca.transform(X_test), y_test))
        for name, make in methods.items():
            clf = make(seed).fit(X_pool, y_partial)  # unlabelled rows carry -1
            scores[name].append(clf.score(X_test, y_test))
    for name, values in scores.items():
        accuracy[name].append(np.mean(values))
    print(
        f"{per_class:3d} labels per class: "
        + ", ".join(f"{k} {np.mean(v):.3f}" for k, v in scores.items())
    )

# %%
# Accuracy against the number of labels.
fig, ax = plt.subplots(figsize=(6, 4))
for name, values in accuracy.items():
    ax.plot(per_class_grid, values, marker="o", label=name)
ax.set_xscale("log")
ax.xaxis.set_minor_locator(plt.NullLocator())
ax.set_xticks(per_class_grid, [str(k) for k in per_class_grid])
ax.set_xlabel("labelled images per class")
ax.set_ylabel("test accuracy")
ax.set_title("Digits: accuracy vs number of labels")
ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig("semi_supervised_accuracy_vs_labels.png", dpi=100)
