"""AutoEncoderOutlierDetector: scikit-learn's outlier-detector contract and real detection."""

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import spearmanr
from sklearn.base import clone
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skae import AutoEncoder, AutoEncoderOutlierDetector, DenoisingAutoEncoder
from skae._outlier import default_autoencoder
from skae._outlier_member import _codes_and_residuals, screening_epochs

FAST_AE = dict(max_epochs=5, batch_size=16, hidden_layer_sizes=(8,), random_state=0)
SINGLE = dict(n_estimators=1, max_samples=1.0)  # one autoencoder on all the rows


def planted(n_inliers=600, n_outliers=30, seed=0):
    """Inliers near a curved 2-d surface in 10-d, with features on very different
    scales; outliers off the surface but inside the inliers' range feature by feature."""
    rng = np.random.RandomState(seed)
    t = rng.uniform(-1, 1, size=(n_inliers + n_outliers, 2))
    mixing = np.random.RandomState(42).normal(size=(5, 10))  # the same surface for every seed
    features = np.column_stack([t, np.sin(3 * t), t[:, :1] * t[:, 1:]])
    X = features @ mixing + 0.05 * rng.normal(size=(len(t), 10))
    y = np.zeros(len(t), dtype=int)
    y[n_inliers:] = 1
    # Outliers: each feature drawn independently from the inliers' own values.
    inliers = X[:n_inliers]
    X[n_inliers:] = inliers[rng.randint(n_inliers, size=(n_outliers, 10)), np.arange(10)]
    scales = np.logspace(-3, 3, 10)
    return X * scales, y


@pytest.fixture(scope="module")
def fitted():
    X, y = planted()
    detector = AutoEncoderOutlierDetector(random_state=0).fit(X)
    return detector, X, y


def test_finds_planted_outliers_better_than_isolation_forest(fitted):
    detector, X, y = fitted
    X_test, y_test = planted(seed=1)
    auc = roc_auc_score(y_test, -detector.score_samples(X_test))
    forest = IsolationForest(random_state=0).fit(X)
    forest_auc = roc_auc_score(y_test, -forest.score_samples(X_test))
    assert auc > 0.99, auc
    assert auc > forest_auc + 0.05, (auc, forest_auc)


def test_scaling_is_what_makes_small_features_count(fitted):
    # Features span six orders of magnitude: without scaling the error only sees the largest.
    detector, X, y = fitted
    X_test, y_test = planted(seed=1)
    unscaled = AutoEncoderOutlierDetector(scaler=None, random_state=0).fit(X)
    auc = roc_auc_score(y_test, -detector.score_samples(X_test))
    auc_unscaled = roc_auc_score(y_test, -unscaled.score_samples(X_test))
    assert auc > auc_unscaled + 0.1, (auc, auc_unscaled)


@pytest.fixture(scope="module")
def single():
    """One default autoencoder on all the rows: the score can be recomputed by hand."""
    X, y = planted()
    return AutoEncoderOutlierDetector(**SINGLE, random_state=0).fit(X), X, y


def final_fit_rows(X):
    """The rows of the final fit with trim=0.1: the 90 % that a first fit scores lowest,
    a fit with trim=0, half the epochs and one Gaussian for the codes, whatever
    code_components is. With the same random_state, the single autoencoder gets the same
    seed."""
    ae = default_autoencoder(X.shape[1])
    ae.set_params(max_epochs=screening_epochs(ae.max_epochs))
    first = AutoEncoderOutlierDetector(ae, **SINGLE, trim=0, code_components=1, random_state=0)
    first = first.fit(X).decision_scores_
    return first <= np.quantile(first, 0.9)


def standardised_parts(member, X, keep):
    """Codes and residuals of a member's autoencoder on the rows standardised by hand."""
    ae = member.estimator_
    Xs = (X - X[keep].mean(0)) / X[keep].std(0)
    Z = ae.transform(Xs)
    return Xs, Z, Xs - ae.inverse_transform(Z)


