"""Reductions between decision problems and symft's fault-tolerance questions.

theory §3 (P1): deciding ``E Δ^k > 0`` under Bernoulli input crashes is
NP-hard by a reduction from SUBSET SUM.  One module per idea:

* :mod:`reductions.subset_sum` — SUBSET SUM instances (random, planted-yes,
  known-no) and four solvers (brute force, meet in the middle, Z3, SAT via
  pseudo-boolean encodings), each returning a re-checked witness, a proof of
  absence, or *unknown*;
* :mod:`reductions.p1` — the P1 network as printed and corrected (errata E1,
  E2), deciding an instance through the network and comparing with the
  solvers.
"""
