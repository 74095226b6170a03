r"""The exact worst case over crash sets: SMT (Z3), SAT (PB encodings) and vectorized brute force.

THEORY §7, "Exact worst case": Forward Error Propagation (:mod:`symft.analysis.fep`)
is a bound; the exact ``max_{crash sets} |Δ|`` is a combinatorial search.
This module answers three questions about one input ``x``:

* :func:`exists_crash` — is there a crash set with at most ``f`` crashes (in
  total, and optionally at most ``f_l`` per layer) such that
  ``|Δ_out| ≥ ε`` (for one output component or any)?
* :func:`class_change` — … such that the predicted class (``argmax``, first
  index on ties, as NumPy) changes?
* :func:`worst_case` — the exact ``max |Δ_out|`` over such crash sets.

Every answer is a frozen :class:`WorstCaseResult` with one of three
outcomes (STYLE lesson 7):

``"proved"``
    Proved: no crash set reaches ``ε`` / changes the class, or (for
    :func:`worst_case`) the reported maximum is the exact maximum.
``"found"``
    A crash set doing it, **re-checked independently of the search**: by an
    exact forward pass (:func:`symft.engines.forward.forward` with ``exact=True``)
    for piecewise-linear networks, in outward-rounded interval arithmetic
    (``mpmath.iv``, 212 bits and up) for smooth activations (see
    :func:`recheck`).  For :func:`worst_case`, ``found`` means a crash set
    whose ``|Δ|`` is a lower bound on the maximum that could not be proved
    optimal in time.
``"unknown"``
    With the reason (a timeout, a solver giving up, values that tie to 1000
    digits).  *Unknown is never safe.*

Back ends (``method``):

``"smt"`` — Z3 over exact rationals (floats from a file are converted to
    the binary rationals they hold by :meth:`~symft.graph.network.Network.weights_exact`),
    for piecewise-linear activations (``linear``, ``relu``, ``hardtanh``,
    ``ramp``, ``step`` and their scaled forms), each encoded from
    :attr:`~symft.graph.activations.Activation.pieces` as an if-then-else chain;
    a crash variable ``c`` per candidate neuron, ``ŷ = If(c, 0, φ(z))``;
    Byzantine neurons send a free real ``v ∈ [−C, C]`` (``ŷ = If(c, v, φ(z))``).
    :func:`worst_case` maximizes by bisection on the decision query "is
    there a crash set with ``|Δ| > T``?" (each *sat* model re-checked
    exactly and raising the lower bound to its exact value; doubling, then
    bisection to 1e-6 relative, then a strict query above the best whose
    *unsat* proves it optimal), each query on a fresh solver; with Byzantine
    values (free reals) it uses ``z3.Optimize``.
``"sat"`` — threshold networks (``step`` hidden layers, linear output) with
    integer weights and biases: every neuron is a Boolean, each one defined
    by two pseudo-boolean constraints with a big-M selector
    (python-sat ``PBEnc``), the crash budget by a cardinality encoding;
    crashes in every crashable layer are encoded (inputs, hidden, output).
``"brute-force"`` — :func:`symft.engines.forward.forward_masked` over every crash set
    of size ``≤ f`` at once (float64, chunked).  A bound on the float64 error
    of every crash set's output is derived from the computation itself (the
    magnitudes summed, layer by layer; 0 when the values are dyadic and
    every sum is representable, see :func:`_float_error`), and every crash
    set that this bound cannot decide (near ``ε``, the maximum, a class tie)
    is re-checked exactly (Fractions, or interval arithmetic for smooth
    activations); the only method for smooth activations (sigmoid, tanh).
``"auto"`` — brute force when the number of crash sets times the cost of a
    forward pass is below :data:`BRUTE_FORCE_BUDGET` flops (or when the
    activations are not piecewise linear), else SMT (or SAT for threshold
    networks).  The result says which method answered.

Examples
--------
>>> from symft.graph.network import Network
>>> net = Network.from_sympy([[[1, 1], [1, -1]], [[1, 2]]], activations=["relu", "linear"])
>>> r = worst_case(net, [1, 0], max_crashes=1, method="smt")
>>> r.status, r.worst_delta, r.crash_set
('proved', 2, ((1, 1),))
>>> worst_case(net, [1, 0], max_crashes=1, method="brute-force").worst_delta
2
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from itertools import combinations
from math import comb
from numbers import Integral, Real

import numpy as np
import sympy as sp

from .errors import InvalidArgument, TooLargeError
from .faults import CrashPattern
from .engines.forward import as_inputs, forward, forward_masked, forward_trace
from .progress import progress

__all__ = [
    "WorstCaseResult",
    "CrashSpace",
    "crash_space",
    "exists_crash",
    "class_change",
    "worst_case",
    "choose_method",
    "recheck",
    "BRUTE_FORCE_BUDGET",
    "METHODS",
]

#: Methods accepted by the functions of this module.
METHODS = ("auto", "smt", "sat", "brute-force")

#: "auto" picks brute force when (number of crash sets) × (flops of one forward pass) is below this.
BRUTE_FORCE_BUDGET = 2e9

#: Brute force is refused above this many crash sets unless ``force=True``.
MAX_BRUTE_FORCE = 20_000_000


# ---------------------------------------------------------------------- results

@dataclass(frozen=True)
class WorstCaseResult:
    """The outcome of a worst-case question.

    Attributes
    ----------
    status : {"proved", "found", "unknown"}
    question : str
        What was asked, in words.
    crash_set : tuple of (layer, index) or None
        The crash set found (sorted); for :func:`worst_case` a maximizer.
    values : tuple of ((layer, index), value)
        Byzantine values the failed neurons send (empty for crashes).
    delta : tuple or None
        The exact re-checked ``Δ_out`` of ``crash_set`` (SymPy numbers).
    worst_delta : SymPy number or None
        For :func:`worst_case`: the maximum of ``|Δ_out|`` (proved) or the
        best found (``found``); for the other questions ``max_k |Δ_k|`` of
        ``crash_set``.
    method : str
        The back end that answered (``"smt:z3"``, ``"sat:glucose4"``,
        ``"brute-force"``), with ``" (auto)"`` when chosen automatically.
    reason : str
        Why: the proof, or the reason for *unknown*.
    n_configurations : int
        Number of crash sets in the search space.
    seconds : float

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> r = worst_case(mean_network(4), [1, 1, 1, 1], max_crashes=2, layers=[0])
    >>> r.status, r.worst_delta, r.n_configurations
    ('proved', 1/2, 11)
    """

    status: str
    question: str
    crash_set: tuple | None
    values: tuple
    delta: tuple | None
    worst_delta: object
    method: str
    reason: str
    n_configurations: int
    seconds: float

    @property
    def pattern(self) -> CrashPattern | None:
        """The crash set as a :class:`~symft.faults.CrashPattern` (``None`` if there is none).

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> worst_case(mean_network(2), [1, 1], max_crashes=1, layers=[0]).pattern.neurons
        frozenset({(0, 0)})
        """
        if self.crash_set is None:
            return None
        return CrashPattern(self.crash_set, values=self.values)


# ---------------------------------------------------------------------- the search space

@dataclass(frozen=True)
class CrashSpace:
    """Which neurons may fail and how many: ``max_crashes`` in total, ``per_layer[l]`` per layer.

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> s = crash_space(random_network([2, 3, 3, 1], seed=0), max_crashes=2)
    >>> s.layers, s.size
    ((1, 2), 22)
    """

    layers: tuple
    widths: tuple
    max_crashes: int
    per_layer: tuple

    @property
    def neurons(self) -> list:
        """Candidate neurons ``(l, i)`` in order.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> crash_space(mean_network(2), 1, layers=[0]).neurons
        [(0, 0), (0, 1)]
        """
        return [(l, i) for l, n in zip(self.layers, self.widths) for i in range(n)]

    @property
    def size(self) -> int:
        """Number of crash sets (including the empty one).

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> crash_space(mean_network(48), 3, layers=[0]).size
        18473
        """
        caps = dict(self.per_layer)
        # polynomial product over layers, truncated at max_crashes
        poly = [1]
        for l, n in zip(self.layers, self.widths):
            cap = min(n, caps.get(l, n), self.max_crashes)
            term = [comb(n, k) for k in range(cap + 1)]
            new = [0] * min(len(poly) + len(term) - 1, self.max_crashes + 1)
            for i, u in enumerate(poly):
                for j, v in enumerate(term):
                    if i + j <= self.max_crashes:
                        new[i + j] += u * v
            poly = new
        return sum(poly)

    def describe(self) -> str:
        """One line for reports.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> crash_space(mean_network(3), 1, layers=[0]).describe()
        'at most 1 crash among layer 0 (3 neurons)'
        """
        parts = ", ".join(f"layer {l} ({n} neurons)" for l, n in zip(self.layers, self.widths))
        s = f"at most {self.max_crashes} crash{'es' if self.max_crashes != 1 else ''} among {parts}"
        if self.per_layer:
            s += "; per layer " + ", ".join(f"≤ {f} in layer {l}" for l, f in self.per_layer)
        return s

    def iter_sets(self):
        """All crash sets, as tuples of neurons, smallest first.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> list(crash_space(mean_network(2), 1, layers=[0]).iter_sets())
        [(), ((0, 0),), ((0, 1),)]
        """
        caps = dict(self.per_layer)
        neurons = self.neurons
        for k in range(self.max_crashes + 1):
            for c in combinations(neurons, k):
                if caps:
                    counts = {}
                    for l, _ in c:
                        counts[l] = counts.get(l, 0) + 1
                    if any(counts[l] > caps.get(l, counts[l]) for l in counts):
                        continue
                yield c


def _int(v, where, lo=0):
    if isinstance(v, bool) or not isinstance(v, Integral) or v < lo:
        raise InvalidArgument(f"{where}: expected an integer ≥ {lo}, got {v!r}")
    return int(v)


def crash_space(net, max_crashes: int, layers=None, per_layer=None) -> CrashSpace:
    """Validate and build a :class:`CrashSpace`.

    Parameters
    ----------
    max_crashes : int
        Total budget ``f``.
    layers : sequence of int, optional
        Layers whose neurons may fail (0 = inputs … L = outputs); default
        the hidden layers ``1 … L−1`` (the inputs when ``L = 1``).
    per_layer : mapping {layer: int}, optional
        Extra per-layer budgets.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> crash_space(mean_network(3), 1, layers=[2])
    Traceback (most recent call last):
    ...
    symft.errors.InvalidArgument: layers: layer 2 does not exist; expected 0 … 1
    """
    f = _int(max_crashes, "max_crashes")
    L = net.depth
    if layers is None:
        layers = list(range(1, L)) or [0]
    if isinstance(layers, Integral):
        layers = [layers]
    ls = []
    for l in layers:
        if isinstance(l, bool) or not isinstance(l, Integral) or not 0 <= l <= L:
            raise InvalidArgument(f"layers: layer {l} does not exist; expected 0 … {L}")
        if int(l) not in ls:
            ls.append(int(l))
    ls.sort()
    if not ls:
        raise InvalidArgument("layers: expected at least one layer")
    pl = []
    for l, fl in dict(per_layer or {}).items():
        if l not in ls:
            raise InvalidArgument(f"per_layer: layer {l} is not among the crashable layers {ls}")
        pl.append((int(l), _int(fl, f"per_layer[{l}]")))
    return CrashSpace(tuple(ls), tuple(net.widths[l] for l in ls), f, tuple(sorted(pl)))


# ---------------------------------------------------------------------- helpers

def _exact_input(net, x):
    """One input as a list of Fractions (floats become the binary rationals they hold)."""
    from .utils import to_exact

    if isinstance(x, np.ndarray):
        if x.ndim != 1:
            raise InvalidArgument("x: expected one input vector (one input per call)")
        x = x.tolist()
    if isinstance(x, (str, bytes)) or not hasattr(x, "__iter__"):
        raise InvalidArgument(f"x: expected a vector of {net.n_inputs} numbers")
    vals = list(x)
    if len(vals) != net.n_inputs:
        raise InvalidArgument(f"x: expected {net.n_inputs} numbers (n_0 = {net.n_inputs}), got {len(vals)}")
    out = []
    for c, v in enumerate(vals):
        if isinstance(v, Fraction):
            out.append(v)
            continue
        e = to_exact(v, f"x[{c}]")
        if not e.is_Rational:
            raise InvalidArgument(f"x[{c}]: expected a number, got {v!r}")
        out.append(Fraction(int(e.p), int(e.q)))
    return out


def _float_input(net, x):
    out = []
    for c, v in enumerate(_exact_input(net, x)):
        try:
            out.append(float(v))
        except OverflowError:
            raise InvalidArgument(f"x[{c}]: the value is beyond the float64 range (about 1.8e308), which brute "
                                  f"force evaluates in; use method='smt'") from None
    return np.array(out)


def _frac(v):
    if isinstance(v, Fraction):
        return v
    v = sp.Rational(v) if isinstance(v, sp.Float) else sp.sympify(v)
    return Fraction(int(v.p), int(v.q))


def _exact_layers(net):
    """Weights and biases as lists of Fractions (exact: floats become the binary rationals they hold)."""
    Ws, bs = [], []
    for l in range(1, net.depth + 1):
        lay = net.layers[l - 1]
        if lay.is_float:
            Ws.append([[Fraction(w) for w in row] for row in lay.weights.tolist()])
            bs.append([Fraction(v) for v in lay.bias.tolist()])
            continue
        if lay.free_symbols:
            raise InvalidArgument(f"net: layer {l} has symbolic weights; substitute values first (net.subs)")
        W, b = net.weights_exact(l), net.bias_exact(l)
        Ws.append([[_frac(W[i, j]) for j in range(W.shape[1])] for i in range(W.shape[0])])
        bs.append([_frac(b[i]) for i in range(b.shape[0])])
    return Ws, bs


def _pwl_apply(act, z: Fraction) -> Fraction:
    for pc in act.pieces:
        if pc.hi == sp.oo or z <= _frac(pc.hi):
            return _frac(pc.slope) * z + _frac(pc.intercept)
    raise AssertionError("unreachable")  # pragma: no cover


def _is_pwl(net, upto=None):
    return all(net.activation(l).is_piecewise_linear for l in range(1, net.depth + 1))


def _to_sympy(v):
    if isinstance(v, Fraction):
        return sp.Rational(v.numerator, v.denominator)
    return v


def recheck(net, x, crash_set, values=()):
    r"""``Δ_out`` of a crash set, independently of the search: the re-check of every reported crash set.

    Piecewise-linear networks: exact, with :func:`symft.engines.forward.forward`
    (``exact=True``, SymPy rationals; floats read as the binary rationals
    they hold).  Other activations (sigmoid, tanh, scaled forms such as
    ``1/2*tanh``, …): the exact network evaluated in outward-rounded interval
    arithmetic (``mpmath.iv``) from 212 bits upwards, the precision raised
    until the enclosure of each ``Δ_k`` fixes 50 significant digits; each
    value is returned as a SymPy Float carrying the digits proved (50, or
    fewer in the pathological case that 3392 bits do not fix them), and as
    an exact 0 when the crash set provably leaves the output unchanged.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> recheck(mean_network(2), [1, 3], [(0, 1)])
    (-3/2,)
    >>> from symft.graph.network import Network
    >>> net = Network.from_sympy([[[1]], [[1]]], activations=["1/2*tanh", "linear"])
    >>> d = recheck(net, ["1/3"], [(1, 0)])[0]
    >>> d                                          # −tanh(1/3)/2 to 50 digits
    -0.16075636876581717235970311121260323300264600125104
    """
    if not _is_pwl(net):
        return _Enclosures(net, x).values(crash_set, values)
    pat = CrashPattern(crash_set, values=tuple((k, _to_sympy(v)) for k, v in dict(values).items()))
    xe = [_to_sympy(v) for v in _exact_input(net, x)]
    faulty = forward(net, xe, pat, exact=True)
    clean = forward(net, xe, exact=True)
    return tuple((a - b) if (a - b).is_Rational else sp.simplify(a - b) for a, b in zip(faulty, clean))


def _abs_max(delta):
    vals = [sp.Abs(d) for d in delta]
    if all(v.is_Rational for v in vals):
        return max(vals)
    return max(vals, key=lambda v: v.evalf(50))  # 50-digit Floats: a float64 key would tie at 1e-16


def _ge(a, b) -> bool:
    """Exact (or 50-digit) comparison a ≥ b of SymPy numbers."""
    d = sp.sympify(a) - sp.sympify(b)
    if d.is_Rational:
        return bool(d >= 0)
    v = d.evalf(50)
    return bool(v >= 0)


def _flops(net, space):
    s = min(space.layers)
    return sum(net.widths[l] * net.widths[l - 1] for l in range(max(s, 0) + 1, net.depth + 1)) * 2 + 1


def choose_method(net, space: CrashSpace, *, byzantine=None) -> tuple[str, str]:
    """The method ``"auto"`` picks, and why.

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> net = random_network([4, 6, 1], seed=0, activation="sigmoid")
    >>> choose_method(net, crash_space(net, 2))
    ('brute-force', 'activation sigmoid is not piecewise linear: brute force is the only exact method')
    """
    if byzantine is not None:
        if not _is_pwl(net):
            raise InvalidArgument("byzantine: the SMT back end needs piecewise-linear activations")
        return "smt", "Byzantine values are free reals: SMT"
    for l in range(1, net.depth + 1):
        a = net.activation(l)
        if not a.is_piecewise_linear:
            return "brute-force", f"activation {a.name} is not piecewise linear: brute force is the only exact method"
    cost = space.size * _flops(net, space)
    if cost <= BRUTE_FORCE_BUDGET:
        return "brute-force", (f"{space.size} crash sets × {_flops(net, space)} flops ≤ "
                               f"{BRUTE_FORCE_BUDGET:.0e}: brute force is cheaper")
    if _sat_applicable(net, space) is None:
        return "sat", f"{space.size} crash sets; threshold network with integer weights: SAT"
    return "smt", f"{space.size} crash sets × {_flops(net, space)} flops > {BRUTE_FORCE_BUDGET:.0e}: SMT"


def _resolve_method(net, space, method, byz):
    """``(method, why, tag)``: the back end to use, the reason, and " (auto)" when it was chosen.

    Brute force enumerates crash sets, not real values, so it is refused for
    Byzantine faults (it would silently answer for crashes instead).
    """
    if method == "auto":
        chosen, why = choose_method(net, space, byzantine=byz)
        method, tag = chosen, " (auto)"
    else:
        why, tag = "requested", ""
    if method == "brute-force" and byz is not None:
        raise InvalidArgument("byzantine: brute force cannot enumerate real values; use method='smt'")
    return method, why, tag


def _check_method(method):
    if method not in METHODS:
        raise InvalidArgument(f"method: expected one of {', '.join(METHODS)}, got {method!r}")


def _check_timeout(timeout):
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, Real) or not timeout > 0:
        raise InvalidArgument(f"timeout: expected a positive number of seconds, got {timeout!r}")
    return float(timeout)


def _check_eps(epsilon):
    if isinstance(epsilon, bool) or epsilon is None:
        raise InvalidArgument(f"epsilon: expected a positive number, got {epsilon!r}")
    e = Fraction(str(epsilon)) if isinstance(epsilon, str) else (
        _frac(sp.sympify(epsilon)) if isinstance(epsilon, sp.Basic) else Fraction(epsilon))
    if e <= 0:
        raise InvalidArgument(f"epsilon: expected a positive number, got {epsilon!r}")
    return e


def _check_output(net, output):
    if output is None:
        return list(range(net.n_outputs))
    if isinstance(output, bool) or not isinstance(output, Integral) or not 0 <= output < net.n_outputs:
        raise InvalidArgument(f"output: expected an output index 0 … {net.n_outputs - 1} or None, got {output!r}")
    return [int(output)]


def _check_byz(byzantine):
    if byzantine is None:
        return None
    if isinstance(byzantine, bool) or not isinstance(byzantine, (Real, sp.Basic, str)):
        raise InvalidArgument(f"byzantine: expected the capacity C ≥ 0, got {byzantine!r}")
    c = Fraction(str(byzantine)) if isinstance(byzantine, (str, float)) else Fraction(byzantine) \
        if not isinstance(byzantine, sp.Basic) else _frac(sp.sympify(byzantine))
    if c < 0:
        raise InvalidArgument(f"byzantine: expected the capacity C ≥ 0, got {byzantine!r}")
    return c


# ---------------------------------------------------------------------- SMT (Z3)

class _Z3Model:
    """The crashed network as Z3 terms over exact rationals."""

    def __init__(self, net, x, space, byzantine, ctx):
        import z3

        self.z3 = z3
        self.ctx = ctx
        Ws, bs = _exact_layers(net)
        xs = _exact_input(net, x)
        crashable = set(space.layers)
        self.crash = {}
        self.byz = {}

        def Q(fr):
            return z3.RealVal(f"{fr.numerator}/{fr.denominator}", ctx)

        def fail(l, ys, bounds):
            if l not in crashable:
                return ys, bounds
            out, nb = [], []
            for i, (y, bd) in enumerate(zip(ys, bounds)):
                c = z3.Bool(f"c_{l}_{i}", ctx)
                self.crash[(l, i)] = c
                yq = y if not isinstance(y, Fraction) else Q(y)
                if byzantine is not None:
                    v = z3.Real(f"v_{l}_{i}", ctx)
                    self.byz[(l, i)] = v
                    out.append(z3.If(c, v, yq))
                    nb.append(None if bd is None else (min(bd[0], -byzantine), max(bd[1], byzantine)))
                else:
                    out.append(z3.If(c, Q(Fraction(0)), yq))
                    nb.append(None if bd is None else (min(bd[0], Fraction(0)), max(bd[1], Fraction(0))))
            return out, nb

        # Interval bounds (exact) on every value, valid for every crash set: they let the
        # encoding drop the pieces an activation can never reach (a ReLU that is always
        # active becomes linear) and give Z3 bounded variables.
        self.constraints = []
        clean = list(xs)
        ys, bounds = fail(0, list(xs), [(v, v) for v in xs])
        for l in range(1, net.depth + 1):
            W, b, act = Ws[l - 1], bs[l - 1], net.activation(l)
            new_clean, new, nbounds = [], [], []
            for i in range(len(W)):
                zc = sum((w * y for w, y in zip(W[i], clean) if w), Fraction(0)) + b[i]
                new_clean.append(_pwl_apply(act, zc))
                const = b[i]
                terms = []
                lo = hi = b[i]
                for w, y, bd in zip(W[i], ys, bounds):
                    if not w:
                        continue
                    if lo is not None:
                        if bd is None:
                            lo = hi = None
                        else:
                            lo += min(w * bd[0], w * bd[1])
                            hi += max(w * bd[0], w * bd[1])
                    if isinstance(y, Fraction):
                        const += w * y
                    else:
                        terms.append(Q(w) * y)
                if not terms:
                    v = _pwl_apply(act, const)
                    new.append(v)
                    nbounds.append((v, v))
                    continue
                zv = z3.Real(f"z_{l}_{i}", ctx)
                self.constraints.append(zv == z3.Sum(terms) + Q(const))
                if lo is not None:
                    self.constraints += [zv >= Q(lo), zv <= Q(hi)]
                new.append(self._act(act, zv, Q, None if lo is None else (lo, hi)))
                if lo is not None and act.monotone:
                    nbounds.append((_pwl_apply(act, lo), _pwl_apply(act, hi)))
                else:
                    nbounds.append(None)
            clean = new_clean
            ys, bounds = fail(l, new, nbounds)
        self.clean = clean
        self.out = [y if not isinstance(y, Fraction) else Q(y) for y in ys]
        self.Q = Q
        # crash budgets as pseudo-boolean constraints (PbLe): Z3 propagates them far better than
        # a sum of if-then-else terms (measured: 0.1 s instead of 100 s on a [8, 24, 24, 1] ReLU net)
        cs = list(self.crash.values())
        if cs:
            self.constraints.append(z3.PbLe([(c, 1) for c in cs], space.max_crashes))
        for l, fl in space.per_layer:
            cl = [c for (ll, _), c in self.crash.items() if ll == l]
            if cl:
                self.constraints.append(z3.PbLe([(c, 1) for c in cl], fl))
        if byzantine is not None:
            for v in self.byz.values():
                self.constraints += [v >= Q(-byzantine), v <= Q(byzantine)]

    def _act(self, act, zv, Q, bounds=None):
        z3 = self.z3
        pieces = list(act.pieces)
        if bounds is not None:  # keep the pieces (lo, hi] that meet [zlo, zhi]
            zlo, zhi = bounds
            pieces = [pc for pc in pieces
                      if (pc.lo == -sp.oo or _frac(pc.lo) < zhi) and (pc.hi == sp.oo or _frac(pc.hi) >= zlo)]
        expr = None
        for pc in reversed(pieces):
            val = Q(_frac(pc.slope)) * zv + Q(_frac(pc.intercept)) if pc.slope != 0 else Q(_frac(pc.intercept))
            if expr is None:
                expr = val
            else:
                expr = z3.If(zv <= Q(_frac(pc.hi)), val, expr)
        return expr

    def delta(self, k):
        return self.out[k] - self.Q(self.clean[k])

    def crash_set(self, model):
        z3 = self.z3
        cs = tuple(sorted(k for k, c in self.crash.items() if z3.is_true(model.eval(c, model_completion=True))))
        vals = ()
        if self.byz:
            vals = tuple((k, _z3_frac(model.eval(self.byz[k], model_completion=True))) for k in cs)
        return cs, vals


def _z3_frac(v):
    import z3

    if z3.is_int_value(v):
        return Fraction(v.as_long())
    f = v.as_fraction()
    return Fraction(f.numerator, f.denominator)


def _z3_solver(z3, ctx, timeout):
    s = z3.Solver(ctx=ctx)
    if timeout is not None:
        s.set(timeout=max(1, int(timeout * 1000)))
    return s


# ---------------------------------------------------------------------- brute force: the float pass

def _brute_outputs(net, x, space, *, label, force):
    """Yield (crash_sets, outputs (P, n_L)) chunks over the whole space."""
    if space.size > MAX_BRUTE_FORCE and not force:
        raise TooLargeError(f"brute force: {space.size} crash sets exceed {MAX_BRUTE_FORCE}; "
                            f"pass force=True or use method='smt'")
    X = _float_input(net, x)[None, :]
    trace = forward_trace(net, X)
    chunk = 20000
    buf = []
    with progress(space.size, label, enabled=None if space.size > 200000 else False) as bar:
        for cs in space.iter_sets():
            buf.append(cs)
            if len(buf) == chunk:
                yield buf, _eval_sets(net, X, trace, space, buf)
                bar.update(len(buf))
                buf = []
        if buf:
            yield buf, _eval_sets(net, X, trace, space, buf)
            bar.update(len(buf))


def _eval_sets(net, X, trace, space, sets):
    masks = {l: np.zeros((len(sets), net.widths[l]), dtype=bool) for l in space.layers}
    for p, cs in enumerate(sets):
        for l, i in cs:
            masks[l][p, i] = True
    return forward_masked(net, X, masks, trace=trace)[:, 0, :]


_U = 2.0 ** -53
#: Relative slack on every bound: absorbs the rounding of the bound's own arithmetic.
_REL = 2.0 ** -40
#: Relative error allowed for NumPy's evaluation of an activation (glibc documents a few ulps for
#: exp/tanh/log1p; this is about 500 ulps, as in :mod:`symft.walk.interval`), plus _EVAL_ABS absolutely.
_EVAL_REL = 2.0 ** -44
_EVAL_ABS = 2.0 ** -1000
#: Absolute error per product allowed for underflow (the smallest subnormal is 2^-1074).
_TINY = 2.0 ** -1070
_NO_GRID = 1 << 30  # grid exponent of an all-zero array (every value is a multiple of 2^_NO_GRID)
_PWL_BUILTINS = ("linear", "relu", "hardtanh", "ramp", "step")
_SMOOTH_BUILTINS = ("sigmoid", "tanh", "softplus")


def _float_grid(a):
    """The largest ``g`` with every entry of the float array an integer multiple of ``2^g`` (None: not finite)."""
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


def _frac_grid(vals):
    """The same for Fractions; None when one is not dyadic (its denominator is not a power of two)."""
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
    """How NumPy evaluates a built-in activation, for :func:`_float_error`; None when unknown.

    Returns ``(K, jumps, exact, pieces)``: a Lipschitz constant (rounded up) valid away from the
    points ``jumps`` where the function jumps, and whether NumPy evaluates it exactly whenever
    the result is representable (the unscaled piecewise-linear built-ins compute
    ``slope·z + intercept`` with slopes, intercepts and breakpoints in {−1, 0, 1}).
    """
    from .graph.activations import _BUILTINS, _split_scaled_name, get_activation

    base, c = _split_scaled_name(act.name)
    if base not in _BUILTINS:
        return None
    try:
        if get_activation(act.name) != act:
            return None
    except InvalidArgument:  # pragma: no cover - a name the registry does not know
        return None
    if act.pieces is not None:
        jumps = []
        for p, q in zip(act.pieces, act.pieces[1:]):
            h = _frac(p.hi)
            if Fraction(float(h)) != h:  # pragma: no cover - built-in breakpoints are -1, 0, 1
                return None
            if _frac(p.slope) * h + _frac(p.intercept) != _frac(q.slope) * h + _frac(q.intercept):
                jumps.append(float(h))
        K = max(abs(float(pc.slope)) for pc in act.pieces) * (1 + _REL)
        return K, tuple(jumps), c == 1 and base in _PWL_BUILTINS, act.pieces
    if base in _SMOOTH_BUILTINS and act.lipschitz is not None and act.lipschitz.is_finite:
        return float(act.lipschitz) * (1 + _REL), (), False, None
    return None  # pragma: no cover - every built-in is one of the above


def _float_error(net, x, space):
    r"""A bound ``E`` (one per output) on the float64 error of the brute-force outputs.

    For every crash set of ``space`` (and for none), the output ``ỹ_L`` that
    :func:`symft.engines.forward.forward_masked` / :func:`~symft.forward.forward_trace`
    compute in float64 and the exact output ``y_L`` of the network (floats
    read as the binary rationals they hold, the input exact) satisfy
    ``|ỹ_L − y_L| ≤ E``.  Returns ``(E, exact)``; ``exact`` when ``E = 0``.

    The bound follows the computation layer by layer, with magnitudes taken
    over every crash set at once (an outward-rounded enclosure ``[lo, hi]`` of
    each neuron's exact value, widened to 0 where neurons may crash) and a
    running error ``e`` of the float values (``|ỹ − y| ≤ e``):

    * ``z̃ = fl(W̃ ỹ + b̃)``: by Higham's bound (any summation order, BLAS,
      FMA) ``|z̃ − z| ≤ γ_{n+1} (|W̃| M + |b̃|) + |W̃| e + (n + 2)·2^-1070``,
      ``M ≥ |ỹ|``, plus ``u|W̃| M + u|b̃|`` when the stored weights are exact
      rationals that float64 rounds;
    * ``ỹ = φ̃(z̃)``: ``K·e_z`` (Lipschitz constant ``K``; for a jump of
      ``step`` within reach, the jump) plus NumPy's own error, at most
      ``2^-44`` relative (the unscaled piecewise-linear built-ins are exact
      when the result is representable).

    When the input, weights and biases are dyadic rationals that float64
    holds and every partial sum is provably representable (integer
    multiples of ``2^g`` below ``2^(53+g)``), the float pass is exact and
    ``E = 0``: integer and dyadic networks need no exact re-check beyond
    exact ties.  Activations without a known float error (custom ones) give
    ``E = inf``: every crash set is then re-checked exactly.
    """
    from .walk.interval import down as _down, gamma as _gamma, up as _up

    L = net.depth
    crash = set(space.layers)
    none = (np.full(net.n_outputs, np.inf), False)
    xs = _exact_input(net, x)
    xf = _float_input(net, x)
    exact_layers = []

    def layer_is_float_exact(l):  # stored exact weights equal to their float64 values
        if not exact_layers:
            exact_layers.append(_exact_layers(net))
        Ws, bs = exact_layers[0]
        W, b = net.weights(l), net.bias(l)
        return (all(Fraction(wf) == w for rf, re in zip(W.tolist(), Ws[l - 1]) for wf, w in zip(rf, re))
                and all(Fraction(vf) == v for vf, v in zip(b.tolist(), bs[l - 1])))

    with np.errstate(all="ignore"):
        err = np.array([0.0 if Fraction(f) == v else float(_up(float(abs(Fraction(f) - v))))
                        for f, v in zip(xf.tolist(), xs)])
        grid = _frac_grid(xs) if not err.any() else None
        lo = np.where(err > 0, _down(xf - err), xf)
        hi = np.where(err > 0, _up(xf + err), xf)
        if 0 in crash:
            lo, hi = np.minimum(lo, 0.0), np.maximum(hi, 0.0)
        for l in range(1, L + 1):
            W, b = net.weights(l), net.bias(l)
            A, ab = np.abs(W), np.abs(b)
            n = W.shape[1]
            g = _gamma(n + 1)
            grow = 1.0 + _REL + 4.0 * g
            rounded = not net.layers[l - 1].is_float  # exact rationals, rounded to float64
            dW = _U * A + 2.0 ** -1074 if rounded else None
            db = _U * ab + 2.0 ** -1074 if rounded else None
            mag = np.maximum(np.abs(lo), np.abs(hi))      # |y| over every crash set
            Mf = _up(mag + err)                           # |ỹ|
            m = 0.5 * lo + 0.5 * hi
            r = _up(np.maximum(hi - m, m - lo))
            am = np.abs(m)
            c = W @ m + b
            Rz = A @ r + g * (A @ am + ab) + (n + 2) * _TINY
            if rounded:
                Rz = Rz + dW @ (am + r) + db
            Rz = _up(Rz * grow)
            zlo, zhi = _down(c - Rz), _up(c + Rz)         # the exact z over every crash set
            zmag = np.maximum(np.abs(zlo), np.abs(zhi))
            ez = None
            if grid is not None and (not rounded or layer_is_float_exact(l)):
                gW, gb = _float_grid(W), _float_grid(b)
                if gW is not None and gb is not None:
                    gz = min(gW + grid, gb)
                    S = _up((A @ mag + ab) * grow)        # every partial sum is at most this
                    if gz >= -1074 and bool(np.all(S < 2.0 ** min(53 + gz, 1023))):
                        ez = np.zeros(len(b))
            if ez is None:
                grid = None
                ez = g * (A @ Mf + ab) + A @ err + (n + 2) * _TINY
                if rounded:
                    ez = ez + dW @ (Mf + err) + db
                ez = _up(ez * grow)
            model = _act_float_model(net.activation(l))
            if model is None:
                return none
            K, jumps, act_exact, pieces = model
            act = net.activation(l)
            vlo, vhi = act(zlo), act(zhi)                 # monotone: φ over [zlo, zhi]
            ylo = _down(vlo - (_EVAL_REL * np.abs(vlo) + _EVAL_ABS))
            yhi = _up(vhi + (_EVAL_REL * np.abs(vhi) + _EVAL_ABS))
            ey = None
            if grid is not None and act_exact:
                slopes = [_frac(pc.slope) for pc in pieces]
                inter = [_frac(pc.intercept) for pc in pieces]
                gy = min(_frac_grid(slopes) + gz, _frac_grid(inter))
                top = _up((float(max(abs(v) for v in slopes)) * zmag + float(max(abs(v) for v in inter))) * grow)
                if gy >= -1074 and bool(np.all(top < 2.0 ** min(53 + gy, 1023))):
                    ey, grid = np.zeros(len(b)), gy
            if ey is None:
                grid = None
                a_, b_ = _down(zlo - ez), _up(zhi + ez)   # both z and z̃ lie here
                fa, fb = act(a_), act(b_)
                ev = _EVAL_REL * np.maximum(np.abs(fa), np.abs(fb)) * (1 + _REL) + _EVAL_ABS
                prop = K * ez
                if jumps:
                    hit = np.zeros(len(b), dtype=bool)
                    for p in jumps:
                        hit |= (a_ <= p) & (p <= b_)
                    prop = np.where(hit, (fb - fa) + 2 * ev, prop)
                ey = _up((prop + ev) * (1 + _REL))
            lo, hi, err = ylo, yhi, ey
            if l in crash:
                lo, hi = np.minimum(lo, 0.0), np.maximum(hi, 0.0)
    if not np.all(np.isfinite(err)):
        return none
    return err, not err.any()


def _delta_bounds(d, E):
    """Lower and upper bounds of the exact ``|Δ_k|`` from the float ``|Δ̃_k|`` (shape (P, k)).

    ``|Δ̃ − Δ| ≤ 2E`` before the subtraction is rounded (relative ``u``), so
    ``|Δ| ∈ [|Δ̃|(1 − 2^-40) − t, |Δ̃|(1 + 2^-40) + t]`` with ``t`` just above
    ``2E``; NaN and infinities (overflow) give ``[−∞, ∞]``.
    """
    t = 2.0 * E * (1 + _REL) + _TINY
    with np.errstate(all="ignore"):
        up = d * (1 + _REL) + t
        lo = d * (1 - _REL) - t
    bad = ~np.isfinite(up)
    if bad.any():
        up = np.where(bad, np.inf, up)
        lo = np.where(bad, -np.inf, lo)
    return lo, up


def _float_eps(eps):
    try:
        return float(eps) * (1 - _REL)
    except OverflowError:
        return np.inf


def _margin_note(E, exact, outs):
    if exact:
        return "the float64 pass is exact here (dyadic values, no rounding)"
    e = float(np.max(E[outs])) if len(outs) else 0.0
    if not np.isfinite(e):
        return "no float64 error bound is known for these activations"
    return f"float64 error bound {2 * e:.2g} on each |Δ_k|, derived from the magnitudes summed"


# ---------------------------------------------------------------------- brute force: exact re-check

@lru_cache(maxsize=None)
def _pwl_table(act):
    return tuple((None if pc.hi == sp.oo else _frac(pc.hi), _frac(pc.slope), _frac(pc.intercept))
                 for pc in act.pieces)


def _pwl_eval(table, z: Fraction) -> Fraction:
    for hi, s, c in table:
        if hi is None or z <= hi:
            return s * z + c
    raise AssertionError("unreachable")  # pragma: no cover


class _ExactPWL:
    """Exact outputs of crash sets in rational arithmetic (Fractions): piecewise-linear networks.

    The clean pass keeps every layer; a crash set recomputes only from its
    first crashed layer on.
    """

    def __init__(self, net, x):
        self.L = net.depth
        self.Ws, self.bs = _exact_layers(net)
        self.tabs = [_pwl_table(net.activation(l)) for l in range(1, self.L + 1)]
        ys = [_exact_input(net, x)]
        for l in range(1, self.L + 1):
            ys.append(self._layer(l, ys[-1]))
        self.ys = ys
        self.clean = ys[-1]

    def _layer(self, l, y):
        tab = self.tabs[l - 1]
        return [_pwl_eval(tab, sum((w * v for w, v in zip(row, y) if w and v), Fraction(0)) + bi)
                for row, bi in zip(self.Ws[l - 1], self.bs[l - 1])]

    def outputs(self, cs):
        dead = {}
        for l, i in cs:
            dead.setdefault(l, set()).add(i)
        if not dead:
            return self.clean
        s = min(dead)
        y = [Fraction(0) if i in dead[s] else v for i, v in enumerate(self.ys[s])]
        for l in range(s + 1, self.L + 1):
            y = self._layer(l, y)
            if l in dead:
                y = [Fraction(0) if i in dead[l] else v for i, v in enumerate(y)]
        return y

    def delta(self, cs):
        return [a - b for a, b in zip(self.outputs(cs), self.clean)]

    def reaches(self, cs, eps, outs):
        d = self.delta(cs)
        return any(abs(d[k]) >= eps for k in outs)

    def clean_class(self):
        return _first_argmax(self.clean, lambda a, b: a > b)

    def changes_class(self, cs, kstar):
        y = self.outputs(cs)
        return any(y[j] >= y[kstar] if j < kstar else y[j] > y[kstar] for j in range(len(y)) if j != kstar)


def _first_argmax(vals, greater):
    """NumPy's argmax (first index on ties) with a comparison that may answer None (undecided)."""
    best = 0
    for j in range(1, len(vals)):
        g = greater(vals[j], vals[best])
        if g is None:
            return None
        if g:
            best = j
    return best


