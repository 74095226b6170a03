r"""Commands about one network: ``info`` (nodes, crash sites, norms), ``eval`` (outputs with and
without crashed neurons) and ``convert`` (between symft JSON and ONNX).

Examples
--------
>>> import argparse
>>> sub = argparse.ArgumentParser().add_subparsers()
>>> sorted(add_parsers(sub))
['convert', 'eval', 'info']
>>> describe_op(load_network("examples/digits_cnn.onnx").node("features.0"))
'conv2d 8×1×3×3 stride 1 pad 1'
"""

from __future__ import annotations

import math
import os
import sys

import numpy as np
from ..lazyimport import sympy as sp

from ..engines.forward import forward
from ..errors import InvalidArgument
from ..graph.netfile import load_network, network_to_dict, save_network
from ..graph.network import layer_norms
from ..parsing import check_output_file, parse_crashes
from .convention import exact_number, neuron_objects, renamed
from .format import dims, emit, exact_text, neuron_list, number, sorted_neurons, summarized, \
    summarized_blocks
from .options import add_input, add_json, add_net, add_semantics, load_net_and_inputs

__all__ = ["describe_op", "network_summary", "cmd_info", "cmd_eval", "cmd_convert", "add_parsers", "FLOAT32_NOTE"]


def _same(values) -> str:
    values = [int(v) for v in values]
    return str(values[0]) if len(set(values)) == 1 else "×".join(map(str, values))


def describe_op(node) -> str:
    """One node's op and its key attributes, e.g. ``dense 64→10`` or ``conv2d 8×1×3×3 stride 1 pad 1``.

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> net = random_network([3, 4, 2], seed=0)
    >>> [describe_op(n) for n in net.nodes]
    ['input 3', 'dense 3→4', 'tanh', 'dense 4→2', 'linear']
    """
    op, k = node.op, node.op.kind
    if k == "input":
        return f"input {dims(op.shape)}"
    if k == "dense":
        m, n = op.weight.shape
        return f"dense {n}→{m}" + ("" if op.bias is not None else " (no bias)")
    if k == "conv2d":
        text = f"conv2d {dims(op.weight.shape)} stride {_same(op.stride)} pad {_same(op.padding)}"
        if any(d != 1 for d in op.dilation):
            text += f" dilation {_same(op.dilation)}"
        if op.groups != 1:
            text += f" groups {op.groups}"
        return text + ("" if op.bias is not None else " (no bias)")
    if k in ("avgpool2d", "maxpool2d"):
        text = f"{k} {dims(op.kernel)} stride {_same(op.stride)}"
        if any(op.padding):
            text += f" pad {_same(op.padding)}"
        return text
    if k == "activation":
        return op.act.name
    if k == "batchnorm":
        return f"batchnorm {op.scale.shape[0]} channels"
    if k == "reshape":
        return f"reshape {dims(op.shape)}"
    return k


def _node_params(node) -> int:
    return int(sum(getattr(node.op, a).size for a in node.op.arrays if getattr(node.op, a) is not None))


