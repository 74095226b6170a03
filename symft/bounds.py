r"""The papers' bounds on the crash error, one function each, with their assumptions (THEORY §3, §5, §7).

Every function takes the network first and returns a frozen :class:`Bound`
saying *what* it bounds (``quantity``), the value (one entry per output, or
one entry for a norm), whether it is a proved upper bound under its stated
assumptions (``rigorous``) or an estimate, and the assumptions.

* :func:`b1` — AP1 (1-, 2-, ∞-norm) and P2 (spectral): bounds ``E‖Δ_L‖``;
* :func:`ac1` — AC1, the [SRDS] bound for input crashes: bounds ``E‖Δ_L‖_∞``;
* :func:`b2` — AP2, componentwise: bounds ``E|Δ_L^k|``;
* :func:`ap10` — the AP10 variance recursion *as printed*: ``E (Δ_L^k)²`` (not proved);
* :func:`b3` — T1 via :mod:`symft.taylor`: estimates ``E Δ`` and ``Var Δ``;
* :func:`b4` — the single-crash term via :mod:`symft.exact`: estimates ``E Δ``;
* :func:`fep_expected` — the [SRDS] expected Fep via :mod:`symft.fep`: bounds ``E‖Δ_L‖_∞``.

**The general recursion behind b1, AC1 and b2.**  Let ``e_l = ŷ_l − y_l`` be
the error at layer ``l`` for one crash configuration, ``ξ_l`` the crash
indicators and ``d_l^i = |c_l^i − y_l^i|`` the deviation of a crashed neuron
(``c = 0``, or ``φ_l(b_l^i)`` under ``"incoming_zeroed"``).  A surviving
neuron satisfies ``|e_l^i| ≤ K_l |(W_l e_{l−1})_i|`` (``K_l`` the Lipschitz
constant of ``φ_l``) and a crashed one ``|e_l^i| = d_l^i``, so, with disjoint
supports, for any monotone norm

``‖e_l‖ ≤ K_l ‖W_l‖ ‖e_{l−1}‖ + ‖ξ_l ⊙ d_l‖``  and, componentwise,
``|e_l| ≤ K_l |W_l| |e_{l−1}| + ξ_l ⊙ d_l``.

Taking expectations (linearity only — no independence between layers is
needed) gives the bounds; AP1, AC1 and AP2 are the special case of input
crashes with 1-Lipschitz φ.

**Floating point.**  The bounds are sums and products of non-negative
float64 numbers (norms, ``|W|``, deviations ``d``), at most
``ops = Σ_l n_l n_{l−1} + 10 L + 20`` operations deep; each final value is
multiplied by ``1 + 8·ops·2^-53 + 2^-40`` and rounded up (:func:`outward`):
the first term covers the rounding of the sums and products (Higham's
``γ_n`` for non-negative sums), the second the relative error of NumPy's
activation functions and of the LAPACK spectral norm (assumed ≤ 2^-40,
i.e. ~8000 ulp; backward-stable SVD gives a few ulp times ``n``).

Examples
--------
>>> from symft.network import mean_network
>>> from symft.faults import NeuronCrash
>>> b = b1(mean_network(4), [1, 1, 1, 1], NeuronCrash({0: 0.1}), norm=1)
>>> b.quantity, b.value                # ‖W‖₁ = 1/4, E‖ξ⊙x‖₁ = p·4
('E‖Δ‖_1', (0.1,))
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy as sp

from .errors import FaultModelError, InvalidArgument
from .faults import NeuronCrash
from .forward import as_inputs, forward_trace

__all__ = ["Bound", "outward", "lipschitz_constants", "lipschitz_product", "crash_deviations", "b1", "ac1", "b2",
           "ap10", "b3", "b4", "fep_expected", "all_bounds", "NORMS"]

NORMS = (1, 2, "inf")


@dataclass(frozen=True)
class Bound:
    r"""The value of one bound (or estimate) of the papers, with what it bounds and under what.

    Attributes
    ----------
    name : str
        Short name (``"b1_inf"``, ``"AC1"``, ``"b2"``, …).
    statement : str
        The numbered statement it implements (THEORY.md).
    quantity : str
        What the value bounds or estimates, e.g. ``"E‖Δ‖_inf"``, ``"E|Δ_k|"``, ``"E Δ_k"``.
    value : tuple of float
        One entry per output for per-output quantities, one entry for norms.
    rigorous : bool
        True for a proved upper bound under ``assumptions``; False for an
        estimate (T1, b4) or a formula as printed that symft has not proved.
    assumptions : tuple of str
    note : str

    Examples
    --------
    >>> Bound("x", "AP1", "E‖Δ‖_1", (1.0,), True).per_output
    False
    """

    name: str
    statement: str
    quantity: str
    value: tuple
    rigorous: bool
    assumptions: tuple = ()
    note: str = ""

    @property
    def per_output(self) -> bool:
        """Whether ``value`` has one entry per output (else one entry for a norm).

        Examples
        --------
        >>> Bound("b2", "AP2", "E|Δ_k|", (1.0, 2.0), True).per_output
        True
        """
        return "_k" in self.quantity

    def as_dict(self) -> dict:
        """JSON-ready dictionary.

        Examples
        --------
        >>> Bound("b2", "AP2", "E|Δ_k|", (1.0,), True).as_dict()["rigorous"]
        True
        """
        return {"name": self.name, "statement": self.statement, "quantity": self.quantity,
                "value": [float(v) for v in self.value], "rigorous": self.rigorous,
                "assumptions": list(self.assumptions), "note": self.note}


# ---------------------------------------------------------------------- helpers

def _model(net, model) -> NeuronCrash:
    if not isinstance(model, NeuronCrash):
        raise FaultModelError(f"model: expected a NeuronCrash, got {type(model).__name__}")
    model.check(net)
    for l, q in model.p:
        if isinstance(q, sp.Basic) and q.free_symbols:
            raise FaultModelError(f"p[{l}] = {q} is symbolic; the bounds need numbers")
    return model


def _x1(net, x):
    X, single = as_inputs(net, np.asarray([float(v) for v in np.asarray(x, dtype=object).ravel()], dtype=float))
    return X


def lipschitz_constants(net) -> list[float]:
    r"""``K_l`` for ``l = 1 … L`` (float; ``inf`` for a discontinuous activation).

    Raises
    ------
    InvalidArgument
        When an activation has no known Lipschitz constant.

    Examples
    --------
    >>> from symft.network import random_network
    >>> lipschitz_constants(random_network([2, 3, 1], seed=0, activation="sigmoid"))
    [0.25, 1.0]
    """
    out = []
    for l in range(1, net.depth + 1):
        K = net.activation(l).lipschitz
        if K is None:
            raise InvalidArgument(f"layer {l}: activation {net.activation(l).name!r} has no known Lipschitz constant")
        out.append(math.inf if K == sp.oo else float(K))
    return out


def _opnorm(W, norm):
    if norm == 1:
        return float(np.abs(W).sum(axis=0).max())
    if norm == 2:
        return float(np.linalg.norm(W, 2))
    if norm == "inf":
        return float(np.abs(W).sum(axis=1).max())
    raise InvalidArgument(f"norm: expected one of 1, 2, 'inf', got {norm!r}")


def lipschitz_product(net, norm=2) -> float:
    r"""P2: ``Π_l K_l ‖W_l‖`` — a Lipschitz constant of ``x ↦ y_L(x)`` in the given norm.

    With the spectral norm this is P2: ``‖y_L(x_2) − y_L(x_1)‖_2 ≤ ‖x_2 − x_1‖_2 Π_l ‖W_l‖_2``
    (for 1-Lipschitz φ).

    Examples
    --------
    >>> from symft.network import mean_network
    >>> lipschitz_product(mean_network(4), 2)        # ‖(1/4, …, 1/4)‖₂ = 1/2
    0.5
    """
    if norm not in NORMS:
        raise InvalidArgument(f"norm: expected one of 1, 2, 'inf', got {norm!r}")
    K = lipschitz_constants(net)
    out = 1.0
    for l in range(1, net.depth + 1):
        out *= K[l - 1] * _opnorm(net.weights(l), norm)
    return out


def crash_deviations(net, x, model) -> dict:
    r"""``d_l = |c_l − y_l|`` for each crashed layer (what a crash changes at that neuron).

    Examples
    --------
    >>> from symft.network import first_input_network
    >>> crash_deviations(first_input_network(2), [3, -1], NeuronCrash({0: 0.1}))[0]
    array([3., 1.])
    """
    model = _model(net, model)
    X = _x1(net, x)
    tr = forward_trace(net, X)
    out = {}
    for l in model.layers:
        y = tr.ys[l][0]
        if model.semantics == "incoming_zeroed" and l > 0:
            c = net.activation(l)(net.bias(l))
        else:
            c = 0.0
        out[l] = np.abs(c - y)
    return out


def outward(v: float, net) -> float:
    r"""Round a float bound up by the margin of the module docstring (``1 + 8·ops·2^-53 + 2^-40``).

    Examples
    --------
    >>> from symft.network import mean_network
    >>> outward(1.0, mean_network(4)) > 1.0
    True
    """
    ops = sum(net.widths[l] * net.widths[l - 1] for l in range(1, net.depth + 1)) + 10 * net.depth + 20
    return float(np.nextafter(float(v) * (1.0 + 8.0 * ops * 2.0 ** -53 + 2.0 ** -40), np.inf))


def _expected_masked_norm(d, p, norm):
    """E‖ξ ⊙ d‖ for ξ_i iid Be(p): exact for 1 and ∞, Jensen upper bound for 2."""
    if p == 0 or d.size == 0:
        return 0.0
    if norm == 1:
        return p * float(d.sum())
    if norm == 2:
        return math.sqrt(p * float((d * d).sum()))
    s = np.sort(d)[::-1]
    w = p * (1 - p) ** np.arange(s.size)   # P(the j-th largest is the largest crashed)
    return float((s * w).sum())


# ---------------------------------------------------------------------- b1 / P2 / AP1

def b1(net, x, model, norm="inf") -> Bound:
    r"""Bound b1 (AP1; P2 with ``norm=2``): ``E‖Δ_L‖ ≤`` the norm recursion of the module docstring.

    ``E‖e_l‖ ≤ K_l ‖W_l‖ E‖e_{l−1}‖ + E‖ξ_l ⊙ d_l‖``, ``e_0 = −ξ_0 ⊙ x``.
    For input crashes only and 1-Lipschitz φ this is exactly AP1,
    ``E‖Δ_L‖ ≤ ‖W_L‖ ··· ‖W_1‖ E‖ξ ⊙ x − x‖`` (with ``ξ`` the crash indicators).
    ``E‖ξ ⊙ d‖`` is exact for the 1- and ∞-norms and bounded by Jensen,
    ``sqrt(p Σ d_i²)``, for the 2-norm.  (Example: ``E max_i ξ_i |x_i|`` at
    ``x = (2, 5, 7)``, ``p = 0.1`` is ``0.1·7 + 0.09·5 + 0.081·2 = 1.312``.)

    Assumptions: independent Bernoulli crashes; operator norms induced by
    the vector norm; Lipschitz activations (global constants ``K_l``).

    Examples
    --------
    >>> from symft.network import first_input_network
    >>> round(b1(first_input_network(3), [2, 5, 7], NeuronCrash({0: 0.1}), norm="inf").value[0], 12)
    1.312
    """
    model = _model(net, model)
    if norm not in NORMS:
        raise InvalidArgument(f"norm: expected one of 1, 2, 'inf', got {norm!r}")
    K = lipschitz_constants(net)
    dev = crash_deviations(net, x, model)
    e = _expected_masked_norm(dev.get(0, np.zeros(0)), float(model.probability(0)), norm)
    for l in range(1, net.depth + 1):
        prop = K[l - 1] * _opnorm(net.weights(l), norm) * e if e > 0 else 0.0
        e = prop + _expected_masked_norm(dev.get(l, np.zeros(0)), float(model.probability(l)), norm)
    name = {1: "b1_1", 2: "b1_2", "inf": "b1_inf"}[norm]
    stmt = "P2 / AP1" if norm == 2 else "AP1"
    return Bound(name, stmt, f"E‖Δ‖_{norm}", (outward(e, net),), True,
                 ("independent Bernoulli crashes", "Lipschitz activations (global K_l)",
                  "float64 rounding covered by outward()"))


def ac1(net, x, model) -> Bound:
    r"""AC1, the [SRDS] bound: ``E‖Δ_L‖_∞ ≤ p N_0 ‖x‖_∞ Π_l K_l ‖W_l‖_∞`` for input crashes.

    The paper writes ``+ O(p²)``; in fact it is a bound outright:
    ``E max_i ξ_i |x_i| ≤ E Σ ξ_i |x_i| ≤ p N_0 ‖x‖_∞`` and the rest is
    Lipschitz propagation (see :func:`b1`, which is never larger).

    Assumptions: crashes at the input layer only, independent, with
    probability p; Lipschitz activations.

    Examples
    --------
    >>> from symft.network import mean_network
    >>> ac1(mean_network(4), [1, 1, 1, 1], NeuronCrash({0: 0.1})).value      # 0.1·4·1·1
    (0.4,)
    """
    model = _model(net, model)
    if model.layers not in ((0,), ()):
        raise FaultModelError(f"model: AC1 is for input crashes only (layer 0), got layers {model.layers}")
    p = float(model.probability(0))
    X = _x1(net, x)[0]
    v = p * net.n_inputs * float(np.abs(X).max()) * lipschitz_product(net, "inf")
    return Bound("AC1", "AC1 [SRDS]", "E‖Δ‖_inf", (outward(v, net),), True,
                 ("input crashes only", "Lipschitz activations (global K_l)",
                  "float64 rounding covered by outward()"))


def b2(net, x, model) -> Bound:
    r"""Bound b2 (AP2), componentwise: ``E|Δ_L| ≤ K_L|W_L| (… (K_1|W_1| p_0|x| + p_1 d_1) …) + p_L d_L``.

    For input crashes and 1-Lipschitz φ this is AP2, ``E|Δ_L| ≤ p |W_L| ··· |W_1| |x|``
    (``|W|`` entrywise).  A K-Lipschitz φ is handled by the factors ``K_l``
    (equivalently, by :func:`symft.network.rescale_lipschitz`).

    Examples
    --------
    >>> from symft.network import first_input_network
    >>> b2(first_input_network(3), [2, 5, 7], NeuronCrash({0: 0.1})).value     # exact: E|Δ| = p·2
    (0.2,)
    """
    model = _model(net, model)
    K = lipschitz_constants(net)
    dev = crash_deviations(net, x, model)
    e = float(model.probability(0)) * dev[0] if 0 in dev else np.zeros(net.n_inputs)
    for l in range(1, net.depth + 1):
        e = K[l - 1] * (np.abs(net.weights(l)) @ e) if e.any() else np.zeros(net.widths[l])
        if l in dev:
            e = e + float(model.probability(l)) * dev[l]
    return Bound("b2", "AP2", "E|Δ_k|", tuple(outward(v, net) for v in e), True,
                 ("independent Bernoulli crashes", "Lipschitz activations (global K_l)",
                  "float64 rounding covered by outward()"))


# ---------------------------------------------------------------------- AP10

def ap10(net, x, model) -> Bound:
    r"""The AP10 variance recursion **as printed** (supplement §8): ``E Δ_l² ≤ a_l + b_l E Δ_{l−1}²``.

    ``a_l = C_l² p_l (α_l + p_l β_l) + 2 K C_l p_l (1 − p_l) β_l E Δ_{l−1}``,
    ``b_l = K² (1 − p_l)(α_l + (1 − p_l) β_l)``, ``C_l = max_i |y_l^i|``,
    ``α_l = max (w, w')`` and ``β_l = max (‖w‖_1 ‖w'‖_1 − (w, w'))`` over
    pairs of rows of ``W_{l+1}`` (the weights reading layer ``l``).

    symft's reading (the printed indices are ambiguous): the recursion runs
    over ``l = 0 … L−1``; ``E Δ_{l}`` (a first moment the statement does
    not define) is replaced by ``sqrt(E Δ_l²)`` (Cauchy–Schwarz, which can
    only increase the bound); ``K`` is the largest Lipschitz constant of the
    network; the value after the last step bounds ``E (Δ_L^k)²`` for every
    output ``k`` (hence ``Var Δ_L^k``).  It is **not** labelled rigorous:
    symft has not proved this reading, and ``tests/test_bounds.py`` only
    checks it against exact values on small networks.

    Examples
    --------
    >>> from symft.network import mean_network
    >>> ap10(mean_network(4), [1, 1, 1, 1], NeuronCrash({0: 0.1})).quantity
    'E Δ_k²'
    """
    model = _model(net, model)
    K = max(lipschitz_constants(net))
    X = _x1(net, x)
    tr = forward_trace(net, X)
    E2 = 0.0
    for l in range(0, net.depth):
        p = float(model.probability(l))
        W = net.weights(l + 1)
        G = W @ W.T
        a1 = np.abs(W).sum(axis=1)
        alpha = float(G.max())
        beta = float((np.outer(a1, a1) - G).max())
        C = float(np.abs(tr.ys[l][0]).max()) if net.widths[l] else 0.0
        E1 = math.sqrt(E2)
        a = C * C * p * (alpha + p * beta) + 2 * K * C * p * (1 - p) * beta * E1
        b = K * K * (1 - p) * (alpha + (1 - p) * beta)
        E2 = a + b * E2
    return Bound("AP10", "AP10", "E Δ_k²", tuple(E2 for _ in range(net.n_outputs)), False,
                 ("as printed; indices read as documented", "not proved by symft"))


# ---------------------------------------------------------------------- b3, b4, Fep (other modules)

def b3(net, x, model, *, remainder: bool = False) -> list[Bound]:
    r"""b3: T1's first-order ``E Δ`` and ``Var Δ`` (and the paper's ``p Σ g²``) via :func:`symft.taylor.t1`.

    Estimates, not bounds (T1 drops a remainder); with ``remainder=True``
    the rigorous remainder bounds are attached in ``note``.

    Examples
    --------
    >>> from symft.network import mean_network
    >>> [b.name for b in b3(mean_network(2), [1, 1], NeuronCrash({0: 0.1}))]
    ['T1_mean', 'T1_var', 'T1_var_paper']
    """
    from . import taylor

    model = _model(net, model)
    X = _x1(net, x)[0]
    r = taylor.t1(net, X, {l: float(q) for l, q in model.p}, semantics=model.semantics,
                  remainder="auto" if remainder else False)
    note = ""
    if r.remainder_mean is not None:
        note = (f"remainder bounds: |E Δ − T1| ≤ {np.asarray(r.remainder_mean).tolist()}, "
                f"|Var Δ − T1| ≤ {np.asarray(r.remainder_var).tolist()}")
    assum = ("first order in p (T1); the remainder is dropped",)
    return [Bound("T1_mean", "T1 (b3)", "E Δ_k", tuple(float(v) for v in np.ravel(r.mean)), False, assum, note),
            Bound("T1_var", "T1 (b3), E4", "Var Δ_k", tuple(float(v) for v in np.ravel(r.var)), False, assum, note),
            Bound("T1_var_paper", "T1 as printed", "Var Δ_k", tuple(float(v) for v in np.ravel(r.var_paper)),
                  False, assum + ("drops the factor (1 − p) (E4)",), note)]


def b4(net, x, model) -> Bound:
    r"""b4: the exact single-crash contribution ``Σ_i p(1−p)^{n−1} Δ(e_i)`` (:func:`symft.exact.single_crash_term`).

    An estimate of ``E Δ`` (exact to first order in p; the configurations
    with two or more crashes are left out).

    Examples
    --------
    >>> from symft.network import mean_network
    >>> b4(mean_network(2), [1, 1], NeuronCrash({0: 0.5})).value     # 2 · ½ · ½ · (−½)
    (-0.25,)
    """
    from . import exact

    model = _model(net, model)
    t = exact.single_crash_term(net, list(_x1(net, x)[0]), model, exact=False)
    return Bound("b4", "b4 (single crashes)", "E Δ_k", tuple(float(v) for v in np.ravel(t.mean)), False,
                 ("configurations with ≥ 2 crashes dropped",))


def fep_expected(net, x, model) -> Bound:
    r"""The [SRDS] expected-error bound, Fep with ``f_l = p_l N_l`` (:func:`symft.fep.fep_expected`).

    ``E‖Δ‖_∞ ≤ Σ_l C_l (p_l N_l) w_m^{(L+1)} Π_{l'>l} K_{l'} (1 − p_{l'}) N_{l'} w_m^{(l')}``
    with ``C_l`` the largest fault-free ``|y_l^i(x)|`` at this input (what a
    crash there removes).  A bound outright: ``|Δ| ≤ Fep(f)`` for every crash
    configuration with ``f_l`` failures per layer, and ``Fep`` is affine in
    each ``f_l`` separately with the layers independent, so
    ``E Fep(f) = Fep(E f) = Fep(p N)``.  Hidden-layer crashes only (the input
    and output layers do not fail in [WNF]).

    Raises
    ------
    NotImplementedError
        When :mod:`symft.fep` is not available.
    FaultModelError
        Crashes at the input or output layer.

    Examples
    --------
    >>> from symft.network import random_network
    >>> b = fep_expected(random_network([2, 3, 1], seed=0), [0.5, -1.0], NeuronCrash({1: 0.1}))
    >>> b.quantity, b.rigorous
    ('E‖Δ‖_inf', True)
    """
    try:
        from . import fep
    except ImportError:  # pragma: no cover - depends on issue 5
        raise NotImplementedError("symft.fep is not available") from None
    model = _model(net, model)
    if any(l in (0, net.depth) for l in model.layers) or net.depth < 2:
        raise FaultModelError(f"model: the [SRDS] bound is for hidden-layer crashes only, got layers {model.layers}")
    if model.semantics != "output_zero":
        raise FaultModelError("model: the [SRDS] bound is for crashes that output 0")
    p = [model.probability(l) for l in range(1, net.depth)]
    p = [sp.Rational(repr(float(q))) if isinstance(q, float) else q for q in p]
    v = fep.fep_expected(net, p, x=_x1(net, x))
    return Bound("SRDS", "AC1 / Fep expected [SRDS]", "E‖Δ‖_inf", (outward(float(v), net),), True,
                 ("hidden-layer crashes that output 0", "Lipschitz activations (K_l)",
                  "C_l = largest fault-free |y_l^i(x)| at this input"))


def all_bounds(net, x, model) -> list[Bound]:
    r"""Every bound that applies to ``(net, x, model)``; inapplicable ones are skipped.

    Examples
    --------
    >>> from symft.network import mean_network
    >>> names = [b.name for b in all_bounds(mean_network(2), [1, 1], NeuronCrash({0: 0.1}))]
    >>> names[:5]
    ['b1_1', 'b1_2', 'b1_inf', 'AC1', 'b2']
    """
    out = [b1(net, x, model, n) for n in NORMS]
    if model.layers == (0,):
        out.append(ac1(net, x, model))
    out.append(b2(net, x, model))
    out.append(ap10(net, x, model))
    for f in (b3, b4, fep_expected):
        try:
            r = f(net, x, model)
        except (NotImplementedError, ImportError, InvalidArgument):
            continue  # not applicable to this model (FaultModelError is an InvalidArgument)
        out.extend(r if isinstance(r, list) else [r])
    return out