def test_scores_are_consistent(fitted):
    detector, X, _ = fitted
    scores = detector.score_samples(X)
    np.testing.assert_allclose(detector.decision_function(X), scores - detector.offset_)
    np.testing.assert_allclose(detector.decision_scores_, -scores, rtol=1e-6)
    assert detector.threshold_ == -detector.offset_
    np.testing.assert_array_equal(detector.predict(X), np.where(scores < detector.offset_, -1, 1))
    # The ensemble's score and reconstruction error are the means of its members'.
    members = detector.members_
    np.testing.assert_allclose(-scores, np.mean([m.outlier_scores(X) for m in members], axis=0))
    np.testing.assert_allclose(
        detector.reconstruction_error(X),
        np.mean([m.reconstruction_error(X) for m in members], axis=0),
    )


def test_members_train_on_their_own_subsamples(fitted):
    detector, X, _ = fitted
    assert len(detector.members_) == 5 and detector.max_samples_ == 256
    samples = detector.members_samples_
    assert all(len(np.unique(rows)) == 256 and (np.diff(rows) > 0).all() for rows in samples)
    assert len({tuple(rows) for rows in samples}) == 5
    seeds = {m.estimator_.random_state for m in detector.members_}
    assert len(seeds) == 5
    # The final fit of each member leaves out the trim (10 %) of its rows: 230 of 256 are
    # at or below the 90th percentile of their scores.
    assert {m.scaler_.n_samples_seen_ for m in detector.members_} == {230}


@pytest.mark.parametrize("max_samples, expected", [(0.5, 315), (100, 100), (1.0, 630)])
def test_max_samples_sets_the_rows_of_each_member(max_samples, expected):
    X, _ = planted()
    detector = AutoEncoderOutlierDetector(
        AutoEncoder(**FAST_AE), n_estimators=2, max_samples=max_samples, trim=0, random_state=0
    ).fit(X)
    assert detector.max_samples_ == expected
    for member, rows in zip(detector.members_, detector.members_samples_):
        assert len(rows) == expected
        # Each member's scaler is fitted on its own rows.
        np.testing.assert_allclose(member.scaler_.mean_, X[rows].mean(0))


def test_more_max_samples_than_rows_warns_and_uses_all():
    X, _ = planted(n_inliers=100, n_outliers=5)
    detector = AutoEncoderOutlierDetector(AutoEncoder(**FAST_AE), n_estimators=1, max_samples=500)
    with pytest.warns(UserWarning, match="max_samples=500 is more than the 105 training rows"):
        detector.fit(X)
    assert detector.max_samples_ == 105


def test_the_ensemble_ranks_rows_more_steadily_than_one_autoencoder():
    # Averaging autoencoders that differ in rows and initial weights makes the ranking
    # depend less on the seed: two fits with different seeds disagree less (one minus
    # the rank correlation of their scores, over three pairs of seeds) as ensembles.
    X, y = planted(n_outliers=60)
    X_test, _ = planted(seed=1)
    ae = AutoEncoder(max_epochs=30, hidden_layer_sizes=(32,), random_state=0)

    def disagreement(**params):
        def scores(seed):
            detector = AutoEncoderOutlierDetector(ae, random_state=seed, **params).fit(X)
            return detector.score_samples(X_test)

        return np.mean(
            [1 - spearmanr(scores(a), scores(b)).statistic for a, b in [(1, 2), (3, 4), (5, 6)]]
        )

    one, ensemble = disagreement(**SINGLE), disagreement(n_estimators=5)
    assert ensemble < 0.5 * one, (one, ensemble)  # about 0.03 against 0.11


