r"""The operators a network is made of: one frozen definition per op.

A :class:`~symft.graph.network.Network` is a DAG whose nodes each hold one
op.  Values flowing along the edges are tensors: one sample has the node's
``shape`` (``(n,)`` for a vector, ``(C, H, W)`` for an image), and every
array an op is applied to may carry any number of *leading* batch axes
(inputs, crash configurations, …) in front of it.

Ops come in two families:

* **affine** ops (:class:`Dense`, :class:`Conv2d`, :class:`AvgPool2d`,
  :class:`BatchNorm`, :class:`Add`, :class:`Flatten`, :class:`Reshape`,
  :class:`Identity`): ``y = A(x) + b`` with ``A`` linear.  Each gives
  :meth:`AffineOp.apply` (the map, on arrays of *any* number kind: float64,
  or object arrays of ``Fraction``/SymPy/mpmath/Z3 values, with the
  parameters converted to that kind), :meth:`AffineOp.adjoint` (``Aᵀ g``),
  :meth:`AffineOp.abs_params` (the parameters of ``|A|``, for interval and
  absolute-value propagation) and :meth:`AffineOp.fan_in` (the largest
  number of terms summed into one output, for rounding-error bounds).
  Interpretations therefore need one generic rule for all affine ops.
* the others: :class:`Input`, :class:`Activation` (elementwise, every view
  in :mod:`symft.graph.activations`) and :class:`MaxPool2d`; interpretations
  have a rule for each.

Parameters are stored as read-only float64 arrays or object arrays of exact
SymPy values (see :mod:`symft.graph.numbers`); :meth:`Op.params` converts
and caches them per number kind.

Adding an op means: one class here, plus one rule in each interpretation
that should support it (an affine op needs none).

Examples
--------
>>> import numpy as np
>>> d = Dense(np.array([[1.0, 2.0]]), np.array([0.5]))
>>> d.out_shape([(2,)]), d.apply([np.array([[1.0, 1.0]])], d.params(), [(2,)])
((1,), array([[3.5]]))
>>> c = Conv2d(np.ones((1, 1, 2, 2)), None)
>>> c.out_shape([(1, 3, 3)])
(1, 2, 2)
>>> c.apply([np.arange(9.0).reshape(1, 1, 3, 3)], c.params(), [(1, 3, 3)])[0, 0]
array([[ 8., 12.],
       [20., 24.]])
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from ..errors import NetworkFormatError
from .activations import Activation, get_activation
from .numbers import array_free_symbols, convert, is_float_array
from .scratch import scratch

__all__ = [
    "Op",
    "AffineOp",
    "Input",
    "Dense",
    "Conv2d",
    "AvgPool2d",
    "MaxPool2d",
    "BatchNorm",
    "Add",
    "Flatten",
    "Reshape",
    "Identity",
    "ActivationOp",
    "OP_KINDS",
]


def _lead(x, in_shape):
    """The leading (batch) shape of ``x`` whose trailing axes are ``in_shape``."""
    k = len(in_shape)
    if tuple(x.shape[x.ndim - k:]) != tuple(in_shape):
        raise ValueError(f"expected trailing shape {tuple(in_shape)}, got {x.shape}")
    return x.shape[:x.ndim - k]


def _zero_like(x):
    return np.zeros(1, dtype=x.dtype) if x.dtype != object else np.array([0], dtype=object)


def _pair(v, name, where="op"):
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return (int(v), int(v))
    t = tuple(int(a) for a in v)
    if len(t) != 2:
        raise NetworkFormatError(f"{where}: {name}: expected 2 integers, got {list(v)}")
    return t


def _quad(v, name, where="op"):
    """Padding as (top, left, bottom, right)."""
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return (int(v),) * 4
    t = tuple(int(a) for a in v)
    if len(t) == 2:
        return (t[0], t[1], t[0], t[1])
    if len(t) != 4:
        raise NetworkFormatError(f"{where}: {name}: expected 2 or 4 integers, got {list(v)}")
    return t


def _same_array(a, b):
    if a is None or b is None:
        return a is None and b is None
    if is_float_array(a) != is_float_array(b) or a.shape != b.shape:
        return False
    if is_float_array(a):
        return bool(np.array_equal(a, b))
    return all(type(u) is type(v) and u == v for u, v in zip(a.reshape(-1), b.reshape(-1)))


@dataclass(frozen=True, eq=False)
class Op:
    """Base class of every op (frozen; compare with :meth:`same`).

    Examples
    --------
    >>> Flatten().same(Flatten()), Flatten().kind
    (True, 'flatten')
    """

    #: The op's name in network files and messages.
    kind: ClassVar[str] = ""
    #: Whether the op is affine (``A x + b``).
    affine: ClassVar[bool] = False
    #: Allowed number of inputs ``(min, max)``; ``max`` None for any.
    n_inputs: ClassVar[tuple] = (1, 1)
    #: Names of the array-valued parameters.
    arrays: ClassVar[tuple] = ()

    def __post_init__(self):
        object.__setattr__(self, "_cache", {})

    # ---------------------------------------------------------------- structure
    def out_shape(self, in_shapes) -> tuple:
        """The output shape of one sample, from the input shapes (validated).

        Examples
        --------
        >>> Flatten().out_shape([(2, 3, 3)])
        (18,)
        """
        raise NotImplementedError

    def attrs(self) -> dict:
        """The op's non-array attributes (what a file stores besides the arrays).

        Examples
        --------
        >>> AvgPool2d((2, 2)).attrs()["kernel"]
        [2, 2]
        """
        return {}

    def same(self, other) -> bool:
        """Exact equality: same type, attributes and arrays (floats bit for bit).

        Examples
        --------
        >>> Dense(np.eye(2), None).same(Dense(np.eye(2), None))
        True
        """
        if type(self) is not type(other) or self.attrs() != other.attrs():
            return False
        return all(_same_array(getattr(self, n), getattr(other, n)) for n in self.arrays)

    @property
    def free_symbols(self) -> frozenset:
        """Symbols in the op's arrays.

        Examples
        --------
        >>> Identity().free_symbols
        frozenset()
        """
        if "free_symbols" not in self._cache:      # the op is frozen: scan its arrays once
            out = frozenset()
            for n in self.arrays:
                out |= array_free_symbols(getattr(self, n))
            self._cache["free_symbols"] = out
        return self._cache["free_symbols"]

    @property
    def is_float(self) -> bool:
        """Whether every array is stored as float64.

        Examples
        --------
        >>> Dense(np.eye(2), None).is_float
        True
        """
        return all(getattr(self, n) is None or is_float_array(getattr(self, n)) for n in self.arrays)

    def map_arrays(self, fn) -> "Op":
        """A copy with every stored array replaced by ``fn(array)``.

        Examples
        --------
        >>> float(Dense(np.eye(2), None).map_arrays(lambda a: 2 * a).weight[0, 0])
        2.0
        """
        import dataclasses

        kw = {n: (None if getattr(self, n) is None else fn(getattr(self, n))) for n in self.arrays}
        return dataclasses.replace(self, **kw)

    def params(self, kind: str = "float") -> dict:
        """The arrays in the number kind ``kind`` (cached; see :mod:`symft.graph.numbers`).

        ``mpmath`` arrays are cached per working precision.

        Examples
        --------
        >>> Dense(np.array([[0.5]]), None).params("fraction")["weight"]
        array([[Fraction(1, 2)]], dtype=object)
        """
        key = kind
        if kind == "mpmath":
            import mpmath

            key = ("mpmath", mpmath.mp.prec)
        if key not in self._cache:
            out = {n: convert(getattr(self, n), kind, f"{self.kind}.{n}") for n in self.arrays}
            out.update(self._derived(kind))
            self._cache[key] = out
        return self._cache[key]

    def float_params(self, params: dict, dtype) -> dict:
        """``params`` (this op's float64 parameters) with every float64 array rounded to ``dtype``, once.

        The approximate float32 passes use it so that the weights are rounded once per op, not at every
        call; float64 gives ``params`` itself.

        Examples
        --------
        >>> d = Dense(np.array([[0.1]]), None)
        >>> d.float_params(d.params(), np.float32)["weight"].dtype
        dtype('float32')
        >>> d.float_params(d.params(), np.float32) is d.float_params(d.params(), np.float32)
        True
        """
        dtype = np.dtype(dtype)
        if dtype == np.float64:
            return params
        key = ("rounded", dtype.str)
        if key not in self._cache:
            self._cache[key] = {k: v.astype(dtype) if isinstance(v, np.ndarray) and v.dtype == np.float64 else v
                                for k, v in params.items()}
        return self._cache[key]

    def _derived(self, kind) -> dict:
        """Extra constants in the number kind (e.g. reciprocal window sizes)."""
        return {}

    def __repr__(self):
        shapes = ", ".join(f"{n}={tuple(getattr(self, n).shape)}" for n in self.arrays
                           if getattr(self, n) is not None)
        at = ", ".join(f"{k}={v}" for k, v in self.attrs().items())
        return f"{type(self).__name__}({', '.join(s for s in (shapes, at) if s)})"


@dataclass(frozen=True, eq=False)
class Input(Op):
    """The network input, of a given per-sample ``shape``.

    Examples
    --------
    >>> Input((1, 8, 8)).out_shape([])
    (1, 8, 8)
    """

    shape: tuple = ()
    kind: ClassVar[str] = "input"
    n_inputs: ClassVar[tuple] = (0, 0)

    def __post_init__(self):
        super().__post_init__()
        shape = tuple(int(s) for s in self.shape)
        if not shape or any(s < 1 for s in shape):
            raise NetworkFormatError(f"input: shape: expected positive sizes, got {list(self.shape)}")
        object.__setattr__(self, "shape", shape)

    def out_shape(self, in_shapes):
        return self.shape

    def attrs(self):
        return {"shape": list(self.shape)}


@dataclass(frozen=True, eq=False)
class ActivationOp(Op):
    """An elementwise activation ``y = φ(x)`` (every view of φ lives in the registry).

    Examples
    --------
    >>> ActivationOp(get_activation("relu")).out_shape([(3, 2)])
    (3, 2)
    """

    act: Activation = None
    kind: ClassVar[str] = "activation"

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(self, "act", get_activation(self.act))

    def out_shape(self, in_shapes):
        return tuple(in_shapes[0])

    def attrs(self):
        return {"activation": self.act.name}

    def same(self, other):
        return type(other) is type(self) and self.act == other.act

    def __repr__(self):
        return f"Activation({self.act.name!r})"


@dataclass(frozen=True, eq=False)
class AffineOp(Op):
    """Base class of the affine ops ``y = A(x) + b``.

    Examples
    --------
    >>> Identity().affine
    True
    """

    affine: ClassVar[bool] = True
    #: Names of the parameters that make up the offset ``b`` (dropped by :meth:`linear_params`).
    offsets: ClassVar[tuple] = ("bias",)

    def apply(self, xs, P, in_shapes):
        """``A(xs) + b`` with the parameters ``P`` (any number kind; ``P["bias"]`` may be None).

        Examples
        --------
        >>> Identity().apply([np.ones((2, 3))], {}, [(3,)]).shape
        (2, 3)
        """
        raise NotImplementedError

    def adjoint(self, g, P, in_shapes):
        """``Aᵀ g`` for each input (a list), ``g`` with leading batch axes.

        Examples
        --------
        >>> Add().adjoint(np.ones((1, 2)), {}, [(2,), (2,)])[1]
        array([[1., 1.]])
        """
        raise NotImplementedError

    def abs_params(self) -> dict:
        """Parameters of ``|A|`` (entrywise absolute values) in float64, bias None.

        Examples
        --------
        >>> Dense(np.array([[-2.0]]), np.array([1.0])).abs_params()["weight"]
        array([[2.]])
        """
        if "abs" not in self._cache:
            P = dict(self.params("float"))
            for n in self.arrays:
                if P.get(n) is not None and n != "bias":
                    P[n] = np.abs(P[n])
            if "bias" in P:
                P["bias"] = None
            P.update(self._abs_extra())
            self._cache["abs"] = P
        return self._cache["abs"]

    def _abs_extra(self):
        return {}

    def linear_params(self, kind: str = "float") -> dict:
        """Parameters of the linear part ``A`` alone (the offset ``b`` set to None), in the number kind ``kind``.

        ``apply(xs, op.linear_params(), in_shapes)`` is ``A(xs)``: what
        tangents and other directional derivatives go through.

        Examples
        --------
        >>> d = Dense(np.array([[2.0]]), np.array([1.0]))
        >>> d.apply([np.array([3.0])], d.linear_params(), [(1,)])
        array([6.])
        >>> BatchNorm(np.array([2.0]), np.array([1.0])).linear_params()["shift"] is None
        True
        """
        P = self.params(kind)
        if not any(P.get(n) is not None for n in self.offsets):
            return P
        key = ("linear", kind)
        if kind == "mpmath":
            import mpmath

            key = key + (mpmath.mp.prec,)
        if key not in self._cache:
            P = dict(P)
            for n in self.offsets:
                if n in P:
                    P[n] = None
            self._cache[key] = P
        return self._cache[key]

    def fan_in(self, in_shapes) -> int:
        """The largest number of terms summed into one output (bias excluded).

        Examples
        --------
        >>> Dense(np.ones((2, 5)), None).fan_in([(5,)])
        5
        """
        return 1

    @property
    def has_bias(self) -> bool:
        """Whether the op adds a bias.

        Examples
        --------
        >>> Dense(np.eye(2), None).has_bias
        False
        """
        return getattr(self, "bias", None) is not None


def _check_matrix(a, name, ndim, where):
    if a is None:
        return None
    if not isinstance(a, np.ndarray):
        raise NetworkFormatError(f"{where}: {name}: expected an array")
    if a.ndim != ndim or 0 in a.shape:
        raise NetworkFormatError(f"{where}: {name}: expected a non-empty {ndim}-D array, got shape {a.shape}")
    return a


@dataclass(frozen=True, eq=False)
class Dense(AffineOp):
    """A dense (fully connected) layer ``y = W x + b`` on vectors; ``W`` is ``m × n``.

    Examples
    --------
    >>> Dense(np.ones((3, 2)), np.zeros(3)).out_shape([(2,)])
    (3,)
    """

    weight: np.ndarray = None
    bias: np.ndarray = None
    kind: ClassVar[str] = "dense"
    arrays: ClassVar[tuple] = ("weight", "bias")

    def __post_init__(self):
        super().__post_init__()
        _check_matrix(self.weight, "weight", 2, "dense")
        if self.bias is not None and tuple(self.bias.shape) != (self.weight.shape[0],):
            raise NetworkFormatError(f"dense: bias: expected {self.weight.shape[0]} numbers, got shape "
                                     f"{tuple(self.bias.shape)}")

    def out_shape(self, in_shapes):
        (s,) = in_shapes
        if tuple(s) != (self.weight.shape[1],):
            raise NetworkFormatError(f"dense: expected an input vector of {self.weight.shape[1]} numbers, "
                                     f"got shape {tuple(s)}")
        return (self.weight.shape[0],)

    def apply(self, xs, P, in_shapes):
        z = xs[0] @ P["weight"].T
        if P.get("bias") is not None:
            z = z + P["bias"]
        return z

    def adjoint(self, g, P, in_shapes):
        return [g @ P["weight"]]

    def fan_in(self, in_shapes):
        return int(self.weight.shape[1])


def _out_size(n, k, s, d, p0, p1, what, where):
    eff = d * (k - 1) + 1
    o = (n + p0 + p1 - eff) // s + 1
    if o < 1:
        raise NetworkFormatError(f"{where}: the {what} window ({eff}) does not fit the padded input ({n + p0 + p1})")
    return o


def _window_index(in_shape, kernel, stride, pad, dil, *, channels_per_group, groups, pad_index):
    """Gather indices into the flattened input (plus one pad slot).

    Returns an int array ``(groups, OH*OW, Cg*KH*KW)`` and ``(OH, OW)``;
    entries outside the input hold ``pad_index``.
    """
    C, H, W = in_shape
    KH, KW = kernel
    sh, sw = stride
    pt, pl, pb, pr = pad
    dh, dw = dil
    OH = (H + pt + pb - dh * (KH - 1) - 1) // sh + 1
    OW = (W + pl + pr - dw * (KW - 1) - 1) // sw + 1
    oh = np.arange(OH)[:, None, None, None]
    ow = np.arange(OW)[None, :, None, None]
    kh = np.arange(KH)[None, None, :, None]
    kw = np.arange(KW)[None, None, None, :]
    ih = oh * sh - pt + kh * dh
    iw = ow * sw - pl + kw * dw
    valid = (ih >= 0) & (ih < H) & (iw >= 0) & (iw < W)
    pos = np.where(valid, ih * W + iw, -1).reshape(OH * OW, KH * KW)       # (OHW, KHKW)
    out = np.empty((groups, OH * OW, channels_per_group, KH * KW), dtype=np.int64)
    for g in range(groups):
        for c in range(channels_per_group):
            ch = g * channels_per_group + c
            out[g, :, c, :] = np.where(pos >= 0, ch * H * W + pos, pad_index)
    return out.reshape(groups, OH * OW, channels_per_group * KH * KW), (OH, OW)


def _scatter_plan(idx, size):
    """Sorting plan to add values gathered with ``idx`` back into ``size`` slots."""
    flat = idx.reshape(-1)
    order = np.argsort(flat, kind="stable")
    sf = flat[order]
    uniq, starts = np.unique(sf, return_index=True)
    return order, uniq, starts


def _scatter_add(vals, plan, size, lead):
    """``out[..., j] = Σ_{k: idx[k] = j} vals[..., k]`` for the plan of ``idx``."""
    order, uniq, starts = plan
    R = int(np.prod(lead)) if lead else 1
    v = vals.reshape(R, -1)[:, order]
    out = np.zeros((R, size), dtype=vals.dtype) if vals.dtype != object else np.full((R, size), 0, dtype=object)
    out[:, uniq] = np.add.reduceat(v, starts, axis=1)
    return out.reshape(tuple(lead) + (size,))


#: Bytes of im2col columns per chunk of samples in the float64 convolution (fits a typical L2/L3 cache).
_CHUNK_BYTES = 4 * 2 ** 20


def _is_f64(*arrays):
    return all(isinstance(a, np.ndarray) and a.dtype == np.float64 for a in arrays)


def _is_float(*arrays):
    """Whether the arrays are all float64, or all float32 (the approximate passes): the strided-view kernels."""
    return _is_f64(*arrays) or all(isinstance(a, np.ndarray) and a.dtype == np.float32 for a in arrays)


def _padded4(x4, pad, fill=0.0):
    """``(R, C, H, W)`` padded by ``(top, left, bottom, right)`` with ``fill`` (in the dtype of ``x4``)."""
    pt, pl, pb, pr = pad
    if not (pt or pl or pb or pr):
        return x4
    R, C, H, W = x4.shape
    xp = np.full((R, C, H + pt + pb, W + pl + pr), fill, dtype=x4.dtype)
    xp[:, :, pt:pt + H, pl:pl + W] = x4
    return xp


def _put_chunk(res, y, s, R):
    """Rows ``s : s + len(y)`` of the result of :meth:`Conv2d.apply_then` (allocated from the first chunk)."""
    if res is None:
        res = np.empty((R,) + y.shape[1:], dtype=y.dtype)
    res[s:s + len(y)] = y
    return res


def _windows4(xp, kernel, stride, dil):
    """A view ``(R, C, OH, OW, KH, KW)`` of the windows of a padded ``(R, C, H', W')`` array (no copy)."""
    (KH, KW), (sh, sw), (dh, dw) = kernel, stride, dil
    R, C, H, W = xp.shape
    OH, OW = (H - dh * (KH - 1) - 1) // sh + 1, (W - dw * (KW - 1) - 1) // sw + 1
    if OH <= 0 or OW <= 0:
        raise ValueError(f"a {KH}×{KW} window (dilation {dh}×{dw}) does not fit a {H}×{W} input")
    s0, s1, s2, s3 = xp.strides
    # the strided view directly (sliding_window_view's checks cost more than a small pooling itself)
    return np.lib.stride_tricks.as_strided(xp, (R, C, OH, OW, KH, KW), (s0, s1, sh * s2, sw * s3, dh * s2, dw * s3),
                                           writeable=False)


@dataclass(frozen=True, eq=False)
class Conv2d(AffineOp):
    """A 2-D convolution on ``(C, H, W)`` tensors (cross-correlation, as in PyTorch and ONNX).

    ``weight`` has shape ``(C_out, C_in / groups, KH, KW)``; ``padding`` is
    ``(top, left, bottom, right)`` (or 2 values / 1 value for symmetric
    padding), zeros outside the input.

    Examples
    --------
    >>> c = Conv2d(np.ones((4, 1, 3, 3)), np.zeros(4), stride=2, padding=1, groups=2)
    >>> c.out_shape([(2, 5, 5)])
    (4, 3, 3)
    """

    weight: np.ndarray = None
    bias: np.ndarray = None
    stride: tuple = (1, 1)
    padding: tuple = (0, 0, 0, 0)
    dilation: tuple = (1, 1)
    groups: int = 1
    kind: ClassVar[str] = "conv2d"
    arrays: ClassVar[tuple] = ("weight", "bias")

    def __post_init__(self):
        super().__post_init__()
        _check_matrix(self.weight, "weight", 4, "conv2d")
        object.__setattr__(self, "stride", _pair(self.stride, "stride", "conv2d"))
        object.__setattr__(self, "padding", _quad(self.padding, "padding", "conv2d"))
        object.__setattr__(self, "dilation", _pair(self.dilation, "dilation", "conv2d"))
        g = int(self.groups)
        object.__setattr__(self, "groups", g)
        if g < 1 or self.weight.shape[0] % g:
            raise NetworkFormatError(f"conv2d: groups: {g} must divide the {self.weight.shape[0]} output channels")
        if min(self.stride) < 1 or min(self.dilation) < 1 or min(self.padding) < 0:
            raise NetworkFormatError("conv2d: stride and dilation must be ≥ 1 and padding ≥ 0")
        if self.bias is not None and tuple(self.bias.shape) != (self.weight.shape[0],):
            raise NetworkFormatError(f"conv2d: bias: expected {self.weight.shape[0]} numbers, got shape "
                                     f"{tuple(self.bias.shape)}")

    def attrs(self):
        return {"stride": list(self.stride), "padding": list(self.padding), "dilation": list(self.dilation),
                "groups": self.groups}

    def out_shape(self, in_shapes):
        (s,) = in_shapes
        if len(s) != 3:
            raise NetworkFormatError(f"conv2d: expected a (C, H, W) input, got shape {tuple(s)}")
        C, H, W = s
        Cout, Cg, KH, KW = self.weight.shape
        if C != Cg * self.groups:
            raise NetworkFormatError(f"conv2d: expected {Cg * self.groups} input channels "
                                     f"({Cg} per group × {self.groups} groups), got {C}")
        pt, pl, pb, pr = self.padding
        OH = _out_size(H, KH, self.stride[0], self.dilation[0], pt, pb, "kernel", "conv2d")
        OW = _out_size(W, KW, self.stride[1], self.dilation[1], pl, pr, "kernel", "conv2d")
        return (Cout, OH, OW)

    def _index(self, in_shape):
        key = ("index", tuple(in_shape))
        if key not in self._cache:
            C, H, W = in_shape
            idx, ohw = _window_index(in_shape, self.weight.shape[2:], self.stride, self.padding, self.dilation,
                                     channels_per_group=C // self.groups, groups=self.groups,
                                     pad_index=C * H * W)
            self._cache[key] = (idx, ohw, _scatter_plan(idx, C * H * W + 1))
        return self._cache[key]

    def apply(self, xs, P, in_shapes):
        x = xs[0]
        in_shape = tuple(in_shapes[0])
        lead = _lead(x, in_shape)
        if _is_float(x, P["weight"]):
            return self._apply_float(x, P, in_shape, lead)
        idx, (OH, OW), _ = self._index(in_shape)
        C, H, W = in_shape
        xf = x.reshape(lead + (C * H * W,))
        xp = np.concatenate([xf, np.broadcast_to(_zero_like(x), lead + (1,))], axis=-1)
        cols = xp[..., idx]                                             # lead + (g, OHW, K)
        g = self.groups
        Cout = self.weight.shape[0]
        Wg = P["weight"].reshape(g, Cout // g, -1)                      # (g, Cg_out, K)
        out = cols @ np.swapaxes(Wg, -1, -2)                            # lead + (g, OHW, Cg_out)
        out = np.swapaxes(out, -1, -2).reshape(lead + (Cout, OH, OW))
        if P.get("bias") is not None:
            out = out + P["bias"][:, None, None]
        return out

    def apply_then(self, x, P, in_shape, then):
        """``then(apply([x], P, [in_shape]))``, a chunk of samples at a time while its convolution is in cache.

        ``then`` maps a ``(n, C_out, OH, OW)`` float array (a scratch buffer it may overwrite) to an
        ``(n, ...)`` array whose row ``i`` depends only on row ``i`` of its input (an activation, a pooling),
        so the result equals ``then`` of the whole output number for number, without the whole output in
        memory.  For other number kinds, and an empty batch, it is ``then`` of the whole output.

        Parameters
        ----------
        x : ndarray
            The input, ``lead + in_shape``.
        P : dict
            The parameters (as for :meth:`apply`).
        in_shape : tuple
            ``(C, H, W)``.
        then : callable
            A function of a chunk of outputs, sample by sample.

        Returns
        -------
        ndarray
            ``lead + then's shape per sample``.

        Examples
        --------
        >>> c = Conv2d(np.ones((2, 1, 2, 2)), np.array([0.0, -9.0]))
        >>> x = np.arange(18.0).reshape(2, 1, 3, 3)
        >>> y = c.apply_then(x, c.params(), (1, 3, 3), lambda z: np.maximum(z, 0.0).max(axis=(2, 3)))
        >>> y
        array([[24., 15.],
               [60., 51.]])
        >>> bool((y == np.maximum(c.apply([x], c.params(), [(1, 3, 3)]), 0.0).max(axis=(2, 3))).all())
        True
        """
        in_shape = tuple(in_shape)
        lead = _lead(x, in_shape)
        if not _is_float(x, P["weight"]) or not math.prod(lead):
            y = then(self.apply([x.reshape((-1,) + in_shape)], P, [in_shape]))
            return y.reshape(lead + y.shape[1:])
        return self._apply_float(x, P, in_shape, lead, then)

    def _apply_float(self, x, P, in_shape, lead, then=None):
        """float64 or float32, one matrix product per sample (so a float64 sample's result does not depend on the
        batch it is in), in chunks of samples whose columns fit in a few MiB of cache; ``then`` (see
        :meth:`apply_then`) applied to each chunk."""
        if self.weight.shape[2:] == (1, 1) and self.stride == (1, 1) and not any(self.padding):
            return self._apply_pointwise(x, P, in_shape, lead, then)
        # whole padded rows compute W' − OW wasted columns per row: worth it while that is at most one in eight,
        # on rows of at least 16 outputs (on shorter ones, measured, cropping them costs what the copies save)
        OW = self.out_shape([in_shape])[2]
        wide = self.stride == (1, 1) and OW >= 16 and 8 * self._row_width(in_shape) <= 9 * OW
        if self._same_size(in_shape) and (x.dtype == np.float32 or not wide):
            # float64: the column kernel's very products, from columns copied tap by tap
            return self._apply_same(x, P, in_shape, lead, then)
        if wide:
            return self._apply_wide(x, P, in_shape, lead, then)
        return self._apply_cols(x, P, in_shape, lead, then)

    def _apply_pointwise(self, x, P, in_shape, lead, then=None):
        """A 1×1 kernel, stride 1, no padding: the input itself is the matrix of columns (no copy); each output
        is ``fl(dot) + bias`` (``K`` products, then the bias: within ``γ_{K+1}`` like the other kernels)."""
        C, H, W = in_shape
        Cout, Cg = self.weight.shape[:2]
        G = self.groups
        R = math.prod(lead)
        Wg = P["weight"].reshape(G, Cout // G, Cg)
        bias = P.get("bias")
        b = bias.reshape(G, Cout // G, 1) if bias is not None else None
        x4 = x.reshape(R, G, Cg, H * W)
        if then is None:
            out = np.matmul(Wg, x4)
            if b is not None:
                out += b
            return out.reshape(lead + (Cout, H, W))
        step = max(1, min(R, _CHUNK_BYTES // (x.itemsize * (C + Cout) * H * W)))     # input and output in cache
        buf, res = scratch("conv.out", (step, G, Cout // G, H * W), x.dtype), None
        for s in range(0, R, step):
            n = min(step, R - s)
            np.matmul(Wg, x4[s:s + n], out=buf[:n])
            if b is not None:
                buf[:n] += b
            res = _put_chunk(res, then(buf[:n].reshape(n, Cout, H, W)), s, R)
        return res.reshape(lead + res.shape[1:])

    def _apply_cols(self, x, P, in_shape, lead, then=None):
        """Any stride: columns copied from a strided view of the padded input (no gather), into scratch arrays
        (:mod:`symft.graph.scratch`) reused from call to call."""
        C, H, W = in_shape
        Cout, Cg, KH, KW = self.weight.shape
        G = self.groups
        R = math.prod(lead)
        OH, OW = self.out_shape([in_shape])[1:]
        K = Cg * KH * KW
        Wg = P["weight"].reshape(G, Cout // G, K)
        bias = P.get("bias")
        x4 = x.reshape((R,) + in_shape)
        # the columns of a chunk in cache (with then: and its outputs, which then reads next)
        step = max(1, min(R, _CHUNK_BYTES // (x.itemsize * (G * K + (Cout if then is not None else 0)) * OH * OW)))
        if then is None:
            out = np.empty((R, G, Cout // G, OH * OW), dtype=x.dtype)
        else:
            out, res = scratch("conv.out", (step, G, Cout // G, OH * OW), x.dtype), None
        cols = scratch("conv.cols", (step, G, K, OH * OW), x.dtype)
        pt, pl, pb, pr = self.padding
        xp = None
        if pt or pl or pb or pr:
            # the padded chunk: zeros around the rows each chunk writes
            xp = scratch("conv.pad", (step, C, H + pt + pb, W + pl + pr), x.dtype)
            xp.fill(0)
        for s in range(0, R, step):
            n = min(step, R - s)
            if xp is not None:
                xp[:n, :, pt:pt + H, pl:pl + W] = x4[s:s + n]
            win = _windows4(x4[s:s + n] if xp is None else xp[:n], (KH, KW), self.stride, self.dilation)
            cols[:n].reshape(n, G, Cg, KH, KW, OH, OW)[...] = \
                win.reshape(n, G, Cg, OH, OW, KH, KW).transpose(0, 1, 2, 5, 6, 3, 4)
            if then is None:
                np.matmul(Wg, cols[:n], out=out[s:s + n])
                continue
            np.matmul(Wg, cols[:n], out=out[:n])
            z = out[:n].reshape(n, Cout, OH, OW)
            if bias is not None:
                z += bias[:, None, None]
            res = _put_chunk(res, then(z), s, R)
        if then is not None:
            return res.reshape(lead + res.shape[1:])
        out = out.reshape(lead + (Cout, OH, OW))
        if bias is not None:
            out += bias[:, None, None]           # the same sums as out + bias, without a second array
        return out

    def _row_width(self, in_shape):
        """``W'``, the length of a row of the flattened padded input of :meth:`_apply_wide`: ``W`` numbers and
        a gap of ``W' − W ≥ max(left, right)`` zeros, the right padding of a row and the left padding of the
        next (at least ``OW``, so each output row fits in one)."""
        W, (pl, pr) = in_shape[2], (self.padding[1], self.padding[3])
        return max(W + max(pl, pr), self.out_shape([in_shape])[2])

    def _apply_wide(self, x, P, in_shape, lead, then=None):
        """Stride 1 (float64 or float32): every output row is computed on a whole row of ``W'`` numbers of the
        flattened padded input (:meth:`_row_width`: the zeros between two rows are the right padding of one
        and the left padding of the next), so the columns of one kernel tap are ONE contiguous run of
        ``OH·W'`` numbers (long copies instead of rows of ``OW``); the ``W' − OW`` extra columns per row are
        dropped.  Each output is the dot product over the same ``K`` taps as in the other path (one matrix
        product per sample, in chunks that fit in cache), the bias folded in as one more term (``bias · 1``,
        exact): a sum of ``K + 1`` products in BLAS's order, within ``γ_{K+1} (Σ |w x| + |b|)`` of the exact
        value, as ``fl(dot) + bias`` is; every rigorous bound (:mod:`symft.walk.interval`, ``errorbound``,
        ``floaterror``) allows ``γ_{K+2}`` or more for an op of fan-in ``K``."""
        C, H, W = in_shape
        Cout, Cg, KH, KW = self.weight.shape
        G = self.groups
        R = math.prod(lead)
        (dh, dw), (pt, pl, pb, pr) = self.dilation, self.padding
        Hp = H + pt + pb
        OH, OW = self.out_shape([in_shape])[1:]
        Wq = self._row_width(in_shape)
        gap = Wq - W
        L, K, isz = OH * Wq, Cg * KH * KW, x.itemsize
        Wg = P["weight"].reshape(G, Cout // G, K)
        bias = P.get("bias")
        if bias is not None:
            # the bias as one more term of each dot product (a row of ones under the columns): no separate pass
            # over the output; a sum of K + 1 terms in BLAS's order, like fl(dot) + bias within γ_{K+1}
            Wg = np.concatenate([Wg, bias.reshape(G, Cout // G, 1)], axis=2)
        Kb = Wg.shape[2]
        x4 = x.reshape((R,) + in_shape)
        # the columns of a chunk in cache (with then: and its outputs, which then reads next); ≥ 1 for no samples
        step = max(1, min(R, _CHUNK_BYTES // (isz * (G * Kb * L + (2 * Cout * L if then is not None else 0)))))
        out = np.empty((R, Cout, OH, OW), dtype=x.dtype) if then is None else None
        # with then: each chunk's outputs made contiguous (in cache), so then's ops run on long rows
        dense = scratch("conv.dense", (step, Cout, OH, OW), x.dtype) if then is not None else None
        # the flattened padded input: padded row i, column j at gap + i·W' + j; zeros everywhere else (the gaps,
        # the padding rows, and two more rows that the extra columns of the last output rows read)
        xp = scratch("conv.pad", (step, C, gap + (Hp + 2) * Wq), x.dtype)
        xp.fill(0)
        rows = xp[:, :, gap:gap + Hp * Wq].reshape(step, C, Hp, Wq)[:, :, pt:pt + H, :W]
        base = xp[:, :, gap - pl:]
        cols = scratch("conv.cols", (step, G, Kb, L), x.dtype)
        cols[:, :, K:] = 1
        wide = scratch("conv.out", (step, G, Cout // G, L), x.dtype)
        for s in range(0, R, step):
            n = min(step, R - s)
            rows[:n] = x4[s:s + n]
            taps = np.lib.stride_tricks.as_strided(
                base, shape=(n, G, Cg, KH, KW, L),
                strides=(base.strides[0], Cg * base.strides[1], base.strides[1], dh * Wq * isz, dw * isz, isz),
                writeable=False)
            cols[:n, :, :K].reshape(n, G, Cg, KH, KW, L)[...] = taps
            np.matmul(Wg, cols[:n], out=wide[:n])
            z = wide[:n].reshape(n, Cout, OH, Wq)[..., :OW]
            if then is None:
                out[s:s + n] = z
            else:
                dense[:n] = z
                out = _put_chunk(out, then(dense[:n]), s, R)
        return out.reshape(lead + out.shape[1:])

    def _same_size(self, in_shape):
        """Whether the output grid is the input grid (stride 1, padding that adds up to the kernel's extent):
        :meth:`_apply_same` applies."""
        KH, KW = self.weight.shape[2:]
        (dh, dw), (pt, pl, pb, pr) = self.dilation, self.padding
        return self.stride == (1, 1) and pt + pb == dh * (KH - 1) and pl + pr == dw * (KW - 1)

    def _apply_same(self, x, P, in_shape, lead, then=None):
        """Output grid = input grid (e.g. 3×3, padding 1, stride 1).

        The columns of one kernel tap, for a whole chunk of samples, are ONE contiguous run of the input
        (shifted by the tap's offset in the flattened image), copied in one long copy; the entries that ran
        across a row, channel or sample boundary are the padding and are set to 0 (the zeros the column kernel
        copies from its padded input).  Then one matrix product per sample.  float64: the bias added after it,
        so every number is the one :meth:`_apply_cols` computes (the same columns, products and sums; within
        ``γ_{K+1}`` like every kernel here).  float32 (approximate): the bias as one more row of the columns."""
        C, H, W = in_shape
        Cout, Cg, KH, KW = self.weight.shape
        G = self.groups
        R = math.prod(lead)
        (dh, dw), (pt, pl, pb, pr) = self.dilation, self.padding
        HW, K, isz = H * W, Cg * KH * KW, x.itemsize
        bias = P.get("bias")
        fold = bias is not None and x.dtype == np.float32
        Wg = P["weight"].reshape(G, Cout // G, K)
        if fold:
            # float32: the weights with the bias as one more column, kept for these very parameter arrays (callers
            # pass other parameters too: absolute values, midpoints)
            kept = self._cache.get("same.folded")
            if kept is None or kept[0] is not P["weight"] or kept[1] is not bias:
                kept = self._cache["same.folded"] = (P["weight"], bias, np.concatenate(
                    [Wg, bias.reshape(G, Cout // G, 1)], axis=2))
            Wg = kept[2]
        after = bias[:, None, None] if bias is not None and not fold else None
        Kb = Wg.shape[2]
        step = max(1, min(R, _CHUNK_BYTES // (isz * HW * (C + G * Kb + Cout))))
        step = -(-R // -(-R // step)) if R else 1             # chunks of even sizes (no small last one)
        x2 = x.reshape(R, C * HW)
        lo, hi = pt * W + pl, pb * W + pr
        # the chunk's input with lo numbers before it and hi after (read only by entries then set to 0)
        buf = scratch("conv.pad", (lo + step * C * HW + hi,), x.dtype)
        cols = scratch("conv.cols", (step, G, Kb, HW), x.dtype)
        if Kb > K:
            cols[:, :, K] = 1
        out = np.empty((R, Cout, H, W), dtype=x.dtype) if then is None else None
        o = scratch("conv.out", (step, Cout, H, W), x.dtype) if then is not None else None
        # the output rows (columns) where a tap reads above or below (left or right of) the image
        rows = [(kh, max(0, pt - kh * dh), min(H, H + pt - kh * dh)) for kh in range(KH)]
        columns = [(kw, max(0, pl - kw * dw), min(W, W + pl - kw * dw)) for kw in range(KW)]
        for s in range(0, R, step):
            n = min(step, R - s)
            buf[lo:lo + n * C * HW] = x2[s:s + n].reshape(-1)
            # (the strided view built directly: as_strided's checks cost more than a small batch's copy)
            taps = np.ndarray((n, G, Cg, KH, KW, HW), x.dtype, buf,
                              strides=(C * HW * isz, Cg * HW * isz, HW * isz, dh * W * isz, dw * isz, isz))
            cv = cols[:n, :, :K].reshape(n, G, Cg, KH, KW, H, W)     # splitting axes: a view, never a copy
            cv.reshape(n, G, Cg, KH, KW, HW)[...] = taps
            for kh, a, b in rows:         # tap rows above or below the image: padding
                if a:
                    cv[:, :, :, kh, :, :a] = 0
                if b < H:
                    cv[:, :, :, kh, :, b:] = 0
            for kw, a, b in columns:      # tap columns left or right of the image: padding
                if a:
                    cv[:, :, :, :, kw, :, :a] = 0
                if b < W:
                    cv[:, :, :, :, kw, :, b:] = 0
            z = out[s:s + n] if then is None else o[:n]
            np.matmul(Wg, cols[:n], out=z.reshape(n, G, Cout // G, HW))
            if after is not None:
                z += after                    # the same sums as the column kernel's out + bias
            if then is not None:
                out = _put_chunk(out, then(z), s, R)
        return out.reshape(lead + out.shape[1:])

    def adjoint(self, g, P, in_shapes):
        in_shape = tuple(in_shapes[0])
        C, H, W = in_shape
        idx, (OH, OW), plan = self._index(in_shape)
        Cout = self.weight.shape[0]
        lead = g.shape[:g.ndim - 3]
        G = self.groups
        gg = np.swapaxes(g.reshape(lead + (G, Cout // G, OH * OW)), -1, -2)     # lead + (G, OHW, Cg_out)
        Wg = P["weight"].reshape(G, Cout // G, -1)
        dcols = gg @ Wg                                                       # lead + (G, OHW, K)
        out = _scatter_add(dcols, plan, C * H * W + 1, lead)
        return [out[..., :C * H * W].reshape(lead + in_shape)]

    def fan_in(self, in_shapes):
        return int(np.prod(self.weight.shape[1:]))


@dataclass(frozen=True, eq=False)
class AvgPool2d(AffineOp):
    """Average pooling over ``kernel`` windows of each channel.

    ``count_include_pad=False`` (the ONNX default) divides by the number of
    input elements in the window; ``True`` by the full window size.

    Examples
    --------
    >>> p = AvgPool2d((2, 2))
    >>> p.apply([np.arange(16.0).reshape(1, 1, 4, 4)], p.params(), [(1, 4, 4)])[0, 0]
    array([[ 2.5,  4.5],
           [10.5, 12.5]])
    """

    kernel: tuple = (2, 2)
    stride: tuple = None
    padding: tuple = (0, 0, 0, 0)
    count_include_pad: bool = False
    kind: ClassVar[str] = "avgpool2d"

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(self, "kernel", _pair(self.kernel, "kernel", "avgpool2d"))
        object.__setattr__(self, "stride", _pair(self.stride if self.stride is not None else self.kernel,
                                                 "stride", "avgpool2d"))
        object.__setattr__(self, "padding", _quad(self.padding, "padding", "avgpool2d"))
        object.__setattr__(self, "count_include_pad", bool(self.count_include_pad))
        if min(self.kernel) < 1 or min(self.stride) < 1 or min(self.padding) < 0:
            raise NetworkFormatError("avgpool2d: kernel and stride must be ≥ 1 and padding ≥ 0")

    def attrs(self):
        return {"kernel": list(self.kernel), "stride": list(self.stride), "padding": list(self.padding),
                "count_include_pad": self.count_include_pad}

    def out_shape(self, in_shapes):
        (s,) = in_shapes
        if len(s) != 3:
            raise NetworkFormatError(f"avgpool2d: expected a (C, H, W) input, got shape {tuple(s)}")
        C, H, W = s
        pt, pl, pb, pr = self.padding
        return (C, _out_size(H, self.kernel[0], self.stride[0], 1, pt, pb, "pooling", "avgpool2d"),
                _out_size(W, self.kernel[1], self.stride[1], 1, pl, pr, "pooling", "avgpool2d"))

    def _index(self, in_shape):
        key = ("index", tuple(in_shape))
        if key not in self._cache:
            C, H, W = in_shape
            idx, ohw = _window_index(in_shape, self.kernel, self.stride, self.padding, (1, 1),
                                     channels_per_group=1, groups=C, pad_index=C * H * W)
            counts = (idx != C * H * W).sum(axis=-1)                       # (C, OHW)
            if self.count_include_pad:
                counts = np.full_like(counts, self.kernel[0] * self.kernel[1])
            self._cache[key] = (idx, ohw, _scatter_plan(idx, C * H * W + 1), counts)
        return self._cache[key]

    def _inv(self, kind, in_shape):
        key = ("inv", kind, tuple(in_shape))
        if kind == "mpmath":
            import mpmath

            key = key + (mpmath.mp.prec,)
        if key not in self._cache:
            counts = self._index(in_shape)[3]
            if kind in ("float", "abs"):
                inv = 1.0 / counts
            else:
                from fractions import Fraction

                from .numbers import convert as _convert, exact_array

                fr = np.vectorize(lambda c: Fraction(1, int(c)), otypes=[object])(counts)
                inv = fr if kind == "fraction" else _convert(exact_array(fr), kind)
            self._cache[key] = inv
        return self._cache[key]

    def params(self, kind: str = "float") -> dict:
        return {"kind": kind}

    def abs_params(self):
        return {"kind": "abs"}

    def apply(self, xs, P, in_shapes):
        x = xs[0]
        in_shape = tuple(in_shapes[0])
        lead = _lead(x, in_shape)
        C, H, W = in_shape
        idx, (OH, OW), _, _ = self._index(in_shape)
        kind = P.get("kind", "float")
        if kind in ("float", "abs") and _is_float(x):
            # float64: window sums over a strided view (no gather), added left to right; the gathered sum
            # added the same numbers in an order NumPy picks, so results agree to a few units in the last place
            R = math.prod(lead)
            (KH, KW), (sh, sw) = self.kernel, self.stride
            x4 = x.reshape((R,) + in_shape)
            tiles = (sh, sw) == (KH, KW) and not any(self.padding)
            if tiles and KH * KW > 16:
                # large windows that tile the input (global pooling): a reduction over a reshape
                s = x4[:, :, :OH * KH, :OW * KW].reshape(R, C, OH, KH, OW, KW).sum(axis=(3, 5))
            elif tiles and 1 < KH * KW and (H, W) == (OH * KH, OW * KW) and x4.flags.c_contiguous \
                    and x.dtype == np.float32 and W <= 16:
                # float32 (approximate) on narrow rows, where NumPy's loops over rows of a few numbers cost more
                # than the sums: the KH rows of each band of windows times a 0/1 matrix (one matrix product), a
                # sum of the window's KH·KW numbers (and exact zeros) in BLAS's order, within the same γ bound
                key = ("tile-sum", W, KH, KW)
                if key not in self._cache:
                    M = np.zeros((KH, OW, KW, OW), dtype=np.float32)
                    for o in range(OW):
                        M[:, o, :, o] = 1
                    self._cache[key] = M.reshape(KH * W, OW)
                s = x4.reshape(R * C * OH, KH * W) @ self._cache[key]
                s *= np.float32(1.0 / (KH * KW))         # every window holds KH·KW numbers: 1/count, as below
                return s.reshape(lead + (C, OH, OW))
            elif tiles and 1 < KH * KW and (H, W) == (OH * KH, OW * KW) and x4.flags.c_contiguous:
                # small windows that tile the input exactly (2×2 stride 2): the KH rows of each window added
                # (whole rows at a time), then the KW columns of those sums (one long strided loop each): a sum
                # of KH·KW terms in another order than left to right, within the same γ_{KH·KW} bound
                v = x4.reshape(R * C * OH, KH, W)
                t = scratch("pool.rows", (R * C * OH, W), x.dtype)     # used only here: a reused buffer
                if KH > 1:
                    np.add(v[:, 0], v[:, 1], out=t)
                else:
                    np.copyto(t, v[:, 0])
                for k in range(2, KH):
                    t += v[:, k]
                h = t.reshape(-1, KW)
                s = h[:, 0] + h[:, 1] if KW > 1 else h[:, 0].copy()
                for k in range(2, KW):
                    s += h[:, k]
                s *= s.dtype.type(1.0 / (KH * KW))         # every window holds KH·KW numbers: 1/count, as below
                return s.reshape(lead + (C, OH, OW))
            else:
                win = _windows4(_padded4(x4, self.padding), self.kernel, self.stride, (1, 1))
                s = win[..., 0, 0] + win[..., 1 // KW, 1 % KW] if KH * KW > 1 else win[..., 0, 0].copy()
                for k in range(2, KH * KW):
                    np.add(s, win[..., k // KW, k % KW], out=s)     # s is fresh: add in place, same sums
            inv = self._inv(kind, in_shape).reshape(C, OH, OW)
            if s.dtype != np.float64:
                key = ("inv", kind, in_shape, s.dtype.str)
                if key not in self._cache:
                    self._cache[key] = inv.astype(s.dtype)       # rounded once, not at every call
                inv = self._cache[key]
            s *= inv
            return s.reshape(lead + (C, OH, OW))
        xf = x.reshape(lead + (C * H * W,))
        xp = np.concatenate([xf, np.broadcast_to(_zero_like(x), lead + (1,))], axis=-1)
        s = xp[..., idx].sum(axis=-1)                                    # lead + (C, OHW)
        return (s * self._inv(P.get("kind", "float"), in_shape)).reshape(lead + (C, OH, OW))

    def adjoint(self, g, P, in_shapes):
        in_shape = tuple(in_shapes[0])
        C, H, W = in_shape
        idx, (OH, OW), plan, _ = self._index(in_shape)
        lead = g.shape[:g.ndim - 3]
        gw = g.reshape(lead + (C, OH * OW)) * self._inv(P.get("kind", "float"), in_shape)
        vals = np.broadcast_to(gw[..., None], lead + idx.shape)
        out = _scatter_add(np.ascontiguousarray(vals), plan, C * H * W + 1, lead)
        return [out[..., :C * H * W].reshape(lead + in_shape)]

    def fan_in(self, in_shapes):
        return self.kernel[0] * self.kernel[1] + 1    # the sum, then the multiplication by 1/count


@dataclass(frozen=True, eq=False)
class MaxPool2d(Op):
    """Max pooling over ``kernel`` windows of each channel (padding never wins the max).

    Examples
    --------
    >>> p = MaxPool2d((2, 2))
    >>> p.out_shape([(1, 4, 4)])
    (1, 2, 2)
    >>> p.apply(np.arange(16.0).reshape(1, 1, 4, 4), (1, 4, 4))[0, 0]
    array([[ 5.,  7.],
           [13., 15.]])
    """

    kernel: tuple = (2, 2)
    stride: tuple = None
    padding: tuple = (0, 0, 0, 0)
    dilation: tuple = (1, 1)
    kind: ClassVar[str] = "maxpool2d"

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(self, "kernel", _pair(self.kernel, "kernel", "maxpool2d"))
        object.__setattr__(self, "stride", _pair(self.stride if self.stride is not None else self.kernel,
                                                 "stride", "maxpool2d"))
        object.__setattr__(self, "padding", _quad(self.padding, "padding", "maxpool2d"))
        object.__setattr__(self, "dilation", _pair(self.dilation, "dilation", "maxpool2d"))
        if min(self.kernel) < 1 or min(self.stride) < 1 or min(self.padding) < 0 or min(self.dilation) < 1:
            raise NetworkFormatError("maxpool2d: kernel, stride and dilation must be ≥ 1 and padding ≥ 0")
        if self.padding[0] >= self.kernel[0] or self.padding[1] >= self.kernel[1] \
                or self.padding[2] >= self.kernel[0] or self.padding[3] >= self.kernel[1]:
            raise NetworkFormatError("maxpool2d: padding must be smaller than the kernel (a window of only "
                                     "padding has no maximum)")

    def attrs(self):
        return {"kernel": list(self.kernel), "stride": list(self.stride), "padding": list(self.padding),
                "dilation": list(self.dilation)}

    def out_shape(self, in_shapes):
        (s,) = in_shapes
        if len(s) != 3:
            raise NetworkFormatError(f"maxpool2d: expected a (C, H, W) input, got shape {tuple(s)}")
        C, H, W = s
        pt, pl, pb, pr = self.padding
        return (C, _out_size(H, self.kernel[0], self.stride[0], self.dilation[0], pt, pb, "pooling", "maxpool2d"),
                _out_size(W, self.kernel[1], self.stride[1], self.dilation[1], pl, pr, "pooling", "maxpool2d"))

    def index(self, in_shape):
        """Gather indices ``(C, OH*OW, KH*KW)`` into the flattened input; padding slots repeat
        a valid element of the same window (so they never change the max), and the plan to
        scatter back.

        Examples
        --------
        >>> MaxPool2d((2, 2)).index((1, 2, 2))[0].tolist()
        [[[0, 1, 2, 3]]]
        """
        key = ("index", tuple(in_shape))
        if key not in self._cache:
            C, H, W = in_shape
            pad = C * H * W
            idx, ohw = _window_index(in_shape, self.kernel, self.stride, self.padding, self.dilation,
                                     channels_per_group=1, groups=C, pad_index=pad)
            first = np.where(idx != pad, idx, np.iinfo(np.int64).max).min(axis=-1, keepdims=True)
            idx = np.where(idx == pad, first, idx)
            self._cache[key] = (idx, ohw, _scatter_plan(idx, C * H * W))
        return self._cache[key]

    def windows(self, x, in_shape):
        """The windows of ``x``: ``lead + (C, OH*OW, KH*KW)``.

        Examples
        --------
        >>> MaxPool2d((2, 2)).windows(np.arange(4.0).reshape(1, 2, 2), (1, 2, 2)).shape
        (1, 1, 4)
        """
        lead = _lead(x, in_shape)
        C, H, W = in_shape
        idx = self.index(in_shape)[0]
        return x.reshape(lead + (C * H * W,))[..., idx]

    def apply(self, x, in_shape):
        """The float (or any totally ordered kind) max pooling of ``x``.

        Examples
        --------
        >>> MaxPool2d((1, 2)).apply(np.array([[[1.0, 3.0]]]), (1, 1, 2)).ravel()
        array([3.])
        """
        in_shape = tuple(in_shape)
        lead = _lead(x, in_shape)
        if _is_float(x):
            # float: the max over a strided view of the input padded with -inf (no gather); the first two
            # window positions make a fresh array that the others update in place
            R = math.prod(lead)
            KH, KW = self.kernel
            C, H, W = in_shape
            if self.stride == (KH, KW) and self.dilation == (1, 1) and not any(self.padding) \
                    and H % KH == 0 and W % KW == 0 and 1 < KH * KW <= 16 and x.flags.c_contiguous:
                # windows that tile the input (2×2 stride 2): the max of the KH rows of each window (whole rows at
                # a time), then of the KW columns of those (long strided loops); the max of the same numbers
                v = x.reshape(R * C * (H // KH), KH, W)
                t = scratch("pool.rows", (R * C * (H // KH), W), x.dtype)     # used only here: a reused buffer
                if KH > 1:
                    np.maximum(v[:, 0], v[:, 1], out=t)
                else:
                    np.copyto(t, v[:, 0])
                for k in range(2, KH):
                    np.maximum(t, v[:, k], out=t)
                h = t.reshape(-1, KW)
                m = np.maximum(h[:, 0], h[:, 1]) if KW > 1 else h[:, 0].copy()
                for k in range(2, KW):
                    np.maximum(m, h[:, k], out=m)
                return m.reshape(lead + (C, H // KH, W // KW))
            win = _windows4(_padded4(x.reshape((R,) + in_shape), self.padding, -np.inf), self.kernel, self.stride,
                            self.dilation)
            m = np.maximum(win[..., 0, 0], win[..., 1 // KW, 1 % KW]) if KH * KW > 1 else win[..., 0, 0].copy()
            for k in range(2, KH * KW):
                np.maximum(m, win[..., k // KW, k % KW], out=m)
            return m.reshape(lead + (in_shape[0],) + win.shape[2:4])
        _, (OH, OW), _ = self.index(in_shape)
        return self.windows(x, in_shape).max(axis=-1).reshape(lead + (in_shape[0], OH, OW))

    def spread(self, g, in_shape):
        """Add each output's value to every element of its window (the adjoint of a window sum).

        ``g``: ``lead + (C, OH, OW)`` → ``lead + in_shape``.  Since
        ``|max(a + δ) − max(a)| ≤ Σ_window |δ|``, spreading non-negative
        sensitivities this way bounds how a perturbation passes max pooling.

        Examples
        --------
        >>> MaxPool2d((2, 2), 1).spread(np.ones((1, 1, 1)), (1, 2, 2))
        array([[[1., 1.],
                [1., 1.]]])
        """
        in_shape = tuple(in_shape)
        idx, (OH, OW), plan = self.index(in_shape)
        lead = g.shape[:g.ndim - 3]
        vals = np.broadcast_to(g.reshape(lead + (in_shape[0], OH * OW))[..., None], lead + idx.shape)
        out = _scatter_add(np.ascontiguousarray(vals), plan, int(np.prod(in_shape)), lead)
        return out.reshape(lead + in_shape)

    def fan_in(self, in_shapes):
        return self.kernel[0] * self.kernel[1]


@dataclass(frozen=True, eq=False)
class BatchNorm(AffineOp):
    """Batch normalization at inference, as the affine map ``y_c = scale_c · x_c + shift_c``.

    The channel is the first axis of a sample (``(C,)`` vectors or
    ``(C, H, W)`` images).  Importers compute
    ``scale = γ / sqrt(var + ε)`` and ``shift = β − mean · scale`` once, in
    float64; those two arrays are then the model.

    Examples
    --------
    >>> bn = BatchNorm(np.array([2.0]), np.array([1.0]))
    >>> bn.apply([np.ones((1, 1, 2, 2))], bn.params(), [(1, 2, 2)])[0, 0]
    array([[3., 3.],
           [3., 3.]])
    """

    scale: np.ndarray = None
    shift: np.ndarray = None
    kind: ClassVar[str] = "batchnorm"
    arrays: ClassVar[tuple] = ("scale", "shift")
    offsets: ClassVar[tuple] = ("shift",)

    def __post_init__(self):
        super().__post_init__()
        _check_matrix(self.scale, "scale", 1, "batchnorm")
        if self.shift is not None and self.shift.shape != self.scale.shape:
            raise NetworkFormatError("batchnorm: shift: expected as many numbers as scale")

    def out_shape(self, in_shapes):
        (s,) = in_shapes
        if not s or s[0] != self.scale.shape[0]:
            raise NetworkFormatError(f"batchnorm: expected {self.scale.shape[0]} channels (the first axis), "
                                     f"got shape {tuple(s)}")
        return tuple(s)

    def _bc(self, a, in_shape):
        return a.reshape((-1,) + (1,) * (len(in_shape) - 1))

    def apply(self, xs, P, in_shapes):
        s = tuple(in_shapes[0])
        y = xs[0] * self._bc(P["scale"], s)
        if P.get("shift") is not None:
            if isinstance(y, np.ndarray) and y.dtype != object and np.result_type(y, P["shift"]) == y.dtype:
                y += self._bc(P["shift"], s)          # y is fresh: add in place (the same sums, no second array)
            else:
                y = y + self._bc(P["shift"], s)
        return y

    def adjoint(self, g, P, in_shapes):
        return [g * self._bc(P["scale"], tuple(in_shapes[0]))]

    def abs_params(self):
        P = super().abs_params()
        P["shift"] = None
        return P

    @property
    def has_bias(self):
        return self.shift is not None


@dataclass(frozen=True, eq=False)
class Add(AffineOp):
    """The sum of two or more tensors of the same shape (a residual connection).

    Examples
    --------
    >>> Add().apply([np.ones(2), np.ones(2)], {}, [(2,), (2,)])
    array([2., 2.])
    """

    kind: ClassVar[str] = "add"
    n_inputs: ClassVar[tuple] = (2, None)

    def out_shape(self, in_shapes):
        first = tuple(in_shapes[0])
        for s in in_shapes[1:]:
            if tuple(s) != first:
                raise NetworkFormatError(f"add: expected inputs of the same shape, got {[tuple(t) for t in in_shapes]}")
        return first

    def apply(self, xs, P, in_shapes):
        y = xs[0] + xs[1]
        for x in xs[2:]:
            if isinstance(y, np.ndarray) and y.dtype != object and np.result_type(y, x) == y.dtype \
                    and np.broadcast_shapes(y.shape, np.shape(x)) == y.shape:
                y += x                                # y is fresh: add in place (the same sums)
            else:
                y = y + x
        return y

    def adjoint(self, g, P, in_shapes):
        return [g for _ in in_shapes]

    def fan_in(self, in_shapes):
        return len(in_shapes)


@dataclass(frozen=True, eq=False)
class Flatten(AffineOp):
    """Flatten a sample to a vector (row-major).

    Examples
    --------
    >>> Flatten().apply([np.zeros((5, 2, 3))], {}, [(2, 3)]).shape
    (5, 6)
    """

    kind: ClassVar[str] = "flatten"

    def out_shape(self, in_shapes):
        return (int(np.prod(in_shapes[0])),)

    def apply(self, xs, P, in_shapes):
        lead = _lead(xs[0], in_shapes[0])
        return xs[0].reshape(lead + (-1,))

    def adjoint(self, g, P, in_shapes):
        lead = g.shape[:-1]
        return [g.reshape(lead + tuple(in_shapes[0]))]


@dataclass(frozen=True, eq=False)
class Reshape(AffineOp):
    """Reshape a sample to ``shape`` (row-major; sizes must agree).

    Examples
    --------
    >>> Reshape((2, 3)).out_shape([(6,)])
    (2, 3)
    """

    shape: tuple = ()
    kind: ClassVar[str] = "reshape"

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(self, "shape", tuple(int(s) for s in self.shape))

    def attrs(self):
        return {"shape": list(self.shape)}

    def out_shape(self, in_shapes):
        if int(np.prod(in_shapes[0])) != int(np.prod(self.shape)) or min(self.shape, default=0) < 1:
            raise NetworkFormatError(f"reshape: cannot reshape {tuple(in_shapes[0])} to {self.shape}")
        return self.shape

    def apply(self, xs, P, in_shapes):
        lead = _lead(xs[0], in_shapes[0])
        return xs[0].reshape(lead + self.shape)

    def adjoint(self, g, P, in_shapes):
        lead = g.shape[:g.ndim - len(self.shape)]
        return [g.reshape(lead + tuple(in_shapes[0]))]


@dataclass(frozen=True, eq=False)
class Identity(AffineOp):
    """The identity (also what Dropout is at inference).

    Examples
    --------
    >>> Identity().out_shape([(3,)])
    (3,)
    """

    kind: ClassVar[str] = "identity"

    def out_shape(self, in_shapes):
        return tuple(in_shapes[0])

    def apply(self, xs, P, in_shapes):
        return xs[0]

    def adjoint(self, g, P, in_shapes):
        return [g]


#: Op classes by their file name.
OP_KINDS = {cls.kind: cls for cls in (Input, Dense, Conv2d, AvgPool2d, MaxPool2d, BatchNorm, Add, Flatten, Reshape,
                                      Identity, ActivationOp)}
