"""Every command's ``--json`` output follows one convention and validates against its shipped schema.

Each command runs once (or a few times, for its variants) on the shipped examples with small p and
few samples; its output must then
* validate against ``symft/schemas/<command>.json`` (JSON Schema draft 2020-12);
* hold every number as a JSON number: no string that reads as a number except under ``*_exact``
  (and in fields that hold names, such as a site called ``"1"``); no array mixing numbers and
  strings; no positional rows (arrays of arrays holding strings or objects); snake_case keys;
* start with ``command``, ``version`` and ``settings`` (every option the command has) and end with
  ``warnings``;
* agree with itself: a number with a rational ``<key>_exact`` is that rational correctly rounded.
"""

import contextlib
import io
import json
import re
from fractions import Fraction
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

jsonschema = pytest.importorskip("jsonschema")

import symft  # noqa: E402
from symft.cli import build_parser, main  # noqa: E402
from symft.cli.convention import json_safe  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
E = ROOT / "examples"
RELU, TANH, MEAN, CNN = E / "relu_small.json", E / "tanh_small.json", E / "mean_of_inputs.json", E / "digits_cnn.onnx"
IMAGE = f"@{E / 'digit0_image.npy'}"
X3 = ["--input", "1,-0.5,2"]

# name -> argv (without --json); {small} and {digits} are datasets written by the fixture
RUNS = {
    "info": ["info", RELU],
    "info_onnx": ["info", CNN],
    "eval": ["eval", MEAN, "--input", "1,1,1,1", "--crash", "0:2"],
    "eval_exact": ["eval", TANH, "--input", "1/2,-1", "--crash", "1:0", "--exact"],
    "eval_onnx": ["eval", CNN, "--input", IMAGE, "--crash", "classifier.2:0"],
    "convert": ["convert", RELU, "{tmp}/relu.onnx"],
    "sample": ["sample", RELU, *X3, "--p", "1:0.1", "--samples", "300", "--seed", "0"],
    "sample_batch": ["sample", RELU, "--input", "{batch}", "--p", "1:0.1", "--samples", "300", "--seed", "0"],
    "sample_plain": ["sample", RELU, *X3, "--p", "1:0.1", "--samples", "300", "--seed", "1", "--method", "plain",
                     "--eps", "0.5"],
    "sample_hybrid": ["sample", RELU, *X3, "--p", "1:0.1", "--samples", "300", "--seed", "0", "--method", "hybrid"],
    "sample_hybrid_batch": ["sample", RELU, "--input", "{batch}", "--p", "1:0.1", "--samples", "300", "--method",
                            "hybrid"],
    "enclose_auto": ["enclose", RELU, *X3, "--p", "1:0.1", "--order", "auto", "--width", "0.5"],
    "certify": ["certify", RELU, *X3, "--p", "1:0.1", "--eps", "1", "--delta", "1/2"],
    "certify_batch": ["certify", RELU, "--input", "{batch}", "--p", "1:0.1", "--eps", "1", "--delta", "1/2"],
    "certify_loss_batch": ["certify", RELU, "--input", "{batch}", "--p", "1:0.1", "--eps", "0.5", "--delta", "0.5",
                           "--loss", "zero_one", "--target", "1"],
    "certify_statistical": ["certify", RELU, *X3, "--p", "1:0.1", "--eps", "1", "--delta", "1/2", "--source",
                            "statistical", "--samples", "500"],
    "certify_statistical_batch": ["certify", RELU, "--input", "{batch}", "--p", "1:0.1", "--eps", "1", "--delta",
                                  "1/2", "--source", "statistical", "--samples", "500"],
    "certify_data": ["certify", RELU, "--data", "{small}", "--p", "1:0.1", "--eps", "1", "--delta", "0.5",
                     "--population-confidence", "0.9"],
    "report": ["report", RELU, *X3, "--p", "1:0.1", "--samples", "200"],
    "check": ["check", RELU, *X3, "--p", "1:0.1", "--samples", "200"],
    "check_batch": ["check", RELU, "--input", "{batch}", "--p", "1:0.1", "--samples", "200"],
    "exact": ["exact", RELU, *X3, "--p", "1:1/10", "--distribution", "--polynomial"],
    "exact_order": ["exact", CNN, "--input", IMAGE, "--p", "classifier.3:0.01", "--order", "1"],
    "exact_loss": ["exact", RELU, *X3, "--p", "1:0.1", "--loss", "cross_entropy", "--target", "0", "--order", "2"],
    "enclose": ["enclose", RELU, "--input", "{batch}", "--p", "1:0.01", "--order", "1"],
    "derive": ["derive", RELU, *X3, "--p", "1:p", "--order", "1"],
    "derive_batch": ["derive", RELU, "--input", "{batch}", "--p", "1:1/10", "--order", "1"],
    "taylor": ["taylor", TANH, "--input", "0.5,-1", "--p", "1:0.1"],
    "reduce": ["reduce", "subset-sum", "1", "2", "4"],
    "fep": ["fep", TANH, "--failures", "1", "--max", "1"],
    "worst": ["worst", RELU, *X3, "--max-crashes", "1"],
    "worst_byzantine": ["worst", RELU, *X3, "--max-crashes", "1", "--byzantine", "1"],
    "worst_tanh": ["worst", TANH, "--input", "0.5,-1", "--max-crashes", "1"],
    "worst_class": ["worst", RELU, *X3, "--max-crashes", "2", "--class-change"],
    "worst_batch": ["worst", RELU, "--input", "{batch}", "--max-crashes", "1"],
    "worst_batch_class": ["worst", RELU, "--input", "{batch}", "--max-crashes", "2", "--class-change"],
    "accuracy": ["accuracy", RELU, "--data", "{small}", "--p", "1:0.1"],
    "sweep": ["sweep", RELU, "--data", "{small}", "--p", "1e-3:1e-2:2", "--samples", "50"],
    "train": ["train", "--data", "{digits}", "--arch", "64,4,10", "--epochs", "1"],
    "train_algorithm1": ["train", "--data", "{digits}", "--arch", "64,4,10", "--epochs", "1", "--algorithm1",
                         "--eps", "1", "--delta", "0.5"],
}

