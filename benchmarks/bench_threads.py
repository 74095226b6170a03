"""BLAS threads: the engines' loops of small products with symft's policy (one BLAS thread) and without it.

Each measurement runs in a fresh process, once with ``SYMFT_BLAS_THREADS`` unset (the policy of
symft.threads: one BLAS thread inside enumeration, the masked forward pass, sampling, the
enclosure and the brute-force worst case) and once with ``SYMFT_BLAS_THREADS=none`` (BLAS as
NumPy loads it: one thread per core).  The BLAS environment variables (OMP_NUM_THREADS,
OPENBLAS_NUM_THREADS, MKL_NUM_THREADS) are removed from the children so that "none" really is the
library default.  Prints every run's seconds and the ranges side by side.

1. enumerate_crashes over the 2^n configurations of the hidden layer of a [16, n, 16, 1] tanh net
   (default n = 28, force=True);
2. the certified enclosure (order 2) of a [64, 128, 64, 10] sigmoid net, p = 1e-3 at both hidden layers;
3. monte_carlo on examples/digits_sigmoid.json, p = 1e-3, 10^6 samples.

Run from the repository root: ``python benchmarks/bench_threads.py [--n 28] [--runs 3]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

CHILD = r"""
import sys, time, numpy as np
from symft.faults import NeuronCrash
from symft.graph.network import random_network
what, n = sys.argv[1], int(sys.argv[2])
if what == "enumeration":
    from symft.engines.enumeration import enumerate_crashes
    net = random_network([16, n, 16, 1], seed=0, activation="tanh")
    x = np.random.default_rng(0).normal(size=16)
    run = lambda: enumerate_crashes(net, x, NeuronCrash({1: 0.01}), progress=False, force=True)
elif what == "enclosure":
    from symft.engines.enclosure import enclosure
    net = random_network([64, 128, 64, 10], seed=0, activation="sigmoid")
    x = np.random.default_rng(0).normal(size=64)
    run = lambda: enclosure(net, x, NeuronCrash({1: 1e-3, 2: 1e-3}), order=2, progress=False)
else:
    from symft.engines.sampling import monte_carlo
    from symft.graph.netfile import load_network
    net = load_network("examples/digits_sigmoid.json")
    x = np.loadtxt("examples/digit0.csv", delimiter=",")
    run = lambda: monte_carlo(net, x, NeuronCrash.hidden(net, 1e-3), 10 ** 6, seed=1, show_progress=False)
t = time.perf_counter()
run()
print(time.perf_counter() - t)
"""


def once(what, n, policy):
    env = {k: v for k, v in os.environ.items()
           if k not in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "SYMFT_BLAS_THREADS")}
    if not policy:
        env["SYMFT_BLAS_THREADS"] = "none"
    out = subprocess.run([sys.executable, "-c", CHILD, what, str(n)], env=env, check=True,
                         capture_output=True, text=True).stdout
    return float(out.split()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=28, help="width of the enumerated layer")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    print(f"{'engine':<34} {'BLAS':<22} {'runs (s)':<30} {'range (s)':>15}")
    for what, label in (("enumeration", f"enumeration, 2^{args.n} configs"),
                        ("enclosure", "enclosure [64,128,64,10] order 2"),
                        ("sampling", "monte_carlo digits, 1e6 samples")):
        for policy in (False, True):
            ts = [once(what, args.n, policy) for _ in range(args.runs)]
            name = "one thread (policy)" if policy else "library default"
            print(f"{label:<34} {name:<22} {' '.join(f'{t:.2f}' for t in ts):<30} "
                  f"{min(ts):6.2f} – {max(ts):6.2f}", flush=True)


if __name__ == "__main__":
    main()
