"""skae: autoencoders as scikit-learn transformers, trained with PyTorch."""

from ._autoencoder import AutoEncoder
from .exceptions import TrainingDivergedError

__version__ = "0.1.0"

__all__ = ["AutoEncoder", "TrainingDivergedError", "__version__"]
