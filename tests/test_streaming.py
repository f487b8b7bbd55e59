"""Fitting on rows read from disk a block at a time: memory maps, HDF5, zarr, dask."""

import numpy as np
import pytest

from skae import AutoEncoder
from skae._streaming import BlockData, row_blocks

TINY = dict(n_components=4, hidden_layer_sizes=(16,), max_epochs=3, random_state=0)


@pytest.fixture(autouse=True)
def stream_small_arrays(monkeypatch):
    """Stream these small arrays as skae streams those of more than 256 MiB."""
    monkeypatch.setattr("skae._streaming.STREAM_BYTES", 0)


class RecordedReads:
    """A 2-D array-like that records every row range read from it (an on-disk array's protocol)."""

    def __init__(self, array):
        self.array, self.reads = array, []
        self.shape, self.dtype = array.shape, array.dtype

    def __getitem__(self, index):
        rows = index[0] if isinstance(index, tuple) else index
        self.reads.append((rows.start or 0, min(rows.stop, self.shape[0])))
        return self.array[index]

    def __len__(self):
        return self.shape[0]

    def __array__(self, dtype=None, copy=None):  # what np.asarray reads, as h5py's datasets do
        self.reads.append((0, self.shape[0]))
        return np.asarray(self.array, dtype=dtype)


@pytest.fixture
def rows(digits):
    return np.ascontiguousarray(np.tile(digits[0], (3, 1)), dtype=np.float32)  # 5391 x 64


def test_rows_are_read_in_blocks_each_once_per_epoch(rows):
    X = RecordedReads(rows)
    ae = AutoEncoder(**TINY).fit(X)
    blocks = row_blocks(*rows.shape)
    assert len(blocks) == 64 and all(b - a <= 85 for a, b in blocks)
    # Validation of the first rows, then 3 epochs of every block once, in shuffled orders.
    assert X.reads[0] == (0, 1024)
    epochs = [X.reads[1 + i * 64 : 1 + (i + 1) * 64] for i in range(3)]
    assert len(X.reads) == 1 + 3 * 64
    for epoch in epochs:
        assert sorted(epoch) == blocks
    assert epochs[0] != epochs[1] != blocks
    assert ae.n_iter_ == 3 and np.isfinite(ae.loss_curve_).all()


def test_memory_mapped_fit_streams_and_learns_like_in_memory(rows, tmp_path):
    np.save(tmp_path / "X.npy", rows)
    mapped = np.load(tmp_path / "X.npy", mmap_mode="r")
    on_disk = AutoEncoder(**{**TINY, "max_epochs": 20}).fit(mapped)
    in_memory = AutoEncoder(**{**TINY, "max_epochs": 20}).fit(rows)
    # Measured over random_state 0-2 after 20 epochs: 0.0354-0.0363 (blocks), 0.0347-0.0369
    # (in memory); the largest ratio was 1.045.
    assert on_disk.loss_curve_[-1] < 1.1 * in_memory.loss_curve_[-1]
    np.testing.assert_array_equal(on_disk.transform(mapped), on_disk.transform(rows))


@pytest.mark.parametrize("store", ["h5py", "zarr", "dask"])
def test_hdf5_zarr_and_dask_arrays_fit_and_transform_without_loading(store, rows, tmp_path):
    if store == "h5py":
        h5py = pytest.importorskip("h5py")
        handle = h5py.File(tmp_path / "X.h5", "w")
        X = handle.create_dataset("X", data=rows, chunks=(256, 64))
    elif store == "zarr":
        zarr = pytest.importorskip("zarr")
        X = zarr.open_array(
            tmp_path / "X.zarr", mode="w", shape=rows.shape, chunks=(256, 64), dtype="f4"
        )
        X[:] = rows
    else:
        X = pytest.importorskip("dask.array").from_array(rows, chunks=(500, 64))
    ae = AutoEncoder(validation_fraction=0.1, **TINY).fit(X)
    assert ae.n_features_in_ == 64 and len(ae.validation_loss_curve_) == 3
    np.testing.assert_array_equal(ae.transform(X), ae.transform(rows))
    assert ae.transform(X).dtype == np.float32
    ae.partial_fit(X)
    assert ae.n_iter_ == 4


def test_a_bad_value_in_a_later_block_is_refused_and_loses_nothing(rows):
    bad = rows.copy()
    bad[5000, 3] = np.nan
    ae = AutoEncoder(**TINY).fit(rows)
    before = ae.net_
    with pytest.raises(ValueError, match="Input X contains NaN"):
        ae.fit(RecordedReads(bad))
    assert ae.net_ is before and ae.n_iter_ == 3
    with pytest.raises(ValueError, match="Input X contains NaN"):
        ae.transform(RecordedReads(bad))


