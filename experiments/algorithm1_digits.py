"""Algorithm 1 on scikit-learn's digits, and an independent Monte Carlo check of the certificate it ends with.

Runs :func:`symft.training.algorithm1.algorithm1` (64-32-16-10 sigmoid, crashes at both hidden layers with
p = 1e-3, target ``P{Δ_k ≥ ε} ≤ δ`` at the first test image) and prints every round (widths, λ μ ψ, the checks,
the action). Then, whatever the outcome, draws ``--samples`` crash patterns for each of R independent copies of
the final network, evaluated by a NumPy forward pass written here (not symft's), and compares the failure
frequency of one copy with the certificate's bound δ_1 and the frequency of the componentwise median of the R
copies with δ. A frequency above ``bound + 4 σ + 4/n`` would contradict the certificate.

Run::

    python experiments/algorithm1_digits.py [--eps 0.2] [--delta 1e-3] [--lam 0.1] [--epochs 40] [--seed 0]
        [--figures docs/figures] [--replot experiments/algorithm1_digits.json]

Needs torch and scikit-learn.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from symft.training.algorithm1 import algorithm1  # noqa: E402
from symft.training.train import load_data  # noqa: E402

P = 1e-3


def crashed_deltas(params, x, rng, n):
    """Δ (n, 10) of a Linear-sigmoid-Linear-sigmoid-Linear chain at ``x`` for n random crash patterns (p = P)."""
    W1, b1, W2, b2, W3, b3 = params
    sig = lambda z: 1.0 / (1.0 + np.exp(-z))  # noqa: E731
    h1c = sig(W1 @ x + b1)
    clean = W3 @ sig(W2 @ h1c + b2) + b3
    h1 = h1c * (rng.random((n, h1c.size)) >= P)
    h2 = sig(h1 @ W2.T + b2)
    h2 = h2 * (rng.random(h2.shape) >= P)
    return h2 @ W3.T + b3 - clean


def monte_carlo(result, x, eps, copies, n, seed):
    """Failure frequencies (largest over outputs) of one copy and of the median of ``copies`` copies."""
    params = [t.detach().double().numpy() for t in result.train.model.parameters()]
    rng = np.random.default_rng(seed)
    ds = np.stack([crashed_deltas(params, x, rng, n) for _ in range(max(1, copies))])
    one = float((ds[0] >= eps).mean(axis=0).max())
    med = float((np.median(ds, axis=0) >= eps).mean(axis=0).max())
    return one, med


def limit(bound, n):
    return bound + 4 * np.sqrt(bound * (1 - bound) / n) + 4 / n


def run(eps=0.2, delta=1e-3, lam=0.1, epochs=40, seed=0, samples=200_000, progress=None) -> dict:
    r = algorithm1("digits", arch=(64, 32, 16, 10), activation="sigmoid", p=P, eps=eps, delta=delta, lam=lam,
                   epochs=epochs, seed=seed, progress=progress)
    x = load_data("digits", seed)[2][0]
    out = r.as_dict()
    if r.certificate is not None and r.train is not None:
        R = r.copies or 1
        one, med = monte_carlo(r, x, eps, R, samples, seed + 1)
        d1 = r.certificate.delta_bound
        out["monte_carlo"] = {"samples": samples, "copies": R, "one_copy": one, "one_copy_bound": d1,
                              "median": med, "median_bound": float(delta) if r.certified else None,
                              "contradicted": bool(one > limit(d1, samples)
                                                   or (r.certified and med > limit(float(delta), samples)))}
    return out


def report(res) -> str:
    lines = ["round  widths            lam      mu       psi      acc     q      delta0   R_3       "
             "E Δ hi     Var Δ hi   delta_1    action"]
    f = lambda v, w=9: (f"{v:<{w}.3g}" if v is not None else f"{'-':<{w}}")  # noqa: E731
    for z in res["rounds"]:
        lines.append(f"{z['round']:<6} {'-'.join(map(str, z['widths'])):17} {f(z['lam'], 8)} {f(z['mu'], 8)} "
                     f"{f(z['psi'], 8)} {z['accuracy']:<7.4f} {z['q']:<6.3f} {f(z['delta0'], 8)} {f(z['r3'])} "
                     f"{f(z['mean_hi'], 10)} {f(z['var_hi'], 10)} {f(z['delta_bound'], 10)} {z['action']}")
    lines.append(f"result: {'certified' if res['certified'] else 'infeasible'} — {res['reason']}; widths "
                 f"{res['widths']}, copies {res['copies']}, rigorous {res['rigorous']}, test accuracy "
                 f"{res.get('accuracy', float('nan')):.4f}, Var Δ {res.get('var_delta') or float('nan'):.4g}")
    mc = res.get("monte_carlo")
    if mc:
        lines.append(f"Monte Carlo ({mc['samples']} draws per copy, NumPy): one copy fails with frequency "
                     f"{mc['one_copy']:.3g} (bound {mc['one_copy_bound']:.3g}); the median of {mc['copies']} copies "
                     f"with {mc['median']:.3g} (bound {mc['median_bound']}); contradicted: {mc['contradicted']}")
    return "\n".join(lines)


def figures(res, directory) -> list:
    """Algorithm 1's rounds: one copy's proved failure bound and Var Δ per round, and the Monte Carlo check (PNG)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    fig = Figure(figsize=(6.5, 4))
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    rounds = res["rounds"]
    xs = [r["round"] for r in rounds]
    ax.plot(xs, [r["delta_bound"] for r in rounds], "o-", label="one copy: proved P(failure) bound")
    ax.plot(xs, [r["var_hi"] for r in rounds], "s-", label="Var Δ (upper end of its enclosure)")
    ax.axhline(1 / 3, color="gray", ls=":", label="1/3 (Algorithm 1 widens above)")
    mc = res.get("monte_carlo")
    if mc:
        ax.plot([xs[-1]], [mc["one_copy"]], "k*", ms=10, label=f"Monte Carlo, one copy ({mc['samples']} draws)")
    ax.set_xticks(xs)
    ax.set_xticklabels([f"round {r['round']}\n{'-'.join(map(str, r['widths']))}" for r in rounds])
    ax.set_yscale("log")
    ax.set_title(f"Algorithm 1 on digits: {'certified' if res['certified'] else 'not certified'}, "
                 f"median of {res['copies']} copies", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = directory / "algorithm1_digits.png"
    fig.savefig(path, dpi=80)
    return [path]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--eps", type=float, default=0.2)
    ap.add_argument("--delta", type=float, default=1e-3)
    ap.add_argument("--lam", type=float, default=0.1)
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--samples", type=int, default=200_000)
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--figures", help="write the figure (PNG) into this directory")
    ap.add_argument("--replot", metavar="JSON", help="do not train: read the results from this file (report, figure)")
    a = ap.parse_args(argv)
    if a.replot:
        res = json.loads(Path(a.replot).read_text())
    else:
        res = run(a.eps, a.delta, a.lam, a.epochs, a.seed, a.samples)
    print(report(res))
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=1, sort_keys=True, allow_nan=False))
    if a.figures:
        for path in figures(res, a.figures):
            print(f"wrote {path}")


if __name__ == "__main__":
    main()
