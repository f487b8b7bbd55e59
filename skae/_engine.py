"""The training engine: the one module of skae that imports skorch.

Estimators build an :class:`AutoEncoderNet` inside ``fit`` (their ``net_``).
It is a skorch ``NeuralNet`` that keeps skorch's callbacks, history,
optimizer handling and early stopping, and replaces the per-sample
``Dataset``/``DataLoader`` path with batches sliced from tensors that are
already on the device (see :mod:`skae._data`).
"""

from __future__ import annotations

import copy
import math
import re
import sys

import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EarlyStopping, EpochTimer, PrintLog
from skorch.history import History
from skorch.utils import TeeGenerator
from tqdm import tqdm

from . import _distributed, _precision
from ._random import make_generator
from .exceptions import TrainingDivergedError

OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
}
# How often a plateau divides the learning rate by 10 before it stops training.
LR_DROPS = {"plateau": 2, "constant": 0, "cosine": 0}
# Fused kernels update all parameters in one call: about 30% less time per step
# for skae's small MLPs on the CPU (benchmarks/bench_overhead.py).
_FUSED = {"adam", "adamw", "sgd"}


def optimizer_options(optimizer, device) -> tuple[type, dict]:
    """The optimizer class and the fastest options torch supports for it on ``device``."""
    if not isinstance(optimizer, str):
        return optimizer, {}
    cls = OPTIMIZERS[optimizer]
    if optimizer in _FUSED and device.type in ("cpu", "cuda"):
        return cls, {"fused": True}
    return cls, {"foreach": True}


def _overrides(callback, method: str) -> bool:
    return getattr(type(callback), method) is not getattr(Callback, method)


class EpochProgressBar(Callback):
    """One tqdm bar over the epochs, showing the latest train and validation loss."""

    def __init__(self, desc: str = "skae"):
        self.desc = desc

    def on_train_begin(self, net, **kwargs):
        self.bar_ = tqdm(total=net.max_epochs, desc=self.desc, unit="epoch", leave=True)

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        losses = {k: f"{row[k]:.5g}" for k in ("train_loss", "valid_loss") if k in row}
        self.bar_.set_postfix(losses, refresh=False)
        self.bar_.update(1)

    def on_train_end(self, net, **kwargs):
        self.bar_.close()
        # A closed bar still holds its stream, which must not end up in a pickle.
        self.bar_ = None


_ANSI_CODE = re.compile(r"\x1b\[[0-9;]*m")


class EpochTable(PrintLog):
    """skorch's table of one row per epoch, with colours only on a terminal.

    Colour codes written into a pipe or a log file are noise, so they are
    dropped unless standard output is a terminal.
    """

    def format_row(self, row, key, color):
        text = super().format_row(row, key, color)
        if isinstance(text, str) and not _is_terminal(sys.stdout):
            text = _ANSI_CODE.sub("", text)
        return text


def _is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


