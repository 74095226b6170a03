"""Network builders, the graph view, exact values, symbolic networks, rescaling, errors."""

from fractions import Fraction

import networkx as nx
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from symft.errors import InvalidArgument, NetworkFormatError, SymbolicValueError
from symft.engines.forward import forward
from symft.graph.network import (
    ChainLayer,
    Network,
    first_input_network,
    layer_norms,
    mean_network,
    random_network,
    rescale_lipschitz,
)

R = sp.Rational


# ----------------------------------------------------------------- builders

def test_from_numpy():
    W1 = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, 1.0]])
    W2 = np.array([[2.0, -1.0]])
    net = Network.from_numpy([W1, W2], [[0.1, 0.2], [0.3]], activations="tanh")
    assert net.widths == (3, 2, 1) and net.depth == 2 and net.kind == "float"
    assert [a.name for a in net.activations] == ["tanh", "linear"]
    np.testing.assert_array_equal(net.weights(1), W1)
    np.testing.assert_array_equal(net.bias(1), [0.1, 0.2])
    assert net.weights(1).dtype == np.float64 and not net.weights(1).flags.writeable
    assert net.n_inputs == 3 and net.n_outputs == 1 and net.n_params == 2 * 4 + 1 * 3
    np.testing.assert_array_equal(net.bias(2), [0.3])
    # default biases are zero, integer input arrays become float
    net2 = Network.from_numpy([np.array([[1, 2]])], activations=["relu"])
    assert net2.bias(1).tolist() == [0.0] and net2.weights(1).dtype == np.float64
    # the input matrix is copied, not aliased
    W = np.array([[1.0]])
    net3 = Network.from_numpy([W])
    W[0, 0] = 5.0
    assert net3.weights(1)[0, 0] == 1.0


def test_from_sympy_entry_types():
    w, v = sp.symbols("w v", real=True)
    net = Network.from_sympy([[[Fraction(1, 3), "2/7", sp.Integer(3), -2]], [[w]]],
                             [["-1/2"], [v + 1]], activations=["relu", "linear"])
    W1 = net.weights_exact(1)
    assert list(W1) == [R(1, 3), R(2, 7), 3, -2]
    assert all(isinstance(e, sp.Rational) for e in W1)
    assert net.bias_exact(1)[0] == R(-1, 2)
    assert net.weights_exact(2)[0] == w and net.bias_exact(2)[0] == v + 1
    assert net.kind == "symbolic" and net.free_symbols == {w, v}
    # strings become real symbols
    net2 = Network.from_sympy([[["1/n", "w_1 + 2*w_2"]]], activations=["linear"])
    names = sorted(str(s) for s in net2.free_symbols)
    assert names == ["n", "w_1", "w_2"]
    assert all(s.is_real for s in net2.free_symbols)
    # decimal strings are exact
    assert Network.from_sympy([[["0.1"]]]).weights_exact(1)[0] == R(1, 10)
    assert Network.from_sympy([[["0.1"]]]).kind == "exact"


def test_float_layer_exact_view_is_binary_rational():
    net = Network.from_numpy([[[0.1, 0.5]]])
    e = net.weights_exact(1)[0]
    assert e == R(3602879701896397, 36028797018963968) and e != R(1, 10)
    assert net.weights_exact(1)[1] == R(1, 2)
    assert float(e) == 0.1
    # same for a Python float inside from_sympy: kept, and exact view converts it exactly
    net2 = Network.from_sympy([[[0.1, 1]]])
    assert net2.weights_exact(1)[0] == R(3602879701896397, 36028797018963968)
    assert net2.kind == "mixed"
    assert net2.weights(1).tolist() == [[0.1, 1.0]]


def test_rationals_never_converted():
    net = Network.from_sympy([[[R(1, 3), R(2, 3)]], [[R(1, 7)]]], [[R(1, 5)], [0]],
                             activations=["relu", "linear"])
    assert net.kind == "exact"
    G = net.neuron_graph()
    w = G.edges[(0, 0), (1, 0)]["weight"]
    assert isinstance(w, sp.Rational) and w == R(1, 3)
    assert G.edges[(1, 0), (2, 0)]["weight"] == R(1, 7)
    b = G.nodes[(1, 0)]["bias"]
    assert isinstance(b, sp.Rational) and b == R(1, 5)
    assert net.weights_exact(1)[0] is not None and net.weights_exact(1)[0] == R(1, 3)
    # float view rounds once
    assert net.weights(1)[0, 0] == 1 / 3


