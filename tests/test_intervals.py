"""Tests of the interval derivatives: outward rounding (symft.walk.interval), activation enclosures (the registry),
and the soundness of D_1, D_2 (interval jets) and of the gradient enclosure (interval reverse mode) against sampled
and exact derivatives."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symft.graph.activations import get_activation
from symft.errors import TooLargeError
from symft.engines.taylor import derivative_bounds
from symft.errors import NotSmooth
from symft.walk.interval import Interval, activation_enclosures, upper_sum
from symft.graph.network import Network, random_network
from symft.engines.symbolic import symbolic_forward


def test_outward_rounding_contains_exact_results():
    from fractions import Fraction

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=200), rng.normal(size=200)
    for r, exact in [(Interval.point(a) + Interval.point(b), [Fraction(x) + Fraction(y) for x, y in zip(a, b)]),
                     (Interval.point(a) * Interval.point(b), [Fraction(x) * Fraction(y) for x, y in zip(a, b)]),
                     (Interval.point(a) - Interval.point(b), [Fraction(x) - Fraction(y) for x, y in zip(a, b)])]:
        assert all(Fraction(lo) <= e <= Fraction(hi) for lo, hi, e in zip(r.lo, r.hi, exact))
    assert float(upper_sum(np.full(1000, 0.1))) >= 100.0


def test_matvec_encloses_exact_rational_product():
    # the one interval rule of an affine op (here a dense node without bias), forward and adjoint
    from fractions import Fraction

    from symft.walk.interval import interval_adjoint, interval_affine

    rng = np.random.default_rng(1)
    W = rng.normal(size=(5, 50))
    x = rng.normal(size=50)
    node = Network.from_numpy([W], activations=["linear"]).node("z1")
    r = interval_affine(node, [Interval.point(x[None])], with_bias=False)[0]
    for i in range(5):
        exact = sum(Fraction(W[i, j]) * Fraction(x[j]) for j in range(50))
        assert Fraction(r.lo[i]) <= exact <= Fraction(r.hi[i])
    u = rng.normal(size=5)
    a = interval_adjoint(node, Interval.point(u[None]))[0][0]
    for j in range(50):
        exact = sum(Fraction(W[i, j]) * Fraction(u[i]) for i in range(5))
        assert Fraction(a.lo[j]) <= exact <= Fraction(a.hi[j])


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "softplus", "4*sigmoid", "linear"])
def test_activation_enclosures_contain_sampled_values(name):
    act = get_activation(name)
    lo = np.array([-3.0, -0.5, 0.1, 2.0, -0.6])
    hi = np.array([-1.0, 0.5, 0.4, 5.0, 0.6])
    v, d1, d2 = activation_enclosures(act, Interval(lo, hi))
    z = np.linspace(lo, hi, 2001)
    for enc, f in [(v, act(z)), (d1, act.derivative(z, 1)), (d2, act.derivative(z, 2))]:
        assert np.all(enc.lo <= f.min(axis=0)) and np.all(enc.hi >= f.max(axis=0))
    # tightness: critical points are used, not a crude bound
    if name == "tanh":
        assert d2.hi[1] < 0.8 and d2.lo[1] > -0.8        # |tanh''| ≤ 4/(3√3) ≈ 0.7698


def test_pwl_kink_refused_and_inside_piece_accepted():
    relu = get_activation("relu")
    with pytest.raises(NotSmooth, match="kink"):
        activation_enclosures(relu, Interval(np.array([-1.0]), np.array([1.0])))
    v, d1, d2 = activation_enclosures(relu, Interval(np.array([0.5]), np.array([1.0])))
    assert d1.lo[0] == 1 and d2.hi[0] == 0


def _sampled_sup(net, x, layers, n_points=150, seed=0):
    ev = symbolic_forward(net, x, layers, exact=False)
    xs = ev.xi_symbols
    K = len(ev.outputs)
    g = [[sp.lambdify(xs, sp.diff(y, a)) for a in xs] for y in ev.outputs]
    H = [[[sp.lambdify(xs, sp.diff(y, a, b)) for b in xs] for a in xs] for y in ev.outputs]
    rng = np.random.default_rng(seed)
    m1 = np.zeros((K, len(xs)))
    m2 = np.zeros((K, len(xs), len(xs)))
    for _ in range(n_points):
        pt = rng.random(len(xs))
        pt[rng.random(len(xs)) < 0.3] = 0.0
        pt[rng.random(len(xs)) < 0.3] = 1.0
        for k in range(K):
            m1[k] = np.maximum(m1[k], np.abs([f(*pt) for f in g[k]]))
            m2[k] = np.maximum(m2[k], np.abs([[f(*pt) for f in row] for row in H[k]]))
    return m1, m2


def _fd_derivatives(net, x, layers, xi):
    """Gradient and Hessian in ξ by finite differences of an own forward pass with real ξ."""
    widths = [net.widths[l] for l in layers]
    offs = np.cumsum([0] + widths)

    def y(v):
        h = np.asarray(x, float)
        if 0 in layers:
            k = layers.index(0)
            h = h * (1 - v[offs[k]:offs[k + 1]])
        for l in range(1, net.depth + 1):
            z = net.weights(l) @ h + net.bias(l)
            h = net.activation(l)(z)
            if l in layers:
                k = layers.index(l)
                h = h * (1 - v[offs[k]:offs[k + 1]])
        return h

    n = offs[-1]
    e = np.eye(n)
    h1, h2 = 1e-6, 1e-4
    g = np.array([(y(xi + h1 * e[a]) - y(xi - h1 * e[a])) / (2 * h1) for a in range(n)]).T
    H = np.zeros((g.shape[0], n, n))
    for a in range(n):
        for b in range(n):
            H[:, a, b] = (y(xi + h2 * (e[a] + e[b])) - y(xi + h2 * (e[a] - e[b]))
                          - y(xi - h2 * (e[a] - e[b])) + y(xi - h2 * (e[a] + e[b]))) / (4 * h2 * h2)
    return g, H


@settings(deadline=None, max_examples=15, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.sampled_from(["tanh", "sigmoid", "softplus"]),
       st.sampled_from([(0,), (1,), (0, 2), (1, 2)]))
def test_derivative_bounds_are_sound(seed, act, layers):
    net = random_network([2, 3, 2, 2], seed=seed, activation=act, weight_scale=2.0)
    x = np.random.default_rng(seed).normal(size=2) * 2
    bd = derivative_bounds(net, x, layers)
    rng = np.random.default_rng(seed)
    n = bd.M1.shape[1]
    for _ in range(20):
        xi = rng.random(n)
        xi[rng.random(n) < 0.3] = 0.0
        xi[rng.random(n) < 0.3] = 1.0
        g, H = _fd_derivatives(net, x, list(layers), xi)
        assert np.all(np.abs(g) <= bd.M1 + 1e-7)
        assert np.all(np.abs(H) <= bd.M2 + 1e-5)


def test_derivative_bounds_exact_for_linear_nets_and_guard():
    net = Network.from_numpy([[[1.0, 2.0], [3.0, -1.0]], [[0.5, -2.0]]], activations=["linear", "linear"])
    bd = derivative_bounds(net, np.array([1.0, 1.0]), [0])
    # y = 0.5(x0 + 2 x1) − 2(3 x0 − x1) with x → (1−ξ)x: ∂y/∂ξ0 = −(0.5 − 6) = 5.5, ∂y/∂ξ1 = −(1 + 2) = −3
    assert np.allclose(bd.M1, [[5.5, 3.0]], rtol=1e-14) and bd.D2 < 1e-300
    with pytest.raises(TooLargeError, match="force"):
        derivative_bounds(random_network([200, 200, 1], seed=0), np.zeros(200), [0, 1])


@pytest.mark.slow
@settings(deadline=None, max_examples=30, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.sampled_from(["tanh", "sigmoid", "softplus"]),
       st.sampled_from([(0,), (1,), (0, 2), (1, 2), (0, 1, 2)]))
def test_derivative_bounds_are_sound_many(seed, act, layers):
    net = random_network([2, 2, 2, 1], seed=seed, activation=act, weight_scale=3.0)
    x = np.random.default_rng(seed).normal(size=2) * 3
    bd = derivative_bounds(net, x, layers)
    m1, m2 = _sampled_sup(net, list(x), layers, n_points=200, seed=seed)
    # the sampled reference evaluates SymPy Floats printed with 15 digits: ~1e-12 relative noise
    # (e.g. seed 400, softplus, layer 1: sampled 27.53893415447…, exact sup 27.538934154444378
    # by 200-bit mpmath, bound 27.53893415444619)
    assert np.all(m1 <= bd.M1 * (1 + 1e-9) + 1e-300)
    assert np.all(m2 <= bd.M2 * (1 + 1e-9) + 1e-300)


# ---------------------------------------------------------------------- exact constants, point enclosures

def test_scaled_piecewise_linear_slopes_are_enclosed_not_rounded():
    # "1/3*relu" has slope 1/3 on (0, ∞); float(1/3) < 1/3, so a point enclosure of the rounded slope
    # misses the true derivative (and every value and gradient built from it)
    from fractions import Fraction

    for name, z in (("1/3*relu", 0.375), ("1/3*linear", -2.0), ("1/3*hardtanh", 0.5), ("7/10*tanh", 0.0)):
        act = get_activation(name)
        c = Fraction(name.split("*")[0])
        v, d1, _ = activation_enclosures(act, Interval.point(np.array([z])))
        assert Fraction(d1.lo[0]) <= c <= Fraction(d1.hi[0]), name
        if name != "7/10*tanh":                      # linear there: φ(z) = c z
            assert Fraction(v.lo[0]) <= c * Fraction(z) <= Fraction(v.hi[0]), name


def test_enclose_numbers():
    from fractions import Fraction

    from symft.walk.interval import enclose_numbers

    vals = [0.1, Fraction(1, 3), sp.Rational(2, 7), "0.1", 2 ** 60 + 1, sp.Float(0.2)]
    exact = [Fraction(0.1), Fraction(1, 3), Fraction(2, 7), Fraction(1, 10), Fraction(2 ** 60 + 1), Fraction(0.2)]
    e = enclose_numbers(vals)
    for lo, hi, q in zip(e.lo, e.hi, exact):
        assert Fraction(lo) <= q <= Fraction(hi)
        assert (lo == hi) == (Fraction(lo) == q)         # exact when the float holds it, else adjacent floats
        assert hi <= np.nextafter(lo, np.inf)


def _fraction_gradients(weights, biases, acts, x, layers):
    """Independent exact T1 sensitivities g_l[k, i] = ∂y^k/∂ξ_l^i at ξ = 0 for a piecewise-linear net
    (relu / linear, no pre-activation at a kink): own forward pass and reverse sweep in Fractions."""
    from fractions import Fraction

    F = [[[Fraction(w) for w in row] for row in W] for W in weights]
    Bs = [[Fraction(b) for b in bl] for bl in biases]
    ys, slopes = [[Fraction(v) for v in x]], [None]
    for W, b, a in zip(F, Bs, acts):
        z = [sum(w * v for w, v in zip(row, ys[-1])) + bb for row, bb in zip(W, b)]
        s = [Fraction(1) if (a == "linear" or zz > 0) else Fraction(0) for zz in z]
        ys.append([si * zz for si, zz in zip(s, z)])
        slopes.append(s)
    L, K = len(F), len(ys[-1])
    out = {}
    for k in range(K):
        J = {L: [Fraction(int(i == k)) for i in range(K)]}
        for l in range(L, 0, -1):
            dz = [j * s for j, s in zip(J[l], slopes[l])]
            J[l - 1] = [sum(dz[r] * F[l - 1][r][c] for r in range(len(dz))) for c in range(len(F[l - 1][0]))]
        for l in layers:
            out.setdefault(l, []).append([-j * y for j, y in zip(J[l], ys[l])])
    return out


_MAGS = st.builds(lambda z, s, m, e: 0.0 if z == 0 else s * m * 10.0 ** e, st.integers(0, 7),
                  st.sampled_from((-1, 1)), st.sampled_from((1.0, 1.5, 3.7)), st.integers(-8, 6))


@settings(deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 3), st.lists(st.integers(1, 4), min_size=1, max_size=2), st.data())
def test_gradient_enclosure_contains_exact_gradients(n0, hidden, data):
    # mixed magnitudes (1e-8 … 3.7e6) and an exactly cancelling pair of neurons: the float backward pass
    # may lose everything, the enclosure never misses the exact (Fraction) value
    from fractions import Fraction

    from symft.engines.taylor import gradient_enclosure

    widths = [n0] + hidden + [data.draw(st.integers(1, 2))]
    W = [[[data.draw(_MAGS) for _ in range(widths[l - 1])] for _ in range(widths[l])] for l in range(1, len(widths))]
    b = [[data.draw(_MAGS) for _ in range(widths[l])] for l in range(1, len(widths))]
    if widths[1] >= 2:
        W[0][1], b[0][1] = list(W[0][0]), b[0][0]
        for row in W[1]:
            row[1] = -row[0]
    acts = [data.draw(st.sampled_from(["relu", "linear"])) for _ in hidden] + ["linear"]
    x = [data.draw(_MAGS) for _ in range(n0)]
    layers = sorted(data.draw(st.sets(st.integers(0, len(widths) - 1), min_size=1)))
    net = Network.from_numpy([np.array(w) for w in W], [np.array(v) for v in b], activations=acts)
    try:
        G = gradient_enclosure(net, np.array(x), layers)
    except NotSmooth:
        return                                       # a pre-activation at a kink: no derivative to enclose
    exact = _fraction_gradients(W, b, acts, x, layers)
    for l in layers:
        for k, row in enumerate(exact[l]):
            for i, g in enumerate(row):
                assert Fraction(G[l].lo[0, k, i]) <= g <= Fraction(G[l].hi[0, k, i]), (l, k, i)


def test_derivative_bounds_accept_exact_inputs():
    # y = h, h = x_0 − x_1, crashes at h: ∂y/∂ξ = −h.  At x = (1/3, float(1/3)) the exact h is
    # 1/3 − float(1/3) ≈ 1.9e-17, while rounding x_0 to a float first gives h = 0
    from fractions import Fraction

    net = Network.from_numpy([np.array([[1.0, -1.0]]), np.array([[1.0]])], activations=["linear", "linear"])
    bd = derivative_bounds(net, [Fraction(1, 3), 1 / 3], [1])
    assert Fraction(bd.M1[0, 0]) >= Fraction(1, 3) - Fraction(1 / 3) > 0
    with pytest.raises(NotSmooth, match="kink"):
        derivative_bounds(Network.from_numpy([np.array([[1.0]])], activations=["relu"]), [0.0], [0])


def test_custom_activation_borrowing_a_builtin_name_gets_no_enclosure():
    # custom_activation(5 s³, name="tanh") is not tanh: tanh's enclosures (|φ''| ≤ 0.77) would bound a
    # function whose φ'' = 30 s, so the T1 remainder would be false; it must be refused instead
    from symft.graph.activations import custom_activation
    from symft.engines.taylor import t1

    s = sp.Symbol("s")
    for name, expr in (("tanh", 5 * s ** 3), ("1/2*tanh", s ** 3 / 2), ("softplus", s ** 2)):
        act = custom_activation(sp.Lambda(s, expr), name=name)
        with pytest.raises(NotSmooth):
            activation_enclosures(act, Interval.point(np.array([0.5])))
        net = Network.from_sympy([[[1]], [[1]]], activations=[act, "linear"])
        with pytest.raises(NotSmooth):
            derivative_bounds(net, np.array([1.0]), [0])
        assert t1(net, [1.0], {0: 0.1}).remainder_mean is None
