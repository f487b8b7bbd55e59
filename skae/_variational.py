"""Variational autoencoder (Kingma & Welling 2014), with the beta weight of Higgins et al. 2017."""

from numbers import Real

import numpy as np
import torch

from ._base import BaseAutoEncoder
from ._blockwise import blockwise
from ._docstring import fill_doc
from ._prior_sampling import PriorSamplingMixin
from ._random import make_generator
from ._training import module_device
from ._utils import Interval, layer_sizes
from .nn.generative import VariationalModule
from .nn.losses import VariationalObjective, negative_elbo
from .nn.modules import mlp

_ELBO_DRAWS = 16


@fill_doc
class VariationalAutoEncoder(PriorSamplingMixin, BaseAutoEncoder):
    """Variational autoencoder: a probabilistic encoder and decoder with a Gaussian prior.

    The encoder outputs the mean :math:`\\mu(x)` and log-variance
    :math:`\\log\\sigma^2(x)` of a diagonal Gaussian posterior
    :math:`q(z\\mid x)`; training draws :math:`z = \\mu + \\sigma\\odot\\epsilon`,
    :math:`\\epsilon\\sim\\mathcal N(0, I)` (the reparameterisation trick) and
    minimises the negative evidence lower bound (ELBO), with weight
    :math:`\\beta` on the KL term (beta-VAE):

    .. math:: -\\mathbb{E}_{q(z\\mid x)}\\big[\\log p(x\\mid z)\\big]
              + \\beta\\, \\mathrm{KL}\\big(q(z\\mid x)\\,\\|\\,\\mathcal N(0, I)\\big)

    The decoder :math:`p(x\\mid z)` is Bernoulli for ``loss="bce"`` (data in
    [0, 1], e.g. binarized images) and Gaussian for ``loss="mse"``, with one
    variance for all features set to its maximum-likelihood value, the mean
    squared error (a calibrated decoder, Rybkin et al. 2021), so that the
    reconstruction and KL terms are balanced without a tuned weight. Losses are in nats, summed
    over features.

    :meth:`transform` returns the posterior mean, :meth:`inverse_transform`
    the decoder's mean, :meth:`sample` decodes draws from the prior, and
    :meth:`score_samples` is each row's ELBO (with :math:`\\beta = 1`),
    estimated with the same 16 standard-normal draws of :math:`\\epsilon`
    (seeded with 0) for every row, so that scores are reproducible and do not
    depend on the other rows.

    Read more in the :ref:`User Guide <variational>`.

    Parameters
    ----------
    n_components : int, default=2
        Dimension of the latent space.

    beta : float, default=1.0
        Weight of the KL term in training; 1 is the plain VAE, larger values
        favour disentangled, smoother latents over reconstruction.

    {training_parameters}

    Attributes
    ----------
    {fitted_attributes}

    See Also
    --------
    AdversarialAutoEncoder : Matches the code distribution to a prior with a discriminator.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import VariationalAutoEncoder
    >>> X = load_digits().data / 16.0
    >>> vae = VariationalAutoEncoder(n_components=4, loss="bce", max_epochs=10,
    ...                              random_state=0).fit(X)
    >>> vae.transform(X).shape, vae.sample(5, random_state=0).shape
    ((1797, 4), (5, 64))
    >>> bool(vae.score(X) < 0)  # mean ELBO in nats
    True
    """

    _regularised_code = True  # a wide code is kept informative (see BaseAutoEncoder)
    _parameter_constraints = {
        **BaseAutoEncoder._parameter_constraints,
        "beta": [Interval(Real, 0, None, closed="left")],
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
        beta=1.0,
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
        self.beta = beta

    def _build_module(self, n_features: int) -> torch.nn.Module:
        hidden = list(layer_sizes(self.hidden_layer_sizes))
        bernoulli = self.loss == "bce"
        # A Bernoulli decoder outputs logits: the likelihood is computed from them stably.
        output = "identity" if bernoulli else self._resolved_output_activation()
        return VariationalModule(
            mlp([n_features, *hidden, 2 * self.n_components], self.activation),
            mlp([self.n_components, *reversed(hidden), n_features], self.activation, output),
            self.n_components,
            bernoulli,
            noise=self._build_noise(),
        )

    def _build_objective(self) -> torch.nn.Module:
        return VariationalObjective(self.beta, self._all_penalties())

    def _reconstruction_error(self, X) -> np.ndarray:
        # The same fixed draws for every row keep each row's estimate independent of
        # the other rows and of their order (as scikit-learn requires of score_samples).
        device = module_device(self.net_)
        draws = torch.randn(
            (_ELBO_DRAWS, self.n_components), generator=make_generator(0, device), device=device
        )

        def error(module, xb):
            # Summing in float64 keeps a row's score the same whatever the block size.
            def elbo(eps):
                out = {k: v.double() for k, v in module(xb, eps=eps.to(xb.dtype)).items()}
                return negative_elbo(out, xb.double())

            return torch.stack([elbo(e) for e in draws]).mean(0)

        return self._apply(error, X).astype(np.float64)

    @blockwise
    def score_samples(self, X):
        """Evidence lower bound of each row, in nats (higher is better).

        A 16-draw Monte Carlo estimate of
        :math:`\\mathbb{E}_q[\\log p(x\\mid z)] - \\mathrm{KL}(q(z\\mid x)\\|p(z))`
        with :math:`\\beta=1`, which bounds :math:`\\log p(x)` from below.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to score.

        Returns
        -------
        elbo : ndarray of shape (n_samples,)
        """
        return super().score_samples(X)
