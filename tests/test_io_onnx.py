"""ONNX in and out: every supported op against onnxruntime, the refusals word for word, files detected by
content, and exact crash moments on imported models against NumPy brute forces written here.

Every model is built in the test with ``onnx.helper`` (float32 weights).  symft evaluates the model in
float64 from the exact values of the float32 weights; onnxruntime in float32.  "Equal to 1e-5 relative"
means, for each of the 100 random inputs, ``max |symft − ort| ≤ 1e-5 · max |ort|`` over that input's outputs.
"""

import itertools
import os
import pathlib
import subprocess
import sys
import time

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from symft.engines.enclosure import enclosure  # noqa: E402
from symft.engines.enumeration import enumerate_crashes  # noqa: E402
from symft.engines.forward import forward  # noqa: E402
from symft.errors import InvalidArgument, NetworkFormatError  # noqa: E402
from symft.faults import NeuronCrash  # noqa: E402
from symft.graph.activations import get_activation  # noqa: E402
from symft.graph.netfile import load_network, save_network  # noqa: E402
from symft.graph.network import Network, random_network  # noqa: E402
from symft.graph.ops import ActivationOp, BatchNorm, Dense, Input  # noqa: E402
from symft.io.onnx import SUPPORTED_OPS, load_onnx, looks_like_onnx, save_onnx, to_onnx  # noqa: E402

DATA = pathlib.Path(__file__).parent / "data"
EXAMPLES = pathlib.Path(__file__).parent.parent / "examples"
SUPPORTED = ", ".join(SUPPORTED_OPS)
F32 = TensorProto.FLOAT


# ------------------------------------------------------------------------------------------ helpers

def W(name, a):
    return numpy_helper.from_array(np.asarray(a, dtype=np.float32), name)


def I64(name, a):
    return numpy_helper.from_array(np.asarray(a, dtype=np.int64), name)


def make(nodes, inits, in_shape, opset=17, out="y", batch="N", extra_outputs=()):
    g = helper.make_graph(nodes, "test", [helper.make_tensor_value_info("x", F32, [batch] + list(in_shape))],
                          [helper.make_tensor_value_info(out, F32, None)]
                          + [helper.make_tensor_value_info(o, F32, None) for o in extra_outputs], inits)
    ops = [helper.make_opsetid("", opset)]
    m = helper.make_model(g, opset_imports=ops)
    m.ir_version = helper.find_min_ir_version_for(ops)
    return m


def ort_run(m, X):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    return sess.run(None, {name: X})[0]


def check(m, in_shape, seed=0, n=100, scale=1.0):
    """symft's forward of the imported model equals onnxruntime's on ``n`` random inputs; returns the network."""
    rng = np.random.default_rng(seed)
    X = (scale * rng.normal(size=(n,) + tuple(in_shape))).astype(np.float32)
    want = ort_run(m, X).reshape(n, -1).astype(np.float64)
    net = load_onnx(m)
    got = forward(net, X.astype(np.float64))
    assert got.shape == want.shape
    err = np.abs(got - want).max(axis=1)
    ref = np.abs(want).max(axis=1)
    assert np.all(err <= 1e-5 * np.maximum(ref, 1e-30)), (err / ref).max()
    return net


def rnd(seed, *shape, s=0.5):
    return np.random.default_rng(seed).normal(0, s, shape)


# ------------------------------------------------------------------------------------------ Gemm, MatMul

@pytest.mark.parametrize("transB", [0, 1])
@pytest.mark.parametrize("alpha, beta", [(1.0, 1.0), (0.75, -1.5), (2.0, 0.0)])
@pytest.mark.parametrize("cshape", [(3,), (1, 3), (), None])
def test_gemm(transB, alpha, beta, cshape):
    B = rnd(1, 3, 5) if transB else rnd(1, 5, 3)
    inits = [W("B", B)]
    ins = ["x", "B"]
    if cshape is not None:
        inits.append(W("C", rnd(2, *cshape) if cshape else 0.3))
        ins.append("C")
    m = make([helper.make_node("Gemm", ins, ["y"], name="fc", alpha=alpha, beta=beta, transB=transB)], inits, (5,))
    net = check(m, (5,))
    assert net.order == ("x", "fc") and isinstance(net.node("fc").op, Dense)


def test_gemm_trans_a_on_the_data_is_refused():
    m = make([helper.make_node("Gemm", ["x", "B"], ["y"], name="fc", transA=1)], [W("B", rnd(1, 5, 3))], (5,))
    with pytest.raises(NetworkFormatError) as e:
        load_onnx(m, source="m.onnx")
    assert str(e.value) == ("m.onnx: node 'fc' (Gemm): transA=1 on the data would mix the batch axis; only the "
                            f"constant operand may be transposed (transB); supported ops: {SUPPORTED}")


@pytest.mark.parametrize("const_first", [False, True])
def test_matmul_add_is_one_dense_op(const_first):
    add_in = ["b", "z"] if const_first else ["z", "b"]
    m = make([helper.make_node("MatMul", ["x", "Wt"], ["z"], name="mm"),
              helper.make_node("Add", add_in, ["y"], name="plus")],
             [W("Wt", rnd(3, 6, 4)), W("b", rnd(4, 4))], (6,))
    net = check(m, (6,))
    assert net.order == ("x", "mm") and net.node("mm").op.has_bias


def test_matmul_add_then_relu_and_a_second_constant_add():
    m = make([helper.make_node("MatMul", ["x", "Wt"], ["z"], name="mm"),
              helper.make_node("Add", ["z", "b"], ["z2"], name="plus"),
              helper.make_node("Add", ["z2", "b2"], ["z3"], name="plus2"),
              helper.make_node("Relu", ["z3"], ["y"], name="act")],
             [W("Wt", rnd(3, 6, 4)), W("b", rnd(4, 4)), W("b2", rnd(5, 1, 4))], (6,))
    net = check(m, (6,))
    assert net.order == ("x", "mm", "act")


