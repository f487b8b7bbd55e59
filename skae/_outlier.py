"""Outlier detection with an autoencoder, behind scikit-learn's outlier-detector API."""

from __future__ import annotations

import math
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._autoencoder import AutoEncoder
from ._base import fresh_fit

_SCALERS = {"standard": StandardScaler, "minmax": MinMaxScaler}


def default_autoencoder(n_features: int, random_state=None) -> AutoEncoder:
    """The autoencoder that :class:`AutoEncoderOutlierDetector` trains by default.

    A small network for tabular data whose code has about the square root of
    the number of features, so that it has to drop detail to reconstruct:
    ``n_features -> 64 -> 32 -> ceil(sqrt(n_features)) -> 32 -> 64 -> n_features``,
    ReLU hidden units, mean squared error, Adam, at most 100 epochs with early
    stopping on a held-out tenth of the rows.

    Parameters
    ----------
    n_features : int
        Number of input features.
    random_state : int, RandomState instance or None, default=None
        Seed of the autoencoder.

    Returns
    -------
    autoencoder : AutoEncoder
        An unfitted autoencoder.

    Examples
    --------
    >>> from skae._outlier import default_autoencoder
    >>> default_autoencoder(30).n_components
    6
    """
    return AutoEncoder(
        n_components=max(1, math.ceil(math.sqrt(n_features))),
        hidden_layer_sizes=(64, 32),
        activation="relu",
        max_epochs=100,
        batch_size=64,
        random_state=random_state,
    )


