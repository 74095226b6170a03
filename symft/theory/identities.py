r"""The paper's identities as theorems you can run on a given network (theory §4, §5).

Each function evaluates both sides of one statement on a concrete (or
symbolic) network and returns an :class:`IdentityResult` holding the two
sides, their difference and whether they agree.  Symbolic checks simplify the
difference to 0 (a proof for that architecture, for *all* values of the
symbols); numeric checks compare to a tolerance.

* :func:`ap8` — ``Σ_i (∂y/∂W_l^{ij}) W_l^{ij} = (∂y/∂y_{l−1}^j) y_{l−1}^j``;
* :func:`ac2` — the weight form ``z_j = −Σ_i W ⊙ ∂y/∂W`` gives T1;
* :func:`ap7` — superposition of crash sites to first order;
* :func:`ap9` — ``E_ξ Δ_{L+1} = −p (∇_W L, W)`` to first order (squared loss);
* :func:`p6` — zero first-order mean error at a stationary point
  (:func:`least_squares_network` builds one exactly);
* :func:`ap6` — ``Var Δ = p Var y`` for ``y = wᵀx`` with ``E w = 0``
  (no decay at random initialization), also for a symbolic width ``n``;
* :func:`p4_example` — the derivative-decay example ``∂y/∂x_i = φ'(1)/n_0``;
* :func:`toy_mean`, :func:`toy_first_input` — the toy examples of §4 in
  closed form, for a concrete or a symbolic ``n`` (E3).

**Which graphs.**  AP7 is about crash sites and holds on any graph
(convolutions, residual adds, pooling): it runs through the symbolic walk
with crash indicators at the sites.  AP8, AC2, AP9 and P6 are statements
about the weight matrices ``W_l`` of a chain of dense layers (each layer
read by the next one only); on another graph they refuse with
:class:`~symft.graph.network.NotAChain` and the reason.  AP6, the P4
example and the toy examples build their own small chains.

Examples
--------
>>> from symft.graph.network import random_network
>>> ap8(random_network([2, 2, 1], seed=0, rational_denominator=8), layer=1).agree
True
>>> toy_mean().rhs
(-p, p*(1 - p)/n)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import sympy as sp

from ..errors import InvalidArgument
from ..engines.forward import as_inputs, exact_inputs, forward, forward_masked, forward_trace, jacobians
from ..faults import NeuronCrash
from ..graph.network import Network, first_input_network, mean_network
from ..graph.numbers import convert, exact_array, float_array
from ..problem import as_model
from ..engines.symbolic import input_symbols, symbolic_forward
from ..engines.taylor import t1, t1_symbolic
from ..walk.backward import Backward
from ..walk.walker import walk_reverse
from ..results import result

__all__ = [
    "IdentityResult",
    "ap8",
    "ac2",
    "ap7",
    "ap9",
    "p6",
    "least_squares_network",
    "ap6",
    "p4_example",
    "toy_mean",
    "toy_first_input",
]

P = sp.Symbol("p", nonnegative=True)


def _aligned(rows) -> str:
    """``\\begin{aligned} a &= b \\\\ … \\end{aligned}`` from (lhs, rhs) LaTeX pairs."""
    return r"\begin{aligned}" + r" \\ ".join(f"{a} &= {b}" for a, b in rows) + r"\end{aligned}"


@result
@dataclass(frozen=True)
class IdentityResult:
    r"""Both sides of a statement, evaluated; ``agree`` says whether they are equal.

    Attributes
    ----------
    name : str
        The statement (``"AP8"``, ``"AC2"``, …).
    statement : str
        What is checked, in words.
    lhs, rhs : tuple
        The two sides (SymPy expressions or floats), component-wise.
    agree : bool
        Symbolic: the difference simplifies to 0.  Numeric: within ``tol``.
    difference : object
        The simplified symbolic difference, or the largest absolute numeric
        difference.
    method : str
        ``"symbolic"`` or ``"numeric"`` (and how).
    details : tuple of (key, value)
        Extra information (e.g. the exact value a first-order statement
        approximates).

    Examples
    --------
    >>> r = toy_first_input()
    >>> r.name, r.agree
    ('E3', True)
    >>> print(r)
    E3: y = x_1 under input crashes: E Δ = −p x_1 (not p), Var Δ = p(1−p) x_1²
      lhs = (-p*x_1, p*x_1**2*(1 - p))
      rhs = (-p*x_1, p*x_1**2*(1 - p))
      agree: True (symbolic; difference (0, 0))
    """

    name: str
    statement: str
    lhs: tuple
    rhs: tuple
    agree: bool
    difference: object
    method: str
    details: tuple = field(default=())

    def latex(self) -> str:
        r"""LaTeX: the two sides and the verdict.

        Examples
        --------
        >>> "\\text{agree}" in toy_mean().latex()
        True
        """
        def lx(v):
            return sp.latex(sp.sympify(v)) if not isinstance(v, str) else v

        lhs = r",\ ".join(lx(v) for v in self.lhs)
        rhs = r",\ ".join(lx(v) for v in self.rhs)
        return _aligned([(r"\text{" + self.name + r"}:\ \text{lhs}", lhs), (r"\text{rhs}", rhs),
                         (r"\text{agree}", r"\text{" + str(self.agree) + " (" + self.method + ")}")])

    def _repr_latex_(self) -> str:
        return f"$\\displaystyle {self.latex()}$"

    def __str__(self) -> str:
        lines = [f"{self.name}: {self.statement}", f"  lhs = {self.lhs}", f"  rhs = {self.rhs}",
                 f"  agree: {self.agree} ({self.method}; difference {self.difference})"]
        for k, v in self.details:
            lines.append(f"  {k}: {v}")
        return "\n".join(lines)


def _zero(e) -> bool:
    e = sp.sympify(e)
    if e == 0:
        return True
    try:
        return sp.simplify(e) == 0
    except Exception:  # pragma: no cover
        return False


def _symbolic_diffs(lhs, rhs, tol: float = 1e-12):
    """Simplified differences; agreement means 0, or — for pure numbers holding Floats — within ``tol``."""
    diffs, ok = [], True
    for a, b in zip(lhs, rhs):
        a, b = sp.sympify(a), sp.sympify(b)
        if a.is_number and b.is_number and (a.has(sp.Float) or b.has(sp.Float)):
            d = (a - b).evalf(30)      # numbers holding Floats: no simplification to prove
        else:
            d = sp.simplify(a - b)
        diffs.append(d)
        if _zero(d):
            continue
        if d.is_number and (a.has(sp.Float) or b.has(sp.Float)):
            scale = max(1.0, abs(float(a)), abs(float(b)))
            if abs(float(d)) <= tol * scale:
                continue
        ok = False
    return ok, tuple(diffs)


def _numeric_verdict(lhs, rhs, tol):
    a, b = np.asarray(lhs, dtype=float), np.asarray(rhs, dtype=float)
    diff = float(np.max(np.abs(a - b))) if a.size else 0.0
    scale = max(1.0, float(np.max(np.abs(b))) if b.size else 1.0)
    return diff <= tol * scale, diff




# ---------------------------------------------------------------------- chains of dense layers

def _exact_matrix(a) -> sp.Matrix:
    """A stored parameter array as a SymPy matrix (floats read as the binary rationals they hold)."""
    e = convert(a, "sympy")
    return sp.Matrix(e.shape[0], e.shape[1], list(e.reshape(-1)))


def _exact_layers(chain):
    """The chain's layers as exact ``(weight, bias, activation)`` triples for :meth:`Network.from_layers`."""
    return [(convert(lay.weight, "sympy"), convert(lay.bias, "sympy"), lay.activation) for lay in chain.layers]


