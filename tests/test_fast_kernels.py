"""The fast float kernels of convolution, pooling and the clean forward pass, against loops written here.

The references below are plain NumPy loops over output positions and kernel taps (zero or -inf padding
built by hand); nothing here calls symft's kernels to compute an expected value.  float32 passes
(approximate by design) are compared with float64 ones to 1e-5 of the output magnitude.
"""

import itertools

import numpy as np
import pytest

from symft.engines.forward import forward, forward_trace
from symft.errors import InvalidArgument
from symft.graph.activations import get_activation
from symft.graph.network import Network
from symft.graph.numbers import float_array
from symft.graph.ops import (ActivationOp, Add, AvgPool2d, BatchNorm, Conv2d, Dense, Flatten, Input, MaxPool2d)
from symft.walk.numeric import Numeric


# ---------------------------------------------------------------- references (loops)
def pad_hw(x, t, l, b, r, fill):
    """x (B, C, H, W) padded by hand."""
    B, C, H, W = x.shape
    out = np.full((B, C, H + t + b, W + l + r), fill, dtype=np.float64)
    out[:, :, t:t + H, l:l + W] = x
    return out


def ref_conv(x, Wt, bias, stride, pad, dil, groups):
    B, C, H, W = x.shape
    Co, Cg, KH, KW = Wt.shape
    t, l, b, r = pad
    xp = pad_hw(x, t, l, b, r, 0.0)
    OH = (H + t + b - dil[0] * (KH - 1) - 1) // stride[0] + 1
    OW = (W + l + r - dil[1] * (KW - 1) - 1) // stride[1] + 1
    out = np.zeros((B, Co, OH, OW))
    per = Co // groups
    for co in range(Co):
        g = co // per
        for oh in range(OH):
            for ow in range(OW):
                acc = np.zeros(B)
                for c in range(Cg):
                    for i in range(KH):
                        for j in range(KW):
                            acc += Wt[co, c, i, j] * xp[:, g * Cg + c, oh * stride[0] + i * dil[0],
                                                         ow * stride[1] + j * dil[1]]
                out[:, co, oh, ow] = acc + (bias[co] if bias is not None else 0.0)
    return out


def ref_pool(x, kernel, stride, pad, dil, how, count_include_pad=False):
    B, C, H, W = x.shape
    t, l, b, r = pad
    KH, KW = kernel
    OH = (H + t + b - dil[0] * (KH - 1) - 1) // stride[0] + 1
    OW = (W + l + r - dil[1] * (KW - 1) - 1) // stride[1] + 1
    out = np.zeros((B, C, OH, OW))
    for oh in range(OH):
        for ow in range(OW):
            vals = []
            for i in range(KH):
                for j in range(KW):
                    h, w = oh * stride[0] + i * dil[0] - t, ow * stride[1] + j * dil[1] - l
                    if 0 <= h < H and 0 <= w < W:
                        vals.append(x[:, :, h, w])
            v = np.stack(vals)
            if how == "max":
                out[:, :, oh, ow] = v.max(axis=0)
            else:
                out[:, :, oh, ow] = v.sum(axis=0) / (KH * KW if count_include_pad else len(vals))
    return out


POOLS = [((2, 2), (2, 2), (0, 0, 0, 0), (1, 1)), ((3, 3), (2, 2), (1, 1, 1, 1), (1, 1)),
         ((3, 2), (1, 2), (1, 0, 2, 1), (1, 1)), ((2, 3), (3, 1), (0, 1, 1, 0), (2, 1)),
         ((1, 1), (2, 2), (0, 0, 0, 0), (1, 1)), ((2, 1), (1, 1), (0, 0, 0, 0), (1, 1)),
         ((1, 3), (1, 1), (0, 2, 0, 2), (1, 2))]
SHAPES = [(1, 5, 5), (2, 7, 6), (3, 4, 9)]
LEADS = [(), (1,), (3,), (2, 2)]


def with_lead(rng, lead, shape):
    return rng.normal(size=lead + shape) * 10.0 ** rng.integers(-3, 4, size=lead + shape)


def as4(x, shape):
    return x.reshape((-1,) + shape)


