"""Soundness of the labels of T1 + remainder ("rigorous") and of ``certify(source="taylor")``.

Every check compares with an independent brute force written here: every crash configuration
evaluated in 60-digit mpmath (weights and inputs are the binary values of their floats; the
probabilities are the values the API reads: binary for ``t1``, the printed decimal for
``certify``, which reads ``0.1`` as 1/10).  The nets are small and adversarial: weights from
1e-8 to 1e6 in one net, pairs of identical neurons whose outgoing weights cancel, scaled
activations (``1/2*tanh``), non-linear output layers.
"""

from __future__ import annotations

import io
import itertools
import json
from contextlib import redirect_stdout
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from symft.analysis.certify import certify, taylor_moments
from symft.cli import main
from symft.faults import NeuronCrash
from symft.graph.network import Network
from symft.engines.taylor import remainder_bound, t1

DPS = 60

# ---------------------------------------------------------------------- brute force (independent)

_BOUNDED = {"tanh", "sigmoid"}


def _mp_activation(name):
    """(mpmath function, magnitude bound as a function of a bound on |z|) of ``name`` or ``c*name``."""
    c = mpmath.mpf(1)
    if "*" in name:
        cs, name = name.split("*")
        q = Fraction(cs)
        c = mpmath.mpf(q.numerator) / q.denominator
    f = {"linear": lambda z: z, "relu": lambda z: z if z > 0 else mpmath.mpf(0), "tanh": mpmath.tanh,
         "sigmoid": lambda z: 1 / (1 + mpmath.exp(-z)), "softplus": lambda z: mpmath.log1p(mpmath.exp(z))}[name]
    mag = (lambda a: c) if name in _BOUNDED else (lambda a: c * (a + 1))
    return (lambda z: c * f(z)), mag


def _mpf(v):
    q = Fraction(v)
    return mpmath.mpf(q.numerator) / q.denominator


def brute_force(spec, x, crash_layers, semantics):
    """Outputs of every crash configuration of the crashable neurons (60 digits).

    Returns (configs, ys, y0, M): configs is a list of 0/1 tuples (one entry per crashable neuron,
    layers in increasing order), ys[c][k] the output k under configuration c, y0 the clean output and
    M ≥ every |value| met in any configuration (for the error allowance of 60-digit arithmetic).
    """
    weights, biases, acts = spec
    widths = [len(x)] + [len(b) for b in biases]
    slots = [(l, i) for l in crash_layers for i in range(widths[l])]
    out = []
    with mpmath.workdps(DPS):
        W = [[[_mpf(w) for w in row] for row in Wl] for Wl in weights]
        B = [[_mpf(b) for b in bl] for bl in biases]
        A = [_mp_activation(a) for a in acts]
        # magnitude bound: |W| |y| + |b| through the layers, with |φ(z)| ≤ c or c (|z| + 1)
        a_y = [abs(_mpf(v)) for v in x]
        M = max(a_y + [mpmath.mpf(1)])
        for Wl, bl, (_, mag) in zip(W, B, A):
            a_z = [sum(abs(w) * a for w, a in zip(row, a_y)) + abs(b) for row, b in zip(Wl, bl)]
            a_y = [max(mag(a), mag(abs(b))) for a, b in zip(a_z, bl)]
            M = max([M] + a_z + a_y)
        configs = list(itertools.product((0, 1), repeat=len(slots)))
        for c in configs:
            down = {s for s, v in zip(slots, c) if v}
            y = [_mpf(v) for v in x]
            y = [mpmath.mpf(0) if (0, i) in down else v for i, v in enumerate(y)]
            for l, (Wl, bl, (phi, _)) in enumerate(zip(W, B, A), start=1):
                y = [phi(sum(w * v for w, v in zip(row, y)) + b) for row, b in zip(Wl, bl)]
                y = [((phi(bl[i]) if semantics == "incoming_zeroed" else mpmath.mpf(0)) if (l, i) in down else v)
                     for i, v in enumerate(y)]
            out.append(y)
    return configs, out, out[0], M


def moments(configs, ys, y0, probs_of_slot):
    """Exact E Δ_k and Var Δ_k (60 digits) for per-slot probabilities (mpf)."""
    with mpmath.workdps(DPS):
        K = len(y0)
        P = []
        for c in configs:
            w = mpmath.mpf(1)
            for v, q in zip(c, probs_of_slot):
                w *= q if v else 1 - q
            P.append(w)
        mean = [mpmath.fsum(w * (y[k] - y0[k]) for w, y in zip(P, ys)) for k in range(K)]
        var = [mpmath.fsum(w * (y[k] - y0[k] - mean[k]) ** 2 for w, y in zip(P, ys)) for k in range(K)]
    return P, mean, var


