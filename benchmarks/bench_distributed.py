"""Accuracy against the crash probability over the digits test set, one process vs 2 local Dask workers.

examples/digits_sigmoid.json on the test part of the digits (450 images, symft.io.datasets.load_dataset),
a 13-point sweep p = 1e-4 … 1e-1 at both hidden layers, method "auto" (rigorous at small p, stratified
Monte Carlo at large p), in three ways:

1. symft.analysis.sweep.sweep in this process;
2. this machine's ceiling: two independent plain processes at once, each the plain sweep of half the points
   (split by the seconds each point took in 1, longest first), no Dask — what 2 cores give this work at best;
3. symft.distributed.sweep on a LocalCluster of 2 worker processes (--scheduler processes --workers 2): each
   point's accuracy and E|Δ| a task, and a sampled one hands its blocks of draws and its Clopper–Pearson limits
   to the cluster as pieces.

Prints wall times (the cluster's start-up separately) and CPU-seconds (this process plus its children or
the workers): on a shared machine the wall clock says little, and the CPU ratio says what the overhead is.
For the one-process sweep also the user and system CPU-seconds and the page faults (``ru_minflt``).  The
processes here keep the memory they free, as the ``symft`` command does (:func:`symft.allocator.keep_freed_memory`);
``--glibc-default`` leaves glibc's thresholds alone (each block of a batched pass then faults its pages in
afresh: about a fifth of the one-process CPU time, in the kernel).
Then the speed-ups, and whether every point is identical (it must be: the pieces are pure and merged in a
fixed order).  Also one accuracy at p = 1e-3 split in chunks of 128 inputs, in-process vs the 2 workers.
BLAS threads 1.  Target: at least 1.7x on 2 cores.

Run from the repository root:  python benchmarks/bench_distributed.py [--runs 3] [--workers 2]
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

from symft import distributed as D  # noqa: E402
from symft.analysis.accuracy import accuracy  # noqa: E402
from symft.allocator import keep_freed_memory  # noqa: E402
from symft.analysis.sweep import probability_grid, sweep  # noqa: E402
from symft.faults import NeuronCrash  # noqa: E402
from symft.graph.netfile import load_network  # noqa: E402
from symft.io.datasets import load_dataset  # noqa: E402

NET = "examples/digits_sigmoid.json"
GRID = "1e-4:1e-1:13"
TARGET = 1.7
_GLIBC_DEFAULT = False


def _strip(d):
    if isinstance(d, dict):
        return {k: _strip(v) for k, v in d.items() if k != "seconds"}
    if isinstance(d, list):
        return [_strip(v) for v in d]
    return d


def _cpu():
    t = os.times()
    return t.user + t.system


def _usage():
    """(user, system) CPU-seconds and page faults of this process so far."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime, r.ru_stime, r.ru_minflt


def _children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _rng(ts, unit=" s"):
    return f"{min(ts):6.2f} … {max(ts):6.2f}{unit}"


