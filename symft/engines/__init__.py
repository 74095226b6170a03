"""The engines: what symft computes, each on top of the walker (:mod:`symft.walk`).

* :mod:`symft.engines.forward` — evaluation with and without failures, derivatives.
* :mod:`symft.engines.symbolic` — the output as SymPy expressions with crash indicators.
* :mod:`symft.engines.taylor` — the Taylor expansion of the error, Theorem 1 and its rigorous remainder.
* :mod:`symft.engines.sampling` — Monte Carlo with confidence intervals.
* :mod:`symft.engines.moments` — ``E Δ`` and ``Var Δ`` from the best source available (the one chooser).
"""
