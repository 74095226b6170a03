r"""The interval-jet interpretation: enclosures of first and second derivatives w.r.t. the crash indicators.

T1's remainder (theory §5) needs, over the whole crash box
``ξ ∈ [0, 1]^n`` (one ``ξ`` per neuron of the crash sites), rigorous bounds
of ``|∂y/∂ξ_a|`` and ``|∂²y/∂ξ_a∂ξ_b|`` (``D_1``, ``D_2``).  This
interpretation propagates, node by node in topological order, an
:class:`IntervalJet` ``(v, g, h)`` of outward-rounded
:class:`~symft.walk.interval.Interval` arrays that contain, for *every* ξ
in the box,

* ``v`` — the node's value, ``(1,) + shape``;
* ``g`` — its gradient in ξ, ``(n,) + shape`` (``g[a] ⊇ ∂v/∂ξ_a``);
* ``h`` — its Hessian in ξ, ``(n, n) + shape``;

``g`` and ``h`` are ``None`` while the node does not depend on any ξ (every
node upstream of the crash sites).  The rules (inclusion isotonicity makes
each enclosure contain the true derivative at every point of the box):

* **affine ops** ``v ↦ A v + b`` (dense, convolution, pooling, batch norm,
  add, reshapes): ``v`` through
  :func:`~symft.walk.interval.interval_affine`, ``g`` and ``h`` through the
  same rule with the bias dropped (their leading axes ``(n,)`` / ``(n, n)``
  are batch axes to the op) — one rule for every affine op;
* **activations** ``v ↦ φ(v)``: ``v`` by the registry's
  :meth:`~symft.graph.activations.Activation.box`, and the chain rule
  ``g ← φ'(v) g``, ``h ← φ''(v) g gᵀ + φ'(v) h`` with the registry's
  derivative enclosures
  (:meth:`~symft.graph.activations.Activation.derivative_box`; a
  pre-activation interval that meets a kink, or an activation without a
  known enclosure, raises :class:`~symft.errors.NotSmooth`);
* **max pooling** is smooth over the box only where, in each window, one
  element's lower end exceeds the upper end of every other element: the
  output is then that element (its ``v``, ``g``, ``h`` are routed); a window
  whose intervals overlap raises :class:`~symft.errors.NotSmooth`;
* **crash sites**: neuron ``i`` of a site (at offset ``o``) outputs
  ``ŷ_i = c_i + (1 − ξ_i)(y_i − c_i)`` with ``c_i`` what a crashed neuron
  sends (0, or an enclosure of ``φ(b)`` under ``"incoming_zeroed"``), so
  with ``1 − ξ_i ∈ [0, 1]``: ``v ← c + [0, 1]·(v − c)``,
  ``g_a ← [0, 1]·g_a − δ_{a, o+i} (v_i − c_i)``,
  ``h_ab ← [0, 1]·h_ab − δ_{a, o+i} g_b − δ_{b, o+i} g_a``.

Examples
--------
>>> import numpy as np
>>> from symft.graph.network import mean_network
>>> from symft.walk.interval import Interval
>>> from symft.walk.walker import walk
>>> net = mean_network(2)
>>> jet = walk(net, IntervalJets(net, ["0"]), Interval.point(np.ones((1, 2))), keep=False)
>>> jet.g.hi.ravel()      # ∂y/∂ξ_a = −x_a / 2
array([-0.5, -0.5])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import FaultModelError, NotSmooth
from ..faults import SEMANTICS, site_of
from .interval import Interval, crash_value_interval, down, interval_affine, up
from .walker import Interpretation

__all__ = ["IntervalJet", "IntervalJets"]


@dataclass(frozen=True, eq=False)
class IntervalJet:
    """Enclosures of a node's value, gradient and Hessian in ξ over the crash box.

    Attributes
    ----------
    v : Interval
        ``(1,) + shape``.
    g : Interval or None
        ``(n,) + shape``; ``None`` when the node does not depend on ξ.
    h : Interval or None
        ``(n, n) + shape``; ``None`` when identically 0 (or not propagated).

    Examples
    --------
    >>> IntervalJet(Interval.point(np.zeros((1, 2))), None, None).g is None
    True
    """

    v: Interval
    g: Interval | None
    h: Interval | None


def _zeros_like_lead(lead, shape) -> Interval:
    return Interval.zeros(tuple(lead) + tuple(shape))


class IntervalJets(Interpretation):
    """Forward-mode interval jets (value, gradient, Hessian) w.r.t. the crash indicators of some sites.

    Parameters
    ----------
    net : Network
        Numeric parameters (float, or exact ones rounded to float64 with the
        rounding enclosed, as in :func:`~symft.walk.interval.interval_affine`).
    sites : sequence of site keys
        The crash sites; the ξ indices run over their neurons, site by site
        in this order, each row-major.
    semantics : {"output_zero", "incoming_zeroed"}
        What a crashed neuron sends.
    order : {1, 2}
        ``1`` propagates ``(v, g)`` only (``h`` stays ``None``).
    rows : (int, int), optional
        Only the rows ``a ∈ [start, stop)`` of the Hessian: ``h`` then has
        shape ``(stop − start, n) + shape`` and holds ``∂²/∂ξ_a∂ξ_b`` for
        those ``a`` and every ``b`` (each row block is a walk of its own,
        so the Hessian of a wide site can be computed in bounded memory;
        every entry is computed by the same operations as in the full
        Hessian).  Default: every row.

    Notes
    -----
    Memory per node is about ``n² · size`` intervals for ``h`` (``rows``:
    ``(stop − start) · n · size``); the caller guards the size (:func:`symft.engines.taylor.derivative_bounds`).  The
    walk's input is an :class:`~symft.walk.interval.Interval` box
    ``(1,) + input_shape`` (one input, or a box of inputs).

    Examples
    --------
    >>> from symft.graph.network import Network
    >>> from symft.walk.walker import walk
    >>> net = Network.from_numpy([[[1.0]], [[2.0]]], activations=["tanh", "linear"])
    >>> jet = walk(net, IntervalJets(net, [1]), Interval.point(np.array([[0.5]])), keep=False)
    >>> bool(jet.g.lo[0, 0] <= -2 * np.tanh(0.5) <= jet.g.hi[0, 0]), jet.h is None   # Δ is linear in ξ
    (True, True)
    """

    name = "interval jet"

    def __init__(self, net, sites, *, semantics: str = "output_zero", order: int = 2, rows=None):
        if semantics not in SEMANTICS:
            raise FaultModelError(f"semantics: expected one of {', '.join(map(repr, SEMANTICS))}, got {semantics!r}")
        if order not in (1, 2):
            raise FaultModelError(f"order: expected 1 or 2, got {order!r}")
        self.net = net.check_numeric("interval derivatives")
        self.order = order
        self.offsets = {}
        self.crash = {}
        o = 0
        for k in sites:
            s = site_of(net, k, "crash sites")
            if s in self.offsets:
                raise FaultModelError(f"crash sites: site {s!r} is given twice")
            m = net.site_size(s)
            self.offsets[s] = (o, m)
            self.crash[s] = crash_value_interval(net, s, semantics) if semantics != "output_zero" else None
            o += m
        self.n = o
        r0, r1 = (0, o) if rows is None else (int(rows[0]), int(rows[1]))
        if not 0 <= r0 <= r1 <= o:
            raise FaultModelError(f"rows: expected 0 ≤ start ≤ stop ≤ {o}, got {rows!r}")
        self.rows = (r0, r1)
        self.fault_nodes = frozenset(self.offsets)

    # ---------------------------------------------------------------- rules
    def input(self, node, x):
        """The input box (an Interval ``(1,) + input_shape``) as a jet without ξ-dependence.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> net = mean_network(2)
        >>> IntervalJets(net, [0]).input(net.node("0"), Interval.point(np.ones((1, 2)))).g is None
        True
        """
        return IntervalJet(x, None, None)

    def affine(self, node, args):
        v = interval_affine(node, [a.v for a in args])
        g = h = None
        if any(a.g is not None for a in args):
            gs = [a.g if a.g is not None else _zeros_like_lead((self.n,), s) for a, s in zip(args, node.in_shapes)]
            g = interval_affine(node, gs, with_bias=False)
        if any(a.h is not None for a in args):
            lead = (self.rows[1] - self.rows[0], self.n)
            hs = [a.h if a.h is not None else _zeros_like_lead(lead, s)
                  for a, s in zip(args, node.in_shapes)]
            h = interval_affine(node, hs, with_bias=False)
        return IntervalJet(v, g, h)

    def op_activation(self, node, args):
        a = args[0]
        act = node.op.act
        if act.name == "linear":
            return a
        v = Interval(*act.box(a.v.lo, a.v.hi))
        if a.g is None:
            return IntervalJet(v, None, None)
        try:
            d1 = Interval(*act.derivative_box(a.v.lo, a.v.hi, 1))
            d2 = Interval(*act.derivative_box(a.v.lo, a.v.hi, 2)) if self.order == 2 else None
        except NotSmooth as e:
            raise NotSmooth(f"node {node.name!r}: {e}; so over the crash box the output is not known to be "
                            "twice differentiable") from None
        g = a.g * d1
        h = None
        if self.order == 2:
            if np.any(d2.lo != 0) or np.any(d2.hi != 0):
                gg = a.g[self.rows[0]:self.rows[1]][:, None] * a.g[None, :]
                h = gg * d2
            if a.h is not None:
                t = a.h * d1
                h = t if h is None else h + t
        return IntervalJet(v, g, h)

    def op_maxpool2d(self, node, args):
        a = args[0]
        op = node.op
        s = tuple(node.in_shapes[0])
        if a.g is None:
            return IntervalJet(Interval(op.apply(a.v.lo, s), op.apply(a.v.hi, s)), None, None)
        idx, (OH, OW), _ = op.index(s)                                  # (C, OHW, KK)
        wlo = op.windows(a.v.lo, s)[0]                                  # (C, OHW, KK)
        whi = op.windows(a.v.hi, s)[0]
        win = wlo.argmax(axis=-1)[..., None]                            # (C, OHW, 1)
        src = np.take_along_axis(idx, win, axis=-1)                     # (C, OHW, 1)
        best = np.take_along_axis(wlo, win, axis=-1)
        ok = np.all((idx == src) | (whi < best), axis=-1)
        if not np.all(ok):
            c, w = np.argwhere(~ok)[0]
            raise NotSmooth(f"node {node.name!r}: max pooling window {int(w)} of channel {int(c)} has no strict "
                            "winner over the crash box (the intervals of two of its elements overlap), so the "
                            "output is not known to be differentiable there")
        flat = src.reshape(-1)
        out = (s[0], OH, OW)

        def route(iv, lead):
            lo = iv.lo.reshape(tuple(lead) + (-1,))[..., flat]
            hi = iv.hi.reshape(tuple(lead) + (-1,))[..., flat]
            return Interval(lo.reshape(tuple(lead) + out), hi.reshape(tuple(lead) + out))

        v = route(a.v, (1,))
        g = route(a.g, (self.n,))
        h = None if a.h is None else route(a.h, (self.rows[1] - self.rows[0], self.n))
        return IntervalJet(v, g, h)

    def at_site(self, node, a):
        o, m = self.offsets[node.name]
        n = self.n
        shape = tuple(node.shape)
        c = self.crash[node.name]
        keep = Interval(np.zeros((1, m)), np.ones((1, m)))             # 1 − ξ_i ∈ [0, 1]
        y = a.v.reshape(1, m)
        base = y if c is None else y - c.reshape(1, m)                  # y − c
        v = keep * base
        if c is not None:
            v = v + c.reshape(1, m)
        ii = np.arange(m)
        if a.g is None:
            glo, ghi = np.zeros((n, m)), np.zeros((n, m))
        else:
            gk = a.g.reshape(n, m) * keep
            glo, ghi = gk.lo.copy(), gk.hi.copy()
        glo[o + ii, ii] = down(glo[o + ii, ii] - base.hi[0])
        ghi[o + ii, ii] = up(ghi[o + ii, ii] - base.lo[0])
        g = Interval(glo.reshape((n,) + shape), ghi.reshape((n,) + shape))
        h = None
        if self.order == 2 and (a.h is not None or a.g is not None):
            r0, r1 = self.rows
            r = r1 - r0
            if a.h is None:
                hlo, hhi = np.zeros((r, n, m)), np.zeros((r, n, m))
            else:
                hk = a.h.reshape(r, n, m) * keep
                hlo, hhi = hk.lo.copy(), hk.hi.copy()
            if a.g is not None:
                g0lo, g0hi = a.g.lo.reshape(n, m), a.g.hi.reshape(n, m)
                mine = ii[(o + ii >= r0) & (o + ii < r1)]          # rows a = o + i of this block
                ra = o + mine - r0
                hlo[ra, :, mine] = down(hlo[ra, :, mine] - g0hi.T[mine])
                hhi[ra, :, mine] = up(hhi[ra, :, mine] - g0lo.T[mine])
                hlo[:, o + ii, ii] = down(hlo[:, o + ii, ii] - g0hi[r0:r1])
                hhi[:, o + ii, ii] = up(hhi[:, o + ii, ii] - g0lo[r0:r1])
            h = Interval(hlo.reshape((r, n) + shape), hhi.reshape((r, n) + shape))
        return IntervalJet(v.reshape((1,) + shape), g, h)
