"""Tests of symft.analysis.accuracy: exact, rigorous and statistical answers against a brute force in Fractions.

The reference is a loop over every crash subset written here: the relu chain
from raw lists (tests/test_stratified.py) and the residual MLP from its JSON
file (tests/reference_graphs.py reads the numbers, not symft), in Fractions;
the class is the first maximal output, as symft's.
"""

from __future__ import annotations

import functools
import itertools
import math
from fractions import Fraction

import numpy as np
import pytest

from symft.analysis.accuracy import accuracy
from symft.errors import InvalidArgument
from symft.faults import NeuronCrash
from symft.graph.netfile import load_network

from .reference_graphs import DATA, params
from .test_stratified import RELU_B, RELU_W, first_argmax, frac_chain, relu_net

XS = [[0.5, -1.0, 0.75, 0.25], [1.0, 0.5, -0.25, 0.0], [-0.5, 0.25, 1.0, 1.5], [0.0, 0.0, 0.5, -1.0],
      [2.0, -0.5, 0.25, 0.75]]
YS = [2, 0, 1, 2, 0]


def brute_dataset(evaluate, units, p, X, y):
    """Per input: exact P(change), P(correct under crashes); evaluate(x, crashed set) -> outputs (Fractions)."""
    out = []
    for x, lab in zip(X, y):
        c0 = first_argmax(evaluate(x, set()))
        ch = co = Fraction(0)
        for bits in itertools.product((0, 1), repeat=len(units)):
            w = math.prod((p[u[0]] if b else 1 - p[u[0]] for u, b in zip(units, bits)), start=Fraction(1))
            c = first_argmax(evaluate(x, {u for u, b in zip(units, bits) if b}))
            ch += w * (c != c0)
            co += w * (c == lab)
        out.append((c0, ch, co))
    return out


def chain_case():
    p = {0: Fraction(1, 4), 1: Fraction(1, 8)}
    units = [(l, i) for l in (0, 1) for i in range((4, 3)[l])]
    ref = brute_dataset(lambda x, s: frac_chain(RELU_W, RELU_B, ["relu", "linear"], x, s), units, p, XS, YS)
    return relu_net(), NeuronCrash({0: 0.25, 1: 0.125}), ref


RES_X = [[0.5, -1.0, 0.25, 1.0], [1.0, 1.0, -0.5, 0.0], [-0.25, 0.5, 0.75, -1.0], [0.0, -0.5, 1.0, 0.5]]


def dot(W, v, b):
    return [sum((w * a for w, a in zip(row, v)), Fraction(0)) + c for row, c in zip(W, b)]


@functools.lru_cache(maxsize=None)
def residual_case():
    """The residual MLP with crashes at h1 (p = 1/4) and h2 (p = 1/16): every subset, in Fractions."""
    net = load_network(str(DATA / "residual_mlp.json"))
    P = params("residual_mlp.json", exact=True)
    p1, p2 = Fraction(1, 4), Fraction(1, 16)
    subsets = list(itertools.product((0, 1), repeat=6))
    ref, y = [], []
    for b, x in enumerate(RES_X):
        z1 = dot(P["d1"]["weight"], [Fraction(v) for v in x], P["d1"]["bias"])
        relu1 = [max(v, Fraction(0)) for v in z1]
        c0 = None
        rows = []
        for s1 in subsets:
            h1 = [Fraction(0) if c else v for v, c in zip(relu1, s1)]
            relu2 = [max(v, Fraction(0)) for v in dot(P["d2"]["weight"], h1, P["d2"]["bias"])]
            w1 = math.prod((p1 if c else 1 - p1 for c in s1), start=Fraction(1))
            for s2 in subsets:
                h2 = [Fraction(0) if c else v for v, c in zip(relu2, s2)]
                out = dot(P["out"]["weight"], [a + c for a, c in zip(h1, h2)], P["out"]["bias"])
                w = w1 * math.prod((p2 if c else 1 - p2 for c in s2), start=Fraction(1))
                cls = first_argmax(out)
                if not any(s1) and not any(s2):
                    c0 = cls
                rows.append((w, cls))
        lab = c0 if b % 2 == 0 else 1 - c0                    # some inputs misclassified
        y.append(lab)
        ref.append((c0, sum((w for w, c in rows if c != c0), Fraction(0)),
                    sum((w for w, c in rows if c == lab), Fraction(0))))
    return net, NeuronCrash({"h1": 0.25, "h2": 0.0625}), y, ref


