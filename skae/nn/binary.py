"""The binary code layer of the hashing autoencoder."""

from __future__ import annotations

import torch
from torch import nn


class BinaryCode(nn.Module):
    """Noisy sigmoid in training, hard 0/1 threshold at inference.

    In training mode it returns :math:`\\sigma(a + \\epsilon)` with
    :math:`\\epsilon \\sim \\mathcal{N}(0, \\text{noise}^2)` drawn from a local
    generator: to carry information through the noise the network has to push
    its pre-activations :math:`a` far from 0, where the sigmoid is saturated
    and nearly binary. In eval mode it returns the bits :math:`[a > 0]`.

    Parameters
    ----------
    noise : float
        Standard deviation of the Gaussian noise added before the sigmoid.

    Examples
    --------
    >>> import torch
    >>> from skae.nn.binary import BinaryCode
    >>> code = BinaryCode(4.0).set_generator(torch.Generator().manual_seed(0))
    >>> a = torch.tensor([[-3.0, 0.5, 8.0]])
    >>> code.eval()(a)
    tensor([[0., 1., 1.]])
    >>> bool(((code.train()(a) > 0) & (code.train()(a) < 1)).all())
    True
    """

    def __init__(self, noise: float = 1.0):
        super().__init__()
        self.noise = noise
        self.generator: torch.Generator | None = None

    def set_generator(self, generator: torch.Generator) -> BinaryCode:
        """Draw the noise from ``generator`` (a local one) rather than torch's global one."""
        self.generator = generator
        return self

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return (a > 0).to(a.dtype)
        if self.noise > 0:
            eps = torch.randn(a.shape, generator=self.generator, device=a.device, dtype=a.dtype)
            a = a + self.noise * eps
        return torch.sigmoid(a)
