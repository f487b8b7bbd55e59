"""GridSearchCV with n_jobs=2 (loky processes) against n_jobs=1, on this machine's cores.

Both runs search the same grid (8 candidates x 3 folds of ``AutoEncoder`` on
the bundled digits) side by side in this process. With ``n_jobs=1`` torch
uses all the cores for each fit; with ``n_jobs=2`` joblib gives each worker
process cores / 2 threads, which torch takes, so the workers do not
oversubscribe the machine. Printed: wall time of each search, the speedup,
the threads torch used in the fits of each, and whether both chose the same
parameters with the same scores.

    python benchmarks/bench_search.py
"""

from __future__ import annotations

import os
import time

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV
from skorch.callbacks import Callback

from skae import AutoEncoder


class RecordThreads(Callback):
    """Append the fitting process's torch thread count to ``path``."""

    def __init__(self, path):
        self.path = path

    def on_train_begin(self, net, **kwargs):
        with open(self.path, "a") as f:
            f.write(f"{os.getpid()} {torch.get_num_threads()}\n")


def search(X, n_jobs: int, record: str):
    estimator = AutoEncoder(
        hidden_layer_sizes=(128, 64),
        max_epochs=30,
        n_iter_no_change=None,
        random_state=0,
        callbacks=[RecordThreads(record)],
    )
    grid = {"n_components": [2, 4, 8, 16], "lr": [1e-3, 3e-3]}
    start = time.perf_counter()
    result = GridSearchCV(estimator, grid, cv=3, n_jobs=n_jobs, refit=False).fit(X)
    return time.perf_counter() - start, result.cv_results_


def threads(record: str) -> str:
    with open(record) as f:
        counts = sorted({line.split()[1] for line in f})
    os.remove(record)
    return "/".join(counts)


def main() -> None:
    X = load_digits().data / 16.0
    record = f"/tmp/skae-bench-search-{os.getpid()}.txt"
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs; 8 candidates x 3 folds on digits")
    one_s, one = search(X, 1, record)
    one_threads = threads(record)
    two_s, two = search(X, 2, record)
    two_threads = threads(record)
    same = np.allclose(one["mean_test_score"], two["mean_test_score"], rtol=1e-6)
    print(f"n_jobs=1: {one_s:6.1f} s  (torch threads per fit: {one_threads})")
    print(f"n_jobs=2: {two_s:6.1f} s  (torch threads per fit: {two_threads})")
    print(f"speedup {one_s / two_s:.2f}x; same scores: {same}")


if __name__ == "__main__":
    main()
