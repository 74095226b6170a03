r"""Proved intervals for the expected change of a smooth loss, from the enclosure of the output error.

When enumerating every crash configuration is too large, :func:`symft.engines.enclosure.enclosure`
proves intervals for ``E Δ_k`` and ``E Δ_k²`` at each output ``k`` (the configurations with few
crashes evaluated, the rest bounded by its exact probability). The expected change of a smooth loss
(the loss layer of theory §1) follows from these two moments and the clean output ``y``:

* **squared error** ``ω(y) = Σ_k (y_k − t_k)²``: the change is exactly
  ``Δ_ω = g·Δ + Σ_k Δ_k²`` with ``g = 2 (y − t)``, so ``E Δ_ω = g·E Δ + Σ_k E Δ_k²``;
* **cross-entropy** on logits, ``ω(y) = log Σ_k e^{y_k} − y_t``: log-sum-exp is convex with Hessian
  ``diag(s) − s sᵀ`` (``s`` a softmax), whose quadratic form ``Var_s(Δ) ≤ max_k Δ_k² ≤ Σ_k Δ_k²``;
  hence ``g·Δ ≤ Δ_ω ≤ g·Δ + ½ Σ_k Δ_k²`` with ``g = softmax(y) − e_t``, and
  ``E Δ_ω ∈ [g·E Δ, g·E Δ + ½ Σ_k E Δ_k²]`` — sound, and looser by at most ``½ Σ_k E Δ_k²``.
  Tighter, and intersected with it: the configurations with at most ``order`` crashes are summed
  exactly (:func:`symft.analysis.partial_loss.cross_entropy_partial`, every rounding error bounded)
  and the bracket is applied to the rest only, ``Σ_{|s|>k} P(s) Δ_ω(s) ∈ [g·T_1, g·T_1 + ½ Σ_k T_{2,k}]``
  with ``T_1`` the tail of ``E Δ`` (the enclosure's mean interval minus its evaluated part and that
  part's margin) and ``T_{2,k}`` the enclosure's bound on the tail of ``E Δ_k²``.  The width then
  shrinks with the tail's probability rather than with ``E Δ²``.

``y`` is enclosed by the outward-rounded interval forward pass and every product and sum is rounded
outward, so the interval contains the exact real expectation whatever the float64 rounding.
The zero-one loss is not smooth; its expected change comes from the accuracy engine
(:func:`symft.analysis.accuracy.accuracy`).
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidArgument
from ..walk.interval import Interval, isum
from .bounds import forward_enclosure

__all__ = ["SMOOTH_LOSSES", "loss_mean_enclosure"]

#: The losses whose expected change :func:`loss_mean_enclosure` encloses.
SMOOTH_LOSSES = ("squared", "cross_entropy")


def loss_mean_enclosure(net, x, model, loss: str, target, *, order=2, force: bool = False) -> dict:
    r"""A proved interval for ``E Δ_loss``, the expected change of a smooth loss under crashes.

    Parameters
    ----------
    net : Network
        Numeric weights.
    x : array_like
        One input ``(n_0,)`` or a batch ``(B, n_0)``.
    model : NeuronCrash
        Independent Bernoulli neuron crashes.
    loss : {"squared", "cross_entropy"}
        ``Σ_k (y_k − t_k)²``, or cross-entropy on the outputs as logits.
    target : sequence of float, int, or a list of them
        ``n_out`` numbers (squared) or a class index (cross-entropy); for a batch, one for all or one per
        input.
    order : int or "auto"
        Configurations with at most ``order`` crashes are evaluated (as in the enclosure).
    force : bool
        Run even when the enclosure's size estimate is above its limit.

    Returns
    -------
    dict
        ``{"loss", "loss_mean_lo", "loss_mean_hi", "method", "order", "configurations"}``; the intervals are
        lists, one number per input, and ``method`` is ``"rigorous"``.

    Raises
    ------
    InvalidArgument
        A loss other than the two smooth ones, or a target of the wrong size.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> from symft.faults import NeuronCrash
    >>> net = mean_network(2)                  # y = (x_0 + x_1) / 2 at x = (1, 1): Δ ∈ {0, −1/2, −1}
    >>> d = loss_mean_enclosure(net, [1.0, 1.0], NeuronCrash({"0": 0.5}), "squared", [0.0], order=2)
    >>> d["loss_mean_lo"][0] <= -0.625 <= d["loss_mean_hi"][0]      # E[(1 + Δ)²] − 1 = 3/8 − 1
    True
    """
    from ..engines.enclosure import enclosure
    from ..engines.taylor import loss_gradient_enclosure

    if loss not in SMOOTH_LOSSES:
        raise InvalidArgument(f"loss: expected one of {', '.join(SMOOTH_LOSSES)} (the zero-one loss's change "
                              f"comes from the accuracy engine), got {loss!r}")
    X = np.asarray(x, dtype=float)
    single = X.ndim == 1
    X = np.atleast_2d(X)
    B, K = X.shape[0], net.n_outputs
    targets = _targets(loss, target, B, K, single)
    if net.output not in net.sites:                         # pragma: no cover - every network's output is a site
        raise InvalidArgument("net: the output is not a site; its values cannot be enclosed")
    V = forward_enclosure(net, X)[net.sites.index(net.output)]          # (K, B)
    # no pruning: the exact part of the cross-entropy split below sums every configuration of ≤ order crashes
    r = enclosure(net, X if not single else X[0], model, order=order, force=force, progress=False, prune=False)
    mlo, mhi = np.atleast_2d(r.mean_lo), np.atleast_2d(r.mean_hi)      # (B, K)
    slo, shi = np.atleast_2d(r.second_lo), np.atleast_2d(r.second_hi)
    T = (Interval.point(np.asarray(targets, dtype=float).reshape(B, K)) if loss == "squared"
         else [int(c) for c in targets])
    G = loss_gradient_enclosure(loss, Interval(V.lo.T, V.hi.T), T)            # (B, K), at the clean output
    lo, hi = [], []
    for b in range(B):
        first = isum(Interval(G.lo[b], G.hi[b]) * Interval(mlo[b], mhi[b]))
        second = isum(Interval(np.maximum(slo[b], 0.0), shi[b]))
        if loss == "squared":
            tot = first + second
            lo.append(float(tot.lo))
            hi.append(float(tot.hi))
        else:
            half = second * 0.5                                   # exact: a power of two
            lo_b, hi_b = float(first.lo), float((first + half).hi)
            split = _cross_entropy_split(net, X[b], model, r, b if not single else None,
                                         Interval(G.lo[b], G.hi[b]), targets[b])
            if split is not None:
                lo_b, hi_b = max(lo_b, split[0]), min(hi_b, split[1])
            lo.append(lo_b)
            hi.append(hi_b)
    return {"loss": loss, "loss_mean_lo": lo, "loss_mean_hi": hi, "method": "rigorous", "order": r.order,
            "configurations": r.configurations}


def _cross_entropy_split(net, x, model, r, b, G, target):
    """``[lo, hi]`` for ``E Δ_ω`` as the exact part (≤ ``r.order`` crashes) plus the convexity bracket of the rest.

    ``None`` when the exact part has no finite error bound.  ``r`` is the enclosure (row ``b`` of a batch,
    or a single input when ``b`` is None) and ``G`` the gradient interval at the clean output.
    """
    from .partial_loss import cross_entropy_partial

    if getattr(r, "pruned", 0):        # the enclosure's evaluated part must be every configuration of ≤ order crashes
        return None
    part = cross_entropy_partial(net, x, model, r.order, int(target))
    if part is None:
        return None
    row = (lambda a: np.asarray(a, dtype=float)) if b is None else (lambda a: np.asarray(a, dtype=float)[b])
    mlo, mhi, pm, mm, ts = row(r.mean_lo), row(r.mean_hi), row(r.partial_mean), row(r.margin_mean), row(r.tail_second)
    # the evaluated part is within mm of pm, and pm is within half an ulp of the exact sum it rounds
    ulp = np.spacing(np.abs(pm)) + 1e-300
    t1 = Interval(mlo, mhi) - Interval.point(pm) - Interval(-mm, mm) - Interval(-ulp, ulp)   # the tail of E Δ
    gt = isum(G * t1)
    t2 = isum(Interval(np.zeros_like(ts), ts)) * 0.5
    exact = Interval(np.array(part["lo"]), np.array(part["hi"]))
    tot_lo, tot_hi = exact + gt, exact + gt + Interval(np.array(0.0), t2.hi)
    return float(tot_lo.lo), float(tot_hi.hi)


def _targets(loss, target, B, K, single):
    """One target per input, checked."""
    if loss == "squared":
        t = np.asarray(target, dtype=float)
        if t.ndim == 1 and t.shape == (K,):
            return [t] * B
        if not single and t.shape == (B, K):
            return list(t)
        raise InvalidArgument(f"target: expected {K} numbers (one per output) for the squared loss, or one row "
                              f"per input")
    ts = list(target) if isinstance(target, (list, tuple, np.ndarray)) else [target] * B
    if len(ts) != B or not all(isinstance(c, (int, np.integer)) and not isinstance(c, bool) and 0 <= c < K
                               for c in ts):
        raise InvalidArgument(f"target: expected a class index 0 … {K - 1} (one for all inputs, or one per input)")
    return ts
