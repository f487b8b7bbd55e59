"""``skae compare``: PCA and skae's autoencoders side by side on one dataset."""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from ._autoencoder import AutoEncoder


def default_methods(n_components: int, random_state=0, max_epochs=None) -> dict:
    """The estimators that ``skae compare`` fits, by display name.

    Parameters
    ----------
    n_components : int
        Code size shared by every method.
    random_state : int, default=0
        Seed for every skae estimator.
    max_epochs : int or None, default=None
        Overrides each autoencoder's ``max_epochs`` (for quick runs).

    Returns
    -------
    methods : dict of str to estimator
        Unfitted estimators, PCA first.

    Examples
    --------
    >>> from skae.compare import default_methods
    >>> list(default_methods(8))[:3]
    ['PCA', 'AutoEncoder', 'AutoEncoder (linear)']
    >>> len(default_methods(8))  # and every variant
    10
    """
    from . import (
        AdversarialAutoEncoder,
        ContractiveAutoEncoder,
        ConvAutoEncoder,
        DenoisingAutoEncoder,
        SparseAutoEncoder,
        StackedAutoEncoder,
        VariationalAutoEncoder,
    )

    budget = {} if max_epochs is None else {"max_epochs": max_epochs}
    common = dict(n_components=n_components, random_state=random_state, **budget)
    return {
        "PCA": PCA(n_components=n_components, random_state=random_state),
        "AutoEncoder": AutoEncoder(**common),
        # Large batches let the linear model settle on PCA's subspace.
        "AutoEncoder (linear)": AutoEncoder(
            hidden_layer_sizes=(),
            activation="identity",
            lr=1e-2,
            batch_size=1024,
            **{"max_epochs": 1000, "n_iter_no_change": 50, **common},
        ),
        "DenoisingAutoEncoder": DenoisingAutoEncoder(**common),
        "SparseAutoEncoder (L1)": SparseAutoEncoder(sparsity="l1", **common),
        "ContractiveAutoEncoder": ContractiveAutoEncoder(**common),
        "VariationalAutoEncoder": VariationalAutoEncoder(**common),
        "AdversarialAutoEncoder": AdversarialAutoEncoder(**common),
        "StackedAutoEncoder": StackedAutoEncoder(**common),
        "ConvAutoEncoder": ConvAutoEncoder(**common),
    }


@dataclass
class Result:
    """One method's figures and its fitted estimator.

    Parameters
    ----------
    name : str
        Display name.
    estimator : estimator
        The fitted transformer.
    test_mse : float
        Held-out reconstruction mean squared error.
    fit_seconds : float
        Wall time of ``fit``.
    accuracy : float or None
        Held-out accuracy of a logistic regression on the codes.
    codes, reconstructions : ndarray or None
        The held-out codes and reconstructions.

    Examples
    --------
    >>> from skae.compare import Result
    >>> Result("PCA", None, test_mse=0.025, fit_seconds=0.01)
    Result(name='PCA', estimator=None, test_mse=0.025, fit_seconds=0.01, accuracy=None)
    """

    name: str
    estimator: object
    test_mse: float
    fit_seconds: float
    accuracy: float | None = None
    codes: np.ndarray | None = field(default=None, repr=False)
    reconstructions: np.ndarray | None = field(default=None, repr=False)


def run_comparison(
    X,
    y=None,
    *,
    n_components: int = 8,
    methods: dict | None = None,
    test_size: float = 0.25,
    scale: str = "minmax",
    random_state: int = 0,
    max_epochs: int | None = None,
    verbose: bool = False,
):
    """Fit each method on a training split and measure it on the held-out rows.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Data.
    y : array-like of shape (n_samples,) or None
        Labels; when given, a logistic regression trained on each method's
        codes reports held-out accuracy.
    n_components : int, default=8
        Code size.
    methods : dict or None
        Name to unfitted transformer with ``inverse_transform``; default
        :func:`default_methods`.
    test_size : float, default=0.25
        Held-out fraction.
    scale : {"minmax", "standard", "none"}, default="minmax"
        Scaling fitted on the training rows; errors are measured on the
        scaled data.
    random_state : int, default=0
        Seed for the split and the estimators.
    max_epochs : int or None
        Epoch budget for the autoencoders.
    verbose : bool, default=False
        Print each method's name to standard error as its fit starts, and
        its fit time and held-out error when it ends.

    Returns
    -------
    results : list of Result
    X_test : ndarray
        The scaled held-out rows.
    y_test : ndarray or None

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae.compare import run_comparison
    >>> X, y = load_digits(return_X_y=True)
    >>> results, _, _ = run_comparison(X[:300], y[:300], n_components=4, max_epochs=2)
    >>> [r.name for r in results][:3]
    ['PCA', 'AutoEncoder', 'AutoEncoder (linear)']
    >>> all(r.test_mse > 0 for r in results)
    True
    """
    X = np.asarray(X, dtype=np.float64)
    labelled = y is not None and _is_classification(y)
    stratify = y if labelled else None
    split = train_test_split(
        X,
        *([] if y is None else [y]),
        test_size=test_size,
        random_state=random_state,
        stratify=stratify,
    )
    X_train, X_test = split[0], split[1]
    y_train, y_test = (split[2], split[3]) if y is not None else (None, None)
    scaler = {"minmax": MinMaxScaler(), "standard": StandardScaler(), "none": None}[scale]
    if scaler is not None:
        X_train = scaler.fit_transform(X_train)
        X_test = scaler.transform(X_test)
    methods = methods or default_methods(n_components, random_state, max_epochs)
    results = []
    for i, (name, estimator) in enumerate(methods.items(), start=1):
        if verbose:
            print(f"[{i}/{len(methods)}] {name} ...", end="", file=sys.stderr, flush=True)
        estimator = clone(estimator)
        start = time.perf_counter()
        estimator.fit(X_train)
        seconds = time.perf_counter() - start
        codes = estimator.transform(X_test)
        recon = estimator.inverse_transform(codes)
        result = Result(
            name,
            estimator,
            float(np.mean((recon - X_test) ** 2)),
            seconds,
            codes=codes,
            reconstructions=recon,
        )
        if labelled:
            clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
            clf.fit(estimator.transform(X_train), y_train)
            result.accuracy = float(clf.score(codes, y_test))
        if verbose:
            print(
                f" {seconds:.1f} s, held-out MSE {result.test_mse:.4g}", file=sys.stderr, flush=True
            )
        results.append(result)
    return results, X_test, y_test


