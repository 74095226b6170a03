r"""The ``symft`` command line: thin argparse subcommands over the library.

Conventions every subcommand follows:

* human-readable text by default; ``--json`` prints exactly one JSON object
  on stdout;
* ``--input`` / ``--p`` / ``--crash`` follow :mod:`symft.parsing`;
* bad input exits with status 2 and one line ``symft: error: …`` on stderr
  naming the file, field or argument and what was expected; never a
  traceback.  Any *unexpected* exception (a bug) is reported the same way,
  as one line that says so; the global flag ``--debug`` prints the full
  traceback instead;
* option values may be negative numbers (``--input -1,2,3``);
* in ``--json`` output an infinite number is the string ``"inf"`` or
  ``"-inf"`` and an undefined one (NaN, e.g. a bound that does not apply) is
  ``null``, so the output is always valid JSON.

Subcommands: ``info``, ``eval`` (foundation), ``exact`` (exact engine), ``derive`` and
``taylor`` (symbolic engine, T1), ``reduce``, ``fep`` and ``worst`` (reductions, Forward Error
Propagation, exact worst case), ``sample``, ``certify``, ``report`` and ``check``
(certificates and cross-checks).  Each is a thin ``cmd_*`` function over the library.

Examples
--------
>>> build_parser().parse_args(["info", "net.json"]).command
'info'
>>> main(["info", "no/such/net.json"])  # prints "symft: error: no/such/net.json: no such file" on stderr
2
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import traceback
import warnings
from fractions import Fraction

import numpy as np
import sympy as sp

from . import __version__
from .errors import InvalidArgument, SymftError
from .faults import SEMANTICS
from .engines.forward import forward
from .graph.netfile import load_network
from .graph.network import layer_norms
from .utils import short_text, check_text, json_number, jsonable
from .parsing import check_output_file, parse_crashes, parse_exact, parse_inputs, parse_integer, parse_real

__all__ = ["main", "build_parser"]


#: Most Monte Carlo samples accepted: beyond this a run takes days (the half-width of an
#: interval only shrinks like 1/√N).
MAX_SAMPLES = 10 ** 10
#: Most seconds accepted for a solver timeout (about 11 days).
MAX_TIMEOUT = 10 ** 6
#: Largest order / moment accepted on the command line.  An enclosure's "auto" order stays near 21
#: (2^21 configurations), and the engines' work grows with the order even beyond the number of
#: crashable neurons (order 1000 took 45 s on a 2 → 2 → 1 net), so larger values are refused.
MAX_ORDER = 64
#: Seeds are 0 … 2^63 − 1.
MAX_SEED = 2 ** 63 - 1


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line and exit status 2."""

    def error(self, message):  # noqa: D401 - argparse API
        _error_line(f"{message} (see '{self.prog} --help')")
        raise SystemExit(2)


# characters that str.splitlines() treats as line breaks
_LINE_BREAKS = {c: f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"
                for c in (0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029)}


def _one_line(text: str) -> str:
    """``text`` as one printable line: line breaks escaped, lone surrogates backslash-escaped."""
    text = str(text).translate(_LINE_BREAKS)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _error_line(message: str) -> None:
    message = _one_line(message)
    if len(message) > 1000:
        message = f"{message[:700]} … {message[-200:]}"
    sys.stderr.write(f"symft: error: {message}\n")
    sys.stderr.flush()


def _arg(parse, *args, **kw):
    """An argparse ``type`` from a :mod:`symft.parsing` parser (its message, without the option prefix).

    argparse then reports ``argument --samples: expected an integer in 2 … …, got '1e20'``.
    """
    def convert(text):
        try:
            return parse(text, "\0", *args, **kw)
        except InvalidArgument as e:
            raise argparse.ArgumentTypeError(str(e).replace("\0: ", "", 1).replace("\0", "value")) from None

    convert.__name__ = parse.__name__.replace("parse_", "")
    return convert


def _validated(parse, *args, **kw):
    """An argparse ``type`` that checks a number but keeps the text (for engines that read it exactly)."""
    check = _arg(parse, *args, **kw)

    def convert(text):
        check(text)
        return text.strip()

    convert.__name__ = check.__name__
    return convert


def _order_or_auto(text, where):
    if isinstance(text, str) and text.strip() == "auto":
        return "auto"
    try:
        return parse_integer(text, where, 0, MAX_ORDER)
    except InvalidArgument:
        raise InvalidArgument(f"{where}: expected a non-negative integer (at most {MAX_ORDER}) or 'auto', "
                              f"got {short_text(text)!r}") from None


_SAMPLES = _arg(parse_integer, 2, MAX_SAMPLES)
_SEED = _arg(parse_integer, 0, MAX_SEED)
_ORDER = _arg(parse_integer, 0, MAX_ORDER)
_TIMEOUT = _arg(parse_real, 0, MAX_TIMEOUT, lo_open=True)

_fmt = json_number


def _jsonable(a):
    """JSON lists of numbers; exact outputs keep irrational values as expressions."""
    return jsonable(a, irrational="str")


def _json_safe(v, path="result"):
    """A copy of ``v`` that :func:`json.dumps` accepts with ``allow_nan=False``.

    ±inf become ``"inf"``/``"-inf"``, NaN ``null``; NumPy scalars and arrays,
    fractions, SymPy numbers and tuples become JSON numbers, strings and lists.
    """
    if v is None or isinstance(v, (bool, str)):
        return v  # json.dumps escapes every non-ASCII character, lone surrogates included
    if isinstance(v, (int, np.integer)) and not isinstance(v, np.bool_):
        # beyond Python's default int-string limit a reader could not parse it: write it as text
        return int(v) if abs(int(v)).bit_length() < 14000 else str(int(v))
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if math.isnan(f):
            return None
        if math.isinf(f):
            return "inf" if f > 0 else "-inf"
        return f
    if isinstance(v, dict):
        return {str(k): _json_safe(x, f"{path}.{k}") for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_json_safe(x, f"{path}[{i}]") for i, x in enumerate(v)]
    if isinstance(v, np.ndarray):
        return _json_safe(v.tolist(), path)
    if isinstance(v, (Fraction, sp.Basic)):
        if isinstance(v, sp.Basic) and v in (sp.oo, -sp.oo):
            return "inf" if v == sp.oo else "-inf"
        if isinstance(v, sp.Basic) and v.has(sp.nan, sp.zoo):
            return None
        return _json_safe(json_number(v, "str"), path)
    raise InvalidArgument(f"--json: {path}: cannot be written as JSON ({type(v).__name__})")


