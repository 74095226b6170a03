r"""The papers' bounds on the crash error, one function each, with their assumptions (theory §3, §5, §7).

Every function takes the network first and returns a frozen :class:`Bound`
saying *what* it bounds (``quantity``), the value (one entry per output, or
one entry for a norm), whether it is a proved upper bound under its stated
assumptions (``rigorous``) or an estimate, and the assumptions.  Each has a
name that says what it computes and the paper's short name as an alias:

* :func:`norm_propagation_bound` (``b1``; AP1, P2 with the 2-norm) bounds
  ``E‖Δ‖`` — **any graph**;
* :func:`absolute_propagation_bound` (``b2``; AP2) bounds ``E|Δ_k|``
  componentwise — **any graph**;
* :func:`input_crash_product_bound` (``ac1``; AC1, the [SRDS] bound for
  input crashes) bounds ``E‖Δ‖_∞`` — chains only;
* :func:`variance_recursion_as_printed` (``ap10``; AP10 as printed)
  estimates ``E (Δ_k)²`` — chains only;
* :func:`first_order_estimates` (``b3``; T1 in weight form, AC2) estimates
  ``E Δ`` and ``Var Δ`` — chains only;
* :func:`single_crash_estimate` (``b4``; the single-crash term) estimates
  ``E Δ`` — any graph;
* :func:`expected_fep_bound` (``fep_expected``; the [SRDS] expected Fep)
  bounds ``E‖Δ‖_∞`` — chains only;
* the supplement's code's versions, estimates: :func:`single_crash_first_order`
  (``b4_paper``, ``p Σ_i Δ(e_i)``), :func:`single_crash_std` (``b4_std``) and
  :func:`absolute_propagation_std` (``b2_std``, chains only) of ``std Δ_k``.

:func:`all_bounds` returns every bound that applies and says which were
skipped and why.  A chain-only result asked of another graph raises
:class:`~symft.graph.network.NotAChain` with a one-line reason.

**The propagation behind b1 and b2, on any graph.**  Let ``e_v`` be the
change of node ``v``'s value in one crash configuration, ``ξ`` the crash
indicators and ``d = |c − y|`` the deviation of a crashed neuron (``c = 0``,
or ``φ(b)`` under ``"incoming_zeroed"``).  Componentwise, in every
configuration: an affine op (dense, convolution, pooling, batch norm,
residual add) gives ``|e_out| ≤ Σ_j |A_j| |e_j|``; an activation
``|e_out| ≤ min(K |e_in|, w)`` with ``K`` the slope bound and ``w`` the
image width of φ over a box containing the node's input under *every*
crash configuration; max pooling the window sum; and a crash site adds
``ξ ⊙ d``.  Taking expectations (linearity only: no independence between
nodes is needed, and ``E min(X, c) ≤ min(E X, c)``) gives b2
(:class:`symft.walk.abspropagation.AbsPropagation`).  For a monotone norm
the same steps give ``E‖e_out‖ ≤ Σ_j ‖A_j‖ E‖e_j‖`` with each op's operator
norm (exact for the 1- and ∞-norms of any affine op, a proved bound for the
2-norm), the largest slope at an activation and ``E‖ξ ⊙ d‖`` at a crash
site: b1 (:class:`symft.walk.abspropagation.NormPropagation`).  On a chain
of dense layers with 1-Lipschitz φ and input crashes these are exactly
AP2, ``E|Δ_L| ≤ p |W_L| ··· |W_1| |x|``, and AP1, ``E‖Δ_L‖ ≤ ‖W_L‖ ···
‖W_1‖ E‖ξ ⊙ x − x‖``; slopes over the box never exceed the Lipschitz
constants, and the image width caps what a ``step`` (``K = ∞``) can do.

**Floating point.**  Nothing a bound is built from is merely rounded.  The
fault-free values ``y`` and the crash values ``c`` are *enclosed* by the
walker's outward-rounded interval interpretation
(:class:`symft.walk.interval.IntervalInterp`), so a forward pass that
cancels in float64 (``1e12 + 1e-5 − 1e12``) yields a deviation bound
``d ≥`` the exact one instead of 0, exact (rational) parameters included;
when such an enclosure is loose and every activation is piecewise linear,
the deviations are recomputed exactly by the walker's rational
interpretation.  All the rest are sums and products of non-negative
numbers rounded upward (:mod:`symft.walk.abspropagation`); the crash
probabilities are rounded up (the bounds are non-decreasing in each
``p``).  An activation whose interval image symft cannot prove (a custom
one) is evaluated in float64, and the bound is then labelled not rigorous.

Examples
--------
>>> from symft.graph.network import mean_network
>>> from symft.faults import NeuronCrash
>>> b = b1(mean_network(4), [1, 1, 1, 1], NeuronCrash({0: 0.1}), norm=1)
>>> b.quantity, b.value                # ‖W‖₁ = 1/4, E‖ξ⊙x‖₁ = p·4
('E‖Δ‖_1', (0.1,))
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy as sp

from ..engines.enumeration import single_crash_term
from ..errors import FaultModelError, InvalidArgument
from ..faults import NeuronCrash
from ..problem import make_problem
from .rounding import float_up, input_box
from ..walk.abspropagation import (NORMS, AbsPropagation, NormPropagation, mul_up, operator_norm_upper,
                                   spectral_norm_upper, upper_sum)
from ..walk.interval import TINY, U, Interval, IntervalInterp, crash_value_interval, up
from ..walk.rational import Rational, as_fractions, crash_values_rational
from ..walk.walker import walk
from ..results import result

__all__ = ["Bound", "BoundList", "float_up", "forward_enclosure", "spectral_norm_upper", "lipschitz_constants",
           "lipschitz_product", "crash_deviations",
           "norm_propagation_bound", "absolute_propagation_bound", "input_crash_product_bound",
           "variance_recursion_as_printed", "first_order_estimates", "single_crash_estimate",
           "expected_fep_bound", "single_crash_first_order", "single_crash_std", "absolute_propagation_std",
           "b1", "ac1", "b2", "ap10", "b3", "b4", "fep_expected", "b4_paper", "b4_std", "b2_std",
           "all_bounds", "NORMS", "EXACT_RECHECK_MAX_WEIGHTS"]

#: Largest number of parameters for which a loose enclosure of a piecewise-linear network is redone exactly.
EXACT_RECHECK_MAX_WEIGHTS = 200_000


@result
@dataclass(frozen=True)
class Bound:
    r"""The value of one bound (or estimate) of the papers, with what it bounds and under what.

    Attributes
    ----------
    name : str
        Short name (``"b1_inf"``, ``"AC1"``, ``"b2"``, …).
    statement : str
        The numbered statement it implements (the theory page, ``docs/theory.rst``).
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


