"""Heavy libraries imported on first use, so that commands on float networks start fast.

``from symft.lazyimport import sympy as sp`` gives an object that behaves
like the ``sympy`` module: the first attribute read imports SymPy (about a
quarter of a second) and every later read is a plain attribute lookup.
Code that only asks whether a value *is* a SymPy object uses
:func:`is_sympy`, which never imports SymPy (nothing can be a SymPy
object before SymPy is imported).

Examples
--------
>>> from symft.lazyimport import sympy as sp, is_sympy
>>> sp.Rational(1, 4) + sp.Rational(1, 4)
1/2
>>> is_sympy(sp.Integer(3)), is_sympy(3)
(True, False)
"""

from __future__ import annotations

import importlib
import sys

__all__ = ["LazyModule", "lazy_module", "is_sympy", "sympy"]


class LazyModule:
    """A stand-in for a module that imports it on the first attribute read.

    After the import the module's namespace is copied into the stand-in, so
    later reads cost what a read from the module itself costs.

    Parameters
    ----------
    name : str
        The module's import name.

    Examples
    --------
    >>> m = LazyModule("fractions")
    >>> m.Fraction(1, 3)
    Fraction(1, 3)
    """

    def __init__(self, name: str):
        object.__setattr__(self, "_lazy_name", name)

    def __getattr__(self, attr):
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        module = importlib.import_module(self._lazy_name)
        self.__dict__.update(vars(module))
        return getattr(module, attr)

    def __setattr__(self, attr, value):
        raise AttributeError(f"cannot set {attr!r} on the lazy module {self._lazy_name!r}")

    def __dir__(self):
        return dir(importlib.import_module(self._lazy_name))

    def __repr__(self):
        return f"<lazy module {self._lazy_name!r}>"

    def __reduce__(self):
        return (lazy_module, (self._lazy_name,))


_MODULES: dict[str, LazyModule] = {}


def lazy_module(name: str) -> LazyModule:
    """The one :class:`LazyModule` for ``name``.

    Examples
    --------
    >>> lazy_module("sympy") is sympy
    True
    """
    if name not in _MODULES:
        _MODULES[name] = LazyModule(name)
    return _MODULES[name]


def is_sympy(x) -> bool:
    """Whether ``x`` is a SymPy object, without importing SymPy.

    Examples
    --------
    >>> from fractions import Fraction
    >>> is_sympy(Fraction(1, 2)), is_sympy(sympy.Symbol("x"))
    (False, True)
    """
    mod = sys.modules.get("sympy")
    return mod is not None and isinstance(x, mod.Basic)


#: SymPy, imported on first use.
sympy = lazy_module("sympy")
