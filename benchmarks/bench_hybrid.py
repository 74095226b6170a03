"""The hybrid estimate vs plain Monte Carlo, stratified Monte Carlo and the certified enclosure, at equal time.

Case: random_network([64, w, w, 10], seed=0, activation="sigmoid") (two sigmoid hidden layers of width
w, 10 outputs), one standard-normal input (seed 0), neuron crashes at p = 1e-3 at both hidden layers,
w = 64, 128, 256.

Methods, each given the wall time the hybrid took (plain and stratified: their budget calibrated from a
short timed run, then any remaining mismatch corrected by ``sqrt(t / t_hybrid)`` on the width, as a
sampler's width shrinks like ``1/sqrt(time)``):

* ``hybrid`` — :func:`symft.analysis.hybrid.hybrid_estimate`, budget ``3 × C`` (``C`` the
  configurations with ≤ 2 crashes), so ``order="auto"`` proves every configuration with ≤ 2 crashes
  and draws ``2 × C`` configurations from the strata above;
* ``hybrid + ctl`` — the same with the single-crash control variate in the sampled strata;
* ``plain`` — :func:`symft.engines.sampling.monte_carlo` (draws only configurations with a failure);
* ``stratified`` — :func:`symft.engines.stratified.stratified_monte_carlo` as shipped (strata small
  enough enumerated in float64, the rest sampled; no proof);
* ``enclosure`` — :func:`symft.engines.enclosure.enclosure` at order 2 (everything proved: the tail
  above 2 crashes bounded, not sampled); its time is about the hybrid's proved part.

Printed per width: for each method the range over the runs of the seconds, the width of the widest
output's interval, and the ratio ``width(method at the hybrid's time) / width(hybrid)`` (> 1: the hybrid
is narrower).  The hybrid's interval is "proved for ≤ 2 crashes, statistical (95%) for the rest"; the
enclosure's is proved; plain and stratified are statistical (95%).

Measured (two runs of 3 seeds on a shared 2-core machine at load 2–14; ratios at the hybrid's time):
plain / hybrid 112–193 (w = 64), 40.2–49.5 (128), 14.4–20.6 (256); stratified / hybrid 0.49–1.67,
0.55–1.11, 1.1–7 (the stratified sampler enumerates the same low strata in float64, unproved, when its
budget allows); enclosure / hybrid 150–154, 371–372, 998; the single-crash control makes the hybrid
33–74× narrower still.  See benchmarks/README.md.

BLAS threads are fixed to 1.  Run from the repository root:
``python benchmarks/bench_hybrid.py [--widths 64 128 256] [--seeds 1 2 3]``.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

from symft.analysis.hybrid import hybrid_estimate  # noqa: E402
from symft.engines.enclosure import enclosure  # noqa: E402
from symft.engines.enumeration import count_configurations  # noqa: E402
from symft.engines.sampling import SamplingWarning, monte_carlo  # noqa: E402
from symft.engines.stratified import stratified_monte_carlo  # noqa: E402
from symft.faults import NeuronCrash  # noqa: E402
from symft.graph.network import random_network  # noqa: E402


def widest(lo, hi):
    return max(h - l for l, h in zip(np.ravel(lo), np.ravel(hi)))


def timed(f):
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)
        r = f()
    return r, time.perf_counter() - t


def calibrate(run, t_target, n0):
    """A budget that takes about ``t_target`` seconds: two timed runs (a short one, then a corrected one)."""
    _, t0 = timed(lambda: run(n0))
    n1 = max(n0, int(n0 * t_target / max(t0, 1e-3)))
    _, t1 = timed(lambda: run(n1))
    return max(n0, int(n1 * t_target / max(t1, 1e-3)))


def case(w, seeds):
    net = random_network([64, w, w, 10], seed=0, activation="sigmoid")
    x = np.random.default_rng(0).standard_normal(64)
    m = NeuronCrash({1: 1e-3, 2: 1e-3})
    C = count_configurations(net, m, 2)
    rows = {k: [] for k in ("hybrid", "hybrid + ctl", "plain", "stratified", "enclosure")}
    print(f"\nwidth {w}: {2 * w} neurons may crash at p = 1e-3; {C} configurations with ≤ 2 crashes")
    for seed in seeds:
        h, th = timed(lambda: hybrid_estimate(net, x, m, 3 * C, seed))
        rows["hybrid"].append((th, widest(h.low, h.high), 1.0))
        wh = widest(h.low, h.high)
        hc, tc = timed(lambda: hybrid_estimate(net, x, m, 3 * C, seed, control="single_crash"))
        rows["hybrid + ctl"].append((tc, widest(hc.low, hc.high), widest(hc.low, hc.high) * math.sqrt(tc / th) / wh))
        n = calibrate(lambda k: monte_carlo(net, x, m, k, seed=seed, show_progress=False), th, 20000)
        q, tq = timed(lambda: monte_carlo(net, x, m, n, seed=seed, show_progress=False))
        wq = widest(q.ci_low, q.ci_high) * math.sqrt(tq / th)
        rows["plain"].append((tq, widest(q.ci_low, q.ci_high), wq / wh))
        n = calibrate(lambda k: stratified_monte_carlo(net, x, m, k, seed=seed), th, 4000)
        s, ts = timed(lambda: stratified_monte_carlo(net, x, m, n, seed=seed))
        ws = widest(s.ci_low, s.ci_high) * math.sqrt(ts / th)
        rows["stratified"].append((ts, widest(s.ci_low, s.ci_high), ws / wh))
        e, te = timed(lambda: enclosure(net, x, m, order=2, progress=False))
        rows["enclosure"].append((te, widest(e.mean_lo, e.mean_hi), widest(e.mean_lo, e.mean_hi) / wh))
        print(f"  seed {seed}: hybrid order {h.order}, {h.proved_configurations} proved + {h.sampled_draws} drawn "
              f"(P(K > 2) = {h.sampled_probability:.3g}); plain {q.crashed_samples} draws with a failure; "
              f"stratified {s.crashed_samples} drawn + {s.enumerated_configurations} enumerated")
    print(f"  {'method':<14} {'seconds':>17} {'widest interval':>23} {'ratio to hybrid at equal time':>32}")
    for k, v in rows.items():
        t, wd, r = zip(*v)
        print(f"  {k:<14} {min(t):7.3g} … {max(t):<7.3g} {min(wd):10.3g} … {max(wd):<10.3g} "
              f"{min(r):14.3g} … {max(r):<10.3g}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--widths", type=int, nargs="+", default=[64, 128, 256])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    a = ap.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f} (2 cores, shared)")
    for w in a.widths:
        case(w, a.seeds)
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
