"""Tests of symft.engines.taylor: symbolic expansion, T1 (both forms), remainder bounds, numeric T1, CLI.

Cross-checks (STYLE lesson 9): symbolic T1 vs numeric T1 vs the AC2 weight form; T1 and its
remainder vs exact enumeration (symft.engines.enumeration where it exists, and an independent brute force
over crash masks with forward_masked written here); `symft taylor --json` vs an independent
backprop written in this file.
"""

from __future__ import annotations

import io
import itertools
import json
import math
import os
from contextlib import redirect_stdout

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symft.cli import main
from symft.errors import FaultModelError, InvalidArgument, TooLargeError
from symft.faults import NeuronCrash
from symft.engines.forward import forward_masked, forward_trace
from symft.graph.network import Network, first_input_network, mean_network, random_network
from symft.engines.taylor import (bernoulli_moments, derive, expansion_size, remainder_bound, t1, t1_symbolic,
                          taylor_expand)

DATA = os.path.join(os.path.dirname(__file__), "data")
p = sp.Symbol("p")


# ---------------------------------------------------------------------- brute force (independent)

def brute_moments(net, x, probs):
    """Exact E Δ and Var Δ by enumerating every crash mask (forward_masked), float64."""
    layers = sorted(probs)
    widths = [net.widths[l] for l in layers]
    n = sum(widths)
    pats = np.array(list(itertools.product([False, True], repeat=n)), dtype=bool)
    masks, o = {}, 0
    for l, w in zip(layers, widths):
        masks[l] = pats[:, o:o + w]
        o += w
    out = forward_masked(net, np.asarray(x, float), masks)
    y0 = forward_trace(net, np.asarray(x, float)[None]).output[0]
    pv = np.concatenate([[probs[l]] * w for l, w in zip(layers, widths)])
    weight = np.prod(np.where(pats, pv, 1 - pv), axis=1)
    d = out - y0
    m = weight @ d
    return m, weight @ (d - m) ** 2


def my_backprop_t1(W, b, acts, x, probs):
    """Independent T1: own forward pass and own reverse-mode loop over layers (no symft code)."""
    f = {"tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
         "sigmoid": (lambda z: 1 / (1 + np.exp(-z)), lambda z: np.exp(-z) / (1 + np.exp(-z)) ** 2),
         "linear": (lambda z: z, lambda z: np.ones_like(z))}
    ys, zs = [np.asarray(x, float)], [None]
    for Wl, bl, a in zip(W, b, acts):
        z = np.asarray(Wl) @ ys[-1] + np.asarray(bl)
        zs.append(z)
        ys.append(f[a][0](z))
    L = len(W)
    K = len(ys[-1])
    mean = np.zeros(K)
    var = np.zeros(K)
    var_paper = np.zeros(K)
    for k in range(K):
        # reverse sweep for output k: dy_k/dy_l for every l
        grad = np.zeros(K)
        grad[k] = 1.0
        dys = {L: grad}
        for l in range(L, 0, -1):
            dz = dys[l] * f[acts[l - 1]][1](zs[l])
            dys[l - 1] = np.asarray(W[l - 1]).T @ dz
        for l, q in probs.items():
            g = -dys[l] * ys[l]
            mean[k] += q * g.sum()
            var[k] += q * (1 - q) * (g ** 2).sum()
            var_paper[k] += q * (g ** 2).sum()
    return mean, var, var_paper


def run_cli(argv):
    buf = io.StringIO()
    with redirect_stdout(buf):
        code = main(argv)
    return code, buf.getvalue()


# ---------------------------------------------------------------------- toy examples (theory §4)

