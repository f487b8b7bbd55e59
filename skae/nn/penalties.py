"""Penalty terms: pure functions of tensors, and small terms that apply them.

The functions (:func:`l1_activity`, :func:`kl_sparsity`,
:func:`jacobian_frobenius`, :func:`gaussian_kl`) take tensors and return
tensors; they know nothing of estimators. The terms (:class:`L1Activity`,
:class:`KLSparsity`, :class:`Contractive`) wrap one function with its
weight so that it can be added to *any* skae estimator's objective through
the ``penalties`` parameter, for instance a sparse denoising autoencoder::

    DenoisingAutoEncoder(noise="masking", penalties=[L1Activity(1e-3)])

A term is called as ``term(output, target, module)``: ``output`` is the
dict the module's ``forward`` returns (``"code"``, ``"reconstruction"``,
...), ``target`` the clean batch, ``module`` the autoencoder module.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

__all__ = [
    "Contractive",
    "KLSparsity",
    "L1Activity",
    "gaussian_kl",
    "jacobian_frobenius",
    "kl_sparsity",
    "l1_activity",
]

_EPS = 1e-6


def l1_activity(code: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of the L1 norm of each code.

    Parameters
    ----------
    code : Tensor of shape (n_samples, n_components)

    Returns
    -------
    penalty : scalar Tensor

    Examples
    --------
    >>> import torch
    >>> from skae.nn.penalties import l1_activity
    >>> float(l1_activity(torch.tensor([[1.0, -2.0], [0.0, 1.0]])))
    2.0
    """
    return code.abs().sum(dim=1).mean()


def kl_sparsity(code: torch.Tensor, target: float) -> torch.Tensor:
    """KL sparsity penalty toward a target mean activation (Ng, 2011).

    With :math:`\\hat\\rho_j` the batch mean of code unit :math:`j` (in
    (0, 1), e.g. after a sigmoid) and :math:`\\rho` the target,

    .. math:: \\sum_j \\rho\\log\\frac{\\rho}{\\hat\\rho_j}
              + (1-\\rho)\\log\\frac{1-\\rho}{1-\\hat\\rho_j}.

    Parameters
    ----------
    code : Tensor of shape (n_samples, n_components)
        Activations in (0, 1).
    target : float
        Target mean activation :math:`\\rho` in (0, 1).

    Returns
    -------
    penalty : scalar Tensor
        Zero exactly when every unit's mean activation equals ``target``.

    Examples
    --------
    >>> import torch
    >>> from skae.nn.penalties import kl_sparsity
    >>> float(kl_sparsity(torch.full((4, 3), 0.05), 0.05))
    0.0
    >>> float(kl_sparsity(torch.full((4, 3), 0.5), 0.05)) > 0
    True
    """
    rho_hat = code.mean(dim=0).clamp(_EPS, 1 - _EPS)
    rho = torch.as_tensor(target, dtype=code.dtype, device=code.device)
    kl = rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))
    return kl.sum()


def _single_sigmoid_layer(encoder: nn.Module):
    """The Linear layer of an encoder that is exactly ``Linear -> Sigmoid``, else None."""
    layers = list(encoder.children()) if isinstance(encoder, nn.Sequential) else []
    if len(layers) == 2 and isinstance(layers[0], nn.Linear) and isinstance(layers[1], nn.Sigmoid):
        return layers[0]
    return None


def jacobian_frobenius(encoder, x: torch.Tensor, n_inputs: int | None = None) -> torch.Tensor:
    """Squared Frobenius norm of the encoder's Jacobian at each row, exactly.

    For an encoder that is a single ``Linear`` layer followed by a sigmoid,
    :math:`h = \\sigma(Wx+b)`, the closed form
    :math:`\\|J(x)\\|_F^2 = \\sum_j \\big(h_j(1-h_j)\\big)^2 \\|W_j\\|^2`
    costs one forward pass. Any other encoder gets its exact Jacobian from
    ``torch.func.jacrev`` vectorised over the batch (one backward pass per
    code unit, all in one call). Both are differentiable with respect to the
    encoder's parameters, so the norm can be trained on.

    Parameters
    ----------
    encoder : torch.nn.Module or callable
        Maps rows of shape (n_samples, n_features) to codes of shape
        (n_samples, n_components), each row on its own. A random encoder
        (noise in training mode) draws its noise row by row.
    x : Tensor of shape (n_samples, n_features)
    n_inputs : int, optional
        Differentiate with respect to the first ``n_inputs`` columns only
        (the rest, e.g. a mask of real timepoints, held fixed); all by
        default.

    Returns
    -------
    norms : Tensor of shape (n_samples,)

    Examples
    --------
    >>> import torch
    >>> from skae.nn.penalties import jacobian_frobenius
    >>> enc = torch.nn.Sequential(torch.nn.Linear(3, 2, bias=False))
    >>> with torch.no_grad():
    ...     _ = enc[0].weight.copy_(torch.tensor([[1.0, 2.0, 0.0], [0.0, 0.0, 3.0]]))
    >>> jacobian_frobenius(enc, torch.zeros(2, 3)).tolist()  # 1 + 4 + 9
    [14.0, 14.0]
    """
    linear = _single_sigmoid_layer(encoder)
    if linear is not None and n_inputs is None:
        h = torch.sigmoid(linear(x))
        row_norms = linear.weight.pow(2).sum(dim=1)
        return (h * (1 - h)).pow(2) @ row_norms
    n_inputs = x.shape[1] if n_inputs is None else n_inputs

    def encode_row(inputs, fixed):
        return encoder(torch.cat([inputs, fixed]).unsqueeze(0)).squeeze(0)

    jacobians = torch.func.vmap(torch.func.jacrev(encode_row), randomness="different")(
        x[:, :n_inputs], x[:, n_inputs:]
    )
    return jacobians.pow(2).flatten(1).sum(dim=1)


