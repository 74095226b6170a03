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
* :func:`b4` — the single-crash term via :mod:`symft.engines.enumeration`: estimates ``E Δ``;
* :func:`fep_expected` — the [SRDS] expected Fep via :mod:`symft.analysis.fep`: bounds ``E‖Δ_L‖_∞``.

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

**Non-linear output layers and discontinuous activations.**  Every
layer ``1 … L`` is walked with its own ``K_l``, the output layer
included (a ``3*relu`` output multiplies the error by up to 3).  A
surviving neuron's change is also at most the width of its activation's
range, ``|φ(a) − φ(b)| ≤ sup φ − inf φ``; with ``E min(X, c) ≤ min(E X, c)``
this caps each propagated term, and it is what keeps the bounds finite for
``step`` (``K = ∞``, range width 1).

**Floating point.**  Nothing a bound is built from is merely rounded.
The fault-free layer outputs ``y_l`` and the crash values ``φ_l(b_l)`` are
*enclosed* by outward-rounded interval arithmetic (:func:`forward_enclosure`),
so a forward pass that cancels in float64 (``1e12 + 1e-5 − 1e12``) yields a
deviation bound ``d_l ≥`` the exact one instead of 0; exact (rational)
layers are widened by the rounding of their entries to float64.  All the
rest are sums and products of non-negative numbers, each rounded upward
(:func:`numpy.nextafter` after every correctly rounded operation, Higham's
``γ_n`` for matrix–vector sums); the spectral norm is bounded rigorously
from an eigendecomposition (:func:`spectral_norm_upper`), the Lipschitz
constants and crash probabilities are rounded up (the bounds are
non-decreasing in each ``p_l``).  An activation with no interval
enclosure (a custom one) falls back to float64 values, and the bound is
then labelled not rigorous.

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
import re
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy as sp

from ..graph.activations import get_activation
from ..errors import FaultModelError, InvalidArgument, NotSmooth
from ..faults import NeuronCrash
from ..engines.forward import as_inputs, forward_trace
from ..walk.interval import Interval, activation_enclosures, upper_sum