def test_one_autoencoder_score_is_recomputed_by_hand(single):
    detector, X, _ = single
    scores = detector.score_samples(X)
    keep = final_fit_rows(X)
    assert keep.sum() == 567
    # The combined score, recomputed from the default autoencoder on the standardised rows:
    # each feature's residual in units of its usual residual, plus the Mahalanobis distance
    # of the code (the default mixture has one component).
    member = detector.members_[0]
    Xs, Z, residuals = standardised_parts(member, X, keep)
    scale = np.sqrt(np.mean(residuals[keep] ** 2, axis=0))
    centred = Z - Z[keep].mean(0)
    precision = np.linalg.inv(np.atleast_2d(np.cov(Z[keep].T, bias=True)))
    mahalanobis = np.sum(centred @ precision * centred, axis=1)
    combined = np.mean((residuals / scale) ** 2, axis=1) + mahalanobis / Z.shape[1]
    # The mixture's covariance is the maximum-likelihood one (bias=True) plus a floor
    # (reg_covar) that moves the score by a few parts in 10,000.
    np.testing.assert_allclose(-scores, combined, rtol=5e-3)
    # Each part averages 1 over the rows of the final fit, so the score averages 2 there.
    assert np.mean(-scores[keep]) == pytest.approx(2.0, rel=1e-2)
    # reconstruction_error is the autoencoder's own error, whatever the score.
    errors = -member.estimator_.score_samples(Xs)
    np.testing.assert_allclose(detector.reconstruction_error(X), errors, rtol=1e-4)


def test_code_term_is_the_mixtures_log_density():
    X, _ = planted()
    detector = AutoEncoderOutlierDetector(**SINGLE, code_components=3, random_state=0).fit(X)
    keep = final_fit_rows(X)
    member = detector.members_[0]
    _, Z, residuals = standardised_parts(member, X, keep)
    assert member.code_density_.n_components == 3
    log_p = member.code_density_.score_samples((Z - Z[keep].mean(0)) / Z[keep].std(0))
    code_term = -2 / Z.shape[1] * log_p
    code_term += 1 - code_term[keep].mean()  # averages 1 over the rows of the final fit
    scale = np.sqrt(np.mean(residuals[keep] ** 2, axis=0))
    combined = np.mean((residuals / scale) ** 2, axis=1) + code_term
    np.testing.assert_allclose(-detector.score_samples(X), combined, rtol=1e-3)


def test_code_mixture_finds_outliers_between_clusters():
    # Normal rows form three clusters on a plane in 8-d; the outliers lie on the same plane,
    # so they are reconstructed well, but in the empty middle, where one Gaussian is densest.
    rng = np.random.RandomState(0)
    centres = 4 * np.array([[1.0, 0.0], [-0.5, 0.87], [-0.5, -0.87]])
    latent = centres[rng.randint(3, size=600)] + 0.3 * rng.normal(size=(600, 2))
    gap = 0.3 * rng.normal(size=(20, 2))
    plane = rng.normal(size=(2, 8))
    X = np.vstack([latent, gap]) @ plane + 0.05 * rng.normal(size=(620, 8))
    y = np.r_[np.zeros(600), np.ones(20)]
    # A linear autoencoder reconstructs the whole plane, the empty middle included.
    ae = AutoEncoder(2, hidden_layer_sizes=(), activation="identity", max_epochs=60, random_state=0)
    auc = {
        g: roc_auc_score(
            y,
            -AutoEncoderOutlierDetector(ae, **SINGLE, code_components=g, trim=0, random_state=0)
            .fit(X[:600])
            .score_samples(X),
        )
        for g in (1, 3)
    }
    assert auc[3] > 0.95, auc
    assert auc[1] < 0.7, auc