NUMBER_TEXT = re.compile(r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?(\s*/\s*\d+)?\s*$"
                         r"|^\s*[+-]?(inf|infinity|nan|oo)\s*$", re.I)
SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")
# fields that hold names (a crash site "1", a node "0"), not numbers
NAMES = {"name", "site", "sites", "inputs", "xi", "file", "input", "output", "data"}


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("json")
    rng = np.random.default_rng(0)
    np.savez(tmp / "small.npz", X=rng.uniform(-1, 1, (6, 3)), y=np.array([0, 1, 0, 1, 1, 0]))
    digits = json.loads((E / "digits_inputs.json").read_text())
    np.savez(tmp / "digits.npz", X=np.array(digits["inputs"]), y=np.array(digits["labels"]))
    np.save(tmp / "batch.npy", np.array([[1, -0.5, 2], [0.5, 1, -1]]))
    subst = {"{tmp}": str(tmp), "{small}": str(tmp / "small.npz"), "{digits}": str(tmp / "digits.npz"),
             "{batch}": f"@{tmp / 'batch.npy'}"}
    out = {}
    for name, argv in RUNS.items():
        argv = [str(a) for a in argv]
        argv = [next((a.replace(k, v) for k, v in subst.items() if k in a), a) for a in argv]
        so, se = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(so), contextlib.redirect_stderr(se):
            code = main(argv + ["--json"])
        out[name] = (code, so.getvalue(), se.getvalue())
    return out


def _schema(command):
    return json.loads(resources.files("symft").joinpath("schemas", f"{command}.json").read_text(encoding="utf-8"))


def _commands():
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return sub.choices


