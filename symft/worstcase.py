r"""The exact worst case over crash sets: SMT (Z3), SAT (PB encodings) and vectorized brute force.

THEORY §7, "Exact worst case": Forward Error Propagation (:mod:`symft.fep`)
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
    A crash set doing it, **re-checked by an exact forward pass**
    (:func:`symft.forward.forward` with ``exact=True``; for smooth
    activations the exact closed form is evaluated with 50 digits).  For
    :func:`worst_case`, ``found`` means a crash set whose ``|Δ|`` is a lower
    bound on the maximum that could not be proved optimal in time.
``"unknown"``
    With the reason (timeout, resource limit).  *Unknown is never safe.*

Back ends (``method``):

``"smt"`` — Z3 over exact rationals (floats from a file are converted to
    the binary rationals they hold by :meth:`~symft.network.Network.weights_exact`),
    for piecewise-linear activations (``linear``, ``relu``, ``hardtanh``,
    ``ramp``, ``step`` and their scaled forms), each encoded from
    :attr:`~symft.activations.Activation.pieces` as an if-then-else chain;
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
    (python-sat ``PBEnc``), the crash budget by a cardinality encoding.
``"brute-force"`` — :func:`symft.forward.forward_masked` over every crash set
    of size ``≤ f`` at once (float64, chunked), followed by the exact
    re-check of every crash set within a safety margin of the decision (see
    :func:`_margin`); the only method for smooth activations (sigmoid, tanh).
``"auto"`` — brute force when the number of crash sets times the cost of a
    forward pass is below :data:`BRUTE_FORCE_BUDGET` flops (or when the
    activations are not piecewise linear), else SMT (or SAT for threshold
    networks).  The result says which method answered.

Examples
--------
>>> from symft.network import Network
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
from itertools import combinations
from math import comb
from numbers import Integral, Real

import numpy as np
import sympy as sp

from .errors import InvalidArgument, TooLargeError
from .faults import CrashPattern
from .forward import as_inputs, forward, forward_masked, forward_trace
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
    >>> from symft.network import mean_network
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
        >>> from symft.network import mean_network
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
    >>> from symft.network import random_network
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
        >>> from symft.network import mean_network
        >>> crash_space(mean_network(2), 1, layers=[0]).neurons
        [(0, 0), (0, 1)]
        """
        return [(l, i) for l, n in zip(self.layers, self.widths) for i in range(n)]

    @property
    def size(self) -> int:
        """Number of crash sets (including the empty one).

        Examples
        --------
        >>> from symft.network import mean_network
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
        >>> from symft.network import mean_network
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
        >>> from symft.network import mean_network
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
    >>> from symft.network import mean_network
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
    return np.array([float(v) for v in _exact_input(net, x)])


def _fast_delta(net, xs, cs, layers_exact):
    """Exact Δ_out of a crash set with Fractions (piecewise-linear nets, output_zero crashes)."""
    Ws, bs = layers_exact
    crashed = {}
    for l, i in cs:
        crashed.setdefault(l, set()).add(i)

    def run(dead):
        y = [Fraction(0) if i in dead.get(0, ()) else v for i, v in enumerate(xs)]
        for l in range(1, net.depth + 1):
            act = net.activation(l)
            W, b = Ws[l - 1], bs[l - 1]
            y = [_pwl_apply(act, sum((w * v for w, v in zip(W[i], y) if w and v), Fraction(0)) + b[i])
                 for i in range(len(W))]
            if l in dead:
                y = [Fraction(0) if i in dead[l] else v for i, v in enumerate(y)]
        return y

    return [a - b for a, b in zip(run(crashed), run({}))]


def _frac(v):
    if isinstance(v, Fraction):
        return v
    v = sp.Rational(v) if isinstance(v, sp.Float) else sp.sympify(v)
    return Fraction(int(v.p), int(v.q))


def _exact_layers(net):
    """Weights and biases as lists of Fractions (exact)."""
    Ws, bs = [], []
    for l in range(1, net.depth + 1):
        W = net.weights_exact(l)
        if W.free_symbols or net.bias_exact(l).free_symbols:
            raise InvalidArgument(f"net: layer {l} has symbolic weights; substitute values first (net.subs)")
        Ws.append([[_frac(W[i, j]) for j in range(W.shape[1])] for i in range(W.shape[0])])
        b = net.bias_exact(l)
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

    Piecewise-linear networks: exact, with :func:`symft.forward.forward`
    (``exact=True``, SymPy rationals).  Other activations (sigmoid, tanh, …):
    the exact network (floats read as the binary rationals they hold)
    evaluated in 60-digit mpmath arithmetic, returned as SymPy Floats of 50
    digits — exact closed forms of nested exponentials would be huge, and 50
    correct digits decide every comparison symft makes unless two values
    agree to 50 digits.

    Examples
    --------
    >>> from symft.network import mean_network
    >>> recheck(mean_network(2), [1, 3], [(0, 1)])
    (-3/2,)
    """
    if not _is_pwl(net):
        return _recheck_mp(net, x, crash_set, values)
    pat = CrashPattern(crash_set, values=tuple((k, _to_sympy(v)) for k, v in dict(values).items()))
    xe = [_to_sympy(v) for v in _exact_input(net, x)]
    faulty = forward(net, xe, pat, exact=True)
    clean = forward(net, xe, exact=True)
    return tuple((a - b) if (a - b).is_Rational else sp.simplify(a - b) for a, b in zip(faulty, clean))


