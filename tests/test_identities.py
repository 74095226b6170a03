"""Tests of symft.theory.identities: each statement on concrete networks, symbolic and numeric, plus
negative controls (a perturbed side must *not* agree), so the checks can fail.  On the two reference
graphs (residual MLP, small CNN): the chain-only identities refuse with the reason, and AP7 agrees
with first-order terms and crash enumerations written by hand (tests/reference_graphs.py)."""

from __future__ import annotations

import pathlib
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symft.errors import InvalidArgument
from symft.theory.identities import (IdentityResult, ac2, ap6, ap7, ap8, ap9, least_squares_network, p4_example, p6,
                              toy_first_input, toy_mean)
from symft.graph.netfile import load_network
from symft.graph.network import Network, NotAChain, random_network
from symft.engines.taylor import t1, t1_symbolic
from tests.reference_graphs import cnn_parts, params, pool_matrix, residual_forward, residual_parts

DATA = pathlib.Path(__file__).parent / "data"

p = sp.Symbol("p", nonnegative=True)


# ---------------------------------------------------------------------- AC2 = T1 (three ways)

@settings(deadline=None, max_examples=12, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.sampled_from(["tanh", "sigmoid", "softplus", "relu"]), st.integers(0, 1),
       st.sampled_from([0.01, 0.1, 0.3]))
def test_symbolic_t1_numeric_t1_and_ac2_weight_form_agree(seed, act, layer, q):
    net = random_network([2, 3, 2], seed=seed, activation=act)
    x = np.random.default_rng(seed).normal(size=2)
    r = ac2(net, x, layer, q)
    assert r.agree, r
    num = t1(net, x, {layer: q}, remainder=False)
    sym = t1_symbolic(net, list(x), {layer: q}, second_order=False).evalf()
    K = net.n_outputs
    weight_mean, weight_var_paper, weight_var = (np.array(r.lhs[:K]), np.array(r.lhs[K:2 * K]),
                                                 np.array(r.lhs[2 * K:]))
    for a, b in [(weight_mean, num.mean), (weight_mean, sym["mean"]), (num.mean, sym["mean"]),
                 (weight_var, num.var), (weight_var, sym["var"]), (weight_var_paper, sym["var_paper"])]:
        assert np.allclose(a, b, rtol=1e-12, atol=1e-15)


def test_ac2_symbolic_and_negative_control():
    net = random_network([2, 2, 1], seed=1, rational_denominator=8)
    r = ac2(net, ["1/2", "-1"], 0, p, symbolic=True)
    assert r.agree and all(d == 0 for d in r.difference)
    bad = IdentityResult("AC2", "", r.lhs, (r.rhs[0] * 2,) + r.rhs[1:], False, None, "")
    assert not bad.agree
    with pytest.raises(InvalidArgument, match="layer"):
        ac2(net, [1, 1], 2, 0.1)


# ---------------------------------------------------------------------- AP8

@pytest.mark.parametrize("layer", [1, 2, 3])
def test_ap8_symbolic_for_all_weights(layer):
    net = random_network([2, 2, 2, 1], seed=2, rational_denominator=4, activation="sigmoid")
    r = ap8(net, ["1/2", 1], layer=layer)
    assert r.agree and r.method == "symbolic"
    assert len(r.lhs) == net.widths[layer - 1]


@pytest.mark.parametrize("act", ["tanh", "relu"])
def test_ap8_numeric(act):
    net = random_network([3, 4, 2], seed=5, activation=act)
    x = np.array([0.7, -0.2, 0.4])
    for layer in (1, 2):
        r = ap8(net, x, layer=layer, output=1)
        assert r.agree, r


# ---------------------------------------------------------------------- AP7

