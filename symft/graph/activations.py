r"""Activation functions: one registry, every view of each function in one place.

Each :class:`Activation` knows

* its SymPy expression in the variable :data:`S` (``s``), used by the
  symbolic and exact paths;
* a NumPy implementation and its first and second derivatives, used by the
  batched numeric paths (the backward pass, T1);
* its Lipschitz constant ``K`` (``sympy.oo`` when it has none, e.g. ``step``);
* whether it is smooth (C\ :sup:`∞`), which the Taylor-based results need;
* its linear pieces when it is piecewise linear, for the SMT/SAT back ends;
* its range ``(lo, hi)``, from which ``sup |φ|`` (the constant C of Forward
  Error Propagation) follows;
* its exact evaluation on rationals (:meth:`Activation.rational_fn`,
  piecewise-linear functions with rational pieces), its mpmath evaluation at
  the working precision (:meth:`Activation.mp_fn`, constants exact), a sound
  enclosure of its image of a box (:meth:`Activation.box`), of its first
  and second derivatives over a box (:meth:`Activation.derivative_box`, for
  the interval derivative interpretations behind T1's remainder) and a
  bound on its slope over a box (:meth:`Activation.slope_bound`), used by
  the interpretations of :mod:`symft.walk`.

The built-ins are ``linear``, ``relu``, ``sigmoid``, ``tanh``, ``softplus``,
``hardtanh``, ``ramp`` (``clip(s + 1, 0, 1)``, the corrected P1 activation of
theory E1), ``step`` (Heaviside, 1 for ``s > 0``) and ``relu6``; with
parameters: ``leaky_relu(a)``, ``elu(a)``, ``clip(lo,hi)`` and
``hardsigmoid(a,b)`` (``max(0, min(1, a·s + b))``), the parameters written
as exact rationals (``"leaky_relu(1/100)"``).  A custom activation is
made from a SymPy ``Lambda`` with :func:`custom_activation`.  A name of the
form ``"c*name"`` with a rational ``c`` (e.g. ``"4*sigmoid"``) denotes the
scaled function ``c·φ``; the K-Lipschitz rescaling of theory §1 produces such
names, so rescaled networks save and load like any other.

Conventions at kinks (piecewise-linear functions): derivatives are taken from
the left piece under the half-open convention ``lo < s <= hi``, so
``relu'(0) = 0`` and ``step(0) = 0``.

Examples
--------
>>> from symft.graph.activations import get_activation
>>> relu = get_activation("relu")
>>> relu(np.array([-1.0, 2.0]))
array([0., 2.])
>>> relu.lipschitz, relu.smooth, len(relu.pieces)
(1, False, 2)
>>> get_activation("sigmoid").lipschitz
1/4
"""

from __future__ import annotations

import math
import re
from dataclasses import FrozenInstanceError, dataclass
from fractions import Fraction
from functools import cache, cached_property
from typing import Callable

import numpy as np
from ..lazyimport import is_sympy, sympy as sp

from ..errors import InvalidArgument, NotSmooth
from .numbers import float_enclosure

__all__ = [
    "S",
    "ETA",
    "Piece",
    "Activation",
    "get_activation",
    "register_activation",
    "custom_activation",
    "activation_names",
    "parametric_activation",
    "builtin_form",
]



@cache
def _s():
    """The SymPy variable every activation expression is written in (``S``, made on first use)."""
    return sp.Symbol("s", real=True)


#: The SymPy variable every activation expression is written in (made, and SymPy imported, on first use).
S: sp.Symbol


def __getattr__(name):
    # S, the SymPy variable ``s`` of every activation expression, is made (and SymPy imported) on first use
    if name == "S":
        return _s()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

#: Assumed relative accuracy of NumPy's transcendental functions:
#: ``|fl φ(z) − φ(z)| ≤ ETA (|φ(z)| + |z| + 1)`` (about 256 ulp; NumPy's ``exp`` and
#: ``tanh`` are accurate to a few ulp).  Sound enclosures (:meth:`Activation.box`) widen by it.
ETA = 2.0 ** -44


@dataclass(frozen=True)
class Piece:
    """One linear piece ``φ(s) = slope·s + intercept`` for ``lo < s <= hi``.

    The first piece of an activation has ``lo = -oo`` and the last
    ``hi = +oo`` (where ``s <= oo`` is read as "every real s").  Endpoints
    are SymPy numbers, so solvers get exact breakpoints.

    Examples
    --------
    >>> p = Piece(sp.Integer(0), sp.oo, sp.Integer(1), sp.Integer(0))
    >>> p.contains(3), p.contains(0)
    (True, False)
    """

    lo: sp.Expr
    hi: sp.Expr
    slope: sp.Expr
    intercept: sp.Expr

    def contains(self, s) -> bool:
        """Whether ``s`` lies in ``(lo, hi]``.

        Examples
        --------
        >>> Piece(-sp.oo, sp.Integer(0), sp.Integer(0), sp.Integer(0)).contains(0)
        True
        """
        return bool(self.lo < s) and (self.hi == sp.oo or bool(s <= self.hi))


def _pieces_to_expr(pieces):
    S = _s()
    args = []
    for pc in pieces:
        value = pc.slope * S + pc.intercept
        if pc.hi == sp.oo:
            args.append((value, True))
        else:
            args.append((value, S <= pc.hi))
    return sp.Piecewise(*args)


def _clip_bounds(pieces, his, intercepts):
    """``(lo, hi)`` (None for an open side) when the pieces are a clip: constant ``lo``, identity, constant ``hi``."""
    kinds = []
    for pc in pieces:
        if pc.slope == 0:
            kinds.append("c")
        elif pc.slope == 1 and pc.intercept == 0:
            kinds.append("i")
        else:
            return None
    if kinds not in (["i"], ["c", "i"], ["i", "c"], ["c", "i", "c"]):
        return None
    lo = intercepts[0] if kinds[0] == "c" else None
    hi = intercepts[-1] if kinds[-1] == "c" else None
    if (lo is not None and lo != his[0]) or (hi is not None and hi != his[-1]):
        return None
    return (lo, hi)


