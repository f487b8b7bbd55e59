"""skae.save/load for the applications: outlier detector, classifier, regressor, HammingIndex."""

import copy
import json
import pickle
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from model_files import FUZZ, consistent, load_bytes, load_with_any_value, parts, rezip
from safetensors.numpy import load as load_arrays
from sklearn.decomposition import PCA
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skae
from skae import AutoEncoder, ModelFileError

AE = dict(n_components=3, hidden_layer_sizes=(8,), max_epochs=3, batch_size=32, random_state=0)
HEAD = dict(head_layer_sizes=(), max_epochs=5, random_state=0)


def applications(X, digit):
    """Each application in the configurations whose files differ in shape, with its ``y``."""
    return {
        "detector": (
            skae.AutoEncoderOutlierDetector(AutoEncoder(**AE), n_estimators=2, random_state=0),
            None,
        ),
        "detector reconstruction minmax": (
            skae.AutoEncoderOutlierDetector(
                AutoEncoder(**AE),
                n_estimators=2,
                outlier_score="reconstruction",
                scaler="minmax",
                random_state=0,
            ),
            None,
        ),
        "detector scaler instance, mixture": (
            skae.AutoEncoderOutlierDetector(
                AutoEncoder(**AE),
                n_estimators=1,
                scaler=StandardScaler(),
                code_components=2,
                random_state=0,
            ),
            None,
        ),
        "classifier": (
            skae.AutoEncoderClassifier(AutoEncoder(**AE), **HEAD),
            np.array(list("abcdefghij"))[digit],
        ),
        "classifier on a frozen autoencoder": (
            skae.AutoEncoderClassifier(FrozenEstimator(AutoEncoder(**AE).fit(X)), **HEAD),
            digit,
        ),
        "regressor, two outputs": (
            skae.AutoEncoderRegressor(AutoEncoder(**AE), freeze_encoder=False, **HEAD),
            X[:, [10, 30]],
        ),
        "index of a hashing autoencoder": (
            skae.HammingIndex(
                skae.HashingAutoEncoder(
                    n_bits=16, hidden_layer_sizes=(8,), max_epochs=2, random_state=0
                )
            ),
            None,
        ),
        "index of raw bits": (skae.HammingIndex(n_neighbors=3), None),
    }


def outputs(estimator, X):
    """What the estimator is for, on ``X``."""
    if hasattr(estimator, "kneighbors"):
        return estimator.kneighbors(X[:40])
    if hasattr(estimator, "predict_proba"):
        return estimator.predict_proba(X), estimator.predict(X)
    if hasattr(estimator, "score_samples"):
        return estimator.score_samples(X), estimator.predict(X)
    return (estimator.predict(X),)


@pytest.fixture(scope="module")
def saved(digits, tmp_path_factory):
    """Every application fitted on 300 digits and saved: name -> (estimator, path)."""
    X, digit = digits[0][:300], digits[1][:300]
    folder = tmp_path_factory.mktemp("applications")
    out = {}
    for i, (name, (estimator, y)) in enumerate(applications(X, digit).items()):
        estimator.fit(X, y)
        skae.save(estimator, folder / f"{i}.skae")
        out[name] = (estimator, folder / f"{i}.skae")
    return out


def test_every_application_loads_in_a_fresh_process_with_equal_outputs(saved, digits, tmp_path):
    X = digits[0][:300]
    np.save(tmp_path / "X.npy", X)
    paths = [str(path) for _, path in saved.values()]
    code = textwrap.dedent(f"""
        import pickle, sys, numpy as np, skae
        sys.path.insert(0, {str(__file__.rsplit("/", 1)[0])!r})
        from test_saving_applications import outputs
        X = np.load({str(tmp_path / "X.npy")!r})
        results = [outputs(skae.load(path), X) for path in {paths!r}]
        pickle.dump(results, open({str(tmp_path / "out.pkl")!r}, "wb"))
    """)
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)
    with open(tmp_path / "out.pkl", "rb") as f:
        results = pickle.load(f)  # written by the child above
    for (name, (estimator, _)), got in zip(saved.items(), results, strict=True):
        for expected, value in zip(outputs(estimator, X), got, strict=True):
            np.testing.assert_array_equal(value, expected, err_msg=name)


def test_loaded_application_keeps_its_type_parameters_and_attributes(saved):
    for name, (estimator, path) in saved.items():
        loaded = skae.load(path)
        assert type(loaded) is type(estimator), name
        assert set(loaded.get_params(deep=False)) == set(estimator.get_params(deep=False))
    detector, path = saved["detector"]
    loaded = skae.load(path)
    assert loaded.offset_ == detector.offset_ and loaded.max_samples_ == detector.max_samples_
    np.testing.assert_array_equal(loaded.decision_scores_, detector.decision_scores_)
    for a, b in zip(loaded.members_samples_, detector.members_samples_, strict=True):
        np.testing.assert_array_equal(a, b)
    classifier = skae.load(saved["classifier"][1])
    assert list(classifier.classes_) == list("abcdefghij")
    assert isinstance(
        skae.load(saved["classifier on a frozen autoencoder"][1]).estimator, FrozenEstimator
    )


