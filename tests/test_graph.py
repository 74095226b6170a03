"""The operator graph and the walker: every op against an independent NumPy/Fraction implementation,
every interpretation against the others, the file format version 2, sites and the chain view."""

import json
import pathlib
from fractions import Fraction

import mpmath
import networkx as nx
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

from symft.engines.forward import as_inputs, forward, forward_masked, forward_trace, jacobians
from symft.errors import FaultModelError, InvalidArgument, NetworkFormatError
from symft.faults import CrashPattern, NeuronCrash
from symft.graph.activations import get_activation
from symft.graph.netfile import dumps_network, load_network, loads_network, network_to_dict
from symft.graph.network import Network, NotAChain, mean_network, random_network
from symft.graph.numbers import exact_array, float_array
from symft.graph.ops import (ActivationOp, Add, AvgPool2d, BatchNorm, Conv2d, Dense, Flatten, Identity, Input,
                             MaxPool2d, Reshape)
from symft.walk.backward import Backward
from symft.walk.highprec import HighPrecision, as_mpf
from symft.walk.interval import Interval, IntervalInterp
from symft.walk.numeric import Numeric
from symft.walk.rational import Rational, as_fractions
from symft.walk.symbolic import Symbolic
from symft.walk.walker import Interpretation, NoRule, walk, walk_reverse

DATA = pathlib.Path(__file__).parent / "data"
RES = load_network(DATA / "residual_mlp.json")
CNN = load_network(DATA / "small_cnn.json")


# ------------------------------------------------------------- independent reference implementations

def ref_conv(x, W, b, stride, pad, dil, groups):
    """Cross-correlation by explicit loops over every output element (x: (C, H, W))."""
    C, H, Wd = x.shape
    Cout, Cg, KH, KW = W.shape
    pt, pl, pb, pr = pad
    xp = np.zeros((C, H + pt + pb, Wd + pl + pr), dtype=x.dtype)
    xp[:, pt:pt + H, pl:pl + Wd] = x
    OH = (H + pt + pb - dil[0] * (KH - 1) - 1) // stride[0] + 1
    OW = (Wd + pl + pr - dil[1] * (KW - 1) - 1) // stride[1] + 1
    out = np.zeros((Cout, OH, OW), dtype=x.dtype)
    per_g = Cout // groups
    for co in range(Cout):
        g = co // per_g
        for i in range(OH):
            for j in range(OW):
                s = 0
                for ci in range(Cg):
                    for a in range(KH):
                        for c in range(KW):
                            s = s + W[co, ci, a, c] * xp[g * Cg + ci, i * stride[0] + a * dil[0], j * stride[1] + c * dil[1]]
                out[co, i, j] = s + (b[co] if b is not None else 0)
    return out


def ref_pool(x, kernel, stride, pad, how, count_include_pad=False, dil=(1, 1)):
    C, H, Wd = x.shape
    pt, pl, pb, pr = pad
    OH = (H + pt + pb - dil[0] * (kernel[0] - 1) - 1) // stride[0] + 1
    OW = (Wd + pl + pr - dil[1] * (kernel[1] - 1) - 1) // stride[1] + 1
    out = np.zeros((C, OH, OW), dtype=x.dtype)
    for c in range(C):
        for i in range(OH):
            for j in range(OW):
                vals = []
                for a in range(kernel[0]):
                    for b in range(kernel[1]):
                        r, s = i * stride[0] - pt + a * dil[0], j * stride[1] - pl + b * dil[1]
                        if 0 <= r < H and 0 <= s < Wd:
                            vals.append(x[c, r, s])
                if how == "max":
                    out[c, i, j] = max(vals)
                else:
                    n = kernel[0] * kernel[1] if count_include_pad else len(vals)
                    out[c, i, j] = sum(vals) / n
    return out


