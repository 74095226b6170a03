"""Tests of symft.analysis.report: the comparison report (rank loss, references) and the three-way check."""

from __future__ import annotations

import itertools
import json
import os
import sys

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import symft.engines.enclosure
import symft.engines.enumeration
from symft.cli import main
from symft.errors import SymftError, TooLargeError
from symft.faults import NeuronCrash
from symft.graph.netfile import load_network
from symft.graph.network import first_input_network, random_network
from symft.analysis.report import check, compare, rank_loss

from .test_bounds import brute_all
from .test_sampling import DATA, raw_net


# ---------------------------------------------------------------------- rank loss

def test_rank_loss_hand():
    # pairs of (1, 3, 2) vs (1, 2, 3): (0,1) ok, (0,2) ok, (1,2) reversed → 1/3
    assert rank_loss([1, 3, 2], [1, 2, 3]) == pytest.approx(1 / 3)
    assert rank_loss([5], [1]) is None


@settings(deadline=None, max_examples=50)
@given(st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=8, unique=True), st.randoms())
def test_rank_loss_properties(ref, rnd):
    assert rank_loss(ref, ref) == 0.0
    assert rank_loss([-v for v in ref], ref) == 1.0
    perm = list(range(len(ref)))
    rnd.shuffle(perm)
    v = [ref[i] * 2 for i in range(len(ref))]  # exact monotone transform keeps the order
    assert rank_loss([v[i] for i in perm], [ref[i] for i in perm]) == 0.0


# ---------------------------------------------------------------------- compare

def test_compare_reference_is_exact_on_small_nets():
    net = raw_net()
    X = np.array([[1.0, -0.5, 2.0], [0.2, 0.4, -1.0], [2.0, 1.0, 0.5]])
    model = NeuronCrash({1: 0.2})
    rep = compare(net, X, model, samples=2000, seed=0)
    assert set(rep.reference_source) == {"rational enumeration"}
    names = [b[0] for b in rep.bounds]
    j = names.index("b2")
    for c in range(3):
        d, w = brute_all(net, X[c], model)
        assert rep.reference[j][c] == pytest.approx(float((w * np.abs(d[:, 0])).sum()), rel=1e-12)
        assert rep.values[j][c] >= rep.reference[j][c]  # b2 is a bound
    # rank loss recomputed by hand from the table
    vals, refs = rep.values[j], rep.reference[j]
    wrong = sum((vals[a] - vals[b]) * (refs[a] - refs[b]) < 0 for a, b in itertools.combinations(range(3), 2))
    assert rep.rank_loss["b2"] == pytest.approx(wrong / 3)
    # Monte Carlo interval present for each case
    assert all(lo <= m <= hi for m, lo, hi in zip(rep.mc_mean, rep.mc_low, rep.mc_high))


def test_compare_networks_and_json():
    nets = {"raw": raw_net(), "file": load_network(os.path.join(DATA, "foreign_tanh.json"))}
    rep = compare(nets, [1.0, -0.5, 2.0], lambda n: NeuronCrash({1: 0.1}), samples=1000, seed=0)
    d = rep.as_dict()
    json.dumps(d, allow_nan=False)
    assert d["cases"] == ["raw", "file"] and all(b["rank_loss"] is not None for b in d["bounds"]
                                                  if b["name"] in ("b2", "b1_inf"))
    assert "bound" in rep.text()


def test_relative_errors_tight_case():
    # y = x_1 with input crashes: E|Δ| = p |x_1| and b2 = p |x_1|: relative error 0.
    rep = compare(first_input_network(2), [[2.0, 1.0], [3.0, 1.0]], NeuronCrash({0: 0.1}), samples=200, seed=0)
    names = [b[0] for b in rep.bounds]
    assert rep.relative_errors()[names.index("b2")] == pytest.approx((0.0, 0.0), abs=1e-12)


def test_figure(tmp_path):
    pytest.importorskip("matplotlib")
    rep = compare(raw_net(), [[1.0, -0.5, 2.0], [0.2, 0.4, -1.0]], NeuronCrash({1: 0.2}), samples=200, seed=0)
    path = tmp_path / "r.png"
    rep.figure(str(path))
    assert path.stat().st_size > 1000


def test_figure_leaves_matplotlib_alone(tmp_path):
    mpl = pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    rep = compare(raw_net(), [[1.0, -0.5, 2.0], [0.2, 0.4, -1.0]], NeuronCrash({1: 0.2}), samples=200, seed=0)
    old, before = mpl.get_backend(), plt.get_fignums()
    mpl.use("svg")
    try:
        fig = rep.figure(tmp_path / "r.png")
        assert mpl.get_backend() == "svg" and plt.get_fignums() == before
        assert len(fig.axes) == 2 and (tmp_path / "r.png").read_bytes()[:4] == b"\x89PNG"
    finally:
        mpl.use(old)


def test_figure_without_matplotlib(monkeypatch):
    rep = compare(raw_net(), [[1.0, -0.5, 2.0]], NeuronCrash({1: 0.2}), samples=200, seed=0)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(SymftError, match="symft\\[plot\\]"):
        rep.figure()


# ---------------------------------------------------------------------- check

