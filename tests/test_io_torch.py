"""PyTorch in: from_torch against torch's own forward pass (float32 and a float64 copy), the refusals word for
word, and the way out through ONNX to onnxruntime."""

import json
import operator
import os
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from symft.engines.forward import forward  # noqa: E402
from symft.errors import NetworkFormatError  # noqa: E402
from symft.io.torch import SUPPORTED_FUNCTIONS, SUPPORTED_MODULES, from_torch  # noqa: E402

SUPPORTED = (f"supported modules: {', '.join(SUPPORTED_MODULES)}; functions and methods: "
             f"{', '.join(SUPPORTED_FUNCTIONS)}")


def randomize_bn(m, seed):
    g = torch.Generator().manual_seed(seed)
    for mod in m.modules():
        if isinstance(mod, (nn.BatchNorm1d, nn.BatchNorm2d)):
            with torch.no_grad():
                n = mod.num_features
                mod.running_mean.copy_(torch.randn(n, generator=g) * 0.5)
                mod.running_var.copy_(torch.rand(n, generator=g) + 0.3)
                if mod.weight is not None:
                    mod.weight.copy_(torch.randn(n, generator=g) * 0.5 + 1)
                    mod.bias.copy_(torch.randn(n, generator=g) * 0.3)
    return m


def agree(net, model, x, rel):
    """Per example: max |symft − torch| ≤ rel · max |torch|."""
    with torch.no_grad():
        want = model(x).double().numpy().reshape(x.shape[0], -1)
    got = forward(net, x.double().numpy())
    err = np.abs(got - want).max(axis=1)
    assert np.all(err <= rel * np.abs(want).max(axis=1)), (err / np.abs(want).max(axis=1)).max()
    return got


class ResidualCNN(nn.Module):
    """conv → batch norm → relu, a second conv + batch norm added back (residual), max pool, dense head."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU())
        self.conv2 = nn.Conv2d(4, 4, 3, padding="same", bias=False)
        self.bn2 = nn.BatchNorm2d(4)
        self.pool = nn.MaxPool2d(2)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.Tanh(), nn.Dropout(0.3), nn.Linear(16, 3))

    def forward(self, x):
        h = self.features(x)
        r = F.relu(self.bn2(self.conv2(h)) + h)
        return self.head(self.pool(r))


def residual_cnn():
    torch.manual_seed(0)
    return randomize_bn(ResidualCNN(), 1).eval()


def test_conv_residual_batchnorm_model_equals_torch():
    model = residual_cnn()
    x = torch.randn(32, 1, 8, 8)
    net = from_torch(model, x)
    assert net.sites == ("x", "features.2", "relu", "head.2", "head.4")
    assert net.node("add").inputs == ("bn2", "features.2")
    agree(net, model, x, 1e-6)                                   # torch's float32 forward
    agree(net, model.double(), x.double(), 1e-12)                # a float64 copy: equal to rounding
    model.float()


def test_from_torch_restores_the_training_flag_and_accepts_arrays():
    model = residual_cnn().train()
    x = np.random.default_rng(0).normal(size=(4, 1, 8, 8)).astype(np.float32)
    net = from_torch(model, x)
    assert model.training and net.n_inputs == 64


def test_through_onnx_to_onnxruntime(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    from symft.graph.netfile import load_network
    from symft.io.onnx import save_onnx

    model = residual_cnn()
    x = torch.randn(50, 1, 8, 8)
    net = from_torch(model, x)
    p = tmp_path / "m.onnx"
    save_onnx(net, p)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(p), so, providers=["CPUExecutionProvider"])
    got = sess.run(None, {"x": x.numpy()})[0].astype(np.float64)
    with torch.no_grad():
        want = model(x).double().numpy()
    assert np.all(np.abs(got - want).max(axis=1) <= 1e-6 * np.abs(want).max(axis=1))
    back = load_network(p)       # the batch-norm scale and shift were rounded to float32 in the file
    assert back.sites == net.sites
    np.testing.assert_allclose(forward(back, x.double().numpy()), forward(net, x.double().numpy()), rtol=1e-5,
                               atol=1e-6)


def test_a_torch_onnx_export_reads_like_from_torch(tmp_path):
    """A model written by torch's own ONNX exporter (foreign node names like /features/features.0/Conv)."""
    pytest.importorskip("onnx")
    from symft.graph.netfile import load_network

    model = residual_cnn()
    x = torch.randn(20, 1, 8, 8)
    p = tmp_path / "t.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), str(p), dynamo=False, input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "N"}, "y": {0: "N"}}, opset_version=17)
    net = load_network(p)
    agree(net, model, x, 1e-6)
    assert len(net.sites) == len(from_torch(model, x).sites)


