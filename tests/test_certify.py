"""Tests of symft.analysis.certify: tail inequalities, P3, the median trick (E5), certificates (E6).

Independent checks are written here with math.comb and Fractions; the exact
tail probabilities of small networks come from a brute-force enumeration
(itertools.product over crash configurations), not from symft.engines.enumeration.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from symft.analysis.certify import (Certificate, Moments, balance_variance, balanced_widths, cantelli_tail,
                           certificate_from_moments, certify, chebyshev_tail, chernoff_copies,
                           delta0_kl_chernoff, kl_divergence, median_copies, median_failure_probability,
                           median_trick_comparison, network_hash, paper_median_bound, tail_bound, to_fraction)
from symft.cli import main
from symft.errors import InvalidArgument
from symft.faults import CrashPattern, NeuronCrash
from symft.engines.forward import forward
from symft.graph.netfile import dumps_network, load_network
from symft.graph.network import Network, layer_norms, mean_network, random_network

from .test_sampling import DATA, brute_moments


def binom_tail(R, d, k0):
    """P{Bin(R, d) ≥ k0}, exactly (independent of symft)."""
    return sum(Fraction(math.comb(R, k)) * d ** k * (1 - d) ** (R - k) for k in range(k0, R + 1))


# ---------------------------------------------------------------------- median trick (E5)

def test_median_trick_exact_R_for_one_third_and_1e_5():
    d1, delta = Fraction(1, 3), Fraction(1, 10 ** 5)
    R = median_copies(delta, d1)
    # independent: the smallest R (any parity) with P{Bin(R, 1/3) ≥ ⌈R/2⌉} ≤ 1e-5
    r = 1
    while binom_tail(r, d1, (r + 1) // 2) > delta:
        r += 1
    assert R == r
    assert binom_tail(R, d1, (R + 1) // 2) <= delta < binom_tail(R - 2, d1, (R - 1) // 2)


def test_printed_median_formula_fails_at_R3():
    # E5: R = 3, δ_1 = 1/3: the median fails iff ≥ 2 copies fail:
    # 3·(1/3)²·(2/3) + (1/3)³ = 6/27 + 1/27 = 7/27 ≈ 0.259 > (1/3)^{1.5} ≈ 0.192
    exact = median_failure_probability(3, Fraction(1, 3))
    assert exact == Fraction(7, 27) == binom_tail(3, Fraction(1, 3), 2)
    assert float(exact) > paper_median_bound(3)
    c = median_trick_comparison("1e-5", "1/3")
    assert c["paper_formula_valid"] is False
    assert c["exact_failure_at_paper_R"] > 1e-5
    assert c["paper_R"] < c["exact_R"] <= c["chernoff_R"]


@settings(deadline=None, max_examples=25)
@given(st.fractions(Fraction(1, 100), Fraction(2, 5), max_denominator=1000), st.integers(1, 9))
def test_chernoff_copies_valid_and_not_better_than_exact(d1, e):
    delta = Fraction(1, 10 ** e) if e > 1 else Fraction(1, 7)
    if d1 <= delta:
        return
    Rc = chernoff_copies(delta, d1)
    Re = median_copies(delta, d1)
    assert Re <= Rc
    assert binom_tail(Rc, d1, (Rc + 1) // 2) <= delta
    assert binom_tail(Re, d1, (Re + 1) // 2) <= delta


def test_median_copies_bad():
    with pytest.raises(InvalidArgument, match="δ_1 < 1/2"):
        median_copies(1e-3, 0.5)


# ---------------------------------------------------------------------- tail inequalities (E6)

@settings(deadline=None, max_examples=200)
@given(st.fractions(-10, 10), st.fractions(0, 100), st.fractions(-10, 10))
def test_cantelli_never_worse_than_chebyshev(mean, var, eps):
    assert cantelli_tail(mean, var, eps) <= chebyshev_tail(mean, var, eps)
    if var > 0 and eps - mean > 0 and chebyshev_tail(mean, var, eps) < 1:
        assert cantelli_tail(mean, var, eps) < chebyshev_tail(mean, var, eps)


def test_tail_inequalities_hand_values():
    # mean 0, var 1, eps 2: Chebyshev 1/4, Cantelli 1/(1+4) = 1/5
    assert chebyshev_tail(0, 1, 2) == Fraction(1, 4) and cantelli_tail(0, 1, 2) == Fraction(1, 5)
    # worst-case end of the interval: t = eps - mean_hi
    assert tail_bound(-5, 1, 4, 5) == Fraction(4, 20)


def test_cantelli_is_sharp_two_point():
    # Cantelli is attained by the two-point law: Δ = t w.p. V/(V+t²), −V/t w.p. t²/(V+t²)
    V, t = Fraction(1, 4), Fraction(1)
    pa = V / (V + t * t)
    mean = pa * t + (1 - pa) * (-V / t)
    var = pa * t ** 2 + (1 - pa) * (V / t) ** 2 - mean ** 2
    assert mean == 0 and var == V
    assert cantelli_tail(mean, var, t) == pa  # P{Δ ≥ t} = pa exactly


@settings(deadline=None, max_examples=12, derandomize=True)
@given(st.integers(0, 10 ** 6), st.sampled_from(["1/10", "1/4"]), st.sampled_from([0.05, 0.2, 0.5]))
def test_certificate_bound_dominates_exact_tail(seed, p, eps):
    # Soundness: on random exact networks the certified δ bound is ≥ the exact P{Δ_k ≥ ε}
    # (computed by brute force over all 2^4 hidden crash configurations).
    net = random_network([2, 4, 2], seed=seed, activation="relu", rational_denominator=8)
    x = [1, -1]
    q = Fraction(p)
    model = NeuronCrash({1: q})
    c = certify(net, x, model, eps, 0.5, source="exact")
    assert c.rigorous and c.source == "exact"
    clean = forward(net, x, exact=True)
    tails = [Fraction(0)] * 2
    for bits in itertools.product((0, 1), repeat=4):
        pat = CrashPattern.from_layers({1: [i for i in range(4) if bits[i]]})
        w = math.prod(q if b else 1 - q for b in bits)
        out = forward(net, x, pat, exact=True)
        for k in range(2):
            if Fraction(str(out[k] - clean[k])) >= to_fraction(eps, decimal=True):
                tails[k] += w
    for k in range(2):
        assert tails[k] <= Fraction(c.per_output[k][4])
    assert c.delta_bound == max(po[4] for po in c.per_output)


# ---------------------------------------------------------------------- P3

@pytest.mark.parametrize("n,p,alpha", [(20, 0.01, 0.1), (50, 0.05, 0.2), (100, 0.001, 0.05), (10, 0.2, 0.5)])
def test_kl_chernoff_dominates_binomial_tail(n, p, alpha):
    # With q = 1 (all W_l^i equal), ‖U‖₁ ≥ α‖W‖₁ iff Bin(n, p) ≥ α n.
    exact = binom_tail(n, Fraction(p), math.ceil(alpha * n))
    assert float(exact) <= delta0_kl_chernoff(n, 1.0, alpha, p) * (1 + 1e-12)


def _crashed_weight_tail(totals, p, alpha):
    """P{Σ_i ξ_i W^i ≥ α Σ_i W^i}, ξ_i ~ Be(p) i.i.d., exactly (distribution of the crashed sum in Fractions)."""
    dist = {Fraction(0): Fraction(1)}
    for w in totals:
        nxt = {}
        for s, pr in dist.items():
            nxt[s] = nxt.get(s, 0) + pr * (1 - p)
            nxt[s + w] = nxt.get(s + w, 0) + pr * p
        dist = nxt
    return sum(pr for s, pr in dist.items() if s >= alpha * sum(totals))


def _kl(a, b):
    # d_KL(a ‖ b) of two Bernoulli laws, written here (not symft's kl_divergence)
    return sum(u * math.log(u / v) for u, v in ((a, b), (1 - a, 1 - b)) if u > 0)


# q-balanced two-level totals: k neurons at the maximum 1, the other n − k at the minimum q.
# HEAVY: a few heavy neurons; there the exact tail is far above the q = 1 bound exp(−n d_KL(α ‖ p))
# (e.g. n = 10, q = 1/10, p = 1/100, α = 1/2, k = 1: one crash of the heavy neuron suffices,
# tail ≈ 0.01 against 1e-7), so a δ_0 that ignored q, or weakened its effect, fails.
# TIGHT: balances near 1 where the bound is within a factor ≈ 2.3 of the exact tail.
P3_HEAVY = [(10, "1/10", "1/100", "1/2", 1), (12, "1/10", "1/100", "1/3", 2), (16, "1/4", "1/100", "1/2", 2),
            (16, "1/10", "1/100", "1/3", 1), (12, "1/10", "1/20", "1/2", 1), (10, "1/4", "1/100", "1/2", 2)]
P3_TIGHT = [(4, "9/10", "1/3", "1/2", 2), (10, "9/10", "1/20", "1/10", 9), (4, "1/2", "1/5", "1/3", 2)]


def _p3_case(n, q, p, a, k):
    return n, Fraction(q), Fraction(p), Fraction(a), [Fraction(1)] * k + [Fraction(q)] * (n - k)


@pytest.mark.parametrize("case", P3_HEAVY + P3_TIGHT)
def test_p3_kl_chernoff_bound_at_balance_below_one(case):
    # P3 for q < 1 (proof: with λ = t*/max W, each factor of the Chernoff bound is
    # exp(g(λ W^i)) with g convex, g(0) = 0, g(t*) = −d_KL, and λ W^i ∈ [q t*, t*]: g ≤ −q d_KL)
    n, q, p, alpha, totals = _p3_case(*case)
    # the balance as symft reads it off a layer whose rows have these totals (signs mixed)
    W = np.array([[float(t) / 2, -float(t) / 2] for t in totals])
    net_q = layer_norms(Network.from_numpy([W, np.ones((1, n))], [np.zeros(n), np.zeros(1)],
                                           ["tanh", "linear"]))[0]["q_balance"]
    assert net_q == pytest.approx(float(q), rel=1e-15)
    exact = _crashed_weight_tail(totals, p, alpha)
    bound = delta0_kl_chernoff(n, net_q, float(alpha), float(p))
    assert bound == pytest.approx(math.exp(-n * float(q) * _kl(float(alpha), float(p))), rel=1e-12)
    assert float(exact) <= bound * (1 + 1e-12), (float(exact), bound)
    if case in P3_HEAVY:  # the q = 1 bound would be wrong here: the test above depends on q
        assert float(exact) > 100 * math.exp(-n * _kl(float(alpha), float(p)))
    else:                 # and the bound is not loose by more than a small factor
        assert float(exact) > bound / 2.5


@settings(deadline=None, max_examples=30)
@given(st.integers(1, 10), st.integers(1, 20), st.fractions(Fraction(1, 100), Fraction(1, 3), max_denominator=100),
       st.fractions(Fraction(1, 50), Fraction(9, 10), max_denominator=50), st.data())
def test_p3_random_balanced_layers(n, lo, p, alpha, data):
    # integer totals in [lo, 20] with both extremes present: balance exactly lo / 20
    if not alpha > p:
        alpha = (p + 1) / 2
    inner = data.draw(st.lists(st.integers(lo, 20), min_size=max(0, n - 2), max_size=max(0, n - 2)))
    totals = [Fraction(v) for v in ([20, lo] + inner)[:n]] if n >= 2 else [Fraction(20)]
    q = min(totals) / max(totals)
    exact = _crashed_weight_tail(totals, p, alpha)
    assert float(exact) <= delta0_kl_chernoff(n, float(q), float(alpha), float(p)) * (1 + 1e-12)


def test_kl_divergence_hand():
    # d_KL(1/2 ‖ 1/3) = ½ log(3/2) + ½ log(3/4) = ½ log(9/8)
    assert kl_divergence(0.5, 1 / 3) == pytest.approx(0.5 * math.log(9 / 8), rel=1e-14)


# ---------------------------------------------------------------------- layer balance

@pytest.mark.parametrize("p,C,N", [([1e-3, 4e-3], [1.0, 1.0], 30), ([1e-3, 1e-3, 1e-3], [1.0, 4.0, 9.0], 24),
                                   ([0.01, 0.001], [2.0, 0.5], 17)])
def test_balanced_widths_optimal_among_integer_splits(p, C, N):
    w = balanced_widths(p, C, N)
    assert sum(w) == N and min(w) >= 1
    best = min(balance_variance(p, C, s) for s in itertools.product(range(1, N + 1), repeat=len(p)) if sum(s) == N)
    # the continuous optimum rounded: within 2% of the best integer split
    assert balance_variance(p, C, w) <= best * 1.02


def test_balanced_widths_proportional():
    # sqrt(p C): sqrt(1e-3·1) : sqrt(4e-3·1) = 1 : 2
    assert balanced_widths([1e-3, 4e-3], [1, 1], 300) == (100, 200)


# ---------------------------------------------------------------------- certificates: rigour

def test_rigorous_never_from_approximation():
    for src in ("taylor", "monte-carlo", "estimate"):
        c = certificate_from_moments(Moments.point([0.0], [1e-6], src), 0.1, 0.01)
        assert c.certified and not c.rigorous
        d = json.loads(c.to_json())
        d["rigorous"] = True
        with pytest.raises(InvalidArgument, match="rigorous"):
            Certificate.from_json(json.dumps(d))
    with pytest.raises(InvalidArgument, match="rigorous"):
        Certificate(eps="0.1", delta="0.01", sided="upper", certified=True, delta_bound=0.0,
                    method="p5-chebyshev+kl-chernoff(taylor)", rigorous=True, source="taylor",
                    copies_needed=1, per_output=())


def test_certify_t1_alone_is_approximate_and_with_remainder_rigorous():
    pytest.importorskip("symft.engines.taylor")
    net = random_network([3, 5, 1], seed=0, activation="tanh")
    x = [0.1, 0.2, 0.3]
    c = certify(net, x, NeuronCrash({1: 1e-3}), 0.5, 0.1, source="t1")
    assert not c.rigorous and c.source == "taylor" and c.method.startswith("p5-")
    assert c.delta0 > 0  # P3's δ_0 is part of P5 as printed
    r = certify(net, x, NeuronCrash({1: 1e-3}), 0.5, 0.1, source="taylor")
    assert r.rigorous and r.source == "taylor+remainder"
    # the rigorous interval contains the exact mean (brute force over 2^5 configurations)
    mean, var = brute_moments(net, x, NeuronCrash({1: 1e-3}))
    k, lo, hi, vh, _ = r.per_output[0]
    assert lo <= mean[0] <= hi and var[0] <= vh


@pytest.mark.parametrize("layers, eps, alpha", [({1: 0.01}, 0.05, 0.4), ({0: 0.01, 1: 0.02}, 0.06, 0.4)])
@pytest.mark.parametrize("inequality", ["chebyshev", "cantelli"])
def test_p5_as_printed_value(layers, eps, alpha, inequality):
    # P5 as printed (source "t1"): δ = δ_0 + tail(E Δ, Var Δ, ε) with T1's first-order moments and
    # δ_0 = Σ_l exp(−n_l q_l d_KL(α ‖ p_l)) (P3; inputs count as q = 1).  Recomputed here from the
    # weights: 3 → 5 (tanh) → 1 (linear), so with h = tanh(W1 x + b1)
    #   ∂y/∂ξ_1^i = −W2_i h_i  (hidden crash),  ∂y/∂ξ_0^j = −x_j Σ_i W2_i (1 − h_i²) W1_ij  (input crash),
    #   E Δ ≈ Σ p_l Σ g,  Var Δ ≈ Σ p_l (1 − p_l) Σ g²  (the exact first-order variance, E4),
    #   Chebyshev Var / t², Cantelli Var / (Var + t²), t = ε − E Δ.
    net = random_network([3, 5, 1], seed=0, activation="tanh")
    x = np.array([0.1, 0.2, 0.3])
    W1, b1, W2 = net.weights(1), net.bias(1), net.weights(2)[0]
    h = np.tanh(W1 @ x + b1)
    grads = {1: -W2 * h, 0: -x * ((W2 * (1 - h ** 2)) @ W1)}
    mean = sum(q * grads[l].sum() for l, q in layers.items())
    var = sum(q * (1 - q) * (grads[l] ** 2).sum() for l, q in layers.items())
    totals = np.abs(W1).sum(axis=1)
    balance = {0: 1.0, 1: totals.min() / totals.max()}
    delta0 = sum(math.exp(-net.widths[l] * balance[l] * _kl(alpha, q)) for l, q in layers.items())
    t = eps - mean
    tail = var / t ** 2 if inequality == "chebyshev" else var / (var + t ** 2)
    expected = delta0 + tail
    assert 0.05 < delta0 < 0.9 and 0.02 < tail < 0.9 and expected < 1   # both terms matter here
    c = certify(net, x, NeuronCrash(layers), eps, 0.3, source="t1", alpha=alpha, inequality=inequality)
    assert not c.rigorous and c.method == f"p5-{inequality}+kl-chernoff(taylor)"
    assert c.delta0 == pytest.approx(delta0, rel=1e-9)
    assert c.delta_bound == pytest.approx(expected, rel=1e-9)
    assert c.per_output[0][4] == pytest.approx(expected, rel=1e-9)
    assert c.certified is bool(expected <= 0.3)


def test_certify_auto_prefers_rigorous_sources():
    pytest.importorskip("symft.engines.enclosure")
    net = load_network(f"{DATA}/foreign_tanh.json")
    x = [0.3, -1.0, 0.7]
    model = NeuronCrash({1: 0.01, 2: 0.01})
    c = certify(net, x, model, 1.0, 0.05)
    assert c.rigorous and c.source in ("enclosure", "taylor+remainder")
    mean, var = brute_moments(net, x, model)
    for k in range(net.n_outputs):
        _, lo, hi, vh, b = c.per_output[k]
        assert lo <= mean[k] <= hi and var[k] <= vh


def test_certificate_json_round_trip_and_hash():
    net = load_network(f"{DATA}/foreign_relu_exact.json")
    c = certify(net, [1, 2, -1], NeuronCrash({1: Fraction(1, 10)}), 0.5, 0.05, source="exact", seed=7)
    assert Certificate.from_json(c.to_json()) == c
    assert c.network_sha256 == hashlib.sha256(dumps_network(net).encode()).hexdigest() == network_hash(net)
    assert c.seed == 7 and dict(c.versions)["symft"]
    assert c.p == ((1, "1/10"),)


def test_certificate_uses_exact_moments_from_brute_force():
    net = load_network(f"{DATA}/foreign_relu_exact.json")
    x = [1, 2, -1]
    model = NeuronCrash({1: Fraction(1, 10), 2: Fraction(1, 5)})
    c = certify(net, x, model, 1.0, 0.05, source="exact")
    mean, var = brute_moments(net, x, NeuronCrash({1: 0.1, 2: 0.2}))
    assert c.per_output[0][1] == pytest.approx(mean[0], rel=1e-12)
    assert c.per_output[0][3] == pytest.approx(var[0], rel=1e-12)
    expected = cantelli_tail(Fraction(mean[0]), Fraction(var[0]), 1)
    assert c.delta_bound == pytest.approx(float(expected), rel=1e-9)


def test_median_copies_in_certificate():
    # Bound 1/5 per copy, target 1e-3: copies = exact median count.
    m = Moments.point([Fraction(0)], [Fraction(1, 4)], "exact")
    c = certificate_from_moments(m, 1, "1e-3")   # Cantelli: (1/4)/(1/4 + 1) = 1/5
    assert not c.certified and c.delta_bound == 0.2
    assert c.copies_needed == median_copies(Fraction(1, 1000), Fraction(1, 5))


def test_abs_sided():
    m = Moments((Fraction(-1),), (Fraction(1),), (Fraction(4),), "enclosure")
    # both tails by Cantelli: 4/(4+16) twice = 2/5
    c = certificate_from_moments(m, 5, 0.5, sided="abs")
    assert c.delta_bound == 0.4 and c.rigorous


# ---------------------------------------------------------------------- CLI

def test_cli_certify_json(capsys):
    rc = main(["certify", "examples/mean_of_inputs.json", "--input", "1,1,1,1", "--p", "0:0.01",
               "--eps", "0.5", "--delta", "0.01", "--json"])
    d = json.loads(capsys.readouterr().out)
    assert rc == 0
    for k in ("certified", "delta_bound", "method", "rigorous", "copies_needed"):
        assert k in d
    # mean -1/100, var (1/100)(99/100)/4; Cantelli at t = 1/2 + 1/100
    v = Fraction(99, 40000)
    t = Fraction(51, 100)
    assert d["certified"] and d["rigorous"] and d["delta_bound"] == pytest.approx(float(v / (v + t * t)))


def test_cli_certify_text_and_errors(capsys):
    rc = main(["certify", "examples/mean_of_inputs.json", "--input", "1,1,1,1", "--p", "0:0.01",
               "--eps", "0.3", "--delta", "0.01"])
    out = capsys.readouterr().out
    assert rc == 0 and "median trick" in out and "rigorous" in out
    rc = main(["certify", "examples/mean_of_inputs.json", "--input", "1,1,1,1", "--p", "0:0.01",
               "--eps", "x", "--delta", "0.01"])
    assert rc == 2 and "eps" in capsys.readouterr().err


@pytest.mark.slow
def test_digits_rigorous_certificate_dominates_monte_carlo():
    # The benchmark's certificate (digits net, p = 1e-3 at every hidden layer) is rigorous, and
    # its per-output bounds lie above the 99% Clopper–Pearson lower limit of the true tail.
    from symft.engines.sampling import monte_carlo

    net = load_network("examples/digits_sigmoid.json")
    x = np.loadtxt("examples/digit0.csv", delimiter=",")
    model = NeuronCrash.hidden(net, 1e-3)
    c = certify(net, x, model, 1.0, 0.05)
    assert c.rigorous and c.certified and c.source == "enclosure"
    r = monte_carlo(net, x, model, 400000, seed=3, eps=1.0)
    for k in range(net.n_outputs):
        lo, _ = r.tail_interval(k, sided="upper", confidence=0.99)
        assert lo <= c.per_output[k][4]


def test_median_copies_with_huge_denominators_stays_valid():
    # δ_1 from exact moments can have a huge denominator; the count is computed on δ_1 rounded up.
    d1 = Fraction(1, 3) + Fraction(1, 7 ** 60)
    delta = Fraction(1, 10 ** 5)
    R = median_copies(delta, d1)
    assert R >= median_copies(delta, Fraction(1, 3))
    assert binom_tail(R, d1, (R + 1) // 2) <= delta


def test_certificate_from_exact_moments_with_big_rationals_is_fast():
    net = load_network(f"{DATA}/foreign_relu_exact.json")
    c = certify(net, [1, 2, -1], NeuronCrash({0: 0.1, 1: 0.2}, "incoming_zeroed"), 2, 0.1, source="exact")
    assert c.rigorous and not c.certified and (c.copies_needed is None or c.copies_needed > 1)


def test_statistical_certificate_against_the_exact_tail(capsys, tmp_path):
    """A 2 → 3 relu → 1 net, crashes p = 1/5 of the 3 hidden neurons: the exact tail P(Δ ≥ ε) by enumerating
    the 8 configurations in Fractions; the statistical bound lies above it (fixed seed), certifies a δ above
    it, refuses a δ below it, and is never labelled rigorous."""
    from fractions import Fraction as Fr
    from itertools import product

    from symft.analysis.certify import statistical_certificate
    from symft.cli import main
    from symft.graph.network import Network

    W1, b1, W2 = [[1, 2], [-1, 1], [2, -1]], [0, 1, 0], [[1, -2, 1]]
    net = Network.from_sympy([W1, W2], [b1, [0]], activations=["relu", "linear"])
    x, p, eps = [1, 1], Fr(1, 5), Fr(1, 2)
    h = [max(Fr(0), sum(w * v for w, v in zip(row, x)) + b) for row, b in zip(W1, b1)]
    clean = sum(w * v for w, v in zip(W2[0], h))
    tail = Fr(0)
    for mask in product((0, 1), repeat=3):
        prob = Fr(1)
        for m in mask:
            prob *= p if m else 1 - p
        y = sum(w * (0 if m else v) for w, m, v in zip(W2[0], mask, h))
        if y - clean >= eps:
            tail += prob
    assert 0 < tail < 1                                          # the event has positive probability
    c = statistical_certificate(net, x, NeuronCrash({1: Fr(1, 5)}), "1/2", "0.9", samples=20000, seed=3)
    assert not c.rigorous and c.source == "monte-carlo" and c.certified
    assert Fr(c.delta_bound) >= tail and c.delta_bound < float(tail) + 0.03
    below = statistical_certificate(net, x, NeuronCrash({1: Fr(1, 5)}), "1/2", str(float(tail) * 0.8),
                                    samples=20000, seed=3)
    assert not below.certified
    from symft.graph.netfile import save_network

    path = tmp_path / "net.json"
    save_network(net, path)
    code = main(["certify", "--json", "--source", "statistical", "--samples", "20000", "--seed", "3",
                 "--eps", "1/2", "--delta", "0.9", "--p", "1:1/5", "--input", "1,1", str(path)])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["certified"] and not out["rigorous"] and out["delta_bound"] == c.delta_bound
