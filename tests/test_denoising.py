"""DenoisingAutoEncoder: corruption in training only, and denoising that beats AE and PCA."""

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

from skae import AutoEncoder, DenoisingAutoEncoder
from skae.nn.noise import InputNoise


def test_denoises_better_than_autoencoder_and_pca(digits):
    X, _ = digits
    X_train, X_test = train_test_split(X, test_size=0.25, random_state=0)
    noisy = X_test + np.random.RandomState(1).normal(scale=0.3, size=X_test.shape)

    def error(est):
        est.fit(X_train)
        return float(np.mean((est.inverse_transform(est.transform(noisy)) - X_test) ** 2))

    dae = error(DenoisingAutoEncoder(n_components=16, noise_level=0.3, random_state=0))
    ae = error(AutoEncoder(n_components=16, random_state=0))
    pca = error(PCA(n_components=16))
    assert dae < ae and dae < pca, (dae, ae, pca)


@pytest.mark.parametrize("kind", ["gaussian", "masking", "salt_pepper"])
def test_noise_is_identity_outside_training(kind):
    noise = InputNoise(kind, 0.5).set_generator(torch.Generator().manual_seed(0))
    x = torch.rand(64, 10)
    corrupted = noise.train()(x)
    assert not torch.equal(corrupted, x)
    assert torch.equal(noise.eval()(x), x)
    if kind == "masking":
        assert 0.4 < (corrupted == 0).float().mean() < 0.6
    if kind == "salt_pepper":
        changed = corrupted != x
        assert set(corrupted[changed].unique().tolist()) <= {0.0, 1.0}


def test_scheduled_noise_moves_from_start_to_end(digits):
    X, _ = digits
    levels = []
    from skorch.callbacks import Callback

    class Spy(Callback):
        def on_epoch_begin(self, net, **kwargs):
            levels.append(net.module_.noise.level)

    DenoisingAutoEncoder(
        noise_level=0.5, noise_level_end=0.1, max_epochs=5, callbacks=[Spy()], random_state=0
    ).fit(X)
    np.testing.assert_allclose(levels, [0.5, 0.42, 0.34, 0.26, 0.18])


def test_noise_draws_from_local_generator(digits):
    X, _ = digits
    state = torch.random.get_rng_state()
    a = DenoisingAutoEncoder(max_epochs=3, random_state=0).fit(X).transform(X)
    assert torch.equal(state, torch.random.get_rng_state())
    b = DenoisingAutoEncoder(max_epochs=3, random_state=0).fit(X).transform(X)
    np.testing.assert_array_equal(a, b)
