r"""Commands about the worst case: ``worst`` (the largest output error over crash sets, by brute
force, SMT or SAT), ``fep`` (Forward Error Propagation bounds for failed neurons) and ``reduce`` (the
SUBSET SUM reduction P1).

Examples
--------
>>> import argparse
>>> sub = argparse.ArgumentParser().add_subparsers()
>>> sorted(add_parsers(sub))
['fep', 'reduce', 'worst']
"""

from __future__ import annotations

import dataclasses
import sys

import numpy as np
from ..lazyimport import is_sympy, sympy as sp

from ..errors import InvalidArgument
from ..graph.netfile import load_network
from ..parsing import parse_exact, parse_inputs, parse_integer
from ..utils import MAX_DIGITS, short_text
from .convention import exact_number, exact_values, input_rows, neuron_objects
from .format import emit, exact_text, neuron_list, number, rounded, summarized_blocks, vector
from .options import (MAX_ORDER, TIMEOUT, add_alias, add_exact_text, add_input, add_json, add_net, argument_type,
                      flag_names,
                      check_input_size, load_net_and_inputs, validated)

__all__ = ["cmd_worst", "cmd_fep", "cmd_reduce", "add_parsers"]


def _int_args(tokens, opt, lo=None, hi=None, max_digits=40):
    return [parse_integer(t, f"{opt}[{k}]", lo, hi, max_digits=max_digits) for k, t in enumerate(tokens)]


def _sites(net, text, opt):
    """Crash sites from ``A,B,…``: layer numbers on a chain of dense layers (whose sites are the input and
    the layers' outputs, in order), else site names."""
    tokens = [t.strip() for t in text.split(",") if t.strip()]
    if not net.is_chain:
        return [net.site(t, opt) for t in tokens]
    if all(s.isdigit() for s in net.sites):
        return _int_args(tokens, opt, 0, net.as_chain().depth)
    return [net.sites.index(net.site(t, opt)) for t in tokens]


def cmd_reduce(args) -> int:
    """``symft reduce subset-sum A1 A2 … [--literal] [--json]``: decide SUBSET SUM through the P1 network."""
    from reductions.p1 import check_instance

    if args.problem != "subset-sum":  # pragma: no cover - argparse choices
        raise InvalidArgument(f"problem: expected 'subset-sum', got {args.problem!r}")
    a = _int_args(args.numbers, "numbers", max_digits=MAX_DIGITS)
    if not a:
        raise InvalidArgument("numbers: expected at least one integer")
    variant = "printed" if args.literal else args.variant
    net_method = args.network_method
    if net_method == "auto":
        net_method = "enumeration" if len(a) <= 16 else "solver"
    with flag_names(p="--p", k="--k", method="--solver", solvers="--solver", timeout="--timeout"):
        r = check_instance(a, variant, p=args.p, k=args.k, method=net_method, solvers=(args.solver,),
                           timeout=args.timeout)
    d = r.decision
    if args.json:
        emit({"answer": r.answer, "witness": None if r.witness is None else list(r.witness),
              "network_answer": r.network_answer, "agree": r.agree, "method": r.method,
              "variant": variant, "rule": d.rule, "clean_output": exact_number(d.clean_output),
              "expected": exact_number(d.expected), "threshold": exact_number(d.threshold),
              "surviving": None if d.surviving is None else list(d.surviving),
              "p": exact_number(d.p), "k": d.k,
              "solvers": [{"method": s.method, "answer": s.answer, "reason": s.reason} for s in r.solver_results]},
             args)
        return 0
    out = sys.stdout
    yn = {True: "yes", False: "no", None: "unknown"}
    out.write(f"SUBSET SUM a = {tuple(a)}: {yn[r.answer]}"
              + (f", witness {list(r.witness)} (sum {sum(a[i] for i in r.witness)})" if r.witness else "") + "\n")
    out.write(f"the reduction's network (P1, {variant}): {yn[r.network_answer]}   rule: {d.rule}\n")
    if d.expected is not None:
        ex = args.exact
        eq = "=" if ex else "≈"
        out.write(f"  E Δ^{d.k} {eq} {number(d.expected, ex)} (p = {number(d.p, ex)}; threshold "
                  f"{number(d.threshold, ex)})   clean output y(a) {eq} {number(d.clean_output, ex)}"
                  + ("" if ex else "   (--exact: the exact values)") + "\n")
    out.write(f"  {'agree' if r.agree else 'DISAGREE'}   [{r.method}]\n")
    return 0


