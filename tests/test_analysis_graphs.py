"""Monte Carlo, the moments chooser, the check and certificates on graphs that are not chains.

The two reference graphs (``tests/data/residual_mlp.json``: dense → relu → dense → relu → add skip →
dense, exact dyadic weights; ``tests/data/small_cnn.json``: conv 3×3 → relu → avg-pool → flatten → dense
→ tanh → dense, float weights) are evaluated here by brute forces written in this file — Fractions for the
residual MLP, NumPy slicing for the CNN — reading the weights straight from the JSON files, over every
crash configuration of a small site.  Nothing of symft's evaluation is shared.
"""

from __future__ import annotations

import itertools
import json
import math
import pathlib
from fractions import Fraction

import numpy as np
import pytest

import symft.engines.enclosure
import symft.engines.enumeration
import symft.engines.moments
from symft.analysis.certify import certify, p3_delta0
from symft.analysis.report import check
from symft.engines.moments import Moments, NoSourceError, float_rounding, moments
from symft.engines.sampling import crash_probability, monte_carlo
from symft.errors import TooLargeError
from symft.faults import NeuronCrash, SynapseCrash
from symft.graph.netfile import load_network
from symft.graph.network import Network, NotAChain, mean_network
from symft.problem import make_problem

DATA = pathlib.Path(__file__).parent / "data"
RES = load_network(DATA / "residual_mlp.json")
CNN = load_network(DATA / "small_cnn.json")
RJ = {n["name"]: n for n in json.loads((DATA / "residual_mlp.json").read_text())["nodes"]}
CJ = {n["name"]: n for n in json.loads((DATA / "small_cnn.json").read_text())["nodes"]}
F = Fraction


# ---------------------------------------------------------------------- residual MLP in Fractions

def res_forward(x, crash, out_syn=frozenset()):
    """Outputs (Fractions); ``crash`` = {site: crashed indices} (crashed neurons output 0);
    ``out_syn`` = zeroed (i, j) weights of the output dense op."""
    def mat(name):
        return [[F(v) for v in row] for row in RJ[name]["weight"]], [F(v) for v in RJ[name]["bias"]]

    (W1, b1), (W2, b2), (W3, b3) = mat("d1"), mat("d2"), mat("out")
    x = [F(0) if i in crash.get("x", ()) else v for i, v in enumerate(x)]
    h1 = [max(F(0), sum(w * v for w, v in zip(row, x)) + b) for row, b in zip(W1, b1)]
    h1 = [F(0) if i in crash.get("h1", ()) else v for i, v in enumerate(h1)]
    h2 = [max(F(0), sum(w * v for w, v in zip(row, h1)) + b) for row, b in zip(W2, b2)]
    h2 = [F(0) if i in crash.get("h2", ()) else v for i, v in enumerate(h2)]
    r = [a + c for a, c in zip(h1, h2)]
    out = [sum((F(0) if (i, j) in out_syn else w) * v for j, (w, v) in enumerate(zip(row, r))) + b
           for i, (row, b) in enumerate(zip(W3, b3))]
    return [F(0) if i in crash.get("out", ()) else v for i, v in enumerate(out)]


RES_SIZES = {"x": 4, "h1": 6, "h2": 6, "out": 2}
X_RES = [F(1, 2), F(-1), F(3, 4), F(1, 8)]


def res_law(x, probs):
    """[(probability, Δ)] over every crash set of the sites in ``probs`` ({site: Fraction})."""
    clean = res_forward(x, {})
    units = [(s, i) for s in probs for i in range(RES_SIZES[s])]
    law = []
    for bits in itertools.product((0, 1), repeat=len(units)):
        crash, w = {}, F(1)
        for (s, i), b in zip(units, bits):
            w *= probs[s] if b else 1 - probs[s]
            if b:
                crash.setdefault(s, set()).add(i)
        law.append((w, [a - c for a, c in zip(res_forward(x, crash), clean)]))
    return law


