"""Mixed precision, torch.compile and CPU threads (issue 15): real fits at small sizes."""

from __future__ import annotations

import pickle
import shutil
import threading

import joblib
import numpy as np
import pytest
import torch
from model_files import load_bytes, parts, rezip
from skorch.callbacks import Callback

import skae
from skae import AutoEncoder, ConvAutoEncoder
from skae._precision import compile_mode
from skae._threads import ONE_THREAD_FLOPS, forward_flops, thread_count
from skae._training import check_closure_free

FIT = dict(n_components=8, max_epochs=30, random_state=0)


class RecordThreads(Callback):
    """Records the thread count each epoch trains with."""

    def on_epoch_end(self, net, **kwargs):
        net.history.record("threads", torch.get_num_threads())


def held_out_error(estimator, digits) -> float:
    X = digits[0]
    estimator.fit(X[:1400])
    return -estimator.score(X[1400:])


def test_bf16_mixed_is_within_1_1x_of_float32_and_keeps_float32_weights(digits):
    fp32 = held_out_error(AutoEncoder(**FIT), digits)
    bf16_model = AutoEncoder(precision="bf16-mixed", **FIT)
    bf16 = held_out_error(bf16_model, digits)
    assert bf16 <= 1.1 * fp32, (bf16, fp32)
    # The two trainings differ (bf16 rounds the forward passes), in the weights' precision only.
    assert bf16 != fp32
    assert {p.dtype for p in bf16_model.module_.parameters()} == {torch.float32}
    state = bf16_model._get_net_state()["weights"]
    assert {v.dtype for v in state.values()} == {np.dtype(np.float32)}
    assert not torch.is_autocast_enabled("cpu")


def test_16_mixed_on_the_cpu_is_refused_with_the_fix_and_keeps_the_last_fit(digits):
    X = digits[0][:200]
    ae = AutoEncoder(n_components=4, max_epochs=2, device="cpu", random_state=0).fit(X)
    codes = ae.transform(X)
    ae.set_params(precision="16-mixed")
    with pytest.raises(ValueError, match=r"CUDA only.*precision='bf16-mixed'"):
        ae.fit(X)
    np.testing.assert_array_equal(ae.transform(X), codes)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("precision", ["bf16-mixed", "16-mixed"])
def test_mixed_precision_on_cuda_is_within_1_1x_of_float32(digits, precision):
    fp32 = held_out_error(AutoEncoder(device="cuda", **FIT), digits)
    mixed = held_out_error(AutoEncoder(device="cuda", precision=precision, **FIT), digits)
    assert mixed <= 1.1 * fp32, (mixed, fp32)


@pytest.mark.skipif(shutil.which("g++") is None, reason="torch.compile needs a C++ compiler")
def test_compiled_training_matches_eager_and_saves_the_plain_module(digits):
    eager = held_out_error(AutoEncoder(**FIT), digits)
    compiled_model = AutoEncoder(compile=True, **FIT)
    compiled = held_out_error(compiled_model, digits)
    assert compiled <= 1.05 * eager, (compiled, eager)
    # The module itself is kept, not the compiled wrapper: its weights save under their names.
    assert type(compiled_model.module_).__name__ == "AutoEncoderModule"
    assert "encoder.0.weight" in compiled_model._get_net_state()["weights"]
    copy = pickle.loads(pickle.dumps(compiled_model))
    np.testing.assert_array_equal(copy.transform(digits[0]), compiled_model.transform(digits[0]))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_compiled_training_on_cuda_is_within_1_05x_of_eager(digits):
    # compile=True on CUDA is "reduce-overhead": the training steps replay CUDA graphs.
    eager = held_out_error(AutoEncoder(device="cuda", **FIT), digits)
    compiled_model = AutoEncoder(device="cuda", compile=True, **FIT)
    compiled = held_out_error(compiled_model, digits)
    assert compiled <= 1.05 * eager, (compiled, eager)
    copy = pickle.loads(pickle.dumps(compiled_model))
    np.testing.assert_allclose(
        copy.transform(digits[0]), compiled_model.transform(digits[0]), rtol=1e-5, atol=1e-6
    )


def test_compile_without_a_compiler_is_refused_with_the_fix(digits, monkeypatch):
    monkeypatch.setenv("PATH", "")
    monkeypatch.delenv("CXX", raising=False)
    with pytest.raises(RuntimeError, match=r"C\+\+ compiler.*compile=False"):
        AutoEncoder(compile=True, max_epochs=1).fit(digits[0][:100])