def test_ap7_symbolic_and_second_order_gap():
    net = random_network([2, 2, 2, 1], seed=3)
    small = ap7(net, [0.5, 1.0], {0: 0.001, 2: 0.001})
    big = ap7(net, [0.5, 1.0], {0: 0.01, 2: 0.01})
    assert small.agree and big.agree
    gap_small = abs(dict(small.details)[next(iter(dict(small.details)))][0])
    gap_big = abs(dict(big.details)[next(iter(dict(big.details)))][0])
    # the exact joint − Σ single gap is second order: ×10 in p gives ≈ ×100 in the gap
    assert 50 < gap_big / gap_small < 150
    q0, q1 = sp.symbols("q0 q1", nonnegative=True)
    assert ap7(random_network([2, 2, 1], seed=0, rational_denominator=8), [1, 2], {0: q0, 1: q1}).agree
    with pytest.raises(InvalidArgument, match="two or more"):
        ap7(net, [1, 1], {0: 0.1})


# ---------------------------------------------------------------------- AP9

def test_ap9_symbolic_all_weights_and_numeric():
    net = random_network([2, 2, 1], seed=0, rational_denominator=4)
    assert ap9(net, [1, "1/2"], [1]).agree
    fnet = random_network([3, 4, 3, 2], seed=7)
    r = ap9(fnet, [0.5, -1.0, 0.2], [0.0, 1.0], 0.01)
    assert r.agree
    # independent left side: p Σ ∂L/∂ξ by central finite differences of an own forward pass with (1 − ξ)
    x = np.array([0.5, -1.0, 0.2])
    t = np.array([0.0, 1.0])

    def loss(xis):
        y = x * (1 - xis[0])
        for l in range(1, fnet.depth + 1):
            z = fnet.weights(l) @ y + fnet.bias(l)
            y = np.tanh(z) if l < fnet.depth else z
            if l < fnet.depth:
                y = y * (1 - xis[l])
        return 0.5 * ((y - t) ** 2).sum()

    zero = [np.zeros(w) for w in fnet.widths[:-1]]
    h, total = 1e-6, 0.0
    for l, w in enumerate(fnet.widths[:-1]):
        for i in range(w):
            up = [z.copy() for z in zero]
            dn = [z.copy() for z in zero]
            up[l][i], dn[l][i] = h, -h
            total += (loss(up) - loss(dn)) / (2 * h)
    assert r.lhs[0] == pytest.approx(0.01 * total, rel=1e-7)
    assert r.rhs[0] == pytest.approx(0.01 * total, rel=1e-7)


# ---------------------------------------------------------------------- P6

def test_p6_default_and_custom_data():
    r = p6()
    assert r.agree and r.lhs == (0,)
    grad = dict(r.details)["E_x ∇_W L"]
    assert all(v == 0 for v in grad)
    exact = dict(r.details)["exact E_x E_ξ Δ_{L+1}(p)"]
    assert exact.subs(p, 0) == 0 and sp.diff(exact, p).subs(p, 0) != 0   # O(p q), not zero
    X = [[1, 0], [0, 1], [1, 1], [2, 0], [0, 3]]
    Y = [[1, 2], [0, 1], [2, 2], [1, 0], [3, 3]]
    assert p6(least_squares_network(X, Y), X, Y).agree
    # negative control: a model that is not at a stationary point has a non-zero first-order mean
    net = Network.from_sympy([[[1, 1], [2, -1]]], [[0, 0]], ["linear"])
    assert not p6(net, X, Y).agree
    with pytest.raises(InvalidArgument, match="rank"):
        least_squares_network([[1, 1], [1, 1]], [[0], [1]])


# ---------------------------------------------------------------------- AP6, P4, toys

@pytest.mark.parametrize("n", [1, 2, 4])
def test_ap6_concrete_width(n):
    # by hand: Δ = −Σ ξ_j w_j x_j, E Δ = 0 (E w = 0), E Δ² = Σ_j E ξ_j E w_j² x_j² = p σ² Σ x_j²
    # (cross terms carry E w_j = 0), Var y = σ² Σ x_j²
    sigma = sp.Symbol("sigma", positive=True)
    xs = sp.symbols(f"x_0:{n}", real=True)
    r = ap6(n)
    assert r.agree and dict(r.details)["Var Δ / Var y"] == p
    assert sp.expand(r.lhs[0] - p * sigma ** 2 * sum(v ** 2 for v in xs)) == 0
    assert sp.expand(r.rhs[0] - p * sigma ** 2 * sum(v ** 2 for v in xs)) == 0