def _require_finite(values: dict, what: str) -> None:
    """Refuse a float result that is ±inf or NaN: an estimate or a moment is never infinite, so one
    that is means a float64 overflow inside the computation (e.g. Δ² beyond 1.8e308).

    ``values`` maps field names to numbers or nested lists; exact entries (strings) are skipped.
    """
    from .errors import FloatOverflowError

    stack = [(v, k) for k, v in values.items()]
    while stack:
        v, path = stack.pop()
        if isinstance(v, dict):
            stack.extend((x, f"{path}.{k}") for k, x in v.items())
        elif isinstance(v, (list, tuple, np.ndarray)):
            stack.extend((x, f"{path}[{i}]") for i, x in enumerate(v))
        elif isinstance(v, (float, np.floating)) and not math.isfinite(v):
            raise FloatOverflowError(f"{what}: {path} is {float(v)}: the float64 computation overflowed (values "
                                     "beyond 1.8e308); the network's outputs are too large for float64 — scale "
                                     "it down or use exact arithmetic")


def _emit(obj):
    """Print one JSON object (one line) on stdout; see :func:`_json_safe` for inf and NaN."""
    sys.stdout.write(json.dumps(_json_safe(obj), allow_nan=False) + "\n")


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


def _load_net_and_inputs(args):
    """The network of ``NET`` and the ``--input`` rows, checked to have n_0 numbers each."""
    net = load_network(args.net)
    inputs = parse_inputs(args.input)
    if inputs.values.shape[1] != net.n_inputs:
        raise InvalidArgument(f"--input: expected {net.n_inputs} numbers per input (n_0 = {net.n_inputs}), "
                              f"got {inputs.values.shape[1]}")
    return net, inputs


# ---------------------------------------------------------------------- eval

def cmd_eval(args) -> int:
    """``symft eval NET --input X [--crash L:I,J]…``: outputs with and without crashes."""
    net, inputs = _load_net_and_inputs(args)
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


# ---------------------------------------------------------------------- sample (issue 6)

def _load_net_input_model(args, allow_batch=True):
    """Shared by sample/certify/check/report: the network, the inputs and the failure model."""
    from .faults import NeuronCrash, SynapseCrash
    from .parsing import parse_p

    net, inputs = _load_net_and_inputs(args)
    if not allow_batch and not inputs.single:
        raise InvalidArgument(f"--input: expected one input, got {inputs.values.shape[0]} "
                              "(pick one row, e.g. a .csv with one line)")
    models = []
    if getattr(args, "p", None):
        models.append(NeuronCrash(parse_p(args.p, net), getattr(args, "semantics", "output_zero")).check(net))
    if getattr(args, "synapse_p", None):
        sp_ = parse_p(args.synapse_p, net, opt="--synapse-p")
        if 0 in sp_:
            raise InvalidArgument("--synapse-p: layer 0 has no incoming synapses; use layers 1 … L")
        models.append(SynapseCrash(sp_))
    if not models:
        raise InvalidArgument("--p: expected a failure model (--p SPEC and/or --synapse-p SPEC)")
    x = inputs.values[0] if inputs.single else inputs.values
    return net, inputs, x, (models[0] if len(models) == 1 else tuple(models))


def cmd_sample(args) -> int:
    """``symft sample NET --input X --p SPEC --samples N --seed S``: Monte Carlo with intervals."""
    from .engines.sampling import monte_carlo

    net, inputs, x, model = _load_net_input_model(args)
    r = monte_carlo(net, x, model, args.samples, args.seed, confidence=args.confidence,
                    interval=args.interval, eps=args.eps, show_progress=None if not args.json else False)
    _require_finite({k: getattr(r, k) for k in ("mean", "var", "std", "ci_low", "ci_high")}, "Monte Carlo")
    needed = None
    if args.halfwidth is not None:
        from .engines.sampling import samples_for_halfwidth

        v = max(np.ravel(r.var))
        rough = samples_for_halfwidth(args.halfwidth, v, args.confidence, "normal")  # closed form
        if rough > MAX_SAMPLES:
            raise InvalidArgument(f"--halfwidth: ±{args.halfwidth:g} needs about {float(rough):.3g} samples (normal "
                                  f"approximation), more than the {MAX_SAMPLES:.0e} --samples accepts; ask for a "
                                  "wider half-width")
        needed = samples_for_halfwidth(args.halfwidth, v, args.confidence, args.interval)
    if args.json:
        d = r.as_dict()
        if needed is not None:
            d["samples_needed"] = needed
            d["halfwidth"] = args.halfwidth
        _emit(d)
        return 0
    out = sys.stdout
    names = net.output_names or [str(k) for k in range(net.n_outputs)]
    out.write(f"Monte Carlo: {r.samples} samples (seed {r.seed}), {r.crashed_samples} with at least one "
              f"failure; {100 * r.confidence:g}% {r.interval} intervals for E Δ\n")
    stats = ("mean", "std", "ci_low", "ci_high")
    rows = [{s_: getattr(r, s_) for s_ in stats}] if r.single else [
        {s_: getattr(r, s_)[b] for s_ in stats} for b in range(len(r.mean))]
    for b, d in enumerate(rows):
        if not r.single:
            out.write(f"input {b}\n")
        out.write(f"  {'output':<10} {'mean':>13} {'std':>12} {'ci_low':>13} {'ci_high':>13}\n")
        for k, nm in enumerate(names):
            out.write(f"  {nm:<10} {d['mean'][k]:13.6g} {d['std'][k]:12.6g} {d['ci_low'][k]:13.6g} "
                      f"{d['ci_high'][k]:13.6g}\n")
        if r.eps is not None:
            for k, nm in enumerate(names):
                lo, hi = r.tail_interval(k, b, "abs")
                out.write(f"  P(|Δ_{nm}| ≥ {r.eps:g}) ∈ [{lo:.4g}, {hi:.4g}]  (Clopper–Pearson)\n")
    if needed is not None:
        out.write(f"samples needed for ±{args.halfwidth:g} at {100 * r.confidence:g}% (largest observed "
                  f"variance): {needed}\n")
    return 0