def cmd_fep(args) -> int:
    """``symft fep NET --failures F1,F2,… [--byzantine C] [--json]``: Forward Error Propagation (theory §7)."""
    from ..analysis.fep import fep, fep_max, fep_params, fep_recursive

    net = load_network(args.net)
    kw = {"byzantine": args.byzantine}
    if args.C is not None:
        kw["C"] = args.C
    elif args.input is not None:
        kw["x"] = check_input_size(net, parse_inputs(args.input, net=net)).values
    try:
        with flag_names(x="--input", C="--C", byzantine="--byzantine"):
            P = fep_params(net, **kw)
    except InvalidArgument as e:
        if "is unbounded" not in str(e):
            raise
        raise InvalidArgument(f"--C: {str(e).split(';')[0]}; bound what the neurons can output with --C C, "
                              "or give the input (--input X) to bound it by interval arithmetic") from None
    if args.failures is None and args.max is None:
        raise InvalidArgument("--per-site: expected F1,F2,… (one per hidden layer) or --max-crashes F")
    result = {"constant": P.constant, "N": list(P.N), "w_max": [str(w) for w in P.w_max],
              "K": [str(k) for k in P.K], "C": [str(c) for c in P.C]}
    if args.failures is not None:
        f = _fep_failures(net, args.failures, len(P.N))
        with flag_names(failures="--per-site"):
            v, r = fep(P, f), fep_recursive(P, f)
        if v != r:  # pragma: no cover - would be a bug
            raise RuntimeError(f"Fep closed form {v} differs from the recursion {r}")
        result.update({"failures": f, "fep": float(v), "fep_exact": str(v)})
    if args.max is not None:
        with flag_names(f="--max-crashes"):
            m, alloc = fep_max(P, args.max)
        result.update({"max_failures": args.max, "fep_max": float(m), "fep_max_exact": str(m),
                       "worst_allocation": list(alloc)})
        if "fep" not in result:
            result.update({"failures": list(alloc), "fep": float(m), "fep_exact": str(m)})
    if args.json:
        d = {"constant": P.constant, "neurons": list(P.N), "max_weight": list(P.w_max), "lipschitz": list(P.K),
             "activation_bound": list(P.C)}
        d.update({k: result[k] for k in ("failures", "max_failures", "worst_allocation") if k in result})
        d.update({k: exact_number(result[f"{k}_exact"]) for k in ("fep", "fep_max") if k in result})
        emit(exact_values(d, "max_weight", "lipschitz", "activation_bound"), args)
        return 0
    out = sys.stdout
    ex, wide = args.exact, args.wide
    if args.failures is not None:
        out.write(f"|Δ_out| ≤ {number(v, ex)} with f = {result['failures']} failed neurons per hidden layer "
                  "(Forward Error Propagation, Fep)\n")
    if args.max is not None:
        out.write(f"|Δ_out| ≤ {number(m, ex)} with any {args.max} failed neurons (the largest Fep, "
                  f"at f = {result['worst_allocation']})\n")
    out.write(f"  network: {args.net}; neurons per hidden layer N = {list(P.N)}\n")
    out.write(f"  largest |weight| per layer w_m = {vector(P.w_max, ex, wide)}; Lipschitz constants "
              f"K = {vector(P.K, ex, wide)}; deviation of a failed neuron C = {vector(P.C, ex, wide)}\n")
    out.write(f"  {P.constant}\n")
    if args.failures is not None:
        out.write("  the closed form and the recursion give the same exact value\n")
    return 0


def _fep_failures(net, text, n_hidden) -> list:
    """``--per-site`` of ``fep``: ``F1,F2,…`` (one per hidden layer) or ``SITE:F,…`` (the others 0).

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> net = random_network([2, 3, 3, 1], seed=0)
    >>> _fep_failures(net, "1,2", 2), _fep_failures(net, "2:1", 2)
    ([1, 2], [0, 1])
    """
    tokens = [t.strip() for t in str(text).split(",") if t.strip()]
    if not any(":" in t for t in tokens):
        return _int_args(tokens, "--per-site", 0)
    f = [0] * n_hidden
    for t in tokens:
        site, _, count = t.rpartition(":")
        k = net.sites.index(net.site(site.strip(), "--per-site")) if site.strip() else 0
        if not 1 <= k <= n_hidden:
            raise InvalidArgument(f"--per-site: {short_text(t)!r}: expected a hidden site (layers 1 … {n_hidden})")
        f[k - 1] = parse_integer(count.strip(), "--per-site", 0, max_digits=40)
    return f