class AutoEncoderOutlierDetector(OutlierMixin, BaseEstimator):
    """Unsupervised outlier detection with an autoencoder.

    An autoencoder trained on (mostly normal) data maps each row to a code
    and reconstructs it from the code; a row unlike the training rows is
    either reconstructed badly (it lies off the surface the autoencoder
    learned) or gets an unusual code (it lies on that surface, but far out).
    This estimator follows the contract of scikit-learn's outlier detectors
    such as :class:`~sklearn.ensemble.IsolationForest`: :meth:`score_samples`
    is higher for more normal rows, :meth:`decision_function` is negative for
    outliers, :meth:`predict` returns +1 for inliers and -1 for outliers.
    :meth:`reconstruction_error` gives the plain reconstruction error that
    PyOD's ``AutoEncoder`` reports (higher is more abnormal).

    The outlier score (``outlier_score="combined"``, the default) of a row
    :math:`x` with code :math:`z` and reconstruction :math:`\\hat{x}` is

    .. math:: \\frac{1}{d}\\sum_{j=1}^{d} \\frac{(x_j - \\hat{x}_j)^2}{s_j^2}
              \\;-\\; \\frac{2}{k}\\log p(z) \\;+\\; c

    with :math:`s_j` the root mean squared residual of feature :math:`j` on
    the training rows, :math:`p` a mixture of ``code_components`` Gaussians
    fitted to the (standardised) training codes, and :math:`c` the constant
    that makes the code term average 1 on the training rows: the
    reconstruction error in units of each feature's usual error, plus how
    improbable the code is, each about 1 on typical training rows. Each term
    is a Gaussian negative log-likelihood per dimension, up to constants
    (with one component, the default, the code term is the Mahalanobis
    distance of the code over :math:`k`, with a floor of :math:`10^{-4}`
    times each code's variance on the covariance's diagonal); taken per
    dimension, the code's :math:`k` values weigh as much as the :math:`d`
    residuals. More components let the normal rows form several clusters in
    the code space, as in DAGMM (Zong et al. 2018), where a single Gaussian
    would count the gap between them as normal.
    ``outlier_score="reconstruction"`` uses the autoencoder's own error alone.

    The input is scaled before the autoencoder sees it (``scaler``,
    standardisation by default, as PyOD does), so that every feature counts
    on the same scale. The scaler is fitted on the training rows only; rows
    outside the training range at prediction time are not clipped, so they
    keep a large score.

    Parameters
    ----------
    estimator : estimator or None, default=None
        The autoencoder: any skae autoencoder (or any estimator with ``fit``
        and a ``score_samples`` that is higher for normal rows). It is cloned
        in :meth:`fit`, never fitted itself, and its parameters can be tuned
        with ``estimator__<name>`` (e.g. ``estimator__n_components`` in
        :class:`~sklearn.model_selection.GridSearchCV`). ``None`` uses
        ``AutoEncoder(n_components=ceil(sqrt(n_features)),
        hidden_layer_sizes=(64, 32), max_epochs=100)`` (ReLU units),
        the configuration benchmarked on the ODDS datasets in
        ``benchmarks/bench_outliers.py``.

    scaler : {"standard", "minmax"}, transformer or None, default="standard"
        Scaling fitted on the training rows and applied before the
        autoencoder: ``"standard"`` (zero mean, unit variance; a feature that
        is constant in training is only centred), ``"minmax"`` ([0, 1] on the
        training range; needed for ``loss="bce"``), a transformer (cloned), or
        ``None`` for none.

    outlier_score : {"combined", "reconstruction"}, default="combined"
        The outlier score: reconstruction error per feature's usual error plus
        how improbable the code is (its Mahalanobis distance with the default
        ``code_components=1``; needs an ``estimator`` with
        ``transform`` and ``inverse_transform``), or the autoencoder's own
        reconstruction error (its ``score_samples``), which is PyOD's score.

    code_components : int, default=1
        Number of Gaussian components of the density of the codes in the
        combined score, capped at the number of rows of the final fit (see
        ``code_density_.n_components``); ``1`` is the Mahalanobis distance of
        the code. More components suit normal data made of separate
        clusters; but a mixture can also give a cluster of outliers among
        the training rows a component of its own, and so score them as
        normal, which is why the default is one. With ``trim > 0`` the first
        fit, which picks the rows to leave out, uses one Gaussian whatever
        this is. Unused with ``outlier_score="reconstruction"``.

    contamination : "auto" or float, default="auto"
        Expected fraction of outliers, which sets the threshold of
        :meth:`predict` (``offset_``) on the training rows' scores. With a
        float in (0, 0.5], that fraction of the training rows is flagged.
        With ``"auto"``, a training row is an outlier when its score is above
        the upper fence of a boxplot of the training scores,
        ``Q3 + 1.5 (Q3 - Q1)``; so the flagged fraction follows the data.
        Scores and rankings (:meth:`score_samples`, ROC-AUC) do not depend
        on it.

    trim : float in [0, 0.5), default=0.1
        Fraction of the training rows, those with the highest outlier scores,
        left out of a second fit: the detector is fitted on all rows, then
        fitted again from scratch (scaler, autoencoder and score statistics)
        on the other rows, so that the outliers among the training rows do
        not shape the final model. ``0`` fits once. The default doubles the
        training time; it was chosen on ODDS datasets other than those
        reported in ``benchmarks/bench_outliers.py``. The threshold
        (``offset_``) is set on the scores of all the training rows.

    random_state : int, RandomState instance or None, default=None
        Seeds the autoencoder (when not ``None`` it replaces the
        ``random_state`` of ``estimator``) and the mixture of the codes.

    Attributes
    ----------
    estimator_ : estimator
        The fitted autoencoder (a clone of ``estimator``, or the default).

    scaler_ : transformer or None
        The fitted scaler.

    offset_ : float
        Offset such that ``decision_function = score_samples - offset_``;
        rows with a negative decision are outliers.

    threshold_ : float
        The same threshold on the outlier score, ``-offset_`` (PyOD's name):
        rows with a larger score are outliers.

    decision_scores_ : ndarray of shape (n_samples,)
        Outlier score of each training row (PyOD's name; higher is more
        abnormal).

    residual_scale_ : ndarray of shape (n_features_in_,)
        Root mean squared residual of each scaled feature on the rows of the
        final fit (floored at 1 % of their mean); only with
        ``outlier_score="combined"``.

    code_scaler_ : StandardScaler
        Standardisation of the codes of the rows of the final fit (all
        training rows but the ``trim`` fraction), applied before the
        mixture; only with ``outlier_score="combined"``.

    code_density_ : GaussianMixture
        The mixture of Gaussians fitted to those standardised codes; only
        with ``outlier_score="combined"``.

    code_offset_ : float
        The constant subtracted from :math:`-\\frac{2}{k}\\log p(z)` so
        that the code term averages 1 over those rows; only with
        ``outlier_score="combined"``.

    n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during ``fit``, when ``X`` has string column names.

    See Also
    --------
    sklearn.ensemble.IsolationForest : Outlier detection by random partitioning.
    AutoEncoder : The default autoencoder.

    Notes
    -----
    The training rows may contain outliers (the detector is unsupervised);
    the bottleneck, early stopping and the second fit without the
    highest-scoring rows (``trim``) keep the autoencoder from learning to
    reconstruct the few unusual rows well. Training on rows known to be
    normal (novelty detection) works the same way and usually better.

    Examples
    --------
    >>> import numpy as np
    >>> from skae import AutoEncoder, AutoEncoderOutlierDetector
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(300, 4)) @ rng.normal(size=(4, 8))  # rank 4 in 8-d
    >>> outliers = rng.uniform(-6, 6, size=(5, 8))
    >>> detector = AutoEncoderOutlierDetector(
    ...     AutoEncoder(n_components=4, max_epochs=30), contamination=0.05, random_state=0
    ... ).fit(X)
    >>> detector.predict(outliers)
    array([-1, -1, -1, -1, -1])
    >>> bool((detector.score_samples(outliers) < detector.score_samples(X[:5])).all())
    True
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "score_samples"]), None],
        "scaler": [StrOptions(set(_SCALERS)), HasMethods(["fit", "transform"]), None],
        "outlier_score": [StrOptions({"combined", "reconstruction"})],
        "code_components": [Interval(Integral, 1, None, closed="left")],
        "contamination": [StrOptions({"auto"}), Interval(Real, 0, 0.5, closed="right")],
        "trim": [Interval(Real, 0, 0.5, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator=None,
        *,
        scaler="standard",
        outlier_score="combined",
        code_components=1,
        contamination="auto",
        trim=0.1,
        random_state=None,
    ):
        self.estimator = estimator
        self.scaler = scaler
        self.outlier_score = outlier_score
        self.code_components = code_components
        self.contamination = contamination
        self.trim = trim
        self.random_state = random_state

    def _make_estimator(self, n_features: int):
        if self.estimator is None:
            return default_autoencoder(n_features, self.random_state)
        estimator = clone(self.estimator)
        if self.random_state is not None and "random_state" in estimator.get_params(deep=False):
            estimator.set_params(random_state=self.random_state)
        return estimator

    def _make_scaler(self):
        if self.scaler is None:
            return None
        if isinstance(self.scaler, str):
            return _SCALERS[self.scaler]()
        return clone(self.scaler)

    def _check_estimator(self, estimator) -> None:
        if self.outlier_score == "combined" and not (
            hasattr(estimator, "transform") and hasattr(estimator, "inverse_transform")
        ):
            raise ValueError(
                "outlier_score='combined' needs an estimator with transform and "
                f"inverse_transform (an autoencoder), but {type(estimator).__name__} lacks "
                "them; use outlier_score='reconstruction' to rank rows by its score_samples."
            )

        if getattr(estimator, "loss", None) == "bce" and self.scaler == "standard":
            raise ValueError(
                "The autoencoder has loss='bce', which needs inputs in [0, 1], but "
                "scaler='standard' centres them around 0; set scaler='minmax' or use "
                "loss='mse'."
            )

    def fit(self, X, y=None):
        """Train the autoencoder on ``X`` and set the outlier threshold.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows, mostly normal; they may contain some outliers.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : object
            The fitted detector.
        """
        with fresh_fit(self):
            self._validate_params()
            X = validate_data(self, X, dtype=[np.float64, np.float32])
            random_state = check_random_state(self.random_state)
            # One Gaussian for the codes until the trim: see code_components in the docstring.
            scores = self._fit_once(X, random_state, 1 if self.trim > 0 else self.code_components)
            if self.trim > 0:
                keep = scores <= np.quantile(scores, 1.0 - self.trim)
                self._fit_once(X[keep], random_state, self.code_components)
                scores = -self.score_samples(X)
            self.decision_scores_ = scores
            self.offset_ = -self._threshold(scores)
        return self

    def _fit_once(self, X, random_state, code_components) -> np.ndarray:
        """Fit scaler, autoencoder and score statistics on ``X``; return its outlier scores."""
        estimator = self._make_estimator(X.shape[1])
        self._check_estimator(estimator)
        scaler = self._make_scaler()
        Xs = X if scaler is None else scaler.fit_transform(X)
        if isinstance(scaler, MinMaxScaler):
            # Rounding can leave training values a hair outside the range (bce refuses them).
            Xs = np.clip(Xs, *scaler.feature_range)
        estimator.fit(Xs)
        self.estimator_ = estimator
        self.scaler_ = scaler
        if self.outlier_score == "reconstruction":
            return self._outlier_score(Xs)
        # One pass through the autoencoder serves both the statistics and the scores.
        codes, residuals = self._residuals(Xs)
        code_scores = self._fit_combined(codes, residuals, random_state, code_components)
        return self._off_surface(residuals) + code_scores

    def _residuals(self, Xs):
        codes = np.asarray(self.estimator_.transform(Xs), dtype=np.float64)
        return codes, Xs - np.asarray(self.estimator_.inverse_transform(codes), dtype=np.float64)

    def _fit_combined(self, codes, residuals, random_state, code_components) -> np.ndarray:
        """Fit the residual scale and the density of the codes; return the training code terms."""
        scale = np.sqrt(np.mean(residuals**2, axis=0))
        # A feature reconstructed (almost) exactly must not turn tiny deviations into huge scores.
        self.residual_scale_ = np.maximum(scale, max(1e-2 * float(scale.mean()), 1e-12))
        # Standardised codes make the mixture's covariance floor (reg_covar) relative to their spread.
        self.code_scaler_ = StandardScaler().fit(codes)
        density = GaussianMixture(
            n_components=min(code_components, len(codes)),
            covariance_type="full",
            reg_covar=1e-4,
            random_state=random_state,
        )
        with warnings.catch_warnings():
            # An EM run that stops at max_iter still gives a usable density; users can't act on
            # it. Other warnings (e.g. fewer distinct codes than components) still show.
            warnings.filterwarnings(
                "ignore", "Best performing initialization did not converge", ConvergenceWarning
            )
            density.fit(self.code_scaler_.transform(codes))
        self.code_density_ = density
        code_scores = self._code_surprise(codes)
        self.code_offset_ = float(code_scores.mean()) - 1.0
        return code_scores - self.code_offset_

    def _off_surface(self, residuals) -> np.ndarray:
        return np.mean((residuals / self.residual_scale_) ** 2, axis=1)

    def _code_surprise(self, codes) -> np.ndarray:
        """-2/k log p(z): the Mahalanobis distance over k, plus a constant, for one Gaussian."""
        log_density = self.code_density_.score_samples(self.code_scaler_.transform(codes))
        return -2.0 / codes.shape[1] * log_density

    def _on_surface(self, codes) -> np.ndarray:
        return self._code_surprise(codes) - self.code_offset_

    def _combined_score(self, codes, residuals) -> np.ndarray:
        return self._off_surface(residuals) + self._on_surface(codes)

    def _outlier_score(self, Xs) -> np.ndarray:
        """Higher is more abnormal: the combined score, or the autoencoder's own error."""
        if self.outlier_score == "reconstruction":
            return -np.asarray(self.estimator_.score_samples(Xs), dtype=np.float64)
        return self._combined_score(*self._residuals(Xs))

    def _threshold(self, errors: np.ndarray) -> float:
        if self.contamination == "auto":
            q1, q3 = np.percentile(errors, [25.0, 75.0])
            return float(q3 + 1.5 * (q3 - q1))
        return float(np.percentile(errors, 100.0 * (1.0 - self.contamination)))

    @property
    def threshold_(self) -> float:
        return -self.offset_

    def _scaled(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        return X if self.scaler_ is None else self.scaler_.transform(X)

    def score_samples(self, X):
        """Normality of each row, minus its outlier score: higher is more normal.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Minus the combined score, or minus the reconstruction error with
            ``outlier_score="reconstruction"``; in float64.
        """
        return -self._outlier_score(self._scaled(X))

    def reconstruction_error(self, X):
        """The outlier score that PyOD reports: higher is more abnormal.

        The autoencoder's own loss (mean squared error over the scaled
        features by default) between each row and its reconstruction,
        whatever ``outlier_score`` is; a monotone function of PyOD's Euclidean
        distance, so it ranks rows the same way.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        errors : ndarray of shape (n_samples,)
            Reconstruction error of each row.
        """
        X = self._scaled(X)
        return -np.asarray(self.estimator_.score_samples(X), dtype=np.float64)

    def decision_function(self, X):
        """Shifted score: negative for outliers, positive for inliers.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        decision : ndarray of shape (n_samples,)
            ``score_samples(X) - offset_``.
        """
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """Label each row as an inlier (+1) or an outlier (-1).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to label.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            -1 where :meth:`decision_function` is negative, +1 elsewhere.
        """
        return np.where(self.decision_function(X) < 0, -1, 1)
