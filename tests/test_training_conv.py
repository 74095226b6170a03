"""Conv architectures in training: the --arch mini-language, --init from a conv ONNX model, and R_1 = numeric T1 on
models built from the mini-language (Hypothesis) — against a NumPy conv forward pass written here, onnxruntime and
symft's walker-based T1."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from .test_cli import assert_one_line_error, run, run_json

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

from symft.engines.taylor import t1  # noqa: E402
from symft.errors import InvalidArgument  # noqa: E402
from symft.io.torch import from_torch  # noqa: E402
from symft.training import regularizer as R  # noqa: E402
from symft.training.train import build_model, image_inputs, parse_arch  # noqa: E402

CNN = Path(__file__).resolve().parents[1] / "examples" / "digits_cnn.onnx"


def test_parse_arch_reads_the_mini_language_and_names_bad_tokens():
    assert parse_arch("64,32,16,10") == (64, 32, 16, 10)
    assert parse_arch("conv8k3,pool2,32,10") == ("conv8k3", "pool2", 32, 10)
    assert parse_arch("Conv4k3p1s2, maxpool2, conv2k2, 10") == ("conv4k3p1s2", "maxpool2", "conv2k2", 10)
    for bad, msg in (("64", "at least two"), ("conv8,10", "'conv8'"), ("conv8k3,10,pool2", "come first"),
                     ("pool2,conv8k3,10", "starts with a conv"), ("conv8k3,pool2", "come first"),
                     ("64,0,10", "positive"), ("conv0k3,10", "positive")):
        with pytest.raises(InvalidArgument, match=rf"^arch: .*{bad and msg}"):
            parse_arch(bad)


def numpy_forward(layers, x):
    """A conv net written here: layers are ('conv', W, b, pad, stride), ('act', f), ('avg', k), ('max', k),
    ('flat',), ('dense', W, b); x is (C, H, W)."""
    h = x
    for lay in layers:
        if lay[0] == "conv":
            _, W, b, pad, s = lay
            hp = np.pad(h, ((0, 0), (pad, pad), (pad, pad)))
            co, ci, kh, kw = W.shape
            oh, ow = (hp.shape[1] - kh) // s + 1, (hp.shape[2] - kw) // s + 1
            out = np.zeros((co, oh, ow))
            for i in range(oh):
                for j in range(ow):
                    patch = hp[:, i * s:i * s + kh, j * s:j * s + kw]
                    out[:, i, j] = (W * patch[None]).sum(axis=(1, 2, 3)) + b
            h = out
        elif lay[0] == "act":
            h = lay[1](h)
        elif lay[0] in ("avg", "max"):
            k = lay[1]
            c, H, W_ = h.shape
            blocks = h[:, :H // k * k, :W_ // k * k].reshape(c, H // k, k, W_ // k, k)
            h = blocks.mean(axis=(2, 4)) if lay[0] == "avg" else blocks.max(axis=(2, 4))
        elif lay[0] == "flat":
            h = h.reshape(-1)
        else:
            h = lay[1] @ h + lay[2]
    return h


def layers_of(model):
    """The layers of an nn.Sequential in numpy_forward's terms (weights copied out)."""
    nn = torch.nn
    acts = {nn.Tanh: np.tanh, nn.ReLU: lambda z: np.maximum(z, 0), nn.Sigmoid: lambda z: 1 / (1 + np.exp(-z))}
    out = []
    for m in model:
        if isinstance(m, nn.Conv2d):
            out.append(("conv", m.weight.detach().double().numpy(), m.bias.detach().double().numpy(), m.padding[0],
                        m.stride[0]))
        elif isinstance(m, nn.Linear):
            out.append(("dense", m.weight.detach().double().numpy(), m.bias.detach().double().numpy()))
        elif isinstance(m, (nn.AvgPool2d, nn.MaxPool2d)):
            out.append(("avg" if isinstance(m, nn.AvgPool2d) else "max", m.kernel_size))
        elif isinstance(m, nn.Flatten):
            out.append(("flat",))
        else:
            out.append(("act", acts[type(m)]))
    return out


def test_build_model_is_the_conv_net_the_tokens_describe():
    torch.manual_seed(0)
    model = build_model("conv3k3p1,maxpool2,conv2k2s2,5,4", "tanh", (1, 8, 8)).double()
    x = np.random.default_rng(0).random((1, 8, 8))
    got = model(torch.as_tensor(x[None])).detach().numpy()[0]
    np.testing.assert_allclose(got, numpy_forward(layers_of(model), x), rtol=1e-12, atol=1e-14)
    assert [type(m).__name__ for m in model][:5] == ["Conv2d", "Tanh", "MaxPool2d", "Conv2d", "Tanh"]
    with pytest.raises(InvalidArgument, match="^arch: the conv and pool layers do not fit"):
        build_model("conv4k9,10", "tanh", (1, 8, 8))
    with pytest.raises(InvalidArgument, match="^data: a conv architecture needs images"):
        image_inputs(np.zeros((3, 10)))


def small_digits(tmp_path, n_train=200, n_test=60):
    """An .npz with a small part of the digits (flat 64-pixel rows, as the CLI's digits are)."""
    from symft.io.datasets import digits

    tr, te = digits("train"), digits("test")
    path = tmp_path / "small.npz"
    np.savez(path, X_train=tr.X[:n_train], y_train=tr.y[:n_train], X_test=te.X[:n_test], y_test=te.y[:n_test])
    return path, te.X[:n_test], te.y[:n_test]


