"""The supplement's random-network comparison (§7.2, Fig. 6): which bound orders networks and inputs like E Δ?

Two settings, drawn as the authors' notebook ``ErrorComparisonRandom.ipynb`` draws them
(:func:`symft.analysis.ranking.supplement_random_network`: weights ``N(0.1, (3/n_in)²)``, biases
``N(0.1, (3/n_out)²)``, ReLU hidden layers, linear output, crashes that output 0 at the first hidden layer):

* **variable input** — one 20-15-14-1 network, ``--inputs`` inputs ``2·N(0, I)``, ``p = 1e-3``;
* **variable network** — ``--networks`` 20-20-20-1 networks, one input ``2·N(0, I) + 0.1``, ``p = 1e-2``.

The paper draws 100 of each (``--full``, about 15 s on one core); the default is 40.

For each (network, input): the true ``E Δ`` and ``std Δ`` by enumeration of every crash configuration
(``symft.engines.enumeration.enumerate_crashes``, float64 — the paper instead used 50 000–100 000 Monte Carlo
draws), or, above ``--max-configurations``, the midpoint of a rigorous enclosure (labelled per row); then every
bound of ``symft.analysis.bounds`` that applies:

* mean: b1 in three norms (bounds of ``E‖Δ‖``), b2 (AP2, a bound of ``E|Δ|``), b3 (T1's first-order ``E Δ``),
  b4 as symft defines it (the exact single-crash term ``Σ_i p(1−p)^{n−1} Δ(e_i)``), **b4 as the paper's code
  computes it** (``p Σ_i Δ(e_i)``), and the [SRDS] expected Fep bound;
* std: b3 (``sqrt`` of T1's ``p(1−p) Σ g²``, and the printed ``p Σ g²``), **the paper's std versions of b4**
  (``sqrt(p Σ_i Δ(e_i)²)``) **and of b2** (``sqrt(p (W∘W)…(W∘W) y²)``), and ``sqrt`` of AP10's ``E Δ²``;
* and the paper's own ground truth, Monte Carlo with ``--mc`` draws (a NumPy forward pass written here), as one
  more estimate.

**Rank loss, as the paper defines it.**  §7.1: "We compare the bounds using rank loss which is the average
number of incorrectly ordered pairs"; the main text (Table 2): "the fraction of incorrectly ordered pairs";
Fig. 6's caption: "Rank loss (worst value 0.5) of ordering networks using bounds".  Read with the authors'
code (``helpers.rank_loss`` and ``process_data.process_scalar_output``): over the networks (or inputs), sort
the bound's values by the true value and count the pairs ``i < j`` whose bound values are not increasing
(``b_i ≥ b_j``, so ties count as errors), divided by ``n(n−1)/2`` — the ``raw`` number here; the figures plot
``min(r, 1 − r)`` (hence "worst value 0.5": a bound in exactly reversed order, like a bound of ``E|Δ|`` against
a negative ``E Δ``, scores 0) — the ``folded`` number here, which the table and figure show.  Pairs with equal
truth (where the authors' unstable sort decides) are taken in input order (a stable sort); see
:func:`symft.analysis.ranking.rank_loss`.  Relative error: ``min(|truth − bound| / |truth|, 2)`` as in the
figures; the table gives its median.

Run::

    python experiments/random_networks.py [--networks 40] [--inputs 40] [--full] [--seed 0] [--mc 20000]
        [--json experiments/random_networks.json] [--figures docs/figures]
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

import numpy as np  # noqa: E402

from symft.analysis.bounds import all_bounds, b2_std, b4_paper, b4_std  # noqa: E402
from symft.analysis.ranking import rank_loss, relative_error, supplement_random_network  # noqa: E402
from symft.engines.enumeration import enumerate_crashes  # noqa: E402
from symft.engines.moments import enclosure_moments  # noqa: E402
from symft.faults import NeuronCrash  # noqa: E402

HERE = Path(__file__).resolve().parent
SETTINGS = {
    "variable input": {"widths": (20, 15, 14, 1), "p": 1e-3},
    "variable network": {"widths": (20, 20, 20, 1), "p": 1e-2},
}
#: name in the output → (bound name in symft, transform); "mean" estimates E Δ, "std" estimates std Δ.
MEAN = {"b1_1": "b1_1", "b1_2": "b1_2", "b1_inf": "b1_inf", "b2": "b2", "b3 (T1)": "T1_mean",
        "b4 (symft: p(1-p)^(n-1) sum)": "b4", "b4 (paper: p sum)": "b4_paper", "SRDS": "SRDS"}
STD = {"b3 (T1, E4)": "T1_var", "b3 (T1 as printed)": "T1_var_paper", "b4_std (paper)": "b4_std",
       "b2_std (paper)": "b2_std", "AP10": "AP10"}
SQRT = {"T1_var", "T1_var_paper", "AP10"}


def truth(net, x, model, max_configurations):
    """Exact E Δ and std Δ by enumeration (float64), or an enclosure's midpoint above the limit; with a label."""
    n = sum(net.site_size(net.site(k)) for k in model.layers)
    if 2 ** n <= max_configurations:
        m = enumerate_crashes(net, x, model, exact=False, progress=False)
        return float(m.mean[0]), float(np.sqrt(max(float(m.var[0]), 0.0))), "enumeration (float64, every configuration)"
    m = enclosure_moments(net, x, model, order=3)
    mean = 0.5 * (float(m.mean_lo[0]) + float(m.mean_hi[0]))
    var = 0.5 * (float(m.var_lo[0]) + float(m.var_hi[0]))
    return mean, float(np.sqrt(max(var, 0.0))), "enclosure midpoint (order 3)"


