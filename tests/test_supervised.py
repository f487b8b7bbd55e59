"""AutoEncoderClassifier / AutoEncoderRegressor: contract, semi-supervision, freezing, pickling."""

import pickle

import joblib
import numpy as np
import pytest
import torch
from sklearn.frozen import FrozenEstimator

from skae import AutoEncoder, AutoEncoderClassifier, AutoEncoderRegressor, DenoisingAutoEncoder


def tiny_autoencoder(**kwargs):
    return AutoEncoder(
        **{
            "n_components": 4,
            "hidden_layer_sizes": (8,),
            "max_epochs": 5,
            "batch_size": 16,
            **kwargs,
        }
    )


@pytest.fixture(scope="module")
def pretrained(digits):
    """An autoencoder fitted once on all digits, shared by the tests that freeze it."""
    X, _ = digits
    return AutoEncoder(
        n_components=16, hidden_layer_sizes=(64,), max_epochs=30, random_state=0
    ).fit(X)


def few_labels(y, per_class, seed=0):
    """y with all but ``per_class`` rows of each class replaced by -1."""
    rng = np.random.RandomState(seed)
    keep = np.concatenate(
        [rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in np.unique(y)]
    )
    partial = np.full_like(y, -1)
    partial[keep] = y[keep]
    return partial


