r"""Pruning the enclosure's enumeration: skip groups of crash configurations whose contribution is provably small.

The certified enclosure (:mod:`symft.engines.enclosure`) evaluates every
configuration with at most ``k`` crashes.  Within one count vector ``κ``
(``κ_g`` crashes at site ``g``) the configurations of a level all have the
same probability ``w = Π_g q_g^{κ_g} (1 − q_g)^{n_g − κ_g}``, and each one is
bounded without being evaluated.  This module ranks the neurons of one site
``g*`` by their sensitivity (the per-neuron constants ``c``, largest first)
and splits the configurations of ``κ`` into *blocks* by the rank of their
first (most sensitive) crashed neuron at ``g*``.  A *plan* keeps the blocks
of ranks ``< F`` and prunes the rest,

``Q(F) = {s : every crashed neuron of s at g* has rank ≥ F}``

— the lexicographic ranks ``first_rank(F) … C(n, κ*) − 1`` of the
combinations of the ranked neurons, one contiguous range, so the kept
configurations are one :class:`~symft.walk.configurations.Combinations`
range.  With ``N_Q(a)`` (``N_Q(a, b)``) the number of configurations of
``Q`` that crash ``a`` (both ``a`` and ``b``), counted in closed form
(binomial coefficients), the pruned contribution ``Σ_{s ∈ Q} w Δ(s)`` lies in

* **first order:** ``± w Σ_a c_a N_Q(a)`` (``|Δ(s)| ≤ Σ_{a ∈ s} c_a``);
* **pairwise:** ``w Σ_a d_a N_Q(a) ± w (½ Σ_{g,h} H[g, h] max_{a∈g, b∈h} N_Q(a, b) + ε j |Q|)``
  with ``d_a`` the computed single-crash effects (each within ``ε`` of the
  exact one), ``j = |κ|`` and ``H`` the interaction bound
  (``|Δ(s) − Σ_{a ∈ s} Δ_a| ≤ Σ_{{a,b} ⊆ s} H̄_{ab}``, ``Σ_{a∈g, b∈h} H̄_{ab} ≤ H[g, h]``);

and to ``E Δ²`` it adds between 0 and ``w (max_{s ∈ Q} Σ_{a ∈ s} c_a) Σ_a c_a N_Q(a)``.
Every bound is summed in exact rationals from the floats it is made of,
the weight ``w`` is exact (a float and its rounding error bounded), so the
pruned bound is rigorous, rounding included.  Which blocks are pruned only
affects the width, never the soundness: the plans here are greedy (most
configurations per unit of width first, within a room per output, or the
most width removed per configuration within a row budget).

The site-level pair bound ``H`` limits the pairwise form: at two crashes per
site ``max N_Q(a, b) = 1`` for every non-empty ``Q``, so pruning any block
of such a ``κ`` costs its whole pairwise bound.  Pruning pays off where the
first-order bound is the one used (kinks: ReLU nets) and the neurons'
sensitivities differ.

Examples
--------
>>> import numpy as np
>>> c = {0: np.array([[1.0], [0.0], [3.0], [0.5]])}
>>> geo = Geometry([4], {0: c[0]}, None, np.zeros(1), [0])
>>> geo.perms[0].tolist()
[2, 0, 3, 1]
>>> b = Block((2,), 0, 2)          # two crashes at site 0, neurons of ranks ≥ 2 (0.5 and 0.0) only: {3, 1}
>>> b.pruned_count([4]), [float(v) for v in geo.first_order(b, 1.0)]
(1, [0.5])
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

__all__ = ["Block", "Geometry", "comb", "plan_room", "plan_budget", "prune_site"]


def comb(n: int, k: int) -> int:
    """``C(n, k)``, zero outside ``0 ≤ k ≤ n``.

    Examples
    --------
    >>> comb(5, 2), comb(3, -1), comb(2, 3), comb(-1, 0)
    (10, 0, 0, 0)
    """
    if k < 0 or n < 0 or k > n:
        return 0
    return math.comb(n, k)


@dataclass(frozen=True)
class Block:
    """The pruned configurations of count vector ``kappa``: those whose crashed neurons at site index
    ``site`` all have sensitivity rank ``≥ first``.

    Examples
    --------
    >>> b = Block((2, 1), 0, 3)
    >>> b.pruned_count([5, 4]), b.kept_rows([5, 4])    # {3, 4} at site 0 × any one of the 4 at site 1
    (4, 9)
    """

    kappa: tuple
    site: int
    first: int

    def _z(self, sizes):
        return comb(sizes[self.site] - self.first, self.kappa[self.site])

    def others(self, sizes, drop=(), minus=None) -> int:
        """``Π_{h ≠ site, h ∉ drop} C(n_h, κ_h)`` times, for ``h`` in ``minus``, ``C(n_h − m, κ_h − m)``.

        Examples
        --------
        >>> Block((1, 2), 0, 0).others([3, 4]), Block((1, 2), 0, 0).others([3, 4], minus={1: 1})
        (6, 3)
        """
        out = 1
        minus = minus or {}
        for h, (n, k) in enumerate(zip(sizes, self.kappa)):
            if h == self.site or h in drop:
                continue
            m = minus.get(h, 0)
            out *= comb(n - m, k - m)
        return out

    def pruned_count(self, sizes) -> int:
        """``|Q|``: the configurations pruned.

        Examples
        --------
        >>> Block((2,), 0, 0).pruned_count([4]), Block((2,), 0, 3).pruned_count([4])
        (6, 0)
        """
        return self._z(sizes) * self.others(sizes)

    def kept_rows(self, sizes) -> int:
        """Rows of the combinations at ``site`` that are evaluated (ranks ``0 … first_rank(first) − 1``).

        Examples
        --------
        >>> Block((2,), 0, 1).kept_rows([4])
        3
        """
        n, k = sizes[self.site], self.kappa[self.site]
        return comb(n, k) - self._z(sizes)

    def neuron_counts(self, sizes):
        """``(A, per_site)``: ``N_Q(a)`` for a neuron of rank ≥ ``first`` at ``site`` and, per other site ``h``,
        for any neuron of ``h``.

        Examples
        --------
        >>> Block((2, 1), 0, 1).neuron_counts([4, 2])
        (4, {1: 3})
        """
        n, k = sizes[self.site], self.kappa[self.site]
        a = comb(n - self.first - 1, k - 1) * self.others(sizes)
        z = self._z(sizes)
        return a, {h: z * self.others(sizes, minus={h: 1}) for h in range(len(sizes)) if h != self.site}

    def pair_counts(self, sizes):
        """``M[g][h] ≥ max_{a ∈ g, b ∈ h, a ≠ b} N_Q(a, b)`` (ranks ≥ ``first`` at ``site``).

        Examples
        --------
        >>> Block((3,), 0, 1).pair_counts([5])
        [[2]]
        """
        L = len(sizes)
        n, k = sizes[self.site], self.kappa[self.site]
        z = self._z(sizes)
        M = [[0] * L for _ in range(L)]
        for g in range(L):
            for h in range(L):
                if g == self.site and h == self.site:
                    M[g][h] = comb(n - self.first - 2, k - 2) * self.others(sizes)
                elif g == self.site or h == self.site:
                    o = h if g == self.site else g
                    M[g][h] = comb(n - self.first - 1, k - 1) * self.others(sizes, minus={o: 1})
                elif g == h:
                    M[g][h] = z * self.others(sizes, minus={g: 2})
                else:
                    M[g][h] = z * self.others(sizes, minus={g: 1, h: 1})
        return M


class Geometry:
    """What the bounds of pruned blocks need for one input: the ranked neurons and their suffix sums.

    Parameters
    ----------
    sizes : list of int
        Neurons per site (site indices ``0 … L−1``).
    c : dict {site index: ndarray (n_g, n_out)}
        Per-neuron constants (``|Δ(s)| ≤ Σ_{a ∈ s} c_a``); finite.
    pair : ndarray (L, L, n_out) or None
        The interaction bound ``H`` (None: no pairwise form).
    eps : ndarray (n_out,)
        Float error of one computed ``Δ``.
    order : iterable of int
        The site indices to rank (the keys of ``c``).

    Examples
    --------
    >>> g = Geometry([2], {0: np.array([[1.0], [2.0]])}, None, np.zeros(1), [0])
    >>> g.perms[0].tolist(), g.csuf[0][:, 0].tolist()
    ([1, 0], [3.0, 1.0, 0.0])
    """

    def __init__(self, sizes, c, pair, eps, order):
        self.sizes = list(sizes)
        self.pair = None if pair is None or not np.all(np.isfinite(pair)) else np.asarray(pair, dtype=float)
        self.eps = np.asarray(eps, dtype=float)
        self.perms, self.csort, self.csuf, self.cmax_suf, self.csum = {}, {}, {}, {}, {}
        for g in order:
            cg = np.asarray(c[g], dtype=float)
            tot = cg.sum(axis=0)
            score = np.max(cg / np.where(tot > 0, tot, 1.0)[None, :], axis=1) if cg.size else np.zeros(0)
            perm = np.argsort(-score, kind="stable")
            cs = cg[perm]
            self.perms[g] = perm
            self.csort[g] = cs
            with np.errstate(over="ignore"):
                suf = np.concatenate([np.cumsum(cs[::-1], axis=0)[::-1], np.zeros((1, cs.shape[1]))])
                # float cumulative sums, inflated past their rounding error (n u relative, all terms ≥ 0)
                self.csuf[g] = suf * (1 + 2 * (cs.shape[0] + 2) * 2.0 ** -53)
            self.cmax_suf[g] = np.concatenate([np.maximum.accumulate(cs[::-1], axis=0)[::-1],
                                               np.zeros((1, cs.shape[1]))])
            self.csum[g] = self.csuf[g][0]
        self.d = None

    def set_singles(self, d):
        """``d``: {site index: ndarray (n_g, n_out)} computed single-crash effects (neuron order, not ranked).

        Examples
        --------
        >>> g = Geometry([2], {0: np.array([[1.0], [2.0]])}, None, np.zeros(1), [0])
        >>> g.set_singles({0: np.array([[0.5], [-2.0]])}); g.dsort[0][:, 0].tolist()
        [-2.0, 0.5]
        """
        self.d = d
        self.dsort = {g: np.asarray(v, dtype=float)[self.perms[g]] for g, v in d.items()}

    # ----------------------------------------------------------------- floats (planning)

    def first_order(self, b: Block, w: float) -> np.ndarray:
        """Float estimate (for planning) of ``w Σ_a c_a N_Q(a)`` per output.

        Examples
        --------
        >>> g = Geometry([3], {0: np.ones((3, 1))}, None, np.zeros(1), [0])
        >>> g.first_order(Block((2,), 0, 0), 0.5).tolist()  # 3 pairs × 2 neurons × 1 × ½
        [3.0...]
        """
        a, per = b.neuron_counts(self.sizes)
        out = float(a) * self.csuf[b.site][b.first]
        for h, n in per.items():
            if n:
                out = out + float(n) * self.csum[h]
        return w * out

    def pairwise(self, b: Block, w: float) -> np.ndarray | None:
        """Float estimate of the pairwise form's half-width ``w (½ Σ H M + ε j |Q|)`` per output, or None.

        Examples
        --------
        >>> H = np.ones((1, 1, 1))
        >>> g = Geometry([4], {0: np.ones((4, 1))}, H, np.zeros(1), [0])
        >>> g.set_singles({0: np.zeros((4, 1))})
        >>> g.pairwise(Block((2,), 0, 0), 1.0).tolist(), g.pairwise(Block((2,), 0, 2), 1.0).tolist()
        ([0.5], [0.5])
        """
        if self.pair is None or self.d is None:
            return None
        M = b.pair_counts(self.sizes)
        L = len(self.sizes)
        out = np.zeros(self.pair.shape[2])
        for g in range(L):
            for h in range(L):
                if M[g][h]:
                    out = out + 0.5 * float(M[g][h]) * self.pair[g, h]
        return w * (out + self.eps * sum(b.kappa) * float(b.pruned_count(self.sizes)))

    # ----------------------------------------------------------------- exact (the result)

    def exact(self, b: Block, w: Fraction, werr: Fraction):
        """Exact bounds of the block, per output: ``(first, shift, half, second)``.

        ``Σ_{s ∈ Q} P(s) Δ(s)`` lies in ``± first`` and in ``shift ± half``
        (``half`` None without the pairwise form); ``Σ_{s ∈ Q} P(s) Δ(s)²``
        in ``[0, second]``.  ``w`` is the float weight and ``werr`` a bound
        of its distance to the exact one.

        Examples
        --------
        >>> g = Geometry([3], {0: np.full((3, 1), 2.0)}, None, np.zeros(1), [0])
        >>> first, shift, half, second = g.exact(Block((2,), 0, 1), Fraction(1, 4), Fraction(0))
        >>> half, 1 <= first[0] <= 1 + 1e-15, 4 <= second[0] <= 4 + 1e-14   # one pair {1, 2}: ¼ · (2 + 2), ¼ · 4 · 4
        (None, True, True)
        """
        sizes = self.sizes
        W = w + werr
        a, per = b.neuron_counts(sizes)
        g0, F = b.site, b.first
        n_out = self.eps.shape[0]
        first, cmax = [], []
        for o in range(n_out):
            t = Fraction(a) * _sum_up(self.csort[g0][F:, o])
            # the largest Σ_{a ∈ s} c_a over s ∈ Q: κ* times the largest c of rank ≥ F, κ_h times the largest of h
            m = b.kappa[g0] * Fraction(float(self.cmax_suf[g0][F, o]))
            for h, n in per.items():
                if n:
                    t += Fraction(n) * _sum_up(self.csort[h][:, o])
                if b.kappa[h]:
                    m += b.kappa[h] * Fraction(float(self.cmax_suf[h][0, o]))
            first.append(W * t)
            cmax.append(m)
        second = [f * m for f, m in zip(first, cmax)]
        if self.pair is None or self.d is None:
            return first, None, None, second
        M = b.pair_counts(sizes)
        L = len(sizes)
        count = b.pruned_count(sizes)
        shift, half = [], []
        for o in range(n_out):
            v, e = _sum_near(self.dsort[g0][F:, o])
            lin, lin_err = Fraction(a) * v, Fraction(a) * e
            for h, n in per.items():
                if n:
                    v, e = _sum_near(self.dsort[h][:, o])
                    lin += Fraction(n) * v
                    lin_err += Fraction(n) * e
            hp = sum((Fraction(M[g][h]) * Fraction(float(self.pair[g, h, o]))
                      for g in range(L) for h in range(L) if M[g][h]), Fraction(0)) / 2
            hp += Fraction(float(self.eps[o])) * sum(b.kappa) * count
            shift.append(w * lin)
            half.append(werr * abs(lin) + W * (hp + lin_err))
        return first, shift, half, second


def _sum_up(a) -> Fraction:
    """An upper bound of the exact sum of the non-negative floats ``a`` (``math.fsum`` rounds correctly; one step
    up; the exact sum beyond the float range)."""
    vals = np.asarray(a, dtype=float).tolist()
    try:
        v = math.fsum(vals)
        if math.isfinite(v):
            return Fraction(float(np.nextafter(v, np.inf)))
    except OverflowError:
        pass
    return sum(map(Fraction, vals), Fraction(0))


def _sum_near(a):
    """``(s, e)``: the sum of the floats ``a`` correctly rounded and a bound of its distance to the exact sum."""
    vals = np.asarray(a, dtype=float).tolist()
    try:
        v = math.fsum(vals)
        if math.isfinite(v):
            v = Fraction(v)
            return v, abs(v) * Fraction(1, 2 ** 52) + Fraction(2) ** -1074
    except OverflowError:
        pass
    return sum(map(Fraction, vals), Fraction(0)), Fraction(0)


def _gain(cost, scale):
    """A scalar of a per-output cost: its largest fraction of ``scale``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(scale > 0, cost / scale, np.where(cost > 0, np.inf, 0.0))
    return float(np.max(r)) if r.size else 0.0


