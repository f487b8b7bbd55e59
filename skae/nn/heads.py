"""A supervised head on an autoencoder's code, and its losses. Torch only.

Nothing here knows about scikit-learn: :class:`EncoderWithHead` is a torch
module (an autoencoder module plus a head on its code) and the losses are
pure functions of tensors.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .losses import mse_per_sample


def cross_entropy_per_sample(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of each row's logits against its class index.

    Parameters
    ----------
    logits : Tensor of shape (n_samples, n_classes)
    target : Tensor of shape (n_samples,), integer class indices

    Returns
    -------
    loss : Tensor of shape (n_samples,)

    Examples
    --------
    >>> import torch
    >>> from skae.nn.heads import cross_entropy_per_sample
    >>> logits = torch.tensor([[0.0, 0.0], [2.0, 0.0]])
    >>> cross_entropy_per_sample(logits, torch.tensor([1, 0])).round(decimals=4)
    tensor([0.6931, 0.1269])
    """
    return F.cross_entropy(logits, target, reduction="none")


# Regression uses the same per-row mean squared error as reconstruction.
SUPERVISED_LOSSES = {"cross_entropy": cross_entropy_per_sample, "squared_error": mse_per_sample}


class EncoderWithHead(nn.Module):
    """An autoencoder module whose code feeds a supervised head.

    ``forward`` returns the autoencoder's own output dict (``"code"``,
    ``"reconstruction"``, ...) plus ``"prediction"`` (the head's output) and
    ``"input"`` (the clean batch, the target of an optional reconstruction
    term). The head sees the code standardised by two buffers, ``code_mean``
    and ``code_scale`` (set by :meth:`set_code_statistics`; 0 and 1 until
    then), so that its optimisation does not depend on the code's scale.
    With ``n_passthrough`` > 0 the head also sees the input itself: its
    input is ``[x, standardised code]``, the input's ``n_passthrough``
    features first. With ``freeze_autoencoder`` the autoencoder's parameters
    take no gradient and it stays in eval mode (no input noise, no dropout)
    while the head trains, so the head sees exactly the codes ``encode``
    gives.

    Parameters
    ----------
    autoencoder : nn.Module
        A module with ``encode(x)`` whose ``forward(x)`` returns a dict
        holding ``"code"``, such as :class:`skae.nn.modules.AutoEncoderModule`.
    head : nn.Module
        Maps the head's input (the code, after the passed-through features
        if any) to predictions (logits or values).
    freeze_autoencoder : bool, default=False
        Train the head only.
    n_passthrough : int, default=0
        Number of input features the head sees next to the code (the
        input's width, or 0).

    Examples
    --------
    >>> import torch
    >>> from skae.nn.modules import mlp, mlp_autoencoder
    >>> from skae.nn.heads import EncoderWithHead
    >>> net = EncoderWithHead(mlp_autoencoder(6, 2, (4,), "relu", "identity"), mlp([2, 3], "relu"))
    >>> out = net(torch.zeros(5, 6))
    >>> out["prediction"].shape, out["reconstruction"].shape
    (torch.Size([5, 3]), torch.Size([5, 6]))
    >>> net.predict(torch.zeros(5, 6)).shape
    torch.Size([5, 3])
    >>> autoencoder = mlp_autoencoder(6, 2, (4,), "relu", "identity")
    >>> wide = EncoderWithHead(autoencoder, mlp([6 + 2, 3], "relu"), n_passthrough=6)
    >>> wide.predict(torch.zeros(5, 6)).shape
    torch.Size([5, 3])
    """

    def __init__(
        self,
        autoencoder: nn.Module,
        head: nn.Module,
        freeze_autoencoder: bool = False,
        n_passthrough: int = 0,
    ):
        super().__init__()
        self.autoencoder = autoencoder
        self.head = head
        self.n_passthrough = n_passthrough
        n_inputs = next(m for m in head.modules() if isinstance(m, nn.Linear)).in_features
        n_components = n_inputs - n_passthrough
        self.register_buffer("code_mean", torch.zeros(n_components))
        self.register_buffer("code_scale", torch.ones(n_components))
        self.freeze(freeze_autoencoder)

    def freeze(self, frozen: bool = True) -> EncoderWithHead:
        """Stop (or restart) training the autoencoder; the head always trains."""
        self.freeze_autoencoder = frozen
        self.autoencoder.requires_grad_(not frozen)
        return self.train(self.training)

    @torch.no_grad()
    def set_code_statistics(self, mean, std, weight: float = 1.0) -> EncoderWithHead:
        """Make the head see ``(code - mean) / std * weight``.

        ``std`` entries at or below 1e-6 (constant code units) count as 1.
        """
        mean = torch.as_tensor(mean, dtype=self.code_mean.dtype, device=self.code_mean.device)
        std = torch.as_tensor(std, dtype=self.code_scale.dtype, device=self.code_scale.device)
        self.code_mean.copy_(mean)
        self.code_scale.copy_(torch.where(std > 1e-6, std, torch.ones_like(std)) / weight)
        return self

    def train(self, mode: bool = True) -> EncoderWithHead:
        super().train(mode)
        if self.freeze_autoencoder:
            self.autoencoder.eval()
        return self

    def _head(self, code: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        features = (code - self.code_mean) / self.code_scale
        if self.n_passthrough:
            features = torch.cat([x.reshape(x.shape[0], -1), features], dim=1)
        return self.head(features)

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """The head's output on the clean code of ``x``."""
        return self._head(self.autoencoder.encode(x), x)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        out = dict(self.autoencoder(x))
        out["prediction"] = self._head(out["code"], x)
        out["input"] = x
        return out


class SupervisedObjective(nn.Module):
    """A supervised loss, plus optionally the autoencoder's own objective.

    Parameters
    ----------
    loss : {"cross_entropy", "squared_error"}
        Supervised loss of the head's ``"prediction"`` against the target,
        averaged over the batch.
    reconstruction : nn.Module or None, default=None
        The autoencoder's objective, called as
        ``reconstruction(output, clean_input, autoencoder_module)``.
    reconstruction_weight : float, default=0.0
        Weight of the reconstruction objective; ``0`` leaves it out.
    l2 : float, default=0.0
        Adds ``l2 / 2`` times the sum of the squared weights (not the
        biases) of ``module.head``'s linear layers.

    Examples
    --------
    >>> import torch
    >>> from skae.nn.heads import SupervisedObjective
    >>> objective = SupervisedObjective("squared_error")
    >>> output = {"prediction": torch.ones(4, 1)}
    >>> objective(output, torch.zeros(4, 1), None)
    tensor(1.)
    """

    def __init__(
        self,
        loss: str,
        reconstruction: nn.Module | None = None,
        reconstruction_weight: float = 0.0,
        l2: float = 0.0,
    ):
        super().__init__()
        self.loss = loss
        self.reconstruction = reconstruction
        self.reconstruction_weight = reconstruction_weight
        self.l2 = l2

    def forward(self, output: dict, target: torch.Tensor, module: nn.Module) -> torch.Tensor:
        loss = SUPERVISED_LOSSES[self.loss](output["prediction"], target).mean()
        if self.reconstruction is not None and self.reconstruction_weight > 0:
            term = self.reconstruction(output, output["input"], module.autoencoder)
            loss = loss + self.reconstruction_weight * term
        if self.l2 > 0:
            squares = sum(
                m.weight.pow(2).sum() for m in module.head.modules() if isinstance(m, nn.Linear)
            )
            loss = loss + 0.5 * self.l2 * squares
        return loss
