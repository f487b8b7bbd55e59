"""VariationalAutoEncoder and AdversarialAutoEncoder: ELBO, KL, sampling, code distribution."""

import numpy as np
import pytest
import torch
from sklearn.model_selection import train_test_split

from skae import AdversarialAutoEncoder, AutoEncoder, VariationalAutoEncoder
from skae.nn.losses import adversarial_losses, negative_elbo
from skae.penalties import gaussian_kl

SMALL = dict(hidden_layer_sizes=(64,), random_state=0)


@pytest.fixture(scope="module")
def split(digits):
    X, _ = digits
    return train_test_split(X, test_size=0.25, random_state=0)


@pytest.fixture(scope="module")
def vae(split):
    return VariationalAutoEncoder(n_components=8, loss="bce", max_epochs=60, **SMALL).fit(split[0])


def test_kl_matches_its_closed_form_and_monte_carlo():
    g = torch.Generator().manual_seed(0)
    mean, log_var = torch.randn(4, 3, generator=g), torch.randn(4, 3, generator=g)
    q = torch.distributions.Normal(mean, torch.exp(0.5 * log_var))
    p = torch.distributions.Normal(torch.zeros(3), torch.ones(3))
    exact = torch.distributions.kl_divergence(q, p).sum(dim=1)
    torch.testing.assert_close(gaussian_kl(mean, log_var), exact)
    z = q.rsample((200_000,))  # fixed by the seed below
    torch.manual_seed(1)
    monte_carlo = (q.log_prob(z) - p.log_prob(z)).sum(dim=2).mean(dim=0)
    torch.testing.assert_close(monte_carlo, exact, atol=0.05, rtol=0.02)


def test_bernoulli_elbo_in_nats():
    """-ELBO = summed BCE + KL, checked against torch.distributions."""
    logits, x = torch.randn(2, 5), torch.randint(0, 2, (2, 5)).float()
    out = {"logits": logits, "mean": torch.zeros(2, 3), "log_var": torch.zeros(2, 3)}
    nll = -torch.distributions.Bernoulli(logits=logits).log_prob(x).sum(dim=1)
    torch.testing.assert_close(negative_elbo(out, x), nll)
    out["mean"] = torch.ones(2, 3)
    torch.testing.assert_close(negative_elbo(out, x, beta=2.0), nll + 2 * 1.5)


def test_vae_learns_and_scores_with_the_elbo(split, vae):
    X_train, X_test = split
    untrained = VariationalAutoEncoder(n_components=8, loss="bce", max_epochs=1, **SMALL)
    assert vae.score(X_test) > untrained.fit(X_train).score(X_test) + 5
    # The ELBO bounds log p(x) of binary-valued images, so it is negative, in nats per image.
    assert -40 < vae.score(X_test) < 0
    np.testing.assert_allclose(vae.score(X_test), vae.score_samples(X_test).mean())
    # transform is the posterior mean: deterministic.
    np.testing.assert_array_equal(vae.transform(X_test), vae.transform(X_test))


def test_vae_samples_look_like_the_data(split, vae):
    X_train, _ = split
    samples = vae.sample(2000, random_state=0)
    assert samples.shape == (2000, 64) and samples.min() >= 0 and samples.max() <= 1
    np.testing.assert_array_equal(samples, vae.sample(2000, random_state=0))
    # Mean image of the samples close to the data's (pixels in [0, 1]).
    assert np.abs(samples.mean(0) - X_train.mean(0)).mean() < 0.05


def test_beta_trades_reconstruction_for_a_posterior_closer_to_the_prior(split):
    X_train, X_test = split

    def kl_and_error(beta):
        est = VariationalAutoEncoder(
            n_components=8, loss="bce", beta=beta, max_epochs=40, **SMALL
        ).fit(X_train)
        with torch.no_grad():
            out = est.module_(torch.tensor(X_test, dtype=torch.float32))
        kl = float(gaussian_kl(out["mean"], out["log_var"]).mean())
        return kl, np.mean((est.inverse_transform(est.transform(X_test)) - X_test) ** 2)

    kl1, err1 = kl_and_error(1.0)
    kl4, err4 = kl_and_error(4.0)
    assert kl4 < 0.7 * kl1 and err4 > err1, (kl1, kl4, err1, err4)


def test_gaussian_decoder_variance_is_calibrated(split):
    X_train, X_test = split
    est = VariationalAutoEncoder(n_components=8, max_epochs=40, **SMALL).fit(X_train)
    variance = float(est.module_.decoder_variance.running_log_var.exp())
    mse = np.mean((est.inverse_transform(est.transform(X_test)) - X_test) ** 2)
    # The decoder's variance tracks the squared error of its reconstructions.
    assert 0.5 * mse < variance < 2 * mse, (variance, mse)


def test_adversarial_losses_reach_only_their_own_player():
    disc = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    code = torch.randn(8, 2, requires_grad=True)
    d_loss, g_loss = adversarial_losses(code, torch.randn(8, 2), disc)
    g_loss.backward(retain_graph=True)
    assert all(p.grad is None for p in disc.parameters()) and code.grad.abs().sum() > 0
    code.grad = None
    d_loss.backward()
    assert code.grad is None and all(p.grad is not None for p in disc.parameters())


@pytest.mark.parametrize("prior, mean, std", [("gaussian", 0.0, 1.0), ("uniform", 0.0, 3**-0.5)])
def test_adversarial_codes_follow_the_prior(split, prior, mean, std):
    X_train, X_test = split
    aae = AdversarialAutoEncoder(n_components=4, prior=prior, max_epochs=100, **SMALL)
    codes = aae.fit(X_train).transform(X_test)

    def deviation(codes):
        return max(
            np.abs(codes.mean(axis=0) - mean).max(), np.abs(codes.std(axis=0) / std - 1).max()
        )

    np.testing.assert_allclose(codes.mean(axis=0), mean, atol=0.15)
    np.testing.assert_allclose(codes.std(axis=0), std, rtol=0.15)
    if prior == "uniform":
        assert np.mean(np.abs(codes) <= 1.1) > 0.95
    # A plain autoencoder's codes follow no such law.
    plain = AutoEncoder(n_components=4, max_epochs=100, **SMALL).fit(X_train).transform(X_test)
    assert deviation(plain) > 0.3 > 0.15 >= deviation(codes)


def test_adversarial_samples_decode_prior_draws(split):
    X_train, _ = split
    aae = AdversarialAutoEncoder(n_components=4, max_epochs=60, **SMALL).fit(X_train)
    samples = aae.sample(1000, random_state=0)
    assert samples.shape == (1000, 64)
    assert np.abs(samples.mean(0) - X_train.mean(0)).mean() < 0.05


@pytest.mark.parametrize("n", [0, -1, 2.5, True])
def test_sample_rejects_bad_counts(vae, n):
    with pytest.raises(ValueError, match="positive integer"):
        vae.sample(n)


def test_sampling_leaves_global_rng_alone(vae):
    state = torch.random.get_rng_state()
    vae.sample(10)
    vae.score(np.zeros((3, 64)))
    assert torch.equal(state, torch.random.get_rng_state())
