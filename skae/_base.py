"""The scikit-learn side of every skae autoencoder.

:class:`BaseAutoEncoder` owns validation, the fitted-state contract and the
methods of a transformer; it trains and runs its network through
:mod:`skae._training`. A variant declares
its new parameters in an explicit ``__init__`` (and in
``_parameter_constraints``), documents the shared ones with
:func:`skae._docstring.fill_doc`, and overrides one or two hooks:

- ``_build_module(n_features)``: the torch module (default: a mirrored MLP);
- ``_build_noise()``: input corruption applied only in training;
- ``_penalties()``: extra loss terms, each ``f(output, target, module)``;
- ``_build_objective()``: the whole training criterion;
- ``_code_activation``: the activation of the code layer;
- ``_prepare_input(X)``: reshape what the user passes (e.g. images) into rows;
- ``_learn_input_layout(X, rows)``: in ``fit``, keep what that form was;
- ``_pretrain(module, train, valid, seeds)``: train parts of the module
  before the end-to-end training (greedy layer-wise pretraining).
"""

from __future__ import annotations

import contextlib
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted, validate_data

from ._blockwise import blockwise
from ._data import check_float32_range
from ._precision import COMPILE_MODES, PRECISIONS
from ._streaming import is_array_on_disk, read_rows
from ._training import (
    LR_SCHEDULES,
    OPTIMIZERS,
    TRAINED_ATTRIBUTE_KINDS,
    NetworkState,
    TrainingPlan,
    TrainingSettings,
    incremental_net,
    module_device,
    new_module,
    placement,
    prepare,
    restore_net,
    run_in_blocks,
    seed_sequence,
    train_all,
    train_pass,
    training_rows,
)
from ._utils import (
    LAYER_SIZES,
    Interval,
    ModuleClass,
    StrOptions,
    check_layer_sizes,
    check_module_class,
    fitted_once,
    fresh_fit,
    layer_sizes,
    reads_fitted,
)
from .nn.losses import RECONSTRUCTION_LOSSES, Objective
from .nn.modules import ACTIVATIONS, mlp_autoencoder