def network_summary(net, path=None) -> dict:
    """What ``symft info`` reports, as data: nodes, crash sites and their sizes, and for a chain the layers.

    Keys: ``file``, ``name``, ``kind``, ``n_params``, ``free_symbols``,
    ``input_shape``, ``output_shape``, ``chain``, ``nodes`` (``name``,
    ``op``, ``description``, ``inputs``, ``shape``, ``params``), ``sites``
    (site name → number of neurons, in topological order), ``site_shapes``
    (site name → tensor shape), ``n_neurons`` (over every site),
    ``notes``; for a chain of dense layers also ``widths``, ``depth``,
    ``layers`` (activation, Lipschitz constant, norms of ``W_l``) and
    ``lipschitz_bound_l2`` (``Π_l K_l ‖W_l‖₂``, P2, AP1).

    Examples
    --------
    >>> s = network_summary(load_network("examples/digits_cnn.onnx"))
    >>> s["sites"]
    {'image': 64, 'features.1': 512, 'classifier.2': 24, 'classifier.3': 10}
    >>> s["nodes"][1]["description"], s["n_params"], s["chain"]
    ('conv2d 8×1×3×3 stride 1 pad 1', 3426, False)
    """
    info = {
        "file": None if path is None else str(path),
        "name": net.name,
        "kind": net.kind,
        "n_params": net.n_params,
        "free_symbols": sorted(map(str, net.free_symbols)),
        "input_shape": list(net.input_shape),
        "output_shape": list(net.output_shape),
        "chain": net.is_chain,
        "nodes": [{"name": n.name, "op": n.op.kind, "description": describe_op(n), "inputs": list(n.inputs),
                   "shape": list(n.shape), "params": _node_params(n)} for n in net.nodes],
        "sites": {s: net.site_size(s) for s in net.sites},
        "site_shapes": {s: list(net.site_shape(s)) for s in net.sites},
        "n_neurons": sum(net.site_size(s) for s in net.sites),
        "notes": [str(t) for t in net.metadata.get("notes", [])] if isinstance(net.metadata.get("notes"), list)
        else [],
    }
    if not net.is_chain:
        return info
    chain = net.as_chain()
    info.update({"widths": list(chain.widths), "depth": chain.depth, "layers": []})
    norms = layer_norms(net) if not net.free_symbols else [None] * chain.depth
    lip_bound, lip_known = 1.0, not net.free_symbols
    for l, (lay, norm) in enumerate(zip(chain.layers, norms), start=1):
        a = lay.activation
        K = a.lipschitz_plain       # K without SymPy for the built-ins: info on a float network stays light
        row = {"layer": l, "shape": [chain.widths[l], chain.widths[l - 1]], "activation": a.name,
               "lipschitz": "inf" if K == math.inf else exact_text(K), "smooth": a.smooth,
               "piecewise_linear": a.is_piecewise_linear}
        if norm is not None:
            row.update({k: v for k, v in norm.items() if k not in ("layer", "shape")})
            if K is None or K == math.inf:
                lip_known = False
            else:
                lip_bound *= float(K) * norm["spectral"]
        info["layers"].append(row)
    # Π_l K_l ‖W_l‖₂ bounds the network's Lipschitz constant in the 2-norm (P2, AP1).
    info["lipschitz_bound_l2"] = lip_bound if lip_known else None
    return info


# ---------------------------------------------------------------------- info

def _info_json(info: dict) -> dict:
    """The summary in the JSON convention: crash sites as rows, Lipschitz constants as exact numbers."""
    d = {k: v for k, v in info.items() if k != "site_shapes"}
    d["sites"] = [{"site": str(s), "neurons": n, "shape": info["site_shapes"][s]} for s, n in info["sites"].items()]
    if "layers" in d:
        d["layers"] = [{**row, "lipschitz": exact_number(row["lipschitz"])} for row in d["layers"]]
    return d


def cmd_info(args) -> int:
    """``symft info NET``: nodes, crash sites and their sizes, parameters; for chains also layer norms."""
    net = load_network(args.net)
    info = network_summary(net, args.net)
    if args.json:
        emit(_info_json(info), args)
        return 0
    out = sys.stdout
    shape = (f"a chain of dense layers {' → '.join(map(str, info['widths']))}" if info["chain"]
             else f"a graph of {len(info['nodes'])} nodes, {dims(net.input_shape)} → {dims(net.output_shape)}")
    out.write(f"{shape}: {net.n_params} parameters, {info['n_neurons']} neurons at {len(info['sites'])} "
              "crash sites\n")
    out.write(f"network   {net.name or '(unnamed)'}  [{args.net}]\n")
    if info["chain"]:
        out.write(f"widths    {' → '.join(map(str, info['widths']))}   (L = {info['depth']})\n")
    else:
        out.write(f"shapes    input {dims(net.input_shape)} → output {dims(net.output_shape)}\n")
    out.write(f"kind      {net.kind}" + (f"  symbols: {', '.join(info['free_symbols'])}" if net.free_symbols else "")
              + f"\nparams    {net.n_params}\n")
    rows = [(n["name"], n["description"], ", ".join(n["inputs"]), dims(n["shape"]), str(n["params"]))
            for n in info["nodes"]]
    w = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(("node", "op", "inputs", "shape", "params"))]
    out.write(f"nodes ({len(rows)})\n")
    out.write(f"  {'node':<{w[0]}}  {'op':<{w[1]}}  {'inputs':<{w[2]}}  {'shape':>{w[3]}}  {'params':>{w[4]}}\n")
    for line in summarized([f"  {r[0]:<{w[0]}}  {r[1]:<{w[1]}}  {r[2]:<{w[2]}}  {r[3]:>{w[3]}}  {r[4]:>{w[4]}}"
                            for r in rows], args.wide, "nodes", 12, 4):
        out.write(line + "\n")
    out.write(f"crash sites ({len(info['sites'])}, {info['n_neurons']} neurons)\n")
    ws = max(len("site"), *(len(name) for name in info["sites"]))
    site_rows = []
    for k, (name, n) in enumerate(info["sites"].items()):
        role = " (input)" if name == net.input else " (output)" if name == net.output else ""
        site_rows.append(f"  {k:>2}  {name:<{ws}}  {n:>7} neurons  {dims(info['site_shapes'][name])}{role}")
    for line in summarized(site_rows, args.wide, "crash sites", 12, 4):
        out.write(line + "\n")
    for note in info["notes"]:
        out.write(f"note      {note}\n")
    if not info["chain"]:
        return 0
    if info["lipschitz_bound_l2"] is not None:
        out.write(f"Lipschitz bound (2-norm, Π K_l ‖W_l‖₂): {info['lipschitz_bound_l2']:.6g}\n")
    else:
        out.write("Lipschitz bound: unknown (symbolic weights or an activation without a Lipschitz constant)\n")
    out.write(f"{'layer':>5}  {'shape':>9}  {'activation':<10} {'K':>5}  {'‖W‖₂':>9} {'‖W‖∞':>9} {'‖W‖₁':>9} "
              f"{'max|w|':>9} {'balance':>7}\n")
    for row in info["layers"]:
        shape = f"{row['shape'][0]}×{row['shape'][1]}"
        K = str(row["lipschitz"])
        if "spectral" in row:
            out.write(f"{row['layer']:>5}  {shape:>9}  {row['activation']:<10} {K:>5}  {row['spectral']:9.4g} "
                      f"{row['inf']:9.4g} {row['one']:9.4g} {row['max_abs']:9.4g} {row['q_balance']:7.3f}\n")
        else:
            out.write(f"{row['layer']:>5}  {shape:>9}  {row['activation']:<10} {K:>5}  (symbolic)\n")
    return 0