def _with_symbolic_layer(chain, l: int, name: str = "w"):
    """The chain with ``W_l`` replaced by symbols ``w_{ij}``; returns (network, symbols, exact values)."""
    n_out, n_in = chain.layers[l - 1].shape
    syms = sp.Matrix(n_out, n_in, lambda i, j: sp.Symbol(f"{name}_{l}_{i}_{j}", real=True))
    layers = _exact_layers(chain)
    layers[l - 1] = (exact_array(syms.tolist()), layers[l - 1][1], layers[l - 1][2])
    return Network.from_layers(layers), syms, _exact_matrix(chain.layers[l - 1].weight)


def _float_layers(chain):
    """The chain's layers as float64 ``(weight, bias, activation)`` triples for :meth:`Network.from_layers`."""
    return [(convert(lay.weight, "float"), convert(lay.bias, "float"), lay.activation) for lay in chain.layers]


def _check_layer(layer, first, last, what):
    if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or not first <= layer <= last:
        raise InvalidArgument(f"layer: expected an integer in {first} … {last} ({what}), got {layer!r}")
    return int(layer)


def _cotangents(net, trace, nodes):
    """``∂y_k/∂v`` for every node ``v`` of ``nodes``: ``{node: (B, n_out, size)}``, one reverse sweep."""
    B, n_out = trace.output.shape
    seed = np.broadcast_to(np.eye(n_out), (B, n_out, n_out)).reshape((B, n_out) + tuple(net.output_shape)).copy()
    got = walk_reverse(net, Backward(), trace.values, seed, list(nodes))
    return {v: (np.zeros((B, n_out, net.node(v).size)) if g is None else g.reshape(B, n_out, -1))
            for v, g in got.items()}


# ---------------------------------------------------------------------- AP8

def ap8(net, x=None, layer: int = 1, *, output: int = 0, symbolic: bool | None = None,
        tol: float = 1e-6) -> IdentityResult:
    r"""AP8: ``Σ_i (∂y/∂W_l^{ij}) W_l^{ij} = (∂y/∂y_{l−1}^j) y_{l−1}^j`` for every ``j``.

    Symbolic (default for non-float networks): ``W_l`` and ``y_{l−1}`` are
    replaced by symbols and the difference simplifies to 0 for all their
    values — a proof for this architecture; then, if ``x`` is given, both
    sides are also evaluated there.  Numeric: the left side by central
    finite differences of ``t ↦ y(W_l with column j scaled by 1 + t)`` and
    the right side by the backward pass.

    Chains of dense layers only: the identity is about the weight matrix
    ``W_l`` and holds because ``y_{l−1}`` reaches the output through ``W_l``
    alone.  Where a site also feeds other ops (a residual skip, a second
    branch) ``∂y/∂y_{l−1}`` collects every path and the two sides differ, so
    other graphs are refused (:class:`~symft.graph.network.NotAChain`).

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> r = ap8(random_network([3, 2, 1], seed=1), np.array([0.1, 0.5, -0.3]), layer=2)
    >>> r.agree, r.method
    (True, 'numeric (finite differences vs backward pass)')
    """
    chain = net.as_chain("AP8 (an identity about the weight matrix W_l of a layer)")
    l = _check_layer(layer, 1, chain.depth, "a layer with weights")
    if symbolic is None:
        symbolic = net.kind != "float"
    n_prev = chain.widths[l - 1]
    statement = f"Σ_i ∂y/∂W_{l}^ij W_{l}^ij = ∂y/∂y_{l - 1}^j y_{l - 1}^j (output {output})"
    if symbolic:
        snet, syms, vals = _with_symbolic_layer(chain, l)
        u = [sp.Symbol(f"u_{j}", real=True) for j in range(n_prev)]
        y = symbolic_forward(snet, u, start=l - 1).outputs[output]
        lhs = tuple(sp.Add(*[sp.diff(y, syms[i, j]) * syms[i, j] for i in range(syms.rows)])
                    for j in range(syms.cols))
        rhs = tuple(sp.diff(y, u[j]) * u[j] for j in range(syms.cols))
        agree, diffs = _symbolic_diffs(lhs, rhs)
        details = ()
        if x is not None:
            ulast = _layer_values(net, chain, x, l - 1)
            sub = {syms[i, j]: vals[i, j] for i in range(syms.rows) for j in range(syms.cols)}
            sub.update({u[j]: ulast[j] for j in range(len(u))})
            details = (("both sides at x", tuple(e.xreplace(sub) for e in lhs)),)
        return IdentityResult("AP8", statement, lhs, rhs, agree, diffs, "symbolic", details)
    X, _ = as_inputs(net, x if x is not None else np.zeros(net.n_inputs), "x")
    tr = forward_trace(net, X)
    site = chain.sites[l - 1]
    J = jacobians(net, X, [site], trace=tr)[site]
    y_prev = tr.site(site)[0]
    rhs = tuple(float(J[0, output, j] * y_prev[j]) for j in range(n_prev))
    lhs = []
    h = 1e-6
    base = _float_layers(chain)
    for j in range(n_prev):
        vals = []
        for t in (h, -h):
            layers = list(base)
            W = np.array(base[l - 1][0])
            W[:, j] *= 1 + t
            layers[l - 1] = (float_array(W), base[l - 1][1], base[l - 1][2])
            vals.append(forward(Network.from_layers(layers), X)[0, output])
        lhs.append((vals[0] - vals[1]) / (2 * h))
    agree, diff = _numeric_verdict(lhs, rhs, tol)
    return IdentityResult("AP8", statement, tuple(lhs), rhs, agree, diff,
                          "numeric (finite differences vs backward pass)")


