r"""Certified enclosures of ``E Δ``, ``E Δ²`` and ``Var Δ`` for networks too wide to enumerate.

Beyond the papers: under Bernoulli neuron crashes (theory D3), evaluate every
configuration with at most ``k`` crashes exactly and bound the rest
rigorously.  The result is an interval ``[lo, hi]`` for each output that
provably contains the true value, and whose width shrinks as ``k`` grows.

The tail bound
--------------
**Per-neuron bound.**  Let ``s`` be any crash set (any layers), ``y_l`` the
fault-free outputs and ``ŷ_l(s)`` the faulty ones, ``δ_l = ŷ_l(s) − y_l``.
Write ``d_l^i = |γ_l^i − y_l^i|`` for the deviation of a crashed neuron
(``γ_l^i = 0``, or ``φ_l(b_l^i)`` under ``"incoming_zeroed"``).  For a
neuron of layer ``l`` that does not crash,
``|δ_l^i| = |φ_l(z_l^i(s)) − φ_l(z_l^i)| ≤ K_l^i |W_l δ_{l−1}|_i ≤ K_l^i (|W_l| |δ_{l−1}|)_i``
where ``K_l^i`` is a bound on ``|φ_l'|`` over a box that contains
``z_l^i(s)`` for *every* ``s`` and the fault-free ``z_l^i`` (mean value
theorem; the box is convex so it contains the segment).  A crashed neuron
forgets its inputs: ``|δ_l^i| = d_l^i``.  In both cases
``|δ_l^i| ≤ d_l^i [ (l, i) ∈ s ] + K_l^i (|W_l| |δ_{l−1}|)_i`` (the second
term is ≥ 0), and ``δ_0 = −(x ⊙ [crashed inputs])``.  Unrolling this
non-negative linear recursion,

``|Δ_k(s)| ≤ Σ_{(l, i) ∈ s} c_{l,i,k}``,  ``c_{l,i,k} = d_l^i (G_l)_{k,i}``,
``G_L = I``, ``G_{l−1} = G_l · diag(K_l) · |W_l|``

for every crash set ``s``, across any number of crashed layers (the AP2
argument applied to a fixed crash set).  It needs a finite slope bound for
each activation: the global Lipschitz constant (sigmoid ``K = 1/4``, tanh and
relu 1) or the tighter sup of ``|φ'|`` over the box (exact for
piecewise-linear, sigmoid, tanh, softplus and their scaled versions).  A
discontinuous activation (``step``) has none where the box contains the
jump; then only the crude bound below is used.

With ``T_{−i}(k) = P(at least k crashes among the other neurons)``,

``|Σ_{|s|>k} P(s) Δ(s)| ≤ Σ_i c_i P(i ∈ s, |s| > k) = Σ_i c_i p_i T_{−i}(k)``

and, for the second moment,
``Σ_{|s|>k} P(s) Δ(s)² ≤ Σ_i c_i² p_i T_{−i}(k) + Σ_{i ≠ j} c_i c_j p_i p_j T_{−i,−j}(k−1)``.

**The interaction tail (sharper; used for the mean).**  Write the crash of
neuron ``a`` with ``t_a ∈ [0, 1]`` (the neuron sends ``c_a + (1 − t_a)(y_a − c_a)``),
so the output is a function ``f`` on ``[0, 1]^N`` with ``Δ(s) = f(1_s) − f(0)``,
and let ``Δ_a = Δ({a})`` be the exact single-crash effects (evaluated at order
1).  For ``s = {a_1, …, a_m}`` and ``S_r = {a_1 … a_r}``, telescoping gives
``Δ(s) − Σ_{a ∈ s} Δ_a = Σ_r [f(1_{S_r}) − f(1_{S_{r−1}}) − f(e_{a_r}) + f(0)]``,
and each bracket is the mixed difference of ``F(u, v) = f(u 1_{S_{r−1}} + v e_{a_r})``
over ``[0, 1]²``, i.e. ``∫∫ Σ_{b ∈ S_{r−1}} ∂²f/∂t_b∂t_{a_r} du dv``.  Hence

``|Δ(s) − Σ_{a ∈ s} Δ_a| ≤ Σ_{{a, b} ⊆ s, a ≠ b} H̄_{ab}``,  ``H̄_{ab} ≥ sup_{[0,1]^N} |∂²f/∂t_a∂t_b|``,

with no diagonal term.  Summing with the probabilities (``P(a, b ∈ s, |s| > k) = p_a p_b T_{−a,−b}(k−1)``),

``Σ_{|s|>k} P(s) Δ(s) ∈ Σ_a Δ_a p_a T_{−a}(k) ± ½ Σ_{g,h} p_g p_h T_{−a,−b}(k−1) H[g, h]``

where ``H[g, h] ≥ Σ_{a ∈ g, b ∈ h} H̄_{ab}`` (sites ``g``, ``h``) comes from a
forward pass of first and second derivative bounds over the boxes
(:mod:`symft.walk.interaction`).  The linear part is *signed* and computed
(its float margin added), so only the interactions are bounded: the tail
shrinks by about ``k H / (N Σ c)`` against the per-neuron bound.  It needs
``k ≥ 1`` and a bound of ``|φ''|`` over each box (a kink inside a box, a
max pooling: not available, the other bounds are used).  The mean interval
is the intersection of this one and the one below.

**The second moment's interaction tail.**  In the same way, with
``L(s) = Σ_{a ∈ s} Δ_a``: ``|Δ(s)² − L(s)²| = |Δ − L| |Δ + L| ≤ (Σ_{{a,b} ⊆ s} H̄_{ab}) Σ_{c ∈ s} (c_c + |Δ_c|)``,
and ``Σ_{|s|>k} P(s) L(s)²`` is exact from the per-site sums of ``Δ_a`` and
``Δ_a²`` (with ``T_{−a}(k)`` and ``T_{−a,−b}(k−1)``), while the products of a
pair and a third neuron need ``T_{−a,−b,−c}(k−2)``
(:func:`_second_pair_tail` has the terms and the float errors).  So the
second moment's tail gets a *lower* bound too, and ``Var Δ`` intervals no
longer narrow only through the mean: about 10× narrower than with the
per-neuron bound alone on a sigmoid [64, 64, 64, 10] at p = 1e-3 and 1e-2.
The second-moment interval is the intersection of both (``tail="pairwise"``:
this one alone, where available).

**Pruning.**  With a width or a time budget, the configurations of the
last order may be evaluated only in part: :mod:`symft.engines.pruning`
bounds the rest by blocks (in the first-order and the pairwise form above,
and for the second moment), and their bounds are added to the tail.

**Crude bound.**  Interval propagation over all configurations gives boxes
``ŷ_l(s) ∈ [lo_l, hi_l]``, hence ``|Δ_k(s)| ≤ D_k``, and the tails are at most
``D_k P(|s| > k)`` and ``D_k² P(|s| > k)``.  The smaller of the two bounds is
used, per output.

Floating point
--------------
The tail probabilities are computed in exact rational arithmetic (Python
``Fraction``; floats are the binary rationals they hold) and rounded
outward.  The constants ``c`` are computed in float64 from non-negative
quantities and inflated by ``Π_l (1 + 2γ_{n_l+2})`` (``γ_n = n u / (1 − n u)``,
``u = 2^{-53}``): a product of non-negative matrices computed in floating
point is at least ``(1 − γ_n)`` times the exact one in every entry.  The
configurations with at most ``k`` crashes are evaluated in float64; every
computed ``Δ`` is within ``ε = 2 e_L`` of the exact one, where ``e_l`` is a
uniform forward-error bound over all configurations:
``e_l = K_l (|W_l| e_{l−1} + 4γ_{n_{l−1}+k+2} (|W_l| M_{l−1} + |b_l|)) + η (M_l + M^z_l + 1)``,
``M_l`` (``M^z_l``) the largest magnitude in the box of layer ``l`` (of its
pre-activation); ``4γ`` covers both the dense product (``γ_{n+1}``, any
summation order) and the sparse update ``z − Σ_{i ∈ s} W[:, i](y_i − γ_i)``
used for the first crashed layer (``+ γ_{k+2}(|z| + 2|W| M)``).  The
activation is assumed evaluated with ``|fl φ(z) − φ(z)| ≤ η (|φ(z)| + |z| + 1)``,
``η = 2^{-44}`` (about 256 ulp; NumPy's ``exp``/``tanh`` are accurate to a few
ulp and a piecewise-linear ``a z + b`` to ``2u(|a z| + |b|)``); ``η = 0`` for the
identity.  An activation with a bounded range ``[a, b]`` (tanh, sigmoid) is also assumed to
compute values in that range (up to ``η (|a| + |b| + 1)``), so its error is at most
``max(b − y_lo, y_hi − a)`` plus that: pre-activations near 1e200 leave the bound finite.  The
sums of ``Δ``, ``|Δ|`` and ``Δ²`` are taken of ``Δ 2^{−k}`` when the proved bound on ``|Δ|`` exceeds
``2^400`` (exact scaling, an underflowed term within ``2^{−1074}``), and the margins below are
computed in rationals, so ``p Σ Δ²`` is enclosed whenever it fits in float64, even when ``Σ Δ²``
does not; an enclosure float64 cannot hold is refused with its size.  The
summation errors (``γ_m`` times the sums of ``|Δ|`` and ``Δ²``) and the
squaring error are added, and the final combination is done in rationals
and rounded outward.  The margin is reported separately
(:attr:`Enclosure.margin_mean`).

Examples
--------
>>> import numpy as np
>>> from symft.graph.network import random_network
>>> from symft.faults import NeuronCrash
>>> from symft.engines.enumeration import enumerate_crashes
>>> net = random_network([3, 6, 5, 2], seed=1, activation="sigmoid")
>>> x, m = np.array([0.5, -1.0, 2.0]), NeuronCrash({1: 0.05, 2: 0.05})
>>> e = enclosure(net, x, m, order=2)
>>> ex = enumerate_crashes(net, x, m)
>>> bool(np.all((e.mean_lo <= ex.mean) & (ex.mean <= e.mean_hi)))
True
>>> bool(np.all(enclosure(net, x, m, order=3).width < e.width))
True
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, field
from fractions import Fraction
from numbers import Integral

import numpy as np
import sympy as sp

from ..utils import fraction_down as _down, fraction_up as _up
from .. import cost
from ..errors import FaultModelError, FloatOverflowError, InvalidArgument, NotSmooth, TooLargeError
from ..faults import NeuronCrash
from ..graph.activations import ETA
from ..problem import as_model, make_problem
from ..progress import progress as _progress
from ..threads import blas_threads
from ..walk.configurations import Combinations, Stage, walk_configurations
from ..walk.errorbound import AbsSensitivity, BoxAndError
from ..walk.interaction import pair_bounds
from .pruning import Block, Geometry, comb, plan_budget, plan_room, prune_site
from ..walk.numeric import Numeric, crash_values_float
from ..walk.walker import walk, walk_reverse
from ..results import result
from ..rounding import rounded

__all__ = ["Enclosure", "enclosure", "enclosure_estimate", "per_neuron_bounds", "choose_order"]

_U = 2.0 ** -53
_CHUNK_BYTES = 8 * 2 ** 20


def _gamma(n):
    nu = n * _U
    return nu / (1.0 - nu)


# =====================================================================================
# result
# =====================================================================================

@result
@dataclass(frozen=True, eq=False)
class Enclosure:
    r"""Certified intervals for ``E Δ``, ``E Δ²`` and ``Var Δ`` (one per output).

    Every true value lies in its ``[lo, hi]``.  Arrays are ``(n_out,)``, or
    ``(B, n_out)`` for a batch of inputs.

    Attributes
    ----------
    mean_lo, mean_hi, second_lo, second_hi, var_lo, var_hi : ndarray
    partial_mean, partial_second : ndarray
        The exact contribution (float64) of the configurations with at most
        ``order`` crashes.
    tail_mean, tail_second : ndarray
        The rigorous bounds on the rest.
    margin_mean, margin_second : ndarray
        The floating-point margins added (see the module docstring).
    tail_method : ndarray of str
        ``"pairwise"``, ``"per-neuron"`` or ``"crude"``: which tail bound gave the
        narrower mean interval (the interval is the intersection of all that apply).
    mass : float
        Probability of the evaluated configurations (rounded down).
    order : int
    configurations : int
        Configurations evaluated per input.
    pruned : int
        Configurations with at most ``order`` crashes that were not
        evaluated but bounded (pruning, :mod:`symft.engines.pruning`; the
        largest number over the inputs).
    seconds : float
    method : str
        ``"enclosure"``.
    layers : tuple of int

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> e = enclosure(mean_network(8), np.ones(8), NeuronCrash({0: 0.01}), order=2)
    >>> bool(e.mean_lo[0] <= -0.01 <= e.mean_hi[0]), e.order, e.configurations
    (True, 2, 37)
    """

    mean_lo: np.ndarray
    mean_hi: np.ndarray
    second_lo: np.ndarray
    second_hi: np.ndarray
    var_lo: np.ndarray
    var_hi: np.ndarray
    partial_mean: np.ndarray = field(repr=False, default=None)
    partial_second: np.ndarray = field(repr=False, default=None)
    tail_mean: np.ndarray = field(repr=False, default=None)
    tail_second: np.ndarray = field(repr=False, default=None)
    margin_mean: np.ndarray = field(repr=False, default=None)
    margin_second: np.ndarray = field(repr=False, default=None)
    tail_method: np.ndarray = field(repr=False, default=None)
    mass: float = 0.0
    order: int = 0
    configurations: int = 0
    pruned: int = 0
    seconds: float = 0.0
    method: str = "enclosure"
    layers: tuple = ()

    @property
    def width(self) -> np.ndarray:
        """``mean_hi − mean_lo``.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> bool(enclosure(mean_network(4), np.ones(4), NeuronCrash({0: 0.1}), order=4).width[0] < 1e-12)
        True
        """
        return self.mean_hi - self.mean_lo

    @property
    def mean(self) -> np.ndarray:
        """Midpoint of the mean interval (the interval is the certified statement).

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> float(enclosure(mean_network(2), np.ones(2), NeuronCrash({0: 0.5}), order=2).mean[0])
        -0.5
        """
        return 0.5 * (self.mean_lo + self.mean_hi)

    @property
    def var(self) -> np.ndarray:
        """Midpoint of the variance interval.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> float(enclosure(mean_network(2), np.ones(2), NeuronCrash({0: 0.5}), order=2).var[0])
        0.125
        """
        return 0.5 * (self.var_lo + self.var_hi)

    def as_dict(self) -> dict:
        """JSON-ready: ``mean``, ``var``, ``std`` (midpoints), ``mean_lo``, ``mean_hi``, ``var_lo``,
        ``var_hi``, ``second_lo``, ``second_hi``, ``method``, ``order``, ``configurations``, ``seconds``, …

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> d = enclosure(mean_network(2), np.ones(2), NeuronCrash({0: 0.5}), order=1).as_dict()
        >>> d["method"], d["order"], d["configurations"]
        ('enclosure', 1, 3)
        """
        tl = lambda a: np.asarray(a, dtype=float).tolist()  # noqa: E731
        return {"mean": tl(self.mean), "var": tl(self.var), "std": tl(np.sqrt(self.var)),
                "mean_lo": tl(self.mean_lo), "mean_hi": tl(self.mean_hi),
                "var_lo": tl(self.var_lo), "var_hi": tl(self.var_hi),
                "second_lo": tl(self.second_lo), "second_hi": tl(self.second_hi),
                "tail_mean": tl(self.tail_mean), "margin_mean": tl(self.margin_mean),
                "tail_method": np.asarray(self.tail_method).tolist(),
                "mass": float(self.mass), "method": self.method, "order": int(self.order),
                "configurations": int(self.configurations), "pruned": int(self.pruned),
                "seconds": float(self.seconds),
                "layers": list(self.layers)}

    def summary(self, names=None) -> str:
        """Human-readable table; every end rounded outward (the printed intervals contain the proved ones).

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> print(enclosure(mean_network(2), np.ones(2), NeuronCrash({0: 0.5}), order=2).summary())
        ... # doctest: +ELLIPSIS
        certified enclosure, order 2: 4 configurations ...
        """
        lo = np.atleast_2d(self.mean_lo)
        n_out = lo.shape[1]
        names = list(names) if names else [str(k) for k in range(n_out)]
        rows = [f"certified enclosure, order {self.order}: {self.configurations} configurations per input "
                f"evaluated exactly (probability mass ≥ {rounded(self.mass, 'down', 12)}), the rest bounded; "
                f"{self.seconds:.3g} s"]
        arrs = [np.atleast_2d(a) for a in (self.mean_lo, self.mean_hi, self.var_lo, self.var_hi)]
        for b in range(lo.shape[0]):
            if lo.shape[0] > 1:
                rows.append(f"input {b}")
            rows.append(f"  {'output':<10} {'E Δ lo':>14} {'E Δ hi':>14} {'width':>10} {'Var lo':>12} {'Var hi':>12}")
            for k in range(n_out):
                ml, mh, vl, vh = (a[b, k] for a in arrs)
                rows.append(f"  {names[k]:<10} {rounded(ml, 'down', 8):>14} {rounded(mh, 'up', 8):>14} "
                            f"{rounded(Fraction(mh) - Fraction(ml), 'up', 3):>10} {rounded(vl, 'down'):>12} "
                            f"{rounded(vh, 'up'):>12}")
        return "\n".join(rows)


# =====================================================================================
# bounds
# =====================================================================================

@dataclass(frozen=True, eq=False)
class _Bounds:
    c: dict          # {site key: (n_site, n_out)} per-neuron constants (inf allowed)
    D: np.ndarray    # (n_out,) crude bound on |Δ|
    eps: np.ndarray  # (n_out,) bound on the float error of one computed Δ
    pair: np.ndarray | None = None  # (L, L, n_out) summed mixed-derivative bounds, None without one


def per_neuron_bounds(net, x, model: NeuronCrash, order: int = 0):
    r"""Per-neuron constants ``c`` with ``|Δ_k(s)| ≤ Σ_{(l,i) ∈ s} c[l][i, k]`` for every crash set ``s``.

    Also returns the crude bound ``D`` (``|Δ_k(s)| ≤ D_k`` for every ``s``)
    from interval propagation.  See the module docstring for the derivation
    and the floating-point inflation.

    Returns
    -------
    (dict {site key: ndarray (n_site, n_out)}, ndarray (n_out,))

    Examples
    --------
    >>> from symft.graph.network import first_input_network
    >>> c, D = per_neuron_bounds(first_input_network(3), np.array([2.0, 5.0, 7.0]), NeuronCrash({0: 0.1}))
    >>> [float(v) for v in c[0][:, 0]], float(D[0])
    ([2.0..., 0.0, 0.0], 2.0...)
    """
    pb = make_problem(net, x, model)
    if pb.B != 1:
        raise InvalidArgument("x: expected one input")
    b = _bounds(net, {n: v for n, v in pb.clean.values.items()}, pb.model, order)
    return b.c, b.D


def _bounds(net, clean, model, order, input_error=None) -> _Bounds:
    """Boxes, float-error bounds and per-neuron constants for one input (``clean``: its clean pass)."""
    sem = model.semantics
    keys = list(model.layers)
    sites = {net.site(k): k for k in keys}
    x = clean[net.input]
    fwd = BoxAndError(net, {s: sem for s in sites}, order=order, input_error=input_error)
    vals = walk(net, fwd, x)
    box, e = vals[net.output]
    yL = clean[net.output].reshape(-1)
    eL = e.reshape(-1)
    with np.errstate(invalid="ignore"):
        D = np.maximum(box.hi.reshape(-1) - yL, yL - box.lo.reshape(-1)) + eL
        eps = 2 * eL + 1e-300
    n_out = net.n_outputs
    seed = np.eye(n_out).reshape((n_out,) + tuple(net.output_shape))
    G = walk_reverse(net, AbsSensitivity(fwd.slopes), vals, seed, list(sites))
    c = {}
    for s, k in sites.items():
        y = clean[s].reshape(-1)
        cv = fwd.crash_float[s]
        es = vals[s][1].reshape(-1)
        d = np.abs(cv - y) * (1 + 2 * _U) + es + ETA * (np.abs(cv) + 1.0)
        Gs = G[s]
        Gs = np.zeros((n_out, y.size)) if Gs is None else Gs.reshape(n_out, -1)
        with np.errstate(invalid="ignore", over="ignore"):
            cl = (Gs * d[None, :]).T * (1 + 4 * _U)
        c[k] = np.where(np.isnan(cl), np.inf, cl)
    try:
        _, pair = pair_bounds(net, vals, {s: sem for s in sites})
    except NotSmooth:
        pair = None
    return _Bounds(c, D, eps, pair)


# =====================================================================================
# exact tail probabilities (rational)
# =====================================================================================

def _binom_pmf_prefix(n, q: Fraction, kmax):
    """P(Bin(n, q) = j) for j = 0 … kmax, exactly."""
    return [Fraction(math.comb(n, j)) * q ** j * (1 - q) ** (n - j) if j <= n else Fraction(0)
            for j in range(kmax + 1)]


def _conv_prefix(a, b, kmax):
    return [sum((a[i] * b[j - i] for i in range(j + 1)), Fraction(0)) for j in range(kmax + 1)]


def _tail_at_least(sizes, probs, k):
    """P(Σ_g Bin(sizes[g], probs[g]) ≥ k), exactly."""
    if k <= 0:
        return Fraction(1)
    pmf = [Fraction(1)] + [Fraction(0)] * (k - 1)
    for n, q in zip(sizes, probs):
        if n > 0:
            pmf = _conv_prefix(pmf, _binom_pmf_prefix(n, q, k - 1), k - 1)
    return 1 - sum(pmf, Fraction(0))


# =====================================================================================
# enumeration of the configurations with at most k crashes
# =====================================================================================

def _kappas(sizes, k):
    """Count vectors κ with Σ κ ≤ k, κ_g ≤ n_g (lexicographic; only the vectors that qualify are visited)."""
    out = []

    def rec(g, left, prefix):
        if g == len(sizes):
            out.append(tuple(prefix))
            return
        for c in range(min(sizes[g], left) + 1):
            rec(g + 1, left - c, prefix + [c])

    rec(0, k, [])
    return out


def _count(sizes, order):
    return sum(int(np.prod([math.comb(n, k) for n, k in zip(sizes, kap)])) for kap in _kappas(sizes, order))


def _input_error(pb, b):
    """``|float input − given input|`` bounds when the input was given exactly (e.g. ``"1/10"``), else None."""
    if pb.exact_given is None:
        return None
    xf = pb.X[b]
    exact = pb.exact_rows[b]
    off = [sp.Rational(float(v)) != v for v in exact]
    if not any(off):
        return None
    return np.where(off, np.abs(xf) * 2 * _U + 1e-300, 0.0).reshape((1,) + tuple(pb.net.input_shape))


def _check_model(net, model, where="model") -> NeuronCrash:
    if not isinstance(model, NeuronCrash):
        raise InvalidArgument(f"{where}: expected a NeuronCrash failure model, got {type(model).__name__}")
    return as_model(net, model)


def choose_order(net, model: NeuronCrash, max_configurations: int = 2 ** 21, n_inputs: int = 1, *,
                 path: str = "enclosure") -> int:
    r"""The largest order whose configurations (× inputs) fit in ``max_configurations`` and in the time limit.

    The time is predicted by :func:`enclosure_estimate` (the work of the
    configurations × inputs, at the constant of the cost path ``path``:
    ``"enclosure"``, or ``"accuracy"`` for the class decisions of
    :func:`symft.analysis.accuracy.accuracy`) and the limit is the one of
    :mod:`symft.cost` (``--max-time``, :func:`symft.cost.time_limit`), so an
    automatic order adapts to it rather than being refused.

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> from symft.cost import time_limit
    >>> net = random_network([64, 128, 64, 10], seed=0)
    >>> choose_order(net, NeuronCrash({1: 1e-4, 2: 1e-4}))
    3
    >>> with time_limit(0.5):
    ...     choose_order(net, NeuronCrash({1: 1e-4, 2: 1e-4})) < 3
    True
    """
    from .enumeration import enumeration_estimate

    model = _check_model(net, model)
    sizes = [net.site_size(l) for l in model.layers]
    N = sum(sizes)
    limit, _ = cost.current_limit()
    k = 0
    while k < N and _count(sizes, k + 1) * n_inputs <= max_configurations and enumeration_estimate(
            net, model, n_inputs, configurations=_count(sizes, k + 1), path=path).seconds <= limit:
        k += 1
    return k


_SEARCH_ORDER = 12
_TAILS = ("best", "first-order", "pairwise")


class _Weights(dict):
    """``P(one configuration with count vector κ)`` = ``Π_g q_g^κ_g (1 − q_g)^(n_g − κ_g)``, exact, made on demand."""

    def __init__(self, qs, sizes):
        super().__init__()
        self.qs, self.sizes = qs, sizes

    def __missing__(self, kap):
        w = Fraction(1)
        for q, n, k in zip(self.qs, self.sizes, kap):
            w *= q ** k * (1 - q) ** (n - k)
        self[kap] = w
        return w

    def rounded(self, kap):
        """``(w_f, err)``: the weight rounded to a float and a float bound of ``|w − w_f|`` (both as Fractions)."""
        key = ("rounded", kap)
        if key not in self:
            w = self[kap]
            wf = Fraction(float(w))
            self[key] = (wf, Fraction(_up(abs(w - wf))))
        return self[key]


def _level_kappas(sizes, j):
    """Count vectors κ with Σ κ = j, κ_g ≤ n_g (lexicographic)."""
    return [kap for kap in _kappas(sizes, j) if sum(kap) == j]


def _level_count(sizes, kap):
    return int(np.prod([math.comb(n, k) for n, k in zip(sizes, kap)], dtype=object))


def _tail_probabilities(sizes, qs_exact, order):
    """Exact ``T_{−i}(k)`` per site, ``T_{−i,−j}(k−1)`` per pair of sites and ``P(|s| > k)``."""
    L = len(sizes)
    T1 = []
    for g in range(L):
        s2 = list(sizes)
        s2[g] -= 1
        T1.append(_tail_at_least(s2, qs_exact, order))
    T2 = {}
    for g in range(L):
        for h in range(L):
            s2 = list(sizes)
            s2[g] -= 1
            s2[h] -= 1
            T2[(g, h)] = _tail_at_least(s2, qs_exact, order - 1) if min(s2) >= 0 else Fraction(0)
    return T1, T2, _tail_at_least(sizes, qs_exact, order + 1)


def _fsum_up(a) -> float:
    """An upper bound of the exact sum of the floats ``a`` (``math.fsum`` is correctly rounded; one step up)."""
    try:
        return float(np.nextafter(math.fsum(np.asarray(a, dtype=float).ravel().tolist()), np.inf))
    except OverflowError:
        return math.inf


def _probs_up(probs):
    """The tail probabilities rounded up to floats (as Fractions): they only multiply non-negative bounds."""
    T1, T2, P = probs
    return [Fraction(_up(t)) for t in T1], {k: Fraction(_up(v)) for k, v in T2.items()}, Fraction(_up(P))


def _neuron_sums(bd, layers, n_out):
    """Per output: upper bounds of ``Σ_i c_i`` and ``Σ_i c_i²`` per site, or None when some ``c`` is infinite."""
    out = []
    for o in range(n_out):
        sums, sq = [], []
        for l in layers:
            cg = bd.c[l][:, o]
            if not np.all(np.isfinite(cg)):
                sums = None
                break
            with np.errstate(over="ignore"):
                s1, s2 = _fsum_up(cg), _fsum_up(np.nextafter(cg * cg, np.inf))
            if math.isfinite(s1) and math.isfinite(s2):
                sums.append(Fraction(s1))
                sq.append(Fraction(s2))
            else:       # beyond float range: exact rationals
                fr = [Fraction(float(v)) for v in cg]
                sums.append(sum(fr, Fraction(0)))
                sq.append(sum((v * v for v in fr), Fraction(0)))
        out.append(None if sums is None else (sums, sq))
    return out


def _tails(bd, nsums, qs_exact, probs, order):
    """Rigorous bounds on the first and second moment of the configurations with more than ``order`` crashes."""
    T1, T2, P_tail = _probs_up(probs)
    L = len(qs_exact)
    tm, ts, how = [], [], []
    for o, ns in enumerate(nsums):
        per = per2 = None
        if ns is not None:
            sums, sq = ns
            per = per2 = Fraction(0)
            for g in range(L):
                per += qs_exact[g] * T1[g] * sums[g]
                per2 += qs_exact[g] * T1[g] * sq[g]
                for h in range(L):
                    pair = sums[g] * sums[h] - (sq[g] if g == h else 0)
                    per2 += qs_exact[g] * qs_exact[h] * T2[(g, h)] * pair
        Dk = float(bd.D[o])
        crude = Fraction(Dk) * P_tail if np.isfinite(Dk) else None
        crude2 = Fraction(Dk) ** 2 * P_tail if np.isfinite(Dk) else None
        cands = [(v, nm) for v, nm in ((per, "per-neuron"), (crude, "crude")) if v is not None]
        cands2 = [v for v in (per2, crude2) if v is not None]
        if P_tail == 0:
            cands, cands2 = [(Fraction(0), "none")], [Fraction(0)]
        if not cands:
            raise InvalidArgument("enclosure: no finite bound on the error of the configurations with "
                                  f"more than {order} crashes (an activation without a slope bound and an "
                                  "unbounded range); use a higher order or enumerate_crashes")
        t1, nm = min(cands, key=lambda t: t[0])
        tm.append(t1)
        ts.append(min(cands2))
        how.append(nm)
    return tm, ts, how


def _seconds_text(t):
    return cost.format_seconds(t)


def _positive(v, where):
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise InvalidArgument(f"{where}: expected a positive number, got {v!r}") from None
    if not (math.isfinite(f) and f > 0):
        raise InvalidArgument(f"{where}: expected a positive number, got {v!r}")
    return f


def enclosure_estimate(net, model: NeuronCrash, order: int, n_inputs: int = 1, *, path: str = "enclosure"):
    r"""The predicted time (:class:`symft.cost.Estimate`, path ``"enclosure"``) of an enclosure of ``order``.

    The configurations with at most ``order`` crashes × inputs × the
    multiply-adds downstream of the crash sites
    (:func:`symft.engines.enumeration.enumeration_estimate`), at the constant
    of the cost path ``path`` (``"accuracy"`` for the same configurations
    turned into class decisions, :func:`symft.analysis.accuracy.accuracy_estimate`).

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> e = enclosure_estimate(random_network([4, 30, 2], seed=0), NeuronCrash({1: 1e-3}), 2)
    >>> e.path, e.basis
    ('enclosure', '466 configurations')
    """
    from .enumeration import count_configurations, enumeration_estimate

    return enumeration_estimate(net, model, n_inputs, configurations=count_configurations(net, model, order),
                                path=path)


def _guard_time(net, model, upto, order, B):
    """Refuse (before any work) an order predicted to take longer than the time limit (:mod:`symft.cost`)."""
    from .enumeration import enumeration_estimate

    def est(k):
        return enumeration_estimate(net, model, B, configurations=upto[k], path="enclosure")

    e = est(order)
    limit, _ = cost.current_limit()
    if e.seconds <= limit:
        return
    k_ok = next((k for k in range(order - 1, -1, -1) if est(k).seconds <= limit), 0)
    cost.check(e, f"enclosure: order {order}",
               f"use order {k_ok} (--order {k_ok}, {cost.format_seconds(est(k_ok).seconds)}), sampling "
               "(symft sample), or force=True / --force")


def enclosure(net, x, model: NeuronCrash, order: int | str = 2, *, force: bool = False,
              progress: bool | None = None, max_configurations: int | None = 2 ** 24,
              width: float | None = None, time_limit: float | None = None, tail: str = "best",
              prune: bool = True) -> Enclosure:
    r"""Certified intervals for ``E Δ``, ``E Δ²`` and ``Var Δ`` (exact up to order ``k``, bounded tail).

    All configurations with at most ``order`` crashes are evaluated; the
    others are bounded with the per-neuron bound (or the crude bound when
    smaller): see the module docstring for the derivation and the
    floating-point margin.  The width of the mean interval shrinks with the
    order (roughly by a factor ``N p / (k + 1)`` per order).  The
    configurations are generated in blocks (:class:`~symft.walk.configurations.Combinations`),
    so memory does not grow with their number.

    Parameters
    ----------
    net : Network
        Numeric (no symbols).
    x : array_like
        One input ``(n_0,)`` or a batch ``(B, n_0)``.
    model : NeuronCrash
        Numeric probabilities (floats or rationals).
    order : int or "auto"
        ``k``: configurations with at most ``k`` crashes are evaluated.
        ``"auto"``: the largest order within ``2^21`` configurations × inputs
        (:func:`choose_order`; about a second on a laptop), or, with ``width``
        or ``time_limit``, the order that meets them.
    force : bool
        Evaluate even above ``max_configurations``.
    progress : bool or None
        Progress bar on stderr.
    max_configurations : int or None
        Refusal limit on the evaluated configurations × inputs (not applied
        under ``time_limit`` alone: the time is the limit then).
    tail : {"best", "first-order", "pairwise"}
        Which bound of the configurations with more than ``order`` crashes:
        the first-order per-neuron bound (or the crude one), the exact linear
        part plus the pairwise-interaction bound (needs ``order ≥ 1`` and a
        second-derivative bound of every activation over its box; without
        one the first-order bound is used), or the intersection of both
        (default).  See "The interaction tail" in the module docstring.
    width : float or None
        With ``order="auto"``: the smallest order whose mean intervals are all
        at most this wide.  The order is predicted from the tail bound (known
        before any evaluation) and raised by one while the measured width is
        still too large.  Refused up front (``TooLargeError``, with the
        estimated time) when no order up to 12 reaches it, when it needs more
        than ``max_configurations`` (unless ``force``), or when its estimated
        time exceeds ``time_limit``.
    time_limit : float or None
        With ``order="auto"``: a budget in seconds.  The orders are evaluated
        one after the other; the next one is started only when its estimated
        time (its configurations ÷ the configurations per second measured on
        the previous one) fits in what is left.  With ``prune`` (from order
        2 on) the budget is a deadline: each order is evaluated in blocks,
        most sensitive neurons first, the clock read between blocks, and
        what the deadline leaves out is bounded (:mod:`symft.engines.pruning`)
        instead of evaluated; when the next order does not fit, what is left
        goes to its most sensitive configurations (the blocks chosen by
        :func:`~symft.engines.pruning.plan_budget`, then the others while
        time remains).  That order is kept only if its widest mean interval
        is at least 1 % narrower than the order below, which is kept
        otherwise.  A reserve of 3 % of the budget plus three times the time
        of combining the result is kept for the end.  The result is a valid
        enclosure whatever the order reached.
    prune : bool
        With ``width`` or ``time_limit``: skip the configurations of the last
        order whose contribution is provably small, and bound them instead
        (:mod:`symft.engines.pruning`; sound, rounding included).  With
        ``width``, the room the tail leaves below the width (45 % of it) is
        spent on the least sensitive configurations; when the measured width
        still misses, the pruned configurations are evaluated after all.
        ``Enclosure.pruned`` counts them.

    Returns
    -------
    Enclosure

    Raises
    ------
    TooLargeError
        When the order needs too many configurations; the message names the
        largest order within the limit and the estimated time.

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> net = random_network([4, 30, 2], seed=0, activation="tanh")
    >>> e = enclosure(net, np.ones(4), NeuronCrash({1: 1e-3}), order=2)
    >>> bool(np.all(e.width < 1e-5)), e.configurations
    (True, 466)
    >>> net2 = random_network([4, 30, 30, 2], seed=0, activation="tanh")
    >>> e = enclosure(net2, np.ones(4), NeuronCrash({1: 1e-3, 2: 1e-3}), order="auto", width=1e-5)
    >>> e.order, bool(np.all(e.width <= 1e-5))
    (2, True)
    >>> enclosure(net, np.ones(4), NeuronCrash({1: 1e-3}), order="auto", time_limit=5.0).order >= 1
    True

    Values beyond float64 are refused, not returned as ``inf``:

    >>> from symft.graph.network import Network
    >>> big = Network.from_numpy([np.array([[1e200, 1e200]]), np.array([[1e200]])], activations=["tanh", "linear"])
    >>> enclosure(big, [1.0, 1.0], NeuronCrash({1: 0.1}), order=1)
    Traceback (most recent call last):
    ...
    symft.errors.FloatOverflowError: enclosure: ...
    """
    try:
        return _enclose(net, x, model, order, force=force, progress=progress, max_configurations=max_configurations,
                        width=width, time_limit=time_limit, tail=tail, prune=prune)
    except FloatOverflowError:
        raise
    except OverflowError as e:          # a float bound beyond ±1.8e308 met an exact (Fraction) step
        raise FloatOverflowError(f"enclosure: a bound overflows float64 ({e}): the network's outputs, their "
                                 "changes or their error bounds are beyond ±1.8e308 — scale the weights down") from None


def _enclose(net, x, model, order, *, force, progress, max_configurations, width, time_limit, tail,
             prune) -> Enclosure:
    """The body of :func:`enclosure` (whose overflow it turns into :class:`~symft.errors.FloatOverflowError`)."""
    t0 = time.perf_counter()
    if tail not in _TAILS:
        raise InvalidArgument(f"tail: expected one of {', '.join(_TAILS)}, got {tail!r}")
    model = _check_model(net, model)
    pb = make_problem(net, x, model)
    width = _positive(width, "width")
    time_limit = _positive(time_limit, "time_limit")
    targeted = width is not None or time_limit is not None
    if targeted and order != "auto":
        raise InvalidArgument(f"order: width and time_limit choose the order; pass order='auto', not {order!r}")
    if order == "auto" and not targeted:
        order = choose_order(net, model, n_inputs=pb.B)
    if not targeted and (not isinstance(order, Integral) or isinstance(order, bool) or order < 0):
        raise InvalidArgument(f"order: expected a non-negative integer, got {order!r}")
    for l in model.layers:
        q = model.probability(l)
        if isinstance(q, sp.Basic) and q.free_symbols:
            raise FaultModelError(f"p of layer {l} is symbolic; an enclosure needs numbers "
                                  "(use symft.engines.enumeration.mean_polynomial for a polynomial in p)")
    B, single = pb.B, pb.single
    layers = list(model.layers)
    sizes = [net.site_size(l) for l in layers]
    N = sum(sizes)
    qs_exact = [Fraction(float(q)) if isinstance(q, float) else
                (Fraction(int(q.p), int(q.q)) if isinstance(q, sp.Rational) else Fraction(q))
                for q in (model.probability(l) for l in layers)]
    n_out = net.n_outputs
    k_max = min(N, _SEARCH_ORDER) if targeted else int(order)
    levels, lcount = [], []
    for j in range(k_max + 1):
        levels.append(_level_kappas(sizes, j))
        lcount.append(sum(_level_count(sizes, kap) for kap in levels[-1]))
        if targeted and sum(lcount) > 10 ** 13:      # beyond any budget: stop the search here
            k_max = j
            break
    upto = list(itertools.accumulate(lcount))
    limit = None if force or max_configurations is None else max_configurations
    cvals = {l: crash_values_float(net, l, model.semantics) for l in layers}
    interp = Numeric(net, skip_linear=True, tall=True)
    cleans = [{n: v[b:b + 1] for n, v in pb.clean.values.items()} for b in range(B)]
    weights = _Weights(qs_exact, sizes)

    if not targeted and not force:
        _guard_time(net, model, upto, order, B)
    if not targeted and limit is not None and upto[order] * B > limit:
        k_ok = 0
        while k_ok < order and sum(math.comb(N, j) for j in range(k_ok + 2)) * B <= limit:
            k_ok += 1
        rate = _calibrate(net, cleans[0], layers, sizes, cvals, interp)
        raise TooLargeError(
            f"enclosure: order {order} needs {upto[order]:.4g} configurations"
            f"{f' × {B} inputs' if B > 1 else ''} (limit {limit:.4g}), about "
            f"{_seconds_text(upto[order] * B / rate)} at the {rate:.3g} configurations/s measured here; "
            f"use order={k_ok} (--order {k_ok}), sampling (symft sample), or force=True / --force")

    bds = [_bounds(net, cleans[b], model, k_max, _input_error(pb, b)) for b in range(B)]
    for b, bd in enumerate(bds):
        if not np.all(np.isfinite(bd.eps)):
            o = int(np.flatnonzero(~np.isfinite(bd.eps))[0])
            raise FloatOverflowError(
                f"enclosure: {'' if single else f'input {b}, '}output {o}: the bound on the float64 rounding "
                "error of the clean output overflows (beyond ±1.8e308): the network's values are too large for "
                "a certified enclosure in float64 — scale the weights down")
    nsums = [_neuron_sums(bd, layers, n_out) for bd in bds]
    probs_at = {}

    def probs(k):
        if k not in probs_at:
            probs_at[k] = _tail_probabilities(sizes, qs_exact, k)
        return probs_at[k]

    def left():
        return time_limit - (time.perf_counter() - t0)

    probs3_at = {}

    def probs3(k):
        if k not in probs3_at:
            probs3_at[k] = _tail_probabilities3(sizes, qs_exact, k)
        return probs3_at[k]

    fin = dict(sizes=sizes, probs3=probs3, layers=layers)

    rate = _calibrate(net, cleans[0], layers, sizes, cvals, interp) if targeted else None
    target = k_max
    if width is not None:
        target, pred = None, math.inf
        for k in range(k_max + 1):
            pred = max(_predicted_width(bd, ns, qs_exact, probs(k), k, tail) for bd, ns in zip(bds, nsums))
            if pred <= width:
                target = k
                break
        if target is None:
            raise TooLargeError(f"width: {width:g} is out of reach; order {k_max} still gives a predicted width "
                                f"of {pred:.3g} (use a larger width, sampling (symft sample), or a fixed --order)")
        est = upto[target] * B / rate
        too_many = limit is not None and upto[target] * B > limit
        too_long = time_limit is not None and est > left()
        if too_many or too_long:
            why = ([f"more than the limit of {limit:.4g} configurations (force=True / --force lifts it)"]
                   if too_many else []) + ([f"more than the {max(0.0, left()):.3g} s left"] if too_long else [])
            raise TooLargeError(f"width: {width:g} needs order {target} ({upto[target]:.4g} configurations"
                                f"{f' × {B} inputs' if B > 1 else ''}), about {_seconds_text(est)} at the "
                                f"{rate:.3g} configurations/s measured here: {' and '.join(why)}")
    elif time_limit is not None:
        k1 = min(1, k_max)
        est = upto[k1] * B / rate
        if est > left():
            raise TooLargeError(f"time: even order {k1} needs {upto[k1]:.4g} configurations"
                                f"{f' × {B} inputs' if B > 1 else ''}, about {_seconds_text(est)} at the "
                                f"{rate:.3g} configurations/s measured here, more than the {max(0.0, left()):.3g} s "
                                f"left (use a time of at least {_seconds_text(1.5 * est)}, or sampling: symft sample)")
    acc = [[[Fraction(0)] * n_out for _ in range(4)] + [{}] for _ in range(B)]   # S1, S2, Mg1, Mg2, singles
    done = -1
    plans = [{} for _ in range(B)]     # per input {κ: Block}: the pruned configurations of the last level
    final = None                       # the result, when the time budget already made it
    geos = [None] * B

    def geometry(b):
        """The ranked neurons of input b, or None when its blocks cannot be bounded (an infinite c)."""
        if geos[b] is None:
            if any(ns is None for ns in nsums[b]) or any(g not in acc[b][4] for g in range(len(layers))):
                return None
            geos[b] = Geometry(sizes, {g: bds[b].c[l] for g, l in enumerate(layers)},
                               bds[b].pair if tail != "first-order" else None, bds[b].eps, range(len(layers)))
            geos[b].set_singles({g: acc[b][4][g][2] for g in range(len(layers))})
        return geos[b]

    def parts(b, rest=False):
        out = {}
        for kap, blk in plans[b].items():
            g = blk.site
            keep = blk.kept_rows(sizes)
            out[kap] = ((g, keep, math.comb(sizes[g], kap[g]), geos[b].perms[g]) if rest
                        else (g, 0, keep, geos[b].perms[g]))
        return out

    def pruned_terms():
        return [[geos[b].exact(blk, *weights.rounded(kap)) for kap, blk in plans[b].items()] for b in range(B)]

    def level_by_blocks(j, deadline):
        """Evaluate level j block by block (ranked): the blocks ``plans`` keeps first, then the others while time
        is left; whatever the deadline leaves is pruned (bounded)."""
        nonlocal rate
        for b in range(B):
            state = {}
            for kap in levels[j]:
                g = prune_site(sizes, kap)
                state[kap] = [g, 0, plans[b][kap].first if kap in plans[b] else sizes[g] - kap[g] + 1]
            late = False
            for pass_ in (0, 1):
                for kap, st in state.items():
                    g, f, f_end = st
                    n, k = sizes[g], kap[g]
                    if pass_:
                        f_end = n - k + 1
                    others = Block(kap, g, 0).others(sizes)
                    rank = lambda f: comb(n, k) - comb(n - f, k)  # noqa: E731 - first rank of the block f
                    chunk = max(2000, int(0.02 * time_limit * rate))
                    while f < f_end and not late:
                        f2 = f + 1
                        while f2 < f_end and (rank(f2) - rank(f)) * others < chunk:
                            f2 += 1
                        rows = (rank(f2) - rank(f)) * others
                        if time.perf_counter() + rows / rate > deadline:
                            late = True
                            break
                        tc = time.perf_counter()
                        _evaluate_level(net, cleans[b], [kap], layers, sizes, cvals, interp, bds[b], weights,
                                        acc[b], bar, part={kap: (g, rank(f), rank(f2), geos[b].perms[g])})
                        if rows >= 1000:
                            rate = rows / max(time.perf_counter() - tc, 1e-9)
                        f = f2
                    st[1] = f
            plans[b] = {kap: Block(kap, g, f) for kap, (g, f, _) in state.items()
                        if Block(kap, g, f).pruned_count(sizes) > 0}

    with _progress(upto[target] * B, "enclosure: configurations", enabled=progress) as bar, blas_threads():
        j = 0
        while j <= k_max:
            if (j >= 2 and time_limit is not None and width is None and prune
                    and all(geometry(b) is not None for b in range(B))):
                # time budget: a hard deadline (the rest of the level pruned, bounded), what is left of it spent
                # on the next order's most sensitive configurations, kept only if narrower than the order below
                saved = [[list(a[0]), list(a[1]), list(a[2]), list(a[3]), dict(a[4])] for a in acc]
                for k in (j - 1, j):         # the tail probabilities, before the clock is read
                    probs(k), probs3(k)
                tf = time.perf_counter()
                prev_res = _finish(acc, bds, nsums, qs_exact, probs(j - 1), j - 1, tail, **fin)
                t_fin = time.perf_counter() - tf
                deadline = t0 + time_limit - 0.03 * time_limit - 3 * t_fin
                if lcount[j] * B / rate > deadline - time.perf_counter():
                    rows = int(0.9 * rate * (deadline - time.perf_counter()) / B)
                    if rows <= 0:
                        break
                    for b in range(B):
                        prev = _predicted_halves(bds[b], nsums[b], qs_exact, probs(j - 1), j - 1, tail)
                        now = _predicted_halves(bds[b], nsums[b], qs_exact, probs(j), j, tail)
                        plans[b] = plan_budget(geos[b], levels[j], {k: float(weights[k]) for k in levels[j]},
                                               rows, np.minimum(*prev), now[1] < now[0])
                        est = np.minimum(*now) + sum(
                            (_block_cost(geos[b], blk, float(weights[k]), now) for k, blk in plans[b].items()),
                            np.zeros(n_out))
                        if np.max(est) >= 0.9 * np.max(np.minimum(*prev)):
                            plans[b] = None
                    if any(pl is None for pl in plans):     # no better plan: the whole level, ranked, as time allows
                        plans = [{} for _ in range(B)]
                level_by_blocks(j, deadline)
                if not any(plans):
                    done = j
                    j += 1
                    continue
                res = _finish(acc, bds, nsums, qs_exact, probs(j), j, tail, pruned=pruned_terms(), **fin)
                wide = lambda r: max(np.max(np.array(r["mhi"]) - np.array(r["mlo"])), 0.0)  # noqa: E731
                if wide(res) < 0.99 * wide(prev_res):
                    done, final = j, res
                else:                    # not narrower than the order below: keep that one
                    acc[:] = saved
                    plans = [{} for _ in range(B)]
                    final = prev_res
                break
            if j >= 2 and time_limit is not None and lcount[j] * B / rate > left():
                break
            elif prune and width is not None and j == target and j >= 2:
                for b in range(B):
                    geo = geometry(b)
                    if geo is None:
                        continue
                    now = _predicted_halves(bds[b], nsums[b], qs_exact, probs(j), j, tail)
                    room = 0.45 * (width - 2 * np.minimum(*now) - 4 * bds[b].eps)
                    if np.all(room > 0):
                        plans[b] = plan_room(geo, levels[j], {k: float(weights[k]) for k in levels[j]}, room,
                                             now[1] < now[0])
            tl = time.perf_counter()
            for b in range(B):
                _evaluate_level(net, cleans[b], levels[j], layers, sizes, cvals, interp, bds[b],
                                weights, acc[b], bar, part=parts(b) if plans[b] else None)
            dt = time.perf_counter() - tl
            n_eval = lcount[j] * B - sum(blk.pruned_count(sizes) for pl in plans for blk in pl.values())
            if j >= 1 and n_eval >= 1000:
                rate = n_eval / max(dt, 1e-9)
            done = j
            if width is not None and j >= target:
                res = _finish(acc, bds, nsums, qs_exact, probs(j), j, tail, pruned=pruned_terms(), **fin)
                if max(np.max(np.array(res["mhi"]) - np.array(res["mlo"])), 0.0) > width and any(plans):
                    for b in range(B):       # the pruned blocks did not leave the width: evaluate them
                        if plans[b]:
                            _evaluate_level(net, cleans[b], levels[j], layers, sizes, cvals, interp, bds[b],
                                            weights, acc[b], bar, part=parts(b, rest=True))
                    plans = [{} for _ in range(B)]
                    res = _finish(acc, bds, nsums, qs_exact, probs(j), j, tail, **fin)
                if max(np.max(np.array(res["mhi"]) - np.array(res["mlo"])), 0.0) <= width or j == k_max:
                    break
                target = j + 1
            elif width is None and time_limit is None and j == target:
                break
            j += 1
    order = done
    res = final if final is not None else _finish(acc, bds, nsums, qs_exact, probs(order), order, tail,
                                                  pruned=pruned_terms(), **fin)
    n_pruned = max(sum(blk.pruned_count(sizes) for blk in pl.values()) for pl in plans)
    mass = sum(weights[kap] * _level_count(sizes, kap) for lv in levels[:order + 1] for kap in lv) - max(
        (sum((weights[kap] * blk.pruned_count(sizes) for kap, blk in pl.items()), Fraction(0)) for pl in plans),
        default=Fraction(0))
    arr = {k: (np.array(v) if k != "how" else np.array(v, dtype=object)) for k, v in res.items()}
    if single:
        arr = {k: v[0] for k, v in arr.items()}
    return Enclosure(arr["mlo"], arr["mhi"], arr["slo"], arr["shi"], arr["vlo"], arr["vhi"],
                     partial_mean=arr["pm"], partial_second=arr["ps"], tail_mean=arr["tm"],
                     tail_second=arr["ts"], margin_mean=arr["mm"], margin_second=arr["ms"],
                     tail_method=arr["how"], mass=_down(mass), order=order,
                     configurations=upto[order] - n_pruned, pruned=n_pruned,
                     seconds=time.perf_counter() - t0, method="enclosure", layers=tuple(layers))


def _predicted_width(bd, nsums, qs_exact, probs, order, tail):
    """The largest mean width the tail bounds give at ``order`` (before any evaluation; margins estimated)."""
    first, pair = _predicted_halves(bd, nsums, qs_exact, probs, order, tail)
    return float(np.max(2 * np.minimum(first, pair) + 4 * np.asarray(bd.eps, dtype=float)))


def _predicted_halves(bd, nsums, qs_exact, probs, order, tail):
    """Per output, the tail's half-widths at ``order`` in the first-order and the pairwise form (inf: not used)."""
    first = np.array([float(t) for t in _tails(bd, nsums, qs_exact, probs, order)[0]])
    pair = _pair_tail(bd, qs_exact, probs, order) if tail != "first-order" else None
    if pair is None:
        return first, np.full_like(first, np.inf)
    pair = np.array([float(v) for v in pair])
    return (np.full_like(first, np.inf) if tail == "pairwise" else first), pair


