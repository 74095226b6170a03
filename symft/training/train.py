r"""Training with the Eq. 1 regularizer, deterministic under a seed, ending with a symft network and its Var Δ.

:func:`train` builds (or copies) a PyTorch model, trains it with softmax
cross-entropy plus :class:`~symft.training.regularizer.Regularizer` by
minibatch Adam, and returns a frozen :class:`TrainResult`: the trained
:class:`~symft.graph.network.Network` (through
:func:`symft.io.torch.from_torch`), the per-epoch history (loss, accuracy and
every regularizer term), the final test accuracy and ``var_delta``, the
output error variance ``Var Δ`` at the crash probabilities ``p`` averaged over
test inputs, from :func:`symft.engines.moments.moments` (which chooses the
source — exact enumeration, a rigorous enclosure, T1 plus remainder … — and
labels it).

Determinism: the parameters are initialised after ``torch.manual_seed(seed)``,
the data split and the minibatch order come from ``numpy.random.default_rng(seed)``
and torch runs with deterministic algorithms (the previous setting is restored
afterwards), so two runs with one seed in one environment give bit-identical
weights.  Arithmetic is float64 unless ``dtype="float32"``; the dtype is
recorded in the result.

Data: ``"digits"`` (scikit-learn's 8×8 digits, pixels / 16, split as
``examples/train_digits.py`` does with its default seed 0 — the split of
:func:`symft.io.datasets.digits`, the same for every training seed), a path to an ``.npz`` file with arrays
``X, y`` (split likewise) or ``X_train, y_train, X_test, y_test``, or the same
as a tuple ``(X, y)`` / ``(X_train, y_train, X_test, y_test)``.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(200, 4)); y = (X[:, 0] + X[:, 1] > 0).astype(int)
>>> r = train((X, y), arch=(4, 6, 2), activation="tanh", p=1e-3, reg={"lam": 1.0}, epochs=8, seed=0)
>>> r.accuracy > 0.8, r.var_label, sorted(r.as_dict())[:3]
(True, 'rigorous', ['accuracy', 'activation', 'arch'])
"""

from __future__ import annotations

import copy
import os
import re
from dataclasses import asdict, dataclass, field
from numbers import Integral, Real
from typing import Mapping

import numpy as np

from ..io.datasets import stratified_split
from ..errors import InvalidArgument, MissingDependency
from ..progress import progress as _progress
from .regularizer import Regularizer
from ..results import result

__all__ = ["ACTIVATIONS", "DTYPES", "stratified_split", "load_data", "parse_arch", "is_conv_arch", "build_model",
           "image_inputs", "hidden_sites", "EpochRecord",
           "TrainResult", "train", "evaluate_var_delta"]

#: Activations :func:`build_model` knows, by name.
ACTIVATIONS = ("sigmoid", "tanh", "relu", "softplus", "elu")
#: The arithmetic :func:`train` runs in.
DTYPES = ("float64", "float32")
_INSTALL = "pip install symft[torch]"


def _torch():
    try:
        import torch
    except ImportError:
        raise MissingDependency(f"training needs torch: {_INSTALL}") from None
    return torch


# ---------------------------------------------------------------------- data

def _labels(y, name):
    y = np.asarray(y)
    if y.ndim != 1 or y.size == 0 or not np.issubdtype(y.dtype, np.integer) or y.min() < 0:
        raise InvalidArgument(f"{name}: expected a non-empty vector of class numbers 0, 1, …")
    return y.astype(np.int64)


def _features(X, name):
    try:
        X = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidArgument(f"{name}: expected an array of numbers") from None
    if X.ndim < 2 or X.shape[0] == 0 or not np.all(np.isfinite(X)):
        raise InvalidArgument(f"{name}: expected a non-empty batch of finite inputs, batch axis first, "
                              f"got shape {X.shape}")
    return X