def _layer_values(net, chain, x, l):
    """Exact values of ``y_l`` at input ``x`` (SymPy): the first ``l`` layers of the chain, walked exactly."""
    rows, _ = exact_inputs(net, x, "x")
    if l == 0:
        return rows[0]
    sub = Network.from_layers(_exact_layers(chain)[:l])
    return list(forward(sub, rows[0], exact=True))


# ---------------------------------------------------------------------- AC2

def ac2(net, x, layer: int, p, *, symbolic: bool = False, tol: float = 1e-12) -> IdentityResult:
    r"""AC2 (bound b3): the weight form equals T1 for crashes at ``layer``.

    With ``X = W_{l+1} ⊙ ∂y/∂W_{l+1}`` and ``z_j = −Σ_i X^{ij}``:
    ``E Δ = p Σ_j z_j``, ``Var Δ = p Σ_j z_j²`` (as printed; the exact
    first-order variance has ``p(1 − p)``, E4).  The left side is computed
    from weight gradients ``∂y/∂W_{l+1}^{ij} = (∂y/∂z_{l+1}^i) y_l^j``
    (``∂y/∂z_{l+1}`` from one reverse sweep), the right side is
    :func:`symft.engines.taylor.t1` (numeric) — or, with ``symbolic=True``, both
    from SymPy derivatives (weights of layer ``l + 1`` as symbols) and the
    per-neuron difference ``z_j − g_j`` simplified to 0.

    Chains of dense layers only: the weight form reads the one matrix
    ``W_{l+1}`` through which layer ``l`` reaches the output; on a graph
    where a site feeds several ops it would have to sum over all of them
    (convolution weights included), which the paper does not state, so other
    graphs are refused (:class:`~symft.graph.network.NotAChain`).  T1 itself
    (:func:`symft.engines.taylor.t1`) is the form for any site.

    Parameters
    ----------
    net : Network
    x : array_like (n_0,)
    layer : int
        The crashing layer ``l`` (0 … L−1); the weights used are ``W_{l+1}``.
    p : float or SymPy expression
        Crash probability of ``layer``.

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> r = ac2(random_network([2, 3, 1], seed=0), np.array([0.3, -0.6]), 1, 0.01)
    >>> r.agree
    True
    """
    chain = net.as_chain("AC2 (the weight form reads the weight matrix W_{l+1} of the next layer)")
    l = _check_layer(layer, 0, chain.depth - 1, "the crashing layer; W_{l+1} must exist")
    statement = f"weight form of W_{l + 1} (z_j = −Σ_i W ⊙ ∂y/∂W) = T1 at layer {l}: (E, Var paper, Var exact)"
    if symbolic:
        snet, syms, vals = _with_symbolic_layer(chain, l + 1)
        ev = symbolic_forward(snet, x)
        sub = {syms[i, j]: vals[i, j] for i in range(syms.rows) for j in range(syms.cols)}
        q = sp.sympify(p)
        lhs, rhs, diffs = [], [], []
        ref = t1_symbolic(net, x, {l: q}, second_order=False, exact=True)
        for k, y in enumerate(ev.outputs):
            z = [-sp.Add(*[(sp.diff(y, syms[i, j]) * syms[i, j]).xreplace(sub) for i in range(syms.rows)])
                 for j in range(syms.cols)]
            diffs += [sp.simplify(zj - gj) for zj, gj in zip(z, ref.gradient[k])]
            lhs += [q * sp.Add(*z), q * sp.Add(*[zj ** 2 for zj in z]), q * (1 - q) * sp.Add(*[zj ** 2 for zj in z])]
            rhs += [ref.mean[k], ref.var_paper[k], ref.var[k]]
        agree = all(_zero(d) for d in diffs)
        return IdentityResult("AC2", statement, tuple(lhs), tuple(rhs), agree, tuple(diffs), "symbolic")
    X, _ = as_inputs(net, x, "x")
    q = float(p)
    tr = forward_trace(net, X)
    nxt = chain.layers[l]                                                        # layer l + 1
    dz = _cotangents(net, tr, [nxt.dense])[nxt.dense][0]                         # ∂y/∂z_{l+1}, (K, n_{l+1})
    dW = dz[:, :, None] * tr.site(chain.sites[l])[0][None, None, :]              # ∂y/∂W_{l+1}, (K, n_{l+1}, n_l)
    Xw = convert(nxt.weight, "float")[None, :, :] * dW
    z = -Xw.sum(axis=1)                                                          # (K, n_l)
    lhs_m = q * z.sum(axis=1)
    lhs_vp = q * (z ** 2).sum(axis=1)
    lhs_v = q * (1 - q) * (z ** 2).sum(axis=1)
    r = t1(net, X[0], {l: q}, remainder=False)
    lhs = tuple(np.concatenate([lhs_m, lhs_vp, lhs_v]).tolist())
    rhs = tuple(np.concatenate([r.mean, r.var_paper, r.var]).tolist())
    agree, diff = _numeric_verdict(lhs, rhs, tol)
    return IdentityResult("AC2", statement, lhs, rhs, agree, diff, "numeric (weight gradients vs T1)")