def _block_cost(geo, blk, w, halves):
    """Float estimate of the half-width a pruned block adds, in the form that bounds each output."""
    c1 = geo.first_order(blk, w)
    c2 = geo.pairwise(blk, w)
    return c1 if c2 is None else np.where(halves[1] < halves[0], c2, c1)


def _calibrate(net, clean, layers, sizes, cvals, interp):
    """Configurations per second of this machine on this network, timed on up to 512 double crashes per site.

    Double crashes go through the same blocked path as every higher order
    (single crashes are too few on small nets to time the blocks rather
    than the call overhead).
    """
    n = 0
    t = time.perf_counter()
    with blas_threads():
        while True:
            for g, l in enumerate(layers):
                k = min(2, sizes[g])
                m = min(math.comb(sizes[g], k), 512)
                st = [Stage(net.site(l), crash=cvals[l], combos=Combinations(sizes[g], k)[0:m])]
                for Y, _ in walk_configurations(net, clean, st, interp, chunk_bytes=_CHUNK_BYTES):
                    n += Y.shape[0]
            dt = time.perf_counter() - t
            if dt > 0.05 or n > 10 ** 5 or not layers:
                return max(n, 1) / max(dt, 1e-9)


def _evaluate_level(net, clean, kappas, layers, sizes, cvals, interp, bd, weights, acc, bar, part=None):
    """Add the configurations of the count vectors ``kappas`` (one input) to ``acc`` = [S1, S2, Mg1, Mg2, singles].

    ``part`` maps a count vector to ``(g, start, stop, labels)``: only the
    combinations of ranks ``start … stop − 1`` at site ``g`` (its neurons
    renamed by ``labels``) are evaluated (pruning).

    ``singles[g]`` keeps, for the single crashes at site ``g``, the unweighted
    sum of the computed ``Δ``, its float margin and the computed ``Δ`` of
    every neuron ``(n_g, n_out)`` (for the interaction tails).
    """
    S1, S2, Mg1, Mg2, singles = acc
    clean_out = clean[net.output].reshape(-1)
    n_out = clean_out.size
    # Sums of Δ whose squares (or sums) would overflow are taken of Δ·2^−k, k from the proved bound D + ε on |Δ|
    # (exact scaling; an underflowed term is within 2^−1074 of its scaled value), and the margins in rationals:
    # E Δ² = w Σ Δ² stays finite when a small probability w shrinks a Σ Δ² beyond float64.
    kk = np.zeros(n_out, dtype=int)
    with np.errstate(over="ignore", invalid="ignore"):
        big = np.asarray(bd.D, dtype=float) + np.asarray(bd.eps, dtype=float)
    for o in range(n_out):
        if math.isfinite(big[o]) and big[o] > 2.0 ** 400:
            kk[o] = math.frexp(big[o])[1] - 400
    scale = np.ldexp(1.0, -kk)
    scaled = bool(np.any(kk))
    for kap in kappas:
        cnt = 0
        s1 = np.zeros(n_out)
        s2 = np.zeros(n_out)
        a1 = np.zeros(n_out)
        mx = np.zeros(n_out)
        rows = [] if sum(kap) == 1 else None
        sub = (part or {}).get(kap)
        if sub is not None and sub[1] >= sub[2]:
            continue
        if layers and sum(kap):
            stages = [Stage(net.site(l), crash=cvals[l],
                            combos=(Combinations(sizes[g], kap[g], sub[1], sub[2], labels=sub[3])
                                    if sub is not None and sub[0] == g else Combinations(sizes[g], kap[g])))
                      for g, l in enumerate(layers) if kap[g] > 0]
            for Y, _ in walk_configurations(net, clean, stages, interp, chunk_bytes=_CHUNK_BYTES):
                Dl = Y - clean_out
                cnt += Dl.shape[0]
                Ds = Dl * scale if scaled else Dl
                s1 += Ds.sum(axis=0)
                s2 += (Ds * Ds).sum(axis=0)
                a1 += np.abs(Ds).sum(axis=0)
                mx = np.maximum(mx, np.abs(Dl).max(axis=0))
                if rows is not None:
                    rows.append(Dl)
                bar.update(Dl.shape[0])
        else:
            cnt = 1
            bar.update(1)
        exact_zero = not sum(kap)           # no crash: Δ is 0, computed and true (the same float pass)
        for name, v in (("Δ", s1), ("Δ²", s2), ("|Δ|", a1), ("|Δ|", mx)):
            if not np.all(np.isfinite(v)):
                o = int(np.flatnonzero(~np.isfinite(v))[0])
                raise FloatOverflowError(
                    f"enclosure: output {o}: a sum of {name} over the configurations with {sum(kap)} crashes "
                    f"overflows float64 (|Δ| up to {float(mx[o]):.3g}; values beyond ±1.8e308) — scale the "
                    "weights down (Δ scales with the output layer's weights)")
        w, werr = weights.rounded(kap)      # |true contribution − w·ŝ| ≤ (w + werr)·margin + werr·|ŝ|
        gm = _gamma(cnt + 4)
        for o in range(n_out):
            t1 = Fraction(float(s1[o])) * Fraction(2) ** int(kk[o])
            t2 = Fraction(float(s2[o])) * Fraction(2) ** (2 * int(kk[o]))
            S1[o] += w * t1
            S2[o] += w * t2
            Mg1[o] += werr * abs(t1)
            Mg2[o] += werr * t2
            m1, m2 = (0, 0) if exact_zero else _margins(cnt, float(bd.eps[o]), float(mx[o]), float(a1[o]),
                                                         float(s2[o]), gm, int(kk[o]))
            Mg1[o] += (w + werr) * m1 * Fraction(1 + 1e-10)
            Mg2[o] += (w + werr) * m2 * Fraction(1 + 1e-10)
        if sum(kap) == 1:
            singles[kap.index(1)] = ([Fraction(float(v)) * Fraction(2) ** int(kk[o]) for o, v in enumerate(s1)],
                                     [_margins(cnt, float(bd.eps[o]), float(mx[o]), float(a1[o]), 0.0, gm,
                                               int(kk[o]))[0] * Fraction(1 + 1e-10) for o in range(n_out)],
                                     np.concatenate(rows) if rows else np.zeros((0, n_out)))


