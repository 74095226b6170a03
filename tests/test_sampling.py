"""Tests of symft.engines.sampling: Monte Carlo, quantiles, Clopper–Pearson, planners.

Every statistical check uses a fixed seed (the draws are deterministic), and
the exact values it is compared with come from an independent brute-force
enumeration written here (``brute_moments``), not from symft.engines.enumeration.
"""

from __future__ import annotations

import itertools
import json
import math
import os
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from symft.cli import main
from symft.errors import InvalidArgument
from symft.faults import CrashPattern, NeuronCrash, SynapseCrash
from symft.engines.forward import forward, forward_patterns
from symft.graph.netfile import load_network
from symft.graph.network import Network, first_input_network, mean_network, random_network
from symft.engines.sampling import (binomial_cdf, clopper_pearson, mean_interval, monte_carlo, normal_quantile,
                            sample_errors, samples_for_halfwidth, samples_for_proportion, t_quantile)

DATA = os.path.join(os.path.dirname(__file__), "data")


# ---------------------------------------------------------------------- brute force (independent)

def brute_moments(net, x, model):
    """Exact E Δ and Var Δ (float64 per output) by enumerating every crash configuration.

    Independent of symft.engines.enumeration: a plain loop over all subsets of the neurons
    (or synapses) that may fail, each weighted by Π p^{crashed} (1-p)^{alive}.
    """
    units = []
    if isinstance(model, NeuronCrash):
        for l in model.layers:
            units += [("n", l, i, float(model.probability(l))) for i in range(net.widths[l])]
    else:
        for l in model.layers:
            units += [("s", l, i, j, float(model.probability(l)))
                      for i in range(net.widths[l]) for j in range(net.widths[l - 1])]
    assert len(units) <= 16
    clean = forward(net, x)
    pats, weights = [], []
    for bits in itertools.product((0, 1), repeat=len(units)):
        w = 1.0
        neurons, syn = [], []
        for b, u in zip(bits, units):
            p = u[-1]
            w *= p if b else (1 - p)
            if b:
                (neurons if u[0] == "n" else syn).append(u[1:-1])
        pats.append(CrashPattern(frozenset(neurons), frozenset(syn)))
        weights.append(w)
    sem = model.semantics if isinstance(model, NeuronCrash) else "output_zero"
    d = forward_patterns(net, np.asarray(x, float), pats, semantics=sem) - clean
    w = np.array(weights)[:, None]
    mean = (w * d).sum(axis=0)
    var = (w * (d - mean) ** 2).sum(axis=0)
    return mean, var


# Hand-written network as raw lists (not produced by symft): 3 -> 3 (relu) -> 2 (linear).
RAW_W = [[[0.5, -1.0, 0.25], [1.5, 0.5, -0.75], [-0.4, 0.8, 1.2]], [[1.0, -2.0, 0.5], [0.3, 0.7, -1.1]]]
RAW_B = [[0.1, -0.2, 0.05], [0.0, 0.4]]


def raw_net():
    return Network.from_numpy(RAW_W, RAW_B, ["relu", "linear"])


# ---------------------------------------------------------------------- quantiles

def test_normal_quantile_table():
    # classical table values
    assert normal_quantile(0.975) == pytest.approx(1.959963984540054, abs=1e-12)
    assert normal_quantile(0.995) == pytest.approx(2.5758293035489004, abs=1e-12)


def test_t_quantile_hand_values():
    # df = 1 is the Cauchy law: quantile tan(π (q - 1/2)); df = 2 has t = (2q-1) sqrt(2 / (1 - (2q-1)^2))
    for q in (0.6, 0.9, 0.975, 0.995):
        assert t_quantile(q, 1) == pytest.approx(math.tan(math.pi * (q - 0.5)), rel=1e-12)
        a = 2 * q - 1
        assert t_quantile(q, 2) == pytest.approx(a * math.sqrt(2 / (1 - a * a)), rel=1e-12)
    # printed tables: t_{0.975, 10} = 2.228, t_{0.995, 30} = 2.750
    assert round(t_quantile(0.975, 10), 3) == 2.228
    assert round(t_quantile(0.995, 30), 3) == 2.750


def test_t_quantile_against_scipy():
    stats = pytest.importorskip("scipy.stats")
    for df in (3, 4, 17, 200, 999, 1000, 1001, 20000):
        for q in (0.55, 0.9, 0.995, 0.99995):
            assert t_quantile(q, df) == pytest.approx(stats.t.ppf(q, df), rel=1e-10)