def test_random_network_determinism():
    a = random_network([3, 5, 2], seed=11)
    b = random_network([3, 5, 2], seed=11)
    c = random_network([3, 5, 2], seed=12)
    assert a == b
    np.testing.assert_array_equal(a.weights(1), b.weights(1))
    assert a != c and not np.array_equal(a.weights(1), c.weights(1))
    g1, g2 = np.random.default_rng(5), np.random.default_rng(5)
    assert random_network([2, 2], seed=g1) == random_network([2, 2], seed=g2)
    with pytest.raises(InvalidArgument, match="seed"):
        random_network([2, 2], seed=None)
    with pytest.raises(InvalidArgument, match="widths"):
        random_network([2], seed=0)
    with pytest.raises(InvalidArgument, match="widths"):
        random_network([2, 0, 1], seed=0)
    # LeCun scaling: empirical std of a big layer ≈ 1/sqrt(n_in)
    big = random_network([400, 300], seed=0, weight_scale=2.0)
    assert big.weights(1).std() == pytest.approx(2.0 / 20.0, rel=0.02)
    assert [a.name for a in random_network([1, 2, 2, 1], seed=0, activation="relu").activations] == \
        ["relu", "relu", "linear"]


def test_random_network_rational():
    net = random_network([3, 4, 2], seed=3, rational_denominator=8)
    assert net.kind == "exact"
    fl = random_network([3, 4, 2], seed=3)
    for l in (1, 2):
        W = net.weights_exact(l)
        assert all(isinstance(e, sp.Rational) and (e * 8).is_Integer for e in W)
        # rounded from the same draws
        np.testing.assert_allclose(net.weights(l), np.round(fl.weights(l) * 8) / 8, atol=0)
    with pytest.raises(InvalidArgument, match="rational_denominator"):
        random_network([2, 2], seed=0, rational_denominator=0)


def test_mean_and_first_input():
    m = mean_network(5)
    assert m.widths == (5, 1) and m.kind == "exact"
    assert list(m.weights_exact(1)) == [R(1, 5)] * 5
    assert m.activation(1).name == "linear"
    f = first_input_network(4)
    assert list(f.weights_exact(1)) == [1, 0, 0, 0]
    for bad in (0, -1, 2.0, True):
        with pytest.raises(InvalidArgument):
            mean_network(bad)
        with pytest.raises(InvalidArgument):
            first_input_network(bad)


def test_activations_argument():
    with pytest.raises(InvalidArgument, match="activations: expected"):
        Network.from_numpy([np.eye(2), np.eye(2)], activations=["relu"])
    with pytest.raises(InvalidArgument, match="unknown activation"):
        Network.from_numpy([np.eye(2)], activations=["nope"])
    with pytest.raises(InvalidArgument, match="biases: expected 2 vectors"):
        Network.from_numpy([np.eye(2), np.eye(2)], [[0, 0]])
    with pytest.raises(InvalidArgument, match="layer: expected an integer in 1 … 1"):
        mean_network(2).weights(0)
    with pytest.raises(InvalidArgument, match="layer"):
        mean_network(2).activation(2)


# ----------------------------------------------------------------- graph view

def test_graph_attributes():
    net = Network.from_numpy([[[1.0, -2.0], [0.5, 0.0]], [[3.0, 4.0]]], [[0.1, 0.2], [-1.0]],
                             ["relu", "linear"], name="g", input_names=["a", "b"], output_names=["out"])
    G = net.neuron_graph()
    assert nx.is_frozen(G)
    with pytest.raises(nx.NetworkXError):
        G.add_node((9, 9))
    assert sorted(G.nodes) == [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0)]
    assert G.number_of_edges() == 2 * 2 + 2 * 1  # complete layered graph, zero weights included
    assert G.edges[(0, 1), (1, 1)]["weight"] == 0.0
    assert G.edges[(0, 1), (1, 0)]["weight"] == -2.0
    assert G.edges[(1, 1), (2, 0)]["weight"] == 4.0
    n = G.nodes[(1, 1)]
    assert n["layer"] == 1 and n["index"] == 1 and n["bias"] == 0.2 and n["activation"] == "relu"
    assert G.nodes[(0, 0)]["activation"] is None and G.nodes[(0, 0)]["bias"] is None
    assert G.nodes[(0, 1)]["name"] == "b" and G.nodes[(2, 0)]["name"] == "out"
    assert G.graph["name"] == "g"
    assert list(nx.topological_sort(G))[:2] in ([(0, 0), (0, 1)], [(0, 1), (0, 0)])


