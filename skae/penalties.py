"""Penalty terms for the ``penalties`` parameter of every autoencoder.

This is :mod:`skae.nn.penalties` under its public name.
"""

from .nn.penalties import *  # noqa: F403
from .nn.penalties import __all__  # noqa: F401