def _net(spec):
    weights, biases, acts = spec
    return Network.from_numpy([np.array(W, dtype=float) for W in weights], [np.array(b, dtype=float) for b in biases],
                              activations=list(acts))


def _slot_probs(spec, x, crash_layers, p, reader):
    widths = [len(x)] + [len(b) for b in spec[1]]
    with mpmath.workdps(DPS):
        return [reader(p) for l in crash_layers for _ in range(widths[l])]


def check_labels(spec, x, crash_layers, p, semantics, eps_pick=0, delta_factor=0.5, sided="upper"):
    """Every rigorous label of T1 + remainder and of certify(source="taylor") against the brute force.

    Returns a short description of what was labelled rigorous (for the tests that need it to be)."""
    net = _net(spec)
    xs = np.array(x, dtype=float)
    probs = {l: p for l in crash_layers}
    configs, ys, y0, M = brute_force(spec, x, crash_layers, semantics)
    with mpmath.workdps(DPS):
        # 60-digit arithmetic on ≤ ~60 operations per value, magnitudes ≤ M (derivatives of the scaled
        # activations ≤ 3 per layer): every computed Δ is within 1e-45 (1 + M) of the real one, a
        # variance within 1e-45 (1 + M)²; far below any float64 bound (≥ 2^-53 of the magnitudes).
        tol_m = mpmath.mpf("1e-45") * (1 + M)
        tol_v = tol_m * (1 + M)
    labelled = []
    # --- t1 (floats are their binary values)
    _, mean_b, var_b = moments(configs, ys, y0, _slot_probs(spec, x, crash_layers, p, _mpf))
    r = t1(net, xs, probs, semantics=semantics)
    if r.remainder_mean is not None:
        labelled.append("t1")
        m, v = np.atleast_1d(r.mean), np.atleast_1d(r.var)
        for k in range(len(y0)):
            assert abs(mean_b[k] - _mpf(m[k])) <= _mpf(r.remainder_mean[k]) + tol_m, \
                (k, mpmath.nstr(mean_b[k], 20), m[k], r.remainder_mean[k])
            assert abs(var_b[k] - _mpf(v[k])) <= _mpf(r.remainder_var[k]) + tol_v, \
                (k, mpmath.nstr(var_b[k], 20), v[k], r.remainder_var[k])
    else:
        assert r.remainder_note                     # unlabelled: the reason is given
    # --- certify / taylor_moments (a float probability is the decimal it prints as)
    model = NeuronCrash(probs, semantics)
    dec = _slot_probs(spec, x, crash_layers, p, lambda q: _mpf(Fraction(repr(q))))
    P, mean_d, var_d = moments(configs, ys, y0, dec)
    mo = taylor_moments(net, list(x), model)
    if mo.rigorous:
        labelled.append("moments")
        for k in range(len(y0)):
            assert _mpf(mo.mean_lo[k]) - tol_m <= mean_d[k] <= _mpf(mo.mean_hi[k]) + tol_m
            assert var_d[k] <= _mpf(mo.var_hi[k]) + tol_v
    # an ε just below one of the errors Δ that occur, and δ below the exact tail P(Δ ≥ ε): a rigorous
    # "certified" would be false
    with mpmath.workdps(DPS):
        deltas = [[y[k] - y0[k] for k in range(len(y0))] for y in ys]
        vals = sorted({(abs(d) if sided == "abs" else d) for row in deltas for d in row
                       if (abs(d) if sided == "abs" else d) > 4 * tol_m}, key=float)
        if not vals:
            return labelled
        target = vals[eps_pick % len(vals)]
        eps = Fraction(repr(float(target * (1 - mpmath.mpf(2) ** -10))))
        e = _mpf(eps)
        tail = max(mpmath.fsum(w for w, row in zip(P, deltas)
                               if (abs(row[k]) if sided == "abs" else row[k]) >= e + tol_m)
                   for k in range(len(y0)))
        delta = Fraction(repr(float(tail * delta_factor)))
        if not 0 < delta < 1:
            return labelled
        true_tail_exceeds = tail > _mpf(delta)
    c = certify(net, list(x), model, str(eps), str(delta), source="taylor", sided=sided)
    if c.rigorous:
        labelled.append("certify")
    if true_tail_exceeds:
        assert not (c.certified and c.rigorous), (str(eps), str(delta), mpmath.nstr(tail, 10), c.per_output)
    return labelled


