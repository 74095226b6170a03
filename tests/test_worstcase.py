"""Exact worst case over crash sets: SMT = SAT = brute force, re-checked crash sets, timeouts are unknown."""

import json

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from symft.cli import main
from symft.errors import InvalidArgument, TooLargeError
from symft.faults import CrashPattern
from symft.engines.forward import forward
from symft.graph.netfile import save_network
from symft.graph.network import Network, mean_network, random_network
from symft.worstcase import (
    choose_method, class_change, crash_space, exists_crash, recheck, worst_case,
)

PWL = ["relu", "hardtanh", "ramp", "linear"]


def independent_delta(net, x, crash_set, values=()):
    pat = CrashPattern(crash_set, values=dict(values))
    return [a - b for a, b in zip(forward(net, x, pat, exact=True), forward(net, x, exact=True))]


def check_found(net, x, r):
    """Every reported crash set re-checks with an exact forward pass done here."""
    assert r.crash_set is not None
    vals = tuple((k, sp.Rational(v.numerator, v.denominator)) for k, v in r.values)
    d = independent_delta(net, x, r.crash_set, vals)
    assert tuple(d) == tuple(r.delta)
    assert max(abs(v) for v in d) == r.worst_delta
    return d


# Hand-derived: relu net W1 = [[1, 1], [1, −1]], W2 = [[1, 2]], x = (1, 0): hidden (1, 1), y = 3.
# One crash: neuron 0 → y = 2 (Δ = −1), neuron 1 → y = 1 (Δ = −2): worst 2 at (1, 1).
HAND = Network.from_sympy([[[1, 1], [1, -1]], [[1, 2]]], activations=["relu", "linear"])


@pytest.mark.parametrize("method", ["smt", "brute-force"])
def test_hand_case(method):
    r = worst_case(HAND, [1, 0], max_crashes=1, method=method)
    assert r.status == "proved" and r.worst_delta == 2 and r.crash_set == ((1, 1),)
    check_found(HAND, [1, 0], r)
    assert exists_crash(HAND, [1, 0], max_crashes=1, epsilon=2, method=method).status == "found"
    assert exists_crash(HAND, [1, 0], max_crashes=1, epsilon="2.001", method=method).status == "proved"


@settings(deadline=None, max_examples=30)
@given(st.integers(0, 10 ** 6), st.sampled_from(PWL), st.integers(0, 3), st.booleans(), st.booleans())
def test_smt_equals_brute_force(seed, act, f, exact, with_inputs):
    rng = np.random.default_rng(seed)
    widths = [int(rng.integers(2, 4)), int(rng.integers(2, 5)), int(rng.integers(2, 4)), int(rng.integers(1, 3))]
    net = random_network(widths, seed=seed, activation=act, rational_denominator=8 if exact else None)
    x = [sp.Rational(int(v), 4) for v in rng.integers(-6, 7, size=widths[0])]
    layers = [0, 1, 2] if with_inputs else None
    a = worst_case(net, x, max_crashes=f, layers=layers, method="smt")
    b = worst_case(net, x, max_crashes=f, layers=layers, method="brute-force")
    assert a.status == b.status == "proved"
    assert a.worst_delta == b.worst_delta
    for r in (a, b):
        check_found(net, x, r)
    if a.worst_delta > 0:
        e = a.worst_delta
        assert exists_crash(net, x, max_crashes=f, layers=layers, epsilon=e, method="smt").status == "found"
        assert exists_crash(net, x, max_crashes=f, layers=layers, epsilon=e, method="brute-force").status == "found"
        above = e + sp.Rational(1, 10 ** 6)
        assert exists_crash(net, x, max_crashes=f, layers=layers, epsilon=above, method="smt").status == "proved"
        assert exists_crash(net, x, max_crashes=f, layers=layers, epsilon=above,
                            method="brute-force").status == "proved"


@settings(deadline=None, max_examples=20)
@given(st.integers(0, 10 ** 6), st.integers(0, 2), st.integers(0, 2))
def test_per_layer_budgets(seed, f1, f2):
    net = random_network([3, 3, 3, 2], seed=seed, activation="relu", rational_denominator=4)
    x = [1, -1, 2]
    a = worst_case(net, x, max_crashes=3, per_layer={1: f1, 2: f2}, method="smt")
    b = worst_case(net, x, max_crashes=3, per_layer={1: f1, 2: f2}, method="brute-force")
    assert a.worst_delta == b.worst_delta
    for r in (a, b):
        counts = {l: sum(1 for ll, _ in r.crash_set if ll == l) for l in (1, 2)}
        assert counts[1] <= f1 and counts[2] <= f2


