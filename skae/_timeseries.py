"""Anomaly scores for every timestamp of a long series, from an autoencoder on its windows."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from ._detection import outlier_threshold, seeded_clone
from ._sequence import SequenceAutoEncoder
from ._utils import HasMethods, Interval, StrOptions, fitted_once, fresh_fit

# The window that "auto" falls back to when the series shows no period.
_DEFAULT_WINDOW = 32
# The fewest windows a fit trains on.
_MIN_WINDOWS = 2
# Epochs of the default autoencoder (tests shorten it to run scikit-learn's checks).
_DEFAULT_MAX_EPOCHS = 50


def default_sequence_autoencoder(random_state=None) -> SequenceAutoEncoder:
    """The autoencoder :class:`TimeSeriesOutlierDetector` trains on windows by default.

    The temporal-convolution encoder-decoder of ``SequenceAutoEncoder``'s
    defaults with a code of 8 values, trained with Adam at a learning rate
    of 3e-3 for at most 50 epochs, early-stopped on a held-out tenth of the
    windows.

    Parameters
    ----------
    random_state : int, RandomState instance or None, default=None
        Seed of the autoencoder.

    Returns
    -------
    autoencoder : SequenceAutoEncoder
        An unfitted autoencoder.

    Examples
    --------
    >>> from skae._timeseries import default_sequence_autoencoder
    >>> default_sequence_autoencoder().n_components
    8
    """
    return SequenceAutoEncoder(
        n_components=8,
        max_epochs=_DEFAULT_MAX_EPOCHS,
        lr=3e-3,
        validation_fraction=0.1,
        random_state=random_state,
    )


def period_window(series: np.ndarray, max_lag: int) -> int | None:
    """The lag of the autocorrelation's highest peak in ``[4, max_lag]``, or ``None``.

    A peak is a lag whose autocorrelation (of the mean over channels of the
    standardised series) exceeds both neighbours and 0.2; the highest is the
    dominant period.

    Examples
    --------
    >>> import numpy as np
    >>> from skae._timeseries import period_window
    >>> period_window(np.sin(np.arange(1000) * 2 * np.pi / 50)[:, None], 200)
    50
    """
    x = series.mean(axis=1)
    x = x - x.mean()
    if max_lag < 5 or not np.any(x):
        return None
    n = len(x)
    spectrum = np.fft.rfft(x, 2 * n)
    acf = np.fft.irfft(spectrum * np.conj(spectrum))[: max_lag + 2]
    acf = acf / acf[0]
    lags = np.arange(4, max_lag + 1)
    peaks = lags[(acf[lags] > acf[lags - 1]) & (acf[lags] >= acf[lags + 1]) & (acf[lags] > 0.2)]
    return int(peaks[np.argmax(acf[peaks])]) if len(peaks) else None


def timestamp_scores(window_scores, starts, size: int, n: int, aggregation="mean"):
    """Each of ``n`` timestamps' score: the mean or max of the windows that cover it.

    Window ``i`` covers the ``size`` timestamps from ``starts[i]``; every
    timestamp must be covered by at least one window.

    Examples
    --------
    >>> import numpy as np
    >>> from skae._timeseries import timestamp_scores
    >>> timestamp_scores(np.array([1.0, 3.0]), np.array([0, 1]), 2, 3)
    array([1., 2., 3.])
    """
    covered = (np.asarray(starts)[:, np.newaxis] + np.arange(size)).ravel()
    values = np.repeat(np.asarray(window_scores, dtype=np.float64), size)
    if aggregation == "max":
        scores = np.full(n, -np.inf)
        np.maximum.at(scores, covered, values)
        return scores
    return np.bincount(covered, weights=values, minlength=n) / np.bincount(covered, minlength=n)


class TimeSeriesOutlierDetector(OutlierMixin, BaseEstimator):
    """Anomaly detection in one long series: an autoencoder on its sliding windows.

    The series is standardised per channel, cut into windows of
    ``window_size`` timestamps every ``stride`` steps (and one more window
    that ends at the last timestamp, so that every timestamp is covered), and
    an autoencoder learns to reconstruct the windows of the training series.
    A window's outlier score is its reconstruction error; a timestamp's is
    the ``score_aggregation`` (mean or max) of the scores of the windows that
    cover it. As in scikit-learn's outlier detectors, :meth:`score_samples`
    is higher for more normal timestamps, :meth:`decision_function` is
    negative for outliers and :meth:`predict` gives -1 for them; here each
    "sample" is a timestamp of the series.

    Read more in the :ref:`User Guide <sequences>`.

    Parameters
    ----------
    estimator : estimator or None, default=None
        The autoencoder of the windows, cloned in :meth:`fit`: any estimator
        with ``fit`` and a ``score_samples`` that is higher for normal windows
        and takes aeon's ``(n_windows, n_channels, window_size)`` layout.
        ``None`` is a temporal-convolution :class:`~skae.SequenceAutoEncoder` with a code
        of 8 values, at most 50 epochs (see ``default_sequence_autoencoder``).

    window_size : int or "auto", default="auto"
        Timestamps per window. ``"auto"`` takes the dominant period of the
        training series, the highest peak of its autocorrelation between lags
        4 and a quarter of its length (capped at 256), or 32 when it shows no
        period; ``window_size_`` holds the choice.

    stride : int, default=1
        Steps between the starts of consecutive windows. Larger strides train
        and score faster, on fewer windows.

    score_aggregation : {"mean", "max"}, default="mean"
        How a timestamp's score combines the scores of the windows that cover
        it: ``"max"`` marks every timestamp of an abnormal window, ``"mean"``
        localises the anomaly better.

    contamination : "auto" or float, default="auto"
        Expected fraction of outlying timestamps, which sets the threshold
        (``offset_``) on the training timestamps' scores; ``"auto"`` flags
        those above the upper fence of a boxplot, ``Q3 + 1.5 (Q3 - Q1)``.

    random_state : int, RandomState instance or None, default=None
        Replaces every ``random_state`` of ``estimator``.

    Attributes
    ----------
    estimator_ : estimator
        The fitted autoencoder of the windows.
    window_size_ : int
        The window size used.
    mean_, scale_ : ndarray of shape (n_channels,)
        The standardisation of each channel, from the training series.
    offset_ : float
        ``decision_function = score_samples - offset_``.
    n_features_in_ : int
        Number of channels seen during ``fit``.

    See Also
    --------
    AutoEncoderOutlierDetector : Outliers among independent rows.
    SequenceAutoEncoder : The default autoencoder of the windows.

    Examples
    --------
    >>> import numpy as np
    >>> from skae import SequenceAutoEncoder, TimeSeriesOutlierDetector
    >>> t = np.arange(600)
    >>> train = np.sin(2 * np.pi * t / 20)
    >>> test = train.copy()
    >>> test[300:310] += 1.5  # a bump
    >>> detector = TimeSeriesOutlierDetector(
    ...     SequenceAutoEncoder(n_components=4, hidden_layer_sizes=(16,), max_epochs=10),
    ...     stride=2, random_state=0,
    ... ).fit(train)
    >>> detector.window_size_
    20
    >>> scores = detector.score_samples(test)
    >>> scores.shape
    (600,)
    >>> 280 <= int(np.argmin(scores)) < 330
    True
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "score_samples"]), None],
        "window_size": [StrOptions({"auto"}), Interval(Integral, 2, None, closed="left")],
        "stride": [Interval(Integral, 1, None, closed="left")],
        "score_aggregation": [StrOptions({"mean", "max"})],
        "contamination": [StrOptions({"auto"}), Interval(Real, 0, 0.5, closed="right")],
        "random_state": ["random_state"],
    }

    _attribute_kinds_ = {
        "n_features_in_": "count",
        "feature_names_in_": "names?",
        "estimator_": "part",
        "window_size_": "count",
        "mean_": "array:f",
        "scale_": "array:f",
        "offset_": "float",
    }

    def __init__(
        self,
        estimator=None,
        *,
        window_size="auto",
        stride=1,
        score_aggregation="mean",
        contamination="auto",
        random_state=None,
    ):
        self.estimator = estimator
        self.window_size = window_size
        self.stride = stride
        self.score_aggregation = score_aggregation
        self.contamination = contamination
        self.random_state = random_state

    def _series(self, X, reset: bool) -> np.ndarray:
        """``X`` as a validated ``(n_timestamps, n_channels)`` array (1-D: one channel)."""
        ndim = getattr(X, "ndim", None)
        if ndim is None:  # a list
            X = np.asarray(X)
            ndim = X.ndim
        if ndim == 1:
            X = np.asarray(X).reshape(-1, 1)
        return validate_data(self, X, dtype=[np.float64, np.float32], reset=reset)

    def _window_size(self, series: np.ndarray) -> int:
        n = len(series)
        if self.window_size != "auto":
            size = self.window_size
        else:
            size = period_window(series, min(256, n // 4)) or min(_DEFAULT_WINDOW, n // 2)
        if n - size + 1 < _MIN_WINDOWS:
            raise ValueError(
                f"The series has n_samples = {n} timestamps, too few for windows of "
                f"{size}: fitting needs at least {_MIN_WINDOWS} windows. Give a longer series "
                "or a smaller window_size."
            )
        return size

    def _starts(self, n: int) -> np.ndarray:
        starts = np.arange(0, n - self.window_size_ + 1, self.stride)
        if starts[-1] != n - self.window_size_:  # a last window ending at the last timestamp
            starts = np.append(starts, n - self.window_size_)
        return starts

    def _windows(self, series: np.ndarray):
        """The standardised windows, ``(n_windows, n_channels, window_size)``, and their starts."""
        scaled = (series - self.mean_) / self.scale_
        view = np.lib.stride_tricks.sliding_window_view(scaled, self.window_size_, axis=0)
        starts = self._starts(len(series))
        return np.ascontiguousarray(view[starts]), starts

    def fit(self, X, y=None):
        """Train the autoencoder on the windows of the series ``X`` and set the threshold.

        Parameters
        ----------
        X : array-like of shape (n_timestamps,) or (n_timestamps, n_channels)
            The training series, mostly normal.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : object
            The fitted detector.
        """
        with fresh_fit(self):
            self._validate_params()
            series = self._series(X, reset=True)
            if len(series) < 2:
                raise ValueError(
                    f"The series has n_samples = {len(series)} timestamp; windows need at least 2."
                )
            self.window_size_ = self._window_size(series)
            self.mean_ = series.mean(axis=0).astype(np.float64)
            scale = series.std(axis=0).astype(np.float64)
            self.scale_ = np.where(scale > 0, scale, 1.0)
            windows, starts = self._windows(series)
            self.estimator_ = self._make_estimator().fit(windows)
            scores = self._scores_of(windows, starts, len(series))
            self.offset_ = -outlier_threshold(scores, self.contamination)
        return self

    def _check_restored(self) -> None:
        """Refuse a standardisation that does not fit the series it reads (see skae._state)."""
        shape = (self.n_features_in_,)
        if self.mean_.shape != shape or self.scale_.shape != shape:
            raise ValueError("The mean and scale do not have one value per channel.")
        if not (np.isfinite(self.mean_).all() and (self.scale_ > 0).all()):
            raise ValueError("The scale of each channel must be positive, and the means finite.")
        if self.window_size_ < 1:
            raise ValueError(f"window_size_={self.window_size_} is not a window.")

    def _make_estimator(self):
        if self.estimator is None:
            return default_sequence_autoencoder(self.random_state)
        return seeded_clone(self.estimator, self.random_state)

    def _scores_of(self, windows, starts, n: int) -> np.ndarray:
        """Outlier score of each of ``n`` timestamps (higher is more abnormal), in float64."""
        window_scores = -np.asarray(self.estimator_.score_samples(windows), dtype=np.float64)
        return timestamp_scores(window_scores, starts, self.window_size_, n, self.score_aggregation)

    __sklearn_is_fitted__ = fitted_once("offset_")

    def _validated(self, X) -> np.ndarray:
        check_is_fitted(self)
        series = self._series(X, reset=False)
        if len(series) < self.window_size_:
            raise ValueError(
                f"The series has {len(series)} timestamps, fewer than one window of "
                f"window_size_={self.window_size_}."
            )
        return series

    def score_samples(self, X):
        """Normality of each timestamp, minus its outlier score: higher is more normal.

        Parameters
        ----------
        X : array-like of shape (n_timestamps,) or (n_timestamps, n_channels)
            The series to score, at least ``window_size_`` long.

        Returns
        -------
        scores : ndarray of shape (n_timestamps,)
            Minus the aggregated reconstruction error of the windows covering
            each timestamp, in float64.
        """
        series = self._validated(X)
        return -self._scores_of(*self._windows(series), len(series))

    def decision_function(self, X):
        """Shifted score of each timestamp: negative for outliers.

        Parameters
        ----------
        X : array-like of shape (n_timestamps,) or (n_timestamps, n_channels)
            The series.

        Returns
        -------
        decision : ndarray of shape (n_timestamps,)
            ``score_samples(X) - offset_``.
        """
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """Label each timestamp as an inlier (+1) or an outlier (-1).

        Parameters
        ----------
        X : array-like of shape (n_timestamps,) or (n_timestamps, n_channels)
            The series.

        Returns
        -------
        labels : ndarray of shape (n_timestamps,)
            -1 where :meth:`decision_function` is negative, +1 elsewhere.
        """
        return np.where(self.decision_function(X) < 0, -1, 1)