def _pieces_numpy(pieces):
    """NumPy value and derivative of a piecewise-linear function."""
    his = [float(pc.hi) for pc in pieces[:-1]]    # plain numbers: SymPy is not needed here
    slopes = np.array([float(pc.slope) for pc in pieces])
    intercepts = np.array([float(pc.intercept) for pc in pieces])

    def index(z):
        # lo < s <= hi  <=>  number of breakpoints strictly below s
        return np.searchsorted(his, z, side="left")

    bounds = _clip_bounds(pieces, his, intercepts)

    def value(z):
        if bounds is not None and isinstance(z, np.ndarray) and z.dtype == np.float64 and z.ndim:
            # a clip (relu, relu6, hardtanh, clip(lo,hi), linear): the same numbers as below, faster
            lo, hi = bounds
            if lo is None and hi is None:
                out = z + 0.0
            elif hi is None:
                out = np.maximum(z, lo)
            elif lo is None:
                out = np.minimum(z, hi)
            else:
                out = np.minimum(np.maximum(z, lo), hi)
            out += 0.0                    # 0·z + c and 1·z + 0 give +0 for −0: so does this
            with np.errstate(over="ignore", invalid="ignore"):
                suspect = not np.isfinite(np.add.reduce(z, axis=None))
            if suspect:                   # an inf or NaN (0·(±inf) is NaN below): those entries as below
                bad = ~np.isfinite(z)
                zb = z[bad]
                k = index(zb)
                out[bad] = slopes[k] * zb + intercepts[k]
            return out
        k = index(z)
        return slopes[k] * z + intercepts[k]

    def d1(z):
        return slopes[index(z)]

    def d2(z):
        return np.zeros(np.shape(z))

    return value, d1, d2


def _exp_neg_abs(z, c=1.0):
    # exp(-c|z|) may underflow to 0 (or a subnormal) for large |z|: that *is* the correctly
    # rounded value, so the underflow is not an error.
    with np.errstate(under="ignore"):
        return np.exp(-c * np.abs(z))


def _sigmoid(z):
    e = _exp_neg_abs(z)
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _sigmoid_d1(z):
    # σ' = e / (1 + e)² with e = exp(-|z|): no cancellation, accurate in relative terms.
    e = _exp_neg_abs(z)
    with np.errstate(under="ignore"):
        return e / (1.0 + e) ** 2


def _sigmoid_d2(z):
    # σ'' = σ(1-σ)(1-2σ) = sign(z) · e (e - 1) / (1 + e)³ with e = exp(-|z|).
    e = _exp_neg_abs(z)
    with np.errstate(under="ignore"):
        return np.sign(z) * e * (e - 1.0) / (1.0 + e) ** 3


def _softplus(z):
    return np.logaddexp(0.0, z)


def _tanh_d1(z):
    # tanh' = sech² = 4 e₂ / (1 + e₂)² with e₂ = exp(-2|z|): accurate for large |z|.
    e2 = _exp_neg_abs(z, 2.0)
    with np.errstate(under="ignore"):
        return 4.0 * e2 / (1.0 + e2) ** 2


def _tanh_d2(z):
    with np.errstate(under="ignore"):
        return -2.0 * np.tanh(z) * _tanh_d1(z)


class _Later:
    """A value computed on first use (the SymPy views of the built-ins, so that float work never imports SymPy)."""

    __slots__ = ("make",)

    def __init__(self, make):
        self.make = make


_LAZY_FIELDS = ("expr", "lipschitz", "pieces", "range")


