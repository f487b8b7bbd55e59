"""Validation and fitted-state helpers shared by every skae estimator.

This is the one module that imports scikit-learn's parameter-validation
constraints (a private scikit-learn module): estimators import ``Interval``,
``StrOptions``, ``HasMethods`` and ``RealNotInt`` from here.
"""

from __future__ import annotations

import functools
import inspect
from contextlib import contextmanager
from numbers import Integral

import torch
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import HasMethods, Interval, RealNotInt, StrOptions

from .exceptions import ModelFileError

__all__ = [
    "LAYER_SIZES",
    "HasMethods",
    "Interval",
    "ModuleClass",
    "RealNotInt",
    "StrOptions",
    "all_positive_ints",
    "check_declared_sizes",
    "check_layer_sizes",
    "check_module_class",
    "clear_fitted",
    "fitted_state",
    "fitted_once",
    "fresh_fit",
    "layer_sizes",
    "reads_fitted",
]


def all_positive_ints(values) -> bool:
    """Whether every item of ``values`` is a positive integer (booleans are not)."""
    return all(isinstance(v, Integral) and not isinstance(v, bool) and v > 0 for v in values)


# A layer list parameter: widths, or one int for a single layer (as MLPRegressor takes).
LAYER_SIZES = ["array-like", Interval(Integral, 1, None, closed="left")]


def layer_sizes(value) -> tuple:
    """A ``*_layer_sizes`` parameter as a tuple of widths: an int is one layer, ``None`` none."""
    if value is None:
        return ()
    return (value,) if isinstance(value, Integral) else tuple(value)


def check_layer_sizes(name: str, sizes) -> None:
    """Refuse layer widths that are not positive integers."""
    if not all_positive_ints(layer_sizes(sizes)):
        raise ValueError(f"{name} must be positive integers, got {sizes!r}.")


class ModuleClass(HasMethods):
    """Parameter constraint: a class, meant to be a ``torch.nn.Module`` subclass.

    It accepts any class (:func:`check_module_class` then says when it is not
    a module) and names what to pass when given something else, such as a
    module instance. (scikit-learn has no public base for a constraint of
    one's own; ``HasMethods`` instances are used as they are.)
    """

    def __init__(self):
        super().__init__([])

    def is_satisfied_by(self, val):
        return isinstance(val, type)

    def __str__(self):
        return (
            "a torch.nn.Module class such as torch.nn.ReLU (the class itself, not an "
            "instance such as torch.nn.ReLU(): skae builds one per layer)"
        )


def check_module_class(name: str, value) -> None:
    """Refuse a class given for an activation that is not a ``torch.nn.Module``."""
    if isinstance(value, type) and not issubclass(value, torch.nn.Module):
        raise TypeError(
            f"{name}={value.__name__} is not a torch.nn.Module subclass; pass a name "
            f"such as 'relu' or a module class such as torch.nn.ReLU."
        )


# Parameters that declare a size which some tensor of the module has as a dimension.
_SIZE_PARAMETERS = ("n_components", "n_bits", "kernel_size")


# Parameters added after models were first saved: a pickle or a skae.save file written
# before them loads with their defaults, which reproduce how such models were trained.
PARAMETERS_ADDED_LATER = frozenset({"distributed", "precision", "compile", "n_jobs"})


def added_later_defaults(cls) -> dict:
    """The defaults of ``cls``'s parameters in :data:`PARAMETERS_ADDED_LATER`."""
    parameters = inspect.signature(cls.__init__).parameters
    return {k: parameters[k].default for k in PARAMETERS_ADDED_LATER if k in parameters}


def check_declared_sizes(params: dict, n_tensors: int, largest: int) -> None:
    """Refuse layer lists and sizes that ``n_tensors`` tensors up to ``largest`` wide cannot hold.

    Every layer of a ``*_layer_sizes`` parameter has its own tensors, and
    every width is a dimension of some tensor, so a file declaring a million
    layers, or a width larger than any tensor, is refused at once instead of
    validated entry by entry and built (even on the meta device) into a
    module that cannot match.
    """
    layer_lists = {k: layer_sizes(v) for k, v in params.items() if k.endswith("_layer_sizes")}
    n_layers = sum(len(v) for v in layer_lists.values())
    if n_layers >= max(n_tensors, 1):
        raise ModelFileError(
            f"The parameters declare {n_layers} layers but only {n_tensors} tensors were given."
        )
    sizes = {**layer_lists, **{k: (params[k],) for k in _SIZE_PARAMETERS if k in params}}
    for name, values in sizes.items():
        too_large = [v for v in values if isinstance(v, Integral) and v > largest]
        if too_large:
            raise ModelFileError(
                f"{name} declares a size of {too_large[0]}, larger than any of the {n_tensors} "
                f"tensors given (at most {largest})."
            )


def fitted_state(estimator) -> dict:
    """The estimator's fitted attributes (names ending in ``_``), by name."""
    return {k: v for k, v in vars(estimator).items() if k.endswith("_") and not k.startswith("__")}


def clear_fitted(estimator) -> None:
    """Delete every fitted attribute (see fresh_fit)."""
    for name in fitted_state(estimator):
        delattr(estimator, name)


@contextmanager
def fresh_fit(estimator):
    """The body of a ``fit``: it starts from no fitted attributes; failing, it changes nothing.

    Starting clean keeps a refit with other parameters from carrying attributes that
    only the previous fit made. If the body raises, ``KeyboardInterrupt`` included,
    the half-made attributes go and the previous fit's come back, so a failed or
    interrupted refit loses nothing (fit builds new fitted objects; it never
    changes the previous ones in place).
    """
    previous = fitted_state(estimator)
    clear_fitted(estimator)
    try:
        yield
    except BaseException:
        clear_fitted(estimator)
        vars(estimator).update(previous)
        raise


def fitted_once(attribute: str):
    """A ``__sklearn_is_fitted__`` that tests the one attribute ``fit`` sets last.

    ``check_is_fitted`` would otherwise iterate ``vars(self)``, which a refit
    in another thread may be changing at the same moment.
    """

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, attribute)

    return __sklearn_is_fitted__


def reads_fitted(method):
    """Make a fitted attribute that vanishes during ``method`` a ``NotFittedError``.

    ``fit`` starts by clearing the fitted attributes (see fresh_fit), so a
    method running while another thread refits the same estimator can find
    one gone after ``check_is_fitted`` passed; it then raises what an
    unfitted estimator raises, not an ``AttributeError`` about an internal.
    """

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except AttributeError as exc:
            name = getattr(exc, "name", None) or ""
            if (
                isinstance(exc, NotFittedError)
                or getattr(exc, "obj", None) is not self
                or not name.endswith("_")
            ):
                raise
            raise NotFittedError(
                f"This {type(self).__name__} lost its fitted attribute {name} during the call: "
                "another thread is refitting it. Fit one copy per thread (sklearn.base.clone)."
            ) from exc

    return wrapper
