"""Stratified Monte Carlo vs the plain sampler: confidence-interval half-width at equal time.

Cases: examples/digits_sigmoid.json on one digit (examples/digit0.csv) with
crashes at both hidden layers (32 + 16 neurons) at p = 1e-3, and the paper's
random net (random_network([3, 5, 1], seed=0, tanh), x = (0.1, 0.2, 0.3)) at
p = 1e-3 at the hidden layer, then at the input and the hidden layer.  The plain sampler is
symft.engines.sampling.monte_carlo, which already draws only configurations
with at least one failure (the crash-free ones contribute exactly 0); the
stratified one is symft.engines.stratified.stratified_monte_carlo, given the
same number of configurations, in five variants:

* ``as shipped`` — the default: strata with no more configurations than the
  draws they would get are *enumerated* (exact, no variance).  On both nets
  the strata with one and two failures hold > 99.9% of the mass and are
  small (48 and 1128 configurations on digits, 5 and 10 on the paper's net),
  so this variant wins by enumeration, not by sampling: the paper's net is
  enumerated outright (half-width 0).
* ``all sampled`` — ``enumerate_small=False``: stratification alone.  It
  does *not* win: at p = 1e-3 one stratum (one failure) holds > 97% of the
  mass given a failure, so stratifying by the number of failures removes
  almost none of the variance (the plain sampler's draws are already
  spread over the strata in proportion to their mass), and drawing exactly
  k positions costs about as much as the plain sampler's Bernoulli masks
  (measured: within 10%).  Ratio about 0.7–1.
* ``all sampled + first-order control`` — the same draws with T1's
  sensitivities as a control variate (``control="first_order"``: one
  reverse sweep; each draw is corrected by ``Σ_{i∈S} g_i`` minus its exact
  mean in the stratum, from the exact mean failure counts per group).  It
  removes the part of ``Δ`` linear in the crashes: on digits the
  conditional variance given one failure drops about 110× and given two
  about 57×.
* ``all sampled + single-crash control`` — ``control="single_crash"``: the
  exact effect of every unit failing alone (one forward pass per unit, 48
  on digits) as the control; the one-failure stratum then has no variance
  left (and gets only the minimum of draws: the allocation uses the spread
  of what the control leaves, the ``k (k − 1) / 2`` pair interactions), and
  given two failures the variance drops about 125×.
* ``as shipped + single-crash control`` — both.

Measured (3 seeds, BLAS threads 1, on a shared 2-core machine under load,
so the seconds are slow and noisy; ratios at equal time):

==============================  ===============  ==============  ==================
variant                         digits           paper's net     paper's net, input
                                                 (hidden)        and hidden
==============================  ===============  ==============  ==================
as shipped                      1.12e5 … 1.22e5  inf (enum.)     inf (enum.)
all sampled                     0.91 … 1.10      0.67 … 0.73     0.63 … 0.85
all sampled + first-order ctl   9.0 … 10.6       inf             14.7 … 18.1
all sampled + single-crash ctl  294 … 344        inf             303 … 521
as shipped + single-crash ctl   6.6e5 … 7.6e5    inf             inf
==============================  ===============  ==============  ==================

On the paper's net with crashes at the hidden layer only, that layer feeds
the linear output directly, so ``Δ`` is additive in the crashes and both
controls are exact (the intervals shrink to float rounding): ``inf`` there
says nothing about sampling.  The third case (crashes at the input too, all
at p = 1e-3: 8 units, 255 configurations, enumerated outright as shipped)
is not additive and shows the controls on a sampled stratum.  The
per-draw cost of the stratified sampler (drawing exactly k positions) is
within ±10% of the plain sampler's; the controls add 10–40% (a mask-times-
matrix product per block, and the setup passes).

Every variant is unbiased and its interval keeps its level (coverage of the
plain and stratified intervals is measured in tests/test_stratified.py and
tests/test_loss_engines.py).  The half-width at equal time is the plain one
scaled by ``sqrt(t_plain / t_variant)`` (what the plain sampler would reach in
the variant's time); ratio = that / the variant's half-width (largest over
outputs; ``inf`` when the variant is exact).  3 runs (seeds), BLAS threads 1.

Run from the repository root:  python benchmarks/bench_stratified.py
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import math  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

from symft.engines.sampling import SamplingWarning, monte_carlo  # noqa: E402
from symft.engines.stratified import stratified_monte_carlo  # noqa: E402
from symft.faults import NeuronCrash  # noqa: E402
from symft.graph.netfile import load_network  # noqa: E402
from symft.graph.network import random_network  # noqa: E402

VARIANTS = (("as shipped", dict()),
            ("all sampled", dict(enumerate_small=False)),
            ("all sampled + first-order ctl", dict(enumerate_small=False, control="first_order")),
            ("all sampled + single-crash ctl", dict(enumerate_small=False, control="single_crash")),
            ("as shipped + single-crash ctl", dict(control="single_crash")))


def half(r):
    return max((h - l) / 2 for l, h in zip(r.ci_low, r.ci_high))


def case(name, net, x, model, n_plain, seeds=(1, 2, 3)):
    print(f"\n{name}: n_plain = {n_plain}")
    print(f"{'seed':>4} {'method':<32} {'passes':>8} {'seconds':>8} {'half-width':>11} {'ratio@time':>11}")
    ratios = {label: [] for label, _ in VARIANTS}
    for seed in seeds:
        t = time.perf_counter()
        q = monte_carlo(net, x, model, n_plain, seed=seed, show_progress=False)
        tp = time.perf_counter() - t
        hp = half(q)
        print(f"{seed:>4} {'plain monte_carlo':<32} {q.crashed_samples:>8} {tp:>8.3f} {hp:>11.3e} {1:>11}")
        for label, kw in VARIANTS:
            t = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SamplingWarning)
                r = stratified_monte_carlo(net, x, model, q.crashed_samples, seed=seed, **kw)
            ts = time.perf_counter() - t
            hs = half(r)
            equal = hp * math.sqrt(tp / ts)
            ratio = equal / hs if hs > 1e-9 * max(abs(v) for v in r.mean + (1e-300,)) else math.inf
            ratios[label].append(ratio)
            passes = r.crashed_samples + r.enumerated_configurations
            print(f"{seed:>4} {label:<32} {passes:>8} {ts:>8.3f} {hs:>11.3e} {ratio:>11.3g}"
                  f"   ({r.method}; {r.crashed_samples} sampled, {r.enumerated_configurations} enumerated)")
    for label, rs in ratios.items():
        print(f"  {label:<32}: half-width ratio at equal time {min(rs):.3g} … {max(rs):.3g}")


def main():
    net = load_network("examples/digits_sigmoid.json")
    x = np.loadtxt("examples/digit0.csv", delimiter=",")
    case("digits_sigmoid, digit0, p = 1e-3 at both hidden layers", net, x, NeuronCrash.hidden(net, 1e-3), 4_000_000)
    net = random_network([3, 5, 1], seed=0, activation="tanh")
    case("paper's random net 3-5-1 tanh, p = 1e-3 (hidden)", net, np.array([0.1, 0.2, 0.3]),
         NeuronCrash({1: 1e-3}), 40_000_000)
    case("paper's random net 3-5-1 tanh, p = 1e-3 at the input and the hidden layer (not additive)", net,
         np.array([0.1, 0.2, 0.3]), NeuronCrash({0: 1e-3, 1: 1e-3}), 40_000_000)


if __name__ == "__main__":
    main()