#: Precisions (bits) of the interval re-check: about 64, 128, 255, 510 and 1021 digits.
_PRECISIONS = (212, 424, 848, 1696, 3392)


def _ivq(ctx, q: Fraction):
    """The rational q as an mpmath interval: a point when q is binary and fits, else outward-rounded."""
    n, d = q.numerator, q.denominator
    if not d & (d - 1) and n.bit_length() <= ctx.prec:
        from mpmath.libmp import from_man_exp

        v = from_man_exp(n, -(d.bit_length() - 1))
        return ctx.make_mpf((v, v))
    return ctx.mpf(n) / d


def _rmax(a, b):
    """Max of two raw mpf values."""
    from mpmath.libmp import mpf_lt

    return b if mpf_lt(a, b) else a


def _rmin(a, b):
    """Min of two raw mpf values."""
    from mpmath.libmp import mpf_lt

    return a if mpf_lt(a, b) else b


def _iv_lt(a, b):
    """``a < b`` for intervals: True, False or None (undecided)."""
    from mpmath.libmp import mpf_ge, mpf_lt

    if mpf_lt(a._mpi_[1], b._mpi_[0]):
        return True
    if mpf_ge(a._mpi_[0], b._mpi_[1]):
        return False
    return None


def _iv_abs(ctx, v):
    from mpmath.libmp import fzero, mpf_ge, mpf_le, mpf_neg

    a, b = v._mpi_
    if mpf_ge(a, fzero):
        return v
    if mpf_le(b, fzero):
        return -v
    na = mpf_neg(a)
    return ctx.make_mpf((fzero, b if mpf_ge(b, na) else na))


