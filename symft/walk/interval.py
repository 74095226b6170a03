r"""The interval interpretation: outward-rounded enclosures of every value (one rounding policy).

Values are :class:`Interval` arrays ``[lo, hi]`` (float64, leading batch
axes allowed) that provably contain the true real value of each element,
floating-point error included.  The policy, used everywhere in symft:

* an affine op ``y = A x + b`` (any of dense, convolution, pooling, batch
  norm, add, reshapes) is enclosed by midpoint–radius:
  ``c = fl(A m + b)``, ``R = fl(|A| r)``, ``S = fl(|A| (|m| + r) + |b|)`` and
  ``y ∈ [c − ρ, c + ρ]`` with ``ρ = ↑(R + g S + k·2^-1070)``,
  ``g = 3 γ_{k+2} + 2 w_rel``, ``k`` the op's fan-in,
  ``γ_n = n u / (1 − n u)``, ``u = 2^-53`` (the error of ``c``, and the
  under-estimation of ``R`` and ``S`` by their own rounding, any summation
  order); ``w_rel = u`` when the op's parameters are exact values rounded to
  float64 (the bound then holds for the exact network), else 0;
* an activation uses its registry view
  :meth:`~symft.graph.activations.Activation.box` (monotone functions at
  the ends, widened by the assumed accuracy ``ETA``);
* max pooling is exact on the ends; additions and products of
  :class:`Interval` round outward by one ulp;
* the adjoint ``Aᵀ g`` of an affine op (reverse mode,
  :func:`interval_adjoint`) is enclosed the same way, with the number of
  terms summed into one input element bounded by the size of the op's
  output;
* exact numbers (inputs given as ``"1/3"``, ``Fraction``, probabilities)
  enter as the two floats around them (:func:`enclose_numbers`); sums of
  many intervals and of non-negative floats are moved out by ``2 γ_n``
  times the sum of magnitudes (:func:`isum`, :func:`upper_sum`).

Examples
--------
>>> import numpy as np
>>> from symft.graph.network import random_network
>>> from symft.walk.walker import walk
>>> net = random_network([2, 3, 1], seed=0)
>>> X = np.array([[0.5, -1.0]])
>>> box = walk(net, IntervalInterp(net), Interval.point(X), keep=False)
>>> from symft.engines.forward import forward
>>> y = forward(net, X)
>>> bool(np.all(box.lo <= y) and np.all(y <= box.hi))
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import math

from ..errors import FaultModelError
from ..faults import SEMANTICS, site_of, zeroed_preactivation
from ..graph.numbers import float_enclosure, to_fraction
from ..utils import to_exact
from .walker import Interpretation

__all__ = ["Interval", "IntervalInterp", "interval_affine", "interval_adjoint", "crash_value_interval",
           "activation_enclosures", "enclose_numbers", "isum", "isquare", "upper_sum",
           "gamma", "U", "TINY", "down", "up"]

#: Unit roundoff of float64.
U = 2.0 ** -53
#: An absolute slack per term covering underflow (subnormal rounding).
TINY = 2.0 ** -1070


def down(a):
    """The next float below (rounding a computed value toward −∞ by one ulp).

    Examples
    --------
    >>> bool(down(1.0) < 1.0)
    True
    """
    return np.nextafter(a, -np.inf)


def up(a):
    """The next float above.

    Examples
    --------
    >>> bool(up(1.0) > 1.0)
    True
    """
    return np.nextafter(a, np.inf)


def gamma(n) -> float:
    """``γ_{n+2} = (n+2) u / (1 − (n+2) u)``: the relative error bound of a sum of n products (and a bias).

    Examples
    --------
    >>> gamma(0) > 2 * U
    True
    """
    nu = (n + 2) * U
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

    def reshape(self, *shape) -> "Interval":
        """Both ends reshaped.

        Examples
        --------
        >>> Interval.zeros((2, 3)).reshape(6).shape
        (6,)
        """
        return Interval(self.lo.reshape(*shape), self.hi.reshape(*shape))

    def __getitem__(self, k) -> "Interval":
        return Interval(self.lo[k], self.hi[k])

    def __add__(self, other) -> "Interval":
        o = _as_interval(other)
        return Interval(down(self.lo + o.lo), up(self.hi + o.hi))

    __radd__ = __add__

    def __neg__(self) -> "Interval":
        return Interval(-self.hi, -self.lo)

    def __sub__(self, other) -> "Interval":
        o = _as_interval(other)
        return Interval(down(self.lo - o.hi), up(self.hi - o.lo))

    def __rsub__(self, other) -> "Interval":
        return _as_interval(other) - self

    def __mul__(self, other) -> "Interval":
        o = _as_interval(other)
        c = np.stack(np.broadcast_arrays(self.lo * o.lo, self.lo * o.hi, self.hi * o.lo, self.hi * o.hi))
        return Interval(down(c.min(axis=0)), up(c.max(axis=0)))

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


def _w_rel(op) -> float:
    return 0.0 if op.is_float else U


def interval_affine(node, args, *, with_bias: bool = True) -> Interval:
    """The enclosure of an affine node's output for interval inputs (see the module docstring).

    Parameters
    ----------
    node : Node
        An affine node.
    args : list of Interval
        Its inputs (leading batch axes allowed).
    with_bias : bool
        Add the bias (``False``: the linear part only, e.g. for derivatives).

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> net = mean_network(3)
    >>> out = interval_affine(net.node("z1"), [Interval.point(np.ones((1, 3)))])
    >>> bool(out.lo[0, 0] <= 1.0 <= out.hi[0, 0])
    True
    """
    op = node.op
    P = op.params("float")
    if not with_bias:
        P = dict(P)
        for k in ("bias", "shift"):
            if k in P:
                P[k] = None
    A = op.abs_params()
    mids, rads, mags = [], [], []
    for a in args:
        m = 0.5 * (a.lo + a.hi)
        r = up(np.maximum(a.hi - m, m - a.lo))
        mids.append(m)
        rads.append(r)
        mags.append(np.abs(m) + r)
    c = op.apply(mids, P, node.in_shapes)
    R = op.apply(rads, A, node.in_shapes)
    S = op.apply(mags, A, node.in_shapes)
    if with_bias and op.has_bias:
        zeros = [np.zeros((1,) + tuple(s)) for s in node.in_shapes]
        b = np.abs(op.apply(zeros, op.params("float"), node.in_shapes)[0])
        S = S + b
    k = op.fan_in(node.in_shapes)
    g = 3.0 * gamma(k) + 2.0 * _w_rel(op)
    rho = up(R + g * S + (k + 1) * TINY)
    return Interval(down(c - rho), up(c + rho))


#: Affine ops whose adjoint only copies or reshapes its cotangent.
_MOVES_ONLY = ("add", "flatten", "reshape", "identity")


def _adjoint_terms(node) -> int:
    """An upper bound of the number of products summed into one element of ``Aᵀ g`` (rounding bound)."""
    op = node.op
    if op.kind == "dense":
        return int(op.weight.shape[0])
    if op.kind == "conv2d":
        return int(op.weight.shape[0] // op.groups * op.weight.shape[2] * op.weight.shape[3])
    if op.kind == "avgpool2d":
        return int(op.kernel[0] * op.kernel[1]) + 1
    if op.kind == "batchnorm":
        return 1
    return int(node.size)


def interval_adjoint(node, g: Interval) -> list:
    """Enclosures of ``Aᵀ g`` for each input of an affine node (reverse mode), for interval cotangents ``g``.

    Midpoint–radius as in :func:`interval_affine`: ``c = fl(Aᵀ m)``,
    ``R = fl(|A|ᵀ r)``, ``S = fl(|A|ᵀ (|m| + r))`` and the result
    ``[c − ρ, c + ρ]`` with ``ρ = ↑(R + g S + k·2^-1070)``,
    ``g = 3 γ_{k+2} + 2 w_rel``.  ``k`` bounds the number of products summed
    into one element of ``Aᵀ g``: the rows of a dense weight, ``C_out/groups ·
    KH · KW`` for a convolution, ``KH · KW + 1`` for average pooling, 1 for
    batch norm, and the size of the node's output for any other affine op.
    Adds and reshapes only move values: their adjoint is exact.  Leading
    axes of ``g`` (inputs, seed directions) are folded into one, so a dense
    op costs one matrix product per term.

    Parameters
    ----------
    node : Node
        An affine node.
    g : Interval
        The cotangent of the node's output: ``lead + shape``.

    Returns
    -------
    list of Interval
        One per input of the node, ``lead + input shape``.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> net = mean_network(3)
    >>> a = interval_adjoint(net.node("z1"), Interval.point(np.ones((1, 1, 1))))[0]
    >>> bool(np.all(a.lo <= 1 / 3) and np.all(1 / 3 <= a.hi))
    True
    """
    op = node.op
    shape = tuple(node.shape)
    lead = g.lo.shape[:g.lo.ndim - len(shape)]
    if op.kind in _MOVES_ONLY:                       # the adjoint copies or reshapes: no rounding
        P = op.params("float")
        return [Interval(a, b) for a, b in zip(op.adjoint(g.lo, P, node.in_shapes), op.adjoint(g.hi, P, node.in_shapes))]
    lo = g.lo.reshape((-1,) + shape)
    hi = g.hi.reshape((-1,) + shape)
    m = 0.5 * (lo + hi)
    r = up(np.maximum(hi - m, m - lo))
    P, A = op.params("float"), op.abs_params()
    cs = op.adjoint(m, P, node.in_shapes)
    Rs = op.adjoint(r, A, node.in_shapes)
    Ss = op.adjoint(np.abs(m) + r, A, node.in_shapes)
    k = _adjoint_terms(node)
    gk = 3.0 * gamma(k) + 2.0 * _w_rel(op)
    out = []
    for c, R, S, s in zip(cs, Rs, Ss, node.in_shapes):
        rho = up(R + gk * S + (k + 1) * TINY)
        out.append(Interval(down(c - rho).reshape(lead + tuple(s)), up(c + rho).reshape(lead + tuple(s))))
    return out


def activation_enclosures(act, z: Interval, order: int = 2) -> tuple:
    r"""Enclosures of ``φ(z)``, ``φ'(z)`` and ``φ''(z)`` over intervals ``z`` (the registry's views as Intervals).

    ``φ`` by :meth:`~symft.graph.activations.Activation.box`, the
    derivatives by :meth:`~symft.graph.activations.Activation.derivative_box`
    (``order=1`` skips ``φ''``, returned as ``None``).

    Raises
    ------
    NotSmooth
        Where an interval meets a kink, and for activations without a known
        derivative enclosure (custom ones).

    Examples
    --------
    >>> from symft.graph.activations import get_activation
    >>> v, d1, d2 = activation_enclosures(get_activation("tanh"), Interval(np.array([0.0]), np.array([1.0])))
    >>> bool(v.lo[0] <= 0 and v.hi[0] >= np.tanh(1.0) and d1.hi[0] >= 1.0 and d2.lo[0] <= -0.7698)
    True
    """
    d1 = Interval(*act.derivative_box(z.lo, z.hi, 1))
    d2 = Interval(*act.derivative_box(z.lo, z.hi, 2)) if order >= 2 else None
    return Interval(*act.box(z.lo, z.hi)), d1, d2


def enclose_numbers(values) -> Interval:
    """Floats ``[lo, hi]`` around exact numbers (the two floats around each, or the float itself).

    Floats stand for the binary value they hold and are returned unchanged;
    integers, ``Fraction``, SymPy rationals and numeric strings (``"0.1"``,
    ``"1/3"``: the decimal or fraction as written, see
    :func:`symft.utils.to_exact`) are enclosed by the nearest floats below
    and above (:func:`symft.graph.numbers.float_enclosure`).  Anything else
    that converts to ``float`` (an irrational SymPy number) is widened by one
    unit in the last place each way.

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
            lo[idx], hi[idx] = float_enclosure(to_fraction(to_exact(v, "value"), "value"))
        except (TypeError, ValueError, ZeroDivisionError):
            f = float(v)
            lo[idx], hi[idx] = math.nextafter(f, -math.inf), math.nextafter(f, math.inf)
    return Interval(lo, hi)


