"""The T1 remainder's Hessian jets computed in blocks of rows: the same bounds, in bounded memory."""

from __future__ import annotations

import numpy as np
import pytest

import symft.engines.taylor as taylor
from symft.engines.taylor import derivative_bounds, remainder_bound
from symft.errors import FaultModelError
from symft.graph.netfile import load_network
from symft.graph.network import random_network
from symft.walk.interval_jets import IntervalJets


def _blocked(monkeypatch, entries, fn, *args, **kw):
    monkeypatch.setattr(taylor, "JET_BLOCK_ENTRIES", entries)
    return fn(*args, **kw)


@pytest.mark.parametrize("semantics", ["output_zero", "incoming_zeroed"])
@pytest.mark.parametrize("act, layers", [("tanh", [1]), ("sigmoid", [1, 2]), ("softplus", [0, 2]),
                                         ("tanh", [0, 1, 2])])
def test_blocks_give_the_one_walk_bounds_bit_for_bit(monkeypatch, semantics, act, layers):
    net = random_network([5, 7, 6, 3], seed=3, activation=act, weight_scale=2.0)
    x = np.random.default_rng(1).normal(size=5)
    whole = _blocked(monkeypatch, 10 ** 12, derivative_bounds, net, x, layers, semantics=semantics)
    n = whole.M1.shape[1]
    for entries in (1, 6 * n, 6 * n * 5, 6 * n * n - 1):     # 1, 1, 5 and n − 1 rows per block
        bd = _blocked(monkeypatch, entries, derivative_bounds, net, x, layers, semantics=semantics)
        assert np.array_equal(bd.M1, whole.M1) and np.array_equal(bd.M2, whole.M2)
        assert np.array_equal(bd.M2, np.swapaxes(bd.M2, 1, 2))


def test_blocks_on_a_convolutional_graph(monkeypatch):
    net = load_network("tests/data/small_cnn.json")
    x = np.random.default_rng(0).normal(size=net.input_shape).ravel() * 0.3
    whole = _blocked(monkeypatch, 10 ** 12, derivative_bounds, net, x, ["r", "t"])
    bd = _blocked(monkeypatch, 7, derivative_bounds, net, x, ["r", "t"])
    assert np.array_equal(bd.M1, whole.M1) and np.array_equal(bd.M2, whole.M2)
    assert bd.M2.any()


def test_remainder_from_blocks_is_the_same(monkeypatch):
    net = random_network([6, 9, 4], seed=5, activation="tanh")
    x = np.random.default_rng(2).normal(size=6)
    a = _blocked(monkeypatch, 10 ** 12, remainder_bound, net, x, {1: 0.02})
    b = _blocked(monkeypatch, 1, remainder_bound, net, x, {1: 0.02})
    assert np.array_equal(a.mean_bound, b.mean_bound) and np.array_equal(a.var_bound, b.var_bound)


def _numpy_output(W, bvec, x, xi1, xi2):
    """[n0, n1, n2, 1] tanh chain written here: crash indicators ξ at both hidden layers (output_zero)."""
    h1 = np.tanh(W[0] @ x + bvec[0]) * (1 - xi1)
    h2 = np.tanh(W[1] @ h1 + bvec[1]) * (1 - xi2)
    return np.tanh(W[2] @ h2 + bvec[2])


def test_blocked_bounds_dominate_finite_differences(monkeypatch):
    rng = np.random.default_rng(7)
    sizes = [3, 4, 3, 1]
    W = [rng.normal(size=(sizes[i + 1], sizes[i])) for i in range(3)]
    bvec = [rng.normal(size=sizes[i + 1]) * 0.1 for i in range(3)]
    from symft.graph.network import Network

    net = Network.from_numpy(W, bvec, ["tanh", "tanh", "tanh"])
    x = rng.normal(size=3)
    bd = _blocked(monkeypatch, 2, derivative_bounds, net, x, [1, 2])   # one row per block
    n = 7
    e, h = np.eye(n), 1e-4

    def y(v):
        return _numpy_output(W, bvec, x, v[:4], v[4:])[0]

    for _ in range(30):
        xi = rng.random(n)
        xi[rng.random(n) < 0.3] = 0.0
        H = np.array([[(y(xi + h * (e[a] + e[b])) - y(xi + h * (e[a] - e[b])) - y(xi - h * (e[a] - e[b]))
                        + y(xi - h * (e[a] + e[b]))) / (4 * h * h) for b in range(n)] for a in range(n)])
        assert np.all(np.abs(H) <= bd.M2[0] + 1e-5)


def test_rows_are_checked():
    net = random_network([2, 3, 1], seed=0)
    with pytest.raises(FaultModelError, match="rows"):
        IntervalJets(net, [1], rows=(2, 5))
