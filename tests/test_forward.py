"""symft.engines.forward against an independent reference forward pass written here.

The reference uses plain NumPy loops / matrix products and its own activation
formulas (it does not import symft.graph.activations), and a Fraction-based exact
version for piecewise-linear networks.
"""

import math
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from symft.errors import FaultModelError, InvalidArgument, SymbolicValueError
from symft.faults import CrashPattern, NeuronCrash, patterns_to_masks
from symft.engines.forward import (
    as_inputs,
    backward,
    forward,
    forward_masked,
    forward_patterns,
    forward_trace,
    output_error,
)
from symft.graph.network import Network, mean_network, random_network

R = sp.Rational

# ----------------------------------------------------------------- the reference


def _ref_act(name, z):
    z = np.asarray(z, dtype=float)
    if name == "linear":
        return z.copy()
    if name == "relu":
        return np.where(z > 0, z, 0.0)
    if name == "hardtanh":
        return np.minimum(1.0, np.maximum(-1.0, z))
    if name == "ramp":
        return np.minimum(1.0, np.maximum(0.0, z + 1.0))
    if name == "step":
        return (z > 0).astype(float)
    if name == "tanh":
        return np.array([math.tanh(v) for v in z.ravel()]).reshape(z.shape)
    if name == "sigmoid":
        return np.array([1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))
                         for v in z.ravel()]).reshape(z.shape)
    if name == "softplus":
        return np.array([max(v, 0.0) + math.log1p(math.exp(-abs(v))) for v in z.ravel()]).reshape(z.shape)
    raise KeyError(name)


def ref_forward(Ws, bs, acts, x, neurons=(), synapses=(), values=None, semantics="output_zero",
                start=0, y_start=None):
    """Plain loop forward pass.  Ws/bs: lists (layer l at index l-1); returns y_L."""
    values = values or {}
    y = np.array(x if y_start is None else y_start, dtype=float)
    L = len(Ws)

    def crash(l, y):
        y = y.copy()
        for (ll, i) in neurons:
            if ll != l:
                continue
            if (ll, i) in values:
                y[i] = values[(ll, i)]
            elif semantics == "output_zero" or l == 0:
                y[i] = 0.0
            else:
                y[i] = _ref_act(acts[l - 1], np.array([bs[l - 1][i]]))[0]
        return y

    if start == 0:
        y = crash(0, y)
    for l in range(start + 1, L + 1):
        W = np.array(Ws[l - 1], dtype=float)
        for (ll, i, j) in synapses:
            if ll == l:
                W[i, j] = 0.0
        z = np.zeros(W.shape[0])
        for i in range(W.shape[0]):
            z[i] = sum(W[i, j] * y[j] for j in range(W.shape[1])) + bs[l - 1][i]
        y = crash(l, _ref_act(acts[l - 1], z))
    return y


def net_arrays(net):
    Ws = [np.array(net.weights(l)) for l in range(1, net.depth + 1)]
    bs = [np.array(net.bias(l)) for l in range(1, net.depth + 1)]
    acts = [net.activation(l).name for l in range(1, net.depth + 1)]
    return Ws, bs, acts


def ref_exact(net, x, neurons=(), semantics="output_zero"):
    """Fraction arithmetic for piecewise-linear nets with rational weights."""
    F = lambda v: Fraction(int(sp.numer(v)), int(sp.denom(v)))  # noqa: E731
    pwl = {
        "linear": lambda s: s,
        "relu": lambda s: s if s > 0 else Fraction(0),
        "hardtanh": lambda s: min(Fraction(1), max(Fraction(-1), s)),
        "ramp": lambda s: min(Fraction(1), max(Fraction(0), s + 1)),
        "step": lambda s: Fraction(1) if s > 0 else Fraction(0),
    }
    y = [Fraction(v) for v in x]
    for (l, i) in neurons:
        if l == 0:
            y[i] = Fraction(0)
    for l in range(1, net.depth + 1):
        W, b = net.weights_exact(l), net.bias_exact(l)
        phi = pwl[net.activation(l).name]
        y = [phi(sum(F(W[i, j]) * y[j] for j in range(W.shape[1])) + F(b[i])) for i in range(W.shape[0])]
        for (ll, i) in neurons:
            if ll == l:
                y[i] = Fraction(0) if semantics == "output_zero" else phi(F(b[i]))
    return y


