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
identity.  The
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
import re
import time
from dataclasses import dataclass, field
from fractions import Fraction
from numbers import Integral

import numpy as np
import sympy as sp

from ..errors import FaultModelError, InvalidArgument, TooLargeError
from ..faults import NeuronCrash
from ..graph.activations import ETA
from ..problem import as_model, make_problem
from ..progress import progress as _progress
from ..threads import blas_threads
from ..walk.configurations import Stage, walk_configurations
from ..walk.errorbound import AbsSensitivity, BoxAndError
from ..walk.numeric import Numeric, crash_values_float
from ..walk.walker import walk, walk_reverse
from ..results import result

__all__ = ["Enclosure", "enclosure", "per_neuron_bounds", "choose_order"]

_U = 2.0 ** -53
_CHUNK_BYTES = 8 * 2 ** 20


def _gamma(n):
    nu = n * _U
    return nu / (1.0 - nu)


def _up(fr: Fraction) -> float:
    f = float(fr)
    return f if Fraction(f) >= fr else float(np.nextafter(f, np.inf))


def _down(fr: Fraction) -> float:
    f = float(fr)
    return f if Fraction(f) <= fr else float(np.nextafter(f, -np.inf))


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
        ``"per-neuron"`` or ``"crude"``: which tail bound was smaller.
    mass : float
        Probability of the evaluated configurations (rounded down).
    order : int
    configurations : int
        Configurations evaluated per input.
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
                "configurations": int(self.configurations), "seconds": float(self.seconds),
                "layers": list(self.layers)}

    def summary(self, names=None) -> str:
        """Human-readable table.

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
                f"evaluated exactly (probability mass ≥ {self.mass:.12g}), the rest bounded; {self.seconds:.3g} s"]
        arrs = [np.atleast_2d(a) for a in (self.mean_lo, self.mean_hi, self.var_lo, self.var_hi)]
        for b in range(lo.shape[0]):
            if lo.shape[0] > 1:
                rows.append(f"input {b}")
            rows.append(f"  {'output':<10} {'E Δ lo':>14} {'E Δ hi':>14} {'width':>10} {'Var lo':>12} {'Var hi':>12}")
            for k in range(n_out):
                ml, mh, vl, vh = (a[b, k] for a in arrs)
                rows.append(f"  {names[k]:<10} {ml:14.8g} {mh:14.8g} {mh - ml:10.3g} {vl:12.6g} {vh:12.6g}")
        return "\n".join(rows)


# =====================================================================================
# bounds
# =====================================================================================

@dataclass(frozen=True, eq=False)
class _Bounds:
    c: dict          # {site key: (n_site, n_out)} per-neuron constants (inf allowed)
    D: np.ndarray    # (n_out,) crude bound on |Δ|
    eps: np.ndarray  # (n_out,) bound on the float error of one computed Δ


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
    return _Bounds(c, D, eps)


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

def _combos(n, k):
    if k == 0:
        return np.zeros((1, 0), dtype=np.int64)
    cnt = math.comb(n, k)
    flat = np.fromiter(itertools.chain.from_iterable(itertools.combinations(range(n), k)),
                       dtype=np.int64, count=cnt * k)
    return flat.reshape(cnt, k)


def _kappas(sizes, k):
    """Count vectors κ with Σ κ ≤ k, κ_g ≤ n_g."""
    out = []
    for kappa in itertools.product(*[range(min(n, k) + 1) for n in sizes]):
        if sum(kappa) <= k:
            out.append(kappa)
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


def choose_order(net, model: NeuronCrash, max_configurations: int = 2 ** 21, n_inputs: int = 1) -> int:
    r"""The largest order whose configurations (× inputs) fit in ``max_configurations``.

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> choose_order(random_network([64, 128, 64, 10], seed=0), NeuronCrash({1: 1e-4, 2: 1e-4}))
    3
    """
    model = _check_model(net, model)
    sizes = [net.site_size(l) for l in model.layers]
    N = sum(sizes)
    k = 0
    while k < N and _count(sizes, k + 1) * n_inputs <= max_configurations:
        k += 1
    return k


def enclosure(net, x, model: NeuronCrash, order: int | str = 2, *, force: bool = False,
              progress: bool | None = None, max_configurations: int | None = 2 ** 24) -> Enclosure:
    r"""Certified intervals for ``E Δ``, ``E Δ²`` and ``Var Δ`` (exact up to order ``k``, bounded tail).

    All configurations with at most ``order`` crashes are evaluated; the
    others are bounded with the per-neuron bound (or the crude bound when
    smaller): see the module docstring for the derivation and the
    floating-point margin.  The width of the mean interval shrinks with the
    order (roughly by a factor ``N p / (k + 1)`` per order).

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
        (:func:`choose_order`; about a second on a laptop).
    force : bool
        Evaluate even above ``max_configurations``.
    progress : bool or None
        Progress bar on stderr.
    max_configurations : int or None
        Refusal limit on the evaluated configurations × inputs.

    Returns
    -------
    Enclosure

    Raises
    ------
    TooLargeError
        When the order needs too many configurations; the message names the
        largest order within the limit.

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> net = random_network([4, 30, 2], seed=0, activation="tanh")
    >>> e = enclosure(net, np.ones(4), NeuronCrash({1: 1e-3}), order=2)
    >>> bool(np.all(e.width < 1e-5)), e.configurations
    (True, 466)
    """
    t0 = time.perf_counter()
    model = _check_model(net, model)
    pb = make_problem(net, x, model)
    if order == "auto":
        order = choose_order(net, model, n_inputs=pb.B)
    if not isinstance(order, Integral) or isinstance(order, bool) or order < 0:
        raise InvalidArgument(f"order: expected a non-negative integer, got {order!r}")
    order = int(order)
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
    qs = [float(q) for q in qs_exact]
    kappas = _kappas(sizes, order)
    n_conf = sum(int(np.prod([math.comb(n, k) for n, k in zip(sizes, kap)])) for kap in kappas)
    if not force and max_configurations is not None and n_conf * B > max_configurations:
        k_ok = 0
        while k_ok < order and sum(math.comb(N, j) for j in range(k_ok + 2)) * B <= max_configurations:
            k_ok += 1
        raise TooLargeError(
            f"enclosure: order {order} needs {n_conf:.4g} configurations"
            f"{f' × {B} inputs' if B > 1 else ''} (limit {max_configurations:.4g}); "
            f"use order={k_ok} (--order {k_ok}), sampling (symft sample), or force=True / --force")
    n_out = net.n_outputs
    # exact rational tail probabilities (shared by all inputs)
    T1 = []
    for g in range(len(layers)):
        s2 = list(sizes)
        s2[g] -= 1
        T1.append(_tail_at_least(s2, qs_exact, order))
    T2 = {}
    for g in range(len(layers)):
        for h in range(len(layers)):
            s2 = list(sizes)
            s2[g] -= 1
            s2[h] -= 1
            T2[(g, h)] = _tail_at_least(s2, qs_exact, order - 1) if min(s2) >= 0 else Fraction(0)
    P_tail = _tail_at_least(sizes, qs_exact, order + 1)
    weights = {}
    for kap in kappas:
        w = Fraction(1)
        for q, n, k in zip(qs_exact, sizes, kap):
            w *= q ** k * (1 - q) ** (n - k)
        weights[kap] = w
    mass = sum(weights[k] * int(np.prod([math.comb(n, kk) for n, kk in zip(sizes, k)])) for k in kappas)
    combos = {}
    for g, n in enumerate(sizes):
        for k in range(0, min(n, order) + 1):
            combos[(g, k)] = _combos(n, k)
    cvals = {l: crash_values_float(net, l, model.semantics) for l in layers}
    interp = Numeric(net, skip_linear=True, tall=True)
    res = {k: [] for k in ("mlo", "mhi", "slo", "shi", "vlo", "vhi", "pm", "ps", "tm", "ts", "mm", "ms", "how")}
    with _progress(n_conf * B, "enclosure: configurations", enabled=progress) as bar, blas_threads():
        for b in range(B):
            clean = {n: v[b:b + 1] for n, v in pb.clean.values.items()}
            clean_out = clean[net.output].reshape(-1)
            bd = _bounds(net, clean, model, order, _input_error(pb, b))
            S1, S2, Mg1, Mg2 = ([Fraction(0)] * n_out for _ in range(4))
            for kap in kappas:
                cnt = 0
                s1 = np.zeros(n_out)
                s2 = np.zeros(n_out)
                a1 = np.zeros(n_out)
                mx = np.zeros(n_out)
                if layers:
                    stages = [Stage(net.site(l), crash=cvals[l], combos=combos[(g, kap[g])])
                              for g, l in enumerate(layers) if kap[g] > 0]
                    for Y, _ in walk_configurations(net, clean, stages, interp, chunk_bytes=_CHUNK_BYTES):
                        Dl = Y - clean_out
                        cnt += Dl.shape[0]
                        s1 += Dl.sum(axis=0)
                        s2 += (Dl * Dl).sum(axis=0)
                        a1 += np.abs(Dl).sum(axis=0)
                        mx = np.maximum(mx, np.abs(Dl).max(axis=0))
                        bar.update(Dl.shape[0])
                else:
                    cnt = 1
                w = weights[kap]
                gm = _gamma(cnt + 4)
                for o in range(n_out):
                    S1[o] += w * Fraction(float(s1[o]))
                    S2[o] += w * Fraction(float(s2[o]))
                    de = float(bd.eps[o]) + _U * float(mx[o])
                    m1 = cnt * float(bd.eps[o]) + 3 * gm * float(a1[o]) * (1 + 4 * gm) + _U * float(a1[o])
                    m2 = (2 * de * float(a1[o]) * (1 + 4 * gm) + cnt * de * de + 4 * gm * float(s2[o]) * (1 + 4 * gm)
                          + 2 * _U * float(s2[o]))
                    Mg1[o] += w * Fraction(m1) * Fraction(1 + 1e-10)
                    Mg2[o] += w * Fraction(m2) * Fraction(1 + 1e-10)
            # tails
            tm, ts, how = [], [], []
            for o in range(n_out):
                per = Fraction(0)
                per2 = Fraction(0)
                finite = True
                sums = []
                sq = []
                for g, l in enumerate(layers):
                    cg = bd.c[l][:, o]
                    if not np.all(np.isfinite(cg)):
                        finite = False
                        break
                    fr = [Fraction(float(v)) for v in cg]
                    sums.append(sum(fr, Fraction(0)))
                    sq.append(sum((v * v for v in fr), Fraction(0)))
                if finite:
                    for g in range(len(layers)):
                        per += qs_exact[g] * T1[g] * sums[g]
                        per2 += qs_exact[g] * T1[g] * sq[g]
                        for h in range(len(layers)):
                            pair = sums[g] * sums[h] - (sq[g] if g == h else 0)
                            per2 += qs_exact[g] * qs_exact[h] * T2[(g, h)] * pair
                Dk = float(bd.D[o])
                crude = Fraction(Dk) * P_tail if np.isfinite(Dk) else None
                crude2 = Fraction(Dk) ** 2 * P_tail if np.isfinite(Dk) else None
                cands = [(v, nm) for v, nm in ((per if finite else None, "per-neuron"), (crude, "crude"))
                         if v is not None]
                cands2 = [v for v in (per2 if finite else None, crude2) if v is not None]
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
            mlo, mhi, slo, shi, vlo, vhi = [], [], [], [], [], []
            for o in range(n_out):
                lo1 = S1[o] - Mg1[o] - tm[o]
                hi1 = S1[o] + Mg1[o] + tm[o]
                lo2 = max(Fraction(0), S2[o] - Mg2[o])
                hi2 = S2[o] + Mg2[o] + ts[o]
                msq_max = max(lo1 * lo1, hi1 * hi1)
                msq_min = Fraction(0) if lo1 <= 0 <= hi1 else min(lo1 * lo1, hi1 * hi1)
                mlo.append(_down(lo1))
                mhi.append(_up(hi1))
                slo.append(_down(lo2))
                shi.append(_up(hi2))
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
    arr = {k: (np.array(v) if k != "how" else np.array(v, dtype=object)) for k, v in res.items()}
    if single:
        arr = {k: v[0] for k, v in arr.items()}
    return Enclosure(arr["mlo"], arr["mhi"], arr["slo"], arr["shi"], arr["vlo"], arr["vhi"],
                     partial_mean=arr["pm"], partial_second=arr["ps"], tail_mean=arr["tm"],
                     tail_second=arr["ts"], margin_mean=arr["mm"], margin_second=arr["ms"],
                     tail_method=arr["how"], mass=_down(mass), order=order, configurations=n_conf,
                     seconds=time.perf_counter() - t0, method="enclosure", layers=tuple(layers))
