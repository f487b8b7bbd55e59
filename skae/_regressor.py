"""Regressor on a pretrained autoencoder's encoder, semi-supervised."""

from __future__ import annotations

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils import check_array, check_consistent_length
from sklearn.utils.validation import validate_data

from ._blockwise import blockwise
from ._supervised import BaseEncoderPredictor, fill_predictor_doc


@fill_predictor_doc
class AutoEncoderRegressor(RegressorMixin, BaseEncoderPredictor):
    """Regressor on a pretrained autoencoder's encoder (semi-supervised).

    As :class:`AutoEncoderClassifier`, with a regression head trained on
    the squared error. The autoencoder is trained on every row of ``X``;
    encoder and head are then trained on the rows whose target is known.
    Unlabelled rows are marked with ``NaN`` targets (``-1`` is a valid
    value for a regressor): a row whose targets are all ``NaN`` is
    unlabelled. Targets are standardised for training (each output to zero
    mean and unit variance over the labelled rows) and predictions are
    mapped back, so the head trains on the same scale whatever the units.
    ``y`` may have several columns (multi-output regression).

    Read more in the :ref:`User Guide <semi_supervised>`.

    Parameters
    ----------
    {predictor_parameters}

    Attributes
    ----------
    n_outputs_ : int
        Number of targets (columns of ``y``).

    {predictor_attributes}

    See Also
    --------
    AutoEncoderClassifier : The same with a classification head.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoEncoder, AutoEncoderRegressor
    >>> X, digit = load_digits(return_X_y=True)
    >>> X = X / 16.0
    >>> ink = X.mean(axis=1)                 # a target to learn: how much ink
    >>> y = np.where(np.arange(len(X)) < 300, ink, np.nan)  # 300 known, the rest unlabelled
    >>> reg = AutoEncoderRegressor(
    ...     AutoEncoder(n_components=16, hidden_layer_sizes=(64,), max_epochs=10),
    ...     max_epochs=30, random_state=0,
    ... ).fit(X, y)
    >>> reg.predict(X[300:303]).shape
    (3,)
    >>> bool(reg.score(X[300:], ink[300:]) > 0.8)
    True
    """

    _supervised_loss = "squared_error"
    _unlabelled_marker = "NaN targets"
    _attribute_kinds_ = {
        "n_outputs_": "count",
        "_single_output_": "bool",
        "_target_mean_": "array:f",
        "_target_scale_": "array:f",
    }

    def _check_restored(self) -> None:
        super()._check_restored()
        shapes = {self._target_mean_.shape, self._target_scale_.shape}
        if shapes != {(self.n_outputs_,)} or self._single_output_ and self.n_outputs_ != 1:
            raise ValueError(
                f"The target statistics do not have one value per output ({self.n_outputs_})."
            )

    def _validate_X_y(self, X, y):
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        X = validate_data(self, X, accept_sparse="csr", dtype=[np.float64, np.float32])
        # NaN marks an unlabelled row, so y is checked for infinity only.
        y = check_array(
            y, ensure_2d=False, dtype=np.float64, ensure_all_finite="allow-nan", input_name="y"
        )
        check_consistent_length(X, y)
        if y.ndim > 2:
            raise ValueError(f"y must have 1 or 2 dimensions, got shape {y.shape}.")
        rows = y.reshape(y.shape[0], -1)
        missing = np.isnan(rows)
        partial = missing.any(axis=1) & ~missing.all(axis=1)
        if partial.any():
            raise ValueError(
                f"{int(partial.sum())} rows of y have some targets NaN and others not; a row is "
                "either labelled (no NaN) or unlabelled (all NaN)."
            )
        return X, y, ~missing.all(axis=1)

    def _encode_targets(self, y) -> np.ndarray:
        self._single_output_ = y.ndim == 1
        rows = y.reshape(y.shape[0], -1)
        self.n_outputs_ = rows.shape[1]
        self._target_mean_ = rows.mean(axis=0)
        scale = rows.std(axis=0)
        self._target_scale_ = np.where(scale > 0, scale, 1.0)
        return ((rows - self._target_mean_) / self._target_scale_).astype(np.float32)

    def _n_outputs(self) -> int:
        return self.n_outputs_

    @blockwise
    def predict(self, X):
        """Predicted targets.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to predict.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            In float64; one column per target, or a vector when ``y`` was one.
        """
        y = self._raw(X).astype(np.float64) * self._target_scale_ + self._target_mean_
        return y[:, 0] if self._single_output_ else y

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