class BoundList(list):
    """The bounds that apply (a list of :class:`Bound`) and, in :attr:`skipped`, the others with the reason.

    Attributes
    ----------
    skipped : tuple of (str, str)
        ``(name, reason)`` for every bound that does not apply.

    Examples
    --------
    >>> bl = BoundList([Bound("b2", "AP2", "E|Δ_k|", (1.0,), True)], [("AC1", "input crashes only")])
    >>> len(bl), bl.skipped
    (1, (('AC1', 'input crashes only'),))
    """

    def __init__(self, bounds=(), skipped=()):
        super().__init__(bounds)
        self.skipped = tuple(skipped)


# ---------------------------------------------------------------------- upward-rounded arithmetic
#
# Every quantity below is a non-negative float that must be ≥ the exact real it stands for.  IEEE 754
# operations are correctly rounded, so one nextafter toward +∞ after each of them gives an upper bound;
# sums of many terms use Higham's γ_n (symft.walk.abspropagation.upper_sum).  Exact numbers are rounded
# up by symft.analysis.rounding.float_up.

def _sum_up(a) -> float:
    """Upper bound of the exact sum of non-negative floats (``∞`` if any term is)."""
    a = np.asarray(a, dtype=float).ravel()
    if a.size == 0:
        return 0.0
    if not np.isfinite(a).all():
        return math.inf
    with np.errstate(over="ignore"):
        return float(upper_sum(a))


def _nan_out(iv: Interval) -> Interval:
    """Replace NaN ends (from ∞ − ∞ after an overflow) by the sound ±∞."""
    return Interval(np.where(np.isnan(iv.lo), -np.inf, iv.lo), np.where(np.isnan(iv.hi), np.inf, iv.hi))


def _frac_up(v: Fraction) -> float:
    f = float(v)
    return f if Fraction(f) >= v else float(up(f))


# ---------------------------------------------------------------------- one validated problem

def _problem(net, x, model):
    """One validated problem: one input, neuron crashes with numeric probabilities."""
    pb = make_problem(net, x, model)
    m = pb.model
    if not isinstance(m, NeuronCrash):
        raise FaultModelError(f"model: expected neuron crashes (a NeuronCrash), got {type(m).__name__}")
    for l, q in m.p:
        if isinstance(q, sp.Basic) and q.free_symbols:
            raise FaultModelError(f"p[{l}] = {q} is symbolic; the bounds need numbers")
    if pb.B != 1:
        raise InvalidArgument(f"x: expected one input, got a batch of {pb.B}")
    return pb


def _site_probabilities(pb) -> dict:
    """``{site name: probability}`` of the problem's failure model (exact, as given)."""
    return {pb.net.site(k): q for k, q in pb.model.p}


def _input_box(pb):
    """``(lo, hi, exact)`` of the problem's one input (:func:`symft.analysis.rounding.input_box`)."""
    lo, hi, exact = input_box(pb)
    return lo[0], hi[0], (None if exact is None else exact[0])


def _walk_input(net, lo, hi) -> Interval:
    B = lo.shape[0] if lo.ndim == 2 else 1
    shape = (B,) + tuple(net.input_shape)
    return Interval(np.asarray(lo, dtype=float).reshape(shape), np.asarray(hi, dtype=float).reshape(shape))


def _untrusted_activations(net) -> tuple:
    """Names of the activations whose interval image symft cannot prove (custom ones)."""
    return tuple(sorted({n.op.act.name for n in net.activation_nodes if not n.op.act.box_is_rigorous}))


