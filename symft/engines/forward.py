r"""Evaluating a network: batched float passes with crash masks, exact passes, derivatives.

Everything here runs through the walker (:mod:`symft.walk`):

* :func:`forward` — outputs for one or many inputs, optionally under one
  :class:`~symft.faults.CrashPattern`; float64, or exact (SymPy) with
  ``exact=True``.
* :func:`forward_trace` — the value of every node for a batch of inputs (the
  clean pass that crash evaluation reuses).
* :func:`forward_masked` — many inputs × many crash patterns in one NumPy
  pass: the clean pass is computed once and only the nodes downstream of a
  failure are recomputed, in chunks of patterns so that memory stays bounded.
* :func:`output_error` — ``Δ = y^{faulty} − y`` (theory D4).
* :func:`jacobians` / :func:`backward` — ``∂y/∂(site neuron)`` for every
  neuron of the chosen sites and a batch of inputs, in one reverse sweep
  (what T1 needs).

Shapes: inputs are given flat ``(B, n_in)`` or ``(n_in,)``, or shaped like
the model's input (``(B,) + input_shape`` or ``input_shape``); outputs are
flat: ``(B, n_out)``, and ``P`` patterns give ``(P, B, n_out)``.  A single
input gives a single output.

Examples
--------
>>> import numpy as np
>>> from symft.graph.network import mean_network
>>> from symft.faults import CrashPattern
>>> net = mean_network(4)
>>> forward(net, np.ones(4))
array([1.])
>>> output_error(net, np.ones(4), CrashPattern([(0, 0)]))
array([-0.25])
>>> forward(net, [1, 1, 1, 1], CrashPattern([(0, 0)]), exact=True)
array([3/4], dtype=object)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import numpy as np
from ..lazyimport import sympy as sp

from ..errors import FaultModelError, InvalidArgument
from ..faults import SEMANTICS, CrashPattern, patterns_to_masks
from ..threads import limit_blas
from ..utils import to_exact
from ..walk.backward import Backward
from ..walk.numeric import Numeric, float_dtype
from ..walk.symbolic import Symbolic
from ..walk.walker import walk, walk_reverse

__all__ = [
    "CHUNK_BYTES",
    "Trace",
    "as_inputs",
    "exact_inputs",
    "forward",
    "forward_trace",
    "forward_masked",
    "forward_patterns",
    "output_error",
    "jacobians",
    "backward",
]

#: Default memory budget (bytes) of one chunk of crash patterns in :func:`forward_masked`.
CHUNK_BYTES = 64 * 2 ** 20


def _single_or_batch(net, shape, where):
    """Whether an array of ``shape`` is one input (True) or a batch (False); raise otherwise."""
    n, ishape = net.n_inputs, tuple(net.input_shape)
    if len(shape) == 1 and shape[0] == n:
        return True
    if len(ishape) > 1 and tuple(shape) == ishape:
        return True
    if len(shape) == 2 and shape[1] == n:
        return False
    if len(ishape) > 1 and len(shape) == len(ishape) + 1 and tuple(shape[1:]) == ishape:
        return False
    if len(ishape) == 1 and len(shape) > 2:
        raise InvalidArgument(f"{where}: expected a vector or a 2-D batch, got {len(shape)} dimensions")
    if len(shape) == 1:
        raise InvalidArgument(f"{where}: expected {n} numbers (n_0 = {n}), got {shape[0]}")
    if len(shape) == 2:
        raise InvalidArgument(f"{where}: expected {n} numbers (n_0 = {n}), got {shape[1]}")
    want = f"{n} numbers" + (f" or shape {ishape}" if len(ishape) > 1 else "")
    raise InvalidArgument(f"{where}: expected {want} per input, got an array of shape {tuple(shape)}")


def as_inputs(net, x, where: str = "input") -> tuple[np.ndarray, bool]:
    """Validate inputs; return a float64 ``(B, n_in)`` array and whether ``x`` was a single input.

    Accepted: ``(n_in,)`` or ``(B, n_in)`` (flat, row-major), or shaped like
    the model's input (``input_shape`` or ``(B,) + input_shape``).

    Raises
    ------
    InvalidArgument
        Wrong length, wrong rank, non-numbers, NaN or infinities; the message
        names ``where``.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> as_inputs(mean_network(2), [1, 2])
    (array([[1., 2.]]), True)
    >>> as_inputs(mean_network(2), [1, 2, 3])
    Traceback (most recent call last):
    ...
    symft.errors.InvalidArgument: input: expected 2 numbers (n_0 = 2), got 3
    """
    try:
        a = np.asarray(x, dtype=float)
    except (TypeError, ValueError, OverflowError):
        raise InvalidArgument(f"{where}: expected numbers (a vector of {net.n_inputs} or a batch of such rows)") from None
    if a.ndim == 0:
        raise InvalidArgument(f"{where}: expected a vector or a batch, got a single number")
    single = _single_or_batch(net, a.shape, where)
    a = a.reshape(1 if single else a.shape[0], net.n_inputs)
    if a.shape[0] == 0:
        raise InvalidArgument(f"{where}: expected at least one input, got an empty batch")
    with np.errstate(over="ignore", invalid="ignore"):
        finite = math.isfinite(np.add.reduce(a, axis=None))   # one pass; a huge sum falls back to the test below
    if not finite and not np.isfinite(a).all():
        r, c = np.argwhere(~np.isfinite(a))[0]
        at = f"[{c}]" if single else f"[{r}][{c}]"
        raise InvalidArgument(f"{where}{at}: expected a finite number, got {a[r, c]}")
    return a, single


def _shaped(net, X):
    """``(B, n_in)`` → ``(B,) + input_shape`` (a view)."""
    return X.reshape((X.shape[0],) + tuple(net.input_shape))


@dataclass(frozen=True, eq=False)
class Trace:
    """The clean forward pass of a batch: the value of every node, ``(B,) + shape``.

    For a chain, ``ys[l]`` and ``zs[l]`` are layer ``l``'s output and
    pre-activation (``zs[0]`` is ``None``; ``ys[0]`` the input batch), all
    ``(B, n_l)``.

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> t = forward_trace(random_network([2, 3, 1], seed=0), np.zeros((5, 2)))
    >>> [y.shape for y in t.ys]
    [(5, 2), (5, 3), (5, 1)]
    """

    net: object
    values: Mapping

    @property
    def output(self) -> np.ndarray:
        """The output, flat ``(B, n_out)``.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> forward_trace(mean_network(2), np.ones((1, 2))).output
        array([[1.]])
        """
        v = self.values[self.net.output]
        return v.reshape(v.shape[0], -1)

    def site(self, key) -> np.ndarray:
        """A site's values, flat ``(B, n_site)``.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> forward_trace(mean_network(2), np.ones((1, 2))).site(0)
        array([[1., 1.]])
        """
        v = self.values[self.net.site(key)]
        return v.reshape(v.shape[0], -1)

    @property
    def ys(self) -> tuple:
        """Layer outputs ``y_0 … y_L`` of a chain, each ``(B, n_l)``.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> len(forward_trace(mean_network(2), np.ones((1, 2))).ys)
        2
        """
        ch = self.net.as_chain("the layer trace")
        return tuple(self.site(s) for s in ch.sites)

    @property
    def zs(self) -> tuple:
        """Pre-activations ``z_1 … z_L`` of a chain (``zs[0]`` is ``None``), each ``(B, n_l)``.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> forward_trace(mean_network(2), np.ones((1, 2))).zs[1]
        array([[1.]])
        """
        ch = self.net.as_chain("the layer trace")
        return (None,) + tuple(self.values[lay.dense] for lay in ch.layers)


def forward_trace(net, X) -> Trace:
    """Clean forward pass of a batch, keeping the value of every node.

    Parameters
    ----------
    net : Network
    X : array_like, shape (B, n_in) or (n_in,) (or shaped like the model's input)

    Examples
    --------
    >>> from symft.graph.network import Network
    >>> net = Network.from_numpy([[[1.0, -1.0]], [[2.0]]], activations=["relu", "linear"])
    >>> t = forward_trace(net, [[3.0, 1.0], [1.0, 3.0]])
    >>> t.zs[1].ravel(), t.ys[1].ravel(), t.output.ravel()
    (array([ 2., -2.]), array([2., 0.]), array([4., 0.]))
    """
    X, _ = as_inputs(net, X)
    return Trace(net, walk(net, Numeric(net), _shaped(net, X)))


@limit_blas
def forward_masked(net, X, neuron_masks: Mapping | None = None, *, values: Mapping | None = None,
                   synapse_masks: Mapping | None = None, semantics: str = "output_zero",
                   trace: Trace | None = None, chunk_bytes: int = CHUNK_BYTES) -> np.ndarray:
    r"""Outputs for every (crash pattern, input) pair in one vectorized sweep.

    Parameters
    ----------
    net : Network
    X : array_like, shape (B, n_in) or (n_in,)
    neuron_masks : mapping {site: bool array (P, n_site)}
        ``True`` marks a failed neuron; any sites (layers ``0 … L`` of a chain).
    values : mapping {site: float array (P, n_site)}, optional
        Values sent by failed neurons (Byzantine, stuck-at); NaN entries
        fall back to the crash semantics.
    synapse_masks : mapping {site: bool array (P, n_out, n_in)}, optional
        ``True`` marks a zeroed weight of the dense op feeding the site.
    semantics : {"output_zero", "incoming_zeroed"}
    trace : Trace, optional
        The clean pass of ``X`` if already computed.
    chunk_bytes : int
        Memory budget of one chunk of patterns.

    Returns
    -------
    ndarray, shape (P, B, n_out)
        (``(P, n_out)`` when ``X`` is a single input.)

    Notes
    -----
    The clean pass is reused for every node that no failure reaches; the
    nodes downstream of a failed site are recomputed for each chunk of
    patterns as a ``(P, B) + shape`` block.  The cost is that of ``P·B``
    forward passes of those nodes, with no Python loop over patterns.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> net = mean_network(3)
    >>> masks = {0: np.array([[True, False, False], [True, True, True]])}
    >>> forward_masked(net, np.ones(3), masks)
    array([[0.66666667],
           [0.        ]])
    """
    Xa, single = as_inputs(net, X)
    interp = Numeric(net, masks=neuron_masks, values=values, synapse_masks=synapse_masks, semantics=semantics)
    P = interp.patterns if interp.patterns is not None else 1
    if trace is None:
        trace = forward_trace(net, Xa)
    B = Xa.shape[0]
    n_out = net.n_outputs
    if P == 0:
        out = np.empty((0, B, n_out))
        return out[:, 0, :] if single else out
    starts = set(interp.fault_nodes) | set(interp.recompute)
    if not starts:
        out = np.broadcast_to(trace.output, (P, B, n_out)).copy()
        return out[:, 0, :] if single else out
    down = net.downstream(starts)
    width = max(net.node(n).size for n in down)
    per_pattern = max(1, B * width * 8 * 3 + sum(m[0].size for m in interp.syn.values()) * 8)
    chunk = max(1, int(chunk_bytes // per_pattern))
    out = np.empty((P, B, n_out))
    for a in range(0, P, chunk):
        sl = slice(a, min(P, a + chunk))
        sub = Numeric(net, masks={k: m[sl] for k, m in interp.masks.items()},
                      values={k: v[sl] for k, v in interp.values.items()},
                      synapse_masks={_site_of_node(net, k): m[sl] for k, m in interp.syn.items()},
                      semantics=semantics)
        vals = walk(net, sub, None, known=trace.values)
        Y = vals[net.output]
        Y = Y.reshape(Y.shape[:Y.ndim - len(net.output_shape)] + (n_out,))
        out[sl] = np.broadcast_to(Y, (sl.stop - sl.start, B, n_out))
    return out[:, 0, :] if single else out


def _site_of_node(net, node_name):
    """The site whose synapses are the weights of ``node_name``."""
    for s in net.sites:
        try:
            if net.synapse_node(s) == node_name:
                return s
        except InvalidArgument:
            continue
    raise InvalidArgument(f"node {node_name!r} feeds no crash site")  # pragma: no cover


def forward_patterns(net, X, patterns, *, semantics: str = "output_zero", trace: Trace | None = None):
    """Outputs under each :class:`~symft.faults.CrashPattern`; shape ``(P, B, n_out)``.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> forward_patterns(mean_network(2), np.ones(2), [CrashPattern(), CrashPattern([(0, 1)])])
    array([[1. ],
           [0.5]])
    """
    nm, vals, sm = patterns_to_masks(net, patterns)
    P = len(patterns)
    if not nm and not sm and P:
        nm = {net.output: np.zeros((P, net.n_outputs), dtype=bool)} if net.output in net.sites else {}
        if not nm:
            Xa, single = as_inputs(net, X)
            out = np.broadcast_to(forward_trace(net, Xa).output, (P, Xa.shape[0], net.n_outputs)).copy()
            return out[:, 0, :] if single else out
    return forward_masked(net, X, nm, values=vals, synapse_masks=sm, semantics=semantics, trace=trace)


def forward(net, x, pattern: CrashPattern | None = None, *, semantics: str = "output_zero",
            exact: bool = False, dtype=np.float64):
    r"""Evaluate the network on one input or a batch, optionally under a crash pattern.

    Parameters
    ----------
    net : Network
    x : array_like, shape (n_in,) or (B, n_in) (or shaped like the model's input)
        With ``exact=True`` entries may be ints, ``Fraction``, strings like
        ``"1/3"`` or SymPy numbers, and are kept exactly.
    pattern : CrashPattern, optional
        Failed neurons/synapses; ``None`` is the fault-free network.
    semantics : {"output_zero", "incoming_zeroed"}
        What a crashed neuron outputs (see :mod:`symft.faults`).
    exact : bool
        Evaluate with SymPy in exact arithmetic (floats in the network or the
        input become the binary rationals they hold).  Piecewise-linear
        networks with rational weights give rational outputs; smooth
        activations give exact closed forms such as ``tanh(1/2)``.
    dtype : {numpy.float64, numpy.float32}
        The float type of the pass (without ``exact``).  ``numpy.float32`` is
        APPROXIMATE and UNCERTIFIED: inputs and parameters are rounded to
        float32, every operation keeps about 7 significant digits, and no
        error bound covers the result (outputs typically agree with float64 to
        about 1e-6 relative, with no guarantee).  It is faster on
        convolutional networks; nothing rigorous or exact in symft uses it
        (the verbs :func:`symft.certify`, :func:`symft.exact`, … refuse it).
        Its matrix products may be grouped differently with the size of the
        batch, so an input's float32 output can change in its last bits with
        the other inputs of the batch (in float64 a convolution's numbers for
        an input never depend on its batch).

    Returns
    -------
    ndarray
        ``(n_out,)`` or ``(B, n_out)``; float64 (float32 with
        ``dtype=numpy.float32``), or ``object`` holding SymPy values when
        ``exact=True``.

    Examples
    --------
    >>> from symft.graph.network import Network
    >>> net = Network.from_sympy([[["1/2", "-1/3"]], [[3]]], activations=["relu", "linear"])
    >>> forward(net, ["1", "1/2"], exact=True)
    array([1], dtype=object)
    >>> forward(net, [1.0, 0.5])
    array([1.])
    >>> forward(net, [1.0, 0.5], CrashPattern([(1, 0)]))
    array([0.])
    >>> forward(net, [1.0, 0.5], dtype=np.float32)          # approximate: float32, no error bound
    array([1.], dtype=float32)
    >>> forward(net, [1.0, 0.5], CrashPattern([(1, 0)]), dtype=np.float32)
    array([0.], dtype=float32)
    """
    if semantics not in SEMANTICS:
        raise FaultModelError(f"semantics: expected one of {', '.join(map(repr, SEMANTICS))}, got {semantics!r}")
    if pattern is not None and not isinstance(pattern, CrashPattern):
        raise InvalidArgument(f"pattern: expected a CrashPattern or None, got {type(pattern).__name__}")
    dtype = float_dtype(dtype)
    if exact:
        if dtype != np.float64:
            raise InvalidArgument("dtype: exact=True computes exactly; leave dtype at float64")
        return _forward_exact(net, x, pattern or CrashPattern(), semantics)
    Xa, single = as_inputs(net, x)
    if pattern is None or len(pattern) == 0:
        out = _forward_clean(net, Xa, dtype)
    elif dtype != np.float64:
        out = _forward_crashed(net, Xa, pattern, semantics, dtype)
    else:
        out = forward_patterns(net, Xa, [pattern], semantics=semantics)[0]
    return out[0] if single else out


def _forward_crashed(net, X, pattern, semantics, dtype):
    """The outputs ``(B, n_out)`` under one crash pattern, in ``dtype`` (the approximate float32 pass): one walk
    with the pattern's masks (the faults broadcast over a leading axis of one pattern)."""
    nm, vals, sm = patterns_to_masks(net, [pattern])
    interp = Numeric(net, masks=nm, values=vals, synapse_masks=sm, semantics=semantics, dtype=dtype)
    v = walk(net, interp, _shaped(net, X).astype(dtype, copy=False), keep=False)
    B = X.shape[0]
    if v.ndim > 1 + len(net.output_shape):                     # the pattern's axis reached the output
        v = v.reshape((-1,) + v.shape[v.ndim - 1 - len(net.output_shape):])[0]
    return np.ascontiguousarray(np.broadcast_to(v.reshape(v.shape[0], -1), (B, net.n_outputs)))


#: Ops whose float value is always a fresh array (never a view of an input): an activation consuming one of them
#: alone may overwrite it.
_FRESH = frozenset(("dense", "conv2d", "avgpool2d", "maxpool2d", "batchnorm", "add"))


def _forward_clean(net, X, dtype):
    """The fault-free outputs ``(B, n_out)``: intermediate values are dropped as soon as they are used, an
    activation whose input is a fresh array used by nothing else evaluates in that array, and a clipping
    activation read only by a max pooling is applied after the pooling, to fewer numbers, and a convolution is
    evaluated with the activations and pooling after it a chunk of samples at a time (the same numbers as
    :func:`forward_trace`, without its memory).  Which nodes do what is planned once per network
    (:func:`_clean_plan`, kept by :meth:`~symft.graph.network.Network.memo`)."""
    interp = Numeric(net, dtype=dtype)
    interp.overwrite, interp.pool_first, fuse = net.memo("forward: the fault-free pass's plan",
                                                         lambda: _clean_plan(net))
    interp.use_fusion(fuse)
    v = walk(net, interp, _shaped(net, X).astype(dtype, copy=False), keep=False)
    return v.reshape(v.shape[0], -1)


def _clean_plan(net):
    """(activations that may overwrite their input, clipping activations applied after their max pooling,
    convolutions → the nodes evaluated with them) for the fault-free pass."""
    overwrite = frozenset(
        a for a in net.order
        if net.node(a).op.kind == "activation" and len(net.node(a).inputs) == 1
        and net.node(net.node(a).inputs[0]).op.kind in _FRESH and tuple(net.consumers(net.node(a).inputs[0])) == (a,))
    pool_first = frozenset(
        a for a in net.order
        if net.node(a).op.kind == "activation" and a != net.output
        and [net.node(c).op.kind for c in net.consumers(a)] == ["maxpool2d"])
    return overwrite, pool_first, Numeric(net).fuse_after_convolutions()


def exact_inputs(net, x, where: str = "input"):
    """Exact inputs: rows of SymPy values (see :func:`symft.utils.to_exact`) and whether x was one input.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> exact_inputs(mean_network(2), ["1/3", 0.5])
    ([[1/3, 1/2]], True)
    """
    if isinstance(x, np.ndarray) and x.dtype != object:
        x = x.tolist()
    if isinstance(x, sp.MatrixBase):
        x = list(x)
    if isinstance(x, (str, bytes)) or not hasattr(x, "__iter__"):
        raise InvalidArgument(f"{where}: expected a vector of {net.n_inputs} numbers or a batch of such rows")
    a = np.array(x, dtype=object)
    if a.ndim == 0:
        raise InvalidArgument(f"{where}: expected a vector of {net.n_inputs} numbers or a batch of such rows")
    single = _single_or_batch(net, a.shape, where)
    a = a.reshape(1 if single else a.shape[0], net.n_inputs)
    out = []
    for r, row in enumerate(a):
        out.append([to_exact(v, f"{where}[{c}]" if single else f"{where}[{r}][{c}]") for c, v in enumerate(row)])
    return out, single


def _forward_exact(net, x, pattern, semantics):
    rows, single = exact_inputs(net, x)
    pattern.check(net)
    masks, values, syn = {}, {}, {}
    for l, i, j in pattern.synapses:
        syn.setdefault(net.site(l), set()).add((i, j))
    for l, i in pattern.neurons:
        s = net.site(l)
        masks.setdefault(s, np.zeros((1, net.site_size(s)), dtype=bool))[0, i] = True
    for (l, i), v in pattern.values:
        s = net.site(l)
        values.setdefault(s, np.full((1, net.site_size(s)), None, dtype=object))[0, i] = to_exact(v, f"values[{l}]")
    X = np.empty((len(rows), net.n_inputs), dtype=object)
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            X[r, c] = v
    interp = Symbolic(net, masks=masks, values=values, synapses=syn, semantics=semantics)
    Y = walk(net, interp, X.reshape((len(rows),) + tuple(net.input_shape)), keep=False)
    Y = np.asarray(Y, dtype=object)
    Y = Y.reshape(Y.shape[:Y.ndim - len(net.output_shape)] + (net.n_outputs,))
    if masks:
        Y = Y[0]
    out = np.empty((len(rows), net.n_outputs), dtype=object)
    for r in range(len(rows)):
        for c in range(net.n_outputs):
            out[r, c] = Y[r, c]
    return out[0] if single else out


def output_error(net, x, pattern: CrashPattern, *, semantics: str = "output_zero", exact: bool = False,
                 dtype=np.float64):
    r"""The output error ``Δ(x) = y^{faulty}(x) − y(x)`` of theory D4.

    ``dtype=numpy.float32`` is the APPROXIMATE pass of :func:`forward` (no error bound).

    Examples
    --------
    >>> from symft.graph.network import first_input_network
    >>> output_error(first_input_network(3), [2, 5, 7], CrashPattern([(0, 0)]), exact=True)
    array([-2], dtype=object)
    >>> output_error(first_input_network(3), [2, 5, 7], CrashPattern([(0, 0)]), dtype=np.float32)
    array([-2.], dtype=float32)
    """
    faulty = forward(net, x, pattern, semantics=semantics, exact=exact, dtype=dtype)
    clean = forward(net, x, None, exact=exact, dtype=dtype)
    if exact:
        return np.vectorize(lambda a, b: sp.simplify(a - b) if not (a - b).is_Rational else a - b,
                            otypes=[object])(faulty, clean)
    return faulty - clean


def jacobians(net, X, sites=None, *, trace: Trace | None = None) -> dict:
    r"""``∂y/∂(site neuron)`` for the chosen sites, in one reverse sweep.

    Returns ``{site name: J}`` with ``J[b, k, i] = ∂y_k/∂s_i`` at input
    ``X[b]``, shape ``(B, n_out, n_site)``.  With ``g = J[b, k, i]`` the T1
    sensitivity to a crash of neuron ``i`` of the site is
    ``∂y_k/∂ξ_i = −g · s_i``.  At kinks of piecewise-linear activations the
    left derivative is used (``relu'(0) = 0``).

    Parameters
    ----------
    net : Network
    X : array_like
        A batch (or one input).
    sites : iterable of site keys, optional
        Default: every site.
    trace : Trace, optional
        The clean pass of ``X`` if already computed.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> jacobians(mean_network(4), np.ones((2, 4)), [0])["0"][0]
    array([[0.25, 0.25, 0.25, 0.25]])
    """
    Xa, _ = as_inputs(net, X)
    if trace is None:
        trace = forward_trace(net, Xa)
    names = [net.site(s) for s in (net.sites if sites is None else sites)]
    B, n_out = Xa.shape[0], net.n_outputs
    seed = np.broadcast_to(np.eye(n_out), (B, n_out, n_out)).reshape((B, n_out) + tuple(net.output_shape)).copy()
    grads = walk_reverse(net, Backward(), trace.values, seed, names)
    from ..walk.numeric import check_finite

    out = {}
    for s in names:
        g = grads[s]
        if g is not None:
            check_finite(net, s, g, "derivative ∂y/∂(site)")
        out[s] = np.zeros((B, n_out, net.site_size(s))) if g is None else g.reshape(B, n_out, -1)
    return out


def backward(net, X) -> list[np.ndarray]:
    r"""Jacobians ``J_s = ∂y/∂s`` for every site ``s`` (layers ``0 … L`` of a chain), one reverse sweep.

    ``J_s[b, k, i] = ∂y^k / ∂s^i`` at input ``X[b]``, shape
    ``(B, n_out, n_s)``; for a chain ``J_L`` is the identity and the
    recursion is ``J_{l-1} = (J_l · diag φ_l'(z_l)) W_l``.  See
    :func:`jacobians` for a chosen set of sites.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> J = backward(mean_network(4), np.ones((2, 4)))
    >>> J[0][0]
    array([[0.25, 0.25, 0.25, 0.25]])
    >>> J[1].shape
    (2, 1, 1)
    """
    J = jacobians(net, X)
    return [J[s] for s in net.sites]
