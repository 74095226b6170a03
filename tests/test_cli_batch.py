"""``worst``, ``check``, ``certify`` and ``derive`` on a batch of inputs (``--input @FILE`` with several rows).

Each batch answer is checked against an independent computation: the worst case against a brute force over
crash sets in exact rationals, the rows against the same command on each input alone, the batch verdicts
against the conjunction of the rows.
"""

import itertools
import json
from fractions import Fraction
from pathlib import Path

import pytest

from .test_cli import run, run_json

ROOT = Path(__file__).resolve().parents[1]
RELU = ROOT / "examples" / "relu_small.json"
BATCH = [["1", "-1/2", "2"], ["1/2", "1", "-1"], ["2", "2", "2"], ["0", "0", "1"], ["-1", "3", "1/2"]]




@pytest.fixture
def batch(tmp_path):
    path = tmp_path / "batch.csv"
    path.write_text("\n".join(",".join(r) for r in BATCH) + "\n")
    return f"@{path}"


def _relu_small():
    spec = json.loads(RELU.read_text())
    return [([[Fraction(str(v)) for v in r] for r in L["weights"]],
             [Fraction(str(v)) for v in L.get("bias", [0] * len(L["weights"]))]) for L in spec["layers"]]


def _exact_worst(x, max_crashes):
    """max |Δ_out| over crash sets of at most ``max_crashes`` hidden neurons, in exact rationals."""
    (W1, b1), (W2, b2) = _relu_small()
    h = [max(Fraction(0), sum(w * v for w, v in zip(r, x)) + b) for r, b in zip(W1, b1)]
    y = [sum(w * v for w, v in zip(r, h)) + b for r, b in zip(W2, b2)]
    best = Fraction(0)
    for k in range(max_crashes + 1):
        for crashed in itertools.combinations(range(len(h)), k):
            hc = [Fraction(0) if i in crashed else v for i, v in enumerate(h)]
            yc = [sum(w * v for w, v in zip(r, hc)) + b for r, b in zip(W2, b2)]
            best = max(best, max(abs(a - c) for a, c in zip(yc, y)))
    return best


def test_worst_batch_is_the_largest_over_the_inputs_in_exact_rationals(capsys, batch):
    d = run_json(capsys, "worst", RELU, "--input", batch, "--max-crashes", "2")
    exact = [_exact_worst([Fraction(v) for v in r], 2) for r in BATCH]
    assert [Fraction(r["worst_delta_exact"]) for r in d["per_input"]] == exact
    assert [r["input"] for r in d["per_input"]] == list(range(len(BATCH)))
    assert d["status"] == "proved" and all(r["status"] == "proved" for r in d["per_input"])
    assert Fraction(d["worst_delta_exact"]) == max(exact) and d["input"] == exact.index(max(exact))
    # each row is what the command answers for that input alone
    for b, r in enumerate(BATCH):
        one = run_json(capsys, "worst", RELU, "--input", ",".join(r), "--max-crashes", "2")
        row = dict(d["per_input"][b])
        for k in ("input", "seconds"):
            row.pop(k)
        one = {k: v for k, v in one.items() if k not in ("command", "version", "settings", "warnings", "seconds")}
        assert row == one


def test_worst_batch_decision_is_yes_at_the_first_input_that_reaches_eps(capsys, batch):
    exact = [_exact_worst([Fraction(v) for v in r], 1) for r in BATCH]
    eps = sorted(exact)[-2]                          # reached by two inputs at least, not by the others
    d = run_json(capsys, "worst", RELU, "--input", batch, "--max-crashes", "1", "--eps", str(eps))
    reached = [w >= eps for w in exact]
    assert [r["status"] == "found" for r in d["per_input"]] == reached
    assert d["status"] == "found" and d["input"] == reached.index(True)
    d = run_json(capsys, "worst", RELU, "--input", batch, "--max-crashes", "1", "--eps", str(max(exact) + 1))
    assert d["status"] == "proved" and d["input"] is None and d["crash_set"] is None
    code, out, err = run(capsys, "worst", RELU, "--input", batch, "--max-crashes", "1", "--eps", str(eps))
    assert code == 0 and out.startswith("yes: ") and f"at input {reached.index(True)}" in out.splitlines()[0]


