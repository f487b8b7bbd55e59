"""What the classifier and the regressor on a pretrained encoder share.

An autoencoder is first trained on every row of ``X`` (labelled or not); a
head (a small MLP) is then put on its code, next to the input's own
features, and trained on the labelled rows, with the encoder frozen or
fine-tuned with it. Unlabelled rows shape the code and its standardisation;
only labelled rows train the head.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, clone
from sklearn.frozen import FrozenEstimator
from sklearn.utils.validation import check_is_fitted, validate_data

from ._autoencoder import AutoEncoder
from ._base import BaseAutoEncoder
from ._data import check_float32_range, column_variances
from ._distributed import join
from ._docstring import fill_doc
from ._training import (
    LR_SCHEDULES,
    TRAINED_ATTRIBUTE_KINDS,
    NetworkState,
    TrainingSettings,
    module_device,
    prepare,
    restore_net,
    run_in_blocks,
    seed_sequence,
)
from ._training import train as train_module
from ._utils import (
    LAYER_SIZES,
    HasMethods,
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
from .nn.heads import EncoderWithHead, SupervisedObjective
from .nn.modules import ACTIVATIONS, mlp

PREDICTOR_PARAMETERS_DOC = """\
    estimator : skae autoencoder, FrozenEstimator or None, default=None
        The autoencoder to pretrain on all rows of ``X``: any skae
        autoencoder (:class:`AutoEncoder`, :class:`DenoisingAutoEncoder`,
        ...). It is cloned in :meth:`fit`, never fitted itself, and its
        parameters can be tuned as ``estimator__<name>``. To reuse an
        autoencoder that is *already fitted* (pretrained once on a large
        unlabelled pool, then shared by several heads), wrap it in
        :class:`sklearn.frozen.FrozenEstimator`: pretraining is then skipped
        and the fitted autoencoder itself is left unchanged (the head trains
        on a copy of its weights). ``None`` uses
        ``AutoEncoder(n_components=min(32, n_features))``. The head's
        training and this estimator's predictions follow the autoencoder's
        ``distributed``, ``precision``, ``compile`` and ``n_jobs``.

    head_layer_sizes : int or array-like of int, default=(64,)
        Widths of the head's hidden layers, from the code outwards. ``()``
        puts a single linear layer on the code.

    head_activation : str or torch.nn.Module subclass, default="relu"
        Activation of the head's hidden layers (same choices as
        ``activation`` in :class:`AutoEncoder`).

    freeze_encoder : bool, default=True
        ``True`` trains the head only, on the codes of the pretrained
        encoder (no input noise); ``False`` fine-tunes the encoder and the
        head together, which needs more labels than the head alone to pay
        off.

    warm_up_head : bool, default=True
        When fine-tuning (``freeze_encoder=False``), first train the head
        alone on the frozen encoder, then fine-tune encoder and head
        together, each stage with up to ``max_epochs`` epochs. A random head
        sends large gradients into the encoder at the start of fine-tuning
        and distorts what pretraining learnt; training it first avoids that
        ("linear probing, then fine-tuning", Kumar et al. 2022).

    passthrough : bool, default=True
        The head sees the input's features next to the code (as
        ``passthrough`` in :class:`sklearn.ensemble.StackingClassifier`):
        with a linear head, a linear model on ``[X, code]``. The code is a
        lossy summary that brings what the unlabelled rows taught; the
        features bring the details it dropped. The code enters standardised
        (over all rows of ``X``) and scaled so that its total variance
        equals that of ``X``, which therefore should be scaled as a linear
        model needs it (e.g. pixels in [0, 1], or standardised columns).
        ``False``: the head sees the code only.

    alpha : float, default=1.0
        Strength of the L2 penalty on the head's weights (not its biases):
        ``alpha / 2`` times their squared norm is added to the *sum* of the
        labelled rows' losses, as in :class:`sklearn.linear_model.LogisticRegression`
        with ``C = 1 / alpha``: a classifier with a linear head on the frozen
        encoder is that model on ``[X, scaled code]`` (for the regressor, a
        ridge penalty on the standardised targets). The encoder's weights
        are not penalised.

    reconstruction_weight : float, default=0.0
        When fine-tuning, the autoencoder's own objective (reconstruction
        loss and penalties) on the labelled rows, with this weight, is added
        to the supervised loss, which keeps the code close to what
        pretraining learnt. ``0`` leaves it out; it has no effect with
        ``freeze_encoder=True``.

    max_epochs : int, default=200
        Maximum number of passes over the labelled rows in each stage of the
        supervised training (the autoencoder keeps its own ``max_epochs``).
        With few labelled rows an epoch is a few steps, hence the default.

    batch_size : int, default=32
        Labelled rows per optimisation step.

    lr : float, default=1e-3
        Learning rate of the supervised training. The optimizer is the
        autoencoder's ``optimizer``.

    weight_decay : float, default=0.0
        L2 penalty of the supervised training.

    validation_fraction : float or None, default=None
        Fraction of the labelled rows held out to monitor the validation
        loss for early stopping (and to restore the best weights). ``None``
        (the default, since labels are usually few) trains on every labelled
        row and monitors the training loss.

    n_iter_no_change : int or None, default=10
        Patience: the monitored loss has stalled when it has not improved by
        a relative ``tol`` for this many epochs. ``None`` disables early
        stopping and the learning-rate schedule.

    tol : float, default=1e-4
        Relative improvement of the monitored loss that counts as progress.

    lr_schedule : {"plateau", "constant", "cosine"}, default="plateau"
        What a stall does in each stage of the supervised training.
        ``"plateau"`` divides the learning rate by 10, at most twice, and
        stops at the third stall; ``"constant"`` stops at the first;
        ``"cosine"`` anneals the learning rate to near zero over
        ``max_epochs`` and stops at the first stall.

    random_state : int, RandomState instance or None, default=None
        Seeds the head's initialisation and the shuffling; when not ``None``
        it also replaces the ``random_state`` of ``estimator``. Global random
        state is never read or changed.

    verbose : int, default=0
        Verbosity of the supervised training (``0``, ``1``: progress bar,
        ``2``: a row per epoch); the autoencoder has its own ``verbose``."""

PREDICTOR_ATTRIBUTES_DOC = """\
    estimator_ : skae autoencoder
        The pretrained autoencoder, as pretraining left it: a fitted clone of
        ``estimator``, or the autoencoder inside a ``FrozenEstimator``.
        Fine-tuning works on a copy of its weights.

    net_ : skorch.NeuralNet
        The supervised training engine, for inspection (history, callbacks).

    module_ : torch.nn.Module
        The trained network: ``module_.autoencoder`` (fine-tuned encoder and
        decoder) and ``module_.head``.

    encoder_ : torch.nn.Module
        The (fine-tuned) encoder.

    n_iter_ : int
        Number of epochs of the supervised training.

    loss_curve_ : list of float
        Supervised training loss at each epoch.

    validation_loss_curve_ : list of float or None
        Validation loss at each epoch, when a validation fraction was held out.

    best_loss_ : float
        Monitored loss of the epoch whose weights the model holds.

    n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of features seen during ``fit``, when ``X`` has string column names."""

# The epochs of the autoencoder pretrained when estimator=None: AutoEncoder's default.
_DEFAULT_MAX_EPOCHS = 200


class BaseEncoderPredictor(NetworkState, BaseEstimator):
    """What the classifier and the regressor share: pretraining, then supervised training."""

    _supervised_loss: str = ""
    # Saved besides the network (see skae._state).
    _attribute_kinds_ = {**TRAINED_ATTRIBUTE_KINDS, "estimator_": "part"}

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "transform"]), None],
        "head_layer_sizes": LAYER_SIZES,
        "head_activation": [StrOptions(set(ACTIVATIONS)), ModuleClass()],
        "freeze_encoder": ["boolean"],
        "warm_up_head": ["boolean"],
        "passthrough": ["boolean"],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "reconstruction_weight": [Interval(Real, 0, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="left"), None],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), None],
        "tol": [Interval(Real, 0, None, closed="left")],
        "lr_schedule": [StrOptions(set(LR_SCHEDULES))],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        estimator=None,
        *,
        head_layer_sizes=(64,),
        head_activation="relu",
        freeze_encoder=True,
        warm_up_head=True,
        passthrough=True,
        alpha=1.0,
        reconstruction_weight=0.0,
        max_epochs=200,
        batch_size=32,
        lr=1e-3,
        weight_decay=0.0,
        validation_fraction=None,
        n_iter_no_change=10,
        tol=1e-4,
        lr_schedule="plateau",
        random_state=None,
        verbose=0,
    ):
        self.estimator = estimator
        self.head_layer_sizes = head_layer_sizes
        self.head_activation = head_activation
        self.freeze_encoder = freeze_encoder
        self.warm_up_head = warm_up_head
        self.passthrough = passthrough
        self.alpha = alpha
        self.reconstruction_weight = reconstruction_weight
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.lr_schedule = lr_schedule
        self.random_state = random_state
        self.verbose = verbose

    # -- hooks of the two estimators --------------------------------------------------
    def _validate_X_y(self, X, y):
        """Validate ``X`` and ``y``; return them with the mask of labelled rows."""
        raise NotImplementedError

    def _encode_targets(self, y) -> np.ndarray:
        """Set the target attributes from the labelled ``y``; return the net's targets."""
        raise NotImplementedError

    def _n_outputs(self) -> int:
        raise NotImplementedError

    # -- fitting ----------------------------------------------------------------------
    def _check_params(self) -> None:
        check_layer_sizes("head_layer_sizes", self.head_layer_sizes)
        check_module_class("head_activation", self.head_activation)

    def _pretrained(self, X, seed: int) -> BaseAutoEncoder:
        """The fitted autoencoder: ``estimator`` cloned and fitted on ``X``, or the frozen one."""
        if self.estimator is None:
            # A code no wider than the input (see BaseAutoEncoder's overcomplete warning).
            estimator = AutoEncoder(
                n_components=min(32, X.shape[1]), max_epochs=_DEFAULT_MAX_EPOCHS, random_state=seed
            )
        else:
            estimator = clone(self.estimator)  # a FrozenEstimator clones to itself
            if self.random_state is not None and not isinstance(estimator, FrozenEstimator):
                estimator.set_params(random_state=seed)
        autoencoder = estimator.estimator if isinstance(estimator, FrozenEstimator) else estimator
        if not isinstance(autoencoder, BaseAutoEncoder):
            raise TypeError(
                f"estimator must be a skae autoencoder (e.g. skae.AutoEncoder), or one wrapped "
                f"in sklearn.frozen.FrozenEstimator; got {type(autoencoder).__name__}."
            )
        estimator.fit(X, None)  # a FrozenEstimator checks that it is fitted and does nothing
        if autoencoder.n_features_in_ != X.shape[1]:
            raise ValueError(
                f"The frozen autoencoder was fitted on {autoencoder.n_features_in_} features, "
                f"but X has {X.shape[1]}; pretrain it on rows like X."
            )
        return autoencoder

    def _code_statistics(self, autoencoder, X) -> tuple:
        """Mean and std of the codes of all rows, and the weight the head gives the code.

        With ``passthrough`` the weight makes the code's total variance that
        of ``X``, so that neither part drowns the other.
        """
        codes = np.asarray(autoencoder.transform(X), dtype=np.float64)
        mean, std = codes.mean(axis=0), codes.std(axis=0)
        weight = 1.0
        if self.passthrough:
            total_variance = float(column_variances(X).sum())
            if total_variance > 0:
                weight = float(np.sqrt(total_variance / codes.shape[1]))
        return mean, std, weight

    def fit(self, X, y):
        """Pretrain the autoencoder on all rows, then train it with the head on the labelled ones.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training rows, labelled or not. All of them train the autoencoder
            (unless it is frozen); the labelled ones then train the network.
        y : array-like
            Targets; see the class description for how unlabelled rows are marked.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        with fresh_fit(self):
            self._validate_params()
            self._check_params()
            X, y, labelled = self._validate_X_y(X, y)
            check_float32_range(X)
            if not labelled.any():
                raise ValueError(
                    f"{type(self).__name__} needs labelled rows, but every row of y is marked "
                    f"unlabelled ({self._unlabelled_marker}); label some rows."
                )
            targets = self._encode_targets(y[labelled])
            group = join(self._followed()["distributed"])
            pretraining, training = seed_sequence(self.random_state, group).spawn(2)
            self.estimator_ = self._pretrained(X, int(pretraining.generate_state(1)[0]))
            statistics = self._code_statistics(self.estimator_, X)
            self._train(X[np.flatnonzero(labelled)], targets, statistics, training, group)
        return self

    def _train(self, X, targets, code_statistics: tuple, seeds, group=None) -> None:
        """Train the encoder (a copy of ``estimator_``'s) and the head on labelled rows ``X``.

        The head sees codes scaled by ``code_statistics``, ``(mean, std, weight)``
        over all rows (see :meth:`EncoderWithHead.set_code_statistics`);
        ``group`` is the data-parallel group this process trains in, if any.
        """
        setup, warm_up, shuffle = seeds.spawn(3)
        module, train, valid = prepare(
            self._build_module,
            X,
            targets,
            module_device(self.estimator_.net_),
            validation_fraction=self.validation_fraction,
            seeds=setup,
            max_parameters=self.estimator_._max_parameters,
            owner=type(self).__name__,
            group=group,
        )
        # The encoder (and decoder) start from the fitted autoencoder's weights.
        module.autoencoder.load_state_dict(self.estimator_.module_.state_dict())
        module.set_code_statistics(*code_statistics)
        # The penalty is alpha / 2 * |W|^2 over the sum of the rows' losses, as in
        # LogisticRegression(C=1 / alpha); the objective averages, hence / rows.
        l2 = self.alpha / len(train)
        settings = self._training_settings()
        if not self.freeze_encoder and self.warm_up_head:
            # Train the head alone first, so that a random head does not distort the encoder.
            module.freeze(True)
            head_only = SupervisedObjective(self._supervised_loss, l2=l2)
            train_module(module, head_only, train, valid, settings, warm_up)
            module.freeze(False)
        result = train_module(module, self._objective(l2), train, valid, settings, shuffle)
        vars(self).update(result.fitted_attributes())

    # The autoencoder's settings of how (not what) to train, which the head's training follows.
    _FOLLOWED = {"distributed": "auto", "precision": "32", "compile": False, "n_jobs": None}

    def _followed(self) -> dict:
        """The autoencoder's ``distributed``, ``precision``, ``compile`` and ``n_jobs``."""
        estimator = self.estimator
        if isinstance(estimator, FrozenEstimator):
            estimator = estimator.estimator
        return {name: getattr(estimator, name, d) for name, d in self._FOLLOWED.items()}

    def _training_settings(self) -> TrainingSettings:
        # The optimizer and how to train are the autoencoder's; the rest are this
        # estimator's parameters.
        return TrainingSettings.of(self, optimizer=self.estimator_.optimizer, **self._followed())

    def _build_module(self, n_features: int) -> torch.nn.Module:
        """``estimator_``'s network with a head on its code (and the features, with passthrough)."""
        n_passthrough = n_features if self.passthrough else 0
        head = [
            n_passthrough + self.estimator_.n_components,
            *layer_sizes(self.head_layer_sizes),
            self._n_outputs(),
        ]
        return EncoderWithHead(
            self.estimator_._build_module(n_features),
            mlp(head, self.head_activation),
            freeze_autoencoder=self.freeze_encoder,
            n_passthrough=n_passthrough,
        )

    def _objective(self, l2: float) -> torch.nn.Module:
        reconstruction = None if self.freeze_encoder else self.estimator_._build_objective()
        return SupervisedObjective(
            self._supervised_loss, reconstruction, self.reconstruction_weight, l2
        )

    # -- state: pickle, skops and skae.save share _get_net_state/_set_net_state --------
    def _set_net_state(self, state: dict) -> None:
        """Rebuild ``net_`` around ``estimator_`` and this estimator's head, from ``state``."""
        # The layers are the autoencoder's and the head's.
        shape_params = {
            **self.estimator_._shape_params(),
            "head_layer_sizes": self.head_layer_sizes,
        }
        # A restored net only predicts: the objective's penalty weight is of no use.
        self.net_ = restore_net(
            self._build_module,
            self.n_features_in_,
            shape_params,
            self._objective(0.0),
            self._training_settings(),
            state,
            type(self).__name__,
        )

    def _check_restored(self) -> None:
        if self.estimator_.n_features_in_ != self.n_features_in_:
            raise ValueError(
                f"The autoencoder takes {self.estimator_.n_features_in_} features, the "
                f"estimator {self.n_features_in_}."
            )

    # -- fitted parts -----------------------------------------------------------------
    @property
    def module_(self) -> torch.nn.Module:
        return self.net_.module_

    @property
    def encoder_(self) -> torch.nn.Module:
        return self.net_.module_.autoencoder.encoder

    @reads_fitted
    def _raw(self, X) -> np.ndarray:
        """The head's output on ``X`` after validation (batched, on the model's device)."""
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", dtype=[np.float64, np.float32], reset=False)
        check_float32_range(X)
        net = self.net_  # read once: a refit in another thread may replace it
        n_jobs = self._followed()["n_jobs"]
        max_bytes = BaseAutoEncoder._inference_bytes
        return run_in_blocks(net, lambda m, xb: m.predict(xb), X, max_bytes, n_jobs)

    __sklearn_is_fitted__ = fitted_once("net_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


# Fills the classifier's and the regressor's docstrings with what they share.
fill_predictor_doc = fill_doc(
    predictor_parameters=PREDICTOR_PARAMETERS_DOC, predictor_attributes=PREDICTOR_ATTRIBUTES_DOC
)