def _iv_max(ctx, vs):
    lo, hi = vs[0]._mpi_
    for v in vs[1:]:
        lo, hi = _rmax(lo, v._mpi_[0]), _rmax(hi, v._mpi_[1])
    return ctx.make_mpf((lo, hi))


def _iv_digits(v) -> float:
    """How many significant decimal digits the interval fixes (inf for a point)."""
    from mpmath.libmp import fzero, mpf_abs, mpf_div, mpf_le, mpf_neg, mpf_sub, to_float

    a, b = v._mpi_
    if a == b:
        return math.inf
    if mpf_le(a, fzero) and mpf_le(fzero, b):
        return 0.0
    w = mpf_sub(b, a, 64, "u")
    q = to_float(mpf_div(w, mpf_neg(_rmax(mpf_neg(mpf_abs(a)), mpf_neg(mpf_abs(b)))), 64, "u"))
    return 300.0 if q == 0 else -math.log10(q)


def _iv_to_sympy(v, digits=50):
    """A SymPy number for the interval: exact 0 for a point 0, else a Float of the digits it fixes."""
    from mpmath.libmp import fzero, mpf_add, mpf_shift, to_str

    a, b = v._mpi_
    if a == b == fzero:
        return sp.Integer(0)
    mid = mpf_shift(mpf_add(a, b, v.ctx.prec + 8), -1)
    n = int(max(1, min(digits, _iv_digits(v))))
    return sp.Float(to_str(mid, n + 5), n)