def test_batch_text_is_summarized_and_wide_shows_every_input(capsys, tmp_path):
    rows = [[str(k), "1", "-1"] for k in range(12)]
    path = tmp_path / "many.csv"
    path.write_text("\n".join(",".join(r) for r in rows) + "\n")
    for argv in (["worst", RELU, "--input", f"@{path}", "--max-crashes", "1"],
                 ["certify", RELU, "--input", f"@{path}", "--p", "1:0.1", "--eps", "1", "--delta", "1/2"],
                 ["check", RELU, "--input", f"@{path}", "--p", "1:0.1", "--samples", "300"],
                 ["derive", RELU, "--input", f"@{path}", "--p", "1:1/10", "--order", "1"]):
        code, out, err = run(capsys, *argv)
        assert code == 0, err
        assert all(len(line) <= 100 for line in out.splitlines())
        assert "more inputs (--wide shows all)" in out
        shown = {k for k in range(12) if f"input {k}:" in out}
        assert 0 in shown and 11 in shown and len(shown) < 12
        code, out, err = run(capsys, *argv, "--wide")
        assert code == 0 and {k for k in range(12) if f"input {k}:" in out} == set(range(12))


def test_check_batch_verdict_is_the_conjunction(capsys, batch):
    d = run_json(capsys, "check", RELU, "--input", batch, "--p", "1:0.1", "--samples", "300")
    verdicts = [r["verdict"] for r in d["per_input"]]
    assert len(verdicts) == len(BATCH)
    want = ("disagree" if "disagree" in verdicts else "agree" if set(verdicts) == {"agree"} else "inconclusive")
    assert d["verdict"] == want
    first = {"agree": None, "disagree": verdicts.index("disagree") if "disagree" in verdicts else None,
             "inconclusive": next((b for b, v in enumerate(verdicts) if v != "agree"), None)}[want]
    assert d["input"] == first
    # Bonferroni over the inputs: the threshold is above that of one input
    one = run_json(capsys, "check", RELU, "--input", ",".join(BATCH[0]), "--p", "1:0.1", "--samples", "300")
    assert d["threshold"] > one["threshold"]
    assert [c["status"] for c in d["per_input"][0]["comparisons"]] == [c["status"] for c in one["comparisons"]]


def test_check_batch_names_the_first_input_that_disagrees(capsys, batch):
    # 2 samples: the Monte Carlo values are far off at some inputs
    d = run_json(capsys, "check", RELU, "--input", batch, "--p", "1:0.1", "--samples", "2")
    verdicts = [r["verdict"] for r in d["per_input"]]
    assert "disagree" in verdicts and d["verdict"] == "disagree" and d["input"] == verdicts.index("disagree")
    code, out, err = run(capsys, "check", RELU, "--input", batch, "--p", "1:0.1", "--samples", "2")
    assert out.startswith(f"DISAGREE at input {verdicts.index('disagree')} ")


def test_certify_batch_is_certified_only_when_every_input_is(capsys, batch):
    d = run_json(capsys, "certify", RELU, "--input", batch, "--p", "1:1/10", "--eps", "1", "--delta", "1/2")
    rows = d["per_input"]
    singles = [run_json(capsys, "certify", RELU, "--input", ",".join(r), "--p", "1:1/10", "--eps", "1", "--delta",
                        "1/2") for r in BATCH]
    assert [r["certified"] for r in rows] == [s["certified"] for s in singles]
    assert [r["delta_bound"] for r in rows] == [s["delta_bound"] for s in singles]
    assert d["certified"] == all(s["certified"] for s in singles)
    assert d["delta_bound"] == max(s["delta_bound"] for s in singles)
    assert d["input"] == next((b for b, s in enumerate(singles) if not s["certified"]), None)
    assert not d["certified"]      # relu_small at these inputs: some certified, some not (the test can tell)
    assert any(s["certified"] for s in singles)
    # the bound at input 0 from exact moments, by hand: Cantelli max_k Var/(Var + (ε − E)²) with E, Var exact
    assert d["rigorous"] and all(r["rigorous"] for r in rows)


