r"""Continuous networks (AD1), their discretization (AP4), operator derivatives (P4),
the balance constant q of AP5, and the smoothness measures C_1, C_2, C_3 of Eq. 1.

A :class:`ContinuousNetwork` has kernels ``W_l(t, τ)`` and biases ``b_l(t)``
given as SymPy expressions in :data:`T` (``t``) and :data:`TAU` (``τ``):

``z_l(t) = ∫_0^1 W_l(t, τ) y_{l−1}(τ) dτ + b_l(t)``, ``y_l = φ_l(z_l)``, last layer linear.

* :func:`discretize` — AP4: ``x_i = x(i/n_0)``,
  ``W_l^{ij} = W_l(i/n_l, j/n_{l−1}) / n_{l−1}``, ``b_l^i = b_l(i/n_l)``
  (``i, j = 1 … n``; symft's 0-based neuron ``i`` sits at ``t = (i+1)/n``).
  The output layer keeps ``output_width`` neurons (default 1, at ``t = 1``).
* :func:`continuous_forward` — the continuous output by Gauss–Legendre
  quadrature: at the quadrature nodes the continuous network is a dense
  chain (weights ``W_l(t_i, t_j) w_j``), evaluated by the walker.
* :func:`operator_derivative` — ``δy/δy_l(s)`` (P4) by the continuous
  backward recursion ``δy/δz_l(t) = δy/δy_l(t) φ'(z_l(t))``,
  ``δy/δy_{l−1}(s) = ∫ δy/δz_l(t) W_l(t, s) dt`` (a reverse sweep of the
  same quadrature chain); and :func:`operator_derivative_symbolic` in
  closed form where SymPy can integrate (a recursion over the kernels:
  integrals, not a graph to walk).
* :func:`input_hessian` — gradient and Hessian of a (discrete) network's
  outputs w.r.t. its input, on any graph (second-order forward mode).
* :func:`derivative_scaling` — the numeric demonstration of P4:
  ``n·∂y/∂x_i → δy/δx(i/n)``, and the log-log slopes ``≈ −1`` and ``≈ −2``
  of the largest first and second input derivatives as ``n`` grows.
* :func:`q_balance` — AP5's ``q`` (continuous formula and its discrete
  counterparts).
* :func:`smoothness` — Eq. 1's ``C_1, C_2, C_3`` of a weight matrix,
  normalized to be width-independent.

Examples
--------
>>> cn = ContinuousNetwork([1, 1], activations=["tanh", "linear"])
>>> chain = discretize(cn, 4, exact=True).as_chain()
>>> chain.widths, chain.layers[0].weight[0, 0]
((4, 4, 1), 1/4)
>>> bool(np.isclose(continuous_forward(cn, 1)[0], np.tanh(1.0), rtol=1e-14))
True
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np
import sympy as sp

from ..graph.activations import S as _S, get_activation
from ..errors import InvalidArgument
from ..engines.forward import as_inputs, forward, forward_trace, jacobians
from ..graph.network import Network
from ..walk.jets import Jets
from ..walk.walker import walk
from ..results import result

__all__ = [
    "T",
    "TAU",
    "ContinuousNetwork",
    "discretize",
    "continuous_forward",
    "operator_derivative",
    "operator_derivative_symbolic",
    "ScalingResult",
    "derivative_scaling",
    "input_hessian",
    "QBalance",
    "q_balance",
    "Smoothness",
    "smoothness",
]

#: Output position of a kernel ``W(t, τ)`` and of a bias ``b(t)``.
T = sp.Symbol("t", real=True)
#: Input position of a kernel ``W(t, τ)``.
TAU = sp.Symbol("tau", real=True)


def _expr(v, allowed, where):
    e = sp.sympify(v, locals={"t": T, "tau": TAU}) if isinstance(v, str) else sp.sympify(v)
    extra = e.free_symbols - set(allowed)
    if extra:
        raise InvalidArgument(f"{where}: expected an expression in {', '.join(map(str, allowed))}, "
                              f"got free symbols {sorted(map(str, extra))}")
    return e


@dataclass(frozen=True)
class ContinuousNetwork:
    r"""A continuous network (AD1): kernels ``W_l(t, τ)``, biases ``b_l(t)``, activations.

    Parameters
    ----------
    kernels : sequence
        ``W_1 … W_L`` as SymPy expressions (or strings) in ``t`` and ``tau``.
    biases : sequence, optional
        ``b_1 … b_L`` in ``t`` (default 0).
    activations : str or sequence
        One name for the hidden layers (the last is linear), or one per layer.
    output_width : int
        Number of output neurons after discretization (at ``t = i/n_L``).

    Examples
    --------
    >>> cn = ContinuousNetwork(["1 + t*tau", "cos(pi*tau)"], activations="sigmoid")
    >>> cn.depth, [a.name for a in cn.activations]
    (2, ['sigmoid', 'linear'])
    >>> print(cn)
    z_1(t) = ∫ (t*tau + 1) y_0(τ) dτ + 0, y_1 = sigmoid(z_1)
    z_2(t) = ∫ (cos(pi*tau)) y_1(τ) dτ + 0, y_2 = linear(z_2)
    """

    kernels: tuple
    biases: tuple
    activations: tuple
    output_width: int = 1

    def __init__(self, kernels: Sequence, biases: Sequence | None = None, activations="tanh",
                 output_width: int = 1):
        kernels = tuple(_expr(k, (T, TAU), f"kernels[{i}]") for i, k in enumerate(kernels))
        if not kernels:
            raise InvalidArgument("kernels: expected at least one kernel")
        L = len(kernels)
        if biases is None:
            biases = (sp.Integer(0),) * L
        if len(biases) != L:
            raise InvalidArgument(f"biases: expected {L} expressions, got {len(biases)}")
        biases = tuple(_expr(b, (T,), f"biases[{i}]") for i, b in enumerate(biases))
        if isinstance(activations, str):
            acts = [activations] * (L - 1) + ["linear"]
        else:
            acts = list(activations)
            if len(acts) != L:
                raise InvalidArgument(f"activations: expected {L} names, got {len(acts)}")
        if isinstance(output_width, bool) or not isinstance(output_width, int) or output_width < 1:
            raise InvalidArgument(f"output_width: expected a positive integer, got {output_width!r}")
        object.__setattr__(self, "kernels", kernels)
        object.__setattr__(self, "biases", biases)
        object.__setattr__(self, "activations", tuple(get_activation(a) for a in acts))
        object.__setattr__(self, "output_width", output_width)

    @property
    def depth(self) -> int:
        """``L``.

        Examples
        --------
        >>> ContinuousNetwork([1]).depth
        1
        """
        return len(self.kernels)

    def latex(self) -> str:
        r"""LaTeX of the layer equations.

        Examples
        --------
        >>> ContinuousNetwork([1]).latex()
        '\\begin{aligned}z_{1}(t) &= \\int_0^1 1\\, y_{0}(\\tau)\\, d\\tau + 0\\end{aligned}'
        """
        rows = [rf"z_{{{l}}}(t) &= \int_0^1 {sp.latex(k)}\, y_{{{l - 1}}}(\tau)\, d\tau + {sp.latex(b)}"
                for l, (k, b) in enumerate(zip(self.kernels, self.biases), start=1)]
        return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"

    def _repr_latex_(self) -> str:
        return f"$\\displaystyle {self.latex()}$"

    def __str__(self) -> str:
        return "\n".join(f"z_{l}(t) = ∫ ({k}) y_{l - 1}(τ) dτ + {b}, y_{l} = {a.name}(z_{l})"
                         for l, (k, b, a) in enumerate(zip(self.kernels, self.biases, self.activations), start=1))


def _widths(cnet, n):
    if isinstance(n, (int, np.integer)) and not isinstance(n, bool):
        if n < 1:
            raise InvalidArgument(f"n: expected a positive width, got {n}")
        return [int(n)] * cnet.depth + [cnet.output_width]
    ws = list(n)
    if len(ws) != cnet.depth or not all(isinstance(w, (int, np.integer)) and w >= 1 for w in ws):
        raise InvalidArgument(f"n: expected one width or {cnet.depth} widths (n_0 … n_{{L-1}}), got {n!r}")
    return [int(w) for w in ws] + [cnet.output_width]


def _input_function(x):
    if callable(x) and not isinstance(x, sp.Basic):
        return x
    e = _expr(x, (T,), "x")
    f = _numpy_fn(e, T)
    return lambda t: np.broadcast_to(np.asarray(f(np.asarray(t, float)), float), np.shape(t)).copy()


def discretize(cnet: ContinuousNetwork, n, *, exact: bool = False) -> Network:
    r"""AP4: the width-``n`` network of a continuous one.

    Parameters
    ----------
    cnet : ContinuousNetwork
    n : int or sequence of int
        One width for every layer ``0 … L−1``, or ``(n_0, …, n_{L−1})``;
        the output keeps ``cnet.output_width``.
    exact : bool
        Evaluate the kernels exactly with SymPy (rationals for polynomial
        kernels); default float64 via ``lambdify``.

    Examples
    --------
    >>> cn = ContinuousNetwork(["t + tau"], activations=["linear"], output_width=2)
    >>> discretize(cn, 2, exact=True).as_chain().layers[0].weight
    array([[1/2, 3/4],
           [3/4, 1]], dtype=object)
    """
    widths = _widths(cnet, n)
    Ws, bs = [], []
    for l in range(1, cnet.depth + 1):
        W, bv = _discrete_layer(cnet.kernels[l - 1], cnet.biases[l - 1], widths[l], widths[l - 1], exact)
        Ws.append(W)
        bs.append(bv)
    acts = list(cnet.activations)
    if exact:
        return Network.from_sympy(Ws, bs, acts, name=f"discretized_{widths}")
    return Network.from_numpy(Ws, bs, acts, name=f"discretized_{widths}")


def _discrete_layer(k, b, no, ni, exact):
    """AP4 for one layer: ``W^{ij} = k(i/n_o, j/n_i) / n_i``, ``b^i = b(i/n_o)`` (1-based ``i, j``)."""
    if exact:
        W = sp.Matrix(no, ni, lambda i, j: k.subs({T: sp.Rational(i + 1, no), TAU: sp.Rational(j + 1, ni)}) / ni)
        return W, [b.subs(T, sp.Rational(i + 1, no)) for i in range(no)]
    ti = (np.arange(no) + 1.0) / no
    tj = (np.arange(ni) + 1.0) / ni
    fk = _numpy_fn(k, (T, TAU))
    fb = _numpy_fn(b, T)
    W = np.broadcast_to(np.asarray(fk(ti[:, None], tj[None, :]), float), (no, ni)) / ni
    return W, np.broadcast_to(np.asarray(fb(ti), float), (no,))


def discretize_input(x, n0: int) -> np.ndarray:
    r"""``x_i = x(i/n_0)``, ``i = 1 … n_0`` (AP4).

    Examples
    --------
    >>> discretize_input("t**2", 2)
    array([0.25, 1.  ])
    """
    f = _input_function(x)
    return f((np.arange(n0) + 1.0) / n0)


@lru_cache(maxsize=16)
def _nodes(m):
    """Gauss–Legendre nodes and weights on [0, 1] (cached, read-only)."""
    u, w = np.polynomial.legendre.leggauss(m)
    t, w = 0.5 * (u + 1.0), 0.5 * w
    t.setflags(write=False)
    w.setflags(write=False)
    return t, w


@lru_cache(maxsize=256)
def _numpy_fn(e, args):
    """``sympy.lambdify(args, e, "numpy")``, cached per expression."""
    return sp.lambdify(args, e, "numpy")


def _kernel(k, rows, cols):
    """``k(rows_i, cols_j)`` as a float matrix."""
    f = _numpy_fn(k, (T, TAU))
    return np.broadcast_to(np.asarray(f(rows[:, None], cols[None, :]), float), (rows.size, cols.size))


def _quadrature_network(cnet, nodes):
    """The continuous net at Gauss–Legendre nodes ``t_j`` (weights ``w_j``), as a Network (Nyström).

    Layer ``l`` has weights ``W_l(t_i, t_j) w_j`` and biases ``b_l(t_i)``;
    the last layer's rows sit at the output positions ``i/n_L``.  Its
    forward pass is the quadrature of every integral of AD1, and
    ``∂y/∂z_l^i = w_i δy/δz_l(t_i)`` (for hidden layers) relates its
    derivatives to the operator derivatives.  Returns ``(net, t, w)``.
    """
    t, w = _nodes(nodes)
    to = (np.arange(cnet.output_width) + 1.0) / cnet.output_width
    Ws, bs = [], []
    for l, (k, b) in enumerate(zip(cnet.kernels, cnet.biases), start=1):
        rows = to if l == cnet.depth else t
        Ws.append(_kernel(k, rows, t) * w[None, :])
        fb = _numpy_fn(b, T)
        bs.append(np.broadcast_to(np.asarray(fb(rows), float), rows.shape))
    return Network.from_numpy(Ws, bs, list(cnet.activations), name=f"quadrature_{nodes}"), t, w


def continuous_forward(cnet: ContinuousNetwork, x, *, nodes: int = 200) -> np.ndarray:
    r"""The continuous output ``y_L(i/n_L)``, ``i = 1 … n_L``, by Gauss–Legendre quadrature.

    Every integral ``∫ W_l(t, τ) y_{l−1}(τ) dτ`` is replaced by the
    quadrature sum over ``nodes`` points, so the continuous network becomes
    a dense chain on the nodes (weights ``W_l(t_i, t_j) w_j``); its forward
    pass is a walk of that network.

    Parameters
    ----------
    x : expression in ``t``, string, or callable on arrays
    nodes : int
        Quadrature nodes per integral (exact for polynomial integrands of
        degree < 2·nodes; smooth integrands converge exponentially).

    Examples
    --------
    >>> cn = ContinuousNetwork(["t*tau"], activations=["linear"])
    >>> continuous_forward(cn, "1")   # ∫ 1·τ dτ at t = 1
    array([0.5])
    """
    net, t, _ = _quadrature_network(cnet, nodes)
    return forward(net, _input_function(x)(t))


def operator_derivative(cnet: ContinuousNetwork, x, s, *, layer: int = 0, output: int = 0,
                        nodes: int = 200) -> np.ndarray:
    r"""``δy_L/δy_l(s)`` at the points ``s`` (P4), by the continuous backward recursion.

    ``δy/δy_{l}(s) = ∫ δy/δz_{l+1}(t) W_{l+1}(t, s) dt`` with
    ``δy/δz_{l+1}(t) = δy/δy_{l+1}(t) φ_{l+1}'(z_{l+1}(t))`` (for the last
    layer, ``t`` is the output position and there is no integral).  The
    derivatives on the quadrature nodes come from one reverse sweep of the
    quadrature network (see :func:`continuous_forward`), where
    ``∂y/∂z_{l+1}^i = w_i δy/δz_{l+1}(t_i)``; the last step evaluates the
    kernel at the points ``s``.

    Examples
    --------
    >>> cn = ContinuousNetwork([1, 1], activations=["tanh", "linear"])
    >>> d = operator_derivative(cn, 1, np.array([0.25, 0.75]))
    >>> bool(np.allclose(d, 1 - np.tanh(1.0) ** 2))
    True
    """
    L = cnet.depth
    if isinstance(layer, bool) or not isinstance(layer, int) or not 0 <= layer < L:
        raise InvalidArgument(f"layer: expected 0 … {L - 1}, got {layer!r}")
    if not 0 <= output < cnet.output_width:
        raise InvalidArgument(f"output: expected 0 … {cnet.output_width - 1}, got {output!r}")
    s = np.atleast_1d(np.asarray(s, float))
    net, t, _ = _quadrature_network(cnet, nodes)
    chain = net.as_chain()
    X = _input_function(x)(t)[None, :]
    nxt = chain.layers[layer]                                   # layer l + 1
    tr = forward_trace(net, X)
    J = jacobians(net, X, [nxt.site], trace=tr)[net.site(nxt.site)][0, output]    # ∂y/∂y_{l+1}
    dz = J * nxt.activation.derivative(tr.values[nxt.dense][0])                   # ∂y/∂z_{l+1}
    rows = (np.arange(cnet.output_width) + 1.0) / cnet.output_width if layer == L - 1 else t
    return dz @ _kernel(cnet.kernels[layer], rows, s)


def operator_derivative_symbolic(cnet: ContinuousNetwork, x) -> sp.Expr:
    r"""``δy/δx(s)`` as a SymPy expression in ``tau`` (the input position), where SymPy can integrate.

    Works for one output at ``t = 1`` (``output_width = 1``); a non-linear
    output activation contributes the factor ``φ_L'(z_L(1))``.  The
    recursion runs over the continuous layers with ``sympy.integrate`` (the
    operators are integrals of symbolic kernels, not a graph to walk).
    Raises :class:`~symft.errors.InvalidArgument` when an integral stays
    unevaluated.

    Examples
    --------
    >>> cn = ContinuousNetwork(["t*tau", "t + tau"], activations=["linear", "linear"])
    >>> operator_derivative_symbolic(cn, 1)    # ∫ (1 + t) t τ dt
    5*tau/6
    """
    if cnet.output_width != 1:
        raise InvalidArgument("cnet: the symbolic operator derivative handles output_width = 1")
    xe = _expr(x, (T,), "x")
    L = cnet.depth
    # forward: z_l(t) symbolically
    y = xe
    zs = [None]
    for l in range(1, L):
        z = sp.integrate(cnet.kernels[l - 1] * y.subs(T, TAU), (TAU, 0, 1)) + cnet.biases[l - 1]
        if z.has(sp.Integral):
            raise InvalidArgument(f"layer {l}: SymPy cannot integrate z_{l}(t); use operator_derivative")
        zs.append(sp.simplify(z))
        y = cnet.activations[l - 1].sympy(zs[-1])
    dy = cnet.kernels[L - 1].subs(T, 1)                    # function of tau: δy/δy_{L−1}(τ)
    if cnet.activations[L - 1].name != "linear":           # times φ_L'(z_L(1))
        zL = sp.integrate(cnet.kernels[L - 1].subs(T, 1) * y.subs(T, TAU), (TAU, 0, 1)) + cnet.biases[L - 1].subs(T, 1)
        if zL.has(sp.Integral):
            raise InvalidArgument(f"layer {L}: SymPy cannot integrate z_{L}(1); use operator_derivative")
        dy = dy * sp.diff(cnet.activations[L - 1].expr, _S).subs(_S, sp.simplify(zL))
    for l in range(L - 1, 0, -1):
        dphi = sp.diff(cnet.activations[l - 1].expr, _S).subs(_S, zs[l])   # function of t
        integrand = dy.subs(TAU, T) * dphi * cnet.kernels[l - 1]
        dy = sp.integrate(integrand, (T, 0, 1))
        if dy.has(sp.Integral):
            raise InvalidArgument(f"layer {l}: SymPy cannot integrate the backward step; use operator_derivative")
    return dy


def input_hessian(net: Network, x) -> tuple[np.ndarray, np.ndarray]:
    r"""Gradient ``(n_out, n_in)`` and Hessian ``(n_out, n_in, n_in)`` of the outputs w.r.t. the inputs.

    Any graph (dense, convolution, residual add, pooling, batch norm): one
    walk with the second-order forward-mode interpretation
    :class:`~symft.walk.jets.Jets` (float64), seeded with the unit vectors
    of the flattened input.  Every affine op carries the derivatives
    through its linear part, an activation applies
    ``G ← φ'(z) G``, ``H ← φ''(z) G Gᵀ + φ'(z) H``, max pooling routes
    them by the argmax.  At kinks of piecewise-linear activations the
    registry's one-sided derivative is used (and ``φ'' = 0``).

    Parameters
    ----------
    net : Network
    x : array_like
        One input (flat ``(n_in,)`` or shaped like the model's input), or
        a batch: the results then get a leading axis ``B``.

    Examples
    --------
    >>> net = Network.from_numpy([[[1.0, 2.0]], [[3.0]]], activations=["tanh", "linear"])
    >>> g, h = input_hessian(net, np.array([0.0, 0.0]))
    >>> g, h[0]
    (array([[3., 6.]]), array([[0., 0.],
           [0., 0.]]))
    """
    X, single = as_inputs(net, x, "x")
    B, n_in, n_out = X.shape[0], net.n_inputs, net.n_outputs
    _, g, h = walk(net, Jets(net), X.reshape((B,) + tuple(net.input_shape)), keep=False)
    G = np.moveaxis(g.reshape(B, n_in, n_out), 2, 1)
    if h is None:
        H = np.zeros((B, n_out, n_in, n_in))
    else:
        H = np.moveaxis(h.reshape(B, n_in, n_in, n_out), 3, 1)
    G, H = np.ascontiguousarray(G), np.ascontiguousarray(H)
    return (G[0], H[0]) if single else (G, H)


@result
@dataclass(frozen=True, eq=False)
class ScalingResult:
    r"""P4 demonstrated numerically on the discretizations of a continuous net.

    Attributes
    ----------
    ns : tuple of int
    first_max, second_max : ndarray
        ``max_i |∂y/∂x_i|`` and ``max_{i,j} |∂²y/∂x_i∂x_j|`` per width.
    convergence_error : ndarray
        ``max_i |n ∂y/∂x_i − δy/δx(i/n)|`` per width (→ 0).
    slope1, slope2 : float
        Least-squares slopes of ``log first_max`` and ``log second_max``
        against ``log n`` (≈ −1 and ≈ −2).

    Examples
    --------
    >>> r = derivative_scaling(ContinuousNetwork([1, 1], activations="tanh"), "1", ns=(4, 8, 16))
    >>> round(r.slope1, 6), round(r.slope2, 6)
    (-1.0, -2.0)
    """

    ns: tuple
    first_max: np.ndarray
    second_max: np.ndarray
    convergence_error: np.ndarray
    slope1: float
    slope2: float

    def __str__(self) -> str:
        lines = [f"{'n':>6} {'max|dy/dx|':>12} {'max|d2y/dx2|':>13} {'max|n dy/dx - δy/δx|':>22}"]
        for n, a, b, c in zip(self.ns, self.first_max, self.second_max, self.convergence_error):
            lines.append(f"{n:>6} {a:12.4e} {b:13.4e} {c:22.4e}")
        lines.append(f"log-log slopes: first {self.slope1:.3f} (P4: −1), second {self.slope2:.3f} (P4: −2)")
        return "\n".join(lines)


def derivative_scaling(cnet: ContinuousNetwork, x, ns=(8, 16, 32, 64), *, output: int = 0,
                       nodes: int = 200) -> ScalingResult:
    r"""P4 numerically: discretize at each width, differentiate, compare with the operator derivative.

    Parameters
    ----------
    cnet : ContinuousNetwork
    x : expression in ``t`` or callable
    ns : sequence of int
        Widths (every layer ``0 … L−1``).  Memory grows like ``n³``.

    Examples
    --------
    >>> cn = ContinuousNetwork(["1 + t*tau", "1 - tau/2"], activations="tanh")
    >>> r = derivative_scaling(cn, "sin(3*t)", ns=(8, 16, 32))
    >>> bool(abs(r.slope1 + 1) < 0.1 and abs(r.slope2 + 2) < 0.1)
    True
    >>> bool(r.convergence_error[-1] < r.convergence_error[0])
    True
    """
    ns = tuple(int(n) for n in ns)
    if len(ns) < 2 or any(n < 1 for n in ns):
        raise InvalidArgument(f"ns: expected at least two positive widths, got {ns!r}")
    if max(ns) > 400:
        raise InvalidArgument(f"ns: widths above 400 need n³ memory for the Hessian; got {max(ns)}")
    f1, f2, err = [], [], []
    for n in ns:
        net = discretize(cnet, n)
        xv = discretize_input(x, n)
        G, H = input_hessian(net, xv)
        g = G[output]
        f1.append(np.abs(g).max())
        f2.append(np.abs(H[output]).max())
        s = (np.arange(n) + 1.0) / n
        ref = operator_derivative(cnet, x, s, output=output, nodes=nodes)
        err.append(np.abs(n * g - ref).max())
    f1, f2, err = np.array(f1), np.array(f2), np.array(err)
    ln = np.log(np.array(ns, float))
    s1 = float(np.polyfit(ln, np.log(f1), 1)[0])
    s2 = float(np.polyfit(ln, np.log(f2), 1)[0]) if np.all(f2 > 0) else float("nan")
    return ScalingResult(ns, f1, f2, err, s1, s2)


@dataclass(frozen=True, eq=False)
class QBalance:
    r"""AP5's balance constant ``q`` of one layer: continuous formula and discretizations.

    Attributes
    ----------
    q : float
        ``(∫∫|W|)² / ∫(∫|W(t, τ)| dt)² dτ`` (as printed in AP5: inner
        integral over the output position ``t``, outer over ``τ``).
    q_rows : float
        The same with the roles of ``t`` and ``τ`` exchanged
        (``(∫∫|W|)² / ∫(∫|W| dτ)² dt``, the per-neuron totals ``W_l^i`` of AA1).
    discrete : tuple of (n, q_n, q_rows_n, min_over_max)
        For each width: ``(Σ_j T_j)² / (n Σ_j T_j²)`` with column totals
        ``T_j = Σ_i |W^{ij}|``, the row version, and AA1's
        ``min_i W^i / max_i W^i``.

    Examples
    --------
    >>> qb = q_balance(ContinuousNetwork(["1 + t"], activations=["linear"]), ns=(8,))
    >>> round(qb.q, 6), round(qb.q_rows, 6)
    (1.0, 0.964286)
    """

    q: float
    q_rows: float
    discrete: tuple


def q_balance(cnet: ContinuousNetwork, layer: int = 1, *, ns=(16, 64, 256), nodes: int = 400) -> QBalance:
    r"""AP5: ``q = (∫∫|W|)² / ∫(∫|W| dt)² dτ`` for layer ``l``, and its discrete counterparts.

    The continuous integrals use Gauss–Legendre quadrature with ``nodes``
    points per axis (``|W|`` is only Lipschitz where W changes sign, so the
    error there is ``O(1/nodes²)``).

    Examples
    --------
    >>> qb = q_balance(ContinuousNetwork(["1 + t*tau"], activations=["linear"]), ns=(16, 256))
    >>> bool(abs(qb.discrete[-1][1] - qb.q) < abs(qb.discrete[0][1] - qb.q) + 1e-12)
    True
    """
    if isinstance(layer, bool) or not isinstance(layer, int) or not 1 <= layer <= cnet.depth:
        raise InvalidArgument(f"layer: expected 1 … {cnet.depth}, got {layer!r}")
    t, w = _nodes(nodes)
    fk = _numpy_fn(cnet.kernels[layer - 1], (T, TAU))
    A = np.abs(np.broadcast_to(np.asarray(fk(t[:, None], t[None, :]), float), (t.size, t.size)))  # A[t, τ]
    total = w @ A @ w
    col = w @ A            # ∫|W| dt as a function of τ
    row = A @ w            # ∫|W| dτ as a function of t
    q = float(total ** 2 / (w @ col ** 2))
    q_rows = float(total ** 2 / (w @ row ** 2))
    disc = []
    for n in ns:
        W = np.abs(_discrete_layer(cnet.kernels[layer - 1], sp.Integer(0), n, n, False)[0])
        Tc, Tr = W.sum(axis=0), W.sum(axis=1)
        disc.append((int(n), float(Tc.sum() ** 2 / (n * (Tc ** 2).sum())),
                     float(Tr.sum() ** 2 / (n * (Tr ** 2).sum())), float(Tr.min() / Tr.max())))
    return QBalance(q, q_rows, tuple(disc))


@dataclass(frozen=True)
class Smoothness:
    r"""Eq. 1's smoothness measures of a weight matrix (width-independent normalization).

    Attributes
    ----------
    C1 : float
        ``Σ_ij |W^{i+1,j} − W^{ij}|`` (neighbouring output neurons).
    C2 : float
        ``(n_0/n_1) Σ_ij |W^{i,j+1} − W^{ij}|`` (neighbouring inputs).
    C3 : float
        ``(1/n_1) Σ_ij |W^{ij} − (G_σ W)^{ij}|``, the distance to the
        Gaussian-smoothed copy.
    sigma : float
        Width of the Gaussian in units of the interval [0, 1].
    total : float
        ``C1 + C2 + C3`` (``smooth(W)`` of Eq. 1).

    For a discretized kernel (``W^{ij} = W(t_i, τ_j)/n_0``) these converge to
    ``∫∫|∂_t W|``, ``∫∫|∂_τ W|`` and ``∫∫|W − G_σ * W|``: the same
    numbers at every width.

    Examples
    --------
    >>> s = smoothness(np.ones((4, 4)) / 4)
    >>> s.C1, s.C2, round(s.C3, 12)
    (0.0, 0.0, 0.0)
    """

    C1: float
    C2: float
    C3: float
    sigma: float

    @property
    def total(self) -> float:
        """``C1 + C2 + C3``.

        Examples
        --------
        >>> smoothness(np.eye(3)).total > 0
        True
        """
        return self.C1 + self.C2 + self.C3


def _gauss_matrix(n, sigma):
    c = (np.arange(n) + 1.0) / n
    G = np.exp(-0.5 * ((c[:, None] - c[None, :]) / sigma) ** 2)
    return G / G.sum(axis=1, keepdims=True)   # rows sum to 1 (renormalized at the edges)


def smoothness(W, *, sigma: float = 0.05) -> Smoothness:
    r"""``C_1, C_2, C_3`` of Eq. 1 for a weight matrix ``W`` (``n_1 × n_0``).

    ``C_3`` smooths with a separable Gaussian of standard deviation
    ``sigma`` (in units of [0, 1], i.e. ``sigma·n`` neurons), each row of
    the smoothing matrix renormalized to sum 1 at the edges, and takes
    ``(1/n_1) Σ |W − G_σ W G_σᵀ|``.

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> rough = smoothness(random_network([32, 32, 1], seed=0).as_chain().layers[0].weight)
    >>> cn = ContinuousNetwork(["t*tau"], activations=["linear"], output_width=32)
    >>> smooth = smoothness(discretize(cn, 32).as_chain().layers[0].weight)
    >>> bool(rough.total > 10 * smooth.total)
    True
    """
    W = np.asarray(W, float)
    if W.ndim != 2 or W.size == 0:
        raise InvalidArgument(f"W: expected a non-empty matrix, got shape {W.shape}")
    if not sigma > 0:
        raise InvalidArgument(f"sigma: expected a positive number, got {sigma!r}")
    n1, n0 = W.shape
    C1 = float(np.abs(np.diff(W, axis=0)).sum())
    C2 = float(n0 / n1 * np.abs(np.diff(W, axis=1)).sum())
    Ws = _gauss_matrix(n1, sigma) @ W @ _gauss_matrix(n0, sigma).T
    C3 = float(np.abs(W - Ws).sum() / n1)
    return Smoothness(C1, C2, C3, float(sigma))
