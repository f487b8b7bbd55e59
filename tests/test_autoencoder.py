"""Behaviour of the core AutoEncoder: quality, reproducibility, errors, inputs."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import Callback

from skae import AutoEncoder, TrainingDivergedError

SMALL = dict(max_epochs=3, hidden_layer_sizes=(16,), random_state=0)


def mse(a, b):
    return float(np.mean((a - b) ** 2))


# -- quality ---------------------------------------------------------------------------
def test_linear_autoencoder_matches_pca(digits):
    """Baldi & Hornik (1989): a linear AE's optimum spans PCA's subspace."""
    X, _ = digits
    pca = PCA(n_components=8).fit(X)
    pca_mse = mse(pca.inverse_transform(pca.transform(X)), X)
    ae = AutoEncoder(
        n_components=8,
        hidden_layer_sizes=(),
        activation="identity",
        lr=1e-2,
        batch_size=len(X),
        max_epochs=2000,
        n_iter_no_change=None,
        validation_fraction=0,
        random_state=0,
    ).fit(X)
    ae_mse = mse(ae.inverse_transform(ae.transform(X)), X)
    assert ae_mse <= 1.01 * pca_mse, (ae_mse, pca_mse)


def test_defaults_beat_pca_on_held_out_digits(digits):
    X, _ = digits
    X_train, X_test = train_test_split(X, test_size=0.25, random_state=0)
    pca = PCA(n_components=8).fit(X_train)
    pca_mse = mse(pca.inverse_transform(pca.transform(X_test)), X_test)
    ae = AutoEncoder(n_components=8, random_state=0).fit(X_train)
    ae_mse = mse(ae.inverse_transform(ae.transform(X_test)), X_test)
    assert ae_mse <= 0.6 * pca_mse, (ae_mse, pca_mse)
    # score is minus the mean reconstruction error
    assert ae.score(X_test) == pytest.approx(-ae_mse, rel=1e-4)


def test_training_reduces_loss_and_early_stopping_restores_best(digits):
    X, _ = digits
    ae = AutoEncoder(
        n_components=4,
        max_epochs=300,
        n_iter_no_change=3,
        validation_fraction=0.1,
        lr_schedule="constant",
        random_state=0,
    ).fit(X)
    assert ae.loss_curve_[-1] < 0.5 * ae.loss_curve_[0]
    assert ae.n_iter_ == len(ae.loss_curve_) == len(ae.validation_loss_curve_) < 300
    assert ae.best_loss_ == min(ae.validation_loss_curve_)
    assert ae.history_[-1, "epoch"] == ae.n_iter_


def test_no_validation_monitors_training_loss(digits):
    X, _ = digits
    ae = AutoEncoder(validation_fraction=0, **SMALL).fit(X)
    assert ae.validation_loss_curve_ is None
    assert ae.best_loss_ == min(ae.loss_curve_)
    assert AutoEncoder(**SMALL).fit(X).validation_loss_curve_ is None  # the default


def test_plateau_schedule_lowers_the_learning_rate_twice_then_stops(digits):
    X = digits[0][:300]
    params = dict(
        n_components=4,
        activation="identity",
        hidden_layer_sizes=(),
        batch_size=30,
        lr=1e-2,
        max_epochs=3000,
        n_iter_no_change=5,
        random_state=0,
    )
    plateau = AutoEncoder(**params).fit(X)
    constant = AutoEncoder(lr_schedule="constant", **params).fit(X)
    lrs = [row["lr"] for row in plateau.history_]
    assert lrs == sorted(lrs, reverse=True)
    np.testing.assert_allclose(sorted(set(lrs), reverse=True), [1e-2, 1e-3, 1e-4])
    assert plateau.n_iter_ < 3000
    assert {row["lr"] for row in constant.history_} == {1e-2}
    assert constant.n_iter_ < plateau.n_iter_
    # The smaller steps get past the noise of a large learning rate, to PCA's optimum.
    pca = PCA(4).fit(X)
    pca_mse = mse(pca.inverse_transform(pca.transform(X)), X)
    # Over random_state 0-5: plateau 1.003-1.009 x PCA's error, constant 1.010-1.024 x.
    assert plateau.best_loss_ < 1.015 * pca_mse
    assert plateau.best_loss_ < constant.best_loss_


def test_encoder_is_a_feature_extractor(digits):
    X, _ = digits
    ae = AutoEncoder(n_components=5, **SMALL).fit(X)
    with torch.no_grad():
        codes = ae.encoder_(torch.as_tensor(X, dtype=torch.float32)).numpy()
    np.testing.assert_allclose(codes, ae.transform(X), rtol=1e-5, atol=1e-6)
    assert ae.decoder_(torch.zeros(1, 5)).shape == (1, 64)


def test_bce_loss_on_unit_interval(digits):
    X, _ = digits
    ae = AutoEncoder(loss="bce", **SMALL).fit(X)
    recon = ae.inverse_transform(ae.transform(X))
    assert recon.min() >= 0 and recon.max() <= 1
    with pytest.raises(ValueError, match=r"\[0, 1\].*MinMaxScaler"):
        AutoEncoder(loss="bce", **SMALL).fit(X * 16)
    with pytest.raises(ValueError, match="output_activation='sigmoid'"):
        AutoEncoder(loss="bce", output_activation="identity", **SMALL).fit(X)


# -- reproducibility and side effects -------------------------------------------------
def test_same_random_state_gives_identical_codes(digits):
    X, _ = digits
    a = AutoEncoder(**SMALL).fit(X).transform(X)
    b = AutoEncoder(**SMALL).fit(X).transform(X)
    np.testing.assert_array_equal(a, b)
    c = AutoEncoder(**{**SMALL, "random_state": 1}).fit(X).transform(X)
    assert not np.allclose(a, c)


@pytest.mark.parametrize("random_state", [0, None, np.random.RandomState(3)])
def test_fit_leaves_global_state_alone(digits, random_state):
    X, _ = digits
    np_state = np.random.get_state()
    torch_state = torch.random.get_rng_state()
    threads = torch.get_num_threads()
    dtype = torch.get_default_dtype()
    AutoEncoder(**{**SMALL, "random_state": random_state}).fit(X).transform(X)
    after = np.random.get_state()
    assert all(np.array_equal(x, y) for x, y in zip(np_state, after))
    assert torch.equal(torch_state, torch.random.get_rng_state())
    assert torch.get_num_threads() == threads
    assert torch.get_default_dtype() == dtype


def test_callbacks_parameter_is_not_mutated_and_gets_batches(digits):
    X, _ = digits

    class CountBatches(Callback):
        def __init__(self):
            self.n = 0

        def on_batch_end(self, net, **kwargs):
            self.n += 1

    counter = CountBatches()
    ae = AutoEncoder(callbacks=[counter], batch_size=100, validation_fraction=0, **SMALL).fit(X)
    assert counter.n == 0  # the parameter itself stays as given
    fitted = dict(ae.net_.callbacks_)["CountBatches"]
    assert fitted.n == 3 * int(np.ceil(len(X) / 100))


def test_every_training_pass_starts_with_the_whole_module_in_training_mode(digits):
    # A callback may switch a part of the module; each pass sets the mode of every part again
    # (the engine skips only repeats within a pass), also without validation rows.
    X, _ = digits

    class FreezeEncoder(Callback):
        def __init__(self):
            self.modes = []

        def on_epoch_begin(self, net, **kwargs):
            net.module_.encoder.eval()

        def on_batch_begin(self, net, training=False, **kwargs):
            if training:
                self.modes.append(net.module_.encoder.training)

    ae = AutoEncoder(callbacks=[FreezeEncoder()], validation_fraction=0, **SMALL).fit(X)
    modes = dict(ae.net_.callbacks_)["FreezeEncoder"].modes
    assert len(modes) == 3 * int(np.ceil(len(X) / 64)) and all(modes)


# -- errors ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "X, error, match",
    [
        (np.array([[1.0, np.nan], [0.0, 1.0]]), ValueError, "NaN"),
        (np.array([[1.0, np.inf], [0.0, 1.0]]), ValueError, "infinity"),
        (np.array([[1 + 1j, 0], [0, 1]]), ValueError, "[Cc]omplex"),
        (np.array([["a", "b"], ["c", "d"]], dtype=object), ValueError, "string"),
        (np.empty((0, 3)), ValueError, "0 sample"),
        (np.empty((3, 0)), ValueError, "0 feature"),
        (np.array([1.0, 2.0, 3.0]), ValueError, "Reshape your data"),
    ],
)
def test_bad_input_is_named(X, error, match):
    with pytest.raises(error, match=match):
        AutoEncoder(**SMALL).fit(X)


def test_wrong_feature_count_at_transform(digits):
    X, _ = digits
    ae = AutoEncoder(n_components=3, **SMALL).fit(X)
    with pytest.raises(ValueError, match="64 features"):
        ae.transform(X[:, :10])
    with pytest.raises(ValueError, match="n_components=3"):
        ae.inverse_transform(np.zeros((2, 4)))


def test_unfitted_raises():
    with pytest.raises(NotFittedError):
        AutoEncoder().transform(np.zeros((2, 3)))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_components": 0}, "n_components"),
        ({"activation": "nope"}, "activation"),
        ({"hidden_layer_sizes": (8, -1)}, "hidden_layer_sizes"),
        ({"validation_fraction": 1.0}, "validation_fraction"),
        ({"device": "quantum"}, "torch device"),
    ],
)
def test_bad_parameters_are_named(params, match, digits):
    X, _ = digits
    with pytest.raises(ValueError, match=match):
        AutoEncoder(**{**SMALL, **params}).fit(X)


def test_unavailable_devices_are_clear_errors(digits):
    X = digits[0]
    if not torch.cuda.is_available():
        with pytest.raises(
            ValueError, match=r"torch.cuda.is_available\(\) is False.*device='auto'"
        ):
            AutoEncoder(device="cuda", **SMALL).fit(X)
    else:
        with pytest.raises(ValueError, match="CUDA device"):
            AutoEncoder(device=f"cuda:{torch.cuda.device_count()}", **SMALL).fit(X)
    if not torch.backends.mps.is_available():
        with pytest.raises(ValueError, match="MPS needs Apple silicon") as error:
            AutoEncoder(device="mps", **SMALL).fit(X)
        assert "CUDA" not in str(error.value)
    with pytest.raises(ValueError, match="not 'meta'"):
        AutoEncoder(device="meta", **SMALL).fit(X)


def test_an_activation_instance_is_refused_with_what_to_pass(digits):
    with pytest.raises(
        ValueError, match=r"the class itself, not an instance such as torch.nn.ReLU\(\)"
    ):
        AutoEncoder(activation=torch.nn.ReLU(), **SMALL).fit(digits[0])


def test_a_network_too_large_is_refused_before_allocation():
    import resource
    import time

    X = sp.random(4, 1_000_000, density=1e-5, format="csr", random_state=0)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    with pytest.raises(
        ValueError,
        match=r"1,000,000 features would have 513,066,818 parameters.*"
        r"encoder.0.weight, has shape \(256, 1000000\).*Reduce the features",
    ):
        AutoEncoder().fit(X)
    assert time.perf_counter() - start < 1.0
    # Peak memory (KiB on Linux) grew by far less than the 2 GiB of weights.
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200 * 2**10
    # A narrower first layer fits the same data.
    assert AutoEncoder(hidden_layer_sizes=(8,), max_epochs=1).fit(X).transform(X).shape == (4, 2)


def test_an_overcomplete_code_warns_unless_a_regulariser_keeps_it_informative(digits):
    import warnings

    from skae import DenoisingAutoEncoder, SparseAutoEncoder
    from skae.penalties import L1Activity

    X = digits[0][:100, 18:23]  # 5 features
    wide = dict(n_components=8, hidden_layer_sizes=(8,), max_epochs=1, random_state=0)
    with pytest.warns(
        UserWarning, match="n_components=8 is more than the 5 input features.*n_components <= 5"
    ):
        AutoEncoder(**wide).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SparseAutoEncoder(**wide).fit(X)
        DenoisingAutoEncoder(**wide).fit(X)
        AutoEncoder(**wide, penalties=[L1Activity(1e-3)]).fit(X)
        AutoEncoder(**dict(wide, n_components=5)).fit(X)


class ClearedMidCall(AutoEncoder):
    """Loses net_ between the fitted check and its use, as under a refit in another thread."""

    def _validate_X(self, X):
        X = super()._validate_X(X)
        del self.net_
        return X


def test_a_fitted_attribute_lost_mid_call_is_a_not_fitted_error(digits):
    ae = ClearedMidCall(**SMALL).fit(digits[0])
    with pytest.raises(
        NotFittedError, match="lost its fitted attribute net_.*another thread is refitting"
    ):
        ae.transform(digits[0])


def test_transform_racing_a_refit_raises_only_not_fitted_error(digits):
    import threading

    X = digits[0][:200]
    ae = AutoEncoder(**SMALL).fit(X)
    errors, done = [], threading.Event()

    def refit():
        try:
            for _ in range(2):
                ae.fit(X)
        finally:
            done.set()

    thread = threading.Thread(target=refit)
    thread.start()
    calls = 0
    while not done.is_set():
        calls += 1
        try:
            ae.transform(X[:16])
        except Exception as exc:  # noqa: BLE001 - every type is collected and checked
            errors.append(type(exc))
    thread.join()
    assert calls > 3 and set(errors) <= {NotFittedError}
    assert ae.transform(X[:5]).shape == (5, 2)


def test_divergence_stops_and_leaves_the_estimator_as_it_was(digits):
    X, _ = digits
    bad = dict(SMALL, lr=1e8, max_epochs=50, validation_fraction=0)
    ae = AutoEncoder(**bad)
    with pytest.raises(TrainingDivergedError, match="smaller lr"):
        ae.fit(X * 1e10)
    with pytest.raises(NotFittedError):
        check_is_fitted(ae)
    assert not [k for k in vars(ae) if k.endswith("_")]
    # A fitted estimator whose refit diverges keeps its previous model, not a diverged one.
    ae = AutoEncoder(**SMALL).fit(X)
    codes = ae.transform(X)
    ae.set_params(**bad)
    with pytest.raises(TrainingDivergedError):
        ae.fit(X * 1e10)
    np.testing.assert_array_equal(ae.transform(X), codes)


# -- input types and dtypes -------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_output_dtype_follows_input(digits, dtype):
    X = digits[0].astype(dtype)
    ae = AutoEncoder(**SMALL).fit(X)
    Z = ae.transform(X)
    assert Z.dtype == dtype
    assert ae.inverse_transform(Z).dtype == dtype
    assert ae.transform(X.astype(np.int64)).dtype == np.float64


def test_pandas_input_and_output(digits):
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(digits[0], columns=[f"px{i}" for i in range(64)])
    ae = AutoEncoder(n_components=3, **SMALL).set_output(transform="pandas").fit(X)
    out = ae.transform(X)
    assert list(out.columns) == ["autoencoder0", "autoencoder1", "autoencoder2"]
    assert list(ae.feature_names_in_) == list(X.columns)
    np.testing.assert_array_equal(out.index, X.index)


def test_sparse_input_matches_dense(digits):
    X = digits[0]
    dense = AutoEncoder(**SMALL).fit(X)
    sparse = AutoEncoder(**SMALL).fit(sp.csr_matrix(X))
    np.testing.assert_allclose(
        dense.transform(X), sparse.transform(sp.csr_matrix(X)), rtol=1e-5, atol=1e-6
    )


def test_sparse_input_is_densified_batch_by_batch():
    """numpy reports its allocations to tracemalloc: the peak must stay batch-sized."""
    import tracemalloc

    X = sp.random(2000, 20_000, density=0.0005, format="csr", random_state=0)
    dense_bytes = X.shape[0] * X.shape[1] * 4  # 160 MB as float32
    ae = AutoEncoder(
        n_components=2, hidden_layer_sizes=(), batch_size=10, max_epochs=1, random_state=0
    )
    peaks = []
    for step in (lambda: ae.fit(X), lambda: ae.transform(X), lambda: ae.score(X)):
        tracemalloc.start()
        try:
            step()
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    assert max(peaks) < dense_bytes / 8, peaks


# -- verbosity ---------------------------------------------------------------------------
def test_verbose_shows_progress_and_silent_by_default(digits, capfd):
    X, _ = digits
    AutoEncoder(**SMALL).fit(X)
    assert capfd.readouterr() == ("", "")
    AutoEncoder(verbose=1, validation_fraction=0.1, **SMALL).fit(X)
    err = capfd.readouterr().err
    assert "3/3" in err and "train_loss=" in err and "valid_loss=" in err
    AutoEncoder(verbose=2, validation_fraction=0.1, **SMALL).fit(X)
    out = capfd.readouterr().out
    assert "epoch" in out and "train_loss" in out and "valid_loss" in out
    assert "\x1b[" not in out  # no colour codes in a pipe or a log file


# -- regressions found in review ----------------------------------------------------------
def test_bce_scores_held_out_rows_outside_unit_interval(digits):
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler

    X, _ = digits
    pipe = make_pipeline(MinMaxScaler(), AutoEncoder(loss="bce", **SMALL))
    scores = cross_val_score(pipe, X, cv=3, error_score="raise")
    assert np.all(np.isfinite(scores)) and np.all(scores < 0)


def test_skorch_checkpoint_and_batch_scheduler_work(digits, tmp_path):
    from skorch.callbacks import Checkpoint, LRScheduler

    X, _ = digits
    ae = AutoEncoder(
        callbacks=[
            Checkpoint(dirname=str(tmp_path), monitor="train_loss_best"),
            LRScheduler("StepLR", step_size=10, step_every="batch"),
        ],
        **SMALL,
    ).fit(X)
    assert (tmp_path / "params.pt").exists()
    assert ae.net_.optimizer_.param_groups[0]["lr"] < 1e-3  # the scheduler stepped per batch


def test_parallel_threads_fit_reproducibly(digits):
    from concurrent.futures import ThreadPoolExecutor

    X, _ = digits[0][:400], None

    def fit(seed):
        return AutoEncoder(**{**SMALL, "random_state": seed}).fit(X).transform(X)

    sequential = [fit(s) for s in range(4)]
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(fit, range(4)))
    for a, b in zip(sequential, parallel):
        np.testing.assert_array_equal(a, b)


def test_fit_works_under_another_default_dtype(digits):
    X, _ = digits
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        Z = AutoEncoder(**SMALL).fit(X).transform(X)
    finally:
        torch.set_default_dtype(before)
    assert Z.dtype == np.float64 and np.all(np.isfinite(Z))


def test_best_loss_is_that_of_the_kept_weights(digits):
    X, _ = digits
    ae = AutoEncoder(
        n_components=4,
        max_epochs=80,
        n_iter_no_change=5,
        tol=0.05,
        validation_fraction=0.1,
        random_state=0,
    ).fit(X)
    early = dict(ae.net_.callbacks_)["early_stopping"]
    assert ae.best_loss_ == ae.validation_loss_curve_[early.best_epoch_ - 1]
    # With a 5 % tolerance the kept epoch need not be the plain minimum.
    assert ae.best_loss_ >= min(ae.validation_loss_curve_)


def test_failed_refit_leaves_the_previous_fit_intact(digits):
    X, _ = digits
    ae = AutoEncoder(**SMALL).fit(X)
    before, codes = dict(vars(ae)), ae.transform(X)
    with pytest.raises(ValueError, match="NaN"):
        ae.fit(np.full_like(X, np.nan))
    assert vars(ae) == before
    np.testing.assert_array_equal(ae.transform(X), codes)


def test_refit_starts_from_nothing(digits):
    # A variant whose fit sets an attribute only for some parameters must not keep a stale
    # one from an earlier fit; fit clears every fitted attribute first.
    X, _ = digits
    ae = AutoEncoder(**SMALL).fit(X)
    ae.only_from_an_earlier_fit_ = True
    ae.fit(X)
    assert not hasattr(ae, "only_from_an_earlier_fit_")


def test_optimizer_classes(digits):
    X, _ = digits
    ae = AutoEncoder(
        optimizer=torch.optim.LBFGS, lr=0.1, batch_size=len(X), validation_fraction=0, **SMALL
    ).fit(X)
    assert ae.loss_curve_[-1] < ae.loss_curve_[0]
    with pytest.raises(TypeError, match="torch.optim.Optimizer"):
        AutoEncoder(optimizer=int, **SMALL).fit(X)
    with pytest.raises(TypeError, match="torch.nn.Module"):
        AutoEncoder(activation=int, **SMALL).fit(X)


def test_values_beyond_float32_are_refused(digits):
    X = digits[0].copy()
    X[0, 0] = 1e39
    with pytest.raises(ValueError, match="float32"):
        AutoEncoder(**SMALL).fit(X)
    ae = AutoEncoder(**SMALL).fit(digits[0])
    with pytest.raises(ValueError, match="float32"):
        ae.transform(X)


def test_an_int_is_one_hidden_layer_as_in_mlp(digits, tmp_path):
    """MLPRegressor(hidden_layer_sizes=64) is one layer of 64; so is every skae layer list."""
    import skae

    X, y = digits
    params = dict(n_components=2, max_epochs=2, random_state=0)
    as_int = AutoEncoder(hidden_layer_sizes=16, **params).fit(X)
    as_tuple = AutoEncoder(hidden_layer_sizes=(16,), **params).fit(X)
    np.testing.assert_array_equal(as_int.transform(X), as_tuple.transform(X))
    assert as_int.encoder_[0].out_features == 16
    skae.save(as_int, tmp_path / "m.skae")
    np.testing.assert_array_equal(skae.load(tmp_path / "m.skae").transform(X), as_int.transform(X))
    aae = skae.AdversarialAutoEncoder(
        hidden_layer_sizes=8, discriminator_hidden_layer_sizes=4, **params
    )
    assert aae.fit(X).module_.discriminator[0].out_features == 4
    clf = skae.AutoEncoderClassifier(
        AutoEncoder(hidden_layer_sizes=8, **params),
        head_layer_sizes=5,
        max_epochs=2,
        random_state=0,
    ).fit(X, y)
    assert clf.module_.head[0].out_features == 5
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        AutoEncoder(hidden_layer_sizes=0).fit(X)