# ---------------------------------------------------------------------- eval

#: What eval --dtype float32 prints (text and JSON warnings).
FLOAT32_NOTE = "APPROXIMATE: float32 pass (about 7 significant digits); no error bound covers these numbers"


def cmd_eval(args) -> int:
    """``symft eval NET --input X [--crash SITE:I,J]… [--dtype float32]``: outputs with and without crashes."""
    if args.exact and args.dtype != "float64":
        raise InvalidArgument("--dtype: --exact computes exactly; --dtype float32 (approximate) cannot go with it")
    net, inputs = load_net_and_inputs(args)
    pattern = parse_crashes(args.crash, net)
    if args.exact:
        x = inputs.rows[0] if inputs.single else inputs.rows
        clean = forward(net, x, exact=True)
        crashed = forward(net, x, pattern, semantics=args.semantics, exact=True)
        # exact: the rational difference as it is (never rounded to a "nice" number), other
        # closed forms simplified (an exact transformation)
        delta = np.vectorize(lambda a, b: (a - b) if (a - b).is_Rational else sp.simplify(a - b),
                             otypes=[object])(crashed, clean)
    else:
        x = inputs.values[0] if inputs.single else inputs.values
        clean = forward(net, x, dtype=args.dtype)
        crashed = forward(net, x, pattern, semantics=args.semantics, dtype=args.dtype)
        delta = crashed - clean
    approximate = args.dtype == "float32"
    crash_list = sorted_neurons(pattern.neurons)
    classes = _classes(clean, inputs.single, net.n_outputs)
    crashed_classes = _classes(crashed, inputs.single, net.n_outputs)
    if args.json:
        emit({"output": clean, "crashed_output": crashed,
              "delta": delta, "crash": neuron_objects(crash_list), "semantics": args.semantics,
              "exact": bool(args.exact), "dtype": args.dtype, "approximate": approximate,
              "class": classes, "crashed_class": crashed_classes,
              "warnings": [FLOAT32_NOTE] if approximate else []}, args)
        return 0
    out = sys.stdout
    names = net.output_names or [str(k) for k in range(net.n_outputs)]
    rows_c = [clean] if inputs.single else list(clean)
    rows_f = [crashed] if inputs.single else list(crashed)
    rows_d = [delta] if inputs.single else list(delta)
    ex, wide = bool(args.exact), args.wide
    flat_d = [np.ravel(d) for d in rows_d]
    try:
        b, k = max(((b, k) for b, d in enumerate(flat_d) for k in range(d.size)),
                   key=lambda t: abs(float(flat_d[t[0]][t[1]])))
        size = f"max |Δ| {'=' if ex else '≈'} {number(abs(flat_d[b][k]), ex)} at " \
               f"{'' if inputs.single else f'input {b}, '}output {names[k]}"
    except (TypeError, ValueError):  # symbolic values have no order
        size = "Δ symbolic"
    changed = ""
    if classes is not None and crashed_classes is not None:
        if inputs.single:
            changed = (f"; class {classes} → {crashed_classes} (changed)" if classes != crashed_classes
                       else f"; class {classes} (unchanged)")
        else:
            n_changed = sum(1 for a_, b_ in zip(classes, crashed_classes) if a_ != b_)
            changed = f"; class changed at {n_changed} of {len(classes)} inputs"
    n = len(crash_list)
    out.write(f"{size} with {n} crashed neuron{'s' if n != 1 else ''}{changed}"
              f"{'  (APPROXIMATE: float32)' if approximate else ''}\n")
    out.write(f"  crashed: {_crash_summary(crash_list, wide)}; semantics: {args.semantics}; "
              f"{'exact values' if ex else '6 digits (--exact: exact values)'}\n")
    if approximate:
        out.write(f"  {FLOAT32_NOTE}\n")
    blocks = []
    for b, (c, f, d) in enumerate(zip(rows_c, rows_f, rows_d)):
        c, f, d = (np.ravel(v) for v in (c, f, d))
        lines = [] if inputs.single else [f"input {b}"]
        w = max(14, *(len(number(v, ex)) for v in (*c, *f, *d))) if ex else 14
        lines.append(f"  {'output':<10} {'clean':>{w}} {'crashed':>{w}} {'delta':>{w}}")
        lines += summarized([f"  {nm:<10} {number(c[k], ex):>{w}} {number(f[k], ex):>{w}} {number(d[k], ex):>{w}}"
                             for k, nm in enumerate(names)], wide, "outputs")
        kc = classes if inputs.single else (classes or [None] * (b + 1))[b]
        kf = crashed_classes if inputs.single else (crashed_classes or [None] * (b + 1))[b]
        if kc is not None and kf is not None:
            lines.append(f"  predicted class: {kc} without crashes, {kf} with them"
                         f"{' (changed)' if kc != kf else ''}")
        blocks.append(lines)
    out.write("\n".join(summarized_blocks(blocks, wide)) + "\n")
    return 0