def _iv_compile(expr, ctx):
    """An activation's SymPy expression as a function on mpmath intervals (inclusion isotone).

    Every constant is enclosed at the context's precision (``Rational(1, 3)``
    is an interval around 1/3, never a double), so the result encloses the
    exact value.
    """
    from .graph.activations import S

    fns = {"exp": ctx.exp, "log": ctx.log, "sqrt": ctx.sqrt, "erf": ctx.erf, "sin": ctx.sin, "cos": ctx.cos}
    two = ctx.mpf(2)

    def tanh(z):  # tanh = expm1(2z) / (expm1(2z) + 2), both monotone pieces enclosed
        e = ctx.expm1(two * z)
        return e / (e + two)

    def c(e):
        if e == S:
            return lambda z: z
        if e.is_Rational:
            k = _ivq(ctx, Fraction(int(e.p), int(e.q)))
            return lambda z: k
        if e.is_Float:
            k = _ivq(ctx, _frac(e))
            return lambda z: k
        if e is sp.pi or e is sp.E:
            k = ctx.pi if e is sp.pi else ctx.e
            return lambda z: k
        if isinstance(e, sp.Piecewise):
            return _iv_piecewise(ctx, e, c)
        args = [c(a) for a in e.args]
        if isinstance(e, sp.Add):
            return lambda z: sum((f(z) for f in args[1:]), args[0](z))
        if isinstance(e, sp.Mul):
            def mul(z):
                r = args[0](z)
                for f in args[1:]:
                    r = r * f(z)
                return r
            return mul
        if isinstance(e, sp.Pow):
            fb, fe = args
            p = e.exp
            if p.is_Integer:
                k = int(p)
                return lambda z: fb(z) ** k
            if p == sp.Rational(1, 2):
                return lambda z: ctx.sqrt(fb(z))
            return lambda z: ctx.exp(fe(z) * ctx.log(fb(z)))
        if isinstance(e, sp.tanh):
            return lambda z: tanh(args[0](z))
        if isinstance(e, sp.Abs):
            return lambda z: _iv_abs(ctx, args[0](z))
        if isinstance(e, (sp.Max, sp.Min)):
            sign = 1 if isinstance(e, sp.Max) else -1  # min(a, b) = −max(−a, −b)
            return lambda z: sign * _iv_max(ctx, [sign * f(z) for f in args])
        name = type(e).__name__
        if isinstance(e, sp.Function) and name in fns:
            fn = fns[name]
            return lambda z: fn(args[0](z))
        raise InvalidArgument(f"activation: no rigorous interval evaluation of {name} ({e}) is known to symft; "
                              "the exact re-check of brute force needs one")

    return c(sp.sympify(expr))


