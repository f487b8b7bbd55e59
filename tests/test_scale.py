"""Training and searching beyond one process: dask-ml's Incremental, joblib on a dask cluster."""

import os

import joblib
import numpy as np
import pytest
import torch
from sklearn.model_selection import GridSearchCV
from skorch.callbacks import Callback

from skae import AutoEncoder

da = pytest.importorskip("dask.array")
TINY = dict(n_components=4, hidden_layer_sizes=(16,), random_state=0)


def test_incremental_trains_one_pass_per_block_and_transforms_lazily(digits):
    from dask_ml.wrappers import Incremental

    X = digits[0]
    blocks = da.from_array(X, chunks=(300, 64))
    incremental = Incremental(AutoEncoder(**TINY), shuffle_blocks=False).fit(blocks)
    ae = incremental.estimator_
    assert ae.n_iter_ == blocks.numblocks[0] == 6
    # The same passes by hand give the same model.
    by_hand = AutoEncoder(**TINY)
    for start in range(0, len(X), 300):
        by_hand.partial_fit(X[start : start + 300])
    np.testing.assert_array_equal(ae.loss_curve_, by_hand.loss_curve_)
    codes = incremental.transform(blocks)
    assert isinstance(codes, da.Array)  # inference runs where the blocks are
    np.testing.assert_array_equal(codes.compute(), by_hand.transform(X))


@pytest.fixture(scope="module")
def serial_search(digits):
    """A small search, its rows, and its results with n_jobs=1."""
    X = digits[0][:400]
    search = GridSearchCV(
        AutoEncoder(hidden_layer_sizes=(16,), max_epochs=5, random_state=0),
        {"n_components": [2, 8], "lr": [1e-3, 1e-2]},
        cv=2,
    )
    return search, X, search.fit(X).cv_results_


def assert_same_results(results, serial):
    for key in ("mean_test_score", "split0_test_score", "split1_test_score", "rank_test_score"):
        np.testing.assert_allclose(results[key], serial[key], rtol=1e-6)
    assert results["params"] == serial["params"]


def test_grid_search_on_a_local_dask_cluster_matches_one_process(serial_search):
    distributed = pytest.importorskip("distributed")
    from joblib import parallel_config

    search, X, serial = serial_search
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
        parallel_config(backend="dask"),
        distributed.get_task_stream(client) as tasks,
    ):
        on_cluster = search.set_params(n_jobs=2).fit(X).cv_results_
    workers = {task["worker"] for task in tasks.data}
    assert len(tasks.data) >= 8 and len(workers) == 2  # 4 candidates x 2 folds, on both
    assert_same_results(on_cluster, serial)


class RecordThreads(Callback):
    """Append ``<pid> <torch threads>`` to ``path`` when training starts."""

    def __init__(self, path):
        self.path = path

    def on_train_begin(self, net, **kwargs):
        with open(self.path, "a") as f:
            f.write(f"{os.getpid()} {torch.get_num_threads()}\n")


def test_loky_workers_share_the_cores_between_them(digits, tmp_path):
    X = digits[0][:300]
    record = tmp_path / "threads.txt"
    # A network above skae._threads.ONE_THREAD_FLOPS per batch, which keeps torch's setting.
    estimator = AutoEncoder(
        hidden_layer_sizes=(2048,), batch_size=256, max_epochs=2, callbacks=[RecordThreads(record)]
    )
    search = GridSearchCV(estimator, {"n_components": [2, 4]}, cv=2, n_jobs=2).fit(X)
    assert len(search.cv_results_["params"]) == 2
    fits = [line.split() for line in record.read_text().splitlines()]
    assert len(fits) == 2 * 2 + 1  # 2 candidates x 2 folds in the workers, the refit here
    workers = {pid for pid, _ in fits[:-1]}
    assert str(os.getpid()) not in workers
    # joblib gives each of the n_jobs worker processes cores / n_jobs threads, and torch,
    # started in the worker, takes that: no oversubscription.
    assert {int(threads) for _, threads in fits[:-1]} == {max(1, joblib.cpu_count() // 2)}
    assert int(fits[-1][1]) == torch.get_num_threads()  # the caller's own setting, untouched


def test_grid_search_under_ray_matches_one_process(serial_search):
    ray = pytest.importorskip("ray")
    from joblib import parallel_config
    from ray.util.joblib import register_ray

    search, X, serial = serial_search
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, _node_ip_address="127.0.0.1")
    try:
        register_ray()
        with parallel_config(backend="ray"):
            on_ray = search.set_params(n_jobs=2).fit(X).cv_results_
        nodes = ray.nodes()
    finally:
        ray.shutdown()
    assert len(nodes) == 1 and nodes[0]["Alive"]  # a local ray instance of this test's own
    assert_same_results(on_ray, serial)