@settings(deadline=None, max_examples=30)
@given(st.integers(1, 3000), st.floats(0.51, 0.9999))
def test_t_quantile_monotone_and_above_normal(df, q):
    t = t_quantile(q, df)
    assert t >= normal_quantile(q) - 1e-9
    assert t_quantile(q, df + 1) <= t + 1e-9
    assert t_quantile(1 - q, df) == -t


def test_quantile_bad_arguments():
    with pytest.raises(InvalidArgument, match="df"):
        t_quantile(0.9, 0)
    with pytest.raises(InvalidArgument, match="q"):
        normal_quantile(1.0)


# ---------------------------------------------------------------------- binomial, Clopper–Pearson

def exact_binom_cdf(k, n, p):
    p = Fraction(p)
    return sum(math.comb(n, j) * p ** j * (1 - p) ** (n - j) for j in range(k + 1))


@settings(deadline=None, max_examples=40)
@given(st.integers(1, 60), st.data())
def test_binomial_cdf_matches_exact(n, data):
    k = data.draw(st.integers(0, n))
    p = data.draw(st.floats(1e-4, 1 - 1e-4))
    assert binomial_cdf(k, n, p) == pytest.approx(float(exact_binom_cdf(k, n, p)), rel=1e-10, abs=1e-300)


@pytest.mark.parametrize("k,n", [(0, 10), (1, 10), (5, 10), (10, 10), (3, 40), (0, 1), (1, 1), (17, 25)])
def test_clopper_pearson_valid_and_tight(k, n):
    # Validity, checked with exact rationals: at the limits the tail is at most α/2;
    # tightness: moving a limit inward by 1e-6 (relative) makes the tail exceed α/2.
    a = Fraction(1, 200)  # 99% interval
    lo, hi = clopper_pearson(k, n, 0.99)
    if k > 0:
        assert 1 - exact_binom_cdf(k - 1, n, lo) <= a
        assert 1 - exact_binom_cdf(k - 1, n, lo * (1 + 1e-6)) > a
    else:
        assert lo == 0.0
    if k < n:
        assert exact_binom_cdf(k, n, hi) <= a
        assert exact_binom_cdf(k, n, hi * (1 - 1e-6)) > a
    else:
        assert hi == 1.0


def test_clopper_pearson_zero_successes_closed_form():
    # k = 0: upper limit solves (1 - p)^n = α/2  →  p = 1 - (α/2)^{1/n}
    lo, hi = clopper_pearson(0, 1000, 0.95)
    assert hi == pytest.approx(1 - 0.025 ** (1 / 1000), rel=1e-8)
    assert hi >= 1 - 0.025 ** (1 / 1000)


def test_clopper_pearson_large_n():
    stats = pytest.importorskip("scipy.stats")
    for k, n in ((12, 10 ** 6), (400000, 10 ** 6)):
        lo, hi = clopper_pearson(k, n, 0.99)
        assert lo <= stats.beta.ppf(0.005, k, n - k + 1) and hi >= stats.beta.ppf(0.995, k + 1, n - k)
        assert lo == pytest.approx(stats.beta.ppf(0.005, k, n - k + 1), rel=1e-7)


def test_clopper_pearson_bad():
    with pytest.raises(InvalidArgument, match="k, n"):
        clopper_pearson(5, 3)


# ---------------------------------------------------------------------- planners

def test_samples_for_halfwidth_is_minimal():
    v, h, c = 2.5, 0.05, 0.99
    n = samples_for_halfwidth(h, v, c, "t")
    half = lambda m: t_quantile(0.5 + c / 2, m - 1) * math.sqrt(v) / math.sqrt(m)  # noqa: E731
    assert half(n) <= h < half(n - 1)
    nz = samples_for_halfwidth(h, v, c, "normal")
    assert nz <= n
    # Chebyshev: σ²/(n h²) ≤ α
    nc = samples_for_halfwidth(h, v, c, "chebyshev")
    assert v / (nc * h * h) <= 1 - c + 1e-15 and v / ((nc - 1) * h * h) > 1 - c



@settings(max_examples=60, deadline=None)
@given(st.floats(1e-3, 10.0), st.floats(1e-3, 100.0), st.sampled_from([0.8, 0.9, 0.95, 0.99, 0.999]))
def test_samples_for_halfwidth_t_is_minimal_everywhere(h, v, c):
    # the smallest n whose t interval is at most h wide (bisection over n, checked at n and n - 1)
    n = samples_for_halfwidth(h, v, c, "t")
    half = lambda m: t_quantile(0.5 + c / 2, m - 1) * math.sqrt(v) / math.sqrt(m)  # noqa: E731
    assert n >= 2 and half(n) <= h
    assert n == 2 or half(n - 1) > h

