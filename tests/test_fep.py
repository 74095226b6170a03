"""Forward Error Propagation: closed form = recursion, soundness vs the exact worst case, tightness."""

import itertools
import json

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from symft.cli import main
from symft.errors import InvalidArgument
from symft.faults import CrashPattern
from symft.analysis.fep import (
    FepParams, boosting, fep, fep_expected, fep_max, fep_params, fep_recursive, fep_report, fep_synapse,
    growth_factors, precision, witness_network,
)
from symft.engines.forward import forward_masked, forward_trace, output_error
from symft.graph.network import Network, random_network
from symft.graph.netfile import save_network
from symft.worstcase import worst_case

R = sp.Rational

# Hand-derived example (tests/cases-style): widths [2, 3, 2, 1], tanh hidden (K = 1, C = sup|tanh| = 1),
# w_m^(1) = 2, w_m^(2) = 1/2, w_m^(3) = 3.
#   Fep(1, 0) = 3 · [1·1 · 1·(2 − 0)·1/2]           = 3
#   Fep(0, 1) = 3 · [1·1]                           = 3
#   Fep(1, 1) = 3 · [1·(2 − 1)·1/2 + 1]             = 9/2
#   Fep(2, 0) = 3 · [2 · 2 · 1/2]                   = 6;   Fep(0, 2) = 3·2 = 6;  Fep(3, 0) = 9
#   max over allocations of 2 failures: 6;  Byzantine capacity 1: C = 1 + 1 = 2, Fep(1, 0) = 6
HAND = {"format": "symft.network", "version": 1, "name": "hand-fep", "layers": [
    {"weights": [[2, -1], [1, 0], [0, -2]], "bias": [0, 0, 0], "activation": "tanh"},
    {"weights": [["1/2", 0, "-1/2"], ["1/4", "1/2", 0]], "bias": [0, 0], "activation": "tanh"},
    {"weights": [[3, -1]], "bias": [0], "activation": "linear"}]}
HAND_VALUES = {(1, 0): R(3), (0, 1): R(3), (1, 1): R(9, 2), (2, 0): R(6), (0, 2): R(6), (3, 0): R(9)}


@pytest.fixture
def hand_file(tmp_path):
    p = tmp_path / "hand.json"
    p.write_text(json.dumps(HAND))
    return str(p)


