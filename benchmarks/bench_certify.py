"""`symft certify` on the digits network (crashes at every hidden layer, p = 1e-3), timed.

Runs the CLI in a subprocess (the time a user sees, including start-up) for a
rigorous certificate (source auto → rigorous enclosure), then P5 as printed
(T1 + δ_0, approximate), and prints both bounds next to a Monte Carlo
Clopper–Pearson interval of the true tail probability max_k P{Δ_k ≥ ε}: a
valid bound must lie above it.  The issue's bar: ≤ 10 s with a rigorous
certificate.

Run from the repository root:  python benchmarks/bench_certify.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np

from symft.faults import NeuronCrash
from symft.graph.netfile import load_network
from symft.engines.sampling import monte_carlo

NET, INPUT, P, EPS, DELTA = "examples/digits_sigmoid.json", "@examples/digit0.csv", "1e-3", "1.0", "0.05"


def run(*extra):
    cmd = [sys.executable, "-m", "symft", "certify", NET, "--input", INPUT, "--p", P, "--eps", EPS,
           "--delta", DELTA, "--json", *extra]
    t = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return time.perf_counter() - t, json.loads(out)


def main():
    print(f"symft certify {NET} --input {INPUT} --p {P} --eps {EPS} --delta {DELTA}")
    print(f"{'source':<10} {'seconds':>8} {'certified':>9} {'rigorous':>8} {'delta_bound':>12}  method")
    for extra in ((), ("--source", "taylor"), ("--source", "t1")):
        t, c = run(*extra)
        label = extra[1] if extra else "auto"
        print(f"{label:<10} {t:>8.2f} {str(c['certified']):>9} {str(c['rigorous']):>8} {c['delta_bound']:>12.5g}"
              f"  {c['method']}")
    net = load_network(NET)
    x = np.loadtxt(INPUT[1:], delimiter=",")
    r = monte_carlo(net, x, NeuronCrash.hidden(net, float(P)), 1_000_000, seed=0, eps=float(EPS),
                    show_progress=False)
    his = [r.tail_interval(k, sided="upper", confidence=0.99) for k in range(net.n_outputs)]
    k = int(np.argmax([h[1] for h in his]))
    print(f"Monte Carlo (10^6 samples, seed 0): max_k P(Δ_k ≥ {EPS}) ∈ [{his[k][0]:.3g}, {his[k][1]:.3g}] "
          f"(99% Clopper–Pearson, output {k})")


if __name__ == "__main__":
    main()
