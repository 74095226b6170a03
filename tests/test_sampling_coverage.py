"""The Monte Carlo sampler draws from the right law, and its intervals keep their level when failures are rare.

* The law: the configurations drawn given at least one failure are compared
  with the exact conditional law, ``P(s) / (1 − Π (1 − p)^n)``, computed here
  with Fractions (chi-square test, fixed seeds); the position sampler with
  uniform subsets.
* The coverage: over many seeds, the fraction of nominal 95% intervals that
  contain the exact mean (rational enumeration, or a full-order enclosure of
  width far below the interval's) must be close to 95% — in the rare-failure
  regime where the plain average of the samples covered about 60% (a
  degenerate ``[0, 0]`` whenever no sample had a failure).  A fast version
  runs in the default suite; the 400-seed measurement is ``slow``.
* Absurd sample counts are refused up front.
"""

from __future__ import annotations

import itertools
import math
import time
from fractions import Fraction

import numpy as np
import pytest

from symft.errors import TooLargeError
from symft.engines.enclosure import enclosure
from symft.engines.enumeration import enumerate_crashes
from symft.faults import NeuronCrash, SynapseCrash
from symft.graph.network import random_network
from symft.engines.sampling import monte_carlo, normal_quantile, sample_errors

from .test_sampling import raw_net


def chi2_limit(df, tail=1e-6):
    """Upper ``tail`` quantile of the chi-square law (Wilson–Hilferty, accurate to a few % here)."""
    z = normal_quantile(1 - tail)
    a = 2 / (9 * df)
    return df * (1 - a + z * math.sqrt(a)) ** 3


def chi2(observed, expected):
    """Chi-square statistic after pooling the cells expected below 5 into one."""
    obs, exp = np.asarray(observed, float), np.asarray(expected, float)
    small = exp < 5
    o = np.append(obs[~small], obs[small].sum())
    e = np.append(exp[~small], exp[small].sum())
    keep = e > 0
    return float(((o[keep] - e[keep]) ** 2 / e[keep]).sum()), int(keep.sum()) - 1


# ---------------------------------------------------------------------- the law of the draws

@pytest.mark.parametrize("per_unit_limit", [0, 64], ids=["by-counts", "by-rejection"])
@pytest.mark.parametrize("model", [
    NeuronCrash({0: 0.3, 1: 0.05}),
    NeuronCrash({1: 0.002, 2: 0.4}),
    (NeuronCrash({1: 0.01}), SynapseCrash({2: 0.02})),
    NeuronCrash({0: 1.0, 2: 0.1}),
    NeuronCrash({0: 0.6, 1: 0.4}),
    NeuronCrash({0: 0.05, 1: 0.5}),
], ids=["two-layers", "rare-and-frequent", "neurons-and-synapses", "certain-failure", "frequent",
        "rare-then-frequent"])
def test_draws_follow_the_conditional_law(model, per_unit_limit, monkeypatch):
    # both ways of drawing (failure counts then positions; one uniform per unit with rejection)
    import symft.engines.sampling
    from symft.engines.sampling import _crashed_masks, _groups, _log_none, _models
    monkeypatch.setattr(symft.engines.sampling, "PER_UNIT_LIMIT", per_unit_limit)
    net = random_network([2, 3, 2], seed=0)
    neuron, syn = _models(model)
    groups = _groups(net, neuron, syn)
    units = [(g, i) for g, (_, _, n, _) in enumerate(groups) for i in range(n)]
    ps = [Fraction(groups[g][3]) for g, _ in units]   # the float p the sampler uses, exactly
    none = math.prod((1 - p for p in ps), start=Fraction(1))
    exact = {}
    for bits in itertools.product((0, 1), repeat=len(units)):
        if any(bits):
            exact[bits] = math.prod((p if b else 1 - p for p, b in zip(ps, bits)), start=Fraction(1)) / (1 - none)
    m = 100000
    nm, sm = _crashed_masks(net, groups, _log_none(groups), m, np.random.default_rng(12345))
    cols = []
    for kind, l, n, _ in groups:
        cols.append(nm[l] if kind == "neuron" else sm[l].reshape(m, n))
    draws = np.concatenate(cols, axis=1)
    assert draws.any(axis=1).all()                                # every draw has a failure
    keys, counts = np.unique(draws.astype(np.int8), axis=0, return_counts=True)
    got = {tuple(int(v) for v in k): int(c) for k, c in zip(keys, counts)}
    assert set(got) <= set(exact)
    cells = sorted(exact)
    stat, df = chi2([got.get(c, 0) for c in cells], [float(exact[c]) * m for c in cells])
    assert stat < chi2_limit(df), (stat, df)


@pytest.mark.parametrize("n,k", [(6, 2), (6, 5), (9, 1), (7, 4)])
def test_subsets_are_uniform(n, k):
    from symft.engines.sampling import _subsets
    m = 60000
    out = _subsets(np.random.default_rng(n * 100 + k), np.full(m, k), n)
    assert (out.sum(axis=1) == k).all()
    keys, counts = np.unique(out.astype(np.int8), axis=0, return_counts=True)
    assert len(keys) <= math.comb(n, k)
    full = list(counts) + [0] * (math.comb(n, k) - len(keys))
    stat, df = chi2(full, [m / math.comb(n, k)] * math.comb(n, k))
    assert stat < chi2_limit(df)