def cmd_certify(args) -> int:
    """``symft certify NET --input X --p SPEC --eps E --delta D``: an (ε, δ) certificate."""
    from .analysis.certify import certify

    net, inputs, x, model = _load_net_input_model(args, allow_batch=False)
    xe = inputs.rows[0]
    alpha = 0.1 if args.alpha is None else args.alpha
    if args.alpha is not None:
        p_max = max((float(q) for _, q in model.p), default=0.0)
        if not alpha > p_max:
            raise InvalidArgument(f"--alpha: P3 needs p < α < 1, got α = {alpha:g} with p = {p_max:g}")
    c = certify(net, xe, model, args.eps, args.delta, source=args.source, inequality=args.inequality,
                sided=args.sided, order=args.order, alpha=alpha)
    if args.json:
        _emit(c.as_dict())
        return 0
    out = sys.stdout
    d = c.as_dict()
    out.write(f"claim        {d['claim']}\n")
    out.write(f"certified    {'YES' if c.certified else 'no'}   (δ bound {c.delta_bound:.6g})\n")
    out.write(f"method       {c.method}\n")
    out.write(f"rigorous     {'yes' if c.rigorous else 'NO — approximation'}\n")
    if c.copies_needed is not None and not c.certified:
        out.write(f"median trick {c.copies_needed} independent copies reach δ (exact binomial tail)\n")
    for a in c.assumptions:
        out.write(f"assumes      {a}\n")
    for n in c.notes:
        out.write(f"note         {n}\n")
    out.write(f"network      sha256 {c.network_sha256}\n")
    return 0


def cmd_report(args) -> int:
    """``symft report NET… --input X --p SPEC``: every bound vs exact vs Monte Carlo, rank losses."""
    from .faults import NeuronCrash
    from .parsing import parse_p
    from .analysis.report import compare

    if len(args.net) == 1:
        net, inputs, x, model = _load_net_input_model(argparse.Namespace(**{**vars(args), "net": args.net[0]}))
        if isinstance(model, tuple):
            raise InvalidArgument("--synapse-p: the report handles neuron crashes only")
        rep = compare(net, inputs.values, model, samples=args.samples, seed=args.seed, output=args.output)
    else:
        nets = {path: load_network(path) for path in args.net}
        inputs = parse_inputs(args.input)
        if not inputs.single:
            raise InvalidArgument("--input: with several networks, give one input")
        for path, n in nets.items():
            if n.n_inputs != inputs.values.shape[1]:
                raise InvalidArgument(f"--input: {path} expects {n.n_inputs} numbers, got {inputs.values.shape[1]}")
        model = lambda n: NeuronCrash(parse_p(args.p, n), args.semantics).check(n)  # noqa: E731
        rep = compare(nets, inputs.values[0], model, samples=args.samples, seed=args.seed, output=args.output)
    _require_finite({"monte_carlo.mean": rep.mc_mean, "monte_carlo.ci_low": rep.mc_low,
                     "monte_carlo.ci_high": rep.mc_high}, "report")
    if args.figure:
        rep.figure(args.figure)
    if args.json:
        d = rep.as_dict()
        if args.figure:
            d["figure"] = args.figure
        _emit(d)
        return 0
    sys.stdout.write(rep.text() + "\n")
    if args.figure:
        sys.stdout.write(f"figure written to {args.figure}\n")
    return 0


def cmd_check(args) -> int:
    """``symft check NET --input X --p SPEC``: do T1, exact/enclosure and Monte Carlo agree?"""
    from .analysis.report import check

    net, inputs, x, model = _load_net_input_model(args, allow_batch=False)
    if isinstance(model, tuple):
        raise InvalidArgument("--synapse-p: check handles neuron crashes only")
    r = check(net, inputs.rows[0], model, samples=args.samples, seed=args.seed, order=args.order)
    _require_finite({f"comparisons[{i}].{k}": c[k] for i, c in enumerate(r.comparisons)
                     for k in ("value_a", "value_b") if k in c}, "check")
    if args.json:
        _emit(r.as_dict())
    else:
        sys.stdout.write(r.text() + "\n")
    return 0


# ---------------------------------------------------------------------- exact

