r"""Pairwise-interaction bounds: per pair of crash sites, a bound on the summed mixed second derivatives.

Write the crash of neuron ``a`` with an indicator ``t_a ∈ [0, 1]``: the
neuron sends ``c_a + (1 − t_a)(y_a − c_a)`` (``t_a = 0`` live, ``t_a = 1``
crashed; ``c_a`` what a crashed neuron sends).  The network output is then a
function ``f(t)`` on the box ``[0, 1]^N`` and ``Δ(s) = f(1_s) − f(0)``.
This interpretation computes, for every pair of crash sites ``(g, h)``, a
non-negative array ``H[g, h]`` (the output's shape) with

``Σ_{a ∈ g, b ∈ h} sup_{t ∈ [0, 1]^N} |∂²f / ∂t_a ∂t_b (t)| ≤ H[g, h]``

and ``G[g] ≥ Σ_{a ∈ g} sup_t |∂f/∂t_a (t)|``: each rule below is the sum over
the pairs (neurons) of the same rule applied to per-pair (per-neuron) sup
bounds, which the group sums bound term by term.  It walks forward with, per node, the
pair ``(G, H)`` of such bounds for that node's value (``None`` while the node
does not depend on ``t``).  The rules (all quantities non-negative, each
result rounded upward by a factor ``1 + 2γ``):

* affine ``v = A u + b``: ``G_v ≤ |A| G_u``, ``H_v ≤ |A| H_u`` (triangle
  inequality per derivative, then summed);
* activation ``v = φ(u)``: ``∂²v_ab = φ''(u) ∂_a u ∂_b u + φ'(u) ∂²_ab u``, so
  ``G_v ≤ K G_u`` and ``H_v[g, h] ≤ K₂ G_u[g] G_u[h] + K H_u[g, h]`` with ``K``
  and ``K₂`` bounds of ``|φ'|`` and ``|φ''|`` over the node's box (the box of
  :class:`~symft.walk.errorbound.BoxAndError`, which holds the values of
  every ``t`` in ``[0, 1]^N``: at a site it is joined with the crash value,
  and interval arithmetic encloses the range over the whole box).  Where the
  box meets a kink ``φ''`` does not exist and :class:`~symft.errors.NotSmooth`
  is raised;
* crash site (neuron ``i`` of site ``g₀``):
  ``∂²v_i/∂t_a∂t_b = (1 − t_i) ∂²y_i − δ_{ai} ∂_b y_i − δ_{bi} ∂_a y_i``
  (``y_i`` does not depend on ``t_i``), so
  ``G_v[g] ≤ G_y[g] + [g = g₀] d_i`` and
  ``H_v[g, h] ≤ H_y[g, h] + [g = g₀] G_y[h] + [h = g₀] G_y[g]``, with
  ``d_i ≥ |y_i − c_i|`` over the box.

Used by :mod:`symft.engines.enclosure` for the interaction part of its tail
bound.

Examples
--------
>>> import numpy as np
>>> from symft.graph.network import mean_network
>>> from symft.walk.errorbound import BoxAndError
>>> from symft.walk.walker import walk
>>> net = mean_network(3)                       # y = mean(x): linear, no interaction
>>> vals = walk(net, BoxAndError(net, {0: "output_zero"}), np.ones((1, 3)))
>>> G, H = pair_bounds(net, vals, {0: "output_zero"})
>>> float(H[0, 0, 0]), round(float(G[0, 0]), 6)
(0.0, 1.0)
"""

from __future__ import annotations

import numpy as np

from ..errors import NotSmooth
from ..faults import site_of
from .interval import U, crash_value_interval, gamma
from .walker import Interpretation, NoRule, walk

__all__ = ["PairInteraction", "pair_bounds"]


def _clean(a):
    return np.where(np.isnan(a), np.inf, a)