def assert_close(a, b):
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)


# ----------------------------------------------------------------- strategies

ACTS = ["linear", "relu", "hardtanh", "ramp", "step", "sigmoid", "tanh", "softplus"]
SMOOTH = ["tanh", "sigmoid", "softplus"]


@st.composite
def nets(draw, acts=ACTS, max_depth=4, max_width=6):
    depth = draw(st.integers(1, max_depth))
    widths = draw(st.lists(st.integers(1, max_width), min_size=depth + 1, max_size=depth + 1))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    Ws = [rng.normal(0, 1.5, size=(widths[l], widths[l - 1])) for l in range(1, depth + 1)]
    bs = [rng.normal(0, 0.5, size=widths[l]) for l in range(1, depth + 1)]
    act_names = [draw(st.sampled_from(acts)) for _ in range(depth)]
    return Network.from_numpy(Ws, bs, act_names)


@st.composite
def patterns(draw, net, synapses=False):
    neurons = set()
    for l in range(net.depth + 1):
        for i in range(net.widths[l]):
            if draw(st.booleans()) and draw(st.booleans()):  # ~1/4 crash
                neurons.add((l, i))
    syn = set()
    if synapses:
        for l in range(1, net.depth + 1):
            for i in range(net.widths[l]):
                for j in range(net.widths[l - 1]):
                    if draw(st.integers(0, 4)) == 0:
                        syn.add((l, i, j))
    return CrashPattern(frozenset(neurons), frozenset(syn))


inputs = lambda n: st.lists(st.floats(-3, 3, allow_nan=False), min_size=n, max_size=n)  # noqa: E731


# ----------------------------------------------------------------- float forward

@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_forward_matches_reference(data):
    net = data.draw(nets())
    x = np.array(data.draw(inputs(net.n_inputs)))
    pat = data.draw(patterns(net))
    sem = data.draw(st.sampled_from(["output_zero", "incoming_zeroed"]))
    Ws, bs, acts = net_arrays(net)
    assert_close(forward(net, x), ref_forward(Ws, bs, acts, x))
    got = forward(net, x, pat, semantics=sem)
    assert got.shape == (net.n_outputs,)
    assert_close(got, ref_forward(Ws, bs, acts, x, pat.neurons, semantics=sem))
    # batch of inputs
    X = np.stack([x, -x, x * 0.5])
    gotB = forward(net, X, pat, semantics=sem)
    assert gotB.shape == (3, net.n_outputs)
    for b in range(3):
        assert_close(gotB[b], ref_forward(Ws, bs, acts, X[b], pat.neurons, semantics=sem))


def test_crash_at_every_layer_hand():
    # 1 -> 1 -> 1 -> 1 linear chain with weights 2, 3, 5 and biases 1, 1, 1 at x = 1
    # y1 = 3, y2 = 10, y3 = 51.  Crash at layer 0: y1 = 1, y2 = 4, y3 = 21;
    # at 1: y2 = 1, y3 = 6; at 2: y3 = 1; at 3: 0; at 0 and 2: 1.
    net = Network.from_numpy([[[2.0]], [[3.0]], [[5.0]]], [[1.0], [1.0], [1.0]], ["linear"] * 3)
    want = {(): 51.0, (0,): 21.0, (1,): 6.0, (2,): 1.0, (3,): 0.0, (0, 2): 1.0, (0, 1, 2, 3): 0.0}
    for layers, v in want.items():
        pat = CrashPattern([(l, 0) for l in layers])
        assert forward(net, [1.0], pat)[0] == v
        assert forward(net, [1], pat, exact=True)[0] == sp.Integer(int(v))


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_synapse_crashes(data):
    net = data.draw(nets())
    x = np.array(data.draw(inputs(net.n_inputs)))
    pat = data.draw(patterns(net, synapses=True))
    Ws, bs, acts = net_arrays(net)
    assert_close(forward(net, x, pat), ref_forward(Ws, bs, acts, x, pat.neurons, pat.synapses))


