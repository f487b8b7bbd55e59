"""The numpy kernels of exact Hamming search: blocked XOR and popcount, thresholds, top-k.

Codes and queries are word-major (one row per 64-bit word) so that each
block of queries x stored codes stays in cache.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

WORD = 64
# Queries x stored codes per block: 16 x 16384 words = 2 MiB of XOR, about one L2 cache.
_QUERY_BLOCK = 16
_CODE_BLOCK = 16384


def distances(queries: np.ndarray, codes: np.ndarray, out=None, xor=None) -> np.ndarray:
    """Hamming distances of word-major queries (W, m) to word-major codes (W, n).

    ``out`` (uint8, or uint16 beyond 255 bits) and ``xor`` (uint64) are
    optional ``(m, n)`` buffers, reused across blocks to avoid allocations.
    """
    n_words, m = queries.shape
    n = codes.shape[1]
    if out is None:
        out = np.empty((m, n), dtype=np.uint8 if n_words * WORD < 256 else np.uint16)
    if xor is None:
        xor = np.empty((m, n), dtype=np.uint64)
    for w in range(n_words):
        np.bitwise_xor(queries[w][:, None], codes[w][None, :], out=xor)
        if w == 0:
            np.bitwise_count(xor, out=out, casting="unsafe")
        else:
            np.add(out, np.bitwise_count(xor), out=out, casting="unsafe")
    return out


def scan(queries: np.ndarray, codes: np.ndarray, thresholds: np.ndarray):
    """Every stored code within ``thresholds[i]`` of query ``i``, block by block.

    Returns, per query, the indices (ascending) and distances of those codes.
    Only the hits leave the cache-sized blocks, so the cost is one pass of
    XOR, popcount and comparison over queries x codes.
    """
    n_words, n_queries = queries.shape
    n_codes = codes.shape[1]
    dtype = np.uint8 if n_words * WORD < 256 else np.uint16
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
            d = distances(queries[:, q0:q1], codes[:, c0:c1], dist[:m, :n], xor[:m, :n])
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


def guess_thresholds(queries, codes, n_neighbors: int, n_bits: int) -> np.ndarray:
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
        dist = distances(queries[:, start : start + 256], sample)
        guesses.append(np.partition(dist, rank - 1, axis=1)[:, rank - 1])
    return np.minimum(np.concatenate(guesses).astype(np.int64), n_bits)


def smallest(idx: np.ndarray, dist: np.ndarray, k: int):
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


def in_threads(fn, n_queries: int, n_jobs: int):
    """Run ``fn(start, stop)`` over query ranges in threads; concatenate the lists."""
    if n_jobs == 1 or n_queries <= _QUERY_BLOCK:
        return fn(0, n_queries)
    step = -(-n_queries // n_jobs)
    step = -(-step // _QUERY_BLOCK) * _QUERY_BLOCK
    ranges = [(s, min(n_queries, s + step)) for s in range(0, n_queries, step)]
    with ThreadPoolExecutor(max_workers=len(ranges)) as pool:
        parts = list(pool.map(lambda r: fn(*r), ranges))
    return tuple(sum((p[i] for p in parts), []) for i in range(len(parts[0])))
