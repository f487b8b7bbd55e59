"""Convolutional autoencoder for images given as flat rows or as 4-D arrays."""

from __future__ import annotations

import math
from numbers import Integral

import numpy as np

from ._base import BaseAutoEncoder
from ._docstring import fill_doc
from ._utils import Interval, all_positive_ints, layer_sizes
from .nn.conv import conv_autoencoder


def _images_shape(X):
    """``(C, H, W)`` when ``X`` is a 4-D array of images, else ``None``."""
    if isinstance(X, (list, tuple)):
        try:
            X = np.asarray(X)
        except ValueError:  # ragged nested lists: validation will say what is wrong
            return None
    shape = getattr(X, "shape", None)
    return tuple(int(v) for v in shape[1:]) if shape is not None and len(shape) == 4 else None


@fill_doc(omit=("hidden_layer_sizes",))  # documented below with its meaning here: channels
class ConvAutoEncoder(BaseAutoEncoder):
    """Convolutional autoencoder for images (Masci et al. 2011).

    Each row is read as an image of shape ``(channels, height, width)``. The
    encoder applies one stride-2 convolution per entry of
    ``hidden_layer_sizes`` (its number of channels), each halving the height
    and width (rounding up) and followed by ``activation``, then maps the
    flattened feature map linearly to the code :math:`z = f(x)`. The decoder
    mirrors it with stride-2 transposed convolutions that restore exactly the
    encoder's intermediate sizes, so any image size comes back unchanged. Both
    are trained to minimise

    .. math:: \\frac{1}{n}\\sum_i \\ell\\big(x_i,\\ g(f(x_i))\\big)

    with :math:`\\ell` the mean squared error (or binary cross-entropy) over
    pixels. Sharing each filter across positions makes the model far smaller
    than a dense autoencoder on the same images and lets it reconstruct local
    structure (edges, textures) better at the same code size.

    ``X`` may be rows of ``channels * height * width`` values (channel-major,
    as ``images.reshape(n, -1)`` gives for a ``(n, C, H, W)`` array) or the
    4-D array itself; ``n_features_in_`` is ``C * H * W`` either way.
    :meth:`transform` accepts both forms; :meth:`inverse_transform` always
    returns flat rows: ``X_hat.reshape(-1, *model.image_shape_)`` gives
    images.

    Read more in the :ref:`User Guide <conv>`.

    Parameters
    ----------
    n_components : int, default=2
        Size of the code.

    image_shape : tuple of int or None, default=None
        ``(channels, height, width)`` of each image, or ``(height, width)``
        for one channel; the product must equal the number of columns of
        ``X``. ``None`` takes the shape of a 4-D ``X``; for 2-D ``X`` with
        ``d`` columns it means a square single-channel image when ``d`` is a
        perfect square, else a ``1 x d`` strip (one row of pixels).

    hidden_layer_sizes : int or array-like of int, default=(32, 64)
        Channels of the encoder's convolutions, from the input inwards; each
        convolution has stride 2. The decoder mirrors them. ``()`` gives a
        single linear map each way (a linear autoencoder on the pixels).

    kernel_size : int, default=3
        Side of the square convolution kernels; odd, so that the "same"
        padding ``kernel_size // 2`` is symmetric.

    {training_parameters}

    Attributes
    ----------
    image_shape_ : list of int
        ``[channels, height, width]`` of the images the model reads and writes.

    {fitted_attributes}

    See Also
    --------
    AutoEncoder : The dense (fully connected) autoencoder.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import ConvAutoEncoder
    >>> X = load_digits().data / 16.0  # 64 columns: 8 x 8 images
    >>> cae = ConvAutoEncoder(n_components=8, hidden_layer_sizes=(8, 16), max_epochs=3,
    ...                       random_state=0).fit(X)
    >>> cae.image_shape_
    [1, 8, 8]
    >>> cae.transform(X.reshape(-1, 1, 8, 8)).shape
    (1797, 8)
    >>> cae.inverse_transform(cae.transform(X[:3])).reshape(-1, *cae.image_shape_).shape
    (3, 1, 8, 8)
    """

    _parameter_constraints = {
        **BaseAutoEncoder._parameter_constraints,
        "image_shape": ["array-like", None],
        "kernel_size": [Interval(Integral, 1, None, closed="left")],
    }
    _attribute_kinds_ = {"image_shape_": "shape"}

    def __init__(
        self,
        n_components=2,
        *,
        hidden_layer_sizes=(32, 64),
        activation="relu",
        output_activation=None,
        loss="mse",
        max_epochs=200,
        batch_size="auto",
        lr=1e-3,
        optimizer="adam",
        weight_decay=0.0,
        penalties=None,
        validation_fraction=None,
        n_iter_no_change=10,
        tol=1e-4,
        lr_schedule="plateau",
        device="auto",
        distributed="auto",
        precision="32",
        compile=False,
        n_jobs=None,
        random_state=None,
        verbose=0,
        callbacks=None,
        image_shape=None,
        kernel_size=3,
    ):
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.output_activation = output_activation
        self.loss = loss
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.penalties = penalties
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.lr_schedule = lr_schedule
        self.device = device
        self.distributed = distributed
        self.precision = precision
        self.compile = compile
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.image_shape = image_shape
        self.kernel_size = kernel_size

    def _check_params(self, X=None) -> None:
        super()._check_params(X)
        if self.kernel_size % 2 == 0:
            raise ValueError(
                f"kernel_size must be odd so that the padding is symmetric, got "
                f"{self.kernel_size}; use e.g. {self.kernel_size + 1}."
            )
        if self.image_shape is not None:
            shape = list(self.image_shape)
            if len(shape) not in (2, 3) or not all_positive_ints(shape):
                raise ValueError(
                    "image_shape must be (channels, height, width) or (height, width) with "
                    f"positive integers, got {self.image_shape!r}."
                )

    def _resolve_image_shape(self, n_features: int, seen) -> list:
        """The ``[C, H, W]`` to use for data with ``n_features`` columns (``seen``: 4-D input's)."""
        if self.image_shape is not None:
            shape = [int(v) for v in self.image_shape]
            shape = [1, *shape] if len(shape) == 2 else shape
            if seen is not None and tuple(shape) != seen:
                raise ValueError(
                    f"X holds images of shape {seen} but image_shape={tuple(self.image_shape)}; "
                    "pass image_shape=None to take the shape of X."
                )
            if math.prod(shape) != n_features:
                raise ValueError(
                    f"image_shape={tuple(self.image_shape)} has {math.prod(shape)} values but X "
                    f"has {n_features} columns; give the (channels, height, width) of the "
                    "images, or image_shape=None."
                )
            return shape
        if seen is not None:
            return list(seen)
        side = math.isqrt(n_features)
        return [1, side, side] if side * side == n_features else [1, 1, n_features]

    def _prepare_input(self, X):
        shape = _images_shape(X)
        if shape is None:
            return X
        # In fit there is no image_shape_ yet (fit starts from no fitted attributes).
        if hasattr(self, "image_shape_") and list(shape) != self.image_shape_:
            raise ValueError(
                f"X holds images of shape {shape}, but {type(self).__name__} was fitted on "
                f"images of shape {tuple(self.image_shape_)}."
            )
        X = np.asarray(X)
        return X.reshape(X.shape[0], -1)

    def fit(self, X, y=None):
        """Train the autoencoder to reconstruct the images ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features) or \
(n_samples, channels, height, width)
            Training images, as flat rows or as a 4-D array.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return super().fit(X, y)

    def _learn_input_layout(self, X, rows) -> None:
        self.image_shape_ = self._resolve_image_shape(rows.shape[1], _images_shape(X))

    def _build_module(self, n_features: int):
        return conv_autoencoder(
            self.image_shape_,
            self.n_components,
            list(layer_sizes(self.hidden_layer_sizes)),
            self.activation,
            self._resolved_output_activation(),
            kernel_size=self.kernel_size,
            code_activation=self._code_activation,
            noise=self._build_noise(),
        )
