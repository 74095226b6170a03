"""The command line's conventions: one spelling per option (old spellings still work, with a note),
help in plain words (paper labels only in parentheses after them), and text output that fits 100
columns, with 6 significant digits by default, ``--exact`` for the exact values and ``--wide`` for all."""

import argparse
import itertools
import json
import re
import shlex
from fractions import Fraction
from pathlib import Path

import pytest

from symft.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]

#: The labels of the papers and the theory page: theorems, definitions, propositions, errata, appendix
#: items, the bounds b1–b4, the SRDS paper.
LABEL = re.compile(r"\b(?:T|D|P|E|AP|AC|AD)\d+\b|\bSRDS\b|\bb[1-4]\b")
TICKET = re.compile(r"\b(?:issues?|tickets?|PR)\b|#\d+", re.IGNORECASE)
PLAIN_WORD = re.compile(r"[A-Za-z][a-z]+(?:[-'][a-z]+)*")


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _subparsers(parser):
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


def _help_texts():
    """(where, text) of every help string: the commands' one-liners and every option of every command."""
    parser = build_parser()
    sub = _subparsers(parser)
    texts = [("symft", parser.description or "")]
    texts += [(c.dest, c.help or "") for c in sub._choices_actions]
    for name, p in sub.choices.items():
        texts += [(f"{name} {a.option_strings or a.dest}", a.help or "") for a in p._actions
                  if a.help != argparse.SUPPRESS]
    return [(w, " ".join(t.split())) for w, t in texts]


def label_problems(text):
    """The paper labels in ``text`` that are not in parentheses after plain words of the same sentence."""
    bad = []
    for m in LABEL.finditer(text):
        before = text[:m.start()]
        sentence = re.split(r"(?<!e\.g)(?<!i\.e)(?<=[.!?])\s", before)[-1]
        depth, opened = 0, None
        for k, ch in enumerate(sentence):   # where the innermost open parenthesis around the label starts
            if ch == "(":
                depth += 1
                opened = k if depth == 1 else opened
            elif ch == ")" and depth > 0:
                depth -= 1
                opened = None if depth == 0 else opened
        outside = sentence[:opened] if opened is not None else None
        words = [] if outside is None else [w for w in PLAIN_WORD.findall(outside) if not LABEL.fullmatch(w)]
        if len(words) < 2:
            bad.append(m.group())
    return bad


def test_label_rule_itself():
    assert label_problems("the first-order Taylor estimate (T1) of E Δ") == []
    assert label_problems("decide SUBSET SUM through the reduction (P1; errata E1, E2)") == []
    assert label_problems("T1 of the change of a smooth loss") == ["T1"]
    assert label_problems("see (D5)") == ["D5"]
    assert label_problems("the bound b2 on E|Δ|") == ["b2"]
    assert label_problems("a tail bound (Cantelli). AP10 as printed") == ["AP10"]
    assert label_problems("inputs (e.g. 1×8×8) then the estimate (T1)") == []


def test_help_has_no_ticket_numbers_and_labels_follow_plain_words(capsys):
    texts = _help_texts()
    assert len(texts) > 100
    for where, text in texts:
        assert not TICKET.search(text), (where, text)
        assert label_problems(text) == [], (where, text)
    # the rendered help of every command, as a user sees it
    parser = build_parser()
    for name in [None, *_subparsers(parser).choices]:
        code = main(["--help"] if name is None else [name, "--help"])
        out, _ = capsys.readouterr()
        assert code == 0 and not TICKET.search(out), name


# ------------------------------------------------------------------ text output: 100 columns, answer first

def _tiny_dataset(tmp_path):
    """The 20 digits of examples/digits_inputs.json as an .npz (X, y), for accuracy and sweep."""
    import numpy as np

    d = json.loads((ROOT / "examples" / "digits_inputs.json").read_text())
    path = tmp_path / "twenty.npz"
    np.savez(path, X=np.array(d["inputs"]), y=np.array(d["labels"]))
    return path