class AutoEncoderNet(NeuralNet):
    """skorch ``NeuralNet`` specialised for in-memory reconstruction training.

    ``fit`` takes ``(train, valid)``, two :class:`~skae._data.InMemoryData`
    (``valid`` may be ``None``). The criterion is called as
    ``criterion(output, target, module)`` so that penalties can look at the
    module (e.g. its Jacobian).
    """

    # Set by restore(): the net of a loaded model only predicts (a refit builds a new net).
    _predict_only = False
    # While training data-parallel: the process group, and the module wrapped to average
    # gradients across it (see skae._distributed).
    _group = None
    _parallel = None
    _loss_scale = 1.0
    # For one fit or pass: the forwards that train and validate (compiled if asked, the
    # first data-parallel when training so), and the gradient scaler of precision="16-mixed".
    _forward = None
    _eval_forward = None
    _grad_scaler = None

    def __init__(
        self,
        module,
        criterion,
        *,
        shuffle_seed=0,
        progress_desc="skae",
        distributed="auto",
        precision="32",
        compile_mode=None,
        n_jobs=None,
        **kwargs,
    ):
        super().__init__(module, criterion, **kwargs)
        self.shuffle_seed = shuffle_seed
        self.progress_desc = progress_desc
        self.distributed = distributed
        self.precision = precision
        self.compile_mode = compile_mode
        self.n_jobs = n_jobs

    def initialize_optimizer(self, triggered_directly=None):
        # No optimizer for a net that only predicts: building torch's first optimizer imports
        # torch._dynamo (about 1.5 s), which a process that only loads models need not pay.
        if self._predict_only:
            # skorch learns the "optimizer" prefix when optimizer_ is set; without it, the
            # optimizer__* parameters would not validate.
            if "optimizer" not in self.prefixes_:
                self.prefixes_ = [*self.prefixes_, "optimizer"]
            return self
        return super().initialize_optimizer(triggered_directly)

    @property
    def _default_callbacks(self):
        callbacks = [("epoch_timer", EpochTimer())]
        if _distributed.rank(self.distributed) != 0:
            return callbacks  # the other processes of a data-parallel launch: rank 0 reports
        if self.verbose == 1:
            callbacks.append(("progress_bar", EpochProgressBar(self.progress_desc)))
        elif self.verbose >= 2:
            callbacks.append(("print_log", EpochTable()))
        return callbacks

    def initialize_callbacks(self):
        super().initialize_callbacks()
        callbacks = [cb for _, cb in self.callbacks_]
        # Batch-level notifications cost time on every step; only pay for them when
        # a callback actually listens.
        self._batch_listeners = any(
            _overrides(cb, m) for cb in callbacks for m in ("on_batch_begin", "on_batch_end")
        )
        self._grad_listeners = any(_overrides(cb, "on_grad_computed") for cb in callbacks)
        return self

    # -- interrupts -------------------------------------------------------------------
    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        """skorch's loop; a real Ctrl-C is kept in ``interrupted_`` for :func:`train` to raise.

        skorch stops training on any ``KeyboardInterrupt`` and returns, because
        its early stopping raises one; a user's Ctrl-C would then silently give
        a truncated model.
        """
        self.interrupted_ = None
        try:
            return super().fit_loop(X, y, epochs=epochs, **fit_params)
        except KeyboardInterrupt as exc:
            if not _stop_requested(self):
                keep = any(isinstance(cb, StopOnInterrupt) for _, cb in self.callbacks_)
                complete = [row for row in self.history if "train_loss" in row]
                if keep and complete:
                    if len(complete) < len(self.history):
                        del self.history[-1]  # the epoch the interrupt cut short
                    self.history.record("interrupted", True)
                else:
                    self.interrupted_ = exc
            raise  # skorch's partial_fit ends training on it
        finally:
            _distributed.release(self._parallel)
            # Each fit or pass wraps the module anew (the gradient scaler's state is kept across
            # the passes of partial_fit, and dropped by train()).
            self._group = self._parallel = self._forward = self._eval_forward = None

    # -- data -------------------------------------------------------------------------
    def get_split_datasets(self, X, y=None, **fit_params):
        train, valid = X
        device = torch.device("cpu") if train.sparse else train.device
        # One stream per device, kept across the passes of partial_fit (train() drops it).
        generators = getattr(self, "_shuffle_generators", None) or {}
        if str(device) not in generators:
            generators[str(device)] = make_generator(self.shuffle_seed, device)
        self._shuffle_generators = generators
        self._shuffle_generator = generators[str(device)]
        self._group = _distributed.join(self.distributed)
        if self._group is not None:
            _distributed.check_same_rows(train, valid, self._group)
            # Not an attribute skorch manages (and saves): a wrapper for this fit only.
            vars(self)["_parallel"] = _distributed.parallel(
                self.module_, module_device(self), self._group
            )
        compiled = _compiled(self.module_, self.compile_mode)
        forward = (
            compiled if self._parallel is None else _compiled(self._parallel, self.compile_mode)
        )
        vars(self).update(_forward=forward, _eval_forward=compiled)
        if self._grad_scaler is None or self.precision != "16-mixed":
            scaler = _precision.grad_scaler(self.precision, module_device(self))
            vars(self)["_grad_scaler"] = scaler
        return train, valid

    def get_iterator(self, dataset, training=False):
        generator = self._shuffle_generator if training else None
        batches = dataset.batches(self.batch_size, generator)
        return batches if self._group is None else _distributed.Shards(batches, self._group)

    # -- steps ------------------------------------------------------------------------
    def get_loss(self, y_pred, y_true, X=None, training=False):
        return self.criterion_(y_pred, y_true, self.module_)

    def infer(self, x, **fit_params):
        """The module's output for ``x`` in training's precision, as float32; compiled if asked."""
        return self._run(self._eval_forward, x)

    def _run(self, forward, x):
        with _precision.autocast(self.precision, x.device):
            return _precision.in_float32((self.module_ if forward is None else forward)(x))

    def train_step(self, batch, **fit_params):
        Xi, yi = batch
        step = {}
        scale = self._loss_scale
        grad_scaler = self._grad_scaler

        def closure():
            self.optimizer_.zero_grad(set_to_none=True)
            y_pred = self._run(self._forward, Xi)
            if len(Xi):
                loss = self.get_loss(y_pred, yi, X=Xi, training=True)
            else:  # an empty share of a batch: zero gradients keep the processes in step
                loss = sum(p.sum() for p in self.module_.parameters()) * 0.0
            # Weighted by this share's rows, the averaged gradient is the whole batch's. Members
            # trained side by side give one loss each: their sum gives each its own gradient.
            total = loss if loss.ndim == 0 else loss.sum()
            scaled = total if scale == 1.0 else total * scale
            (scaled if grad_scaler is None else grad_scaler.scale(scaled)).backward()
            if self._grad_listeners:
                if grad_scaler is not None:
                    grad_scaler.unscale_(self.optimizer_)
                params = TeeGenerator(self.get_all_learnable_params())
                self.notify("on_grad_computed", named_parameters=params, batch=batch, training=True)
            step.setdefault("loss", loss)
            step.setdefault("y_pred", y_pred)
            return loss

        if grad_scaler is None:
            self.optimizer_.step(closure)
        else:  # a GradScaler steps without a closure: skip steps whose gradients overflowed
            closure()
            grad_scaler.step(self.optimizer_)
            grad_scaler.update()
        return step

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        super().on_epoch_begin(net, dataset_train=dataset_train, dataset_valid=dataset_valid)
        # Modules that change over training (scheduled noise) read the progress here.
        # Past max_epochs (more passes of partial_fit) the schedule stays at its end.
        progress = min(1.0, (len(self.history) - 1) / max(self.max_epochs, 1))
        for module in self.module_.modules():
            if hasattr(module, "set_training_progress"):
                module.set_training_progress(progress)

    def _set_training(self, training=True):
        # skorch's validation step sets the mode again for every batch, each time a walk of every
        # submodule that costs a small network about as much as the step. run_single_epoch sets
        # it in full at the start of each pass, so a module already in the mode is left as it is.
        for name in self._modules + self._criteria:
            module = getattr(self, name + "_")
            if isinstance(module, torch.nn.Module) and module.training != training:
                module.train(training)

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        if iterator is None:
            return
        super()._set_training(training)  # in full, every module and submodule
        device = module_device(self)
        # Summing on the device avoids a host synchronisation on every batch.
        total = torch.zeros((), device=device)
        n_samples = n_batches = 0
        history = self.history
        for batch in iterator:
            size = batch[0].shape[0]
            if not size and not training:
                continue  # an empty share of a validation batch
            self._loss_scale = getattr(iterator, "scale", 1.0)
            history.new_batch()
            if self._batch_listeners:
                self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            total = total + step["loss"].detach() * size
            n_samples += size
            n_batches += 1
            history.record_batch(prefix + "_batch_size", size)
            if self._batch_listeners:
                # Per-batch losses cost a device synchronisation: only for listeners.
                history.record_batch(prefix + "_loss", step["loss"].mean().item())
                self.notify("on_batch_end", batch=batch, training=training, **step)
        if self._group is not None:  # every process records the same loss, and stops alike
            total, n_samples = _distributed.sum_across([total, n_samples], device)
            if training:
                _distributed.agree_buffers(self.module_, self._group)
        losses = torch.as_tensor(total) / max(n_samples, 1)  # a float once summed across processes
        loss = float(losses.mean())  # one value per member side by side: record their mean
        if not math.isfinite(loss):
            epoch = len(self.history)
            raise TrainingDivergedError(
                f"The {prefix} loss became {loss} in epoch {epoch}, so training stopped. "
                f"The learning rate lr={self.lr} is probably too large: try a smaller lr "
                f"(e.g. lr={self.lr / 10:g}), or scale the input (e.g. StandardScaler)."
            )
        key = prefix + "_loss"
        previous = [row[key] for row in self.history[:-1] if key in row]
        self.history.record(key, loss)
        self.history.record(key + "_best", not previous or loss < min(previous))
        self.history.record(prefix + "_batch_count", n_batches)
        if losses.ndim:
            self.history.record(key + "_members", losses.tolist())


