"""The shared CLI conventions: --input, --p, --crash."""

from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from symft.errors import FaultModelError, InvalidArgument
from symft.graph.network import mean_network, random_network
from symft.parsing import parse_crashes, parse_inputs, parse_number, parse_p


def test_numbers():
    assert parse_number(" 7 ", "x") == 7 and isinstance(parse_number("7", "x"), int)
    assert parse_number("-3/9", "x") == Fraction(-1, 3)
    assert parse_number("1e-3", "x") == 1e-3
    for bad in ("", "1/0", "1/2/3", "x", "nan", "inf", "-inf"):
        with pytest.raises(InvalidArgument, match="^x: expected a"):
            parse_number(bad, "x")


def test_inputs_inline_and_files(tmp_path):
    inp = parse_inputs("1, -2, 1/4")
    assert inp.single and inp.values.tolist() == [[1.0, -2.0, 0.25]] and inp.rows == [[1, -2, Fraction(1, 4)]]
    (tmp_path / "one.json").write_text("[1, 2, \"1/3\"]")
    inp = parse_inputs(f"@{tmp_path / 'one.json'}")
    assert inp.single and inp.rows == [[1, 2, Fraction(1, 3)]]
    (tmp_path / "many.json").write_text('{"inputs": [[1, 2], [3, 4]], "labels": [0, 1]}')
    inp = parse_inputs(f"@{tmp_path / 'many.json'}")
    assert not inp.single and inp.values.shape == (2, 2)
    np.save(tmp_path / "v.npy", np.arange(3.0))
    assert parse_inputs(f"@{tmp_path / 'v.npy'}").single
    np.save(tmp_path / "m.npy", np.ones((4, 3)))
    assert parse_inputs(f"@{tmp_path / 'm.npy'}").values.shape == (4, 3)
    (tmp_path / "m.csv").write_text("1,2\n\n3,4\n")
    assert parse_inputs(f"@{tmp_path / 'm.csv'}").values.tolist() == [[1, 2], [3, 4]]


@pytest.mark.parametrize("text,msg", [
    ("", "--input: expected comma-separated numbers or @FILE"),
    ("1,,2", r"--input\[1\]: expected a number"),
    ("1,NaN", r"--input\[1\]: expected a finite number"),
])
def test_inputs_errors(text, msg):
    with pytest.raises(InvalidArgument, match=msg):
        parse_inputs(text)


def test_inputs_json_errors(tmp_path):
    (tmp_path / "a.json").write_text("[[1, 2], [3]]")
    with pytest.raises(InvalidArgument, match="input 1 has 1 numbers, expected 2"):
        parse_inputs(f"@{tmp_path / 'a.json'}")
    (tmp_path / "b.json").write_text("[[1, true]]")
    with pytest.raises(InvalidArgument, match=r"inputs\[0\]\[1\]: expected a number, got true"):
        parse_inputs(f"@{tmp_path / 'b.json'}")
    (tmp_path / "c.json").write_text("[]")
    with pytest.raises(InvalidArgument, match="non-empty list"):
        parse_inputs(f"@{tmp_path / 'c.json'}")
    (tmp_path / "d.json").write_text("[1, NaN]")
    with pytest.raises(InvalidArgument, match="finite"):
        parse_inputs(f"@{tmp_path / 'd.json'}")


def test_p_spec():
    net = random_network([3, 4, 4, 1], seed=0)
    assert parse_p("0.01", net) == {1: 0.01, 2: 0.01}
    assert parse_p("0:1/100, 3:0.5", net) == {0: sp.Rational(1, 100), 3: 0.5}
    assert isinstance(parse_p("1:1/3")[1], sp.Rational)
    p = parse_p("0:p", allow_symbols=True)[0]
    assert isinstance(p, sp.Symbol) and p.is_nonnegative