def _iv_piecewise(ctx, e, compile_):
    """A Piecewise on intervals: the first branch whose condition is proved, hulled with every
    earlier branch whose condition is undecided."""
    from mpmath.libmp import mpf_lt

    branches = []
    for val, cond in e.args:
        if cond is sp.true:
            branches.append((compile_(val), None))
            break
        if not isinstance(cond, (sp.StrictLessThan, sp.LessThan, sp.StrictGreaterThan, sp.GreaterThan)):
            raise InvalidArgument(f"activation: no rigorous interval evaluation of the condition {cond} is known "
                                  "to symft; the exact re-check of brute force needs one")
        lhs, rhs = compile_(cond.lhs), compile_(cond.rhs)
        strict = isinstance(cond, (sp.StrictLessThan, sp.StrictGreaterThan))
        less = isinstance(cond, (sp.StrictLessThan, sp.LessThan))
        branches.append((compile_(val), (lhs, rhs, strict, less)))

    def holds(test, z):
        lhs, rhs, strict, less = test
        a, b = (lhs(z), rhs(z)) if less else (rhs(z), lhs(z))  # a < b or a ≤ b
        if mpf_lt(a._mpi_[1], b._mpi_[0]) or not strict and a._mpi_[1] == b._mpi_[0]:
            return True
        if mpf_lt(b._mpi_[1], a._mpi_[0]) or strict and b._mpi_[1] == a._mpi_[0]:
            return False
        return None

    def f(z):
        out = None
        for val, test in branches:
            h = True if test is None else holds(test, z)
            if h is False:
                continue
            v = val(z)
            out = v if out is None else ctx.make_mpf((_rmin(out._mpi_[0], v._mpi_[0]), _rmax(out._mpi_[1], v._mpi_[1])))
            if h:
                return out
        if out is None:
            raise InvalidArgument(f"activation: {e} is undefined at {z}")
        return out

    return f


def _iv_pwl(ctx, act):
    """A monotone piecewise-linear activation on intervals: φ([a, b]) = [φ(a), φ(b)], each exact piece.

    The piece of an end point is decided by comparing it with the breakpoint's
    enclosure; were that undecided (a breakpoint that is not binary), the
    values of every piece are hulled.
    """
    from mpmath.libmp import mpf_le, mpf_lt

    tab = [(None if hi is None else _ivq(ctx, hi), _ivq(ctx, s), _ivq(ctx, c)) for hi, s, c in _pwl_table(act)]

    def at(raw):
        z = ctx.make_mpf((raw, raw))
        for hi, s, c in tab:
            if hi is None or mpf_le(raw, hi._mpi_[0]):
                return s * z + c
            if not mpf_lt(hi._mpi_[1], raw):  # undecided: hull every piece (sound)
                vs = [s_ * z + c_ for _, s_, c_ in tab]
                return ctx.make_mpf((min((v._mpi_[0] for v in vs), key=_rkey),
                                     max((v._mpi_[1] for v in vs), key=_rkey)))
        raise AssertionError("unreachable")  # pragma: no cover

    def f(v):
        a, b = v._mpi_
        return ctx.make_mpf((at(a)._mpi_[0], at(b)._mpi_[1]))

    return f


def _rkey(raw):
    from functools import cmp_to_key

    from mpmath.libmp import mpf_cmp

    return cmp_to_key(mpf_cmp)(raw)


class _Enclosures:
    """The exact network (weights and input as rationals) in outward-rounded interval arithmetic.

    ``mpmath.iv`` at the precisions of :data:`_PRECISIONS`; every value is an
    interval that contains the exact one, so a decision read off disjoint
    intervals is proved.  Undecided comparisons are retried at the next
    precision; after the last they stay undecided (``None``), which the
    callers report as *unknown*.  A crash set that provably leaves a value
    unchanged (every input of the neuron unchanged) reuses the clean value,
    so that an unaffected output gives the exact ``Δ = 0``.
    """

    def __init__(self, net, x):
        self.net = net
        self.xs = _exact_input(net, x)
        self._layers = None
        self._at = {}

    def _state(self, prec):
        st = self._at.get(prec)
        if st is None:
            from mpmath.ctx_iv import MPIntervalContext

            ctx = MPIntervalContext()
            ctx.prec = prec
            if self._layers is None:
                self._layers = _exact_layers(self.net)
            Ws, bs = self._layers
            W = [[[(j, _ivq(ctx, w)) for j, w in enumerate(row) if w] for row in Wl] for Wl in Ws]
            b = [[_ivq(ctx, v) for v in bl] for bl in bs]
            acts = []
            for l in range(1, self.net.depth + 1):
                a = self.net.activation(l)
                acts.append(_iv_pwl(ctx, a) if a.is_piecewise_linear and a.monotone else _iv_compile(a.expr, ctx))
            ys = [[_ivq(ctx, v) for v in self.xs]]
            for l in range(1, self.net.depth + 1):
                y = ys[-1]
                ys.append([acts[l - 1](sum((w * y[j] for j, w in row), bi)) for row, bi in zip(W[l - 1], b[l - 1])])
            st = self._at[prec] = (ctx, W, b, acts, ys)
        return st

    def outputs(self, cs, values, prec):
        """Faulty outputs and, per output, whether it provably equals the clean one."""
        from mpmath.libmp import fzero

        ctx, W, b, acts, ys = self._state(prec)
        sent = {k: Fraction(v) for k, v in dict(values).items()}
        dead = {}
        for l, i in cs:
            dead.setdefault(l, set()).add(i)
        if not dead:
            return ys[-1], [True] * len(ys[-1])

        def fail(l, y, same):
            for i in dead.get(l, ()):
                v = sent.get((l, i), Fraction(0))
                same[i] = v == 0 and y[i]._mpi_ == (fzero, fzero)
                y[i] = _ivq(ctx, v)

        s = min(dead)
        y, same = list(ys[s]), [True] * len(ys[s])
        fail(s, y, same)
        for l in range(s + 1, self.net.depth + 1):
            ny, nsame = [], []
            for i, (row, bi) in enumerate(zip(W[l - 1], b[l - 1])):
                if all(same[j] for j, _ in row):
                    ny.append(ys[l][i])
                    nsame.append(True)
                else:
                    ny.append(acts[l - 1](sum((w * y[j] for j, w in row), bi)))
                    nsame.append(False)
            y, same = ny, nsame
            fail(l, y, same)
        return y, same

    def delta(self, cs, values, prec):
        ctx = self._state(prec)[0]
        out, same = self.outputs(cs, values, prec)
        clean = self._state(prec)[4][-1]
        return [ctx.mpf(0) if s else a - c for a, c, s in zip(out, clean, same)]

    def values(self, cs, values=()):
        """Δ as SymPy numbers fixing 50 digits each (see :func:`recheck`)."""
        for prec in _PRECISIONS:
            d = self.delta(cs, values, prec)
            if all(_iv_digits(v) >= 52 for v in d):
                break
        return tuple(_iv_to_sympy(v) for v in d)

    def _decide(self, fn):
        for prec in _PRECISIONS:
            r = fn(prec)
            if r is not None:
                return r
        return None

    def reaches(self, cs, eps, outs):
        def at(prec):
            ctx = self._state(prec)[0]
            e = _ivq(ctx, eps)
            d = self.delta(cs, (), prec)
            lt = [_iv_lt(_iv_abs(ctx, d[k]), e) for k in outs]
            if any(v is False for v in lt):
                return True
            if all(v is True for v in lt):
                return False
            return None
        return self._decide(at)

    def abs_max(self, cs, outs, prec):
        ctx = self._state(prec)[0]
        d = self.delta(cs, (), prec)
        return _iv_max(ctx, [_iv_abs(ctx, d[k]) for k in outs])

    def clean_class(self):
        return self._decide(lambda prec: _first_argmax(self._state(prec)[4][-1], lambda a, b: _iv_lt(b, a)))

    def changes_class(self, cs, kstar):
        def at(prec):
            y, _ = self.outputs(cs, (), prec)
            res = []
            for j in range(len(y)):
                if j < kstar:    # the class changes iff y_j ≥ y_k*, i.e. not y_j < y_k*
                    lt = _iv_lt(y[j], y[kstar])
                    res.append(None if lt is None else not lt)
                elif j > kstar:  # … iff y_k* < y_j
                    res.append(_iv_lt(y[kstar], y[j]))
            if any(r is True for r in res):
                return True
            if all(r is False for r in res):
                return False
            return None
        return self._decide(at)


def _exact_checker(net, x):
    return _ExactPWL(net, x) if _is_pwl(net) else _Enclosures(net, x)


# ---------------------------------------------------------------------- brute force: the questions

