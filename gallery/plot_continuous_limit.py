r"""
The continuous limit: Var Δ shrinks like 1/n
============================================

A *continuous* network (AD1, :ref:`theory §1 <theory-s1>`) has kernels :math:`W_l(t, \tau)`
instead of weight matrices; sampling them on a grid of :math:`n` points
(:func:`symft.theory.continuous.discretize`, AP4) gives a family of ordinary networks of
width :math:`n` that all compute nearly the same function. Crash each neuron of the first
hidden layer with probability :math:`p = 0.01`: every neuron now carries only
:math:`1/n` of the signal, so the variance of the output error falls like :math:`1/n`
(:ref:`theory §4 <theory-s4>`, P4, and Theorem 1 of :ref:`§5 <theory-s5>`). Wider is more
fault tolerant.

Not so for a network at random initialization (weights of either sign, no continuous limit,
AP6): there the variance does not decay with the width at all.

The variance here is Theorem 1's first-order value with its rigorous remainder bound
(:func:`symft.engines.taylor.t1`), so the filled band is proved to contain the true
:math:`\operatorname{Var}\Delta`.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

from symft.engines.taylor import t1
from symft.graph.network import random_network
from symft.theory.continuous import (ContinuousNetwork, discretize,
                                     discretize_input)

cnet = ContinuousNetwork(["1 + t*tau", "sin(pi*(t + tau))", "cos(pi*tau)"],
                         activations="tanh")
print(cnet)
ns = np.array([8, 16, 32, 64, 128])
var, rem, var_random = [], [], []
for n in ns:
    x = discretize_input("1 - t/2", int(n))
    r = t1(discretize(cnet, int(n)), x, {1: 0.01})
    var.append(r.var[0])
    rem.append(r.remainder_var[0])
    rnet = random_network([int(n)] * 3 + [1], seed=0, activation="tanh")
    var_random.append(t1(rnet, x, {1: 0.01}, remainder=False).var[0])
var, rem = np.array(var), np.array(rem)
print("n · Var Δ:", np.round(ns * var, 7))

# %%
fig, ax = plt.subplots(figsize=(6, 4))
ax.fill_between(ns, var - rem, var + rem, alpha=0.3, color="C0")
ax.loglog(ns, var, "C0o-",
          label="discretized continuous network (T1 ± proved remainder)")
ax.loglog(ns, var[0] * ns[0] / ns, "k--", lw=0.8,
          label="slope −1: Var Δ ∝ 1/n")
ax.loglog(ns, var_random, "C3s-",
          label="random initialization (T1 estimate)")
ax.set_xlabel("width n of every hidden layer")
ax.set_ylabel("Var Δ at p = 0.01")
ax.legend(fontsize=7)
ax.grid(alpha=0.3, which="both")
fig.tight_layout()

# %%
# ``n · Var Δ`` settles to a constant: the variance halves each time the width doubles. This is
# why Theorem 1's error term is of order :math:`r = p + 1/n` and why the papers ask for wide
# layers (A2) and balanced weights (AA1) before trusting small-:math:`p` estimates.