class StopOnInterrupt(Callback):
    """Make Ctrl-C end training early, keeping the model, instead of aborting ``fit``.

    By default a ``KeyboardInterrupt`` during ``fit`` stops training at once,
    leaves the estimator as it was before ``fit`` was called (a previous fit
    intact, or unfitted) and is raised again. With this callback in the
    estimator's ``callbacks``, it ends training the way early stopping does:
    ``fit`` returns normally with the weights trained so far (the best
    epoch's, when early stopping is on), and the last completed epoch of
    ``history_`` records ``interrupted=True``. An interrupt before the first
    epoch completes is raised all the same: there is nothing to keep.

    Examples
    --------
    >>> from skae import AutoEncoder, StopOnInterrupt
    >>> ae = AutoEncoder(n_components=8, callbacks=[StopOnInterrupt()])
    """

    def __init__(self):
        pass  # a marker: AutoEncoderNet.fit_loop looks for it


def _stop_requested(net) -> bool:
    """Whether early stopping raised the KeyboardInterrupt by which skorch stops training."""
    return any(
        (isinstance(cb, EarlyStopping) and getattr(cb, "misses_", 0) >= cb.patience)
        or (isinstance(cb, MemberStopping) and cb.stop_requested_)
        for _, cb in net.callbacks_
    )


