"""Outlier detection with an autoencoder, behind scikit-learn's outlier-detector API."""

from __future__ import annotations

import math
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.utils import check_random_state
from sklearn.utils.random import sample_without_replacement
from sklearn.utils.validation import check_is_fitted, validate_data

from ._autoencoder import AutoEncoder
from ._blockwise import blockwise
from ._detection import outlier_threshold, seeded_clone
from ._outlier_member import OutlierMember, fit_members
from ._random import seed_from_random_state
from ._utils import (
    HasMethods,
    Interval,
    RealNotInt,
    StrOptions,
    fitted_once,
    fresh_fit,
    reads_fitted,
)

_SCALERS = {"standard": StandardScaler, "minmax": MinMaxScaler}
# The fewest rows the default autoencoder trains on: one for validation, and rows after the trim.
_MIN_ROWS = 3


# Epochs and learning rate of the default member autoencoder, chosen on the development sets
# (docs/outliers.md); tests shorten the epochs to run scikit-learn's checks.
_DEFAULT_MAX_EPOCHS = 50
_DEFAULT_LR = 2e-3


def default_autoencoder(n_features: int, random_state=None) -> AutoEncoder:
    """The autoencoder that :class:`AutoEncoderOutlierDetector` trains by default.

    A small network for tabular data whose code has about the square root of
    the number of features, so that it has to drop detail to reconstruct:
    ``n_features -> 64 -> 32 -> ceil(sqrt(n_features)) -> 32 -> 64 -> n_features``,
    ReLU hidden units, mean squared error, Adam with a learning rate of 2e-3,
    at most 50 epochs with early stopping on a held-out tenth of the rows.

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
        max_epochs=_DEFAULT_MAX_EPOCHS,
        lr=_DEFAULT_LR,
        batch_size=64,
        validation_fraction=0.1,
        lr_schedule="constant",
        random_state=random_state,
    )


class AutoEncoderOutlierDetector(OutlierMixin, BaseEstimator):
    """Unsupervised outlier detection with an ensemble of autoencoders.

    Trains ``n_estimators`` autoencoders, each on its own random subsample of
    ``max_samples`` scaled training rows, and averages their outlier scores.
    The autoencoders train side by side, as one network of stacked weights,
    whenever they can (plain MLP autoencoders without penalties, noise or
    learning-rate drops, such as the default); others train one after the
    other.
    A row unlike the training rows is either reconstructed badly or given an
    improbable code; the default score (``outlier_score="combined"``) that
    one autoencoder gives a row :math:`x` with code :math:`z` and
    reconstruction :math:`\\hat{x}` adds the two:

    .. math:: \\frac{1}{d}\\sum_{j=1}^{d} \\frac{(x_j - \\hat{x}_j)^2}{s_j^2}
              \\;-\\; \\frac{2}{k}\\log p(z) \\;+\\; c

    with :math:`s_j` the root mean squared residual of feature :math:`j`,
    :math:`p` a mixture of ``code_components`` Gaussians over the
    standardised codes, both fitted on the autoencoder's rows, and :math:`c`
    the constant that makes the code term average 1 on them.

    It follows the contract of scikit-learn's outlier detectors such as
    :class:`~sklearn.ensemble.IsolationForest`: :meth:`score_samples` is
    higher for more normal rows, :meth:`decision_function` is negative for
    outliers, and :meth:`predict` returns +1 for inliers and -1 for outliers.

    Read more in the :ref:`User Guide <outliers>`.

    Parameters
    ----------
    estimator : estimator or None, default=None
        The autoencoder: any skae autoencoder (or any estimator with ``fit``
        and a ``score_samples`` that is higher for normal rows). It is cloned
        in :meth:`fit`, never fitted itself, and its parameters can be tuned
        with ``estimator__<name>`` (e.g. ``estimator__n_components`` in
        :class:`~sklearn.model_selection.GridSearchCV`). ``None`` uses
        ``AutoEncoder(n_components=ceil(sqrt(n_features)),
        hidden_layer_sizes=(64, 32), max_epochs=50, lr=2e-3, batch_size=64)`` with
        ReLU units (64 rows a step on any device, as its defaults were
        chosen with).
        Each member of the ensemble is a clone
        with its own ``random_state``.

    n_estimators : int, default=5
        Number of autoencoders, each trained on its own subsample; the
        outlier score is the mean of theirs. Training time grows with it,
        less than in proportion when they train side by side.

    max_samples : "auto", int or float, default="auto"
        Number of training rows, drawn without replacement, for each
        autoencoder: ``"auto"`` is ``min(256, n_samples)``; an int is that
        many rows (all of them, with a warning, if there are fewer); a float
        in (0, 1] is that fraction of the rows, rounded down. Each needs at
        least 3 rows. ``1.0`` trains every autoencoder on all the rows;
        ``n_estimators=1, max_samples=1.0`` is a single autoencoder, which
        suits novelty detection on clean, plentiful data, or reusing its
        encoder as a feature extractor.

    scaler : {"standard", "minmax"}, transformer or None, default="standard"
        Scaling fitted on each autoencoder's rows (those of its final fit)
        and applied before it: ``"standard"`` (zero mean, unit variance; a
        feature that is constant in training is only centred), ``"minmax"``
        ([0, 1] on the training range; needed for ``loss="bce"``), a
        transformer (cloned), or ``None`` for none.

    outlier_score : {"combined", "reconstruction"}, default="combined"
        The outlier score: reconstruction error per feature's usual error plus
        how improbable the code is (its Mahalanobis distance with the default
        ``code_components=1``; needs an ``estimator`` with
        ``transform`` and ``inverse_transform``), or the autoencoder's own
        reconstruction error (its ``score_samples``), which is PyOD's score.

    code_components : int, default=1
        Number of Gaussian components of the density of the codes in the
        combined score, capped at the number of rows of the final fit (see
        ``members_[i].code_density_.n_components``); ``1`` is the
        Mahalanobis distance of the code. More components suit normal data
        made of separate clusters. With ``trim > 0`` the first fit, which
        picks the rows to leave out, uses one Gaussian whatever this is.
        Unused with ``outlier_score="reconstruction"``.

    contamination : "auto" or float, default="auto"
        Expected fraction of outliers, which sets the threshold of
        :meth:`predict` (``offset_``) on the training rows' scores. With a
        float in (0, 0.5], that fraction of the training rows is flagged.
        With ``"auto"``, a training row is an outlier when its score is above
        the upper fence of a boxplot of the training rows' scores,
        ``Q3 + 1.5 (Q3 - Q1)``; so the flagged fraction follows the data.
        Scores and rankings (:meth:`score_samples`, ROC-AUC) do not depend
        on it.

    trim : float in [0, 0.5), default=0.1
        Fraction of each autoencoder's rows, those with the highest outlier
        scores, left out of a second fit: each member is fitted on its rows,
        then fitted again from scratch (scaler, autoencoder and score
        statistics) on the others, so that the outliers among them do not
        shape the final model. The first fit only ranks the rows, so a skae
        autoencoder trains for half of its ``max_epochs`` (rounded up) in it
        (other estimators, a Pipeline among them, fit as given). ``0`` fits
        once; the default takes 1.5 times as long to train. The threshold
        (``offset_``) is set on the scores of all the training rows.

    random_state : int, RandomState instance or None, default=None
        Draws one seed per autoencoder, which draws its rows and seeds its
        weights and its mixture of the codes. The seeds replace every
        ``random_state`` of ``estimator`` (nested ones too), as
        scikit-learn's bagging ensembles do, also when this is ``None``; so
        pass an int here for a reproducible fit. ``None`` takes fresh
        entropy from the operating system and leaves numpy's global
        generator alone.

    Attributes
    ----------
    members_ : list of OutlierMember
        The fitted members, one per autoencoder, each with ``estimator_``
        (the fitted autoencoder), ``scaler_`` (its fitted scaler or None)
        and, with ``outlier_score="combined"``, the statistics of its score
        (``residual_scale_``, ``code_scaler_``, ``code_density_``,
        ``code_offset_``), each described in the User Guide.

    members_samples_ : list of ndarray
        The indices of the training rows of each member, sorted; its final
        fit leaves the ``trim`` fraction of them out.

    max_samples_ : int
        The number of training rows of each member.

    offset_ : float
        Offset such that ``decision_function = score_samples - offset_``;
        rows with a negative decision are outliers.

    threshold_ : float
        The same threshold on the outlier score, ``-offset_`` (PyOD's name):
        rows with a larger score are outliers.

    decision_scores_ : ndarray of shape (n_samples,)
        Outlier score of each training row (PyOD's name; higher is more
        abnormal).

    n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of features seen during ``fit``, when ``X`` has string column names.

    See Also
    --------
    sklearn.ensemble.IsolationForest : Outlier detection by random partitioning.
    AutoEncoder : The default autoencoder.

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
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "max_samples": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="right"),
        ],
        "scaler": [StrOptions(set(_SCALERS)), HasMethods(["fit", "transform"]), None],
        "outlier_score": [StrOptions({"combined", "reconstruction"})],
        "code_components": [Interval(Integral, 1, None, closed="left")],
        "contamination": [StrOptions({"auto"}), Interval(Real, 0, 0.5, closed="right")],
        "trim": [Interval(Real, 0, 0.5, closed="left")],
        "random_state": ["random_state"],
    }

    # Saved by skae.save (see skae._state).
    _attribute_kinds_ = {
        "n_features_in_": "count",
        "feature_names_in_": "names?",
        "max_samples_": "count",
        "members_": "parts",
        "members_samples_": "arrays:iu",
        "decision_scores_": "array:f",
        "offset_": "float",
    }

    def __init__(
        self,
        estimator=None,
        *,
        n_estimators=5,
        max_samples="auto",
        scaler="standard",
        outlier_score="combined",
        code_components=1,
        contamination="auto",
        trim=0.1,
        random_state=None,
    ):
        self.estimator = estimator
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.scaler = scaler
        self.outlier_score = outlier_score
        self.code_components = code_components
        self.contamination = contamination
        self.trim = trim
        self.random_state = random_state

    def _make_estimator(self, n_features: int, seed: int):
        if self.estimator is None:
            return default_autoencoder(n_features, seed)
        return seeded_clone(self.estimator, seed)

    def _make_scaler(self):
        if isinstance(self.scaler, str):
            return _SCALERS[self.scaler]()
        return self.scaler

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

    def _sample_size(self, n_samples: int) -> int:
        if self.max_samples == "auto":
            size = min(256, n_samples)
        elif isinstance(self.max_samples, Integral):
            if self.max_samples > n_samples:
                warnings.warn(
                    f"max_samples={self.max_samples} is more than the {n_samples} training "
                    f"rows; each autoencoder is trained on all {n_samples}.",
                    UserWarning,
                    stacklevel=3,
                )
            size = min(self.max_samples, n_samples)
        else:
            size = int(self.max_samples * n_samples)
        if size < _MIN_ROWS:
            raise ValueError(
                f"max_samples={self.max_samples!r} gives each autoencoder {size} of the "
                f"n_samples = {n_samples} training rows, but it needs at least {_MIN_ROWS} (a "
                "validation row for early stopping, and rows left after the trim); give more "
                "rows or a larger max_samples (1.0 means all the rows)."
            )
        return size

    def fit(self, X, y=None):
        """Train the autoencoders, each on its own subsample of ``X``, and set the threshold.

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
            n_samples = X.shape[0]
            self.max_samples_ = self._sample_size(n_samples)
            # Checked on one template before any training, so bad settings fail at once.
            self._check_estimator(self._make_estimator(X.shape[1], 0))
            # None takes fresh entropy rather than numpy's global generator (see skae._random).
            random_state = check_random_state(
                seed_from_random_state(None) if self.random_state is None else self.random_state
            )
            # One seed per member, which also draws its rows, as in scikit-learn's bagging: a
            # member's rows don't depend on how many members come after it.
            seeds = random_state.randint(np.iinfo(np.int32).max, size=self.n_estimators)
            samples = [
                np.sort(sample_without_replacement(n_samples, self.max_samples_, random_state=seed))
                for seed in seeds
            ]
            members = [
                OutlierMember(
                    self._make_estimator(X.shape[1], int(seed)),
                    self._make_scaler(),
                    self.outlier_score,
                    self.code_components,
                    self.trim,
                    int(seed),
                )
                for seed in seeds
            ]
            # The autoencoders train side by side, as one stacked network, when they can.
            fit_members(members, [X[rows] for rows in samples])
            self.members_ = members
            self.members_samples_ = samples
            self.decision_scores_ = self._outlier_score(X)
            self.offset_ = -outlier_threshold(self.decision_scores_, self.contamination)
        return self

    def _check_restored(self) -> None:
        """Refuse restored members that this detector could not have fitted (see skae._state)."""
        members = self.members_
        if not len(members) == len(self.members_samples_) == self.n_estimators:
            raise ValueError(
                f"The detector has {len(members)} members, not n_estimators={self.n_estimators}."
            )
        settings = (self.outlier_score, self.code_components, self.trim)
        for member in members:
            if (
                not isinstance(member, OutlierMember)
                or (member.outlier_score, member.code_components, member.trim) != settings
            ):
                raise ValueError("A member's settings differ from the detector's.")
            if self.outlier_score == "combined" and getattr(member, "code_density_", None) is None:
                raise ValueError("A member lacks the density of the codes that its score needs.")
            if member.estimator_.n_features_in_ != self.n_features_in_:
                raise ValueError("A member takes a different number of features from the detector.")

    @reads_fitted
    def _outlier_score(self, X) -> np.ndarray:
        """Higher is more abnormal: the mean of the autoencoders' scores."""
        return np.mean([member.outlier_scores(X) for member in self.members_], axis=0)

    __sklearn_is_fitted__ = fitted_once("offset_")

    @property
    def threshold_(self) -> float:
        return -self.offset_

    def _validated(self, X):
        check_is_fitted(self)
        return validate_data(self, X, dtype=[np.float64, np.float32], reset=False)

    @blockwise
    def score_samples(self, X):
        """Normality of each row, minus its outlier score: higher is more normal.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Minus the mean over the autoencoders of the combined score, or of
            the reconstruction error with ``outlier_score="reconstruction"``;
            in float64.
        """
        return -self._outlier_score(self._validated(X))

    @reads_fitted
    def reconstruction_error(self, X):
        """The outlier score that PyOD reports: higher is more abnormal.

        The autoencoders' own loss (mean squared error over the scaled
        features by default) between each row and its reconstruction,
        averaged over the autoencoders, whatever ``outlier_score`` is; with one
        autoencoder, a monotone function of PyOD's Euclidean distance, so it
        ranks rows the same way.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        errors : ndarray of shape (n_samples,)
            Reconstruction error of each row.
        """
        X = self._validated(X)
        return np.mean([member.reconstruction_error(X) for member in self.members_], axis=0)

    @blockwise
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

    @blockwise
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