def load_data(data, seed: int = 0, test_fraction: float = 0.25):
    """``(X_train, y_train, X_test, y_test)`` (float64 inputs, int64 labels) from ``"digits"``, a ``.npz`` path
    or arrays (see the module docstring); a single ``(X, y)`` is split by :func:`stratified_split` with
    ``numpy.random.default_rng(seed)``.

    Examples
    --------
    >>> Xtr, ytr, Xte, yte = load_data("digits", seed=0)
    >>> Xtr.shape, Xte.shape, float(Xtr.max())
    ((1347, 64), (450, 64), 1.0)
    """
    if isinstance(data, str) and data == "digits":
        # the fixed split of the examples and of `symft accuracy --data digits` (symft.io.datasets), whatever
        # the training seed: a network trained here is never evaluated on its own training images
        try:
            import sklearn  # noqa: F401
        except ImportError:
            raise MissingDependency("data 'digits' needs scikit-learn: pip install scikit-learn") from None
        from ..io.datasets import digits

        tr, te = digits("train"), digits("test")
        return tr.X, tr.y, te.X, te.y
    elif isinstance(data, (str, os.PathLike)):
        try:
            with np.load(data) as f:
                keys = set(f.files)
                if {"X_train", "y_train", "X_test", "y_test"} <= keys:
                    arrays = tuple(f[k] for k in ("X_train", "y_train", "X_test", "y_test"))
                elif {"X", "y"} <= keys:
                    arrays = (f["X"], f["y"])
                else:
                    raise InvalidArgument(f"data: {os.fspath(data)!r} has arrays {sorted(keys)}; expected X, y or "
                                          f"X_train, y_train, X_test, y_test")
        except (OSError, ValueError) as e:
            raise InvalidArgument(f"data: cannot read {os.fspath(data)!r} as an .npz file ({e})") from None
    elif isinstance(data, (tuple, list)) and len(data) in (2, 4):
        arrays = tuple(data)
    else:
        raise InvalidArgument("data: expected 'digits', an .npz path, (X, y) or (X_train, y_train, X_test, y_test)")
    if len(arrays) == 2:
        X, y = _features(arrays[0], "data X"), _labels(arrays[1], "data y")
        if X.shape[0] != y.size:
            raise InvalidArgument(f"data: X has {X.shape[0]} examples but y has {y.size}")
        tr, te = stratified_split(y, test_fraction, np.random.default_rng(seed))
        if tr.size == 0 or te.size == 0:
            counts = np.bincount(y)
            need = next(n for n in range(1, 10 ** 6) if round(test_fraction * n) >= 1)
            raise InvalidArgument(
                f"data: {X.shape[0]} example{'s' if X.shape[0] != 1 else ''} (per class: "
                f"{', '.join(map(str, counts[counts > 0]))}) leave the {'test' if te.size == 0 else 'training'} part "
                f"empty: each class puts {test_fraction:g} of its examples, rounded, in the test part; give a class "
                f"at least {need} examples, or the arrays X_train, y_train, X_test, y_test")
        return X[tr], y[tr], X[te], y[te]
    Xtr, ytr = _features(arrays[0], "data X_train"), _labels(arrays[1], "data y_train")
    Xte, yte = _features(arrays[2], "data X_test"), _labels(arrays[3], "data y_test")
    if Xtr.shape[0] != ytr.size or Xte.shape[0] != yte.size or Xtr.shape[1:] != Xte.shape[1:]:
        raise InvalidArgument("data: X_train, y_train, X_test, y_test do not match in examples or input shape")
    return Xtr, ytr, Xte, yte


# ---------------------------------------------------------------------- models

def _act_module(nn, name):
    mods = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU, "softplus": nn.Softplus, "elu": nn.ELU}
    if name not in mods:
        raise InvalidArgument(f"activation: expected one of {', '.join(ACTIVATIONS)}, got {name!r}")
    return mods[name]()


_CONV = re.compile(r"conv(\d+)k(\d+)(?:p(\d+))?(?:s(\d+))?")
_POOL = re.compile(r"(max)?pool(\d+)")