def _exact_str(v) -> str:
    """An exact value as text: ``"p/q"`` for a rational, else its decimal digits.

    Examples
    --------
    >>> _exact_str(sp.Rational(-3, 4)), _exact_str(sp.Integer(2))
    ('-3/4', '2')
    """
    return str(exact_text(v)) if is_sympy(v) and v.is_Rational else str(v)


def _number(v):
    """A worst-case value for the JSON output: a rational stays exact, a re-checked 50-digit value is its float.

    Examples
    --------
    >>> _number(sp.Rational(-3, 4)), _number(sp.Float("0.1", 50)), _number(None)
    (Fraction(-3, 4), 0.1, None)
    """
    if v is None:
        return None
    if is_sympy(v) and not v.is_Rational:
        return float(v) if v.is_number else v
    return exact_number(v)


def _class_names(net, x, r) -> dict:
    """``clean_class`` and, for a crash set found, ``new_class``: the first largest output without and with it.

    From the exact (re-checked) output change of the result and the float64 clean pass; the engine has
    already proved that the class changes.
    """
    from ..engines.forward import forward

    clean = np.ravel(forward(net, np.asarray(x, dtype=float)))
    out = {"clean_class": int(np.argmax(clean)), "new_class": None}
    if r.crash_set is not None and r.delta is not None and r.status == "found":
        crashed = clean + np.array([float(d) for d in r.delta])
        out["new_class"] = int(np.argmax(crashed))
    return out


def cmd_worst(args) -> int:
    """``symft worst NET --input X --max-crashes F [--sites …] [--json]``: exact worst case over crash sets.

    With a batch of inputs (``--input @FILE`` with several rows) each input is asked the same question
    (with ``--timeout`` per input); the answer is the worst over the batch (see :func:`_batch_answer`)
    and each input also gets its own row.
    """
    from ..worstcase import class_change, exists_crash, worst_case

    net, inputs = load_net_and_inputs(args)
    opt, per_opt = "--sites", "--per-site"
    layers = None if not args.sites else _sites(net, args.sites, opt)
    per_layer = None
    if args.per_site:
        per_layer = {}
        for tok in args.per_site.split(","):
            site, _, f = tok.rpartition(":")
            key = _sites(net, site, per_opt)[0] if site.strip() else None
            budget = parse_integer(f.strip(), per_opt, 0, max_digits=40)
            if key is None or key in per_layer:
                raise InvalidArgument(f"{per_opt}: expected SITE:F once per site, got {short_text(tok.strip())!r}")
            per_layer[key] = budget
    if args.output is not None and args.output >= net.n_outputs:
        raise InvalidArgument(f"--output: expected an output index 0 … {net.n_outputs - 1}, got {args.output}")
    # "at most F crashes" with F above the number of neurons is "any crash set": the same question
    max_crashes = min(args.max_crashes, sum(net.site_size(k) for k in net.sites))
    kw = dict(max_crashes=max_crashes, layers=layers, per_layer=per_layer, method=args.method,
              byzantine=args.byzantine, timeout=args.timeout, force=args.force)

    def ask(x):
        if args.class_change:
            return class_change(net, x, **kw)
        if args.epsilon is not None:
            return exists_crash(net, x, epsilon=args.epsilon, output=args.output, **kw)
        return worst_case(net, x, output=args.output, **kw)

    rs = [ask(x) for x in inputs.rows]
    classes = [_class_names(net, x, r) if args.class_change else {} for x, r in zip(inputs.rows, rs)]
    if inputs.single:
        return _worst_one(args, rs[0], classes[0])
    return _worst_batch(args, rs, classes)


