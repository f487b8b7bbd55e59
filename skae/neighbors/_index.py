"""Exact nearest neighbours among binary codes: the :class:`HammingIndex` estimator."""

from __future__ import annotations

from copy import deepcopy
from numbers import Integral, Real

import numpy as np
from joblib import effective_n_jobs
from sklearn.base import BaseEstimator, clone
from sklearn.utils import get_tags
from sklearn.utils.validation import check_is_fitted, validate_data

from .._utils import HasMethods, Interval, StrOptions, fitted_once, fresh_fit, reads_fitted
from ._backends import BACKENDS, faiss_module
from ._bits import pack_rows
from ._kernels import WORD


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

    Read more in the :ref:`User Guide <hamming_index>`.

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

    codes_ : ndarray of shape (``n_samples_fit_``, ``ceil(n_bits_ / 64)``), dtype uint64
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

    feature_names_in_ : ndarray of shape (``n_features_in_``,)
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
    sorted.

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
        # The previous fit's search structure (a FAISS index) goes before the new one is built.
        self.__dict__.pop("_searcher", None)
        with fresh_fit(self):
            backend = self._resolve_backend()
            if self.hasher is None:
                hasher = None
                # Sets n_features_in_ and feature_names_in_.
                X = validate_data(self, X, reset=True, accept_sparse="csr", dtype="numeric")
                codes, n_bits = pack_rows(X, self.binarize, "X")
            else:
                hasher = clone(self.hasher).fit(X, y)
                codes, n_bits = pack_rows(
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
        if faiss_module() is not None:
            return "faiss"
        if self.backend == "faiss":
            raise ImportError(
                "backend='faiss' needs the faiss package: pip install faiss-cpu, or use "
                "backend='numpy' (or 'auto')."
            )
        return "numpy"

    def _search(self):
        """The backend's search over ``codes_``, built on first use and kept."""
        search = self.__dict__.get("_searcher")
        if search is None or search[0] is not self.codes_:
            search = (self.codes_, BACKENDS[self.backend_](self.codes_, self.n_bits_))
            self._searcher = search
        return search[1]

    def _check_restored(self) -> None:
        """Refuse stored codes that do not fit the index (see skae._state)."""
        words = -(-self.n_bits_ // WORD)
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
        # The search structure (a FAISS index is a SWIG object) is rebuilt from codes_ on use.
        return {k: v for k, v in super().__getstate__().items() if k != "_searcher"}

    # -- queries --------------------------------------------------------------------------
    def _query_codes(self, X) -> np.ndarray:
        if self.hasher_ is None:
            X = validate_data(self, X, reset=False, accept_sparse="csr", dtype="numeric")
            return pack_rows(X, self.binarize, "X")[0]
        codes, n_bits = pack_rows(
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
        dist, ind = self._search().kneighbors(queries, k, itself, self._n_jobs())
        return (dist, ind) if return_distance else ind

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
        rows_i, rows_d = self._search().within(queries, r, self._n_jobs())
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

    __sklearn_is_fitted__ = fitted_once("backend_")

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
