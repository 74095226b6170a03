"""Benchmark of symft.engines.taylor (numeric T1) against the naive methods, side by side.

1. Cost of T1 in forward passes: for [n, n, n, 1] tanh networks (n = 100 … 800) and a batch of
   64 inputs, time of ``symft.engines.taylor.t1`` (no remainder) / time of one clean forward pass
   (``symft.engines.forward.forward_trace``).  Target (issue 4): ≤ 3 forward passes for a scalar output.
   Naive alternatives on the same network: b4, the n single-crash forward passes
   (``forward_masked`` with the identity masks) — exact to first order but n passes; and
   Monte Carlo (``NeuronCrash.sample`` + ``forward_masked``) with as many samples as T1's time
   allows (at least 64), whose 95% half-width is compared with T1's rigorous remainder (on one
   input; the remainder is computed for n ≤ 200, where the Hessian jets stay small).
2. Symbolic vs numeric T1 on a [3, 4, 2] tanh network: time and largest difference.
3. Remainder bounds (interval D_1, D_2) cost and tightness: bound / |exact − T1| against the
   exact mean error by enumeration, for crashes at the 12 inputs of a [12, 16, 1] tanh net.
4. T1 with its remainder on [n, n, n, 1] tanh nets: wall time and peak RSS (one process per n,
   ``--remainder-n 300 800``).  The Hessian jets are computed in blocks of rows
   (symft.engines.taylor.JET_BLOCK_ENTRIES), so memory no longer grows as n³: measured on the
   loaded 2-core machine, n = 300 took 2.2 GiB before and 0.74 GiB after (same bits), n = 800
   0.83 GiB (before: more than 24 GiB).

Run from the repository root: ``python benchmarks/bench_taylor.py`` (about half a minute).
BLAS runs single-threaded (set below, before NumPy is imported): multi-threaded BLAS on a
loaded machine made the forward-pass timings erratic (tens of ms for a 64 × 200 product).
Measured here (2 cores, single-threaded BLAS, 3 runs): T1 = 1.6–2.3 forward passes for
n = 100 … 800 (one reverse walk of the graph, any DAG; the chain-only 2-D sweep it replaced gave
1.7–2.6), b4 30–380× slower than T1.
"""

from __future__ import annotations

import os

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import itertools  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from symft.faults import NeuronCrash  # noqa: E402
from symft.engines.forward import forward_masked, forward_trace  # noqa: E402
from symft.graph.network import random_network  # noqa: E402
from symft.engines.taylor import remainder_bound, t1, t1_symbolic  # noqa: E402


def best_of(fn, reps=5):
    fn()  # warm-up (allocations, caches)
    best, out = np.inf, None
    for _ in range(reps):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def part1():
    print("1. numeric T1 cost, batch of 64 inputs, crashes at the first hidden layer (p = 1e-3)")
    print(f"{'n':>5} {'forward s':>10} {'T1 s':>9} {'T1/fwd':>7} {'b4 s':>9} {'b4/T1':>8}  "
          f"{'MC samples':>10} {'MC half-width':>13} {'T1 remainder':>12}")
    for n in (100, 200, 400, 800):
        net = random_network([n, n, n, 1], seed=0)
        X = np.random.default_rng(0).normal(size=(64, n))
        tf, _ = best_of(lambda: forward_trace(net, X), reps=30)
        tt, r = best_of(lambda: t1(net, X, {1: 1e-3}, remainder=False), reps=30)
        x0 = X[:1]
        tb, _ = best_of(lambda: forward_masked(net, X, {1: np.eye(n, dtype=bool)}), reps=1)
        # Monte Carlo on one input for T1's (one-input) time budget
        t_one, r1 = best_of(lambda: t1(net, x0[0], {1: 1e-3}, remainder=False))
        model = NeuronCrash({1: 1e-3})
        samples = 64
        while True:
            t0 = time.perf_counter()
            m = model.sample(net, samples, seed=1)
            out = forward_masked(net, x0[0], m)
            if time.perf_counter() - t0 > t_one or samples > 1 << 20:
                break
            samples *= 2
        d = out[:, 0] - forward_trace(net, x0).output[0, 0]
        hw = 1.96 * d.std(ddof=1) / np.sqrt(d.size)
        rb = remainder_bound(net, x0[0], {1: 1e-3}).mean_bound[0] if n <= 200 else float("nan")
        print(f"{n:>5} {tf:10.4f} {tt:9.4f} {tt / tf:7.2f} {tb:9.3f} {tb / tt:8.1f}  "
              f"{d.size:>10} {hw:13.3e} {rb:12.3e}")


