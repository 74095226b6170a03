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
(:func:`symft.symbolic.layer_walk`).

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
>>> from symft.network import mean_network
>>> bd = derivative_bounds(mean_network(4), np.ones(4), [0])
>>> bd.D1, bd.D2
(0.25..., 0.0)
"""

from __future__ import annotations

from dataclasses import dataclass
import re

import numpy as np

from .errors import InvalidArgument, SymftError, TooLargeError
from .symbolic import crash_layers_of, layer_walk

__all__ = [
    "Interval",
    "NotSmooth",
    "activation_enclosures",
    "DerivativeBounds",
    "derivative_bounds",
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
        c = np.stack(np.broadcast_arrays(self.lo * o.lo, self.lo * o.hi, self.hi * o.lo, self.hi * o.hi))
        return Interval(_down(c.min(axis=0)), _up(c.max(axis=0)))

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
# tanh: φ' = 1 − t², φ'' = −2t + 2t³ (critical points t = ±1/√3)
_TANH_D1 = ((1.0, 0.0, -1.0), (0.0,))
_TANH_D2 = ((0.0, -2.0, 0.0, 2.0), (-1.0 / _R3, 1.0 / _R3))
# sigmoid: φ' = s − s², φ'' = s − 3s² + 2s³ (critical points s = (3 ± √3)/6)
_SIG_D1 = ((0.0, 1.0, -1.0), (0.5,))
_SIG_D2 = ((0.0, 1.0, -3.0, 2.0), ((3 - _R3) / 6, (3 + _R3) / 6))
_SCALED = re.compile(r"^\s*([0-9]+)(?:/([0-9]+))?\s*\*\s*(.+)$")


def activation_enclosures(act, z: Interval) -> tuple[Interval, Interval, Interval]:
    r"""Enclosures of ``φ(z)``, ``φ'(z)`` and ``φ''(z)`` over intervals ``z``.

    Raises
    ------
    NotSmooth
        For a piecewise-linear activation when an interval meets a kink, and
        for activations without a known enclosure (custom ones).

    Examples
    --------
    >>> from symft.activations import get_activation
    >>> v, d1, d2 = activation_enclosures(get_activation("tanh"), Interval(np.array([0.0]), np.array([1.0])))
    >>> bool(v.lo[0] <= 0 and v.hi[0] >= np.tanh(1.0) and d1.hi[0] >= 1.0 and d2.lo[0] <= -0.7698)
    True
    """
    name = act.name
    m = _SCALED.match(name)
    if m and act.pieces is None:
        from .activations import get_activation

        num, den = float(m.group(1)), float(m.group(2) or 1)
        c = Interval(np.array(_down(num / den)), np.array(_up(num / den)))
        v, d1, d2 = activation_enclosures(get_activation(m.group(3)), z)
        return v * c, d1 * c, d2 * c
    if act.pieces is not None:
        return _pwl_enclosures(act, z)
    if name == "tanh":
        lo, hi = _widen(np.tanh(z.lo), np.tanh(z.hi))
        t = Interval(lo, hi).clip(-1.0, 1.0)
        return t, _poly_range(*_TANH_D1, t), _poly_range(*_TANH_D2, t)
    if name in ("sigmoid", "softplus"):
        lo, hi = _widen(_sigmoid(z.lo), _sigmoid(z.hi))
        s = Interval(lo, hi).clip(0.0, 1.0)
        if name == "sigmoid":
            return s, _poly_range(*_SIG_D1, s), _poly_range(*_SIG_D2, s)
        vlo, vhi = _widen(np.logaddexp(0.0, z.lo), np.logaddexp(0.0, z.hi))
        return Interval(vlo, vhi).clip(0.0, np.inf), s, _poly_range(*_SIG_D1, s)
    raise NotSmooth(f"activation {name!r}: no interval enclosure of its derivatives is known to symft")


def _pwl_enclosures(act, z: Interval):
    pieces = act.pieces
    if len(pieces) == 1:
        pc = pieces[0]
        sl, ic = float(pc.slope), float(pc.intercept)
        return z * sl + ic, Interval.point(np.full(z.shape, sl)), Interval.zeros(z.shape)
    his = np.array([float(pc.hi) for pc in pieces[:-1]])
    k_lo = np.searchsorted(his, z.lo, side="left")
    k_hi = np.searchsorted(his, z.hi, side="left")
    # strictly inside one piece: lo > previous breakpoint and hi < this piece's breakpoint
    inside = k_lo == k_hi
    on_kink = np.isin(z.lo, his) | np.isin(z.hi, his)
    bad = ~inside | on_kink
    if bad.any():
        i = int(np.argwhere(bad.reshape(-1))[0][0])
        raise NotSmooth(f"activation {act.name!r}: a pre-activation interval "
                        f"[{z.lo.reshape(-1)[i]:.6g}, {z.hi.reshape(-1)[i]:.6g}] meets a kink over the crash box, "
                        "so the output is not twice differentiable there")
    slopes = np.array([float(pc.slope) for pc in pieces])[k_lo]
    inter = np.array([float(pc.intercept) for pc in pieces])[k_lo]
    return z * slopes + inter, Interval.point(slopes), Interval.zeros(z.shape)


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
    >>> from symft.network import random_network
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
        >>> from symft.network import mean_network
        >>> derivative_bounds(mean_network(2), np.ones(2), [0]).D1
        0.5...
        """
        return float(self.M1.max()) if self.M1.size else 0.0

    @property
    def D2(self) -> float:
        """``max_{k,a,b} M2`` — the sup of the second ξ-derivatives.

        Examples
        --------
        >>> from symft.network import mean_network
        >>> derivative_bounds(mean_network(2), np.ones(2), [0]).D2
        0.0
        """
        return float(self.M2.max()) if self.M2.size else 0.0

    @property
    def D1_scaled(self) -> float:
        """``max n_{l(a)} M1[k, a]`` — D_1 in the units of P4 (operator derivative).

        Examples
        --------
        >>> from symft.network import mean_network
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
        >>> from symft.network import mean_network
        >>> derivative_bounds(mean_network(2), np.ones(2), [0]).D2_scaled
        0.0
        """
        w = np.asarray(self.widths, dtype=float)
        return float(_up((self.M2 * np.outer(w, w)).max())) if self.M2.size else 0.0