@pytest.mark.parametrize("n", [1, 2, 3, 5, 8])
def test_mean_network_symbolic(n):
    # y = Σ x_i / n at x ≡ 1: Δ = −Σ ξ_i / n exactly, so E Δ = −p and Var Δ = p(1 − p)/n (hand-derived).
    net = mean_network(n)
    r = t1_symbolic(net, [1] * n, {0: p})
    assert sp.simplify(r.mean[0] + p) == 0
    assert sp.simplify(r.var[0] - p * (1 - p) / n) == 0
    assert sp.simplify(r.var_paper[0] - p / n) == 0          # the paper's form (E4)
    assert r.exact
    # second order changes nothing for a linear function
    assert sp.simplify(r.mean2[0] + p) == 0 and sp.simplify(r.var2[0] - p * (1 - p) / n) == 0
    e = taylor_expand(net, [1] * n, [0], order=3)
    m = bernoulli_moments(e, {0: p})
    assert sp.simplify(m.mean[0] + p) == 0 and sp.simplify(m.var[0] - p * (1 - p) / n) == 0


def test_first_input_network_erratum_e3():
    # y = x_1: Δ = −ξ_1 x_1, so E Δ = −p x_1 (E3: the paper prints p), Var Δ = p(1−p) x_1², no decay in n.
    for n in (2, 5):
        r = t1_symbolic(first_input_network(n), None, {0: p})
        x0 = sp.Symbol("x_0", real=True)
        assert sp.simplify(r.mean[0] + p * x0) == 0
        assert sp.simplify(r.var[0] - p * (1 - p) * x0 ** 2) == 0


def test_erratum_e4_var_vs_var_paper_against_brute_force():
    # For a linear net the first-order expansion is exact, so the exact variance is `var`, not `var_paper`.
    net = mean_network(3)
    r = t1(net, np.array([1.0, 2.0, -1.0]), {0: 0.3})
    _, v = brute_moments(net, [1.0, 2.0, -1.0], {0: 0.3})
    assert r.var[0] == pytest.approx(v[0], rel=1e-12)
    assert abs(r.var_paper[0] - v[0]) > 0.1 * v[0]        # the printed form is off by the factor 1/(1−p)
    assert r.var_paper[0] == pytest.approx(v[0] / 0.7, rel=1e-12)


# ---------------------------------------------------------------------- symbolic = numeric

@pytest.mark.parametrize("act", ["tanh", "sigmoid", "softplus"])
@pytest.mark.parametrize("layers", [(0,), (1,), (0, 1)])
def test_symbolic_t1_equals_numeric_t1(act, layers):
    net = random_network([2, 3, 2], seed=11, activation=act)
    x = np.array([0.4, -0.9])
    probs = {l: 0.01 * (l + 1) for l in layers}
    num = t1(net, x, probs, remainder=False)
    sym = t1_symbolic(net, list(x), probs, second_order=False).evalf()
    for key in ("mean", "var", "var_paper"):
        assert np.allclose(sym[key], getattr(num, key), rtol=1e-12, atol=1e-14), key


def test_symbolic_t1_exact_weights_matches_numeric():
    net = random_network([2, 3, 1], seed=5, rational_denominator=16)
    x = ["1/2", "-3/4"]
    sym = t1_symbolic(net, x, {0: p, 1: p})
    val = sym.evalf({p: 0.05})
    num = t1(net, np.array([0.5, -0.75]), {0: 0.05, 1: 0.05}, remainder=False)
    assert np.allclose(val["mean"], num.mean, rtol=1e-12, atol=1e-15)
    assert np.allclose(val["var"], num.var, rtol=1e-12, atol=1e-15)


def test_symbolic_weights_derivation():
    # y = w1 x1 + w2 x2 (hand): Δ = −w1 x1 ξ1 − w2 x2 ξ2; E Δ = −p(w1 x1 + w2 x2).
    w1, w2 = sp.symbols("w1 w2", real=True)
    net = Network.from_sympy([[[w1, w2]]], activations=["linear"])
    r = t1_symbolic(net, [2, 3], {0: p})
    assert sp.simplify(r.mean[0] + p * (2 * w1 + 3 * w2)) == 0
    assert sp.simplify(r.var[0] - p * (1 - p) * (4 * w1 ** 2 + 9 * w2 ** 2)) == 0


