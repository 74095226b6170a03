"""Tests of symft.analysis.bounds: every bound against brute-force enumeration (independent of symft.engines.enumeration).

``brute_all`` enumerates every crash configuration with itertools.product and
returns all errors Δ with their probabilities; the exact quantities each bound
claims to bound (E‖Δ‖, E|Δ_k|, E Δ_k²) are computed from it.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from symft.analysis.bounds import (Bound, NORMS, ac1, all_bounds, ap10, b1, b2, b3, b4, crash_deviations,
                          lipschitz_product)
from symft.errors import FaultModelError
from symft.faults import CrashPattern, NeuronCrash
from symft.engines.forward import forward, forward_patterns
from symft.graph.network import first_input_network, mean_network, random_network

from .test_sampling import raw_net


def brute_all(net, x, model):
    """All (Δ, probability) pairs over every crash configuration of ``model``."""
    units = [(l, i, float(model.probability(l))) for l in model.layers for i in range(net.widths[l])]
    assert len(units) <= 14
    pats, w = [], []
    for bits in itertools.product((0, 1), repeat=len(units)):
        pats.append(CrashPattern(frozenset((l, i) for b, (l, i, _) in zip(bits, units) if b)))
        w.append(math.prod(p if b else 1 - p for b, (_, _, p) in zip(bits, units)))
    x = np.asarray(x, float)
    d = forward_patterns(net, x, pats, semantics=model.semantics) - forward(net, x)
    return d, np.array(w)


NORMF = {1: lambda d: np.abs(d).sum(1), 2: lambda d: np.sqrt((d * d).sum(1)), "inf": lambda d: np.abs(d).max(1)}


def test_hand_values_tight():
    # y = x_1 (first_input_network), input crashes: Δ = −ξ_1 x_1, so E|Δ| = p |x_1| = 0.1·2 — b2 is tight.
    assert b2(first_input_network(3), [2, 5, 7], NeuronCrash({0: 0.1})).value == pytest.approx((0.2,))
    # y = mean of 4 inputs at x ≡ 1: E‖Δ‖₁ = E Σ ξ_i / 4 = p; ‖W‖₁ = max column sum = 1/4; E‖ξ⊙x‖₁ = 4p.
    assert b1(mean_network(4), [1, 1, 1, 1], NeuronCrash({0: 0.1}), 1).value == pytest.approx((0.1,))
    # AC1: p N_0 ‖x‖_∞ ‖W‖_∞ = 0.1 · 4 · 1 · 1
    assert ac1(mean_network(4), [1, 1, 1, 1], NeuronCrash({0: 0.1})).value == pytest.approx((0.4,))


NETS = [("tanh", [3, 4, 3, 2]), ("relu", [3, 4, 3, 2]), ("sigmoid", [2, 5, 2]), ("hardtanh", [3, 3, 3, 1])]


@settings(deadline=None, max_examples=25, derandomize=True)
@given(st.integers(0, 10 ** 6), st.sampled_from(NETS), st.sampled_from(["in", "hidden", "both", "zeroed"]),
       st.floats(0.01, 0.5))
def test_b1_b2_are_upper_bounds(seed, spec, where, p):
    act, widths = spec
    net = random_network(widths, seed=seed, activation=act)
    x = np.random.default_rng(seed).normal(size=widths[0])
    model = {"in": NeuronCrash({0: p}), "hidden": NeuronCrash({1: p}), "both": NeuronCrash({0: p, 1: p / 2}),
             "zeroed": NeuronCrash({1: p}, "incoming_zeroed")}[where]
    d, w = brute_all(net, x, model)
    for n in NORMS:
        exact = float((w * NORMF[n](d)).sum())
        assert exact <= b1(net, x, model, n).value[0] * (1 + 1e-9) + 1e-15
    eabs = (w[:, None] * np.abs(d)).sum(0)
    assert np.all(eabs <= np.array(b2(net, x, model).value) * (1 + 1e-9) + 1e-15)
    # E‖Δ‖_∞ ≤ Σ_k E|Δ_k| ≤ Σ_k b2_k:
    assert float((w * NORMF["inf"](d)).sum()) <= sum(b2(net, x, model).value) * (1 + 1e-9) + 1e-15


@settings(deadline=None, max_examples=15, derandomize=True)
@given(st.integers(0, 10 ** 6), st.floats(0.01, 0.5))
def test_ac1_bound_and_never_below_b1(seed, p):
    net = random_network([4, 3, 2], seed=seed, activation="tanh")
    x = np.random.default_rng(seed).normal(size=4)
    model = NeuronCrash({0: p})
    d, w = brute_all(net, x, model)
    a = ac1(net, x, model).value[0]
    assert float((w * NORMF["inf"](d)).sum()) <= a * (1 + 1e-12)
    assert b1(net, x, model, "inf").value[0] <= a * (1 + 1e-12)


def test_ac1_refuses_hidden_crashes():
    with pytest.raises(FaultModelError, match="input crashes"):
        ac1(random_network([2, 3, 1], seed=0), [1, 1], NeuronCrash({1: 0.1}))


@settings(deadline=None, max_examples=20, derandomize=True)
@given(st.integers(0, 10 ** 6), st.sampled_from(NETS), st.floats(0.01, 0.5))
def test_ap10_as_printed_checked_numerically(seed, spec, p):
    # AP10 is not labelled rigorous; this records that symft's reading held on every example tried.
    act, widths = spec
    net = random_network(widths, seed=seed, activation=act)
    x = np.random.default_rng(seed).normal(size=widths[0])
    model = NeuronCrash({0: p, 1: p})
    d, w = brute_all(net, x, model)
    second = (w[:, None] * d * d).sum(0)
    bound = ap10(net, x, model)
    assert not bound.rigorous
    assert np.all(second <= np.array(bound.value) * (1 + 1e-9) + 1e-15)


@settings(deadline=None, max_examples=30)
@given(st.integers(0, 10 ** 6), st.sampled_from(NETS))
def test_p2_lipschitz_product(seed, spec):
    act, widths = spec
    net = random_network(widths, seed=seed, activation=act)
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=(2, widths[0]))
    lhs = np.linalg.norm(forward(net, x2) - forward(net, x1))
    assert lhs <= lipschitz_product(net, 2) * np.linalg.norm(x2 - x1) * (1 + 1e-12)


def test_b3_b4_estimates():
    pytest.importorskip("symft.engines.taylor")
    net = mean_network(4)
    x, p = [1, 1, 1, 1], 0.1
    m, v, vp = b3(net, x, NeuronCrash({0: p}))
    # y is linear in ξ: T1 is exact: E Δ = −p, Var = p(1−p)/4, paper form p/4 (E4)
    assert m.value[0] == pytest.approx(-p) and v.value[0] == pytest.approx(p * (1 - p) / 4)
    assert vp.value[0] == pytest.approx(p / 4) and not m.rigorous
    # b4: Σ_i p(1−p)^{3} (−1/4) = −p (1−p)^3
    assert b4(net, x, NeuronCrash({0: p})).value[0] == pytest.approx(-p * (1 - p) ** 3)


def test_all_bounds_and_dict():
    bs = all_bounds(raw_net(), [1.0, -0.5, 2.0], NeuronCrash({1: 0.1}))
    names = [b.name for b in bs]
    assert {"b1_1", "b1_2", "b1_inf", "b2", "AP10"} <= set(names) and "AC1" not in names
    assert all(isinstance(b, Bound) for b in bs)
    assert bs[0].as_dict()["quantity"] == "E‖Δ‖_1"


def test_crash_deviations_semantics():
    net = random_network([2, 3, 1], seed=1)
    x = [0.5, -0.5]
    d0 = crash_deviations(net, x, NeuronCrash({1: 0.1}))[1]
    d1 = crash_deviations(net, x, NeuronCrash({1: 0.1}, "incoming_zeroed"))[1]
    y1 = np.tanh(net.weights(1) @ np.array(x) + net.bias(1))
    np.testing.assert_allclose(d0, np.abs(y1))
    np.testing.assert_allclose(d1, np.abs(np.tanh(net.bias(1)) - y1))


@settings(deadline=None, max_examples=20, derandomize=True)
@given(st.integers(0, 10 ** 6), st.sampled_from(NETS), st.floats(0.01, 0.5))
def test_srds_expected_fep_is_an_upper_bound(seed, spec, p):
    pytest.importorskip("symft.analysis.fep")
    from symft.analysis.bounds import fep_expected

    act, widths = spec
    net = random_network(widths, seed=seed, activation=act)
    x = np.random.default_rng(seed).normal(size=widths[0])
    model = NeuronCrash({l: p for l in range(1, net.depth)})
    if sum(net.widths[1:-1]) > 12:
        return
    d, w = brute_all(net, x, model)
    b = fep_expected(net, x, model)
    assert float((w * NORMF["inf"](d)).sum()) <= b.value[0]


# ---------------------------------------------------------------- values enclosed, not rounded
def _exact_b_checks(net, x, model, exact_abs):
    """b1 (every norm) and b2 ≥ the exact E|Δ| of a one-output network (all norms of Δ are |Δ| there)."""
    from fractions import Fraction

    for n in NORMS:
        b = b1(net, x, model, n)
        assert b.rigorous and Fraction(b.value[0]) >= exact_abs, (n, b.value[0], float(exact_abs))
    b = b2(net, x, model)
    assert b.rigorous and Fraction(b.value[0]) >= exact_abs, (b.value[0], float(exact_abs))
    return b.value[0]


def test_cancelling_forward_pass_is_enclosed():
    # relu(1e6·x0 + 1e-5·x1 + 1e6·x2) at x = (1e6, 1, −1e6): float64 sums 1e12 + 1e-5 − 1e12 = 0, but
    # 1e6·1e6 = 1e12 is exact, so the exact pre-activation is the binary value of 1e-5, the output too,
    # and a crash of the output neuron (p = 0.1) gives E|Δ| = p · 1e-5 (each read as its binary value).
    from fractions import Fraction

    net = raw_from([[[1e6, 1e-5, 1e6]]], ["relu"])
    x = [1e6, 1.0, -1e6]
    exact = Fraction(0.1) * Fraction(1e-5)
    v = _exact_b_checks(net, x, NeuronCrash({1: 0.1}), exact)
    # piecewise linear: the loose enclosure is redone exactly, so the bound is tight too
    assert v <= float(exact) * (1 + 1e-12)


def test_cancelling_forward_pass_smooth_is_enclosed():
    # the same cancellation through tanh (no exact re-check: the interval enclosure alone must hold):
    # E|Δ| = p · tanh(1e-5) (60-digit mpmath; tanh(1e-5) = 1e-5 − 3.3e-16 + …)
    import mpmath

    net = raw_from([[[1e6, 1e-5, 1e6]]], ["tanh"])
    x = [1e6, 1.0, -1e6]
    with mpmath.workdps(60):
        exact = mpmath.mpf(0.1) * mpmath.tanh(mpmath.mpf(1e-5))
        for n in NORMS:
            assert mpmath.mpf(b1(net, x, NeuronCrash({1: 0.1}), n).value[0]) >= exact
        assert mpmath.mpf(b2(net, x, NeuronCrash({1: 0.1})).value[0]) >= exact


def test_tiny_weights_incoming_zeroed_not_short():
    # weights ~1e-8, biases ~1: under "incoming_zeroed" a crashed neuron outputs relu(b), within ~1e-8 of
    # its clean output, and the float64 difference lost the last digits (b2 was 2e-8 relative short).
    # Exact reference: every configuration enumerated in Fractions (tests/test_bound_soundness.py).
    from fractions import Fraction

    from .test_bound_soundness import Brute

    net = random_network([2, 3, 2], seed=0, activation="relu", weight_scale=1e-8, bias_scale=1.0)
    brute = Brute([net.weights(l).tolist() for l in (1, 2)], [net.bias(l).tolist() for l in (1, 2)],
                  ["relu", "linear"])
    x = [0.5, -1.0]
    model = NeuronCrash({1: 0.1}, "incoming_zeroed")
    ex = brute.exact_quantities(x, model)
    assert all(Fraction(v) >= e for v, e in zip(b2(net, x, model).value, ex["E|Δ_k|"]))
    assert Fraction(b1(net, x, model, 1).value[0]) >= ex["E‖Δ‖_1"][0]
    assert Fraction(b1(net, x, model, "inf").value[0]) >= ex["E‖Δ‖_inf"][0]


def test_step_layers_give_finite_bounds_not_nan():
    # step has no Lipschitz constant; a surviving step neuron changes by at most its range width 1
    net = raw_from([[[1.0, -1.0]], [[2.0]]], ["step", "3*relu"])
    x = [1.0, 0.5]
    for b in (b1(net, x, NeuronCrash({0: 0.1}), "inf"), b2(net, x, NeuronCrash({0: 0.1})),
              ac1(net, x, NeuronCrash({0: 0.1}))):
        assert not math.isnan(b.value[0])
    # exact: the step neuron sees 0.5 (→ 1); crashing x0 gives −0.5 (→ 0), crashing x1 gives 1 (→ 1):
    # Δ = −3·2 when x0 crashes: E|Δ| = 0.1 · 6; the bound: min(∞·…, width 1)·K_out 3·|W| 2 = 6
    assert b2(net, x, NeuronCrash({0: 0.1})).value[0] >= 0.6
    assert b2(net, x, NeuronCrash({0: 0.1})).value[0] <= 6 * (1 + 1e-12)


@settings(deadline=None, max_examples=40)
@given(st.integers(1, 5), st.integers(1, 5), st.lists(st.sampled_from([1e6, 1.0, -1.0, 1e-8, -3e-5, 0.5, 0.0]),
                                                      min_size=25, max_size=25))
def test_spectral_norm_upper_bounds_the_exact_norm(m, n, entries):
    import mpmath

    from symft.analysis.bounds import spectral_norm_upper

    W = np.array(entries[:m * n]).reshape(m, n)
    s = spectral_norm_upper(W)
    with mpmath.workdps(60):
        exact = max(mpmath.svd_r(mpmath.matrix(W.tolist()), compute_uv=False)) if W.any() else 0
        assert mpmath.mpf(s) >= exact * (1 - mpmath.mpf(10) ** -50)
        assert s <= float(exact) * (1 + 1e-9) + 1e-300      # and tight


def raw_from(Ws, acts):
    from symft.graph.network import Network

    return Network.from_numpy([np.array(W, dtype=float) for W in Ws], activations=acts)