def test_cli_trains_a_conv_arch_and_writes_the_network(capsys, tmp_path):
    from symft.graph.netfile import load_network

    out = tmp_path / "c.json"
    data, Xte, yte = small_digits(tmp_path)
    d = run_json(capsys, "train", "--data", data, "--arch", "conv3k3p1,pool2,8,10", "--act", "tanh",
                 "--p", "1e-3", "--reg", "lambda=1", "--epochs", "1", "--seed", "2", "--out", out)
    assert isinstance(d["accuracy"], float) and isinstance(d["var_delta"], float)
    assert d["var_delta_lo"] <= d["var_delta"] <= d["var_delta_hi"]
    assert d["arch"] == ["conv3k3p1", "pool2", 8, 10]
    net = load_network(out)
    assert net.input_shape == (1, 8, 8)
    assert [n.op.kind for n in net.nodes][1:] == ["conv2d", "activation", "avgpool2d", "flatten", "dense",
                                                  "activation", "dense"]
    # The reported accuracy is the written network's, by the NumPy conv net written here on its weights.
    kinds = {"conv2d": "conv", "avgpool2d": "avg", "flatten": "flat", "dense": "dense", "activation": "act"}
    layers = []
    for n in net.nodes[1:]:
        op = n.op
        k = kinds[op.kind]
        if k == "conv":
            layers.append((k, np.asarray(op.weight, float), np.asarray(op.bias, float), op.padding[0], op.stride[0]))
        elif k == "dense":
            layers.append((k, np.asarray(op.weight, float), np.asarray(op.bias, float)))
        elif k == "avg":
            layers.append((k, op.kernel[0]))
        elif k == "flat":
            layers.append((k,))
        else:
            layers.append((k, {"tanh": np.tanh, "linear": lambda z: z}[op.act.name]))
    pred = [int(np.argmax(numpy_forward(layers, x.reshape(1, 8, 8)))) for x in Xte]
    assert np.mean(np.array(pred) == yte) == pytest.approx(d["accuracy"], abs=1e-12)


def test_cli_init_from_the_conv_onnx_model(capsys, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    from symft.engines.forward import forward
    from symft.graph.netfile import load_network

    out = tmp_path / "c.onnx"
    data, Xte, yte = small_digits(tmp_path, 100, 40)
    # A learning rate of 1e-12 for one epoch leaves the weights within ~1e-10 of the model's: the trained network
    # must compute what onnxruntime computes on the original model.
    d = run_json(capsys, "train", "--data", data, "--init", CNN, "--p", "1e-3", "--epochs", "1", "--lr", "1e-12",
                 "--seed", "0", "--out", out)
    x = Xte[:20].reshape(20, 1, 8, 8).astype(np.float32)
    sess = ort.InferenceSession(str(CNN), providers=["CPUExecutionProvider"])
    want = sess.run(None, {sess.get_inputs()[0].name: x})[0]
    got = forward(load_network(out), x.astype(float))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    full = sess.run(None, {sess.get_inputs()[0].name: Xte.reshape(-1, 1, 8, 8).astype(np.float32)})[0]
    assert d["accuracy"] == pytest.approx(float(np.mean(full.argmax(axis=1) == yte)), abs=1e-12)
    assert d["var_label"] in ("rigorous", "exact")


def test_conv_errors_are_one_line(capsys):
    assert_one_line_error(*run(capsys, "train", "--arch", "conv8k3,32,pool2,10"), "--arch", "come first")
    assert_one_line_error(*run(capsys, "train", "--arch", "conv8q3,10"), "--arch", "conv8q3")
    assert_one_line_error(*run(capsys, "train", "--arch", "conv8k9,10", "--epochs", "1"), "arch", "do not fit")
    assert_one_line_error(*run(capsys, "train", "--algorithm1", "--eps", "0.5", "--delta", "0.1", "--arch",
                               "conv4k3,10"), "--algorithm1", "dense")


ACT = {"tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid, "softplus": torch.nn.Softplus}


@settings(max_examples=10, deadline=None)
@given(data=st.data(), c=st.integers(1, 3), k=st.sampled_from([2, 3]), pad=st.integers(0, 1),
       stride=st.integers(1, 2), pool=st.sampled_from(["", "pool2", "maxpool2"]),
       act=st.sampled_from(sorted(ACT)), seed=st.integers(0, 10_000))
def test_r1_equals_symft_t1_on_models_from_the_mini_language(data, c, k, pad, stride, pool, act, seed):
    tokens = [f"conv{c}k{k}p{pad}s{stride}"] + ([pool] if pool else []) + [4, 3]
    torch.manual_seed(seed)
    try:
        model = build_model(",".join(map(str, tokens)), act, (1, 6, 6)).double()
    except InvalidArgument:
        return                                              # the pool does not fit what the conv leaves
    x = torch.rand(2, 1, 6, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    net = from_torch(model, x)
    sites = list(net.sites)
    chosen = data.draw(st.lists(st.sampled_from(sites), min_size=1, max_size=len(sites), unique=True))
    p = {s: data.draw(st.floats(1e-4, 0.3)) for s in chosen}
    want = t1(net, x.numpy(), p, remainder=False).var
    got = R.t1_variance(model, x, p).detach().numpy()
    assert np.abs(got - want).max() <= 1e-6 * (np.abs(want).max() + 1e-300)