def _brute_exists(net, x, space, outputs, eps, kind, force):
    """Brute force for |Δ| ≥ ε (kind='eps') or a class change (kind='class').

    Returns ``(status, crash_set, delta, note)``: ``"found"`` with a
    re-checked crash set, ``"proved"`` when none exists, ``"unknown"`` when
    some crash set could not be decided (a tie to 1000 digits).
    """
    E, exact_float = _float_error(net, x, space)
    ex = None
    note = _margin_note(E, exact_float, outputs if kind == "eps" else list(range(net.n_outputs)))
    if kind == "class":
        ex = _exact_checker(net, x)
        kstar = ex.clean_class()
        if kstar is None:
            return "unknown", None, None, "the fault-free outputs tie to 1000 digits: the class is undecided"
    else:
        clean = forward(net, _float_input(net, x))
        t_eps = _float_eps(eps)
    checked = undecided = 0
    for sets, out in _brute_outputs(net, x, space, label="worst case (brute force)", force=force):
        if kind == "eps":
            _, up = _delta_bounds(np.abs(out[:, outputs] - clean[outputs]), E[outputs])
            up = np.max(up, axis=1)
            cand = np.flatnonzero(up >= t_eps)
            order = cand[np.argsort(-up[cand])]
        else:
            # a lower bound of the exact gap y_k* − y_j; the class can change only where it is ≤ 0
            with np.errstate(all="ignore"):
                gap = out[:, [kstar]] - out
                low = gap - np.abs(gap) * _REL - ((E[kstar] + E) * (1 + _REL) + _TINY)
            low[:, kstar] = np.inf
            low = np.where(np.isnan(low), -np.inf, low)
            m = np.min(low, axis=1)
            cand = np.flatnonzero(m <= 0)
            order = cand[np.argsort(m[cand])]
        for p in order:
            cs = sets[p]
            checked += 1
            ex = ex or _exact_checker(net, x)
            ok = ex.reaches(cs, eps, outputs) if kind == "eps" else ex.changes_class(cs, kstar)
            if ok is None:
                undecided += 1
            elif ok:
                cs = tuple(cs)
                if isinstance(ex, _ExactPWL):  # independent exact forward pass (SymPy)
                    delta = recheck(net, x, cs)
                    if kind == "eps" and not any(_ge(sp.Abs(delta[k]), _to_sympy(eps)) for k in outputs) or \
                            kind == "class" and not _class_changed(net, x, cs):  # pragma: no cover
                        raise RuntimeError(f"brute force: crash set {cs} does not re-check")
                else:
                    delta = ex.values(cs)
                return "found", cs, delta, note
    note += f"; {checked} crash set{'s' if checked != 1 else ''} near the decision re-checked exactly"
    if undecided:
        return "unknown", None, None, (f"{undecided} crash set{'s' if undecided != 1 else ''} could not be decided: "
                                       f"the values tie to 1000 digits; {note}")
    return "proved", None, None, note


def _brute_worst(net, x, space, outs, force):
    """Brute force for the exact max |Δ|: ``(status, crash_set, delta, worst, note)``."""
    E, exact_float = _float_error(net, x, space)
    clean = forward(net, _float_input(net, x))
    cands, best_lo = [], -np.inf
    for sets, out in _brute_outputs(net, x, space, label="worst case (brute force)", force=force):
        lo, up = _delta_bounds(np.abs(out[:, outs] - clean[outs]), E[outs])
        lo, up = np.max(lo, axis=1), np.max(up, axis=1)
        best_lo = max(best_lo, float(np.max(lo)))
        cands = [c for c in cands if c[0] >= best_lo]
        cands += [(float(up[p]), sets[p]) for p in np.flatnonzero(up >= best_lo)]
    cands = [tuple(cs) for u, cs in cands if u >= best_lo]
    note = _margin_note(E, exact_float, outs)
    note += f"; the {len(cands)} crash set{'s' if len(cands) != 1 else ''} within it of the maximum re-checked exactly"
    ex = _exact_checker(net, x)
    if isinstance(ex, _ExactPWL):
        best, best_cs = None, None
        for cs in cands:
            d = ex.delta(cs)
            v = max(abs(d[k]) for k in outs)
            if best is None or v > best:
                best, best_cs = v, cs
        delta = recheck(net, x, best_cs)
        worst = _abs_max([delta[k] for k in outs])
        if _frac(worst) != best:  # pragma: no cover - the two exact evaluations disagree
            raise RuntimeError(f"brute force: |Δ| of {best_cs} is {best} and {worst}")
        return "proved", best_cs, delta, worst, note
    # smooth: enclosures of every candidate, refined until the maximum is fixed to 50 digits
    from functools import cmp_to_key

    from mpmath.libmp import from_str, mpf_cmp, mpf_le, mpf_mul, mpf_sub

    encl = {}
    tol = from_str("1e-51", 64, "d")
    for prec in _PRECISIONS:
        ctx = ex._state(prec)[0]
        for cs in cands:
            v = ex.abs_max(cs, outs, prec)
            if cs in encl:  # keep the intersection of the enclosures
                a0, b0 = encl[cs]._mpi_
                a1, b1 = v._mpi_
                v = ctx.make_mpf((_rmax(a0, a1), b1 if mpf_le(b1, b0) else b0))
            encl[cs] = v
        L = max((encl[cs]._mpi_[0] for cs in cands), key=cmp_to_key(mpf_cmp))
        Lv = ctx.make_mpf((L, L))
        cands = [cs for cs in cands if not _iv_lt(encl[cs], Lv)]  # contenders: hi ≥ L
        H = encl[cands[0]]._mpi_[1]
        for cs in cands[1:]:
            H = _rmax(H, encl[cs]._mpi_[1])
        best_cs = max(cands, key=lambda cs: cmp_to_key(mpf_cmp)(encl[cs]._mpi_[0]))
        if mpf_le(mpf_sub(H, L, prec, "u"), mpf_mul(L, tol, prec, "f")):
            delta = ex.values(best_cs)
            return "proved", best_cs, delta, _abs_max([delta[k] for k in outs]), note
    return "unknown", best_cs, None, None, (f"the maximum could not be fixed to 50 digits with {_PRECISIONS[-1]} bits; "
                                            f"{note}")


def _class_changed(net, x, cs, values=()):
    """Whether the crash set changes the class, by exact forward passes (piecewise-linear nets)."""
    xe = [_to_sympy(v) for v in _exact_input(net, x)]
    pat = CrashPattern(cs, values=tuple((k, _to_sympy(v)) for k, v in dict(values).items()))
    clean = list(forward(net, xe, exact=True))
    faulty = list(forward(net, xe, pat, exact=True))

    def argmax(vals):
        best = 0
        for j in range(1, len(vals)):
            if not _ge(vals[best], vals[j]):  # strictly larger → new argmax (first index wins ties)
                best = j
        return best

    return argmax(clean) != argmax(faulty)


# ---------------------------------------------------------------------- SAT (threshold networks)

def _sat_applicable(net, space):
    """``None`` if the SAT back end applies, else the reason it does not."""
    L = net.depth
    if L < 2:
        return "SAT back end: needs at least one hidden layer"
    for l in range(1, L):
        if net.activation(l).name != "step":
            return f"SAT back end: layer {l} has activation {net.activation(l).name!r}, not step"
    if not net.activation(L).is_linear:
        return "SAT back end: the output layer must be linear"
    first = 1 if 0 not in space.layers else 0
    for l in range(max(first, 1) + (0 if first == 0 else 1), L + 1):
        W, b = net.weights_exact(l), net.bias_exact(l)
        if not all(v.is_Integer for v in list(W) + list(b)):
            return f"SAT back end: layer {l} has non-integer weights or biases"
    if 0 in space.layers:
        W, b = net.weights_exact(1), net.bias_exact(1)
        if not all(v.is_Integer for v in list(W) + list(b)):
            return "SAT back end: layer 1 has non-integer weights (inputs may crash)"
    return None


def _sat_solve(net, x, space, outputs, threshold, solver, timeout):
    """SAT: is there a crash set with |Δ_k| ≥ threshold for some output k? Returns (status, crash_set).

    Every crashable layer is encoded: inputs (their terms in layer 1), the
    step layers (``y ⇔ a ∧ ¬c``) and the linear output layer (a crashed
    output sends 0, so ``Δ_k = −y_k``).
    """
    from pysat.card import CardEnc, EncType as CEnc
    from pysat.pb import EncType, PBEnc

    from reductions.subset_sum import _interruptible, _run_sat, _run_sat_in_child

    Ws, bs = _exact_layers(net)
    xs = _exact_input(net, x)
    L = net.depth
    top = [0]

    def new():
        top[0] += 1
        return top[0]

    clauses = []
    crash = {}
    TRUE = new()
    clauses.append([TRUE])
    crashable = set(space.layers)

    def pb(lits, weights, op, bound):
        """Add Σ w·lit (op) bound, normalized to positive weights (w·l = w − w·¬l for w < 0)."""
        ls, ws = [], []
        bound = int(bound)
        for l_, w in zip(lits, weights):
            w = int(w)
            if w > 0:
                ls.append(l_)
                ws.append(w)
            elif w < 0:
                ls.append(-l_)
                ws.append(-w)
                bound -= w
        total = sum(ws)
        if op == ">=":
            if bound <= 0:
                return
            if bound > total:
                clauses.append([])
                return
            enc = PBEnc.atleast(lits=ls, weights=ws, bound=bound, top_id=top[0], encoding=EncType.adder)
        else:
            if bound >= total:
                return
            if bound < 0:
                clauses.append([])
                return
            enc = PBEnc.atmost(lits=ls, weights=ws, bound=bound, top_id=top[0], encoding=EncType.adder)
        top[0] = max(top[0], enc.nv)
        clauses.extend(enc.clauses)

    # layer-0 values: constants, or (x_j, crash literal) pairs
    cur_const = list(xs)
    cur_lits = None
    clean = list(xs)
    if 0 in crashable:
        for j in range(len(xs)):
            crash[(0, j)] = new()
            if any((W_[j] * xs[j]).denominator != 1 for W_ in Ws[0]):
                raise InvalidArgument("SAT back end: crashable inputs need W_1[i, j]·x_j integer")
    for l in range(1, L):
        W, b = Ws[l - 1], bs[l - 1]
        lits = []
        new_clean = []
        for i in range(len(W)):
            zc = sum((w * y for w, y in zip(W[i], clean)), Fraction(0)) + b[i]
            new_clean.append(Fraction(1) if zc > 0 else Fraction(0))
            a = new()
            if l == 1 and 0 not in crashable:
                z = sum((w * y for w, y in zip(W[i], cur_const)), Fraction(0)) + b[i]
                clauses.append([a] if z > 0 else [-a])
            else:
                if l == 1:  # crashable integer inputs: y_j = x_j·¬c_j, Σ W x_j ¬c_j ≥ 1 − b
                    terms = [(-crash[(0, j)], int(W[i][j] * xs[j])) for j in range(len(xs))]
                else:
                    terms = [(y, int(W[i][j])) for j, y in enumerate(cur_lits)]
                lo = sum(min(0, w) for _, w in terms)
                hi = sum(max(0, w) for _, w in terms)
                need = 1 - int(b[i])  # a ⇒ Σ ≥ 1 − b ;  ¬a ⇒ Σ ≤ −b
                M1 = max(0, need - lo)
                pb([t for t, _ in terms] + [-a], [w for _, w in terms] + [M1], ">=", need)
                M2 = max(0, hi - (-int(b[i])))
                pb([t for t, _ in terms] + [a], [w for _, w in terms] + [-M2], "<=", -int(b[i]))
            if l in crashable:
                c = new()
                crash[(l, i)] = c
                y = new()  # y ⇔ a ∧ ¬c
                clauses += [[-y, a], [-y, -c], [y, -a, c]]
                lits.append(y)
            else:
                lits.append(a)
        cur_lits = lits
        clean = new_clean
    W, b = Ws[L - 1], bs[L - 1]
    clean_out = [sum((w * y for w, y in zip(W[k], clean)), Fraction(0)) + b[k] for k in range(len(W))]
    sel = []
    for k in outputs:
        # Δ_k = Σ W y − Σ W y_clean ; want Δ_k ≥ t or Δ_k ≤ −t (integers: t = ceil(threshold))
        t = math.ceil(threshold)
        base = int(sum((w * y for w, y in zip(W[k], clean)), Fraction(0)))
        terms = [(y, int(W[k][j])) for j, y in enumerate(cur_lits)]
        lo = sum(min(0, w) for _, w in terms)
        hi = sum(max(0, w) for _, w in terms)
        up, down = new(), new()
        pb([q for q, _ in terms] + [-up], [w for _, w in terms] + [max(0, base + t - lo)], ">=", base + t)
        pb([q for q, _ in terms] + [-down], [w for _, w in terms] + [-max(0, hi - (base - t))], "<=", base - t)
        sel += [up, down]
        if L in crashable:
            # a crashed output sends 0: Δ_k = −y_k (a constant); the two sums above need it alive
            c = new()
            crash[(L, k)] = c
            clauses += [[-up, -c], [-down, -c]]
            if abs(clean_out[k]) >= t:
                sel.append(c)
    clauses.append(sel)
    cl = list(crash.values())
    if cl:
        card = CardEnc.atmost(lits=cl, bound=space.max_crashes, top_id=top[0], encoding=CEnc.seqcounter)
        top[0] = max(top[0], card.nv)
        clauses.extend(card.clauses)
        for l, fl in space.per_layer:
            ll = [c for (lay, _), c in crash.items() if lay == l]
            card = CardEnc.atmost(lits=ll, bound=fl, top_id=top[0], encoding=CEnc.seqcounter)
            top[0] = max(top[0], card.nv)
            clauses.extend(card.clauses)
    if any(len(c) == 0 for c in clauses):
        return "proved", None
    if timeout is None or _interruptible(solver):
        r, model = _run_sat(solver, clauses, timeout)
    else:
        r, model = _run_sat_in_child(solver, clauses, timeout)
    if r is None:
        return "unknown", None
    if r is False:
        return "proved", None
    pos = set(v for v in model if v > 0)
    return "found", tuple(sorted(k for k, c in crash.items() if c in pos))


