"""P1 (SUBSET SUM → E Δ^k): errata E1/E2 demonstrated, corrected reduction verified against the solvers."""

import itertools
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reductions.p1 import (
    VARIANTS, check_instance, errata_demo, p1_decide, p1_expected_error, p1_network, p1_output_counts,
)
from reductions.subset_sum import check_witness, known_no, planted_yes, random_instance, solve
from symft.errors import InvalidArgument, TooLargeError
from symft.faults import CrashPattern
from symft.engines.forward import forward


def formula(a, p, k=1):
    """Independent E Δ^k from the definition: surviving set S, y = [Σ_S a = 0] (incl. the empty S)."""
    M = len(a)
    clean = 1 if sum(a) == 0 else 0
    total = Fraction(0)
    for r in range(M + 1):
        for S in itertools.combinations(range(M), r):
            y = 1 if sum(a[i] for i in S) == 0 else 0
            total += Fraction(y - clean) ** k * (1 - p) ** r * p ** (M - r)
    return total


# ---------------------------------------------------------------- E1
def test_E1_printed_network_misses_3_minus_3():
    # printed ramp: φ(0) = 1/2 for both neurons, 1/2 + 1/2 − 3/2 < 0 → threshold outputs 0
    assert forward(p1_network(2, "printed"), [3, -3], exact=True)[0] == 0
    # fixed ramp clip(s+1, 0, 1): φ(0) = 1, 1 + 1 − 3/2 > 0 → 1
    assert forward(p1_network(2, "corrected"), [3, -3], exact=True)[0] == 1
    d = p1_decide([3, -3], "printed")
    assert d.answer is False and solve([3, -3]).answer is True


def test_E1_printed_never_recognizes_a_zero_sum():
    for seed in range(30):
        inst = planted_yes(6, 50, seed=seed)
        assert p1_decide(inst, "printed").answer is False  # wrong on every yes-instance
        assert p1_decide(inst, "corrected").answer is True


# ---------------------------------------------------------------- E2
def test_E2_empty_configuration():
    # a = (1, 2, 4), p = 1/10: only the all-crashed configuration (prob p³) outputs 1
    e = p1_expected_error([1, 2, 4], p=Fraction(1, 10), variant="ramp-fixed")
    assert e == Fraction(1, 1000) == Fraction(1, 10) ** 3
    assert p1_decide([1, 2, 4], "ramp-fixed").answer is True   # the printed rule says yes
    assert solve([1, 2, 4]).answer is False                     # but it is a no-instance
    assert p1_decide([1, 2, 4], "corrected").answer is False
    assert p1_decide([1, 2, 4], "guarded").answer is False


def test_E2_every_no_instance_gives_exactly_p_to_the_M():
    p = Fraction(1, 3)
    for seed in range(20):
        inst = known_no(7, 100, seed=seed)
        for k in (1, 2, 3):
            assert p1_expected_error(inst, p, k, "ramp-fixed") == p ** 7
        assert p1_decide(inst, "ramp-fixed", p=p).answer is True       # wrong
        assert p1_decide(inst, "corrected", p=p).answer is False       # right
        assert p1_expected_error(inst, p, 1, "guarded") == 0


def test_errata_demo():
    d = errata_demo()
    assert (d["E1"]["printed_output"], d["E1"]["fixed_output"]) == (0, 1)
    assert d["E1"]["subset_sum_answer"] is True and d["E1"]["printed_answer"] is False
    assert d["E2"]["expected_error"] == d["E2"]["p^M"] == Fraction(1, 1000)
    assert d["E2"]["subset_sum_answer"] is False
    assert d["E2"]["printed_rule_answer"] is True and d["E2"]["corrected_answer"] is False


# ---------------------------------------------------------------- exactness, three ways
@settings(deadline=None, max_examples=25)
@given(st.lists(st.integers(-6, 6), min_size=1, max_size=6), st.integers(1, 3),
       st.sampled_from([Fraction(1, 10), Fraction(1, 2), Fraction(3, 7)]))
def test_expected_error_matches_definition(a, k, p):
    assert p1_expected_error(a, p, k, "corrected") == formula(a, p, k)


def test_enumeration_matches_exact_engine():
    # the float64 enumeration equals symft's exact SymPy forward pass on every configuration
    a = [3, -1, -2, 5]
    for variant in VARIANTS:
        net = p1_network(4, variant)
        clean, counts = p1_output_counts(a, variant)
        ex = [0] * 5
        for crashed in itertools.product([False, True], repeat=4):
            y = forward(net, a, CrashPattern([(0, i) for i in range(4) if crashed[i]]), exact=True)[0]
            assert y in (0, 1)
            ex[4 - sum(crashed)] += int(y)
        assert ex == counts, variant
        assert forward(net, a, exact=True)[0] == clean


