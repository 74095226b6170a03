"""Benchmark of the SUBSET SUM solvers and the P1 reduction, side by side (issue 5).

1. Random SUBSET SUM with M = 40 and |a_i| ≤ 1e9 (plus one planted-yes and one known-no
   instance of the same size): meet in the middle, Z3 (pseudo-boolean PbEq) and SAT through
   python-sat PB encodings (adder) with Glucose 4 and CaDiCaL 1.5.3, on the same instances, with a
   per-solver timeout. Every witness is re-checked; the answers must agree (an *unknown* — a
   timeout — is reported as such, never as "no").
2. A scaling table: M = 16 … 40 with |a_i| ≤ 1e3 and ≤ 1e9, where the solvers are competitive.
3. The P1 reduction: the corrected network decides random instances (2^M enumeration, exact
   E Δ) and agrees with the solvers; the Z3 query on the crashed network for comparison.

Run from the repository root: ``python benchmarks/bench_reductions.py [--timeout S]``
(a few minutes with the default timeout of 20 s).
"""

from __future__ import annotations

import argparse
import time

from reductions.p1 import check_instance
from reductions.subset_sum import (
    check_witness, known_no, planted_yes, random_instance, solve_meet_in_the_middle, solve_sat, solve_z3,
)


def run_all(inst, timeout):
    rows = [solve_meet_in_the_middle(inst),
            solve_z3(inst, timeout=timeout),
            solve_sat(inst, solver="glucose4", timeout=timeout),
            solve_sat(inst, solver="cadical153", timeout=timeout)]
    for r in rows:
        if r.answer:
            assert check_witness(inst.a, r.witness), r
    known = {r.answer for r in rows if r.answer is not None}
    assert len(known) <= 1, f"solvers disagree on {inst}: {rows}"
    return rows


def fmt(r):
    s = {True: "yes", False: "no", None: "unknown"}[r.answer]
    return f"{s:>7} {r.seconds:8.2f}s"


def table(instances, timeout, title):
    print(f"\n{title}")
    print(f"{'instance':<26} {'meet-in-middle':>17} {'z3 (PbEq)':>17} {'sat:glucose4':>17} {'sat:cadical153':>17}  agree")
    for name, inst in instances:
        rows = run_all(inst, timeout)
        agree = "yes" if len({r.answer for r in rows if r.answer is not None}) <= 1 else "NO"
        print(f"{name:<26} " + " ".join(f"{fmt(r):>17}" for r in rows) + f"  {agree}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeout", type=float, default=20.0, help="per-solver timeout (s)")
    args = ap.parse_args()
    T = args.timeout
    print(f"SUBSET SUM solvers (timeout {T:g} s per solver; 'unknown' = timed out, never 'no')")
    insts = [(f"random M=40 1e9 seed={s}", random_instance(40, 10 ** 9, seed=s)) for s in (1, 2)]
    insts += [("planted-yes M=40 1e9", planted_yes(40, 10 ** 9, seed=3)),
              ("known-no M=40 1e9", known_no(40, 10 ** 9, seed=4))]
    table(insts, T, "1. M = 40, |a_i| <= 1e9")
    sc = []
    for M in (16, 20, 24, 30, 40):
        sc.append((f"random M={M} 1e3", random_instance(M, 10 ** 3, seed=M)))
    for M in (16, 20, 24):
        sc.append((f"random M={M} 1e9", random_instance(M, 10 ** 9, seed=M)))
        sc.append((f"known-no M={M} 1e9", known_no(M, 10 ** 9, seed=M)))
    table(sc, T, "2. scaling")

    print("\n3. P1 reduction (corrected: fixed ramp, E Δ compared with p^M, p = 1/10)")
    for M, n in ((8, 300), (12, 100)):
        t0 = time.perf_counter()
        agree = 0
        for s in range(n):
            inst = [random_instance, planted_yes, known_no][s % 3](M, 20 if M == 8 else 200, seed=s)
            agree += check_instance(inst, solvers=("meet-in-the-middle",)).agree
        dt = time.perf_counter() - t0
        print(f"   M = {M:2d}: {n} instances, network (2^{M} configurations, exact E Δ) agrees with the "
              f"solvers on {agree}/{n}   {dt / n * 1e3:7.2f} ms per instance")
    t0 = time.perf_counter()
    ok = 0
    for s in range(30):
        inst = [random_instance, planted_yes, known_no][s % 3](12, 200, seed=s)
        ok += check_instance(inst, method="solver", solvers=("meet-in-the-middle",)).agree
    print(f"   M = 12: Z3 on the crashed network (≤ M−1 input crashes, |Δ| ≥ 1/2): agrees on {ok}/30   "
          f"{(time.perf_counter() - t0) / 30 * 1e3:7.2f} ms per instance")


if __name__ == "__main__":
    main()
