r"""Walking many crash configurations of one input at once, sharing what they have in common.

:func:`walk_configurations` evaluates the network for every combination of
one *choice* per stage, where a stage is a crash site with a list of
choices (which of its neurons crash).  It is the walker's strategy for the
enumeration and enclosure engines:

* the sites are visited in topological order; the nodes between two sites
  are computed once per combination of the choices made so far (a choice at
  a late site does not recompute the early part of the network);
* when a site has one consumer, an affine op whose other inputs do not
  depend on the site, and the choices are given as index lists
  (``combos``), the consumer is updated sparsely:
  ``c(ŷ) = c(y) − Σ_{i crashed} (y_i − γ_i) A_c e_i`` — ``k`` multiply-adds
  per output element for ``k`` crashed neurons instead of a full product;
* rows are processed in chunks, so memory stays within ``chunk_bytes``.

It works with any interpretation whose values are arrays with a leading
batch axis (:class:`~symft.walk.numeric.Numeric` for float64,
:class:`~symft.walk.rational.Rational` for exact Fractions).

Examples
--------
>>> import numpy as np
>>> from symft.graph.network import mean_network
>>> from symft.walk.numeric import Numeric
>>> from symft.walk.walker import walk
>>> net = mean_network(3)
>>> clean = walk(net, Numeric(net), np.ones((1, 3)))
>>> st = Stage("0", masks=np.array([[False] * 3, [True, False, False], [True] * 3]), crash=np.zeros(3))
>>> [Y.ravel().tolist() for Y, choice in walk_configurations(net, clean, [st], Numeric(net))]
[[1.0, 0.6666666666666666, 0.0]]
"""

from __future__ import annotations

import bisect
import itertools
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

__all__ = ["Stage", "Combinations", "walk_configurations", "consumer_columns"]

_TABLE_ROWS = 2 ** 17


@lru_cache(maxsize=8)
def _table(n, k):
    """All ``k``-subsets of ``range(n)`` in lexicographic order (small tables only; read-only)."""
    cnt = math.comb(n, k)
    flat = np.fromiter(itertools.chain.from_iterable(itertools.combinations(range(n), k)),
                       dtype=np.int64, count=cnt * k)
    t = flat.reshape(cnt, k)
    t.flags.writeable = False
    return t


@lru_cache(maxsize=256)
def _starts(n, k):
    """``starts[f]``: rank of the first ``k``-subset of ``range(n)`` whose smallest element is ``f``."""
    sizes = [math.comb(n - f - 1, k - 1) for f in range(n - k + 1)]
    return np.concatenate([[0], np.cumsum(np.array(sizes, dtype=object))]).tolist()


def _rows(n, k, a, b):
    """Rows ``a … b-1`` of the lexicographic table of ``k``-subsets of ``range(n)``."""
    if k == 0 or a >= b:
        return np.zeros((max(0, b - a), k), dtype=np.int64)
    if math.comb(n, k) <= _TABLE_ROWS:
        return _table(n, k)[a:b]
    st = _starts(n, k)
    f0 = bisect.bisect_right(st, a) - 1
    parts = []
    f = f0
    while f < len(st) - 1 and st[f] < b:
        off = st[f]
        lo, hi = max(a, off), min(b, st[f + 1])
        sub = _rows(n - f - 1, k - 1, lo - off, hi - off)
        part = np.empty((hi - lo, k), dtype=np.int64)
        part[:, 0] = f
        part[:, 1:] = sub
        part[:, 1:] += f + 1
        parts.append(part)
        f += 1
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


