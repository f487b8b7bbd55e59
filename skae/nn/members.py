"""Several networks of one shape trained side by side as one network of stacked weights.

The members of an ensemble (:class:`~skae.AutoEncoderOutlierDetector`'s
autoencoders) are small: trained one after the other, each step costs far
more in Python and kernel launches than in arithmetic. Stacked, every layer
of all the members is one batched matrix product, so a step trains them all
for little more than the cost of one.

Batches are shaped ``(rows, members, features)``: a batch holds the same
number of rows of each member, each member's own rows. The members stay
independent: each has its own weights, and the loss is the sum of the
members' own mean losses, so each gets exactly its own gradient (and Adam,
whose state is per weight, its own update).

On the CPU a step of these small networks is bound by memory traffic more
than by arithmetic, so the layouts avoid copies: the rows are stored member
by member (a batch is a view of that memory, which the batched products read
as it is), and each weight is stored as the products read it, ``(members,
in_features, out_features)``, so that its gradient comes out in that layout.
"""

from __future__ import annotations

import torch
from torch import nn

from .losses import RECONSTRUCTION_ERRORS, Objective, squared_error_sums
from .modules import ACTIVATIONS, AutoEncoderModule

# Layers without weights that act on each value alone, so on stacked rows as on plain ones.
_ELEMENTWISE = (nn.Identity, *ACTIVATIONS.values())


class ParallelLinear(nn.Module):
    """``n_members`` linear layers of one shape, applied each to its own member's rows.

    Input ``(n_members, rows, in_features)``, output ``(n_members, rows,
    out_features)``. ``weight[m]`` is member ``m``'s :class:`torch.nn.Linear`
    weight transposed, ``(in_features, out_features)``, and ``bias[m]`` its
    bias.

    Examples
    --------
    >>> import torch
    >>> layers = [torch.nn.Linear(3, 2) for _ in range(4)]
    >>> stacked = ParallelLinear.of(layers)
    >>> x = torch.randn(4, 5, 3)
    >>> torch.allclose(stacked(x)[1], layers[1](x[1]), atol=1e-6)
    True
    """

    def __init__(self, n_members: int, in_features: int, out_features: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_members, in_features, out_features))
        self.bias = nn.Parameter(torch.empty(n_members, out_features))

    @classmethod
    def of(cls, layers) -> ParallelLinear:
        """The layers ``layers`` (``nn.Linear`` of one shape, with biases), stacked."""
        first = layers[0]
        stacked = cls(len(layers), first.in_features, first.out_features).to(first.weight)
        with torch.no_grad():
            stacked.weight.copy_(torch.stack([layer.weight.T for layer in layers]))
            stacked.bias.copy_(torch.stack([layer.bias for layer in layers]))
        return stacked

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (members, rows, in) @ (members, in, out): one batched product.
        return torch.baddbmm(self.bias.unsqueeze(1), x, self.weight)


class StackedMembers(nn.Module):
    """Networks stacked side by side (``network``), run on ``(rows, members, features)``.

    ``network`` computes in ``(members, rows, features)``; this hands it the
    input as a transposed view (for batches of rows stored member by member,
    as :class:`~skae._data.MemberRows` gives them, the memory the products
    read without a copy) and gives each output back as ``(rows, members,
    ...)``, a view of the same kind.
    """

    def __init__(self, network: nn.Module):
        super().__init__()
        self.network = network

    def forward(self, x: torch.Tensor):
        out = self.network(x.transpose(0, 1))
        if isinstance(out, dict):
            return {key: value.transpose(0, 1) for key, value in out.items()}
        return out.transpose(0, 1)

    def member_state(self, member: int) -> dict:
        """Member ``member``'s ``state_dict``, as its own network holds it."""
        modules = self.network.named_modules()
        linear = {name for name, layer in modules if isinstance(layer, ParallelLinear)}
        state = {}
        for key, value in self.network.state_dict().items():
            owner, _, name = key.rpartition(".")
            # ParallelLinear keeps each member's weight transposed (see its docstring).
            state[key] = value[member].T if owner in linear and name == "weight" else value[member]
        return state


def stack_members(modules) -> StackedMembers | None:
    """One network that runs ``modules`` side by side, or ``None`` if they cannot be stacked.

    Stackable are networks of one shape built from ``nn.Linear`` layers with
    biases, weightless element-wise activations, ``nn.Sequential`` and
    :class:`~skae.nn.modules.AutoEncoderModule` without input noise. The
    stacked network holds copies of the members' weights
    (:meth:`StackedMembers.member_state` gives them back).

    Examples
    --------
    >>> import torch
    >>> from skae.nn.modules import mlp_autoencoder
    >>> members = [mlp_autoencoder(6, 2, [4], "relu", "identity") for _ in range(3)]
    >>> stacked = stack_members(members)
    >>> stacked(torch.zeros(5, 3, 6))["reconstruction"].shape
    torch.Size([5, 3, 6])
    """
    network = _stacked(list(modules))
    return None if network is None else StackedMembers(network)


def _stacked(layers: list) -> nn.Module | None:
    first = layers[0]
    if any(type(layer) is not type(first) for layer in layers):
        return None
    if type(first) is nn.Linear:
        shapes = {(layer.in_features, layer.out_features, layer.bias is None) for layer in layers}
        return ParallelLinear.of(layers) if len(shapes) == 1 and first.bias is not None else None
    if isinstance(first, _ELEMENTWISE):
        own = [*first.parameters(recurse=False), *first.buffers(recurse=False)]
        return None if own else first
    if type(first) is nn.Sequential:
        if len({len(layer) for layer in layers}) != 1:
            return None
        parts = [_stacked([layer[i] for layer in layers]) for i in range(len(first))]
        return None if any(p is None for p in parts) else nn.Sequential(*parts)
    if type(first) is AutoEncoderModule:
        if any(not isinstance(layer.noise, nn.Identity) for layer in layers):
            return None
        encoder = _stacked([layer.encoder for layer in layers])
        decoder = _stacked([layer.decoder for layer in layers])
        if encoder is None or decoder is None:
            return None
        return AutoEncoderModule(encoder, decoder)
    return None


class MembersObjective(nn.Module):
    """Each member's mean reconstruction loss over its rows in the batch, as a vector.

    ``objective`` is a plain :class:`~skae.nn.losses.Objective` (no
    penalties). Training steps on the sum, so each member gets its own
    gradient; the engine records each member's loss.
    """

    def __init__(self, objective: Objective):
        super().__init__()
        self.objective = objective

    def forward(self, output: dict, target: torch.Tensor, module: nn.Module) -> torch.Tensor:
        # Every row has as many values: the mean of the rows' means is the mean of all values. A
        # sum, scaled once per member, saves passes over the values in the backward pass.
        reconstruction = output["reconstruction"]
        if self.objective.loss == "mse":
            sums = squared_error_sums(reconstruction, target)
        else:
            errors = RECONSTRUCTION_ERRORS[self.objective.loss](reconstruction, target)
            sums = errors.sum(dim=[0, *range(2, errors.ndim)])
        rows, members = target.shape[:2]
        return sums / (rows * (target.numel() // max(rows * members, 1)))