@pytest.mark.parametrize("a", [[3, -3], [1, 2, 4], [2, 5, -7, 1], [1, -1, 1], [4, 4, 4], [0, 3], [6]])
@pytest.mark.parametrize("variant", ["corrected", "guarded", "ramp-fixed", "printed"])
def test_solver_query_matches_enumeration(a, variant):
    e = p1_decide(a, variant)
    s = p1_decide(a, variant, method="solver")
    assert s.answer == e.answer, (a, variant)
    if s.surviving and variant == "corrected" and s.clean_output == 0:
        assert check_witness(a, s.surviving)


# ---------------------------------------------------------------- the corrected reduction
def _agree_on(instances, variant):
    n = 0
    for inst in instances:
        r = check_instance(inst, variant, solvers=("brute-force", "meet-in-the-middle"))
        assert r.agree, (inst.a, r)
        if r.answer:
            assert check_witness(inst.a, r.witness)
            if r.decision.surviving:
                assert check_witness(inst.a, r.decision.surviving)
        n += 1
    return n


def _mix(count, M, bound, seed0):
    out = []
    for s in range(count):
        out += [random_instance(M, bound, seed=seed0 + s), planted_yes(M, bound, seed=seed0 + s),
                known_no(M, bound, seed=seed0 + s)]
    return out


def test_corrected_agrees_on_a_few_hundred_instances():
    insts = _mix(40, 6, 12, 0) + _mix(30, 8, 40, 1000)
    assert _agree_on(insts, "corrected") == 210
    assert _agree_on(insts[:90], "guarded") == 90


@pytest.mark.slow
def test_corrected_agrees_on_thousands_of_instances():
    insts = _mix(700, 7, 15, 10_000) + _mix(300, 10, 60, 20_000)
    assert _agree_on(insts, "corrected") == 3000
    assert _agree_on(insts[:1500], "guarded") == 1500
    # and with the Z3 query on the crashed network, on a sample
    for inst in insts[:150]:
        assert check_instance(inst, "corrected", method="solver", solvers=("z3",)).agree


def test_bad_arguments():
    with pytest.raises(InvalidArgument):
        p1_network(3, "nope")
    with pytest.raises(InvalidArgument):
        p1_expected_error([1, 2], p=0)
    with pytest.raises(InvalidArgument):
        p1_expected_error([1, 2], p="1/2", k=0)
    with pytest.raises(InvalidArgument):
        p1_decide([1, 2], method="magic")
    with pytest.raises(TooLargeError):
        p1_expected_error(list(range(1, 25)))


# ---------------------------------------------------------------- CLI
def _cli_json(capsys, argv):
    import json

    from symft.cli import main

    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_cli_reduce(capsys):
    d = _cli_json(capsys, ["reduce", "subset-sum", "3", "-3", "--literal", "--json"])
    assert d["answer"] is True and d["witness"] == [0, 1] and d["network_answer"] is False and d["agree"] is False
    assert "enumeration" in d["method"]
    d = _cli_json(capsys, ["reduce", "subset-sum", "1", "2", "4", "--json"])
    assert d["answer"] is False and d["network_answer"] is False and d["agree"] is True
    assert d["expected_exact"] == "1/1000" and d["threshold_exact"] == "1/1000"
    assert d["expected"] == d["threshold"] == 0.001 and d["p"] == 0.1 and d["p_exact"] == "1/10"
    d = _cli_json(capsys, ["reduce", "subset-sum", "1", "2", "4", "--variant", "ramp-fixed", "--json"])
    assert d["network_answer"] is True and d["agree"] is False
    d = _cli_json(capsys, ["reduce", "subset-sum", "5", "-2", "-3", "8", "--network-method", "solver",
                           "--solver", "sat:glucose4", "--json"])
    assert d["agree"] is True and d["witness"] == [0, 1, 2] and "solver:z3" in d["method"]


def test_cli_reduce_errors(capsys):
    from symft.cli import main

    assert main(["reduce", "subset-sum", "1", "x"]) == 2
    assert "numbers[1]" in capsys.readouterr().err
    assert main(["reduce", "subset-sum", "1", "--p", "2"]) == 2