def parse_arch(text) -> tuple:
    r"""Read an architecture: dense widths ``64,32,16,10`` or conv layers then dense widths ``conv8k3,pool2,32,10``.

    The mini-language, comma-separated:

    * ``W0,W1,…,WL`` (integers only): a dense chain, input width first,
      output width last;
    * ``conv{C}k{K}[p{P}][s{S}]``: a convolution with ``C`` output channels,
      a ``K×K`` kernel, zero padding ``P`` (default 0) and stride ``S``
      (default 1), followed by the activation;
    * ``pool{K}``: ``K×K`` average pooling (stride ``K``); ``maxpool{K}``: max
      pooling;
    * after the conv and pool layers, the integers are the widths of the
      dense layers (the input is flattened first), the last one the output.
      With conv layers the input shape comes from the data (8×8 digits are
      read as one-channel images).

    Returns
    -------
    tuple
        Integers, and strings for the conv and pool layers (normalised).

    Raises
    ------
    InvalidArgument
        Naming ``arch`` and the token it cannot read.

    Examples
    --------
    >>> parse_arch("64,32,16,10")
    (64, 32, 16, 10)
    >>> parse_arch("conv8k3p1, pool2, 32, 10")
    ('conv8k3p1', 'pool2', 32, 10)
    """
    tokens = [t.strip().lower() for t in str(text).split(",")] if isinstance(text, str) else list(text)
    out = []
    for t in tokens:
        if isinstance(t, Integral) and not isinstance(t, bool):
            out.append(int(t))
        elif isinstance(t, str) and t.isdigit():
            out.append(int(t))
        elif isinstance(t, str) and (_CONV.fullmatch(t) or _POOL.fullmatch(t)):
            out.append(t)
        else:
            raise InvalidArgument(f"arch: cannot read {t!r}; expected a width (32), conv{{C}}k{{K}}[p{{P}}][s{{S}}] "
                                  f"(conv8k3), pool{{K}} or maxpool{{K}}, e.g. 64,32,16,10 or conv8k3,pool2,32,10")
    if any(isinstance(t, int) and t < 1 for t in out):
        raise InvalidArgument(f"arch: widths must be positive, got {text!r}")
    if not any(isinstance(t, str) for t in out):
        if len(out) < 2:
            raise InvalidArgument(f"arch: expected at least two positive widths (input … output), got {text!r}")
        return tuple(out)
    first_int = next((i for i, t in enumerate(out) if isinstance(t, int)), None)
    if first_int is None or any(isinstance(t, str) for t in out[first_int:]):
        raise InvalidArgument(f"arch: conv and pool layers come first, then at least one dense width (the last is "
                              f"the output), got {text!r}")
    if not isinstance(out[0], str) or not _CONV.fullmatch(out[0]):
        raise InvalidArgument(f"arch: a convolutional architecture starts with a conv layer, got {text!r}")
    for t in out:
        m = _CONV.fullmatch(t) if isinstance(t, str) else None
        if m and (int(m.group(1)) < 1 or int(m.group(2)) < 1 or (m.group(4) and int(m.group(4)) < 1)):
            raise InvalidArgument(f"arch: {t!r} needs positive channels, kernel and stride")
        m = _POOL.fullmatch(t) if isinstance(t, str) else None
        if m and int(m.group(2)) < 1:
            raise InvalidArgument(f"arch: {t!r} needs a positive pool size")
    return tuple(out)


def is_conv_arch(arch) -> bool:
    """Whether a parsed architecture has conv layers (its input is an image, not a vector).

    Examples
    --------
    >>> is_conv_arch(("conv4k3", 10)), is_conv_arch((64, 10))
    (True, False)
    """
    return any(isinstance(t, str) for t in arch)


