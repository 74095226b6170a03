"""The approximate float32 pass (forward/output_error ``dtype``, ``symft eval --dtype``), its refusal by every
rigorous or statistical verb and command, and the per-call caches of the fault-free pass (the plan kept on the
network, float32 weights rounded once, the convolution kernels' scratch buffers) giving the same numbers."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

import symft
from symft.cli import main
from symft.engines.forward import forward, forward_trace, output_error
from symft.errors import InvalidArgument
from symft.faults import CrashPattern
from symft.graph.netfile import load_network
from symft.graph.network import Network, random_network
from symft.graph.numbers import float_array
from symft.graph.ops import ActivationOp, AvgPool2d, Conv2d, Flatten, Input, MaxPool2d

CNN = "examples/digits_cnn.onnx"
IMAGE = "@examples/digit0_image.npy"


def digits_batch(n=7, seed=0):
    return np.random.default_rng(seed).uniform(0, 16, size=(n, 1, 8, 8))


PATTERNS = [CrashPattern([("features.1", 0), ("features.1", 77)]), CrashPattern([("classifier.2", 3)]),
            CrashPattern([("image", 10), ("classifier.2", 0)]), CrashPattern([("classifier.3", 9)]),
            CrashPattern([("classifier.2", 5)], values={("classifier.2", 5): 2.5})]


@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize("semantics", ["output_zero", "incoming_zeroed"])
def test_float32_pass_under_crashes_is_close_to_float64(pattern, semantics):
    """With a crash pattern (sites inside, at the input, at the output, a Byzantine value): float32 outputs within
    float32 rounding of the float64 ones, and the float32 Δ close to the float64 Δ."""
    net = load_network(CNN)
    X = digits_batch()
    want = forward(net, X, pattern, semantics=semantics)
    got = forward(net, X, pattern, semantics=semantics, dtype=np.float32)
    assert got.dtype == np.float32 and got.shape == want.shape == (7, 10)
    assert np.abs(got - want).max() <= 1e-5 * np.abs(want).max()
    assert not np.array_equal(got.astype(np.float64), want)          # it is a float32 pass, not a cast
    d64 = output_error(net, X, pattern, semantics=semantics)
    d32 = output_error(net, X, pattern, semantics=semantics, dtype=np.float32)
    assert d32.dtype == np.float32
    assert np.abs(d32 - d64).max() <= 1e-5 * np.abs(want).max()
    one = forward(net, X[3], pattern, semantics=semantics, dtype=np.float32)
    assert one.shape == (10,) and np.abs(one - want[3]).max() <= 1e-5 * np.abs(want).max()


def test_float32_pass_with_failed_synapses():
    net = random_network([5, 7, 3], seed=2)
    X = np.random.default_rng(1).normal(size=(4, 5))
    pattern = CrashPattern(synapses=[(1, 2, 3), (2, 0, 6)])
    want = forward(net, X, pattern)
    got = forward(net, X, pattern, dtype=np.float32)
    assert got.dtype == np.float32 and np.abs(got - want).max() <= 1e-5 * np.abs(want).max()
    assert np.abs(want - forward(net, X)).max() > 1e-3                 # the synapses do matter


def test_eval_dtype_float32_is_labelled_approximate(capsys):
    assert main(["eval", CNN, "--input", IMAGE, "--crash", "classifier.2:3", "--json"]) == 0
    exact64 = json.loads(capsys.readouterr().out)
    assert main(["eval", CNN, "--input", IMAGE, "--crash", "classifier.2:3", "--dtype", "float32", "--json"]) == 0
    j = json.loads(capsys.readouterr().out)
    assert j["settings"]["dtype"] == "float32"
    assert j["dtype"] == "float32" and j["approximate"] is True
    assert any("APPROXIMATE" in w and "no error bound" in w for w in j["warnings"])
    assert exact64["approximate"] is False and exact64["dtype"] == "float64" and exact64["warnings"] == []
    for key in ("output", "crashed_output"):
        a, b = np.array(j[key]), np.array(exact64[key])
        assert np.abs(a - b).max() <= 1e-5 * np.abs(b).max() and not np.array_equal(a, b)
    assert main(["eval", CNN, "--input", IMAGE, "--crash", "features.1:0,5", "--dtype", "float32"]) == 0
    text = capsys.readouterr().out.splitlines()
    assert "APPROXIMATE" in text[0] and any("no error bound" in line for line in text[:4])


@pytest.mark.parametrize("argv, words", [
    (["eval", CNN, "--input", IMAGE, "--dtype", "float32", "--exact"], "--dtype"),
    (["eval", CNN, "--input", IMAGE, "--dtype", "float16"], "--dtype"),
    (["certify", CNN, "--input", IMAGE, "--p", "classifier.2:1e-3", "--eps", "0.5", "--delta", "0.05", "--dtype",
      "float32"], "--dtype: symft certify"),
    (["sample", CNN, "--input", IMAGE, "--p", "1e-3", "--dtype=float32"], "--dtype: symft sample"),
    (["worst", CNN, "--input", IMAGE, "--max-crashes", "1", "--dtype", "float32"], "--dtype: symft worst"),
])
def test_dtype_refused_in_one_line(argv, words, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err and "Traceback" not in err


@pytest.mark.parametrize("verb, args", [
    ("certify", (0.5, 0.05)), ("check", ()), ("exact", ()), ("sample", ()), ("accuracy", None), ("worst_case", None)])
def test_verbs_refuse_dtype(verb, args):
    net = random_network([3, 4, 2], seed=0)
    x = [0.1, 0.2, 0.3]
    with pytest.raises(InvalidArgument, match=rf"^dtype: symft\.{verb} computes in float64"):
        if verb == "worst_case":
            symft.worst_case(net, x, max_crashes=1, dtype=np.float32)
        elif verb == "accuracy":
            symft.accuracy(net, np.zeros((2, 3)), [0, 1], 1e-3, dtype=np.float32)
        else:
            getattr(symft, verb)(net, x, 1e-3, *args, dtype=np.float32)


def conv_net(seed, C=3, H=9, W=20, pool=MaxPool2d):
    rng = np.random.default_rng(seed)
    conv = Conv2d(float_array(rng.normal(size=(5, C, 3, 3))), float_array(rng.normal(size=5)), padding=1)
    return Network([("x", Input((C, H, W)), ()), ("c", conv, ("x",)), ("r", ActivationOp("relu"), ("c",)),
                    ("p", pool((2, 2)), ("r",)), ("f", Flatten(), ("p",))])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cached_plan_and_scratch_give_the_node_by_node_numbers(dtype):
    """Several networks of different shapes in turn (the scratch buffers reused between them and grown), each
    pass the same numbers as the node-by-node trace (float64) and as its own first pass."""
    nets = [conv_net(0), load_network(CNN), conv_net(1, C=2, H=5, W=6, pool=AvgPool2d), conv_net(2, W=33)]
    batches = [np.random.default_rng(k).normal(size=(b,) + tuple(n.input_shape))
               for k, (n, b) in enumerate(zip(nets, [40, 300, 3, 17]))]
    first = [forward(n, X, dtype=dtype) for n, X in zip(nets, batches)]
    for _ in range(2):
        for n, X, y in zip(nets[::-1], batches[::-1], first[::-1]):
            np.testing.assert_array_equal(forward(n, X, dtype=dtype), y)
    if dtype == np.float64:
        for n, X, y in zip(nets, batches, first):
            np.testing.assert_array_equal(forward_trace(n, X).output, y)
    assert all("forward: the fault-free pass's plan" in n.__dict__["_memo"] for n in nets)


def test_threads_do_not_share_scratch():
    """Passes on four threads at once (as on a Dask worker): each thread's numbers are the sequential ones."""
    nets = [conv_net(k, W=16 + 5 * k) for k in range(4)]
    batches = [np.random.default_rng(k).normal(size=(60,) + tuple(n.input_shape)) for k, n in enumerate(nets)]
    want = [forward(n, X) for n, X in zip(nets, batches)]
    bad = []

    def run(k):
        for _ in range(15):
            if not np.array_equal(forward(nets[k], batches[k]), want[k]):
                bad.append(k)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not bad