def monte_carlo(net, x, p, draws, rng):
    """The paper's ground truth: mean and std of Δ over ``draws`` crash draws at the first hidden layer (NumPy)."""
    chain = net.as_chain()
    W = [np.asarray(lay.weights, dtype=float) for lay in chain.layers]
    b = [np.asarray(lay.bias, dtype=float) for lay in chain.layers]
    relu = lambda z: np.maximum(z, 0.0)  # noqa: E731
    h1 = relu(W[0] @ x + b[0])
    clean = h1
    for l in range(1, len(W)):
        clean = W[l] @ clean + b[l]
        if l < len(W) - 1:
            clean = relu(clean)
    h = h1[None, :] * (rng.random((draws, h1.size)) >= p)
    for l in range(1, len(W)):
        h = h @ W[l].T + b[l]
        if l < len(W) - 1:
            h = relu(h)
    d = (h - clean)[:, 0]
    return float(d.mean()), float(d.std())


def estimates(net, x, model):
    """Every estimate of the two tables at one (network, input): {name: value}, and which were rigorous."""
    found = {b.name: b for b in all_bounds(net, x, model)}
    for f in (b4_paper, b4_std, b2_std):
        b = f(net, x, model)
        found[b.name] = b
    mean = {k: float(found[v].value[0]) for k, v in MEAN.items() if v in found}
    std = {k: float(np.sqrt(found[v].value[0]) if v in SQRT else found[v].value[0]) for k, v in STD.items()
           if v in found}
    rigorous = sorted(k for k, v in {**MEAN, **STD}.items() if v in found and found[v].rigorous)
    return mean, std, rigorous


def run_setting(name, cases, p, mc, rng, max_configurations):
    """Rows for one setting: cases is a list of (network, input)."""
    rows = []
    for net, x in cases:
        model = NeuronCrash({1: p})
        t_mean, t_std, label = truth(net, x, model, max_configurations)
        mean, std, rigorous = estimates(net, x, model)
        if mc:
            mean["Monte Carlo (paper's truth)"], std["Monte Carlo (paper's truth)"] = monte_carlo(net, x, p, mc, rng)
        rows.append({"mean": t_mean, "std": t_std, "truth": label, "mean_estimates": mean, "std_estimates": std,
                     "rigorous": rigorous})
    summary = {}
    for q in ("mean", "std"):
        t = [r[q] for r in rows]
        summary[q] = {}
        for k in rows[0][f"{q}_estimates"]:
            e = [r[f"{q}_estimates"][k] for r in rows]
            summary[q][k] = {"rank_loss": rank_loss(t, e), "rank_loss_folded": rank_loss(t, e, fold=True),
                             "median_relative_error": float(np.median(relative_error(t, e)))}
    return {"p": p, "n": len(rows), "truth": sorted({r["truth"] for r in rows}), "rows": rows, "summary": summary}