CONV_CASES = [
    dict(C=1, H=5, W=5, Cout=2, K=(3, 3), stride=(1, 1), pad=(0, 0, 0, 0), dil=(1, 1), groups=1),
    dict(C=2, H=6, W=5, Cout=4, K=(3, 2), stride=(2, 1), pad=(1, 0, 2, 1), dil=(1, 2), groups=2),
    dict(C=4, H=4, W=4, Cout=4, K=(2, 2), stride=(1, 2), pad=(1, 1, 1, 1), dil=(2, 1), groups=4),
    dict(C=3, H=3, W=7, Cout=2, K=(1, 3), stride=(1, 3), pad=(0, 2, 0, 2), dil=(1, 1), groups=1),
]


@pytest.mark.parametrize("case", CONV_CASES)
def test_conv_matches_loops_float_and_exact(case):
    rng = np.random.default_rng(1)
    Cg = case["C"] // case["groups"]
    W = rng.normal(size=(case["Cout"], Cg) + case["K"])
    b = rng.normal(size=case["Cout"])
    op = Conv2d(float_array(W), float_array(b), stride=case["stride"], padding=case["pad"],
                dilation=case["dil"], groups=case["groups"])
    shape = (case["C"], case["H"], case["W"])
    X = rng.normal(size=(3,) + shape)
    got = op.apply([X], op.params("float"), [shape])
    for n in range(3):
        want = ref_conv(X[n], W, b, case["stride"], case["pad"], case["dil"], case["groups"])
        assert got[n].shape == want.shape == op.out_shape([shape])
        np.testing.assert_allclose(got[n], want, rtol=1e-12, atol=1e-12)
    # exact: Fractions through the same op equal the loop in Fractions, exactly
    Xf = as_fractions(X[0])
    Wf = np.vectorize(Fraction, otypes=[object])(W)
    bf = np.vectorize(Fraction, otypes=[object])(b)
    got_f = op.apply([Xf[None]], op.params("fraction"), [shape])[0]
    want_f = ref_conv(Xf, Wf, bf, case["stride"], case["pad"], case["dil"], case["groups"])
    assert all(a == c for a, c in zip(got_f.ravel(), want_f.ravel()))


@pytest.mark.parametrize("kernel, stride, pad, cip", [((2, 2), (2, 2), (0, 0, 0, 0), False),
                                                      ((3, 3), (2, 2), (1, 1, 1, 1), False),
                                                      ((3, 3), (2, 2), (1, 1, 1, 1), True),
                                                      ((2, 3), (1, 2), (0, 1, 1, 0), False)])
def test_pools_match_loops(kernel, stride, pad, cip):
    rng = np.random.default_rng(2)
    shape = (2, 5, 6)
    x = rng.normal(size=shape)
    ap = AvgPool2d(kernel, stride, pad, count_include_pad=cip)
    np.testing.assert_allclose(ap.apply([x[None]], ap.params(), [shape])[0],
                               ref_pool(x, kernel, stride, pad, "avg", cip), rtol=1e-13)
    xf = as_fractions(x)
    got = ap.apply([xf[None]], ap.params("fraction"), [shape])[0]
    want = ref_pool(xf, kernel, stride, pad, "avg", cip)
    assert all(a == c for a, c in zip(got.ravel(), want.ravel()))
    if max(pad) < min(kernel):
        mp = MaxPool2d(kernel, stride, pad)
        np.testing.assert_array_equal(mp.apply(x[None], shape)[0], ref_pool(x, kernel, stride, pad, "max"))
        # negative values: padding must never win the max
        np.testing.assert_array_equal(mp.apply(-np.abs(x)[None], shape)[0],
                                      ref_pool(-np.abs(x), kernel, stride, pad, "max"))


def test_batchnorm_flatten_reshape_add_identity():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(4, 3, 2, 2))
    bn = BatchNorm(float_array([1.0, -2.0, 0.5]), float_array([0.0, 1.0, -1.0]))
    got = bn.apply([x], bn.params(), [(3, 2, 2)])
    np.testing.assert_array_equal(got, x * np.array([1.0, -2.0, 0.5])[:, None, None] + np.array([0, 1, -1.0])[:, None, None])
    assert Flatten().apply([x], {}, [(3, 2, 2)]).shape == (4, 12)
    assert Reshape((2, 6)).apply([x], {}, [(3, 2, 2)]).shape == (4, 2, 6)
    np.testing.assert_array_equal(Add().apply([x, x, x], {}, [(3, 2, 2)] * 3), 3 * x)
    assert Identity().apply([x], {}, [(3, 2, 2)]) is x


