r"""Number kinds: one place that turns stored values into the numbers an interpretation computes with.

A network stores every parameter array in one of two ways: a read-only
float64 array (a *float* parameter), or an object array of SymPy values
(an *exact* parameter: integers, rationals, symbols).  Interpretations ask
for the arrays in the kind of number they compute with:

``"float"``
    float64 (symbols refused with :class:`~symft.errors.SymbolicValueError`).
``"fraction"``
    Python :class:`~fractions.Fraction` (exact rationals; the fast exact kind).
``"sympy"``
    SymPy exact values (rationals or symbolic expressions).
``"sympy_float"``
    SymPy values, but float parameters as SymPy ``Float`` (readable
    expressions; smooth activations then evaluate to numbers).
``"mpmath"``
    ``mpmath.mpf`` at the working precision of the global ``mpmath.mp``
    context (exact values are rounded once, floats converted exactly).

**The one rule for reading a float as a rational** is the binary value the
float holds: ``0.1`` is ``3602879701896397/36028797018963968``, never
``1/10`` (:func:`float_to_fraction`).  Strings in files are decimal and read
as written (``"0.1"`` is ``1/10``); see :func:`symft.utils.to_exact`.

Examples
--------
>>> import numpy as np
>>> from fractions import Fraction
>>> convert(np.array([0.5, 0.1]), "fraction")[1] == Fraction(0.1)
True
>>> convert(exact_array([["1/3"]]), "float")
array([[0.33333333]])
"""

from __future__ import annotations

from fractions import Fraction
from numbers import Integral, Real

import numpy as np
from ..lazyimport import sympy as sp

from ..errors import InvalidArgument, NetworkFormatError, SymbolicValueError
from ..utils import to_exact

__all__ = [
    "KINDS",
    "float_to_fraction",
    "float_enclosure",
    "to_fraction",
    "to_sympy",
    "exact_array",
    "float_array",
    "is_float_array",
    "convert",
    "array_free_symbols",
    "array_kind",
]

#: The number kinds :func:`convert` knows.
KINDS = ("float", "fraction", "sympy", "sympy_float", "mpmath")


def float_to_fraction(v) -> Fraction:
    """The exact binary value of a float, as a :class:`~fractions.Fraction` (the one float→rational rule).

    Examples
    --------
    >>> float_to_fraction(0.5), float_to_fraction(0.1) == Fraction(3602879701896397, 36028797018963968)
    (Fraction(1, 2), True)
    """
    return Fraction(float(v))


def float_enclosure(q) -> tuple[float, float]:
    """The largest float ``≤ q`` and the smallest float ``≥ q`` for an exact rational ``q``.

    Both are ``float(q)`` when the float holds ``q`` exactly; beyond the
    float range the bound on that side is infinite.  (``Fraction → float``
    is correctly rounded, so ``float(q)`` is one of the two.)

    Examples
    --------
    >>> float_enclosure(Fraction(1, 2))
    (0.5, 0.5)
    >>> lo, hi = float_enclosure(Fraction(1, 3))
    >>> Fraction(lo) < Fraction(1, 3) < Fraction(hi), bool(hi == np.nextafter(lo, np.inf))
    (True, True)
    """
    q = to_fraction(q, "q") if not isinstance(q, Fraction) else q
    try:
        f = float(q)
    except OverflowError:
        f = np.inf if q > 0 else -np.inf
    if np.isinf(f):
        big = float(np.finfo(float).max)
        return (big, np.inf) if f > 0 else (-np.inf, -big)
    e = Fraction(f)
    if e == q:
        return f, f
    return (f, float(np.nextafter(f, np.inf))) if e < q else (float(np.nextafter(f, -np.inf)), f)


def to_fraction(v, where: str = "value") -> Fraction:
    """An exact :class:`~fractions.Fraction` from an int, Fraction, SymPy rational or float.

    Raises
    ------
    SymbolicValueError
        For symbols and irrational values.

    Examples
    --------
    >>> to_fraction(sp.Rational(1, 3)), to_fraction(0.25), to_fraction(7)
    (Fraction(1, 3), Fraction(1, 4), Fraction(7, 1))
    """
    if isinstance(v, Fraction):
        return v
    if isinstance(v, bool):
        raise InvalidArgument(f"{where}: expected a number, got {v!r}")
    if isinstance(v, Integral):
        return Fraction(int(v))
    if isinstance(v, sp.Rational):
        return Fraction(int(v.p), int(v.q))
    if isinstance(v, sp.Float):
        return Fraction(sp.Rational(v).p, sp.Rational(v).q)
    if isinstance(v, (float, np.floating)):
        return float_to_fraction(v)
    raise SymbolicValueError(f"{where}: expected a rational number, got {v}")


def to_sympy(v, where: str = "value"):
    """An exact SymPy value (floats become the binary rational they hold).

    Examples
    --------
    >>> to_sympy(Fraction(1, 3)), to_sympy(0.5), to_sympy("2/4")
    (1/3, 1/2, 1/2)
    """
    return to_exact(v, where)


