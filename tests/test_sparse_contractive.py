"""SparseAutoEncoder, ContractiveAutoEncoder and the penalty terms behind them."""

import numpy as np
import pytest
import torch
from sklearn.model_selection import train_test_split

from skae import AutoEncoder, ContractiveAutoEncoder, DenoisingAutoEncoder, SparseAutoEncoder
from skae.penalties import Contractive, L1Activity, jacobian_frobenius, kl_sparsity

SMALL = dict(hidden_layer_sizes=(64,), random_state=0)


@pytest.fixture(scope="module")
def split(digits):
    X, _ = digits
    return train_test_split(X, test_size=0.25, random_state=0)


def near_zero(codes):
    return float(np.mean(np.abs(codes) < 1e-3))


def test_kl_sparsity_reaches_target_on_held_out_data(split):
    X_train, X_test = split
    sae = SparseAutoEncoder(n_components=32, sparsity_target=0.05, max_epochs=60, **SMALL)
    mean_activation = sae.fit(X_train).transform(X_test).mean()
    assert abs(mean_activation - 0.05) < 0.02, mean_activation
    # Without the penalty the same sigmoid code is far from sparse.
    dense = SparseAutoEncoder(n_components=32, sparsity_weight=0, max_epochs=60, **SMALL)
    assert dense.fit(X_train).transform(X_test).mean() > 0.2


def test_l1_sparsity_zeroes_more_code_units(split):
    X_train, X_test = split
    fits = {
        w: SparseAutoEncoder(
            n_components=32, sparsity="l1", sparsity_weight=w, max_epochs=40, **SMALL
        ).fit(X_train)
        for w in (0.0, 1e-3)
    }
    plain = AutoEncoder(n_components=32, max_epochs=40, **SMALL).fit(X_train)
    unpenalised, penalised = (near_zero(fits[w].transform(X_test)) for w in (0.0, 1e-3))
    # A ReLU code has dead units even without a penalty (35% here); the penalty adds more zeros.
    assert penalised > unpenalised + 0.05, (penalised, unpenalised)
    assert penalised > near_zero(plain.transform(X_test)) + 0.3


def test_kl_needs_a_sigmoid_code(digits):
    X, _ = digits
    with pytest.raises(ValueError, match="code_activation='sigmoid'"):
        SparseAutoEncoder(code_activation="relu").fit(X)


def test_kl_sparsity_is_zero_at_the_target_and_grows_away_from_it():
    code = torch.full((8, 4), 0.05)
    assert float(kl_sparsity(code, 0.05)) == pytest.approx(0.0, abs=1e-7)
    assert 0 < float(kl_sparsity(code + 0.05, 0.05)) < float(kl_sparsity(code + 0.3, 0.05))


def test_penalties_combine_with_any_variant(split):
    """A sparse denoising autoencoder, without a class of its own."""
    X_train, X_test = split
    kwargs = dict(n_components=32, max_epochs=40, **SMALL)
    plain = DenoisingAutoEncoder(noise="masking", noise_level=0.2, **kwargs).fit(X_train)
    sparse = DenoisingAutoEncoder(
        noise="masking", noise_level=0.2, penalties=[L1Activity(1e-2)], **kwargs
    ).fit(X_train)
    assert np.abs(sparse.transform(X_test)).mean() < 0.5 * np.abs(plain.transform(X_test)).mean()


def test_penalties_must_be_callables(digits):
    X, _ = digits
    with pytest.raises(TypeError, match="skae.penalties"):
        AutoEncoder(penalties=[0.1], max_epochs=1).fit(X)


def test_closed_form_jacobian_matches_the_autograd_one():
    torch.manual_seed(0)
    layer = torch.nn.Linear(6, 3)
    closed = torch.nn.Sequential(layer, torch.nn.Sigmoid())

    class Generic(torch.nn.Module):  # the same function, not recognised as one sigmoid layer
        def forward(self, x):
            return torch.sigmoid(layer(x))

    x = torch.randn(5, 6)
    expected = torch.stack(
        [
            torch.autograd.functional.jacobian(lambda r: torch.sigmoid(layer(r)), row).pow(2).sum()
            for row in x
        ]
    )
    torch.testing.assert_close(jacobian_frobenius(closed, x), expected)
    torch.testing.assert_close(jacobian_frobenius(Generic(), x), expected)


