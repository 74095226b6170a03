"""Tests of symft.analysis.hybrid and ``symft sample --method hybrid``.

The references are independent of symft's forward pass: relu chains given as raw lists are evaluated
here over every crash subset in Fractions (mpmath at 60 digits for the cross-entropy's logarithm), and
split by the number of crashes, so the proved part is checked against the exact sum over the
configurations with at most K crashes, and the combined interval's coverage against the exact mean.
"""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys
import warnings
from fractions import Fraction

import mpmath
import numpy as np
import pytest

from symft.analysis.hybrid import hybrid_estimate, hybrid_order, tail_strata
from symft.cli import main
from symft.engines.sampling import SamplingWarning
from symft.engines.stratified import crash_count_tail
from symft.errors import InvalidArgument, TooLargeError
from symft.faults import NeuronCrash, SynapseCrash
from symft.graph.network import Network, random_network

from .test_stratified import first_argmax, frac_chain


# ---------------------------------------------------------------------- brute force, split by crash count

def split_brute(Ws, bs, acts, x, p, order, stat):
    """``(Σ_{|s| ≤ order} P(s) f(s), Σ_{|s| > order} P(s) f(s))`` exactly; ``f = stat(faulty, clean)`` (a list)."""
    widths = [len(x)] + [len(b) for b in bs]
    units = [(l, i) for l in sorted(p) for i in range(widths[l])]
    clean = frac_chain(Ws, bs, acts, x, set())
    low = high = None
    for bits in itertools.product((0, 1), repeat=len(units)):
        w = math.prod((p[l] if b else 1 - p[l] for (l, _), b in zip(units, bits)), start=Fraction(1))
        s = {u for u, b in zip(units, bits) if b}
        f = stat(frac_chain(Ws, bs, acts, x, s), clean)
        if low is None:
            low, high = [Fraction(0)] * len(f), [Fraction(0)] * len(f)
        acc = low if len(s) <= order else high
        for k, v in enumerate(f):
            acc[k] += w * v
    return low, high


def delta(y, c):
    return [a - b for a, b in zip(y, c)]


def squared(t):
    return lambda y, c: [sum((a - Fraction(u)) ** 2 for a, u in zip(y, t)) - sum((b - Fraction(u)) ** 2
                                                                                 for b, u in zip(c, t))]


def zero_one(t):
    return lambda y, c: [Fraction(int(first_argmax(y) != t)) - int(first_argmax(c) != t)]


def cross_entropy(t):
    def ce(v):
        with mpmath.workdps(60):
            return mpmath.log(mpmath.fsum(mpmath.exp(mpmath.mpf(a.numerator) / a.denominator) for a in v)) \
                - mpmath.mpf(v[t].numerator) / v[t].denominator
    return lambda y, c: [ce(y) - ce(c)]


# weights from 1e-8 to 1e12 that cancel: 1e12·(x_0 − x_1) is small, and float64 sums lose the small terms
CANCEL_W = [[[1e12, -1e12, 1e-8], [1.0, 1e-8, -1.0], [-1e12, 1e12, 3.0]],
            [[1.0, -1.0, 1e-8], [1e12, 1.0, -1e12]]]
CANCEL_B = [[1e-8, 0.5, 2.0], [0.0, -1e-8]]
CANCEL_X = [1.0, 1.0 - 2.0 ** -30, 0.25]

RELU_W = [[[1.0, -0.5, 0.25, 2.0], [0.5, 1.0, -1.0, 0.0], [-1.5, 0.25, 0.5, 1.0]],
          [[1.0, -1.0, 0.5], [0.5, 0.25, -1.0], [-0.25, 1.0, 1.0]]]
RELU_B = [[0.125, -0.25, 0.5], [0.0, 0.0625, -0.125]]
RELU_X = [0.5, -1.0, 0.75, 0.25]


def net_of(W, b):
    return Network.from_numpy(W, b, ["relu", "linear"])


# ---------------------------------------------------------------------- the proved part

