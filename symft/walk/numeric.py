r"""The float interpretation: batched NumPy evaluation with crash masks.

Values are float64 arrays ``lead + shape``: the leading axes are the batch
of inputs ``(B,)``, and with faults ``(P, B)`` for ``P`` crash patterns.
Faults are given per site (keys as in :mod:`symft.faults`):

* ``masks`` ``{site: bool (P, n_site)}`` — failed neurons;
* ``values`` ``{site: float (P, n_site)}`` — what failed neurons send
  (Byzantine, stuck-at); NaN entries follow the crash semantics;
* ``synapse_masks`` ``{site: bool (P, n_out, n_in)}`` — zeroed weights of
  the dense op feeding the site;
* ``semantics`` — what a crashed neuron outputs: 0 (``"output_zero"``), or
  the value with its incoming synapses cut (``"incoming_zeroed"``, see
  :func:`symft.faults.zeroed_preactivation`).

Examples
--------
>>> import numpy as np
>>> from symft.graph.network import mean_network
>>> from symft.walk.walker import walk
>>> net = mean_network(3)
>>> interp = Numeric(net, masks={0: np.array([[True, False, False], [True, True, True]])})
>>> walk(net, interp, np.ones((1, 3)), keep=False)[:, 0, 0]
array([0.66666667, 0.        ])
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import FaultModelError, FloatOverflowError, InvalidArgument
from ..faults import SEMANTICS, crash_values, site_of, synapse_shape
from ..graph.scratch import zeros
from .walker import Interpretation

__all__ = ["Numeric", "crash_values_float", "check_finite", "float_dtype"]

_finite = math.isfinite


class _NotFinite(Exception):
    """A chunk of a convolution's output holds ±inf or NaN (the whole output is then checked the usual way)."""


def _pass_through(node, args):
    return args[0]


def _sum(a):
    """A number that is finite when every entry of ``a`` is (a sum: ±inf and NaN propagate; a sum that overflows
    only sends the caller to the entry-by-entry test).  Contiguous float32 arrays: one BLAS dot product with
    ones (faster than NumPy's pairwise float32 sum)."""
    if a.size <= 32:
        return sum(a.ravel().tolist())
    if a.dtype == np.float32 and a.flags.c_contiguous and a.size <= _SHARED_MAX:
        return float(np.dot(a.reshape(-1), _ones32(a.size)))
    return np.add.reduce(a, None)


def _ones32(n):
    have = _ONES32[0]
    if have.size < n:
        have = np.ones(n, dtype=np.float32)
        have.flags.writeable = False
        _ONES32[0] = have
    return have[:n]


_ONES32 = [np.ones(0, dtype=np.float32)]
#: The longest shared arrays of ones (:func:`_sum`) and zeros (relu in float32) kept: 16 Mi numbers (64 MiB).
_SHARED_MAX = 2 ** 24


def check_finite(net, node, a, what: str = "pre-activation") -> None:
    """Raise :class:`~symft.errors.FloatOverflowError` when a float64 value of ``node`` holds ±inf or NaN.

    One reduction decides the common case (a sum of finite numbers is finite
    unless the sum itself overflows); only then is every entry tested.
    Checking the affine outputs catches overflow a saturating activation
    would hide (``tanh(inf)`` is a confident 1).  Values are not changed.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> check_finite(mean_network(2), "z1", np.array([np.inf]))
    Traceback (most recent call last):
    ...
    symft.errors.FloatOverflowError: layer 1: the float64 forward pass overflows (a pre-activation is inf; |values| above 1.8e308); the weights or inputs are too large for float64 — scale them down or use exact arithmetic
    """
    if _finite(_sum(a)) or np.isfinite(a).all():
        return
    bad = a[~np.isfinite(a)].ravel()[0]
    name, top = ("float32", "3.4e38") if a.dtype == np.float32 else ("float64", "1.8e308")
    raise FloatOverflowError(
        f"{net.label(node)}: the {name} forward pass overflows (a {what} is {bad}; |values| above {top}); "
        f"the weights or inputs are too large for {name} — scale them down or use exact arithmetic")


def float_dtype(dtype) -> np.dtype:
    """``dtype`` as a NumPy dtype, float64 or float32; :class:`~symft.errors.InvalidArgument` otherwise.

    Examples
    --------
    >>> float_dtype("float32")
    dtype('float32')
    >>> float_dtype(int)
    Traceback (most recent call last):
    ...
    symft.errors.InvalidArgument: dtype: expected float64 or float32, got int64
    """
    try:
        d = np.dtype(dtype)
    except TypeError:
        raise InvalidArgument(f"dtype: expected float64 or float32, got {dtype!r}") from None
    if d not in (np.float64, np.float32):
        raise InvalidArgument(f"dtype: expected float64 or float32, got {d}")
    return d