# ---------------------------------------------------------------- pooling
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_max_pooling_equals_loops(dtype):
    rng = np.random.default_rng(0)
    for (kernel, stride, pad, dil), shape, lead in itertools.product(POOLS, SHAPES, LEADS):
        if pad[0] >= kernel[0] or pad[2] >= kernel[0] or pad[1] >= kernel[1] or pad[3] >= kernel[1]:
            continue
        try:
            op = MaxPool2d(kernel, stride, pad, dil)
            out_shape = op.out_shape([shape])
        except Exception:
            continue
        x = with_lead(rng, lead, shape).astype(dtype)
        got = op.apply(x, shape)
        want = ref_pool(as4(x.astype(np.float64), shape), kernel, stride, pad, dil, "max")
        assert got.dtype == dtype and got.shape == lead + out_shape
        np.testing.assert_array_equal(as4(got, out_shape), want.astype(dtype))      # a max is exact


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_average_pooling_equals_loops(dtype):
    rng = np.random.default_rng(1)
    tol = 1e-14 if dtype == np.float64 else 3e-6
    for (kernel, stride, pad, _), shape, lead, cip in itertools.product(POOLS, SHAPES, LEADS, [False, True]):
        try:
            op = AvgPool2d(kernel, stride, pad, count_include_pad=cip)
            out_shape = op.out_shape([shape])
        except Exception:
            continue
        x = with_lead(rng, lead, shape).astype(dtype)
        got = op.apply([x], op.params(), [shape])
        want = ref_pool(as4(x.astype(np.float64), shape), kernel, stride, pad, (1, 1), "avg", cip)
        assert got.dtype == dtype and got.shape == lead + out_shape
        scale = ref_pool(np.abs(as4(x.astype(np.float64), shape)), kernel, stride, pad, (1, 1), "avg", cip)
        assert (np.abs(as4(got, out_shape) - want) <= tol * scale + 1e-300).all()


def test_global_average_pooling_equals_loops():
    rng = np.random.default_rng(2)
    for shape in [(3, 5, 5), (2, 6, 4)]:
        op = AvgPool2d(shape[1:], shape[1:])
        x = with_lead(rng, (4,), shape)
        got = op.apply([x], op.params(), [shape])
        want = ref_pool(x, shape[1:], shape[1:], (0, 0, 0, 0), (1, 1), "avg")
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-14 * np.abs(x).max())


