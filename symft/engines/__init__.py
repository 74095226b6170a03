"""The engines: what symft computes, each on top of the walker (:mod:`symft.walk`).

* :mod:`symft.engines.forward` — evaluation with and without failures, derivatives.
"""