def test_add_of_a_constant_not_after_a_dense_op_is_a_shift():
    m = make([helper.make_node("Relu", ["x"], ["r"], name="act"),
              helper.make_node("Add", ["r", "c"], ["y"], name="shift")],
             [W("c", rnd(4, 1, 3, 1, 1))], (3, 2, 2))
    net = check(m, (3, 2, 2))
    assert isinstance(net.node("shift").op, BatchNorm)


def test_add_of_a_constant_that_is_not_per_channel_is_refused():
    m = make([helper.make_node("Relu", ["x"], ["r"], name="act"),
              helper.make_node("Add", ["r", "c"], ["y"], name="shift")], [W("c", rnd(4, 2, 2))], (3, 2, 2))
    with pytest.raises(NetworkFormatError, match=r"node 'shift' \(Add\): adds a constant of shape \(2, 2\) that is "
                                                 r"not one number per channel"):
        load_onnx(m)


# ------------------------------------------------------------------------------------------ convolutions

CONVS = [
    dict(C=2, H=7, W=6, Cout=4, k=(3, 3), strides=[1, 1], pads=[1, 1, 1, 1], dil=[1, 1], group=1),
    dict(C=4, H=8, W=8, Cout=4, k=(3, 2), strides=[2, 1], pads=[1, 0, 2, 1], dil=[1, 2], group=2),   # grouped, dilated
    dict(C=3, H=9, W=7, Cout=6, k=(3, 3), strides=[2, 2], pads=[0, 0, 0, 0], dil=[2, 2], group=3),
    dict(C=4, H=6, W=6, Cout=4, k=(3, 3), strides=[1, 1], pads=[2, 2, 2, 2], dil=[1, 1], group=4),   # depthwise
]


@pytest.mark.parametrize("case", CONVS)
@pytest.mark.parametrize("bias", [True, False])
def test_conv(case, bias):
    w = rnd(5, case["Cout"], case["C"] // case["group"], *case["k"])
    inits = [W("w", w)] + ([W("b", rnd(6, case["Cout"]))] if bias else [])
    m = make([helper.make_node("Conv", ["x", "w"] + (["b"] if bias else []), ["y"], name="conv",
                               kernel_shape=list(case["k"]), strides=case["strides"], pads=case["pads"],
                               dilations=case["dil"], group=case["group"])], inits, (case["C"], case["H"], case["W"]))
    check(m, (case["C"], case["H"], case["W"]))


CHAINS = {"relu, max pool": [("Relu", {}), ("MaxPool", dict(kernel_shape=[2, 2], strides=[2, 2]))],
          "relu, average pool": [("Relu", {}), ("AveragePool", dict(kernel_shape=[3, 3], strides=[2, 2],
                                                                     pads=[1, 1, 1, 1]))],
          "batch norm, tanh, max pool": [("BatchNormalization", {}), ("Tanh", {}),
                                         ("MaxPool", dict(kernel_shape=[3, 2], strides=[1, 2]))],
          "sigmoid": [("Sigmoid", {})]}
CHAIN_CONVS = [dict(C=3, H=6, W=16, Cout=6, k=(3, 3), strides=[1, 1], pads=[1, 1, 1, 1], dil=[1, 1], group=1),
               dict(C=4, H=7, W=17, Cout=4, k=(2, 3), strides=[1, 1], pads=[0, 2, 1, 1], dil=[2, 1], group=2),
               dict(C=2, H=8, W=7, Cout=4, k=(3, 3), strides=[1, 1], pads=[1, 0, 2, 1], dil=[1, 1], group=1),
               dict(C=3, H=9, W=8, Cout=6, k=(3, 3), strides=[2, 1], pads=[1, 1, 0, 1], dil=[1, 2], group=3),
               dict(C=4, H=5, W=6, Cout=6, k=(1, 1), strides=[1, 1], pads=[0, 0, 0, 0], dil=[1, 1], group=2)]


@pytest.mark.parametrize("case", CHAIN_CONVS)
@pytest.mark.parametrize("chain", sorted(CHAINS))
@pytest.mark.parametrize("chunk", [None, 2 ** 12])
def test_conv_fused_with_activation_and_pooling(case, chain, chunk, monkeypatch):
    """A convolution evaluated with the nodes after it, a chunk of samples at a time (both float kernels,
    one chunk or many), float64 and float32, against onnxruntime."""
    import symft.graph.ops as ops_module
    from symft.walk.numeric import Numeric

    if chunk:
        monkeypatch.setattr(ops_module, "_CHUNK_BYTES", chunk)
    Co = case["Cout"]
    inits = [W("w", rnd(11, Co, case["C"] // case["group"], *case["k"])), W("b", rnd(12, Co)),
             W("g", rnd(13, Co) + 1), W("be", rnd(14, Co)), W("mu", rnd(15, Co)), W("var", np.abs(rnd(16, Co)) + 0.5)]
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["t0"], name="conv", kernel_shape=list(case["k"]),
                              strides=case["strides"], pads=case["pads"], dilations=case["dil"], group=case["group"])]
    for i, (op, attrs) in enumerate(CHAINS[chain]):
        ins = [f"t{i}"] + (["g", "be", "mu", "var"] if op == "BatchNormalization" else [])
        nodes.append(helper.make_node(op, ins, [f"t{i + 1}"], name=f"n{i}", **attrs))
    nodes.append(helper.make_node("Flatten", [f"t{len(CHAINS[chain])}"], ["y"], name="flat"))
    shape = (case["C"], case["H"], case["W"])
    m = make(nodes, inits, shape)
    net = check(m, shape)
    assert [len(c) for c in Numeric(net).fuse_after_convolutions().values()] == [len(CHAINS[chain])]
    X = np.random.default_rng(17).normal(size=(60,) + shape).astype(np.float32)
    want = ort_run(m, X).reshape(60, -1)
    got = forward(net, X, dtype=np.float32)
    assert got.dtype == np.float32
    assert np.all(np.abs(got - want).max(axis=1) <= 2e-5 * np.abs(want).max(axis=1))


@pytest.mark.parametrize("auto_pad", ["SAME_UPPER", "SAME_LOWER", "VALID"])
@pytest.mark.parametrize("strides", [[1, 1], [2, 2]])
def test_conv_auto_pad(auto_pad, strides):
    m = make([helper.make_node("Conv", ["x", "w", "b"], ["y"], name="conv", auto_pad=auto_pad, strides=strides)],
             [W("w", rnd(7, 3, 2, 2, 3)), W("b", rnd(8, 3))], (2, 7, 6))
    check(m, (2, 7, 6))


def test_conv_then_constant_add_folds_into_the_bias():
    m = make([helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]),
              helper.make_node("Add", ["c", "b"], ["y"], name="bias")],
             [W("w", rnd(9, 3, 1, 3, 3)), W("b", rnd(10, 1, 3, 1, 1))], (1, 5, 5))
    net = check(m, (1, 5, 5))
    assert net.order == ("x", "conv") and net.node("conv").op.has_bias


