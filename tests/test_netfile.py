"""The network file: exact round trips, kinds per layer, the shipped examples."""

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

from symft.errors import NetworkFormatError
from symft.engines.forward import forward
from symft.graph.netfile import (dumps_network, load_network, loads_network, network_from_dict,
                           network_to_dict, save_network)
from symft.graph.network import Network, random_network

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))
NETWORK_EXAMPLES = [p for p in EXAMPLES if json.loads(p.read_text()).get("format") == "symft.network"]


def test_examples_are_found():
    names = {p.name for p in NETWORK_EXAMPLES}
    assert {"digits_sigmoid.json", "mean_of_inputs.json", "first_input.json"} <= names


@pytest.mark.parametrize("path", NETWORK_EXAMPLES, ids=lambda p: p.name)
def test_examples_round_trip_exactly(path, tmp_path):
    net = load_network(path)
    save_network(net, tmp_path / "copy.json")
    again = load_network(tmp_path / "copy.json")
    assert again == net
    # and the JSON values are the same numbers as in the original file
    assert network_to_dict(again)["layers"] == network_to_dict(net)["layers"]
    orig = json.loads(path.read_text())
    for k, layer in enumerate(orig["layers"]):
        W = network_to_dict(net)["layers"][k]["weights"]
        for row_a, row_b in zip(layer["weights"], W):
            for a, b in zip(row_a, row_b):
                fa = Fraction(a) if isinstance(a, str) else Fraction(a)
                fb = Fraction(b) if isinstance(b, str) else Fraction(b)
                assert fa == fb


def test_digits_example_is_a_trained_classifier():
    net = load_network(ROOT / "examples" / "digits_sigmoid.json")
    data = json.loads((ROOT / "examples" / "digits_inputs.json").read_text())
    X, labels = np.array(data["inputs"]), np.array(data["labels"])
    assert net.widths == (64, 32, 16, 10) and [a.name for a in net.activations] == ["sigmoid", "sigmoid", "linear"]
    acc = (forward(net, X).argmax(axis=1) == labels).mean()
    assert acc >= 0.85  # 20 held-out images; the script reports the full test accuracy in metadata
    assert net.metadata["test_accuracy"] >= 0.93


def test_layer_kinds_follow_the_file():
    d = {"format": "symft.network", "version": 1, "layers": [
        {"weights": [[0.5, 1]], "bias": [0], "activation": "linear"},      # float layer (has a JSON float)
        {"weights": [["1/3"]], "bias": [1], "activation": "linear"},       # exact layer
        {"weights": [[2]], "activation": "linear"},                        # exact: only integers
    ]}
    net = network_from_dict(d)
    assert [lay.is_float for lay in net.layers] == [True, False, False]
    assert net.weights_exact(2)[0] == sp.Rational(1, 3)
    assert isinstance(net.weights_exact(2)[0], sp.Rational)
    assert net.bias(3)[0] == 0.0
    assert loads_network(dumps_network(net)) == net


def test_decimal_strings_are_exact_and_floats_are_binary():
    net = network_from_dict({"format": "symft.network", "version": 1,
                             "layers": [{"weights": [["0.1", 0.1]], "activation": "linear"}]})
    a, b = net.weights_exact(1)
    assert a == sp.Rational(1, 10)
    assert b == sp.Rational(0.1) and b != sp.Rational(1, 10)
    assert loads_network(dumps_network(net)) == net


def test_symbolic_round_trip():
    net = network_from_dict({"format": "symft.network", "version": 1,
                             "layers": [{"weights": [["1/n", "2*w + 1/3"]], "activation": "tanh"},
                                        {"weights": [[1]], "activation": "linear"}]})
    assert net.kind == "symbolic"
    assert loads_network(dumps_network(net)) == net
    n = sp.Symbol("n", real=True)
    assert net.subs({"n": 4, "w": sp.Rational(1, 2)}).weights_exact(1)[0] == sp.Rational(1, 4)
    assert net.subs({n: 4, "w": 0}).kind == "exact"


def test_names_and_metadata_round_trip(tmp_path):
    net = random_network([2, 3, 2], seed=3, name="nm")
    net = Network(net.layers, name="nm", input_names=["a", "b"], output_names=["p", "q"],
                  metadata={"note": "hello", "n": [1, 2]})
    save_network(net, tmp_path / "n.json", indent=2)
    back = load_network(tmp_path / "n.json")
    assert back == net and back.input_names == ("a", "b") and back.metadata["n"] == [1, 2]
    with pytest.raises(NetworkFormatError, match="output_names: expected 2 names, got 1"):
        network_from_dict({**network_to_dict(net), "output_names": ["p"]})
    with pytest.raises(NetworkFormatError, match="extra: unknown key"):
        network_from_dict({**network_to_dict(net), "extra": 1})


