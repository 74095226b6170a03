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


# ---------------------------------------------------------------------- order="auto" with a width or a time

import json  # noqa: E402

import pytest  # noqa: E402

from symft.cli import main  # noqa: E402
from symft.engines.enclosure import enclosure  # noqa: E402
from symft.engines.enumeration import enumerate_crashes  # noqa: E402
from symft.errors import InvalidArgument, TooLargeError  # noqa: E402
from symft.faults import NeuronCrash  # noqa: E402
from symft.graph.netfile import save_network  # noqa: E402
from symft.graph.network import random_network  # noqa: E402


def _net():
    return random_network([3, 8, 6, 2], seed=4, activation="sigmoid"), np.array([0.3, -1.0, 2.0])


@pytest.mark.parametrize("width", [1e-3, 1e-5, 1e-7])
def test_auto_width_meets_the_width_with_the_smallest_order(width):
    net, x = _net()
    m = NeuronCrash({1: 0.02, 2: 0.02})
    e = enclosure(net, x, m, order="auto", width=width)
    assert np.all(e.width <= width)
    ex = enumerate_crashes(net, x, m)
    assert np.all((e.mean_lo <= ex.mean) & (ex.mean <= e.mean_hi))
    if e.order > 0:   # one order less would not have met it
        assert np.max(enclosure(net, x, m, order=e.order - 1).width) > width


def test_auto_time_reaches_everything_on_a_tiny_net_and_refuses_an_impossible_budget():
    net, x = _net()
    m = NeuronCrash({1: 0.3, 2: 0.3})
    e = enclosure(net, x, m, order="auto", time_limit=60.0)
    assert e.order == 12 and e.configurations == sum(math.comb(14, j) for j in range(13))
    ex = enumerate_crashes(net, x, m)
    assert np.all((e.mean_lo <= ex.mean) & (ex.mean <= e.mean_hi))
    with pytest.raises(TooLargeError, match="even order 1 needs"):
        enclosure(net, x, m, order="auto", time_limit=1e-9)
    wide = random_network([3, 200, 200, 2], seed=0, activation="sigmoid")
    with pytest.raises(TooLargeError, match=r"needs order \d+ .*configurations/s measured here.*s left"):
        enclosure(wide, x, NeuronCrash({1: 1e-3, 2: 1e-3}), order="auto", width=1e-8, time_limit=1.0)
    with pytest.raises(TooLargeError, match="out of reach"):
        enclosure(wide, x, NeuronCrash({1: 0.05, 2: 0.05}), order="auto", width=1e-12)
    with pytest.raises(InvalidArgument, match="order"):
        enclosure(net, x, m, order=2, width=1e-3)
    with pytest.raises(InvalidArgument, match="width"):
        enclosure(net, x, m, order="auto", width=-1.0)
    with pytest.raises(InvalidArgument, match="tail"):
        enclosure(net, x, m, order=1, tail="second-order")


def test_cli_exact_order_auto_width_and_time(capsys, tmp_path):
    net, x = _net()
    path = str(tmp_path / "n.json")
    save_network(net, path)
    base = ["exact", path, "--input", "0.3,-1,2", "--p", "1:0.02,2:0.02"]
    assert main(base + ["--order", "auto", "--width", "1e-5", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["method"] == "enclosure" and max(h - lo for lo, h in zip(d["mean_lo"], d["mean_hi"])) <= 1e-5
    assert main(base + ["--order", "auto", "--time", "30", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["order"] == 12 and d["seconds"] < 30
    for extra, word in [(["--order", "2", "--width", "1e-3"], "--width"), (["--time", "3"], "--time"),
                        (["--order", "auto", "--width", "0"], "--width"),
                        (["--order", "auto", "--time", "1e-9"], "even order 1"),
                        (["--order", "auto", "--width", "1e-3", "--loss", "squared", "--target", "0,0"], "--loss")]:
        assert main(base + extra) == 2
        err = capsys.readouterr().err
        assert word in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err


# ---------------------------------------------------------------------- the second moment's interaction tail

@pytest.mark.parametrize("act", ["sigmoid", "tanh", "softplus"])
def test_second_moment_tail_contains_enumeration_and_narrows_the_variance(act):
    net = random_network([3, 8, 6, 2], seed=4, activation=act)
    x = np.array([0.3, -1.0, 2.0])
    m = NeuronCrash({1: 0.05, 2: 0.05})
    ex = enumerate_crashes(net, x, m)
    for k in (1, 2, 3):
        for tail in ("best", "pairwise"):
            e = enclosure(net, x, m, order=k, tail=tail)
            assert np.all((e.second_lo <= ex.second) & (ex.second <= e.second_hi)), (k, tail)
            assert np.all((e.var_lo <= ex.var) & (ex.var <= e.var_hi)), (k, tail)
            assert np.all(e.second_lo > 0)     # the tail's lower bound is used: positive already at order 1
    # on a wider net at small p the variance interval is far narrower than through the mean alone
    wide = random_network([16, 32, 32, 4], seed=0, activation=act)
    xw = np.random.default_rng(1).normal(size=16)
    mw = NeuronCrash({1: 1e-3, 2: 1e-3})
    best = enclosure(wide, xw, mw, order=1)
    first = enclosure(wide, xw, mw, order=1, tail="first-order")
    assert np.max(best.var_hi - best.var_lo) * 5 < np.max(first.var_hi - first.var_lo)
    assert np.all((best.var_lo <= first.var_hi) & (first.var_lo <= best.var_hi))
