r"""Batched numeric evaluation with crash masks, exact evaluation, and the backward pass.

* :func:`forward` — outputs for one or many inputs, optionally under one
  :class:`~symft.faults.CrashPattern`; float64, or exact (SymPy rationals)
  with ``exact=True``.
* :func:`forward_trace` — every layer's pre-activation ``z_l`` and output
  ``y_l`` for a batch of inputs (the clean pass that crash evaluation reuses).
* :func:`forward_masked` — many inputs × many crash patterns in one NumPy
  call: the clean pass is computed once and only the layers from the first
  one with a failure onwards are recomputed, in chunks of patterns so that
  memory stays bounded.
* :func:`output_error` — ``Δ_L = y_L^{faulty} − y_L`` (THEORY D4).
* :func:`backward` — ``∂y_L/∂y_l^i`` for every neuron of every layer and a
  batch of inputs, in one reverse sweep (what T1 needs).

Shapes: a batch of ``B`` inputs is ``(B, n_0)``; outputs ``(B, n_L)``;
``P`` patterns give ``(P, B, n_L)``.  A 1-D input gives 1-D outputs.

Examples
--------
>>> import numpy as np
>>> from symft.network import mean_network
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
import sympy as sp

from .activations import get_activation
from .errors import FaultModelError, FloatOverflowError, InvalidArgument
from .faults import SEMANTICS, CrashPattern, patterns_to_masks
from .utils import to_exact

__all__ = [
    "Trace",
    "as_inputs",
    "forward",
    "forward_trace",
    "forward_masked",
    "forward_patterns",
    "output_error",
    "backward",
]

#: Default memory budget (bytes) of one chunk of crash patterns in :func:`forward_masked`.
CHUNK_BYTES = 64 * 2 ** 20


def as_inputs(net, x, where: str = "input") -> tuple[np.ndarray, bool]:
    """Validate inputs; return a float64 ``(B, n_0)`` array and whether ``x`` was 1-D.

    Raises
    ------
    InvalidArgument
        Wrong length, wrong rank, non-numbers, NaN or infinities; the message
        names ``where``.

    Examples
    --------
    >>> from symft.network import mean_network
    >>> as_inputs(mean_network(2), [1, 2])
    (array([[1., 2.]]), True)
    >>> as_inputs(mean_network(2), [1, 2, 3])
    Traceback (most recent call last):
    ...
    symft.errors.InvalidArgument: input: expected 2 numbers (n_0 = 2), got 3
    """
    try:
        a = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise InvalidArgument(f"{where}: expected numbers (a vector of {net.n_inputs} or a batch of such rows)") from None
    single = a.ndim == 1
    if single:
        a = a[None, :]
    if a.ndim != 2:
        raise InvalidArgument(f"{where}: expected a vector or a 2-D batch, got {a.ndim} dimensions")
    if a.shape[1] != net.n_inputs:
        raise InvalidArgument(f"{where}: expected {net.n_inputs} numbers (n_0 = {net.n_inputs}), got {a.shape[1]}")
    if a.shape[0] == 0:
        raise InvalidArgument(f"{where}: expected at least one input, got an empty batch")
    if not np.isfinite(a).all():
        r, c = np.argwhere(~np.isfinite(a))[0]
        at = f"[{c}]" if single else f"[{r}][{c}]"
        raise InvalidArgument(f"{where}{at}: expected a finite number, got {a[r, c]}")
    return a, single


_reduce = np.add.reduce
_finite = math.isfinite


def _sum(a, _axis=None):
    """Sum of every entry; Python's own sum for tiny arrays, where NumPy's call overhead dominates."""
    return sum(a.ravel().tolist()) if a.size <= 32 else _reduce(a, None)


def _check_finite(a, l: int, what: str = "pre-activation") -> None:
    """Raise :class:`~symft.errors.FloatOverflowError` when a float64 array holds ±inf or NaN.

    One reduction decides the common case: a sum of finite numbers is finite unless the sum
    itself overflows, and only then is every entry tested.  Checking each layer's
    pre-activation catches overflow that a saturating activation would hide (``1e308 + 1e308
    − 2e308`` is ``inf`` in float64, and ``tanh`` or ``step`` would turn it into a confident 1);
    the values computed are not changed.  Hot loops test ``_finite(_sum(a, None))`` inline and
    call this only when that fails.
    """
    if _finite(_sum(a, None)) or np.isfinite(a).all():
        return
    bad = a[~np.isfinite(a)].ravel()[0]
    raise FloatOverflowError(
        f"layer {l}: the float64 forward pass overflows (a {what} is {bad}; |values| above 1.8e308); "
        "the weights or inputs are too large for float64 — scale them down or use exact arithmetic")


def _maps_finite_to_finite(act) -> bool:
    """Whether finite pre-activations surely give finite outputs (so the output needs no test):
    the built-in activations other than softplus (scaled or custom ones may overflow)."""
    return id(act) in _FINITE_ACTS


_FINITE_ACTS = frozenset(id(get_activation(n)) for n in ("linear", "relu", "tanh", "sigmoid", "hardtanh", "ramp",
                                                         "step"))


@dataclass(frozen=True, eq=False)
class Trace:
    """The clean forward pass of a batch: ``zs[l]`` and ``ys[l]`` for ``l = 0 … L``.

    ``zs[0]`` is ``None``; ``ys[0]`` is the input batch.  All ``(B, n_l)``.

    Examples
    --------
    >>> from symft.network import random_network
    >>> t = forward_trace(random_network([2, 3, 1], seed=0), np.zeros((5, 2)))
    >>> [y.shape for y in t.ys]
    [(5, 2), (5, 3), (5, 1)]
    """

    zs: tuple
    ys: tuple

    @property
    def output(self) -> np.ndarray:
        """``y_L``, shape ``(B, n_L)``.

        Examples
        --------
        >>> from symft.network import mean_network
        >>> forward_trace(mean_network(2), np.ones((1, 2))).output
        array([[1.]])
        """
        return self.ys[-1]


def forward_trace(net, X) -> Trace:
    """Clean forward pass of a batch, keeping every layer.

    Parameters
    ----------
    net : Network
    X : array_like, shape (B, n_0) or (n_0,)

    Examples
    --------
    >>> from symft.network import Network
    >>> net = Network.from_numpy([[[1.0, -1.0]], [[2.0]]], activations=["relu", "linear"])
    >>> t = forward_trace(net, [[3.0, 1.0], [1.0, 3.0]])
    >>> t.zs[1].ravel(), t.ys[1].ravel(), t.output.ravel()
    (array([ 2., -2.]), array([2., 0.]), array([4., 0.]))
    """
    X, _ = as_inputs(net, X)
    zs, ys = [None], [X]
    y = X
    for l in range(1, net.depth + 1):
        z = y @ net.weights(l).T + net.bias(l)
        if not _finite(_sum(z, None)):
            _check_finite(z, l)
        act = net.activation(l)
        y = act(z)
        zs.append(z)
        ys.append(y)
    if not _maps_finite_to_finite(act):
        _check_finite(y, net.depth, "output")
    return Trace(tuple(zs), tuple(ys))


def _crash_values(net, l, semantics):
    """What a crashed neuron of layer l outputs under the semantics (a scalar or vector)."""
    if semantics == "output_zero" or l == 0:
        return 0.0
    return net.activation(l)(net.bias(l))


def _apply_neuron_faults(Y, mask, vals, base):
    """Replace failed outputs.  Y (…, B, n), mask (P, n), vals (P, n) or None, base scalar/(n,)."""
    m = mask[:, None, :]
    if vals is None:
        return np.where(m, base, Y)
    sent = np.where(np.isnan(vals), base, vals)[:, None, :]
    return np.where(m, sent, Y)


def forward_masked(net, X, neuron_masks: Mapping | None = None, *, values: Mapping | None = None,
                   synapse_masks: Mapping | None = None, semantics: str = "output_zero",
                   trace: Trace | None = None, chunk_bytes: int = CHUNK_BYTES) -> np.ndarray:
    r"""Outputs for every (crash pattern, input) pair in one vectorized sweep.

    Parameters
    ----------
    net : Network
    X : array_like, shape (B, n_0) or (n_0,)
    neuron_masks : mapping {layer: bool array (P, n_l)}
        ``True`` marks a failed neuron; any layers ``0 … L``.
    values : mapping {layer: float array (P, n_l)}, optional
        Values sent by failed neurons (Byzantine, stuck-at); NaN entries
        fall back to the crash semantics.
    synapse_masks : mapping {layer: bool array (P, n_l, n_{l-1})}, optional
        ``True`` marks a zeroed weight of ``W_l``.
    semantics : {"output_zero", "incoming_zeroed"}
    trace : Trace, optional
        The clean pass of ``X`` if already computed.
    chunk_bytes : int
        Memory budget of one chunk of patterns.

    Returns
    -------
    ndarray, shape (P, B, n_L)
        (``(P, n_L)`` when ``X`` is 1-D.)

    Notes
    -----
    The clean pass is reused up to the first layer with a failure; from
    there every chunk of patterns is propagated as a ``(P, B, n)`` block.
    The cost is that of ``P·B`` forward passes of the remaining layers, with
    no Python loop over patterns.

    Examples
    --------
    >>> from symft.network import mean_network
    >>> net = mean_network(3)
    >>> masks = {0: np.array([[True, False, False], [True, True, True]])}
    >>> forward_masked(net, np.ones(3), masks)
    array([[0.66666667],
           [0.        ]])
    """
    if semantics not in SEMANTICS:
        raise FaultModelError(f"semantics: expected one of {', '.join(map(repr, SEMANTICS))}, got {semantics!r}")
    Xa, single = as_inputs(net, X)
    neuron_masks = dict(neuron_masks or {})
    values = dict(values or {})
    synapse_masks = dict(synapse_masks or {})
    P = _check_masks(net, neuron_masks, values, synapse_masks)
    if trace is None:
        trace = forward_trace(net, Xa)
    B = Xa.shape[0]
    L = net.depth
    starts = [l for l in neuron_masks] + [l - 1 for l in synapse_masks]
    if P == 0:
        out = np.empty((0, B, net.n_outputs))
        return out[:, 0, :] if single else out
    if not starts:
        out = np.broadcast_to(trace.output, (P, B, net.n_outputs)).copy()
        return out[:, 0, :] if single else out
    s = min(starts)
    width = max(net.widths[s:])
    per_pattern = max(1, B * width * 8 * 3 + sum(m[0].size for m in synapse_masks.values()) * 8)
    chunk = max(1, int(chunk_bytes // per_pattern))
    bases = {l: _crash_values(net, l, semantics) for l in neuron_masks}
    out = np.empty((P, B, net.n_outputs))
    for a in range(0, P, chunk):
        sl = slice(a, min(P, a + chunk))
        Y = trace.ys[s][None, :, :]
        if s in neuron_masks:
            Y = _apply_neuron_faults(Y, neuron_masks[s][sl], values.get(s, None)[sl] if s in values else None,
                                     bases[s])
        for l in range(s + 1, L + 1):
            W, b = net.weights(l), net.bias(l)
            if l in synapse_masks:
                Wm = np.where(synapse_masks[l][sl], 0.0, W[None, :, :])
                Yb = np.broadcast_to(Y, (Wm.shape[0],) + Y.shape[1:])
                z = np.einsum("pij,pbj->pbi", Wm, Yb) + b
            else:
                z = Y @ W.T + b
            if not _finite(_sum(z, None)):
                _check_finite(z, l)
            act = net.activation(l)
            Y = act(z)
            if l == L and not _maps_finite_to_finite(act):
                _check_finite(Y, l, "output")
            if l in neuron_masks:
                Y = _apply_neuron_faults(Y, neuron_masks[l][sl], values[l][sl] if l in values else None,
                                         bases[l])
        out[sl] = np.broadcast_to(Y, (sl.stop - sl.start, B, net.n_outputs))
    return out[:, 0, :] if single else out


def _check_masks(net, neuron_masks, values, synapse_masks) -> int:
    widths, L = net.widths, net.depth
    sizes = set()
    for l, m in neuron_masks.items():
        if not isinstance(l, (int, np.integer)) or not 0 <= l <= L:
            raise FaultModelError(f"neuron_masks: layer {l!r} does not exist; expected 0 … {L}")
        m = np.asarray(m)
        if m.dtype != bool or m.ndim != 2 or m.shape[1] != widths[l]:
            raise FaultModelError(f"neuron_masks[{l}]: expected a bool array of shape (P, {widths[l]}), "
                                  f"got {m.dtype} {m.shape}")
        neuron_masks[l] = m
        sizes.add(m.shape[0])
    for l, v in values.items():
        if l not in neuron_masks:
            raise FaultModelError(f"values[{l}]: layer {l} has values but no failed-neuron mask")
        v = np.asarray(v, dtype=float)
        if v.shape != neuron_masks[l].shape:
            raise FaultModelError(f"values[{l}]: expected shape {neuron_masks[l].shape}, got {v.shape}")
        if np.isinf(v).any():
            raise FaultModelError(f"values[{l}]: expected finite values (NaN = use the crash semantics)")
        values[l] = v
    for l, m in synapse_masks.items():
        if not isinstance(l, (int, np.integer)) or not 1 <= l <= L:
            raise FaultModelError(f"synapse_masks: layer {l!r} does not exist; expected 1 … {L}")
        m = np.asarray(m)
        if m.dtype != bool or m.ndim != 3 or m.shape[1:] != (widths[l], widths[l - 1]):
            raise FaultModelError(f"synapse_masks[{l}]: expected a bool array of shape "
                                  f"(P, {widths[l]}, {widths[l - 1]}), got {m.dtype} {m.shape}")
        synapse_masks[l] = m
        sizes.add(m.shape[0])
    if len(sizes) > 1:
        raise FaultModelError(f"masks: every mask must have the same number of patterns P, got {sorted(sizes)}")
    return sizes.pop() if sizes else 1


def forward_patterns(net, X, patterns, *, semantics: str = "output_zero", trace: Trace | None = None):
    """Outputs under each :class:`~symft.faults.CrashPattern`; shape ``(P, B, n_L)``.

    Examples
    --------
    >>> from symft.network import mean_network
    >>> forward_patterns(mean_network(2), np.ones(2), [CrashPattern(), CrashPattern([(0, 1)])])
    array([[1. ],
           [0.5]])
    """
    nm, vals, sm = patterns_to_masks(net, patterns)
    P = len(patterns)
    if not nm and not sm and P:
        # no failures at all: still P copies of the clean output
        nm = {net.depth: np.zeros((P, net.n_outputs), dtype=bool)}
    return forward_masked(net, X, nm, values=vals, synapse_masks=sm, semantics=semantics, trace=trace)


def forward(net, x, pattern: CrashPattern | None = None, *, semantics: str = "output_zero",
            exact: bool = False):
    r"""Evaluate the network on one input or a batch, optionally under a crash pattern.

    Parameters
    ----------
    net : Network
    x : array_like, shape (n_0,) or (B, n_0)
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

    Returns
    -------
    ndarray
        ``(n_L,)`` or ``(B, n_L)``; float64, or ``object`` holding SymPy
        values when ``exact=True``.

    Examples
    --------
    >>> from symft.network import Network
    >>> net = Network.from_sympy([[["1/2", "-1/3"]], [[3]]], activations=["relu", "linear"])
    >>> forward(net, ["1", "1/2"], exact=True)
    array([1], dtype=object)
    >>> forward(net, [1.0, 0.5])
    array([1.])
    >>> forward(net, [1.0, 0.5], CrashPattern([(1, 0)]))
    array([0.])
    """
    if semantics not in SEMANTICS:
        raise FaultModelError(f"semantics: expected one of {', '.join(map(repr, SEMANTICS))}, got {semantics!r}")
    if pattern is not None and not isinstance(pattern, CrashPattern):
        raise InvalidArgument(f"pattern: expected a CrashPattern or None, got {type(pattern).__name__}")
    if exact:
        return _forward_exact(net, x, pattern or CrashPattern(), semantics)
    if pattern is None or len(pattern) == 0:
        Xa, single = as_inputs(net, x)
        out = forward_trace(net, Xa).output
    else:
        Xa, single = as_inputs(net, x)
        out = forward_patterns(net, Xa, [pattern], semantics=semantics)[0]
    return out[0] if single else out


def _exact_inputs(net, x, where: str = "input"):
    """Exact inputs: rows of SymPy values (see :func:`symft.utils.to_exact`) and whether x was 1-D."""
    if isinstance(x, np.ndarray) and x.dtype != object:
        x = x.tolist()
    if isinstance(x, sp.MatrixBase):
        x = list(x)
    if isinstance(x, (str, bytes)) or not hasattr(x, "__iter__"):
        raise InvalidArgument(f"{where}: expected a vector of {net.n_inputs} numbers or a batch of such rows")
    rows = list(x)
    single = not rows or not (hasattr(rows[0], "__iter__") and not isinstance(rows[0], str))
    if single:
        rows = [rows]
    out = []
    for r, row in enumerate(rows):
        row = list(row)
        if len(row) != net.n_inputs:
            raise InvalidArgument(f"{where}: expected {net.n_inputs} numbers (n_0 = {net.n_inputs}), got {len(row)}")
        out.append([to_exact(v, f"{where}[{c}]" if single else f"{where}[{r}][{c}]") for c, v in enumerate(row)])
    return out, single


def _forward_exact(net, x, pattern, semantics):
    rows, single = _exact_inputs(net, x)
    pattern.check(net)
    failed = {}
    for l, i in pattern.neurons:
        failed.setdefault(l, set()).add(i)
    sent = {k: to_exact(v, f"values[{k}]") for k, v in pattern.values}
    dead_syn = {}
    for l, i, j in pattern.synapses:
        dead_syn.setdefault(l, []).append((i, j))

    def crash(l, y):
        if l not in failed:
            return y
        y = list(y)
        for i in failed[l]:
            if (l, i) in sent:
                y[i] = sent[(l, i)]
            elif semantics == "output_zero" or l == 0:
                y[i] = sp.Integer(0)
            else:
                y[i] = net.activation(l).sympy(net.bias_exact(l)[i])
        return y

    results = []
    for row in rows:
        y = crash(0, row)
        for l in range(1, net.depth + 1):
            W = net.weights_exact(l)
            if l in dead_syn:
                W = W.as_mutable()
                for i, j in dead_syn[l]:
                    W[i, j] = 0
            z = W * sp.Matrix(y) + net.bias_exact(l)
            act = net.activation(l)
            y = crash(l, [act.sympy(v) for v in z])
        results.append(y)
    out = np.empty((len(results), net.n_outputs), dtype=object)
    for r, y in enumerate(results):
        for c, v in enumerate(y):
            out[r, c] = v
    return out[0] if single else out


def output_error(net, x, pattern: CrashPattern, *, semantics: str = "output_zero", exact: bool = False):
    r"""The output error ``Δ_L(x) = y_L^{faulty}(x) − y_L(x)`` of THEORY D4.

    Examples
    --------
    >>> from symft.network import first_input_network
    >>> output_error(first_input_network(3), [2, 5, 7], CrashPattern([(0, 0)]), exact=True)
    array([-2], dtype=object)
    """
    faulty = forward(net, x, pattern, semantics=semantics, exact=exact)
    clean = forward(net, x, None, exact=exact)
    if exact:
        return np.vectorize(lambda a, b: sp.simplify(a - b) if not (a - b).is_Rational else a - b,
                            otypes=[object])(faulty, clean)
    return faulty - clean


def backward(net, X) -> list[np.ndarray]:
    r"""Jacobians ``J_l = ∂y_L/∂y_l`` for every layer ``l = 0 … L``, one reverse sweep.

    ``J_l[b, k, i] = ∂y_L^k / ∂y_l^i`` at input ``X[b]``, shape
    ``(B, n_L, n_l)``; ``J_L`` is the identity.  The recursion is
    ``J_{l-1} = (J_l · diag φ_l'(z_l)) W_l``.  With ``g = J_l[b, k, i]`` the
    T1 sensitivity to a crash of neuron ``(l, i)`` is
    ``∂y_L^k/∂ξ_l^i = −g · y_l^i``.

    At kinks of piecewise-linear activations the left derivative is used
    (``relu'(0) = 0``).

    Examples
    --------
    >>> from symft.network import mean_network
    >>> J = backward(mean_network(4), np.ones((2, 4)))
    >>> J[0][0]
    array([[0.25, 0.25, 0.25, 0.25]])
    >>> J[1].shape
    (2, 1, 1)
    """
    trace = forward_trace(net, X)
    B = trace.ys[0].shape[0]
    J = np.broadcast_to(np.eye(net.n_outputs), (B, net.n_outputs, net.n_outputs)).copy()
    out = [J]
    for l in range(net.depth, 0, -1):
        d = net.activation(l).derivative(trace.zs[l])  # (B, n_l)
        J = (J * d[:, None, :]) @ net.weights(l)
        if not _finite(_sum(J, None)):
            _check_finite(J, l - 1, "derivative ∂y_L/∂y_l")
        out.append(J)
    return out[::-1]
