r"""The second-order forward-mode interpretation: values, gradients and Hessians w.r.t. the input.

Each node's value is a *jet* ``(v, g, h)`` of float64 arrays:

* ``v`` — the value, ``(B,) + shape`` (``B`` inputs);
* ``g`` — its derivatives along ``K`` input directions, ``(B, K) + shape``
  (``g[b, a] = ∂v/∂u_a``);
* ``h`` — its second derivatives, ``(B, K, K) + shape``
  (``h[b, a, c] = ∂²v/∂u_a∂u_c``), or ``None`` while it is identically 0
  (before the first curved activation).

The rules:

* **affine ops** ``v ↦ A v + b`` (dense, convolution, pooling, batch norm,
  add, reshapes): ``v`` goes through the op, ``g`` and ``h`` through its
  linear part alone (:meth:`~symft.graph.ops.AffineOp.linear_params`, the
  bias dropped); the extra leading axes ``(K,)`` / ``(K, K)`` are just more
  batch axes to the op.  One rule for every affine op.
* **activations** ``v ↦ φ(v)``: ``g ← φ'(v) g`` and
  ``h ← φ''(v) g gᵀ + φ'(v) h`` (the registry's NumPy derivatives; at kinks
  of piecewise-linear functions the registry's one-sided convention, and
  ``φ'' = 0`` off the kinks).
* **max pooling** routes ``v``, ``g`` and ``h`` of each window by the
  argmax of ``v`` (the first one on ties): the derivative where the maximum
  is unique, a one-sided one on ties.

Seeds: the input's jet is ``(x, directions, 0)``; the default directions
are the unit vectors of the flattened input (``K = n_in``), giving the full
gradient and Hessian of every output w.r.t. the input.

Examples
--------
>>> import numpy as np
>>> from symft.graph.network import Network
>>> from symft.walk.walker import walk
>>> net = Network.from_numpy([[[1.0, 2.0]], [[3.0]]], activations=["tanh", "linear"])
>>> v, g, h = walk(net, Jets(net), np.array([[0.5, 0.0]]), keep=False)
>>> bool(np.allclose(g[0, :, 0], 3 * (1 - np.tanh(0.5) ** 2) * np.array([1.0, 2.0])))
True
>>> h.shape
(1, 2, 2, 1)
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidArgument
from .walker import Interpretation

__all__ = ["Jets"]


class Jets(Interpretation):
    """Second-order forward-mode derivatives (float64) along ``K`` input directions.

    Parameters
    ----------
    net : Network
        Any graph with numeric (float or exact) parameters.
    directions : array_like, optional
        ``(K, n_in)`` directions in the flattened input space (default: the
        identity, ``K = n_in``).
    order : {1, 2}
        ``1`` propagates ``(v, g, None)`` only (a forward-mode Jacobian).

    Notes
    -----
    Memory per node is ``B·K²·size`` floats for ``h``; the walker with
    ``keep=False`` frees each value once its consumers are computed.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> from symft.walk.walker import walk
    >>> net = mean_network(2)
    >>> v, g, h = walk(net, Jets(net), np.array([[1.0, 3.0]]), keep=False)
    >>> v, g[0, :, 0], h
    (array([[2.]]), array([0.5, 0.5]), None)
    """

    name = "jet"

    def __init__(self, net, *, directions=None, order: int = 2):
        if order not in (1, 2):
            raise InvalidArgument(f"order: expected 1 or 2, got {order!r}")
        self.net = net.check_numeric("derivatives")
        n = net.n_inputs
        if directions is None:
            D = np.eye(n)
        else:
            D = np.asarray(directions, dtype=float)
            if D.ndim != 2 or D.shape[1] != n or D.shape[0] < 1:
                raise InvalidArgument(f"directions: expected a (K, {n}) array, got shape {D.shape}")
        self.directions = D
        self.order = order

    # ---------------------------------------------------------------- rules
    def input(self, node, x):
        """The jet of the input: ``(x, directions, 0)`` for a batch ``x`` of shape ``(B,) + input_shape``.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> net = mean_network(2)
        >>> Jets(net).input(net.node("0"), np.zeros((3, 2)))[1].shape
        (3, 2, 2)
        """
        x = np.asarray(x, dtype=float)
        shape = tuple(node.shape)
        B = x.shape[0]
        K = self.directions.shape[0]
        g = np.broadcast_to(self.directions.reshape((1, K) + shape), (B, K) + shape)
        return x, g, None

    def affine(self, node, args):
        op = node.op
        vs = [a[0] for a in args]
        v = op.apply(vs, op.params("float"), node.in_shapes)
        L = op.linear_params("float")
        g = op.apply([a[1] for a in args], L, node.in_shapes)
        hs = [a[2] for a in args]
        if all(h is None for h in hs):
            return v, g, None
        if any(h is None for h in hs):
            K = args[0][1].shape[1]
            hs = [np.zeros((a[0].shape[0], K, K) + tuple(s)) if h is None else h
                  for a, h, s in zip(args, hs, node.in_shapes)]
        return v, g, op.apply(hs, L, node.in_shapes)

    def op_activation(self, node, args):
        act = node.op.act
        v, g, h = args[0]
        if act.name == "linear":
            return args[0]
        d1 = act.derivative(v, 1)                                   # (B,) + shape
        d1g = d1[:, None]
        g2 = d1g * g
        if self.order == 1:
            return act(v), g2, None
        d2 = act.derivative(v, 2)
        h2 = None
        if np.any(d2):
            ga = g[:, :, None]                                       # (B, K, 1) + shape
            gc = g[:, None, :]                                       # (B, 1, K) + shape
            h2 = d2[:, None, None] * ga * gc
        if h is not None:
            t = d1[:, None, None] * h
            h2 = t if h2 is None else h2 + t
        return act(v), g2, h2

    def op_maxpool2d(self, node, args):
        op = node.op
        v, g, h = args[0]
        in_shape = tuple(node.in_shapes[0])
        win = op.windows(v, in_shape)                               # (B, C, OHW, KK)
        arg = win.argmax(axis=-1)                                   # (B, C, OHW)
        idx, (OH, OW), _ = op.index(in_shape)
        src = np.take_along_axis(np.broadcast_to(idx, win.shape), arg[..., None], axis=-1)[..., 0]
        B = v.shape[0]
        C = in_shape[0]
        n_in = int(np.prod(in_shape))
        out_shape = (C, OH, OW)
        vo = np.take_along_axis(win, arg[..., None], axis=-1)[..., 0].reshape((B,) + out_shape)
        srcf = src.reshape(B, -1)                                   # (B, C·OHW)

        def route(t, extra):
            tf = t.reshape((B,) + extra + (n_in,))
            ix = srcf.reshape((B,) + (1,) * len(extra) + (-1,))
            return np.take_along_axis(tf, np.broadcast_to(ix, (B,) + extra + (ix.shape[-1],)), axis=-1) \
                .reshape((B,) + extra + out_shape)

        K = g.shape[1]
        go = route(g, (K,))
        ho = None if h is None else route(h, (K, K))
        return vo, go, ho