def test_a_tight_cluster_of_outliers_is_trimmed_before_the_mixture():
    # 5 % of the training rows are one tight clump away from the normal blob, on the same
    # plane. A mixture fitted to all the codes gives the clump a component of its own (so it
    # looks normal); the first fit's single Gaussian flags it, so the trim leaves it out.
    rng = np.random.RandomState(0)
    latent = np.vstack([rng.normal(size=(600, 2)), [6.0, 6.0] + 0.05 * rng.normal(size=(30, 2))])
    X = latent @ rng.normal(size=(2, 8)) + 0.05 * rng.normal(size=(630, 8))
    y = np.r_[np.zeros(600), np.ones(30)]
    ae = AutoEncoder(2, hidden_layer_sizes=(), activation="identity", max_epochs=60, random_state=0)

    def clump_components(detector):
        member = detector.members_[0]
        codes = member.estimator_.transform(member.scaler_.transform(X[600:]))
        labels = member.code_density_.predict(member.code_scaler_.transform(codes))
        return member.code_density_.weights_[np.unique(labels)]

    mixture = dict(**SINGLE, code_components=3, random_state=0)
    untrimmed = AutoEncoderOutlierDetector(ae, trim=0, **mixture).fit(X)
    np.testing.assert_allclose(clump_components(untrimmed), [30 / 630], rtol=0.05)
    detector = AutoEncoderOutlierDetector(ae, **mixture).fit(X)
    assert clump_components(detector).min() > 0.2  # no component of its own any more
    assert roc_auc_score(y, -detector.score_samples(X)) > 0.99


@pytest.mark.parametrize("trim", [0.1, 0.0])
def test_the_first_fit_of_a_trim_trains_half_the_epochs(monkeypatch, trim):
    # It only ranks the rows that the trim leaves out (chosen in docs/outliers.md); the final
    # fit trains the estimator as given, and an estimator other than a skae autoencoder (here
    # a Pipeline) fits as it is in both.
    from skae import _outlier_member

    trained = []  # the epochs each fit trained, fit by fit

    def fit_all(estimators, datasets):
        real_fit_all(estimators, datasets)
        autoencoders = [e[-1] if hasattr(e, "steps") else e for e in estimators]
        trained.append([len(ae.history_) for ae in autoencoders])

    real_fit_all = _outlier_member.fit_all
    monkeypatch.setattr(_outlier_member, "fit_all", fit_all)
    X, _ = planted(n_inliers=100, n_outliers=5)
    fast = {**FAST_AE, "max_epochs": 7, "n_iter_no_change": None}
    ae = AutoEncoder(n_components=2, **fast)
    detector = AutoEncoderOutlierDetector(ae, n_estimators=2, trim=trim, random_state=0).fit(X)
    assert trained == ([[4, 4], [7, 7]] if trim else [[7, 7]])
    assert [m.estimator_.max_epochs for m in detector.members_] == [7, 7]
    trained.clear()
    pipeline = make_pipeline(StandardScaler(), AutoEncoder(n_components=2, **fast))
    AutoEncoderOutlierDetector(pipeline, n_estimators=1, trim=trim, random_state=0).fit(X)
    assert trained == ([[7], [7]] if trim else [[7]])
    # An invalid max_epochs is reported as given, not as the first fit's half of it.
    with pytest.raises(ValueError, match="max_epochs.*Got -5"):
        AutoEncoderOutlierDetector(AutoEncoder(max_epochs=-5), trim=trim).fit(X)


def test_reconstruction_score_is_the_autoencoders_error():
    X, y = planted()
    detector = AutoEncoderOutlierDetector(
        AutoEncoder(n_components=4, max_epochs=60),
        n_estimators=3,
        outlier_score="reconstruction",
        random_state=0,
    ).fit(X)
    np.testing.assert_array_equal(detector.score_samples(X), -detector.reconstruction_error(X))
    assert not any(hasattr(member, "residual_scale_") for member in detector.members_)
    assert roc_auc_score(y, detector.reconstruction_error(X)) > 0.99


FITTED = {
    "members_",
    "members_samples_",
    "max_samples_",
    "decision_scores_",
    "offset_",
    "n_features_in_",
}


def fitted_attributes(detector):
    return {name for name in vars(detector) if name.endswith("_") and not name.startswith("__")}