def _relu32(z, out):
    """relu on float32: the maximum with an array of zeros (NumPy's vectorized loop for two arrays; with a scalar
    zero its loop is about 3× slower on float32), the same numbers."""
    if z.size > _SHARED_MAX:                      # not worth keeping that many zeros around
        return np.maximum(z, np.float32(0), out=out)
    return np.maximum(z, zeros(z.size, np.float32).reshape(z.shape), out=out)


#: Activations evaluated directly in float32 (the others go through float64 and are rounded back).
_FLOAT32_FNS = {"linear": lambda z, out: z, "relu": _relu32,
                "tanh": lambda z, out: np.tanh(z, out=out),
                "sigmoid": lambda z, out: np.reciprocal(np.exp(np.negative(z, out=out), out=out) + np.float32(1),
                                                        out=out)}


def _activation32(act, z, in_place: bool):
    """An activation on a float32 array (approximate passes only), in ``z`` itself when ``in_place``."""
    fn = _FLOAT32_FNS.get(act.name)
    if fn is None:
        return act(z).astype(np.float32)
    if act.name != "sigmoid":                          # only sigmoid's exp can overflow (to a correct 0)
        return fn(z, z if in_place else None)
    with np.errstate(over="ignore"):
        return fn(z, z if in_place else None)


#: Activations that clip (non-decreasing, exact in float): they commute with a maximum.
_CLIPS = frozenset(("relu", "relu6", "hardtanh"))


_FINITE_ACTS = frozenset(("linear", "relu", "tanh", "sigmoid", "hardtanh", "ramp", "step", "relu6"))


def crash_values_float(net, key, semantics: str) -> np.ndarray:
    """What a crashed neuron of a site outputs, as a float vector over the site's neurons.

    Examples
    --------
    >>> from symft.graph.network import Network
    >>> net = Network.from_numpy([[[1.0]], [[1.0]]], [[-2.0], [0.0]], activations=["relu", "linear"])
    >>> crash_values_float(net, 1, "incoming_zeroed"), crash_values_float(net, 2, "incoming_zeroed")
    (array([0.]), array([0.]))
    """
    return crash_values(net, key, semantics, zero=0.0, kind="float", activate=lambda act, z: act(z))