def cmd_exact(args) -> int:
    """``symft exact NET --input X --p SPEC [--order K] [--distribution] [--polynomial]``: exact moments.

    JSON keys: ``mean``, ``var``, ``std`` (one entry per output; a list per
    input for a batch), ``method`` (``"enumeration"`` or ``"enclosure"``),
    ``configurations``, ``seconds``; for enclosures also ``mean_lo``,
    ``mean_hi``, ``var_lo``, ``var_hi``, ``second_lo``, ``second_hi``,
    ``order``; with ``--distribution`` a ``distribution`` object (``atoms``,
    ``probabilities``); with ``--polynomial`` ``polynomial`` (one string per
    output, ``E Δ`` in p), ``coefficients`` (one list per output, increasing
    powers), ``polynomial_second`` (``E Δ²``).
    """
    from .engines.enclosure import enclosure
    from .engines.enumeration import enumerate_crashes, error_distribution, mean_polynomial
    from .faults import NeuronCrash
    from .parsing import parse_p

    net, inputs = _load_net_and_inputs(args)
    probs = parse_p(args.p, net, allow_symbols=bool(args.polynomial))
    symbolic = any(isinstance(q, sp.Basic) and q.free_symbols for q in probs.values())
    x = inputs.rows[0] if inputs.single else inputs.rows
    exact = True if args.exact else (False if args.float else None)
    loss_kw = {}
    if args.loss:
        if args.target is None:
            raise InvalidArgument("--target: --loss needs a target (a class index, or numbers for 'squared')")
        if args.loss == "squared":
            t = parse_inputs(args.target, "--target")
            if not t.single or len(t.rows[0]) != net.n_outputs:
                raise InvalidArgument(f"--target: expected {net.n_outputs} numbers (one per output) for the "
                                      f"squared loss, got {args.target!r}")
            target = t.rows[0]
        else:
            target = parse_integer(args.target, "--target", 0, net.n_outputs - 1)
        loss_kw = {"loss": args.loss, "target": target}
    out = {}
    text = []
    if args.order is not None:
        if symbolic:
            raise InvalidArgument("--order: an enclosure needs numeric probabilities")
        order = args.order
        r = enclosure(net, inputs.values[0] if inputs.single else inputs.values,
                      NeuronCrash(probs, args.semantics), order=order, force=args.force,
                      progress=None if not args.json else False)
        out.update(r.to_dict())
        text.append(r.summary(net.output_names))
    elif not symbolic:
        r = enumerate_crashes(net, x, NeuronCrash(probs, args.semantics), exact=exact, force=args.force,
                              progress=None if not args.json else False, **loss_kw)
        out.update(r.to_dict())
        _require_finite({k: out[k] for k in ("mean", "var", "std") if k in out}, "exact enumeration")
        names = ["loss"] if args.loss else (net.output_names or [str(k) for k in range(net.n_outputs)])
        text.append(f"exact enumeration: {r.configurations} configurations per input, {r.seconds:.3g} s, "
                    f"{'exact rational' if r.exact else 'float64'} arithmetic")
        means = [r.mean] if inputs.single else list(r.mean)
        vars_ = [r.var] if inputs.single else list(r.var)
        stds = [r.std] if inputs.single else list(r.std)
        for b, (m, v, s_) in enumerate(zip(means, vars_, stds)):
            if not inputs.single:
                text.append(f"input {b}")
            text.append(f"  {'output':<10} {'E Δ':>24} {'Var Δ':>24} {'std Δ':>14}")
            for k, nm in enumerate(names):
                text.append(f"  {nm:<10} {str(m[k]):>24} {str(v[k]):>24} {float(s_[k]):14.6g}")
    if args.distribution:
        if symbolic:
            raise InvalidArgument("--distribution: needs numeric probabilities")
        d = error_distribution(net, x, NeuronCrash(probs, args.semantics), exact=exact, force=args.force,
                               progress=None if not args.json else False, **loss_kw)
        ds = [d] if inputs.single else list(d)
        out["distribution"] = ds[0].to_dict() if inputs.single else [e.to_dict() for e in ds]
        for b, e in enumerate(ds):
            text.append(f"distribution of Δ{'' if inputs.single else f' (input {b})'}: {len(e)} atoms")
            for a, w in zip(e.atoms, e.probabilities):
                text.append(f"  P(Δ = {', '.join(map(str, a))}) = {w}")
    if args.polynomial:
        if not inputs.single:
            raise InvalidArgument("--polynomial: expected one input (the polynomial is per input)")
        crash = {l: (q if isinstance(q, sp.Basic) and q.free_symbols else sp.Symbol("p", nonnegative=True))
                 for l, q in probs.items()}
        crash = {l: q for l, q in crash.items() if not (not isinstance(q, sp.Basic) and q == 0)}
        p1 = mean_polynomial(net, x, crash, semantics=args.semantics, exact=exact, force=args.force,
                             progress=None if not args.json else False, **loss_kw)
        p2 = mean_polynomial(net, x, crash, moment=2, semantics=args.semantics, exact=exact, force=args.force,
                             progress=None if not args.json else False, **loss_kw)
        out["polynomial"] = [str(e) for e in p1.exprs]
        out["polynomial_second"] = [str(e) for e in p2.exprs]
        out["polynomial_exact"] = p1.exact
        out["symbols"] = [str(s_) for s_ in p1.symbols]
        if len(p1.symbols) == 1:
            out["coefficients"] = [[_fmt(c) for c in p1.coefficients(k)] for k in range(len(p1.exprs))]
        text.append(str(p1))
        text.append(str(p2))
        out.setdefault("method", "enumeration")
    if args.json:
        _emit(out)
        return 0
    sys.stdout.write("\n".join(text) + "\n")
    return 0


# ---------------------------------------------------------------------- derive / taylor (issue 4)

def cmd_derive(args) -> int:
    """``symft derive NET --p SPEC [--order K] [--input X] [--latex]``: symbolic expansion, T1, remainder."""
    from .parsing import parse_p
    from .engines.taylor import derive

    net = load_network(args.net)
    probs = parse_p(args.p, net, allow_symbols=True)
    x = None
    if args.input:
        inputs = parse_inputs(args.input)
        if not inputs.single:
            raise InvalidArgument("--input: derive takes one input (or none, for symbolic inputs x_0, x_1, …)")
        if len(inputs.rows[0]) != net.n_inputs:
            raise InvalidArgument(f"--input: expected {net.n_inputs} numbers (n_0 = {net.n_inputs}), "
                                  f"got {len(inputs.rows[0])}")
        x = inputs.rows[0]
    d = derive(net, probs, x=x, order=args.order, semantics=args.semantics, force=args.force)
    if args.json:
        e = d.expansion
        _emit({"order": e.order, "exact": e.exact, "xi": [f"{l}:{i}" for l, i, _ in e.xi],
               "expansion": [str(v) for v in e.polynomials()],
               "mean": [str(v) for v in d.moments.mean], "var": [str(v) for v in d.moments.var],
               "t1_mean": [str(v) for v in d.t1.mean], "t1_var": [str(v) for v in d.t1.var],
               "t1_var_paper": [str(v) for v in d.t1.var_paper],
               "remainder": None if d.remainder is None else [str(v) for v in d.remainder],
               "remainder_note": d.remainder_note})
        return 0
    sys.stdout.write((d.latex() if args.latex else str(d)) + "\n")
    return 0


def cmd_taylor(args) -> int:
    """``symft taylor NET --input X --p SPEC [--json]``: numeric T1 with rigorous remainder bounds."""
    from .parsing import parse_p
    from .engines.taylor import t1

    net, inputs = _load_net_and_inputs(args)
    probs = parse_p(args.p, net)
    x = inputs.values[0] if inputs.single else inputs.values
    r = t1(net, x, probs, semantics=args.semantics, remainder=not args.no_remainder and "auto",
           force=args.force)
    d = r.to_dict()
    _require_finite({k: d[k] for k in ("mean", "var", "std") if k in d}, "T1")
    if args.json:
        _emit(r.to_dict())
        return 0
    sys.stdout.write((r.latex() if args.latex else str(r)) + "\n")
    return 0


# ---------------------------------------------------------------------- reduce / fep / worst (issue 5)

def _int_args(tokens, opt, lo=None, hi=None, max_digits=40):
    return [parse_integer(t, f"{opt}[{k}]", lo, hi, max_digits=max_digits) for k, t in enumerate(tokens)]


