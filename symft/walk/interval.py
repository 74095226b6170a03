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
  :class:`Interval` round outward by one ulp.

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

from ..errors import FaultModelError
from ..faults import SEMANTICS, site_of, zeroed_preactivation
from .walker import Interpretation

__all__ = ["Interval", "IntervalInterp", "interval_affine", "gamma", "U", "TINY", "down", "up"]

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
