r"""Accuracy under crashes over a dataset: how often crashes change the answer, and how much accuracy is lost.

:func:`accuracy` takes a network, inputs ``X`` with labels ``y`` and a
failure model, and answers with a frozen :class:`AccuracyResult`:

* ``clean_accuracy`` — the fraction of inputs whose fault-free predicted class
  (the first maximal output) is the label: an exact count;
* ``accuracy_lo … accuracy_hi`` — the accuracy under crashes,
  ``(1/B) Σ_b P(class of the faulty network = y_b)``;
* ``change_lo … change_hi`` — ``(1/B) Σ_b P(class changes)``;

each aggregated exactly over the inputs (the mean of the per-input values or
intervals, summed in rationals and rounded outward) and labelled by how it
was obtained (``method``):

``"exact"``
    Every failure configuration was evaluated and every class decision
    proved: the values are exact rationals (rounded to float64 once).
``"rigorous"``
    The configurations with at most ``order`` failures were evaluated; the
    rest have the exactly known probability ``tail_probability``
    (:func:`symft.engines.stratified.crash_count_tail`), and since a
    probability lies in ``[0, 1]`` that mass is added to the upper end of
    the per-input intervals.  A class decision counts only when proved: the
    float64 margin between the top output and every other must exceed the
    sum of their proved forward-error bounds
    (:class:`symft.walk.errorbound.BoxAndError`, over every configuration);
    otherwise the configuration is re-evaluated in rationals when the
    network allows it (piecewise-linear activations), else its probability
    goes to ``undecided`` and widens the interval.
``"statistical"``
    Stratified Monte Carlo (:mod:`symft.engines.stratified`, the same draws
    for every input): the dataset means come from the per-draw averages over
    the inputs with stratum-wise empirical Bernstein intervals (Clopper–Pearson
    for one input) combined by the union bound, at level ``confidence``; the
    per-input intervals (and the per-class means built from them) are at level
    ``1 − (1 − confidence)/B`` each (Bonferroni over the inputs), so they hold
    simultaneously with probability ``confidence``.  The classes of the
    sampled configurations, and the fault-free class they are compared with,
    are the ones float64 computes; ``clean_accuracy`` is still the proved count.

``method="auto"`` (default) evaluates as many failures as ``max_configurations``
(configurations × inputs) allows and answers ``"exact"`` or ``"rigorous"``
when the interval is at most ``max_width`` wide, else ``"statistical"``.

The breakdown per class (by label) and the inputs most at risk (largest upper
bound on the probability of a change) come with the answer.

Examples
--------
>>> import numpy as np
>>> from symft.graph.network import Network
>>> from symft.faults import NeuronCrash
>>> net = Network.from_numpy([[[1.0, -1.0], [-1.0, 1.0]]], activations=["linear"])
>>> r = accuracy(net, [[2.0, 1.0], [0.0, 1.0]], [0, 1], NeuronCrash({0: 0.5}))
>>> r.method, r.clean_accuracy, r.accuracy_lo, r.change_lo      # exact ties go to the first class
('exact', 1.0, 0.625, 0.375)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from fractions import Fraction
from numbers import Integral, Real

import numpy as np

from .. import cost
from ..utils import fraction_down as _down, fraction_up as _up
from ..errors import InvalidArgument
from ..faults import CrashPattern
from ..problem import make_problem
from ..engines.enclosure import choose_order, enclosure_estimate
from ..engines.enumeration import exact_obstacle
from ..engines.forward import forward, forward_masked
from ..engines.sampling import failure_groups
from ..engines.stratified import (bounded_interval, check_budget, configuration_blocks, crash_count_tail,
                                  plan_strata, stratified_statistics)
from ..walk.errorbound import BoxAndError
from ..walk.walker import walk
from ..results import result

__all__ = ["AccuracyResult", "accuracy", "accuracy_estimate", "METHODS"]

#: Methods :func:`accuracy` knows.
METHODS = ("auto", "exact", "rigorous", "statistical")

_U = 2.0 ** -53


@result
@dataclass(frozen=True)
class AccuracyResult:
    r"""Accuracy and prediction changes under crashes over a dataset (see the module docstring).

    Attributes
    ----------
    clean_accuracy : float
        Fault-free accuracy (``clean_correct / n_inputs``).
    accuracy_lo, accuracy_hi, change_lo, change_hi : float
        The accuracy under crashes and ``P(prediction changes)``, averaged over the inputs.
    method : {"exact", "rigorous", "statistical"}
    confidence : float or None
        The level of a statistical answer (``None`` otherwise).
    order : int or None
        Largest number of failures evaluated (exact / rigorous).
    tail_probability : float
        ``P(more than order failures)``, exact, rounded up (rigorous).
    undecided : float
        Mean probability of the evaluated configurations whose class was not proved.
    per_class : tuple of dict
        ``{"label", "count", "clean_accuracy", "accuracy_lo", "accuracy_hi", "change_lo", "change_hi"}``.
    at_risk : tuple of dict
        The inputs with the largest ``change_hi``: ``{"index", "label", "clean_class", "change_lo", "change_hi"}``.

    Examples
    --------
    >>> from symft.graph.network import Network
    >>> from symft.faults import NeuronCrash
    >>> net = Network.from_numpy([[[1.0, -1.0], [-1.0, 1.0]]], activations=["linear"])
    >>> d = accuracy(net, [[2.0, 1.0]], [0], NeuronCrash({0: 0.25})).as_dict()
    >>> d["method"], d["change_lo"], d["change_hi"], d["accuracy_lo"]     # x_1 crashes, x_2 does not: 1/4 · 3/4
    ('exact', 0.1875, 0.1875, 0.8125)
    """

    clean_accuracy: float
    clean_correct: int
    n_inputs: int
    accuracy_lo: float
    accuracy_hi: float
    change_lo: float
    change_hi: float
    method: str
    confidence: float | None = None
    order: int | None = None
    tail_probability: float = 0.0
    undecided: float = 0.0
    clean_undecided: int = 0
    samples: int = 0
    crashed_samples: int = 0
    seed: int | None = None
    per_class: tuple = ()
    at_risk: tuple = ()
    change_each: tuple = field(default=(), repr=False)
    seconds: float = 0.0

    def as_dict(self) -> dict:
        """JSON-ready dictionary (the per-input intervals as ``change_each``: ``[lo, hi]`` per input).

        Examples
        --------
        >>> from symft.graph.network import Network
        >>> from symft.faults import NeuronCrash
        >>> net = Network.from_numpy([[[1.0, -1.0], [-1.0, 1.0]]], activations=["linear"])
        >>> sorted(accuracy(net, [[2.0, 1.0]], [0], NeuronCrash({0: 0.25})).as_dict())[:4]
        ['accuracy_hi', 'accuracy_lo', 'at_risk', 'change_each']
        """
        return {"clean_accuracy": self.clean_accuracy, "clean_correct": self.clean_correct,
                "n_inputs": self.n_inputs, "accuracy_lo": self.accuracy_lo, "accuracy_hi": self.accuracy_hi,
                "change_lo": self.change_lo, "change_hi": self.change_hi, "method": self.method,
                "confidence": self.confidence, "order": self.order, "tail_probability": self.tail_probability,
                "undecided": self.undecided, "clean_undecided": self.clean_undecided, "samples": self.samples,
                "crashed_samples": self.crashed_samples, "seed": self.seed,
                "per_class": [dict(c) for c in self.per_class], "at_risk": [dict(a) for a in self.at_risk],
                "change_each": [list(c) for c in self.change_each], "seconds": self.seconds}


# ---------------------------------------------------------------------- inputs

def _labels(y, B, n_out):
    try:
        a = np.asarray(y)
    except (TypeError, ValueError):
        raise InvalidArgument("y: expected one integer label per input") from None
    if a.ndim != 1 or a.shape[0] != B:
        raise InvalidArgument(f"y: expected {B} labels (one per input), got shape {a.shape}")
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)) or not np.all(a == np.round(a)):
            raise InvalidArgument("y: expected integer labels, got non-integer values")
        a = a.astype(np.int64)
    if a.dtype.kind not in "iu":
        raise InvalidArgument(f"y: expected integer labels, got {a.dtype}")
    if a.size and (a.min() < 0 or a.max() >= n_out):
        bad = int(a[(a < 0) | (a >= n_out)][0])
        raise InvalidArgument(f"y: label {bad} out of range: the network has {n_out} outputs (classes 0 … {n_out - 1})")
    return a.astype(np.int64)


def _decide(Y, e):
    """Computed classes and whether each is proved: margin to every other output above the error bounds.

    ``Y`` ``(..., n_out)`` computed outputs, ``e`` ``(n_out,)`` or broadcastable bounds on ``|computed − true|``.
    The true class (first maximal true output) equals the computed one when
    ``Y_c − Y_j > e_c + e_j`` for every ``j ≠ c``; the float subtraction and
    sum are covered by relative factors ``(1 ∓ 2u)``.
    """
    c = np.argmax(Y, axis=-1)
    top = np.take_along_axis(Y, c[..., None], axis=-1)
    ec = np.take_along_axis(np.broadcast_to(e, Y.shape), c[..., None], axis=-1)
    gap = (top - Y) * (1 - 4 * _U) - (ec + e) * (1 + 4 * _U)
    n_out = Y.shape[-1]
    mask = np.arange(n_out) == c[..., None]
    gap = np.where(mask, np.inf, gap)
    ok = (gap > 0).all(axis=-1) if n_out > 1 else np.ones(c.shape, bool)
    return c, ok


def _exact_class(net, x, pattern, semantics):
    y = forward(net, x, pattern, semantics=semantics, exact=True)
    vals = [Fraction(str(v)) if not isinstance(v, Fraction) else v for v in np.asarray(y, dtype=object).ravel()]
    m = max(vals)
    return vals.index(m)


def _masks_row(nm, sm, r):
    crashed = []
    for l, m in nm.items():
        crashed += [(l, int(i)) for i in np.flatnonzero(m[r])]
    syn = []
    for l, m in sm.items():
        syn += [(l, int(i), int(j)) for i, j in zip(*np.nonzero(m[r]))]
    return CrashPattern(frozenset(crashed), frozenset(syn))


# ---------------------------------------------------------------------- rigorous

def _clean_classes(pb, crash_sites, order, semantics):
    """Fault-free classes, whether each is proved, and the forward-error bounds ``e`` ``(B, n_out)``.

    ``e`` bounds ``|computed − true|`` of the output for every configuration of
    ``crash_sites`` with at most ``order`` failures; a clean class not proved
    by its margin is re-computed in rationals when the network allows it.
    """
    net, X = pb.net, pb.X
    B = X.shape[0]
    vals = walk(net, BoxAndError(net, crash_sites, order=order), X.reshape((B,) + tuple(net.input_shape)))
    e = vals[net.output][1].reshape(B, -1)
    c0, ok0 = _decide(pb.clean.output, e)
    if not ok0.all() and exact_obstacle(net) is None:
        for b in np.flatnonzero(~ok0):
            c0[b] = _exact_class(net, X[b], None, semantics)
            ok0[b] = True
    return c0, ok0, e


def _rigorous(pb, y, model, order, semantics, groups):
    net, X = pb.net, pb.X
    B = X.shape[0]
    exact_ok = exact_obstacle(net) is None
    crash_sites = {l: semantics for kind, l, _, _ in groups if kind == "neuron"}
    if any(kind != "neuron" for kind, _, _, _ in groups):
        raise InvalidArgument("model: the rigorous accuracy handles neuron crashes only; use method='statistical'")
    c0, ok0, e = _clean_classes(pb, crash_sites, order, semantics)
    correct0 = c0 == y
    ch_lo = [Fraction(0)] * B
    co_lo = [Fraction(0)] * B
    und = [Fraction(0)] * B
    rows_per_block = max(1, (8 * 2 ** 20) // max(1, 8 * B * net.n_outputs * 4))
    # integer counts per input, per count vector κ (every configuration of a κ has the same probability P):
    # turned into exact probabilities once per κ, not once per block (Fraction sums of big denominators were
    # most of the time on large datasets)
    counts = {}
    for kap, P, nm, sm in configuration_blocks(net, model, 0, order, rows_per_block):
        if sum(kap) == 0:
            for b in range(B):
                co_lo[b] += P * int(correct0[b] and ok0[b])
                und[b] += P * int(not ok0[b])
            continue
        Y = forward_masked(net, X, nm, synapse_masks=sm, semantics=semantics, trace=pb.clean)  # (m, B, n_out)
        c, ok = _decide(Y, e[None, :, :])
        ok &= ok0[None, :]
        if exact_ok and not ok.all():
            for r, b in zip(*np.nonzero(~ok)):
                if ok0[b]:
                    c[r, b] = _exact_class(net, X[b], _masks_row(nm, sm, r), semantics)
                    ok[r, b] = True
        n = counts.get((kap, P))
        if n is None:
            n = counts[kap, P] = np.zeros((3, B), dtype=np.int64)
        n[0] += ((c != c0[None, :]) & ok).sum(axis=0)
        n[1] += ((c == y[None, :]) & ok).sum(axis=0)
        n[2] += (~ok).sum(axis=0)
    for (_, P), n in counts.items():
        for b in range(B):
            if n[0, b]:
                ch_lo[b] += P * int(n[0, b])
            if n[1, b]:
                co_lo[b] += P * int(n[1, b])
            if n[2, b]:
                und[b] += P * int(n[2, b])
    tail = crash_count_tail(net, model, order)
    ch = [(lo, lo + u + tail) for lo, u in zip(ch_lo, und)]
    co = [(lo, lo + u + tail) for lo, u in zip(co_lo, und)]
    return c0, ok0, ch, co, tail, und


# ---------------------------------------------------------------------- statistical

class _Changes:
    """Per draw: which inputs change class, which are right, and both means (a class: it travels to workers)."""

    def __init__(self, c0, y):
        self.c0, self.y = c0, y

    def __call__(self, Y):
        c = np.argmax(Y, axis=2)                      # (m, B)
        ch = (c != self.c0[None, :]).astype(float)
        co = (c == self.y[None, :]).astype(float)
        return np.concatenate([ch, co, ch.mean(axis=1, keepdims=True), co.mean(axis=1, keepdims=True)], axis=1)


def _statistical(pb, y, model, n_samples, seed, confidence, enumerate_small, force, runner=None):
    net, X = pb.net, pb.X
    B = X.shape[0]
    c0 = np.argmax(pb.clean.output, axis=1)
    fn = _Changes(c0, y)
    plan = plan_strata(net, model, n_samples, enumerate_small=enumerate_small)
    check_budget(net, model, plan, B, force)
    stats = stratified_statistics(pb, model, plan, seed, fn, runner=runner)
    if not stats:
        z = np.zeros(2 * B + 2)
        est = lo = hi = z
        lo_b = hi_b = z
    else:
        est, lo, hi = bounded_interval(stats, confidence, runner=runner)
        _, lo_b, hi_b = bounded_interval(stats, 1 - (1 - confidence) / B, runner=runner) if B > 1 else (est, lo, hi)
    correct0 = (c0 == y).astype(float)
    ch = [(max(0.0, float(lo_b[b])), min(1.0, float(hi_b[b]))) for b in range(B)]
    co = [(max(0.0, float(lo_b[B + b] + correct0[b])), min(1.0, float(hi_b[B + b] + correct0[b]))) for b in range(B)]
    agg_ch = (max(0.0, float(lo[2 * B])), min(1.0, float(hi[2 * B])))
    m0 = correct0.mean()
    # the clean accuracy m0 is a float mean: one ulp outward covers its rounding
    agg_co = (max(0.0, float(np.nextafter(lo[2 * B + 1] + m0, -np.inf))),
              min(1.0, float(np.nextafter(hi[2 * B + 1] + m0, np.inf))))
    sampled = sum(s.draws for s in plan if not s.enumerated)
    return ch, co, agg_ch, agg_co, sampled


# ---------------------------------------------------------------------- the analysis

def _breakdown(y, c0, ch, co, top):
    B = len(y)
    per = []
    for lab in sorted(set(int(v) for v in y)):
        idx = np.flatnonzero(y == lab)
        per.append({"label": lab, "count": int(idx.size),
                    "clean_accuracy": float(np.mean(c0[idx] == lab)),
                    "accuracy_lo": _down(sum((Fraction(co[b][0]) for b in idx), Fraction(0)) / idx.size),
                    "accuracy_hi": _up(sum((Fraction(co[b][1]) for b in idx), Fraction(0)) / idx.size),
                    "change_lo": _down(sum((Fraction(ch[b][0]) for b in idx), Fraction(0)) / idx.size),
                    "change_hi": _up(sum((Fraction(ch[b][1]) for b in idx), Fraction(0)) / idx.size)})
    order = sorted(range(B), key=lambda b: (-float(ch[b][1]), -float(ch[b][0]), b))[:top]
    risk = [{"index": int(b), "label": int(y[b]), "clean_class": int(c0[b]),
             "change_lo": _down(Fraction(ch[b][0])), "change_hi": _up(Fraction(ch[b][1]))} for b in order]
    return tuple(per), tuple(risk)


def accuracy_estimate(net, model, order: int, n_inputs: int = 1) -> "cost.Estimate":
    r"""The predicted time (:class:`symft.cost.Estimate`, path ``"accuracy"``) of :func:`accuracy` with a fixed order.

    The work is counted as for the enclosure
    (:func:`symft.engines.enclosure.enclosure_estimate`: the configurations
    with at most ``order`` crashes × inputs × the multiply-adds downstream of
    the crash sites), but each unit costs more: every configuration's outputs
    become a class decision with its error bound, so the path has its own
    constant, measured by ``benchmarks/bench_cost_model.py``.

    Examples
    --------
    >>> from symft.faults import NeuronCrash
    >>> from symft.graph.network import random_network
    >>> e = accuracy_estimate(random_network([4, 30, 2], seed=0), NeuronCrash({1: 1e-3}), 2, 10)
    >>> e.path, e.basis
    ('accuracy', '466 configurations × 10 inputs')
    """
    return enclosure_estimate(net, model, order, n_inputs, path="accuracy")


def accuracy(net, X, y, model, *, method: str = "auto", order: int | None = None,
             max_configurations: int = 2 ** 21, max_width: float = 1e-2, n_samples: int = 4000,
             seed: int = 0, confidence: float = 0.95, enumerate_small: bool = True,
             top: int = 10, force: bool = False, runner=None) -> AccuracyResult:
    r"""Clean accuracy, accuracy under crashes and ``P(prediction changes)`` over a dataset.

    Parameters
    ----------
    net : Network
    X : array_like, shape (B, n_0)
        The inputs (float).
    y : array_like of int, shape (B,)
        Their labels (classes ``0 … n_out − 1``).
    model : NeuronCrash (or, statistical only, a SynapseCrash / a pair)
    method : {"auto", "exact", "rigorous", "statistical"}
        See the module docstring.  ``"exact"`` fails unless every configuration
        fits in ``max_configurations`` and every class is proved.
    order : int, optional
        Failures evaluated for ``"rigorous"`` (default: as many as
        ``max_configurations`` configurations × inputs allow,
        :func:`symft.engines.enclosure.choose_order`).
    max_configurations : int
        Budget of evaluated configurations × inputs (exact / rigorous).
    max_width : float
        ``"auto"`` answers rigorously when both intervals are at most this wide.
    n_samples, seed, confidence, enumerate_small
        The statistical answer's budget (configurations, shared by every input),
        seed, level, and whether strata with few configurations are enumerated
        (:func:`symft.engines.stratified.plan_strata`).
    top : int
        How many inputs at risk to list.
    force : bool
        Sample even when the estimated time is above the samplers' limit
        (:func:`symft.engines.stratified.check_budget`).
    runner : callable, optional
        Where the statistical answer's blocks of draws run
        (:func:`symft.engines.stratified.stratified_statistics`); never changes the answer.

    Returns
    -------
    AccuracyResult

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> from symft.faults import NeuronCrash
    >>> net = random_network([4, 30, 3], seed=0, activation="tanh")
    >>> X = np.random.default_rng(0).normal(size=(20, 4))
    >>> r = accuracy(net, X, np.zeros(20, int), NeuronCrash({1: 1e-3}))
    >>> r.method, r.order, bool(r.change_hi - r.change_lo < 1e-6)
    ('rigorous', 4, True)
    >>> s = accuracy(net, X, np.zeros(20, int), NeuronCrash({1: 1e-3}), method="statistical", n_samples=500)
    >>> s.method, bool(s.change_lo <= r.change_lo and r.change_hi <= s.change_hi)
    ('statistical', True)
    """
    t0 = time.perf_counter()
    if method not in METHODS:
        raise InvalidArgument(f"method: expected one of {', '.join(METHODS)}, got {method!r}")
    if isinstance(top, bool) or not isinstance(top, Integral) or top < 0:
        raise InvalidArgument(f"top: expected a non-negative integer, got {top!r}")
    if isinstance(max_width, bool) or not isinstance(max_width, Real) or not max_width >= 0:
        raise InvalidArgument(f"max_width: expected a non-negative number, got {max_width!r}")
    if isinstance(max_configurations, bool) or not isinstance(max_configurations, Integral) or max_configurations < 1:
        raise InvalidArgument(f"max_configurations: expected a positive integer, got {max_configurations!r}")
    if isinstance(confidence, bool) or not isinstance(confidence, Real) or not 0 < float(confidence) < 1:
        raise InvalidArgument(f"confidence: expected a number strictly between 0 and 1, got {confidence!r}")
    pb = make_problem(net, X, None, where="X")
    if pb.single:
        raise InvalidArgument("X: expected a batch of inputs (B, n_0); wrap one input in a list")
    if pb.exact_given is not None:
        raise InvalidArgument("X: expected float inputs (numbers, not exact strings or fractions): the class "
                              "decisions are proved for the inputs as float64 holds them")
    B = pb.B
    if B == 0:
        raise InvalidArgument("X: expected at least one input")
    y = _labels(y, B, net.n_outputs)
    groups, semantics = failure_groups(net, model)
    N = sum(n for _, _, n, _ in groups)
    neuron_only = all(kind == "neuron" for kind, _, _, _ in groups)

    def finish(**kw):
        c0, ch, co = kw.pop("c0"), kw.pop("ch"), kw.pop("co")
        per, risk = _breakdown(y, c0, ch, co, int(top))
        correct = int(np.sum(c0 == y))
        return AccuracyResult(clean_accuracy=correct / B, clean_correct=correct, n_inputs=B, per_class=per,
                              at_risk=risk, change_each=tuple((float(a), float(b)) for a, b in ch),
                              seconds=time.perf_counter() - t0, **kw)

    if method != "statistical" and neuron_only:
        if order is None:
            k = choose_order(net, model, max_configurations, B, path="accuracy") if groups else 0
        else:
            if isinstance(order, bool) or not isinstance(order, Integral) or order < 0:
                raise InvalidArgument(f"order: expected a non-negative integer, got {order!r}")
            k = min(int(order), N)
            if not force:           # a fixed order is predicted before any work (an automatic one is chosen to fit)
                cost.check(accuracy_estimate(net, model, k, B), "accuracy",
                           "use a lower order (--order), no order (the largest that fits is chosen), or sampling "
                           "(--method statistical)")
        if method == "exact" and k < N:
            raise InvalidArgument(f"method: 'exact' needs all {N} failures enumerated ({2 ** N:.4g} configurations "
                                  f"× {B} inputs, limit max_configurations = {max_configurations:.4g}); "
                                  "use method='rigorous' or 'statistical'")
        if method == "auto" and k < N:
            tail = crash_count_tail(net, model, k)
            if tail > Fraction(max_width):      # the rigorous interval would be too wide: go straight to sampling
                k = None
        if k is not None:
            c0, ok0, ch, co, tail, und = _rigorous(pb, y, model, k, semantics, groups)
            lo_c = sum((a for a, _ in ch), Fraction(0)) / B
            hi_c = sum((b for _, b in ch), Fraction(0)) / B
            lo_a = sum((a for a, _ in co), Fraction(0)) / B
            hi_a = sum((b for _, b in co), Fraction(0)) / B
            exact = tail == 0 and all(u == 0 for u in und) and bool(ok0.all())
            if method == "exact" and not exact:
                raise InvalidArgument("method: 'exact' could not prove every class decision (float margins too "
                                      "small and the activations are not piecewise linear); use method='rigorous'")
            width = max(hi_c - lo_c, hi_a - lo_a)
        if k is not None and (method != "auto" or width <= Fraction(max_width)):
            return finish(c0=c0, ch=ch, co=co, accuracy_lo=_down(lo_a), accuracy_hi=_up(hi_a),
                          change_lo=_down(lo_c), change_hi=_up(hi_c), method="exact" if exact else "rigorous",
                          order=k, tail_probability=_up(tail), undecided=_up(sum(und, Fraction(0)) / B),
                          clean_undecided=int(np.sum(~ok0)))
    elif method in ("exact", "rigorous"):
        raise InvalidArgument(f"method: {method!r} handles neuron crashes only; use method='statistical'")
    if isinstance(n_samples, bool) or not isinstance(n_samples, Integral) or n_samples < 2:
        raise InvalidArgument(f"n_samples: expected an integer ≥ 2, got {n_samples!r}")
    if isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0:
        raise InvalidArgument(f"seed: expected a non-negative integer (recorded in the result), got {seed!r}")
    ch, co, agg_ch, agg_co, sampled = _statistical(pb, y, model, int(n_samples), int(seed), float(confidence),
                                                   bool(enumerate_small), bool(force), runner)
    c0, ok0, _ = _clean_classes(pb, {}, 0, semantics)
    return finish(c0=c0, ch=ch, co=co, accuracy_lo=agg_co[0], accuracy_hi=agg_co[1], change_lo=agg_ch[0],
                  change_hi=agg_ch[1], method="statistical", confidence=float(confidence), samples=int(n_samples),
                  crashed_samples=int(sampled), seed=int(seed), clean_undecided=int(np.sum(~ok0)))