@pytest.mark.parametrize("order", [0, 1, 2, 3])
def test_proved_part_holds_the_exact_sum_over_few_crashes_with_cancelling_weights(order):
    p = {0: Fraction(1, 4), 1: Fraction(1, 8)}
    net = net_of(CANCEL_W, CANCEL_B)
    low, high = split_brute(CANCEL_W, CANCEL_B, ["relu", "linear"], CANCEL_X, p, order, delta)
    scale, _ = split_brute(CANCEL_W, CANCEL_B, ["relu", "linear"], CANCEL_X, {l: Fraction(1, 2) for l in p}, 99,
                           lambda y, c: [abs(a - b) for a, b in zip(y, c)])
    scale = [float(v) * 64 for v in scale]              # ≥ max |Δ_k| (2^6 configurations, each of weight 1/64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)
        r = hybrid_estimate(net, CANCEL_X, NeuronCrash({0: 0.25, 1: 0.125}), 400, seed=0, order=order)
    assert r.order == order and r.method == "hybrid"
    for k in range(2):
        assert Fraction(r.proved_low[k]) <= low[k] <= Fraction(r.proved_high[k]), (k, r.proved_low, low)
        # the margin is what rounding needs at this scale (|Δ| up to ~1e24 here), not a blanket interval
        assert r.proved_high[k] - r.proved_low[k] < 1e-12 * scale[k]
    assert r.sampled_probability == float(crash_count_tail(net, NeuronCrash({0: 0.25, 1: 0.125}), order))


@pytest.mark.parametrize("loss", ["squared", "zero_one", "cross_entropy"])
def test_a_rest_below_float_range_is_bounded_for_a_loss(loss):
    target = [0.5, -0.25, 1.0] if loss == "squared" else 1
    stat = {"squared": squared, "zero_one": zero_one, "cross_entropy": cross_entropy}[loss](target)
    low, high = split_brute(RELU_W, RELU_B, ["relu", "linear"], RELU_X, {1: Fraction(1e-160)}, 1, stat)
    r = hybrid_estimate(net_of(RELU_W, RELU_B), RELU_X, NeuronCrash({1: 1e-160}), 100, seed=0, order=1, loss=loss,
                        target=target)
    assert r.method == "proved"
    lo, hi = (mpmath.mpf(r.low[0]), mpmath.mpf(r.high[0])) if loss == "cross_entropy" else (Fraction(r.low[0]),
                                                                                           Fraction(r.high[0]))
    assert lo <= low[0] + high[0] <= hi


@pytest.mark.parametrize("loss", ["squared", "zero_one", "cross_entropy"])
def test_proved_part_of_a_loss_holds_the_exact_sum(loss):
    p = {0: Fraction(1, 4), 1: Fraction(1, 4)}
    target = [0.5, -0.25] if loss == "squared" else 1
    stat = {"squared": squared, "zero_one": zero_one, "cross_entropy": cross_entropy}[loss](target)
    for W, b, x in ((RELU_W, RELU_B, RELU_X), (CANCEL_W, CANCEL_B, CANCEL_X)):
        if len(b[-1]) != 2 and loss == "squared":
            target_ = [0.5, -0.25, 1.0]
            stat = squared(target_)
        else:
            target_ = target
        net = net_of(W, b)
        for order in (1, 2):
            low, _ = split_brute(W, b, ["relu", "linear"], x, p, order, stat)
            r = hybrid_estimate(net, x, NeuronCrash({0: 0.25, 1: 0.25}), 300, seed=1, order=order, loss=loss,
                                target=target_)
            lo, hi = r.proved_low[0], r.proved_high[0]
            if loss == "cross_entropy":
                assert mpmath.mpf(lo) <= low[0] <= mpmath.mpf(hi)
            else:
                assert Fraction(lo) <= low[0] <= Fraction(hi), (loss, order, lo, low[0], hi)
            if loss != "zero_one":      # squared: an exact identity; cross-entropy: per configuration; only rounding
                assert hi - lo < 1e-6 * (1 + abs(float(low[0]))), (loss, lo, hi)


def test_everything_proved_when_the_order_covers_every_neuron():
    p = {0: Fraction(1, 4), 1: Fraction(1, 8)}
    low, high = split_brute(RELU_W, RELU_B, ["relu", "linear"], RELU_X, p, 7, delta)
    assert all(h == 0 for h in high)
    r = hybrid_estimate(net_of(RELU_W, RELU_B), RELU_X, NeuronCrash({0: 0.25, 1: 0.125}), 100, seed=0, order=9)
    assert r.method == "proved" and r.order == 7 and r.sampled_draws == 0 and r.strata == ()
    assert "statistical" not in r.label
    for k in range(3):
        assert Fraction(r.low[k]) <= low[k] <= Fraction(r.high[k])
        assert r.high[k] - r.low[k] < 1e-10             # rounding margins only


