r"""The exact worst case over crash sets: SMT (Z3), SAT (PB encodings) and vectorized brute force.

theory §7, "Exact worst case": Forward Error Propagation (:mod:`symft.analysis.fep`)
is a bound; the exact ``max_{crash sets} |Δ|`` is a combinatorial search.
This package answers three questions about one input ``x``, on any network
graph (chains, residual connections, convolutions, pooling):

* :func:`exists_crash` — is there a crash set with at most ``f`` crashes (in
  total, and optionally at most ``f_s`` per site) such that
  ``|Δ_out| ≥ ε`` (for one output component or any)?
* :func:`class_change` — … such that the predicted class (``argmax``, first
  index on ties, as NumPy) changes?
* :func:`worst_case` — the exact ``max |Δ_out|`` over such crash sets.

Crash sets address named sites (:mod:`symft.worstcase.space`): any
activation site, the input and the output — layer numbers for a chain, site
names (or positions) for any graph; a crash set is a tuple of
``(site, index)`` with the neuron's row-major index.

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

Back ends (``method``), one module each, all walking the network through
:func:`symft.walk.walker.walk` with an interpretation:

``"smt"`` (:mod:`symft.worstcase.smt`) — Z3 over exact rationals (floats
    from a file are the binary rationals they hold), for piecewise-linear
    activations (``linear``, ``relu``, ``hardtanh``, ``ramp``, ``step``,
    their scaled forms, …), each encoded from
    :attr:`~symft.graph.activations.Activation.pieces` as an if-then-else
    chain (:class:`symft.walk.smt.Z3Terms`); affine ops (dense,
    convolution, pooling, batch norm, add) as exact affine maps, max pooling
    via ``If``; a crash variable ``c`` per candidate neuron,
    ``ŷ = If(c, 0, φ(z))``; Byzantine neurons send a free real
    ``v ∈ [−C, C]`` (``ŷ = If(c, v, φ(z))``).  :func:`worst_case` maximizes
    by bisection on the decision query "is there a crash set with
    ``|Δ| > T``?" (each *sat* model re-checked exactly and raising the lower
    bound to its exact value; doubling, then bisection to 1e-6 relative,
    then a strict query above the best whose *unsat* proves it optimal),
    each query on a fresh solver; with Byzantine values (free reals) it uses
    ``z3.Optimize``.
``"sat"`` (:mod:`symft.worstcase.sat`) — threshold networks (``step``
    hidden activations, linear output) with integer weights and biases:
    every neuron is a Boolean, each one defined by two pseudo-boolean
    constraints with a big-M selector (python-sat ``PBEnc``,
    :class:`symft.walk.pb.PBForms`), the crash budget by a cardinality
    encoding; crashes at every crashable site are encoded (inputs, hidden,
    output).
``"brute-force"`` (:mod:`symft.worstcase.brute_force`) — every crash set
    of size ``≤ f`` in float64 (:func:`symft.walk.configurations.walk_configurations`).
    A bound on the float64 error of every crash set's output is derived
    from the computation itself (the magnitudes summed, op by op on any DAG;
    0 when the values are dyadic and every sum is representable, see
    :func:`symft.worstcase.brute_force.float_error`), and every crash set
    that this bound cannot decide (near ``ε``, the maximum, a class tie) is
    re-checked exactly (Fractions, or interval arithmetic for smooth
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
>>> from symft.graph.netfile import load_network
>>> res = load_network("tests/data/residual_mlp.json")
>>> a = worst_case(res, [1, 0, -1, 2], max_crashes=2, layers=["h1", "h2"], method="smt")
>>> b = worst_case(res, [1, 0, -1, 2], max_crashes=2, layers=["h1", "h2"], method="brute-force")
>>> a.worst_delta == b.worst_delta
True
"""

from __future__ import annotations

import time

import sympy as sp