__all__ = ["Bound", "float_up", "forward_enclosure", "spectral_norm_upper", "lipschitz_constants",
           "lipschitz_product", "crash_deviations", "b1", "ac1", "b2",
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
    X, _ = _input_box(net, x)
    return X[0][None, :]


# ---------------------------------------------------------------------- upward-rounded arithmetic
#
# Every quantity below is a non-negative float that must be ≥ the exact real it stands for.  IEEE 754
# operations are correctly rounded (round to nearest), so one nextafter toward +∞ after each of them
# gives an upper bound; sums of many terms use Higham's γ_n (any summation order, FMA or not).

_U = 2.0 ** -53
_TINY = 2.0 ** -1070      # ≥ the total absolute error of underflowing products in one dot product term
_WREL = 2.0 ** -52        # relative error of an exact (rational) entry rounded to float64 (≥ one half-ulp)


def _up(a):
    return np.nextafter(a, np.inf)


def _down(a):
    return np.nextafter(a, -np.inf)


def _gamma(n):
    nu = (n + 2) * _U
    return nu / (1.0 - nu)


def float_up(v) -> float:
    r"""The smallest float64 ``≥ v`` for an exact number ``v`` (a float stays as it is).

    Integers, ``Fraction`` and SymPy rationals are compared exactly with
    the float nearest to them; other SymPy numbers (``sqrt(2)/10``) are
    evaluated to 30 digits and moved up by two ulps.

    Examples
    --------
    >>> import sympy as sp
    >>> float_up(sp.Rational(1, 3)) >= 1 / 3, float_up(0.1), float_up(sp.oo)
    (True, 0.1, inf)
    >>> from fractions import Fraction
    >>> Fraction(float_up(sp.Rational(1, 3))) >= Fraction(1, 3)
    True
    """
    if isinstance(v, (float, np.floating)):
        return float(v)
    if isinstance(v, sp.Basic):
        if v in (sp.oo, sp.zoo):
            return math.inf
        if v == -sp.oo:
            return -math.inf
        if v.is_Rational:
            v = Fraction(int(v.p), int(v.q))
        else:
            f = float(sp.N(v, 30))
            return float(_up(_up(f)))
    fr = Fraction(v)
    f = float(fr)
    return f if Fraction(f) >= fr else float(_up(f))


def _mul_up(a, b):
    """Upper bound of the exact product of non-negative floats (``0 · ∞ = 0``: a zero factor is exact)."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    with np.errstate(invalid="ignore", over="ignore"):
        r = _up(a * b)
    return np.where((a == 0) | (b == 0), 0.0, r)


def _sum_up(a) -> float:
    """Upper bound of the exact sum of non-negative floats (``∞`` if any term is)."""
    a = np.asarray(a, dtype=float).ravel()
    if a.size == 0:
        return 0.0
    if not np.isfinite(a).all():
        return math.inf
    with np.errstate(over="ignore"):
        return float(upper_sum(a))


def _matvec_up(A, v):
    """Upper bound of ``A v`` for non-negative ``A`` (finite) and ``v`` (may hold ``∞``)."""
    m = A.shape[1]
    fin = np.isfinite(v)
    with np.errstate(over="ignore", invalid="ignore"):
        s = A[:, fin] @ v[fin]
        out = _up(_up(s * (1.0 + 3.0 * _gamma(m))) + m * _TINY)
    if not fin.all():
        out = np.where((A[:, ~fin] > 0).any(axis=1), np.inf, out)
    return out


def _nan_out(iv: Interval) -> Interval:
    """Replace NaN ends (from ∞ − ∞ after an overflow) by the sound ±∞."""
    return Interval(np.where(np.isnan(iv.lo), -np.inf, iv.lo), np.where(np.isnan(iv.hi), np.inf, iv.hi))


# ---------------------------------------------------------------------- enclosures of the network's values

class _NoEnclosure(InvalidArgument):
    """An activation (a custom one) has no rigorous interval enclosure in symft."""


def _layer_radii(net, l):
    """Float ``W_l``, ``b_l`` and radii such that the exact weights and biases lie in ``W ± Wr``, ``b ± br``."""
    W, b = net.weights(l), net.bias(l)
    if net.layers[l - 1].is_float:
        return W, np.zeros_like(W), b, np.zeros_like(b)
    # an exact layer is stored rounded to float64 (within a relative half-ulp, or 2^-1075 absolute
    # below the normal range); the radii cover that, so the enclosure holds for the exact network
    return W, _up(np.abs(W) * _WREL + _TINY), b, _up(np.abs(b) * _WREL + _TINY)


def _abs_weights_up(net, l):
    W, Wr, _, _ = _layer_radii(net, l)
    return _up(np.abs(W) + Wr) if Wr.any() else np.abs(W)


def _affine_enclosure(net, l, y: Interval) -> Interval:
    """Enclosure of ``W_l y + b_l`` for every ``y`` in the interval array ``y`` (shape ``(n_{l−1}, B)``)."""
    W, Wr, b, br = _layer_radii(net, l)
    m = W.shape[1]
    with np.errstate(over="ignore", invalid="ignore"):
        mid = 0.5 * (y.lo + y.hi)
        rad = _up(np.maximum(y.hi - mid, mid - y.lo))
        amr = _up(np.abs(mid) + rad)
        A = np.abs(W)
        c = W @ mid
        g = 3.0 * _gamma(m)
        # |W' y' − fl(W mid)| ≤ |W| rad + |W' − W| (|mid| + rad) + γ_m |W| |mid|  (Higham §3.1);
        # the factor 3 and the final (1 + 4γ) cover the rounding of these float products and sums
        R = A @ rad + Wr @ amr + g * (A @ amr)
        R = _up(_up(R * (1.0 + 4.0 * g)) + 2.0 * m * _TINY)
        blo, bhi = _down(b - br)[:, None], _up(b + br)[:, None]
        lo = _down(_down(c - R) + blo)
        hi = _up(_up(c + R) + bhi)
    return _nan_out(Interval(lo, hi))


def _exact_interval(v, shape):
    f = float_up(v)
    lo = -float_up(-v)
    return Interval(np.full(shape, lo), np.full(shape, f))


def _pwl_value_enclosure(act, z: Interval) -> Interval:
    """Enclosure of a piecewise-linear φ over ``z``: the hull, over the pieces ``(lo_k, hi_k]`` that ``z``
    meets, of the affine piece on the part of ``z`` inside it (closures: a superset, hence sound)."""
    out_lo = np.full(z.shape, np.inf)
    out_hi = np.full(z.shape, -np.inf)
    for pc in act.pieces:
        a_lo = -np.inf if pc.lo == -sp.oo else -float_up(-pc.lo)      # ≤ lo_k
        b_hi = np.inf if pc.hi == sp.oo else float_up(pc.hi)          # ≥ hi_k
        # z meets (lo_k, hi_k] iff z.hi > lo_k and z.lo ≤ hi_k; with a_lo ≤ lo_k ≤ hi_k ≤ b_hi the test
        # below can only say "meets" more often (sound)
        meets = (z.hi > a_lo) & (z.lo <= b_hi)
        if not meets.any():
            continue
        a = np.maximum(z.lo, a_lo)
        b = np.minimum(z.hi, b_hi)
        if pc.slope == 0:
            v = _exact_interval(pc.intercept, z.shape)
        else:
            s = _exact_interval(pc.slope, z.shape)
            v = Interval(a, b) * s + _exact_interval(pc.intercept, z.shape)
            v = _nan_out(v)
        out_lo = np.where(meets, np.minimum(out_lo, v.lo), out_lo)
        out_hi = np.where(meets, np.maximum(out_hi, v.hi), out_hi)
    return Interval(out_lo, out_hi)


def _sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


#: Monotone smooth activations whose values are enclosed directly: function and true range.
_MONOTONE = {"tanh": (np.tanh, -1.0, 1.0), "sigmoid": (_sigmoid, 0.0, 1.0),
             "softplus": (lambda z: np.logaddexp(0.0, z), 0.0, np.inf)}
_SCALED_NAME = re.compile(r"^\s*([0-9]+(?:/[0-9]+)?)\s*\*\s*([A-Za-z_][A-Za-z0-9_.\-]*)\s*$")


def _smooth_value_enclosure(act, z: Interval):
    """``[φ(lo), φ(hi)]`` for a monotone built-in φ (or ``c·φ``), widened by ``2^-44`` relative plus
    ``2^-1000`` — far above the few-ulp error of the C library (the argument of :mod:`symft.intervals`)
    — and intersected with φ's true range; ``None`` for other activations."""
    m = _SCALED_NAME.match(act.name)
    c, base = (sp.Rational(m.group(1)), m.group(2)) if m else (sp.Integer(1), act.name)
    if base not in _MONOTONE:
        return None
    try:      # the built-in function itself, not a custom activation that happens to share its name
        if get_activation(act.name) != act:
            return None
    except InvalidArgument:
        return None
    f, rlo, rhi = _MONOTONE[base]
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        lo, hi = f(z.lo), f(z.hi)
        rel = 2.0 ** -44
        lo = _down(lo - np.abs(lo) * rel - 2.0 ** -1000)
        hi = _up(hi + np.abs(hi) * rel + 2.0 ** -1000)
    v = Interval(np.clip(lo, rlo, rhi), np.clip(hi, rlo, rhi))
    return v if c == 1 else _nan_out(v * _exact_interval(c, z.shape))


def _activation_enclosure(act, z: Interval) -> Interval:
    if act.pieces is not None:
        return _pwl_value_enclosure(act, z)
    v = _smooth_value_enclosure(act, z)
    if v is not None:
        return _nan_out(v)
    try:
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            v = activation_enclosures(act, z)[0]
    except NotSmooth:
        raise _NoEnclosure(f"activation {act.name!r} has no rigorous interval enclosure in symft") from None
    return _nan_out(v)


def forward_enclosure(net, lo, hi=None) -> list:
    r"""Rigorous enclosures of the fault-free outputs ``y_0, …, y_L`` for every input in a box.

    Outward-rounded interval arithmetic (the module docstring): each
    returned :class:`symft.intervals.Interval` contains the *exact* real
    value of ``y_l^i`` for every input ``x`` with ``lo ≤ x ≤ hi``, however
    the float64 forward pass would round (exact layers included).

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
        ``out[l]`` of shape ``(n_l, B)``.

    Raises
    ------
    InvalidArgument
        ``lo > hi``, or an activation without a rigorous enclosure (a
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
    if lo.shape != hi.shape or lo.shape[1] != net.n_inputs:
        raise InvalidArgument(f"lo, hi: expected two arrays of {net.n_inputs} numbers (or batches of them)")
    if not (lo <= hi).all():
        raise InvalidArgument("lo, hi: expected lo ≤ hi componentwise")
    y = Interval(lo.T.copy(), hi.T.copy())
    out = [y]
    for l in range(1, net.depth + 1):
        y = _activation_enclosure(net.activation(l), _affine_enclosure(net, l, y))
        out.append(y)
    return out


def _input_box(net, x, *, exact=False):
    """Validated input: floats ``(1, n_0)`` and an enclosure ``(lo, hi)`` of the exact values given.

    A float is taken as the binary value it holds; an exact input (``Fraction``, SymPy, a string
    such as ``"1/3"``) that float64 cannot hold is bracketed by its two neighbouring floats.  With
    ``exact=True`` also the exact inputs: a float array (all floats), Fractions, or ``None`` (irrational).
    """
    from ..utils import to_exact

    a = np.asarray(x) if not isinstance(x, str) else None
    if a is not None and (a.dtype.kind == "f" or (a.dtype.kind in "iu" and np.abs(a).max(initial=0) <= 2 ** 53)):
        X, _ = as_inputs(net, a.astype(float).ravel())     # every value a float: the box is a point
        box = (X[0].copy(), X[0].copy())
        if exact:       # the floats themselves: turned into Fractions only if an exact re-check needs them
            return X, box, X[0]
        return X, box
    vals = list(np.asarray(x, dtype=object).ravel())
    fl, lo, hi, fr = [], [], [], []
    for k, v in enumerate(vals):
        if isinstance(v, (float, np.floating)) or (isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                                    and abs(int(v)) <= 2 ** 53):
            f = float(v)
            fl.append(f)
            lo.append(f)
            hi.append(f)
            fr.append(Fraction(f) if math.isfinite(f) else None)
            continue
        e = to_exact(v, f"x[{k}]")
        if not (isinstance(e, sp.Expr) and e.is_number and e.is_real):
            raise InvalidArgument(f"x[{k}]: expected a real number, got {v!r}")
        f = float(e)
        fl.append(f)
        lo.append(-float_up(-e))
        hi.append(float_up(e))
        fr.append(Fraction(int(e.p), int(e.q)) if e.is_Rational else None)
    X, _ = as_inputs(net, np.asarray(fl, dtype=float))
    box = (np.asarray(lo, dtype=float), np.asarray(hi, dtype=float))
    if exact:
        return X, box, (None if any(v is None for v in fr) else fr)
    return X, box


#: Largest number of weights for which a loose enclosure of a piecewise-linear network is redone exactly.
EXACT_RECHECK_MAX_WEIGHTS = 200_000


def _exact_layer_fractions(net, l):
    """``W_l``, ``b_l`` as lists of Fractions (the exact values; floats read as their binary values)."""
    if net.layers[l - 1].is_float:
        W, b = net.weights(l), net.bias(l)
        return ([[Fraction(*v.as_integer_ratio()) for v in row] for row in W.tolist()],
                [Fraction(*v.as_integer_ratio()) for v in b.tolist()])
    from ..worstcase import _frac

    W, b = net.weights_exact(l), net.bias_exact(l)
    return ([[_frac(W[i, j]) for j in range(W.shape[1])] for i in range(W.shape[0])],
            [_frac(b[i]) for i in range(b.shape[0])])


def _exact_pwl_trace(net, xf):
    """The exact fault-free outputs of a piecewise-linear network (Fractions), layer by layer."""
    from ..worstcase import _pwl_apply

    ys, bs = [list(xf)], []
    for l in range(1, net.depth + 1):
        act = net.activation(l)
        Wl, bl = _exact_layer_fractions(net, l)
        bs.append(bl)
        y = ys[-1]
        ys.append([_pwl_apply(act, sum((w * v for w, v in zip(Wi, y) if w and v), Fraction(0)) + b)
                   for Wi, b in zip(Wl, bl)])
    return ys, bs


def _frac_up(v: Fraction) -> float:
    f = float(v)
    return f if Fraction(f) >= v else float(_up(f))


def _deviations(net, x, model):
    """Upper bounds of ``d_l = |c_l − y_l|`` per crashed layer, and whether they are rigorous.

    Interval enclosures first; for a piecewise-linear network whose enclosure is loose (the float
    forward pass cancels) the deviations are recomputed exactly in rationals and rounded up.
    """
    X, (lo, hi), xf = _input_box(net, x, exact=True)
    try:
        ys = forward_enclosure(net, lo, hi)
        crash_value = {}
        if model.semantics == "incoming_zeroed":
            for l in model.layers:
                if l > 0:
                    _, _, b, br = _layer_radii(net, l)
                    bi = Interval(_down(b - br)[:, None], _up(b + br)[:, None])
                    crash_value[l] = _activation_enclosure(net.activation(l), bi)
        rigorous = True
    except _NoEnclosure:
        # float64 values, trusted (the bound is then labelled not rigorous)
        tr = forward_trace(net, X)
        ys = [Interval.point(tr.ys[l].T) for l in range(net.depth + 1)]
        crash_value = {l: Interval.point(net.activation(l)(net.bias(l))[:, None]) for l in model.layers if l > 0}
        rigorous = False
    out = {}
    for l in model.layers:
        c = crash_value.get(l, Interval.zeros(ys[l].shape))
        with np.errstate(over="ignore", invalid="ignore"):
            diff = _nan_out(c - ys[l])
        out[l] = diff.mag()[:, 0]
    # redo exactly only where the enclosure is loose enough to matter (> 1e-6 relative: a cancellation);
    # the enclosure is sound either way
    loose = any(np.any((d.hi - d.lo) > 2.0 ** -20 * d.mag() + 2.0 ** -1000) for d in
                [_nan_out(crash_value.get(l, Interval.zeros(ys[l].shape)) - ys[l]) for l in model.layers])
    if (rigorous and loose and xf is not None and model.layers
            and all(net.activation(l).is_piecewise_linear for l in range(1, net.depth + 1))
            and sum(net.widths[l] * net.widths[l - 1] for l in range(1, net.depth + 1)) <= EXACT_RECHECK_MAX_WEIGHTS):
        if isinstance(xf, np.ndarray):
            xf = [Fraction(*v.as_integer_ratio()) for v in xf.tolist()]
        eys, bs = _exact_pwl_trace(net, xf)
        from ..worstcase import _pwl_apply

        for l in model.layers:
            if model.semantics == "incoming_zeroed" and l > 0:
                c = [_pwl_apply(net.activation(l), b) for b in bs[l - 1]]
            else:
                c = [Fraction(0)] * net.widths[l]
            out[l] = np.array([_frac_up(abs(ci - yi)) for ci, yi in zip(c, eys[l])])
    return out, rigorous


def lipschitz_constants(net) -> list[float]:
    r"""``K_l`` for ``l = 1 … L``, the output layer included (floats rounded up; ``inf`` for a discontinuous φ).

    Raises
    ------
    InvalidArgument
        When an activation has no known Lipschitz constant.

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> lipschitz_constants(random_network([2, 3, 1], seed=0, activation="sigmoid"))
    [0.25, 1.0]
    >>> lipschitz_constants(random_network([2, 3, 1], seed=0, output_activation="3*relu"))
    [1.0, 3.0]
    """
    out = []
    for l in range(1, net.depth + 1):
        K = net.activation(l).lipschitz
        if K is None:
            raise InvalidArgument(f"layer {l}: activation {net.activation(l).name!r} has no known Lipschitz constant")
        out.append(float_up(K))
    return out


def _range_widths(net) -> list[float]:
    """``sup φ_l − inf φ_l`` (rounded up; ``inf`` when unbounded), a cap on a surviving neuron's change."""
    out = []
    for l in range(1, net.depth + 1):
        lo, hi = net.activation(l).range
        out.append(float_up(hi - lo) if (lo.is_finite and hi.is_finite) else math.inf)
    return out


def spectral_norm_upper(W) -> float:
    r"""A rigorous upper bound of ``‖W‖₂`` (largest singular value) of a float matrix.

    With ``A`` the taller of ``W``, ``Wᵀ`` and ``G = AᵀA ≈ Q Λ Qᵀ`` (``Q``
    the right singular vectors from ``numpy.linalg.svd``), the matrices ``R = (AQ)ᵀ(AQ)`` and ``QᵀQ`` are
    enclosed by outward-rounded interval products; Ostrowski's theorem
    (``λ_k(QᵀGQ) = θ_k λ_k(G)``, ``θ_k ≥ λ_min(QᵀQ)``) and Gershgorin's
    discs then give ``‖W‖₂² = λ_max(G) ≤ max_i (R_ii + Σ_{j≠i} |R_ij|) /
    min_i ((QᵀQ)_ii − Σ_{j≠i} |(QᵀQ)_ij|)``, within a few ulps times the
    dimension of the true value.  Should the check ever fail, the cruder
    ``min(‖W‖_F, sqrt(‖W‖₁ ‖W‖_∞))`` (also rigorous) is returned.

    Examples
    --------
    >>> import numpy as np
    >>> s = spectral_norm_upper(np.array([[3.0, 0.0], [0.0, 4.0]]))
    >>> 4.0 <= s <= 4.0 * (1 + 1e-13)
    True
    """
    W = np.asarray(W, dtype=float)
    if W.size == 0 or not W.any():
        return 0.0
    A = W if W.shape[0] >= W.shape[1] else W.T
    absA = np.abs(A)
    crude = min(float(_up(math.sqrt(_sum_up(_mul_up(absA, absA))))),
                float(_up(math.sqrt(_mul_up(_sum_up_max(absA, 0), _sum_up_max(absA, 1))))))
    # scale by a power of two so that the squares neither overflow nor underflow (only when needed,
    # and only if the scaling is exact: no entry may lose bits in the subnormal range)
    e = math.frexp(float(absA.max()))[1]
    if -400 < e < 400:
        e = 0
    As = np.ldexp(A, -e)
    if e and not np.array_equal(np.ldexp(As, e), A):
        return crude
    try:
        with np.errstate(all="ignore"):
            Q = np.linalg.svd(As, full_matrices=False)[2].T    # eigenvectors of AᵀA (any Q will do)
            M = _prod_enclosure(As, Interval.point(Q))
            R = _gram_enclosure(M)
            P = _gram_enclosure(Interval.point(Q))
        rmag = R.mag()
        off = rmag.copy()
        np.fill_diagonal(off, 0.0)
        lam_hi = float(np.max(_up(np.diag(R.hi) + _up(upper_sum(off, axis=1)))))
        pmag = P.mag()
        np.fill_diagonal(pmag, 0.0)
        theta_lo = float(np.min(_down(np.diag(P.lo) - _up(upper_sum(pmag, axis=1)))))
        if not (math.isfinite(lam_hi) and theta_lo > 0.5):
            return crude
        s = float(_up(math.sqrt(max(float(_up(lam_hi / theta_lo)), 0.0))))
        s = float(_up(math.ldexp(s, e)))
    except (np.linalg.LinAlgError, OverflowError, ValueError):
        return crude
    return min(s, crude) if math.isfinite(s) else crude


def _sum_up_max(A, axis):
    return float(np.max(upper_sum(A, axis=axis)))


def _prod_enclosure(A, X: Interval) -> Interval:
    """Enclosure of ``A X`` for a float matrix ``A`` and an interval matrix ``X``."""
    m = A.shape[1]
    mid = 0.5 * (X.lo + X.hi)
    rad = _up(np.maximum(X.hi - mid, mid - X.lo))
    amr = _up(np.abs(mid) + rad)
    absA = np.abs(A)
    g = 3.0 * _gamma(m)
    c = A @ mid
    R = _up(_up((absA @ rad + g * (absA @ amr)) * (1.0 + 4.0 * g)) + 2.0 * m * _TINY)
    return Interval(_down(c - R), _up(c + R))


def _gram_enclosure(M: Interval) -> Interval:
    """Enclosure of ``Mᵀ M`` for an interval matrix ``M`` (midpoint–radius)."""
    k = M.lo.shape[0]
    c = 0.5 * (M.lo + M.hi)
    r = _up(np.maximum(M.hi - c, c - M.lo))
    ac = np.abs(c)
    T = _up(ac + r)
    g = 3.0 * _gamma(k)
    C = c.T @ c
    # |(c+δ)ᵀ(c+δ') − fl(cᵀc)| ≤ |c|ᵀ r + rᵀ |c| + rᵀ r + γ_k |c|ᵀ|c|
    R = ac.T @ r + r.T @ ac + r.T @ r + g * (T.T @ T)
    R = _up(_up(R * (1.0 + 4.0 * g)) + 2.0 * k * _TINY)
    return Interval(_down(C - R), _up(C + R))


def _opnorm_up(net, l, norm) -> float:
    """Upper bound of the operator norm of the exact ``W_l``."""
    if norm == 1:
        return _sum_up_max(_abs_weights_up(net, l), 0)
    if norm == "inf":
        return _sum_up_max(_abs_weights_up(net, l), 1)
    if norm == 2:
        W, Wr, _, _ = _layer_radii(net, l)
        s = spectral_norm_upper(W)
        if Wr.any():   # ‖W + E‖₂ ≤ ‖W‖₂ + ‖E‖_F
            s = float(_up(s + _up(math.sqrt(_sum_up(_mul_up(Wr, Wr))))))
        return s
    raise InvalidArgument(f"norm: expected one of 1, 2, 'inf', got {norm!r}")


def lipschitz_product(net, norm=2) -> float:
    r"""P2: ``Π_l K_l ‖W_l‖`` — a Lipschitz constant of ``x ↦ y_L(x)`` in the given norm (rounded up).

    With the spectral norm this is P2: ``‖y_L(x_2) − y_L(x_1)‖_2 ≤ ‖x_2 − x_1‖_2 Π_l ‖W_l‖_2``
    (for 1-Lipschitz φ).  Every layer's ``K_l`` is included, the output
    layer's too.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> lipschitz_product(mean_network(4), 2)        # ‖(1/4, …, 1/4)‖₂ = 1/2
    0.5
    """
    if norm not in NORMS:
        raise InvalidArgument(f"norm: expected one of 1, 2, 'inf', got {norm!r}")
    K = lipschitz_constants(net)
    out = 1.0
    for l in range(1, net.depth + 1):
        out = float(_mul_up(out, _mul_up(K[l - 1], _opnorm_up(net, l, norm))))
    return out


def crash_deviations(net, x, model) -> dict:
    r"""Upper bounds of ``d_l = |c_l − y_l|`` for each crashed layer (what a crash changes at that neuron).

    ``y_l`` and the crash value ``c_l`` (0, or ``φ_l(b_l)`` under
    ``"incoming_zeroed"``) are enclosed by interval arithmetic
    (:func:`forward_enclosure`), so each entry is ``≥`` the exact deviation
    even when the float64 forward pass cancels.

    Examples
    --------
    >>> from symft.graph.network import first_input_network
    >>> crash_deviations(first_input_network(2), [3, -1], NeuronCrash({0: 0.1}))[0]
    array([3., 1.])
    """
    model = _model(net, model)
    return _deviations(net, x, model)[0]


def _expected_masked_norm(d, p, norm) -> float:
    """Upper bound of E‖ξ ⊙ d‖ for ξ_i iid Be(p): exact for 1 and ∞, Jensen for 2; rounded up.

    ``p`` is a float ≥ the true probability (every form is non-decreasing in p)."""
    if p == 0 or d.size == 0 or not d.any():
        return 0.0
    if norm == 1:
        return float(_mul_up(p, _sum_up(d)))
    if norm == 2:
        return float(_up(math.sqrt(float(_mul_up(p, _sum_up(_mul_up(d, d)))))))
    # E max_i ξ_i d_i = Σ_j s_j p (1 − p)^j over the deviations sorted in decreasing order
    # (the j-th largest is the largest crashed one with probability p (1 − p)^j)
    s = np.sort(d)[::-1]
    s = s[s > 0]
    if not np.isfinite(s[0]):
        return math.inf
    q = float(_up(1.0 - p))
    j = np.arange(s.size)
    with np.errstate(under="ignore"):
        pw = np.concatenate(([1.0], np.cumprod(np.full(s.size - 1, q))))    # q^j with j roundings
        g = (j + 2) * _U
        w = _up(_up(pw * (1.0 + 2.0 * g / (1.0 - g))) + (j + 1) * _TINY)   # ≥ q^j
        w = _mul_up(p, w)
    return _sum_up(_mul_up(s, w))


def _propagate_norm(K, opnorm, e, cap) -> float:
    """Upper bound of min(K ‖W‖ e, cap) (0 when e = 0: an unchanged input leaves even a step unchanged)."""
    if e == 0:
        return 0.0
    return min(float(_mul_up(_mul_up(K, opnorm), e)), cap)


def _norm_of_ones(n, norm) -> float:
    return {1: float(n), 2: float(_up(math.sqrt(n))), "inf": 1.0}[norm]


_ASSUMPTIONS = ("independent Bernoulli crashes", "Lipschitz activations (global K_l, output layer included)",
                "values enclosed by outward-rounded interval arithmetic")


def _rigor_note(rigorous, net):
    if rigorous:
        return _ASSUMPTIONS, ""
    names = sorted({net.activation(l).name for l in range(1, net.depth + 1)
                    if net.activation(l).pieces is None
                    and net.activation(l).name.split("*")[-1] not in ("tanh", "sigmoid", "softplus")})
    note = (f"NOT RIGOROUS: activation(s) {', '.join(names)} have no interval enclosure, so the float64 forward "
            "pass is trusted")
    return _ASSUMPTIONS[:2] + ("float64 values of the activations trusted (not rigorous)",), note


# ---------------------------------------------------------------------- b1 / P2 / AP1

def b1(net, x, model, norm="inf") -> Bound:
    r"""Bound b1 (AP1; P2 with ``norm=2``): ``E‖Δ_L‖ ≤`` the norm recursion of the module docstring.

    ``E‖e_l‖ ≤ min(K_l ‖W_l‖ E‖e_{l−1}‖, (sup φ_l − inf φ_l) ‖1‖) + E‖ξ_l ⊙ d_l‖``,
    ``e_0 = −ξ_0 ⊙ x``, over every layer ``l = 1 … L`` (the output layer
    with its own ``K_L``).  For input crashes only and 1-Lipschitz φ this is
    exactly AP1, ``E‖Δ_L‖ ≤ ‖W_L‖ ··· ‖W_1‖ E‖ξ ⊙ x − x‖`` (with ``ξ`` the
    crash indicators).  ``E‖ξ ⊙ d‖`` is exact for the 1- and ∞-norms and
    bounded by Jensen, ``sqrt(p Σ d_i²)``, for the 2-norm.  (Example:
    ``E max_i ξ_i |x_i|`` at ``x = (2, 5, 7)``, ``p = 0.1`` is
    ``0.1·7 + 0.09·5 + 0.081·2 = 1.312``.)

    Assumptions: independent Bernoulli crashes; operator norms induced by
    the vector norm; Lipschitz activations (global constants ``K_l``).
    Every value is enclosed or rounded up (module docstring).

    Examples
    --------
    >>> from symft.graph.network import first_input_network
    >>> round(b1(first_input_network(3), [2, 5, 7], NeuronCrash({0: 0.1}), norm="inf").value[0], 12)
    1.312
    """
    model = _model(net, model)
    if norm not in NORMS:
        raise InvalidArgument(f"norm: expected one of 1, 2, 'inf', got {norm!r}")
    K = lipschitz_constants(net)
    widths = _range_widths(net)
    dev, rigorous = _deviations(net, x, model)
    e = _expected_masked_norm(dev.get(0, np.zeros(0)), float_up(model.probability(0)), norm)
    for l in range(1, net.depth + 1):
        cap = float(_mul_up(widths[l - 1], _norm_of_ones(net.widths[l], norm)))
        prop = _propagate_norm(K[l - 1], _opnorm_up(net, l, norm) if e > 0 else 0.0, e, cap)
        e = float(_up(prop + _expected_masked_norm(dev.get(l, np.zeros(0)), float_up(model.probability(l)), norm)))
    name = {1: "b1_1", 2: "b1_2", "inf": "b1_inf"}[norm]
    stmt = "P2 / AP1" if norm == 2 else "AP1"
    assumptions, note = _rigor_note(rigorous, net)
    return Bound(name, stmt if rigorous else stmt + " (float, not rigorous)", f"E‖Δ‖_{norm}", (e,), rigorous,
                 assumptions, note)


def ac1(net, x, model) -> Bound:
    r"""AC1, the [SRDS] bound: ``E‖Δ_L‖_∞ ≤ p N_0 ‖x‖_∞ Π_l K_l ‖W_l‖_∞`` for input crashes.

    The paper writes ``+ O(p²)``; in fact it is a bound outright:
    ``E max_i ξ_i |x_i| ≤ E Σ ξ_i |x_i| ≤ p N_0 ‖x‖_∞`` and the rest is
    Lipschitz propagation through every layer, the output layer's ``K_L``
    included (see :func:`b1`, which is never larger).

    Assumptions: crashes at the input layer only, independent, with
    probability p; Lipschitz activations.  Rounded up (module docstring).

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> ac1(mean_network(4), [1, 1, 1, 1], NeuronCrash({0: 0.1})).value      # 0.1·4·1·1
    (0.4,)
    """
    model = _model(net, model)
    if model.layers not in ((0,), ()):
        raise FaultModelError(f"model: AC1 is for input crashes only (layer 0), got layers {model.layers}")
    p = float_up(model.probability(0))
    _, (lo, hi) = _input_box(net, x)
    xmax = float(np.max(np.maximum(np.abs(lo), np.abs(hi))))
    v = float(_mul_up(_mul_up(_mul_up(p, float(net.n_inputs)), xmax), lipschitz_product(net, "inf")))
    return Bound("AC1", "AC1 [SRDS]", "E‖Δ‖_inf", (v,), True,
                 ("input crashes only", "Lipschitz activations (global K_l, output layer included)",
                  "rounded up"))


def b2(net, x, model) -> Bound:
    r"""Bound b2 (AP2), componentwise: ``E|Δ_L| ≤ K_L|W_L| (… (K_1|W_1| p_0|x| + p_1 d_1) …) + p_L d_L``.

    For input crashes and 1-Lipschitz φ this is AP2, ``E|Δ_L| ≤ p |W_L| ··· |W_1| |x|``
    (``|W|`` entrywise).  A K-Lipschitz φ is handled by the factors ``K_l``
    (equivalently, by :func:`symft.network.rescale_lipschitz`), at every
    layer including the output layer; each propagated entry is also capped
    by the width of the activation's range (module docstring).

    Examples
    --------
    >>> from symft.graph.network import first_input_network
    >>> b2(first_input_network(3), [2, 5, 7], NeuronCrash({0: 0.1})).value     # exact: E|Δ| = p·2
    (0.2,)
    """
    model = _model(net, model)
    K = lipschitz_constants(net)
    widths = _range_widths(net)
    dev, rigorous = _deviations(net, x, model)
    e = _mul_up(float_up(model.probability(0)), dev[0]) if 0 in dev else np.zeros(net.n_inputs)
    for l in range(1, net.depth + 1):
        if e.any():
            e = np.minimum(_mul_up(K[l - 1], _matvec_up(_abs_weights_up(net, l), e)), widths[l - 1])
        else:
            e = np.zeros(net.widths[l])
        if l in dev:
            e = _up(e + _mul_up(float_up(model.probability(l)), dev[l]))
    assumptions, note = _rigor_note(rigorous, net)
    return Bound("b2", "AP2" if rigorous else "AP2 (float, not rigorous)", "E|Δ_k|", tuple(float(v) for v in e),
                 rigorous, assumptions, note)


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
    >>> from symft.graph.network import mean_network
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
        if math.isnan(E2):          # ∞ · 0 with a step activation (K = ∞): the formula says nothing
            E2 = math.inf
    return Bound("AP10", "AP10 as printed (not proved)", "E Δ_k²", tuple(E2 for _ in range(net.n_outputs)), False,
                 ("as printed; indices read as documented", "not proved by symft", "float64, not rounded up"),
                 "an estimate: symft has not proved this reading of AP10")


# ---------------------------------------------------------------------- b3, b4, Fep (other modules)

def b3(net, x, model, *, remainder: bool = False) -> list[Bound]:
    r"""b3: T1's first-order ``E Δ`` and ``Var Δ`` (and the paper's ``p Σ g²``) via :func:`symft.taylor.t1`.

    Estimates, not bounds (T1 drops a remainder); with ``remainder=True``
    the rigorous remainder bounds are attached in ``note``.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> [b.name for b in b3(mean_network(2), [1, 1], NeuronCrash({0: 0.1}))]
    ['T1_mean', 'T1_var', 'T1_var_paper']
    """
    from ..engines import taylor

    model = _model(net, model)
    X = _x1(net, x)[0]
    r = taylor.t1(net, X, {l: float(q) for l, q in model.p}, semantics=model.semantics,
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


def b4(net, x, model) -> Bound:
    r"""b4: the exact single-crash contribution ``Σ_i p(1−p)^{n−1} Δ(e_i)`` (:func:`symft.engines.enumeration.single_crash_term`).

    An estimate of ``E Δ`` (exact to first order in p; the configurations
    with two or more crashes are left out).

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> b4(mean_network(2), [1, 1], NeuronCrash({0: 0.5})).value     # 2 · ½ · ½ · (−½)
    (-0.25,)
    """
    from ..engines import enumeration as exact

    model = _model(net, model)
    t = exact.single_crash_term(net, list(_x1(net, x)[0]), model, exact=False)
    return Bound("b4", "b4 single crashes, estimate", "E Δ_k", tuple(float(v) for v in np.ravel(t.mean)), False,
                 ("configurations with ≥ 2 crashes dropped",))


def fep_expected(net, x, model) -> Bound:
    r"""The [SRDS] expected-error bound, Fep with ``f_l = p_l N_l`` (:func:`symft.analysis.fep.fep_expected`).

    ``E‖Δ‖_∞ ≤ Σ_l C_l (p_l N_l) w_m^{(L+1)} Π_{l'>l} K_{l'} (1 − p_{l'}) N_{l'} w_m^{(l')}``
    with ``C_l`` the largest fault-free ``|y_l^i(x)|`` at this input (what a
    crash there removes).  A bound outright: ``|Δ| ≤ Fep(f)`` for every crash
    configuration with ``f_l`` failures per layer, and ``Fep`` is affine in
    each ``f_l`` separately with the layers independent, so
    ``E Fep(f) = Fep(E f) = Fep(p N)``.  Hidden-layer crashes only (the input
    and output layers do not fail in [WNF]); a non-linear output layer
    multiplies the bound by its Lipschitz constant ``K_{L+1}``.

    Raises
    ------
    NotImplementedError
        When :mod:`symft.analysis.fep` is not available.
    FaultModelError
        Crashes at the input or output layer.

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> b = fep_expected(random_network([2, 3, 1], seed=0), [0.5, -1.0], NeuronCrash({1: 0.1}))
    >>> b.quantity, b.rigorous
    ('E‖Δ‖_inf', True)
    """
    try:
        from . import fep
    except ImportError:  # pragma: no cover - depends on issue 5
        raise NotImplementedError("symft.analysis.fep is not available") from None
    model = _model(net, model)
    if any(l in (0, net.depth) for l in model.layers) or net.depth < 2:
        raise FaultModelError(f"model: the [SRDS] bound is for hidden-layer crashes only, got layers {model.layers}")
    if model.semantics != "output_zero":
        raise FaultModelError("model: the [SRDS] bound is for crashes that output 0")
    # probabilities as the exact values they hold (a float is its binary value, never its decimal repr)
    p = [model.probability(l) for l in range(1, net.depth)]
    X, (lo, hi) = _input_box(net, x)
    kw = {"x": X} if np.array_equal(lo, hi) else {"input_box": (lo, hi)}
    v = fep.fep_expected(net, p, **kw)
    return Bound("SRDS", "AC1 / Fep expected [SRDS]", "E‖Δ‖_inf", (float_up(v),), True,
                 ("hidden-layer crashes that output 0", "Lipschitz activations (K_l, output layer included)",
                  "C_l = largest fault-free |y_l^i(x)| at this input, enclosed by interval arithmetic",
                  "computed exactly (rationals), rounded up"))


def all_bounds(net, x, model) -> list[Bound]:
    r"""Every bound that applies to ``(net, x, model)``; inapplicable ones are skipped.

    Examples
    --------
    >>> from symft.graph.network import mean_network
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