def test_lse_error_bound_holds_against_mpmath():
    from symft.analysis.partial_loss import lse_with_error
    rng = np.random.default_rng(5)
    Z = np.concatenate([rng.normal(size=(200, 10)) * 10.0 ** rng.integers(-8, 4, size=(200, 1)),
                        np.array([[1e12, 1e12 - 1e-4, -1e12] + [0.0] * 7, [1e-300] * 10])])
    v, e = lse_with_error(Z)
    with mpmath.workdps(80):
        for row, a, b in zip(Z, v, e):
            exact = mpmath.log(mpmath.fsum(mpmath.exp(mpmath.mpf(float(z))) for z in row))
            assert abs(mpmath.mpf(float(a)) - exact) <= b
            assert b < 1e-9 * (1 + abs(float(a)))


def test_a_rest_below_float_range_is_bounded_not_sampled():
    net = net_of(RELU_W, RELU_B)
    r = hybrid_estimate(net, RELU_X, NeuronCrash({1: 1e-160}), 100, seed=0, order=1)
    assert r.method == "proved" and r.sampled_draws == 0 and r.sampled_probability < 1e-290
    low, high = split_brute(RELU_W, RELU_B, ["relu", "linear"], RELU_X, {1: Fraction(1e-160)}, 1, delta)
    for k in range(3):
        assert Fraction(r.low[k]) <= low[k] + high[k] <= Fraction(r.high[k])


# ---------------------------------------------------------------------- the statistical part and coverage

def test_tail_strata_cover_the_rest_exactly():
    net = random_network([5, 30, 20, 2], seed=1)
    m = NeuronCrash({1: 1e-2, 2: 0.05})
    for order in (0, 1, 3):
        plan = tail_strata(net, m, order, 5000)
        assert plan[0].lo == order + 1 and plan[-1].hi == 50
        assert sum((s.probability for s in plan), Fraction(0)) == crash_count_tail(net, m, order)
        assert [k for s in plan for k in range(s.lo, s.hi + 1)] == list(range(order + 1, 51))
        assert all(s.draws >= 32 and not s.enumerated for s in plan)


def test_auto_order_fits_half_the_budget():
    net = random_network([4, 30, 3], seed=0)
    m = NeuronCrash({1: 1e-3})
    assert hybrid_order(net, m, 2 * 466) == 2 and hybrid_order(net, m, 2 * 466 - 2) == 1
    assert hybrid_order(net, m, 2) == 0
    assert hybrid_estimate(net, np.ones(4), m, 1000, seed=0).order == 2


def coverage(loss, target, stat, seeds, control=None, n=60):
    p = {0: Fraction(1, 5), 1: Fraction(1, 5)}
    low, high = split_brute(RELU_W, RELU_B, ["relu", "linear"], RELU_X, p, 1, stat)
    truth = [a + b for a, b in zip(low, high)]
    net, m = net_of(RELU_W, RELU_B), NeuronCrash({0: 0.2, 1: 0.2})
    hits = total = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)
        for seed in seeds:
            r = hybrid_estimate(net, RELU_X, m, n, seed=seed, order=1, loss=loss, target=target, control=control)
            assert r.method == "hybrid" and r.sampled_draws > 0
            for k, t in enumerate(truth):
                total += 1
                conv = mpmath.mpf if isinstance(t, mpmath.mpf) else Fraction
                hits += conv(r.low[k]) <= t <= conv(r.high[k])
    return hits / total


CASES = {"error": (None, None, delta), "squared": ("squared", [0.5, -0.25, 1.0], squared([0.5, -0.25, 1.0])),
         "zero_one": ("zero_one", 2, zero_one(2)), "cross_entropy": ("cross_entropy", 0, cross_entropy(0))}


@pytest.mark.parametrize("case", sorted(CASES))
def test_combined_interval_keeps_its_level_fast(case):
    # 7 relu units at p = 0.2: P(K > 1) = 0.42, so the sampled part dominates the width
    loss, target, stat = CASES[case]
    cov = coverage(loss, target, stat, range(40))
    assert cov >= (0.85 if case != "zero_one" else 0.93), cov


def test_combined_interval_with_the_control_keeps_its_level_fast():
    cov = coverage(None, None, delta, range(40), control="single_crash")
    assert cov >= 0.85, cov


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES) + ["error+control"])
def test_combined_interval_coverage_300_seeds(case):
    loss, target, stat = CASES[case.split("+")[0]]
    cov = coverage(loss, target, stat, range(1000, 1300), control="single_crash" if "+" in case else None)
    print(f"{case}: coverage {cov:.4f}")
    assert cov >= 0.93, cov