# ---------------------------------------------------------------- convolution
CONVS = [dict(stride=(1, 1), padding=(1, 1, 1, 1), dilation=(1, 1), groups=1),
         dict(stride=(2, 1), padding=(0, 1, 2, 0), dilation=(1, 1), groups=1),
         dict(stride=(1, 2), padding=(2, 2, 2, 2), dilation=(2, 1), groups=2),
         dict(stride=(3, 3), padding=(1, 0, 1, 0), dilation=(1, 2), groups=4),
         dict(stride=(1, 1), padding=(0, 0, 0, 0), dilation=(1, 1), groups=4)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_convolution_equals_loops(dtype):
    rng = np.random.default_rng(3)
    for kw, (KH, KW), (H, W), B in itertools.product(CONVS, [(3, 3), (2, 1), (1, 3)], [(7, 6), (5, 9)], [1, 3]):
        C, Co = 4, 8
        g = kw["groups"]
        Wt = rng.normal(size=(Co, C // g, KH, KW))
        b = rng.normal(size=Co)
        op = Conv2d(float_array(Wt), float_array(b), **kw)
        try:
            out_shape = op.out_shape([(C, H, W)])
        except Exception:
            continue
        x = rng.normal(size=(B, C, H, W))
        P = op.params()
        if dtype == np.float32:
            P = {k: v.astype(np.float32) for k, v in P.items()}
        got = op.apply([x.astype(dtype)], P, [(C, H, W)])
        # the reference on the very numbers the kernel sees (float32-rounded for a float32 pass)
        want = ref_conv(x.astype(dtype).astype(np.float64), P["weight"].astype(np.float64),
                        P["bias"].astype(np.float64), kw["stride"], kw["padding"], kw["dilation"], g)
        mag = ref_conv(np.abs(x), np.abs(Wt), np.abs(b), kw["stride"], kw["padding"], kw["dilation"], g)
        assert got.dtype == dtype and got.shape == (B,) + out_shape
        tol = 1e-14 if dtype == np.float64 else 2e-6
        assert (np.abs(got - want) <= tol * mag).all()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_convolution_with_dilation_on_whole_rows(dtype):
    """Stride 1 along the width, uneven padding, dilation and groups."""
    rng = np.random.default_rng(14)
    for stride, pad, dil, groups, (KH, KW) in [((2, 1), (1, 1, 0, 1), (2, 2), 2, (2, 2)),
                                                ((1, 1), (0, 2, 1, 0), (1, 2), 1, (3, 2)),
                                                ((3, 1), (2, 0, 2, 1), (3, 1), 4, (2, 3))]:
        C, Co, H, W = 4, 8, 9, 13
        Wt, b = rng.normal(size=(Co, C // groups, KH, KW)), rng.normal(size=Co)
        op = Conv2d(float_array(Wt), float_array(b), stride=stride, padding=pad, dilation=dil, groups=groups)
        x = rng.normal(size=(2, C, H, W))
        P = {k: v.astype(dtype) for k, v in op.params().items()}
        got = op.apply([x.astype(dtype)], P, [(C, H, W)])
        want = ref_conv(x.astype(dtype).astype(np.float64), P["weight"].astype(np.float64),
                        P["bias"].astype(np.float64), stride, pad, dil, groups)
        mag = ref_conv(np.abs(x), np.abs(Wt), np.abs(b), stride, pad, dil, groups)
        assert got.dtype == dtype and got.shape == want.shape
        assert (np.abs(got - want) <= (1e-14 if dtype == np.float64 else 2e-6) * mag).all()


def test_convolution_of_a_batch_equals_each_sample():
    """Each sample's float64 result does not depend on the batch it is in (one product per sample)."""
    rng = np.random.default_rng(4)
    op = Conv2d(float_array(rng.normal(size=(6, 3, 3, 3))), float_array(rng.normal(size=6)), padding=1)
    x = rng.normal(size=(300, 3, 12, 12))           # more than one chunk of columns
    whole = op.apply([x], op.params(), [(3, 12, 12)])
    for i in [0, 137, 299]:
        np.testing.assert_array_equal(whole[i], op.apply([x[i:i + 1]], op.params(), [(3, 12, 12)])[0])


# ---------------------------------------------------------------- whole networks
def cnn(seed, act="relu"):
    """conv → relu → (conv grouped → batch norm → act) + relu output → max pool → avg pool → dense."""
    rng = np.random.default_rng(seed)
    C = 4
    p = {"k1": rng.normal(size=(C, 2, 3, 3)) * 0.5, "b1": rng.normal(size=C),
         "k2": rng.normal(size=(C, 2, 3, 3)) * 0.5, "sc": rng.normal(size=C) + 1, "sh": rng.normal(size=C),
         "w": rng.normal(size=(3, C * 3 * 3)), "b": rng.normal(size=3)}
    nodes = [("x", Input((2, 9, 9)), ()),
             ("c1", Conv2d(float_array(p["k1"]), float_array(p["b1"]), padding=1), ("x",)),
             ("r1", ActivationOp("relu"), ("c1",)),
             ("c2", Conv2d(float_array(p["k2"]), None, padding=1, groups=2), ("r1",)),
             ("bn", BatchNorm(float_array(p["sc"]), float_array(p["sh"])), ("c2",)),
             ("a2", ActivationOp(act), ("bn",)),
             ("s", Add(), ("r1", "a2")),
             ("mp", MaxPool2d((3, 3), (2, 2), (1, 1, 1, 1)), ("s",)),
             ("ap", AvgPool2d((2, 2), (2, 2), (0, 0, 1, 1)), ("mp",)),
             ("f", Flatten(), ("ap",)),
             ("y", Dense(float_array(p["w"]), float_array(p["b"])), ("f",))]
    return Network(nodes), p


def ref_cnn(X, p, act):
    c1 = ref_conv(X, p["k1"], p["b1"], (1, 1), (1, 1, 1, 1), (1, 1), 1)
    r1 = np.maximum(c1, 0.0)
    c2 = ref_conv(r1, p["k2"], None, (1, 1), (1, 1, 1, 1), (1, 1), 2)
    bn = c2 * p["sc"][:, None, None] + p["sh"][:, None, None]
    s = r1 + act(bn)
    mp = ref_pool(s, (3, 3), (2, 2), (1, 1, 1, 1), (1, 1), "max")
    ap = ref_pool(mp, (2, 2), (2, 2), (0, 0, 1, 1), (1, 1), "avg")
    return ap.reshape(len(X), -1) @ p["w"].T + p["b"]


ACTS = {"relu": lambda z: np.maximum(z, 0.0), "tanh": np.tanh, "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
        "softplus": lambda z: np.log1p(np.exp(z))}


@pytest.mark.parametrize("act", sorted(ACTS))
def test_forward_equals_reference_and_trace(act):
    net, p = cnn(5, act)
    X = np.random.default_rng(6).uniform(-1, 1, size=(7, 2, 9, 9))
    y = forward(net, X)
    np.testing.assert_allclose(y, ref_cnn(X, p, ACTS[act]), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(y, forward_trace(net, X).output)     # the in-place pass: the same numbers
    np.testing.assert_allclose(forward(net, X[3]), y[3], rtol=1e-13, atol=1e-13)   # batch 1 (the dense product
    # of one vector is another BLAS routine: the last bits may differ)
    assert X.flags.writeable and np.isfinite(X).all()


@pytest.mark.parametrize("act", sorted(ACTS))
def test_float32_forward_within_1e5_of_float64(act):
    net, _ = cnn(7, act)
    X = np.random.default_rng(8).uniform(-1, 1, size=(20, 2, 9, 9))
    y64 = forward(net, X)
    y32 = forward(net, X, dtype=np.float32)
    assert y32.dtype == np.float32 and y32.shape == y64.shape
    assert np.abs(y32 - y64).max() <= 1e-5 * np.abs(y64).max()
    assert forward(net, X[0], dtype="float32").shape == y64[0].shape


def test_float32_forward_on_the_reference_graphs():
    from .reference_graphs import DATA, cnn_parts, residual_forward
    from symft.graph.netfile import load_network

    rng = np.random.default_rng(9)
    X = rng.uniform(-1, 1, size=(30, 25))
    net = load_network(str(DATA / "small_cnn.json"))
    want = cnn_parts(X)["y"]
    assert np.abs(forward(net, X, dtype=np.float32) - want).max() <= 1e-5 * np.abs(want).max()
    net = load_network(str(DATA / "residual_mlp.json"))
    X = rng.uniform(-1, 1, size=(30, 4))
    want = residual_forward(X)
    assert np.abs(forward(net, X, dtype=np.float32) - want).max() <= 1e-5 * np.abs(want).max()


def test_float32_forward_refuses_exact_and_other_types():
    """(float32 under a crash pattern is computed: tests/test_forward_dtype.py.)"""
    net, _ = cnn(10)
    x = np.zeros((2, 9, 9))
    with pytest.raises(InvalidArgument, match="dtype"):
        forward(net, x, dtype=np.int64)
    with pytest.raises(InvalidArgument, match="dtype"):
        forward(net, x, dtype="float16")
    with pytest.raises(InvalidArgument, match="dtype"):
        forward(net, x, exact=True, dtype=np.float32)


def test_relu_rule_gives_what_the_activation_gives():
    """The float64 relu rule (in place when allowed) gives act()'s numbers, -0 → +0 and non-finite entries too."""
    net, _ = cnn(11)
    node = net.node("r1")
    relu = get_activation("relu")
    for z in [np.array([[-0.0, 0.0, -1.5, 2.5, 1e-310, -1e-310]]), np.array([[1.0, -np.inf, np.inf, np.nan]]),
              np.random.default_rng(12).normal(size=(3, 50))]:
        with np.errstate(invalid="ignore"):           # act() on -inf: 0·(-inf)
            want = relu(z.copy())
        for in_place in (False, True):
            interp = Numeric(net)
            interp.overwrite = frozenset(["r1"] if in_place else [])
            zz = z.copy()
            with np.errstate(invalid="ignore"):
                got = interp.op_activation(node, [zz])
            np.testing.assert_array_equal(got, want)
            assert (np.signbit(got) == np.signbit(want)).all()
            assert (got is zz) == (in_place and np.isfinite(z).all())


CLIPS = {"relu": lambda z: np.maximum(z, 0.0), "relu6": lambda z: np.clip(z, 0.0, 6.0),
         "hardtanh": lambda z: np.clip(z, -1.0, 1.0), "tanh": np.tanh}


@pytest.mark.parametrize("act", sorted(CLIPS))
def test_activation_before_max_pooling(act):
    """conv → act → max pool (twice, the second pooling skips positions): forward applies a clipping activation
    after the pooling; the outputs equal the loops' and the trace's (which keeps every value) bit for bit."""
    rng = np.random.default_rng(13)
    k1, b1, k2 = rng.normal(size=(3, 2, 3, 3)) * 3, rng.normal(size=3), rng.normal(size=(4, 3, 2, 2)) * 3
    w = rng.normal(size=(2, 4 * 2 * 2))
    nodes = [("x", Input((2, 8, 7)), ()),
             ("c1", Conv2d(float_array(k1), float_array(b1), padding=1), ("x",)),
             ("a1", ActivationOp(act), ("c1",)),
             ("m1", MaxPool2d((3, 3), (2, 2), (1, 1, 1, 1)), ("a1",)),
             ("c2", Conv2d(float_array(k2), None), ("m1",)),
             ("a2", ActivationOp(act), ("c2",)),
             ("m2", MaxPool2d((1, 1), (2, 2)), ("a2",)),
             ("f", Flatten(), ("m2",)),
             ("y", Dense(float_array(w), None), ("f",))]
    net = Network(nodes)
    X = rng.uniform(-2, 2, size=(5, 2, 8, 7))
    f = CLIPS[act]
    m1 = ref_pool(f(ref_conv(X, k1, b1, (1, 1), (1, 1, 1, 1), (1, 1), 1)), (3, 3), (2, 2), (1, 1, 1, 1), (1, 1), "max")
    m2 = ref_pool(f(ref_conv(m1, k2, None, (1, 1), (0, 0, 0, 0), (1, 1), 1)), (1, 1), (2, 2), (0, 0, 0, 0), (1, 1),
                  "max")
    want = m2.reshape(5, -1) @ w.T
    y = forward(net, X)
    np.testing.assert_allclose(y, want, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(y, forward_trace(net, X).output)
    y32 = forward(net, X, dtype=np.float32)
    assert np.abs(y32 - y).max() <= 1e-5 * np.abs(y).max()


def test_float32_interpretation_rounds_its_input():
    from symft.walk.walker import walk

    net, p = cnn(15)
    X = np.random.default_rng(16).uniform(-1, 1, size=(4, 2, 9, 9))
    y = walk(net, Numeric(net, dtype=np.float32), X, keep=False)
    assert y.dtype == np.float32
    want = ref_cnn(X, p, ACTS["relu"])
    assert np.abs(y - want).max() <= 1e-5 * np.abs(want).max()
    with pytest.raises(InvalidArgument, match="dtype"):
        Numeric(net, dtype=np.int32)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_stride_one_convolution_on_padded_rows_equals_loops(dtype):
    """Stride-1 convolutions (computed on whole padded rows, the bias inside the product): uneven padding,
    dilation, groups, no bias, a 1×1 kernel, and batches of several chunks of columns, against the loops."""
    rng = np.random.default_rng(21)
    cases = [((3, 3), (1, 1, 1, 1), (1, 1), 1, True, (5, 12, 12), 40),
             ((3, 2), (0, 2, 1, 0), (1, 2), 1, True, (4, 9, 13), 3),
             ((2, 3), (2, 1, 0, 2), (2, 1), 2, False, (4, 8, 7), 5),
             ((1, 1), (0, 0, 0, 0), (1, 1), 4, True, (8, 6, 6), 2),
             ((3, 3), (0, 0, 0, 0), (1, 1), 1, True, (16, 16, 16), 70),     # 70 samples: several chunks
             ((3, 3), (1, 1, 1, 1), (1, 1), 1, True, (2, 5, 5), 0),          # an empty batch
             ((1, 1), (1, 1, 1, 1), (1, 1), 2, True, (4, 5, 9), 3),          # rows longer than W + padding
             ((2, 2), (2, 2, 0, 2), (1, 1), 1, False, (3, 4, 6), 4)]
    for (KH, KW), pad, dil, groups, has_bias, (C, H, W), B in cases:
        Co = 8
        Wt = rng.normal(size=(Co, C // groups, KH, KW))
        b = rng.normal(size=Co) if has_bias else None
        op = Conv2d(float_array(Wt), float_array(b) if has_bias else None, padding=pad, dilation=dil, groups=groups)
        x = rng.normal(size=(B, C, H, W))
        P = {k: (v.astype(dtype) if v is not None else None) for k, v in op.params().items()}
        got = op._apply_wide(x.astype(dtype), P, (C, H, W), (B,))     # whatever apply would pick
        bb = P["bias"].astype(np.float64) if has_bias else None
        want = ref_conv(x.astype(dtype).astype(np.float64), P["weight"].astype(np.float64), bb, (1, 1), pad, dil,
                        groups)
        mag = ref_conv(np.abs(x), np.abs(Wt), np.abs(b) if has_bias else None, (1, 1), pad, dil, groups)
        assert got.dtype == dtype and got.shape == want.shape and got.flags.c_contiguous
        assert (np.abs(got - want) <= (1e-14 if dtype == np.float64 else 2e-6) * mag).all()
        if dtype == np.float64 and B:  # a sample's numbers do not depend on the batch it is in
            np.testing.assert_array_equal(got[B - 1], op._apply_wide(x[B - 1:], P, (C, H, W), (1,))[0])


# ---------------------------------------------------------------- a convolution and the nodes after it, fused
FUSE_CONVS = [dict(stride=(1, 1), padding=(1, 1, 1, 1), dilation=(1, 1), groups=1),      # whole padded rows
              dict(stride=(1, 1), padding=(0, 2, 1, 0), dilation=(2, 1), groups=3),      # uneven, dilated, grouped
              dict(stride=(2, 1), padding=(1, 0, 2, 1), dilation=(1, 1), groups=1),      # the column kernel
              dict(stride=(1, 1), padding=(1, 1, 1, 1), dilation=(1, 2), groups=1)]      # too narrow for rows


def fuse_tails(rng, OH, OW):
    """(nodes after the convolution, the chain fused with it, their reference on a (B, 6, OH, OW) array)."""
    sc, sh = rng.normal(size=6) + 1, rng.normal(size=6)
    relu = ActivationOp("relu")
    return [
        ([("r", relu), ("p", MaxPool2d((2, 2)))], lambda z: ref_pool(np.maximum(z, 0), (2, 2), (2, 2),
                                                                       (0, 0, 0, 0), (1, 1), "max")),
        ([("r", relu), ("p", AvgPool2d((2, 2)))], lambda z: ref_pool(np.maximum(z, 0), (2, 2), (2, 2),
                                                                       (0, 0, 0, 0), (1, 1), "avg")),
        ([("n", BatchNorm(float_array(sc), float_array(sh))), ("t", ActivationOp("tanh")),
          ("p", MaxPool2d((3, 3), (2, 2), (1, 1, 1, 1)))],
         lambda z: ref_pool(np.tanh(z * sc[:, None, None] + sh[:, None, None]), (3, 3), (2, 2), (1, 1, 1, 1),
                            (1, 1), "max")),
        ([("r", relu), ("p", AvgPool2d((OH, OW)))],                                             # global pooling
         lambda z: ref_pool(np.maximum(z, 0), (OH, OW), (OH, OW), (0, 0, 0, 0), (1, 1), "avg")),
        ([("p", MaxPool2d((2, 2), (1, 1)))], lambda z: ref_pool(z, (2, 2), (1, 1), (0, 0, 0, 0), (1, 1), "max")),
        ([("s", ActivationOp("sigmoid"))], lambda z: 1 / (1 + np.exp(-z))),
        ([], lambda z: z),
    ]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("chunk", [None, 2 ** 12])
def test_convolution_fused_with_the_nodes_after_it(dtype, chunk, monkeypatch):
    """forward evaluates a convolution with its activations and pooling a chunk of samples at a time: the very
    numbers of the node-by-node pass in float64 (within 1e-6 in the approximate float32, whose matrix products
    may round differently with the chunk), with one chunk or many, and the loops' values."""
    import symft.graph.ops as ops_module
    from symft.walk.walker import walk

    if chunk:
        monkeypatch.setattr(ops_module, "_CHUNK_BYTES", chunk)
    used, wide, same_used, same = [], Conv2d._apply_wide, [], Conv2d._apply_same
    monkeypatch.setattr(Conv2d, "_apply_wide", lambda self, *a: used.append(1) or wide(self, *a))
    monkeypatch.setattr(Conv2d, "_apply_same", lambda self, *a: same_used.append(1) or same(self, *a))
    rng = np.random.default_rng(40)
    C, H, W, B = 3, 10, 16, 13
    for i, kw in enumerate(FUSE_CONVS):
        used.clear()
        same_used.clear()
        Wt, b = rng.normal(size=(6, C // kw["groups"], 3, 3)), rng.normal(size=6)
        conv = Conv2d(float_array(Wt), float_array(b), **kw)
        _, OH, OW = conv.out_shape([(C, H, W)])
        for tail, ref in fuse_tails(rng, OH, OW):
            nodes = [("x", Input((C, H, W)), ()), ("c", conv, ("x",))]
            prev = "c"
            for name, op in tail:
                nodes.append((name, op, (prev,)))
                prev = name
            nodes.append(("f", Flatten(), (prev,)))
            net = Network(nodes)
            assert Numeric(net).fuse_after_convolutions() == ({"c": tuple(n for n, _ in tail)} if tail else {})
            X = rng.normal(size=(B, C, H, W))
            got = forward(net, X, dtype=dtype)
            plain = walk(net, Numeric(net, dtype=dtype), X.astype(dtype), keep=False).reshape(B, -1)
            assert got.dtype == dtype
            if dtype == np.float64:
                np.testing.assert_array_equal(got, plain)
            else:   # float32 is approximate: the chunks (and so the matrix products) may differ in the last bits
                assert np.abs(got - plain).max() <= 1e-6 * np.abs(plain).max()
            want = ref(ref_conv(X, Wt, b, kw["stride"], kw["padding"], kw["dilation"], kw["groups"])).reshape(B, -1)
            tol = 1e-13 if dtype == np.float64 else 3e-6
            assert np.abs(got - want).max() <= tol * np.abs(want).max()
        # float32 takes its own kernel when the output grid is the input grid (the first case)
        assert bool(same_used) == (i == 0 and dtype == np.float32)
        assert bool(used) == (i < 2 and not same_used)


def test_fused_convolution_overflow_is_reported_like_the_plain_pass():
    """-inf after a convolution would vanish in relu → max pooling: the fused pass still names the node."""
    from symft.errors import FloatOverflowError
    from symft.walk.walker import walk

    conv = Conv2d(float_array(-1e300 * np.ones((2, 1, 3, 3))), None, padding=1)
    net = Network([("x", Input((1, 4, 4)), ()), ("c", conv, ("x",)), ("r", ActivationOp("relu"), ("c",)),
                   ("p", MaxPool2d((2, 2)), ("r",)), ("f", Flatten(), ("p",))])
    X = np.ones((3, 1, 4, 4))
    X[1, 0, 2, 2] = 1e10
    with pytest.raises(FloatOverflowError) as plain:
        walk(net, Numeric(net), X, keep=False)
    with pytest.raises(FloatOverflowError) as fused:
        forward(net, X)
    assert str(fused.value) == str(plain.value) and "inf" in str(fused.value)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_pointwise_convolution_equals_loops(dtype, monkeypatch):
    """1×1 kernels (the input is the matrix of columns): groups, with and without bias, leading axes, one chunk
    or many, alone and with a function of each chunk, against the loops."""
    import symft.graph.ops as ops_module

    rng = np.random.default_rng(41)
    for (C, Co, groups, has_bias, lead, chunk) in [(6, 4, 2, True, (5,), None), (3, 8, 1, False, (2, 3), 2 ** 10),
                                                   (4, 4, 4, True, (70,), 2 ** 12), (2, 3, 1, True, (0,), None)]:
        if chunk:
            monkeypatch.setattr(ops_module, "_CHUNK_BYTES", chunk)
        Wt = rng.normal(size=(Co, C // groups, 1, 1))
        b = rng.normal(size=Co) if has_bias else None
        op = Conv2d(float_array(Wt), float_array(b) if has_bias else None, groups=groups)
        x = rng.normal(size=lead + (C, 5, 7)).astype(dtype)
        P = {k: (v.astype(dtype) if v is not None else None) for k, v in op.params().items()}
        got = op.apply([x], P, [(C, 5, 7)])
        pooled = op.apply_then(x, P, (C, 5, 7), lambda z: np.maximum(z, 0).max(axis=(2, 3)))
        x4 = x.reshape((-1, C, 5, 7)).astype(np.float64)
        want = ref_conv(x4, P["weight"].astype(np.float64), P["bias"].astype(np.float64) if has_bias else None,
                        (1, 1), (0, 0, 0, 0), (1, 1), groups)
        mag = ref_conv(np.abs(x4), np.abs(Wt), np.abs(b) if has_bias else None, (1, 1), (0, 0, 0, 0), (1, 1), groups)
        assert got.dtype == dtype and got.shape == lead + (Co, 5, 7) and pooled.shape == lead + (Co,)
        tol = 1e-14 if dtype == np.float64 else 2e-6
        assert (np.abs(got.reshape(want.shape) - want) <= tol * mag).all()
        np.testing.assert_array_equal(pooled, np.maximum(got, 0).max(axis=(-2, -1)))
        if x4.shape[0] and dtype == np.float64:      # a sample's numbers do not depend on the batch it is in
            one = x.reshape((-1, C, 5, 7))[-1:]
            np.testing.assert_array_equal(got.reshape(want.shape)[-1], op.apply([one], P, [(C, 5, 7)])[0])


# ---------------------------------------------------------------- float32: output grid = input grid
def test_float32_same_grid_convolution_equals_loops(monkeypatch):
    """The approximate float32 kernel for convolutions whose output grid is the input grid (the columns of a whole
    chunk copied tap by tap, the entries past a row, channel or sample edge set to 0): uneven padding, dilation,
    groups, no bias, 1-row and 1-column kernels, leading axes and several chunks, against the loops on the very
    float32 numbers it sees; apply and apply_then agree; NaN left in its scratch buffers by an earlier call
    never reaches a result."""
    import symft.graph.ops as ops_module
    from symft.graph.scratch import scratch

    used, same = [], Conv2d._apply_same
    monkeypatch.setattr(Conv2d, "_apply_same", lambda self, *a: used.append(1) or same(self, *a))
    rng = np.random.default_rng(50)
    cases = [((3, 3), (1, 1, 1, 1), (1, 1), 1, True, (3, 8, 8), (5,), None),
             ((3, 3), (0, 0, 2, 2), (1, 1), 1, True, (2, 5, 7), (4,), None),        # all the padding after
             ((5, 3), (2, 2, 2, 2), (1, 2), 2, False, (4, 9, 6), (3,), None),       # dilated, grouped, no bias
             ((1, 3), (0, 1, 0, 1), (1, 1), 4, True, (8, 4, 5), (2, 3), None),      # one row, leading axes
             ((2, 1), (1, 0, 0, 0), (1, 1), 1, True, (3, 6, 4), (70,), 2 ** 12),    # 70 samples: many chunks
             ((3, 3), (1, 1, 1, 1), (1, 1), 1, True, (1, 1, 1), (6,), None)]        # 1×1 images: all padding
    for (KH, KW), pad, dil, groups, has_bias, (C, H, W), lead, chunk in cases:
        monkeypatch.setattr(ops_module, "_CHUNK_BYTES", chunk or 4 * 2 ** 20)
        used.clear()
        Co = 8
        Wt = rng.normal(size=(Co, C // groups, KH, KW))
        b = rng.normal(size=Co) if has_bias else None
        op = Conv2d(float_array(Wt), float_array(b) if has_bias else None, padding=pad, dilation=dil, groups=groups)
        assert op.out_shape([(C, H, W)]) == (Co, H, W)
        P = {k: (v.astype(np.float32) if v is not None else None) for k, v in op.params().items()}
        for role in ("conv.pad", "conv.cols", "conv.out"):
            scratch(role, (2 ** 16,), np.float32).fill(np.nan)      # garbage from an earlier call
        x = rng.normal(size=lead + (C, H, W)).astype(np.float32)
        got = op.apply([x], P, [(C, H, W)])
        x4 = x.reshape((-1, C, H, W)).astype(np.float64)
        want = ref_conv(x4, P["weight"].astype(np.float64), P["bias"].astype(np.float64) if has_bias else None,
                        (1, 1), pad, dil, groups)
        mag = ref_conv(np.abs(x4), np.abs(Wt), np.abs(b) if has_bias else None, (1, 1), pad, dil, groups)
        assert used and got.dtype == np.float32 and got.shape == lead + (Co, H, W)
        assert (np.abs(got.reshape(want.shape) - want) <= 2e-6 * mag).all()
        # other parameters for the same op (as interval and absolute-value rules pass): not the first ones kept
        P2 = {k: (2 * v if v is not None else None) for k, v in P.items()}
        np.testing.assert_array_equal(op.apply([x], P2, [(C, H, W)]), 2 * got)
        then = op.apply_then(x, P, (C, H, W), lambda z: z.sum(axis=(2, 3)))
        assert then.shape == lead + (Co,)
        assert np.abs(then - got.sum(axis=(-2, -1))).max() <= 1e-5 * np.abs(mag).sum(axis=(-2, -1)).max()
    assert op.apply([np.zeros((0, C, H, W), np.float32)], P, [(C, H, W)]).shape == (0, Co, H, W)


def test_float64_same_grid_convolution_is_the_column_kernel_bit_for_bit(monkeypatch):
    """In float64 the same-grid kernel (columns copied tap by tap) gives every number of the column kernel (the
    same columns, the same products per sample, the bias added after), alone and with a function of each chunk,
    in one chunk or many, on weights and inputs from 1e-8 to 1e12; so a sample's numbers still do not depend
    on its batch."""
    import symft.graph.ops as ops_module

    rng = np.random.default_rng(51)
    for (KH, KW), pad, dil, groups, has_bias, (C, H, W), B, chunk in [
            ((3, 3), (1, 1, 1, 1), (1, 1), 1, True, (1, 8, 8), 40, None),
            ((3, 3), (0, 0, 2, 2), (1, 1), 2, True, (4, 5, 7), 9, 2 ** 12),
            ((5, 3), (2, 2, 2, 2), (1, 2), 1, False, (3, 9, 6), 5, None),
            ((2, 2), (1, 0, 0, 1), (1, 1), 4, True, (8, 4, 5), 30, 2 ** 13)]:
        monkeypatch.setattr(ops_module, "_CHUNK_BYTES", chunk or 4 * 2 ** 20)
        sign = lambda shape: rng.choice([-1.0, 1.0], size=shape) * 10.0 ** rng.uniform(-8, 12, size=shape)
        Co = 8
        op = Conv2d(float_array(sign((Co, C // groups, KH, KW))), float_array(sign(Co)) if has_bias else None,
                    padding=pad, dilation=dil, groups=groups)
        P = op.params()
        x = sign((B, C, H, W))
        same = op._apply_same(x, P, (C, H, W), (B,))
        np.testing.assert_array_equal(same, op._apply_cols(x, P, (C, H, W), (B,)))
        np.testing.assert_array_equal(op.apply([x], P, [(C, H, W)]), same)       # what apply picks here
        pooled = op.apply_then(x, P, (C, H, W), lambda z: z.max(axis=(2, 3)))
        np.testing.assert_array_equal(pooled, same.max(axis=(2, 3)))
        np.testing.assert_array_equal(op._apply_same(x[B - 1:], P, (C, H, W), (1,))[0], same[B - 1])