def test_samples_for_proportion():
    n = samples_for_proportion(0.02, 0.95)
    # Hoeffding: 2 exp(-2 n h²) ≤ α
    assert 2 * math.exp(-2 * n * 0.02 ** 2) <= 0.05 < 2 * math.exp(-2 * (n - 1) * 0.02 ** 2)


def test_mean_interval_shapes():
    lo, hi = mean_interval(0.0, 1.0, 10, 0.95, "t")
    assert hi == pytest.approx(2.2621571627409915 / math.sqrt(10), rel=1e-10) and lo == -hi


# ---------------------------------------------------------------------- Monte Carlo

def test_mc_toy_mean_network():
    # theory §4: y = Σ x_i / n at x ≡ 1, input crashes: E Δ = -p, Var Δ = p(1-p)/n
    n, p = 4, 0.2
    r = monte_carlo(mean_network(n), np.ones(n), NeuronCrash({0: p}), 40000, seed=11, confidence=0.99)
    assert r.ci_low[0] <= -p <= r.ci_high[0]
    assert r.var[0] == pytest.approx(p * (1 - p) / n, rel=0.05)


def test_mc_reproducible_and_seed_recorded():
    net = random_network([3, 4, 2], seed=1)
    a = monte_carlo(net, [0.1, 0.2, 0.3], NeuronCrash({1: 0.3}), 3000, seed=5)
    b = monte_carlo(net, [0.1, 0.2, 0.3], NeuronCrash({1: 0.3}), 3000, seed=5)
    c = monte_carlo(net, [0.1, 0.2, 0.3], NeuronCrash({1: 0.3}), 3000, seed=6)
    assert a == b and a.seed == 5 and a != c