def test_synapse_crash_hand():
    # y = relu(1*x0 + 2*x1 - 1), x = (1, 1): 2; zero W[0,1]: relu(0) = 0; zero W[0,0]: 1
    net = Network.from_numpy([[[1.0, 2.0]]], [[-1.0]], ["relu"])
    assert forward(net, [1.0, 1.0])[0] == 2.0
    assert forward(net, [1.0, 1.0], CrashPattern(synapses=[(1, 0, 1)]))[0] == 0.0
    assert forward(net, [1.0, 1.0], CrashPattern(synapses=[(1, 0, 0)]))[0] == 1.0
    assert forward(net, [1, 1], CrashPattern(synapses=[(1, 0, 0)]), exact=True)[0] == 1


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_byzantine_and_stuck_values(data):
    net = data.draw(nets())
    x = np.array(data.draw(inputs(net.n_inputs)))
    pat = data.draw(patterns(net))
    assume(len(pat.neurons) > 0)
    chosen = sorted(pat.neurons)[::2]  # half of them send a value, the rest follow the semantics
    vals = {k: data.draw(st.floats(-5, 5, allow_nan=False)) for k in chosen}
    pv = CrashPattern(pat.neurons, values=vals)
    sem = data.draw(st.sampled_from(["output_zero", "incoming_zeroed"]))
    Ws, bs, acts = net_arrays(net)
    assert_close(forward(net, x, pv, semantics=sem),
                 ref_forward(Ws, bs, acts, x, pv.neurons, values=vals, semantics=sem))


def test_stuck_values_hand():
    # mean of 2 at x = (1, 1); input 0 stuck at 5: (5 + 1)/2 = 3
    net = mean_network(2)
    p = CrashPattern([(0, 0)], values={(0, 0): 5.0})
    assert forward(net, [1.0, 1.0], p)[0] == 3.0
    assert forward(net, [1, 1], CrashPattern([(0, 0)], values={(0, 0): R(1, 3)}), exact=True)[0] == R(2, 3)
    # output neuron stuck at -7
    assert forward(net, [1.0, 1.0], CrashPattern([(1, 0)], values={(1, 0): -7.0}))[0] == -7.0


def test_incoming_zeroed_hand():
    # tanh layer with bias b = (0.3, -0.2): crashed neuron sends tanh(b_i)
    net = Network.from_numpy([[[1.0], [2.0]], [[1.0, 1.0]]], [[0.3, -0.2], [0.0]], ["tanh", "linear"])
    x = [0.5]
    for i, other in ((0, math.tanh(2 * 0.5 - 0.2)), (1, math.tanh(0.5 + 0.3))):
        got = forward(net, x, CrashPattern([(1, i)]), semantics="incoming_zeroed")[0]
        assert got == pytest.approx(math.tanh([0.3, -0.2][i]) + other, rel=1e-14)
        got0 = forward(net, x, CrashPattern([(1, i)]))[0]
        assert got0 == pytest.approx(other, rel=1e-14)
    # at the input layer both semantics give 0: y = tanh(0.3) + tanh(-0.2)
    got = forward(net, x, CrashPattern([(0, 0)]), semantics="incoming_zeroed")[0]
    assert got == pytest.approx(math.tanh(0.3) + math.tanh(-0.2), rel=1e-14)
    with pytest.raises(FaultModelError, match="semantics"):
        forward(net, x, CrashPattern([(1, 0)]), semantics="zero")