def test_refit_keeps_no_attributes_of_the_previous_fit():
    X, _ = planted()
    detector = AutoEncoderOutlierDetector(AutoEncoder(**FAST_AE), n_estimators=3, random_state=0)
    detector.fit(pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])]))
    assert fitted_attributes(detector) == FITTED | {"feature_names_in_"}
    assert hasattr(detector.members_[0], "code_density_")
    detector.set_params(outlier_score="reconstruction", n_estimators=2, max_samples=1.0).fit(X)
    assert fitted_attributes(detector) == FITTED  # no feature_names_in_ from the first fit
    assert len(detector.members_) == 2 and detector.max_samples_ == len(X)
    assert not any(hasattr(member, "code_density_") for member in detector.members_)


class FailsOnFourthFit(AutoEncoder):
    """An autoencoder whose fourth fit (in all its clones) fails: a failure mid-ensemble."""

    fits = 0

    def fit(self, X, y=None):
        type(self).fits += 1
        if type(self).fits == 4:
            raise RuntimeError("the fourth fit fails")
        return super().fit(X, y)


def test_a_failure_mid_ensemble_leaves_the_previous_fit(fitted):
    detector = clone(fitted[0]).set_params(estimator=AutoEncoder(**FAST_AE), n_estimators=3)
    assert fitted_attributes(detector.fit(fitted[1])) == FITTED
    before, scores = dict(vars(detector)), detector.score_samples(fitted[1])
    detector.set_params(estimator=FailsOnFourthFit(**FAST_AE))
    FailsOnFourthFit.fits = 0
    with pytest.raises(RuntimeError, match="fourth fit"):
        detector.fit(fitted[1])  # the second member's second fit (trim)
    assert FailsOnFourthFit.fits == 4
    assert {k: v for k, v in vars(detector).items() if k.endswith("_")} == {
        k: v for k, v in before.items() if k.endswith("_")
    }
    np.testing.assert_array_equal(detector.score_samples(fitted[1]), scores)
    # An unfitted detector whose fit fails stays unfitted.
    FailsOnFourthFit.fits = 0
    fresh = clone(detector)
    with pytest.raises(RuntimeError, match="fourth fit"):
        fresh.fit(fitted[1])
    assert fitted_attributes(fresh) == set()


def test_any_scorer_with_reconstruction_but_combined_needs_an_autoencoder():
    X, _ = planted()
    forest = AutoEncoderOutlierDetector(
        IsolationForest(), **SINGLE, outlier_score="reconstruction", trim=0, random_state=0
    ).fit(X)
    member = forest.members_[0]
    Xs = member.scaler_.transform(X)
    seed = member.estimator_.random_state  # drawn from the detector's random_state
    np.testing.assert_allclose(
        forest.score_samples(X), IsolationForest(random_state=seed).fit(Xs).score_samples(Xs)
    )
    with pytest.raises(ValueError, match="outlier_score='reconstruction'"):
        AutoEncoderOutlierDetector(IsolationForest()).fit(X)


@pytest.mark.parametrize("contamination", [0.02, 0.1, 0.25])
def test_contamination_sets_the_flagged_fraction(contamination):
    X, _ = planted()
    detector = AutoEncoderOutlierDetector(
        AutoEncoder(**FAST_AE), contamination=contamination, random_state=0
    )
    labels = detector.fit_predict(X)
    assert set(np.unique(labels)) == {-1, 1}
    assert abs(np.mean(labels == -1) - contamination) <= 1 / len(X), np.mean(labels == -1)
    np.testing.assert_array_equal(labels, detector.predict(X))


def test_auto_contamination_is_the_boxplot_fence(fitted):
    detector, X, y = fitted
    errors = detector.decision_scores_
    q1, q3 = np.percentile(errors, [25, 75])
    assert detector.threshold_ == pytest.approx(q3 + 1.5 * (q3 - q1))
    flagged = detector.predict(X) == -1
    # The planted outliers (5 % of the rows) are flagged, and few inliers with them.
    assert flagged[y == 1].mean() > 0.9, flagged[y == 1].mean()
    assert flagged[y == 0].mean() < 0.1, flagged[y == 0].mean()


