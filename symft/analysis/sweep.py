r"""Accuracy, prediction changes and E|Δ| against the crash probability: the curve fault-tolerance papers plot.

:func:`sweep` runs :func:`symft.analysis.accuracy.accuracy` and :func:`mean_abs_error` (the mean size
of the output error, ``E max_k |Δ_k|``) at each probability of a grid, for crashes at the chosen sites,
and keeps each point's interval and how it was obtained (exact, rigorous or statistical);
:meth:`Sweep.figure` draws it with matplotlib without touching matplotlib's global state.

Examples
--------
>>> from symft.graph.network import random_network
>>> net = random_network([4, 6, 3], seed=0, activation="tanh")
>>> X = np.random.default_rng(0).normal(size=(10, 4))
>>> s = sweep(net, X, np.zeros(10, int), [1e-3, 1e-1])
>>> [pt["method"] for pt in s.points], s.points[0]["change_hi"] <= s.points[1]["change_hi"]
(['exact', 'exact'], True)
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from fractions import Fraction
from numbers import Integral, Real

import numpy as np

from .. import cost
from ..errors import InvalidArgument, SymftError
from ..faults import NeuronCrash
from ..results import result

__all__ = ["Sweep", "sweep", "probability_grid", "mean_abs_error", "NORM", "check_sweep", "SweepSettings",
           "sweep_part", "sweep_point"]


def probability_grid(text: str, where: str = "--p") -> list:
    """``LO:HI:N``: ``N`` probabilities spaced evenly on a log scale from ``LO`` to ``HI`` (or one number).

    Examples
    --------
    >>> probability_grid("1e-4:1e-1:4")
    [0.0001, 0.001, 0.01, 0.1]
    >>> probability_grid("0.2")
    [0.2]
    """
    from ..parsing import parse_integer, parse_real

    parts = str(text).split(":")
    if len(parts) == 1:
        return [parse_real(parts[0], where, 0, 1, lo_open=True)]
    if len(parts) != 3:
        raise InvalidArgument(f"{where}: expected LO:HI:N (e.g. 1e-4:1e-1:13) or one probability, got {text!r}")
    lo = parse_real(parts[0], f"{where} LO", 0, 1, lo_open=True)
    hi = parse_real(parts[1], f"{where} HI", 0, 1, lo_open=True)
    n = parse_integer(parts[2], f"{where} N", 1, 1000)
    if hi < lo:
        raise InvalidArgument(f"{where}: expected LO ≤ HI, got {lo:g} > {hi:g}")
    if n == 1:
        return [lo]
    return [float(f"{v:.6g}") for v in np.geomspace(lo, hi, n)]


#: The norm of the output error whose mean :func:`mean_abs_error` reports.
NORM = "max_k |Δ_k| (the largest change of an output), averaged over the inputs"

_U = 2.0 ** -53


def mean_abs_error(net, X, model, *, method: str = "auto", order=None, max_configurations: int = 2 ** 21,
                   max_width: float = 0.1, n_samples: int = 4000, seed: int = 0, confidence: float = 0.95,
                   runner=None) -> dict:
    r"""``E max_k |Δ_k|`` averaged over the inputs ``X``: an interval and how it was obtained.

    ``"rigorous"`` (or ``"exact"`` when the interval is a single float): the
    configurations with at most ``order`` failures are evaluated, each
    computed ``|Δ|`` widened by its proved forward-error bound
    (:class:`symft.walk.errorbound.BoxAndError`, the error of the faulty and
    of the clean output) and weighted by its exact probability; the rest,
    of exactly known probability (:func:`symft.engines.stratified.crash_count_tail`),
    add at most that probability times a proved bound on ``|Δ|`` over every
    configuration (the interval box of the output).  The float sums of the
    non-negative per-configuration bounds (one per configuration probability)
    are widened by their error bound ``γ_{M−1}`` and combined in exact
    rationals, rounded outward once.
    ``"statistical"``: stratified Monte Carlo with a Welch t interval at
    ``confidence`` (:func:`symft.engines.stratified.t_interval`), the same
    draws for every input (the float sums of enumerated strata widened by a relative ``1e-12``).  ``"auto"``: rigorous when its interval is at most
    ``max_width`` times its upper end wide, else statistical.

    Returns
    -------
    dict
        ``{"abs_mean_lo", "abs_mean_hi", "abs_method", "abs_order", "abs_confidence", "norm"}``.

    Examples
    --------
    >>> from symft.graph.network import Network
    >>> net = Network.from_numpy([[[1.0, 2.0]]], activations=["linear"])
    >>> d = mean_abs_error(net, [[1.0, 1.0]], NeuronCrash({0: 0.5}))     # |Δ| ∈ {0, 1, 2, 3}, each 1/4
    >>> d["abs_method"], d["abs_mean_lo"] <= 1.5 <= d["abs_mean_hi"], d["abs_mean_hi"] - d["abs_mean_lo"] < 1e-12
    ('rigorous', True, True)
    """
    from ..engines.enclosure import choose_order
    from ..engines.forward import forward_masked
    from ..engines.moments import float_down, float_up
    from ..engines.sampling import failure_groups
    from ..engines.stratified import (check_budget, configuration_blocks, crash_count_tail, plan_strata,
                                      stratified_statistics, t_interval)
    from ..problem import make_problem
    from ..walk.errorbound import BoxAndError
    from ..walk.walker import walk

    if method not in ("auto", "exact", "rigorous", "statistical"):
        raise InvalidArgument(f"method: expected auto, exact, rigorous or statistical, got {method!r}")
    pb = make_problem(net, X, None, where="X")
    B = pb.B
    Y0 = pb.clean.output.reshape(B, -1)
    groups, semantics = failure_groups(net, model)
    N = sum(n for _, _, n, _ in groups)
    neuron_only = all(kind == "neuron" for kind, _, _, _ in groups)
    out = {"norm": NORM}
    if method != "statistical" and neuron_only:
        if order is None:
            k = choose_order(net, model, max_configurations, B, path="accuracy") if groups else 0
        elif isinstance(order, bool) or not isinstance(order, Integral) or order < 0:
            raise InvalidArgument(f"order: expected a non-negative integer, got {order!r}")
        else:
            k = min(int(order), N)
        tail = crash_count_tail(net, model, k) if groups else Fraction(0)
        crash_sites = {l: semantics for _, l, _, _ in groups}
        box, e = walk(net, BoxAndError(net, crash_sites, order=k),
                      pb.X.reshape((B,) + tuple(net.input_shape)))[net.output]
        e = e.reshape(B, -1)
        ebar = (2 * e.max(axis=1)) * (1 + 4 * _U)                      # |Δ − computed Δ| ≤ 2 e + u |computed Δ|
        with np.errstate(invalid="ignore", over="ignore"):
            D = ((np.maximum(box.hi.reshape(B, -1) - Y0, Y0 - box.lo.reshape(B, -1)) + e) * (1 + 8 * _U)).max(axis=1)
        # per configuration probability P: float sums of the non-negative per-configuration bounds, whose
        # error after M terms is at most γ_{M−1} = (M−1)u / (1 − (M−1)u) of the sum, in any order
        acc: dict = {}
        rows = max(1, (8 * 2 ** 20) // max(1, 8 * B * net.n_outputs * 4))
        for kap, P, nm, sm in configuration_blocks(net, model, 0, k, rows):
            if sum(kap) == 0:
                continue                                              # no failure: Δ = 0 exactly
            Y = forward_masked(net, pb.X, nm, synapse_masks=sm, semantics=semantics, trace=pb.clean)
            a = np.abs(Y - Y0[None]).max(axis=2)                        # (m, B)
            hi = (a * (1 + 4 * _U) + ebar[None]) * (1 + 4 * _U)
            lo = np.maximum(0.0, (a * (1 - 4 * _U) - ebar[None]) * (1 - 4 * _U))
            s_lo, s_hi, M = acc.get(P, (0.0, 0.0, 0))
            acc[P] = (s_lo + lo.sum(axis=0), s_hi + hi.sum(axis=0), M + a.shape[0])
        lo_s, hi_s = [Fraction(0)] * B, [Fraction(0)] * B
        for P, (s_lo, s_hi, M) in acc.items():
            g = Fraction(M, 2 ** 53)
            if g >= Fraction(1, 2):
                raise SymftError("mean_abs_error: too many configurations for the float sums' error bound")
            g = g / (1 - g)
            for b in range(B):
                lo_s[b] += P * Fraction(float(s_lo[b])) / (1 + g)
                hi_s[b] += P * Fraction(float(s_hi[b])) / (1 - g)
        if tail > 0:
            if not np.all(np.isfinite(D)):
                hi_s = None
            else:
                hi_s = [h + tail * Fraction(float(d)) for h, d in zip(hi_s, D)]
        if hi_s is not None:
            lo_m, hi_m = sum(lo_s, Fraction(0)) / B, sum(hi_s, Fraction(0)) / B
            lo_f, hi_f = float_down(lo_m), float_up(hi_m)
            if method != "auto" or hi_f - lo_f <= max_width * hi_f:
                out.update(abs_mean_lo=lo_f, abs_mean_hi=hi_f, abs_method="exact" if lo_f == hi_f else "rigorous",
                           abs_order=k, abs_confidence=None)
                return out
        if method in ("exact", "rigorous"):
            raise InvalidArgument("method: no proved bound on |Δ| beyond the evaluated configurations (the output's "
                                  "interval box is unbounded); use method='statistical'")
    elif method in ("exact", "rigorous"):
        raise InvalidArgument(f"method: {method!r} handles neuron crashes only; use method='statistical'")
    plan = plan_strata(net, model, n_samples)
    check_budget(net, model, plan, B, False)
    stats = stratified_statistics(pb, model, plan, seed,
                                  _MeanAbs(Y0), runner=runner)
    if not stats:
        lo_f = hi_f = 0.0
    else:
        _, lo, hi, _ = t_interval(stats, confidence)
        # the float sums of the enumerated strata: widened by a relative 1e-12, as bounded_interval does
        lo_f, hi_f = max(0.0, float(lo[0]) - 1e-12 * abs(float(lo[0]))), float(hi[0]) + 1e-12 * abs(float(hi[0]))
    out.update(abs_mean_lo=lo_f, abs_mean_hi=hi_f, abs_method="statistical", abs_order=None,
               abs_confidence=float(confidence))
    return out


class _MeanAbs:
    """``Y ↦ mean over the inputs of max_k |Y_k − Y0_k|`` (a class, so that it travels to workers)."""

    def __init__(self, Y0):
        self.Y0 = Y0

    def __call__(self, Y):
        return np.abs(Y - self.Y0[None]).max(axis=2).mean(axis=1, keepdims=True)


@result
@dataclass(frozen=True)
class Sweep:
    """Points ``{"p", "clean_accuracy", "accuracy_lo", "accuracy_hi", "change_lo", "change_hi", "method",
    "abs_mean_lo", "abs_mean_hi", "abs_method", "abs_order", "abs_confidence", "seconds"}`` of a sweep (the
    ``abs_`` keys: :func:`mean_abs_error`, on the norm :data:`NORM`), the sites and the number of inputs.

    Examples
    --------
    >>> Sweep((), ("1",), 0, "toy").as_dict()["sites"]
    ['1']
    """

    points: tuple
    sites: tuple
    n_inputs: int
    data: str = ""

    def as_dict(self) -> dict:
        """JSON-ready dictionary.

        Examples
        --------
        >>> Sweep((), ("1",), 3).as_dict()["n_inputs"]
        3
        """
        return {"points": [dict(pt) for pt in self.points], "sites": list(self.sites), "n_inputs": self.n_inputs,
                "data": self.data, "norm": NORM}

    def figure(self, path=None):
        """Accuracy and P(prediction changes) against p (log scale), each point's interval as a band.

        Uses a :class:`matplotlib.figure.Figure` of its own (no pyplot, no backend change); saves to
        ``path`` (.png, .svg or .pdf) when given and returns the figure.

        Examples
        --------
        >>> s = Sweep(({"p": 0.01, "clean_accuracy": 1.0, "accuracy_lo": 0.9, "accuracy_hi": 0.92,
        ...             "change_lo": 0.08, "change_hi": 0.1, "method": "exact", "seconds": 0.0},), ("1",), 5)
        >>> s.figure().axes[0].get_xscale()      # doctest: +SKIP
        'log'
        """
        try:
            from matplotlib.backends.backend_agg import FigureCanvasAgg
            from matplotlib.figure import Figure
        except ImportError:
            raise SymftError("the figure needs matplotlib: pip install 'symft[plot]'") from None
        with_abs = bool(self.points) and all("abs_mean_hi" in pt for pt in self.points)
        fig = Figure(figsize=(13.5 if with_abs else 9, 3.8))
        FigureCanvasAgg(fig)
        axes = fig.subplots(1, 3 if with_abs else 2)
        ax1 = axes[0]
        p = [pt["p"] for pt in self.points]
        panels = [("accuracy", "accuracy under crashes", "method"), ("change", "P(prediction changes)", "method")]
        if with_abs:
            panels.append(("abs_mean", "E max_k |Δ_k| (mean over the inputs)", "abs_method"))
        for ax, (key, label, how) in zip(axes, panels):
            lo = [pt[f"{key}_lo"] for pt in self.points]
            hi = [pt[f"{key}_hi"] for pt in self.points]
            ax.fill_between(p, lo, hi, alpha=0.3, step=None, label="interval (exact, proved or statistical)")
            ax.plot(p, [(a + b) / 2 for a, b in zip(lo, hi)], "o-", ms=3, label=label)
            for x, pt, y in zip(p, self.points, hi):
                ax.annotate(pt[how][0], (x, y), fontsize=6, xytext=(0, 3), textcoords="offset points")
            ax.set_xscale("log")
            if key == "abs_mean" and min(lo, default=0) > 0:
                ax.set_yscale("log")
            ax.set_xlabel("crash probability p at " + ", ".join(map(str, self.sites)))
            ax.set_ylabel(label)
            ax.grid(alpha=0.3)
        if self.points:
            ax1.axhline(self.points[0]["clean_accuracy"], color="k", lw=0.8, ls="--", label="without crashes")
        ax1.legend(fontsize=7)
        fig.suptitle(f"{self.data or 'dataset'}: {self.n_inputs} inputs (e = exact, r = rigorous, s = statistical)",
                     fontsize=9)
        fig.tight_layout()
        if path is not None:
            fig.savefig(path)
        return fig


def check_sweep(net, X, probs, sites, semantics, n_samples) -> None:
    """Refuse (before any point) a sweep whose sampling is predicted to exceed the time limit (:mod:`symft.cost`).

    Each point may sample twice (accuracy, then ``E max |Δ|``) the configurations of its stratified plan.

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> from symft.cost import time_limit
    >>> net = random_network([4, 8, 2], seed=0)
    >>> with time_limit(1e-6):
    ...     check_sweep(net, np.ones((3, 4)), [0.01, 0.1], ("1",), "output_zero", 4000)
    Traceback (most recent call last):
    ...
    symft.errors.TooLargeError: sweep: 2 points × 4000 samples: would take about ...
    """
    from ..engines.sampling import draw_estimate
    from ..engines.stratified import plan_strata

    draws, model = 0, None
    for q in probs:
        model = NeuronCrash({s: float(q) for s in sites}, semantics)
        draws += 2 * sum(st.draws for st in plan_strata(net, model, n_samples))
    B = int(np.asarray(X).shape[0]) if np.ndim(X) > 1 else 1
    cost.check(draw_estimate(net, model, draws, B), f"sweep: {len(probs)} points × {n_samples} samples",
               "use fewer points (--p LO:HI:N) or samples (--samples), or a subset of the data")


def sweep(net, X, y, probabilities, *, sites=None, semantics: str = "output_zero", method: str = "auto",
          n_samples: int = 4000, seed: int = 0, confidence: float = 0.95, data: str = "",
          progress=None, runner=None, piece_runner=None) -> Sweep:
    r"""Accuracy under crashes, ``P(prediction changes)`` and ``E max_k |Δ_k|`` at each crash probability of a grid.

    Each point is two parts (:func:`sweep_part`): :func:`symft.analysis.accuracy.accuracy` and
    :func:`mean_abs_error` at that probability, each under an equal share of the time limit (the limit of
    :mod:`symft.cost` divided by twice the number of points: automatic orders adapt to it).

    Parameters
    ----------
    net : Network
    X, y : array_like
        Inputs ``(B, n_0)`` and labels.
    probabilities : sequence of float
        Crash probabilities in ``(0, 1]`` (see :func:`probability_grid`).
    sites : sequence, optional
        The crash sites (default: every hidden site); every neuron of them crashes independently with the
        probability of the point.
    semantics, method, n_samples, seed, confidence
        As :func:`symft.analysis.accuracy.accuracy` (each point says which method answered; the
        ``abs_`` keys say it for :func:`mean_abs_error`, which gets the same arguments).
    data : str
        A name for the dataset (recorded).
    progress : callable, optional
        Called with ``(index, p)`` before each point (in this process, without ``runner``).
    runner : callable, optional
        ``runner(piece, items, shared)`` returns ``[piece(*shared, item) for item in items]`` in the order of
        ``items``, wherever it runs them (:func:`symft.distributed.sweep` hands the parts to a Dask cluster);
        never changes the answer.
    piece_runner : callable, optional
        The ``runner`` each part hands its blocks of draws to (:func:`symft.engines.stratified.stratified_statistics`).

    Returns
    -------
    Sweep

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> net = random_network([4, 6, 3], seed=0, activation="tanh")
    >>> X = np.random.default_rng(0).normal(size=(10, 4))
    >>> def backwards(piece, items, shared):                    # any order, the results in the items' order
    ...     return [piece(*shared, it) for it in items[::-1]][::-1]
    >>> a = sweep(net, X, np.zeros(10, int), [1e-3, 1e-1], runner=backwards)
    >>> b = sweep(net, X, np.zeros(10, int), [1e-3, 1e-1])
    >>> [{k: v for k, v in pt.items() if k != "seconds"} for pt in a.points] == \
    ...     [{k: v for k, v in pt.items() if k != "seconds"} for pt in b.points]
    True
    """
    probs = list(probabilities)
    if not probs or not all(isinstance(q, Real) and not isinstance(q, bool) and 0 < float(q) <= 1 for q in probs):
        raise InvalidArgument("probabilities: expected crash probabilities in (0, 1]")
    sites = tuple(net.hidden_sites if sites is None else sites)
    if not sites:
        raise InvalidArgument("sites: the network has no hidden site; name the sites to crash")
    check_sweep(net, X, probs, sites, semantics, n_samples)
    limit, hint = cost.current_limit()
    share = None if math.isinf(limit) else limit / (2 * len(probs))  # each point's two parts: their share
    settings = SweepSettings(tuple(sites), semantics, method, n_samples, seed, confidence, share, hint,
                             piece_runner)
    parts = [(kind, float(q)) for q in probs for kind in ("accuracy", "abs")]
    if runner is None:
        res = []
        for i, part in enumerate(parts):
            if progress is not None and part[0] == "accuracy":
                progress(i // 2, probs[i // 2])
            res.append(sweep_part(net, X, y, settings, part))
    else:
        res = list(runner(sweep_part, parts, (net, X, y, settings)))
    points = [sweep_point(q, r, a, seconds) for q, (r, (a, seconds)) in zip(probs, zip(res[::2], res[1::2]))]
    if any(not math.isfinite(v) for pt in points for k, v in pt.items() if isinstance(v, float) and v is not None):
        raise SymftError("sweep: a point came out not finite")  # pragma: no cover - accuracy refuses before
    return Sweep(tuple(points), sites, int(np.asarray(X).shape[0]), data)


@dataclass(frozen=True)
class SweepSettings:
    """What every part of a sweep shares: the sites, the settings of :func:`sweep`, the time share of a part
    (``None``: no limit) and how to raise it, and the ``runner`` of a part's blocks of draws.

    Examples
    --------
    >>> SweepSettings((1,), "output_zero", "auto", 4000, 0, 0.95, 2.5, "--max-time SECONDS").model(0.1)
    NeuronCrash(p=((1, 0.1),), semantics='output_zero')
    """

    sites: tuple
    semantics: str
    method: str
    n_samples: int
    seed: int
    confidence: float
    share: float | None
    hint: str
    piece_runner: object = None

    def model(self, q) -> NeuronCrash:
        """The failure model of the point at probability ``q``: every neuron of the sites crashes with it."""
        return NeuronCrash({s: float(q) for s in self.sites}, self.semantics)


def sweep_part(net, X, y, settings: SweepSettings, part):
    """One part of a sweep, ``part = (kind, p)``, under its share of the time limit.

    ``("accuracy", p)``: :func:`symft.analysis.accuracy.accuracy` over every input (an
    :class:`~symft.analysis.accuracy.AccuracyResult`); ``("abs", p)``: ``(mean_abs_error(...), seconds)``.

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> net = random_network([3, 4, 2], seed=0, activation="tanh")
    >>> st = SweepSettings((1,), "output_zero", "auto", 200, 0, 0.95, None, "max_time=SECONDS")
    >>> sweep_part(net, np.ones((2, 3)), [0, 1], st, ("accuracy", 0.1)).method
    'exact'
    >>> sweep_part(net, np.ones((2, 3)), [0, 1], st, ("abs", 0.1))[0]["abs_method"]
    'rigorous'
    """
    from .accuracy import accuracy

    kind, q = part
    st = settings
    model = st.model(q)
    with cost.time_limit(st.share, st.hint):     # automatic orders adapt to the share (choose_order)
        if kind == "accuracy":
            return accuracy(net, X, y, model, method=st.method, n_samples=st.n_samples, seed=st.seed,
                            confidence=st.confidence, top=0, runner=st.piece_runner)
        if kind != "abs":
            raise InvalidArgument(f"part: expected ('accuracy', p) or ('abs', p), got {part!r}")
        t0 = time.perf_counter()
        a = mean_abs_error(net, X, model, method=st.method, n_samples=st.n_samples, seed=st.seed,
                           confidence=st.confidence, runner=st.piece_runner)
        return a, time.perf_counter() - t0


def sweep_point(q, r, a, seconds) -> dict:
    """The point of a sweep at probability ``q`` from its accuracy ``r``, its E|Δ| ``a`` and that part's seconds.

    Examples
    --------
    >>> from symft.analysis.accuracy import AccuracyResult
    >>> r = AccuracyResult(clean_accuracy=1.0, clean_correct=2, n_inputs=2, accuracy_lo=0.5, accuracy_hi=0.5,
    ...                    change_lo=0.5, change_hi=0.5, method="exact", seconds=1.0)
    >>> a = {"abs_mean_lo": 0.1, "abs_mean_hi": 0.2, "abs_method": "rigorous", "abs_order": 2,
    ...      "abs_confidence": None, "norm": NORM}
    >>> sweep_point(0.01, r, a, 0.5)["seconds"]
    1.5
    """
    return {"p": float(q), "clean_accuracy": r.clean_accuracy, "accuracy_lo": r.accuracy_lo,
            "accuracy_hi": r.accuracy_hi, "change_lo": r.change_lo, "change_hi": r.change_hi,
            "method": r.method, **{k: v for k, v in a.items() if k != "norm"}, "seconds": r.seconds + seconds}
