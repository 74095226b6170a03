"""Failure models and crash patterns: validation, sampling, equality, masks."""

import math

import numpy as np
import pytest
import sympy as sp

from symft.errors import FaultModelError
from symft.faults import (
    SEMANTICS,
    Byzantine,
    CrashPattern,
    NeuronCrash,
    StuckAt,
    SynapseCrash,
    check_probability,
    patterns_to_masks,
)
from symft.graph.network import mean_network, random_network

R = sp.Rational


# ----------------------------------------------------------------- NeuronCrash

def test_neuron_crash_basic():
    m = NeuronCrash({2: 0.1, 0: R(1, 100), 1: 0})
    assert m.p == ((0, R(1, 100)), (1, 0), (2, 0.1))
    assert m.layers == (0, 2)
    assert m.probability(0) == R(1, 100) and isinstance(m.probability(0), sp.Rational)
    assert m.probability(2) == 0.1 and m.probability(5) == 0
    assert m.semantics == "output_zero" == SEMANTICS[0]
    assert NeuronCrash({1: 0.1}, semantics="incoming_zeroed").semantics == "incoming_zeroed"
    # frozen, hashable, comparable; construction order is irrelevant
    assert m == NeuronCrash({1: 0, 0: R(1, 100), 2: 0.1})
    assert hash(m) == hash(NeuronCrash({1: 0, 0: R(1, 100), 2: 0.1}))
    assert m != NeuronCrash({2: 0.1, 0: R(1, 100), 1: 0}, semantics="incoming_zeroed")
    assert NeuronCrash(m.p) == m  # round trip through the stored tuple
    with pytest.raises(AttributeError):
        m.semantics = "x"


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan"), float("inf"), True, None, "0.1", 1 + 0j,
                               R(3, 2), -R(1, 3), sp.nan, sp.oo])
def test_neuron_crash_bad_probability(p):
    with pytest.raises(FaultModelError, match=r"p\[1\]: expected a probability in \[0, 1\]"):
        NeuronCrash({1: p})


@pytest.mark.parametrize("p", [sp.I, 1 + sp.I, sp.Symbol("z", imaginary=True)])
def test_neuron_crash_nonreal_sympy_probability(p):
    with pytest.raises(FaultModelError, match="expected a probability"):
        NeuronCrash({1: p})


def test_symbolic_probability():
    p = sp.Symbol("p")
    assert NeuronCrash({1: p}).probability(1) == p
    q = sp.Symbol("q", positive=True)
    assert NeuronCrash({0: q / (1 + q)}).layers == (0,)  # in [0, 1] but not provably: accepted
    with pytest.raises(FaultModelError):
        NeuronCrash({1: q + 1})  # provably > 1
    with pytest.raises(FaultModelError):
        NeuronCrash({1: -q})  # provably < 0
    assert check_probability(sp.Symbol("x")) == sp.Symbol("x")
    with pytest.raises(FaultModelError, match="--p 2"):
        check_probability(1.5, "--p 2")
    assert check_probability(0) == 0 and check_probability(1.0) == 1.0


@pytest.mark.parametrize("p, msg", [
    ({-1: 0.1}, "layer -1: expected an integer ≥ 0"),
    ({1.0: 0.1}, "layer 1.0"),
    ({True: 0.1}, "layer True"),
    ([0.1], "expected a mapping"),
    (0.1, "expected a mapping"),
])
def test_neuron_crash_bad_layers(p, msg):
    with pytest.raises(FaultModelError, match=msg):
        NeuronCrash(p)


def test_unknown_semantics():
    with pytest.raises(FaultModelError) as e:
        NeuronCrash({1: 0.1}, semantics="zero")
    assert str(e.value) == "semantics: expected one of 'output_zero', 'incoming_zeroed', got 'zero'"


def test_hidden_and_check():
    net = random_network([2, 3, 4, 1], seed=0)
    m = NeuronCrash.hidden(net, 0.2)
    assert m.layers == (1, 2) and m.probability(1) == 0.2 and m.probability(3) == 0
    assert m.n_neurons(net) == 7
    assert NeuronCrash.hidden(net, 0.1, "incoming_zeroed").semantics == "incoming_zeroed"
    with pytest.raises(FaultModelError, match="L = 1"):
        NeuronCrash.hidden(mean_network(3), 0.1)
    assert NeuronCrash({0: 0.1, 3: 0.1}).check(net).layers == (0, 3)  # layer L is allowed
    with pytest.raises(FaultModelError) as e:
        NeuronCrash({4: 0.1}).check(net)
    assert str(e.value) == "p: layer 4 does not exist; the network has layers 0 … 3"
    assert NeuronCrash({0: 0.1, 1: 0.1}).n_neurons(net) == 5


