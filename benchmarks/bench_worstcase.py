"""Benchmark of the exact worst case over crash sets (issue 5), side by side.

1. ReLU network [8, 24, 24, 1] (random, seed 0), one input: the exact max |Δ| over every crash set
   of at most 3 of the 48 hidden neurons (1 + 48 + C(48,2) + C(48,3) = 18,473 sets):
   Z3 over exact rationals (maximization by strict improvement) vs vectorized brute force (forward_masked + exact re-check),
   and which method "auto" picks. Also the decision version (is |Δ| ≥ ε?) by SMT on both sides of
   the maximum.
2. examples/digits_sigmoid.json (64-32-16-10, sigmoid), the 100 inputs of
   examples/digits_inputs.json: "does any set of at most 2 crashed hidden neurons change the
   predicted class?" Sigmoid is not piecewise linear, so the exact method is brute force over
   C(48,2) + 48 + 1 = 1,177 crash sets per input (float64, every near-tie re-checked in 60-digit
   arithmetic) — said so below, with the time per input and the number of inputs whose class
   can be changed. The same question answered for all 100 inputs in one batched forward_masked
   call gives the floor.
3. Forward Error Propagation beside the exact worst case on the ReLU net (ratio = tightness).
4. Graphs that are not chains: the residual MLP of the tests (SMT and brute force, at most 2 crashes at
   sites h1, h2) and examples/digits_cnn.onnx (brute force, at most 2 crashes among the 512 ReLU
   neurons of the convolution: 131,329 crash sets) beside forward_masked on the same crash sets.

Run from the repository root: ``python benchmarks/bench_worstcase.py [--timeout S]``.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from symft.analysis.fep import fep_report
from symft.engines.forward import forward_masked, forward_trace
from symft.graph.netfile import load_network
from symft.graph.network import random_network
from symft.worstcase import choose_method, class_change, crash_space, exists_crash, worst_case


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeout", type=float, default=600.0, help="SMT timeout (s)")
    args = ap.parse_args()

    print("1. worst case, ReLU [8, 24, 24, 1], at most 3 crashes among the 48 hidden neurons")
    net = random_network([8, 24, 24, 1], seed=0, activation="relu")
    x = np.random.default_rng(0).normal(size=8)
    space = crash_space(net, 3)
    m, why = choose_method(net, space)
    print(f"   crash sets: {space.size}; auto picks: {m} ({why})")
    t0 = time.perf_counter()
    b = worst_case(net, x, max_crashes=3, method="brute-force")
    tb = time.perf_counter() - t0
    t0 = time.perf_counter()
    s = worst_case(net, x, max_crashes=3, method="smt", timeout=args.timeout)
    ts = time.perf_counter() - t0
    t0 = time.perf_counter()
    a = worst_case(net, x, max_crashes=3)
    ta = time.perf_counter() - t0
    print(f"   {'method':<22} {'status':<8} {'max |Δ|':>14} {'time':>9}  crash set")
    for name, r, t in (("brute force", b, tb), ("SMT (z3)", s, ts), ("auto → " + a.method, a, ta)):
        v = "-" if r.worst_delta is None else f"{float(r.worst_delta):.10g}"
        print(f"   {name:<22} {r.status:<8} {v:>14} {t:8.2f}s  {r.crash_set}")
    if s.status == "proved":
        print(f"   agree exactly: {s.worst_delta == b.worst_delta}; SMT / brute force time = {ts / tb:.0f}x")
    w = float(b.worst_delta)
    for eps in (0.99 * w, 1.01 * w):
        t0 = time.perf_counter()
        e = exists_crash(net, x, max_crashes=3, epsilon=eps, method="smt", timeout=args.timeout)
        print(f"   SMT: any crash set with |Δ| ≥ {eps:.6g}? {e.status} ({time.perf_counter() - t0:.2f}s)")

    print("\n2. digits_sigmoid: can at most 2 crashed hidden neurons change the predicted class? (100 inputs)")
    dnet = load_network("examples/digits_sigmoid.json")
    X = np.array(json.load(open("examples/digits_inputs.json"))["inputs"], dtype=float)[:100]
    sp2 = crash_space(dnet, 2)
    m, why = choose_method(dnet, sp2)
    print(f"   crash sets per input: {sp2.size}; method: {m} — {why}")
    t0 = time.perf_counter()
    found = []
    for i, xi in enumerate(X):
        r = class_change(dnet, xi, max_crashes=2)
        if r.status == "found":
            found.append(i)
    tc = time.perf_counter() - t0
    print(f"   class can change for {len(found)}/100 inputs (the others: proved impossible); "
          f"{tc:.2f}s total, {tc * 10:.1f} ms per input (includes exact re-checks)")
    # floor: one batched float64 forward pass over all crash sets and all inputs
    sets = list(sp2.iter_sets())
    masks = {l: np.zeros((len(sets), dnet.site_size(l)), dtype=bool) for l in sp2.layers}
    for p, cs in enumerate(sets):
        for l, i in cs:
            masks[l][p, i] = True
    t0 = time.perf_counter()
    out = forward_masked(dnet, X, masks)
    clean = forward_trace(dnet, X).output
    changed = (np.argmax(out, axis=2) != np.argmax(clean, axis=1)[None, :]).any(axis=0)
    tf = time.perf_counter() - t0
    print(f"   batched float64 floor (no re-check): {int(changed.sum())}/100 inputs, {tf:.2f}s "
          f"({tc / tf:.1f}x faster than the per-input exact answers)")

    print("\n3. Fep beside the exact worst case, ReLU [8, 24, 24, 1], C = max fault-free |y_l(x)|")
    for f in (1, 2, 3):
        t0 = time.perf_counter()
        r = fep_report(net, x, f)
        print(f"   f = {f}: Fep (max over allocations) = {float(r.fep):.6g} at {r.allocation}, exact worst = "
              f"{float(r.worst.worst_delta):.6g} ({r.worst.method}); ratio {r.ratio:.1f} "
              f"({time.perf_counter() - t0:.2f}s)")

    print("\n4. graphs that are not chains")
    res = load_network("tests/data/residual_mlp.json")
    xr = ["1", "-1/2", "2", "0"]
    for method in ("brute-force", "smt"):
        t0 = time.perf_counter()
        r = worst_case(res, xr, max_crashes=2, layers=["h1", "h2"], method=method)
        print(f"   residual MLP, ≤ 2 crashes at h1, h2 ({r.n_configurations} sets), {method:<12} {r.status} "
              f"max |Δ| = {r.worst_delta} ({time.perf_counter() - t0:.2f}s)")
    from symft.io.onnx import load_onnx

    cnn = load_onnx("examples/digits_cnn.onnx")
    img = np.load("examples/digit0_image.npy")
    t0 = time.perf_counter()
    r = worst_case(cnn, img.ravel(), max_crashes=2, layers=["features.1"], method="brute-force")
    tw = time.perf_counter() - t0
    sets = list(crash_space(cnn, 2, layers=["features.1"]).iter_sets())
    m = np.zeros((len(sets), 512), dtype=bool)
    for p, cs in enumerate(sets):
        for _, i in cs:
            m[p, i] = True
    t0 = time.perf_counter()
    out = forward_masked(cnn, img[None], {"features.1": m})
    tf = time.perf_counter() - t0
    print(f"   digits_cnn, ≤ 2 crashes among the 512 conv neurons ({len(sets)} sets): brute force {r.status} "
          f"max |Δ| ≈ {float(r.worst_delta):.10g} in {tw:.2f}s; forward_masked on the same sets "
          f"{float(np.max(np.abs(out - out[0]))):.10g} in {tf:.2f}s")


if __name__ == "__main__":
    main()
