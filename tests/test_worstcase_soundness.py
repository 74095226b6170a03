"""Every "proved" of the exact worst case is true: regressions and a property test against a brute force here.

The brute force in this file is independent of symft's engines: it enumerates
the crash sets itself and evaluates the network with its own activation
functions, in exact rational arithmetic (Fractions; the floats of a network
read as the binary rationals they hold) for piecewise-linear networks and in
60-digit mpmath arithmetic for smooth ones.
"""

from fractions import Fraction
from itertools import combinations

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from symft.cli import main
from symft.graph.netfile import save_network
from symft.graph.network import Network
from symft.engines.forward import forward_masked
from symft.worstcase import class_change, crash_space, exists_crash, recheck, worst_case

# ---------------------------------------------------------------- an independent brute force

_MP = mpmath.mp.clone()
_MP.dps = 60
_BASE = {
    "linear": lambda z: z,
    "relu": lambda z: max(z, 0 * z),
    "hardtanh": lambda z: min(max(z, -1 + 0 * z), 1 + 0 * z),
    "ramp": lambda z: min(max(z + 1, 0 * z), 1 + 0 * z),
    "step": lambda z: 1 + 0 * z if z > 0 else 0 * z,
    "sigmoid": lambda z: 1 / (1 + _MP.exp(-z)),
    "tanh": lambda z: _MP.tanh(z),
    "softplus": lambda z: _MP.log1p(_MP.exp(z)),
}


def _act(name, exact):
    c, base = (name.split("*") if "*" in name else ("1", name))
    c = Fraction(c)
    f = _BASE[base]
    if exact:
        return lambda z: c * f(z)
    cm = _MP.mpf(c.numerator) / c.denominator
    return lambda z: cm * f(z)


def _net_values(net, exact):
    """Weights, biases and activations as Fractions (exact) or 60-digit mpmath numbers."""
    conv = Fraction if exact else (lambda v: _MP.mpf(Fraction(v).numerator) / Fraction(v).denominator)
    Ws = [[[conv(w) for w in row] for row in net.weights(l).tolist()] for l in range(1, net.depth + 1)]
    bs = [[conv(v) for v in net.bias(l).tolist()] for l in range(1, net.depth + 1)]
    acts = [_act(net.activation(l).name, exact) for l in range(1, net.depth + 1)]
    return Ws, bs, acts, conv


def reference(net, x, layers, f):
    """{crash set: outputs} for every crash set of at most f neurons of `layers` (and the empty one).

    Fractions for piecewise-linear nets.  For smooth ones mpmath at 60 digits, raised (240, 960)
    until two precisions agree on every output change to 45 significant digits: a 1e12 bias that
    the output cancels leaves a 60-digit reference only a dozen correct digits of a 1e-45 change,
    too few to judge a threshold 1e-20 away.  An example that does not settle is skipped.
    ``_MP.dps`` stays at the precision that settled (``run_property`` resets it).
    """
    exact = all(net.activation(l).is_piecewise_linear for l in range(1, net.depth + 1))
    if exact:
        return _reference_at(net, x, layers, f, exact), exact
    prev = None
    for dps in (60, 240, 960):
        _MP.dps = dps
        ref = _reference_at(net, x, layers, f, exact)
        if prev is not None and _settled(prev, ref):
            return ref, exact
        prev = ref
    _MP.dps = 60
    assume(False)


def _settled(a, b):
    """Every output change of ``b`` equals that of ``a`` to 45 significant digits (both 0 counts)."""
    for cs in b:
        for k in range(len(b[cs])):
            da, db = a[cs][k] - a[()][k], b[cs][k] - b[()][k]
            if abs(da - db) > _MP.mpf("1e-45") * abs(db):
                return False
    return True