AFFINE_OPS = [
    (Dense(float_array(np.random.default_rng(4).normal(size=(3, 5))), float_array(np.ones(3))), [(5,)]),
    (Conv2d(float_array(np.random.default_rng(5).normal(size=(4, 1, 3, 2))), None, stride=(2, 1),
            padding=(1, 0, 1, 1), dilation=(1, 2), groups=2), [(2, 5, 6)]),
    (AvgPool2d((3, 2), (2, 2), (1, 1, 0, 1)), [(2, 5, 4)]),
    (AvgPool2d((2, 2), (1, 1), (1, 1, 1, 1), count_include_pad=True), [(1, 3, 3)]),
    (BatchNorm(float_array([2.0, -1.0]), float_array([1.0, 0.0])), [(2, 3, 3)]),
    (Add(), [(2, 3), (2, 3)]),
    (Flatten(), [(2, 3, 2)]),
    (Reshape((3, 4)), [(12,)]),
    (Identity(), [(4,)]),
]


@pytest.mark.parametrize("op, in_shapes", AFFINE_OPS, ids=lambda v: getattr(v, "kind", None))
def test_adjoint_is_the_transpose(op, in_shapes):
    """<A x, g> = Σ_i <x_i, (Aᵀ g)_i> for the linear part, with leading batch axes (2, 3)."""
    rng = np.random.default_rng(6)
    P = dict(op.params("float"))
    for k in ("bias", "shift"):
        if k in P:
            P[k] = None
    xs = [rng.normal(size=(2, 3) + tuple(s)) for s in in_shapes]
    y = op.apply(xs, P, in_shapes)
    g = rng.normal(size=y.shape)
    back = op.adjoint(g, P, in_shapes)
    lhs = (y * g).sum(axis=tuple(range(2, y.ndim)))
    rhs = sum((x * b).sum(axis=tuple(range(2, x.ndim))) for x, b in zip(xs, back))
    np.testing.assert_allclose(lhs, rhs, rtol=1e-12, atol=1e-12)
    # |A| is the entrywise absolute value: |A x| <= |A| |x|
    A = op.abs_params()
    assert np.all(np.abs(y) <= op.apply([np.abs(x) for x in xs], A, in_shapes) * (1 + 1e-12) + 1e-12)


# ------------------------------------------------------------- interpretations agree

def _dag_inputs(net, B=3, seed=0):
    return np.random.default_rng(seed).normal(size=(B,) + tuple(net.input_shape))


@pytest.mark.parametrize("net", [RES, CNN], ids=["residual", "cnn"])
def test_interpretations_agree(net):
    X = _dag_inputs(net)
    f = walk(net, Numeric(net), X, keep=False)
    with mpmath.workprec(120):
        m = walk(net, HighPrecision(net), as_mpf(X), keep=False)
        mf = np.vectorize(float)(m)
    np.testing.assert_allclose(f, mf, rtol=1e-12, atol=1e-14)
    box = walk(net, IntervalInterp(net), Interval.point(X), keep=False)
    with mpmath.workprec(120):
        assert all(mpmath.mpf(lo) <= v <= mpmath.mpf(hi) for lo, v, hi in zip(box.lo.ravel(), m.ravel(), box.hi.ravel()))
    if net.kind == "exact":
        Xq = np.round(X * 8) / 8
        r = walk(net, Rational(net), as_fractions(Xq), keep=False)
        s = walk(net, Symbolic(net), exact_array(Xq.tolist()), keep=False)
        assert all(Fraction(int(b.p), int(b.q)) == a for a, b in zip(r.ravel(), s.ravel()))
        np.testing.assert_allclose(np.vectorize(float)(r), walk(net, Numeric(net), Xq, keep=False), rtol=1e-12)