def _margins(cnt, eps, mx, a1, s2, gm, k=0):
    """The float error of ``Σ Δ`` and of ``Σ Δ²`` over ``cnt`` computed ``Δ``, as rationals.

    ``eps`` bounds the error of one computed ``Δ``, ``mx`` the largest computed ``|Δ|``, ``a1`` and ``s2``
    the computed ``Σ |Δ|`` and ``Σ Δ²`` of ``Δ 2^−k`` (floats); ``gm = γ_{cnt+4}`` covers the summations.
    In float64 when it stays finite (then multiplied by ``1 + 1e-10`` by the caller, which covers its
    rounding), else in rationals: a square of a huge bound that a small probability later shrinks does not
    overflow.
    """
    if k == 0:
        de = eps + _U * mx
        with np.errstate(over="ignore", invalid="ignore"):
            m1 = cnt * eps + 3 * gm * a1 * (1 + 4 * gm) + _U * a1
            m2 = 2 * de * a1 * (1 + 4 * gm) + cnt * de * de + 4 * gm * s2 * (1 + 4 * gm) + 2 * _U * s2
        if math.isfinite(m1) and math.isfinite(m2):
            return Fraction(m1), Fraction(m2)
    F = Fraction
    f1, f2 = F(2) ** k, F(2) ** (2 * k)
    a1, s2 = F(a1) * f1, F(s2) * f2
    de = F(eps) + F(_U) * F(mx)
    g = F(gm)
    m1 = cnt * F(eps) + 3 * g * a1 * (1 + 4 * g) + F(_U) * a1
    m2 = 2 * de * a1 * (1 + 4 * g) + cnt * de * de + 4 * g * s2 * (1 + 4 * g) + 2 * F(_U) * s2
    if k:                                   # the terms that underflowed when scaled
        m1 += cnt * f1 * F(2) ** -1070
        m2 += cnt * f2 * F(2) ** -1070
    return m1, m2


