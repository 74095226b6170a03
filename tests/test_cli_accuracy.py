"""``symft accuracy``: the command's contract, against enumerations written here in Fractions."""

from __future__ import annotations

import json
from fractions import Fraction as F
from itertools import product

import numpy as np
import pytest

from .test_cli import assert_one_line_error, run, run_json

KEYS = ("clean_accuracy", "accuracy_lo", "accuracy_hi", "change_lo", "change_hi")


def _net(tmp_path, layers):
    p = tmp_path / "net.json"
    p.write_text(json.dumps({"format": "symft.network", "version": 1, "layers": layers}))
    return p


def _exact_answers(W, X, y, p):
    """Accuracy under crashes and P(prediction changes) of a linear layer with input crashes, every configuration
    enumerated in Fractions (classes: the first largest output)."""
    acc = chg = F(0)
    for x, label in zip(X, y):
        clean = max(range(len(W)), key=lambda k: (sum(w * v for w, v in zip(W[k], x)), -k))
        for mask in product((0, 1), repeat=len(x)):
            prob = F(1)
            for m in mask:
                prob *= p if m else 1 - p
            xs = [0 if m else v for m, v in zip(mask, x)]
            out = [sum(w * v for w, v in zip(row, xs)) for row in W]
            cls = min(k for k in range(len(out)) if out[k] == max(out))
            acc += prob * (cls == label)
            chg += prob * (cls != clean)
    return acc / len(X), chg / len(X)


def test_accuracy_json_contract_and_exact_values(capsys, tmp_path):
    W = [[1, -1, F(1, 2)], [-1, 1, F(1, 4)]]
    X = [[2, 1, 1], [1, 3, -1], [F(1, 2), F(1, 4), 2], [-1, 1, 1]]
    y = [0, 1, 0, 0]
    p = F(1, 4)
    net = _net(tmp_path, [{"weights": [[str(w) for w in row] for row in W], "activation": "linear"}])
    data = tmp_path / "d.npz"
    np.savez(data, X=np.array([[float(v) for v in x] for x in X]), y=np.array(y))
    d = run_json(capsys, "accuracy", net, "--data", data, "--p", "0:0.25")
    assert all(isinstance(d[k], float) for k in KEYS) and isinstance(d["method"], str)
    acc, chg = _exact_answers(W, X, y, p)
    assert d["method"] == "exact"
    assert F(d["accuracy_lo"]) <= acc <= F(d["accuracy_hi"]) and d["accuracy_hi"] - d["accuracy_lo"] < 1e-15
    assert F(d["change_lo"]) <= chg <= F(d["change_hi"]) and d["change_hi"] - d["change_lo"] < 1e-15
    assert d["clean_accuracy"] == 0.75                          # input 3: outputs (-3/2, 9/4) → class 1, label 0
    # the statistical answer contains the exact values too, and says so
    s = run_json(capsys, "accuracy", net, "--data", data, "--p", "0:0.25", "--method", "statistical",
                 "--samples", "200", "--seed", "3")
    assert s["method"] == "statistical" and s["confidence"] == 0.95
    assert s["accuracy_lo"] <= float(acc) <= s["accuracy_hi"] and s["change_lo"] <= float(chg) <= s["change_hi"]


def test_accuracy_text_names_the_method_first_line_plain(capsys, tmp_path):
    net = _net(tmp_path, [{"weights": [["1", "-1"], ["-1", "1"]], "activation": "linear"}])
    data = tmp_path / "d.npz"
    np.savez(data, X=np.array([[2.0, 1.0]]), y=np.array([0]))
    code, out, err = run(capsys, "accuracy", net, "--data", data, "--p", "0:0.25")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("accuracy under crashes  0.8125") and "clean 1: 1 of 1 inputs" in lines[0]
    assert lines[1].startswith("P(prediction changes)   0.1875")
    assert lines[2].startswith("method                  exact")


def test_accuracy_bad_input_is_one_line(capsys, tmp_path):
    net = _net(tmp_path, [{"weights": [["1", "-1"], ["-1", "1"]], "activation": "linear"}])
    assert_one_line_error(*run(capsys, "accuracy", net, "--data", tmp_path / "none.npz", "--p", "0:0.1"),
                          "none.npz")
    bad = tmp_path / "bad.npz"
    np.savez(bad, X=np.zeros((3, 2)), y=np.array([0, 1, 5]))
    assert_one_line_error(*run(capsys, "accuracy", net, "--data", bad, "--p", "0:0.1"), "bad.npz", "y", "5")
    assert_one_line_error(*run(capsys, "accuracy", net, "--data", "digits", "--p", "0:0.1"), "digits")
    good = tmp_path / "good.npz"
    np.savez(good, X=np.zeros((3, 2)), y=np.array([0, 1, 1]))
    assert_one_line_error(*run(capsys, "accuracy", net, "--data", good, "--p", "0:2"), "--p")


