"""Activations: NumPy vs SymPy, derivatives, Lipschitz constants, pieces, registry."""

import math
import warnings

import numpy as np
import pytest
import sympy as sp

from symft.graph.activations import (
    S,
    Activation,
    activation_names,
    custom_activation,
    get_activation,
    register_activation,
)
from symft.errors import InvalidArgument

BUILTINS = ["linear", "relu", "hardtanh", "ramp", "step", "sigmoid", "tanh", "softplus"]
SMOOTH = ["sigmoid", "tanh", "softplus"]
PWL = ["linear", "relu", "hardtanh", "ramp", "step"]

# independent reference formulas (scalar, math module)
REF = {
    "linear": lambda s: s,
    "relu": lambda s: s if s > 0 else 0.0,
    "hardtanh": lambda s: min(1.0, max(-1.0, s)),
    "ramp": lambda s: min(1.0, max(0.0, s + 1.0)),
    "step": lambda s: 1.0 if s > 0 else 0.0,
    "sigmoid": lambda s: 1 / (1 + math.exp(-s)) if s >= 0 else math.exp(s) / (1 + math.exp(s)),
    "tanh": math.tanh,
    "softplus": lambda s: max(s, 0.0) + math.log1p(math.exp(-abs(s))),
}
KINKS = {"relu": [0.0], "hardtanh": [-1.0, 1.0], "ramp": [-1.0, 0.0], "step": [0.0], "linear": []}
LIPSCHITZ = {"linear": 1, "relu": 1, "hardtanh": 1, "ramp": 1, "step": sp.oo,
             "sigmoid": sp.Rational(1, 4), "tanh": 1, "softplus": 1}
POINTS = [-700.0, -40.0, -5.0, -1.5, -1.0, -0.5, -1e-9, 0.0, 1e-9, 0.25, 0.5, 1.0, 1.0000001, 2.0,
          3.7, 40.0, 700.0]


def test_builtins_registered():
    assert activation_names()[:8] == BUILTINS


@pytest.mark.parametrize("name", BUILTINS)
def test_numpy_vs_reference_and_sympy(name):
    act = get_activation(name)
    z = np.array(POINTS)
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        got = act(z)
    assert got.dtype == np.float64 and got.shape == z.shape
    ref = np.array([REF[name](s) for s in POINTS])
    np.testing.assert_allclose(got, ref, rtol=1e-14, atol=1e-300)
    # the SymPy expression, evaluated exactly at the rational the float holds
    for s, g in zip(POINTS, got):
        v = act.sympy(sp.Rational(s))
        assert abs(float(sp.N(v, 40)) - g) <= 1e-14 * max(1.0, abs(g)) + 1e-300, (name, s, v, g)


@pytest.mark.parametrize("name", ["sigmoid", "softplus", "tanh"])
def test_extreme_inputs_stable(name):
    act = get_activation(name)
    z = np.array([-700.0, -40.0, 40.0, 700.0])
    with np.errstate(all="raise"):
        v, d1, d2 = act(z), act.derivative(z), act.derivative(z, 2)
    for a in (v, d1, d2):
        assert np.isfinite(a).all()
    # even further out only underflow may happen (benign: the results are 0 or exact)
    z = np.array([-1e5, -800.0, 800.0, 1e5])
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        v, d1, d2 = act(z), act.derivative(z), act.derivative(z, 2)
    assert np.isfinite(v).all() and np.isfinite(d1).all() and np.isfinite(d2).all()
    if name == "sigmoid":
        assert v.tolist() == [0.0, 0.0, 1.0, 1.0]
    if name == "softplus":
        assert v[0] == 0.0 and v[-1] == 1e5 and v[2] == 800.0
        assert d1.tolist() == [0.0, 0.0, 1.0, 1.0]


@pytest.mark.parametrize("name", SMOOTH)
def test_smooth_derivatives(name):
    act = get_activation(name)
    z = np.linspace(-6, 6, 97)
    h = 1e-5
    fd1 = (act(z + h) - act(z - h)) / (2 * h)
    np.testing.assert_allclose(act.derivative(z), fd1, rtol=1e-7, atol=1e-9)
    fd2 = (act.derivative(z + h) - act.derivative(z - h)) / (2 * h)
    np.testing.assert_allclose(act.derivative(z, 2), fd2, rtol=1e-6, atol=1e-8)
    # vs SymPy diff
    # the reference runs at 60 digits: SymPy's derivative formulas cancel badly at 15
    import mpmath

    _d1 = sp.lambdify(S, sp.diff(act.expr, S), "mpmath")
    _d2 = sp.lambdify(S, sp.diff(act.expr, S, 2), "mpmath")

    def d1(s):
        with mpmath.workdps(60):
            return _d1(mpmath.mpf(s))

    def d2(s):
        with mpmath.workdps(60):
            return _d2(mpmath.mpf(s))
    for s in [-3.0, -0.3, 0.0, 0.7, 2.5]:
        assert act.derivative(np.array([s]))[0] == pytest.approx(float(d1(s)), rel=1e-12, abs=1e-300)
        assert act.derivative(np.array([s]), 2)[0] == pytest.approx(float(d2(s)), rel=1e-9, abs=1e-15)
    # far out the derivatives are tiny; they are computed without cancellation, so they
    # keep their relative accuracy (softplus' → 1 at +∞ is fine in relative terms too)
    for s in [-40.0, -30.0, 30.0, 40.0]:
        assert act.derivative(np.array([s]))[0] == pytest.approx(float(d1(s)), rel=1e-12, abs=1e-300)
        assert act.derivative(np.array([s]), 2)[0] == pytest.approx(float(d2(s)), rel=1e-9, abs=1e-300)
    assert act.smooth is True