def _recheck_mp(net, x, crash_set, values=()):
    import mpmath

    from .activations import S

    ctx = mpmath.mp.clone()
    ctx.dps = 60
    xs = [ctx.mpf(v.numerator) / v.denominator for v in _exact_input(net, x)]
    Ws, bs = _exact_layers(net)
    Wm = [[[ctx.mpf(w.numerator) / w.denominator for w in row] for row in W] for W in Ws]
    bm = [[ctx.mpf(v.numerator) / v.denominator for v in b] for b in bs]
    fns = [sp.lambdify(S, net.activation(l).expr, modules=[{"exp": ctx.exp, "tanh": ctx.tanh, "log": ctx.log},
                                                           "mpmath"]) for l in range(1, net.depth + 1)]
    sent = {k: ctx.mpf(Fraction(v).numerator) / Fraction(v).denominator for k, v in dict(values).items()}
    dead = {}
    for l, i in crash_set:
        dead.setdefault(l, set()).add(i)

    def run(dead):
        y = [sent.get((0, i), 0) if i in dead.get(0, ()) else v for i, v in enumerate(xs)]
        for l in range(1, net.depth + 1):
            y = [fns[l - 1](ctx.fsum(w * v for w, v in zip(Wm[l - 1][i], y)) + bm[l - 1][i])
                 for i in range(len(Wm[l - 1]))]
            if l in dead:
                y = [sent.get((l, i), ctx.mpf(0)) if i in dead[l] else v for i, v in enumerate(y)]
        return y

    return tuple(sp.Float(str(a - b), 50) for a, b in zip(run(dead), run({})))


def _abs_max(delta):
    vals = [sp.Abs(d) for d in delta]
    if all(v.is_Rational for v in vals):
        return max(vals)
    return max(vals, key=lambda v: float(v.evalf(50)))


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
    >>> from symft.network import random_network
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


# ---------------------------------------------------------------------- brute force

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


def _margin(net, x, scale):
    r"""Safety margin for float64 decisions in brute force.

    Every crash set whose float64 value is within this margin of the
    decision (the threshold ε, the float maximum, a class tie) is re-checked
    exactly, so float rounding can never change an answer.  The float64
    error of one forward pass is at most about ``n·u`` relative per layer
    (``u = 2^-53``, ``n`` the widest fan-in) times the product of the
    layer norms; we use ``1e-7 · (1 + scale)``, which exceeds that by many
    orders of magnitude for every network this module accepts (fan-in
    ``< 10^6``, depth ``< 50``, ``Π‖W‖ < 10^4``).
    """
    return 1e-7 * (1.0 + scale)


