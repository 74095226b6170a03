"""Certificates over a dataset (D5 over inputs and faults), against enumerations written here in Fractions."""

from __future__ import annotations

import itertools
import json
import math
from fractions import Fraction

import numpy as np
import pytest

from symft.analysis.dataset_certify import dataset_certificate, population_lower_bound, population_upper_bound
from symft.errors import InvalidArgument
from symft.faults import NeuronCrash

from .test_cli import assert_one_line_error, run, run_json
from .test_stratified import RELU_B, RELU_W, first_argmax, frac_chain, relu_net

X4 = [[0.5, -1.0, 0.75, 0.25], [1.0, 0.5, -0.5, 2.0], [-0.25, 0.5, 1.0, -1.0], [2.0, -0.5, 0.25, 0.5]]
Y4 = [0, 2, 1, 0]
P = {0: Fraction(1, 4), 1: Fraction(1, 8)}
UNITS = [(l, i) for l in (0, 1) for i in range((4, 3)[l])]


def law(x):
    """[(probability, outputs under crashes)] over every crash set, and the clean outputs (Fractions)."""
    clean = frac_chain(RELU_W, RELU_B, ["relu", "linear"], x, set())
    rows = []
    for bits in itertools.product((0, 1), repeat=len(UNITS)):
        w = math.prod((P[u[0]] if b else 1 - P[u[0]] for u, b in zip(UNITS, bits)), start=Fraction(1))
        rows.append((w, frac_chain(RELU_W, RELU_B, ["relu", "linear"], x, {u for u, b in zip(UNITS, bits) if b})))
    return clean, rows


def brute_output_tail(eps, sided="upper"):
    """max_k (1/B) Σ_b P(Δ_k(x_b) ≥ ε) (or |Δ_k| ≥ ε), and the per-input max over k."""
    per_k = [Fraction(0)] * 3
    each = []
    for x in X4:
        clean, rows = law(x)
        t = [sum((w for w, y in rows if ((abs(y[k] - clean[k]) if sided == "abs" else y[k] - clean[k]) >= eps)),
                 Fraction(0)) for k in range(3)]
        each.append(max(t))
        per_k = [a + b for a, b in zip(per_k, t)]
    return max(v / len(X4) for v in per_k), each


def brute_loss_tail(loss, eps):
    """(1/B) Σ_b P(Δ_loss(x_b) ≥ ε) with the labels Y4 as targets."""
    def om(y, t):
        if loss == "zero_one":
            return Fraction(int(first_argmax(y) != t))
        return sum(((v - (1 if k == t else 0)) ** 2 for k, v in enumerate(y)), Fraction(0))
    s = Fraction(0)
    for x, t in zip(X4, Y4):
        clean, rows = law(x)
        s += sum((w for w, y in rows if om(y, t) - om(clean, t) >= eps), Fraction(0))
    return s / len(X4)


@pytest.mark.parametrize("eps,sided", [(Fraction(1, 2), "upper"), (Fraction(1, 4), "abs"), (Fraction(0), "upper")])
def test_empirical_aggregation_equals_the_enumeration(eps, sided):
    want, each = brute_output_tail(eps, sided)
    c = dataset_certificate(relu_net(), X4, NeuronCrash({0: 0.25, 1: 0.125}), str(eps), 0.5, sided=sided)
    assert c.method == "exact" and c.methods == {"exact": 4}
    assert Fraction(c.bound_exact) == want
    assert Fraction(c.bound_lo) <= want <= Fraction(c.bound_hi)
    assert [Fraction(lo) <= w <= Fraction(hi) for (lo, hi), w in zip(c.each, each)] == [True] * 4
    assert c.verdict == ("certified" if want <= Fraction(1, 2) else "not certified")
    # a claim just below the exact value is refuted, one at it is certified
    below = dataset_certificate(relu_net(), X4, NeuronCrash({0: 0.25, 1: 0.125}), str(eps),
                                float(want) * (1 - 1e-9), sided=sided)
    assert below.verdict == "not certified"


