r"""PyTorch modules in: :func:`from_torch` converts a module traced by torch.fx into a Network.

The module is traced with :func:`torch.fx.symbolic_trace` (in evaluation
mode), so ``nn.Sequential`` and any module whose ``forward`` has no
data-dependent control flow work.  Each traced call becomes one node of the
network, named by its **module path** (``features.1``, ``block.conv1``) for
submodules and by torch.fx's node name (``add``, ``relu_1``, ``flatten``)
for function and method calls; the input node is named after the
``forward`` argument.  Crash sites are, as for every network, the input,
every activation node and the output.  In an ``nn.Sequential`` the module
paths are numbers (``nn.Sequential(Linear, ReLU, Linear)`` has the sites
``input, 1, 2``; with ``Linear, ReLU, Linear, Tanh, Linear`` they are
``input, 1, 3, 4``): a number in ``--p`` or ``p={…}`` is then the module's
name, and a number that names no site (``0``, a ``Linear``) is refused,
naming the sites (:func:`symft.faults.numbered_site_name`), never read as a
position.

Supported (anything else is refused with one line naming the node and its
type):

* modules (:data:`SUPPORTED_MODULES`): ``Linear``; ``Conv2d`` (zeros
  padding; ``padding`` as numbers, ``"same"`` or ``"valid"``); ``ReLU``,
  ``LeakyReLU``, ``Sigmoid``, ``Tanh``, ``Softplus`` (``beta=1``; torch
  returns ``x`` itself above ``threshold``, within ``exp(-threshold)`` of
  softplus), ``ELU``, ``Hardtanh``, ``ReLU6``, ``Hardsigmoid``
  (``hardsigmoid(1/6,1/2)``); ``BatchNorm1d``/``BatchNorm2d`` with their
  running statistics (the affine ``BatchNorm`` op, ``scale = γ/sqrt(var +
  ε)`` and ``shift = β − mean · scale`` computed once in float64);
  ``AvgPool2d``, ``MaxPool2d``, ``AdaptiveAvgPool2d`` (output sizes that
  divide the input); ``Flatten``; ``Dropout`` (the identity), ``Identity``;
  ``Softmax``/``LogSoftmax`` as the last call (dropped, with a note in
  ``net.metadata["notes"]``: class decisions are unchanged);
* the same activations, pools and dropout as functions (``torch.relu``,
  ``F.leaky_relu``, ``torch.clamp``, ``F.max_pool2d`` …) and tensor methods
  (``x.relu()``);
* the residual ``+`` (``operator.add``, ``torch.add``, ``x.add(y)``) of two
  tensors of the same shape, and ``+`` of a number or of a constant that is
  the same for every element of a channel;
* reshapes that keep the batch axis first: ``torch.flatten``,
  ``x.view``, ``x.reshape``, ``x.flatten``, ``squeeze``, ``unsqueeze``,
  ``contiguous`` (and the ``x.size(0)``/``x.shape[0]`` they use).

Parameters are read exactly (a float32 weight is the double it equals); the
network is float64.  After the conversion the network's output on the example
is compared with the module's (run in float64 on a copy): they must agree to
``1e-6`` relative (they agree to rounding), else the conversion is refused.

Examples
--------
>>> import torch
>>> from torch import nn
>>> model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
>>> net = from_torch(model, torch.randn(5, 3))
>>> net.order, net.sites
(('input', '0', '1', '2'), ('input', '1', '2'))
"""

from __future__ import annotations

import copy
import operator

import numpy as np
import sympy as sp

from ..errors import InvalidArgument, MissingDependency, NetworkFormatError
from ..graph.activations import get_activation, parametric_activation
from ..graph.network import Network
from ..graph.numbers import float_array
from ..graph.ops import (ActivationOp, Add, AvgPool2d, BatchNorm, Conv2d, Dense, Flatten, Identity, Input,
                         MaxPool2d, Reshape)

__all__ = ["SUPPORTED_MODULES", "SUPPORTED_FUNCTIONS", "from_torch"]