def check_exact(r, ref, y):
    B = len(ref)
    ch = sum((c for _, c, _ in ref), Fraction(0)) / B
    co = sum((c for _, _, c in ref), Fraction(0)) / B
    clean = sum(c0 == lab for (c0, _, _), lab in zip(ref, y))
    assert r.method == "exact" and r.clean_correct == clean and r.clean_accuracy == clean / B
    assert Fraction(r.change_lo) <= ch <= Fraction(r.change_hi)
    assert Fraction(r.accuracy_lo) <= co <= Fraction(r.accuracy_hi)
    assert r.change_hi - r.change_lo <= 2 * math.ulp(max(float(ch), 1e-300))
    assert r.accuracy_hi - r.accuracy_lo <= 2 * math.ulp(float(co))
    assert ch > 0 and co < 1                                  # the case is not trivial


def test_chain_exact_equals_the_brute_force():
    net, model, ref = chain_case()
    r = accuracy(net, XS, YS, model)
    check_exact(r, ref, YS)
    # per input and per class, exactly the brute force (rounded outward)
    for (c0, ch, _), (lo, hi) in zip(ref, r.change_each):
        assert Fraction(lo) <= ch <= Fraction(hi) and hi - lo <= 2 * math.ulp(max(float(ch), 1e-300))
    for row in r.per_class:
        idx = [b for b, lab in enumerate(YS) if lab == row["label"]]
        want = sum((ref[b][2] for b in idx), Fraction(0)) / len(idx)
        assert row["count"] == len(idx) and Fraction(row["accuracy_lo"]) <= want <= Fraction(row["accuracy_hi"])
    top = r.at_risk[0]
    assert Fraction(top["change_hi"]) >= max(c for _, c, _ in ref)


def test_residual_graph_exact_equals_the_brute_force():
    net, model, y, ref = residual_case()
    r = accuracy(net, RES_X, y, model)
    check_exact(r, ref, y)


@pytest.mark.parametrize("case", ["chain", "residual"])
def test_rigorous_interval_contains_the_exact_values(case):
    if case == "chain":
        (net, model, ref), X, y = chain_case(), XS, YS
    else:
        net, model, y, ref = residual_case()
        X = RES_X
    B = len(ref)
    ch = sum((c for _, c, _ in ref), Fraction(0)) / B
    co = sum((c for _, _, c in ref), Fraction(0)) / B
    for k in (0, 1, 2):
        r = accuracy(net, X, y, model, method="rigorous", order=k)
        assert r.method == "rigorous" and r.order == k
        assert r.change_lo <= ch <= r.change_hi and r.accuracy_lo <= co <= r.accuracy_hi
        # the width is the exactly known tail (every class decision is proved here)
        assert r.undecided == 0
        assert r.change_hi - r.change_lo == pytest.approx(r.tail_probability, rel=1e-9)


@pytest.mark.parametrize("case", ["chain", "residual"])
def test_statistical_interval_contains_the_exact_values(case):
    if case == "chain":
        (net, model, ref), X, y = chain_case(), XS, YS
    else:
        net, model, y, ref = residual_case()
        X = RES_X
    B = len(ref)
    ch = sum((c for _, c, _ in ref), Fraction(0)) / B
    co = sum((c for _, _, c in ref), Fraction(0)) / B
    r = accuracy(net, X, y, model, method="statistical", n_samples=3000, seed=7, enumerate_small=False)
    assert r.method == "statistical" and r.confidence == 0.95 and r.crashed_samples > 0
    assert r.change_lo <= ch <= r.change_hi and r.accuracy_lo <= co <= r.accuracy_hi
    assert r.change_hi - r.change_lo < 0.1
    for (c0, chb, _), (lo, hi) in zip(ref, r.change_each):       # Bonferroni over the inputs
        assert lo <= chb <= hi