def test_a_detector_file_of_format_1_loads_under_the_new_names(saved, digits, tmp_path):
    """Format 1 called the members estimators_ (AutoEncoderScorer): such files still load."""
    detector, path = saved["detector"]
    config, blob = parts(path.read_bytes())
    old = {"members_": "estimators_", "members_samples_": "estimators_samples_"}

    def renamed(key):
        for new, was in old.items():
            for prefix in ("", "@"):
                if key.startswith(f"{prefix}{new}."):
                    return f"{prefix}{was}.{key[len(prefix) + len(new) + 1 :]}"
        return key

    attributes = {old.get(k, k): v for k, v in config["attributes"].items()}
    for part in attributes["estimators_"]["parts"]:
        part["class"] = "AutoEncoderScorer"
    samples = attributes["estimators_samples_"]["arrays"]
    attributes["estimators_samples_"] = {"arrays": [renamed(k) for k in samples]}
    arrays = {renamed(k): v for k, v in load_arrays(blob).items()}
    assert any(k.startswith("estimators_.0/") for k in arrays)
    v1 = {**config, "format_version": 1, "attributes": attributes}
    loaded = load_bytes(rezip(*consistent(v1, arrays)), tmp_path)
    X = digits[0][:300]
    assert len(loaded.members_) == len(detector.members_)
    np.testing.assert_array_equal(loaded.score_samples(X), detector.score_samples(X))


def test_save_refuses_parts_it_cannot_store_without_pickle(digits, tmp_path):
    X = digits[0][:200]
    pipeline = make_pipeline(StandardScaler(), AutoEncoder(**AE))
    detector = skae.AutoEncoderOutlierDetector(
        pipeline, n_estimators=1, outlier_score="reconstruction"
    ).fit(X)
    with pytest.raises(TypeError, match="estimator holds a Pipeline.*joblib.dump"):
        skae.save(detector, tmp_path / "d.skae")
    index = skae.HammingIndex(PCA(8)).fit(X)
    with pytest.raises(TypeError, match="hasher holds a PCA.*joblib.dump"):
        skae.save(index, tmp_path / "i.skae")
    assert not list(tmp_path.iterdir())


def test_save_refuses_more_networks_than_load_accepts(digits, tmp_path, monkeypatch):
    from skae import _state

    detector = skae.AutoEncoderOutlierDetector(AutoEncoder(**AE), n_estimators=3, random_state=0)
    detector.fit(digits[0][:200])
    monkeypatch.setattr(_state, "MAX_NETS", 2)
    with pytest.raises(ValueError, match="holds 3 networks, more than skae.load accepts"):
        skae.save(detector, tmp_path / "d.skae")


# -- hostile files ------------------------------------------------------------------------
def member(config, i=0):
    return config["attributes"]["members_"]["parts"][i]


def edit(change):
    """A mutation of the JSON only."""

    def mutate(config, blob):
        config = copy.deepcopy(config)
        change(config)
        return config, blob

    return mutate


def edit_arrays(change):
    """A mutation of the arrays, with checksum and manifest made to agree."""

    def mutate(config, blob):
        arrays = dict(load_arrays(blob))
        change(config, arrays)
        return consistent(config, arrays)

    return mutate


def repeat_members(n):
    """The detector's first member declared ``n`` times, each with its own tensors."""

    def change(config, arrays):
        text = json.dumps(member(config))
        config["attributes"]["members_"]["parts"] = [
            json.loads(text.replace("members_.0/", f"members_.{i}/")) for i in range(n)
        ]
        config["attributes"]["members_samples_"]["arrays"] = [
            f"@members_samples_.{i}" for i in range(n)
        ]
        config["params"]["n_estimators"] = n
        first = {
            k: v for k, v in arrays.items() if "members_.0/" in k or k == "@members_samples_.0"
        }
        for k in first:
            del arrays[k]
        for i in range(n):
            arrays.update({k.replace(".0", f".{i}", 1): v for k, v in first.items()})

    return edit_arrays(change)


def deep_frozen(config):
    node = config["params"]["estimator"]["estimator"]
    for _ in range(6):
        node = {
            "class": "FrozenEstimator",
            "params": {"estimator": {"estimator": node}},
            "attributes": {},
        }
    config["params"]["estimator"] = {"estimator": node}


