"""Engines on the two reference graphs (a residual MLP and a small CNN), against brute forces written here.

The brute forces read the weights straight from the JSON files and evaluate the networks with their own
code (Fractions for the residual MLP, vectorized NumPy slicing for the CNN): nothing of symft's
evaluation is shared.
"""

import itertools
import json
import pathlib
from fractions import Fraction

import numpy as np
import pytest

from symft.engines.enclosure import enclosure
from symft.engines.enumeration import enumerate_crashes, error_distribution, mean_polynomial, single_crash_term
from symft.faults import NeuronCrash
from symft.graph.netfile import load_network

DATA = pathlib.Path(__file__).parent / "data"
RES = load_network(DATA / "residual_mlp.json")
CNN = load_network(DATA / "small_cnn.json")
RJ = {n["name"]: n for n in json.loads((DATA / "residual_mlp.json").read_text())["nodes"]}
CJ = {n["name"]: n for n in json.loads((DATA / "small_cnn.json").read_text())["nodes"]}


def F(*v):
    return Fraction(*v)


def res_forward(x, crash):
    """Residual MLP in Fractions; ``crash`` = {site: set of crashed indices} (crashed neurons output 0)."""
    W1 = [[F(v) for v in r] for r in RJ["d1"]["weight"]]
    b1 = [F(v) for v in RJ["d1"]["bias"]]
    W2 = [[F(v) for v in r] for r in RJ["d2"]["weight"]]
    b2 = [F(v) for v in RJ["d2"]["bias"]]
    W3 = [[F(v) for v in r] for r in RJ["out"]["weight"]]
    b3 = [F(v) for v in RJ["out"]["bias"]]
    x = [F(0) if i in crash.get("x", ()) else v for i, v in enumerate(x)]
    h1 = [max(F(0), sum(w * v for w, v in zip(row, x)) + b) for row, b in zip(W1, b1)]
    h1 = [F(0) if i in crash.get("h1", ()) else v for i, v in enumerate(h1)]
    h2 = [max(F(0), sum(w * v for w, v in zip(row, h1)) + b) for row, b in zip(W2, b2)]
    h2 = [F(0) if i in crash.get("h2", ()) else v for i, v in enumerate(h2)]
    r = [a + c for a, c in zip(h1, h2)]
    out = [sum(w * v for w, v in zip(row, r)) + b for row, b in zip(W3, b3)]
    return [F(0) if i in crash.get("out", ()) else v for i, v in enumerate(out)]


def res_brute(x, probs):
    """Exact E Δ and E Δ² over every configuration of the sites in ``probs`` ({site: Fraction})."""
    sizes = {"x": 4, "h1": 6, "h2": 6, "out": 2}
    clean = res_forward(x, {})
    neurons = [(s, i) for s in probs for i in range(sizes[s])]
    m1 = [F(0)] * 2
    m2 = [F(0)] * 2
    for bits in itertools.product((0, 1), repeat=len(neurons)):
        crash = {}
        w = F(1)
        for (s, i), b in zip(neurons, bits):
            w *= probs[s] if b else 1 - probs[s]
            if b:
                crash.setdefault(s, set()).add(i)
        y = res_forward(x, crash)
        for k in range(2):
            d = y[k] - clean[k]
            m1[k] += w * d
            m2[k] += w * d * d
    return m1, [a - b * b for a, b in zip(m2, m1)]


X_RES = [F(1, 2), F(-1), F(3, 4), F(1, 8)]


@pytest.mark.parametrize("probs", [{"h1": F(1, 10)}, {"x": F(1, 5), "h2": F(1, 20)}, {"h1": F(1, 4), "out": F(1, 3)}])
def test_residual_exact_moments_equal_brute_force(probs):
    mean, var = res_brute(X_RES, probs)
    r = enumerate_crashes(RES, X_RES, NeuronCrash(probs))
    assert r.exact
    assert [F(int(v.p), int(v.q)) for v in r.mean] == mean
    assert [F(int(v.p), int(v.q)) for v in r.var] == var
    # the float engine agrees to rounding, and the enclosure contains the exact values
    rf = enumerate_crashes(RES, [float(v) for v in X_RES], NeuronCrash(probs), exact=False)
    np.testing.assert_allclose(rf.mean, [float(v) for v in mean], rtol=1e-12, atol=1e-15)
    for order in (1, 2):
        e = enclosure(RES, [float(v) for v in X_RES], NeuronCrash(probs), order=order)
        assert all(F(lo) <= m <= F(hi) for lo, m, hi in zip(e.mean_lo, mean, e.mean_hi))
        assert all(F(lo) <= v <= F(hi) for lo, v, hi in zip(e.var_lo, var, e.var_hi))


def test_residual_distribution_polynomial_and_single_crash_term():
    probs = {"h1": F(1, 10)}
    d = error_distribution(RES, X_RES, NeuronCrash(probs))
    assert d.exact and sum(d.probabilities) == 1
    mean, _ = res_brute(X_RES, probs)
    got = [sum(w * a[k] for a, w in zip(d.atoms, d.probabilities)) for k in range(2)]
    assert [F(int(v.p), int(v.q)) for v in got] == mean
    ep = mean_polynomial(RES, X_RES, ["h1"])
    vals = ep(F(1, 10))
    assert [F(int(v.p), int(v.q)) for v in vals] == mean
    t = single_crash_term(RES, X_RES, NeuronCrash({"h1": F(1, 10)}))
    clean = res_forward(X_RES, {})
    want = [sum(res_forward(X_RES, {"h1": {i}})[k] - clean[k] for i in range(6)) for k in range(2)]
    assert [F(int(v.p), int(v.q)) for v in t.sum_deltas] == want