# ---------------------------------------------------------------------- AP7

def _tidy(e):
    if e.is_Rational or e.is_Float:
        return e
    return sp.expand(e) if sp.count_ops(e) < 400 else e


def _first_order(net, x, model, keys):
    """First-order mean and variance (T1 with ``p(1 − p)``, E4) per output, crashes at the sites ``keys``.

    One symbolic walk with crash indicators at those sites; the coefficient
    of ``ξ_a`` is ``g_a = ∂y/∂ξ_a`` at ``ξ = 0``, and
    ``E Δ ≈ Σ_s p_s Σ_i g_{s,i}``, ``Var Δ ≈ Σ_s p_s (1 − p_s) Σ_i g_{s,i}²``.
    """
    ev = symbolic_forward(net, x, keys, semantics=model.semantics)
    zero = {s: 0 for s in ev.xi_symbols}
    means, variances = [], []
    for y in ev.outputs:
        sums = {}
        for key, _, s in ev.xi:
            g = _tidy(sp.diff(y, s).xreplace(zero))
            s1, s2 = sums.get(key, (sp.Integer(0), sp.Integer(0)))
            sums[key] = (s1 + g, s2 + g ** 2)
        m = v = sp.Integer(0)
        for key, (s1, s2) in sums.items():
            q = model.probability(key)
            m += q * _tidy(s1)
            v += q * (1 - q) * _tidy(s2)
        means.append(m)
        variances.append(v)
    return tuple(means), tuple(variances)


def ap7(net, x, p: Mapping, *, exact_check: bool = True) -> IdentityResult:
    r"""AP7: to first order, crashes at several sites superpose.

    The left side is T1 of the *joint* expansion (one symbolic expression
    with every site's crash indicators ``ξ``), the right side the sum of the
    single-site T1s; they must agree symbolically (both mean and exact
    first-order variance).  With ``exact_check`` and a numeric network, the
    exact mean error with joint crashes is compared with the sum of the
    exact single-site ones (enumeration, at most 16 neurons in all): the
    gap is second order in p (reported in ``details``).

    Any graph: the sites may be layers of a chain or any sites of a graph
    with convolutions, residual adds and pooling (``p`` maps site keys —
    layer numbers or site names — to probabilities, or is a
    :class:`~symft.faults.NeuronCrash` whose semantics is used).  Both sides
    come from symbolic walks with crash indicators at the sites, so the
    statement holds wherever the output depends smoothly on the crash
    indicators at ``ξ = 0``.  Piecewise-linear activations downstream of a
    crashed input grow the symbolic expression fast; prefer hidden sites
    there.

    Parameters
    ----------
    net : Network
    x : sequence
        The input (numbers, strings like ``"1/3"`` or SymPy values), flat.
    p : mapping {site: probability}, NeuronCrash, or a probability
        Crash probabilities of two or more sites (SymPy symbols allowed); one
        probability means every hidden site (:func:`symft.problem.as_model`).
    exact_check : bool
        Also compute the exact joint and single-site mean errors (numeric
        networks and probabilities, at most 16 crashing neurons).

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> net = random_network([2, 2, 2, 1], seed=3, rational_denominator=8)
    >>> q0, q1 = sp.symbols("q0 q1", nonnegative=True)
    >>> ap7(net, ["1/2", 1], {0: q0, 2: q1}).agree
    True
    """
    model = as_model(net, p)
    if not isinstance(model, NeuronCrash):
        raise InvalidArgument(f"p: AP7 is about neuron crashes; got {type(model).__name__}")
    keys = tuple(sorted(model.layers, key=lambda k: net.sites.index(net.site(k))))
    if len(keys) < 2:
        raise InvalidArgument("p: AP7 needs crashes at two or more layers (sites)")
    joint_mean, joint_var = _first_order(net, x, model, keys)
    singles = [_first_order(net, x, model, (k,)) for k in keys]
    K = net.n_outputs
    lhs = joint_mean + joint_var
    rhs = tuple(sp.Add(*[s[0][k] for s in singles]) for k in range(K)) + \
        tuple(sp.Add(*[s[1][k] for s in singles]) for k in range(K))
    agree, diffs = _symbolic_diffs(lhs, rhs)
    details = ()
    numeric_p = all(not (isinstance(model.probability(k), sp.Basic) and model.probability(k).free_symbols)
                    for k in keys)
    if exact_check and numeric_p and net.free_symbols == frozenset() \
            and sum(net.site_size(k) for k in keys) <= 16:
        xf = np.array([float(sp.sympify(v)) for v in np.asarray(x, dtype=object).reshape(-1)])
        pf = {k: float(model.probability(k)) for k in keys}
        sem = model.semantics
        gap = _exact_mean(net, xf, pf, sem) - sum(_exact_mean(net, xf, {k: q}, sem) for k, q in pf.items())
        details = (("exact joint E Δ − Σ exact single-site E Δ (second order in p)", gap.tolist()),)
    return IdentityResult("AP7", "first-order E Δ and Var Δ of joint crashes = sums over the sites",
                          lhs, rhs, agree, diffs, "symbolic", details)


