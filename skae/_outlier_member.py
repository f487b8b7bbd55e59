"""One autoencoder of :class:`~skae.AutoEncoderOutlierDetector` and the statistics of its score."""

from __future__ import annotations

import warnings

import numpy as np
import torch
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from ._base import BaseAutoEncoder, fit_all
from ._utils import all_positive_ints


class OutlierMember:
    """Scaler, autoencoder and score statistics, fitted on one sample of rows.

    :class:`~skae.AutoEncoderOutlierDetector` fits ``n_estimators`` of these,
    each on its own subsample, and averages their outlier scores; its
    docstring describes the score. Not an estimator: the detector validates
    the parameters and the data, and hands this class unfitted templates.

    Parameters
    ----------
    estimator : estimator
        Unfitted autoencoder; cloned for each fit.
    scaler : transformer or None
        Unfitted scaler; cloned for each fit.
    outlier_score : {"combined", "reconstruction"}
        The score, as in the detector.
    code_components : int
        Gaussian components of the density of the codes.
    trim : float
        Fraction of the rows with the highest scores left out of a second fit.
    random_state : int
        Seed of the mixture of the codes.

    Attributes
    ----------
    estimator_ : estimator
        The fitted autoencoder.
    scaler_ : transformer or None
        The fitted scaler.
    residual_scale_ : ndarray of shape (n_features,)
        Root mean squared residual of each scaled feature on the rows of the
        final fit (floored at 1 % of their mean); only with
        ``outlier_score="combined"``, as are the next three.
    code_scaler_ : StandardScaler
        Standardisation of the codes of the rows of the final fit.
    code_density_ : GaussianMixture
        The mixture of Gaussians fitted to those standardised codes.
    code_offset_ : float
        The constant subtracted from :math:`-\\frac{2}{k}\\log p(z)` so that
        the code term averages 1 over those rows.

    Examples
    --------
    >>> import numpy as np
    >>> from skae import AutoEncoder
    >>> from skae._outlier_member import OutlierMember
    >>> X = np.random.RandomState(0).normal(size=(100, 4))
    >>> member = OutlierMember(AutoEncoder(2, max_epochs=5, random_state=0), None,
    ...                        "combined", 1, 0.1, 0).fit(X)
    >>> member.outlier_scores(X).shape
    (100,)
    """

    # Saved by skae.save (see skae._state); the last four only with outlier_score="combined".
    _attribute_kinds_ = {
        "estimator_": "part",
        "scaler_": "part?",
        "residual_scale_": "array:f?",
        "code_scaler_": "part?",
        "code_density_": "part?",
        "code_offset_": "float?",
    }

    def __init__(self, estimator, scaler, outlier_score, code_components, trim, random_state):
        self.estimator = estimator
        self.scaler = scaler
        self.outlier_score = outlier_score
        self.code_components = code_components
        self.trim = trim
        self.random_state = random_state

    def __repr__(self) -> str:
        fitted = "fitted" if hasattr(self, "estimator_") else "unfitted"
        return f"OutlierMember({self.estimator!r}, {self.outlier_score!r}, {fitted})"

    def _check_restored(self) -> None:
        """Refuse restored parts that do not fit together (see skae._state)."""
        n_features = self.estimator_.n_features_in_
        if self.scaler_ is not None and self.scaler_.n_features_in_ != n_features:
            raise ValueError("The scaler and the autoencoder take different numbers of features.")
        if self.outlier_score == "combined":
            n_code = self.estimator_._n_features_out
            if self.residual_scale_.shape != (n_features,) or {
                self.code_scaler_.n_features_in_,
                self.code_density_.n_features_in_,
            } != {n_code}:
                raise ValueError(
                    "The statistics of the score do not fit the autoencoder's features and code."
                )

    def fit(self, X):
        """Fit on ``X``; with ``trim``, fit again without its highest-scoring rows.

        The first of the two fits, which only ranks the rows, trains a skae
        autoencoder for half of its ``max_epochs`` (see :func:`fit_members`).

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            The sample of training rows.

        Returns
        -------
        self : OutlierMember
            The fitted member.
        """
        fit_members([self], [X])
        return self

    def _scaled_rows(self, X):
        """``X`` scaled by a new scaler fitted on it, which is kept as ``scaler_``."""
        scaler = None if self.scaler is None else clone(self.scaler)
        Xs = X if scaler is None else scaler.fit_transform(X)
        if isinstance(scaler, MinMaxScaler):
            # Rounding can leave training values a hair outside the range (bce refuses them).
            Xs = np.clip(Xs, *scaler.feature_range)
        self.scaler_ = scaler
        return Xs

    def _fit_statistics(self, estimator, Xs, code_components) -> np.ndarray:
        """Keep ``estimator``, fitted on ``Xs``, fit the score's statistics; the rows' scores."""
        self.estimator_ = estimator
        if self.outlier_score == "reconstruction":
            return self._score_scaled(Xs)
        # One pass through the autoencoder serves both the statistics and the scores.
        codes, residuals = _codes_and_residuals(self.estimator_, Xs)
        code_scores = self._fit_code_density(codes, residuals, code_components)
        return _off_surface(residuals, self.residual_scale_) + code_scores

    def _fit_code_density(self, codes, residuals, code_components) -> np.ndarray:
        """Fit the residual scale and the density of the codes; return the training code terms."""
        scale = np.sqrt(np.mean(residuals**2, axis=0))
        # A feature reconstructed (almost) exactly must not turn tiny deviations into huge scores.
        self.residual_scale_ = np.maximum(scale, max(1e-2 * float(scale.mean()), 1e-12))
        # Standardised codes make the mixture's covariance floor (reg_covar) relative to their
        # spread.
        self.code_scaler_ = StandardScaler().fit(codes)
        n_components = min(code_components, len(codes))
        density = GaussianMixture(
            n_components=n_components,
            covariance_type="full",
            reg_covar=1e-4,
            # One Gaussian is the same from any start: it needs no k-means to begin from.
            init_params="kmeans" if n_components > 1 else "random_from_data",
            random_state=self.random_state,
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

    def _code_surprise(self, codes) -> np.ndarray:
        """-2/k log p(z): the Mahalanobis distance over k, plus a constant, for one Gaussian."""
        log_density = self.code_density_.score_samples(self.code_scaler_.transform(codes))
        return -2.0 / codes.shape[1] * log_density

    def _score_scaled(self, Xs) -> np.ndarray:
        if self.outlier_score == "reconstruction":
            return -np.asarray(self.estimator_.score_samples(Xs), dtype=np.float64)
        codes, off_surface = _codes_and_residuals(self.estimator_, Xs, self.residual_scale_)
        return off_surface + self._code_surprise(codes) - self.code_offset_

    def _scaled(self, X):
        return X if self.scaler_ is None else self.scaler_.transform(X)

    def outlier_scores(self, X) -> np.ndarray:
        """Outlier score of each unscaled row (higher is more abnormal), in float64."""
        return self._score_scaled(self._scaled(X))

    def reconstruction_error(self, X) -> np.ndarray:
        """The autoencoder's own error on each unscaled row (higher is more abnormal)."""
        return -np.asarray(self.estimator_.score_samples(self._scaled(X)), dtype=np.float64)


def _codes_and_residuals(estimator, X, scale=None):
    """The codes of ``X`` and its residuals ``X - inverse_transform(codes)``, in float64.

    The codes are cast to float64 before they are decoded. With ``scale``,
    the residuals come as each row's mean squared residual in units of
    ``scale`` instead. For float64 input, an autoencoder of skae that encodes
    and decodes as the base class does runs it all block by block in one
    pass through its network, keeping no reconstruction, with the numbers of
    the two calls.
    """
    if (
        X.dtype == np.float64
        and isinstance(estimator, BaseAutoEncoder)
        and all(
            getattr(type(estimator), name) is getattr(BaseAutoEncoder, name)
            for name in ("transform", "inverse_transform")
        )
    ):
        X = estimator._validate_X(X)

        def codes_and_residuals(module, xb):
            code = module.encode(xb)
            residual = xb.flatten(1) - module.decode(code).flatten(1)
            if scale is not None:
                divisor = torch.as_tensor(scale, dtype=residual.dtype, device=residual.device)
                residual = (residual / divisor).square().mean(dim=1, keepdim=True)
            return torch.cat([code.flatten(1), residual], dim=1)

        out = estimator._apply(codes_and_residuals, X)
        n_codes = out.shape[1] - (X.shape[1] if scale is None else 1)
        codes, residuals = out[:, :n_codes], out[:, n_codes:]
        return codes, (residuals if scale is None else residuals[:, 0])
    codes = np.asarray(estimator.transform(X), dtype=np.float64)
    residuals = X - np.asarray(estimator.inverse_transform(codes), dtype=np.float64)
    if scale is not None:
        residuals = _off_surface(residuals, scale)
    return codes, residuals


def _off_surface(residuals, scale) -> np.ndarray:
    """Each row's mean squared residual in units of ``scale``."""
    return np.mean((residuals / scale) ** 2, axis=1)


def fit_members(members, samples) -> None:
    """Fit each of ``members`` on its rows, training their autoencoders side by side.

    Each member scales its rows and its autoencoder is fitted on them; the
    autoencoders train together (see :func:`skae._base.fit_all`) when they
    can. With ``trim``, that first fit trains for :func:`screening_epochs`
    (skae's autoencoders; other estimators fit as they are); each member then
    leaves out its rows with the highest scores and all fit again, from
    scratch, on the rest.
    """
    trim, code_components = members[0].trim, members[0].code_components
    if trim == 0:
        _fit_stage(members, samples, code_components)
        return
    # The first fit only ranks the rows: one Gaussian for the codes (see code_components in the
    # detector) and half the epochs (see screening_epochs).
    scores = _fit_stage(members, samples, 1, screening=True)
    kept = [X[_lowest(s, trim)] for X, s in zip(samples, scores)]
    _fit_stage(members, kept, code_components)


def screening_epochs(max_epochs: int) -> int:
    """Epochs of the first fit of a trim, which only ranks the rows: half of ``max_epochs``.

    Rounded up. Chosen on the development sets with ``max_epochs=50``: it
    ranks the rows about as well as a full fit, for three quarters of the
    training time (docs/outliers.md).

    Examples
    --------
    >>> from skae._outlier_member import screening_epochs
    >>> screening_epochs(50), screening_epochs(5), screening_epochs(1)
    (25, 3, 1)
    """
    return -(-max_epochs // 2)


def _lowest(scores: np.ndarray, trim: float) -> np.ndarray:
    """The rows of ``scores`` at or below its ``1 - trim`` quantile, by position.

    As many as ``scores <= np.quantile(scores, 1 - trim)`` holds when no two
    scores tie; always as many for samples of one size, so that members train
    on equally many rows.
    """
    n_kept = int(np.floor((1.0 - trim) * (len(scores) - 1))) + 1
    return np.sort(np.argsort(scores, kind="stable")[:n_kept])


def _fit_stage(members, samples, code_components, screening=False) -> list:
    scaled = [member._scaled_rows(X) for member, X in zip(members, samples)]
    estimators = [clone(member.estimator) for member in members]
    if screening:
        for estimator in estimators:
            # Only skae's autoencoders, whose max_epochs is known to count epochs; others (a
            # Pipeline, a user's own estimator) fit as they are. An invalid max_epochs is left
            # for the autoencoder's own validation to report as the user gave it.
            epochs = getattr(estimator, "max_epochs", None)
            if isinstance(estimator, BaseAutoEncoder) and all_positive_ints([epochs]):
                estimator.set_params(max_epochs=screening_epochs(epochs))
    fit_all(estimators, scaled)
    return [
        member._fit_statistics(estimator, Xs, code_components)
        for member, estimator, Xs in zip(members, estimators, scaled)
    ]