class PlateauStopping(EarlyStopping):
    """Early stopping that first lowers the learning rate when the loss stalls.

    When ``monitor`` has not improved by ``threshold`` (relative) for
    ``patience`` epochs, the learning rate of every parameter group is
    multiplied by ``lr_factor``, at most ``max_lr_drops`` times; the next
    stall stops training, as :class:`skorch.callbacks.EarlyStopping` does.
    With ``max_lr_drops=0`` it is plain early stopping. Each epoch's
    learning rate is recorded in the history as ``lr``.
    """

    def __init__(self, *, max_lr_drops=2, lr_factor=0.1, **kwargs):
        super().__init__(**kwargs)
        self.max_lr_drops = max_lr_drops
        self.lr_factor = lr_factor

    def on_train_begin(self, net, **kwargs):
        super().on_train_begin(net, **kwargs)
        self.lr_drops_ = 0

    def on_epoch_end(self, net, **kwargs):
        net.history.record("lr", float(net.optimizer_.param_groups[0]["lr"]))
        stalled = not self._is_score_improved(net.history[-1, self.monitor])
        if stalled and self.misses_ + 1 >= self.patience and self.lr_drops_ < self.max_lr_drops:
            self.lr_drops_ += 1
            self.misses_ = 0
            for group in net.optimizer_.param_groups:
                group["lr"] = group["lr"] * self.lr_factor
            return
        super().on_epoch_end(net, **kwargs)