@pytest.mark.parametrize("text,exc,msg", [
    ("1:1.5", FaultModelError, r"--p 1: expected a probability in \[0, 1\], got 1.5"),
    ("1:-0.1", FaultModelError, r"--p 1: expected a probability in \[0, 1\]"),
    ("2", FaultModelError, r"--p: expected a probability in \[0, 1\], got 2"),
    ("1:p", InvalidArgument, "symbols are not accepted"),
    ("9:0.1", InvalidArgument, "layer 9 does not exist; the network has layers 0 … 3"),
    ("1:0.1,1:0.2", InvalidArgument, "layer 1 is given twice"),
    ("a:0.1", InvalidArgument, "layer 'a': expected a non-negative integer"),
    ("1:0.1:2", InvalidArgument, "expected LAYER:P"),
])
def test_p_spec_errors(text, exc, msg):
    with pytest.raises(exc, match=msg):
        parse_p(text, random_network([3, 4, 4, 1], seed=0))


def test_bare_p_needs_hidden_layers():
    with pytest.raises(InvalidArgument, match="has none"):
        parse_p("0.1", mean_network(3))


def test_crashes():
    net = random_network([3, 4, 2], seed=0)
    pat = parse_crashes(["1:0, 3", "0:2", "1:3"], net)
    assert pat.neurons == {(1, 0), (1, 3), (0, 2)}
    assert parse_crashes([], net).neurons == frozenset()
    with pytest.raises(FaultModelError, match="neuron index 4 out of range for layer 1"):
        parse_crashes(["1:4"], net)
    with pytest.raises(InvalidArgument, match="expected LAYER:I,J"):
        parse_crashes(["1:"], net)


# ----------------------------------------------------------------- limits checked before work is done

import json  # noqa: E402
import time  # noqa: E402

from symft.parsing import check_output_file, parse_exact, parse_integer, parse_real  # noqa: E402


@pytest.mark.parametrize("text,msg", [
    ("1e400", "beyond the float64 range"),
    ("-1e400", "beyond the float64 range"),
    ("1e-400", "too small for float64"),
    ("1" + "0" * 400, "beyond the float64 range"),
    ("1" + "0" * 5000, "at most 4300 digits"),
    ("1/" + "3" * 5000, "at most 4300 digits"),
    ("²", "expected a number"), ("٣", "expected a number"), ("1_0", "expected a number"),
    ("0x10", "expected a number"), ("Infinity", "finite"), ("1/0", "division by zero"),
])
def test_number_limits(text, msg):
    with pytest.raises(InvalidArgument, match=msg):
        parse_number(text, "x")


def test_integer_real_exact_options():
    assert parse_integer(" 7 ", "--k", 1, 10) == 7
    for bad in ("1e20", "1.0", "²", "", "-1", "9" * 50, "11"):
        with pytest.raises(InvalidArgument, match="^--k: expected an integer in 1 … 10"):
            parse_integer(bad, "--k", 1, 10)
    assert parse_real("0.5", "--c", 0, 1, lo_open=True, hi_open=True) == 0.5
    for bad in ("0", "1", "nan", "inf", "1/0"):
        with pytest.raises(InvalidArgument, match="^--c: expected a"):
            parse_real(bad, "--c", 0, 1, lo_open=True, hi_open=True)
    assert parse_exact("0.1", "--e") == Fraction(1, 10) and parse_exact("1e-3", "--e") == Fraction(1, 1000)
    assert parse_exact("-2/6", "--e") == Fraction(-1, 3)


def test_output_file(tmp_path):
    assert check_output_file(str(tmp_path / "f.pdf"), "--figure") == str(tmp_path / "f.pdf")
    for bad, msg in ((tmp_path, "is a folder"), (tmp_path / "no" / "f.png", "does not exist"),
                     (tmp_path / "f", "ending in .png"), (tmp_path / "f.xyz", "ending in .png")):
        with pytest.raises(InvalidArgument, match=msg):
            check_output_file(str(bad), "--figure")


@pytest.mark.parametrize("content,msg", [
    ("[" * 50000 + "]" * 50000, "nested deeper than 100 levels"),
    ("[1" + "0" * 5000 + ", 1]", r"\[0\]: an integer with 5001 digits"),
    ("[1e400, 1]", r"\[0\]: 1e400 is beyond the float64 range"),
    ('{"inputs": [[1, -1e-400]]}', r"inputs\[0\]\[1\]: -1e-400 rounds to 0"),
    ('["1/0", 1]', "division by zero"),
    ('[1, "\\ud800"]', "not valid Unicode"),
])
def test_input_json_limits(tmp_path, content, msg):
    (tmp_path / "x.json").write_text(content)
    with pytest.raises(InvalidArgument, match=msg):
        parse_inputs(f"@{tmp_path / 'x.json'}")