@dataclass(frozen=True, eq=False)
class _Analysis:
    """What b1 and b2 are built from, computed once per (network, input, failure model)."""

    problem: object
    sites: tuple          # crash sites (names, topological order)
    probs: dict           # {site: float ≥ p}
    deviations: dict      # {site: (n,) float ≥ |c − y|}
    boxes: dict           # {node: Interval} over every crash configuration
    untrusted: tuple      # activations evaluated in float64 (not rigorous)

    @property
    def rigorous(self) -> bool:
        return not self.untrusted


def _analyse(net, x, model) -> _Analysis:
    pb = _problem(net, x, model)
    sem = pb.model.semantics
    sites = pb.sites
    probs = _site_probabilities(pb)
    lo, hi, exact_x = _input_box(pb)
    box = _walk_input(net, lo, hi)
    # every node over every crash configuration; the fault-free values only up to the last crash site
    boxes = walk(net, IntervalInterp(net, hull_sites={s: sem for s in sites}), box)
    clean = walk(net, IntervalInterp(net), box, stop=sites[-1]) if sites else boxes
    dev, loose = {}, False
    for s in sites:
        c = crash_value_interval(net, s, sem)
        y = clean[s].reshape(-1)
        if not (np.any(c.lo) or np.any(c.hi)):
            diff = -y   # a crash outputs exactly 0: |c - y| = |y|, with no rounding
        else:
            with np.errstate(over="ignore", invalid="ignore"):
                diff = _nan_out(c - y)
        dev[s] = diff.mag()
        # redo exactly only where the enclosure is loose enough to matter (> 1e-6 relative: a
        # cancellation); the enclosure is sound either way
        loose = loose or bool(np.any((diff.hi - diff.lo) > 2.0 ** -20 * diff.mag() + 2.0 ** -1000))
    untrusted = _untrusted_activations(net)
    if (loose and not untrusted and exact_x is not None and net.n_params <= EXACT_RECHECK_MAX_WEIGHTS
            and all(n.op.act.rational_fn is not None for n in net.activation_nodes)):
        dev = _exact_deviations(net, exact_x, sites, sem)
    return _Analysis(pb, sites, {s: float_up(probs[s]) for s in sites}, dev, boxes, untrusted)


def _exact_deviations(net, exact_x, sites, semantics) -> dict:
    """``|c − y|`` per crash site from the walker's rational interpretation, rounded up."""
    xs = as_fractions(np.asarray(exact_x, dtype=object).reshape((1,) + tuple(net.input_shape)))
    vals = walk(net, Rational(net), xs, stop=sites[-1])
    out = {}
    for s in sites:
        y = np.asarray(vals[s], dtype=object).reshape(-1)
        c = crash_values_rational(net, s, semantics)
        out[s] = np.array([_frac_up(abs(ci - yi)) for ci, yi in zip(c, y)], dtype=float)
    return out


def forward_enclosure(net, lo, hi=None) -> list:
    r"""Rigorous enclosures of every site's fault-free values for every input in a box.

    The walker's outward-rounded interval interpretation: each returned
    :class:`~symft.walk.interval.Interval` contains the *exact* real value
    of every neuron of the site for every input ``x`` with ``lo ≤ x ≤ hi``,
    however the float64 forward pass would round (exact parameters
    included).  Any graph; on a chain the sites are the layers ``0 … L``.

    Parameters
    ----------
    net : Network
        Numeric weights.
    lo, hi : array_like
        Input bounds, shape ``(n_0,)`` or a batch ``(B, n_0)``; ``hi``
        defaults to ``lo`` (a point).

    Returns
    -------
    list of Interval
        One per site of ``net.sites``, of shape ``(n_site, B)``.

    Raises
    ------
    InvalidArgument
        ``lo > hi``, or an activation without a proved interval image (a
        custom one).

    Examples
    --------
    >>> from symft.graph.network import Network
    >>> net = Network.from_numpy([[[1e6, 1e-5, 1e6]]], activations=["relu"])
    >>> y = forward_enclosure(net, [1e6, 1.0, -1e6])[1]     # float64 gives relu(0) = 0; exact 1e-5
    >>> bool(y.lo[0, 0] <= 1e-5 <= y.hi[0, 0])
    True
    """
    lo = np.atleast_2d(np.asarray(lo, dtype=float))
    hi = lo if hi is None else np.atleast_2d(np.asarray(hi, dtype=float))
    if lo.shape != hi.shape or lo.ndim != 2 or lo.shape[1] != net.n_inputs:
        raise InvalidArgument(f"lo, hi: expected two arrays of {net.n_inputs} numbers (or batches of them)")
    if not (lo <= hi).all():
        raise InvalidArgument("lo, hi: expected lo ≤ hi componentwise")
    untrusted = _untrusted_activations(net)
    if untrusted:
        raise InvalidArgument(f"activation {untrusted[0]!r} has no rigorous interval enclosure in symft")
    vals = walk(net, IntervalInterp(net), _walk_input(net, lo, hi))
    B = lo.shape[0]
    return [Interval(vals[s].lo.reshape(B, -1).T, vals[s].hi.reshape(B, -1).T) for s in net.sites]