# ---------------------------------------------------------------------- public questions

def _show(q: Fraction) -> str:
    """A rational for a message: exactly when short, else about 15 significant digits (``≈``)."""
    n, d = abs(q.numerator), q.denominator
    if n.bit_length() + d.bit_length() <= 256:
        return str(q)
    sn, sd = max(0, n.bit_length() - 64), max(0, d.bit_length() - 64)
    l10 = math.log10((n >> sn) / (d >> sd)) + (sn - sd) * math.log10(2)
    e = math.floor(l10)
    return f"≈{'-' if q < 0 else ''}{10 ** (l10 - e):.14f}e{e:+d}"


def _question(space, what):
    return f"{what} with {space.describe()}"


def _brute_result(net, x, q, space, outs, eps, kind, force, tag, why, t0):
    status, cs, delta, note = _brute_exists(net, x, space, outs, eps, kind, force)
    if status == "found":
        return WorstCaseResult("found", q, cs, (), delta, _abs_max(delta), "brute-force" + tag,
                               f"re-checked exactly; {why}", space.size, time.perf_counter() - t0)
    reason = f"all {space.size} crash sets evaluated; {note}; {why}" if status == "proved" else f"{note}; {why}"
    return WorstCaseResult(status, q, None, (), None, None, "brute-force" + tag, reason, space.size,
                           time.perf_counter() - t0)


def exists_crash(net, x, *, max_crashes: int, epsilon, layers=None, per_layer=None, output=None,
                 method: str = "auto", byzantine=None, timeout: float | None = None,
                 sat_solver: str = "glucose4", force: bool = False) -> WorstCaseResult:
    r"""Is there a crash set with at most ``max_crashes`` crashes such that ``|Δ_out| ≥ ε``?

    Parameters
    ----------
    net : Network
    x : sequence of numbers
        One input (exact values welcome: ints, ``"1/3"``, SymPy rationals).
    max_crashes : int
    epsilon : positive number
    layers, per_layer
        See :func:`crash_space`.
    output : int, optional
        One output component; default: any.
    method : {"auto", "smt", "sat", "brute-force"}
    byzantine : number, optional
        Capacity ``C``: failed neurons send any value in ``[−C, C]`` (SMT only).
    timeout : float, optional
        Seconds (SMT, SAT); a timeout gives ``status="unknown"``.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> net = mean_network(4)
    >>> exists_crash(net, [1, 1, 1, 1], max_crashes=1, epsilon="1/4", layers=[0], method="smt").status
    'found'
    >>> exists_crash(net, [1, 1, 1, 1], max_crashes=1, epsilon="1/3", layers=[0], method="smt").status
    'proved'
    >>> exists_crash(net, [1, 1, 1, 1], max_crashes=1, epsilon="1/3", layers=[0], byzantine=2).status
    'found'
    """
    t0 = time.perf_counter()
    _check_method(method)
    space = crash_space(net, max_crashes, layers, per_layer)
    eps = _check_eps(epsilon)
    outs = _check_output(net, output)
    byz = _check_byz(byzantine)
    timeout = _check_timeout(timeout)
    what = f"|Δ_out{'' if output is None else f'[{output}]'}| ≥ {_show(eps)}" + (
        f", Byzantine C = {_show(byz)}" if byz is not None else "")
    q = _question(space, what)
    method, why, tag = _resolve_method(net, space, method, byz)
    if method == "brute-force":
        return _brute_result(net, x, q, space, outs, eps, "eps", force, tag, why, t0)
    if method == "sat":
        if byz is not None:
            raise InvalidArgument("byzantine: the SAT back end handles crashes only; use method='smt'")
        reason = _sat_applicable(net, space)
        if reason:
            raise InvalidArgument(reason)
        status, cs = _sat_solve(net, x, space, outs, eps, sat_solver, timeout)
        m = f"sat:{sat_solver}" + tag
        return _finish(net, x, q, status, cs, (), m, space, t0, eps, outs,
                       "unsat: no crash set" if status == "proved" else "timeout" if status == "unknown" else why)
    if not _is_pwl(net):
        raise InvalidArgument("method='smt' needs piecewise-linear activations; use method='brute-force'")
    import z3

    ctx = z3.Context()
    m = _Z3Model(net, x, space, byz, ctx)
    s = _z3_solver(z3, ctx, timeout)
    s.add(*m.constraints)
    E = m.Q(eps)
    s.add(z3.Or([z3.Or(m.delta(k) >= E, m.delta(k) <= -E) for k in outs]))
    start = time.perf_counter()
    r = s.check()
    if r == z3.sat:
        cs, vals = m.crash_set(s.model())
        return _finish(net, x, q, "found", cs, vals, "smt:z3" + tag, space, t0, eps, outs, why)
    if r == z3.unsat:
        return WorstCaseResult("proved", q, None, (), None, None, "smt:z3" + tag, "z3: unsat", space.size,
                               time.perf_counter() - t0)
    return WorstCaseResult("unknown", q, None, (), None, None, "smt:z3" + tag, _z3_unknown(s, timeout, start),
                           space.size, time.perf_counter() - t0)


def _finish(net, x, q, status, cs, vals, method, space, t0, eps, outs, reason):
    if status != "found":
        return WorstCaseResult(status, q, None, (), None, None, method, reason, space.size,
                               time.perf_counter() - t0)
    delta = recheck(net, x, cs, vals)
    if not any(_ge(sp.Abs(delta[k]), _to_sympy(eps)) for k in outs):  # pragma: no cover - solver/encoding bug
        raise RuntimeError(f"{method}: crash set {cs} does not re-check (Δ = {delta}, ε = {eps})")
    return WorstCaseResult("found", q, cs, tuple(vals), delta, _abs_max(delta), method,
                           f"re-checked exactly; {reason}", space.size, time.perf_counter() - t0)


def class_change(net, x, *, max_crashes: int, layers=None, per_layer=None, method: str = "auto",
                 byzantine=None, timeout: float | None = None, force: bool = False) -> WorstCaseResult:
    r"""Is there a crash set with at most ``max_crashes`` crashes that changes the predicted class?

    The class is ``argmax`` of the outputs with NumPy's tie rule (the first
    maximal index); a crash set changes it iff some ``j < k*`` reaches
    ``y_j ≥ y_{k*}`` or some ``j > k*`` reaches ``y_j > y_{k*}``.

    Examples
    --------
    >>> from symft.graph.network import Network
    >>> net = Network.from_sympy([[[1, 0], [0, 1]], [[1, 0], [0, 1]]], activations=["relu", "linear"])
    >>> class_change(net, [2, 1], max_crashes=1, method="smt").crash_set
    ((1, 0),)
    >>> class_change(net, [2, 1], max_crashes=1, layers=[1], per_layer={1: 0}).status
    'proved'
    """
    t0 = time.perf_counter()
    _check_method(method)
    space = crash_space(net, max_crashes, layers, per_layer)
    byz = _check_byz(byzantine)
    timeout = _check_timeout(timeout)
    q = _question(space, "predicted class changes" + (f", Byzantine C = {_show(byz)}" if byz is not None else ""))
    method, why, tag = _resolve_method(net, space, method, byz)
    if method == "sat" and tag:
        method, why = "smt", why + " (class change: SMT)"
    if net.n_outputs < 2:
        raise InvalidArgument("net: class change needs at least two outputs")
    if method == "brute-force":
        return _brute_result(net, x, q, space, None, None, "class", force, tag, why, t0)
    if method == "sat":
        raise InvalidArgument("method='sat' answers |Δ| ≥ ε questions only; use 'smt' or 'brute-force'")
    if not _is_pwl(net):
        raise InvalidArgument("method='smt' needs piecewise-linear activations; use method='brute-force'")
    import z3

    ctx = z3.Context()
    m = _Z3Model(net, x, space, byz, ctx)
    kstar = max(range(len(m.clean)), key=lambda j: (m.clean[j], -j))
    s = _z3_solver(z3, ctx, timeout)
    s.add(*m.constraints)
    alts = [m.out[j] >= m.out[kstar] if j < kstar else m.out[j] > m.out[kstar]
            for j in range(len(m.out)) if j != kstar]
    s.add(z3.Or(alts))
    start = time.perf_counter()
    r = s.check()
    if r == z3.sat:
        cs, vals = m.crash_set(s.model())
        if not _class_changed(net, x, cs, vals):  # pragma: no cover - encoding bug
            raise RuntimeError(f"smt: crash set {cs} does not change the class on re-check")
        delta = recheck(net, x, cs, vals)
        return WorstCaseResult("found", q, cs, vals, delta, _abs_max(delta), "smt:z3" + tag,
                               f"re-checked exactly; {why}", space.size, time.perf_counter() - t0)
    status = "proved" if r == z3.unsat else "unknown"
    reason = "z3: unsat" if r == z3.unsat else _z3_unknown(s, timeout, start)
    return WorstCaseResult(status, q, None, (), None, None, "smt:z3" + tag, reason, space.size,
                           time.perf_counter() - t0)