def derivative_bounds(net, x, crash_layers, *, semantics: str = "output_zero",
                      force: bool = False) -> DerivativeBounds:
    r"""Rigorous ``sup`` bounds of ``|∂y/∂ξ|`` and ``|∂²y/∂ξ∂ξ|`` over ``ξ ∈ [0, 1]^n``.

    Parameters
    ----------
    net : Network
        Numeric weights (float or exact; exact values are rounded to the
        nearest float64 and the enclosures are widened by that relative
        ``2^-53``, so the bound holds for the exact network).
    x : array_like (n_0,)
        One input.
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
    >>> from symft.network import first_input_network
    >>> bd = derivative_bounds(first_input_network(3), np.array([2.0, 0.0, 0.0]), [0])
    >>> bd.M1
    array([[2.0..., 0.0..., 0.0...]])
    """
    from .forward import as_inputs

    X, _ = as_inputs(net, x, "x")
    if X.shape[0] != 1:
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
    jet0 = _Jet(Interval.point(X[0]), Interval.zeros((n0, n)), Interval.zeros((n0, n, n)))

    def affine(l, j):
        W, b = net.weights(l), net.bias(l)
        # an exact (rational) layer is stored rounded to float64: each weight and bias is within
        # one half-ulp (relative 2^-53) of the true value; widen by that (w_rel), so the bound
        # holds for the exact network
        w_rel = 0.0 if net.layers[l - 1].is_float else _U
        bi = Interval(_down(b - np.abs(b) * w_rel), _up(b + np.abs(b) * w_rel))
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
            b = net.bias(l)
            w_rel = 0.0 if net.layers[l - 1].is_float else _U
            bi = Interval(_down(b - np.abs(b) * w_rel), _up(b + np.abs(b) * w_rel))
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
    """Enclosure of a piecewise-linear φ over ``b`` (monotone or not: hull of the end points and
    of the breakpoints inside, each value computed with one rounding and widened by an ulp)."""
    lo, hi = act(b.lo), act(b.hi)
    vlo, vhi = np.minimum(lo, hi), np.maximum(lo, hi)
    for pc in act.pieces[:-1]:
        k = float(pc.hi)
        inside = (b.lo <= k) & (k <= b.hi)
        vk = act(np.full(b.lo.shape, k))
        vlo = np.where(inside, np.minimum(vlo, vk), vlo)
        vhi = np.where(inside, np.maximum(vhi, vk), vhi)
    return Interval(_down(_down(vlo)), _up(_up(vhi)))
