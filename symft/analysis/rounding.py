r"""Exact numbers read as floats the safe way: rounded up, or bracketed.

The bounds of :mod:`symft.analysis.bounds` and the constants of
:mod:`symft.analysis.fep` must hold for the numbers the user *gave*, not for
their nearest floats.  :func:`float_up` rounds an exact number up to a float;
:func:`input_box` brackets a problem's inputs between floats (a point when
every input is a float, which is the binary value it holds).

Examples
--------
>>> from symft.graph.network import mean_network
>>> from symft.problem import make_problem
>>> lo, hi, exact = input_box(make_problem(mean_network(2), ["1/3", 0.5]))
>>> Fraction(lo[0, 0]) < Fraction(1, 3) < Fraction(hi[0, 0]), exact[0, 0]
(True, Fraction(1, 3))
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import sympy as sp

from ..graph.numbers import to_fraction
from ..walk.interval import up

__all__ = ["float_up", "input_box"]


def float_up(v) -> float:
    r"""The smallest float64 ``≥ v`` for an exact number ``v`` (a float stays as it is).

    Integers, ``Fraction`` and SymPy rationals are compared exactly with
    the float nearest to them; other SymPy numbers (``sqrt(2)/10``) are
    evaluated to 30 digits and moved up by two ulps.

    Examples
    --------
    >>> float_up(sp.Rational(1, 3)) >= 1 / 3, float_up(0.1), float_up(sp.oo)
    (True, 0.1, inf)
    >>> Fraction(float_up(sp.Rational(1, 3))) >= Fraction(1, 3)
    True
    """
    if isinstance(v, (float, np.floating)):
        return float(v)
    if isinstance(v, sp.Basic):
        if v in (sp.oo, sp.zoo):
            return math.inf
        if v == -sp.oo:
            return -math.inf
        if v.is_Rational:
            v = Fraction(int(v.p), int(v.q))
        else:
            f = float(sp.N(v, 30))
            return float(up(up(f)))
    fr = Fraction(v)
    f = float(fr)
    return f if Fraction(f) >= fr else float(up(f))


def input_box(pb):
    """``(lo, hi, exact)`` for the inputs of a :class:`~symft.problem.Problem`: float arrays ``(B, n_in)``.

    ``lo ≤ x ≤ hi`` for the inputs as given.  ``exact`` is the float array
    itself when every input is a float (the box is a point; Fractions are
    built only if someone needs them), an object array of Fractions for
    exact rational inputs, or ``None`` when an input is irrational.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> from symft.problem import make_problem
    >>> lo, hi, exact = input_box(make_problem(mean_network(2), [0.25, 1]))
    >>> lo.tolist() == hi.tolist() == [[0.25, 1.0]]
    True
    """
    if pb.exact_given is None:
        return pb.X.copy(), pb.X.copy(), pb.X
    shape = pb.X.shape
    lo, hi = np.empty(shape), np.empty(shape)
    exact = np.empty(shape, dtype=object)
    rational = True
    for b, row in enumerate(pb.exact_rows):
        for i, v in enumerate(row):
            lo[b, i] = -float_up(-v)
            hi[b, i] = float_up(v)
            if getattr(v, "is_Rational", False):
                exact[b, i] = to_fraction(v)
            else:
                rational = False
    return lo, hi, (exact if rational else None)
