"""Fits run by tests/test_distributed.py under ``torchrun --nproc_per_node=2``.

Each process writes what it ended with to ``<out>/rank<r>.npz`` and
``<out>/rank<r>.json``: weights and curves per case, the progress it
printed, and the error a case raised.
"""

import contextlib
import io
import json
import sys
from pathlib import Path

import numpy as np
import torch.distributed as dist

sys.path.insert(0, str(Path(__file__).parent))
from distributed_cases import CASES, digits  # noqa: E402


def main(out: Path) -> None:
    X = digits()
    arrays, report = {}, {}
    for name, make in CASES.items():
        estimator = make()
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr):
            estimator.fit(X) if name != "partial_fit" else _passes(estimator, X)
        report[name] = {"n_iter": int(estimator.n_iter_), "stderr": stderr.getvalue()}
        for key, value in estimator.module_.state_dict().items():
            arrays[f"{name}/{key}"] = value.numpy()
        arrays[f"{name}/loss_curve"] = np.asarray(estimator.loss_curve_)
    rank = dist.get_rank()
    # Rows that differ between the processes are refused, by every process.
    try:
        CASES["seeded"]().fit(X[rank:])
    except ValueError as exc:
        report["different_rows"] = str(exc)
    np.savez(out / f"rank{rank}.npz", **arrays)
    (out / f"rank{rank}.json").write_text(json.dumps(report))


def _passes(estimator, X):
    for start in range(0, len(X), 600):
        estimator.partial_fit(X[start : start + 600])


if __name__ == "__main__":
    main(Path(sys.argv[1]))
