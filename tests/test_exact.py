"""Tests of symft.engines.enumeration: enumeration, exact moments, distributions, polynomials in p, b4, guard rails.

Cross-checks: exact rational enumeration vs float enumeration vs an independent brute force
written here (itertools.product over masks + a plain NumPy forward pass that does not use
symft.engines.forward), vs hand-derived closed forms (theory §4, erratum E3), vs tests/cases.py.
"""

from __future__ import annotations

import io
import itertools
import json
import math
import os
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

from symft.errors import FaultModelError, InvalidArgument, TooLargeError
from symft.engines.enumeration import (EXACT_AUTO_LIMIT, ErrorPolynomial, count_configurations, enumerate_crashes,
                         error_distribution, estimate_seconds, mean_polynomial, single_crash_term)
from symft.faults import NeuronCrash
from symft.graph.netfile import load_network
from symft.graph.network import Network, first_input_network, mean_network, random_network
from tests.cases import CASES

R = sp.Rational
P = sp.Symbol("p", nonnegative=True)
DATA = os.path.join(os.path.dirname(__file__), "data")
HAND = os.path.join(DATA, "handwritten_sigmoid_hardtanh.json")


# --------------------------------------------------------------------------- independent brute force

_ACTS = {
    "linear": lambda z: z,
    "relu": lambda z: np.maximum(z, 0.0),
    "tanh": np.tanh,
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "hardtanh": lambda z: np.clip(z, -1.0, 1.0),
    "softplus": lambda z: np.log1p(np.exp(z)),
}


def _raw_layers(net):
    return [(np.array(net.weights(l)), np.array(net.bias(l)), net.activation(l).name)
            for l in range(1, net.depth + 1)]


def brute_force(layers, x, probs, incoming_zeroed=False):
    """E Δ and E Δ² by looping over every crash configuration (plain NumPy, no symft)."""
    x = np.asarray(x, dtype=float)
    widths = [len(x)] + [W.shape[0] for W, _, _ in layers]
    crash_layers = sorted(probs)

    def run(masks):
        y = np.where(masks[0], 0.0, x) if 0 in masks else x
        for l, (W, b, a) in enumerate(layers, start=1):
            y = _ACTS[a](W @ y + b)
            if l in masks:
                crashed_value = _ACTS[a](b) if incoming_zeroed else 0.0
                y = np.where(masks[l], crashed_value, y)
        return y

    clean = run({})
    m1 = np.zeros_like(clean)
    m2 = np.zeros_like(clean)
    total = 0.0
    for bits in itertools.product([False, True], repeat=sum(widths[l] for l in crash_layers)):
        masks, off, w = {}, 0, 1.0
        for l in crash_layers:
            mk = np.array(bits[off:off + widths[l]])
            off += widths[l]
            masks[l] = mk
            k = int(mk.sum())
            w *= probs[l] ** k * (1 - probs[l]) ** (widths[l] - k)
        d = run(masks) - clean
        m1 += w * d
        m2 += w * d * d
        total += w
    assert abs(total - 1) < 1e-12
    return m1, m2


# --------------------------------------------------------------------------- closed forms (theory §4)

@pytest.mark.parametrize("n", [1, 2, 3, 5, 8])
def test_mean_network_closed_form_exact(n):
    # y = Σ x_i / n at x ≡ 1, input crashes: Δ = -(#crashed)/n, #crashed ~ Bin(n, p)
    # => E Δ = -np/n = -p, Var Δ = np(1-p)/n² = p(1-p)/n.
    for p in (R(1, 10), R(1, 3), R(7, 9)):
        r = enumerate_crashes(mean_network(n), [1] * n, NeuronCrash({0: p}))
        assert r.exact
        assert r.mean[0] == -p
        assert r.var[0] == p * (1 - p) / n
        assert r.second[0] == p * (1 - p) / n + p ** 2