def gaussian_kl(mean: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """KL divergence of a diagonal Gaussian from the standard normal, per row.

    .. math:: \\mathrm{KL}\\big(\\mathcal N(\\mu, \\mathrm{diag}\\,\\sigma^2)\\,\\|\\,
              \\mathcal N(0, I)\\big) = \\tfrac12\\sum_j
              \\big(\\mu_j^2 + \\sigma_j^2 - \\log\\sigma_j^2 - 1\\big)

    Parameters
    ----------
    mean, log_var : Tensor of shape (n_samples, n_components)
        Mean and log-variance of the posterior.

    Returns
    -------
    kl : Tensor of shape (n_samples,)
        In nats.

    Examples
    --------
    >>> import torch
    >>> from skae.nn.penalties import gaussian_kl
    >>> gaussian_kl(torch.zeros(1, 2), torch.zeros(1, 2)).tolist()
    [0.0]
    >>> round(float(gaussian_kl(torch.ones(1, 1), torch.zeros(1, 1))), 4)
    0.5
    """
    return 0.5 * (mean.pow(2) + log_var.exp() - log_var - 1).sum(dim=1)


@dataclass(frozen=True)
class L1Activity:
    """Penalty term ``weight * l1_activity(code)``, for the ``penalties`` parameter.

    Parameters
    ----------
    weight : float
        Multiplier of the mean L1 norm of the code.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import DenoisingAutoEncoder
    >>> from skae.nn.penalties import L1Activity
    >>> X = load_digits().data / 16
    >>> sparse_dae = DenoisingAutoEncoder(n_components=8, penalties=[L1Activity(1e-3)],
    ...                                   max_epochs=2, random_state=0).fit(X)
    >>> sparse_dae.transform(X).shape
    (1797, 8)
    """

    weight: float

    def __call__(self, output: dict, target: torch.Tensor, module: nn.Module) -> torch.Tensor:
        return self.weight * l1_activity(output["code"])


@dataclass(frozen=True)
class KLSparsity:
    """Penalty term ``weight * kl_sparsity(code, target)``; needs a code in (0, 1).

    Parameters
    ----------
    target : float
        Target mean activation of each code unit.
    weight : float
        Multiplier of the penalty.

    Examples
    --------
    >>> from skae.nn.penalties import KLSparsity
    >>> KLSparsity(target=0.05, weight=0.1)
    KLSparsity(target=0.05, weight=0.1)
    """

    target: float
    weight: float

    def __call__(self, output: dict, target: torch.Tensor, module: nn.Module) -> torch.Tensor:
        return self.weight * kl_sparsity(output["code"], self.target)


@dataclass(frozen=True)
class Contractive:
    """Penalty term ``weight * mean(jacobian_frobenius(encoder, x))`` at the clean rows.

    The Jacobian is the module's encoder's; for a temporal-convolution
    sequence module (whose rows may end with a mask of real timepoints), its
    ``encode`` with respect to the values only. A random encoder (the
    hashing code's noise) is differentiated at each row's own draw.

    Parameters
    ----------
    weight : float
        Multiplier of the mean squared Frobenius norm of the encoder's Jacobian.

    Examples
    --------
    >>> from skae.nn.penalties import Contractive
    >>> Contractive(0.1)
    Contractive(weight=0.1)
    """

    weight: float

    def __call__(self, output: dict, target: torch.Tensor, module: nn.Module) -> torch.Tensor:
        inputs = getattr(module, "n_values", None)  # sequence rows: the values, not the mask
        # A sequence module's encoder is a list of layers that only its encode() runs in order.
        encoder = module.encode if isinstance(module.encoder, nn.ModuleList) else module.encoder
        return self.weight * jacobian_frobenius(encoder, target, inputs).mean()