def test_second_order_moments_against_brute_force_on_quadratic():
    # Two linear layers with crashes at both: y = (1−ξc)(2(1−ξa) + 3(1−ξb)) has degree 2 in ξ,
    # so the order-2 moments are exact: E Δ = 5(1−p)² − 5 (hand), checked against enumeration.
    net = Network.from_sympy([[[2, 3]], [[1]]], activations=["linear", "linear"])
    e = taylor_expand(net, [1, 1], [0, 1], order=2)
    assert e.exact
    m = bernoulli_moments(e, {0: p, 1: p})
    assert sp.simplify(m.mean[0] - (5 * (1 - p) ** 2 - 5)) == 0
    bm, bv = brute_moments(net, [1, 1], {0: 0.2, 1: 0.2})
    assert float(m.mean[0].subs(p, 0.2)) == pytest.approx(bm[0], rel=1e-12)
    assert float(m.var[0].subs(p, 0.2)) == pytest.approx(bv[0], rel=1e-12)


# ---------------------------------------------------------------------- T1 vs exact (Hypothesis)

def _exact_linear_coefficient(net, x, layer):
    """p × this = T1 mean when everything after `layer` is linear. symft.engines.enumeration if present, else brute force."""
    try:
        from symft.engines.enumeration import mean_polynomial
    except ImportError:  # pragma: no cover - issue 3 not merged
        mean_polynomial = None
    if mean_polynomial is not None:
        ep = mean_polynomial(net, list(x), layer)
        return np.array([float(ep.linear_term(k)) for k in range(net.n_outputs)])
    # independent: Σ_i Δ(e_i) (single-crash sum) by forward_masked
    n = net.widths[layer]
    out = forward_masked(net, np.asarray(x, float), {layer: np.eye(n, dtype=bool)})
    y0 = forward_trace(net, np.asarray(x, float)[None]).output[0]
    return (out - y0).sum(axis=0)


nets = st.tuples(st.integers(0, 10_000), st.sampled_from(["tanh", "sigmoid", "softplus"]),
                 st.lists(st.integers(1, 3), min_size=1, max_size=2), st.integers(1, 2))


@settings(deadline=None, max_examples=15, suppress_health_check=[HealthCheck.too_slow])
@given(nets, st.sampled_from([0.01, 0.05, 0.2]))
def test_t1_mean_is_linear_coefficient_when_linear_after_crash(spec, q):
    seed, act, hidden, n_out = spec
    widths = [2] + hidden + [n_out]
    net = random_network(widths, seed=seed, activation=act)
    x = np.random.default_rng(seed).normal(size=2)
    layer = net.depth - 1           # only the linear output layer follows the crashed layer
    r = t1(net, x, {layer: q})
    lin = _exact_linear_coefficient(net, x, layer)
    assert np.allclose(r.mean, q * lin, rtol=1e-9, atol=1e-12)
    m, v = brute_moments(net, x, {layer: q})
    assert np.allclose(r.mean, m, rtol=1e-9, atol=1e-12)       # exact: Δ is linear in ξ
    assert np.allclose(r.var, v, rtol=1e-9, atol=1e-12)        # exact first-order variance (E4)


@settings(deadline=None, max_examples=20, suppress_health_check=[HealthCheck.too_slow])
@given(nets, st.sampled_from([0.01, 0.05, 0.2, 0.5]), st.booleans())
def test_t1_within_remainder_bound_of_exact(spec, q, two_layers):
    seed, act, hidden, n_out = spec
    widths = [2] + hidden + [n_out]
    net = random_network(widths, seed=seed, activation=act, weight_scale=2.0)
    x = np.random.default_rng(seed + 1).normal(size=2) * 2
    probs = {0: q, 1: q / 2} if two_layers and net.depth > 2 else {0: q}
    r = t1(net, x, probs, remainder=True)
    m, v = brute_moments(net, x, probs)
    slack = 1e-12 * (1 + np.abs(m))
    assert np.all(np.abs(m - r.mean) <= r.remainder_mean + slack)
    assert np.all(np.abs(v - r.var) <= r.remainder_var + slack)
    if len(probs) == 1:
        # also the exact polynomial's value from symft.engines.enumeration, when available
        try:
            from symft.engines.enumeration import mean_polynomial
        except ImportError:  # pragma: no cover
            return
        ep = mean_polynomial(net, list(x), 0)
        exact_mean = np.array([float(e.subs(ep.symbols[0], q)) for e in ep.exprs])
        assert np.all(np.abs(exact_mean - r.mean) <= r.remainder_mean + 1e-9 * (1 + np.abs(exact_mean)))