@pytest.mark.parametrize("n", [1, 2, 4, 6])
def test_mean_network_closed_form_symbolic(n):
    r = enumerate_crashes(mean_network(n), [1] * n, NeuronCrash({0: P}))
    assert sp.expand(r.mean[0] + P) == 0
    assert sp.expand(r.var[0] - P * (1 - P) / n) == 0
    ep = mean_polynomial(mean_network(n), [1] * n, 0, p=P)
    assert ep.exact and sp.expand(ep.expr() + P) == 0
    assert ep.coefficients() == [0, -1]
    e2 = mean_polynomial(mean_network(n), [1] * n, 0, p=P, moment=2)
    assert sp.expand(e2.expr() - (P * (1 - P) / n + P ** 2)) == 0


@pytest.mark.parametrize("n,x", [(1, [3]), (3, [2, 5, 7]), (4, ["-1/2", 9, 0, 1]), (6, [R(5, 3), 1, 1, 1, 1, 1])])
def test_first_input_closed_form_and_erratum_E3(n, x):
    # y = x_1: Δ = -ξ_1 x_1, so E Δ = -p x_1 and Var Δ = p(1-p) x_1² (no decay with n).
    x1 = sp.sympify(R(x[0]) if isinstance(x[0], str) else x[0])
    r = enumerate_crashes(first_input_network(n), x, NeuronCrash({0: P}))
    assert sp.expand(r.mean[0] + P * x1) == 0
    assert sp.expand(r.var[0] - P * (1 - P) * x1 ** 2) == 0
    # E3: the paper's "E Δ = p" is wrong in sign and factor, at every p in (0, 1) with x_1 ≠ 0
    if x1 != 0:
        assert sp.simplify(r.mean[0] - P) != 0
        assert (r.mean[0] - P).subs(P, R(1, 10)) != 0
    ep = mean_polynomial(first_input_network(n), x, 0)
    assert ep.coefficients() == [0, -x1]


# --------------------------------------------------------------------------- the shared table

@pytest.mark.parametrize("case", [c for c in CASES], ids=lambda c: c.name)
def test_cases_table_atom_present(case):
    # Crashing each layer of the case with probability 1/2 makes every configuration equally
    # likely per layer; the hand-derived Δ of the case must be one of the atoms, exactly.
    model = NeuronCrash({l: R(1, 2) for l in case.crash}, semantics=case.semantics)
    d = error_distribution(case.net, case.x, model, exact=True)
    assert d.exact
    assert tuple(case.expected_error) in d.atoms
    assert sum(d.probabilities) == 1
    # and enumeration agrees with the distribution's moments exactly
    r = enumerate_crashes(case.net, case.x, model, exact=True)
    assert tuple(r.mean) == d.mean()
    assert tuple(r.second) == d.moment(2)


# --------------------------------------------------------------------------- independent brute force on a
# network written by someone else (typed by hand in tests/data, read with json here)

def _hand_layers():
    with open(HAND) as fh:
        doc = json.load(fh)
    return [(np.array(L["weights"], dtype=float), np.array(L["bias"], dtype=float), L["activation"])
            for L in doc["layers"]]


@pytest.mark.parametrize("probs", [{1: 0.07}, {2: 0.2}, {1: 0.1, 2: 0.05}, {0: 0.3, 2: 0.1}])
def test_handwritten_network_vs_independent_brute_force(probs):
    net = load_network(HAND)
    x = [0.4, -1.1, 0.75, 2.0]
    m1, m2 = brute_force(_hand_layers(), x, probs)
    r = enumerate_crashes(net, x, NeuronCrash(probs))
    std = np.sqrt(m2 - m1 ** 2)
    np.testing.assert_allclose(r.mean, m1, rtol=1e-9, atol=0)
    np.testing.assert_allclose(r.std, std, rtol=1e-9, atol=0)
    np.testing.assert_allclose(r.second, m2, rtol=1e-9, atol=0)


def test_handwritten_network_incoming_zeroed_vs_brute_force():
    net = load_network(HAND)
    x = [1.0, 0.5, -0.5, 0.25]
    m1, m2 = brute_force(_hand_layers(), x, {1: 0.15}, incoming_zeroed=True)
    r = enumerate_crashes(net, x, NeuronCrash({1: 0.15}, semantics="incoming_zeroed"))
    np.testing.assert_allclose(r.mean, m1, rtol=1e-9)
    np.testing.assert_allclose(r.std, np.sqrt(m2 - m1 ** 2), rtol=1e-9)