def crash_deviations(net, x, model) -> dict:
    r"""Upper bounds of ``d = |c − y|`` at each crash site (what a crash changes at each neuron).

    ``y`` and the crash value ``c`` (0, or ``φ(A(0) + b)`` under
    ``"incoming_zeroed"``) are enclosed by interval arithmetic, so each
    entry is ``≥`` the exact deviation even when the float64 forward pass
    cancels.  Any graph; keys as in the failure model.

    Examples
    --------
    >>> from symft.graph.network import first_input_network
    >>> crash_deviations(first_input_network(2), [3, -1], NeuronCrash({0: 0.1}))[0]
    array([3., 1.])
    """
    an = _analyse(net, x, model)
    return {k: an.deviations[net.site(k)] for k in an.problem.model.layers}


def lipschitz_constants(net) -> list[float]:
    r"""``K_l`` for ``l = 1 … L`` of a chain, the output layer included (rounded up; ``inf`` for a jump).

    Chains only: one constant per layer.

    Raises
    ------
    InvalidArgument
        When an activation has no known Lipschitz constant.
    NotAChain
        For other graphs.

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> lipschitz_constants(random_network([2, 3, 1], seed=0, activation="sigmoid"))
    [0.25, 1.0]
    >>> lipschitz_constants(random_network([2, 3, 1], seed=0, output_activation="3*relu"))
    [1.0, 3.0]
    """
    chain = net.as_chain("lipschitz_constants (one constant per layer)")
    out = []
    for l, lay in enumerate(chain.layers, start=1):
        K = lay.activation.lipschitz
        if K is None:
            raise InvalidArgument(f"layer {l}: activation {lay.activation.name!r} has no known Lipschitz constant")
        out.append(float_up(K))
    return out


def lipschitz_product(net, norm=2) -> float:
    r"""P2: ``Π_l K_l ‖W_l‖`` — a Lipschitz constant of ``x ↦ y_L(x)`` in the given norm (rounded up).

    With the spectral norm this is P2: ``‖y_L(x_2) − y_L(x_1)‖_2 ≤ ‖x_2 − x_1‖_2 Π_l ‖W_l‖_2``
    (for 1-Lipschitz φ).  Every layer's ``K_l`` is included, the output
    layer's too.  Chains only (a product over the layers); the norm of
    each layer is :func:`symft.walk.abspropagation.operator_norm_upper`.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> lipschitz_product(mean_network(4), 2)        # ‖(1/4, …, 1/4)‖₂ = 1/2
    0.5
    """
    if norm not in NORMS:
        raise InvalidArgument(f"norm: expected one of 1, 2, 'inf', got {norm!r}")
    chain = net.as_chain("the Lipschitz product (P2, a product over the layers)")
    net.check_numeric()
    K = lipschitz_constants(net)
    out = 1.0
    for Kl, lay in zip(K, chain.layers):
        out = float(mul_up(out, mul_up(Kl, operator_norm_upper(net.node(lay.dense), norm))))
    return out


def _expected_masked_norm(d, p, norm) -> float:
    """Upper bound of E‖ξ ⊙ d‖ for ξ_i iid Be(p): exact for 1 and ∞, Jensen for 2; rounded up.

    ``p`` is a float ≥ the true probability (every form is non-decreasing in p)."""
    if p == 0 or d.size == 0 or not d.any():
        return 0.0
    if norm == 1:
        return float(mul_up(p, _sum_up(d)))
    if norm == 2:
        return float(up(math.sqrt(float(mul_up(p, _sum_up(mul_up(d, d)))))))
    # E max_i ξ_i d_i = Σ_j s_j p (1 − p)^j over the deviations sorted in decreasing order
    # (the j-th largest is the largest crashed one with probability p (1 − p)^j)
    s = np.sort(d)[::-1]
    s = s[s > 0]
    if not np.isfinite(s[0]):
        return math.inf
    q = float(up(1.0 - p))
    j = np.arange(s.size)
    with np.errstate(under="ignore"):
        pw = np.concatenate(([1.0], np.cumprod(np.full(s.size - 1, q))))    # q^j with j roundings
        g = (j + 2) * U
        w = up(up(pw * (1.0 + 2.0 * g / (1.0 - g))) + (j + 1) * TINY)   # ≥ q^j
        w = mul_up(p, w)
    return _sum_up(mul_up(s, w))


_ASSUMPTIONS = ("independent Bernoulli crashes",
                "activation slopes and images bounded over a box of every crash configuration (output included)",
                "values enclosed by outward-rounded interval arithmetic")


def _rigor_note(an):
    if an.rigorous:
        return _ASSUMPTIONS, ""
    note = (f"NOT RIGOROUS: activation(s) {', '.join(an.untrusted)} have no interval enclosure, so their float64 "
            "values are trusted")
    return _ASSUMPTIONS[:2] + ("float64 values of the activations trusted (not rigorous)",), note


# ---------------------------------------------------------------------- b1 / P2 / AP1

