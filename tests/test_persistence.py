"""Pickle, skops, skae.save/load and ONNX export."""

import io
import json
import os
import pickle
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest
import torch
from estimators import small_autoencoders
from hypothesis import given
from hypothesis import strategies as st
from model_files import FUZZ, JSON_VALUES, consistent, load_bytes, load_with_any_value, parts, rezip
from safetensors.numpy import load as load_arrays
from torch import nn

import skae
from skae import AutoEncoder, ModelFileError

SMALL = dict(n_components=3, hidden_layer_sizes=(16,), max_epochs=3, random_state=0)


@pytest.fixture(scope="module")
def fitted(digits):
    return AutoEncoder(**SMALL).fit(digits[0])


@pytest.fixture(scope="module")
def model_bytes(fitted, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "ae.skae"
    skae.save(fitted, path)
    return path.read_bytes()


# -- pickle and skops ----------------------------------------------------------------------
# Every global a pickled skae estimator may name (protocols 2 to 5): its class,
# numpy's array reconstruction and, for protocol 2, the encoding of bytes.
PLAIN_GLOBALS = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.numeric", "_frombuffer"),
    ("numpy.core.numeric", "_frombuffer"),
    ("_codecs", "encode"),
} | {(cls.__module__, cls.__name__) for _, cls in skae.all_estimators(type_filter="transformer")}


class OnlyPlainData(pickle.Unpickler):
    """Refuses every global outside ``PLAIN_GLOBALS``, matched on module and name exactly."""

    def find_class(self, module, name):
        if (module, name) in PLAIN_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refused {module}.{name}")


def test_plain_data_unpickler_refuses_lookalike_globals():
    # STACK_GLOBAL with a skae module and a dotted name would reach os.system.
    hostile = (
        pickle.PROTO
        + bytes([4])
        + b"".join(
            pickle.SHORT_BINUNICODE + bytes([len(x)]) + x for x in (b"skae._io", b"os.system")
        )
        + pickle.STACK_GLOBAL
        + pickle.SHORT_BINUNICODE
        + b"\x04true"
        + pickle.TUPLE1
        + pickle.REDUCE
        + pickle.STOP
    )
    with pytest.raises(pickle.UnpicklingError, match="refused skae._io.os.system"):
        OnlyPlainData(io.BytesIO(hostile)).load()
    with pytest.raises(pickle.UnpicklingError, match="refused"):
        OnlyPlainData(io.BytesIO(pickle.dumps(os.getcwd))).load()


def test_pickle_state_is_plain_data(fitted, digits):
    X = digits[0]
    restored = OnlyPlainData(io.BytesIO(pickle.dumps(fitted))).load()
    np.testing.assert_array_equal(restored.transform(X), fitted.transform(X))
    assert restored.n_iter_ == fitted.n_iter_
    assert restored.history_[-1, "train_loss"] == fitted.history_[-1, "train_loss"]


def test_unpickling_leaves_global_rng_alone(fitted):
    data = pickle.dumps(fitted)
    state = torch.random.get_rng_state()
    pickle.loads(data)
    assert torch.equal(state, torch.random.get_rng_state())


def test_skops_trusts_only_skae(digits, tmp_path):
    pd = pytest.importorskip("pandas")
    sio = pytest.importorskip("skops.io")
    X = pd.DataFrame(digits[0], columns=[f"px{i}" for i in range(64)])
    ae = AutoEncoder(**SMALL).fit(X)
    path = tmp_path / "ae.skops"
    sio.dump(ae, path)
    untrusted = sio.get_untrusted_types(file=path)
    assert untrusted == ["skae._autoencoder.AutoEncoder"]
    loaded = sio.load(path, trusted=untrusted)
    np.testing.assert_array_equal(loaded.transform(X), ae.transform(X))
    assert list(loaded.feature_names_in_) == list(X.columns)