def _random_dag(draw_or_rng, kind="float"):
    """A random residual/conv DAG from a seed (used by the Hypothesis test)."""
    rng = draw_or_rng
    C, H = int(rng.integers(1, 3)), int(rng.integers(3, 6))
    Cout = int(rng.choice([C, 2 * C]))
    act = str(rng.choice(["relu", "tanh", "sigmoid", "1/2*tanh", "leaky_relu(1/10)", "hardtanh"]))
    groups = C if Cout % C == 0 and rng.random() < 0.5 else 1
    W = rng.normal(size=(Cout, C // groups, 3, 3)) * 10.0 ** rng.integers(-3, 2, size=(Cout, C // groups, 3, 3))
    conv = Conv2d(float_array(W), float_array(rng.normal(size=Cout)), padding=1, groups=groups)
    nodes = [("x", Input((C, H, H)), ()), ("c", conv, ("x",)), ("a", ActivationOp(act), ("c",)),
             ("bn", BatchNorm(float_array(rng.normal(size=Cout)), float_array(rng.normal(size=Cout))), ("a",)),
             ("b", ActivationOp("relu"), ("bn",)), ("s", Add(), ("a", "b"))]
    if rng.random() < 0.5:
        nodes.append(("p", MaxPool2d((2, 2), 1), ("s",)))
    else:
        nodes.append(("p", AvgPool2d((2, 2), 1, padding=(0, 0, 1, 1)), ("s",)))
    n_flat = int(np.prod(nodes[-1][1].out_shape([(Cout, H, H)])))
    nodes += [("f", Flatten(), ("p",)), ("y", Dense(float_array(rng.normal(size=(2, n_flat))), None), ("f",))]
    return Network(nodes)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10 ** 6))
def test_random_dags_interval_encloses_mpmath_and_backward_matches_differences(seed):
    rng = np.random.default_rng(seed)
    net = _random_dag(rng)
    X = rng.normal(size=(2,) + net.input_shape)
    box = walk(net, IntervalInterp(net), Interval.point(X), keep=False)
    with mpmath.workprec(150):
        m = walk(net, HighPrecision(net), as_mpf(X), keep=False)
        assert all(mpmath.mpf(lo) <= v <= mpmath.mpf(hi)
                   for lo, v, hi in zip(box.lo.ravel(), m.ravel(), box.hi.ravel()))
    # reverse mode vs central differences along a random direction of the input
    J = jacobians(net, X, ["x"])["x"]                          # (B, n_out, n_in)
    d = rng.normal(size=X.shape)
    h = 1e-6
    fp = forward(net, (X + h * d).reshape(2, -1))
    fm = forward(net, (X - h * d).reshape(2, -1))
    fd = (fp - fm) / (2 * h)
    jd = np.einsum("bki,bi->bk", J, d.reshape(2, -1))
    np.testing.assert_allclose(jd, fd, rtol=1e-4, atol=1e-5 * (1 + np.abs(fd).max()))


def test_masked_forward_on_a_dag_equals_recomputation():
    net = RES
    X = _dag_inputs(net, B=2, seed=4)
    rng = np.random.default_rng(5)
    masks = {"h1": rng.random((7, 6)) < 0.4, "x": rng.random((7, 4)) < 0.3}
    got = forward_masked(net, X, masks)
    for p in range(7):
        pat = CrashPattern([("h1", i) for i in np.flatnonzero(masks["h1"][p])]
                           + [("x", i) for i in np.flatnonzero(masks["x"][p])])
        # by hand: zero the inputs, evaluate, zero h1 inside
        Xz = np.where(masks["x"][p], 0.0, X)
        W1, b1 = net.node("d1").op.params()["weight"], net.node("d1").op.params()["bias"]
        W2, b2 = net.node("d2").op.params()["weight"], net.node("d2").op.params()["bias"]
        W3, b3 = net.node("out").op.params()["weight"], net.node("out").op.params()["bias"]
        h1 = np.where(masks["h1"][p], 0.0, np.maximum(Xz @ W1.T + b1, 0))
        h2 = np.maximum(h1 @ W2.T + b2, 0)
        want = (h1 + h2) @ W3.T + b3
        np.testing.assert_allclose(got[p], want, rtol=1e-13, atol=1e-14)
        np.testing.assert_allclose(forward(net, X, pat), want, rtol=1e-13, atol=1e-14)