def test_remainder_scales_like_p_squared_and_paper_form_holds():
    net = random_network([3, 6, 1], seed=3)
    x = np.array([0.3, -0.2, 0.8])
    b1 = remainder_bound(net, x, {0: 1e-3}).mean_bound[0]
    b2 = remainder_bound(net, x, {0: 2e-3}).mean_bound[0]
    assert b1 > 0
    # ½(p Σ M_aa + p² Σ_{a≠b} M_ab): doubling p at most quadruples, at least doubles it
    assert 2 * b1 * (1 - 1e-12) <= b2 <= 4 * b1 * (1 + 1e-12)
    rb = remainder_bound(net, x, {0: 1e-3})
    assert rb.paper_mean_bound[0] >= rb.mean_bound[0]
    assert rb.D2_scaled[0] == pytest.approx(9 * rb.D2[0], rel=1e-12)
    assert rb.D1_scaled[0] == pytest.approx(3 * rb.D1[0], rel=1e-12)


def test_remainder_formulas_dominate_numeric_bounds():
    from symft.engines.taylor import remainder_formulas

    net = random_network([5, 6, 1], seed=4)
    x = np.array([0.3, -0.2, 0.8, 1.0, -1.5])
    for q in (1e-3, 0.05, 0.4):
        rb = remainder_bound(net, x, {0: q})
        f = remainder_formulas(q, 5, float(rb.D1_scaled[0]), float(rb.D2_scaled[0]))
        assert float(f["mean"]) >= rb.mean_bound[0] * (1 - 1e-12)
        assert float(f["var"]) >= rb.var_bound[0] * (1 - 1e-12)
        assert float(f["mean_paper"]) >= float(f["mean"])


def test_relu_remainder_unavailable_or_exact():
    net = Network.from_numpy([[[1.0, -1.0], [0.5, 0.5]], [[1.0, 2.0]]], activations=["relu", "linear"])
    r = t1(net, np.array([1.0, 0.5]), {0: 0.1})      # hidden unit 0 has z = 0.5 and crosses 0 when x_0 crashes
    assert r.remainder_mean is None and "kink" in r.remainder_note
    r2 = t1(net, np.array([3.0, 1.0]), {1: 0.1})      # crash after the relus: Δ linear in ξ, remainder 0
    assert remainder_bound(net, np.array([3.0, 1.0]), {1: 0.1}).mean_bound[0] < 1e-300
    # t1's bound is on |E Δ − r2.mean| for the float mean: the Taylor part (0) plus the proved rounding error
    # of the float passes, a few ulps here; by hand y_1 = (2, 2), g = −(1·2, 2·2), E Δ = 0.1 · (−6) = −3/5
    assert r2.remainder_mean is not None and r2.rounding_mean[0] <= r2.remainder_mean[0] < 1e-14
    from fractions import Fraction
    assert abs(Fraction(r2.mean[0]) + Fraction(3, 5)) <= Fraction(r2.remainder_mean[0])
    with pytest.raises(Exception):
        t1(net, np.array([1.0, 0.5]), {0: 0.1}, remainder=True)


# ---------------------------------------------------------------------- AP7 and batches

def test_ap7_superposition_numeric():
    net = random_network([3, 4, 4, 2], seed=8)
    X = np.random.default_rng(0).normal(size=(4, 3))
    probs = {0: 0.01, 1: 0.02, 2: 0.03}
    joint = t1(net, X, probs, remainder=False)
    parts = [t1(net, X, {l: q}, remainder=False) for l, q in probs.items()]
    for key in ("mean", "var", "var_paper"):
        assert np.allclose(getattr(joint, key), sum(getattr(r, key) for r in parts), rtol=1e-13, atol=1e-16)
    assert joint.mean.shape == (4, 2)