def build_model(arch, activation: str = "sigmoid", input_shape=None):
    """The PyTorch model of an architecture (:func:`parse_arch`): dense, or conv/pool layers then dense layers.

    A dense chain is ``nn.Sequential(Linear, act, …, Linear)``; a conv
    architecture ``Conv2d, act, [pool,] …, Flatten, Linear, act, …, Linear``
    on inputs of shape ``input_shape = (C, H, W)``.  The output layer is
    linear.  Initialised by torch's default (seed it first with
    ``torch.manual_seed``); float32 as torch makes it.

    Examples
    --------
    >>> build_model((4, 3, 2), "tanh")
    Sequential(
      (0): Linear(in_features=4, out_features=3, bias=True)
      (1): Tanh()
      (2): Linear(in_features=3, out_features=2, bias=True)
    )
    >>> [type(m).__name__ for m in build_model("conv2k3,pool2,5,3", "relu", (1, 8, 8))]
    ['Conv2d', 'ReLU', 'AvgPool2d', 'Flatten', 'Linear', 'ReLU', 'Linear']
    """
    torch = _torch()
    nn = torch.nn
    if isinstance(arch, str):
        arch = parse_arch(arch)
    try:
        arch = parse_arch(tuple(arch))
    except TypeError:
        raise InvalidArgument(f"arch: expected layer widths such as 64,32,16,10, got {arch!r}") from None
    _act_module(nn, activation)      # check the name
    if not is_conv_arch(arch):
        widths = list(arch)
        mods = []
        for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
            mods.append(nn.Linear(a, b))
            if i < len(widths) - 2:
                mods.append(_act_module(nn, activation))
        return nn.Sequential(*mods)
    try:
        shape = tuple(int(v) for v in input_shape)
    except TypeError:
        shape = ()
    if len(shape) != 3 or min(shape) < 1:
        raise InvalidArgument(f"input_shape: a conv architecture needs images (C, H, W), got {input_shape!r}")
    mods, channels = [], shape[0]
    dense = [t for t in arch if isinstance(t, int)]
    for t in arch:
        if isinstance(t, int):
            break
        m = _CONV.fullmatch(t)
        if m:
            c, k = int(m.group(1)), int(m.group(2))
            mods += [nn.Conv2d(channels, c, k, stride=int(m.group(4) or 1), padding=int(m.group(3) or 0)),
                     _act_module(nn, activation)]
            channels = c
        else:
            m = _POOL.fullmatch(t)
            k = int(m.group(2))
            mods.append(nn.MaxPool2d(k) if m.group(1) else nn.AvgPool2d(k))
    mods.append(nn.Flatten())
    try:
        with torch.no_grad():
            n = int(nn.Sequential(*mods)(torch.zeros((1,) + shape)).shape[1])
    except RuntimeError:
        raise InvalidArgument(f"arch: the conv and pool layers do not fit an input of shape {shape}") from None
    if n < 1:
        raise InvalidArgument(f"arch: the conv and pool layers leave nothing of an input of shape {shape}")
    widths = [n] + dense
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        mods.append(nn.Linear(a, b))
        if i < len(widths) - 2:
            mods.append(_act_module(nn, activation))
    return nn.Sequential(*mods)


def image_inputs(X, channels: int = 1):
    """Inputs as images ``(B, C, H, W)``: kept when 4-D, a flat square ``(B, C·s²)`` read as ``C`` channels of ``s×s``.

    Examples
    --------
    >>> import numpy as np
    >>> image_inputs(np.zeros((5, 64))).shape
    (5, 1, 8, 8)
    """
    X = np.asarray(X)
    if X.ndim == 4:
        return X
    if X.ndim == 3:
        return X[:, None]
    n = X.shape[1] // channels if X.ndim == 2 and X.shape[1] % channels == 0 else 0
    s = int(round(np.sqrt(n)))
    if X.ndim != 2 or n == 0 or s * s != n:
        raise InvalidArgument(f"data: a conv architecture needs images; inputs of shape {X.shape[1:]} are not "
                              f"{channels}-channel squares (give X as (N, C, H, W) in the .npz)")
    return X.reshape(X.shape[0], channels, s, s)


def _from_network(net):
    """A symft network whose ops form one sequence (dense, conv, pooling, flatten, activations) as ``nn.Sequential``.

    Weights are copied in float64.  A chain of dense layers and a conv net
    such as ``examples/digits_cnn.onnx`` qualify; branches (residual adds),
    batch norm and activations outside :data:`ACTIVATIONS` are refused in one
    line naming the node.
    """
    torch = _torch()
    nn = torch.nn
    from ..graph.numbers import float_array
    mods, prev = [], net.input
    for node in net.nodes:
        kind = node.op.kind
        if kind == "input":
            continue
        if node.inputs != (prev,):
            raise InvalidArgument(f"init: node {node.name!r} does not follow the previous one (a branch); training "
                                  f"starts from a sequence of layers")
        prev = node.name
        op = node.op
        if kind == "dense":
            W = float_array(op.weight)
            m = nn.Linear(W.shape[1], W.shape[0]).double()
            with torch.no_grad():
                m.weight.copy_(torch.as_tensor(np.array(W)))
                m.bias.copy_(torch.as_tensor(float_array(op.bias) if op.bias is not None else np.zeros(W.shape[0])))
        elif kind == "conv2d":
            W = float_array(op.weight)
            t, l, b, r = op.padding
            if (t, l) != (b, r):
                raise InvalidArgument(f"init: node {node.name!r} has asymmetric padding {op.padding}")
            m = nn.Conv2d(W.shape[1] * op.groups, W.shape[0], tuple(W.shape[2:]), stride=tuple(op.stride),
                          padding=(t, l), dilation=tuple(op.dilation), groups=op.groups).double()
            with torch.no_grad():
                m.weight.copy_(torch.as_tensor(np.array(W)))
                m.bias.copy_(torch.as_tensor(float_array(op.bias) if op.bias is not None else np.zeros(W.shape[0])))
        elif kind in ("avgpool2d", "maxpool2d"):
            t, l, b, r = op.padding
            if (t, l) != (b, r):
                raise InvalidArgument(f"init: node {node.name!r} has asymmetric padding {op.padding}")
            stride = tuple(op.stride) if op.stride is not None else tuple(op.kernel)
            if kind == "avgpool2d":
                m = nn.AvgPool2d(tuple(op.kernel), stride, (t, l), count_include_pad=op.count_include_pad)
            else:
                m = nn.MaxPool2d(tuple(op.kernel), stride, (t, l), tuple(op.dilation))
        elif kind == "flatten":
            m = nn.Flatten()
        elif kind == "identity":
            continue
        elif kind == "activation":
            if op.act.name == "linear":
                continue
            m = _act_module(nn, op.act.name)
        else:
            raise InvalidArgument(f"init: node {node.name!r} is a {kind} op; training starts from dense, conv, "
                                  f"pooling, flatten and activation layers")
        mods.append(m)
    return nn.Sequential(*mods)