def _crash_summary(crash_list, wide: bool) -> str:
    """The crashed neurons; more than 6 as the first 4 and a count unless ``wide``.

    Examples
    --------
    >>> _crash_summary([[1, k] for k in range(12)], False)
    '12 neurons ((1,0), (1,1), (1,2), (1,3), …)'
    >>> _crash_summary([], False)
    'no neuron'
    """
    if not crash_list:
        return "no neuron"
    if wide or len(crash_list) <= 6:
        return neuron_list(crash_list)
    return f"{len(crash_list)} neurons ({neuron_list(crash_list[:4])}, …)"


def _classes(values, single, n_out):
    """The predicted class (first largest output) of each input, or None (one output, or symbolic values).

    Examples
    --------
    >>> _classes(np.array([[1.0, 3.0], [2.0, 2.0]]), False, 2), _classes(np.array([0.5]), True, 1)
    ([1, 0], None)
    """
    if n_out < 2:
        return None
    rows = [np.ravel(values)] if single else [np.ravel(v) for v in values]
    out = []
    try:
        for r in rows:
            best = max(r)
            out.append(next(k for k, v in enumerate(r) if bool(v == best)))
    except TypeError:          # symbolic outputs have no order
        return None
    return out[0] if single else out


# ---------------------------------------------------------------------- convert

#: What ``symft convert`` writes, by the suffix of OUT.
CONVERT_SUFFIXES = (".json", ".onnx")


def _rounding(net, dtype) -> bool:
    """Whether every parameter is a ``dtype`` number, so an ONNX file of that element type holds the network.

    Raises
    ------
    InvalidArgument
        When a parameter is beyond the range of ``dtype`` (it would be written as infinity).
    """
    from fractions import Fraction

    from ..graph.numbers import is_float_array

    t = np.float32 if dtype == "float32" else np.float64
    exact = True
    for n in net.nodes:
        for a in n.op.arrays:
            v = getattr(n.op, a)
            if v is None:
                continue
            with np.errstate(over="ignore"):
                if is_float_array(v):
                    r = v.astype(t).astype(np.float64)
                    values = None
                else:
                    values = [q for q in v.reshape(-1) if isinstance(q, sp.Rational)]
                    r = np.array([float(t(float(q))) if abs(q) < 1e308 else np.inf for q in values])
            if not np.isfinite(r).all():
                raise InvalidArgument(f"OUT: a parameter of node {n.name!r} ({a}) is beyond the {dtype} range; "
                                      + ("write --dtype float64" if dtype == "float32" else "scale the network down"))
            if values is None:
                exact = exact and bool(np.array_equal(r, v))
            else:
                exact = exact and len(values) == v.size and all(
                    Fraction(float(x)) == Fraction(int(q.p), int(q.q)) for x, q in zip(r, values))
    return exact


