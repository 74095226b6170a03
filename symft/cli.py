r"""The ``symft`` command line: thin argparse subcommands over the library.

Conventions every subcommand follows:

* human-readable text by default; ``--json`` prints exactly one JSON object
  on stdout;
* ``--input`` / ``--p`` / ``--crash`` follow :mod:`symft.parsing`;
* bad input exits with status 2 and one line ``symft: error: …`` on stderr
  naming the file, field or argument and what was expected; never a
  traceback.

Subcommands: ``info NET`` and ``eval NET --input X [--crash L:I,J]…``.

Examples
--------
>>> main(["info", "--json", "examples/mean_of_inputs.json"])  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np
import sympy as sp

from . import __version__
from .errors import InvalidArgument, SymftError
from .faults import SEMANTICS
from .forward import forward
from .netfile import load_network
from .network import layer_norms
from .parsing import parse_crashes, parse_inputs

__all__ = ["main", "build_parser"]


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line and exit status 2."""

    def error(self, message):  # noqa: D401 - argparse API
        sys.stderr.write(f"symft: error: {message} (see '{self.prog} --help')\n")
        raise SystemExit(2)


def _fmt(v):
    """A number for JSON: float, or a string for exact non-float values."""
    if isinstance(v, sp.Basic):
        if v.is_Integer:
            return int(v)
        return str(v)
    return float(v)


def _jsonable(a):
    a = np.asarray(a, dtype=object) if not isinstance(a, np.ndarray) else a
    if a.ndim == 0:
        return _fmt(a.item())
    return [_jsonable(x) for x in a]


def _emit(obj):
    sys.stdout.write(json.dumps(obj, allow_nan=False) + "\n")


def _num(x):
    if x is None:
        return None
    if isinstance(x, sp.Basic):
        if x == sp.oo:
            return "inf"
        if x.is_Rational:
            return int(x) if x.is_Integer else str(x)
        return str(x)
    return x


# ---------------------------------------------------------------------- info

def cmd_info(args) -> int:
    """``symft info NET``: architecture, parameters, Lipschitz constants, norms."""
    net = load_network(args.net)
    acts = net.activations
    info = {
        "file": args.net,
        "name": net.name,
        "widths": list(net.widths),
        "depth": net.depth,
        "kind": net.kind,
        "n_params": net.n_params,
        "free_symbols": sorted(map(str, net.free_symbols)),
        "layers": [],
    }
    norms = layer_norms(net) if not net.free_symbols else [None] * net.depth
    lip_bound = 1.0
    lip_known = not net.free_symbols
    for l in range(1, net.depth + 1):
        a = acts[l - 1]
        row = {
            "layer": l,
            "shape": [net.widths[l], net.widths[l - 1]],
            "activation": a.name,
            "lipschitz": _num(a.lipschitz),
            "smooth": a.smooth,
            "piecewise_linear": a.is_piecewise_linear,
        }
        if norms[l - 1] is not None:
            row.update({k: v for k, v in norms[l - 1].items() if k not in ("layer", "shape")})
            if a.lipschitz is None or a.lipschitz == sp.oo:
                lip_known = False
            else:
                lip_bound *= float(a.lipschitz) * norms[l - 1]["spectral"]
        info["layers"].append(row)
    # Π_l K_l ‖W_l‖₂ bounds the network's Lipschitz constant in the 2-norm (P2, AP1).
    info["lipschitz_bound_l2"] = lip_bound if lip_known else None
    if args.json:
        _emit(info)
        return 0
    out = sys.stdout
    out.write(f"network   {net.name or '(unnamed)'}  [{args.net}]\n")
    out.write(f"widths    {' → '.join(map(str, net.widths))}   (L = {net.depth})\n")
    out.write(f"kind      {net.kind}" + (f"  symbols: {', '.join(info['free_symbols'])}" if net.free_symbols else "")
              + f"\nparams    {net.n_params}\n")
    if lip_known:
        out.write(f"Lipschitz bound (2-norm, Π K_l ‖W_l‖₂): {lip_bound:.6g}\n")
    else:
        out.write("Lipschitz bound: unknown (symbolic weights or an activation without a Lipschitz constant)\n")
    header = f"{'layer':>5}  {'shape':>9}  {'activation':<10} {'K':>5}  {'‖W‖₂':>9} {'‖W‖∞':>9} {'‖W‖₁':>9} " \
             f"{'max|w|':>9} {'q':>6}\n"
    out.write(header)
    for row in info["layers"]:
        shape = f"{row['shape'][0]}×{row['shape'][1]}"
        K = str(row["lipschitz"])
        if "spectral" in row:
            out.write(f"{row['layer']:>5}  {shape:>9}  {row['activation']:<10} {K:>5}  {row['spectral']:9.4g} "
                      f"{row['inf']:9.4g} {row['one']:9.4g} {row['max_abs']:9.4g} {row['q_balance']:6.3f}\n")
        else:
            out.write(f"{row['layer']:>5}  {shape:>9}  {row['activation']:<10} {K:>5}  (symbolic)\n")
    return 0


