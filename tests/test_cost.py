"""The cost model (symft.cost): predictions against measured times, and refusals before any work.

The predictions are orders of magnitude (calibrated on one machine by benchmarks/bench_cost_model.py,
and this machine may be shared), so the agreement tests allow a factor of FACTOR either way: loose, but a
model off by a constant 100× (or a work count off by the wrong power of a size) fails them.
"""

from __future__ import annotations

import io
import math
import time
from contextlib import redirect_stderr, redirect_stdout

import numpy as np
import pytest

from symft import cost
from symft.cli import main
from symft.analysis.accuracy import accuracy_estimate
from symft.engines.enclosure import enclosure, enclosure_estimate
from symft.engines.enumeration import enumerate_crashes, enumeration_estimate
from symft.engines.sampling import crash_probability, crashed_sample_size, draw_estimate, monte_carlo
from symft.engines.taylor import derivative_bounds, derive, derive_estimate, remainder_estimate, taylor_expand
from symft.errors import TimeLimitReached, TooLargeError
from symft.faults import NeuronCrash
from symft.graph.netfile import load_network
from symft.graph.network import random_network
from symft.worstcase import worst_case
from symft.worstcase.brute_force import brute_force_estimate
from symft.worstcase.space import crash_space

#: Allowed ratio between measured and predicted time, either way.
FACTOR = 10.0


def _cli(args):
    out, err = io.StringIO(), io.StringIO()
    t = time.perf_counter()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(args)
    return code, out.getvalue(), err.getvalue(), time.perf_counter() - t


def _timed(fn):
    # CPU time of this process, not wall time: other jobs on a shared machine stretch the wall clock, not this
    t = time.process_time()
    fn()
    return time.process_time() - t


def _agree(est, measured):
    assert est.seconds > 0
    ratio = measured / est.seconds
    assert 1 / FACTOR <= ratio <= FACTOR, (est, measured, ratio)


# ---------------------------------------------------------------------- the module

def test_estimate_is_work_times_the_shipped_constant():
    for path in cost.PATHS:
        e = cost.estimate(path, 1000, "1000 units")
        assert e.seconds == pytest.approx(1000 * cost.seconds_per_unit(path))
        assert 0 < cost.seconds_per_unit(path) < 1
    assert cost.estimate("enumerate", 2 ** 2000, "many").seconds == math.inf


def test_constants_file_records_machine_and_date():
    c = cost.constants()
    assert c["machine"] and c["date"][:2] == "20"
    assert set(c["constants"]) == set(cost.PATHS)


def test_limit_precedence():
    assert cost.current_limit()[0] == cost.LIBRARY_MAX_TIME
    with cost.time_limit(5, "--max-time SECONDS"):
        assert cost.current_limit() == (5.0, "--max-time SECONDS")
        assert cost.current_limit(7)[0] == 7.0          # an explicit max_time wins
        with cost.time_limit(None):                     # None keeps the current one
            assert cost.current_limit()[0] == 5.0
    e = cost.Estimate("sample", 1.0, 6.0, "1 draw")
    with cost.time_limit(5):
        with pytest.raises(TooLargeError, match=r"would take about 6 s \(estimated from 1 draw\), more than the "
                                                r"limit of 5 s; use less, or raise the limit with max_time="):
            cost.check(e, "x", "use less")
        assert cost.check(e, "x", "use less", max_time=10) is e
        assert cost.check(e, "x", "use less", force=True) is e


@pytest.mark.parametrize("bad", ["0", "-1", "nan", "abc", True])
def test_bad_limits_refused(bad):
    with pytest.raises(ValueError, match="expected a number of seconds > 0 or 'inf'"):
        cost.parse_max_time(bad)


# ---------------------------------------------------------------------- predicted vs measured

def test_derive_prediction():
    net = random_network([5, 4, 3, 2], seed=0, activation="sigmoid")
    p = {1: 1e-3, 2: 1e-3}
    est = derive_estimate(net, list(p), 2)
    # the first expansion in a process pays SymPy's one-off set-up (several times this run): not work, not timed
    derive(random_network([2, 2, 1], seed=0, activation="sigmoid"), {1: 1e-3}, x=[0.5] * 2, order=1,
           progress_bar=False)
    _agree(est, _timed(lambda: derive(net, p, x=[0.5] * 5, order=2, progress_bar=False)))