class Activation:
    """An activation function with all the views symft needs.

    Use :func:`get_activation` for the built-ins and
    :func:`custom_activation` to make a new one; the constructor is low level.

    Parameters
    ----------
    name : str
        Registry name, written into network files.
    expr : sympy.Expr
        The function as an expression in :data:`S`.
    numpy_fn, numpy_d1, numpy_d2 : callable
        Vectorized value, first and second derivative (float64 arrays in,
        float64 arrays out).
    lipschitz : sympy.Expr or None
        Lipschitz constant ``K`` (``sympy.oo`` if none exists, ``None`` if
        unknown).
    smooth : bool
        Whether the function is C-infinity on the reals.
    pieces : tuple of Piece or None
        The linear pieces when the function is piecewise linear.
    range : tuple
        ``(inf φ, sup φ)`` over the reals, SymPy numbers (may be infinite).
    monotone : bool
        Whether the function is non-decreasing (interval bounds use it).

    Examples
    --------
    >>> t = get_activation("tanh")
    >>> t.expr
    tanh(s)
    >>> float(t.sympy(sp.Integer(0)))
    0.0
    >>> t.sup_abs
    1
    """

    def __init__(self, name: str, expr, numpy_fn: Callable, numpy_d1: Callable, numpy_d2: Callable,
                 lipschitz=None, smooth: bool = False, pieces: tuple | None = None, range: tuple | None = None,
                 monotone: bool = True, *, _plain_lipschitz=_Later(None), _from_registry: bool = False):
        if range is None:
            range = _Later(lambda: (-sp.oo, sp.oo))
        put = object.__setattr__
        for k, v in (("name", name), ("_expr", expr), ("numpy_fn", numpy_fn), ("numpy_d1", numpy_d1),
                     ("numpy_d2", numpy_d2), ("_lipschitz", lipschitz), ("smooth", smooth), ("_pieces", pieces),
                     ("_range", range), ("monotone", monotone), ("_has_pieces", pieces is not None),
                     ("_plain_lipschitz", _plain_lipschitz), ("_from_registry", _from_registry)):
            put(self, k, v)

    def __setattr__(self, attr, value):
        raise FrozenInstanceError(f"cannot assign to field {attr!r}")

    def __delattr__(self, attr):
        raise FrozenInstanceError(f"cannot delete field {attr!r}")

    def _field(self, key):
        v = self.__dict__[key]
        if isinstance(v, _Later):
            v = v.make()
            object.__setattr__(self, key, v)
        return v

    @property
    def expr(self):
        """The function as a SymPy expression in ``S``.

        Examples
        --------
        >>> get_activation("relu").expr
        Piecewise((0, s <= 0), (s, True))
        """
        return self._field("_expr")

    @property
    def lipschitz(self):
        """The Lipschitz constant ``K``: a SymPy number, ``sympy.oo`` if none exists, ``None`` if unknown.

        Examples
        --------
        >>> get_activation("step").lipschitz
        oo
        """
        return self._field("_lipschitz")

    @property
    def lipschitz_plain(self):
        """:attr:`lipschitz` without SymPy for the built-ins: a ``Fraction``, ``math.inf`` if none exists,
        ``None`` if unknown, or the SymPy number when it is not rational.

        Examples
        --------
        >>> get_activation("sigmoid").lipschitz_plain, get_activation("step").lipschitz_plain
        (Fraction(1, 4), inf)
        """
        v = self.__dict__["_plain_lipschitz"]
        if isinstance(v, _Later):
            v = _plain_number(self.lipschitz)
            object.__setattr__(self, "_plain_lipschitz", v)
        return v

    @property
    def pieces(self):
        """The linear pieces (:class:`Piece`) when the function is piecewise linear, else ``None``.

        Examples
        --------
        >>> [p.slope for p in get_activation("relu").pieces]
        [0, 1]
        """
        return self._field("_pieces")

    @property
    def range(self):
        """``(inf φ, sup φ)`` over the reals, SymPy numbers (may be infinite).

        Examples
        --------
        >>> get_activation("tanh").range
        (-1, 1)
        """
        return self._field("_range")

    def __call__(self, z):
        """Apply the NumPy implementation to a float array.

        Examples
        --------
        >>> get_activation("ramp")(np.array([-2.0, -0.5, 3.0]))
        array([0. , 0.5, 1. ])
        """
        return self.numpy_fn(np.asarray(z, dtype=float))

    def derivative(self, z, order: int = 1):
        """First or second derivative at the points ``z`` (NumPy).

        Examples
        --------
        >>> get_activation("sigmoid").derivative(np.array([0.0]))
        array([0.25])
        """
        z = np.asarray(z, dtype=float)
        if order == 1:
            return self.numpy_d1(z)
        if order == 2:
            return self.numpy_d2(z)
        raise InvalidArgument(f"order: expected 1 or 2, got {order!r}")

    @property
    def is_piecewise_linear(self) -> bool:
        """Whether :attr:`pieces` is known.

        Examples
        --------
        >>> get_activation("hardtanh").is_piecewise_linear
        True
        """
        return self._has_pieces

    @property
    def is_linear(self) -> bool:
        """Whether φ(s) = s.

        Examples
        --------
        >>> get_activation("linear").is_linear, get_activation("relu").is_linear
        (True, False)
        """
        return sp.simplify(self.expr - _s()) == 0

    @property
    def sup_abs(self):
        """``sup |φ|`` over the reals (a SymPy number, possibly ``oo``).

        Examples
        --------
        >>> get_activation("relu").sup_abs
        oo
        """
        lo, hi = self.range
        return sp.Max(sp.Abs(lo), sp.Abs(hi))

    def sympy(self, value):
        """Apply the SymPy expression to ``value`` (a number or expression).

        Rationals in give rationals out for piecewise-linear activations.

        Examples
        --------
        >>> get_activation("relu").sympy(sp.Rational(-1, 3))
        0
        >>> get_activation("ramp").sympy(sp.Rational(-1, 3))
        2/3
        """
        return self.expr.xreplace({_s(): sp.sympify(value)})

    def scaled(self, c) -> "Activation":
        """The activation ``c·φ`` (used by the K-Lipschitz rescaling).

        Parameters
        ----------
        c : number
            A positive rational (or anything SymPy turns into one exactly).

        Examples
        --------
        >>> a = get_activation("sigmoid").scaled(4)
        >>> a.name, a.lipschitz
        ('4*sigmoid', 1)
        """
        c = sp.nsimplify(c) if isinstance(c, float) else sp.sympify(c)
        if not (c.is_Rational and c > 0):
            raise InvalidArgument(f"scale: expected a positive rational, got {c}")
        if c == 1:
            return self
        base, c0 = _split_scaled_name(self.name)
        c_total = c * c0
        name = base if c_total == 1 else f"{c_total}*{base}"
        cf = float(c)
        pieces = None
        if self.pieces is not None:
            pieces = tuple(Piece(p.lo, p.hi, c * p.slope, c * p.intercept) for p in self.pieces)
        f, d1, d2 = self.numpy_fn, self.numpy_d1, self.numpy_d2
        return Activation(
            name=name,
            expr=c * self.expr,
            numpy_fn=lambda z: cf * f(z),
            numpy_d1=lambda z: cf * d1(z),
            numpy_d2=lambda z: cf * d2(z),
            lipschitz=None if self.lipschitz is None else c * self.lipschitz,
            smooth=self.smooth,
            pieces=pieces,
            range=(c * self.range[0], c * self.range[1]),
            monotone=self.monotone,
        )

    def __getstate__(self):
        """The fields without the cached views below: those are rebuilt on demand, and some (the mpmath
        function) do not survive pickling, which sending a network to another process needs.

        Examples
        --------
        >>> a = get_activation("tanh"); _ = a.mp_fn
        >>> "mp_fn" in a.__dict__, "mp_fn" in a.__getstate__()
        (True, False)
        """
        cls = type(self)
        state = {}
        for k, v in self.__dict__.items():
            if isinstance(getattr(cls, k, None), cached_property):
                continue
            state[k] = self.lipschitz_plain if k == "_plain_lipschitz" else self._field(k)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)

    def __reduce_ex__(self, protocol):
        """An activation the registry makes from its name alone travels as that name (so that sending a
        float network to another process does not import SymPy); any other travels as its fields.

        Examples
        --------
        >>> import pickle
        >>> pickle.loads(pickle.dumps(get_activation("relu"))) is get_activation("relu")
        True
        """
        if self._from_registry:
            return get_activation, (self.name,)
        return super().__reduce_ex__(protocol)

    # ------------------------------------------------------------------ views for the interpretations
    @cached_property
    def rational_fn(self):
        """A ``Fraction → Fraction`` function evaluating φ exactly, or ``None``.

        Exists for piecewise-linear functions whose pieces have rational
        slopes, intercepts and breakpoints.

        Examples
        --------
        >>> get_activation("relu").rational_fn(Fraction(-1, 3)), get_activation("ramp").rational_fn(Fraction(-1, 3))
        (Fraction(0, 1), Fraction(2, 3))
        >>> get_activation("tanh").rational_fn is None
        True
        """
        if self.pieces is None:
            return None
        pieces = []
        for pc in self.pieces:
            if not (pc.slope.is_Rational and pc.intercept.is_Rational and (pc.hi == sp.oo or pc.hi.is_Rational)):
                return None
            pieces.append((None if pc.hi == sp.oo else Fraction(int(pc.hi.p), int(pc.hi.q)),
                           Fraction(int(pc.slope.p), int(pc.slope.q)),
                           Fraction(int(pc.intercept.p), int(pc.intercept.q))))
        if len(pieces) == 1 and pieces[0][1] == 1 and pieces[0][2] == 0:
            return lambda v: v

        def f(v):
            for hi, a, b in pieces:
                if hi is None or v <= hi:
                    return a * v + b
            raise AssertionError("unreachable: the last piece is unbounded")  # pragma: no cover
        return f

    @cached_property
    def mp_fn(self):
        """φ as an ``mpmath`` function at the working precision of ``mpmath.mp`` (constants exact).

        Examples
        --------
        >>> import mpmath
        >>> with mpmath.workdps(50):
        ...     v = get_activation("1/2*tanh").mp_fn(mpmath.mpf(1))
        ...     bool(abs(v - mpmath.tanh(1) / 2) < mpmath.mpf(10) ** -45)
        True
        """
        return sp.lambdify(_s(), self.expr, "mpmath")

    def box(self, lo, hi):
        """A sound enclosure ``(ylo, yhi)`` of ``{φ(z) : lo ≤ z ≤ hi}`` (true values, float64 arrays).

        Piecewise-linear functions: the hull, over the pieces that meet
        ``[lo, hi]``, of the piece's affine map on the overlap, with the
        exact breakpoints, slopes and intercepts each enclosed by the two
        floats around them and every product and sum rounded outward (so
        ``1/3*relu`` is enclosed to a few ulps, jumps included).  Other
        monotone functions are evaluated at the ends and widened by the
        assumed accuracy :data:`ETA`; others use the Lipschitz constant
        around ``φ(0)``.  The result is clipped to the range of φ (its ends
        rounded outward).

        Examples
        --------
        >>> ylo, yhi = get_activation("sigmoid").box(np.array([0.0]), np.array([1.0]))
        >>> bool(ylo[0] <= 0.5 and yhi[0] >= 1 / (1 + np.exp(-1.0)))
        True
        >>> ylo, yhi = get_activation("1/3*relu").box(np.array([-1.0]), np.array([1.0]))
        >>> float(ylo[0]), Fraction(yhi[0]) >= Fraction(1, 3)
        (0.0, True)
        """
        lo = np.asarray(lo, dtype=float)
        hi = np.asarray(hi, dtype=float)
        if self.name == "linear":
            return lo.copy(), hi.copy()
        rlo, rhi = self._range_enclosed
        if self._has_pieces:
            ylo, yhi = self._pwl_box(lo, hi)
        elif self.monotone:
            with np.errstate(over="ignore", invalid="ignore"):
                a, b = self(lo), self(hi)
            slack = ETA * (np.maximum(np.abs(a), np.abs(b)) + np.maximum(np.abs(lo), np.abs(hi)) + 1.0)
            ylo, yhi = a - slack, b + slack
        else:
            K = self.lipschitz
            if K is None or K == sp.oo:
                ylo, yhi = np.full_like(lo, -np.inf), np.full_like(hi, np.inf)
            else:
                R = np.maximum(np.abs(lo), np.abs(hi))
                f0 = float(self(np.zeros(1))[0])
                ylo = f0 - float(K) * R * (1 + 1e-12) - 1e-300
                yhi = f0 + float(K) * R * (1 + 1e-12) + 1e-300
        return np.maximum(ylo, rlo), np.minimum(yhi, rhi)

    @cached_property
    def _range_enclosed(self):
        """The ends of the range of φ, rounded outward (infinite ends stay infinite)."""
        def end(v, side):
            if v == sp.oo or v == -sp.oo:
                return float(v)
            if v.is_Rational:
                return float_enclosure(_fraction(v))[side]
            f = float(v)
            return float(np.nextafter(np.nextafter(f, (-np.inf, np.inf)[side]), (-np.inf, np.inf)[side]))
        return end(self.range[0], 0), end(self.range[1], 1)

    def _pwl_box(self, lo, hi):
        ylo = np.full(np.broadcast(lo, hi).shape, np.inf)
        yhi = np.full(ylo.shape, -np.inf)
        with np.errstate(invalid="ignore", over="ignore"):
            for plo, phi, _, (slo, shi), (clo, chi) in self._pieces_enclosed:
                a, b = np.maximum(lo, plo), np.minimum(hi, phi)
                meet = a <= b
                if not meet.any():
                    continue
                if slo == shi == 0.0:
                    vlo, vhi = np.full(a.shape, clo), np.full(a.shape, chi)
                else:
                    t = np.stack([a * slo, a * shi, b * slo, b * shi])
                    vlo = np.nextafter(np.nextafter(t.min(axis=0), -np.inf) + clo, -np.inf)
                    vhi = np.nextafter(np.nextafter(t.max(axis=0), np.inf) + chi, np.inf)
                ylo = np.where(meet, np.minimum(ylo, vlo), ylo)
                yhi = np.where(meet, np.maximum(yhi, vhi), yhi)
        bad = np.isnan(lo) | np.isnan(hi)
        if bad.any():
            ylo, yhi = np.where(bad, np.nan, ylo), np.where(bad, np.nan, yhi)
        return ylo, yhi

    def slope_bound(self, lo, hi):
        """An upper bound of ``sup |φ'|`` over each ``[lo, hi]``; ``inf`` where a jump lies inside.

        Exact for piecewise-linear functions, sigmoid, tanh, softplus and
        their scaled versions; the Lipschitz constant otherwise.

        Examples
        --------
        >>> get_activation("relu").slope_bound(np.array([-2.0, -2.0]), np.array([-1.0, 1.0]))
        array([0., 1.])
        """
        zlo = np.asarray(lo, dtype=float)
        zhi = np.asarray(hi, dtype=float)
        K = self.lipschitz
        Kf = np.inf if (K is None or K == sp.oo) else float(K) * (1 + 1e-15)
        if self.pieces is not None:
            out = np.zeros_like(zlo)
            pcs = self.pieces
            for j, pc in enumerate(pcs):
                plo = -np.inf if pc.lo == -sp.oo else float(pc.lo)
                phi = np.inf if pc.hi == sp.oo else float(pc.hi)
                touch = (zhi >= plo) & (zlo <= phi)
                out = np.where(touch, np.maximum(out, abs(float(pc.slope))), out)
                if j + 1 < len(pcs):
                    nxt = pcs[j + 1]
                    if sp.simplify(pc.slope * pc.hi + pc.intercept - (nxt.slope * pc.hi + nxt.intercept)) != 0:
                        out = np.where((zlo <= phi) & (zhi >= phi), np.inf, out)
            return out * (1 + 1e-15)
        base, c = _split_scaled_name(self.name)
        if base in ("sigmoid", "tanh", "softplus") and c != 1:
            return get_activation(base).slope_bound(zlo, zhi) * float(c) * (1 + 2.0 ** -50)
        with np.errstate(over="ignore"):
            if base in ("sigmoid", "tanh"):
                d = np.maximum(self.derivative(zlo), self.derivative(zhi)) * (1 + 2.0 ** -40)
                peak = (zlo <= 0) & (zhi >= 0)
                return np.minimum(np.where(peak, Kf, d), Kf)
            if base == "softplus":
                return np.minimum(self.derivative(zhi) * (1 + 2.0 ** -40), Kf)
        return np.full_like(zlo, Kf)

    def derivative_box(self, lo, hi, order: int = 1):
        """A sound enclosure ``(dlo, dhi)`` of ``{φ^(k)(z) : lo ≤ z ≤ hi}``, ``k = order`` (float64 arrays).

        ``order=0`` is :meth:`box`.  The enclosures contain the true real
        derivatives:

        * **piecewise-linear** functions have ``φ' = slope`` and ``φ'' = 0``
          on an interval that lies *strictly* inside one piece; the
          breakpoints and slopes are exact rationals, each enclosed by the
          two floats around it (a scaled slope such as ``1/3`` is never
          rounded inward), so the test "strictly inside" is made against
          the outer float of each breakpoint;
        * ``tanh``, ``sigmoid`` and ``softplus`` have derivatives that are
          polynomials of ``t = tanh(z)`` or ``s = σ(z)``
          (``tanh' = 1 − t²``, ``tanh'' = −2t + 2t³``, ``σ' = s − s²``,
          ``σ'' = s − 3s² + 2s³``, ``softplus' = σ``, ``softplus'' = σ'``);
          ``t`` and ``s`` are enclosed by :meth:`box` (monotone), and the
          range of each polynomial over that enclosure is the hull of its
          values at the ends and at the critical points inside (closed
          forms), computed in float64 (every term ≤ 2 in magnitude, so a
          few ulps of error) and widened by :data:`ETA`;
        * ``elu(a)`` on an interval strictly below 0 has
          ``φ' = φ'' = a·e^z`` (increasing: its ends, widened by
          :data:`ETA` relative), strictly above 0 ``φ' = 1``, ``φ'' = 0``;
        * ``c*name`` is ``c`` (enclosed exactly) times the enclosure of
          ``name``.

        Raises
        ------
        NotSmooth
            Where an interval meets a kink (or, for ``elu``, 0), and for
            functions without a known enclosure: custom activations, also
            those that borrow a built-in's name (``custom_activation(5 s³,
            name="tanh")`` is not tanh).

        Examples
        --------
        >>> dlo, dhi = get_activation("tanh").derivative_box(np.array([0.0]), np.array([1.0]), 2)
        >>> bool(dlo[0] <= -4 / (3 * 3 ** 0.5) and dhi[0] >= 0.0)
        True
        >>> dlo, dhi = get_activation("1/3*relu").derivative_box(np.array([0.5]), np.array([2.0]))
        >>> Fraction(dlo[0]) < Fraction(1, 3) < Fraction(dhi[0])
        True
        >>> get_activation("relu").derivative_box(np.array([-1.0]), np.array([1.0]))
        Traceback (most recent call last):
        ...
        symft.errors.NotSmooth: activation 'relu': the interval [-1, 1] meets a kink, where φ has no derivative
        """
        lo = np.asarray(lo, dtype=float)
        hi = np.asarray(hi, dtype=float)
        if isinstance(order, bool) or order not in (0, 1, 2):
            raise InvalidArgument(f"order: expected 0, 1 or 2, got {order!r}")
        if order == 0:
            return self.box(lo, hi)
        if self._has_pieces:
            return self._pwl_derivative_box(lo, hi, order)
        base, c = _split_scaled_name(self.name)
        if c != 1:
            b = _known_function(base)
            if b is None or self.expr != c * b.expr:
                raise NotSmooth(f"activation {self.name!r}: no enclosure of its derivatives is known to symft")
            dlo, dhi = b.derivative_box(lo, hi, order)
            clo, chi = float_enclosure(Fraction(int(c.p), int(c.q)))
            with np.errstate(invalid="ignore"):
                return (np.nextafter(np.minimum(dlo * clo, dlo * chi), -np.inf),
                        np.nextafter(np.maximum(dhi * clo, dhi * chi), np.inf))
        if _known_function(self.name) != self:
            raise NotSmooth(f"activation {self.name!r}: no enclosure of its derivatives is known to symft")
        if self.name.startswith("elu("):
            return _elu_derivative_box(self, lo, hi, order)
        return _SMOOTH_DERIVATIVES[self.name](lo, hi, order)

    @cached_property
    def _pieces_enclosed(self):
        """Per piece: the outer floats of its ends, the float below its upper end, and float enclosures of
        its exact slope and intercept."""
        out = []
        for pc in self.pieces:
            plo = -np.inf if pc.lo == -sp.oo else float_enclosure(_fraction(pc.lo))[0]
            phi = np.inf if pc.hi == sp.oo else float_enclosure(_fraction(pc.hi))[1]
            inner_hi = np.inf if pc.hi == sp.oo else float_enclosure(_fraction(pc.hi))[0]
            out.append((plo, phi, inner_hi, float_enclosure(_fraction(pc.slope)),
                        float_enclosure(_fraction(pc.intercept))))
        return tuple(out)

    def _pwl_derivative_box(self, lo, hi, order):
        pieces = self._pieces_enclosed
        # piece k holds [lo, hi] strictly when every breakpoint below it is < lo (its float above
        # is, too) and hi < its own breakpoint (its float below is, too)
        b_up = np.array([p[1] for p in pieces[:-1]])
        b_dn = np.array([p[2] for p in pieces[:-1]] + [np.inf])
        k = np.searchsorted(b_up, lo, side="left")
        bad = ~(hi < b_dn[k]) | np.isnan(lo) | np.isnan(hi)
        if np.any(bad):
            i = int(np.argwhere(np.reshape(bad, -1))[0][0])
            raise NotSmooth(f"activation {self.name!r}: the interval [{np.reshape(lo, -1)[i]:.6g}, "
                            f"{np.reshape(hi, -1)[i]:.6g}] meets a kink, where φ has no derivative")
        if order == 2:
            return np.zeros(lo.shape), np.zeros(hi.shape)
        sl = np.array([p[3] for p in pieces])
        return sl[k, 0], sl[k, 1]
    @cached_property
    def box_is_rigorous(self) -> bool:
        """Whether :meth:`box` and :meth:`slope_bound` are proved enclosures, not only plausible ones.

        True for piecewise-linear functions (exact pieces) and for symft's
        own smooth functions — tanh, sigmoid, softplus, elu and their
        positive multiples — whose NumPy code is accurate far within
        :data:`ETA`.  False for a custom activation: its NumPy code is a
        lambdified expression of unknown accuracy, so results built on its
        box should be labelled not rigorous.

        Examples
        --------
        >>> get_activation("1/2*tanh").box_is_rigorous, get_activation("relu").box_is_rigorous
        (True, True)
        >>> from symft.graph.activations import S
        >>> custom_activation(sp.Lambda(S, S / (1 + S ** 2)), name="bump_box_doc").box_is_rigorous
        False
        """
        if self._has_pieces:
            return True
        base, _ = _split_scaled_name(self.name)
        if base not in ("tanh", "sigmoid", "softplus") and not base.startswith("elu("):
            return False
        try:     # the registry's own function, not a custom one that borrowed its name
            return get_activation(self.name) == self
        except InvalidArgument:
            return False

    def __eq__(self, other):
        if not isinstance(other, Activation):
            return NotImplemented
        if self is other:
            return True
        if self.name != other.name:
            return False
        # the registry makes an activation from its name alone, so two it made with one name are one function
        return (self._from_registry and other._from_registry) or self.expr == other.expr

    def __hash__(self):
        return hash(self.name)     # equal activations have equal names

    def __repr__(self):
        return f"Activation({self.name!r})"


