"""Input corruption for denoising: modules that are the identity outside training."""

from __future__ import annotations

import torch
from torch import nn

NOISE_KINDS = ("gaussian", "masking", "salt_pepper")


class InputNoise(nn.Module):
    """Corrupt the input in training mode; pass it through unchanged in eval mode.

    Parameters
    ----------
    kind : {"gaussian", "masking", "salt_pepper"}
        ``"gaussian"`` adds noise of standard deviation ``level``;
        ``"masking"`` sets a fraction ``level`` of the values to 0;
        ``"salt_pepper"`` sets a fraction ``level`` of the values to 0 or 1,
        each with probability one half.
    level : float
        Noise level at the start of training.
    final_level : float or None
        If given, the level moves linearly from ``level`` to ``final_level``
        over training (scheduled denoising, Geras & Sutton 2014); the engine
        reports progress through :meth:`set_training_progress`.

    Examples
    --------
    >>> import torch
    >>> from skae.nn.noise import InputNoise
    >>> noise = InputNoise("masking", 0.5).set_generator(torch.Generator().manual_seed(0))
    >>> x = torch.ones(2, 4)
    >>> bool((noise.train()(x) == 0).any()), bool((noise.eval()(x) == x).all())
    (True, True)
    """

    def __init__(
        self, kind: str = "gaussian", level: float = 0.1, final_level: float | None = None
    ):
        super().__init__()
        if kind not in NOISE_KINDS:
            raise ValueError(f"kind={kind!r} is not one of {NOISE_KINDS}.")
        self.kind, self.start, self.final_level = kind, level, final_level
        self.level = level
        self.generator: torch.Generator | None = None

    def set_generator(self, generator: torch.Generator) -> InputNoise:
        """Draw the noise from ``generator`` (a local one) rather than torch's global one."""
        self.generator = generator
        return self

    def set_training_progress(self, progress: float) -> None:
        if self.final_level is not None:
            self.level = self.start + (self.final_level - self.start) * progress

    def _uniform(self, x: torch.Tensor) -> torch.Tensor:
        return torch.rand(x.shape, generator=self.generator, device=x.device, dtype=x.dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.level <= 0:
            return x
        if self.kind == "gaussian":
            noise = torch.randn(x.shape, generator=self.generator, device=x.device, dtype=x.dtype)
            return x + self.level * noise
        hit = self._uniform(x) < self.level
        if self.kind == "masking":
            return x.masked_fill(hit, 0.0)
        salt = (self._uniform(x) < 0.5).to(x.dtype)
        return torch.where(hit, salt, x)
