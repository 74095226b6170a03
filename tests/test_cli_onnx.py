"""The command line on a model brought from elsewhere: examples/digits_cnn.onnx (a CNN trained on the
8×8 digits) and an input shaped like its input (examples/digit0_image.npy, 1×8×8).

Every expected value is computed here independently of symft: a NumPy forward pass of the CNN
written from the ONNX initializers, onnxruntime, and closed forms for crashes at the linear output
site (a crashed output neuron k sends 0, so Δ_k = −y_k with probability p and 0 otherwise).
"""

import json
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import numpy_helper, shape_inference  # noqa: E402

from symft.cli import build_parser, main  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "examples" / "digits_cnn.onnx"
IMAGE = ROOT / "examples" / "digit0_image.npy"
X = f"@{IMAGE}"


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv):
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    assert out.count("\n") == 1
    return json.loads(out)


# ------------------------------------------------------------------ an independent forward pass

def _weights():
    m = onnx.load(MODEL)
    return {i.name: numpy_helper.to_array(i).astype(np.float64) for i in m.graph.initializer}


def numpy_cnn(image, crashed_relu=(), crashed_tanh=(), crashed_out=()):
    """conv 3×3 pad 1 → relu → avgpool 2×2 → flatten → dense → tanh → dense, in float64 with plain loops.

    Crashed neurons (row-major indices in their site) output 0.
    """
    P = _weights()
    Wc, bc = P["features.0.weight"], P["features.0.bias"]
    x = np.pad(np.asarray(image, dtype=np.float64).reshape(1, 8, 8), ((0, 0), (1, 1), (1, 1)))
    conv = np.zeros((8, 8, 8))
    for c in range(8):
        for i in range(8):
            for j in range(8):
                conv[c, i, j] = np.sum(Wc[c, 0] * x[0, i:i + 3, j:j + 3]) + bc[c]
    relu = np.maximum(conv, 0.0).reshape(-1)
    relu[list(crashed_relu)] = 0.0
    relu = relu.reshape(8, 8, 8)
    pool = relu.reshape(8, 4, 2, 4, 2).mean(axis=(2, 4))
    h = np.tanh(P["classifier.1.weight"] @ pool.reshape(-1) + P["classifier.1.bias"])
    h[list(crashed_tanh)] = 0.0
    y = P["classifier.3.weight"] @ h + P["classifier.3.bias"]
    y[list(crashed_out)] = 0.0
    return y


def onnxruntime_outputs(path, image):
    s = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return s.run(None, {s.get_inputs()[0].name: np.asarray(image, dtype=np.float32).reshape(1, 1, 8, 8)})[0][0]


def test_the_numpy_forward_is_the_model():
    image = np.load(IMAGE)
    np.testing.assert_allclose(numpy_cnn(image), onnxruntime_outputs(MODEL, image), rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------------ info

def test_info_lists_nodes_sites_and_parameters(capsys):
    res = run_json(capsys, "info", MODEL)
    m = shape_inference.infer_shapes(onnx.load(MODEL))
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim][1:]
              for v in list(m.graph.value_info) + list(m.graph.output)}
    assert [n["name"] for n in res["nodes"][1:]] == [n.name for n in m.graph.node]
    assert [n["op"] for n in res["nodes"]] == ["input", "conv2d", "activation", "avgpool2d", "flatten", "dense",
                                               "activation", "dense"]
    for n in res["nodes"][1:]:
        assert n["shape"] == shapes[n["name"]], n["name"]
    assert res["n_params"] == sum(numpy_helper.to_array(i).size for i in m.graph.initializer)
    assert res["nodes"][1]["description"] == "conv2d 8×1×3×3 stride 1 pad 1"
    assert res["nodes"][5]["description"] == "dense 128→24"
    # sites: the input, the activations and the output, with their neuron counts
    expected = {"image": 64, "features.1": int(np.prod(shapes["features.1"])),
                "classifier.2": int(np.prod(shapes["classifier.2"])), "classifier.3": 10}
    assert {r["site"]: r["neurons"] for r in res["sites"]} == expected
    assert [r["shape"] for r in res["sites"]] == [[1, 8, 8], shapes["features.1"], shapes["classifier.2"], [10]]
    assert res["n_neurons"] == sum(expected.values()) and res["chain"] is False
    assert res["input_shape"] == [1, 8, 8] and res["output_shape"] == [10]
    code, out, err = run(capsys, "info", MODEL)
    assert code == 0 and err == ""
    for text in ("conv2d 8×1×3×3 stride 1 pad 1", "features.1", "512 neurons", "crash sites (4, 610 neurons)"):
        assert text in out