def _worst_json(r, classes) -> dict:
    """One worst-case result in the JSON convention (exact rationals: a float plus ``<key>_exact``; 50-digit
    re-checked values: the float)."""
    return {"status": r.status, "worst_delta": _number(r.worst_delta),
            "crash_set": None if r.crash_set is None else neuron_objects(r.crash_set),
            "values": [{"site": str(k[0]), "index": int(k[1]), "value": _number(v)} for k, v in r.values],
            "delta": None if r.delta is None else [_number(d) for d in r.delta],
            "method": r.method, "reason": r.reason, "question": r.question,
            "configurations": r.n_configurations, "seconds": r.seconds, **classes}


def _worst_one(args, r, classes) -> int:
    if args.json:
        emit(_worst_json(r, classes), args)
        return 0
    out = sys.stdout
    out.write(_worst_answer(args, r, classes) + "\n")
    out.write(f"  question: {r.question}\n  status: {r.status}   method: {r.method}   ({r.seconds:.3g} s, "
              f"{r.n_configurations} crash sets)\n")
    out.write("".join(line + "\n" for line in _crash_set_lines(args, r, classes)))
    out.write(f"  {r.reason}\n")
    return 0


def _crash_set_lines(args, r, classes, indent: str = "  ") -> list:
    """The crash set of a result, the classes, the values sent and ``Δ_out`` (nothing without a crash set)."""
    if r.crash_set is None:
        return []
    ex, wide = args.exact, args.wide
    lines = [f"{indent}crash set: {_crash_set_text(r.crash_set, wide)}"]
    if classes.get("new_class") is not None:
        lines.append(f"{indent}predicted class: {classes['clean_class']} without crashes, {classes['new_class']} "
                     "with them")
    if r.values:
        lines.append(f"{indent}values sent: " + ", ".join(f"({l},{i}) {_value(v, ex)}" for (l, i), v in r.values))
    lines.append(f"{indent}Δ_out = {vector(r.delta, ex, wide)}")
    return lines


def _batch_answer(rs, decide: bool) -> tuple:
    """``(status, input)`` of a batch: the answer over every input and the input it comes from.

    The status is ``"proved"`` only when it is proved at every input; a question with a yes/no answer
    (``decide``: ``--eps``, ``--class-change``) is ``"found"`` (yes) when a crash set is found at any input
    (the first such input; no input when every one is proved "no"); the largest change is ``"found"`` (a lower bound) when some input is not proved
    but a crash set was found somewhere, the input being the one of the largest change found; else
    ``"unknown"`` (the first input without an answer) — unknown is never safe.

    Examples
    --------
    >>> from types import SimpleNamespace as R
    >>> _batch_answer([R(status="proved", worst_delta=1), R(status="proved", worst_delta=3)], False)
    ('proved', 1)
    >>> _batch_answer([R(status="proved", worst_delta=None), R(status="proved", worst_delta=None)], True)
    ('proved', None)
    >>> _batch_answer([R(status="proved", worst_delta=None), R(status="unknown", worst_delta=None)], True)
    ('unknown', 1)
    >>> _batch_answer([R(status="unknown", worst_delta=None), R(status="found", worst_delta=2)], True)
    ('found', 1)
    """
    statuses = [r.status for r in rs]
    if decide:
        if "found" in statuses:
            return "found", statuses.index("found")
        if all(s == "proved" for s in statuses):
            return "proved", None
        return "unknown", next(b for b, s in enumerate(statuses) if s != "proved")
    valued = [b for b, r in enumerate(rs) if r.worst_delta is not None and r.status != "unknown"]
    if valued:
        b = max(valued, key=lambda i: rs[i].worst_delta)
        return ("proved" if all(s == "proved" for s in statuses) else "found"), b
    return "unknown", next((b for b, s in enumerate(statuses) if s == "unknown"), 0)