SIG = "examples/digits_sigmoid.json"
CNN = "examples/digits_cnn.onnx"
TEXT_COMMANDS = [
    "info examples/digits_sigmoid.json",
    "info examples/digits_cnn.onnx",
    "eval examples/digits_sigmoid.json --input @examples/digit0.csv --crash 1:0,3,7",
    "eval examples/digits_sigmoid.json --input @examples/digits_inputs.json --crash 1:0",
    "eval examples/relu_small.json --input 1,2,3 --crash 1:0 --exact",
    "exact examples/relu_small.json --input 1,2,3 --p 1/3 --distribution",
    "exact examples/relu_small.json --input 1,2,3 --p 0:p --polynomial",
    "exact examples/digits_sigmoid.json --input @examples/digit0.csv --p 2:1e-3 --order 1",
    "enclose examples/digits_sigmoid.json --input @examples/digits_inputs.json --p 2:1e-3 --order 1",
    "derive examples/tanh_small.json --p 1:p",
    "taylor examples/digits_sigmoid.json --input @examples/digit0.csv --p 1e-3",
    "sample examples/digits_sigmoid.json --input @examples/digits_inputs.json --p 1e-3 --samples 500",
    "sample examples/digits_sigmoid.json --input @examples/digit0.csv --p 1e-3 --samples 500 --method plain --eps 0.1",
    "certify examples/digits_cnn.onnx --input @examples/digit0_image.npy --p classifier.2:1e-3 --eps 0.5 --delta 0.05",
    "report examples/digits_sigmoid.json --input @examples/digits_inputs.json --p 1e-3 --samples 500",
    "check examples/digits_sigmoid.json --input @examples/digit0.csv --p 1e-3 --samples 2000",
    "worst examples/digits_sigmoid.json --input @examples/digit0.csv --max-crashes 1",
    "worst examples/relu_small.json --input 1,2,3 --max-crashes 2 --eps 7",
    "fep examples/digits_sigmoid.json --per-site 1,1 --max-crashes 3",
    "reduce subset-sum 3 5 7",
    "accuracy examples/digits_sigmoid.json --data {data} --p 1e-3 --method statistical --samples 200",
    "sweep examples/digits_sigmoid.json --data {data} --p 1e-3:1e-2:2 --samples 200",
]


@pytest.mark.parametrize("command", TEXT_COMMANDS, ids=[c[:60] for c in TEXT_COMMANDS])
def test_text_output_fits_100_columns_with_the_answer_first(capsys, monkeypatch, tmp_path, command):
    monkeypatch.chdir(ROOT)
    argv = shlex.split(command.format(data=_tiny_dataset(tmp_path)))
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    lines = out.rstrip("\n").split("\n")
    assert max(len(line) for line in lines) <= 100, max(lines, key=len)
    # the answer: one line of plain words (not wrapped onto a second line, not a table header)
    assert re.match(r"[A-Za-z0-9|(]", lines[0]) and not lines[1].startswith("    "), lines[:2]
    wide = run(capsys, *argv, "--wide")[1]
    assert "--wide shows" not in wide and len(wide.splitlines()) >= len([x for x in lines if not x.startswith("    ")])


