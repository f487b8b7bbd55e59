"""Classifier on a pretrained autoencoder's encoder, semi-supervised."""

from __future__ import annotations

import numpy as np
from scipy.special import log_softmax, softmax
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data

from ._blockwise import blockwise
from ._supervised import BaseEncoderPredictor, fill_predictor_doc

# Label of an unlabelled row (scikit-learn's semi-supervised convention).
UNLABELLED = -1


@fill_predictor_doc
class AutoEncoderClassifier(ClassifierMixin, BaseEncoderPredictor):
    """Classifier on a pretrained autoencoder's encoder (semi-supervised).

    Training has two stages. First the autoencoder ``estimator`` is trained
    to reconstruct *every* row of ``X``, labelled or not. Then a head (a
    small MLP, or a linear layer) is put on its code and, with
    ``passthrough``, on the input's features too, and trained on the
    labelled rows to minimise the L2-penalised cross-entropy; by default the
    encoder stays frozen (``freeze_encoder=False`` fine-tunes it with the
    head). With few labels and many unlabelled rows the pretrained code
    carries what the labels alone cannot teach.

    Unlabelled rows are marked with the label ``-1``, as in
    :class:`sklearn.semi_supervised.SelfTrainingClassifier`; they are used
    for pretraining only and never become a class. (A string array ``y``
    therefore has no unlabelled rows; use an object array to mix string
    labels with ``-1``.)

    Read more in the :ref:`User Guide <semi_supervised>`.

    Parameters
    ----------
    {predictor_parameters}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels seen in ``y``, without the unlabelled marker ``-1``.

    {predictor_attributes}

    See Also
    --------
    AutoEncoderRegressor : The same with a regression head.
    sklearn.semi_supervised.SelfTrainingClassifier : Semi-supervised by pseudo-labels.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoEncoder, AutoEncoderClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X = X / 16.0
    >>> y_partial = np.full_like(y, -1)
    >>> y_partial[:200] = y[:200]            # 200 labelled rows, the rest unlabelled
    >>> clf = AutoEncoderClassifier(
    ...     AutoEncoder(n_components=16, hidden_layer_sizes=(64,), max_epochs=10),
    ...     max_epochs=30, random_state=0,
    ... ).fit(X, y_partial)
    >>> clf.classes_
    array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    >>> clf.predict_proba(X[200:203]).shape
    (3, 10)
    >>> bool(clf.score(X[200:], y[200:]) > 0.7)
    True
    """

    _supervised_loss = "cross_entropy"
    _unlabelled_marker = "label -1"
    _attribute_kinds_ = {"classes_": "labels"}

    def _validate_X_y(self, X, y):
        X, y = validate_data(self, X, y, accept_sparse="csr", dtype=[np.float64, np.float32])
        if y.dtype.kind in "US":
            labelled = np.ones(y.shape[0], dtype=bool)
        else:
            labelled = np.asarray(y != UNLABELLED, dtype=bool)
        check_classification_targets(y[labelled])
        return X, y, labelled

    def _encode_targets(self, y) -> np.ndarray:
        self.classes_ = np.unique(y)
        if self.classes_.shape[0] < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 classes among the labelled rows, but "
                f"y has only one class: {self.classes_[0]!r}."
            )
        return np.searchsorted(self.classes_, y).astype(np.int64)

    def _n_outputs(self) -> int:
        return self.classes_.shape[0]

    @blockwise
    def predict_proba(self, X):
        """Class probabilities (softmax of the head's output).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to classify.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class in ``classes_``, in float64.
        """
        return softmax(self._raw(X).astype(np.float64), axis=1)

    @blockwise
    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to classify.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probability of each class in ``classes_``.
        """
        return log_softmax(self._raw(X).astype(np.float64), axis=1)

    @blockwise
    def predict(self, X):
        """The most probable class of each row.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to classify.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        scores = self._raw(X)  # checks that the model is fitted first
        return self.classes_[np.argmax(scores, axis=1)]
