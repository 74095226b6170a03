r"""A proved interval for the cross-entropy change summed over the configurations with few crashes.

``Σ_{|s| ≤ k} P(s) Δ_ω(s)`` with ``Δ_ω(s) = ω(ŷ(s)) − ω(y)``, ``ω(y) = log Σ_j e^{y_j} − y_t``
(cross-entropy on logits, theory §1's loss layer), evaluated configuration by configuration in float64
(:func:`symft.engines.stratified.configuration_blocks`, :func:`symft.engines.forward.forward_masked`)
with a proved bound on every error:

* **the outputs**: :class:`symft.walk.errorbound.BoxAndError` bounds ``|computed − true|`` of every
  output by ``e_j`` for every configuration with at most ``k`` crashes (the rigorous accuracy engine,
  :mod:`symft.analysis.accuracy`, proves its class decisions with the same bounds).  Log-sum-exp is
  1-Lipschitz in the sup norm, so the true ``ω`` of the true outputs and ``ω`` of the computed
  outputs differ by at most ``max_j e_j + e_t``;
* **log-sum-exp in float64**, computed as ``m + log Σ_j exp(z_j − m)`` with ``m = max z``: each
  ``z_j − m ≤ 0`` is rounded by at most ``u |z_j − m|`` (``u = 2^{-53}``), ``exp`` and ``log`` are
  assumed accurate to ``η (|φ(z)| + |z| + 1)`` as every activation is
  (:data:`symft.graph.activations.ETA`, ``η = 2^{-44}``), the sum of ``K`` terms in ``[0, 1]`` by
  ``γ_K`` relatively, and since both the computed and the exact sums are ``≥ 1`` (the term of the
  maximum is ``exp(0) = 1`` exactly) the logarithm moves by at most the sum's error;
* **the subtractions and the sums** over configurations: ``u`` per subtraction, ``γ_m`` per sum of
  ``m`` terms, on non-negative quantities inflated by ``1 + 2γ``; the probabilities are exact
  (``Fraction``) and the combination over blocks is done in rationals and rounded outward.

Examples
--------
>>> from symft.graph.network import random_network
>>> from symft.faults import NeuronCrash
>>> net = random_network([3, 8, 3], seed=0, activation="tanh")
>>> r = cross_entropy_partial(net, [0.5, -1.0, 2.0], NeuronCrash({1: 0.1}), 2, 1)
>>> r["configurations"], bool(r["hi"] - r["lo"] < 1e-9)
(37, True)
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from ..utils import fraction_down as _down, fraction_up as _up
from ..engines.forward import forward_masked
from ..engines.sampling import failure_groups
from ..engines.stratified import configuration_blocks
from ..graph.activations import ETA
from ..problem import make_problem
from ..walk.errorbound import BoxAndError
from ..walk.interval import U, gamma
from ..walk.walker import walk

__all__ = ["cross_entropy_partial", "lse_with_error"]

_BLOCK = 4096


def lse_with_error(Z):
    r"""``log Σ_j exp(Z_j)`` per row in float64, and a proved bound on its error (see the module docstring).

    Parameters
    ----------
    Z : ndarray, shape (m, K)
        Finite float64 values.

    Returns
    -------
    (value, error) : two ndarrays of shape (m,)

    Examples
    --------
    >>> v, e = lse_with_error(np.array([[0.0, 0.0], [1e3, -1e3]]))
    >>> [round(float(a), 12) for a in v], bool(np.all(e < 1e-9))
    ([0.69314718056, 1000.0], True)
    """
    Z = np.asarray(Z, dtype=float)
    K = Z.shape[1]
    m = Z.max(axis=1)
    d = Z - m[:, None]
    ad = np.abs(d)
    S = np.exp(d).sum(axis=1)
    lg = np.log(S)
    L = m + lg
    sigma = (ETA * (2.0 + ad) + 2 * U * ad).sum(axis=1) + 2 * gamma(K + 1) * S
    err = sigma + ETA * (np.abs(lg) + S + 1.0) + 2 * U * np.abs(L)
    return L, err * (1 + 4 * gamma(K + 4)) + 1e-300


def cross_entropy_partial(net, x, model, order: int, target: int):
    r"""Proved ``[lo, hi]`` for ``Σ_{|s| ≤ order} P(s) (ω(ŷ(s)) − ω(y))``, ``ω`` the cross-entropy on logits.

    Parameters
    ----------
    net : Network
    x : array_like
        One input (float).
    model : NeuronCrash
    order : int
    target : int
        The target class.

    Returns
    -------
    dict or None
        ``{"lo", "hi", "configurations", "mass"}`` (``mass``: their probability, rounded down), or
        ``None`` when no finite error bound exists (an activation without a slope bound on its box).

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> from symft.faults import NeuronCrash
    >>> r = cross_entropy_partial(mean_network(2), [1.0, 1.0], NeuronCrash({0: 0.5}), 0, 0)
    >>> r["configurations"], r["mass"], bool(r["lo"] <= 0.0 <= r["hi"])    # one output: ω ≡ 0
    (1, 0.25, True)
    """
    pb = make_problem(net, np.asarray(x, dtype=float)[None, :], None, where="x")
    groups, semantics = failure_groups(net, model)
    sites = {l: semantics for kind, l, _, _ in groups}
    X = pb.X.reshape((1,) + tuple(net.input_shape))
    e = np.asarray(walk(net, BoxAndError(net, sites, order=order), X)[net.output][1], dtype=float).reshape(-1)
    t = int(target)
    if not np.all(np.isfinite(e)):
        return None
    shift = 2 * (float(e.max()) + float(e[t]))         # |ω(true outputs) − ω(computed outputs)|, both passes
    y = np.asarray(pb.clean.output, dtype=float).reshape(1, -1)
    L0, d0 = lse_with_error(y)
    c0 = float(L0[0] - y[0, t])
    tot, marg, mass, count = Fraction(0), Fraction(0), Fraction(0), 0
    for _, P, nm, sm in configuration_blocks(net, model, 0, order, _BLOCK):
        Y = forward_masked(net, pb.X, nm, synapse_masks=sm, semantics=semantics, trace=pb.clean)[:, 0, :]
        if not np.all(np.isfinite(Y)):
            return None
        L, dL = lse_with_error(Y)
        a = L - Y[:, t]
        v = a - c0
        m = v.shape[0]
        row = shift + dL + float(d0[0]) + 2 * U * (np.abs(a) + np.abs(v) + abs(c0))
        g = gamma(m + 2)
        err = (float(row.sum()) + g * float(np.abs(v).sum())) * (1 + 2 * g) + 1e-300
        if not np.isfinite(err):
            return None
        tot += P * Fraction(float(v.sum()))
        marg += P * Fraction(err)
        mass += P * m
        count += m
    return {"lo": _down(tot - marg), "hi": _up(tot + marg), "configurations": count, "mass": _down(mass)}