def _exact_mean(net, x, probs, semantics):
    """Exact ``E Δ`` by enumerating every crash configuration of the sites of ``probs`` (float)."""
    import itertools

    keys = list(probs)
    sizes = [net.site_size(k) for k in keys]
    pats = np.array(list(itertools.product([False, True], repeat=sum(sizes))), dtype=bool)
    masks, o = {}, 0
    for k, n in zip(keys, sizes):
        masks[k] = pats[:, o:o + n]
        o += n
    out = forward_masked(net, x, masks, semantics=semantics)
    y0 = forward_trace(net, x[None]).output[0]
    pv = np.concatenate([[probs[k]] * n for k, n in zip(keys, sizes)])
    wts = np.prod(np.where(pats, pv, 1 - pv), axis=1)
    return wts @ (out - y0)


# ---------------------------------------------------------------------- AP9

def ap9(net, x, target, p=P, *, symbolic: bool | None = None, tol: float = 1e-12) -> IdentityResult:
    r"""AP9: ``E_ξ Δ_{L+1} = −p (∇_W L, W)`` to first order, squared loss ``½‖y_L − y*‖²``.

    Crashes hit every layer ``0 … L−1`` with the same probability ``p``
    (each weight matrix ``W_l`` reads layer ``l − 1``).  Left side: the T1
    mean of the loss change, ``p Σ_{l<L} Σ_i ∂L/∂ξ_l^i``; right side:
    ``−p Σ_l Σ_ij (∂L/∂W_l^{ij}) W_l^{ij}`` (biases excluded).
    Symbolic (default for non-float nets): every weight is a symbol, so the
    identity is checked for all weights of the architecture.

    Chains of dense layers only: the right side sums over the dense weight
    matrices, and the identity pairs each crashing layer with the one matrix
    that reads it (AP8 per layer); with residual adds or convolutions that
    pairing is gone, so other graphs are refused
    (:class:`~symft.graph.network.NotAChain`).

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> net = random_network([2, 2, 1], seed=0, rational_denominator=4)
    >>> r = ap9(net, [1, "1/2"], [1])
    >>> r.agree, r.method
    (True, 'symbolic (all weights symbols)')
    >>> ap9(random_network([2, 3, 2], seed=0), [0.5, -1.0], [0.0, 1.0], 0.01).agree
    True
    """
    chain = net.as_chain("AP9 (a sum over the weight matrices W_l of the layers)")
    target = list(target)
    if len(target) != net.n_outputs:
        raise InvalidArgument(f"target: expected {net.n_outputs} numbers, got {len(target)}")
    L = chain.depth
    if symbolic is None:
        symbolic = net.kind != "float"
    statement = "first-order E_ξ Δ_{L+1} (crashes at layers 0 … L−1) = −p (∇_W L, W)"
    if symbolic:
        syms = [sp.Matrix(*lay.shape, lambda i, j, l=l: sp.Symbol(f"w_{l}_{i}_{j}", real=True))
                for l, lay in enumerate(chain.layers, start=1)]
        snet = Network.from_layers([(exact_array(S.tolist()), b, a)
                                    for S, (_, b, a) in zip(syms, _exact_layers(chain))])
        q = sp.sympify(p)
        ev = symbolic_forward(snet, x, list(range(L)))
        t = [sp.sympify(v) for v in target]
        loss = sp.Rational(1, 2) * sp.Add(*[(y - tk) ** 2 for y, tk in zip(ev.outputs, t)])
        zero = {s: 0 for s in ev.xi_symbols}
        lhs = q * sp.Add(*[sp.diff(loss, s).xreplace(zero) for s in ev.xi_symbols])
        loss0 = loss.xreplace(zero)
        rhs = -q * sp.Add(*[sp.diff(loss0, w) * w for S in syms for w in S])
        agree, diffs = _symbolic_diffs((lhs,), (rhs,))
        sub = {}
        for S, lay in zip(syms, chain.layers):
            W = _exact_matrix(lay.weight)
            sub.update({S[i, j]: W[i, j] for i in range(S.rows) for j in range(S.cols)})
        return IdentityResult("AP9", statement, (lhs,), (rhs,), agree, diffs, "symbolic (all weights symbols)",
                              (("at the network's weights", (lhs.xreplace(sub), rhs.xreplace(sub))),))
    X, _ = as_inputs(net, x, "x")
    q = float(p)
    tr = forward_trace(net, X)
    sites = chain.sites[:L]
    J = _cotangents(net, tr, list(sites) + [lay.dense for lay in chain.layers])
    e = tr.output[0] - np.asarray(target, float)                        # ∂L/∂y_L
    lhs = -q * sum(float((e @ J[s][0]) @ tr.site(s)[0]) for s in sites)  # p Σ ∂L/∂ξ
    rhs = 0.0
    for s, lay in zip(sites, chain.layers):
        gW = np.outer(e @ J[lay.dense][0], tr.site(s)[0])               # ∂L/∂W_l = ∂L/∂z_l ⊗ y_{l−1}
        rhs += float((gW * convert(lay.weight, "float")).sum())
    rhs = -q * rhs
    agree, diff = _numeric_verdict([lhs], [rhs], tol)
    return IdentityResult("AP9", statement, (lhs,), (rhs,), agree, diff, "numeric (backward pass vs weight gradients)")