def worst_case(net, x, *, max_crashes: int, layers=None, per_layer=None, output=None, method: str = "auto",
               byzantine=None, timeout: float | None = None, sat_solver: str = "glucose4",
               force: bool = False) -> WorstCaseResult:
    r"""The exact worst case ``max |Δ_out|`` over crash sets of at most ``max_crashes`` neurons.

    ``|Δ_out|`` is ``max_k |Δ_k|`` over the output components (or the one
    chosen by ``output``).  SMT maximizes by bisection on decision queries
    (each *sat* re-checked exactly; the final strict *unsat* proves
    optimality); SAT (integer
    threshold networks) by binary search over the integer value of the
    maximum; brute force evaluates every crash set in float64 and re-checks
    exactly every one within the float64 error bound of the maximum.

    Returns ``status="proved"`` with the exact maximum ``worst_delta`` and a
    maximizing ``crash_set``; ``"found"`` with a lower bound when a timeout
    stopped the proof of optimality; ``"unknown"`` when nothing was found in
    time (or, with smooth activations, when 3392 bits cannot fix the maximum
    to 50 digits).

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> net = random_network([3, 4, 4, 1], seed=2, activation="relu", rational_denominator=16)
    >>> a = worst_case(net, [1, 0, -1], max_crashes=2, method="smt")
    >>> b = worst_case(net, [1, 0, -1], max_crashes=2, method="brute-force")
    >>> a.worst_delta == b.worst_delta, a.status
    (True, 'proved')
    >>> worst_case(net, [1, 0, -1], max_crashes=1, byzantine=1).method
    'smt:z3 (auto)'
    """
    t0 = time.perf_counter()
    _check_method(method)
    space = crash_space(net, max_crashes, layers, per_layer)
    outs = _check_output(net, output)
    byz = _check_byz(byzantine)
    timeout = _check_timeout(timeout)
    q = _question(space, f"max |Δ_out{'' if output is None else f'[{output}]'}|"
                  + (f", Byzantine C = {_show(byz)}" if byz is not None else ""))
    method, why, tag = _resolve_method(net, space, method, byz)
    if method == "brute-force":
        status, cs, delta, worst, note = _brute_worst(net, x, space, outs, force)
        if status == "unknown":
            return WorstCaseResult("unknown", q, None, (), None, None, "brute-force" + tag, f"{note}; {why}",
                                   space.size, time.perf_counter() - t0)
        return WorstCaseResult("proved", q, cs, (), delta, worst, "brute-force" + tag,
                               f"all {space.size} crash sets evaluated; {note}; {why}", space.size,
                               time.perf_counter() - t0)
    if method == "sat":
        return _sat_worst(net, x, space, outs, q, sat_solver, timeout, t0, why, tag)
    if not _is_pwl(net):
        raise InvalidArgument("method='smt' needs piecewise-linear activations; use method='brute-force'")
    import z3

    # Maximization by bisection on the decision query "is there a crash set with |Δ| > T?",
    # each asked of a fresh z3.Solver (an incremental solver with push/pop falls back to a much
    # weaker engine: the same query took minutes instead of 0.2 s).  Every "sat" model is re-checked exactly and
    # raises the lower bound lo to its exact |Δ|; every "unsat" lowers the upper bound hi to T.
    # Doubling finds a first hi; bisection closes the gap to 1e-6·hi; a final strict query
    # "> lo" answering unsat proves lo optimal (otherwise bisection resumes above the new lo).
    # (z3.Optimize was tried first: it can stall on tiny nets with 53-bit rational weights and
    # overrun its timeout; plain strict improvement crawls upward in tiny steps on wide nets.)
    ctx = z3.Context()
    m = _Z3Model(net, x, space, byz, ctx)
    if byz is not None:
        return _optimize(net, x, m, outs, q, space, timeout, t0, why, tag)
    start = time.perf_counter()
    deadline = None if timeout is None else start + timeout
    best, best_cs, best_vals, best_delta = None, None, (), None
    rounds = 0
    unknown = []

    def above(T):
        """check |Δ| > T for some output; returns (z3 result, (cs, vals, delta, |Δ|) or None)."""
        nonlocal rounds
        s = z3.Solver(ctx=ctx)
        s.add(*m.constraints)
        if deadline is not None:
            left = deadline - time.perf_counter()
            if left <= 0:
                unknown.append(f"z3: timeout after {timeout:g} s")
                return z3.unknown, None
            s.set(timeout=max(1, int(left * 1000)))
        B = m.Q(_frac(T))
        s.add(z3.Or([z3.Or(m.delta(k) > B, m.delta(k) < -B) for k in outs]))
        r = s.check()
        rounds += 1
        found = None
        if r == z3.sat:
            cs, vals = m.crash_set(s.model())
            delta = recheck(net, x, cs, vals)
            v = _abs_max([delta[k] for k in outs])
            if not v > T:  # pragma: no cover - solver/encoding bug
                raise RuntimeError(f"smt: crash set {cs} has |Δ| = {v}, not above {T}")
            found = (cs, vals, delta, v)
        elif r == z3.unknown:
            unknown.append(_z3_unknown(s, timeout, start))
        return r, found

    r, found = above(Fraction(0))
    if r == z3.unsat:
        cs = ()
        delta = recheck(net, x, cs)
        return WorstCaseResult("proved", q, cs, (), delta, _abs_max([delta[k] for k in outs]), "smt:z3" + tag,
                               f"z3: no crash set changes the output (unsat for |Δ| > 0); {why}", space.size,
                               time.perf_counter() - t0)
    hi = None
    while r == z3.sat:
        best_cs, best_vals, best_delta, best = found
        lo = _frac(best)
        if hi is None:
            T = 2 * lo                       # doubling: find an upper bound
        elif hi - lo > hi * Fraction(1, 10 ** 6):
            T = (lo + hi) / 2                # bisection
        else:
            T = lo                           # strict: unsat proves lo (an exact |Δ| of a crash set) optimal
        while True:
            r, found = above(T)
            if r != z3.unsat or T == lo:
                break                        # sat raises lo (and the search resumes), unknown stops
            hi = T
            T = lo if not hi - lo > hi * Fraction(1, 10 ** 6) else (lo + hi) / 2
    if r == z3.unsat:
        return WorstCaseResult("proved", q, best_cs, best_vals, best_delta, best, "smt:z3" + tag,
                               f"z3: {rounds} decision queries (doubling, bisection, then unsat above the "
                               f"maximum); re-checked exactly; {why}", space.size, time.perf_counter() - t0)
    reason = unknown[-1]
    if best is not None:
        return WorstCaseResult("found", q, best_cs, best_vals, best_delta, best, "smt:z3" + tag,
                               f"{reason}: best crash set found so far (a lower bound, not proved optimal); "
                               f"re-checked exactly", space.size, time.perf_counter() - t0)
    return WorstCaseResult("unknown", q, None, (), None, None, "smt:z3" + tag, reason, space.size,
                           time.perf_counter() - t0)


def _z3_unknown(s, timeout, start):
    """Why a Z3 query answered unknown: a timeout only when there was one and it ran out."""
    why = s.reason_unknown()
    if timeout is not None and (why in ("timeout", "canceled") or time.perf_counter() - start >= timeout):
        return f"z3: timeout after {timeout:g} s"
    return f"z3: {why}"


def _optimize(net, x, m, outs, q, space, timeout, t0, why, tag):
    """z3.Optimize for Byzantine values (free reals: strict improvement need not terminate)."""
    z3 = m.z3
    opt = z3.Optimize(ctx=m.ctx)
    if timeout is not None:
        opt.set("timeout", max(1, int(timeout * 1000)))
    opt.add(*m.constraints)
    t = z3.Real("t_obj", m.ctx)
    opt.add(z3.Or([z3.Or(t <= m.delta(k), t <= -m.delta(k)) for k in outs]))
    opt.add(t >= 0)
    h = opt.maximize(t)
    start = time.perf_counter()
    r = opt.check()
    if r == z3.sat:
        cs, vals = m.crash_set(opt.model())
        delta = recheck(net, x, cs, vals)
        v = _abs_max([delta[k] for k in outs])
        hv = h.value()
        if not ((z3.is_rational_value(hv) or z3.is_int_value(hv)) and _z3_frac(hv) == _frac(v)):  # pragma: no cover
            raise RuntimeError(f"z3 optimum {hv} differs from the re-checked value {v}")
        return WorstCaseResult("proved", q, cs, vals, delta, v, "smt:z3" + tag,
                               f"z3 Optimize: optimal; re-checked exactly; {why}", space.size,
                               time.perf_counter() - t0)
    reason = _z3_unknown(opt, timeout, start).replace("z3:", "z3 Optimize:", 1)
    return WorstCaseResult("unknown", q, None, (), None, None, "smt:z3" + tag, reason, space.size,
                           time.perf_counter() - t0)


def _sat_worst(net, x, space, outs, q, solver, timeout, t0, why, tag):
    reason = _sat_applicable(net, space)
    if reason:
        raise InvalidArgument(reason)
    method = f"sat:{solver}" + tag
    # |Δ| is an integer here; bound it by Σ |W_L| (every hidden output is 0/1) or, for a crashed
    # output, by its fault-free value, and binary-search.
    W = net.weights_exact(net.depth)
    hi = max(sum(abs(W[k, j]) for j in range(W.shape[1])) for k in outs)
    if net.depth in space.layers:
        clean = _ExactPWL(net, x).clean
        hi = max(hi, max(abs(clean[k]) for k in outs))
    hi = int(hi) + 1  # no |Δ| ≥ hi
    lo, best_cs = 0, ()
    deadline = None if timeout is None else time.perf_counter() + timeout
    while hi - lo > 1:
        mid = (lo + hi) // 2
        left = None if deadline is None else deadline - time.perf_counter()
        if left is not None and left <= 0:
            status = "found" if lo > 0 else "unknown"
            return _sat_result(net, x, q, status, best_cs, outs, method, space, t0, "timeout during binary search")
        status, cs = _sat_solve(net, x, space, outs, Fraction(mid), solver, left)
        if status == "unknown":
            st = "found" if lo > 0 else "unknown"
            return _sat_result(net, x, q, st, best_cs, outs, method, space, t0, "SAT timeout during binary search")
        if status == "found":
            d = recheck(net, x, cs)
            v = _abs_max([d[k] for k in outs])
            if not v >= mid:  # pragma: no cover - solver/encoding bug
                raise RuntimeError(f"sat: crash set {cs} has |Δ| = {v}, not ≥ {mid}")
            lo, best_cs = int(v), cs
        else:
            hi = mid
    return _sat_result(net, x, q, "proved", best_cs, outs, method, space, t0,
                       f"binary search: |Δ| ≥ {lo + 1} unsat; {why}")


def _sat_result(net, x, q, status, cs, outs, method, space, t0, reason):
    if status == "unknown":
        return WorstCaseResult("unknown", q, None, (), None, None, method, reason, space.size,
                               time.perf_counter() - t0)
    delta = recheck(net, x, cs)
    return WorstCaseResult(status, q, tuple(cs), (), delta, _abs_max([delta[k] for k in outs]), method, reason,
                           space.size, time.perf_counter() - t0)