def test_input_csv_with_nul(tmp_path):
    (tmp_path / "x.csv").write_bytes(b"1,\x002\n")
    with pytest.raises(InvalidArgument, match="x.csv"):
        parse_inputs(f"@{tmp_path / 'x.csv'}")


def test_p_refuses_nan_and_inf_even_as_symbols():
    for bad in ("nan", "1:inf", "0:Infinity"):
        with pytest.raises(InvalidArgument, match="expected a probability"):
            parse_p(bad, random_network([2, 2, 1], seed=0), allow_symbols=True)


def test_crash_indices_are_ascii_and_bounded():
    for bad in ("1:٣", "1:" + "9" * 5000, "٣:0"):
        with pytest.raises(InvalidArgument, match="expected LAYER:I,J"):
            parse_crashes([bad])
def test_npy_inputs_shaped_like_the_model(tmp_path):
    """With the network, a .npy of its input shape is one input, and with a batch axis a batch (flat rows)."""
    from symft.graph.network import Network
    from symft.graph.ops import Flatten, Input

    net = Network([("x", Input((2, 3, 3)), ()), ("f", Flatten(), ("x",))])
    img = np.arange(18.0).reshape(2, 3, 3)
    np.save(tmp_path / "one.npy", img)
    np.save(tmp_path / "many.npy", np.stack([img, -img, 2 * img]))
    one = parse_inputs(f"@{tmp_path / 'one.npy'}", net=net)
    assert one.single and one.values.tolist() == [img.reshape(-1).tolist()]
    many = parse_inputs(f"@{tmp_path / 'many.npy'}", net=net)
    assert not many.single and many.values.shape == (3, 18) and many.values[1].tolist() == (-img).reshape(-1).tolist()
    np.save(tmp_path / "flat.npy", img.reshape(1, -1))
    assert parse_inputs(f"@{tmp_path / 'flat.npy'}", net=net).values.shape == (1, 18)
    np.save(tmp_path / "bad.npy", np.zeros((3, 3, 2)))
    with pytest.raises(InvalidArgument, match=r"expected a 1-D or 2-D real array, or of shape \(2, 3, 3\) with or "
                                              r"without a batch axis, got float64 \(3, 3, 2\)"):
        parse_inputs(f"@{tmp_path / 'bad.npy'}", net=net)
    # without the network, arrays of more than 2 dimensions stay refused
    with pytest.raises(InvalidArgument, match="expected a 1-D or 2-D real array, got"):
        parse_inputs(f"@{tmp_path / 'one.npy'}")


def test_sites_by_name_on_graphs():
    """On a graph, --p and --crash name sites (or number them by position); a bare P means the hidden sites."""
    from symft.graph.netfile import load_network
    from tests.reference_graphs import DATA

    net = load_network(DATA / "residual_mlp.json")                    # sites x, h1, h2, out
    assert parse_p("0.1", net) == {"h1": 0.1, "h2": 0.1}
    assert parse_p("h2:1/8, out:0.5", net) == {"h2": sp.Rational(1, 8), "out": 0.5}
    assert parse_p("1:0.25", net) == {1: 0.25}                       # a number is the site's position
    for text, msg in [("d1:0.1", "site 'd1' does not exist; the sites are x, h1, h2, out"),
                      ("h1:0.1,1:0.2", "site 'h1' is given twice"),
                      ("h1:0.1:2", "expected SITE:P")]:
        with pytest.raises(InvalidArgument, match=msg):
            parse_p(text, net)
    pat = parse_crashes(["h1:0, 5", "out:1", "2:3"], net)
    assert pat.neurons == {("h1", 0), ("h1", 5), ("out", 1), (2, 3)}
    with pytest.raises(FaultModelError, match="neuron index 6 out of range for site 'h2'"):
        parse_crashes(["h2:6"], net)
    with pytest.raises(InvalidArgument, match="expected LAYER:I,J"):
        parse_crashes(["h:1:2"], net)