from ..errors import InvalidArgument
from .brute_force import MAX_BRUTE_FORCE, brute_exists, brute_worst
from .common import (
    METHODS, WorstCaseResult, abs_max, check_byz, check_eps, check_method, check_output, check_timeout, ge,
    is_pwl, show, to_sympy,
)
from .rechecks import recheck
from .sat import sat_applicable, sat_solve, sat_worst
from .smt import smt_class_change, smt_exists, smt_worst
from .space import CrashSpace, crash_space

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
    "MAX_BRUTE_FORCE",
]

#: "auto" picks brute force when (number of crash sets) × (flops of one forward pass) is below this.
BRUTE_FORCE_BUDGET = 2e9


def _flops(net, space):
    """Flops of one forward pass from the earliest crashable site on (2 per multiply-add)."""
    down = set(net.downstream(space.sites))
    total = 0
    for name in net.order:
        node = net.node(name)
        if name in down and node.op.affine:
            total += node.op.fan_in(node.in_shapes) * node.size
    return total * 2 + 1


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
        if not is_pwl(net):
            raise InvalidArgument("byzantine: the SMT back end needs piecewise-linear activations")
        return "smt", "Byzantine values are free reals: SMT"
    for n in net.activation_nodes:
        a = n.op.act
        if not a.is_piecewise_linear:
            return "brute-force", f"activation {a.name} is not piecewise linear: brute force is the only exact method"
    fl = _flops(net, space)
    cost = space.size * fl
    if cost <= BRUTE_FORCE_BUDGET:
        return "brute-force", (f"{space.size} crash sets × {fl} flops ≤ "
                               f"{BRUTE_FORCE_BUDGET:.0e}: brute force is cheaper")
    if sat_applicable(net, space) is None:
        return "sat", f"{space.size} crash sets; threshold network with integer weights: SAT"
    return "smt", f"{space.size} crash sets × {fl} flops > {BRUTE_FORCE_BUDGET:.0e}: SMT"


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


def _question(space, what):
    return f"{what} with {space.describe()}"


def _brute_result(net, x, q, space, outs, eps, kind, force, tag, why, t0):
    status, cs, delta, note = brute_exists(net, x, space, outs, eps, kind, force)
    if status == "found":
        return WorstCaseResult("found", q, cs, (), delta, abs_max(delta), "brute-force" + tag,
                               f"re-checked exactly; {why}", space.size, time.perf_counter() - t0)
    reason = f"all {space.size} crash sets evaluated; {note}; {why}" if status == "proved" else f"{note}; {why}"
    return WorstCaseResult(status, q, None, (), None, None, "brute-force" + tag, reason, space.size,
                           time.perf_counter() - t0)


def _need_pwl(net):
    if not is_pwl(net):
        raise InvalidArgument("method='smt' needs piecewise-linear activations; use method='brute-force'")


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
        See :func:`crash_space` (site keys: layer numbers or site names).
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
    check_method(method)
    space = crash_space(net, max_crashes, layers, per_layer)
    eps = check_eps(epsilon)
    outs = check_output(net, output)
    byz = check_byz(byzantine)
    timeout = check_timeout(timeout)
    what = f"|Δ_out{'' if output is None else f'[{output}]'}| ≥ {show(eps)}" + (
        f", Byzantine C = {show(byz)}" if byz is not None else "")
    q = _question(space, what)
    method, why, tag = _resolve_method(net, space, method, byz)
    if method == "brute-force":
        return _brute_result(net, x, q, space, outs, eps, "eps", force, tag, why, t0)
    if method == "sat":
        if byz is not None:
            raise InvalidArgument("byzantine: the SAT back end handles crashes only; use method='smt'")
        reason = sat_applicable(net, space)
        if reason:
            raise InvalidArgument(reason)
        status, cs = sat_solve(net, x, space, outs, eps, sat_solver, timeout)
        m = f"sat:{sat_solver}" + tag
        return _finish(net, x, q, status, cs, (), m, space, t0, eps, outs,
                       "unsat: no crash set" if status == "proved" else "timeout" if status == "unknown" else why)
    _need_pwl(net)
    status, cs, vals, reason = smt_exists(net, x, space, outs, eps, byz, timeout)
    return _finish(net, x, q, status, cs, vals, "smt:z3" + tag, space, t0, eps, outs,
                   why if status == "found" else reason)


