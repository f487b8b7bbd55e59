"""StackedAutoEncoder: greedy layer-wise pretraining of the deep network's own layers."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.model_selection import train_test_split
from skorch.callbacks import Callback

from skae import AutoEncoder, StackedAutoEncoder


def spy(log):
    """A callback recording each trained net's module and first and last monitored losses.

    Fitting deep-copies callbacks; the log is reached through the class, which is not copied.
    """

    class Spy(Callback):
        def on_train_end(self, net, **kwargs):
            key = "valid_loss" if "valid_loss" in net.history[-1] else "train_loss"
            log.append((net.module_, net.history[0, key], net.history[-1, key]))

    return Spy()


def test_pretraining_trains_the_deep_network_layer_by_layer(digits):
    X, _ = digits
    log = []
    sae = StackedAutoEncoder(
        n_components=4,
        hidden_layer_sizes=(32, 16),
        pretrain_epochs=4,
        max_epochs=1,
        callbacks=[spy(log)],
        random_state=0,
    ).fit(X)
    assert len(log) == 4  # three shallow autoencoders, then the end-to-end fine-tuning
    deep = {id(p) for p in sae.module_.parameters()}
    assert log[-1][0] is sae.module_
    for (module, first, last), n_in, n_hidden in zip(log[:3], [64, 32, 16], [32, 16, 4]):
        layers = [m for m in module.modules() if hasattr(m, "in_features")]
        assert [(m.in_features, m.out_features) for m in layers] == [
            (n_in, n_hidden),
            (n_hidden, n_in),
        ]
        # The shallow autoencoders train the deep network's own tensors, not copies.
        assert {id(p) for p in module.parameters()} <= deep
        assert last < 0.9 * first
    assert len(sae.pretrain_losses_) == 3
    np.testing.assert_allclose(sae.pretrain_losses_, [row[2] for row in log[:3]], rtol=0, atol=0)


def test_without_pretraining_it_is_the_plain_autoencoder(digits):
    X, _ = digits
    params = dict(n_components=4, hidden_layer_sizes=(16,), max_epochs=3, random_state=0)
    sae = StackedAutoEncoder(pretrain_epochs=0, **params).fit(X)
    assert sae.pretrain_losses_ == []
    np.testing.assert_array_equal(sae.transform(X), AutoEncoder(**params).fit(X).transform(X))


def test_pretraining_lowers_held_out_error_at_equal_fine_tuning(digits):
    X, _ = digits
    X_train, X_test = train_test_split(X, test_size=0.25, random_state=0)

    def error(pretrain_epochs):
        sae = StackedAutoEncoder(
            n_components=4,
            hidden_layer_sizes=(64, 32, 16),
            pretrain_epochs=pretrain_epochs,
            max_epochs=10,
            n_iter_no_change=None,
            random_state=0,
        ).fit(X_train)
        return float(np.mean((sae.inverse_transform(sae.transform(X_test)) - X_test) ** 2))

    # Measured: 0.072 from random weights, 0.051 after 10 epochs per layer (seeds 1-3 alike).
    random_start, pretrained = error(0), error(10)
    assert pretrained < 0.85 * random_start, (pretrained, random_start)


def test_pretraining_reads_sparse_input_and_leaves_global_rng(digits):
    import torch

    X = sp.csr_matrix(digits[0][:300])
    state = torch.random.get_rng_state()
    params = dict(
        n_components=3, hidden_layer_sizes=(16, 8), pretrain_epochs=2, max_epochs=2, random_state=0
    )
    a = StackedAutoEncoder(**params).fit(X).transform(X)
    assert torch.equal(state, torch.random.get_rng_state())
    b = StackedAutoEncoder(**params).fit(X.toarray()).transform(X.toarray())
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("bad", [-1, 1.5])
def test_invalid_pretrain_epochs_is_refused(bad, digits):
    with pytest.raises(ValueError, match="pretrain_epochs"):
        StackedAutoEncoder(pretrain_epochs=bad).fit(digits[0])
