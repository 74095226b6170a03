"""Printed bounds stay bounds: every library text of a proved interval contains it (checked in Fractions).

The printed decimal is read back exactly (``Fraction(Decimal(text))``) and compared with the proved
ends as exact rationals — the binary value of a float end, or the exact rational answer of a rational
enumeration — on numbers from 1e-300 to 1e300 and on a network whose weights span 1e-8 to 1e12.
"""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given, settings, strategies as st

import symft
from symft.analysis.report import check, compare
from symft.engines.enclosure import enclosure
from symft.engines.enumeration import enumerate_crashes
from symft.engines.taylor import remainder_bound, t1
from symft.faults import NeuronCrash
from symft.graph.network import Network, mean_network
from symft.rounding import exact_value, interval, plus_minus, rounded

NUM = r"-?(?:\d+\.?\d*(?:e[+-]?\d+)?|inf)"


def q(text) -> Fraction:
    """The exact value of a printed decimal."""
    return Fraction(Decimal(text))


def ends(text):
    """``(lo, hi)`` of a printed interval ``[a, b]`` or a single number."""
    m = re.fullmatch(rf"\[({NUM}), ({NUM})\]", text)
    return (q(m.group(1)), q(m.group(2))) if m else (q(text), q(text))


finite = st.floats(allow_nan=False, allow_infinity=False)
rational = st.fractions(max_denominator=10 ** 30)
scaled = st.tuples(st.integers(-10 ** 20, 10 ** 20), st.integers(1, 10 ** 20), st.integers(-300, 300)).map(
    lambda t: Fraction(t[0], t[1]) * Fraction(10) ** t[2])


@settings(max_examples=400, deadline=None)
@given(st.one_of(finite, scaled, rational), st.one_of(finite, scaled, rational), st.integers(1, 17))
def test_a_printed_interval_contains_the_proved_one(a, b, digits):
    lo, hi = sorted((Fraction(a), Fraction(b)))
    plo, phi = ends(interval(lo, hi, digits))
    assert plo <= lo and hi <= phi
    for v in (a, b):                     # the float itself, read as the binary number it holds
        assert q(rounded(v, "down", digits)) <= Fraction(v) <= q(rounded(v, "up", digits))


@settings(max_examples=300, deadline=None)
@given(finite, st.floats(min_value=0, max_value=1e300), st.integers(1, 17), st.integers(1, 6))
def test_centre_plus_minus_radius_covers_the_proved_interval(c, r, digits, rdigits):
    text = plus_minus(c, r, digits, rdigits)
    m = re.fullmatch(rf"({NUM}) ± ({NUM})", text)
    pc, pr = q(m.group(1)), q(m.group(2))
    assert pc - pr <= Fraction(c) - Fraction(r) and Fraction(c) + Fraction(r) <= pc + pr


def test_rounding_to_nearest_would_have_claimed_less():
    # the reason for this module: 6 digits to nearest put an upper end below the bound
    v = 0.1234564
    assert Fraction(f"{v:.6g}") < Fraction(v) <= q(rounded(v, "up"))
    assert interval(0.1234564, 0.1234564) == "[0.123456, 0.123457]"


def test_every_kind_of_number_is_read_exactly():
    x = 0.1
    for v in (x, np.float64(x), np.float32(0.1), sympy.Float(x), mpmath.mpf(x), Fraction(x)):
        f, exact = exact_value(v)
        assert exact and f == Fraction(float(v))
    f, exact = exact_value(sympy.sqrt(2))
    assert not exact and abs(f - Fraction(14142135623730950488, 10 ** 19)) < Fraction(1, 10 ** 18)
    assert q(rounded(sympy.sqrt(2), "down", 20)) < q(rounded(sympy.sqrt(2), "up", 20))
    assert q(rounded(sympy.sqrt(2), "down", 20)) ** 2 < 2 < q(rounded(sympy.sqrt(2), "up", 20)) ** 2
    assert (rounded(float("inf"), "up"), rounded(-float("inf"), "down"), rounded(sympy.oo, "up")) == ("inf", "-inf",
                                                                                                     "inf")
    with pytest.raises(ValueError, match="direction"):
        rounded(1.0, "nearest")


# ---------------------------------------------------------------------- the library's own texts

def wide_network():
    """A relu chain whose weights span 1e-8 to 1e12 (floats: the enumeration reads them as binary rationals)."""
    return Network.from_numpy([[[1e12, 1e-8], [3.0, -2e-8], [1 / 3, 7.0]], [[1e-8, -1e12, 5.0]]],
                              [[0.0, 1e-8, 0.0], [1 / 7]], activations="relu")


