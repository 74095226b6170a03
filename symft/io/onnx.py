r"""ONNX models in and out.

**Reading** (:func:`load_onnx`, and :func:`symft.load_network` on any ONNX
file): the model's graph becomes a :class:`~symft.graph.network.Network`
whose nodes carry the ONNX node names (a node without a name is named after
its first output tensor), so crash sites are addressed by ONNX node names:
the input (named after the graph input), every activation node, and the
output node.

* The first axis of the graph input is the batch axis (any size, usually
  dynamic); every other dimension must be static.  One graph input, one
  graph output, opsets 11–21 of the default domain.
* Ops read (:data:`SUPPORTED_OPS`): ``Gemm`` (``transB``, ``alpha``,
  ``beta``; the data must be the first operand, untransposed), ``MatMul``
  (data times a constant matrix; an ``Add`` of a constant after it becomes
  the bias), ``Conv`` (2-D; ``pads``, ``strides``, ``dilations``, ``group``,
  ``auto_pad``), ``Relu``, ``LeakyRelu``, ``Sigmoid``, ``Tanh``,
  ``Softplus``, ``Elu``, ``Clip`` (bounds given as constant inputs, or as
  the attributes of the old form), ``HardSigmoid``, ``Flatten`` (axis 1),
  ``Reshape`` (static target; ``0`` and ``-1`` handled; the batch axis must
  stay first), ``BatchNormalization`` (inference), ``AveragePool``
  (``count_include_pad``, ``pads``), ``GlobalAveragePool``, ``MaxPool``
  (``dilations``), ``Add`` (of two tensors of the same shape — a residual
  connection — or of a constant that is the same for every element of a
  channel: folded into the bias of the ``Conv``/``Gemm``/``MatMul`` just
  before it when nothing else reads that node, else a per-channel shift),
  ``Identity``, ``Dropout`` (inference: the identity), ``Softmax`` /
  ``LogSoftmax`` as the last node (dropped: they do not change which output
  is largest, so class decisions are unchanged; a note saying so is stored in
  ``net.metadata["notes"]``), and ``Constant`` (a source of constants, e.g.
  Clip bounds or a Reshape target).
* ``ceil_mode=1`` in a pool is refused when it changes the output size (and
  read as ``ceil_mode=0`` when it does not).
* Anything else — another op, an attribute value symft cannot honour, a
  dynamic dimension, several graph inputs or outputs, a used second output
  of a node, another opset — raises :class:`~symft.errors.NetworkFormatError`
  with one line naming the node, its op type and the supported ops.

**Numbers.**  Float32 (and float16) initializers and attributes are read
exactly, as the doubles they equal; the network is float64.  Derived
parameters are computed once, in float64: batch normalization becomes the
affine ``BatchNorm`` op with ``scale = γ / sqrt(var + ε)`` and
``shift = β − mean · scale``; ``Gemm`` with ``alpha ≠ 1`` stores
``alpha · B`` and with ``beta ≠ 1`` the bias ``beta · C`` (these products
of two float32 numbers are exact in float64); a folded constant is added to
the bias in float64.  So symft's forward pass is the float64 evaluation of
the model, and agrees with onnxruntime's float32 one to float32 rounding.

**Writing** (:func:`save_onnx`, :func:`to_onnx`): every op of
:mod:`symft.graph.ops` maps to one ONNX op (``Dense`` → ``Gemm``,
``BatchNorm`` → ``BatchNormalization`` with mean 0, variance 1 and ε = 0);
node and tensor names are the network's node names, so reading the file back
gives the same sites.  Activations ONNX has are written as themselves;
``hardtanh``, ``relu6`` and ``clip(lo,hi)`` become ``Clip``; ``ramp`` is
``Clip(x + 1, 0, 1)``, ``step`` is ``Cast(x > 0)``, a scaled ``c*φ`` is
``φ`` then a ``Mul``; a parameter that cannot be held exactly (a ``clip``
bound of 1/3, a float32 attribute that is not a float32 number) is written
with basic ops when possible and refused otherwise; custom activations are
refused.

Examples
--------
>>> import numpy as np
>>> from onnx import TensorProto, helper, numpy_helper
>>> W = numpy_helper.from_array(np.array([[1.0, -2.0], [0.5, 1.0]], dtype=np.float32), "W")
>>> g = helper.make_graph(
...     [helper.make_node("Gemm", ["x", "W"], ["z"], name="fc", transB=1),
...      helper.make_node("Relu", ["z"], ["y"], name="act")], "tiny",
...     [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2])],
...     [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2])], [W])
>>> net = load_onnx(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]))
>>> net.order, net.sites
(('x', 'fc', 'act'), ('x', 'act'))
>>> from symft.engines.forward import forward
>>> forward(net, [1.0, 1.0])
array([0. , 1.5])
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from collections import Counter

import numpy as np
from ..lazyimport import sympy as sp

from ..errors import InvalidArgument, MissingDependency, NetworkFormatError
from ..graph.activations import get_activation, parametric_activation
from ..graph.network import Network
from ..graph.numbers import float_array
from ..graph.ops import (ActivationOp, Add, AvgPool2d, BatchNorm, Conv2d, Dense, Flatten, Identity, Input,
                         MaxPool2d, Reshape)

__all__ = ["SUPPORTED_OPS", "OPSETS", "looks_like_onnx", "load_onnx", "to_onnx", "save_onnx"]

#: The ONNX ops :func:`load_onnx` reads.
SUPPORTED_OPS = ("Gemm", "MatMul", "Conv", "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Softplus", "Elu", "Clip",
                 "HardSigmoid", "Flatten", "Reshape", "BatchNormalization", "AveragePool", "GlobalAveragePool",
                 "MaxPool", "Add", "Identity", "Dropout", "Softmax", "LogSoftmax", "Constant")
#: The opsets of the default domain :func:`load_onnx` reads (inclusive).
OPSETS = (11, 21)

_INSTALL = "pip install symft[onnx]"


def _require_onnx():
    try:
        import onnx
    except ImportError:
        raise MissingDependency(f"reading or writing ONNX needs the onnx package: {_INSTALL}") from None
    return onnx


# ------------------------------------------------------------------------------------------ detection

#: ModelProto's top-level fields: number → protobuf wire type.
_MODEL_FIELDS = {1: 0, 2: 2, 3: 2, 4: 2, 5: 0, 6: 2, 7: 2, 8: 2, 14: 2, 20: 2, 25: 2}


def _varint(data, i):
    v, shift = 0, 0
    while i < len(data):
        b = data[i]
        i += 1
        v |= (b & 0x7F) << shift
        if not b & 0x80:
            return v, i
        shift += 7
        if shift > 63:
            return None, i
    return None, i


def looks_like_onnx(data: bytes) -> bool:
    """Whether ``data`` (a file's bytes, or its first kilobytes) is a serialized ONNX model.

    Reads the top-level protobuf fields: every one must be a field of
    ``ModelProto`` with its wire type, and the graph field must be there.
    JSON text, zip archives and pickles never pass.  Needs no ONNX package.

    Examples
    --------
    >>> looks_like_onnx(b'{"format": "symft.network"}')
    False
    >>> looks_like_onnx(bytes([0x08, 0x08, 0x3a, 0x00]))   # ir_version 8, an empty graph
    True
    """
    data = bytes(data)
    i, seen_graph = 0, False
    while i < len(data):
        tag, i = _varint(data, i)
        if tag is None:
            return seen_graph
        field, wire = tag >> 3, tag & 7
        if _MODEL_FIELDS.get(field) != wire:
            return False
        value, i = _varint(data, i)
        if value is None:
            return seen_graph
        if wire == 2:
            seen_graph = seen_graph or field == 7
            i += value
    return seen_graph


# ------------------------------------------------------------------------------------------ reading

class _Refusal(NetworkFormatError):
    """A complete one-line refusal (already names the source and the node)."""


def load_onnx(model, *, source: str | None = None) -> Network:
    """Read an ONNX model into a :class:`~symft.graph.network.Network`.

    See the module docstring for the ops, the naming of sites and how
    numbers are read.

    Parameters
    ----------
    model : str, os.PathLike, bytes or onnx.ModelProto
        A path (external tensor data next to it is read too), the serialized
        model, or the model.
    source : str, optional
        How errors name the model (default: the path, or ``"<onnx>"``).

    Returns
    -------
    Network
        Float64; ``net.metadata`` holds ``"source": "onnx"``, the opset, the
        producer, and ``"notes"`` when a final Softmax was dropped.

    Raises
    ------
    NetworkFormatError
        A file that is not an ONNX model, or anything symft does not read;
        one line naming the node, its op type and the supported ops.
    MissingDependency
        The ``onnx`` package is not installed (``pip install symft[onnx]``).

    Examples
    --------
    >>> from onnx import TensorProto, helper
    >>> g = helper.make_graph([helper.make_node("Sin", ["x"], ["y"], name="s")], "g",
    ...                       [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2])],
    ...                       [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2])])
    >>> load_onnx(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), source="m.onnx")
    Traceback (most recent call last):
    ...
    symft.errors.NetworkFormatError: m.onnx: node 's' (Sin): unsupported op; supported ops: Gemm, MatMul, Conv, ...
    """
    onnx = _require_onnx()
    if isinstance(model, (str, os.PathLike)):
        src = os.fspath(model)
        if not os.path.exists(src):
            raise NetworkFormatError(f"{src}: no such file")
        try:
            proto = onnx.load(src)
        except Exception as e:   # protobuf's DecodeError, missing external data, …
            raise NetworkFormatError(f"{source or src}: not a readable ONNX model ({_one_line(e)})") from None
        source = source or src
    elif isinstance(model, (bytes, bytearray)):
        try:
            proto = onnx.load_model_from_string(bytes(model))
        except Exception as e:
            raise NetworkFormatError(f"{source or '<onnx>'}: not a readable ONNX model ({_one_line(e)})") from None
    elif isinstance(model, onnx.ModelProto):
        proto = model
    else:
        raise InvalidArgument(f"model: expected a path, bytes or an onnx.ModelProto, got {type(model).__name__}")
    try:
        return _Importer(proto, source or "<onnx>").run()
    except _Refusal as e:
        raise NetworkFormatError(str(e)) from None


def _one_line(e):
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


def _f32(v):
    """A float attribute default as ONNX stores it (float32), as the double it equals."""
    return float(np.float32(v))


def _rational(v):
    """The exact rational a float (or an integer) holds."""
    return sp.Rational(float(v)) if isinstance(v, (float, np.floating)) else sp.Integer(int(v))


class _Importer:
    def __init__(self, proto, source):
        self.m = proto
        self.g = proto.graph
        self.src = source
        self.consts = {}      # tensor name → numpy array (floats as float64, exactly)
        self.data = {}        # tensor name → network node name
        self.direct = {}      # tensor name → node it is the own output of (for folding)
        self.nodes = []       # [name, op, inputs]
        self.pos = {}         # node name → index in self.nodes
        self.shape = {}       # node name → per-sample shape
        self.taken = set()
        self.uses = Counter()
        self.notes = []
        self.opset = None
        self.batch = None
        self.dtype_max = float(np.finfo(np.float32).max)

    # -------------------------------------------------------------- messages
    def _msg(self, node, name, reason):
        return (f"{self.src}: node {name!r} ({node.op_type}): {reason}; "
                f"supported ops: {', '.join(SUPPORTED_OPS)}")

    def _fail(self, node, name, reason):
        raise _Refusal(self._msg(node, name, reason))

    def _graph_fail(self, reason):
        raise _Refusal(f"{self.src}: {reason}")

    # -------------------------------------------------------------- the whole model
    def run(self) -> Network:
        onnx = _require_onnx()
        self._check_opset()
        from onnx import numpy_helper

        for t in self.g.initializer:
            self.consts[t.name] = self._tensor_array(t, numpy_helper)
        if len(self.g.sparse_initializer):
            self._graph_fail("sparse initializers are not supported")
        for n in self.g.node:
            for t in n.input:
                if t:
                    self.uses[t] += 1
        outs = list(self.g.output)
        if len(outs) != 1:
            self._graph_fail(f"the model has {len(outs)} outputs ({', '.join(o.name for o in outs)}); "
                             "symft reads models with one input and one output")
        out = outs[0].name
        self.uses[out] += 1
        ins = [vi for vi in self.g.input if vi.name not in self.consts]
        if len(ins) != 1:
            self._graph_fail(f"the model has {len(ins)} inputs ({', '.join(vi.name for vi in ins)}); "
                             "symft reads models with one input and one output")
        self._input(ins[0], onnx)
        for k, node in enumerate(self.g.node):
            self._node(node, k, onnx)
        if out not in self.data:
            what = "a constant" if out in self.consts else "not computed by any node"
            self._graph_fail(f"the output {out!r} is {what}")
        meta, sites = self._symft_props()
        meta.update({"source": "onnx", "opset": self.opset})
        producer = f"{self.m.producer_name} {self.m.producer_version}".strip()
        if producer:
            meta["producer"] = producer
        if self.notes:
            meta["notes"] = list(self.notes)
        try:
            nodes = [(n, op, tuple(ins)) for n, op, ins in self.nodes]
            if sites is not None and not set(sites) <= set(self.pos):
                sites = None
            return Network(nodes, self.data[out], sites=sites, name=self.g.name or None, metadata=meta)
        except NetworkFormatError as e:
            raise NetworkFormatError(f"{self.src}: {e}") from None

    def _symft_props(self):
        """Metadata and sites a symft export stored (``metadata_props``), when valid."""
        import json

        props = {p.key: p.value for p in self.m.metadata_props}
        meta, sites = {}, None
        try:
            if "symft.metadata" in props:
                m = json.loads(props["symft.metadata"])
                meta = m if isinstance(m, dict) else {}
            if "symft.sites" in props:
                s = json.loads(props["symft.sites"])
                if isinstance(s, list) and all(isinstance(v, str) for v in s):
                    sites = s
        except ValueError:
            pass
        return meta, sites

    def _check_opset(self):
        versions = {(imp.domain or ""): imp.version for imp in self.m.opset_import}
        v = versions.get("", versions.get("ai.onnx"))
        lo, hi = OPSETS
        if v is None:
            self._graph_fail(f"the model declares no opset of the default ONNX domain; symft reads opsets {lo}–{hi}")
        if not lo <= v <= hi:
            self._graph_fail(f"opset {v} is not supported; symft reads opsets {lo}–{hi} "
                             "(re-export with an opset in that range)")
        self.opset = int(v)

    def _tensor_array(self, t, numpy_helper, where=None):
        try:
            a = numpy_helper.to_array(t)
        except Exception as e:
            self._graph_fail(f"tensor {where or t.name!r}: cannot be read ({_one_line(e)})")
        if a.dtype.kind == "f" or a.dtype.name == "bfloat16":
            return a.astype(np.float64)         # exact: every float32/float16 is a double
        return a

    def _input(self, vi, onnx):
        tt = vi.type.tensor_type if vi.type.HasField("tensor_type") else None
        if tt is None:
            self._graph_fail(f"input {vi.name!r}: expected a tensor")
        TP = onnx.TensorProto
        floats = {TP.FLOAT: np.float32, TP.DOUBLE: np.float64, TP.FLOAT16: np.float16, TP.BFLOAT16: np.float32}
        if tt.elem_type not in floats:
            self._graph_fail(f"input {vi.name!r}: element type {TP.DataType.Name(tt.elem_type)} is not supported; "
                             "expected float, double or float16")
        self.dtype_max = float(np.finfo(floats[tt.elem_type]).max)
        if not tt.HasField("shape"):
            self._graph_fail(f"input {vi.name!r}: the shape is dynamic; symft needs a static shape "
                             "except for the batch axis (the first)")
        dims = list(tt.shape.dim)
        if len(dims) < 2:
            self._graph_fail(f"input {vi.name!r}: expected a batch axis first and the sample's axes after it, "
                             f"got {len(dims)} dimension{'s' if len(dims) != 1 else ''}")
        shape = []
        for k, d in enumerate(dims[1:], start=1):
            if not d.HasField("dim_value") or d.dim_value < 1:
                label = f" ({d.dim_param!r})" if d.HasField("dim_param") else ""
                self._graph_fail(f"input {vi.name!r}: dimension {k}{label} is dynamic; symft needs a static shape "
                                 "except for the batch axis (the first)")
            shape.append(int(d.dim_value))
        if dims[0].HasField("dim_value") and dims[0].dim_value > 0:
            self.batch = int(dims[0].dim_value)
        name = vi.name
        self._add(name, Input(tuple(shape)), (), [vi.name])

    # -------------------------------------------------------------- helpers
    def _add(self, name, op, inputs, outputs, node=None, onnx_name=None):
        base = name
        k = 2
        while name in self.taken:
            name = f"{base}_{k}"
            k += 1
        in_shapes = [self.shape[i] for i in inputs]
        try:
            shape = tuple(op.out_shape(in_shapes)) if inputs else tuple(op.out_shape([]))
        except NetworkFormatError as e:
            if node is None:
                raise
            self._fail(node, onnx_name, str(e))
        self.taken.add(name)
        self.pos[name] = len(self.nodes)
        self.nodes.append([name, op, tuple(inputs)])
        self.shape[name] = shape
        for t in outputs:
            self.data[t] = name
            self.direct[t] = name
        return name

    def _arg(self, node, k):
        """Input ``k``'s tensor name, or None when absent (optional inputs)."""
        return node.input[k] if k < len(node.input) and node.input[k] else None

    def _data(self, node, name, k, what="input"):
        t = self._arg(node, k)
        if t is None:
            self._fail(node, name, f"{what} is missing")
        if t in self.data:
            return self.data[t]
        if t in self.consts:
            self._fail(node, name, f"{what} {t!r} is a constant; symft expects the data there "
                                   "(computations on constants alone are not supported)")
        self._fail(node, name, f"{what} {t!r} is not computed before this node")

    def _const(self, node, name, k, what, optional=False):
        t = self._arg(node, k)
        if t is None:
            if optional:
                return None
            self._fail(node, name, f"{what} is missing")
        if t in self.consts:
            return self.consts[t]
        self._fail(node, name, f"{what} {t!r} must be a constant (an initializer or a Constant node), "
                               "not a computed tensor")

    def _floats(self, node, name, a, what):
        if a.dtype.kind not in "fiu":
            self._fail(node, name, f"{what} has element type {a.dtype}; expected numbers")
        if a.dtype.kind in "iu":
            if a.size and np.abs(a).max() > 2 ** 53:
                self._fail(node, name, f"{what} has integers too large for a double")
            a = a.astype(np.float64)
        if not np.isfinite(a).all():
            self._fail(node, name, f"{what} holds NaN or infinite values")
        return a

    def _attrs(self, node, name, attrs, allowed):
        out = dict(allowed)
        for k, v in attrs.items():
            if k not in allowed:
                self._fail(node, name, f"attribute {k!r} is not supported")
            out[k] = v.decode() if isinstance(v, bytes) else v
        return out

    def _per_channel(self, c, shape):
        """The constant ``c`` as one number per channel (first sample axis) when it broadcasts that way."""
        full = (1,) + tuple(shape)
        if c.ndim > len(full):
            return None
        try:
            b = np.broadcast_to(c, full)
        except ValueError:
            return None
        if b.shape != full:
            return None
        per = np.asarray(b[0]).reshape(shape[0], -1)
        if not (per == per[:, :1]).all():
            return None
        return per[:, 0].astype(np.float64)

    # -------------------------------------------------------------- one node
    def _node(self, node, k, onnx):
        name = node.name or (node.output[0] if len(node.output) and node.output[0] else f"{node.op_type}_{k}")
        if node.domain not in ("", "ai.onnx"):
            self._fail(node, name, f"op of domain {node.domain!r} is not supported")
        handler = getattr(self, f"_op_{node.op_type}", None)
        if handler is None or node.op_type not in SUPPORTED_OPS:
            self._fail(node, name, "unsupported op")
        if not len(node.output) or not node.output[0]:
            self._fail(node, name, "the node has no output")
        for t in node.output[1:]:
            if t and self.uses[t]:
                self._fail(node, name, f"several outputs: its output {t!r} is used; symft reads the first only")
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        handler(node, name, attrs)

    # constants
    def _op_Constant(self, node, name, attrs):
        from onnx import numpy_helper

        given = {k: v for k, v in attrs.items()}
        kinds = {"value", "value_float", "value_floats", "value_int", "value_ints"}
        extra = set(given) - kinds
        if extra:
            self._fail(node, name, f"attribute {sorted(extra)[0]!r} is not supported")
        if len(given) != 1:
            self._fail(node, name, "expected exactly one value attribute")
        (key, v), = given.items()
        if key == "value":
            a = self._tensor_array(v, numpy_helper, where=node.output[0])
        elif key == "value_float":
            a = np.array(float(v))
        elif key == "value_floats":
            a = np.array([float(x) for x in v])
        elif key == "value_int":
            a = np.array(int(v), dtype=np.int64)
        else:
            a = np.array([int(x) for x in v], dtype=np.int64)
        self.consts[node.output[0]] = a

    # affine ops
    def _op_Gemm(self, node, name, attrs):
        at = self._attrs(node, name, attrs, {"alpha": 1.0, "beta": 1.0, "transA": 0, "transB": 0})
        if len(node.input) < 2 or len(node.input) > 3:
            self._fail(node, name, f"expected 2 or 3 inputs, got {len(node.input)}")
        x = self._data(node, name, 0, "the first operand (A)")
        if at["transA"]:
            self._fail(node, name, "transA=1 on the data would mix the batch axis; only the constant operand "
                                   "may be transposed (transB)")
        shp = self.shape[x]
        if len(shp) != 1:
            self._fail(node, name, f"expected a batch of vectors, got samples of shape {shp}")
        B = self._floats(node, name, self._const(node, name, 1, "the weight (B)"), "the weight (B)")
        if B.ndim != 2:
            self._fail(node, name, f"the weight (B) must be a matrix, got shape {B.shape}")
        Bp = B.T if at["transB"] else B                                   # (K, M)
        if Bp.shape[0] != shp[0]:
            self._fail(node, name, f"the weight has {Bp.shape[0]} rows (after transB) but the data has "
                                   f"{shp[0]} columns")
        W = Bp.T * float(at["alpha"]) if float(at["alpha"]) != 1.0 else Bp.T
        bias = None
        C = self._const(node, name, 2, "the bias (C)", optional=True)
        if C is not None:
            C = self._floats(node, name, C, "the bias (C)")
            c = self._per_channel(C, (W.shape[0],))
            if c is None:
                self._fail(node, name, f"the bias (C) of shape {C.shape} does not broadcast per output "
                                       f"({W.shape[0]} outputs)")
            bias = c * float(at["beta"]) if float(at["beta"]) != 1.0 else c
        self._add(name, Dense(float_array(W), None if bias is None else float_array(bias)), [x],
                  [node.output[0]], node, name)

    def _op_MatMul(self, node, name, attrs):
        self._attrs(node, name, attrs, {})
        x = self._data(node, name, 0, "the first operand")
        shp = self.shape[x]
        if len(shp) != 1:
            self._fail(node, name, f"expected a batch of vectors times a matrix, got samples of shape {shp}")
        B = self._floats(node, name, self._const(node, name, 1, "the second operand"), "the second operand")
        if B.ndim != 2 or B.shape[0] != shp[0]:
            self._fail(node, name, f"expected a constant {shp[0]} × m matrix as the second operand, "
                                   f"got shape {B.shape}")
        self._add(name, Dense(float_array(B.T), None), [x], [node.output[0]], node, name)

    def _pads(self, node, name, at, hw, kernel, strides, dil):
        auto = at.get("auto_pad", "NOTSET") or "NOTSET"
        if auto == "NOTSET":
            pads = at.get("pads")
            if pads is None:
                return (0, 0, 0, 0)
            pads = tuple(int(p) for p in pads)
            if len(pads) != 4 or min(pads) < 0:
                self._fail(node, name, f"pads: expected 4 non-negative integers, got {list(pads)}")
            return pads                                          # (top, left, bottom, right)
        if auto == "VALID":
            return (0, 0, 0, 0)
        if auto not in ("SAME_UPPER", "SAME_LOWER"):
            self._fail(node, name, f"auto_pad={auto!r} is not supported")
        begin, end = [], []
        for n, k, s, d in zip(hw, kernel, strides, dil):
            out = -(-n // s)
            total = max(0, (out - 1) * s + (k - 1) * d + 1 - n)
            small, big = total // 2, total - total // 2
            begin.append(small if auto == "SAME_UPPER" else big)
            end.append(big if auto == "SAME_UPPER" else small)
        return (begin[0], begin[1], end[0], end[1])

    def _pair_attr(self, node, name, v, what, default):
        if v is None:
            return default
        t = tuple(int(a) for a in v)
        if len(t) != 2:
            self._fail(node, name, f"{what}: only 2-D is supported, got {list(t)}")
        return t

    def _image(self, node, name, k=0):
        x = self._data(node, name, k)
        shp = self.shape[x]
        if len(shp) != 3:
            self._fail(node, name, f"expected a batch of (C, H, W) images, got samples of shape {shp}")
        return x, shp

    def _op_Conv(self, node, name, attrs):
        at = self._attrs(node, name, attrs, {"auto_pad": "NOTSET", "dilations": None, "group": 1,
                                             "kernel_shape": None, "pads": None, "strides": None})
        x, shp = self._image(node, name)
        W = self._floats(node, name, self._const(node, name, 1, "the weight"), "the weight")
        if W.ndim != 4:
            self._fail(node, name, f"only 2-D convolutions are supported (weight of shape {W.shape})")
        ks = self._pair_attr(node, name, at["kernel_shape"], "kernel_shape", tuple(W.shape[2:]))
        if ks != tuple(W.shape[2:]):
            self._fail(node, name, f"kernel_shape {list(ks)} differs from the weight's {list(W.shape[2:])}")
        strides = self._pair_attr(node, name, at["strides"], "strides", (1, 1))
        dil = self._pair_attr(node, name, at["dilations"], "dilations", (1, 1))
        pads = self._pads(node, name, at, shp[1:], ks, strides, dil)
        b = self._const(node, name, 2, "the bias", optional=True)
        if b is not None:
            b = self._floats(node, name, b, "the bias")
            if b.shape != (W.shape[0],):
                self._fail(node, name, f"the bias must have {W.shape[0]} numbers, got shape {b.shape}")
        op = Conv2d(float_array(W), None if b is None else float_array(b), stride=strides, padding=pads,
                    dilation=dil, groups=int(at["group"]))
        self._add(name, op, [x], [node.output[0]], node, name)

    def _pool_geometry(self, node, name, at, shp, dil):
        ks = at.get("kernel_shape")
        if ks is None:
            self._fail(node, name, "kernel_shape is missing")
        ks = self._pair_attr(node, name, ks, "kernel_shape", None)
        strides = self._pair_attr(node, name, at.get("strides"), "strides", (1, 1))
        pads = self._pads(node, name, at, shp[1:], ks, strides, dil)
        if int(at.get("ceil_mode", 0)):
            for n, k, s, d, p in zip(shp[1:], ks, strides, dil, (pads[0] + pads[2], pads[1] + pads[3])):
                span = n + p - ((k - 1) * d + 1)
                if span >= 0 and span % s:
                    self._fail(node, name, "ceil_mode=1 is not supported (here it changes the output size; "
                                           "export with ceil_mode=0)")
        return ks, strides, pads

    def _op_AveragePool(self, node, name, attrs):
        at = self._attrs(node, name, attrs, {"auto_pad": "NOTSET", "ceil_mode": 0, "count_include_pad": 0,
                                             "dilations": None, "kernel_shape": None, "pads": None,
                                             "strides": None})
        x, shp = self._image(node, name)
        dil = self._pair_attr(node, name, at["dilations"], "dilations", (1, 1))
        if dil != (1, 1):
            self._fail(node, name, f"dilations {list(dil)} are not supported in average pooling")
        ks, strides, pads = self._pool_geometry(node, name, at, shp, dil)
        op = AvgPool2d(ks, strides, pads, count_include_pad=bool(at["count_include_pad"]))
        self._add(name, op, [x], [node.output[0]], node, name)

    def _op_GlobalAveragePool(self, node, name, attrs):
        self._attrs(node, name, attrs, {})
        x, shp = self._image(node, name)
        self._add(name, AvgPool2d(shp[1:], shp[1:]), [x], [node.output[0]], node, name)

    def _op_MaxPool(self, node, name, attrs):
        at = self._attrs(node, name, attrs, {"auto_pad": "NOTSET", "ceil_mode": 0, "dilations": None,
                                             "kernel_shape": None, "pads": None, "storage_order": 0,
                                             "strides": None})
        x, shp = self._image(node, name)
        dil = self._pair_attr(node, name, at["dilations"], "dilations", (1, 1))
        ks, strides, pads = self._pool_geometry(node, name, at, shp, dil)
        self._add(name, MaxPool2d(ks, strides, pads, dil), [x], [node.output[0]], node, name)

    def _op_BatchNormalization(self, node, name, attrs):
        at = self._attrs(node, name, attrs, {"epsilon": _f32(1e-5), "momentum": _f32(0.9), "training_mode": 0,
                                             "spatial": 1})
        if int(at["training_mode"]):
            self._fail(node, name, "training_mode=1 is not supported (inference only)")
        if int(at["spatial"]) != 1:
            self._fail(node, name, "spatial=0 is not supported")
        if len(node.input) != 5:
            self._fail(node, name, f"expected 5 inputs (X, scale, B, mean, var), got {len(node.input)}")
        x = self._data(node, name, 0)
        shp = self.shape[x]
        vals = []
        for k, what in enumerate(("scale", "B", "mean", "var"), start=1):
            a = self._floats(node, name, self._const(node, name, k, f"the {what}"), f"the {what}")
            if a.shape != (shp[0],):
                self._fail(node, name, f"the {what} must have {shp[0]} numbers (one per channel), got shape {a.shape}")
            vals.append(a)
        gamma, beta, mean, var = vals
        # computed once, in float64, from the exact values of the float32 parameters
        scale = gamma / np.sqrt(var + float(at["epsilon"]))
        shift = beta - mean * scale
        self._add(name, BatchNorm(float_array(scale), float_array(shift)), [x], [node.output[0]], node, name)

    def _op_Add(self, node, name, attrs):
        self._attrs(node, name, attrs, {})
        if len(node.input) != 2:
            self._fail(node, name, f"expected 2 inputs, got {len(node.input)}")
        a, b = node.input
        ca, cb = a in self.consts, b in self.consts
        if ca and cb:
            self._fail(node, name, "adds two constants (constant folding is not supported)")
        if not ca and not cb:
            xa, xb = self._data(node, name, 0), self._data(node, name, 1)
            if self.shape[xa] != self.shape[xb]:
                self._fail(node, name, f"adds tensors of different shapes {self.shape[xa]} and {self.shape[xb]} "
                                       "(broadcasting between data tensors is not supported)")
            self._add(name, Add(), [xa, xb], [node.output[0]], node, name)
            return
        t, k, c = (b, 1, self.consts[a]) if ca else (a, 0, self.consts[b])
        src = self._data(node, name, k)
        c = self._floats(node, name, c, "the constant")
        per = self._per_channel(c, self.shape[src])
        if per is None:
            self._fail(node, name, f"adds a constant of shape {c.shape} that is not one number per "
                                   f"{'output' if len(self.shape[src]) == 1 else 'channel'} "
                                   f"(samples of shape {self.shape[src]})")
        op = self.nodes[self.pos[src]][1]
        if isinstance(op, (Dense, Conv2d)) and self.direct.get(t) == src and self.uses[t] == 1:
            bias = per if op.bias is None else op.bias + per
            self.nodes[self.pos[src]][1] = dataclasses.replace(op, bias=float_array(bias))
            self.data[node.output[0]] = src
            self.direct[node.output[0]] = src
            return
        self._add(name, BatchNorm(float_array(np.ones_like(per)), float_array(per)), [src], [node.output[0]],
                  node, name)

    def _op_Flatten(self, node, name, attrs):
        at = self._attrs(node, name, attrs, {"axis": 1})
        x = self._data(node, name, 0)
        r = len(self.shape[x]) + 1
        axis = int(at["axis"])
        if axis < 0:
            axis += r
        if axis != 1:
            self._fail(node, name, f"axis={at['axis']} is not supported (only axis 1: the batch axis stays, "
                                   "the sample is flattened)")
        self._add(name, Flatten(), [x], [node.output[0]], node, name)

    def _op_Reshape(self, node, name, attrs):
        at = self._attrs(node, name, attrs, {"allowzero": 0})
        x = self._data(node, name, 0)
        target = self._const(node, name, 1, "the shape")
        if target.dtype.kind not in "iu" or target.ndim != 1:
            self._fail(node, name, "the shape must be a constant 1-D integer tensor")
        target = [int(v) for v in target]
        shp = self.shape[x]
        if self.batch is not None and target and target[0] == self.batch:
            target[0] = 0 if not at["allowzero"] else target[0]

        def resolve(B):
            full = (B,) + tuple(shp)
            out = []
            for i, v in enumerate(target):
                if v == 0 and not at["allowzero"]:
                    if i >= len(full):
                        self._fail(node, name, f"shape {target}: a 0 at position {i} copies no dimension")
                    v = full[i]
                elif v < -1:
                    self._fail(node, name, f"shape {target}: negative size {v}")
                out.append(v)
            total = math.prod(full)
            if out.count(-1) > 1:
                self._fail(node, name, f"shape {target}: more than one -1")
            if -1 in out:
                known = math.prod(v for v in out if v != -1)
                if known == 0 or total % known:
                    self._fail(node, name, f"shape {target}: cannot infer the -1 for samples of shape {shp}")
                out[out.index(-1)] = total // known
            return out

        r1, r2 = resolve(7), resolve(11)
        if len(r1) < 2 or r1[0] != 7 or r2[0] != 11 or r1[1:] != r2[1:] or math.prod(r1[1:]) != math.prod(shp):
            self._fail(node, name, f"shape {target} would move the batch axis (the first axis must stay the batch; "
                                   f"samples of shape {shp})")
        new = tuple(r1[1:])
        op = Flatten() if len(new) == 1 else Reshape(new)
        self._add(name, op, [x], [node.output[0]], node, name)

    def _op_Identity(self, node, name, attrs):
        self._attrs(node, name, attrs, {})
        x = self._data(node, name, 0)
        self._add(name, Identity(), [x], [node.output[0]], node, name)

    def _op_Dropout(self, node, name, attrs):
        self._attrs(node, name, attrs, {"ratio": 0.5, "seed": 0})
        x = self._data(node, name, 0)
        if self._arg(node, 2) is not None:
            tm = self._const(node, name, 2, "training_mode")
            if bool(np.asarray(tm).reshape(-1)[0]):
                self._fail(node, name, "training_mode=true is not supported (inference only)")
        self._add(name, Identity(), [x], [node.output[0]], node, name)

    # activations
    def _act(self, node, name, act):
        x = self._data(node, name, 0)
        self._add(name, ActivationOp(act), [x], [node.output[0]], node, name)

    def _op_Relu(self, node, name, attrs):
        self._attrs(node, name, attrs, {})
        self._act(node, name, get_activation("relu"))

    def _op_Sigmoid(self, node, name, attrs):
        self._attrs(node, name, attrs, {})
        self._act(node, name, get_activation("sigmoid"))

    def _op_Tanh(self, node, name, attrs):
        self._attrs(node, name, attrs, {})
        self._act(node, name, get_activation("tanh"))

    def _op_Softplus(self, node, name, attrs):
        self._attrs(node, name, attrs, {})
        self._act(node, name, get_activation("softplus"))

    def _op_LeakyRelu(self, node, name, attrs):
        at = self._attrs(node, name, attrs, {"alpha": _f32(0.01)})
        self._act(node, name, parametric_activation("leaky_relu", _rational(at["alpha"])))

    def _op_Elu(self, node, name, attrs):
        at = self._attrs(node, name, attrs, {"alpha": _f32(1.0)})
        if at["alpha"] < 0:
            self._fail(node, name, f"alpha={at['alpha']} < 0 is not supported")
        self._act(node, name, parametric_activation("elu", _rational(at["alpha"])))

    def _op_HardSigmoid(self, node, name, attrs):
        at = self._attrs(node, name, attrs, {"alpha": _f32(0.2), "beta": _f32(0.5)})
        if at["alpha"] <= 0:
            self._fail(node, name, f"alpha={at['alpha']} ≤ 0 is not supported")
        self._act(node, name, parametric_activation("hardsigmoid", _rational(at["alpha"]), _rational(at["beta"])))

    def _op_Clip(self, node, name, attrs):
        at = self._attrs(node, name, attrs, {"min": None, "max": None})   # attributes: the Clip-6 form
        bounds = [at["min"], at["max"]]
        for k, what in ((1, "min"), (2, "max")):
            c = self._const(node, name, k, f"the {what}", optional=True)
            if c is not None:
                c = self._floats(node, name, c, f"the {what}")
                if c.size != 1:
                    self._fail(node, name, f"the {what} must be a single number, got shape {c.shape}")
                bounds[k - 1] = float(c.reshape(-1)[0])
        lo, hi = bounds
        if lo is not None and hi is not None and not lo < hi:
            self._fail(node, name, f"min {lo} must be below max {hi}")
        if lo is None and hi is None:
            act = get_activation("linear")
        elif lo == 0 and hi is None:
            act = get_activation("relu")
        elif lo == 0 and hi == 6:
            act = get_activation("relu6")
        elif lo == -1 and hi == 1:
            act = get_activation("hardtanh")
        else:
            # a missing bound is the largest finite number of the model's float type, as in onnxruntime
            act = parametric_activation("clip", _rational(-self.dtype_max if lo is None else lo),
                                        _rational(self.dtype_max if hi is None else hi))
        self._act(node, name, act)

    def _softmax(self, node, name, attrs, what):
        at = self._attrs(node, name, attrs, {"axis": 1 if self.opset < 13 else -1})
        x = self._data(node, name, 0)
        out = node.output[0]
        if self.uses[out] != 1 or out != self.g.output[0].name:
            self._fail(node, name, f"{what} is read only as the last node (its output the model's output)")
        shp = self.shape[x]
        axis = int(at["axis"])
        r = len(shp) + 1
        axis = axis + r if axis < 0 else axis
        if not (axis == 1 and (len(shp) == 1 or self.opset < 13)):
            self._fail(node, name, f"axis={at['axis']} is not supported (the {what} must run over the whole sample)")
        self.notes.append(f"the final {what} node {name!r} was dropped: it does not change which output is largest, "
                          "so class decisions are unchanged; the network's outputs are its inputs (the logits)")
        self.data[out] = x

    def _op_Softmax(self, node, name, attrs):
        self._softmax(node, name, attrs, "Softmax")

    def _op_LogSoftmax(self, node, name, attrs):
        self._softmax(node, name, attrs, "LogSoftmax")


# ------------------------------------------------------------------------------------------ writing

_SCALED = re.compile(r"^\s*([0-9]+(?:/[0-9]+)?)\s*\*\s*(.+?)\s*$")
_CALL = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*\((.*)\)\s*$")


def _exact_in(r, dtype):
    """``r`` (a SymPy rational) as a ``dtype`` number when it is one exactly, else None."""
    v = dtype(float(r))
    if not np.isfinite(v) or sp.Rational(float(v)) != r:
        return None
    return v


class _Exporter:
    def __init__(self, net, dtype, elem, onnx):
        self.net = net
        self.dt = dtype
        self.elem = elem
        self.onnx = onnx
        self.h = onnx.helper
        self.nodes = []
        self.inits = []
        self.taken = set(net.order)

    def fresh(self, base):
        name, k = base, 2
        while name in self.taken:
            name = f"{base}_{k}"
            k += 1
        self.taken.add(name)
        return name

    def const(self, base, a, dtype=None):
        from onnx import numpy_helper

        name = self.fresh(base)
        self.inits.append(numpy_helper.from_array(np.asarray(a, dtype=dtype or self.dt), name))
        return name

    def add(self, op_type, ins, out, name=None, **attrs):
        self.nodes.append(self.h.make_node(op_type, list(ins), [out], name=name or out, **attrs))

    def refuse(self, node, reason):
        raise InvalidArgument(f"ONNX export: node {node.name!r} ({node.op.kind}): {reason}")

    def node(self, node):
        op, name, ins = node.op, node.name, list(node.inputs)
        P = op.params("float") if op.arrays else {}
        if isinstance(op, Input):
            return
        if isinstance(op, Dense):
            args = ins + [self.const(f"{name}.weight", P["weight"])]
            if P.get("bias") is not None:
                args.append(self.const(f"{name}.bias", P["bias"]))
            self.add("Gemm", args, name, transB=1)
        elif isinstance(op, Conv2d):
            args = ins + [self.const(f"{name}.weight", P["weight"])]
            if P.get("bias") is not None:
                args.append(self.const(f"{name}.bias", P["bias"]))
            self.add("Conv", args, name, kernel_shape=list(op.weight.shape[2:]), strides=list(op.stride),
                     pads=list(op.padding), dilations=list(op.dilation), group=op.groups)
        elif isinstance(op, AvgPool2d):
            self.add("AveragePool", ins, name, kernel_shape=list(op.kernel), strides=list(op.stride),
                     pads=list(op.padding), count_include_pad=int(op.count_include_pad))
        elif isinstance(op, MaxPool2d):
            self.add("MaxPool", ins, name, kernel_shape=list(op.kernel), strides=list(op.stride),
                     pads=list(op.padding), dilations=list(op.dilation))
        elif isinstance(op, BatchNorm):
            C = op.scale.shape[0]
            shift = P["shift"] if P.get("shift") is not None else np.zeros(C)
            args = ins + [self.const(f"{name}.scale", P["scale"]), self.const(f"{name}.shift", shift),
                          self.const(f"{name}.mean", np.zeros(C)), self.const(f"{name}.var", np.ones(C))]
            self.add("BatchNormalization", args, name, epsilon=0.0)
        elif isinstance(op, Add):
            acc = ins[0]
            for k, other in enumerate(ins[1:], start=1):
                out = name if k == len(ins) - 1 else self.fresh(f"{name}/sum{k}")
                self.add("Add", [acc, other], out)
                acc = out
        elif isinstance(op, Flatten):
            self.add("Flatten", ins, name, axis=1)
        elif isinstance(op, Reshape):
            shape = self.const(f"{name}.shape", [0] + list(op.shape), dtype=np.int64)
            self.add("Reshape", ins + [shape], name)
        elif isinstance(op, Identity):
            self.add("Identity", ins, name)
        elif isinstance(op, ActivationOp):
            self.activation(node, ins[0], name)
        else:
            self.refuse(node, "no ONNX equivalent")

    def number(self, node, r, what):
        v = _exact_in(r, self.dt)
        if v is None:
            self.refuse(node, f"{what} {r} is not a {np.dtype(self.dt).name} number, so ONNX cannot hold it exactly")
        return v

    def activation(self, node, x, out):
        act = node.op.act
        name = act.name
        try:
            same = get_activation(name) == act
        except InvalidArgument:
            same = False
        if not same:
            self.refuse(node, f"custom activation {name!r} has no ONNX equivalent")
        m = _SCALED.match(name)
        c, base = (sp.Rational(m.group(1)), m.group(2)) if m else (sp.Integer(1), name)
        y = out if c == 1 else self.fresh(f"{out}/unscaled")
        self.base_activation(node, base, x, y)
        if c != 1:
            cv = self.number(node, c, "the scale")
            self.add("Mul", [y, self.const(f"{out}.scale", cv)], out, name=out)

    def base_activation(self, node, base, x, y):
        simple = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "softplus": "Softplus", "linear": "Identity"}
        if base in simple:
            self.add(simple[base], [x], y)
            return
        clips = {"hardtanh": (-1, 1), "relu6": (0, 6)}
        m = _CALL.match(base)
        fn, args = (m.group(1), [sp.Rational(a.strip()) for a in m.group(2).split(",")]) if m else (base, [])
        if base in clips or fn == "clip":
            lo, hi = [sp.Integer(v) for v in clips[base]] if base in clips else args
            lo, hi = self.number(node, lo, "the lower bound"), self.number(node, hi, "the upper bound")
            self.add("Clip", [x, self.const(f"{y}.min", lo), self.const(f"{y}.max", hi)], y)
        elif base == "ramp":
            t = self.fresh(f"{y}/shifted")
            self.add("Add", [x, self.const(f"{y}.one", 1.0)], t)
            self.add("Clip", [t, self.const(f"{y}.min", 0.0), self.const(f"{y}.max", 1.0)], y, name=y)
        elif base == "step":
            t = self.fresh(f"{y}/positive")
            self.add("Greater", [x, self.const(f"{y}.zero", 0.0)], t)
            self.add("Cast", [t], y, name=y, to=self.elem)
        elif fn == "leaky_relu":
            (a,) = args
            if _exact_in(a, np.float32) is not None:
                self.add("LeakyRelu", [x], y, alpha=float(a))
            else:
                av = self.number(node, a, "the slope")
                t = self.fresh(f"{y}/scaled")
                self.add("Mul", [x, self.const(f"{y}.slope", av)], t)
                self.add("Max" if a <= 1 else "Min", [x, t], y, name=y)
        elif fn == "elu":
            (a,) = args
            if _exact_in(a, np.float32) is None:
                self.refuse(node, f"elu's alpha {a} is not a float32 number (ONNX's Elu holds a float32 alpha)")
            self.add("Elu", [x], y, alpha=float(a))
        elif fn == "hardsigmoid":
            a, b = args
            if _exact_in(a, np.float32) is not None and _exact_in(b, np.float32) is not None:
                self.add("HardSigmoid", [x], y, alpha=float(a), beta=float(b))
            else:
                av, bv = self.number(node, a, "the slope"), self.number(node, b, "the offset")
                t1, t2 = self.fresh(f"{y}/scaled"), self.fresh(f"{y}/shifted")
                self.add("Mul", [x, self.const(f"{y}.slope", av)], t1)
                self.add("Add", [t1, self.const(f"{y}.offset", bv)], t2)
                self.add("Clip", [t2, self.const(f"{y}.min", 0.0), self.const(f"{y}.max", 1.0)], y, name=y)
        else:
            self.refuse(node, f"activation {base!r} has no ONNX equivalent")


