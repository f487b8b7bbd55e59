"""scikit-learn's estimator checks over every public skae estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skae import AutoEncoder

# Small budgets: the checks test the contract, not the quality of the fit.
FAST = dict(max_epochs=5, batch_size=16, hidden_layer_sizes=(8,), random_state=0)

ESTIMATORS = [AutoEncoder(**FAST)]


def expected_failures(estimator):
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failures)
def test_sklearn_compatible(estimator, check):
    check(estimator)
