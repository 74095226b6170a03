"""Accuracy under crashes over the digits test set: a rigorous answer, and how long it takes.

examples/digits_sigmoid.json on the test part of scikit-learn's digits as
examples/train_digits.py splits it (symft.io.datasets.load_dataset("digits"):
450 images), crashes at both hidden layers at p = 1e-3,
symft.analysis.accuracy.accuracy with its defaults (method "auto").  Prints
the method, the intervals and the time; 3 runs, BLAS threads 1.  Target:
under 30 s with a rigorous (or exact) answer.  Also times the statistical
answer (stratified Monte Carlo, 20,000 configurations) for comparison.

Run from the repository root:  python benchmarks/bench_accuracy.py
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import time  # noqa: E402

from symft.analysis.accuracy import accuracy  # noqa: E402
from symft.faults import NeuronCrash  # noqa: E402
from symft.graph.netfile import load_network  # noqa: E402
from symft.io.datasets import load_dataset  # noqa: E402


def main():
    net = load_network("examples/digits_sigmoid.json")
    data = load_dataset("digits", net)
    model = NeuronCrash.hidden(net, 1e-3)
    print(f"network {net.name}, {data.n} inputs ({data.name}), p = 1e-3 at both hidden layers")
    for method in ("auto", "statistical"):
        times = []
        for run in range(3):
            t = time.perf_counter()
            r = accuracy(net, data.X, data.y, model, method=method)
            times.append(time.perf_counter() - t)
        print(f"{method:>11}: {r.method} (order {r.order}, tail {r.tail_probability:.3g}, "
              f"undecided {r.undecided:.3g}, confidence {r.confidence})")
        print(f"{'':>13}clean accuracy {r.clean_accuracy:.6f}  accuracy under crashes "
              f"[{r.accuracy_lo:.8f}, {r.accuracy_hi:.8f}]  P(change) [{r.change_lo:.3e}, {r.change_hi:.3e}]")
        print(f"{'':>13}time {min(times):.2f} … {max(times):.2f} s (3 runs); most at risk: "
              + ", ".join(f"#{a['index']} ({a['change_hi']:.2g})" for a in r.at_risk[:3]))


if __name__ == "__main__":
    main()
