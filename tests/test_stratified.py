"""Tests of symft.engines.stratified: exact stratum laws, exact conditional draws, unbiased estimates, coverage.

The references are independent: the law of the number of failures and every
exact mean below come from a loop over all crash subsets written here, in
Fractions (the relu networks are given as raw lists, so the brute force does
not use symft's forward pass); the tanh net's exact mean comes from a full
order enclosure (width far below the intervals).  Coverage is measured over
fixed seeds with the strata *sampled* (``enumerate_small=False``): what the
intervals promise, not what enumeration gives for free.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest

from symft.engines.enclosure import enclosure
from symft.engines.sampling import failure_groups, monte_carlo
from symft.engines.stratified import (bounded_interval, crash_count_law, plan_strata, stratified_monte_carlo,
                                      t_interval)
from symft.errors import InvalidArgument
from symft.faults import NeuronCrash, SynapseCrash
from symft.graph.network import Network, random_network

from .test_sampling import RAW_B, RAW_W
from .test_sampling_coverage import chi2, chi2_limit


# ---------------------------------------------------------------------- independent brute force (Fractions)

def frac_chain(Ws, bs, acts, x, crashed):
    """Outputs of a dense chain in Fractions; ``crashed`` = set of (layer, i) whose outputs are 0."""
    y = [Fraction(v) for v in x]
    y = [Fraction(0) if (0, i) in crashed else v for i, v in enumerate(y)]
    for l, (W, b, a) in enumerate(zip(Ws, bs, acts), start=1):
        z = [sum((Fraction(w) * v for w, v in zip(row, y)), Fraction(0)) + Fraction(bb) for row, bb in zip(W, b)]
        y = [max(v, Fraction(0)) if a == "relu" else v for v in z]
        y = [Fraction(0) if (l, i) in crashed else v for i, v in enumerate(y)]
    return y


def first_argmax(v):
    return max(range(len(v)), key=lambda i: (v[i], -i))


def brute(Ws, bs, acts, x, p):
    """Exact ``E Δ``, ``P(class changes)`` and the law of the number of failures; ``p`` = {layer: Fraction}."""
    widths = [len(x)] + [len(b) for b in bs]
    units = [(l, i) for l in sorted(p) for i in range(widths[l])]
    clean = frac_chain(Ws, bs, acts, x, set())
    c0 = first_argmax(clean)
    mean = [Fraction(0)] * len(clean)
    change = Fraction(0)
    law = [Fraction(0)] * (len(units) + 1)
    for bits in itertools.product((0, 1), repeat=len(units)):
        w = math.prod((p[l] if b else 1 - p[l] for (l, _), b in zip(units, bits)), start=Fraction(1))
        s = {u for u, b in zip(units, bits) if b}
        y = frac_chain(Ws, bs, acts, x, s)
        mean = [m + w * (a - c) for m, a, c in zip(mean, y, clean)]
        change += w * (first_argmax(y) != c0)
        law[len(s)] += w
    return mean, change, law


RELU_W = [[[1.0, -0.5, 0.25, 2.0], [0.5, 1.0, -1.0, 0.0], [-1.5, 0.25, 0.5, 1.0]],
          [[1.0, -1.0, 0.5], [0.5, 0.25, -1.0], [-0.25, 1.0, 1.0]]]
RELU_B = [[0.125, -0.25, 0.5], [0.0, 0.0625, -0.125]]
X4 = [0.5, -1.0, 0.75, 0.25]


def relu_net():
    return Network.from_numpy(RELU_W, RELU_B, ["relu", "linear"])


# ---------------------------------------------------------------------- the law

def test_crash_count_law_is_the_exact_convolution():
    net = random_network([3, 4, 3, 1], seed=0)
    p = {0: Fraction(1, 4), 1: Fraction(0.001), 2: Fraction(1, 2)}
    widths = [3, 4, 3]
    units = [l for l in sorted(p) for _ in range(widths[l])]
    want = [Fraction(0)] * (len(units) + 1)
    for bits in itertools.product((0, 1), repeat=len(units)):
        want[sum(bits)] += math.prod((p[l] if b else 1 - p[l] for l, b in zip(units, bits)), start=Fraction(1))
    got = crash_count_law(net, NeuronCrash({0: 0.25, 1: 0.001, 2: 0.5}))
    assert list(got) == want
    assert crash_count_law(net, NeuronCrash({0: 0.25, 1: 0.001, 2: 0.5}), kmax=3) == tuple(want[:4])


def test_strata_cover_every_configuration_with_a_failure_exactly():
    net = random_network([5, 30, 20, 2], seed=1)
    m = NeuronCrash({1: 1e-3, 2: 0.02})
    law = crash_count_law(net, m, kmax=0)
    plan = plan_strata(net, m, 5000)
    assert sum((s.probability for s in plan), Fraction(0)) == 1 - law[0]
    ks = [k for s in plan for k in range(s.lo, s.hi + 1)]
    assert ks == list(range(1, 51))
    assert all(s.draws >= 32 for s in plan)
    assert sum(s.configurations for s in plan) == 2 ** 50 - 1
    # with a budget too small to enumerate anything, the split follows P_s √k_s (plus the minimum)
    plan = plan_strata(net, m, 5000, enumerate_small=False)
    assert not any(s.enumerated for s in plan)
    big = [s for s in plan if s.draws > 32]
    ratios = [s.draws / (float(s.probability) * math.sqrt(s.lo)) for s in big]
    assert max(ratios) / min(ratios) < 1.05


def test_conditional_draws_follow_the_exact_law():
    # Given the stratum, configurations are drawn with probability P(s) / P(stratum): chi-square against
    # the exact Fractions, for a single count and for the tail stratum, with two different p.
    from symft.engines.stratified import _Drawer, _masks_from_counts
    net = random_network([2, 3, 2], seed=0)
    m = NeuronCrash({0: 0.3, 1: 0.05})
    groups, _ = failure_groups(net, m)
    ps = [Fraction(0.3)] * 2 + [Fraction(0.05)] * 3
    dr = _Drawer(groups)
    for lo, hi in ((2, 2), (3, 5), (1, 5)):
        exact = {}
        for bits in itertools.product((0, 1), repeat=5):
            if lo <= sum(bits) <= hi:
                exact[bits] = math.prod((q if b else 1 - q for q, b in zip(ps, bits)), start=Fraction(1))
        tot = sum(exact.values())
        n = 60000
        rng = np.random.default_rng(lo * 10 + hi)
        K = dr.totals(rng, lo, hi, n)
        nm, _ = _masks_from_counts(net, groups, dr.counts(rng, K), rng)
        draws = np.concatenate([nm[0], nm[1]], axis=1).astype(np.int8)
        keys, counts = np.unique(draws, axis=0, return_counts=True)
        got = {tuple(int(v) for v in k): int(c) for k, c in zip(keys, counts)}
        assert set(got) <= set(exact)
        cells = sorted(exact)
        stat, df = chi2([got.get(c, 0) for c in cells], [float(exact[c] / tot) * n for c in cells])
        assert stat < chi2_limit(df), (lo, hi, stat, df)


# ---------------------------------------------------------------------- exactness when enumerated

def test_enumerated_strata_give_the_exact_mean_and_change():
    net = relu_net()
    p = {0: Fraction(1, 4), 1: Fraction(1, 8)}
    mean, change, _ = brute(RELU_W, RELU_B, ["relu", "linear"], X4, p)
    r = stratified_monte_carlo(net, X4, NeuronCrash({0: 0.25, 1: 0.125}), 10 ** 4, seed=0)
    assert r.method == "enumerated" and r.crashed_samples == 0 and r.enumerated_configurations == 2 ** 7 - 1
    for k in range(3):
        assert r.mean[k] == pytest.approx(float(mean[k]), abs=1e-14)
        assert r.ci_low[k] == r.ci_high[k] == r.mean[k]
    assert change > 0
    assert r.change == pytest.approx(float(change), rel=1e-13)
    assert r.change_low <= float(change) <= r.change_high
    assert r.change_high - r.change_low < 1e-12


def test_zero_one_loss_change_is_exact_and_its_interval_contains_it():
    net = relu_net()
    p = {0: Fraction(1, 4), 1: Fraction(1, 8)}
    x = X4
    widths = [4, 3, 3]
    units = [(l, i) for l in sorted(p) for i in range(widths[l])]
    target = 2
    clean_wrong = first_argmax(frac_chain(RELU_W, RELU_B, ["relu", "linear"], x, set())) != target
    want = Fraction(0)
    for bits in itertools.product((0, 1), repeat=len(units)):
        w = math.prod((p[l] if b else 1 - p[l] for (l, _), b in zip(units, bits)), start=Fraction(1))
        y = frac_chain(RELU_W, RELU_B, ["relu", "linear"], x, {u for u, b in zip(units, bits) if b})
        want += w * ((first_argmax(y) != target) - clean_wrong)
    r = stratified_monte_carlo(net, x, NeuronCrash({0: 0.25, 1: 0.125}), 10 ** 4, seed=0,
                               loss="zero_one", target=target)
    assert r.statistic == "zero_one" and r.interval == "clopper-pearson"
    assert r.mean[0] == pytest.approx(float(want), abs=1e-14)
    # sampled: the interval (Clopper–Pearson per stratum, union bound) contains it
    r = stratified_monte_carlo(net, x, NeuronCrash({0: 0.25, 1: 0.125}), 2000, seed=3,
                               loss="zero_one", target=target, enumerate_small=False)
    assert r.method == "statistical" and r.crashed_samples >= 2000
    assert r.ci_low[0] <= float(want) <= r.ci_high[0]


def test_squared_loss_through_strata():
    net = relu_net()
    t = [0.5, -0.25, 1.0]
    r = stratified_monte_carlo(net, X4, NeuronCrash({0: 0.25, 1: 0.125}), 10 ** 4, seed=0, loss="squared", target=t)
    p = {0: Fraction(1, 4), 1: Fraction(1, 8)}
    units = [(l, i) for l in (0, 1) for i in range((4, 3)[l])]
    clean = frac_chain(RELU_W, RELU_B, ["relu", "linear"], X4, set())
    lc = sum((a - Fraction(b)) ** 2 for a, b in zip(clean, t))
    want = Fraction(0)
    for bits in itertools.product((0, 1), repeat=len(units)):
        w = math.prod((p[l] if b else 1 - p[l] for (l, _), b in zip(units, bits)), start=Fraction(1))
        y = frac_chain(RELU_W, RELU_B, ["relu", "linear"], X4, {u for u, b in zip(units, bits) if b})
        want += w * (sum((a - Fraction(b)) ** 2 for a, b in zip(y, t)) - lc)
    assert r.mean[0] == pytest.approx(float(want), rel=1e-12)


@pytest.mark.parametrize("model", [SynapseCrash({2: 0.125}), NeuronCrash({0: 0.25, 1: 0.125}, "incoming_zeroed"),
                                   (NeuronCrash({1: 0.25}), SynapseCrash({2: 0.0625}))],
                         ids=["synapses", "incoming-zeroed", "neurons-and-synapses"])
def test_other_failure_models_enumerated_and_sampled(model):
    # the independent float brute force of the sampling tests (every subset of the failing units)
    from .test_sampling import brute_moments
    net = relu_net()
    if isinstance(model, tuple):
        # neurons of layer 1 and synapses of W_2 together: brute force by hand over the 3 + 9 units
        units = [("n", i) for i in range(3)] + [("s", i, j) for i in range(3) for j in range(3)]
        from symft.engines.forward import forward_patterns
        from symft.faults import CrashPattern
        pats, ws = [], []
        for bits in itertools.product((0, 1), repeat=len(units)):
            pats.append(CrashPattern(frozenset((1, u[1]) for u, b in zip(units, bits) if b and u[0] == "n"),
                                     frozenset((2, u[1], u[2]) for u, b in zip(units, bits) if b and u[0] == "s")))
            ws.append(math.prod(((0.25 if u[0] == "n" else 0.0625) if b else (0.75 if u[0] == "n" else 0.9375))
                                for u, b in zip(units, bits)))
        d = forward_patterns(net, np.asarray(X4), pats) - forward_patterns(net, np.asarray(X4), [CrashPattern()])[0]
        mean = (np.array(ws)[:, None] * d).sum(axis=0)
    else:
        mean, _ = brute_moments(net, X4, model)
    r = stratified_monte_carlo(net, X4, model, 10 ** 4, seed=0)
    assert r.method == "enumerated"
    assert np.allclose(r.mean, mean, rtol=1e-12, atol=1e-14)
    r = stratified_monte_carlo(net, X4, model, 4000, seed=1, enumerate_small=False)
    assert r.method == "statistical" and r.crashed_samples >= 4000
    assert all(lo <= m <= hi for lo, m, hi in zip(r.ci_low, mean, r.ci_high))


def test_cross_entropy_loss_change():
    net = relu_net()
    x = np.asarray(X4)
    from symft.engines.forward import forward_patterns
    from symft.faults import CrashPattern
    units = [(0, i) for i in range(4)] + [(1, i) for i in range(3)]
    pats, ws = [], []
    for bits in itertools.product((0, 1), repeat=7):
        pats.append(CrashPattern(frozenset(u for u, b in zip(units, bits) if b)))
        ws.append(math.prod((0.25 if u[0] == 0 else 0.125) if b else (0.75 if u[0] == 0 else 0.875)
                            for u, b in zip(units, bits)))
    Y = forward_patterns(net, x, pats)
    ce = np.log(np.exp(Y).sum(axis=1)) - Y[:, 1]
    want = float(np.dot(ws, ce - ce[0]))
    r = stratified_monte_carlo(net, X4, NeuronCrash({0: 0.25, 1: 0.125}), 10 ** 4, seed=0,
                               loss="cross_entropy", target=1)
    assert r.statistic == "cross_entropy" and r.mean[0] == pytest.approx(want, rel=1e-12)


def test_errors_are_one_line():
    net = relu_net()
    with pytest.raises(InvalidArgument, match="n_samples"):
        stratified_monte_carlo(net, X4, NeuronCrash({0: 0.1}), 1, seed=0)
    with pytest.raises(InvalidArgument, match="seed"):
        stratified_monte_carlo(net, X4, NeuronCrash({0: 0.1}), 100, seed=-1)
    with pytest.raises(InvalidArgument, match="x: expected one input"):
        stratified_monte_carlo(net, [X4, X4], NeuronCrash({0: 0.1}), 100, seed=0)
    with pytest.raises(InvalidArgument, match="confidence"):
        stratified_monte_carlo(net, X4, NeuronCrash({0: 0.1}), 100, seed=0, confidence=1.5)
    r = stratified_monte_carlo(net, X4, NeuronCrash({0: 0.0}), 100, seed=0)
    assert r.mean == r.ci_low == r.ci_high == (0.0, 0.0, 0.0) and r.change == 0.0 and r.strata == ()
    import time
    from symft.errors import TooLargeError
    t = time.perf_counter()
    with pytest.raises(TooLargeError, match=r"n_samples: .* configurations: would take about .*force=True"):
        stratified_monte_carlo(net, X4, NeuronCrash({0: 0.1}), 10 ** 13, seed=0, enumerate_small=False)
    assert time.perf_counter() - t < 2


# ---------------------------------------------------------------------- coverage (sampled strata)

def rare_regime():
    """The hand-written relu net of the sampling tests, inputs and hidden layer at p = 1e-4, 5000 samples."""
    from .test_sampling import raw_net
    x = [1.0, -0.5, 2.0]
    p = {0: Fraction(1e-4), 1: Fraction(1e-4)}
    mean, change, _ = brute(RAW_W, RAW_B, ["relu", "linear"], x, p)
    return raw_net(), x, NeuronCrash({0: 1e-4, 1: 1e-4}), 5000, [float(v) for v in mean], float(change)


def random_regime():
    """The random tanh net of the certify tests (the paper's setting), p = 1e-3, 20,000 samples."""
    net, x = random_network([3, 5, 1], seed=0, activation="tanh"), [0.1, 0.2, 0.3]
    m = NeuronCrash({1: 1e-3})
    e = enclosure(net, np.array(x), m, order=5)
    return net, x, m, 20000, [float(v) for v in e.mean], float(e.width.max())


def changing_regime():
    """A 3-class relu net where single failures change the class: P(change) known exactly (Fractions)."""
    p = {0: Fraction(0.0625), 1: Fraction(0.0625)}
    mean, change, _ = brute(RELU_W, RELU_B, ["relu", "linear"], X4, p)
    return relu_net(), X4, NeuronCrash({0: 0.0625, 1: 0.0625}), 3000, [float(v) for v in mean], float(change)


def coverage(net, x, model, n, means, change, seeds):
    hits = chits = 0
    halves = []
    for s in seeds:
        r = stratified_monte_carlo(net, x, model, n, seed=s, enumerate_small=False)
        hits += sum(r.ci_low[k] <= mu <= r.ci_high[k] for k, mu in enumerate(means))
        chits += change is None or r.change_low <= change <= r.change_high
        halves += [(r.ci_high[k] - r.ci_low[k]) / 2 for k in range(len(means))]
    return hits / (len(seeds) * len(means)), chits / len(seeds), float(np.median(halves))


@pytest.mark.parametrize("regime", ["rare", "changing"])
def test_sampled_strata_intervals_keep_their_level_fast(regime):
    net, x, model, n, means, change = rare_regime() if regime == "rare" else changing_regime()
    cov, ccov, _ = coverage(net, x, model, n, means, change, range(60))
    assert cov >= 0.85, cov                      # 120–180 intervals at 95%
    assert ccov >= 0.93, ccov                    # Clopper–Pearson + union bound: conservative


def test_random_net_sampled_strata_keep_their_level_fast():
    net, x, model, n, means, width = random_regime()
    cov, _, half = coverage(net, x, model, n, means, None, range(60))
    assert width < 1e-6 * half
    assert cov >= 0.85, cov


def test_narrower_than_the_plain_sampler_at_equal_draws():
    # 60 hidden tanh neurons at p = 1e-3: the one- and two-failure strata are enumerated (1890 configurations),
    # the rest sampled; the plain sampler's interval is at least 10× wider for the same number of forward passes
    net = random_network([4, 60, 3], seed=2, activation="tanh")
    x, m = [0.3, -0.2, 1.0, 0.5], NeuronCrash({1: 1e-3})
    r = stratified_monte_carlo(net, x, m, 4000, seed=0)
    n_plain = math.ceil((r.crashed_samples + r.enumerated_configurations) / (1 - (1 - 1e-3) ** 60))
    q = monte_carlo(net, x, m, n_plain, seed=0)
    assert q.crashed_samples >= r.crashed_samples + r.enumerated_configurations
    e = enclosure(net, np.array(x), m, order=4)
    for k in range(3):
        assert r.ci_low[k] <= e.mean_hi[k] and e.mean_lo[k] <= r.ci_high[k]
        assert (q.ci_high[k] - q.ci_low[k]) >= 10 * (r.ci_high[k] - r.ci_low[k])


def test_interval_helpers_reject_bad_levels():
    with pytest.raises(InvalidArgument, match="confidence"):
        t_interval([], 0)
    with pytest.raises(InvalidArgument, match="confidence"):
        bounded_interval([], 1)


@pytest.mark.slow
@pytest.mark.parametrize("regime", ["rare", "random", "changing"])
def test_coverage_400_seeds(regime):
    # 400 seeds, sampled strata: the 95% intervals contain the exact mean at least 93% of the time.
    if regime == "random":
        net, x, model, n, means, _ = random_regime()
        change = None
    else:
        net, x, model, n, means, change = rare_regime() if regime == "rare" else changing_regime()
    cov, ccov, _ = coverage(net, x, model, n, means, change, range(1000, 1400))
    print(f"{regime}: coverage {cov:.4f}, change coverage {ccov:.4f}")
    assert cov >= 0.93, cov
    assert ccov >= 0.95, ccov


# ---------------------------------------------------------------------- progress

def test_progress_bar_counts_every_configuration_evaluated_and_changes_nothing(capsys, monkeypatch):
    import symft
    import symft.engines.stratified as S

    net, x, m = random_network([4, 30, 3], seed=2, activation="tanh"), [0.3, -0.2, 1.0, 0.5], NeuronCrash({1: 0.05})
    quiet = stratified_monte_carlo(net, x, m, 3000, seed=0)            # stderr is not a terminal: no bar
    assert capsys.readouterr().err == ""
    loud = symft.sample(net, x, m, samples=3000, seed=0, progress=True)
    err = capsys.readouterr().err
    total = sum(s.draws for s in loud.strata)
    assert any(s.enumerated for s in loud.strata) and any(not s.enumerated for s in loud.strata)
    assert "stratified sampling" in err and f"{total}/{total}" in err
    assert loud.mean == quiet.mean and loud.ci_low == quiet.ci_low and loud.ci_high == quiet.ci_high
    updates = []

    class Recorder:
        def __init__(self, total, label="", enabled=None, stream=None):
            self.total, self.enabled = total, enabled

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def update(self, n=1):
            updates.append(n)

    monkeypatch.setattr(S, "progress_bar", Recorder)
    again = stratified_monte_carlo(net, x, m, 3000, seed=0, progress=False)
    assert again.mean == quiet.mean
    assert sum(updates) == total and len(updates) >= len(loud.strata)      # one step per block, not one at the end