@pytest.mark.parametrize("name", PWL)
def test_pwl_derivatives(name):
    act = get_activation(name)
    z = np.array([p for p in np.linspace(-3, 3, 61) if all(abs(p - k) > 1e-6 for k in KINKS[name])])
    h = 1e-7
    fd = (act(z + h) - act(z - h)) / (2 * h)
    np.testing.assert_allclose(act.derivative(z), fd, atol=1e-6)
    assert (act.derivative(z, 2) == 0).all()
    # vs SymPy diff of the Piecewise expression away from kinks
    dexpr = sp.diff(act.expr, S)
    for s in z[::7]:
        assert act.derivative(np.array([s]))[0] == float(dexpr.subs(S, sp.Rational(s)))
    # at kinks: the left derivative (half-open pieces lo < s <= hi)
    for k in KINKS[name]:
        left = (act(np.array([k])) - act(np.array([k - 1e-3]))) / 1e-3
        assert act.derivative(np.array([k]))[0] == pytest.approx(left[0], abs=1e-9)
    assert act.smooth is (name == "linear")


def test_kink_conventions():
    relu, step = get_activation("relu"), get_activation("step")
    assert step(np.array([0.0]))[0] == 0.0 and step(np.array([1e-300]))[0] == 1.0
    assert relu.derivative(np.array([0.0]))[0] == 0.0
    assert step.sympy(0) == 0 and step.sympy(sp.Rational(1, 10**9)) == 1
    assert get_activation("ramp").sympy(0) == 1 and get_activation("ramp").sympy(-1) == 0
    assert get_activation("hardtanh").derivative(np.array([-1.0, 1.0])).tolist() == [0.0, 1.0]
    assert get_activation("ramp").derivative(np.array([-1.0, 0.0])).tolist() == [0.0, 1.0]


@pytest.mark.parametrize("name", BUILTINS)
def test_lipschitz(name):
    act = get_activation(name)
    assert act.lipschitz == LIPSCHITZ[name]
    z = np.linspace(-40, 40, 400001)  # softplus' slope approaches K = 1 only far out
    slopes = np.abs(np.diff(act(z)) / np.diff(z))
    if act.lipschitz == sp.oo:
        assert slopes.max() > 1e3  # the jump of step
    else:
        K = float(act.lipschitz)
        assert slopes.max() <= K * (1 + 1e-9)
        assert slopes.max() >= K * (1 - 1e-6)
        assert np.abs(act.derivative(z)).max() <= K * (1 + 1e-12)


@pytest.mark.parametrize("name", PWL)
def test_pieces_reproduce_function(name):
    act = get_activation(name)
    pcs = act.pieces
    assert act.is_piecewise_linear
    assert pcs[0].lo == -sp.oo and pcs[-1].hi == sp.oo
    for a, b in zip(pcs, pcs[1:]):
        assert a.hi == b.lo
    pts = [-3.5, -1.0, -0.999, -0.5, 0.0, 0.001, 0.5, 1.0, 1.25, 3.0]
    for s in pts + KINKS[name]:
        r = sp.Rational(s)
        inside = [p for p in pcs if p.contains(r)]
        assert len(inside) == 1, (name, s)
        p = inside[0]
        val = p.slope * r + p.intercept
        assert val == act.sympy(r)
        assert float(val) == act(np.array([s]))[0]
        assert float(p.slope) == act.derivative(np.array([s]))[0]


def test_smooth_have_no_pieces():
    for n in SMOOTH:
        assert get_activation(n).pieces is None and not get_activation(n).is_piecewise_linear


def test_ranges_and_sup_abs():
    z = np.linspace(-50, 50, 10001)
    for n in BUILTINS:
        act = get_activation(n)
        lo, hi = act.range
        v = act(z)
        assert v.min() >= float(lo) - 1e-15 and v.max() <= float(hi) + 1e-15
    assert get_activation("tanh").sup_abs == 1 and get_activation("ramp").sup_abs == 1
    assert get_activation("softplus").sup_abs == sp.oo


