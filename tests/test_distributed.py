"""Data-parallel training: real ``torchrun`` processes over gloo on 127.0.0.1.

One launch of two processes runs every case of ``distributed_cases.py``
(tests/distributed_fit.py); the tests read what each process ended with.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.distributed as dist
from distributed_cases import CASES, digits

from skae import AutoEncoder

pytestmark = pytest.mark.skipif(
    not (dist.is_available() and dist.is_gloo_available()),
    reason="this build of torch has no torch.distributed with gloo",
)

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    """What each of the two processes of one ``torchrun`` launch ended with."""
    out = tmp_path_factory.mktemp("torchrun")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(HERE.parent)}
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        str(HERE / "distributed_fit.py"),
        str(out),
    ]
    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-4000:]
    return [
        (dict(np.load(out / f"rank{r}.npz")), json.loads((out / f"rank{r}.json").read_text()))
        for r in range(2)
    ]


def test_every_rank_ends_with_the_same_weights(ranks):
    (weights0, report0), (weights1, report1) = ranks
    assert sorted(weights0) == sorted(weights1)
    cases = {*CASES, "seeded_gloo_barrier", "seeded_over_gloo"}
    assert {name.split("/")[0] for name in weights0} == cases
    for name in weights0:  # every case: weights, running buffers and loss curves
        np.testing.assert_array_equal(weights0[name], weights1[name], err_msg=name)
    for case in cases:
        assert report0[case]["n_iter"] == report1[case]["n_iter"], case


@pytest.mark.parametrize("case", ["seeded", "seeded_gloo_barrier", "seeded_over_gloo"])
def test_matches_one_process_with_the_same_global_batch(ranks, case):
    (weights, report), _ = ranks
    # On one machine's CPU, gradients go through shared memory; the other cases use the
    # ways other machines take.
    assert report["shared_memory_used"]
    one = CASES["seeded"]().fit(digits())
    # Early stopping stopped both runs at the same epoch, well before max_epochs.
    assert report[case]["n_iter"] == one.n_iter_ < one.max_epochs
    np.testing.assert_allclose(weights[f"{case}/loss_curve"], one.loss_curve_, rtol=1e-5)
    # Splitting each batch of 61 rows 30 + 31 without weighting by rows moves weights by
    # about 4e-3 here; the weighted step is the one-process step up to float rounding.
    for key, value in one.module_.state_dict().items():
        np.testing.assert_allclose(weights[f"{case}/{key}"], value.numpy(), atol=1e-5, rtol=0)


def test_rank_zero_alone_shows_progress(ranks):
    (_, report0), (_, report1) = ranks
    assert "AutoEncoder" in report0["unseeded"]["stderr"]
    assert "3/3" in report0["unseeded"]["stderr"]
    assert report1["unseeded"]["stderr"] == ""


def test_different_rows_are_refused_by_every_rank(ranks):
    for _, report in ranks:
        message = report["different_rows"]
        assert "passed different rows to fit" in message
        assert "rank 0: 1438 training rows" in message
        assert "rank 1: 1437 training rows" in message
        assert "distributed=False" in message


def test_distributed_true_needs_a_launch():
    X = digits()[:50]
    with pytest.raises(ValueError, match="torchrun --nproc_per_node"):
        AutoEncoder(max_epochs=1, distributed=True).fit(X)
    # Without a launch, "auto" trains in this process as before.
    assert AutoEncoder(max_epochs=1, distributed="auto").fit(X).n_iter_ == 1
    with pytest.raises(ValueError, match="torchrun --nproc_per_node"):
        AutoEncoder(max_epochs=1, distributed=np.True_).fit(X)  # numpy's booleans as well
    assert AutoEncoder(max_epochs=1, distributed=np.False_).fit(X).n_iter_ == 1


def test_each_process_corrupts_its_share_with_noise_of_its_own():
    from skae import DenoisingAutoEncoder
    from skae._distributed import Group
    from skae._training import new_module

    def noise_seed(group):
        build = DenoisingAutoEncoder(n_components=2, hidden_layer_sizes=(4,))._build_module
        seeds = np.random.SeedSequence(0)
        module = new_module(build, 6, torch.device("cpu"), seeds, 10**6, owner="", group=group)
        (noise,) = [m for m in module.modules() if hasattr(m, "set_generator")]
        return noise.generator.initial_seed()

    alone, rank0, rank1 = noise_seed(None), noise_seed(Group(0, 2)), noise_seed(Group(1, 2))
    assert alone == rank0 != rank1