@pytest.mark.parametrize("n,k", [(80, 17), (80, 30), (300, 3), (50, 49)], ids=["wide-repair", "dense-keys",
                                                                             "sparse", "complement"])
def test_subsets_positions_and_pairs_are_uniform(n, k):
    # Every path of the sampler (column-wise rejection, batch repair, ranked keys, complement):
    # each position is chosen with probability k/n and each pair with k(k-1)/(n(n-1)).
    from symft.engines.sampling import _subsets
    m = 20000
    out = _subsets(np.random.default_rng(7), np.full(m, k), n)
    assert (out.sum(axis=1) == k).all()
    stat, df = chi2(out.sum(axis=0), [m * k / n] * n)
    assert stat < chi2_limit(df)
    both = out[:, 0] & out[:, n - 1]
    p2 = k * (k - 1) / (n * (n - 1))
    assert abs(both.mean() - p2) <= 5 * math.sqrt(p2 * (1 - p2) / m) + 1e-12


def test_crash_probability_exact():
    from symft.engines.sampling import crash_probability
    net = raw_net()
    p0, p1 = 0.3, 1e-4
    want = 1 - (1 - Fraction(p0)) ** 3 * (1 - Fraction(p1)) ** 3
    assert crash_probability(net, NeuronCrash({0: p0, 1: p1})) == pytest.approx(float(want), rel=1e-14)
    # synapses of W_2 (2 x 3) and neurons of layer 1 together
    want = 1 - (1 - Fraction(0.01)) ** 6 * (1 - Fraction(0.2)) ** 3
    got = crash_probability(net, (SynapseCrash({2: 0.01}), NeuronCrash({1: 0.2})))
    assert got == pytest.approx(float(want), rel=1e-14)


# ---------------------------------------------------------------------- coverage

def exact_rare_regime():
    """Regime A: the hand-written relu net, crashes at the input and hidden layers, p = 1e-4, 5000 samples."""
    net, x = raw_net(), np.array([1.0, -0.5, 2.0])
    model = NeuronCrash({0: 1e-4, 1: 1e-4})
    e = enumerate_crashes(net, x, model, exact=True)          # rational: p read as the float's binary value
    return net, x, model, 5000, [float(v) for v in e.mean]


def exact_random_regime():
    """Regime B: the random tanh net of the certify tests, p = 1e-3 at the hidden layer, 20,000 samples."""
    net, x = random_network([3, 5, 1], seed=0, activation="tanh"), np.array([0.1, 0.2, 0.3])
    model = NeuronCrash({1: 1e-3})
    e = enclosure(net, x, model, order=5)                     # full order: width = float margins only
    return net, x, model, 20000, [float(v) for v in e.mean], float(e.width.max())


def coverage(net, x, model, n, means, seeds):
    hits, degenerate, halfwidths = 0, 0, []
    for s in seeds:
        r = monte_carlo(net, x, model, n, seed=s, show_progress=False)
        for k, mu in enumerate(means):
            hits += r.ci_low[k] <= mu <= r.ci_high[k]
            degenerate += r.ci_low[k] == r.ci_high[k]
            halfwidths.append((r.ci_high[k] - r.ci_low[k]) / 2)
    return hits / (len(seeds) * len(means)), degenerate, float(np.median(halfwidths))


def se_of_mean(net, x, model, n):
    """The standard error of the estimator, from the exact conditional moments (independent brute force)."""
    from .test_sampling import brute_moments
    mean, var = brute_moments(net, x, model)
    none = math.prod((1 - Fraction(float(model.probability(l)))) ** net.widths[l] for l in model.layers)
    pc = float(1 - none)
    mu_c = mean / pc
    var_c = (var + mean ** 2) / pc - mu_c ** 2            # E[Δ² | C] − E[Δ | C]²
    n_c = max(math.ceil(n * pc), min(n, 1000))
    return pc * np.sqrt(var_c / n_c)


def test_rare_failures_interval_keeps_its_level_fast():
    # p = 1e-4, 5000 samples: the plain average covered 59–70% here (27 of 400 runs [0, 0]).
    net, x, model, n, means = exact_rare_regime()
    cov, degenerate, half = coverage(net, x, model, n, means, range(60))
    assert degenerate == 0
    assert cov >= 0.85, cov                     # 120 intervals at 95%: P(cov < 0.85) ≈ 1e-5
    # not by being wide: the half-width is the t quantile times the standard error
    se = se_of_mean(net, x, model, n)
    assert 0.8 * 1.96 * float(se.min()) <= half <= 1.25 * 1.96 * float(se.max())


