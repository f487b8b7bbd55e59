"""Seeding from ``random_state`` without touching any global generator.

Every random draw of a fit comes from a local ``torch.Generator`` or numpy
``Generator`` seeded from ``random_state``: weight initialisation, the
validation split, shuffling. Nothing reads or writes torch's or numpy's
global generators, so fits running in parallel threads neither disturb each
other nor the caller.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch


def seed_from_random_state(random_state) -> int:
    """Draw a torch seed from an int, a ``RandomState`` or ``None``.

    ``None`` takes fresh OS entropy instead of drawing from numpy's global
    generator, so fitting never advances the user's global random state.
    """
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    if isinstance(random_state, numbers.Integral):
        return int(random_state)
    return int(random_state.randint(np.iinfo(np.int32).max))


def make_generator(seed: int, device: torch.device) -> torch.Generator:
    """A local generator on ``device`` (initialisation, shuffling, input noise)."""
    return torch.Generator(device=device).manual_seed(seed)


def init_parameters(module: torch.nn.Module, generator: torch.Generator) -> None:
    """(Re)initialise ``module``'s parameters from ``generator`` only.

    Linear and convolution layers get torch's default initialisation
    (Kaiming-uniform weights, uniform biases), and recurrent layers theirs
    (uniform within 1/sqrt(hidden_size) of 0), drawn from ``generator``;
    other layers with parameters (normalisation layers, PReLU) are reset by
    their own ``reset_parameters``, which is deterministic for those.
    """
    from torch import nn

    for layer in module.modules():
        if isinstance(layer, (nn.Linear, nn.modules.conv._ConvNd)):
            nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
            if layer.bias is not None:
                fan_in, _ = nn.init._calculate_fan_in_and_fan_out(layer.weight)
                bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
                nn.init.uniform_(layer.bias, -bound, bound, generator=generator)
        elif isinstance(layer, nn.RNNBase):  # torch's default: uniform in +-1/sqrt(hidden)
            bound = 1 / math.sqrt(layer.hidden_size) if layer.hidden_size > 0 else 0
            for weight in layer.parameters():
                nn.init.uniform_(weight, -bound, bound, generator=generator)
        elif hasattr(layer, "reset_parameters") and layer is not module:
            layer.reset_parameters()