def _brute_exists(net, x, space, outputs, eps, kind, force):
    """Brute force for |Δ| ≥ ε (kind='eps') or class change (kind='class')."""
    clean = forward(net, _float_input(net, x))
    scale = float(np.max(np.abs(clean))) + float(eps or 0)
    tol = _margin(net, x, scale)
    kstar = int(np.argmax(clean))
    best = None
    pwl = _is_pwl(net)
    if pwl:
        xs, lay = _exact_input(net, x), _exact_layers(net)
    for sets, out in _brute_outputs(net, x, space, label="worst case (brute force)", force=force):
        if kind == "eps":
            d = np.max(np.abs(out[:, outputs] - clean[outputs]), axis=1)
            cand = np.flatnonzero(d >= float(eps) - tol)
            order = cand[np.argsort(-d[cand])]
        else:
            gap = out[:, kstar][:, None] - out  # > 0: k* still beats j (j < k* wins ties, j > k* must be strict)
            gap[:, kstar] = np.inf
            m = np.min(gap, axis=1)
            cand = np.flatnonzero(m <= tol)
            order = cand[np.argsort(m[cand])]
        for p in order:
            cs = sets[p]
            if kind == "eps" and pwl:
                d = _fast_delta(net, xs, cs, lay)
                if not any(abs(d[k]) >= eps for k in outputs):
                    continue
            delta = recheck(net, x, cs)
            if kind == "eps":
                ok = any(_ge(sp.Abs(delta[k]), _to_sympy(eps)) for k in outputs)
            else:
                ok = _class_changed(net, x, cs)
            if ok:
                best = (cs, delta)
                break
        if best:
            break
    return best


def _class_changed(net, x, cs, values=()):
    if _is_pwl(net):
        xe = [_to_sympy(v) for v in _exact_input(net, x)]
        pat = CrashPattern(cs, values=tuple((k, _to_sympy(v)) for k, v in dict(values).items()))
        clean = list(forward(net, xe, exact=True))
        faulty = list(forward(net, xe, pat, exact=True))
    else:  # 60-digit evaluation: outputs = clean + Δ
        import mpmath

        clean = [sp.Float(str(v), 50) for v in _clean_mp(net, x)]
        faulty = [c + d for c, d in zip(clean, _recheck_mp(net, x, cs, values))]

    def argmax(vals):
        best = 0
        for j in range(1, len(vals)):
            if not _ge(vals[best], vals[j]):  # strictly larger → new argmax (first index wins ties)
                best = j
        return best

    return argmax(clean) != argmax(faulty)


def _clean_mp(net, x):
    import mpmath

    from .activations import S

    ctx = mpmath.mp.clone()
    ctx.dps = 60
    y = [ctx.mpf(v.numerator) / v.denominator for v in _exact_input(net, x)]
    Ws, bs = _exact_layers(net)
    for l in range(1, net.depth + 1):
        fn = sp.lambdify(S, net.activation(l).expr, modules=[{"exp": ctx.exp, "tanh": ctx.tanh, "log": ctx.log},
                                                             "mpmath"])
        y = [fn(ctx.fsum((ctx.mpf(w.numerator) / w.denominator) * v for w, v in zip(row, y))
                + ctx.mpf(b.numerator) / b.denominator) for row, b in zip(Ws[l - 1], bs[l - 1])]
    return y


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
    """SAT: is there a crash set with Σ_k |Δ_k| ≥ threshold for some k? Returns (status, crash_set)."""
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

