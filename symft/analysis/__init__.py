"""What the engines' numbers mean: bounds, certificates and cross-checks.

* :mod:`symft.analysis.bounds` — every bound of the papers (b1–b4, AC1, AP10, the [SRDS] expected bound);
* :mod:`symft.analysis.ranking` — the supplement's random networks, rank loss and relative error (comparing bounds);
* :mod:`symft.analysis.fep` — Forward Error Propagation, the worst-case bound of *When Neurons Fail*;
* :mod:`symft.analysis.certify` — (ε, δ) certificates, tail bounds, the median trick;
* :mod:`symft.analysis.report` — every bound beside the exact value and Monte Carlo, and the three-way check.
"""
