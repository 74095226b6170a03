"""Certified enclosure vs plain Monte Carlo at equal wall time, on wide nets.

Cases (the issue's performance bar):

* two sigmoid hidden layers of width 64, 128 and 256, 10 linear outputs
  (``random_network([64, W, W, 10], seed=0, activation="sigmoid")``, one
  input drawn from N(0, 1) with seed 1), crashes at both hidden layers with
  p = 1e-3;
* ``examples/digits_sigmoid.json`` on ``examples/digit0.csv``, crashes at both
  hidden layers (32 + 16 neurons) with p = 1e-2.

For each case and time budget ``T`` the enclosure is
``enclosure(net, x, model, order="auto", time_limit=T)`` (what
``symft exact NET --input X --p … --order auto --time T --json`` runs), and
its wall time ``t`` is measured.  Plain Monte Carlo
(:func:`symft.engines.sampling.monte_carlo`, which already samples only the
configurations with a failure) then gets the number of samples that takes
the same ``t`` on this machine (its rate measured first on a short run, then
checked: the MC wall time is printed too).  Printed per output-worst case:
the enclosure's width ``mean_hi − mean_lo`` (a proof), Monte Carlo's 95 %
interval width ``ci_high − ci_low`` (statistical) and its half-width, and
the ratio MC width / enclosure width (> 1: the enclosure is narrower).
Each line is repeated ``--runs`` times (default 3) and reported as a range.

Then (``--no-adversarial`` skips it) small adversarial nets — cancelling
rows, weights from 1e-8 to 1e6, p from 0.01 to 0.5 — print the order-2
widths with the default (best) tail and the first-order one, and whether the
enumerated mean lies inside.

BLAS threads are set to 1 (``OMP_NUM_THREADS`` etc.) before NumPy loads.
Run: ``python benchmarks/bench_enclosure_scale.py [--runs 3] [--times 1,4]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from symft.engines.enclosure import enclosure  # noqa: E402
from symft.engines.sampling import monte_carlo  # noqa: E402
from symft.faults import NeuronCrash  # noqa: E402
from symft.graph.netfile import load_network  # noqa: E402
from symft.graph.network import random_network  # noqa: E402


def cases():
    """(name, net, x, model) for the bar's cases."""
    x64 = np.random.default_rng(1).normal(size=64)
    for w in (64, 128, 256):
        yield (f"sigmoid 64-{w}-{w}-10, p=1e-3", random_network([64, w, w, 10], seed=0, activation="sigmoid"),
               x64, NeuronCrash({1: 1e-3, 2: 1e-3}))
    net = load_network(str(ROOT / "examples" / "digits_sigmoid.json"))
    x = np.loadtxt(ROOT / "examples" / "digit0.csv", delimiter=",")
    yield "digits 64-32-16-10, p=1e-2", net, x, NeuronCrash({1: 1e-2, 2: 1e-2})


def mc_rate(net, x, model, seed):
    """Monte Carlo samples per second on this machine (two short runs, the second timed)."""
    monte_carlo(net, x, model, 2000, seed)
    n = 20000
    t = time.perf_counter()
    monte_carlo(net, x, model, n, seed)
    return n / (time.perf_counter() - t)


def one(net, x, model, budget, seed):
    t0 = time.perf_counter()
    e = enclosure(net, x, model, order="auto", time_limit=budget, progress=False)
    t_enc = time.perf_counter() - t0
    rate = mc_rate(net, x, model, seed)
    n = max(2, int(rate * t_enc))
    t0 = time.perf_counter()
    r = monte_carlo(net, x, model, n, seed)
    t_mc = time.perf_counter() - t0
    w_enc = float(np.max(e.mean_hi - e.mean_lo))
    w_mc = float(np.max(np.asarray(r.ci_high) - np.asarray(r.ci_low)))
    return dict(order=e.order, t_enc=t_enc, t_mc=t_mc, n=n, w_enc=w_enc, w_mc=w_mc, ratio=w_mc / w_enc)


