"""The command line: conventions, bad input (exit 2, one line), and agreement with an
independent NumPy forward pass on networks written by hand (tests/data/)."""

import json
import os
import shlex
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from symft.cli import main

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
FOREIGN = DATA / "foreign_tanh.json"
FOREIGN_EXACT = DATA / "foreign_relu_exact.json"


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv):
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    assert out.count("\n") == 1, "--json must print exactly one JSON object (one line)"
    return json.loads(out)


# ------------------------------------------------------------------ independent forward pass

def _act(name, z):
    if name == "tanh":
        return np.tanh(z)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "hardtanh":
        return np.minimum(1.0, np.maximum(-1.0, z))
    if name == "linear":
        return z
    raise AssertionError(name)


def _parse(v):
    return float(Fraction(v)) if isinstance(v, str) else float(v)


def independent_forward(path, x, crashed=()):
    """Plain re-implementation from the JSON text: y_l = φ(W y + b); crashed neurons output 0."""
    spec = json.loads(Path(path).read_text())
    y = np.array(x, dtype=float)
    for l, i in crashed:
        if l == 0:
            y[i] = 0.0
    for l, layer in enumerate(spec["layers"], start=1):
        W = np.array([[_parse(v) for v in row] for row in layer["weights"]])
        b = np.array([_parse(v) for v in layer.get("bias", [0] * len(W))])
        y = _act(layer["activation"], W @ y + b)
        for ll, i in crashed:
            if ll == l:
                y[i] = 0.0
    return y


CRASH_SETS = [
    (),                                  # fault-free
    ((0, 1),),                           # input
    ((1, 0), (1, 3)),                    # first hidden layer
    ((2, 2),),                           # second hidden layer
    ((3, 1),),                           # output layer
    ((0, 0), (1, 4), (2, 0), (3, 0)),    # every layer at once
]