def test_incoming_zeroed_semantics_matches_brute_force_linear_tail():
    net = random_network([2, 3, 1], seed=4, activation="sigmoid")
    x = np.array([0.2, 0.7])
    r = t1(net, x, {1: 0.1}, semantics="incoming_zeroed")
    # brute force with the same semantics: crashed neuron outputs σ(b)
    pats = np.array(list(itertools.product([False, True], repeat=3)))
    out = forward_masked(net, x, {1: pats}, semantics="incoming_zeroed")
    y0 = forward_trace(net, x[None]).output[0]
    w = np.prod(np.where(pats, 0.1, 0.9), axis=1)
    assert r.mean[0] == pytest.approx(w @ (out - y0)[:, 0], rel=1e-12)


def test_reverse_sweep_matches_forward_backward():
    # the sensitivities t1 reports come from the same reverse sweep as forward.backward: g_l = J_l · (−y_l)
    from symft.engines.forward import backward

    net = random_network([3, 5, 4, 2], seed=9, activation="sigmoid")
    X = np.random.default_rng(1).normal(size=(6, 3))
    J = backward(net, X)
    ys = forward_trace(net, X).ys
    r = t1(net, X, {l: 0.1 for l in range(net.depth + 1)}, remainder=False)
    for l in range(net.depth + 1):
        assert np.allclose(r.gradients[l], J[l] * -ys[l][:, None, :], rtol=1e-14, atol=1e-16)


def test_neuron_crash_model_accepted():
    net = random_network([2, 3, 1], seed=0)
    r = t1(net, np.ones(2), NeuronCrash({1: 0.1}))
    assert r.p == ((1, 0.1),)


# ---------------------------------------------------------------------- guard rails and errors

def test_too_large_refused_with_estimate_and_alternative():
    net = random_network([40, 40, 1], seed=0)
    with pytest.raises(TooLargeError, match="symft taylor"):
        taylor_expand(net, None, [0], order=3)
    assert expansion_size(net, [0], 3)["terms"] == math.comb(43, 3)


def test_bad_arguments():
    net = mean_network(2)
    with pytest.raises(InvalidArgument, match="order"):
        taylor_expand(net, None, [0], order=0)
    with pytest.raises(FaultModelError, match="layer 5"):
        t1(net, np.ones(2), {5: 0.1})
    with pytest.raises(FaultModelError, match="symbolic"):
        t1(net, np.ones(2), {0: p})
    with pytest.raises(FaultModelError, match="probability"):
        t1(net, np.ones(2), {0: 1.5})
    with pytest.raises(InvalidArgument, match="input"):
        t1(net, np.ones(3), {0: 0.1})


def test_rendering():
    r = t1_symbolic(mean_network(2), [1, 1], {0: p})
    assert "E4" in r.latex() and "printed" in str(r)
    assert r._repr_latex_().startswith("$")
    d = derive(mean_network(2), {0: p}, x=[1, 1], order=1)
    assert "Theorem 1" in str(d) and r"\xi" in d.latex()
    n = t1(random_network([2, 2, 1], seed=0), np.ones(2), {0: 0.1})
    assert "±" in str(n) and r"\pm" in n.latex()


# ---------------------------------------------------------------------- CLI

def _reference_net():
    with open(os.path.join(DATA, "t1_reference_net.json")) as fh:
        d = json.load(fh)
    W = [lay["weights"] for lay in d["layers"]]
    b = [lay["bias"] for lay in d["layers"]]
    acts = [lay["activation"] for lay in d["layers"]]
    return W, b, acts


