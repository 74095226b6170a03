"""Cost table: seconds to reach a mean-interval width W, against W and p, for each method; pruning; time budgets.

Methods (every interval is of ``E Δ``; "width" is the widest output's ``hi − lo``):

* ``exact`` — :func:`symft.engines.enumeration.enumerate_crashes` over every configuration (float64
  engine): its cost does not depend on W; beyond 2^24 configurations the time is the measured rate
  extrapolated (marked ``~``);
* ``enclosure`` — :func:`symft.engines.enclosure.enclosure` with ``order="auto", width=W`` (proved,
  rounding included), with pruning (default) and ``prune=False``; "refused" when the width is out of reach
  or needs more than 30 s by its own estimate;
* ``hybrid`` — :func:`symft.analysis.hybrid.hybrid_estimate` (configurations with ≤ k crashes proved, the
  rest sampled by strata; statistical, 95 %), ``stratified`` —
  :func:`symft.engines.stratified.stratified_monte_carlo` (statistical, 95 %) and ``plain`` —
  :func:`symft.engines.sampling.monte_carlo` (statistical, 95 %): each run once with a pilot budget,
  its width and seconds measured, and the cost of width W extrapolated from the pilot with the
  sampler's ``1/√draws`` law (``t(W) = t_fixed + t_draws · (w_pilot / W)²``, the hybrid's proved part
  being ``t_fixed``); marked ``~``.  One point per sampler is then run at the extrapolated budget and
  its achieved width printed, to check the law.

Cases: sigmoid ``[8, 10, 10, 2]`` (20 crashable neurons: exact enumeration is 2^20 configurations),
sigmoid ``[64, 64, 64, 10]`` (128 neurons) and relu ``[16, 48, 48, 4]`` (96 neurons, first-order tail:
where pruning acts), crashes at both hidden layers with p = 1e-3, 1e-2, 1e-1; widths 1e-2, 1e-4, 1e-6.

Then the time budget (``order="auto", time_limit=T``): seconds used ÷ T, the order reached, the
configurations pruned and the width, with and without pruning.

Everything runs in one process with BLAS threads set to 1 before NumPy loads; each number is a range
over ``--runs`` runs (default 3).  Run from the repository root:
``python benchmarks/bench_cost_table.py [--runs 3] [--quick]``.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from symft.analysis.hybrid import hybrid_estimate  # noqa: E402
from symft.engines.enclosure import enclosure  # noqa: E402
from symft.engines.enumeration import enumerate_crashes  # noqa: E402
from symft.engines.sampling import monte_carlo  # noqa: E402
from symft.engines.stratified import stratified_monte_carlo  # noqa: E402
from symft.errors import TooLargeError  # noqa: E402
from symft.faults import NeuronCrash  # noqa: E402
from symft.graph.network import random_network  # noqa: E402

WIDTHS = (1e-2, 1e-4, 1e-6)
PS = (1e-3, 1e-2, 1e-1)


def widest(lo, hi):
    return float(max(h - l for l, h in zip(np.ravel(lo), np.ravel(hi))))


def timed(f):
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = f()
    return r, time.perf_counter() - t


def cases(quick):
    yield "sigmoid [8,10,10,2]", random_network([8, 10, 10, 2], seed=0, activation="sigmoid"), \
        np.random.default_rng(1).normal(size=8), 20
    if not quick:
        yield "sigmoid [64,64,64,10]", random_network([64, 64, 64, 10], seed=0, activation="sigmoid"), \
            np.random.default_rng(1).normal(size=64), 128
    yield "relu [16,48,48,4]", random_network([16, 48, 48, 4], seed=0, activation="relu"), \
        np.random.default_rng(1).normal(size=16), 96


def rng_text(v, fmt="{:.3g}"):
    v = [x for x in v if x is not None]
    if not v:
        return "—"
    lo, hi = min(v), max(v)
    return fmt.format(lo) if lo == hi or fmt.format(lo) == fmt.format(hi) else f"{fmt.format(lo)}–{fmt.format(hi)}"


def exact_cost(net, x, m, N):
    if N <= 24:
        _, t = timed(lambda: enumerate_crashes(net, x, m, exact=False))
        return t, ""
    return None, f"2^{N} configurations: out of reach"


def enclosure_cost(net, x, m, W, prune):
    try:
        e, t = timed(lambda: enclosure(net, x, m, order="auto", width=W, time_limit=30.0, prune=prune,
                                       progress=False))
    except TooLargeError as err:
        return None, "refused: " + ("out of reach" if "out of reach" in str(err) else
                                    "limit" if "limit" in str(err) else "over 30 s (its estimate)"), None
    return t, f"order {e.order}, {e.configurations} evaluated, {e.pruned} pruned", widest(e.mean_lo, e.mean_hi)


def sampler_pilot(kind, net, x, m, seed):
    """(t_fixed, t_draws, width) of one pilot run."""
    if kind == "plain":
        n = 20000
        r, t = timed(lambda: monte_carlo(net, x, m, n, seed=seed, show_progress=False))
        return 0.0, t, widest(r.ci_low, r.ci_high), n
    if kind == "stratified":
        n = 20000
        r, t = timed(lambda: stratified_monte_carlo(net, x, m, n, seed=seed))
        return 0.0, t, widest(r.ci_low, r.ci_high), n
    n = 20000
    r, t = timed(lambda: hybrid_estimate(net, x, m, n, seed))
    # the proved part's share of the time: its configurations at the enclosure's rate are a small part;
    # time an order-k enclosure for it (the hybrid proves the same configurations)
    _, tp = timed(lambda: enclosure(net, x, m, order=r.order, progress=False))
    stat = widest(r.stat_low, r.stat_high)
    return min(tp, t), max(t - tp, 1e-3), (stat if r.sampled_draws else widest(r.low, r.high)), n, r


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="skip the 128-neuron net")
    ap.add_argument("--no-time", action="store_true", help="skip the time-budget part")
    ap.add_argument("--only-time", action="store_true", help="the time-budget part only")
    a = ap.parse_args()
    print(f"load average at start: {os.getloadavg()}")
    for name, net, x, N in cases(a.quick):
        print(f"\n## {name}: {N} neurons may crash")
        for p in (() if a.only_time else PS):
            m = NeuronCrash({1: p, 2: p})
            ex = [exact_cost(net, x, m, N) for _ in range(a.runs)]
            mark = ex[0][1]
            print(f"\np = {p:g}   exact enumeration (every configuration): "
                  f"{mark if ex[0][0] is None else rng_text([t for t, _ in ex]) + ' s at any width'}")
            pil = {k: [] for k in ("plain", "stratified", "hybrid")}
            for run in range(a.runs):
                for k in pil:
                    pil[k].append(sampler_pilot(k, net, x, m, seed=run))
            hyb = pil["hybrid"][0][4]
            print(f"  pilots (20000 configurations each): plain width {rng_text([v[2] for v in pil['plain']])} "
                  f"in {rng_text([v[1] for v in pil['plain']])} s; stratified width "
                  f"{rng_text([v[2] for v in pil['stratified']])} in {rng_text([v[1] for v in pil['stratified']])} s; "
                  f"hybrid (order {hyb.order}, {hyb.proved_configurations} proved, {hyb.sampled_draws} drawn, "
                  f"P(rest) = {hyb.sampled_probability:.3g}) statistical width "
                  f"{rng_text([v[2] for v in pil['hybrid']])}, proved part {rng_text([v[0] for v in pil['hybrid']])} s"
                  f" + draws {rng_text([v[1] for v in pil['hybrid']])} s")
            print(f"  {'W':>6}  {'enclosure (pruned)':>28}  {'enclosure (no pruning)':>24}  {'hybrid':>12}  "
                  f"{'stratified':>12}  {'plain':>12}   fastest; fastest proved")
            for W in WIDTHS:
                enc = [enclosure_cost(net, x, m, W, True) for _ in range(a.runs)]
                enc0 = [enclosure_cost(net, x, m, W, False) for _ in range(a.runs)]
                cols = {}
                for k, v in pil.items():
                    ts = []
                    for row in v:
                        t_fix, t_draw, w_p = row[0], row[1], row[2]
                        ts.append(t_fix + (t_draw * (w_p / W) ** 2 if w_p > W else t_draw))
                    cols[k] = ts
                best = {"enclosure": min((t for t, _, _ in enc if t is not None), default=math.inf),
                        "exact": min((t for t, _ in ex if t is not None), default=math.inf)}
                best.update({k: min(v) for k, v in cols.items()})
                win = min(best, key=best.get)
                proved = min(("enclosure", "exact"), key=best.get)
                win = f"{win}; proved: {proved if math.isfinite(best[proved]) else 'none'}"

                def enc_text(rows):
                    ts = [t for t, _, _ in rows if t is not None]
                    if not ts:
                        return rows[0][1].replace(" (its estimate)", "")
                    return f"{rng_text(ts)} s ({rows[0][1].split(',')[0]}, {rng_text([r[2] for r in rows if r[2]])})"
                print(f"  {W:>6g}  {enc_text(enc):>28}  {enc_text(enc0):>24}  "
                      f"{'~' + rng_text(cols['hybrid']) + ' s':>12}  {'~' + rng_text(cols['stratified']) + ' s':>12}  "
                      f"{'~' + rng_text(cols['plain']) + ' s':>12}   {win}")
                refusals = sorted({r[1] for r in enc + enc0 if r[0] is None})
                if refusals:
                    print(f"      refusals: {'; '.join(refusals)}")
                for r in enc:
                    if r[0] is not None and r[2] is not None and r[2] > W:
                        print(f"    !! enclosure width {r[2]:.3g} > {W:g}")
                if any(r[0] is not None for r in enc):
                    print(f"      pruned: {' | '.join(sorted({r[1] for r in enc if r[0] is not None}))}; "
                          f"no pruning: {' | '.join(sorted({r[1] for r in enc0 if r[0] is not None}))}")
            # check the 1/√draws law once: plain Monte Carlo at the budget predicted for the middle width
            t_fix, t_draw, w_p, n_p = pil["plain"][0][:4]
            W = next((w for w in WIDTHS if t_draw * (w_p / w) ** 2 <= 10.0 and w < w_p), None)
            if W is not None:
                n = int(n_p * (w_p / W) ** 2)
                r, t = timed(lambda: monte_carlo(net, x, m, n, seed=7, show_progress=False))
                print(f"  check of the extrapolation: plain Monte Carlo with {n} draws (predicted for W = {W:g}): "
                      f"width {widest(r.ci_low, r.ci_high):.3g} in {t:.3g} s (predicted {t_draw * (w_p / W) ** 2:.3g} s)")
        if not a.no_time:
            print("\n  time budget, p = 1e-2: seconds used / T, order reached, pruned, width")
            m = NeuronCrash({1: 1e-2, 2: 1e-2})
            for T in (0.5, 2.0, 5.0):
                for prune in (True, False):
                    rows = []
                    for _ in range(a.runs):
                        try:
                            e, t = timed(lambda: enclosure(net, x, m, order="auto", time_limit=T, prune=prune,
                                                           progress=False))
                            rows.append((t / T, e.order, e.pruned, widest(e.mean_lo, e.mean_hi)))
                        except TooLargeError:
                            rows.append(None)
                    ok = [r for r in rows if r]
                    if not ok:
                        print(f"  T = {T:g} s, {'pruning' if prune else 'no pruning'}: refused")
                        continue
                    print(f"  T = {T:g} s, {'pruning   ' if prune else 'no pruning'}: used {rng_text([r[0] for r in ok], '{:.2f}')}"
                          f" of T, order {rng_text([r[1] for r in ok], '{}')}, pruned {rng_text([r[2] for r in ok], '{}')}, "
                          f"width {rng_text([r[3] for r in ok])}")
    print(f"\nload average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