def test_exact_forward_on_a_dag_and_incoming_zeroed():
    x = ["1/2", "-1", "3/4", "1/8"]
    y = forward(RES, x, exact=True)
    r = walk(RES, Rational(RES), as_fractions([x]), keep=False)[0]
    assert [Fraction(int(v.p), int(v.q)) for v in y] == list(r)
    pat = CrashPattern([("h2", 1), ("h2", 4)])
    ye = forward(RES, x, pat, semantics="incoming_zeroed", exact=True)
    yf = forward(RES, np.array([[Fraction(v) for v in x]], dtype=float), pat, semantics="incoming_zeroed")[0]
    np.testing.assert_allclose(np.array(ye, dtype=float), yf, rtol=1e-14)


# ------------------------------------------------------------- sites, chains, errors

def test_sites_and_site_resolution():
    assert RES.sites == ("x", "h1", "h2", "out")
    assert RES.site(1) == "h1" and RES.site("h2") == "h2" and RES.site("3") == "out"
    assert RES.hidden_sites == ("h1", "h2")
    with pytest.raises(InvalidArgument, match="site 'nope' does not exist; the sites are x, h1, h2, out"):
        RES.site("nope")
    assert NeuronCrash({"h1": 0.1, 0: 0.2}).site_names(RES) == ("x", "h1")
    assert CNN.site_size("r") == 18 and CNN.site_shape("r") == (2, 3, 3)
    with pytest.raises(NotAChain, match="feeds 2 nodes; depth needs a chain"):
        RES.depth
    assert mean_network(3).is_chain and random_network([2, 3, 1], seed=0).as_chain().sites == ("0", "1", "2")


def test_v1_networks_are_chains_with_numbered_sites():
    net = random_network([3, 4, 2], seed=1)
    assert net.order == ("0", "z1", "1", "z2", "2")
    assert [n.op.kind for n in net.nodes] == ["input", "dense", "activation", "dense", "activation"]
    G = net.graph
    assert nx.is_directed_acyclic_graph(G) and list(nx.topological_sort(G)) == list(net.order)
    # the graph is what the code walks: removing a node's op from the graph breaks the walk
    assert Network.from_graph(G) == net


def test_network_construction_errors():
    with pytest.raises(NetworkFormatError, match="duplicate node name 'a'"):
        Network([("a", Input((2,)), ()), ("a", Identity(), ("a",))])
    with pytest.raises(NetworkFormatError, match="input 'q' is not a node"):
        Network([("a", Input((2,)), ()), ("b", Identity(), ("q",))])
    with pytest.raises(NetworkFormatError, match="exactly one input node"):
        Network([("a", Input((2,)), ()), ("b", Input((2,)), ()), ("c", Add(), ("a", "b"))])
    with pytest.raises(NetworkFormatError, match="node 'c': add: expected inputs of the same shape"):
        Network([("a", Input((2,)), ()), ("d", Dense(float_array(np.ones((3, 2))), None), ("a",)),
                 ("c", Add(), ("a", "d"))])
    with pytest.raises(NetworkFormatError, match="node 'c': conv2d: expected 2 input channels"):
        Network([("a", Input((1, 4, 4)), ()), ("c", Conv2d(float_array(np.ones((1, 2, 3, 3))), None), ("a",))])
    with pytest.raises(NetworkFormatError, match="does not lead to the output"):
        Network([("a", Input((2,)), ()), ("b", Identity(), ("a",)), ("c", Identity(), ("a",))], "b")
    with pytest.raises(NetworkFormatError, match="2 nodes nothing reads"):
        Network([("a", Input((2,)), ()), ("b", Identity(), ("a",)), ("c", Identity(), ("a",))])