def test_covariance_and_batch_vs_brute_force():
    net = load_network(HAND)
    X = np.array([[0.4, -1.1, 0.75, 2.0], [0.0, 1.0, -2.0, 0.5]])
    model = NeuronCrash({1: 0.1})
    r = enumerate_crashes(net, X, model, moments=3)
    assert r.mean.shape == (2, 3) and r.cov.shape == (2, 3, 3)
    for b in range(2):
        m1, m2 = brute_force(_hand_layers(), X[b], {1: 0.1})
        np.testing.assert_allclose(r.mean[b], m1, rtol=1e-9)
        np.testing.assert_allclose(np.diag(r.cov[b]), m2 - m1 ** 2, rtol=1e-9)
        single = enumerate_crashes(net, X[b], model, moments=3)
        np.testing.assert_allclose(single.moment(3), r.moment(3)[b], rtol=1e-12)
    # covariance is symmetric and positive semi-definite
    assert np.allclose(r.cov[0], r.cov[0].T)
    assert np.linalg.eigvalsh(r.cov[0]).min() > -1e-15


# --------------------------------------------------------------------------- exact vs float vs brute force

def test_fast_path_equals_general_path_and_brute_force():
    # single crashed layer below the output -> split-half fast path; same layer + an
    # impossible (p = 0) extra layer is still the fast path, so compare with forcing the
    # general path through a second crashed layer with tiny p instead.
    net = random_network([3, 7, 4, 2], seed=3)
    x = np.array([0.2, -0.4, 1.3])
    fast = enumerate_crashes(net, x, NeuronCrash({1: 0.3}))
    m1, m2 = brute_force(_raw_layers(net), x, {1: 0.3})
    np.testing.assert_allclose(fast.mean, m1, rtol=1e-10, atol=1e-16)
    np.testing.assert_allclose(fast.second, m2, rtol=1e-10, atol=1e-16)
    both = enumerate_crashes(net, x, NeuronCrash({1: 0.3, 3: 1e-300}))
    np.testing.assert_allclose(both.mean, fast.mean, rtol=1e-12)