def test_narrower_than_the_enclosure_and_labelled_statistical():
    net = random_network([4, 40, 40, 3], seed=3, activation="sigmoid")
    x, m = [0.3, -0.2, 1.0, 0.5], NeuronCrash({1: 1e-2, 2: 1e-2})
    r = hybrid_estimate(net, x, m, 6000, seed=0)
    assert r.order == 1
    for k in range(3):
        assert r.enclosure_low[k] <= r.proved_low[k] + r.stat_mean[k] <= r.enclosure_high[k]
        assert r.high[k] - r.low[k] < r.enclosure_high[k] - r.enclosure_low[k]   # narrower than the proved tail
    d = r.as_dict()
    assert d["label"] == "proved for ≤ 1 crashes, statistical (95% confidence) for the rest"
    assert "rigorous" not in json.dumps(d)


def test_ten_times_narrower_than_plain_monte_carlo_at_equal_passes():
    # two sigmoid layers of 64 at p = 1e-3: ≤ 2 crashes proved (8257 configurations), 16514 draws above; the
    # plain sampler gets as many forward passes, all of them with a failure
    from symft.engines.sampling import crash_probability, monte_carlo
    net = random_network([16, 64, 64, 4], seed=0, activation="sigmoid")
    x, m = np.random.default_rng(0).standard_normal(16), NeuronCrash({1: 1e-3, 2: 1e-3})
    r = hybrid_estimate(net, x, m, 3 * 8257, seed=0)
    assert r.order == 2 and r.proved_configurations == 8257
    passes = r.proved_configurations + r.sampled_draws
    q = monte_carlo(net, x, m, math.ceil(passes / crash_probability(net, m)), seed=0, show_progress=False)
    assert q.crashed_samples >= 0.95 * passes
    for k in range(4):
        assert q.ci_high[k] - q.ci_low[k] >= 10 * (r.high[k] - r.low[k]), k


# ---------------------------------------------------------------------- bad arguments

def test_bad_arguments_are_refused():
    net = net_of(RELU_W, RELU_B)
    m = NeuronCrash({1: 0.1})
    with pytest.raises(InvalidArgument, match="neuron crashes only"):
        hybrid_estimate(net, RELU_X, SynapseCrash({1: 0.1}), 100, seed=0)
    with pytest.raises(InvalidArgument, match="control"):
        hybrid_estimate(net, RELU_X, m, 100, seed=0, control="first_order")
    with pytest.raises(InvalidArgument, match="loss"):
        hybrid_estimate(net, RELU_X, m, 100, seed=0, loss="hinge", target=0)
    with pytest.raises(InvalidArgument, match="order"):
        hybrid_estimate(net, RELU_X, m, 100, seed=0, order=-1)
    with pytest.raises(InvalidArgument, match="seed"):
        hybrid_estimate(net, RELU_X, m, 100, seed=-1)
    with pytest.raises(InvalidArgument, match="confidence"):
        hybrid_estimate(net, RELU_X, m, 100, seed=0, confidence=1.0)
    with pytest.raises(InvalidArgument, match="float64 cannot hold"):
        hybrid_estimate(net, ["1/10", 0, 0, 0], m, 100, seed=0)
    assert hybrid_estimate(net, ["1/2", "-1", "3/4", "1/4"], m, 100, seed=0).low == \
        hybrid_estimate(net, RELU_X, m, 100, seed=0).low
    big = random_network([4, 300, 300, 3], seed=0)
    with pytest.raises(TooLargeError, match=r"--order 2"):
        hybrid_estimate(big, np.ones(4), NeuronCrash({1: 1e-3, 2: 1e-3}), 100, seed=0, order=3)


# ---------------------------------------------------------------------- command line

