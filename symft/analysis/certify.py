r"""(ε, δ) fault-tolerance certificates, tail inequalities and the median trick (theory §4, §6).

The question (D5): is ``P{Δ ≥ ε} ≤ δ`` for the output error ``Δ`` of a network
under random crashes?  This module answers it from the mean and variance of
``Δ`` and says *how much the answer can be trusted*:

* **Tail inequalities** for ``t = ε − E Δ > 0``: Chebyshev ``Var / t²`` (P5 as
  printed, two-sided) and Cantelli ``Var / (Var + t²)`` (one-sided, valid and
  never worse — erratum E6): :func:`chebyshev_tail`, :func:`cantelli_tail`.
* **P3**: ``δ_0 = exp(−n_l q d_KL(α ‖ p_l))``, the Chernoff bound on the
  fraction of a layer's weight mass that crashes: :func:`kl_divergence`,
  :func:`delta0_kl_chernoff`.
* **P5 as printed**: ``δ = δ_0 + Var Δ / t²`` with the first-order (T1) moments
  — an *approximation* (T1 drops a remainder): :func:`p5_delta`.
* **Median trick**, done right: ``R`` copies aggregated by the median fail only
  if at least ``⌈R/2⌉`` fail, with probability ``P{Bin(R, δ_1) ≥ ⌈R/2⌉}``,
  computed exactly with rationals (:func:`median_failure_probability`,
  :func:`median_copies`); the Chernoff count ``exp(−R d_KL(1/2 ‖ δ_1)) ≤ δ``
  (:func:`chernoff_copies`); and the paper's printed ``(1/3)^{R/2}``, which is
  *not* a bound (erratum E5: :func:`paper_median_bound`,
  :func:`median_trick_comparison`).
* **Layer balance** (§5): ``Var Δ ≈ Σ_l C_l p_l / n_l`` is smallest, for a
  budget ``Σ n_l = N``, at ``n_l ∝ sqrt(p_l C_l)``: :func:`balanced_widths`.
* :class:`Certificate`, a frozen record of the claim, the inequality, whether
  it is **rigorous** (every term bounded, under the stated assumptions) or
  **approximate**, the inputs, p, seed, versions and the network's hash; it
  round-trips through JSON.  :func:`certify` builds one from the moments
  that :func:`symft.engines.moments.moments` chooses (exact moments, a
  rigorous enclosure, T1 with its remainder, or a labelled estimate), on any
  graph those engines evaluate; :func:`certificate_from_moments` from
  moments you supply (:class:`~symft.engines.moments.Moments`, also
  importable from here, like :func:`exact_moments`,
  :func:`enclosure_moments` and :func:`taylor_moments`).  P3's δ_0
  (:func:`p3_delta0`) is defined per layer of a chain and refuses other
  graphs with a one-line reason.

Exactness: every inequality is evaluated in exact rational arithmetic
(:class:`fractions.Fraction`) from the exact binary values of the float
inputs, and the resulting δ is rounded *up* to a float; ε and δ given as
decimals are read as the decimals they print as (``0.1`` is ``1/10``).

Examples
--------
>>> from fractions import Fraction
>>> median_failure_probability(3, Fraction(1, 3))       # E5: 3·(1/3)²·(2/3) + (1/3)³
Fraction(7, 27)
>>> cantelli_tail(0, 1, 2), chebyshev_tail(0, 1, 2)
(Fraction(1, 5), Fraction(1, 4))
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import platform
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from numbers import Integral, Real
from typing import Mapping

import numpy as np
import sympy as sp

from ..engines.moments import (APPROXIMATE_SOURCES, AUTO_ORDER, RIGOROUS_SOURCES, Moments, NoSourceError,
                               enclosure_moments, exact_moments, float_down, float_up, moments, taylor_moments)
from ..errors import InvalidArgument, TooLargeError
from ..problem import as_model, make_problem
from ..results import result
from ..utils import first_true

__all__ = [
    "statistical_certificate",
    "to_fraction",
    "float_up",
    "chebyshev_tail",
    "cantelli_tail",
    "tail_bound",
    "kl_divergence",
    "delta0_kl_chernoff",
    "p5_delta",
    "median_failure_probability",
    "median_copies",
    "chernoff_copies",
    "paper_median_bound",
    "median_trick_comparison",
    "balanced_widths",
    "balance_variance",
    "Moments",
    "Certificate",
    "certificate_from_moments",
    "certify",
    "network_hash",
    "package_versions",
    "p3_delta0",
    "RIGOROUS_SOURCES",
]

INEQUALITIES = ("cantelli", "chebyshev")


# ---------------------------------------------------------------------- exact numbers

def to_fraction(v, where: str = "value", *, decimal: bool = False) -> Fraction:
    r"""An exact :class:`~fractions.Fraction` of a number.

    Floats become the binary rational they hold, or with ``decimal=True`` the
    shortest decimal that prints as them (how a user typed ``0.1``).  Strings
    such as ``"1/3"`` or ``"1e-5"`` are parsed exactly; SymPy rationals and
    ``Fraction`` values pass through.

    Examples
    --------
    >>> to_fraction(0.5), to_fraction("1/3"), to_fraction(0.1, decimal=True)
    (Fraction(1, 2), Fraction(1, 3), Fraction(1, 10))
    >>> to_fraction(float("inf"), "eps")
    Traceback (most recent call last):
    ...
    symft.errors.InvalidArgument: eps: expected a finite number, got inf
    """
    if isinstance(v, bool) or v is None:
        raise InvalidArgument(f"{where}: expected a number, got {v!r}")
    if isinstance(v, Fraction):
        return v
    if isinstance(v, Integral):
        return Fraction(int(v))
    if isinstance(v, sp.Basic):
        if isinstance(v, sp.Rational):
            return Fraction(int(v.p), int(v.q))
        if isinstance(v, sp.Float) or (v.is_number and v.is_real):
            return to_fraction(float(v), where, decimal=decimal)
        raise InvalidArgument(f"{where}: expected a number, got {v}")
    if isinstance(v, str):
        try:
            return Fraction(v.strip())
        except (ValueError, ZeroDivisionError):
            raise InvalidArgument(f"{where}: expected a number like 0.1 or 1/3, got {v!r}") from None
    if isinstance(v, Real):
        f = float(v)
        if not math.isfinite(f):
            raise InvalidArgument(f"{where}: expected a finite number, got {f}")
        return Fraction(repr(f)) if decimal else Fraction(f)
    raise InvalidArgument(f"{where}: expected a number, got {type(v).__name__}")


# ---------------------------------------------------------------------- tail inequalities

def _tail_args(mean, var, eps):
    m = to_fraction(mean, "mean")
    v = to_fraction(var, "var")
    e = to_fraction(eps, "eps")
    if v < 0:
        raise InvalidArgument(f"var: expected a non-negative variance, got {var!r}")
    return m, v, e


def chebyshev_tail(mean, var, eps) -> Fraction:
    r"""Chebyshev (P5 as printed): ``P{Δ ≥ ε} ≤ Var / t²`` for ``t = ε − E Δ > 0``, capped at 1.

    Returns 1 when ``t ≤ 0`` (no information).  Exact rational.

    Examples
    --------
    >>> chebyshev_tail(0, 1, 3)
    Fraction(1, 9)
    >>> chebyshev_tail(1, 1, 1)
    Fraction(1, 1)
    """
    m, v, e = _tail_args(mean, var, eps)
    t = e - m
    if t <= 0:
        return Fraction(1)
    return min(Fraction(1), v / (t * t))


def cantelli_tail(mean, var, eps) -> Fraction:
    r"""Cantelli (one-sided, erratum E6): ``P{Δ ≥ ε} ≤ Var / (Var + t²)`` for ``t = ε − E Δ > 0``.

    Always ``≤`` :func:`chebyshev_tail` (and ``< 1``); 1 when ``t ≤ 0``.

    Examples
    --------
    >>> cantelli_tail(0, 1, 3)
    Fraction(1, 10)
    """
    m, v, e = _tail_args(mean, var, eps)
    t = e - m
    if t <= 0:
        return Fraction(1)
    if v == 0:
        return Fraction(0)
    return v / (v + t * t)


def tail_bound(mean_lo, mean_hi, var_hi, eps, *, inequality: str = "cantelli",
               sided: str = "upper") -> Fraction:
    r"""Rigorous tail bound from *bounds* on the moments.

    ``mean ∈ [mean_lo, mean_hi]`` and ``Var ≤ var_hi``.  Both inequalities
    decrease in ``t`` and increase in ``Var``, so the worst case is
    ``t = ε − mean_hi`` and ``var_hi``.  With ``sided="abs"`` the event is
    ``|Δ| ≥ ε``: Chebyshev with ``t = ε − max(|mean_lo|, |mean_hi|)``, or
    Cantelli on both tails (``ε − mean_hi`` and ``ε + mean_lo``), summed.

    Examples
    --------
    >>> tail_bound(-1, 1, 4, 5)                     # 4 / (4 + 16)
    Fraction(1, 5)
    >>> tail_bound(-1, 1, 4, 5, inequality="chebyshev", sided="abs")
    Fraction(1, 4)
    """
    if inequality not in INEQUALITIES:
        raise InvalidArgument(f"inequality: expected one of {INEQUALITIES}, got {inequality!r}")
    if sided not in ("upper", "abs"):
        raise InvalidArgument(f"sided: expected 'upper' or 'abs', got {sided!r}")
    lo, hi = to_fraction(mean_lo, "mean_lo"), to_fraction(mean_hi, "mean_hi")
    if lo > hi:
        raise InvalidArgument(f"mean_lo, mean_hi: expected mean_lo ≤ mean_hi, got {mean_lo} > {mean_hi}")
    f = cantelli_tail if inequality == "cantelli" else chebyshev_tail
    if sided == "upper":
        return f(hi, var_hi, eps)
    if inequality == "chebyshev":
        return chebyshev_tail(max(abs(lo), abs(hi)), var_hi, eps)
    return min(Fraction(1), cantelli_tail(hi, var_hi, eps) + cantelli_tail(-lo, var_hi, eps))


# ---------------------------------------------------------------------- P3, P5

def kl_divergence(a: float, b: float) -> float:
    r"""``d_KL(a ‖ b) = a log(a/b) + (1−a) log((1−a)/(1−b))`` for Bernoulli laws (float).

    Examples
    --------
    >>> kl_divergence(0.5, 0.5)
    0.0
    >>> round(kl_divergence(0.5, 1/3), 6)        # log(3/(2·sqrt 2))
    0.058892
    """
    a, b = float(a), float(b)
    if not (0 <= a <= 1 and 0 < b < 1):
        raise InvalidArgument(f"a, b: expected 0 ≤ a ≤ 1 and 0 < b < 1, got a = {a}, b = {b}")
    out = 0.0
    if a > 0:
        out += a * math.log(a / b)
    if a < 1:
        out += (1 - a) * math.log((1 - a) / (1 - b))
    return out


def delta0_kl_chernoff(n_l: int, q: float, alpha: float, p_l: float) -> float:
    r"""P3: ``δ_0 = P{‖U_l‖_1 ≥ α ‖W_l‖_1} ≤ exp(−n_l q d_KL(α ‖ p_l))`` for ``α > p_l``.

    ``q`` is the balance of the per-neuron totals (AA1, ``min/max``; see
    :func:`symft.graph.network.layer_norms`, key ``q_balance``).

    Examples
    --------
    >>> round(delta0_kl_chernoff(100, 1.0, 0.1, 0.01), 10) == round(math.exp(-100 * kl_divergence(0.1, 0.01)), 10)
    True
    >>> delta0_kl_chernoff(10, 1.0, 0.01, 0.1)
    Traceback (most recent call last):
    ...
    symft.errors.InvalidArgument: alpha: P3 needs alpha > p_l, got alpha = 0.01, p_l = 0.1
    """
    if not isinstance(n_l, Integral) or n_l < 1:
        raise InvalidArgument(f"n_l: expected a positive integer, got {n_l!r}")
    q, alpha, p_l = float(q), float(alpha), float(p_l)
    if not 0 < q <= 1:
        raise InvalidArgument(f"q: expected a balance in (0, 1], got {q}")
    if not alpha > p_l:
        raise InvalidArgument(f"alpha: P3 needs alpha > p_l, got alpha = {alpha}, p_l = {p_l}")
    if p_l <= 0:
        return 0.0
    if alpha >= 1:
        return 0.0
    return math.exp(-n_l * q * kl_divergence(alpha, p_l))


def p5_delta(mean, var, eps, delta0: float = 0.0, *, inequality: str = "chebyshev") -> float:
    r"""P5 as printed: ``δ = δ_0 + Var Δ / t²``, ``t = ε − E Δ`` (or Cantelli with ``inequality``).

    With T1's moments this is an approximation (the Taylor remainder is
    dropped), so it is returned as a float, capped at 1.

    Examples
    --------
    >>> p5_delta(0.0, 1e-4, 0.1, 0.01)
    0.02
    """
    f = chebyshev_tail if inequality == "chebyshev" else cantelli_tail
    return min(1.0, float(delta0) + float(f(mean, var, eps)))


# ---------------------------------------------------------------------- median trick

def _prob(v, where):
    q = to_fraction(v, where, decimal=True)
    if not 0 <= q <= 1:
        raise InvalidArgument(f"{where}: expected a probability in [0, 1], got {v!r}")
    return q


def median_failure_probability(R: int, delta1) -> Fraction:
    r"""Exact ``P{Bin(R, δ_1) ≥ ⌈R/2⌉}``: the median of R independent copies fails only
    if at least half of them fail.

    ``δ_1`` is read exactly (floats as the decimal they print as).

    Examples
    --------
    >>> median_failure_probability(1, "1/3"), median_failure_probability(3, "1/3")
    (Fraction(1, 3), Fraction(7, 27))
    """
    if isinstance(R, bool) or not isinstance(R, Integral) or R < 1:
        raise InvalidArgument(f"R: expected a positive integer, got {R!r}")
    d = _prob(delta1, "delta1")
    R = int(R)
    k0 = (R + 1) // 2
    a, b = d.numerator, d.denominator
    # integer arithmetic: Σ C(R,k) a^k (b−a)^{R−k} / b^R
    num, term = 0, None
    c = b - a
    for k in range(k0, R + 1):
        term = math.comb(R, k) * a ** k * c ** (R - k)
        num += term
    return Fraction(num, b ** R)


def median_copies(delta, delta1, *, max_copies: int = 100001) -> int:
    r"""Smallest ``R`` with ``P{Bin(R, δ_1) ≥ ⌈R/2⌉} ≤ δ`` (exact rationals).

    The minimum is always odd (an even ``R`` is never better than ``R − 1``),
    and over odd ``R`` the tail decreases, so the search doubles then bisects
    over odd ``R``.  A ``δ_1`` with a denominator above ``2^32`` is first
    rounded up to a multiple of ``2^-32`` (and a ``δ`` with a denominator
    above ``2^64`` down to a multiple of ``2^-64``): the count stays valid
    and the exact sums stay small.

    Raises
    ------
    InvalidArgument
        ``δ_1 ≥ 1/2`` (the median does not help) or ``R`` above ``max_copies``.

    Examples
    --------
    >>> median_copies("1e-5", "1/3")
    155
    >>> median_copies(0.3, 0.3)
    1
    """
    d = _prob(delta, "delta")
    d1 = _prob(delta1, "delta1")
    if d1 >= Fraction(1, 2):
        raise InvalidArgument(f"delta1: the median trick needs δ_1 < 1/2, got {delta1}")
    if d <= 0:
        raise InvalidArgument("delta: expected δ > 0")
    if d1 <= d:
        return 1
    # Huge denominators (δ_1 from exact moments) would make the exact sums explode: round δ_1 up
    # and δ down to dyadic rationals, which only makes the answer more conservative.
    if d1.denominator > 2 ** 32:
        d1 = Fraction(math.ceil(d1 * 2 ** 32), 2 ** 32)
    if d.denominator > 2 ** 64:
        d = Fraction(math.floor(d * 2 ** 64), 2 ** 64)
        if d == 0:
            raise InvalidArgument("delta: below 2^-64; too small for the exact median count")
    if d1 >= Fraction(1, 2):
        raise InvalidArgument(f"delta1: the median trick needs δ_1 < 1/2, got {delta1}")
    if d1 > 0 and chernoff_copies(d, d1) > 4 * max_copies:
        raise InvalidArgument(f"delta: about {chernoff_copies(d, d1)} copies would be needed (Chernoff), "
                              f"above max_copies = {max_copies}")
    ok = lambda m: median_failure_probability(2 * m + 1, d1) <= d  # noqa: E731  (R = 2m + 1)
    hi = 1
    while not ok(hi):
        hi *= 2
        if 2 * hi + 1 > max_copies * 2:
            raise InvalidArgument(f"delta: more than {max_copies} copies needed; raise max_copies")
    lo = hi // 2  # ok(lo) false (or lo = 0 with R = 1 false since d1 > d)
    return 2 * first_true(ok, lo, hi) + 1


def chernoff_copies(delta, delta1) -> int:
    r"""``R = ⌈ln(1/δ) / d_KL(1/2 ‖ δ_1)⌉``, so that ``exp(−R d_KL(1/2 ‖ δ_1)) ≤ δ`` (valid, looser).

    Examples
    --------
    >>> chernoff_copies(1e-5, 1/3)
    196
    """
    d = float(_prob(delta, "delta"))
    d1 = float(_prob(delta1, "delta1"))
    if not 0 < d1 < 0.5:
        raise InvalidArgument(f"delta1: the median trick needs 0 < δ_1 < 1/2, got {delta1}")
    if d <= 0:
        raise InvalidArgument("delta: expected δ > 0")
    R = max(1, math.ceil(math.log(1 / d) / kl_divergence(0.5, d1)))
    # guard the float rounding of the ceiling
    while math.exp(-R * kl_divergence(0.5, d1)) > d:
        R += 1
    return R


def paper_median_bound(R: int) -> float:
    r"""The paper's printed ``P{median ≥ ε} < (1/3)^{R/2}`` — **not a bound** (E5).

    Examples
    --------
    >>> round(paper_median_bound(3), 4)
    0.1925
    """
    return (1 / 3) ** (R / 2)


def median_trick_comparison(delta, delta1="1/3") -> dict:
    r"""The three copy counts for target ``δ`` and per-copy ``δ_1``, and E5's failure.

    Returns ``exact_R`` (:func:`median_copies`), ``chernoff_R``,
    ``paper_R`` (smallest R with ``(1/3)^{R/2} ≤ δ``), the exact failure
    probability at ``paper_R``, and whether the printed formula holds there.

    Examples
    --------
    >>> c = median_trick_comparison("1e-5")
    >>> c["exact_R"], c["chernoff_R"], c["paper_R"]
    (155, 196, 21)
    >>> c["paper_formula_valid"]
    False
    """
    d1 = _prob(delta1, "delta1")
    d = _prob(delta, "delta")
    exact_R = median_copies(d, d1)
    paper_R = max(1, math.ceil(2 * math.log(1 / float(d)) / math.log(3)))
    while paper_median_bound(paper_R) > float(d):
        paper_R += 1
    at_paper = median_failure_probability(paper_R, d1)
    return {
        "delta": float(d), "delta1": float(d1),
        "exact_R": exact_R, "chernoff_R": chernoff_copies(d, d1), "paper_R": paper_R,
        "exact_failure_at_paper_R": float_up(at_paper),
        "paper_formula_valid": at_paper <= d,
    }


# ---------------------------------------------------------------------- layer balance

def balanced_widths(p, C, total: int) -> tuple[int, ...]:
    r"""Widths ``n_l ∝ sqrt(p_l C_l)`` with ``Σ n_l = total`` (theory §6, layer balance).

    Minimizes ``Σ_l C_l p_l / n_l`` under the budget (Lagrange: ``C_l p_l / n_l² = λ``).
    Rounded by largest remainders; every width is at least 1.

    Examples
    --------
    >>> balanced_widths([1e-3, 4e-3], [1.0, 1.0], 300)
    (100, 200)
    """
    p = [float(v) for v in p]
    C = [float(v) for v in C]
    if len(p) != len(C) or not p:
        raise InvalidArgument(f"p, C: expected two non-empty sequences of the same length, got {len(p)} and {len(C)}")
    if any(v < 0 for v in p + C):
        raise InvalidArgument("p, C: expected non-negative numbers")
    if not isinstance(total, Integral) or total < len(p):
        raise InvalidArgument(f"total: expected an integer ≥ {len(p)} (one neuron per layer), got {total!r}")
    w = [math.sqrt(a * b) for a, b in zip(p, C)]
    s = sum(w)
    if s == 0:
        w, s = [1.0] * len(p), float(len(p))
    extra = total - len(p)
    raw = [extra * v / s for v in w]
    n = [1 + int(math.floor(r)) for r in raw]
    rest = total - sum(n)
    order = sorted(range(len(p)), key=lambda i: -(raw[i] - math.floor(raw[i])))
    for i in order[:rest]:
        n[i] += 1
    return tuple(n)


def balance_variance(p, C, widths) -> float:
    r"""``Σ_l C_l p_l / n_l`` — the layer-balance proxy of ``Var Δ``.

    Examples
    --------
    >>> balance_variance([1e-3, 4e-3], [1, 1], (100, 200)) < balance_variance([1e-3, 4e-3], [1, 1], (150, 150))
    True
    """
    return sum(float(c) * float(q) / int(n) for q, c, n in zip(p, C, widths))


# ---------------------------------------------------------------------- certificates

def network_hash(net) -> str:
    """sha256 of the canonical JSON of the network (:func:`symft.graph.netfile.dumps_network`).

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> len(network_hash(mean_network(2))), network_hash(mean_network(2)) == network_hash(mean_network(2))
    (64, True)
    """
    from ..graph.netfile import dumps_network

    return hashlib.sha256(dumps_network(net).encode("utf-8")).hexdigest()


def package_versions() -> tuple:
    """``((name, version), …)`` for symft, Python, NumPy and SymPy.

    Examples
    --------
    >>> dict(package_versions())["symft"]
    '0.1.0'
    """
    from .. import __version__

    return (("symft", __version__), ("python", platform.python_version()),
            ("numpy", np.__version__), ("sympy", sp.__version__))


def _jsonable(v):
    if isinstance(v, tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, (Fraction, sp.Basic)):
        return str(v)
    return v


@result
@dataclass(frozen=True)
class Certificate:
    r"""An (ε, δ) fault-tolerance claim and how far it can be trusted (D5, P5).

    Attributes
    ----------
    eps, delta : str
        The claim ``P{Δ_k ≥ ε} ≤ δ`` for every output ``k`` (``sided="upper"``,
        D5) or ``P{|Δ_k| ≥ ε} ≤ δ`` (``sided="abs"``), as exact decimals.
    certified : bool
        Whether the bound establishes the claim.
    delta_bound : float
        The bound on the failure probability (largest over outputs), rounded up.
    method : str
        The inequality and the moments used, e.g. ``"cantelli(exact)"`` or
        ``"p5-chebyshev+kl-chernoff(taylor)"``.
    rigorous : bool
        True only when every term is bounded (exact moments, rigorous
        enclosures, or T1 with a proved remainder bound) under the stated
        ``assumptions``; a certificate from an approximation can never be
        rigorous (enforced on construction).
    source : str
        Where the moments came from.
    copies_needed : int or None
        1 if certified; else the median-trick copies (exact binomial tail)
        reaching δ with per-copy failure ``delta_bound`` when it is < 1/2
        and at most 2001 copies are needed; None otherwise.
    per_output : tuple
        ``(k, mean_lo, mean_hi, var_hi, delta_bound_k)`` per output.

    Examples
    --------
    >>> c = certificate_from_moments(Moments.point([0.0], [1e-4], "exact"), 0.1, 0.05)
    >>> c.certified, c.rigorous, c.method, c.delta_bound
    (True, True, 'cantelli(exact)', 0.00990099009900990...)
    >>> Certificate.from_json(c.to_json()) == c
    True
    """

    eps: str
    delta: str
    sided: str
    certified: bool
    delta_bound: float
    method: str
    rigorous: bool
    source: str
    copies_needed: int | None
    per_output: tuple
    delta0: float = 0.0
    assumptions: tuple = ()
    inputs: tuple = ()
    p: tuple = ()
    semantics: str = "output_zero"
    seed: int | None = None
    versions: tuple = ()
    network_sha256: str = ""
    notes: tuple = ()

    def __post_init__(self):
        if self.rigorous and self.source not in RIGOROUS_SOURCES:
            raise InvalidArgument(f"rigorous: a certificate from {self.source!r} moments is an approximation "
                                  "and cannot be rigorous")
        if self.rigorous and ("taylor)" in self.method and "remainder" not in self.method):
            raise InvalidArgument("rigorous: T1 alone drops a remainder; cannot be rigorous")
        if self.sided not in ("upper", "abs"):
            raise InvalidArgument(f"sided: expected 'upper' or 'abs', got {self.sided!r}")

    def as_dict(self) -> dict:
        """JSON-ready dictionary (keys include ``certified``, ``delta_bound``, ``method``,
        ``rigorous``, ``copies_needed``).

        Examples
        --------
        >>> c = certificate_from_moments(Moments.point([0.0], [1e-4], "taylor"), 0.1, 0.05)
        >>> d = c.as_dict(); d["rigorous"], d["certified"]
        (False, True)
        """
        d = {k: _jsonable(v) for k, v in asdict(self).items()}
        d["claim"] = (f"P(Δ_k ≥ {self.eps}) ≤ {self.delta}" if self.sided == "upper"
                      else f"P(|Δ_k| ≥ {self.eps}) ≤ {self.delta}") + " for every output k"
        return d

    def to_json(self) -> str:
        """JSON text (see :meth:`from_json`).

        Examples
        --------
        >>> c = certificate_from_moments(Moments.point([0.0], [1e-4], "exact"), 0.1, 0.05)
        >>> '"rigorous": true' in c.to_json()
        True
        """
        return json.dumps(self.as_dict(), allow_nan=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Certificate":
        """Rebuild a certificate written by :meth:`to_json`.

        Examples
        --------
        >>> c = certificate_from_moments(Moments.point([0.0], [1e-4], "estimate"), 0.1, 1e-3)
        >>> Certificate.from_json(c.to_json()).delta_bound == c.delta_bound
        True
        """
        try:
            d = json.loads(text)
        except json.JSONDecodeError as e:
            raise InvalidArgument(f"certificate: not valid JSON ({e.msg})") from None
        d.pop("claim", None)

        def tup(v):
            return tuple(tup(x) for x in v) if isinstance(v, list) else v

        names = {f for f in cls.__dataclass_fields__}
        unknown = set(d) - names
        if unknown:
            raise InvalidArgument(f"certificate: unknown fields {sorted(unknown)}")
        return cls(**{k: tup(v) for k, v in d.items()})


def _copies(delta_bound: Fraction, delta: Fraction, certified: bool):
    if certified:
        return 1
    if delta_bound >= Fraction(1, 2):
        return None
    try:
        return median_copies(delta, delta_bound, max_copies=2001)
    except InvalidArgument:
        return None


def certificate_from_moments(moments: Moments, eps, delta, *, inequality: str = "cantelli",
                             sided: str = "upper", delta0: float = 0.0, assumptions=(), inputs=(),
                             p=(), semantics: str = "output_zero", seed=None, net=None,
                             notes=()) -> Certificate:
    r"""Build a :class:`Certificate` from bounds on the moments of ``Δ``.

    The bound for output ``k`` is :func:`tail_bound` at the worst-case end of
    the moment intervals (``t = ε − mean_hi``, ``var_hi``), plus ``delta0``
    (P3's δ_0, when the moments only hold on a high-probability event).
    It is rigorous exactly when the moments' source is
    (:data:`RIGOROUS_SOURCES`) and ``delta0`` is itself a bound.

    Examples
    --------
    >>> m = Moments((-0.01,), (0.01,), (1e-4,), "enclosure")
    >>> c = certificate_from_moments(m, 0.1, 0.02)
    >>> c.certified, c.rigorous, round(c.delta_bound, 6)   # 1e-4 / (1e-4 + 0.09²)
    (True, True, 0.012195)
    >>> certificate_from_moments(m, 0.1, 0.02, inequality="chebyshev").delta_bound > c.delta_bound
    True
    """
    if inequality not in INEQUALITIES:
        raise InvalidArgument(f"inequality: expected one of {INEQUALITIES}, got {inequality!r}")
    e = to_fraction(eps, "eps", decimal=True)
    d = to_fraction(delta, "delta", decimal=True)
    if not 0 < d < 1:
        raise InvalidArgument(f"delta: expected a probability in (0, 1), got {delta!r}")
    d0 = to_fraction(delta0, "delta0")
    per, worst = [], Fraction(0)
    for k, (lo, hi, v) in enumerate(zip(moments.mean_lo, moments.mean_hi, moments.var_hi)):
        b = min(Fraction(1), tail_bound(lo, hi, v, e, inequality=inequality, sided=sided) + d0)
        per.append((k, float_down(to_fraction(lo)), float_up(to_fraction(hi)), float_up(to_fraction(v)),
                    float_up(b)))
        worst = max(worst, b)
    certified = worst <= d
    eps_text = eps.strip() if isinstance(eps, str) else (repr(float(eps)) if isinstance(eps, float) else str(e))
    delta_text = delta.strip() if isinstance(delta, str) else (repr(float(delta)) if isinstance(delta, float)
                                                               else str(d))
    method = f"{inequality}({moments.source})"
    if d0 > 0:
        method = f"p5-{inequality}+kl-chernoff({moments.source})"
    base = ("independent Bernoulli crashes with the stated probabilities",
            "weights and inputs are the binary rationals their floats hold")
    return Certificate(
        eps=eps_text, delta=delta_text, sided=sided, certified=bool(certified),
        delta_bound=float_up(worst), method=method, rigorous=moments.rigorous, source=moments.source,
        copies_needed=_copies(worst, d, certified), per_output=tuple(per), delta0=float_up(d0),
        assumptions=base + tuple(assumptions), inputs=tuple(inputs), p=tuple(p), semantics=semantics,
        seed=seed, versions=package_versions(), network_sha256=network_hash(net) if net is not None else "",
        notes=tuple(notes) + ((moments.note,) if moments.note else ()),
    )


def _recorded_inputs(pb):
    """The input as recorded in a certificate: floats, or strings for values given exactly."""
    if pb.exact_given is not None:
        return tuple(float(v) if isinstance(v, sp.Float) else str(v) for v in pb.exact_rows[0])
    return tuple(float(v) for v in pb.X[0])


#: certify's names of the sources → the methods of :func:`symft.engines.moments.moments`.
SOURCES = {"auto": "auto", "exact": "enumeration", "enclosure": "enclosure", "taylor": "taylor", "t1": "t1"}


def p3_delta0(net, model, alpha: float) -> float:
    r"""P3's ``δ_0 = Σ_l exp(−n_l q_l d_KL(α ‖ p_l))`` over the crashing layers of a chain, capped at 1.

    ``q_l`` is the balance of layer ``l``'s per-neuron weight totals
    (:func:`symft.graph.network.layer_norms`, key ``q_balance``; 1 at the
    input).  A layer with ``p_l ≥ α`` or no balance gives ``δ_0 = 1`` (no
    information).  P3 is a statement about the layers of a chain (its
    totals ``W_l^i = Σ_j |W_l^{ij}|`` and width ``n_l``): other graphs are
    refused with :class:`~symft.graph.network.NotAChain`.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> from symft.faults import NeuronCrash
    >>> d = p3_delta0(mean_network(100), NeuronCrash({0: 0.01}), 0.1)
    >>> d == delta0_kl_chernoff(100, 1.0, 0.1, 0.01)
    True
    """
    from ..graph.network import layer_norms

    chain = net.as_chain("P3's δ_0 (the balance of each layer's weights)")
    norms = layer_norms(net)
    d0 = 0.0
    for key in model.layers:
        l = chain.sites.index(net.site(key))
        pl = float(model.probability(key))
        q = 1.0 if l == 0 else norms[l - 1]["q_balance"]
        if q is None or q <= 0 or pl >= alpha:
            return 1.0
        d0 += delta0_kl_chernoff(chain.widths[l], q, alpha, pl)
    return min(1.0, d0)


def statistical_certificate(net, x, model, eps, delta, *, samples: int = 100_000, seed: int = 0,
                            confidence: float = 0.99, sided: str = "upper") -> Certificate:
    r"""A **statistical** (ε, δ) certificate: Monte Carlo of the event itself, never labelled rigorous.

    ``P(Δ_k ≥ ε) = P(C) · P(Δ_k ≥ ε | C)`` for ``ε > 0`` (``C``: at least one
    failure; without one ``Δ = 0``), with ``P(C)`` computed (not sampled) and
    the conditional probability bounded above by the one-sided Clopper–Pearson
    limit of the draws given a failure
    (:func:`symft.engines.sampling.crashed_errors`), at level
    ``1 − (1 − confidence)/K`` for each of the ``K`` outputs (Bonferroni), so
    that with probability at least ``confidence`` over the sampling every
    bound holds.  It answers where the moment inequalities (Cantelli,
    Chebyshev) are too weak, at the price of a statement that is statistical.

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> from symft.faults import NeuronCrash
    >>> c = statistical_certificate(random_network([4, 8, 2], seed=0, activation="tanh"), [0.5, -1, 0.2, 0.1],
    ...                             NeuronCrash({1: 1e-3}), 0.5, 0.01, samples=2000, seed=1)
    >>> c.certified, c.rigorous, c.source
    (True, False, 'monte-carlo')
    """
    from ..engines.sampling import clopper_pearson, crash_probability, crashed_errors
    from ..faults import NeuronCrash

    if not isinstance(model, NeuronCrash):
        model = as_model(net, model)
    if sided not in ("upper", "abs"):
        raise InvalidArgument(f"sided: expected 'upper' or 'abs', got {sided!r}")
    if isinstance(confidence, bool) or not isinstance(confidence, Real) or not 0 < float(confidence) < 1:
        raise InvalidArgument(f"confidence: expected a number strictly between 0 and 1, got {confidence!r}")
    e = to_fraction(eps, "eps", decimal=True)
    d = to_fraction(delta, "delta", decimal=True)
    if not e > 0:
        raise InvalidArgument(f"eps: the statistical certificate needs ε > 0 (a crash-free run has Δ = 0), got {eps!r}")
    if not 0 < d < 1:
        raise InvalidArgument(f"delta: expected a probability in (0, 1), got {delta!r}")
    pb = make_problem(net, x, model)
    draws, pc = crashed_errors(net, pb.X[0], pb.model, samples, seed)
    pc_up = float_up(Fraction(crash_probability(net, pb.model)) * (1 + Fraction(1, 10 ** 9)))  # a few ulps, covered
    K = net.n_outputs
    level = 1 - 2 * (1 - float(confidence)) / K            # two-sided level whose upper limit is one-sided
    per, worst, counts = [], 0.0, []
    n = draws.shape[0]
    ef = float(e)
    for k in range(K):
        col = draws[:, k] if draws.size else np.zeros(0)
        hit = int(np.count_nonzero((np.abs(col) if sided == "abs" else col) >= ef))
        hi = 1.0 if n == 0 else clopper_pearson(hit, n, level)[1]
        b = min(1.0, float_up(Fraction(pc_up) * Fraction(hi)))
        counts.append(hit)
        per.append((k, float("nan"), float("nan"), float("nan"), b))
        worst = max(worst, b)
    certified = worst <= float(d) and Fraction(worst) <= d
    eps_text = eps.strip() if isinstance(eps, str) else (repr(float(eps)) if isinstance(eps, float) else str(e))
    delta_text = delta.strip() if isinstance(delta, str) else (repr(float(delta)) if isinstance(delta, float)
                                                               else str(d))
    return Certificate(
        eps=eps_text, delta=delta_text, sided=sided, certified=bool(certified), delta_bound=worst,
        method=f"clopper-pearson(monte-carlo, confidence {float(confidence):g})", rigorous=False,
        source="monte-carlo", copies_needed=_copies(Fraction(worst), d, certified), per_output=tuple(per),
        assumptions=("independent Bernoulli crashes with the stated probabilities",
                     f"statistical: holds with probability ≥ {float(confidence):g} over the {n} Monte Carlo draws "
                     f"given a failure (seed {seed}); not a proof"),
        inputs=_recorded_inputs(pb), p=tuple((l, str(q)) for l, q in pb.model.p), semantics=pb.model.semantics,
        seed=seed, versions=package_versions(), network_sha256=network_hash(net),
        notes=(f"P(at least one failure) = {pc:.6g}, computed; draws reaching ε per output: "
               f"{', '.join(map(str, counts))} of {n}",))


def certify(net, x, model, eps, delta, *, source: str = "auto", inequality: str = "cantelli",
            sided: str = "upper", order: int = 2, alpha: float = 0.1, seed=None, samples: int = 100_000,
            confidence: float = 0.99) -> Certificate:
    r"""Certify ``P{Δ_k ≥ ε} ≤ δ`` for every output ``k`` at input ``x`` (D5, P5).

    The moments come from :func:`symft.engines.moments.moments`, the one
    chooser of sources; this function turns them into a certificate.

    Parameters
    ----------
    net : Network
        Any graph the chosen source can evaluate (convolutions, residual
        adds, …).  Only P5 as printed (``"t1"``, or T1 alone reached by
        ``"taylor"``) needs a chain: its δ_0 (P3, :func:`p3_delta0`) is
        defined per layer of a chain, and other graphs are refused with a
        one-line reason.
    x : array_like
        One input (exact values such as ``"1/3"`` are kept exactly).
    model : NeuronCrash, mapping or probability
        Independent neuron crashes: a :class:`~symft.faults.NeuronCrash`, a
        mapping ``{site: p}`` or one ``p`` for every hidden site.
    eps, delta : number or str
    source : {"auto", "exact", "enclosure", "taylor", "t1"}
        Where the moments come from.  ``"exact"`` enumerates every crash
        configuration (rigorous when the arithmetic is exact: rational
        piecewise-linear networks; method ``"enumeration"``);
        ``"enclosure"`` uses rigorous interval bounds of order ``order``
        (:func:`symft.engines.enclosure.enclosure`); ``"taylor"`` uses T1 plus
        its rigorous remainder bound when one is available (smooth
        activations), else falls back to ``"t1"``; ``"t1"`` is P5 as printed
        — T1's first-order moments with the remainder dropped, plus δ_0 from
        P3 with ``alpha`` — and is **approximate**.  ``"auto"``: the rule of
        :func:`symft.engines.moments.moments` — rational enumeration, else
        the enclosure, else T1 + remainder, else (labelled approximate) a
        float enumeration, P5 as printed (chains only), or Monte Carlo with
        ``seed`` (default 0).
        ``"statistical"``: :func:`statistical_certificate` — Monte Carlo of
        the event with a Clopper–Pearson bound (``samples`` draws given a
        failure, ``seed``, ``confidence``); never rigorous.
    inequality : {"cantelli", "chebyshev"}
        Cantelli (one-sided, never worse: E6) or Chebyshev (P5 as printed).
    sided : {"upper", "abs"}
        The event ``Δ_k ≥ ε`` (D5) or ``|Δ_k| ≥ ε``.
    order : int
        Order of the enclosure.
    alpha : float
        α of P3's δ_0 on the ``"t1"`` path.
    seed : int, optional
        Recorded in the certificate (for certificates that accompany sampled
        evidence); the seed of the Monte Carlo moments if ``"auto"`` ends there.

    Returns
    -------
    Certificate
        ``rigorous`` is True only for exact moments, an enclosure, or T1 with
        its remainder bound; ``copies_needed`` gives the median-trick copies
        when the single network is not certified.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> from symft.faults import NeuronCrash
    >>> c = certify(mean_network(4), [1, 1, 1, 1], NeuronCrash({0: 0.01}), 0.5, 0.01)
    >>> c.certified, c.rigorous, c.method
    (True, True, 'cantelli(exact)')
    """
    from ..faults import NeuronCrash

    if not isinstance(model, NeuronCrash):
        if isinstance(model, (Mapping, Real)) and not isinstance(model, bool):
            model = as_model(net, model)     # {site: p}, or one p for every hidden site
        else:
            raise InvalidArgument(f"model: certify needs a NeuronCrash (or a mapping {{site: p}}), "
                                  f"got {type(model).__name__}")
    if source == "statistical":
        return statistical_certificate(net, x, model, eps, delta, samples=samples,
                                       seed=0 if seed is None else seed, confidence=confidence, sided=sided)
    if source not in SOURCES:
        raise InvalidArgument(f"source: expected 'auto', 'exact', 'enclosure', 'taylor', 't1' or 'statistical', "
                              f"got {source!r}")
    pb = make_problem(net, x, model)
    if source == "auto":
        among = AUTO_ORDER
        if not net.is_chain:     # P5 as printed needs P3's δ_0, defined per layer of a chain
            among = tuple(s for s in AUTO_ORDER if s != "t1")
        try:
            m = moments(pb, "auto", among=among, order=order, seed=0 if seed is None else seed)
        except NoSourceError as e:
            raise InvalidArgument(f"certify: {e}") from None
        if m.method == "monte-carlo" and seed is None:
            seed = m.seed
    else:
        try:
            m = moments(pb, SOURCES[source], order=order)
        except (NotImplementedError, ImportError, AttributeError) as e:
            raise InvalidArgument(f"source={source!r}: not available ({e})") from None
    delta0, assumptions = 0.0, []
    if m.source == "taylor":
        delta0 = p3_delta0(net, pb.model, alpha)
        assumptions += ["A1–A3 and AA1 (P3, P5): small p, wide layers, q-balanced weights, continuous limit",
                        f"T1 first-order moments (remainder dropped); P3 with alpha = {alpha}"]
    p = tuple((l, str(q)) for l, q in model.p)
    c = certificate_from_moments(m, eps, delta, inequality=inequality, sided=sided, delta0=delta0,
                                 assumptions=assumptions, inputs=_recorded_inputs(pb), p=p,
                                 semantics=model.semantics, seed=seed, net=net, notes=m.notes)
    if not c.certified:
        widest = max((hi - lo for _, lo, hi, _, _ in c.per_output), default=0.0)
        ways = ["a statistical certificate of the event itself (source='statistical', symft certify --source "
                "statistical), which the moment inequality does not limit"]
        if m.source == "enclosure" and widest > 1e-3 * max(float(eps), 1e-300):
            ways.insert(0, "a higher enclosure order (--order), which narrows the moments")
        c = dataclasses.replace(c, notes=c.notes + ("not certified from the mean and variance alone; what could "
                                                    "decide: " + "; or ".join(ways),))
    return c