def problems(v, path="", exact=False, name=False):
    """Where ``v`` breaks the convention (an empty list when it does not)."""
    out = []
    if isinstance(v, dict):
        for k, x in v.items():
            if not SNAKE.match(k):
                out.append(f"{path}.{k}: key not snake_case")
            out += problems(x, f"{path}.{k}", exact or k.endswith("_exact"), k in NAMES)
    elif isinstance(v, list):
        kinds = {"number" if isinstance(x, (int, float)) and not isinstance(x, bool) else type(x).__name__
                 for x in v if x is not None}
        if len(kinds) > 1:
            out.append(f"{path}: an array of mixed types {sorted(kinds)}")
        inner = {"number" if isinstance(y, (int, float)) and not isinstance(y, bool) else type(y).__name__
                 for x in v if isinstance(x, list) for y in x if y is not None}
        if kinds == {"list"} and not exact and ("dict" in inner or len(inner) > 1):
            out.append(f"{path}: positional rows (arrays of fields of different kinds), not objects")
        for i, x in enumerate(v):
            out += problems(x, f"{path}[{i}]", exact, name)
    elif isinstance(v, str) and not exact and not name and NUMBER_TEXT.match(v):
        out.append(f"{path}: the number {v!r} written as a string")
    return out


def _exact_pairs(v):
    """``(number, text)`` for every entry of every ``<key>`` / ``<key>_exact`` pair in ``v``."""
    if isinstance(v, dict):
        for k, x in v.items():
            if f"{k}_exact" in v:
                yield from _zip(x, v[f"{k}_exact"])
            yield from _exact_pairs(x)
    elif isinstance(v, list):
        for x in v:
            yield from _exact_pairs(x)


def _zip(a, b):
    if isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), (a, b)
        for x, y in zip(a, b):
            yield from _zip(x, y)
    else:
        yield a, b


# ---------------------------------------------------------------------- every command

def test_every_command_has_a_run_and_a_schema():
    commands = set(_commands())
    ran = {argv[0] for argv in RUNS.values()}
    shipped = {p.name[:-5] for p in resources.files("symft").joinpath("schemas").iterdir()
               if p.name.endswith(".json")}
    assert ran == commands, f"commands without a run here: {commands - ran}"
    assert shipped == commands, f"commands without a schema: {commands - shipped}; stray: {shipped - commands}"
    for c in sorted(commands):
        jsonschema.Draft202012Validator.check_schema(_schema(c))


@pytest.mark.parametrize("name", sorted(RUNS))
def test_output_is_one_object_in_the_convention(outputs, name):
    code, out, err = outputs[name]
    assert code == 0, err
    assert out.count("\n") == 1 and out.endswith("\n")
    d = json.loads(out, parse_constant=lambda c: pytest.fail(f"{name}: {c} in the JSON output"))
    command = RUNS[name][0]
    jsonschema.validate(d, _schema(command), cls=jsonschema.Draft202012Validator)
    assert problems(d) == []
    # the header first, the warnings last; settings: every option of the command
    assert list(d)[:3] == ["command", "version", "settings"] and list(d)[-1] == "warnings"
    assert d["command"] == command and d["version"] == symft.__version__
    options = {a.dest.lower() for a in _commands()[command]._actions if a.dest not in ("help", "json", "debug")}
    assert {k for k in d["settings"] if not k.endswith("_exact")} == options
    assert all(isinstance(w, str) for w in d["warnings"])


@pytest.mark.parametrize("name", sorted(RUNS))
def test_exact_texts_round_to_their_numbers(outputs, name):
    """A number next to a rational ``_exact`` text is that rational correctly rounded to float64."""
    d = json.loads(outputs[name][1])
    for number, text in _exact_pairs(d):
        if text is None or not re.fullmatch(r"-?\d+(/\d+)?", text):
            continue                                # irrational or symbolic: the number is an approximation
        assert number == float(Fraction(text)), (number, text)