def test_grid_search_tunes_the_code_size():
    X, y = planted()
    inlier = (y == 0).astype(int)  # roc_auc on decision_function: inliers are the positive class
    search = GridSearchCV(
        AutoEncoderOutlierDetector(AutoEncoder(max_epochs=40), n_estimators=2, random_state=0),
        {"estimator__n_components": [1, 4]},
        scoring="roc_auc",
        cv=StratifiedKFold(2, shuffle=True, random_state=0),
    ).fit(X, inlier)
    scores = search.cv_results_["mean_test_score"]
    assert search.best_params_ == {"estimator__n_components": 4}, scores
    assert scores[1] > 0.9 and scores[1] > scores[0], scores


def test_estimator_is_cloned_not_fitted():
    X, _ = planted(n_inliers=100, n_outliers=5)
    ae = AutoEncoder(**FAST_AE)
    detector = AutoEncoderOutlierDetector(ae, n_estimators=3, random_state=3).fit(X)
    assert not hasattr(ae, "net_") and ae.random_state == 0
    members = [m.estimator_ for m in detector.members_]
    assert all(m is not ae and hasattr(m, "net_") for m in members)
    # Each member has a seed of its own, drawn from the detector's random_state.
    seeds = [m.random_state for m in members]
    assert len(set(seeds)) == 3
    again = AutoEncoderOutlierDetector(ae, n_estimators=3, random_state=3).fit(X)
    assert [m.estimator_.random_state for m in again.members_] == seeds
    np.testing.assert_array_equal(again.score_samples(X), detector.score_samples(X))
    denoising = AutoEncoderOutlierDetector(DenoisingAutoEncoder(**FAST_AE), n_estimators=1).fit(X)
    assert isinstance(denoising.members_[0].estimator_, DenoisingAutoEncoder)


def test_default_autoencoder_follows_the_feature_count():
    X, _ = planted(n_inliers=100, n_outliers=5)
    detector = AutoEncoderOutlierDetector(n_estimators=1, random_state=0).fit(X[:, :9])
    ae = detector.members_[0].estimator_
    assert (ae.n_components, ae.hidden_layer_sizes, ae.activation) == (3, (64, 32), "relu")
    # Chosen on the development sets (docs/outliers.md), with n_estimators=5.
    assert (ae.max_epochs, ae.lr, AutoEncoderOutlierDetector().n_estimators) == (50, 2e-3, 5)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_codes_and_residuals_are_those_of_transform_and_inverse_transform(dtype):
    # Members score from one pass through the network (float64 input) or two calls: either
    # way the codes of transform, decoded in float64, and the residuals in float64.
    X = StandardScaler().fit_transform(planted(n_inliers=200, n_outliers=0)[0]).astype(dtype)
    ae = AutoEncoder(n_components=3, **FAST_AE).fit(X)
    codes = np.asarray(ae.transform(X), dtype=np.float64)
    residuals = X - ae.inverse_transform(codes)
    got_codes, got_residuals = _codes_and_residuals(ae, X)
    np.testing.assert_array_equal(got_codes, codes)
    np.testing.assert_array_equal(got_residuals, residuals)
    scale = np.sqrt(np.mean(residuals**2, axis=0))
    _, off_surface = _codes_and_residuals(ae, X, scale)
    np.testing.assert_allclose(off_surface, np.mean((residuals / scale) ** 2, axis=1), rtol=1e-12)


def test_rows_outside_the_training_range_score_as_outliers(fitted):
    detector, X, _ = fitted
    far = X[:20] + 10 * X.std(0)  # shifted well beyond the training range in every feature
    assert (detector.predict(far) == -1).all()
    assert detector.score_samples(far).max() < detector.score_samples(X).min()