def _med(v):
    return sorted(v)[len(v) // 2]


def _child(points, glibc_default):
    """One half of the ceiling run: load, say ready, wait for the start line, sweep, print the points."""
    if not glibc_default:
        keep_freed_memory()
    net = load_network(NET)
    data = load_dataset("digits", net)
    print("ready", flush=True)
    sys.stdin.readline()
    c, t = _cpu(), time.perf_counter()
    r = sweep(net, data.X, data.y, points)
    print(json.dumps({"wall": time.perf_counter() - t, "cpu": _cpu() - c, "points": _strip(r.as_dict())["points"]}),
          flush=True)


def _halves(points, seconds):
    """Two lists of points of about equal total seconds (longest first, each to the lighter half)."""
    out, tot = ([], []), [0.0, 0.0]
    for q, s in sorted(zip(points, seconds), key=lambda v: -v[1]):
        i = 0 if tot[0] <= tot[1] else 1
        out[i].append(q)
        tot[i] += s
    return [sorted(h) for h in out], tot


def _ceiling(halves):
    """Two plain sweeps at once, in two fresh processes: (wall of the slower, CPU of both, their points)."""
    procs = [subprocess.Popen([sys.executable, __file__, "--child", ",".join(map(repr, h))]
                              + (["--glibc-default"] if _GLIBC_DEFAULT else []),
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for h in halves]
    for p in procs:
        assert p.stdout.readline().strip() == "ready"
    t = time.perf_counter()
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    res = [json.loads(p.stdout.readline()) for p in procs]
    wall = time.perf_counter() - t
    for p in procs:
        p.wait()
    return wall, sum(r["cpu"] for r in res), [r["points"] for r in res]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--skip", default="", help="comma-separated parts to skip: ceiling, cluster, accuracy")
    ap.add_argument("--glibc-default", action="store_true",
                    help="leave glibc's malloc thresholds alone (default: keep freed memory, as the symft command)")
    a = ap.parse_args()
    if a.child:
        return _child([float(v) for v in a.child.split(",")], a.glibc_default)
    global _GLIBC_DEFAULT
    _GLIBC_DEFAULT = a.glibc_default
    kept = False if a.glibc_default else keep_freed_memory()
    skip = set(filter(None, a.skip.split(",")))
    net = load_network(NET)
    data = load_dataset("digits", net)
    probs = probability_grid(GRID)
    print(f"network {net.name}, {data.n} inputs ({data.name}); sweep of {len(probs)} points p = 1e-4 … 1e-1 "
          f"at both hidden layers; {a.runs} runs; load average {os.getloadavg()[0]:.1f} at start "
          f"({os.cpu_count()} CPUs); freed memory {'kept' if kept else 'handed back (glibc default)'}")
    one, cpu1, usr, sys_, flt = [], [], [], [], []
    ref = None
    for _ in range(a.runs):
        t, c, u = time.perf_counter(), _cpu(), _usage()
        r = sweep(net, data.X, data.y, probs)
        one.append(time.perf_counter() - t)
        cpu1.append(_cpu() - c)
        u1 = _usage()
        usr.append(u1[0] - u[0])
        sys_.append(u1[1] - u[1])
        flt.append(u1[2] - u[2])
        ref = ref or r
    print(f"  sweep, one process              {_rng(one)}  (CPU {_rng(cpu1)}: user {_rng(usr)}, system "
          f"{_rng(sys_)}; page faults {min(flt):,} … {max(flt):,})")
    print("  methods: " + " ".join(pt["method"][0] + pt["abs_method"][0] for pt in ref.points)
          + "  (accuracy and E|Δ| of each point: e = exact, r = rigorous, s = statistical)")

    if "ceiling" not in skip:
        halves, tot = _halves(probs, [pt["seconds"] for pt in ref.points])
        walls, cpus, same = [], [], True
        for _ in range(a.runs):
            w, c, pts = _ceiling(halves)
            walls.append(w)
            cpus.append(c)
            got = {pt["p"]: pt for h in pts for pt in h}
            same &= [got[q] for q in probs] == _strip(ref.as_dict())["points"]
        ceil = _med(one) / _med(walls)
        print(f"  two plain processes at once     {_rng(walls)}  (CPU of both {_rng(cpus)}; halves of "
              f"{tot[0]:.1f} s and {tot[1]:.1f} s of points; identical points: {same})")
        print(f"  this machine's ceiling (medians) {ceil:.2f}x; CPU-seconds ratio (two processes / one) "
              f"{_med(cpus) / _med(cpu1):.2f}"
              + (f"  -- below the {TARGET}x target: at this load no scheduler can reach it here" if ceil < TARGET
                 else ""))

    if "cluster" not in skip:
        dist, start, cpu2, cpuc = [], [], [], []
        same = True
        for _ in range(a.runs):
            t = time.perf_counter()
            with D.Scheduler("processes", workers=a.workers, show_progress=False) as s:
                start.append(time.perf_counter() - t)
                w0, c = s.client.run(_cpu), _cpu()
                t1 = time.perf_counter()
                r = D.sweep(net, data.X, data.y, probs, scheduler=s)
                dist.append(time.perf_counter() - t1)
                w1, c1 = s.client.run(_cpu), _cpu()
                cpuc.append(c1 - c)
                cpu2.append(c1 - c + sum(w1[k] - w0[k] for k in w0))
            same &= _strip(r.as_dict()) == _strip(ref.as_dict())
        print(f"  sweep, {a.workers} worker processes       {_rng(dist)}  (+ cluster start {_rng(start)}; CPU of "
              f"client and workers {_rng(cpu2)}, of the client (scheduler) alone {_rng(cpuc)})")
        print(f"  speed-up (medians)              {_med(one) / _med(dist):.2f}x; CPU-seconds ratio (medians, "
              f"cluster / one process) {_med(cpu2) / _med(cpu1):.2f}; identical points: {same}")

    if "accuracy" not in skip:
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
    print(f"load average {os.getloadavg()[0]:.1f} at the end; on a shared machine only the CPU-seconds mean much")


if __name__ == "__main__":
    main()