def plan_room(geo: Geometry, level, weights, room, use_pair):
    """Blocks to prune at one level so that their added half-width stays within ``room`` (per output).

    Greedy: repeatedly prune the next block (the least sensitive one not yet
    pruned, of any count vector) that prunes the most configurations per
    unit of ``max_o cost_o / room_o`` and still fits.  ``use_pair[o]``:
    the pairwise form is the one that will bound output ``o``.

    Returns ``{κ: Block}`` (only the count vectors with something pruned).

    Examples
    --------
    >>> c = np.array([[4.0], [1e-6], [1e-6], [1e-6]])
    >>> geo = Geometry([4], {0: c}, None, np.zeros(1), [0])
    >>> plan = plan_room(geo, [(2,)], {(2,): 0.01}, np.array([1e-7]), np.array([False]))
    >>> plan[(2,)].first, plan[(2,)].pruned_count([4])   # the three pairs without neuron 0
    (1, 3)
    """
    sizes = geo.sizes
    state = {}
    for kap in level:
        g = prune_site(sizes, kap)
        if g is None:
            continue
        state[kap] = [g, sizes[g] - kap[g] + 1]    # first = n − κ + 1: nothing pruned
    used = np.zeros_like(np.asarray(room, dtype=float))

    def cost(kap, first):
        b = Block(kap, state[kap][0], first)
        c1 = geo.first_order(b, weights[kap])
        c2 = geo.pairwise(b, weights[kap]) if np.any(use_pair) else None
        return c1 if c2 is None else np.where(use_pair, c2, c1)

    cur = {kap: np.zeros_like(used) for kap in state}
    while True:
        best = None
        for kap, (g, first) in state.items():
            if first <= 0:
                continue
            c = cost(kap, first - 1)
            extra = c - cur[kap]
            if np.any(used + extra > room):
                continue
            rows = comb(sizes[g] - first + 1, kap[g]) - comb(sizes[g] - first, kap[g])
            val = rows * Block(kap, g, 0).others(sizes) / max(_gain(extra, room), 1e-300)
            if best is None or val > best[0]:
                best = (val, kap, c, extra)
        if best is None:
            break
        _, kap, c, extra = best
        state[kap][1] -= 1
        used = used + extra
        cur[kap] = c
    return {kap: Block(kap, g, first) for kap, (g, first) in state.items()
            if Block(kap, g, first).pruned_count(sizes) > 0}