def test_float32_weights_rounded_once():
    net = load_network(CNN)
    op = net.node("classifier.1").op
    a = op.float_params(op.params(), np.float32)
    forward(net, digits_batch(2), dtype=np.float32)
    assert op.float_params(op.params(), np.float32) is a and a["weight"].dtype == np.float32
    np.testing.assert_array_equal(a["weight"], op.params()["weight"].astype(np.float32))
    assert op.float_params(op.params(), np.float64) is op.params()


@pytest.mark.parametrize("kernel", [(2, 2), (3, 3), (2, 1), (1, 3), (4, 4)])
@pytest.mark.parametrize("lead", [(), (3,), (2, 2)])
def test_pooling_windows_that_tile_the_input(kernel, lead):
    """Windows that tile the input (stride = kernel, no padding): rows first, then columns.  Max pooling gives
    the loops' maxima exactly; average pooling is within γ_{n+1} of the exact mean (n = KH·KW terms, then
    the multiplication by 1/n), checked in Fractions on magnitudes from 1e-8 to 1e12, float64 and float32."""
    from fractions import Fraction

    KH, KW = kernel
    C, H, W = 2, 3 * KH, 2 * KW
    rng = np.random.default_rng(KH * 10 + KW)
    x = rng.choice([-1.0, 1.0], size=lead + (C, H, W)) * 10.0 ** rng.uniform(-8, 12, size=lead + (C, H, W))
    mx, av = MaxPool2d(kernel), AvgPool2d(kernel)
    x4 = x.reshape((-1, C, H, W))
    windows = x4.reshape(-1, C, 3, KH, 2, KW)
    got = mx.apply(x, (C, H, W))
    np.testing.assert_array_equal(got.reshape(-1, C, 3, 2), windows.max(axis=(3, 5)))
    assert got.shape == lead + (C, 3, 2)
    for dtype, u in ((np.float64, Fraction(1, 2 ** 53)), (np.float32, Fraction(1, 2 ** 24))):
        xd = x.astype(dtype)
        mean = av.apply([xd], av.params(), [(C, H, W)])
        assert mean.dtype == dtype and mean.shape == lead + (C, 3, 2)
        n = KH * KW
        gamma = (n + 1) * u / (1 - (n + 1) * u)
        w = xd.reshape(-1, C, 3, KH, 2, KW)
        for idx in np.ndindex(mean.reshape(-1, C, 3, 2).shape):
            r, c, i, j = idx
            terms = [Fraction(float(v)) for v in w[r, c, i, :, j, :].ravel()]
            exact = sum(terms) / n
            err = abs(Fraction(float(mean.reshape(-1, C, 3, 2)[idx])) - exact)
            assert err <= gamma * sum(abs(t) for t in terms) / n
    # a non-contiguous input takes the general path: the same maxima
    xt = np.ascontiguousarray(np.swapaxes(x4, 2, 3)).swapaxes(2, 3)
    np.testing.assert_array_equal(mx.apply(xt, (C, H, W)).reshape(-1, C, 3, 2), windows.max(axis=(3, 5)))