def test_rigorous_and_statistical_bounds_contain_the_enumeration():
    want, _ = brute_output_tail(Fraction(1, 2))
    model = NeuronCrash({0: 0.25, 1: 0.125})
    r = dataset_certificate(relu_net(), X4, model, 0.5, 0.9, source="enclosure", order=2)
    assert r.method == "rigorous" and Fraction(r.bound_lo) <= want <= Fraction(r.bound_hi)
    s = dataset_certificate(relu_net(), X4, model, 0.5, 0.9, source="statistical", samples=4000, seed=3)
    assert s.method == "statistical" and s.confidence == 0.99 and Fraction(s.bound_hi) >= want


@pytest.mark.parametrize("loss,eps", [("zero_one", Fraction(1, 2)), ("squared", Fraction(1, 4))])
def test_loss_certificate_equals_the_enumeration(loss, eps):
    want = brute_loss_tail(loss, eps)
    assert want > 0
    c = dataset_certificate(relu_net(), X4, NeuronCrash({0: 0.25, 1: 0.125}), str(eps), 0.5, y=Y4, loss=loss)
    assert c.method == "exact" and Fraction(c.bound_exact) == want and c.loss == loss
    if loss == "zero_one":       # the proved (accuracy engine) and statistical answers contain it
        for source in ("enclosure", "statistical"):
            r = dataset_certificate(relu_net(), X4, NeuronCrash({0: 0.25, 1: 0.125}), 0.5, 0.5, y=Y4, loss=loss,
                                    source=source, order=1)
            assert Fraction(r.bound_lo) <= want <= Fraction(r.bound_hi), (source, r)


def test_population_bound_matches_its_closed_form_and_covers():
    # the mean 0: 1 − α^(1/n) exactly (n kl(0 ‖ μ) = −n log(1 − μ))
    assert population_upper_bound([0.0] * 40, 0.9) == pytest.approx(1 - 0.1 ** (1 / 40), rel=1e-9)
    assert population_upper_bound([0.0] * 40, 0.9) >= 1 - 0.1 ** (1 / 40)
    # coverage on a synthetic population with a known mean: a point mass at 0 and a Beta part
    rng = np.random.default_rng(12345)
    mu = 0.7 * 0 + 0.3 * (2 / (2 + 18))              # P(0) = 0.7, else Beta(2, 18)
    n, runs, hit_hi, hit_lo = 60, 2000, 0, 0
    for _ in range(runs):
        v = np.where(rng.random(n) < 0.7, 0.0, rng.beta(2, 18, n))
        hit_hi += population_upper_bound(v, 0.95) >= mu
        hit_lo += population_lower_bound(v, 0.95) <= mu
    assert hit_hi / runs >= 0.95 - 3 * math.sqrt(0.95 * 0.05 / runs)
    assert hit_lo / runs >= 0.95 - 3 * math.sqrt(0.95 * 0.05 / runs)
    # a two-point law at 0 and 1 (the worst case of a [0, 1] variable with that mean)
    hits = sum(population_upper_bound((rng.random(25) < 0.1).astype(float), 0.9) >= 0.1 for _ in range(2000))
    assert hits / 2000 >= 0.9 - 3 * math.sqrt(0.9 * 0.1 / 2000)


def test_population_in_the_certificate_uses_the_per_input_upper_bounds():
    c = dataset_certificate(relu_net(), X4, NeuronCrash({0: 0.25, 1: 0.125}), 0.5, 0.9, population_confidence=0.9)
    pop = c.population
    assert pop["confidence"] == 0.9 and "rigorous over faults" in pop["label"]
    assert pop["bound_hi"] >= c.bound_hi and pop["bound_lo"] <= c.bound_lo
    few = dataset_certificate(relu_net(), X4, NeuronCrash({0: 0.25, 1: 0.125}), 0.5, 0.3, population_confidence=0.9)
    assert few.verdict == "certified" and few.population["verdict"] == "undecided"
    assert "more inputs" in few.population["decide"]
    s = dataset_certificate(relu_net(), X4, NeuronCrash({0: 0.25, 1: 0.125}), 0.5, 0.9, source="statistical",
                            samples=500, population_confidence=0.9, confidence=0.99)
    assert s.population["confidence"] == pytest.approx(0.89) and "statistical over faults" in s.population["label"]


