"""Networks trained side by side as one stacked network (skae.nn.members, _training.train_all)."""

import numpy as np
import pytest
import torch
from sklearn.base import clone

from skae import AutoEncoder, AutoEncoderOutlierDetector, SparseAutoEncoder
from skae._base import fit_all
from skae._data import MemberRows
from skae._outlier_member import _lowest
from skae._threads import forward_flops
from skae.nn.losses import Objective
from skae.nn.members import MembersObjective, stack_members
from skae.nn.modules import mlp_autoencoder

# lr_schedule="plateau" (the default) drops learning rates member by member: never side by side.
TINY = dict(n_components=2, hidden_layer_sizes=(8,), batch_size=16, lr_schedule="constant")


def members(n=3, n_features=6, seed=0):
    torch.manual_seed(seed)  # this test's own weights; fit never draws from torch's global RNG
    return [mlp_autoencoder(n_features, 2, [5], "relu", "identity") for _ in range(n)]


def test_the_stacked_network_computes_each_members_output():
    nets = members()
    stacked = stack_members(nets)
    x = torch.randn(7, 3, 6)
    out = stacked(x)
    for m, net in enumerate(nets):
        alone = net(x[:, m])
        for key in ("reconstruction", "code"):
            torch.testing.assert_close(out[key][:, m], alone[key], rtol=1e-5, atol=1e-6)
        # and the way back gives each member its own weights
        for key, value in stacked.member_state(m).items():
            torch.testing.assert_close(value, net.state_dict()[key], rtol=0, atol=0)


def test_training_side_by_side_trains_each_member_as_alone():
    # The same batches, Adam on the stack against Adam on each member: the same weights.
    nets = members()
    stacked = stack_members(nets)
    objective = MembersObjective(Objective("mse"))
    batches = torch.randn(5, 8, 3, 6)
    optimizer = torch.optim.Adam(stacked.parameters(), lr=1e-2)
    for xb in batches:
        optimizer.zero_grad()
        objective(stacked(xb), xb, stacked).sum().backward()
        optimizer.step()
    for m, net in enumerate(nets):
        optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
        for xb in batches[:, :, m]:
            optimizer.zero_grad()
            Objective("mse")(net(xb), xb, net).backward()
            optimizer.step()
        for key, value in stacked.member_state(m).items():
            torch.testing.assert_close(value, net.state_dict()[key], rtol=1e-4, atol=1e-5)


def test_what_cannot_be_stacked_is_refused():
    noisy = [mlp_autoencoder(6, 2, [5], "relu", "identity", noise=torch.nn.Dropout()) for _ in "ab"]
    assert stack_members(noisy) is None
    shapes = [
        mlp_autoencoder(6, 2, [5], "relu", "identity"),
        mlp_autoencoder(6, 2, [4], "relu", "identity"),
    ]
    assert stack_members(shapes) is None
    assert stack_members([torch.nn.BatchNorm1d(3), torch.nn.BatchNorm1d(3)]) is None


def test_each_member_is_shuffled_on_its_own():
    parts = [torch.arange(10.0).view(10, 1) + 100 * m for m in range(3)]
    data = MemberRows(parts)
    generator = torch.Generator().manual_seed(0)
    epoch = torch.cat([xb for xb, _ in data.batches(4, generator)])
    assert epoch.shape == (10, 3, 1)
    for m in range(3):  # every row of each member once, in its own order
        assert sorted(epoch[:, m, 0].tolist()) == sorted(parts[m][:, 0].tolist())
    assert not torch.equal(epoch[:, 0, 0], epoch[:, 1, 0] - 100)


def test_fit_all_gives_each_estimator_its_own_model_and_early_stop(rng):
    # Three datasets of different difficulty: each member stops at its own epoch and keeps
    # its own best weights.
    datasets = [
        rng.normal(size=(200, 6)) @ rng.normal(size=(6, 6)) * scale for scale in (0.1, 1.0, 3.0)
    ]
    template = AutoEncoder(
        max_epochs=200, n_iter_no_change=3, tol=0.0, lr=1e-2, validation_fraction=0.2, **TINY
    )
    estimators = [clone(template).set_params(random_state=s) for s in range(3)]
    fit_all(estimators, datasets)
    n_iters = [e.n_iter_ for e in estimators]
    assert len(set(n_iters)) > 1 and max(n_iters) < 200, n_iters
    for e, X in zip(estimators, datasets):
        assert len(e.history_) == e.n_iter_ == len(e.loss_curve_) == len(e.validation_loss_curve_)
        assert e.best_loss_ == min(e.validation_loss_curve_)
        # it stopped three epochs after its best, and holds the best epoch's weights
        best = int(np.argmin(e.validation_loss_curve_))
        assert e.n_iter_ == best + 1 + 3
        assert e.transform(X).shape == (200, 2)
    # As good as the same estimator fitted alone, within the noise of another shuffle
    alone = [clone(e).fit(X) for e, X in zip(estimators, datasets)]
    for e, a, X in zip(estimators, alone, datasets):
        assert -e.score(X) < 2.0 * -a.score(X) and -a.score(X) < 2.0 * -e.score(X)