def test_values_against_exact_rationals(outputs):
    """exact on relu_small at p = 1/10: E Δ and its law from an enumeration written here in fractions."""
    d = json.loads(outputs["exact"][1])
    spec = json.loads(RELU.read_text())
    W1, b1 = ([[Fraction(str(v)) for v in r] for r in spec["layers"][0]["weights"]],
              [Fraction(str(v)) for v in spec["layers"][0].get("bias", [0] * 4)])
    W2, b2 = ([[Fraction(str(v)) for v in r] for r in spec["layers"][1]["weights"]],
              [Fraction(str(v)) for v in spec["layers"][1].get("bias", [0] * 2)])
    x = [Fraction(1), Fraction(-1, 2), Fraction(2)]
    h = [max(Fraction(0), sum(w * v for w, v in zip(r, x)) + b) for r, b in zip(W1, b1)]
    y = [sum(w * v for w, v in zip(r, h)) + b for r, b in zip(W2, b2)]
    p, mean = Fraction(1, 10), [Fraction(0)] * 2
    for mask in range(16):
        hc = [0 if mask >> i & 1 else h[i] for i in range(4)]
        w = np.prod([p if mask >> i & 1 else 1 - p for i in range(4)])
        yc = [sum(a * v for a, v in zip(r, hc)) + b for r, b in zip(W2, b2)]
        mean = [m + w * (c - o) for m, c, o in zip(mean, yc, y)]
    assert [Fraction(t) for t in d["mean_exact"]] == mean
    assert d["mean"] == [float(m) for m in mean]
    assert sum(Fraction(a["probability_exact"]) for a in d["distribution"]["atoms"]) == 1


def test_the_schemas_reject_the_old_forms(outputs):
    """Numbers as strings, positional rows and the old key names fail validation (the schemas can fail)."""
    d = json.loads(outputs["exact"][1])
    schema = _schema("exact")
    v = jsonschema.Draft202012Validator(schema)
    assert v.is_valid(d)
    assert not v.is_valid({**d, "mean": ["-1/8", "-5/16"]})
    assert not v.is_valid({**d, "seconds": "0.5"})
    assert not v.is_valid({**d, "cov": [["9/64", "-9/128"]]})
    assert not v.is_valid({k: x for k, x in d.items() if k != "settings"})
    s = json.loads(outputs["sample"][1])
    assert not jsonschema.Draft202012Validator(_schema("sample")).is_valid(
        {**s, "ci_low": s["mean_lo"], "CI": 1})
    c = json.loads(outputs["certify"][1])
    assert not jsonschema.Draft202012Validator(_schema("certify")).is_valid({**c, "per_output": [[0, 0.1]]})
    assert not jsonschema.Draft202012Validator(_schema("certify")).is_valid({**c, "eps": "1"})


def test_settings_are_the_options_as_numbers(outputs):
    d = json.loads(outputs["certify"][1])["settings"]
    assert d["eps"] == 1 and d["delta"] == 0.5 and d["delta_exact"] == "1/2" and d["p"] == "1:0.1"
    s = json.loads(outputs["sample"][1])["settings"]
    assert (s["samples"], s["seed"], s["method"]) == (300, 0, None)


# ---------------------------------------------------------------------- the conversion

def test_nan_inf_and_huge_numbers_are_null_with_a_warning():
    w = []
    d = json_safe({"a": float("inf"), "b": [1.0, float("nan")], "c": Fraction(10 ** 400, 3), "d": sp.oo,
                   "e": Fraction(1, 10 ** 400), "f": 10 ** 400}, warnings_out=w)
    assert d["a"] is None and d["b"] == [1.0, None] and d["c"] is None and d["d"] is None and d["f"] is None
    assert Fraction(d["c_exact"]) == Fraction(10 ** 400, 3) and d["f_exact"] == str(10 ** 400)
    assert d["e"] == 0.0 and Fraction(d["e_exact"]) == Fraction(1, 10 ** 400)
    assert w == ["a is inf: written as null", "b[1] is nan: written as null", "c is beyond the float64 range: "
                 "written as null", "d is oo: written as null", "f is beyond the float64 range: written as null"]
    json.dumps(d, allow_nan=False)
    assert json_safe({"name": "inf", "nodes": ["nan", "1"]}) == {"name": "inf", "nodes": ["nan", "1"]}  # text stays