def law_moments(law, k):
    m = sum((w * d[k] for w, d in law), F(0))
    return m, sum((w * (d[k] - m) ** 2 for w, d in law), F(0))


# ---------------------------------------------------------------------- the CNN in NumPy

def cnn_parts():
    K = np.array(CJ["conv"]["weight"], dtype=float)[:, 0]          # (2, 3, 3): one input channel
    return (K, np.array(CJ["conv"]["bias"], dtype=float), np.array(CJ["fc1"]["weight"], dtype=float),
            np.array(CJ["fc1"]["bias"], dtype=float), np.array(CJ["out"]["weight"], dtype=float),
            np.array(CJ["out"]["bias"], dtype=float))


def cnn_relu(img):
    K, bk = cnn_parts()[:2]
    conv = np.empty((2, 3, 3))
    for c, i, j in itertools.product(range(2), range(3), range(3)):
        conv[c, i, j] = (K[c] * img[i:i + 3, j:j + 3]).sum() + bk[c]
    return np.maximum(conv, 0.0)


def cnn_from_relu(R):
    """Outputs (P, 3) from relu values (P, 2, 3, 3): 2×2 average pool, stride 1, then the dense head."""
    _, _, W1, b1, W2, b2 = cnn_parts()
    pooled = (R[:, :, :2, :2] + R[:, :, 1:, :2] + R[:, :, :2, 1:] + R[:, :, 1:, 1:]) / 4.0
    t = np.tanh(pooled.reshape(len(R), 8) @ W1.T + b1)
    return t @ W2.T + b2, t


def subsets(n):
    idx = np.arange(2 ** n, dtype=np.int64)
    return ((idx[:, None] >> np.arange(n)) & 1).astype(bool)


def bernoulli_weights(masks, p):
    k = masks.sum(axis=1)
    return p ** k * (1 - p) ** (masks.shape[1] - k)


def cnn_law_relu(img, p):
    """(weights (2^18,), Δ (2^18, 3)) over every crash set of the 18 relu neurons."""
    masks = subsets(18)
    r = cnn_relu(img)
    Y, _ = cnn_from_relu(np.where(masks.reshape(-1, 2, 3, 3), 0.0, r[None]))
    clean, _ = cnn_from_relu(r[None])
    return bernoulli_weights(masks, p), Y - clean[0]


def cnn_law_tanh(img, p):
    """(weights (64,), Δ (64, 3)) over every crash set of the 6 tanh neurons."""
    _, _, _, _, W2, b2 = cnn_parts()
    clean, t = cnn_from_relu(cnn_relu(img)[None])
    masks = subsets(6)
    Y = np.where(masks, 0.0, t) @ W2.T + b2
    return bernoulli_weights(masks, p), Y - clean[0]


IMG = np.random.default_rng(11).normal(size=(5, 5))


# ---------------------------------------------------------------------- Monte Carlo

@pytest.mark.parametrize("probs", [{"h1": F(1, 10)}, {"x": F(1, 5), "h2": F(1, 20)}], ids=["h1", "x+h2"])
def test_monte_carlo_interval_contains_the_residual_brute_force_mean(probs):
    law = res_law(X_RES, probs)
    model = NeuronCrash({s: float(q) for s, q in probs.items()})
    r = monte_carlo(RES, [float(v) for v in X_RES], model, 40000, seed=5, confidence=0.99)
    none = math.prod((1 - q) ** RES_SIZES[s] for s, q in probs.items())
    assert r.p_crash == pytest.approx(float(1 - none), rel=1e-14)
    for k in range(2):
        mean, var = law_moments(law, k)
        assert r.ci_low[k] <= float(mean) <= r.ci_high[k], (k, r.ci_low[k], float(mean), r.ci_high[k])
        assert r.var[k] == pytest.approx(float(var), rel=0.1)