def plan_budget(geo: Geometry, level, weights, rows, scale, use_pair):
    """Blocks to prune at one level when only about ``rows`` configurations can be evaluated.

    Greedy from everything pruned: repeatedly evaluate the next block (the
    most sensitive one not yet kept, of any count vector) that removes the
    most ``Σ_o cost_o / scale_o`` per configuration, while the kept
    configurations stay within ``rows``.

    Returns ``{κ: Block}`` for every count vector (``first = 0``: all pruned).

    Examples
    --------
    >>> c = np.array([[4.0], [1e-6], [1e-6], [1e-6]])
    >>> geo = Geometry([4], {0: c}, None, np.zeros(1), [0])
    >>> plan = plan_budget(geo, [(2,)], {(2,): 0.01}, 3, np.array([1.0]), np.array([False]))
    >>> plan[(2,)].first, plan[(2,)].kept_rows([4])      # the three pairs with neuron 0 are evaluated
    (1, 3)
    """
    sizes = geo.sizes
    state, cur = {}, {}
    for kap in level:
        g = prune_site(sizes, kap)
        if g is None:
            continue
        state[kap] = [g, 0]

    def cost(kap, first):
        b = Block(kap, state[kap][0], first)
        c1 = geo.first_order(b, weights[kap])
        c2 = geo.pairwise(b, weights[kap]) if np.any(use_pair) else None
        return c1 if c2 is None else np.where(use_pair, c2, c1)

    for kap in state:
        cur[kap] = cost(kap, 0)
    kept = 0
    while True:
        best = None
        for kap, (g, first) in state.items():
            if first >= sizes[g] - kap[g] + 1:
                continue
            c = cost(kap, first + 1)
            n_rows = (comb(sizes[g] - first, kap[g]) - comb(sizes[g] - first - 1, kap[g])) * Block(kap, g, 0).others(sizes)
            if kept + n_rows > rows:
                continue
            val = float(np.sum(np.where(scale > 0, (cur[kap] - c) / np.where(scale > 0, scale, 1.0), 0.0))) / max(n_rows, 1)
            if best is None or val > best[0]:
                best = (val, kap, c, n_rows)
        if best is None:
            break
        _, kap, c, n_rows = best
        state[kap][1] += 1
        kept += n_rows
        cur[kap] = c
    return {kap: Block(kap, g, first) for kap, (g, first) in state.items()}


def prune_site(sizes, kap):
    """The site whose neurons are ranked for count vector ``kap``: the one with the most combinations.

    Examples
    --------
    >>> prune_site([10, 4], (1, 2)), prune_site([10, 4], (0, 0)) is None
    (0, True)
    """
    cands = [g for g, k in enumerate(kap) if k > 0]
    if not cands:
        return None
    return max(cands, key=lambda g: comb(sizes[g], kap[g]))

