"""Denoising autoencoder: reconstruct the clean input from a corrupted one."""

from numbers import Real

from ._base import BaseAutoEncoder
from ._docstring import fill_doc
from ._utils import Interval, StrOptions
from .nn.noise import NOISE_KINDS, InputNoise


@fill_doc
class DenoisingAutoEncoder(BaseAutoEncoder):
    """Autoencoder trained to undo input corruption (Vincent et al. 2008).

    During training each batch is corrupted by ``noise`` before encoding and
    the loss compares the reconstruction with the *clean* batch:

    .. math:: \\min_{\\theta,\\phi}\\ \\mathbb{E}_{\\tilde{x}\\sim q(\\tilde{x}\\mid x)}
              \\ \\ell\\big(x,\\ g_\\phi(f_\\theta(\\tilde{x}))\\big)

    At inference (``transform``, ``inverse_transform``, ``score``) there is
    no corruption, so ``inverse_transform(transform(X_noisy))`` denoises. With
    ``noise_level_end`` the noise level moves linearly from ``noise_level``
    to ``noise_level_end`` over ``max_epochs`` (scheduled denoising, Geras &
    Sutton 2014).

    Read more in the :ref:`User Guide <denoising>`.

    Parameters
    ----------
    n_components : int, default=2
        Size of the code.

    noise : {"gaussian", "masking", "salt_pepper"}, default="gaussian"
        Corruption: additive Gaussian noise of standard deviation
        ``noise_level``; zeroing a fraction ``noise_level`` of the inputs; or
        setting a fraction ``noise_level`` of them to 0 or 1.

    noise_level : float, default=0.2
        Noise standard deviation or corrupted fraction (at the start of training).

    noise_level_end : float or None, default=None
        Noise level reached at the last epoch; ``None`` keeps it constant.

    {training_parameters}

    Attributes
    ----------
    {fitted_attributes}

    See Also
    --------
    AutoEncoder : The same without corruption.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skae import DenoisingAutoEncoder
    >>> X = load_digits().data / 16.0
    >>> dae = DenoisingAutoEncoder(n_components=8, noise_level=0.3, max_epochs=20,
    ...                            random_state=0).fit(X)
    >>> noisy = X + np.random.RandomState(0).normal(scale=0.3, size=X.shape)
    >>> dae.inverse_transform(dae.transform(noisy)).shape
    (1797, 64)
    """

    _regularised_code = True  # a wide code is kept informative (see BaseAutoEncoder)
    _parameter_constraints = {
        **BaseAutoEncoder._parameter_constraints,
        "noise": [StrOptions(set(NOISE_KINDS))],
        "noise_level": [Interval(Real, 0, None, closed="left")],
        "noise_level_end": [Interval(Real, 0, None, closed="left"), None],
    }

    def __init__(
        self,
        n_components=2,
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
        noise="gaussian",
        noise_level=0.2,
        noise_level_end=None,
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
        self.noise = noise
        self.noise_level = noise_level
        self.noise_level_end = noise_level_end

    def _build_noise(self):
        return InputNoise(self.noise, self.noise_level, self.noise_level_end)