#: Module classes (``torch.nn``) :func:`from_torch` converts.
SUPPORTED_MODULES = ("Linear", "Conv2d", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softplus", "ELU", "Hardtanh",
                     "ReLU6", "Hardsigmoid", "BatchNorm1d", "BatchNorm2d", "AvgPool2d", "MaxPool2d",
                     "AdaptiveAvgPool2d", "Flatten", "Dropout", "Dropout1d", "Dropout2d", "AlphaDropout", "Identity",
                     "Softmax", "LogSoftmax")
#: Functions and tensor methods :func:`from_torch` converts.
SUPPORTED_FUNCTIONS = ("relu", "leaky_relu", "sigmoid", "tanh", "softplus", "elu", "hardtanh", "relu6", "hardsigmoid",
                       "clamp", "clip", "dropout", "avg_pool2d", "max_pool2d", "adaptive_avg_pool2d", "add", "+",
                       "flatten", "view", "reshape", "squeeze", "unsqueeze", "contiguous", "size", "shape")

_INSTALL = "pip install symft[torch]"


def _require_torch():
    try:
        import torch
        import torch.fx  # noqa: F401
    except ImportError:
        raise MissingDependency(f"converting PyTorch modules needs torch: {_INSTALL}") from None
    return torch


def _one_line(e):
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


class _Refusal(NetworkFormatError):
    pass


_META = object()      # an integer or a shape computed from tensor sizes (used only by reshapes)


def from_torch(module, example_input, *, check: bool = True) -> Network:
    """Convert a PyTorch module into a :class:`~symft.graph.network.Network`.

    See the module docstring for what is converted and how nodes are named.

    Parameters
    ----------
    module : torch.nn.Module
        ``nn.Sequential`` or any module torch.fx can trace.  It is traced in
        evaluation mode (batch norm uses its running statistics, dropout is
        the identity); its ``training`` flag is restored afterwards.
    example_input : torch.Tensor or array_like
        A batch of inputs, batch axis first (its other axes are the input
        shape of the network).  It is run through the module to read the
        shapes and to check the conversion.
    check : bool
        Compare the network's output on the example with the module's (run in
        float64 on a copy of the module); refuse the conversion when they
        differ by more than ``1e-6`` relative.

    Returns
    -------
    Network
        Float64, parameters read exactly.

    Raises
    ------
    NetworkFormatError
        An unsupported module, function or argument (one line naming the
        node, its type and the supported list), a module torch.fx cannot
        trace, or a failed check.
    MissingDependency
        torch is not installed (``pip install symft[torch]``).

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from symft.engines.forward import forward
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> model = nn.Sequential(nn.Conv2d(1, 2, 3, padding="same"), nn.ReLU(), nn.Flatten(), nn.Linear(32, 3))
    >>> x = torch.randn(4, 1, 4, 4)
    >>> net = from_torch(model, x)
    >>> net.input_shape, net.sites
    ((1, 4, 4), ('input', '1', '3'))
    >>> bool(abs(forward(net, x.double().numpy()) - model(x).detach().double().numpy()).max() < 1e-5)
    True
    >>> from_torch(nn.Sequential(nn.Linear(3, 3), nn.GELU()), torch.randn(2, 3))
    Traceback (most recent call last):
    ...
    symft.errors.NetworkFormatError: from_torch: node '1' (GELU): unsupported module; supported modules: Linear, ...
    """
    torch = _require_torch()
    if not isinstance(module, torch.nn.Module):
        raise InvalidArgument(f"module: expected a torch.nn.Module, got {type(module).__name__}")
    x = example_input if isinstance(example_input, torch.Tensor) else torch.as_tensor(np.asarray(example_input))
    if not x.is_floating_point():
        x = x.to(torch.float32)
    if x.ndim < 2 or x.shape[0] < 1 or 0 in x.shape:
        raise InvalidArgument(f"example_input: expected a batch of inputs (batch axis first, then the input's axes), "
                              f"got shape {tuple(x.shape)}")
    x = x.detach()
    was_training = module.training
    module.eval()
    try:
        try:
            gm = torch.fx.symbolic_trace(module)
        except Exception as e:     # torch.fx raises many kinds (TraceError, TypeError, …)
            raise NetworkFormatError(f"from_torch: torch.fx cannot trace {type(module).__name__} "
                                     f"({_one_line(e)}); only modules without data-dependent control flow convert") \
                from None
        shapes = _shapes(torch, gm, x)
        conv = _Converter(torch, gm, x, shapes)
        try:
            net = conv.run()
        except _Refusal as e:
            raise NetworkFormatError(str(e)) from None
        if check:
            _check(torch, module, net, x, conv.dropped)
    finally:
        module.train(was_training)
    return net