# ---------------------------------------------------------------------- eval

def cmd_eval(args) -> int:
    """``symft eval NET --input X [--crash L:I,J]…``: outputs with and without crashes."""
    net = load_network(args.net)
    inputs = parse_inputs(args.input)
    if inputs.values.shape[1] != net.n_inputs:
        raise InvalidArgument(f"--input: expected {net.n_inputs} numbers per input (n_0 = {net.n_inputs}), "
                              f"got {inputs.values.shape[1]}")
    pattern = parse_crashes(args.crash, net)
    if args.exact:
        x = inputs.rows[0] if inputs.single else inputs.rows
        clean = forward(net, x, exact=True)
        crashed = forward(net, x, pattern, semantics=args.semantics, exact=True)
        delta = np.vectorize(lambda a, b: sp.nsimplify(a - b) if (a - b).is_Rational else sp.simplify(a - b),
                             otypes=[object])(crashed, clean)
    else:
        x = inputs.values[0] if inputs.single else inputs.values
        clean = forward(net, x)
        crashed = forward(net, x, pattern, semantics=args.semantics)
        delta = crashed - clean
    crash_list = sorted([list(n) for n in pattern.neurons])
    if args.json:
        _emit({"output": _jsonable(clean), "crashed_output": _jsonable(crashed), "delta": _jsonable(delta),
               "crash": crash_list, "semantics": args.semantics, "exact": bool(args.exact)})
        return 0
    out = sys.stdout
    names = net.output_names or [str(k) for k in range(net.n_outputs)]
    rows_c = [clean] if inputs.single else list(clean)
    rows_f = [crashed] if inputs.single else list(crashed)
    rows_d = [delta] if inputs.single else list(delta)
    out.write(f"crashed neurons: {', '.join(f'({l},{i})' for l, i in crash_list) or 'none'}"
              f"   semantics: {args.semantics}\n")
    for b, (c, f, d) in enumerate(zip(rows_c, rows_f, rows_d)):
        if not inputs.single:
            out.write(f"input {b}\n")
        out.write(f"  {'output':<10} {'clean':>14} {'crashed':>14} {'delta':>14}\n")
        for k, nm in enumerate(names):
            if args.exact:
                out.write(f"  {nm:<10} {str(c[k]):>14} {str(f[k]):>14} {str(d[k]):>14}\n")
            else:
                out.write(f"  {nm:<10} {c[k]:14.8g} {f[k]:14.8g} {d[k]:14.8g}\n")
        if net.n_outputs > 1 and not args.exact:
            out.write(f"  argmax: clean {int(np.argmax(c))}, crashed {int(np.argmax(f))}\n")
    return 0


# ---------------------------------------------------------------------- parser

def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of the ``symft`` command.

    Examples
    --------
    >>> p = build_parser()
    >>> p.parse_args(["eval", "net.json", "--input", "1,2", "--crash", "1:0"]).crash
    ['1:0']
    """
    p = _Parser(prog="symft", description="Symbolic and formal verification of neural-network fault tolerance.")
    p.add_argument("--version", action="version", version=f"symft {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    s = sub.add_parser("info", help="architecture, parameter count, Lipschitz constants, per-layer norms")
    s.add_argument("net", metavar="NET", help="network file (symft.network JSON)")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.set_defaults(func=cmd_info)

    s = sub.add_parser("eval", help="outputs with and without crashed neurons")
    s.add_argument("net", metavar="NET", help="network file (symft.network JSON)")
    s.add_argument("--input", required=True, metavar="X",
                   help="comma-separated numbers, or @FILE (.json, .npy, .csv) with one or many inputs")
    s.add_argument("--crash", action="append", default=[], metavar="LAYER:I,J,…",
                   help="crash these neurons of LAYER (0 = input; repeatable)")
    s.add_argument("--semantics", choices=SEMANTICS, default="output_zero",
                   help="what a crashed neuron outputs: 0 (default) or φ(bias) (incoming weights zeroed)")
    s.add_argument("--exact", action="store_true",
                   help="exact arithmetic (SymPy); floats are read as the binary rationals they hold")
    s.add_argument("--json", action="store_true", help="print one JSON object (keys output, crashed_output, delta)")
    s.set_defaults(func=cmd_eval)
    return p


def main(argv=None) -> int:
    """Run the ``symft`` command; returns the exit status.

    Examples
    --------
    >>> main(["eval", "no/such/file.json", "--input", "1"])
    2
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return args.func(args)
    except SystemExit as e:  # argparse's own exits (--help, --version, usage errors)
        return int(e.code or 0) if isinstance(e.code, int) else 2
    except SymftError as e:
        sys.stderr.write(f"symft: error: {e}\n")
        return 2
    except BrokenPipeError:
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("symft: interrupted\n")
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