def test_float32_finiteness_check_and_relu():
    """The float32 pre-check (one dot product with ones) lets finite values pass even when their sum overflows,
    and sends ±inf and NaN to the entry-by-entry test that names the node; relu against the shared zeros gives
    the maxima with 0 (and never writes the zeros)."""
    from symft.errors import FloatOverflowError
    from symft.graph.scratch import zeros
    from symft.walk.numeric import _relu32, check_finite

    net = Network([("x", Input((4, 4, 4)), ()), ("f", Flatten(), ("x",))])
    big = np.full((3, 4, 4, 4), 3e38, dtype=np.float32)           # finite; the sum overflows float32
    with np.errstate(over="ignore"):
        check_finite(net, "f", big)
    for bad in (np.inf, -np.inf, np.nan):
        a = np.ones((3, 4, 4, 4), dtype=np.float32)
        a[2, 3, 1, 0] = bad
        with pytest.raises(FloatOverflowError, match="float32"):
            check_finite(net, "f", a)
    z = np.random.default_rng(0).normal(size=(5, 7, 3)).astype(np.float32)
    want = np.where(z > 0, z, np.float32(0))
    np.testing.assert_array_equal(_relu32(z, None), want)
    assert _relu32(z, z) is z and np.array_equal(z, want) and not zeros(z.size, np.float32).any()