FOREIGN = [
    ("raw_relu", raw_net, [1.0, -0.5, 2.0], NeuronCrash({0: 0.1, 1: 0.2}), "rational enumeration"),
    ("file_relu_exact", lambda: load_network(os.path.join(DATA, "foreign_relu_exact.json")), [1, 2, -1],
     NeuronCrash({1: 0.1, 2: 0.2}), "rational enumeration"),
    ("file_tanh", lambda: load_network(os.path.join(DATA, "foreign_tanh.json")), [0.3, -1.0, 0.7],
     NeuronCrash({1: 0.05, 2: 0.05}), "enclosure"),
    ("file_sigmoid_hardtanh", lambda: load_network(os.path.join(DATA, "handwritten_sigmoid_hardtanh.json")),
     [0.5, -1.0, 0.25, 2.0], NeuronCrash({0: 0.05, 1: 0.1}), "enclosure"),
]


@pytest.mark.parametrize("name,factory,x,model,kind", FOREIGN, ids=[f[0] for f in FOREIGN])
def test_check_agrees_on_foreign_nets(name, factory, x, model, kind):
    # piecewise-linear nets get the rational engine; smooth ones a full-order enclosure (all configurations)
    r = check(factory(), x, model, samples=40000, seed=11)
    assert r.verdict == "agree", r.text()
    assert r.exact_source == kind and r.reference_rigorous
    assert any(c["a"] == "monte-carlo" and c["b"] == kind for c in r.comparisons)


def test_check_detects_a_wrong_exact_value(monkeypatch):
    real = symft.engines.enumeration.enumerate_crashes

    def wrong(*a, **k):
        r = real(*a, **k)
        import dataclasses
        return dataclasses.replace(r, mean=np.asarray(r.mean, dtype=float) + 0.05)

    monkeypatch.setattr(symft.engines.enumeration, "enumerate_crashes", wrong)
    r = check(raw_net(), [1.0, -0.5, 2.0], NeuronCrash({1: 0.2}), samples=20000, seed=0)
    assert r.verdict == "disagree"


def test_check_inconclusive_without_exact(monkeypatch):
    def too_large(*a, **k):
        raise TooLargeError("too large (test)")

    def missing(*a, **k):
        raise NotImplementedError("no enclosure (test)")

    monkeypatch.setattr(symft.engines.enumeration, "enumerate_crashes", too_large)
    monkeypatch.setattr(symft.engines.enclosure, "enclosure", missing)
    r = check(random_network([2, 3, 1], seed=0, activation="relu"), [0.5, 1.0], NeuronCrash({1: 0.1}),
              samples=5000, seed=0)
    assert r.verdict == "inconclusive" and r.exact_source == "none"


def test_check_uses_enclosure_on_wide_nets():
    net = random_network([4, 30, 1], seed=3)
    r = check(net, [0.1, 0.2, -0.3, 0.4], NeuronCrash({1: 0.01}), samples=20000, seed=2)
    assert r.exact_source == "enclosure" and r.verdict == "agree", r.text()


# ---------------------------------------------------------------------- CLI

def test_cli_check_and_report(capsys, tmp_path):
    rc = main(["check", os.path.join(DATA, "foreign_relu_exact.json"), "--input", "1,2,-1", "--p", "1:0.1,2:0.2",
               "--samples", "40000", "--seed", "5", "--json"])
    d = json.loads(capsys.readouterr().out)
    assert rc == 0 and d["verdict"] == "agree"
    rc = main(["check", os.path.join(DATA, "foreign_tanh.json"), "--input", "0.3,-1,0.7", "--p", "0.05",
               "--samples", "40000", "--seed", "5"])
    out = capsys.readouterr().out
    assert rc == 0 and "verdict: AGREE" in out
    inputs = tmp_path / "x.json"
    inputs.write_text(json.dumps([[1.0, -0.5, 2.0], [0.2, 0.4, -1.0]]))
    rc = main(["report", os.path.join(DATA, "foreign_tanh.json"), "--input", f"@{inputs}", "--p", "0.05",
               "--samples", "1000", "--json"])
    d = json.loads(capsys.readouterr().out)
    assert rc == 0 and len(d["cases"]) == 2 and d["bounds"]


def test_check_computes_the_clean_pass_once(monkeypatch):
    """Monte Carlo, the reference and T1 each validate their arguments, but share one fault-free pass."""
    import symft.problem as problem_module
    from symft.analysis.report import check as run_check
    from symft.graph.network import random_network

    calls = []
    real = problem_module.forward_trace

    def counting(net, X):
        calls.append(X.shape)
        return real(net, X)

    monkeypatch.setattr(problem_module, "forward_trace", counting)
    net = random_network([3, 5, 4, 2], seed=3, activation="tanh")
    r = run_check(net, [0.2, -0.1, 0.4], NeuronCrash({1: 0.05}), samples=2000)
    assert r.verdict in ("agree", "disagree", "untested", "inconclusive")
    assert len(calls) == 1


def test_check_is_inconclusive_when_the_reference_is_too_wide_to_test_anything():
    """At p = 0.3 on 60 tanh neurons the enclosure (whatever order fits) is far wider than Monte Carlo's
    interval: the comparison cannot fail, so the verdict must not be AGREE; at p = 1e-3 it is narrow and agrees."""
    from symft.analysis.report import check as run_check
    from symft.graph.network import random_network

    net = random_network([3, 30, 30, 2], seed=2, activation="tanh")
    x = [0.3, -0.2, 0.5]
    wide = run_check(net, x, NeuronCrash({1: 0.3, 2: 0.3}), samples=20000, order=1)
    assert wide.verdict == "inconclusive" and wide.summary().startswith("INCONCLUSIVE")
    assert any("tests nothing" in c["detail"] for c in wide.comparisons if c["status"] == "untested")
    narrow = run_check(net, x, NeuronCrash({1: 1e-3}), samples=20000)
    assert narrow.verdict == "agree" and narrow.summary().startswith("AGREE")
