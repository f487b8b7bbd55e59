"""Convolutional encoder and decoder over flat rows. Nothing here knows about scikit-learn."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from .modules import AutoEncoderModule, make_activation, mlp


def conv_output_size(size: int) -> int:
    """Side after a stride-2 convolution with an odd kernel and padding ``kernel_size // 2``."""
    return (size - 1) // 2 + 1


def transposed_padding(size_out: int, size_in: int) -> int:
    """``output_padding`` of the stride-2 transposed convolution from ``size_in`` to ``size_out``.

    Such a convolution gives ``2 * size_in - 1 + output_padding``: this undoes
    :func:`conv_output_size` exactly, for even and odd sizes alike.
    """
    return size_out - (2 * size_in - 1)


def conv_autoencoder(
    image_shape: Sequence[int],
    n_components: int,
    channels: Sequence[int],
    activation,
    output_activation,
    kernel_size: int = 3,
    code_activation="identity",
    noise: nn.Module | None = None,
) -> AutoEncoderModule:
    """Build a convolutional autoencoder that reads and writes flat rows.

    The encoder views each row as a ``(C, H, W)`` image, applies one
    stride-2 convolution (``kernel_size`` odd, "same" padding) per entry of
    ``channels``, each followed by ``activation``, and maps the flattened
    feature map linearly to the code. The decoder mirrors it with transposed
    convolutions whose ``output_padding`` is computed so that every
    intermediate size, and the output, is exactly the encoder's: any
    ``(H, W)`` comes back as ``(H, W)``. With no ``channels`` both maps are a
    single linear layer.
    """
    c, h, w = (int(v) for v in image_shape)
    pad = kernel_size // 2
    sizes = [(h, w)]
    for _ in channels:
        sizes.append((conv_output_size(sizes[-1][0]), conv_output_size(sizes[-1][1])))
    widths = [c, *channels]
    flat = widths[-1] * sizes[-1][0] * sizes[-1][1]

    encoder: list[nn.Module] = [nn.Unflatten(1, (c, h, w))]
    for n_in, n_out in zip(widths[:-1], widths[1:]):
        encoder.append(nn.Conv2d(n_in, n_out, kernel_size, stride=2, padding=pad))
        encoder.append(make_activation(activation))
    encoder += [nn.Flatten(), mlp([flat, n_components], activation, code_activation)]

    last_dense = activation if channels else output_activation
    decoder: list[nn.Module] = [
        mlp([n_components, flat], activation, last_dense),
        nn.Unflatten(1, (widths[-1], *sizes[-1])),
    ]
    for i in range(len(channels), 0, -1):
        padding_out = tuple(map(transposed_padding, sizes[i - 1], sizes[i]))
        decoder.append(
            nn.ConvTranspose2d(
                widths[i],
                widths[i - 1],
                kernel_size,
                stride=2,
                padding=pad,
                output_padding=padding_out,
            )
        )
        decoder.append(make_activation(activation if i > 1 else output_activation))
    decoder.append(nn.Flatten())
    return AutoEncoderModule(nn.Sequential(*encoder), nn.Sequential(*decoder), noise=noise)