def test_missing_rule_names_op_and_interpretation():
    class Partial(Interpretation):
        name = "partial"

        def affine(self, node, args):
            return args[0]

    with pytest.raises(NoRule, match="the partial interpretation has no rule for activation ops \\(node 'h1'\\)"):
        walk(RES, Partial(), np.zeros((1, 4)))
    with pytest.raises(NoRule, match="rational interpretation has no rule for activation 'tanh'"):
        walk(CNN, Rational(CNN), as_fractions(np.zeros((1, 1, 5, 5))))


# ------------------------------------------------------------- file format version 2

def test_v2_round_trip_and_v1_unchanged(tmp_path):
    for net in (RES, CNN):
        text = dumps_network(net)
        assert json.loads(text)["version"] == 2
        back = loads_network(text)
        assert back == net and back.sites == net.sites
    # a chain still writes version 1, byte for byte as before
    for f in ("relu_small.json", "mean_of_inputs.json", "tanh_small.json"):
        p = pathlib.Path(__file__).parent.parent / "examples" / f
        net = load_network(p)
        d = network_to_dict(net)
        assert d["version"] == 1 and loads_network(dumps_network(net)) == net
    # explicit sites survive the round trip
    net = RES.with_sites(["x", "d1", "res"])
    back = loads_network(dumps_network(net))
    assert back.sites == ("x", "d1", "res") and back == net


@pytest.mark.parametrize("mutate, msg", [
    (lambda d: d["nodes"][1].update(op="conv3d"), "nodes\\[1\\].op: unknown op 'conv3d'"),
    (lambda d: d["nodes"][1].pop("weight"), "nodes\\[1\\].weight: missing"),
    (lambda d: d["nodes"][1].update(weight=[[1, 2], [3]]), "nodes\\[1\\].weight: ragged"),
    (lambda d: d["nodes"][1].update(stride=[1, 1]), "nodes\\[1\\].stride: unknown key for a dense node"),
    (lambda d: d["nodes"][2].update(activation="swish"), "nodes\\[2\\].activation: unknown activation 'swish'"),
    (lambda d: d["nodes"][5].update(inputs=["h1", "zz"]), "node 'res': input 'zz' is not a node"),
    (lambda d: d.update(sites=["x", "ghost"]), "sites: 'ghost' is not a node"),
    (lambda d: d["nodes"][0].update(shape=[0]), "nodes\\[0\\]: input: shape: expected positive sizes"),
])
def test_v2_errors_name_the_field(mutate, msg):
    d = json.loads((DATA / "residual_mlp.json").read_text())
    mutate(d)
    with pytest.raises(NetworkFormatError, match="^r.json: " + msg):
        loads_network(json.dumps(d), source="r.json")


def test_parametric_activations_exact_and_float():
    for name, z in [("leaky_relu(1/10)", [-2, 3]), ("clip(-1,6)", [-5, 2, 9]), ("hardsigmoid(1/5,1/2)", [-4, 0, 4]),
                    ("relu6", [-1, 7])]:
        a = get_activation(name)
        fn = a.rational_fn
        for v in z:
            exact = sp.sympify(a.expr.subs(sp.Symbol("s", real=True), v))
            assert fn(Fraction(v)) == Fraction(int(exact.p), int(exact.q))
            assert float(a(np.array([float(v)]))[0]) == float(exact)
    e = get_activation("elu(1)")
    assert e.rational_fn is None and abs(float(e(np.array([-1.0]))[0]) - (np.exp(-1) - 1)) < 1e-15


# ------------------------------------------------------------- the strided float64 paths of conv and pools

@pytest.mark.parametrize("case", CONV_CASES + [dict(C=3, H=9, W=8, Cout=6, K=(3, 3), stride=(2, 1), pad=(1, 1, 1, 1),
                                                    dil=(1, 1), groups=3)])
