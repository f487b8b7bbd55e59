"""Sequence autoencoder: a temporal-convolution or recurrent encoder-decoder for sequences."""

from __future__ import annotations

from numbers import Integral

import numpy as np

from ._base import BaseAutoEncoder
from ._docstring import fill_doc
from ._utils import LAYER_SIZES, Interval, StrOptions, layer_sizes
from .nn.modules import make_activation
from .nn.penalties import Contractive
from .nn.sequence import (
    CELLS,
    SequenceAutoEncoderModule,
    SequenceObjective,
    TemporalConvAutoEncoderModule,
)


def _cases(X):
    """``X`` as a list of ``(n_channels, n_timepoints_i)`` float arrays; ``None`` if not a list."""
    if not isinstance(X, (list, tuple)) or not X:
        return None
    cases = [np.asarray(case, dtype=np.float64) for case in X]
    if any(case.ndim not in (1, 2) for case in cases):
        return None
    return [case[np.newaxis] if case.ndim == 1 else case for case in cases]


def sequence_layout(X, cases=None):
    """``(n_channels, n_timepoints, masked)`` of sequences ``X``, or ``None`` for 2-D rows.

    ``X`` is aeon's 3-D ``(n_cases, n_channels, n_timepoints)`` array, or a
    list of ``(n_channels, n_timepoints_i)`` cases (``masked`` when their
    lengths differ); 2-D ``(n_cases, n_timepoints)`` data are univariate rows.
    ``cases`` is ``_cases(X)`` when the caller has it already.
    """
    cases = _cases(X) if cases is None else cases
    if cases is not None:
        if len({case.shape[0] for case in cases}) != 1:
            raise ValueError("The cases of X have different numbers of channels; give each alike.")
        lengths = {case.shape[1] for case in cases}
        return cases[0].shape[0], max(lengths), len(lengths) > 1
    shape = getattr(X, "shape", None)
    if shape is not None and len(shape) == 3:
        return int(shape[1]), int(shape[2]), False
    return None