# ---------------------------------------------------------------------- the example of the report

# y = −(1e6·relu(1e6 x + 1000) + 2·relu(1e-5 x + 1000) + 1e6·relu(−1e6 x + 1001000)); at x = 1 every
# pre-activation stays ≥ 1000 when x crashes (x → 0: 1000, 1000, 1001000), so Δ is linear in ξ and
# the Taylor remainder is 0; by hand Δ(crash) = y(0) − y(1) = 2·1e-5 (1e-5 read as its binary value),
# E Δ = p·2e-5 = 2e-6 at p = 0.1, while float64 gives g = 1e12 + 2e-5 − 1e12 = 0.
ISSUE = ([[[1e6], [1e-5], [-1e6]], [[-1e6, -2.0, -1e6]]], [[1000.0, 1000.0, 1001000.0], [0.0]], ("relu", "linear"))


def _issue_exact_delta():
    a, b, c = Fraction(1e6), Fraction(1e-5), Fraction(-1e6)

    def y(x):
        r = lambda z: max(z, Fraction(0))  # noqa: E731
        return -(Fraction(1e6) * r(a * x + 1000) + 2 * r(b * x + 1000) + Fraction(1e6) * r(c * x + 1001000))
    return y(Fraction(0)) - y(Fraction(1))


def test_issue_example_t1_interval_contains_exact_mean():
    d = _issue_exact_delta()
    assert d == 2 * Fraction(1e-5)
    net = _net(ISSUE)
    r = t1(net, np.array([1.0]), {0: 0.1})
    assert remainder_bound(net, np.array([1.0]), {0: 0.1}).mean_bound[0] < 1e-300   # linear in ξ
    exact_mean = Fraction(0.1) * d
    exact_var = Fraction(0.1) * (1 - Fraction(0.1)) * d * d
    assert abs(Fraction(r.mean[0]) - exact_mean) <= Fraction(r.remainder_mean[0])
    assert abs(Fraction(r.var[0]) - exact_var) <= Fraction(r.remainder_var[0])


def test_issue_example_certify_taylor_is_not_rigorously_certified():
    net = _net(ISSUE)
    # exact tail: Δ = 2e-5 ≥ 1e-6 exactly when x crashes, so P(Δ ≥ 1e-6) = 1/10 > 1/100
    c = certify(net, [1.0], NeuronCrash({0: 0.1}), "1e-6", "0.01", source="taylor")
    assert not (c.certified and c.rigorous)
    m = taylor_moments(net, [1.0], NeuronCrash({0: 0.1}))
    exact_mean = Fraction(1, 10) * _issue_exact_delta()
    assert m.rigorous and Fraction(m.mean_lo[0]) <= exact_mean <= Fraction(m.mean_hi[0])
    assert check_labels(ISSUE, [1.0], [0], 0.1, "output_zero") == ["t1", "moments", "certify"]


def _cli(args):
    buf = io.StringIO()
    with redirect_stdout(buf):
        code = main(args)
    return code, buf.getvalue()


def test_issue_example_cli(tmp_path):
    from symft.graph.netfile import save_network

    path = str(tmp_path / "cancel.json")
    save_network(_net(ISSUE), path)
    code, out = _cli(["taylor", path, "--input", "1", "--p", "0:0.1", "--json"])
    assert code == 0
    d = json.loads(out)
    exact_mean = Fraction(0.1) * _issue_exact_delta()
    assert abs(Fraction(d["mean"][0]) - exact_mean) <= Fraction(d["remainder_mean"][0])
    code, out = _cli(["certify", path, "--input", "1", "--p", "0:0.1", "--source", "taylor",
                      "--eps", "1e-6", "--delta", "0.01", "--json"])
    assert code == 0
    d = json.loads(out)
    assert not (d["certified"] and d["rigorous"])


def test_exact_inputs_and_probabilities_are_enclosed():
    # y = 1e16 x_0 + 3 x_1 (linear, remainder 0): at x = (1/3, 1/7), p = 1/10 (crashes at the input)
    # E Δ = −p (1e16/3 + 3/7) exactly; rounding x or p to floats moves T1's value by ~1 (an ulp of 3e15)
    net = Network.from_numpy([np.array([[1e16, 3.0]])], activations=["linear"])
    x = [Fraction(1, 3), Fraction(1, 7)]
    r = t1(net, x, {0: Fraction(1, 10)})
    exact = -Fraction(1, 10) * (Fraction(1e16) / 3 + Fraction(3, 7))
    assert abs(Fraction(r.mean[0]) - exact) <= Fraction(r.remainder_mean[0])
    exact_var = Fraction(9, 100) * ((Fraction(1e16) / 3) ** 2 + Fraction(9, 49))
    assert abs(Fraction(r.var[0]) - exact_var) <= Fraction(r.remainder_var[0])
    m = taylor_moments(net, x, NeuronCrash({0: 0.1}))       # 0.1 is the decimal 1/10 here
    assert m.rigorous and Fraction(m.mean_lo[0]) <= exact <= Fraction(m.mean_hi[0])