def test_strided_float_paths_equal_the_gathered_ones(case, monkeypatch):
    """Conv2d, AvgPool2d and MaxPool2d on float64 use strided views; they give the gathered path's numbers."""
    import symft.graph.ops as ops_module

    rng = np.random.default_rng(11)
    Cg = case["C"] // case["groups"]
    conv = Conv2d(float_array(rng.normal(size=(case["Cout"], Cg) + case["K"])), float_array(rng.normal(size=case["Cout"])),
                  stride=case["stride"], padding=case["pad"], dilation=case["dil"], groups=case["groups"])
    shape = (case["C"], case["H"], case["W"])
    pools = [AvgPool2d((2, 2), (1, 1)), AvgPool2d((3, 3), (2, 2), (1, 1, 1, 1)),
             AvgPool2d((3, 2), (2, 1), (1, 0, 1, 1), count_include_pad=True), AvgPool2d((3, 3), (1, 1), (1, 1, 1, 1)),
             AvgPool2d(shape[1:], shape[1:]), AvgPool2d((2, 3), (1, 1)),
             AvgPool2d((min(shape[1], 5), min(shape[2], 4)), (min(shape[1], 5), min(shape[2], 4))),
             MaxPool2d((2, 2), (2, 2)), MaxPool2d((3, 3), (2, 2), (1, 1, 1, 1)), MaxPool2d((2, 2), (1, 1), (1, 1, 1, 1), (2, 2))]
    for lead in [(), (5,), (3, 2)]:
        X = rng.normal(size=lead + shape) * 10.0 ** rng.integers(-3, 4, size=lead + shape)
        new = [conv.apply([X], conv.params(), [shape])] + [p.apply([X], p.params(), [shape]) if p.affine
                                                          else p.apply(X, shape) for p in pools]
        new.append(conv.apply([X], conv.abs_params(), [shape]))
        with monkeypatch.context() as m:
            m.setattr(ops_module, "_is_f64", lambda *a: False)
            old = [conv.apply([X], conv.params(), [shape])] + [p.apply([X], p.params(), [shape]) if p.affine
                                                              else p.apply(X, shape) for p in pools]
            old.append(conv.apply([X], conv.abs_params(), [shape]))
        for a, b in zip(new, old):        # the same sums in another order: equal to 1e-15 of the magnitude
            assert a.shape == b.shape
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-15 * np.abs(b).max())
        for a, b in zip(new[8:-1], old[8:-1]):        # max pooling: the same numbers, bit for bit
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", ["relu", "relu6", "hardtanh", "clip(1/3,1)", "clip(-1/2,5/4)", "linear",
                                  "clip(-340282346638528859811704183484516925440,3)", "ramp", "leaky_relu(1/100)"])
def test_clip_like_activations_give_the_piecewise_numbers_bit_for_bit(name):
    """The fast path of clip-like activations returns slope·z + intercept of the piece, signs of zero, inf and NaN
    included."""
    act = get_activation(name)
    his = [float(pc.hi) for pc in act.pieces[:-1]]
    slopes = np.array([float(pc.slope) for pc in act.pieces])
    icepts = np.array([float(pc.intercept) for pc in act.pieces])
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 6.0, 1 / 3, 5e-324, -5e-324, 1e308, -1e308])
    zs = [special, np.concatenate([np.nextafter(special, np.inf), np.nextafter(special, -np.inf)]),
          np.random.default_rng(0).normal(size=(4, 5, 6)) * 3, np.array([1e308, 1e308, -0.0]), np.array([-0.0, -0.0])]
    with np.errstate(invalid="ignore", over="ignore"):
        for z in zs:
            k = np.searchsorted(his, z, side="left")
            want = slopes[k] * z + icepts[k]
            got = act(z)
            np.testing.assert_array_equal(got, want)
            np.testing.assert_array_equal(np.signbit(got), np.signbit(want))
