"""Fitting from disk: a memory-mapped 10,000,000 x 100 float32 array, against 1,000,000 rows in RAM.

    python benchmarks/bench_streaming.py [--rows 10000000] [--memory-rows 1000000] [--dir /tmp]

Each fit runs in a fresh process, which samples its anonymous memory
(``RssAnon`` in ``/proc/self/status``: the page cache of the mapped file does
not count) every 20 ms; the baseline is taken after torch, scikit-learn and
skorch are imported. Prints, for each fit, the peak above that baseline, the
peak in all, and the time per row of one epoch.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap

import numpy as np

CHILD = textwrap.dedent(
    """
    import json, sys, threading, time
    import numpy as np, torch, sklearn, skorch, torch._dynamo
    import skae, skae._training, skae._engine
    from skae import AutoEncoder

    def anon():
        for line in open("/proc/self/status"):
            if line.startswith("RssAnon"):
                return int(line.split()[1]) / 1024

    path, mode, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
    X = np.load(path, mmap_mode="r")
    if mode == "memory":
        X = np.array(X[:rows])
    base, peak, stop = anon(), [0.0], [False]

    def sample():
        while not stop[0]:
            peak[0] = max(peak[0], anon())
            time.sleep(0.02)

    thread = threading.Thread(target=sample)
    thread.start()
    start = time.perf_counter()
    ae = AutoEncoder(n_components=8, hidden_layer_sizes=(64,), max_epochs=1, batch_size=256,
                     n_iter_no_change=None, random_state=0).fit(X)
    seconds = time.perf_counter() - start
    stop[0] = True
    thread.join()
    print(json.dumps({"mode": mode, "rows": X.shape[0], "seconds": seconds, "base_mib": base,
                      "peak_mib": peak[0], "loss": ae.loss_curve_[-1],
                      "threads": torch.get_num_threads()}))
    """
)


def make_array(path: str, n_rows: int) -> None:
    if os.path.exists(path) and np.load(path, mmap_mode="r").shape == (n_rows, 100):
        return
    rng = np.random.default_rng(0)
    basis = rng.standard_normal((10, 100)).astype(np.float32)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n_rows, 100))
    for start in range(0, n_rows, 500_000):
        stop = min(n_rows, start + 500_000)
        codes = rng.standard_normal((stop - start, 10), dtype=np.float32)
        out[start:stop] = codes @ basis + 0.1 * rng.standard_normal(
            (stop - start, 100), dtype=np.float32
        )
    out.flush()
    del out


def run(path: str, mode: str, rows: int) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, path, mode, str(rows)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--memory-rows", type=int, default=1_000_000)
    parser.add_argument("--dir", default="/tmp")
    args = parser.parse_args()
    path = os.path.join(args.dir, f"skae_stream_{args.rows}.npy")
    make_array(path, args.rows)
    print(f"{path}: {os.path.getsize(path) / 2**30:.2f} GiB")
    results = [run(path, "memory", args.memory_rows), run(path, "memmap", args.rows)]
    for r in results:
        per_row = r["seconds"] / r["rows"] * 1e6
        print(
            f"{r['mode']:7s} {r['rows']:>11,} rows: one epoch {r['seconds']:6.1f} s "
            f"({per_row:.2f} us/row), anonymous memory +{r['peak_mib'] - r['base_mib']:.0f} MiB "
            f"over {r['base_mib']:.0f} MiB after imports (peak {r['peak_mib']:.0f} MiB), "
            f"loss {r['loss']:.4f}, torch threads {r['threads']}"
        )
    memory, mapped = results
    ratio = (mapped["seconds"] / mapped["rows"]) / (memory["seconds"] / memory["rows"])
    print(f"time per row, memmap / in memory: {ratio:.2f}")


if __name__ == "__main__":
    main()
