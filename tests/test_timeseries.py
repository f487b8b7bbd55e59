"""TimeSeriesOutlierDetector: a score per timestamp that finds a planted anomaly."""

import pickle

import numpy as np
import pytest
from model_files import consistent, load_bytes, parts, rezip
from safetensors.numpy import load as load_arrays

import skae
from skae import ModelFileError, SequenceAutoEncoder, TimeSeriesOutlierDetector
from skae._timeseries import period_window

SMALL_AE = dict(n_components=4, hidden_layer_sizes=(16,), max_epochs=15, lr=1e-2)


def seasonal(n, period=25, channels=1, seed=0):
    rng = np.random.RandomState(seed)
    t = np.arange(n)[:, None]
    phases = np.arange(channels)[None, :]
    return np.sin(2 * np.pi * t / period + phases) + 0.05 * rng.normal(size=(n, channels))


@pytest.fixture(scope="module")
def planted():
    """A training series, and a test series whose timestamps 500-519 hold a flattened cycle."""
    train, test = seasonal(800)[:, 0], seasonal(1000, seed=1)[:, 0]
    test[500:520] = 0.0
    detector = TimeSeriesOutlierDetector(SequenceAutoEncoder(**SMALL_AE), stride=2, random_state=0)
    return detector.fit(train), test


def test_the_most_anomalous_timestamp_falls_in_the_planted_region(planted):
    detector, test = planted
    scores = detector.score_samples(test)
    assert scores.shape == (1000,) and scores.dtype == np.float64
    assert detector.window_size_ == 25  # the period, found by the autocorrelation
    assert 500 - 25 <= int(np.argmin(scores)) < 520 + 25
    # The region stands out: its mean score is far below the rest's.
    inside, outside = scores[500:520].mean(), np.delete(scores, np.s_[475:545]).mean()
    assert inside < outside - 5 * np.delete(scores, np.s_[475:545]).std()
    labels = detector.predict(test)
    assert set(np.unique(labels)) <= {-1, 1} and (labels[500:520] == -1).mean() > 0.5
    assert (labels[:400] == 1).mean() > 0.95
    np.testing.assert_allclose(detector.decision_function(test), scores - detector.offset_)


def test_max_aggregation_marks_every_timestamp_of_an_abnormal_window(planted):
    detector, test = planted
    mean_scores = detector.score_samples(test)
    max_scores = detector.set_params(score_aggregation="max").score_samples(test)
    detector.set_params(score_aggregation="mean")
    assert (max_scores <= mean_scores + 1e-12).all()  # the worst window is at least the mean
    assert 475 <= int(np.argmin(max_scores)) < 545


def test_every_timestamp_is_covered_whatever_the_stride():
    series = seasonal(101)[:, 0]
    detector = TimeSeriesOutlierDetector(
        SequenceAutoEncoder(**{**SMALL_AE, "max_epochs": 1}), window_size=10, stride=7
    ).fit(series)
    starts = detector._starts(101)
    assert starts[0] == 0 and starts[-1] == 91 and np.isfinite(detector.score_samples(series)).all()


def test_several_channels():
    train, test = seasonal(400, channels=3), seasonal(300, channels=3, seed=1)
    detector = TimeSeriesOutlierDetector(
        SequenceAutoEncoder(**{**SMALL_AE, "max_epochs": 2}), stride=4, random_state=0
    ).fit(train)
    assert detector.n_features_in_ == 3 and detector.score_samples(test).shape == (300,)
    with pytest.raises(ValueError, match="3 features"):
        detector.score_samples(test[:, :2])


def test_the_automatic_window_is_the_period_or_a_fallback():
    assert period_window(seasonal(1000, period=40), 250) == 40
    noise = np.random.RandomState(0).normal(size=(1000, 1))
    assert period_window(noise, 250) is None
    detector = TimeSeriesOutlierDetector(SequenceAutoEncoder(**{**SMALL_AE, "max_epochs": 1}))
    assert detector.fit(noise[:200]).window_size_ == 32


def test_series_too_short_are_refused():
    detector = TimeSeriesOutlierDetector(
        SequenceAutoEncoder(**{**SMALL_AE, "max_epochs": 1}), window_size=50
    )
    with pytest.raises(ValueError, match="too few for windows of 50"):
        detector.fit(np.zeros(50))
    detector.fit(seasonal(200)[:, 0])
    with pytest.raises(ValueError, match="fewer than one window"):
        detector.score_samples(np.zeros(30))


def test_round_trips_through_pickle_and_skae_save(planted, tmp_path):
    detector, test = planted
    scores = detector.score_samples(test)
    skae.save(detector, tmp_path / "d.skae")
    for loaded in (pickle.loads(pickle.dumps(detector)), skae.load(tmp_path / "d.skae")):
        np.testing.assert_array_equal(loaded.score_samples(test), scores)


@pytest.mark.parametrize(
    ("array", "value", "match"),
    [
        ("@scale_", np.ones(3), "one value per channel"),
        ("@mean_", np.zeros(2), "one value per channel"),
        ("@scale_", np.zeros(1), "must be positive"),
    ],
)
def test_a_file_whose_standardisation_does_not_fit_is_refused(
    planted, tmp_path, array, value, match
):
    skae.save(planted[0], tmp_path / "d.skae")
    config, blob = parts((tmp_path / "d.skae").read_bytes())
    arrays = dict(load_arrays(blob))
    arrays[array] = value
    with pytest.raises(ModelFileError, match=match):
        load_bytes(rezip(*consistent(config, arrays)), tmp_path)
