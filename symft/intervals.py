r"""Sound interval arithmetic with outward rounding, and the bounds D_1, D_2 of T1.

THEORY §5: the remainder of the first-order Taylor expansion of
``Δ(ξ) = y((1 − ξ) ⊙ y_l) − y(y_l)`` is controlled by the suprema of the first
and second derivatives of ``y_L`` with respect to the crash indicators ``ξ``
over the crash box ``[0, 1]^n``.  :func:`derivative_bounds` computes rigorous
upper bounds of

* ``M1[k, a] ≥ sup_{ξ ∈ [0,1]^n} |∂y_L^k / ∂ξ_a|`` and
* ``M2[k, a, b] ≥ sup_{ξ ∈ [0,1]^n} |∂²y_L^k / ∂ξ_a ∂ξ_b|``

by *forward-mode interval propagation of jets* (value, gradient, Hessian
with respect to ξ) through the same layer walk as the numeric forward pass
(:func:`symft.symbolic.layer_walk`).  :func:`gradient_enclosure` encloses
the T1 sensitivities ``∂y_L/∂ξ`` at ``ξ = 0`` themselves (the float64
backward pass of :func:`symft.taylor.t1`, in interval arithmetic), so that
T1's point values carry a proved rounding error even when the float passes
cancel.

Why the result is a rigorous upper bound
----------------------------------------
Every quantity is an :class:`Interval` ``[lo, hi]`` (float64 arrays) that
contains the true real value for every ``ξ`` in the box:

* **Elementary operations** (``+``, ``−``, ``×``) on floats are correctly
  rounded by IEEE 754 (round to nearest), so the exact result lies within
  one ulp of the computed one; every computed lower end is moved down and
  every upper end up by :func:`numpy.nextafter` (outward rounding).
  Products take the min and max of the four endpoint products.
* **Dot products with a point matrix** (``W_l`` times an interval vector)
  use midpoint–radius form: ``x ∈ [m − r, m + r]`` with ``r`` rounded up,
  ``W x ∈ [Wm − |W| r, Wm + |W| r]``.  The floating-point error of any
  summation order (BLAS blocking, FMA) of ``n`` products is at most
  ``γ_n Σ|w_j m_j|`` with ``γ_n = n u / (1 − n u)``, ``u = 2^-53``
  (Higham, *Accuracy and Stability of Numerical Algorithms*, §3.1), plus
  at most ``n`` half-units of the smallest subnormal ``2^-1074`` when
  products underflow.  We widen by ``3 γ_{n+2}`` times the computed
  ``|W|(|m| + r)`` (the extra factor covers the rounding of the widening
  itself and of ``|W| r``) plus ``n · 2^-1070``, then round outward.
* **Activations.**  ``tanh``, ``sigmoid`` and ``softplus`` are monotone; the
  value enclosure is ``[φ(lo), φ(hi)]`` computed with NumPy and widened by
  ``2^-44`` relative plus ``2^-1000`` absolute — far more than the few ulps
  of error of the C library (glibc documents at most 2–4 ulps for
  ``exp``/``tanh``/``log1p``); the enclosure is then intersected with the
  true range of φ.  Derivatives are polynomials in ``t = φ`` (tanh:
  ``φ' = 1 − t²``, ``φ'' = −2t + 2t³``) or in ``s = σ`` (sigmoid,
  softplus); the range of a polynomial over an interval is the hull of its
  values at the end points and at the interior critical points (known in
  closed form), each evaluated by interval Horner on a point interval (or a
  ``±10⁻⁹`` interval around a critical point, which contains the exact
  root: the computed roots are accurate to ``10⁻¹⁵``).
  A piecewise-linear activation is smooth on the box only when every
  pre-activation interval lies strictly inside one linear piece; then
  ``φ' = slope`` and ``φ'' = 0``; otherwise no bound exists (the output is
  not twice differentiable on the box) and :class:`NotSmooth` is raised.
  Slopes, intercepts and breakpoints are exact rationals (``1/3*relu``),
  each enclosed by the floats just below and above it; so is the factor
  ``c`` of a scaled smooth activation ``c*name``.
* **Inputs and exact weights.**  Float inputs are the binary values they
  hold; exact inputs (``Fraction``, ``"1/3"``) are enclosed
  (:func:`enclose_numbers`); the float copy of an exact layer is within one
  ulp of it, and every product with it is widened by that.
  Custom activations have no enclosure here and raise :class:`NotSmooth`.
* **Jets.**  The product and chain rules (``G = φ'(z) G_z``,
  ``H = φ''(z) G_z G_zᵀ + φ'(z) H_z``; at a crash layer
  ``ŷ_i = (1 − ξ_i) y_i`` with ``1 − ξ_i ∈ [0, 1]``) are evaluated with the
  operations above, so each enclosure contains the true derivative for
  every ξ in the box (inclusion isotonicity).

The bounds are over-approximations (interval arithmetic ignores
correlations), never under-approximations.

Examples
--------
>>> import numpy as np
>>> a = Interval(np.array([1.0]), np.array([2.0]))
>>> b = a * a - a
>>> bool(b.lo[0] <= -1.0 and b.hi[0] >= 3.0)
True
>>> from symft.graph.network import mean_network
>>> bd = derivative_bounds(mean_network(4), np.ones(4), [0])
>>> bd.D1, bd.D2
(0.25..., 0.0)
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from numbers import Integral
import math
import re

import numpy as np
import sympy as sp

from .errors import InvalidArgument, SymftError, TooLargeError
from .symbolic import crash_layers_of, layer_walk

__all__ = [
    "Interval",
    "NotSmooth",
    "activation_enclosures",
    "DerivativeBounds",
    "derivative_bounds",
    "enclose_numbers",
    "gradient_enclosure",
    "upper_sum",
    "MAX_JET_ENTRIES",
]

_U = 2.0 ** -53
_TINY = 2.0 ** -1070
#: Default limit on ``max_l n_l · n²`` (entries of one Hessian jet) in :func:`derivative_bounds`.
MAX_JET_ENTRIES = 30_000_000


class NotSmooth(SymftError, ValueError):
    """The output is not (known to be) twice differentiable on the crash box.

    Examples
    --------
    >>> issubclass(NotSmooth, ValueError)
    True
    """


def _down(a):
    return np.nextafter(a, -np.inf)


def _up(a):
    return np.nextafter(a, np.inf)


def _gamma(n):
    nu = (n + 2) * _U
    return nu / (1.0 - nu)


def _exact(v) -> Fraction:
    """The exact rational value of a number (floats: the binary value they hold)."""
    if isinstance(v, Fraction):
        return v
    if isinstance(v, (bool, np.bool_)):
        raise TypeError("a boolean is not a number")
    if isinstance(v, (Integral, np.integer)):
        return Fraction(int(v))
    if isinstance(v, (float, np.floating)):
        return Fraction(float(v))
    if isinstance(v, sp.Basic):
        if v.is_Rational:
            return Fraction(int(v.p), int(v.q))
        if v.is_Float:
            r = sp.Rational(v)                      # the binary value an mpf Float holds, exactly
            return Fraction(int(r.p), int(r.q))
        raise TypeError(f"{v} is not a rational number")
    if isinstance(v, Decimal):
        return Fraction(v)
    if isinstance(v, str):
        return Fraction(v.strip())
    raise TypeError(f"{type(v).__name__} is not a rational number")


def _float_bounds(q: Fraction) -> tuple[float, float]:
    """The largest float ``≤ q`` and the smallest float ``≥ q`` (Fraction → float is correctly rounded)."""
    try:
        f = float(q)
    except OverflowError:
        f = math.inf if q > 0 else -math.inf
    if math.isinf(f):
        return (np.finfo(float).max, math.inf) if f > 0 else (-math.inf, -np.finfo(float).max)
    e = Fraction(f)
    if e == q:
        return f, f
    return (f, math.nextafter(f, math.inf)) if e < q else (math.nextafter(f, -math.inf), f)


def enclose_numbers(values) -> "Interval":
    """Floats ``[lo, hi]`` around exact numbers (the two floats around each, or the float itself).

    Floats stand for the binary value they hold and are returned unchanged;
    integers, ``Fraction``, SymPy rationals, ``Decimal`` and numeric strings
    (``"0.1"``, ``"1/3"``: the decimal or fraction as written) are enclosed
    by the nearest floats below and above.  Anything else that converts to
    ``float`` is widened by one unit in the last place each way.

    Parameters
    ----------
    values : array_like
        Any shape; an ``ndarray`` of floats is returned as point intervals without a Python loop.

    Examples
    --------
    >>> from fractions import Fraction
    >>> e = enclose_numbers([0.5, Fraction(1, 3), "0.1"])
    >>> bool(e.lo[0] == e.hi[0] == 0.5), bool(e.lo[1] < e.hi[1])
    (True, True)
    >>> bool(Fraction(e.lo[2]) < Fraction(1, 10) < Fraction(e.hi[2]))
    True
    """
    if isinstance(values, np.ndarray) and values.dtype.kind == "f":
        return Interval.point(values)
    a = np.asarray(values, dtype=object)
    lo = np.empty(a.shape)
    hi = np.empty(a.shape)
    for idx, v in np.ndenumerate(a):
        if isinstance(v, (float, np.floating)):
            lo[idx] = hi[idx] = float(v)
            continue
        try:
            lo[idx], hi[idx] = _float_bounds(_exact(v))
        except (TypeError, ValueError, ZeroDivisionError):
            f = float(v)
            lo[idx], hi[idx] = math.nextafter(f, -math.inf), math.nextafter(f, math.inf)
    return Interval(lo, hi)


@dataclass(frozen=True, eq=False)
class Interval:
    """An array of closed intervals ``[lo, hi]`` with outward-rounded arithmetic.

    Parameters
    ----------
    lo, hi : ndarray
        Same shape, ``lo <= hi``.

    Examples
    --------
    >>> x = Interval.point(np.array([0.1]))
    >>> y = x + x + x
    >>> bool(y.lo[0] <= 0.30000000000000004 <= y.hi[0])
    True
    >>> Interval(np.array([-1.0]), np.array([2.0])).mag()
    array([2.])
    """

    lo: np.ndarray
    hi: np.ndarray

    @classmethod
    def point(cls, a) -> "Interval":
        """The degenerate interval ``[a, a]`` (exact: ``a`` is a float).

        Examples
        --------
        >>> Interval.point(np.array([1.5])).hi
        array([1.5])
        """
        a = np.asarray(a, dtype=float)
        return cls(a.copy(), a.copy())

    @classmethod
    def zeros(cls, shape) -> "Interval":
        """``[0, 0]`` everywhere.

        Examples
        --------
        >>> Interval.zeros((2,)).lo
        array([0., 0.])
        """
        return cls(np.zeros(shape), np.zeros(shape))

    @property
    def shape(self):
        """Shape of the arrays.

        Examples
        --------
        >>> Interval.zeros((2, 3)).shape
        (2, 3)
        """
        return self.lo.shape

    def mag(self) -> np.ndarray:
        """``max(|lo|, |hi|)``: an upper bound of ``|v|`` for every ``v`` in the interval.

        Examples
        --------
        >>> Interval(np.array([-3.0]), np.array([1.0])).mag()
        array([3.])
        """
        return np.maximum(np.abs(self.lo), np.abs(self.hi))

    def __getitem__(self, k) -> "Interval":
        return Interval(self.lo[k], self.hi[k])

    def __add__(self, other) -> "Interval":
        o = _as_interval(other)
        return Interval(_down(self.lo + o.lo), _up(self.hi + o.hi))

    __radd__ = __add__

    def __neg__(self) -> "Interval":
        return Interval(-self.hi, -self.lo)

    def __sub__(self, other) -> "Interval":
        o = _as_interval(other)
        return Interval(_down(self.lo - o.hi), _up(self.hi - o.lo))

    def __rsub__(self, other) -> "Interval":
        return _as_interval(other) - self

    def __mul__(self, other) -> "Interval":
        o = _as_interval(other)
        a, b, c, d = self.lo * o.lo, self.lo * o.hi, self.hi * o.lo, self.hi * o.hi
        return Interval(_down(np.minimum(np.minimum(a, b), np.minimum(c, d))),
                        _up(np.maximum(np.maximum(a, b), np.maximum(c, d))))

    __rmul__ = __mul__

    def hull(self, other) -> "Interval":
        """The smallest interval containing both.

        Examples
        --------
        >>> Interval.point(np.array([1.0])).hull(Interval.point(np.array([3.0]))).hi
        array([3.])
        """
        o = _as_interval(other)
        return Interval(np.minimum(self.lo, o.lo), np.maximum(self.hi, o.hi))

    def clip(self, lo, hi) -> "Interval":
        """Intersect with the (true) range ``[lo, hi]`` of the quantity.

        Examples
        --------
        >>> Interval(np.array([-2.0]), np.array([0.5])).clip(-1.0, 1.0).lo
        array([-1.])
        """
        return Interval(np.clip(self.lo, lo, hi), np.clip(self.hi, lo, hi))

    def __repr__(self):
        return f"Interval(lo={self.lo!r}, hi={self.hi!r})"


def _as_interval(v) -> Interval:
    if isinstance(v, Interval):
        return v
    return Interval.point(v)


def _matvec(W: np.ndarray, x: Interval, w_rel: float = 0.0) -> Interval:
    """Enclosure of ``W' x`` for every ``W'`` with ``|W' − W| ≤ w_rel |W|`` (``W`` a float (k, m) matrix)
    and intervals ``x`` of shape (m, …)."""
    m_ = W.shape[1]
    mid = 0.5 * (x.lo + x.hi)
    rad = _up(np.maximum(x.hi - mid, mid - x.lo))
    A = np.abs(W)
    sh = x.lo.shape
    mid2 = mid.reshape(m_, -1)
    rad2 = rad.reshape(m_, -1)
    c = (W @ mid2).reshape((W.shape[0],) + sh[1:])
    R = (A @ rad2).reshape(c.shape)
    S = (A @ (np.abs(mid2) + rad2)).reshape(c.shape)
    g = 3.0 * _gamma(m_) + 2.0 * w_rel
    R = _up(R + g * S + m_ * _TINY)
    return Interval(_down(c - R), _up(c + R))


def _imatmul(A: Interval, M: np.ndarray, m_rel: float = 0.0) -> Interval:
    """Enclosure of ``A' @ M'`` for every ``A'`` in ``A`` (R, m) and every ``M'`` with
    ``|M' − M| ≤ m_rel |M|`` (``M`` a float (m, k) matrix): the midpoint–radius product of
    :func:`_matvec`, for a batch of rows (a point ``A`` skips the radius product)."""
    m_ = M.shape[0]
    absM = np.abs(M)
    if np.array_equal(A.lo, A.hi):
        mid = A.lo
        c = mid @ M
        S = np.abs(mid) @ absM
        R = 0.0
    else:
        mid = 0.5 * (A.lo + A.hi)
        rad = _up(np.maximum(A.hi - mid, mid - A.lo))
        c = mid @ M
        R = rad @ absM
        S = (np.abs(mid) + rad) @ absM
    g = 3.0 * _gamma(m_) + 2.0 * m_rel
    R = _up(R + g * S + m_ * _TINY)
    return Interval(_down(c - R), _up(c + R))


def _isum(A: Interval, axis: int = -1) -> Interval:
    """Enclosure of the exact sums of the intervals along ``axis``: the computed sums of the ends,
    moved out by ``2 γ_n`` times the computed sums of their magnitudes (any summation order;
    floating-point addition never loses anything to underflow)."""
    n = A.lo.shape[axis]
    g = 2.0 * _gamma(n)
    elo = _up(np.abs(A.lo).sum(axis=axis) * g)
    ehi = _up(np.abs(A.hi).sum(axis=axis) * g)
    return Interval(_down(A.lo.sum(axis=axis) - elo), _up(A.hi.sum(axis=axis) + ehi))


def _isquare(A: Interval) -> Interval:
    """Enclosure of ``{a² : a ∈ A}`` (0 when the interval contains 0)."""
    l2, h2 = A.lo * A.lo, A.hi * A.hi
    lo = np.where(A.lo > 0, l2, np.where(A.hi < 0, h2, 0.0))
    return Interval(np.maximum(_down(lo), 0.0), _up(np.maximum(l2, h2)))


def upper_sum(a, axis=None) -> np.ndarray:
    """A rigorous upper bound of the exact sum of non-negative floats.

    ``fl(Σ a) ≤ (1 + γ_n) Σ a``… conversely the exact sum is at most
    ``fl(Σ a)(1 + 2γ_n)`` (rounded up), for any summation order.

    Examples
    --------
    >>> float(upper_sum(np.full(10, 0.1))) >= 1.0
    True
    """
    a = np.asarray(a, dtype=float)
    n = a.size if axis is None else a.shape[axis]
    s = a.sum(axis=axis)
    return _up(s * (1.0 + 2.0 * _gamma(n)) + n * _TINY)


def _widen(lo, hi):
    rel = 2.0 ** -44
    return _down(lo - np.abs(lo) * rel - 2.0 ** -1000), _up(hi + np.abs(hi) * rel + 2.0 ** -1000)


def _sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _poly(coeffs, x: Interval) -> Interval:
    """Interval Horner evaluation of ``Σ c_k x^k`` (coeffs low → high, exact floats)."""
    acc = Interval.point(np.full(x.shape, float(coeffs[-1])))
    for c in coeffs[-2::-1]:
        acc = acc * x + float(c)
    return acc


def _poly_range(coeffs, crit, t: Interval) -> Interval:
    """Enclosure of the range of a polynomial over each interval of ``t``.

    ``crit`` are the real critical points (roots of the derivative).  The
    range over ``[lo, hi]`` is the hull of the values at ``lo``, ``hi`` and
    at critical points inside; a critical point is evaluated on
    ``[c − 1e-9, c + 1e-9]`` (which contains the exact root) and included
    whenever that interval meets ``[lo, hi]`` (including more is sound).
    """
    out = _poly(coeffs, Interval.point(t.lo)).hull(_poly(coeffs, Interval.point(t.hi)))
    for c in crit:
        ci = Interval(np.full(t.shape, c - 1e-9), np.full(t.shape, c + 1e-9))
        v = _poly(coeffs, ci)
        inside = (t.lo <= c + 1e-9) & (t.hi >= c - 1e-9)
        out = Interval(np.where(inside, np.minimum(out.lo, v.lo), out.lo),
                       np.where(inside, np.maximum(out.hi, v.hi), out.hi))
    return out


_R3 = 3.0 ** 0.5
# tanh: φ' = 1 − t² (_one_minus_square), φ'' = −2t + 2t³ (critical points t = ±1/√3)
_TANH_D2 = ((0.0, -2.0, 0.0, 2.0), (-1.0 / _R3, 1.0 / _R3))
# sigmoid: φ' = s − s² (_s_one_minus_s), φ'' = s − 3s² + 2s³ (critical points s = (3 ± √3)/6)
_SIG_D2 = ((0.0, 1.0, -3.0, 2.0), ((3 - _R3) / 6, (3 + _R3) / 6))
_SCALED = re.compile(r"^\s*([0-9]+)(?:/([0-9]+))?\s*\*\s*(.+)$")


def _builtin(name):
    """The built-in smooth activation called ``name`` (tanh, sigmoid, softplus), else None."""
    if name not in ("tanh", "sigmoid", "softplus"):
        return None
    from .graph.activations import get_activation

    return get_activation(name)


def _one_minus_square(t: Interval) -> Interval:
    """Range of ``1 − t²`` over ``t ⊆ [−1, 1]`` (tanh'): ``1 − max t²`` … ``1 − min t²``, each square and
    difference rounded outward."""
    a = np.where((t.lo <= 0) & (t.hi >= 0), 0.0, np.minimum(np.abs(t.lo), np.abs(t.hi)))
    b = np.maximum(np.abs(t.lo), np.abs(t.hi))
    lo = _down(1.0 - _up(b * b))
    hi = _up(1.0 - np.maximum(_down(a * a), 0.0))
    return Interval(np.clip(lo, 0.0, 1.0), np.clip(hi, 0.0, 1.0))


def _s_one_minus_s(s: Interval) -> Interval:
    """Range of ``s (1 − s)`` over ``s ⊆ [0, 1]`` (sigmoid'): increasing up to ½ and decreasing after, so
    the minimum is at an end and the maximum at ``clip(½, lo, hi)``; each value rounded outward."""
    def low(x):
        return np.maximum(_down(x * _down(1.0 - x)), 0.0)

    m = np.clip(0.5, s.lo, s.hi)
    hi = _up(m * _up(1.0 - m))
    return Interval(np.minimum(low(s.lo), low(s.hi)), np.minimum(hi, 0.25))


def activation_enclosures(act, z: Interval) -> tuple[Interval, Interval, Interval]:
    r"""Enclosures of ``φ(z)``, ``φ'(z)`` and ``φ''(z)`` over intervals ``z``.

    Raises
    ------
    NotSmooth
        For a piecewise-linear activation when an interval meets a kink, and
        for activations without a known enclosure (custom ones).

    Examples
    --------
    >>> from symft.graph.activations import get_activation
    >>> v, d1, d2 = activation_enclosures(get_activation("tanh"), Interval(np.array([0.0]), np.array([1.0])))
    >>> bool(v.lo[0] <= 0 and v.hi[0] >= np.tanh(1.0) and d1.hi[0] >= 1.0 and d2.lo[0] <= -0.7698)
    True
    """
    return _enclosures(act, z, True)


def _enclosures(act, z: Interval, second: bool):
    """:func:`activation_enclosures`; ``second=False`` skips ``φ''`` (returned as ``None``)."""
    name = act.name
    if act.pieces is not None:
        return _pwl_enclosures(act, z)
    m = _SCALED.match(name)
    if m:
        q = Fraction(int(m.group(1)), int(m.group(2) or 1))
        base = _builtin(m.group(3))
        if base is None or act.expr != sp.Rational(q.numerator, q.denominator) * base.expr:
            raise NotSmooth(f"activation {name!r}: no interval enclosure of its derivatives is known to symft")
        lo, hi = _float_bounds(q)
        c = Interval(np.array(lo), np.array(hi))
        v, d1, d2 = _enclosures(base, z, second)
        return v * c, d1 * c, (d2 * c if second else None)
    if _builtin(name) != act:
        # a custom activation that only borrows a built-in's name (custom_activation(x**3, name="tanh"))
        raise NotSmooth(f"activation {name!r}: no interval enclosure of its derivatives is known to symft")
    if name == "tanh":
        lo, hi = _widen(np.tanh(z.lo), np.tanh(z.hi))
        t = Interval(lo, hi).clip(-1.0, 1.0)
        return t, _one_minus_square(t), (_poly_range(*_TANH_D2, t) if second else None)
    if name in ("sigmoid", "softplus"):
        lo, hi = _widen(_sigmoid(z.lo), _sigmoid(z.hi))
        s = Interval(lo, hi).clip(0.0, 1.0)
        if name == "sigmoid":
            return s, _s_one_minus_s(s), (_poly_range(*_SIG_D2, s) if second else None)
        vlo, vhi = _widen(np.logaddexp(0.0, z.lo), np.logaddexp(0.0, z.hi))
        return Interval(vlo, vhi).clip(0.0, np.inf), s, (_s_one_minus_s(s) if second else None)
    raise NotSmooth(f"activation {name!r}: no interval enclosure of its derivatives is known to symft")


def _pieces_enclosed(act):
    """Per piece: float enclosures of its end points, slope and intercept (exact rationals rounded outward)."""
    out = []
    for pc in act.pieces:
        lo = -np.inf if pc.lo == -sp.oo else _float_bounds(_exact(pc.lo))[0]
        hi = np.inf if pc.hi == sp.oo else _float_bounds(_exact(pc.hi))[1]
        sl, ic = _float_bounds(_exact(pc.slope)), _float_bounds(_exact(pc.intercept))
        out.append((lo, hi, sl, ic))
    return out


def _pwl_enclosures(act, z: Interval):
    """Value, slope and 0 of a piecewise-linear φ over ``z``, when every interval lies strictly inside
    one piece (else :class:`NotSmooth`).  Breakpoints, slopes and intercepts are exact rationals; each is
    enclosed by the two floats around it, so a scaled slope such as 1/3 is never rounded inward."""
    pieces = _pieces_enclosed(act)
    if len(pieces) == 1:
        _, _, sl, ic = pieces[0]
        s_iv = Interval(np.full(z.shape, sl[0]), np.full(z.shape, sl[1]))
        return z * s_iv + Interval(np.full(z.shape, ic[0]), np.full(z.shape, ic[1])), s_iv, Interval.zeros(z.shape)
    b_up = np.array([hi for _, hi, _, _ in pieces[:-1]])             # upper ends of the breakpoint enclosures
    b_dn = np.array([_float_bounds(_exact(pc.hi))[0] for pc in act.pieces[:-1]])
    # piece k: every breakpoint below it is < z.lo (strictly), and z.hi < its own breakpoint (strictly)
    k = np.searchsorted(b_up, z.lo, side="left")
    top = np.append(b_dn, np.inf)[k]
    bad = ~(z.hi < top)
    if bad.any():
        i = int(np.argwhere(bad.reshape(-1))[0][0])
        raise NotSmooth(f"activation {act.name!r}: a pre-activation interval "
                        f"[{z.lo.reshape(-1)[i]:.6g}, {z.hi.reshape(-1)[i]:.6g}] meets a kink over the crash box, "
                        "so the output is not twice differentiable there")
    sl = np.array([p[2] for p in pieces])
    ic = np.array([p[3] for p in pieces])
    s_iv = Interval(sl[k, 0], sl[k, 1])
    return z * s_iv + Interval(ic[k, 0], ic[k, 1]), s_iv, Interval.zeros(z.shape)


@dataclass(frozen=True, eq=False)
class _Jet:
    v: Interval          # (m,)
    g: Interval          # (m, n)
    h: Interval | None   # (m, n, n)


@dataclass(frozen=True, eq=False)
class DerivativeBounds:
    r"""Rigorous bounds of the first and second ξ-derivatives of ``y_L`` over the crash box.

    Attributes
    ----------
    M1 : ndarray (n_L, n)
        ``M1[k, a] ≥ sup |∂y_L^k/∂ξ_a|``.
    M2 : ndarray (n_L, n, n)
        ``M2[k, a, b] ≥ sup |∂²y_L^k/∂ξ_a∂ξ_b|`` (symmetric).
    xi : tuple of (layer, index)
        The order of the ξ indices.
    widths : tuple of int
        ``n_{l(a)}`` for every index ``a`` (used for P4's scaling).

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> bd = derivative_bounds(random_network([2, 3, 1], seed=0), np.array([0.5, -1.0]), [1])
    >>> bd.M1.shape, bd.M2.shape
    ((1, 3), (1, 3, 3))
    """

    M1: np.ndarray
    M2: np.ndarray
    xi: tuple
    widths: tuple

    @property
    def D1(self) -> float:
        """``max_{k,a} M1`` — the sup of the first ξ-derivatives.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> derivative_bounds(mean_network(2), np.ones(2), [0]).D1
        0.5...
        """
        return float(self.M1.max()) if self.M1.size else 0.0

    @property
    def D2(self) -> float:
        """``max_{k,a,b} M2`` — the sup of the second ξ-derivatives.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> derivative_bounds(mean_network(2), np.ones(2), [0]).D2
        0.0
        """
        return float(self.M2.max()) if self.M2.size else 0.0

    @property
    def D1_scaled(self) -> float:
        """``max n_{l(a)} M1[k, a]`` — D_1 in the units of P4 (operator derivative).

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> derivative_bounds(mean_network(2), np.ones(2), [0]).D1_scaled
        1.0...
        """
        w = np.asarray(self.widths, dtype=float)
        return float(_up((self.M1 * w).max())) if self.M1.size else 0.0

    @property
    def D2_scaled(self) -> float:
        """``max n_{l(a)} n_{l(b)} M2[k, a, b]`` — D_2 in the units of P4.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> derivative_bounds(mean_network(2), np.ones(2), [0]).D2_scaled
        0.0
        """
        w = np.asarray(self.widths, dtype=float)
        return float(_up((self.M2 * np.outer(w, w)).max())) if self.M2.size else 0.0


def _layer_rel(net, l) -> float:
    """Relative distance of layer ``l``'s stored float weights to the true ones (0 for a float layer)."""
    return 0.0 if net.layers[l - 1].is_float else 2.0 * _U


def _bias_box(net, l) -> Interval:
    b = net.bias(l)
    r = _layer_rel(net, l)
    if r == 0.0:
        return Interval.point(b)
    return Interval(_down(b - np.abs(b) * r - _TINY), _up(b + np.abs(b) * r + _TINY))


def _input_box(net, x) -> Interval:
    """Inputs as a ``(B, n_0)`` interval box: checked by :func:`symft.engines.forward.as_inputs`, then enclosed."""
    from .engines.forward import as_inputs

    if isinstance(x, Interval):
        lo, single = as_inputs(net, x.lo, "x")
        hi, _ = as_inputs(net, x.hi, "x")
        if not np.all(lo <= hi):
            raise InvalidArgument("x: expected an interval with lo <= hi")
        return Interval(lo, hi)
    a, single = as_inputs(net, x, "x")
    if isinstance(x, np.ndarray) and x.dtype.kind == "f":
        return Interval.point(a)
    e = enclose_numbers(np.asarray(x, dtype=object))
    return Interval(e.lo.reshape(a.shape), e.hi.reshape(a.shape))


def derivative_bounds(net, x, crash_layers, *, semantics: str = "output_zero",
                      force: bool = False) -> DerivativeBounds:
    r"""Rigorous ``sup`` bounds of ``|∂y/∂ξ|`` and ``|∂²y/∂ξ∂ξ|`` over ``ξ ∈ [0, 1]^n``.

    Parameters
    ----------
    net : Network
        Numeric weights (float or exact; exact values are rounded to
        float64 and the enclosures are widened by one ulp (relative
        ``2^-52``), so the bound holds for the exact network).
    x : array_like (n_0,) or Interval
        One input: floats (the binary values they hold), exact numbers
        (``Fraction``, ``"1/3"``; enclosed by :func:`enclose_numbers`), or an
        :class:`Interval` box of inputs (the bounds then hold over the box).
    crash_layers : NeuronCrash, mapping or iterable of int
    semantics : {"output_zero", "incoming_zeroed"}
    force : bool
        Skip the size guard (``max_l n_l · n²`` Hessian entries).

    Raises
    ------
    NotSmooth
        When the output is not twice differentiable on the box (a ReLU that
        can switch, a custom activation).
    TooLargeError
        When the Hessian jets would exceed :data:`MAX_JET_ENTRIES` entries.

    Examples
    --------
    >>> from symft.graph.network import first_input_network
    >>> bd = derivative_bounds(first_input_network(3), np.array([2.0, 0.0, 0.0]), [0])
    >>> bd.M1
    array([[2.0..., 0.0..., 0.0...]])
    """
    X0 = _input_box(net, x)
    if X0.shape[0] != 1:
        raise InvalidArgument("x: expected one input (call once per input of a batch)")
    layers = crash_layers_of(net, crash_layers)
    xi = tuple((l, i) for l in layers for i in range(net.widths[l]))
    n = len(xi)
    entries = max(net.widths) * n * n
    if entries > MAX_JET_ENTRIES and not force:
        raise TooLargeError(f"derivative bounds: Hessian jets of {entries:.3g} intervals "
                            f"(limit {MAX_JET_ENTRIES:.3g}); crash fewer layers, or force=True")
    offsets, o = {}, 0
    for l in layers:
        offsets[l] = o
        o += net.widths[l]
    n0 = net.n_inputs
    jet0 = _Jet(X0[0], Interval.zeros((n0, n)), Interval.zeros((n0, n, n)))

    def affine(l, j):
        W, b = net.weights(l), net.bias(l)
        # an exact layer is stored rounded to float64: each weight and bias is within one ulp
        # (relative 2^-52) of the true value; widen by that (w_rel), so the bound holds for the
        # exact network
        w_rel = _layer_rel(net, l)
        bi = _bias_box(net, l)
        return _Jet(_matvec(W, j.v, w_rel) + bi, _matvec(W, j.g, w_rel), _matvec(W, j.h, w_rel))

    def activate(l, j):
        act = net.activation(l)
        if act.pieces is not None and len(act.pieces) == 1 and float(act.pieces[0].slope) == 1.0 \
                and float(act.pieces[0].intercept) == 0.0:
            return j
        v, d1, d2 = activation_enclosures(act, j.v)
        g = j.g * Interval(d1.lo[:, None], d1.hi[:, None])
        gg = Interval(j.g.lo[:, :, None], j.g.hi[:, :, None]) * Interval(j.g.lo[:, None, :], j.g.hi[:, None, :])
        h = gg * Interval(d2.lo[:, None, None], d2.hi[:, None, None]) \
            + j.h * Interval(d1.lo[:, None, None], d1.hi[:, None, None])
        return _Jet(v, g, h)

    def crash(l, j):
        if l not in offsets:
            return j
        m_ = net.widths[l]
        o = offsets[l]
        c = Interval(np.zeros(m_), np.ones(m_))  # 1 − ξ_i ∈ [0, 1]
        if semantics == "incoming_zeroed" and l > 0:
            bi = _bias_box(net, l)
            a0, _, _ = activation_enclosures(net.activation(l), bi) \
                if net.activation(l).pieces is None else (_pwl_value(net.activation(l), bi), None, None)
            base = j.v - a0  # ŷ = (1 − ξ)(y − φ(b)) + φ(b)
        else:
            a0, base = None, j.v
        v = c * base + (a0 if a0 is not None else 0.0)
        g = j.g * Interval(c.lo[:, None], c.hi[:, None])
        idx = np.arange(m_)
        glo, ghi = g.lo.copy(), g.hi.copy()
        glo[idx, o + idx] = _down(glo[idx, o + idx] - base.hi)
        ghi[idx, o + idx] = _up(ghi[idx, o + idx] - base.lo)
        h = j.h * Interval(c.lo[:, None, None], c.hi[:, None, None])
        hlo, hhi = h.lo.copy(), h.hi.copy()
        # − δ_{a,o+i} G_b − δ_{b,o+i} G_a   (G: the gradient before the crash)
        hlo[idx, o + idx, :] = _down(hlo[idx, o + idx, :] - j.g.hi)
        hhi[idx, o + idx, :] = _up(hhi[idx, o + idx, :] - j.g.lo)
        hlo[idx, :, o + idx] = _down(hlo[idx, :, o + idx] - j.g.hi)
        hhi[idx, :, o + idx] = _up(hhi[idx, :, o + idx] - j.g.lo)
        return _Jet(v, Interval(glo, ghi), Interval(hlo, hhi))

    out = layer_walk(net, jet0, affine=affine, activate=activate, crash=crash)
    M1 = out.g.mag()
    M2 = out.h.mag()
    M2 = np.maximum(M2, np.swapaxes(M2, 1, 2))
    return DerivativeBounds(M1, M2, xi, tuple(net.widths[l] for l, _ in xi))


def _pwl_value(act, b: Interval):
    """Enclosure of a piecewise-linear φ (continuous or not, monotone or not) over ``b``: the hull, over
    the pieces that meet ``b``, of the piece's affine map on the overlap (outward-rounded interval
    arithmetic with the exact slopes and intercepts enclosed)."""
    lo = np.full(b.shape, np.inf)
    hi = np.full(b.shape, -np.inf)
    for plo, phi, sl, ic in _pieces_enclosed(act):
        a, c = np.maximum(b.lo, plo), np.minimum(b.hi, phi)
        meet = a <= c
        if not meet.any():
            continue
        a, c = np.where(meet, a, 0.0), np.where(meet, c, 0.0)
        v = Interval(a, c) * Interval(np.full(b.shape, sl[0]), np.full(b.shape, sl[1])) \
            + Interval(np.full(b.shape, ic[0]), np.full(b.shape, ic[1]))
        lo = np.where(meet, np.minimum(lo, v.lo), lo)
        hi = np.where(meet, np.maximum(hi, v.hi), hi)
    return Interval(lo, hi)


def gradient_enclosure(net, X, crash_layers, *, semantics: str = "output_zero") -> dict:
    r"""Rigorous enclosures of the T1 sensitivities ``g_l[b, k, i] = ∂y_L^k/∂ξ_l^i`` at ``ξ = 0``.

    The clean forward pass and the reverse sweep of :func:`symft.taylor.t1`
    (``J_L = I``, ``J_{l−1} = (J_l · φ'(z_l)) W_l``, ``g_l = J_l (c_l − y_l)``
    with ``c_l = 0`` or ``φ(b_l)`` under ``"incoming_zeroed"``), run in
    outward-rounded interval arithmetic (:func:`_imatmul`,
    :func:`activation_enclosures`), so each enclosure contains the exact real
    derivative of the network whose weights are the binary values of its
    floats (exact layers: within one ulp, see :func:`derivative_bounds`),
    at every input of the box ``X`` — whatever cancellation the float64
    passes suffer (``1e12 + 1e-5 − 1e12``).  Cost: a forward and a reverse
    pass with three matrix products per layer instead of one.

    Parameters
    ----------
    net : Network
    X : array_like (n_0,) or (B, n_0), or Interval
        Floats, exact numbers (enclosed) or a box.
    crash_layers : NeuronCrash, mapping or iterable of int
    semantics : {"output_zero", "incoming_zeroed"}

    Returns
    -------
    dict {layer: Interval}
        Arrays of shape ``(B, n_L, n_l)``.

    Raises
    ------
    NotSmooth
        When a derivative ``φ'(z)`` has no enclosure: a pre-activation at
        (or within rounding of) a kink, or a custom activation.

    Examples
    --------
    >>> from symft.graph.network import Network
    >>> net = Network.from_numpy([[[1e6], [1e-5], [-1e6]], [[-1e6, -2.0, -1e6]]], activations=["linear", "linear"],
    ...                          biases=[[1e3, 1e3, 1.001e6], [0.0]])
    >>> g = gradient_enclosure(net, [1.0], [0])[0]      # exact g = 1e12 + 2·1e-5 − 1e12 (binary values)
    >>> bool(g.lo[0, 0, 0] <= 2e-5 <= g.hi[0, 0, 0])
    True
    """
    from .faults import SEMANTICS

    if semantics not in SEMANTICS:
        raise InvalidArgument(f"semantics: expected one of {', '.join(map(repr, SEMANTICS))}, got {semantics!r}")
    layers = crash_layers_of(net, crash_layers)
    Y = _input_box(net, X)
    B, K, L = Y.shape[0], net.n_outputs, net.depth
    stop = min(layers) if layers else L
    ys, ds = {0: Y}, {}
    for l in range(1, L + 1):
        W = net.weights(l)
        Z = _imatmul(Y, W.T, _layer_rel(net, l)) + _bias_box(net, l)
        act = net.activation(l)
        if _is_identity(act):
            Y, d1 = Z, None
        else:
            Y, d1, _ = _enclosures(act, Z, False) if l > stop else (_value_only(act, Z), None, None)
        ys[l] = Y
        ds[l] = d1
    J = Interval.point(np.broadcast_to(np.eye(K), (B, K, K)).copy())
    Js = {L: J}
    for l in range(L, stop, -1):
        d1 = ds[l]
        if d1 is not None:
            J = J * Interval(d1.lo[:, None, :], d1.hi[:, None, :])
        J = _imatmul(Interval(J.lo.reshape(B * K, -1), J.hi.reshape(B * K, -1)), net.weights(l), _layer_rel(net, l))
        J = Interval(J.lo.reshape(B, K, -1), J.hi.reshape(B, K, -1))
        Js[l - 1] = J
    out = {}
    for l in layers:
        y = ys[l]
        if semantics == "incoming_zeroed" and l > 0:
            act = net.activation(l)
            bi = _bias_box(net, l)
            c = _pwl_value(act, bi) if act.pieces is not None else _enclosures(act, bi, False)[0]
            d = Interval(c.lo[None, :], c.hi[None, :]) - y
        else:
            d = -y
        out[l] = Js[l] * Interval(d.lo[:, None, :], d.hi[:, None, :])
    return out


def _is_identity(act) -> bool:
    return act.pieces is not None and len(act.pieces) == 1 and act.pieces[0].slope == 1 \
        and act.pieces[0].intercept == 0


def _value_only(act, z: Interval) -> Interval:
    """``φ(z)`` enclosed, kinks allowed (below the lowest crashed layer no derivative is needed)."""
    if act.pieces is not None:
        return _pwl_value(act, z)
    return _enclosures(act, z, False)[0]
