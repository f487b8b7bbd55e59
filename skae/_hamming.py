"""Binary codes: packing into 64-bit words, and exact Hamming nearest neighbours.

A code of ``n_bits`` bits is stored as ``ceil(n_bits / 64)`` unsigned 64-bit
words: bit ``j`` of the code is bit ``j % 64`` (least significant first) of
word ``j // 64``, and the unused high bits of the last word are zero. The
Hamming distance of two codes is then the population count of their XOR,
summed over the words.

:class:`HammingIndex` answers k-nearest-neighbour and radius queries exactly,
either with numpy (``np.bitwise_count`` over blocks of queries x stored codes
that stay in cache, and a threshold filter so that only a few candidates per
query are ever sorted) or with FAISS's ``IndexBinaryFlat`` when it is
installed.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from copy import deepcopy
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from joblib import effective_n_jobs
from sklearn.base import BaseEstimator, clone
from sklearn.utils import get_tags
from sklearn.utils.validation import check_is_fitted, validate_data

from ._data import iter_row_blocks
from ._utils import HasMethods, Interval, StrOptions, fresh_fit, reads_fitted

__all__ = ["HammingIndex", "pack_bits", "unpack_bits"]

_WORD = 64
# Queries x stored codes per block: 16 x 16384 words = 2 MiB of XOR, about one L2 cache.
_QUERY_BLOCK = 16
_CODE_BLOCK = 16384
# Sparse rows are densified this many values at a time (16 MiB of float64) to be binarised.
_DENSE_BLOCK = 1 << 21


# -- packing -------------------------------------------------------------------------------
def _check_bits(bits, what: str = "bits", threshold=None) -> np.ndarray:
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


def _pack_rows(Z, threshold, what: str):
    """Packed codes of the rows of ``Z``, and their number of bits.

    The bits are ``Z > threshold``, or ``Z``'s own 0/1 values when
    ``threshold`` is None (see :func:`_check_bits`). A sparse ``Z`` is
    densified a block of rows at a time, so its implicit zeros are compared
    with the threshold like any other value.
    """
    if not sp.issparse(Z):
        bits = _check_bits(Z, what, threshold)
        return pack_bits(bits), bits.shape[1]
    Z = Z.tocsr()
    n_bits = Z.shape[1]
    parts = [
        pack_bits(_check_bits(block.toarray(), what, threshold))
        for block in iter_row_blocks(Z, max(1, _DENSE_BLOCK // max(1, n_bits)))
    ]
    if not parts:
        return np.zeros((0, max(1, -(-n_bits // _WORD))), dtype=np.uint64), n_bits
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
    bits = _check_bits(bits)
    n_samples, n_bits = bits.shape
    n_words = max(1, -(-n_bits // _WORD))
    if n_bits != n_words * _WORD:
        padded = np.zeros((n_samples, n_words * _WORD), dtype=bool)
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
    if not 0 <= n_bits <= _WORD * words.shape[1]:
        raise ValueError(f"n_bits={n_bits} does not fit in {words.shape[1]} words of 64 bits.")
    as_bytes = np.ascontiguousarray(words.astype("<u8", copy=False)).view(np.uint8)
    return np.unpackbits(as_bytes, axis=1, count=n_bits, bitorder="little")


# -- the numpy kernel ------------------------------------------------------------------------
def _distances(queries: np.ndarray, codes: np.ndarray, out=None, xor=None) -> np.ndarray:
    """Hamming distances of word-major queries (W, m) to word-major codes (W, n).

    ``out`` (uint8, or uint16 beyond 255 bits) and ``xor`` (uint64) are
    optional ``(m, n)`` buffers, reused across blocks to avoid allocations.
    """
    n_words, m = queries.shape
    n = codes.shape[1]
    if out is None:
        out = np.empty((m, n), dtype=np.uint8 if n_words * _WORD < 256 else np.uint16)
    if xor is None:
        xor = np.empty((m, n), dtype=np.uint64)
    for w in range(n_words):
        np.bitwise_xor(queries[w][:, None], codes[w][None, :], out=xor)
        if w == 0:
            np.bitwise_count(xor, out=out, casting="unsafe")
        else:
            np.add(out, np.bitwise_count(xor), out=out, casting="unsafe")
    return out


def _scan(queries: np.ndarray, codes: np.ndarray, thresholds: np.ndarray):
    """Every stored code within ``thresholds[i]`` of query ``i``, block by block.

    Returns, per query, the indices (ascending) and distances of those codes.
    Only the hits leave the cache-sized blocks, so the cost is one pass of
    XOR, popcount and comparison over queries x codes.
    """
    n_words, n_queries = queries.shape
    n_codes = codes.shape[1]
    dtype = np.uint8 if n_words * _WORD < 256 else np.uint16
    width = min(n_codes, _CODE_BLOCK)
    xor = np.empty((_QUERY_BLOCK, width), dtype=np.uint64)
    dist = np.empty((_QUERY_BLOCK, width), dtype=dtype)
    hit = np.empty((_QUERY_BLOCK, width), dtype=bool)
    out_idx: list = []
    out_dist: list = []
    for q0 in range(0, n_queries, _QUERY_BLOCK):
        q1 = min(n_queries, q0 + _QUERY_BLOCK)
        m = q1 - q0
        # The same dtype as the distances: comparing with int64 would cast every element.
        limit = thresholds[q0:q1, None].astype(dtype)
        rows, cols, found = [], [], []
        for c0 in range(0, n_codes, _CODE_BLOCK):
            c1 = min(n_codes, c0 + _CODE_BLOCK)
            n = c1 - c0
            d = _distances(queries[:, q0:q1], codes[:, c0:c1], dist[:m, :n], xor[:m, :n])
            h = np.less_equal(d, limit, out=hit[:m, :n])
            flat = np.flatnonzero(h) if h.flags.c_contiguous else np.flatnonzero(h.copy())
            if flat.size:
                r, c = np.divmod(flat, n)
                rows.append(r)
                cols.append(c + c0)
                found.append(d[r, c])
        if rows:
            rows, cols, found = np.concatenate(rows), np.concatenate(cols), np.concatenate(found)
        else:
            rows, cols, found = (np.empty(0, dtype=np.intp),) * 2 + (np.empty(0, dtype),)
        # Blocks come in index order, so a stable sort by query keeps each query's
        # hits in ascending index order.
        order = np.argsort(rows, kind="stable")
        bounds = np.searchsorted(rows[order], np.arange(1, m))
        out_idx.extend(np.split(cols[order], bounds))
        out_dist.extend(np.split(found[order], bounds))
    return out_idx, out_dist


def _guess_thresholds(queries, codes, n_neighbors: int, n_bits: int) -> np.ndarray:
    """Per-query distances that likely keep a few times ``n_neighbors`` codes.

    Read off a strided sample of the stored codes. A guess that keeps fewer
    than ``n_neighbors`` codes is raised and the query scanned again, so the
    guess only affects speed, never the result.
    """
    n_codes = codes.shape[1]
    stride = max(1, n_codes // max(4096, 64 * n_neighbors))
    sample = codes[:, ::stride]
    # Rank in the sample of the distance below which ~4 x n_neighbors codes should lie.
    rank = min(sample.shape[1], int(np.ceil(4 * n_neighbors * sample.shape[1] / n_codes)))
    guesses = []
    for start in range(0, queries.shape[1], 256):  # bounded memory for many queries
        dist = _distances(queries[:, start : start + 256], sample)
        guesses.append(np.partition(dist, rank - 1, axis=1)[:, rank - 1])
    return np.minimum(np.concatenate(guesses).astype(np.int64), n_bits)


def _smallest(idx: np.ndarray, dist: np.ndarray, k: int):
    """The ``k`` nearest of the candidates, by distance then index."""
    if idx.size > k:
        keep = np.argpartition(dist, k - 1)[:k]
        # Everything strictly below the k-th distance is kept; ties at it go by index.
        kth = dist[keep].max()
        below = np.flatnonzero(dist < kth)
        ties = np.flatnonzero(dist == kth)
        ties = ties[np.argsort(idx[ties], kind="stable")[: k - below.size]]
        keep = np.concatenate([below, ties])
        idx, dist = idx[keep], dist[keep]
    order = np.lexsort((idx, dist))
    return idx[order], dist[order]


def _parallel(fn, n_queries: int, n_jobs: int):
    """Run ``fn(start, stop)`` over query ranges in threads; concatenate the lists."""
    if n_jobs == 1 or n_queries <= _QUERY_BLOCK:
        return fn(0, n_queries)
    step = -(-n_queries // n_jobs)
    step = -(-step // _QUERY_BLOCK) * _QUERY_BLOCK
    ranges = [(s, min(n_queries, s + step)) for s in range(0, n_queries, step)]
    with ThreadPoolExecutor(max_workers=len(ranges)) as pool:
        parts = list(pool.map(lambda r: fn(*r), ranges))
    return tuple(sum((p[i] for p in parts), []) for i in range(len(parts[0])))


def _faiss():
    try:
        import faiss
    except ImportError:
        return None
    return faiss


# -- the estimator -------------------------------------------------------------------------
class HammingIndex(BaseEstimator):
    """Exact nearest neighbours in Hamming space, shaped like ``NearestNeighbors``.

    ``fit(X)`` fits a clone of ``hasher`` on ``X`` (skipped for a
    :class:`~sklearn.frozen.FrozenEstimator`) and stores the packed binary
    codes of ``X``; ``kneighbors`` and ``radius_neighbors`` hash the queries
    with the same hasher and return the stored rows nearest in Hamming
    distance (the number of differing bits). Results are exact, with ties at
    equal distance broken by stored index on the numpy backend.

    The bits of a row are its values binarised as by ``BernoulliNB`` and
    :class:`~sklearn.preprocessing.Binarizer`: ``bits = values > binarize``.
    The values are those of ``X`` itself when ``hasher`` is ``None``, and
    those of ``hasher.transform(X)`` otherwise.

    Parameters
    ----------
    hasher : estimator or None, default=None
        A transformer whose ``transform`` output is binarised into the codes,
        such as :class:`HashingAutoEncoder` (0/1 bits, which ``binarize=0.0``
        leaves unchanged), ``make_pipeline(PCA(32), Binarizer(threshold=0))``
        or just ``PCA(32)`` (signs of the components, through ``binarize``).
        It is cloned and fitted on the rows given to :meth:`fit`; to use one
        that is already fitted (on a sample, say), wrap it in
        :class:`sklearn.frozen.FrozenEstimator`. It validates its own input.
        ``None`` indexes ``X`` itself, binarised.

    binarize : float or None, default=0.0
        Threshold that turns values into bits: values strictly greater than
        it are 1, all others 0, for the rows given to :meth:`fit` and for the
        queries alike. It applies to ``X`` when ``hasher`` is ``None`` (in a
        sparse ``X``, implicit zeros are values 0 like any other, so with a
        negative threshold they become ones), and to the hasher's
        ``transform`` output otherwise. The values must be finite. ``None``
        binarises nothing: the values must then already be 0 and 1 (or
        booleans), and anything else is an error.

    n_neighbors : int, default=5
        Number of neighbours :meth:`kneighbors` returns by default.

    radius : int, default=2
        Hamming radius :meth:`radius_neighbors` uses by default (inclusive:
        codes that differ in at most ``radius`` bits).

    backend : {"auto", "numpy", "faiss"}, default="auto"
        ``"numpy"`` needs nothing beyond numpy >= 2; ``"faiss"`` uses
        ``faiss.IndexBinaryFlat`` (``pip install faiss-cpu``); ``"auto"``
        picks FAISS when it can be imported. Both are exact and agree up to
        the order of codes at equal distance.

    n_jobs : int or None, default=None
        Threads for the numpy backend's queries; ``None`` means 1 and ``-1``
        all processors. FAISS uses its own OpenMP threads (``OMP_NUM_THREADS``,
        all cores by default); on a machine whose cores are busy with other
        work, its busy-waiting threads can make it several times slower than
        with ``OMP_NUM_THREADS=1``, so set that or use ``backend="numpy"``.

    Attributes
    ----------
    hasher_ : estimator or None
        The fitted hasher (``None`` when ``hasher`` is ``None``).

    codes_ : ndarray of shape (n_samples_fit_, ceil(n_bits_ / 64)), dtype uint64
        The stored codes, packed as by :func:`pack_bits`.

    n_bits_ : int
        Bits per code.

    n_samples_fit_ : int
        Number of stored codes.

    backend_ : str
        The backend in use, ``"numpy"`` or ``"faiss"``.

    n_features_in_ : int
        Number of features of ``X`` in :meth:`fit` (the hasher's, when it
        has this attribute).

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during :meth:`fit` (the hasher's, when it
        has this attribute). Defined only when ``X`` has feature names that
        are all strings.

    See Also
    --------
    HashingAutoEncoder : Learns the binary codes.
    sklearn.neighbors.NearestNeighbors : The same interface for real vectors.

    Notes
    -----
    The numpy backend scans blocks of queries x stored codes sized to stay
    in the CPU cache and keeps only codes within a per-query distance read
    off a sample of the stored codes (raised and rescanned where it keeps
    fewer than ``n_neighbors``), so only a few candidates per query are
    sorted. On 1,000 queries over 1,000,000 random 64-bit codes
    (``n_neighbors=100``) it takes about 0.7 s of CPU time on one core of an
    AMD EPYC, FAISS about 0.6 s (``benchmarks/bench_hamming_index.py``).

    Examples
    --------
    >>> import numpy as np
    >>> from skae import HammingIndex
    >>> codes = np.array([[0, 0, 0, 0], [1, 0, 0, 0], [1, 1, 1, 1]])
    >>> index = HammingIndex(backend="numpy").fit(codes)
    >>> dist, ind = index.kneighbors([[1, 1, 0, 0]], n_neighbors=2)
    >>> dist, ind
    (array([[1., 2.]]), array([[1, 0]]))
    >>> index.radius_neighbors([[1, 1, 0, 0]], radius=1, return_distance=False)[0]
    array([1])

    Real values are binarised at ``binarize=0.0``: here to the same codes.

    >>> X = np.array([[-0.5, -1.0, 0.0, -2.0], [0.3, -1.0, 0.0, 0.0], [1.0, 2.0, 0.1, 5.0]])
    >>> index = HammingIndex(backend="numpy").fit(X)
    >>> index.kneighbors([[1.5, 0.7, -0.2, -3.0]], n_neighbors=2)
    (array([[1., 2.]]), array([[1, 0]]))
    """

    _parameter_constraints: dict = {
        "hasher": [HasMethods(["fit", "transform"]), None],
        "binarize": [Interval(Real, None, None, closed="neither"), None],
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "radius": [Interval(Integral, 0, None, closed="left")],
        "backend": [StrOptions({"auto", "numpy", "faiss"})],
        "n_jobs": [Integral, None],
    }

    # Saved by skae.save (see skae._state).
    _attribute_kinds_ = {
        "n_features_in_": "count?",
        "feature_names_in_": "names?",
        "hasher_": "part?",
        "codes_": "array:u",
        "n_bits_": "count",
        "n_samples_fit_": "count",
        "backend_": "str",
    }

    def __init__(
        self, hasher=None, *, binarize=0.0, n_neighbors=5, radius=2, backend="auto", n_jobs=None
    ):
        self.hasher = hasher
        self.binarize = binarize
        self.n_neighbors = n_neighbors
        self.radius = radius
        self.backend = backend
        self.n_jobs = n_jobs

    # -- fitting --------------------------------------------------------------------------
    def fit(self, X, y=None):
        """Fit the hasher (when given) and store the packed codes of ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to index: raw features for the hasher, or values binarised
            at ``binarize`` (0/1 bits when it is ``None``) when ``hasher``
            is ``None``.
        y : array-like of shape (n_samples,) or None, default=None
            Passed to the hasher's ``fit`` (unsupervised hashers ignore it).

        Returns
        -------
        self : HammingIndex
            The fitted index.
        """
        self._validate_params()
        with fresh_fit(self):
            self._faiss_index = None
            backend = self._resolve_backend()
            if self.hasher is None:
                hasher = None
                # Sets n_features_in_ and feature_names_in_.
                X = validate_data(self, X, reset=True, accept_sparse="csr", dtype="numeric")
                codes, n_bits = _pack_rows(X, self.binarize, "X")
            else:
                hasher = clone(self.hasher).fit(X, y)
                codes, n_bits = _pack_rows(
                    hasher.transform(X), self.binarize, "the hasher's transform output"
                )
                if codes.shape[0] < 1 or n_bits < 1:
                    raise ValueError(
                        f"The hasher's transform output has shape {(codes.shape[0], n_bits)}; "
                        "it must have at least one row and one column (bit) to index."
                    )
                if hasattr(hasher, "n_features_in_"):
                    self.n_features_in_ = int(hasher.n_features_in_)
                if hasattr(hasher, "feature_names_in_"):
                    self.feature_names_in_ = hasher.feature_names_in_
            self.hasher_ = hasher
            self.codes_ = codes
            self.n_bits_ = int(n_bits)
            self.n_samples_fit_ = int(codes.shape[0])
            self.backend_ = backend
        return self

    def _resolve_backend(self) -> str:
        if self.backend == "numpy":
            return "numpy"
        if _faiss() is not None:
            return "faiss"
        if self.backend == "faiss":
            raise ImportError(
                "backend='faiss' needs the faiss package: pip install faiss-cpu, or use "
                "backend='numpy' (or 'auto')."
            )
        return "numpy"

    def _check_restored(self) -> None:
        """Refuse stored codes that do not fit the index (see skae._state)."""
        words = -(-self.n_bits_ // _WORD)
        if self.codes_.shape != (self.n_samples_fit_, words) or self.codes_.dtype != np.uint64:
            raise ValueError(
                f"codes_ has shape {self.codes_.shape}, not ({self.n_samples_fit_}, {words})."
            )
        # The backend is this machine's choice, as in fit.
        self.backend_ = self._resolve_backend()
        # Every part fits: a row of zeros is hashed and looked up.
        if hasattr(self, "n_features_in_"):
            self.kneighbors(np.zeros((1, self.n_features_in_)), n_neighbors=1)

    def __getstate__(self):
        # The FAISS index is a SWIG object: left out, and rebuilt from codes_ on use.
        return {k: v for k, v in super().__getstate__().items() if k != "_faiss_index"}

    # -- queries --------------------------------------------------------------------------
    def _query_codes(self, X) -> np.ndarray:
        if self.hasher_ is None:
            X = validate_data(self, X, reset=False, accept_sparse="csr", dtype="numeric")
            return _pack_rows(X, self.binarize, "X")[0]
        codes, n_bits = _pack_rows(
            self.hasher_.transform(X), self.binarize, "the hasher's transform output"
        )
        if n_bits != self.n_bits_:
            raise ValueError(
                f"The hasher's transform output has {n_bits} bits per code, but the index "
                f"stores codes of {self.n_bits_} bits; query with the hasher fitted here."
            )
        return codes

    def _n_jobs(self) -> int:
        # joblib's reading of n_jobs (-1: every core); None and 0 mean one thread here.
        return effective_n_jobs(self.n_jobs or 1)

    def _index(self):
        if getattr(self, "_faiss_index", None) is None:
            faiss = _faiss()
            index = faiss.IndexBinaryFlat(_WORD * self.codes_.shape[1])
            index.add(self._bytes(self.codes_))
            self._faiss_index = index
        return self._faiss_index

    @staticmethod
    def _bytes(words: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(words.astype("<u8", copy=False)).view(np.uint8)

    @reads_fitted
    def kneighbors(self, X=None, n_neighbors=None, return_distance=True):
        """The ``n_neighbors`` stored codes nearest to each query.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_queries, n_features) or None
            Queries, hashed and binarised as the rows given to :meth:`fit`.
            ``None`` queries the stored codes themselves, each one excluded
            from its own neighbours, as in ``NearestNeighbors``.
        n_neighbors : int or None, default=None
            Neighbours per query; ``None`` uses the ``n_neighbors`` parameter.
        return_distance : bool, default=True
            Whether to return the distances too.

        Returns
        -------
        neigh_dist : ndarray of shape (n_queries, n_neighbors), dtype float64
            Hamming distances (numbers of differing bits), ascending; only
            when ``return_distance=True``.
        neigh_ind : ndarray of shape (n_queries, n_neighbors), dtype int64
            Indices of the neighbours among the stored rows.
        """
        check_is_fitted(self)
        k = self.n_neighbors if n_neighbors is None else n_neighbors
        if not isinstance(k, Integral) or isinstance(k, bool) or k < 1:
            raise ValueError(f"n_neighbors must be a positive integer, got {k!r}.")
        k = int(k)
        itself = X is None
        available = self.n_samples_fit_ - itself
        if k > available:
            raise ValueError(
                f"Expected n_neighbors <= n_samples_fit{' - 1' * itself}, but n_neighbors = "
                f"{k} and the index stores {self.n_samples_fit_} codes."
            )
        queries = self.codes_ if itself else self._query_codes(X)
        if self.backend_ == "faiss":
            dist, ind = self._faiss_kneighbors(queries, k, itself)
        else:
            dist, ind = self._numpy_kneighbors(queries, k, itself)
        return (dist, ind) if return_distance else ind

    def _numpy_kneighbors(self, queries, k: int, itself: bool):
        codes = np.ascontiguousarray(self.codes_.T)
        queries_t = np.ascontiguousarray(queries.T)
        want = k + itself
        n_queries = queries.shape[0]

        def run(start, stop):
            q = queries_t[:, start:stop]
            limit = _guess_thresholds(q, codes, want, self.n_bits_)
            idx, dist = _scan(q, codes, limit)
            while True:  # raise the guess where it kept too few codes, and scan again
                short = np.flatnonzero([i.size < want for i in idx])
                if not short.size:
                    break
                limit[short] = np.minimum(limit[short] + 1 + limit[short] // 2, self.n_bits_)
                again_idx, again_dist = _scan(q[:, short], codes, limit[short])
                for j, s in enumerate(short):
                    idx[s], dist[s] = again_idx[j], again_dist[j]
            rows_i, rows_d = [], []
            for r in range(stop - start):
                i, d = idx[r], dist[r]
                if itself:  # drop the query's own row (it is at distance 0)
                    keep = i != start + r
                    i, d = i[keep], d[keep]
                i, d = _smallest(i, d, k)
                rows_i.append(i)
                rows_d.append(d)
            return rows_i, rows_d

        rows_i, rows_d = _parallel(run, n_queries, self._n_jobs())
        ind = np.array(rows_i, dtype=np.intp).reshape(n_queries, k)
        dist = np.array(rows_d, dtype=np.float64).reshape(n_queries, k)
        return dist, ind

    def _faiss_kneighbors(self, queries, k: int, itself: bool):
        dist, ind = self._index().search(self._bytes(queries), k + itself)
        if itself:
            # Drop each row's own index; when ties at distance 0 pushed it out, drop the last.
            own = ind == np.arange(queries.shape[0])[:, None]
            own[~own.any(axis=1), -1] = True
            dist = dist[~own].reshape(queries.shape[0], k)
            ind = ind[~own].reshape(queries.shape[0], k)
        return dist.astype(np.float64), ind.astype(np.intp)

    @reads_fitted
    def radius_neighbors(self, X=None, radius=None, return_distance=True, sort_results=False):
        """Every stored code within Hamming distance ``radius`` of each query.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_queries, n_features) or None
            Queries, hashed and binarised as the rows given to :meth:`fit`;
            ``None`` queries the stored codes themselves, each one excluded
            from its own neighbours.
        radius : int or None, default=None
            Largest Hamming distance included; ``None`` uses the ``radius``
            parameter.
        return_distance : bool, default=True
            Whether to return the distances too.
        sort_results : bool, default=False
            Sort each query's neighbours by distance (then index). Without
            it they come in index order on the numpy backend.

        Returns
        -------
        neigh_dist : ndarray of shape (n_queries,), dtype object
            One float64 array of distances per query; only when
            ``return_distance=True``.
        neigh_ind : ndarray of shape (n_queries,), dtype object
            One int64 array of stored-row indices per query.
        """
        check_is_fitted(self)
        r = self.radius if radius is None else radius
        if not isinstance(r, Integral) or isinstance(r, bool) or r < 0:
            raise ValueError(f"radius must be a non-negative integer, got {r!r}.")
        if sort_results and not return_distance:
            raise ValueError("return_distance must be True if sort_results is True.")
        itself = X is None
        queries = self.codes_ if itself else self._query_codes(X)
        n_queries = queries.shape[0]
        r = min(int(r), self.n_bits_)
        if self.backend_ == "faiss":
            lims, dist, ind = self._index().range_search(self._bytes(queries), r + 1)
            rows_i = [ind[lims[q] : lims[q + 1]] for q in range(n_queries)]
            rows_d = [dist[lims[q] : lims[q + 1]] for q in range(n_queries)]
        else:
            codes = np.ascontiguousarray(self.codes_.T)
            queries_t = np.ascontiguousarray(queries.T)

            def run(start, stop):
                limit = np.full(stop - start, r, dtype=np.int64)
                return _scan(queries_t[:, start:stop], codes, limit)

            rows_i, rows_d = _parallel(run, n_queries, self._n_jobs())
        neigh_ind = np.empty(n_queries, dtype=object)
        neigh_dist = np.empty(n_queries, dtype=object)
        for q in range(n_queries):
            i = np.asarray(rows_i[q], dtype=np.intp)
            d = np.asarray(rows_d[q], dtype=np.float64)
            if itself:
                keep = i != q
                i, d = i[keep], d[keep]
            if sort_results:
                order = np.lexsort((i, d))
                i, d = i[order], d[order]
            neigh_ind[q], neigh_dist[q] = i, d
        return (neigh_dist, neigh_ind) if return_distance else neigh_ind

    def __sklearn_is_fitted__(self) -> bool:
        # What check_is_fitted asks: one attribute that fit sets last, read without
        # iterating vars(self), which a refit in another thread may be changing.
        return hasattr(self, "backend_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if self.hasher is None:
            tags.input_tags.sparse = True  # CSR, binarised a block of rows at a time
            return tags
        try:
            # X goes to the hasher as it is, so the hasher's input tags are the index's.
            tags.input_tags = deepcopy(get_tags(self.hasher).input_tags)
        except (AttributeError, TypeError):  # no scikit-learn tags: assume it takes sparse
            tags.input_tags.sparse = True
        return tags