# ---------------------------------------------------------------------- P6

def least_squares_network(X, Y) -> Network:
    r"""The linear model ``y = W x + b`` fit to data by least squares, exactly (rationals).

    The normal equations are solved in exact arithmetic, so the training
    gradient ``E_x ∇_{W,b} ½‖y − y*‖²`` is exactly 0: a stationary point for
    P6.

    Examples
    --------
    >>> net = least_squares_network([[0, 1], [1, 0], [1, 1], [2, 1]], [[1], [0], [2], [2]])
    >>> net.kind, net.as_chain().widths
    ('exact', (2, 1))
    """
    Xm = sp.Matrix([[sp.nsimplify(v) if isinstance(v, float) else sp.sympify(v) for v in row] for row in X])
    Ym = sp.Matrix([[sp.nsimplify(v) if isinstance(v, float) else sp.sympify(v) for v in row] for row in Y])
    if Xm.rows != Ym.rows or Xm.rows == 0:
        raise InvalidArgument(f"X, Y: expected the same positive number of rows, got {Xm.rows} and {Ym.rows}")
    A = Xm.row_join(sp.ones(Xm.rows, 1))
    G = A.T * A
    if G.det() == 0:
        raise InvalidArgument("X: the data (with a bias column) is rank deficient; least squares is not unique")
    theta = G.LUsolve(A.T * Ym)               # (n0 + 1) × n_out
    W = theta[:-1, :].T
    b = list(theta[-1, :])
    return Network.from_sympy([W], [b], ["linear"], name="least_squares")


def p6(net=None, X=None, Y=None, p=P) -> IdentityResult:
    r"""P6: at a stationary point of training, the first-order mean error is 0.

    For a linear model fit by least squares (default: a small exact data
    set, :func:`least_squares_network`), squared loss and input crashes
    with probability ``p``:
    ``E_x [first-order E_ξ Δ_{L+1}] = −p ⟨E_x ∇_W L, W⟩ = 0``.  The left
    side is computed from the symbolic expansion of the loss at every data
    point and simplifies to 0; ``details`` give the training gradient
    (exactly 0) and the exact ``E_x E_ξ Δ_{L+1}(p)`` — a polynomial whose
    linear term is ``½ p Σ_j W_j² E x_j²`` (the diagonal second-order term,
    ``O(p q)``) — so the statement is "``0 + O(r²)``", not "0".

    A statement about the weights ``W`` of a linear model (one dense layer);
    other networks, graphs included, are refused.

    Examples
    --------
    >>> r = p6()
    >>> r.lhs, r.agree
    ((0,), True)
    """
    if net is None:
        X = [[0, 1, 2], [1, 0, 1], [2, 1, 0], [1, 1, 1], [0, 2, 1], [2, 2, 3]]
        Y = [[1], [0], [2], [1], [3], [2]]
        net = least_squares_network(X, Y)
    chain = net.as_chain("P6 (checked on a linear model y = W x + b)")
    if chain.depth != 1 or chain.layers[0].activation.name != "linear":
        raise InvalidArgument("net: P6 is checked here on a linear model y = W x + b (depth 1)")
    q = sp.sympify(p)
    W = _exact_matrix(chain.layers[0].weight)
    b = sp.Matrix(list(convert(chain.layers[0].bias, "sympy")))
    first, exact_total = sp.Integer(0), sp.Integer(0)
    grad = sp.zeros(*W.shape)
    for xr, yr in zip(X, Y):
        xs = [sp.nsimplify(v) if isinstance(v, float) else sp.sympify(v) for v in xr]
        ts = [sp.nsimplify(v) if isinstance(v, float) else sp.sympify(v) for v in yr]
        ev = symbolic_forward(net, xs, [0])
        loss = sp.Rational(1, 2) * sp.Add(*[(y - t) ** 2 for y, t in zip(ev.outputs, ts)])
        zero = {s: 0 for s in ev.xi_symbols}
        delta = sp.expand(loss - loss.xreplace(zero))
        first += q * sp.Add(*[sp.diff(delta, s).xreplace(zero) for s in ev.xi_symbols])
        exact_total += _bernoulli_expectation(delta, ev.xi_symbols, q)
        e = (W * sp.Matrix(xs) + b) - sp.Matrix(ts)
        grad += e * sp.Matrix(xs).T
    n = len(X)
    lhs = sp.simplify(first / n)
    grad = grad / n
    return IdentityResult("P6", "E_x first-order E_ξ Δ_{L+1} = 0 at a stationary point (E_x ∇_W L = 0)",
                          (lhs,), (sp.Integer(0),), _zero(lhs), lhs, "symbolic (exact rationals)",
                          (("E_x ∇_W L", grad), ("exact E_x E_ξ Δ_{L+1}(p)", sp.factor(sp.expand(exact_total / n)))))


def _bernoulli_expectation(expr, xis, q):
    """E of a polynomial in independent Bernoulli(q) variables (ξ^m → ξ, then ξ → q)."""
    poly = sp.Poly(sp.expand(expr), *xis)
    total = sp.Integer(0)
    for monom, c in poly.terms():
        total += c * q ** sum(1 for m in monom if m > 0)
    return sp.expand(total)


# ---------------------------------------------------------------------- AP6