class BaseAutoEncoder(
    NetworkState, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """Base class of skae's autoencoders; not for direct use."""

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": LAYER_SIZES,
        "activation": [StrOptions(set(ACTIVATIONS)), ModuleClass()],
        "output_activation": [StrOptions(set(ACTIVATIONS)), ModuleClass(), None],
        "loss": [StrOptions(set(RECONSTRUCTION_LOSSES))],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "optimizer": [StrOptions(set(OPTIMIZERS)), type],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "penalties": [list, tuple, None],
        "validation_fraction": [Interval(Real, 0, 1, closed="left"), None],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), None],
        "tol": [Interval(Real, 0, None, closed="left")],
        "lr_schedule": [StrOptions(set(LR_SCHEDULES))],
        "device": [str],
        "distributed": [StrOptions({"auto"}), "boolean"],
        "precision": [StrOptions(set(PRECISIONS))],
        "compile": ["boolean", StrOptions(set(COMPILE_MODES))],
        "n_jobs": [
            Interval(Integral, None, -1, closed="right"),
            Interval(Integral, 1, None, closed="left"),
            None,
        ],
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
    # a larger network is refused before anything is allocated (docs/user_guide.md, Errors).
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
        batch_size="auto",
        lr=1e-3,
        optimizer="adam",
        weight_decay=0.0,
        penalties=None,
        validation_fraction=None,
        n_iter_no_change=10,
        tol=1e-4,
        lr_schedule="plateau",
        device="auto",
        distributed="auto",
        precision="32",
        compile=False,
        n_jobs=None,
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
        self.distributed = distributed
        self.precision = precision
        self.compile = compile
        self.n_jobs = n_jobs
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

    def _learn_input_layout(self, X, rows) -> None:
        """Set what ``X``'s form says beyond its validated ``rows`` (nothing here)."""

    def _pretrain(self, module, train, valid, seeds) -> None:
        """Train parts of ``module`` before end-to-end training (nothing here).

        ``train`` and ``valid`` are the rows on the device (``valid`` may be
        ``None``); ``seeds`` is the :class:`numpy.random.SeedSequence` of
        this stage (see skae._training).
        """

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
            if name in self._parameter_constraints:  # a recurrent variant has no activation
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
        if self.loss == "bce" and X is not None and (sp.issparse(X) or isinstance(X, np.ndarray)):
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
            self._fit(self._start(X))
        return self

    def _start(self, X):
        """Validate the parameters and ``X`` for a new fit; the validated rows."""
        self._validate_params()
        rows = self._validated_rows(X, reset=True)
        self._check_params(rows)
        self._learn_input_layout(X, rows)
        return rows

    def _fit(self, X) -> None:
        """Train the network on validated rows ``X``."""
        self._take(self._plan(X).train())

    def _plan(self, X) -> TrainingPlan:
        """What training the network on validated rows ``X`` takes (after any pretraining)."""
        device, group = placement(self.device, self.distributed)
        setup, pretrain, shuffle = seed_sequence(self.random_state, group).spawn(3)
        module, train, valid = prepare(
            self._build_module,
            X,
            None,
            device,
            validation_fraction=self.validation_fraction,
            seeds=setup,
            max_parameters=self._max_parameters,
            owner=type(self).__name__,
            group=group,
        )
        self._pretrain(module, train, valid, pretrain)
        objective = self._build_objective()
        return TrainingPlan(module, objective, train, valid, TrainingSettings.of(self), shuffle)

    def _take(self, result) -> None:
        """Keep a trained network and its record as the fitted attributes."""
        vars(self).update(result.fitted_attributes())

    def partial_fit(self, X, y=None):
        """Train on ``X`` for one pass, continuing from the current weights.

        The first call builds the network; each call then makes one epoch
        over ``X`` in shuffled batches, keeping the optimizer's state between
        calls (as :meth:`sklearn.neural_network.MLPRegressor.partial_fit`
        does), so that data too large for memory, or arriving over time, can
        be fed in chunks. ``validation_fraction`` and early stopping do not
        apply: a pass has nothing to compare with. A call after :meth:`fit`
        or :func:`skae.load` continues from those weights. If a pass fails or
        is interrupted, the model is left as it was before the call.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training rows; it may hold a single row.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : object
            The estimator, trained one more pass.
        """
        if not self.__sklearn_is_fitted__():
            with fresh_fit(self):
                rows = self._start(X)
                self._start_incremental(rows.shape[1])
                self._train_pass(rows)
            return self
        self._train_pass(self._validate_X(X))
        return self

    def _start_incremental(self, n_features: int) -> None:
        """Build the network that partial_fit trains, and its empty record."""
        device, group = placement(self.device, self.distributed)
        build, shuffle = seed_sequence(self.random_state, group).spawn(2)
        module = new_module(
            self._build_module,
            n_features,
            device,
            build,
            self._max_parameters,
            owner=type(self).__name__,
            group=group,
        )
        settings = TrainingSettings.of(self)
        self.net_ = incremental_net(module, self._build_objective(), settings, shuffle, device)
        self.loss_curve_, self.validation_loss_curve_ = [], None

    def _train_pass(self, rows) -> None:
        net = self.net_
        loss = train_pass(net, training_rows(rows, module_device(net)), TrainingSettings.of(self))
        # New objects, not in-place changes: a failure above leaves the old ones.
        self.loss_curve_ = [*self.loss_curve_, loss]
        self.n_iter_ = len(self.loss_curve_)
        self.best_loss_ = loss  # the loss of the weights the model holds: the last pass's

    # -- state: pickle, skops and skae.save share _get_net_state/_set_net_state --------
    def _shape_params(self) -> dict:
        """The parameters that declare the module's layers and sizes (see check_declared_sizes)."""
        return self.get_params(deep=False)

    def _set_net_state(self, state: dict) -> None:
        """Rebuild ``net_`` from :meth:`_get_net_state`'s data, checking it strictly."""
        self.net_ = restore_net(
            self._build_module,
            self.n_features_in_,
            self._shape_params(),
            self._build_objective(),
            TrainingSettings.of(self),
            state,
            type(self).__name__,
        )

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
        """Run ``fn(module, batch)`` over row blocks of ``X`` (see run_in_blocks)."""
        # net_ is read once: a refit in another thread may replace it.
        return run_in_blocks(self.net_, fn, X, self._inference_bytes, self.n_jobs)

    def _validate_X(self, X):
        check_is_fitted(self)
        return self._validated_rows(X, reset=False)

    def _validated_rows(self, X, reset: bool):
        """``X`` as validated rows; on-disk data is only checked as its blocks are read.

        A memory-mapped array is validated whole (reading it, without copying
        it); an ``h5py``, ``zarr`` or dask array has its shape and first rows
        checked here, and every block checked when it is read.
        """
        X = self._prepare_input(X)
        if is_array_on_disk(X):
            first = read_rows(X, 0, min(X.shape[0], 1024))
            validate_data(self, first, dtype=[np.float64, np.float32], reset=reset)
            return X
        rows = validate_data(
            self, X, accept_sparse="csr", dtype=[np.float64, np.float32], reset=reset
        )
        check_float32_range(rows)
        return rows

    @blockwise
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

    @blockwise
    def inverse_transform(self, X):
        """Decode codes back to the input space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Codes, e.g. from :meth:`transform`.

        Returns
        -------
        X_original : ndarray of shape (n_samples, ``n_features_in_``)
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

    @blockwise
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

    __sklearn_is_fitted__ = fitted_once("net_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def fit_all(estimators, datasets) -> None:
    """Fit each of ``estimators`` on its dataset, training their networks side by side if they can.

    Each autoencoder validates its parameters and data and builds its
    network as its own ``fit`` would (its seeds, validation rows and initial
    weights); then :func:`skae._training.train_all` trains the networks
    together when they are stackable (e.g. the members of an ensemble, clones
    of one autoencoder with other seeds), else one after the other. If
    anything fails, none of the estimators is left changed. Estimators other
    than skae's autoencoders, or with a ``fit`` of their own, are fitted one
    by one with it.
    """
    estimators = list(estimators)
    # A fit of the user's own (a subclass's override) is theirs to run.
    if not all(
        isinstance(e, BaseAutoEncoder) and type(e).fit.__module__.startswith("skae.")
        for e in estimators
    ):
        for estimator, X in zip(estimators, datasets):
            estimator.fit(X)
        return
    with contextlib.ExitStack() as stack:
        for estimator in estimators:
            stack.enter_context(fresh_fit(estimator))
        plans = [e._plan(e._start(X)) for e, X in zip(estimators, datasets)]
        for estimator, result in zip(estimators, train_all(plans)):
            estimator._take(result)