def _shapes(torch, gm, x):
    """Output shapes of every traced node on the example and on the example with one more row.

    Two batch sizes tell the batch axis apart from the others (a hard-coded batch size shows).
    """
    from torch.fx.passes.shape_prop import ShapeProp

    out = []
    for batch in (x, torch.cat([x, x[:1]])):
        try:
            with torch.no_grad():
                ShapeProp(gm).propagate(batch)
        except Exception as e:
            rows = batch.shape[0]
            raise NetworkFormatError(f"from_torch: the module fails on a batch of {rows} examples "
                                     f"({_one_line(e)})") from None
        shp = {}
        for n in gm.graph.nodes:
            tm = n.meta.get("tensor_meta")
            shp[n.name] = tuple(tm.shape) if tm is not None and hasattr(tm, "shape") else None
        out.append((batch.shape[0], shp))
    return out


def _check(torch, module, net, x, dropped):
    from ..engines.forward import forward

    try:
        ref_module = copy.deepcopy(module).double().eval()
    except Exception:   # an uncopyable module: compare with the module as it is
        ref_module, xin = module, x
    else:
        xin = x.double()
    with torch.no_grad():
        ref = ref_module(xin)
    if not isinstance(ref, torch.Tensor):
        return
    ref = ref.detach().double().cpu().numpy().reshape(x.shape[0], -1)
    got = forward(net, x.double().cpu().numpy())
    if dropped is not None:     # the module's output went through the dropped (Log)Softmax
        e = np.exp(got - got.max(axis=1, keepdims=True))
        got = e / e.sum(axis=1, keepdims=True)
        if dropped == "LogSoftmax":
            got = np.log(got)
    if got.shape != ref.shape:
        raise NetworkFormatError(f"from_torch: the converted network gives {got.shape[1]} outputs per example, "
                                 f"the module {ref.shape[1]}")
    scale = np.maximum(np.abs(ref).max(axis=1), 1e-300)
    err = (np.abs(got - ref).max(axis=1) / scale).max()
    # against the float64 copy the two agree to rounding; against the module itself, to its float32 rounding
    tol = 1e-6 if ref_module is not module or x.dtype == torch.float64 else 1e-4
    if not err <= tol:
        raise NetworkFormatError(f"from_torch: the converted network differs from the module on the example "
                                 f"(relative difference {err:.3g} > {tol:g}); please report this module")


def _rational(v):
    return sp.Rational(float(v)) if isinstance(v, float) else sp.Integer(int(v))


def _pair(v):
    if isinstance(v, (tuple, list)):
        if len(v) != 2:
            return None
        return tuple(int(a) for a in v)
    return (int(v), int(v))


