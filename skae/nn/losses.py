"""Loss terms as pure functions of tensors, and the objective that sums them.

Every reconstruction loss returns one value per sample (the mean over
features), so the same function serves training (its mean) and
``score_samples`` (its rows).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from .penalties import gaussian_kl


def squared_error(reconstruction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Squared error of each value."""
    return (reconstruction - target).pow(2)


def binary_cross_entropy(reconstruction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of each value; ``reconstruction`` holds probabilities.

    Targets are clipped to [0, 1]: training data is checked to lie there, but
    data scored later (a test fold scaled by the training fold) may not.
    """
    return F.binary_cross_entropy(reconstruction, target.clamp(0, 1), reduction="none")


# Each reconstruction loss, value by value (a masked loss averages its own values).
RECONSTRUCTION_ERRORS = {"mse": squared_error, "bce": binary_cross_entropy}


class _SquaredErrorSums(torch.autograd.Function):
    # The backward pass is one product with the saved differences, where autograd's for
    # (r - t).pow(2) takes three passes over the values: they bound small networks on the CPU.
    @staticmethod
    def forward(ctx, reconstruction, target):
        diff = reconstruction - target
        ctx.save_for_backward(diff)
        return (diff * diff).sum(dim=[0, *range(2, diff.ndim)])

    @staticmethod
    def backward(ctx, grad):
        (diff,) = ctx.saved_tensors
        return diff * (2 * grad).view(1, -1, *[1] * (diff.ndim - 2)), None


def squared_error_sums(reconstruction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Sum of the squared errors along every dimension but the second.

    For ``(rows, members, features)`` batches of networks trained side by
    side (:mod:`skae.nn.members`): one sum per member. Only ``reconstruction``
    gets a gradient.

    Examples
    --------
    >>> import torch
    >>> squared_error_sums(torch.ones(2, 3, 4), torch.zeros(2, 3, 4))
    tensor([8., 8., 8.])
    """
    return _SquaredErrorSums.apply(reconstruction, target)


def mse_per_sample(reconstruction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error of each row."""
    return squared_error(reconstruction, target).flatten(1).mean(dim=1)


def bce_per_sample(reconstruction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of each row (see :func:`binary_cross_entropy`)."""
    return binary_cross_entropy(reconstruction, target).flatten(1).mean(dim=1)


RECONSTRUCTION_LOSSES = {"mse": mse_per_sample, "bce": bce_per_sample}


class Objective(nn.Module):
    """Reconstruction loss plus any penalty terms.

    Parameters
    ----------
    loss : {"mse", "bce"}
        Reconstruction loss, averaged over features and then over the batch.
    penalties : sequence of callables
        Each is called as ``penalty(output, target, module)`` and returns a
        scalar tensor that is added to the loss.
    """

    def __init__(self, loss: str = "mse", penalties=()):
        super().__init__()
        self.loss = loss
        self.penalties = list(penalties)

    def per_sample(self, output: dict, target: torch.Tensor) -> torch.Tensor:
        return RECONSTRUCTION_LOSSES[self.loss](output["reconstruction"], target)

    def forward(self, output: dict, target: torch.Tensor, module: nn.Module) -> torch.Tensor:
        loss = self.per_sample(output, target).mean()
        for penalty in self.penalties:
            loss = loss + penalty(output, target, module)
        return loss


# -- generative models -------------------------------------------------------------------
_LOG_2PI = math.log(2 * math.pi)


def bernoulli_nll(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Negative log-likelihood of ``target`` under Bernoulli(sigmoid(logits)), per row (nats)."""
    nll = F.binary_cross_entropy_with_logits(logits, target.clamp(0, 1), reduction="none")
    return nll.flatten(1).sum(dim=1)


def gaussian_nll(mean: torch.Tensor, target: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """Negative log-likelihood of ``target`` under N(mean, exp(log_var)), summed per row (nats)."""
    sq = (target - mean).pow(2) * torch.exp(-log_var)
    return 0.5 * (sq + log_var + _LOG_2PI).flatten(1).sum(dim=1)


def negative_elbo(output: dict, target: torch.Tensor, beta: float = 1.0) -> torch.Tensor:
    """Per-row negative evidence lower bound, ``-log p(x|z) + beta * KL(q(z|x) || p(z))``.

    ``output`` is a variational module's: ``"mean"`` and ``"log_var"`` of the
    posterior, and either ``"logits"`` (Bernoulli decoder) or
    ``"reconstruction"`` with ``"decoder_log_var"`` (Gaussian decoder).
    """
    if "logits" in output:
        nll = bernoulli_nll(output["logits"], target)
    else:
        nll = gaussian_nll(output["reconstruction"], target, output["decoder_log_var"])
    return nll + beta * gaussian_kl(output["mean"], output["log_var"])


class VariationalObjective(Objective):
    """The beta-VAE objective: the mean negative ELBO of the batch (plus any penalties)."""

    def __init__(self, beta: float = 1.0, penalties=()):
        super().__init__("elbo", penalties)
        self.beta = beta

    def per_sample(self, output: dict, target: torch.Tensor) -> torch.Tensor:
        return negative_elbo(output, target, self.beta)


def adversarial_losses(code: torch.Tensor, prior: torch.Tensor, discriminator: nn.Module):
    """Discriminator and encoder losses of an adversarial autoencoder, in one graph.

    The discriminator learns to output 1 on prior draws and 0 on codes; the
    encoder learns to make its codes pass for prior draws (the
    non-saturating GAN loss). Each loss reaches only its own player's
    parameters: the discriminator's loss sees detached codes, and the
    encoder's loss goes through a copy of the discriminator with detached
    weights. So one backward pass and one optimizer step train both.

    Returns
    -------
    discriminator_loss, encoder_loss : scalar Tensors
    """
    real = discriminator(prior)
    fake = discriminator(code.detach())
    d_loss = F.binary_cross_entropy_with_logits(
        real, torch.ones_like(real)
    ) + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))
    frozen = {name: p.detach() for name, p in discriminator.named_parameters()}
    fooled = torch.func.functional_call(discriminator, frozen, (code,))
    g_loss = F.binary_cross_entropy_with_logits(fooled, torch.ones_like(fooled))
    return d_loss, g_loss