def test_compile_rejects_an_unknown_mode(digits):
    with pytest.raises(ValueError, match="compile"):
        AutoEncoder(compile="fastest", max_epochs=1).fit(digits[0][:100])


def batch_widths(estimator) -> list[int]:
    """The rows of each training batch of the estimator's last epoch."""
    batches = estimator.net_.history[-1]["batches"]
    return [b["train_batch_size"] for b in batches if "train_batch_size" in b]


def test_auto_batch_size_is_64_on_the_cpu_and_a_number_is_kept():
    # 12,800 rows: CUDA's rule would take 256 rows a step.
    X = np.random.RandomState(0).rand(12_800, 8).astype(np.float32)
    ae = AutoEncoder(n_components=2, hidden_layer_sizes=(8,), max_epochs=1, device="cpu")
    assert batch_widths(ae.fit(X)) == [64] * 200
    assert batch_widths(ae.set_params(batch_size=100).partial_fit(X[:640])) == [100] * 6 + [40]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_auto_batch_size_on_cuda_widens_with_the_training_rows():
    X = np.random.RandomState(0).rand(12_800, 8).astype(np.float32)
    ae = AutoEncoder(n_components=2, max_epochs=1, validation_fraction=0.1, device="cuda")
    # 11,520 training rows after the validation tenth: 128 rows a step (all 12,800 would give 256).
    assert batch_widths(ae.fit(X)) == [128] * 90
    assert batch_widths(ae.partial_fit(X)) == [256] * 50  # each call by its own rows


def test_forward_flops_counts_linear_and_convolution_layers():
    small = AutoEncoder(n_components=8, max_epochs=1).fit(np.zeros((64, 64)))
    # 64-256-128-8 and back: two multiply-adds per weight.
    assert forward_flops(small.module_, 64) == 2 * 2 * (64 * 256 + 256 * 128 + 128 * 8)
    conv = ConvAutoEncoder(n_components=4, max_epochs=1).fit(np.zeros((8, 1, 12, 12)))
    n_weights = sum(p.numel() for name, p in conv.module_.named_parameters() if "weight" in name)
    # A convolution reuses each weight at every position: far more than 2 per weight.
    assert forward_flops(conv.module_, 144) > 4 * n_weights


def test_thread_count_follows_n_jobs():
    assert thread_count(None, ONE_THREAD_FLOPS / 2) == 1
    assert thread_count(None, ONE_THREAD_FLOPS * 2) == torch.get_num_threads()
    assert thread_count(3, 0) == 3
    assert thread_count(-1, 0) == joblib.cpu_count()
    assert thread_count(-(joblib.cpu_count() + 5), 0) == 1


def test_small_models_train_on_one_thread_and_fit_restores_the_setting(digits):
    X = digits[0][:300]
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        small = AutoEncoder(max_epochs=2, callbacks=[RecordThreads()]).fit(X)
        assert [row["threads"] for row in small.history_] == [1, 1]
        assert torch.get_num_threads() == 2
        # Above the crossover, torch's setting is kept; n_jobs overrides either way.
        large = AutoEncoder(
            hidden_layer_sizes=(2048,), batch_size=256, max_epochs=1, callbacks=[RecordThreads()]
        ).fit(X)
        assert large.history_[-1, "threads"] == 2
        chosen = AutoEncoder(max_epochs=1, n_jobs=2, callbacks=[RecordThreads()]).fit(X)
        assert chosen.history_[-1, "threads"] == 2
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_concurrent_fits_in_threads_keep_their_own_thread_counts(digits):
    X = digits[0][:300]
    models = {n: AutoEncoder(max_epochs=3, n_jobs=n, callbacks=[RecordThreads()]) for n in (1, 3)}
    before = torch.get_num_threads()
    workers = [threading.Thread(target=m.fit, args=(X,)) for m in models.values()]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    for n, model in models.items():
        assert [row["threads"] for row in model.history_] == [n] * 3
    assert torch.get_num_threads() == before
    # torch's process-wide value, which a thread started now begins with, is back too.
    seen = []
    late = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
    late.start()
    late.join()
    assert seen == [before]