def isum(A: Interval, axis: int = -1) -> Interval:
    """Enclosure of the exact sums of the intervals along ``axis``.

    The computed sums of the ends, moved out by ``2 γ_n`` times the computed
    sums of their magnitudes (any summation order; floating-point addition
    loses nothing to underflow).

    Examples
    --------
    >>> s = isum(Interval.point(np.full((1, 3), 0.1)))
    >>> bool(s.lo[0] < 0.30000000000000004 < s.hi[0])
    True
    """
    n = A.lo.shape[axis]
    g = 2.0 * gamma(n)
    elo = up(np.abs(A.lo).sum(axis=axis) * g)
    ehi = up(np.abs(A.hi).sum(axis=axis) * g)
    return Interval(down(A.lo.sum(axis=axis) - elo), up(A.hi.sum(axis=axis) + ehi))


def isquare(A: Interval) -> Interval:
    """Enclosure of ``{a² : a ∈ A}`` (0 at the bottom when the interval contains 0).

    Examples
    --------
    >>> isquare(Interval(np.array([-1.0]), np.array([2.0]))).lo
    array([0.])
    """
    l2, h2 = A.lo * A.lo, A.hi * A.hi
    lo = np.where(A.lo > 0, l2, np.where(A.hi < 0, h2, 0.0))
    return Interval(np.maximum(down(lo), 0.0), up(np.maximum(l2, h2)))