def test_wide_shows_every_input_and_default_summarizes(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    argv = ["eval", SIG, "--input", "@examples/digits_inputs.json", "--crash", "1:0"]
    out = run(capsys, *argv)[1]
    assert "… 17 more inputs (--wide shows all)" in out and "input 19" in out and "input 5\n" not in out
    wide = run(capsys, *argv, "--wide")[1]
    assert all(f"input {b}\n" in wide for b in range(20)) and "more inputs" not in wide
    assert wide.count("predicted class:") == 20


def test_default_numbers_have_6_significant_digits_and_match_the_json(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    argv = ["eval", SIG, "--input", "@examples/digit0.csv", "--crash", "1:0,3,7"]
    out = run(capsys, *argv)[1]
    d = json.loads(run(capsys, *argv, "--json")[1])
    rows = [line.split() for line in out.splitlines()[3:13]]
    assert [r[0] for r in rows] == [str(k) for k in range(10)]
    for k, r in enumerate(rows):
        for text, value in zip(r[1:], (d["output"][k], d["crashed_output"][k], d["delta"][k])):
            digits = re.sub(r"e.*$", "", text).lstrip("-").replace(".", "").lstrip("0")
            assert len(digits) <= 6, text
            assert abs(float(text) - value) <= 5e-6 * abs(value), (text, value)


def _fraction_forward(spec, x, crashed):
    """The chain of relu_small.json in rational arithmetic, written from the JSON text (crashed neurons give 0)."""
    y = [Fraction(v) for v in x]
    for l, layer in enumerate(spec["layers"], start=1):
        z = [sum(Fraction(w) * v for w, v in zip(row, y)) + Fraction(b)
             for row, b in zip(layer["weights"], layer["bias"])]
        act = layer["activation"]
        y = [max(v, Fraction(0)) if act == "relu" else v for v in z]
        y = [Fraction(0) if (l, i) in crashed else v for i, v in enumerate(y)]
    return y


def test_exact_shows_the_rational_and_the_default_six_digits(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    spec = json.loads((ROOT / "examples" / "relu_small.json").read_text())
    x = [1, 2, 3]
    clean = _fraction_forward(spec, x, set())
    hidden = len(spec["layers"][0]["bias"])
    sets = [set()] + [{(1, i)} for i in range(hidden)] + [{(1, i), (1, j)} for i, j in
                                                          itertools.combinations(range(hidden), 2)]
    best = max(max(abs(a - b) for a, b in zip(_fraction_forward(spec, x, s), clean)) for s in sets)
    argv = ["worst", "examples/relu_small.json", "--input", "1,2,3", "--max-crashes", "2"]
    out = run(capsys, *argv)[1]
    assert out.splitlines()[0] == f"the largest output change: max |Δ_out| ≈ {float(best):.6g} (proved)"
    out = run(capsys, *argv, "--exact")[1]
    assert out.splitlines()[0] == f"the largest output change: max |Δ_out| = {best} (proved)"
    # exact: the table of E Δ in rationals with --exact, 6 digits without
    out = run(capsys, "exact", "examples/relu_small.json", "--input", "1,2,3", "--p", "1/3", "--exact")[1]
    assert "/" in out.splitlines()[0]
    out = run(capsys, "exact", "examples/relu_small.json", "--input", "1,2,3", "--p", "1/3")[1]
    assert "/" not in out.split("\n", 1)[1].replace("1/3", "")


def test_printed_enclosure_is_rounded_outward(capsys, monkeypatch):
    """The 6-digit text of a certified interval still contains the interval the engine proved."""
    monkeypatch.chdir(ROOT)
    argv = ["enclose", SIG, "--input", "@examples/digit0.csv", "--p", "1e-3", "--order", "1"]
    d = json.loads(run(capsys, *argv, "--json")[1])
    out = run(capsys, *argv, "--wide")[1]
    rows = [line.split() for line in out.splitlines() if re.match(r"  \d ", line)]
    assert len(rows) == 10
    for k, r in enumerate(rows):
        lo, hi, vlo, vhi = (Fraction(t) for t in (r[1], r[2], r[4], r[5]))
        assert lo <= Fraction(d["mean_lo"][k]) and Fraction(d["mean_hi"][k]) <= hi
        assert vlo <= Fraction(d["var_lo"][k]) and Fraction(d["var_hi"][k]) <= vhi


def test_rounded_is_a_bound_in_the_asked_direction():
    import random

    from symft.cli.format import rounded

    rng = random.Random(0)
    for _ in range(3000):
        v = rng.uniform(-1, 1) * 10.0 ** rng.randint(-15, 15)
        q = Fraction(rng.randint(-10 ** 12, 10 ** 12), rng.randint(1, 10 ** 12))
        for value in (v, q):
            lo, hi = Fraction(rounded(value, "down")), Fraction(rounded(value, "up"))
            assert lo <= Fraction(value) <= hi
            assert hi - lo <= abs(Fraction(value)) * Fraction(1, 10 ** 5) + Fraction(1, 10 ** 300)


# ------------------------------------------------------------------ one spelling; old ones still work

ALIASES = [
    (["worst", "examples/relu_small.json", "--input", "1,2,3", "--max-crashes", "2"], "--epsilon", "--eps", "7"),
    (["worst", "examples/relu_small.json", "--input", "1,2,3", "--max-crashes", "2"], "--layers", "--sites", "1"),
    (["worst", "examples/relu_small.json", "--input", "1,2,3", "--max-crashes", "2"], "--per-layer", "--per-site",
     "1:1"),
    (["fep", "examples/relu_small.json", "--input", "1,2,3"], "--failures", "--per-site", "1"),
    (["fep", "examples/relu_small.json", "--input", "1,2,3"], "--max", "--max-crashes", "2"),
]


@pytest.mark.parametrize("base,old,new,value", ALIASES, ids=[a[1] for a in ALIASES])
def test_old_spellings_work_with_one_warning_line(capsys, monkeypatch, base, old, new, value):
    monkeypatch.chdir(ROOT)
    code, out_new, err_new = run(capsys, *base, new, value, "--json")
    assert code == 0 and err_new == ""
    code, out_old, err_old = run(capsys, *base, old, value, "--json")

    def timeless(text):
        d = json.loads(text)
        d.pop("seconds", None)
        return d

    assert code == 0 and timeless(out_old) == timeless(out_new)
    assert err_old == f"symft: warning: {old} is the old spelling of {new}; it still works, but write {new}\n"
    code, help_text, _ = run(capsys, base[0], "--help")
    assert new in help_text and not re.search(rf"{re.escape(old)}\b(?!-)", help_text)
    # a failing command still prints exactly one line
    code, out, err = run(capsys, *base, old, value, "--input", "1,2")
    assert code == 2 and out == "" and err.count("\n") == 1 and err.startswith("symft: error:")


def test_fep_per_site_by_name_is_the_list():
    from symft.cli.worst import _fep_failures
    from symft.graph.netfile import load_network

    net = load_network(str(ROOT / SIG))
    assert _fep_failures(net, "1:2,2:1", 2) == _fep_failures(net, "2,1", 2) == [2, 1]
    assert _fep_failures(net, "2:3", 2) == [0, 3]


RANDOM = [
    "sample examples/digits_sigmoid.json --input @examples/digit0.csv --p 1e-3 --samples 300",
    "sample examples/relu_small.json --input 1,2,3 --p 0.1 --samples 300 --method plain",
    "check examples/relu_small.json --input 1,2,3 --p 0.1 --samples 300",
    "report examples/relu_small.json --input 1,2,3 --p 0.1 --samples 300",
    "certify examples/relu_small.json --input 1,2,3 --p 0.1 --eps 1 --delta 0.5 --source statistical --samples 300",
    "accuracy examples/digits_sigmoid.json --data {data} --p 1e-3 --method statistical --samples 100",
]


@pytest.mark.parametrize("command", RANDOM, ids=[c.split()[0] + str(k) for k, c in enumerate(RANDOM)])
def test_seed_defaults_to_0_and_is_printed(capsys, monkeypatch, tmp_path, command):
    monkeypatch.chdir(ROOT)
    argv = shlex.split(command.format(data=_tiny_dataset(tmp_path)))
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    assert re.search(r"\bseed 0\b", out), out
    assert run(capsys, *argv, "--seed", "0")[1].replace(" ", "").split("\n")[0] == \
        out.replace(" ", "").split("\n")[0] or argv[0] in ("check", "accuracy")
    code, out, err = run(capsys, *argv, "--seed", "7")
    assert code == 0 and re.search(r"\bseed 7\b", out)


ORDER_AUTO = [
    "exact examples/relu_small.json --input 1,2,3 --p 0.1 --order auto",
    "enclose examples/relu_small.json --input 1,2,3 --p 0.1 --order auto",
    "certify examples/relu_small.json --input 1,2,3 --p 0.1 --eps 1 --delta 0.5 --order auto",
    "check examples/relu_small.json --input 1,2,3 --p 0.1 --samples 300 --order auto",
    "accuracy examples/digits_sigmoid.json --data {data} --p 1e-3 --order auto",
]


@pytest.mark.parametrize("command", ORDER_AUTO, ids=[c.split()[0] for c in ORDER_AUTO])
def test_order_auto_wherever_there_is_an_order(capsys, monkeypatch, tmp_path, command):
    monkeypatch.chdir(ROOT)
    code, out, err = run(capsys, *shlex.split(command.format(data=_tiny_dataset(tmp_path))))
    assert code == 0, err


def test_every_order_option_takes_auto_or_refuses_it_in_one_line(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    sub = _subparsers(build_parser())
    with_order = sorted(n for n, p in sub.choices.items() if any("--order" in a.option_strings for a in p._actions))
    assert with_order == ["accuracy", "certify", "check", "derive", "enclose", "exact", "sample"]
    code, out, err = run(capsys, "derive", "examples/tanh_small.json", "--p", "1:p", "--order", "auto")
    assert code == 2 and out == "" and err.count("\n") == 1 and "--order" in err and "--order 2" in err


def test_one_spelling_per_option_across_commands():
    """--seed defaults to 0 everywhere; no command spells a shared option another way in its help."""
    sub = _subparsers(build_parser())
    seeds = {n: a.default for n, p in sub.choices.items() for a in p._actions if "--seed" in a.option_strings}
    assert set(seeds) >= {"sample", "certify", "report", "check", "accuracy", "sweep", "train"}
    assert set(seeds.values()) == {0}
    shown = {o for p in sub.choices.values() for a in p._actions if a.help != argparse.SUPPRESS
             for o in a.option_strings}
    assert not shown & {"--epsilon", "--failures", "--max", "--layers", "--per-layer"}
    orders = {n: a for n, p in sub.choices.items() for a in p._actions if "--order" in a.option_strings}
    assert all(a.type("auto") == "auto" and a.type("3") == 3 for a in orders.values()), orders