def _b1(net, an, norm) -> Bound:
    if norm not in NORMS:
        raise InvalidArgument(f"norm: expected one of 1, 2, 'inf', got {norm!r}")
    inject = {s: _expected_masked_norm(an.deviations[s], an.probs[s], norm) for s in an.sites}
    e = float(walk(net, NormPropagation(an.boxes, inject, norm), None, keep=False))
    name = {1: "b1_1", 2: "b1_2", "inf": "b1_inf"}[norm]
    stmt = "P2 / AP1" if norm == 2 else "AP1"
    assumptions, note = _rigor_note(an)
    return Bound(name, stmt if an.rigorous else stmt + " (float, not rigorous)", f"E‖Δ‖_{norm}", (e,), an.rigorous,
                 assumptions + ("operator norms induced by the vector norm",), note)


def norm_propagation_bound(net, x, model, norm="inf") -> Bound:
    r"""Bound b1 (AP1; P2 with ``norm=2``): ``E‖Δ‖`` by norm propagation through every op, on any graph.

    Each node carries an upper bound of ``E‖e‖`` (module docstring): an
    affine op multiplies by its operator norm — ``‖A‖_∞`` and ``‖A‖_1``
    exactly (largest row and column sums of ``|A|``, for dense,
    convolution, pooling, batch norm, reshapes), ``‖A‖_2`` by a proved
    spectral bound for dense ops and ``sqrt(‖A‖_1 ‖A‖_∞)`` otherwise — and
    a residual add sums its inputs' bounds; an activation multiplies by
    its largest slope over the box of every crash configuration, capped by
    the norm of its image widths; max pooling by the largest number of
    windows sharing an input (1 for the ∞-norm); each crash site adds
    ``E‖ξ ⊙ d‖``.  On a chain with input crashes and 1-Lipschitz φ this is
    AP1, ``E‖Δ_L‖ ≤ ‖W_L‖ ··· ‖W_1‖ E‖ξ ⊙ x − x‖`` (``ξ`` the crash
    indicators).  ``E‖ξ ⊙ d‖`` is exact for the 1- and ∞-norms and
    bounded by Jensen, ``sqrt(p Σ d_i²)``, for the 2-norm.  (Example:
    ``E max_i ξ_i |x_i|`` at ``x = (2, 5, 7)``, ``p = 0.1`` is
    ``0.1·7 + 0.09·5 + 0.081·2 = 1.312``.)

    Assumptions: independent Bernoulli crashes; operator norms induced by
    the vector norm.  Every value is enclosed or rounded up (module
    docstring).

    Examples
    --------
    >>> from symft.graph.network import first_input_network
    >>> round(b1(first_input_network(3), [2, 5, 7], NeuronCrash({0: 0.1}), norm="inf").value[0], 12)
    1.312
    """
    if norm not in NORMS:
        raise InvalidArgument(f"norm: expected one of 1, 2, 'inf', got {norm!r}")
    return _b1(net, _analyse(net, x, model), norm)


def _b2(net, an) -> Bound:
    inject = {s: mul_up(an.probs[s], an.deviations[s]) for s in an.sites}
    e = walk(net, AbsPropagation(an.boxes, inject), None, keep=False)
    e = np.zeros(net.n_outputs) if isinstance(e, float) else np.asarray(e, dtype=float).reshape(-1)
    assumptions, note = _rigor_note(an)
    return Bound("b2", "AP2" if an.rigorous else "AP2 (float, not rigorous)", "E|Δ_k|", tuple(float(v) for v in e),
                 an.rigorous, assumptions, note)


def absolute_propagation_bound(net, x, model) -> Bound:
    r"""Bound b2 (AP2), componentwise: ``E|Δ_k|`` by absolute-value propagation through every op, on any graph.

    Each node carries an upper bound of ``E|e|`` per neuron (module
    docstring): ``|A|`` through every affine op (dense, convolution,
    pooling, batch norm; a residual add sums both paths), the slope bound
    over the box of every crash configuration through an activation
    (capped by the width of its image), the window sum through max pooling,
    plus ``p ⊙ d`` at each crash site.  On a chain with input crashes and
    1-Lipschitz φ this is AP2, ``E|Δ_L| ≤ p |W_L| ··· |W_1| |x|`` (``|W|``
    entrywise); a K-Lipschitz φ enters through its slopes (at most ``K``),
    at every layer including the output layer.

    Examples
    --------
    >>> from symft.graph.network import first_input_network
    >>> b2(first_input_network(3), [2, 5, 7], NeuronCrash({0: 0.1})).value     # exact: E|Δ| = p·2
    (0.2,)
    """
    return _b2(net, _analyse(net, x, model))