def test_what_cannot_train_side_by_side_trains_alone_with_identical_results(rng):
    X = rng.normal(size=(120, 6))
    for template in (
        SparseAutoEncoder(max_epochs=5, random_state=0, **TINY),  # a penalty
        AutoEncoder(max_epochs=5, random_state=0, **{**TINY, "lr_schedule": "plateau"}),
    ):
        estimators = [clone(template).set_params(random_state=s) for s in range(2)]
        fit_all(estimators, [X, X])
        for s, e in enumerate(estimators):
            alone = clone(template).set_params(random_state=s).fit(X)
            np.testing.assert_array_equal(e.transform(X), alone.transform(X))


def test_a_partial_fit_continues_a_member_trained_side_by_side(rng):
    X = rng.normal(size=(120, 6))
    estimators = [AutoEncoder(max_epochs=5, random_state=s, **TINY) for s in range(2)]
    fit_all(estimators, [X, X])
    before = estimators[0].transform(X)
    estimators[0].partial_fit(X)
    assert estimators[0].n_iter_ == 6
    assert not np.allclose(estimators[0].transform(X), before)


def test_trimmed_rows_match_the_quantile_and_are_equally_many(rng):
    scores = rng.normal(size=256)
    kept = _lowest(scores, 0.1)
    np.testing.assert_array_equal(kept, np.flatnonzero(scores <= np.quantile(scores, 0.9)))
    tied = np.zeros(256)
    assert len(_lowest(tied, 0.1)) == len(kept) == 230


def test_an_interrupt_side_by_side_leaves_the_detector_as_it_was(rng, monkeypatch):
    X = rng.normal(size=(300, 6))
    detector = AutoEncoderOutlierDetector(
        AutoEncoder(max_epochs=5, **TINY), n_estimators=3, random_state=0
    ).fit(X)
    before, scores = dict(vars(detector)), detector.score_samples(X)
    calls = []
    members_loss = MembersObjective.forward

    def interrupted(self, output, target, module):
        calls.append(1)
        if len(calls) == 7:
            raise KeyboardInterrupt
        return members_loss(self, output, target, module)

    monkeypatch.setattr(MembersObjective, "forward", interrupted)
    with pytest.raises(KeyboardInterrupt):
        detector.set_params(random_state=1).fit(X)
    assert len(calls) == 7  # it went through the stacked network, and stopped at once
    assert vars(detector).keys() == before.keys()
    assert all(vars(detector)[k] is v for k, v in before.items() if k.endswith("_"))
    np.testing.assert_array_equal(detector.score_samples(X), scores)


def test_the_thread_choice_counts_every_members_arithmetic():
    nets = members()
    alone = forward_flops(nets[0], 6)
    assert alone == 2 * (6 * 5 + 5 * 2 + 2 * 5 + 5 * 6)
    assert forward_flops(stack_members(nets), (3, 6)) == 3 * alone


@pytest.mark.parametrize("loss", ["mse", "bce"])
def test_the_members_loss_is_each_members_own_mean_loss_with_its_gradient(loss):
    generator = torch.Generator().manual_seed(0)
    target = torch.rand(5, 3, 4, generator=generator)
    logits = torch.randn(3, 5, 4, generator=generator, requires_grad=True)
    # As the stacked network gives it: a view of values stored member by member.
    reconstruction = torch.sigmoid(logits).transpose(0, 1)
    together = MembersObjective(Objective(loss))({"reconstruction": reconstruction}, target, None)
    (grad,) = torch.autograd.grad(together.sum(), logits, retain_graph=True)
    for m in range(3):
        alone = Objective(loss)({"reconstruction": reconstruction[:, m]}, target[:, m], None)
        torch.testing.assert_close(together[m], alone, rtol=1e-6, atol=0)
        (own,) = torch.autograd.grad(alone, logits, retain_graph=True)
        torch.testing.assert_close(grad[m], own[m], rtol=1e-5, atol=1e-8)
        assert torch.count_nonzero(own[m]) > 0 and torch.count_nonzero(own[:m]) == 0