def _worst_batch(args, rs, classes) -> int:
    decide = bool(args.class_change or args.epsilon is not None)
    status, at = _batch_answer(rs, decide)
    b = 0 if at is None else at
    counts = {s: sum(r.status == s for r in rs) for s in ("proved", "found", "unknown")}
    tally = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    methods = sorted({r.method for r in rs})
    reason = f"{len(rs)} inputs ({tally})" + ("" if at is None else f"; input {at}: {rs[at].reason}")
    if args.json:
        top = {"status": status, "input": at, **_worst_json(rs[b], classes[b]), "status": status, "method": ", ".join(methods),
               "reason": reason, "configurations": max(r.n_configurations for r in rs),
               "seconds": sum(r.seconds for r in rs)}
        emit({**top, "per_input": input_rows([_worst_json(r, c) for r, c in zip(rs, classes)])}, args)
        return 0
    out = sys.stdout
    out.write(f"{_worst_answer(args, dataclasses.replace(rs[b], status=status), classes[b])} — over {len(rs)} inputs"
              + ("" if at is None else f", at input {at}") + "\n")
    out.write(f"  question (at each input): {rs[0].question}\n  status: {tally}   method: {', '.join(methods)}   "
              f"({sum(r.seconds for r in rs):.3g} s in all, {max(r.n_configurations for r in rs)} crash sets "
              "per input)\n")
    blocks = []
    for k, (r, c) in enumerate(zip(rs, classes)):
        blocks.append([f"input {k}: {_worst_answer(args, r, c)}"] + _crash_set_lines(args, r, c)
                      + ([f"  {r.reason}"] if r.status == "unknown" else []))
    out.write("\n".join(summarized_blocks(blocks, args.wide, keep=[] if at is None else [at])) + "\n")
    return 0


def _value(v, exact: bool) -> str:
    """One exact value: 6 significant digits (``--exact``: the rational or every re-checked digit).

    Examples
    --------
    >>> _value(sp.Rational(95, 12), False), _value(sp.Rational(95, 12), True)
    ('7.91667', '95/12')
    """
    return number(v, exact)


def _crash_set_text(crash_set, wide: bool) -> str:
    """The crash set, its first 8 neurons and a count unless ``wide``.

    Examples
    --------
    >>> _crash_set_text([(1, k) for k in range(10)], False)
    '(1,0), (1,1), (1,2), (1,3), (1,4), (1,5), (1,6), (1,7), … (10 neurons)'
    """
    cs = list(crash_set)
    if wide or len(cs) <= 9:
        return neuron_list(cs)
    return neuron_list(cs[:8]) + f", … ({len(cs)} neurons)"


def _worst_answer(args, r, classes) -> str:
    """The plain answer of ``symft worst`` in one line."""
    v = None if r.worst_delta is None else _value(r.worst_delta, args.exact)
    if r.status == "unknown":
        return "unknown: no answer within the limits (unknown is never safe; see the reason below)"
    if args.class_change:
        if r.status == "proved":
            return "no: no allowed crash set changes the predicted class (proved)"
        return (f"yes: a crash set changes the predicted class from {classes.get('clean_class')} to "
                f"{classes.get('new_class')} (found, re-checked)")
    if args.epsilon is not None:
        if r.status == "proved":
            return f"no: no allowed crash set reaches |Δ_out| ≥ {args.epsilon} (proved)"
        return f"yes: a crash set reaches |Δ_out| = {v} ≥ {args.epsilon} (found, re-checked)"
    eq = "=" if args.exact else "≈"
    if r.status == "proved":
        return f"the largest output change: max |Δ_out| {eq} {v} (proved)"
    low = v if args.exact else rounded(r.worst_delta, "down")
    return f"the largest output change: max |Δ_out| ≥ {low} (found; not proved to be the largest)"


# ---------------------------------------------------------------------- parsers

