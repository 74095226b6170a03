"""Calibrate the cost model of symft.cost: predicted against measured time for every expensive path.

Each path counts its work before doing any (symft.cost.PATHS says what one unit is); the predicted
time is work × a constant per path.  This script runs every path on a few sizes, with the same
estimate function the guard uses, and prints, per case: the work, the time predicted with the
shipped constants, the time measured (the median of --repeat runs), and measured ÷ predicted.
The fitted constant of a path is the median over its cases of (measured time ÷ work); with
--write the fitted constants go to symft/cost_constants.json together with the machine and the
date, which is the file the package ships.

Run from the repository root with BLAS on one thread (the guards assume it):

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/bench_cost_model.py [--repeat 3] [--write]
    python benchmarks/bench_cost_model.py --paths derive,sample     # a few paths only

About 3 minutes per repeat on a laptop core.  The cases are small on purpose (0.05 – 20 s): the
guards only need the order of magnitude of long runs, and the per-unit constants are what
extrapolates.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import time
from fractions import Fraction

import numpy as np

from symft import cost
from symft.cost import time_limit
from symft.engines.enclosure import enclosure, enclosure_estimate
from symft.engines.enumeration import enumerate_crashes, enumeration_estimate, exact_obstacle
from symft.engines.sampling import draw_estimate, monte_carlo, crashed_sample_size, crash_probability
from symft.engines.taylor import derivative_bounds, derive, derive_estimate, remainder_estimate
from symft.faults import NeuronCrash
from symft.graph.netfile import load_network
from symft.graph.network import Network, random_network
from symft.worstcase import worst_case
from symft.worstcase.brute_force import brute_force_estimate
from symft.worstcase.space import crash_space

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def _digits():
    return load_network(os.path.join(ROOT, "examples", "digits_sigmoid.json"))


def _digit0():
    return np.loadtxt(os.path.join(ROOT, "examples", "digit0.csv"), delimiter=",")


def _cnn():
    return load_network(os.path.join(ROOT, "examples", "digits_cnn.onnx"))


def _image():
    return np.load(os.path.join(ROOT, "examples", "digit0_image.npy"))


def cases_derive():
    from sympy.core.cache import clear_cache

    for widths in ([6, 5, 4, 3], [8, 6, 4, 3], [8, 8, 6, 4], [10, 20, 5], [16, 30, 8]):
        net = random_network(widths, seed=0, activation="sigmoid")
        p = {l: 1e-3 for l in range(1, len(widths) - 1)}
        x = [0.5] * widths[0]

        def run(net=net, p=p, x=x):
            clear_cache()
            derive(net, p, x=x, order=2, force=True, progress_bar=False)

        yield f"sigmoid {widths}, order 2, every hidden site", derive_estimate(net, list(p), 2), run
    cnn = _cnn()

    def run_cnn():
        clear_cache()
        derive(cnn, {"classifier.2": 1e-3}, x=_image().ravel(), order=2, force=True, progress_bar=False)

    yield "digits_cnn.onnx, order 2, classifier.2", derive_estimate(cnn, ["classifier.2"], 2), run_cnn


def cases_derive_symbolic():
    # derive without --input: the inputs stay symbols x_0, x_1, … (tanh, exp of symbols in every coefficient)
    from sympy.core.cache import clear_cache

    for widths, act in (([3, 2, 2, 1], "sigmoid"), ([3, 2, 2, 1], "tanh"), ([4, 3, 2], "sigmoid"),
                        ([3, 3, 3, 1], "sigmoid"), ([2, 3, 3, 2], "sigmoid"), ([4, 3, 3, 2], "tanh")):
        net = random_network(widths, seed=0, activation=act)
        p = {l: 1e-3 for l in range(1, len(widths) - 1)}

        def run(net=net, p=p):
            clear_cache()
            derive(net, p, order=2, force=True, progress_bar=False)

        yield (f"{act} {widths}, order 2, every hidden site, symbolic inputs",
               derive_estimate(net, list(p), 2, symbolic_input=True), run)


def cases_enumerate():
    for n in (16, 18, 20):
        net = random_network([16, n, 16, 1], seed=0, activation="tanh")
        x = np.random.default_rng(0).normal(size=16)
        m = NeuronCrash({1: 0.05})
        yield (f"tanh [16, {n}, 16, 1], float64", enumeration_estimate(net, m),
               lambda net=net, x=x, m=m: enumerate_crashes(net, x, m, exact=False, force=True, progress=False))
    net = _digits()
    m = NeuronCrash({2: 1e-3})
    yield ("digits_sigmoid.json, site 2 (16 neurons)", enumeration_estimate(net, m),
           lambda: enumerate_crashes(net, _digit0(), m, exact=False, force=True, progress=False))


def _relu_rational(widths, seed=0):
    rng = np.random.default_rng(seed)
    Ws = [[[str(int(v)) + "/4" for v in row] for row in rng.integers(-4, 5, size=(b, a))]
          for a, b in zip(widths[:-1], widths[1:])]
    return Network.from_sympy(Ws, activations=["relu"] * (len(widths) - 2) + ["linear"])


def cases_enumerate_exact():
    for n in (8, 10, 12):
        net = _relu_rational([4, n, 4, 2])
        assert exact_obstacle(net) is None, exact_obstacle(net)
        m = NeuronCrash({1: Fraction(1, 10)})
        x = ["1", "1/2", "-1", "3/4"]
        yield (f"relu [4, {n}, 4, 2], rational weights, exact", enumeration_estimate(net, m, exact=True),
               lambda net=net, x=x, m=m: enumerate_crashes(net, x, m, exact=True, force=True, progress=False))


def cases_enclosure():
    net = random_network([4, 30, 2], seed=0, activation="tanh")
    m = NeuronCrash({1: 1e-3})
    yield ("tanh [4, 30, 2], order 5", enclosure_estimate(net, m, 5),
           lambda: enclosure(net, np.ones(4), m, order=5, force=True, progress=False))
    wide = random_network([16, 64, 10], seed=0, activation="tanh")
    mw = NeuronCrash({1: 1e-3})
    yield ("tanh [16, 64, 10], order 3", enclosure_estimate(wide, mw, 3),
           lambda: enclosure(wide, np.ones(16), mw, order=3, force=True, progress=False))
    big = random_network([64, 128, 64, 10], seed=0, activation="sigmoid")
    m2 = NeuronCrash({1: 1e-4, 2: 1e-4})
    x = np.random.default_rng(0).uniform(size=64)
    yield ("sigmoid [64, 128, 64, 10], order 2, both hidden sites", enclosure_estimate(big, m2, 2),
           lambda: enclosure(big, x, m2, order=2, force=True, progress=False))
    d = _digits()
    md = NeuronCrash({1: 1e-3, 2: 1e-3})
    yield ("digits_sigmoid.json, order 3, both hidden sites", enclosure_estimate(d, md, 3),
           lambda: enclosure(d, _digit0(), md, order=3, force=True, progress=False))


def cases_accuracy():
    # accuracy with a fixed order: the enclosure's configurations, each turned into class decisions
    from symft.analysis.accuracy import accuracy, accuracy_estimate
    from symft.io.datasets import digits

    d, data = _digits(), digits("test")
    md = NeuronCrash({1: 1e-3, 2: 1e-3})
    for k, n in ((2, len(data.y)), (3, 100), (3, len(data.y))):
        X, y = data.X[:n], data.y[:n]
        yield (f"digits_sigmoid.json, digits test ({n} inputs), order {k}", accuracy_estimate(d, md, k, n),
               lambda X=X, y=y, k=k: accuracy(d, X, y, md, order=k, method="rigorous"))
    net = random_network([6, 40, 40, 3], seed=0, activation="tanh")
    X = np.random.default_rng(0).normal(size=(50, 6))
    y = np.arange(50) % 3
    for k in (2, 3):
        yield (f"tanh [6, 40, 40, 3], 50 inputs, order {k}", accuracy_estimate(net, md, k, 50),
               lambda k=k: accuracy(net, X, y, md, order=k, method="rigorous"))


def cases_brute_force():
    for widths, f in (([8, 40, 10], 4), ([8, 60, 10], 4)):
        net = random_network(widths, seed=0, activation="tanh")
        x = np.ones(widths[0])
        space = crash_space(net, f, layers=[1])
        yield (f"tanh {widths}, at most {f} crashes", brute_force_estimate(net, space),
               lambda net=net, x=x, f=f: worst_case(net, x, max_crashes=f, layers=[1], method="brute-force",
                                                    force=True))
    cnn = _cnn()
    space = crash_space(cnn, 5, layers=["classifier.2"])
    yield ("digits_cnn.onnx, classifier.2, at most 5 crashes", brute_force_estimate(cnn, space),
           lambda: worst_case(cnn, _image(), max_crashes=5, layers=["classifier.2"], method="brute-force",
                              force=True))


def cases_sample():
    for widths, n in (([10, 100, 10], 200000), ([64, 128, 64, 10], 400000)):
        net = random_network(widths, seed=0, activation="sigmoid")
        x = np.random.default_rng(0).uniform(size=widths[0])
        m = NeuronCrash({1: 1e-2})
        draws = crashed_sample_size(n, crash_probability(net, m))
        yield (f"sigmoid {widths}, {n} samples, p = 1e-2", draw_estimate(net, m, draws),
               lambda net=net, x=x, m=m, n=n: monte_carlo(net, x, m, n, 0, force=True, show_progress=False))
    d = _digits()
    md = NeuronCrash({1: 1e-2, 2: 1e-2})
    draws = crashed_sample_size(300000, crash_probability(d, md))
    yield ("digits_sigmoid.json, 300000 samples, p = 1e-2", draw_estimate(d, md, draws),
           lambda: monte_carlo(d, _digit0(), md, 300000, 0, force=True, show_progress=False))
    cnn = _cnn()
    mc = NeuronCrash({"features.1": 1e-3})
    draws = crashed_sample_size(20000, crash_probability(cnn, mc))
    yield ("digits_cnn.onnx, 20000 samples, features.1 p = 1e-3", draw_estimate(cnn, mc, draws),
           lambda: monte_carlo(cnn, _image(), mc, 20000, 0, force=True, show_progress=False))


def cases_t1_remainder():
    for widths, layers in (([32, 128, 10], [1]), ([16, 64, 32, 10], [1, 2]), ([64, 128, 64, 10], [1, 2])):
        net = random_network(widths, seed=0, activation="sigmoid")
        x = np.random.default_rng(0).uniform(size=widths[0])
        yield (f"sigmoid {widths}, sites {layers}", remainder_estimate(net, layers),
               lambda net=net, x=x, layers=layers: derivative_bounds(net, x, layers, force=True))
    d = _digits()
    yield ("digits_sigmoid.json, sites [1, 2]", remainder_estimate(d, [1, 2]),
           lambda: derivative_bounds(d, _digit0(), [1, 2], force=True))


CASES = {"derive": cases_derive, "derive_symbolic": cases_derive_symbolic, "enumerate": cases_enumerate,
         "enumerate_exact": cases_enumerate_exact, "enclosure": cases_enclosure, "accuracy": cases_accuracy,
         "brute_force": cases_brute_force, "sample": cases_sample, "t1_remainder": cases_t1_remainder}


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    return (f"{cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}, NumPy {np.__version__}, "
            f"BLAS threads {os.environ.get('OPENBLAS_NUM_THREADS', os.environ.get('OMP_NUM_THREADS', 'default'))}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs per case; the median is kept (default 3)")
    ap.add_argument("--paths", default=",".join(CASES), help="comma-separated paths (default: all)")
    ap.add_argument("--write", action="store_true", help="write the fitted constants to symft/cost_constants.json")
    ap.add_argument("--note", default="", help="a note stored with the constants (e.g. 'shared machine')")
    a = ap.parse_args(argv)
    paths = [p.strip() for p in a.paths.split(",") if p.strip()]
    fitted, rows = {}, []
    with time_limit("inf"):
        for path in paths:
            ratios = []
            for name, est, run in CASES[path]():
                times = []
                for _ in range(a.repeat):
                    t = time.perf_counter()
                    run()
                    times.append(time.perf_counter() - t)
                measured = statistics.median(times)
                ratios.append(measured / est.work)
                rows.append((path, name, est, measured, min(times), max(times)))
                print(f"{path:15s} {name:58s} work {est.work:10.3g}  predicted {est.seconds:9.3g} s  "
                      f"measured {measured:9.3g} s ({min(times):.3g} – {max(times):.3g})  "
                      f"measured/predicted {measured / est.seconds if est.seconds else float('nan'):6.2f}",
                      flush=True)
            fitted[path] = {"seconds_per_unit": float(f"{statistics.median(ratios):.3g}"),
                            "cases": len(ratios), "spread": [float(f"{min(ratios):.3g}"), float(f"{max(ratios):.3g}")]}
    print()
    print("| path | case | work | predicted (shipped) | measured: median (min – max) | measured / predicted "
          "| predicted (fitted now) |")
    print("|---|---|---|---|---|---|---|")
    for path, name, est, measured, lo, hi in rows:
        pred = est.work * fitted[path]["seconds_per_unit"]
        print(f"| {path} | {name} | {est.work:.3g} | {est.seconds:.3g} s | {measured:.3g} s ({lo:.3g} – {hi:.3g}) | "
              f"{measured / est.seconds if est.seconds else float('nan'):.2f} | {pred:.3g} s |")
    print()
    for path, f in fitted.items():
        print(f"{path:15s} seconds per unit {f['seconds_per_unit']:.3g} (shipped {cost.seconds_per_unit(path):.3g}); "
              f"measured/work over {f['cases']} cases: {f['spread'][0]:.3g} – {f['spread'][1]:.3g}")
    if a.write:
        old = cost.constants()
        data = {"machine": machine() + (f"; {a.note}" if a.note else ""),
                "date": datetime.date.today().isoformat(),
                "units": dict(cost.PATHS),
                "constants": {**old["constants"], **fitted}}
        with open(cost.CONSTANTS_FILE, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2, ensure_ascii=False)
            f.write("\n")
        print(f"wrote {cost.CONSTANTS_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
