"""The plain state of a fitted estimator: the tree ``skae.save`` writes and ``skae.load`` rebuilds.

An estimator becomes a *node*, a JSON object with

- ``class``: its class name, from an allow-list: skae's autoencoders and
  applications, and the few parts inside them (the outlier detector's
  members, scikit-learn's ``StandardScaler``, ``MinMaxScaler`` and
  ``GaussianMixture``, and ``FrozenEstimator``);
- ``params``: its constructor's parameters as JSON data; a parameter holding
  an estimator (a template autoencoder, a ``FrozenEstimator``) is a node;
- ``attributes``, when it is fitted: the fitted attributes its class
  declares in ``_attribute_kinds_``, each checked against its kind. Arrays
  are kept beside the JSON by name; fitted parts are nodes;
- ``history`` and ``device``, when it holds a trained network, whose tensors
  are kept beside the JSON too.

The tensors of the node at path ``p/`` are named ``p/<module tensor>`` and
its arrays ``p/@<attribute>``. The root's path is empty, so an autoencoder's
tensors keep their module names.

Kinds: ``count``, ``float``, ``floats``, ``floats_or_none``, ``names``,
``shape``, ``bool``, ``str``, ``labels``, ``array:<dtype kinds>``,
``arrays:<dtype kinds>``, ``part`` and ``parts``; a trailing ``?`` means
the attribute may be absent or ``None``.
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers

import numpy as np
from sklearn.frozen import FrozenEstimator
from sklearn.mixture import GaussianMixture
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from ._discovery import all_estimators
from ._outlier_member import OutlierMember
from ._utils import PARAMETERS_ADDED_LATER, check_declared_sizes, fitted_state
from .exceptions import ModelFileError

# The fitted attributes kept of the scikit-learn objects inside skae's estimators: what
# their transform, score_samples and clone need.
_SKLEARN_PARTS = {
    StandardScaler: {
        "n_features_in_": "count",
        "n_samples_seen_": "float",
        "mean_": "array:f?",
        "var_": "array:f?",
        "scale_": "array:f?",
    },
    MinMaxScaler: {
        "n_features_in_": "count",
        "n_samples_seen_": "count",
        "min_": "array:f",
        "scale_": "array:f",
        "data_min_": "array:f",
        "data_max_": "array:f",
        "data_range_": "array:f",
    },
    GaussianMixture: {
        "n_features_in_": "count",
        "weights_": "array:f",
        "means_": "array:f",
        "covariances_": "array:f",
        "precisions_cholesky_": "array:f",
        "precisions_": "array:f",
        "converged_": "bool",
        "n_iter_": "count",
        "lower_bound_": "float",
    },
    FrozenEstimator: {},
}
_PARTS = (OutlierMember, *_SKLEARN_PARTS)

# A detector of 256 members is the largest file; each net costs about a millisecond to
# rebuild, so a small file cannot make loading slow by declaring thousands.
MAX_NETS = 256
_MAX_NODES = 8 * MAX_NETS
# The deepest legitimate tree: classifier -> FrozenEstimator -> autoencoder, or
# detector -> member -> autoencoder.
_MAX_NODE_DEPTH = 4
# save writes parameters nested a few levels deep at most (a list of tuples).
_MAX_DEPTH = 16


@functools.cache
def classes() -> dict:
    """Every class a node may name, by name (fixed once skae is imported: computed once)."""
    return {cls.__name__: cls for cls in (*dict(all_estimators()).values(), *_PARTS)}


def is_root(cls) -> bool:
    """Whether ``skae.save`` stores estimators of class ``cls``."""
    return dict(all_estimators()).get(cls.__name__) is cls


# The fields of a node.
NODE_FIELDS = ("class", "params", "attributes", "history", "device")


def _part_path(where: str, index=None) -> str:
    """The path of the part held by attribute ``where`` (item ``index`` of a list of parts)."""
    return f"{where}/" if index is None else f"{where}.{index}/"


def _array_key(where: str) -> str:
    """The name of attribute ``where``'s array: ``p/@name`` for attribute ``name`` at ``p/``."""
    head, _, name = where.rpartition("/")
    return f"{head}/@{name}" if head else f"@{name}"


def attribute_kinds(cls) -> dict:
    """The fitted attributes of ``cls`` that are saved, with the kind of value of each."""
    if cls in _SKLEARN_PARTS:
        return _SKLEARN_PARTS[cls]
    kinds: dict = {}
    for klass in reversed(cls.__mro__):
        kinds.update(klass.__dict__.get("_attribute_kinds_", {}))
    return kinds


