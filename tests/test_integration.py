"""AutoEncoder inside scikit-learn's machinery, and persistence across processes."""

import subprocess
import sys
import textwrap

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skae import AutoEncoder

SMALL = dict(max_epochs=20, hidden_layer_sizes=(32,), random_state=0)


def test_pipeline_with_classifier(digits):
    X, y = digits
    pipe = make_pipeline(
        MinMaxScaler(), AutoEncoder(n_components=8, **SMALL), LogisticRegression(max_iter=1000)
    )
    pipe.fit(X[:1200], y[:1200])
    # Eight learned features carry the digit identity far above chance (0.1).
    assert pipe.score(X[1200:], y[1200:]) > 0.7


def test_grid_search_without_scorer_prefers_larger_code(digits):
    X, _ = digits
    search = GridSearchCV(AutoEncoder(**SMALL), {"n_components": [2, 8]}, cv=3)
    search.fit(X)
    assert search.best_params_ == {"n_components": 8}
    assert np.all(search.cv_results_["mean_test_score"] < 0)


def test_clone_gives_unfitted_copy_with_same_params(digits):
    ae = AutoEncoder(n_components=3, **SMALL).fit(digits[0])
    copy = clone(ae)
    assert copy.get_params() == ae.get_params()
    assert not hasattr(copy, "net_")


def test_public_names_and_submodules_import_on_first_use():
    code = textwrap.dedent("""
        import sys, skae
        assert "torch" not in sys.modules
        assert skae.penalties.L1Activity and skae.datasets.load_idx and skae.AutoEncoder
        assert [name for name, _ in skae.all_estimators(type_filter="transformer")] == sorted(
            name for name in skae.__all__ if name.endswith("AutoEncoder")
        )
    """)
    subprocess.run([sys.executable, "-c", code], check=True)


def test_joblib_roundtrip_in_new_process(digits, tmp_path):
    X, _ = digits
    ae = AutoEncoder(n_components=4, **SMALL).fit(X)
    model, data, out = tmp_path / "ae.joblib", tmp_path / "X.npy", tmp_path / "Z.npy"
    joblib.dump(ae, model)
    np.save(data, X)
    code = textwrap.dedent(f"""
        import joblib, numpy as np
        ae = joblib.load({str(model)!r})
        np.save({str(out)!r}, ae.transform(np.load({str(data)!r})))
    """)
    subprocess.run([sys.executable, "-c", code], check=True)
    np.testing.assert_array_equal(np.load(out), ae.transform(X))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_fitted_model_transforms_without_cuda(digits, tmp_path):
    X, _ = digits
    ae = AutoEncoder(n_components=4, device="cuda", **SMALL).fit(X)
    assert next(ae.module_.parameters()).is_cuda
    model, data, out = tmp_path / "ae.joblib", tmp_path / "X.npy", tmp_path / "Z.npy"
    joblib.dump(ae, model)
    np.save(data, X)
    code = textwrap.dedent(f"""
        import joblib, numpy as np, torch
        assert not torch.cuda.is_available()
        ae = joblib.load({str(model)!r})
        np.save({str(out)!r}, ae.transform(np.load({str(data)!r})))
    """)
    env = {**__import__("os").environ, "CUDA_VISIBLE_DEVICES": ""}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    np.testing.assert_allclose(np.load(out), ae.transform(X), rtol=1e-4, atol=1e-5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_training_is_reproducible(digits):
    X, _ = digits
    a = AutoEncoder(device="cuda", **SMALL).fit(X).transform(X)
    b = AutoEncoder(device="cuda", **SMALL).fit(X).transform(X)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
