"""Proved intervals for the expected change of a smooth loss (squared error, cross-entropy) under crashes.

Reference: every crash configuration enumerated in a 40-digit mpmath forward pass written here (tanh
hidden layer, linear output), the loss change averaged with its exact Bernoulli weights.
"""

from __future__ import annotations

import json
from itertools import product

import mpmath
import numpy as np
import pytest

from symft.analysis.loss_bounds import loss_mean_enclosure
from symft.errors import InvalidArgument
from symft.faults import NeuronCrash
from symft.graph.network import Network

from .test_cli import assert_one_line_error, run, run_json

mpmath.mp.dps = 40


def _reference(W1, b1, W2, b2, x, p_in, p_hid, loss, target):
    """E[ω(ŷ) − ω(y)] over every crash set of the inputs (prob. p_in) and the hidden neurons (p_hid)."""
    mp = mpmath.mpf
    n0, n1 = len(x), len(b1)

    def out(mask_in, mask_hid):
        h = [mpmath.tanh(sum(mp(W1[i][j]) * mp(x[j]) * (1 - mask_in[j]) for j in range(n0)) + mp(b1[i]))
             * (1 - mask_hid[i]) for i in range(n1)]
        return [sum(mp(W2[k][i]) * h[i] for i in range(n1)) + mp(b2[k]) for k in range(len(b2))]

    def omega(y):
        if loss == "squared":
            return sum((a - mp(t)) ** 2 for a, t in zip(y, target))
        return mpmath.log(sum(mpmath.exp(a) for a in y)) - y[target]

    clean = omega(out([0] * n0, [0] * n1))
    total = mp(0)
    for mi in product((0, 1), repeat=n0 if p_in else 0):
        mi = list(mi) or [0] * n0
        for mh in product((0, 1), repeat=n1 if p_hid else 0):
            mh = list(mh) or [0] * n1
            w = mp(1)
            if p_in:
                w *= mp(p_in) ** sum(mi) * (1 - mp(p_in)) ** (n0 - sum(mi))
            if p_hid:
                w *= mp(p_hid) ** sum(mh) * (1 - mp(p_hid)) ** (n1 - sum(mh))
            total += w * (omega(out(mi, mh)) - clean)
    return total


def _case(seed, scale=1.0):
    rng = np.random.default_rng(seed)
    W1, b1 = rng.normal(size=(4, 3)) * scale, rng.normal(size=4) * 0.1
    W2, b2 = rng.normal(size=(3, 4)) * scale, rng.normal(size=3) * 0.1
    x = rng.normal(size=3)
    net = Network.from_numpy([W1, W2], [b1, b2], activations=["tanh", "linear"])
    return net, W1, b1, W2, b2, x


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("loss,target", [("squared", [0.5, -1.0, 0.25]), ("cross_entropy", 1)])
@pytest.mark.parametrize("p_in,p_hid", [(0.0, 0.05), (0.0, 0.5), (0.2, 0.1)])
def test_the_interval_contains_the_enumerated_expectation(seed, loss, target, p_in, p_hid):
    net, W1, b1, W2, b2, x = _case(seed, scale=1.0 if seed < 3 else 30.0)     # seed 3: saturating tanh
    ps = {s: q for s, q in (("0", p_in), ("1", p_hid)) if q}
    want = _reference(W1, b1, W2, b2, x, p_in, p_hid, loss, target)
    full = (3 if p_in else 0) + 4
    for order in (1, full):
        d = loss_mean_enclosure(net, x, NeuronCrash(ps), loss, target, order=order)
        lo, hi = d["loss_mean_lo"][0], d["loss_mean_hi"][0]
        assert mpmath.mpf(lo) <= want <= mpmath.mpf(hi), (order, lo, float(want), hi)
        assert d["method"] == "rigorous"
    if loss == "squared":          # every configuration evaluated and the identity exact: only rounding is left
        assert hi - lo <= 1e-8 * max(1.0, abs(float(want)))     # the enclosure's proved float margins (wider at weights ~30)


def test_cross_entropy_is_looser_by_at_most_half_the_mean_square_error():
    net, W1, b1, W2, b2, x = _case(7)
    d = loss_mean_enclosure(net, x, NeuronCrash({"1": 0.3}), "cross_entropy", 0, order=4)
    sq = loss_mean_enclosure(net, x, NeuronCrash({"1": 0.3}), "squared", [0.0, 0.0, 0.0], order=4)
    # with target 0 the squared change is 2 y·EΔ + E|Δ|², so E|Δ|² is bounded by what the two intervals imply;
    # the cross-entropy width is ½ E|Δ|² plus rounding: compute E|Δ|² by brute force
    mp = mpmath.mpf
    e2 = mp(0)
    for mh in product((0, 1), repeat=4):
        h0 = [mpmath.tanh(sum(mp(W1[i][j]) * mp(x[j]) for j in range(3)) + mp(b1[i])) for i in range(4)]
        y0 = [sum(mp(W2[k][i]) * h0[i] for i in range(4)) + mp(b2[k]) for k in range(3)]
        y1 = [sum(mp(W2[k][i]) * h0[i] * (1 - mh[i]) for i in range(4)) + mp(b2[k]) for k in range(3)]
        w = mp("0.3") ** sum(mh) * mp("0.7") ** (4 - sum(mh))
        e2 += w * sum((a - b) ** 2 for a, b in zip(y1, y0))
    width = d["loss_mean_hi"][0] - d["loss_mean_lo"][0]
    assert width <= float(e2) / 2 * (1 + 1e-9) + 1e-12
    assert sq["loss_mean_hi"][0] - sq["loss_mean_lo"][0] < 1e-9