def test_small_cnn_exact_against_the_hand_written_forward():
    # An imported-style graph (conv, avg-pool, flatten, tanh): every subset of the 18 relu outputs r at
    # p = 1/16, the classes from tests/reference_graphs.cnn_parts (NumPy, not symft), the probabilities
    # exact from the number of crashed neurons.
    from .reference_graphs import cnn_parts
    net = load_network(str(DATA / "small_cnn.json"))
    X = np.random.default_rng(3).normal(size=(3, 25))
    bits = ((np.arange(2 ** 18)[:, None] >> np.arange(18)[None, :]) & 1).astype(bool)
    k = bits.sum(axis=1)
    q = Fraction(1, 16)
    w = [q ** j * (1 - q) ** (18 - j) for j in range(19)]
    c0 = np.argmax(cnn_parts(X)["y"], axis=1)
    y = np.array([c0[0], (c0[1] + 1) % 3, c0[2]])
    ch = co = Fraction(0)
    for b in range(3):
        cls = np.argmax(cnn_parts(np.repeat(X[b:b + 1], 2 ** 18, axis=0), crash={"r": ~bits})["y"], axis=1)
        ch += sum((w[j] * int(np.sum((cls != c0[b]) & (k == j))) for j in range(19)), Fraction(0))
        co += sum((w[j] * int(np.sum((cls == y[b]) & (k == j))) for j in range(19)), Fraction(0))
    ch, co = ch / 3, co / 3
    assert 0 < ch < 1
    r = accuracy(net, X, y, NeuronCrash({"r": 0.0625}))
    assert r.method == "exact" and r.clean_correct == 2
    assert Fraction(r.change_lo) <= ch <= Fraction(r.change_hi) and r.change_hi - r.change_lo <= 2 * math.ulp(float(ch))
    assert Fraction(r.accuracy_lo) <= co <= Fraction(r.accuracy_hi)
    s = accuracy(net, X, y, NeuronCrash({"r": 0.0625}), method="statistical", n_samples=2000, seed=2)
    assert s.change_lo <= ch <= s.change_hi and s.accuracy_lo <= co <= s.accuracy_hi