def test_scaled():
    sig = get_activation("sigmoid")
    s4 = get_activation("4*sigmoid")
    assert s4.name == "4*sigmoid" and s4.lipschitz == 1
    assert s4 == sig.scaled(4)
    z = np.linspace(-5, 5, 11)
    np.testing.assert_allclose(s4(z), 4 / (1 + np.exp(-z)), rtol=1e-14)
    np.testing.assert_allclose(s4.derivative(z), 4 * sig.derivative(z), rtol=1e-14)
    assert sp.simplify(s4.expr - 4 / (1 + sp.exp(-S))) == 0
    assert s4.range == (0, 4)
    # composition of scalings keeps one name
    assert sig.scaled(2).scaled(2).name == "4*sigmoid"
    assert sig.scaled(4).scaled(sp.Rational(1, 4)).name == "sigmoid"
    h = get_activation("1/2*hardtanh")
    assert h.lipschitz == sp.Rational(1, 2)
    assert [p.slope for p in h.pieces] == [0, sp.Rational(1, 2), 0]
    assert h.sympy(3) == sp.Rational(1, 2)
    assert h(np.array([0.5]))[0] == 0.25
    assert get_activation("relu").scaled(1) is get_activation("relu")
    for bad in (0, -2, sp.sqrt(2)):
        with pytest.raises(InvalidArgument, match="scale: expected a positive rational"):
            sig.scaled(bad)


def test_get_activation_errors():
    with pytest.raises(InvalidArgument) as e:
        get_activation("swish")
    assert str(e.value).startswith("unknown activation 'swish'; expected one of: linear, relu, ")
    with pytest.raises(InvalidArgument, match="expected a name"):
        get_activation(3)
    with pytest.raises(InvalidArgument, match="unknown activation"):
        get_activation("0*relu")
    with pytest.raises(InvalidArgument, match="unknown activation"):
        get_activation("2*swish")
    act = get_activation("tanh")
    assert get_activation(act) is act
    with pytest.raises(InvalidArgument, match="order"):
        act.derivative(np.zeros(1), order=3)


def test_custom_activation():
    x = sp.Symbol("x")
    a = custom_activation(sp.Lambda(x, x / (1 + x**2)), name="test_bump_custom")
    z = np.linspace(-5, 5, 41)
    np.testing.assert_allclose(a(z), z / (1 + z**2), rtol=1e-14)
    for s in [-2.0, 0.0, 0.5, 3.0]:
        assert a(np.array([s]))[0] == pytest.approx(float(a.sympy(sp.Rational(s))), rel=1e-14)
    np.testing.assert_allclose(a.derivative(z), (1 - z**2) / (1 + z**2) ** 2, rtol=1e-12, atol=1e-15)
    assert a.lipschitz == 1
    grid = np.linspace(-20, 20, 400001)
    assert np.abs(a.derivative(grid)).max() == pytest.approx(1.0, abs=1e-12)
    assert a.smooth is True
    assert a.range == (-sp.Rational(1, 2), sp.Rational(1, 2))
    assert a.monotone is False
    # a constant-free name default
    b = custom_activation(sp.Lambda(x, 2 * x))
    assert b.name == "2*x" and b.lipschitz == 2 and b(np.array([1.5]))[0] == 3.0
    # non-smooth detection
    c = custom_activation(sp.Lambda(x, x / (1 + sp.Abs(x))), name="test_softsign_custom", lipschitz=1)
    assert c.smooth is False and c.lipschitz == 1
    np.testing.assert_allclose(c(z), z / (1 + np.abs(z)), rtol=1e-14)
    # errors
    with pytest.raises(InvalidArgument, match="free symbols"):
        custom_activation(sp.Lambda(x, x * sp.Symbol("w")))
    with pytest.raises(InvalidArgument, match="Lambda"):
        custom_activation(x**2)


def test_register(monkeypatch):
    # registrations made here must not leak into other tests or doctests
    import symft.graph.activations as acts_mod

    monkeypatch.setattr(acts_mod, "_REGISTRY", dict(acts_mod._REGISTRY))
    x = sp.Symbol("x")
    with pytest.raises(InvalidArgument, match="built in and cannot be replaced"):
        register_activation(custom_activation(sp.Lambda(x, x), name="relu"))
    with pytest.raises(InvalidArgument, match="built in"):
        register_activation(custom_activation(sp.Lambda(x, x), name="relu"), replace=True)
    assert get_activation("relu")(np.array([-1.0]))[0] == 0.0  # untouched
    a = custom_activation(sp.Lambda(x, x**3), name="test_cube_reg")
    assert register_activation(a) is a
    assert get_activation("test_cube_reg") is a
    assert register_activation(a) is a  # same one again is fine
    b = custom_activation(sp.Lambda(x, 2 * x**3), name="test_cube_reg")
    with pytest.raises(InvalidArgument, match="already registered"):
        register_activation(b)
    register_activation(b, replace=True)
    assert get_activation("test_cube_reg") is b
    with pytest.raises(InvalidArgument, match="reserved"):
        register_activation(custom_activation(sp.Lambda(x, x), name="3*foo"))
    with pytest.raises(InvalidArgument, match="expected an Activation"):
        register_activation("relu")


def test_equality_and_hash():
    assert get_activation("tanh") == get_activation("tanh")
    assert get_activation("tanh") != get_activation("sigmoid")
    assert hash(get_activation("2*tanh")) == hash(get_activation("tanh").scaled(2))
    assert isinstance(get_activation("relu"), Activation)
    assert get_activation("linear").is_linear and not get_activation("relu").is_linear