def test_bad_arguments_are_one_line():
    net = relu_net()
    with pytest.raises(InvalidArgument, match="delta"):
        dataset_certificate(net, X4, {0: 0.1}, 0.5, 1.5)
    with pytest.raises(InvalidArgument, match="X"):
        dataset_certificate(net, [[1.0, 2.0]], {0: 0.1}, 0.5, 0.1)
    with pytest.raises(InvalidArgument, match="y"):
        dataset_certificate(net, X4, {0: 0.1}, 0.5, 0.1, loss="zero_one")
    with pytest.raises(InvalidArgument, match="population_confidence"):
        dataset_certificate(net, X4, {0: 0.1}, 0.5, 0.1, population_confidence=1.0)


# ---------------------------------------------------------------------- the command

def _files(tmp_path):
    net = tmp_path / "net.json"
    layers = [{"weights": [[str(w) for w in row] for row in W], "bias": [str(b) for b in bb],
               "activation": a} for W, bb, a in zip(RELU_W, RELU_B, ["relu", "linear"])]
    net.write_text(json.dumps({"format": "symft.network", "version": 1, "layers": layers}))
    data = tmp_path / "d.npz"
    np.savez(data, X=np.array(X4), y=np.array(Y4))
    return net, data


def test_certify_over_a_dataset_json_and_text(capsys, tmp_path):
    net, data = _files(tmp_path)
    want, _ = brute_output_tail(Fraction(1, 2))
    d = run_json(capsys, "certify", net, "--data", data, "--p", "0:1/4,1:1/8", "--eps", "0.5", "--delta", "0.9",
                 "--population-confidence", "0.9")
    assert d["verdict"] == "certified" and d["method"] == "exact" and d["methods"] == {"exact": 4}
    assert isinstance(d["bound_lo"], float) and Fraction(d["bound_lo"]) <= want <= Fraction(d["bound_hi"])
    assert d["population"]["confidence"] == 0.9 and d["population"]["bound_hi"] >= d["bound_hi"]
    code, out, err = run(capsys, "certify", net, "--data", data, "--p", "0:1/4,1:1/8", "--eps", "0.5", "--delta",
                         str(float(want) / 2))
    assert code == 0 and out.splitlines()[0].startswith("not certified: ")
    assert any(line.startswith("over ") and "empirical" in line for line in out.splitlines())
    zl = run_json(capsys, "certify", net, "--data", data, "--p", "0:1/4,1:1/8", "--eps", "0.5", "--delta", "0.5",
                  "--loss", "zero_one")
    assert Fraction(zl["bound_exact"]) == brute_loss_tail("zero_one", Fraction(1, 2))
    one = run_json(capsys, "certify", net, "--input", ",".join(map(str, X4[1])), "--p", "0:1/4,1:1/8", "--eps", "0.5",
                   "--delta", "0.5", "--loss", "zero_one", "--target", "2")
    assert one["distribution"] == "one input" and one["n_inputs"] == 1


def test_certify_over_a_dataset_bad_options_are_one_line(capsys, tmp_path):
    net, data = _files(tmp_path)
    base = ["certify", net, "--p", "0:0.1", "--eps", "0.5", "--delta", "0.1"]
    assert_one_line_error(*run(capsys, *base, "--data", tmp_path / "none.npz"), "none.npz")
    assert_one_line_error(*run(capsys, *base, "--data", "nodata"), "data", "nodata")
    bad = tmp_path / "bad.npz"
    np.savez(bad, X=np.zeros((2, 4)), y=np.array([0, 7]))
    assert_one_line_error(*run(capsys, *base, "--data", bad), "bad.npz", "7")
    assert_one_line_error(*run(capsys, "certify", net, "--data", data, "--p", "0:0.1", "--eps", "nan", "--delta",
                               "0.1"), "--eps")
    for delta in ("0", "1.5", "x"):
        assert_one_line_error(*run(capsys, "certify", net, "--data", data, "--p", "0:0.1", "--eps", "0.5",
                                   "--delta", delta), "--delta")
    assert_one_line_error(*run(capsys, *base, "--data", data, "--input", "1,2,3,4"), "--input", "--data")
    assert_one_line_error(*run(capsys, *base), "--input")
    assert_one_line_error(*run(capsys, *base, "--data", data, "--target", "1"), "--target")
    assert_one_line_error(*run(capsys, *base, "--input", "1,2,3,4", "--population-confidence", "0.9"),
                          "--population-confidence")