class _PlainPiece:
    """A piece in plain numbers (``Fraction``/``int``, ``±math.inf`` for the open ends)."""

    __slots__ = ("lo", "hi", "slope", "intercept")

    def __init__(self, lo, hi, slope, intercept):
        self.lo, self.hi, self.slope, self.intercept = lo, hi, slope, intercept


def _plain_number(v):
    """A number as ``Fraction`` (``int`` kept), ``±math.inf`` for ``±oo``, ``None`` kept, else the value as is."""
    if v is None or isinstance(v, (int, Fraction)) or v in (math.inf, -math.inf):
        return v
    if is_sympy(v):
        if v.is_Rational:
            return Fraction(int(v.p), int(v.q))
        if v == sp.oo or v == -sp.oo:
            return math.inf if v == sp.oo else -math.inf
    return v


def _sympy_number(v):
    return sp.oo if v == math.inf else -sp.oo if v == -math.inf else sp.sympify(v)


def _pwl(name, pieces, lipschitz, rng):
    """A registry piecewise-linear activation from plain (or SymPy) numbers; its SymPy views are made on first use."""
    plain = tuple(_PlainPiece(*(_plain_number(v) for v in pc)) for pc in pieces)
    f, d1, d2 = _pieces_numpy(plain)

    def sympy_pieces():
        return tuple(Piece(*(_sympy_number(v) for v in pc)) for pc in pieces)

    monotone = all(pc.slope >= 0 for pc in plain) and all(
        (a.slope * a.hi + a.intercept) <= (b.slope * a.hi + b.intercept) for a, b in zip(plain, plain[1:]))
    return Activation(
        name=name,
        expr=_Later(lambda: _pieces_to_expr(sympy_pieces())),
        numpy_fn=f,
        numpy_d1=d1,
        numpy_d2=d2,
        lipschitz=_Later(lambda: _sympy_number(lipschitz)),
        smooth=len(pieces) == 1,
        pieces=_Later(sympy_pieces),
        range=_Later(lambda: tuple(_sympy_number(v) for v in rng)),
        monotone=bool(monotone),
        _plain_lipschitz=_plain_number(lipschitz),
        _from_registry=True,
    )


