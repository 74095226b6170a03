r"""Stratified Monte Carlo by the number of failures: unbiased, far narrower, and honest about rare events.

Under independent Bernoulli failures (theory D3) the number ``K`` of failed
units is a sum of independent binomials ``Bin(n_g, p_g)``, one per site (or
per synapse group).  Every statistic ``f(Δ)`` that vanishes without a failure
(the output error ``Δ``, a loss change ``Δ_{L+1}``, the indicator that the
predicted class changed) then splits exactly as

``E f = Σ_{s} P(K ∈ s) · E[f | K ∈ s]``

over *strata* ``s`` of failure counts — ``{1}, {2}, …, {k_s}`` and one tail
stratum ``{k_s + 1, …, N}`` — and the crash-free stratum ``{0}`` contributes
exactly 0.  :func:`stratified_monte_carlo` estimates each conditional mean
separately and weights it with its exact probability:

* **Exact stratum probabilities.**  :func:`crash_count_law` convolves the
  binomial laws in rational arithmetic (``Fraction``; a float ``p`` is read
  as the binary rational it holds): ``P(K = k)`` is exact, and so is the tail
  ``P(K > k_s) = 1 − Σ_{k ≤ k_s} P(K = k)``.  Only their final rounding to
  float64 enters the estimate.
* **Rare strata sampled on purpose** (:func:`plan_strata`).  A plain (or
  conditional-on-a-failure) sampler spends its draws in proportion to
  ``P(K = k)``: the strata with 2, 3 … failures get a handful of draws or
  none.  Here each stratum gets at least ``min_per_stratum`` draws and the
  rest of the budget goes in proportion to ``P(K ∈ s) · √k_s``: Neyman's
  allocation ``n_s ∝ P_s σ_s`` with the a-priori spread ``σ_s ∝ √k`` of a sum
  of ``k`` failure effects (the allocation depends on nothing sampled, so the
  estimate stays unbiased).  A stratum with no more configurations
  (``C(N, k)``) than the draws it would get is **enumerated** instead, every
  configuration weighted by its exact conditional probability: it
  contributes no variance, and its draws go to the other strata.  On a net
  of a few dozen units at ``p = 1e-3`` the strata with one and two failures
  (99.9% of the mass) are enumerated and only the rest is sampled.
* **Intervals that keep their level.**  For an unbounded statistic (``Δ``,
  the squared or cross-entropy loss change): the Student t interval of the
  stratified estimate, with the Welch–Satterthwaite degrees of freedom
  (rounded down) for its variance ``Σ_s P_s² v_s / n_s``.  For a probability
  (the zero-one loss, the prediction change — events that are rare when
  failures are): in each sampled stratum an exact Clopper–Pearson interval at
  level ``1 − α/S`` (``S`` sampled strata; Bonferroni), combined as
  ``Σ_s P_s [lo_s, hi_s]`` — the true value lies in the combination whenever
  it lies in every stratum's interval, which fails with probability at most
  ``α`` (union bound): the level holds however rare the event, with no
  normal approximation.  Values in ``[0, 1]`` that are not 0/1 (averages
  over inputs, :func:`symft.analysis.accuracy.accuracy`) get the empirical
  Bernstein bound of Maurer and Pontil (2009, Theorem 4) at the same level
  instead.  The coverage of both is measured in ``tests/test_stratified.py``.
* **Reproducible.**  Stratum ``s``, block ``b`` uses
  ``numpy.random.default_rng([seed, s, b])``; configurations are evaluated
  through the walker (:func:`symft.engines.forward.forward_masked`).

Within a stratum the configurations are drawn exactly from the conditional
law: the number of failures ``K`` (tail stratum only), then the counts per
group given ``K`` (sequentially, from the float64 laws of the remaining
groups), then the positions uniformly (:func:`symft.engines.sampling.random_subsets`).
Counts whose probability is below ``e^{-745}`` relative to the most likely
one (below float64's resolution) are never drawn.

Examples
--------
>>> from symft.graph.network import random_network
>>> from symft.faults import NeuronCrash
>>> net = random_network([3, 5, 2], seed=0, activation="tanh")
>>> r = stratified_monte_carlo(net, [0.5, -1.0, 2.0], NeuronCrash({1: 0.1}), 2000, seed=1)
>>> [s.enumerated for s in r.strata]       # C(5, k) ≤ 5 + 10 + 10 + 5 + 1 configurations
[True, True, True, True, True]
>>> r.crashed_samples, r.method            # nothing left to sample: the exact mean
(0, 'enumerated')
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from numbers import Integral, Real
from warnings import warn as _warn

import numpy as np
from ..lazyimport import sympy as sp

from .. import cost
from ..errors import FaultModelError, InvalidArgument, TooLargeError
from ..faults import NeuronCrash, SynapseCrash, synapse_shape
from ..problem import make_problem
from ..progress import progress as progress_bar
from .forward import forward_masked
from .losses import loss_functions
from .sampling import (SamplingWarning, clopper_pearson, draw_estimate, failure_groups,
                       random_subsets, t_quantile)
from ..results import result

__all__ = [
    "Stratum",
    "StratifiedResult",
    "crash_count_law",
    "count_strata",
    "plan_strata",
    "stratified_monte_carlo",
    "stratified_statistics",
    "stratum_blocks",
    "clopper_pearson_many",
    "merge_stratum_blocks",
    "PIECES",
    "control_values",
    "expected_counts",
    "StratumStatistics",
    "t_interval",
    "bounded_interval",
    "empirical_bernstein",
    "configuration_blocks",
    "check_budget",
    "crash_count_tail",
]

#: Fewest draws in a sampled stratum.
MIN_PER_STRATUM = 32
#: Most strata with a single failure count (then one tail stratum).
MAX_STRATA = 24
#: Single-count strata stop once the tail ``P(K > k)`` is below this fraction of ``P(K ≥ 1)``.
TAIL_FRACTION = 1e-9
#: Memory budget (bytes) of the masks and outputs of one block.
BLOCK_BYTES = 16 * 2 ** 20


# ---------------------------------------------------------------------- the law of the number of failures

def _exact_q(q, where):
    if isinstance(q, sp.Basic):
        if q.free_symbols:
            raise FaultModelError(f"{where} = {q} is symbolic; sampling needs a number")
        if isinstance(q, sp.Rational):
            return Fraction(int(q.p), int(q.q))
        return Fraction(float(q))
    if isinstance(q, Fraction):
        return q
    return Fraction(float(q)) if isinstance(q, float) else Fraction(q)


def _groups_exact(net, model):
    """``groups, semantics, exact p per group`` (the exact value of each group's probability)."""
    groups, semantics = failure_groups(net, model)
    models = (model,) if isinstance(model, (NeuronCrash, SynapseCrash)) else tuple(model)
    exact = []
    for kind, l, n, p in groups:
        m = next(mm for mm in models if isinstance(mm, NeuronCrash if kind == "neuron" else SynapseCrash))
        q = m.probability(l)
        exact.append(_exact_q(q, f"p[{l}]") if not isinstance(q, float) else Fraction(p))
    return groups, semantics, exact


class _Factored:
    """The law of the number of failures as ``P0 · c_k``: one big exact factor, small exact coefficients.

    ``P0 = Π_{g: q_g < 1} (1 − q_g)^{n_g}`` (the probability that no unit with
    ``q < 1`` fails: a power of a dyadic rational, never normalised by a gcd),
    ``ρ_g = q_g / (1 − q_g)``; ``P(K = k) = P0 · c_{k − F}`` with ``F`` the units
    that fail surely (``q = 1``) and ``c`` the convolution of the small
    sequences ``C(n_g, j) ρ_g^j``.  A configuration with ``κ_g`` failures in
    group ``g`` has probability ``P0 Π ρ_g^{κ_g}``.  Big-number work is then
    one product per value, not a gcd per operation: the law of thousands of
    units takes milliseconds.
    """

    def __init__(self, sizes, qs):
        self.sizes, self.qs = list(sizes), list(qs)
        self.sure = sum(n for n, q in zip(sizes, qs) if q == 1)
        P0 = Fraction(1)
        for n, q in zip(sizes, qs):
            if q < 1:
                P0 *= (1 - q) ** n
        self.P0 = P0
        self.rho = [q / (1 - q) if q < 1 else None for q in qs]

    def coefficients(self, kmax):
        """``c_j`` for ``j = 0 … kmax`` (small Fractions; counts beyond the sure failures)."""
        c = [Fraction(1)] + [Fraction(0)] * kmax
        for n, r in zip(self.sizes, self.rho):
            if r is None:
                continue
            b = [Fraction(math.comb(n, j)) * r ** j for j in range(min(n, kmax) + 1)]
            c = [sum((c[i] * b[j - i] for i in range(max(0, j - len(b) + 1), j + 1) if c[i]), Fraction(0))
                 for j in range(kmax + 1)]
        return c

    def law(self, kmax):
        """``P(K = k)``, ``k = 0 … kmax``."""
        out = [Fraction(0)] * (kmax + 1)
        c = self.coefficients(max(0, kmax - self.sure))
        for k in range(self.sure, kmax + 1):
            if c[k - self.sure]:
                out[k] = self.P0 * c[k - self.sure]
        return out

    def more_than(self, k):
        """``P(K > k)``, exactly (one big product)."""
        if k < self.sure:
            return Fraction(1)
        return 1 - self.P0 * sum(self.coefficients(k - self.sure), Fraction(0))

    def configuration(self, kap):
        """The probability of one configuration with ``kap[g]`` failures in group ``g``."""
        small = Fraction(1)
        for n, q, r, j in zip(self.sizes, self.qs, self.rho, kap):
            if r is None:
                if j != n:
                    return Fraction(0)
            else:
                small *= r ** j
        return self.P0 * small


def _law(sizes, qs, kmax):
    return _Factored(sizes, qs).law(kmax)


def crash_count_law(net, model, kmax: int | None = None) -> tuple:
    r"""``P(K = k)`` for ``k = 0 … kmax``, exactly: the law of the number of failed units.

    ``K = Σ_g Bin(n_g, p_g)`` over the failing groups (the neurons of a site,
    or the synapses of a dense op); the binomial laws are convolved in
    ``Fraction`` arithmetic, a float ``p`` read as the binary rational it
    holds (the value the samplers draw with), as ``Π_g (1 − p_g)^{n_g}`` times
    the convolution of ``C(n_g, j) (p_g / (1 − p_g))^j`` (small numbers; one
    big product per value).

    Parameters
    ----------
    net : Network
    model : NeuronCrash, SynapseCrash, or one of each
    kmax : int, optional
        Largest count (default: every unit, ``N``).

    Returns
    -------
    tuple of Fraction
        Length ``kmax + 1``.

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> law = crash_count_law(random_network([2, 2, 1], seed=0), NeuronCrash({0: 0.5, 1: 0.25}))
    >>> [str(v) for v in law]        # Bin(2, 1/2) * Bin(2, 1/4): (1 + t)²/4 · (3 + t)²/16
    ['9/64', '3/8', '11/32', '1/8', '1/64']
    """
    groups, _, qs = _groups_exact(net, model)
    sizes = [n for _, _, n, _ in groups]
    N = sum(sizes)
    if kmax is None:
        kmax = N
    if isinstance(kmax, bool) or not isinstance(kmax, Integral) or kmax < 0:
        raise InvalidArgument(f"kmax: expected a non-negative integer, got {kmax!r}")
    return tuple(_law(sizes, qs, int(kmax)))


def crash_count_tail(net, model, k: int) -> Fraction:
    r"""``P(K > k)``: the exact probability that more than ``k`` units fail.

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> crash_count_tail(random_network([2, 2, 1], seed=0), NeuronCrash({0: 0.5, 1: 0.25}), 2)   # (8 + 1)/64
    Fraction(9, 64)
    """
    groups, _, qs = _groups_exact(net, model)
    k = _check_int(k, "k", 0)
    return _Factored([n for _, _, n, _ in groups], qs).more_than(k)


# ---------------------------------------------------------------------- strata

@dataclass(frozen=True)
class Stratum:
    r"""The configurations with ``lo … hi`` failed units, their exact probability and how they are evaluated.

    ``configurations`` counts them (``Σ_k C(N, k)``); ``draws`` is how many
    are evaluated: all of them when ``enumerated`` (each weighted by its exact
    conditional probability), else that many independent draws.

    Examples
    --------
    >>> s = Stratum(1, 1, Fraction(1, 10), 5, 5, True)
    >>> s.weight, s.as_dict()["probability"]
    (0.1, 0.1)
    """

    lo: int
    hi: int
    probability: Fraction
    configurations: int
    draws: int
    enumerated: bool

    @property
    def weight(self) -> float:
        """``P(lo ≤ K ≤ hi)`` rounded to float64.

        Examples
        --------
        >>> Stratum(2, 5, Fraction(1, 3), 10, 10, True).weight
        0.3333333333333333
        """
        return float(self.probability)

    def as_dict(self) -> dict:
        """JSON-ready dictionary.

        Examples
        --------
        >>> sorted(Stratum(1, 1, Fraction(1, 2), 3, 3, True).as_dict())
        ['configurations', 'draws', 'enumerated', 'failures', 'probability']
        """
        return {"failures": [self.lo, self.hi], "probability": self.weight,
                "configurations": self.configurations, "draws": self.draws, "enumerated": self.enumerated}


def _check_int(v, where, least):
    if isinstance(v, bool) or not isinstance(v, Integral) or v < least:
        raise InvalidArgument(f"{where}: expected an integer ≥ {least}, got {v!r}")
    return int(v)


def count_strata(N: int, law, above, start: int, kmax: int) -> list:
    r"""Strata of failure counts above ``start``: ``[lo, hi, P, C]`` rows with exact probabilities ``P``.

    Single counts ``{start + 1}, {start + 2}, …`` up to ``kmax``, until the
    rest ``P(K > k)`` falls to :data:`TAIL_FRACTION` of ``above`` (``= P(K >
    start)``), then one tail stratum ``{k + 1, …, N}`` holding that rest.  The
    rest is ``above`` minus the exact law ``law[k]``, so the rows' ``P`` sum to
    ``above`` exactly; ``C`` counts the configurations of each stratum.

    Examples
    --------
    >>> from fractions import Fraction
    >>> law = [Fraction(1, 8), Fraction(3, 8), Fraction(3, 8), Fraction(1, 8)]     # Bin(3, 1/2)
    >>> count_strata(3, law, Fraction(7, 8), 0, 1)
    [[1, 1, Fraction(3, 8), 3], [2, 3, Fraction(1, 2), 4]]
    """
    rows, rest, k = [], above, start
    while k < kmax:
        k += 1
        rest -= law[k]
        if law[k] > 0:
            rows.append([k, k, law[k], math.comb(N, k)])
        if rest <= TAIL_FRACTION * above:
            break
    if k < N and rest > 0:
        rows.append([k + 1, N, rest, 2 ** N - sum(math.comb(N, j) for j in range(k + 1))])
    return rows


def plan_strata(net, model, n_samples: int, *, min_per_stratum: int = MIN_PER_STRATUM,
                max_strata: int = MAX_STRATA, enumerate_small: bool = True, spread=None) -> tuple:
    r"""The strata of failure counts, their exact probabilities and the draws each gets.

    Strata ``{1}, {2}, …`` up to ``max_strata`` or until the tail
    ``P(K > k)`` falls below :data:`TAIL_FRACTION` ``· P(K ≥ 1)``, then one
    tail stratum ``{k + 1, …, N}`` (when it has mass).  Strata of probability
    0 are left out.  The budget ``n_samples`` (configurations evaluated) is
    shared in proportion to ``P_s √k_s`` (``k_s`` the smallest count of the
    stratum), at least ``min_per_stratum`` each; with ``enumerate_small``, a
    stratum with no more configurations than its share is enumerated and
    the budget it leaves is shared again among the others.

    ``spread`` (a function of ``k``, default ``√k``) is the a-priori spread
    of the statistic given ``k`` failures used in that share (Neyman:
    ``n_s ∝ P_s σ_s``).  With a control variate that removes the effect of
    each failure alone, what is left are the interactions of the ``k (k − 1) / 2``
    pairs: ``spread = lambda k: math.sqrt(k * (k - 1) / 2)``, and a sampled
    stratum with spread 0 gets only ``min_per_stratum`` draws (which strata
    are enumerated is still decided with ``√k``).  The allocation depends on
    nothing sampled, so every estimate stays unbiased.

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> net = random_network([3, 40, 2], seed=0)
    >>> [(s.lo, s.hi, s.enumerated, s.draws) for s in plan_strata(net, NeuronCrash({1: 1e-3}), 2000)][:3]
    [(1, 1, True, 40), (2, 2, True, 780), (3, 3, False, 1167)]
    """
    n_samples = _check_int(n_samples, "n_samples", 2)
    min_per_stratum = _check_int(min_per_stratum, "min_per_stratum", 2)
    max_strata = _check_int(max_strata, "max_strata", 1)
    groups, _, qs = _groups_exact(net, model)
    sizes = [n for _, _, n, _ in groups]
    N = sum(sizes)
    if N == 0:
        return ()
    kcap = min(N, max_strata)
    fac = _Factored(sizes, qs)
    law = fac.law(kcap)
    p_any = fac.more_than(0)
    if p_any == 0:
        return ()
    strata = count_strata(N, law, p_any, 0, kcap)
    enum_score = [float(P) * math.sqrt(lo) for lo, _, P, _ in strata]      # which strata are enumerated
    spread = spread or math.sqrt
    score = [float(P) * float(spread(lo)) for lo, _, P, _ in strata]        # how the rest is shared
    enum = [False] * len(strata)
    budget = n_samples
    while True:
        live = [i for i in range(len(strata)) if not enum[i]]
        tot = sum(enum_score[i] for i in live)
        new = [i for i in live if enumerate_small
               and strata[i][3] <= max(min_per_stratum, budget * enum_score[i] / tot if tot > 0 else 0)]
        if not new:
            break
        for i in new:
            enum[i] = True
            budget -= strata[i][3]
        budget = max(budget, 0)
    live = [i for i in range(len(strata)) if not enum[i]]
    tot = sum(score[i] for i in live)
    out = []
    for i, (lo, hi, P, C) in enumerate(strata):
        if enum[i]:
            out.append(Stratum(lo, hi, P, C, C, True))
        else:
            share = int(budget * score[i] / tot) if tot > 0 else 0
            out.append(Stratum(lo, hi, P, C, max(min_per_stratum, share), False))
    return tuple(out)


# ---------------------------------------------------------------------- drawing within a stratum

def _log_binom(n, p, J):
    j = np.arange(J + 1)
    if p >= 1:
        out = np.full(J + 1, -np.inf)
        if n <= J:
            out[n] = 0.0
        return out
    lc = np.array([math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) for i in range(J + 1)])
    return lc + j * math.log(p) + (n - j) * math.log1p(-p)


