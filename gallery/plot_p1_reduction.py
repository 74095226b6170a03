r"""
P1: computing E Δ is as hard as SUBSET SUM
==========================================

Proposition P1 (:ref:`theory §3 <theory-s3>`) turns a SUBSET SUM instance — integers
:math:`a_1, \dots, a_M`; is there a non-empty subset summing to 0? — into a tiny network: the
input is :math:`x = a`, every input crashes with probability :math:`p` (so the surviving
inputs are a random subset :math:`S`), two ramp neurons and a threshold neuron make the output
1 exactly when :math:`\sum_{i \in S} a_i = 0`. Then

.. math:: \mathbb{E}\Delta = \sum_{S \text{ zero-sum}} (1 - p)^{|S|} p^{M - |S|},

and the empty set (every input crashed) always contributes :math:`p^M`. So
:math:`\mathbb{E}\Delta = p^M` exactly when the answer is *no*, and
:math:`\mathbb{E}\Delta > p^M` when it is *yes* — the corrected decision rule; the printed
rule ":math:`\mathbb{E}\Delta > 0`" says yes to everything (erratum E2, :doc:`/errata`).

:func:`reductions.p1.p1_expected_error` computes :math:`\mathbb{E}\Delta` exactly
(``fractions.Fraction``) by running the network on all :math:`2^M` crash configurations.
From the shell: ``symft reduce subset-sum 3 5 -8 2``.
"""

# %%
from fractions import Fraction

import matplotlib.pyplot as plt
import numpy as np

from reductions.p1 import p1_decide, p1_expected_error, p1_output_counts

instances = {"yes: (3, 5, −8, 2)  [3 + 5 − 8 = 0]": [3, 5, -8, 2],
             "no: (3, 5, 9, 2)": [3, 5, 9, 2]}
ps = [Fraction(k, 100) for k in (1, 2, 5, 10, 20, 30, 50)]
ratios = {}
for label, a in instances.items():
    M = len(a)
    e = [p1_expected_error(a, p=p) for p in ps]            # exact rationals
    ratios[label] = [float(v / p ** M) for v, p in zip(e, ps)]
    d = p1_decide(a)
    print(f"{label}: the network says {'yes' if d.answer else 'no'};",
          "E Δ / p^M =", ", ".join(str(v / p ** M) for v, p in zip(e, ps)))
    if not d.answer:                          # exactly p^M, in rationals
        assert all(v == p ** M for v, p in zip(e, ps))

# %%
# Left: E Δ divided by p^M, the contribution of the empty set. Right: for each number of
# surviving inputs, how many surviving sets make the network output 1.
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.6))
for label, r in ratios.items():
    ax1.plot([float(p) for p in ps], r, "o-", ms=4, label=label)
ax1.axhline(1.0, color="k", ls="--", lw=0.8, label="p^M (empty set only)")
ax1.set_xscale("log")
ax1.set_yscale("log")
ax1.set_xlabel("crash probability p of each input")
ax1.set_ylabel("E Δ / p^M (exact)")
ax1.legend(fontsize=7)
ax1.grid(alpha=0.3, which="both")
width = 0.38
for j, (label, a) in enumerate(instances.items()):
    _, counts = p1_output_counts(a)
    ax2.bar(np.arange(len(counts)) + (j - 0.5) * width, counts, width,
            label=label.split(":")[0])
ax2.set_xlabel("number of surviving inputs |S|")
ax2.set_ylabel("surviving sets with output 1")
ax2.set_xticks(range(len(counts)))
ax2.legend(fontsize=7)
fig.tight_layout()

# %%
# Both instances have the empty set (``|S| = 0``) as a "zero sum"; only the yes-instance has
# another one, {3, 5, −8}, and its weight :math:`(1-p)^3 p` dominates :math:`p^4` as
# :math:`p \to 0`. Deciding :math:`\mathbb{E}\Delta > p^M` for any network would therefore decide
# SUBSET SUM, which is NP-hard.
