r"""
E Δ(p): the exact value, Theorem 1 and Monte Carlo
==================================================

Three ways to get the mean output error :math:`\mathbb{E}\Delta` of a small tanh network
(4 → 12 → 6 → 1) when each of the 12 neurons of its first hidden layer crashes with
probability :math:`p`:

* **exact** — every one of the :math:`2^{12}` crash configurations evaluated, with an outward-
  rounded interval that contains the true value, floating-point rounding included
  (:func:`symft.moments` with ``method="enclosure"`` and all configurations);
* **Theorem 1 (T1)** — the first-order Taylor estimate :math:`p \sum_i \partial_i` from one
  backward pass, with its rigorous remainder bound (:func:`symft.engines.taylor.t1`,
  :ref:`theory §5 <theory-s5>`);
* **Monte Carlo** — sampled crash configurations, with a 95% confidence interval
  (:func:`symft.engines.sampling.monte_carlo`; statistical, not proved).

T1 is a straight line in :math:`p`. The exact curve is nearly straight too, but with another
slope, and the proved band "T1 ± remainder" always contains it (the script checks this).
Monte Carlo scatters around the exact value within its interval.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

import symft
from symft.engines.sampling import monte_carlo
from symft.engines.taylor import t1
from symft.faults import NeuronCrash
from symft.graph.network import random_network

net = random_network([4, 12, 6, 1], seed=1, activation="tanh")
x = [1.0, -0.5, 0.75, 0.25]
ps = np.linspace(0.01, 0.5, 12)

exact_lo, exact_hi, t1_mean, t1_rem = [], [], [], []
for p in ps:
    model = NeuronCrash({1: float(p)})
    m = symft.moments(net, x, model, method="enclosure",
                      configurations=2 ** 12)       # all of them
    exact_lo.append(m.mean_lo[0])
    exact_hi.append(m.mean_hi[0])
    r = t1(net, x, model)
    t1_mean.append(r.mean[0])
    t1_rem.append(r.remainder_mean[0])
exact_lo, exact_hi = np.array(exact_lo), np.array(exact_hi)
t1_mean, t1_rem = np.array(t1_mean), np.array(t1_rem)
print(f"widest exact interval: {np.max(exact_hi - exact_lo):.2e}")
# T1 ± its remainder contains the exact value, at every p:
assert np.all(t1_mean - t1_rem <= exact_lo)
assert np.all(exact_hi <= t1_mean + t1_rem)

mc_ps = ps[::2]
mc = [monte_carlo(net, x, NeuronCrash({1: float(p)}), 2000, seed=0)
      for p in mc_ps]

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.6))
ax1.fill_between(ps, t1_mean - t1_rem, t1_mean + t1_rem, color="C1",
                 alpha=0.2, label="T1 ± remainder (proved)")
ax1.plot(ps, t1_mean, "C1--", label="T1: p Σ ∂_i")
ax1.plot(ps, (exact_lo + exact_hi) / 2, "C0-", lw=2, label="exact")
mc_mean = np.array([r.mean[0] for r in mc])
mc_lo = np.array([r.ci_low[0] for r in mc])
mc_hi = np.array([r.ci_high[0] for r in mc])
ax1.errorbar(mc_ps, mc_mean, yerr=[mc_mean - mc_lo, mc_hi - mc_mean],
             fmt="C2o", ms=4, capsize=2, label="Monte Carlo, 95% interval")
ax1.set_xlabel("crash probability p")
ax1.set_ylabel("E Δ")
ax1.legend(fontsize=7)
ax1.grid(alpha=0.3)
exact = (exact_lo + exact_hi) / 2
ax2.loglog(ps, np.abs(t1_mean - exact), "C1o-", ms=3, label="|T1 − exact|")
ax2.loglog(ps, t1_rem, "C1:", label="T1's proved remainder bound")
ax2.set_xlabel("crash probability p")
ax2.set_ylabel("error of T1")
ax2.legend(fontsize=7)
ax2.grid(alpha=0.3)
fig.tight_layout()

# %%
# The error of T1 does not vanish faster than :math:`p` here: with only 12 neurons, one crash
# is a large change, and Theorem 1's remainder is of order :math:`r^2` with
# :math:`r = p + 1/n` — the :math:`1/n` part does not go away as :math:`p \to 0`. On wide layers
# (:ref:`theory §4 <theory-s4>`) it does, which is when T1 is the right tool.
