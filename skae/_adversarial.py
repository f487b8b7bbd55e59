"""Adversarial autoencoder (Makhzani et al. 2015): a discriminator shapes the code distribution."""

from numbers import Real

import torch

from ._base import BaseAutoEncoder
from ._docstring import fill_doc
from ._prior_sampling import PriorSamplingMixin
from ._utils import LAYER_SIZES, Interval, StrOptions, check_layer_sizes, layer_sizes
from .nn.generative import PRIORS, AdversarialModule
from .nn.losses import adversarial_losses
from .nn.modules import mlp


class _AdversarialTerm:
    """``weight * (discriminator loss + encoder loss)``, only where prior draws are given."""

    def __init__(self, weight: float):
        self.weight = weight

    def __call__(self, output, target, module):
        if "prior" not in output:  # evaluation: the validation loss is the reconstruction's
            return output["reconstruction"].new_zeros(())
        d_loss, g_loss = adversarial_losses(output["code"], output["prior"], module.discriminator)
        return self.weight * (d_loss + g_loss)


@fill_doc
class AdversarialAutoEncoder(PriorSamplingMixin, BaseAutoEncoder):
    """Autoencoder whose codes are matched to a prior by a discriminator.

    Besides the encoder :math:`f` and decoder :math:`g`, a discriminator
    :math:`D` learns to tell codes :math:`f(x)` from draws :math:`z\\sim p(z)`
    of the prior, and the encoder learns to fool it, so that the aggregated
    posterior of the codes approaches :math:`p(z)`:

    .. math:: \\min_{f,g}\\ \\ell(x, g(f(x)))
              - \\lambda\\,\\log D(f(x)), \\qquad
              \\min_D\\ -\\lambda\\big[\\log D(z) + \\log(1 - D(f(x)))\\big]

    Both players take a step on every batch (one backward pass, one Adam
    step; each loss reaches only its own player's weights). Decoding prior
    draws with :meth:`sample` then generates data. The validation loss
    used for early stopping is the reconstruction loss.

    Read more in the :ref:`User Guide <adversarial>`.

    Parameters
    ----------
    n_components : int, default=2
        Size of the code.

    prior : {"gaussian", "uniform"}, default="gaussian"
        The target code distribution: standard normal, or uniform on [-1, 1].

    adversarial_weight : float, default=0.01
        Weight :math:`\\lambda` of the adversarial losses against the
        reconstruction. Too large a weight lets the game destabilise (the codes
        collapse instead of spreading over the prior); lower it if the codes'
        spread on held-out data is far from the prior's.

    discriminator_hidden_layer_sizes : int or array-like of int, default=(64, 64)
        Hidden widths of the discriminator.

    {training_parameters}

    Attributes
    ----------
    {fitted_attributes}

    See Also
    --------
    VariationalAutoEncoder : Matches each posterior to the prior with a KL term.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import AdversarialAutoEncoder
    >>> X = load_digits().data / 16.0
    >>> aae = AdversarialAutoEncoder(n_components=2, max_epochs=10, random_state=0).fit(X)
    >>> aae.transform(X).shape, aae.sample(4, random_state=0).shape
    ((1797, 2), (4, 64))
    """

    _regularised_code = True  # a wide code is kept informative (see BaseAutoEncoder)
    _parameter_constraints = {
        **BaseAutoEncoder._parameter_constraints,
        "prior": [StrOptions(set(PRIORS))],
        "adversarial_weight": [Interval(Real, 0, None, closed="left")],
        "discriminator_hidden_layer_sizes": LAYER_SIZES,
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
        prior="gaussian",
        adversarial_weight=0.01,
        discriminator_hidden_layer_sizes=(64, 64),
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
        self.prior = prior
        self.adversarial_weight = adversarial_weight
        self.discriminator_hidden_layer_sizes = discriminator_hidden_layer_sizes

    def _build_module(self, n_features: int) -> torch.nn.Module:
        base = super()._build_module(n_features)
        sizes = [self.n_components, *layer_sizes(self.discriminator_hidden_layer_sizes), 1]
        return AdversarialModule(
            base.encoder,
            base.decoder,
            mlp(sizes, "leaky_relu"),
            self.n_components,
            self.prior,
            noise=base.noise,
        )

    def _penalties(self) -> list:
        return [_AdversarialTerm(self.adversarial_weight)]

    def _check_params(self, X=None) -> None:
        super()._check_params(X)
        check_layer_sizes("discriminator_hidden_layer_sizes", self.discriminator_hidden_layer_sizes)