def _fraction(v) -> Fraction:
    """An exact SymPy rational as a Fraction."""
    r = sp.Rational(v)
    return Fraction(int(r.p), int(r.q))


def _outward(lo, hi, slack):
    """``[lo − slack, hi + slack]``, each end moved one more float outward."""
    return np.nextafter(lo - slack, -np.inf), np.nextafter(hi + slack, np.inf)


def _poly_range(f, crit, tlo, thi):
    """Range of the polynomial ``f`` over each ``[tlo, thi]``: the hull of its values at the ends and at the
    critical points ``crit`` (pairs (point, value)) that may lie inside (a point is included whenever it is
    within 1e-9 of the interval: including more is sound), widened by ETA (the values are at most 2 in
    magnitude, so float64 evaluation errs by a few ulps)."""
    a, b = f(tlo), f(thi)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    for c, fc in crit:
        inside = (tlo <= c + 1e-9) & (thi >= c - 1e-9)
        lo = np.where(inside, np.minimum(lo, fc), lo)
        hi = np.where(inside, np.maximum(hi, fc), hi)
    return _outward(lo, hi, ETA)


_R3 = 3.0 ** 0.5


def _tanh_derivative_box(lo, hi, order):
    tlo, thi = _BUILTINS["tanh"].box(lo, hi)
    tlo, thi = np.clip(tlo, -1.0, 1.0), np.clip(thi, -1.0, 1.0)
    if order == 1:        # 1 − t²: largest at the t closest to 0, smallest at the farthest
        near = np.where((tlo <= 0) & (thi >= 0), 0.0, np.minimum(np.abs(tlo), np.abs(thi)))
        far = np.maximum(np.abs(tlo), np.abs(thi))
        dlo, dhi = _outward(1.0 - far * far, 1.0 - near * near, ETA)
        return np.clip(dlo, 0.0, 1.0), np.clip(dhi, 0.0, 1.0)
    m = 4.0 / (3.0 * _R3)     # −2t + 2t³ at t = ∓1/√3
    return _poly_range(lambda t: -2.0 * t + 2.0 * t ** 3, ((-1.0 / _R3, m), (1.0 / _R3, -m)), tlo, thi)