def hidden_sites(model) -> tuple:
    """The names of a model's activation submodules (symft's hidden crash sites, as ``from_torch`` names them).

    Examples
    --------
    >>> hidden_sites(build_model((4, 3, 3, 2), "sigmoid"))
    ('1', '3')
    """
    torch = _torch()
    nn = torch.nn
    kinds = (nn.Sigmoid, nn.Tanh, nn.ReLU, nn.Softplus, nn.ELU, nn.LeakyReLU, nn.Hardtanh, nn.ReLU6,
             nn.Hardsigmoid)
    return tuple(n for n, m in model.named_modules() if n and isinstance(m, kinds))


# ---------------------------------------------------------------------- results

@dataclass(frozen=True)
class EpochRecord:
    """One epoch: mean training loss and objective over its minibatches, test accuracy, and the regularizer
    terms at the epoch's end (on up to 512 training examples).

    Examples
    --------
    >>> EpochRecord(1, 0.5, 0.6, 0.9, 1e-3, 4.0, 1.0, 0.5).as_dict()["r2"]
    4.0
    """

    epoch: int
    loss: float
    objective: float
    accuracy: float
    r1: float
    r2: float
    r3: float
    w_inf: float

    def as_dict(self) -> dict:
        """JSON-ready dict.

        Examples
        --------
        >>> sorted(EpochRecord(1, 0, 0, 0, 0, 0, 0, 0).as_dict())[:3]
        ['accuracy', 'epoch', 'loss']
        """
        return asdict(self)


@result
@dataclass(frozen=True)
class TrainResult:
    r"""What :func:`train` returns.

    Attributes
    ----------
    network : Network
        The trained network (float64, through :func:`symft.io.torch.from_torch`).
    model : torch.nn.Module
        The trained PyTorch model (in the training dtype).
    history : tuple of EpochRecord
    accuracy : float
        Final test accuracy.
    train_accuracy : float
    var_delta : float
        ``Var Δ`` at ``p`` (all crash sites at once), summed over the outputs
        and averaged over the first ``var_inputs`` test inputs: the point value
        of the source (the midpoint of an enclosure's interval).
    var_delta_lo, var_delta_hi : float
        The same with the lower / upper ends of the source's interval (equal to
        ``var_delta`` for an exact source; an estimate has no proved ends:
        then they are the estimate).
    var_method, var_label : str
        What computed ``Var Δ`` and its rigour (``exact`` / ``rigorous`` /
        ``estimate`` / ``statistical``; the weakest over the inputs).
    var_inputs : int
    p : dict {site: probability}
    regularizer : dict
        ``lam, mu, psi, nu, of, r2_form``.
    arch : tuple
        Widths of the dense chain (input … output) when the model is one, else ``()``.
    activation : str
    epochs, seed : int
    dtype : str
    """

    network: object = field(repr=False)
    model: object = field(repr=False, compare=False)
    history: tuple
    accuracy: float
    train_accuracy: float
    var_delta: float
    var_delta_lo: float
    var_delta_hi: float
    var_method: str
    var_label: str
    var_inputs: int
    p: dict
    regularizer: dict
    arch: tuple
    activation: str
    epochs: int
    seed: int
    dtype: str

    def as_dict(self) -> dict:
        """JSON-ready dict of everything but the network and the model.

        Examples
        --------
        >>> import numpy as np
        >>> X = np.random.default_rng(0).normal(size=(40, 2)); y = (X[:, 0] > 0).astype(int)
        >>> d = train((X, y), arch=(2, 3, 2), activation="tanh", p=1e-3, epochs=2, seed=0).as_dict()
        >>> type(d["var_delta"]), len(d["history"])
        (<class 'float'>, 2)
        """
        d = {k: getattr(self, k) for k in ("accuracy", "train_accuracy", "var_delta", "var_delta_lo", "var_delta_hi",
                                           "var_method", "var_label", "var_inputs", "regularizer", "activation",
                                           "epochs", "seed", "dtype")}
        for k in ("var_delta", "var_delta_lo", "var_delta_hi"):
            if d[k] != d[k]:            # not computed (var_inputs=0): null, not NaN, in JSON
                d[k] = None
        d["p"] = dict(self.p)
        d["arch"] = list(self.arch)
        d["history"] = [h.as_dict() for h in self.history]
        return d


