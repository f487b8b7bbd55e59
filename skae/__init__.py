"""skae: autoencoders as scikit-learn transformers, trained with PyTorch."""

from ._adversarial import AdversarialAutoEncoder
from ._autoencoder import AutoEncoder
from ._contractive import ContractiveAutoEncoder
from ._conv import ConvAutoEncoder
from ._denoising import DenoisingAutoEncoder
from ._engine import StopOnInterrupt
from ._hamming import HammingIndex, pack_bits, unpack_bits
from ._hashing import HashingAutoEncoder
from ._io import load, save
from ._onnx import to_onnx
from ._outlier import AutoEncoderOutlierDetector
from ._registry import all_estimators
from ._sparse import SparseAutoEncoder
from ._stacked import StackedAutoEncoder
from ._supervised import AutoEncoderClassifier, AutoEncoderRegressor
from ._variational import VariationalAutoEncoder
from .exceptions import ModelFileError, TrainingDivergedError

__version__ = "0.1.0"

__all__ = [
    # the autoencoder family (transformers)
    "AutoEncoder",
    "AdversarialAutoEncoder",
    "ContractiveAutoEncoder",
    "ConvAutoEncoder",
    "DenoisingAutoEncoder",
    "HashingAutoEncoder",
    "SparseAutoEncoder",
    "StackedAutoEncoder",
    "VariationalAutoEncoder",
    # applications
    "AutoEncoderClassifier",
    "AutoEncoderOutlierDetector",
    "AutoEncoderRegressor",
    "HammingIndex",
    "pack_bits",
    "unpack_bits",
    # training control
    "StopOnInterrupt",
    # persistence, registry, errors
    "ModelFileError",
    "TrainingDivergedError",
    "all_estimators",
    "load",
    "save",
    "to_onnx",
    "__version__",
]