def test_conv_1d_is_refused():
    m = make([helper.make_node("Conv", ["x", "w"], ["y"], name="c1")], [W("w", rnd(1, 2, 1, 3))], (1, 8))
    with pytest.raises(NetworkFormatError, match=r"node 'c1' \(Conv\): expected a batch of \(C, H, W\) images"):
        load_onnx(m)


# ------------------------------------------------------------------------------------------ activations

ACTS = [
    ("Relu", {}), ("Sigmoid", {}), ("Tanh", {}), ("Softplus", {}),
    ("LeakyRelu", {}), ("LeakyRelu", {"alpha": 0.2}), ("LeakyRelu", {"alpha": -0.5}),
    ("Elu", {}), ("Elu", {"alpha": 0.3}),
    ("HardSigmoid", {}), ("HardSigmoid", {"alpha": 0.3, "beta": 0.4}),
]


@pytest.mark.parametrize("op, attrs", ACTS)
def test_activation(op, attrs):
    m = make([helper.make_node("Gemm", ["x", "w", "b"], ["z"], name="fc", transB=1),
              helper.make_node(op, ["z"], ["y"], name="act", **attrs)], [W("w", rnd(11, 5, 4, s=1.5)), W("b", rnd(12, 5))],
             (4,))
    net = check(m, (4,), scale=2.0)
    assert net.sites == ("x", "act")


CLIPS = [  # (name, min, max, expected activation name)
    ("both", -0.5, 1.25, "clip(-1/2,5/4)"),
    ("relu6", 0.0, 6.0, "relu6"),
    ("hardtanh", -1.0, 1.0, "hardtanh"),
    ("min only", 0.0, None, "relu"),
    ("min only, not zero", -0.25, None, None),
    ("max only", None, 0.5, None),
    ("neither", None, None, "linear"),
]


@pytest.mark.parametrize("label, lo, hi, want", CLIPS)
@pytest.mark.parametrize("form", ["initializers", "constant nodes"])
def test_clip_input_forms(label, lo, hi, want, form):
    nodes = [helper.make_node("Gemm", ["x", "w"], ["z"], name="fc", transB=1)]
    inits = [W("w", rnd(13, 6, 3, s=2.0))]
    args = ["z", "", ""]
    for k, (v, nm) in enumerate(((lo, "lo"), (hi, "hi")), start=1):
        if v is None:
            continue
        args[k] = nm
        if form == "initializers":
            inits.append(W(nm, np.float32(v)))
        else:
            nodes.append(helper.make_node("Constant", [], [nm], name=f"const_{nm}",
                                          value=numpy_helper.from_array(np.array(v, dtype=np.float32))))
    while args and args[-1] == "":
        args.pop()
    nodes = nodes[1:] + nodes[:1]     # constants first (any topological order works)
    nodes.append(helper.make_node("Clip", args, ["y"], name="clip"))
    m = make(nodes, inits, (3,))
    net = check(m, (3,), scale=2.0)
    if want is not None:
        assert net.node("clip").op.act.name == want


def test_clip_attribute_form_reads_like_the_input_form():
    """The old Clip form (bounds as attributes) is read; onnxruntime runs the same clip written with inputs."""
    def model(attr):
        clip = (helper.make_node("Clip", ["z"], ["y"], name="clip", min=-0.5, max=0.75) if attr else
                helper.make_node("Clip", ["z", "lo", "hi"], ["y"], name="clip"))
        return make([helper.make_node("Gemm", ["x", "w"], ["z"], name="fc", transB=1), clip],
                    [W("w", rnd(14, 4, 3, s=2.0)), W("lo", np.float32(-0.5)), W("hi", np.float32(0.75))], (3,))
    a, b = load_onnx(model(True)), check(model(False), (3,))
    assert a.node("clip").op.act == b.node("clip").op.act == get_activation("clip(-1/2,3/4)")


def test_float32_attributes_are_read_exactly():
    m = make([helper.make_node("LeakyRelu", ["x"], ["y"], name="act", alpha=0.1)], [], (2,))
    act = load_onnx(m).node("act").op.act
    from fractions import Fraction
    assert act.name == f"leaky_relu({Fraction(float(np.float32(0.1)))})"


# ------------------------------------------------------------------------------------------ shapes

