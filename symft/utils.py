"""Small shared helpers: seeds, exact numbers, validation.

Randomness enters symft only through an explicit ``seed`` normalised by
:func:`as_rng` (one place), and exact values through :func:`to_exact`.

Examples
--------
>>> bool(as_rng(3).integers(10) == as_rng(3).integers(10))
True
>>> to_exact("1/3")
1/3
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from numbers import Integral, Real

import numpy as np
import sympy as sp

from .errors import InvalidArgument

__all__ = ["as_rng", "to_exact", "parse_number_string", "is_exact_number", "json_number", "jsonable"]

_NUMBER = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?(\s*/\s*\d+)?\s*$")
_EXPR_CHARS = re.compile(r"^[0-9A-Za-z_+\-*/(). ]+$")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def as_rng(seed) -> np.random.Generator:
    """Normalise a seed into a :class:`numpy.random.Generator`.

    Parameters
    ----------
    seed : int or numpy.random.Generator
        An explicit seed.  ``None`` is refused: results in symft are
        reproducible by construction.

    Examples
    --------
    >>> as_rng(0).random() == as_rng(0).random()
    True
    >>> as_rng(None)
    Traceback (most recent call last):
    ...
    symft.errors.InvalidArgument: seed: expected an integer or numpy Generator, got None (symft needs explicit seeds)
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, Integral) and not isinstance(seed, bool) and seed >= 0:
        return np.random.default_rng(int(seed))
    raise InvalidArgument(
        f"seed: expected an integer or numpy Generator, got {seed!r} (symft needs explicit seeds)"
    )


def parse_number_string(text: str, where: str = "value"):
    """Parse a string holding an exact number or a simple symbolic expression.

    Accepted: integers, decimals and rationals (``"-2"``, ``"0.25"``,
    ``"1/3"``, ``"1e-3"``), all converted *exactly*; and arithmetic
    expressions of numbers and identifiers (``"1/n"``, ``"w_1 + 2*w_2"``),
    whose identifiers become real SymPy symbols.  Function calls and
    attribute access are refused, so a file cannot run code.

    Examples
    --------
    >>> parse_number_string("0.1")
    1/10
    >>> parse_number_string("1/n")
    1/n
    >>> parse_number_string("exp(1)", "layers[0].bias[0]")
    Traceback (most recent call last):
    ...
    symft.errors.InvalidArgument: layers[0].bias[0]: expected a number, a rational like "1/3" or an arithmetic expression of symbols, got 'exp(1)'
    """
    if _NUMBER.match(text):
        return sp.Rational(text.replace(" ", ""))
    bad = InvalidArgument(
        f"{where}: expected a number, a rational like \"1/3\" or an arithmetic expression of "
        f"symbols, got {text!r}"
    )
    if not _EXPR_CHARS.match(text) or "__" in text or re.search(r"[A-Za-z0-9_]\s*\(", text):
        raise bad
    from sympy.parsing.sympy_parser import parse_expr, standard_transformations

    names = {n: sp.Symbol(n, real=True) for n in _IDENT.findall(text)}
    try:
        expr = parse_expr(text, local_dict=names, global_dict={"Integer": sp.Integer,
                                                               "Rational": sp.Rational,
                                                               "Float": sp.Float,
                                                               "Symbol": sp.Symbol},
                          transformations=standard_transformations, evaluate=True)
    except Exception:
        raise bad from None
    if not isinstance(expr, sp.Expr):
        raise bad
    # Floats typed as decimals inside expressions are made exact too.
    expr = expr.xreplace({f: sp.Rational(str(f)) for f in expr.atoms(sp.Float)})
    return expr


def to_exact(value, where: str = "value"):
    """Convert a number to an exact SymPy value without losing anything.

    Integers and ``Fraction`` become rationals, strings are parsed with
    :func:`parse_number_string`, SymPy expressions pass through, and floats
    become the binary rational they hold exactly (``0.1`` is not ``1/10``).

    Raises
    ------
    InvalidArgument
        For NaN, infinities, complex values, booleans and other types.

    Examples
    --------
    >>> to_exact(0.5), to_exact(Fraction(2, 6)), to_exact(3)
    (1/2, 1/3, 3)
    >>> to_exact(float("nan"), "x[0]")
    Traceback (most recent call last):
    ...
    symft.errors.InvalidArgument: x[0]: expected a finite number, got nan
    """
    if isinstance(value, bool) or value is None:
        raise InvalidArgument(f"{where}: expected a number, got {value!r}")
    if isinstance(value, Integral):
        return sp.Integer(int(value))
    if isinstance(value, Fraction):
        return sp.Rational(value.numerator, value.denominator)
    if isinstance(value, str):
        return parse_number_string(value, where)
    if isinstance(value, sp.Basic):
        if not isinstance(value, sp.Expr) or value.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
            raise InvalidArgument(f"{where}: expected a finite number or expression, got {value}")
        if value.is_number and value.is_real is False:
            raise InvalidArgument(f"{where}: expected a real number, got {value}")
        if isinstance(value, sp.Float):
            return sp.Rational(value)
        return value
    if isinstance(value, Real):
        v = float(value)
        if not math.isfinite(v):
            raise InvalidArgument(f"{where}: expected a finite number, got {v}")
        return sp.Rational(v)
    raise InvalidArgument(f"{where}: expected a number, got {type(value).__name__} {value!r}")


def is_exact_number(value) -> bool:
    """Whether ``value`` is an exact rational (int, Fraction, SymPy Rational).

    Examples
    --------
    >>> is_exact_number(Fraction(1, 3)), is_exact_number(0.5)
    (True, False)
    """
    if isinstance(value, bool):
        return False
    if isinstance(value, (Integral, Fraction)):
        return True
    return isinstance(value, sp.Rational)


def json_number(v, irrational: str = "float"):
    """A number for JSON output, never losing exactness silently.

    Integers (Python, SymPy or ``Fraction``) become JSON integers, other
    exact rationals the string ``"p/q"``, floats a JSON float, and symbolic
    expressions their string.  Other SymPy numbers (``tanh(1/2)``) become a
    float, or with ``irrational="str"`` their exact expression.

    Examples
    --------
    >>> json_number(sp.Rational(1, 3)), json_number(Fraction(4, 2)), json_number(0.5), json_number(sp.Symbol("p"))
    ('1/3', 2, 0.5, 'p')
    """
    if isinstance(v, sp.Basic):
        if v.is_Integer:
            return int(v)
        if v.is_Rational:
            return str(v)
        if v.is_number and irrational == "float":
            return float(v)
        return str(v)
    if isinstance(v, Fraction):
        return int(v) if v.denominator == 1 else str(v)
    if isinstance(v, Integral) and not isinstance(v, bool):
        return int(v)
    return float(v)


def jsonable(a, irrational: str = "float"):
    """Nested lists of :func:`json_number` values from an array (or scalar).

    Examples
    --------
    >>> jsonable(np.array([[1.0, 2.5]]))
    [[1.0, 2.5]]
    >>> jsonable(np.array([sp.Rational(-1, 4)], dtype=object))
    ['-1/4']
    """
    a = np.asarray(a, dtype=object) if not isinstance(a, np.ndarray) else a
    if a.ndim == 0:
        return json_number(a.item(), irrational)
    return [jsonable(x, irrational) for x in a]