def _sigmoid_slope_range(slo, shi):
    """Range of ``s (1 − s)`` over ``[slo, shi] ⊆ [0, 1]``: largest at the s closest to ½, smallest at the
    end farthest from it."""
    near = np.clip(0.5, slo, shi)
    far = np.where(np.abs(slo - 0.5) > np.abs(shi - 0.5), slo, shi)
    dlo, dhi = _outward(far * (1.0 - far), near * (1.0 - near), ETA)
    return np.clip(dlo, 0.0, 0.25), np.clip(dhi, 0.0, 0.25)


def _sigmoid_box(lo, hi):
    slo, shi = _BUILTINS["sigmoid"].box(lo, hi)
    return np.clip(slo, 0.0, 1.0), np.clip(shi, 0.0, 1.0)


def _sigmoid_derivative_box(lo, hi, order):
    slo, shi = _sigmoid_box(lo, hi)
    if order == 1:
        return _sigmoid_slope_range(slo, shi)
    m = _R3 / 18.0            # s − 3s² + 2s³ at s = (3 ∓ √3)/6
    return _poly_range(lambda s: s - 3.0 * s ** 2 + 2.0 * s ** 3, (((3 - _R3) / 6, m), ((3 + _R3) / 6, -m)), slo, shi)


def _softplus_derivative_box(lo, hi, order):
    slo, shi = _sigmoid_box(lo, hi)
    if order == 1:
        return slo, shi
    return _sigmoid_slope_range(slo, shi)


_SMOOTH_DERIVATIVES = {"tanh": _tanh_derivative_box, "sigmoid": _sigmoid_derivative_box,
                       "softplus": _softplus_derivative_box}


def _elu_derivative_box(act, lo, hi, order):
    neg, pos = hi < 0, lo > 0
    bad = ~(neg | pos)
    if np.any(bad):
        i = int(np.argwhere(np.reshape(bad, -1))[0][0])
        raise NotSmooth(f"activation {act.name!r}: the interval [{np.reshape(lo, -1)[i]:.6g}, "
                        f"{np.reshape(hi, -1)[i]:.6g}] meets its kink at 0, where φ'' has no value")
    a = act.expr.args[0][0].coeff(sp.exp(_s()))          # a (e^s − 1) on s ≤ 0
    alo, ahi = float_enclosure(_fraction(a))
    with np.errstate(under="ignore"):
        elo = np.exp(np.minimum(lo, 0.0)) * alo * (1.0 - ETA)
        ehi = np.exp(np.minimum(hi, 0.0)) * ahi * (1.0 + ETA)
    dlo, dhi = np.nextafter(elo, -np.inf), np.nextafter(ehi, np.inf)
    one = 1.0 if order == 1 else 0.0
    return np.where(pos, one, np.maximum(dlo, 0.0)), np.where(pos, one, dhi)