def test_undecided_classes_widen_the_interval_and_ties_are_rechecked_exactly():
    from symft.graph.network import Network
    # outputs (x1 − x2, x2 − x1): at x = (1, 1) the clean outputs tie exactly (class 0, the first);
    # a crash of x1 gives class 1, of x2 class 0, of both a tie again (class 0)
    net = Network.from_numpy([[[1.0, -1.0], [-1.0, 1.0]]], activations=["linear"])
    r = accuracy(net, [[1.0, 1.0]], [0], NeuronCrash({0: 0.5}))
    assert r.method == "exact" and r.change_lo == r.change_hi == 0.25 and r.clean_undecided == 0
    # the same with a non-piecewise-linear activation: no exact re-check, the tie stays undecided
    net = Network.from_numpy([[[1.0, -1.0], [-1.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]], activations=["tanh", "linear"])
    r = accuracy(net, [[1.0, 1.0]], [0], NeuronCrash({0: 0.5}), method="rigorous")
    assert r.method == "rigorous" and r.clean_undecided == 1 and r.change_lo == 0.0 and r.change_hi == 1.0


def test_float_ties_that_are_not_ties_are_decided_exactly():
    from symft.graph.network import Network
    # y = (x1, x1 + 2^-60 x2): at x = (1, 1) float64 computes a tie (class 0) but class 1 is larger.
    # Crash of x2 (or of both): a true tie, class 0 — a change; crash of x1 alone: (0, 2^-60), class 1.
    net = Network.from_numpy([[[1.0, 0.0], [1.0, 2.0 ** -60]]], activations=["linear"])
    r = accuracy(net, [[1.0, 1.0]], [1], NeuronCrash({0: 0.5}))
    assert r.method == "exact" and r.clean_correct == 1
    assert r.change_lo == r.change_hi == 0.5 and r.accuracy_lo == r.accuracy_hi == 0.5
    s = accuracy(net, [[1.0, 1.0]], [1], NeuronCrash({0: 0.5}), method="statistical")
    assert s.clean_correct == 1 and s.clean_undecided == 0        # the clean count is proved in every method


def test_auto_falls_back_to_statistics_when_the_rigorous_interval_is_wide():
    net, model, ref = chain_case()
    r = accuracy(net, XS, YS, model, max_configurations=5 * 8, max_width=1e-3, n_samples=500)
    assert r.method == "statistical"
    r = accuracy(net, XS, YS, model, max_configurations=5 * 8, max_width=1.0)
    assert r.method == "rigorous" and r.order == 1


def test_nothing_can_fail_and_synapse_failures():
    net, _, ref = chain_case()
    for method in ("auto", "statistical"):
        r = accuracy(net, XS, YS, NeuronCrash({1: 0.0}), method=method)
        clean = Fraction(sum(c0 == lab for (c0, _, _), lab in zip(ref, YS)), len(YS))
        assert r.change_lo == r.change_hi == 0.0
        assert Fraction(r.accuracy_lo) <= clean <= Fraction(r.accuracy_hi) and r.accuracy_hi - r.accuracy_lo <= 1e-15
    assert accuracy(net, XS, YS, NeuronCrash({1: 0.0})).method == "exact"
    # synapse failures: no rigorous engine, a statistical answer (here every configuration enumerated)
    from symft.faults import SynapseCrash
    r = accuracy(net, XS, YS, SynapseCrash({2: 0.125}))
    assert r.method == "statistical" and r.confidence == 0.95
    with pytest.raises(InvalidArgument, match="neuron crashes only"):
        accuracy(net, XS, YS, SynapseCrash({2: 0.125}), method="rigorous")


def test_errors_are_one_line():
    net, model, _ = chain_case()
    with pytest.raises(InvalidArgument, match="y: expected 5 labels"):
        accuracy(net, XS, YS[:3], model)
    with pytest.raises(InvalidArgument, match="y: label 7 out of range"):
        accuracy(net, XS, [7] * 5, model)
    with pytest.raises(InvalidArgument, match="y: expected integer labels"):
        accuracy(net, XS, [0.5] * 5, model)
    with pytest.raises(InvalidArgument, match="method"):
        accuracy(net, XS, YS, model, method="fast")
    with pytest.raises(InvalidArgument, match="X: expected a batch"):
        accuracy(net, XS[0], [0], model)
    from symft.errors import TooLargeError
    with pytest.raises(TooLargeError, match="n_samples"):
        accuracy(net, XS, YS, model, method="statistical", n_samples=10 ** 13, enumerate_small=False)
    with pytest.raises(InvalidArgument, match="X: expected float inputs"):
        accuracy(net, [["1/10", 0, 0, 0]], [0], model)
    with pytest.raises(InvalidArgument, match="'exact' needs all 7 failures"):
        accuracy(net, XS, YS, model, method="exact", max_configurations=10)


@pytest.mark.slow
def test_digits_test_set_rigorous_in_seconds_and_the_statistical_answer_agrees():
    pytest.importorskip("sklearn")
    import time
    from symft.io.datasets import load_dataset
    net = load_network("examples/digits_sigmoid.json")
    d = load_dataset("digits", net)
    model = NeuronCrash.hidden(net, 1e-3)
    t = time.perf_counter()
    r = accuracy(net, d.X, d.y, model)
    assert time.perf_counter() - t < 30
    assert r.method == "rigorous" and r.order == 2 and r.n_inputs == 450
    assert r.change_hi - r.change_lo < 1e-4 and r.accuracy_hi - r.accuracy_lo < 1e-4
    assert r.accuracy_hi <= r.clean_accuracy + r.change_hi
    s = accuracy(net, d.X, d.y, model, method="statistical", seed=1)
    assert s.change_lo <= r.change_hi and r.change_lo <= s.change_hi
    assert s.accuracy_lo <= r.accuracy_hi and r.accuracy_lo <= s.accuracy_hi
    assert sum(c["count"] for c in r.per_class) == 450


@pytest.mark.slow
def test_statistical_dataset_intervals_keep_their_level():
    # 200 seeds, every stratum sampled: the dataset intervals (empirical Bernstein per stratum, union bound)
    # contain the exact values at least 95% of the time
    net, model, ref = chain_case()
    B = len(ref)
    ch = sum((c for _, c, _ in ref), Fraction(0)) / B
    co = sum((c for _, _, c in ref), Fraction(0)) / B
    hits = 0
    for seed in range(200):
        r = accuracy(net, XS, YS, model, method="statistical", n_samples=2000, seed=seed, enumerate_small=False)
        hits += (r.change_lo <= ch <= r.change_hi) and (r.accuracy_lo <= co <= r.accuracy_hi)
    print(f"dataset coverage {hits / 200:.3f}")
    assert hits >= 0.95 * 200