# -- skae.save / skae.load ------------------------------------------------------------------
def test_save_load_roundtrip(fitted, digits, tmp_path):
    X = digits[0]
    skae.save(fitted, tmp_path / "ae.skae")
    loaded = skae.load(tmp_path / "ae.skae", device="cpu")
    assert type(loaded) is AutoEncoder
    assert loaded.get_params() == fitted.get_params()
    np.testing.assert_array_equal(loaded.transform(X), fitted.transform(X))
    np.testing.assert_array_equal(loaded.score_samples(X), fitted.score_samples(X))
    assert loaded.loss_curve_ == fitted.loss_curve_
    with zipfile.ZipFile(tmp_path / "ae.skae") as zf:
        assert sorted(zf.namelist()) == ["skae.json", "weights.safetensors"]
        config = json.loads(zf.read("skae.json"))
    assert config["class"] == "AutoEncoder" and config["format_version"] == 2
    assert set(config["versions"]) >= {"skae", "torch", "scikit-learn"}


def test_save_refuses_python_objects(digits, tmp_path):
    X = digits[0]
    for params in ({"activation": nn.Tanh}, {"random_state": np.random.RandomState(0)}):
        ae = AutoEncoder(**{**SMALL, **params}).fit(X)
        with pytest.raises(TypeError, match="joblib"):
            skae.save(ae, tmp_path / "x.skae")
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_save_needs_fitted_estimator(tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        skae.save(AutoEncoder(), tmp_path / "x.skae")


def wrong_shape(config, blob):
    arrays = dict(load_arrays(blob))
    name = sorted(arrays)[0]
    arrays[name] = np.zeros((1,) + arrays[name].shape, np.float32)
    return consistent(config, arrays)


MUTATIONS = {
    "unknown class": (lambda c, b: ({**c, "class": "os.system"}, b), "Unknown estimator class"),
    "future version": (lambda c, b: ({**c, "format_version": 99}, b), "newer"),
    "not plain data": (
        lambda c, b: (
            {**c, "params": {**c["params"], "activation": {"py/object": "os.system"}}},
            b,
        ),
        "Unknown encoded value",
    ),
    "bad parameter value": (
        lambda c, b: ({**c, "params": {**c["params"], "activation": "rm -rf"}}, b),
        "valid AutoEncoder",
    ),
    "missing parameter": (
        lambda c, b: ({**c, "params": {k: v for k, v in c["params"].items() if k != "lr"}}, b),
        "parameters",
    ),
    "modified checksum": (
        lambda c, b: ({**c, "sha256": {"weights.safetensors": "0" * 64}}, b),
        "checksum",
    ),
    "altered weights": (lambda c, b: (c, b[:-4] + b"\x00\x00\x80\x7f"), "checksum"),
    "wrong tensor shape": (wrong_shape, "shape"),
    "wrong attribute type": (
        lambda c, b: ({**c, "attributes": {**c["attributes"], "n_iter_": "many"}}, b),
        "n_iter_",
    ),
    "not a format": (lambda c, b: ({**c, "format": "pickle"}, b), "not a skae model"),
    "many layers": (
        lambda c, b: (
            {**c, "params": {**c["params"], "hidden_layer_sizes": {"tuple": [4] * 10**5}}},
            b,
        ),
        "layers",
    ),
}


@pytest.mark.parametrize("name", MUTATIONS)
def test_load_refuses_tampered_files(name, model_bytes, tmp_path):
    mutate, match = MUTATIONS[name]
    config, blob = mutate(*parts(model_bytes))
    with pytest.raises(ModelFileError, match=match):
        load_bytes(rezip(config, blob), tmp_path)


@pytest.mark.parametrize(
    "data",
    [b"", b"PK\x03\x04", b"not a zip at all", b"\x80\x04\x95 pickle-looking bytes"],
    ids=["empty", "zip-magic", "text", "pickle"],
)
def test_load_refuses_non_model_files(data, tmp_path):
    with pytest.raises(ModelFileError):
        load_bytes(data, tmp_path)


def test_load_refuses_truncated_and_extra_members(model_bytes, tmp_path):
    for cut in (10, len(model_bytes) // 2, len(model_bytes) - 10):
        with pytest.raises(ModelFileError):
            load_bytes(model_bytes[:cut], tmp_path)
    config, blob = parts(model_bytes)
    buffer = io.BytesIO(rezip(config, blob))
    with zipfile.ZipFile(buffer, "a") as zf:
        zf.writestr("payload.pkl", b"x")
    with pytest.raises(ModelFileError, match="members"):
        load_bytes(buffer.getvalue(), tmp_path)


def test_load_refuses_zip_bomb_member(model_bytes, tmp_path, monkeypatch):
    import skae._io as skae_io

    monkeypatch.setattr(skae_io, "_MAX_WEIGHTS_BYTES", 1000)
    with pytest.raises(ModelFileError, match="allowed"):
        load_bytes(model_bytes, tmp_path)


# -- hostile files: bounded time and memory, one error type ---------------------------------
def with_manifest_entry(config, blob, name, entry):
    return {**config, "tensors": {**config["tensors"], name: entry}}, blob


def nan_weight(config, blob):
    arrays = dict(load_arrays(blob))
    name = sorted(arrays)[0]
    arrays[name] = arrays[name].copy()
    arrays[name].flat[0] = np.nan
    return consistent(config, arrays)


def nested(depth):
    value = 4
    for _ in range(depth):
        value = [value]
    return value


HOSTILE = {
    "600-deep parameter": (
        lambda c, b: ({**c, "params": {**c["params"], "penalties": nested(600)}}, b),
        "nested deeper",
    ),
    "5000-deep parameter": (
        lambda c, b: ({**c, "params": {**c["params"], "penalties": "DEEP"}}, b),
        "JSON",
    ),
    "5000-digit integer": (
        lambda c, b: ({**c, "params": {**c["params"], "max_epochs": "DIGITS"}}, b),
        "JSON",
    ),
    "callback that is a string": (
        lambda c, b: ({**c, "params": {**c["params"], "callbacks": ["x"]}}, b),
        "valid AutoEncoder",
    ),
    "manifest shape not a list": (
        lambda c, b: with_manifest_entry(
            c, b, sorted(c["tensors"])[0], {"shape": 5, "dtype": "float32"}
        ),
        "shape",
    ),
    "manifest dtype": (
        lambda c, b: with_manifest_entry(
            c, b, sorted(c["tensors"])[0], {"shape": [2], "dtype": "object"}
        ),
        "dtype",
    ),
    "huge n_components": (
        lambda c, b: ({**c, "params": {**c["params"], "n_components": 2**62}}, b),
        "larger than any",
    ),
    "wide layer": (
        lambda c, b: (
            {**c, "params": {**c["params"], "hidden_layer_sizes": {"tuple": [10**12]}}},
            b,
        ),
        "larger than any",
    ),
    "NaN weight": (nan_weight, "NaN"),
    "infinite loss": (
        lambda c, b: ({**c, "attributes": {**c["attributes"], "best_loss_": 1e999}}, b),
        "best_loss_",
    ),
    "feature names of the wrong length": (
        lambda c, b: (
            {
                **c,
                "attributes": {**c["attributes"], "feature_names_in_": {"str_array": ["a", "b"]}},
            },
            b,
        ),
        "feature_names_in_",
    ),
    "tensor declared huge": (
        lambda c, b: with_manifest_entry(
            c, b, "big", {"shape": [2**40, 2**10], "dtype": "float32"}
        ),
        "more than allowed",
    ),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_configs_raise_model_file_error(name, model_bytes, tmp_path):
    mutate, match = HOSTILE[name]
    config, blob = mutate(*parts(model_bytes))
    text = json.dumps(config)  # json.dumps writes 1e999 as Infinity; the file says 1e999
    text = text.replace("Infinity", "1e999").replace('"DEEP"', "[" * 5000 + "4" + "]" * 5000)
    text = text.replace('"DIGITS"', "9" * 5000)
    with pytest.raises(ModelFileError, match=match):
        load_bytes(rezip(config, blob, text), tmp_path)


def test_every_failure_is_a_model_file_error_with_its_cause(tmp_path):
    with pytest.raises(ModelFileError, match="FileNotFoundError") as info:
        skae.load(tmp_path / "missing.skae")
    assert isinstance(info.value.__cause__, FileNotFoundError)


def test_conv_image_shape_must_hold_the_features(digits, tmp_path):
    conv = skae.ConvAutoEncoder(
        n_components=2, hidden_layer_sizes=(2,), max_epochs=1, random_state=0
    )
    skae.save(conv.fit(digits[0][:50]), tmp_path / "c.skae")
    config, blob = parts((tmp_path / "c.skae").read_bytes())
    for bad in ([1.5, 8, 8], [1, 8, 9]):
        config["attributes"]["image_shape_"] = bad
        with pytest.raises(ModelFileError, match="image_shape_"):
            load_bytes(rezip(config, blob), tmp_path)


def test_a_million_declared_layers_are_refused_before_building(digits, tmp_path):
    """An adversarial autoencoder declaring 10**6 discriminator layers: once 120 s and 3.3 GB."""

    aae = skae.AdversarialAutoEncoder(
        n_components=2, hidden_layer_sizes=(8,), max_epochs=1, random_state=0
    )
    skae.save(aae.fit(digits[0][:50]), tmp_path / "a.skae")
    config, blob = parts((tmp_path / "a.skae").read_bytes())
    config["params"]["discriminator_hidden_layer_sizes"] = {"tuple": [1] * 10**6}
    data = rezip(config, blob)
    start = time.perf_counter()
    with pytest.raises(ModelFileError, match="layers"):
        load_bytes(data, tmp_path)
    assert time.perf_counter() - start < 1.0


def test_skops_file_declaring_many_layers_is_refused_fast(fitted, tmp_path):
    import copy

    sio = pytest.importorskip("skops.io")
    hostile = copy.deepcopy(fitted)
    hostile.hidden_layer_sizes = (1,) * 30_000
    data = sio.dumps(hostile)
    start = time.perf_counter()
    with pytest.raises(ModelFileError, match="layers"):
        sio.loads(data, trusted=sio.get_untrusted_types(data=data))
    assert time.perf_counter() - start < 5.0


def bomb(config, n_bytes, lie):
    """A model file whose weights member inflates to ``n_bytes`` of zeros (deflate)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("skae.json", json.dumps(config))
        with zf.open("weights.safetensors", "w") as f:
            chunk = bytes(2**20)
            for _ in range(n_bytes // 2**20):
                f.write(chunk)
    data = bytearray(buffer.getvalue())
    if lie:  # the central directory claims 100 bytes: only the read bound protects
        entry = data.rindex(b"PK\x01\x02")  # the weights' central directory record
        data[entry + 24 : entry + 28] = (100).to_bytes(4, "little")
    return bytes(data)


@pytest.mark.parametrize("lie", [False, True], ids=["honest-header", "lying-header"])
def test_zip_bomb_costs_bounded_time_and_memory(lie, model_bytes, tmp_path):
    """200 MiB of zeros in a ~200 KB file; once it was decompressed whole, then copied."""

    config, _ = parts(model_bytes)
    path = tmp_path / "bomb.skae"
    path.write_bytes(bomb(config, 200 * 2**20, lie))
    assert path.stat().st_size < 2**20
    script = f"""
import resource, time, skae
skae.load, skae.all_estimators()  # the modules load needs, imported on first use
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
try:
    skae.load({str(path)!r})
except skae.ModelFileError as exc:
    print("refused:", exc)
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(time.perf_counter() - start, grown / 1024)
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    refused, figures = out.stdout.strip().splitlines()
    # An honest header is refused on its claimed size; a lying one stops zipfile after the
    # claimed bytes, whose CRC then fails.
    assert refused.startswith("refused:") and ("Bad CRC-32" if lie else "claims") in refused, (
        refused
    )
    seconds, megabytes = map(float, figures.split())
    assert seconds < 1.0 and megabytes < 100, (seconds, megabytes)


def test_other_compression_methods_are_refused(model_bytes, tmp_path):
    config, blob = parts(model_bytes)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_BZIP2) as zf:
        zf.writestr("skae.json", json.dumps(config))
        zf.writestr("weights.safetensors", blob)
    with pytest.raises(ModelFileError, match="zip method 12"):
        load_bytes(buffer.getvalue(), tmp_path)


def check_loads_same_or_refuses(data, tmp_path, fitted, X):
    try:
        loaded = load_bytes(data, tmp_path)
    except ModelFileError:
        return
    # A mutation that left the content intact (e.g. in zip metadata) must load the same model.
    np.testing.assert_array_equal(loaded.transform(X), fitted.transform(X))


@FUZZ
@given(data=st.data())
def test_fuzz_byte_mutations(data, model_bytes, tmp_path, fitted, digits):
    raw = bytearray(model_bytes)
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        raw[pos] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        raw = raw[: data.draw(st.integers(0, len(raw)))]
    check_loads_same_or_refuses(bytes(raw), tmp_path, fitted, digits[0][:20])


@FUZZ
@given(data=st.data())
def test_fuzz_config_values(data, model_bytes, tmp_path):
    """Consistent files (valid zip and checksum) with arbitrary JSON in one field."""
    config, blob = parts(model_bytes)
    section = data.draw(st.sampled_from(["params", "attributes", "tensors", "top"]))
    target = config if section == "top" else config[section]
    load_with_any_value(data, config, blob, target, tmp_path)


def hostile_file(config, blob, kind, size, method, value):
    """A model file of one hostile shape (see test_fuzz_hostile_shapes)."""
    config = json.loads(json.dumps(config))
    if kind == "layers":  # a huge declared layer list
        config["params"]["hidden_layer_sizes"] = {"tuple": [1] * size}
    elif kind == "nesting":  # deep nesting, built as text: json.dumps cannot write it
        config["params"]["penalties"] = "DEEP"
    elif kind == "manifest":  # a wrong JSON type in the manifest
        name = sorted(config["tensors"])[size % len(config["tensors"])]
        field = ("shape", "dtype")[size % 2]
        config["tensors"][name] = {**config["tensors"][name], field: value}
    text = json.dumps(config).replace('"DEEP"', "[" * size + "1" + "]" * size)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as zf:
        zf.writestr("skae.json", text)
        if kind == "bomb":  # a compressed bomb: ``size`` MiB of zeros
            with zf.open("weights.safetensors", "w") as f:
                for _ in range(size):
                    f.write(bytes(2**20))
        else:
            zf.writestr("weights.safetensors", blob)
    return buffer.getvalue()


@FUZZ
@given(
    kind=st.sampled_from(["layers", "nesting", "manifest", "bomb"]),
    size=st.integers(17, 20_000),
    method=st.sampled_from(
        [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]
    ),
    value=JSON_VALUES,
)
def test_fuzz_hostile_shapes(kind, size, method, value, model_bytes, tmp_path):
    """Bombs, huge layer lists, deep nesting, wrong manifest types: refused, at once."""

    if kind == "bomb":
        size = 1 + size % 8
        if method == zipfile.ZIP_STORED:
            method = zipfile.ZIP_DEFLATED
    config, blob = parts(model_bytes)
    data = hostile_file(config, blob, kind, size, method, value)
    start = time.perf_counter()
    try:
        load_bytes(data, tmp_path)
    except ModelFileError:
        pass
    else:  # only a manifest value equal to the true one may load, and only uncompressed or deflated
        assert kind == "manifest" and method in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
    assert time.perf_counter() - start < 1.0


# -- every estimator, by construction -----------------------------------------------------
@pytest.mark.parametrize("estimator", small_autoencoders(), ids=lambda e: type(e).__name__)
def test_every_estimator_persists(estimator, digits, tmp_path):
    X = digits[0][:300]
    fitted = estimator.fit(X)
    expected = fitted.transform(X)
    for protocol in (2, 4, 5):
        restored = OnlyPlainData(io.BytesIO(pickle.dumps(fitted, protocol=protocol))).load()
        np.testing.assert_array_equal(restored.transform(X), expected)
    skae.save(fitted, tmp_path / "m.skae")
    np.testing.assert_array_equal(skae.load(tmp_path / "m.skae").transform(X), expected)
    sio = pytest.importorskip("skops.io")
    data = sio.dumps(fitted)
    assert sio.get_untrusted_types(data=data) == [
        f"{type(fitted).__module__}.{type(fitted).__name__}"
    ]


def test_a_fresh_process_loads_a_class_it_has_not_imported(digits, tmp_path):
    # skae imports its modules on first use; load must still know every class. A loaded
    # model only predicts: it builds no optimizer, whose first construction imports
    # torch._dynamo (about 1.5 s).
    conv = next(e for e in small_autoencoders() if type(e).__name__ == "ConvAutoEncoder")
    skae.save(conv.fit(digits[0][:100]), tmp_path / "conv.skae")
    code = (
        "import sys, skae; assert 'skae._conv' not in sys.modules; "
        f"model = skae.load({str(tmp_path / 'conv.skae')!r}); "
        "print(type(model).__name__, len(skae.all_estimators()), 'torch._dynamo' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["ConvAutoEncoder", str(len(skae.all_estimators())), "False"]


# -- ONNX ---------------------------------------------------------------------------------
@pytest.mark.parametrize("part", ["encoder", "decoder", "full"])
def test_onnx_matches_transform(part, fitted, digits, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    X = digits[0].astype(np.float32)
    path = skae.to_onnx(fitted, tmp_path / f"{part}.onnx", part=part)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for rows in (X[:1], X[:33], X):  # the batch dimension is dynamic
        codes = fitted.transform(rows)
        inputs, expected = {
            "encoder": (rows, codes),
            "decoder": (codes, fitted.inverse_transform(codes)),
            "full": (rows, fitted.inverse_transform(codes)),
        }[part]
        (out,) = session.run(None, {"X": inputs})
        np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


def test_onnx_refuses_what_is_not_one_network_and_says_what_to_export(digits, tmp_path):
    X, y = digits
    ae = dict(n_components=2, hidden_layer_sizes=(8,), max_epochs=1, random_state=0)
    cases = {
        "members_\\[i\\].estimator_": skae.AutoEncoderOutlierDetector(
            AutoEncoder(**ae), n_estimators=2
        ),
        "clf.estimator_": skae.AutoEncoderClassifier(AutoEncoder(**ae), max_epochs=1),
        "reg.estimator_": skae.AutoEncoderRegressor(AutoEncoder(**ae), max_epochs=1),
        "HashingAutoEncoder": skae.HammingIndex(),
    }
    for advice, estimator in cases.items():
        estimator.fit(X[:100], y[:100].astype(float))
        with pytest.raises(TypeError, match=advice):
            skae.to_onnx(estimator, tmp_path / "x.onnx")
    with pytest.raises(TypeError, match="not a skae autoencoder"):
        skae.to_onnx(
            __import__("sklearn.decomposition").decomposition.PCA(2).fit(X), tmp_path / "x.onnx"
        )
    assert not (tmp_path / "x.onnx").exists()


def test_onnx_rejects_unknown_part(fitted, tmp_path):
    with pytest.raises(ValueError, match="part="):
        skae.to_onnx(fitted, tmp_path / "x.onnx", part="middle")


# -- what save and load do with the file system ---------------------------------------------
def test_save_gives_the_usual_mode_and_keeps_an_existing_one(fitted, tmp_path):
    path = tmp_path / "ae.skae"
    skae.save(fitted, path)
    umask = os.umask(0o022)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask
    os.chmod(path, 0o640)
    skae.save(fitted, path)
    assert os.stat(path).st_mode & 0o777 == 0o640


def test_save_writes_through_a_symlink(fitted, digits, tmp_path):
    (tmp_path / "models").mkdir()
    link = tmp_path / "latest.skae"
    link.symlink_to(tmp_path / "models" / "v1.skae")
    skae.save(fitted, link)
    assert link.is_symlink() and (tmp_path / "models" / "v1.skae").is_file()
    np.testing.assert_array_equal(skae.load(link).transform(digits[0]), fitted.transform(digits[0]))


def test_failed_save_leaves_the_old_file_and_no_temporary(fitted, tmp_path, monkeypatch):
    path = tmp_path / "ae.skae"
    skae.save(fitted, path)
    before = path.read_bytes()

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(zipfile.ZipFile, "writestr", fail)
    with pytest.raises(OSError, match="disk full"):
        skae.save(fitted, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ae.skae"]


@pytest.mark.parametrize("kind", ["fifo", "device", "directory"])
def test_load_refuses_what_is_not_a_regular_file_at_once(kind, tmp_path):
    if kind == "fifo":
        if not hasattr(os, "mkfifo"):
            pytest.skip("no FIFOs here")
        path = tmp_path / "pipe"
        os.mkfifo(path)  # opening it for reading would block until a writer comes
    elif kind == "device":
        path = "/dev/zero"  # reading it never ends
        if not os.path.exists(path):
            pytest.skip("no /dev/zero here")
    else:
        path = tmp_path
    with pytest.raises(ModelFileError, match="not a regular file"):
        skae.load(path)