def test_derive_prediction_counts_linear_sites_once():
    # a site followed by affine ops only enters linearly: its second derivatives vanish without work
    net = random_network([10, 20, 5], seed=0, activation="sigmoid")
    est = derive_estimate(net, [1], 2)
    assert est.basis.startswith("20 non-zero derivatives")
    _agree(est, _timed(lambda: taylor_expand(net, [0.5] * 10, [1], order=2)))


def test_enumeration_prediction():
    net = random_network([16, 16, 16, 1], seed=0, activation="tanh")
    m = NeuronCrash({1: 0.05})
    x = np.random.default_rng(0).normal(size=16)
    _agree(enumeration_estimate(net, m), _timed(lambda: enumerate_crashes(net, x, m, exact=False, progress=False)))


def test_enclosure_prediction():
    net = random_network([4, 30, 2], seed=0, activation="tanh")
    m = NeuronCrash({1: 1e-3})
    _agree(enclosure_estimate(net, m, 5), _timed(lambda: enclosure(net, np.ones(4), m, order=5, progress=False)))


def test_brute_force_prediction():
    net = random_network([8, 40, 10], seed=0, activation="tanh")
    space = crash_space(net, 4, layers=[1])
    _agree(brute_force_estimate(net, space),
           _timed(lambda: worst_case(net, np.ones(8), max_crashes=4, layers=[1], method="brute-force")))


def test_sampling_prediction():
    net = random_network([64, 128, 64, 10], seed=0, activation="sigmoid")
    m = NeuronCrash({1: 1e-2})
    x = np.random.default_rng(0).uniform(size=64)
    n = 100000
    est = draw_estimate(net, m, crashed_sample_size(n, crash_probability(net, m)))
    _agree(est, _timed(lambda: monte_carlo(net, x, m, n, 0, show_progress=False)))


def test_remainder_prediction():
    net = random_network([16, 64, 32, 10], seed=0, activation="sigmoid")
    x = np.random.default_rng(0).uniform(size=16)
    _agree(remainder_estimate(net, [1, 2]), _timed(lambda: derivative_bounds(net, x, [1, 2])))


# ---------------------------------------------------------------------- refusals: at once, plain, with an option

@pytest.mark.parametrize("net", ["examples/digits_sigmoid.json", "examples/digits_cnn.onnx"])
def test_derive_on_the_digits_refuses_at_once(net):
    code, out, err, seconds = _cli(["derive", net, "--p", "1e-3"])
    assert code == 2 and out == ""
    assert seconds < 2.0, seconds
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "would take about" in err and "estimated from" in err and "more than the limit of 1 min" in err
    assert "symft taylor" in err and "--max-time" in err


def test_derive_with_symbolic_inputs_is_predicted_on_its_own_path():
    # without --input the inputs are symbols: the expressions are larger (counted) and each leaf costs
    # more (nested tanh, exp of symbols): its own constant, and a refusal that offers a numeric input
    net = load_network("examples/digits_cnn.onnx")
    numeric = derive_estimate(net, ["classifier.2"], 2)
    symbolic = derive_estimate(net, ["classifier.2"], 2, symbolic_input=True)
    assert (numeric.path, symbolic.path) == ("derive", "derive_symbolic")
    assert numeric.seconds < 60 < symbolic.seconds
    code, out, err, seconds = _cli(["derive", "examples/digits_cnn.onnx", "--p", "classifier.2:1e-3"])
    assert code == 2 and out == "" and seconds < 2.0
    assert "would take about" in err and "in symbolic inputs" in err and "a numeric input (--input X)" in err


