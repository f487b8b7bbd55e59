"""skae: autoencoders as scikit-learn transformers, trained with PyTorch.

The public names are imported on first use, so that ``skae --help`` and
other light uses do not pay for importing torch and scikit-learn.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

# Public name -> the module that defines it.
_EXPORTS = {
    # the autoencoder family (transformers)
    "AutoEncoder": "._autoencoder",
    "AdversarialAutoEncoder": "._adversarial",
    "ContractiveAutoEncoder": "._contractive",
    "ConvAutoEncoder": "._conv",
    "DenoisingAutoEncoder": "._denoising",
    "HashingAutoEncoder": "._hashing",
    "SequenceAutoEncoder": "._sequence",
    "SparseAutoEncoder": "._sparse",
    "StackedAutoEncoder": "._stacked",
    "VariationalAutoEncoder": "._variational",
    # applications
    "AutoEncoderClassifier": "._classifier",
    "AutoEncoderOutlierDetector": "._outlier",
    "AutoEncoderRegressor": "._regressor",
    "TimeSeriesOutlierDetector": "._timeseries",
    "HammingIndex": ".neighbors",
    "pack_bits": ".neighbors",
    "unpack_bits": ".neighbors",
    # training control
    "StopOnInterrupt": "._engine",
    # persistence, discovery, errors
    "ModelFileError": ".exceptions",
    "TrainingDivergedError": ".exceptions",
    "all_estimators": "._discovery",
    "load": "._io",
    "save": "._io",
    "to_onnx": "._onnx",
}

__all__ = [*_EXPORTS, "__version__"]

# Public submodules, also reachable as attributes (skae.penalties.L1Activity).
_SUBMODULES = ("cli", "compare", "datasets", "exceptions", "neighbors", "nn", "penalties")


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name not in _EXPORTS:
        raise AttributeError(f"module 'skae' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__():
    return sorted({*globals(), *_EXPORTS, *_SUBMODULES})


if TYPE_CHECKING:  # what type checkers and IDEs see (``as``: re-exported)
    from ._adversarial import AdversarialAutoEncoder as AdversarialAutoEncoder
    from ._autoencoder import AutoEncoder as AutoEncoder
    from ._classifier import AutoEncoderClassifier as AutoEncoderClassifier
    from ._contractive import ContractiveAutoEncoder as ContractiveAutoEncoder
    from ._conv import ConvAutoEncoder as ConvAutoEncoder
    from ._denoising import DenoisingAutoEncoder as DenoisingAutoEncoder
    from ._discovery import all_estimators as all_estimators
    from ._engine import StopOnInterrupt as StopOnInterrupt
    from ._hashing import HashingAutoEncoder as HashingAutoEncoder
    from ._io import load as load
    from ._io import save as save
    from ._onnx import to_onnx as to_onnx
    from ._outlier import AutoEncoderOutlierDetector as AutoEncoderOutlierDetector
    from ._regressor import AutoEncoderRegressor as AutoEncoderRegressor
    from ._sequence import SequenceAutoEncoder as SequenceAutoEncoder
    from ._sparse import SparseAutoEncoder as SparseAutoEncoder
    from ._stacked import StackedAutoEncoder as StackedAutoEncoder
    from ._timeseries import TimeSeriesOutlierDetector as TimeSeriesOutlierDetector
    from ._variational import VariationalAutoEncoder as VariationalAutoEncoder
    from .exceptions import ModelFileError as ModelFileError
    from .exceptions import TrainingDivergedError as TrainingDivergedError
    from .neighbors import HammingIndex as HammingIndex
    from .neighbors import pack_bits as pack_bits
    from .neighbors import unpack_bits as unpack_bits
