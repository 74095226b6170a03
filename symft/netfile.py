r"""The network file: JSON, ``format: "symft.network"``, ``version: 1``.

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
:mod:`symft.activations`.  Numbers are JSON numbers or strings holding exact
values (``"1/3"``, ``"-2"``, ``"0.25"`` read as exactly 1/4) or simple
expressions of symbols (``"1/n"``; symbols are read as real).

A layer with a string or with only integers is an *exact* layer; a layer with
JSON floats and no strings is a *float* layer (its integers become floats,
exactly).  Saving writes floats with ``repr`` precision and exact values as
strings, so ``load(save(net)) == net`` for every network read from a file.

Every error names the file and the field, e.g.
``net.json: layers[1].weights: expected 3 columns (n_0 = 3), got 2``.

Examples
--------
>>> from symft.netfile import dumps_network, loads_network
>>> from symft.network import mean_network
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
import sympy as sp

from .activations import get_activation
from .errors import InvalidArgument, NetworkFormatError
from .network import Layer, Network, _readonly
from .utils import MAX_DIGITS, _short, load_json, to_exact

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
VERSION = 1
_TOP_KEYS = {"format", "version", "layers", "name", "input_names", "output_names", "metadata"}
_LAYER_KEYS = {"weights", "bias", "activation"}


def load_network(path) -> Network:
    """Read a network file.

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
    >>> from symft.network import random_network
    >>> net = random_network([2, 3, 1], seed=0)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = os.path.join(d, "net.json")
    ...     save_network(net, p)
    ...     load_network(p) == net
    True
    """
    src = os.fspath(path)
    try:
        with open(src, encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError:
        raise NetworkFormatError(f"{src}: no such file") from None
    except IsADirectoryError:
        raise NetworkFormatError(f"{src}: is a directory, expected a network file (.json)") from None
    except UnicodeDecodeError:
        raise NetworkFormatError(f"{src}: not a text file; expected a symft.network JSON file") from None
    except OSError as e:
        raise NetworkFormatError(f"{src}: cannot be read ({e.strerror})") from None
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
        raise err("version", f"missing; expected {VERSION}")
    if data["version"] != VERSION or isinstance(data["version"], bool):
        raise err("version", f"expected {VERSION}, got {_short(repr(data['version']))}")
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
        scale = re.match(r"\s*([0-9]+)(?:\s*/\s*([0-9]+))?\s*\*", entry["activation"]) \
            if isinstance(entry["activation"], str) else None
        if scale and max(len(g or "") for g in scale.groups()) > MAX_DIGITS:
            raise err(f"{where}.activation", f"the scale of {_short(entry['activation'])!r} has more than "
                                             f"{MAX_DIGITS} digits")
        try:
            act = get_activation(entry["activation"])
        except InvalidArgument as e:
            raise err(f"{where}.activation", str(e)) from None
        except (ArithmeticError, TypeError, ValueError):
            # e.g. a scale "1/0*relu" or one too long to read
            raise err(f"{where}.activation", f"cannot read the scaled activation {_short(entry['activation'])!r}; "
                                             "expected \"c*name\" with a positive rational c such as \"1/2*tanh\"") \
                from None
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
            layers.append(Layer(_readonly(W), _readonly(b), act))
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
            W = sp.ImmutableMatrix(n, ncols, conv[: n * ncols])
            b = sp.ImmutableMatrix(conv[n * ncols:])
            layers.append(Layer(W, b, act))
        prev = n
    name = data.get("name")
    if name is not None and not isinstance(name, str):
        raise err("name", f"expected a string, got {_short(json.dumps(name))}")
    metadata = data.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise err("metadata", "expected a JSON object")
    try:
        return Network(layers, name=name, input_names=data.get("input_names"),
                       output_names=data.get("output_names"), metadata=metadata)
    except NetworkFormatError as e:
        raise NetworkFormatError(f"{source}: {e}") from None


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
    >>> from symft.network import mean_network
    >>> network_to_dict(mean_network(2))["layers"]
    [{'weights': [['1/2', '1/2']], 'bias': [0], 'activation': 'linear'}]
    """
    out = {"format": FORMAT, "version": VERSION}
    if net.name is not None:
        out["name"] = net.name
    if net.input_names is not None:
        out["input_names"] = list(net.input_names)
    if net.output_names is not None:
        out["output_names"] = list(net.output_names)
    if net.metadata:
        out["metadata"] = net.metadata
    layers = []
    for lay in net.layers:
        if lay.is_float:
            W = [[float(v) for v in row] for row in lay.weights]
            b = [float(v) for v in lay.bias]
        else:
            W = [[_exact_to_json(lay.weights[i, j]) for j in range(lay.shape[1])] for i in range(lay.shape[0])]
            b = [_exact_to_json(v) for v in lay.bias]
        layers.append({"weights": W, "bias": b, "activation": lay.activation.name})
    out["layers"] = layers
    return out


def dumps_network(net: Network, indent: int | None = None) -> str:
    """Serialize a network to JSON text.

    Examples
    --------
    >>> from symft.network import first_input_network
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
    >>> from symft.network import mean_network
    >>> with tempfile.TemporaryDirectory() as d:
    ...     save_network(mean_network(3), os.path.join(d, "m.json"))
    ...     load_network(os.path.join(d, "m.json")).weights_exact(1)
    Matrix([[1/3, 1/3, 1/3]])
    """
    text = dumps_network(net, indent=indent)
    with open(os.fspath(path), "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.write("\n")
