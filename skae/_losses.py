"""Loss terms as pure functions of tensors, and the objective that sums them.

Every reconstruction loss returns one value per sample (the mean over
features), so the same function serves training (its mean) and
``score_samples`` (its rows).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


def mse_per_sample(reconstruction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error of each row."""
    return (reconstruction - target).pow(2).flatten(1).mean(dim=1)


def bce_per_sample(reconstruction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of each row; ``reconstruction`` holds probabilities.

    Targets are clipped to [0, 1]: training data is checked to lie there, but
    data scored later (a test fold scaled by the training fold) may not.
    """
    bce = F.binary_cross_entropy(reconstruction, target.clamp(0, 1), reduction="none")
    return bce.flatten(1).mean(dim=1)


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