def test_ap6_symbolic_width_is_derived_not_written():
    # The symbolic-width result must come out of symft's own computation: (1) the hand derivation
    # above with a Sum, (2) the same as the concrete-width computation (which expands every cross
    # term of the width-k network) for k = 1 … 4, (3) the probability is threaded through.
    sigma = sp.Symbol("sigma", positive=True)
    n = sp.Symbol("n", positive=True, integer=True)
    i = sp.Symbol("i", integer=True)
    x = sp.IndexedBase("x")
    r = ap6()
    assert r.agree and dict(r.details)["Var Δ / Var y"] == p
    assert sp.simplify(r.lhs[0] - p * sigma ** 2 * sp.Sum(x[i] ** 2, (i, 1, n))) == 0
    assert sp.simplify(r.rhs[0] - p * sigma ** 2 * sp.Sum(x[i] ** 2, (i, 1, n))) == 0
    for k in range(1, 5):
        to_concrete = {x[j]: sp.Symbol(f"x_{j - 1}", real=True) for j in range(1, k + 1)}
        for side, conc in [(r.lhs[0], ap6(k).lhs[0]), (r.rhs[0], ap6(k).rhs[0])]:
            assert sp.expand(side.subs(n, k).doit().xreplace(to_concrete) - conc) == 0, (k, side, conc)
    q = sp.Rational(1, 3)
    rq = ap6(p=q)
    assert rq.agree and dict(rq.details)["Var Δ / Var y"] == q


def test_ap6_against_sampling():
    # symft's Var Δ and Var y (ap6 at a concrete width, evaluated at the sampled x, σ, p) against an
    # independent Monte Carlo over w ~ N(0, σ²) and ξ ~ Be(p): the two variances separately, so that
    # e.g. p(1−p) in place of p (a 20 % change at p = 0.2) is caught at the 2 % tolerance
    rng = np.random.default_rng(0)
    n, q, s, N = 5, 0.2, 1.5, 400_000
    x = rng.normal(size=n)
    w = s * rng.normal(size=(N, n))
    xi = rng.random((N, n)) < q
    delta = -(w * xi * x).sum(axis=1)
    y = (w * x).sum(axis=1)
    r = ap6(n)
    sub = {sp.Symbol("sigma", positive=True): s, p: q}
    sub.update({sp.Symbol(f"x_{j}", real=True): float(x[j]) for j in range(n)})
    var_delta_symft = float(r.lhs[0].subs(sub))
    var_y_symft = float(r.rhs[0].subs(sub)) / q
    assert delta.var() == pytest.approx(var_delta_symft, rel=0.02)
    assert y.var() == pytest.approx(var_y_symft, rel=0.02)
    assert delta.var() / y.var() == pytest.approx(float(dict(r.details)["Var Δ / Var y"].subs(p, q)), rel=0.02)


@pytest.mark.parametrize("n0", [1, 3, 6])
def test_p4_example(n0):
    r = p4_example(n0)
    assert r.agree
    assert p4_example(n0, activation="sigmoid").agree
    assert p4_example().agree


def test_toy_examples_closed_form():
    for n in (None, 1, 3, 7):
        r = toy_mean(n)
        assert r.agree, r
    n = sp.Symbol("n", positive=True, integer=True)
    assert toy_mean().lhs == (-p, p * (1 - p) / n)
    r = toy_first_input(4)
    x1 = sp.Symbol("x_1", real=True)
    assert r.agree and r.lhs[0] == -p * x1
    assert "E3" in str(r) and r"\text{agree}" in r.latex() and r._repr_latex_().startswith("$")