def _log_conv(a, b):
    if not np.isfinite(a).any() or not np.isfinite(b).any():
        return np.full(a.size + b.size - 1, -np.inf)
    ma, mb = a[np.isfinite(a)].max(), b[np.isfinite(b)].max()
    c = np.convolve(np.exp(a - ma), np.exp(b - mb))
    with np.errstate(divide="ignore"):
        return np.log(c) + ma + mb


class _Drawer:
    """Exact draws of failure counts per group given their total (float64 laws, log space)."""

    def __init__(self, groups, kneed=0):
        self.sizes = [n for _, _, n, _ in groups]
        self.logb = []
        for _, _, n, p in groups:
            J = min(n, max(int(kneed), int(n * p + 40 * math.sqrt(n * p * (1 - p)) + 60 + MAX_STRATA)))
            lb = _log_binom(n, p, J)
            self.logb.append(lb)
        # suffix laws: S[g] = law of the sum of groups g, g+1, …
        S = [np.array([0.0])]
        for lb in reversed(self.logb):
            S.insert(0, _log_conv(lb, S[0]))
        self.S = S

    def totals(self, rng, lo, hi, m):
        """``m`` draws of ``K`` from its law restricted to ``lo … hi``."""
        if lo == hi:
            return np.full(m, lo, dtype=np.int64)
        law = self.S[0]
        ks = np.arange(lo, min(hi, law.size - 1) + 1)
        lw = law[ks]
        if not np.isfinite(lw).any():
            raise InvalidArgument(f"failures {lo}…{hi}: their probability is below float64's range; "
                                  "use fewer strata (max_strata) or enumerate")
        w = np.exp(lw - lw[np.isfinite(lw)].max())
        c = np.cumsum(w)
        return ks[np.minimum(np.searchsorted(c / c[-1], rng.random(m), side="right"), ks.size - 1)]

    def counts(self, rng, K):
        """Counts per group ``(G, m)`` given the totals ``K`` (sequentially, each from its conditional law)."""
        G = len(self.sizes)
        r = K.astype(np.int64).copy()
        out = np.zeros((G, K.size), dtype=np.int64)
        for g in range(G - 1):
            lb = self.logb[g]
            Sn = self.S[g + 1]
            pick = np.zeros(K.size, dtype=np.int64)
            u = rng.random(K.size)
            for rv in np.unique(r):             # rows with the same remainder share one conditional law
                rows = np.flatnonzero(r == rv)
                j = np.arange(min(lb.size - 1, int(rv)) + 1)
                idx = int(rv) - j
                ok = idx < Sn.size
                lw = np.where(ok, lb[j] + Sn[np.minimum(idx, Sn.size - 1)], -np.inf)
                mx = lw.max()
                c = np.cumsum(np.exp(lw - (mx if np.isfinite(mx) else 0.0)))
                pick[rows] = np.minimum(np.searchsorted(c, u[rows] * c[-1], side="left"), j.size - 1)
            out[g] = pick
            r -= pick
        out[G - 1] = r
        return out


