r"""Brute force over every crash set: a float64 pass of all of them, exact re-checks of the undecided ones.

The float64 outputs of every crash set come from
:func:`~symft.walk.configurations.walk_configurations` (one
:class:`~symft.walk.configurations.Stage` per crashable site and allocation
of the budget; shared prefixes, sparse updates of affine consumers).  A bound
on their float64 error is derived from the computation itself
(:func:`float_error`, the :class:`~symft.walk.floaterror.FloatErrorBound`
interpretation, on any DAG), and every crash set that this bound cannot
decide (near ``ε``, near the maximum, a class tie) is re-checked exactly
(:mod:`symft.worstcase.rechecks`: Fractions for piecewise-linear networks,
``mpmath.iv`` intervals otherwise).

Examples
--------
>>> from symft.graph.network import mean_network
>>> from symft.worstcase.space import crash_space
>>> brute_worst(mean_network(3), [1, 2, 3], crash_space(mean_network(3), 1, layers=[0]), [0], False)[:4]
('proved', ((0, 2),), (-1,), 1)
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import sympy as sp

from .. import cost
from ..errors import TooLargeError
from ..progress import progress
from ..threads import limit_blas
from ..walk.configurations import Stage, walk_configurations
from ..walk.floaterror import FloatErrorBound
from ..walk.numeric import Numeric
from ..walk.walker import walk
from .common import abs_max, exact_input, float_input, frac, ge, to_sympy
from .rechecks import PRECISIONS, ExactPWL, class_changed, exact_checker, recheck
from .space import allocations

__all__ = ["float_error", "brute_exists", "brute_worst", "brute_outputs", "brute_force_estimate", "MAX_BRUTE_FORCE"]

#: Brute force is refused above this many crash sets unless ``force=True``.
MAX_BRUTE_FORCE = 20_000_000

_REL = 2.0 ** -40
_TINY = 2.0 ** -1070


def float_error(net, x, space):
    r"""A bound ``E`` (one per output) on the float64 error of the brute-force outputs.

    For every crash set of ``space`` (and for none), the float64 output
    ``ỹ`` that brute force computes (and that
    :func:`symft.engines.forward.forward_masked` computes) and the exact
    output ``y`` of the network (floats read as the binary rationals they
    hold, the input exact) satisfy ``|ỹ − y| ≤ E``.  Returns ``(E, exact)``;
    ``exact`` when ``E = 0``.  The rules per op are those of
    :class:`~symft.walk.floaterror.FloatErrorBound`: magnitudes over every
    crash set at once, Higham's bound for every sum, Lipschitz constants and
    NumPy's accuracy for activations; 0 when the values are dyadic and every
    partial sum is representable; ``inf`` for activations without a known
    float model (every crash set is then re-checked exactly).

    Examples
    --------
    >>> from symft.graph.network import Network
    >>> from symft.worstcase.space import crash_space
    >>> net = Network.from_numpy([[[1.0, 0.5]], [[2.0]]], [[0.0], [0.0]], ["relu", "linear"])
    >>> float_error(net, [1, 2], crash_space(net, 1, layers=[0, 1]))
    (array([0.]), True)
    """
    xs = exact_input(net, x)
    interp = FloatErrorBound(net, space.sites, order=space.max_crashes, x=xs)
    err = np.asarray(walk(net, interp, None, keep=False)[2], dtype=float).reshape(-1)
    if not np.all(np.isfinite(err)):
        return np.full(net.n_outputs, np.inf), False
    return err, not err.any()


class _Block:
    """Float outputs of a block of crash sets of one allocation, and how to name each crash set."""

    def __init__(self, out, choice, stages):
        self.out = out
        self.choice = choice
        self.stages = stages  # [(key, combos)]

    def __len__(self):
        return self.out.shape[0]

    def set(self, p):
        cs = []
        for j, (key, combos) in enumerate(self.stages):
            cs.extend((key, int(i)) for i in combos[self.choice[p, j]])
        return tuple(cs)


def brute_force_estimate(net, space):
    """The predicted time (:class:`symft.cost.Estimate`, path ``"brute_force"``) of evaluating every crash set.

    Crash sets × (the multiply-adds downstream of the crash sites + 100).

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> from symft.worstcase.space import crash_space
    >>> brute_force_estimate(mean_network(4), crash_space(mean_network(4), 2, layers=[0])).basis
    '11 crash sets'
    """
    from ..engines.enumeration import CONFIGURATION_MACS, node_cost

    macs = sum(node_cost(net.node(n)) for n in net.downstream(list(space.sites)))
    return cost.estimate("brute_force", int(space.size) * (macs + CONFIGURATION_MACS),
                         f"{cost.format_count(space.size)} crash sets")


def brute_outputs(net, x, space, *, label="worst case (brute force)", force=False):
    """Yield blocks of ``(P, n_out)`` float64 outputs over the whole space (``block.set(p)`` names row ``p``).

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> from symft.worstcase.space import crash_space
    >>> [b.out.ravel().tolist() for b in brute_outputs(mean_network(2), [1, 3], crash_space(mean_network(2), 1,
    ...                                                                                 layers=[0]))]
    [[2.0], [1.5, 0.5]]
    """
    if space.size > MAX_BRUTE_FORCE and not force:
        raise TooLargeError(f"brute force: {space.size} crash sets exceed {MAX_BRUTE_FORCE}; "
                            f"pass force=True or use method='smt'")
    if not force:
        cost.check(brute_force_estimate(net, space), "brute force",
                   "use fewer crashes (--max-crashes) or sites (--sites), --method smt (bounded by a timeout; "
                   "unknown is never safe), or force=True / --force")
    X = float_input(net, x).reshape((1,) + tuple(net.input_shape))
    interp = Numeric(net)
    clean = walk(net, interp, X)
    with progress(space.size, label, enabled=None if space.size > 200000 else False) as bar:
        for ks, count in allocations(space):
            stages, named = [], []
            for key, site, n, k in zip(space.layers, space.sites, space.widths, ks):
                if k == 0:
                    continue
                combos = np.array(list(combinations(range(n), k)), dtype=np.int64).reshape(-1, k)
                stages.append(Stage(site, crash=np.zeros(n), combos=combos))
                named.append((key, combos))
            if not stages:
                yield _Block(np.asarray(clean[net.output]).reshape(1, -1), np.zeros((1, 0), np.int64), [])
                bar.update(1)
                continue
            for Y, choice in walk_configurations(net, clean, stages, interp):
                yield _Block(Y, choice, named)
                bar.update(Y.shape[0])


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


@limit_blas
def brute_exists(net, x, space, outputs, eps, kind, force):
    """Brute force for ``|Δ| ≥ ε`` (``kind="eps"``) or a class change (``kind="class"``).

    Returns ``(status, crash_set, delta, note)``: ``"found"`` with a
    re-checked crash set, ``"proved"`` when none exists, ``"unknown"`` when
    some crash set could not be decided (a tie to 1000 digits).

    Examples
    --------
    >>> from fractions import Fraction
    >>> from symft.graph.network import mean_network
    >>> from symft.worstcase.space import crash_space
    >>> net = mean_network(2)
    >>> brute_exists(net, [1, 3], crash_space(net, 1, layers=[0]), [0], Fraction(1), "eps", False)[:3]
    ('found', ((0, 1),), (-3/2,))
    """
    E, exact_float = float_error(net, x, space)
    ex = None
    note = _margin_note(E, exact_float, outputs if kind == "eps" else list(range(net.n_outputs)))
    if kind == "class":
        ex = exact_checker(net, x)
        kstar = ex.clean_class()
        if kstar is None:
            return "unknown", None, None, "the fault-free outputs tie to 1000 digits: the class is undecided"
    else:
        X = float_input(net, x).reshape((1,) + tuple(net.input_shape))
        clean = np.asarray(walk(net, Numeric(net), X, keep=False)).reshape(-1)
        t_eps = _float_eps(eps)
    checked = undecided = 0
    for block in brute_outputs(net, x, space, force=force):
        out = block.out
        if kind == "eps":
            _, up = _delta_bounds(np.abs(out[:, outputs] - clean[outputs]), E[outputs])
            up = np.max(up, axis=1)
            cand = np.flatnonzero(up >= t_eps)
            order = cand[np.argsort(-up[cand], kind="stable")]
        else:
            # a lower bound of the exact gap y_k* − y_j; the class can change only where it is ≤ 0
            with np.errstate(all="ignore"):
                gap = out[:, [kstar]] - out
                low = gap - np.abs(gap) * _REL - ((E[kstar] + E) * (1 + _REL) + _TINY)
            low[:, kstar] = np.inf
            low = np.where(np.isnan(low), -np.inf, low)
            m = np.min(low, axis=1)
            cand = np.flatnonzero(m <= 0)
            order = cand[np.argsort(m[cand], kind="stable")]
        for p in order:
            cs = block.set(p)
            checked += 1
            ex = ex or exact_checker(net, x)
            ok = ex.reaches(cs, eps, outputs) if kind == "eps" else ex.changes_class(cs, kstar)
            if ok is None:
                undecided += 1
            elif ok:
                if isinstance(ex, ExactPWL):  # independent exact forward pass (SymPy)
                    delta = recheck(net, x, cs)
                    if kind == "eps" and not any(ge(sp.Abs(delta[k]), to_sympy(eps)) for k in outputs) or \
                            kind == "class" and not class_changed(net, x, cs):  # pragma: no cover
                        raise RuntimeError(f"brute force: crash set {cs} does not re-check")
                else:
                    delta = ex.values(cs)
                return "found", cs, delta, note
    note += f"; {checked} crash set{'s' if checked != 1 else ''} near the decision re-checked exactly"
    if undecided:
        return "unknown", None, None, (f"{undecided} crash set{'s' if undecided != 1 else ''} could not be decided: "
                                       f"the values tie to 1000 digits; {note}")
    return "proved", None, None, note


@limit_blas
def brute_worst(net, x, space, outs, force):
    """Brute force for the exact ``max |Δ|``: ``(status, crash_set, delta, worst, note)``.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> from symft.worstcase.space import crash_space
    >>> net = mean_network(2)
    >>> brute_worst(net, [1, 3], crash_space(net, 2, layers=[0]), [0], False)[:4]
    ('proved', ((0, 0), (0, 1)), (-2,), 2)
    """
    E, exact_float = float_error(net, x, space)
    X = float_input(net, x).reshape((1,) + tuple(net.input_shape))
    clean = np.asarray(walk(net, Numeric(net), X, keep=False)).reshape(-1)
    cands, best_lo = [], -np.inf
    for block in brute_outputs(net, x, space, force=force):
        lo, up = _delta_bounds(np.abs(block.out[:, outs] - clean[outs]), E[outs])
        lo, up = np.max(lo, axis=1), np.max(up, axis=1)
        best_lo = max(best_lo, float(np.max(lo)))
        cands = [c for c in cands if c[0] >= best_lo]
        cands += [(float(up[p]), block.set(p)) for p in np.flatnonzero(up >= best_lo)]
    cands = [cs for u, cs in cands if u >= best_lo]
    note = _margin_note(E, exact_float, outs)
    note += f"; the {len(cands)} crash set{'s' if len(cands) != 1 else ''} within it of the maximum re-checked exactly"
    ex = exact_checker(net, x)
    if isinstance(ex, ExactPWL):
        best, best_cs = None, None
        for cs, y in zip(cands, ex.outputs_many(cands)):
            v = max(abs(y[k] - ex.clean[k]) for k in outs)
            if best is None or v > best:
                best, best_cs = v, cs
        delta = recheck(net, x, best_cs)
        worst = abs_max([delta[k] for k in outs])
        if frac(worst) != best:  # pragma: no cover - the two exact evaluations disagree
            raise RuntimeError(f"brute force: |Δ| of {best_cs} is {best} and {worst}")
        return "proved", best_cs, delta, worst, note
    # smooth: enclosures of every candidate, refined until the maximum is fixed to 50 digits
    from functools import cmp_to_key

    from mpmath.libmp import from_str, mpf_cmp, mpf_le, mpf_mul, mpf_sub

    from ..walk.mpinterval import iv_lt, raw_max

    encl = {}
    tol = from_str("1e-51", 64, "d")
    for prec in PRECISIONS:
        ctx = ex.state(prec)[0]
        for cs in cands:
            v = ex.abs_max(cs, outs, prec)
            if cs in encl:  # keep the intersection of the enclosures
                a0, b0 = encl[cs]._mpi_
                a1, b1 = v._mpi_
                v = ctx.make_mpf((raw_max(a0, a1), b1 if mpf_le(b1, b0) else b0))
            encl[cs] = v
        L = max((encl[cs]._mpi_[0] for cs in cands), key=cmp_to_key(mpf_cmp))
        Lv = ctx.make_mpf((L, L))
        cands = [cs for cs in cands if not iv_lt(encl[cs], Lv)]  # contenders: hi ≥ L
        H = encl[cands[0]]._mpi_[1]
        for cs in cands[1:]:
            H = raw_max(H, encl[cs]._mpi_[1])
        best_cs = max(cands, key=lambda cs: cmp_to_key(mpf_cmp)(encl[cs]._mpi_[0]))
        if mpf_le(mpf_sub(H, L, prec, "u"), mpf_mul(L, tol, prec, "f")):
            delta = ex.values(best_cs)
            return "proved", best_cs, delta, abs_max([delta[k] for k in outs]), note
    return "unknown", best_cs, None, None, (f"the maximum could not be fixed to 50 digits with {PRECISIONS[-1]} "
                                            f"bits; {note}")