def _param_names(cls) -> list:
    if hasattr(cls, "_get_param_names"):
        return cls._get_param_names()
    return [p for p in inspect.signature(cls).parameters]


def _is_fitted(obj) -> bool:
    """scikit-learn's test (check_is_fitted), also for an OutlierMember, not an estimator."""
    if hasattr(obj, "__sklearn_is_fitted__"):
        return obj.__sklearn_is_fitted__()
    return bool(fitted_state(obj))


# -- plain values -------------------------------------------------------------------------
def encode(value, where: str):
    """``value`` as JSON data; tuples and string arrays are tagged so that they come back."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        if not math.isfinite(value):
            raise ValueError(f"{where}={value!r} is not finite and cannot be saved.")
        return float(value)
    if isinstance(value, tuple):
        return {"tuple": [encode(v, where) for v in value]}
    if isinstance(value, list):
        return [encode(v, where) for v in value]
    if isinstance(value, np.ndarray) and value.dtype.kind in "OU" and value.ndim == 1:
        return {"str_array": [encode(str(v), where) for v in value]}
    raise TypeError(
        f"{where}={value!r} is not plain data (None, bool, int, float, str, list or tuple), "
        "so skae.save cannot store it without pickling code. Use joblib.dump/pickle for "
        "trusted use, or set the parameter to a built-in option."
    )


def decode(value, depth: int = 0):
    """The inverse of :func:`encode`, refusing anything ``encode`` never writes."""
    if depth > _MAX_DEPTH:
        raise ModelFileError(
            f"A value is nested deeper than skae.save writes ({_MAX_DEPTH} levels)."
        )
    if isinstance(value, list):
        return [decode(v, depth + 1) for v in value]
    if isinstance(value, dict):
        if set(value) == {"tuple"} and isinstance(value["tuple"], list):
            return tuple(decode(v, depth + 1) for v in value["tuple"])
        if set(value) == {"str_array"} and isinstance(value["str_array"], list):
            if not all(isinstance(v, str) for v in value["str_array"]):
                raise ModelFileError("A string array holds a value that is not a string.")
            return np.asarray(value["str_array"], dtype=object)
        raise ModelFileError(f"Unknown encoded value with keys {sorted(value)[:5]}.")
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise ModelFileError(f"Unexpected value of type {type(value).__name__}.")


def _is_float(v) -> bool:
    # JSON reads 1e999 as infinity; save never writes a value that is not finite.
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def is_count(v) -> bool:
    """Whether ``v`` is a JSON count: an int, not a bool, at least 0."""
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


_PLAIN_KINDS = {
    "count": is_count,
    "float": _is_float,
    "bool": lambda v: isinstance(v, bool),
    "str": lambda v: isinstance(v, str),
    "floats": lambda v: isinstance(v, list) and all(_is_float(x) for x in v),
    "floats_or_none": lambda v: v is None or isinstance(v, list) and all(_is_float(x) for x in v),
    "names": lambda v: isinstance(v, np.ndarray) and v.dtype == object,
    "shape": lambda v: isinstance(v, (list, tuple)) and all(is_count(x) and x > 0 for x in v),
}


# -- describe: estimator -> node and arrays -----------------------------------------------
def describe(estimator) -> tuple[dict, dict]:
    """The root node of ``estimator`` and every array and tensor it refers to, by name."""
    arrays: dict = {}
    node = _describe(estimator, "", arrays, 0)
    n_nets = sum("history" in part for part in _nodes(node))
    if n_nets > MAX_NETS:
        raise ValueError(
            f"{type(estimator).__name__} holds {n_nets} networks, more than skae.load accepts "
            f"({MAX_NETS}); use joblib.dump for this model."
        )
    return node, arrays


def _nodes(node: dict):
    """``node`` and every node inside it."""
    yield node
    for value in [*node["params"].values(), *node.get("attributes", {}).values()]:
        if isinstance(value, dict):
            for part in value.get("parts", [value[k] for k in ("estimator", "part") if k in value]):
                yield from _nodes(part)


def _refuse_object(value, where: str):
    allowed = sorted(classes())
    raise TypeError(
        f"{where} holds a {type(value).__name__}, which skae.save cannot store without pickling "
        f"code: it stores {', '.join(allowed)}. Use joblib.dump/pickle for trusted use."
    )


def _describe(obj, path: str, arrays: dict, depth: int) -> dict:
    cls = type(obj)
    if classes().get(cls.__name__) is not cls or depth > _MAX_NODE_DEPTH:
        _refuse_object(obj, path.rstrip("/") or "the estimator")
    node = {"class": cls.__name__, "params": {}}
    for name in _param_names(cls):
        value = getattr(obj, name)
        if hasattr(value, "get_params") or isinstance(value, OutlierMember):
            node["params"][name] = {
                "estimator": _describe(value, f"{path}{name}/", arrays, depth + 1)
            }
        else:
            node["params"][name] = encode(value, name)
    if not _is_fitted(obj):
        return node
    node["attributes"] = {}
    for name, kind in attribute_kinds(cls).items():
        if hasattr(obj, name):
            node["attributes"][name] = _describe_attribute(
                getattr(obj, name), kind, f"{path}{name}", arrays, depth
            )
    if hasattr(cls, "_get_net_state"):
        state = obj._get_net_state()
        node["history"], node["device"] = state["history"], state["device"]
        arrays.update({path + k: v for k, v in state["weights"].items()})
    return node


def _describe_attribute(value, kind: str, where: str, arrays: dict, depth: int):
    base = kind.rstrip("?")
    if value is None:
        return None
    key = _array_key(where)
    if base == "part":
        return {"part": _describe(value, _part_path(where), arrays, depth + 1)}
    if base == "parts":
        return {
            "parts": [
                _describe(v, _part_path(where, i), arrays, depth + 1) for i, v in enumerate(value)
            ]
        }
    if base.startswith("arrays"):
        keys = [f"{key}.{i}" for i in range(len(value))]
        arrays.update({k: np.ascontiguousarray(v) for k, v in zip(keys, value, strict=True)})
        return {"arrays": keys}
    if base.startswith("array") or base == "labels" and np.asarray(value).dtype.kind in "biuf":
        arrays[key] = np.ascontiguousarray(value)
        return {"array": key}
    if base == "labels":
        return encode(np.asarray(value, dtype=object), where)
    return encode(value, where)


# -- restore: node and arrays -> estimator ------------------------------------------------
class _Tensors:
    """The file's arrays and tensors, each handed out once; what is left over is refused.

    Indexed once by path, so that a file of many parts costs time linear in its size.
    """

    def __init__(self, arrays: dict, device):
        self.arrays = arrays
        self.device = device
        self.unused = set(arrays)
        self.nodes = self.nets = 0
        self.nets_at: dict = {}  # path -> {module tensor name: array}
        self.sizes_at: dict = {}  # path -> (tensors at or under it, their largest dimension)
        for key, array in arrays.items():
            if key.count("/") > _MAX_NODE_DEPTH + 1:
                raise ModelFileError(
                    f"The tensor name {key[:80]!r} nests deeper than skae.save writes."
                )
            path, _, name = key.rpartition("/")
            if "@" not in name:
                self.nets_at.setdefault(path + "/" if path else "", {})[name] = array
            largest = max(array.shape, default=1)
            for end in [i + 1 for i, c in enumerate(key) if c == "/"] + [0]:
                count, most = self.sizes_at.get(key[:end], (0, 0))
                self.sizes_at[key[:end]] = (count + 1, max(most, largest))

    def sizes_under(self, path: str) -> tuple:
        # A template (unfitted) has no tensors of its own: it declares no more than the file holds.
        return self.sizes_at.get(path) or self.sizes_at.get("", (0, 0))

    def take(self, key: str, kinds: str) -> np.ndarray:
        if key not in self.unused:
            raise ModelFileError(f"The array {key!r} is missing or used twice.")
        self.unused.discard(key)
        array = self.arrays[key]
        if kinds and array.dtype.kind not in kinds:
            raise ModelFileError(
                f"The array {key!r} has dtype {array.dtype}, not one skae saves there."
            )
        return array

    def take_net(self, path: str) -> dict:
        weights = self.nets_at.pop(path, {})
        self.unused.difference_update(path + name for name in weights)
        return weights


# What format version 1 (skae before 0.2) called the outlier detector's members.
_V1_NAMES = {"estimators_": "members_", "estimators_samples_": "members_samples_"}


def upgrade(node, arrays: dict, version: int) -> tuple:
    """``node`` and ``arrays`` of a file of format ``version``, in the current names.

    Version 1 named the detector's members ``estimators_`` (of class
    ``AutoEncoderScorer``) and their rows ``estimators_samples_``; nothing
    else changed.
    """
    attributes = node.get("attributes") if isinstance(node, dict) else None
    if version >= 2 or not isinstance(attributes, dict):
        return node, arrays
    if node.get("class") != "AutoEncoderOutlierDetector":
        return node, arrays
    attributes = {_V1_NAMES.get(k, k): v for k, v in attributes.items()}
    members = attributes.get("members_")
    if isinstance(members, dict) and isinstance(members.get("parts"), list):
        parts = [
            {**p, "class": "OutlierMember"}
            if isinstance(p, dict) and p.get("class") == "AutoEncoderScorer"
            else p
            for p in members["parts"]
        ]
        attributes["members_"] = {**members, "parts": parts}
    samples = attributes.get("members_samples_")
    if isinstance(samples, dict) and isinstance(samples.get("arrays"), list):
        attributes["members_samples_"] = {"arrays": [_renamed(k) for k in samples["arrays"]]}
    return {**node, "attributes": attributes}, {_renamed(k): v for k, v in arrays.items()}


def _renamed(key):
    if not isinstance(key, str):
        return key
    for old, new in _V1_NAMES.items():
        for prefix in ("", "@"):
            if key.startswith(f"{prefix}{old}."):
                return f"{prefix}{new}.{key[len(prefix) + len(old) + 1 :]}"
    return key


def restore(node: dict, arrays: dict, device=None):
    """The estimator that ``node`` describes, built from ``arrays`` and checked strictly.

    ``device`` overrides where each network goes (by default the device it
    was saved from, when available here).
    """
    tensors = _Tensors(arrays, device)
    cls = classes().get(node.get("class")) if isinstance(node, dict) else None
    if cls is None or not is_root(cls):
        names = sorted(name for name, cls in classes().items() if is_root(cls))
        raise ModelFileError(f"Unknown estimator class {node.get('class')!r}; skae loads {names}.")
    estimator = _restore(node, "", tensors, 0)
    if tensors.unused:
        raise ModelFileError(
            f"The file holds tensors that no part uses: {sorted(tensors.unused)[:5]}."
        )
    return estimator


def field(mapping: dict, key: str, kind, where: str):
    """``mapping[key]``, refused unless it is there and a ``kind`` (a bool is no int)."""
    value = mapping.get(key)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
        raise ModelFileError(f"The field {key!r} of {where} is missing or of the wrong type.")
    return value


def _restore(node, path: str, tensors: _Tensors, depth: int):
    tensors.nodes += 1
    if depth > _MAX_NODE_DEPTH or tensors.nodes > _MAX_NODES:
        raise ModelFileError(
            f"The file nests more parts than skae.save writes ({_MAX_NODES} at most)."
        )
    if not isinstance(node, dict) or not set(node) <= set(NODE_FIELDS):
        raise ModelFileError(
            f"The part at {path or 'the root'} is not a description skae.save writes."
        )
    name = field(node, "class", str, f"the part at {path or 'the root'}")
    cls = classes().get(name)
    if cls is None:
        raise ModelFileError(f"Unknown class {name!r} in the file; skae loads {sorted(classes())}.")
    params = {
        k: _restore_param(v, f"{path}{k}/", tensors, depth)
        for k, v in field(node, "params", dict, f"a {name}").items()
    }
    names = set(_param_names(cls))
    # scikit-learn's own parts may come from a version with fewer parameters.
    missing = names - set(params) if cls.__module__.startswith("skae.") else set()
    missing -= PARAMETERS_ADDED_LATER  # files written before them: the defaults apply
    if set(params) - names or missing:
        raise ModelFileError(f"The parameters of the {name} in the file do not match {name}'s.")
    obj = cls(**params)  # only stores them
    # Before validating (or building) a million declared layers one by one; an estimator
    # says which of its parameters shape its network (_shape_params).
    shape_params = obj._shape_params() if hasattr(obj, "_shape_params") else params
    check_declared_sizes(shape_params, *tensors.sizes_under(path))
    for check in ("_validate_params", "_check_params"):
        if hasattr(cls, check):
            getattr(obj, check)()
    fitted = "attributes" in node
    if fitted:
        vars(obj).update(
            _restore_attributes(
                cls, field(node, "attributes", dict, f"a {name}"), path, tensors, depth
            )
        )
    if hasattr(cls, "_set_net_state") and fitted:
        tensors.nets += 1
        if tensors.nets > MAX_NETS:
            raise ModelFileError(
                f"The file holds more than {MAX_NETS} networks, more than skae.save writes."
            )
        history = field(node, "history", list, f"a {name}")
        if not all(isinstance(row, dict) for row in history):
            raise ModelFileError("The training history must be a list of objects.")
        obj._set_net_state(
            {
                "weights": tensors.take_net(path),
                "history": history,
                "device": tensors.device or str(node.get("device")),
            }
        )
    elif "history" in node or "device" in node:
        raise ModelFileError(f"The {name} in the file has a network where it cannot hold one.")
    if fitted:
        _check_consistent(obj)
    return obj


def _restore_param(value, path: str, tensors: _Tensors, depth: int):
    if isinstance(value, dict) and set(value) == {"estimator"}:
        return _restore(value["estimator"], path, tensors, depth + 1)
    return decode(value)


def _restore_attributes(cls, attributes: dict, path: str, tensors: _Tensors, depth: int) -> dict:
    kinds = attribute_kinds(cls)
    required = {name for name, kind in kinds.items() if not kind.endswith("?")}
    if not required <= set(attributes) <= set(kinds):
        raise ModelFileError(
            f"The fitted attributes {sorted(attributes)[:20]} do not match {cls.__name__}'s "
            f"{sorted(kinds)}."
        )
    out = {}
    for name, value in attributes.items():
        kind = kinds[name]
        try:
            out[name] = _restore_attribute(value, kind, f"{path}{name}", tensors, depth)
        except (TypeError, KeyError, AttributeError) as exc:
            raise ModelFileError(f"The fitted attribute {name} is not a {kind} value.") from exc
    # What save writes is consistent; so must be what load accepts.
    n_features = out.get("n_features_in_")
    names = out.get("feature_names_in_")
    if names is not None and n_features is not None and len(names) != n_features:
        raise ModelFileError(
            f"feature_names_in_ has {len(names)} names but n_features_in_ is {n_features}."
        )
    shape = out.get("image_shape_")
    if shape is not None and math.prod(shape) != n_features:
        raise ModelFileError(
            f"image_shape_ {list(shape)} does not hold n_features_in_={n_features} values."
        )
    return out


def _restore_attribute(value, kind: str, where: str, tensors: _Tensors, depth: int):
    base = kind.rstrip("?")
    if value is None:
        if kind.endswith("?") or base == "floats_or_none":
            return None
        raise ModelFileError(f"The fitted attribute {where} is None, which save never writes.")
    key = _array_key(where)
    if base in ("part", "parts"):
        parts = [value["part"]] if base == "part" else value["parts"]
        if not isinstance(parts, list) or len(parts) > MAX_NETS:
            raise ModelFileError(f"{where} is not a list of at most {MAX_NETS} parts.")
        if not all(isinstance(part, dict) and "attributes" in part for part in parts):
            raise ModelFileError(
                f"{where} holds a part that is not fitted; save writes fitted parts only."
            )
        paths = (
            [_part_path(where)]
            if base == "part"
            else [_part_path(where, i) for i in range(len(parts))]
        )
        restored = [
            _restore(part, p, tensors, depth + 1) for part, p in zip(parts, paths, strict=True)
        ]
        return restored[0] if base == "part" else restored
    if base.startswith("arrays"):
        keys = value["arrays"]
        if keys != [f"{key}.{i}" for i in range(len(keys))]:
            raise ModelFileError(f"{where} names arrays that are not its own.")
        return [tensors.take(k, base.partition(":")[2]) for k in keys]
    if (
        base.startswith("array")
        or base == "labels"
        and isinstance(value, dict)
        and "array" in value
    ):
        if set(value) != {"array"} or value["array"] != key:
            raise ModelFileError(f"{where} names an array that is not its own.")
        return tensors.take(key, base.partition(":")[2] or "biuf")
    decoded = decode(value)
    if base == "labels":
        base = "names"
    if not _PLAIN_KINDS[base](decoded):
        raise ModelFileError(f"The fitted attribute {where} has a value of the wrong type.")
    return decoded


def _check_consistent(obj) -> None:
    """Refuse fitted parts whose arrays do not fit together (save never writes such)."""
    if isinstance(obj, (StandardScaler, MinMaxScaler)):
        arrays = [v for k, v in vars(obj).items() if k.endswith("_") and isinstance(v, np.ndarray)]
        if any(a.shape != (obj.n_features_in_,) for a in arrays):
            raise ModelFileError(
                f"A {type(obj).__name__}'s statistics do not have one value per feature."
            )
    elif isinstance(obj, GaussianMixture):
        k, d = len(obj.weights_), obj.n_features_in_
        expected = {
            "weights_": (k,),
            "means_": (k, d),
            "covariances_": (k, d, d),
            "precisions_cholesky_": (k, d, d),
            "precisions_": (k, d, d),
        }
        if obj.covariance_type != "full" or any(
            getattr(obj, a).shape != s for a, s in expected.items()
        ):
            raise ModelFileError("A Gaussian mixture's arrays do not fit its full covariances.")
    elif hasattr(type(obj), "_check_restored"):
        obj._check_restored()