class Combinations:
    """The ``k``-subsets of ``range(n)`` in lexicographic order, made on demand one slice at a time.

    Behaves like the ``(C(n, k), k)`` index array of
    ``itertools.combinations(range(n), k)`` for ``shape`` and slicing
    ``[a:b]`` (step 1), but never holds more than the rows asked for (plus
    a few cached tables of at most 2^17 rows), so memory does not grow with
    ``C(n, k)``.  A :class:`Stage` accepts it as ``combos``.

    Examples
    --------
    >>> c = Combinations(5, 3)
    >>> c.shape
    (10, 3)
    >>> c[2:5].tolist()
    [[0, 1, 4], [0, 2, 3], [0, 2, 4]]
    >>> Combinations(400, 4).shape[0]
    1050739900

    ``start``/``stop`` keep the rows of ranks ``start … stop − 1`` only, and
    ``labels`` renames element ``i`` to ``labels[i]`` (the subsets of a
    reordered set of neurons):

    >>> Combinations(4, 2, start=3, labels=[3, 2, 1, 0])[0:3].tolist()
    [[2, 1], [2, 0], [1, 0]]
    """

    def __init__(self, n: int, k: int, start: int = 0, stop: int | None = None, labels=None):
        self.n, self.k = int(n), int(k)
        if self.n < 0 or self.k < 0:
            raise ValueError("Combinations: n and k must be non-negative")
        total = math.comb(self.n, self.k)
        self.start = int(start)
        self.stop = total if stop is None else int(stop)
        if not 0 <= self.start <= self.stop <= total:
            raise ValueError(f"Combinations: rows {start}..{stop} are not within 0..{total}")
        self.labels = None if labels is None else np.asarray(labels, dtype=np.int64)
        if self.labels is not None and self.labels.shape != (self.n,):
            raise ValueError("Combinations: labels must have one entry per element")
        self.shape = (self.stop - self.start, self.k)

    def __len__(self):
        return self.shape[0]

    def __getitem__(self, key):
        if not isinstance(key, slice):
            raise TypeError("Combinations: only slices [a:b] are supported")
        a, b, step = key.indices(self.shape[0])
        if step != 1:
            raise TypeError("Combinations: only slices with step 1 are supported")
        rows = _rows(self.n, self.k, self.start + a, self.start + max(a, b))
        return rows if self.labels is None else self.labels[rows]

    def first_rank(self, f: int) -> int:
        """Rank (in the full lexicographic order) of the first ``k``-subset whose smallest element is ``f``.

        The subsets whose elements are all ``≥ f`` are the ranks ``first_rank(f) … C(n, k) − 1``.

        Examples
        --------
        >>> c = Combinations(5, 2)
        >>> [c.first_rank(f) for f in range(5)]
        [0, 4, 7, 9, 10]
        """
        f = int(f)
        if self.k == 0:
            return 0 if f <= 0 else 1
        return math.comb(self.n, self.k) - math.comb(max(self.n - f, 0), self.k)


@dataclass(frozen=True, eq=False)
class Stage:
    """The choices at one crash site: ``masks`` ``(m, n)`` bool, ``combos`` ``(m, k)`` crashed indices
    (an array or a :class:`Combinations`, sliced one block at a time), or ``all_subsets=n`` (every subset of the ``n`` neurons; choice ``c`` crashes the neurons of the
    bits of ``c``).

    ``crash`` ``(n,)`` is what a crashed neuron outputs (in the
    interpretation's number kind).

    Examples
    --------
    >>> Stage("1", combos=np.array([[0], [2]]), crash=np.zeros(3)).choices
    2
    """

    site: str
    crash: np.ndarray
    masks: np.ndarray | None = None
    combos: np.ndarray | None = None
    all_subsets: int | None = None

    @property
    def choices(self) -> int:
        """Number of choices ``m``.

        Examples
        --------
        >>> Stage("0", masks=np.zeros((4, 2), bool), crash=np.zeros(2)).choices
        4
        >>> Stage("0", all_subsets=3, crash=np.zeros(3)).choices
        8
        """
        if self.all_subsets is not None:
            return 2 ** int(self.all_subsets)
        return int((self.masks if self.masks is not None else self.combos).shape[0])

    def mask_rows(self, c0, c1, n):
        """Bool masks ``(c1 - c0, n)`` of choices ``c0 … c1-1`` (``all_subsets``: the bits of the choice index).

        Examples
        --------
        >>> Stage("0", combos=np.array([[1]]), crash=np.zeros(2)).mask_rows(0, 1, 2)
        array([[False,  True]])
        >>> Stage("0", all_subsets=2, crash=np.zeros(2)).mask_rows(1, 3, 2)
        array([[ True, False],
               [False,  True]])
        """
        if self.all_subsets is not None:
            idx = np.arange(c0, c1, dtype=np.int64)
            return ((idx[:, None] >> np.arange(n, dtype=np.int64)) & 1).astype(bool)
        if self.masks is not None:
            return self.masks[c0:c1]
        C = self.combos[c0:c1]
        m = np.zeros((C.shape[0], n), dtype=bool)
        if C.shape[1]:
            m[np.arange(C.shape[0])[:, None], C] = True
        return m


