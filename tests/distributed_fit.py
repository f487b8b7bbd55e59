"""Fits run by tests/test_distributed.py under ``torchrun --nproc_per_node=2``.

Each process writes what it ended with to ``<out>/rank<r>.npz`` and
``<out>/rank<r>.json``: weights and curves per case, the progress it
printed, and the error a case raised.
"""

import contextlib
import io
import json
import sys
from contextlib import nullcontext
from pathlib import Path
from unittest import mock

import numpy as np
import torch.distributed as dist

sys.path.insert(0, str(Path(__file__).parent))
from distributed_cases import CASES, digits  # noqa: E402

from skae._distributed import SharedMemoryMean, join  # noqa: E402

# The seeded case again over each other way of averaging gradients: shared memory with
# a gloo barrier (how non-x86 machines wait), and gloo alone (other machines, CUDA).
TRANSPORTS = {
    "seeded_gloo_barrier": {"_SPIN": False},
    "seeded_over_gloo": {"fits": classmethod(lambda cls, group, n: False)},
}


def main(out: Path) -> None:
    X = digits()
    arrays, report = {}, {}
    cases = [(name, make, {}) for name, make in CASES.items()]
    cases += [(name, CASES["seeded"], patch) for name, patch in TRANSPORTS.items()]
    for name, make, patch in cases:
        estimator = make()
        stderr = io.StringIO()
        transport = mock.patch.multiple(SharedMemoryMean, **patch) if patch else nullcontext()
        with contextlib.redirect_stderr(stderr), transport:
            estimator.fit(X) if name != "partial_fit" else _passes(estimator, X)
        report[name] = {"n_iter": int(estimator.n_iter_), "stderr": stderr.getvalue()}
        for key, value in estimator.module_.state_dict().items():
            arrays[f"{name}/{key}"] = value.numpy()
        arrays[f"{name}/loss_curve"] = np.asarray(estimator.loss_curve_)
    report["shared_memory_used"] = SharedMemoryMean.fits(join("auto"), 10**6)
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