def test_random_net_interval_keeps_its_level_fast():
    net, x, model, n, means, width = exact_random_regime()
    cov, degenerate, half = coverage(net, x, model, n, means, range(60))
    assert width < 1e-6 * half
    assert degenerate == 0 and cov >= 0.85, cov
    se = se_of_mean(net, x, model, n)
    assert 0.8 * 1.96 * float(se[0]) <= half <= 1.25 * 1.96 * float(se[0])


@pytest.mark.slow
@pytest.mark.parametrize("regime", ["rare", "random"])
def test_coverage_400_seeds(regime):
    # Nominal 95%: over 400 seeds (800 intervals in the rare regime: two outputs) the coverage must lie
    # within about 3 binomial standard deviations of 0.95 (0.92 … 0.98).
    if regime == "rare":
        net, x, model, n, means = exact_rare_regime()
    else:
        net, x, model, n, means, width = exact_random_regime()
    cov, degenerate, _ = coverage(net, x, model, n, means, range(1000, 1400))
    print(f"{regime}: coverage {cov:.4f}, degenerate {degenerate}")
    assert degenerate == 0
    assert 0.92 <= cov <= 0.98, cov


# ---------------------------------------------------------------------- warnings and refusals

def test_few_draws_and_zero_variance_warn():
    net = raw_net()
    with pytest.warns(UserWarning, match="only 20 draws"):
        r = monte_carlo(net, [1.0, -0.5, 2.0], NeuronCrash({1: 1e-4}), 20, seed=0)
    assert r.crashed_samples == 20 and any("only 20" in w for w in r.warnings)
    # at x = 0 an input failure changes nothing: every draw is Δ = 0, and the interval is the distribution-free
    # one around 0 (the proved bound on |Δ| is the floating-point margin only)
    with pytest.warns(UserWarning, match="same error"):
        r = monte_carlo(random_network([2, 40, 1], seed=1, activation="relu"), [0.0, 0.0],
                        NeuronCrash({0: 1e-3}), 2000, seed=0)
    assert r.mean == (0.0,) and r.ci_low[0] <= 0.0 <= r.ci_high[0] and r.ci_high[0] < 1e-15


def test_absurd_sample_counts_are_refused_up_front():
    from symft.engines.sampling import crashed_errors
    net = raw_net()
    t = time.perf_counter()
    with pytest.raises(TooLargeError,
                       match=r"n_samples: 1e\+20 samples: would take about .*estimated from .*--samples.*enclosure"):
        monte_carlo(net, [1.0, -0.5, 2.0], NeuronCrash({1: 0.1}), 10 ** 20, seed=0)
    with pytest.raises(TooLargeError, match="n_samples"):
        sample_errors(net, [1.0, -0.5, 2.0], NeuronCrash({1: 0.1}), 10 ** 20, seed=0)
    with pytest.raises(TooLargeError, match="n_draws"):
        crashed_errors(net, [1.0, -0.5, 2.0], NeuronCrash({1: 0.1}), 10 ** 20, seed=0)
    assert time.perf_counter() - t < 2
    # nothing can fail: Δ = 0 exactly whatever the sample size, no work
    r = monte_carlo(net, [1.0, -0.5, 2.0], NeuronCrash({1: 0.0}), 10 ** 20, seed=0)
    assert r.mean == r.ci_low == r.ci_high == (0.0, 0.0) and r.crashed_samples == 0


def test_draws_without_spread_get_a_distribution_free_interval():
    # y = (x1 + x2 + x3 + x4)/4 at x = 1, input failures p = 1e-4: E Δ = −p exactly (−K/4, E K = 4p).
    # Nearly every draw given a failure has one failure (Δ = −1/4): 1000 identical draws, so the t
    # interval would be the single point −P(C)/4 = −9.9985e-5 and miss −1e-4 (the unseen multi-failure
    # mass).  The interval comes instead from the proved bound |Δ| ≤ 1 and the rule of three.
    from symft.graph.network import mean_network
    from symft.analysis.report import check
    net, x = mean_network(4), [1, 1, 1, 1]
    with pytest.warns(UserWarning, match="rule of three"):
        r = monte_carlo(net, x, NeuronCrash({0: 1e-4}), 100000, seed=0)
    assert r.crashed_samples == 1000
    pc = 1 - (1 - 1e-4) ** 4
    u = 1 - 0.05 ** (1 / 1000)
    assert r.ci_low[0] <= -1e-4 <= r.ci_high[0]
    assert r.ci_high[0] - r.ci_low[0] == pytest.approx(2 * pc * u * (1 + 0.25), rel=1e-6)
    # check tests the same way (a z-score would be ±inf: a false disagreement)
    c = check(net, x, NeuronCrash({0: 1e-4}), samples=100000, seed=0)
    assert c.verdict == "agree" and all(k["status"] == "agree" for k in c.comparisons), c.text()
    # synapse failures have no proved bound on |Δ| here: the interval is unbounded, and says so
    with pytest.warns(UserWarning, match="unbounded"):
        r = monte_carlo(net, x, SynapseCrash({1: 1e-4}), 100000, seed=0)
    assert r.ci_low[0] == -math.inf and r.ci_high[0] == math.inf
