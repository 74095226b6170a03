r"""The SAT back end: threshold networks (``step`` hidden activations, linear output) with integer weights.

The crashed network is the :class:`~symft.walk.pb.PBForms` interpretation of
the walker: every step neuron is a Boolean defined by two pseudo-boolean
constraints with big-M selectors, a crash literal per neuron of every
crashable site (inputs, hidden sites; a crashed output sends 0, so
``Δ_k = −y_k``), the budget by a cardinality encoding; python-sat solves it
(:func:`symft.solvers.solve_clauses`, interruptible, with a timeout).  Any
DAG of affine ops (dense, add, …) between step activations is encoded;
max pooling and other activations are refused in one line.

Examples
--------
>>> from fractions import Fraction
>>> from symft.graph.network import Network
>>> from symft.worstcase.space import crash_space
>>> net = Network.from_sympy([[[1, 1], [1, -1]], [[1, 2]]], activations=["step", "linear"])
>>> sat_applicable(net, crash_space(net, 1)) is None
True
>>> sat_solve(net, [1, 0], crash_space(net, 1), [0], Fraction(1), "glucose4", None)
('found', ((1, 0),))
"""

from __future__ import annotations

import math
import time
from fractions import Fraction

import numpy as np

from ..errors import InvalidArgument
from ..solvers import solve_clauses
from ..walk.pb import PBForms
from ..walk.rational import Rational, as_fractions
from ..walk.walker import walk
from .common import WorstCaseResult, abs_max, exact_input
from .rechecks import recheck

__all__ = ["sat_applicable", "sat_solve", "sat_worst"]


def sat_applicable(net, space):
    """``None`` if the SAT back end applies, else the reason it does not (one line).

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> from symft.worstcase.space import crash_space
    >>> net = random_network([2, 2, 1], seed=0, activation="relu")
    >>> sat_applicable(net, crash_space(net, 1))
    "SAT back end: layer 1 has activation 'relu', not step"
    """
    acts = net.activation_nodes
    hidden = [n for n in acts if n.name != net.output]
    if not hidden:
        return "SAT back end: needs at least one hidden layer"
    for n in hidden:
        if n.op.act.name != "step":
            return f"SAT back end: {net.label(n.name)} has activation {n.op.act.name!r}, not step"
    out = net.node(net.output)
    if out.op.kind == "activation" and not out.op.act.is_linear:
        return "SAT back end: the output layer must be linear"
    down = set(net.downstream(space.sites))
    for name in net.order:
        node = net.node(name)
        if node.op.kind in ("input", "activation"):
            continue
        if not node.op.affine:
            return f"SAT back end: {node.op.kind} ops ({net.label(name)}) are not encoded"
        if name not in down or name in space.sites:
            continue
        P = node.op.params("fraction")
        for k in node.op.arrays:
            a = P.get(k)
            if a is not None and not all(v.denominator == 1 for v in np.asarray(a).ravel().tolist()):
                return f"SAT back end: {net.label(name)} has non-integer weights or biases"
    return None


def _encode(net, x, space, outputs, threshold):
    """The clauses of "some crash set has |Δ_k| ≥ threshold" and the crash literals."""
    from pysat.card import CardEnc, EncType as CEnc

    xs = exact_input(net, x)
    keys = {s: k for s, k in zip(space.sites, space.layers) if s != net.output}
    pbf = PBForms(net, xs, keys)
    out = walk(net, pbf, None, keep=False)
    X = as_fractions(np.array(xs, dtype=object).reshape((1,) + tuple(net.input_shape)))
    clean_out = list(np.asarray(walk(net, Rational(net), X, keep=False)).reshape(-1))
    crash = dict(pbf.crash)
    out_key = dict(zip(space.sites, space.layers)).get(net.output)
    sel = []
    for k in outputs:
        f = out[k]
        # Δ_k = S − base with S = Σ w·ℓ and base = clean_k − const:
        # Δ_k ≥ t ⇔ S ≥ ⌈base + t⌉, Δ_k ≤ −t ⇔ S ≤ ⌊base − t⌋
        base = clean_out[k] - f.const
        lits, ws = list(f.terms), list(f.terms.values())
        if any(w.denominator != 1 for w in ws):
            raise InvalidArgument("SAT back end: the output sums crashable values with non-integer weights; "
                                  "use method='smt'")
        lo = sum(min(0, int(w)) for w in ws)
        hi = sum(max(0, int(w)) for w in ws)
        need_up = math.ceil(base + threshold)
        need_dn = math.floor(base - threshold)
        up, down = pbf.new(), pbf.new()
        pbf.pb(lits + [-up], ws + [max(0, need_up - lo)], ">=", need_up, f"output {k}")
        pbf.pb(lits + [-down], ws + [-max(0, hi - need_dn)], "<=", need_dn, f"output {k}")
        sel += [up, down]
        if out_key is not None:
            # a crashed output sends 0: Δ_k = −y_k (a constant); the two sums above need it alive
            c = pbf.new()
            crash[(out_key, k)] = c
            pbf.clauses += [[-up, -c], [-down, -c]]
            if abs(clean_out[k]) >= threshold:
                sel.append(c)
    clauses = pbf.clauses
    clauses.append(sel)
    cl = list(crash.values())
    top = pbf.top
    if cl:
        card = CardEnc.atmost(lits=cl, bound=space.max_crashes, top_id=top, encoding=CEnc.seqcounter)
        top = max(top, card.nv)
        clauses.extend(card.clauses)
        for l, fl in space.per_layer:
            ll = [c for (lay, _), c in crash.items() if lay == l]
            card = CardEnc.atmost(lits=ll, bound=fl, top_id=top, encoding=CEnc.seqcounter)
            top = max(top, card.nv)
            clauses.extend(card.clauses)
    return clauses, crash, out, clean_out