class MemberStopping(Callback):
    """Early stopping for each member of networks trained side by side (see skae.nn.members).

    Member ``m`` stops when its own loss in ``monitor`` (the history's
    ``<monitor>_members``) has not improved for ``patience`` epochs, by
    the rule of :class:`skorch.callbacks.EarlyStopping` (relative threshold
    ``threshold``), and keeps the weights of its best epoch; the stacked
    parameters hold each member's weights in their first dimension. A
    stopped member goes on training with the others, and those updates are
    dropped when its best weights come back. Training ends when every member
    has stopped. ``best_epochs_`` and ``stopped_epochs_`` give each member's
    (1-based) kept and last epochs.
    """

    def __init__(self, *, monitor="valid_loss", patience=10, threshold=1e-4):
        self.monitor = monitor
        self.patience = patience
        self.threshold = threshold

    def on_train_begin(self, net, **kwargs):
        n_members = next(net.module_.parameters()).shape[0]
        self.thresholds_ = [math.inf] * n_members
        self.misses_ = [0] * n_members
        self.best_epochs_ = [0] * n_members
        self.stopped_epochs_ = [None] * n_members
        state = net.module_.state_dict()
        self.best_model_weights_ = {k: v.clone() for k, v in state.items()}
        # Views of the weights, which the optimizer updates in place: read every epoch without
        # walking the module again.
        self._weights = list(state.values())

    @property
    def stop_requested_(self) -> bool:
        stopped = getattr(self, "stopped_epochs_", None)
        return bool(stopped) and all(epoch is not None for epoch in stopped)

    def on_epoch_end(self, net, **kwargs):
        net.history.record("lr", float(net.optimizer_.param_groups[0]["lr"]))  # as PlateauStopping
        epoch = len(net.history)
        losses = net.history[-1, self.monitor + "_members"]
        improved = []
        for m, loss in enumerate(losses):
            if self.stopped_epochs_[m] is not None:
                continue
            if loss < self.thresholds_[m]:
                self.thresholds_[m] = loss - self.threshold * loss
                self.misses_[m], self.best_epochs_[m] = 0, epoch
                improved.append(m)
            else:
                self.misses_[m] += 1
                if self.misses_[m] == self.patience:
                    self.stopped_epochs_[m] = epoch
        if improved:
            bests = list(self.best_model_weights_.values())
            with torch.no_grad():
                if len(improved) == len(losses):
                    torch._foreach_copy_(bests, self._weights)  # one call for every tensor
                else:
                    index = torch.tensor(improved, device=self._weights[0].device)
                    for best, value in zip(bests, self._weights):
                        best.index_copy_(0, index, value.index_select(0, index))
        if self.stop_requested_:
            raise KeyboardInterrupt  # skorch's way to end training

    def on_train_end(self, net, **kwargs):
        last = len(net.history)
        self.stopped_epochs_ = [last if e is None else e for e in self.stopped_epochs_]
        if self.best_model_weights_ is not None and any(self.best_epochs_):
            net.module_.load_state_dict(self.best_model_weights_)


def member_histories(net: AutoEncoderNet) -> list[list[dict]]:
    """The history of each member of networks trained side by side, as if trained alone.

    Member ``m``'s epochs end at the one where it stopped; each row has its
    own losses (and whether they were its best so far), the epoch's time,
    and the learning rate when recorded.
    """
    rows = [row for row in net.history if "train_loss_members" in row]
    stopping = [cb for _, cb in net.callbacks_ if isinstance(cb, MemberStopping)]
    n_members = len(rows[0]["train_loss_members"])
    stops = stopping[0].stopped_epochs_ if stopping else [len(rows)] * n_members
    histories = []
    for m, stop in enumerate(stops):
        history, best = [], {}
        for row in rows[:stop]:
            member = {"epoch": row["epoch"], "dur": row["dur"]}
            for prefix in ("train", "valid"):
                if prefix + "_loss_members" in row:
                    loss = row[prefix + "_loss_members"][m]
                    member[prefix + "_loss"] = loss
                    member[prefix + "_loss_best"] = loss < best.get(prefix, math.inf)
                    best[prefix] = min(loss, best.get(prefix, math.inf))
            if "lr" in row:
                member["lr"] = row["lr"]
            history.append(member)
        histories.append(history)
    return histories