def test_certify_statistical_writes_no_moments_and_bonferroni_over_the_inputs(capsys, batch):
    one = run_json(capsys, "certify", RELU, "--input", ",".join(BATCH[0]), "--p", "1:0.1", "--eps", "1", "--delta",
                   "1/2", "--source", "statistical", "--samples", "400")
    assert one["warnings"] == [] and not one["rigorous"]
    assert all(set(r) == {"output", "delta_bound"} for r in one["per_output"])
    d = run_json(capsys, "certify", RELU, "--input", batch, "--p", "1:0.1", "--eps", "1", "--delta", "1/2",
                 "--source", "statistical", "--samples", "400", "--confidence", "0.99")
    assert d["warnings"] == [] and not d["rigorous"]
    assert "confidence 0.998" in d["method"]       # 1 − 0.01/5 for each input: 0.99 for all five
    assert d["per_input"][0]["delta_bound"] >= one["delta_bound"]  # a higher level: a wider upper limit


def test_derive_batch_is_derived_at_each_input(capsys, batch):
    d = run_json(capsys, "derive", RELU, "--input", batch, "--p", "1:1/10", "--order", "1")
    assert d["order"] == 1 and len(d["per_input"]) == len(BATCH)
    for b, r in enumerate(BATCH):
        one = run_json(capsys, "derive", RELU, "--input", ",".join(r), "--p", "1:1/10", "--order", "1")
        assert d["per_input"][b]["mean_exact"] == one["mean_exact"]
        assert d["per_input"][b]["expansion"] == one["expansion"] and d["xi"] == one["xi"]
    # relu_small is piecewise linear: order 1 is exact, so E Δ is the exact mean of the enumeration
    ex = run_json(capsys, "exact", RELU, "--input", ",".join(BATCH[1]), "--p", "1:1/10")
    assert [Fraction(t) for t in d["per_input"][1]["mean_exact"]] == [Fraction(t) for t in ex["mean_exact"]]


def test_batch_of_the_wrong_width_is_one_line(capsys, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("1,2\n3,4\n")
    for argv in (["worst", RELU, "--input", f"@{path}", "--max-crashes", "1"],
                 ["check", RELU, "--input", f"@{path}", "--p", "1:0.1"],
                 ["certify", RELU, "--input", f"@{path}", "--p", "1:0.1", "--eps", "1", "--delta", "1/2"],
                 ["derive", RELU, "--input", f"@{path}", "--p", "1:0.1"]):
        code, out, err = run(capsys, *argv)
        assert code == 2 and out == "" and err.count("\n") == 1 and "--input" in err and "Traceback" not in err


def test_certify_loss_batch_is_each_input_alone(capsys, batch, tmp_path):
    targets = tmp_path / "targets.csv"
    targets.write_text("1\n0\n1\n1\n0\n")
    argv = ["--p", "1:1/10", "--eps", "1/2", "--delta", "1/20", "--loss", "zero_one"]
    d = run_json(capsys, "certify", RELU, "--input", batch, *argv, "--target", f"@{targets}")
    singles = [run_json(capsys, "certify", RELU, "--input", ",".join(r), *argv, "--target", t)
               for r, t in zip(BATCH, "10110")]
    assert [r["bound_exact"] for r in d["per_input"]] == [s["bound_exact"] for s in singles]
    assert [r["verdict"] for r in d["per_input"]] == [s["verdict"] for s in singles]
    assert d["certified"] == all(s["certified"] for s in singles)
    assert d["input"] == next((b for b, s in enumerate(singles) if not s["certified"]), None)
    code, out, err = run(capsys, "certify", RELU, "--input", batch, *argv, "--target", "1,0")
    assert code == 2 and "--target" in err and err.count("\n") == 1