def test_a_batch_takes_one_target_per_input_and_bad_targets_are_refused():
    net, W1, b1, W2, b2, x = _case(1)
    X = np.stack([x, -x])
    d = loss_mean_enclosure(net, X, NeuronCrash({"1": 0.1}), "cross_entropy", [0, 2], order=2)
    for b, t in enumerate((0, 2)):
        want = _reference(W1, b1, W2, b2, X[b], 0.0, 0.1, "cross_entropy", t)
        assert mpmath.mpf(d["loss_mean_lo"][b]) <= want <= mpmath.mpf(d["loss_mean_hi"][b])
    with pytest.raises(InvalidArgument, match="target"):
        loss_mean_enclosure(net, x, NeuronCrash({"1": 0.1}), "squared", [1.0], order=1)
    with pytest.raises(InvalidArgument, match="target"):
        loss_mean_enclosure(net, x, NeuronCrash({"1": 0.1}), "cross_entropy", 3, order=1)
    with pytest.raises(InvalidArgument, match="loss"):
        loss_mean_enclosure(net, x, NeuronCrash({"1": 0.1}), "zero_one", 0, order=1)


def test_cli_exact_order_encloses_a_smooth_loss(capsys, tmp_path):
    net, W1, b1, W2, b2, x = _case(2)
    path = tmp_path / "net.json"
    path.write_text(json.dumps({"format": "symft.network", "version": 1, "layers": [
        {"weights": W1.tolist(), "bias": b1.tolist(), "activation": "tanh"},
        {"weights": W2.tolist(), "bias": b2.tolist(), "activation": "linear"}]}))
    xs = ",".join(repr(float(v)) for v in x)
    for loss, target, targ in (("squared", "0.5,-1,0.25", [0.5, -1.0, 0.25]), ("cross_entropy", "2", 2)):
        d = run_json(capsys, "exact", path, "--input", xs, "--p", "1:0.2", "--loss", loss, "--target", target,
                     "--order", "2")
        want = _reference(W1, b1, W2, b2, x, 0.0, 0.2, loss, targ)
        assert mpmath.mpf(d["loss_mean_lo"][0]) <= want <= mpmath.mpf(d["loss_mean_hi"][0]), d
        assert d["method"] == "rigorous"
        code, out, err = run(capsys, "exact", path, "--input", xs, "--p", "1:0.2", "--loss", loss, "--target",
                             target, "--order", "2")
        assert code == 0 and "loss change" in out and "rigorous" in out
    assert_one_line_error(*run(capsys, "exact", path, "--input", xs, "--p", "1:0.2", "--loss", "squared",
                               "--target", "1,0", "--order", "1"), "--target", "3")


def test_cross_entropy_split_bracket_is_narrower_than_half_the_mean_square_error():
    # at a small crash probability the configurations with ≤ 1 crash carry almost all of E|Δ|², and the
    # bracket applies to the rest only: the width falls far below the plain convexity bracket ½ E|Δ|²
    net, W1, b1, W2, b2, x = _case(5)
    p = 0.02
    d = loss_mean_enclosure(net, x, NeuronCrash({"1": p}), "cross_entropy", 2, order=1)
    want = _reference(W1, b1, W2, b2, x, 0.0, p, "cross_entropy", 2)
    lo, hi = d["loss_mean_lo"][0], d["loss_mean_hi"][0]
    assert mpmath.mpf(lo) <= want <= mpmath.mpf(hi)
    mp = mpmath.mpf
    h0 = [mpmath.tanh(sum(mp(W1[i][j]) * mp(x[j]) for j in range(3)) + mp(b1[i])) for i in range(4)]
    e2 = mp(0)
    for mh in product((0, 1), repeat=4):
        w = mp(p) ** sum(mh) * (1 - mp(p)) ** (4 - sum(mh))
        e2 += w * sum((sum(mp(W2[k][i]) * h0[i] * mh[i] for i in range(4))) ** 2 for k in range(3))
    assert hi - lo < float(e2) / 2 / 10, (hi - lo, float(e2) / 2)
