"""
Reconstructing time series from a code of 8 values
==================================================

:class:`skae.SequenceAutoEncoder` compresses each series into a code of
``n_components`` values and rebuilds the whole series from that code alone.
The series here are the three shapes of the classic Cylinder-Bell-Funnel
benchmark (Saito, 1994): a plateau, a ramp up and a ramp down, each starting
and ending at a random time, scaled at random and noisy. Where a shape
starts, and how long it lasts, varies from series to series, which a linear
code such as PCA's captures poorly.
"""

# %%
# Cylinder-Bell-Funnel series: 128 steps, 300 for training, 300 to test.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.decomposition import PCA

from skae import SequenceAutoEncoder


def cylinder_bell_funnel(n, rng, length=128):
    t = np.arange(length)
    shape = rng.randint(3, size=n)
    start = rng.randint(16, 32, size=(n, 1))
    end = start + rng.randint(32, 96, size=(n, 1))
    inside = (t >= start) & (t < end)
    ramp = (t - start) / (end - start)
    pattern = np.choose(shape[:, np.newaxis], [np.ones_like(ramp), ramp, 1 - ramp]) * inside
    amplitude = 6 + rng.normal(size=(n, 1))
    return amplitude * pattern + rng.normal(size=(n, length)), shape


rng = np.random.RandomState(0)
X_train, shape_train = cylinder_bell_funnel(300, rng)
X_test, shape_test = cylinder_bell_funnel(300, rng)

# %%
# Fit the sequence autoencoder (a temporal convolution, the default) and PCA
# with codes of the same size. A 2-D array is read as univariate series; a
# ``(n_cases, n_channels, n_timepoints)`` array or a list of series of
# different lengths work alike.
model = SequenceAutoEncoder(n_components=8, max_epochs=60, lr=3e-3, random_state=0)
model.fit(X_train)
pca = PCA(n_components=8).fit(X_train)

reconstructions = {
    "SequenceAutoEncoder": model.inverse_transform(model.transform(X_test)),
    "PCA": pca.inverse_transform(pca.transform(X_test)),
}
for name, reconstruction in reconstructions.items():
    print(f"{name:20s} test mean squared error {np.mean((reconstruction - X_test) ** 2):.3f}")

# %%
# A series of each shape, with both reconstructions. The noise (variance 1)
# is not in the code, so a perfect reconstruction leaves an error near 1.
fig, axes = plt.subplots(1, 3, figsize=(10, 3), sharey=True)
for ax, shape, title in zip(axes, range(3), ["cylinder", "bell", "funnel"]):
    i = np.flatnonzero(shape_test == shape)[0]
    ax.plot(X_test[i], color="0.7", label="series")
    for (name, reconstruction), color in zip(reconstructions.items(), ["C0", "C1"]):
        ax.plot(reconstruction[i], color=color, label=name)
    ax.set_title(title)
    ax.set_xlabel("time step")
axes[0].legend(loc="upper left", fontsize=8)
fig.tight_layout()
fig.savefig("sequence_reconstruction.png", dpi=100)

# %%
# The codes as features: a logistic regression on each code tells the three
# shapes apart.
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

for name, encoder in {"SequenceAutoEncoder": model, "PCA": pca}.items():
    classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    classifier.fit(encoder.transform(X_train), shape_train)
    accuracy = classifier.score(encoder.transform(X_test), shape_test)
    print(f"{name:20s} accuracy of a logistic regression on the codes {accuracy:.3f}")
