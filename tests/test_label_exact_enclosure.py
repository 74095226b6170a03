"""Label property tests: what symft.engines.enumeration calls "exact" is exact, what symft.engines.enclosure calls a
certified enclosure contains the truth.

Everything symft is compared with is computed here, independently of symft's engines:

* exact values — a brute force in Python ``Fraction`` over every crash configuration, with its own
  activations (piecewise linear with rational pieces, scaled ones included), its own crash
  semantics and its own probabilities (a float is the binary rational it holds);
* enclosures — the same brute force, switching to 60-digit mpmath once a smooth activation has been
  applied (tanh, sigmoid, softplus and their scaled versions).  The reference is then off by at most
  about ``10^-55`` relative; the containment check allows ``10^-45`` of the magnitudes summed,
  far below anything the float64 engine can resolve.

The random nets are small (at most 9 crashable neurons) but adversarial: weights from 1e-8 to 1e6 in
one net, rows that cancel (``a, −a + tiny``), biases that put a pre-activation on or next to a kink
(or the jump of ``step``), scaled activations, non-linear output layers, both crash semantics,
several crashed layers, p up to 1/2.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symft.engines.enclosure import enclosure
from symft.errors import InvalidArgument
from symft.engines.enumeration import enumerate_crashes, error_distribution, mean_polynomial
from symft.faults import NeuronCrash
from symft.graph.network import Network, mean_network

MP = mpmath.MPContext()   # its own context: symft's mpmath settings are not touched
MP.dps = 60

# ---------------------------------------------------------------------- independent activations

PL_BASES = {
    "linear": lambda s: s,
    "relu": lambda s: s if s > 0 else 0 * s,
    "hardtanh": lambda s: -1 + 0 * s if s <= -1 else (s if s <= 1 else 1 + 0 * s),
    "ramp": lambda s: 0 * s if s <= -1 else (s + 1 if s <= 0 else 1 + 0 * s),
    "step": lambda s: 0 * s if s <= 0 else 1 + 0 * s,
}
SMOOTH_BASES = {
    "tanh": lambda s: MP.tanh(s),
    "sigmoid": lambda s: 1 / (1 + MP.exp(-s)),
    "softplus": lambda s: MP.log1p(MP.exp(s)) if s < 50 else s + MP.log1p(MP.exp(-s)),
}


def _split(name):
    if "*" in name:
        c, base = name.split("*")
        return Fraction(c), base
    return Fraction(1), name


def _is_smooth(name):
    return _split(name)[1] in SMOOTH_BASES


def _activate(name, s):
    """φ(s): exact on Fractions for piecewise-linear φ, 60-digit mpmath for smooth φ."""
    c, base = _split(name)
    if base in PL_BASES:
        v = PL_BASES[base](s)
        return c * v if isinstance(v, Fraction) else MP.mpf(c.numerator) / c.denominator * v
    v = SMOOTH_BASES[base](_mpf(s))
    return MP.mpf(c.numerator) / c.denominator * v


def _mpf(v):
    if isinstance(v, Fraction):
        return MP.mpf(v.numerator) / v.denominator
    return MP.mpf(v)


def _sub(a, b):
    return a - b if isinstance(a, Fraction) and isinstance(b, Fraction) else _mpf(a) - _mpf(b)


def _mul_add(row, y, b):
    """Σ_j row_j y_j + b, in Fractions while y is exact, else in mpmath."""
    if all(isinstance(v, Fraction) for v in y):
        return sum((w * v for w, v in zip(row, y)), b)
    return MP.fsum([_mpf(w) * _mpf(v) for w, v in zip(row, y)] + [_mpf(b)])


# ---------------------------------------------------------------------- independent brute force

def configurations(Ws, bs, acts, x, probs, semantics):
    """Every crash configuration: yields (crashed neurons, Δ (tuple), probability (Fraction)).

    ``Ws[l-1]``, ``bs[l-1]``, ``acts[l-1]`` describe layer ``l``; every number is a Fraction
    (a float weight is given as ``Fraction(float)``).  ``probs``: {layer: Fraction}.  A crashed
    neuron outputs 0, or ``φ_l(b_l^i)`` under "incoming_zeroed" (0 for an input).
    """
    L = len(Ws)
    widths = [len(x)] + [len(b) for b in bs]

    def run(crashed):
        y = list(x)
        for l in range(L + 1):
            if l >= 1:
                y = [_activate(acts[l - 1], _mul_add(row, y, bi)) for row, bi in zip(Ws[l - 1], bs[l - 1])]
            for i in range(widths[l]):
                if (l, i) in crashed:
                    y[i] = Fraction(0) if (semantics == "output_zero" or l == 0) else _activate(acts[l - 1],
                                                                                             bs[l - 1][i])
        return y

    clean = run(set())
    neurons = [(l, i) for l in sorted(probs) for i in range(widths[l])]
    for mask in itertools.product((False, True), repeat=len(neurons)):
        crashed = frozenset(n for n, m in zip(neurons, mask) if m)
        w = Fraction(1)
        for (l, _), m in zip(neurons, mask):
            w *= probs[l] if m else 1 - probs[l]
        yield crashed, tuple(_sub(a, b) for a, b in zip(run(crashed), clean)), w


def brute_force(Ws, bs, acts, x, probs, semantics):
    """The law of Δ: {Δ: probability}."""
    law = {}
    for _, delta, w in configurations(Ws, bs, acts, x, probs, semantics):
        law[delta] = law.get(delta, 0) + w
    return law


def _moments(law, n_out):
    mean = [sum(w * d[k] for d, w in law.items()) for k in range(n_out)]
    second = [sum(w * d[k] ** 2 for d, w in law.items()) for k in range(n_out)]
    third = [sum(w * d[k] ** 3 for d, w in law.items()) for k in range(n_out)]
    cov = [[sum(w * d[a] * d[b] for d, w in law.items()) - mean[a] * mean[b] for b in range(n_out)]
           for a in range(n_out)]
    var = [second[k] - mean[k] ** 2 for k in range(n_out)]
    return mean, second, third, var, cov


# ---------------------------------------------------------------------- random adversarial nets

PL_NAMES = ["linear", "relu", "hardtanh", "ramp", "step", "1/2*relu", "3*hardtanh", "2*step", "1/3*ramp"]
SMOOTH_NAMES = ["tanh", "sigmoid", "softplus", "1/2*tanh", "3*sigmoid", "1/4*softplus"]


def _magnitude(draw):
    return draw(st.sampled_from([1e-8, 1e-5, 1e-3, 0.1, 1.0, 7.0, 1e3, 1e6]))


@st.composite
def float_number(draw):
    """A float with a mixed magnitude (an exact binary rational)."""
    return draw(st.sampled_from([-1.0, 1.0])) * draw(st.floats(0.1, 1.0)) * _magnitude(draw)


@st.composite
def rational_number(draw):
    num = draw(st.integers(-20, 20))
    den = draw(st.sampled_from([1, 2, 3, 7, 10, 1000]))
    scale = draw(st.sampled_from([Fraction(1, 10 ** 8), Fraction(1, 1000), Fraction(1), Fraction(10 ** 3),
                                  Fraction(10 ** 6)]))
    return Fraction(num, den) * scale


@st.composite
def adversarial_net(draw, kind, names):
    """(Ws, bs, acts, x) with numbers of ``kind`` ("float" or "rational"), widths ≤ 3, depth ≤ 3."""
    number = float_number() if kind == "float" else rational_number()
    L = draw(st.integers(1, 3))
    widths = [draw(st.integers(1, 3))] + [draw(st.integers(1, 3)) for _ in range(L - 1)] + [draw(st.integers(1, 2))]
    x = [draw(number) for _ in range(widths[0])]
    acts = [draw(st.sampled_from(names)) for _ in range(L)]   # the output layer too: non-linear outputs
    Ws, bs = [], []
    y = [Fraction(v) for v in x]
    for l in range(1, L + 1):
        rows, bias = [], []
        for i in range(widths[l]):
            row = [draw(number) for _ in range(widths[l - 1])]
            if widths[l - 1] >= 2 and draw(st.booleans()):   # a cancelling pair a, −a + tiny
                tiny = draw(st.sampled_from([0.0, 1e-8, -1e-5]))
                row[1] = -row[0] + (tiny if kind == "float" else Fraction(tiny))
            b = draw(number)
            choice = draw(st.sampled_from(["random", "kink", "near-kink"]))
            if choice != "random":   # put the clean pre-activation on (or next to) 0
                z = sum((Fraction(w) * v for w, v in zip(row, y)), Fraction(0))
                b = -z if choice == "kink" else -z + Fraction(1, 10 ** 9)
                b = float(b) if kind == "float" else b
            rows.append(row)
            bias.append(b)
        Ws.append(rows)
        bs.append(bias)
        y = [_exact_or_float(_activate(acts[l - 1], _mul_add([Fraction(w) for w in r], y, Fraction(bb))))
             for r, bb in zip(rows, bias)]
    return Ws, bs, acts, x


def _exact_or_float(v):
    return v if isinstance(v, Fraction) else Fraction(float(v))


@st.composite
def crash_model(draw, depth, widths, kind, max_neurons=9, max_p=Fraction(1, 2)):
    layers = draw(st.lists(st.integers(0, depth), min_size=1, max_size=depth + 1, unique=True))
    chosen, total = [], 0
    for l in sorted(layers):
        if total + widths[l] <= max_neurons:
            chosen.append(l)
            total += widths[l]
    if not chosen:
        chosen = [min(range(depth + 1), key=lambda l: widths[l])]
    probs = {}
    for l in chosen:
        if kind == "float":
            probs[l] = draw(st.sampled_from([1e-4, 0.01, 0.1, 0.3, 0.5, draw(st.floats(1e-3, float(max_p)))]))
        else:
            probs[l] = Fraction(1, draw(st.integers(2, 50)))
    semantics = draw(st.sampled_from(["output_zero", "incoming_zeroed"]))
    return probs, semantics


def _network(Ws, bs, acts, kind):
    if kind == "float":
        return Network.from_numpy([np.array(W, dtype=float) for W in Ws], [np.array(b, dtype=float) for b in bs],
                                  list(acts))
    return Network.from_sympy([[[sp.Rational(v.numerator, v.denominator) for v in r] for r in W] for W in Ws],
                              [[sp.Rational(v.numerator, v.denominator) for v in b] for b in bs], list(acts))


def _model(probs, semantics, kind):
    return NeuronCrash({l: (q if kind == "float" else sp.Rational(q.numerator, q.denominator))
                        for l, q in probs.items()}, semantics)


def _frac(v):
    """A value labelled exact, as a Fraction; a Float (or anything inexact) is a label violation."""
    v = sp.sympify(v)
    assert v.is_Rational, f"a value labelled exact is not a rational number: {v!r} ({type(v).__name__})"
    return Fraction(int(v.p), int(v.q))


def _case(data, kind, names, p_kind=None):
    """A random adversarial case and its brute force: (Ws, bs, acts, x, probs, semantics, configs)."""
    Ws, bs, acts, x = data.draw(adversarial_net(kind, names))
    widths = [len(x)] + [len(b) for b in bs]
    probs, semantics = data.draw(crash_model(len(Ws), widths, p_kind or kind))
    fr = lambda v: Fraction(v)  # noqa: E731 - floats are the binary rationals they hold
    configs = list(configurations([[[fr(v) for v in r] for r in W] for W in Ws], [[fr(v) for v in b] for b in bs],
                                  acts, [fr(v) for v in x], {l: fr(q) for l, q in probs.items()}, semantics))
    return Ws, bs, acts, x, probs, semantics, configs


def _law(configs):
    law = {}
    for _, delta, w in configs:
        law[delta] = law.get(delta, 0) + w
    return law


# ---------------------------------------------------------------------- (a) "exact" is exact

def _check_exact_labels(data, kind):
    Ws, bs, acts, x, probs, semantics, configs = _case(data, kind, PL_NAMES)
    net, model = _network(Ws, bs, acts, kind), _model(probs, semantics, kind)
    n_out = net.n_outputs
    law = _law(configs)
    mean, second, third, var, cov = _moments(law, n_out)
    xin = x if kind == "float" else [sp.Rational(v.numerator, v.denominator) for v in x]

    # enumerate_crashes: the rational engine, asked for (and, on a rational net, chosen by default)
    runs = [enumerate_crashes(net, xin, model, exact=True, moments=3)]
    if kind == "rational":
        runs.append(enumerate_crashes(net, xin, model, moments=3))
    for r in runs:
        assert r.exact is True and r.to_dict()["exact"] is True
        assert [_frac(v) for v in r.mean] == mean
        assert [_frac(v) for v in r.second] == second
        assert [_frac(v) for v in r.moment(3)] == third
        assert [_frac(v) for v in r.var] == var
        assert [[_frac(v) for v in row] for row in np.asarray(r.cov).reshape(n_out, n_out)] == cov
        assert all(sp.simplify(sp.sympify(sd) ** 2 - sp.sympify(v)) == 0 for sd, v in zip(r.std, r.var))

    # error_distribution: every atom and its probability
    d = error_distribution(net, xin, model, exact=True)
    assert d.exact is True
    got = {tuple(_frac(v) for v in a): _frac(w) for a, w in zip(d.atoms, d.probabilities)}
    assert got == {a: w for a, w in law.items() if w != 0}

    # mean_polynomial: a polynomial in one symbol per crashed layer, for E Δ and E Δ²;
    # independently Σ over configurations of Π_neurons (q_l if crashed else 1 − q_l) · Δ^m
    syms = {l: sp.Symbol(f"q{l}", nonnegative=True) for l in probs}
    widths = [len(x)] + [len(b) for b in bs]
    for moment in (1, 2):
        ep = mean_polynomial(net, xin, NeuronCrash(syms, semantics), moment=moment)
        assert ep.exact is True
        by_kappa = {}
        for crashed, delta, _ in configs:
            kappa = tuple(sum(1 for (l2, _) in crashed if l2 == l) for l in sorted(probs))
            acc = by_kappa.setdefault(kappa, [Fraction(0)] * n_out)
            for k in range(n_out):
                acc[k] += delta[k] ** moment
        for k in range(n_out):
            poly = sp.Integer(0)
            for kappa, acc in by_kappa.items():
                if acc[k]:
                    w = sp.Integer(1)
                    for l, kk in zip(sorted(probs), kappa):
                        w *= syms[l] ** kk * (1 - syms[l]) ** (widths[l] - kk)
                    poly += w * sp.Rational(acc[k].numerator, acc[k].denominator)
            assert sp.expand(ep.expr(k) - poly) == 0, (k, moment)
    # … and with rational probabilities given as numbers: the exact value
    if kind == "rational":
        ep = mean_polynomial(net, xin, model)
        assert ep.exact is True and [_frac(e) for e in ep.exprs] == mean


@settings(deadline=None, max_examples=8, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_exact_results_are_exact_rational_nets(data):
    _check_exact_labels(data, "rational")


@settings(deadline=None, max_examples=8, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_exact_results_are_exact_float_nets(data):
    # float weights, inputs and probabilities: exact means exact for the binary rationals they hold
    _check_exact_labels(data, "float")


@pytest.mark.slow
@settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data(), st.sampled_from(["rational", "float"]))
def test_exact_results_are_exact_many(data, kind):
    _check_exact_labels(data, kind)


@settings(deadline=None, max_examples=8, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_float_engine_is_never_labelled_exact(data):
    Ws, bs, acts, x = data.draw(adversarial_net("float", PL_NAMES + SMOOTH_NAMES))
    widths = [len(x)] + [len(b) for b in bs]
    probs, semantics = data.draw(crash_model(len(Ws), widths, "float"))
    net, model = _network(Ws, bs, acts, "float"), _model(probs, semantics, "float")
    smooth = any(_is_smooth(a) for a in acts)
    r = enumerate_crashes(net, x, model, exact=False)
    assert r.exact is False and r.to_dict()["exact"] is False
    assert error_distribution(net, x, model, exact=False).exact is False
    assert mean_polynomial(net, x, model, exact=False).exact is False
    # the default on a float net is the float engine, labelled so
    assert enumerate_crashes(net, x, model).exact is False
    assert error_distribution(net, x, model).exact is False
    if smooth:   # a smooth activation has no exact engine: refused, or float and labelled so
        with pytest.raises(InvalidArgument):
            enumerate_crashes(net, x, model, exact=True)
        with pytest.raises(InvalidArgument):
            error_distribution(net, x, model, exact=True)
        assert mean_polynomial(net, x, model).exact is False


def test_brute_force_reproduces_the_hand_example():
    # the oracle itself, on theory §4's toy: y = (x_0 + x_1)/2 at x = (1, 1), input crashes with p:
    # Δ ∈ {0, −1/2, −1} with probabilities (1−p)², 2p(1−p), p² → E Δ = −p, Var Δ = p(1−p)/2
    p = Fraction(1, 3)
    law = brute_force([[[Fraction(1, 2), Fraction(1, 2)]]], [[Fraction(0)]], ["linear"], [Fraction(1), Fraction(1)],
                      {0: p}, "output_zero")
    assert law == {(0,): (1 - p) ** 2, (Fraction(-1, 2),): 2 * p * (1 - p), (Fraction(-1),): p ** 2}
    mean, _, _, var, _ = _moments(law, 1)
    assert mean == [-p] and var == [p * (1 - p) / 2]
    # under "incoming_zeroed" a crashed relu neuron with bias −1 outputs relu(−1) = 0, with bias 2 outputs 2
    law = brute_force([[[Fraction(1)]], [[Fraction(1)]]], [[Fraction(2)], [Fraction(0)]], ["relu", "linear"],
                      [Fraction(3)], {1: p}, "incoming_zeroed")
    assert law == {(0,): 1 - p, (Fraction(-3),): p}   # clean 5, crashed relu(2) = 2


def test_mean_polynomial_float_probability_is_exact():
    # E Δ = −p for the mean of two inputs at x = (1, 1) (theory §4); p = 0.1 is the binary rational
    # 3602879701896397/36028797018963968, so the exact E Δ is its negative
    ep = mean_polynomial(mean_network(2), [1, 1], NeuronCrash({0: 0.1}))
    assert ep.exact is True
    assert _frac(ep.expr()) == -Fraction(0.1)
    assert _frac(ep()[0]) == -Fraction(0.1)


# ---------------------------------------------------------------------- (b) enclosures contain the truth

def _ref_moments(law, n_out):
    """E Δ, E Δ², Var Δ from the law, in 60-digit mpmath (exact Fractions rounded once), and a slack."""
    mean, second, slack = [], [], []
    for k in range(n_out):
        terms1 = [_mpf(w) * _mpf(d[k]) for d, w in law.items()]
        terms2 = [_mpf(w) * _mpf(d[k]) ** 2 for d, w in law.items()]
        mean.append(MP.fsum(terms1))
        second.append(MP.fsum(terms2))
        slack.append(MP.mpf(10) ** -45 * (1 + MP.fsum(abs(t) for t in terms1) + MP.fsum(terms2)))
    var = [s - m * m for s, m in zip(second, mean)]
    return mean, second, var, slack


def _check_enclosure(data, names, p_kind="float"):
    Ws, bs, acts, x, probs, semantics, configs = _case(data, "float", names, p_kind)
    net, model = _network(Ws, bs, acts, "float"), _model(probs, semantics, p_kind)
    widths = [len(x)] + [len(b) for b in bs]
    N = sum(widths[l] for l in probs)
    order = data.draw(st.integers(0, N))
    e = enclosure(net, np.array([float(v) for v in x]), model, order=order)
    mean, second, var, slack = _ref_moments(_law(configs), net.n_outputs)
    for k in range(net.n_outputs):
        for what, lo, hi, v in [("E Δ", e.mean_lo[k], e.mean_hi[k], mean[k]),
                                ("E Δ²", e.second_lo[k], e.second_hi[k], second[k]),
                                ("Var Δ", e.var_lo[k], e.var_hi[k], var[k])]:
            assert not (np.isnan(lo) or np.isnan(hi)), (what, k)
            assert MP.mpf(lo) <= v + slack[k] and v - slack[k] <= MP.mpf(hi), (
                f"{what}[{k}] = {MP.nstr(v, 20)} outside [{lo!r}, {hi!r}] (order {order}, acts {acts}, "
                f"p {probs}, {semantics})")
    # the probability mass it reports evaluated is at most the exact mass of ≤ order crashes
    assert Fraction(e.mass) <= sum(w for crashed, _, w in configs if len(crashed) <= order)


@settings(deadline=None, max_examples=15, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_enclosure_contains_exact_moments_smooth(data):
    _check_enclosure(data, SMOOTH_NAMES + ["linear", "relu", "1/2*relu", "hardtanh"])


@settings(deadline=None, max_examples=15, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_enclosure_contains_exact_moments_piecewise_linear(data):
    _check_enclosure(data, [n for n in PL_NAMES if "step" not in n])


@settings(deadline=None, max_examples=8, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_enclosure_contains_exact_moments_rational_p(data):
    # rational probabilities (1/3 is not a float): the enclosure must use them exactly
    _check_enclosure(data, SMOOTH_NAMES + PL_NAMES[:4], p_kind="rational")


@pytest.mark.slow
@settings(deadline=None, max_examples=400, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data(), st.sampled_from(["smooth", "pl", "step"]))
def test_enclosure_contains_exact_moments_many(data, family):
    names = {"smooth": SMOOTH_NAMES + ["linear", "relu", "hardtanh"], "pl": PL_NAMES[:4] + ["1/2*relu", "3*hardtanh"],
             "step": PL_NAMES + SMOOTH_NAMES}[family]
    _check_enclosure(data, names)


# ---------------------------------------------------------------------- (c) the pairwise-interaction tail alone

def _check_pairwise(data, names):
    """The mean, second-moment and variance intervals of the interaction tails alone (not intersected with the
    first-order ones) hold the 60-digit truth, and the interaction bound holds for every crash set: |Δ(s) − Σ_{a∈s} Δ_a| ≤ ½ Σ_{g,h} H."""
    from symft.walk.errorbound import BoxAndError
    from symft.walk.interaction import pair_bounds
    from symft.walk.walker import walk
    from symft.errors import NotSmooth

    Ws, bs, acts, x, probs, semantics, configs = _case(data, "float", names)
    net, model = _network(Ws, bs, acts, "float"), _model(probs, semantics, "float")
    widths = [len(x)] + [len(b) for b in bs]
    N = sum(widths[l] for l in probs)
    order = data.draw(st.integers(1, max(1, N)))
    xf = np.array([float(v) for v in x])
    e = enclosure(net, xf, model, order=order, tail="pairwise")
    mean, second, var, slack = _ref_moments(_law(configs), net.n_outputs)
    for k in range(net.n_outputs):
        # the second moment's tail through the single crashes, alone (not intersected) under tail="pairwise"
        for what, lo, hi, v in [("E Δ", e.mean_lo[k], e.mean_hi[k], mean[k]),
                                ("E Δ²", e.second_lo[k], e.second_hi[k], second[k]),
                                ("Var Δ", e.var_lo[k], e.var_hi[k], var[k])]:
            assert MP.mpf(lo) <= v + slack[k] and v - slack[k] <= MP.mpf(hi), (
                f"{what}[{k}] = {MP.nstr(v, 20)} outside [{lo!r}, {hi!r}] (order {order}, "
                f"acts {acts}, p {probs}, {semantics}, tails {list(e.tail_method)})")
    sites = {net.site(l): semantics for l in sorted(probs)}
    vals = walk(net, BoxAndError(net, sites), xf.reshape(1, -1))
    try:
        _, H = pair_bounds(net, vals, sites)
    except NotSmooth:
        return "no pair bound"
    total = [MP.mpf(0.5) * MP.fsum(MP.mpf(float(v)) for v in H[:, :, k].ravel()) for k in range(net.n_outputs)]
    single = {next(iter(c)): d for c, d, _ in configs if len(c) == 1}
    for crashed, delta, _ in configs:
        if len(crashed) < 2:
            continue
        for k in range(net.n_outputs):
            r = _mpf(delta[k]) - MP.fsum(_mpf(single[a][k]) for a in crashed)
            assert abs(r) <= total[k] * (1 + MP.mpf(10) ** -30) + MP.mpf(10) ** -40, (crashed, k, acts)
    return "checked"


@settings(deadline=None, max_examples=25, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_pairwise_tail_alone_contains_exact_mean(data):
    _check_pairwise(data, SMOOTH_NAMES + ["linear", "1/2*relu", "hardtanh"])


@pytest.mark.slow
@settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_pairwise_tail_alone_contains_exact_mean_many(data):
    _check_pairwise(data, SMOOTH_NAMES + PL_NAMES[:4] + ["3*hardtanh"])
