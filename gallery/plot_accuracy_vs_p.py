r"""
Accuracy of a digits classifier as neurons crash
================================================

Every hidden neuron of the example network (a 64 → 32 → 16 → 10 sigmoid net trained on
scikit-learn's 8×8 digits) crashes independently with probability :math:`p` and then outputs 0
(theory D3, :ref:`theory §2 <theory-s2>`). How often is the digit still recognised?

:func:`symft.accuracy` answers over a set of test digits with an interval for each
:math:`p`. Here the method is ``"rigorous"``: the crash configurations with at most a few
failures are evaluated one by one, every class decision is proved despite floating-point
rounding, and the probability of the configurations not evaluated (known exactly) is added to
the width. So each shaded band is *proved* to contain the accuracy under crashes; where it is
wide, it is wide because the unexplored configurations are likely, not because of noise.

A similar figure from the shell, over all 450 test digits with every hidden neuron crashing
(and the mean size of the output change as a third panel): ``symft sweep
examples/digits_sigmoid.json --data digits --p 1e-4:3e-2:6 --figure sweep.png``.
"""

# %%
# The network, and the first 100 test digits (not seen in training).
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import symft
from symft.faults import NeuronCrash
from symft.io.datasets import digits

# The repository's root: this folder, or a parent when run from gallery/.
ROOT = next(d for d in (Path.cwd(), *Path.cwd().parents)
            if (d / "examples" / "digits_sigmoid.json").exists())
net = symft.load_network(ROOT / "examples" / "digits_sigmoid.json")
data = digits("test")
X, y = data.X[:100], data.y[:100]
print(net.hidden_sites, X.shape)

# %%
# Crashes at the second hidden layer only (16 neurons), then at every hidden neuron (48).
ps = np.geomspace(1e-4, 3e-2, 6)
curves = {}
for label, sites in (("crashes at the 16 neurons of layer 2", ["2"]),
                     ("crashes at all 48 hidden neurons", ["1", "2"])):
    rows = []
    for p in ps:
        model = NeuronCrash({s: float(p) for s in sites})
        r = symft.accuracy(net, X, y, model, method="rigorous",
                           max_configurations=2 ** 18, top=0)
        rows.append((r.accuracy_lo, r.accuracy_hi,
                     r.change_lo, r.change_hi))
    curves[label] = np.array(rows)
    lo, hi = rows[-1][:2]
    print(f"{label}: accuracy at p = {ps[-1]:g} in [{lo:.4f}, {hi:.4f}]",
          f"({r.method})")
clean = r.clean_accuracy

# %%
# The accuracy and the probability that the predicted class changes, each with its proved interval.
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.6))
for label, a in curves.items():
    ax1.fill_between(ps, a[:, 0], a[:, 1], alpha=0.3)
    ax1.plot(ps, (a[:, 0] + a[:, 1]) / 2, "o-", ms=3, label=label)
    ax2.fill_between(ps, a[:, 2], a[:, 3], alpha=0.3)
    ax2.plot(ps, (a[:, 2] + a[:, 3]) / 2, "o-", ms=3, label=label)
ax1.axhline(clean, color="k", lw=0.8, ls="--", label="without crashes")
ax1.set_ylabel("accuracy under crashes")
ax2.set_ylabel("P(predicted class changes)")
ax2.set_yscale("log")
for ax in (ax1, ax2):
    ax.set_xscale("log")
    ax.set_xlabel("crash probability p of each neuron")
    ax.grid(alpha=0.3)
ax1.legend(fontsize=7)
fig.suptitle("100 test digits; bands: proved intervals (rounding included)",
             fontsize=9)
fig.tight_layout()

# %%
# At small :math:`p` the change probability grows linearly (one crash at a time is what matters,
# the single-crash term b4 of :ref:`theory §5 <theory-s5>`); at :math:`p = 0.03` with 48 neurons,
# configurations with many crashes become likely and the proved interval widens.
# ``symft accuracy … --method statistical`` then gives a narrower *statistical* interval
# (stratified Monte Carlo, at a stated confidence level).
