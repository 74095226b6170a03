r"""Absolute-value and norm propagation: how far crashes can move every value, in expectation.

Two forward interpretations behind the expected-error bounds of the papers
(AP1, AP2) on any graph.  Let ``e_v`` be the change of node ``v``'s true
value in one crash configuration.  Every op satisfies a componentwise
inequality that holds in *every* configuration and involves no
probability, so by linearity of expectation (no independence between
nodes is needed) it holds for ``E|e|`` too:

* affine op ``y = Σ_j A_j x_j + b`` (dense, convolution, pooling, batch
  norm, residual add, reshapes): ``|e_y| ≤ Σ_j |A_j| |e_j|`` — a residual
  add sums both paths;
* activation: ``|φ(z') − φ(z)| ≤ K |z' − z|`` with ``K`` the slope bound
  of φ over a box containing ``z`` and ``z'`` (mean value theorem), and
  ``≤ ŷ − y̌`` the width of φ's image of that box; ``E min(X, c) ≤
  min(E X, c)`` keeps the cap after taking expectations (it is what keeps
  a ``step`` layer, ``K = ∞``, finite);
* max pooling: ``|max_W(a') − max_W(a)| ≤ max_W |a' − a| ≤ Σ_W |a' − a|``
  (the window sum);
* a crash site adds what the crashes there inject: ``|e_s| ≤ ξ ⊙ d + |prop|``
  with ``d = |c − y|`` (crash value minus fault-free value), so
  ``E|e_s| ≤ p d + E|prop|``.

The boxes are those of :class:`symft.walk.interval.IntervalInterp` with
the crash sites joined to their crash values: they contain every node's
value under *every* crash configuration, the fault-free one included.

:class:`AbsPropagation` carries the componentwise bound ``E|e_v|``
(AP2, bound b2).  :class:`NormPropagation` carries one number, a bound of
``E‖e_v‖`` in the 1-, 2- or ∞-norm (AP1, bound b1): affine ops multiply by
their operator norm (:func:`operator_norm_upper`), activations by the
largest slope bound, max pooling by the largest number of windows that
share an input (1 for the ∞-norm), and a residual add sums the two paths
(triangle inequality).  All three norms are monotone, so the componentwise
inequalities above carry over.

Every float operation rounds upward (``nextafter`` after correctly rounded
operations, Higham's ``γ_n`` for sums of ``n`` terms, a ``u`` relative
widening for exact parameters rounded to float64), so each value is ``≥``
the exact real it stands for.

Examples
--------
>>> import numpy as np
>>> from symft.graph.network import mean_network
>>> from symft.walk.walker import walk
>>> from symft.walk.interval import Interval, IntervalInterp
>>> net = mean_network(4)
>>> box = Interval.point(np.ones((1, 4)))
>>> boxes = walk(net, IntervalInterp(net, hull_sites={0: "output_zero"}), box)
>>> inject = {"0": np.full((1, 4), 0.1)}          # p·|x_i| at each input
>>> round(float(walk(net, AbsPropagation(boxes, inject), None, keep=False)[0, 0]), 12)   # 4 · ¼ · 0.1
0.1
>>> walk(net, NormPropagation(boxes, {"0": 0.4}, "inf"), None, keep=False)   # ‖W‖_∞ = 1
0.4
"""

from __future__ import annotations

import math

import numpy as np

from .interval import TINY, U, Interval, down, gamma, up
from .walker import Interpretation

__all__ = ["AbsPropagation", "NormPropagation", "operator_norm_upper", "spectral_norm_upper", "upper_sum",
           "vector_norm_upper", "NORMS", "mul_up"]

#: The vector norms the propagation knows: 1, 2 and ∞ (``"inf"``).
NORMS = (1, 2, "inf")


def _nan_to_inf(a):
    return np.where(np.isnan(a), np.inf, a)