def test_exact_and_float_agree_on_rational_relu_net():
    net = random_network([3, 4, 3, 2], seed=5, activation="relu", rational_denominator=16)
    x = [1, "-1/2", 2]
    model = NeuronCrash({0: R(1, 5), 2: R(1, 3)})
    ex = enumerate_crashes(net, x, model, exact=True)
    fl = enumerate_crashes(net, [1, -0.5, 2], NeuronCrash({0: 0.2, 2: 1 / 3}), exact=False)
    assert ex.exact and not fl.exact
    assert all(isinstance(v, sp.Rational) for v in ex.mean)
    np.testing.assert_allclose(np.array(ex.mean, dtype=float), fl.mean, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(np.array(ex.var, dtype=float), fl.var, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(np.array(ex.cov, dtype=float), fl.cov, rtol=1e-10, atol=1e-15)


@settings(deadline=None, max_examples=12)
@given(seed=st.integers(0, 10 ** 6), w=st.lists(st.integers(1, 3), min_size=2, max_size=3),
       layers=st.sets(st.integers(0, 3), min_size=1, max_size=2), pn=st.integers(1, 9))
def test_hypothesis_polynomial_equals_float_enumeration(seed, w, layers, pn):
    widths = [2] + w + [2][: 1]
    L = len(widths) - 1
    layers = sorted({l for l in layers if l <= L}) or [0]
    net = random_network(widths, seed=seed, activation="relu", rational_denominator=8)
    x = [R(1, 2), R(-3, 4)]
    p = R(pn, 10)
    ep = mean_polynomial(net, x, layers, p=P)
    e2 = mean_polynomial(net, x, layers, p=P, moment=2)
    assert ep.exact
    fl = enumerate_crashes(net, [0.5, -0.75], NeuronCrash({l: pn / 10 for l in layers}), exact=False)
    np.testing.assert_allclose([float(e.subs(P, p)) for e in ep.exprs], fl.mean, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose([float(e.subs(P, p)) for e in e2.exprs], fl.second, rtol=1e-9, atol=1e-12)
    # Bernstein-form evaluation agrees with the expanded polynomial exactly
    assert ep(p) == tuple(sp.expand(e.subs(P, p)) for e in ep.exprs)
    # multi-layer: exact enumeration at the rational p equals the polynomial exactly
    ex = enumerate_crashes(net, x, NeuronCrash({l: p for l in layers}), exact=True)
    assert tuple(ex.mean) == ep(p)


def test_polynomial_per_layer_symbols_and_smooth_float():
    net = random_network([2, 3, 2], seed=1, activation="relu", rational_denominator=4)
    ep = mean_polynomial(net, [1, 1], {0: "q", 1: "p"})
    q, p = ep.symbols
    ex = enumerate_crashes(net, [1, 1], NeuronCrash({0: R(1, 7), 1: R(2, 5)}))
    assert tuple(ex.mean) == tuple(sp.expand(e.subs({q: R(1, 7), p: R(2, 5)})) for e in ep.exprs)
    # smooth activations: float coefficients, labelled
    tnet = random_network([2, 4, 1], seed=2)
    et = mean_polynomial(tnet, [0.3, -0.2], 1)
    assert not et.exact and "float" in str(et)
    fl = enumerate_crashes(tnet, [0.3, -0.2], NeuronCrash({1: 0.37}))
    assert float(et(0.37)[0]) == pytest.approx(fl.mean[0], rel=1e-10)
    assert float(et.expr().subs(et.symbols[0], 0.37)) == pytest.approx(fl.mean[0], rel=1e-8)
    with pytest.raises(InvalidArgument, match="exact"):
        mean_polynomial(tnet, [0.3, -0.2], 1, exact=True)


def test_incoming_zeroed_exact_matches_float():
    net = Network.from_sympy([[[1, -1], [2, 1]], [[1, 3]]], [["1/2", "-1/4"], [0]], ["relu", "linear"])
    ex = enumerate_crashes(net, [1, 2], NeuronCrash({1: R(1, 4)}, semantics="incoming_zeroed"))
    fl = enumerate_crashes(net, [1.0, 2.0], NeuronCrash({1: 0.25}, semantics="incoming_zeroed"), exact=False)
    # hand: z1 = (1 - 2 + 1/2, 2 + 2 - 1/4) = (-1/2, 15/4) -> y1 = (0, 15/4); y = 45/4.
    # crashed neurons output relu(b) = (1/2, 0): Δ(e_0) = 1/2, Δ(e_1) = -45/4, Δ(both) = 1/2 - 45/4.
    # E Δ = p(1/2) + p(-45/4) = (1/4)(1/2 - 45/4) = -43/16
    assert ex.mean[0] == R(-43, 16)
    assert float(ex.mean[0]) == pytest.approx(fl.mean[0], rel=1e-14)


# --------------------------------------------------------------------------- b4

def test_single_crash_term_b4():
    net = random_network([3, 5, 2], seed=7, activation="relu", rational_denominator=8)
    x = [1, 2, -1]
    t = single_crash_term(net, x, 1)
    ep = mean_polynomial(net, x, 1, p=sp.Symbol("p", nonnegative=True))
    # the linear coefficient of E Δ(p) is Σ_i Δ(e_i)
    assert tuple(t.sum_deltas) == tuple(ep.linear_term(k) for k in range(2))
    # the single-crash part equals p(1-p)^{n-1} S_1 from the grouped sums
    p = sp.Symbol("p", nonnegative=True)
    for k in range(2):
        assert sp.expand(t.mean[k] - p * (1 - p) ** 4 * ep.sums[(1,)][k]) == 0
    # numeric float version on a smooth net: n_l forward passes, equals direct crashes
    tnet = random_network([3, 6, 2], seed=8)
    tf = single_crash_term(tnet, np.array([0.1, 0.2, 0.3]), NeuronCrash({1: 0.01}))
    assert tf.forward_passes == 6
    from symft.faults import CrashPattern
    from symft.engines.forward import output_error
    for i in range(6):
        np.testing.assert_allclose(tf.deltas[1][i], output_error(tnet, [0.1, 0.2, 0.3], CrashPattern([(1, i)])),
                                   rtol=1e-12, atol=1e-15)
    w = 0.01 * 0.99 ** 5
    np.testing.assert_allclose(tf.mean, w * tf.deltas[1].sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(tf.first_order, 0.01 * tf.deltas[1].sum(axis=0), rtol=1e-12)
    # and E Δ - single-crash part = O(p²): the remainder is tiny compared with the term
    full = enumerate_crashes(tnet, np.array([0.1, 0.2, 0.3]), NeuronCrash({1: 0.01}))
    assert np.all(np.abs(full.mean - tf.mean) <= 6 * 5 / 2 * 0.01 ** 2 * 10)


def test_single_crash_term_two_layers_batch():
    net = random_network([2, 3, 3, 1], seed=9, activation="relu", rational_denominator=4)
    model = NeuronCrash({0: R(1, 10), 2: R(1, 5)})
    t = single_crash_term(net, [[1, 1], [2, -1]], model)
    assert t.mean.shape == (2, 1) and t.forward_passes == 10
    # compare with the distribution restricted to single crashes: P(only (l,i)) Δ(e_i)
    for b, x in enumerate([[1, 1], [2, -1]]):
        ep = mean_polynomial(net, x, model)
        single = (ep.sums.get((1, 0), (0,))[0] * R(1, 10) * R(9, 10) ** 1 * R(4, 5) ** 3
                  + ep.sums.get((0, 1), (0,))[0] * R(9, 10) ** 2 * R(1, 5) * R(4, 5) ** 2)
        assert t.mean[b][0] == single


# --------------------------------------------------------------------------- loss change Δ_{L+1}

def test_loss_change_squared_and_zero_one():
    net = load_network(HAND)
    x = [0.4, -1.1, 0.75, 2.0]
    t = [0.5, 0.0, -0.5]
    r = enumerate_crashes(net, x, NeuronCrash({2: 0.2}), loss="squared", target=t)
    layers = _hand_layers()
    # brute force of the loss change
    clean_out = None
    acc = 0.0

    def out(mask):
        y = np.asarray(x)
        for l, (W, b, a) in enumerate(layers, start=1):
            y = _ACTS[a](W @ y + b)
            if l == 2:
                y = np.where(mask, 0.0, y)
        return y

    clean_out = out(np.zeros(5, bool))
    lc = ((clean_out - t) ** 2).sum()
    for bits in itertools.product([False, True], repeat=5):
        mk = np.array(bits)
        w = 0.2 ** mk.sum() * 0.8 ** (5 - mk.sum())
        acc += w * (((out(mk) - t) ** 2).sum() - lc)
    assert r.quantity == "loss" and r.mean.shape == (1,)
    assert r.mean[0] == pytest.approx(acc, rel=1e-10)
    z = enumerate_crashes(net, x, NeuronCrash({2: 0.2}), loss="zero_one", target=int(np.argmax(clean_out)))
    assert 0 <= z.mean[0] <= 1
    # exact zero-one loss on a rational net: misclassification probability
    rnet = Network.from_sympy([[[1, 0], [0, 1]]], activations=["linear"])
    ze = enumerate_crashes(rnet, [2, 1], NeuronCrash({0: R(1, 3)}), loss="zero_one", target=0)
    # class 0 wins unless x_0 crashes and x_1 survives (0 < 1): P = 1/3 · 2/3; if both crash, tie -> argmax 0
    assert ze.mean[0] == R(2, 9)
    with pytest.raises(InvalidArgument, match="target"):
        enumerate_crashes(rnet, [2, 1], NeuronCrash({0: 0.1}), loss="squared")


# --------------------------------------------------------------------------- distribution

def test_distribution_float_and_exact():
    net = random_network([3, 4, 1], seed=11)
    x = np.array([0.5, -0.5, 1.0])
    d = error_distribution(net, x, NeuronCrash({1: 0.25}))
    assert not d.exact and len(d) <= 16
    assert sum(d.probabilities) == pytest.approx(1.0, abs=1e-14)
    r = enumerate_crashes(net, x, NeuronCrash({1: 0.25}))
    assert d.mean()[0] == pytest.approx(r.mean[0], rel=1e-12)
    assert d.cdf(float("inf")) == pytest.approx(1.0)
    # merging equal atoms: mean_network at x ≡ 1 has n + 1 atoms -k/n
    de = error_distribution(mean_network(5), [1] * 5, NeuronCrash({0: R(1, 2)}))
    assert de.atoms == tuple((R(-k, 5),) for k in range(5, -1, -1))
    assert de.probabilities == tuple(R(math.comb(5, k), 32) for k in range(5, -1, -1))
    dd = error_distribution(mean_network(3), np.ones(3), NeuronCrash({0: 0.5}), exact=False, decimals=12)
    assert len(dd) == 4
    batch = error_distribution(mean_network(2), [[1, 1], [1, 0]], NeuronCrash({0: R(1, 2)}))
    assert isinstance(batch, tuple) and len(batch) == 2 and len(batch[1]) == 2
    assert json.dumps(de.to_dict())


# --------------------------------------------------------------------------- guard rails

def test_guard_rails_refuse_with_options_and_force():
    net = random_network([4, 30, 1], seed=0)
    model = NeuronCrash({1: 0.01})
    with pytest.raises(TooLargeError) as e:
        enumerate_crashes(net, np.ones(4), model)
    msg = str(e.value)
    assert "2^30" in msg and "order=" in msg and "symft sample" in msg and "force" in msg and "estimated" in msg
    assert count_configurations(net, model) == 2 ** 30
    assert estimate_seconds(net, model) > 1
    small = random_network([2, 6, 1], seed=0)
    with pytest.raises(TooLargeError):
        enumerate_crashes(small, [1, 1], NeuronCrash({1: 0.1}), max_configurations=32)
    r = enumerate_crashes(small, [1, 1], NeuronCrash({1: 0.1}), max_configurations=32, force=True)
    assert r.configurations == 64
    with pytest.raises(TooLargeError, match="limit"):
        mean_polynomial(small, [1, 1], 1, max_configurations=16)


def test_exact_auto_falls_back_to_float_above_limit_and_says_so():
    n = int(math.log2(EXACT_AUTO_LIMIT)) + 1
    r = enumerate_crashes(mean_network(n), [1] * n, NeuronCrash({0: R(1, 10)}))
    assert not r.exact and r.mean[0] == pytest.approx(-0.1, rel=1e-12)


def test_progress_bar_on_stderr(capsys):
    enumerate_crashes(random_network([2, 8, 1], seed=0), [1, 1], NeuronCrash({1: 0.1}), progress=True)
    err = capsys.readouterr().err
    assert "enumerating" in err and "100%" in err


def test_bad_arguments():
    net = mean_network(2)
    with pytest.raises(InvalidArgument, match="NeuronCrash"):
        enumerate_crashes(net, [1, 1], 0)
    with pytest.raises(FaultModelError, match="symbolic"):
        enumerate_crashes(net, [1, 1], NeuronCrash({0: P}), exact=False)
    with pytest.raises(InvalidArgument, match="exact"):
        enumerate_crashes(random_network([2, 2, 1], seed=0), [1, 1], NeuronCrash({1: 0.1}), exact=True)
    with pytest.raises(InvalidArgument, match="x"):
        enumerate_crashes(net, [1, 1, 1], NeuronCrash({0: 0.1}))
    with pytest.raises(FaultModelError, match="layer 3"):
        enumerate_crashes(net, [1, 1], NeuronCrash({3: 0.1}))
    with pytest.raises(InvalidArgument, match="moments"):
        enumerate_crashes(net, [1, 1], NeuronCrash({0: 0.1}), moments=1)
    with pytest.raises(InvalidArgument, match="one input"):
        mean_polynomial(net, [[1, 1], [1, 1]], 0)


def test_no_crash_layers_gives_zero():
    r = enumerate_crashes(mean_network(2), [1, 1], NeuronCrash({0: 0}))
    assert r.mean[0] == 0 and r.var[0] == 0 and r.configurations == 1
    f = enumerate_crashes(random_network([2, 2, 1], seed=0), [1, 1], NeuronCrash({1: 0.0}))
    assert f.mean[0] == 0.0


# --------------------------------------------------------------------------- CLI

def _run(capsys, *argv):
    from symft.cli import main
    code = main(list(argv))
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def test_cli_exact_json_keys_single_and_batch(capsys, tmp_path):
    from symft.graph.netfile import save_network
    path = str(tmp_path / "mean3.json")
    save_network(mean_network(3), path)
    code, out, _ = _run(capsys, "exact", path, "--input", "1,1,1", "--p", "0:1/10", "--json")
    d = json.loads(out)
    assert code == 0 and d["method"] == "enumeration" and d["configurations"] == 8
    assert d["mean_exact"] == ["-1/10"] and d["var_exact"] == ["3/100"] and "seconds" in d and "std" in d
    assert d["mean"] == [-0.1] and d["var"] == [0.03]
    xs = tmp_path / "xs.json"
    xs.write_text(json.dumps([[1, 1, 1], [1, 0, 0]]))
    code, out, _ = _run(capsys, "exact", path, "--input", f"@{xs}", "--p", "0:0.5", "--float", "--json")
    d = json.loads(out)
    assert code == 0 and np.allclose(d["mean"], [[-0.5], [-1 / 6]]) and len(d["var"]) == 2
    code, out, _ = _run(capsys, "exact", HAND, "--input", "0.4,-1.1,0.75,2", "--p", "1:0.07", "--json")
    d = json.loads(out)
    m1, m2 = brute_force(_hand_layers(), [0.4, -1.1, 0.75, 2.0], {1: 0.07})
    np.testing.assert_allclose(d["mean"], m1, rtol=1e-9)
    np.testing.assert_allclose(d["std"], np.sqrt(m2 - m1 ** 2), rtol=1e-9)


def test_cli_exact_polynomial_distribution_and_text(capsys, tmp_path):
    from symft.graph.netfile import save_network
    path = str(tmp_path / "first.json")
    save_network(first_input_network(3), path)
    code, out, _ = _run(capsys, "exact", path, "--input", "2,5,7", "--p", "0:p", "--polynomial", "--json")
    d = json.loads(out)
    assert code == 0 and d["polynomial"] == ["-2*p"] and d["coefficients"] == [[0, -2]]
    assert d["polynomial_second"] == ["4*p"]      # E Δ² = p x_1² = 4p
    code, out, _ = _run(capsys, "exact", path, "--input", "2,5,7", "--p", "0:1/4", "--distribution", "--json")
    d = json.loads(out)
    assert [(a["delta_exact"], a["probability_exact"]) for a in d["distribution"]["atoms"]] == [(["-2"], "1/4"),
                                                                                                  (["0"], "3/4")]
    assert [(a["delta"], a["probability"]) for a in d["distribution"]["atoms"]] == [([-2], 0.25), ([0], 0.75)]
    code, out, _ = _run(capsys, "exact", path, "--input", "2,5,7", "--p", "0:1/4", "--polynomial")
    assert code == 0 and "E Δ ≈ -0.5," in out and "-1/2" not in out and "E Δ[0] = -2*p" in out
    code, out, _ = _run(capsys, "exact", path, "--input", "2,5,7", "--p", "0:1/4", "--polynomial", "--exact")
    assert code == 0 and "E Δ = -1/2," in out and "E Δ[0] = -2*p" in out    # E Δ = −p x_1 = −2/4


def test_cli_exact_refuses_with_options(capsys, tmp_path):
    from symft.graph.netfile import save_network
    path = str(tmp_path / "wide.json")
    save_network(random_network([3, 40, 1], seed=0), path)
    code, out, err = _run(capsys, "exact", path, "--input", "1,2,3", "--p", "1:0.001", "--json")
    assert code == 2 and out == "" and "--order" in err and "symft sample" in err and "--force" in err
    assert err.startswith("symft: error:") and err.count("\n") == 1
    code, out, err = _run(capsys, "exact", path, "--input", "1,2,3", "--p", "1:0.001", "--order", "2", "--json")
    assert code == 0 and json.loads(out)["method"] == "enclosure"
    code, out, err = _run(capsys, "exact", path, "--input", "1,2", "--p", "1:0.001")
    assert code == 2 and "--input" in err


# --------------------------------------------------------------------------- heavy checks (run by hand)

@pytest.mark.slow
def test_slow_fast_path_2_20_matches_vectorized_naive():
    from symft.engines.forward import forward_masked, forward_trace
    net = random_network([16, 20, 16, 1], seed=0)
    x = np.random.default_rng(0).normal(size=16)
    r = enumerate_crashes(net, x, NeuronCrash({1: 0.05}))
    trace = forward_trace(net, x[None, :])
    clean = trace.output[0]
    m1 = m2 = 0.0
    shifts = np.arange(20)
    for a in range(0, 2 ** 20, 2 ** 16):
        idx = np.arange(a, a + 2 ** 16)
        masks = ((idx[:, None] >> shifts) & 1).astype(bool)
        d = forward_masked(net, x, {1: masks}, trace=trace)[:, 0] - clean[0]
        k = masks.sum(axis=1)
        w = 0.05 ** k * 0.95 ** (20 - k)
        m1 += w @ d
        m2 += w @ (d * d)
    assert r.mean[0] == pytest.approx(m1, rel=1e-11)
    assert r.second[0] == pytest.approx(m2, rel=1e-11)


@pytest.mark.slow
def test_slow_exact_rational_engine_on_16_neurons_matches_float():
    net = random_network([4, 8, 8, 2], seed=21, activation="relu", rational_denominator=32)
    model = NeuronCrash({1: R(1, 20), 2: R(3, 20)})
    ex = enumerate_crashes(net, [1, -1, "1/2", 2], model, exact=True)
    fl = enumerate_crashes(net, [1, -1, 0.5, 2], NeuronCrash({1: 0.05, 2: 0.15}), exact=False)
    np.testing.assert_allclose(np.array(ex.mean, dtype=float), fl.mean, rtol=1e-11, atol=1e-15)
    np.testing.assert_allclose(np.array(ex.var, dtype=float), fl.var, rtol=1e-9, atol=1e-15)
    m1, m2 = brute_force(_raw_layers(net), [1, -1, 0.5, 2], {1: 0.05, 2: 0.15})
    np.testing.assert_allclose(fl.mean, m1, rtol=1e-9, atol=1e-15)


@pytest.mark.slow
@settings(deadline=None, max_examples=60)
@given(seed=st.integers(0, 10 ** 6), act=st.sampled_from(["tanh", "sigmoid", "relu", "softplus", "hardtanh"]),
       hidden=st.lists(st.integers(1, 4), min_size=1, max_size=3),
       layer_set=st.sets(st.integers(0, 4), min_size=1, max_size=3), p=st.floats(0.01, 0.9))
def test_slow_hypothesis_enumeration_vs_independent_brute_force(seed, act, hidden, layer_set, p):
    widths = [2] + hidden + [2]
    L = len(widths) - 1
    layers = sorted(l for l in layer_set if l <= L) or [0]
    net = random_network(widths, seed=seed, activation=act, weight_scale=1.5)
    x = np.random.default_rng(seed).normal(size=2)
    probs = {l: p for l in layers}
    m1, m2 = brute_force(_raw_layers(net), x, probs)
    r = enumerate_crashes(net, x, NeuronCrash(probs))
    np.testing.assert_allclose(r.mean, m1, rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(r.second, m2, rtol=1e-9, atol=1e-14)
