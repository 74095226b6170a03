"""Inputs that used to end in a traceback or an odd line: each is one line and exit 2, or a sound answer.

* ``train --data`` on a dataset too small to split;
* weights near 1e200 (``enclose``, ``exact --order``, ``derive``, ``certify``), and a Hypothesis search over
  weights and inputs from 1e-8 to 1e300 for any command that ends in an internal error;
* ``sample`` on a change that is exactly 0, a loss labelled "loss", errors of ``certify --data`` naming flags.
"""

import json
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from symft.cli import main

RELU = "examples/relu_small.json"


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(code, out, err, *fragments):
    assert code == 2 and out == "", (code, out, err)
    assert err.count("\n") == 1 and err.startswith("symft: error: "), err
    assert "internal error" not in err and "Traceback" not in err, err
    for f in fragments:
        assert f in err, (f, err)


def _net(tmp_path, layers, name="net.json"):
    path = tmp_path / name
    path.write_text(json.dumps({"format": "symft.network", "version": 1, "layers": layers}))
    return path


@pytest.mark.parametrize("labels", [[0, 1, 0], [0], [0, 1]])
def test_train_on_a_dataset_too_small_to_split(capsys, tmp_path, labels):
    np.savez(tmp_path / "tiny.npz", X=np.random.default_rng(0).uniform(-1, 1, (len(labels), 4)), y=np.array(labels))
    one_line_error(*run(capsys, "train", "--data", tmp_path / "tiny.npz", "--arch", "4,3,2", "--epochs", "1"),
                   "--data", "test part empty", "at least 3 examples")


def test_check_with_every_draw_the_same_beyond_float64(capsys, tmp_path):
    net = _net(tmp_path, [{"weights": [[0.0005658678709473561]], "bias": [-8.601267444219193e+47],
                           "activation": "linear"},
                          {"weights": [[5.844519317164084e+213], [-5.542422787999364e+18]],
                           "bias": [4.323564293412949e+261, 5.318837831011609e+206], "activation": "linear"}])
    one_line_error(*run(capsys, "check", net, "--input", "-1.3247762316234263e+84", "--p", "1:0.1", "--samples",
                        "50"), "check", "overflow")


def test_weights_near_1e200_are_refused_in_one_line(capsys, tmp_path):
    big = _net(tmp_path, [{"weights": [[1e200, -1e200], [3e199, 1e-8]], "bias": [0, 1e200], "activation": "tanh"},
                          {"weights": [[1e200, 2e200]], "bias": [0], "activation": "linear"}])
    for argv in (["enclose", big, "--input", "1,2", "--p", "1:0.1", "--order", "1"],
                 ["exact", big, "--input", "1,2", "--p", "1:0.1", "--order", "2"],
                 ["enclose", big, "--input", "1,2", "--p", "1:0.1", "--order", "auto"]):
        one_line_error(*run(capsys, *argv), "enclosure", "float64")


def test_enclosure_refuses_a_variance_beyond_float64_and_encloses_one_within(capsys, tmp_path):
    """Weights 1e100 (Δ about 1e200, Δ² beyond float64): refused; weights 1e70 (Δ² about 1e280): the certified
    intervals hold the exact mean and variance, computed here in rationals."""
    def layers(s):
        return [{"weights": [[10.0 ** s, -1e-8], [3 * 10.0 ** (s - 1), 1e12]], "bias": [0, 10.0 ** (s - 10)],
                 "activation": "relu"}, {"weights": [[10.0 ** s, 2e-8]], "bias": [0], "activation": "linear"}]
    one_line_error(*run(capsys, "enclose", _net(tmp_path, layers(100), "a.json"), "--input", "1,2", "--p", "1:1/10",
                        "--order", "1"), "enclosure", "E Δ² is about 1e399", "beyond the float64 range")
    spec = layers(70)
    code, out, err = run(capsys, "enclose", _net(tmp_path, spec, "b.json"), "--input", "1,2", "--p", "1:1/10",
                         "--order", "1", "--json")
    assert code == 0, err
    d = json.loads(out)
    F = Fraction
    W1, b1 = [[F(v) for v in r] for r in spec[0]["weights"]], [F(v) for v in spec[0]["bias"]]
    w2 = [F(v) for v in spec[1]["weights"][0]]
    h = [max(F(0), r[0] * 1 + r[1] * 2 + b) for r, b in zip(W1, b1)]
    p, mean, second = F(1, 10), F(0), F(0)
    for mask in range(4):
        w = np.prod([p if mask >> i & 1 else 1 - p for i in range(2)])
        delta = sum(-w2[i] * h[i] for i in range(2) if mask >> i & 1)
        mean, second = mean + w * delta, second + w * delta * delta
    assert F(d["mean_lo"][0]) <= mean <= F(d["mean_hi"][0])
    assert F(d["var_lo"][0]) <= second - mean * mean <= F(d["var_hi"][0])
    assert abs(mean) > 1e138 and d["warnings"] == []