class _Converter:
    def __init__(self, torch, gm, x, shapes):
        self.torch = torch
        self.gm = gm
        self.F = torch.nn.functional
        (self.B1, self.s1), (self.B2, self.s2) = shapes
        self.env = {}         # fx node name → ("t", network node) | ("c", value) | ("m", None)
        self.nodes = []
        self.shape = {}
        self.taken = set()
        self.notes = []
        self.dtype_max = float(torch.finfo(x.dtype).max)
        self.output_node = None
        self.dropped = None

    # ------------------------------------------------------------------ messages
    def fail(self, name, typ, reason):
        supported = (f"supported modules: {', '.join(SUPPORTED_MODULES)}; functions and methods: "
                     f"{', '.join(SUPPORTED_FUNCTIONS)}")
        raise _Refusal(f"from_torch: node {name!r} ({typ}): {reason}; {supported}")

    # ------------------------------------------------------------------ helpers
    def sample_shape(self, fxnode):
        """The per-sample shape torch computed for ``fxnode`` (batch axis checked)."""
        a, b = self.s1.get(fxnode.name), self.s2.get(fxnode.name)
        if a is None or b is None:
            return None
        if len(a) < 2 or a[0] != self.B1 or b[0] != self.B2 or a[1:] != b[1:]:
            return False
        return tuple(a[1:])

    def add(self, fxnode, name, op, inputs, typ):
        base, k = name, 2
        while name in self.taken:
            name = f"{base}_{k}"
            k += 1
        try:
            shape = tuple(op.out_shape([self.shape[i] for i in inputs])) if inputs else tuple(op.out_shape([]))
        except NetworkFormatError as e:
            self.fail(name, typ, str(e))
        want = self.sample_shape(fxnode)
        if want is False:
            self.fail(name, typ, "its output does not keep the batch axis first")
        if want is not None and want != shape:
            self.fail(name, typ, f"torch computes samples of shape {want}, symft's op {shape} "
                                 "(e.g. ceil_mode=True changing the output size)")
        self.taken.add(name)
        self.nodes.append((name, op, tuple(inputs)))
        self.shape[name] = shape
        self.env[fxnode.name] = ("t", name)
        return name

    def tensor(self, fxnode, arg, name, typ):
        if not isinstance(arg, self.torch.fx.Node) or self.env.get(arg.name, ("?",))[0] != "t":
            self.fail(name, typ, f"expected a tensor computed by the network as input, got {arg!r}")
        return self.env[arg.name][1]

    def bind(self, fxnode, name, typ, names, defaults):
        out = dict(defaults)
        for k, v in zip(names, fxnode.args):
            out[k] = v
        if len(fxnode.args) > len(names):
            self.fail(name, typ, f"unexpected positional arguments {list(fxnode.args[len(names):])}")
        for k, v in fxnode.kwargs.items():
            if k not in names:
                self.fail(name, typ, f"argument {k!r} is not supported")
            out[k] = v
        return out

    @staticmethod
    def array(t):
        return t.detach().cpu().double().numpy()

    # ------------------------------------------------------------------ the graph
    def run(self) -> Network:
        placeholders = [n for n in self.gm.graph.nodes if n.op == "placeholder"]
        if len(placeholders) != 1:
            raise _Refusal(f"from_torch: the module's forward takes {len(placeholders)} tensors; "
                           "symft converts modules with one input")
        for n in self.gm.graph.nodes:
            if n.op == "placeholder":
                shp = self.sample_shape(n)
                name = str(n.target)
                self.taken.add(name)
                self.nodes.append((name, Input(shp), ()))
                self.shape[name] = shp
                self.env[n.name] = ("t", name)
            elif n.op == "get_attr":
                obj = self.gm
                for part in str(n.target).split("."):
                    obj = getattr(obj, part)
                self.env[n.name] = ("c", obj)
            elif n.op == "call_module":
                self.call_module(n)
            elif n.op == "call_function":
                self.call_function(n)
            elif n.op == "call_method":
                self.call_method(n)
            elif n.op == "output":
                self.output_node = n
        out = self.output_node.args[0] if self.output_node is not None else None
        if not isinstance(out, self.torch.fx.Node) or self.env.get(out.name, ("?",))[0] != "t":
            raise _Refusal(f"from_torch: the module must return one tensor, got {out!r}")
        meta = {"source": "torch"}
        if self.notes:
            meta["notes"] = list(self.notes)
        try:
            return Network(self.nodes, self.env[out.name][1], metadata=meta)
        except NetworkFormatError as e:
            raise _Refusal(f"from_torch: {e}") from None

    # ------------------------------------------------------------------ modules
    def call_module(self, n):
        mod = self.gm.get_submodule(str(n.target))
        name, typ = str(n.target), type(mod).__name__
        nn = self.torch.nn
        if len(n.args) != 1 or n.kwargs:
            self.fail(name, typ, "expected one tensor argument")
        x = self.tensor(n, n.args[0], name, typ)
        if type(mod) not in self._module_types():
            self.fail(name, typ, "unsupported module")
        if isinstance(mod, nn.Linear):
            if len(self.shape[x]) != 1:
                self.fail(name, typ, f"expected a batch of vectors, got samples of shape {self.shape[x]}")
            b = None if mod.bias is None else float_array(self.array(mod.bias))
            self.add(n, name, Dense(float_array(self.array(mod.weight)), b), [x], typ)
        elif isinstance(mod, nn.Conv2d):
            self.conv(n, name, typ, mod, x)
        elif isinstance(mod, (nn.BatchNorm1d, nn.BatchNorm2d)):
            self.batchnorm(n, name, typ, mod, x)
        elif isinstance(mod, nn.AvgPool2d):
            self.avgpool(n, name, typ, x, mod.kernel_size, mod.stride, mod.padding, mod.ceil_mode,
                         mod.count_include_pad, mod.divisor_override)
        elif isinstance(mod, nn.MaxPool2d):
            self.maxpool(n, name, typ, x, mod.kernel_size, mod.stride, mod.padding, mod.dilation, mod.ceil_mode,
                         mod.return_indices)
        elif isinstance(mod, nn.AdaptiveAvgPool2d):
            self.adaptive(n, name, typ, x, mod.output_size)
        elif isinstance(mod, nn.Flatten):
            self.reshape(n, name, typ, x)
        elif isinstance(mod, (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.AlphaDropout, nn.Identity)):
            self.add(n, name, Identity(), [x], typ)
        elif isinstance(mod, (nn.Softmax, nn.LogSoftmax)):
            self.softmax(n, name, typ, x, mod.dim)
        else:
            self.activation(n, name, typ, x, self.module_activation(name, typ, mod))

    def _module_types(self):
        nn = self.torch.nn
        return {getattr(nn, c) for c in SUPPORTED_MODULES}

    def module_activation(self, name, typ, mod):
        nn = self.torch.nn
        if isinstance(mod, nn.ReLU):
            return get_activation("relu")
        if isinstance(mod, nn.LeakyReLU):
            return parametric_activation("leaky_relu", _rational(mod.negative_slope))
        if isinstance(mod, nn.Sigmoid):
            return get_activation("sigmoid")
        if isinstance(mod, nn.Tanh):
            return get_activation("tanh")
        if isinstance(mod, nn.Softplus):
            return self.softplus(name, typ, mod.beta)
        if isinstance(mod, nn.ELU):
            return self.elu(name, typ, mod.alpha)
        if isinstance(mod, nn.ReLU6):
            return get_activation("relu6")
        if isinstance(mod, nn.Hardtanh):
            return self.clip(name, typ, mod.min_val, mod.max_val)
        if isinstance(mod, nn.Hardsigmoid):
            return get_activation("hardsigmoid(1/6,1/2)")
        self.fail(name, typ, "unsupported module")

    def softplus(self, name, typ, beta):
        if beta != 1:
            self.fail(name, typ, f"beta={beta} is not supported (only beta=1)")
        return get_activation("softplus")

    def elu(self, name, typ, alpha):
        if alpha < 0:
            self.fail(name, typ, f"alpha={alpha} < 0 is not supported")
        return parametric_activation("elu", _rational(alpha))

    def clip(self, name, typ, lo, hi):
        lo = None if lo is None else float(lo)
        hi = None if hi is None else float(hi)
        if lo is not None and hi is not None and not lo < hi:
            self.fail(name, typ, f"min {lo} must be below max {hi}")
        if lo is None and hi is None:
            return get_activation("linear")
        if lo == 0 and hi is None:
            return get_activation("relu")
        if lo == 0 and hi == 6:
            return get_activation("relu6")
        if lo == -1 and hi == 1:
            return get_activation("hardtanh")
        return parametric_activation("clip", _rational(-self.dtype_max if lo is None else lo),
                                     _rational(self.dtype_max if hi is None else hi))

    def activation(self, n, name, typ, x, act):
        self.add(n, name, ActivationOp(act), [x], typ)

    def conv(self, n, name, typ, mod, x):
        if mod.padding_mode != "zeros":
            self.fail(name, typ, f"padding_mode={mod.padding_mode!r} is not supported (only 'zeros')")
        if len(self.shape[x]) != 3:
            self.fail(name, typ, f"expected a batch of (C, H, W) images, got samples of shape {self.shape[x]}")
        k, d = tuple(mod.kernel_size), tuple(mod.dilation)
        if mod.padding == "valid":
            pad = (0, 0, 0, 0)
        elif mod.padding == "same":
            tot = [di * (ki - 1) for ki, di in zip(k, d)]
            pad = (tot[0] // 2, tot[1] // 2, tot[0] - tot[0] // 2, tot[1] - tot[1] // 2)
        else:
            ph, pw = mod.padding
            pad = (ph, pw, ph, pw)
        b = None if mod.bias is None else float_array(self.array(mod.bias))
        op = Conv2d(float_array(self.array(mod.weight)), b, stride=tuple(mod.stride), padding=pad, dilation=d,
                    groups=mod.groups)
        self.add(n, name, op, [x], typ)

    def batchnorm(self, n, name, typ, mod, x):
        if mod.running_mean is None or mod.running_var is None:
            self.fail(name, typ, "track_running_stats=False: batch statistics at inference are not supported")
        want = 3 if isinstance(mod, self.torch.nn.BatchNorm2d) else None
        shp = self.shape[x]
        if (want is not None and len(shp) != want) or (want is None and len(shp) not in (1, 2)):
            self.fail(name, typ, f"unexpected samples of shape {shp}")
        mean, var = self.array(mod.running_mean), self.array(mod.running_var)
        gamma = self.array(mod.weight) if mod.weight is not None else np.ones_like(mean)
        beta = self.array(mod.bias) if mod.bias is not None else np.zeros_like(mean)
        scale = gamma / np.sqrt(var + float(mod.eps))            # once, in float64
        shift = beta - mean * scale
        self.add(n, name, BatchNorm(float_array(scale), float_array(shift)), [x], typ)

    def avgpool(self, n, name, typ, x, kernel, stride, padding, ceil_mode, count_include_pad, divisor):
        if divisor is not None:
            self.fail(name, typ, "divisor_override is not supported")
        k, s, p = _pair(kernel), _pair(stride if stride not in (None, [], ()) else kernel), _pair(padding)
        if None in (k, s, p):
            self.fail(name, typ, "only 2-D pooling is supported")
        self.add(n, name, AvgPool2d(k, s, (p[0], p[1], p[0], p[1]), count_include_pad=bool(count_include_pad)),
                 [x], typ)

    def maxpool(self, n, name, typ, x, kernel, stride, padding, dilation, ceil_mode, return_indices):
        if return_indices:
            self.fail(name, typ, "return_indices=True is not supported")
        k, s = _pair(kernel), _pair(stride if stride not in (None, [], ()) else kernel)
        p, d = _pair(padding), _pair(dilation)
        if None in (k, s, p, d):
            self.fail(name, typ, "only 2-D pooling is supported")
        self.add(n, name, MaxPool2d(k, s, (p[0], p[1], p[0], p[1]), d), [x], typ)

    def adaptive(self, n, name, typ, x, output_size):
        C, H, W = self.shape[x]
        o = output_size if isinstance(output_size, (tuple, list)) else (output_size, output_size)
        oh, ow = (H if o[0] is None else int(o[0])), (W if o[1] is None else int(o[1]))
        if H % oh or W % ow:
            self.fail(name, typ, f"output size {(oh, ow)} does not divide the input size {(H, W)}")
        k = (H // oh, W // ow)
        self.add(n, name, AvgPool2d(k, k), [x], typ)

    def reshape(self, n, name, typ, x):
        want = self.sample_shape(n)
        if want is False or want is None or not want:
            self.fail(name, typ, "its output does not keep the batch axis first")
        if want == self.shape[x]:
            op = Identity()
        elif len(want) == 1:
            op = Flatten()
        else:
            op = Reshape(want)
        self.add(n, name, op, [x], typ)

    def softmax(self, n, name, typ, x, dim):
        users = list(n.users)
        if len(users) != 1 or users[0].op != "output":
            self.fail(name, typ, f"{typ} is converted only as the last call (its output the module's output)")
        r = len(self.shape[x]) + 1
        d = None if dim is None else (dim + r if dim < 0 else dim)
        if len(self.shape[x]) != 1 or d not in (1, None):
            self.fail(name, typ, f"dim={dim} is not supported (the {typ} must run over the whole sample)")
        self.dropped = typ
        self.notes.append(f"the final {typ} {name!r} was dropped: it does not change which output is largest, "
                          "so class decisions are unchanged; the network's outputs are its inputs (the logits)")
        self.env[n.name] = ("t", x)

    # ------------------------------------------------------------------ functions and methods
    def plus(self, n, name, typ, a, b):
        ta = isinstance(a, self.torch.fx.Node) and self.env.get(a.name, ("?",))[0] == "t"
        tb = isinstance(b, self.torch.fx.Node) and self.env.get(b.name, ("?",))[0] == "t"
        if ta and tb:
            xa, xb = self.env[a.name][1], self.env[b.name][1]
            if self.shape[xa] != self.shape[xb]:
                self.fail(name, typ, f"adds tensors of different shapes {self.shape[xa]} and {self.shape[xb]} "
                                     "(broadcasting between data tensors is not supported)")
            self.add(n, name, Add(), [xa, xb], typ)
            return
        if not (ta or tb):
            self.fail(name, typ, "adds two constants")
        x, c = (self.env[a.name][1], b) if ta else (self.env[b.name][1], a)
        if isinstance(c, self.torch.fx.Node):
            kind, val = self.env.get(c.name, ("?", None))
            if kind != "c":
                self.fail(name, typ, f"adds {c!r}, which is neither a tensor of the network nor a constant")
            c = val
        if isinstance(c, self.torch.Tensor):
            c = self.array(c)
        elif isinstance(c, (int, float)) and not isinstance(c, bool):
            c = np.array(float(c))
        else:
            self.fail(name, typ, f"adds {type(c).__name__}")
        shp = self.shape[x]
        full = (1,) + shp
        try:
            bc = np.broadcast_to(c, full) if c.ndim <= len(full) else None
        except ValueError:
            bc = None
        per = None
        if bc is not None and bc.shape == full:
            flat = np.asarray(bc[0]).reshape(shp[0], -1)
            if (flat == flat[:, :1]).all():
                per = flat[:, 0].astype(np.float64)
        if per is None:
            self.fail(name, typ, f"adds a constant of shape {c.shape} that is not one number per channel")
        self.add(n, name, BatchNorm(float_array(np.ones_like(per)), float_array(per)), [x], typ)

    def function_activation(self, n, name, typ, fn, args):
        F, torch = self.F, self.torch
        if fn in (torch.relu, F.relu):
            return get_activation("relu")
        if fn in (torch.sigmoid, F.sigmoid):
            return get_activation("sigmoid")
        if fn in (torch.tanh, F.tanh):
            return get_activation("tanh")
        if fn is F.relu6:
            return get_activation("relu6")
        if fn is F.hardsigmoid:
            return get_activation("hardsigmoid(1/6,1/2)")
        if fn is F.leaky_relu:
            a = self.bind(n, name, typ, ["input", "negative_slope", "inplace"], {"negative_slope": 0.01})
            return parametric_activation("leaky_relu", _rational(a["negative_slope"]))
        if fn is F.elu:
            a = self.bind(n, name, typ, ["input", "alpha", "inplace"], {"alpha": 1.0})
            return self.elu(name, typ, a["alpha"])
        if fn is F.softplus:
            a = self.bind(n, name, typ, ["input", "beta", "threshold"], {"beta": 1.0, "threshold": 20.0})
            return self.softplus(name, typ, a["beta"])
        if fn is F.hardtanh:
            a = self.bind(n, name, typ, ["input", "min_val", "max_val", "inplace"], {"min_val": -1.0, "max_val": 1.0})
            return self.clip(name, typ, a["min_val"], a["max_val"])
        if fn in (torch.clamp, torch.clip):
            a = self.bind(n, name, typ, ["input", "min", "max"], {"min": None, "max": None})
            for key in ("min", "max"):
                if a[key] is not None and not isinstance(a[key], (int, float)):
                    self.fail(name, typ, f"{key} must be a number")
            return self.clip(name, typ, a["min"], a["max"])
        return None

    def call_function(self, n):
        fn = n.target
        name = n.name
        typ = getattr(fn, "__name__", str(fn))
        F, torch = self.F, self.torch
        if fn is getattr:
            self.env[n.name] = ("m", None)        # x.shape: only for reshapes
            return
        if fn is operator.getitem:
            base = n.args[0]
            if isinstance(base, torch.fx.Node) and self.env.get(base.name, ("?",))[0] == "m":
                self.env[n.name] = ("m", None)
                return
            self.fail(name, typ, "indexing a tensor is not supported")
        if fn in (operator.add, operator.iadd, torch.add):
            a = self.bind(n, name, typ, ["input", "other"], {"alpha": 1})
            if a.get("alpha", 1) != 1:
                self.fail(name, typ, f"alpha={a['alpha']} is not supported")
            self.plus(n, name, "add", a["input"], a["other"])
            return
        if not n.args:
            self.fail(name, typ, "expected a tensor argument")
        x = self.tensor(n, n.args[0], name, typ)
        act = self.function_activation(n, name, typ, fn, n.args)
        if act is not None:
            self.activation(n, name, typ, x, act)
        elif fn is F.dropout:
            a = self.bind(n, name, typ, ["input", "p", "training", "inplace"], {"p": 0.5, "training": True})
            if a["training"]:
                self.fail(name, typ, "training=True (pass training=self.training) is not supported")
            self.add(n, name, Identity(), [x], typ)
        elif fn is torch.flatten:
            self.reshape(n, name, typ, x)
        elif fn is F.avg_pool2d:
            a = self.bind(n, name, typ, ["input", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad",
                                         "divisor_override"],
                          {"stride": None, "padding": 0, "ceil_mode": False, "count_include_pad": True,
                           "divisor_override": None})
            self.avgpool(n, name, typ, x, a["kernel_size"], a["stride"], a["padding"], a["ceil_mode"],
                         a["count_include_pad"], a["divisor_override"])
        elif fn is F.max_pool2d:
            a = self.bind(n, name, typ, ["input", "kernel_size", "stride", "padding", "dilation", "ceil_mode",
                                         "return_indices"],
                          {"stride": None, "padding": 0, "dilation": 1, "ceil_mode": False, "return_indices": False})
            self.maxpool(n, name, typ, x, a["kernel_size"], a["stride"], a["padding"], a["dilation"], a["ceil_mode"],
                         a["return_indices"])
        elif fn is F.adaptive_avg_pool2d:
            a = self.bind(n, name, typ, ["input", "output_size"], {})
            self.adaptive(n, name, typ, x, a["output_size"])
        else:
            self.fail(name, typ, "unsupported function")

    def call_method(self, n):
        meth, name = str(n.target), n.name
        typ = f"Tensor.{meth}"
        if meth in ("size", "dim"):
            self.env[n.name] = ("m", None)
            return
        x = self.tensor(n, n.args[0], name, typ)
        acts = {"relu": "relu", "sigmoid": "sigmoid", "tanh": "tanh"}
        if meth in acts:
            if len(n.args) > 1 or n.kwargs:
                self.fail(name, typ, "unexpected arguments")
            self.activation(n, name, typ, x, get_activation(acts[meth]))
        elif meth in ("clamp", "clip"):
            a = self.bind(n, name, typ, ["self", "min", "max"], {"min": None, "max": None})
            self.activation(n, name, typ, x, self.clip(name, typ, a["min"], a["max"]))
        elif meth in ("view", "reshape", "flatten", "squeeze", "unsqueeze"):
            self.reshape(n, name, typ, x)
        elif meth == "contiguous":
            self.add(n, name, Identity(), [x], typ)
        elif meth in ("add", "__add__", "add_"):
            a = self.bind(n, name, typ, ["self", "other"], {"alpha": 1})
            if a.get("alpha", 1) != 1:
                self.fail(name, typ, f"alpha={a['alpha']} is not supported")
            self.plus(n, name, typ, a["self"], a["other"])
        else:
            self.fail(name, typ, "unsupported method")
