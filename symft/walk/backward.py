r"""The reverse-mode interpretation: vector–Jacobian products for :func:`~symft.walk.walker.walk_reverse`.

Cotangents are float64 arrays ``(B, K) + shape``: ``B`` inputs and ``K``
seed directions (e.g. ``K = n_out`` rows of a Jacobian); the forward values
the rules read (pre-activations, pooling inputs) are ``(B,) + shape``.  At
kinks of piecewise-linear activations the left derivative is used
(``relu'(0) = 0``).

Examples
--------
>>> import numpy as np
>>> from symft.graph.network import mean_network
>>> from symft.walk.walker import walk_reverse
>>> net = mean_network(4)
>>> walk_reverse(net, Backward(), {}, np.ones((1, 1, 1)), ["0"])["0"]
array([[[0.25, 0.25, 0.25, 0.25]]])
"""

from __future__ import annotations

import numpy as np

from .walker import Interpretation, NoRule

__all__ = ["Backward"]


class Backward(Interpretation):
    """Float64 vector–Jacobian products (one rule per op kind; affine ops use their adjoint).

    Examples
    --------
    >>> Backward().add(np.ones(2), np.ones(2))
    array([2., 2.])
    """

    name = "backward"

    def vjp(self, node, g, values):
        """Cotangents of the node's inputs given the cotangent ``g`` of its output.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> net = mean_network(2)
        >>> Backward().vjp(net.node("z1"), np.ones((1, 1, 1)), {})[0]
        array([[[0.5, 0.5]]])
        """
        op = node.op
        if op.affine:
            # fold the leading axes (inputs × seed directions) into one, so that a dense op is one
            # 2-D matrix product instead of a stack of small ones
            shape = tuple(node.shape)
            lead = g.shape[:g.ndim - len(shape)]
            parts = op.adjoint(g.reshape((-1,) + shape), op.params("float"), node.in_shapes)
            return [a.reshape(lead + tuple(s)) for a, s in zip(parts, node.in_shapes)]
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
        d = act.derivative(values[node.inputs[0]])      # values: (B,) + shape
        return [g * d[:, None]]

    def vjp_maxpool2d(self, node, g, values):
        op = node.op
        in_shape = tuple(node.in_shapes[0])
        x = values[node.inputs[0]]                     # (B,) + in_shape
        win = op.windows(x, in_shape)                  # (B, C, OHW, K)
        arg = win.argmax(axis=-1)                      # (B, C, OHW)
        idx, (OH, OW), _ = op.index(in_shape)
        src = np.take_along_axis(np.broadcast_to(idx, win.shape), arg[..., None], axis=-1)[..., 0]  # (B, C, OHW)
        B = x.shape[0]
        K = g.shape[1]
        C = in_shape[0]
        gf = g.reshape(B, K, C * OH * OW)
        out = np.zeros((B, K, int(np.prod(in_shape))), dtype=g.dtype)
        srcf = np.broadcast_to(src.reshape(B, 1, -1), gf.shape)
        np.add.at(out, (np.arange(B)[:, None, None], np.arange(K)[None, :, None], srcf), gf)
        return [out.reshape((B, K) + in_shape)]
