"""SequenceAutoEncoder: aeon's layouts, unequal lengths that never count, real reconstruction."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA

import skae
from skae import SequenceAutoEncoder
from skae._threads import forward_flops
from skae.nn.sequence import (
    SequenceAutoEncoderModule,
    SequenceObjective,
    TemporalConvAutoEncoderModule,
)

TINY = dict(n_components=2, hidden_layer_sizes=(8,), max_epochs=3, batch_size=16, random_state=0)
ARCHITECTURES = pytest.mark.parametrize("architecture", ["conv", "gru"])


def waves(n=120, length=30, channels=1, seed=0):
    """Sines of random frequency and phase."""
    rng = np.random.RandomState(seed)
    t = np.linspace(0, 2 * np.pi, length)
    freq = rng.uniform(1, 3, size=(n, channels, 1))
    phase = rng.uniform(0, 2 * np.pi, size=(n, channels, 1))
    return np.sin(freq * t + phase)


def ragged(n=40, seed=0):
    rng = np.random.RandomState(seed)
    return [np.sin(np.linspace(0, rng.uniform(2, 6), rng.randint(10, 25)))[None] for _ in range(n)]


@ARCHITECTURES
def test_the_layouts_of_aeon_sktime_and_scikit_learn_give_one_model(architecture):
    X = waves(n=40, length=12)
    params = {**TINY, "architecture": architecture}
    from_3d = SequenceAutoEncoder(**params).fit(X)
    from_2d = SequenceAutoEncoder(**params).fit(X[:, 0])
    from_list = SequenceAutoEncoder(**params).fit(list(X))
    np.testing.assert_allclose(from_3d.transform(X), from_2d.transform(X[:, 0]), rtol=1e-6)
    np.testing.assert_allclose(from_3d.transform(X), from_list.transform(list(X)), rtol=1e-6)
    assert (from_3d.n_channels_, from_3d.n_timepoints_, from_3d.masked_) == (1, 12, False)
    assert from_3d.inverse_transform(from_3d.transform(X)).shape == (40, 1, 12)
    assert from_2d.inverse_transform(from_2d.transform(X[:, 0])).shape == (40, 12)


@ARCHITECTURES
def test_padding_never_counts_in_the_code_or_the_score(architecture):
    X = ragged()
    model = SequenceAutoEncoder(**TINY, architecture=architecture).fit(X)
    assert model.masked_ and model.n_timepoints_ == max(x.shape[1] for x in X)
    short, longest = X[0], max(X, key=lambda x: x.shape[1])
    # A case gives the same code and score alone as beside a longer one (padded further)...
    alone = model.transform([short])[0], model.score_samples([short])[0]
    beside = model.transform([short, longest])[0], model.score_samples([short, longest])[0]
    np.testing.assert_allclose(alone[0], beside[0], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(alone[1], beside[1], rtol=1e-6)
    # ...and its score is the error over its own steps only.
    reconstruction = model.inverse_transform(model.transform([short]))[0, :, : short.shape[1]]
    np.testing.assert_allclose(
        -np.mean((reconstruction - short) ** 2), alone[1], rtol=1e-4, atol=1e-7
    )


@pytest.mark.parametrize("module_class", [SequenceAutoEncoderModule, TemporalConvAutoEncoderModule])
def test_what_lies_beyond_a_cases_end_changes_no_loss_and_no_gradient(module_class):
    # Rows as the model reads them: 2 channels x 6 steps, then the mask; the second case
    # is 4 steps long. Garbage in its padded steps must change nothing in training.
    torch.manual_seed(0)  # this test's own weights
    module = module_class(2, 6, 3, [5], masked=True)
    objective = SequenceObjective("mse", 2, 6, masked=True)
    values = torch.randn(2, 2, 6)
    mask = torch.tensor([[1.0] * 6, [1.0] * 4 + [0.0] * 2])
    garbage = values.clone()
    garbage[1, :, 4:] = 1e3
    results = []
    for v in (values * mask[:, None], garbage):
        rows = torch.cat([v.reshape(2, -1), mask], dim=1)
        module.zero_grad()
        loss = objective(module(rows), rows, module)
        loss.backward()
        results.append((loss.detach(), [p.grad.clone() for p in module.parameters()]))
    torch.testing.assert_close(results[0][0], results[1][0])
    for a, b in zip(results[0][1], results[1][1]):
        torch.testing.assert_close(a, b)


@ARCHITECTURES
def test_beats_pca_on_a_curved_family_of_series(architecture):
    # Sines of one random frequency each: a 1-d family that no plane holds.
    def sines(n, seed):
        t = np.linspace(0, 2 * np.pi, 16)
        return np.sin(np.random.RandomState(seed).uniform(1, 3, size=(n, 1, 1)) * t)

    X_train, X_test = sines(128, 0), sines(100, 1)
    model = SequenceAutoEncoder(
        n_components=2,
        architecture=architecture,
        hidden_layer_sizes={"gru": (32,), "conv": (16, 32)}[architecture],
        max_epochs=40,
        lr=1e-2,
        batch_size=32,
        random_state=0,
    ).fit(X_train)
    error = np.mean((model.inverse_transform(model.transform(X_test)) - X_test) ** 2)
    flat_train, flat_test = X_train.reshape(128, -1), X_test.reshape(100, -1)
    pca = PCA(n_components=2).fit(flat_train)
    pca_error = np.mean((pca.inverse_transform(pca.transform(flat_test)) - flat_test) ** 2)
    # Against PCA's 0.146: GRU 0.0005 here, at most 0.0012 for other seeds; the
    # convolution 0.0011 here, at most 0.0023 for seeds 1 and 2.
    assert error < 0.1 * pca_error, (error, pca_error)


@pytest.mark.parametrize(
    "params",
    [
        dict(architecture="lstm", kernel_size=4),  # a kernel width the recurrent model ignores
        dict(architecture="gru", bidirectional=True),
        dict(hidden_layer_sizes=(4, 8, 8), kernel_size=3),
    ],
)
def test_architectures_cells_and_directions(params):
    X = waves(n=40, length=10, channels=3)
    model = SequenceAutoEncoder(**{**TINY, **params}).fit(X)
    assert model.transform(X).shape == (40, 2)
    assert model.inverse_transform(model.transform(X)).shape == (40, 3, 10)
    masked = SequenceAutoEncoder(**{**TINY, **params}).fit(ragged())
    assert masked.transform(ragged(seed=1)).shape == (40, 2)


@pytest.mark.parametrize(
    ("fit_on", "then", "message"),
    [
        (waves(20, 10), waves(5, 10, channels=2), "2 channels"),
        (waves(20, 10), waves(5, 12), "fitted on cases of 10 timepoints"),
        (ragged(), [np.zeros((1, 99))], "at most n_timepoints_"),
    ],
)
def test_layouts_the_model_cannot_read_are_refused(fit_on, then, message):
    model = SequenceAutoEncoder(**TINY).fit(fit_on)
    with pytest.raises(ValueError, match=message):
        model.transform(then)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (dict(hidden_layer_sizes=()), "at least one width"),
        (dict(kernel_size=4), "kernel_size=4"),
        (dict(bidirectional=True), "recurrent layers"),
    ],
)
def test_parameters_without_a_model_are_refused(params, message):
    with pytest.raises(ValueError, match=message):
        SequenceAutoEncoder(**{**TINY, **params}).fit(waves(20, 5))


@ARCHITECTURES
def test_a_masked_model_round_trips_through_pickle_and_skae_save(architecture, tmp_path):
    # Every recurrent tensor is narrower than kernel_size=9, which that model does not build.
    params = {**TINY, "hidden_layer_sizes": (2,), "architecture": architecture}
    model = SequenceAutoEncoder(**params).fit(ragged())
    codes = model.transform(ragged(seed=1))
    skae.save(model, tmp_path / "m.skae")
    for loaded in (pickle.loads(pickle.dumps(model)), skae.load(tmp_path / "m.skae")):
        assert loaded.masked_ and loaded.n_timepoints_ == model.n_timepoints_
        np.testing.assert_array_equal(loaded.transform(ragged(seed=1)), codes)


def test_the_thread_choice_counts_every_step_of_the_recurrent_layers():
    module = SequenceAutoEncoderModule(2, 5, 3, [8])
    gru_encoder = 2 * 3 * (2 + 8) * 8 * 5  # 3 gates, input and state products, 5 steps
    gru_decoder = 2 * 3 * (3 + 8) * 8 * 5
    linear = 2 * 8 * 3 + 2 * 3 * 8 + 2 * 8 * 2 * 5  # to the code, the start state, read-out
    assert forward_flops(module, 10) == gru_encoder + gru_decoder + linear