@pytest.mark.parametrize("net", [
    random_network([2, 3, 1], seed=1),
    random_network([3, 2, 2, 1], seed=2, rational_denominator=4, activation="relu"),
    mean_network(3),
    Network.from_sympy([[["1/n", 2]]], activations=["linear"]),
])
def test_graph_round_trip(net):
    back = Network.from_graph(net.neuron_graph())
    assert back == net
    assert back.kind == net.kind
    for l in range(1, net.depth + 1):
        assert back.weights_exact(l) == net.weights_exact(l)


def test_from_graph_missing_edges_are_zero():
    G = nx.DiGraph()
    G.add_nodes_from([(0, 0), (0, 1), (0, 2)])
    G.add_node((1, 0), bias=R(1, 2), activation="relu")
    G.add_node((1, 1), activation="relu")  # bias defaults to 0
    G.add_edge((0, 0), (1, 0), weight=R(1, 3))
    G.add_edge((0, 2), (1, 1), weight=2)
    G.add_edge((0, 1), (1, 1))  # no weight attribute: 0
    net = Network.from_graph(G)
    assert net.kind == "exact" and net.widths == (3, 2)
    assert net.weights_exact(1) == sp.Matrix([[R(1, 3), 0, 0], [0, 0, 2]])
    assert list(net.bias_exact(1)) == [R(1, 2), 0]
    assert tuple(forward(net, [3, 5, 1], exact=True)) == (R(3, 2), 2)
    # float graph -> float layer
    H = nx.DiGraph()
    H.add_edge((0, 0), (1, 0), weight=0.5)
    H.nodes[(1, 0)]["bias"] = 0.25
    fnet = Network.from_graph(H)
    assert fnet.kind == "float" and fnet.activation(1).name == "linear"
    assert fnet.weights(1).tolist() == [[0.5]] and fnet.bias(1).tolist() == [0.25]


@pytest.mark.parametrize("make, msg", [
    (lambda G: G.add_node("a"), "expected a \\(layer, index\\) pair"),
    (lambda G: G.add_node((4, 0)), "consecutive layers"),
    (lambda G: G.add_node((1, 5)), "layer 1: expected neuron indices 0 … n-1"),
    (lambda G: G.add_edge((0, 0), (2, 0)), "between consecutive layers"),
    (lambda G: G.nodes[(1, 1)].update(activation="tanh"), "one activation for the whole layer"),
    (lambda G: G.add_edge((0, 0), (1, 0), weight=float("nan")), "finite"),
])
def test_from_graph_errors(make, msg):
    G = nx.DiGraph(mean_network(2).neuron_graph())
    G.add_node((1, 1), activation="linear")
    G.add_node((2, 0), activation="linear")
    G.add_edge((1, 0), (2, 0), weight=1)
    Network.from_graph(G)  # valid before the change
    make(G)
    with pytest.raises(NetworkFormatError, match=msg):
        Network.from_graph(G)


def test_from_graph_not_a_graph():
    with pytest.raises(NetworkFormatError, match="networkx.DiGraph"):
        Network.from_graph({(0, 0): {}})
    G = nx.DiGraph()
    G.add_node((0, 0))
    with pytest.raises(NetworkFormatError, match="L ≥ 1"):
        Network.from_graph(G)


# ----------------------------------------------------------------- symbolic

def test_symbolic_network():
    n, w = sp.Symbol("n", positive=True), sp.Symbol("w", real=True)
    net = Network.from_sympy([[[1, 1]], [[w / n]]], activations=["relu", "linear"])
    net.weights(1)  # layer 1 is numeric
    with pytest.raises(SymbolicValueError) as e:
        net.weights(2)
    assert "layer 2" in str(e.value) and "['n', 'w']" in str(e.value)
    with pytest.raises(SymbolicValueError, match="layer 2"):
        forward(net, [1.0, 2.0])
    s = net.subs({n: 4, "w": R(1, 3)})
    assert s.kind == "exact" and s.weights_exact(2)[0] == R(1, 12)
    assert tuple(forward(s, [1, 2], exact=True)) == (R(1, 4),)
    assert forward(s, [1.0, 2.0])[0] == pytest.approx(0.25)
    # partial substitution stays symbolic
    assert net.subs({n: 2}).kind == "symbolic"
    assert net.kind == "symbolic"  # original untouched


# ----------------------------------------------------------------- rescale_lipschitz