def cmd_reduce(args) -> int:
    """``symft reduce subset-sum A1 A2 … [--literal] [--json]``: decide SUBSET SUM through the P1 network."""
    from fractions import Fraction

    from reductions.p1 import check_instance

    if args.problem != "subset-sum":  # pragma: no cover - argparse choices
        raise InvalidArgument(f"problem: expected 'subset-sum', got {args.problem!r}")
    from .utils import MAX_DIGITS

    a = _int_args(args.numbers, "numbers", max_digits=MAX_DIGITS)
    if not a:
        raise InvalidArgument("numbers: expected at least one integer")
    variant = "printed" if args.literal else args.variant
    net_method = args.network_method
    if net_method == "auto":
        net_method = "enumeration" if len(a) <= 16 else "solver"
    r = check_instance(a, variant, p=args.p, k=args.k, method=net_method, solvers=(args.solver,),
                       timeout=args.timeout)
    d = r.decision
    if args.json:
        _emit({"answer": r.answer, "witness": None if r.witness is None else list(r.witness),
               "network_answer": r.network_answer, "agree": r.agree, "method": r.method,
               "variant": variant, "rule": d.rule, "clean_output": d.clean_output,
               "expected": None if d.expected is None else str(d.expected),
               "threshold": None if d.threshold is None else str(d.threshold),
               "surviving": None if d.surviving is None else list(d.surviving),
               "p": str(d.p), "k": d.k,
               "solvers": [{"method": s.method, "answer": s.answer, "reason": s.reason} for s in r.solver_results]})
        return 0
    out = sys.stdout
    yn = {True: "yes", False: "no", None: "unknown"}
    out.write(f"SUBSET SUM a = {tuple(a)}: {yn[r.answer]}"
              + (f", witness {list(r.witness)} (sum {sum(a[i] for i in r.witness)})" if r.witness else "") + "\n")
    out.write(f"P1 network ({variant}): {yn[r.network_answer]}   rule: {d.rule}\n")
    if d.expected is not None:
        out.write(f"  E Δ^{d.k} = {d.expected} (p = {d.p}; threshold {d.threshold} = "
                  f"{float(d.threshold):.6g})   clean output y(a) = {d.clean_output}\n")
    out.write(f"  {'agree' if r.agree else 'DISAGREE'}   [{r.method}]\n")
    return 0


def _approx(v) -> str:
    """Six significant digits of an exact number, also beyond the float64 range (``1.2e+400``)."""
    f = float(v)
    return f"{f:.6g}" if math.isfinite(f) else sp.Float(v, 6).__format__("")


def cmd_fep(args) -> int:
    """``symft fep NET --failures F1,F2,… [--byzantine C] [--json]``: Forward Error Propagation (THEORY §7)."""
    from .analysis.fep import fep, fep_max, fep_params, fep_recursive

    net = load_network(args.net)
    kw = {"byzantine": args.byzantine}
    if args.C is not None:
        kw["C"] = args.C
    elif args.input is not None:
        inputs = parse_inputs(args.input)
        kw["x"] = inputs.values
    P = fep_params(net, **kw)
    if args.failures is None and args.max is None:
        raise InvalidArgument("--failures: expected F1,F2,… (one per hidden layer) or --max F")
    result = {"constant": P.constant, "N": list(P.N), "w_max": [str(w) for w in P.w_max],
              "K": [str(k) for k in P.K], "C": [str(c) for c in P.C]}
    if args.failures is not None:
        f = _int_args([t.strip() for t in args.failures.split(",") if t.strip()], "--failures", 0)
        v, r = fep(P, f), fep_recursive(P, f)
        if v != r:  # pragma: no cover - would be a bug
            raise RuntimeError(f"Fep closed form {v} differs from the recursion {r}")
        result.update({"failures": f, "fep": float(v), "fep_exact": str(v)})
    if args.max is not None:
        m, alloc = fep_max(P, args.max)
        result.update({"max_failures": args.max, "fep_max": float(m), "fep_max_exact": str(m),
                       "worst_allocation": list(alloc)})
        if "fep" not in result:
            result.update({"failures": list(alloc), "fep": float(m), "fep_exact": str(m)})
    if args.json:
        _emit(result)
        return 0
    out = sys.stdout
    out.write(f"Forward Error Propagation [WNF]   {args.net}\n")
    out.write(f"  N_l = {list(P.N)}   w_m = {result['w_max']}   K = {result['K']}   C = {result['C']}\n")
    out.write(f"  constant: {P.constant}\n")
    if args.failures is not None:
        out.write(f"  failures f = {result['failures']}:  |Δ_out| ≤ Fep = {result['fep_exact']} "
                  f"≈ {_approx(v)}  (closed form = recursion)\n")
    if args.max is not None:
        out.write(f"  any {args.max} failures: max over allocations Fep = {result['fep_max_exact']} "
                  f"≈ {_approx(m)} at f = {result['worst_allocation']}\n")
    return 0