def _is_classification(y) -> bool:
    y = np.asarray(y)
    return y.dtype.kind in "iub" or y.dtype.kind in "OU" or len(np.unique(y)) <= 50


def format_table(results) -> str:
    """A plain-text table of the results, PCA's error as the reference.

    Parameters
    ----------
    results : list of Result
        As returned by :func:`run_comparison`.

    Returns
    -------
    table : str

    Examples
    --------
    >>> from skae.compare import Result, format_table
    >>> print(format_table([Result("PCA", None, 0.025, 0.01, 0.9),
    ...                     Result("AutoEncoder", None, 0.0125, 2.0, 0.93)]))
    method                     test MSE  vs PCA  accuracy   fit s
    -------------------------------------------------------------
    PCA                         0.02500   1.000     0.900    0.01
    AutoEncoder                 0.01250   0.500     0.930    2.00
    """
    reference = next((r.test_mse for r in results if r.name == "PCA"), None)
    header = f"{'method':<24} {'test MSE':>10} {'vs PCA':>7} {'accuracy':>9} {'fit s':>7}"
    lines = [header, "-" * len(header)]
    for r in results:
        ratio = f"{r.test_mse / reference:7.3f}" if reference else f"{'':>7}"
        acc = f"{r.accuracy:9.3f}" if r.accuracy is not None else f"{'-':>9}"
        lines.append(f"{r.name:<24} {r.test_mse:10.5f} {ratio} {acc} {r.fit_seconds:7.2f}")
    return "\n".join(lines)


def plot_comparison(results, X_test, y_test, path, n_examples: int = 8):
    """Save a figure: originals vs reconstructions, and a 2-D view of each method's codes.

    Codes with more than two components are shown along their first two
    principal axes.

    Parameters
    ----------
    results : list of Result
        As returned by :func:`run_comparison`.
    X_test : ndarray of shape (n_samples, n_features)
        The held-out rows the results were computed on.
    y_test : ndarray of shape (n_samples,) or None
        Labels, to colour the codes.
    path : str or path-like
        Where to write the PNG.
    n_examples : int, default=8
        Number of rows shown as originals and reconstructions.

    Returns
    -------
    path : str or path-like
        ``path``.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.datasets import load_digits
    >>> from skae.compare import plot_comparison, run_comparison
    >>> X, y = load_digits(return_X_y=True)
    >>> results, X_test, y_test = run_comparison(X[:200], y[:200], n_components=2, max_epochs=1)
    >>> path = plot_comparison(results, X_test, y_test, os.path.join(tempfile.mkdtemp(), "c.png"))
    >>> os.path.getsize(path) > 0
    True
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n_features = X_test.shape[1]
    side = int(math.isqrt(n_features))
    as_image = side * side == n_features
    rows = 1 + len(results)
    fig = plt.figure(figsize=(2 + 1.2 * n_examples + 3.2, 1.4 * rows + 0.6), layout="constrained")
    grid = fig.add_gridspec(rows, n_examples + 3)

    def show(ax, row, title=None):
        if as_image:
            ax.imshow(row.reshape(side, side), cmap="gray_r", vmin=0, vmax=max(1.0, row.max()))
        else:
            ax.imshow(row[None, :], aspect="auto", cmap="viridis")
        ax.set_xticks([])
        ax.set_yticks([])
        if title:
            ax.set_ylabel(title, rotation=0, ha="right", va="center", fontsize=8)

    for j in range(n_examples):
        show(fig.add_subplot(grid[0, j]), X_test[j], "original" if j == 0 else None)
        for i, r in enumerate(results, start=1):
            show(fig.add_subplot(grid[i, j]), r.reconstructions[j], r.name if j == 0 else None)
    for i, r in enumerate(results):
        ax = fig.add_subplot(grid[i + 1, n_examples:])
        codes = r.codes
        if codes.shape[1] > 2:
            codes = PCA(2).fit_transform(codes)
        ax.scatter(
            codes[:, 0], codes[:, 1], c=y_test if y_test is not None else None, s=4, cmap="tab10"
        )
        ax.set_title(f"{r.name} codes (MSE {r.test_mse:.4f})", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