def run(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


BASE = ["sample", "examples/relu_small.json", "--input", "0.5,-1,0.25", "--p", "0:0.2,1:0.2", "--seed", "3"]


def test_cli_text_and_json_name_both_parts(capsys):
    code, out, err = run(BASE + ["--method", "hybrid", "--order", "1", "--samples", "300"], capsys)
    assert code == 0, err
    assert "proved part: every configuration with ≤ 1 crashes" in out
    assert "statistical part: the rest" in out
    assert "combined interval: proved for ≤ 1 crashes, statistical (95% confidence) for the rest — not a proof" in out
    code, out, err = run(BASE + ["--method", "hybrid", "--samples", "20", "--json", "--confidence", "0.9"], capsys)
    assert code == 0, err
    d = json.loads(out)
    assert d["sampler"] == "hybrid" and d["method"] == "hybrid"
    assert d["statistical"]["confidence"] == 0.9 and d["statistical"]["interval"] == "t-welch"
    assert d["command"] == "sample" and d["settings"]["method"] == "hybrid"
    assert d["proved"]["order"] >= 0 and len(d["mean_lo"]) == len(d["proved"]["mean_lo"])
    for k in range(len(d["mean_lo"])):
        assert d["mean_lo"][k] < d["proved"]["mean_lo"][k] + d["statistical"]["mean_lo"][k]   # rounded outward
        assert d["mean_hi"][k] > d["proved"]["mean_hi"][k] + d["statistical"]["mean_hi"][k]
    assert d["label"].endswith("statistical (90% confidence) for the rest")


@pytest.mark.parametrize("extra, needle", [
    (["--order", "2"], "--order"),
    (["--method", "hybrid", "--order", "-1"], "--order"),
    (["--method", "hybrid", "--order", "many"], "--order"),
    (["--method", "hybrid", "--control", "first-order"], "--control"),
    (["--method", "hybrid", "--synapse-p", "1:0.1"], "--synapse-p"),
    (["--method", "hybrid", "--loss", "zero_one", "--target", "0", "--control", "single-crash"], "--control"),
    (["--method", "hybrid", "--scheduler", "local"], "--scheduler"),
    (["--method", "hybrid", "--eps", "0.1"], "--eps"),
    (["--method", "hybrid", "--interval", "normal"], "--interval"),
    (["--method", "hybrid", "--loss", "squared", "--target", "1"], "--target"),
    (["--method", "hybrid", "--order", "64"], "--order"),
])
def test_cli_bad_arguments_exit_2_in_one_line(capsys, extra, needle):
    argv = BASE + extra
    if extra[-1] == "64":
        argv = ["sample", "examples/digits_sigmoid.json", "--input", "@examples/digit0.csv", "--p", "0.1",
                "--seed", "0"] + extra
    code, out, err = run(argv, capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("symft: error: ") and needle in err, err
    assert "Traceback" not in err


def test_cli_batch_json_has_one_entry_per_input(capsys, tmp_path):
    f = tmp_path / "x.json"
    f.write_text(json.dumps([[0.5, -1, 0.25], [1, 2, 3]]))
    argv = ["sample", "examples/relu_small.json", "--input", f"@{f}", "--p", "0:0.2,1:0.2", "--seed", "0",
            "--method", "hybrid", "--order", "1", "--samples", "100"]
    code, out, err = run(argv + ["--json", "--loss", "zero_one", "--target", "1"], capsys)
    assert code == 0, err
    d = json.loads(out)
    assert d["sampler"] == "hybrid" and len(d["per_input"]) == 2 and d["loss"] == "zero_one"
    assert [e["input"] for e in d["per_input"]] == [0, 1]
    assert all(e["statistical"]["interval"] == "clopper-pearson" for e in d["per_input"])
    # the rows are the single-input answers (same seed), and the top-level vectors are theirs
    for b, e in enumerate(d["per_input"]):
        row = f.read_text() and json.loads(f.read_text())[b]
        code, one, err = run(argv[:3] + [",".join(map(str, row))] + argv[4:] + ["--json", "--loss", "zero_one",
                                                                              "--target", "1"], capsys)
        assert code == 0, err
        one = json.loads(one)
        assert e["mean_lo"] == one["mean_lo"] and e["mean_hi"] == one["mean_hi"] and d["mean_lo"][b] == one["mean_lo"]
    # the old key, for one release, with a warning naming the new one
    assert [{**r, "input": b} for b, r in enumerate(d["inputs"])] == d["per_input"]
    assert any("inputs" in w and "per_input" in w for w in d["warnings"])
    jsonschema = pytest.importorskip("jsonschema")
    from importlib import resources

    schema = json.loads(resources.files("symft").joinpath("schemas", "sample.json").read_text(encoding="utf-8"))
    jsonschema.validate(d, schema, cls=jsonschema.Draft202012Validator)
    bad = {**d, "per_input": [{k: v for k, v in r.items() if k != "input"} for r in d["per_input"]]}
    assert not jsonschema.Draft202012Validator(schema).is_valid(bad)
    code, out, err = run(argv, capsys)
    assert code == 0 and "input 0" in out and "input 1" in out


def test_cli_module_entry_point_refuses_in_one_line():
    p = subprocess.run([sys.executable, "-m", "symft"] + BASE + ["--method", "hybrid", "--order", "x"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "--order" in p.stderr