def test_info_on_chains_also_lists_nodes_and_sites(capsys):
    res = run_json(capsys, "info", ROOT / "examples" / "relu_small.json")
    assert res["chain"] is True and res["widths"] == [3, 4, 2] and res["depth"] == 2
    assert [(r["site"], r["neurons"]) for r in res["sites"]] == [("0", 3), ("1", 4), ("2", 2)]
    assert [n["description"] for n in res["nodes"]] == ["input 3", "dense 3→4", "relu", "dense 4→2", "linear"]


# ------------------------------------------------------------------ eval

def test_eval_onnx_with_crashes_matches_numpy(capsys):
    image = np.load(IMAGE)
    res = run_json(capsys, "eval", MODEL, "--input", X, "--crash", "features.1:0,5,300", "--crash",
                   "classifier.2:3")
    np.testing.assert_allclose(res["output"], numpy_cnn(image), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(res["crashed_output"], numpy_cnn(image, (0, 5, 300), (3,)), rtol=1e-12, atol=1e-12)
    assert [(c["site"], c["index"]) for c in res["crash"]] == [("classifier.2", 3), ("features.1", 0),
                                                              ("features.1", 5), ("features.1", 300)]
    # a site by its number (2 = classifier.2) is the same site
    by_number = run_json(capsys, "eval", MODEL, "--input", X, "--crash", "2:3")
    np.testing.assert_allclose(by_number["crashed_output"], numpy_cnn(image, (), (3,)), rtol=1e-12, atol=1e-12)


def test_eval_onnx_refuses_unknown_sites_and_wrong_inputs(capsys):
    for argv, text in [
        (["--crash", "features.0:1"], "site 'features.0' does not exist; the sites are image, features.1"),
        (["--crash", "features.1:512"], "neuron index 512 out of range for site 'features.1' (512 neurons"),
    ]:
        code, out, err = run(capsys, "eval", MODEL, "--input", X, *argv)
        assert code == 2 and out == "" and err.count("\n") == 1 and text in err, err
    code, out, err = run(capsys, "eval", MODEL, "--input", "1,2,3")
    assert code == 2 and err.count("\n") == 1
    assert "expected 64 numbers per input (the input 'image' is 1×8×8), got 3" in err


# ------------------------------------------------------------------ convert

def test_convert_round_trip_evaluates_like_onnxruntime(capsys, tmp_path):
    image = np.load(IMAGE)
    out = tmp_path / "cnn.json"
    res = run_json(capsys, "convert", MODEL, out)
    assert res["format"] == "symft.network" and res["format_version"] == 2
    assert json.loads(out.read_text())["version"] == 2
    got = run_json(capsys, "eval", out, "--input", X)["output"]
    np.testing.assert_allclose(got, onnxruntime_outputs(MODEL, image), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got, numpy_cnn(image), rtol=1e-12, atol=1e-12)
    # and back to ONNX: the weights were float32 numbers, so the file is the model again
    back = tmp_path / "back.onnx"
    res = run_json(capsys, "convert", out, back)
    assert res["format"] == "onnx" and res["exact"] is True
    np.testing.assert_array_equal(onnxruntime_outputs(back, image), onnxruntime_outputs(MODEL, image))


def test_convert_chain_to_onnx_runs_in_onnxruntime(capsys, tmp_path):
    src = ROOT / "examples" / "digits_sigmoid.json"
    x = np.loadtxt(ROOT / "examples" / "digit0.csv", delimiter=",")
    out = tmp_path / "sig.onnx"
    res = run_json(capsys, "convert", src, out, "--dtype", "float64")
    assert res["exact"] is True
    spec = json.loads(src.read_text())
    y = x
    for layer in spec["layers"]:
        z = np.array(layer["weights"], dtype=float) @ y + np.array(layer.get("bias", 0.0), dtype=float)
        y = {"sigmoid": lambda v: 1 / (1 + np.exp(-v)), "linear": lambda v: v}[layer["activation"]](z)
    s = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    got = s.run(None, {s.get_inputs()[0].name: x[None, :]})[0][0]
    np.testing.assert_allclose(got, y, rtol=1e-12, atol=1e-12)


def test_convert_refusals_are_one_line(capsys, tmp_path):
    sym = tmp_path / "sym.json"
    sym.write_text(json.dumps({"format": "symft.network", "version": 1,
                               "layers": [{"weights": [["1/n"]], "activation": "linear"}]}))
    big = tmp_path / "big.json"           # 10^39 is beyond float32 (max about 3.4e38): it would be written as inf
    big.write_text(json.dumps({"format": "symft.network", "version": 1,
                               "layers": [{"weights": [["10**39", "1/3"]], "activation": "linear"}]}))
    for argv, text in [
        ([sym, tmp_path / "s.onnx"], "symbolic weights ['n']"),
        ([big, tmp_path / "big.onnx"], "a parameter of node 'z1' (weight) is beyond the float32 range"),
        ([MODEL, tmp_path / "x.txt"], "OUT: expected a file name ending in .json, .onnx"),
        ([MODEL, MODEL], "OUT: is the input file itself"),
        ([tmp_path / "none.onnx", tmp_path / "x.json"], "none.onnx: no such file"),
        ([MODEL, tmp_path / "no" / "x.json"], "the folder"),
    ]:
        code, out, err = run(capsys, "convert", *argv)
        assert code == 2 and out == "" and err.count("\n") == 1 and err.startswith("symft: error: "), err
        assert text in err, err
    assert not (tmp_path / "s.onnx").exists() and not (tmp_path / "big.onnx").exists()


# ------------------------------------------------------------------ moments at one site

P_OUT = 0.01


def test_sample_onnx_at_the_output_site_covers_the_closed_form(capsys):
    # crashes at the linear output site only: Δ_k = −y_k with probability p, so E Δ_k = −p y_k
    y = numpy_cnn(np.load(IMAGE))
    n = 20000
    res = run_json(capsys, "sample", MODEL, "--input", X, "--p", f"classifier.3:{P_OUT}", "--samples", n,
                   "--seed", "3", "--confidence", "0.999999", "--method", "plain")
    mean = -P_OUT * y
    # the default stratified sampler enumerates the 2^10 − 1 configurations: the exact mean, up to rounding
    st = run_json(capsys, "sample", MODEL, "--input", X, "--p", f"classifier.3:{P_OUT}", "--samples", n,
                  "--seed", "3")
    assert st["method"] == "enumerated" and np.allclose(st["mean"], mean, rtol=1e-12, atol=1e-15)
    sd = np.sqrt(P_OUT * (1 - P_OUT)) * np.abs(y)
    lo, hi = np.array(res["mean_lo"]), np.array(res["mean_hi"])
    assert np.all(lo <= mean) and np.all(mean <= hi), (lo, mean, hi)
    assert np.all(hi - lo <= 2 * 6 * sd / np.sqrt(n) + 1e-12)      # the interval is not trivially wide


def test_check_onnx_agrees_and_its_reference_holds_the_closed_form(capsys):
    y = numpy_cnn(np.load(IMAGE))
    res = run_json(capsys, "check", MODEL, "--input", X, "--p", f"classifier.3:{P_OUT}", "--samples", "4000")
    assert res["verdict"] == "agree" and res["reference_rigorous"] is True
    seen = set()
    for c in res["comparisons"]:
        if c["a"] == "monte-carlo":
            lo, hi = c["value_b_lo"], c["value_b_hi"]
            exact = -P_OUT * y[c["output"]] if c["quantity"] == "mean" else P_OUT * (1 - P_OUT) * y[c["output"]] ** 2
            assert lo - 1e-15 <= exact <= hi, c
            seen.add((c["output"], c["quantity"]))
    assert seen == {(k, q) for k in range(10) for q in ("mean", "var")}


def test_certify_onnx_is_sound_against_the_exact_cantelli_bound(capsys):
    y = numpy_cnn(np.load(IMAGE))
    eps = 1.0
    mu, var = -P_OUT * y, P_OUT * (1 - P_OUT) * y ** 2
    exact_bound = max(v / (v + (eps - m) ** 2) for m, v in zip(mu, var))   # Cantelli with the true moments
    common = ["certify", MODEL, "--input", X, "--p", f"classifier.3:{P_OUT}", "--eps", eps]
    res = run_json(capsys, *common, "--delta", f"{min(1.0, 1.05 * exact_bound):.6f}")
    assert res["rigorous"] is True and res["certified"] is True
    assert exact_bound * (1 - 1e-9) <= res["delta_bound"] <= 1.05 * exact_bound
    res = run_json(capsys, *common, "--delta", f"{0.9 * exact_bound:.6f}")
    assert res["certified"] is False       # a rigorous bound can never be below the exact one


def test_taylor_and_enclose_onnx_hold_the_closed_form(capsys):
    # at the output site Δ is linear in the crash indicators: T1 is exact and so is its variance
    y = numpy_cnn(np.load(IMAGE))
    t = run_json(capsys, "taylor", MODEL, "--input", X, "--p", f"classifier.3:{P_OUT}")
    np.testing.assert_allclose(t["mean"], -P_OUT * y, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(t["var"], P_OUT * (1 - P_OUT) * y ** 2, rtol=1e-9, atol=1e-15)
    e = run_json(capsys, "enclose", MODEL, "--input", X, "--p", f"classifier.3:{P_OUT}", "--order", "10")
    assert np.all(np.array(e["mean_lo"]) <= -P_OUT * y) and np.all(-P_OUT * y <= np.array(e["mean_hi"]))


def test_exact_onnx_enumerates_a_small_site(capsys):
    # 10 output neurons: 2^10 configurations; E Δ_k = −p y_k, Var Δ_k = p(1 − p) y_k²
    y = numpy_cnn(np.load(IMAGE))
    res = run_json(capsys, "exact", MODEL, "--input", X, "--p", "classifier.3:1/8")
    np.testing.assert_allclose(np.array(res["mean"], dtype=float), -y / 8, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(np.array(res["var"], dtype=float), (7 / 64) * y ** 2, rtol=1e-10, atol=1e-15)


# ------------------------------------------------------------------ worst case

def test_worst_onnx_one_crash_at_the_output_site(capsys):
    # one crash at the linear output: Δ = −y_k e_k, so the worst |Δ_out| is max_k |y_k|
    y = numpy_cnn(np.load(IMAGE))
    code, out, err = run(capsys, "worst", MODEL, "--input", X, "--max-crashes", "1", "--sites", "classifier.3",
                         "--json")
    assert code == 0, err
    res = json.loads(out)
    assert res["status"] == "proved"
    assert isinstance(res["worst_delta"], float)
    assert res["worst_delta"] == pytest.approx(np.max(np.abs(y)), rel=1e-6)
    (crash,), = [res["crash_set"]]
    assert crash == {"site": "classifier.3", "index": int(np.argmax(np.abs(y)))}


# ------------------------------------------------------------------ --input shaped like the network's input

def _input_commands():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return sorted(c for c, p in sub.choices.items() if any(a.dest == "input" for a in p._actions))


#: Cheap options per command (one small site; a few samples), all on the ONNX model.
CHEAP = {
    "eval": [],
    "exact": ["--p", "classifier.3:0.01"],
    "enclose": ["--p", "classifier.3:0.01", "--order", "2"],
    "taylor": ["--p", "classifier.3:0.01"],
    "derive": ["--p", "classifier.3:0.01", "--order", "1"],
    "sample": ["--p", "classifier.3:0.01", "--samples", "200", "--seed", "0"],
    "certify": ["--p", "classifier.3:0.01", "--eps", "1", "--delta", "0.5"],
    "report": ["--p", "classifier.3:0.01", "--samples", "200"],
    "check": ["--p", "classifier.3:0.01", "--samples", "200"],
    "worst": ["--max-crashes", "1", "--sites", "classifier.3"],
    "fep": ["--failures", "1"],
}


@pytest.mark.parametrize("command", _input_commands())
def test_every_command_takes_an_input_shaped_like_the_network(capsys, command, tmp_path):
    """The 1×8×8 .npy and the same 64 numbers as text give the same answer (or the same one-line refusal)."""
    assert command in CHEAP, f"add cheap options for {command!r} to CHEAP"
    flat = tmp_path / "digit.csv"
    flat.write_text(",".join(repr(float(v)) for v in np.load(IMAGE).reshape(-1)) + "\n")
    if command == "derive":    # a symbolic expansion of the CNN is too large; derive reads the same input file
        net = ROOT / "examples" / "relu_small.json"
        np.save(tmp_path / "x.npy", np.array([1.0, -0.5, 2.0]))
        a = run(capsys, command, net, "--p", "1:0.1", "--order", "1", "--input", f"@{tmp_path / 'x.npy'}", "--json")
        b = run(capsys, command, net, "--p", "1:0.1", "--order", "1", "--input", "1,-0.5,2", "--json")
    else:
        a = run(capsys, command, MODEL, "--input", X, *CHEAP[command], "--json")
        b = run(capsys, command, MODEL, "--input", f"@{flat}", *CHEAP[command], "--json")
    if command in ("fep",):             # chains only: the same one-line refusal for both
        assert a[0] == b[0] == 2 and a[2] == b[2] and "chain" in a[2]
        return
    if command == "worst" and a[0] == 2:            # refused today: the same one line for both inputs
        assert a[2] == b[2] and a[2].count("\n") == 1
        return
    assert a[0] == 0, a[2]
    da, db = json.loads(a[1]), json.loads(b[1])
    for d in (da, db):                  # what depends on the run, not on the input (settings: the file names)
        for k in ("seconds", "elapsed", "settings"):
            d.pop(k, None)
    if "inputs" in da:
        da.pop("inputs"), db.pop("inputs")
    assert da == db


# ------------------------------------------------------------------ version 2 graphs (tests/data)

def test_info_and_exact_eval_on_the_residual_graph(capsys):
    from fractions import Fraction

    from tests.reference_graphs import DATA, residual_parts

    path = DATA / "residual_mlp.json"
    spec = json.loads(path.read_text())
    res = run_json(capsys, "info", path)
    assert [n["name"] for n in res["nodes"]] == [n["name"] for n in spec["nodes"]]
    assert [(r["site"], r["neurons"]) for r in res["sites"]] == [("x", 4), ("h1", 6), ("h2", 6), ("out", 2)]
    assert res["chain"] is False and "widths" not in res
    x = [Fraction(1, 2), Fraction(-1), Fraction(3, 4), Fraction(2)]
    parts = residual_parts(x, exact=True)
    h1 = parts["h1"].copy()
    h1[[1, 4]] = 0                                    # crash h1 neurons 1 and 4 (h2 reads the crashed h1)
    P = json.loads(path.read_text())
    W = {n["name"]: n for n in P["nodes"]}
    mat = lambda name, k: np.vectorize(Fraction, otypes=[object])(np.array(W[name][k], dtype=object))  # noqa: E731
    h2 = np.maximum(mat("d2", "weight").dot(h1) + mat("d2", "bias"), 0 * h1)
    y = mat("out", "weight").dot(h1 + h2) + mat("out", "bias")
    for crash in ("h1:1,4", "1:1,4"):                 # by name and by the site's number
        got = run_json(capsys, "eval", path, "--input", "1/2,-1,3/4,2", "--crash", crash, "--exact")
        assert [Fraction(v) for v in got["output_exact"]] == list(parts["y"])
        assert [Fraction(v) for v in got["crashed_output_exact"]] == list(y)
        assert got["crashed_output"] == [float(v) for v in y]
    code, out, err = run(capsys, "eval", path, "--input", "1,2,3,4", "--crash", "d1:0")
    assert code == 2 and err.count("\n") == 1 and "site 'd1' does not exist; the sites are x, h1, h2, out" in err


def _named_mlp(path):
    """x (2) → Gemm fc1 → Relu act (3) → Gemm fc2 (1): a chain of dense layers whose sites have names."""
    from onnx import TensorProto, helper

    W1 = np.array([[1.0, -2.0], [0.5, 1.0], [0.25, 0.75]])
    W2 = np.array([[1.0, -1.0, 2.0]])
    g = helper.make_graph(
        [helper.make_node("Gemm", ["x", "W1"], ["z"], name="fc1", transB=1),
         helper.make_node("Relu", ["z"], ["h"], name="act"),
         helper.make_node("Gemm", ["h", "W2"], ["y"], name="fc2", transB=1)], "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 1])],
        [numpy_helper.from_array(W1.astype(np.float32), "W1"), numpy_helper.from_array(W2.astype(np.float32), "W2")])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), path)
    return W1, W2


def test_a_chain_with_named_sites_takes_its_names(capsys, tmp_path):
    import itertools
    from fractions import Fraction

    path = tmp_path / "mlp.onnx"
    W1, W2 = _named_mlp(path)
    x = np.array([1.0, 0.5])
    h = np.maximum(W1 @ x, 0.0)
    p = Fraction(1, 4)
    mean = var2 = Fraction(0)
    deltas = []
    for mask in itertools.product((0, 1), repeat=3):       # every crash configuration of the 3 relu neurons
        d = Fraction(float(W2[0] @ (h * (1 - np.array(mask))) - W2[0] @ h))
        w = p ** sum(mask) * (1 - p) ** (3 - sum(mask))
        mean += w * d
        var2 += w * d * d
        deltas.append((sum(mask), abs(d)))
    for spec in ("act:1/4", "1/4"):                          # by name, and the hidden sites for a bare P
        res = run_json(capsys, "exact", path, "--input", "1,0.5", "--p", spec)
        assert Fraction(res["mean"][0]) == mean and Fraction(res["var"][0]) == var2 - mean ** 2
    res = run_json(capsys, "worst", path, "--input", "1,0.5", "--max-crashes", "1", "--sites", "act")
    assert res["status"] == "proved" and Fraction(res["worst_delta_exact"]) == max(d for k, d in deltas if k <= 1)
    code, out, err = run(capsys, "exact", path, "--input", "1,0.5", "--p", "fc1:0.1")
    assert code == 2 and "site 'fc1' does not exist; the sites are x, act, fc2" in err


def test_worst_onnx_two_crashes_at_the_tanh_site_equals_brute_force(capsys):
    """The contract: worst_delta a number, equal to a brute force over every set of at most 2 of the 24 tanh
    neurons, written here with the NumPy conv net of this file."""
    from itertools import combinations

    image = np.load(IMAGE)
    clean = numpy_cnn(image)
    best, arg = 0.0, ()
    for k in (1, 2):
        for cs in combinations(range(24), k):
            d = float(np.max(np.abs(numpy_cnn(image, crashed_tanh=cs) - clean)))
            if d > best:
                best, arg = d, cs
    code, out, err = run(capsys, "worst", MODEL, "--input", X, "--max-crashes", "2", "--layers", "classifier.2",
                         "--json")
    assert code == 0, err
    res = json.loads(out)
    assert res["status"] == "proved" and isinstance(res["worst_delta"], float)
    assert res["worst_delta"] == pytest.approx(best, rel=1e-9)
    assert sorted(c["index"] for c in res["crash_set"]) == sorted(arg)
    assert {c["site"] for c in res["crash_set"]} == {"classifier.2"}