def test_mc_is_the_scaled_average_of_the_draws_given_a_failure():
    # monte_carlo averages the draws of crashed_errors (same seed) and scales by P(at least one failure):
    # E Δ = P(C) E[Δ | C], Var Δ = P(C) Var[Δ | C] + P(C)(1 − P(C)) E[Δ | C]² (estimated without bias).
    from symft.engines.sampling import crashed_errors
    net = random_network([2, 3, 2], seed=2)
    x = [0.4, -0.9]
    model = NeuronCrash({0: 0.3, 1: 0.2})
    r = monte_carlo(net, x, model, 5000, seed=3, eps=0.1)
    d, pc = crashed_errors(net, x, model, r.crashed_samples, seed=3)
    assert pc == pytest.approx(1 - 0.7 ** 2 * 0.8 ** 3, rel=1e-14) and r.p_crash == pc
    assert r.crashed_samples == math.ceil(5000 * pc) == d.shape[0]
    n = d.shape[0]
    m, s2 = d.mean(axis=0), d.var(axis=0, ddof=1)
    np.testing.assert_allclose(r.mean, pc * m, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(r.var, pc * s2 * (1 - (1 - pc) / n) + pc * (1 - pc) * m * m, rtol=1e-9)
    np.testing.assert_allclose([r.stderr(k) for k in range(2)], pc * np.sqrt(s2 / n), rtol=1e-9)
    assert list(r.count_upper) == list((d >= 0.1).sum(axis=0))
    assert list(r.count_abs) == list((np.abs(d) >= 0.1).sum(axis=0))
    # every draw has a failure, and most failures change the output
    assert (np.abs(d).sum(axis=1) > 0).sum() > 0.5 * n


def test_sample_errors_are_draws_of_the_unconditional_law():
    # The rows of sample_errors: Δ = 0 on the rows without a failure, the conditional law elsewhere;
    # its 99.9% interval for the mean contains the exact mean.
    net = raw_net()
    x = [1.0, -0.5, 2.0]
    model = NeuronCrash({0: 0.1, 1: 0.2})
    mean, _ = brute_moments(net, x, model)
    d = sample_errors(net, x, model, 40000, seed=5)
    for k in range(2):
        lo, hi = mean_interval(d[:, k].mean(), d[:, k].std(ddof=1), d.shape[0], 0.999)
        assert lo <= mean[k] <= hi


def test_mc_masks_are_bernoulli():
    # Each input of y = x_1 … with n = 1 crashes with frequency p: Δ = -x_1 exactly when it does.
    d = sample_errors(first_input_network(1), [1.0], NeuronCrash({0: 0.3}), 20000, seed=0)
    k = int((d[:, 0] == -1.0).sum())
    lo, hi = clopper_pearson(k, 20000, 0.999)
    assert lo <= 0.3 <= hi and set(np.unique(d)) <= {-1.0, 0.0}


def test_mc_batch_equals_single():
    net = random_network([2, 4, 1], seed=4)
    X = np.array([[0.5, 1.0], [-1.0, 0.2]])
    rb = monte_carlo(net, X, NeuronCrash({1: 0.25}), 4000, seed=9)
    r0 = monte_carlo(net, X[0], NeuronCrash({1: 0.25}), 4000, seed=9)
    assert rb.mean[0][0] == pytest.approx(r0.mean[0], rel=1e-12)
    assert not rb.single and r0.single


FOREIGN = [
    ("raw_relu_hidden", raw_net, [1.0, -0.5, 2.0], NeuronCrash({1: 0.2})),
    ("raw_relu_input_and_hidden", raw_net, [1.0, -0.5, 2.0], NeuronCrash({0: 0.1, 1: 0.3})),
    ("raw_relu_incoming_zeroed", raw_net, [1.0, -0.5, 2.0], NeuronCrash({1: 0.3}, "incoming_zeroed")),
    ("raw_relu_synapses", raw_net, [1.0, -0.5, 2.0], SynapseCrash({2: 0.2})),
    ("file_relu_exact", lambda: load_network(os.path.join(DATA, "foreign_relu_exact.json")), [1, 2, -1],
     NeuronCrash({1: 0.1, 2: 0.2})),
    ("file_tanh", lambda: load_network(os.path.join(DATA, "foreign_tanh.json")), [0.3, -1.0, 0.7],
     NeuronCrash({1: 0.05, 2: 0.1})),
    ("file_sigmoid_hardtanh", lambda: load_network(os.path.join(DATA, "handwritten_sigmoid_hardtanh.json")),
     [0.5, -1.0, 0.25, 2.0], NeuronCrash({1: 0.1, 2: 0.2})),
]


@pytest.mark.parametrize("name,factory,x,model", FOREIGN, ids=[c[0] for c in FOREIGN])
def test_mc_99_interval_contains_exact_mean_on_foreign_nets(name, factory, x, model):
    net = factory()
    mean, var = brute_moments(net, x, model)
    r = monte_carlo(net, x, model, 40000, seed=2024, confidence=0.99)
    for k in range(net.n_outputs):
        assert r.ci_low[k] <= mean[k] <= r.ci_high[k], (k, r.ci_low[k], mean[k], r.ci_high[k])
        assert r.var[k] == pytest.approx(var[k], rel=0.1, abs=1e-12)


@settings(deadline=None, max_examples=8, derandomize=True)
@given(st.integers(0, 10 ** 6), st.floats(0.05, 0.4))
def test_mc_random_nets_interval_contains_exact(seed, p):
    # 99.99 % intervals, derandomized examples: a failure here is a real discrepancy.
    net = random_network([2, 3, 2], seed=seed, activation="tanh")
    x = np.array([0.7, -0.4])
    model = NeuronCrash({0: p, 1: p})
    mean, _ = brute_moments(net, x, model)
    r = monte_carlo(net, x, model, 20000, seed=seed % 1000, confidence=0.9999)
    for k in range(2):
        assert r.ci_low[k] <= mean[k] <= r.ci_high[k]


def test_mc_tail_interval_contains_exact_probability():
    net = raw_net()
    x = [1.0, -0.5, 2.0]
    model = NeuronCrash({1: 0.3})
    # exact P{Δ_0 ≥ ε} by enumeration over the 8 hidden patterns
    clean = forward(net, x)
    eps = 0.5
    pu = 0.0
    for bits in itertools.product((0, 1), repeat=3):
        pat = CrashPattern.from_layers({1: [i for i in range(3) if bits[i]]})
        w = math.prod(0.3 if b else 0.7 for b in bits)
        pu += w * float(forward(net, x, pat)[0] - clean[0] >= eps)
    r = monte_carlo(net, x, model, 20000, seed=1, eps=eps, confidence=0.99)
    lo, hi = r.tail_interval(0, sided="upper")
    assert lo <= pu <= hi


def test_mc_bad_arguments():
    net = mean_network(2)
    with pytest.raises(InvalidArgument, match="seed"):
        monte_carlo(net, [1, 1], NeuronCrash({0: 0.1}), 10, seed=None)
    with pytest.raises(InvalidArgument, match="n_samples"):
        monte_carlo(net, [1, 1], NeuronCrash({0: 0.1}), 1, seed=0)
    with pytest.raises(InvalidArgument, match="input"):
        monte_carlo(net, [1, 1, 1], NeuronCrash({0: 0.1}), 10, seed=0)
    with pytest.raises(InvalidArgument, match="model"):
        monte_carlo(net, [1, 1], "p=0.1", 10, seed=0)


# ---------------------------------------------------------------------- CLI

def test_cli_sample_json(capsys):
    rc = main(["sample", "examples/mean_of_inputs.json", "--input", "1,1,1,1", "--p", "0:0.1",
               "--samples", "20000", "--seed", "3", "--json", "--confidence", "0.99", "--method", "plain"])
    out = capsys.readouterr().out
    assert rc == 0 and out.count("\n") == 1
    d = json.loads(out)
    for key in ("mean", "var", "std", "mean_lo", "mean_hi", "samples", "seed", "crashed_samples", "p_crash",
                "warnings"):
        assert key in d
    assert d["samples"] == 20000 and d["seed"] == 3
    assert d["crashed_samples"] == math.ceil(20000 * (1 - 0.9 ** 4)) and d["warnings"] == []
    assert d["mean_lo"][0] <= -0.1 <= d["mean_hi"][0]


def test_cli_sample_text_and_errors(capsys):
    rc = main(["sample", "examples/mean_of_inputs.json", "--input", "1,1,1,1", "--p", "0:0.1",
               "--samples", "1000", "--seed", "3", "--eps", "0.2", "--method", "plain"])
    out = capsys.readouterr().out
    assert rc == 0 and "Clopper" in out and "ci_low" in out
    rc = main(["sample", "examples/mean_of_inputs.json", "--input", "1,1,1,1", "--samples", "10", "--seed", "0"])
    assert rc == 2 and "--p" in capsys.readouterr().err


def test_cli_sample_synapses_and_neurons(capsys):
    rc = main(["sample", os.path.join(DATA, "foreign_tanh.json"), "--input", "0.3,-1,0.7", "--p", "1:0.05",
               "--synapse-p", "2:0.1", "--samples", "2000", "--seed", "4", "--json"])
    d = json.loads(capsys.readouterr().out)
    assert rc == 0 and [m["kind"] for m in d["model"]] == ["neuron", "synapse"]
    assert d["model"][1]["sites"] == [{"site": "2", "p": 0.1}]
    rc = main(["sample", os.path.join(DATA, "foreign_tanh.json"), "--input", "0.3,-1,0.7", "--synapse-p", "0:0.1",
               "--samples", "20", "--seed", "4"])
    assert rc == 2 and "layer 0" in capsys.readouterr().err


def test_mc_neuron_and_synapse_together_matches_brute_force():
    # Both models at once: exact E Δ by enumerating 3 hidden neurons × 6 synapses of W_2 (2^9 configurations).
    net = raw_net()
    x = [1.0, -0.5, 2.0]
    units = [("n", 1, i) for i in range(3)] + [("s", 2, i, j) for i in range(2) for j in range(3)]
    pn, ps = 0.2, 0.1
    clean = forward(net, x)
    pats, w = [], []
    for bits in itertools.product((0, 1), repeat=len(units)):
        pats.append(CrashPattern(frozenset(u[1:] for b, u in zip(bits, units) if b and u[0] == "n"),
                                 frozenset(u[1:] for b, u in zip(bits, units) if b and u[0] == "s")))
        w.append(math.prod((pn if u[0] == "n" else ps) if b else 1 - (pn if u[0] == "n" else ps)
                           for b, u in zip(bits, units)))
    mean = (np.array(w)[:, None] * (forward_patterns(net, np.array(x), pats) - clean)).sum(axis=0)
    r = monte_carlo(net, x, (NeuronCrash({1: pn}), SynapseCrash({2: ps})), 40000, seed=8, confidence=0.99)
    for k in range(2):
        assert r.ci_low[k] <= mean[k] <= r.ci_high[k]


def test_cli_sample_halfwidth_planner(capsys):
    rc = main(["sample", "examples/mean_of_inputs.json", "--input", "1,1,1,1", "--p", "0:0.1",
               "--samples", "5000", "--seed", "2", "--halfwidth", "0.001", "--json", "--method", "plain"])
    d = json.loads(capsys.readouterr().out)
    assert rc == 0 and d["samples_needed"] == samples_for_halfwidth(0.001, d["var"][0], 0.95, "t")
    # Var Δ = p(1-p)/4 = 0.0225: about (1.96 · 0.15 / 0.001)² ≈ 86 000 samples
    assert 70000 < d["samples_needed"] < 100000