def test_cli_taylor_json_matches_independent_backprop():
    W, b, acts = _reference_net()
    probs = {0: 0.01, 1: 0.02, 2: 0.03}
    path = os.path.join(DATA, "t1_reference_net.json")
    X = [[0.5, -1.0, 2.0], [0.0, 0.3, -0.7]]
    code, out = run_cli(["taylor", path, "--input", "0.5,-1,2", "--p", "0:0.01,1:0.02,2:0.03", "--json"])
    assert code == 0
    res = json.loads(out)
    mean, var, var_paper = my_backprop_t1(W, b, acts, X[0], probs)
    assert np.allclose(res["mean"], mean, rtol=1e-9, atol=0)
    assert np.allclose(res["var"], var, rtol=1e-9, atol=0)
    assert np.allclose(res["var_paper"], var_paper, rtol=1e-9, atol=0)
    assert np.allclose(res["std"], np.sqrt(var), rtol=1e-9)
    assert len(res["remainder_mean"]) == 2 and len(res["remainder_var"]) == 2
    # the bounds hold against brute force of the same net
    from symft.graph.netfile import load_network

    m, v = brute_moments(load_network(path), X[0], probs)
    assert np.all(np.abs(m - res["mean"]) <= np.array(res["remainder_mean"]) + 1e-12)
    assert np.all(np.abs(v - res["var"]) <= np.array(res["remainder_var"]) + 1e-12)


@pytest.mark.skipif(not os.path.exists(os.path.join(DATA, "foreign_tanh.json")),
                    reason="tests/data/foreign_tanh.json (written by the issue-3 helper) not present")
def test_cli_taylor_on_net_written_by_someone_else():
    path = os.path.join(DATA, "foreign_tanh.json")
    with open(path) as fh:
        d = json.load(fh)
    W = [lay["weights"] for lay in d["layers"]]
    b = [lay["bias"] for lay in d["layers"]]
    acts = [lay["activation"] for lay in d["layers"]]
    x = [0.7, -0.4, 1.3]
    probs = {0: 0.002, 1: 0.01, 2: 0.05}
    code, out = run_cli(["taylor", path, "--input", ",".join(map(str, x)), "--p",
                         ",".join(f"{l}:{q}" for l, q in probs.items()), "--json"])
    assert code == 0
    res = json.loads(out)
    mean, var, var_paper = my_backprop_t1(W, b, acts, x, probs)
    assert np.allclose(res["mean"], mean, rtol=1e-9, atol=0)
    assert np.allclose(res["var"], var, rtol=1e-9, atol=0)
    assert np.allclose(res["var_paper"], var_paper, rtol=1e-9, atol=0)


def test_cli_taylor_batch_and_finite_differences(tmp_path):
    W, b, acts = _reference_net()
    path = os.path.join(DATA, "t1_reference_net.json")
    inp = tmp_path / "x.json"
    X = [[0.5, -1.0, 2.0], [0.0, 0.3, -0.7]]
    inp.write_text(json.dumps(X))
    code, out = run_cli(["taylor", path, "--input", f"@{inp}", "--p", "1:0.05", "--json"])
    assert code == 0
    res = json.loads(out)
    assert np.shape(res["mean"]) == (2, 2)

    # finite differences in ξ on our own forward pass (central, h = 1e-5)
    def y(x, xi):
        v = np.asarray(x, float)
        for l, (Wl, bl, a) in enumerate(zip(W, b, acts), start=1):
            z = np.asarray(Wl) @ v + np.asarray(bl)
            v = {"tanh": np.tanh, "sigmoid": lambda t: 1 / (1 + np.exp(-t)), "linear": lambda t: t}[a](z)
            if l == 1:
                v = (1 - xi) * v
        return v

    for bi, x in enumerate(X):
        h = 1e-5
        g = np.array([(y(x, h * e) - y(x, -h * e)) / (2 * h) for e in np.eye(4)]).T  # (2, 4)
        assert np.allclose(res["mean"][bi], 0.05 * g.sum(axis=1), rtol=1e-7)
        assert np.allclose(res["var"][bi], 0.05 * 0.95 * (g ** 2).sum(axis=1), rtol=1e-7)