# ---------------------------------------------------------------------- Var Δ

_RANK = {"exact": 0, "rigorous": 1, "estimate": 2, "statistical": 3}


def evaluate_var_delta(net, X, p, *, method: str = "auto") -> dict:
    """``Var Δ`` at ``p`` summed over the outputs and averaged over the inputs ``X``
    (:func:`symft.engines.moments.moments` at each input).

    Returns ``{"var_delta", "var_delta_lo", "var_delta_hi", "var_method", "var_label", "var_inputs"}``
    (methods joined with ``+`` when they differ between inputs; the weakest label).

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> evaluate_var_delta(mean_network(4), [[1, 1, 1, 1]], {0: 0.1})["var_delta"]   # p(1 − p)/n
    0.0225
    """
    from ..engines.moments import moments
    vals, los, his, methods, labels = [], [], [], [], []
    for x in X:
        m = moments(net, x, dict(p), method)
        var = np.array([float(v) for v in m.var]) if m.var is not None else None
        hi = np.array([float(v) for v in m.var_hi])
        lo = np.array([float(v) for v in m.var_lo]) if m.var_lo is not None else None
        if var is None:
            var = hi if lo is None else (lo + hi) / 2
        if lo is None:
            lo = var
        vals.append(var.sum())
        los.append(lo.sum())
        his.append(hi.sum())
        if m.method not in methods:
            methods.append(m.method)
        labels.append(m.label)
    return {"var_delta": float(np.mean(vals)), "var_delta_lo": float(np.mean(los)),
            "var_delta_hi": float(np.mean(his)), "var_method": "+".join(methods),
            "var_label": max(labels, key=lambda s: _RANK.get(s, 4)), "var_inputs": len(vals)}


# ---------------------------------------------------------------------- training

def _positive_int(v, name, minimum=1):
    if isinstance(v, bool) or not isinstance(v, Integral) or v < minimum:
        raise InvalidArgument(f"{name}: expected an integer ≥ {minimum}, got {v!r}")
    return int(v)


def _regularizer(reg, p):
    if isinstance(reg, Regularizer):
        return reg if reg.p or not p else Regularizer(**{**_reg_fields(reg), "p": p})
    if reg is None:
        reg = {}
    if not isinstance(reg, Mapping):
        raise InvalidArgument(f"reg: expected a mapping such as {{'lam': 1.0}} or a Regularizer, got {reg!r}")
    allowed = {"lam", "mu", "psi", "nu", "of", "r2_form", "layers", "sigma"}
    for k in reg:
        if k not in allowed:
            raise InvalidArgument(f"reg: unknown term {k!r} (expected {', '.join(sorted(allowed))})")
    return Regularizer(p=p, **reg)


def _reg_fields(reg):
    return {k: getattr(reg, k) for k in ("p", "lam", "mu", "psi", "nu", "of", "r2_form", "layers", "sigma")}