# ----------------------------------------------------------------- batched

@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_forward_masked_equals_loop(data):
    net = data.draw(nets())
    B = data.draw(st.integers(1, 3))
    X = np.array([data.draw(inputs(net.n_inputs)) for _ in range(B)])
    pats = [data.draw(patterns(net, synapses=data.draw(st.booleans()))) for _ in range(data.draw(st.integers(1, 8)))]
    sem = data.draw(st.sampled_from(["output_zero", "incoming_zeroed"]))
    out = forward_patterns(net, X, pats, semantics=sem)
    assert out.shape == (len(pats), B, net.n_outputs)
    Ws, bs, acts = net_arrays(net)
    for k, p in enumerate(pats):
        assert_close(out[k], forward(net, X, p, semantics=sem))
        for b in range(B):
            assert_close(out[k, b], ref_forward(Ws, bs, acts, X[b], p.neurons, p.synapses, semantics=sem))
    nm, vals, sm = patterns_to_masks(net, pats)
    full = forward_masked(net, X, nm, values=vals, synapse_masks=sm, semantics=sem)
    tiny = forward_masked(net, X, nm, values=vals, synapse_masks=sm, semantics=sem, chunk_bytes=1)
    mid = forward_masked(net, X, nm, values=vals, synapse_masks=sm, semantics=sem, chunk_bytes=300)
    if nm or sm:
        np.testing.assert_array_equal(full, out)
        np.testing.assert_array_equal(tiny, full)
        np.testing.assert_array_equal(mid, full)
    # a precomputed trace gives the same
    tr = forward_trace(net, X)
    np.testing.assert_array_equal(forward_patterns(net, X, pats, semantics=sem, trace=tr), out)


def test_forward_masked_many_sampled_patterns():
    net = random_network([4, 6, 5, 2], seed=1, activation="relu")
    X = np.random.default_rng(0).normal(size=(3, 4))
    masks = NeuronCrash({0: 0.3, 1: 0.2, 3: 0.1}).sample(net, 200, seed=4)
    out = forward_masked(net, X, masks)
    tiny = forward_masked(net, X, masks, chunk_bytes=1000)
    np.testing.assert_array_equal(out, tiny)
    Ws, bs, acts = net_arrays(net)
    for k in range(0, 200, 13):
        neurons = [(l, i) for l, m in masks.items() for i in np.flatnonzero(m[k])]
        for b in range(3):
            assert_close(out[k, b], ref_forward(Ws, bs, acts, X[b], neurons))
    # shapes for 1-D input, no patterns, no failures
    assert forward_masked(net, X[0], masks).shape == (200, 2)
    empty = forward_masked(net, X, {1: np.zeros((0, 6), dtype=bool)})
    assert empty.shape == (0, 3, 2)
    clean = forward_masked(net, X, {1: np.zeros((4, 6), dtype=bool)})
    for k in range(4):
        assert_close(clean[k], forward(net, X))
    assert forward_patterns(net, X, [CrashPattern()] * 3).shape == (3, 3, 2)