def test_cancelling_output_sum_smooth_net():
    # crashes at the last hidden layer (linear output: Δ linear in ξ): g = −(w ⊙ y) with two identical
    # 1e6-neurons whose output weights cancel and a 1e-8 one in between
    spec = ([[[1.0], [1e-8], [1.0]], [[1e6, 1.0, -1e6]]], [[1e6, 2.0, 1e6], [0.0]], ("softplus", "linear"))
    assert "t1" in check_labels(spec, [0.5], [1], 0.3, "output_zero")


def test_scaled_tanh_output_and_incoming_zeroed():
    spec = ([[[2.0, -1e-3], [1e-8, 3.0]], [[1e6, -1e6], [0.5, 1e-8]]], [[0.1, -0.2], [1e-3, 0.0]],
            ("tanh", "1/2*tanh"))
    check_labels(spec, [0.3, -0.7], [0, 1], 0.01, "incoming_zeroed")


# ---------------------------------------------------------------------- property test

_MANT = (1.0, 1.5, 2.0, 3.7)
HIDDEN = ("tanh", "sigmoid", "softplus", "1/2*tanh", "3*sigmoid", "linear", "relu")
OUTPUT = ("linear", "tanh", "1/2*tanh", "sigmoid", "softplus")


def _mag(lo=-8, hi=6):
    """0 (one time in eight) or ±m·10^e, e in lo … hi: magnitudes from 1e-8 to 3.7e6 side by side."""
    return st.builds(lambda z, s, m, e: 0.0 if z == 0 else s * m * 10.0 ** e, st.integers(0, 7),
                     st.sampled_from((-1, 1)), st.sampled_from(_MANT), st.integers(lo, hi))


@st.composite
def adversarial_case(draw, max_crash):
    n0 = draw(st.integers(1, 3))
    hidden = draw(st.lists(st.integers(1, 3), min_size=1, max_size=2))
    n_out = draw(st.integers(1, 2))
    widths = [n0] + hidden + [n_out]
    weights = [[[draw(_mag()) for _ in range(widths[l - 1])] for _ in range(widths[l])] for l in range(1, len(widths))]
    biases = [[draw(_mag()) for _ in range(widths[l])] for l in range(1, len(widths))]
    # identical neuron pairs whose outgoing weights cancel (the float backward pass loses what is left)
    for _ in range(draw(st.integers(0, 2))):
        l = draw(st.integers(1, len(hidden)))
        if widths[l] < 2:
            continue
        j, k = draw(st.permutations(range(widths[l])))[:2]
        weights[l - 1][k] = list(weights[l - 1][j])
        biases[l - 1][k] = biases[l - 1][j]
        for row in weights[l]:
            row[k] = -row[j]
    acts = tuple(draw(st.sampled_from(HIDDEN)) for _ in hidden) + (draw(st.sampled_from(OUTPUT)),)
    layers = sorted(draw(st.sets(st.integers(0, len(widths) - 1), min_size=1, max_size=3)))
    assume(sum(widths[l] for l in layers) <= max_crash)
    x = [draw(_mag(-3, 2)) for _ in range(n0)]
    p = draw(st.sampled_from((1e-3, 0.01, 0.1, 0.3, 0.5)))
    sem = draw(st.sampled_from(("output_zero", "incoming_zeroed")))
    return (weights, biases, acts), x, layers, p, sem


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(adversarial_case(6), st.integers(0, 50), st.sampled_from((0.3, 0.9)), st.sampled_from(("upper", "abs")))
def test_rigorous_labels_hold_on_adversarial_nets(case, eps_pick, delta_factor, sided):
    spec, x, layers, p, sem = case
    check_labels(spec, x, layers, p, sem, eps_pick, delta_factor, sided)


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(adversarial_case(10), st.integers(0, 50), st.sampled_from((0.3, 0.9, 0.99)), st.sampled_from(("upper", "abs")))
def test_rigorous_labels_hold_on_adversarial_nets_many(case, eps_pick, delta_factor, sided):
    spec, x, layers, p, sem = case
    check_labels(spec, x, layers, p, sem, eps_pick, delta_factor, sided)