def test_contractive_penalty_trains_the_encoder():
    enc = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    x = torch.randn(3, 4)
    Contractive(1.0)({}, x, torch.nn.ModuleDict({"encoder": enc})).backward()
    # Every weight shapes the Jacobian (the last bias does not, so it gets no gradient).
    weights = [p for name, p in enc.named_parameters() if name.endswith("weight")]
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in weights)


def test_contractive_encoder_is_less_sensitive_at_comparable_error(split):
    X_train, X_test = split
    x = torch.tensor(X_test, dtype=torch.float32)

    def measure(est):
        est.fit(X_train)
        jac = float(jacobian_frobenius(est.encoder_, x).mean().detach())
        # Relative to the spread of the codes, so that shrinking the code scale does not count.
        return -est.score(X_test), jac, jac / est.transform(X_test).var(axis=0).sum()

    ae = measure(AutoEncoder(n_components=8, max_epochs=60, **SMALL))
    cae = measure(
        ContractiveAutoEncoder(n_components=8, contractive_weight=2e-4, max_epochs=60, **SMALL)
    )
    assert cae[0] < 1.1 * ae[0], (cae, ae)  # comparable reconstruction error
    assert cae[1] < ae[1] / 2, (cae, ae)  # measured: 3.9x lower
    assert cae[2] < ae[2] / 1.3, (cae, ae)  # measured: 1.5x lower


def test_jacobian_over_the_first_columns_holds_the_rest_fixed():
    torch.manual_seed(0)
    layer = torch.nn.Linear(6, 3)

    def encoder(x):  # the last two columns scale the code, as a mask would
        return torch.tanh(layer(x)) * x[:, 4:5] * x[:, 5:6]

    x = torch.rand(5, 6)
    expected = torch.stack(
        [
            torch.autograd.functional.jacobian(lambda r: encoder(r.unsqueeze(0))[0], row)[:, :4]
            .pow(2)
            .sum()
            for row in x
        ]
    )
    torch.testing.assert_close(jacobian_frobenius(encoder, x, n_inputs=4), expected)


def test_contractive_penalty_trains_a_random_encoder():
    """A hashing encoder adds noise in training mode (vmap draws it row by row): it still trains."""
    from skae import HashingAutoEncoder

    X = np.random.RandomState(0).rand(60, 12)
    kwargs = dict(n_bits=4, hidden_layer_sizes=(16,), max_epochs=3, random_state=0)
    plain = HashingAutoEncoder(**kwargs).fit(X)
    penalised = HashingAutoEncoder(penalties=[Contractive(10.0)], **kwargs).fit(X)
    losses = penalised.history_[:, "train_loss"]
    assert np.isfinite(losses).all()
    assert losses[0] > plain.history_[0, "train_loss"]  # the penalty counts in the loss


def test_contractive_sequence_encoder_differentiates_the_values_not_the_mask():
    from skae import SequenceAutoEncoder

    rng = np.random.RandomState(0)
    X = [np.sin(np.arange(n) / 3 + rng.rand())[None] for n in rng.randint(20, 33, size=40)]
    kwargs = dict(n_components=2, hidden_layer_sizes=(8,), max_epochs=30, random_state=0)
    fits = {w: SequenceAutoEncoder(penalties=[Contractive(w)], **kwargs).fit(X) for w in (0, 1)}

    def sensitivity(model):
        module = model.module_
        rows = torch.as_tensor(model._prepare_input(X), dtype=torch.float32)
        return float(jacobian_frobenius(module.encode, rows, module.n_values).mean().detach())

    assert sensitivity(fits[1]) < sensitivity(fits[0]) / 2
    with pytest.raises(ValueError, match='architecture="conv"'):
        SequenceAutoEncoder(architecture="gru", penalties=[Contractive(1.0)]).fit(X)