def upper_sum(a, axis=None) -> np.ndarray:
    """A rigorous upper bound of the exact sum of non-negative floats.

    The exact sum is at most ``fl(Σ a)(1 + 2 γ_n)`` (rounded up, plus ``n``
    times the underflow slack) for any summation order.

    Examples
    --------
    >>> float(upper_sum(np.full(10, 0.1))) >= 1.0
    True
    """
    a = np.asarray(a, dtype=float)
    n = a.size if axis is None else a.shape[axis]
    s = a.sum(axis=axis)
    return up(s * (1.0 + 2.0 * gamma(n)) + n * TINY)


class IntervalInterp(Interpretation):
    """Outward-rounded interval evaluation.

    Parameters
    ----------
    net : Network
    hull_sites : mapping {site: semantics}, optional
        At these sites the value becomes the hull of itself and what a
        crashed neuron outputs, so the result encloses the value under
        *every* crash configuration at those sites.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> from symft.walk.walker import walk
    >>> net = mean_network(2)
    >>> out = walk(net, IntervalInterp(net, hull_sites={0: "output_zero"}), Interval.point(np.ones((1, 2))), keep=False)
    >>> bool(out.lo[0, 0] <= 0.0 and out.hi[0, 0] >= 1.0)
    True
    """

    name = "interval"

    def __init__(self, net, *, hull_sites=None):
        self.net = net.check_numeric()
        self.hull = {}
        for k, sem in (hull_sites or {}).items():
            if sem not in SEMANTICS:
                raise FaultModelError(f"semantics: expected one of {', '.join(map(repr, SEMANTICS))}, got {sem!r}")
            s = site_of(net, k, "hull_sites")
            self.hull[s] = crash_value_interval(net, s, sem)
        self.fault_nodes = frozenset(self.hull)

    def affine(self, node, args):
        return interval_affine(node, args)

    def op_activation(self, node, args):
        act = node.op.act
        z = args[0]
        if act.name == "linear":
            return z
        lo, hi = act.box(z.lo, z.hi)
        return Interval(lo, hi)

    def op_maxpool2d(self, node, args):
        x = args[0]
        s = node.in_shapes[0]
        return Interval(node.op.apply(x.lo, s), node.op.apply(x.hi, s))

    def at_site(self, node, v):
        cv = self.hull[node.name].reshape(node.shape)
        return v.hull(cv)


def crash_value_interval(net, key, semantics: str) -> Interval:
    """An enclosure of what a crashed neuron of a site outputs (a vector over the site's neurons).

    Examples
    --------
    >>> from symft.graph.network import Network
    >>> net = Network.from_numpy([[[1.0]], [[1.0]]], [[0.5], [0.0]], activations=["tanh", "linear"])
    >>> iv = crash_value_interval(net, 1, "incoming_zeroed")
    >>> bool(iv.lo[0] <= np.tanh(0.5) <= iv.hi[0])
    True
    """
    site = site_of(net, key)
    n = net.site_size(site)
    if semantics == "output_zero":
        return Interval.zeros(n)
    aff, act = zeroed_preactivation(net, site)
    if aff is None:
        return Interval.zeros(n)
    node = net.node(aff)
    zeros = [Interval.zeros((1,) + tuple(s)) for s in node.in_shapes]
    pre = interval_affine(node, zeros)[0]
    if act is not None and act.name != "linear":
        lo, hi = act.box(pre.lo, pre.hi)
        pre = Interval(lo, hi)
    return pre.reshape(-1)
