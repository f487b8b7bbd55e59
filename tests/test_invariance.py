"""A row's result does not depend on the rows it is computed with, nor on torch's threads.

Every public estimator is fitted once; each inference method is then called on
N rows at once, on each row alone, and on random splits of the rows, with torch
at one and at two threads. float64 input is computed in float64, so all of these
agree within scikit-learn's float64 tolerance (rtol 1e-7).
"""

from contextlib import contextmanager

import numpy as np
import pytest
import torch
from estimators import small_estimators
from sklearn.base import clone, is_classifier, is_regressor

import skae

N_ROWS = 24
METHODS = ("transform", "score_samples", "decision_function", "predict", "predict_proba")


@contextmanager
def torch_threads(n):
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def calls(estimator, X):
    """name -> (method, its input rows), for every inference method the estimator has."""
    out = {m: (getattr(estimator, m), X) for m in METHODS if hasattr(estimator, m)}
    if hasattr(estimator, "inverse_transform"):
        out["inverse_transform"] = (estimator.inverse_transform, estimator.transform(X))
    if isinstance(estimator, skae.HammingIndex):
        out["kneighbors"] = (lambda rows: np.hstack(estimator.kneighbors(rows, n_neighbors=3)), X)
    return out


def split_results(fn, X, rng):
    """``fn`` over random consecutive splits of ``X``, stacked back."""
    cuts = np.sort(rng.choice(np.arange(1, len(X)), size=4, replace=False))
    return np.concatenate([np.asarray(fn(part)) for part in np.split(X, cuts)])


def _fitted(estimator, digits):
    X, y = digits
    X_fit, y_fit = X[:200], y[:200]
    if is_regressor(estimator):
        return clone(estimator).fit(X_fit, y_fit.astype(float))
    if is_classifier(estimator):
        return clone(estimator).fit(X_fit, y_fit % 3)
    return clone(estimator).fit(X_fit)


@pytest.mark.parametrize("estimator", small_estimators(), ids=lambda e: type(e).__name__)
def test_rows_do_not_depend_on_their_batch_or_threads(estimator, digits):
    fitted = _fitted(estimator, digits)
    for name, (fn, X) in calls(fitted, digits[0][200 : 200 + N_ROWS]).items():
        with torch_threads(1):
            reference = np.asarray(fn(X))
        assert reference.dtype.kind in "fiub" and len(reference) == len(X)
        # A series detector's rows are timestamps scored through the windows around them:
        # only the whole series has a result to compare.
        series = isinstance(estimator, skae.TimeSeriesOutlierDetector)
        for threads in (1, 2):
            with torch_threads(threads):
                if not series:
                    one_by_one = np.concatenate(
                        [np.asarray(fn(X[i : i + 1])) for i in range(len(X))]
                    )
                    splits = split_results(fn, X, np.random.default_rng(threads))
                again = np.asarray(fn(X))
            results = [("all rows", again)]
            if not series:
                results += [("one row at a time", one_by_one), ("random splits", splits)]
            for label, result in results:
                np.testing.assert_allclose(
                    result,
                    reference,
                    rtol=1e-7,
                    atol=1e-12,
                    err_msg=f"{type(estimator).__name__}.{name}: {label}, {threads} thread(s)",
                )


def test_float64_input_is_computed_in_float64(digits):
    X = digits[0][:300]
    ae = skae.AutoEncoder(
        n_components=4, hidden_layer_sizes=(16,), max_epochs=3, random_state=0
    ).fit(X)
    with torch.inference_mode():
        x = torch.as_tensor(X[:5])
        expected = ae.encoder_.to(torch.float64)(x).numpy()
        ae.encoder_.to(torch.float32)
    codes = ae.transform(X[:5])
    assert codes.dtype == np.float64
    # Computed in float64, the codes match a float64 forward to float64 rounding, far
    # closer than float32's ~1e-7.
    np.testing.assert_allclose(codes, expected, rtol=1e-12, atol=1e-12)
    # The model itself stays float32.
    assert all(p.dtype == torch.float32 for p in ae.module_.parameters())
    # float32 input is computed in float32 and agrees with float64 to float32 precision.
    codes32 = ae.transform(X[:5].astype(np.float32))
    assert codes32.dtype == np.float32
    np.testing.assert_allclose(codes32, codes, rtol=1e-4, atol=1e-5)
    assert not np.array_equal(codes32.astype(np.float64), codes)


def test_float64_inference_from_many_threads_at_once_matches_one_thread(digits):
    """Threads share the fitted module (dask's threaded scheduler, a web server).

    Casting the weights by swapping them inside the module raced here: about 3
    rounds in 10 of 400 one-row calls failed with a dtype mismatch.
    """
    from concurrent.futures import ThreadPoolExecutor

    X = digits[0]
    ae = skae.AutoEncoder(n_components=4, hidden_layer_sizes=(16,), max_epochs=1).fit(X[:300])
    rows = [X[i : i + 1] for i in range(400)]
    alone = np.concatenate([ae.transform(row) for row in rows])
    for _ in range(10):
        with ThreadPoolExecutor(4) as pool:
            together = np.concatenate(list(pool.map(ae.transform, rows)))
        np.testing.assert_array_equal(together, alone)