@settings(deadline=None, max_examples=20)
@given(st.integers(0, 10 ** 6), st.integers(1, 2))
def test_class_change_smt_equals_brute_force(seed, f):
    net = random_network([3, 4, 3], seed=seed, activation="relu", rational_denominator=8)
    x = [1, sp.Rational(1, 2), -1]
    a = class_change(net, x, max_crashes=f, method="smt")
    b = class_change(net, x, max_crashes=f, method="brute-force")
    assert a.status == b.status
    for r in (a, b):
        if r.status == "found":
            clean = forward(net, x, exact=True)
            faulty = forward(net, x, CrashPattern(r.crash_set), exact=True)
            def first_argmax(v):  # NumPy's rule, in exact arithmetic
                return min(i for i in range(len(v)) if v[i] == max(v))
            assert first_argmax(list(clean)) != first_argmax(list(faulty))


# ---------------------------------------------------------------- threshold networks: SAT
@settings(deadline=None, max_examples=15)
@given(st.integers(0, 10 ** 6), st.integers(1, 3))
def test_sat_backend_on_step_networks(seed, f):
    rng = np.random.default_rng(seed)
    W1 = rng.integers(-3, 4, size=(4, 3)).tolist()
    W2 = rng.integers(-3, 4, size=(3, 4)).tolist()
    W3 = rng.integers(-3, 4, size=(2, 3)).tolist()
    b1, b2 = rng.integers(-2, 3, size=4).tolist(), rng.integers(-2, 3, size=3).tolist()
    net = Network.from_sympy([W1, W2, W3], [b1, b2, [0, 0]], ["step", "step", "linear"])
    x = rng.integers(-2, 3, size=3).tolist()
    s = worst_case(net, x, max_crashes=f, method="sat")
    m = worst_case(net, x, max_crashes=f, method="smt")
    b = worst_case(net, x, max_crashes=f, method="brute-force")
    assert s.status == m.status == b.status == "proved"
    assert s.worst_delta == m.worst_delta == b.worst_delta
    check_found(net, x, s)
    # inputs crashing too (integer inputs, integer first-layer weights)
    s0 = worst_case(net, x, max_crashes=f, layers=[0, 1], method="sat")
    b0 = worst_case(net, x, max_crashes=f, layers=[0, 1], method="brute-force")
    assert s0.worst_delta == b0.worst_delta
    if b.worst_delta > 0:
        assert exists_crash(net, x, max_crashes=f, epsilon=b.worst_delta, method="sat").status == "found"
        assert exists_crash(net, x, max_crashes=f, epsilon=b.worst_delta + 1, method="sat").status == "proved"


# ---------------------------------------------------------------- Byzantine
@settings(deadline=None, max_examples=10)
@given(st.integers(0, 10 ** 6))
def test_byzantine_at_least_crash_and_rechecks(seed):
    net = random_network([2, 3, 3, 1], seed=seed, activation="relu", rational_denominator=8)
    x = [1, 1]
    crash = worst_case(net, x, max_crashes=1, method="smt")
    byz = worst_case(net, x, max_crashes=1, byzantine=2, method="smt")
    assert byz.status == "proved" and byz.worst_delta >= crash.worst_delta
    check_found(net, x, byz)
    assert all(abs(v) <= 2 for _, v in byz.values)


# ---------------------------------------------------------------- unknown is never safe
def test_timeout_is_unknown():
    net = random_network([8, 24, 24, 1], seed=0, activation="relu")
    x = np.linspace(-1, 1, 8)
    r = worst_case(net, x, max_crashes=3, method="smt", timeout=0.001)
    # never "proved"; unknown, or (when the easy first query |Δ| > 0 beat the timer) the best crash set
    # found so far, re-checked, as a lower bound
    assert "timeout" in r.reason and r.status in ("unknown", "found"), r
    if r.status == "unknown":
        assert r.crash_set is None
    else:
        assert r.worst_delta > 0 and "not proved optimal" in r.reason
    # a 1 ms budget on a search that needs seconds: unknown (were Z3 ever faster than its timer,
    # the answer would still have to re-check — never a "proved" without a proof)
    r = exists_crash(net, x, max_crashes=3, epsilon="0.28", method="smt", timeout=0.001)
    assert r.status == "unknown" or (r.status == "found" and check_found(net, list(x), r))


def test_unknown_from_a_mocked_solver(monkeypatch):
    import z3

    monkeypatch.setattr(z3.Solver, "check", lambda self, *a: z3.unknown)
    monkeypatch.setattr(z3.Solver, "reason_unknown", lambda self: "mocked")
    r = exists_crash(HAND, [1, 0], max_crashes=1, epsilon=1, method="smt")
    assert (r.status, r.reason) == ("unknown", "z3: mocked")
    r = class_change(Network.from_sympy([[[1, 0], [0, 1]], [[1, 0], [0, 1]]], activations=["relu", "linear"]),
                     [2, 1], max_crashes=1, method="smt")
    assert r.status == "unknown"