def consumer_columns(net, site, consumer, kind: str = "float") -> np.ndarray:
    """``A_c e_i`` for every neuron ``i`` of ``site``: the linear effect of each neuron on an affine consumer.

    Returns ``(n_site,) + consumer shape`` in the number kind.

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> net = random_network([2, 3, 1], seed=0)
    >>> cols = consumer_columns(net, "1", "z2")
    >>> bool(np.allclose(cols[:, 0], net.node("z2").op.params("float")["weight"][0]))
    True
    """
    node = net.node(consumer)
    op = node.op
    P = dict(op.params(kind))
    for k in ("bias", "shift"):
        if k in P:
            P[k] = None
    n = net.site_size(site)
    sshape = tuple(net.node(site).shape)
    if kind == "float":
        eye = np.eye(n).reshape((n,) + sshape)
        zero = lambda s: np.zeros((n,) + tuple(s))  # noqa: E731
    else:
        from fractions import Fraction

        one, nil = (Fraction(1), Fraction(0)) if kind == "fraction" else (1, 0)
        eye = np.full((n, n), nil, dtype=object)
        for i in range(n):
            eye[i, i] = one
        eye = eye.reshape((n,) + sshape)
        zero = lambda s: np.full((n,) + tuple(s), nil, dtype=object)  # noqa: E731
    args = [eye if i == site else zero(s) for i, s in zip(node.inputs, node.in_shapes)]
    return op.apply(args, P, node.in_shapes)


def _sparse_consumer(net, site, down):
    """The consumer that can be updated sparsely after crashes at ``site``, or None."""
    cons = net.consumers(site)
    if site == net.output or len(cons) != 1:
        return None
    c = net.node(cons[0])
    if not c.op.affine:
        return None
    if any(i != site and i in down for i in c.inputs) or c.inputs.count(site) != 1:
        return None
    return c.name