def to_onnx(net: Network, dtype: str = "float32", *, opset: int = 17):
    """The network as an ``onnx.ModelProto`` (see :func:`save_onnx`).

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> m = to_onnx(random_network([3, 4, 2], seed=0))
    >>> [n.op_type for n in m.graph.node]
    ['Gemm', 'Tanh', 'Gemm', 'Identity']
    """
    onnx = _require_onnx()
    if not isinstance(net, Network):
        raise InvalidArgument(f"net: expected a Network, got {type(net).__name__}")
    if dtype not in ("float32", "float64"):
        raise InvalidArgument(f"dtype: expected 'float32' or 'float64', got {dtype!r}")
    lo, hi = OPSETS
    if not isinstance(opset, int) or not lo <= opset <= hi:
        raise InvalidArgument(f"opset: expected an integer in {lo}–{hi}, got {opset!r}")
    net.check_numeric("ONNX export")
    dt = np.float32 if dtype == "float32" else np.float64
    elem = onnx.TensorProto.FLOAT if dtype == "float32" else onnx.TensorProto.DOUBLE
    ex = _Exporter(net, dt, elem, onnx)
    for node in net.nodes:
        ex.node(node)
    h = onnx.helper
    x = h.make_tensor_value_info(net.input, elem, ["N"] + list(net.input_shape))
    y = h.make_tensor_value_info(net.output, elem, ["N"] + list(net.node(net.output).shape))
    graph = h.make_graph(ex.nodes, net.name or "symft", [x], [y], ex.inits)
    opsets = [h.make_opsetid("", opset)]
    from .. import __version__

    model = h.make_model(graph, opset_imports=opsets, producer_name="symft", producer_version=__version__)
    model.ir_version = h.find_min_ir_version_for(opsets)
    import json

    props = {"symft.sites": json.dumps(list(net.sites))}
    if net.metadata:
        try:
            props["symft.metadata"] = json.dumps(net.metadata, allow_nan=False)
        except (TypeError, ValueError):
            pass
    h.set_model_props(model, props)
    onnx.checker.check_model(model)
    return model


