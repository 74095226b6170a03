"""Tests of symft.theory.continuous: AD1, AP4, P4, AP5, Eq. 1 (C_1, C_2, C_3)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from symft.theory.continuous import (TAU, T, ContinuousNetwork, continuous_forward, derivative_scaling, discretize,
                              discretize_input, input_hessian, operator_derivative,
                              operator_derivative_symbolic, q_balance, smoothness)
from symft.errors import InvalidArgument
from symft.engines.forward import backward, forward
from symft.theory.identities import p4_example


def test_discretize_ap4_exact_values():
    # W(t, τ) = t + 2τ at n_1 = 2, n_0 = 3: W^{ij} = (i/2 + 2 j/3) / 3 (1-based i, j), hand-computed.
    cn = ContinuousNetwork(["t + 2*tau"], biases=["t**2"], activations=["linear"], output_width=2)
    net = discretize(cn, 3, exact=True)
    R = sp.Rational
    assert net.weights_exact(1)[0, 0] == (R(1, 2) + R(2, 3)) / 3
    assert net.weights_exact(1)[1, 2] == (1 + 2) * R(1, 3)
    assert list(net.bias_exact(1)) == [R(1, 4), 1]
    assert np.allclose(discretize(cn, 3).weights(1), np.array(net.weights_exact(1), dtype=float))


def test_discretization_error_is_order_one_over_n():
    cn = ContinuousNetwork(["1 + t*tau", "cos(tau)"], biases=["t/4", "0"], activations="tanh")
    x = "sin(2*t)"
    ref = continuous_forward(cn, x, nodes=300)[0]
    errs = []
    for n in (32, 64, 128, 256):
        errs.append(abs(forward(discretize(cn, n), discretize_input(x, n))[0] - ref))
    ratios = np.array(errs[:-1]) / np.array(errs[1:])
    assert np.all((ratios > 1.7) & (ratios < 2.3)), ratios     # halving per doubling: O(1/n)


def test_operator_derivative_numeric_equals_symbolic():
    cn = ContinuousNetwork(["t*tau + 1", "t + tau**2"], activations=["linear", "linear"])
    d = operator_derivative_symbolic(cn, "t")
    s = np.linspace(0.05, 1, 7)
    num = operator_derivative(cn, "t", s)
    assert np.allclose(num, [float(d.subs(TAU, v)) for v in s], rtol=1e-12)


def test_p4_scaling_slopes_and_convergence():
    cn = ContinuousNetwork(["1 + t*tau", "sin(3*t)*cos(tau)", "1 - tau/2"], biases=["0", "t/3", "0"],
                           activations="tanh")
    r = derivative_scaling(cn, "cos(2*t)", ns=(16, 32, 64, 128))
    assert abs(r.slope1 + 1) < 0.05 and abs(r.slope2 + 2) < 0.05
    e = r.convergence_error
    assert np.all(e[1:] < e[:-1])                      # n ∂y/∂x_i → δy/δx(i/n)
    assert e[-1] < 0.02 * np.abs(operator_derivative(cn, "cos(2*t)", np.linspace(0.1, 1, 5))).max() + 1e-3
    assert "slopes" in str(r)


def test_p4_example_matches_continuous_limit():
    # y = φ(∫ x): δy/δx(s) = φ'(1) at x ≡ 1, and n ∂y/∂x_i = φ'(1) exactly at every width (hand).
    cn = ContinuousNetwork([1, 1], activations=["tanh", "linear"])
    for n in (3, 10):
        J = backward(discretize(cn, n), np.ones((1, n)))[0][0, 0]
        assert np.allclose(n * J, 1 - np.tanh(1.0) ** 2, rtol=1e-13)
        assert p4_example(n).agree
    assert np.allclose(operator_derivative(cn, 1, [0.3]), 1 - np.tanh(1.0) ** 2)


def test_input_hessian_against_finite_differences():
    net = discretize(ContinuousNetwork(["1 + t*tau", "tau"], activations="sigmoid"), 5)
    x = np.linspace(-1, 1, 5)
    G, H = input_hessian(net, x)
    h = 1e-5
    for i in range(5):
        e = np.eye(5)[i] * h
        gp = backward(net, (x + e)[None])[0][0, 0]
        gm = backward(net, (x - e)[None])[0][0, 0]
        assert np.allclose((gp - gm) / (2 * h), H[0, i], atol=1e-8)
    assert np.allclose(G[0], backward(net, x[None])[0][0, 0], rtol=1e-13)


def test_q_balance_closed_forms():
    # W = 1 + t: column totals ∫(1 + t) dt = 3/2 are constant → q = 1; rows (1 + t):
    # q_rows = (3/2)² / ∫(1 + t)² dt = (9/4) / (7/3) = 27/28 (hand).
    qb = q_balance(ContinuousNetwork(["1 + t"], activations=["linear"]), ns=(16, 128))
    assert qb.q == pytest.approx(1.0, abs=1e-12)
    assert qb.q_rows == pytest.approx(27 / 28, rel=1e-10)
    (n1, q1, qr1, mm1), (n2, q2, qr2, mm2) = qb.discrete
    assert abs(qr2 - 27 / 28) < abs(qr1 - 27 / 28) and abs(qr2 - 27 / 28) < 1e-3
    assert mm2 == pytest.approx(1 / (2 - 0), rel=0.02)       # min/max of row totals → 1/2 (hand: (1+0)/(1+1))
    with pytest.raises(InvalidArgument):
        q_balance(ContinuousNetwork(["1"], activations=["linear"]), layer=2)


def test_smoothness_width_independent_and_closed_form():
    # W(t, τ) = sin(πt) cos(πτ): ∫∫|∂_t W| = π (2/π)(2/π) = 4/π, ∫∫|∂_τ W| = (2/π)(π)(2/π) = 4/π (hand).
    k = "sin(pi*t)*cos(pi*tau)"
    vals = []
    for n in (32, 64, 128):
        W = discretize(ContinuousNetwork([k], activations=["linear"], output_width=n), n).weights(1)
        vals.append(smoothness(W))
    assert vals[-1].C1 == pytest.approx(4 / np.pi, rel=0.03)
    assert vals[-1].C2 == pytest.approx(4 / np.pi, rel=0.03)
    c3 = [v.C3 for v in vals]
    assert max(c3) / min(c3) < 1.05 and c3[0] > 0
    rough = smoothness(np.random.default_rng(0).normal(size=(64, 64)) / 64)
    assert rough.total > 10 * vals[1].total
    with pytest.raises(InvalidArgument):
        smoothness(np.ones(3))


def test_bad_arguments():
    with pytest.raises(InvalidArgument, match="free symbols"):
        ContinuousNetwork(["t*z"])
    cn = ContinuousNetwork([1, 1])
    with pytest.raises(InvalidArgument):
        discretize(cn, [3])
    with pytest.raises(InvalidArgument):
        derivative_scaling(cn, "1", ns=(8,))
    assert "tau" in cn.latex() and cn._repr_latex_().startswith("$")


def test_operator_derivative_with_a_nonlinear_output_activation():
    # y = tanh(z_2(1)), z_2(t) = ∫ t τ y_1(τ) dτ, y_1(t) = ∫ 1·x = 1 at x ≡ 1, so z_2(1) = 1/2 (hand):
    # δy/δy_1(s) = tanh'(1/2) s and δy/δx(s) = ∫ tanh'(1/2) t dt = tanh'(1/2) / 2.
    cn = ContinuousNetwork(["1", "t*tau"], activations=["linear", "tanh"])
    d = 1 - np.tanh(0.5) ** 2
    s = np.array([0.2, 0.5, 0.9])
    assert np.allclose(operator_derivative(cn, 1, s, layer=1), d * s, rtol=1e-13)
    assert np.allclose(operator_derivative(cn, 1, s, layer=0), d / 2, rtol=1e-13)
    assert sp.simplify(operator_derivative_symbolic(cn, 1) - (1 - sp.tanh(sp.Rational(1, 2)) ** 2) / 2) == 0
    assert np.allclose(continuous_forward(cn, 1), np.tanh(0.5), rtol=1e-14)