def _reference_at(net, x, layers, f, exact):
    Ws, bs, acts, conv = _net_values(net, exact)
    xs = [conv(float(v)) for v in x]
    zero = conv(0.0)
    neurons = [(l, i) for l in sorted(layers) for i in range(net.widths[l])]
    out = {}
    for k in range(f + 1):
        for cs in combinations(neurons, k):
            dead = set(cs)
            y = [zero if (0, i) in dead else v for i, v in enumerate(xs)]
            for l in range(1, net.depth + 1):
                y = [acts[l - 1](sum((w * v for w, v in zip(row, y)), zero) + bi)
                     for row, bi in zip(Ws[l - 1], bs[l - 1])]
                y = [zero if (l, i) in dead else v for i, v in enumerate(y)]
            out[cs] = y
    return out


def ref_abs_delta(ref, cs, outs):
    clean = ref[()]
    return max(abs(ref[tuple(cs)][k] - clean[k]) for k in outs)


def first_argmax(v):
    return min(i for i in range(len(v)) if v[i] == max(v))


def close(a, b, exact):
    """Equal (exact) or equal to 40 digits (60-digit reference vs a 50-digit answer)."""
    if exact:
        return Fraction(a) == Fraction(b)
    a, b = _MP.mpf(str(a)), _MP.mpf(str(b))
    return abs(a - b) <= _MP.mpf("1e-40") * (1 + abs(b))


def to_ref(v, exact):
    if exact:
        v = sp.Rational(v)
        return Fraction(int(v.p), int(v.q))
    return _MP.mpf(str(sp.Float(v, 50)))


# ---------------------------------------------------------------- regression: float margin (1e12 bias)

# Inputs x0 = x1 = 1e-5 may crash.  Hidden h0 = relu(x0 + 1e12), h1 = relu(0.5·x1); outputs
# y0 = h0 − 1e12 and y1 = h1.  Exactly: y0 = x0 (x0 + 1e12 > 0), y1 = x1/2, so crashing x0 gives
# Δ0 = −x0 and crashing x1 gives Δ1 = −x1/2: the maximum is x0 (the binary value of 1e-5), at (0, 0).
# In float64, 1e12 + 1e-5 rounds to 1e12 and y0 = 0: the float pass sees Δ0 = 0.  The fault-free class
# is 0 (x0 > x1/2) and crashing x0 makes it 1 (0 < x1/2).
BIG = Network.from_numpy([[[1.0, 0.0], [0.0, 0.5]], [[1.0, 0.0], [0.0, 1.0]]], [[1e12, 0.0], [-1e12, 0.0]],
                         activations=["relu", "linear"])
BIG_X = [1e-5, 1e-5]


@pytest.mark.parametrize("method", ["brute-force", "auto", "smt"])
def test_cancelling_big_bias_worst_case(method):
    r = worst_case(BIG, BIG_X, max_crashes=1, layers=[0], method=method)
    assert r.method.startswith("brute-force" if method != "smt" else "smt")
    assert (r.status, r.crash_set) == ("proved", ((0, 0),))
    assert r.worst_delta == sp.Rational(1e-5)


@pytest.mark.parametrize("method", ["brute-force", "auto"])
def test_cancelling_big_bias_decisions(method):
    r = exists_crash(BIG, BIG_X, max_crashes=1, layers=[0], epsilon=1e-5, method=method)
    assert (r.status, r.crash_set) == ("found", ((0, 0),))
    assert exists_crash(BIG, BIG_X, max_crashes=1, layers=[0], epsilon=sp.Rational(1e-5) * (1 + sp.Rational(1, 10**9)),
                        method=method).status == "proved"
    r = class_change(BIG, BIG_X, max_crashes=1, layers=[0], method=method)
    assert (r.status, r.crash_set) == ("found", ((0, 0),))