def test_forward_masked_errors():
    net = random_network([2, 3, 1], seed=0)
    X = np.zeros((1, 2))
    with pytest.raises(FaultModelError, match="layer 3 does not exist"):
        forward_masked(net, X, {3: np.zeros((1, 1), dtype=bool)})
    with pytest.raises(FaultModelError, match=r"neuron_masks\[1\]: expected a bool array of shape \(P, 3\)"):
        forward_masked(net, X, {1: np.zeros((1, 2), dtype=bool)})
    with pytest.raises(FaultModelError, match="bool"):
        forward_masked(net, X, {1: np.zeros((1, 3))})
    with pytest.raises(FaultModelError, match="same number of patterns"):
        forward_masked(net, X, {0: np.zeros((2, 2), dtype=bool), 1: np.zeros((3, 3), dtype=bool)})
    with pytest.raises(FaultModelError, match="no failed-neuron mask"):
        forward_masked(net, X, {1: np.zeros((1, 3), dtype=bool)}, values={0: np.zeros((1, 2))})
    with pytest.raises(FaultModelError, match="finite"):
        forward_masked(net, X, {1: np.ones((1, 3), dtype=bool)}, values={1: np.full((1, 3), np.inf)})
    with pytest.raises(FaultModelError, match="synapse_masks"):
        forward_masked(net, X, synapse_masks={0: np.zeros((1, 2, 2), dtype=bool)})
    with pytest.raises(FaultModelError, match="semantics"):
        forward_masked(net, X, {}, semantics="nope")


# ----------------------------------------------------------------- exact mode

@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6), act=st.sampled_from(["relu", "hardtanh", "ramp", "step", "linear"]),
       widths=st.lists(st.integers(1, 4), min_size=2, max_size=4), data=st.data())
def test_exact_equals_float_and_fractions(seed, act, widths, data):
    net = random_network(widths, seed=seed, activation=act, rational_denominator=8, weight_scale=2.0,
                         bias_scale=0.5)
    assert net.kind == "exact"
    x = [R(data.draw(st.integers(-12, 12)), 4) for _ in range(widths[0])]
    pat = data.draw(patterns(net))
    sem = data.draw(st.sampled_from(["output_zero", "incoming_zeroed"]))
    ex = forward(net, x, pat, semantics=sem, exact=True)
    assert ex.dtype == object and all(isinstance(v, sp.Rational) for v in ex)
    ref = ref_exact(net, [Fraction(int(v.p), int(v.q)) for v in x], pat.neurons, sem)
    assert [Fraction(int(v.p), int(v.q)) for v in ex] == ref
    # dyadic values with few bits: float arithmetic is exact too, even at kinks
    fl = forward(net, np.array([float(v) for v in x]), pat, semantics=sem)
    assert fl.tolist() == [float(v) for v in ex]


def test_exact_inputs_and_batches():
    net = Network.from_sympy([[["1/3", "1/3", "1/3"]]], activations=["linear"])
    assert forward(net, ["1/2", 1, sp.Rational(1, 4)], exact=True)[0] == R(7, 12)
    assert forward(net, [Fraction(1, 2), 1, 0.25], exact=True)[0] == R(7, 12)
    out = forward(net, [[1, 1, 1], [3, 0, 0]], exact=True)
    assert out.shape == (2, 1) and out[0, 0] == 1 and out[1, 0] == 1
    # exact mode on a float layer reads the binary rational of 0.1
    fnet = Network.from_numpy([[[0.1]]])
    assert forward(fnet, [1], exact=True)[0] == R(3602879701896397, 36028797018963968)
    # smooth closed form
    t = Network.from_sympy([[[1]]], activations=["tanh"])
    assert forward(t, ["1/2"], exact=True)[0] == sp.tanh(R(1, 2))
    # symbolic networks evaluate symbolically in exact mode
    w = sp.Symbol("w", real=True)
    s = Network.from_sympy([[[w, 1]]], activations=["linear"])
    assert forward(s, [2, 3], exact=True)[0] == 2 * w + 3
    with pytest.raises(FaultModelError, match="out of range"):
        forward(net, [1, 1, 1], CrashPattern([(0, 3)]), exact=True)


def test_output_error_hand():
    net = mean_network(4)
    assert output_error(net, np.ones(4), CrashPattern([(0, 0), (0, 1)]))[0] == -0.5
    assert output_error(net, [1, 1, 1, 1], CrashPattern([(0, 0)]), exact=True)[0] == R(-1, 4)
    t = Network.from_sympy([[[1]]], activations=["tanh"])
    e = output_error(t, ["1/2"], CrashPattern([(0, 0)]), exact=True)[0]
    assert e == -sp.tanh(R(1, 2))


