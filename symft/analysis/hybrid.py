r"""The hybrid estimate: a proved part for the configurations with few crashes, a sampled part for the rest.

When enumerating every crash configuration is out of reach, split ``E f(Δ)``
(``f`` the output error itself, or the change of a smooth loss) by the
number ``K`` of crashed neurons (theory D3):

``E f = Σ_{|s| ≤ k} P(s) f(s)  +  P(K > k) · E[f | K > k]``.

* **The proved part** ``[a, b]`` holds the first sum exactly, floating-point
  rounding included.  For the output error it comes from the certified
  enclosure (:func:`symft.engines.enclosure.enclosure`, order ``k``): every
  configuration with at most ``k`` crashes is evaluated, and its
  ``partial_mean`` / ``partial_second`` (the float64 value of that sum)
  with its ``margin_mean`` / ``margin_second`` (a proved bound on every
  rounding error of the evaluation) enclose the exact sums of ``Δ`` and
  ``Δ²``; the conversion of the sum to float64 is covered by a further
  ``2^{-52} |sum|``.  For the squared loss the change is exactly
  ``2 (y − t)·Δ + Σ_k Δ_k²`` and for cross-entropy on logits it lies in
  ``[g·Δ, g·Δ + ½ Σ_k Δ_k²]`` (convexity, ``g = softmax(y) − e_t``;
  :mod:`symft.analysis.loss_bounds`), both combined in outward-rounded
  interval arithmetic with ``y`` enclosed by the interval forward pass.  That
  bracket is used for cross-entropy only when no finite forward-error bound
  exists; otherwise every configuration's cross-entropy change is evaluated
  with a proved error bound (:func:`symft.analysis.partial_loss.cross_entropy_partial`),
  and the proved part is the exact sum up to rounding.  For the zero-one
  loss every class decision is proved by its float margin against proved
  forward-error bounds, or re-computed in rationals (piecewise-linear
  networks), by the rigorous accuracy engine
  (:func:`symft.analysis.accuracy.accuracy`, ``method="rigorous"``); the
  probability of the configurations left undecided widens ``[a, b]``.
* **The statistical part** estimates ``Σ_{|s| > k} P(s) f(s)`` by
  stratified Monte Carlo (:mod:`symft.engines.stratified`): strata
  ``{k + 1}, {k + 2}, …`` and one tail stratum, each weighted by its exact
  probability (:func:`~symft.engines.stratified.crash_count_law`,
  :func:`~symft.engines.stratified.crash_count_tail`), configurations drawn
  exactly from each stratum's conditional law, the draws shared in
  proportion to ``P_s √k_s`` (Neyman with an a-priori spread), and a
  Student t interval with Welch–Satterthwaite degrees of freedom at level
  ``1 − α`` (for the zero-one loss: stratum-wise Clopper–Pearson intervals
  combined by the union bound, :func:`~symft.engines.stratified.bounded_interval`,
  whose level holds however rare a change of class is).  An optional
  control variate (``"single_crash"``: the exact effect of each neuron
  failing alone) keeps it unbiased and narrower.

The combined interval ``[a + lo, b + hi]`` is **proved for the
configurations with at most k crashes and statistical (confidence 1 − α)
for the rest** — never a proof: it holds the true value with probability
about ``1 − α`` over the draws (the t interval's level is approximate for
skewed strata; its coverage is measured in ``tests/test_hybrid.py``).  When
no configuration has more than ``k`` crashes, or their probability is below
float64's range, the rest is bounded rigorously instead (the enclosure's
tail bounds; for the zero-one loss, the exact probability of the rest) and
the whole interval is proved (``method == "proved"``).

Choosing ``k``: ``order="auto"`` takes the largest order whose
configurations fit in half of the budget ``n_samples`` (the other half is
drawn); the enumeration of a configuration costs about as much as a draw.

Examples
--------
>>> from symft.graph.network import random_network
>>> from symft.faults import NeuronCrash
>>> net = random_network([4, 30, 3], seed=0, activation="tanh")
>>> r = hybrid_estimate(net, [0.5, -1.0, 2.0, 0.1], NeuronCrash({1: 1e-2}), 4000, seed=0)
>>> r.order, r.method, r.label
(2, 'hybrid', 'proved for ≤ 2 crashes, statistical (95% confidence) for the rest')
>>> bool(r.low[0] <= r.proved_low[0] + r.stat_low[0] and r.proved_high[0] + r.stat_high[0] <= r.high[0])
True
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from fractions import Fraction
from numbers import Integral, Real
from warnings import warn as _warn

import numpy as np

from ..utils import fraction_down as _down, fraction_up as _up
from .. import cost
from ..errors import InvalidArgument, TooLargeError
from ..faults import NeuronCrash
from ..problem import make_problem
from ..walk.interval import Interval, isum
from .bounds import forward_enclosure

__all__ = ["HybridResult", "hybrid_estimate", "hybrid_order", "tail_strata", "HYBRID_LOSSES",
           "MAX_PROVED_CONFIGURATIONS"]

#: The losses whose change the hybrid estimates.
HYBRID_LOSSES = ("squared", "zero_one", "cross_entropy")
#: Most configurations the proved part evaluates unless ``force`` (the enclosure's own limit).
MAX_PROVED_CONFIGURATIONS = 2 ** 24
#: Below this probability the configurations with more than ``k`` crashes are bounded, not sampled.
NEGLIGIBLE = 1e-290

_TWO52 = Fraction(1, 2 ** 52)
_TINY = Fraction(1, 2 ** 1074)


# ---------------------------------------------------------------------- result

@dataclass(frozen=True)
class HybridResult:
    r"""A hybrid estimate: a proved part (``≤ order`` crashes) plus a statistical part (the rest).

    All interval fields are tuples with one entry per output for ``statistic == "error"``, or one
    entry (the mean loss change) for a loss.

    Attributes
    ----------
    proved_low, proved_high : tuple of float
        ``[a, b]``: holds ``Σ_{|s| ≤ order} P(s) f(s)``, proved (rounding included).
    stat_mean, stat_low, stat_high, standard_error : tuple of float
        Estimate of ``Σ_{|s| > order} P(s) f(s)`` and its interval at ``confidence`` (Student t,
        Welch–Satterthwaite); zeros when nothing was sampled.
    low, high, estimate : tuple of float
        ``[a + stat_low, b + stat_high]`` (rounded outward) and ``(a + b)/2 + stat_mean``.
    method : str
        ``"hybrid"``, or ``"proved"`` when the rest was bounded rigorously instead of sampled (then
        ``stat_low``/``stat_high`` are that proved bound).
    order : int
    proved_configurations : int
    proved_probability, sampled_probability : float
        ``P(K ≤ order)`` and ``P(K > order)`` (exact, rounded to float64).
    sampled_draws : int
    enclosure_low, enclosure_high : tuple of float or None
        For ``"error"``: the certified enclosure of the same order alone (everything proved, the
        rest bounded by its tail bound), for comparison.
    strata : tuple of Stratum
        The sampled strata.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> r = hybrid_estimate(mean_network(2), [1.0, 1.0], NeuronCrash({0: 0.5}), 100, seed=0, order=2)
    >>> r.method, r.low[0] <= -0.5 <= r.high[0], r.sampled_probability
    ('proved', True, 0.0)
    """

    statistic: str
    order: int
    confidence: float
    seed: int
    samples: int
    proved_low: tuple
    proved_high: tuple
    stat_mean: tuple
    stat_low: tuple
    stat_high: tuple
    standard_error: tuple
    low: tuple
    high: tuple
    estimate: tuple
    method: str
    proved_configurations: int
    proved_probability: float
    sampled_probability: float
    sampled_draws: int
    control: str | None = None
    enclosure_low: tuple | None = None
    enclosure_high: tuple | None = None
    seconds: float = 0.0
    strata: tuple = ()
    warnings: tuple = field(default=())

    @property
    def interval(self) -> str:
        """How the statistical part's interval was made: ``"t-welch"``, ``"clopper-pearson"`` or ``"proved"``.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> hybrid_estimate(mean_network(4), [1.0] * 4, NeuronCrash({0: 0.1}), 100, seed=0, order=1).interval
        't-welch'
        """
        if self.method == "proved":
            return "proved"
        return "clopper-pearson" if self.statistic == "zero_one" else "t-welch"

    @property
    def label(self) -> str:
        """What the combined interval is: proved for ``≤ order`` crashes, statistical for the rest.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> hybrid_estimate(mean_network(2), [1.0, 1.0], NeuronCrash({0: 0.5}), 100, seed=0, order=2).label
        'proved (every configuration with more than 2 crashes bounded rigorously)'
        """
        if self.method == "proved":
            return f"proved (every configuration with more than {self.order} crashes bounded rigorously)"
        return (f"proved for ≤ {self.order} crashes, statistical ({100 * self.confidence:g}% confidence) "
                "for the rest")

    def as_dict(self) -> dict:
        """JSON-ready dictionary: ``proved``, ``statistical`` and ``combined`` parts, and the label.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> d = hybrid_estimate(mean_network(4), [1.0] * 4, NeuronCrash({0: 0.1}), 100, seed=0, order=1).as_dict()
        >>> sorted(d["proved"]), d["statistical"]["confidence"], d["method"]
        (['configurations', 'high', 'low', 'order', 'probability'], 0.95, 'hybrid')
        """
        lst = list
        return {
            "statistic": self.statistic, "method": self.method, "label": self.label, "sampler": "hybrid",
            "mean": lst(self.estimate), "ci_low": lst(self.low), "ci_high": lst(self.high),
            "proved": {"low": lst(self.proved_low), "high": lst(self.proved_high), "order": self.order,
                       "configurations": self.proved_configurations, "probability": self.proved_probability},
            "statistical": {"mean": lst(self.stat_mean), "low": lst(self.stat_low), "high": lst(self.stat_high),
                            "standard_error": lst(self.standard_error), "confidence": self.confidence,
                            "interval": self.interval,
                            "probability": self.sampled_probability, "draws": self.sampled_draws,
                            "control": self.control, "strata": [s.as_dict() for s in self.strata]},
            "enclosure": None if self.enclosure_low is None else {"low": lst(self.enclosure_low),
                                                                   "high": lst(self.enclosure_high)},
            "confidence": self.confidence, "seed": self.seed, "samples": self.samples,
            "seconds": self.seconds, "warnings": lst(self.warnings)}


# ---------------------------------------------------------------------- order and strata

def _check_neuron(model):
    if not isinstance(model, NeuronCrash):
        raise InvalidArgument("model: the hybrid estimate needs neuron crashes only (its proved part is the "
                              f"certified enclosure), got {type(model).__name__}; use the stratified sampler")
    return model


def hybrid_order(net, model, n_samples: int) -> int:
    r"""The order ``k`` chosen by ``order="auto"``: the largest whose configurations fit in ``n_samples / 2``.

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> net = random_network([4, 30, 3], seed=0)
    >>> hybrid_order(net, NeuronCrash({1: 1e-3}), 4000), hybrid_order(net, NeuronCrash({1: 1e-3}), 2)
    (2, 0)
    """
    from ..engines.enumeration import count_configurations

    _check_neuron(model)
    n = _int(n_samples, "n_samples", 2)
    N = model.n_neurons(net)
    k = 0
    while k < N and count_configurations(net, model, k + 1) <= n // 2:
        k += 1
    return k


def tail_strata(net, model, order: int, draws: int, *, min_per_stratum: int = 32, spread=None) -> tuple:
    r"""The strata of the configurations with more than ``order`` crashes, with exact probabilities and draws.

    Single-count strata ``{order + 1}, {order + 2}, …`` (at most
    :data:`symft.engines.stratified.MAX_STRATA`, and until the rest falls below
    :data:`symft.engines.stratified.TAIL_FRACTION` of ``P(K > order)``), then one
    tail stratum.  ``draws`` is shared in proportion to ``P_s · spread(k_s)``
    (default ``√k``), at least ``min_per_stratum`` each; nothing is enumerated.

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> net = random_network([3, 40, 2], seed=0)
    >>> [(s.lo, s.hi, s.draws) for s in tail_strata(net, NeuronCrash({1: 1e-2}), 2, 1000)][:3]
    [(3, 3, 895), (4, 4, 96), (5, 5, 32)]
    """
    from ..engines.stratified import MAX_STRATA, Stratum, count_strata, crash_count_law, crash_count_tail

    order = _int(order, "order", 0)
    draws = _int(draws, "draws", 0)
    min_per_stratum = _int(min_per_stratum, "min_per_stratum", 2)
    N = model.n_neurons(net)
    rest0 = crash_count_tail(net, model, order) if order < N else Fraction(0)
    if rest0 == 0:
        return ()
    kmax = min(N, order + MAX_STRATA)
    raw = count_strata(N, crash_count_law(net, model, kmax), rest0, order, kmax)
    spread = spread or math.sqrt
    score = [float(P) * float(spread(lo)) for lo, _, P, _ in raw]
    tot = sum(score)
    return tuple(Stratum(lo, hi, P, C, max(min_per_stratum, int(draws * sc / tot) if tot > 0 else 0), False)
                 for (lo, hi, P, C), sc in zip(raw, score))


def _fraction(v):
    """An exact number (SymPy rational, Fraction, int or float) as a Fraction; None for anything else."""
    import sympy as sp

    if isinstance(v, sp.Rational):
        return Fraction(int(v.p), int(v.q))
    try:
        return Fraction(v) if not isinstance(v, sp.Basic) else Fraction(str(v))
    except (TypeError, ValueError):
        return None


def _int(v, where, least):
    if isinstance(v, bool) or not isinstance(v, Integral) or v < least:
        raise InvalidArgument(f"{where}: expected an integer ≥ {least}, got {v!r}")
    return int(v)


# ---------------------------------------------------------------------- the proved part

def _moment_intervals(partial, margin, nonneg=False):
    """Proved intervals (lists of float) for an exact sum whose float64 value is ``partial`` ± ``margin``."""
    lo, hi = [], []
    for v, m in zip(np.ravel(partial), np.ravel(margin)):
        c, e = Fraction(float(v)), Fraction(float(m)) + abs(Fraction(float(v))) * _TWO52 + _TINY
        lo.append(max(0.0, _down(c - e)) if nonneg else _down(c - e))
        hi.append(_up(c + e))
    return lo, hi


def _proved_part(net, x, model, order, loss, target, force, need_tail):
    """The part of the configurations with ≤ ``order`` crashes: a dict of proved facts.

    ``a``, ``b`` (lists: the proved interval of ``Σ_{|s| ≤ order} P(s) f(s)``), ``tail`` (a proved
    bound on ``|Σ_{|s| > order} P(s) f(s)|``), ``configurations``, ``mass`` (``P(K ≤ order)``, rounded
    down) and, for the output error, the enclosure's own interval ``enc_lo``, ``enc_hi``.
    """
    if loss == "zero_one":
        return _proved_zero_one(net, x, model, order, target, force)
    exact_ce = None
    if loss == "cross_entropy":
        from .partial_loss import cross_entropy_partial

        exact_ce = cross_entropy_partial(net, x, model, order, target)
        if exact_ce is not None and not need_tail:
            return {"a": [exact_ce["lo"]], "b": [exact_ce["hi"]], "tail": None, "enc_lo": None, "enc_hi": None,
                    "configurations": exact_ce["configurations"], "mass": exact_ce["mass"]}
    from ..engines.enclosure import enclosure
    from ..engines.taylor import loss_gradient_enclosure

    e = enclosure(net, x, model, order=order, force=force, progress=False,
                  max_configurations=None if force else MAX_PROVED_CONFIGURATIONS)
    out = {"configurations": int(e.configurations), "mass": float(e.mass), "enc_lo": None, "enc_hi": None}
    m_lo, m_hi = _moment_intervals(e.partial_mean, e.margin_mean)
    if loss is None:
        out.update(a=m_lo, b=m_hi, tail=np.asarray(e.tail_mean, dtype=float),
                   enc_lo=[float(v) for v in e.mean_lo], enc_hi=[float(v) for v in e.mean_hi])
        return out
    s_lo, s_hi = _moment_intervals(e.partial_second, e.margin_second, nonneg=True)
    K = net.n_outputs
    V = forward_enclosure(net, np.asarray(x, dtype=float))[net.sites.index(net.output)]     # (K, 1)
    T = (Interval.point(np.asarray(target, dtype=float).reshape(1, K)) if loss == "squared" else [int(target)])
    G = loss_gradient_enclosure(loss, Interval(V.lo.T, V.hi.T), T)                          # (1, K)
    first = isum(Interval(G.lo[0], G.hi[0]) * Interval(np.array(m_lo), np.array(m_hi)))
    second = isum(Interval(np.array(s_lo), np.array(s_hi)))
    tot = first + second if loss == "squared" else Interval(first.lo, (first + second * 0.5).hi)
    # |f| ≤ Σ_k |g_k| |Δ_k| + Σ_k Δ_k² for both losses (|softmax − e_t| ≤ 1 for cross-entropy)
    g = np.maximum(np.abs(G.lo[0]), np.abs(G.hi[0]))
    tail = float(np.sum(g * np.asarray(e.tail_mean)) + np.sum(np.asarray(e.tail_second)))
    out.update(a=[float(tot.lo)], b=[float(tot.hi)], tail=np.array([float(np.nextafter(tail * (1 + 1e-12), np.inf))]))
    if exact_ce is not None:
        out.update(a=[exact_ce["lo"]], b=[exact_ce["hi"]])
    return out


def _proved_zero_one(net, x, model, order, target, force):
    """The zero-one loss: proved class decisions from the rigorous accuracy engine (undecided ones widen)."""
    from ..engines.enumeration import count_configurations
    from ..engines.stratified import crash_count_tail
    from .accuracy import accuracy

    r = accuracy(net, np.asarray(x, dtype=float)[None, :], [int(target)], model, method="rigorous",
                 order=order, force=force, top=0)
    rest = crash_count_tail(net, model, order) if order < model.n_neurons(net) else Fraction(0)
    mass = 1 - rest
    c_lo = Fraction(r.accuracy_lo)                        # ≤ Σ P(s) [class(s) = target], proved decisions
    c_hi = Fraction(r.accuracy_hi) - rest                 # ≥ that + every configuration not decided
    clean = ((Fraction(r.clean_correct),) * 2 if r.clean_undecided == 0 else (Fraction(0), Fraction(1)))
    # f(s) = [class(s) ≠ t] − [clean class ≠ t] = [clean = t] − [class(s) = t]
    a, b = clean[0] * mass - c_hi, clean[1] * mass - c_lo
    return {"a": [_down(a)], "b": [_up(b)], "tail": np.array([_up(rest)]), "enc_lo": None, "enc_hi": None,
            "configurations": int(count_configurations(net, model, order)), "mass": _down(mass)}


# ---------------------------------------------------------------------- the estimate

def hybrid_estimate(net, x, model, n_samples: int, seed: int, *, order: int | str = "auto", loss=None,
                    target=None, confidence: float = 0.95, control: str | None = None,
                    min_per_stratum: int = 32, force: bool = False) -> HybridResult:
    r"""Proved ``Σ_{|s| ≤ k} P(s) f(s)`` plus a stratified estimate of the rest, for one input.

    See the module docstring.  ``f`` is the output error ``Δ`` (one value per
    output) or the change of the squared / cross-entropy loss.

    Parameters
    ----------
    net : Network
        Numeric weights.
    x : array_like
        One input.
    model : NeuronCrash
        Numeric probabilities.
    n_samples : int
        Budget of configurations (evaluated exactly plus drawn), ≥ 2; each sampled stratum gets at
        least ``min_per_stratum`` draws on top.
    seed : int
        Seed of the draws (recorded in the result).
    order : int or "auto"
        ``k``: the configurations with at most ``k`` crashes are proved (:func:`hybrid_order` for
        ``"auto"``).
    loss : {None, "squared", "cross_entropy"}
    target : int or array_like
        The loss's target (a class, or ``n_out`` numbers for ``"squared"``).
    confidence : float
        Level of the statistical part's interval.
    control : {None, "single_crash"}
        A control variate in the sampled strata
        (:func:`symft.engines.stratified.control_values`; one forward pass per neuron).
    min_per_stratum : int
    force : bool
        Run even above :data:`MAX_PROVED_CONFIGURATIONS` proved configurations or the sampler's
        time limit (otherwise :class:`~symft.errors.TooLargeError` before any work).

    Returns
    -------
    HybridResult

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> net = random_network([4, 40, 2], seed=1, activation="sigmoid")
    >>> r = hybrid_estimate(net, [0.3, -0.2, 1.0, 0.5], NeuronCrash({1: 0.02}), 3000, seed=0, order=1)
    >>> r.proved_configurations, r.sampled_draws > 0, [s.lo for s in r.strata][:3]
    (41, True, [2, 3, 4])
    >>> bool(r.low[0] <= r.estimate[0] <= r.high[0])
    True
    """
    from ..engines.enumeration import count_configurations, estimate_seconds
    from ..engines.losses import loss_functions
    from ..engines.sampling import SamplingWarning
    from ..engines.stratified import (bounded_interval, check_budget, control_values, stratified_statistics,
                                      t_interval)

    t0 = time.perf_counter()
    _check_neuron(model)
    n_samples = _int(n_samples, "n_samples", 2)
    seed = _int(seed, "seed", 0)
    if isinstance(confidence, bool) or not isinstance(confidence, Real) or not 0 < float(confidence) < 1:
        raise InvalidArgument(f"confidence: expected a number strictly between 0 and 1, got {confidence!r}")
    confidence = float(confidence)
    if control not in (None, "single_crash") or (control and loss == "zero_one"):
        raise InvalidArgument(f"control: the hybrid takes None or 'single_crash' (None for the zero-one loss, "
                              f"whose Clopper–Pearson intervals need 0/1 draws), got {control!r}")
    if loss is not None and loss not in HYBRID_LOSSES:
        raise InvalidArgument(f"loss: the hybrid takes {', '.join(HYBRID_LOSSES)}, got {loss!r}")
    if loss is None and target is not None:
        raise InvalidArgument("target: given without a loss")
    pb = make_problem(net, x, model, where="input")
    if not pb.single:
        raise InvalidArgument("x: expected one input")
    if pb.exact_given is not None and any(Fraction(float(v)) != _fraction(v) for v in pb.exact_rows[0]):
        raise InvalidArgument("x: an exact input that float64 cannot hold (e.g. '1/10'); the hybrid's parts are "
                              "for the input as float64 holds it: give floats")
    model = pb.model
    n_out = net.n_outputs
    if loss is None:
        def fn(Y):
            return Y[:, 0, :]
    else:
        f, _ = loss_functions(loss, target, n_out)

        def fn(Y):
            return f(Y[:, 0, :])[:, None]
    N = model.n_neurons(net)
    if order == "auto":
        order = hybrid_order(net, model, n_samples)
    order = min(_int(order, "order", 0), N)
    n_conf = count_configurations(net, model, order)
    t = estimate_seconds(net, model, configurations=n_conf)
    limit, hint = cost.current_limit()
    if (n_conf > MAX_PROVED_CONFIGURATIONS or t > limit) and not force:
        k_ok = order
        while k_ok > 0 and (count_configurations(net, model, k_ok) > MAX_PROVED_CONFIGURATIONS or
                            estimate_seconds(net, model, configurations=count_configurations(net, model, k_ok))
                            > limit):
            k_ok -= 1
        raise TooLargeError(f"order (--order): {order} crashes need {n_conf:.4g} proved configurations (limit "
                            f"{MAX_PROVED_CONFIGURATIONS:.4g}), about {cost.format_seconds(t)} (limit "
                            f"{cost.format_seconds(limit)}); use order {k_ok} or less (--order {k_ok}), force=True, "
                            f"or raise the time limit with {hint}")
    from ..engines.stratified import crash_count_tail

    rest = crash_count_tail(net, model, order) if order < N else Fraction(0)
    sample = rest > 0 and float(rest) >= NEGLIGIBLE
    spread = (lambda k: math.sqrt(k * (k - 1) / 2)) if control else None
    plan = tail_strata(net, model, order, max(n_samples - n_conf, 0), min_per_stratum=min_per_stratum,
                       spread=spread) if sample else ()
    if plan:
        check_budget(net, model, plan, 1, force)
    part = _proved_part(net, pb.X[0], model, order, loss, target, force, need_tail=not plan and rest > 0)
    a, b, tail, enc_lo, enc_hi = part["a"], part["b"], part["tail"], part["enc_lo"], part["enc_hi"]
    D = len(a)
    notes = []
    if plan:
        ctrl = control_values(pb, model, fn, control) if control else None
        stats = stratified_statistics(pb, model, plan, seed, fn, ctrl)
        est, lo, hi, se = t_interval(stats, confidence)
        if loss == "zero_one":
            est, lo, hi = bounded_interval(stats, confidence)
        for s in (stats if loss != "zero_one" else ()):
            if s.stratum.configurations > s.n and np.any(s.same):
                notes.append(f"every one of the {s.n} draws with {s.stratum.lo}…{s.stratum.hi} crashes gave the "
                             "same value for some output: that stratum's variance is unknown, its interval may "
                             "cover less than its level")
        method = "hybrid"
    elif rest > 0:
        # the rest is below float64's range: bound it rigorously with the enclosure's tail bound instead
        est, se = np.zeros(D), np.zeros(D)
        lo, hi = -tail, tail
        method = "proved"
    else:
        est = lo = hi = se = np.zeros(D)
        method = "proved"
    for w in notes:
        _warn(w, SamplingWarning, stacklevel=2)
    low = [float(np.nextafter(ai + li, -np.inf)) if li != 0 else ai for ai, li in zip(a, lo)]
    high = [float(np.nextafter(bi + hi_, np.inf)) if hi_ != 0 else bi for bi, hi_ in zip(b, hi)]
    t = lambda v: tuple(float(u) for u in v)  # noqa: E731
    return HybridResult(
        statistic="error" if loss is None else loss, order=order, confidence=confidence, seed=seed,
        samples=n_samples, proved_low=t(a), proved_high=t(b), stat_mean=t(est), stat_low=t(lo), stat_high=t(hi),
        standard_error=t(se), low=t(low), high=t(high),
        estimate=t(0.5 * (np.array(a) + np.array(b)) + est), method=method, proved_configurations=part["configurations"],
        proved_probability=part["mass"], sampled_probability=float(rest),
        sampled_draws=int(sum(s.draws for s in plan)), control=control,
        enclosure_low=None if enc_lo is None else t(enc_lo), enclosure_high=None if enc_hi is None else t(enc_hi),
        seconds=time.perf_counter() - t0, strata=plan, warnings=tuple(notes))

