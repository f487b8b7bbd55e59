"""Torch building blocks. Nothing here knows about scikit-learn."""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
from torch import nn

ACTIVATIONS = {
    "identity": nn.Identity,
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "selu": nn.SELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "softplus": nn.Softplus,
}


def make_activation(activation) -> nn.Module:
    """Return a fresh activation module from a name or an ``nn.Module`` class."""
    if isinstance(activation, str):
        return ACTIVATIONS[activation]()
    return activation()


def mlp(sizes: Sequence[int], activation, output_activation="identity") -> nn.Sequential:
    """Stack ``Linear`` layers through ``sizes``.

    ``activation`` follows every layer but the last, which gets
    ``output_activation``. This is the one layer builder of skae.
    """
    layers: list[nn.Module] = []
    n_layers = len(sizes) - 1
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        last = i == n_layers - 1
        act = make_activation(output_activation if last else activation)
        if not isinstance(act, nn.Identity):
            layers.append(act)
    return nn.Sequential(*layers)


class AutoEncoderModule(nn.Module):
    """An encoder, a decoder and an optional input corruption.

    ``forward`` returns a dict so that variants can add entries (a
    variational encoder adds ``mean`` and ``log_var``) without changing the
    training engine. ``noise`` is applied only in training mode.
    """

    def __init__(self, encoder: nn.Module, decoder: nn.Module, noise: nn.Module | None = None):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.noise = noise if noise is not None else nn.Identity()

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        z = self.encode(self.noise(x))
        return {"reconstruction": self.decode(z), "code": z}


def mlp_autoencoder(
    n_features: int,
    n_components: int,
    hidden_layer_sizes: Sequence[int],
    activation,
    output_activation,
    code_activation="identity",
    noise: nn.Module | None = None,
) -> AutoEncoderModule:
    """Build a fully connected autoencoder whose decoder mirrors its encoder."""
    hidden = list(hidden_layer_sizes)
    encoder = mlp([n_features, *hidden, n_components], activation, code_activation)
    decoder = mlp([n_components, *reversed(hidden), n_features], activation, output_activation)
    return AutoEncoderModule(encoder, decoder, noise=noise)


def in_dtype(module: nn.Module, fn, dtype: torch.dtype):
    """``x -> fn(module, x)`` computed in floating ``dtype``, leaving ``module`` unchanged.

    The floating parameters and buffers of ``module`` are cast to ``dtype``
    once, here, into a copy of the module that the returned function uses for
    every call (a float32 weight is exact in float64), so float64 input is
    computed in float64 end to end. The copy shares nothing that changes, so
    calls from several threads at once are safe. Cast again after changing
    ``module``'s weights.

    Examples
    --------
    >>> import torch
    >>> layer = torch.nn.Linear(3, 2)
    >>> run = in_dtype(layer, lambda m, x: m(x), torch.float64)
    >>> run(torch.ones(4, 3, dtype=torch.float64)).dtype
    torch.float64
    >>> layer.weight.dtype
    torch.float32
    """
    tensors = [*module.parameters(), *module.buffers()]
    if all(not t.is_floating_point() or t.dtype == dtype for t in tensors):
        return lambda x: fn(module, x)
    cast = _cast_copy(module, dtype, {})
    return lambda x: fn(cast, x)


def _cast_copy(module: nn.Module, dtype: torch.dtype, memo: dict) -> nn.Module:
    """A copy of ``module`` and its submodules holding its tensors cast to floating ``dtype``.

    Each (sub)module is copied shallowly, its other attributes (settings,
    generators) shared, rather than deep-copied with everything it holds.
    A submodule used twice is copied once.
    """
    if id(module) in memo:
        return memo[id(module)]
    new = copy.copy(module)
    memo[id(module)] = new
    new._parameters = {
        name: None if p is None else nn.Parameter(p.detach().to(dtype), requires_grad=False)
        for name, p in module._parameters.items()
    }
    new._buffers = {
        name: b if b is None or not b.is_floating_point() else b.to(dtype)
        for name, b in module._buffers.items()
    }
    new._modules = {
        name: None if m is None else _cast_copy(m, dtype, memo)
        for name, m in module._modules.items()
    }
    return new


class InferencePath(nn.Module):
    """The inference path of one part: ``encode``, ``decode`` or both."""

    def __init__(self, module: nn.Module, part: str):
        super().__init__()
        self.module, self.part = module, part

    def forward(self, x):
        if self.part == "encoder":
            return self.module.encode(x)
        if self.part == "decoder":
            return self.module.decode(x)
        return self.module.decode(self.module.encode(x))