@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6), widths=st.lists(st.integers(1, 5), min_size=3, max_size=5),
       act=st.sampled_from(["sigmoid", "tanh", "relu", "softplus", "2*tanh", "1/3*sigmoid"]),
       xseed=st.integers(0, 10**6))
def test_rescale_lipschitz_preserves_function(seed, widths, act, xseed):
    net = random_network(widths, seed=seed, activation=act, weight_scale=2.0, bias_scale=0.5)
    r = rescale_lipschitz(net)
    X = np.random.default_rng(xseed).normal(0, 2, size=(7, widths[0]))
    np.testing.assert_allclose(forward(r, X), forward(net, X), rtol=1e-12, atol=1e-13)
    for l in range(1, r.depth):
        assert r.activation(l).lipschitz == 1
        K = net.activation(l).lipschitz
        # next layer's weights multiplied by K
        np.testing.assert_allclose(r.weights(l + 1), net.weights(l + 1) * float(K), rtol=1e-15)
        # the rescaled activation is measured to be 1-Lipschitz
        z = np.linspace(-8, 8, 4001)
        assert np.abs(np.diff(r.activation(l)(z)) / np.diff(z)).max() <= 1 + 1e-9
    assert r.activation(r.depth) == net.activation(net.depth)
    np.testing.assert_array_equal(r.weights(1), net.weights(1))


def test_rescale_lipschitz_exact_and_errors():
    net = random_network([2, 3, 1], seed=0, activation="sigmoid", rational_denominator=16)
    r = rescale_lipschitz(net)
    assert r.kind == "exact"
    assert r.weights_exact(2) == net.weights_exact(2) * R(1, 4)
    assert r.activation(1).name == "4*sigmoid"
    x = [1, -2]
    a, b = forward(net, x, exact=True)[0], forward(r, x, exact=True)[0]
    assert abs(float(sp.N(a - b, 50))) < 1e-40
    with pytest.raises(InvalidArgument, match="layer 1: activation 'step'"):
        rescale_lipschitz(random_network([2, 2, 1], seed=0, activation="step"))
    # nothing to do for 1-Lipschitz activations: same function, same weights
    t = random_network([2, 2, 1], seed=0)
    assert rescale_lipschitz(t) == t


# ----------------------------------------------------------------- layer_norms

def test_layer_norms():
    net = random_network([4, 3, 2], seed=5)
    rows = layer_norms(net)
    assert [r["layer"] for r in rows] == [1, 2]
    for r in rows:
        W = net.weights(r["layer"])
        A = np.abs(W)
        assert r["shape"] == list(W.shape)
        assert r["spectral"] == pytest.approx(np.sqrt(np.linalg.eigvalsh(W @ W.T).max()), rel=1e-12)
        assert r["inf"] == pytest.approx(max(sum(abs(v) for v in row) for row in W.tolist()))
        assert r["one"] == pytest.approx(max(sum(abs(v) for v in col) for col in W.T.tolist()))
        assert r["frobenius"] == pytest.approx(np.sqrt((W ** 2).sum()))
        assert r["max_abs"] == A.max()
        assert r["neuron_total_min"] == pytest.approx(A.sum(1).min())
        assert r["q_balance"] == pytest.approx(A.sum(1).min() / A.sum(1).max())
    # hand values: W = [[1, -2], [0, 3]]
    h = layer_norms(Network.from_numpy([[[1.0, -2.0], [0.0, 3.0]]]))[0]
    assert (h["inf"], h["one"], h["max_abs"], h["q_balance"]) == (3.0, 5.0, 3.0, 1.0)
    assert h["frobenius"] == pytest.approx(np.sqrt(14))
    # singular values of [[1,-2],[0,3]]: sqrt of eigenvalues of [[5,-6],[-6,9]] = 7 ± sqrt(40)
    assert h["spectral"] == pytest.approx(np.sqrt(7 + np.sqrt(40)))
    z = layer_norms(Network.from_numpy([[[0.0, 0.0]]]))[0]
    assert z["q_balance"] == 1.0 and z["spectral"] == 0.0


# ----------------------------------------------------------------- format errors

