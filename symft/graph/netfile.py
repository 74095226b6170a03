r"""The network file: JSON, ``format: "symft.network"``, versions 1 (layers) and 2 (graphs).

**Version 1** — a chain of dense layers:

.. code-block:: json

    {"format": "symft.network", "version": 1,
     "name": "optional",
     "input_names": ["optional", "..."], "output_names": ["..."],
     "metadata": {"free": "form"},
     "layers": [{"weights": [[1, "1/3"], [0.5, -2]], "bias": [0, "1/2"],
                 "activation": "relu"},
                {"weights": [[1, 1]], "bias": [0], "activation": "linear"}]}

One entry of ``layers`` per layer ``1 … L``; ``weights`` has one row per
neuron of that layer (shape ``n_l × n_{l-1}``); ``bias`` (optional, zeros when
absent) has ``n_l`` entries; ``activation`` names an activation of
:mod:`symft.graph.activations`.  Numbers are JSON numbers or strings holding exact
values (``"1/3"``, ``"-2"``, ``"0.25"`` read as exactly 1/4) or simple
expressions of symbols (``"1/n"``; symbols are read as real).

A layer with a string or with only integers is an *exact* layer; a layer with
JSON floats and no strings is a *float* layer (its integers become floats,
exactly).  Saving writes floats with ``repr`` precision and exact values as
strings, so ``load(save(net)) == net`` for every network read from a file.

**Version 2** — any graph of operators (:mod:`symft.graph.ops`):

.. code-block:: json

    {"format": "symft.network", "version": 2,
     "nodes": [{"name": "x", "op": "input", "shape": [1, 4, 4]},
               {"name": "c", "op": "conv2d", "inputs": ["x"],
                "weight": [[[[1, 0], [0, "1/2"]]]], "bias": [0],
                "stride": [1, 1], "padding": [0, 0, 0, 0], "dilation": [1, 1], "groups": 1},
               {"name": "r", "op": "activation", "inputs": ["c"], "activation": "relu"},
               {"name": "f", "op": "flatten", "inputs": ["r"]},
               {"name": "y", "op": "dense", "inputs": ["f"], "weight": [[1, 1, 1, 1, 1, 1, 1, 1, 1]]}],
     "output": "y",
     "sites": ["x", "r", "y"]}

Each node has a unique ``name``, an ``op`` (``input``, ``dense``,
``conv2d``, ``avgpool2d``, ``maxpool2d``, ``batchnorm``, ``add``,
``flatten``, ``reshape``, ``identity``, ``activation``), its ``inputs``
(node names, in argument order) and the op's arrays and attributes under
their names (``weight``, ``bias``, ``scale``, ``shift``; ``stride``,
``padding``, ``kernel`` …).  ``output`` (default: the only node nothing
reads) and ``sites`` (default: the input, the activations and the output)
are optional.  Numbers follow the same rules as version 1, per node.
Saving writes version 1 for chains of dense layers with the default sites,
version 2 otherwise; ``load(save(net)) == net`` either way.

Every error names the file and the field, e.g.
``net.json: layers[1].weights: expected 3 columns (n_0 = 3), got 2``.

Examples
--------
>>> from symft.graph.netfile import dumps_network, loads_network
>>> from symft.graph.network import mean_network
>>> text = dumps_network(mean_network(2))
>>> loads_network(text) == mean_network(2)
True
>>> loads_network('{"format": "symft.network", "version": 1, "layers": []}', source="x.json")
Traceback (most recent call last):
...
symft.errors.NetworkFormatError: x.json: layers: expected a non-empty list of layers
"""

from __future__ import annotations

import json
import math
import os
import re
from numbers import Integral

import numpy as np
from ..lazyimport import sympy as sp

from ..errors import InvalidArgument, NetworkFormatError
from ..utils import MAX_DIGITS, load_json, to_exact
from ..utils import short_text as _short
from .activations import get_activation
from .network import Network
from .numbers import float_array, is_float_array
from .ops import OP_KINDS, ActivationOp, Input