class PairInteraction(Interpretation):
    """Forward: ``(G, H)`` per node, ``G`` ``(L, 1) + shape``, ``H`` ``(L, L, 1) + shape`` (or None).

    Parameters
    ----------
    net : Network
    boxes : dict
        ``{node: (Interval, error)}`` from a :class:`~symft.walk.errorbound.BoxAndError`
        walk with the same crash sites (only the intervals are used).
    crash_sites : mapping {site: semantics}
        In the order that numbers the groups ``0 … L−1``.

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> net = random_network([2, 3, 1], seed=0)
    >>> PairInteraction(net, {}, {1: "output_zero"}).name
    'pair-interaction'
    """

    name = "pair-interaction"

    def __init__(self, net, boxes, crash_sites):
        self.net = net
        self.boxes = boxes
        self.group = {}
        self.cv = {}
        for g, (k, sem) in enumerate(dict(crash_sites).items()):
            s = site_of(net, k)
            self.group[s] = g
            self.cv[s] = crash_value_interval(net, s, sem)
        self.L = len(self.group)
        self.fault_nodes = frozenset(self.group)

    def input(self, node, x):
        return None

    def _zeros(self, shape):
        return (np.zeros((self.L, 1) + tuple(shape)), np.zeros((self.L, self.L, 1) + tuple(shape)))

    def affine(self, node, args):
        if all(a is None for a in args):
            return None
        op = node.op
        A = op.abs_params()
        k = op.fan_in(node.in_shapes)
        Gs = [(a[0] if a is not None else self._zeros(s)[0]).reshape((self.L,) + tuple(s))
              for a, s in zip(args, node.in_shapes)]
        Hs = [(a[1] if a is not None else self._zeros(s)[1]).reshape((self.L * self.L,) + tuple(s))
              for a, s in zip(args, node.in_shapes)]
        f = 1 + 2 * gamma(k + 1)
        with np.errstate(invalid="ignore", over="ignore"):
            G = _clean(op.apply(Gs, A, node.in_shapes) * f)
            H = _clean(op.apply(Hs, A, node.in_shapes) * f)
        shape = tuple(node.shape)
        return G.reshape((self.L, 1) + shape), H.reshape((self.L, self.L, 1) + shape)

    def op_activation(self, node, args):
        v = args[0]
        act = node.op.act
        if v is None or act.name == "linear":
            return v
        G, H = v
        z = self.boxes[node.inputs[0]][0]
        with np.errstate(invalid="ignore", over="ignore"):
            K = act.slope_bound(z.lo, z.hi)
            try:
                dlo, dhi = act.derivative_box(z.lo, z.hi, 2)
                K2 = np.maximum(np.abs(dlo), np.abs(dhi))
            except NotSmooth:
                K2 = np.full(np.shape(z.lo), np.inf)
            K2 = np.broadcast_to(K2, np.shape(z.lo))
            prod = G[:, None] * G[None, :]
            second = np.where(prod == 0, 0.0, K2[None, None] * prod)
            Gn = np.where(G == 0, 0.0, K[None] * G) * (1 + 4 * U)
            Hn = (second + np.where(H == 0, 0.0, K[None, None] * H)) * (1 + 8 * U)
        if not np.all(np.isfinite(Hn)):
            raise NotSmooth(f"pair interaction: no bound on the second derivative of {act.name} at node {node.name!r}")
        return _clean(Gn), _clean(Hn)

    def op_maxpool2d(self, node, args):
        if args[0] is None:
            return None
        raise NotSmooth(f"pair interaction: max pooling at node {node.name!r} has no second derivative bound")

    def at_site(self, node, v):
        shape = tuple(node.shape)
        G, H = self._zeros(shape) if v is None else (v[0].copy(), v[1].copy())
        g0 = self.group[node.name]
        box = self.boxes[node.name][0]
        c = self.cv[node.name]
        with np.errstate(invalid="ignore", over="ignore"):
            d = np.maximum(box.hi.reshape(shape) - c.lo.reshape(shape),
                           c.hi.reshape(shape) - box.lo.reshape(shape)) * (1 + 4 * U)
            d = np.maximum(d, 0.0)
            Hn = H.copy()
            Hn[g0] += G
            Hn[:, g0] += G
            Hn *= (1 + 4 * U)
            G[g0] = (G[g0] + d[None]) * (1 + 2 * U)
        return _clean(G), _clean(Hn)


def pair_bounds(net, boxes, crash_sites):
    """``(G, H)`` at the output: ``G`` ``(L, n_out)``, ``H`` ``(L, L, n_out)`` (see the module docstring).

    Raises :class:`~symft.errors.NotSmooth` where an activation has no
    second-derivative bound over its box (a kink inside it, a max pooling).

    Examples
    --------
    >>> import numpy as np
    >>> from symft.graph.network import random_network
    >>> from symft.walk.errorbound import BoxAndError
    >>> net = random_network([2, 4, 4, 1], seed=0, activation="sigmoid")
    >>> sites = {1: "output_zero", 2: "output_zero"}
    >>> G, H = pair_bounds(net, walk(net, BoxAndError(net, sites), np.ones((1, 2))), sites)
    >>> H.shape, bool(np.all(H >= 0)), bool(np.allclose(H[0, 1], H[1, 0]))
    ((2, 2, 1), True, True)
    """
    interp = PairInteraction(net, boxes, crash_sites)
    try:
        v = walk(net, interp, None, keep=False)
    except NoRule as e:
        raise NotSmooth(f"pair interaction: {e}") from None
    n_out = net.n_outputs
    if v is None:
        return np.zeros((interp.L, n_out)), np.zeros((interp.L, interp.L, n_out))
    G, H = v
    return G.reshape(interp.L, n_out), H.reshape(interp.L, interp.L, n_out)