@pytest.mark.parametrize("loss,eps", [("squared", Fraction(1, 4)), ("cross_entropy", Fraction(1, 8))])
def test_statistical_loss_certificate_contains_the_enumeration(loss, eps):
    def ce(y, t):
        m = max(float(v) for v in y)
        return math.log(sum(math.exp(float(v) - m) for v in y)) + m - float(y[t])
    want = Fraction(0)
    for x, t in zip(X4, Y4):
        clean, rows = law(x)
        if loss == "squared":
            om = lambda y: sum(((v - (1 if k == t else 0)) ** 2 for k, v in enumerate(y)), Fraction(0))  # noqa: E731
            want += sum((w for w, y in rows if om(y) - om(clean) >= eps), Fraction(0))
        else:
            want += sum((w for w, y in rows if ce(y, t) - ce(clean, t) >= float(eps)), Fraction(0))
    want /= len(X4)
    assert 0 < want < 1
    c = dataset_certificate(relu_net(), X4, NeuronCrash({0: 0.25, 1: 0.125}), str(eps), 0.5, y=Y4, loss=loss,
                            source="statistical", samples=3000, seed=2)
    assert c.method == "statistical" and c.confidence == 0.99
    assert Fraction(c.bound_lo) <= want <= Fraction(c.bound_hi)
    with pytest.raises(InvalidArgument, match="source"):
        dataset_certificate(relu_net(), X4, NeuronCrash({0: 0.25, 1: 0.125}), 0.25, 0.5, y=Y4, loss=loss,
                            source="enclosure")


# ---------------------------------------------------------------------- every --source with every --loss

def _sigmoid_files(tmp_path):
    """The relu net's weights under a sigmoid (no exact law), with the same data."""
    net = tmp_path / "sig.json"
    layers = [{"weights": [[str(w) for w in row] for row in W], "bias": [str(b) for b in bb],
               "activation": a} for W, bb, a in zip(RELU_W, RELU_B, ["sigmoid", "linear"])]
    net.write_text(json.dumps({"format": "symft.network", "version": 1, "layers": layers}))
    return net


_METHOD = {"exact": {"exact"}, "enclosure": {"rigorous"}, "taylor": {"rigorous"}, "statistical": {"statistical"},
           "auto": {"exact", "rigorous", "statistical"}}


@pytest.mark.parametrize("kind", ["relu", "sigmoid"])
@pytest.mark.parametrize("loss", [None, "zero_one", "squared", "cross_entropy"])
def test_every_source_with_every_loss_is_honoured_or_refused(capsys, tmp_path, kind, loss):
    """Each --source × --loss of certify --data answers with the method of that source, or is refused in one
    line naming --source whose suggested sources all answer (zero-one with taylor used to answer silently
    from the accuracy engine)."""
    net, data = _files(tmp_path)
    if kind == "sigmoid":
        net = _sigmoid_files(tmp_path)
    base = ["certify", net, "--data", data, "--p", "0:1/4,1:1/8", "--eps", "0.25", "--delta", "0.5",
            "--samples", "400"] + (["--loss", loss] if loss else [])
    answered, refused = {}, {}
    for source in ("auto", "exact", "enclosure", "taylor", "t1", "statistical"):
        code, out, err = run(capsys, *base, "--source", source, "--json")
        if code == 0:
            answered[source] = json.loads(out)["method"]
        else:
            assert_one_line_error(code, out, err, "--source")
            assert "=" not in err and "None" not in err, err
            refused[source] = err.split("; use ")[-1].strip().replace(" or ", ", ").split(", ")
    for source, method in answered.items():
        assert method in _METHOD[source], (source, method)
    for source, alternatives in refused.items():
        assert alternatives and set(alternatives) <= set(answered), (source, alternatives, answered)
    assert "t1" in refused
    if loss == "zero_one":
        assert "taylor" in refused                # no Taylor bound on a class change
    if loss in ("squared", "cross_entropy"):
        assert {"enclosure", "taylor"} <= set(refused)
    if loss == "cross_entropy":
        assert "exact" in refused                 # logarithms: no rational law