__all__ = [
    "FORMAT",
    "VERSION",
    "load_network",
    "save_network",
    "loads_network",
    "dumps_network",
    "network_from_dict",
    "network_to_dict",
]

FORMAT = "symft.network"
#: The newest version written (1 is still read, and written for chains of dense layers).
VERSION = 2
VERSIONS = (1, 2)
_TOP_KEYS = {"format", "version", "layers", "name", "input_names", "output_names", "metadata"}
_TOP_KEYS_V2 = {"format", "version", "nodes", "output", "sites", "name", "input_names", "output_names", "metadata"}
_LAYER_KEYS = {"weights", "bias", "activation"}


def load_network(path) -> Network:
    """Read a network file: symft's JSON, or an ONNX model (recognised by its content).

    An ONNX model (detected from the bytes, whatever the extension) is read
    by :func:`symft.io.onnx.load_onnx`, which needs the ``onnx`` package
    (``pip install symft[onnx]``).  A PyTorch file (``.pt``/``.pth``, a zip
    archive or a pickle) cannot be read without its Python class: the error
    says to call ``symft.from_torch(module, example_input)``.

    Parameters
    ----------
    path : str or os.PathLike

    Raises
    ------
    NetworkFormatError
        Missing file, invalid JSON, or any malformed field; the message
        starts with the path.

    Examples
    --------
    >>> import tempfile, os
    >>> from symft.graph.network import random_network
    >>> net = random_network([2, 3, 1], seed=0)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = os.path.join(d, "net.json")
    ...     save_network(net, p)
    ...     load_network(p) == net
    True
    """
    src = os.fspath(path)
    try:
        with open(src, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        raise NetworkFormatError(f"{src}: no such file") from None
    except IsADirectoryError:
        raise NetworkFormatError(f"{src}: is a directory, expected a network file (.json or .onnx)") from None
    except OSError as e:
        raise NetworkFormatError(f"{src}: cannot be read ({e.strerror})") from None
    from ..io.onnx import looks_like_onnx

    if looks_like_onnx(data[:1 << 16]):
        from ..io.onnx import load_onnx

        return load_onnx(src)
    if os.path.splitext(src)[1].lower() in (".pt", ".pth") or data[:4] == b"PK\x03\x04" or data[:1] == b"\x80":
        raise NetworkFormatError(f"{src}: a PyTorch file cannot be read without its model class; load the module in "
                                 "Python and call symft.from_torch(module, example_input)")
    try:
        text = data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")   # as text mode reads it
    except UnicodeDecodeError:
        raise NetworkFormatError(f"{src}: not a text file; expected a symft.network JSON file or an ONNX model") \
            from None
    return loads_network(text, source=src)


def loads_network(text: str, source: str = "<string>") -> Network:
    """Parse a network from JSON text; ``source`` names it in errors.

    Examples
    --------
    >>> loads_network("{", source="bad.json")
    Traceback (most recent call last):
    ...
    symft.errors.NetworkFormatError: bad.json: not valid JSON (line 1, column 2: Expecting property name enclosed in double quotes)
    """

    try:
        data = load_json(text, source)
    except NetworkFormatError:
        raise
    except InvalidArgument as e:
        raise NetworkFormatError(str(e)) from None
    return network_from_dict(data, source=source)


def network_from_dict(data, source: str = "<dict>") -> Network:
    """Build a network from the decoded JSON object (see the module docstring).

    Examples
    --------
    >>> d = {"format": "symft.network", "version": 1,
    ...      "layers": [{"weights": [["1/2", "1/2"]], "activation": "linear"}]}
    >>> network_from_dict(d).weights_exact(1)
    Matrix([[1/2, 1/2]])
    >>> d["layers"][0]["activation"] = "swish"
    >>> network_from_dict(d, "n.json")
    Traceback (most recent call last):
    ...
    symft.errors.NetworkFormatError: n.json: layers[0].activation: unknown activation 'swish'; expected one of: linear, relu, hardtanh, ramp, step, sigmoid, tanh, softplus...
    """
    def err(field, msg):
        return NetworkFormatError(f"{source}: {field}: {msg}")

    if not isinstance(data, dict):
        raise NetworkFormatError(f"{source}: expected a JSON object with \"format\": \"{FORMAT}\"")
    if "format" not in data:
        raise err("format", f"missing; expected \"{FORMAT}\"")
    if data["format"] != FORMAT:
        raise err("format", f"expected \"{FORMAT}\", got {_short(repr(data['format']))}")
    if "version" not in data:
        raise err("version", f"missing; expected 1 or 2")
    if data["version"] not in VERSIONS or isinstance(data["version"], bool):
        raise err("version", f"expected 1 or 2, got {_short(repr(data['version']))}")
    if data["version"] == 2:
        return _network_from_v2(data, source, err)
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise err(unknown[0], f"unknown key; expected only {', '.join(sorted(_TOP_KEYS))}")
    if "layers" not in data:
        raise err("layers", "missing; expected a list with one entry per layer 1 … L")
    layers_in = data["layers"]
    if not isinstance(layers_in, list) or not layers_in:
        raise err("layers", "expected a non-empty list of layers")
    layers = []
    prev = None
    for k, entry in enumerate(layers_in):
        where = f"layers[{k}]"
        if not isinstance(entry, dict):
            raise err(where, "expected an object with \"weights\", \"bias\" and \"activation\"")
        extra = sorted(set(entry) - _LAYER_KEYS)
        if extra:
            raise err(f"{where}.{extra[0]}", "unknown key; expected weights, bias, activation")
        for key in ("weights", "activation"):
            if key not in entry:
                raise err(f"{where}.{key}", "missing")
        act = _activation_field(entry["activation"], f"{where}.activation", err)
        rows = entry["weights"]
        if not isinstance(rows, list) or not rows:
            raise err(f"{where}.weights", "expected a non-empty list of rows (one per neuron of this layer)")
        for i, r in enumerate(rows):
            if not isinstance(r, list) or not r:
                raise err(f"{where}.weights[{i}]", "expected a non-empty list of numbers")
        ncols = len(rows[0])
        for i, r in enumerate(rows):
            if len(r) != ncols:
                raise err(f"{where}.weights[{i}]", f"ragged rows: expected {ncols} numbers like row 0, got {len(r)}")
        if prev is not None and ncols != prev:
            raise err(f"{where}.weights", f"expected {prev} columns (n_{k} = {prev}, the width of layer {k}), "
                                          f"got {ncols}")
        n = len(rows)
        bias = entry.get("bias", [0] * n)
        if not isinstance(bias, list) or len(bias) != n:
            got = len(bias) if isinstance(bias, list) else type(bias).__name__
            raise err(f"{where}.bias", f"expected a list of {n} numbers (one per row of weights), got {got}")
        values = [(f"{where}.weights[{i}][{j}]", v) for i, r in enumerate(rows) for j, v in enumerate(r)]
        values += [(f"{where}.bias[{i}]", v) for i, v in enumerate(bias)]
        for w, v in values:
            if isinstance(v, bool) or not isinstance(v, (int, float, str)):
                raise err(w, f"expected a number or a string like \"1/3\", got {_short(json.dumps(v))}")
            if isinstance(v, float) and not math.isfinite(v):
                raise err(w, f"expected a finite number, got {v}")
        has_str = any(isinstance(v, str) for _, v in values)
        has_float = any(isinstance(v, float) for _, v in values)
        big_int = any(isinstance(v, int) and abs(v) > 2 ** 53 for _, v in values)
        if has_float and not has_str and not big_int:
            W = np.array([[float(v) for v in r] for r in rows])
            b = np.array([float(v) for v in bias])
            layers.append((float_array(W), float_array(b), act))
        else:
            conv = []
            for w, v in values:
                if isinstance(v, float):
                    conv.append(sp.Float(v))
                else:
                    try:
                        conv.append(to_exact(v, w))
                    except InvalidArgument as e:
                        raise NetworkFormatError(f"{source}: {e}") from None
            layers.append((_object_array(conv[: n * ncols], (n, ncols)), _object_array(conv[n * ncols:], (n,)), act))
        prev = n
    name = data.get("name")
    if name is not None and not isinstance(name, str):
        raise err("name", f"expected a string, got {_short(json.dumps(name))}")
    metadata = data.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise err("metadata", "expected a JSON object")
    try:
        return Network.from_layers(layers, name=name, input_names=data.get("input_names"),
                                   output_names=data.get("output_names"), metadata=metadata)
    except NetworkFormatError as e:
        raise NetworkFormatError(f"{source}: {e}") from None


def _activation_field(value, where, err):
    """The activation named by a file field; every malformed name is a one-line error naming the field."""
    scale = re.match(r"\s*([0-9]+)(?:\s*/\s*([0-9]+))?\s*\*", value) if isinstance(value, str) else None
    if scale and max(len(g or "") for g in scale.groups()) > MAX_DIGITS:
        raise err(where, f"the scale of {_short(value)!r} has more than {MAX_DIGITS} digits")
    try:
        return get_activation(value)
    except InvalidArgument as e:
        raise err(where, str(e)) from None
    except (ArithmeticError, TypeError, ValueError):
        # e.g. a scale "1/0*relu" or one too long to read
        raise err(where, f"cannot read the scaled activation {_short(str(value))!r}; "
                         "expected \"c*name\" with a positive rational c such as \"1/2*tanh\"") from None


def _object_array(values, shape):
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        out[i] = v
    out = out.reshape(shape)
    out.setflags(write=False)
    return out


def _nested(value, where, err, out):
    """Flatten a nested list of numbers (rectangular), returning its shape; values go to ``out``."""
    if isinstance(value, list):
        if not value:
            raise err(where, "expected a non-empty list")
        shapes = [_nested(v, f"{where}[{i}]", err, out) for i, v in enumerate(value)]
        if any(s != shapes[0] for s in shapes):
            raise err(where, "ragged: every entry must have the same shape")
        return (len(value),) + shapes[0]
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise err(where, f"expected a number or a string like \"1/3\", got {_short(json.dumps(value))}")
    if isinstance(value, float) and not math.isfinite(value):
        raise err(where, f"expected a finite number, got {value}")
    out.append((where, value))
    return ()


def _arrays_from_json(entry, names, where, err, source):
    """The op's arrays: float64 when the node has floats and no strings (like a v1 layer), else exact."""
    found = {}
    for n in names:
        if n in entry and entry[n] is not None:
            vals = []
            shape = _nested(entry[n], f"{where}.{n}", err, vals)
            found[n] = (shape, vals)
    allv = [v for _, vals in found.values() for _, v in vals]
    has_str = any(isinstance(v, str) for v in allv)
    has_float = any(isinstance(v, float) for v in allv)
    big_int = any(isinstance(v, int) and abs(v) > 2 ** 53 for v in allv)
    out = {}
    for n, (shape, vals) in found.items():
        if has_float and not has_str and not big_int:
            out[n] = float_array(np.array([float(v) for _, v in vals]).reshape(shape))
        else:
            conv = []
            for w, v in vals:
                if isinstance(v, float):
                    conv.append(sp.Float(v))
                else:
                    try:
                        conv.append(to_exact(v, w))
                    except InvalidArgument as e:
                        raise NetworkFormatError(f"{source}: {e}") from None
            out[n] = _object_array(conv, shape)
    return out


def _network_from_v2(data, source, err):
    unknown = sorted(set(data) - _TOP_KEYS_V2)
    if unknown:
        raise err(unknown[0], f"unknown key; expected only {', '.join(sorted(_TOP_KEYS_V2))}")
    nodes_in = data.get("nodes")
    if not isinstance(nodes_in, list) or not nodes_in:
        raise err("nodes", "expected a non-empty list of nodes")
    nodes = []
    for k, entry in enumerate(nodes_in):
        where = f"nodes[{k}]"
        if not isinstance(entry, dict):
            raise err(where, "expected an object with \"name\", \"op\" and \"inputs\"")
        for key in ("name", "op"):
            if key not in entry:
                raise err(f"{where}.{key}", "missing")
        name, kind = entry["name"], entry["op"]
        if not isinstance(name, str) or not name:
            raise err(f"{where}.name", "expected a non-empty string")
        if not isinstance(kind, str) or kind not in OP_KINDS:
            raise err(f"{where}.op", f"unknown op {kind!r}; expected one of {', '.join(OP_KINDS)}")
        cls = OP_KINDS[kind]
        inputs = entry.get("inputs", [])
        if not isinstance(inputs, list) or not all(isinstance(i, str) for i in inputs):
            raise err(f"{where}.inputs", "expected a list of node names")
        arrays = _arrays_from_json(entry, cls.arrays, where, err, source)
        attrs = {}
        allowed = {"name", "op", "inputs"} | set(cls.arrays) | set(_ATTRS.get(kind, ()))
        extra = sorted(set(entry) - allowed)
        if extra:
            raise err(f"{where}.{extra[0]}", f"unknown key for a {kind} node; expected {', '.join(sorted(allowed))}")
        for a in _ATTRS.get(kind, ()):
            if a in entry:
                attrs[a] = entry[a]
        try:
            if kind == "activation":
                if "activation" not in entry:
                    raise err(f"{where}.activation", "missing")
                op = ActivationOp(_activation_field(entry["activation"], f"{where}.activation", err))
            elif kind == "input":
                if "shape" not in entry:
                    raise err(f"{where}.shape", "missing")
                op = Input(tuple(_int_list(entry["shape"], f"{where}.shape", err)))
            else:
                for a in ("stride", "padding", "dilation", "kernel", "shape"):
                    if a in attrs:
                        attrs[a] = tuple(_int_list(attrs[a], f"{where}.{a}", err))
                if "groups" in attrs:
                    attrs["groups"] = _int_list([attrs["groups"]], f"{where}.groups", err)[0]
                if "count_include_pad" in attrs and not isinstance(attrs["count_include_pad"], bool):
                    raise err(f"{where}.count_include_pad", "expected true or false")
                for n in cls.arrays:
                    if n not in arrays and n in _REQUIRED.get(kind, ()):
                        raise err(f"{where}.{n}", "missing")
                op = cls(**arrays, **attrs)
        except NetworkFormatError as e:
            msg = str(e)
            if msg.startswith(source):
                raise
            raise err(where, msg) from None
        nodes.append((name, op, tuple(inputs)))
    name = data.get("name")
    if name is not None and not isinstance(name, str):
        raise err("name", f"expected a string, got {_short(json.dumps(name))}")
    metadata = data.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise err("metadata", "expected a JSON object")
    output = data.get("output")
    if output is not None and not isinstance(output, str):
        raise err("output", "expected a node name")
    sites = data.get("sites")
    if sites is not None and (not isinstance(sites, list) or not all(isinstance(x, str) for x in sites)):
        raise err("sites", "expected a list of node names")
    try:
        return Network(nodes, output, sites=sites, name=name, input_names=data.get("input_names"),
                       output_names=data.get("output_names"), metadata=metadata)
    except NetworkFormatError as e:
        raise NetworkFormatError(f"{source}: {e}") from None


def _int_list(v, where, err):
    if not isinstance(v, list) or not v or not all(isinstance(a, int) and not isinstance(a, bool) for a in v):
        raise err(where, "expected a non-empty list of integers")
    if any(abs(a) > 2 ** 31 for a in v):
        raise err(where, "integer out of range")
    return v


#: Non-array attributes each op kind reads from a file.
_ATTRS = {"input": ("shape",), "activation": ("activation",), "conv2d": ("stride", "padding", "dilation", "groups"),
          "avgpool2d": ("kernel", "stride", "padding", "count_include_pad"),
          "maxpool2d": ("kernel", "stride", "padding", "dilation"), "reshape": ("shape",)}
#: Arrays that must be present.
_REQUIRED = {"dense": ("weight",), "conv2d": ("weight",), "batchnorm": ("scale",)}


def _exact_to_json(v):
    if isinstance(v, sp.Integer):
        return int(v)
    if isinstance(v, sp.Rational):
        return f"{v.p}/{v.q}"
    if isinstance(v, sp.Float):
        return float(v)
    return str(v)


def network_to_dict(net: Network) -> dict:
    """The JSON-ready dictionary of a network (inverse of :func:`network_from_dict`).

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> network_to_dict(mean_network(2))["layers"]
    [{'weights': [['1/2', '1/2']], 'bias': [0], 'activation': 'linear'}]
    """
    chain = net.is_chain and net.order == _v1_order(net)
    out = {"format": FORMAT, "version": 1 if chain else 2}
    if net.name is not None:
        out["name"] = net.name
    if net.input_names is not None:
        out["input_names"] = list(net.input_names)
    if net.output_names is not None:
        out["output_names"] = list(net.output_names)
    if net.metadata:
        out["metadata"] = net.metadata
    if not chain:
        nodes = []
        for node in net.nodes:
            d = {"name": node.name, "op": node.op.kind}
            if node.inputs:
                d["inputs"] = list(node.inputs)
            d.update(node.op.attrs())
            for n in node.op.arrays:
                a = getattr(node.op, n)
                if a is not None:
                    d[n] = _array_to_json(a)
            nodes.append(d)
        out["nodes"] = nodes
        out["output"] = net.output
        if net.sites != Network([(n.name, n.op, n.inputs) for n in net.nodes], net.output).sites:
            out["sites"] = list(net.sites)
        return out
    layers = []
    for lay in net.layers:
        W = _array_to_json(lay.weight)
        b = _array_to_json(lay.bias)
        layers.append({"weights": W, "bias": b, "activation": lay.activation.name})
    out["layers"] = layers
    return out


def _v1_order(net):
    """The node names a version-1 file would give for the same depth."""
    out = ["0"]
    for l in range(1, len(net.layers) + 1):
        out += [f"z{l}", str(l)]
    return tuple(out)


def _array_to_json(a):
    if is_float_array(a):
        return a.tolist()
    return np.vectorize(_exact_to_json, otypes=[object])(a).tolist() if a.size else []


def dumps_network(net: Network, indent: int | None = None) -> str:
    """Serialize a network to JSON text.

    Examples
    --------
    >>> from symft.graph.network import first_input_network
    >>> dumps_network(first_input_network(2))
    '{"format": "symft.network", "version": 1, "name": "first_of_2_inputs", "layers": [{"weights": [[1, 0]], "bias": [0], "activation": "linear"}]}'
    """
    if not isinstance(net, Network):
        raise InvalidArgument(f"net: expected a Network, got {type(net).__name__}")
    try:
        return json.dumps(network_to_dict(net), indent=indent, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise InvalidArgument(f"net.metadata: not JSON-serializable ({e})") from None


def save_network(net: Network, path, indent: int | None = None) -> None:
    """Write a network file (see :func:`load_network` for an example).

    Examples
    --------
    >>> import tempfile, os
    >>> from symft.graph.network import mean_network
    >>> with tempfile.TemporaryDirectory() as d:
    ...     save_network(mean_network(3), os.path.join(d, "m.json"))
    ...     load_network(os.path.join(d, "m.json")).weights_exact(1)
    Matrix([[1/3, 1/3, 1/3]])
    """
    text = dumps_network(net, indent=indent)
    with open(os.fspath(path), "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.write("\n")
