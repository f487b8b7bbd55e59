"""The two search backends of :class:`~skae.neighbors.HammingIndex`: numpy and FAISS.

Each holds the packed codes of the index and answers exact k-nearest and
radius queries on packed queries. ``itself`` means the queries are the
stored codes, each excluded from its own neighbours.
"""

from __future__ import annotations

import numpy as np

from ._kernels import WORD, guess_thresholds, in_threads, scan, smallest


def faiss_module():
    """The ``faiss`` module, or ``None`` when it is not installed."""
    try:
        import faiss
    except ImportError:
        return None
    return faiss


class NumpySearch:
    """Exact search by blocks of XOR and popcount (see skae.neighbors._kernels).

    It keeps the codes word-major (one row per 64-bit word): a view of the
    index's codes for codes of up to 64 bits, a copy of them beyond.
    """

    def __init__(self, codes: np.ndarray, n_bits: int):
        self.codes = np.ascontiguousarray(codes.T)
        self.n_bits = n_bits

    def kneighbors(self, queries, k: int, itself: bool, n_jobs: int):
        queries_t = np.ascontiguousarray(queries.T)
        want = k + itself
        n_queries = queries.shape[0]

        def run(start, stop):
            q = queries_t[:, start:stop]
            limit = guess_thresholds(q, self.codes, want, self.n_bits)
            idx, dist = scan(q, self.codes, limit)
            while True:  # raise the guess where it kept too few codes, and scan again
                short = np.flatnonzero([i.size < want for i in idx])
                if not short.size:
                    break
                limit[short] = np.minimum(limit[short] + 1 + limit[short] // 2, self.n_bits)
                again_idx, again_dist = scan(q[:, short], self.codes, limit[short])
                for j, s in enumerate(short):
                    idx[s], dist[s] = again_idx[j], again_dist[j]
            rows_i, rows_d = [], []
            for r in range(stop - start):
                i, d = idx[r], dist[r]
                if itself:  # drop the query's own row (it is at distance 0)
                    keep = i != start + r
                    i, d = i[keep], d[keep]
                i, d = smallest(i, d, k)
                rows_i.append(i)
                rows_d.append(d)
            return rows_i, rows_d

        rows_i, rows_d = in_threads(run, n_queries, n_jobs)
        ind = np.array(rows_i, dtype=np.intp).reshape(n_queries, k)
        dist = np.array(rows_d, dtype=np.float64).reshape(n_queries, k)
        return dist, ind

    def within(self, queries, radius: int, n_jobs: int):
        """Per query, the indices (ascending) and distances of the codes within ``radius``."""
        queries_t = np.ascontiguousarray(queries.T)

        def run(start, stop):
            limit = np.full(stop - start, radius, dtype=np.int64)
            return scan(queries_t[:, start:stop], self.codes, limit)

        return in_threads(run, queries.shape[0], n_jobs)


class FaissSearch:
    """Exact search with ``faiss.IndexBinaryFlat``."""

    def __init__(self, codes: np.ndarray, n_bits: int):
        self.index = faiss_module().IndexBinaryFlat(WORD * codes.shape[1])
        self.index.add(_bytes(codes))

    def kneighbors(self, queries, k: int, itself: bool, n_jobs: int):
        dist, ind = self.index.search(_bytes(queries), k + itself)
        if itself:
            # Drop each row's own index; when ties at distance 0 pushed it out, drop the last.
            own = ind == np.arange(queries.shape[0])[:, None]
            own[~own.any(axis=1), -1] = True
            dist = dist[~own].reshape(queries.shape[0], k)
            ind = ind[~own].reshape(queries.shape[0], k)
        return dist.astype(np.float64), ind.astype(np.intp)

    def within(self, queries, radius: int, n_jobs: int):
        lims, dist, ind = self.index.range_search(_bytes(queries), radius + 1)
        n_queries = queries.shape[0]
        rows_i = [ind[lims[q] : lims[q + 1]] for q in range(n_queries)]
        rows_d = [dist[lims[q] : lims[q + 1]] for q in range(n_queries)]
        return rows_i, rows_d


def _bytes(words: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(words.astype("<u8", copy=False)).view(np.uint8)


BACKENDS = {"numpy": NumpySearch, "faiss": FaissSearch}