@pytest.mark.slow
@settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 100_000), st.sampled_from(["tanh", "sigmoid", "softplus", "relu", "hardtanh"]),
       st.lists(st.integers(1, 5), min_size=1, max_size=3), st.integers(1, 3))
def test_identities_on_random_nets_many(seed, act, hidden, n_out):
    widths = [3] + hidden + [n_out]
    net = random_network(widths, seed=seed, activation=act, weight_scale=1.5)
    x = np.random.default_rng(seed).normal(size=3)
    for l in range(1, net.depth + 1):
        assert ap8(net, x, layer=l, output=n_out - 1).agree
    for l in range(net.depth):
        assert ac2(net, x, l, 0.05).agree
    assert ap9(net, x, list(np.linspace(-1, 1, n_out)), 0.01).agree
    if net.depth <= 3 and sum(net.widths[:2]) <= 6 and act in ("tanh", "sigmoid", "softplus"):
        assert ap7(net, list(x), {0: 0.01, 1: 0.02}).agree


# ---------------------------------------------------------------------- graphs (residual MLP, small CNN)

GRAPHS = ["residual_mlp.json", "small_cnn.json"]


@pytest.mark.parametrize("name", GRAPHS)
def test_chain_identities_refuse_other_graphs_with_the_reason(name):
    net = load_network(DATA / name)
    x = np.zeros(net.n_inputs)
    t = [0] * net.n_outputs
    calls = {"AP8": lambda: ap8(net, x, layer=1), "AC2": lambda: ac2(net, x, 0, 0.1),
             "AP9": lambda: ap9(net, x, t, 0.1), "P6": lambda: p6(net, [list(x)], [t])}
    for what, call in calls.items():
        with pytest.raises(NotAChain, match=rf"^the network is not a chain of dense layers: .+; {what} \(") as e:
            call()
        assert "\n" not in str(e.value)
        assert ("'h1' feeds 2 nodes" if name == GRAPHS[0] else "'conv' (conv2d)") in str(e.value)


def _t1_by_hand(g, q):
    """First-order mean and variance per output from per-site sensitivities g[site] (n_out, n_site)."""
    mean = sum(q[s] * g[s].sum(axis=1) for s in g)
    var = sum(q[s] * (1 - q[s]) * (g[s] ** 2).sum(axis=1) for s in g)
    return mean, var


def test_ap7_on_the_residual_mlp_against_fractions_and_enumeration():
    # g_{s,i} = ∂y/∂ξ_{s,i} = −(∂y/∂s_i) s_i with ∂y/∂h2 = W3 and ∂y/∂h1 = W3 (I + D2 W2) (the skip), exactly
    net = load_network(DATA / "residual_mlp.json")
    x = ["1/2", "-1/4", "3/4", 1]
    ref = residual_parts(np.array([Fraction(v) for v in x], dtype=object), exact=True)
    P = params("residual_mlp.json", exact=True)
    W2, W3 = P["d2"]["weight"], P["out"]["weight"]
    assert all(v != 0 for v in list(ref["z1"]) + list(ref["z2"]))
    D2 = np.diag([Fraction(int(v > 0)) for v in ref["z2"]])
    dh1 = W3 + W3.dot(D2).dot(W2)
    g = {"h1": -dh1 * ref["h1"][None, :], "h2": -W3 * ref["h2"][None, :]}
    q1, q2 = sp.symbols("q1 q2", nonnegative=True)
    mean, var = _t1_by_hand({s: np.vectorize(sp.Rational, otypes=[object])(v) for s, v in g.items()},
                            {"h1": q1, "h2": q2})
    r = ap7(net, x, {"h1": q1, "h2": q2})
    assert r.agree
    for side in (r.lhs, r.rhs):
        assert all(sp.expand(a - b) == 0 for a, b in zip(side, tuple(mean) + tuple(var)))
    # the exact second-order gap, against an enumeration of the 2^12 crash sets written here
    p1, p2 = 0.1, 0.05
    gap = dict(ap7(net, x, {"h1": p1, "h2": p2}).details)
    gap = np.array(next(iter(gap.values())))
    X = np.array([[float(Fraction(v)) for v in x]])
    pats = ((np.arange(2 ** 12)[:, None] >> np.arange(12)) & 1).astype(bool)
    w = np.where(pats, np.r_[[p1] * 6, [p2] * 6], 1 - np.r_[[p1] * 6, [p2] * 6]).prod(axis=1)
    y0 = residual_forward(X)[0]

    def mean_err(m1, m2, wts):
        return wts @ (residual_forward(np.repeat(X, len(wts), 0), crash={"h1": 1 - m1, "h2": 1 - m2}) - y0)

    joint = mean_err(pats[:, :6], pats[:, 6:], w)
    s1 = pats[:64, :6]
    single1 = mean_err(s1, np.zeros_like(s1), np.where(s1, p1, 1 - p1).prod(axis=1))
    single2 = mean_err(np.zeros_like(s1), s1, np.where(s1, p2, 1 - p2).prod(axis=1))
    assert np.allclose(gap, joint - single1 - single2, rtol=1e-10, atol=1e-15)
    assert np.abs(gap).max() > 1e-4                      # a real second-order effect, not 0 by construction


