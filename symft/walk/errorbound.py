r"""Two interpretations for certified enclosures: boxes with rounding-error bounds, and absolute sensitivities.

:class:`BoxAndError` walks forward.  The value of a node is ``(box, e)``:
``box`` encloses the node's *true* value under every crash configuration of
the given sites (outward rounding, :mod:`symft.walk.interval`), and ``e``
bounds ``|computed − true|`` for the float64 value the enumeration computes
for any configuration with at most ``order`` crashes (``fl`` of the dense
product, of the sparse update ``z − Σ_{i ∈ s} A e_i (y_i − γ_i)``, and of the
activations):

* affine op (fan-in ``k``): ``e_out = |A| e_in (1 + 4γ_k) + (4γ_{k+order} + 2w_rel)(|A| M_in + |b|)``,
  ``M_in`` the largest magnitude in the input box plus ``e_in``;
* activation: ``e_out = K e_in + η (M_y + M_z + 1)`` where ``K`` bounds
  ``|φ'|`` over the box widened by ``e_in`` (mean value theorem) and ``η`` is
  the assumed accuracy :data:`~symft.graph.activations.ETA` (0 for the
  identity); without a slope bound (a jump in the box) the box's width;
  for a bounded range ``[a, b]`` (tanh, sigmoid, hardtanh) at most
  ``max(b − y_lo, y_hi − a) + η (|a| + |b| + 1)``: the true value lies in the
  box ``[y_lo, y_hi]`` and the computed one in the range, so a huge
  pre-activation (``e_in``, ``M_z`` near 1e200) cannot make the bound overflow;
* max pooling: ``max`` of the input errors over the window (max is
  1-Lipschitz in the sup norm and exact);
* at a crashed site the box is joined with the crash value.

:class:`AbsSensitivity` walks backward with non-negative cotangents:
``|A|ᵀ g`` through affine ops, ``K g`` through activations (``K`` from the
forward pass), the window sum through max pooling; every result is rounded
upward by a factor ``1 + 2γ``.  The cotangent at a site bounds how much a
perturbation of each of its neurons can move each output, over every crash
configuration: ``|Δ_k(s)| ≤ Σ_{(site, i) ∈ s} d_i G_site[k, i]``.

Examples
--------
>>> import numpy as np
>>> from symft.graph.network import mean_network
>>> from symft.walk.walker import walk
>>> from symft.walk.interval import Interval
>>> net = mean_network(2)
>>> vals = walk(net, BoxAndError(net, {0: "output_zero"}, order=1), np.ones((1, 2)))
>>> box, e = vals[net.output]
>>> bool(box.lo[0, 0] <= 0.0 and box.hi[0, 0] >= 1.0 and e[0, 0] < 1e-14)
True
"""

from __future__ import annotations

import numpy as np

from ..faults import SEMANTICS, site_of, zeroed_preactivation
from ..graph.activations import ETA
from .interval import U, Interval, crash_value_interval, gamma, interval_affine
from .walker import Interpretation, NoRule

__all__ = ["BoxAndError", "AbsSensitivity"]


