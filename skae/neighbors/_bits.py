"""Binary codes packed into 64-bit words, and back.

A code of ``n_bits`` bits is stored as ``ceil(n_bits / 64)`` unsigned 64-bit
words: bit ``j`` of the code is bit ``j % 64`` (least significant first) of
word ``j // 64``, and the unused high bits of the last word are zero. The
Hamming distance of two codes is then the population count of their XOR,
summed over the words.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._data import iter_row_blocks
from ._kernels import WORD

# Sparse rows are densified this many values at a time (16 MiB of float64) to be binarised.
_DENSE_BLOCK = 1 << 21


def check_bits(bits, what: str = "bits", threshold=None) -> np.ndarray:
    """``bits`` as a 2-D boolean array.

    With ``threshold=None``, refusing anything but 0 and 1; otherwise the
    values strictly greater than ``threshold`` (which must then be finite
    numbers) are the ones.
    """
    if sp.issparse(bits):
        bits = bits.toarray()
    bits = np.asarray(bits)
    if threshold is not None:
        if bits.ndim != 2:
            raise ValueError(f"{what} must be a 2-D array, got shape {bits.shape}.")
        if bits.dtype.kind not in "biuf":
            raise ValueError(f"{what} must hold real numbers, got dtype {bits.dtype}.")
        if bits.dtype.kind == "f" and not np.isfinite(bits).all():
            raise ValueError(
                f"{what} contains NaN or infinity, which binarize={threshold!r} cannot "
                "turn into bits; remove or impute those values first."
            )
        return bits > threshold
    if bits.ndim != 2:
        raise ValueError(f"{what} must be a 2-D array of 0 and 1, got shape {bits.shape}.")
    if bits.dtype == bool:
        return bits
    if bits.dtype.kind not in "biuf":
        raise ValueError(f"{what} must hold numbers 0 and 1, got dtype {bits.dtype}.")
    is_one = bits == 1
    if not (is_one | (bits == 0)).all():
        bad = bits[~(is_one | (bits == 0))].flat[0]
        raise ValueError(
            f"{what} must hold only 0 and 1 (binary codes), but holds {bad!r}. Binarise "
            "first (e.g. X > 0 for sign codes), let HammingIndex do it (binarize=0.0, "
            "its default), or give HammingIndex a hasher such as HashingAutoEncoder to "
            "index raw features."
        )
    return is_one


def pack_rows(Z, threshold, what: str):
    """Packed codes of the rows of ``Z``, and their number of bits.

    The bits are ``Z > threshold``, or ``Z``'s own 0/1 values when
    ``threshold`` is None (see :func:`check_bits`). A sparse ``Z`` is
    densified a block of rows at a time, so its implicit zeros are compared
    with the threshold like any other value.
    """
    if not sp.issparse(Z):
        bits = check_bits(Z, what, threshold)
        return pack_bits(bits), bits.shape[1]
    Z = Z.tocsr()
    n_bits = Z.shape[1]
    parts = [
        pack_bits(check_bits(block.toarray(), what, threshold))
        for block in iter_row_blocks(Z, max(1, _DENSE_BLOCK // max(1, n_bits)))
    ]
    if not parts:
        return np.zeros((0, max(1, -(-n_bits // WORD))), dtype=np.uint64), n_bits
    return np.concatenate(parts), n_bits


def pack_bits(bits) -> np.ndarray:
    """Pack rows of 0/1 bits into unsigned 64-bit words.

    Parameters
    ----------
    bits : array-like of shape (n_samples, n_bits)
        Binary codes: booleans, or numbers that are all 0 or 1 (e.g. the
        output of :meth:`HashingAutoEncoder.transform`).

    Returns
    -------
    words : ndarray of shape (n_samples, ceil(n_bits / 64)), dtype uint64
        Bit ``j`` of a row is bit ``j % 64`` (least significant first) of
        word ``j // 64``; the unused high bits of the last word are 0.

    See Also
    --------
    unpack_bits : The inverse.

    Examples
    --------
    >>> import numpy as np
    >>> from skae import pack_bits, unpack_bits
    >>> bits = np.array([[1, 0, 1], [0, 0, 1]])
    >>> pack_bits(bits)
    array([[5],
           [4]], dtype=uint64)
    >>> unpack_bits(pack_bits(bits), n_bits=3)
    array([[1, 0, 1],
           [0, 0, 1]], dtype=uint8)
    """
    bits = check_bits(bits)
    n_samples, n_bits = bits.shape
    n_words = max(1, -(-n_bits // WORD))
    if n_bits != n_words * WORD:
        padded = np.zeros((n_samples, n_words * WORD), dtype=bool)
        padded[:, :n_bits] = bits
        bits = padded
    packed = np.packbits(bits, axis=1, bitorder="little")
    return np.ascontiguousarray(packed).view("<u8").astype(np.uint64, copy=False)


def unpack_bits(words, n_bits: int) -> np.ndarray:
    """Unpack 64-bit words (from :func:`pack_bits`) into rows of 0/1 bits.

    Parameters
    ----------
    words : array-like of shape (n_samples, n_words), dtype uint64
        Packed codes.
    n_bits : int
        Number of bits per code, at most ``64 * n_words``.

    Returns
    -------
    bits : ndarray of shape (n_samples, n_bits), dtype uint8
        The bits, 0 or 1.

    See Also
    --------
    pack_bits : The inverse.

    Examples
    --------
    >>> import numpy as np
    >>> from skae import unpack_bits
    >>> unpack_bits(np.array([[6]], dtype=np.uint64), n_bits=4)
    array([[0, 1, 1, 0]], dtype=uint8)
    """
    words = np.asarray(words)
    if words.ndim != 2 or words.dtype != np.uint64:
        raise ValueError(
            f"words must be a 2-D uint64 array (the output of pack_bits), got "
            f"{words.dtype} of shape {words.shape}."
        )
    if not 0 <= n_bits <= WORD * words.shape[1]:
        raise ValueError(f"n_bits={n_bits} does not fit in {words.shape[1]} words of 64 bits.")
    as_bytes = np.ascontiguousarray(words.astype("<u8", copy=False)).view(np.uint8)
    return np.unpackbits(as_bytes, axis=1, count=n_bits, bitorder="little")