def part2():
    print("\n2. symbolic vs numeric T1, [3, 4, 2] tanh, crashes at layers 0 and 1")
    net = random_network([3, 4, 2], seed=1)
    x = np.array([0.3, -0.7, 1.1])
    probs = {0: 0.01, 1: 0.02}
    ts, s = best_of(lambda: t1_symbolic(net, list(x), probs, second_order=False), reps=1)
    tn, r = best_of(lambda: t1(net, x, probs, remainder=False))
    v = s.evalf()
    diff = max(np.abs(np.array(v["mean"]) - r.mean).max(), np.abs(np.array(v["var"]) - r.var).max())
    print(f"symbolic {ts:.3f} s, numeric {tn * 1e3:.3f} ms, ratio {ts / tn:.0f}x, largest difference {diff:.2e}")


def part3():
    print("\n3. rigorous remainder bound vs the true T1 error (exact enumeration of 2^12 patterns)")
    print(f"{'p':>7} {'T1 mean':>11} {'exact E Δ':>11} {'|error|':>10} {'bound':>10} {'bound/error':>11} {'bound s':>8}")
    net = random_network([12, 16, 1], seed=2)
    x = np.random.default_rng(2).normal(size=12)
    pats = np.array(list(itertools.product([False, True], repeat=12)))
    out = forward_masked(net, x, {0: pats})[:, 0]
    y0 = forward_trace(net, x[None]).output[0, 0]
    for q in (1e-3, 1e-2, 1e-1):
        w = np.prod(np.where(pats, q, 1 - q), axis=1)
        exact = w @ (out - y0)
        tb, rb = best_of(lambda: remainder_bound(net, x, {0: q}))
        r = t1(net, x, {0: q}, remainder=False)
        err = abs(exact - r.mean[0])
        print(f"{q:7.0e} {r.mean[0]:11.3e} {exact:11.3e} {err:10.2e} {rb.mean_bound[0]:10.2e} "
              f"{rb.mean_bound[0] / err:11.1f} {tb:8.4f}")


_REMAINDER_CHILD = r"""
import resource, sys, time, numpy as np
from symft.graph.network import random_network
from symft.engines.taylor import t1
n = int(sys.argv[1])
net = random_network([n, n, n, 1], seed=0)
x = np.random.default_rng(0).normal(size=(1, n))
t = time.perf_counter()
r = t1(net, x, {1: 1e-3}, remainder=True, force=True)
print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, float(r.remainder_mean[0, 0]))
"""


def part4(sizes):
    """Peak memory of T1 with its remainder (Hessian jets in blocks of rows), one process per size."""
    import subprocess
    import sys

    print("\n4. T1 with its remainder, [n, n, n, 1] tanh, crashes at the first hidden layer: time and peak RSS")
    print(f"{'n':>5} {'seconds':>9} {'peak RSS GiB':>13} {'remainder (mean)':>17}")
    for n in sizes:
        out = subprocess.run([sys.executable, "-c", _REMAINDER_CHILD, str(n)], capture_output=True, text=True,
                             check=True).stdout.split()
        print(f"{n:>5} {float(out[0]):>9.1f} {int(out[1]) / 2 ** 20:>13.2f} {float(out[2]):>17.6g}", flush=True)


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--remainder-n", type=int, nargs="*", default=[100, 200],
                    help="sizes n of part 4 (n = 800 takes minutes)")
    args = ap.parse_args()
    part1()
    part2()
    part3()
    part4(args.remainder_n)