@pytest.mark.slow
def test_accuracy_on_the_digits_example_is_rigorous_and_quick(capsys):
    pytest.importorskip("sklearn")
    d = run_json(capsys, "accuracy", "examples/digits_sigmoid.json", "--data", "digits", "--p", "1e-3")
    assert d["method"] in ("exact", "rigorous") and d["n_inputs"] == 450
    assert d["accuracy_lo"] <= d["clean_accuracy"] + 1e-12 and d["change_hi"] - d["change_lo"] < 1e-3
    assert d["seconds"] < 30


def test_exact_zero_one_loss_with_order_is_a_proved_interval(capsys, tmp_path):
    """``exact --loss zero_one --order K`` bounds the loss change (it printed the output error before);
    without --order the loss is enumerated (key loss_mean); other losses with --order are refused."""
    W = [[1, -1, F(1, 2)], [-1, 1, F(1, 4)]]
    x, p = [2, 1, 1], F(1, 4)
    net = _net(tmp_path, [{"weights": [[str(w) for w in row] for row in W], "activation": "linear"}])
    for target in (0, 1):
        acc, _ = _exact_answers(W, [x], [target], p)
        clean_right = 1 if target == 0 else 0                   # outputs (3/2, -3/4): class 0
        want = (1 - acc) - (1 - clean_right)                    # E[wrong under crashes] − wrong without
        e = run_json(capsys, "exact", net, "--input", "2,1,1", "--p", "0:0.25", "--loss", "zero_one",
                     "--target", target)
        assert F(e["loss_mean"][0]) == want
        for order in (1, 3):
            d = run_json(capsys, "exact", net, "--input", "2,1,1", "--p", "0:0.25", "--loss", "zero_one",
                         "--target", target, "--order", order)
            assert F(d["loss_mean_lo"][0]) <= want <= F(d["loss_mean_hi"][0]), (d, want)
            if order == 3:                                      # every configuration: the interval is the value
                assert d["loss_mean_hi"][0] - d["loss_mean_lo"][0] < 1e-15
    # the squared loss's change: E Δ_ω = 2 (y − t)·E Δ + E|Δ|², with every configuration enumerated in Fractions
    want = F(0)
    y0 = [sum(w * v for w, v in zip(row, x)) for row in W]
    for mask in product((0, 1), repeat=3):
        prob = F(1)
        for m in mask:
            prob *= p if m else 1 - p
        y1 = [sum(w * v * (1 - m) for w, v, m in zip(row, x, mask)) for row in W]
        want += prob * (sum((a - t) ** 2 for a, t in zip(y1, (1, 0))) - sum((a - t) ** 2 for a, t in zip(y0, (1, 0))))
    d = run_json(capsys, "exact", net, "--input", "2,1,1", "--p", "0:0.25", "--loss", "squared", "--target", "1,0",
                 "--order", "1")
    assert F(d["loss_mean_lo"][0]) <= want <= F(d["loss_mean_hi"][0]), (d, want)


def test_sweep_points_equal_the_enumeration_and_the_figure_leaves_matplotlib_alone(capsys, tmp_path):
    mpl = pytest.importorskip("matplotlib")
    W = [[1, -1, F(1, 2)], [-1, 1, F(1, 4)]]
    X = [[2, 1, 1], [1, 3, -1], [F(1, 2), F(1, 4), 2], [-1, 1, 1]]
    y = [0, 1, 0, 0]
    net = _net(tmp_path, [{"weights": [[str(w) for w in row] for row in W], "activation": "linear"}])
    data = tmp_path / "d.npz"
    np.savez(data, X=np.array([[float(v) for v in x] for x in X]), y=np.array(y))
    backend = mpl.get_backend()
    fig = tmp_path / "sweep.png"
    d = run_json(capsys, "sweep", net, "--data", data, "--p", "1e-2:0.5:3", "--sites", "0", "--figure", fig)
    assert [pt["p"] for pt in d["points"]] == [0.01, 0.0707107, 0.5]
    for pt in d["points"]:
        acc, chg = _exact_answers(W, X, y, F(pt["p"]))
        assert pt["method"] == "exact"
        assert F(pt["accuracy_lo"]) <= acc + F(1, 10 ** 12) and acc - F(1, 10 ** 12) <= F(pt["accuracy_hi"])
        assert F(pt["change_lo"]) <= chg + F(1, 10 ** 12) and chg - F(1, 10 ** 12) <= F(pt["change_hi"])
    assert fig.exists() and fig.stat().st_size > 1000 and mpl.get_backend() == backend
    assert_one_line_error(*run(capsys, "sweep", net, "--data", data, "--p", "1e-1:1e-2:3"), "--p", "LO ≤ HI")
    assert_one_line_error(*run(capsys, "sweep", net, "--data", data, "--p", "0:1:3"), "--p LO")