def save_onnx(net: Network, path, dtype: str = "float32", *, opset: int = 17) -> None:
    """Write a network as an ONNX model (so it runs in onnxruntime and other tools).

    Parameters
    ----------
    net : Network
        Numeric (exact weights are rounded to the nearest double first).
    path : str or os.PathLike
    dtype : {"float32", "float64"}
        The element type of the model.  ``"float32"`` (the default) rounds
        every weight to the nearest float32, so the written model is not the
        float64 network symft evaluates unless its weights were float32
        numbers already (as for every model read from ONNX or PyTorch).
        ``"float64"`` keeps the weights, but onnxruntime has no double
        kernels for Conv, AveragePool, Softplus, Elu or HardSigmoid, so such
        a model is valid ONNX that onnxruntime refuses to run.
    opset : int
        The opset of the default domain to declare (11–21; default 17).

    Raises
    ------
    InvalidArgument
        An activation ONNX cannot express (a custom one, or a parameter that
        the element type cannot hold exactly); the message names the node.

    Examples
    --------
    >>> import os, tempfile
    >>> from symft.graph.netfile import load_network
    >>> from symft.graph.network import random_network
    >>> net = random_network([3, 4, 2], seed=0, activation="relu")
    >>> with tempfile.TemporaryDirectory() as d:
    ...     save_onnx(net, os.path.join(d, "m.onnx"), dtype="float64")
    ...     back = load_network(os.path.join(d, "m.onnx"))
    >>> back.sites == net.sites
    True
    """
    onnx = _require_onnx()
    model = to_onnx(net, dtype, opset=opset)
    onnx.save(model, os.fspath(path))