# ------------------------------------------------------------------ the CNN, by NumPy slicing

def cnn_parts():
    K = np.array(CJ["conv"]["weight"])[:, 0]              # (2, 3, 3)
    bk = np.array(CJ["conv"]["bias"])
    W1, b1 = np.array(CJ["fc1"]["weight"]), np.array(CJ["fc1"]["bias"])
    W2, b2 = np.array(CJ["out"]["weight"]), np.array(CJ["out"]["bias"])
    return K, bk, W1, b1, W2, b2


def cnn_after_relu(img, r_masks=None):
    """Brute force from the relu site on: r (P, 2, 3, 3) given, crashes applied by the masks (P, 18)."""
    K, bk, W1, b1, W2, b2 = cnn_parts()
    conv = np.zeros((2, 3, 3))
    for c in range(2):
        for i in range(3):
            for j in range(3):
                conv[c, i, j] = (K[c] * img[i:i + 3, j:j + 3]).sum() + bk[c]
    r = np.maximum(conv, 0.0)
    if r_masks is None:
        R = r[None]
    else:
        R = np.where(r_masks.reshape(-1, 2, 3, 3), 0.0, r[None])
    pooled = (R[:, :, :2, :2] + R[:, :, 1:, :2] + R[:, :, :2, 1:] + R[:, :, 1:, 1:]) / 4.0   # (P, 2, 2, 2)
    flat = pooled.reshape(len(R), 8)
    t = np.tanh(flat @ W1.T + b1)
    return t @ W2.T + b2


def test_cnn_site_of_18_neurons_enumerates_2_to_the_18_against_numpy():
    img = np.random.default_rng(7).normal(size=(5, 5))
    p = 0.07
    idx = np.arange(2 ** 18, dtype=np.int64)
    masks = ((idx[:, None] >> np.arange(18)) & 1).astype(bool)
    Y = cnn_after_relu(img, masks)
    clean = cnn_after_relu(img)[0]
    k = masks.sum(axis=1)
    w = p ** k * (1 - p) ** (18 - k)
    D = Y - clean
    mean = w @ D
    var = w @ (D * D) - mean ** 2
    r = enumerate_crashes(CNN, img.reshape(1, 5, 5), NeuronCrash({"r": p}))
    assert r.configurations == 2 ** 18
    np.testing.assert_allclose(r.mean, mean, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(r.var, var, rtol=1e-9, atol=1e-15)
    e = enclosure(CNN, img.reshape(-1), NeuronCrash({"r": p}), order=3)
    assert np.all(e.mean_lo <= mean) and np.all(mean <= e.mean_hi)
    assert np.all(e.var_lo <= var) and np.all(var <= e.var_hi)


@pytest.mark.slow
def test_cnn_two_sites_2_to_the_24():
    """Crashes at the tanh site alone, then at the relu and tanh sites at once (the staged path, 2^24 configurations)."""
    img = np.random.default_rng(8).normal(size=(5, 5))
    K, bk, W1, b1, W2, b2 = cnn_parts()
    pr, pt = 0.2, 0.1
    r_idx = np.arange(2 ** 18, dtype=np.int64)
    got = enumerate_crashes(CNN, img.reshape(-1), NeuronCrash({"t": pt}))
    # the tanh site alone
    conv = np.zeros((2, 3, 3))
    for c in range(2):
        for i in range(3):
            for j in range(3):
                conv[c, i, j] = (K[c] * img[i:i + 3, j:j + 3]).sum() + bk[c]
    r = np.maximum(conv, 0.0)
    pooled = (r[:, :2, :2] + r[:, 1:, :2] + r[:, :2, 1:] + r[:, 1:, 1:]) / 4.0
    t_clean = np.tanh(pooled.reshape(8) @ W1.T + b1)
    tm = ((np.arange(64)[:, None] >> np.arange(6)) & 1).astype(bool)
    Yt = np.where(tm, 0.0, t_clean[None]) @ W2.T + b2
    kt = tm.sum(axis=1)
    wt = pt ** kt * (1 - pt) ** (6 - kt)
    mean_t = wt @ (Yt - (t_clean @ W2.T + b2))
    np.testing.assert_allclose(got.mean, mean_t, rtol=1e-11, atol=1e-15)
    # both sites (2^24 configurations): symft's float engine, the enclosure around it, and the brute force
    both = enumerate_crashes(CNN, img.reshape(-1), NeuronCrash({"r": pr, "t": pt}), max_configurations=2 ** 25)
    e = enclosure(CNN, img.reshape(-1), NeuronCrash({"r": pr, "t": pt}), order=2)
    assert np.all(e.mean_lo <= both.mean) and np.all(both.mean <= e.mean_hi)
    masks = ((r_idx[:, None] >> np.arange(18)) & 1).astype(bool)
    R = np.where(masks.reshape(-1, 2, 3, 3), 0.0, r[None])
    P = (R[:, :, :2, :2] + R[:, :, 1:, :2] + R[:, :, :2, 1:] + R[:, :, 1:, 1:]) / 4.0
    T = np.tanh(P.reshape(-1, 8) @ W1.T + b1)                       # (2^18, 6)
    kr = masks.sum(axis=1)
    wr = pr ** kr * (1 - pr) ** (18 - kr)
    clean_out = t_clean @ W2.T + b2
    mean = np.zeros(3)
    for t in range(64):
        Yrt = np.where(tm[t], 0.0, T) @ W2.T + b2
        mean += wt[t] * (wr @ (Yrt - clean_out))
    np.testing.assert_allclose(both.mean, mean, rtol=1e-9, atol=1e-14)
