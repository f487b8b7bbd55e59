"""scikit-learn's estimator checks over every public skae estimator."""

from estimators import small_estimators
from sklearn.utils.estimator_checks import parametrize_with_checks

import skae

# Every public estimator registers itself; small budgets test the contract, not quality.
ESTIMATORS = small_estimators()


def test_every_public_estimator_is_checked():
    assert {type(e).__name__ for e in ESTIMATORS} == set(skae.all_estimators())
    assert set(skae.all_estimators()) <= set(skae.__all__)


def expected_failures(estimator):
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failures)
def test_sklearn_compatible(estimator, check):
    check(estimator)