def add_parsers(sub) -> dict:
    """Add ``reduce``, ``fep`` and ``worst`` to the subparsers ``sub``; returns ``{name: parser}``.

    Examples
    --------
    >>> import argparse
    >>> sub = argparse.ArgumentParser().add_subparsers()
    >>> add_parsers(sub)["worst"].parse_args(["n.json", "--input", "1", "--max-crashes", "1", "--sites", "1"]).sites
    '1'
    """
    out = {}
    s = out["reduce"] = sub.add_parser("reduce", help="decide SUBSET SUM through the network of the NP-hardness "
                                                      "reduction (P1; errata E1, E2)")
    s.add_argument("problem", choices=["subset-sum"], help="the source problem")
    s.add_argument("numbers", nargs="+", metavar="A", help="the integers a_1 … a_M")
    s.add_argument("--literal", action="store_true",
                   help="the construction as printed (ramp from −ε to ε, rule E Δ^k > 0), to show that it fails "
                        "(erratum E1)")
    s.add_argument("--variant", choices=["printed", "ramp-fixed", "corrected", "guarded"], default="corrected",
                   help="network and decision rule (default corrected: fixed ramp, compare E Δ^k with p^M)")
    s.add_argument("--p", default="1/10", type=validated(parse_exact, 0, 1),
                   help="input crash probability (exact; default 1/10)")
    s.add_argument("--k", type=argument_type(parse_integer, 1, MAX_ORDER), default=1,
                   help="the moment E Δ^k (default 1)")
    s.add_argument("--network-method", choices=["auto", "enumeration", "solver"], default="auto",
                   help="enumerate the 2^M crash configurations, or ask Z3 on the crashed network "
                        "(default auto: enumeration up to 16 numbers)")
    s.add_argument("--solver", default="auto", help="SUBSET SUM solver: auto, brute-force, meet-in-the-middle, "
                   "z3, sat:glucose4, sat:cadical153, …")
    s.add_argument("--timeout", type=TIMEOUT, default=60.0,
                   help="solver timeout in seconds (default 60; then the answer is unknown)")
    add_exact_text(s)
    add_json(s, "answer, witness, network_answer, agree, method")

    s = out["fep"] = sub.add_parser("fep", help="Forward Error Propagation: a worst-case bound on the output error "
                                                "for f failed neurons per layer (chains of dense layers)")
    add_net(s)
    s.add_argument("--per-site", dest="failures", metavar="F1,F2,…",
                   help="failed neurons per hidden layer, one count each, or SITE:F,… (unnamed sites: 0)")
    add_alias(s, "--failures", "--per-site")
    s.add_argument("--max-crashes", dest="max", type=argument_type(parse_integer, 0), metavar="F",
                   help="also the largest bound over every way of spreading F failed neurons over the layers")
    add_alias(s, "--max", "--max-crashes")
    s.add_argument("--byzantine", metavar="C", type=validated(parse_exact, 0),
                   help="Byzantine neurons with capacity C (deviation C + sup|y|)")
    s.add_argument("--C", metavar="C", type=validated(parse_exact, 0),
                   help="the deviation bound C of a failed neuron, given directly")
    add_input(s, required=False, help="bound sup|y_l| by the fault-free outputs at these inputs (needed for "
                                      "unbounded activations such as relu)")
    add_exact_text(s)
    add_json(s, "fep")

    s = out["worst"] = sub.add_parser("worst", help="exact worst case of the output error over crash sets "
                                                    "(brute force, SMT or SAT)")
    add_net(s)
    add_input(s, help="one or many inputs: comma-separated numbers, or @FILE (.json, .csv, or .npy); a batch "
                      "answers for each input and over all of them (the largest change, or yes at the first "
                      "input where a crash set is found)")
    s.add_argument("--max-crashes", type=argument_type(parse_integer, 0), required=True, metavar="F",
                   help="at most F crashed neurons")
    s.add_argument("--sites", dest="sites", metavar="S1,S2,…",
                   help="crash sites whose neurons may crash: names or numbers (layer numbers for chains; "
                        "default: the hidden sites)")
    add_alias(s, "--layers", "--sites")
    s.add_argument("--per-site", dest="per_site", metavar="SITE:F,…",
                   help="at most F crashes at that site")
    add_alias(s, "--per-layer", "--per-site")
    s.add_argument("--eps", dest="epsilon", metavar="EPS", type=validated(parse_exact, 0, lo_open=True),
                   help="ask only: is there a crash set with |Δ_out| ≥ EPS?")
    add_alias(s, "--epsilon", "--eps")
    s.add_argument("--class-change", action="store_true", help="ask: can the predicted class change?")
    s.add_argument("--output", type=argument_type(parse_integer, 0), metavar="K",
                   help="one output component (default: the max over all)")
    s.add_argument("--byzantine", metavar="C", type=validated(parse_exact, 0),
                   help="failed neurons send any value in [-C, C] (SMT)")
    s.add_argument("--method", choices=["auto", "smt", "sat", "brute-force"], default="auto",
                   help="back end (default auto: the library picks brute force when cheaper, else SMT or SAT)")
    s.add_argument("--timeout", type=TIMEOUT, metavar="S", help="solver timeout in seconds (then: unknown)")
    s.add_argument("--force", action="store_true", help="allow a very large brute-force enumeration")
    add_exact_text(s)
    add_json(s, "worst_delta (a number; worst_delta_exact as text), crash_set, status, method")
    return out