# ----------------------------------------------------------------- backward

def _fd_jacobian(net, x, l, h=1e-6):
    """Central differences of y_L as a function of y_l (reference partial forward)."""
    Ws, bs, acts = net_arrays(net)
    ys = [np.array(x, dtype=float)]
    for k in range(1, net.depth + 1):
        ys.append(_ref_act(acts[k - 1], Ws[k - 1] @ ys[-1] + bs[k - 1]))
    yl = ys[l]
    J = np.zeros((net.n_outputs, len(yl)))
    for i in range(len(yl)):
        e = np.zeros(len(yl))
        e[i] = h
        up = ref_forward(Ws, bs, acts, None, start=l, y_start=yl + e)
        dn = ref_forward(Ws, bs, acts, None, start=l, y_start=yl - e)
        J[:, i] = (up - dn) / (2 * h)
    return J


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_backward_vs_finite_differences(data):
    net = data.draw(nets(acts=SMOOTH + ["linear"]))
    B = data.draw(st.integers(1, 3))
    X = np.array([data.draw(inputs(net.n_inputs)) for _ in range(B)])
    Js = backward(net, X)
    assert len(Js) == net.depth + 1
    for l in range(net.depth + 1):
        assert Js[l].shape == (B, net.n_outputs, net.widths[l])
    np.testing.assert_array_equal(Js[-1], np.broadcast_to(np.eye(net.n_outputs), Js[-1].shape))
    for b in range(B):
        for l in range(net.depth):
            fd = _fd_jacobian(net, X[b], l)
            scale = max(1.0, np.abs(fd).max())
            np.testing.assert_allclose(Js[l][b], fd, rtol=1e-6, atol=1e-7 * scale)


def test_backward_hand():
    # y = 2 tanh(3 x0 - x1 + 0.5) (1 -> output), J_0 = 2 (1 - t²) (3, -1)
    net = Network.from_numpy([[[3.0, -1.0]], [[2.0]]], [[0.5], [0.0]], ["tanh", "linear"])
    x = np.array([[0.2, 0.4]])
    t = math.tanh(0.6 - 0.4 + 0.5)
    J = backward(net, x)
    np.testing.assert_allclose(J[0][0], [[2 * (1 - t * t) * 3, -2 * (1 - t * t)]], rtol=1e-14)
    np.testing.assert_allclose(J[1][0], [[2.0]], rtol=1e-14)
    # relu'(0) = 0 at the kink: z = 0
    r = Network.from_numpy([[[1.0]], [[1.0]]], activations=["relu", "linear"])
    assert backward(r, np.zeros((1, 1)))[0][0, 0, 0] == 0.0
    assert backward(r, np.ones((1, 1)))[0][0, 0, 0] == 1.0


# ----------------------------------------------------------------- validation

def test_input_validation_messages():
    net = mean_network(2)
    with pytest.raises(InvalidArgument) as e:
        forward(net, [1, 2, 3])
    assert str(e.value) == "input: expected 2 numbers (n_0 = 2), got 3"
    with pytest.raises(InvalidArgument) as e:
        forward(net, [1, 2, 3], exact=True)
    assert str(e.value) == "input: expected 2 numbers (n_0 = 2), got 3"
    with pytest.raises(InvalidArgument) as e:
        forward(net, [1.0, float("nan")])
    assert str(e.value) == "input[1]: expected a finite number, got nan"
    with pytest.raises(InvalidArgument) as e:
        forward(net, [[1.0, 2.0], [float("inf"), 0.0]])
    assert str(e.value) == "input[1][0]: expected a finite number, got inf"
    with pytest.raises(InvalidArgument, match=r"input\[0\]: expected a finite number"):
        forward(net, [float("nan"), 1], exact=True)
    with pytest.raises(InvalidArgument, match="expected numbers"):
        forward(net, ["a", "b"])
    with pytest.raises(InvalidArgument, match="3 dimensions"):
        forward(net, np.zeros((1, 1, 2)))
    with pytest.raises(InvalidArgument, match="empty batch"):
        forward(net, np.zeros((0, 2)))
    with pytest.raises(InvalidArgument, match="pattern: expected a CrashPattern"):
        forward(net, [1, 2], {(0, 0)})
    a, single = as_inputs(net, [1, 2])
    assert single and a.shape == (1, 2) and a.dtype == np.float64