def test_derive_with_symbolic_inputs_prediction():
    net = random_network([3, 3, 3, 1], seed=0, activation="sigmoid")
    p = {1: 1e-3, 2: 1e-3}
    est = derive_estimate(net, list(p), 2, symbolic_input=True)
    with cost.time_limit("inf"):
        _agree(est, _timed(lambda: derive(net, p, order=2, progress_bar=False)))


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_derive_with_symbolic_inputs_finishes_or_stops_at_the_limit(tmp_path, activation):
    # 3 → 2 → 2 → 1 with symbolic inputs, crashes at both hidden sites, order 2: this ran for minutes
    # (SymPy's expand asked assumptions of every exp(…) argument); now it finishes in seconds, and
    # whatever the prediction says, the work checks the clock between its steps and stops at the limit
    from symft.graph.netfile import save_network

    path = str(tmp_path / "net.json")
    save_network(random_network([3, 2, 2, 1], seed=0, activation=activation), path)
    limit = 0.5
    code, out, err, seconds = _cli(["derive", path, "--p", "1e-3", "--max-time", str(limit), "--force"])
    assert seconds < limit + 10.0, seconds         # one step past the limit at most (a shared machine), never minutes
    if code == 0:
        assert "E T_2[0] =" in out
    else:
        assert code == 2 and out == "" and len(err.strip().splitlines()) == 1, err
        assert "stopped at the time limit of 0.5 s after" in err and "while computing" in err, err
        assert "a numeric input (--input X)" in err and "--max-time SECONDS" in err, err
    code, out, err, seconds = _cli(["derive", path, "--p", "1e-3", "--max-time", "60"])
    assert code == 0 and "E T_2[0] =" in out and "Var T_2[0] =" in out, err


def test_derive_stops_at_the_deadline_with_how_far_it_got():
    # force skips the prediction, not the deadline: a derivation that cannot finish in 1 ms stops
    # with TimeLimitReached (a TooLargeError, like a refusal) saying what it was doing and how far
    net = random_network([3, 2, 2, 1], seed=0, activation="sigmoid")
    t = time.perf_counter()
    with pytest.raises(TimeLimitReached, match=r"^symbolic Taylor expansion of order 2 in 4 crash indicators: "
                                               r"stopped at the time limit of 0\.001 s after .* s, while computing "
                                               r"the Taylor coefficients, derivatives: 0 of 14 done; use the numeric "
                                               r"T1 .*a numeric input \(--input X\)"):
        derive(net, {1: 1e-3, 2: 1e-3}, order=2, force=True, max_time=1e-3, progress_bar=False)
    assert time.perf_counter() - t < 10.0
    assert issubclass(TimeLimitReached, TooLargeError)
    with cost.time_limit("inf"):                    # no limit: it runs to the end
        d = derive(net, {1: 1e-3, 2: 1e-3}, order=2, progress_bar=False)
    assert len(d.moments.var) == 1 and not d.expansion.exact


def test_derive_refusal_suggests_a_lower_order_that_fits():
    net = load_network("examples/digits_sigmoid.json")
    lower = derive_estimate(net, [1, 2], 1).seconds
    full = derive_estimate(net, [1, 2], 2).seconds
    limit = 2 * lower
    assert limit < full
    code, _, err, _ = _cli(["derive", "examples/digits_sigmoid.json", "--p", "1:1e-3,2:1e-3",
                            "--input", "@examples/digit0.csv", "--max-time", str(limit)])
    assert code == 2 and "order 1 (--order 1" in err


def test_max_time_raises_the_limit():
    # the refusal depends on the limit only: far above the prediction the guard lets it through (checked
    # on the estimate; the run itself would take hours)
    net = load_network("examples/digits_sigmoid.json")
    est = derive_estimate(net, [1, 2], 2)
    with cost.time_limit(est.seconds * 2):
        cost.check(est, "derive", "")
    with cost.time_limit(est.seconds / 2), pytest.raises(TooLargeError):
        cost.check(est, "derive", "")


@pytest.mark.parametrize("args, option", [
    (["sample", "examples/digits_sigmoid.json", "--input", "@examples/digit0.csv", "--p", "1e-2",
      "--method", "plain", "--samples", "10000000000"], "--samples"),
    (["exact", "examples/digits_sigmoid.json", "--input", "@examples/digit0.csv", "--p", "1e-3", "--order", "6"],
     "--order"),
    (["worst", "examples/digits_cnn.onnx", "--input", "@examples/digit0_image.npy", "--max-crashes", "16",
      "--sites", "classifier.2", "--method", "brute-force"], "--max-crashes"),
])
def test_refused_commands_start_no_work(args, option):
    code, out, err, seconds = _cli(args + ["--max-time", "5"])
    assert code == 2 and out == "", (out, err)
    assert seconds < 2.0, seconds
    assert len(err.strip().splitlines()) == 1, err
    assert "would take about" in err and "limit of 5 s" in err and option in err and "--max-time" in err