# ------------------------------------------------------------------------------------------ op by op

class Fn(nn.Module):
    def __init__(self, fn, pre=None):
        super().__init__()
        self.fn, self.pre = fn, pre

    def forward(self, x):
        return self.fn(x)


MODULES = [
    nn.ReLU(), nn.LeakyReLU(), nn.LeakyReLU(0.2), nn.Sigmoid(), nn.Tanh(), nn.Softplus(), nn.ELU(), nn.ELU(0.5),
    nn.Hardtanh(), nn.Hardtanh(-0.5, 2.0), nn.ReLU6(), nn.Hardsigmoid(), nn.Identity(), nn.Dropout(0.5),
]


@pytest.mark.parametrize("act", MODULES, ids=lambda m: repr(m))
def test_activation_modules(act):
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(5, 6), act, nn.Linear(6, 2)).eval()
    x = 3 * torch.randn(100, 5)
    net = from_torch(model, x)
    agree(net, model.double(), x.double(), 1e-12)


class Functional(nn.Module):
    def __init__(self, how):
        super().__init__()
        self.fc = nn.Linear(5, 6)
        self.how = how

    def forward(self, x):
        z = self.fc(x)
        h = self.how
        if h == "relu":
            return F.relu(z)
        if h == "torch.relu":
            return torch.relu(z)
        if h == "method.relu":
            return z.relu()
        if h == "sigmoid":
            return torch.sigmoid(z)
        if h == "method.tanh":
            return z.tanh()
        if h == "leaky":
            return F.leaky_relu(z, 0.1)
        if h == "elu":
            return F.elu(z, alpha=0.7)
        if h == "softplus":
            return F.softplus(z)
        if h == "hardtanh":
            return F.hardtanh(z, -2.0, 0.5)
        if h == "relu6":
            return F.relu6(z)
        if h == "hardsigmoid":
            return F.hardsigmoid(z)
        if h == "clamp":
            return torch.clamp(z, min=-0.5, max=0.25)
        if h == "clamp_min":
            return torch.clamp(z, min=0.0)
        if h == "clamp_max":
            return z.clamp(max=0.3)
        if h == "dropout":
            return F.dropout(z, 0.5, self.training)
        if h == "plus_number":
            return z + 1.5
        if h == "torch.add":
            return torch.add(z, F.relu(z))
        if h == "method.add":
            return z.add(z.tanh())
        raise AssertionError(h)


@pytest.mark.parametrize("how", ["relu", "torch.relu", "method.relu", "sigmoid", "method.tanh", "leaky", "elu",
                                 "softplus", "hardtanh", "relu6", "hardsigmoid", "clamp", "clamp_min", "clamp_max",
                                 "dropout", "plus_number", "torch.add", "method.add"])
def test_functions_and_methods(how):
    torch.manual_seed(2)
    model = Functional(how).eval()
    x = 3 * torch.randn(100, 5)
    net = from_torch(model, x)
    agree(net, model.double(), x.double(), 1e-12)


IMAGE_MODELS = {
    "avgpool padded": lambda: nn.Sequential(nn.Conv2d(2, 3, 3), nn.AvgPool2d(3, 2, padding=1), nn.Flatten()),
    "avgpool no pad count": lambda: nn.Sequential(nn.AvgPool2d(3, 2, padding=1, count_include_pad=False),
                                                  nn.Flatten()),
    "maxpool dilated": lambda: nn.Sequential(nn.MaxPool2d(2, 1, padding=1, dilation=2), nn.Flatten()),
    "adaptive 1x1": lambda: nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d((1, 1)),
                                          nn.Flatten(), nn.Linear(4, 2)),
    "adaptive 2x2": lambda: nn.Sequential(nn.AdaptiveAvgPool2d(2), nn.Flatten()),
    "conv grouped strided": lambda: nn.Sequential(nn.Conv2d(2, 4, 3, stride=2, padding=(1, 2), groups=2), nn.Flatten()),
    "conv same dilated": lambda: nn.Sequential(nn.Conv2d(2, 3, (3, 2), padding="same", dilation=(2, 1)), nn.Flatten()),
    "conv valid": lambda: nn.Sequential(nn.Conv2d(2, 3, 2, padding="valid"), nn.ReLU6(), nn.Flatten()),
    "batchnorm1d": lambda: nn.Sequential(nn.Flatten(), nn.Linear(72, 5), nn.BatchNorm1d(5), nn.ELU()),
    "batchnorm no affine": lambda: nn.Sequential(nn.BatchNorm2d(2, affine=False), nn.Flatten()),
}


