"""Accuracy against the crash probability over the digits test set, one process vs 2 local Dask workers.

examples/digits_sigmoid.json on the test part of the digits (450 images, symft.io.datasets.load_dataset),
a 13-point sweep p = 1e-4 … 1e-1 at both hidden layers, method "auto" (rigorous at small p, stratified
Monte Carlo at large p): symft.analysis.sweep.sweep in this process, then symft.distributed.sweep on a
LocalCluster of 2 worker processes (--scheduler processes --workers 2): each point's accuracy and E|Δ| a
task, and a sampled one hands its blocks of draws and its Clopper–Pearson limits to the cluster as pieces.
Prints the times (the cluster's start-up separately), the CPU-seconds (this process plus the workers; on a
shared machine their ratio says what the overhead is when the wall clock cannot), the speed-up, and whether
every point is identical (it must be: the pieces are pure and merged in a fixed order).  Also one accuracy at p = 1e-3 split in
chunks of 128 inputs, in-process vs the 2 workers.  BLAS threads 1.  Target: at least 1.7x on 2 cores.

Run from the repository root:  python benchmarks/bench_distributed.py [--runs 3] [--workers 2]
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import time  # noqa: E402

from symft import distributed as D  # noqa: E402
from symft.analysis.accuracy import accuracy  # noqa: E402
from symft.analysis.sweep import probability_grid, sweep  # noqa: E402
from symft.faults import NeuronCrash  # noqa: E402
from symft.graph.netfile import load_network  # noqa: E402
from symft.io.datasets import load_dataset  # noqa: E402


def _strip(d):
    if isinstance(d, dict):
        return {k: _strip(v) for k, v in d.items() if k != "seconds"}
    if isinstance(d, list):
        return [_strip(v) for v in d]
    return d


def _cpu():
    t = os.times()
    return t.user + t.system


def _rng(ts):
    return f"{min(ts):6.2f} … {max(ts):6.2f} s"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args()
    net = load_network("examples/digits_sigmoid.json")
    data = load_dataset("digits", net)
    probs = probability_grid("1e-4:1e-1:13")
    print(f"network {net.name}, {data.n} inputs ({data.name}); sweep of {len(probs)} points p = 1e-4 … 1e-1 "
          f"at both hidden layers; {a.runs} runs; load average {os.getloadavg()[0]:.1f} at start")
    one, dist, start, cpu1, cpu2 = [], [], [], [], []
    ref = None
    for _ in range(a.runs):
        t, c = time.perf_counter(), _cpu()
        r = sweep(net, data.X, data.y, probs)
        one.append(time.perf_counter() - t)
        cpu1.append(_cpu() - c)
        ref = ref or r
    same = True
    for _ in range(a.runs):
        t = time.perf_counter()
        with D.Scheduler("processes", workers=a.workers, show_progress=False) as s:
            t1 = time.perf_counter()
            start.append(t1 - t)
            w0, c = s.client.run(_cpu), _cpu()
            t1 = time.perf_counter()
            r = D.sweep(net, data.X, data.y, probs, scheduler=s)
            dist.append(time.perf_counter() - t1)
            w1 = s.client.run(_cpu)
            cpu2.append(_cpu() - c + sum(w1[k] - w0[k] for k in w0))
        same &= _strip(r.as_dict()) == _strip(ref.as_dict())
    med = lambda v: sorted(v)[len(v) // 2]  # noqa: E731
    print(f"  sweep, one process              {_rng(one)}  (CPU {_rng(cpu1)})")
    print(f"  sweep, {a.workers} worker processes       {_rng(dist)}  (+ cluster start {_rng(start)}; CPU of "
          f"client and workers {_rng(cpu2)})")
    print(f"  speed-up (medians)              {med(one) / med(dist):.2f}x; CPU-seconds ratio (medians, "
          f"cluster / one process) {med(cpu2) / med(cpu1):.2f}; identical points: {same}")
    print("  methods: " + " ".join(pt["method"][0] for pt in ref.points) + "  (r = rigorous, s = statistical)")

    model = NeuronCrash.hidden(net, 1e-3)
    one, dist = [], []
    for _ in range(a.runs):
        t = time.perf_counter()
        r1 = D.accuracy(net, data.X, data.y, model)
        one.append(time.perf_counter() - t)
    plain = accuracy(net, data.X, data.y, model)
    with D.Scheduler("processes", workers=a.workers, show_progress=False) as s:
        for _ in range(a.runs):
            t = time.perf_counter()
            r2 = D.accuracy(net, data.X, data.y, model, scheduler=s)
            dist.append(time.perf_counter() - t)
    print(f"accuracy at p = 1e-3 in chunks of {D.INPUT_CHUNK} inputs: {r1.method}, P(change) "
          f"[{r1.change_lo:.6e}, {r1.change_hi:.6e}] (one call: [{plain.change_lo:.6e}, {plain.change_hi:.6e}])")
    print(f"  in-process                      {_rng(one)}")
    print(f"  {a.workers} worker processes              {_rng(dist)}; identical: "
          f"{_strip(r1.as_dict()) == _strip(r2.as_dict())}")


if __name__ == "__main__":
    main()