def test_n_jobs_set_after_fit_applies_to_the_next_pass(digits):
    X = digits[0][:300]
    ae = AutoEncoder(max_epochs=1, callbacks=[RecordThreads()]).fit(X)
    assert ae.history_[-1, "threads"] == 1
    ae.set_params(n_jobs=3).partial_fit(X)
    assert ae.history_[-1, "threads"] == 3


def test_numpy_booleans_name_compile_modes_like_python_ones():
    assert compile_mode(np.True_, "cpu") == compile_mode(True, "cpu") == "default"
    assert compile_mode(np.False_, "cpu") is None
    # Off CUDA, the modes that need CUDA graphs fall back to the same mode without them.
    assert compile_mode("reduce-overhead", "cpu") == "default"
    assert compile_mode("max-autotune", "cpu") == "max-autotune-no-cudagraphs"


def test_16_mixed_refuses_optimizers_that_may_need_a_closure():
    with pytest.raises(ValueError, match="LBFGS may need.*optimizer='adam'"):
        check_closure_free("16-mixed", torch.optim.LBFGS)
    check_closure_free("16-mixed", "adam")
    check_closure_free("16-mixed", torch.optim.Adam)
    check_closure_free("bf16-mixed", torch.optim.LBFGS)


def test_cosine_schedule_anneals_the_learning_rate_over_max_epochs(digits):
    X = digits[0][:300]
    ae = AutoEncoder(
        max_epochs=8, lr=1e-2, lr_schedule="cosine", n_iter_no_change=None, random_state=0
    ).fit(X)
    expected = [1e-2 * (1 + np.cos(np.pi * e / 8)) / 2 for e in range(8)]
    np.testing.assert_allclose([row["lr"] for row in ae.history_], expected, rtol=1e-12)
    # A pass of partial_fit beyond max_epochs keeps the last epoch's rate.
    ae.partial_fit(X)
    assert ae.history_[-1, "lr"] == pytest.approx(expected[-1], rel=1e-12)


def test_models_saved_before_the_new_parameters_load_with_their_defaults(digits, tmp_path):
    X = digits[0][:200]
    ae = AutoEncoder(n_components=4, max_epochs=2, random_state=0).fit(X)
    added = ("distributed", "precision", "compile", "n_jobs")
    # A pickle from before them ...
    state = ae.__getstate__()
    for name in added:
        del state[name]
    old = AutoEncoder.__new__(AutoEncoder)
    old.__setstate__(state)
    assert {k: old.get_params()[k] for k in added} == {k: ae.get_params()[k] for k in added}
    np.testing.assert_array_equal(old.transform(X), ae.transform(X))
    # ... and a skae.save file.
    skae.save(ae, tmp_path / "m.skae")
    config, blob = parts((tmp_path / "m.skae").read_bytes())
    for name in added:
        del config["params"][name]
    loaded = load_bytes(rezip(config, blob), tmp_path, "old.skae")
    assert loaded.get_params()["precision"] == "32"
    np.testing.assert_array_equal(loaded.transform(X), ae.transform(X))


class HostReads(torch.overrides.TorchFunctionMode):
    """Counts the reads of tensor values into Python (a host synchronisation on a GPU)."""

    READS = {
        torch.Tensor.item,
        torch.Tensor.tolist,
        torch.Tensor.cpu,
        torch.Tensor.numpy,
        torch.Tensor.__float__,
        torch.Tensor.__int__,
        torch.Tensor.__bool__,
    }

    def __init__(self):
        super().__init__()
        self.count = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.count += func in self.READS
        return func(*args, **(kwargs or {}))


def host_reads(make, X) -> int:
    with HostReads() as reads:
        make().fit(X)
    return reads.count


@pytest.mark.parametrize(
    "make",
    [
        lambda batch: AutoEncoder(n_components=2, max_epochs=3, batch_size=batch, random_state=0),
        lambda batch: skae.AutoEncoderOutlierDetector(
            AutoEncoder(n_components=2, max_epochs=3, batch_size=batch, lr_schedule="constant"),
            n_estimators=3,
            max_samples=1.0,
            trim=0.0,
            random_state=0,
        ),
    ],
    ids=["autoencoder", "members side by side"],
)
def test_training_reads_no_value_to_the_host_per_batch(make):
    # Four times the batches per epoch, the same reads: they are per epoch (the losses that
    # early stopping and the history need), not per batch.
    X = np.random.RandomState(0).normal(size=(400, 6))
    few, many = host_reads(lambda: make(100), X), host_reads(lambda: make(25), X)
    assert few == many
    assert 0 < few