def walk_configurations(net, clean: dict, stages, interp, *, chunk_bytes: int = 8 * 2 ** 20,
                        item_bytes: int = 8):
    """Yield ``(Y, choice)`` for every combination of one choice per stage.

    Parameters
    ----------
    net : Network
    clean : dict
        The clean value of every node for ONE input (leading axis of length 1).
    stages : sequence of Stage
        At distinct sites; visited in topological order.
    interp : Interpretation
        Rules for the nodes (no faults of its own).
    chunk_bytes : int
        Memory budget of a block of rows.
    item_bytes : int
        Bytes per value (8 for float64; object arrays cost more — pass ~64).

    Yields
    ------
    Y : ndarray ``(P, n_out)``
        The outputs of a block of combinations.
    choice : int ndarray ``(P, n_stages)``
        For each row, the index of its choice at every stage (stages in the
        order given).

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> from symft.walk.numeric import Numeric
    >>> from symft.walk.walker import walk
    >>> net = random_network([2, 3, 2, 1], seed=0)
    >>> clean = walk(net, Numeric(net), np.array([[0.5, -1.0]]))
    >>> st = [Stage("1", combos=np.array([[0], [1]]), crash=np.zeros(3)),
    ...       Stage("2", combos=np.array([[0], [1]]), crash=np.zeros(2))]
    >>> sum(Y.shape[0] for Y, _ in walk_configurations(net, clean, st, Numeric(net)))
    4
    """
    order = net.order
    pos = {n: i for i, n in enumerate(order)}
    given = list(stages)
    idx_of = {id(s): k for k, s in enumerate(given)}
    stages = sorted(given, key=lambda s: pos[s.site])
    if len({s.site for s in stages}) != len(stages):
        raise ValueError("walk_configurations: two stages at the same site")
    if not stages:
        yield np.asarray(clean[net.output]).reshape(1, -1), np.zeros((1, 0), dtype=np.int64)
        return
    K = len(stages)
    down_of = [set(net.downstream([s.site])) for s in stages]
    affected = set(down_of[0])
    for d in down_of[1:]:
        affected |= d
    segs = []
    for j, st in enumerate(stages):
        hi = pos[stages[j + 1].site] if j + 1 < K else len(order)
        seg = [n for n in order if pos[st.site] < pos[n] <= hi and n in affected]
        segs.append(seg)
    sparse = []
    for j, st in enumerate(stages):
        c = _sparse_consumer(net, st.site, down_of[j]) if st.combos is not None else None
        if c is not None and c not in segs[j]:
            c = None
        sparse.append(c)
    cols = {}
    kind = getattr(interp, "kind", "float")
    for j, c in enumerate(sparse):
        if c is not None:
            cols[j] = consumer_columns(net, stages[j].site, c, kind).reshape(net.site_size(stages[j].site), -1)
    lastuse = {}
    for n in order:
        cs = net.consumers(n)
        lastuse[n] = max((pos[c] for c in cs), default=len(order) if n == net.output else -1)
    width = max(net.node(n).size for n in affected | {s.site for s in stages})
    rows_budget = max(1, chunk_bytes // (width * item_bytes * 3))
    out_col = [idx_of[id(s)] for s in stages]

    def compute(names, state, batched):
        for n in names:
            node = net.node(n)
            state[n] = interp.rule(node)(node, [state[i] for i in node.inputs])
            if any(i in batched for i in node.inputs):
                batched.add(n)

    def run(j, state, batched, P, prefix):
        if P > rows_budget:
            for r0 in range(0, P, rows_budget):
                r1 = min(P, r0 + rows_budget)
                sub = {n: (v[r0:r1] if n in batched else v) for n, v in state.items()}
                yield from run(j, sub, set(batched), r1 - r0, prefix[r0:r1])
            return
        st = stages[j]
        s = st.site
        n_s = net.site_size(s)
        c = sparse[j]
        seg = segs[j]
        down = down_of[j]
        pre = [n for n in seg if n not in down]
        post = [n for n in seg if n in down and n != c]
        state = dict(state)
        batched = set(batched)
        compute(pre, state, batched)
        if c is not None:
            cnode = net.node(c)
            c_base = interp.rule(cnode)(cnode, [state[i] for i in cnode.inputs])
            if c not in batched and not any(i in batched for i in cnode.inputs):
                c_base = np.broadcast_to(c_base, (P,) + c_base.shape[1:])
            ys = state[s].reshape(state[s].shape[0], n_s)
            dv = ys - st.crash.reshape(1, n_s)
            if dv.shape[0] != P:
                dv = np.broadcast_to(dv, (P, n_s))
        live = [n for n in state if n in batched and (lastuse[n] > pos[s] or n == net.output)]
        m = st.choices
        mc = max(1, rows_budget // P)
        for c0 in range(0, m, mc):
            c1 = min(m, c0 + mc)
            mm = c1 - c0
            newP = P * mm
            new = {n: v for n, v in state.items() if n not in batched}
            for n in live:
                new[n] = np.repeat(state[n], mm, axis=0)
            nb = set(live)
            pref = np.empty((newP, prefix.shape[1] + 1), dtype=np.int64)
            pref[:, :-1] = np.repeat(prefix, mm, axis=0)
            pref[:, -1] = np.tile(np.arange(c0, c1), P)
            if c is not None:
                shp = net.node(c).shape
                Z = np.repeat(c_base.reshape(P, -1), mm, axis=0).reshape(P, mm, -1)
                if Z.dtype != object:
                    Z = Z.copy()
                C = st.combos[c0:c1]
                A = cols[j]
                for t in range(C.shape[1]):
                    ix = C[:, t]
                    Z = Z - dv[:, ix][:, :, None] * A[ix][None, :, :]
                new[c] = Z.reshape((newP,) + tuple(shp))
                nb.add(c)
            else:
                ys = state[s]
                if s not in batched:
                    ys = np.broadcast_to(ys, (P,) + ys.shape[1:])
                ys = np.repeat(ys, mm, axis=0)
                masks = st.mask_rows(c0, c1, n_s)
                mrows = np.tile(masks, (P, 1)).reshape((newP,) + tuple(net.node(s).shape))
                crash = st.crash.reshape(tuple(net.node(s).shape))
                new[s] = np.where(mrows, crash, ys)
                nb.add(s)
            compute(post, new, nb)
            if j + 1 < K:
                yield from run(j + 1, new, nb, newP, pref)
            else:
                Y = new[net.output]
                if net.output not in nb:
                    Y = np.broadcast_to(Y, (newP,) + Y.shape[1:])
                choice = np.empty_like(pref)
                choice[:, out_col] = pref
                yield Y.reshape(newP, -1), choice

    yield from run(0, dict(clean), set(), 1, np.zeros((1, 0), dtype=np.int64))
