r"""
The law of the output error Δ
=============================

When each of the 16 neurons of the second hidden layer of the digits network crashes with
probability :math:`p`, the change of an output, :math:`\Delta = y_{\text{faulty}} - y` (theory D4,
:ref:`theory §2 <theory-s2>`), is a random variable with one value per crash configuration:
:math:`2^{16} = 65\,536` of them, each with probability
:math:`p^k (1 - p)^{16 - k}` for :math:`k` crashes.

:func:`symft.engines.enumeration.error_distribution` evaluates every configuration (float64,
no sampling) and returns the law of Δ: its distinct values (atoms) and their probabilities.
The figure shows that law for the score of class 0 on a test image of a 0. At small
:math:`p` almost all the mass sits at :math:`\Delta = 0` (no crash) and the rest on the 16
values of the single crashes (the jumps of the blue curve); at :math:`p = 0.1` the atom at 0
keeps under a fifth of the mass and the rest spreads into a broad, skewed shape over
:math:`[-5, 7]`, far wider than its mean. The mean :math:`\mathbb{E}\Delta` and the variance
(what Theorem 1 and the certificates use, :ref:`theory §5 <theory-s5>` and
:ref:`§6 <theory-s6>`) summarise that shape in two numbers.
"""

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import symft
from symft.engines.enumeration import error_distribution
from symft.faults import NeuronCrash

# the repository's root: this folder (run from the root) or a parent (run from gallery/)
# The repository's root: this folder, or a parent when run from gallery/.
ROOT = next(d for d in (Path.cwd(), *Path.cwd().parents)
            if (d / "examples" / "digits_sigmoid.json").exists())
net = symft.load_network(ROOT / "examples" / "digits_sigmoid.json")
x = np.loadtxt(ROOT / "examples" / "digit0.csv", delimiter=",")

laws = {}
for p in (0.01, 0.1, 0.3):
    law = error_distribution(net, x, NeuronCrash({"2": p}), decimals=12)
    law = law.marginal(0)                       # the class-0 score only
    laws[p] = (np.array([a[0] for a in law.atoms], float),
               np.array(law.probabilities, float))
    print(f"p = {p}: {len(law)} distinct values of Δ_0,",
          f"E Δ_0 = {law.mean()[0]:.6f},",
          f"P(Δ_0 = 0) = {law.cdf(0) - law.cdf(-1e-300):.6f}")

# %%
# Left: the probability mass at p = 0.1, binned (the atom at 0 drawn apart). Right: the
# cumulative distribution P(Δ_0 ≤ t) for three crash probabilities.
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.6))
atoms, probs = laws[0.1]
zero = atoms == 0
bins = np.linspace(atoms.min(), atoms.max(), 60)
ax1.hist(atoms[~zero], bins=bins, weights=probs[~zero], color="C0",
         label="mass of Δ ≠ 0 (binned)")
ax1.bar([0.0], [probs[zero].sum()], width=(bins[1] - bins[0]), color="C3",
        label="P(Δ = 0)")
ax1.axvline(float(atoms @ probs), color="k", ls="--", lw=0.8, label="E Δ")
ax1.set_yscale("log")
ax1.set_xlabel("Δ_0 (change of the class-0 score)")
ax1.set_ylabel("probability")
ax1.set_title("p = 0.1", fontsize=9)
ax1.legend(fontsize=7)
for p, (a, w) in laws.items():
    ax2.step(a, np.cumsum(w), where="post", label=f"p = {p}")
ax2.set_xlabel("t")
ax2.set_ylabel("P(Δ_0 ≤ t)")
ax2.grid(alpha=0.3)
ax2.legend(fontsize=7)
fig.suptitle("every one of the 65,536 crash configurations evaluated",
             fontsize=9)
fig.tight_layout()

# %%
# As :math:`p` grows the mass leaves 0 and the clusters merge; a tail event such as
# :math:`P(\Delta \ge \varepsilon)` can be read straight off this law, which is what the
# (ε, δ) certificates of :ref:`theory §6 <theory-s6>` bound from the mean and variance when the
# law is too large to enumerate.