def _finish(net, x, q, status, cs, vals, method, space, t0, eps, outs, reason):
    if status != "found":
        return WorstCaseResult(status, q, None, (), None, None, method, reason, space.size,
                               time.perf_counter() - t0)
    delta = recheck(net, x, cs, vals)
    if not any(ge(sp.Abs(delta[k]), to_sympy(eps)) for k in outs):  # pragma: no cover - solver/encoding bug
        raise RuntimeError(f"{method}: crash set {cs} does not re-check (Δ = {delta}, ε = {eps})")
    return WorstCaseResult("found", q, cs, tuple(vals), delta, abs_max(delta), method,
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
    check_method(method)
    space = crash_space(net, max_crashes, layers, per_layer)
    byz = check_byz(byzantine)
    timeout = check_timeout(timeout)
    q = _question(space, "predicted class changes" + (f", Byzantine C = {show(byz)}" if byz is not None else ""))
    method, why, tag = _resolve_method(net, space, method, byz)
    if method == "sat" and tag:
        method, why = "smt", why + " (class change: SMT)"
    if net.n_outputs < 2:
        raise InvalidArgument("net: class change needs at least two outputs")
    if method == "brute-force":
        return _brute_result(net, x, q, space, None, None, "class", force, tag, why, t0)
    if method == "sat":
        raise InvalidArgument("method='sat' answers |Δ| ≥ ε questions only; use 'smt' or 'brute-force'")
    _need_pwl(net)
    status, cs, vals, delta, reason = smt_class_change(net, x, space, byz, timeout)
    if status == "found":
        return WorstCaseResult("found", q, cs, vals, delta, abs_max(delta), "smt:z3" + tag,
                               f"re-checked exactly; {why}", space.size, time.perf_counter() - t0)
    return WorstCaseResult(status, q, None, (), None, None, "smt:z3" + tag, reason, space.size,
                           time.perf_counter() - t0)


def worst_case(net, x, *, max_crashes: int, layers=None, per_layer=None, output=None, method: str = "auto",
               byzantine=None, timeout: float | None = None, sat_solver: str = "glucose4",
               force: bool = False) -> WorstCaseResult:
    r"""The exact worst case ``max |Δ_out|`` over crash sets of at most ``max_crashes`` neurons.

    ``|Δ_out|`` is ``max_k |Δ_k|`` over the output components (or the one
    chosen by ``output``).  SMT maximizes by bisection on decision queries
    (each *sat* re-checked exactly; the final strict *unsat* proves
    optimality); SAT (integer threshold networks) by binary search over the
    integer value of the maximum; brute force evaluates every crash set in
    float64 and re-checks exactly every one within the float64 error bound
    of the maximum.

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
    check_method(method)
    space = crash_space(net, max_crashes, layers, per_layer)
    outs = check_output(net, output)
    byz = check_byz(byzantine)
    timeout = check_timeout(timeout)
    q = _question(space, f"max |Δ_out{'' if output is None else f'[{output}]'}|"
                  + (f", Byzantine C = {show(byz)}" if byz is not None else ""))
    method, why, tag = _resolve_method(net, space, method, byz)
    if method == "brute-force":
        status, cs, delta, worst, note = brute_worst(net, x, space, outs, force)
        if status == "unknown":
            return WorstCaseResult("unknown", q, None, (), None, None, "brute-force" + tag, f"{note}; {why}",
                                   space.size, time.perf_counter() - t0)
        return WorstCaseResult("proved", q, cs, (), delta, worst, "brute-force" + tag,
                               f"all {space.size} crash sets evaluated; {note}; {why}", space.size,
                               time.perf_counter() - t0)
    if method == "sat":
        return sat_worst(net, x, space, outs, q, sat_solver, timeout, t0, why, tag)
    _need_pwl(net)
    return smt_worst(net, x, space, outs, byz, timeout, q, why, tag, t0)
