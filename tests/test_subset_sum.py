"""SUBSET SUM: generators, four solvers cross-checked, witnesses re-checked independently."""

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reductions.subset_sum import (
    SAT_SOLVERS, as_instance, check_witness, known_no, planted_yes, random_instance, sat_encoding,
    solve, solve_brute_force, solve_meet_in_the_middle, solve_sat, solve_z3,
)
from symft.errors import InvalidArgument, TooLargeError


def naive(a):
    """Independent oracle: itertools over every non-empty subset."""
    for r in range(1, len(a) + 1):
        for S in itertools.combinations(range(len(a)), r):
            if sum(a[i] for i in S) == 0:
                return True
    return False


ALL = ["brute-force", "meet-in-the-middle", "z3", "sat:glucose4", "sat:cadical153", "sat:minisat22"]


@pytest.mark.parametrize("a, expected", [
    ([3, -3], True),          # 3 + (−3) = 0
    ([1, 2, 4], False),       # all positive
    ([0], True),              # {0} sums to 0
    ([5], False),
    ([2, 3, -5, 7], True),    # 2 + 3 − 5
    ([7, -2, -2, -2], False),  # 7 − 6 = 1, −2·k < 0
    ([1, 1, 1, -3], True),
])
@pytest.mark.parametrize("method", ALL)
def test_hand_instances(a, expected, method):
    r = solve(a, method)
    assert r.answer is expected
    if expected:
        assert check_witness(a, r.witness)
    else:
        assert r.witness is None and r.reason


@settings(deadline=None, max_examples=40)
@given(st.lists(st.integers(-30, 30), min_size=1, max_size=9))
def test_solvers_agree_with_naive(a):
    truth = naive(a)
    for m in ["brute-force", "meet-in-the-middle", "z3", "sat:glucose4", "sat:cadical153"]:
        r = solve(a, m)
        assert r.answer is truth, (m, a)
        if truth:
            assert check_witness(a, r.witness)


def test_generators():
    for seed in range(20):
        y = planted_yes(10, 10 ** 6, seed=seed)
        assert check_witness(y.a, y.planted)
        assert solve_meet_in_the_middle(y).answer is True
        n = known_no(10, 10 ** 6, seed=seed)
        assert solve_meet_in_the_middle(n).answer is False
        assert any(v < 0 for v in n.a) or seed  # both signs occur (checked on seed 0 at least)
    assert random_instance(5, 9, seed=3) == random_instance(5, 9, seed=3)
    assert random_instance(5, 9, seed=3) != random_instance(5, 9, seed=4)
    with pytest.raises(InvalidArgument):
        random_instance(5, 9, seed=None)


def test_check_witness_is_strict():
    a = [4, -4, 1]
    assert check_witness(a, (0, 1))
    assert not check_witness(a, (0,))
    assert not check_witness(a, ())
    assert not check_witness(a, (0, 1, 1))
    assert not check_witness(a, (0, 3))
    assert not check_witness(a, None)


def test_big_coefficients_and_object_sums():
    # sums beyond int64: meet in the middle falls back to Python integers
    big = 2 ** 70
    a = [big, 3, -big - 3, 5]
    r = solve_meet_in_the_middle(a)
    assert r.answer and check_witness(a, r.witness)
    assert solve_z3(a).answer is True
    assert solve_brute_force([big, big + 1]).answer is False


def test_sat_encoding_variants_and_errors():
    a = [6, -2, -4, 11]
    for enc in ["adder", "binmerge", "seqcounter"]:
        assert solve_sat(a, encoding=enc).answer is True
    assert solve_sat([0, 0], solver="minisat-gh").answer is True
    clauses, nv = sat_encoding([1, -1])
    assert [1, 2] in clauses
    with pytest.raises(InvalidArgument):
        solve_sat(a, solver="nosuch")
    with pytest.raises(InvalidArgument):
        sat_encoding(a, "nosuch")
    with pytest.raises(InvalidArgument):
        as_instance([1.0])
    with pytest.raises(InvalidArgument):
        as_instance([])
    with pytest.raises(TooLargeError):
        solve_brute_force(list(range(1, 30)))
    with pytest.raises(InvalidArgument):
        solve(a, "nope")


def test_timeout_is_unknown_never_no():
    # M = 40 with 9-digit entries: far beyond what SAT/Z3 solve in 50 ms
    inst = random_instance(40, 10 ** 9, seed=1)
    for r in [solve_z3(inst, timeout=0.05), solve_sat(inst, solver="glucose4", timeout=0.05),
              solve_sat(inst, solver="cadical153", timeout=0.05)]:
        assert r.answer is None and r.status == "unknown" and r.witness is None, r
    # the truth (meet in the middle) is yes here, so "no" would have been wrong
    assert solve_meet_in_the_middle(inst).answer is True


@pytest.mark.slow
def test_many_random_instances_all_solvers_agree():
    for seed in range(300):
        inst = random_instance(12, 60, seed=seed)
        rs = [solve(inst, m) for m in ["brute-force", "meet-in-the-middle", "z3"]
              + [f"sat:{s}" for s in SAT_SOLVERS]]
        assert len({r.answer for r in rs}) == 1
        assert all(check_witness(inst.a, r.witness) for r in rs if r.answer)
