"""Every public skae estimator, at a small training budget, for the shared tests."""

import skae

FAST = dict(max_epochs=5, batch_size=16, hidden_layer_sizes=(8,), random_state=0)


def small_estimators():
    """One instance of each public estimator, fast enough for the common checks."""
    return [cls(**FAST) for cls in skae.all_estimators().values()]