def test_cli_derive_text_latex_json():
    path = os.path.join(os.path.dirname(__file__), "..", "examples", "mean_of_inputs.json")
    code, out = run_cli(["derive", path, "--p", "0:p", "--input", "1,1,1,1", "--order", "1"])
    assert code == 0 and "E Δ_0 = -p" in out and "p*(1 - p)/4" in out
    code, out = run_cli(["derive", path, "--p", "0:p", "--latex"])
    assert code == 0 and r"\xi" in out
    code, out = run_cli(["derive", path, "--p", "0:p", "--input", "1,1,1,1", "--json"])
    d = json.loads(out)
    assert d["t1_mean"] == [None] and d["t1_mean_exact"] == ["-p"] and d["exact"] is True


def test_cli_errors(capsys, tmp_path):
    path = os.path.join(DATA, "t1_reference_net.json")
    assert main(["taylor", path, "--input", "1,2", "--p", "0:0.1"]) == 2
    assert "expected 3 numbers" in capsys.readouterr().err
    assert main(["taylor", path, "--input", "1,2,3", "--p", "0:p"]) == 2
    from symft.graph.netfile import save_network

    tmp = str(tmp_path / "big.json")
    save_network(random_network([60, 60, 1], seed=0), tmp)
    assert main(["derive", tmp, "--p", "0:p", "--order", "3"]) == 2
    assert "symft taylor" in capsys.readouterr().err


@pytest.mark.slow
@settings(deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 100_000), st.sampled_from(["tanh", "sigmoid", "softplus", "2*tanh"]),
       st.lists(st.integers(1, 4), min_size=1, max_size=3), st.sampled_from([0.001, 0.05, 0.3, 0.9]),
       st.sets(st.integers(0, 3), min_size=1, max_size=3), st.sampled_from(["output_zero", "incoming_zeroed"]))
def test_t1_remainder_bound_holds_many(seed, act, hidden, q, layer_set, semantics):
    widths = [3] + hidden + [2]
    net = random_network(widths, seed=seed, activation=act, weight_scale=2.5, bias_scale=1.0)
    layers = sorted(l for l in layer_set if l < net.depth)
    if not layers or sum(net.widths[l] for l in layers) > 12:
        return
    x = np.random.default_rng(seed).normal(size=3) * 2
    probs = {l: q for l in layers}
    r = t1(net, x, probs, semantics=semantics, remainder=True)
    # brute force with the same semantics
    widths_l = [net.widths[l] for l in layers]
    pats = np.array(list(itertools.product([False, True], repeat=sum(widths_l))), dtype=bool)
    masks, o = {}, 0
    for l, w in zip(layers, widths_l):
        masks[l] = pats[:, o:o + w]
        o += w
    out = forward_masked(net, x, masks, semantics=semantics)
    y0 = forward_trace(net, x[None]).output[0]
    wts = np.prod(np.where(pats, q, 1 - q), axis=1)
    d = out - y0
    m = wts @ d
    v = wts @ (d - m) ** 2
    slack = 1e-11 * (1 + np.abs(m))
    assert np.all(np.abs(m - r.mean) <= r.remainder_mean + slack)
    assert np.all(np.abs(v - r.var) <= r.remainder_var + slack)


def test_degree_test_agrees_with_poly_including_cancellations():
    # the structural degree bounds the true one from above; where it says more than k, Poly decides
    from fractions import Fraction

    from symft.engines.taylor import _is_polynomial_of_degree

    a, b = sp.symbols("xi_a xi_b")
    c = sp.exp(sp.Rational(Fraction(-0.1)))                     # exp of a binary rational, as in float nets
    exprs = [c * a + 3, c * a * b + a, (a + 1) ** 2 - a ** 2, (a + c) ** 3 - a ** 3 - 3 * c * a ** 2,
             sp.tanh(a) + 1, a * sp.exp(b), c ** 2 * (a - b) * (a + b) + b ** 2 * c ** 2, sp.Integer(5)]
    for e in exprs:
        for k in (0, 1, 2, 3):
            try:
                truth = e.is_polynomial(a, b) and sp.Poly(e, a, b).total_degree() <= k
            except sp.PolynomialError:
                truth = False
            assert _is_polynomial_of_degree(e, (a, b), k) == truth, (e, k)