def _question(space, what):
    return f"{what} with {space.describe()}"


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
    >>> from symft.network import mean_network
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
    what = f"|Δ_out{'' if output is None else f'[{output}]'}| ≥ {eps}" + (f", Byzantine C = {byz}" if byz is not None else "")
    q = _question(space, what)
    method, why, tag = _resolve_method(net, space, method, byz)
    if method == "brute-force":
        hit = _brute_exists(net, x, space, outs, eps, "eps", force)
        if hit:
            cs, delta = hit
            return WorstCaseResult("found", q, cs, (), delta, _abs_max(delta), "brute-force" + tag,
                                   f"re-checked exactly; {why}", space.size, time.perf_counter() - t0)
        return WorstCaseResult("proved", q, None, (), None, None, "brute-force" + tag,
                               f"all {space.size} crash sets evaluated (near-threshold ones exactly); {why}",
                               space.size, time.perf_counter() - t0)
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
    r = s.check()
    if r == z3.sat:
        cs, vals = m.crash_set(s.model())
        return _finish(net, x, q, "found", cs, vals, "smt:z3" + tag, space, t0, eps, outs, why)
    if r == z3.unsat:
        return WorstCaseResult("proved", q, None, (), None, None, "smt:z3" + tag, "z3: unsat", space.size,
                               time.perf_counter() - t0)
    return WorstCaseResult("unknown", q, None, (), None, None, "smt:z3" + tag,
                           f"z3: {s.reason_unknown()}" + (f" (timeout {timeout} s)" if timeout is not None else ""),
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
    >>> from symft.network import Network
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
    q = _question(space, "predicted class changes" + (f", Byzantine C = {byz}" if byz is not None else ""))
    method, why, tag = _resolve_method(net, space, method, byz)
    if method == "sat" and tag:
        method, why = "smt", why + " (class change: SMT)"
    if net.n_outputs < 2:
        raise InvalidArgument("net: class change needs at least two outputs")
    if method == "brute-force":
        hit = _brute_exists(net, x, space, None, None, "class", force)
        if hit:
            cs, delta = hit
            return WorstCaseResult("found", q, cs, (), delta, _abs_max(delta), "brute-force" + tag,
                                   f"re-checked exactly; {why}", space.size, time.perf_counter() - t0)
        return WorstCaseResult("proved", q, None, (), None, None, "brute-force" + tag,
                               f"all {space.size} crash sets evaluated (near-ties exactly); {why}",
                               space.size, time.perf_counter() - t0)
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
    r = s.check()
    if r == z3.sat:
        cs, vals = m.crash_set(s.model())
        if not _class_changed(net, x, cs, vals):  # pragma: no cover - encoding bug
            raise RuntimeError(f"smt: crash set {cs} does not change the class on re-check")
        delta = recheck(net, x, cs, vals)
        return WorstCaseResult("found", q, cs, vals, delta, _abs_max(delta), "smt:z3" + tag,
                               f"re-checked exactly; {why}", space.size, time.perf_counter() - t0)
    status = "proved" if r == z3.unsat else "unknown"
    reason = "z3: unsat" if r == z3.unsat else f"z3: {s.reason_unknown()}" + (
        f" (timeout {timeout} s)" if timeout is not None else "")
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
    maximum; brute force evaluates every crash set and re-checks exactly
    every one within the float safety margin of the maximum.

    Returns ``status="proved"`` with the exact maximum ``worst_delta`` and a
    maximizing ``crash_set``; ``"found"`` with a lower bound when a timeout
    stopped the proof of optimality; ``"unknown"`` when nothing was found.

    Examples
    --------
    >>> from symft.network import random_network
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
                  + (f", Byzantine C = {byz}" if byz is not None else ""))
    method, why, tag = _resolve_method(net, space, method, byz)
    if method == "brute-force":
        clean = forward(net, _float_input(net, x))
        tol = _margin(net, x, float(np.max(np.abs(clean))))
        cands, fmax = [], -np.inf
        for sets, out in _brute_outputs(net, x, space, label="worst case (brute force)", force=force):
            d = np.max(np.abs(out[:, outs] - clean[outs]), axis=1)
            fmax = max(fmax, float(np.max(d)))
            cands = [c for c in cands if c[0] >= fmax - 2 * tol]
            cands += [(float(d[p]), sets[p]) for p in np.flatnonzero(d >= fmax - 2 * tol)]
        cands = [cs for v, cs in cands if v >= fmax - 2 * tol]
        # exact values of every candidate (Fractions when piecewise linear, else 50-digit SymPy)
        best, best_cs = None, None
        if _is_pwl(net):
            xs, lay = _exact_input(net, x), _exact_layers(net)
            for cs in cands:
                d = _fast_delta(net, xs, cs, lay)
                v = max(abs(d[k]) for k in outs)
                if best is None or v > best:
                    best, best_cs = v, cs
        else:
            for cs in cands:
                d = recheck(net, x, cs)
                v = max((sp.Abs(d[k]) for k in outs), key=lambda t: float(sp.N(t, 50)))
                if best is None or not _ge(best, v):
                    best, best_cs = v, cs
        best_delta = recheck(net, x, best_cs)
        best = _abs_max([best_delta[k] for k in outs])
        return WorstCaseResult("proved", q, tuple(best_cs), (), best_delta, best, "brute-force" + tag,
                               f"all {space.size} crash sets evaluated; the {len(cands)} within the float "
                               f"margin of the maximum re-checked exactly; {why}", space.size,
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
    deadline = None if timeout is None else time.perf_counter() + timeout
    best, best_cs, best_vals, best_delta = None, None, (), None
    rounds = 0
    s = None

    def above(T):
        """check |Δ| > T for some output; returns (z3 result, (cs, vals, delta, |Δ|) or None)."""
        nonlocal rounds, s
        s = z3.Solver(ctx=ctx)
        s.add(*m.constraints)
        if deadline is not None:
            left = deadline - time.perf_counter()
            if left <= 0:
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
        while hi is None and r == z3.sat:  # doubling: find an upper bound
            r, found = above(2 * lo)
            if r == z3.sat:
                best_cs, best_vals, best_delta, best = found
                lo = _frac(best)
            elif r == z3.unsat:
                hi = 2 * lo
        if r != z3.unsat:
            break
        while hi - lo > hi * Fraction(1, 10 ** 6):  # bisection
            mid = (lo + hi) / 2
            r, found = above(mid)
            if r == z3.sat:
                best_cs, best_vals, best_delta, best = found
                lo = _frac(best)
            elif r == z3.unsat:
                hi = mid
            else:
                break
        if r == z3.unknown:
            break
        r, found = above(lo)  # strict: unsat proves lo (an exact |Δ| of a crash set) optimal
    if r == z3.unsat and best is not None:
        return WorstCaseResult("proved", q, best_cs, best_vals, best_delta, best, "smt:z3" + tag,
                               f"z3: {rounds} decision queries (doubling, bisection, then unsat above the "
                               f"maximum); re-checked exactly; {why}", space.size, time.perf_counter() - t0)
    reason = f"z3: {s.reason_unknown() if r == z3.unknown else r}" + (
        f" (timeout {timeout} s)" if timeout is not None else "")
    if best is not None:
        return WorstCaseResult("found", q, best_cs, best_vals, best_delta, best, "smt:z3" + tag,
                               f"{reason}: best crash set found so far (a lower bound, not proved optimal); "
                               f"re-checked exactly", space.size, time.perf_counter() - t0)
    return WorstCaseResult("unknown", q, None, (), None, None, "smt:z3" + tag, reason, space.size,
                           time.perf_counter() - t0)


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
    reason = f"z3 Optimize: {opt.reason_unknown()}" + (f" (timeout {timeout} s)" if timeout is not None else "")
    return WorstCaseResult("unknown", q, None, (), None, None, "smt:z3" + tag, reason, space.size,
                           time.perf_counter() - t0)


def _sat_worst(net, x, space, outs, q, solver, timeout, t0, why, tag):
    reason = _sat_applicable(net, space)
    if reason:
        raise InvalidArgument(reason)
    method = f"sat:{solver}" + tag
    # |Δ| is an integer here; bound it by Σ |W_L| (every hidden output is 0/1) and binary-search.
    W = net.weights_exact(net.depth)
    hi = int(max(sum(abs(W[k, j]) for j in range(W.shape[1])) for k in outs)) + 1  # no |Δ| ≥ hi
    lo, best_cs = 0, ()
    deadline = None if timeout is None else time.perf_counter() + timeout
    while hi - lo > 1:
        mid = (lo + hi) // 2
        left = None if deadline is None else deadline - time.perf_counter()
        if left is not None and left <= 0:
            status = "found" if lo > 0 else "unknown"
            return _sat_result(net, x, q, status, best_cs, method, space, t0, "timeout during binary search")
        status, cs = _sat_solve(net, x, space, outs, Fraction(mid), solver, left)
        if status == "unknown":
            st = "found" if lo > 0 else "unknown"
            return _sat_result(net, x, q, st, best_cs, method, space, t0, "SAT timeout during binary search")
        if status == "found":
            d = recheck(net, x, cs)
            lo, best_cs = int(_abs_max([d[k] for k in outs])), cs
        else:
            hi = mid
    return _sat_result(net, x, q, "proved", best_cs, method, space, t0,
                       f"binary search: |Δ| ≥ {lo + 1} unsat; {why}")


def _sat_result(net, x, q, status, cs, method, space, t0, reason):
    if status == "unknown":
        return WorstCaseResult("unknown", q, None, (), None, None, method, reason, space.size,
                               time.perf_counter() - t0)
    delta = recheck(net, x, cs)
    return WorstCaseResult(status, q, tuple(cs), (), delta, _abs_max(delta), method, reason, space.size,
                           time.perf_counter() - t0)