def test_hand_example_library_and_cli(hand_file, capsys):
    from symft.graph.netfile import load_network

    net = load_network(hand_file)
    for f, v in HAND_VALUES.items():
        assert fep(net, f) == v == fep_recursive(net, f)
        assert main(["fep", hand_file, "--failures", ",".join(map(str, f)), "--json"]) == 0
        d = json.loads(capsys.readouterr().out)
        assert sp.Rational(d["fep_exact"]) == v and d["fep"] == float(v)
    assert fep_max(net, 2)[0] == 6
    assert fep(net, (1, 0), byzantine=1) == 6
    assert main(["fep", hand_file, "--failures", "1,0", "--byzantine", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["fep"] == 6.0
    assert main(["fep", hand_file, "--max", "2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["fep_max"] == 6.0
    assert main(["fep", hand_file, "--failures", "1"]) == 2
    assert "expected 2 numbers" in capsys.readouterr().err


params = st.builds(
    lambda N, w, K, C: FepParams(tuple(N), tuple(R(a, 4) for a in w[:len(N) + 1]),
                                 tuple(R(k, 4) for k in K[:len(N)]), tuple(R(c, 2) for c in C[:len(N)]), None,
                                 "given"),
    st.lists(st.integers(1, 5), min_size=1, max_size=4),
    st.lists(st.integers(1, 12), min_size=5, max_size=5),
    st.lists(st.integers(1, 8), min_size=4, max_size=4),
    st.lists(st.integers(0, 6), min_size=4, max_size=4))


@settings(deadline=None, max_examples=60)
@given(params, st.data())
def test_closed_form_equals_recursion(P, data):
    f = [data.draw(st.integers(0, n)) for n in P.N]
    assert fep(P, f) == fep_recursive(P, f)
    assert fep_synapse(P, [0] * (P.L + 1), f) == fep(P, f)


def test_not_monotone_and_max_searches_all_allocations():
    P = FepParams((3, 2), (1, 2, 5), (1, 1), (1, 1), None, "given")
    # downstream failures stop the upstream error: (1, 2) < (1, 0)
    assert fep(P, [1, 2]) < fep(P, [1, 0])
    brute = max(fep(P, a) for a in itertools.product(range(4), range(3)) if sum(a) == 2)
    assert fep_max(P, 2)[0] == brute
    brute_le = max(fep(P, a) for a in itertools.product(range(4), range(3)) if sum(a) <= 4)
    assert fep_max(P, 4, at_most=True)[0] == brute_le


# ---------------------------------------------------------------- tightness: the witness network
@settings(deadline=None, max_examples=15)
@given(st.lists(st.integers(1, 3), min_size=2, max_size=4), st.data())
def test_witness_attains_fep_exactly(widths, data):
    L = len(widths) - 1
    w = [R(data.draw(st.integers(1, 6)), data.draw(st.integers(1, 3))) for _ in range(L + 1)]
    K = R(data.draw(st.integers(1, 4)), 2)
    C = R(data.draw(st.integers(1, 5)), 3)
    net, x = witness_network(widths, w, K=K, C=C)
    f = [data.draw(st.integers(0, widths[l])) for l in range(1, L + 1)]
    pat = CrashPattern([(l, i) for l in range(1, L + 1) for i in range(f[l - 1])])
    delta = output_error(net, x, pat, exact=True)[0]
    assert abs(delta) == fep(net, f, C=C) == fep_recursive(net, f, C=C)


def test_witness_worst_case_equals_fep_max():
    net, x = witness_network([2, 3, 3], [1, R(1, 2), 2], C=1)
    for f in (1, 2, 3):
        w = worst_case(net, x, max_crashes=f, method="brute-force")
        s = worst_case(net, x, max_crashes=f, method="smt")
        v, _ = fep_max(net, f, at_most=True, C=1)
        assert w.status == s.status == "proved"
        assert w.worst_delta == s.worst_delta == v


def test_witness_byzantine_and_synapses():
    # Byzantine: failed neurons send −C instead of C: deviation 2C, Fep with C_l = 2C
    net, x = witness_network([1, 2, 2], [1, 1, 1], C=1)
    pat = CrashPattern([(1, 0)], values={(1, 0): -1})
    assert abs(output_error(net, x, pat, exact=True)[0]) == fep(net, [1, 0], C=2) == 4
    assert worst_case(net, x, max_crashes=1, byzantine=1).worst_delta == 4
    # synapses into layer 2 (all in one layer: tight): each removes w·C = 1 from one neuron
    pat = CrashPattern(synapses=[(2, 0, 0), (2, 1, 1)])
    P = fep_params(net, C=1)
    assert abs(output_error(net, x, pat, exact=True)[0]) == fep_synapse(P, [0, 2, 0]) == 2
    pat = CrashPattern(synapses=[(3, 0, 0)])
    assert abs(output_error(net, x, pat, exact=True)[0]) == fep_synapse(P, [0, 0, 1]) == 1


# ---------------------------------------------------------------- soundness on random nets
@settings(deadline=None, max_examples=12)
@given(st.integers(0, 10 ** 6), st.sampled_from(["tanh", "relu", "hardtanh", "sigmoid"]), st.integers(1, 3))
def test_fep_bounds_exact_worst_case(seed, act, f):
    net = random_network([3, 4, 3, 2], seed=seed, activation=act)
    x = np.random.default_rng(seed).normal(size=3)
    # crash: C_l = largest fault-free |y_l^i(x)| (a failed neuron loses exactly its clean output)
    w = worst_case(net, x, max_crashes=f, method="brute-force")
    bound, _ = fep_max(net, f, at_most=True, x=x[None, :])
    assert w.status == "proved"
    assert float(w.worst_delta) <= float(bound) * (1 + 1e-12)
    # activation-range constant (bounded activations only) is weaker but also sound
    if act in ("tanh", "hardtanh", "sigmoid"):
        assert float(w.worst_delta) <= float(fep_max(net, f, at_most=True)[0])


@settings(deadline=None, max_examples=8)
@given(st.integers(0, 10 ** 6))
def test_fep_byzantine_bounds_smt_worst_case(seed):
    net = random_network([2, 3, 2, 1], seed=seed, activation="relu", rational_denominator=8)
    x = [1, -1]
    w = worst_case(net, x, max_crashes=2, byzantine=1, method="smt")
    bound, _ = fep_max(net, 2, at_most=True, byzantine=1, x=np.array([[1.0, -1.0]]))
    assert w.status == "proved" and w.worst_delta <= bound


def test_report(hand_file):
    net = random_network([3, 5, 4, 1], seed=0, activation="relu", rational_denominator=8)
    r = fep_report(net, [1, -1, 1], 2)
    assert r.worst.status == "proved" and r.ratio >= 1 and r.fep == fep_max(net, 2, at_most=True,
                                                                          x=np.array([[1.0, -1, 1]]))[0]


# ---------------------------------------------------------------- SRDS expectation and applications
def test_srds_expected_bound_vs_exact_expectation():
    net = random_network([2, 3, 3, 1], seed=4, activation="tanh")
    x = np.array([0.7, -0.2])
    p = 0.2
    n = 6
    bits = np.array(list(itertools.product([False, True], repeat=n)))
    masks = {1: bits[:, :3], 2: bits[:, 3:]}
    out = forward_masked(net, x, masks)[:, 0]
    clean = forward_trace(net, x[None, :]).output[0, 0]
    probs = np.prod(np.where(bits, p, 1 - p), axis=1)
    exact_mean_abs = float(np.sum(probs * np.abs(out - clean)))
    bound = float(fep_expected(net, p, x=x[None, :]))
    assert exact_mean_abs <= bound
    # Fep is multilinear in independent f_l: the bound equals E Fep(f) exactly
    P = fep_params(net, x=x[None, :])
    mean_fep = sum(R(1, 5) ** (a + b) * R(4, 5) ** (6 - a - b) * sp.binomial(3, a) * sp.binomial(3, b)
                   * fep(P, [a, b]) for a in range(4) for b in range(4))
    assert sp.simplify(mean_fep - fep_expected(P, R(1, 5))) == 0


def test_precision_rounding_is_sound():
    net = random_network([3, 6, 5, 2], seed=7, activation="tanh")
    eps = 1e-3
    d = precision(net, eps)
    eta = float(d["eta"])
    rng = np.random.default_rng(0)
    x = rng.normal(size=3)
    clean = forward_trace(net, x[None, :]).output[0]
    for _ in range(200):
        y = x
        for l in range(1, net.depth + 1):
            y = net.activation(l)(net.weights(l) @ y + net.bias(l))
            if l < net.depth:
                y = y + rng.uniform(-eta, eta, size=y.shape)
        assert np.max(np.abs(y - clean)) <= eps
    assert d["bits"] >= 1


def test_boosting_and_growth():
    P = FepParams((3, 2), (1, 2, 5), (1, 1), (1, 1), None, "given")
    b = boosting(P, 25)
    assert b["f"] == 1 and b["exceeded_by"][0] == 40
    assert growth_factors(P) == (6,)


def test_bad_arguments():
    net = random_network([2, 3, 1], seed=0, activation="relu")
    with pytest.raises(InvalidArgument, match="unbounded"):
        fep(net, [1])
    with pytest.raises(InvalidArgument):
        fep(net, [4], C=1)
    with pytest.raises(InvalidArgument):
        fep(net, [1, 1], C=1)
    step = Network.from_sympy([[[1]], [[1]]], activations=["step", "linear"])
    with pytest.raises(InvalidArgument, match="Lipschitz"):
        fep(step, [1])
    with pytest.raises(InvalidArgument):
        fep_synapse(net, [1, 0], C=1)   # synapses into layer 1 need an input bound


# ---------------------------------------------------------------- a non-linear output layer
# 1 → 2 (hardtanh) → 1 (3*relu), all weights 1, biases 0, at x = 1 (hand-derived):
#   hidden outputs (1, 1) (hardtanh(1) = 1 = sup|hardtanh| = C), output 3·relu(1 + 1) = 6;
#   one hidden crash: 3·relu(1) = 3, |Δ| = 3;  both: 0, |Δ| = 6.
#   Fep(1) = K_out · w_m^(2) · C · 1 = 3 · 1 · 1 · 1 = 3  (tight; without K_out it said 1);  Fep(2) = 6.
#   [SRDS], p = 1/2: E|Δ| = 2 · (1/4) · 3 + (1/4) · 6 = 3;  bound K_out·w_m·C·(p N) = 3 · 1 · 1 · 1 = 3.
#   One synapse into the output removed: 3·relu(1) = 3, |Δ| = 3 = K_out · C · w_m^(2).
#   precision: rounding both hidden outputs by +η moves the output by 3·2η = 6η, so the gain is 6
#   (K_out · w_m^(2) · N_1 = 3 · 1 · 2): η = ε/6 (was ε/2, an error of 3ε).
def _amplifying_output_net():
    return Network.from_sympy([[[1], [1]], [[1, 1]]], activations=["hardtanh", "3*relu"])


def test_nonlinear_output_layer_multiplies_fep():
    net = _amplifying_output_net()
    assert fep(net, [1]) == fep_recursive(net, [1]) == 3 and fep(net, [2]) == 6
    P = fep_params(net)
    assert P.K_out == 3
    w = worst_case(net, [1], max_crashes=1, layers=[1], method="brute-force")
    assert w.status == "proved" and w.worst_delta == 3 <= fep_max(net, 1, at_most=True)[0]
    assert fep_expected(net, R(1, 2)) == 3
    assert fep_synapse(P, [0, 1]) == 3
    eps = R(1, 100)
    assert precision(net, eps)["eta"] == eps / 6
    assert boosting(net, R(5, 2))["f"] == 0          # one crash already gives 3 > 5/2


def test_nonlinear_output_layer_srds_bound_against_enumeration():
    from symft.analysis.bounds import fep_expected as srds
    from symft.faults import NeuronCrash

    b = srds(_amplifying_output_net(), [1], NeuronCrash({1: R(1, 2)}))
    assert b.rigorous and b.value[0] >= 3                # the exact E‖Δ‖_∞ (hand-derived above)


def test_output_without_lipschitz_constant_is_refused():
    net = Network.from_sympy([[[1], [1]], [[1, 1]]], activations=["hardtanh", "step"])
    with pytest.raises(InvalidArgument, match="output"):
        fep(net, [1])


# ---------------------------------------------------------------- C_l enclosed, not rounded
def test_C_from_inputs_is_enclosed_under_cancellation():
    # hidden tanh(1e6·x0 + 1e-5·x1 + 1e6·x2) at x = (1e6, 1, −1e6): float64 gives tanh(0) = 0, the exact
    # value is tanh(1e-5) (1e6·1e6 = 1e12 is exact); C must be ≥ it, and a crash of the hidden neuron
    # changes the output 2·h by 2·tanh(1e-5) ≤ Fep(1) = 2·C.
    import mpmath

    net = Network.from_numpy([np.array([[1e6, 1e-5, 1e6]]), np.array([[2.0]])], activations=["tanh", "linear"])
    x = np.array([[1e6, 1.0, -1e6]])
    with mpmath.workdps(60):
        h = mpmath.tanh(mpmath.mpf(1e-5))
        C = fep_params(net, x=x).C[0]
        assert mpmath.mpf(C.p) / C.q >= h
        v = fep(net, [1], x=x)
        assert mpmath.mpf(v.p) / v.q >= 2 * h
        lo = np.array([1e6, 1.0, -1e6])
        Cb = fep_params(net, input_box=(lo, lo)).C[0]
        assert mpmath.mpf(Cb.p) / Cb.q >= h


def test_float_constants_are_read_as_their_binary_value():
    # a hand-made FepParams with a float C = 0.1: the bound is the binary value 0.1000000000000000055…,
    # not the decimal 1/10 (which is smaller)
    from fractions import Fraction

    P = FepParams((1,), (1, 1), (1,), (0.1,), None, "given")
    v = fep(P, [1])
    assert v.is_Rational and Fraction(int(v.p), int(v.q)) == Fraction(0.1)