def test_flatten_and_reshape_with_zero_and_minus_one():
    m = make([helper.make_node("Relu", ["x"], ["r"], name="act"),
              helper.make_node("Reshape", ["r", "s1"], ["a"], name="rs1"),      # (0, -1, 3)   → (4, 3)
              helper.make_node("Reshape", ["a", "s2"], ["b"], name="rs2"),      # (-1, 2, 6)   → (2, 6)
              helper.make_node("Flatten", ["b"], ["c"], name="flat"),
              helper.make_node("Gemm", ["c", "w"], ["y"], name="fc", transB=1)],
             [I64("s1", [0, -1, 3]), I64("s2", [-1, 2, 6]), W("w", rnd(15, 2, 12))], (3, 2, 2))
    net = check(m, (3, 2, 2))
    assert net.node("rs1").shape == (4, 3) and net.node("rs2").shape == (2, 6) and net.node("flat").shape == (12,)


def test_reshape_with_a_fixed_batch_size():
    m = make([helper.make_node("Reshape", ["x", "s"], ["y"], name="rs")], [I64("s", [5, 6])], (2, 3), batch=5)
    net = load_onnx(m)
    assert net.node("rs").shape == (6,)
    X = np.random.default_rng(0).normal(size=(5, 2, 3)).astype(np.float32)
    np.testing.assert_array_equal(forward(net, X.astype(float)), ort_run(m, X))


def test_reshape_that_moves_the_batch_axis_is_refused():
    m = make([helper.make_node("Reshape", ["x", "s"], ["y"], name="rs")], [I64("s", [-1])], (2, 3))
    with pytest.raises(NetworkFormatError) as e:
        load_onnx(m, source="m.onnx")
    assert str(e.value) == ("m.onnx: node 'rs' (Reshape): shape [-1] would move the batch axis (the first axis must "
                            f"stay the batch; samples of shape (2, 3)); supported ops: {SUPPORTED}")


def test_flatten_other_axis_is_refused():
    m = make([helper.make_node("Flatten", ["x"], ["y"], name="fl", axis=2)], [], (2, 3, 3))
    with pytest.raises(NetworkFormatError, match=r"node 'fl' \(Flatten\): axis=2 is not supported"):
        load_onnx(m)


# ------------------------------------------------------------------------------------------ batch norm, pools

def test_batch_norm_on_images_and_vectors():
    C = 3
    bn = [W("g", rnd(16, C) + 1), W("be", rnd(17, C)), W("mu", rnd(18, C)), W("var", np.abs(rnd(19, C)) + 0.1)]
    m = make([helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]),
              helper.make_node("BatchNormalization", ["c", "g", "be", "mu", "var"], ["n"], name="bn", epsilon=1e-3),
              helper.make_node("Relu", ["n"], ["r"], name="act"),
              helper.make_node("GlobalAveragePool", ["r"], ["p"], name="gap"),
              helper.make_node("Flatten", ["p"], ["f"], name="flat"),
              helper.make_node("BatchNormalization", ["f", "g2", "be2", "mu2", "var2"], ["y"], name="bn2")],
             [W("w", rnd(20, C, 2, 3, 3))] + bn + [W("g2", rnd(21, C)), W("be2", rnd(22, C)), W("mu2", rnd(23, C)),
                                                  W("var2", np.abs(rnd(24, C)) + 0.5)], (2, 5, 5))
    net = check(m, (2, 5, 5))
    op = net.node("bn").op
    g, be, mu, var = (numpy_helper.to_array(t).astype(np.float64) for t in bn)
    scale = g / np.sqrt(var + float(np.float32(1e-3)))
    np.testing.assert_array_equal(op.scale, scale)
    np.testing.assert_array_equal(op.shift, be - mu * scale)


