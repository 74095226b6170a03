r"""Monte Carlo estimation of the output error, with confidence intervals, on any graph.

:func:`monte_carlo` estimates ``E Δ`` and ``Var Δ`` (``Δ = y^{faulty} − y``
at the output, theory D4) under independent Bernoulli failures — per neuron
of any crash site (:class:`~symft.faults.NeuronCrash`; a site's neurons are
the elements of its tensor, row-major) and/or per synapse of the dense ops
feeding a site (:class:`~symft.faults.SynapseCrash`) — from an explicit
seed.  Crash masks are drawn per site (sizes from
:meth:`~symft.graph.network.Network.site_size`) and evaluated through the
walker (:func:`symft.engines.forward.forward_masked`: only the nodes
downstream of a failure are recomputed), so convolutions, residual adds and
pools need nothing special.  It returns a
frozen :class:`MonteCarloResult` with means, variances, confidence intervals
for the means (Student t or normal) and Clopper–Pearson intervals for tail
probabilities ``P{Δ ≥ ε}`` and ``P{|Δ| ≥ ε}``.

Design points:

* **Only the configurations with a failure are sampled.**  Without a
  failure ``Δ = 0`` exactly, and that happens with the known probability
  ``Π_l (1 − p_l)^{n_l}``; so ``E Δ = P(at least one failure) · E[Δ | at least
  one failure]`` (:func:`crash_probability`), and the sampler draws directly
  from the law given at least one failure (:func:`crashed_errors`): where
  failures are rare, the failure counts first, then their positions, with
  random draws proportional to the failures rather than to the units; where
  the units are few and failures common, one uniform per unit, redrawing
  the rows without a failure.  The interval is the t interval
  of those draws scaled by the exact probability.  When failures are rare the
  plain average of ``n`` configurations holds only a handful of non-zero
  terms (often none: a degenerate interval ``[0, 0]``) and its nominal 95%
  interval covers far less; the draws here are never wasted on ``Δ = 0``.
* **Honest about the regime.**  The result says how many draws with a
  failure it used (``crashed_samples``) and carries ``warnings`` (also
  issued as :class:`SamplingWarning`) when they are few or the errors are so
  skewed that the interval may cover less than its level.
* **Bounded memory, refused when absurd.**  Draws are made and evaluated in
  blocks whose size depends only on the network and the failure model (not
  on a user memory setting), so a given seed gives the same answer whatever
  the chunking of the forward pass; moments are combined across blocks with
  Chan's parallel update (numerically stable).  A run whose estimated time
  exceeds the time limit of :mod:`symft.cost` is refused up front
  (:class:`~symft.errors.TooLargeError`, with the estimate and the
  alternatives).
* **Reproducible.**  Block ``k`` uses the generator
  ``numpy.random.default_rng([seed, k])``; the seed is recorded in the result.
* **The Bernoulli law of D3**, up to the float64 value of each ``p``.

Also here: the quantiles these intervals need, without SciPy
(:func:`normal_quantile`, :func:`t_quantile`), :func:`clopper_pearson`, and
the sample-size planners :func:`samples_for_halfwidth` and
:func:`samples_for_proportion`.

Examples
--------
>>> from symft.graph.network import mean_network
>>> from symft.faults import NeuronCrash
>>> r = monte_carlo(mean_network(4), [1, 1, 1, 1], NeuronCrash({0: 0.25}), 20000, seed=0)
>>> r.samples, r.seed, r.crashed_samples      # 20000 · (1 − 0.75^4) draws with a failure
(20000, 0, 13672)
>>> bool(r.ci_low[0] <= -0.25 <= r.ci_high[0])     # E Δ = -p (theory §4)
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from numbers import Integral, Real
from statistics import NormalDist
from warnings import warn as _warn

import numpy as np
from ..lazyimport import sympy as sp

from .. import cost
from ..errors import FaultModelError, InvalidArgument, TooLargeError
from ..faults import NeuronCrash, SynapseCrash, synapse_shape
from ..problem import as_model, make_problem
from ..progress import progress
from ..threads import limit_blas
from .enumeration import node_cost
from .forward import forward_masked
from ..results import result
from ..utils import first_true

__all__ = [
    "MonteCarloResult",
    "SamplingWarning",
    "monte_carlo",
    "monte_carlo_result",
    "block_moments",
    "merge_moments",
    "crash_probability",
    "crashed_sample_size",
    "crashed_errors",
    "sample_errors",
    "normal_quantile",
    "t_quantile",
    "mean_interval",
    "binomial_cdf",
    "clopper_pearson",
    "samples_for_halfwidth",
    "samples_for_proportion",
    "error_bound",
    "interval_warnings",
    "failure_groups",
    "random_subsets",
    "draw_seconds",
    "draw_estimate",
]

#: Memory budget (bytes) of the masks of one block of samples.
BLOCK_BYTES = 32 * 2 ** 20
#: Largest block of samples.
MAX_BLOCK = 1 << 14
#: Units per expected draw below which configurations are drawn one uniform per unit (see :func:`_crashed_masks`).
PER_UNIT_LIMIT = 64
#: Fewest draws with a failure :func:`monte_carlo` makes (when ``n_samples`` is at least this).
MIN_CRASHED = 1000
#: Below this many draws with a failure the result carries a warning.
FEW_CRASHED = 100
#: Library calls predicted to take longer than this (seconds) are refused unless ``force=True`` (the
#: library's limit of :mod:`symft.cost`; :func:`symft.cost.time_limit` or ``symft --max-time`` set another).
MAX_SECONDS = cost.LIBRARY_MAX_TIME
#: Fixed work of one draw with a failure (masks, bookkeeping), in multiply-adds, for the time model.
_PER_DRAW_MACS = 2000


# ---------------------------------------------------------------------- quantiles

def _check_level(confidence, where="confidence"):
    if isinstance(confidence, bool) or not isinstance(confidence, Real) or not (0 < float(confidence) < 1):
        raise InvalidArgument(f"{where}: expected a number strictly between 0 and 1, got {confidence!r}")
    return float(confidence)


def normal_quantile(q: float) -> float:
    r"""The standard normal quantile ``Φ^{-1}(q)`` (Wichura's AS 241, ~1e-16).

    Examples
    --------
    >>> round(normal_quantile(0.975), 6), normal_quantile(0.5)
    (1.959964, 0.0)
    """
    q = _check_level(q, "q")
    return NormalDist().inv_cdf(q)


def _t_abs_cdf(t: float, df: int) -> float:
    """``P{|T| ≤ t}`` for Student's t with integer ``df`` (A&S 26.7.3/26.7.4, finite series)."""
    theta = math.atan(t / math.sqrt(df))
    c2 = math.cos(theta) ** 2
    s = math.sin(theta)
    if df % 2 == 1:
        if df == 1:
            return 2 * theta / math.pi
        term, acc = 1.0, 1.0
        for k in range(1, (df - 3) // 2 + 1):
            term *= c2 * (2 * k) / (2 * k + 1)
            acc += term
        return 2 / math.pi * (theta + s * math.cos(theta) * acc)
    term, acc = 1.0, 1.0
    for k in range(1, (df - 2) // 2 + 1):
        term *= c2 * (2 * k - 1) / (2 * k)
        acc += term
    return s * acc


def t_quantile(q: float, df: int) -> float:
    r"""Student's t quantile with ``df`` degrees of freedom, without SciPy.

    For ``df ≤ 1000``: bisection on the exact finite-series CDF of an
    integer-``df`` t variable (Abramowitz & Stegun 26.7.3–4).  Above:
    the Cornish–Fisher expansion A&S 26.7.5 to order ``df^{-4}`` (error far
    below 1e-12 there).

    Parameters
    ----------
    q : float
        Probability in (0, 1).
    df : int
        Degrees of freedom, ≥ 1.

    Examples
    --------
    >>> round(t_quantile(0.975, 10), 4), round(t_quantile(0.995, 1), 3)
    (2.2281, 63.657)
    >>> t_quantile(0.5, 3)
    0.0
    """
    q = _check_level(q, "q")
    if isinstance(df, bool) or not isinstance(df, Integral) or df < 1:
        raise InvalidArgument(f"df: expected a positive integer, got {df!r}")
    df = int(df)
    if q == 0.5:
        return 0.0
    if q < 0.5:
        return -t_quantile(1 - q, df)
    if df > 1000:
        z = normal_quantile(q)
        g1 = (z ** 3 + z) / 4
        g2 = (5 * z ** 5 + 16 * z ** 3 + 3 * z) / 96
        g3 = (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / 384
        g4 = (79 * z ** 9 + 776 * z ** 7 + 1482 * z ** 5 - 1920 * z ** 3 - 945 * z) / 92160
        return z + g1 / df + g2 / df ** 2 + g3 / df ** 3 + g4 / df ** 4
    target = 2 * q - 1  # P{|T| ≤ t}
    lo, hi = 0.0, 1.0
    while _t_abs_cdf(hi, df) < target:
        hi *= 2
    for _ in range(200):
        mid = (lo + hi) / 2
        if mid in (lo, hi):
            break
        if _t_abs_cdf(mid, df) < target:
            lo = mid
        else:
            hi = mid
    return hi


def mean_interval(mean: float, std: float, n: int, confidence: float = 0.95, method: str = "t"):
    r"""Two-sided confidence interval for a mean: ``mean ± c · std / sqrt(n)``.

    ``c`` is the Student t quantile with ``n − 1`` degrees of freedom
    (``method="t"``) or the normal one (``"normal"``).  ``std`` is the sample
    standard deviation (``ddof = 1``).

    Examples
    --------
    >>> lo, hi = mean_interval(1.0, 2.0, 100, 0.95, "normal")
    >>> round(lo, 4), round(hi, 4)
    (0.608, 1.392)
    """
    confidence = _check_level(confidence)
    if method not in ("t", "normal"):
        raise InvalidArgument(f"method: expected 't' or 'normal', got {method!r}")
    if not isinstance(n, Integral) or n < 2:
        raise InvalidArgument(f"n: expected at least 2 samples for an interval, got {n!r}")
    q = 0.5 + confidence / 2
    c = t_quantile(q, int(n) - 1) if method == "t" else normal_quantile(q)
    h = c * float(std) / math.sqrt(n)
    return float(mean) - h, float(mean) + h


# ---------------------------------------------------------------------- Clopper–Pearson

def binomial_cdf(k: int, n: int, p: float) -> float:
    r"""``P{Bin(n, p) ≤ k}`` in float64, accurate to about 1e-12 relative.

    The probability mass is summed in log space around the mode: terms more
    than ``40`` standard deviations (plus 60) away are below ``e^{-800}``
    and dropped.  Log-probabilities come from ``math.lgamma`` at the mode and
    the exact ratio recurrence ``f(j+1)/f(j) = (n−j)/(j+1) · p/(1−p)``.

    Examples
    --------
    >>> binomial_cdf(1, 3, 0.5)          # (1 + 3)/8
    0.5
    >>> round(binomial_cdf(0, 10, 0.1), 12) == round(0.9 ** 10, 12)
    True
    """
    n, k = int(n), int(k)
    p = float(p)
    if k < 0:
        return 0.0
    if k >= n or p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 0.0
    sd = math.sqrt(n * p * (1 - p))
    mode = min(n, max(0, int(math.floor((n + 1) * p))))
    w = int(40 * sd) + 60
    a, b = max(0, mode - w), min(n, mode + w)
    if k < a:
        return 0.0
    j = np.arange(a, b + 1, dtype=float)
    lr = np.log((n - j[:-1]) / (j[:-1] + 1)) + math.log(p) - math.log1p(-p)
    la = math.lgamma(n + 1) - math.lgamma(a + 1) - math.lgamma(n - a + 1) + a * math.log(p) + (n - a) * math.log1p(-p)
    logf = la + np.concatenate(([0.0], np.cumsum(lr)))
    m = logf.max()
    w_ = np.exp(logf - m)
    tot = w_.sum()
    upto = w_[: min(k, b) - a + 1].sum()
    # normalise by the total mass of the window (it is 1 up to e^{-800}) for extra accuracy
    return float(min(1.0, upto / tot))


def _bisect_p(f, target, increasing):
    lo, hi = 0.0, 1.0
    for _ in range(1100):
        mid = (lo + hi) / 2
        if mid in (lo, hi) or hi - lo <= 1e-13 * hi:
            break
        v = f(mid)
        if (v < target) == increasing:
            lo = mid
        else:
            hi = mid
    return lo, hi


#: Relative outward margin applied to Clopper–Pearson limits (covers the ~1e-12 CDF error).
CP_MARGIN = 1e-9


def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    r"""Exact (Clopper–Pearson) two-sided interval for a binomial proportion.

    The lower limit ``p_L`` solves ``P{Bin(n, p_L) ≥ k} = α/2`` and the upper
    ``p_U`` solves ``P{Bin(n, p_U) ≤ k} = α/2`` (α = 1 − confidence), i.e. the
    Beta quantiles ``B(α/2; k, n−k+1)`` and ``B(1−α/2; k+1, n−k)``.  Both
    are found by bisection on :func:`binomial_cdf`; the limits are then moved
    outward by the relative margin :data:`CP_MARGIN` so that the ~1e-12
    error of the float CDF cannot make the interval too narrow.

    Examples
    --------
    >>> lo, hi = clopper_pearson(0, 100, 0.95)
    >>> lo, round(hi, 5)                  # 1 - 0.025^(1/100)
    (0.0, 0.03622)
    >>> lo, hi = clopper_pearson(5, 10, 0.95)
    >>> round(lo, 4), round(hi, 4)
    (0.1871, 0.8129)
    """
    confidence = _check_level(confidence)
    for name, v in (("k", k), ("n", n)):
        if isinstance(v, bool) or not isinstance(v, Integral) or v < 0:
            raise InvalidArgument(f"{name}: expected a non-negative integer, got {v!r}")
    if n == 0 or k > n:
        raise InvalidArgument(f"k, n: expected 0 ≤ k ≤ n and n ≥ 1, got k = {k}, n = {n}")
    a = (1 - confidence) / 2
    if k == 0:
        lo = 0.0
    else:
        # P{X ≥ k} = 1 - cdf(k-1) increases with p
        lo, _ = _bisect_p(lambda p: 1 - binomial_cdf(k - 1, n, p), a, True)
        lo = max(0.0, lo * (1 - CP_MARGIN))
    if k == n:
        hi = 1.0
    else:
        # P{X ≤ k} decreases with p
        _, hi = _bisect_p(lambda p: binomial_cdf(k, n, p), a, False)
        hi = min(1.0, hi * (1 + CP_MARGIN) + 1e-300)
    return lo, hi


# ---------------------------------------------------------------------- planners

def samples_for_halfwidth(halfwidth: float, var: float, confidence: float = 0.95,
                          method: str = "t") -> int:
    r"""Samples needed for a confidence interval of half-width ``halfwidth`` on a mean.

    ``var`` is a variance estimate or an upper bound (e.g. an enclosure's
    ``var_hi``).  Methods: ``"normal"`` — ``n = ⌈(z σ / h)²⌉``;
    ``"t"`` — the smallest ``n`` with ``t_{n−1} σ / √n ≤ h``;
    ``"chebyshev"`` — distribution-free, ``n = ⌈σ² / (α h²)⌉`` so that
    ``P{|mean − μ| ≥ h} ≤ α`` by Chebyshev's inequality.

    Examples
    --------
    >>> samples_for_halfwidth(0.01, 1.0, 0.95, "normal")
    38415
    >>> samples_for_halfwidth(0.5, 1.0, 0.95, "t")
    18
    >>> samples_for_halfwidth(0.1, 1.0, 0.95, "chebyshev")
    2000
    """
    confidence = _check_level(confidence)
    h = float(halfwidth)
    v = float(var)
    if not (h > 0 and math.isfinite(h)):
        raise InvalidArgument(f"halfwidth: expected a positive number, got {halfwidth!r}")
    if not (v >= 0 and math.isfinite(v)):
        raise InvalidArgument(f"var: expected a finite non-negative number, got {var!r}")
    if v == 0:
        return 2
    alpha = 1 - confidence
    if method == "chebyshev":
        return max(2, math.ceil(v / (alpha * h * h)))
    z = normal_quantile(0.5 + confidence / 2)
    n = max(2, math.ceil((z * z * v) / (h * h)))
    if method == "normal":
        return n
    if method != "t":
        raise InvalidArgument(f"method: expected 't', 'normal' or 'chebyshev', got {method!r}")
    sd = math.sqrt(v)
    q = 0.5 + confidence / 2

    def wide(m):        # the t interval with m samples is still wider than asked
        return t_quantile(q, m - 1) * sd / math.sqrt(m) > h

    # t_{m-1} > z, so no m below the normal answer n is enough; double past the answer, then bisect
    # (the half-width decreases in m): O(log n) quantiles instead of a walk of n/1000 steps
    lo, hi = n - 1, n
    while wide(hi):
        lo, hi = hi, 2 * hi
    return first_true(lambda m: not wide(m), lo, hi)


def samples_for_proportion(halfwidth: float, confidence: float = 0.95, p: float | None = None) -> int:
    r"""Samples needed to estimate a probability within ``± halfwidth``.

    With no guess ``p`` (or any ``p``), Hoeffding's inequality gives the
    distribution-free ``n = ⌈ln(2/α) / (2 h²)⌉``; with a guess ``p`` the
    normal approximation ``n = ⌈z² p(1−p) / h²⌉`` is returned instead (smaller,
    approximate).

    Examples
    --------
    >>> samples_for_proportion(0.01, 0.95)
    18445
    >>> samples_for_proportion(0.01, 0.95, p=0.01)
    381
    """
    confidence = _check_level(confidence)
    h = float(halfwidth)
    if not (0 < h < 1):
        raise InvalidArgument(f"halfwidth: expected a number in (0, 1), got {halfwidth!r}")
    if p is None:
        return math.ceil(math.log(2 / (1 - confidence)) / (2 * h * h))
    p = float(p)
    if not 0 <= p <= 1:
        raise InvalidArgument(f"p: expected a probability in [0, 1], got {p!r}")
    z = normal_quantile(0.5 + confidence / 2)
    return max(1, math.ceil(z * z * p * (1 - p) / (h * h)))


# ---------------------------------------------------------------------- the sampler

class SamplingWarning(UserWarning):
    """A Monte Carlo interval that may cover less than its nominal level (few or very skewed draws)."""


def _models(model):
    if isinstance(model, (NeuronCrash, SynapseCrash)):
        model = (model,)
    try:
        model = tuple(model)
    except TypeError:
        raise FaultModelError(f"model: expected a NeuronCrash, a SynapseCrash or a pair of them, "
                              f"got {type(model).__name__}") from None
    neuron = [m for m in model if isinstance(m, NeuronCrash)]
    syn = [m for m in model if isinstance(m, SynapseCrash)]
    if len(neuron) + len(syn) != len(model) or len(neuron) > 1 or len(syn) > 1 or not model:
        raise FaultModelError("model: expected a NeuronCrash, a SynapseCrash, or one of each")
    return (neuron[0] if neuron else None), (syn[0] if syn else None)


def _number(q, where):
    if isinstance(q, sp.Basic) and q.free_symbols:
        raise FaultModelError(f"{where} = {q} is symbolic; sampling needs a number")
    return float(q)


def _groups(net, neuron, syn):
    """The units that may fail, by site: a list of ``(kind, site key, count, p)`` with ``p > 0``.

    A neuron group counts the neurons of its site (:meth:`~symft.graph.network.Network.site_size`,
    any tensor shape); a synapse group the weights of the dense op feeding its site
    (:func:`~symft.faults.synapse_shape`, which refuses other ops).
    """
    groups = []
    if neuron is not None:
        neuron.check(net)
        for l in neuron.layers:
            groups.append(("neuron", l, net.site_size(l), _number(neuron.probability(l), f"p[{l}]")))
    if syn is not None:
        for l in syn.layers:
            groups.append(("synapse", l, math.prod(synapse_shape(net, l, "p")),
                           _number(syn.probability(l), f"p[{l}]")))
    return [g for g in groups if g[3] > 0 and g[2] > 0]


def _log_none(groups):
    """``log P(no unit of the group fails) = n log(1 − p)`` per group (``−inf`` when ``p = 1``)."""
    return np.array([n * math.log1p(-p) if p < 1 else -math.inf for _, _, n, p in groups], dtype=float)


def crash_probability(net, model) -> float:
    r"""The probability that at least one unit fails: ``1 − Π_l (1 − p_l)^{n_l}``.

    ``n_l`` counts the neurons (or, for a :class:`~symft.faults.SynapseCrash`,
    the synapses ``n_l n_{l−1}``) of layer ``l``.  Computed as
    ``−expm1(Σ_l n_l log1p(−p_l))``, accurate to a few units in the last place
    of the float64 values of ``p_l`` (the law the sampler draws from).  Every
    configuration without a failure has ``Δ = 0`` exactly, so
    ``E f(Δ) = P(at least one failure) · E[f(Δ) | at least one failure]`` for
    any ``f`` with ``f(0) = 0``: :func:`monte_carlo` samples only the second
    factor.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> crash_probability(mean_network(4), NeuronCrash({0: 0.5}))      # 1 − (1/2)^4
    0.9375
    >>> crash_probability(mean_network(4), NeuronCrash({0: 0}))
    0.0
    """
    neuron, syn = _models(model)
    groups = _groups(net, neuron, syn)
    if not groups:
        return 0.0
    return float(-math.expm1(float(_log_none(groups).sum())))


def failure_groups(net, model):
    r"""The units that may fail, by site, and the crash semantics: ``([(kind, site key, count, p), ...], semantics)``.

    ``kind`` is ``"neuron"`` or ``"synapse"``; only groups with ``p > 0`` and
    at least one unit are listed, ``p`` as the float64 the samplers draw with.
    The model is checked against the network (a :class:`~symft.faults.NeuronCrash`,
    a :class:`~symft.faults.SynapseCrash`, or one of each).

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> failure_groups(random_network([2, 3, 1], seed=0), NeuronCrash({1: 0.1, 0: 0.2}))
    ([('neuron', 0, 2, 0.2), ('neuron', 1, 3, 0.1)], 'output_zero')
    """
    neuron, syn = _models(model)
    if neuron is not None:
        neuron = as_model(net, neuron)
    if syn is not None:
        syn = as_model(net, syn)
    semantics = neuron.semantics if neuron is not None else "output_zero"
    return _groups(net, neuron, syn), semantics


def random_subsets(rng, k, n: int) -> np.ndarray:
    r"""Boolean rows of length ``n``; row ``r`` has ``k[r]`` True entries at uniformly random positions.

    The positions of the failures given their number (the sampler of
    :func:`monte_carlo`): random draws proportional to ``k``, not to ``n``,
    when the rows are sparse.

    Examples
    --------
    >>> m = random_subsets(np.random.default_rng(0), np.array([0, 2, 5]), 5)
    >>> m.sum(axis=1).tolist()
    [0, 2, 5]
    """
    return _subsets(rng, np.asarray(k, dtype=np.int64), int(n))


def _subsets(rng, k, n):
    """Boolean rows of length ``n``; row ``r`` has ``k[r]`` True entries at uniformly random positions.

    Sparse rows (``min(k, n − k)² ≤ 4n``) use one random number per chosen
    position, not per position of the row: positions are drawn one after the
    other, each uniformly among those not yet chosen (by rejection), which is
    sampling without replacement; for wide rows the repeats of a batch of
    draws with replacement are redrawn instead — a rule that looks only at
    which draws are equal, never at their values, so the law of the final set
    is invariant under every relabelling of the positions: uniform.  Denser
    rows take the ``k`` smallest of ``n`` uniform keys.  Rows with
    ``k > n/2`` draw the complement.
    """
    m = k.size
    out = np.zeros((m, n), dtype=bool)
    flip = 2 * k > n
    kk = np.minimum(k, n - k)          # = n − k where flipped (2k > n), else k; no select pass
    sparse = (kk > 0) & (kk * kk <= 4 * n)
    rows = np.flatnonzero(sparse)
    if rows.size:
        rows = rows[np.argsort(kk[rows], kind="stable")]
        ks = kk[rows]
        bounds = np.flatnonzero(np.diff(ks)) + 1
        for grp in np.split(rows, bounds):
            w = int(kk[grp[0]])
            idx = rng.integers(0, n, size=(grp.size, w))
            if w <= 16:
                for j in range(1, w):
                    todo = np.arange(grp.size)
                    while todo.size:
                        rep = (idx[todo, :j] == idx[todo, j][:, None]).any(axis=1)
                        todo = todo[rep]
                        idx[todo, j] = rng.integers(0, n, size=todo.size)
            else:
                todo = np.arange(grp.size)
                while todo.size:
                    sub = idx[todo]
                    order = np.argsort(sub, axis=1, kind="stable")
                    srt = np.take_along_axis(sub, order, axis=1)
                    rep = np.zeros(srt.shape, dtype=bool)
                    rep[:, 1:] = srt[:, 1:] == srt[:, :-1]
                    again = np.zeros_like(rep)
                    np.put_along_axis(again, order, rep, axis=1)
                    keep = again.any(axis=1)
                    todo, again = todo[keep], again[keep]
                    r_, c_ = np.nonzero(again)
                    idx[todo[r_], c_] = rng.integers(0, n, size=r_.size)
            out[np.repeat(grp, w), idx.ravel()] = True
    dense = np.flatnonzero((kk > 0) & ~sparse)
    if dense.size:
        order = np.argsort(rng.random((dense.size, n)), axis=1)
        sel = np.arange(n)[None, :] < kk[dense][:, None]
        out[np.repeat(dense, n).reshape(dense.size, n)[sel], order[sel]] = True
    out[flip] = ~out[flip]
    return out


def _crashed_masks(net, groups, logq, m, rng):
    r"""``m`` independent failure configurations drawn from the law *given at least one failure*.

    Exact, in one of two ways (the same law):

    * **Failures rare** (``N / P(C) > PER_UNIT_LIMIT``, ``N`` units): random
      draws proportional to the failures, not to the units.  The first group
      (in a fixed order) that holds a failure is ``g`` with probability
      ``Π_{h<g} q_h (1 − q_g) / (1 − Π_h q_h)`` (``q_h = (1 − p_h)^{n_h}``); in
      it, the index ``i`` of the first failure is a geometric variable
      truncated to ``0 … n_g − 1`` (inverse CDF) and the count is
      ``1 + Bin(n_g − 1 − i, p_g)``; later groups get ``Bin(n_h, p_h)``
      failures, earlier ones none; given the counts, the positions are
      uniform (:func:`_subsets`).
    * **Few units, failures common**: one uniform per unit, and the rows
      without any failure are dropped and redrawn (rejection: at most
      ``PER_UNIT_LIMIT`` uniforms per kept row).
    """
    N = sum(n for _, _, n, _ in groups)
    pc = -math.expm1(float(logq.sum()))
    if N <= PER_UNIT_LIMIT * pc:
        return _masks_by_rejection(net, groups, m, pc, rng)
    G = len(groups)
    before = np.concatenate(([0.0], np.cumsum(logq)[:-1]))
    w = np.exp(before) * -np.expm1(logq)
    cw = np.cumsum(w)
    first = np.minimum(np.searchsorted(cw / cw[-1], rng.random(m), side="right"), G - 1)
    nm, sm = {}, {}
    for g, (kind, l, n, p) in enumerate(groups):
        k = np.zeros(m, dtype=np.int64)
        later = np.flatnonzero(first < g)
        if later.size:
            k[later] = rng.binomial(n, p, size=later.size)
        here = np.flatnonzero(first == g)
        if here.size:
            if p >= 1:
                k[here] = n
            else:
                u = rng.random(here.size)
                i = np.floor(np.log1p(u * np.expm1(logq[g])) / math.log1p(-p))
                i = np.clip(np.nan_to_num(i, nan=0.0), 0, n - 1).astype(np.int64)
                k[here] = 1 + rng.binomial(n - 1 - i, p)
        mask = _subsets(rng, k, n)
        if kind == "neuron":
            nm[l] = mask
        else:
            sm[l] = mask.reshape((m,) + synapse_shape(net, l))
    return nm, sm


def _masks_by_rejection(net, groups, m, pc, rng):
    """Independent Bernoulli masks, keeping only the rows with at least one failure, until there are ``m``."""
    parts = []
    need = m
    while need > 0:
        draw = int(math.ceil(need / pc * 1.02)) + 8
        masks = [rng.random((draw, n)) < p for _, _, n, p in groups]
        some = np.zeros(draw, dtype=bool)
        for mk in masks:
            some |= mk.any(axis=1)
        keep = np.flatnonzero(some)[:need]
        parts.append([mk[keep] for mk in masks])
        need -= keep.size
    nm, sm = {}, {}
    for g, (kind, l, n, p) in enumerate(groups):
        mask = parts[0][g] if len(parts) == 1 else np.concatenate([pt[g] for pt in parts])
        if kind == "neuron":
            nm[l] = mask
        else:
            sm[l] = mask.reshape((m,) + synapse_shape(net, l))
    return nm, sm


def _block_size(net, groups):
    per = 1 + 25 * sum(n for _, _, n, _ in groups)  # masks + ranking keys of dense rows
    return int(max(1, min(MAX_BLOCK, BLOCK_BYTES // per)))


def _check_n(n_samples):
    if isinstance(n_samples, bool) or not isinstance(n_samples, Integral) or n_samples < 2:
        raise InvalidArgument(f"n_samples: expected an integer ≥ 2, got {n_samples!r}")
    return int(n_samples)


def _check_seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0:
        raise InvalidArgument(f"seed: expected a non-negative integer (recorded in the result), got {seed!r}")
    return int(seed)


def crashed_sample_size(n_samples: int, p_crash: float) -> int:
    r"""How many draws given at least one failure :func:`monte_carlo` makes for ``n_samples``.

    ``⌈p_crash · n_samples⌉`` — the expected number of samples with a failure
    among ``n_samples`` independent configurations, so the cost is that of
    the plain estimate — but at least ``min(n_samples, MIN_CRASHED)``, so
    that rare failures still give a usable interval; ``0`` when
    ``p_crash = 0`` (then ``Δ = 0`` exactly).

    Examples
    --------
    >>> crashed_sample_size(10 ** 6, 0.05), crashed_sample_size(5000, 6e-4), crashed_sample_size(50, 1e-4)
    (50000, 1000, 50)
    >>> crashed_sample_size(20000, 0.0)
    0
    """
    n = _check_n(n_samples)
    if not p_crash > 0:
        return 0
    return int(min(n, max(math.ceil(n * float(p_crash)), min(n, MIN_CRASHED))))


def _estimate(net, groups, n_draws, n_inputs):
    """The predicted time (:class:`symft.cost.Estimate`, path ``"sample"``) of ``n_draws`` draws with a failure.

    Each draw recomputes the nodes downstream of the failing sites (and of the
    ops whose synapses fail), at :func:`symft.engines.enumeration.node_cost`
    multiply-adds each; a failing neuron site itself is only masked.
    """
    basis = f"{cost.format_count(n_draws)} draws with a failure" + (f" × {n_inputs} inputs" if n_inputs > 1 else "")
    if not groups:
        return cost.estimate("sample", 0, basis)
    sites = {net.site(l) for kind, l, _, _ in groups if kind == "neuron"}
    starts = sites | {net.synapse_node(l) for kind, l, _, _ in groups if kind == "synapse"}
    masked = {s for s in sites if not any(t != s and s in net.downstream([t]) for t in starts)}
    macs = sum(node_cost(net.node(n)) for n in net.downstream(starts) if n not in masked) * n_inputs
    # an op with failing synapses multiplies by its own masked copy of its weights per draw
    macs += 4 * sum(n for kind, _, n, _ in groups if kind == "synapse") * n_inputs
    return cost.estimate("sample", float(n_draws) * (macs + _PER_DRAW_MACS), basis)


def draw_seconds(net, model, n_draws: int, n_inputs: int = 1) -> float:
    r"""The predicted wall time (seconds) of evaluating ``n_draws`` failure configurations on ``n_inputs`` inputs.

    The estimate the samplers use to refuse long runs up front
    (:mod:`symft.cost`, path ``"sample"``): the multiply-adds of the nodes
    downstream of the failing sites plus a fixed work per draw, times the
    calibrated seconds per unit.

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> t = draw_seconds(random_network([10, 100, 10], seed=0), NeuronCrash({1: 0.01}), 10 ** 6)
    >>> 0.1 < t < 100
    True
    """
    groups, _ = failure_groups(net, model)
    return _estimate(net, groups, int(n_draws), int(n_inputs)).seconds


def draw_estimate(net, model, n_draws: int, n_inputs: int = 1):
    r"""The predicted time (:class:`symft.cost.Estimate`) of ``n_draws`` draws with a failure on ``n_inputs`` inputs.

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> e = draw_estimate(random_network([10, 100, 10], seed=0), NeuronCrash({1: 0.01}), 10 ** 6)
    >>> e.path, e.basis
    ('sample', '1,000,000 draws with a failure')
    """
    groups, _ = failure_groups(net, model)
    return _estimate(net, groups, int(n_draws), int(n_inputs))


def _guard(net, groups, n_samples, n_draws, n_inputs, force, p_crash, what="n_samples"):
    """Refuse (before any work) a run predicted to take longer than the time limit (:mod:`symft.cost`)."""
    if force or not n_draws:
        return
    est = _estimate(net, groups, n_draws, n_inputs)
    limit, _ = cost.current_limit()
    if est.seconds > limit:
        ok = limit / (est.seconds / n_draws)
        hint = (f"use at most about {ok / p_crash:.3g} samples (--samples)" if what == "n_samples"
                else f"use at most about {ok:.3g} draws")
        cost.check(est, f"{what}: {n_samples:.4g} {'samples' if what == 'n_samples' else 'draws'}",
                   f"{hint}, or a certified enclosure instead of sampling (symft exact --order K)")


def _draws(pb, groups, semantics, n_draws, seed, show_progress, label):
    """Yield the errors ``Δ`` (shape ``(m, B, n_out)``) of ``n_draws`` configurations with at least one failure.

    Block ``k`` uses ``numpy.random.default_rng([seed, k])``; the block size
    depends only on the network and the failure model.  Every block reuses
    the problem's clean pass and recomputes only the nodes downstream of a
    failure (:func:`symft.engines.forward.forward_masked`).
    """
    if n_draws == 0:
        return
    net, X = pb.net, pb.X
    trace = pb.clean
    clean = trace.output
    logq = _log_none(groups)
    block = _block_size(net, groups)
    with progress(n_draws, label, enabled=show_progress) as bar:
        for kb, start in enumerate(range(0, n_draws, block)):
            m = min(block, n_draws - start)
            rng = np.random.default_rng([seed, kb])
            nm, sm = _crashed_masks(net, groups, logq, m, rng)
            y = forward_masked(net, X, nm, synapse_masks=sm, semantics=semantics, trace=trace)
            yield y - clean[None, :, :]
            bar.update(m)


def _prepare(net, x, model):
    """One problem (inputs validated, neuron model normalised), the failing groups and the crash semantics."""
    neuron, syn = _models(model)
    pb = make_problem(net, x, neuron, where="input")
    neuron = pb.model
    if syn is not None:
        syn = as_model(net, syn)
    groups = _groups(net, neuron, syn)
    semantics = neuron.semantics if neuron is not None else "output_zero"
    return pb, groups, semantics


@limit_blas
def crashed_errors(net, x, model, n_draws: int, seed: int, *, force: bool = False,
                   show_progress: bool | None = False):
    r"""Errors ``Δ`` drawn from their law *given at least one failure*, and the probability of that event.

    ``E f(Δ) = p_crash · E[f(Δ) | at least one failure]`` for every ``f`` with
    ``f(0) = 0`` (norms, ``|Δ_k|``, ``Δ_k``, ``Δ_k²`` …), because a
    configuration without a failure has ``Δ = 0`` exactly.  These are the
    draws :func:`monte_carlo` averages (same seed, same draws).

    Parameters
    ----------
    net, x, model
        As for :func:`monte_carlo`.
    n_draws : int
        Number of draws (≥ 0).
    seed : int
    force : bool
        Run even when the predicted time exceeds the limit (:mod:`symft.cost`).

    Returns
    -------
    delta : ndarray
        Shape ``(n_draws, n_L)`` for one input, ``(n_draws, B, n_L)`` for a batch
        (``n_draws = 0`` rows when nothing can fail).
    p_crash : float
        :func:`crash_probability`.

    Examples
    --------
    >>> from symft.graph.network import first_input_network
    >>> d, pc = crashed_errors(first_input_network(1), [2.0], NeuronCrash({0: 0.25}), 5, seed=0)
    >>> d[:, 0].tolist(), pc        # the only failure possible: Δ = −x_1
    ([-2.0, -2.0, -2.0, -2.0, -2.0], 0.25)
    """
    if isinstance(n_draws, bool) or not isinstance(n_draws, Integral) or n_draws < 0:
        raise InvalidArgument(f"n_draws: expected a non-negative integer, got {n_draws!r}")
    seed = _check_seed(seed)
    pb, groups, semantics = _prepare(net, x, model)
    X, single = pb.X, pb.single
    pc = float(-math.expm1(float(_log_none(groups).sum()))) if groups else 0.0
    n_draws = int(n_draws) if groups else 0
    _guard(net, groups, n_draws, n_draws, X.shape[0], force, pc, "n_draws")
    parts = list(_draws(pb, groups, semantics, n_draws, seed, show_progress, "sampling"))
    d = np.concatenate(parts, axis=0) if parts else np.zeros((0, X.shape[0], net.n_outputs))
    return (d[:, 0, :] if single else d), pc


#: Memory budget (bytes) of the array returned by :func:`sample_errors`.
MAX_ERRORS_BYTES = 2 ** 31


@limit_blas
def sample_errors(net, x, model, n_samples: int, seed: int, *, force: bool = False,
                  show_progress: bool | None = False) -> np.ndarray:
    r"""``n_samples`` independent output errors ``Δ`` (memory ``n_samples × B × n_L`` floats).

    Exact draws of the unconditional law, built from the draws given at least
    one failure: the number ``K`` of samples with a failure is ``Bin(n_samples,
    p_crash)``, they sit at uniformly random rows, and every other row is
    ``Δ = 0`` exactly.  Returns shape ``(n_samples, n_L)`` for a 1-D input,
    else ``(n_samples, B, n_L)``.  Refuses (:class:`~symft.errors.TooLargeError`)
    arrays above :data:`MAX_ERRORS_BYTES` — :func:`monte_carlo` needs bounded
    memory for any sample size.

    Examples
    --------
    >>> from symft.graph.network import first_input_network
    >>> d = sample_errors(first_input_network(2), [2.0, 1.0], NeuronCrash({0: 0.5}), 6, seed=1)
    >>> sorted(set(d.ravel().tolist())) <= [-2.0, 0.0]
    True
    """
    n_samples, seed = _check_n(n_samples), _check_seed(seed)
    pb, groups, semantics = _prepare(net, x, model)
    X, single = pb.X, pb.single
    size = n_samples * X.shape[0] * net.n_outputs * 8
    if not force and size > MAX_ERRORS_BYTES:
        raise TooLargeError(f"n_samples: {n_samples:.4g} errors need {size / 2 ** 30:.3g} GiB (limit "
                            f"{MAX_ERRORS_BYTES / 2 ** 30:.3g} GiB); use monte_carlo (bounded memory) or fewer samples")
    out = np.zeros((n_samples, X.shape[0], net.n_outputs))
    if groups:
        pc = float(-math.expm1(float(_log_none(groups).sum())))
        rng = np.random.default_rng([seed, 2 ** 32 - 1])   # a stream apart from the blocks' [seed, k]
        k = int(rng.binomial(n_samples, pc))
        _guard(net, groups, n_samples, k, X.shape[0], force, pc)
        rows = rng.choice(n_samples, size=k, replace=False) if k else np.zeros(0, dtype=np.int64)
        pos = 0
        for d in _draws(pb, groups, semantics, k, seed, show_progress, "sampling"):
            out[rows[pos:pos + d.shape[0]]] = d
            pos += d.shape[0]
    return out[:, 0, :] if single else out


def _tuples(a, single, cast=float):
    t = tuple(tuple(cast(v) for v in row) for row in a)
    return t[0] if single else t


@result
@dataclass(frozen=True)
class MonteCarloResult:
    r"""Monte Carlo estimates of ``Δ_L`` for each input ``b`` and output ``k``.

    Every statistic is a tuple indexed by output ``k`` for a single input,
    or a tuple of tuples indexed ``[b][k]`` for a batch of ``B`` inputs.

    The estimate is built from ``crashed_samples`` draws of ``Δ`` *given at
    least one failure* and the probability ``p_crash`` of at least one failure
    (known, not sampled): ``E Δ = p_crash · E[Δ | failure]`` because ``Δ = 0``
    exactly without a failure.  ``mean`` is ``p_crash`` times the average of
    the draws, ``standard_error`` its standard error and ``ci_low``/``ci_high``
    the two-sided ``confidence`` interval ``mean ± c · standard_error``
    (``interval`` = ``"t"``: Student t with ``crashed_samples − 1`` degrees of
    freedom, or ``"normal"``).  ``var`` and ``std`` estimate ``Var Δ``
    (unbiased).  ``samples`` is the sample size asked for; the draws are at
    least as many as the samples with a failure among that many independent
    configurations would be (:func:`crashed_sample_size`), so the interval is
    at least as narrow as the plain one.  When ``eps`` was given,
    ``count_upper[b][k]`` = #{Δ ≥ ε} and ``count_abs[b][k]`` = #{``|Δ|`` ≥ ε}
    *among the draws with a failure*; :meth:`tail_interval` turns them into
    Clopper–Pearson intervals for the unconditional probabilities.
    ``warnings`` says when the interval may cover less than its level (few
    draws, very skewed errors).  When every draw gave the same error ``v``
    (for an output), the spread of the draws says nothing about the
    configurations not drawn: the interval is then ``p_crash · (v ± u (D + |v|))``
    with ``u = 1 − (1 − confidence)^{1/crashed_samples}`` (rule of three: with
    that confidence, errors other than ``v`` have probability at most ``u``
    given a failure) and ``D`` a proved bound on ``|Δ|`` over all configurations
    (:func:`symft.engines.enclosure.per_neuron_bounds`; unbounded for synapse failures),
    and ``standard_error`` is 0.

    Examples
    --------
    >>> from symft.graph.network import first_input_network
    >>> r = monte_carlo(first_input_network(2), [1.0, 1.0], NeuronCrash({0: 0.1}), 1000, seed=3, eps=0.5)
    >>> r.count_abs[0] >= r.count_upper[0]
    True
    >>> lo, hi = r.tail_interval(0, sided="abs")
    >>> bool(lo <= 0.1 <= hi)
    True
    """

    mean: tuple
    var: tuple
    std: tuple
    ci_low: tuple
    ci_high: tuple
    samples: int
    seed: int
    confidence: float
    interval: str
    single: bool
    crashed_samples: int
    eps: float | None = None
    count_upper: tuple | None = None
    count_abs: tuple | None = None
    model: tuple = field(default=(), compare=True)
    p_crash: float = 1.0
    standard_error: tuple | None = None
    warnings: tuple = ()

    def _at(self, stat, k, b):
        return stat[k] if self.single else stat[b][k]

    def stderr(self, k: int = 0, b: int = 0) -> float:
        """Standard error of ``mean`` for output ``k`` at input ``b``.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> r = monte_carlo(mean_network(2), [1.0, 1.0], NeuronCrash({0: 0.5}), 100, seed=0)
        >>> r.stderr() == r.standard_error[0] > 0
        True
        """
        return self._at(self.standard_error, k, b)

    def tail_interval(self, k: int = 0, b: int = 0, sided: str = "upper",
                      confidence: float | None = None) -> tuple[float, float]:
        r"""Clopper–Pearson interval for ``P{Δ ≥ ε}`` (``"upper"``) or ``P{|Δ| ≥ ε}`` (``"abs"``).

        The exact interval ``[lo, hi]`` for the probability given a failure
        (from the counts among the ``crashed_samples`` draws) is mapped to
        ``p_crash · [lo, hi] + (1 − p_crash) · [0 ≥ ε]``, moved outward by a
        relative ``1e-12`` for the rounding of that map.

        Examples
        --------
        >>> from symft.graph.network import first_input_network
        >>> r = monte_carlo(first_input_network(1), [1.0], NeuronCrash({0: 0.5}), 400, seed=0, eps=0.5)
        >>> lo, hi = r.tail_interval(sided="abs")      # |Δ| = 1 exactly when input 0 crashes: P = 1/2
        >>> bool(0.49 < lo < 0.5 < hi < 0.5000001)     # every draw given a failure has |Δ| = 1
        True
        """
        if self.eps is None:
            raise InvalidArgument("eps: this result has no tail counts; pass eps= to monte_carlo")
        if sided not in ("upper", "abs"):
            raise InvalidArgument(f"sided: expected 'upper' or 'abs', got {sided!r}")
        counts = self.count_upper if sided == "upper" else self.count_abs
        z0 = 1.0 if 0.0 >= self.eps else 0.0     # the event for Δ = 0 (no failure)
        if self.crashed_samples == 0:
            return z0, z0
        lo, hi = clopper_pearson(int(self._at(counts, k, b)), self.crashed_samples, confidence or self.confidence)
        pc = self.p_crash
        lo, hi = pc * lo + (1 - pc) * z0, pc * hi + (1 - pc) * z0
        return max(0.0, lo * (1 - 1e-12)), min(1.0, hi * (1 + 1e-12) + 1e-300)

    def as_dict(self) -> dict:
        """JSON-ready dictionary (single input: one list entry per output).

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> r = monte_carlo(mean_network(2), [1.0, 1.0], NeuronCrash({0: 0.5}), 1000, seed=0)
        >>> sorted(r.as_dict())[:4]
        ['ci_high', 'ci_low', 'confidence', 'crashed_samples']
        """
        pick = list if self.single else (lambda t: [list(r) for r in t])
        d = {"mean": pick(self.mean), "var": pick(self.var), "std": pick(self.std),
             "ci_low": pick(self.ci_low), "ci_high": pick(self.ci_high),
             "standard_error": pick(self.standard_error),
             "samples": self.samples, "seed": self.seed, "confidence": self.confidence,
             "interval": self.interval, "crashed_samples": self.crashed_samples, "p_crash": self.p_crash,
             "model": [list(m) for m in self.model], "warnings": list(self.warnings)}
        if self.eps is not None:
            d["eps"] = self.eps
            d["count_upper"] = pick(self.count_upper)
            d["count_abs"] = pick(self.count_abs)
            B = 1 if self.single else len(self.mean)
            K = len(self.mean) if self.single else len(self.mean[0])
            up = [[list(self.tail_interval(k, b, "upper")) for k in range(K)] for b in range(B)]
            ab = [[list(self.tail_interval(k, b, "abs")) for k in range(K)] for b in range(B)]
            d["tail_upper_ci"] = up[0] if self.single else up
            d["tail_abs_ci"] = ab[0] if self.single else ab
        return d


def _describe(model):
    neuron, syn = _models(model)
    out = []
    if neuron is not None:
        out.append(("neuron", neuron.semantics) + tuple(f"{l}:{q}" for l, q in neuron.p))
    if syn is not None:
        out.append(("synapse",) + tuple(f"{l}:{q}" for l, q in syn.p))
    return tuple(out)


def interval_warnings(n_c: int, n_units: int, M2, M3, confidence: float, same=None, bounded: bool = True) -> tuple:
    r"""Why an interval from ``n_c`` draws given a failure may be unreliable, or how it was made.

    Parameters
    ----------
    n_c : int
        Draws given at least one failure.
    n_units : int
        Units (neurons, synapses) that may fail.
    M2, M3 : ndarray
        Sums of squared and cubed deviations of the draws from their mean, per output.
    confidence : float
        The level of the interval.
    same : ndarray of bool, optional
        Per output, whether every draw gave the same error.
    bounded : bool
        Whether a proved bound on ``|Δ|`` backs the intervals of those outputs
        (:func:`error_bound`).

    Returns
    -------
    tuple of str
        Few draws (below :data:`FEW_CRASHED`), very skewed errors (Cochran's
        rule ``25·skewness²``), or outputs where every draw was the same.

    Examples
    --------
    >>> interval_warnings(40, 10, np.array([1.0]), np.array([0.0]), 0.95)[0][:25]
    'only 40 draws with a fail'
    >>> interval_warnings(5000, 10, np.array([1.0]), np.array([0.0]), 0.95)
    ()
    """
    out = []
    if 0 < n_c < FEW_CRASHED:
        out.append(f"only {n_c} draws with a failure: the {100 * confidence:g}% interval is unreliable "
                   f"below {FEW_CRASHED}; use more samples")
    if n_c >= 2:
        varied = M2 > 0 if same is None else (M2 > 0) & ~same
        with np.errstate(divide="ignore", invalid="ignore"):
            g1 = np.where(varied, np.sqrt(n_c) * M3 / np.where(varied, M2, 1.0) ** 1.5, 0.0)
        need = 25 * float(np.max(g1 * g1)) if g1.size else 0.0
        if need > n_c:
            out.append(f"the errors given a failure are very skewed (skewness {float(np.max(np.abs(g1))):.3g}): "
                       f"a {100 * confidence:g}% interval needs about {math.ceil(need)} draws with a failure "
                       f"(Cochran's rule 25·skewness²), this run had {n_c}; it may cover less than its level")
        if n_units > 1 and same is not None and np.any(same):
            if bounded:
                out.append(f"every one of the {n_c} draws with a failure gave the same error for some output: "
                           "there the interval comes from a proved bound on |Δ| and the rule of three "
                           "(distribution-free), not from the spread of the draws")
            else:
                out.append(f"every one of the {n_c} draws with a failure gave the same error for some output, "
                           "and this failure model has no proved bound on |Δ|: there the interval is unbounded")
    return tuple(out)


def error_bound(net, X, model) -> np.ndarray:
    r"""A proved bound on ``|Δ_k|`` over every failure configuration, shape ``(B, n_out)`` (inf when unknown).

    For neuron crashes, the crude bound of
    :func:`symft.engines.enclosure.per_neuron_bounds` (interval propagation
    over every crash configuration, any graph); synapse failures have no
    bound here (``inf``).

    Examples
    --------
    >>> from symft.graph.network import first_input_network
    >>> D = error_bound(first_input_network(2), np.array([[2.0, 1.0]]), NeuronCrash({0: 0.1}))
    >>> D.shape, bool(2.0 <= D[0, 0] < 2.0 + 1e-12)          # |Δ| ≤ |x_1| = 2
    ((1, 1), True)
    """
    neuron, syn = _models(model)
    if syn is not None and syn.layers:
        return np.full((X.shape[0], net.n_outputs), np.inf)
    from .enclosure import per_neuron_bounds

    return np.array([per_neuron_bounds(net, X[b], neuron)[1] for b in range(X.shape[0])], dtype=float)


@limit_blas
def monte_carlo(net, x, model, n_samples: int, seed: int, *, confidence: float = 0.95,
                interval: str = "t", eps: float | None = None, force: bool = False,
                show_progress: bool | None = None) -> MonteCarloResult:
    r"""Monte Carlo estimate of the mean and variance of ``Δ_L`` with confidence intervals.

    A configuration without a failure has ``Δ = 0`` exactly and has the known
    probability ``1 − p_crash`` (:func:`crash_probability`), so only the law
    of ``Δ`` *given at least one failure* is sampled — directly, failure
    counts first and then their positions (no draw per unit) — and the
    estimate and its interval are scaled by ``p_crash``.  Rare failures then
    still give many informative draws: the interval keeps its level where the
    plain average of ``n_samples`` configurations (a handful of them with a
    failure, often none) does not.

    Parameters
    ----------
    net : Network
        Numeric (float or exact) weights.
    x : array_like, shape (n_0,) or (B, n_0)
        One input or a batch (each input gets its own statistics; the same
        crash draws are used for every input of the batch).
    model : NeuronCrash, SynapseCrash, or a pair (one of each)
        Independent Bernoulli failures.
    n_samples : int
        Sample size, ≥ 2: the estimate uses :func:`crashed_sample_size`
        draws with a failure (the expected number among ``n_samples``
        independent configurations, at least ``min(n_samples, MIN_CRASHED)``).
    seed : int
        Explicit seed (recorded).
    confidence : float
        Level of the intervals (default 0.95).
    interval : {"t", "normal"}
        Student t (default) or normal quantile for the mean interval.
    eps : float, optional
        Also count ``Δ ≥ ε`` and ``|Δ| ≥ ε`` (for Clopper–Pearson tail intervals).
    force : bool
        Run even when the predicted time exceeds the limit (:mod:`symft.cost`)
        (otherwise :class:`~symft.errors.TooLargeError`, raised before any work).
    show_progress : bool or None
        Progress bar on stderr (``None``: when stderr is a terminal).

    Returns
    -------
    MonteCarloResult
        Its ``warnings`` (also issued as :class:`SamplingWarning`) say when
        the interval may cover less than its level.

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> net = random_network([3, 5, 2], seed=0)
    >>> r = monte_carlo(net, [0.5, -1.0, 2.0], NeuronCrash({1: 0.1}), 5000, seed=1, confidence=0.99)
    >>> len(r.mean), r.interval, r.crashed_samples, round(r.p_crash, 5)    # 1 − 0.9^5
    (2, 't', 2048, 0.40951)
    """
    n_samples, seed = _check_n(n_samples), _check_seed(seed)
    confidence = _check_level(confidence)
    if interval not in ("t", "normal"):
        raise InvalidArgument(f"interval: expected 't' or 'normal', got {interval!r}")
    if eps is not None:
        if isinstance(eps, bool) or not isinstance(eps, Real) or not math.isfinite(float(eps)):
            raise InvalidArgument(f"eps: expected a finite number, got {eps!r}")
        eps = float(eps)
    pb, groups, semantics = _prepare(net, x, model)
    X, single = pb.X, pb.single
    pc = float(-math.expm1(float(_log_none(groups).sum()))) if groups else 0.0
    n_c = crashed_sample_size(n_samples, pc)
    _guard(net, groups, n_samples, n_c, X.shape[0], force, pc)
    shape = (X.shape[0], net.n_outputs)
    moments = None
    dmin, dmax = np.full(shape, np.inf), np.full(shape, -np.inf)
    cu = np.zeros(shape, dtype=np.int64)
    ca = np.zeros(shape, dtype=np.int64)
    for delta in _draws(pb, groups, semantics, n_c, seed, show_progress, "monte carlo"):
        moments = merge_moments(moments, block_moments(delta))
        dmin, dmax = np.minimum(dmin, delta.min(axis=0)), np.maximum(dmax, delta.max(axis=0))
        if eps is not None:
            cu += (delta >= eps).sum(axis=0)
            ca += (np.abs(delta) >= eps).sum(axis=0)
    if moments is None:
        moments = (0, np.zeros(shape), np.zeros(shape), np.zeros(shape))
    return monte_carlo_result(net, X, model, moments, dmin, dmax, (cu, ca) if eps is not None else None,
                              n_samples=n_samples, seed=seed, confidence=confidence, interval=interval, eps=eps,
                              single=single)


def block_moments(delta) -> tuple:
    r"""``(n, mean, M2, M3)`` of a block of draws ``delta`` (axis 0): count, mean and central sums.

    Examples
    --------
    >>> n, m, M2, M3 = block_moments(np.array([[1.0], [2.0], [6.0]]))
    >>> n, float(m[0]), float(M2[0]), float(M3[0])          # deviations −2, −1, 3
    (3, 3.0, 14.0, 18.0)
    """
    bm = delta.mean(axis=0)
    c = delta - bm
    return delta.shape[0], bm, (c * c).sum(axis=0), (c * c * c).sum(axis=0)


def merge_moments(a, b) -> tuple:
    r"""Merge two ``(n, mean, M2, M3)`` summaries (``a`` may be ``None``): Chan's and Pébay's pairwise update.

    Numerically stable, and deterministic: merging the same blocks in the same order gives the same
    floats wherever the blocks were computed (:mod:`symft.distributed` relies on it).

    Examples
    --------
    >>> x = np.array([[1.0], [2.0], [6.0], [7.0]])
    >>> n, m, M2, M3 = merge_moments(block_moments(x[:1]), block_moments(x[1:]))
    >>> n, float(m[0]), float(M2[0]), float(M3[0])
    (4, 4.0, 26.0, 0.0)
    """
    if a is None or a[0] == 0:
        return b
    n_tot, mean, M2, M3 = a
    m, bm, bM2, bM3 = b
    d = bm - mean
    tot = n_tot + m
    M3 = (M3 + bM3 + d ** 3 * (n_tot * m * (n_tot - m) / tot ** 2)
          + 3 * d * (n_tot * bM2 - m * M2) / tot)
    M2 = M2 + bM2 + d * d * (n_tot * m / tot)
    mean = mean + d * (m / tot)
    return tot, mean, M2, M3


def monte_carlo_result(net, X, model, moments, dmin, dmax, counts=None, *, n_samples: int, seed: int,
                       confidence: float, interval: str, eps=None, single: bool = False) -> "MonteCarloResult":
    r"""The :class:`MonteCarloResult` of draws given a failure, from their merged summaries.

    ``moments`` is ``(n, mean, M2, M3)`` (:func:`merge_moments`) of the draws of ``Δ`` given a failure,
    ``dmin``/``dmax`` their extremes and ``counts`` the tail counts ``(#Δ ≥ eps, #|Δ| ≥ eps)``; the
    estimate is ``p_crash · mean``, the interval a t (or normal) interval — or, where every draw agreed, the
    proved bound of :func:`error_bound` with the rule of three — and the warnings those of
    :func:`interval_warnings`.  Shared by :func:`monte_carlo` and :func:`symft.distributed.monte_carlo`.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> net, m = mean_network(2), NeuronCrash({0: 0.5})
    >>> d = np.array([[[-0.5]], [[-0.5]], [[-1.0]]])          # three draws given a failure, one input
    >>> r = monte_carlo_result(net, np.ones((1, 2)), m, block_moments(d), d.min(axis=0), d.max(axis=0),
    ...                        n_samples=4, seed=0, confidence=0.95, interval="t", single=True)
    >>> r.crashed_samples, r.mean[0] == 0.75 * (-2 / 3)
    (3, True)
    """
    n_tot, mean, M2, M3 = moments
    shape = mean.shape
    pc = crash_probability(net, model)
    groups, _ = failure_groups(net, model)
    if n_tot >= 2:
        var_c = M2 / (n_tot - 1)
        se = pc * np.sqrt(var_c / n_tot)
        var = pc * var_c * (1 - (1 - pc) / n_tot) + pc * (1 - pc) * mean * mean
        q = 0.5 + confidence / 2
        c = t_quantile(q, n_tot - 1) if interval == "t" else normal_quantile(q)
    else:   # nothing can fail: Δ = 0 exactly
        se = var = np.zeros(shape)
        c = 0.0
    est = pc * mean
    h = c * se
    n_units = sum(n for _, _, n, _ in groups)
    same = (dmin == dmax) & (n_tot > 0)
    bounded = True
    if n_units > 1 and np.any(same):
        # Every draw gave the same error v: the spread says nothing about configurations not drawn.  With
        # probability ≥ confidence, P(Δ ≠ v | failure) ≤ u = 1 − (1 − confidence)^(1/n) (no such draw in n),
        # so |E[Δ | failure] − v| ≤ u (D + |v|) with D a proved bound on |Δ|.
        D = error_bound(net, X, model)
        bounded = bool(np.all(np.isfinite(D[same])))
        u = -math.expm1(math.log1p(-confidence) / n_tot)
        with np.errstate(invalid="ignore", over="ignore"):
            hd = pc * u * (D + np.abs(mean)) * (1 + 1e-12)
        h = np.where(same, hd, h)
    notes = interval_warnings(n_tot, n_units, M2, M3, confidence, same, bounded)
    for w in notes:
        _warn(w, SamplingWarning, stacklevel=3)
    cu, ca = counts if counts is not None else (None, None)
    return MonteCarloResult(
        mean=_tuples(est, single), var=_tuples(var, single), std=_tuples(np.sqrt(var), single),
        ci_low=_tuples(est - h, single), ci_high=_tuples(est + h, single),
        samples=int(n_samples), seed=int(seed), confidence=confidence, interval=interval, single=single,
        crashed_samples=int(n_tot), eps=eps,
        count_upper=_tuples(cu, single, int) if eps is not None else None,
        count_abs=_tuples(ca, single, int) if eps is not None else None,
        model=_describe(model), p_crash=pc, standard_error=_tuples(se, single), warnings=notes,
    )
