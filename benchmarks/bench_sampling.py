"""Monte Carlo throughput: symft.engines.sampling.monte_carlo vs a per-sample Python loop.

Same network (examples/digits_sigmoid.json, 64-32-16-10), same input, same
failure model; the loop draws one Bernoulli mask per sample and calls
symft.engines.forward.forward once per sample (the naive method).  Prints samples/s
of both and the ratio, and checks that both estimate the same mean.  A third row runs the same
estimator drawing one uniform per neuron per sample (the sampler's per-unit path, forced), the
way it drew before it drew only the crashes (counts, then positions).

Run from the repository root:  python benchmarks/bench_sampling.py
"""

from __future__ import annotations

import time

import numpy as np

from symft.faults import CrashPattern, NeuronCrash
from symft.engines.forward import forward
from symft.graph.netfile import load_network
from symft.engines import sampling
from symft.engines.sampling import monte_carlo


def loop_mc(net, x, model, n, seed):
    rng = np.random.default_rng(seed)
    clean = forward(net, x)
    out = np.empty((n, net.n_outputs))
    for s in range(n):
        crashed = []
        for l in model.layers:
            m = rng.random(net.widths[l]) < float(model.probability(l))
            crashed += [(l, int(i)) for i in np.flatnonzero(m)]
        out[s] = forward(net, x, CrashPattern(frozenset(crashed))) - clean
    return out.mean(axis=0), out.std(axis=0, ddof=1) / np.sqrt(n)


def main():
    net = load_network("examples/digits_sigmoid.json")
    x = np.loadtxt("examples/digit0.csv", delimiter=",")
    print(f"network {net.name}  widths {net.widths}")
    print(f"{'p (hidden)':>10} {'method':<26} {'samples':>9} {'seconds':>8} {'samples/s':>11} {'ratio':>7}"
          f"  {'E Δ_0 ± se':>22}")
    for p in (1e-3, 5e-2):
        model = NeuronCrash.hidden(net, p)
        n_loop = 3000
        t = time.perf_counter()
        m_loop, se_loop = loop_mc(net, x, model, n_loop, seed=1)
        t_loop = time.perf_counter() - t
        n_fast = 1_000_000 if p < 1e-2 else 200_000
        t = time.perf_counter()
        r = monte_carlo(net, x, model, n_fast, seed=1, show_progress=False)
        t_fast = time.perf_counter() - t
        rate_loop, rate_fast = n_loop / t_loop, n_fast / t_fast
        print(f"{p:>10g} {'per-sample loop':<26} {n_loop:>9} {t_loop:>8.2f} {rate_loop:>11.0f} {1:>7.0f}"
              f"  {m_loop[0]:>11.5f} ± {se_loop[0]:.5f}")
        print(f"{p:>10g} {'symft monte_carlo':<26} {n_fast:>9} {t_fast:>8.2f} {rate_fast:>11.0f} "
              f"{rate_fast / rate_loop:>7.0f}  {r.mean[0]:>11.5f} ± {r.stderr(0):.5f}")
        z = (m_loop[0] - r.mean[0]) / np.hypot(se_loop[0], r.stderr(0))
        print(f"{'':>10} same mean? z = {z:+.2f}   ({r.crashed_samples} of {n_fast} samples had a crash)")
        # the same estimator drawing one uniform per neuron per sample (its rejection path, forced)
        limit = sampling.PER_UNIT_LIMIT
        sampling.PER_UNIT_LIMIT = float("inf")
        try:
            t = time.perf_counter()
            r2 = monte_carlo(net, x, model, n_fast, seed=1, show_progress=False)
            t_unit = time.perf_counter() - t
        finally:
            sampling.PER_UNIT_LIMIT = limit
        print(f"{p:>10g} {'one uniform per neuron':<26} {n_fast:>9} {t_unit:>8.2f} {n_fast / t_unit:>11.0f} "
              f"{n_fast / t_unit / rate_loop:>7.0f}  {r2.mean[0]:>11.5f} ± {r2.stderr(0):.5f}")
        print(f"{'':>10} drawing only the crashes: {t_unit / t_fast:.1f}x the samples/s of one uniform per neuron")


if __name__ == "__main__":
    main()