def test_sample_reproducible_and_rate():
    net = random_network([5, 8, 1], seed=0)
    m = NeuronCrash({0: 0.3, 1: R(1, 20), 2: 0})
    a = m.sample(net, 20000, seed=7)
    b = m.sample(net, 20000, seed=7)
    c = m.sample(net, 20000, seed=8)
    assert set(a) == {0, 1}  # p = 0 layers are not sampled
    assert a[0].shape == (20000, 5) and a[1].shape == (20000, 8) and a[0].dtype == bool
    for l in a:
        np.testing.assert_array_equal(a[l], b[l])
    assert not np.array_equal(a[0], c[0])
    for l, p in ((0, 0.3), (1, 0.05)):
        n = a[l].size
        sd = math.sqrt(p * (1 - p) / n)
        assert abs(a[l].mean() - p) < 6 * sd, (l, a[l].mean())
        # per-neuron rates too (each column is its own Bernoulli sequence)
        sd_col = math.sqrt(p * (1 - p) / a[l].shape[0])
        assert np.all(np.abs(a[l].mean(axis=0) - p) < 6 * sd_col)
    # p = 1 crashes everything, p = 0 nothing
    full = NeuronCrash({1: 1}).sample(net, 10, seed=0)[1]
    assert full.all()
    with pytest.raises(FaultModelError, match="symbolic"):
        NeuronCrash({1: sp.Symbol("p")}).sample(net, 3, seed=0)
    with pytest.raises(FaultModelError, match="does not exist"):
        NeuronCrash({5: 0.1}).sample(net, 3, seed=0)
    with pytest.raises(ValueError, match="seed"):
        m.sample(net, 3, seed=None)


# ----------------------------------------------------------------- SynapseCrash

def test_synapse_crash():
    s = SynapseCrash({2: 0.25, 1: 0})
    assert s.layers == (2,) and s.probability(2) == 0.25 and s.probability(1) == 0
    assert s == SynapseCrash({1: 0, 2: 0.25}) and hash(s) == hash(SynapseCrash({1: 0, 2: 0.25}))
    with pytest.raises(FaultModelError, match="layer 0: expected an integer ≥ 1"):
        SynapseCrash({0: 0.1})
    with pytest.raises(FaultModelError, match="probability"):
        SynapseCrash({1: 2})
    net = random_network([3, 4, 2], seed=0)
    m = s.sample(net, 5000, seed=3)
    assert set(m) == {2} and m[2].shape == (5000, 2, 4)
    np.testing.assert_array_equal(m[2], s.sample(net, 5000, seed=3)[2])
    sd = math.sqrt(0.25 * 0.75 / m[2].size)
    assert abs(m[2].mean() - 0.25) < 6 * sd
    with pytest.raises(FaultModelError, match="does not exist"):
        SynapseCrash({3: 0.1}).sample(net, 1, seed=0)


# ----------------------------------------------------------------- Byzantine / StuckAt

def test_byzantine():
    assert Byzantine(1).deviation((0, 1)) == 2  # v = -1 against y = 1
    assert Byzantine(2).deviation((-1, 1)) == 3
    assert Byzantine(R(1, 2)).deviation((0, 0)) == R(1, 2)
    assert Byzantine(0).deviation((-3, 1)) == 3
    assert Byzantine(1) == Byzantine(1) and hash(Byzantine(1)) == hash(Byzantine(1))
    for bad in (-1, float("inf"), float("nan"), True, "1", None):
        with pytest.raises(FaultModelError, match="capacity"):
            Byzantine(bad)
    assert Byzantine(sp.Symbol("C")).capacity == sp.Symbol("C")


def test_stuck_at():
    assert StuckAt(1.5).value == 1.5 and StuckAt(R(1, 3)).value == R(1, 3)
    assert StuckAt(-2) == StuckAt(-2)
    for bad in (float("nan"), float("inf"), True, "1", None):
        with pytest.raises(FaultModelError, match="value"):
            StuckAt(bad)


# ----------------------------------------------------------------- CrashPattern