def test_validation_blocks_are_a_fixed_random_set_apart_from_training(rows):
    from skae._streaming import split_blocks

    blocks = row_blocks(*rows.shape)
    seeds = np.random.SeedSequence(0)
    train, valid = split_blocks(blocks, 0.1, seeds)
    assert len(valid) == 6 and not set(train) & set(valid)
    assert sorted(train + valid) == blocks
    assert split_blocks(blocks, 0.1, np.random.SeedSequence(0)) == (train, valid)
    data = BlockData(rows, None, valid)
    assert len(data) == sum(b - a for a, b in valid)


def test_small_maps_load_at_once(rows, tmp_path, monkeypatch):
    from skae._streaming import is_out_of_core

    np.save(tmp_path / "X.npy", rows)
    mapped = np.load(tmp_path / "X.npy", mmap_mode="r")
    assert is_out_of_core(mapped)
    monkeypatch.setattr("skae._streaming.STREAM_BYTES", 2**28)
    assert not is_out_of_core(mapped) and not is_out_of_core(rows)
    X = RecordedReads(rows)
    AutoEncoder(**TINY).fit(X)
    assert X.reads == [(0, len(rows))]  # loaded whole: one read


@pytest.fixture(scope="module")
def fitted(digits):
    """Each kind of estimator, fitted on digits in memory."""
    from skae import AutoEncoderClassifier, AutoEncoderOutlierDetector, AutoEncoderRegressor

    X, y = digits
    ae = AutoEncoder(**TINY).fit(X)
    small = AutoEncoder(**TINY)
    return {
        "autoencoder": ae,
        "detector": AutoEncoderOutlierDetector(small, random_state=0).fit(X),
        "classifier": AutoEncoderClassifier(small, max_epochs=3, random_state=0).fit(X, y),
        "regressor": AutoEncoderRegressor(small, max_epochs=3, random_state=0).fit(X, y * 0.1),
    }


INFERENCE = [
    ("autoencoder", "transform"),
    ("autoencoder", "score_samples"),
    ("detector", "score_samples"),
    ("detector", "decision_function"),
    ("detector", "predict"),
    ("classifier", "predict"),
    ("classifier", "predict_proba"),
    ("regressor", "predict"),
]


@pytest.mark.parametrize("kind, method", INFERENCE)
def test_inference_on_a_dask_array_is_lazy_and_runs_per_block(fitted, rows, kind, method):
    da = pytest.importorskip("dask.array")
    run = getattr(fitted[kind], method)
    X = da.from_array(rows, chunks=(1000, 32))  # split across columns too: whole rows are used
    out = run(X)
    assert isinstance(out, da.Array)
    assert out.numblocks[0] == 6 and out.chunks[0] == X.chunks[0]
    expected = run(rows)
    assert out.shape == expected.shape and out.dtype == expected.dtype
    assert_same_rows(out.compute(), expected)


def test_a_dask_array_of_the_wrong_width_is_refused_at_the_call(fitted):
    da = pytest.importorskip("dask.array")
    with pytest.raises(ValueError, match="X has 3 features, but AutoEncoder is expecting 64"):
        fitted["autoencoder"].transform(da.zeros((10, 3), chunks=5))


@pytest.mark.parametrize("kind, method", INFERENCE)
def test_inference_on_disk_reads_a_block_at_a_time(fitted, rows, kind, method):
    X = RecordedReads(rows)
    out = getattr(fitted[kind], method)(X)
    assert X.reads == row_blocks(*rows.shape)  # each block once, in order: never all at once
    assert_same_rows(out, getattr(fitted[kind], method)(rows))


def assert_same_rows(actual, expected):
    """The same rows' results: labels exactly, numbers to float32 rounding.

    These rows are float32, computed in float32, where a row's last bits may
    differ with the rows computed beside it (the block of rows read, here 85).
    """
    if np.issubdtype(actual.dtype, np.floating):
        np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)
    else:
        np.testing.assert_array_equal(actual, expected)


def test_a_bad_row_on_disk_is_named_at_inference(fitted, rows):
    bad = rows.copy()
    bad[5000, 3] = np.inf
    with pytest.raises(ValueError, match=r"In rows 4930 to 5014 of X: .*infinity"):
        fitted["detector"].predict(RecordedReads(bad))