def state(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def test_unlabelled_rows_feed_pretraining_only(digits):
    X, y = digits
    y_partial = few_labels(y, 5)
    labelled = y_partial != -1
    ae = AutoEncoder(n_components=8, hidden_layer_sizes=(32,), max_epochs=5, random_state=1)
    clf = AutoEncoderClassifier(ae, max_epochs=10, random_state=0).fit(X, y_partial)
    np.testing.assert_array_equal(clf.classes_, np.arange(10))
    # Pretraining saw every row: the same autoencoder fitted on all of X has the same weights.
    seed = np.random.SeedSequence(0).spawn(2)[0].generate_state(1)[0]  # what fit hands it
    alone = AutoEncoder(**{**ae.get_params(), "random_state": int(seed)}).fit(X)
    for k, v in state(alone.module_).items():
        torch.testing.assert_close(clf.estimator_.module_.state_dict()[k], v, rtol=0, atol=0)
    # The supervised stage saw the labelled rows only: 50 rows, in batches of 32.
    assert [row["train_batch_count"] for row in clf.net_.history][:1] == [2]
    assert (
        sum(b["train_batch_size"] for b in clf.net_.history[0]["batches"]) == labelled.sum() == 50
    )
    # Every row set the code's standardisation: the mean of all 1797 codes, not of the 50 labelled.
    codes = clf.estimator_.transform(X.astype(np.float32))
    np.testing.assert_allclose(
        clf.module_.code_mean.numpy(), codes.mean(axis=0), rtol=1e-5, atol=1e-6
    )
    assert np.abs(codes[labelled].mean(axis=0) - codes.mean(axis=0)).max() > 1e-3
    # So the same labelled rows with the same frozen autoencoder give the same model only
    # when the unlabelled rows come too.
    same = AutoEncoderClassifier(FrozenEstimator(clf.estimator_), max_epochs=10, random_state=0)
    np.testing.assert_allclose(
        same.fit(X, y_partial).predict_proba(X), clf.predict_proba(X), rtol=1e-5, atol=1e-6
    )
    alone = same.fit(X[labelled], y[labelled]).predict_proba(X)
    assert np.abs(alone - clf.predict_proba(X)).max() > 1e-3


def test_no_labelled_row_or_one_class_is_a_clear_error(digits):
    X, y = digits
    with pytest.raises(ValueError, match="needs labelled rows.*label -1"):
        AutoEncoderClassifier(tiny_autoencoder()).fit(X[:50], np.full(50, -1))
    with pytest.raises(ValueError, match="at least 2 classes"):
        AutoEncoderClassifier(tiny_autoencoder()).fit(X[:50], np.r_[np.full(49, -1), 3])
    with pytest.raises(ValueError, match="needs labelled rows.*NaN"):
        AutoEncoderRegressor(tiny_autoencoder()).fit(X[:50], np.full(50, np.nan))
    assert not hasattr(AutoEncoderClassifier(), "classes_")


def test_frozen_encoder_trains_the_head_only(digits, pretrained):
    X, y = digits
    y_partial = few_labels(y, 10)
    before = state(pretrained.module_)
    frozen = AutoEncoderClassifier(
        FrozenEstimator(pretrained), freeze_encoder=True, max_epochs=50, lr=1e-2, random_state=0
    ).fit(X, y_partial)
    # The network's autoencoder (encoder and decoder) kept the pretrained weights exactly ...
    for k, v in state(frozen.module_.autoencoder).items():
        torch.testing.assert_close(v, before[k], rtol=0, atol=0)
    # (float32 sums may round differently at another thread count: transform picks its own)
    np.testing.assert_allclose(
        frozen.module_.autoencoder.encoder(torch.as_tensor(X[:5], dtype=torch.float32))
        .detach()
        .numpy(),
        pretrained.transform(X[:5].astype(np.float32)),
        rtol=1e-6,
        atol=1e-6,
    )
    # ... and the head learnt: well above chance on all digits.
    assert frozen.score(X, y) > 0.7
    # Fine-tuning moves the encoder, but never the frozen estimator the user passed in.
    tuned = AutoEncoderClassifier(
        FrozenEstimator(pretrained), freeze_encoder=False, max_epochs=20, random_state=0
    ).fit(X, y_partial)
    encoder = {
        k: v for k, v in state(tuned.module_.autoencoder).items() if k.startswith("encoder.")
    }
    moved = [not torch.equal(v, before[k]) for k, v in encoder.items()]
    assert len(moved) == 4
    assert all(moved)
    for k, v in state(pretrained.module_).items():
        torch.testing.assert_close(v, before[k], rtol=0, atol=0)


def test_reconstruction_term_keeps_the_autoencoder_reconstructing(digits, pretrained):
    X, y = digits
    y_partial = few_labels(y, 10)

    def reconstruction_error(clf):
        with torch.no_grad():
            out = clf.module_.eval()(torch.as_tensor(X, dtype=torch.float32))
        return float(((out["reconstruction"] - out["input"]) ** 2).mean())

    fits = {
        w: AutoEncoderClassifier(
            FrozenEstimator(pretrained),
            freeze_encoder=False,
            reconstruction_weight=w,
            warm_up_head=False,
            max_epochs=60,
            lr=3e-3,
            random_state=0,
        ).fit(X, y_partial)
        for w in (0.0, 10.0)
    }
    kept, drifted = reconstruction_error(fits[10.0]), reconstruction_error(fits[0.0])
    before = float(np.mean((pretrained.inverse_transform(pretrained.transform(X)) - X) ** 2))
    assert kept < 0.5 * drifted and kept < 2 * before, (kept, drifted, before)
    assert fits[10.0].score(X, y) > 0.7


def test_linear_head_with_passthrough_is_logistic_regression_on_input_and_code(digits, pretrained):
    """alpha is LogisticRegression's 1 / C, on [X, code scaled to X's total variance]."""
    from sklearn.linear_model import LogisticRegression

    X, y = digits
    X = X.astype(np.float32)
    y_partial = few_labels(y, 5)
    labelled = y_partial != -1
    clf = AutoEncoderClassifier(
        FrozenEstimator(pretrained),
        head_layer_sizes=(),
        alpha=2.0,
        lr=1e-2,
        max_epochs=3000,
        tol=0,
        n_iter_no_change=50,
        random_state=0,
    ).fit(X, y_partial)
    assert clf.module_.head[0].in_features == 64 + 16
    codes = pretrained.transform(X).astype(np.float64)
    codes = (codes - codes.mean(axis=0)) / codes.std(axis=0)
    weight = np.sqrt(X.astype(np.float64).var(axis=0).sum() / 16)
    features = np.hstack([X, weight * codes])
    np.testing.assert_allclose((weight * codes).var(axis=0).sum(), X.var(axis=0).sum(), rtol=1e-6)
    lr = LogisticRegression(C=0.5, tol=1e-8, max_iter=10_000).fit(features[labelled], y[labelled])

    def objective(proba, coef):  # LogisticRegression's: summed log-loss + |W|^2 / (2 C)
        return -np.log(proba[labelled, y[labelled]]).sum() + (coef**2).sum()

    optimum = objective(lr.predict_proba(features), lr.coef_)
    reached = objective(clf.predict_proba(X), clf.module_.head[0].weight.detach().numpy())
    # alpha=1 or 4 lands 8% above this optimum; Adam gets within 0.1% of it.
    assert optimum <= reached < 1.001 * optimum, (reached, optimum)
    assert np.mean(clf.predict(X) == lr.predict(features)) > 0.99
    # Without passthrough the head sees the 16 code values only, and does worse than with them.
    code_only = AutoEncoderClassifier(
        FrozenEstimator(pretrained),
        head_layer_sizes=(),
        passthrough=False,
        lr=1e-2,
        random_state=0,
    ).fit(X, y_partial)
    assert code_only.module_.head[0].in_features == 16
    assert code_only.score(X, y) < clf.score(X, y)


def test_string_labels_with_unlabelled_rows(digits):
    X, y = digits
    names = np.array(["zero", "one", "two"], dtype=object)
    rows = y < 3
    y_names = names[y[rows]]
    y_names[::2] = -1  # half the rows unlabelled
    clf = AutoEncoderClassifier(tiny_autoencoder(), max_epochs=30, lr=1e-2, random_state=0)
    clf.fit(X[rows], y_names)
    assert sorted(clf.classes_) == ["one", "two", "zero"]
    assert set(clf.predict(X[rows])) <= set(names)
    assert clf.score(X[rows], names[y[rows]]) > 0.9


def test_regressor_multi_output_with_unlabelled_rows(digits):
    X, _ = digits
    targets = np.c_[X[:, :32].mean(axis=1), 100 * X[:, 32:].mean(axis=1) - 7]  # two scales
    y = targets.copy()
    y[400:] = np.nan
    reg = AutoEncoderRegressor(
        tiny_autoencoder(max_epochs=10), max_epochs=60, lr=3e-3, random_state=0
    )
    reg.fit(X, y)
    assert reg.n_outputs_ == 2 and reg.predict(X[:3]).shape == (3, 2)
    assert reg.score(X[400:], targets[400:]) > 0.8
    assert reg.fit(X, y[:, 1]).predict(X[:3]).shape == (3,)
    y[0, 0] = np.nan
    with pytest.raises(ValueError, match="some targets NaN and others not"):
        reg.fit(X, y)


@pytest.mark.parametrize("Estimator", [AutoEncoderClassifier, AutoEncoderRegressor])
def test_joblib_and_pickle_round_trip(Estimator, digits, tmp_path):
    X, y = digits
    est = Estimator(
        DenoisingAutoEncoder(n_components=4, hidden_layer_sizes=(8,), max_epochs=3),
        head_layer_sizes=(6,),
        max_epochs=3,
        random_state=0,
    ).fit(X[:300], y[:300])
    state = est.__getstate__()
    assert "net_" not in state and "_net_state" in state  # plain data, not a pickled torch module
    joblib.dump(est, tmp_path / "model.joblib")
    for loaded in (joblib.load(tmp_path / "model.joblib"), pickle.loads(pickle.dumps(est))):
        np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
        assert loaded.n_iter_ == est.n_iter_ == 3
        assert len(loaded.net_.history) == 3


def test_global_random_state_untouched_and_reproducible(digits):
    X, y = digits
    torch_state, np_state = torch.random.get_rng_state(), np.random.get_state()[1].copy()
    fits = [
        AutoEncoderClassifier(tiny_autoencoder(), max_epochs=5, random_state=3).fit(
            X, few_labels(y, 5)
        )
        for _ in range(2)
    ]
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    np.testing.assert_array_equal(np.random.get_state()[1], np_state)
    np.testing.assert_array_equal(fits[0].predict_proba(X), fits[1].predict_proba(X))


def test_estimator_must_be_a_skae_autoencoder(digits):
    X, y = digits
    from sklearn.decomposition import PCA

    with pytest.raises(TypeError, match="skae autoencoder"):
        AutoEncoderClassifier(PCA(2)).fit(X, y)
    with pytest.raises(ValueError, match="fitted on 64 features, but X has 10"):
        AutoEncoderClassifier(FrozenEstimator(tiny_autoencoder().fit(X))).fit(X[:, :10], y)


def test_pretraining_on_unlabelled_rows_helps_with_few_labels(digits):
    """5 labels per class: the pretrained encoder beats the same network barely pretrained.

    (On digits, logistic regression on the pixels is as good; the win over it
    needs many unlabelled rows: see benchmarks/bench_semi_supervised.py on MNIST.)
    """
    X, y = digits
    X_pool, X_test, y_pool, y_test = X[:1300], X[1300:], y[:1300], y[1300:]
    gains = []
    for seed in range(2):
        y_partial = few_labels(y_pool, 5, seed)
        accuracy = {
            epochs: AutoEncoderClassifier(
                AutoEncoder(
                    n_components=10, hidden_layer_sizes=(64,), loss="bce", max_epochs=epochs
                ),
                max_epochs=100,
                random_state=seed,
            )
            .fit(X_pool, y_partial)
            .score(X_test, y_test)
            for epochs in (1, 100)
        }
        assert accuracy[100] > 0.75, accuracy
        gains.append(accuracy[100] - accuracy[1])
    assert np.mean(gains) > 0.03, gains