@pytest.mark.parametrize("crashed", CRASH_SETS)
def test_eval_json_matches_independent_forward(capsys, crashed):
    x = [0.3, -1.1, 2.0]
    by_layer = {}
    for l, i in crashed:
        by_layer.setdefault(l, []).append(str(i))
    crash_args = [a for l, idx in sorted(by_layer.items()) for a in ("--crash", f"{l}:{','.join(idx)}")]
    res = run_json(capsys, "eval", FOREIGN, "--input", ",".join(map(str, x)), *crash_args)
    clean = independent_forward(FOREIGN, x)
    faulty = independent_forward(FOREIGN, x, crashed)
    np.testing.assert_allclose(res["output"], clean, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(res["crashed_output"], faulty, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(res["delta"], faulty - clean, rtol=1e-12, atol=1e-14)
    assert sorted((int(c["site"]), c["index"]) for c in res["crash"]) == sorted(crashed)


def test_eval_batch_from_files(capsys, tmp_path):
    X = np.array([[0.1, 0.2, 0.3], [-1.0, 0.5, 2.5], [3.0, -2.0, 0.0]])
    np.save(tmp_path / "x.npy", X)
    (tmp_path / "x.csv").write_text("\n".join(",".join(repr(float(v)) for v in r) for r in X) + "\n")
    (tmp_path / "x.json").write_text(json.dumps({"inputs": X.tolist(), "labels": [0, 1, 2]}))
    expected = np.array([independent_forward(FOREIGN, r, ((1, 2),)) for r in X])
    for f in ("x.npy", "x.csv", "x.json"):
        res = run_json(capsys, "eval", FOREIGN, "--input", f"@{tmp_path / f}", "--crash", "1:2")
        np.testing.assert_allclose(res["crashed_output"], expected, rtol=1e-12, atol=1e-15)
        assert np.shape(res["output"]) == (3, 2)


def test_eval_exact_on_rational_net(capsys):
    # Exact mode keeps rationals: compare with Fraction arithmetic done here by hand-coded loops.
    spec = json.loads(FOREIGN_EXACT.read_text())
    x = [Fraction(1, 2), Fraction(-1), Fraction(2)]
    y = list(x)
    y[0] = Fraction(0)  # crash input 0
    for layer in spec["layers"]:
        W = [[Fraction(v) for v in row] for row in layer["weights"]]
        b = [Fraction(v) for v in layer["bias"]]
        z = [sum(w * v for w, v in zip(row, y)) + bb for row, bb in zip(W, b)]
        if layer["activation"] == "relu":
            y = [max(v, Fraction(0)) for v in z]
        elif layer["activation"] == "hardtanh":
            y = [min(Fraction(1), max(Fraction(-1), v)) for v in z]
        else:
            y = z
    res = run_json(capsys, "eval", FOREIGN_EXACT, "--input", "1/2,-1,2", "--crash", "0:0", "--exact")
    assert Fraction(res["crashed_output_exact"][0]) == y[0]
    assert res["crashed_output"][0] == float(y[0])
    assert res["exact"] is True


def test_eval_text_output(capsys):
    code, out, err = run(capsys, "eval", FOREIGN, "--input", "0,0,0", "--crash", "1:0")
    assert code == 0 and err == ""
    assert out.startswith("max |Δ| ≈ ") and "\n  crashed: (1,0);" in out and "\n  u " in out and "\n  v " in out


def test_info_json(capsys):
    res = run_json(capsys, "info", FOREIGN)
    assert res["widths"] == [3, 5, 4, 2] and res["depth"] == 3 and res["kind"] == "float"
    assert res["n_params"] == 5 * 4 + 4 * 6 + 2 * 5
    W1 = np.array(json.loads(FOREIGN.read_text())["layers"][0]["weights"])
    row = res["layers"][0]
    assert row["activation"] == "tanh" and row["lipschitz"] == 1
    assert row["spectral"] == pytest.approx(np.linalg.svd(W1, compute_uv=False)[0], rel=1e-12)
    assert row["inf"] == pytest.approx(np.abs(W1).sum(axis=1).max(), rel=1e-12)
    assert row["one"] == pytest.approx(np.abs(W1).sum(axis=0).max(), rel=1e-12)
    assert res["layers"][1]["lipschitz"] == 0.25 and res["layers"][1]["lipschitz_exact"] == "1/4"
    # Π K_l ‖W_l‖₂ over the three layers
    spec = json.loads(FOREIGN.read_text())
    K = [1.0, 0.25, 1.0]
    prod = np.prod([k * np.linalg.norm(np.array(l["weights"]), 2) for k, l in zip(K, spec["layers"])])
    assert res["lipschitz_bound_l2"] == pytest.approx(prod, rel=1e-12)


def test_info_text(capsys):
    code, out, _ = run(capsys, "info", FOREIGN)
    assert code == 0 and "3 → 5 → 4 → 2" in out and "sigmoid" in out


def test_info_symbolic_network(capsys, tmp_path):
    p = tmp_path / "sym.json"
    p.write_text(json.dumps({"format": "symft.network", "version": 1,
                             "layers": [{"weights": [["1/n", "1/n"]], "activation": "linear"}]}))
    res = run_json(capsys, "info", p)
    assert res["kind"] == "symbolic" and res["free_symbols"] == ["n"]
    assert res["lipschitz_bound_l2"] is None


# ------------------------------------------------------------------ bad input: exit 2, one line

def _net(tmp_path, layers, **top):
    p = tmp_path / "net.json"
    p.write_text(json.dumps({"format": "symft.network", "version": 1, "layers": layers, **top}))
    return p


GOOD = [{"weights": [[1, 2], [3, 4]], "bias": [0, 0], "activation": "relu"},
        {"weights": [[1, -1]], "bias": [0], "activation": "linear"}]


BAD_FILES = [
    ("missing weights", [{"bias": [0], "activation": "relu"}], "layers[0].weights: missing"),
    ("missing activation", [{"weights": [[1]]}], "layers[0].activation: missing"),
    ("ragged rows", [{"weights": [[1, 2], [3]], "activation": "relu"}], "layers[0].weights[1]: ragged rows"),
    ("shapes do not chain", [GOOD[0], {"weights": [[1, 2, 3]], "activation": "linear"}],
     "layers[1].weights: expected 2 columns"),
    ("unknown activation", [{"weights": [[1]], "activation": "swish"}],
     "layers[0].activation: unknown activation 'swish'"),
    ("bias length", [{"weights": [[1, 2]], "bias": [0, 0], "activation": "linear"}],
     "layers[0].bias: expected a list of 1 numbers"),
    ("string not a number", [{"weights": [["0.5.1"]], "activation": "linear"}], "layers[0].weights[0][0]"),
    ("bool weight", [{"weights": [[True]], "activation": "linear"}], "layers[0].weights[0][0]"),
    ("unknown layer key", [{"weights": [[1]], "activation": "linear", "bais": [0]}], "layers[0].bais: unknown key"),
]


def assert_one_line_error(code, out, err, *fragments):
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("symft: error: ")
    for f in fragments:
        assert f in lines[0], (f, lines[0])
    assert "Traceback" not in err


@pytest.mark.parametrize("name,layers,fragment", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_network_file(capsys, tmp_path, name, layers, fragment):
    p = _net(tmp_path, layers)
    for cmd in (["info", p], ["eval", p, "--input", "1"]):
        code, out, err = run(capsys, *cmd)
        assert_one_line_error(code, out, err, str(p), fragment)


def test_bad_json_nan_and_format(capsys, tmp_path):
    p = tmp_path / "nan.json"
    p.write_text('{"format": "symft.network", "version": 1, "layers": [{"weights": [[NaN]], "activation": "linear"}]}')
    assert_one_line_error(*run(capsys, "info", p), "NaN is not a number")
    p.write_text('{"format": "symft.network", "version": 1, "layers": [{"weights": [[Infinity]], "activation": "linear"}]}')
    assert_one_line_error(*run(capsys, "info", p), "Infinity is not a number")
    p.write_text("{not json")
    assert_one_line_error(*run(capsys, "info", p), "not valid JSON", "line 1")
    p.write_text('{"format": "other", "version": 1, "layers": []}')
    assert_one_line_error(*run(capsys, "info", p), "format: expected \"symft.network\"")
    p.write_text('{"format": "symft.network", "version": 3, "layers": []}')
    assert_one_line_error(*run(capsys, "info", p), "version: expected 1 or 2")
    p.write_text('[1, 2]')
    assert_one_line_error(*run(capsys, "info", p), "expected a JSON object")
    assert_one_line_error(*run(capsys, "info", tmp_path / "missing.json"), "missing.json: no such file")
    assert_one_line_error(*run(capsys, "info", tmp_path), "is a directory")


BAD_ARGS = [
    (["--input", "1,2,3"], "--input: expected 2 numbers per input (n_0 = 2), got 3"),
    (["--input", "1,nan"], "--input[1]: expected a finite number"),
    (["--input", "1,inf"], "--input[1]: expected a finite number"),
    (["--input", "1,x"], "--input[1]: expected a number"),
    (["--input", "@/no/such/file.json"], "--input @/no/such/file.json: no such file"),
    (["--input", "@inputs.txt"], "unknown file type '.txt'"),
    (["--input", "1,2", "--crash", "1:5"], "--crash: neuron index 5 out of range for layer 1 (n_1 = 2"),
    (["--input", "1,2", "--crash", "7:0"], "--crash: layer 7 does not exist"),
    (["--input", "1,2", "--crash", "1:a"], "--crash: expected LAYER:I,J"),
    (["--input", "1,2", "--semantics", "zero"], "argument --semantics: invalid choice"),
    ([], "the following arguments are required: --input"),
]


@pytest.mark.parametrize("args,fragment", BAD_ARGS, ids=[a[1][:40] for a in BAD_ARGS])
def test_bad_arguments(capsys, tmp_path, monkeypatch, args, fragment):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "inputs.txt").write_text("1,2")
    p = _net(tmp_path, GOOD)
    assert_one_line_error(*run(capsys, "eval", p, *args), fragment)


def test_bad_input_files(capsys, tmp_path):
    p = _net(tmp_path, GOOD)
    (tmp_path / "ragged.csv").write_text("1,2\n3\n")
    assert_one_line_error(*run(capsys, "eval", p, "--input", f"@{tmp_path / 'ragged.csv'}"),
                          "input 1 has 1 numbers, expected 2")
    (tmp_path / "bad.json").write_text('{"x": [1, 2]}')
    assert_one_line_error(*run(capsys, "eval", p, "--input", f"@{tmp_path / 'bad.json'}"), "\"inputs\" list")
    np.save(tmp_path / "c.npy", np.ones((2, 2, 2)))
    assert_one_line_error(*run(capsys, "eval", p, "--input", f"@{tmp_path / 'c.npy'}"), "expected a 1-D or 2-D")


def test_unknown_command_and_help(capsys):
    assert_one_line_error(*run(capsys, "frobnicate"), "invalid choice")
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "info" in out and "eval" in out


def test_console_entry_point_runs():
    """`python -m symft` (the console script's twin) gives exit 2 and one line on bad input."""
    r = subprocess.run([sys.executable, "-m", "symft", "info", "no_such.json"], capture_output=True, text=True,
                       cwd=ROOT)
    assert r.returncode == 2 and r.stderr.strip() == "symft: error: no_such.json: no such file"
    r = subprocess.run([sys.executable, "-m", "symft", "info", "--json", "examples/mean_of_inputs.json"],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0 and json.loads(r.stdout)["widths"] == [4, 1]


# ------------------------------------------------------------------ the README stays true

def _readme_commands():
    text = (ROOT / "README.md").read_text()
    block = text.split("```bash", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip() and not line.startswith("#")]


def test_readme_main_command_runs(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    main_cmd, test_cmd = _readme_commands()
    symft_calls = [c.strip() for c in main_cmd.split("&&") if c.strip().startswith("symft ")]
    assert symft_calls, "the README's first command must run symft on the example"
    for call in symft_calls:
        argv = shlex.split(call)[1:]
        code, out, err = run(capsys, *argv)
        assert code == 0, (call, err)
        assert out.strip()


def test_readme_own_model_example_is_true(capsys, monkeypatch):
    """The README's "your own model" commands run and print what the README shows (info in full; for
    certify the claim, the verdict, the method and whether it is rigorous)."""
    pytest.importorskip("onnx")
    monkeypatch.chdir(ROOT)
    text = (ROOT / "README.md").read_text()
    block = text.split("## Your own model", 1)[1].split("```console", 1)[1].split("```", 1)[0]
    runs, current = [], None
    for line in block.strip("\n").splitlines():
        if line.startswith("$ symft "):
            current = [shlex.split(line[2:])[1:], []]
            runs.append(current)
        else:
            current[1].append(line)
    assert [r[0][0] for r in runs] == ["info", "certify", "check", "worst"]
    keep = {"certify": ("CERTIFIED", "claim", "certified", "method", "rigorous"),
            "check": ("AGREE", "setting:", "output 0 mean", "reference:", "verdict:"),
            "worst": ("the largest output change", "  question:", "  crash set:", "  Δ_out", "  all ")}
    for argv, shown in runs:
        code, out, err = run(capsys, *argv)
        assert code == 0, err
        got = out.rstrip("\n").splitlines()
        if argv[0] == "info":
            assert got == shown
        else:
            k = keep[argv[0]]
            assert [g for g in got if g.startswith(k)] == [s for s in shown if s.startswith(k)]
            if argv[0] == "worst":      # the status line, without its time
                assert [g.split("(")[0] for g in got if g.startswith("  status:")] == \
                       [s.split("(")[0] for s in shown if s.startswith("  status:")]


def test_readme_test_command_is_the_ci_command():
    _, test_cmd = _readme_commands()
    ci = (ROOT / ".ci" / "run").read_text()
    ci_cmd = ci.split("TEST_CMD='", 1)[1].split("'", 1)[0]
    assert test_cmd.rstrip().endswith(ci_cmd), (test_cmd, ci_cmd)


def test_symbolic_weights_refused_for_numeric_eval(capsys, tmp_path):
    p = _net(tmp_path, [{"weights": [["1/n", "w"]], "activation": "linear"}])
    assert_one_line_error(*run(capsys, "eval", p, "--input", "1,2"), "symbolic weights ['n', 'w']", "net.subs")


def test_worst_names_the_input_argument(capsys):
    assert_one_line_error(*run(capsys, "worst", ROOT / "examples" / "relu_small.json", "--input", "1,2",
                               "--max-crashes", "1"), "--input: expected 3 numbers per input (n_0 = 3), got 2")


# ------------------------------------------------------------------ exact eval: the delta is exact

IDENTITY = {"format": "symft.network", "version": 1,
            "layers": [{"weights": [[1]], "bias": [0], "activation": "linear"}]}


def test_eval_exact_delta_is_the_binary_value_not_a_rounding(capsys, tmp_path):
    p = tmp_path / "id.json"
    p.write_text(json.dumps(IDENTITY))
    x = 0.30000000000000004
    res = run_json(capsys, "eval", p, "--input", repr(x), "--crash", "0:0", "--exact")
    # Δ = crashed − clean = 0 − x, x being the binary rational the float holds
    assert Fraction(res["output"][0]) == Fraction(x)
    assert res["crashed_output"] == [0]
    assert Fraction(res["delta"][0]) == -Fraction(x) == Fraction(-1351079888211149, 4503599627370496)


def test_eval_exact_delta_on_a_float_net_is_exact(capsys, tmp_path):
    # y = relu(0.1·x0 + 0.2·x1) + 0.7·x1, inputs (0.1, 0.2), crash input 1: every value a binary rational
    net = {"format": "symft.network", "version": 1,
           "layers": [{"weights": [[0.1, 0.2]], "bias": [0.0], "activation": "relu"},
                      {"weights": [[1.0]], "bias": [0.0], "activation": "linear"}]}
    p = tmp_path / "f.json"
    p.write_text(json.dumps(net))
    res = run_json(capsys, "eval", p, "--input", "0.1,0.2", "--crash", "0:1", "--exact")
    F = Fraction
    clean = max(F(0.1) * F(0.1) + F(0.2) * F(0.2), F(0))
    crashed = max(F(0.1) * F(0.1), F(0))
    assert Fraction(res["delta_exact"][0]) == crashed - clean


# ------------------------------------------------------------------ every error one line, --debug, negatives

def test_unexpected_exception_is_one_line_and_debug_shows_the_traceback(capsys, monkeypatch, tmp_path):
    import symft.cli as cli

    def boom(args):
        raise RuntimeError("deliberate\nbug")

    p = tmp_path / "id.json"
    p.write_text(json.dumps(IDENTITY))
    monkeypatch.setattr(cli, "cmd_info", boom)
    code, out, err = run(capsys, "info", p)
    assert_one_line_error(code, out, err, "internal error (RuntimeError: deliberate\\x0abug)", "--debug")
    for argv in (["--debug", "info", p], ["info", p, "--debug"]):
        code, out, err = run(capsys, *argv)
        assert code == 2 and "Traceback (most recent call last)" in err and "deliberate" in err
        assert err.splitlines()[-1].startswith("symft: error: internal error")


def test_negative_numbers_as_option_values(capsys):
    for text in ("-1,2,3", "-1/2,2,3", "-1e-3,2,-0.5"):
        res = run_json(capsys, "eval", FOREIGN, "--input", text)
        x = [float(Fraction(t)) if "/" in t else float(t) for t in text.split(",")]
        np.testing.assert_allclose(res["output"], independent_forward(FOREIGN, x), rtol=1e-12, atol=1e-12)
    # the abbreviation of an option also takes a negative value
    assert run_json(capsys, "eval", FOREIGN, "--inp", "-1,2,3")["output"] == \
        run_json(capsys, "eval", FOREIGN, "--input=-1,2,3")["output"]


def test_json_writes_inf_as_null_with_a_warning(capsys, tmp_path):
    # ‖W_1‖₂·‖W_2‖₂ = 1e200 · 1e200 overflows: the Lipschitz bound is +inf (a true, useless bound)
    net = {"format": "symft.network", "version": 1,
           "layers": [{"weights": [[1e200]], "activation": "relu"}, {"weights": [[1e200]], "activation": "linear"}]}
    p = tmp_path / "big.json"
    p.write_text(json.dumps(net))
    code, out, err = run(capsys, "info", p, "--json")
    assert code == 0, err
    d = json.loads(out, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    assert d["lipschitz_bound_l2"] is None and "lipschitz_bound_l2 is inf: written as null" in d["warnings"]


def test_overflowing_network_is_refused_not_printed_as_inf_nan(capsys, tmp_path):
    # z_2 = 1e300·relu(1e300 + 1e300) − 1e300·… overflows float64
    net = {"format": "symft.network", "version": 1,
           "layers": [{"weights": [[1e300, 1e300], [0.5, 2]], "activation": "relu"},
                      {"weights": [[1e300, -1e300]], "activation": "linear"}]}
    p = tmp_path / "over.json"
    p.write_text(json.dumps(net))
    for cmd in (["eval", p, "--input", "1,2"], ["sample", p, "--input", "1,2", "--p", "0.1", "--seed", "0",
                                                  "--samples", "100"],
                ["exact", p, "--input", "1,2", "--p", "0.1"]):
        assert_one_line_error(*run(capsys, *cmd), "overflow")


@pytest.mark.parametrize("argv,fragment", [
    (["sample", "{net}", "--input", "1,2", "--p", "0.1", "--seed", "0", "--samples", "1e20"], "--samples"),
    (["sample", "{net}", "--input", "1,2", "--p", "0.1", "--seed", "0", "--samples", "100000000000000000000"],
     "--samples: expected an integer in 2 …"),
    (["sample", "{net}", "--input", "1,2", "--p", "0.1", "--seed", "0", "--confidence", "nan"], "--confidence"),
    (["worst", "{net}", "--input", "1,2", "--max-crashes", "1", "--eps", "nan"], "--eps"),
    (["worst", "{net}", "--input", "1,2", "--max-crashes", "1", "--byzantine", "inf"], "--byzantine"),
    (["fep", "{net}", "--per-site", "1", "--C", "1/0"], "--C"),
    (["exact", "{net}", "--input", "1,2", "--p", "0.1", "--order", "²"], "--order"),
    (["exact", "{net}", "--input", "1,2", "--p", "0.1", "--loss", "zero_one", "--target", "1.5"], "--target"),
    (["certify", "{net}", "--input", "1,2", "--p", "0.1", "--eps", "0.5", "--delta", "0.1", "--alpha", "2"],
     "--alpha"),
    (["certify", "{net}", "--input", "1,2", "--p", "0.2", "--eps", "0.5", "--delta", "0.1", "--alpha", "0.1"],
     "--alpha: P3 needs p < α < 1"),
    (["report", "{net}", "--input", "1,2", "--p", "0.1", "--samples", "100", "--figure", "{dir}"], "is a folder"),
    (["report", "{net}", "--input", "1,2", "--p", "0.1", "--samples", "100", "--figure", "{dir}/no/f.png"],
     "does not exist"),
    (["report", "{net}", "--input", "1,2", "--p", "0.1", "--samples", "100", "--figure", "{dir}/fig"],
     "ending in .png"),
    (["eval", "{net}", "--input", "1e400,1"], "--input[0]: '1e400' is beyond the float64 range"),
    (["eval", "{net}", "--input", "1" + "0" * 5000 + ",1"], "--input[0]: expected a number of at most 4300"),
    (["info", "bad\udcff.json"], "not valid Unicode text"),
])
def test_bad_values_one_line(capsys, tmp_path, argv, fragment):
    p = tmp_path / "good.json"
    p.write_text(json.dumps({"format": "symft.network", "version": 1,
                             "layers": [{"weights": [[1, -1], [0.5, 2]], "activation": "relu"},
                                        {"weights": [[1, 1]], "activation": "linear"}]}))
    argv = [a.format(net=p, dir=tmp_path) for a in argv]
    assert_one_line_error(*run(capsys, *argv), fragment)
    assert not any(f.suffix == ".png" for f in tmp_path.parent.glob(tmp_path.name + "*"))


@pytest.mark.parametrize("content,fragment", [
    ('{"format": "symft.network", "version": 1, "metadata": ' + "[" * 50000 + "]" * 50000
     + ', "layers": [{"weights": [[1]], "activation": "linear"}]}', "nested deeper than 100"),
    (json.dumps(IDENTITY).replace('[[1]]', '[["1/0"]]'), "layers[0].weights[0][0]: '1/0' divides by zero"),
    (json.dumps(IDENTITY).replace('[[1]]', '[["10**10**10"]]'), "more than 4300 digits"),
    (json.dumps(IDENTITY).replace('[[1]]', "[[1" + "0" * 5000 + "]]"), "an integer with 5001 digits"),
    (json.dumps(IDENTITY).replace('[[1]]', "[[1e400]]"), "1e400 is beyond the float64 range"),
    (json.dumps(dict(IDENTITY, name="\\ud800")).replace("\\\\ud800", "\\ud800"), "name: not valid Unicode"),
    (json.dumps(dict(IDENTITY, input_names=False)), "input_names: expected a list"),
    (json.dumps(IDENTITY).replace('"linear"', '"1/0*relu"'), "layers[0].activation"),
])
def test_bad_network_files_one_line(capsys, tmp_path, content, fragment):
    p = tmp_path / "n.json"
    p.write_text(content, encoding="utf-8", errors="surrogatepass")
    assert_one_line_error(*run(capsys, "eval", p, "--input", "1"), fragment)


def test_exact_float_view_overflow_is_refused_but_exact_eval_works(capsys, tmp_path):
    p = tmp_path / "n.json"
    p.write_text(json.dumps(IDENTITY).replace('[[1]]', '[["10**400"]]'))
    res = run_json(capsys, "eval", p, "--input", "1", "--exact")
    assert res["output"] == [None] and res["output_exact"] == [str(10 ** 400)]
    assert res["warnings"] == ["output[0] is beyond the float64 range: written as null",
                               "crashed_output[0] is beyond the float64 range: written as null"]
    assert_one_line_error(*run(capsys, "eval", p, "--input", "1"), "layers[0].weights[0][0]",
                          "beyond the float64 range")


def test_console_script_target_is_main():
    import importlib
    import tomllib

    target = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]["symft"]
    module, _, name = target.partition(":")
    assert getattr(importlib.import_module(module), name) is main


def test_help_texts_are_plain_words():
    """No ticket numbers in any help text, and every command's help starts with a word, not a label."""
    import argparse
    import re

    from symft.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    texts = [(f"{c.dest}", c.help or "") for c in sub._choices_actions]
    texts += [(f"{name} {a.dest}", a.help or "") for name, p in sub.choices.items() for a in p._actions]
    for where, text in texts:
        assert not re.search(r"\b(issue|ticket)s?\b", text, re.IGNORECASE), (where, text)
    for c in sub._choices_actions:
        assert not re.match(r"\(?[A-Z]{1,2}[0-9]", c.help), (c.dest, c.help)


def test_eval_and_worst_name_the_new_class(capsys, tmp_path):
    # hidden relu copies the input, the output copies the hidden layer: x = (2, 1) is class 0; crashing
    # hidden neuron 0 leaves (0, 1): class 1 (by hand)
    p = _net(tmp_path, [{"weights": [[1, 0], [0, 1]], "bias": [0, 0], "activation": "relu"},
                        {"weights": [[1, 0], [0, 1]], "bias": [0, 0], "activation": "linear"}])
    e = run_json(capsys, "eval", p, "--input", "2,1", "--crash", "1:0")
    assert (e["class"], e["crashed_class"]) == (0, 1)
    e = run_json(capsys, "eval", p, "--input", "2,1", "--crash", "1:1")
    assert (e["class"], e["crashed_class"]) == (0, 0)
    w = run_json(capsys, "worst", p, "--input", "2,1", "--max-crashes", "1", "--sites", "1", "--class-change")
    assert w["status"] == "found" and w["crash_set"] == [{"site": "1", "index": 0}]
    assert (w["clean_class"], w["new_class"]) == (0, 1)
    code, out, err = run(capsys, "worst", p, "--input", "2,1", "--max-crashes", "1", "--sites", "1",
                         "--class-change")
    assert code == 0 and "predicted class: 0 without crashes, 1 with them" in out