@pytest.mark.parametrize("which", list(IMAGE_MODELS))
def test_image_models(which):
    torch.manual_seed(3)
    model = randomize_bn(IMAGE_MODELS[which](), 4).eval()
    x = torch.randn(100, 2, 6, 6)
    net = from_torch(model, x)
    agree(net, model.double(), x.double(), 1e-12)


class Reshapes(nn.Module):
    def __init__(self, how):
        super().__init__()
        self.how = how
        self.fc = nn.Linear(72, 3)

    def forward(self, x):
        h = self.how
        if h == "view size":
            y = x.view(x.size(0), -1)
        elif h == "reshape shape":
            y = x.reshape(x.shape[0], 72)
        elif h == "torch.flatten":
            y = torch.flatten(x, 1)
        elif h == "method.flatten":
            y = x.flatten(1)
        elif h == "view -1":
            y = x.view(-1, 72)
        elif h == "unsqueeze squeeze":
            y = x.unsqueeze(1).contiguous().squeeze(1).flatten(1)
        return self.fc(y)


@pytest.mark.parametrize("how", ["view size", "reshape shape", "torch.flatten", "method.flatten", "view -1",
                                 "unsqueeze squeeze"])
def test_reshapes(how):
    model = Reshapes(how).eval()
    x = torch.randn(10, 2, 6, 6)
    net = from_torch(model, x)
    agree(net, model.double(), x.double(), 1e-12)


def test_final_softmax_is_dropped_with_a_note():
    torch.manual_seed(5)
    model = nn.Sequential(nn.Linear(4, 3), nn.Softmax(dim=1)).eval()
    x = torch.randn(20, 4)
    net = from_torch(model, x)
    assert net.output == "0" and "class decisions are unchanged" in net.metadata["notes"][0]
    with torch.no_grad():
        np.testing.assert_array_equal(np.argmax(forward(net, x.double().numpy()), axis=1),
                                      np.argmax(model(x).numpy(), axis=1))


# ------------------------------------------------------------------------------------------ refusals

def test_unsupported_module():
    with pytest.raises(NetworkFormatError) as e:
        from_torch(nn.Sequential(nn.Linear(3, 3), nn.GELU()), torch.randn(2, 3))
    assert str(e.value) == f"from_torch: node '1' (GELU): unsupported module; {SUPPORTED}"


def test_unsupported_function():
    with pytest.raises(NetworkFormatError) as e:
        from_torch(Fn(torch.sin), torch.randn(2, 3))
    assert str(e.value) == f"from_torch: node 'sin' (sin): unsupported function; {SUPPORTED}"


def test_view_that_mixes_the_batch_is_refused():
    class Bad(nn.Module):
        def forward(self, x):
            return x.view(-1)

    with pytest.raises(NetworkFormatError) as e:
        from_torch(Bad(), torch.randn(4, 3))
    assert str(e.value) == f"from_torch: node 'view' (Tensor.view): its output does not keep the batch axis first; " \
                           f"{SUPPORTED}"


def test_reflect_padding_is_refused():
    with pytest.raises(NetworkFormatError) as e:
        from_torch(nn.Sequential(nn.Conv2d(1, 1, 3, padding=1, padding_mode="reflect")), torch.randn(2, 1, 4, 4))
    assert str(e.value) == (f"from_torch: node '0' (Conv2d): padding_mode='reflect' is not supported (only 'zeros'); "
                            f"{SUPPORTED}")


def test_untraceable_module():
    class Branchy(nn.Module):
        def forward(self, x):
            return x if x.sum() > 0 else -x

    with pytest.raises(NetworkFormatError, match=r"^from_torch: torch.fx cannot trace Branchy \("):
        from_torch(Branchy(), torch.randn(2, 3))


def test_ceil_mode_that_changes_the_shape_is_refused():
    with pytest.raises(NetworkFormatError, match=r"node '0' \(MaxPool2d\): torch computes samples of shape "
                                                 r"\(1, 3, 3\), symft's op \(1, 2, 2\)"):
        from_torch(nn.Sequential(nn.MaxPool2d(2, ceil_mode=True)), torch.randn(2, 1, 5, 5))