def _compiled(module, mode):
    """``module`` through ``torch.compile`` in ``mode``; the module itself for ``None``.

    The compiled wrapper shares the module's parameters, and the module
    itself (saved, restored, exported) is never replaced by it.
    """
    return module if mode is None else torch.compile(module, mode=mode)


class CosineSchedule(Callback):
    """Anneal the learning rate from its start to near zero along a half cosine over ``max_epochs``.

    Epoch ``e`` (from 0) trains at ``lr * (1 + cos(pi * e / max_epochs)) / 2``
    (Loshchilov & Hutter 2017, without restarts); passes beyond
    ``max_epochs`` (``partial_fit``) keep the last epoch's rate. Each epoch's
    rate is recorded in the history as ``lr``.
    """

    def on_train_begin(self, net, **kwargs):
        if not hasattr(self, "start_lr_"):  # passes of partial_fit keep the first pass's start
            self.start_lr_ = [group["lr"] for group in net.optimizer_.param_groups]

    def on_epoch_begin(self, net, **kwargs):
        epochs = max(net.max_epochs, 1)
        epoch = min(len(net.history) - 1, epochs - 1)
        factor = 0.5 * (1.0 + math.cos(math.pi * epoch / epochs))
        for group, start in zip(net.optimizer_.param_groups, self.start_lr_):
            group["lr"] = start * factor
        net.history.record("lr", float(net.optimizer_.param_groups[0]["lr"]))


def _copy_callback(callback):
    """A fresh copy, so that fitting leaves the ``callbacks`` parameter as it was.

    Callbacks holding what cannot be copied (a lock, a log writer) are used as
    given, as skorch itself does.
    """
    try:
        return copy.deepcopy(callback)
    except (TypeError, copy.Error, AttributeError):
        return callback


def build_net(
    module,
    objective,
    *,
    optimizer,
    lr,
    weight_decay,
    max_epochs,
    batch_size,
    device,
    verbose,
    early_stopping,
    n_iter_no_change,
    tol,
    lr_schedule,
    callbacks,
    shuffle_seed,
    name,
    distributed,
    precision,
    compile,
    n_jobs,
    members=False,
) -> AutoEncoderNet:
    """Assemble the skorch net for one ``fit``; nothing is trained yet.

    ``members`` says that ``module`` is networks stacked side by side (see
    skae.nn.members), each stopping early on its own.
    """
    extra = [_copy_callback(cb) for cb in (callbacks or [])]
    if members and early_stopping and n_iter_no_change is not None:
        stopping = MemberStopping(monitor=early_stopping, patience=n_iter_no_change, threshold=tol)
        extra.append(("early_stopping", stopping))
    elif early_stopping and n_iter_no_change is not None:
        extra.append(
            (
                "early_stopping",
                PlateauStopping(
                    max_lr_drops=LR_DROPS[lr_schedule],
                    monitor=early_stopping,
                    patience=n_iter_no_change,
                    threshold=tol,
                    threshold_mode="rel",
                    load_best=True,
                ),
            )
        )
    if lr_schedule == "cosine":
        extra.append(("cosine_schedule", CosineSchedule()))
    optimizer_cls, options = optimizer_options(optimizer, device)
    if weight_decay:
        # Only when asked: some optimizers (LBFGS) take no weight_decay at all.
        options["weight_decay"] = weight_decay
    return AutoEncoderNet(
        module,
        objective,
        optimizer=optimizer_cls,
        lr=lr,
        **{f"optimizer__{k}": v for k, v in options.items()},
        max_epochs=max_epochs,
        batch_size=batch_size,
        train_split=None,
        callbacks=extra,
        device=str(device),
        verbose=verbose,
        shuffle_seed=shuffle_seed,
        progress_desc=name,
        distributed=distributed,
        precision=precision,
        compile_mode=_precision.compile_mode(compile, device),
        n_jobs=n_jobs,
    )


