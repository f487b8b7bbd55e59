"""Torch modules of the generative autoencoders. Nothing here knows about scikit-learn."""

from __future__ import annotations

import torch
from torch import nn

from .modules import AutoEncoderModule

PRIORS = ("gaussian", "uniform")


def draw_prior(kind: str, n: int, dim: int, generator, device) -> torch.Tensor:
    """``n`` draws of a ``dim``-dimensional prior: standard normal, or uniform on [-1, 1]."""
    shape = (n, dim)
    if kind == "gaussian":
        return torch.randn(shape, generator=generator, device=device)
    return torch.rand(shape, generator=generator, device=device) * 2 - 1


class PriorModule(AutoEncoderModule):
    """An autoencoder module with a prior over its ``n_components``-dimensional code.

    It draws from a local generator, given by :meth:`set_generator`, during
    training; :meth:`sample_prior` draws from the generator it is given.
    """

    def __init__(self, encoder, decoder, n_components: int, prior: str, noise=None):
        super().__init__(encoder, decoder, noise=noise)
        self.n_components = n_components
        self.prior = prior
        self.generator: torch.Generator | None = None

    def set_generator(self, generator: torch.Generator) -> PriorModule:
        self.generator = generator
        return self

    def sample_prior(self, n: int, generator) -> torch.Tensor:
        device = next(self.parameters()).device
        return draw_prior(self.prior, n, self.n_components, generator, device)


class DecoderVariance(nn.Module):
    """The Gaussian decoder's variance, shared by all features, set to its optimum.

    In training the log-variance is that of the batch's mean squared error,
    the maximum-likelihood value (the calibrated decoder of Rybkin et al.
    2021), so the balance of reconstruction and KL needs no tuning; a running
    average of it, kept as a buffer, serves at evaluation, so that a row's
    score does not depend on the other rows.
    """

    def __init__(self, momentum: float = 0.1):
        super().__init__()
        self.momentum = momentum
        self.register_buffer("running_log_var", torch.zeros(()))

    def reset_parameters(self) -> None:
        self.running_log_var.zero_()

    def forward(self, reconstruction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return self.running_log_var
        log_var = torch.log((target - reconstruction).pow(2).mean().clamp_min(1e-6))
        with torch.no_grad():
            self.running_log_var.lerp_(log_var.detach(), self.momentum)
        return log_var


class VariationalModule(PriorModule):
    """Gaussian encoder with the reparameterisation trick, Gaussian or Bernoulli decoder.

    The encoder outputs ``2 * n_components`` values: the posterior mean and
    log-variance. ``forward`` samples the code in training mode (or from the
    ``eps`` it is given) and uses the mean otherwise. A Bernoulli decoder
    outputs logits, turned into probabilities by :meth:`decode`.
    """

    def __init__(self, encoder, decoder, n_components: int, bernoulli: bool, noise=None):
        super().__init__(encoder, decoder, n_components, "gaussian", noise=noise)
        self.bernoulli = bernoulli
        self.decoder_variance = None if bernoulli else DecoderVariance()

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, log_var = self.encoder(x).chunk(2, dim=1)
        return mean, log_var.clamp(-30.0, 20.0)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.posterior(x)[0]

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        out = self.decoder(z)
        return torch.sigmoid(out) if self.bernoulli else out

    def forward(self, x: torch.Tensor, eps: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Encode, draw a code and decode.

        The code is ``mean + exp(log_var / 2) * eps``: with ``eps`` drawn from
        the module's generator in training mode, with the given ``eps``
        (broadcast over rows) when one is passed, and the mean otherwise.
        """
        mean, log_var = self.posterior(self.noise(x))
        if eps is None and self.training:
            eps = torch.randn(mean.shape, generator=self.generator, device=mean.device)
        z = mean if eps is None else mean + torch.exp(0.5 * log_var) * eps
        out = self.decoder(z)
        result = {"code": z, "mean": mean, "log_var": log_var}
        if self.bernoulli:
            result.update(logits=out, reconstruction=torch.sigmoid(out))
        else:
            result.update(reconstruction=out, decoder_log_var=self.decoder_variance(out, x))
        return result


class AdversarialModule(PriorModule):
    """An autoencoder plus a discriminator that tells its codes from prior draws.

    In training mode ``forward`` also returns ``"prior"``: as many prior
    draws as there are rows, drawn from the module's local generator.
    """

    def __init__(self, encoder, decoder, discriminator, n_components: int, prior: str, noise=None):
        super().__init__(encoder, decoder, n_components, prior, noise=noise)
        self.discriminator = discriminator

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        result = super().forward(x)
        if self.training:
            result["prior"] = self.sample_prior(x.shape[0], self.generator)
        return result
