r"""Forward Error Propagation (Fep): the worst-case bound of [WNF] and its relatives (theory §7).

Notation of [WNF] mapped onto a symft network of depth ``D``: the hidden
layers are ``l = 1 … L`` with ``L = D − 1`` and widths ``N_l``; the input
layer 0 does not fail; layer ``L + 1 = D`` is the output layer, linear in
[WNF].  symft allows any Lipschitz output activation: its constant
``K_{L+1}`` (:attr:`FepParams.K_out`) multiplies every bound below, since
``|φ(z') − φ(z)| ≤ K_{L+1} |z' − z|`` (a ``3*relu`` output can triple the
error; a ``step`` output, with no Lipschitz constant, is refused).
``w_m^{(l)}`` is the largest ``|weight|`` into layer ``l`` (``l = 1 … L+1``),
``K_l`` the Lipschitz constant of layer ``l``'s activation, ``f_l`` the
number of failed neurons of layer ``l``, and ``C_l`` the largest deviation
a failed neuron of layer ``l`` can inject:

* crash — a crashed neuron outputs 0 instead of its fault-free output
  ``y_l^i``, so the deviation is ``|y_l^i| ≤ C_l``: ``C_l = sup |φ_l|`` over
  the *reachable range* — the whole range of a bounded activation (1 for
  sigmoid and tanh), or the largest ``|y_l^i(x)|`` over the inputs
  considered (needed for ReLU, whose range is unbounded);
* Byzantine with capacity ``C`` — a failed neuron sends any ``v ∈ [−C, C]``;
  the deviation is ``|v − y_l^i| ≤ C + sup |y_l^i|`` (``2C`` when outputs
  reach ``±C``); symft uses this *deviation* bound and says so
  (:attr:`FepParams.constant`).

The bound (per output component), with ``K_l`` per layer (the theory page writes
``K^{L−l}`` for equal constants):

``Fep(f) = K_{L+1} w_m^{(L+1)} Σ_{l=1}^{L} C_l f_l Π_{l'=l+1}^{L} K_{l'} (N_{l'} − f_{l'}) w_m^{(l')}``,

and the recursion ``E_0 = 0``, ``E_l = f_l C_l + K_l w_m^{(l)} (N_l − f_l) E_{l−1}``,
``Fep = K_{L+1} w_m^{(L+1)} E_L`` (``E_l`` bounds the sum of ``|Δ|`` over layer
``l``).  Both are computed exactly (SymPy rationals: floats in the network
are read as the binary rationals they hold) and must agree.  The constants
``C_l`` taken from inputs are *enclosed* (exact rationals for
piecewise-linear networks, outward-rounded interval arithmetic otherwise),
never a rounded float64 forward pass: the walker's rational or outward-rounded
interval interpretation.

**Chains only.**  Fep counts the failed neurons of each layer and multiplies
by the widths ``N_l`` and the largest weight ``w_m^{(l)}`` of each layer: a
recursion over the layers of a chain of dense layers.  Every function here
reads the layers once through ``net.as_chain(…)``; another graph (a residual
add, a convolution, pooling) raises :class:`~symft.graph.network.NotAChain`
with the reason.  On any graph, the expected error is bounded by
:func:`symft.analysis.bounds.norm_propagation_bound` and
:func:`symft.analysis.bounds.absolute_propagation_bound`.

Also here: the synapse form :func:`fep_synapse`, the maximum over all
allocations of ``f`` failures :func:`fep_max` (Fep is not monotone in the
downstream ``f_l``), the expected-error bound of [SRDS]
:func:`fep_expected`, the applications of [WNF] (:func:`precision`,
:func:`boosting`, :func:`growth_factors`), the tight witness network
:func:`witness_network` on which the bound is attained exactly, and
:func:`fep_report`, Fep beside the exact worst case
(:mod:`symft.worstcase`) and their ratio.

Examples
--------
>>> from symft.graph.network import Network
>>> net = Network.from_sympy([[[1, -2], [3, 1]], [[1, 1]]], activations=["tanh", "linear"])
>>> fep(net, [1])                       # C = sup|tanh| = 1, w_m^(2) = 1: one crash → 1
1
>>> fep(net, [1], byzantine=1)          # deviation ≤ C + sup|tanh| = 2
2
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from numbers import Integral, Real

import numpy as np
import sympy as sp

from ..errors import InvalidArgument, TooLargeError
from ..graph.network import Network
from ..problem import make_problem
from ..walk.interval import Interval, IntervalInterp
from ..walk.rational import Rational, as_fractions
from ..walk.walker import walk
from .rounding import input_box
from ..results import result

__all__ = [
    "FepParams",
    "fep_params",
    "fep",
    "fep_recursive",
    "fep_synapse",
    "fep_max",
    "fep_expected",
    "precision",
    "boosting",
    "growth_factors",
    "witness_network",
    "FepReport",
    "fep_report",
]


@dataclass(frozen=True)
class FepParams:
    """The constants Fep needs, exact (SymPy numbers).

    Attributes
    ----------
    N : tuple
        Hidden widths ``N_1 … N_L``.
    w_max : tuple
        ``w_m^{(1)} … w_m^{(L+1)}``.
    K : tuple
        Lipschitz constants ``K_1 … K_L`` of the hidden activations.
    C : tuple
        Deviation bounds ``C_1 … C_L`` of a failed neuron.
    C_in : SymPy number or None
        Bound on ``|x_j|`` (only the synapse form needs it, for synapses into layer 1).
    constant : str
        Which constant ``C`` is: how it was obtained.
    K_out : SymPy number
        Lipschitz constant ``K_{L+1}`` of the output layer's activation
        (1, the default, for the linear output layer of [WNF]).

    Examples
    --------
    >>> p = FepParams((2, 2), (1, 1, 1), (1, 1), (1, 1), None, "given")
    >>> p.L
    2
    """

    N: tuple
    w_max: tuple
    K: tuple
    C: tuple
    C_in: object
    constant: str
    K_out: object = sp.Integer(1)

    @property
    def L(self) -> int:
        """Number of hidden layers.

        Examples
        --------
        >>> FepParams((3,), (1, 1), (1,), (1,), None, "given").L
        1
        """
        return len(self.N)


def _exact(v, where):
    if isinstance(v, bool):
        raise InvalidArgument(f"{where}: expected a number, got {v!r}")
    if isinstance(v, sp.Basic):
        return v
    if isinstance(v, str):
        return sp.Rational(v)
    if isinstance(v, Integral):
        return sp.Integer(int(v))
    if isinstance(v, Real):
        if not math.isfinite(v):
            raise InvalidArgument(f"{where}: expected a finite number, got {v!r}")
        return sp.Rational(float(v))
    if isinstance(v, Fraction):
        return sp.Rational(v.numerator, v.denominator)
    raise InvalidArgument(f"{where}: expected a number, got {type(v).__name__} {v!r}")


def _up(v: float):
    """The float v as a rational, moved up to the next float (a rational ≥ v for a float v ≥ 0)."""
    return sp.Rational(float(np.nextafter(abs(float(v)), np.inf)))


def _max_abs(W):
    """``max |w|`` of a stored weight array, exactly (a float as the binary rational it holds)."""
    if W.size == 0:
        return sp.Integer(0)
    if W.dtype != object:
        return sp.Rational(float(np.abs(W).max()))
    return max(abs(v) for v in W.reshape(-1))


def _reachable_ranges(net, chain, *, x=None, box=None) -> list:
    """Upper bounds of the largest exact ``|y_l^i|`` per hidden layer, over given inputs or an input box.

    Given inputs (up to 1000, rational) of a network whose hidden
    activations are piecewise linear with rational pieces: exact, by the
    walker's rational interpretation.  Otherwise an enclosure by the
    walker's outward-rounded interval interpretation, so that a float64
    pass that cancels cannot make ``C_l`` too small.  A chain's hidden
    layers only (Fep is defined on chains).
    """
    hidden = chain.sites[1:-1]
    acts = [lay.activation for lay in chain.layers[:len(hidden)]]
    if not hidden:
        return []
    if x is not None:
        pb = make_problem(net, x, where="x")
        lo, hi, exact = input_box(pb)
        if exact is not None and pb.B <= 1000 and all(a.rational_fn is not None for a in acts):
            xs = as_fractions(np.asarray(exact, dtype=object).reshape((pb.B,) + tuple(net.input_shape)))
            vals = walk(net, Rational(net), xs, stop=hidden[-1])
            sups = [max((abs(v) for v in np.asarray(vals[s], dtype=object).reshape(-1)), default=Fraction(0))
                    for s in hidden]
            return [sp.Rational(v.numerator, v.denominator) for v in sups]
    else:
        lo, hi = (np.atleast_2d(np.asarray(v, dtype=float)) for v in box)
        if lo.shape != hi.shape or lo.ndim != 2 or lo.shape[1] != net.n_inputs:
            raise InvalidArgument(f"input_box: expected two arrays of {net.n_inputs} numbers (or batches of them)")
        if not (lo <= hi).all():
            raise InvalidArgument("input_box: expected lo ≤ hi componentwise")
    for a in acts:
        if not a.box_is_rigorous:
            raise InvalidArgument(f"activation {a.name!r} has no rigorous interval enclosure in symft; give C=… "
                                  "(the deviation bound) explicitly")
    shape = (lo.shape[0],) + tuple(net.input_shape)
    vals = walk(net, IntervalInterp(net), Interval(lo.reshape(shape), hi.reshape(shape)), stop=hidden[-1])
    out = []
    for l, s in enumerate(hidden, start=1):
        m = float(np.max(vals[s].mag(), initial=0.0))
        if not np.isfinite(m):
            raise InvalidArgument(f"layer {l}: the interval enclosure of the outputs overflows; give C=… explicitly")
        out.append(sp.Rational(m))
    return out


def _input_bound(net, x, box):
    """A rational ``≥ max |x_j|`` over the inputs (strictly above: the next float up)."""
    if x is not None:
        lo, hi, _ = input_box(make_problem(net, x, where="x"))
    else:
        lo, hi = (np.asarray(v, dtype=float) for v in box)
    return _up(float(max(np.max(np.abs(lo)), np.max(np.abs(hi)))))


def fep_params(net: Network, *, byzantine=None, C=None, x=None, input_box=None) -> FepParams:
    r"""Read ``N_l``, ``w_m^{(l)}``, ``K_l`` off the network and choose ``C_l``.

    Parameters
    ----------
    byzantine : number, optional
        Capacity ``C`` of Byzantine neurons; the deviation used is
        ``C + sup|y_l|`` (with ``sup|y_l|`` from the rule below, or ``C``
        itself if the activation's range is inside ``[−C, C]``... in every
        case the larger, sound one: ``C + sup|y_l|``).
    C : number or sequence, optional
        The deviation bound(s) ``C_l`` given directly (one for all hidden
        layers, or one per layer).
    x : array_like, optional
        Inputs (one or a batch): ``sup|y_l|`` is the largest fault-free
        ``|y_l^i|`` over them (enclosed: exact rationals for
        piecewise-linear networks, outward-rounded intervals otherwise).
    input_box : (lo, hi), optional
        Bounds on the inputs: ``sup|y_l|`` by interval arithmetic.

    With none of ``C``, ``x``, ``input_box``: ``sup|φ_l|`` over the reals,
    which must be finite (tanh, sigmoid, hardtanh, ramp, step).  Inputs
    ``x`` may be exact (``"1/3"``, ``Fraction``): ``C_l`` then holds for
    them, not for their nearest floats.

    Chains only: another graph raises
    :class:`~symft.graph.network.NotAChain` (module docstring).

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> p = fep_params(random_network([3, 4, 2, 1], seed=0, activation="sigmoid"))
    >>> p.N, p.K, p.C, p.constant
    ((4, 2), (1/4, 1/4), (1, 1), 'crash: C_l = sup|φ_l| over the reals (activation range)')
    >>> fep_params(random_network([3, 4, 1], seed=0, output_activation="3*relu")).K_out
    3
    """
    if not isinstance(net, Network):
        raise InvalidArgument(f"net: expected a Network, got {type(net).__name__}")
    chain = net.as_chain("Forward Error Propagation (a recursion over the layers)")
    if net.free_symbols:
        raise InvalidArgument("net: symbolic weights; substitute values first (net.subs)")
    D = chain.depth
    L = D - 1
    N = tuple(chain.widths[1:D])
    w_max = tuple(_max_abs(lay.weight) for lay in chain.layers)
    Ks = []
    for l, lay in enumerate(chain.layers[:L], start=1):
        K = lay.activation.lipschitz
        if K is None or K == sp.oo:
            raise InvalidArgument(f"layer {l}: activation {lay.activation.name!r} has no finite Lipschitz "
                                  f"constant (K = {K}); Fep needs one")
        Ks.append(sp.sympify(K))
    out_act = chain.layers[L].activation
    K_out = out_act.lipschitz
    if K_out is None or K_out == sp.oo:
        raise InvalidArgument(f"layer {D} (output): activation {out_act.name!r} has no finite Lipschitz "
                              f"constant (K = {K_out}); Fep needs one")
    K_out = sp.sympify(K_out)
    # sup |y_l| for the clean outputs
    if C is not None:
        if isinstance(C, (list, tuple)):
            if len(C) != L:
                raise InvalidArgument(f"C: expected {L} values (one per hidden layer), got {len(C)}")
            sups = [_exact(c, f"C[{k}]") for k, c in enumerate(C)]
        else:
            sups = [_exact(C, "C")] * L
        how = "given"
    elif x is not None:
        sups = _reachable_ranges(net, chain, x=x)
        B = make_problem(net, x, where="x").B
        how = f"sup|y_l| = max fault-free |y_l^i| over the {B} given input(s)"
    elif input_box is not None:
        sups = _reachable_ranges(net, chain, box=input_box)
        how = "sup|y_l| over the input box by interval arithmetic (outward rounded)"
    else:
        sups = []
        for l, lay in enumerate(chain.layers[:L], start=1):
            s = lay.activation.sup_abs
            if s == sp.oo:
                raise InvalidArgument(f"layer {l}: activation {lay.activation.name!r} is unbounded; give "
                                      f"x=…, input_box=… or C=… to bound the reachable range")
            sups.append(sp.sympify(s))
        how = "C_l = sup|φ_l| over the reals (activation range)"
    for k, s in enumerate(sups):
        if not (s.is_number and s >= 0):
            raise InvalidArgument(f"C[{k}]: expected a number ≥ 0, got {s}")
    if byzantine is not None:
        cap = _exact(byzantine, "byzantine")
        if cap < 0:
            raise InvalidArgument(f"byzantine: expected a capacity ≥ 0, got {byzantine!r}")
        if how == "given":
            Cs = tuple(sups)
            constant = f"Byzantine (capacity {cap}): deviation bounds C_l given"
        else:
            Cs = tuple(cap + s for s in sups)
            constant = f"Byzantine (capacity {cap}): deviation C_l = {cap} + sup|y_l| ({how})"
    else:
        Cs = tuple(sups)
        constant = f"crash: {how}" if how != "C_l = sup|φ_l| over the reals (activation range)" else \
            "crash: C_l = sup|φ_l| over the reals (activation range)"
    c_in = None if x is None and input_box is None else _input_bound(net, x, input_box)
    return FepParams(N, w_max, tuple(Ks), Cs, c_in, constant, K_out)


def _params(net_or_params, **kw) -> FepParams:
    if isinstance(net_or_params, FepParams):
        if any(v is not None for v in kw.values()):
            raise InvalidArgument("pass byzantine/C/x/input_box to fep_params, not with a FepParams")
        return net_or_params
    return fep_params(net_or_params, **kw)


def _failures(P: FepParams, failures, where="failures", allow_real=False):
    f = list(failures)
    if len(f) != P.L:
        raise InvalidArgument(f"{where}: expected {P.L} numbers f_1 … f_{P.L} (one per hidden layer), got {len(f)}")
    out = []
    for l, (v, n) in enumerate(zip(f, P.N), start=1):
        if allow_real:
            v = _exact(v, f"{where}[{l - 1}]")
            ok = v >= 0 and v <= n
        else:
            ok = isinstance(v, Integral) and not isinstance(v, bool) and 0 <= v <= n
            v = sp.Integer(int(v)) if ok else v
        if not ok:
            raise InvalidArgument(f"{where}[{l - 1}]: expected {'a number' if allow_real else 'an integer'} "
                                  f"in 0 … N_{l} = {n}, got {v!r}")
        out.append(v)
    return out


def fep(net_or_params, failures, *, byzantine=None, C=None, x=None, input_box=None):
    r"""Fep in closed form: ``K_{L+1} w_m^{(L+1)} Σ_l C_l f_l Π_{l'>l} K_{l'} (N_{l'} − f_{l'}) w_m^{(l')}``.

    Parameters
    ----------
    net_or_params : Network or FepParams
    failures : sequence of int
        ``f_1 … f_L``, failed neurons per hidden layer.
    byzantine, C, x, input_box
        See :func:`fep_params`.

    Returns
    -------
    SymPy number (exact)

    Chains only: a network that is not a chain of dense layers raises
    :class:`~symft.graph.network.NotAChain` (module docstring).

    Examples
    --------
    >>> P = FepParams((3, 2), (1, 2, 5), (1, 1), (1, 1), None, "given")
    >>> fep(P, [1, 0])    # 5 · (1·1 · 1·(2−0)·2) = 20
    20
    >>> fep(P, [1, 2])    # the second layer is all failed: 5 · (0 + 2·1) = 10 (not monotone)
    10
    """
    P = _params(net_or_params, byzantine=byzantine, C=C, x=x, input_box=input_box)
    f = _failures(P, failures)
    return _closed(P, f)


def _closed(P, f):
    total = sp.Integer(0)
    for l in range(P.L):
        term = P.C[l] * f[l]
        for lp in range(l + 1, P.L):
            term *= P.K[lp] * (P.N[lp] - f[lp]) * P.w_max[lp]
        total += term
    return _rational(P.K_out * P.w_max[P.L] * total)


def _rational(v):
    """A SymPy Float that slipped in (a hand-made FepParams) as the binary value it holds, never rounded."""
    v = sp.sympify(v)
    if v.atoms(sp.Float):
        v = v.xreplace({a: sp.Rational(a) for a in v.atoms(sp.Float)})
    return v


def fep_recursive(net_or_params, failures, *, byzantine=None, C=None, x=None, input_box=None):
    r"""Fep by the recursion ``E_l = f_l C_l + K_l w_m^{(l)} (N_l − f_l) E_{l−1}``,
    ``Fep = K_{L+1} w_m^{(L+1)} E_L``.

    Returns the same exact number as :func:`fep` (a test checks it).

    Chains only: a network that is not a chain of dense layers raises
    :class:`~symft.graph.network.NotAChain` (module docstring).

    Examples
    --------
    >>> P = FepParams((3, 2), (1, 2, 5), (1, 1), (1, 1), None, "given")
    >>> fep_recursive(P, [1, 0]), fep_recursive(P, [1, 2])
    (20, 10)
    """
    P = _params(net_or_params, byzantine=byzantine, C=C, x=x, input_box=input_box)
    f = _failures(P, failures)
    E = sp.Integer(0)
    for l in range(P.L):
        E = f[l] * P.C[l] + P.K[l] * P.w_max[l] * (P.N[l] - f[l]) * E
    return _rational(P.K_out * P.w_max[P.L] * E)


def fep_synapse(net_or_params, synapses, failures=None, *, byzantine=None, C=None, x=None, input_box=None):
    r"""Fep for failed synapses (and optionally neurons).

    ``s_l`` failed synapses into layer ``l = 1 … L+1``; a failed synapse
    into layer ``l`` removes at most ``C_{l−1} w_m^{(l)}`` from one
    pre-activation (``C_0`` = the input bound, from ``x`` or
    ``input_box``), i.e. at most ``K_l C_{l−1} w_m^{(l)}`` from one output
    of layer ``l``; it then propagates like a neuron failure:

    ``Fep_syn = K_{L+1} [Σ_{l=1}^{L} s_l C_{l−1} w_m^{(l)} K_l w_m^{(L+1)}
    Π_{l'>l} K_{l'} (N_{l'} − f_{l'}) w_m^{(l')}
    + s_{L+1} C_L w_m^{(L+1)}]`` (plus the neuron term when ``failures`` is given;
    ``K_{L+1}`` is the output layer's Lipschitz constant).

    Chains only: a network that is not a chain of dense layers raises
    :class:`~symft.graph.network.NotAChain` (module docstring).

    Examples
    --------
    >>> P = FepParams((2,), (1, 3), (1,), (1,), 1, "given")
    >>> fep_synapse(P, [1, 0]), fep_synapse(P, [0, 1])   # 1·1·1·3 and 1·3
    (3, 3)
    """
    P = _params(net_or_params, byzantine=byzantine, C=C, x=x, input_box=input_box)
    s = list(synapses)
    if len(s) != P.L + 1:
        raise InvalidArgument(f"synapses: expected {P.L + 1} numbers s_1 … s_{P.L + 1}, got {len(s)}")
    for k, v in enumerate(s):
        if isinstance(v, bool) or not isinstance(v, Integral) or v < 0:
            raise InvalidArgument(f"synapses[{k}]: expected an integer ≥ 0, got {v!r}")
    f = _failures(P, failures if failures is not None else [0] * P.L)
    if s[0] and P.C_in is None:
        raise InvalidArgument("synapses[0]: synapses into layer 1 carry inputs; give x=… or input_box=… "
                              "to bound |x|")
    src = [P.C_in if P.C_in is not None else sp.Integer(0)] + list(P.C)
    E = sp.Integer(0)
    for l in range(P.L):
        E = f[l] * P.C[l] + s[l] * P.K[l] * src[l] * P.w_max[l] + P.K[l] * P.w_max[l] * (P.N[l] - f[l]) * E
    return _rational(P.K_out * (P.w_max[P.L] * E + s[P.L] * src[P.L] * P.w_max[P.L]))


def fep_max(net_or_params, f: int, *, at_most: bool = False, byzantine=None, C=None, x=None, input_box=None,
            force=False):
    r"""The largest Fep over all allocations ``(f_1, …, f_L)`` with ``Σ f_l = f``, ``0 ≤ f_l ≤ N_l``.

    With ``at_most=True`` the allocations with ``Σ f_l ≤ f`` are searched
    (the bound for "at most f failures", which is what the exact worst case
    of :func:`symft.worstcase.worst_case` computes).

    Fep is not monotone in the downstream ``f_l`` (a failed neuron stops
    forwarding the error it receives), so every allocation is tried:
    ``C(f + L − 1, L − 1)`` of them (refused above 10^6 unless ``force``).

    Returns ``(value, allocation)``.

    Chains only: a network that is not a chain of dense layers raises
    :class:`~symft.graph.network.NotAChain` (module docstring).

    Examples
    --------
    >>> P = FepParams((3, 2), (1, 2, 5), (1, 1), (1, 1), None, "given")
    >>> fep_max(P, 2)         # (2, 0): 5·2·2·2 = 40 beats (1, 1): 5·(1·2 + 1) = 15 and (0, 2): 10
    (40, (2, 0))
    """
    P = _params(net_or_params, byzantine=byzantine, C=C, x=x, input_box=input_box)
    if isinstance(f, bool) or not isinstance(f, Integral) or f < 0:
        raise InvalidArgument(f"f: expected an integer ≥ 0, got {f!r}")
    if f > sum(P.N):
        raise InvalidArgument(f"f: expected at most Σ N_l = {sum(P.N)} failures, got {f}")
    totals = range(f + 1) if at_most else [f]
    n_alloc = sum(math.comb(t + P.L - 1, P.L - 1) for t in totals) if P.L > 0 else 1
    if n_alloc > 10 ** 6 and not force:
        raise TooLargeError(f"fep_max: {n_alloc} allocations to search; pass force=True")
    best, arg = None, None
    for t in totals:
        for alloc in _allocations(t, P.N):
            v = _closed(P, [sp.Integer(a) for a in alloc])
            if best is None or v > best:
                best, arg = v, alloc
    return best, arg


def _allocations(f, caps):
    if len(caps) == 1:
        if f <= caps[0]:
            yield (f,)
        return
    for a in range(min(f, caps[0]) + 1):
        for rest in _allocations(f - a, caps[1:]):
            yield (a,) + rest


def fep_expected(net_or_params, p, *, byzantine=None, C=None, x=None, input_box=None):
    r"""The expected-error bound of [SRDS] (PFT AC1): Fep with ``f_l = p_l N_l``.

    ``E‖Δ‖_∞ ≤ K_{L+1} Σ_l C_l (p_l N_l) w_m^{(L+1)} Π_{l'>l} K_{l'} (1 − p_{l'}) N_{l'} w_m^{(l')}``.

    Parameters
    ----------
    p : number or sequence
        Crash probability of every hidden layer, or one per hidden layer.

    Chains only: a network that is not a chain of dense layers raises
    :class:`~symft.graph.network.NotAChain` (module docstring).

    Examples
    --------
    >>> P = FepParams((10,), (1, 1), (1,), (1,), None, "given")
    >>> fep_expected(P, "1/10")
    1
    """
    P = _params(net_or_params, byzantine=byzantine, C=C, x=x, input_box=input_box)
    ps = list(p) if isinstance(p, (list, tuple)) else [p] * P.L
    if len(ps) != P.L:
        raise InvalidArgument(f"p: expected {P.L} probabilities (one per hidden layer), got {len(ps)}")
    ps = [_exact(q, f"p[{k}]") for k, q in enumerate(ps)]
    for k, q in enumerate(ps):
        if not (0 <= q <= 1):
            raise InvalidArgument(f"p[{k}]: expected a probability in [0, 1], got {q}")
    f = _failures(P, [q * n for q, n in zip(ps, P.N)], "p·N", allow_real=True)
    return _closed(P, f)


def precision(net_or_params, epsilon, *, C=None, x=None, input_box=None) -> dict:
    r"""Application (a) of [WNF]: the coarsest rounding ``η`` of every neuron output with error ≤ ε.

    Rounding every hidden output to within ``η`` is a deviation ``η`` at
    every neuron with no neuron failing (Fep with ``f_l = N_l``, ``C = η``
    and no ``(N − f)`` factor):
    ``err(η) = η · K_{L+1} w_m^{(L+1)} Σ_l N_l Π_{l'>l} K_{l'} N_{l'} w_m^{(l')}``.
    Returns ``eta = ε / (err(η)/η)`` and the bits of a fixed-point format
    of step ``2η`` covering ``[−C_max, C_max]`` (``C_max`` the largest
    ``sup|y_l|``): ``⌈log2(C_max/η + 1)⌉ + 1`` (sign bit).

    Chains only: a network that is not a chain of dense layers raises
    :class:`~symft.graph.network.NotAChain` (module docstring).

    Examples
    --------
    >>> P = FepParams((4,), (1, 1/sp.Integer(4)), (1,), (1,), None, "given")
    >>> d = precision(P, "1/100")
    >>> d["eta"], d["bits"]
    (1/100, 8)
    """
    P = _params(net_or_params, C=C, x=x, input_box=input_box)
    eps = _exact(epsilon, "epsilon")
    if not eps > 0:
        raise InvalidArgument(f"epsilon: expected a positive number, got {epsilon!r}")
    gain = sp.Integer(0)
    for l in range(P.L):
        term = sp.Integer(P.N[l])
        for lp in range(l + 1, P.L):
            term *= P.K[lp] * P.N[lp] * P.w_max[lp]
        gain += term
    gain = _rational(gain * P.K_out * P.w_max[P.L])
    eta = eps / gain if gain != 0 else sp.oo
    cmax = max(P.C) if P.C else sp.Integer(1)
    bits = None if eta == sp.oo else int(math.ceil(math.log2(float(cmax / eta) + 1))) + 1
    return {"eta": eta, "gain": gain, "bits": bits, "range": cmax}


def boosting(net_or_params, epsilon, *, byzantine=None, C=None, x=None, input_box=None) -> dict:
    r"""Application (b) of [WNF]: the largest number of "late" inputs a neuron may ignore.

    A neuron that fires after hearing ``N_l − f_l`` of its inputs treats the
    rest as crashed; the error stays ≤ ε for every placement of ``f``
    such failures iff ``max_{allocations} Fep(f) ≤ ε``.  Returns the largest
    such ``f`` and the worst allocation of ``f + 1`` (``None`` when all
    neurons may be ignored).

    Chains only: a network that is not a chain of dense layers raises
    :class:`~symft.graph.network.NotAChain` (module docstring).

    Examples
    --------
    >>> P = FepParams((3, 2), (1, 2, 5), (1, 1), (1, 1), None, "given")
    >>> boosting(P, 25)["f"]       # fep_max: f=1 → 20, f=2 → 40
    1
    """
    P = _params(net_or_params, byzantine=byzantine, C=C, x=x, input_box=input_box)
    eps = _exact(epsilon, "epsilon")
    best = 0
    worst_next = None
    for f in range(0, sum(P.N) + 1):
        v, alloc = fep_max(P, f)
        if v <= eps:
            best = f
        else:
            worst_next = (v, alloc)
            break
    return {"f": best, "exceeded_by": worst_next}


def growth_factors(net_or_params, *, C=None, x=None, input_box=None) -> tuple:
    r"""Application (c) of [WNF]: the factors ``K_l N_{l−1} w_m^{(l)}`` for ``l = 2 … L``.

    When all are ≤ 1 the bound does not grow exponentially with depth (the
    price: a constrained training).  ``N_{l−1}`` is the fan-in.  The output
    layer contributes one fixed factor ``K_{L+1} w_m^{(L+1)}`` to every
    bound, not a growth with depth, so it is not listed.

    Chains only: a network that is not a chain of dense layers raises
    :class:`~symft.graph.network.NotAChain` (module docstring).

    Examples
    --------
    >>> growth_factors(FepParams((3, 2), (1, 2, 5), (1, 1), (1, 1), None, "given"))
    (6,)
    """
    P = _params(net_or_params, C=C, x=x, input_box=input_box)
    return tuple(P.K[l] * P.N[l - 1] * P.w_max[l] for l in range(1, P.L))


def witness_network(widths, w_max, *, K=1, C=1, byzantine=False) -> tuple:
    r"""The tight network of theory §7 on which Fep is attained exactly.

    Hidden activation ``φ(z) = K z``, every weight into layer ``l`` equal to
    ``+w_m^{(l)}``, biases chosen so that every hidden output is exactly
    ``C`` at the input ``x = 0``, one linear output.  Crashing any ``f_l``
    neurons per layer removes ``C`` at each of them; all deviations have the
    same sign, nothing cancels, and ``|Δ| = Fep(f)`` exactly.  With
    ``byzantine=True`` the failed neurons send ``−C`` (capacity ``C``):
    deviation ``2C`` each, and ``|Δ|`` equals Fep with deviation constant ``2C``.

    Parameters
    ----------
    widths : sequence of int
        ``(n_0, N_1, …, N_L)`` (the output width 1 is added).
    w_max : sequence
        ``w_m^{(1)} … w_m^{(L+1)}``, positive rationals.

    Returns
    -------
    (Network, input)
        The network (exact) and the input ``x = 0``.

    Examples
    --------
    >>> from symft.faults import CrashPattern
    >>> from symft.engines.forward import output_error
    >>> net, x = witness_network([1, 3, 2], [1, 2, 5])
    >>> output_error(net, x, CrashPattern([(1, 0)]), exact=True)[0], fep(net, [1, 0], C=1)
    (-20, 20)
    """
    widths = list(widths)
    if len(widths) < 2 or not all(isinstance(n, Integral) and n >= 1 for n in widths):
        raise InvalidArgument(f"widths: expected (n_0, N_1, …, N_L) positive integers, got {widths!r}")
    L = len(widths) - 1
    if len(w_max) != L + 1:
        raise InvalidArgument(f"w_max: expected {L + 1} values w_m^(1) … w_m^(L+1), got {len(w_max)}")
    ws = [_exact(w, f"w_max[{k}]") for k, w in enumerate(w_max)]
    if not all(w > 0 for w in ws):
        raise InvalidArgument("w_max: expected positive values")
    K = _exact(K, "K")
    C = _exact(C, "C")
    if not (K > 0 and K.is_Rational and C > 0):
        raise InvalidArgument("K, C: expected positive rationals")
    Ws, bs = [], []
    prev = sp.Integer(0)  # value of every neuron of the previous layer (input 0)
    for l in range(1, L + 1):
        n_in, n_out = widths[l - 1], widths[l]
        Ws.append([[ws[l - 1]] * n_in for _ in range(n_out)])
        # K (w·n_in·prev + b) = C
        bs.append([C / K - ws[l - 1] * n_in * prev] * n_out)
        prev = C
    Ws.append([[ws[L]] * widths[L]])
    bs.append([0])
    act = "linear" if K == 1 else f"{K}*linear"
    net = Network.from_sympy(Ws, bs, [act] * L + ["linear"], name="fep-witness")
    return net, [0] * widths[0]


@result
@dataclass(frozen=True)
class FepReport:
    """Fep beside the exact worst case on one input.

    Attributes
    ----------
    fep : SymPy number
        ``fep_max`` over allocations of at most ``f`` hidden-neuron failures.
    allocation : tuple
    worst : WorstCaseResult
        The exact worst case (:func:`symft.worstcase.worst_case`).
    ratio : float or None
        ``fep / worst`` (≥ 1 when the worst case is proved; ``None`` if unknown or 0).
    constant : str

    Examples
    --------
    >>> net, x = witness_network([1, 2, 2], [1, 1, 1])
    >>> r = fep_report(net, x, 2, C=1)
    >>> r.fep, r.worst.worst_delta, r.ratio
    (4, 4, 1.0)
    """

    fep: object
    allocation: tuple
    worst: object
    ratio: float | None
    constant: str


def fep_report(net, x, f: int, *, byzantine=None, C=None, method="auto", timeout=None) -> FepReport:
    r"""Fep (maximized over allocations of ``f`` hidden-neuron failures) beside the exact worst case.

    ``C`` defaults to the largest fault-free ``|y_l^i(x)|`` at this input
    (crash), which is the tightest sound constant for crashes at ``x``.

    Chains only: a network that is not a chain of dense layers raises
    :class:`~symft.graph.network.NotAChain` (module docstring).

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> net = random_network([3, 5, 4, 1], seed=0, activation="relu", rational_denominator=8)
    >>> r = fep_report(net, [1, -1, 1], 2)
    >>> r.worst.status, r.worst.worst_delta, r.fep, r.allocation
    ('proved', 15/128, 5/2, (2, 0))
    """
    from ..worstcase import worst_case

    chain = net.as_chain("Forward Error Propagation (a recursion over the layers)")
    if C is None:
        P = fep_params(net, byzantine=byzantine, x=x)
    else:
        P = fep_params(net, byzantine=byzantine, C=C)
    value, alloc = fep_max(P, f, at_most=True)
    w = worst_case(net, x, max_crashes=f, layers=list(range(1, chain.depth)), method=method,
                   byzantine=byzantine, timeout=timeout)
    ratio = None
    if w.status == "proved" and w.worst_delta is not None and w.worst_delta != 0:
        ratio = float(value / w.worst_delta)
    return FepReport(value, alloc, w, ratio, P.constant)

