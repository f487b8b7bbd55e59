"""Stacked autoencoder: greedy layer-wise pretraining, then end-to-end fine-tuning."""

from __future__ import annotations

from numbers import Integral

import torch
from torch import nn

from ._base import BaseAutoEncoder
from ._data import InMemoryData
from ._docstring import fill_doc
from ._training import TrainingSettings
from ._training import train as train_module
from ._utils import Interval
from .nn.losses import Objective
from .nn.modules import AutoEncoderModule


def layer_stages(sequential: nn.Sequential) -> list[nn.Sequential]:
    """Split an ``mlp`` into its layers: each ``Linear`` with the activation after it.

    The stages hold the same module objects, so training a stage trains the
    network it came from.
    """
    stages: list[list[nn.Module]] = []
    for layer in sequential:
        if isinstance(layer, nn.Linear):
            stages.append([])
        stages[-1].append(layer)
    return [nn.Sequential(*stage) for stage in stages]


def _encoded(stage: nn.Module, data: InMemoryData | None) -> InMemoryData | None:
    """``stage``'s outputs on every row of ``data``, as new training data."""
    if data is None:
        return None
    stage.eval()
    with torch.no_grad():
        out = torch.cat([stage(xb) for xb, _ in data.batches(4096)])
    return InMemoryData(out, data.device)


@fill_doc
class StackedAutoEncoder(BaseAutoEncoder):
    """Deep autoencoder pretrained greedily, layer by layer, then fine-tuned.

    The network is the mirrored deep autoencoder of :class:`AutoEncoder`
    (encoder layers :math:`f_1, \\dots, f_L`, decoder layers
    :math:`g_L, \\dots, g_1`). Before end-to-end training, each pair
    :math:`(f_l, g_l)` is trained alone as a shallow autoencoder on the
    outputs :math:`h_{l-1} = f_{l-1}(\\dots f_1(x))` of the layers already
    trained (Bengio et al. 2007, the autoencoder variant of Hinton &
    Salakhutdinov 2006's RBM stacking):

    .. math:: \\min_{f_l, g_l}\\ \\frac{1}{n}\\sum_i
              \\ell_l\\big(h_{l-1,i},\\ g_l(f_l(h_{l-1,i}))\\big),
              \\qquad h_0 = x,

    with :math:`\\ell_1` the estimator's ``loss`` and :math:`\\ell_l` the
    mean squared error for :math:`l > 1` (``penalties`` apply only to the
    fine-tuning). The pairs share their weights with
    the deep network, which is then fine-tuned end to end exactly like
    :class:`AutoEncoder` on :math:`\\ell(x, g_1(\\dots g_L(f_L(\\dots f_1(x)))))`.
    ``pretrain_epochs=0`` skips pretraining (a plain deep autoencoder).

    Read more in the :ref:`User Guide <stacked>`.

    Parameters
    ----------
    n_components : int, default=2
        Size of the code.

    pretrain_epochs : int, default=10
        Maximum epochs for each layer's shallow autoencoder, with the same
        optimizer, learning rate, batch size, validation rows and early
        stopping as the fine-tuning; ``0`` skips pretraining.

    {training_parameters}

    Attributes
    ----------
    pretrain_losses_ : list of float
        Monitored loss (validation loss when rows are held out) of each
        layer's shallow autoencoder at the end of its pretraining, from the
        input inwards; empty when ``pretrain_epochs=0``.

    {fitted_attributes}

    See Also
    --------
    AutoEncoder : The same network trained end to end from a random start.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import StackedAutoEncoder
    >>> X = load_digits().data / 16.0
    >>> sae = StackedAutoEncoder(n_components=8, hidden_layer_sizes=(64, 32),
    ...                          pretrain_epochs=2, max_epochs=3, random_state=0).fit(X)
    >>> len(sae.pretrain_losses_)  # 64 -> 64, 64 -> 32, 32 -> 8
    3
    >>> sae.transform(X).shape
    (1797, 8)
    """

    _parameter_constraints = {
        **BaseAutoEncoder._parameter_constraints,
        "pretrain_epochs": [Interval(Integral, 0, None, closed="left")],
    }
    _attribute_kinds_ = {"pretrain_losses_": "floats"}

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
        pretrain_epochs=10,
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
        self.pretrain_epochs = pretrain_epochs

    def _start_incremental(self, n_features: int) -> None:
        # partial_fit trains end to end, pass by pass: no greedy pretraining.
        super()._start_incremental(n_features)
        self.pretrain_losses_ = []

    def _pretrain(self, module, train, valid, seeds) -> None:
        self.pretrain_losses_ = []
        if self.pretrain_epochs == 0:
            return
        encoders = layer_stages(module.encoder)
        decoders = layer_stages(module.decoder)[::-1]  # decoders[l] inverts encoders[l]
        settings = TrainingSettings.of(self, max_epochs=self.pretrain_epochs)
        stages = zip(encoders, decoders, seeds.spawn(len(encoders)))
        for depth, (encoder, decoder, stage_seeds) in enumerate(stages):
            # The first layer reconstructs the input with the estimator's loss, deeper
            # layers the hidden values below them with the squared error; penalties
            # (``penalties``) apply to the deep network, in fine-tuning only.
            objective = Objective(self.loss if depth == 0 else "mse")
            shallow = AutoEncoderModule(encoder, decoder)
            result = train_module(shallow, objective, train, valid, settings, stage_seeds)
            self.pretrain_losses_.append(result.best_loss)
            if depth + 1 < len(encoders):
                train, valid = _encoded(encoder, train), _encoded(encoder, valid)
        module.train()
