"""Certified enclosures with weights from 1e150 to 1e250, against the exact moments (rationals and mpmath).

* A tanh layer whose pre-activations are near ±1e200: its own float error bound used to grow with the
  pre-activation (``η |z|`` and ``K e`` unbounded) until ``E Δ²``'s margin overflowed and the enclosure
  refused; a bounded activation's error is at most its range's width, so the enclosure answers.
* Output weights near 1e200 with a small crash probability: ``Σ Δ²`` is beyond float64 but ``p Σ Δ²`` is not;
  the sums are scaled by a power of two and the margins are rationals, so the enclosure answers.
* Where ``E Δ²`` itself is beyond float64, the refusal says so, with its size.
"""

from __future__ import annotations

import itertools
import json
from fractions import Fraction

import mpmath
import numpy as np
import pytest

from symft.cli import main
from symft.engines.enclosure import enclosure
from symft.errors import FloatOverflowError
from symft.faults import NeuronCrash
from symft.graph.network import Network

X = [1.0, 2.0]


def _layers(s_in, s_out):
    W1 = [[s_in, -s_in], [0.3 * s_in, 1e-8]]
    b1 = [0.0, s_in]
    w2 = [s_out, 2 * s_out]
    return W1, b1, w2


def exact_moments(W1, b1, w2, p):
    """E Δ and E Δ² by enumerating both hidden tanh neurons' crashes: the pre-activations in rationals (the
    floats' binary values), tanh in mpmath at 60 digits, the rest in mpmath."""
    mpmath.mp.dps = 60
    z = [sum((Fraction(w) * Fraction(x) for w, x in zip(row, X)), Fraction(0)) + Fraction(b) for row, b in zip(W1, b1)]
    h = [mpmath.tanh(mpmath.mpf(q.numerator) / q.denominator) for q in z]
    p = mpmath.mpf(Fraction(p).numerator) / Fraction(p).denominator
    mean = second = mpmath.mpf(0)
    for crashed in itertools.product((0, 1), repeat=2):
        w = mpmath.fprod([p if c else 1 - p for c in crashed])
        d = -sum((mpmath.mpf(w2[i]) * h[i] for i in range(2) if crashed[i]), mpmath.mpf(0))
        mean += w * d
        second += w * d * d
    return mean, second


def _inside(lo, v, hi):
    return mpmath.mpf(lo) <= v <= mpmath.mpf(hi)


@pytest.mark.parametrize("s_in", [1e150, 1e200, 1e250])
@pytest.mark.parametrize("order", [1, 2])
def test_saturated_tanh_with_huge_preactivations_is_enclosed(s_in, order):
    W1, b1, w2 = _layers(s_in, 1.0)
    net = Network.from_numpy([np.array(W1), np.array([w2])], [np.array(b1), np.zeros(1)], ["tanh", "linear"])
    e = enclosure(net, X, NeuronCrash({1: 0.1}), order=order)
    mean, second = exact_moments(W1, b1, w2, 0.1)
    assert _inside(e.mean_lo[0], mean, e.mean_hi[0])
    assert _inside(e.second_lo[0], second, e.second_hi[0])
    assert _inside(e.var_lo[0], second - mean ** 2, e.var_hi[0])
    # |Δ| ≤ 3 for every configuration: the enclosure is bounded by the range, not by 1e150
    assert e.mean_hi[0] - e.mean_lo[0] < 100 and e.second_hi[0] < 1e4


@pytest.mark.parametrize("s_out,p", [(1e160, 1e-30), (1e200, 1e-100), (1e250, 1e-250)])
def test_output_weights_near_1e200_with_a_small_probability_are_enclosed(s_out, p):
    W1, b1, w2 = _layers(1.0, s_out)
    net = Network.from_numpy([np.array(W1), np.array([w2])], [np.array(b1), np.zeros(1)], ["tanh", "linear"])
    e = enclosure(net, X, NeuronCrash({1: p}), order=1)
    mean, second = exact_moments(W1, b1, w2, p)
    assert mpmath.mpf(2) ** 1024 < second / p < mpmath.inf      # Σ Δ² alone is beyond float64
    assert _inside(e.mean_lo[0], mean, e.mean_hi[0])
    assert _inside(e.second_lo[0], second, e.second_hi[0])
    assert _inside(e.var_lo[0], second - mean ** 2, e.var_hi[0])
    assert (e.mean_hi[0] - e.mean_lo[0]) < 1e-3 * abs(float(mean))


def test_a_second_moment_beyond_float64_is_refused_saying_so(capsys, tmp_path):
    W1, b1, w2 = _layers(1.0, 1e200)
    mean, second = exact_moments(W1, b1, w2, 0.1)
    assert second > mpmath.mpf(10) ** 398
    net = Network.from_numpy([np.array(W1), np.array([w2])], [np.array(b1), np.zeros(1)], ["tanh", "linear"])
    with pytest.raises(FloatOverflowError, match=r"E Δ² is about 1e\d+, beyond the float64 range"):
        enclosure(net, X, NeuronCrash({1: 0.1}), order=1)
    path = tmp_path / "big.json"
    layers = [{"weights": W1, "bias": b1, "activation": "tanh"}, {"weights": [w2], "bias": [0], "activation": "linear"}]
    path.write_text(json.dumps({"format": "symft.network", "version": 1, "layers": layers}))
    code = main(["enclose", str(path), "--input", "1,2", "--p", "1:0.1", "--order", "1"])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "E Δ² is about 1e" in err and "beyond the float64 range" in err and "Traceback" not in err
