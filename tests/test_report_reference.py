"""The reference values of ``check`` and ``report`` are labelled by what produced them, and the labels are true.

* "rational enumeration" is exact: equal to an independent brute force in
  Fractions written here (every crash set, forward pass in rationals).
* "enclosure" is rigorous: the exact value lies in its interval.
* "float enumeration" is never called exact and never yields an AGREE.

The regression: a step neuron fed by ``1e16·x + x − 1e16·x`` (= x) at x = 1,
hidden crashes with p = 3/10.  float64 evaluates the pre-activation as 0, so a
float enumeration gives E Δ = 0.273; the exact value is −48/125, and the old
``check`` printed "exact 0.273 … AGREE".
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import symft.engines.enclosure
import symft.analysis.report
import symft.engines.moments
from symft.analysis.certify import certify, enclosure_moments, exact_moments
from symft.faults import NeuronCrash
from symft.graph.network import Network
from symft.analysis.report import check, compare

# ---------------------------------------------------------------------- independent brute force (Fractions)

ACTS = {
    "linear": lambda z: z,
    "relu": lambda z: max(z, Fraction(0)),
    "step": lambda z: Fraction(1) if z > 0 else Fraction(0),                 # step(0) = 0
    "hardtanh": lambda z: min(max(z, Fraction(-1)), Fraction(1)),
    "1/2*relu": lambda z: max(z, Fraction(0)) / 2,
}


def brute(weights, biases, acts, x, p):
    """[(probability, Δ vector)] over every crash set of the layers in ``p`` (output_zero semantics).

    Weights, biases and x are read as the binary rationals the floats hold; p as the decimal it prints as
    (``0.3`` is 3/10), which is how symft reads a float probability for exact work.
    """
    W = [[[Fraction(float(v)) for v in row] for row in Wl] for Wl in weights]
    B = [[Fraction(float(v)) for v in bl] for bl in biases]
    widths = [len(x)] + [len(Wl) for Wl in W]
    units = [(l, i) for l in sorted(p) for i in range(widths[l])]
    q = {l: Fraction(repr(float(v))) for l, v in p.items()}

    def fwd(crashed):
        y = [Fraction(0) if (0, i) in crashed else Fraction(float(v)) for i, v in enumerate(x)]
        for l, (Wl, bl, a) in enumerate(zip(W, B, acts), start=1):
            y = [Fraction(0) if (l, i) in crashed else ACTS[a](sum((w * v for w, v in zip(row, y)), bi))
                 for i, (row, bi) in enumerate(zip(Wl, bl))]
        return y

    clean = fwd(set())
    out = []
    for bits in itertools.product((0, 1), repeat=len(units)):
        crashed = {u for u, b in zip(units, bits) if b}
        w = math.prod((q[l] if b else 1 - q[l] for (l, _), b in zip(units, bits)), start=Fraction(1))
        out.append((w, [a - c for a, c in zip(fwd(crashed), clean)]))
    return out


def moments(dist, k):
    m = sum((w * d[k] for w, d in dist), Fraction(0))
    return m, sum((w * (d[k] - m) ** 2 for w, d in dist), Fraction(0))


def step_net():
    return ([[[1.0], [1.0], [1.0]], [[1e16, 1.0, -1e16]]], [[0.0, 0.0, 0.0], [0.0]], ["linear", "step"])


def build(weights, biases, acts):
    return Network.from_numpy(weights, biases, acts)


# ---------------------------------------------------------------------- the regression

def test_step_cancellation_exact_value_by_hand():
    # Hidden h = (x, x, x) = (1, 1, 1), each crashing with p = 3/10; y = step(1e16 h0 + h1 − 1e16 h2), clean y = 1.
    # y = 1 iff (h0 alive, h2 crashed) [7/10 · 3/10] or (h0, h2 both alive or both crashed, h1 alive)
    # [(49/100 + 9/100) · 7/10]: P(y = 1) = 21/100 + 203/500 = 77/125, so E Δ = 77/125 − 1 = −48/125,
    # Var Δ = P(y=1) P(y=0) = 77/125 · 48/125 = 3696/15625.
    dist = brute(*step_net(), [1.0], {1: 0.3})
    assert moments(dist, 0) == (Fraction(-48, 125), Fraction(3696, 15625))


def test_check_step_cancellation_uses_the_exact_value():
    net = build(*step_net())
    r = check(net, [1.0], NeuronCrash({1: 0.3}), samples=20000, seed=0)
    assert r.exact_source == "rational enumeration" and r.reference_rigorous
    mc = {c["quantity"]: c for c in r.comparisons if c["a"] == "monte-carlo"}
    assert mc["mean"]["b"] == "rational enumeration"
    assert mc["mean"]["value_b"] == float(Fraction(-48, 125))
    assert mc["var"]["value_b"] == float(Fraction(3696, 15625))
    # Monte Carlo evaluates the float64 network, whose pre-activation cancels to 0: it really disagrees.
    assert r.verdict == "disagree"
    assert "exact: every crash configuration" in r.text()


def test_report_step_cancellation_uses_the_exact_value():
    net = build(*step_net())
    rep = compare(net, [[1.0]], NeuronCrash({1: 0.3}), samples=2000, seed=0)
    assert rep.reference_source == ("rational enumeration",)
    d = rep.as_dict()
    ref = {b["quantity"]: (b["reference"][0], b["exact"][0], b["reference_source"][0]) for b in d["bounds"]}
    want = float(Fraction(-48, 125))
    assert ref["E Δ_k"] == (want, want, "rational enumeration")
    assert "value / reference" in rep.text()


def test_certify_auto_uses_rational_arithmetic_on_float_weights():
    net = build(*step_net())
    m = exact_moments(net, [1.0], NeuronCrash({1: 0.3}))
    assert m.source == "exact" and m.mean_hi == (Fraction(-48, 125),)
    c = certify(net, [1.0], NeuronCrash({1: 0.3}), "0.5", "0.5")
    assert c.source == "exact" and c.rigorous
    lo, hi = c.per_output[0][1], c.per_output[0][2]       # the exact value rounded outward
    assert Fraction(lo) <= Fraction(-48, 125) <= Fraction(hi) and hi - lo < 1e-15


def test_float_enumeration_is_labelled_and_never_agrees(monkeypatch):
    # Without the rational engine and the enclosure, the float enumeration is the only reference:
    # it is named "float enumeration", never "exact", and the verdict is not AGREE.
    monkeypatch.setattr(symft.engines.moments, "RATIONAL_SECONDS", -1.0)

    def missing(*a, **k):
        raise NotImplementedError("no enclosure (test)")

    monkeypatch.setattr(symft.engines.enclosure, "enclosure", missing)
    net = build(*step_net())
    r = check(net, [1.0], NeuronCrash({1: 0.3}), samples=20000, seed=0)
    assert r.exact_source == "float enumeration" and not r.reference_rigorous
    assert r.verdict != "agree"
    assert any(c["b"] == "float enumeration" for c in r.comparisons)
    # a smooth net where the float enumeration is accurate: still only inconclusive
    net = build([[[0.5, -1.0], [1.5, 0.3]], [[1.0, -2.0]]], [[0.1, -0.2], [0.0]], ["tanh", "linear"])
    r = check(net, [1.0, 0.5], NeuronCrash({1: 0.2}), samples=20000, seed=1)
    assert r.exact_source == "float enumeration" and r.verdict == "inconclusive", r.text()
    rep = compare(net, [[1.0, 0.5]], NeuronCrash({1: 0.2}), samples=500, seed=0)
    assert rep.reference_source == ("float enumeration",)
    assert all(v is None for b in rep.as_dict()["bounds"] for v in b["exact"])


def test_enclosure_of_a_rounded_network_is_not_rigorous():
    # step(x/10 − 3/10) at x = 3 is step(0) = 0 exactly, but float64 has 0.1·3 > 0.3: the enclosure of the
    # float64 network is not an enclosure of this one, and says so.
    net = Network.from_sympy([[["1/10"]], [[1]]], [["-3/10"], [0]], ["step", "linear"])
    m = enclosure_moments(net, [3], NeuronCrash({1: 0.5}), order=1)
    assert m.source == "estimate" and not m.rigorous and "1/10" in m.note
    exact = exact_moments(net, [3], NeuronCrash({1: 0.5}))
    assert exact.source == "exact" and exact.mean_hi == (0,)           # the neuron outputs 0 anyway


# ---------------------------------------------------------------------- property tests on adversarial nets

MAGS = [1e-8, 1e-5, 0.5, 1.0, 3.0, 1e3, 1e6]


@st.composite
def pl_nets(draw):
    n0 = draw(st.integers(1, 2))
    n1 = draw(st.integers(1, 4))
    n2 = draw(st.integers(1, 2))
    sign = st.sampled_from([-1.0, 1.0])

    def w():
        return draw(sign) * draw(st.sampled_from(MAGS)) * draw(st.sampled_from([1.0, 1.25, 0.75]))

    W1 = [[w() for _ in range(n0)] for _ in range(n1)]
    W2 = [[w() for _ in range(n1)] for _ in range(n2)]
    if n1 >= 3 and draw(st.booleans()):
        # a cancelling sum: big·h0 + small·h1 − big·h2 with h0 = h2 on the clean pass
        big = draw(st.sampled_from([1e6, 1e12, 1e16]))
        W1[2] = list(W1[0])
        W2[0][0], W2[0][1], W2[0][2] = big, draw(st.sampled_from([1e-5, 1.0])), -big
    b1 = [draw(sign) * draw(st.sampled_from([0.0, 1e-3, 1.0, 1e6])) for _ in range(n1)]
    b2 = [draw(sign) * draw(st.sampled_from([0.0, 1.0])) for _ in range(n2)]
    acts = [draw(st.sampled_from(["relu", "hardtanh", "step", "linear", "1/2*relu"])),
            draw(st.sampled_from(["linear", "relu", "hardtanh", "1/2*relu"]))]
    x = [draw(sign) * draw(st.sampled_from([1e-5, 0.5, 1.0, 2.0, 1e3])) for _ in range(n0)]
    layers = draw(st.sampled_from([(1,), (0, 1), (1, 2)]))
    p = {l: draw(st.sampled_from([0.1, 0.3, 0.05])) for l in layers}
    return (W1, W2), (b1, b2), acts, x, p


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pl_nets())
def test_rational_references_are_exact(case):
    weights, biases, acts, x, p = case
    net = build(weights, biases, acts)
    dist = brute(weights, biases, acts, x, p)
    r = check(net, x, NeuronCrash(p), samples=2000, seed=0)
    assert r.exact_source == "rational enumeration"
    for c in r.comparisons:
        if c["a"] == "monte-carlo":
            m, v = moments(dist, c["output"])
            assert c["value_b"] == float(m if c["quantity"] == "mean" else v)
    rep = compare(net, [x], NeuronCrash(p), samples=500, seed=0)
    assert rep.reference_source == ("rational enumeration",)
    k = rep.output
    m, v = moments(dist, k)
    want = {"E Δ_k": float(m), "Var Δ_k": float(v),
            "E|Δ_k|": float(sum((w * abs(d[k]) for w, d in dist), Fraction(0))),
            "E Δ_k²": float(sum((w * d[k] ** 2 for w, d in dist), Fraction(0))),
            "E‖Δ‖_1": float(sum((w * sum(abs(t) for t in d) for w, d in dist), Fraction(0))),
            "E‖Δ‖_inf": float(sum((w * max(abs(t) for t in d) for w, d in dist), Fraction(0)))}
    for (name, _, quantity, _), refs in zip(rep.bounds, rep.reference):
        if quantity in want:
            assert refs[0] == want[quantity], (name, quantity, refs[0], want[quantity])


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pl_nets())
def test_enclosure_references_contain_the_exact_value(case):
    # Force the enclosure path (no rational engine): the enclosure's interval contains the exact moments,
    # even with cancelling weights from 1e-8 to 1e16 and discontinuous activations.
    weights, biases, acts, x, p = case
    net = build(weights, biases, acts)
    dist = brute(weights, biases, acts, x, p)
    mp = pytest.MonkeyPatch()
    mp.setattr(symft.engines.moments, "RATIONAL_SECONDS", -1.0)
    try:
        r = check(net, x, NeuronCrash(p), samples=2000, seed=0)
    finally:
        mp.undo()
    assert r.exact_source == "enclosure"
    for c in r.comparisons:
        if c["a"] == "monte-carlo":
            m, v = moments(dist, c["output"])
            lo, hi = c["value_b"]
            assert Fraction(lo) <= (m if c["quantity"] == "mean" else v) <= Fraction(hi)