def test_minmax_scaler_and_bce():
    X, y = planted()

    def auc(loss):
        detector = AutoEncoderOutlierDetector(
            AutoEncoder(loss=loss, n_components=4, max_epochs=60),
            **SINGLE,
            scaler="minmax",
            random_state=0,
        ).fit(X)
        return roc_auc_score(y, detector.reconstruction_error(X))

    # bce works on [0, 1]-scaled rows, but its per-row error carries each row's own
    # entropy, which blurs the ranking of continuous data: mse is the better score.
    mse, bce = auc("mse"), auc("bce")
    assert mse > 0.99 and 0.7 < bce < mse, (mse, bce)
    with pytest.raises(ValueError, match="scaler='minmax'"):
        AutoEncoderOutlierDetector(AutoEncoder(loss="bce"), scaler="standard").fit(X)


def test_bad_settings_fail_before_training_and_leave_the_previous_fit(fitted):
    detector = clone(fitted[0]).set_params(estimator=AutoEncoder(loss="bce"))
    detector.offset_ = 1.0
    with pytest.raises(ValueError):
        detector.fit(fitted[1])
    assert detector.offset_ == 1.0 and not hasattr(detector, "members_")


def test_feature_count_is_checked(fitted):
    detector, X, _ = fitted
    with pytest.raises(ValueError, match="features"):
        detector.predict(X[:, :3])


def test_pickle_round_trip(fitted):
    detector, X, _ = fitted
    restored = pickle.loads(pickle.dumps(detector))
    np.testing.assert_array_equal(restored.score_samples(X), detector.score_samples(X))
    assert restored.offset_ == detector.offset_


@pytest.mark.parametrize("max_samples", [2, 0.003])
def test_too_few_rows_per_autoencoder_is_a_clear_error(max_samples):
    X, _ = planted()
    detector = AutoEncoderOutlierDetector(AutoEncoder(**FAST_AE), max_samples=max_samples)
    with pytest.raises(
        ValueError,
        match="autoencoder 1 of the n_samples = 630 training rows|"
        "autoencoder 2 of the n_samples = 630 training rows",
    ):
        detector.fit(X)
    assert fitted_attributes(detector) == set()


def test_global_random_state_untouched_and_reproducible():
    X, _ = planted(n_inliers=200, n_outliers=10)
    torch_state, np_state = torch.random.get_rng_state(), np.random.get_state()[1].copy()
    scores = [
        AutoEncoderOutlierDetector(AutoEncoder(**FAST_AE), n_estimators=2, random_state=seed)
        .fit(X)
        .score_samples(X)
        for seed in (5, 5, None)
    ]
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    np.testing.assert_array_equal(np.random.get_state()[1], np_state)
    np.testing.assert_array_equal(scores[0], scores[1])
    assert not np.allclose(scores[0], scores[2])  # None: fresh seeds


def test_a_members_rows_come_from_its_seed_alone():
    # As in scikit-learn's bagging: more members leave the first members' rows as they were.
    X, _ = planted()
    rows = [
        AutoEncoderOutlierDetector(AutoEncoder(**FAST_AE), n_estimators=n, random_state=0)
        .fit(X)
        .members_samples_
        for n in (1, 3)
    ]
    np.testing.assert_array_equal(rows[0][0], rows[1][0])
    assert not np.array_equal(rows[1][0], rows[1][1])


def test_nested_seeds_are_replaced():
    X, _ = planted(n_inliers=100, n_outliers=5)
    pipeline = make_pipeline(StandardScaler(), AutoEncoder(**FAST_AE))
    detector = AutoEncoderOutlierDetector(pipeline, n_estimators=2, random_state=0).fit(X)
    seeds = [m.estimator_.get_params()["autoencoder__random_state"] for m in detector.members_]
    assert len(set(seeds)) == 2 and 0 not in seeds


@pytest.mark.parametrize("trim", [0.5, -0.1])
def test_trim_is_validated(trim):
    with pytest.raises(ValueError, match="'trim' parameter"):
        AutoEncoderOutlierDetector(trim=trim).fit(planted()[0])
