r"""A running bound on the float64 error of the brute-force crash-set outputs, on any DAG.

:class:`FloatErrorBound` walks forward; the value of a node is
``(lo, hi, e, grid)``: ``[lo, hi]`` encloses the node's exact value under
every crash set of the given sites (crashed neurons output 0), ``e`` bounds
``|ỹ − y|`` for the float64 value ``ỹ`` that the brute force computes
(:class:`~symft.walk.numeric.Numeric` through
:func:`~symft.walk.configurations.walk_configurations`, including its sparse
updates ``c(y) − Σ_{i crashed} y_i A_c e_i`` of at most ``order`` terms), and
``grid`` is an exponent ``g`` such that every value is an integer multiple
of ``2^g`` (None once a rounding may have happened):

* affine op with fan-in ``k`` (Higham's bound, any summation order, BLAS,
  FMA): ``|z̃ − z| ≤ γ (|A| M + |b|) + |A| e + (k + 2)·2^-1070`` with
  ``γ = γ_{k+1} + 3γ_{order+1}`` (the dense product, then the sparse
  update), ``M ≥ |ỹ|``, plus ``u(|A| M + |b|)`` when the stored parameters
  are exact rationals that float64 rounds (and for average pooling, whose
  ``1/count`` is rounded);
* activation: ``K·e_z`` (Lipschitz constant ``K``; across a jump of
  ``step`` the jump) plus NumPy's own error, at most ``2^-44`` relative
  (the unscaled piecewise-linear built-ins are exact when the result is
  representable); activations without a known float model give ``e = inf``;
* max pooling: the largest error of the window (max is exact and
  1-Lipschitz);
* crash sites: the box joined with 0 (a crash outputs an exact 0).

When the input and the parameters are dyadic rationals that float64 holds
and every partial sum is provably representable (integer multiples of
``2^g`` below ``2^(53+g)``), the op is exact and ``e = 0``.

Examples
--------
>>> import numpy as np
>>> from fractions import Fraction
>>> from symft.graph.network import Network
>>> from symft.walk.walker import walk
>>> net = Network.from_numpy([[[1.0, 0.5]], [[2.0]]], [[0.0], [0.25]], ["relu", "linear"])
>>> lo, hi, e, g = walk(net, FloatErrorBound(net, ["0"], order=1, x=[Fraction(1), Fraction(3)]), None,
...                     keep=False)
>>> float(e[0, 0]), float(hi[0, 0])
(0.0, 5.25)
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import numpy as np

from ..graph.activations import builtin_form
from ..graph.numbers import to_fraction
from .interval import down, gamma, up
from .walker import Interpretation

__all__ = ["FloatErrorBound", "float_grid", "fraction_grid", "U"]

U = 2.0 ** -53
#: Relative slack on every bound: absorbs the rounding of the bound's own arithmetic.
_REL = 2.0 ** -40
#: Relative error allowed for NumPy's evaluation of an activation (about 500 ulps), plus _EVAL_ABS.
_EVAL_REL = 2.0 ** -44
_EVAL_ABS = 2.0 ** -1000
#: Absolute error per product allowed for underflow (the smallest subnormal is 2^-1074).
_TINY = 2.0 ** -1070
_NO_GRID = 1 << 30  # grid exponent of an all-zero array
_PWL_BUILTINS = ("linear", "relu", "hardtanh", "ramp", "step", "relu6")
_SMOOTH_BUILTINS = ("sigmoid", "tanh", "softplus")


def float_grid(a):
    """The largest ``g`` with every entry of the float array an integer multiple of ``2^g`` (None: not finite).

    Examples
    --------
    >>> float_grid(np.array([0.75, 2.0])), float_grid(np.array([0.0]))
    (-2, 1073741824)
    """
    a = np.abs(np.asarray(a, dtype=float).ravel())
    a = a[a != 0]
    if a.size == 0:
        return _NO_GRID
    if not np.isfinite(a).all():
        return None
    m, e = np.frexp(a)
    mant = (m * 2.0 ** 53).astype(np.int64)  # exact: 2^52 ≤ mant < 2^53
    low = (mant & -mant).astype(float)       # lowest set bit, a power of two
    return int(np.min(e.astype(np.int64) - 53 + np.log2(low).astype(np.int64)))


def fraction_grid(vals):
    """The same for Fractions; None when one is not dyadic (its denominator is not a power of two).

    Examples
    --------
    >>> fraction_grid([Fraction(3, 4), Fraction(6)]), fraction_grid([Fraction(1, 3)])
    (-2, None)
    """
    g = _NO_GRID
    for v in vals:
        if not v:
            continue
        n, d = abs(v.numerator), v.denominator
        if d & (d - 1):
            return None
        g = min(g, -(d.bit_length() - 1) if d > 1 else (n & -n).bit_length() - 1)
    return g



@lru_cache(maxsize=None)
def _act_float_model(act):
    """``(K, jumps, exact, pieces)`` of how NumPy evaluates a built-in activation; None when unknown."""
    form = builtin_form(act)
    if form is None:
        return None
    base, c = form
    if act.pieces is not None:
        jumps = []
        for p, q in zip(act.pieces, act.pieces[1:]):
            h = to_fraction(p.hi)
            if Fraction(float(h)) != h:  # pragma: no cover - built-in breakpoints are binary
                return None
            left = to_fraction(p.slope) * h + to_fraction(p.intercept)
            if left != to_fraction(q.slope) * h + to_fraction(q.intercept):
                jumps.append(float(h))
        K = max(abs(float(pc.slope)) for pc in act.pieces) * (1 + _REL)
        return K, tuple(jumps), c == 1 and base in _PWL_BUILTINS, act.pieces
    if base in _SMOOTH_BUILTINS and act.lipschitz is not None and act.lipschitz.is_finite:
        return float(act.lipschitz) * (1 + _REL), (), False, None
    return None  # pragma: no cover - every built-in is one of the above


@lru_cache(maxsize=512)
def _op_facts(op):
    """``(rounded, coefficient grid, offset grid)`` of an affine op (grids None: no exactness argument)."""
    kind = op.kind
    if kind in ("add", "flatten", "reshape", "identity"):
        return False, 0, _NO_GRID
    if kind == "avgpool2d":
        return True, None, None
    Pf = op.params("float")
    Pq = op.params("fraction")
    rounded = not op.is_float
    if rounded:  # exact parameters: is every one held by float64 exactly?
        for n in op.arrays:
            a, q = Pf.get(n), Pq.get(n)
            if a is None:
                continue
            if not all(Fraction(f) == v for f, v in zip(np.asarray(a, float).ravel().tolist(), q.ravel().tolist())):
                return True, None, None
    gA, gb = _NO_GRID, _NO_GRID
    for n in op.arrays:
        a = Pf.get(n)
        if a is None:
            continue
        g = float_grid(a)
        if g is None:
            return rounded, None, None
        if n in op.offsets:
            gb = min(gb, g)
        else:
            gA = min(gA, g)
    return rounded, gA, gb


class FloatErrorBound(Interpretation):
    """Forward: ``(lo, hi, e, grid)`` per node — boxes of exact values over every crash set and float-error bounds.

    Parameters
    ----------
    net : Network
    crash_sites : iterable of site names
    order : int
        The most crashes in one crash set (terms of a sparse update).
    x : sequence of Fraction
        The exact input, flattened row-major.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> FloatErrorBound(mean_network(2), [], order=0, x=[Fraction(1)] * 2).name
    'float-error'
    """

    name = "float-error"

    def __init__(self, net, crash_sites, *, order: int, x):
        self.net = net
        self.order = int(order)
        self.x = list(x)
        self.fault_nodes = frozenset(crash_sites)

    def input(self, node, x):
        shape = (1,) + tuple(node.shape)
        xs = self.x
        with np.errstate(all="ignore"):
            xf = np.array([float(v) for v in xs])
            err = np.array([0.0 if Fraction(f) == v else float(up(float(abs(Fraction(f) - v))))
                            for f, v in zip(xf.tolist(), xs)])
            grid = fraction_grid(xs) if not err.any() else None
            lo = np.where(err > 0, down(xf - err), xf)
            hi = np.where(err > 0, up(xf + err), xf)
        return lo.reshape(shape), hi.reshape(shape), err.reshape(shape), grid

    def affine(self, node, args):
        op = node.op
        if op.kind in ("flatten", "reshape", "identity"):
            lo, hi, e, g = args[0]
            shp = (1,) + tuple(node.shape)
            return lo.reshape(shp), hi.reshape(shp), e.reshape(shp), g
        rounded, gA, gb = _op_facts(op)
        k = op.fan_in(node.in_shapes)
        g = gamma(k + 1) + 3 * gamma(self.order + 1)
        grow = 1.0 + _REL + 4.0 * g
        A = op.abs_params()
        Pf = op.params("float")
        with np.errstate(all="ignore"):
            los = [a[0] for a in args]
            his = [a[1] for a in args]
            errs = [a[2] for a in args]
            mags = [np.maximum(np.abs(a), np.abs(b)) for a, b in zip(los, his)]
            Mf = [up(m + e) for m, e in zip(mags, errs)]
            ms = [0.5 * a + 0.5 * b for a, b in zip(los, his)]
            rs = [up(np.maximum(b - m, m - a)) for a, b, m in zip(los, his, ms)]
            ams = [np.abs(m) for m in ms]
            c = op.apply(ms, Pf, node.in_shapes)
            if op.has_bias:
                zeros = [np.zeros((1,) + tuple(s)) for s in node.in_shapes]
                ab = np.abs(op.apply(zeros, Pf, node.in_shapes))
            else:
                ab = np.zeros(c.shape)
            Ar = op.apply(rs, A, node.in_shapes)
            Aam = op.apply(ams, A, node.in_shapes)
            Rz = Ar + g * (Aam + ab) + (k + 2) * _TINY
            if rounded:
                big = max([float(np.max(v)) if v.size else 0.0 for v in Mf] + [0.0])
                Rz = Rz + U * (op.apply([a + r for a, r in zip(ams, rs)], A, node.in_shapes) + ab) \
                    + 2.0 ** -1074 * (k + 1) * (big + 1.0)
            Rz = up(Rz * grow)
            zlo, zhi = down(c - Rz), up(c + Rz)
            grid = None
            ez = None
            grids = [a[3] for a in args]
            if gA is not None and all(gi is not None for gi in grids):
                gz = min(gA + min(grids), gb)
                S = up((op.apply(mags, A, node.in_shapes) + ab) * grow)
                if gz >= -1074 and bool(np.all(S < 2.0 ** min(53 + gz, 1023))):
                    ez, grid = np.zeros(c.shape), gz
            if ez is None:
                ez = g * (op.apply(Mf, A, node.in_shapes) + ab) + op.apply(errs, A, node.in_shapes) + (k + 2) * _TINY
                if rounded:
                    big = max([float(np.max(v)) if v.size else 0.0 for v in Mf] + [0.0])
                    ez = ez + U * (op.apply([m + e for m, e in zip(Mf, errs)], A, node.in_shapes) + ab) \
                        + 2.0 ** -1074 * (k + 1) * (big + 1.0)
                ez = up(ez * grow)
        return zlo, zhi, ez, grid

    def op_activation(self, node, args):
        act = node.op.act
        zlo, zhi, ez, grid = args[0]
        model = _act_float_model(act)
        if model is None:
            inf = np.full(zlo.shape, np.inf)
            return -inf, inf, inf, None
        K, jumps, act_exact, pieces = model
        with np.errstate(all="ignore"):
            vlo, vhi = act(zlo), act(zhi)                 # monotone: φ over [zlo, zhi]
            ylo = down(vlo - (_EVAL_REL * np.abs(vlo) + _EVAL_ABS))
            yhi = up(vhi + (_EVAL_REL * np.abs(vhi) + _EVAL_ABS))
            if grid is not None and act_exact:
                if act.name == "linear":
                    return zlo, zhi, ez, grid
                slopes = [to_fraction(pc.slope) for pc in pieces]
                inter = [to_fraction(pc.intercept) for pc in pieces]
                gy = min(fraction_grid(slopes) + grid, fraction_grid(inter))
                zmag = np.maximum(np.abs(zlo), np.abs(zhi))
                top = up((float(max(abs(v) for v in slopes)) * zmag + float(max(abs(v) for v in inter))) * 1.01)
                if gy >= -1074 and bool(np.all(top < 2.0 ** min(53 + gy, 1023))):
                    return ylo, yhi, np.zeros(zlo.shape), gy
            a_, b_ = down(zlo - ez), up(zhi + ez)         # both z and z̃ lie here
            fa, fb = act(a_), act(b_)
            ev = _EVAL_REL * np.maximum(np.abs(fa), np.abs(fb)) * (1 + _REL) + _EVAL_ABS
            prop = K * ez
            if jumps:
                hit = np.zeros(zlo.shape, dtype=bool)
                for p in jumps:
                    hit |= (a_ <= p) & (p <= b_)
                prop = np.where(hit, (fb - fa) + 2 * ev, prop)
            ey = up((prop + ev) * (1 + _REL))
        return ylo, yhi, ey, None

    def op_maxpool2d(self, node, args):
        lo, hi, e, g = args[0]
        s = node.in_shapes[0]
        op = node.op
        with np.errstate(all="ignore"):
            return op.apply(lo, s), op.apply(hi, s), op.apply(e, s), g

    def at_site(self, node, value):
        lo, hi, e, g = value
        return np.minimum(lo, 0.0), np.maximum(hi, 0.0), e, g