def upper_sum(a, axis=None):
    """A rigorous upper bound of the exact sum of non-negative floats (any summation order).

    ``fl(Σ a) ≥ (1 − γ_n) Σ a``, so ``Σ a ≤ fl(Σ a)(1 + 2γ_n)``, rounded up;
    an absolute ``n·2^-1070`` covers underflow.

    Examples
    --------
    >>> float(upper_sum(np.full(10, 0.1))) >= 1.0
    True
    """
    a = np.asarray(a, dtype=float)
    n = a.size if axis is None else a.shape[axis]
    with np.errstate(over="ignore", invalid="ignore"):
        s = a.sum(axis=axis)
        return up(s * (1.0 + 2.0 * gamma(n)) + n * TINY)


def vector_norm_upper(v, norm) -> float:
    """An upper bound of ``‖v‖`` (1, 2 or ``"inf"``) of a non-negative float array.

    Examples
    --------
    >>> vector_norm_upper(np.array([3.0, 4.0]), "inf"), vector_norm_upper(np.array([3.0, 4.0]), 2) >= 5.0
    (4.0, True)
    """
    v = np.asarray(v, dtype=float).ravel()
    if v.size == 0:
        return 0.0
    if norm == "inf":
        return float(v.max())
    if not np.isfinite(v).all():
        return math.inf
    if norm == 1:
        return float(upper_sum(v))
    with np.errstate(over="ignore"):
        return float(up(math.sqrt(float(upper_sum(up(v * v))))))


