"""Errors raised by skae."""


class TrainingDivergedError(ValueError):
    """The training loss became NaN or infinite.

    ``fit`` raises it at the end of the epoch in which that happened and
    leaves the estimator as it was before ``fit`` (unfitted, or with its
    previous fit). A smaller ``lr`` or scaled input usually cures it.

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


class ModelFileError(ValueError):
    """A saved model could not be loaded: the file is damaged, altered or unsupported.

    :func:`skae.load` raises only this error for a bad file, whatever is wrong
    with it (truncation, corruption, a checksum mismatch, an unknown class,
    parameters that are not plain data, tensors of the wrong name, shape or
    dtype, a newer format version).

    Examples
    --------
    >>> import os, tempfile
    >>> import skae
    >>> path = os.path.join(tempfile.mkdtemp(), "not-a-model.skae")
    >>> _ = open(path, "wb").write(b"hello")
    >>> try:
    ...     skae.load(path)
    ... except skae.ModelFileError as exc:
    ...     print("refused")
    refused
    """


def check_weights(weights: dict, expected: dict, owner: str) -> None:
    """Raise :class:`ModelFileError` unless ``weights`` match ``expected`` exactly.

    ``expected`` maps tensor names to ``(shape, torch dtype)``.
    """
    missing = sorted(set(expected) - set(weights))
    unexpected = sorted(set(weights) - set(expected))
    if missing or unexpected:
        raise ModelFileError(
            f"The weights do not fit {owner}: missing {missing}, unexpected {unexpected}."
        )
    for name, (shape, _) in expected.items():
        array = weights[name]
        if tuple(getattr(array, "shape", ())) != shape:
            raise ModelFileError(
                f"Tensor {name!r} has shape {tuple(getattr(array, 'shape', ()))}, "
                f"but {owner} needs {shape}."
            )
        if str(getattr(array, "dtype", "")) != "float32":
            raise ModelFileError(
                f"Tensor {name!r} has dtype {getattr(array, 'dtype', None)}; skae stores float32."
            )