def test_cancelling_big_bias_cli(tmp_path, capsys):
    import json

    path = tmp_path / "big.json"
    save_network(BIG, path)
    assert main(["worst", str(path), "--input", "1e-5,1e-5", "--max-crashes", "1", "--layers", "0", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["status"] == "proved" and Fraction(d["worst_delta_exact"]) == Fraction(1e-5) and d["crash_set"] == [{"site": "0", "index": 0}]


def test_float_error_bound_is_zero_only_when_exact():
    from symft.worstcase.brute_force import float_error as _float_error

    # dyadic weights and inputs whose sums fit in 53 bits: the float pass is exact (E = 0) ...
    net = Network.from_numpy([[[1.0, 0.5], [-2.0, 0.25]], [[1.0, -1.0]]], [[3.0, 0.0], [0.5]], ["relu", "linear"])
    E, exact = _float_error(net, [1.0, 2.0], crash_space(net, 2, layers=[0, 1, 2]))
    assert exact and not E.any()
    # ... a 1e12 bias makes 1e12 + 1e-5 round: the bound must exceed that rounding (half an ulp of 1e12)
    E, exact = _float_error(BIG, BIG_X, crash_space(BIG, 1, layers=[0]))
    assert not exact and E[0] >= 2.0 ** -14


# ---------------------------------------------------------------- regression: the 50-digit re-check

# 1 → 1 (1/2·tanh) → 1 (linear), x = 1/3: crashing the hidden neuron gives Δ = −tanh(1/3)/2.
HALF_TANH = Network.from_sympy([[[1]], [[1]]], activations=["1/2*tanh", "linear"])


def _half_tanh_delta():
    with mpmath.workdps(80):
        return mpmath.tanh(mpmath.mpf(1) / 3) / 2


def test_recheck_of_scaled_smooth_activation_has_50_digits():
    d = recheck(HALF_TANH, ["1/3"], [(1, 0)])[0]
    with mpmath.workdps(80):
        assert abs(mpmath.mpf(str(d)) + _half_tanh_delta()) < mpmath.mpf("1e-49")
    r = worst_case(HALF_TANH, ["1/3"], max_crashes=1)
    with mpmath.workdps(80):
        assert abs(mpmath.mpf(str(r.worst_delta)) - _half_tanh_delta()) < mpmath.mpf("1e-49")


def test_decision_next_to_a_scaled_smooth_value():
    # ε a hair (1e-40) below and above the exact |Δ|: a 53-bit re-check decides one of them wrongly
    with mpmath.workdps(80):
        v = _half_tanh_delta()
        below = sp.Rational(mpmath.nstr(v - mpmath.mpf("1e-40"), 70))
        above = sp.Rational(mpmath.nstr(v + mpmath.mpf("1e-40"), 70))
    assert exists_crash(HALF_TANH, ["1/3"], max_crashes=1, epsilon=below).status == "found"
    assert exists_crash(HALF_TANH, ["1/3"], max_crashes=1, epsilon=above).status == "proved"


def test_smooth_tie_is_unknown_not_proved():
    # two identical outputs: the fault-free class is a tie that no precision can decide; the
    # answer must say so instead of claiming the class cannot change
    net = Network.from_numpy([[[1.0]], [[1.0], [1.0]]], activations=["tanh", "tanh"])
    r = class_change(net, [0.3], max_crashes=1, layers=[0])
    assert r.status == "unknown" and r.crash_set is None and "tie" in r.reason


@pytest.mark.parametrize("expr, ref_fn", [("Max(x, x/2)", lambda z: max(z, z / 2)),
                                          ("Piecewise((x/2, x < 0), (x, True))", lambda z: z / 2 if z < 0 else z),
                                          ("Min(x, 1 - x/3)", lambda z: min(z, 1 - z / 3))])
def test_custom_activation_rechecked_in_interval_arithmetic(expr, ref_fn):
    # 2 → 2 (custom, identity weights) → 1 (sigmoid, weights 1), x = (0.3, −0.7): no float error model
    # is known for a custom activation, so every crash set is re-checked; the answer is the reference's
    from symft.graph.activations import custom_activation

    s = sp.Symbol("x")
    act = custom_activation(sp.Lambda(s, sp.sympify(expr, locals={"x": s})), name=f"custom_{abs(hash(expr))}")
    net = Network.from_numpy([np.eye(2), np.ones((1, 2))], activations=[act, "sigmoid"])
    _BASE[act.name] = ref_fn  # 60-digit mpmath arithmetic on the reference's values
    try:
        ref, exact = reference(net, [0.3, -0.7], [1], 1)
    finally:
        del _BASE[act.name]
    r = worst_case(net, [0.3, -0.7], max_crashes=1)
    assert r.status == "proved" and close(r.worst_delta, max(ref_abs_delta(ref, cs, [0]) for cs in ref), False)


# ---------------------------------------------------------------- regression: SAT and output crashes

def test_sat_encodes_output_crashes():
    # 1 → 2 step → 1 linear, all weights 1, x = 1: hidden (1, 1), y = 2; crashing the output: Δ = −2
    net = Network.from_sympy([[[1], [1]], [[1, 1]]], [[0, 0], [0]], ["step", "linear"])
    r = worst_case(net, [1], max_crashes=1, layers=[2], method="sat")
    assert (r.status, r.worst_delta, r.crash_set) == ("proved", 2, ((2, 0),))
    assert exists_crash(net, [1], max_crashes=1, layers=[2], epsilon=2, method="sat").status == "found"
    assert exists_crash(net, [1], max_crashes=1, layers=[2], epsilon=3, method="sat").status == "proved"


def test_sat_auto_with_output_bias():
    # 1 → 30 step → 30 linear, weights 1, output bias 100, x = 1: every hidden neuron is 1 and every
    # output 30 + 100 = 130; 5 hidden crashes change an output by 5, one output crash by 130
    net = Network.from_sympy([[[1]] * 30, [[1] * 30] * 30], [[0] * 30, [100] * 30], ["step", "linear"])
    r = worst_case(net, [1], max_crashes=5, layers=[1, 2])
    assert r.method.startswith("sat") and (r.status, r.worst_delta) == ("proved", 130)
    assert len(r.crash_set) == 1 and r.crash_set[0][0] == 2


# ---------------------------------------------------------------- regression: SMT maximization ends proved

@pytest.mark.parametrize("weights", [[1, 1 + sp.Rational(1, 10**7)], [1 + sp.Rational(1, 10**7), 1],
                                     [1, 1, 1, 1 + sp.Rational(1, 10**7)], [1 + sp.Rational(1, 10**7), 1, 1, 1]])
def test_smt_maximization_resumes_after_strict_sat(weights):
    # identity relu layer, x = 1: crashing hidden neuron i changes y by −w_i; the maximum
    # 1 + 1e-7 is within the 1e-6 bisection tolerance of the other values 1
    n = len(weights)
    net = Network.from_sympy([sp.eye(n).tolist(), [weights]], activations=["relu", "linear"])
    r = worst_case(net, [1] * n, max_crashes=1, method="smt", timeout=60)
    assert (r.status, r.worst_delta) == ("proved", 1 + sp.Rational(1, 10**7))
    assert "timeout" not in r.reason


def test_unknown_reason_names_a_timeout_only_when_there_was_one(monkeypatch):
    import z3

    net = Network.from_sympy([[[1, 0], [0, 1]], [[1, 2]]], activations=["relu", "linear"])
    monkeypatch.setattr(z3.Solver, "check", lambda self, *a: z3.unknown)
    monkeypatch.setattr(z3.Solver, "reason_unknown", lambda self: "incomplete")
    for r in (worst_case(net, [1, 1], max_crashes=1, method="smt", timeout=1000),
              exists_crash(net, [1, 1], max_crashes=1, epsilon=1, method="smt", timeout=1000)):
        assert r.status == "unknown" and r.reason == "z3: incomplete"


# ---------------------------------------------------------------- property: every label against the reference

PWL = ["relu", "hardtanh", "ramp", "linear", "step", "1/2*relu", "3*hardtanh", "1/3*relu", "2*step"]
SMOOTH = ["sigmoid", "tanh", "softplus", "1/2*tanh", "1/3*sigmoid", "2*tanh"]
MAGS = [0.0, 1e-8, 1e-5, 0.1, 0.5, 1.0, 3.0, 1e6, 1e12]


@st.composite
def adversarial_nets(draw, smooth):
    widths = [draw(st.integers(1, 3))] + [draw(st.integers(1, 3)) for _ in range(draw(st.integers(1, 2)))]
    widths.append(draw(st.integers(1, 3)))
    mag = st.builds(lambda m, s: s * m, st.sampled_from(MAGS), st.sampled_from([1.0, -1.0]))
    Ws = [[[draw(mag) for _ in range(widths[l - 1])] for _ in range(widths[l])] for l in range(1, len(widths))]
    bs = [[draw(mag) for _ in range(widths[l])] for l in range(1, len(widths))]
    if draw(st.booleans()):  # a big bias that the output cancels: float64 loses everything below 1e-4
        B = draw(st.sampled_from([1e6, 1e12]))
        bs[0][0] = B
        Ws[1][0][0] = 1.0
        if len(widths) == 3:
            bs[1][0] = -B
    pool = SMOOTH + ["relu", "linear"] if smooth else PWL
    acts = [draw(st.sampled_from(pool)) for _ in range(len(widths) - 1)]
    if smooth:
        assume(any(a in SMOOTH for a in acts))
    x = [draw(mag) for _ in range(widths[0])]
    layers = draw(st.sets(st.integers(0, len(widths) - 1), min_size=1))
    f = draw(st.integers(1, 2))
    return Network.from_numpy(Ws, bs, acts), x, sorted(layers), f


def check_worst(net, x, layers, f, r, ref, exact):
    outs = range(net.n_outputs)
    best = max(ref_abs_delta(ref, cs, outs) for cs in ref)
    if r.status == "unknown":
        assert r.crash_set is None and r.worst_delta is None
        return
    # the crash set is real and its re-checked value is right
    assert close(r.worst_delta, ref_abs_delta(ref, r.crash_set, outs), exact)
    if r.status == "proved":
        assert close(r.worst_delta, best, exact), (r, best)
    else:
        assert r.status == "found"


def check_eps(r, eps, ref, exact, outs):
    reach = [cs for cs in ref if ref_abs_delta(ref, cs, outs) >= eps]
    if r.status == "proved":
        assert not reach, (r, eps)
    elif r.status == "found":
        assert tuple(r.crash_set) in reach
    else:
        assert r.crash_set is None


def check_class(r, ref):
    k = first_argmax(ref[()])
    changes = [cs for cs in ref if first_argmax(ref[cs]) != k]
    if r.status == "proved":
        assert not changes, r
    elif r.status == "found":
        assert tuple(r.crash_set) in changes
    else:
        assert r.crash_set is None


def run_property(net, x, layers, f, methods):
    _MP.dps = 60
    ref, exact = reference(net, x, layers, f)
    outs = list(range(net.n_outputs))
    values = sorted({ref_abs_delta(ref, cs, outs) for cs in ref})
    if not exact:
        # smooth: the 60-digit reference cannot settle comparisons closer than its own accuracy
        # (cancellation costs it digits too); skip class questions near a tie, and the fault-free
        # class must be clear
        tiny = _MP.mpf("1e-30")
        clean = ref[()]
        assume(all(abs(a - b) > tiny * (1 + abs(a)) for i, a in enumerate(clean) for b in clean[i + 1:]))
        k = first_argmax(clean)
        if not all(abs(y[j] - y[k]) > tiny * (1 + abs(y[k])) for y in ref.values() for j in range(len(y)) if j != k):
            methods_class = ()
        else:
            methods_class = methods
    else:
        methods_class = methods
    for m in methods:
        r = worst_case(net, x, max_crashes=f, layers=layers, method=m, timeout=30)
        check_worst(net, x, layers, f, r, ref, exact)
        # ε exactly at a value (a tie that must count), between two values, above the maximum
        for v in {values[-1], values[len(values) // 2]}:
            if v == 0:
                continue
            for eps in ([v, v * (1 + Fraction(1, 10**9)), v * (1 - Fraction(1, 10**9))] if exact else
                        [v * (1 + _MP.mpf("1e-20")), v * (1 - _MP.mpf("1e-20"))]):
                if not exact and abs(eps.exp) > 10 ** 5:  # e.g. sigmoid(−1e12): no Fraction can hold it
                    continue
                e = eps if exact else Fraction(*mpmath.libmp.to_rational(eps._mpf_))  # the binary value
                r = exists_crash(net, x, max_crashes=f, layers=layers, epsilon=e, method=m, timeout=30)
                check_eps(r, eps, ref, exact, outs)
        if net.n_outputs > 1 and m != "sat" and m in methods_class:  # SAT answers |Δ| ≥ ε questions only
            check_class(class_change(net, x, max_crashes=f, layers=layers, method=m, timeout=30), ref)


@settings(deadline=None, max_examples=6, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(adversarial_nets(smooth=False))
def test_property_pwl_every_method(case):
    net, x, layers, f = case
    run_property(net, x, layers, f, ["brute-force", "auto", "smt"])


@settings(deadline=None, max_examples=4, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(adversarial_nets(smooth=True))
def test_property_smooth(case):
    net, x, layers, f = case
    run_property(net, x, layers, f, ["brute-force", "auto"])


@st.composite
def step_nets(draw):
    widths = [draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 3))]
    ints = st.integers(-3, 3)
    W1 = [[draw(ints) for _ in range(widths[0])] for _ in range(widths[1])]
    W2 = [[draw(ints) for _ in range(widths[1])] for _ in range(widths[2])]
    b1 = [draw(ints) for _ in range(widths[1])]
    b2 = [draw(st.integers(-100, 100)) for _ in range(widths[2])]
    x = [draw(ints) for _ in range(widths[0])]
    layers = sorted(draw(st.sets(st.integers(0, 2), min_size=1)))
    return Network.from_numpy([np.array(W1, float), np.array(W2, float)], [b1, b2], ["step", "linear"]), \
        [float(v) for v in x], layers, draw(st.integers(1, 2))


@settings(deadline=None, max_examples=6, suppress_health_check=[HealthCheck.too_slow])
@given(step_nets())
def test_property_sat(case):
    net, x, layers, f = case
    run_property(net, x, layers, f, ["sat"])


@pytest.mark.slow
@settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(adversarial_nets(smooth=False))
def test_property_pwl_every_method_many(case):
    net, x, layers, f = case
    run_property(net, x, layers, f, ["brute-force", "auto", "smt"])


@pytest.mark.slow
@settings(deadline=None, max_examples=80, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(adversarial_nets(smooth=True))
def test_property_smooth_many(case):
    net, x, layers, f = case
    run_property(net, x, layers, f, ["brute-force", "auto"])


@pytest.mark.slow
@settings(deadline=None, max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(step_nets())
def test_property_sat_many(case):
    net, x, layers, f = case
    run_property(net, x, layers, f, ["sat", "auto"])


@settings(deadline=None, max_examples=25, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.one_of(adversarial_nets(smooth=False), adversarial_nets(smooth=True)))
def test_float_error_bound_holds_for_every_crash_set(case):
    # the bound the brute force trusts, checked directly: |float64 output − exact output| ≤ E
    from symft.worstcase.brute_force import float_error as _float_error

    net, x, layers, f = case
    ref, exact = reference(net, x, layers, f)
    E, _ = _float_error(net, x, crash_space(net, f, layers=layers))
    sets = list(ref)
    masks = {l: np.array([[(l, i) in cs for i in range(net.widths[l])] for cs in sets]) for l in layers}
    with np.errstate(all="ignore"):
        out = forward_masked(net, np.array(x, dtype=float), masks)
    for p, cs in enumerate(sets):
        for k in range(net.n_outputs):
            if not np.isfinite(E[k]):
                continue
            err = abs((Fraction(float(out[p, k])) if exact else _MP.mpf(float(out[p, k]))) - ref[cs][k])
            assert err <= (Fraction(float(E[k])) if exact else _MP.mpf(float(E[k]))), (cs, k, err, E[k])