def mul_up(a, b):
    """Upper bound of the exact product of non-negative floats; a zero factor gives 0 exactly.

    Examples
    --------
    >>> float(mul_up(0.1, 3.0)) >= 0.30000000000000004, float(mul_up(0.0, np.inf))
    (True, 0.0)
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    with np.errstate(invalid="ignore", over="ignore"):
        r = up(a * b)
    return np.where((a == 0) | (b == 0), 0.0, r)


# ---------------------------------------------------------------------- operator norms

def _w_slack(op) -> float:
    """Relative widening for parameters stored exactly and rounded to float64 (0 for float parameters)."""
    return 0.0 if op.is_float else 4.0 * U


def _ones_like_inputs(node, j):
    return [np.ones((1,) + tuple(s)) if i == j else np.zeros((1,) + tuple(s)) for i, s in enumerate(node.in_shapes)]


def operator_norm_upper(node, norm, j: int = 0) -> float:
    r"""An upper bound of the operator norm of the linear part of an affine node, for its input ``j``.

    For any linear map ``A`` with entries ``a_ik``: ``‖A‖_∞ = max_i Σ_k
    |a_ik|`` (the largest entry of ``|A| 1``) and ``‖A‖_1 = max_k Σ_i
    |a_ik|`` (of ``|A|ᵀ 1``) — both exact, computed with the op's own
    ``apply``/``adjoint`` on ``|A|``; ``‖A‖_2`` is bounded by
    :func:`spectral_norm_upper` for a dense op and by
    ``sqrt(‖A‖_1 ‖A‖_∞)`` (Hölder) for every other op.  Rounded up; cached
    on the op.

    Parameters
    ----------
    node : Node
        An affine node.
    norm : {1, 2, "inf"}
    j : int
        Which input (a residual add has several: ``‖A(e_0, e_1)‖ ≤ Σ_j ‖A_j‖ ‖e_j‖``).

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> node = mean_network(4).node("z1")
    >>> operator_norm_upper(node, "inf"), operator_norm_upper(node, 1), operator_norm_upper(node, 2)
    (1.0, 0.25, 0.5)
    """
    op = node.op
    key = ("operator_norm_upper", norm, j, tuple(map(tuple, node.in_shapes)))
    cache = op._cache
    if key in cache:
        return cache[key]
    slack = _w_slack(op)
    A = op.abs_params()
    with np.errstate(over="ignore", invalid="ignore"):
        if norm == "inf":
            rows = op.apply(_ones_like_inputs(node, j), A, node.in_shapes)
            k = op.fan_in(node.in_shapes)
            v = float(np.max(up(rows * (1.0 + 2.0 * gamma(k) + slack) + (k + 1) * TINY), initial=0.0))
        elif norm == 1:
            cols = op.adjoint(np.ones((1,) + tuple(node.shape)), A, node.in_shapes)[j]
            k = node.size
            v = float(np.max(up(cols * (1.0 + 2.0 * gamma(k) + slack) + (k + 1) * TINY), initial=0.0))
        elif norm == 2:
            if op.kind == "dense":
                W = op.params("float")["weight"]
                v = spectral_norm_upper(W)
                if not op.is_float:     # ‖W + E‖₂ ≤ ‖W‖₂ + ‖E‖_F, |E| ≤ |W| 2^-52 + 2^-1070
                    E = up(np.abs(W) * (4.0 * U) + TINY)
                    v = float(up(v + up(math.sqrt(float(upper_sum(up(E * E)))))))
            else:
                v = float(up(math.sqrt(float(mul_up(operator_norm_upper(node, 1, j),
                                                     operator_norm_upper(node, "inf", j))))))
        else:
            raise ValueError(f"norm: expected one of 1, 2, 'inf', got {norm!r}")
    v = math.inf if math.isnan(v) else v
    cache[key] = v
    return v


def spectral_norm_upper(W) -> float:
    r"""A rigorous upper bound of ``‖W‖₂`` (largest singular value) of a float matrix.

    With ``A`` the taller of ``W``, ``Wᵀ`` and ``G = AᵀA ≈ Q Λ Qᵀ`` (``Q``
    the right singular vectors from ``numpy.linalg.svd``), the matrices
    ``R = (AQ)ᵀ(AQ)`` and ``QᵀQ`` are enclosed by outward-rounded interval
    products; Ostrowski's theorem (``λ_k(QᵀGQ) = θ_k λ_k(G)``,
    ``θ_k ≥ λ_min(QᵀQ)``) and Gershgorin's discs then give ``‖W‖₂² =
    λ_max(G) ≤ max_i (R_ii + Σ_{j≠i} |R_ij|) / min_i ((QᵀQ)_ii − Σ_{j≠i}
    |(QᵀQ)_ij|)``, within a few ulps times the dimension of the true value.
    Should the check ever fail, the cruder ``min(‖W‖_F, sqrt(‖W‖₁ ‖W‖_∞))``
    (also rigorous) is returned.

    Examples
    --------
    >>> s = spectral_norm_upper(np.array([[3.0, 0.0], [0.0, 4.0]]))
    >>> 4.0 <= s <= 4.0 * (1 + 1e-13)
    True
    """
    W = np.asarray(W, dtype=float)
    if W.size == 0 or not W.any():
        return 0.0
    A = W if W.shape[0] >= W.shape[1] else W.T
    absA = np.abs(A)
    with np.errstate(over="ignore"):
        frob = float(up(math.sqrt(float(upper_sum(mul_up(absA, absA))))))
        n1, ninf = float(np.max(upper_sum(absA, axis=0))), float(np.max(upper_sum(absA, axis=1)))
        crude = min(frob, float(up(math.sqrt(float(mul_up(n1, ninf))))))
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
        lam_hi = float(np.max(up(np.diag(R.hi) + up(upper_sum(off, axis=1)))))
        pmag = P.mag()
        np.fill_diagonal(pmag, 0.0)
        theta_lo = float(np.min(down(np.diag(P.lo) - up(upper_sum(pmag, axis=1)))))
        if not (math.isfinite(lam_hi) and theta_lo > 0.5):
            return crude
        s = float(up(math.sqrt(max(float(up(lam_hi / theta_lo)), 0.0))))
        s = float(up(math.ldexp(s, e)))
    except (np.linalg.LinAlgError, OverflowError, ValueError):
        return crude
    return min(s, crude) if math.isfinite(s) else crude


def _prod_enclosure(A, X: Interval) -> Interval:
    """Enclosure of ``A X`` for a float matrix ``A`` and an interval matrix ``X``."""
    m = A.shape[1]
    mid = 0.5 * (X.lo + X.hi)
    rad = up(np.maximum(X.hi - mid, mid - X.lo))
    amr = up(np.abs(mid) + rad)
    absA = np.abs(A)
    g = 3.0 * gamma(m)
    c = A @ mid
    R = up(up((absA @ rad + g * (absA @ amr)) * (1.0 + 4.0 * g)) + 2.0 * m * TINY)
    return Interval(down(c - R), up(c + R))


def _gram_enclosure(M: Interval) -> Interval:
    """Enclosure of ``Mᵀ M`` for an interval matrix ``M`` (midpoint–radius)."""
    k = M.lo.shape[0]
    c = 0.5 * (M.lo + M.hi)
    r = up(np.maximum(M.hi - c, c - M.lo))
    ac = np.abs(c)
    T = up(ac + r)
    g = 3.0 * gamma(k)
    C = c.T @ c
    # |(c+δ)ᵀ(c+δ') − fl(cᵀc)| ≤ |c|ᵀ r + rᵀ |c| + rᵀ r + γ_k |c|ᵀ|c|
    R = ac.T @ r + r.T @ ac + r.T @ r + g * (T.T @ T)
    R = up(up(R * (1.0 + 4.0 * g)) + 2.0 * k * TINY)
    return Interval(down(C - R), up(C + R))


# ---------------------------------------------------------------------- the two interpretations

class _Propagation(Interpretation):
    """Shared parts: the boxes, what crash sites inject, slope bounds and image widths per activation."""

    def __init__(self, boxes, injected):
        self.boxes = boxes
        self.injected = dict(injected)
        self.fault_nodes = frozenset(self.injected)

    def _slopes_and_widths(self, node):
        """``K`` (slope bound) and the width of φ's image over the box of the activation's input."""
        act = node.op.act
        z = self.boxes[node.inputs[0]]
        with np.errstate(over="ignore", invalid="ignore"):
            K = _nan_to_inf(np.asarray(act.slope_bound(z.lo, z.hi), dtype=float))
            if node.name in self.injected:      # the box of a crash site also holds the crash values
                ylo, yhi = act.box(z.lo, z.hi)
            else:
                ylo, yhi = self.boxes[node.name].lo, self.boxes[node.name].hi
            width = _nan_to_inf(up(np.asarray(yhi, dtype=float) - np.asarray(ylo, dtype=float)))
        return K, width


class AbsPropagation(_Propagation):
    """Componentwise upper bounds of ``E|e_v|`` for every node (AP2's absolute-value propagation).

    Parameters
    ----------
    boxes : dict
        ``{node: Interval}`` boxes containing every node's value under every
        crash configuration (:class:`~symft.walk.interval.IntervalInterp`
        with ``hull_sites``), leading batch axis of size 1.
    injected : dict
        ``{site: array (1,) + site shape}``: ``p ⊙ d`` at each crash site.

    The value of a node upstream of every crash site is the float ``0.0``
    (zero everywhere, never materialised).

    Examples
    --------
    >>> from symft.graph.network import first_input_network
    >>> from symft.walk.walker import walk
    >>> from symft.walk.interval import Interval, IntervalInterp
    >>> net = first_input_network(3)
    >>> boxes = walk(net, IntervalInterp(net, hull_sites={0: "output_zero"}), Interval.point(np.array([[2.0, 5, 7]])))
    >>> walk(net, AbsPropagation(boxes, {"0": np.array([[0.2, 0.5, 0.7]])}), None, keep=False)
    array([[0.2]])
    """

    name = "absolute-value propagation"

    def input(self, node, x):
        return 0.0

    def affine(self, node, args):
        if all(_is_zero(a) for a in args):
            return 0.0
        op = node.op
        vs = [np.zeros((1,) + tuple(s)) if _is_zero(a) else a for a, s in zip(args, node.in_shapes)]
        finite = all(np.isfinite(v).all() for v in vs)
        k = op.fan_in(node.in_shapes)
        A = op.abs_params()
        with np.errstate(over="ignore", invalid="ignore"):
            vf = vs if finite else [np.where(np.isfinite(v), v, 0.0) for v in vs]
            s = op.apply(vf, A, node.in_shapes)
            pad = (k + 1) * TINY
            if not op.is_float:     # an exact entry rounded to a subnormal float: 2^-1074 absolute per term
                pad = pad + k * TINY * max(float(np.max(v, initial=0.0)) for v in vf)
            out = up(up(s * (1.0 + 2.0 * gamma(k) + _w_slack(op))) + pad)
            if not finite:
                if op.is_float:     # a zero weight ignores even an unbounded change
                    hit = op.apply([np.where(np.isfinite(v), 0.0, 1.0) for v in vs], A, node.in_shapes) > 0
                    out = np.where(hit, np.inf, out)
                else:
                    out = np.full(out.shape, np.inf)
        return _nan_to_inf(out)

    def op_activation(self, node, args):
        v = args[0]
        if _is_zero(v):
            return 0.0
        if node.op.act.name == "linear":
            return v
        K, width = self._slopes_and_widths(node)
        with np.errstate(over="ignore", invalid="ignore"):
            prop = np.minimum(_nan_to_inf(up(K * v)), width)
        # an unchanged input leaves even a step unchanged; a zero slope over the box ignores any change
        return np.where((v == 0) | (K == 0), 0.0, prop)

    def op_maxpool2d(self, node, args):
        v = args[0]
        if _is_zero(v):
            return 0.0
        op = node.op
        s = tuple(node.in_shapes[0])
        _, (OH, OW), _ = op.index(s)
        with np.errstate(over="ignore"):
            w = op.windows(v, s).sum(axis=-1)
            out = up(w * (1.0 + 2.0 * gamma(op.fan_in(node.in_shapes))) + TINY)
        return out.reshape(v.shape[:1] + (s[0], OH, OW))

    def at_site(self, node, v):
        inj = np.asarray(self.injected[node.name], dtype=float).reshape((1,) + tuple(node.shape))
        if _is_zero(v):
            return inj.copy()
        with np.errstate(over="ignore"):
            return up(v + inj)


class NormPropagation(_Propagation):
    """Upper bounds of ``E‖e_v‖`` for every node, one number each (AP1's norm propagation).

    Parameters
    ----------
    boxes : dict
        As for :class:`AbsPropagation`.
    injected : dict
        ``{site: float}``: an upper bound of ``E‖ξ ⊙ d‖`` at each crash site.
    norm : {1, 2, "inf"}

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> from symft.walk.walker import walk
    >>> from symft.walk.interval import Interval, IntervalInterp
    >>> net = mean_network(4)
    >>> boxes = walk(net, IntervalInterp(net, hull_sites={0: "output_zero"}), Interval.point(np.ones((1, 4))))
    >>> walk(net, NormPropagation(boxes, {"0": 0.4}, 1), None, keep=False)      # ‖W‖₁ = ¼
    0.1
    """

    name = "norm propagation"

    def __init__(self, boxes, injected, norm):
        if norm not in NORMS:
            raise ValueError(f"norm: expected one of 1, 2, 'inf', got {norm!r}")
        super().__init__(boxes, injected)
        self.norm = norm

    def input(self, node, x):
        return 0.0

    def affine(self, node, args):
        total = 0.0
        for j, v in enumerate(args):
            if v > 0:
                total = float(up(total + float(mul_up(operator_norm_upper(node, self.norm, j), v))))
        return math.inf if math.isnan(total) else total

    def op_activation(self, node, args):
        v = args[0]
        if v == 0 or node.op.act.name == "linear":
            return v
        K, width = self._slopes_and_widths(node)
        Kmax = float(np.max(K, initial=0.0))
        if Kmax == 0:
            return 0.0
        return min(float(mul_up(Kmax, v)), vector_norm_upper(width, self.norm))

    def op_maxpool2d(self, node, args):
        v = args[0]
        if v == 0 or self.norm == "inf":
            return v
        op = node.op
        s = tuple(node.in_shapes[0])
        _, (OH, OW), _ = op.index(s)
        shares = float(np.max(op.spread(np.ones((1, s[0], OH, OW)), s)))   # windows sharing one input
        factor = shares if self.norm == 1 else float(up(math.sqrt(shares)))
        return float(mul_up(factor, v))

    def at_site(self, node, v):
        return float(up(v + float(self.injected[node.name])))


def _is_zero(v) -> bool:
    return isinstance(v, float) and v == 0.0
