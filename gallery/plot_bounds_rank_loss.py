r"""
Bounds against the exact value, and how well they rank networks
===============================================================

The papers give several bounds and estimates of the output error: norm products (b1, AP1 and
P2), the componentwise bound (b2, AP2), the [SRDS] expected bound (AC1), Theorem 1's
first-order estimates and the single-crash term b4 (:ref:`theory §3 <theory-s3>` and
:ref:`§5 <theory-s5>`). :func:`symft.analysis.report.compare` computes all of them for a set
of networks, next to the exact value of the quantity each one is about (every crash
configuration evaluated in rational arithmetic, since these small ReLU networks have
rational weights).

A bound can be far above the truth and still be useful to *compare* networks, if it orders
them like the truth does. The **rank loss** is the fraction of pairs of networks that a bound
orders the wrong way (0 = perfect ranking, 0.5 = no better than chance).

The same from the shell: ``symft report NET1 NET2 … --input X --p 1:0.05 --figure F.png``.
"""

# %%
import math

import matplotlib.pyplot as plt

from symft.analysis.report import compare
from symft.faults import NeuronCrash
from symft.graph.network import random_network

# Ten small ReLU networks with rational weights (multiples of 1/4).
nets = {f"seed {s}": random_network([3, 6, 4, 1], seed=s, activation="relu",
                                    rational_denominator=4)
        for s in range(10)}
report = compare(nets, [1.0, -0.5, 0.25], NeuronCrash({1: 0.05}),
                 samples=2000, seed=0)
print("reference:", set(report.reference_source))
for name, _, _, rigorous in report.bounds:
    kind = "bound" if rigorous else "estimate"
    print(f"{name:<13} {kind:<9} rank loss {report.rank_loss[name]:.2f}")

# %%
# Left: each bound (or estimate) against the exact value of its quantity, one point per
# network; points above the dashed line over-estimate. Right: the rank losses.
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4.2))
rows = zip(report.bounds, report.values, report.reference)
for j, ((name, _, _, rigorous), vals, refs) in enumerate(rows):
    pts = [(abs(r), abs(v)) for v, r in zip(vals, refs)
           if math.isfinite(v) and math.isfinite(r) and r and v]
    if pts:
        ax1.scatter(*zip(*pts), s=14, marker="o" if rigorous else "x",
                    color=f"C{j % 10}",
                    label=name + ("" if rigorous else " (estimate)"))
refs = [abs(r) for row in report.reference for r in row
        if math.isfinite(r) and r]
lims = [min(refs), max(refs)]
ax1.plot(lims, lims, "k--", lw=0.8, label="= exact")
ax1.set_xscale("log")
ax1.set_yscale("log")
ax1.set_xlabel("exact value (rational enumeration)")
ax1.set_ylabel("bound or estimate")
ax1.legend(fontsize=6, ncol=2, loc="upper left")
names = [n for n, v in report.rank_loss.items() if v is not None]
ax2.barh(names, [report.rank_loss[n] for n in names], color="C0")
ax2.axvline(0.5, color="k", ls=":", lw=0.8)
ax2.set_xlabel("rank loss (fraction of pairs ordered wrongly)")
ax2.set_xlim(0, 1)
ax2.invert_yaxis()
ax2.tick_params(axis="y", labelsize=7)
fig.tight_layout()

# %%
# The norm products (b1) and the [SRDS] bound are ten to a few hundred times the exact
# value; b2 is much closer, and exact on some networks. The first-order estimates sit on the line
# for most networks but may fall on either side of it (they are estimates, not bounds), and the
# single-crash term b4 ranks these networks perfectly. AP10 as printed is far above: symft
# evaluates it as printed and labels it an estimate, since the printed recursion is not proved.
