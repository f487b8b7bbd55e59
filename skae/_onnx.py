"""ONNX export of a fitted estimator's encoder, decoder or both."""

from __future__ import annotations

import copy
import io
import logging
import warnings
from contextlib import redirect_stdout

import torch
from sklearn.utils.validation import check_is_fitted

from ._discovery import all_estimators
from .nn.modules import InferencePath

PARTS = ("encoder", "decoder", "full")

# What to export instead, for the estimators whose prediction is more than one network.
_NOT_EXPORTABLE = {
    "AutoEncoderOutlierDetector": (
        "its score combines several members, each a scaler, an autoencoder and a code "
        "density; export a member's autoencoder, detector.members_[i].estimator_, and "
        "apply detector.members_[i].scaler_ before it"
    ),
    "AutoEncoderClassifier": (
        "its head sees the input next to the code; export the pretrained encoder, "
        "clf.estimator_, for the codes"
    ),
    "AutoEncoderRegressor": (
        "its head sees the input next to the code; export the pretrained encoder, "
        "reg.estimator_, for the codes"
    ),
    "HammingIndex": (
        "it is a search index, not a network; export the HashingAutoEncoder that made the codes"
    ),
}


def to_onnx(estimator, path, part: str = "encoder", opset_version: int | None = None):
    """Export a fitted skae estimator's network to ONNX, with a dynamic batch size.

    The exported graph takes float32 rows: input ``X`` of shape
    ``(batch, n_features_in_)`` for ``"encoder"`` and ``"full"``, codes of
    shape ``(batch, n_components)`` for ``"decoder"``; its output is named
    ``"output"``. It computes what :meth:`transform`, :meth:`inverse_transform`
    or their composition compute. Needs the ``onnx`` and ``onnxscript``
    packages (``pip install "skae[onnx]"``).

    Parameters
    ----------
    estimator : skae autoencoder
        A fitted autoencoder (any of the transformers). The outlier
        detector, the classifier, the regressor and :class:`~skae.HammingIndex` are
        refused with a ``TypeError`` that says which part of them to export.
    path : str or path-like
        Destination ``.onnx`` file.
    part : {"encoder", "decoder", "full"}, default="encoder"
        Which network to export.
    opset_version : int or None, default=None
        ONNX opset; ``None`` lets torch choose.

    Returns
    -------
    path : str or path-like
        ``path``.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import onnxruntime as ort
    >>> from sklearn.datasets import load_digits
    >>> import skae
    >>> X = (load_digits().data / 16).astype(np.float32)
    >>> ae = skae.AutoEncoder(n_components=4, max_epochs=2, random_state=0).fit(X)
    >>> path = skae.to_onnx(ae, os.path.join(tempfile.mkdtemp(), "enc.onnx"))
    >>> session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    >>> codes = session.run(None, {"X": X[:5]})[0]
    >>> np.allclose(codes, ae.transform(X[:5]), atol=1e-5)
    True
    """
    if part not in PARTS:
        raise ValueError(f"part={part!r} is not one of {PARTS}.")
    name = type(estimator).__name__
    if (name, type(estimator)) not in all_estimators(type_filter="transformer"):
        why = _NOT_EXPORTABLE.get(name, "it is not a skae autoencoder")
        raise TypeError(
            f"to_onnx exports skae autoencoders; {name} cannot be exported whole: {why}."
        )
    check_is_fitted(estimator)
    module = copy.deepcopy(estimator.module_).cpu().eval()
    width = estimator.n_components if part == "decoder" else estimator.n_features_in_
    example = torch.zeros(2, width)
    batch = torch.export.Dim("batch")
    # The exporter reports progress on stdout and logs warnings about optional
    # packages (torchvision) it does not need here; keep both out of the user's way.
    registration = logging.getLogger("torch.onnx._internal.exporter._registration")
    level = registration.level
    registration.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            torch.onnx.export(
                InferencePath(module, part),
                (example,),
                str(path),
                input_names=["X"],
                output_names=["output"],
                dynamic_shapes=({0: batch},),
                opset_version=opset_version,
                dynamo=True,
                verbose=False,
            )
    finally:
        registration.setLevel(level)
    return path