def res_sum(x):
    """The residual sum h1 + h2 that the output op reads (no crash), in Fractions."""
    def mat(name):
        return [[F(v) for v in row] for row in RJ[name]["weight"]], [F(v) for v in RJ[name]["bias"]]

    (W1, b1), (W2, b2) = mat("d1"), mat("d2")
    a1 = [max(F(0), sum(w * v for w, v in zip(row, x)) + b) for row, b in zip(W1, b1)]
    a2 = [max(F(0), sum(w * v for w, v in zip(row, a1)) + b) for row, b in zip(W2, b2)]
    return [u + v for u, v in zip(a1, a2)]


def test_monte_carlo_synapses_of_the_residual_output_op():
    # The 12 weights of the output dense op fail with p = 0.15: all 2^12 configurations in Fractions
    # (only the output op changes, so the residual sum it reads is computed once).
    p = F(3, 20)
    W3 = [[F(v) for v in row] for row in RJ["out"]["weight"]]
    r = res_sum(X_RES)
    pairs = [(i, j) for i in range(2) for j in range(6)]
    mean = [F(0), F(0)]
    for bits in itertools.product((0, 1), repeat=12):
        w = math.prod((p if b else 1 - p for b in bits), start=F(1))
        for (i, j), b in zip(pairs, bits):
            if b:
                mean[i] -= w * W3[i][j] * r[j]
    # each weight is zeroed with probability p independently: E Δ_i = −p Σ_j W3[i][j] r_j = −p (y_i − b_i)
    clean = res_forward(X_RES, {})
    assert mean == [-p * (y - F(b)) for y, b in zip(clean, RJ["out"]["bias"])]
    out = monte_carlo(RES, [float(v) for v in X_RES], SynapseCrash({"out": 0.15}), 40000, seed=2, confidence=0.99)
    for k in range(2):
        assert out.ci_low[k] <= float(mean[k]) <= out.ci_high[k]


def test_monte_carlo_interval_contains_the_cnn_brute_force_mean():
    # all 2^18 crash sets of the relu site (a convolution's output), and the 2^6 of the tanh site
    for site, law, p in (("r", cnn_law_relu, 0.05), ("t", cnn_law_tanh, 0.2)):
        w, D = law(IMG, p)
        mean = w @ D
        r = monte_carlo(CNN, IMG.reshape(1, 5, 5), NeuronCrash({site: p}), 40000, seed=3, confidence=0.99)
        assert r.p_crash == pytest.approx(1 - (1 - p) ** CNN.site_size(site), rel=1e-13)
        for k in range(3):
            assert r.ci_low[k] <= mean[k] <= r.ci_high[k], (site, k, r.ci_low[k], mean[k], r.ci_high[k])


def test_monte_carlo_synapses_of_the_cnn_head_and_refusal_on_a_convolution():
    # the 18 weights of the last dense op, zeroed with p = 0.1: 2^18 configurations in NumPy
    _, _, _, _, W2, b2 = cnn_parts()
    clean, t = cnn_from_relu(cnn_relu(IMG)[None])
    masks = subsets(18)
    Y = np.einsum("pij,j->pi", np.where(masks.reshape(-1, 3, 6), 0.0, W2[None]), t[0]) + b2
    mean = bernoulli_weights(masks, 0.1) @ (Y - clean[0])
    r = monte_carlo(CNN, IMG.reshape(-1), SynapseCrash({"out": 0.1}), 40000, seed=4, confidence=0.99)
    for k in range(3):
        assert r.ci_low[k] <= mean[k] <= r.ci_high[k]
    with pytest.raises(ValueError, match="conv2d op; synapse failures are supported on dense ops only"):
        monte_carlo(CNN, IMG.reshape(-1), SynapseCrash({"r": 0.1}), 100, seed=0)
    assert crash_probability(CNN, SynapseCrash({"out": 0.1})) == pytest.approx(1 - 0.9 ** 18, rel=1e-14)


# ---------------------------------------------------------------------- the moments chooser