def _known_function(name):
    """The registry's own function called ``name`` (a built-in or a parametric one), else None."""
    if name in _BUILTINS:
        return _BUILTINS[name]
    m = _CALL.match(name)
    if m and m.group(1) in _PARAMETRIC:
        try:
            return get_activation(name)
        except InvalidArgument:
            return None
    return None


_oo = math.inf
_BUILTINS = {
    "linear": _pwl("linear", [(-_oo, _oo, 1, 0)], 1, (-_oo, _oo)),
    "relu": _pwl("relu", [(-_oo, 0, 0, 0), (0, _oo, 1, 0)], 1, (0, _oo)),
    "hardtanh": _pwl("hardtanh", [(-_oo, -1, 0, -1), (-1, 1, 1, 0), (1, _oo, 0, 1)], 1, (-1, 1)),
    "ramp": _pwl("ramp", [(-_oo, -1, 0, 0), (-1, 0, 1, 1), (0, _oo, 0, 1)], 1, (0, 1)),
    "step": _pwl("step", [(-_oo, 0, 0, 0), (0, _oo, 0, 1)], _oo, (0, 1)),
    "sigmoid": Activation(
        "sigmoid", _Later(lambda: 1 / (1 + sp.exp(-_s()))), _sigmoid, _sigmoid_d1, _sigmoid_d2,
        lipschitz=_Later(lambda: sp.Rational(1, 4)), smooth=True,
        range=_Later(lambda: (sp.Integer(0), sp.Integer(1))), _plain_lipschitz=Fraction(1, 4), _from_registry=True,
    ),
    "tanh": Activation(
        "tanh", _Later(lambda: sp.tanh(_s())), np.tanh, _tanh_d1, _tanh_d2,
        lipschitz=_Later(lambda: sp.Integer(1)), smooth=True,
        range=_Later(lambda: (sp.Integer(-1), sp.Integer(1))), _plain_lipschitz=1, _from_registry=True,
    ),
    "softplus": Activation(
        "softplus", _Later(lambda: sp.log(1 + sp.exp(_s()))), _softplus, _sigmoid, _sigmoid_d1,
        lipschitz=_Later(lambda: sp.Integer(1)), smooth=True,
        range=_Later(lambda: (sp.Integer(0), sp.oo)), _plain_lipschitz=1, _from_registry=True,
    ),
}
_BUILTINS["relu6"] = _pwl("relu6", [(-_oo, 0, 0, 0), (0, 6, 1, 0), (6, _oo, 0, 6)], 1, (0, 6))
# step is flat almost everywhere: its a.e. derivative is 0, but it has no Lipschitz constant.
_REGISTRY: dict[str, Activation] = dict(_BUILTINS)


def _rational_param(v, where):
    """An exact rational parameter (floats read as the binary value they hold)."""
    if isinstance(v, str):
        try:
            r = sp.Rational(v.strip())
        except (TypeError, ValueError, SyntaxError):
            raise InvalidArgument(f"{where}: expected a rational number, got {v!r}") from None
    elif isinstance(v, float):
        if not np.isfinite(v):
            raise InvalidArgument(f"{where}: expected a finite number, got {v}")
        r = sp.Rational(v)
    else:
        r = sp.sympify(v)
    if not r.is_Rational:
        raise InvalidArgument(f"{where}: expected a rational number, got {v!r}")
    return r


def _leaky_relu(a):
    return _pwl(f"leaky_relu({a})", [(-_oo, 0, a, 0), (0, _oo, 1, 0)], max(1, abs(a)),
                (-_oo if a > 0 else 0, _oo))


def _clip(lo, hi):
    if not lo < hi:
        raise InvalidArgument(f"clip: expected lo < hi, got {lo} and {hi}")
    return _pwl(f"clip({lo},{hi})", [(-_oo, lo, 0, lo), (lo, hi, 1, 0), (hi, _oo, 0, hi)], 1, (lo, hi))


def _hardsigmoid(a, b):
    if not a > 0:
        raise InvalidArgument(f"hardsigmoid: expected a slope a > 0, got {a}")
    s0, s1 = -b / a, (1 - b) / a
    return _pwl(f"hardsigmoid({a},{b})", [(-_oo, s0, 0, 0), (s0, s1, a, b), (s1, _oo, 0, 1)], a, (0, 1))


def _elu(a):
    if a < 0:
        raise InvalidArgument(f"elu: expected a ≥ 0, got {a}")
    af = float(a)

    def f(z):
        with np.errstate(over="ignore"):
            return np.where(z > 0, z, af * np.expm1(np.minimum(z, 0.0)))

    def d1(z):
        return np.where(z > 0, 1.0, af * np.exp(np.minimum(z, 0.0)))

    def d2(z):
        return np.where(z > 0, 0.0, af * np.exp(np.minimum(z, 0.0)))

    S = _s()
    expr = sp.Piecewise((a * (sp.exp(S) - 1), S <= 0), (S, True))
    return Activation(f"elu({a})", expr, f, d1, d2, lipschitz=sp.Max(1, a), smooth=False,
                      range=(-a, sp.oo), monotone=True, _from_registry=True)


#: Activations with parameters, by name: ``name(p1,p2)`` with rational parameters.
_PARAMETRIC = {"leaky_relu": (1, _leaky_relu), "elu": (1, _elu), "clip": (2, _clip),
               "hardsigmoid": (2, _hardsigmoid)}
_CALL = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*\((.*)\)\s*$")


def parametric_activation(name: str, *params) -> "Activation":
    """A parametric activation, e.g. ``parametric_activation("leaky_relu", 0.01)``.

    Parameters are kept exactly (a float as the binary rational it holds).

    Examples
    --------
    >>> parametric_activation("clip", 0, 6).name
    'clip(0,6)'
    >>> parametric_activation("leaky_relu", "1/100").lipschitz
    1
    """
    if name not in _PARAMETRIC:
        raise InvalidArgument(f"unknown parametric activation {name!r}; expected one of: {', '.join(_PARAMETRIC)}")
    n, build = _PARAMETRIC[name]
    if len(params) != n:
        raise InvalidArgument(f"{name}: expected {n} parameter{'s' if n > 1 else ''}, got {len(params)}")
    return build(*[_rational_param(v, f"{name} parameter {k + 1}") for k, v in enumerate(params)])

_SCALED = re.compile(r"^\s*([0-9]+(?:/[0-9]+)?)\s*\*\s*([A-Za-z_][A-Za-z0-9_.\-]*(?:\([^()]*\))?)\s*$")


def _split_scaled_name(name):
    m = _SCALED.match(name)
    if m:
        return m.group(2), sp.Rational(m.group(1))
    return name, sp.Integer(1)