def sat_solve(net, x, space, outputs, threshold, solver, timeout):
    """SAT: is there a crash set with ``|Δ_k| ≥ threshold`` for some output ``k``?  ``(status, crash_set)``.

    Examples
    --------
    >>> from symft.graph.network import Network
    >>> from symft.worstcase.space import crash_space
    >>> net = Network.from_sympy([[[1, 1], [1, -1]], [[1, 2]]], activations=["step", "linear"])
    >>> sat_solve(net, [1, 0], crash_space(net, 1), [0], Fraction(3), "glucose4", None)
    ('proved', None)
    """
    clauses, crash, _, _ = _encode(net, x, space, outputs, Fraction(threshold))
    if any(len(c) == 0 for c in clauses):
        return "proved", None
    r, model = solve_clauses(solver, clauses, timeout)
    if r is None:
        return "unknown", None
    if r is False:
        return "proved", None
    pos = set(v for v in model if v > 0)
    order = list(crash)
    return "found", tuple(sorted((k for k, c in crash.items() if c in pos), key=order.index))


def sat_worst(net, x, space, outs, q, solver, timeout, t0, why, tag):
    """The exact ``max |Δ|`` by binary search over its integer value.

    Examples
    --------
    >>> from symft.graph.network import Network
    >>> from symft.worstcase.space import crash_space
    >>> net = Network.from_sympy([[[1, 1], [1, -1]], [[1, 2]]], activations=["step", "linear"])
    >>> r = sat_worst(net, [1, 0], crash_space(net, 1), [0], "q", "glucose4", None, 0.0, "why", "")
    >>> r.status, r.worst_delta
    ('proved', 2)
    """
    reason = sat_applicable(net, space)
    if reason:
        raise InvalidArgument(reason)
    method = f"sat:{solver}" + tag
    # |Δ_k| is an integer here (integer weights on 0/1 values); bound it by the range of the output's
    # form (or, for a crashed output, by its fault-free value), and binary-search.
    _, _, out, clean_out = _encode(net, x, space, outs, Fraction(1))
    hi = 0
    for k in outs:
        f = out[k]
        if (clean_out[k] - f.const).denominator != 1:
            raise InvalidArgument("SAT back end: the output changes by non-integer amounts here; use method='smt'")
        s_lo = sum(min(0, w) for w in f.terms.values()) + f.const - clean_out[k]
        s_hi = sum(max(0, w) for w in f.terms.values()) + f.const - clean_out[k]
        hi = max(hi, abs(s_lo), abs(s_hi))
        if net.output in space.sites:
            hi = max(hi, abs(clean_out[k]))
    hi = int(math.floor(hi)) + 1  # no |Δ| ≥ hi
    lo, best_cs = 0, ()
    deadline = None if timeout is None else time.perf_counter() + timeout
    while hi - lo > 1:
        mid = (lo + hi) // 2
        left = None if deadline is None else deadline - time.perf_counter()
        if left is not None and left <= 0:
            status = "found" if lo > 0 else "unknown"
            return _sat_result(net, x, q, status, best_cs, outs, method, space, t0, "timeout during binary search")
        status, cs = sat_solve(net, x, space, outs, Fraction(mid), solver, left)
        if status == "unknown":
            st = "found" if lo > 0 else "unknown"
            return _sat_result(net, x, q, st, best_cs, outs, method, space, t0, "SAT timeout during binary search")
        if status == "found":
            d = recheck(net, x, cs)
            v = abs_max([d[k] for k in outs])
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
    return WorstCaseResult(status, q, tuple(cs), (), delta, abs_max([delta[k] for k in outs]), method, reason,
                           space.size, time.perf_counter() - t0)
