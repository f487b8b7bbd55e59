"""Ctrl-C during fit: training stops at once, the estimator is left as it was, and it is raised.

skorch ends training on any KeyboardInterrupt (its early stopping raises one), so
without care a user's Ctrl-C would give a silently truncated model.
"""

import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from skorch.callbacks import Callback

from skae import (
    AutoEncoder,
    AutoEncoderClassifier,
    AutoEncoderOutlierDetector,
    StackedAutoEncoder,
    StopOnInterrupt,
)

TINY = dict(n_components=2, hidden_layer_sizes=(8,), random_state=0)


# Epochs seen by InterruptAt, over every net: estimators copy and clone their callbacks
# (sklearn's clone even rebuilds them from get_params), so the count lives here.
SEEN = []


class InterruptAt(Callback):
    """Raises KeyboardInterrupt at the end of the ``at``-th epoch of all nets (see ``SEEN``)."""

    def __init__(self, at):
        self.at = at

    def on_epoch_end(self, net, **kwargs):
        SEEN.append(len(net.history))
        if len(SEEN) == self.at:
            raise KeyboardInterrupt


@pytest.fixture(autouse=True)
def clear_seen():
    SEEN.clear()


def test_interrupted_refit_leaves_the_previous_fit_and_stops_at_once(digits):
    X, _ = digits
    ae = AutoEncoder(max_epochs=5, **TINY).fit(X)
    before = {k: v for k, v in vars(ae).items() if k.endswith("_")}
    codes = ae.transform(X)
    with pytest.raises(KeyboardInterrupt):
        ae.set_params(max_epochs=50, callbacks=[InterruptAt(3)]).fit(X)
    assert SEEN == [1, 2, 3]  # no epoch after the interrupt
    assert {k: v for k, v in vars(ae).items() if k.endswith("_")} == before
    np.testing.assert_array_equal(ae.transform(X), codes)
    assert ae.n_iter_ == 5
    # An estimator never fitted stays unfitted.
    fresh = AutoEncoder(max_epochs=50, callbacks=[InterruptAt(5)], **TINY)
    with pytest.raises(KeyboardInterrupt):
        fresh.fit(X)
    assert not [k for k in vars(fresh) if k.endswith("_")]


def test_interrupt_reaches_through_greedy_stages_members_and_heads(digits):
    X, y = digits
    X = X[:300]
    cases = {
        # the second greedy stage: 2 epochs of the first stage, then 1 of the second
        "stacked": lambda cb: StackedAutoEncoder(
            n_components=2,
            hidden_layer_sizes=(16, 8),
            pretrain_epochs=2,
            max_epochs=20,
            callbacks=[cb],
            random_state=0,
        ),
        # the second member of the ensemble
        "outlier": lambda cb: AutoEncoderOutlierDetector(
            AutoEncoder(max_epochs=2, n_iter_no_change=None, callbacks=[cb], **TINY),
            n_estimators=5,
            random_state=0,
        ),
        # the pretraining, then the head: the head has its own callbacks-free net,
        # so interrupt the pretraining
        "classifier": lambda cb: AutoEncoderClassifier(
            AutoEncoder(max_epochs=20, callbacks=[cb], **TINY), random_state=0
        ),
    }
    for name, make in cases.items():
        SEEN.clear()
        estimator = make(InterruptAt(3))
        with pytest.raises(KeyboardInterrupt):
            estimator.fit(X, y[:300])
        assert len(SEEN) == 3, name
        assert not [k for k in vars(estimator) if k.endswith("_")], name


def test_stop_on_interrupt_keeps_the_model(digits):
    X, _ = digits
    ae = AutoEncoder(max_epochs=50, callbacks=[InterruptAt(4), StopOnInterrupt()], **TINY).fit(X)
    assert ae.n_iter_ == 4 and ae.history_[-1]["interrupted"] is True
    assert np.isfinite(ae.best_loss_) and ae.transform(X).shape == (len(X), 2)

    # Before the first epoch ends there is nothing to keep: raised all the same.
    class InterruptMidEpoch(Callback):
        def on_batch_end(self, net, **kwargs):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        AutoEncoder(max_epochs=5, callbacks=[InterruptMidEpoch(), StopOnInterrupt()], **TINY).fit(X)


def test_early_stopping_is_not_taken_for_an_interrupt(digits):
    X, _ = digits
    ae = AutoEncoder(
        max_epochs=500, n_iter_no_change=2, tol=0.5, lr_schedule="constant", **TINY
    ).fit(X)
    assert ae.n_iter_ < 10  # stopped early, returned normally


CHILD = textwrap.dedent("""
    import sys
    import numpy as np
    from skorch.callbacks import Callback
    from sklearn.datasets import load_digits
    import skae

    class Started(Callback):
        def on_epoch_end(self, net, **kwargs):
            if len(net.history) == 1:
                print("started", flush=True)

    X = load_digits().data / 16
    callbacks = [Started()] + ([skae.StopOnInterrupt()] if sys.argv[1] == "keep" else [])
    ae = skae.AutoEncoder(n_components=2, max_epochs=100_000, n_iter_no_change=None,
                          callbacks=callbacks, random_state=0)
    try:
        ae.fit(X)
        print("returned", ae.n_iter_, ae.history_[-1].get("interrupted"), flush=True)
    except KeyboardInterrupt:
        print("raised", hasattr(ae, "net_"), flush=True)
""")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
@pytest.mark.parametrize("mode", ["default", "keep"])
def test_real_sigint_in_a_child_process(mode):
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline().strip() == "started"
        time.sleep(0.2)
        child.send_signal(signal.SIGINT)
        sent = time.perf_counter()
        out, err = child.communicate(timeout=60)
        elapsed = time.perf_counter() - sent
    finally:
        child.kill()
    assert child.returncode == 0, err
    if mode == "default":
        assert out.strip() == "raised False"
    else:
        word, n_iter, flag = out.split()
        assert word == "returned" and int(n_iter) >= 1 and flag == "True"
    assert elapsed < 5, elapsed  # at once: the rest of the 100,000 epochs never run