def run(networks: int = 40, inputs: int = 40, seed: int = 0, mc: int = 20000,
        max_configurations: int = 2 ** 20) -> dict:
    """Both settings; deterministic under ``seed``; returns a JSON-ready dict."""
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    out = {"seed": seed, "mc_draws": mc, "settings": {}}
    s = SETTINGS["variable input"]
    net = supplement_random_network(s["widths"], seed=rng)
    X = rng.standard_normal((inputs, s["widths"][0])) * 2
    out["settings"]["variable input"] = run_setting("variable input", [(net, x) for x in X], s["p"], mc, rng,
                                                    max_configurations)
    s = SETTINGS["variable network"]
    x = rng.standard_normal(s["widths"][0]) * 2 + 0.1
    nets = [supplement_random_network(s["widths"], seed=rng) for _ in range(networks)]
    out["settings"]["variable network"] = run_setting("variable network", [(n, x) for n in nets], s["p"], mc, rng,
                                                      max_configurations)
    for k, v in out["settings"].items():
        v["widths"] = list(SETTINGS[k]["widths"])
    out["seconds"] = round(time.perf_counter() - t0, 1)
    return out


def table(res) -> str:
    """The text table: folded rank loss and median relative error per bound, per setting and quantity."""
    lines = [f"random networks (supplement §7.2), seed {res['seed']}, Monte Carlo {res['mc_draws']} draws; "
             "rank loss = min(r, 1 − r), worst 0.5"]
    for name, st in res["settings"].items():
        w = "-".join(map(str, st["widths"]))
        lines.append(f"{name}: {st['n']} × {w} ReLU, p = {st['p']:g} at the first hidden layer; truth: "
                     + ", ".join(st["truth"]))
        for q in ("mean", "std"):
            lines.append(f"  {'E Δ' if q == 'mean' else 'std Δ'}:  {'estimate':34s} {'rank loss':>9s} "
                         f"{'raw':>6s} {'med. rel. err':>13s}")
            for k, v in st["summary"][q].items():
                lines.append(f"        {k:34s} {v['rank_loss_folded']:9.3f} {v['rank_loss']:6.3f} "
                             f"{v['median_relative_error']:13.3f}")
    return "\n".join(lines)


def figures(res, directory) -> list[Path]:
    """Bar charts of the folded rank loss and box plots of the relative error (PNG, one per setting and quantity)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for kind in ("rank_loss", "relative_error"):
        fig = Figure(figsize=(11, 7.5))
        FigureCanvasAgg(fig)
        axes = fig.subplots(2, 2)
        for i, (name, st) in enumerate(res["settings"].items()):
            for j, q in enumerate(("mean", "std")):
                ax = axes[j][i]
                keys = list(st["summary"][q])
                if kind == "rank_loss":
                    ax.bar(range(len(keys)), [st["summary"][q][k]["rank_loss_folded"] for k in keys])
                    ax.set_ylim(0, 0.5)
                    ax.set_ylabel("rank loss (worst 0.5)")
                else:
                    t = [r[q] for r in st["rows"]]
                    data = [100 * relative_error(t, [r[f"{q}_estimates"][k] for r in st["rows"]]) for k in keys]
                    ax.boxplot(data)
                    ax.set_ylabel("relative error, % (capped at 200)")
                ax.set_xticks(range(1 if kind != "rank_loss" else 0, len(keys) + (1 if kind != "rank_loss" else 0)))
                ax.set_xticklabels(keys, rotation=60, ha="right", fontsize=7)
                ax.set_title(f"{name}: {'E Δ' if q == 'mean' else 'std Δ'}", fontsize=9)
        fig.tight_layout()
        path = directory / f"random_networks_{kind}.png"
        fig.savefig(path, dpi=80)
        paths.append(path)
    return paths


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--networks", type=int, default=40)
    ap.add_argument("--inputs", type=int, default=40)
    ap.add_argument("--full", action="store_true",
                    help="the paper's size: 100 networks, 100 inputs, 50 000 Monte Carlo draws")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--mc", type=int, default=20000, help="Monte Carlo draws per case (0: none)")
    ap.add_argument("--json", default=str(HERE / "random_networks.json"))
    ap.add_argument("--figures", default=None, help="write PNG figures into this directory")
    a = ap.parse_args(argv)
    if a.full:
        a.networks, a.inputs, a.mc = 100, 100, 50000
    res = run(networks=a.networks, inputs=a.inputs, seed=a.seed, mc=a.mc)
    print(table(res))
    print(f"{res['seconds']} s")
    Path(a.json).write_text(json.dumps(res, indent=1) + "\n")
    if a.figures:
        for p in figures(res, a.figures):
            print(f"wrote {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