def cmd_worst(args) -> int:
    """``symft worst NET --input X --max-crashes F [--layers …] [--json]``: exact worst case over crash sets."""
    from .worstcase import class_change, exists_crash, worst_case

    net, inputs = _load_net_and_inputs(args)
    if not inputs.single:
        raise InvalidArgument("--input: expected one input (the worst case is per input)")
    x = inputs.rows[0]
    layers = None
    if args.layers:
        layers = _int_args([t.strip() for t in args.layers.split(",") if t.strip()], "--layers", 0, net.depth)
    per_layer = None
    if args.per_layer:
        per_layer = {}
        for tok in args.per_layer.split(","):
            l, _, f = tok.partition(":")
            vals = _int_args([l.strip(), f.strip()], "--per-layer", 0)
            if vals[0] in per_layer:
                raise InvalidArgument(f"--per-layer: layer {vals[0]} is given twice")
            per_layer[vals[0]] = vals[1]
    if args.output is not None and args.output >= net.n_outputs:
        raise InvalidArgument(f"--output: expected an output index 0 … {net.n_outputs - 1}, got {args.output}")
    # "at most F crashes" with F above the number of neurons is "any crash set": the same question
    max_crashes = min(args.max_crashes, sum(net.widths))
    kw = dict(max_crashes=max_crashes, layers=layers, per_layer=per_layer, method=args.method,
              byzantine=args.byzantine, timeout=args.timeout, force=args.force)
    if args.class_change:
        r = class_change(net, x, **kw)
    elif args.epsilon is not None:
        r = exists_crash(net, x, epsilon=args.epsilon, output=args.output, **kw)
    else:
        r = worst_case(net, x, output=args.output, **kw)
    worst = None if r.worst_delta is None else _num(r.worst_delta) \
        if isinstance(r.worst_delta, sp.Basic) and r.worst_delta.is_Rational else \
        (None if r.worst_delta is None else str(r.worst_delta))
    if args.json:
        _emit({"status": r.status, "worst_delta": worst,
               "worst_delta_float": None if r.worst_delta is None else float(r.worst_delta),
               "crash_set": None if r.crash_set is None else [list(n) for n in r.crash_set],
               "values": [[list(k), str(v)] for k, v in r.values],
               "delta": None if r.delta is None else [str(d) for d in r.delta],
               "method": r.method, "reason": r.reason, "question": r.question,
               "n_configurations": r.n_configurations, "seconds": r.seconds})
        return 0
    out = sys.stdout
    out.write(f"{r.question}\n  status: {r.status}   method: {r.method}   ({r.seconds:.3g} s, "
              f"{r.n_configurations} crash sets)\n")
    if r.crash_set is not None:
        out.write(f"  crash set: {', '.join(f'({l},{i})' for l, i in r.crash_set) or 'none'}\n")
        out.write(f"  Δ_out = {[str(d) for d in r.delta]}   max |Δ| = {r.worst_delta}"
                  f" ≈ {float(r.worst_delta):.6g}\n")
    out.write(f"  {r.reason}\n")
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
    p.add_argument("--debug", action="store_true",
                   help="on an unexpected error, print the full traceback (for bug reports)")
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

    s = sub.add_parser("sample", help="Monte Carlo estimate of the output error with confidence intervals")
    s.add_argument("net", metavar="NET", help="network file (symft.network JSON)")
    s.add_argument("--input", required=True, metavar="X", help="comma-separated numbers, or @FILE")
    s.add_argument("--p", metavar="SPEC", help="neuron crash probabilities: LAYER:P[,…] or a bare P (hidden layers)")
    s.add_argument("--synapse-p", metavar="SPEC", help="synapse crash probabilities: LAYER:P[,…] (layers 1 … L)")
    s.add_argument("--semantics", choices=SEMANTICS, default="output_zero", help="what a crashed neuron outputs")
    s.add_argument("--samples", type=_SAMPLES, default=100000, metavar="N", help="number of samples (default 100000)")
    s.add_argument("--seed", type=_SEED, required=True, metavar="S", help="random seed (required: results are reproducible)")
    s.add_argument("--confidence", type=_arg(parse_real, 0, 1, lo_open=True, hi_open=True), default=0.95,
                   help="level of the intervals (default 0.95)")
    s.add_argument("--interval", choices=("t", "normal"), default="t", help="quantile of the mean interval")
    s.add_argument("--eps", type=_arg(parse_real), help="also estimate P(Δ ≥ ε) and P(|Δ| ≥ ε) (Clopper–Pearson)")
    s.add_argument("--halfwidth", type=_arg(parse_real, 0, lo_open=True), metavar="H",
                   help="also report the samples needed for a mean interval of half-width H")
    s.add_argument("--json", action="store_true",
                   help="print one JSON object (keys mean, var, std, ci_low, ci_high, samples, seed)")
    s.set_defaults(func=cmd_sample)

    s = sub.add_parser("certify", help="(ε, δ) fault-tolerance certificate, rigorous or labelled approximate")
    s.add_argument("net", metavar="NET", help="network file (symft.network JSON)")
    s.add_argument("--input", required=True, metavar="X", help="one input: comma-separated numbers, or @FILE")
    s.add_argument("--p", required=True, metavar="SPEC", help="neuron crash probabilities: LAYER:P[,…] or a bare P")
    s.add_argument("--semantics", choices=SEMANTICS, default="output_zero", help="what a crashed neuron outputs")
    s.add_argument("--eps", required=True, type=_validated(parse_exact),
                   help="error threshold ε (P(Δ ≥ ε) ≤ δ for every output)")
    s.add_argument("--delta", required=True, type=_validated(parse_exact, 0, 1), help="failure probability δ")
    s.add_argument("--source", choices=("auto", "exact", "enclosure", "taylor", "t1"), default="auto",
                   help="moments from exact enumeration, a rigorous enclosure, T1 + remainder bound, "
                        "or T1 alone (P5 as printed: approximate)")
    s.add_argument("--inequality", choices=("cantelli", "chebyshev"), default="cantelli",
                   help="tail inequality (Cantelli is one-sided and never worse: E6)")
    s.add_argument("--sided", choices=("upper", "abs"), default="upper", help="event Δ ≥ ε (D5) or |Δ| ≥ ε")
    s.add_argument("--order", type=_ORDER, default=2, help="order of the enclosure (default 2)")
    s.add_argument("--alpha", type=_arg(parse_real, 0, 1, lo_open=True, hi_open=True), default=None,
                   help="α of P3's δ_0, with p < α < 1 (T1 path only; default 0.1)")
    s.add_argument("--json", action="store_true",
                   help="print one JSON object (keys certified, delta_bound, method, rigorous, copies_needed)")
    s.set_defaults(func=cmd_certify)

    s = sub.add_parser("report", help="every bound vs the exact value vs Monte Carlo, with rank losses")
    s.add_argument("net", metavar="NET", nargs="+", help="network file(s); several = compare networks at one input")
    s.add_argument("--input", required=True, metavar="X", help="inputs: comma-separated numbers or @FILE")
    s.add_argument("--p", required=True, metavar="SPEC", help="neuron crash probabilities: LAYER:P[,…] or a bare P")
    s.add_argument("--semantics", choices=SEMANTICS, default="output_zero", help="what a crashed neuron outputs")
    s.add_argument("--samples", type=_SAMPLES, default=20000, metavar="N", help="Monte Carlo samples (default 20000)")
    s.add_argument("--seed", type=_SEED, default=0, metavar="S", help="random seed (default 0)")
    s.add_argument("--output", type=_arg(parse_integer, 0), default=0, metavar="K",
                   help="output component for per-output bounds")
    s.add_argument("--figure", metavar="PNG", type=_arg(check_output_file),
                   help="also write a matplotlib figure (.png, .pdf, .svg, …; needs symft[plot])")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.set_defaults(func=cmd_report)

    s = sub.add_parser("check", help="do T1, exact (or enclosure) and Monte Carlo agree? z-scores and a verdict")
    s.add_argument("net", metavar="NET", help="network file (symft.network JSON)")
    s.add_argument("--input", required=True, metavar="X", help="one input: comma-separated numbers or @FILE")
    s.add_argument("--p", required=True, metavar="SPEC", help="neuron crash probabilities: LAYER:P[,…] or a bare P")
    s.add_argument("--semantics", choices=SEMANTICS, default="output_zero", help="what a crashed neuron outputs")
    s.add_argument("--samples", type=_SAMPLES, default=100000, metavar="N",
                   help="Monte Carlo samples (default 100000)")
    s.add_argument("--seed", type=_SEED, default=0, metavar="S", help="random seed (default 0)")
    s.add_argument("--order", type=_ORDER, default=2, help="order of the enclosure when enumeration is too large")
    s.add_argument("--json", action="store_true", help="print one JSON object (keys verdict, comparisons, …)")
    s.set_defaults(func=cmd_check)

    s = sub.add_parser("exact", help="exact moments over every crash configuration (or a certified enclosure)")
    s.add_argument("net", metavar="NET", help="network file (symft.network JSON)")
    s.add_argument("--input", required=True, metavar="X", help="comma-separated numbers, or @FILE")
    s.add_argument("--p", required=True, metavar="SPEC",
                   help="neuron crash probabilities: LAYER:P[,…] or a bare P (hidden layers); "
                        "with --polynomial P may be a symbol (0:p)")
    s.add_argument("--semantics", choices=SEMANTICS, default="output_zero", help="what a crashed neuron outputs")
    s.add_argument("--order", metavar="K", type=_arg(_order_or_auto),
                   help="certified enclosure: configurations with ≤ K crashes exactly, the rest bounded "
                        "(K = auto: the largest order within 2^21 configurations)")
    s.add_argument("--distribution", action="store_true", help="also print the atoms of Δ and their probabilities")
    s.add_argument("--polynomial", action="store_true", help="print E Δ(p) and E Δ²(p) as polynomials in p")
    s.add_argument("--loss", choices=("squared", "zero_one", "cross_entropy"),
                   help="report the loss change Δ_{L+1} instead of the output error")
    s.add_argument("--target", metavar="T", help="loss target: a class index, or numbers for 'squared'")
    g = s.add_mutually_exclusive_group()
    g.add_argument("--exact", action="store_true", help="rational arithmetic (piecewise-linear rational nets)")
    g.add_argument("--float", action="store_true", help="float64 arithmetic")
    s.add_argument("--force", action="store_true", help="enumerate even above the configuration limit")
    s.add_argument("--json", action="store_true",
                   help="print one JSON object (keys mean, var, std, method, configurations, seconds, …)")
    s.set_defaults(func=cmd_exact)

    s = sub.add_parser("derive", help="symbolic Taylor expansion of the error, T1 and its remainder (issue 4)")
    s.add_argument("net", metavar="NET", help="network file (weights may be symbolic)")
    s.add_argument("--p", required=True, metavar="SPEC",
                   help="crash probabilities LAYER:P[,…] or a bare P (hidden layers); P may be a symbol (0:p)")
    s.add_argument("--order", type=_ORDER, default=2, metavar="K", help="order of the expansion (default 2)")
    s.add_argument("--input", metavar="X", help="one input (default: symbols x_0, x_1, …)")
    s.add_argument("--semantics", choices=SEMANTICS, default="output_zero", help="what a crashed neuron outputs")
    s.add_argument("--latex", action="store_true", help="print LaTeX")
    s.add_argument("--force", action="store_true", help="expand even above the size limit")
    s.add_argument("--json", action="store_true", help="print one JSON object (expressions as strings)")
    s.set_defaults(func=cmd_derive)

    s = sub.add_parser("taylor", help="numeric T1 (one backward pass) with rigorous remainder bounds (issue 4)")
    s.add_argument("net", metavar="NET", help="network file (symft.network JSON)")
    s.add_argument("--input", required=True, metavar="X", help="comma-separated numbers, or @FILE (batch)")
    s.add_argument("--p", required=True, metavar="SPEC", help="crash probabilities LAYER:P[,…] or a bare P")
    s.add_argument("--semantics", choices=SEMANTICS, default="output_zero", help="what a crashed neuron outputs")
    s.add_argument("--no-remainder", action="store_true", help="skip the remainder bounds D_1, D_2")
    s.add_argument("--force", action="store_true", help="compute the remainder even above the size limit")
    s.add_argument("--latex", action="store_true", help="print LaTeX")
    s.add_argument("--json", action="store_true",
                   help="print one JSON object (keys mean, var, var_paper, std, remainder_mean, remainder_var)")
    s.set_defaults(func=cmd_taylor)

    s = sub.add_parser("reduce", help="decide SUBSET SUM through the P1 network (THEORY P1, errata E1, E2)")
    s.add_argument("problem", choices=["subset-sum"], help="the source problem")
    s.add_argument("numbers", nargs="+", metavar="A", help="the integers a_1 … a_M")
    s.add_argument("--literal", action="store_true",
                   help="the construction as printed (ramp from −ε to ε, rule E Δ^k > 0): shows E1")
    s.add_argument("--variant", choices=["printed", "ramp-fixed", "corrected", "guarded"], default="corrected",
                   help="network and decision rule (default corrected: fixed ramp, compare E Δ^k with p^M)")
    s.add_argument("--p", default="1/10", type=_validated(parse_exact, 0, 1),
                   help="input crash probability (exact; default 1/10)")
    s.add_argument("--k", type=_arg(parse_integer, 1, MAX_ORDER), default=1, help="the moment E Δ^k (default 1)")
    s.add_argument("--network-method", choices=["auto", "enumeration", "solver"], default="auto",
                   help="enumerate the 2^M crash configurations, or ask Z3 on the crashed network")
    s.add_argument("--solver", default="auto", help="SUBSET SUM solver: auto, brute-force, meet-in-the-middle, "
                   "z3, sat:glucose4, sat:cadical153, …")
    s.add_argument("--timeout", type=_TIMEOUT, default=60.0,
                   help="solver timeout in seconds (default 60; then the answer is unknown)")
    s.add_argument("--json", action="store_true",
                   help="print one JSON object (keys answer, witness, network_answer, agree, method)")
    s.set_defaults(func=cmd_reduce)

    s = sub.add_parser("fep", help="Forward Error Propagation: worst-case bound for f failed neurons per layer")
    s.add_argument("net", metavar="NET", help="network file (symft.network JSON)")
    s.add_argument("--failures", metavar="F1,F2,…", help="failed neurons per hidden layer")
    s.add_argument("--max", type=_arg(parse_integer, 0), metavar="F",
                   help="also maximize Fep over all allocations of F failures")
    s.add_argument("--byzantine", metavar="C", type=_validated(parse_exact, 0),
                   help="Byzantine neurons with capacity C (deviation C + sup|y|)")
    s.add_argument("--C", metavar="C", type=_validated(parse_exact, 0),
                   help="the deviation bound C of a failed neuron, given directly")
    s.add_argument("--input", metavar="X", help="bound sup|y_l| by the fault-free outputs at these inputs "
                   "(needed for unbounded activations such as relu)")
    s.add_argument("--json", action="store_true", help="print one JSON object (key fep)")
    s.set_defaults(func=cmd_fep)

    s = sub.add_parser("worst", help="exact worst case over crash sets (SMT / SAT / brute force)")
    s.add_argument("net", metavar="NET", help="network file (symft.network JSON)")
    s.add_argument("--input", required=True, metavar="X", help="one input: comma-separated numbers or @FILE")
    s.add_argument("--max-crashes", type=_arg(parse_integer, 0), required=True, metavar="F",
                   help="at most F crashed neurons")
    s.add_argument("--layers", metavar="L1,L2,…", help="crashable layers (default: the hidden layers)")
    s.add_argument("--per-layer", metavar="L:F,…", help="at most F crashes in layer L")
    s.add_argument("--epsilon", metavar="EPS", type=_validated(parse_exact, 0, lo_open=True),
                   help="ask only: is there a crash set with |Δ_out| ≥ EPS?")
    s.add_argument("--class-change", action="store_true", help="ask: can the predicted class change?")
    s.add_argument("--output", type=_arg(parse_integer, 0), metavar="K",
                   help="one output component (default: the max over all)")
    s.add_argument("--byzantine", metavar="C", type=_validated(parse_exact, 0),
                   help="failed neurons send any value in [-C, C] (SMT)")
    s.add_argument("--method", choices=["auto", "smt", "sat", "brute-force"], default="auto",
                   help="back end (default auto: brute force when cheaper, else SMT/SAT)")
    s.add_argument("--timeout", type=_TIMEOUT, metavar="S", help="solver timeout in seconds (then: unknown)")
    s.add_argument("--force", action="store_true", help="allow a very large brute-force enumeration")
    s.add_argument("--json", action="store_true",
                   help="print one JSON object (keys worst_delta, crash_set, status, method)")
    s.set_defaults(func=cmd_worst)
    for s in sub.choices.values():  # --debug also after the command (SUPPRESS: a global --debug stays)
        s.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="on an unexpected error, print the full traceback (for bug reports)")
    return p


