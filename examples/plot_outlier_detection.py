"""
Outlier detection with an autoencoder
=====================================

:class:`skae.AutoEncoderOutlierDetector` is used like scikit-learn's
:class:`~sklearn.ensemble.IsolationForest`: ``fit`` on unlabelled rows (which
may contain some outliers), then ``score_samples`` (higher is more normal),
``decision_function`` (negative for outliers) and ``predict`` (+1 / -1).

The data here are 10 measured features that really depend on two hidden
causes, so normal rows lie near a curved two-dimensional surface. Two kinds
of outliers are planted: rows whose features are each plausible alone but
do not fit together (off the surface), and rows on the surface but beyond
its normal extent. The autoencoder's reconstruction error catches the first
kind; the unusualness of the code catches the second; the default score
adds both, averaged over 5 autoencoders that each train on 256 of the rows.
"""

# %%
# Data: 1,000 normal rows and 50 outliers of each kind, in a 60/40 split.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.model_selection import train_test_split

from skae import AutoEncoderOutlierDetector

rng = np.random.RandomState(0)
mixing = rng.normal(size=(5, 10))


def surface(t):
    """Ten features from two hidden causes, with a little noise."""
    features = np.column_stack([t, np.sin(3 * t), t[:, :1] * t[:, 1:]])
    return features @ mixing + 0.05 * rng.normal(size=(len(t), 10))


normal = surface(rng.uniform(-1, 1, size=(1000, 2)))
# Off the surface: every feature taken from a different normal row.
mixed = normal[rng.randint(len(normal), size=(50, 10)), np.arange(10)]
# On the surface, beyond its normal extent.
far = surface(rng.uniform(1.3, 1.6, size=(50, 2)) * rng.choice([-1, 1], size=(50, 2)))
X = np.vstack([normal, mixed, far])
kind = np.repeat(["normal", "off the surface", "far out"], [1000, 50, 50])
X_train, X_test, kind_train, kind_test = train_test_split(X, kind, test_size=0.4, random_state=0)
y_test = (kind_test != "normal").astype(int)  # 1 = outlier

# %%
# Fit the detector and IsolationForest on the training rows, outliers included.
detector = AutoEncoderOutlierDetector(random_state=0).fit(X_train)
forest = IsolationForest(random_state=0).fit(X_train)

scores = {
    "AutoEncoderOutlierDetector": -detector.score_samples(X_test),
    "reconstruction error alone": detector.reconstruction_error(X_test),
    "IsolationForest": -forest.score_samples(X_test),
}
# ROC-AUC over all test outliers, and against each kind alone.
for name, score in scores.items():
    by_kind = [
        roc_auc_score(y_test[keep], score[keep])
        for keep in (kind_test != "far out", kind_test != "off the surface")
    ]
    print(
        f"{name:28s} ROC-AUC {roc_auc_score(y_test, score):.3f} "
        f"(off the surface {by_kind[0]:.3f}, far out {by_kind[1]:.3f})"
    )
flagged = detector.predict(X_test) == -1
for k in ["normal", "off the surface", "far out"]:
    print(f"flagged as outliers ({k}): {flagged[kind_test == k].mean():.0%}")

# %%
# Histogram of the outlier score (``-score_samples``) on the test rows, by
# kind, with the threshold that ``predict`` uses (``contamination="auto"``:
# the upper boxplot fence of the training scores).
fig, ax = plt.subplots(figsize=(6, 3.5))
bins = np.logspace(
    np.log10(scores["AutoEncoderOutlierDetector"].min()),
    np.log10(scores["AutoEncoderOutlierDetector"].max()),
    40,
)
for k in ["normal", "off the surface", "far out"]:
    ax.hist(scores["AutoEncoderOutlierDetector"][kind_test == k], bins=bins, alpha=0.6, label=k)
ax.axvline(detector.threshold_, color="k", linestyle="--", label="threshold_")
ax.set_xscale("log")
ax.set_xlabel("outlier score (-score_samples)")
ax.set_ylabel("test rows")
ax.legend()
fig.tight_layout()
fig.savefig("outlier_score_histogram.png", dpi=100)

# %%
# ROC curves on the test rows.
fig, ax = plt.subplots(figsize=(4.5, 4.5))
for name, score in scores.items():
    fpr, tpr, _ = roc_curve(y_test, score)
    ax.plot(fpr, tpr, label=f"{name} ({roc_auc_score(y_test, score):.3f})")
ax.plot([0, 1], [0, 1], color="grey", linestyle=":")
ax.set_xlabel("false positive rate")
ax.set_ylabel("true positive rate")
ax.legend(fontsize=8, loc="lower right")
fig.tight_layout()
fig.savefig("outlier_roc.png", dpi=100)
