r"""Comparing bounds across networks or inputs as the supplement does: its random networks, rank loss, relative error.

The supplement's Fig. 5 (Boston) and Fig. 6 (random networks) ask of each
bound whether it *orders* networks (or inputs) like the true error does, and
how far its value is from it.  Three pieces, each as the authors' code
(``fault_tolerance/experiment_random.py``, ``helpers.rank_loss``,
``process_data.process_scalar_output``) computes it:

* :func:`supplement_random_network` — the random networks of §7.2;
* :func:`rank_loss` — "the average number of incorrectly ordered pairs"
  (§7.1), optionally folded to ``min(r, 1 − r)`` as in the figures ("worst
  value 0.5");
* :func:`relative_error` — ``|truth − estimate| / |truth|``, capped at 2 as
  in the figures' histograms and box plots.

Examples
--------
>>> rank_loss([1, 2, 3, 4], [10, 20, 40, 30])         # one of six pairs out of order
0.16666666666666666
>>> rank_loss([1, 2, 3], [3, 2, 1]), rank_loss([1, 2, 3], [3, 2, 1], fold=True)
(1.0, 0.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral

import numpy as np

from ..errors import InvalidArgument
from ..graph.network import Network
from ..utils import as_rng

__all__ = ["supplement_random_network", "rank_loss", "relative_error"]


def supplement_random_network(widths: Sequence[int], *, seed, activation: str = "relu",
                              mean_weight: float = 0.1, std_weight: float = 3.0, name: str | None = None) -> Network:
    r"""A random network drawn as in the supplement's random-network experiments (§7.2, Fig. 6).

    The authors' ``RandomExperiment``: for each layer ``l``, every weight is
    ``N(mean_weight, (std_weight / n_{l−1})²)`` and every bias
    ``N(mean_weight, (std_weight / n_l)²)``, independently; hidden layers use
    ``activation`` (ReLU in Fig. 6), the output layer is linear.  Their
    defaults are ``mean_weight = 0.1``, ``std_weight = 3``; Fig. 6 uses widths
    20-15-14-1 (one network, 100 inputs ``2·N(0, I)``, ``p = 1e-3`` at the
    first hidden layer) and 20-20-20-1 (100 networks, one input
    ``2·N(0, I) + 0.1``, ``p = 1e-2``).  Note the scale ``1/n`` (not
    ``1/sqrt(n)``, unlike :func:`symft.graph.network.random_network`).

    Parameters
    ----------
    widths : sequence of int
        ``(n_0, …, n_L)``, at least two entries.
    seed : int or numpy.random.Generator
        Required (a generator is advanced, so successive calls give new networks).
    activation : str
        Hidden-layer activation.
    mean_weight, std_weight : float
        The law's mean and scale.

    Returns
    -------
    Network
        A float64 chain.

    Examples
    --------
    >>> net = supplement_random_network([20, 15, 14, 1], seed=1)
    >>> net.as_chain().widths, net == supplement_random_network([20, 15, 14, 1], seed=1)
    ((20, 15, 14, 1), True)
    """
    widths = list(widths)
    if len(widths) < 2 or not all(isinstance(n, Integral) and not isinstance(n, bool) and n >= 1 for n in widths):
        raise InvalidArgument(f"widths: expected at least two positive integers, got {widths!r}")
    rng = as_rng(seed)
    Ws, bs = [], []
    for l in range(1, len(widths)):
        Ws.append(rng.standard_normal((widths[l], widths[l - 1])) * std_weight / widths[l - 1] + mean_weight)
        bs.append(rng.standard_normal(widths[l]) * std_weight / widths[l] + mean_weight)
    acts = [activation] * (len(widths) - 2) + ["linear"]
    return Network.from_numpy(Ws, bs, acts, name=name)


def _pair(truth, estimate):
    a = np.asarray(truth, dtype=float).ravel()
    b = np.asarray(estimate, dtype=float).ravel()
    if a.shape != b.shape:
        raise InvalidArgument(f"estimate: expected {a.size} values like truth, got {b.size}")
    if a.size < 2:
        raise InvalidArgument(f"truth: expected at least two values, got {a.size}")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise InvalidArgument("truth, estimate: expected finite values")
    return a, b


def rank_loss(truth, estimate, *, fold: bool = False) -> float:
    r"""The supplement's rank loss: the fraction of pairs the estimate orders differently from the truth.

    §7.1: "rank loss which is the average number of incorrectly ordered
    pairs"; the main text (Table 2): "the fraction of incorrectly ordered
    pairs".  Implemented as the authors' ``helpers.rank_loss(a, b)`` with
    ``a`` the true error and ``b`` the bound: sort ``b`` by increasing ``a``
    and count the pairs ``i < j`` with ``b_i ≥ b_j`` (a tie of the estimate
    counts as misordered), divided by ``n(n − 1)/2``.  Where the definition
    is silent and the code depends on NumPy's unstable sort — pairs with
    *equal* truth — the sort here is stable, so such a pair counts as
    misordered when ``b`` does not increase in input order.

    The figures plot ``min(r, 1 − r)`` ("worst value 0.5",
    ``process_scalar_output``): an estimate whose order is exactly reversed
    (an upper bound of ``E|Δ|`` against a negative ``E Δ``, say) scores 0
    there; ``fold=True`` gives that number.

    Parameters
    ----------
    truth, estimate : array_like
        One value per network (or input), same length ≥ 2, finite.
    fold : bool
        Return ``min(r, 1 − r)``.

    Returns
    -------
    float
        In ``[0, 1]`` (``[0, 1/2]`` folded).

    Examples
    --------
    >>> rank_loss([0.1, 0.3, 0.2], [1, 3, 2])
    0.0
    >>> rank_loss([1, 2, 3], [5, 5, 5])                   # ties in the estimate are misordered
    1.0
    """
    a, b = _pair(truth, estimate)
    b = b[np.argsort(a, kind="stable")]
    bad = int(np.triu(b[:, None] >= b[None, :], k=1).sum())
    n = a.size
    r = bad / (n * (n - 1) / 2)
    return min(r, 1.0 - r) if fold else r


def relative_error(truth, estimate, *, cap: float = 2.0) -> np.ndarray:
    r"""``min(|truth − estimate| / |truth|, cap)`` elementwise, as in the supplement's figures (cap 2).

    A zero truth gives ``cap`` unless the estimate is zero too (then 0).

    Examples
    --------
    >>> relative_error([1.0, -2.0, 0.0], [1.5, 2.0, 0.0]).tolist()
    [0.5, 2.0, 0.0]
    """
    a, b = (np.asarray(v, dtype=float).ravel() for v in (truth, estimate))
    if a.shape != b.shape:
        raise InvalidArgument(f"estimate: expected {a.size} values like truth, got {b.size}")
    diff = np.abs(a - b)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(diff == 0, 0.0, diff / np.abs(a))
    return np.minimum(np.nan_to_num(r, nan=cap, posinf=cap), cap)
