"""The scikit-learn side of every skae autoencoder.

:class:`BaseAutoEncoder` owns validation, seeding, the train/validation
split, batched inference and the fitted-state contract. A variant declares
its new parameters in an explicit ``__init__`` (and in
``_parameter_constraints``), documents the shared ones with
:func:`skae._docstring.fill_doc`, and overrides one or two hooks:

- ``_build_module(n_features)``: the torch module (default: a mirrored MLP);
- ``_build_noise()``: input corruption applied only in training;
- ``_penalties()``: extra loss terms, each ``f(output, target, module)``;
- ``_build_objective()``: the whole training criterion;
- ``_code_activation``: the activation of the code layer;
- ``_prepare_input(X)``: reshape what the user passes (e.g. images) into rows;
- ``_pretrain(module, train, valid, device, seed)``: train parts of the module
  before the end-to-end training (greedy layer-wise pretraining).
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _engine
from ._data import (
    InMemoryData,
    check_float32_range,
    iter_row_blocks,
    resolve_device,
    restore_device,
    to_tensor,
)
from ._losses import RECONSTRUCTION_LOSSES, Objective
from ._modules import ACTIVATIONS, in_dtype, mlp_autoencoder
from ._random import init_parameters, make_generator, seed_from_random_state
from ._utils import (
    LAYER_SIZES,
    Interval,
    ModuleClass,
    StrOptions,
    check_declared_sizes,
    check_layer_sizes,
    check_module_class,
    fresh_fit,
    layer_sizes,
    reads_fitted,
)
from .exceptions import check_weights

# The fitted attributes of every estimator that trains a network (see skae._state).
TRAINED_ATTRIBUTE_KINDS = {
    "n_features_in_": "count",
    "feature_names_in_": "names?",
    "n_iter_": "count",
    "loss_curve_": "floats",
    "validation_loss_curve_": "floats_or_none",
    "best_loss_": "float",
}


class BaseAutoEncoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Base class of skae's autoencoders; not for direct use."""

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": LAYER_SIZES,
        "activation": [StrOptions(set(ACTIVATIONS)), ModuleClass()],
        "output_activation": [StrOptions(set(ACTIVATIONS)), ModuleClass(), None],
        "loss": [StrOptions(set(RECONSTRUCTION_LOSSES))],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "optimizer": [StrOptions(set(_engine.OPTIMIZERS)), type],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "penalties": [list, tuple, None],
        "validation_fraction": [Interval(Real, 0, 1, closed="left"), None],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), None],
        "tol": [Interval(Real, 0, None, closed="left")],
        "lr_schedule": [StrOptions(set(_engine.LR_DROPS))],
        "device": [str],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "callbacks": [list, tuple, None],
    }

    # Fitted attributes besides net_, with the kind of value each holds (see skae._state).
    _attribute_kinds_ = TRAINED_ATTRIBUTE_KINDS

    _code_activation = "identity"
    # Whether the variant keeps a code wider than the input informative (a sparsity or
    # contraction penalty, input noise, a prior, binary units); if not, fit warns.
    _regularised_code = False
    # Rows per inference block: at most 4096, and at most ~16 MB of densified input.
    _inference_bytes = 2**24
    # The most parameters fit builds (1 GiB of float32 weights, ~4 GiB to train with Adam);
    # a larger network is refused before anything is allocated (docs/index.md, Errors).
    _max_parameters = 2**28

    def __init__(
        self,
        n_components=2,
        *,
        hidden_layer_sizes=(256, 128),
        activation="relu",
        output_activation=None,
        loss="mse",
        max_epochs=200,
        batch_size=64,
        lr=1e-3,
        optimizer="adam",
        weight_decay=0.0,
        penalties=None,
        validation_fraction=None,
        n_iter_no_change=10,
        tol=1e-4,
        lr_schedule="plateau",
        device="auto",
        random_state=None,
        verbose=0,
        callbacks=None,
    ):
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.output_activation = output_activation
        self.loss = loss
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.penalties = penalties
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.lr_schedule = lr_schedule
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks

    # -- hooks ------------------------------------------------------------------------
    def _resolved_output_activation(self):
        if self.output_activation is not None:
            return self.output_activation
        return "sigmoid" if self.loss == "bce" else "identity"

    def _resolved_code_activation(self):
        return self._code_activation

    def _build_noise(self):
        return None

    def _build_module(self, n_features: int) -> torch.nn.Module:
        return mlp_autoencoder(
            n_features,
            self.n_components,
            layer_sizes(self.hidden_layer_sizes),
            self.activation,
            self._resolved_output_activation(),
            code_activation=self._resolved_code_activation(),
            noise=self._build_noise(),
        )

    def _penalties(self) -> list:
        return []

    def _prepare_input(self, X):
        """Turn the user's ``X`` into rows before validation (identity here)."""
        return X

    def _pretrain(self, module, train, valid, device, seed: int) -> None:
        """Train parts of ``module`` before end-to-end training (nothing here)."""

    def _all_penalties(self) -> list:
        """The variant's own penalty terms, then the user's ``penalties``."""
        return [*self._penalties(), *(self.penalties or [])]

    def _build_objective(self) -> torch.nn.Module:
        return Objective(self.loss, self._all_penalties())

    def _check_params(self, X=None) -> None:
        """Checks that need more than one parameter, or the data (when given)."""
        if (
            X is not None
            and self.n_components > X.shape[1]
            and not (self._regularised_code or self.penalties)
        ):
            warnings.warn(
                f"n_components={self.n_components} is more than the {X.shape[1]} input features: "
                "the code is overcomplete, and with nothing to stop it the autoencoder can learn "
                "to copy its input instead of finding structure. That is wanted with a regulariser "
                "that keeps a wide code informative (SparseAutoEncoder, DenoisingAutoEncoder, "
                "ContractiveAutoEncoder, or penalties=[...]); otherwise pass n_components <= "
                f"{X.shape[1]}.",
                UserWarning,
                stacklevel=3,
            )
        check_layer_sizes("hidden_layer_sizes", self.hidden_layer_sizes)
        for name in ("activation", "output_activation"):
            check_module_class(name, getattr(self, name))
        for term in self.penalties or []:
            if not callable(term):
                raise TypeError(
                    f"penalties must hold callables term(output, target, module), got "
                    f"{term!r}; see skae.penalties (e.g. L1Activity(1e-3))."
                )
        if isinstance(self.optimizer, type) and not issubclass(
            self.optimizer, torch.optim.Optimizer
        ):
            raise TypeError(
                f"optimizer={self.optimizer.__name__} is not a torch.optim.Optimizer subclass; "
                "pass 'adam', 'adamw', 'sgd', 'rmsprop' or an optimizer class."
            )
        if self.loss == "bce" and self._resolved_output_activation() not in (
            "sigmoid",
            torch.nn.Sigmoid,
        ):
            raise ValueError(
                "loss='bce' needs probabilities as reconstructions: set "
                "output_activation='sigmoid' (or leave it None)."
            )
        if self.loss == "bce" and X is not None:
            values = X.data if sp.issparse(X) else X
            lo, hi = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
            if lo < 0 or hi > 1:
                raise ValueError(
                    f"loss='bce' needs every input value in [0, 1], but X ranges over "
                    f"[{lo:g}, {hi:g}]. Scale it first (e.g. sklearn.preprocessing."
                    "MinMaxScaler) or use loss='mse'."
                )

    # -- fitting ----------------------------------------------------------------------
    def fit(self, X, y=None):
        """Train the autoencoder to reconstruct ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. Sparse input is densified one batch at a time.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        with fresh_fit(self):
            self._validate_params()
            X = validate_data(
                self, self._prepare_input(X), accept_sparse="csr", dtype=[np.float64, np.float32]
            )
            check_float32_range(X)
            self._check_params(X)
            self._fit(X)
        return self

    def _split(self, n_samples: int, seed: int):
        fraction = self.validation_fraction or 0.0
        if fraction == 0:
            return np.arange(n_samples), None
        n_valid = max(1, int(round(fraction * n_samples)))
        if n_samples - n_valid < 1:
            raise ValueError(
                f"validation_fraction={fraction} leaves no training rows with n_samples = "
                f"{n_samples}; set validation_fraction=0 to train on all rows."
            )
        order = np.random.default_rng(seed).permutation(n_samples)
        return np.sort(order[n_valid:]), np.sort(order[:n_valid])

    def _new_module(self, n_features: int, device, seed: int) -> torch.nn.Module:
        """Build the module without touching global RNG state, in float32 on ``device``.

        Building on the meta device allocates nothing and draws nothing; the
        weights are then drawn from a local generator.
        """
        with torch.device("meta"):
            module = self._build_module(n_features)
        self._check_size(module, n_features)
        module = module.to_empty(device=device).to(torch.float32)
        init_parameters(module, make_generator(seed, device))
        # Layers that draw at training time (input noise) get their own local stream.
        training_stream = make_generator((seed + 2) % 2**63, device)
        for layer in module.modules():
            if hasattr(layer, "set_generator"):
                layer.set_generator(training_stream)
        return module

    def _check_size(self, module: torch.nn.Module, n_features: int) -> None:
        """Refuse a network larger than ``_max_parameters``, naming its largest tensor."""
        n_parameters = sum(p.numel() for p in module.parameters())
        if n_parameters <= self._max_parameters:
            return
        name, largest = max(module.named_parameters(), key=lambda item: item[1].numel())
        raise ValueError(
            f"{type(self).__name__} on {n_features:,} features would have {n_parameters:,} "
            f"parameters ({4 * n_parameters / 2**30:.1f} GiB of float32 weights, about four times "
            f"that to train), more than the {self._max_parameters:,} skae builds; the largest "
            f"tensor, {name}, has shape {tuple(largest.shape)}. Reduce the features first (e.g. "
            "sklearn.feature_selection.VarianceThreshold, or TruncatedSVD for sparse counts) or "
            "give a narrower first layer in hidden_layer_sizes."
        )

    def _make_net(self, module, device, seed: int, monitor, objective=None, max_epochs=None):
        """The skorch net that trains ``module`` (by default on the estimator's objective)."""
        return _engine.build_net(
            module,
            self._build_objective() if objective is None else objective,
            optimizer=self.optimizer,
            lr=self.lr,
            weight_decay=self.weight_decay,
            max_epochs=self.max_epochs if max_epochs is None else max_epochs,
            batch_size=self.batch_size,
            device=device,
            verbose=self.verbose,
            early_stopping=monitor,
            n_iter_no_change=self.n_iter_no_change,
            tol=self.tol,
            lr_schedule=self.lr_schedule,
            callbacks=self.callbacks,
            shuffle_seed=seed,
            name=type(self).__name__,
        )

    def _fit(self, X, y=None) -> None:
        device = resolve_device(self.device)
        seed = seed_from_random_state(self.random_state)
        train_idx, valid_idx = self._split(X.shape[0], seed)
        module = self._new_module(X.shape[1], device, seed)
        data = InMemoryData(X, device, y=y)  # with y, each row's target (a supervised head)
        train = data if valid_idx is None else data.subset(train_idx)
        valid = None if valid_idx is None else data.subset(valid_idx)
        del data
        self._pretrain(module, train, valid, device, seed)
        monitor = "valid_loss" if valid is not None else "train_loss"
        # A shuffling stream apart from the initialisation stream.
        net = self._make_net(module, device, (seed + 1) % 2**63, monitor)
        _engine.train(net, train, valid)
        net.module_.eval()
        self.net_ = net
        self.loss_curve_ = _engine.history_column(net, "train_loss")
        self.n_iter_ = len(self.loss_curve_)
        valid_curve = _engine.history_column(net, "valid_loss")
        self.validation_loss_curve_ = valid_curve if valid is not None else None
        monitored = valid_curve if valid is not None else self.loss_curve_
        self.best_loss_ = float(monitored[_engine.kept_epoch(net) - 1])

    # -- state: pickling, skops and skae.save share one plain representation ------------
    def _shape_params(self) -> dict:
        """The parameters that declare the module's layers and sizes (see check_declared_sizes)."""
        return self.get_params(deep=False)

    def _weights(self) -> dict:
        """The module's tensors as float32 numpy arrays on the host."""
        return {k: v.detach().cpu().numpy() for k, v in self.module_.state_dict().items()}

    def _restore_net(self, weights: dict, history: list, device=None) -> None:
        """Rebuild ``net_`` around ``weights`` (name -> array), checking them strictly.

        The module is built on the meta device, so restoring draws nothing from
        any random generator and allocates nothing before the weights arrive.
        """
        largest = max((max(np.shape(v), default=1) for v in weights.values()), default=0)
        check_declared_sizes(self._shape_params(), len(weights), largest)
        with torch.device("meta"):
            module = self._build_module(self.n_features_in_)
        expected = {k: (tuple(v.shape), v.dtype) for k, v in module.state_dict().items()}
        check_weights(weights, expected, type(self).__name__)
        module.load_state_dict(
            {k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in weights.items()},
            assign=True,
        )
        device = restore_device(device)
        net = self._make_net(module.to(device).eval(), device, 0, None)
        self.net_ = _engine.restore(net, history)

    def _net_state(self) -> dict:
        """What ``net_`` holds, as plain data: weights, history and device."""
        return {
            "weights": self._weights(),
            "history": _engine.plain_history(self.net_),
            "device": str(_engine.module_device(self.net_)),
        }

    def __getstate__(self):
        state = super().__getstate__()
        if "net_" in state:
            state = {k: v for k, v in state.items() if k != "net_"}
            state["_net_state"] = self._net_state()
        return state

    def __setstate__(self, state):
        net_state = state.pop("_net_state", None)
        super().__setstate__(state)
        if net_state is not None:
            self._restore_net(net_state["weights"], net_state["history"], net_state["device"])

    # -- fitted parts -----------------------------------------------------------------
    @property
    def module_(self) -> torch.nn.Module:
        """The fitted torch autoencoder module."""
        return self.net_.module_

    @property
    def encoder_(self) -> torch.nn.Module:
        return self.module_.encoder

    @property
    def decoder_(self) -> torch.nn.Module:
        return self.module_.decoder

    @property
    def history_(self):
        """The skorch training history: one dict per epoch."""
        return self.net_.history

    @property
    def _n_features_out(self) -> int:
        return self.n_components

    # -- inference --------------------------------------------------------------------
    @reads_fitted
    def _apply(self, fn, X) -> np.ndarray:
        """Run ``fn(module, batch)`` over row blocks of ``X`` in eval mode, in ``X``'s precision.

        float64 input is computed in float64 (weights cast for the call), so a
        row's result does not depend on the rows it comes with, the block size,
        the thread count or the CPU's kernels beyond float64 rounding; float32
        input is computed in float32.
        """
        net = self.net_  # read once: a refit in another thread may replace it
        module = net.module_
        module.eval()
        device = _engine.module_device(net)
        dtype = np.float64 if X.dtype == np.float64 else np.float32
        row_bytes = max(X.shape[1], 1) * np.dtype(dtype).itemsize
        rows = max(1, min(4096, self._inference_bytes // row_bytes))
        with torch.inference_mode():
            # The weights are cast to the input's precision once, not per block.
            run = in_dtype(module, fn, torch.float64 if dtype == np.float64 else torch.float32)
            blocks = [
                run(to_tensor(block, device, dtype)).cpu().numpy()
                for block in iter_row_blocks(X, rows)
            ]
        return np.concatenate(blocks, axis=0)

    def _validate_X(self, X):
        check_is_fitted(self)
        X = validate_data(
            self,
            self._prepare_input(X),
            accept_sparse="csr",
            dtype=[np.float64, np.float32],
            reset=False,
        )
        check_float32_range(X)
        return X

    def transform(self, X):
        """Encode ``X`` into its code.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to encode.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            The code, in the dtype of ``X`` (float64 for integer input).
        """
        X = self._validate_X(X)
        return self._apply(lambda m, xb: m.encode(xb), X).astype(X.dtype, copy=False)

    def inverse_transform(self, X):
        """Decode codes back to the input space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Codes, e.g. from :meth:`transform`.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features_in_)
            The reconstruction, in the dtype of ``X``.
        """
        check_is_fitted(self)
        Z = check_array(X, dtype=[np.float64, np.float32])
        if Z.shape[1] != self.n_components:
            raise ValueError(
                f"X has {Z.shape[1]} columns, but {type(self).__name__} decodes codes with "
                f"n_components={self.n_components} columns; pass the output of transform."
            )
        return self._apply(lambda m, zb: m.decode(zb), Z).astype(Z.dtype, copy=False)

    def _reconstruction_error(self, X) -> np.ndarray:
        objective = self.net_.criterion_

        def error(module, xb):
            return objective.per_sample(module(xb), xb)

        return self._apply(error, X).astype(np.float64)

    def score_samples(self, X):
        """Negative reconstruction error of each sample (higher is better).

        The error is the training ``loss`` (mean squared error, or binary
        cross-entropy) averaged over features. For binary cross-entropy,
        values outside [0, 1] are clipped to it.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Minus each row's reconstruction error.
        """
        return -self._reconstruction_error(self._validate_X(X))

    def score(self, X, y=None):
        """Negative mean reconstruction error, so that higher is better.

        This makes ``GridSearchCV`` work without a ``scoring`` argument.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to score.
        y : None
            Ignored.

        Returns
        -------
        score : float
            Mean of :meth:`score_samples`.
        """
        return float(np.mean(self.score_samples(X)))

    def __sklearn_is_fitted__(self) -> bool:
        # What check_is_fitted asks: one attribute that fit sets last, read without
        # iterating vars(self), which a refit in another thread may be changing.
        return hasattr(self, "net_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