def _masks_from_counts(net, groups, counts, rng):
    nm, sm = {}, {}
    for g, (kind, l, n, _) in enumerate(groups):
        mask = random_subsets(rng, counts[g], n)
        if kind == "neuron":
            nm[l] = mask
        else:
            sm[l] = mask.reshape((mask.shape[0],) + synapse_shape(net, l))
    return nm, sm


def _count_vectors(sizes, lo, hi):
    """Every count vector κ (``κ_g ≤ n_g``) with ``lo ≤ Σ κ ≤ hi``."""
    out = []

    def rec(g, left, acc):
        if g == len(sizes):
            if lo <= sum(acc) <= hi:
                out.append(tuple(acc))
            return
        for j in range(min(sizes[g], left) + 1):
            rec(g + 1, left - j, acc + [j])
    rec(0, hi, [])
    return out


def _combos(n, k):
    import itertools

    if k == 0:
        return np.zeros((1, 0), dtype=np.int64)
    flat = np.fromiter(itertools.chain.from_iterable(itertools.combinations(range(n), k)),
                       dtype=np.int64, count=math.comb(n, k) * k)
    return flat.reshape(-1, k)


def configuration_blocks(net, model, lo: int, hi: int, block: int = 4096):
    r"""Every failure configuration with ``lo … hi`` failed units, in blocks of masks, with its exact probability.

    Yields ``(kappa, probability, neuron_masks, synapse_masks)``: ``kappa`` the
    failure count per group (the groups of
    :func:`symft.engines.sampling.failure_groups`), ``probability`` the exact
    probability (``Fraction``) of *each* configuration of the block (they
    share their counts), and masks for
    :func:`symft.engines.forward.forward_masked` (at most ``block`` rows).

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> net = random_network([2, 3, 1], seed=0)
    >>> [(k, str(P), nm[1].sum(axis=1).tolist()) for k, P, nm, _ in configuration_blocks(net, NeuronCrash({1: 0.5}), 0, 1)]
    [((0,), '1/8', [0]), ((1,), '1/8', [1, 1, 1])]
    """
    groups, _, qs = _groups_exact(net, model)
    lo, hi = _check_int(lo, "lo", 0), _check_int(hi, "hi", 0)
    block = _check_int(block, "block", 1)
    sizes = [n for _, _, n, _ in groups]
    fac = _Factored(sizes, qs)
    for kap in _count_vectors(sizes, lo, hi):
        P = fac.configuration(kap)
        if P == 0:
            continue
        cs = [_combos(n, j) for n, j in zip(sizes, kap)]
        shape = tuple(c.shape[0] for c in cs)
        total = math.prod(shape)
        for a in range(0, total, block):
            idx = np.unravel_index(np.arange(a, min(total, a + block)), shape) if shape else ()
            m = idx[0].size if idx else 1
            nm, sm = {}, {}
            for g, (kind, l, n, _) in enumerate(groups):
                mask = np.zeros((m, n), dtype=bool)
                if kap[g]:
                    rows = np.repeat(np.arange(m), kap[g])
                    mask[rows, cs[g][idx[g]].ravel()] = True
                if kind == "neuron":
                    nm[l] = mask
                else:
                    sm[l] = mask.reshape((m,) + synapse_shape(net, l))
            yield kap, P, nm, sm