def _chain_arch(model):
    torch = _torch()
    if not isinstance(model, torch.nn.Sequential):
        return ()
    lins = [m for m in model if isinstance(m, torch.nn.Linear)]
    if not lins or len(lins) + len(hidden_sites(model)) != len(model):
        return ()
    return tuple([lins[0].in_features] + [m.out_features for m in lins])


def train(data="digits", *, arch=(64, 32, 16, 10), activation: str = "sigmoid", init=None, p=1e-3, reg=None,
          epochs: int = 100, batch_size: int = 64, lr: float = 1e-2, seed: int = 0, dtype: str = "float64",
          var_inputs: int = 20, var_method: str = "auto", progress: bool | None = None) -> TrainResult:
    r"""Train a classifier with the Eq. 1 regularizer; return the network, its history, accuracy and ``Var Δ``.

    Parameters
    ----------
    data : "digits", path or tuple
        See the module docstring.
    arch : sequence or str
        Widths input … output of a dense chain (hidden layers use
        ``activation``, the output is linear), or conv/pool layers then
        dense widths (:func:`parse_arch`, e.g. ``"conv8k3,pool2,32,10"``; the
        inputs are read as images, :func:`image_inputs`); ignored with ``init``.
    activation : str
        One of :data:`ACTIVATIONS`.
    init : torch.nn.Module or Network, optional
        An initial model (copied; a symft network must be one sequence of
        dense, conv, pooling, flatten and activation layers with activations
        from :data:`ACTIVATIONS`, such as a chain or ``examples/digits_cnn.onnx``;
        the data are reshaped to its input shape).
    p : float or mapping {site: probability}
        Crash probabilities of ``R_1`` and of ``var_delta``; a number applies to
        every hidden activation site (:func:`hidden_sites`).
    reg : mapping or Regularizer, optional
        ``{"lam": …, "mu": …, "psi": …, "nu": …}`` (and ``of``, ``r2_form``,
        ``layers``, ``sigma`` of :class:`~symft.training.regularizer.Regularizer`);
        none: plain cross-entropy (the terms are still reported).
    epochs, batch_size : int
    lr : float
        Adam's learning rate.
    seed : int
    dtype : {"float64", "float32"}
    var_inputs : int
        How many test inputs ``var_delta`` averages over (0: skip it, NaN).
    var_method : str
        The method of :func:`symft.engines.moments.moments` (``"auto"`` chooses).
    progress : bool or None
        Draw a progress bar (``None``: when stderr is a terminal).

    Returns
    -------
    TrainResult

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(1).normal(size=(60, 3)); y = (X.sum(axis=1) > 0).astype(int)
    >>> a = train((X, y), arch=(3, 4, 2), activation="sigmoid", epochs=3, seed=5, var_inputs=0)
    >>> b = train((X, y), arch=(3, 4, 2), activation="sigmoid", epochs=3, seed=5, var_inputs=0)
    >>> all(bool((u == v).all()) for u, v in zip(a.model.parameters(), b.model.parameters()))
    True
    """
    torch = _torch()
    epochs = _positive_int(epochs, "epochs")
    batch_size = _positive_int(batch_size, "batch_size")
    seed = _positive_int(seed, "seed", 0)
    var_inputs = _positive_int(var_inputs, "var_inputs", 0)
    if dtype not in DTYPES:
        raise InvalidArgument(f"dtype: expected one of {', '.join(DTYPES)}, got {dtype!r}")
    if isinstance(lr, bool) or not isinstance(lr, Real) or not lr > 0:
        raise InvalidArgument(f"lr: expected a positive number, got {lr!r}")
    Xtr, ytr, Xte, yte = load_data(data, seed)
    if init is None:
        arch = parse_arch(arch)
        if is_conv_arch(arch):
            Xtr, Xte = image_inputs(Xtr), image_inputs(Xte)
        else:
            n_in = int(np.prod(Xtr.shape[1:]))
            if arch[0] != n_in:
                raise InvalidArgument(f"arch: the first width ({arch[0]}) must be the size of one input of the data "
                                      f"({n_in})")
    tdtype = torch.float64 if dtype == "float64" else torch.float32
    was_det = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        torch.manual_seed(seed)
        if init is None:
            model = build_model(arch, activation, Xtr.shape[1:])
        elif isinstance(init, torch.nn.Module):
            model = copy.deepcopy(init)
            activation = ""
        else:
            from ..graph.network import Network
            if not isinstance(init, Network):
                raise InvalidArgument(f"init: expected a torch.nn.Module or a symft Network, got {type(init).__name__}")
            model = _from_network(init)
            activation = ",".join(sorted({n.op.act.name for n in init.nodes if n.op.kind == "activation"}))
            shape = tuple(init.input_shape)
            if int(np.prod(shape)) != int(np.prod(Xtr.shape[1:])):
                raise InvalidArgument(f"init: the network takes inputs of shape {shape}, the data has "
                                      f"{Xtr.shape[1:]}")
            Xtr, Xte = Xtr.reshape((-1,) + shape), Xte.reshape((-1,) + shape)
        model = model.to(tdtype)
        sites = hidden_sites(model)
        if isinstance(p, Mapping):
            probs = {str(k): v for k, v in p.items()}
        else:
            if not sites:
                raise InvalidArgument("p: the model has no hidden activation site; give p as {site: probability}")
            probs = {s: p for s in sites}
        regularizer = _regularizer(reg, probs)
        probs = dict(regularizer.p)
        n_out = model(torch.as_tensor(Xtr[:1], dtype=tdtype)).reshape(1, -1).shape[1]
        if ytr.max() >= n_out or yte.max() >= n_out:
            raise InvalidArgument(f"data: labels go up to {max(ytr.max(), yte.max())} but the model has "
                                  f"{n_out} outputs")
        Xtr_t = torch.as_tensor(Xtr, dtype=tdtype)
        ytr_t = torch.as_tensor(ytr)
        Xte_t = torch.as_tensor(Xte, dtype=tdtype)
        probe = Xtr_t[:512]
        rng = np.random.default_rng([seed, 1])
        opt = torch.optim.Adam(model.parameters(), lr=float(lr))
        ce = torch.nn.CrossEntropyLoss()
        ce_each = torch.nn.CrossEntropyLoss(reduction="none")
        history = []
        with _progress(epochs, "train", enabled=progress) as bar:
            for epoch in range(1, epochs + 1):
                model.train()
                order = rng.permutation(Xtr.shape[0])
                tot_loss = tot_obj = 0.0
                for start in range(0, order.size, batch_size):
                    idx = torch.as_tensor(order[start:start + batch_size])
                    xb, yb = Xtr_t[idx], ytr_t[idx]
                    opt.zero_grad()
                    loss = ce(model(xb), yb)
                    obj = loss
                    if regularizer.lam > 0 or regularizer.mu > 0 or regularizer.psi > 0 or regularizer.nu > 0:
                        penalty, _ = regularizer(model, xb, loss_fn=ce_each, target=yb, all_terms=False)
                        obj = loss + penalty
                    obj.backward()
                    opt.step()
                    tot_loss += float(loss.detach()) * len(idx)
                    tot_obj += float(obj.detach()) * len(idx)
                model.eval()
                with torch.no_grad():
                    _, terms = regularizer(model, probe, loss_fn=ce_each, target=ytr_t[:512])
                    acc = float((model(Xte_t).argmax(dim=1).numpy() == yte).mean())
                history.append(EpochRecord(epoch, tot_loss / order.size, tot_obj / order.size, acc,
                                           *(float(terms[k].detach()) for k in ("r1", "r2", "r3", "w_inf"))))
                bar.update(1)
        model.eval()
        with torch.no_grad():
            acc = float((model(Xte_t).argmax(dim=1).numpy() == yte).mean())
            train_acc = float((model(Xtr_t).argmax(dim=1).numpy() == ytr).mean())
    finally:
        torch.use_deterministic_algorithms(was_det)
    from ..io.torch import from_torch
    net = from_torch(model, torch.as_tensor(Xte[:8], dtype=tdtype))
    if var_inputs:
        vd = evaluate_var_delta(net, Xte[:var_inputs], probs, method=var_method)
    else:
        vd = {"var_delta": float("nan"), "var_delta_lo": float("nan"), "var_delta_hi": float("nan"),
              "var_method": "", "var_label": "", "var_inputs": 0}
    reg_d = {k: getattr(regularizer, k) for k in ("lam", "mu", "psi", "nu", "of", "r2_form")}
    return TrainResult(net, model, tuple(history), acc, train_acc, p=probs, regularizer=reg_d,
                       arch=_chain_arch(model) or (tuple(arch) if init is None else ()), activation=activation, epochs=epochs, seed=seed, dtype=dtype, **vd)