def _negative_values(parser, argv):
    """Join an option that takes a value with a following negative number: ``--input -1,2`` → ``--input=-1,2``.

    argparse only accepts ``-1`` or ``-0.5`` as a value on its own; ``-1,2,3``, ``-1/3`` or ``-1e-3``
    would be read as an unknown option.
    """
    sub = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
    command = next((t for t in argv if sub is not None and t in sub.choices), None)
    p = sub.choices[command] if command is not None else parser
    takes_value = {o for a in p._actions if a.nargs is None and a.option_strings for o in a.option_strings}
    out, i = [], 0
    while i < len(argv):
        t = argv[i]
        opt = t if t in takes_value else None
        if opt is None and t.startswith("--") and "=" not in t:
            matches = [o for o in takes_value if o.startswith(t)]
            opt = matches[0] if len(matches) == 1 else None
        nxt = argv[i + 1] if i + 1 < len(argv) else None
        if (opt is not None and nxt is not None and len(nxt) > 1 and nxt[0] == "-"
                and (nxt[1].isdigit() or nxt[1] in ".,/")):
            out.append(f"{t}={nxt}")
            i += 2
            continue
        out.append(t)
        i += 1
    return out


def _check_argv(argv):
    if not isinstance(argv, (list, tuple)):
        raise InvalidArgument(f"arguments: expected a list of strings, got {type(argv).__name__}")
    for k, a in enumerate(argv):
        if not isinstance(a, str):
            raise InvalidArgument(f"argument {k + 1}: expected a string, got {type(a).__name__}")
        if "\0" in a:
            raise InvalidArgument(f"argument {k + 1} ({short_text(a)!r}): contains a NUL character")
        try:
            check_text(a, f"argument {k + 1} ({short_text(a)!r})")
        except InvalidArgument as e:
            raise InvalidArgument(f"{e}; symft needs UTF-8 arguments") from None
    return list(argv)


