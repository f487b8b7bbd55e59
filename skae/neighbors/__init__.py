"""Exact nearest neighbours among binary codes.

- :mod:`._bits`: packing 0/1 codes into 64-bit words and back;
- :mod:`._kernels`: the numpy kernels (blocked XOR and popcount, top-k);
- :mod:`._backends`: the numpy and FAISS searches over packed codes;
- :mod:`._index`: :class:`HammingIndex`, the scikit-learn estimator.
"""

from ._bits import pack_bits, unpack_bits
from ._index import HammingIndex

__all__ = ["HammingIndex", "pack_bits", "unpack_bits"]