@fill_doc(omit=("hidden_layer_sizes", "activation"))
class SequenceAutoEncoder(BaseAutoEncoder):
    """Encoder-decoder autoencoder for sequences (time series).

    The encoder reads a sequence and maps it to the code :math:`z`, the
    context vector of the sequence; the decoder rebuilds the whole sequence
    from :math:`z` alone. Both are trained end to end to minimise the
    reconstruction loss over the real timepoints of each case

    .. math:: \\frac{1}{n}\\sum_i \\frac{1}{C\\,T_i}\\sum_{c,t \\le T_i}
              \\big(x_{ict} - \\hat{x}_{ict}\\big)^2

    :meth:`transform` returns :math:`z`, a fixed-size feature vector of a
    sequence of any length. Two architectures:

    - ``"conv"`` (temporal convolution): stride-2 convolutions along time,
      one per entry of ``hidden_layer_sizes`` (the channels), then a linear
      map of the flattened features to :math:`z`; the decoder mirrors them
      with transposed convolutions. Each layer halves the timepoints.
    - ``"gru"`` or ``"lstm"`` (recurrent, Sutskever et al. 2014; Srivastava
      et al. 2015): recurrent layers of ``hidden_layer_sizes`` units whose
      final state maps linearly to :math:`z`; the decoder's recurrent layers
      (mirrored widths) each start from a state set by :math:`z`, the first
      reads :math:`z` at every step, and a linear read-out gives the
      channels.

    ``X`` is aeon's and sktime's layout, an array of shape ``(n_cases,
    n_channels, n_timepoints)``; a 2-D array ``(n_cases, n_timepoints)`` is
    univariate; a list of ``(n_channels, n_timepoints_i)`` arrays (or 1-D
    arrays, univariate) holds cases of different lengths. Unequal cases are
    padded at their end to the longest, ``n_timepoints_``, and a mask keeps
    the padded steps out of the encoder (the recurrent one reads each case's
    real steps only; the convolutional one sets every layer's input to zero
    beyond them), the loss and :meth:`score_samples`. Such a model (``masked_``)
    also takes cases up to ``n_timepoints_`` long later; a model fitted on
    equal lengths takes cases of exactly ``n_timepoints_``.

    :meth:`inverse_transform` returns ``n_timepoints_`` steps of each case in
    the layout of the training ``X``: a 3-D array for 3-D input or a list, a
    2-D array for 2-D input. For a case of length :math:`T_i` read the first
    :math:`T_i` steps.

    Read more in the :ref:`User Guide <sequences>`.

    Parameters
    ----------
    n_components : int, default=8
        Size of the code (the context vector).

    architecture : {"conv", "gru", "lstm"}, default="conv"
        A temporal convolution, or recurrent layers of GRU or LSTM cells.

    hidden_layer_sizes : int, array-like of int or None, default=None
        The encoder's layers, from the input inwards: channels of the
        convolutions, or units of the recurrent layers. The decoder mirrors
        them. At least one layer. ``None`` is ``(32, 64, 64)`` for
        ``"conv"`` and ``(64,)`` for ``"gru"`` and ``"lstm"``.

    kernel_size : int, default=9
        Odd width, in timepoints, of every convolution; ``"conv"`` only.

    bidirectional : bool, default=False
        Whether the recurrent encoder's layers also read each sequence
        backwards (the code then sees both ends of the sequence at once);
        ``"gru"`` and ``"lstm"`` only.

    {training_parameters}

    Attributes
    ----------
    n_channels_ : int
        Channels of each case.

    n_timepoints_ : int
        Timepoints of each case; the longest, for cases of unequal lengths.

    masked_ : bool
        Whether the model was fitted on cases of unequal lengths (and reads
        each case's real steps only).

    input_ndim_ : int
        Whether ``X`` was 2-D (univariate rows) or 3-D (or a list of cases):
        the layout :meth:`inverse_transform` returns.

    {fitted_attributes}

    See Also
    --------
    AutoEncoder : The dense autoencoder, for flat feature vectors.

    Examples
    --------
    >>> import numpy as np
    >>> from skae import SequenceAutoEncoder
    >>> t = np.linspace(0, 2 * np.pi, 30)
    >>> rng = np.random.RandomState(0)
    >>> X = np.sin(t + rng.uniform(0, 6, size=(100, 1)))[:, np.newaxis, :]  # (100, 1, 30)
    >>> sae = SequenceAutoEncoder(n_components=2, max_epochs=5, random_state=0).fit(X)
    >>> sae.transform(X).shape
    (100, 2)
    >>> sae.inverse_transform(sae.transform(X[:3])).shape
    (3, 1, 30)
    """

    _parameter_constraints = {
        **{k: v for k, v in BaseAutoEncoder._parameter_constraints.items() if k != "activation"},
        "hidden_layer_sizes": [*LAYER_SIZES, None],
        "architecture": [StrOptions({"conv", *CELLS})],
        "kernel_size": [Interval(Integral, 1, None, closed="left")],
        "bidirectional": ["boolean"],
    }
    _attribute_kinds_ = {
        "n_channels_": "count",
        "n_timepoints_": "count",
        "masked_": "bool",
        "input_ndim_": "count",
    }
    _regularised_code = True  # the code is a context vector, not a copy of the input

    def __init__(
        self,
        n_components=8,
        *,
        architecture="conv",
        hidden_layer_sizes=None,
        kernel_size=9,
        bidirectional=False,
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
        self.architecture = architecture
        self.hidden_layer_sizes = hidden_layer_sizes
        self.kernel_size = kernel_size
        self.bidirectional = bidirectional
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

    def _check_params(self, X=None) -> None:
        super()._check_params(X)
        if not self._layers():
            raise ValueError(
                "hidden_layer_sizes=() leaves SequenceAutoEncoder no layer; give at least one "
                "width, e.g. (32, 64, 64), or None for the architecture's default."
            )
        recurrent = self.architecture in CELLS
        if not recurrent and self.kernel_size % 2 == 0:
            raise ValueError(
                f"kernel_size={self.kernel_size} is even; the convolutions need an odd width, "
                "centred on a step, e.g. 9."
            )
        if self.bidirectional and not recurrent:
            raise ValueError(
                "bidirectional=True reads sequences backwards with recurrent layers; set "
                'architecture="gru" or "lstm", or leave bidirectional=False.'
            )
        if recurrent and any(isinstance(p, Contractive) for p in self.penalties or []):
            raise ValueError(
                "The Contractive penalty needs the encoder's Jacobian case by case, which "
                "torch.func cannot take through recurrent layers "
                f'(architecture="{self.architecture}"); use architecture="conv", or another '
                "penalty such as L1Activity."
            )

    def _layers(self) -> list:
        """The widths of the encoder's layers: ``hidden_layer_sizes`` or the default."""
        if self.hidden_layer_sizes is None:
            return [32, 64, 64] if self.architecture == "conv" else [64]
        return list(layer_sizes(self.hidden_layer_sizes))

    def _shape_params(self) -> dict:
        # Read from a file before validation: comparisons only, whatever the values' types.
        params = {**super()._shape_params(), "hidden_layer_sizes": self._layers()}
        if self.architecture != "conv":  # a recurrent model builds no kernel
            del params["kernel_size"]
        return params

    # -- input: sequences as rows -------------------------------------------------------
    def _prepare_input(self, X):
        cases = _cases(X)  # converted once, for the layout and the rows
        layout = sequence_layout(X, cases)
        if layout is None:
            return X  # 2-D rows: univariate sequences, validated as rows
        n_channels, n_timepoints, masked = layout
        if hasattr(self, "n_timepoints_"):  # transform: the fitted layout decides
            self._check_layout(n_channels, n_timepoints, masked)
            n_timepoints, masked = self.n_timepoints_, self.masked_
        if cases is None:  # a 3-D array
            X = np.asarray(X)
            rows = X.reshape(X.shape[0], -1)
            if not masked:
                return rows
            cases = list(X)
        return _padded_rows(cases, n_timepoints, masked)

    def _check_layout(self, n_channels: int, n_timepoints: int, masked: bool) -> None:
        if n_channels != self.n_channels_:
            raise ValueError(
                f"X has {n_channels} channels, but {type(self).__name__} was fitted on "
                f"{self.n_channels_}."
            )
        if self.masked_ and n_timepoints > self.n_timepoints_:
            raise ValueError(
                f"X has cases of {n_timepoints} timepoints, but the model reads at most "
                f"n_timepoints_={self.n_timepoints_}; shorten them or fit on longer cases."
            )
        if not self.masked_ and (masked or n_timepoints != self.n_timepoints_):
            raise ValueError(
                f"The model was fitted on cases of {self.n_timepoints_} timepoints each and "
                f"reads only those; X has cases of other lengths. Fit on cases of unequal "
                "lengths (a list) for a model that reads any length up to the longest."
            )

    def _learn_input_layout(self, X, rows) -> None:
        layout = sequence_layout(X)
        n_channels, n_timepoints, masked = (1, rows.shape[1], False) if layout is None else layout
        self.n_channels_, self.n_timepoints_, self.masked_ = n_channels, n_timepoints, masked
        self.input_ndim_ = 2 if layout is None else 3

    def _check_restored(self) -> None:
        """Refuse a layout that does not match the rows the model reads (see skae._state)."""
        width = self.n_channels_ * self.n_timepoints_ + (self.n_timepoints_ if self.masked_ else 0)
        flat = self.input_ndim_ == 2 and (self.n_channels_ != 1 or self.masked_)
        if width != self.n_features_in_ or self.input_ndim_ not in (2, 3) or flat:
            raise ValueError(
                f"n_channels_={self.n_channels_}, n_timepoints_={self.n_timepoints_}, "
                f"masked_={self.masked_} and input_ndim_={self.input_ndim_} do not describe "
                f"rows of n_features_in_={self.n_features_in_} values."
            )

    def _build_module(self, n_features: int):
        if self.architecture == "conv":
            return TemporalConvAutoEncoderModule(
                self.n_channels_,
                self.n_timepoints_,
                self.n_components,
                self._layers(),
                kernel_size=self.kernel_size,
                output_activation=make_activation(self._resolved_output_activation()),
                masked=self.masked_,
            )
        return SequenceAutoEncoderModule(
            self.n_channels_,
            self.n_timepoints_,
            self.n_components,
            self._layers(),
            cell=self.architecture,
            bidirectional=self.bidirectional,
            output_activation=make_activation(self._resolved_output_activation()),
            masked=self.masked_,
        )

    def _build_objective(self):
        return SequenceObjective(
            self.loss, self.n_channels_, self.n_timepoints_, self.masked_, self._all_penalties()
        )

    def inverse_transform(self, X):
        """Decode codes back to sequences of ``n_timepoints_`` steps.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Codes, e.g. from :meth:`transform`.

        Returns
        -------
        X_original : ndarray
            The reconstructed sequences, in the dtype of ``X``: of shape
            ``(n_samples, n_channels_, n_timepoints_)``, or ``(n_samples,
            n_timepoints_)`` for a model fitted on 2-D rows.
        """
        flat = super().inverse_transform(X)
        if self.input_ndim_ == 2:
            return flat
        return flat.reshape(len(flat), self.n_channels_, self.n_timepoints_)


def _padded_rows(cases, n_timepoints: int, masked: bool) -> np.ndarray:
    """Rows of the cases' values, each padded with zeros to ``n_timepoints``, then their mask."""
    n_channels = cases[0].shape[0]
    values = np.zeros((len(cases), n_channels, n_timepoints))
    mask = np.zeros((len(cases), n_timepoints))
    for i, case in enumerate(cases):
        values[i, :, : case.shape[1]] = case
        mask[i, : case.shape[1]] = 1.0
    rows = values.reshape(len(cases), -1)
    return np.hstack([rows, mask]) if masked else rows