def test_ap7_on_the_small_cnn_against_numpy():
    # crashes at the conv site r (18 neurons, through average pooling) and at the tanh site t:
    # ∂y/∂t = W_out, ∂y/∂r = W_out diag(tanh'(a)) W_fc1 A (A the pooling matrix), written here
    net = load_network(DATA / "small_cnn.json")
    P = params("small_cnn.json")
    x = np.random.default_rng(1).normal(size=25)
    ref = cnn_parts(x[None])
    dt = P["out"]["weight"]
    dr = dt @ np.diag(1 - np.tanh(ref["a"][0]) ** 2) @ P["fc1"]["weight"] @ pool_matrix()
    g = {"r": -dr * ref["r"][0][None, :], "t": -dt * ref["t"][0][None, :]}
    q = {"r": 0.01, "t": 0.02}
    mean, var = _t1_by_hand(g, q)
    r = ap7(net, x, q)
    assert r.agree
    assert np.allclose([float(v) for v in r.lhs], np.r_[mean, var], rtol=1e-9, atol=1e-15)
    assert np.allclose([float(v) for v in r.rhs], np.r_[mean, var], rtol=1e-9, atol=1e-15)
    # t and the output (9 neurons): the exact gap against an enumeration written here
    q = {"t": 0.1, "out": 0.2}
    r = ap7(net, x, q)
    gap = np.array(next(iter(dict(r.details).values())))
    pats = ((np.arange(2 ** 9)[:, None] >> np.arange(9)) & 1).astype(bool)
    pv = np.r_[[q["t"]] * 6, [q["out"]] * 3]
    y0 = ref["y"][0]
    X = np.repeat(x[None], len(pats), 0)

    def err(mt, mo):
        return cnn_parts(X, crash={"t": 1 - mt, "out": 1 - mo})["y"] - y0

    none6, none3 = np.zeros((len(pats), 6), bool), np.zeros((len(pats), 3), bool)
    joint = np.where(pats, pv, 1 - pv).prod(axis=1) @ err(pats[:, :6], pats[:, 6:])
    only_t = np.where(pats[:, :6], q["t"], 1 - q["t"]).prod(axis=1) * (~pats[:, 6:]).all(axis=1)
    only_o = np.where(pats[:, 6:], q["out"], 1 - q["out"]).prod(axis=1) * (~pats[:, :6]).all(axis=1)
    singles = only_t @ err(pats[:, :6], none3) + only_o @ err(none6, pats[:, 6:])
    assert np.allclose(gap, joint - singles, rtol=1e-10, atol=1e-15)
    assert np.abs(gap).max() > 1e-4