def _finish(acc, bds, nsums, qs_exact, probs, order, tail="best", sizes=None, probs3=None, layers=None,
            pruned=None):
    """Combine the evaluated part, its margins and the tails into outward-rounded intervals (per input).

    With ``sizes``, ``probs3`` (``T_{−a,−b,−c}(k−2)`` per triple of sites) and
    ``layers``, the second moment's tail is also bounded through the single
    crashes (:func:`_second_pair_tail`), and the intervals are intersected.
    ``pruned`` (per input, the exact bounds of every pruned block,
    :meth:`~symft.engines.pruning.Geometry.exact`) adds the configurations
    of at most ``order`` crashes that were not evaluated.
    """
    res = {k: [] for k in ("mlo", "mhi", "slo", "shi", "vlo", "vhi", "pm", "ps", "tm", "ts", "mm", "ms", "how")}
    for b, ((S1, S2, Mg1, Mg2, singles), bd, ns) in enumerate(zip(acc, bds, nsums)):
        tm, ts, how = _tails(bd, ns, qs_exact, probs, order)
        inter = _interaction_tail(bd, singles, qs_exact, probs, order) if tail != "first-order" else None
        sec = (_second_pair_tail(bd, singles, qs_exact, sizes, probs, probs3, order, layers)
               if tail != "first-order" and sizes is not None else None)
        blocks = pruned[b] if pruned else []
        n = len(S1)
        p_first = [sum((blk[0][o] for blk in blocks), Fraction(0)) for o in range(n)]
        p_second = [sum((blk[3][o] for blk in blocks), Fraction(0)) for o in range(n)]
        if inter is not None and blocks:
            if any(blk[2] is None for blk in blocks):
                inter = None
            else:
                inter = ([v + sum((blk[1][o] for blk in blocks), Fraction(0)) for o, v in enumerate(inter[0])],
                         [v + sum((blk[2][o] for blk in blocks), Fraction(0)) for o, v in enumerate(inter[1])])
        tm = [t + pf for t, pf in zip(tm, p_first)]
        ts = [t + ps for t, ps in zip(ts, p_second)]
        mlo, mhi, slo, shi, vlo, vhi = [], [], [], [], [], []
        for o in range(len(S1)):
            lo1 = S1[o] - Mg1[o] - tm[o]
            hi1 = S1[o] + Mg1[o] + tm[o]
            if inter is not None:
                shift, half = inter[0][o], inter[1][o]
                lo2, hi2 = S1[o] + shift - Mg1[o] - half, S1[o] + shift + Mg1[o] + half
                if tail == "pairwise" or hi2 - lo2 < hi1 - lo1:
                    tm[o], how[o] = half, "pairwise"
                lo1, hi1 = (lo2, hi2) if tail == "pairwise" else (max(lo1, lo2), min(hi1, hi2))
            lo2 = max(Fraction(0), S2[o] - Mg2[o])
            hi2 = S2[o] + Mg2[o] + ts[o]
            if sec is not None:
                t_lo, t_hi = sec[o]
                lo2 = max(lo2, S2[o] - Mg2[o] + t_lo)
                if tail == "pairwise":      # the pairwise bound alone (as for the mean)
                    lo2 = max(Fraction(0), S2[o] - Mg2[o] + t_lo)
                if t_hi + p_second[o] < ts[o] or tail == "pairwise":
                    ts[o] = t_hi + p_second[o]
                    hi2 = S2[o] + Mg2[o] + ts[o]
            _check_range(o, lo1, hi1, "E Δ")
            _check_range(o, lo2, hi2, "E Δ²")
            # the squares on the outward-rounded floats (a wider interval: still sound, and cheap)
            lo1, hi1, lo2, hi2 = (Fraction(_down(lo1)), Fraction(_up(hi1)), Fraction(_down(lo2)),
                                  Fraction(_up(hi2)))
            msq_max = max(lo1 * lo1, hi1 * hi1)
            msq_min = Fraction(0) if lo1 <= 0 <= hi1 else min(lo1 * lo1, hi1 * hi1)
            mlo.append(float(lo1))
            mhi.append(float(hi1))
            slo.append(float(lo2))
            shi.append(float(hi2))
            vlo.append(_down(max(Fraction(0), lo2 - msq_max)))
            vhi.append(_up(max(Fraction(0), hi2 - msq_min)))
        res["mlo"].append(mlo)
        res["mhi"].append(mhi)
        res["slo"].append(slo)
        res["shi"].append(shi)
        res["vlo"].append(vlo)
        res["vhi"].append(vhi)
        res["pm"].append([float(v) for v in S1])
        res["ps"].append([float(v) for v in S2])
        res["tm"].append([_up(v) for v in tm])
        res["ts"].append([_up(v) for v in ts])
        res["mm"].append([_up(v) for v in Mg1])
        res["ms"].append([_up(v) for v in Mg2])
        res["how"].append(how)
    return res


