"""Baseline vs Eq. 1-regularized training on scikit-learn's digits: accuracy and Var Δ at p = 1e-3.

The paper's Table 2 / Fig. 2 comparison on data that ships: two 64-32-16-10 sigmoid networks trained from the
same seed (same initial weights, same minibatches) with softmax cross-entropy by Adam, one plain, one with
``λ R_1`` (R_1 = T1's Var Δ of the ten outputs for crashes at both hidden layers with p = 1e-3, by autodiff).
For each network, on the first ``--inputs`` test images: test accuracy and the output error variance
``Var Δ`` (summed over the 10 outputs, averaged over the images) for crashes at the first hidden layer, at the
second, and at both, from ``symft.engines.moments.moments`` (a rigorous enclosure for these sigmoid networks:
the interval [lo, hi] is proved, floating-point error included), plus T1's first-order value beside it; and the
(ε, δ) certificate of ``symft.analysis.certify.certify`` at the first test image (crashes at both hidden layers):
the proved bound on max_k P{Δ_k ≥ ε} (Cantelli, from the enclosure).

The ratio reported is ``baseline lo / regularized hi`` — a proved lower bound on the true ratio of the averages.

Run::

    python experiments/regularized_digits.py [--epochs 40] [--lam 10] [--seed 0] [--json out.json]
        [--figures docs/figures] [--replot experiments/regularized_digits.json]

Needs torch and scikit-learn.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from symft.analysis.certify import certify  # noqa: E402
from symft.engines.taylor import t1  # noqa: E402
from symft.faults import NeuronCrash  # noqa: E402
from symft.training.train import evaluate_var_delta, load_data, train  # noqa: E402

ARCH = (64, 32, 16, 10)
ACTIVATION = "sigmoid"
SITES = {"layer 1": ("1",), "layer 2": ("3",), "both": ("1", "3")}


def measure(result, X, p):
    """Var Δ per crash setting (enclosure lo / point / hi, label) and T1's first-order value."""
    out = {}
    for name, sites in SITES.items():
        probs = {s: p for s in sites}
        v = evaluate_var_delta(result.network, X, probs)
        v["t1"] = float(t1(result.network, X, probs, remainder=False).var.sum(axis=1).mean())
        out[name] = v
    return out


def run(epochs: int = 40, lam: float = 10.0, seed: int = 0, p: float = 1e-3, inputs: int = 20,
        progress: bool | None = None, eps: float = 0.5) -> dict:
    """Train both networks and measure them; returns a JSON-ready dict."""
    Xte = load_data("digits", seed)[2][:inputs]
    rows = {}
    for name, reg in (("baseline", None), ("regularized", {"lam": lam})):
        t = time.perf_counter()
        r = train("digits", arch=ARCH, activation=ACTIVATION, p=p, reg=reg, epochs=epochs, seed=seed,
                  var_inputs=0, progress=progress)
        rows[name] = {"accuracy": r.accuracy, "train_accuracy": r.train_accuracy, "seconds": time.perf_counter() - t,
                      "var": measure(r, Xte, p), "final_epoch": r.history[-1].as_dict()}
        c = certify(r.network, Xte[0], NeuronCrash({s: p for s in SITES["both"]}), eps, 1e-3)
        rows[name]["certificate"] = {"eps": eps, "delta_bound": c.delta_bound, "method": c.method,
                                     "rigorous": c.rigorous}
    ratios = {k: rows["baseline"]["var"][k]["var_delta_lo"] / rows["regularized"]["var"][k]["var_delta_hi"]
              for k in SITES}
    return {"arch": list(ARCH), "activation": ACTIVATION, "epochs": epochs, "lam": lam, "seed": seed, "p": p,
            "inputs": inputs, "dtype": "float64", "rows": rows, "ratio_lower_bound": ratios,
            "accuracy_drop_points": 100 * (rows["baseline"]["accuracy"] - rows["regularized"]["accuracy"])}


def table(res) -> str:
    lines = [f"digits {'-'.join(map(str, res['arch']))} {res['activation']}, {res['epochs']} epochs, seed "
             f"{res['seed']}, lambda = {res['lam']}, p = {res['p']}, Var Δ summed over outputs, mean over "
             f"{res['inputs']} test images",
             f"{'':12} {'accuracy':>9}  {'crashes at':10} {'Var Δ lo':>11} {'Var Δ hi':>11} {'T1':>11}  source"]
    for name, row in res["rows"].items():
        for i, (k, v) in enumerate(row["var"].items()):
            head = f"{name:12} {row['accuracy']:9.4f}" if i == 0 else f"{'':12} {'':9}"
            lines.append(f"{head}  {k:10} {v['var_delta_lo']:11.4e} {v['var_delta_hi']:11.4e} {v['t1']:11.4e}  "
                         f"{v['var_method']} ({v['var_label']})")
    for name, row in res["rows"].items():
        c = row["certificate"]
        lines.append(f"{name}: at the first test image, P(Δ_k ≥ {c['eps']}) ≤ {c['delta_bound']:.3e} for every "
                     f"output k ({c['method']}, {'rigorous' if c['rigorous'] else 'approximate'})")
    r = res["ratio_lower_bound"]
    lines.append("Var Δ reduction (proved lower bound, baseline lo / regularized hi): "
                 + ", ".join(f"{k} {v:.1f}x" for k, v in r.items()))
    lines.append(f"accuracy drop: {res['accuracy_drop_points']:.2f} points")
    return "\n".join(lines)


def figures(res, directory) -> list:
    """Var Δ of both networks per crash setting (proved interval as an error bar, T1 as a cross), PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    fig = Figure(figsize=(6.5, 4))
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    for j, (name, row) in enumerate(res["rows"].items()):
        xs = [i + 0.2 * (2 * j - 1) for i in range(len(SITES))]
        lo = [row["var"][k]["var_delta_lo"] for k in SITES]
        hi = [row["var"][k]["var_delta_hi"] for k in SITES]
        mid = [0.5 * (a + b) for a, b in zip(lo, hi)]
        ax.bar(xs, mid, width=0.4, label=f"{name} (test accuracy {row['accuracy']:.4f})",
               yerr=[[m - a for m, a in zip(mid, lo)], [b - m for m, b in zip(mid, hi)]], capsize=3)
        ax.plot(xs, [row["var"][k]["t1"] for k in SITES], "kx", label="T1" if j else None)
    ax.set_xticks(range(len(SITES)))
    ax.set_xticklabels([f"crashes at {k}" for k in SITES])
    ax.set_yscale("log")
    ax.set_ylabel(f"Var Δ at p = {res['p']:g} (proved interval)")
    ax.set_title(f"digits {'-'.join(map(str, res['arch']))} {res['activation']}, λ = {res['lam']:g}, "
                 f"seed {res['seed']}", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = directory / "regularized_digits.png"
    fig.savefig(path, dpi=80)
    return [path]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--lam", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--p", type=float, default=1e-3)
    ap.add_argument("--inputs", type=int, default=20)
    ap.add_argument("--eps", type=float, default=0.5, help="ε of the certificate at the first test image")
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--figures", help="write the figure (PNG) into this directory")
    ap.add_argument("--replot", metavar="JSON", help="do not train: read the results from this file (tables, figure)")
    a = ap.parse_args(argv)
    if a.replot:
        res = json.loads(Path(a.replot).read_text())
    else:
        res = run(a.epochs, a.lam, a.seed, a.p, a.inputs, eps=a.eps)
    print(table(res))
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=1, sort_keys=True))
    if a.figures:
        for path in figures(res, a.figures):
            print(f"wrote {path}")


if __name__ == "__main__":
    main()
