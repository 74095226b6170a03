"""Write ``docs/experiments.rst``: the tables of the three experiments, read from their JSON results, and their figures.

Run after an experiment has rewritten its JSON (and its figures with ``--figures docs/figures``)::

    python experiments/docs_page.py            # rewrites docs/experiments.rst
    python experiments/docs_page.py --check    # exit 1 if the page differs from what the JSON files give

``tests/test_experiments_docs.py`` runs the check and compares the page's numbers with the JSON files.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PAGE = ROOT / "docs" / "experiments.rst"
FIGURES = ("regularized_digits.png", "algorithm1_digits.png", "random_networks_rank_loss.png",
           "random_networks_relative_error.png")


def load(name: str) -> dict:
    return json.loads((HERE / f"{name}.json").read_text())


def grid(header, rows) -> list[str]:
    """An RST grid table."""
    cells = [list(map(str, header))] + [list(map(str, r)) for r in rows]
    w = [max(len(r[i]) for r in cells) for i in range(len(header))]
    sep = "+" + "+".join("-" * (n + 2) for n in w) + "+"
    line = lambda r: "| " + " | ".join(c.ljust(n) for c, n in zip(r, w)) + " |"  # noqa: E731
    out = [sep, line(cells[0]), sep.replace("-", "=")]
    for r in cells[1:]:
        out += [line(r), sep]
    return out


def g(v, digits=4) -> str:
    return f"{v:.{digits}e}"


def regularized_section(r) -> list[str]:
    out = ["Baseline vs regularized training on digits", "-" * 42, "",
           f"``experiments/regularized_digits.py`` (``regularized_digits.json``): two "
           f"{'-'.join(map(str, r['arch']))} {r['activation']} networks from seed {r['seed']}, {r['epochs']} epochs, "
           f"the second with λ = {r['lam']:g} times R_1 (T1's Var Δ, crashes at both hidden layers). Var Δ at "
           f"p = {r['p']:g}, summed over the outputs, mean over the first {r['inputs']} test images; "
           "[lo, hi] is proved (enclosure, rounding included), T1 its first-order value.", ""]
    rows = []
    for name, row in r["rows"].items():
        for k, v in row["var"].items():
            rows.append([name, f"{row['accuracy']:.4f}", k, g(v["var_delta_lo"]), g(v["var_delta_hi"]), g(v["t1"]),
                         f"{v['var_method']} ({v['var_label']})"])
    out += grid(["network", "test accuracy", "crashes at", "Var Δ lo", "Var Δ hi", "T1", "source"], rows)
    ratios = ", ".join(f"{k} {v:.1f}×" for k, v in r["ratio_lower_bound"].items())
    out += ["", f"Proved reduction of Var Δ (baseline lo / regularized hi): {ratios}; accuracy drop "
            f"{r['accuracy_drop_points']:.2f} points.", "",
            ".. image:: figures/regularized_digits.png", "   :alt: Var Δ of the baseline and regularized networks", ""]
    return out


def algorithm1_section(r) -> list[str]:
    c, mc = r["certificate"], r["monte_carlo"]
    out = ["Algorithm 1 on digits", "-" * 21, "",
           f"``experiments/algorithm1_digits.py`` (``algorithm1_digits.json``): target {c['claim']} at the first "
           f"test image, crashes at both hidden layers with p = 1e-3.", ""]
    rows = [[x["round"], "-".join(map(str, x["widths"])), f"{x['lam']:g}", f"{x['accuracy']:.4f}", f"{x['q']:.3f}",
             f"{x['delta0']:.3g}", f"{x['mean_hi']:.3g}", f"{x['var_hi']:.3g}", f"{x['delta_bound']:.3g}", x["action"]]
            for x in r["rounds"]]
    out += grid(["round", "widths", "λ", "accuracy", "q", "δ_0", "E Δ hi", "Var Δ hi", "δ one copy", "action"], rows)
    out += ["", f"Result: {'certified' if r['certified'] else 'not certified'} "
            f"({'rigorous' if r['rigorous'] else 'statistical'}), widths {'-'.join(map(str, r['widths']))}, "
            f"median of {r['copies']} copies; {r['reason']}.", "",
            f"Monte Carlo check ({mc['samples']} draws per copy, NumPy): one copy fails with frequency "
            f"{mc['one_copy']:g} (bound {mc['one_copy_bound']:.3g}), the median of {mc['copies']} copies with "
            f"{mc['median']:g} (bound {mc['median_bound']:g}); contradicted: {mc['contradicted']}.", "",
            ".. image:: figures/algorithm1_digits.png", "   :alt: Algorithm 1's rounds", ""]
    return out


def random_section(r) -> list[str]:
    out = ["Random networks: ranking the bounds (supplement Fig. 6)", "-" * 55, "",
           f"``experiments/random_networks.py`` (``random_networks.json``, seed {r['seed']}): the supplement's random "
           "ReLU networks (:func:`symft.analysis.ranking.supplement_random_network`), crashes at the first hidden "
           "layer. The truth is the exact ``E Δ`` and ``std Δ``; the paper's own truth, Monte Carlo with "
           f"{r['mc_draws']} draws, is listed as one more estimate. Rank loss "
           "(:func:`symft.analysis.ranking.rank_loss`) as the paper's figures show it, ``min(r, 1 − r)`` (worst "
           "0.5), and raw ``r``; relative error: median of ``min(|truth − estimate| / |truth|, 2)``.", ""]
    for name, st in r["settings"].items():
        out += [f"**{name}**: {st['n']} × {'-'.join(map(str, st['widths']))}, p = {st['p']:g}; truth: "
                + ", ".join(st["truth"]) + ".", ""]
        rows = []
        for q in ("mean", "std"):
            for k, v in st["summary"][q].items():
                rows.append(["E Δ" if q == "mean" else "std Δ", k, f"{v['rank_loss_folded']:.3f}",
                             f"{v['rank_loss']:.3f}", f"{v['median_relative_error']:.3f}"])
        out += grid(["quantity", "estimate", "rank loss", "raw", "median rel. error"], rows) + [""]
    out += [".. image:: figures/random_networks_rank_loss.png", "   :alt: rank loss of every estimate", "",
            ".. image:: figures/random_networks_relative_error.png", "   :alt: relative error of every estimate", ""]
    return out


def page() -> str:
    lines = ["Experiments", "===========", "",
             "The paper's training and bound-comparison experiments, reproduced on data that ships. Every table "
             "below is generated from the JSON result written by the script named in its section "
             "(``python experiments/docs_page.py``), and the figures by the same scripts with "
             "``--figures docs/figures``; ``experiments/README.md`` says how to run them and what they found.", ""]
    lines += regularized_section(load("regularized_digits"))
    lines += algorithm1_section(load("algorithm1_digits"))
    lines += random_section(load("random_networks"))
    return "\n".join(lines).rstrip() + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if docs/experiments.rst is not up to date")
    a = ap.parse_args(argv)
    text = page()
    if a.check:
        ok = PAGE.exists() and PAGE.read_text() == text
        print("docs/experiments.rst is up to date" if ok else "docs/experiments.rst differs: run experiments/docs_page.py")
        return 0 if ok else 1
    PAGE.write_text(text)
    print(f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