def test_exact_numbers_and_formulas():
    q = Fraction(1, 3)
    d = json_safe({"q": q, "r": sp.Rational(-5, 16), "s": sp.sqrt(2), "f": sp.Float("0.1", 50),
                   "m": [[Fraction(1, 2), 0.25]], "x": sp.Symbol("p") / 4, "t": sp.sqrt(2) * sp.Float(0.5)})
    assert d["q"] == float(q) and d["q_exact"] == "1/3"
    assert d["r"] == -0.3125 and d["r_exact"] == "-5/16"
    assert d["s"] == float(sp.N(sp.sqrt(2), 30)) and d["s_exact"] == "sqrt(2)"
    assert d["f"] == 0.1 and "f_exact" not in d                  # a float is not exact
    assert d["m"] == [[0.5, 0.25]] and d["m_exact"] == [["1/2", None]]
    assert d["x"] is None and d["x_exact"] == "p/4"
    assert "t_exact" not in d                                   # a float inside: not exact
    # weights from 1e-8 to 1e12 in one result: each correctly rounded
    for v in (Fraction(1, 3 * 10 ** 8), Fraction(10 ** 12 + 1, 7)):
        out = json_safe({"v": v})
        assert out["v"] == float(v) and Fraction(out["v_exact"]) == v


def test_the_walker_finds_each_kind_of_break():
    assert problems({"mean": ["-1/8"]}) == [".mean[0]: the number '-1/8' written as a string"]
    assert ".rows[0]: an array of mixed types ['number', 'str']" in problems({"rows": [[0, "a"]]})
    assert problems({"rows": [[0, 1], [{"a": 1}]]})[0].startswith(".rows: positional rows")
    assert problems({"rows": [[0, "x"], [1, "y"]]})[0].startswith(".rows: positional rows")
    assert problems({"labels": [["a", "b"], ["c", "d"]], "m": [[1, 2.5], [None, 3]]}) == []
    assert problems({"BadKey": 1}) == [".BadKey: key not snake_case"]
    assert problems({"mean_exact": ["-1/8"], "site": "1", "sites": ["0", "1"]}) == []


def test_the_documented_example_is_the_output(capsys):
    """docs/json_output.rst shows the output of one command: it is what the command prints."""
    page = (ROOT / "docs" / "json_output.rst").read_text(encoding="utf-8")
    block = page.split(".. code-block:: json", 1)[1].split("\n\n", 2)[1]
    shown = json.loads(block)
    assert main(["exact", "examples/mean_of_inputs.json", "--input", "1,1,1,1", "--p", "0:1/10", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    for d in (shown, got):
        d.pop("seconds"), d.pop("version")
    assert shown == got


def test_exact_values_from_1e_8_to_1e12_in_one_network(capsys, tmp_path):
    """eval --exact on weights from 1e-8 to 1e12: each number is its exact value correctly rounded."""
    F = Fraction
    layers = [{"weights": [["1e-8", "1e12"], ["1/3", "-2"]], "bias": ["0", "1e-8"], "activation": "relu"},
              {"weights": [["1e12", "1e-8"]], "bias": ["-1/7"], "activation": "linear"}]
    path = tmp_path / "wide.json"
    path.write_text(json.dumps({"format": "symft.network", "version": 1, "layers": layers}))
    assert main(["eval", str(path), "--input", "3,1/10", "--crash", "1:1", "--exact", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    x = [F(3), F(1, 10)]
    h = [max(F(0), F("1e-8") * x[0] + F(10) ** 12 * x[1]), max(F(0), F(1, 3) * x[0] - 2 * x[1] + F("1e-8"))]
    y = F(10) ** 12 * h[0] + F("1e-8") * h[1] - F(1, 7)
    yc = F(10) ** 12 * h[0] - F(1, 7)
    assert [F(t) for t in d["output_exact"]] == [y] and d["output"] == [float(y)]
    assert [F(t) for t in d["crashed_output_exact"]] == [yc] and d["crashed_output"] == [float(yc)]
    assert [F(t) for t in d["delta_exact"]] == [yc - y] and d["delta"] == [float(yc - y)]
    assert d["delta"][0] != 0 and problems(d) == []