POOLS = [
    dict(op="AveragePool", kernel_shape=[2, 2], strides=[2, 2]),
    dict(op="AveragePool", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
    dict(op="AveragePool", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], count_include_pad=1),
    dict(op="AveragePool", kernel_shape=[2, 3], strides=[1, 2], pads=[0, 1, 1, 0]),
    dict(op="AveragePool", kernel_shape=[3, 3], auto_pad="SAME_UPPER"),
    dict(op="MaxPool", kernel_shape=[2, 2], strides=[2, 2]),
    dict(op="MaxPool", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
    dict(op="MaxPool", kernel_shape=[2, 2], strides=[1, 1], dilations=[2, 2]),
    dict(op="MaxPool", kernel_shape=[3, 2], strides=[2, 1], pads=[1, 0, 1, 1], dilations=[1, 2]),
    dict(op="MaxPool", kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_LOWER"),
]


@pytest.mark.parametrize("case", POOLS, ids=lambda c: str(c))
def test_pools(case):
    case = dict(case)
    op = case.pop("op")
    m = make([helper.make_node(op, ["x"], ["y"], name="pool", **case)], [], (2, 7, 6))
    check(m, (2, 7, 6))


def test_global_average_pool():
    check(make([helper.make_node("GlobalAveragePool", ["x"], ["y"], name="gap")], [], (3, 4, 5)), (3, 4, 5))


def test_ceil_mode_is_refused_when_it_changes_the_output():
    ok = make([helper.make_node("MaxPool", ["x"], ["y"], name="p", kernel_shape=[2, 2], strides=[2, 2],
                                ceil_mode=1)], [], (1, 6, 6))
    check(ok, (1, 6, 6))
    bad = make([helper.make_node("AveragePool", ["x"], ["y"], name="p", kernel_shape=[2, 2], strides=[2, 2],
                                 ceil_mode=1)], [], (1, 7, 7))
    with pytest.raises(NetworkFormatError) as e:
        load_onnx(bad, source="m.onnx")
    assert str(e.value) == ("m.onnx: node 'p' (AveragePool): ceil_mode=1 is not supported (here it changes the "
                            f"output size; export with ceil_mode=0); supported ops: {SUPPORTED}")


def test_maxpool_with_used_indices_is_refused():
    m = make([helper.make_node("MaxPool", ["x"], ["y", "idx"], name="p", kernel_shape=[2, 2])], [], (1, 4, 4),
             extra_outputs=["idx"])
    with pytest.raises(NetworkFormatError, match="2 outputs"):
        load_onnx(m)
    m = make([helper.make_node("MaxPool", ["x"], ["p", "idx"], name="p", kernel_shape=[2, 2]),
              helper.make_node("Add", ["p", "idx"], ["y"], name="a")], [], (1, 4, 4))
    with pytest.raises(NetworkFormatError) as e:
        load_onnx(m, source="m.onnx")
    assert str(e.value) == ("m.onnx: node 'p' (MaxPool): several outputs: its output 'idx' is used; symft reads "
                            f"the first only; supported ops: {SUPPORTED}")


# ------------------------------------------------------------------------------------------ residual, identity, dropout, softmax

def residual_model(opset=17):
    return make([helper.make_node("Gemm", ["x", "w1", "b1"], ["z1"], name="fc1", transB=1),
                 helper.make_node("Relu", ["z1"], ["h1"], name="h1"),
                 helper.make_node("Gemm", ["h1", "w2", "b2"], ["z2"], name="fc2", transB=1),
                 helper.make_node("Relu", ["z2"], ["h2"], name="h2"),
                 helper.make_node("Add", ["h1", "h2"], ["s"], name="res"),
                 helper.make_node("Gemm", ["s", "w3", "b3"], ["y"], name="out", transB=1)],
                [W("w1", rnd(30, 6, 4, s=0.8)), W("b1", rnd(31, 6, s=0.2)), W("w2", rnd(32, 6, 6, s=0.6)),
                 W("b2", rnd(33, 6, s=0.2)), W("w3", rnd(34, 2, 6, s=0.6)), W("b3", rnd(35, 2, s=0.2))], (4,), opset)


def test_residual_add():
    net = check(residual_model(), (4,))
    assert net.sites == ("x", "h1", "h2", "out") and net.node("res").inputs == ("h1", "h2")


@pytest.mark.parametrize("opset", [11, 12, 21])
def test_identity_and_dropout(opset):
    drop = (helper.make_node("Dropout", ["z"], ["d"], name="drop", ratio=0.3) if opset < 12 else
            helper.make_node("Dropout", ["z", "ratio"], ["d"], name="drop"))
    m = make([helper.make_node("Gemm", ["x", "w"], ["z"], name="fc", transB=1), drop,
              helper.make_node("Identity", ["d"], ["y"], name="id")],
             [W("w", rnd(36, 3, 4))] + ([W("ratio", np.float32(0.3))] if opset >= 12 else []), (4,), opset)
    net = check(m, (4,))
    assert net.order == ("x", "fc", "drop", "id")


def test_dropout_in_training_mode_is_refused():
    m = make([helper.make_node("Dropout", ["x", "r", "t"], ["y"], name="drop")],
             [W("r", np.float32(0.5)), numpy_helper.from_array(np.array(True), "t")], (4,), 13)
    with pytest.raises(NetworkFormatError, match=r"node 'drop' \(Dropout\): training_mode=true is not supported"):
        load_onnx(m)


@pytest.mark.parametrize("op", ["Softmax", "LogSoftmax"])
@pytest.mark.parametrize("opset", [11, 21])
def test_final_softmax_is_dropped_with_a_note(op, opset):
    m = make([helper.make_node("Gemm", ["x", "w", "b"], ["z"], name="fc", transB=1),
              helper.make_node(op, ["z"], ["y"], name="sm")], [W("w", rnd(37, 5, 4)), W("b", rnd(38, 5))], (4,), opset)
    net = load_onnx(m)
    assert net.output == "fc"
    (note,) = net.metadata["notes"]
    assert "'sm' was dropped" in note and "class decisions are unchanged" in note
    X = np.random.default_rng(3).normal(size=(100, 4)).astype(np.float32)
    logits = forward(net, X.astype(float))
    probs = ort_run(m, X)
    np.testing.assert_array_equal(np.argmax(logits, axis=1), np.argmax(probs, axis=1))
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    mine = e / e.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(np.log(mine) if op == "LogSoftmax" else mine, probs, rtol=1e-5, atol=1e-6)


def test_softmax_in_the_middle_is_refused():
    m = make([helper.make_node("Softmax", ["x"], ["s"], name="sm"), helper.make_node("Relu", ["s"], ["y"], name="r")],
             [], (4,))
    with pytest.raises(NetworkFormatError) as e:
        load_onnx(m, source="m.onnx")
    assert str(e.value) == ("m.onnx: node 'sm' (Softmax): Softmax is read only as the last node (its output the "
                            f"model's output); supported ops: {SUPPORTED}")


# ------------------------------------------------------------------------------------------ a CNN at opsets 11 and 21

def cnn_model(opset):
    return make([
        helper.make_node("Conv", ["x", "k", "kb"], ["c"], name="conv", pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("Relu", ["c"], ["r"], name="relu1"),
        helper.make_node("MaxPool", ["r"], ["p"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p"], ["f"], name="flat"),
        helper.make_node("Gemm", ["f", "w1", "b1"], ["z"], name="fc1", transB=1),
        helper.make_node("Tanh", ["z"], ["t"], name="t"),
        helper.make_node("Gemm", ["t", "w2", "b2"], ["y"], name="out", transB=1),
    ], [W("k", rnd(40, 3, 1, 3, 3, s=0.7)), W("kb", rnd(41, 3, s=0.1)), W("w1", rnd(42, 4, 3, s=0.7)),
        W("b1", rnd(43, 4, s=0.1)), W("w2", rnd(44, 2, 4, s=0.7)), W("b2", rnd(45, 2, s=0.1))], (1, 4, 4), opset)


@pytest.mark.parametrize("opset", [11, 13, 17, 21])
def test_opsets(opset):
    net = check(cnn_model(opset), (1, 4, 4))
    assert net.sites == ("x", "relu1", "t", "out") and net.site_size("relu1") == 12
    assert net.metadata["opset"] == opset
    check(residual_model(opset), (4,))


@pytest.mark.parametrize("opset", [10, 22])
def test_other_opsets_are_refused(opset):
    with pytest.raises(NetworkFormatError) as e:
        load_onnx(make([helper.make_node("Relu", ["x"], ["y"], name="r")], [], (3,), opset), source="m.onnx")
    assert str(e.value) == (f"m.onnx: opset {opset} is not supported; symft reads opsets 11–21 "
                            "(re-export with an opset in that range)")


# ------------------------------------------------------------------------------------------ refusals

def test_unsupported_op_names_the_node_its_type_and_the_list():
    m = make([helper.make_node("Relu", ["x"], ["r"], name="act"), helper.make_node("Mul", ["r", "r"], ["y"], name="sq")],
             [], (3,))
    with pytest.raises(NetworkFormatError) as e:
        load_onnx(m, source="model.onnx")
    assert str(e.value) == f"model.onnx: node 'sq' (Mul): unsupported op; supported ops: {SUPPORTED}"
    assert "\n" not in str(e.value)


def test_unnamed_nodes_are_named_after_their_output():
    m = make([helper.make_node("Relu", ["x"], ["hidden"]), helper.make_node("Erf", ["hidden"], ["y"])], [], (3,))
    with pytest.raises(NetworkFormatError) as e:
        load_onnx(m, source="m.onnx")
    assert str(e.value) == f"m.onnx: node 'y' (Erf): unsupported op; supported ops: {SUPPORTED}"
    net = load_onnx(make([helper.make_node("Relu", ["x"], ["hidden"]), helper.make_node("Tanh", ["hidden"], ["y"])],
                         [], (3,)))
    assert net.sites == ("x", "hidden", "y")


def test_unsupported_attribute():
    m = make([helper.make_node("Gemm", ["x", "w"], ["y"], name="fc", transB=1, broadcast=1)], [W("w", rnd(1, 2, 3))],
             (3,))
    with pytest.raises(NetworkFormatError) as e:
        load_onnx(m, source="m.onnx")
    assert str(e.value) == f"m.onnx: node 'fc' (Gemm): attribute 'broadcast' is not supported; supported ops: {SUPPORTED}"


def test_other_domain():
    m = make([helper.make_node("FusedGemm", ["x", "w"], ["y"], name="fg", domain="com.microsoft")],
             [W("w", rnd(1, 2, 3))], (3,))
    m.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    with pytest.raises(NetworkFormatError) as e:
        load_onnx(m, source="m.onnx")
    assert str(e.value) == (f"m.onnx: node 'fg' (FusedGemm): op of domain 'com.microsoft' is not supported; "
                            f"supported ops: {SUPPORTED}")


def test_dynamic_shape_several_inputs_and_outputs():
    g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"], name="r")], "g",
                          [helper.make_tensor_value_info("x", F32, ["N", 3, "H"])],
                          [helper.make_tensor_value_info("y", F32, None)])
    with pytest.raises(NetworkFormatError) as e:
        load_onnx(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), source="m.onnx")
    assert str(e.value) == ("m.onnx: input 'x': dimension 2 ('H') is dynamic; symft needs a static shape except "
                            "for the batch axis (the first)")
    g = helper.make_graph([helper.make_node("Add", ["x", "x2"], ["y"], name="a")], "g",
                          [helper.make_tensor_value_info("x", F32, ["N", 3]),
                           helper.make_tensor_value_info("x2", F32, ["N", 3])],
                          [helper.make_tensor_value_info("y", F32, None)])
    with pytest.raises(NetworkFormatError) as e:
        load_onnx(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), source="m.onnx")
    assert str(e.value) == ("m.onnx: the model has 2 inputs (x, x2); symft reads models with one input and one output")
    m = make([helper.make_node("Relu", ["x"], ["y"], name="r"), helper.make_node("Tanh", ["x"], ["y2"], name="t")],
             [], (3,), extra_outputs=["y2"])
    with pytest.raises(NetworkFormatError, match="the model has 2 outputs"):
        load_onnx(m)


# ------------------------------------------------------------------------------------------ files

def test_load_network_detects_onnx_by_content(tmp_path):
    m = cnn_model(17)
    for name in ("model.onnx", "model.bin", "model"):
        p = tmp_path / name
        onnx.save(m, str(p))
        net = load_network(p)
        assert net.sites == ("x", "relu1", "t", "out")
    assert looks_like_onnx(m.SerializeToString()) and not looks_like_onnx((DATA / "small_cnn.json").read_bytes())
    # a JSON network named .onnx is still read as JSON
    j = tmp_path / "json.onnx"
    j.write_bytes((DATA / "small_cnn.json").read_bytes())
    assert load_network(j).order == load_network(DATA / "small_cnn.json").order


def test_torch_files_point_to_from_torch(tmp_path):
    for name, data in (("m.pt", b"PK\x03\x04rest"), ("m.pth", b"\x80\x02}q\x00."), ("weights", b"PK\x03\x04...")):
        p = tmp_path / name
        p.write_bytes(data)
        with pytest.raises(NetworkFormatError) as e:
            load_network(p)
        assert str(e.value) == (f"{p}: a PyTorch file cannot be read without its model class; load the module in "
                                "Python and call symft.from_torch(module, example_input)")


def test_garbage_onnx_is_one_line(tmp_path):
    p = tmp_path / "bad.onnx"
    p.write_bytes(bytes([0x08, 0x08, 0x3a, 0x05, 0xff, 0xff]))
    with pytest.raises(NetworkFormatError) as e:
        load_network(p)
    assert str(e.value).startswith(f"{p}: not a readable ONNX model (") and "\n" not in str(e.value)


def test_import_symft_imports_neither_onnx_nor_torch():
    code = ("import sys, symft; symft.load_network; symft.save_onnx; symft.from_torch;"
            "print('onnx' in sys.modules, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_missing_onnx_package_is_one_line():
    code = ("import sys; sys.modules['onnx'] = None\n"
            "import symft\n"
            "try:\n    symft.load_onnx('x.onnx')\n"
            "except ImportError as e:\n    print(type(e).__name__, '|', e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "MissingDependency | reading or writing ONNX needs the onnx package: pip install symft[onnx]"


# ------------------------------------------------------------------------------------------ writing

def test_reference_graphs_run_in_onnxruntime(tmp_path):
    for name, shape in (("small_cnn.json", (1, 5, 5)), ("residual_mlp.json", (4,))):
        net = load_network(DATA / name)
        p = tmp_path / "m.onnx"
        save_onnx(net, p)
        m = onnx.load(str(p))
        X = np.random.default_rng(4).normal(size=(50,) + shape)
        # the float32 model is the network with weights rounded to float32
        back = load_network(p)
        assert back.sites == net.sites and back.order == net.order
        np.testing.assert_allclose(forward(back, X), ort_run(m, X.astype(np.float32)).reshape(50, -1),
                                   rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(forward(back, X), forward(net, X), rtol=1e-5, atol=1e-5)


def test_float64_export_keeps_the_weights():
    net = random_network([5, 7, 3], seed=3, activation="relu")
    m = to_onnx(net, "float64")
    X = np.random.default_rng(5).normal(size=(20, 5))
    np.testing.assert_allclose(ort_run(m, X), forward(net, X), rtol=1e-14, atol=1e-14)
    back = load_onnx(m)
    np.testing.assert_array_equal(back.node("z1").op.weight, net.node("z1").op.weight)
    np.testing.assert_array_equal(forward(back, X), forward(net, X))


@pytest.mark.parametrize("act", ["ramp", "step", "4*sigmoid", "1/2*relu", "hardtanh", "relu6", "clip(-2,1/2)",
                                 "leaky_relu(1/4)", "leaky_relu(3/2)", "elu(1/2)", "hardsigmoid(1/4,1/2)", "softplus",
                                 "linear"])
def test_activations_are_written_exactly(act):
    net = Network([("x", Input((4,)), ()), ("fc", Dense(np.eye(4) * 3.0, np.array([0.25, -0.5, 0.0, 1.0])), ("x",)),
                   ("a", ActivationOp(act), ("fc",))], sites=["x", "a"])
    X = np.random.default_rng(6).normal(size=(64, 4)).astype(np.float32).astype(np.float64)
    m = to_onnx(net)
    want, got = ort_run(m, X.astype(np.float32)), forward(net, X)
    assert np.all(np.abs(got - want).max(axis=1) <= 1e-6 * np.abs(want).max(axis=1))
    if act in ("hardtanh", "relu6", "clip(-2,1/2)", "leaky_relu(1/4)", "leaky_relu(3/2)", "elu(1/2)",
               "hardsigmoid(1/4,1/2)", "softplus"):    # written as one ONNX activation op: read back as itself
        assert load_onnx(m).node("a").op.act == net.node("a").op.act


def test_activations_onnx_cannot_hold_are_refused_or_written_with_basic_ops():
    def net_with(act):
        return Network([("x", Input((3,)), ()), ("a", ActivationOp(act), ("x",))])

    with pytest.raises(InvalidArgument) as e:
        to_onnx(net_with("clip(1/3,1)"))
    assert str(e.value) == ("ONNX export: node 'a' (activation): the lower bound 1/3 is not a float32 number, "
                            "so ONNX cannot hold it exactly")
    with pytest.raises(InvalidArgument, match="elu's alpha 1/10 is not a float32 number"):
        to_onnx(net_with("elu(1/10)"))
    import sympy as sp
    from symft.graph.activations import custom_activation
    s = sp.Symbol("s")
    with pytest.raises(InvalidArgument, match="custom activation 'softsign' has no ONNX equivalent"):
        to_onnx(net_with(custom_activation(sp.Lambda(s, s / (1 + sp.Abs(s))), name="softsign")))
    # a slope that is a double but not a float32: Max(x, a·x) in a float64 model
    slope = "1073741825/1099511627776"        # 1/1024 + 1/2^40: a double, not a float32
    m = to_onnx(net_with(f"leaky_relu({slope})"), "float64")
    assert [n.op_type for n in m.graph.node] == ["Mul", "Max"]
    X = np.random.default_rng(7).normal(size=(30, 3))
    np.testing.assert_array_equal(ort_run(m, X), forward(net_with(f"leaky_relu({slope})"), X))


def test_json_round_trip_through_onnx_keeps_metadata_and_sites(tmp_path):
    net = load_network(DATA / "residual_mlp.json")
    p = tmp_path / "r.onnx"
    save_onnx(net, p, dtype="float64")
    back = load_network(p)
    assert back.sites == net.sites and back.metadata["description"] == net.metadata["description"]
    save_network(back, tmp_path / "r.json")
    assert load_network(tmp_path / "r.json").order == net.order


# ------------------------------------------------------------------------------------------ the example model

def test_example_digits_cnn_matches_onnxruntime():
    path = EXAMPLES / "digits_cnn.onnx"
    assert path.stat().st_size < 200_000
    net = load_network(path)
    m = onnx.load(str(path))
    X = np.random.default_rng(8).uniform(0, 1, size=(100,) + net.input_shape).astype(np.float32)
    want = ort_run(m, X).astype(np.float64)
    got = forward(net, X.astype(np.float64))
    assert np.all(np.abs(got - want).max(axis=1) <= 1e-5 * np.abs(want).max(axis=1))


# ------------------------------------------------------------------------------------------ exact moments vs brute force

def arrays(m):
    return {t.name: numpy_helper.to_array(t).astype(np.float64) for t in m.graph.initializer}


def cnn_brute(m, img, p, site_masks):
    """The CNN of ``cnn_model`` by NumPy slicing; the relu1 neurons in ``site_masks`` (P, 12) crash to 0."""
    A = arrays(m)
    xp = np.pad(img[0], 1)                                                    # (6, 6)
    conv = np.empty((3, 2, 2))
    for c in range(3):
        for i in range(2):
            for j in range(2):
                conv[c, i, j] = (A["k"][c, 0] * xp[2 * i:2 * i + 3, 2 * j:2 * j + 3]).sum() + A["kb"][c]
    r = np.maximum(conv, 0.0)
    R = np.where(site_masks.reshape(-1, 3, 2, 2), 0.0, r[None])
    pooled = R.reshape(len(R), 3, 4).max(axis=2)                              # 2×2 windows, stride 2: one each
    t = np.tanh(pooled @ A["w1"].T + A["b1"])
    return t @ A["w2"].T + A["b2"]


def moments(Y, clean, masks, p):
    k = masks.sum(axis=1)
    w = p ** k * (1 - p) ** (masks.shape[1] - k)
    D = Y - clean
    mean = w @ D
    return mean, w @ (D * D) - mean ** 2


def test_imported_cnn_exact_moments_match_brute_force():
    m = cnn_model(17)
    net = load_onnx(m)
    img = np.random.default_rng(9).normal(size=(1, 4, 4))
    p = 0.1
    masks = ((np.arange(2 ** 12)[:, None] >> np.arange(12)) & 1).astype(bool)
    Y = cnn_brute(m, img, p, masks)
    clean = cnn_brute(m, img, p, np.zeros((1, 12), bool))[0]
    mean, var = moments(Y, clean, masks, p)
    r = enumerate_crashes(net, img, NeuronCrash({"relu1": p}))
    np.testing.assert_allclose(r.mean, mean, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(r.var, var, rtol=1e-9, atol=1e-15)
    e = enclosure(net, img.reshape(-1), NeuronCrash({"relu1": p}), order=2)
    assert np.all(e.mean_lo <= mean) and np.all(mean <= e.mean_hi)
    assert np.all(e.var_lo <= var) and np.all(var <= e.var_hi)


def test_imported_residual_exact_moments_match_brute_force():
    m = residual_model()
    net = load_onnx(m)
    A = arrays(m)
    x = np.array([0.5, -1.0, 0.75, 0.125])
    p1, p2 = 0.1, 0.2
    idx = np.arange(2 ** 12)
    masks = ((idx[:, None] >> np.arange(12)) & 1).astype(bool)
    m1, m2 = masks[:, :6], masks[:, 6:]
    h1 = np.maximum(A["w1"] @ x + A["b1"], 0.0)
    H1 = np.where(m1, 0.0, h1)
    H2 = np.where(m2, 0.0, np.maximum(H1 @ A["w2"].T + A["b2"], 0.0))
    Y = (H1 + H2) @ A["w3"].T + A["b3"]
    h2 = np.maximum(A["w2"] @ h1 + A["b2"], 0.0)
    clean = (h1 + h2) @ A["w3"].T + A["b3"]
    w = (p1 ** m1.sum(1) * (1 - p1) ** (6 - m1.sum(1))) * (p2 ** m2.sum(1) * (1 - p2) ** (6 - m2.sum(1)))
    D = Y - clean
    mean = w @ D
    var = w @ (D * D) - mean ** 2
    r = enumerate_crashes(net, x, NeuronCrash({"h1": p1, "h2": p2}))
    np.testing.assert_allclose(r.mean, mean, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(r.var, var, rtol=1e-9, atol=1e-15)
    e = enclosure(net, x, NeuronCrash({"h1": p1, "h2": p2}), order=3)
    assert np.all(e.mean_lo <= mean) and np.all(mean <= e.mean_hi)
    assert np.all(e.var_lo <= var) and np.all(var <= e.var_hi)


# ------------------------------------------------------------------------------------------ speed

def big_model(hidden=160):
    """conv 3→32 (3×3) → relu → flatten → dense 6272 → 160 → relu → dense 10: 1,005,466 parameters."""
    C, H = 32, 14
    feat = C * H * H
    return make([helper.make_node("Conv", ["x", "k", "kb"], ["c"], name="conv", pads=[1, 1, 1, 1]),
                 helper.make_node("Relu", ["c"], ["r"], name="r"),
                 helper.make_node("Flatten", ["r"], ["f"], name="flat"),
                 helper.make_node("Gemm", ["f", "w1", "b1"], ["z"], name="fc1", transB=1),
                 helper.make_node("Relu", ["z"], ["h"], name="h"),
                 helper.make_node("Gemm", ["h", "w2", "b2"], ["y"], name="out", transB=1)],
                [W("k", rnd(50, C, 3, 3, 3)), W("kb", rnd(51, C)), W("w1", rnd(52, hidden, feat, s=0.01)),
                 W("b1", rnd(53, hidden)), W("w2", rnd(54, 10, hidden)), W("b2", rnd(55, 10))], (3, H, H))


@pytest.mark.slow
def test_import_of_a_million_parameters_takes_under_two_seconds(tmp_path):
    p = tmp_path / "big.onnx"
    onnx.save(big_model(), str(p))
    t0 = time.perf_counter()
    net = load_network(p)
    dt = time.perf_counter() - t0
    assert net.n_params >= 1_000_000
    assert dt < 2.0, dt
