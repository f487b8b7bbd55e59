"""skae: autoencoders as scikit-learn transformers, trained with PyTorch."""

from ._autoencoder import AutoEncoder
from ._denoising import DenoisingAutoEncoder
from ._io import load, save
from ._onnx import to_onnx
from ._registry import all_estimators
from .exceptions import ModelFileError, TrainingDivergedError

__version__ = "0.1.0"

__all__ = [
    "AutoEncoder",
    "DenoisingAutoEncoder",
    "ModelFileError",
    "TrainingDivergedError",
    "all_estimators",
    "load",
    "save",
    "to_onnx",
    "__version__",
]