def input_crash_product_bound(net, x, model) -> Bound:
    r"""AC1, the [SRDS] bound: ``E‖Δ_L‖_∞ ≤ p N_0 ‖x‖_∞ Π_l K_l ‖W_l‖_∞`` for input crashes.

    The paper writes ``+ O(p²)``; in fact it is a bound outright:
    ``E max_i ξ_i |x_i| ≤ E Σ ξ_i |x_i| ≤ p N_0 ‖x‖_∞`` and the rest is
    Lipschitz propagation through every layer, the output layer's ``K_L``
    included (see :func:`norm_propagation_bound`, which is never larger and
    applies to any graph).

    Chains only: the statement is a product over the layers (another graph
    raises :class:`~symft.graph.network.NotAChain`).  Assumptions: crashes
    at the input layer only, independent, with probability p; Lipschitz
    activations.  Rounded up.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> ac1(mean_network(4), [1, 1, 1, 1], NeuronCrash({0: 0.1})).value      # 0.1·4·1·1
    (0.4,)
    """
    pb = _problem(net, x, model)
    chain = net.as_chain("AC1 (a product over the layers)")
    if pb.sites not in ((), (chain.input_site,)):
        raise FaultModelError(f"model: AC1 is for input crashes only (layer 0), got layers {pb.model.layers}")
    p = float_up(_site_probabilities(pb).get(chain.input_site, 0))
    lo, hi, _ = _input_box(pb)
    xmax = float(np.max(np.maximum(np.abs(lo), np.abs(hi))))
    v = float(mul_up(mul_up(mul_up(p, float(net.n_inputs)), xmax), lipschitz_product(net, "inf")))
    return Bound("AC1", "AC1 [SRDS]", "E‖Δ‖_inf", (v,), True,
                 ("input crashes only", "Lipschitz activations (global K_l, output layer included)",
                  "rounded up"))


# ---------------------------------------------------------------------- AP10

