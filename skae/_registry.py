"""The public skae estimators, registered as their classes are defined."""

from __future__ import annotations

import importlib

_REGISTRY: dict[str, type] = {}


def register(cls) -> None:
    """Record ``cls`` if it is a public estimator defined in skae itself."""
    if cls.__module__.startswith("skae.") and not cls.__name__.startswith("_"):
        _REGISTRY[cls.__name__] = cls


def is_registered(cls) -> bool:
    """Whether ``cls`` is one of the registered skae estimators (not a lookalike by name)."""
    return _REGISTRY.get(cls.__name__) is cls


def all_estimators() -> dict:
    """The public skae estimator classes, by name.

    Every class defined in skae on top of the common base registers itself,
    so persistence (:func:`skae.load`'s allow-list), ``skae compare`` and the
    test suite cover new estimators without being edited.

    Returns
    -------
    estimators : dict of str to class
        Sorted by name; every estimator module is imported first.

    Examples
    --------
    >>> import skae
    >>> "AutoEncoder" in skae.all_estimators()
    True
    """
    import skae  # the package imports its modules on first use; defining a class registers it

    for module in sorted(set(skae._EXPORTS.values())):
        importlib.import_module(module, "skae")
    return dict(sorted(_REGISTRY.items()))