def test_moments_auto_on_chains():
    # y = mean of 4 inputs, input crashes: E Δ = −p and Var Δ = p(1 − p)/4 exactly (theory §4)
    m = moments(mean_network(4), [1, 1, 1, 1], NeuronCrash({0: 0.1}))
    assert (m.method, m.label, m.source) == ("rational enumeration", "exact", "exact")
    assert m.mean == (F(-1, 10),) and m.var == (F(9, 400),) and m.notes == ()
    # a smooth chain: no rational engine, the enclosure; without it T1 + remainder; then estimates
    net = Network.from_numpy([[[0.5, -1.0], [1.5, 0.3], [-0.7, 0.2]], [[1.0, -2.0, 0.5]]],
                             [[0.1, -0.2, 0.0], [0.0]], ["tanh", "linear"])
    x, model = [1.0, 0.5], NeuronCrash({1: 0.05})
    W1, b1 = np.array([[0.5, -1.0], [1.5, 0.3], [-0.7, 0.2]]), np.array([0.1, -0.2, 0.0])
    h = np.tanh(W1 @ np.array(x) + b1)
    masks = subsets(3)
    D = np.where(masks, 0.0, h) @ np.array([1.0, -2.0, 0.5]) - h @ np.array([1.0, -2.0, 0.5])
    w = bernoulli_weights(masks, 0.05)
    mean, var = w @ D, w @ (D - w @ D) ** 2
    m = moments(net, x, model)
    assert (m.method, m.label) == ("enclosure", "rigorous")
    assert m.mean_lo[0] <= mean <= m.mean_hi[0] and m.var_lo[0] <= var <= m.var_hi[0]
    assert any("rational enumeration: not used" in n for n in m.notes)
    mp = pytest.MonkeyPatch()
    try:
        mp.setattr(symft.engines.enclosure, "enclosure", _missing)
        m = moments(net, x, model)
        assert (m.method, m.label) == ("taylor+remainder", "rigorous")
        assert m.mean_lo[0] <= mean <= m.mean_hi[0] and m.var_lo[0] <= var <= m.var_hi[0]
        m = moments(net, x, model, among=("rational", "enclosure", "float"))
        assert (m.method, m.label, m.source) == ("float enumeration", "estimate", "estimate")
        assert m.mean[0] == pytest.approx(mean, rel=1e-12)
        mp.setattr(symft.engines.enumeration, "enumerate_crashes", _too_large)
        m = moments(net, x, model, among=("rational", "enclosure", "float", "monte-carlo"), samples=20000, seed=1)
        assert (m.method, m.label, m.seed) == ("monte-carlo", "statistical", 1)
        assert m.mean_lo[0] <= mean <= m.mean_hi[0]
        with pytest.raises(NoSourceError) as e:
            moments(net, x, model, among=("rational", "enclosure", "float"))
        assert len(e.value.notes) == 3 and "enclosure: not used" in str(e.value)
    finally:
        mp.undo()


def _missing(*a, **k):
    raise NotImplementedError("no enclosure (test)")


def _too_large(*a, **k):
    raise TooLargeError("too large (test)")


def test_moments_auto_on_the_residual_mlp_is_exact():
    probs = {"h1": F(1, 10), "out": F(1, 4)}
    law = res_law(X_RES, probs)
    want = [law_moments(law, k) for k in range(2)]
    for x in (X_RES, [float(v) for v in X_RES], ["1/2", "-1", "3/4", "1/8"]):
        m = moments(RES, x, NeuronCrash(probs))
        assert (m.method, m.label) == ("rational enumeration", "exact")
        assert [(F(int(a.p), int(a.q)), F(int(b.p), int(b.q))) for a, b in zip(m.mean, m.var)] == want
    # a float probability is the decimal it prints as: 0.1 is 1/10
    m = moments(RES, X_RES, NeuronCrash({"h1": 0.1, "out": 0.25}))
    assert [F(int(a.p), int(a.q)) for a in m.mean] == [w[0] for w in want]
    # the problem first; the enclosure (dyadic weights: float64 holds them) contains the exact values
    pb = make_problem(RES, X_RES, NeuronCrash(probs))
    assert float_rounding(RES) is None
    e = moments(pb, "enclosure", order=2)
    assert (e.method, e.label) == ("enclosure", "rigorous")
    for k, (mean, var) in enumerate(want):
        assert F(e.mean_lo[k]) <= mean <= F(e.mean_hi[k]) and F(e.var_lo[k]) <= var <= F(e.var_hi[k])
    assert moments(pb, method="rational") == moments(pb, "rational")