def cmd_convert(args) -> int:
    """``symft convert IN OUT``: any readable model to symft JSON (``.json``) or ONNX (``.onnx``)."""
    net = load_network(args.model)
    target = check_output_file(args.destination, "OUT", CONVERT_SUFFIXES)
    if os.path.abspath(target) == os.path.abspath(args.model):
        raise InvalidArgument("OUT: is the input file itself; write the converted model to another file")
    result = {"input": args.model, "output": target, "nodes": len(net.nodes), "sites": list(net.sites)}
    if target.lower().endswith(".onnx"):
        from ..io.onnx import save_onnx

        net.check_numeric("ONNX export")
        exact = _rounding(net, args.dtype)
        save_onnx(net, target, args.dtype, opset=args.opset)
        result.update({"format": "onnx", "dtype": args.dtype, "opset": args.opset, "exact": exact})
    else:
        if args.dtype != "float32" or args.opset != 17:
            raise InvalidArgument("--dtype, --opset: only for an ONNX output (OUT ending in .onnx)")
        version = network_to_dict(net)["version"]
        save_network(net, target)
        result.update({"format": "symft.network", "version": version, "exact": True})
    if args.json:       # "version" is symft's in every JSON object: the file format's version is format_version
        emit(renamed(result, version="format_version"), args)
        return 0
    what = (f"ONNX ({args.dtype}, opset {args.opset})" if result["format"] == "onnx"
            else f"symft JSON version {result['version']}")
    sys.stdout.write(f"wrote {target}: {what}, {result['nodes']} nodes, sites {', '.join(net.sites)}\n")
    if not result["exact"]:
        hint = (" (--dtype float64 keeps float64 weights, but onnxruntime has no float64 kernels for some ops)"
                if args.dtype == "float32" else "")
        sys.stdout.write(f"note: some parameters were rounded to {args.dtype}; the file is not exactly the "
                         f"network{hint}\n")
    return 0


# ---------------------------------------------------------------------- parsers

def add_parsers(sub) -> dict:
    """Add ``info``, ``eval`` and ``convert`` to the subparsers ``sub``; returns ``{name: parser}``.

    Examples
    --------
    >>> import argparse
    >>> sub = argparse.ArgumentParser().add_subparsers()
    >>> add_parsers(sub)["convert"].parse_args(["a.onnx", "b.json"]).destination
    'b.json'
    """
    from ..parsing import parse_integer
    from .options import argument_type

    out = {}
    s = out["info"] = sub.add_parser("info", help="nodes, crash sites and their sizes, parameter count; for a chain "
                                                  "of dense layers also Lipschitz constants and norms per layer")
    add_net(s)
    add_json(s, "nodes, sites, n_params")

    s = out["eval"] = sub.add_parser("eval", help="outputs with and without crashed neurons")
    add_net(s)
    add_input(s)
    s.add_argument("--crash", action="append", default=[], metavar="SITE:I,J,…",
                   help="crash these neurons (row-major indices) of a site: its name or number (layer numbers "
                        "for chains, 0 = input); repeatable")
    add_semantics(s)
    s.add_argument("--exact", action="store_true",
                   help="exact arithmetic (SymPy; floats are read as the binary rationals they hold), and the "
                        "text shows the exact values (default: 6 significant digits)")
    s.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                   help="float type of the pass (default float64). float32 is APPROXIMATE: weights and inputs "
                        "rounded to float32, about 7 significant digits, NO error bound (faster on "
                        "convolutional networks; an input's last digits may change with the other inputs of "
                        "its batch); not with --exact")
    add_json(s, "output, crashed_output, delta")

    s = out["convert"] = sub.add_parser("convert", help="convert a model: symft JSON or ONNX in, symft JSON (.json) "
                                                        "or ONNX (.onnx) out")
    s.add_argument("model", metavar="IN", help="the model to read: symft JSON (version 1 or 2) or ONNX")
    s.add_argument("destination", metavar="OUT", help="the file to write: .json (symft JSON; version 1 for chains of "
                                                 "dense layers, else 2) or .onnx")
    s.add_argument("--dtype", choices=("float32", "float64"), default="float32",
                   help="element type of an ONNX output (default float32: weights rounded to float32)")
    s.add_argument("--opset", type=argument_type(parse_integer, 11, 21), default=17,
                   help="ONNX opset of an ONNX output (default 17)")
    add_json(s, "output, format, exact")
    return out
