"""Sequence autoencoders (recurrent, temporal-convolution) over sequences given as flat rows."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from .conv import conv_output_size, transposed_padding
from .losses import RECONSTRUCTION_ERRORS, RECONSTRUCTION_LOSSES, Objective
from .modules import make_activation

CELLS = {"gru": nn.GRU, "lstm": nn.LSTM}


class SequenceRows(nn.Module):
    """Reads rows of sequences: ``n_channels x n_timepoints`` values, then a mask when ``masked``.

    The values are channel-major (as ``X.reshape(n, -1)`` gives for aeon's
    ``(n, channels, timepoints)`` layout); the mask holds one 0/1 value per
    timepoint, 1 for the real steps of a case padded at its end.
    """

    def __init__(self, n_channels: int, n_timepoints: int, masked: bool):
        super().__init__()
        self.n_channels, self.n_timepoints, self.masked = n_channels, n_timepoints, masked
        self.n_values = n_channels * n_timepoints

    def values(self, rows: torch.Tensor) -> torch.Tensor:
        """The values of ``rows`` as ``(n, n_channels, n_timepoints)``."""
        return rows[:, : self.n_values].reshape(-1, self.n_channels, self.n_timepoints)

    def mask(self, rows: torch.Tensor) -> torch.Tensor | None:
        """The ``(n, n_timepoints)`` mask of real steps, or ``None`` for equal lengths."""
        return rows[:, self.n_values :] if self.masked else None

    def forward(self, rows: torch.Tensor) -> dict[str, torch.Tensor]:
        code = self.encode(rows)
        return {"reconstruction": self.decode(code), "code": code}


class SequenceAutoEncoderModule(SequenceRows):
    """Encoder-decoder RNN whose code is the context vector of a sequence.

    Rows hold a case's ``n_channels x n_timepoints`` values channel-major
    (as ``X.reshape(n, -1)`` gives for aeon's ``(n, channels, timepoints)``
    layout) and, when ``masked``, then one 0/1 value per timepoint that marks
    the real steps of a case padded at its end. The encoder is a stack of
    recurrent layers that reads the real steps only (packed); the final state
    of its last layer (both directions' when ``bidirectional``) maps linearly
    to the code. The decoder rebuilds the whole sequence from the code alone:
    recurrent layers of the mirrored widths, each starting from a state set
    by the code and the first reading the code at every step, then a linear
    read-out of the channels per step and ``output_activation``.

    Parameters
    ----------
    n_channels, n_timepoints : int
        Shape of a case.
    n_components : int
        Size of the code.
    hidden_sizes : sequence of int
        Units of the encoder's recurrent layers, from the input inwards.
    cell : {"gru", "lstm"}
        The recurrent cell.
    bidirectional : bool
        Whether the encoder's layers also read each sequence backwards.
    output_activation : nn.Module
        Applied to the read-out.
    masked : bool
        Whether rows end with the mask of real timepoints.

    Examples
    --------
    >>> import torch
    >>> module = SequenceAutoEncoderModule(2, 5, 3, [8])
    >>> out = module(torch.randn(4, 10))
    >>> out["code"].shape, out["reconstruction"].shape
    (torch.Size([4, 3]), torch.Size([4, 10]))
    """

    def __init__(
        self,
        n_channels: int,
        n_timepoints: int,
        n_components: int,
        hidden_sizes,
        *,
        cell: str = "gru",
        bidirectional: bool = False,
        output_activation: nn.Module | None = None,
        masked: bool = False,
    ):
        super().__init__(n_channels, n_timepoints, masked)
        rnn = CELLS[cell]
        self.is_lstm = cell == "lstm"
        directions = 2 if bidirectional else 1
        widths = [n_channels, *(h * directions for h in hidden_sizes)]
        self.encoder = nn.ModuleList(
            rnn(n_in, h, batch_first=True, bidirectional=bidirectional)
            for n_in, h in zip(widths[:-1], hidden_sizes)
        )
        self.to_code = nn.Linear(widths[-1], n_components)
        mirrored = list(reversed(hidden_sizes))
        self.starts = nn.ModuleList(nn.Linear(n_components, h) for h in mirrored)
        self.decoder = nn.ModuleList(
            rnn(n_in, h, batch_first=True) for n_in, h in zip([n_components, *mirrored], mirrored)
        )
        self.read_out = nn.Linear(mirrored[-1], n_channels)
        self.output_activation = output_activation or nn.Identity()

    def encode(self, rows: torch.Tensor) -> torch.Tensor:
        x = self.values(rows).transpose(1, 2)  # (n, n_timepoints, n_channels)
        if self.masked:
            lengths = self.mask(rows).sum(dim=1).round().long().clamp(min=1).cpu()
            x = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        for layer in self.encoder:
            x, state = layer(x)
        hidden = state[0] if self.is_lstm else state  # (directions, n, units)
        return self.to_code(torch.cat(list(hidden), dim=1))

    def decode(self, code: torch.Tensor) -> torch.Tensor:
        n = code.shape[0]
        x = code.unsqueeze(1).expand(n, self.n_timepoints, code.shape[1])
        for start, layer in zip(self.starts, self.decoder):
            h0 = torch.tanh(start(code)).unsqueeze(0)
            x, _ = layer(x, (h0, torch.zeros_like(h0)) if self.is_lstm else h0)
        steps = self.output_activation(self.read_out(x))  # (n, n_timepoints, n_channels)
        return steps.transpose(1, 2).reshape(n, -1)


class TemporalConvAutoEncoderModule(SequenceRows):
    """Temporal-convolution encoder-decoder whose code summarises a sequence.

    Rows are those of :class:`SequenceRows`. The encoder applies one
    stride-2 ``Conv1d`` along time per entry of ``channels`` (odd
    ``kernel_size``, "same" padding), each followed by ``activation``, and
    maps the flattened feature map linearly to the code. With a mask, every
    layer's input is zero at the padded steps (the mask halves with each
    stride), so the code depends on a case's real steps only. The decoder
    mirrors the encoder with transposed convolutions whose output padding
    gives back exactly ``n_timepoints`` steps, then ``output_activation``.

    Parameters
    ----------
    n_channels, n_timepoints : int
        Shape of a case.
    n_components : int
        Size of the code.
    channels : sequence of int
        Channels of the encoder's convolutions, from the input inwards; at
        least one.
    kernel_size : int
        Odd width of every convolution, in timepoints.
    activation : str or nn.Module class
        Follows every convolution but the decoder's last, and the linear map
        from the code.
    output_activation : nn.Module
        Applied to the decoder's last convolution.
    masked : bool
        Whether rows end with the mask of real timepoints.

    Examples
    --------
    >>> import torch
    >>> module = TemporalConvAutoEncoderModule(2, 25, 3, [8, 16])
    >>> out = module(torch.randn(4, 50))
    >>> out["code"].shape, out["reconstruction"].shape
    (torch.Size([4, 3]), torch.Size([4, 50]))
    """

    def __init__(
        self,
        n_channels: int,
        n_timepoints: int,
        n_components: int,
        channels,
        *,
        kernel_size: int = 9,
        activation="relu",
        output_activation: nn.Module | None = None,
        masked: bool = False,
    ):
        super().__init__(n_channels, n_timepoints, masked)
        pad = kernel_size // 2
        lengths = [n_timepoints]
        for _ in channels:
            lengths.append(conv_output_size(lengths[-1]))
        widths = [n_channels, *channels]
        self.shape_inside = (widths[-1], lengths[-1])
        self.encoder = nn.ModuleList(
            nn.Conv1d(n_in, n_out, kernel_size, stride=2, padding=pad)
            for n_in, n_out in zip(widths[:-1], widths[1:])
        )
        self.to_code = nn.Linear(widths[-1] * lengths[-1], n_components)
        self.from_code = nn.Linear(n_components, widths[-1] * lengths[-1])
        self.decoder = nn.ModuleList(
            nn.ConvTranspose1d(
                widths[i],
                widths[i - 1],
                kernel_size,
                stride=2,
                padding=pad,
                output_padding=transposed_padding(lengths[i - 1], lengths[i]),
            )
            for i in range(len(channels), 0, -1)
        )
        self.activations = nn.ModuleList(
            make_activation(activation) for _ in range(2 * len(channels))
        )
        self.output_activation = output_activation or nn.Identity()

    def encode(self, rows: torch.Tensor) -> torch.Tensor:
        x, mask = self.values(rows), self.mask(rows)
        for conv, activation in zip(self.encoder, self.activations):
            if mask is not None:
                x = x * mask.unsqueeze(1)
                mask = mask[:, ::2]  # the steps a stride-2 output is centred on
            x = activation(conv(x))
        if mask is not None:
            x = x * mask.unsqueeze(1)
        return self.to_code(x.flatten(1))

    def decode(self, code: torch.Tensor) -> torch.Tensor:
        activations = list(self.activations[len(self.encoder) :])
        x = activations[0](self.from_code(code)).reshape(-1, *self.shape_inside)
        for i, deconv in enumerate(self.decoder):
            last = i == len(self.decoder) - 1
            x = deconv(x)
            x = self.output_activation(x) if last else activations[i + 1](x)
        return x.flatten(1)


class SequenceObjective(Objective):
    """Reconstruction loss over the real timepoints of each case only.

    Rows are those of :class:`SequenceAutoEncoderModule`: with a mask, the
    loss of a case is the mean over its real timepoints and channels, so
    padded steps count neither in the loss nor in its scale.
    """

    def __init__(self, loss: str, n_channels: int, n_timepoints: int, masked: bool, penalties=()):
        super().__init__(loss, penalties)
        self.n_channels, self.n_timepoints, self.masked = n_channels, n_timepoints, masked

    def per_sample(self, output: dict, target: torch.Tensor) -> torch.Tensor:
        width = self.n_channels * self.n_timepoints
        reconstruction, values = output["reconstruction"], target[:, :width]
        if not self.masked:
            return RECONSTRUCTION_LOSSES[self.loss](reconstruction, values)
        mask = target[:, width:].repeat(1, self.n_channels)  # channel-major, as the values
        # Padded steps hold 0 and are reconstructed as 0 here: no loss, no gradient.
        reconstruction = reconstruction * mask
        if self.loss == "bce":  # kept off 0 and 1, where the log is cut off at -100
            reconstruction = reconstruction.clamp(1e-7, 1 - 1e-7)
        per_value = RECONSTRUCTION_ERRORS[self.loss](reconstruction, values * mask)
        return (per_value * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)