def test_crash_pattern_equality_and_hash():
    a = CrashPattern([(1, 0), (0, 2)], [(1, 0, 1)], {(1, 0): 5.0})
    b = CrashPattern(frozenset({(0, 2), (1, 0)}), frozenset({(1, 0, 1)}), (((1, 0), 5.0),))
    assert a == b and hash(a) == hash(b)
    assert len({a, b}) == 1
    assert a != CrashPattern([(1, 0), (0, 2)], [(1, 0, 1)], {(1, 0): 6.0})
    assert a != CrashPattern([(1, 0), (0, 2)], [(1, 0, 1)])
    assert a != CrashPattern([(1, 0), (0, 2)])
    assert a.layers == (0, 1) and len(a) == 3 and a.value_map == {(1, 0): 5.0}
    assert CrashPattern() == CrashPattern(frozenset(), frozenset(), ()) and len(CrashPattern()) == 0
    assert CrashPattern.from_layers({0: [1], 2: 3}) == CrashPattern([(0, 1), (2, 3)])
    assert CrashPattern([(np.int64(1), np.int64(2))]).neurons == frozenset({(1, 2)})
    # duplicates collapse
    assert CrashPattern([(1, 0), (1, 0)]) == CrashPattern([(1, 0)])


@pytest.mark.parametrize("kwargs, msg", [
    (dict(neurons=[(1,)]), "expected \\(layer, index\\) pairs"),
    (dict(neurons=[(1, -1)]), "non-negative"),
    (dict(neurons=[(1, 0.5)]), "non-negative integers"),
    (dict(neurons=[(True, 0)]), "non-negative integers"),
    (dict(synapses=[(1, 0)]), "triples"),
    (dict(synapses=[(1, 0, -2)]), "non-negative integer triples"),
    (dict(neurons=[(1, 0)], values={(1, 1): 2.0}), "not among the failed neurons"),
    (dict(neurons=[(1, 0)], values={(1, 0): float("nan")}), "finite"),
    (dict(neurons=[(1, 0)], values={(1, 0): "2"}), "finite"),
])
def test_crash_pattern_validation(kwargs, msg):
    with pytest.raises(FaultModelError, match=msg):
        CrashPattern(**kwargs)


def test_crash_pattern_check_messages():
    net = random_network([3, 2, 1], seed=0)
    CrashPattern([(0, 2), (1, 1), (2, 0)], [(1, 1, 2), (2, 0, 1)]).check(net)
    with pytest.raises(FaultModelError) as e:
        CrashPattern([(0, 3)]).check(net)
    assert str(e.value) == "crash: neuron index 3 out of range for layer 0 (n_0 = 3, indices 0 … 2)"
    with pytest.raises(FaultModelError) as e:
        CrashPattern([(3, 0)]).check(net, "pat")
    assert str(e.value) == "pat: layer 3 does not exist; the network has layers 0 … 2"
    with pytest.raises(FaultModelError) as e:
        CrashPattern(synapses=[(1, 2, 0)]).check(net)
    assert str(e.value) == "crash: synapse (1, 2, 0) out of range; W_1 is 2 × 3"
    with pytest.raises(FaultModelError, match="synapse layer 0 does not exist; expected 1 … 2"):
        CrashPattern(synapses=[(0, 0, 0)]).check(net)
    masks = CrashPattern([(0, 2), (1, 0), (1, 1)]).neuron_masks(net)
    assert masks[0].tolist() == [False, False, True] and masks[1].tolist() == [True, True]


def test_patterns_to_masks():
    net = random_network([3, 2, 1], seed=0)
    pats = [CrashPattern(), CrashPattern([(0, 1), (1, 0)], values={(1, 0): 2.5}),
            CrashPattern(synapses=[(2, 0, 1)]), CrashPattern([(0, 0), (0, 2)])]
    nm, vals, sm = patterns_to_masks(net, pats)
    assert set(nm) == {0, 1} and set(vals) == {1} and set(sm) == {2}
    assert nm[0].astype(int).tolist() == [[0, 0, 0], [0, 1, 0], [0, 0, 0], [1, 0, 1]]
    assert nm[1].astype(int).tolist() == [[0, 0], [1, 0], [0, 0], [0, 0]]
    assert vals[1][1, 0] == 2.5 and np.isnan(vals[1][1, 1]) and np.isnan(vals[1][0]).all()
    assert sm[2].shape == (4, 1, 2) and sm[2][2, 0, 1] and sm[2].sum() == 1
    assert patterns_to_masks(net, []) == ({}, {}, {})
    with pytest.raises(FaultModelError, match=r"patterns\[1\]: expected a CrashPattern"):
        patterns_to_masks(net, [CrashPattern(), {(0, 0)}])
    with pytest.raises(FaultModelError) as e:
        patterns_to_masks(net, [CrashPattern(), CrashPattern([(1, 2)])])
    assert str(e.value) == "patterns[1]: neuron index 2 out of range for layer 1 (n_1 = 2, indices 0 … 1)"