def adversarial(seed, wide=True):
    """A small net with cancelling rows (a, −a + 1e-9) and a tanh/sigmoid mix; weights from 1e-8 to 1e6
    (``wide``) or from 1e-2 to 1."""
    rng = np.random.default_rng(seed)
    W1 = rng.normal(size=(6, 4)) * 10.0 ** (rng.integers(-8, 3, size=(6, 4)) if wide else rng.integers(-2, 1, size=(6, 4)))
    W1[1] = -W1[0] + 1e-9
    W2 = rng.normal(size=(5, 6)) * 10.0 ** (rng.integers(-2, 7, size=(5, 6)) if wide else rng.integers(-2, 1, size=(5, 6)))
    W2[:, 3] = -W2[:, 2]
    W3 = rng.normal(size=(2, 5))
    from symft.graph.network import Network

    acts = [("tanh", "sigmoid"), ("sigmoid", "tanh"), ("softplus", "tanh")][seed % 3]
    return Network.from_numpy([W1, W2, W3], [rng.normal(size=6), rng.normal(size=5), rng.normal(size=2)],
                              [acts[0], acts[1], "linear"]), rng.normal(size=4)


def adversarial_part():
    """Widths on adversarial nets, p up to 1/2, against full enumeration (float64; the tests check against
    60-digit references)."""
    from symft.engines.enumeration import enumerate_crashes

    print("\nadversarial nets (cancelling rows, weights 1e-8 … 1e6 or 1e-2 … 1, crashes at both hidden layers), order 2:")
    print(f"{'net':<12} {'p':>5} {'width (best tail)':>18} {'width (first-order)':>20} {'tail used':>12} "
          f"{'enumerated mean inside':>23}")
    for seed, wide in [(s, w) for w in (True, False) for s in range(3)]:
        net, x = adversarial(seed, wide)
        for p in (0.01, 0.1, 0.3, 0.5):
            m = NeuronCrash({1: p, 2: p})
            e = enclosure(net, x, m, order=2)
            f = enclosure(net, x, m, order=2, tail="first-order")
            ex = enumerate_crashes(net, x, m)
            inside = bool(np.all((e.mean_lo <= ex.mean) & (ex.mean <= e.mean_hi)))
            print(f"{('wide ' if wide else 'O(1) ') + str(seed):<12} {p:>5g} {float(np.max(e.width)):>18.3g} {float(np.max(f.width)):>20.3g} "
                  f"{','.join(sorted(set(e.tail_method))):>12} {str(inside):>23}", flush=True)


def rng_text(vals, fmt):
    lo, hi = min(vals), max(vals)
    return fmt.format(lo) if fmt.format(lo) == fmt.format(hi) else f"{fmt.format(lo)} – {fmt.format(hi)}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--times", default="1,4", help="comma-separated time budgets in seconds")
    ap.add_argument("--no-adversarial", action="store_true", help="skip the adversarial nets")
    ap.add_argument("--only-adversarial", action="store_true", help="only the adversarial nets")
    args = ap.parse_args(argv)
    if args.only_adversarial:
        adversarial_part()
        return 0
    budgets = [float(t) for t in args.times.split(",")]
    print(f"{'case':<30} {'T s':>4} {'order':>5} {'enclosure s':>13} {'MC s':>13} {'MC samples':>19} "
          f"{'enclosure width':>19} {'MC 95% width':>19} {'MC width / encl.':>18}")
    for name, net, x, model in cases():
        for budget in budgets:
            rs = [one(net, x, model, budget, seed) for seed in range(args.runs)]
            print(f"{name:<30} {budget:>4g} {rng_text([r['order'] for r in rs], '{:d}'):>5} "
                  f"{rng_text([r['t_enc'] for r in rs], '{:.2f}'):>13} {rng_text([r['t_mc'] for r in rs], '{:.2f}'):>13} "
                  f"{rng_text([r['n'] for r in rs], '{:.2e}'):>19} {rng_text([r['w_enc'] for r in rs], '{:.2e}'):>19} "
                  f"{rng_text([r['w_mc'] for r in rs], '{:.2e}'):>19} {rng_text([r['ratio'] for r in rs], '{:.3g}'):>18}",
                  flush=True)
    if not args.no_adversarial:
        adversarial_part()
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
