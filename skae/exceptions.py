"""Errors raised by skae."""


class TrainingDivergedError(ValueError):
    """The training loss became NaN or infinite.

    ``fit`` raises it at the end of the epoch in which that happened and
    leaves the estimator unfitted. A smaller ``lr`` or scaled input usually
    cures it.

    Examples
    --------
    >>> import numpy as np
    >>> from skae import AutoEncoder
    >>> from skae.exceptions import TrainingDivergedError
    >>> X = np.random.RandomState(0).normal(size=(50, 4)) * 1e20
    >>> try:
    ...     AutoEncoder(max_epochs=2, lr=1e6, random_state=0).fit(X)
    ... except TrainingDivergedError as exc:
    ...     print("diverged")
    diverged
    """