def _ap6_variances(n: int, q, sigma):
    """``(Var Δ, Var y, ws, xs)`` for ``y = Σ_{j<n} w_j x_j`` with input crashes, from symft's symbolic forward pass.

    The width-``n`` linear network with symbolic weights ``w_j`` is walked by
    :func:`symft.engines.symbolic.symbolic_forward` (crashes ``ξ_j`` of the inputs);
    the moments over the crashes *and* the weights replace each monomial of
    the expanded polynomial by its expectation (independent symbols:
    ``E w = 0``, ``E w² = σ²``, higher moments ``μ_m`` kept symbolic, and
    ``E ξ^m = p``).
    """
    ws = [sp.Symbol(f"w_{j}", real=True) for j in range(n)]
    xs = list(input_symbols(n))
    net = Network.from_sympy([[ws]], activations=["linear"])
    ev = symbolic_forward(net, xs, [0])
    xis = ev.xi_symbols
    delta = sp.expand(ev.outputs[0] - ev.at_no_crash()[0])
    y = sp.expand(ev.at_no_crash()[0])

    def E(expr):
        poly = sp.Poly(sp.expand(expr), *ws, *xis)
        tot = sp.Integer(0)
        for monom, c in poly.terms():
            val = c
            for m in monom[:n]:
                val *= 1 if m == 0 else (0 if m == 1 else (sigma ** 2 if m == 2 else sp.Symbol(f"mu{m}")))
            val *= q ** sum(1 for m in monom[n:] if m > 0)
            tot += val
        return sp.expand(tot)

    return sp.factor(E(delta ** 2) - E(delta) ** 2), sp.factor(E(y ** 2) - E(y) ** 2), ws, xs


def ap6(n=None, p=P) -> IdentityResult:
    r"""AP6: for ``y = wᵀx`` with independent ``w_i``, ``E w_i = 0``, ``E w_i² = σ²``:
    ``Var Δ = p Var y`` — the ratio is ``p`` whatever ``n`` (no decay).

    Variances are over both the crashes ``ξ_i ~ Be(p)`` and the random
    weights.  For an integer ``n`` the width-``n`` network is built, walked
    symbolically, and the moments are computed by expanding the polynomials
    and replacing each monomial by its expectation (independent symbols:
    ``E w = 0``, ``E w² = σ²``, ``E ξ^m = p``).  For ``n = None`` (a
    symbolic width ``n``) the same computation on the width-1 network gives
    the variance of one summand ``ξ_i w_i x_i`` (resp. ``w_i x_i``); the
    summands are independent, so ``Var Σ_i a_i = Σ_i Var a_i`` lifts it to a
    ``Sum`` over ``i = 1 … n``.

    Examples
    --------
    >>> ap6(3).agree, ap6(3).rhs
    (True, (p*sigma**2*(x_0**2 + x_1**2 + x_2**2),))
    >>> ap6().lhs
    (p*sigma**2*Sum(x[i]**2, (i, 1, n)),)
    """
    sigma = sp.Symbol("sigma", positive=True)
    q = sp.sympify(p)
    if n is None:
        nn = sp.Symbol("n", positive=True, integer=True)
        i = sp.Symbol("i", integer=True)
        x = sp.IndexedBase("x")
        v_delta, v_y, _, (x0,) = _ap6_variances(1, q, sigma)   # one summand, in x_0
        var_delta = sp.Sum(sp.factor(v_delta).xreplace({x0: x[i]}), (i, 1, nn))
        var_y = sp.Sum(sp.factor(v_y).xreplace({x0: x[i]}), (i, 1, nn))
        var_delta, var_y = (sp.factor_terms(v, radical=False) for v in (var_delta, var_y))
        ratio = sp.simplify(var_delta / var_y)
        agree = _zero(var_delta - q * var_y)
        return IdentityResult("AP6", "Var Δ = p Var y for y = wᵀx, E w = 0 (symbolic width n)",
                              (var_delta,), (q * var_y,), agree, sp.simplify(var_delta - q * var_y),
                              "symbolic (one summand through the network, Σ of independent variances)",
                              (("Var Δ / Var y", ratio),))
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InvalidArgument(f"n: expected a positive integer or None (symbolic), got {n!r}")
    var_delta, var_y, _, _ = _ap6_variances(n, q, sigma)
    agree = _zero(var_delta - q * var_y)
    return IdentityResult("AP6", f"Var Δ = p Var y for y = wᵀx with E w = 0 (n = {n})", (var_delta,),
                          (sp.factor(q * var_y),), agree, sp.simplify(var_delta - q * var_y),
                          "symbolic (moments of independent symbols)",
                          (("Var Δ / Var y", sp.simplify(var_delta / var_y)),))


# ---------------------------------------------------------------------- P4 example

