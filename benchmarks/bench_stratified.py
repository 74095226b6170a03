"""Stratified Monte Carlo vs the plain sampler: confidence-interval half-width at equal time.

Cases: examples/digits_sigmoid.json on one digit (examples/digit0.csv) with
crashes at both hidden layers at p = 1e-3, and the paper's random net
(random_network([3, 5, 1], seed=0, tanh), x = (0.1, 0.2, 0.3)) at p = 1e-3
at the hidden layer.  The plain sampler is symft.engines.sampling.monte_carlo
(which already samples given at least one crash); the stratified one is
symft.engines.stratified.stratified_monte_carlo with the same number of
forward passes, once as it runs by default (small strata enumerated) and
once with every stratum sampled (``enumerate_small=False``: stratification
alone).  The half-width at equal time is the plain one scaled by
``sqrt(t_plain / t_stratified)`` (what the plain sampler would reach in the
stratified run's time); ratio = that / the stratified half-width (largest
over outputs).  3 runs (seeds), BLAS threads 1.

Run from the repository root:  python benchmarks/bench_stratified.py
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import math  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from symft.engines.sampling import monte_carlo  # noqa: E402
from symft.engines.stratified import stratified_monte_carlo  # noqa: E402
from symft.faults import NeuronCrash  # noqa: E402
from symft.graph.netfile import load_network  # noqa: E402
from symft.graph.network import random_network  # noqa: E402


def half(r):
    return max((h - l) / 2 for l, h in zip(r.ci_low, r.ci_high))


def case(name, net, x, model, n_plain, seeds=(1, 2, 3)):
    print(f"\n{name}: n_plain = {n_plain}")
    print(f"{'seed':>4} {'method':<22} {'passes':>8} {'seconds':>8} {'half-width':>11} {'ratio@time':>11}")
    ratios = {"default": [], "sampled": []}
    for seed in seeds:
        t = time.perf_counter()
        q = monte_carlo(net, x, model, n_plain, seed=seed, show_progress=False)
        tp = time.perf_counter() - t
        hp = half(q)
        print(f"{seed:>4} {'plain monte_carlo':<22} {q.crashed_samples:>8} {tp:>8.3f} {hp:>11.3e} {1:>11}")
        for label, enum in (("default", True), ("sampled", False)):
            t = time.perf_counter()
            r = stratified_monte_carlo(net, x, model, q.crashed_samples, seed=seed, enumerate_small=enum)
            ts = time.perf_counter() - t
            hs = half(r)
            equal = hp * math.sqrt(tp / ts)
            ratio = equal / hs if hs > 0 else math.inf
            ratios[label].append(ratio)
            passes = r.crashed_samples + r.enumerated_configurations
            print(f"{seed:>4} {'stratified ' + label:<22} {passes:>8} {ts:>8.3f} {hs:>11.3e} {ratio:>11.3g}"
                  f"   ({r.method}; {r.crashed_samples} sampled, {r.enumerated_configurations} enumerated)")
    for label, rs in ratios.items():
        print(f"  stratified {label}: half-width ratio at equal time {min(rs):.3g} … {max(rs):.3g}")


def main():
    net = load_network("examples/digits_sigmoid.json")
    x = np.loadtxt("examples/digit0.csv", delimiter=",")
    case("digits_sigmoid, digit0, p = 1e-3 at both hidden layers", net, x, NeuronCrash.hidden(net, 1e-3), 4_000_000)
    net = random_network([3, 5, 1], seed=0, activation="tanh")
    case("paper's random net 3-5-1 tanh, p = 1e-3 (hidden)", net, np.array([0.1, 0.2, 0.3]),
         NeuronCrash({1: 1e-3}), 40_000_000)


if __name__ == "__main__":
    main()