def test_shape_chain_errors():
    with pytest.raises(NetworkFormatError) as e:
        Network.from_numpy([np.ones((3, 2)), np.ones((1, 4))])
    assert str(e.value) == "layers[1].weights: expected 3 columns (the width of layer 1), got 4"
    with pytest.raises(NetworkFormatError, match=r"layers\[2\]\.weights: expected 2 columns"):
        Network.from_sympy([[[1]], [[1], [1]], [[1, 1, 1]]], activations=["linear"] * 3)
    with pytest.raises(NetworkFormatError, match="at least one layer"):
        Network([])
    with pytest.raises(NetworkFormatError, match="expected a non-empty 2-D matrix"):
        Network.from_numpy([np.ones(3)])
    with pytest.raises(NetworkFormatError, match=r"biases\[0\]: expected a vector of 2 numbers"):
        Network.from_numpy([np.ones((2, 2))], [[1.0]])
    with pytest.raises(NetworkFormatError, match=r"biases\[0\]: expected 2 numbers, got 3"):
        Network.from_sympy([[[1, 1], [1, 1]]], [[1, 2, 3]])


@pytest.mark.parametrize("builder", [Network.from_numpy, Network.from_sympy])
def test_nonfinite_entries(builder):
    with pytest.raises(NetworkFormatError) as e:
        builder([np.eye(2), [[1.0, float("nan")]]])
    assert str(e.value) == "weights[1][0][1]: expected a finite number, got nan"
    with pytest.raises(NetworkFormatError, match=r"weights\[0\]\[1\]\[0\]: expected a finite number, got -inf"):
        builder([[[1.0, 2.0], [float("-inf"), 0.0]]])
    with pytest.raises(NetworkFormatError, match=r"biases\[0\]\[1\]: expected a finite number, got inf"):
        builder([np.eye(2)], [[0.0, float("inf")]])


def test_ragged_and_bad_entries():
    with pytest.raises(NetworkFormatError, match="ragged rows"):
        Network.from_numpy([[[1, 2], [3]]])
    with pytest.raises(NetworkFormatError) as e:
        Network.from_sympy([[[1, 2], [3]]])
    assert str(e.value) == "weights[0][1]: ragged rows: expected 2 numbers, got 1"
    with pytest.raises(NetworkFormatError, match="expected real numbers"):
        Network.from_numpy([np.array([[1 + 2j]])])
    with pytest.raises(NetworkFormatError, match=r"weights\[0\]\[0\]\[0\]"):
        Network.from_sympy([[["exp(1)"]]])
    with pytest.raises(NetworkFormatError, match=r"weights\[0\]\[0\]\[1\]"):
        Network.from_sympy([[[1, True]]])
    with pytest.raises(NetworkFormatError, match="2\\*\\*53"):
        Network.from_numpy([np.array([[2 ** 60]])])
    with pytest.raises(NetworkFormatError, match="input_names: expected 2 names"):
        Network.from_numpy([np.eye(2)], input_names=["a"])


def test_equality_and_layers():
    a = Network.from_sympy([[[1, 2]]])
    assert a == Network.from_sympy([[["1", "2"]]])
    assert a != Network.from_sympy([[[1, 3]]])
    assert a != Network.from_numpy([[[1.0, 2.0]]])  # float layer vs exact layer
    assert a != Network.from_sympy([[[1, 2]]], name="other")
    lay = a.layers[0]
    assert isinstance(lay, ChainLayer) and not lay.is_float and lay.shape == (1, 2)
    with pytest.raises(TypeError):
        hash(a)
    assert "widths=(2, 1)" in repr(a)


def test_names_must_be_lists_of_printable_text():
    W = [np.eye(2)]
    for bad in (False, "ab", 3):
        with pytest.raises(NetworkFormatError, match="input_names: expected a list of 2 strings"):
            Network.from_numpy(W, input_names=bad)
    with pytest.raises(NetworkFormatError, match=r"output_names\[1\]: not valid Unicode text"):
        Network.from_numpy(W, output_names=["a", "b\ud800"])
    with pytest.raises(NetworkFormatError, match="name: not valid Unicode text"):
        Network.from_numpy(W, name="\udcff")
    with pytest.raises(NetworkFormatError, match="name: expected a string"):
        Network.from_numpy(W, name=3)


def test_float_view_of_an_exact_value_beyond_float64_is_refused():
    net = Network.from_sympy([[[sp.Integer(10) ** 400, 1]]], [[sp.Integer(-10) ** 309]], activations=["linear"])
    assert net.weights_exact(1)[0, 0] == sp.Integer(10) ** 400  # exact work is fine
    with pytest.raises(NetworkFormatError, match=r"layers\[0\]\.weights\[0\]\[0\]: the exact value is beyond"):
        net.weights(1)
    ok = Network.from_sympy([[[1, 1]]], [[-sp.Integer(10) ** 309]], activations=["linear"])
    with pytest.raises(NetworkFormatError, match=r"layers\[0\]\.bias\[0\]"):
        ok.bias(1)