def test_symbolic_network_refused_numerically():
    n = sp.Symbol("n", positive=True)
    net = Network.from_sympy([[[1 / n, 1 / n]]], activations=["linear"])
    with pytest.raises(SymbolicValueError, match="layer 1"):
        forward(net, [1.0, 1.0])
    with pytest.raises(SymbolicValueError):
        forward(net, [1.0, 1.0], CrashPattern([(0, 0)]))
    with pytest.raises(SymbolicValueError):
        backward(net, np.ones((1, 2)))
    assert forward(net.subs({n: 2}), [1.0, 1.0])[0] == 1.0


# ----------------------------------------------------------------- float64 overflow is an error, not a value

from symft.errors import FloatOverflowError  # noqa: E402


def test_overflow_hidden_by_a_step_is_refused():
    # z = 1e308·(x0 + x1) − 1e308·(x2 + x3) is exactly 0 at x = 1 (step(0) = 0), but float64
    # overflows to inf (or nan) on the way and the step turns that into a confident 1.
    net = Network.from_numpy([[[1e308, 1e308, -1e308, -1e308]], [[1.0]]], activations=["step", "linear"])
    x = [1.0, 1.0, 1.0, 1.0]
    assert forward(net, x, exact=True)[0] == 0
    with pytest.raises(FloatOverflowError, match="layer 1: the float64 forward pass overflows"):
        forward(net, x)
    with pytest.raises(FloatOverflowError):
        forward_masked(net, np.array(x), {0: np.array([[False, True, False, False]])})


@pytest.mark.parametrize("act", ["tanh", "sigmoid", "relu", "hardtanh", "linear"])
def test_overflow_in_any_layer_is_refused(act):
    # 1e300 · 1e300 overflows in layer 2, whatever layer 1 does
    net = Network.from_numpy([[[3.0]], [[1e300]], [[1e300]]], activations=[act, "linear", "linear"])
    with pytest.raises(FloatOverflowError, match="layer 3"):
        forward(net, [1.0])
    with pytest.raises(FloatOverflowError):
        forward_masked(net, np.array([1.0]), {1: np.array([[False], [True]])})
    # the Jacobian overflows too: ∂y/∂y_0 = 1e600·φ'(3)
    with pytest.raises(FloatOverflowError):
        backward(Network.from_numpy([[[1e200]], [[1e200]]], activations=["linear", "linear"]), [[1.0]])


def test_large_but_finite_values_pass():
    net = Network.from_numpy([[[1e154]], [[1e154]]], activations=["linear", "linear"])
    assert forward(net, [1.0])[0] == 1e308


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_float_pass_is_bit_for_bit_the_plain_formula(data):
    # the overflow check reads values and never changes them: y_l = φ_l(y_{l-1} W_lᵀ + b_l) exactly
    net = data.draw(nets())
    scale = data.draw(st.sampled_from([1e-8, 1.0, 1e6]))
    X = np.array([data.draw(inputs(net.n_inputs)) for _ in range(3)]) * scale
    t = forward_trace(net, X)
    y = X
    for l in range(1, net.depth + 1):
        z = y @ net.weights(l).T + net.bias(l)
        y = net.activation(l)(z)
        assert np.array_equal(t.zs[l], z, equal_nan=False) and np.array_equal(t.ys[l], y)
