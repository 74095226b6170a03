r"""Numbers as text that stay bounds: decimal rounding toward a chosen side.

A proved interval ``[lo, hi]`` printed to six digits *to nearest* can claim
less than was proved: ``0.1234564`` as an upper bound prints ``0.123456``,
below the bound.  Every text of the library and the command line that
prints a proved, rigorous or certified number goes through this module
instead: lower ends rounded down, upper ends rounded up (:func:`rounded`,
:func:`interval`), and a centre with a proved radius printed with the radius
widened by what the centre's own rounding moved (:func:`plus_minus`), so the
printed text always contains what was proved.  Statistical estimates are
printed to nearest as before; they are not bounds.

Every kind of number is read exactly: a float as the binary number it holds,
a ``Fraction``, an integer, a SymPy rational or float (its exact binary
value), an ``mpmath.mpf``; a SymPy irrational (``sqrt(2)``) is evaluated to
80 digits and stepped outward.

Examples
--------
>>> rounded(0.1234564, "up"), rounded(0.1234564, "down")
('0.123457', '0.123456')
>>> interval(Fraction(1, 3), Fraction(2, 3))
'[0.333333, 0.666667]'
>>> plus_minus(0.1234564, 1e-9)
'0.1234564 ± 1e-09'
"""

from __future__ import annotations

import math
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext
from fractions import Fraction

import numpy as np

from .lazyimport import is_sympy, sympy as sp

__all__ = ["rounded", "interval", "plus_minus", "exact_value"]

# working precision of the exact-to-decimal step (far beyond any printed digit)
_PREC = 60


def exact_value(v):
    """``(Fraction, exact)``: the number ``v`` holds, or an 80-digit approximation (``exact`` False).

    ``None`` for ±inf and NaN.

    Examples
    --------
    >>> exact_value(0.1)[0] == Fraction(0.1), exact_value(Fraction(1, 3)), exact_value(float("inf"))
    (True, (Fraction(1, 3), True), None)
    >>> import sympy
    >>> exact_value(sympy.Float(0.1))[0] == Fraction(0.1), exact_value(sympy.sqrt(2))[1]
    (True, False)
    """
    if isinstance(v, Fraction):
        return v, True
    if isinstance(v, (bool, np.bool_)):
        return Fraction(int(v)), True
    if isinstance(v, (int, np.integer)):
        return Fraction(int(v)), True
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return (Fraction(f), True) if math.isfinite(f) else None
    if is_sympy(v):
        if v.is_Rational:
            return Fraction(int(v.p), int(v.q)), True
        if v.is_Float:
            if not v.is_finite:
                return None
            r = sp.Rational(v)                      # the Float's exact binary value
            return Fraction(int(r.p), int(r.q)), True
        if v.is_infinite or not v.is_number:
            return None
        r = sp.Rational(sp.Float(v.evalf(80), 80))
        return Fraction(int(r.p), int(r.q)), False
    if hasattr(v, "_mpf_"):                          # mpmath.mpf: sign, mantissa, exponent
        import mpmath

        if not mpmath.isfinite(v):
            return None
        sign, man, exp, _ = v._mpf_
        q = Fraction(int(man)) * (Fraction(2) ** int(exp))
        return (-q if sign else q), True
    return Fraction(v), True


def rounded(v, direction: str, digits: int = 6) -> str:
    """``v`` to ``digits`` significant digits rounded ``"down"`` or ``"up"``, so a printed bound stays a bound.

    Parameters
    ----------
    v : float, int, Fraction, SymPy number or mpmath.mpf
        The exact value of ``v`` is rounded (a float's binary value, not its repr).
    direction : {"down", "up"}
    digits : int
        Significant digits.

    Returns
    -------
    str
        ``"inf"``, ``"-inf"`` or ``"nan"`` for those floats.

    Examples
    --------
    >>> rounded(1 / 3, "down"), rounded(1 / 3, "up"), rounded(-1 / 3, "down"), rounded(0.25, "up")
    ('0.333333', '0.333334', '-0.333334', '0.25')
    >>> rounded(Fraction(10) ** 400 + 1, "up", 3)
    '1.01e+400'
    """
    if direction not in ("down", "up"):
        raise ValueError(f"direction: expected 'down' or 'up', got {direction!r}")
    ex = exact_value(v)
    if ex is None:
        if is_sympy(v):
            return "nan" if v is sp.nan else ("inf" if v.is_extended_positive else "-inf")
        return str(float(v))
    q, exact = ex
    with localcontext() as ctx:
        ctx.prec = _PREC
        d = Decimal(q.numerator) / Decimal(q.denominator)
        # the quotient is itself rounded to 60 digits (and q may be an approximation): step outward once
        if not exact or Fraction(d) != q:
            d = d.next_plus() if direction == "up" else d.next_minus()
    if d == 0:
        return "0"
    with localcontext() as ctx:
        ctx.prec = digits
        ctx.rounding = ROUND_CEILING if direction == "up" else ROUND_FLOOR
        r = +d
    f = float(r)
    text = f"{f:.{digits}g}"
    return text if math.isfinite(f) and Decimal(text) == r else format(r, "g")


def interval(lo, hi, digits: int = 6) -> str:
    """A proved interval as text, rounded outward (still contains what ``[lo, hi]`` contains).

    One number when both ends print the same (then ``lo = hi``).

    Examples
    --------
    >>> interval(1 / 3, 2 / 3), interval(0.5, 0.5)
    ('[0.333333, 0.666667]', '0.5')
    """
    a, b = rounded(lo, "down", digits), rounded(hi, "up", digits)
    return a if a == b else f"[{a}, {b}]"


def plus_minus(center, radius, digits: int = 8, radius_digits: int = 3) -> str:
    """``"c ± r"`` covering the proved ``[center − radius, center + radius]``.

    ``c`` is ``center`` to ``digits`` significant digits (to nearest) and
    ``r`` is ``radius`` plus the distance ``|c − center|``, rounded up to
    ``radius_digits`` digits, so ``[c − r, c + r]`` contains the proved
    interval.  An infinite or NaN radius (or centre) gives ``"c ± inf"``.

    Examples
    --------
    >>> plus_minus(1 / 3, 1e-12)
    '0.33333333 ± 3.34e-09'
    >>> plus_minus(0.5, 0.25)
    '0.5 ± 0.25'
    """
    c_text = f"{float(center):.{digits}g}"
    rad = exact_value(radius)
    cen = exact_value(center)
    if rad is None or cen is None:        # an infinite or NaN radius or centre: nothing finite was proved
        return f"{c_text} ± inf"
    c = Fraction(Decimal(c_text))
    shift = abs(cen[0] - c)
    if not cen[1]:
        shift += abs(cen[0]) * Fraction(1, 10 ** 70)
    return f"{c_text} ± {rounded(abs(rad[0]) + shift, 'up', radius_digits)}"