def exact_array(values, where: str = "value") -> np.ndarray:
    """A read-only object array of exact SymPy values (any nesting of lists).

    Examples
    --------
    >>> exact_array([[1, "1/2"]])
    array([[1, 1/2]], dtype=object)
    """
    a = np.array(values, dtype=object)
    out = np.empty(a.shape, dtype=object)
    flat = out.reshape(-1)
    for i, v in enumerate(a.reshape(-1)):
        if isinstance(v, np.integer):
            v = int(v)
        flat[i] = to_exact(v, where)
    out.setflags(write=False)
    return out


def float_array(values) -> np.ndarray:
    """A read-only float64 copy.

    Examples
    --------
    >>> float_array([1, 2]).flags.writeable
    False
    """
    a = np.array(values, dtype=float)
    a.setflags(write=False)
    return a


def is_float_array(a) -> bool:
    """Whether a stored parameter is a float64 array (rather than exact SymPy values).

    Examples
    --------
    >>> is_float_array(np.zeros(2)), is_float_array(exact_array([1]))
    (True, False)
    """
    return isinstance(a, np.ndarray) and a.dtype != object


def array_free_symbols(a) -> frozenset:
    """The SymPy symbols in a stored parameter array (empty for float arrays).

    Examples
    --------
    >>> array_free_symbols(exact_array(["1/n", 2]))
    frozenset({n})
    """
    if a is None or is_float_array(a):
        return frozenset()
    out = set()
    for v in a.reshape(-1):
        out |= v.free_symbols
    return frozenset(out)


def array_kind(a) -> str:
    """``'float'``, ``'exact'`` (all rational) or ``'symbolic'`` for one stored array.

    Examples
    --------
    >>> array_kind(np.zeros(1)), array_kind(exact_array(["1/3"])), array_kind(exact_array(["n"]))
    ('float', 'exact', 'symbolic')
    """
    if is_float_array(a):
        return "float"
    if array_free_symbols(a):
        return "symbolic"
    if all(v.is_Rational for v in a.reshape(-1)):
        return "exact"
    return "mixed"


def _map(a, fn):
    out = np.empty(a.shape, dtype=object)
    flat = out.reshape(-1)
    for i, v in enumerate(a.reshape(-1)):
        flat[i] = fn(v)
    return out


def _mpf(v):
    import mpmath

    if isinstance(v, (float, np.floating)):
        return mpmath.mpf(float(v))
    if isinstance(v, sp.Rational):
        return mpmath.mpf(int(v.p)) / int(v.q) if v.q != 1 else mpmath.mpf(int(v.p))
    if isinstance(v, Fraction):
        return mpmath.mpf(v.numerator) / v.denominator
    if isinstance(v, sp.Basic):
        if v.free_symbols:
            raise SymbolicValueError(f"symbolic value {v}: substitute values first")
        return mpmath.mpf(sp.N(v, mpmath.mp.dps + 10))
    if isinstance(v, Real):
        return mpmath.mpf(v)
    raise InvalidArgument(f"expected a number, got {v!r}")


def convert(a, kind: str, where: str = "parameter") -> np.ndarray:
    """A stored parameter array in the number kind ``kind`` (see the module docstring).

    Parameters
    ----------
    a : ndarray
        float64, or object of SymPy values.
    kind : {"float", "fraction", "sympy", "sympy_float", "mpmath"}

    Raises
    ------
    SymbolicValueError
        When numbers are asked of symbolic values.

    Examples
    --------
    >>> convert(exact_array(["1/4"]), "fraction")
    array([Fraction(1, 4)], dtype=object)
    >>> convert(exact_array(["n"]), "float")
    Traceback (most recent call last):
    ...
    symft.errors.SymbolicValueError: parameter: has symbols ['n']; substitute values with net.subs({...}) for numeric work
    """
    if a is None:
        return None
    if kind not in KINDS:
        raise InvalidArgument(f"kind: expected one of {', '.join(KINDS)}, got {kind!r}")
    if kind not in ("sympy", "sympy_float") and not is_float_array(a):
        syms = array_free_symbols(a)
        if syms:
            raise SymbolicValueError(f"{where}: has symbols {sorted(map(str, syms))}; substitute values with "
                                     "net.subs({...}) for numeric work")
    if kind == "float":
        if is_float_array(a):
            return a
        out = np.array([float(v) for v in a.reshape(-1)], dtype=float).reshape(a.shape)
        if not np.isfinite(out).all():
            at = "".join(f"[{int(k)}]" for k in np.argwhere(~np.isfinite(out))[0])
            raise NetworkFormatError(f"{where}{at}: the exact value is beyond the float64 range (±1.8e308); numeric "
                                     "(float) methods cannot use this network — scale the weights down")
        return float_array(out)
    if kind == "fraction":
        src = a if not is_float_array(a) else a.astype(object)
        return _map(src, lambda v: to_fraction(v, where))
    if kind == "sympy":
        if is_float_array(a):
            return _map(a.astype(object), lambda v: sp.Rational(float(v)))
        return _map(a, lambda v: sp.Rational(v) if isinstance(v, sp.Float) else v)
    if kind == "sympy_float":
        if is_float_array(a):
            return _map(a.astype(object), lambda v: sp.Float(float(v)))
        return a
    return _map(a if not is_float_array(a) else a.astype(object), _mpf)
