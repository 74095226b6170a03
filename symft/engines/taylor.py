r"""Taylor expansion of the output error, Theorem 1 (T1), and its remainder (theory §5).

With crash indicators ``ξ`` (one per neuron of the crash sites, see
:mod:`symft.engines.symbolic`), the output error is ``Δ(ξ) = y(ξ) − y(0)``.
Everything here works on any graph (dense chains, convolutions, residual
connections, pooling): a *site* is a named activation output (or the input,
or the output), its neurons are the elements of its tensor in row-major
order, and "layer ``l``" of a chain is the site ``l``.

* :func:`taylor_expand` — the Taylor polynomial of ``Δ`` to any order ``k``
  in all ξ at once, symbolically, with the Lagrange remainder
  (:meth:`TaylorExpansion.lagrange_remainder`);
* :func:`bernoulli_moments` — ``E`` and ``Var`` of the truncated expansion
  when the ξ are independent Bernoulli with ``E ξ^m = p_l`` for ``m ≥ 1``;
* :func:`t1_symbolic` — T1's first-order moments in both forms,
  ``var_paper = p Σ g_i²`` *as printed* and ``var = p(1 − p) Σ g_i²``, the
  exact first-order variance (erratum E4), with ``g_i = ∂y/∂ξ_i`` at 0, plus
  the second-order moments;
* :func:`t1` — the same numbers through one reverse sweep of the walker
  (:func:`symft.engines.forward.jacobians`) for a batch of inputs and
  crashes at any set of sites (AP7 superposition), with the rigorous
  remainder bounds of :func:`remainder_bound` when the network is smooth on
  the crash box;
* :func:`derivative_bounds` — ``D_1``, ``D_2`` over the crash box by the
  interval-jet interpretation (:mod:`symft.walk.interval_jets`), and
  :func:`gradient_enclosure` — T1's sensitivities in outward-rounded
  interval arithmetic by the interval reverse-mode interpretation
  (:mod:`symft.walk.interval_reverse`);
* :func:`derive` — everything at once for the ``symft derive`` command.

Remainder (the T1 proof, made rigorous).  For ``ξ ∈ {0, 1}^n`` Taylor's
theorem with the Lagrange remainder gives
``Δ(ξ) = Σ_a g_a ξ_a + ½ ξᵀ H(θξ) ξ`` for some ``θ ∈ (0, 1)``, so with
``M[a, b] ≥ sup_{[0,1]^n} |∂²y/∂ξ_a∂ξ_b|`` (:func:`derivative_bounds`) the
second-order part ``V_2`` obeys ``|V_2| ≤ ½ ξᵀ M ξ`` pointwise.  Hence

* ``|E Δ − mean| ≤ ½ (Σ_a p_a M_aa + Σ_{a≠b} p_a p_b M_ab)``  (``remainder_mean``);
* ``|Var Δ − var| ≤ 2 sqrt(Var V_1 · E V_2²) + E V_2²``  (``remainder_var``),
  with ``Var V_1 ≤ Σ p_a(1 − p_a) M1_a²`` and
  ``E V_2² ≤ ¼ (sqrt(E A²) + sqrt(E B²))²`` for the diagonal and off-diagonal
  parts ``A``, ``B`` of ``ξᵀ M ξ`` (Minkowski), each computed in closed form.

In the units of P4 (``D_1 = max n_l M1``, ``D_2 = max n_l² M``, ``q = 1/n_l``,
``n_l`` the number of neurons of the site)
the mean bound is at most ``½ D_2 (p q + p²) ≤ ½ D_2 r²``: the paper's
``|E_1| ≤ 2 p D_2 / n`` and ``|E_2| ≤ p² D_2`` (also reported, as
``paper_mean_bound``) hold with room to spare.

Examples
--------
>>> from symft.graph.network import mean_network
>>> r = t1_symbolic(mean_network(4), [1, 1, 1, 1], {0: sp.Symbol("p")})
>>> r.mean, r.var, r.var_paper
((-p,), (p*(1 - p)/4,), (p/4,))
>>> import numpy as np
>>> t = t1(mean_network(4), np.ones(4), {0: 0.1})
>>> t.mean, t.var
(array([-0.1]), array([0.0225]))
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import combinations_with_replacement
from typing import Mapping

import numpy as np
import sympy as sp

from .. import cost
from ..errors import (FaultModelError, FloatOverflowError, InvalidArgument, NotSmooth, TimeLimitReached,
                      TooLargeError)
from ..faults import SEMANTICS, NeuronCrash, check_probability, site_key
from ..graph.activations import ETA
from ..graph.numbers import float_enclosure, to_fraction
from ..problem import as_model, make_problem
from ..progress import progress
from ..utils import to_exact
from ..walk.interval import (Interval, IntervalInterp, crash_value_interval, enclose_numbers, isquare, isum,
                             up as _up)
from ..walk.interval_jets import IntervalJets
from ..walk.interval_reverse import IntervalBackward
from ..walk.backward import Backward
from ..walk.numeric import crash_values_float
from ..walk.walker import walk, walk_reverse
from .forward import as_inputs
from .symbolic import crash_layers_of, latex_block as _latex_block, symbolic_forward, symbolic_ops
from ..results import result
from ..rounding import plus_minus, rounded

__all__ = [
    "TaylorExpansion",
    "loss_gradient_enclosure",
    "check_jet_cost",
    "remainder_estimate",
    "taylor_expand",
    "Moments",
    "bernoulli_moments",
    "SymbolicT1",
    "t1_symbolic",
    "T1Result",
    "t1",
    "t1_loss",
    "SMOOTH_LOSSES",
    "RemainderBound",
    "remainder_bound",
    "remainder_from_bounds",
    "remainder_formulas",
    "Derivation",
    "derive",
    "expansion_size",
    "derive_estimate",
    "DerivativeBounds",
    "derivative_bounds",
    "gradient_enclosure",
    "MAX_JET_ENTRIES",
    "JET_BLOCK_ENTRIES",
]

#: Default limit on ``(largest node downstream of the crash sites) · n²`` (entries of one Hessian jet)
#: in :func:`derivative_bounds`.
MAX_JET_ENTRIES = 30_000_000

#: The Hessian jets of :func:`derivative_bounds` are computed in blocks of rows of at most this many
#: intervals per node (memory independent of the number of crash indicators).
JET_BLOCK_ENTRIES = 2 ** 23

_U = 2.0 ** -53


# ---------------------------------------------------------------------- probabilities

def _probabilities(net, p, semantics: str | None = None) -> dict:
    """``{site key: probability}`` (the network's topological order, zero sites dropped) from a NeuronCrash
    or a mapping ``{site: p}``, normalised and checked by :func:`symft.problem.as_model`."""
    if not isinstance(p, (NeuronCrash, Mapping)):
        raise FaultModelError(f"p: expected a mapping {{site: probability}} or a NeuronCrash, "
                              f"got {type(p).__name__}")
    model = as_model(net, p, semantics)
    keys = {net.site(k): k for k in model.layers}
    probs = {keys[s]: model.probability(keys[s]) for s in net.sites if s in keys}
    if not probs:
        raise FaultModelError("p: expected at least one site with a non-zero crash probability")
    return probs


def _sym_p(q):
    if isinstance(q, sp.Basic):
        return q
    if isinstance(q, float):
        return sp.Float(q)
    return sp.sympify(q)


# ---------------------------------------------------------------------- expansion

def expansion_size(net, crash_layers, order: int) -> dict:
    """Estimate of a symbolic expansion: ξ count, Taylor terms ``C(n+k, k)``, operations, work.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> expansion_size(mean_network(10), [0], 2)
    {'n_xi': 10, 'terms': 66, 'ops': 14, 'work': 924}
    """
    layers = crash_layers_of(net, crash_layers)
    n = sum(net.site_size(l) for l in layers)
    terms = math.comb(n + order, order)
    ops = symbolic_ops(net, layers[0] if layers else 0)
    return {"n_xi": n, "terms": terms, "ops": ops, "work": terms * ops}


def _affine(node) -> bool:
    """Whether a node is affine in its input (an affine op, or a one-piece activation such as ``linear``)."""
    if node.op.affine:
        return True
    act = node.op.act if node.op.kind == "activation" else None
    return act is not None and act.is_piecewise_linear and len(act.pieces) == 1


def derive_estimate(net, crash_layers, order: int, *, symbolic_input: bool = False) -> "cost.Estimate":
    r"""The predicted time of a symbolic Taylor expansion (:func:`taylor_expand`, ``symft derive``), before any work.

    The work is ``outputs × derivatives × expression size``, in units of the
    ``"derive"`` path of :mod:`symft.cost` (``"derive_symbolic"`` with
    symbolic inputs, whose expressions cost more per leaf: nested ``tanh``,
    ``exp`` of symbols, which SymPy differentiates and prints at length):

    * *expression size*: the number of leaves of an output's expression tree
      from the first crash site on (an affine op of fan-in ``f`` multiplies
      its input's size by ``f``; upstream of the crash sites values are
      numbers, unless ``symbolic_input``: the input symbols ``x_0, x_1, …``
      of :func:`taylor_expand` without ``x``);
    * *derivatives*: the multi-indices of order ``1 … order`` whose derivative
      is not zero by structure.  A crash indicator at a site followed only by
      affine ops enters the output linearly, so it appears at most once in a
      non-zero derivative (and never twice with another such indicator).

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> e = derive_estimate(random_network([6, 5, 4, 3], seed=0), [1, 2], 2)
    >>> e.path, e.work, e.basis
    ('derive', 12144.0, '44 non-zero derivatives of expressions of 92 terms × 3 outputs')
    """
    order = _check_order(order)
    layers = crash_layers_of(net, crash_layers)
    sites = [net.site(l) for l in layers]
    down = set(net.downstream(sites)) if sites else set()
    size = {}
    for name in net.order:
        node = net.node(name)
        if name not in down and not symbolic_input:
            size[name] = 1
            continue
        t = max((size[i] for i in node.inputs), default=0 if node.op.kind == "input" else 1)
        f = node.op.fan_in(node.in_shapes) if (node.op.affine or node.op.kind == "maxpool2d") else 1
        size[name] = (f * (t + 1) if f > 1 else t + (0 if _affine(node) else 1)) + (1 if name in sites else 0)
    n_nl = n_lin = 0
    for s in sites:
        if any(not _affine(net.node(n)) for n in net.downstream([s]) if n != s):
            n_nl += net.site_size(s)
        else:
            n_lin += net.site_size(s)
    steps = sum(math.comb(n_nl + m - 1, m) + n_lin * (1 if m == 1 else math.comb(n_nl + m - 2, m - 1))
                for m in range(1, order + 1))
    tree = size[net.output] if sites else 0
    return cost.estimate("derive_symbolic" if symbolic_input else "derive", float(net.n_outputs) * steps * tree,
                         f"{cost.format_count(steps)} non-zero derivatives of expressions of "
                         f"{cost.format_count(tree)} terms × {net.n_outputs} outputs")


def _check_order(order):
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 1:
        raise InvalidArgument(f"order: expected a positive integer, got {order!r}")
    return int(order)


def _tidy(e):
    if e.is_Rational or e.is_Float:
        return e
    try:
        # with tanh(…), exp(…) of symbols (symbolic inputs) the expanded form is longer, not clearer
        if not _has_symbolic_calls(e) and sp.count_ops(e) < 400:
            return _expand(e)
    except Exception:  # pragma: no cover - SymPy edge cases; the unexpanded value is still exact
        pass
    return e


def _outer_calls(e, found: dict) -> None:
    """Collect the outermost function applications (``tanh(…)``, ``exp(…)``) of ``e`` into ``found``."""
    _walk_shared(e, lambda a: a.is_Function and not found.setdefault(a, None))


def _walk_shared(e, stop) -> None:
    """Call ``stop`` on every distinct subexpression of ``e`` once, not descending where it is true (SymPy's
    own traversals visit a shared subtree once per occurrence, which on a network's expressions is often)."""
    seen, stack = set(), [e]
    while stack:
        a = stack.pop()
        if a in seen:
            continue
        seen.add(a)
        if stop(a) or a.is_Atom:
            continue
        stack.extend(a.args)


def _with_calls_as_symbols(e, fn):
    """``fn(e)`` with every outermost function application replaced by a symbol, then put back.

    ``fn`` (an expansion, a factorization) then works on a polynomial (or rational function) in
    plain symbols: SymPy's own ``expand`` asks assumption queries of every ``exp(…)`` argument
    it meets (whether it is negative), which on the nested arguments of a network with symbolic
    inputs took minutes.  The arguments themselves are expanded the same way, so the result has
    the value of ``fn(e)`` (the same expression up to how ``exp`` of a sum is written).
    """
    found: dict = {}
    _outer_calls(e, found)
    if not found:
        return fn(e)
    calls = {c: c.func(*[_expand(a) for a in c.args]) for c in found}
    dummies = {c: sp.Dummy(f"u{k}") for k, c in enumerate(calls)}
    out = fn(e.xreplace(dummies))
    return out.xreplace({d: calls[c] for c, d in dummies.items()})


def _expand(e):
    """``sp.expand(e)`` with function applications kept whole (their arguments expanded).

    Examples
    --------
    >>> x, y = sp.symbols("x y")
    >>> _expand((x + 1) * (sp.exp(2 * (x + y)) + 1))
    x*exp(2*x + 2*y) + x + exp(2*x + 2*y) + 1
    """
    if e.is_Atom:
        return e
    return _with_calls_as_symbols(e, sp.expand)


def _multi_index(idx: tuple) -> dict:
    out = {}
    for a in idx:
        out[a] = out.get(a, 0) + 1
    return out


@result
@dataclass(frozen=True)
class TaylorExpansion:
    r"""The Taylor polynomial of ``Δ(ξ) = y_L(ξ) − y_L(0)`` to total order ``k``.

    Attributes
    ----------
    order : int
    xi : tuple of (site, index, Symbol)
    coefficients : tuple
        Per output, a tuple of ``(multi_index, coefficient)`` where
        ``multi_index`` is a sorted tuple of ξ positions (``(a, a, b)`` means
        ``ξ_a² ξ_b``) and the coefficient is ``∂^α y(0) / α!``.
    value : tuple
        ``y_L(0)`` per output.
    exact : bool
        Whether the polynomial *is* ``Δ`` (``y_L`` has degree ≤ k in ξ).
    evaluation : SymbolicEvaluation
        ``y_L(ξ)`` itself (for the Lagrange remainder).

    Examples
    --------
    >>> from symft.graph.network import first_input_network
    >>> e = taylor_expand(first_input_network(2), [3, 5], [0], order=2)
    >>> e.polynomials(), e.exact
    ((-3*xi_0^0,), True)
    """

    order: int
    xi: tuple
    coefficients: tuple
    value: tuple
    exact: bool
    evaluation: object = field(repr=False, compare=False)

    @property
    def xi_symbols(self) -> tuple:
        """The ξ symbols.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> taylor_expand(mean_network(2), None, [0], order=1).xi_symbols
        (xi_0^0, xi_0^1)
        """
        return tuple(s for _, _, s in self.xi)

    def polynomials(self) -> tuple:
        """The truncated expansion of ``Δ`` per output, as SymPy expressions.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> taylor_expand(mean_network(2), [1, 1], [0], order=1).polynomials()
        (-xi_0^0/2 - xi_0^1/2,)
        """
        xs = self.xi_symbols
        out = []
        for terms in self.coefficients:
            out.append(sp.Add(*[c * sp.Mul(*[xs[a] for a in idx]) for idx, c in terms]))
        return tuple(out)

    def gradient(self) -> tuple:
        """``g_a = ∂y/∂ξ_a`` at ``ξ = 0`` per output (the T1 sensitivities).

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> taylor_expand(mean_network(2), [1, 3], [0], order=1).gradient()
        ((-1/2, -3/2),)
        """
        n = len(self.xi)
        out = []
        for terms in self.coefficients:
            g = [sp.Integer(0)] * n
            for idx, c in terms:
                if len(idx) == 1:
                    g[idx[0]] = c
            out.append(tuple(g))
        return tuple(out)

    def lagrange_remainder(self, *, max_terms: int = 200, deadline: "cost.Deadline | None" = None) -> tuple:
        r"""The Lagrange remainder ``R_k(ξ) = Σ_{|α|=k+1} ∂^α y(θξ) ξ^α / α!``, ``θ ∈ (0, 1)``.

        ``Δ(ξ) = T_k(ξ) + R_k(ξ)`` for some θ (depending on ξ); returned per
        output as an expression in the ξ and the symbol ``theta``.

        Parameters
        ----------
        max_terms : int
            Refuse above this many terms of order ``k + 1``.
        deadline : symft.cost.Deadline, optional
            Checked between the terms: the work stops there once the time
            limit has passed.

        Raises
        ------
        TooLargeError
            When there are more than ``max_terms`` terms of order ``k + 1``,
            or the deadline has passed.

        Examples
        --------
        >>> from symft.graph.network import Network
        >>> net = Network.from_sympy([[[1]], [[1]]], activations=["tanh", "linear"])
        >>> taylor_expand(net, [1], [0], order=1).lagrange_remainder()
        (xi_0^0**2*(2 - 2*tanh(theta*xi_0^0 - 1)**2)*tanh(theta*xi_0^0 - 1)/2,)
        """
        k = self.order + 1
        xs = self.xi_symbols
        n_terms = math.comb(len(xs) + k - 1, k)
        if n_terms > max_terms:
            raise TooLargeError(f"Lagrange remainder: {n_terms} terms of order {k} (limit {max_terms}); "
                                "use remainder_bound() for a numeric bound")
        theta = sp.Symbol("theta", positive=True)
        sub = {s: theta * s for s in xs}
        out = []
        for o, y in enumerate(self.evaluation.outputs):
            total = sp.Integer(0)
            for t, idx in enumerate(combinations_with_replacement(range(len(xs)), k)):
                if deadline is not None:
                    deadline.check("computing the Lagrange remainder, terms", o * n_terms + t,
                                   n_terms * len(self.evaluation.outputs))
                d = y
                for a in idx:
                    d = sp.diff(d, xs[a])
                if d == 0:
                    continue
                alpha = _multi_index(idx)
                fact = sp.Mul(*[sp.factorial(m) for m in alpha.values()])
                total += d.xreplace(sub) * sp.Mul(*[xs[a] ** m for a, m in alpha.items()]) / fact
            out.append(total)
        return tuple(out)

    def latex(self) -> str:
        r"""LaTeX of ``Δ_k ≈ T_k(ξ)`` per output.

        Examples
        --------
        >>> from symft.graph.network import first_input_network
        >>> taylor_expand(first_input_network(1), [2], [0], order=1).latex()
        '\\begin{aligned}\\Delta_{0} &= - 2 \\xi^{0}_{0}\\end{aligned}'
        """
        rows = [(rf"\Delta_{{{k}}}", sp.latex(e)) for k, e in enumerate(self.polynomials())]
        if self.exact:
            return _latex_block(rows)
        body = r" \\ ".join(rf"{a} &\approx {b} + R_{{{self.order}}}" for a, b in rows)
        return r"\begin{aligned}" + body + r"\end{aligned}"

    def _repr_latex_(self) -> str:
        return f"$\\displaystyle {self.latex()}$"

    def __str__(self) -> str:
        tail = "" if self.exact else f" + R_{self.order}"
        rel = "=" if self.exact else "≈"
        return "\n".join(f"Δ_{k} {rel} {e}{tail}" for k, e in enumerate(self.polynomials()))


def taylor_expand(net, x=None, crashes=(0,), order: int = 2, *, semantics: str = "output_zero",
                  exact: bool | None = None, force: bool = False, max_time: float | None = None,
                  progress_bar: bool | None = None, deadline: "cost.Deadline | None" = None) -> TaylorExpansion:
    r"""Taylor-expand ``Δ(ξ)`` to total order ``order`` in every crash indicator.

    Parameters
    ----------
    net : Network
        Weights may be symbolic.
    x : sequence, optional
        The input (default: symbols ``x_0 …``).
    crashes : NeuronCrash, mapping {site: p} or iterable of site keys
    order : int
    semantics : {"output_zero", "incoming_zeroed"}
    exact : bool or None
        Float weights exactly (binary rationals) or as SymPy Floats; default
        exact unless the network is a float network
        (:func:`symft.engines.symbolic.symbolic_forward`).
    force : bool
        Skip the size and time guards.
    max_time : float or None
        Refuse when the predicted time (:func:`derive_estimate`) exceeds this
        many seconds (default: the limit of :mod:`symft.cost`).
    progress_bar : bool or None
        Progress bar on stderr over outputs × Taylor terms (``None``: when
        stderr is a terminal).
    deadline : symft.cost.Deadline, optional
        Checked between the derivatives (default: the time limit, from the
        enclosing :func:`symft.cost.time_limit` or from this call); the work
        stops there when the prediction was wrong.

    Raises
    ------
    TooLargeError
        When the predicted time exceeds the limit; the message gives the
        estimate, a lower order that fits if there is one, and the numeric
        alternative (:func:`t1`, ``symft taylor``).  Its subclass
        :class:`~symft.errors.TimeLimitReached` when the work reached the
        limit anyway, saying how far it got.

    Examples
    --------
    >>> from symft.graph.network import Network
    >>> net = Network.from_sympy([[[1, 1]], [[1]]], activations=["tanh", "linear"])
    >>> e = taylor_expand(net, [0, 0], [0], order=2)
    >>> e.polynomials()
    (0,)
    >>> sq = Network.from_sympy([[[1]], [[1]]], activations=["softplus", "linear"])
    >>> taylor_expand(sq, [0], [0], order=1).polynomials()  # softplus'(0) = 1/2 … at x = 0 no effect
    (0,)
    """
    order = _check_order(order)
    layers = crash_layers_of(net, crashes)
    if not layers:
        raise FaultModelError("crashes: expected at least one site that may crash")
    _guard_expansion(net, layers, order, force, max_time, x is None)
    if deadline is None:
        deadline = _deadline(net, layers, order, max_time, x is None)
    ev = symbolic_forward(net, x, layers, semantics=semantics, exact=exact, force=force)
    xs = ev.xi_symbols
    zero = {s: 0 for s in xs}
    coeffs, values, exact = [], [], True
    n_terms = math.comb(len(xs) + order, order) - 1
    with progress(len(ev.outputs) * n_terms, "derive: Taylor coefficients", enabled=progress_bar) as bar:
        for y in ev.outputs:
            terms = _coefficients(y, xs, zero, order, bar, deadline)
            coeffs.append(tuple(terms))
            values.append(_tidy(y.xreplace(zero)))
            if exact:
                exact = _is_polynomial_of_degree(y, xs, order)
    return TaylorExpansion(order, ev.xi, tuple(coeffs), tuple(values), exact, ev)


def _what(net, layers, order) -> str:
    return f"symbolic Taylor expansion of order {order} in {sum(net.site_size(l) for l in layers)} crash indicators"


def _instead(symbolic_input: bool, lower: str = "") -> str:
    return (f"use the numeric T1 with a rigorous remainder (`symft taylor NET --input X --p SPEC`, "
            f"symft.engines.taylor.t1), {lower}{'a numeric input (--input X), ' if symbolic_input else ''}"
            f"fewer crash sites (--p SITE:P)")


def _deadline(net, layers, order, max_time, symbolic_input) -> "cost.Deadline":
    """The time limit as a deadline for the steps of a derivation (checked between them)."""
    lower = "a lower order (--order K), " if order > 1 else ""
    return cost.Deadline(_what(net, layers, order), _instead(symbolic_input, lower), max_time=max_time)


def _guard_expansion(net, layers, order, force, max_time, symbolic_input):
    """Refuse (before any work) an expansion predicted to take longer than the time limit."""
    if force:
        return

    def est(k):
        e = derive_estimate(net, layers, k, symbolic_input=symbolic_input)
        if symbolic_input:
            e = cost.Estimate(e.path, e.work, e.seconds, e.basis + " in symbolic inputs")
        return e

    e = est(order)
    limit, _ = cost.current_limit(max_time)
    if e.seconds <= limit:
        return
    lower = next((k for k in range(order - 1, 0, -1) if est(k).seconds <= limit), None)
    low = "" if lower is None else f"order {lower} (--order {lower}, {cost.format_seconds(est(lower).seconds)}), "
    cost.check(e, _what(net, layers, order), _instead(symbolic_input, low), max_time=max_time)


def _coefficients(y, xs, zero, order, bar, deadline=None):
    """The non-zero Taylor coefficients ``(multi-index, c)`` of ``y`` in ``xs`` up to ``order``."""
    cache = {(): y}
    terms = []
    for m in range(1, order + 1):
        for idx in combinations_with_replacement(range(len(xs)), m):
            if deadline is not None:
                deadline.check("computing the Taylor coefficients, derivatives", bar.done, bar.total)
            bar.update(1)
            d = cache.get(idx)
            if d is None:
                prev = cache[idx[:-1]]
                d = sp.diff(prev, xs[idx[-1]]) if prev != 0 else sp.Integer(0)
                cache[idx] = d
            if d == 0:
                continue
            c = d.xreplace(zero)
            alpha = _multi_index(idx)
            fact = math.prod(math.factorial(v) for v in alpha.values())
            c = _tidy(c / fact)
            if c != 0:
                terms.append((idx, c))
    return terms


def _is_polynomial_of_degree(y, xs, k) -> bool:
    """Whether ``y`` is a polynomial of total degree at most ``k`` in ``xs``.

    The degree as written (a product adds its factors' degrees) bounds the true one from above, so
    when it is at most ``k`` that is the answer; otherwise ``Poly`` decides, with the function
    applications of the coefficients (``exp`` of a binary rational, say) as symbols, since ``Poly``
    over such coefficients asks SymPy's assumptions about each of them and took minutes.
    """
    try:
        if not y.is_polynomial(*xs):
            return False
        if _degree_as_written(y, frozenset(xs)) <= k:
            return True
        calls: dict = {}
        _outer_calls(y, calls)
        if not any(c.free_symbols & set(xs) for c in calls):
            y = y.xreplace({c: sp.Dummy(f"u{j}") for j, c in enumerate(calls)})
        return sp.Poly(y, *xs).total_degree() <= k
    except (sp.PolynomialError, sp.GeneratorsNeeded):
        return False


def _degree_as_written(e, xs: frozenset, memo=None) -> float:
    """An upper bound on the total degree in ``xs`` of a polynomial ``e``, from its structure.

    Examples
    --------
    >>> a, b, c = sp.symbols("a b c")
    >>> _degree_as_written((a + 1) * (a * b + sp.exp(c)) + c ** 5, frozenset({a, b}))
    3
    """
    memo = {} if memo is None else memo
    if e in memo:
        return memo[e]
    if not (e.free_symbols & xs):
        d = 0
    elif e.is_Symbol:
        d = 1
    elif e.is_Add:
        d = max(_degree_as_written(a, xs, memo) for a in e.args)
    elif e.is_Mul:
        d = sum(_degree_as_written(a, xs, memo) for a in e.args)
    elif e.is_Pow and e.exp.is_Integer and e.exp >= 0:
        d = int(e.exp) * _degree_as_written(e.base, xs, memo)
    else:
        d = math.inf
    memo[e] = d
    return d


# ---------------------------------------------------------------------- moments

@result
@dataclass(frozen=True)
class Moments:
    """``E`` and ``Var`` of a truncated expansion under independent Bernoulli crashes.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> m = bernoulli_moments(taylor_expand(mean_network(2), [1, 1], [0], 1), {0: sp.Symbol("p")})
    >>> m.mean, m.var
    ((-p,), (p*(1 - p)/2,))
    """

    mean: tuple
    var: tuple
    order: int

    def latex(self) -> str:
        r"""LaTeX of the moments.

        Examples
        --------
        >>> Moments((sp.Integer(1),), (sp.Integer(0),), 1).latex()
        '\\begin{aligned}\\mathbb{E}\\,T_{1,0} &= 1 \\\\ \\operatorname{Var} T_{1,0} &= 0\\end{aligned}'
        """
        rows = []
        for k, (m, v) in enumerate(zip(self.mean, self.var)):
            rows.append((rf"\mathbb{{E}}\,T_{{{self.order},{k}}}", sp.latex(m)))
            rows.append((rf"\operatorname{{Var}} T_{{{self.order},{k}}}", sp.latex(v)))
        return _latex_block(rows)

    def _repr_latex_(self) -> str:
        return f"$\\displaystyle {self.latex()}$"

    def __str__(self) -> str:
        return "\n".join(f"E T_{self.order}[{k}] = {m}\nVar T_{self.order}[{k}] = {v}"
                         for k, (m, v) in enumerate(zip(self.mean, self.var)))


def _one_minus(e, syms):
    """Rewrite ``-c (p - 1)`` as ``c (1 - p)`` for readability (same value)."""
    if not isinstance(e, sp.Mul):
        return e
    args = list(e.args)
    for k, a in enumerate(args):
        for q in syms:
            if a == q - 1:
                coeff, rest = e.as_coeff_Mul()
                if coeff.is_negative:
                    rest = [b for j, b in enumerate(args) if j != k and not b.is_Number]
                    return sp.Mul(-coeff, 1 - q, *rest)
    return e


def _collect_p(e, ps):
    e = _expand(e)
    syms = sorted({s for q in ps if isinstance(q, sp.Basic) for s in q.free_symbols}, key=str)
    if syms:
        try:
            if len(sp.Add.make_args(e)) < 60:
                return _one_minus(_with_calls_as_symbols(e, sp.factor), syms)
            return sp.collect(e, syms)
        except Exception:  # pragma: no cover
            return e
    return e


def bernoulli_moments(expansion: TaylorExpansion, p, *, net=None, deadline: "cost.Deadline | None" = None) -> Moments:
    r"""Mean and variance of the truncated expansion with independent ``ξ_a ~ Be(p_{l(a)})``.

    ``ξ^m = ξ`` for a Bernoulli variable, so each monomial reduces to the
    product of its distinct ξ, and
    ``E ξ_S = Π_{a∈S} p_a``, ``Cov(ξ_S, ξ_T) = π(S ∪ T) − π(S) π(T)``.

    Parameters
    ----------
    expansion : TaylorExpansion
    p : mapping {site: probability} or NeuronCrash
        Numbers or SymPy symbols; sites of the expansion missing from ``p``
        have probability 0.
    net : Network, optional
        The expanded network: site keys of ``p`` and of the expansion are
        then matched by site (``1`` and ``"h1"`` may name the same site);
        without it, by key (``1`` and ``"1"`` are the same key).
    deadline : symft.cost.Deadline, optional
        Checked between the products of the variance: the work stops there
        (:class:`~symft.errors.TimeLimitReached`) once the time limit has passed.

    Examples
    --------
    >>> from symft.graph.network import Network
    >>> p = sp.Symbol("p")
    >>> net = Network.from_sympy([[[1, 1]], [[1]]], activations=["linear", "linear"])
    >>> e = taylor_expand(net, [2, 3], [0, 1], order=2)
    >>> bernoulli_moments(e, {0: p, 1: p}).mean   # E (1−ξ_c)(5 − 2ξ_a − 3ξ_b) − 5 = 5(1−p)² − 5
    (5*p*(p - 2),)
    >>> bernoulli_moments(e, {0: p}).mean
    (-5*p,)
    """
    if isinstance(p, NeuronCrash):
        probs = {l: p.probability(l) for l in p.layers}
    elif isinstance(p, Mapping):
        probs = {site_key(l, "p"): check_probability(q, f"p[{l}]") for l, q in p.items()}
    else:
        raise FaultModelError(f"p: expected a mapping {{site: probability}}, got {type(p).__name__}")

    def key(k):                     # one key per site: its name when the network is known
        return net.site(k, "p") if net is not None else k

    probs = {key(k): q for k, q in probs.items()}
    pa = [_sym_p(probs.get(key(l), 0)) for l, _, _ in expansion.xi]

    def pi(S):
        return sp.Mul(*[pa[a] for a in S])

    means, variances = [], []
    for terms in expansion.coefficients:
        by_support: dict = {}
        for idx, c in terms:
            S = frozenset(idx)
            by_support[S] = by_support.get(S, 0) + c
        items = [(S, c) for S, c in by_support.items() if c != 0]
        mean = sp.Add(*[c * pi(S) for S, c in items])
        # Var = Σ_{S ∩ T ≠ ∅} c_S c_T Cov(ξ_S, ξ_T), gathered per monomial of the probabilities
        by_p: dict = {}
        pairs = len(items) * (len(items) + 1) // 2
        for i, (S, cs) in enumerate(items):
            if deadline is not None:
                deadline.check(f"computing the moments, Var Δ of output {len(variances)}, products",
                               i * len(items) - i * (i - 1) // 2, pairs)
            for j in range(i, len(items)):
                T, ct = items[j]
                if S & T:
                    w = (1 if i == j else 2) * cs * ct
                    for mono, k in sp.expand(pi(S | T) - pi(S) * pi(T)).as_coefficients_dict().items():
                        by_p.setdefault(mono, []).append(k * w)
        var = sp.Add(*[mono * sp.Add(*ws) for mono, ws in by_p.items()])
        if any(_has_symbolic_calls(c) for _, c in items):
            # coefficients with tanh(…), exp(…) of symbols (symbolic inputs): expanding their products
            # multiplies the terms without making anything clearer, so the moments stay grouped by p
            means.append(mean)
            variances.append(var)
        else:
            means.append(_collect_p(mean, pa))
            variances.append(_collect_p(var, pa))
    return Moments(tuple(means), tuple(variances), expansion.order)


def _has_symbolic_calls(e) -> bool:
    """Whether ``e`` applies a function (``tanh``, ``exp``, …) to something with a free symbol."""
    found: dict = {}
    _outer_calls(e, found)
    return any(c.free_symbols for c in found)


# ---------------------------------------------------------------------- symbolic T1

@result
@dataclass(frozen=True)
class SymbolicT1:
    r"""T1 symbolically: first-order moments in both forms and the second-order moments.

    Attributes
    ----------
    mean : tuple
        ``Σ_a p_a g_a`` per output (first order, T1).
    var : tuple
        ``Σ_a p_a (1 − p_a) g_a²`` — the exact first-order variance (E4).
    var_paper : tuple
        ``Σ_a p_a g_a²`` — T1 as printed.
    gradient : tuple
        ``g_a = ∂y/∂ξ_a |_0 = −(∂y/∂y_l^i) y_l^i`` per output.
    mean2, var2 : tuple or None
        Moments of the second-order expansion (``None`` if not asked).
    exact : bool
        The first-order expansion is ``Δ`` itself (then ``mean`` and ``var``
        are the exact moments).
    p : tuple of (site, probability)
    xi : tuple of (site, index, Symbol)

    Examples
    --------
    >>> from symft.graph.network import first_input_network
    >>> r = t1_symbolic(first_input_network(3), None, {0: sp.Symbol("p")})
    >>> r.mean, r.var   # erratum E3: E Δ = −p x_1 (here x_0), not p
    ((-p*x_0,), (p*x_0**2*(1 - p),))
    """

    mean: tuple
    var: tuple
    var_paper: tuple
    gradient: tuple
    mean2: tuple | None
    var2: tuple | None
    exact: bool
    p: tuple
    xi: tuple

    def evalf(self, subs: Mapping | None = None) -> dict:
        """Numeric values (floats) after substituting ``subs``; keys like the attributes.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> r = t1_symbolic(mean_network(2), [1, 1], {0: sp.Symbol("p")})
        >>> r.evalf({sp.Symbol("p"): 0.5})["var"]
        [0.125]
        """
        subs = dict(subs or {})
        out = {}
        for name in ("mean", "var", "var_paper", "mean2", "var2"):
            v = getattr(self, name)
            out[name] = None if v is None else [float(sp.sympify(e).subs(subs).evalf(30)) for e in v]
        return out

    def latex(self) -> str:
        r"""LaTeX: T1's mean, both variances (labelled), and the second-order moments.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> print(t1_symbolic(mean_network(2), [1, 1], {0: sp.Symbol("p")}, second_order=False).latex())
        \begin{aligned}\mathbb{E}\,\Delta_{0} &= - p \\ \operatorname{Var}\Delta_{0} &= \frac{p \left(1 - p\right)}{2} \quad\text{(exact first order, E4)} \\ \operatorname{Var}\Delta_{0} &\approx \frac{p}{2} \quad\text{(T1 as printed)}\end{aligned}
        """
        rows = []
        rel = "=" if self.exact else r"\approx"
        for k in range(len(self.mean)):
            rows.append(rf"\mathbb{{E}}\,\Delta_{{{k}}} &{rel} {sp.latex(self.mean[k])}")
            rows.append(rf"\operatorname{{Var}}\Delta_{{{k}}} &{rel} {sp.latex(self.var[k])}"
                        r" \quad\text{(exact first order, E4)}")
            rows.append(rf"\operatorname{{Var}}\Delta_{{{k}}} &\approx {sp.latex(self.var_paper[k])}"
                        r" \quad\text{(T1 as printed)}")
            if self.mean2 is not None:
                rows.append(rf"\mathbb{{E}}\,T_{{2}} &= {sp.latex(self.mean2[k])}")
                rows.append(rf"\operatorname{{Var}} T_{{2}} &= {sp.latex(self.var2[k])}")
        return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"

    def _repr_latex_(self) -> str:
        return f"$\\displaystyle {self.latex()}$"

    def __str__(self) -> str:
        rel = "=" if self.exact else "≈"
        lines = []
        for k in range(len(self.mean)):
            lines.append(f"E Δ_{k} {rel} {self.mean[k]}")
            lines.append(f"Var Δ_{k} {rel} {self.var[k]}    (exact first order, E4)")
            lines.append(f"Var Δ_{k} ≈ {self.var_paper[k]}    (T1 as printed)")
            if self.mean2 is not None:
                lines.append(f"E T2_{k} = {self.mean2[k]}")
                lines.append(f"Var T2_{k} = {self.var2[k]}")
        return "\n".join(lines)


def _t1_from_gradient(grad, xi, probs):
    pa = [_sym_p(probs.get(l, 0)) for l, _, _ in xi]
    means, vs, vps = [], [], []
    for g in grad:
        # group per layer so that the p_l factor stays visible
        per_layer: dict = {}
        for (l, _, _), ga in zip(xi, g):
            per_layer.setdefault(l, [sp.Integer(0), sp.Integer(0)])
            per_layer[l][0] += ga
            per_layer[l][1] += ga ** 2
        m = sp.Integer(0)
        v = sp.Integer(0)
        vp = sp.Integer(0)
        for l, (s1, s2) in per_layer.items():
            q = _sym_p(probs.get(l, 0))
            s1, s2 = _tidy(s1), _tidy(s2)
            m += q * s1
            v += q * (1 - q) * s2
            vp += q * s2
        means.append(m)
        vs.append(v)
        vps.append(vp)
    return tuple(means), tuple(vs), tuple(vps)


def t1_symbolic(net, x=None, p=None, *, second_order: bool = True, semantics: str = "output_zero",
                exact: bool | None = None, force: bool = False, max_time: float | None = None) -> SymbolicT1:
    r"""Theorem 1 symbolically (both variance forms), optionally with the second-order moments.

    Parameters
    ----------
    net : Network
        Weights may be symbolic.
    x : sequence, optional
        The input (default: symbols).
    p : mapping {site: probability} or NeuronCrash
        Probabilities may be SymPy symbols.
    second_order : bool
        Also compute ``E`` and ``Var`` of the order-2 expansion.
    exact : bool or None
        See :func:`taylor_expand`.
    force, max_time
        The size and time guards, as in :func:`taylor_expand`.

    Examples
    --------
    >>> from symft.graph.network import Network
    >>> p = sp.Symbol("p")
    >>> net = Network.from_sympy([[[1]], [[1]]], activations=["tanh", "linear"])
    >>> r = t1_symbolic(net, ["1/2"], {0: p})
    >>> r.mean[0]
    p*(-1/2 + tanh(1/2)**2/2)
    >>> r.mean2[0]   # + p × ½ ∂²y/∂ξ² at 0 (ξ² = ξ: the diagonal is first order in p)
    p*(-1 + tanh(1/2))*(tanh(1/2) + 1)*(tanh(1/2) + 2)/4
    """
    if p is None:
        raise FaultModelError("p: expected a mapping {site: probability}")
    probs = _probabilities(net, p)
    exp = taylor_expand(net, x, list(probs), order=2 if second_order else 1, semantics=semantics, exact=exact,
                        force=force, max_time=max_time)
    grad = exp.gradient()
    mean, var, var_paper = _t1_from_gradient(grad, exp.xi, probs)
    mean2 = var2 = None
    if second_order:
        mo = bernoulli_moments(exp, probs, net=net)
        mean2, var2 = mo.mean, mo.var
        exact = all(_is_polynomial_of_degree(y, exp.xi_symbols, 1) for y in exp.evaluation.outputs)
    else:
        exact = exp.exact
    return SymbolicT1(mean, var, var_paper, grad, mean2, var2, exact, tuple(probs.items()), exp.xi)


# ---------------------------------------------------------------------- interval derivatives

def _input_box(net, x, where: str = "x") -> Interval:
    """Inputs as a ``(B, n_in)`` interval box: checked by :func:`symft.problem.make_problem` (or, for an
    Interval, :func:`symft.engines.forward.as_inputs` on both ends), floats exactly, exact numbers enclosed."""
    if isinstance(x, Interval):
        lo, _ = as_inputs(net, x.lo, where)
        hi, _ = as_inputs(net, x.hi, where)
        if not np.all(lo <= hi):
            raise InvalidArgument(f"{where}: expected an interval with lo <= hi")
        return Interval(lo, hi)
    return _problem_box(make_problem(net, x, where=where))


def _shaped(net, box: Interval) -> Interval:
    """``(B, n_in)`` → ``(B,) + input_shape``."""
    return box.reshape((box.shape[0],) + tuple(net.input_shape))


@result
@dataclass(frozen=True, eq=False)
class DerivativeBounds:
    r"""Rigorous bounds of the first and second ξ-derivatives of the output over the crash box.

    Attributes
    ----------
    M1 : ndarray (n_out, n)
        ``M1[k, a] ≥ sup |∂y^k/∂ξ_a|``.
    M2 : ndarray (n_out, n, n)
        ``M2[k, a, b] ≥ sup |∂²y^k/∂ξ_a∂ξ_b|`` (symmetric).
    xi : tuple of (site, index)
        The order of the ξ indices (site keys as given, neurons row-major).
    widths : tuple of int
        The number of neurons ``n_s`` of the site of every index ``a`` (for P4's scaling).

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> bd = derivative_bounds(random_network([2, 3, 1], seed=0), np.array([0.5, -1.0]), [1])
    >>> bd.M1.shape, bd.M2.shape
    ((1, 3), (1, 3, 3))
    """

    M1: np.ndarray
    M2: np.ndarray
    xi: tuple
    widths: tuple

    @property
    def D1(self) -> float:
        """``max_{k,a} M1`` — the sup of the first ξ-derivatives.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> derivative_bounds(mean_network(2), np.ones(2), [0]).D1
        0.5...
        """
        return float(self.M1.max()) if self.M1.size else 0.0

    @property
    def D2(self) -> float:
        """``max_{k,a,b} M2`` — the sup of the second ξ-derivatives.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> derivative_bounds(mean_network(2), np.ones(2), [0]).D2
        0.0...
        """
        return float(self.M2.max()) if self.M2.size else 0.0

    @property
    def D1_scaled(self) -> float:
        """``max n_{s(a)} M1[k, a]`` — D_1 in the units of P4 (operator derivative).

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> derivative_bounds(mean_network(2), np.ones(2), [0]).D1_scaled
        1.0...
        """
        w = np.asarray(self.widths, dtype=float)
        return float(_up((self.M1 * w).max())) if self.M1.size else 0.0

    @property
    def D2_scaled(self) -> float:
        """``max n_{s(a)} n_{s(b)} M2[k, a, b]`` — D_2 in the units of P4.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> derivative_bounds(mean_network(2), np.ones(2), [0]).D2_scaled
        0.0...
        """
        w = np.asarray(self.widths, dtype=float)
        return float(_up((self.M2 * np.outer(w, w)).max())) if self.M2.size else 0.0


def check_jet_cost(net, layers, force: bool = False) -> None:
    """Refuse, before any work, derivative bounds whose Hessian jets would hold more than :data:`MAX_JET_ENTRIES`.

    The jets hold (largest node downstream of the crash sites) × n² intervals, ``n`` the number of
    crash indicators.

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> check_jet_cost(random_network([64, 256, 256, 10], seed=0), (1, 2))
    Traceback (most recent call last):
    ...
    symft.errors.TooLargeError: derivative bounds: Hessian jets of 6.71e+07 intervals (limit 3e+07); crash fewer sites, or force=True
    """
    if not layers:
        return
    n = sum(net.site_size(l) for l in layers)
    largest = max(net.node(m).size for m in net.downstream([net.site(l) for l in layers]))
    entries = largest * n * n
    if entries > MAX_JET_ENTRIES and not force:
        raise TooLargeError(f"derivative bounds: Hessian jets of {entries:.3g} intervals "
                            f"(limit {MAX_JET_ENTRIES:.3g}); crash fewer sites, or force=True")
    if not force:
        cost.check(remainder_estimate(net, layers), "derivative bounds (the rigorous T1 remainder)",
                   "crash fewer sites (--p SITE:P), an enclosure (symft enclose) or sampling (symft sample), "
                   "or force=True / --force")


def remainder_estimate(net, layers) -> "cost.Estimate":
    """The predicted time (:class:`symft.cost.Estimate`, path ``"t1_remainder"``) of the T1 remainder's bounds.

    The Hessian jets carry ``n²`` intervals per value (``n`` crash
    indicators) through every node downstream of the crash sites: the work is
    ``n² ×`` their multiply-adds (:func:`symft.engines.enumeration.node_cost`),
    or ``n ×`` them when every node after the crash sites is affine (the
    Hessian is then zero and never formed).

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> remainder_estimate(random_network([4, 10, 3], seed=0), [1]).work      # affine after the crashes
    820.0
    >>> remainder_estimate(random_network([4, 10, 10, 3], seed=0), [1]).work
    22200.0
    """
    from .enumeration import node_cost

    sites = [net.site(l) for l in layers]
    n = sum(net.site_size(s) for s in sites)
    down = net.downstream(sites) if sites else ()
    macs = sum(node_cost(net.node(m)) for m in down)
    curved = any(not _affine(net.node(m)) for s in sites for m in net.downstream([s]) if m != s)
    return cost.estimate("t1_remainder", (n * n if curved else n) * macs,
                         f"{cost.format_count(n)} crash indicators{'²' if curved else ''} × "
                         f"{cost.format_count(macs)} multiply-adds")


def derivative_bounds(net, x, crash_layers, *, semantics: str = "output_zero",
                      force: bool = False) -> DerivativeBounds:
    r"""Rigorous ``sup`` bounds of ``|∂y/∂ξ|`` and ``|∂²y/∂ξ∂ξ|`` over ``ξ ∈ [0, 1]^n``, on any graph.

    One walk of the interval-jet interpretation
    (:class:`symft.walk.interval_jets.IntervalJets`): every node's value,
    gradient and Hessian in ξ are enclosed over the whole crash box in
    outward-rounded interval arithmetic (affine ops by the one interval rule
    with the bias dropped for the derivative parts, activations by the chain
    rule with the registry's derivative enclosures, crash sites by the ξ
    rules); the output's gradient and Hessian give ``M1`` and ``M2``.  The
    bounds over-approximate (intervals ignore correlations), never
    under-approximate.

    Parameters
    ----------
    net : Network
        Numeric weights (float or exact; exact values are rounded to
        float64 and the enclosures widened by that rounding, so the bound
        holds for the exact network).
    x : array_like (n_0,) or Interval
        One input: floats (the binary values they hold), exact numbers
        (``Fraction``, ``"1/3"``; enclosed), or an
        :class:`~symft.walk.interval.Interval` box of inputs ``(1, n_0)``
        (the bounds then hold over the box).
    crash_layers : NeuronCrash, mapping or iterable of site keys
    semantics : {"output_zero", "incoming_zeroed"}
    force : bool
        Skip the size guard (``(largest node downstream of the crash sites) ·
        n²`` Hessian entries, :data:`MAX_JET_ENTRIES`).

    Raises
    ------
    NotSmooth
        When the output is not twice differentiable on the box: a
        piecewise-linear activation downstream of a crash site whose
        pre-activation interval meets a kink, a max-pooling window without a
        strict winner, a custom activation.
    TooLargeError
        When the Hessian jets would exceed :data:`MAX_JET_ENTRIES` entries.

    Examples
    --------
    >>> from symft.graph.network import first_input_network
    >>> bd = derivative_bounds(first_input_network(3), np.array([2.0, 0.0, 0.0]), [0])
    >>> bd.M1
    array([[2.0..., 0.0..., 0.0...]])
    """
    if semantics not in SEMANTICS:
        raise FaultModelError(f"semantics: expected one of {', '.join(map(repr, SEMANTICS))}, got {semantics!r}")
    box = _input_box(net, x)
    if box.shape[0] != 1:
        raise InvalidArgument("x: expected one input (call once per input of a batch)")
    layers = crash_layers_of(net, crash_layers)
    check_jet_cost(net, layers, force)
    n = sum(net.site_size(l) for l in layers)
    xi = tuple((l, i) for l in layers for i in range(net.site_size(l)))
    K = net.n_outputs
    M1, M2 = np.zeros((K, n)), np.zeros((K, n, n))
    if n:
        # the Hessian jets in blocks of rows ∂²/∂ξ_a∂ξ_· (one walk per block, memory bounded by
        # JET_BLOCK_ENTRIES intervals per node whatever n); every entry is computed as in one walk
        largest = max(net.node(m).size for m in net.downstream([net.site(l) for l in layers]))
        rows = int(max(1, min(n, JET_BLOCK_ENTRIES // max(1, largest * n))))
        x0 = _shaped(net, box)
        for r0 in range(0, n, rows):
            r1 = min(n, r0 + rows)
            jet = walk(net, IntervalJets(net, layers, semantics=semantics, rows=(r0, r1)), x0, keep=False)
            if jet.g is None:
                break
            if r0 == 0:
                M1 = jet.g.mag().reshape(n, K).T.copy()
            if jet.h is not None:
                M2[:, r0:r1, :] = np.moveaxis(jet.h.mag().reshape(r1 - r0, n, K), -1, 0)
            del jet
        M2 = np.maximum(M2, np.swapaxes(M2, 1, 2))
    return DerivativeBounds(M1, M2, xi, tuple(net.site_size(l) for l, _ in xi))


def gradient_enclosure(net, X, crash_layers, *, semantics: str = "output_zero") -> dict:
    r"""Rigorous enclosures of the T1 sensitivities ``g_s[b, k, i] = ∂y^k/∂ξ_s^i`` at ``ξ = 0``, on any graph.

    The clean forward pass in outward-rounded interval arithmetic
    (:class:`symft.walk.interval.IntervalInterp`), then the reverse sweep of
    :func:`t1` in interval arithmetic
    (:class:`symft.walk.interval_reverse.IntervalBackward`, over the nodes
    downstream of the crash sites), and ``g_s = J_s (c_s − y_s)`` with
    ``c_s = 0`` or an enclosure of what a crashed neuron sends under
    ``"incoming_zeroed"``.  Each enclosure contains the exact real
    derivative of the network whose weights are the binary values of its
    floats (exact parameters: within their rounding) at every input of the
    box ``X`` — whatever cancellation the float64 passes suffer
    (``1e12 + 1e-5 − 1e12``).  Cost: a forward and a reverse pass with three
    products per op instead of one.

    Parameters
    ----------
    net : Network
    X : array_like (n_0,) or (B, n_0), or Interval
        Floats, exact numbers (enclosed) or a box ``(B, n_0)``.
    crash_layers : NeuronCrash, mapping or iterable of site keys
    semantics : {"output_zero", "incoming_zeroed"}

    Returns
    -------
    dict {site key: Interval}
        Arrays of shape ``(B, n_out, n_s)``.

    Raises
    ------
    NotSmooth
        When a derivative has no enclosure: a pre-activation downstream of a
        crash site at (or within rounding of) a kink, a max-pooling window
        without a strict winner, or a custom activation.

    Examples
    --------
    >>> from symft.graph.network import Network
    >>> net = Network.from_numpy([[[1e6], [1e-5], [-1e6]], [[-1e6, -2.0, -1e6]]], activations=["linear", "linear"],
    ...                          biases=[[1e3, 1e3, 1.001e6], [0.0]])
    >>> g = gradient_enclosure(net, [1.0], [0])[0]      # exact g = 1e12 + 2·1e-5 − 1e12 (binary values)
    >>> bool(g.lo[0, 0, 0] <= 2e-5 <= g.hi[0, 0, 0])
    True
    """
    if semantics not in SEMANTICS:
        raise InvalidArgument(f"semantics: expected one of {', '.join(map(repr, SEMANTICS))}, got {semantics!r}")
    layers = crash_layers_of(net, crash_layers)
    box = _input_box(net, X)
    B, K = box.shape[0], net.n_outputs
    names = [net.site(l) for l in layers]
    values = walk(net, IntervalInterp(net), _shaped(net, box))
    seed = Interval.point(np.broadcast_to(np.eye(K), (B, K, K)).reshape((B, K) + tuple(net.output_shape)))
    grads = walk_reverse(net, IntervalBackward(), values, seed, names) if names else {}
    out = {}
    for l, s in zip(layers, names):
        m = net.site_size(s)
        J = grads[s]
        J = Interval.zeros((B, K, m)) if J is None else J.reshape(B, K, m)
        y = values[s].reshape(B, 1, m)
        d = -y if semantics == "output_zero" else crash_value_interval(net, s, semantics).reshape(1, 1, m) - y
        out[l] = J * d
    return out


# ---------------------------------------------------------------------- remainder bounds

@result
@dataclass(frozen=True)
class RemainderBound:
    r"""Rigorous bounds of the T1 remainders for one input (theory §5).

    Attributes
    ----------
    mean_bound : ndarray (n_L,)
        ``|E Δ − mean| ≤ mean_bound`` (``mean`` = T1's first-order mean).
    var_bound : ndarray (n_L,)
        ``|Var Δ − var| ≤ var_bound`` (``var`` = exact first-order variance).
    D1, D2 : ndarray (n_L,)
        ``sup |∂y/∂ξ_a|`` and ``sup |∂²y/∂ξ_a∂ξ_b|`` over the crash box (upper bounds).
    D1_scaled, D2_scaled : ndarray (n_L,)
        The same in the units of P4 (``n_l`` and ``n_l²`` times).
    paper_mean_bound : ndarray or None
        ``2 p D_2 / n + p² D_2`` (the proof's ``|E_1| + |E_2|``, scaled D_2), crashes at one site only.
    bounds : DerivativeBounds

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> rb = remainder_bound(mean_network(4), np.ones(4), {0: 0.1})
    >>> rb.mean_bound, rb.var_bound
    (array([0.]), array([0.]))
    """

    mean_bound: np.ndarray
    var_bound: np.ndarray
    D1: np.ndarray
    D2: np.ndarray
    D1_scaled: np.ndarray
    D2_scaled: np.ndarray
    paper_mean_bound: np.ndarray | None
    bounds: DerivativeBounds = field(repr=False, compare=False)

    def latex(self) -> str:
        r"""LaTeX of the bounds per output.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> "D_1" in remainder_bound(mean_network(2), np.ones(2), {0: 0.1}).latex()
        True
        """
        rows = []
        for k in range(self.mean_bound.size):
            rows.append(rf"|\mathbb{{E}}\,\Delta_{{{k}}} - \text{{T1}}| &\le {rounded(self.mean_bound[k], 'up', 3)}")
            rows.append(rf"|\operatorname{{Var}}\Delta_{{{k}}} - \text{{T1}}| &\le {rounded(self.var_bound[k], 'up', 3)}")
            rows.append(rf"D_1,\ D_2 &\le {rounded(self.D1[k], 'up', 3)},\ {rounded(self.D2[k], 'up', 3)}")
        return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"

    def _repr_latex_(self) -> str:
        return f"$\\displaystyle {self.latex()}$"

    def __str__(self) -> str:
        up = lambda v: rounded(v, "up", 4)       # noqa: E731  (proved upper bounds: rounded up)
        return "\n".join(f"output {k}: |E Δ − T1 mean| ≤ {up(self.mean_bound[k])}, |Var Δ − T1 var| ≤ "
                         f"{up(self.var_bound[k])}  (D_1 ≤ {up(self.D1[k])}, D_2 ≤ {up(self.D2[k])}; "
                         f"P4 units: {up(self.D1_scaled[k])}, {up(self.D2_scaled[k])})"
                         for k in range(self.mean_bound.size))


def remainder_from_bounds(bd: DerivativeBounds, pvec) -> RemainderBound:
    r"""Turn derivative bounds into remainder bounds for crash probabilities ``pvec`` (one per ξ).

    All quantities are sums and products of non-negative floats; each has
    at most ``n²`` terms, so multiplying the computed value by
    ``1 + 8 (n² + 20) u`` (``u = 2^-53``) and rounding up bounds the exact
    real value (each term carries a relative error ``≤ (n² + 20) u`` for any
    summation order, Higham §3.1; the factor 8 covers the few sequential
    operations).

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> net = random_network([2, 3, 1], seed=0)
    >>> bd = derivative_bounds(net, np.array([0.5, -1.0]), [1])
    >>> rb = remainder_from_bounds(bd, np.full(3, 0.01))
    >>> bool(rb.mean_bound[0] > 0 and rb.var_bound[0] > 0)
    True
    """
    p = np.asarray(pvec, dtype=float)
    return _remainder_from_bounds(bd, p, p * (1 - p))


def _remainder_from_bounds(bd: DerivativeBounds, p, pq) -> RemainderBound:
    """:func:`remainder_from_bounds` with ``p`` and ``pq`` upper bounds of the probabilities and of
    ``p (1 − p)``: every bound below is a sum of products of non-negative terms, increasing in each
    ``p_a`` and ``p_a (1 − p_a)`` taken separately, so upper bounds in give upper bounds out."""
    p = np.asarray(p, dtype=float)
    pq = np.asarray(pq, dtype=float)
    n = p.size
    safety = 1.0 + 8.0 * (n * n + 20) * _U
    M1, M2 = bd.M1, bd.M2
    K = M1.shape[0]
    diag = np.einsum("kaa->ka", M2) if n else np.zeros((K, 0))
    off = M2.copy()
    if n:
        off[:, np.arange(n), np.arange(n)] = 0.0
    EA1 = diag @ p                                   # E A = Σ p_a M_aa
    EB1 = np.einsum("kab,a,b->k", off, p, p)         # E B = Σ_{a≠b} p_a p_b M_ab
    mean_b = 0.5 * (EA1 + EB1)
    EA2 = EA1 ** 2 + (diag ** 2) @ pq
    s = off @ p                                      # s[k, a] = Σ_b M_ab p_b
    EB2 = EB1 ** 2 + 2.0 * np.einsum("kab,a,b->k", off ** 2, p, p) + 4.0 * (s ** 2) @ p
    v2 = 0.25 * (np.sqrt(EA2) + np.sqrt(EB2)) ** 2
    var1 = (M1 ** 2) @ pq
    var_b = 2.0 * np.sqrt(var1 * v2) + v2
    mean_b = _up(mean_b * safety)
    var_b = _up(var_b * safety)
    w = np.asarray(bd.widths, dtype=float)
    D1 = M1.max(axis=1) if n else np.zeros(K)
    D2 = M2.reshape(K, -1).max(axis=1) if n else np.zeros(K)
    D1s = (M1 * w).max(axis=1) if n else np.zeros(K)
    D2s = (M2 * np.outer(w, w)).reshape(K, -1).max(axis=1) if n else np.zeros(K)
    paper = None
    layers = {l for l, _ in bd.xi}
    if len(layers) == 1 and n and np.all(p == p[0]):
        q, nl = p[0], w[0]
        paper = _up(2.0 * q * D2s / nl + q * q * D2s)
    return RemainderBound(mean_b, var_b, D1, D2, _up(D1s), _up(D2s), paper, bd)


def remainder_bound(net, x, p, *, semantics: str = "output_zero", force: bool = False) -> RemainderBound:
    r"""Rigorous bounds of ``|E Δ − T1 mean|`` and ``|Var Δ − T1 var|`` at one input.

    Parameters
    ----------
    net : Network
        Numeric weights, any graph; smooth on the crash box (see :func:`derivative_bounds`).
    x : array_like (n_0,)
        Floats (the binary values they hold) or exact numbers (``Fraction``,
        SymPy rationals), which are enclosed.
    p : mapping {site: probability} or NeuronCrash
        Floats (their binary values) or exact rationals (enclosed).

    Raises
    ------
    NotSmooth, TooLargeError
        From :func:`derivative_bounds`.

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> net = random_network([3, 5, 1], seed=2)
    >>> rb = remainder_bound(net, np.array([0.2, -0.4, 1.0]), {1: 0.01})
    >>> bool(0 < rb.mean_bound[0] < 1e-2), bool(rb.paper_mean_bound[0] >= rb.mean_bound[0])
    (True, True)
    """
    pb = _prob_bounds(_probabilities(net, p, semantics))
    return _remainder_box(net, x, pb, semantics, force)


def _remainder_box(net, x, pb, semantics, force) -> RemainderBound:
    """:func:`remainder_bound` at an input (floats, exact numbers or an Interval box) for probabilities
    given by their enclosures ``pb`` (:func:`_prob_bounds`)."""
    bd = derivative_bounds(net, x, list(pb), semantics=semantics, force=force)
    p_hi = np.array([pb[l][0].hi for l, _ in bd.xi])
    pq_hi = np.array([pb[l][1].hi for l, _ in bd.xi])
    return _remainder_from_bounds(bd, p_hi, pq_hi)


def remainder_formulas(p=None, n=None, D1=None, D2=None) -> dict:
    r"""The T1 remainder bounds as SymPy formulas in ``p``, ``n = n_l``, ``D_1``, ``D_2`` (P4 units).

    For crashes at one site of ``n`` neurons with probability ``p`` and
    ``sup |∂y/∂ξ_a| ≤ D_1/n``, ``sup |∂²y/∂ξ_a∂ξ_b| ≤ D_2/n²`` over the
    crash box (P4's scaling), the bounds of :func:`remainder_from_bounds`
    become closed forms:

    * ``mean``: ``½ D_2 (p/n + p² (1 − 1/n))`` — rigorous;
    * ``var``: ``2 sqrt(V_1 v_2) + v_2`` with ``V_1 = p(1 − p) D_1²/n`` and
      ``v_2 = ¼ (sqrt(E A²) + sqrt(E B²))²`` — rigorous;
    * ``mean_paper``: ``2 p D_2 / n + p² D_2`` (the proof's ``|E_1| + |E_2|``),
      which dominates ``mean``.

    With ``q = 1/n`` and ``r = p + q``: ``mean = O(D_2 r²)`` and
    ``var = O(D_1 D_2 r³)``, the orders of T1.

    Examples
    --------
    >>> f = remainder_formulas()
    >>> f["mean"]
    D_2*(p**2*(1 - 1/n) + p/n)/2
    >>> sp.simplify(f["mean_paper"] - f["mean"])     # ≥ 0: the paper's form is looser
    D_2*p*(n*p + p + 3)/(2*n)
    """
    p = sp.Symbol("p", positive=True) if p is None else sp.sympify(p)
    n = sp.Symbol("n", positive=True) if n is None else sp.sympify(n)
    D1 = sp.Symbol("D_1", nonnegative=True) if D1 is None else sp.sympify(D1)
    D2 = sp.Symbol("D_2", nonnegative=True) if D2 is None else sp.sympify(D2)
    m = D2 / n ** 2
    mean = D2 * (p / n + p ** 2 * (1 - 1 / n)) / 2
    EA2 = (p * n * m) ** 2 + p * (1 - p) * n * m ** 2
    EB1 = p ** 2 * n * (n - 1) * m
    EB2 = EB1 ** 2 + 2 * n * (n - 1) * p ** 2 * m ** 2 + 4 * n * p * ((n - 1) * p * m) ** 2
    v2 = (sp.sqrt(EA2) + sp.sqrt(EB2)) ** 2 / 4
    V1 = p * (1 - p) * D1 ** 2 / n
    return {"mean": mean, "var": 2 * sp.sqrt(V1 * v2) + v2, "mean_paper": 2 * p * D2 / n + p ** 2 * D2,
            "v2": v2, "V1": V1}


# ---------------------------------------------------------------------- numeric T1

def _prob_bounds(probs: dict) -> dict:
    """``{site: (P, PQ)}``: point-or-two-float Intervals around the exact ``p`` and ``p (1 − p)`` of each site
    (floats are their binary values; rationals and SymPy numbers are enclosed)."""
    out = {}
    for l, q in probs.items():
        if isinstance(q, sp.Basic) and q.free_symbols:
            raise FaultModelError(f"p[{l}] = {q} is symbolic; the numeric T1 needs numbers "
                                  "(use t1_symbolic / `symft derive`)")
        try:
            e = to_fraction(to_exact(q, f"p[{l}]"), f"p[{l}]")
        except (InvalidArgument, TypeError, ValueError):
            e = None
        if e is None:                       # an irrational SymPy number: one ulp either side of its float
            f = float(q)
            lo, hi = math.nextafter(f, -math.inf), math.nextafter(f, math.inf)
            pq = Interval(np.array(lo), np.array(hi)) * Interval(np.array(1.0 - hi), np.array(1.0 - lo))
            pq = Interval(np.maximum(pq.lo, 0.0), np.minimum(pq.hi, 0.25))
            out[l] = (Interval(np.array(max(lo, 0.0)), np.array(min(hi, 1.0))), pq)
            continue
        out[l] = (Interval(*map(np.array, float_enclosure(e))), Interval(*map(np.array, float_enclosure(e * (1 - e)))))
    return out


def _numeric_probs(probs: dict) -> dict:
    out = {}
    for l, q in probs.items():
        if isinstance(q, sp.Basic):
            if q.free_symbols:
                raise FaultModelError(f"p[{l}] = {q} is symbolic; the numeric T1 needs numbers "
                                      "(use t1_symbolic / `symft derive`)")
            q = float(q)
        out[l] = float(q)
    return out


@result
@dataclass(frozen=True, eq=False)
class T1Result:
    r"""Numeric T1 for a batch of inputs (theory §5, AP7 for several sites).

    Arrays have shape ``(n_out,)`` for one input and ``(B, n_out)`` for a batch.

    Attributes
    ----------
    mean : ndarray
        ``Σ_s p_s Σ_i g_s^i``.
    var : ndarray
        ``Σ_s p_s (1 − p_s) Σ_i (g_s^i)²`` (exact first order, E4).
    var_paper : ndarray
        ``Σ_s p_s Σ_i (g_s^i)²`` (T1 as printed).
    std : ndarray
        ``sqrt(var)``.
    gradients : dict {site key: ndarray}
        ``g_s[b, k, i] = ∂y^k/∂ξ_s^i`` at 0 (shape ``(B, n_out, n_s)``; neurons row-major).
    remainder_mean, remainder_var : ndarray or None
        Rigorous bounds of ``|E Δ − mean|`` and ``|Var Δ − var|`` for the
        float64 values ``mean`` and ``var`` returned here: the Taylor
        remainder (:func:`remainder_bound`) plus ``rounding_mean`` /
        ``rounding_var``.  ``None`` when not available.
    remainder_note : str or None
        Why the remainder is missing.
    quantity : {"output", "loss"}
        What the moments are of: the output error (one entry per output) or the loss change
        (:func:`t1_loss`, one entry).
    p : tuple of (site key, p)
    D1, D2 : ndarray or None
        Derivative bounds per input and output (when the remainder is available).
    rounding_mean, rounding_var : ndarray or None
        Proved bounds of the float64 error of ``mean`` and ``var`` (their
        distance to the exact first-order moments, enclosed by an
        outward-rounded interval pass, :func:`gradient_enclosure`);
        computed with the remainder.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> r = t1(mean_network(2), np.ones(2), {0: 0.5})
    >>> r.as_dict()["var_paper"]
    [0.25]
    """

    mean: np.ndarray
    var: np.ndarray
    var_paper: np.ndarray
    std: np.ndarray
    gradients: dict
    remainder_mean: np.ndarray | None
    remainder_var: np.ndarray | None
    remainder_note: str | None
    p: tuple
    D1: np.ndarray | None = None
    D2: np.ndarray | None = None
    rounding_mean: np.ndarray | None = None
    rounding_var: np.ndarray | None = None
    quantity: str = "output"

    def as_dict(self) -> dict:
        """JSON-ready dict (lists per output; a batch gives lists of lists).

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> sorted(t1(mean_network(2), np.ones(2), {0: 0.1}).as_dict())  # doctest: +NORMALIZE_WHITESPACE
        ['D1', 'D2', 'mean', 'p', 'remainder_mean', 'remainder_note', 'remainder_var',
         'rounding_mean', 'rounding_var', 'std', 'var', 'var_paper']
        """
        def lst(a):
            return None if a is None else np.asarray(a, dtype=float).tolist()

        return {
            "mean": lst(self.mean), "var": lst(self.var), "var_paper": lst(self.var_paper),
            "std": lst(self.std), "remainder_mean": lst(self.remainder_mean),
            "remainder_var": lst(self.remainder_var), "remainder_note": self.remainder_note,
            "D1": lst(self.D1), "D2": lst(self.D2),
            "rounding_mean": lst(self.rounding_mean), "rounding_var": lst(self.rounding_var),
            "p": {str(l): q for l, q in self.p},
        }

    def latex(self) -> str:
        r"""LaTeX table-like block of the moments (first input of a batch).

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> "Var" in t1(mean_network(2), np.ones(2), {0: 0.1}).latex()
        True
        """
        m = np.atleast_2d(self.mean)[0]
        v = np.atleast_2d(self.var)[0]
        vp = np.atleast_2d(self.var_paper)[0]
        rows = []
        for k in range(m.size):
            def pm(c, rad):            # a proved radius: printed so that the interval stays covered
                return f"{c:.6g}" if rad is None else plus_minus(c, np.atleast_2d(rad)[0][k], 6).replace("±", r"\pm")
            rows.append((rf"\mathbb{{E}}\,\Delta_{{{k}}}", pm(m[k], self.remainder_mean)))
            rows.append((rf"\operatorname{{Var}}\Delta_{{{k}}}", rf"{pm(v[k], self.remainder_var)}\ \text{{(exact 1st order)}}"))
            rows.append((rf"\operatorname{{Var}}_{{\text{{paper}}}}\Delta_{{{k}}}", f"{vp[k]:.6g}"))
        return _latex_block(rows)

    def _repr_latex_(self) -> str:
        return f"$\\displaystyle {self.latex()}$"

    def __str__(self) -> str:
        batch = np.ndim(self.mean) == 2
        M = np.atleast_2d(self.mean)
        lines = [f"T1 (first order), crash probabilities {dict(self.p)}"]
        for b in range(M.shape[0]):
            if batch:
                lines.append(f"input {b}")
            for k in range(M.shape[1]):
                def at(a):
                    return None if a is None else np.atleast_2d(a)[b][k]
                rm, rv = at(self.remainder_mean), at(self.remainder_var)
                what = "loss" if self.quantity == "loss" else f"output {k}"
                lines.append(f"  {what}: E Δ = " + (f"{at(self.mean):.8g}" if rm is None else plus_minus(at(self.mean), rm))
                             + "   Var Δ = " + (f"{at(self.var):.8g}" if rv is None else plus_minus(at(self.var), rv))
                             + f"   (paper form p Σ g² = {at(self.var_paper):.8g})   std = {at(self.std):.6g}")
        if self.remainder_note:
            lines.append(f"remainder: {self.remainder_note}")
        return "\n".join(lines)


def t1(net, X, p, *, semantics: str = "output_zero", remainder="auto", force: bool = False) -> T1Result:
    r"""Numeric T1 through one reverse sweep, for a batch and crashes at any set of sites, on any graph.

    ``g_s[b, k, i] = ∂y^k/∂ξ_s^i = (c_s^i − y_s^i) · ∂y^k/∂y_s^i`` with
    ``y_s`` the clean value of site ``s``, ``c = 0`` (or what a neuron with
    its incoming synapses cut sends, ``φ(b)``, under ``"incoming_zeroed"``)
    and ``∂y/∂y_s`` from one reverse walk over the nodes downstream of the
    crash sites (:class:`symft.walk.backward.Backward`, as in
    :func:`symft.engines.forward.jacobians`); the moments are
    summed over the sites (AP7).  Cost: one clean forward pass and one
    reverse sweep — for a scalar output about two forward passes, whatever
    the number of neurons (the exact single-crash sum b4 needs ``n_s``
    passes); see ``benchmarks/bench_taylor.py``.

    The float64 passes can lose everything to cancellation
    (``1e12 + 1e-5 − 1e12 = 0``), so the rigorous bounds ``remainder_mean``
    and ``remainder_var`` are on the distance from the returned floats to
    the true moments: the Taylor remainder (:func:`remainder_bound`) plus
    the proved rounding error (``rounding_mean``, ``rounding_var``), found
    by enclosing the exact first-order moments with an outward-rounded
    interval pass (:func:`gradient_enclosure`).  That pass costs a few float
    passes and runs only with the remainder, whose derivative bounds cost
    far more; ``remainder=False`` is unchanged.

    Parameters
    ----------
    net : Network
        Numeric weights; any graph.
    X : array_like (n_0,) or (B, n_0)
        Floats (the binary values they hold) or exact numbers (``Fraction``,
        SymPy rationals, ``"1/3"``): T1 runs at their floats, the rigorous
        bounds hold at the exact values.
    p : mapping {site: probability} or NeuronCrash
        Sites by name or number (layer ``l`` of a chain); floats (their
        binary values) or exact rationals, likewise.
    semantics : {"output_zero", "incoming_zeroed"}
    remainder : {"auto", True, False}
        Compute the rigorous remainder bounds (:func:`remainder_bound`):
        ``"auto"`` when possible (smooth on the crash box, small enough),
        ``True`` always (errors propagate), ``False`` never.
    force : bool
        Passed to the remainder's size guard.

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> net = random_network([3, 4, 2], seed=0)
    >>> r = t1(net, np.zeros((5, 3)) + 0.5, {0: 0.01, 1: 0.02})
    >>> r.mean.shape, r.remainder_mean.shape
    ((5, 2), (5, 2))
    >>> from symft.graph.network import Network       # g = 1e12 + 2e-5 − 1e12: float64 gives E Δ = 0, truly 2e-6
    >>> net = Network.from_numpy([[[1e6], [1e-5], [-1e6]], [[-1e6, -2.0, -1e6]]], [[1e3, 1e3, 1.001e6], [0.0]],
    ...                          activations=["relu", "linear"])
    >>> r = t1(net, [1.0], {0: 0.1})
    >>> float(r.mean[0]), bool(r.remainder_mean[0] >= 2e-6)
    (0.0, True)
    """
    if semantics not in SEMANTICS:
        raise FaultModelError(f"semantics: expected one of {', '.join(map(repr, SEMANTICS))}, got {semantics!r}")
    if remainder not in ("auto", True, False):
        raise InvalidArgument(f"remainder: expected 'auto', True or False, got {remainder!r}")
    raw = _probabilities(net, p, semantics)
    probs = _numeric_probs(raw)
    pb = make_problem(net, X, where="input")
    trace = pb.clean
    names = {k: net.site(k) for k in probs}
    B, K = pb.B, net.n_outputs
    seed = np.broadcast_to(np.eye(K), (B, K, K)).reshape((B, K) + tuple(net.output_shape))
    J = walk_reverse(net, Backward(), trace.values, seed, list(names.values()))
    mean = np.zeros((B, K))
    var = np.zeros((B, K))
    var_paper = np.zeros((B, K))
    grads = {}
    for l, q in probs.items():
        s = names[l]
        y = trace.site(s)                                         # (B, n_s)
        d = -y if semantics == "output_zero" else crash_values_float(net, s, semantics)[None, :] - y
        Js = J[s]
        g = np.zeros((B, K, d.shape[1])) if Js is None else Js.reshape(B, K, -1) * d[:, None, :]
        grads[l] = g
        s1 = g.sum(axis=2)
        s2 = (g * g).sum(axis=2)
        mean += q * s1
        var += q * (1.0 - q) * s2
        var_paper += q * s2
    rm = rv = D1 = D2 = em = ev = None
    note = None
    if remainder:
        try:
            check_jet_cost(net, tuple(names.values()), force)     # refused before the bounds are prepared
            pbs = _prob_bounds(raw)
            box = _problem_box(pb)
            rbs = [_remainder_box(net, box[b:b + 1], pbs, semantics, force) for b in range(B)]
            em, ev = _rounding_bounds(net, box, pbs, semantics, mean, var)
            rm = _up(np.array([r.mean_bound for r in rbs]) + em)
            rv = _up(np.array([r.var_bound for r in rbs]) + ev)
            D1 = np.array([r.D1 for r in rbs])
            D2 = np.array([r.D2 for r in rbs])
            if not (np.all(np.isfinite(rm)) and np.all(np.isfinite(rv))):
                raise NotSmooth("the float64 passes overflow (an infinite or undefined bound)")
        except (NotSmooth, TooLargeError) as e:
            if remainder is True:
                raise
            note = str(e)
            rm = rv = D1 = D2 = em = ev = None
    if pb.single:
        mean, var, var_paper = mean[0], var[0], var_paper[0]
        grads = {l: g[0] for l, g in grads.items()}
        rm, rv, D1, D2, em, ev = (None if a is None else a[0] for a in (rm, rv, D1, D2, em, ev))
    return T1Result(mean, var, var_paper, np.sqrt(var), grads, rm, rv, note, tuple(probs.items()), D1, D2, em, ev)


def _problem_box(pb) -> Interval:
    """A problem's inputs as an interval box ``(B, n_in)``: floats exactly, exact numbers enclosed."""
    if pb.exact_given is None:
        return Interval.point(pb.X)
    return enclose_numbers(np.array([list(r) for r in pb.exact_given], dtype=object))


def _rounding_bounds(net, box, pb, semantics, mean, var):
    """Proved bounds of ``|mean − Σ_s p_s Σ_i g_s^i|`` and ``|var − Σ_s p_s (1 − p_s) Σ_i (g_s^i)²|`` for the
    float64 ``mean``, ``var`` (B, n_out), the right-hand sides exact (real derivatives of the network at
    every input of ``box``, exact probabilities): both are enclosed by the interval pass of
    :func:`gradient_enclosure` and the distance to the enclosure is rounded up."""
    G = gradient_enclosure(net, box, list(pb), semantics=semantics)
    m_iv = v_iv = None
    for l, g in G.items():
        P, PQ = pb[l]
        t1m = isum(g) * P
        t1v = isum(isquare(g)) * PQ
        m_iv = t1m if m_iv is None else m_iv + t1m
        v_iv = t1v if v_iv is None else v_iv + t1v
    em = np.maximum(_up(mean - m_iv.lo), _up(m_iv.hi - mean))
    ev = np.maximum(_up(var - v_iv.lo), _up(v_iv.hi - var))
    return np.maximum(em, 0.0), np.maximum(ev, 0.0)


# ---------------------------------------------------------------------- derive (CLI)

@result
@dataclass(frozen=True)
class Derivation:
    r"""Everything ``symft derive`` prints: expansion, moments, T1, remainder.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> d = derive(mean_network(3), {0: sp.Symbol("p")}, x=[1, 1, 1], order=1)
    >>> d.t1.mean, d.expansion.exact
    ((-p,), True)
    """

    expansion: TaylorExpansion
    moments: Moments
    t1: SymbolicT1
    remainder: tuple | None
    remainder_note: str | None

    def latex(self) -> str:
        r"""LaTeX of the whole derivation.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> "xi" in derive(mean_network(2), {0: sp.Symbol("p")}, order=1).latex()
        True
        """
        parts = [self.expansion.latex(), self.moments.latex(), self.t1.latex()]
        if self.remainder is not None:
            parts.append(_latex_block([(rf"R_{{{self.expansion.order},{k}}}", sp.latex(r))
                                       for k, r in enumerate(self.remainder)]))
        return "\n".join(parts)

    def _repr_latex_(self) -> str:
        return "$\\displaystyle " + r" \\ ".join(self.latex().split("\n")) + "$"

    def __str__(self) -> str:
        e = self.expansion
        lines = [f"Taylor expansion of Δ(ξ) to order {e.order} in {len(e.xi)} crash indicators "
                 f"({'exact: Δ is a polynomial of this degree' if e.exact else 'plus the Lagrange remainder'}):",
                 str(e), "", f"moments of the order-{e.order} expansion (ξ ~ Bernoulli, E ξ^m = p):",
                 str(self.moments), "", "the first-order estimate (Theorem 1):", str(self.t1)]
        if self.remainder is not None:
            lines += ["", f"Lagrange remainder R_{e.order} (some θ in (0, 1)):"]
            lines += [f"R_{e.order}[{k}] = {r}" for k, r in enumerate(self.remainder)]
        elif self.remainder_note:
            lines += ["", f"remainder: {self.remainder_note}"]
        return "\n".join(lines)


def derive(net, p, *, x=None, order: int = 2, semantics: str = "output_zero", exact: bool | None = None,
           force: bool = False, max_time: float | None = None, progress_bar: bool | None = None) -> Derivation:
    r"""Symbolic expansion, its moments, T1 and the Lagrange remainder, for ``symft derive``.

    Refused up front (:class:`~symft.errors.TooLargeError`) when the predicted
    time (:func:`derive_estimate`) exceeds ``max_time`` seconds (default: the
    limit of :mod:`symft.cost`), unless ``force``; ``progress_bar`` as in
    :func:`taylor_expand`.  Where the prediction is wrong, the work stops at
    the limit (:class:`~symft.errors.TimeLimitReached`, checked between the
    derivatives, the products of the moments and the remainder's terms;
    ``force`` skips the prediction, not this).

    Examples
    --------
    >>> from symft.graph.network import Network
    >>> w = sp.Symbol("w", real=True)
    >>> net = Network.from_sympy([[[w, w]]], activations=["linear"])
    >>> print(derive(net, {0: sp.Symbol("p")}, x=[1, 1], order=1).t1)
    E Δ_0 = -2*p*w
    Var Δ_0 = 2*p*w**2*(1 - p)    (exact first order, E4)
    Var Δ_0 ≈ 2*p*w**2    (T1 as printed)
    """
    order = _check_order(order)
    probs = _probabilities(net, p)
    deadline = _deadline(net, crash_layers_of(net, list(probs)), order, max_time, x is None)
    exp = taylor_expand(net, x, list(probs), order=order, semantics=semantics, exact=exact, force=force,
                        max_time=max_time, progress_bar=progress_bar, deadline=deadline)
    mo = bernoulli_moments(exp, probs, net=net, deadline=deadline)
    deadline.check("computing the first-order estimate (T1)")
    grad = exp.gradient()
    mean, var, var_paper = _t1_from_gradient(grad, exp.xi, probs)
    exact1 = all(_is_polynomial_of_degree(y, exp.xi_symbols, 1) for y in exp.evaluation.outputs)
    t = SymbolicT1(mean, var, var_paper, grad, None, None, exact1, tuple(probs.items()), exp.xi)
    rem = note = None
    if exp.exact:
        rem = tuple(sp.Integer(0) for _ in exp.coefficients)
    else:
        try:
            deadline.check("computing the Lagrange remainder")
            rem = exp.lagrange_remainder(max_terms=30, deadline=deadline)
        except TimeLimitReached:
            raise
        except TooLargeError as e:
            note = str(e)
    for what, values in (("the expansion", exp.polynomials()), ("E Δ", mo.mean), ("Var Δ", mo.var),
                         ("T1", t.mean + t.var), ("the remainder", rem or ())):
        _check_float_range(values, what)
    return Derivation(exp, mo, t, rem, note)


#: Binary exponents of the float64 range (normal and subnormal numbers).
_EXP_MAX, _EXP_MIN = 1024, -1074


def _check_float_range(values, what: str) -> None:
    """Refuse decimal numbers (SymPy Floats, from float weights or inputs) beyond the float64 range.

    SymPy's floats have an unbounded exponent: ``sigmoid(-1e300)`` is a number near ``2^(-1e300)`` that
    no float64 holds and that SymPy cannot print; such a result is refused in one line
    (:class:`~symft.errors.FloatOverflowError`) instead of being carried on.

    Examples
    --------
    >>> _check_float_range([sp.Float(2.5) * sp.Symbol("p")], "E Δ")
    >>> _check_float_range([sp.exp(sp.Float(-1e300))], "E Δ")
    Traceback (most recent call last):
    ...
    symft.errors.FloatOverflowError: derive: E Δ holds a decimal number beyond the float64 range (2 to a power of ... digits); the float weights or inputs are too large for it — scale them down or give them as rationals
    """
    floats: set = set()
    for v in values:
        _walk_shared(sp.sympify(v), lambda a: a.is_Float and not floats.add(a))
    for f in floats:
        sign, man, e, bc = f._mpf_ if len(f._mpf_) == 4 else (0, 0, 0, 0)
        if man and not _EXP_MIN <= e + bc <= _EXP_MAX:
            size = (f"about 2^{e + bc}" if abs(e + bc) < 10 ** 6
                    else f"2 to a power of {len(str(abs(e + bc)))} digits")
            raise FloatOverflowError(f"derive: {what} holds a decimal number beyond the float64 range ({size}); "
                                     "the float weights or inputs are too large for it — scale them down or "
                                     "give them as rationals")


# ---------------------------------------------------------------------- T1 on a smooth loss

#: Losses T1 handles: smooth functions of the output (theory §5 with the loss as the last node).
SMOOTH_LOSSES = ("squared", "cross_entropy")


def _check_loss(loss):
    if loss == "zero_one":
        raise InvalidArgument("loss: the zero-one loss is a step in the outputs, not smooth, so T1 does not apply; "
                              "bound it with `symft exact --loss zero_one --order K` (a proved interval) or "
                              "estimate it with `symft sample --loss zero_one`")
    if loss not in SMOOTH_LOSSES:
        raise InvalidArgument(f"loss: T1 handles the smooth losses {', '.join(SMOOTH_LOSSES)}, got {loss!r}")


def _loss_gradient(loss, Y, targets):
    """``∂ω/∂y`` at the outputs ``Y`` (B, K), float64."""
    if loss == "squared":
        return 2.0 * (Y - np.array([[float(v) for v in t] for t in targets]))
    m = Y.max(axis=1, keepdims=True)
    e = np.exp(Y - m)
    s = e / e.sum(axis=1, keepdims=True)
    s[np.arange(Y.shape[0]), np.asarray(targets, dtype=int)] -= 1.0
    return s


def _exp_enclosure(z: Interval) -> Interval:
    """``exp`` over intervals: NumPy's ``exp`` (accurate to a few ulp) widened by a relative ``ETA``
    (about 256 ulp, the convention of the activation enclosures, :data:`symft.graph.activations.ETA`)."""
    with np.errstate(over="ignore"):
        lo, hi = np.exp(z.lo), np.exp(z.hi)
    return Interval(np.maximum(np.nextafter(lo * (1.0 - ETA), -np.inf), 0.0), np.nextafter(hi * (1.0 + ETA), np.inf))


def loss_gradient_enclosure(loss, V: Interval, T) -> Interval:
    """Enclosure of the loss gradient ``∂ω/∂y`` over every output in the box ``V`` (B, K).

    ``2 (y − t)`` for the squared loss (``T`` an :class:`~symft.walk.interval.Interval` of targets), or
    ``softmax(y) − e_t`` for cross-entropy (``T`` class indices), with ``softmax_k = 1 / Σ_m exp(y_m − y_k)``
    rounded outward.

    Examples
    --------
    >>> V = Interval(np.array([[0.0, 0.0]]), np.array([[0.0, 0.0]]))       # y = (0, 0): softmax = (1/2, 1/2)
    >>> g = loss_gradient_enclosure("cross_entropy", V, [0])
    >>> bool(g.lo[0, 0] <= -0.5 <= g.hi[0, 0]) and bool(g.lo[0, 1] <= 0.5 <= g.hi[0, 1])
    True
    """
    if loss == "squared":
        return (V - T) * 2.0
    B, K = V.shape
    d = Interval(V.lo[:, None, :], V.hi[:, None, :]) - Interval(V.lo[:, :, None], V.hi[:, :, None])   # [b, k, m]
    tot = isum(_exp_enclosure(d), axis=2)                                                             # ≥ 1
    with np.errstate(divide="ignore"):
        s = Interval(np.maximum(np.nextafter(1.0 / tot.hi, -np.inf), 0.0),
                     np.minimum(np.nextafter(1.0 / np.maximum(tot.lo, 1.0), np.inf), 1.0))
    onehot = np.zeros((B, K))
    onehot[np.arange(B), np.asarray(T, dtype=int)] = 1.0
    return s - Interval.point(onehot)


def _loss_derivative_bounds(net, box, layers, loss, T, semantics, force) -> DerivativeBounds:
    r"""Rigorous ``sup`` bounds of the first and second ξ-derivatives of ``ω(y(ξ), t)`` over the crash box.

    One interval-jet walk encloses ``y``, ``∂y/∂ξ`` and ``∂²y/∂ξ∂ξ`` over ``[0, 1]^n``; the chain rule
    ``∂ω/∂ξ_a = Σ_k ω_k g_ka``, ``∂²ω/∂ξ_a∂ξ_b = Σ_k ω_k h_kab + Σ_{k,m} ω_km g_ka g_mb`` is then bounded:

    * squared (``ω_k = 2 (y_k − t_k)``, ``ω_km = 2 δ_km``): in outward-rounded interval arithmetic;
    * cross-entropy (``ω_k = s_k − δ_kt``, ``ω_km = s_k δ_km − s_k s_m``, ``s = softmax y``, a probability
      vector whatever ``y``): ``Σ_k s_k v_k`` and ``v_t`` both lie in ``[min_k v_k, max_k v_k]``, so
      ``|Σ_k ω_k v_k| ≤ max_k v_k − min_k v_k``; and ``Σ_{k,m} ω_km u_k w_m`` is the covariance of ``u`` and
      ``w`` under ``s``, at most ``range(u) range(w) / 4`` (Cauchy–Schwarz and Popoviciu) — no range of
      ``y`` is needed.
    """
    check_jet_cost(net, [net.site(l) for l in layers], force)
    n = sum(net.site_size(l) for l in layers)
    xi = tuple((l, i) for l in layers for i in range(net.site_size(l)))
    widths = tuple(net.site_size(l) for l, _ in xi)
    K = net.n_outputs
    jet = walk(net, IntervalJets(net, layers, semantics=semantics), _shaped(net, box), keep=False)
    if jet.g is None or n == 0:
        return DerivativeBounds(np.zeros((1, n)), np.zeros((1, n, n)), xi, widths)
    G = jet.g.reshape(n, K)
    G = Interval(G.lo.T.copy(), G.hi.T.copy())                                          # (K, n)
    if jet.h is None:
        H = Interval.zeros((K, n, n))
    else:
        H = jet.h.reshape(n, n, K)
        H = Interval(np.moveaxis(H.lo, -1, 0).copy(), np.moveaxis(H.hi, -1, 0).copy())   # (K, n, n)
    if loss == "squared":
        V = jet.v.reshape(K)
        A = (V - T) * 2.0                                                               # ω_k over the box
        M1 = isum(Interval(A.lo[:, None], A.hi[:, None]) * G, axis=0).mag()
        first = isum(Interval(A.lo[:, None, None], A.hi[:, None, None]) * H, axis=0)
        GG = Interval(G.lo[:, :, None], G.hi[:, :, None]) * Interval(G.lo[:, None, :], G.hi[:, None, :])
        M2 = (first + isum(GG, axis=0) * 2.0).mag()
    else:
        rg = _up(G.hi.max(axis=0) - G.lo.min(axis=0))                                   # range over k, (n,)
        M1 = rg
        rh = _up(H.hi.max(axis=0) - H.lo.min(axis=0))
        M2 = _up(rh + _up(_up(rg[:, None] * rg[None, :]) * 0.25))
    M2 = np.maximum(M2, M2.T)
    return DerivativeBounds(M1[None, :], M2[None, :, :], xi, widths)


def t1_loss(net, X, p, loss: str, target, *, semantics: str = "output_zero", remainder="auto",
            force: bool = False) -> T1Result:
    r"""T1 on a smooth loss: the first-order moments of ``Δ_{L+1} = ω(ŷ, t) − ω(y, t)`` with rigorous remainders.

    The loss is the network's last node (theory §1, §5): ``ω(y(ξ), t)`` is smooth in the crash
    indicators ``ξ`` when ``y`` is, so T1 applies with the chain rule — the sensitivities are
    ``∂ω/∂ξ_i = Σ_k ∂ω/∂y_k · ∂y_k/∂ξ_i`` (the output sensitivities of :func:`t1` contracted with the
    loss's gradient at the clean output), the mean ``Σ_s p_s Σ_i ∂ω/∂ξ_s^i`` and the variance
    ``Σ_s p_s (1 − p_s) Σ_i (∂ω/∂ξ_s^i)²``.  The remainder is the same Lagrange bound as :func:`t1`'s
    with the derivative bounds of the composite (:func:`_loss_derivative_bounds`: the loss's first and
    second derivatives enter), plus the proved float64 rounding of the returned values.

    * ``"squared"``: ``ω = Σ_k (y_k − t_k)²`` (target: ``n_out`` numbers);
    * ``"cross_entropy"``: ``ω = −log softmax(y)_t`` (target: a class index).

    The zero-one loss is a step in the outputs: T1 refuses it (bound it with
    :func:`symft.analysis.accuracy.accuracy` or ``symft exact --loss zero_one --order K``).

    Parameters
    ----------
    net, X, p, semantics, remainder, force
        As for :func:`t1`.
    loss : {"squared", "cross_entropy"}
    target : int, array_like, or one per input for a batch

    Returns
    -------
    T1Result
        One "output" (the loss change): arrays of shape ``(1,)``, or ``(B, 1)`` for a batch.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> r = t1_loss(mean_network(2), np.ones(2), {0: 0.1}, "squared", [0.0])   # ω = y², y = 1, g = (−½, −½)
    >>> r.mean, r.var       # 0.1 · 2 · (−1),  0.09 · 2 · 1
    (array([-0.2]), array([0.18]))
    >>> bool(r.remainder_mean[0] >= 0.1 ** 2 * 0.5)   # E Δ_loss = −0.19: the second-order part is ≥ 0.01
    True
    >>> str(r).splitlines()[1].split(":")[0]             # the loss, not "output 0"
    '  loss'
    >>> t1_loss(mean_network(2), np.ones(2), {0: 0.1}, "zero_one", 0)
    Traceback (most recent call last):
    ...
    symft.errors.InvalidArgument: loss: the zero-one loss is a step in the outputs, not smooth, so T1 does not apply; bound it with `symft exact --loss zero_one --order K` (a proved interval) or estimate it with `symft sample --loss zero_one`
    """
    _check_loss(loss)
    pbm = make_problem(net, X, loss=loss, target=target, where="input")
    B, K = pbm.B, net.n_outputs
    targets = [pbm.target(b) for b in range(B)]
    r = t1(net, X, p, semantics=semantics, remainder=False)
    probs = dict(r.p)
    Y = np.asarray(pbm.clean.output, dtype=float).reshape(B, K)
    w = _loss_gradient(loss, Y, targets)                                   # (B, K)
    mean = np.zeros((B, 1))
    var = np.zeros((B, 1))
    var_paper = np.zeros((B, 1))
    grads = {}
    for l, q in probs.items():
        g = np.asarray(r.gradients[l], dtype=float).reshape(B, K, -1)
        gl = np.einsum("bk,bki->bi", w, g)[:, None, :]
        grads[l] = gl
        s1, s2 = gl.sum(axis=2), (gl * gl).sum(axis=2)
        mean += q * s1
        var += q * (1.0 - q) * s2
        var_paper += q * s2
    rm = rv = D1 = D2 = em = ev = None
    note = None
    if remainder:
        try:
            raw = _probabilities(net, p, semantics)
            layers = crash_layers_of(net, list(raw))
            check_jet_cost(net, [net.site(l) for l in layers], force)
            pbs = _prob_bounds(raw)
            box = _problem_box(pbm)
            if loss == "squared":
                T = enclose_numbers(np.array([list(t) for t in targets], dtype=object))
            else:
                T = np.asarray(targets, dtype=int)
            rbs = []
            for b in range(B):
                bd = _loss_derivative_bounds(net, box[b:b + 1], layers, loss, T[b] if loss == "squared" else None,
                                             semantics, force)
                p_hi = np.array([pbs[l][0].hi for l, _ in bd.xi])
                pq_hi = np.array([pbs[l][1].hi for l, _ in bd.xi])
                rbs.append(_remainder_from_bounds(bd, p_hi, pq_hi))
            em, ev = _loss_rounding_bounds(net, box, pbs, semantics, loss, T, mean, var)
            rm = _up(np.array([rb.mean_bound for rb in rbs]) + em)
            rv = _up(np.array([rb.var_bound for rb in rbs]) + ev)
            D1 = np.array([rb.D1 for rb in rbs])
            D2 = np.array([rb.D2 for rb in rbs])
            if not (np.all(np.isfinite(rm)) and np.all(np.isfinite(rv))):
                raise NotSmooth("the float64 passes overflow (an infinite or undefined bound)")
        except (NotSmooth, TooLargeError) as e:
            if remainder is True:
                raise
            note = str(e)
            rm = rv = D1 = D2 = em = ev = None
    if pbm.single:
        mean, var, var_paper = mean[0], var[0], var_paper[0]
        grads = {l: g[0] for l, g in grads.items()}
        rm, rv, D1, D2, em, ev = (None if a is None else a[0] for a in (rm, rv, D1, D2, em, ev))
    return T1Result(mean, var, var_paper, np.sqrt(var), grads, rm, rv, note, r.p, D1, D2, em, ev, quantity="loss")


def _loss_rounding_bounds(net, box, pb, semantics, loss, T, mean, var):
    """:func:`_rounding_bounds` for the loss: the exact first-order moments enclosed with the output
    sensitivities of :func:`gradient_enclosure` contracted with an enclosure of ``∂ω/∂y`` at the clean
    output (itself enclosed by an outward-rounded forward pass)."""
    G = gradient_enclosure(net, box, list(pb), semantics=semantics)
    Bn = box.shape[0]
    V = walk(net, IntervalInterp(net), _shaped(net, box), keep=False).reshape(Bn, net.n_outputs)
    W = loss_gradient_enclosure(loss, V, T)                                     # (B, K)
    m_iv = v_iv = None
    for l, g in G.items():
        P, PQ = pb[l]
        gl = isum(Interval(W.lo[:, :, None], W.hi[:, :, None]) * g, axis=1)       # (B, n_s)
        t1m = isum(gl)[:, None] * P
        t1v = isum(isquare(gl))[:, None] * PQ
        m_iv = t1m if m_iv is None else m_iv + t1m
        v_iv = t1v if v_iv is None else v_iv + t1v
    em = np.maximum(_up(mean - m_iv.lo), _up(m_iv.hi - mean))
    ev = np.maximum(_up(var - v_iv.lo), _up(v_iv.hi - var))
    return np.maximum(em, 0.0), np.maximum(ev, 0.0)
