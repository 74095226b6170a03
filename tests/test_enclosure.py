"""Tests of symft.engines.enclosure: certified intervals contain the enumerated values, shrink with the order.

The enclosures are checked against full enumeration (symft.engines.enumeration, itself checked against an
independent brute force in tests/test_exact.py), on random nets with Hypothesis, with crashes at
several layers, all activations with a slope bound, both crash semantics, and a step activation
(no slope bound: the crude bound must take over).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

from symft.cli import main
from symft.engines.enclosure import enclosure, per_neuron_bounds
from symft.errors import FaultModelError, InvalidArgument, TooLargeError
from symft.engines.enumeration import enumerate_crashes
from symft.faults import NeuronCrash
from symft.engines.forward import forward_masked
from symft.graph.network import Network, mean_network, random_network


def _contains(e, ex):
    ok = (np.all(e.mean_lo <= ex.mean) and np.all(ex.mean <= e.mean_hi)
          and np.all(e.second_lo <= ex.second) and np.all(ex.second <= e.second_hi)
          and np.all(e.var_lo <= ex.var) and np.all(ex.var <= e.var_hi))
    return bool(ok)


@settings(deadline=None, max_examples=15)
@given(seed=st.integers(0, 10 ** 6),
       act=st.sampled_from(["tanh", "sigmoid", "relu", "hardtanh", "softplus", "1/2*tanh"]),
       hidden=st.lists(st.integers(2, 4), min_size=1, max_size=2),
       layer_set=st.sets(st.integers(0, 3), min_size=1, max_size=2),
       p=st.sampled_from([0.01, 0.1, 0.3, 0.7]),
       sem=st.sampled_from(["output_zero", "incoming_zeroed"]))
def test_hypothesis_enclosure_contains_enumeration_and_shrinks(seed, act, hidden, layer_set, p, sem):
    widths = [3] + hidden + [2]
    L = len(widths) - 1
    layers = sorted(l for l in layer_set if l <= L) or [1]
    net = random_network(widths, seed=seed, activation=act, weight_scale=1.5)
    x = np.random.default_rng(seed).normal(size=3)
    model = NeuronCrash({l: p for l in layers}, semantics=sem)
    ex = enumerate_crashes(net, x, model)
    N = model.n_neurons(net)
    prev = None
    for k in range(0, N + 1):
        e = enclosure(net, x, model, order=k)
        assert _contains(e, ex), (k, e.mean_lo, ex.mean, e.mean_hi)
        if prev is not None:
            # the enumerated part only narrows the interval; the floating-point margin grows a
            # little with the number of configurations evaluated, so it is allowed on top
            assert np.all(e.width <= prev.width * (1 + 1e-9) + 2 * e.margin_mean + 1e-15)
        prev = e
    # all configurations evaluated: only the floating-point margin remains
    assert np.all(prev.width <= 1e-9 * (1 + np.abs(ex.mean)))


def test_width_strictly_shrinks_on_a_wider_net():
    net = random_network([5, 12, 8, 3], seed=4, activation="sigmoid")
    x = np.linspace(-1, 1, 5)
    model = NeuronCrash({1: 0.02, 2: 0.02})
    ws = [enclosure(net, x, model, order=k).width for k in range(4)]
    for a, b in zip(ws, ws[1:]):
        assert np.all(b < a / 2)           # each order gains about a factor P(≥ k+1 others) / P(≥ k others)
    ex = enumerate_crashes(net, x, model)  # 2^20 configurations, fast path not applicable
    assert _contains(enclosure(net, x, model, order=2), ex)


def test_closed_form_inside_and_exact_tail_probabilities():
    # mean of 20 inputs at x ≡ 1: E Δ = -p, Var Δ = p(1-p)/20 (theory §4)
    for k in (0, 1, 3):
        e = enclosure(mean_network(20), np.ones(20), NeuronCrash({0: sp.Rational(1, 50)}), order=k)
        assert e.mean_lo[0] <= -0.02 <= e.mean_hi[0]
        assert e.var_lo[0] <= 0.02 * 0.98 / 20 <= e.var_hi[0]
    # for this linear net the per-neuron bound is exact (c_i = 1/20 = |Δ(e_i)|), so the tail
    # bound equals Σ_i c_i p P(≥ k others) = p P(Bin(19, p) ≥ k) exactly (up to rounding up)
    from math import comb
    p = 0.02
    e = enclosure(mean_network(20), np.ones(20), NeuronCrash({0: p}), order=2, tail="first-order")
    exact_tail = p * (1 - sum(comb(19, j) * p ** j * (1 - p) ** (19 - j) for j in range(2)))
    assert e.tail_mean[0] == pytest.approx(exact_tail, rel=1e-9)
    assert e.tail_mean[0] >= exact_tail * (1 - 1e-12)
    # a linear net has no interactions: the pairwise tail is its exact linear part, the width only rounding
    e = enclosure(mean_network(20), np.ones(20), NeuronCrash({0: p}), order=1)
    assert e.tail_method[0] == "pairwise" and e.mean_lo[0] <= -p <= e.mean_hi[0] and e.width[0] < 1e-12


def test_step_activation_uses_crude_bound():
    net = Network.from_numpy([[[1.0, -1.0], [0.5, 0.5], [-1.0, 2.0]], [[1.0, 2.0, -1.0]]],
                             [[0.1, -0.2, 0.0], [0.0]], ["step", "linear"])
    x = np.array([0.3, 0.2])
    model = NeuronCrash({0: 0.2})
    c, D = per_neuron_bounds(net, x, model)
    assert not np.all(np.isfinite(c[0]))
    ex = enumerate_crashes(net, x, model)
    for k in range(3):
        e = enclosure(net, x, model, order=k)
        assert _contains(e, ex)
        assert e.tail_method[0] in ("crude", "none")


def test_per_neuron_bound_holds_for_every_crash_set():
    net = random_network([3, 5, 4, 2], seed=12, activation="tanh", weight_scale=2.0)
    x = np.array([0.7, -0.3, 1.1])
    model = NeuronCrash({0: 0.1, 1: 0.1, 2: 0.1})
    c, D = per_neuron_bounds(net, x, model)
    rng = np.random.default_rng(0)
    masks = {l: rng.random((3000, net.widths[l])) < 0.3 for l in (0, 1, 2)}
    delta = forward_masked(net, x, masks) - forward_masked(net, x, {2: np.zeros((1, 4), bool)})[0]
    bound = sum(masks[l].astype(float) @ c[l] for l in (0, 1, 2))
    assert np.all(np.abs(delta) <= bound + 1e-12)
    assert np.all(np.abs(delta) <= D + 1e-12)
    # and the bound is attained by a single crash on a linear net (tightness check)
    lin = Network.from_numpy([[[2.0, -1.0]]], activations=["linear"])
    c1, _ = per_neuron_bounds(lin, np.array([3.0, 5.0]), NeuronCrash({0: 0.5}))
    np.testing.assert_allclose(c1[0][:, 0], [6.0, 5.0], rtol=1e-12)


def test_batch_and_output_layer_crashes():
    net = random_network([2, 3, 2], seed=2)
    X = np.array([[0.1, 0.2], [1.0, -1.0], [0.0, 0.5]])
    model = NeuronCrash({1: 0.2, 2: 0.1})
    e = enclosure(net, X, model, order=2)
    assert e.mean_lo.shape == (3, 2)
    ex = enumerate_crashes(net, X, model)
    assert _contains(e, ex)
    d = e.to_dict()
    assert len(d["mean_lo"]) == 3 and len(d["mean_lo"][0]) == 2
    json.dumps(d)


def test_enclosure_guard_rails_and_errors():
    net = random_network([4, 200, 1], seed=0)
    with pytest.raises(TooLargeError, match="order"):
        enclosure(net, np.ones(4), NeuronCrash({1: 1e-3}), order=4, max_configurations=10 ** 6)
    with pytest.raises(InvalidArgument, match="order"):
        enclosure(net, np.ones(4), NeuronCrash({1: 1e-3}), order=-1)
    with pytest.raises(FaultModelError, match="symbolic"):
        enclosure(mean_network(2), np.ones(2), NeuronCrash({0: sp.Symbol("p")}), order=1)


def test_cli_exact_enclosure_json(capsys, tmp_path):
    path = tmp_path / "net.json"
    from symft.graph.netfile import save_network
    save_network(random_network([2, 6, 1], seed=3, activation="sigmoid"), str(path))
    assert main(["exact", str(path), "--input", "0.5,-1", "--p", "1:0.01", "--order", "2", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    for key in ("mean", "var", "std", "mean_lo", "mean_hi", "var_lo", "var_hi", "configurations", "seconds"):
        assert key in d
    assert d["method"] == "enclosure" and d["order"] == 2
    assert main(["exact", str(path), "--input", "0.5,-1", "--p", "1:0.01", "--json"]) == 0
    full = json.loads(capsys.readouterr().out)
    assert d["mean_lo"][0] <= full["mean"][0] <= d["mean_hi"][0]
    assert d["var_lo"][0] <= full["var"][0] <= d["var_hi"][0]


@pytest.mark.slow
@settings(deadline=None, max_examples=40)
@given(seed=st.integers(0, 10 ** 6), act=st.sampled_from(["tanh", "sigmoid", "relu", "softplus", "4*sigmoid"]),
       hidden=st.lists(st.integers(3, 6), min_size=1, max_size=2),
       p=st.sampled_from([1e-3, 0.05, 0.2, 0.5]), order=st.integers(0, 3))
def test_slow_hypothesis_enclosure_wider_nets(seed, act, hidden, p, order):
    widths = [4] + hidden + [3]
    net = random_network(widths, seed=seed, activation=act, weight_scale=2.0, bias_scale=1.0)
    x = np.random.default_rng(seed).normal(size=4) * 2
    model = NeuronCrash({l: p for l in range(0, len(widths) - 1)})
    if model.n_neurons(net) > 18:
        model = NeuronCrash({l: p for l in range(1, len(widths) - 1)})
    ex = enumerate_crashes(net, x, model)
    e = enclosure(net, x, model, order=order)
    assert _contains(e, ex)


@pytest.mark.slow
def test_slow_benchmark_size_enclosure_contains_monte_carlo_scale():
    # [64, 128, 64, 10] sigmoid, both hidden layers, p = 1e-4, order 3: the certified width is
    # tiny and the true mean is dominated by the single-crash term (b4) which lies inside.
    from symft.engines.enumeration import single_crash_term
    net = random_network([64, 128, 64, 10], seed=0, activation="sigmoid")
    x = np.random.default_rng(3).normal(size=64)
    model = NeuronCrash({1: 1e-4, 2: 1e-4})
    e = enclosure(net, x, model, order=3)
    assert np.all(e.width < 1e-8)
    t = single_crash_term(net, x, model)
    # E Δ = p Σ_i Δ(e_i) + p² Σ_{i<j} [Δ(e_i, e_j) − Δ(e_i) − Δ(e_j)] + O(p³): only the
    # pairwise interactions remain at second order, so b4's first-order term is within 1%
    assert np.all(np.abs(e.mean - t.first_order) < 0.01 * np.abs(t.first_order))
    # while the single-crash part alone misses the (N-1) p · p Σ Δ(e_i) of the pairs (≈ 1.9%)
    assert np.all(np.abs(e.mean - t.mean) > 0.01 * np.abs(t.first_order))
    assert e.order == 3 and e.configurations == 1 + 192 + 192 * 191 // 2 + 192 * 191 * 190 // 6


def test_auto_order_and_cli_auto(capsys, tmp_path):
    from symft.engines.enclosure import choose_order
    net = random_network([3, 10, 6, 2], seed=5, activation="tanh")
    model = NeuronCrash({1: 0.01, 2: 0.01})
    assert choose_order(net, model, max_configurations=1 + 16) == 1          # 1 + 16 configurations
    assert choose_order(net, model, max_configurations=1 + 16 + 120) == 2    # + C(16, 2)
    assert choose_order(net, model, max_configurations=2 ** 16) == 16        # everything
    e = enclosure(net, np.ones(3), model, order="auto")
    assert e.order == 16 and np.all(e.width < 1e-10)
    ex = enumerate_crashes(net, np.ones(3), model)
    assert _contains(e, ex)
    from symft.graph.netfile import save_network
    path = str(tmp_path / "n.json")
    save_network(net, path)
    assert main(["exact", path, "--input", "1,1,1", "--p", "0.01", "--order", "auto", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["order"] == 16 and d["method"] == "enclosure"
    assert main(["exact", path, "--input", "1,1,1", "--p", "0.01", "--order", "two"]) == 2
    assert "--order" in capsys.readouterr().err