def test_derive_refuses_decimals_beyond_float64(capsys, tmp_path):
    # sigmoid(−1e237) is about 2^(−1.4e237): SymPy holds it, cannot print it, no float64 holds it
    net = _net(tmp_path, [{"weights": [[1e200, 1e37]], "bias": [0], "activation": "sigmoid"},
                          {"weights": [[1e100]], "bias": [0], "activation": "linear"}])
    one_line_error(*run(capsys, "derive", net, "--input", "-1e37,-1e100", "--p", "1:0.1", "--order", "1"),
                   "derive", "float64 range")


def test_certify_beyond_float64_is_sound(capsys, tmp_path):
    """Exact moments beyond the float64 range: the bound is rounded outward to 1 (or inf moments), never an error."""
    layers = [{"weights": [["1e289", "1e233"], ["-1e102", "-1e78"]], "bias": ["0", "1e216"], "activation": "linear"},
              {"weights": [["1e22", "-1e189"]], "bias": ["1e138"], "activation": "linear"}]
    net = _net(tmp_path, layers)
    code, out, err = run(capsys, "certify", net, "--input", "-1e274,-1e250", "--p", "1:1/10", "--eps", "1",
                         "--delta", "1/2", "--json")
    assert code == 0, err
    d = json.loads(out)
    # the exact law by hand: one linear net, the two hidden neurons crash independently with p = 1/10
    F = Fraction
    x = [F(-10) ** 274, -F(10) ** 250]
    W1 = [[F(10) ** 289, F(10) ** 233], [-F(10) ** 102, -F(10) ** 78]]
    h = [W1[0][0] * x[0] + W1[0][1] * x[1], W1[1][0] * x[0] + W1[1][1] * x[1] + F(10) ** 216]
    w2 = [F(10) ** 22, -F(10) ** 189]
    p = F(1, 10)
    deltas = [(-w2[0] * h[0], p * (1 - p)), (-w2[1] * h[1], (1 - p) * p), (-w2[0] * h[0] - w2[1] * h[1], p * p)]
    mean = sum(d_ * w for d_, w in deltas)
    var = sum(d_ * d_ * w for d_, w in deltas) - mean * mean
    cantelli = 1 if mean >= 1 else var / (var + (1 - mean) ** 2)
    assert d["delta_bound"] >= float(cantelli) * (1 - 1e-15) and d["delta_bound"] <= 1
    assert d["certified"] == (cantelli <= F(1, 2))


MAG = st.floats(-8, 300).map(lambda e: 10.0 ** e)
VALUE = st.tuples(st.sampled_from([-1.0, 1.0]), MAG).map(lambda t: t[0] * t[1])
COMMANDS = [["enclose", "--p", "1:0.1", "--order", "1"], ["exact", "--p", "1:0.1", "--order", "2"],
            ["exact", "--p", "1:0.1"], ["taylor", "--p", "1:0.1"], ["certify", "--p", "1:0.1", "--eps", "1",
                                                                   "--delta", "0.5"],
            ["derive", "--p", "1:0.1", "--order", "1"], ["sample", "--p", "1:0.1", "--samples", "50"],
            ["worst", "--max-crashes", "1"], ["check", "--p", "1:0.1", "--samples", "50"]]


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(w1=st.lists(VALUE, min_size=4, max_size=4), b1=st.lists(VALUE, min_size=2, max_size=2),
       w2=st.lists(VALUE, min_size=2, max_size=2), x=st.lists(VALUE, min_size=2, max_size=2),
       act=st.sampled_from(["relu", "tanh", "sigmoid", "linear"]))
def test_no_command_ends_in_an_internal_error_on_weights_up_to_1e300(capsys, tmp_path_factory, w1, b1, w2, x, act):
    path = _net(tmp_path_factory.mktemp("big"), [
        {"weights": [w1[:2], w1[2:]], "bias": b1, "activation": act},
        {"weights": [w2], "bias": [0.0], "activation": "linear"}])
    for c in COMMANDS:
        code, out, err = run(capsys, c[0], path, "--input", ",".join(map(repr, x)), *c[1:])
        if code == 2:
            one_line_error(code, out, err)
        else:
            assert code == 0, err
            assert "nan" not in out.lower().replace("nano", "").split(), out


