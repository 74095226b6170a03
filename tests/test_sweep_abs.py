"""E max_k |Δ_k| in the sweep, against an enumeration written here in Fractions."""

from __future__ import annotations

import itertools
import json
import math
from fractions import Fraction

import numpy as np
import pytest

from symft.analysis.sweep import NORM, mean_abs_error, sweep
from symft.faults import NeuronCrash

from .test_cli import run_json
from .test_stratified import RELU_B, RELU_W, frac_chain, relu_net

X4 = [[0.5, -1.0, 0.75, 0.25], [1.0, 0.5, -0.5, 2.0], [-0.25, 0.5, 1.0, -1.0], [2.0, -0.5, 0.25, 0.5]]
UNITS = [(l, i) for l in (0, 1) for i in range((4, 3)[l])]


def brute_abs(p: Fraction, sites=(0, 1)):
    """(1/B) Σ_b E max_k |Δ_k(x_b)|, every crash set of the units at ``sites`` (probability p each)."""
    units = [u for u in UNITS if u[0] in sites]
    tot = Fraction(0)
    for x in X4:
        clean = frac_chain(RELU_W, RELU_B, ["relu", "linear"], x, set())
        for bits in itertools.product((0, 1), repeat=len(units)):
            w = math.prod((p if b else 1 - p for b in bits), start=Fraction(1))
            y = frac_chain(RELU_W, RELU_B, ["relu", "linear"], x, {u for u, b in zip(units, bits) if b})
            tot += w * max(abs(a - c) for a, c in zip(y, clean))
    return tot / len(X4)


@pytest.mark.parametrize("p", [Fraction(1, 4), Fraction(1, 64)])
def test_every_method_contains_the_enumeration(p):
    want = brute_abs(p)
    model = NeuronCrash({0: float(p), 1: float(p)})
    full = mean_abs_error(relu_net(), X4, model)
    assert full["abs_method"] == "rigorous" and full["abs_order"] == 7
    assert Fraction(full["abs_mean_lo"]) <= want <= Fraction(full["abs_mean_hi"])
    assert full["abs_mean_hi"] - full["abs_mean_lo"] <= 1e-11 * float(want)
    tail = mean_abs_error(relu_net(), X4, model, method="rigorous", order=1)     # P(≥ 2 crashes) × a box bound
    assert tail["abs_order"] == 1 and Fraction(tail["abs_mean_lo"]) <= want <= Fraction(tail["abs_mean_hi"])
    assert tail["abs_mean_hi"] - tail["abs_mean_lo"] > full["abs_mean_hi"] - full["abs_mean_lo"]
    st = mean_abs_error(relu_net(), X4, model, method="statistical", n_samples=3000, seed=1, confidence=0.999)
    assert st["abs_method"] == "statistical" and st["abs_confidence"] == 0.999
    assert Fraction(st["abs_mean_lo"]) <= want <= Fraction(st["abs_mean_hi"])


def test_sweep_points_carry_the_mean_absolute_error_and_the_figure_draws_it(tmp_path):
    pytest.importorskip("matplotlib")
    s = sweep(relu_net(), X4, [0, 2, 1, 0], [0.125, 0.5], sites=(0, 1))
    assert s.as_dict()["norm"] == NORM
    for pt in s.points:
        want = brute_abs(Fraction(pt["p"]))
        assert pt["abs_method"] in ("exact", "rigorous")
        assert Fraction(pt["abs_mean_lo"]) <= want <= Fraction(pt["abs_mean_hi"])
    fig = s.figure(tmp_path / "s.svg")
    assert len(fig.axes) == 3 and "Δ" in fig.axes[2].get_ylabel()


def test_sweep_command_reports_the_mean_absolute_error(capsys, tmp_path):
    net = tmp_path / "net.json"
    layers = [{"weights": [[str(w) for w in row] for row in W], "bias": [str(b) for b in bb], "activation": a}
              for W, bb, a in zip(RELU_W, RELU_B, ["relu", "linear"])]
    net.write_text(json.dumps({"format": "symft.network", "version": 1, "layers": layers}))
    data = tmp_path / "d.npz"
    np.savez(data, X=np.array(X4), y=np.array([0, 2, 1, 0]))
    d = run_json(capsys, "sweep", net, "--data", data, "--p", "0.25", "--sites", "1")
    want = brute_abs(Fraction(1, 4), sites=(1,))
    pt = d["points"][0]
    assert d["norm"] == NORM and isinstance(pt["abs_mean_lo"], float)
    assert Fraction(pt["abs_mean_lo"]) <= want <= Fraction(pt["abs_mean_hi"])