def p4_example(n0=None, activation: str = "tanh") -> IdentityResult:
    r"""P4's example: ``y = (1/n_1) Σ_i φ((1/n_0) Σ_j x_j)`` at ``x ≡ 1`` has ``∂y/∂x_k = φ'(1)/n_0``.

    So ``n_0 ∂y/∂x_k = φ'(1) = δy/δx(s)`` for every s: the discrete
    derivative decays like ``1/n_0`` and, rescaled, equals the operator
    derivative.  For an integer ``n0`` the network is built (``n_1 = 2``)
    and differentiated symbolically; for ``n0 = None`` a symbolic width is
    used with ``Sum``.

    Examples
    --------
    >>> r = p4_example(4)
    >>> r.agree, r.rhs[0]
    (True, 1/4 - tanh(1)**2/4)
    >>> p4_example().lhs
    (1/(n*cosh(1)**2),)
    """
    from ..graph.activations import S, get_activation

    act = get_activation(activation)
    dphi1 = sp.diff(act.expr, S).subs(S, 1)
    if n0 is None:
        n = sp.Symbol("n", positive=True, integer=True)
        j, k = sp.symbols("j k", integer=True, positive=True)
        x = sp.IndexedBase("x")
        inner = sp.Sum(x[j], (j, 1, n)) / n
        y = act.expr.subs(S, inner)
        d = sp.diff(y, x[k])
        d = d.doit().subs(sp.Sum(x[j], (j, 1, n)), n)
        d = d.replace(lambda e: isinstance(e, sp.Piecewise), lambda e: e.args[0][0])  # 1 ≤ k ≤ n
        d = sp.simplify(d)
        agree = _zero(d - dphi1 / n)
        return IdentityResult("P4", "∂y/∂x_k = φ'(1)/n at x ≡ 1 (symbolic width n)", (d,), (sp.simplify(dphi1 / n),),
                              agree, sp.simplify(d - dphi1 / n), "symbolic (Sum)")
    if isinstance(n0, bool) or not isinstance(n0, int) or n0 < 1:
        raise InvalidArgument(f"n0: expected a positive integer or None, got {n0!r}")
    n1 = 2
    net = Network.from_sympy([[[sp.Rational(1, n0)] * n0] * n1, [[sp.Rational(1, n1)] * n1]],
                             activations=[act, "linear"])
    xs = input_symbols(n0)
    y = symbolic_forward(net, xs).outputs[0]
    ones = {s: 1 for s in xs}
    lhs = tuple(sp.simplify(sp.diff(y, s).xreplace(ones)) for s in xs)
    rhs = tuple(sp.expand(dphi1 / n0) for _ in xs)
    agree, diffs = _symbolic_diffs(lhs, rhs)
    return IdentityResult("P4", f"∂y/∂x_k = φ'(1)/n_0 at x ≡ 1 (n_0 = {n0}, φ = {act.name})", lhs, rhs, agree, diffs,
                          "symbolic")


# ---------------------------------------------------------------------- toy examples

def toy_mean(n=None, p=P) -> IdentityResult:
    r"""theory §4: ``y = Σ x_i / n`` at ``x ≡ 1`` under input crashes: ``E Δ = −p``, ``Var Δ = p(1−p)/n``.

    For an integer ``n`` the moments come from :func:`symft.engines.taylor.t1_symbolic`
    on :func:`symft.graph.network.mean_network` (exact: Δ is linear in ξ).  For
    ``n = None`` (symbolic width) ``Δ = −(1/n) Σ_i ξ_i x_i`` is a sum of
    independent terms: ``E Δ = −(p/n) Σ x_i`` and
    ``Var Δ = (p(1−p)/n²) Σ x_i²``, evaluated at ``x ≡ 1`` by ``Sum.doit``.

    Examples
    --------
    >>> toy_mean(4).lhs
    (-p, p*(1 - p)/4)
    >>> toy_mean().lhs
    (-p, p*(1 - p)/n)
    """
    q = sp.sympify(p)
    if n is None:
        nn = sp.Symbol("n", positive=True, integer=True)
        i = sp.Symbol("i", integer=True)
        x = sp.IndexedBase("x")
        xi = sp.IndexedBase("xi")
        summand = x[i] * (1 - xi[i]) / nn
        g = sp.diff(summand, xi[i])          # ∂y/∂ξ_i: the summand is the only term with ξ_i
        general = (q * sp.Sum(g, (i, 1, nn)), q * (1 - q) * sp.Sum(g ** 2, (i, 1, nn)))
        mean = (q * sp.Sum(g.xreplace({x[i]: 1}), (i, 1, nn))).doit()
        var = (q * (1 - q) * sp.Sum((g ** 2).xreplace({x[i]: 1}), (i, 1, nn))).doit()
        lhs = (sp.simplify(mean), _pretty_pq(sp.simplify(var), q))
        rhs = (-q, q * (1 - q) / nn)
    else:
        r = t1_symbolic(mean_network(n), [1] * n, {0: q}, second_order=False)
        lhs = (r.mean[0], r.var[0])
        rhs = (-q, q * (1 - q) / n)
    agree, diffs = _symbolic_diffs(lhs, rhs)
    details = (("general x (symbolic n)", general),) if n is None else ()
    return IdentityResult("toy", "y = Σ x_i / n at x ≡ 1: E Δ = −p, Var Δ = p(1−p)/n" + ("" if n is None else f" (n = {n})"),
                          lhs, rhs, agree, diffs, "symbolic", details)


def _pretty_pq(e, q):
    f = sp.factor(e)
    if isinstance(f, sp.Mul):
        for a in f.args:
            if a == q - 1:
                coeff = sp.Mul(*[b for b in f.args if b is not a])
                return sp.Mul(-coeff, 1 - q)
    return f


def toy_first_input(n: int = 3, p=P) -> IdentityResult:
    r"""theory §4 / E3: ``y = x_1``: ``E Δ = −p x_1`` (the paper prints ``p``), ``Var Δ = p(1−p) x_1²``.

    Derived with :func:`symft.engines.taylor.t1_symbolic` on
    :func:`symft.graph.network.first_input_network` with symbolic inputs; the
    variance does not decay with ``n``.

    Examples
    --------
    >>> toy_first_input(5).lhs
    (-p*x_1, p*x_1**2*(1 - p))
    """
    q = sp.sympify(p)
    x1 = sp.Symbol("x_1", real=True)
    xs = [x1] + [sp.Symbol(f"x_{j + 1}", real=True) for j in range(1, n)]
    r = t1_symbolic(first_input_network(n), xs, {0: q}, second_order=False)
    lhs = (r.mean[0], r.var[0])
    rhs = (-q * x1, q * (1 - q) * x1 ** 2)
    agree, diffs = _symbolic_diffs(lhs, rhs)
    return IdentityResult("E3", "y = x_1 under input crashes: E Δ = −p x_1 (not p), Var Δ = p(1−p) x_1²",
                          lhs, rhs, agree, diffs, "symbolic")
