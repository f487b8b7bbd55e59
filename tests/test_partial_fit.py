"""partial_fit: one pass per call, optimizer state kept, for every autoencoder."""

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.base import TransformerMixin, clone
from sklearn.model_selection import train_test_split
from skorch.callbacks import Callback

import skae
from skae import AutoEncoder, DenoisingAutoEncoder, StackedAutoEncoder

TINY = dict(n_components=4, hidden_layer_sizes=(16,), random_state=0)


def _weights(estimator):
    return {k: v.clone() for k, v in estimator.module_.state_dict().items()}


def _mse(estimator, X):
    return float(np.mean((estimator.inverse_transform(estimator.transform(X)) - X) ** 2))


def test_passes_over_chunks_come_within_1_2x_of_fit(digits):
    X_train, X_test = train_test_split(digits[0], test_size=0.25, random_state=0)
    params = dict(n_components=8, hidden_layer_sizes=(64,), random_state=0)
    full = AutoEncoder(max_epochs=40, n_iter_no_change=None, **params).fit(X_train)
    chunked = AutoEncoder(**params)
    for _ in range(40):  # 40 passes over 10 chunks: as many epochs as fit
        for chunk in np.array_split(X_train, 10):
            chunked.partial_fit(chunk)
    assert chunked.n_iter_ == 400 and len(chunked.loss_curve_) == 400
    # Measured: 0.0212 (fit) against 0.0205 (chunks; 20 steps per pass of chunks, fit 16).
    assert _mse(chunked, X_test) < 1.2 * _mse(full, X_test)


def test_each_call_is_one_pass_that_keeps_the_optimizer_state(digits):
    X = digits[0][:200]
    ae = AutoEncoder(batch_size=50, **TINY).partial_fit(X)
    assert ae.n_iter_ == 1 and ae.history_[-1]["train_batch_count"] == 4
    state = ae.net_.optimizer_.state_dict()["state"]
    steps = {float(s["step"]) for s in state.values()}
    before = _weights(ae)
    ae.partial_fit(X)
    assert (
        {float(s["step"]) for s in ae.net_.optimizer_.state_dict()["state"].values()}
        == {s + 4 for s in steps}
        == {8.0}
    )
    assert ae.n_iter_ == 2 and ae.best_loss_ == ae.loss_curve_[-1] < ae.loss_curve_[0]
    assert any(not torch.equal(v, _weights(ae)[k]) for k, v in before.items())


def test_a_chunk_of_one_row_and_sparse_chunks(digits):
    X = digits[0]
    ae = AutoEncoder(**TINY).partial_fit(X[:1])
    ae.partial_fit(sp.csr_matrix(X[1:2])).partial_fit(X[2:40])
    assert ae.n_iter_ == 3 and np.isfinite(ae.loss_curve_).all()
    assert ae.transform(X[:3]).shape == (3, 4)


def test_the_same_chunks_give_the_same_model(digits):
    X = digits[0][:300]
    a, b = AutoEncoder(**TINY), AutoEncoder(**TINY)
    for chunk in np.array_split(X, 3):
        a.partial_fit(chunk)
        b.partial_fit(chunk)
    for k, v in _weights(a).items():
        torch.testing.assert_close(v, _weights(b)[k], rtol=0, atol=0)


def test_after_fit_and_after_load_it_continues_from_those_weights(digits, tmp_path):
    X = digits[0][:300]
    ae = AutoEncoder(max_epochs=3, validation_fraction=0.2, **TINY).fit(X)
    error = _mse(ae, X)
    for _ in range(20):
        ae.partial_fit(X)
    assert ae.n_iter_ == 23 and _mse(ae, X) < error
    assert "early_stopping" not in dict(ae.net_.callbacks_)
    skae.save(ae, tmp_path / "ae.skae")
    loaded = skae.load(tmp_path / "ae.skae")
    loaded.partial_fit(X)
    assert loaded.n_iter_ == 24 and loaded.loss_curve_[:23] == ae.loss_curve_


class FailAfter(Callback):
    def __init__(self, passes):
        self.passes = passes

    def on_batch_end(self, net, **kwargs):
        if len(net.history) > self.passes:
            raise RuntimeError("disk went away")


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_a_failed_pass_leaves_the_model_as_it_was(error, digits, monkeypatch):
    X = digits[0][:200]
    ae = AutoEncoder(batch_size=20, callbacks=[FailAfter(2)], **TINY)
    ae.partial_fit(X).partial_fit(X)
    before, curve = _weights(ae), list(ae.loss_curve_)
    optimizer = ae.net_.optimizer_.state_dict()["state"][0]["exp_avg"].clone()
    if error is KeyboardInterrupt:
        monkeypatch.setattr(FailAfter, "on_batch_end", _interrupt)
    with pytest.raises(error):
        ae.partial_fit(X)
    assert ae.loss_curve_ == curve and ae.n_iter_ == 2 and len(ae.history_) == 2
    for k, v in before.items():
        torch.testing.assert_close(_weights(ae)[k], v, rtol=0, atol=0)
    torch.testing.assert_close(
        ae.net_.optimizer_.state_dict()["state"][0]["exp_avg"], optimizer, rtol=0, atol=0
    )


def _interrupt(self, net, **kwargs):
    if len(net.history) > self.passes:
        raise KeyboardInterrupt


def test_a_failed_first_call_leaves_it_unfitted(digits):
    ae = AutoEncoder(callbacks=[FailAfter(0)], **TINY)
    with pytest.raises(RuntimeError, match="disk went away"):
        ae.partial_fit(digits[0][:50])
    assert not hasattr(ae, "net_") and not hasattr(ae, "n_features_in_")


def test_later_chunks_must_have_the_same_features(digits):
    ae = AutoEncoder(**TINY).partial_fit(digits[0][:50])
    with pytest.raises(ValueError, match="X has 10 features, but AutoEncoder is expecting 64"):
        ae.partial_fit(digits[0][:50, :10])


def test_stacked_and_scheduled_variants_take_their_documented_meaning(digits):
    X = digits[0][:200]
    stacked = StackedAutoEncoder(pretrain_epochs=5, **TINY).partial_fit(X)
    assert stacked.pretrain_losses_ == []  # no greedy pretraining: end-to-end passes
    scheduled = DenoisingAutoEncoder(
        noise="masking", noise_level=0.5, noise_level_end=0.1, max_epochs=4, **TINY
    )
    levels = []
    for _ in range(6):
        scheduled.partial_fit(X)
        levels.append(round(scheduled.module_.noise.level, 3))
    # Pass p runs at progress p / max_epochs, which stops at the end of the schedule.
    assert levels == [0.5, 0.4, 0.3, 0.2, 0.1, 0.1]


TRANSFORMERS = [cls for _, cls in skae.all_estimators() if issubclass(cls, TransformerMixin)]


@pytest.mark.parametrize("Estimator", TRANSFORMERS, ids=lambda c: c.__name__)
def test_every_autoencoder_trains_in_chunks(Estimator, digits):
    X = digits[0][:120]
    estimator = clone(Estimator(random_state=0, max_epochs=2)).set_params(batch_size=32)
    if "hidden_layer_sizes" in estimator.get_params():
        estimator.set_params(hidden_layer_sizes=(8,))
    for chunk in np.array_split(X, 3):
        estimator.partial_fit(chunk)
    assert estimator.n_iter_ == 3 and np.isfinite(estimator.loss_curve_).all()
    assert estimator.transform(X[:5]).shape[0] == 5
