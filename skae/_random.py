"""Seeding from ``random_state`` without touching any global generator."""

from __future__ import annotations

import contextlib
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


@contextlib.contextmanager
def seeded(seed: int, device: torch.device):
    """Run the block with torch's generators seeded, restoring them afterwards.

    ``fork_rng`` saves and restores the CPU generator and that of the CUDA
    device in use, so layer initialisation and dropout inside the block are
    reproducible and the caller's global state is left as it was.
    """
    cuda_devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda_devices):
        torch.random.default_generator.manual_seed(seed)
        if cuda_devices:
            with torch.cuda.device(cuda_devices[0]):
                torch.cuda.manual_seed(seed)
        yield


def make_generator(seed: int, device: torch.device) -> torch.Generator:
    """A local generator for shuffling on ``device``."""
    return torch.Generator(device=device).manual_seed(seed)