def _enumerated_blocks(net, model, stratum, block):
    """Yield ``(nm, sm, weights)``: every configuration of the stratum, with its exact conditional probability."""
    for _, P, nm, sm in configuration_blocks(net, model, stratum.lo, stratum.hi, block):
        m = next(iter(nm.values())).shape[0] if nm else next(iter(sm.values())).shape[0]
        yield nm, sm, np.full(m, float(P / stratum.probability))


# ---------------------------------------------------------------------- statistics per stratum

@dataclass(frozen=True, eq=False)
class StratumStatistics:
    r"""Per-stratum summaries of ``D`` statistics ``g`` of the faulty output (arrays of shape ``(D,)``).

    ``mean`` (the exact conditional mean when ``enumerated``), ``var``
    (sample variance, ``ddof = 1``), ``ones`` (draws with ``g = 1``), and
    whether every draw was 0 or 1 (``binary``) or all equal (``same``; for an enumerated stratum: every
    configuration gave the clean value, so its change is exactly 0).
    ``clean`` is ``g`` of the fault-free output, so ``E[g(faulty) − g(clean)]
    = Σ_s weight_s (mean_s − clean)``.

    Examples
    --------
    >>> s = StratumStatistics(Stratum(1, 1, Fraction(1, 2), 4, 4, True), np.array([0.5]), np.zeros(1),
    ...                       np.zeros(1), np.zeros(1, bool), np.zeros(1, bool), np.zeros(1))
    >>> s.n, s.weight
    (4, 0.5)
    """

    stratum: Stratum
    mean: np.ndarray
    var: np.ndarray
    ones: np.ndarray
    binary: np.ndarray
    same: np.ndarray
    clean: np.ndarray

    @property
    def n(self) -> int:
        """Draws (or enumerated configurations).

        Examples
        --------
        >>> Stratum(1, 1, Fraction(1), 3, 3, True).draws
        3
        """
        return self.stratum.draws

    @property
    def weight(self) -> float:
        """The stratum's probability (float64).

        Examples
        --------
        >>> Stratum(1, 1, Fraction(1, 4), 3, 3, True).weight
        0.25
        """
        return self.stratum.weight