DETECTOR_HOSTILE = {
    "part of a class outside the allow-list": (
        edit(lambda c: member(c).update({"class": "Pipeline"})),
        "Unknown class 'Pipeline'",
    ),
    "mixture that is not full": (
        edit(
            lambda c: member(c)["attributes"]["code_density_"]["part"]["params"].update(
                covariance_type="diag"
            )
        ),
        "full covariances",
    ),
    "member with other settings": (
        edit(lambda c: member(c)["params"].update(outlier_score="reconstruction")),
        "settings differ",
    ),
    "fewer members than declared": (edit(lambda c: c["params"].update(n_estimators=5)), "members"),
    "array of another part": (
        edit(
            lambda c: member(c)["attributes"].update(residual_scale_={"array": "@decision_scores_"})
        ),
        "not its own",
    ),
    "network in a part that has none": (
        edit(lambda c: member(c).update(history=[])),
        "cannot hold one",
    ),
    "no fitted attributes": (edit(lambda c: c.pop("attributes")), "no fitted attributes"),
    "unfitted member": (edit(lambda c: member(c).pop("attributes")), "not fitted"),
    "unused tensor": (
        edit_arrays(lambda c, a: a.update(extra=np.zeros(3, np.float32))),
        "no part uses",
    ),
    "integer scores": (
        edit_arrays(lambda c, a: a.update({"@decision_scores_": np.zeros(3, np.int64)})),
        "dtype int64",
    ),
    "scaler of the wrong width": (
        edit_arrays(lambda c, a: a.update({"members_.0/scaler_/@mean_": np.zeros(3)})),
        "one value per feature",
    ),
    "tensor names nested deep": (
        edit_arrays(lambda c, a: a.update({"a/" * 8 + "w": np.zeros(1, np.float32)})),
        "nests deeper",
    ),
    "300 members": (repeat_members(300), "at most 256 parts"),
}


@pytest.mark.parametrize("name", DETECTOR_HOSTILE)
def test_hostile_detector_files_are_refused(name, saved, tmp_path):
    mutate, match = DETECTOR_HOSTILE[name]
    config, blob = mutate(*parts(saved["detector"][1].read_bytes()))
    start = time.perf_counter()
    with pytest.raises(ModelFileError, match=match):
        load_bytes(rezip(config, blob), tmp_path)
    assert time.perf_counter() - start < 1.0


def test_a_megabyte_detector_of_many_members_loads_within_seconds(tmp_path):
    # The most members a file under 1 MiB can declare: tiny autoencoders on 3 features.
    X = np.random.default_rng(0).normal(size=(40, 3))
    tiny = AutoEncoder(n_components=1, hidden_layer_sizes=(), max_epochs=1, random_state=0)
    detector = skae.AutoEncoderOutlierDetector(
        tiny, n_estimators=1, max_samples=1.0, random_state=0
    ).fit(X)
    skae.save(detector, tmp_path / "one.skae")
    config, blob = repeat_members(140)(*parts((tmp_path / "one.skae").read_bytes()))
    path = tmp_path / "many.skae"
    path.write_bytes(rezip(config, blob))
    assert path.stat().st_size < 2**20
    # Timed in a fresh process, after the imports that any program using skae pays once; the
    # best of three loads, so that a moment's load on a shared machine does not count.
    code = textwrap.dedent(f"""
        import time, skae
        skae.load, skae.all_estimators()
        times = []
        for _ in range(3):
            start = time.perf_counter()
            n_members = len(skae.load({str(path)!r}).members_)
            times.append(time.perf_counter() - start)
        print(n_members, min(times))
    """)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    n_members, seconds = result.stdout.split()
    # 1.0 s on the 2-vCPU VM on a slow day (it passed under 1 s before): 2 s leaves shared CI
    # machines room, and still fails a load that grew with the members' count squared.
    assert n_members == "140" and float(seconds) < 2.0, seconds


OTHER_HOSTILE = {
    "classifier on frozen parts nested deep": (
        "classifier on a frozen autoencoder",
        edit(deep_frozen),
        "nests more",
    ),
    "regressor's statistics of the wrong width": (
        "regressor, two outputs",
        edit_arrays(lambda c, a: a.update({"@_target_mean_": np.zeros(3)})),
        "one value per output",
    ),
    "classifier with an object as a class label": (
        "classifier",
        edit(lambda c: c["attributes"].update(classes_={"py/object": "os.system"})),
        "Unknown encoded value",
    ),
    "index codes of the wrong shape": (
        "index of raw bits",
        edit_arrays(lambda c, a: a.update({"@codes_": np.zeros((2, 1), np.uint64)})),
        "codes_",
    ),
    "index codes that are floats": (
        "index of raw bits",
        edit_arrays(lambda c, a: a.update({"@codes_": np.zeros((300, 1))})),
        "dtype float64",
    ),
}


@pytest.mark.parametrize("name", OTHER_HOSTILE)
def test_hostile_classifier_regressor_and_index_files_are_refused(name, saved, tmp_path):
    which, mutate, match = OTHER_HOSTILE[name]
    config, blob = mutate(*parts(saved[which][1].read_bytes()))
    with pytest.raises(ModelFileError, match=match):
        load_bytes(rezip(config, blob), tmp_path)


def dicts(value):
    """Every JSON object inside ``value``, ``value`` included."""
    if isinstance(value, dict):
        yield value
        value = list(value.values())
    if isinstance(value, list):
        for inner in value:
            yield from dicts(inner)


@FUZZ
@given(data=st.data())
def test_fuzz_application_trees(data, saved, tmp_path):
    """Consistent files (valid zip and checksum) with arbitrary JSON anywhere in their tree."""
    name = data.draw(st.sampled_from(sorted(saved)))
    config, blob = parts(saved[name][1].read_bytes())
    target = data.draw(st.sampled_from(list(dicts(config))))
    load_with_any_value(data, config, blob, target, tmp_path)
