r"""The interval reverse-mode interpretation: enclosures of vector–Jacobian products, for :func:`~symft.walk.walker.walk_reverse`.

T1's point values (``E Δ ≈ Σ p g``, with ``g`` the sensitivities
``∂y/∂ξ`` at ``ξ = 0``) are computed in float64 by one reverse sweep; a
cancelling sum (``1e12 + 1e-5 − 1e12``) can lose all of them.  Running the
same reverse sweep in outward-rounded interval arithmetic encloses the exact
real derivatives, whatever the float passes lose, so T1's reported values
carry a proved rounding error.

Cotangents are :class:`~symft.walk.interval.Interval` arrays
``(B, K) + shape`` (``B`` inputs, ``K`` seed directions); the forward values
the rules read are the intervals of the interval forward pass
(:class:`~symft.walk.interval.IntervalInterp`), ``(B,) + shape``.  Rules:

* **affine ops**: ``Aᵀ g`` by :func:`~symft.walk.interval.interval_adjoint`
  (midpoint–radius, the one rounding policy);
* **activations**: ``g · φ'(z)`` with the registry's enclosure of ``φ'``
  over the pre-activation interval
  (:meth:`~symft.graph.activations.Activation.derivative_box`); an interval
  that meets a kink raises :class:`~symft.errors.NotSmooth` (the derivative
  does not exist there);
* **max pooling**: the cotangent of a window goes to its winner when one
  element's lower end exceeds the upper end of every other element, else
  :class:`~symft.errors.NotSmooth`; an element that wins several windows
  gets their sum, moved out by ``2 γ_k`` times the sum of magnitudes.

Examples
--------
>>> import numpy as np
>>> from symft.graph.network import mean_network
>>> from symft.walk.interval import Interval, IntervalInterp
>>> from symft.walk.walker import walk, walk_reverse
>>> net = mean_network(2)
>>> vals = walk(net, IntervalInterp(net), Interval.point(np.ones((1, 2))))
>>> g = walk_reverse(net, IntervalBackward(), vals, Interval.point(np.ones((1, 1, 1))), ["0"])["0"]
>>> bool(np.all(g.lo <= 0.5) and np.all(0.5 <= g.hi))
True
"""

from __future__ import annotations

import numpy as np

from ..errors import NotSmooth
from .interval import Interval, down, gamma, interval_adjoint, up
from .walker import Interpretation, NoRule

__all__ = ["IntervalBackward"]


class IntervalBackward(Interpretation):
    """Outward-rounded vector–Jacobian products (one rule per op kind; affine ops use their adjoint).

    Examples
    --------
    >>> IntervalBackward().add(Interval.point(np.ones(1)), Interval.point(np.ones(1))).hi >= 2.0
    array([ True])
    """

    name = "interval reverse"

    def vjp(self, node, g, values):
        """Enclosures of the cotangents of the node's inputs given the cotangent ``g`` of its output.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> net = mean_network(2)
        >>> IntervalBackward().vjp(net.node("z1"), Interval.point(np.ones((1, 1, 1))), {})[0].shape
        (1, 1, 2)
        """
        op = node.op
        if op.affine:
            return interval_adjoint(node, g)
        m = getattr(self, "vjp_" + op.kind, None)
        if m is None:
            raise NoRule(f"the {self.name} interpretation has no rule for {op.kind} ops (node {node.name!r})")
        return m(node, g, values)

    def add(self, a, b):
        return a + b

    def vjp_activation(self, node, g, values):
        act = node.op.act
        if act.name == "linear":
            return [g]
        z = values[node.inputs[0]]                      # (B,) + shape
        try:
            d1 = Interval(*act.derivative_box(z.lo, z.hi, 1))
        except NotSmooth as e:
            raise NotSmooth(f"node {node.name!r}: {e} (the enclosure of a fault-free pre-activation, so the "
                            "sensitivity has no proved enclosure)") from None
        return [g * d1[:, None]]

    def vjp_maxpool2d(self, node, g, values):
        op = node.op
        s = tuple(node.in_shapes[0])
        x = values[node.inputs[0]]                      # (B,) + s
        idx, (OH, OW), _ = op.index(s)                  # (C, OHW, KK)
        wlo = op.windows(x.lo, s)                       # (B, C, OHW, KK)
        whi = op.windows(x.hi, s)
        win = wlo.argmax(axis=-1)[..., None]
        full = np.broadcast_to(idx, wlo.shape)
        src = np.take_along_axis(full, win, axis=-1)    # (B, C, OHW, 1)
        best = np.take_along_axis(wlo, win, axis=-1)
        ok = np.all((full == src) | (whi < best), axis=-1)
        if not np.all(ok):
            b, c, w = np.argwhere(~ok)[0]
            raise NotSmooth(f"node {node.name!r}: max pooling window {int(w)} of channel {int(c)} has no strict "
                            f"winner at input {int(b)} (the intervals of two of its elements overlap), so the "
                            "output is not known to be differentiable there")
        B, K = g.lo.shape[:2]
        n_in = int(np.prod(s))
        srcf = np.broadcast_to(src.reshape(B, 1, -1), (B, K, src[..., 0].size // B))
        bi = np.arange(B)[:, None, None]
        ki = np.arange(K)[None, :, None]
        parts = []
        for e in (g.lo, g.hi, np.maximum(np.abs(g.lo), np.abs(g.hi))):
            out = np.zeros((B, K, n_in))
            np.add.at(out, (bi, ki, srcf), e.reshape(B, K, -1))
            parts.append(out)
        lo, hi, mag = parts
        k = op.kernel[0] * op.kernel[1]                 # the most windows one element can win
        err = up(mag * (2.0 * gamma(k)))
        return [Interval(down(lo - err).reshape((B, K) + s), up(hi + err).reshape((B, K) + s))]
