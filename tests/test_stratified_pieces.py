"""The independent pieces of the stratified sampler and of the Monte Carlo merge: pure, merged in a fixed order,
checked against exact rational computations."""

from __future__ import annotations

from fractions import Fraction as F

import numpy as np

from symft.analysis.accuracy import accuracy
from symft.analysis.sweep import mean_abs_error
from symft.engines.sampling import block_moments, merge_moments
from symft.engines.stratified import bounded_interval, plan_strata, stratified_statistics
from symft.faults import NeuronCrash
from symft.graph.network import random_network
from symft.problem import make_problem


def _reversed_runner(calls):
    """Runs the pieces last to first (as a cluster might) and returns them in order; records how many."""
    def run(piece, items, shared):
        items = list(items)
        calls.append(len(items))
        out = [piece(*shared, it) for it in reversed(items)]
        return out[::-1]
    return run


def test_pieces_run_in_any_order_give_the_same_statistics_bit_for_bit():
    net = random_network([5, 12, 9, 3], seed=2, activation="tanh")
    X = np.random.default_rng(1).normal(size=(7, 5))
    m = NeuronCrash({1: 0.2, 2: 0.1})
    pb = make_problem(net, X, m)
    plan = plan_strata(net, m, 3000)
    fn = lambda Y: Y.reshape(Y.shape[0], -1)  # noqa: E731
    calls = []
    a = stratified_statistics(pb, m, plan, 5, fn)
    b = stratified_statistics(pb, m, plan, 5, fn, runner=_reversed_runner(calls))
    assert calls and calls[0] > 1
    for s, t in zip(a, b):
        for key in ("mean", "var", "ones", "binary", "same"):
            assert np.array_equal(getattr(s, key), getattr(t, key))
    binary = [s for s in a if not s.stratum.enumerated]
    assert binary
    z = [type(s)(s.stratum, (s.mean > 0).astype(float), s.var, (s.mean > 0).astype(float) * s.n,
                 np.ones_like(s.binary), s.same, s.clean) for s in binary]
    assert all(np.array_equal(u, v) for u, v in zip(bounded_interval(z, 0.9),
                                                    bounded_interval(z, 0.9, runner=_reversed_runner([]))))


def test_accuracy_and_mean_abs_error_with_a_runner_are_the_plain_answers():
    net = random_network([4, 10, 3], seed=0, activation="relu")
    X = np.random.default_rng(0).normal(size=(12, 4))
    y = np.arange(12) % 3
    m = NeuronCrash({1: 0.3})
    calls = []
    a = accuracy(net, X, y, m, method="statistical", n_samples=600, top=3).as_dict()
    b = accuracy(net, X, y, m, method="statistical", n_samples=600, top=3, runner=_reversed_runner(calls)).as_dict()
    a.pop("seconds"), b.pop("seconds")
    assert a == b and len(calls) == 3              # the draws, then the limits at two levels
    assert (mean_abs_error(net, X, m, method="statistical", n_samples=600)
            == mean_abs_error(net, X, m, method="statistical", n_samples=600, runner=_reversed_runner(calls)))


def test_merged_moments_are_the_central_sums_of_all_draws():
    d = np.random.default_rng(3).normal(size=(50, 2)) ** 3
    got = None
    for a, b in ((0, 7), (7, 8), (8, 31), (31, 50)):
        got = merge_moments(got, block_moments(d[a:b]))
    n, mean, M2, M3 = got
    assert n == 50
    for k in range(2):
        xs = [F(float(v)) for v in d[:, k]]
        mu = sum(xs) / 50
        for val, exact in ((mean[k], mu), (M2[k], sum((x - mu) ** 2 for x in xs)),
                           (M3[k], sum((x - mu) ** 3 for x in xs))):
            assert abs(F(float(val)) - exact) <= 1e-12 * (1 + abs(exact))
