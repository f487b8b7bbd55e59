"""``all_estimators``: the public skae estimators, in scikit-learn's shape."""

from __future__ import annotations

# type_filter name -> the scikit-learn mixin that marks it.
_TYPES = {
    "classifier": "ClassifierMixin",
    "regressor": "RegressorMixin",
    "transformer": "TransformerMixin",
    "outlier_detector": "OutlierMixin",
}


def all_estimators(type_filter=None) -> list[tuple[str, type]]:
    """The public skae estimator classes, as ``sklearn.utils.discovery.all_estimators`` lists them.

    Parameters
    ----------
    type_filter : {"classifier", "regressor", "transformer", "outlier_detector"}, \
            list of those, or None, default=None
        Only the estimators of these kinds; ``None`` lists all of them. The
        autoencoders are the transformers.

    Returns
    -------
    estimators : list of (str, type)
        ``(name, class)`` pairs, sorted by name: every public estimator, the
        ones listed in ``skae.__all__``.

    Examples
    --------
    >>> import skae
    >>> [name for name, _ in skae.all_estimators(type_filter="classifier")]
    ['AutoEncoderClassifier']
    >>> len(skae.all_estimators(type_filter="transformer"))
    10
    """
    import sklearn.base

    import skae

    kinds = [type_filter] if isinstance(type_filter, str) else list(type_filter or [])
    unknown = [kind for kind in kinds if kind not in _TYPES]
    if unknown:
        raise ValueError(
            f"type_filter must hold some of {sorted(_TYPES)} or be None; got {unknown}."
        )
    mixins = tuple(getattr(sklearn.base, _TYPES[kind]) for kind in kinds)
    estimators = []
    for name in sorted(skae.__all__):
        obj = getattr(skae, name)  # imports the defining module on first use
        if isinstance(obj, type) and issubclass(obj, sklearn.base.BaseEstimator):
            if not mixins or issubclass(obj, mixins):
                estimators.append((name, obj))
    return estimators