def variance_recursion_as_printed(net, x, model) -> Bound:
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
    checks it against exact values on small networks.  Chains only (a
    recursion over the rows of each layer's weight matrix).

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> ap10(mean_network(4), [1, 1, 1, 1], NeuronCrash({0: 0.1})).quantity
    'E Δ_k²'
    """
    pb = _problem(net, x, model)
    chain = net.as_chain("AP10 (a recursion over the layers)")
    probs = _site_probabilities(pb)
    K = max(lipschitz_constants(net))
    values = pb.clean.values
    E2 = 0.0
    for l, lay in enumerate(chain.layers):      # the recursion step reading layer l = 0 … L−1
        p = float(probs.get(chain.sites[l], 0))
        W = net.node(lay.dense).op.params("float")["weight"]
        G = W @ W.T
        a1 = np.abs(W).sum(axis=1)
        alpha = float(G.max())
        beta = float((np.outer(a1, a1) - G).max())
        y = values[chain.sites[l]]
        C = float(np.abs(y).max()) if y.size else 0.0
        E1 = math.sqrt(E2)
        a = C * C * p * (alpha + p * beta) + 2 * K * C * p * (1 - p) * beta * E1
        b = K * K * (1 - p) * (alpha + (1 - p) * beta)
        E2 = a + b * E2
        if math.isnan(E2):          # ∞ · 0 with a step activation (K = ∞): the formula says nothing
            E2 = math.inf
    return Bound("AP10", "AP10 as printed (not proved)", "E Δ_k²", tuple(E2 for _ in range(net.n_outputs)), False,
                 ("as printed; indices read as documented", "not proved by symft", "float64, not rounded up"),
                 "an estimate: symft has not proved this reading of AP10")


# ---------------------------------------------------------------------- b3, b4, Fep (other modules)

def first_order_estimates(net, x, model, *, remainder: bool = False) -> list[Bound]:
    r"""b3: T1's first-order ``E Δ`` and ``Var Δ`` (and the paper's ``p Σ g²``) via :func:`symft.engines.taylor.t1`.

    Estimates, not bounds (T1 drops a remainder); with ``remainder=True``
    the rigorous remainder bounds are attached in ``note``.  b3 is T1 in
    its weight form (AC2, ``X_l = W_l ⊙ ∂y/∂W_l``), which equals the neuron
    form computed here by AP8 — a statement about the weight matrices
    ``W_l`` of a chain, so chains only.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> [b.name for b in b3(mean_network(2), [1, 1], NeuronCrash({0: 0.1}))]
    ['T1_mean', 'T1_var', 'T1_var_paper']
    """
    from ..engines import taylor

    pb = _problem(net, x, model)
    net.as_chain("b3 (Theorem 1 in weight form, AC2)")
    model = pb.model
    r = taylor.t1(net, pb.X[0], {l: float(q) for l, q in model.p}, semantics=model.semantics,
                  remainder="auto" if remainder else False)
    note = ""
    if r.remainder_mean is not None:
        note = (f"remainder bounds: |E Δ − T1| ≤ {np.asarray(r.remainder_mean).tolist()}, "
                f"|Var Δ − T1| ≤ {np.asarray(r.remainder_var).tolist()}")
    assum = ("first order in p (T1); the remainder is dropped",)
    return [Bound("T1_mean", "T1 (b3), estimate", "E Δ_k", tuple(float(v) for v in np.ravel(r.mean)), False,
                  assum, note),
            Bound("T1_var", "T1 (b3) E4, estimate", "Var Δ_k", tuple(float(v) for v in np.ravel(r.var)), False,
                  assum, note),
            Bound("T1_var_paper", "T1 as printed, estimate", "Var Δ_k", tuple(float(v) for v in np.ravel(r.var_paper)),
                  False, assum + ("drops the factor (1 − p) (E4)",), note)]


def single_crash_estimate(net, x, model) -> Bound:
    r"""b4: the exact single-crash contribution ``Σ_i p(1−p)^{n−1} Δ(e_i)`` (:func:`symft.engines.enumeration.single_crash_term`).

    An estimate of ``E Δ`` (exact to first order in p; the configurations
    with two or more crashes are left out).  Any graph: one crashed
    forward pass per neuron of each crash site.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> b4(mean_network(2), [1, 1], NeuronCrash({0: 0.5})).value     # 2 · ½ · ½ · (−½)
    (-0.25,)
    """
    pb = _problem(net, x, model)
    t = single_crash_term(net, pb.X[0], pb.model, exact=False)
    return Bound("b4", "b4 single crashes, estimate", "E Δ_k", tuple(float(v) for v in np.ravel(t.mean)), False,
                 ("configurations with ≥ 2 crashes dropped",))


def _single_crash(net, x, model):
    pb = _problem(net, x, model)
    t = single_crash_term(net, pb.X[0], pb.model, exact=False)
    return pb, t


def single_crash_first_order(net, x, model) -> Bound:
    r"""b4 as the paper computes it: ``p Σ_i Δ(e_i)``, the first-order term of ``E Δ`` (no ``(1−p)^{n−1}``).

    The supplement's code (``get_bound_b4``) returns ``p · Σ_i (y(e_i) − y)``
    for crashes at one layer; with several crashed layers the terms add,
    ``Σ_l p_l Σ_i Δ(e_i)`` (:attr:`symft.engines.enumeration.SingleCrashTerm.first_order`).
    :func:`single_crash_estimate` is the exact single-crash term
    ``Σ_i p(1−p)^{n−1} Δ(e_i)`` beside it.  An estimate of ``E Δ``; any graph.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> b4_paper(mean_network(2), [1, 1], NeuronCrash({0: 0.5})).value     # ½ · 2 · (−½)
    (-0.5,)
    """
    _, t = _single_crash(net, x, model)
    return Bound("b4_paper", "b4 as the paper's code computes it, estimate", "E Δ_k",
                 tuple(float(v) for v in np.ravel(t.first_order)), False,
                 ("first order in p: configurations with ≥ 2 crashes dropped and (1 − p)^(n−1) taken as 1",))


def single_crash_std(net, x, model) -> Bound:
    r"""The paper's standard-deviation version of b4: ``sqrt(Σ_l p_l Σ_i Δ(e_i)²)``.

    First order in p, ``E Δ² = Σ_l p_l Σ_i Δ(e_i)² + O(p²)`` and
    ``(E Δ)² = O(p²)``, so this estimates ``std Δ_k`` (the supplement's
    ``get_bound_b4``: ``sqrt(p · Σ_i (y(e_i) − y)²)``).  Not a bound: the
    configurations with two or more crashes are dropped.  Any graph.

    Examples
    --------
    >>> from symft.graph.network import first_input_network
    >>> round(b4_std(first_input_network(3), [2, 5, 7], NeuronCrash({0: 0.01})).value[0], 12)  # sqrt(p·2²)
    0.2
    """
    pb, t = _single_crash(net, x, model)
    probs = dict(pb.model.p)
    v = 0.0
    for layer, d in t.deltas.items():
        d = np.asarray(d, dtype=float)
        v = v + float(probs[layer]) * (d * d).sum(axis=0)
    return Bound("b4_std", "b4 standard deviation as in the paper's code, estimate", "std Δ_k",
                 tuple(float(s) for s in np.sqrt(np.ravel(v))), False,
                 ("first order in p: configurations with ≥ 2 crashes dropped",))


def absolute_propagation_std(net, x, model) -> Bound:
    r"""The paper's standard-deviation version of b2: ``sqrt(p (W_L∘W_L) ··· (W_{l+1}∘W_{l+1}) d_l²)``.

    The supplement's code (``get_bound_b2``) propagates the squared
    deviations ``d_l² = y_l²`` of the crashed layer through the entrywise
    squared weight matrices of the layers after it and takes
    ``sqrt(p · …)``; here each layer's activation enters through ``K_l²``
    (``K_l`` its Lipschitz constant: 1 for the paper's ReLU and linear
    layers, so the paper's formula), crashed layers add their terms, and
    ``d_l`` is :func:`crash_deviations` (``|y|`` for crashes that output 0).
    An estimate of ``std Δ_k``, not a bound (for a linear chain the exact
    variance is ``p(1−p) Σ_i ((W_L ··· W_{l+1})_{ki} d_i)²``, which the
    product of squared matrices neither bounds from above nor from below
    once signs mix).  Chains only.

    Examples
    --------
    >>> from symft.graph.network import first_input_network
    >>> b2_std(first_input_network(3), [2, 5, 7], NeuronCrash({0: 0.01})).value    # sqrt(p·2²)
    (0.2,)
    """
    pb = _problem(net, x, model)
    chain = net.as_chain("the standard-deviation version of b2 (a product of squared weight matrices)")
    K = lipschitz_constants(net)
    dev = crash_deviations(net, x, model)
    probs = dict(pb.model.p)
    index = {s: l for l, s in enumerate(chain.sites)}
    total = np.zeros(net.n_outputs)
    for layer, d in dev.items():
        v = np.asarray(d, dtype=float).reshape(-1) ** 2
        for l in range(index[net.site(layer)] + 1, chain.depth + 1):
            w = np.asarray(chain.layers[l - 1].weights, dtype=float)
            v = K[l - 1] ** 2 * ((w * w) @ v)
        total = total + float(probs[layer]) * v
    return Bound("b2_std", "b2 standard deviation as in the paper's code, estimate", "std Δ_k",
                 tuple(float(s) for s in np.sqrt(total)), False,
                 ("the paper's heuristic: entrywise squared weights, first order in p",))


def expected_fep_bound(net, x, model) -> Bound:
    r"""The [SRDS] expected-error bound, Fep with ``f_l = p_l N_l`` (:func:`symft.analysis.fep.fep_expected`).

    ``E‖Δ‖_∞ ≤ Σ_l C_l (p_l N_l) w_m^{(L+1)} Π_{l'>l} K_{l'} (1 − p_{l'}) N_{l'} w_m^{(l')}``
    with ``C_l`` the largest fault-free ``|y_l^i(x)|`` at this input (what a
    crash there removes).  A bound outright: ``|Δ| ≤ Fep(f)`` for every crash
    configuration with ``f_l`` failures per layer, and ``Fep`` is affine in
    each ``f_l`` separately with the layers independent, so
    ``E Fep(f) = Fep(E f) = Fep(p N)``.  Hidden-layer crashes only (the input
    and output layers do not fail in [WNF]); a non-linear output layer
    multiplies the bound by its Lipschitz constant ``K_{L+1}``.  Chains
    only, like Fep.

    Raises
    ------
    FaultModelError
        Crashes at the input or output layer.
    NotAChain
        For a graph that is not a chain of dense layers.

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> b = fep_expected(random_network([2, 3, 1], seed=0), [0.5, -1.0], NeuronCrash({1: 0.1}))
    >>> b.quantity, b.rigorous
    ('E‖Δ‖_inf', True)
    """
    from . import fep

    pb = _problem(net, x, model)
    chain = net.as_chain("the [SRDS] expected bound (Fep with f_l = p_l N_l)")
    hidden = chain.sites[1:-1]
    if chain.depth < 2 or any(s not in hidden for s in pb.sites):
        raise FaultModelError(f"model: the [SRDS] bound is for hidden-layer crashes only, got layers "
                              f"{pb.model.layers}")
    if pb.model.semantics != "output_zero":
        raise FaultModelError("model: the [SRDS] bound is for crashes that output 0")
    # probabilities as the exact values they hold (a float is its binary value, never its decimal repr)
    probs = _site_probabilities(pb)
    p = [probs.get(s, 0) for s in hidden]
    x_exact = pb.X if pb.exact_given is None else [list(r) for r in pb.exact_given]
    v = fep.fep_expected(net, p, x=x_exact)
    return Bound("SRDS", "AC1 / Fep expected [SRDS]", "E‖Δ‖_inf", (float_up(v),), True,
                 ("hidden-layer crashes that output 0", "Lipschitz activations (K_l, output layer included)",
                  "C_l = largest fault-free |y_l^i(x)| at this input, enclosed (exact or interval arithmetic)",
                  "computed exactly (rationals), rounded up"))


# ---------------------------------------------------------------------- the paper's short names

b1 = norm_propagation_bound
b2 = absolute_propagation_bound
ac1 = input_crash_product_bound
ap10 = variance_recursion_as_printed
b3 = first_order_estimates
b4 = single_crash_estimate
fep_expected = expected_fep_bound
b4_paper = single_crash_first_order
b4_std = single_crash_std
b2_std = absolute_propagation_std


def _one_line(e: Exception) -> str:
    return str(e).splitlines()[0] if str(e) else type(e).__name__


def all_bounds(net, x, model) -> BoundList:
    r"""Every bound that applies to ``(net, x, model)``; the others are listed in ``skipped`` with the reason.

    b1 (every norm) and b2 apply to any graph and failure model of neuron
    crashes; AC1 needs input crashes on a chain, AP10, b3 and the [SRDS]
    bound a chain; b4 any graph.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> bs = all_bounds(mean_network(2), [1, 1], NeuronCrash({0: 0.1}))
    >>> [b.name for b in bs][:5]
    ['b1_1', 'b1_2', 'b1_inf', 'AC1', 'b2']
    >>> bs.skipped
    (('SRDS', 'model: the [SRDS] bound is for hidden-layer crashes only, got layers (0,)'),)
    """
    an = _analyse(net, x, model)
    out, skipped = [_b1(net, an, n) for n in NORMS], []

    def attempt(name, f):
        try:
            r = f()
        except (NotImplementedError, ImportError, InvalidArgument) as e:
            skipped.append((name, _one_line(e)))   # not applicable (FaultModelError, NotAChain are InvalidArgument)
            return
        out.extend(r if isinstance(r, list) else [r])

    attempt("AC1", lambda: ac1(net, x, model))
    out.append(_b2(net, an))
    for name, f in (("AP10", ap10), ("T1 (b3)", b3), ("b4", b4), ("SRDS", fep_expected)):
        attempt(name, lambda f=f: f(net, x, model))
    return BoundList(out, skipped)
