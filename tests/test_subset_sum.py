"""SUBSET SUM: generators, four solvers cross-checked, witnesses re-checked independently."""

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reductions.subset_sum import (
    PB_SUM_LIMIT, SAT_SOLVERS, as_instance, check_witness, known_no, planted_yes, random_instance, sat_encoding,
    pb_fits, solve, solve_brute_force, solve_meet_in_the_middle, solve_sat, solve_z3,
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


# --- integers beyond what one pseudo-boolean constraint of python-sat holds -------------------

def _sat_by_cnf(clauses):
    from pysat.solvers import Solver

    with Solver(name="minisat22", bootstrap_with=clauses) as s:
        return s.solve()


BIG = [
    ([2 ** 62, -2 ** 62], True),                      # filed: "no (unsat)" on all four SAT solvers
    ([2 ** 61, 2 ** 61, -2 ** 62], True),             # Σ|a| = 2^63 wrapped to a negative bound
    ([2 ** 63, -2 ** 63], True),                      # TypeError in python-sat (weight ≥ 2^63)
    ([-2 ** 63, 2 ** 63 - 1], False),                 # PanicException in pindakaas (−2^63)
    ([2 ** 62 + 1, 3, -2 ** 62 - 4], True),           # coprime: needs digit columns
    ([2 ** 62 + 1, 3, -2 ** 62 - 5], False),          # … and a no: sums 2^62+1, 3, −2^62−5, 2^62+4, −4, −2^62−2, −1
    ([3 ** 90, -(3 ** 90 - 1), -1, 7], True),         # 143-bit entries, yes through 3^90 − (3^90 − 1) − 1
    ([3 ** 90, -(3 ** 90 - 2), 5, -7 * 2 ** 150], False),
]


@pytest.mark.parametrize("a, expected", BIG)
def test_big_integers_are_answered_exactly(a, expected):
    assert naive(a) is expected
    for s in SAT_SOLVERS:
        r = solve_sat(a, solver=s)
        assert r.answer is expected, (s, r)
        if expected:
            assert check_witness(a, r.witness)
    for r in [solve_z3(a), solve_meet_in_the_middle(a), solve_brute_force(a)]:
        assert r.answer is expected, r


@settings(deadline=None, max_examples=30)
@given(st.lists(st.integers(-2 ** 200, 2 ** 200), min_size=1, max_size=6), st.data())
def test_big_integers_property(a, data):
    # random big entries, half of the time with a planted zero-sum subset
    if data.draw(st.booleans()) and len(a) >= 2:
        S = data.draw(st.lists(st.integers(0, len(a) - 1), min_size=2, max_size=len(a), unique=True))
        a[S[-1]] = -sum(a[i] for i in S[:-1])
    truth = naive(a)
    for m in ["sat:glucose4", "sat:cadical153", "z3", "meet-in-the-middle", "brute-force"]:
        r = solve(a, m)
        assert r.answer is truth, (m, a, r)
        if truth:
            assert check_witness(a, r.witness)


@settings(deadline=None, max_examples=60)
@given(st.lists(st.integers(-1000, 1000), min_size=1, max_size=7), st.integers(64, 5000),
       st.sampled_from(["adder", "binmerge", "mixedradix"]))
def test_digit_columns_are_exact(a, limit, encoding):
    # a small limit forces the split into digit columns with carries on small entries,
    # where the truth is cheap: the CNF is satisfiable iff a non-empty zero-sum subset exists
    clauses, nv = sat_encoding(a, encoding, limit=limit)
    assert nv >= len(a)
    assert _sat_by_cnf(clauses) is naive(a), (a, limit)


def test_pb_fits_and_limit():
    assert pb_fits([2 ** 60, -2 ** 60]) and not pb_fits([2 ** 61, -2 ** 61])
    assert pb_fits([1, -2], 3, limit=6) and not pb_fits([1, -2], 4, limit=6)
    assert PB_SUM_LIMIT == 2 ** 62 - 1
    # a constraint that fits is passed whole (one equality, no carry variables)
    assert sat_encoding([5, -7, 2])[1] == 3
    # the gcd is divided out before the size test: 2^100·(1, −1) is one small constraint
    assert sat_encoding([2 ** 100, -2 ** 100])[1] == 2
    with pytest.raises(InvalidArgument):
        sat_encoding([1, -1], limit=0)
    with pytest.raises(InvalidArgument):
        sat_encoding([1, -1], limit=2 ** 63)
    with pytest.raises(InvalidArgument):
        sat_encoding([1, -1], "native")  # would drop the constraint from the clauses
    with pytest.raises(TooLargeError):
        sat_encoding([5, 6, -7], limit=10)  # no base fits 10


def test_unencodable_is_unknown_never_no(monkeypatch):
    import reductions.subset_sum as ss

    monkeypatch.setattr(ss, "PB_SUM_LIMIT", 10)
    r = ss.solve_sat([5, 6, -11])
    assert r.answer is None and r.status == "unknown" and "not encoded" in r.reason, r


def test_pb_sum_limit_holds_at_the_boundary():
    # python-sat's encoders (pindakaas, 64-bit coefficients) must be exact for every constraint
    # with Σ|w| + k ≤ PB_SUM_LIMIT: random constraints just at the limit, one coefficient dominating,
    # checked against all 2^M assignments.  With the limit at 2^63 − 1 this fails (binmerge and
    # watchdog encode e.g. −8286701454538011490·s1 − 79278282130448235·s2 + … = 0 as unsatisfiable).
    import random

    from pysat.pb import EncType, PBEnc

    rng = random.Random(7)
    for trial in range(60):
        M = rng.randint(2, 5)
        total = rng.randint(PB_SUM_LIMIT - 2 ** 40, PB_SUM_LIMIT)
        k = rng.randint(0, 2 ** 20) if rng.random() < 0.5 else 0
        rest = total - k
        big = rng.randint(rest // 2, rest - M)
        cuts = sorted(rng.randint(1, rest - big - 1) for _ in range(M - 2))
        mags = [big] + [y - x for x, y in zip([0] + cuts, cuts + [rest - big])]
        w = [m * rng.choice([1, -1]) for m in mags]
        if rng.random() < 0.5:  # make k a reachable sum when that keeps the total in range
            S = rng.sample(range(M), rng.randint(1, M))
            kk = sum(w[i] for i in S)
            if kk < 0:
                w, kk = [-v for v in w], -kk
            if sum(map(abs, w)) + kk <= PB_SUM_LIMIT:
                k = kk
        assert pb_fits(w, k)
        truth = any(sum(w[i] for i in S) == k for r in range(M + 1) for S in itertools.combinations(range(M), r))
        for enc in ["adder", "binmerge", "watchdog", "mixedradix"]:
            cnf = PBEnc.equals(lits=list(range(1, M + 1)), weights=w, bound=k, top_id=M,
                               encoding=getattr(EncType, enc))
            assert _sat_by_cnf(cnf.clauses) is truth, (enc, w, k)
