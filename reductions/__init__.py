"""Reductions between decision problems and symft's fault-tolerance questions.

THEORY §3 (P1): deciding ``E Δ^k > 0`` under Bernoulli input crashes is
NP-hard by a reduction from SUBSET SUM.  This package will hold one module per
reduction, the solvers (brute force, meet-in-the-middle, Z3, SAT) and the
checker that verifies each reduction (issue 5).  It is empty of code for now.
"""