def test_three_line_snippet_from_torch_to_a_certificate():
    """The README's snippet: from_torch, then a certificate with crash probabilities by module path."""
    import symft

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(),
                                torch.nn.Linear(256, 10))
    x = np.load(os.path.join(os.path.dirname(__file__), "..", "examples", "digit0_image.npy"))
    net = symft.from_torch(model, torch.zeros(1, 1, 8, 8))
    c = symft.certify(net, x, {"1": 1e-3}, eps=0.5, delta=0.05)
    assert c.certified and c.rigorous
    # the same claim at a threshold the crashes can reach is not certified: the answer can be "no"
    assert not symft.certify(net, x, {"1": 0.5}, eps=1e-6, delta=1e-6).certified


def test_numbered_module_paths_as_site_keys(capsys, tmp_path):
    """Sites of an nn.Sequential are its module paths (input, 1, 3, 4): a number names a module.  The numbers
    that name a site crash that module's neurons (checked against torch with the neurons zeroed); a number
    that names no site (0 and 2 are Linear modules) is refused in one line naming the sites — it used to be
    read as a position (0 the input, 2 the tanh), crashing another module than the one meant."""
    from symft.cli import main
    from symft.engines.enumeration import enumerate_crashes
    from symft.errors import FaultModelError
    from symft.faults import CrashPattern, NeuronCrash
    from symft.graph.netfile import save_network
    from symft.problem import as_model

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    x = torch.tensor([[0.5, -1.0, 0.25]], dtype=torch.float64)
    net = from_torch(model, x)
    assert net.sites == ("input", "1", "3", "4")
    # module 3 (the tanh) crashing its neuron 2: torch with that output zeroed
    with torch.no_grad():
        h = model[2](model[1](model[0](x)))
        t = model[3](h)
        t[0, 2] = 0
        want = model[4](t).numpy()[0]
    for key in (3, "3"):
        got = forward(net, x.numpy(), CrashPattern([(key, 2)]))[0]
        assert np.allclose(got, want, rtol=1e-12, atol=1e-12)
    # E Δ with p = 1/2 at module 3 equals the mean over its 16 crash sets, evaluated through torch
    ex = enumerate_crashes(net, x.numpy()[0], NeuronCrash({3: 0.5})).mean
    acc = np.zeros(2)
    with torch.no_grad():
        clean = model(x).numpy()[0]
        for mask in range(16):
            tt = model[3](h).clone()
            for i in range(4):
                if mask >> i & 1:
                    tt[0, i] = 0
            acc += (model[4](tt).numpy()[0] - clean) / 16
    assert np.allclose(ex, acc, rtol=1e-12, atol=1e-14)
    for key in (0, 2, "2", 5):
        with pytest.raises(FaultModelError, match=r"no crash site is named \d: this network's sites are named "
                                                  r"input, 1, 3, 4"):
            as_model(net, {key: 0.1})
    path = tmp_path / "seq.json"
    save_network(net, str(path))
    code = main(["exact", str(path), "--input", "0.5,-1,0.25", "--p", "0:0.1"])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("symft: error: --p: no crash site is named 0") and "input, 1, 3, 4" in err
    assert "node 0 is a dense node" in err
    # every other way to name a site reads numbers the same way (Network.site): a crash pattern, --sites/--layers
    from symft.errors import InvalidArgument

    with pytest.raises(InvalidArgument, match=r"--crash: no crash site is named 0: .*input, 1, 3, 4"):
        net.site(0, "--crash")
    assert net.site(3) == net.site("3") == "3" and net.site("input") == "input"
    for args in (["eval", str(path), "--input", "0.5,-1,0.25", "--crash", "2:0"],
                 ["worst", str(path), "--input", "0.5,-1,0.25", "--max-crashes", "1", "--layers", "0"]):
        code = main(args)
        out, err = capsys.readouterr()
        assert code == 2 and err.count("\n") == 1, (args, err)
        assert "no crash site is named" in err and "input, 1, 3, 4" in err, (args, err)
    code = main(["eval", str(path), "--input", "0.5,-1,0.25", "--crash", "3:2", "--json"])
    out, err = capsys.readouterr()
    assert code == 0 and np.allclose(json.loads(out)["crashed_output"], want, rtol=1e-12, atol=1e-12)