_FLOAT_MAX = Fraction(np.finfo(float).max)


def _check_range(o, lo, hi, what):
    """Refuse, saying so plainly, an interval ``[lo, hi]`` (rationals) that float64 cannot hold.

    Examples
    --------
    >>> _check_range(0, Fraction(-1), Fraction(10) ** 400, "E Δ²")
    Traceback (most recent call last):
    ...
    symft.errors.FloatOverflowError: enclosure: output 0: the proved upper bound on E Δ² is about 1e400, beyond the float64 range (±1.8e308), so float64 cannot hold this enclosure; E Δ² itself may be smaller — scale the output layer's weights down (Δ scales with them) or lower the crash probability
    """
    out = max(abs(lo), abs(hi))
    if out <= _FLOAT_MAX:
        return
    inner = min(abs(lo), abs(hi)) if (lo > 0 or hi < 0) else Fraction(0)
    size = f"1e{len(str(out.numerator)) - len(str(out.denominator))}"
    sure = inner > _FLOAT_MAX
    raise FloatOverflowError(
        f"enclosure: output {o}: " + (f"{what} is about {size}" if sure else f"the proved upper bound on {what} is "
                                                                             f"about {size}")
        + ", beyond the float64 range (±1.8e308), so float64 cannot hold this enclosure"
        + ("" if sure else f"; {what} itself may be smaller")
        + " — scale the output layer's weights down (Δ scales with them) or lower the crash probability")