def builtin_form(act):
    """``(base name, scale c)`` when ``act`` is a built-in activation or ``c·`` one as the registry defines it, else None.

    Engines that rely on how NumPy evaluates the built-ins (e.g. float error
    bounds) use it to recognise them; custom or parametric activations give None.

    Examples
    --------
    >>> builtin_form(get_activation("1/2*tanh"))
    ('tanh', 1/2)
    >>> builtin_form(get_activation("leaky_relu(1/10)")) is None
    True
    """
    base, c = _split_scaled_name(act.name)
    if base not in _BUILTINS:
        return None
    try:
        if get_activation(act.name) != act:
            return None
    except InvalidArgument:  # pragma: no cover - a name the registry does not know
        return None
    return base, c


def activation_names() -> list[str]:
    """The names currently registered, built-ins first.

    Examples
    --------
    >>> activation_names()[:4]
    ['linear', 'relu', 'hardtanh', 'ramp']
    """
    return list(_REGISTRY)


def get_activation(name) -> Activation:
    """Look up an activation by name (or pass an :class:`Activation` through).

    Parameters
    ----------
    name : str or Activation
        A registered name, or ``"c*name"`` for the scaled function ``c·φ``
        with a positive rational ``c``.

    Raises
    ------
    InvalidArgument
        For an unknown name; the message lists the known ones.

    Examples
    --------
    >>> get_activation("1/2*tanh").lipschitz
    1/2
    >>> get_activation("swish")
    Traceback (most recent call last):
    ...
    symft.errors.InvalidArgument: unknown activation 'swish'; expected one of: linear, relu, hardtanh, ramp, step, sigmoid, tanh, softplus...
    """
    if isinstance(name, Activation):
        return name
    if not isinstance(name, str):
        raise InvalidArgument(f"activation: expected a name (string), got {type(name).__name__}")
    if name in _REGISTRY:
        return _REGISTRY[name]
    base, c = _split_scaled_name(name)
    if c != 1 and c > 0:
        return get_activation(base).scaled(c)
    m = _CALL.match(name)
    if m and m.group(1) in _PARAMETRIC:
        args = [a for a in m.group(2).split(",")] if m.group(2).strip() else []
        return parametric_activation(m.group(1), *args)
    raise InvalidArgument(
        f"unknown activation {name!r}; expected one of: {', '.join(_REGISTRY)}, "
        f"{', '.join(n + '(…)' for n in _PARAMETRIC)}"
    )


def register_activation(act: Activation, *, replace: bool = False) -> Activation:
    """Add ``act`` to the registry under ``act.name`` so network files can use it.

    Built-ins cannot be replaced; another registered name only with
    ``replace=True``.

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x")
    >>> cube = custom_activation(sp.Lambda(x, x**3 / 3), name="cube3")
    >>> register_activation(cube).name
    'cube3'
    >>> get_activation("cube3") == cube
    True
    """
    if not isinstance(act, Activation):
        raise InvalidArgument(f"act: expected an Activation, got {type(act).__name__}")
    if act.name in _BUILTINS:
        raise InvalidArgument(f"activation {act.name!r} is built in and cannot be replaced")
    if act.name in _REGISTRY and not replace and _REGISTRY[act.name] != act:
        raise InvalidArgument(
            f"activation {act.name!r} is already registered; pass replace=True to replace it"
        )
    if _SCALED.match(act.name):
        raise InvalidArgument(f"activation name {act.name!r} is reserved for scaled activations")
    _REGISTRY[act.name] = act
    return act


def _vectorize(fn):
    def wrapped(z):
        z = np.asarray(z, dtype=float)
        return np.broadcast_to(np.asarray(fn(z), dtype=float), z.shape).copy()

    return wrapped


def custom_activation(lam, *, name: str | None = None, lipschitz=None, smooth: bool | None = None,
                      range=None, monotone: bool | None = None) -> Activation:
    """Make an :class:`Activation` from a SymPy ``Lambda`` of one variable.

    Parameters
    ----------
    lam : sympy.Lambda
        The function, e.g. ``Lambda(x, x / (1 + Abs(x)))``.
    name : str, optional
        Registry name; defaults to the string of the expression.
    lipschitz : number, optional
        The Lipschitz constant.  When omitted symft tries to compute
        ``sup |φ'|`` with SymPy and leaves it ``None`` (unknown) if it
        cannot; functions that need ``K`` then refuse the network.
    smooth : bool, optional
        Defaults to ``True`` unless the expression contains a non-smooth
        function (Piecewise, Abs, Max, Min, Heaviside, sign, floor, ceiling).
    range : tuple, optional
        ``(inf φ, sup φ)``; computed with SymPy when possible, else infinite.
    monotone : bool, optional
        Defaults to ``True`` only when SymPy proves φ non-decreasing.

    Examples
    --------
    >>> x = sp.Symbol("x")
    >>> a = custom_activation(sp.Lambda(x, x / (1 + x**2)), name="rational_bump")
    >>> a.lipschitz, a.smooth
    (1, True)
    >>> round(float(a(np.array([1.0]))[0]), 6)
    0.5
    """
    if not isinstance(lam, sp.Lambda) or len(lam.variables) != 1:
        raise InvalidArgument("lam: expected a sympy.Lambda of exactly one variable")
    S = _s()
    expr = sp.sympify(lam(S))
    extra = expr.free_symbols - {S}
    if extra:
        raise InvalidArgument(
            f"lam: the expression has free symbols {sorted(map(str, extra))}; substitute them first"
        )
    name = name or str(lam.expr)
    d1 = sp.diff(expr, S)
    d2 = sp.diff(d1, S)
    if smooth is None:
        nonsmooth = (sp.Piecewise, sp.Heaviside, sp.Abs, sp.Max, sp.Min, sp.sign, sp.floor, sp.ceiling)
        smooth = not any(expr.has(f) for f in nonsmooth)
    if lipschitz is None:
        try:
            from sympy.calculus.util import maximum

            lipschitz = sp.nsimplify(maximum(sp.Abs(d1), S, sp.S.Reals))
            if lipschitz.has(sp.nan) or not lipschitz.is_number:
                lipschitz = None
        except Exception:  # SymPy cannot always decide; unknown is honest
            lipschitz = None
    else:
        lipschitz = sp.sympify(lipschitz)
    if range is None:
        try:
            from sympy.calculus.util import function_range

            r = function_range(expr, S, sp.S.Reals)
            range = (r.inf, r.sup)
        except Exception:
            range = (-sp.oo, sp.oo)
    if monotone is None:
        try:
            monotone = bool(sp.is_increasing(expr, sp.S.Reals, S))
        except Exception:
            monotone = False
    return Activation(
        name=name,
        expr=expr,
        numpy_fn=_vectorize(sp.lambdify(S, expr, "numpy")),
        numpy_d1=_vectorize(sp.lambdify(S, d1, "numpy")),
        numpy_d2=_vectorize(sp.lambdify(S, d2, "numpy")),
        lipschitz=lipschitz,
        smooth=bool(smooth),
        pieces=None,
        range=tuple(sp.sympify(v) for v in range),
        monotone=monotone,
    )