@settings(max_examples=40, deadline=None)
@given(widths=st.lists(st.integers(1, 5), min_size=2, max_size=5), seed=st.integers(0, 2 ** 31),
       act=st.sampled_from(["relu", "tanh", "sigmoid", "hardtanh", "ramp", "softplus", "step"]),
       exact=st.booleans())
def test_random_networks_round_trip(widths, seed, act, exact):
    net = random_network(widths, seed=seed, activation=act, rational_denominator=16 if exact else None)
    back = loads_network(dumps_network(net))
    assert back == net
    for l in range(1, net.depth + 1):
        assert np.array_equal(back.weights(l), net.weights(l))  # bit-for-bit
        assert back.weights_exact(l) == net.weights_exact(l)


def test_big_integers_stay_exact():
    big = 2 ** 60 + 1
    net = network_from_dict({"format": "symft.network", "version": 1,
                             "layers": [{"weights": [[big, 0.5]], "activation": "linear"}]})
    assert net.weights_exact(1)[0] == big
    assert loads_network(dumps_network(net)).weights_exact(1)[0] == big


# ----------------------------------------------------------------- malicious and malformed files

import time  # noqa: E402

from symft.utils import parse_number_string  # noqa: E402

ONE = {"format": "symft.network", "version": 1, "layers": [{"weights": [[1]], "activation": "linear"}]}


def _with_weight(text):
    return json.dumps(ONE).replace("[[1]]", f"[[{text}]]")


@pytest.mark.parametrize("weight,msg", [
    ('"10**10**10"', "more than 4300 digits"),
    ('"(10**100)**100"', "more than 4300 digits"),
    ('"2**10**6"', "more than 4300 digits"),
    ('"1e99999999"', "has about 100000000 digits"),
    ('"1/0"', "divides by zero"),
    ('"0**-1"', "divides by zero"),
    ('"(-2)**(1/2)"', "not a real number"),
    ('"__import__"', "expected a number"),
    ('"1" + "0" * 5000', None),
    ("1" + "0" * 5000, "an integer with 5001 digits"),
    ("1e400", "1e400 is beyond the float64 range"),
    ("-1e-400", "rounds to 0 in float64"),
])
def test_bad_weights_are_refused_fast(weight, msg):
    if msg is None:  # a 5001-digit string
        weight, msg = '"1' + "0" * 5000 + '"', "exact numbers may have at most 4300 digits"
    t0 = time.perf_counter()
    with pytest.raises(NetworkFormatError, match=msg) as e:
        loads_network(_with_weight(weight), source="w.json")
    assert str(e.value).startswith("w.json: layers[0].weights[0][0]: ")
    assert time.perf_counter() - t0 < 2


def test_exact_expressions_still_read():
    assert parse_number_string("10**400") == sp.Integer(10) ** 400
    assert parse_number_string("2**-3 + 1/w") == R(1, 8) + 1 / sp.Symbol("w", real=True)
    assert parse_number_string("1.5e3/3") == 500
    net = loads_network(_with_weight('"-(1/3)**2"'))
    assert net.weights_exact(1)[0, 0] == R(-1, 9)


R = sp.Rational


@pytest.mark.parametrize("text,msg", [
    ("[" * 50000 + "]" * 50000, "nested deeper than 100 levels"),
    (json.dumps(dict(ONE, metadata={"a": [[[[[]]]]]})).replace("[[[[[]]]]]", "[" * 200 + "]" * 200),
     "nested deeper than 100 levels"),
    (json.dumps(dict(ONE, name="x")).replace('"x"', '"\\ud800"'), "name: not valid Unicode text"),
    (json.dumps(dict(ONE, output_names=["x"])).replace('"x"', '"\\udc00"'), r"output_names\[0\]: not valid Unicode"),
    (json.dumps(dict(ONE, input_names=False)), "input_names: expected a list"),
    (json.dumps(ONE).replace('"linear"', '"1/0*relu"'), r"layers\[0\].activation: cannot read"),
    (json.dumps(ONE).replace('"linear"', '"1' + "0" * 5000 + '*relu"'), r"layers\[0\].activation: the scale"),
])
def test_bad_files_name_the_field(text, msg):
    with pytest.raises(NetworkFormatError, match=msg):
        loads_network(text, source="f.json")


def test_exact_value_beyond_float64_refused_only_for_float_work():
    net = loads_network(_with_weight('"1e400"'), source="f.json")
    assert forward(net, [1], exact=True)[0] == sp.Integer(10) ** 400
    with pytest.raises(NetworkFormatError, match=r"layers\[0\].weights\[0\]\[0\]: the exact value is beyond"):
        forward(net, [1.0])