#: Warning categories from libraries that a user of the command line cannot act on.
_QUIET = (DeprecationWarning, PendingDeprecationWarning, FutureWarning, ImportWarning, ResourceWarning,
          SyntaxWarning)


def main(argv=None) -> int:
    """Run the ``symft`` command; returns the exit status.

    0 on success; 2 with one line ``symft: error: …`` on stderr for bad input
    *and* for any unexpected error (with ``--debug``: the full traceback,
    then that line); 1 on a closed output pipe; 130 on Ctrl-C.  Warnings
    that arise are printed as ``symft: warning: …`` lines after a success
    (floating-point warnings are not: overflow is an error, see
    :class:`~symft.errors.FloatOverflowError`).

    Examples
    --------
    >>> main(["eval", "no/such/file.json", "--input", "1"])
    2
    """
    raw = sys.argv[1:] if argv is None else argv
    debug = isinstance(raw, (list, tuple)) and "--debug" in raw
    old_digits = sys.get_int_max_str_digits()
    try:
        # Input numbers are limited to MAX_DIGITS digits by the parsers themselves; exact
        # *results* may be longer (products of big rationals) and must still print.
        sys.set_int_max_str_digits(0)
        with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
            warnings.simplefilter("default")
            parser = build_parser()
            argv = _negative_values(parser, _check_argv(raw))
            args = parser.parse_args(argv)
            debug = bool(getattr(args, "debug", False))
            code = args.func(args)
        for w in caught:
            if not issubclass(w.category, _QUIET):
                sys.stderr.write(f"symft: warning: {_one_line(w.message)}\n")
        return code
    except SystemExit as e:  # argparse's own exits (--help, --version, usage errors)
        return int(e.code or 0) if isinstance(e.code, int) else 2
    except BrokenPipeError:
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("symft: interrupted\n")
        return 130
    except SymftError as e:
        if debug:
            traceback.print_exc()
        _error_line(str(e))
        return 2
    except Exception as e:  # noqa: BLE001 - the command line never ends in a traceback
        if debug:
            traceback.print_exc()
        detail = short_text(str(e), 300) if str(e) else "no message"
        _error_line(f"internal error ({type(e).__name__}: {detail}); this is a bug in symft — please report it "
                    "with the output of the same command run with 'symft --debug'")
        return 2
    finally:
        sys.set_int_max_str_digits(old_digits)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
