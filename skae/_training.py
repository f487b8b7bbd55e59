"""The one training path: build a module, train it, run it in blocks, save and restore it.

Every estimator that trains a torch network goes through these functions,
and this is the only module that talks to :mod:`skae._engine` (the skorch
side): an autoencoder's ``fit``, the stacked autoencoder's greedy
pretraining, and the supervised estimators' head warm-up and fine-tuning.
Estimators hold what it returns (the trained net as ``net_``) and never
subclass one another to reach it.

Randomness comes from a :class:`numpy.random.SeedSequence` per fit, whose
spawned children seed each stream apart: the validation split, the
initialisation, the input noise, the shuffling and each pretraining stage.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from . import _engine
from ._data import (
    InMemoryData,
    MemberRows,
    iter_row_blocks,
    resolve_device,
    restore_device,
    to_tensor,
)
from ._distributed import join, local_device, same_seed
from ._precision import check_compiler, check_precision, compile_mode
from ._random import init_parameters, make_generator, seed_from_random_state
from ._streaming import BlockData, is_out_of_core, row_blocks, split_blocks
from ._threads import threads_for, torch_threads
from ._utils import added_later_defaults, check_declared_sizes
from .exceptions import check_weights
from .nn.losses import Objective
from .nn.members import MembersObjective, stack_members
from .nn.modules import in_dtype

OPTIMIZERS = _engine.OPTIMIZERS
LR_SCHEDULES = _engine.LR_DROPS
module_device = _engine.module_device


def seed_sequence(random_state, group=None) -> np.random.SeedSequence:
    """The root of every random stream of one fit, from ``random_state``.

    In a data-parallel ``group`` every process takes rank 0's, so that all
    draw the same split, initialisation and order even with ``random_state=None``.
    """
    return np.random.SeedSequence(same_seed(seed_from_random_state(random_state), group))


def placement(device: str, distributed) -> tuple:
    """Where one fit trains: ``(device, group)``, its torch device and data-parallel group.

    ``group`` is ``None`` unless the fit trains data-parallel under a launcher
    (see :mod:`skae._distributed`); then a CUDA device is this process's own GPU.
    """
    group = join(distributed)
    return local_device(resolve_device(device), group), group


def torch_seed(seeds: np.random.SeedSequence) -> int:
    """A seed for a ``torch.Generator`` (a non-negative int64) from ``seeds``."""
    return int(seeds.generate_state(1, np.uint64)[0] % 2**63)


@dataclasses.dataclass(frozen=True)
class TrainingSettings:
    """How one network is trained: the estimator parameters the engine reads."""

    optimizer: object = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    max_epochs: int = 200
    batch_size: int | str = "auto"
    n_iter_no_change: int | None = 10
    tol: float = 1e-4
    lr_schedule: str = "plateau"
    callbacks: object = None
    verbose: int = 0
    distributed: object = "auto"
    precision: str = "32"
    compile: object = False
    n_jobs: int | None = None
    name: str = "skae"

    @classmethod
    def of(cls, estimator, **overrides) -> TrainingSettings:
        """The settings named by ``estimator``'s parameters, with ``overrides``."""
        names = [f.name for f in dataclasses.fields(cls) if f.name != "name"]
        values = {n: getattr(estimator, n) for n in names if hasattr(estimator, n)}
        return cls(**{"name": type(estimator).__name__, **values, **overrides})

    def as_dict(self) -> dict:
        """The settings by name (the values themselves, not copies)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


@dataclasses.dataclass(frozen=True)
class TrainingResult:
    """A trained net and what its training recorded."""

    net: object
    loss_curve: list
    validation_loss_curve: list | None
    best_loss: float

    def fitted_attributes(self) -> dict:
        """The fitted attributes every trained estimator sets (see TRAINED_ATTRIBUTE_KINDS)."""
        return {
            "net_": self.net,
            "n_iter_": len(self.loss_curve),
            "loss_curve_": self.loss_curve,
            "validation_loss_curve_": self.validation_loss_curve,
            "best_loss_": self.best_loss,
        }


# The fitted attributes of every estimator that trains a network (see skae._state).
TRAINED_ATTRIBUTE_KINDS = {
    "n_features_in_": "count",
    "feature_names_in_": "names?",
    "n_iter_": "count",
    "loss_curve_": "floats",
    "validation_loss_curve_": "floats_or_none",
    "best_loss_": "float",
}


def split_rows(n_samples: int, fraction, seeds: np.random.SeedSequence):
    """Training and validation row indices (``None`` for no validation rows)."""
    fraction = fraction or 0.0
    if fraction == 0:
        return np.arange(n_samples), None
    n_valid = max(1, int(round(fraction * n_samples)))
    if n_samples - n_valid < 1:
        raise ValueError(
            f"validation_fraction={fraction} leaves no training rows with n_samples = "
            f"{n_samples}; set validation_fraction=0 to train on all rows."
        )
    order = np.random.default_rng(seeds).permutation(n_samples)
    return np.sort(order[n_valid:]), np.sort(order[:n_valid])


def prepare(
    build, X, y, device, *, validation_fraction, seeds, max_parameters: int, owner: str, group=None
):
    """The new module ``build(n_features)`` and the rows it trains on, on ``device``.

    Returns ``(module, train, valid)``: the module as :func:`new_module` makes
    it (for a process of the data-parallel ``group``, if any), and ``X``
    (with each row's target ``y``, if any) split by :func:`split_rows` into
    training and validation data (``valid`` is ``None`` without validation
    rows).
    """
    split, build_seeds = seeds.spawn(2)
    module = new_module(
        build, X.shape[1], device, build_seeds, max_parameters, owner=owner, group=group
    )
    if y is None and is_out_of_core(X):
        blocks = row_blocks(X.shape[0], X.shape[1])
        train_blocks, valid_blocks = split_blocks(blocks, validation_fraction, split)
        valid = None if valid_blocks is None else BlockData(X, device, valid_blocks)
        return module, BlockData(X, device, train_blocks), valid
    train_idx, valid_idx = split_rows(X.shape[0], validation_fraction, split)
    if valid_idx is None:
        return module, InMemoryData(X, device, y=y), None
    train = InMemoryData.from_rows(X, train_idx, device, y)
    return module, train, InMemoryData.from_rows(X, valid_idx, device, y)


def training_rows(X, device):
    """All rows of ``X`` as training data: read block by block when ``X`` is on disk."""
    if is_out_of_core(X):
        return BlockData(X, device, row_blocks(X.shape[0], X.shape[1]))
    return InMemoryData(X, device)


def new_module(
    build, n_features: int, device, seeds, max_parameters: int, *, owner: str, group=None
):
    """``build(n_features)`` in float32 on ``device``, without touching global RNG state.

    Building on the meta device allocates nothing and draws nothing: a network
    of more than ``max_parameters`` is refused before any allocation. The
    weights are then drawn from a generator of their own, and layers that draw
    while training (input noise) get another, which in a data-parallel
    ``group`` differs between processes (rank 0's is that of a lone process),
    so that the shares of a batch are not corrupted alike.
    """
    init_seeds, noise_seeds = seeds.spawn(2)
    if group is not None and group.rank > 0:
        noise_seeds = noise_seeds.spawn(group.rank)[-1]
    with torch.device("meta"):
        module = build(n_features)
    _check_size(module, n_features, max_parameters, owner)
    module = module.to_empty(device=device).to(torch.float32)
    init_parameters(module, make_generator(torch_seed(init_seeds), device))
    noise = make_generator(torch_seed(noise_seeds), device)
    for layer in module.modules():
        if hasattr(layer, "set_generator"):
            layer.set_generator(noise)
    return module


def _check_size(module, n_features: int, max_parameters: int, owner: str) -> None:
    n_parameters = sum(p.numel() for p in module.parameters())
    if n_parameters <= max_parameters:
        return
    name, largest = max(module.named_parameters(), key=lambda item: item[1].numel())
    raise ValueError(
        f"{owner} on {n_features:,} features would have {n_parameters:,} "
        f"parameters ({4 * n_parameters / 2**30:.1f} GiB of float32 weights, about four times "
        f"that to train), more than the {max_parameters:,} skae builds; the largest "
        f"tensor, {name}, has shape {tuple(largest.shape)}. Reduce the features first (e.g. "
        "sklearn.feature_selection.VarianceThreshold, or TruncatedSVD for sparse counts) or "
        "give a narrower first layer in hidden_layer_sizes."
    )


# batch_size="auto": the CPU's batch, and on CUDA the widest batch and the steps an epoch keeps
# (measured in docs/speed.md, "Batch size").
AUTO_BATCH_SIZE_CPU, AUTO_MAX_BATCH_SIZE_CUDA, AUTO_STEPS_PER_EPOCH = 64, 1024, 50


def resolve_batch_size(batch_size, n_rows: int, device) -> int:
    """The rows per step that ``batch_size`` names for ``n_rows`` training rows on ``device``.

    ``"auto"`` is 64 on the CPU. On CUDA, where a step of a small network
    costs about the same at any width up to thousands of rows, it is the
    largest power of two at most ``n_rows / 50`` (about 50 steps an epoch),
    kept between 64 and 1024 (measured in docs/speed.md).

    Examples
    --------
    >>> from skae._training import resolve_batch_size
    >>> resolve_batch_size("auto", 60_000, "cpu"), resolve_batch_size(256, 60_000, "cuda")
    (64, 256)
    >>> [resolve_batch_size("auto", n, "cuda") for n in (1_797, 20_000, 54_000, 10**6)]
    [64, 256, 1024, 1024]
    """
    if batch_size != "auto":
        return batch_size
    if torch.device(device).type != "cuda":
        return AUTO_BATCH_SIZE_CPU
    widest = 1 << (max(n_rows // AUTO_STEPS_PER_EPOCH, 1).bit_length() - 1)  # a power of two
    return min(max(widest, AUTO_BATCH_SIZE_CPU), AUTO_MAX_BATCH_SIZE_CUDA)


def _net(
    module,
    objective,
    settings: TrainingSettings,
    device,
    shuffle_seed: int,
    monitor,
    members=False,
    n_rows=0,
):
    """The engine's net for ``module``, its ``batch_size`` resolved for ``n_rows`` training rows.

    Nets that only predict (loaded, or split from members trained side by
    side) are built with ``n_rows=0``: their batch size is resolved again,
    from the rows of each pass, before any :func:`train_pass`.
    """
    parameters = settings.as_dict()
    parameters["batch_size"] = resolve_batch_size(settings.batch_size, n_rows, device)
    return _engine.build_net(
        module,
        objective,
        device=device,
        early_stopping=monitor,
        shuffle_seed=shuffle_seed,
        members=members,
        **parameters,
    )


def train(module, objective, train_data, valid_data, settings, seeds) -> TrainingResult:
    """Train ``module`` on ``objective``, shuffling from ``seeds``; the module stays in eval mode.

    With validation rows, early stopping (when ``settings.n_iter_no_change``
    is not ``None``) monitors their loss, else the training loss, and the
    module keeps the weights of the best epoch; ``best_loss`` is the
    monitored loss of the epoch whose weights the module holds.
    """
    net = _trained_net(module, objective, train_data, valid_data, settings, seeds, False)
    return _result(net, net.history, _engine.kept_epoch(net), valid_data is not None)


def _trained_net(module, objective, train_data, valid_data, settings, seeds, members):
    monitor = "train_loss" if valid_data is None else "valid_loss"
    device = train_data.device
    _check_speed_settings(settings.precision, compile_mode(settings.compile, device), device)
    check_closure_free(settings.precision, settings.optimizer)
    seed = torch_seed(seeds)
    net = _net(module, objective, settings, device, seed, monitor, members, len(train_data))
    with _training_threads(module, train_data, net.batch_size, settings.n_jobs):
        _engine.train(net, train_data, valid_data)
    net.module_.eval()
    return net


def _result(net, history, kept: int, validated: bool) -> TrainingResult:
    """The result of ``net`` from its epoch rows ``history`` and its (1-based) kept epoch."""
    loss_curve = [row["train_loss"] for row in history if "train_loss" in row]
    valid_curve = [row["valid_loss"] for row in history if "valid_loss" in row]
    valid_curve = valid_curve if validated else None
    monitored = loss_curve if valid_curve is None else valid_curve
    return TrainingResult(net, loss_curve, valid_curve, float(monitored[kept - 1]))


@dataclasses.dataclass(frozen=True)
class TrainingPlan:
    """Everything :func:`train` takes to train one network, made before any training."""

    module: object
    objective: object
    train_data: object
    valid_data: object
    settings: TrainingSettings
    seeds: np.random.SeedSequence

    def train(self) -> TrainingResult:
        """:func:`train` on this plan."""
        return train(*(getattr(self, f.name) for f in dataclasses.fields(self)))


def train_all(plans: list[TrainingPlan]) -> list[TrainingResult]:
    """Train the networks of ``plans``: side by side as one stacked network when they can be.

    Networks of one shape (see :func:`skae.nn.members.stack_members`) with
    the same settings, objective and number of rows, in memory on one device,
    train together: each on its own rows, from its own initial weights, with
    its own validation rows and early stopping, and comes back as its own
    net, as :func:`train` gives it (a net that predicts; a later
    ``partial_fit`` starts a new optimizer, as after loading). Their batches
    are shuffled from one stream drawn from all the plans' seeds. Other plans
    are trained one after the other.
    """
    stacked = _stackable(plans)
    if stacked is None:
        return [plan.train() for plan in plans]
    first = plans[0]
    valid = None if first.valid_data is None else MemberRows([p.valid_data.X for p in plans])
    seeds = np.random.SeedSequence([torch_seed(p.seeds) for p in plans])
    objective = MembersObjective(first.objective)
    train_data = MemberRows([p.train_data.X for p in plans])
    net = _trained_net(stacked, objective, train_data, valid, first.settings, seeds, True)
    kept = _engine.kept_member_epochs(net, len(plans))
    device = train_data.device
    results = []
    for m, (plan, history) in enumerate(zip(plans, _engine.member_histories(net))):
        plan.module.load_state_dict(net.module_.member_state(m))
        member = _net(plan.module.eval(), plan.objective, plan.settings, device, 0, None)
        results.append(
            _result(_engine.restore(member, history), history, kept[m], valid is not None)
        )
    return results


def incremental_net(module, objective, settings, seeds, device):
    """A net around ``module`` to train one pass at a time (:func:`train_pass`)."""
    net = _net(module, objective, settings, device, torch_seed(seeds), None)
    net.initialize()
    return net


def train_pass(net, data, settings: TrainingSettings) -> float:
    """One more epoch of ``net`` over ``data``, optimizer state kept; its training loss.

    The pass trains with the precision, compile mode and threads of
    ``settings`` (the estimator's parameters now, which may have changed
    since the net was built or loaded). The module is left in eval mode. A
    pass that fails or is interrupted leaves the weights, the optimizer state
    and the history as they were.
    """
    mode = compile_mode(settings.compile, data.device)
    _check_speed_settings(settings.precision, mode, data.device)
    check_closure_free(settings.precision, net.optimizer)
    net.precision, net.compile_mode, net.n_jobs = settings.precision, mode, settings.n_jobs
    net.batch_size = resolve_batch_size(settings.batch_size, len(data), data.device)
    with _training_threads(net.module_, data, net.batch_size, net.n_jobs):
        return _engine.train_one_pass(net, data)


def _check_speed_settings(precision: str, mode, device) -> None:
    check_precision(precision, device)
    if mode is not None:
        check_compiler(device)


def check_closure_free(precision: str, optimizer) -> None:
    """Refuse ``"16-mixed"`` with an optimizer class that may need a closure to step.

    A gradient scaler steps without one; skae's named optimizers never need it.
    """
    if precision != "16-mixed" or isinstance(optimizer, str) or optimizer in OPTIMIZERS.values():
        return
    raise ValueError(
        f"precision='16-mixed' steps the optimizer through a gradient scaler, without a "
        f"closure, which {getattr(optimizer, '__name__', optimizer)} may need (as LBFGS does). "
        "Use one of optimizer='adam', 'adamw', 'sgd' or 'rmsprop', or precision='bf16-mixed'."
    )


def _training_threads(module, data, batch_size: int, n_jobs):
    """Run the block with the CPU threads that training ``module`` on ``data`` takes."""
    n_threads = threads_for(module, tuple(data.X.shape[1:]), batch_size, n_jobs, data.device)
    return torch_threads(n_threads)


def _stackable(plans: list[TrainingPlan]):
    """The plans' modules stacked (see skae.nn.members), or ``None`` if they train apart."""
    first = plans[0]
    settings, objective = first.settings, first.objective

    def rows(data):
        return None if data is None else (type(data), data.sparse, data.y is None, len(data))

    same = all(
        p.settings == settings
        and type(p.objective) is Objective
        and (p.objective.loss, p.objective.penalties) == (objective.loss, [])
        and (rows(p.train_data), rows(p.valid_data))
        == (rows(first.train_data), rows(first.valid_data))
        and p.train_data.device == first.train_data.device
        for p in plans
    )
    if (
        len(plans) < 2
        or not same
        or type(first.train_data) is not InMemoryData
        or first.train_data.sparse
        or first.train_data.y is not None
        or settings.callbacks
        or LR_SCHEDULES[settings.lr_schedule]  # the learning rate drops member by member
        or join(settings.distributed) is not None
    ):
        return None
    return stack_members([p.module for p in plans])


def run_in_blocks(net, fn, X, max_bytes: int, n_jobs=None) -> np.ndarray:
    """``fn(module, batch)`` over row blocks of ``X`` in eval mode, in ``X``'s precision.

    float64 input is computed in float64 (weights cast once for the call), so
    a row's result does not depend on the rows it comes with, the block size,
    the thread count or the CPU's kernels beyond float64 rounding; float32
    input is computed in float32. Blocks hold at most 4096 rows and about
    ``max_bytes`` of densified input; ``n_jobs`` sets the CPU threads (see
    skae._threads).
    """
    module = net.module_
    module.eval()
    device = module_device(net)
    dtype = np.float64 if X.dtype == np.float64 else np.float32
    row_bytes = max(X.shape[1], 1) * np.dtype(dtype).itemsize
    rows = max(1, min(4096, max_bytes // row_bytes))
    # Picked for a full block, not for X's rows, so that a call's size does not change it.
    threads = threads_for(module, X.shape[1], rows, n_jobs, device, lambda x: fn(module, x))
    with torch_threads(threads), torch.inference_mode():
        run = in_dtype(module, fn, torch.float64 if dtype == np.float64 else torch.float32)
        blocks = [
            run(to_tensor(block, device, dtype)).cpu().numpy() for block in iter_row_blocks(X, rows)
        ]
    return np.concatenate(blocks, axis=0)


# -- state: the plain data a trained net is saved as, by pickle, skops and skae.save -------
def net_state(net) -> dict:
    """What ``net`` holds, as plain data: float32 weights, history and device."""
    return {
        "weights": {k: v.detach().cpu().numpy() for k, v in net.module_.state_dict().items()},
        "history": _engine.plain_history(net),
        "device": str(module_device(net)),
    }


def restore_net(build, n_features: int, shape_params: dict, objective, settings, state, owner):
    """A net that predicts with ``build(n_features)`` holding ``state``'s weights.

    Checked strictly, as a file may be hostile: the layer counts and widths
    that ``shape_params`` declares against the tensors before anything is
    built; the module is then built on the meta device (allocating nothing,
    drawing nothing), and every tensor checked against it.
    """
    weights = state["weights"]
    largest = max((max(np.shape(v), default=1) for v in weights.values()), default=0)
    check_declared_sizes(shape_params, len(weights), largest)
    with torch.device("meta"):
        module = build(n_features)
    expected = {k: (tuple(v.shape), v.dtype) for k, v in module.state_dict().items()}
    check_weights(weights, expected, owner)
    module.load_state_dict(
        {k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in weights.items()},
        assign=True,
    )
    device = restore_device(state.get("device"))
    net = _net(module.to(device).eval(), objective, settings, device, 0, None)
    return _engine.restore(net, state["history"])


class NetworkState:
    """Pickling (and so skops) of an estimator holding a trained ``net_``.

    The net is saved as :func:`net_state` gives it, the same plain data that
    ``skae.save`` writes: ``_get_net_state`` and the estimator's
    ``_set_net_state`` are the one pair every format goes through.
    """

    def _get_net_state(self) -> dict:
        """The trained network as plain data: weights, history and device."""
        return net_state(self.net_)

    def __getstate__(self):
        state = super().__getstate__()
        if "net_" in state:
            state = {k: v for k, v in state.items() if k != "net_"}
            state["_net_state"] = self._get_net_state()
        return state

    def __setstate__(self, state):
        saved = state.pop("_net_state", None)
        # A pickle from before a parameter existed gets its default.
        state = {**added_later_defaults(type(self)), **state}
        super().__setstate__(state)
        if saved is not None:
            self._set_net_state(saved)