def _pair_tail(bd, qs_exact, probs, order):
    """Per output, an upper bound of ``½ Σ_{g,h} p_g p_h T_{−a,−b}(k−1) H[g, h]``, or None without a pair bound."""
    T1, T2, P_tail = _probs_up(probs)
    if bd.pair is None or order < 1 or not np.all(np.isfinite(bd.pair)):
        return None
    L = len(qs_exact)
    out = []
    for o in range(bd.pair.shape[2]):
        t = Fraction(0)
        for g in range(L):
            for h in range(L):
                if T2[(g, h)]:
                    t += qs_exact[g] * qs_exact[h] * T2[(g, h)] * Fraction(float(bd.pair[g, h, o]))
        out.append(t / 2)
    return out


def _interaction_tail(bd, singles, qs_exact, probs, order):
    r"""The tail of the mean as its exact linear part plus a bound on the interactions (theory of the module).

    Returns ``(shift, half)`` per output: the configurations with more than
    ``order`` crashes contribute ``shift ± half`` to ``E Δ``, or None when no
    pair bound is available (a kink, order 0, a missing single-crash sum).
    """
    T1, T2, P_tail = probs
    pair = _pair_tail(bd, qs_exact, probs, order)
    L = len(qs_exact)
    if pair is None or any(g not in singles for g in range(L) if T1[g]):
        return None
    # T_{−a}(k) to the nearest float, its rounding error bounded (the shift is signed, so no one-sided rounding)
    Tf = [Fraction(float(t)) for t in T1]
    Terr = [Fraction(_up(abs(t - tf))) for t, tf in zip(T1, Tf)]
    shift, half = [], []
    for o in range(len(pair)):
        sh, hf = Fraction(0), pair[o]
        for g in range(L):
            if T1[g]:
                a, m = singles[g][0][o], singles[g][1][o]
                sh += qs_exact[g] * Tf[g] * a
                hf += qs_exact[g] * ((Tf[g] + Terr[g]) * m + Terr[g] * abs(a))
        shift.append(sh)
        half.append(hf)
    return shift, half


