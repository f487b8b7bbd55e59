"""HammingIndex query speed: 1,000 queries over 1,000,000 random 64-bit codes.

    OMP_NUM_THREADS=1 python benchmarks/bench_hamming_index.py [--n-jobs 2] [--repeat 3]

Stores 1,000,000 uniformly random 64-bit codes, then times ``kneighbors``
of 1,000 other random codes with ``n_neighbors=100`` (best of ``--repeat``
runs), and ``radius_neighbors`` at radius 16. Three ways: HammingIndex's
numpy backend, HammingIndex's FAISS backend, and ``faiss.IndexBinaryFlat``
called directly (the anchor). It also checks that all of them return the
same distances. FAISS's threads follow ``OMP_NUM_THREADS``; the numpy
backend uses ``--n-jobs`` threads.
"""

import argparse
import time

import numpy as np

from skae import HammingIndex, unpack_bits


def best_time(fn, repeat):
    """Best wall-clock and process CPU seconds over ``repeat`` runs, and the result.

    CPU seconds (summed over this process's threads) are less disturbed than
    wall-clock seconds when other processes share the cores.
    """
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return (min(walls), min(cpus)), result


def fmt(seconds):
    return f"{seconds[0]:7.3f} s wall, {seconds[1]:7.3f} s CPU"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-codes", type=int, default=1_000_000)
    parser.add_argument("--n-queries", type=int, default=1_000)
    parser.add_argument("--n-neighbors", type=int, default=100)
    parser.add_argument("--radius", type=int, default=16)
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    words = rng.integers(0, 2**64, size=(args.n_codes + args.n_queries, 1), dtype=np.uint64)
    bits = unpack_bits(words, 64)
    codes, queries = bits[: args.n_codes], bits[args.n_codes :]
    k = args.n_neighbors
    print(f"{args.n_queries} queries x {args.n_codes} stored 64-bit codes, k={k}")

    results = {}
    for backend in ("numpy", "faiss"):
        try:
            index = HammingIndex(backend=backend, n_jobs=args.n_jobs).fit(codes)
        except ImportError as exc:
            print(f"HammingIndex(backend={backend!r}): skipped ({exc})")
            continue
        seconds, (dist, _) = best_time(
            lambda index=index: index.kneighbors(queries, k), args.repeat
        )
        results[backend] = dist
        print(f"HammingIndex(backend={backend!r:8}) kneighbors        {fmt(seconds)}")
        seconds, found = best_time(
            lambda index=index: index.radius_neighbors(queries, args.radius, return_distance=False),
            args.repeat,
        )
        total = sum(len(f) for f in found)
        print(
            f"HammingIndex(backend={backend!r:8}) radius_neighbors  {fmt(seconds)}"
            f"  (radius {args.radius}: {total} hits)"
        )
    try:
        import faiss
    except ImportError:
        faiss = None
    if faiss is not None:
        raw = faiss.IndexBinaryFlat(64)
        raw.add(np.ascontiguousarray(words[: args.n_codes]).view(np.uint8))
        q = np.ascontiguousarray(words[args.n_codes :]).view(np.uint8)
        seconds, (dist, _) = best_time(lambda: raw.search(q, k), args.repeat)
        results["faiss.IndexBinaryFlat"] = dist.astype(np.float64)
        print(
            f"faiss.IndexBinaryFlat.search (anchor)        {fmt(seconds)}"
            f"  (faiss {faiss.__version__}, {faiss.omp_get_max_threads()} OpenMP threads)"
        )
    reference = next(iter(results.values()))
    same = all(np.array_equal(reference, d) for d in results.values())
    print(f"identical distances across {len(results)} methods: {same}")


if __name__ == "__main__":
    main()