def test_enclosure_summary_contains_the_exact_answer():
    net, x, m = wide_network(), np.array([1 / 3, 2.0]), NeuronCrash({1: Fraction(1, 10)})
    exact = enumerate_crashes(net, x, m, exact=True)          # every configuration in rational arithmetic
    assert exact.exact
    e = enclosure(net, x, m, order=3)
    text = e.summary()
    row = text.splitlines()[2].split()
    lo, hi, vlo, vhi = q(row[1]), q(row[2]), q(row[4]), q(row[5])
    assert lo <= Fraction(e.mean_lo[0]) and Fraction(e.mean_hi[0]) <= hi
    assert vlo <= Fraction(e.var_lo[0]) and Fraction(e.var_hi[0]) <= vhi
    assert lo <= Fraction(exact.mean[0]) <= hi and vlo <= Fraction(exact.var[0]) <= vhi
    mass = q(re.search(rf"mass ≥ ({NUM})", text).group(1))
    assert mass <= Fraction(e.mass)


def test_a_result_repr_rounds_interval_ends_outward():
    e = enclosure(wide_network(), np.array([1 / 3, 2.0]), NeuronCrash({1: 0.1}), order=3)
    text = repr(e)
    for name, side in (("mean_lo", -1), ("mean_hi", 1), ("var_lo", -1), ("var_hi", 1)):
        printed = q(re.search(rf"{name}=\[({NUM})\]", text).group(1))
        true = Fraction(getattr(e, name)[0])
        assert (printed <= true) if side < 0 else (printed >= true), name
    assert "mean_lo" in e._repr_html_()


def test_t1_text_covers_its_proved_radius():
    net = symft.random_network([3, 8, 2], seed=1)
    r = t1(net, np.array([0.3, -1.2, 2.0]), {1: 0.05})
    assert r.remainder_mean is not None
    lines = [s for s in str(r).splitlines() if "output" in s]
    for k, line in enumerate(lines):
        for name, rad, val in (("E Δ", r.remainder_mean, r.mean), ("Var Δ", r.remainder_var, r.var)):
            m = re.search(rf"{name} = ({NUM}) ± ({NUM})", line)
            c, rr = q(m.group(1)), q(m.group(2))
            v, d = Fraction(float(np.ravel(val)[k])), Fraction(float(np.ravel(rad)[k]))
            assert c - rr <= v - d and v + d <= c + rr, line
    rb = remainder_bound(net, np.array([0.3, -1.2, 2.0]), {1: 0.05})
    for k, line in enumerate(str(rb).splitlines()):
        nums = re.findall(rf"≤ ({NUM})", line)
        assert q(nums[0]) >= Fraction(rb.mean_bound[k]) and q(nums[1]) >= Fraction(rb.var_bound[k])
        assert q(nums[2]) >= Fraction(rb.D1[k]) and q(nums[3]) >= Fraction(rb.D2[k])


def test_check_text_prints_every_proved_interval_outward():
    net = symft.random_network([3, 6, 2], seed=0, activation="tanh")
    r = check(net, [1.0, 1.0, 1.0], NeuronCrash({1: 0.01}), samples=2000, seed=0)
    assert r.exact_source == "enclosure"
    lines = r.text().splitlines()
    seen = 0
    for c in r.comparisons:
        line = next(s for s in lines if s.startswith(f"output {c['output']}  {c['quantity']}")
                    and c["a"] in s and c["b"] in s)
        printed = [ends(t) for t in re.findall(rf"\[{NUM}, {NUM}\]", line)]
        proved = [v for v in (c["value_a"], c["value_b"]) if isinstance(v, list)]
        assert len(printed) == len(proved), line
        for (plo, phi), (lo, hi) in zip(printed, proved):
            assert plo <= Fraction(lo) and Fraction(hi) <= phi, line
            seen += 1
    assert seen >= 4


def test_compare_text_rounds_proved_upper_bounds_up():
    r = compare(mean_network(3), [[1, 2, 3]], NeuronCrash({0: 0.1}), samples=200, seed=0)
    rows = r.text().splitlines()[1:1 + len(r.bounds)]
    checked = 0
    for (name, _, _, rigorous), vals, row in zip(r.bounds, r.values, rows):
        cell = re.search(rf"({NUM}) / ", row)
        if rigorous and cell:
            assert q(cell.group(1)) >= Fraction(vals[0]), row
            checked += 1
    assert checked >= 1