class BoxAndError(Interpretation):
    """Forward: ``(box of true values over every configuration, bound on the float error)`` per node.

    Parameters
    ----------
    net : Network
    crash_sites : mapping {site: semantics}
        The sites whose neurons may crash (boxes joined with the crash value).
    order : int
        The largest number of crashes of an evaluated configuration (it
        enters the error of the sparse update).
    input_error : array_like, optional
        A bound on ``|float input − true input|`` (inputs given exactly that
        float64 cannot hold); 0 by default.

    Attributes
    ----------
    slopes : dict
        ``{activation node: K}`` the slope bounds used (for :class:`AbsSensitivity`).
    crash_float : dict
        ``{site: (n,) float}`` what a crashed neuron outputs, as computed.

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> BoxAndError(random_network([2, 2, 1], seed=0), {1: "output_zero"}, order=2).name
    'box-and-error'
    """

    name = "box-and-error"

    def __init__(self, net, crash_sites, *, order: int = 0, input_error=None):
        from .numeric import crash_values_float

        self.net = net.check_numeric()
        self.order = int(order)
        self.input_error = input_error
        self.slopes = {}
        self.cv = {}
        self.crash_float = {}
        self.crash_err = {}
        for k, sem in dict(crash_sites).items():
            if sem not in SEMANTICS:
                raise ValueError(f"semantics: {sem!r}")
            s = site_of(net, k)
            self.cv[s] = crash_value_interval(net, s, sem)
            cf = crash_values_float(net, s, sem)
            self.crash_float[s] = cf
            err = np.zeros(cf.shape)
            if sem != "output_zero":
                aff, act = zeroed_preactivation(net, s)
                if aff is not None:
                    node = net.node(aff)
                    zeros = [np.zeros((1,) + tuple(t)) for t in node.in_shapes]
                    pre = np.abs(node.op.apply(zeros, node.op.params("float"), node.in_shapes)).reshape(-1)
                    err = ETA * (np.abs(cf) + pre + 1.0)
            self.crash_err[s] = err
        self.fault_nodes = frozenset(self.cv)

    def input(self, node, x):
        x = np.asarray(x, dtype=float)
        if self.input_error is None:
            return Interval.point(x), np.zeros_like(x)
        e = np.broadcast_to(np.asarray(self.input_error, dtype=float), x.shape)
        from .interval import down, up

        return Interval(down(x - e), up(x + e)), e.copy()

    def affine(self, node, args):
        op = node.op
        boxes = [a[0] for a in args]
        errs = [a[1] for a in args]
        box = interval_affine(node, boxes)
        A = op.abs_params()
        k = op.fan_in(node.in_shapes)
        mags = [b.mag() + e for b, e in zip(boxes, errs)]
        AM = op.apply(mags, A, node.in_shapes)
        if op.has_bias:
            zeros = [np.zeros((1,) + tuple(s)) for s in node.in_shapes]
            AM = AM + np.abs(op.apply(zeros, op.params("float"), node.in_shapes))
        Ae = op.apply(errs, A, node.in_shapes)
        w_rel = 0.0 if op.is_float else U
        g = 4 * gamma(k + self.order) + 2 * w_rel
        with np.errstate(invalid="ignore", over="ignore"):
            e = Ae * (1 + 4 * gamma(k)) + g * AM * (1 + 1e-12) + 1e-300
        return box, e

    def op_activation(self, node, args):
        act = node.op.act
        z, ez = args[0]
        if act.name == "linear":
            return z, ez
        with np.errstate(invalid="ignore", over="ignore"):
            K = act.slope_bound(z.lo - ez, z.hi + ez)
        self.slopes[node.name] = K
        ylo, yhi = act.box(z.lo, z.hi)
        with np.errstate(invalid="ignore", over="ignore"):
            My = np.maximum(np.abs(ylo), np.abs(yhi))
            Mz = z.mag()
            e = K * ez * (1 + 1e-12) + ETA * (My + Mz + 1.0) + 1e-300
            e = np.where(np.isfinite(K), e, yhi - ylo)
            ends = _finite_range(act)
            if ends is not None:        # true value in [ylo, yhi], computed value in the range [a, b]
                a, b = ends
                cap = np.maximum(b - ylo, yhi - a) * (1 + 1e-12) + ETA * (abs(a) + abs(b) + 1.0)
                e = np.fmin(e, cap)     # fmin: a NaN bound (inf − inf) gives way to the cap
        return Interval(ylo, yhi), e

    def op_maxpool2d(self, node, args):
        box, e = args[0]
        s = node.in_shapes[0]
        return Interval(node.op.apply(box.lo, s), node.op.apply(box.hi, s)), node.op.apply(e, s)

    def at_site(self, node, v):
        box, e = v
        shape = node.shape
        box = box.hull(self.cv[node.name].reshape(shape))
        e = np.maximum(e, self.crash_err[node.name].reshape(shape))
        return box, e


def _finite_range(act):
    """The ends ``(a, b)`` of the range of ``act`` as floats rounded outward, or None when an end is infinite."""
    lo, hi = act.range
    if not (lo.is_finite and hi.is_finite):
        return None
    a, b = float(lo), float(hi)
    return (float(np.nextafter(np.nextafter(a, -np.inf), -np.inf)),
            float(np.nextafter(np.nextafter(b, np.inf), np.inf)))


class AbsSensitivity(Interpretation):
    """Backward: non-negative bounds of how much each node's perturbation moves each output.

    Cotangents are float arrays ``(K,) + shape`` (``K`` outputs), all
    non-negative; ``slopes`` are the activation slope bounds of a
    :class:`BoxAndError` pass.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> from symft.walk.walker import walk_reverse
    >>> g = walk_reverse(mean_network(2), AbsSensitivity({}), {}, np.ones((1, 1)), ["0"])["0"]
    >>> bool(np.all(g >= 0.5))
    True
    """

    name = "abs-sensitivity"

    def __init__(self, slopes):
        self.slopes = dict(slopes)

    def vjp(self, node, g, values):
        op = node.op
        if op.affine:
            k = op.fan_in(node.in_shapes)
            with np.errstate(invalid="ignore", over="ignore"):
                parts = op.adjoint(g, op.abs_params(), node.in_shapes)
                return [np.where(np.isnan(p), np.inf, p * (1 + 2 * gamma(k))) for p in parts]
        if op.kind == "activation":
            if op.act.name == "linear":
                return [g]
            K = self.slopes[node.name]
            with np.errstate(invalid="ignore", over="ignore"):
                out = g * K[0][None] * (1 + 4 * U)
            return [np.where(np.isnan(out), np.inf, out)]
        if op.kind == "maxpool2d":
            k = op.fan_in(node.in_shapes)
            return [op.spread(g, node.in_shapes[0]) * (1 + 2 * gamma(k))]
        raise NoRule(f"the {self.name} interpretation has no rule for {op.kind} ops (node {node.name!r})")

    def add(self, a, b):
        with np.errstate(invalid="ignore", over="ignore"):
            return (a + b) * (1 + 2 * U)