def _block(net, groups, B):
    per = 2 * sum(n for _, _, n, _ in groups) + 24 * B * max(net.n_outputs, 1) * 4
    return int(max(1, min(1 << 14, BLOCK_BYTES // max(per, 1))))


def stratified_statistics(pb, model, plan, seed: int, fn, control=None, runner=None, *,
                          progress: bool | None = False) -> tuple:
    r"""Evaluate every stratum of ``plan``: per-stratum summaries of the statistics ``fn(Y)``.

    With ``control`` (one array ``(n_g, D)`` per failure group, :func:`control_values`), every sampled
    draw with failed units ``S`` in stratum ``s`` gives ``fn(Y) − Σ_{i ∈ S} c_i + Σ_g E[κ_g | s] c̄_g``
    instead of ``fn(Y)`` (``c̄_g`` the mean of ``c`` over group ``g``, ``κ_g`` its failure count,
    :func:`expected_counts`): a control variate with coefficient 1.  Given the counts the positions
    are uniform within each group, so ``E[Σ_{i∈S} c_i | s] = Σ_g E[κ_g | s] c̄_g`` and every stratum's
    mean is unchanged (no bias, no estimated coefficient; the only error is the float64 rounding of
    that constant); its variance drops by as much as ``c`` predicts ``fn``.  Enumerated strata are
    exact and use no control.

    Parameters
    ----------
    pb : Problem
        Network and inputs (:func:`symft.problem.make_problem`).
    model : NeuronCrash, SynapseCrash, or one of each
    plan : tuple of Stratum
        From :func:`plan_strata` (same network and model).
    seed : int
    fn : callable
        Maps faulty outputs ``Y`` of shape ``(m, B, n_out)`` to ``(m, D)``.
    control : list of ndarray, optional
        Per failure group (:func:`symft.engines.sampling.failure_groups`), ``(n_g, D)`` values ``c_i``.
    runner : callable, optional
        Where the independent pieces run: ``runner(piece, items, shared)`` must return
        ``[piece(*shared, item) for item in items]`` in order (the default does exactly that here;
        :mod:`symft.distributed` runs them on a cluster).  Each item is a group of blocks (an enumerated
        stratum, or blocks of draws with their own seeds ``(seed, stratum, block)``), and the blocks'
        summaries are merged in their fixed order, so the answer never depends on where they ran.
    progress : bool or None
        A progress bar over the configurations evaluated (enumerated or drawn), redrawn after every
        block (:func:`symft.progress.progress`; ``None``: only when stderr is a terminal).  With a
        ``runner`` the bar advances as its pieces come back.  It never changes the answer.

    Returns
    -------
    tuple of StratumStatistics

    Examples
    --------
    >>> from symft.graph.network import first_input_network
    >>> from symft.problem import make_problem
    >>> net, m = first_input_network(2), NeuronCrash({0: 0.5})
    >>> pb = make_problem(net, [2.0, 1.0], m)
    >>> st = stratified_statistics(pb, m, plan_strata(net, m, 100), 0, lambda Y: Y[:, 0, :])
    >>> [(s.stratum.lo, float(s.mean[0])) for s in st]     # y = x_1: half the one-failure cases lose it
    [(1, 1.0), (2, 0.0)]
    """
    net, X = pb.net, pb.X
    groups, semantics, qs = _groups_exact(net, model)
    clean = np.asarray(fn(pb.clean.output[None, :, :]), dtype=float)[0]
    D = clean.size
    block = _block(net, groups, X.shape[0])
    shift = None
    if control is not None:
        control = [np.asarray(c, dtype=float).reshape(n, D) for c, (_, _, n, _) in zip(control, groups)]
        cbar = np.array([c.mean(axis=0) for c in control])                       # (G, D)
        shift = [None if st.enumerated else
                 np.array([float(v) for v in expected_counts(groups, qs, st)]) @ cbar for st in plan]
    jobs = []
    for si, st in enumerate(plan):
        if st.enumerated:
            jobs.append((si, -1, 0, 0))
        else:
            jobs += [(si, kb, a, min(block, st.draws - a)) for kb, a in enumerate(range(0, st.draws, block))]
    drawer = None
    if any(not st.enumerated for st in plan):
        drawer = _Drawer(groups, max(t.hi for t in plan if t.lo == t.hi) if any(t.lo == t.hi for t in plan) else 0)
    # pieces of about equal work (a fixed split: the merge below sees the same blocks in the same order)
    n_pieces = min(len(jobs), PIECES)
    cut = [round(i * len(jobs) / n_pieces) for i in range(n_pieces + 1)] if jobs else [0]
    pieces = [jobs[cut[i]:cut[i + 1]] for i in range(len(cut) - 1)]
    ctx = (pb, model, plan, seed, fn, control, shift, block, drawer)
    work = sum(st.draws for st in plan)
    with progress_bar(work, "stratified sampling", enabled=progress) as bar:
        if runner is None:
            parts = [stratum_blocks(ctx, pc, bar=bar) for pc in pieces]
        else:
            parts = runner(stratum_blocks, pieces, (ctx,))
            bar.update(work)
    return merge_stratum_blocks(plan, [b for part in parts for b in part], clean)


#: Pieces (groups of blocks) :func:`stratified_statistics` hands to its runner.
PIECES = 16


def stratum_blocks(ctx, jobs, bar=None) -> list:
    r"""Summaries of some blocks of :func:`stratified_statistics`: one independent piece of its work.

    ``ctx`` is the tuple ``stratified_statistics`` builds; each job ``(stratum, block, first, draws)`` is
    an enumerated stratum (``block = −1``: its weighted sum and the smallest and largest value) or a block of draws with the seed
    ``(seed, stratum, block)`` (its count, mean, M2, ones, whether binary, min and max).  Pure: the same
    job gives the same summary wherever it runs.  ``bar`` (a :class:`symft.progress.Progress`, optional)
    is told the configurations of every block as it finishes.

    Examples
    --------
    >>> from symft.graph.network import first_input_network
    >>> from symft.problem import make_problem
    >>> net, m = first_input_network(2), NeuronCrash({0: 0.5})
    >>> pb = make_problem(net, [2.0, 1.0], m)
    >>> plan = plan_strata(net, m, 100)
    >>> ctx = (pb, m, plan, 0, lambda Y: Y[:, 0, :], None, None, 64, None)
    >>> [float(s[1][0][0]) for s in stratum_blocks(ctx, [(0, -1, 0, 0)])]    # E[y | one failure] = 1
    [1.0]
    """
    pb, model, plan, seed, fn, control, shift, block, drawer = ctx
    net, X, trace = pb.net, pb.X, pb.clean
    groups, semantics = failure_groups(net, model)
    out = []
    for si, kb, a, m in jobs:
        st = plan[si]
        if kb < 0:
            acc = gmin = gmax = None
            for nm, sm, w in _enumerated_blocks(net, model, st, block):
                Y = forward_masked(net, X, nm, synapse_masks=sm, semantics=semantics, trace=trace)
                G = np.asarray(fn(Y), dtype=float)
                v = w @ G
                acc = v if acc is None else acc + v
                gmin = G.min(axis=0) if gmin is None else np.minimum(gmin, G.min(axis=0))
                gmax = G.max(axis=0) if gmax is None else np.maximum(gmax, G.max(axis=0))
                if bar is not None:
                    bar.update(len(w))
            out.append((si, (acc, gmin, gmax)))
            continue
        rng = np.random.default_rng([seed, si, kb])
        K = drawer.totals(rng, st.lo, st.hi, m)
        counts = drawer.counts(rng, K)
        nm, sm = _masks_from_counts(net, groups, counts, rng)
        Y = forward_masked(net, X, nm, synapse_masks=sm, semantics=semantics, trace=trace)
        V = np.asarray(fn(Y), dtype=float)
        if control is not None:
            for g, (kind, l, n, _) in enumerate(groups):
                mk = (nm if kind == "neuron" else sm)[l].reshape(m, n)
                V = V - mk @ control[g]
            V = V + shift[si][None, :]
        bm = V.mean(axis=0)
        out.append((si, (m, bm, ((V - bm) ** 2).sum(axis=0), (V == 1).sum(axis=0), ((V == 0) | (V == 1)).all(axis=0),
                         V.min(axis=0), V.max(axis=0))))
        if bar is not None:
            bar.update(m)
    return out


def merge_stratum_blocks(plan, blocks, clean) -> tuple:
    r"""The :class:`StratumStatistics` of every stratum from its blocks' summaries, merged in order.

    ``blocks`` are the ``(stratum, summary)`` pairs of :func:`stratum_blocks` in the order of
    :func:`stratified_statistics`' jobs; means and M2 are merged by the pairwise (Chan) update, so the
    result depends only on the blocks, never on where they ran.

    Examples
    --------
    >>> st = Stratum(1, 1, Fraction(1, 2), 4, 4, False)
    >>> b = [(0, (2, np.array([1.0]), np.array([0.0]), np.array([2]), np.array([True]), np.ones(1), np.ones(1))),
    ...      (0, (2, np.array([0.0]), np.array([0.0]), np.array([0]), np.array([True]), np.zeros(1), np.zeros(1)))]
    >>> s = merge_stratum_blocks([st], b, np.zeros(1))[0]
    >>> float(s.mean[0]), float(s.var[0]), int(s.ones[0])
    (0.5, 0.3333333333333333, 2)
    """
    D = clean.size
    by = {}
    for si, summary in blocks:
        by.setdefault(si, []).append(summary)
    out = []
    for si, st in enumerate(plan):
        parts = by.get(si, [])
        if st.enumerated:       # same: every configuration gave the clean value (the change is exactly 0)
            acc, same = np.zeros(D), np.ones(D, bool)
            for v, gmin, gmax in parts:
                if v is not None:
                    acc += v
                    same &= (gmin == clean) & (gmax == clean)
            z = np.zeros(D)
            out.append(StratumStatistics(st, acc, z, z.copy(), np.zeros(D, bool), same, clean))
            continue
        n_tot, mean, M2 = 0, np.zeros(D), np.zeros(D)
        ones = np.zeros(D)
        binary = np.ones(D, bool)
        lo_v, hi_v = np.full(D, np.inf), np.full(D, -np.inf)
        for m, bm, bM2, b1, bb, bmin, bmax in parts:
            if n_tot == 0:
                mean, M2 = bm, bM2
            else:
                d = bm - mean
                tot = n_tot + m
                M2 = M2 + bM2 + d * d * (n_tot * m / tot)
                mean = mean + d * (m / tot)
            n_tot += m
            ones += b1
            binary &= bb
            lo_v, hi_v = np.minimum(lo_v, bmin), np.maximum(hi_v, bmax)
        var = M2 / (n_tot - 1) if n_tot > 1 else np.zeros(D)
        out.append(StratumStatistics(st, mean, var, ones, binary, lo_v == hi_v, clean))
    return tuple(out)


def expected_counts(groups, qs, stratum) -> list:
    r"""``E[κ_g | K ∈ stratum]``: the exact mean number of failures of every group given the stratum.

    ``P(κ_g = j, K = k) = P0 · C(n_g, j) ρ_g^j · c^{(−g)}_{k − j}`` with the convolution ``c^{(−g)}`` of
    the other groups (:class:`_Factored`); a tail stratum ``{lo, …, N}`` uses ``E κ_g = n_g q_g`` minus
    the counts below ``lo``.  ``Fraction`` arithmetic throughout.

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> net, m = random_network([2, 2, 1], seed=0), NeuronCrash({0: 0.5, 1: 0.25})
    >>> groups, _, qs = _groups_exact(net, m)
    >>> [str(v) for v in expected_counts(groups, qs, Stratum(1, 1, Fraction(3, 8), 4, 4, False))]
    ['3/4', '1/4']
    """
    sizes = [n for _, _, n, _ in groups]
    kmax = stratum.lo - 1 if stratum.hi > stratum.lo else stratum.hi
    fac = _Factored(sizes, qs)
    out = []
    for g, (n_g, q_g) in enumerate(zip(sizes, qs)):
        if q_g == 1:
            part = [n_g * v for v in fac.law(kmax)]                     # κ_g = n_g surely
        else:
            others = _Factored(sizes[:g] + sizes[g + 1:], qs[:g] + qs[g + 1:])
            sure = others.sure
            c = others.coefficients(max(0, kmax - sure))
            r = fac.rho[g]
            part = []
            for k in range(kmax + 1):
                acc = Fraction(0)
                for j in range(1, min(n_g, k - sure) + 1):
                    acc += j * math.comb(n_g, j) * r ** j * c[k - sure - j]
                part.append(fac.P0 * acc)
        if stratum.hi > stratum.lo:
            out.append((n_g * q_g - sum(part, Fraction(0))) / stratum.probability)
        else:
            out.append(part[stratum.lo] / stratum.probability)
    return out


def control_values(pb, model, fn, how: str, *, gradients=None) -> list:
    r"""Control-variate values ``c_i`` per failure group for :func:`stratified_statistics`.

    * ``"single_crash"``: ``c_i = fn(Y(e_i)) − fn(y)``, the exact effect of unit ``i`` failing alone
      (``N`` forward passes, any statistic, neurons and synapses): the stratum with one failure then has
      no variance left, and a stratum with ``k`` failures keeps only the interactions between them.
    * ``"first_order"``: ``c_i`` from ``gradients`` (``{site: (D, n_s)}``, T1's sensitivities
      ``∂g/∂ξ_i`` at 0: one reverse sweep), neuron crashes only.

    Returns a list of ``(n_g, D)`` arrays (the groups of :func:`symft.engines.sampling.failure_groups`).

    Examples
    --------
    >>> from symft.graph.network import first_input_network
    >>> net, m = first_input_network(2), NeuronCrash({0: 0.5})
    >>> pb = make_problem(net, [2.0, 1.0], m)
    >>> control_values(pb, m, lambda Y: Y[:, 0, :], "single_crash")      # y = x_1: losing x_1 costs 2
    [array([[-2.],
           [ 0.]])]
    """
    net, X = pb.net, pb.X
    groups, semantics, _ = _groups_exact(net, model)
    clean = np.asarray(fn(pb.clean.output[None, :, :]), dtype=float)[0]
    if how == "first_order":
        if gradients is None or any(kind != "neuron" for kind, _, _, _ in groups):
            raise InvalidArgument("control: 'first_order' needs T1's sensitivities, which exist for neuron "
                                  "crashes only; use 'single_crash'")
        return [np.asarray(gradients[l], dtype=float).reshape(-1, n).T for _, l, n, _ in groups]
    if how != "single_crash":
        raise InvalidArgument(f"control: expected 'single_crash' or 'first_order', got {how!r}")
    block = _block(net, groups, X.shape[0])
    out = []
    for g, (kind, l, n, _) in enumerate(groups):
        rows = []
        for a in range(0, n, block):
            m = min(block, n - a)
            nm, sm = {}, {}
            for h, (kh, lh, nh, _) in enumerate(groups):
                mask = np.zeros((m, nh), dtype=bool)
                if h == g:
                    mask[np.arange(m), np.arange(a, a + m)] = True
                if kh == "neuron":
                    nm[lh] = mask
                else:
                    sm[lh] = mask.reshape((m,) + synapse_shape(net, lh))
            Y = forward_masked(net, X, nm, synapse_masks=sm, semantics=semantics, trace=pb.clean)
            rows.append(np.asarray(fn(Y), dtype=float) - clean)
        out.append(np.concatenate(rows))
    return out


# ---------------------------------------------------------------------- intervals

def _alpha(confidence):
    if isinstance(confidence, bool) or not isinstance(confidence, Real) or not 0 < float(confidence) < 1:
        raise InvalidArgument(f"confidence: expected a number strictly between 0 and 1, got {confidence!r}")
    return 1 - float(confidence)


def t_interval(stats, confidence: float = 0.95):
    r"""Estimate, interval and standard error of ``E[g(faulty) − g(clean)]``: Student t, Welch–Satterthwaite df.

    ``est = Σ_s P_s (mean_s − clean)``; its variance ``Σ_{sampled s} P_s² v_s / n_s``;
    the quantile has ``⌊df⌋`` degrees of freedom,
    ``df = (Σ a_s)² / Σ a_s² / (n_s − 1)``, ``a_s = P_s² v_s / n_s``.

    Returns
    -------
    (est, lo, hi, se) : arrays of shape ``(D,)``

    Examples
    --------
    >>> st = [StratumStatistics(Stratum(1, 1, Fraction(1, 2), 9, 100, False), np.array([2.0]), np.array([4.0]),
    ...                         np.zeros(1), np.zeros(1, bool), np.zeros(1, bool), np.zeros(1))]
    >>> est, lo, hi, se = t_interval(st)
    >>> float(est[0]), float(se[0]), round(float(hi[0] - est[0]), 4)    # 0.5 · 2/√100 · t_99
    (1.0, 0.1, 0.1984)
    """
    a = _alpha(confidence)
    if not stats:
        return (np.zeros(0),) * 4
    D = stats[0].clean.size
    est = np.zeros(D)
    var = np.zeros(D)
    dfd = np.zeros(D)
    for s in stats:
        est += s.weight * (s.mean - s.clean)
        if not s.stratum.enumerated:
            v = s.weight ** 2 * s.var / s.n
            var += v
            dfd += v * v / (s.n - 1)
    se = np.sqrt(var)
    with np.errstate(invalid="ignore", divide="ignore"):
        df = np.where(dfd > 0, var * var / np.where(dfd > 0, dfd, 1.0), np.inf)
    h = np.zeros(D)
    for i in range(D):
        if var[i] > 0:
            dfi = max(1, int(math.floor(df[i]))) if math.isfinite(df[i]) else 10 ** 9
            h[i] = t_quantile(1 - a / 2, min(dfi, 10 ** 9)) * se[i]
    if any(not s.stratum.enumerated for s in stats):
        # float rounding of the sums: a sampled stratum whose draws a control variate made (nearly) constant
        # has a (nearly) zero variance, and the interval must still hold the mean computed exactly
        h += 1e-12 * (np.abs(est) + sum(s.weight * np.abs(s.mean - s.clean) for s in stats)) + 1e-300
    return est, est - h, est + h, se


def empirical_bernstein(mean: float, var: float, n: int, delta: float) -> float:
    r"""Half-width ``h`` with ``P{|E Z − mean| > h} ≤ δ`` for ``n`` i.i.d. draws of ``Z ∈ [0, 1]``.

    Maurer & Pontil (2009), Theorem 4, on each side at ``δ/2``:
    ``h = √(2 V ln(4/δ) / n) + 7 ln(4/δ) / (3 (n − 1))``, ``V`` the sample
    variance (``ddof = 1``).

    Examples
    --------
    >>> round(empirical_bernstein(0.5, 0.25, 1000, 0.05), 4)    # √(0.5 ln 80 / 1000) + 7 ln 80 / 2997
    0.057
    """
    if n < 2:
        return 1.0
    L = math.log(4 / delta)
    return math.sqrt(2 * max(var, 0.0) * L / n) + 7 * L / (3 * (n - 1))


def clopper_pearson_many(confidence, keys) -> list:
    r"""``[clopper_pearson(k, n, confidence) for k, n in keys]``: one piece of :func:`bounded_interval`'s work.

    Examples
    --------
    >>> clopper_pearson_many(0.95, [(0, 100)]) == [clopper_pearson(0, 100, 0.95)]
    True
    """
    return [clopper_pearson(k, n, confidence) for k, n in keys]


def bounded_interval(stats, confidence: float = 0.95, runner=None):
    r"""Estimate and interval of ``E[g(faulty) − g(clean)]`` for ``g ∈ [0, 1]``, keeping its level for rare events.

    Each of the ``S`` sampled strata gets a ``1 − α/S`` interval for its
    conditional mean — Clopper–Pearson (exact) when every draw was 0 or 1,
    else the empirical Bernstein bound (:func:`empirical_bernstein`) —
    clipped to ``[0, 1]``; enumerated strata are exact.  The combination
    ``Σ_s P_s ([lo_s, hi_s] − clean)`` holds the truth whenever every stratum's
    interval does: probability at least ``1 − α`` (union bound).  Rounded
    outward by a relative ``1e-12``.  ``runner``: where the Clopper–Pearson limits are computed, in pieces
    (as in :func:`stratified_statistics`; never changes the answer).

    Returns
    -------
    (est, lo, hi) : arrays of shape ``(D,)``

    Examples
    --------
    >>> st = [StratumStatistics(Stratum(1, 1, Fraction(1, 10), 9, 200, False), np.array([0.0]), np.zeros(1),
    ...                         np.zeros(1), np.ones(1, bool), np.ones(1, bool), np.zeros(1))]
    >>> est, lo, hi = bounded_interval(st)
    >>> float(est[0]), float(lo[0]), round(float(hi[0]), 5)    # 0.1 · (1 − 0.025^(1/200))
    (0.0, 0.0, 0.00183)
    """
    a = _alpha(confidence)
    if not stats:
        return (np.zeros(0),) * 3
    D = stats[0].clean.size
    S = sum(1 for s in stats if not s.stratum.enumerated)
    a_s = a / max(S, 1)
    est, lo, hi = np.zeros(D), np.zeros(D), np.zeros(D)
    # the Clopper–Pearson limits (most of the work): every distinct (ones, draws), in pieces a runner may spread
    keys = list(dict.fromkeys((int(s.ones[i]), s.n) for s in stats if not s.stratum.enumerated
                              for i in range(D) if s.binary[i]))
    n_pieces = min(len(keys), PIECES)
    pieces = [keys[round(j * len(keys) / n_pieces):round((j + 1) * len(keys) / n_pieces)] for j in range(n_pieces)]
    if runner is None:
        limits = [clopper_pearson_many(1 - a_s, pc) for pc in pieces]
    else:
        limits = runner(clopper_pearson_many, pieces, (1 - a_s,))
    cp = dict(zip(keys, (v for part in limits for v in part)))
    for s in stats:
        w = s.weight
        est += w * (s.mean - s.clean)
        if s.stratum.enumerated:
            lo += w * (s.mean - s.clean)
            hi += w * (s.mean - s.clean)
            continue
        for i in range(D):
            if s.binary[i]:
                l, h = cp[(int(s.ones[i]), s.n)]
            else:
                e = empirical_bernstein(float(s.mean[i]), float(s.var[i]), s.n, a_s)
                l, h = max(0.0, float(s.mean[i]) - e), min(1.0, float(s.mean[i]) + e)
            lo[i] += w * (l - s.clean[i])
            hi[i] += w * (h - s.clean[i])
    slack = 1e-12 * (np.abs(lo) + np.abs(hi)) + 1e-300
    # every stratum enumerated and every configuration at the clean value: the change is exactly 0
    exact = np.array([all(s.stratum.enumerated and s.same[i] for s in stats) for i in range(D)], dtype=bool)
    lo[exact] = hi[exact] = est[exact] = 0.0
    slack[exact] = 0.0
    return est, lo - slack, hi + slack


# ---------------------------------------------------------------------- the engine

@result
@dataclass(frozen=True)
class StratifiedResult:
    r"""Stratified estimates of ``E Δ`` (or of a loss change) and of ``P(prediction changes)``, for one input.

    ``statistic`` is ``"error"`` (then ``mean``, ``ci_low``, ``ci_high`` are
    tuples indexed by output) or the loss's name (one entry: ``E Δ_{L+1}``).
    ``change``, ``change_low``, ``change_high``: the probability that the
    predicted class (first maximal output) differs from the fault-free one,
    and its interval (:func:`bounded_interval`).  ``interval`` names how the
    mean's interval was made (``"t-welch"``, or ``"clopper-pearson"`` for the
    zero-one loss); ``method`` is ``"enumerated"`` when every stratum was
    enumerated (the intervals are then points, exact up to float rounding),
    else ``"statistical"``.  ``crashed_samples`` counts the sampled
    configurations (each has a failure), ``enumerated_configurations`` the
    enumerated ones; ``p_crash`` is ``P(K ≥ 1)``.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> from symft.graph.network import random_network
    >>> net = random_network([30, 4, 2], seed=0)
    >>> r = stratified_monte_carlo(net, np.ones(30), NeuronCrash({0: 0.01}), 3000, seed=0)
    >>> sorted(r.as_dict())[:5]
    ['change', 'change_high', 'change_low', 'ci_high', 'ci_low']
    """

    mean: tuple
    ci_low: tuple
    ci_high: tuple
    standard_error: tuple
    change: float
    change_low: float
    change_high: float
    statistic: str
    interval: str
    method: str
    confidence: float
    seed: int
    samples: int
    crashed_samples: int
    enumerated_configurations: int
    p_crash: float
    strata: tuple = ()
    warnings: tuple = field(default=())

    def as_dict(self) -> dict:
        """JSON-ready dictionary (``ci_low``/``ci_high``/``crashed_samples`` as in :class:`MonteCarloResult`).

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> r = stratified_monte_carlo(mean_network(2), [1.0, 1.0], NeuronCrash({0: 0.5}), 100, seed=0)
        >>> r.as_dict()["method"], r.as_dict()["ci_low"]
        ('enumerated', [-0.5])
        """
        return {"mean": list(self.mean), "ci_low": list(self.ci_low), "ci_high": list(self.ci_high),
                "standard_error": list(self.standard_error), "change": self.change,
                "change_low": self.change_low, "change_high": self.change_high, "statistic": self.statistic,
                "interval": self.interval, "method": self.method, "confidence": self.confidence,
                "seed": self.seed, "samples": self.samples, "crashed_samples": self.crashed_samples,
                "enumerated_configurations": self.enumerated_configurations, "p_crash": self.p_crash,
                "strata": [s.as_dict() for s in self.strata], "warnings": list(self.warnings)}


def check_budget(net, model, plan, n_inputs: int = 1, force: bool = False) -> float:
    r"""Refuse (before any work) a plan predicted to take longer than the time limit (:mod:`symft.cost`).

    Returns the estimate (seconds); raises :class:`~symft.errors.TooLargeError`
    (with the estimate and a smaller budget) unless ``force``.

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> net, m = random_network([3, 40, 2], seed=0), NeuronCrash({1: 1e-3})
    >>> check_budget(net, m, plan_strata(net, m, 2000)) < 1
    True
    >>> check_budget(net, m, plan_strata(net, m, 10 ** 13, enumerate_small=False))
    Traceback (most recent call last):
    ...
    symft.errors.TooLargeError: n_samples: 1e+13 configurations: would take about ... (estimated from ... draws with a failure), more than the limit of 1 h; use at most about ... configurations (--samples), or force=True, or raise the limit with max_time=SECONDS
    """
    total = sum(s.draws for s in plan)
    if not total:
        return 0.0
    est = draw_estimate(net, model, total, n_inputs)
    limit, _ = cost.current_limit()
    if est.seconds > limit and not force:
        ok = limit / (est.seconds / total)
        cost.check(est, f"n_samples: {total:.4g} configurations",
                   f"use at most about {ok:.3g} configurations (--samples), or force=True")
    return est.seconds


def _pairs_spread(k):
    """What a single-crash control leaves with ``k`` failures: ``k (k − 1) / 2`` pair interactions."""
    return math.sqrt(k * (k - 1) / 2)


def _second_order_spread(k):
    """What a first-order control leaves with ``k`` failures: ``k`` diagonal and ``k (k − 1) / 2`` pair terms."""
    return math.sqrt(k * (k + 1) / 2)


def _check_seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0:
        raise InvalidArgument(f"seed: expected a non-negative integer (recorded in the result), got {seed!r}")
    return int(seed)


def stratified_monte_carlo(net, x, model, n_samples: int, seed: int, *, loss=None, target=None,
                           confidence: float = 0.95, min_per_stratum: int = MIN_PER_STRATUM,
                           max_strata: int = MAX_STRATA, enumerate_small: bool = True,
                           control: str | None = None, force: bool = False,
                           progress: bool | None = None) -> StratifiedResult:
    r"""Stratified Monte Carlo estimate of ``E Δ`` (or ``E Δ_{L+1}``) and ``P(prediction changes)`` for one input.

    See the module docstring: strata by the number of failures with exact
    probabilities (:func:`plan_strata`), small strata enumerated, the others
    sampled from their exact conditional law; the crash-free stratum
    contributes exactly 0.

    Parameters
    ----------
    net : Network
    x : array_like
        One input.
    model : NeuronCrash, SynapseCrash, or one of each
    n_samples : int
        Budget: configurations evaluated (enumerated or drawn), ≥ 2; each
        sampled stratum gets at least ``min_per_stratum`` draws on top.
    seed : int
    loss : {"squared", "zero_one", "cross_entropy"} or callable, optional
        Estimate the loss change ``Δ_{L+1} = ω(ŷ, t) − ω(y, t)`` instead of ``Δ``
        (:func:`symft.engines.losses.loss_functions`).
    target : int or array_like
        The loss's target (a class, or a vector for ``"squared"``).
    confidence : float
        Level of every interval (default 0.95).
    min_per_stratum, max_strata, enumerate_small
        See :func:`plan_strata`.
    control : {None, "single_crash", "first_order"}
        A control variate for the mean of ``Δ`` or of a squared / cross-entropy loss change in the
        sampled strata (:func:`control_values`, :func:`stratified_statistics`): unbiased, the same
        intervals, a smaller variance.  ``"single_crash"`` costs one forward pass per unit,
        ``"first_order"`` one reverse sweep (T1; neuron crashes, not for a callable loss).  Not used for
        the zero-one loss and the prediction change (their Clopper–Pearson intervals need 0/1 draws);
        the sampled draws are shared by the spread of what the control leaves
        (:func:`plan_strata`), so with ``enumerate_small=False`` the one-failure stratum gets few
        draws and the prediction change's interval widens.
    force : bool
        Run even when the predicted time exceeds the limit (:mod:`symft.cost`)
        (otherwise :class:`~symft.errors.TooLargeError`, raised before any work; :func:`check_budget`).
    progress : bool or None
        A progress bar over the configurations evaluated, enumerated or drawn, on stderr
        (:func:`symft.progress.progress`): ``None`` (the default) draws it only when stderr is a
        terminal, ``True`` also in Jupyter, ``False`` never.  It never changes the answer.

    Returns
    -------
    StratifiedResult
        Intervals: Student t with Welch–Satterthwaite df for ``Δ`` and the
        squared / cross-entropy losses; stratum-wise Clopper–Pearson at
        ``1 − α/S`` combined by the union bound for the zero-one loss and the
        prediction change (:func:`bounded_interval`).

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> net = random_network([4, 60, 3], seed=2, activation="tanh")
    >>> r = stratified_monte_carlo(net, [0.3, -0.2, 1.0, 0.5], NeuronCrash({1: 1e-3}), 4000, seed=0)
    >>> [(s.lo, s.hi, s.enumerated) for s in r.strata][:3]
    [(1, 1, True), (2, 2, True), (3, 3, False)]
    >>> r.method, r.crashed_samples > 0, bool(r.ci_low[0] <= r.mean[0] <= r.ci_high[0])
    ('statistical', True, True)
    """
    n_samples = _check_int(n_samples, "n_samples", 2)
    seed = _check_seed(seed)
    _alpha(confidence)
    confidence = float(confidence)
    from .sampling import crash_probability

    pb = make_problem(net, x, None, where="input")
    if not pb.single:
        raise InvalidArgument("x: expected one input (for a dataset use symft.analysis.accuracy.accuracy)")
    groups, _, _ = _groups_exact(net, model)
    if control not in (None, "single_crash", "first_order"):
        raise InvalidArgument(f"control: expected None, 'single_crash' or 'first_order', got {control!r}")
    use_control = control is not None and loss != "zero_one"
    spread = None                 # a-priori spread of what the control leaves given k failures
    if use_control and control == "single_crash":
        spread = _pairs_spread
    elif use_control:
        spread = _second_order_spread
    plan = plan_strata(net, model, n_samples, min_per_stratum=min_per_stratum, max_strata=max_strata,
                       enumerate_small=enumerate_small, spread=spread)
    check_budget(net, model, plan, 1, force)
    n_out = net.n_outputs
    if loss is None:
        if target is not None:
            raise InvalidArgument("target: given without a loss")
        statistic = "error"
        def g(Y):
            return Y[:, 0, :]
        K = n_out
    else:
        f, _ = loss_functions(loss, target, n_out)
        statistic = loss if isinstance(loss, str) else "callable"
        def g(Y):
            return f(Y[:, 0, :])[:, None]
        K = 1
    clean_cls = int(np.argmax(pb.clean.output[0]))

    def fn(Y):
        ch = (np.argmax(Y[:, 0, :], axis=1) != clean_cls).astype(float)[:, None]
        return np.concatenate([g(Y), ch], axis=1)

    ctrl = None
    if use_control and any(not s.enumerated for s in plan):
        grads = None
        if control == "first_order":
            from .taylor import t1, t1_loss

            neuron = model if isinstance(model, NeuronCrash) else None
            if neuron is not None and loss is None:
                grads = t1(net, x, neuron, semantics=neuron.semantics, remainder=False).gradients
            elif neuron is not None and isinstance(loss, str) and loss != "zero_one":
                grads = t1_loss(net, x, neuron, loss, target, semantics=neuron.semantics, remainder=False).gradients
            elif neuron is not None:
                raise InvalidArgument("control: 'first_order' needs a smooth named loss; use 'single_crash'")
        ctrl = control_values(pb, model, fn, control, gradients=None if grads is None else
                              {l: np.concatenate([np.asarray(g, dtype=float).reshape(K, -1),
                                                  np.zeros((1, np.asarray(g).reshape(K, -1).shape[1]))])
                               for l, g in grads.items()})
        for c in ctrl:
            c[:, K:] = 0.0                  # never on the prediction change (a 0/1 statistic)
    stats = stratified_statistics(pb, model, plan, seed, fn, ctrl, progress=progress)
    notes = []
    if stats:
        t_est, t_lo, t_hi, se = t_interval(stats, confidence)
        b_est, b_lo, b_hi = bounded_interval(stats, confidence)
    else:
        t_est = t_lo = t_hi = se = b_est = b_lo = b_hi = np.zeros(K + 1)
    if statistic == "zero_one":
        mean, lo, hi, interval = b_est[:K], b_lo[:K], b_hi[:K], "clopper-pearson"
        se = se[:K]
    else:
        mean, lo, hi, interval = t_est[:K], t_lo[:K], t_hi[:K], "t-welch"
        se = se[:K]
        for s in stats:
            if ctrl is not None and control == "single_crash" and s.stratum.hi == 1:
                continue            # one failure, its exact effect subtracted: the draws are constant by design
            if not s.stratum.enumerated and s.stratum.configurations > s.n and np.any(s.same[:K]):
                notes.append(f"every one of the {s.n} draws with {s.stratum.lo}…{s.stratum.hi} failures gave the "
                             "same value for some output: that stratum's variance is unknown, its interval "
                             "may cover less than its level")
    for w in notes:
        _warn(w, SamplingWarning, stacklevel=2)
    sampled = sum(s.draws for s in plan if not s.enumerated)
    enumerated = sum(s.draws for s in plan if s.enumerated)
    return StratifiedResult(
        mean=tuple(float(v) for v in mean), ci_low=tuple(float(v) for v in lo),
        ci_high=tuple(float(v) for v in hi), standard_error=tuple(float(v) for v in se),
        change=float(b_est[K]), change_low=max(0.0, float(b_lo[K])), change_high=min(1.0, float(b_hi[K])),
        statistic=statistic, interval=interval, method="statistical" if sampled else "enumerated",
        confidence=confidence, seed=seed, samples=n_samples, crashed_samples=int(sampled),
        enumerated_configurations=int(enumerated), p_crash=crash_probability(net, model) if groups else 0.0,
        strata=plan, warnings=tuple(notes))