# ---------------------------------------------------------------- method choice, sizes, errors
def test_space_and_auto_choice():
    net = random_network([8, 24, 24, 1], seed=0, activation="relu")
    sp_ = crash_space(net, 3)
    assert sp_.size == 18473 == 1 + 48 + 48 * 47 // 2 + 48 * 47 * 46 // 6
    m, why = choose_method(net, sp_)
    assert m == "brute-force" and "cheaper" in why
    r = worst_case(net, np.zeros(8) + 0.5, max_crashes=1)
    assert r.method == "brute-force (auto)"
    sig = random_network([4, 3, 2], seed=0, activation="sigmoid")
    assert choose_method(sig, crash_space(sig, 1))[0] == "brute-force"
    with pytest.raises(InvalidArgument):
        worst_case(sig, [0, 0, 0, 0], max_crashes=1, method="smt")
    with pytest.raises(InvalidArgument):
        worst_case(HAND, [1, 0], max_crashes=1, method="brute-force", byzantine=1)
    with pytest.raises(InvalidArgument):
        worst_case(HAND, [1, 0], max_crashes=1, layers=[5])
    with pytest.raises(InvalidArgument):
        worst_case(HAND, [1, 0, 3], max_crashes=1)
    with pytest.raises(InvalidArgument):
        worst_case(HAND, [1, 0], max_crashes=-1)
    with pytest.raises(InvalidArgument):
        worst_case(HAND, [1, 0], max_crashes=1, method="sat")   # relu: not a threshold network
    with pytest.raises(TooLargeError):
        worst_case(mean_network(400), np.ones(400), max_crashes=4, layers=[0], method="brute-force")


def test_smooth_network_brute_force_and_recheck():
    net = random_network([4, 5, 3], seed=2, activation="sigmoid")
    x = np.array([0.5, -0.25, 1.0, 0.0])
    r = worst_case(net, x, max_crashes=2)
    assert r.status == "proved" and r.method.startswith("brute-force")
    d = forward(net, x, CrashPattern(r.crash_set)) - forward(net, x)
    assert np.allclose([float(v) for v in r.delta], d, rtol=1e-12, atol=1e-14)


def test_cli_worst(tmp_path, capsys):
    path = tmp_path / "net.json"
    save_network(HAND, path)
    assert main(["worst", str(path), "--input", "1,0", "--max-crashes", "1", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert (d["status"], d["worst_delta"], d["crash_set"]) == ("proved", 2, [{"site": "1", "index": 1}])
    assert d["method"].startswith("brute-force")
    assert main(["worst", str(path), "--input", "1,0", "--max-crashes", "1", "--method", "smt",
                 "--eps", "3", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "proved"
    assert main(["worst", str(path), "--input", "1,0", "--max-crashes", "1", "--byzantine", "1", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["status"] == "proved" and d["method"] == "smt:z3 (auto)"
    # x = (1, 0): hidden (1, 1); Byzantine neuron 1 sends −1 instead of 1: Δ = 2·(−2) = −4
    assert d["worst_delta"] == 4
    assert main(["worst", str(path), "--input", "1,0", "--max-crashes", "1", "--sites", "7"]) == 2
    assert "--sites" in capsys.readouterr().err


def test_brute_force_refuses_byzantine_in_every_query():
    # brute force enumerates crash sets, not real values: asked for Byzantine faults it must
    # refuse, not answer the crash question instead (class_change used to do that silently)
    from symft.worstcase import class_change, exists_crash, worst_case
    net = random_network([3, 3, 2], seed=0, activation="relu")
    for call in (lambda: class_change(net, [1, 0, 1], max_crashes=1, method="brute-force", byzantine=1),
                 lambda: exists_crash(net, [1, 0, 1], max_crashes=1, epsilon=1, method="brute-force", byzantine=1),
                 lambda: worst_case(net, [1, 0, 1], max_crashes=1, method="brute-force", byzantine=1)):
        with pytest.raises(InvalidArgument, match="byzantine: brute force cannot enumerate real values"):
            call()


def test_a_chain_with_named_sites_takes_the_names_as_well_as_the_layer_numbers():
    """A PyTorch chain names its sites by module path (``act2``); worst_case and crash_space take the name or the
    layer number, and give the same proved answer."""
    torch = pytest.importorskip("torch")
    from collections import OrderedDict

    import symft
    from symft.worstcase.space import crash_space

    torch.manual_seed(0)
    model = torch.nn.Sequential(OrderedDict(fc1=torch.nn.Linear(3, 4), act1=torch.nn.ReLU(),
                                            fc2=torch.nn.Linear(4, 3), act2=torch.nn.ReLU(),
                                            out=torch.nn.Linear(3, 2)))
    net = symft.from_torch(model, torch.zeros(1, 3))
    assert net.is_chain and net.sites == ("input", "act1", "act2", "out")
    x = [1.0, -0.5, 0.25]
    by_number = worst_case(net, x, max_crashes=2, layers=[2], method="brute-force")
    by_name = worst_case(net, x, max_crashes=2, layers=["act2"], method="brute-force")
    assert by_name.status == by_number.status == "proved"
    assert by_name.worst_delta == by_number.worst_delta and by_name.crash_set == by_number.crash_set
    assert crash_space(net, 1, layers=["act2"]) == crash_space(net, 1, layers=[2])
    with pytest.raises(InvalidArgument, match="layer nope does not exist"):
        crash_space(net, 1, layers=["nope"])