class Numeric(Interpretation):
    """Float64 evaluation of batches, optionally under many crash patterns at once.

    Parameters
    ----------
    net : Network
    masks, values, synapse_masks, semantics
        The faults (see the module docstring).  All masks must have the same
        number of patterns ``P``.
    skip_linear : bool
        Skip linear activations entirely (engines that do not need the
        float pass to match :func:`symft.engines.forward.forward` bit for bit).
    tall : bool
        Compute dense ops on 2-D batches as ``(W @ Y.T).T`` (faster with
        OpenBLAS for tall-skinny ``Y``; the last bits may differ from
        :func:`~symft.engines.forward.forward`).
    dtype : {numpy.float64, numpy.float32}
        The float type of every value.  ``float32`` is APPROXIMATE: the
        parameters are rounded to float32 and every operation rounds to about
        7 significant digits, with no error bound; no rigorous or exact engine
        uses it (it is what :func:`~symft.engines.forward.forward` offers for
        fast, uncertified passes).  The input is rounded to that dtype.

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> Numeric(random_network([2, 2, 1], seed=0), masks={1: np.ones((3, 2), bool)}).patterns
    3
    """

    name = "float"
    kind = "float"

    def __init__(self, net, *, masks=None, values=None, synapse_masks=None, semantics: str = "output_zero",
                 skip_linear: bool = False, tall: bool = False, dtype=np.float64):
        if semantics not in SEMANTICS:
            raise FaultModelError(f"semantics: expected one of {', '.join(map(repr, SEMANTICS))}, got {semantics!r}")
        self.dtype = float_dtype(dtype)
        self.net = net.check_numeric()
        self.semantics = semantics
        self.skip_linear = skip_linear
        self.tall = tall
        #: Activation nodes allowed to overwrite their input array (a scratch buffer its owner no longer needs).
        self.overwrite = frozenset()
        #: Clipping activations (relu, relu6, hardtanh) whose only reader is a max pooling: their rule passes the
        #: finite values through and the pooling applies the activation to its (smaller) result; a
        #: non-decreasing function commutes with a maximum, so the numbers are the same.  Only for passes
        #: that do not keep the activation's own value (see :func:`~symft.engines.forward.forward`).
        self.pool_first = frozenset()
        self._deferred = set()
        #: Convolution nodes → the nodes after them evaluated with them a chunk of samples at a time, while the
        #: chunk is in cache (:meth:`~symft.graph.ops.Conv2d.apply_then`; see :meth:`fuse_after_convolutions`).
        self.fuse = {}
        self._fused = frozenset()
        self.masks = {}
        self.values = {}
        self.syn = {}
        sizes = set()
        for key, m in (masks or {}).items():
            site = site_of(net, key, "neuron_masks")
            m = np.asarray(m)
            n = net.site_size(site)
            if m.dtype != bool or m.ndim != 2 or m.shape[1] != n:
                raise FaultModelError(f"neuron_masks[{key}]: expected a bool array of shape (P, {n}), "
                                      f"got {m.dtype} {m.shape}")
            self.masks[site] = m
            sizes.add(m.shape[0])
        for key, v in (values or {}).items():
            site = site_of(net, key, "values")
            if site not in self.masks:
                raise FaultModelError(f"values[{key}]: site {key} has values but no failed-neuron mask")
            v = np.asarray(v, dtype=float)
            if v.shape != self.masks[site].shape:
                raise FaultModelError(f"values[{key}]: expected shape {self.masks[site].shape}, got {v.shape}")
            if np.isinf(v).any():
                raise FaultModelError(f"values[{key}]: expected finite values (NaN = use the crash semantics)")
            self.values[site] = v
        for key, m in (synapse_masks or {}).items():
            shape = synapse_shape(net, key, "synapse_masks")
            m = np.asarray(m)
            if m.dtype != bool or m.ndim != 3 or m.shape[1:] != shape:
                raise FaultModelError(f"synapse_masks[{key}]: expected a bool array of shape "
                                      f"(P, {shape[0]}, {shape[1]}), got {m.dtype} {m.shape}")
            self.syn[net.synapse_node(site_of(net, key))] = m
            sizes.add(m.shape[0])
        if len(sizes) > 1:
            raise FaultModelError(f"masks: every mask must have the same number of patterns P, got {sorted(sizes)}")
        self.patterns = sizes.pop() if sizes else None
        self.fault_nodes = frozenset(self.masks)
        self.recompute = frozenset(self.syn)
        self._base = {s: crash_values_float(net, s, semantics) for s in self.masks}

    def fuse_after_convolutions(self) -> dict:
        """Evaluate each convolution with the nodes after it, a chunk of samples at a time.

        The chain after a convolution: its only reader while that is an activation or a batch norm, then at
        most one pooling (each node the only reader of the one before, none a fault site nor the network's
        output before the last).  These ops work sample by sample, so the numbers are those of the node by
        node pass, without the convolution's whole output in memory.  Only for passes that keep none of the
        chain's intermediate values (the walker then sees the chain's last value as the convolution's and the
        chain's nodes pass it through); :func:`~symft.engines.forward.forward` uses it for the fault-free pass.

        Returns
        -------
        dict
            ``{convolution node: (the nodes after it, in order)}`` (also :attr:`fuse`).

        Examples
        --------
        >>> from symft.graph.network import Network
        >>> from symft.graph.ops import ActivationOp, Conv2d, Input, MaxPool2d
        >>> net = Network([("x", Input((1, 4, 4)), ()), ("c", Conv2d(np.ones((2, 1, 3, 3)), None, padding=1), ("x",)),
        ...                ("r", ActivationOp("relu"), ("c",)), ("p", MaxPool2d((2, 2)), ("r",))])
        >>> Numeric(net).fuse_after_convolutions()
        {'c': ('r', 'p')}
        """
        net = self.net
        blocked = set(self.fault_nodes) | set(self.syn) | set(self.recompute)
        fuse = {}
        for name in net.order:
            if net.node(name).op.kind != "conv2d" or name in blocked:
                continue
            chain, cur = [], name
            while cur != net.output and len(net.consumers(cur)) == 1:
                nxt = net.node(net.consumers(cur)[0])
                if nxt.name in blocked or nxt.op.kind not in ("activation", "batchnorm", "maxpool2d", "avgpool2d"):
                    break
                chain.append(nxt.name)
                cur = nxt.name
                if nxt.op.kind in ("maxpool2d", "avgpool2d"):
                    break
            if chain:
                fuse[name] = tuple(chain)
        self.use_fusion(fuse)
        return fuse

    def use_fusion(self, fuse: dict) -> None:
        """Evaluate the convolutions of ``fuse`` with the nodes after them (what :meth:`fuse_after_convolutions`
        found for this network, kept from an earlier pass).

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> interp = Numeric(mean_network(2))
        >>> interp.use_fusion({})
        >>> interp.fuse
        {}
        """
        self.fuse = fuse
        self._fused = frozenset(n for chain in fuse.values() for n in chain)

    def rule(self, node):
        if node.name in self._fused:
            return _pass_through                       # computed with its convolution
        return super().rule(node)

    def _conv_chain(self, node, x, P):
        """A convolution and the chain after it (:attr:`fuse`), a chunk of samples at a time."""
        chain = [self.net.node(n) for n in self.fuse[node.name]]

        def then(z):
            if not _finite(_sum(z)):
                raise _NotFinite
            for c in chain:
                # every value reaching an activation here is finite: the convolution's is checked above, a
                # batch norm's by its rule, an activation's by its rule (or finite by nature)
                z = self.op_activation(c, [z], finite=True) if c.op.kind == "activation" \
                    else super(Numeric, self).rule(c)(c, [z])
            return z

        try:
            return node.op.apply_then(x, P, node.in_shapes[0], then)
        except _NotFinite:                              # name the node the way the node-by-node pass does
            z = node.op.apply([x], P, node.in_shapes)
            check_finite(self.net, node.name, z)
            for c in chain:
                z = super().rule(c)(c, [z])
            return z

    # ---------------------------------------------------------------- rules
    def input(self, node, x):
        if self.dtype != np.float64 and isinstance(x, np.ndarray):
            return x.astype(self.dtype, copy=False)
        return x

    def _params(self, node):
        """The node's float parameters, rounded to float32 for a float32 pass (once per op, cached on it)."""
        P = self.net.params(node.name)
        return P if self.dtype == np.float64 else node.op.float_params(P, self.dtype)

    def affine(self, node, args):
        op = node.op
        P = self._params(node)
        if node.name in self.syn:
            W = P["weight"]
            Wm = np.where(self.syn[node.name], W.dtype.type(0), W[None, :, :])
            Y = args[0]
            Yb = np.broadcast_to(Y, (Wm.shape[0],) + Y.shape[-2:]) if Y.ndim == 2 else Y
            z = np.einsum("pij,pbj->pbi", Wm, Yb)
            b = P["bias"]
            z = z + b if b is not None else z
            if not _finite(_sum(z)):
                check_finite(self.net, node.name, z)
            return z
        if self.tall and op.kind == "dense" and args[0].ndim == 2:
            W = P["weight"]
            z = args[0] @ W.T if W.shape[0] == 1 else (W @ args[0].T).T
            if P["bias"] is not None:
                z += P["bias"]
        elif node.name in self.fuse:
            return self._conv_chain(node, args[0], P)
        else:
            z = op.apply(args, P, node.in_shapes)
        if not _finite(_sum(z)):
            check_finite(self.net, node.name, z)
        return z

    def op_activation(self, node, args, finite: bool = False):
        """An activation (``finite``: ``args[0]`` is known to hold finite numbers only)."""
        act = node.op.act
        z = args[0]
        if self.skip_linear and act.name == "linear":
            return z
        if node.name in self.pool_first and act.name in _CLIPS and node.name not in self.fault_nodes \
                and z.ndim and (finite or _finite(_sum(z))):
            self._deferred.add(node.name)              # the max pooling after this node applies act
            return z
        if z.dtype == np.float32:
            y = _activation32(act, z, node.name in self.overwrite)
        elif act.name == "relu" and z.ndim and (finite or _finite(_sum(z))):
            # relu on finite float64 values: the numbers act() gives (the max, then + 0.0 to turn -0 into +0),
            # in the caller's scratch buffer when allowed
            y = np.maximum(z, 0.0, out=z if node.name in self.overwrite else None)
            y += 0.0
        elif node.name in self.overwrite and isinstance(act.numpy_fn, np.ufunc) and z.dtype == np.float64:
            y = act.numpy_fn(z, out=z)    # the caller's scratch buffer: no fresh array
        else:
            y = act(z)
        if act.name not in _FINITE_ACTS and not _finite(_sum(y)):
            check_finite(self.net, node.name, y, "value")
        return y

    def op_maxpool2d(self, node, args):
        y = node.op.apply(args[0], node.in_shapes[0])
        src = node.inputs[0]
        if src in self._deferred:                      # its rule passed finite values through: act on the maxima
            self._deferred.discard(src)
            act = self.net.node(src).op.act
            if y.dtype == np.float32:
                y = _activation32(act, y, True)
            elif act.name == "relu":
                np.maximum(y, 0.0, out=y)              # y is fresh: the numbers act() gives, in place
                y += 0.0
            else:
                y = act(y)
        return y

    def at_site(self, node, Y):
        mask = self.masks[node.name]
        P = mask.shape[0]
        shape = node.shape
        m = mask.reshape((P, 1) + shape)
        base = self._base[node.name].reshape(shape)
        if node.name in self.values:
            v = self.values[node.name]
            sent = np.where(np.isnan(v), self._base[node.name][None, :], v).reshape((P, 1) + shape)
            return np.where(m, sent.astype(Y.dtype, copy=False), Y)
        return np.where(m, base.astype(Y.dtype, copy=False), Y)