def test_max_time_is_an_option_of_every_expensive_command():
    from symft.cli import build_parser
    from symft.cli.options import TIMED

    sub = next(a for a in build_parser()._actions if hasattr(a, "choices") and a.choices and "derive" in a.choices)
    for name in TIMED:
        assert "--max-time SECONDS" in sub.choices[name].format_help(), name
    code, _, err, _ = _cli(["derive", "examples/digits_sigmoid.json", "--p", "1e-3", "--max-time", "0"])
    assert code == 2 and "--max-time" in err and "expected a number of seconds" in err


def test_solver_without_timeout_stops_at_the_limit():
    from symft.worstcase.common import check_timeout

    with cost.time_limit(3):
        assert check_timeout(None) == 3.0
        assert check_timeout(10) == 10.0      # an explicit timeout is kept
    with cost.time_limit("inf"):
        assert check_timeout(None) is None


def test_accuracy_prediction():
    # a fixed order: the enclosure's work count with the accuracy path's own constant (class decisions)
    from symft.analysis.accuracy import accuracy

    net = random_network([6, 40, 40, 3], seed=0, activation="tanh")
    X = np.random.default_rng(0).normal(size=(50, 6))
    y = np.arange(50) % 3
    m = NeuronCrash({1: 1e-3, 2: 1e-3})
    _agree(accuracy_estimate(net, m, 2, 50), _timed(lambda: accuracy(net, X, y, m, order=2, method="rigorous")))


def test_accuracy_with_a_fixed_order_is_predicted_before_any_work():
    # an automatic order is chosen to fit; a fixed one is checked against the limit and refused at once
    from symft.analysis.accuracy import accuracy

    net = random_network([6, 40, 40, 3], seed=0, activation="tanh")
    X = np.random.default_rng(0).normal(size=(50, 6))
    y = np.arange(50) % 3
    m = NeuronCrash({1: 1e-3, 2: 1e-3})
    est = accuracy_estimate(net, m, 4, 50)
    assert est.path == "accuracy" and est.work == enclosure_estimate(net, m, 4, 50).work
    assert est.seconds > 1.0
    t = time.perf_counter()
    with cost.time_limit(est.seconds / 10), pytest.raises(TooLargeError, match=r"accuracy: would take about .*--order"):
        accuracy(net, X, y, m, order=4)
    assert time.perf_counter() - t < 2.0
    with cost.time_limit(est.seconds / 10):
        assert accuracy(net, X, y, m, order=1).order == 1          # a small fixed order still runs


def test_accuracy_automatic_order_fits_the_accuracy_constant():
    # an automatic order is chosen with the accuracy path's own constant (class decisions), not the enclosure's:
    # just under accuracy's prediction of order 2, accuracy takes order 1; just over it, order 2
    from symft.analysis.accuracy import accuracy
    from symft.engines.enclosure import choose_order

    net = random_network([6, 40, 40, 3], seed=0, activation="tanh")
    X = np.random.default_rng(0).normal(size=(50, 6))
    y = np.arange(50) % 3
    m = NeuronCrash({1: 1e-3, 2: 1e-3})
    acc2, acc3 = (accuracy_estimate(net, m, k, 50).seconds for k in (2, 3))
    assert acc2 < acc3 / 1.1
    with cost.time_limit(acc2 * 0.99):
        assert choose_order(net, m, 2 ** 21, 50, path="accuracy") == 1
        assert accuracy(net, X, y, m, method="rigorous").order == 1
    with cost.time_limit(acc2 * 1.01):
        assert choose_order(net, m, 2 ** 21, 50, path="accuracy") == 2
    enc2 = enclosure_estimate(net, m, 2, 50).seconds
    if abs(enc2 / acc2 - 1) > 0.02:        # the constants differ: the enclosure's would choose otherwise
        with cost.time_limit(min(acc2, enc2) * 1.01):
            assert choose_order(net, m, 2 ** 21, 50) != choose_order(net, m, 2 ** 21, 50, path="accuracy")