def _second_pair_tail(bd, singles, qs_exact, sizes, probs, probs3, order, layers):
    r"""The tail of the second moment through the single crashes: per output ``(lo, hi)`` or None.

    With ``d_a`` the computed single-crash effects (each within ``ε`` of
    the exact ``Δ_a``), ``L(s) = Σ_{a ∈ s} d_a`` and the interaction bound,
    ``|Δ(s) − L(s)| ≤ Σ_{{a,b} ⊆ s} H̄_{ab} + |s| ε`` and
    ``|Δ(s) + L(s)| ≤ Σ_{c ∈ s} B_c`` with ``B_c = c_c + |d_c|`` (the
    per-neuron constants), so ``|Δ(s)² − L(s)²| ≤ (Σ_{pairs} H̄ + |s| ε) Σ_{c ∈ s} B_c``.
    Summed with the probabilities over ``|s| > k``:

    * ``Σ P(s) L(s)²`` is exact from the sums ``S_g = Σ_{a ∈ g} d_a`` and
      ``Q_g = Σ_{a ∈ g} d_a²``: ``Σ_g p_g T_{−g}(k) Q_g + Σ_{g,h} p_g p_h T_{−g,−h}(k−1) (S_g S_h − [g = h] Q_g)``;
    * the pairs with ``c ∈ {a, b}``: ``½ Σ_{g,h} p_g p_h T_{−g,−h}(k−1) H[g, h] (max_g B + max_h B)``;
    * the pairs with a third neuron ``c``: ``½ Σ_{g,h,m} p_g p_h p_m T_{−g,−h,−m}(k−2) H[g, h] Σ_{c ∈ m} B_c``;
    * the float errors: ``ε (Σ_g p_g T_{−g}(k) ΣB_g + Σ_{g,m} p_g p_m T_{−g,−m}(k−1) (n_g − [g = m]) ΣB_m)``.

    The signed part uses the tail probabilities rounded to the nearest float
    with their rounding error bounded; the rest rounds up.  None without a
    pair bound, a finite ``c``, or the single crashes (order 0).
    """
    if order < 1 or probs3 is None or bd.pair is None or not np.all(np.isfinite(bd.pair)):
        return None
    T1, T2, _ = probs
    L = len(qs_exact)
    if any(g not in singles for g in range(L)):
        return None
    T1u, T2u, _ = _probs_up(probs)
    T3u = {key: Fraction(_up(v)) for key, v in probs3(order).items()}
    Tf1 = [Fraction(float(t)) for t in T1]
    Te1 = [Fraction(_up(abs(t - tf))) for t, tf in zip(T1, Tf1)]
    Tf2 = {key: Fraction(float(t)) for key, t in T2.items()}
    Te2 = {key: Fraction(_up(abs(t - Tf2[key]))) for key, t in T2.items()}
    n_out = bd.pair.shape[2]
    out = []
    for o in range(n_out):
        cs = [np.asarray(bd.c[l][:, o], dtype=float) for l in layers]
        if not all(np.all(np.isfinite(c)) for c in cs):
            return None
        ds = [np.asarray(singles[g][2][:, o], dtype=float) for g in range(L)]
        if any(d.shape[0] != n for d, n in zip(ds, sizes)):
            return None
        # S_g and Q_g to the nearest float (math.fsum is correctly rounded; the squares are rounded once
        # more), with bounds dS, dQ of their distance to the exact sums of the d_a and d_a²
        S, Q, dS, dQ = [], [], [], []
        for d in ds:
            try:
                with np.errstate(over="ignore"):
                    s1, s2 = math.fsum(d.tolist()), math.fsum((d * d).tolist())
                ok = math.isfinite(s1) and math.isfinite(s2)
            except OverflowError:
                ok = False
            if ok:
                S.append(Fraction(s1))
                Q.append(Fraction(s2))
                dS.append(abs(S[-1]) * Fraction(1, 2 ** 52) + Fraction(2) ** -1074)
                dQ.append(Q[-1] * Fraction(1, 2 ** 50) + d.size * Fraction(2) ** -1074)
            else:               # beyond the float range: exact rationals
                fr = [Fraction(v) for v in d.tolist()]
                S.append(sum(fr, Fraction(0)))
                Q.append(sum((v * v for v in fr), Fraction(0)))
                dS.append(Fraction(0))
                dQ.append(Fraction(0))
        with np.errstate(over="ignore"):
            Bs = [np.nextafter(c + np.abs(d), np.inf) for c, d in zip(cs, ds)]
        Bmax = [Fraction(float(b.max())) if b.size else Fraction(0) for b in Bs]
        Bsum = [Fraction(_fsum_up(b)) if b.size else Fraction(0) for b in Bs]
        if not all(math.isfinite(float(v)) for v in Bmax + Bsum):
            return None
        eps = Fraction(float(bd.eps[o]))
        H = [[Fraction(float(bd.pair[g, h, o])) for h in range(L)] for g in range(L)]
        lin, err, bound = Fraction(0), Fraction(0), Fraction(0)
        for g in range(L):
            lin += qs_exact[g] * Tf1[g] * Q[g]
            err += qs_exact[g] * (Te1[g] * Q[g] + T1u[g] * dQ[g])
            bound += eps * qs_exact[g] * T1u[g] * Bsum[g]
            for h in range(L):
                qq = qs_exact[g] * qs_exact[h]
                cross = S[g] * S[h] - (Q[g] if g == h else 0)
                lin += qq * Tf2[(g, h)] * cross
                d_cross = abs(S[g]) * dS[h] + abs(S[h]) * dS[g] + dS[g] * dS[h] + (dQ[g] if g == h else 0)
                err += qq * (Te2[(g, h)] * abs(cross) + T2u[(g, h)] * d_cross)
                bound += qq * T2u[(g, h)] * (H[g][h] * (Bmax[g] + Bmax[h]) / 2
                                             + eps * (sizes[g] - (1 if g == h else 0)) * Bsum[h])
                if H[g][h]:
                    for m in range(L):
                        t3 = T3u[tuple(sorted((g, h, m)))]
                        if t3:
                            bound += qq * qs_exact[m] * t3 * H[g][h] * Bsum[m] / 2
        out.append((max(Fraction(0), lin - err - bound), lin + err + bound))
    return out


def _tail_probabilities3(sizes, qs_exact, order):
    """Exact ``T_{−a,−b,−c}(k−2)`` (at least ``k − 2`` crashes among the other neurons) per sorted triple of sites."""
    L = len(sizes)
    out = {}
    for key in itertools.combinations_with_replacement(range(L), 3):
        s2 = list(sizes)
        for g in key:
            s2[g] -= 1
        out[key] = _tail_at_least(s2, qs_exact, order - 2) if min(s2) >= 0 else Fraction(0)
    return out