def train(net: AutoEncoderNet, train_data, valid_data) -> AutoEncoderNet:
    """Fit ``net`` and drop what only training needed (kept weight copies)."""
    try:
        net.fit((train_data, valid_data))
        if net.interrupted_ is not None:
            raise net.interrupted_
    finally:
        for _, cb in getattr(net, "callbacks_", []):
            if isinstance(cb, (EarlyStopping, MemberStopping)):
                cb.best_model_weights_ = None
                vars(cb).pop("_weights", None)  # MemberStopping's views of the weights
            if isinstance(cb, EpochProgressBar) and getattr(cb, "bar_", None) is not None:
                cb.on_train_end(net)  # training raised: close the bar all the same
        net._shuffle_generator = net._shuffle_generators = net._grad_scaler = None
    return net


def train_one_pass(net: AutoEncoderNet, data) -> float:
    """One more epoch of ``net`` over ``data``, keeping its optimizer state; its training loss.

    Early stopping is dropped: one pass has nothing to compare with. If the
    pass fails or is interrupted, the weights, the optimizer state and the
    history come back as they were before it.
    """
    if net._predict_only:  # a loaded model: its optimizer starts now
        net._predict_only = False
        net.initialize_optimizer()
    # A net made by fit keeps its early stopping: not for passes (partial_fit never re-initialises).
    net.callbacks_ = [(n, cb) for n, cb in net.callbacks_ if not isinstance(cb, EarlyStopping)]
    weights = {k: v.clone() for k, v in net.module_.state_dict().items()}
    optimizer = copy.deepcopy(net.optimizer_.state_dict())
    n_epochs = len(net.history)
    try:
        net.partial_fit((data, None), epochs=1)
        if net.interrupted_ is not None:
            raise net.interrupted_
    except BaseException:
        net.module_.load_state_dict(weights)
        net.optimizer_.load_state_dict(optimizer)
        del net.history[n_epochs:]
        raise
    finally:
        for _, cb in net.callbacks_:
            if isinstance(cb, EpochProgressBar) and getattr(cb, "bar_", None) is not None:
                cb.on_train_end(net)
    net.module_.eval()
    return float(net.history[-1, "train_loss"])


def kept_epoch(net: AutoEncoderNet) -> int:
    """The (1-based) epoch whose weights the module holds after training."""
    for _, cb in net.callbacks_:
        if isinstance(cb, EarlyStopping) and cb.load_best and cb.best_epoch_:
            return cb.best_epoch_
    return len(net.history)


def kept_member_epochs(net: AutoEncoderNet, n_members: int) -> list[int]:
    """The (1-based) epoch whose weights each member holds after training side by side."""
    for _, cb in net.callbacks_:
        if isinstance(cb, MemberStopping):
            return list(cb.best_epochs_)
    return [len(net.history)] * n_members


def module_device(net: AutoEncoderNet) -> torch.device:
    return next(net.module_.parameters()).device


def plain_history(net: AutoEncoderNet) -> list[dict]:
    """The epoch rows with plain scalar values only (no batches, no tensors)."""
    keep = (bool, int, float, str)
    return [
        {k: v for k, v in row.items() if isinstance(v, keep) and not isinstance(v, type)}
        for row in net.history
    ]


def restore(net: AutoEncoderNet, history: list[dict]) -> AutoEncoderNet:
    """Initialise a net around an already fitted module, with its past history, to predict."""
    net._predict_only = True
    net.initialize()
    net.history = History([dict(row) for row in history])
    return net
