"""Explicit ``__init__`` signatures assembled from parameter tables.

scikit-learn reads an estimator's parameters from the signature of its
``__init__``. Every skae estimator shares the training parameters of
:class:`~skae.AutoEncoder` and adds a few of its own; writing all of them
out again in every variant would copy the same twenty lines into every
file. Instead each class declares a table of its *new* parameters and
their defaults, and ``__init_subclass__`` builds an ``__init__`` whose
signature lists the inherited and new parameters explicitly. The
generated ``__init__`` only stores its arguments, as scikit-learn requires.
"""

from __future__ import annotations

import ast
import inspect
import re

_POSITIONAL = ("n_components", "n_bits")


def make_init(defaults: dict, qualname: str):
    """Return an ``__init__`` that stores ``defaults``' keys, with a real signature."""
    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    for name, default in defaults.items():
        kind = (
            inspect.Parameter.POSITIONAL_OR_KEYWORD
            if name in _POSITIONAL
            else inspect.Parameter.KEYWORD_ONLY
        )
        params.append(inspect.Parameter(name, kind, default=default))
    signature = inspect.Signature(params)

    def __init__(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        for name, value in list(bound.arguments.items())[1:]:
            setattr(self, name, value)

    __init__.__signature__ = signature
    __init__.__qualname__ = f"{qualname}.__init__"
    return __init__


def collect_defaults(cls) -> dict:
    """Merge ``_defaults`` tables along the MRO, base classes first."""
    merged: dict = {}
    for klass in reversed(cls.__mro__):
        merged.update(klass.__dict__.get("_defaults", {}))
    # The positional parameters come first, in their declared order.
    return {
        **{k: merged[k] for k in _POSITIONAL if k in merged},
        **{k: v for k, v in merged.items() if k not in _POSITIONAL},
    }


def document_defaults(doc: str, defaults: dict) -> str:
    """``doc`` with every ``name : type, default=value`` line showing ``defaults[name]``.

    Shared parameter sections are written once, with the base class's
    defaults; a class that changes a default gets its own value in its
    docstring.
    """

    def fix(match):
        name, kind, shown = match.groups()
        if name not in defaults:
            return match.group(0)
        try:
            if ast.literal_eval(shown) == defaults[name]:
                return match.group(0)
        except (ValueError, SyntaxError):
            return match.group(0)
        value = defaults[name]
        text = f'"{value}"' if isinstance(value, str) else repr(value)
        return f"    {name} : {kind}, default={text}"

    return re.sub(r"^    (\w+) : (.*), default=(.+)$", fix, doc, flags=re.MULTILINE)
