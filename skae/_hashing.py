"""Semantic hashing: an autoencoder whose code is binary (Salakhutdinov & Hinton 2009)."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from torch import nn

from ._base import BaseAutoEncoder
from ._docstring import fill_doc
from ._utils import Interval
from .neighbors import pack_bits
from .nn.binary import BinaryCode


@fill_doc
class HashingAutoEncoder(BaseAutoEncoder):
    """Autoencoder with a binary code, for semantic hashing (Salakhutdinov & Hinton 2009).

    The code layer is a sigmoid whose input gets Gaussian noise of standard
    deviation ``code_noise`` during training, so the encoder learns to
    saturate it; the trained network then maps each row to ``n_bits`` bits,

    .. math:: b(x) = [\\,a(x) > 0\\,] \\in \\{0, 1\\}^{n_\\text{bits}}, \\qquad
              \\min_{\\theta,\\phi}\\ \\frac{1}{n}\\sum_i
              \\mathbb{E}_{\\epsilon\\sim\\mathcal{N}(0,\\,\\sigma^2 I)}\\,
              \\ell\\big(x_i,\\
              g_\\phi(\\operatorname{sigmoid}(a_\\theta(x_i) + \\epsilon))\\big)

    with :math:`a_\\theta` the encoder's pre-activation, :math:`g_\\phi` the
    decoder and :math:`\\sigma` = ``code_noise``. Similar rows get codes a
    few bits apart, so :class:`HammingIndex` retrieves neighbours by Hamming
    distance over packed codes.

    :meth:`transform` returns the bits as 0.0/1.0 in the dtype of ``X``
    (float64 for integer input), so the estimator composes in pipelines and
    :meth:`inverse_transform` decodes bits; :meth:`transform_packed`
    returns them packed in uint64 words for storage (64 bits per word).
    The validation loss, used for early stopping, is measured through the
    binary code itself; unlike the other autoencoders, a tenth of the rows
    is held out for it by default. Sparse input (e.g. from
    ``TfidfVectorizer``) is densified one batch at a time.

    Read more in the :ref:`User Guide <hashing>`.

    Parameters
    ----------
    n_bits : int, default=32
        Number of bits of the code: the width of the code layer. It plays
        the part of ``n_components`` in the other estimators, and the
        attribute ``n_components`` is an alias of it (not a separate
        parameter).

    code_noise : float, default=1.0
        Standard deviation of the Gaussian noise added before the code's
        sigmoid in training. Larger values force more saturated codes but
        need more epochs (or a larger ``lr``) to get information through;
        ``0`` trains a plain sigmoid code that is thresholded afterwards.

    {training_parameters}

    Attributes
    ----------
    {fitted_attributes}

    See Also
    --------
    HammingIndex : Exact nearest-neighbour search over the codes.
    AutoEncoder : The same with a real-valued code.

    References
    ----------
    R. Salakhutdinov and G. Hinton, "Semantic hashing", International
    Journal of Approximate Reasoning 50(7), 2009.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skae import HashingAutoEncoder
    >>> X = load_digits().data / 16.0
    >>> hasher = HashingAutoEncoder(n_bits=16, max_epochs=10, random_state=0).fit(X)
    >>> bits = hasher.transform(X[:2])
    >>> bits.shape, np.unique(bits)
    ((2, 16), array([0., 1.]))
    >>> hasher.transform_packed(X[:2]).dtype, hasher.transform_packed(X[:2]).shape
    (dtype('uint64'), (2, 1))
    """

    # Rows are held out by default: their loss, measured through the bits, picks
    # the best binary model (the training loss sees the noisy sigmoid instead).
    _regularised_code = True  # noisy binary units keep a wide code informative
    _parameter_constraints = {
        **{k: v for k, v in BaseAutoEncoder._parameter_constraints.items() if k != "n_components"},
        "n_bits": [Interval(Integral, 1, None, closed="left")],
        "code_noise": [Interval(Real, 0, None, closed="left")],
    }
    # n_bits replaces the base's n_components in the signature (positional, like
    # n_components elsewhere: see skae._params._POSITIONAL).

    def __init__(
        self,
        n_bits=32,
        *,
        hidden_layer_sizes=(256, 128),
        activation="relu",
        output_activation=None,
        loss="mse",
        max_epochs=200,
        batch_size="auto",
        lr=1e-3,
        optimizer="adam",
        weight_decay=0.0,
        penalties=None,
        validation_fraction=0.1,
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
        code_noise=1.0,
    ):
        self.n_bits = n_bits
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
        self.code_noise = code_noise

    @property
    def n_components(self) -> int:
        """Alias of ``n_bits``: the code size under the name other estimators use."""
        return self.n_bits

    @n_components.setter
    def n_components(self, value: int) -> None:
        self.n_bits = value

    def _build_module(self, n_features: int) -> nn.Module:
        # The base builds the MLP with a linear code layer; the binary code follows it.
        module = super()._build_module(n_features)
        module.encoder.append(BinaryCode(self.code_noise))
        return module

    def transform_packed(self, X) -> np.ndarray:
        """Encode ``X`` into bits packed in unsigned 64-bit words.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to encode.

        Returns
        -------
        codes : ndarray of shape (n_samples, ceil(n_bits / 64)), dtype uint64
            Bit ``j`` of a code is bit ``j % 64`` of word ``j // 64``, as in
            :func:`pack_bits`.
        """
        return pack_bits(self.transform(X))