def test_moments_auto_on_the_cnn_is_the_enclosure():
    w, D = cnn_law_relu(IMG, 0.05)
    mean = w @ D
    var = w @ (D - mean) ** 2
    m = moments(CNN, IMG.reshape(1, 5, 5), NeuronCrash({"r": 0.05}))
    assert (m.method, m.label, m.source) == ("enclosure", "rigorous", "enclosure")
    assert "tanh" in m.notes[0]                                         # why not the rational engine
    assert np.all(np.array(m.mean_lo) <= mean) and np.all(mean <= np.array(m.mean_hi))
    assert np.all(np.array(m.var_lo) <= var) and np.all(var <= np.array(m.var_hi))
    # the full order (all 2^18 configurations): only the floating-point margin is left
    full = moments(CNN, IMG.reshape(-1), NeuronCrash({"r": 0.05}), configurations=2 ** 18)
    np.testing.assert_allclose(full.mean, mean, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(full.var, var, rtol=1e-9, atol=1e-15)
    f = moments(CNN, IMG.reshape(-1), NeuronCrash({"t": 0.2}), "float")
    wt, Dt = cnn_law_tanh(IMG, 0.2)
    np.testing.assert_allclose(f.mean, wt @ Dt, rtol=1e-12, atol=1e-15)
    assert f.label == "estimate" and "not bounded" in f.note


def test_moments_with_an_exact_input_is_rigorous_for_the_input_as_given():
    # x = 1/3 (float64 cannot hold it) through float weights: the enclosure certifies the given input.
    net = Network.from_numpy([[[3.0], [-2.0]], [[1.0, 0.5]]], [[-1.0, 0.25], [0.0]], ["relu", "linear"])
    x = F(1, 3)
    h = [max(F(0), F(3) * x - 1), max(F(0), F(-2) * x + F(1, 4))]
    clean = h[0] + h[1] / 2
    law = [(F(1, 4) ** a * F(3, 4) ** (1 - a) * F(1, 4) ** b * F(3, 4) ** (1 - b),
            (0 if a else h[0]) + (0 if b else h[1]) / 2 - clean) for a in (0, 1) for b in (0, 1)]
    mean = sum(w * d for w, d in law)
    var = sum(w * (d - mean) ** 2 for w, d in law)
    m = moments(net, ["1/3"], {1: "1/4"}, "enclosure", order=1)
    assert m.label == "rigorous" and m.note == ""
    assert F(m.mean_lo[0]) <= mean <= F(m.mean_hi[0]) and F(m.var_lo[0]) <= var <= F(m.var_hi[0])


# ---------------------------------------------------------------------- the check

def test_check_on_the_reference_graphs_names_its_reference():
    r = check(RES, [float(v) for v in X_RES], NeuronCrash({"h1": 0.1}), samples=20000, seed=0)
    assert r.exact_source == "rational enumeration" and r.verdict == "agree", r.text()
    law = res_law(X_RES, {"h1": F(1, 10)})
    mc = [c for c in r.comparisons if c["a"] == "monte-carlo" and c["quantity"] == "mean"]
    assert [c["value_b"] for c in mc] == [float(law_moments(law, k)[0]) for k in range(2)]
    assert "reference: rational enumeration (exact" in r.text()
    r = check(CNN, IMG.reshape(-1), NeuronCrash({"t": 0.2}), samples=20000, seed=1)
    assert r.exact_source == "enclosure" and r.reference_rigorous and r.verdict == "agree", r.text()
    wt, Dt = cnn_law_tanh(IMG, 0.2)
    for c in r.comparisons:
        if c["a"] == "monte-carlo" and c["quantity"] == "mean":
            lo, hi = c["value_b"]
            assert lo <= (wt @ Dt)[c["output"]] <= hi
    assert "reference: enclosure (rigorous" in r.text()


def test_check_on_the_reference_graphs_never_agrees_from_a_float_reference(monkeypatch):
    monkeypatch.setattr(symft.engines.moments, "RATIONAL_SECONDS", -1.0)
    monkeypatch.setattr(symft.engines.enclosure, "enclosure", _missing)
    for net, x, model in ((RES, [float(v) for v in X_RES], NeuronCrash({"h1": 0.1})),
                          (CNN, IMG.reshape(-1), NeuronCrash({"t": 0.2}))):
        r = check(net, x, model, samples=20000, seed=0)
        assert r.exact_source == "float enumeration" and not r.reference_rigorous
        assert r.verdict != "agree", r.text()
        assert "reference: float enumeration (approximate" in r.text()
        assert any("cannot confirm agreement" in n for n in r.notes)


# ---------------------------------------------------------------------- certificates

@pytest.mark.parametrize("probs", [{"h2": F(1, 10)},
                                   pytest.param({"h1": F(1, 10), "h2": F(1, 10)}, marks=pytest.mark.slow)],
                         ids=["h2", "h1+h2"])
def test_certify_on_the_residual_mlp_against_the_brute_force_tail(probs):
    law = res_law(X_RES, probs)
    for eps, delta in (("0.25", "0.2"), ("1", "0.05")):
        c = certify(RES, X_RES, NeuronCrash(probs), eps, delta)
        assert c.rigorous and c.source == "exact" and c.method == "cantelli(exact)"
        for k in range(2):
            tail = sum((w for w, d in law if d[k] >= F(eps)), F(0))
            assert tail <= F(c.per_output[k][4]), (k, float(tail), c.per_output[k][4])
            if c.certified:
                assert tail <= F(delta)
    c = certify(RES, X_RES, NeuronCrash(probs), "0.25", "0.2", sided="abs")
    for k in range(2):
        assert sum((w for w, d in law if abs(d[k]) >= F(1, 4)), F(0)) <= F(c.per_output[k][4])


def test_certify_on_the_cnn_against_the_brute_force_tail():
    w, D = cnn_law_relu(IMG, 0.05)
    for eps in (0.05, 0.2):
        c = certify(CNN, IMG.reshape(-1), NeuronCrash({"r": 0.05}), eps, 0.1)
        assert c.rigorous and c.source == "enclosure"
        for k in range(3):
            tail = float(w[D[:, k] >= eps].sum())
            assert tail <= c.per_output[k][4] * (1 + 1e-9), (k, tail, c.per_output[k][4])
            if c.certified:
                assert tail <= 0.1


def test_p5_as_printed_needs_a_chain():
    with pytest.raises(NotAChain, match="needs a chain"):
        certify(CNN, IMG.reshape(-1), NeuronCrash({"t": 0.1}), 0.5, 0.1, source="t1")
    with pytest.raises(NotAChain, match="P3's δ_0"):
        p3_delta0(RES, NeuronCrash({"h1": 0.01}), 0.1)
    # on a chain, P3 is the layer's Chernoff bound (q = 1 at the input)
    from symft.analysis.certify import delta0_kl_chernoff
    assert p3_delta0(mean_network(50), NeuronCrash({0: 0.01}), 0.2) == delta0_kl_chernoff(50, 1.0, 0.2, 0.01)


def test_moments_value_object_is_frozen_and_labelled():
    m = Moments((F(-1), ), (F(1),), (F(4),), "enclosure")
    assert m.label == "rigorous" and m.mean == (0,) and m.var_lo == (0,)
    with pytest.raises(Exception):
        m.method = "x"
    assert Moments.point([0.5], [0.1], "monte-carlo").label == "statistical"
    with pytest.raises(ValueError, match="source"):
        Moments.point([0.5], [0.1], "guess")