def test_sample_prints_an_exact_zero_change(capsys, tmp_path):
    """One output: the predicted class never changes; every configuration is enumerated: exactly 0."""
    net = _net(tmp_path, [{"weights": [[1.0, -2.0], [0.5, 1.0]], "bias": [0.0, 0.0], "activation": "relu"},
                          {"weights": [[1.0, 1.0]], "bias": [0.0], "activation": "linear"}])
    code, out, err = run(capsys, "sample", net, "--input", "1,2", "--p", "1:0.1", "--samples", "100")
    assert code == 0, err
    assert "P(prediction changes) = 0 (exact: every configuration enumerated)" in out and "1e-300" not in out
    d = json.loads(run(capsys, "sample", net, "--input", "1,2", "--p", "1:0.1", "--samples", "100", "--json")[1])
    assert d["change"] == d["change_lo"] == d["change_hi"] == 0.0
    # a change that is not 0 keeps its interval (relu_small at this input: 9/100 of the configurations)
    d = json.loads(run(capsys, "sample", RELU, "--input", "1,-0.5,2", "--p", "1:1/10", "--samples", "100",
                       "--json")[1])
    assert d["change_lo"] <= 0.09 <= d["change_hi"] and d["change_hi"] > 0


def test_a_loss_is_called_the_loss(capsys):
    code, out, err = run(capsys, "taylor", RELU, "--input", "1,-0.5,2", "--p", "1:0.1", "--loss", "squared",
                         "--target", "0,0")
    assert code == 0, err
    assert "output loss" not in out and "  loss " in out


def test_certify_data_errors_name_the_flags(capsys, tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "small.npz", X=rng.uniform(-1, 1, (6, 3)), y=np.array([0, 1, 0, 1, 1, 0]))
    base = ["certify", RELU, "--data", tmp_path / "small.npz", "--p", "1:0.1", "--delta", "0.5"]
    one_line_error(*run(capsys, *base, "--eps", "0", "--loss", "squared", "--source", "statistical"), "error: --eps:")
    one_line_error(*run(capsys, *base, "--eps", "1", "--loss", "squared", "--source", "enclosure"),
                   "error: --source:")


# ---------------------------------------------------------------------- errors in the command line's words

def _plain(err):
    """No Python syntax in an error line: no keyword=value, no None/True/False, no tuple of a shape."""
    import re

    line = err.strip()
    assert not re.search(r"(?<![-\w])[a-z_]\w*=", line), line
    assert not re.search(r"\b(None|True|False)\b", line), line
    assert "Errno" not in line and "Error:" not in line, line


def test_errors_name_flags_not_keywords(capsys, tmp_path):
    """Errors that used to name a library keyword (``data:``, ``p:``, ``method:``, ``failures[0]:``, ``delta:``,
    ``x=…, C=…``, ``sided='upper'``) name the flag instead."""
    sig = _net(tmp_path, [{"weights": [["1", "-1/2", "0"], ["1/2", "1", "-1"]], "bias": ["0", "0"],
                           "activation": "sigmoid"},
                          {"weights": [["1", "-1"], ["1/2", "1"]], "bias": ["0", "0"], "activation": "linear"}],
               "sig.json")
    data = tmp_path / "d.npz"
    np.savez(data, X=np.array([[0.5, -1.0, 0.25], [1.0, 0.5, -0.5], [0.25, 0.5, 1.0]]), y=np.array([0, 1, 0]))
    cases = [
        (["accuracy", RELU, "--data", "nodata", "--p", "0.1"], "--data:"),
        (["sweep", RELU, "--data", "nodata", "--p", "0.1"], "--data:"),
        (["certify", RELU, "--data", "nodata", "--p", "0.1", "--eps", "0.5", "--delta", "0.1"], "--data:"),
        (["certify", RELU, "--input", "1,2,3", "--p", "0.1", "--eps", "0.5", "--delta", "0"], "--delta:"),
        (["reduce", "subset-sum", "1", "2", "3", "--p", "0"], "--p:"),
        (["reduce", "subset-sum", "1", "2", "3", "--solver", "nosolver"], "--solver:"),
        (["fep", RELU, "--per-site", "1"], "--C"),
        (["fep", sig, "--per-site", "99"], "--per-site"),
        (["fep", sig, "--max-crashes", "99"], "--max-crashes:"),
        (["certify", sig, "--data", data, "--p", "0.1", "--eps", "0.5", "--delta", "0.1", "--loss", "zero_one",
          "--sided", "abs"], "--sided:"),
        (["certify", sig, "--data", data, "--p", "0.1", "--eps", "0", "--delta", "0.1", "--loss", "zero_one"],
         "--eps:"),
        (["certify", sig, "--data", data, "--p", "0.1", "--eps", "0.5", "--delta", "0.1", "--source", "exact"],
         "--source:"),
        (["certify", RELU, "--data", data, "--p", "0.1", "--eps", "0.5", "--delta", "0.1", "--inequality",
          "chebyshev"], "--inequality:"),
        (["train", "--data", tmp_path / "nodata.npz", "--epochs", "1"], "--data:"),
    ]
    for argv, flag in cases:
        code, out, err = run(capsys, *argv)
        one_line_error(code, out, err, flag)
        assert err.startswith(f"symft: error: {flag.rstrip(':')}"), err
        _plain(err)
