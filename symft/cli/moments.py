r"""Commands about the distribution of the output error Δ under random neuron crashes: ``exact``
(enumeration, E Δ(p) as a polynomial), ``enclose`` (a certified enclosure), ``derive`` and ``taylor``
(the first-order Taylor estimate (T1) with its remainder), ``sample`` (Monte Carlo), ``certify``
((ε, δ) certificates), ``report`` and ``check`` (every method side by side).

Each command reads its arguments, calls one library function and formats the result; which
source of moments to use is decided by the library (:func:`symft.engines.moments.moments`).

Examples
--------
>>> import argparse
>>> sub = argparse.ArgumentParser().add_subparsers()
>>> sorted(add_parsers(sub))
['certify', 'check', 'derive', 'enclose', 'exact', 'report', 'sample', 'taylor']
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from ..lazyimport import is_sympy, sympy as sp

from ..errors import InvalidArgument
from ..graph.netfile import load_network
from ..parsing import check_output_file, parse_exact, parse_inputs, parse_integer, parse_real
from ..utils import json_number
from .format import (emit, interval, largest, number, require_finite, rounded, summarized, summarized_blocks,
                     vector)
from .convention import input_rows
from .shapes import (check_json, certify_json, dataset_certify_json, enclose_json, exact_json, model_rows,
                     report_json, sample_json, taylor_json)
from .options import (MAX_SAMPLES, add_input, add_json, add_net, add_order, add_p, add_samples,
                      add_scheduler, add_seed, add_semantics, argument_type, check_input_size, flag_names,
                      load_net_and_inputs,
                      load_net_input_model, open_scheduler, order_or_auto, resolve_order, validated)

__all__ = ["loss_targets", "cmd_sample", "cmd_certify", "cmd_report", "cmd_check", "cmd_exact", "cmd_enclose", "cmd_derive",
           "cmd_taylor", "add_parsers"]


def loss_targets(args, net, inputs):
    """The loss and its target(s) from ``--loss`` / ``--target``: ``{}`` without a loss, else ``{"loss", "target"}``.

    ``--target`` is a class index (``zero_one``, ``cross_entropy``) or ``n_out`` numbers (``squared``), given
    once for every input, or ``@FILE`` with one target per input (a class index per line, or one row of
    numbers per input for ``squared``).  A batch gets a list of targets, one per input.

    Examples
    --------
    >>> import argparse
    >>> from symft.graph.network import random_network
    >>> net = random_network([2, 3, 2], seed=0)
    >>> inputs = parse_inputs("0,1")
    >>> loss_targets(argparse.Namespace(loss="zero_one", target="1"), net, inputs)
    {'loss': 'zero_one', 'target': 1}
    >>> loss_targets(argparse.Namespace(loss=None, target="1"), net, inputs)
    Traceback (most recent call last):
    ...
    symft.errors.InvalidArgument: --target: given without --loss
    """
    loss, text = getattr(args, "loss", None), getattr(args, "target", None)
    if not loss:
        if text is not None:
            raise InvalidArgument("--target: given without --loss")
        return {}
    if text is None:
        raise InvalidArgument("--target: --loss needs a target (a class index, numbers for 'squared', or @FILE "
                              "with one per input)")
    B = inputs.values.shape[0]
    t = parse_inputs(text, "--target")
    rows = t.rows
    if loss == "squared":
        if any(len(r) != net.n_outputs for r in rows):
            raise InvalidArgument(f"--target: expected {net.n_outputs} numbers (one per output) for the squared "
                                  f"loss, got {text!r}")
        targets = [list(r) for r in rows]
    else:
        if text.strip().startswith("@"):
            flat = [v for r in rows for v in r]
            if any(len(r) != 1 for r in rows) and len(rows) != 1:
                raise InvalidArgument("--target: expected one class index per input (a column or one row)")
            rows = [[v] for v in flat]
        elif len(rows) != 1 or len(rows[0]) != 1:
            raise InvalidArgument(f"--target: expected a class index 0 … {net.n_outputs - 1} for --loss {loss}, "
                                  f"or @FILE with one per input, got {text!r}")
        targets = [parse_integer(str(r[0]), "--target", 0, net.n_outputs - 1) for r in rows]
    if len(targets) == 1:
        target = targets[0] if inputs.single else [targets[0]] * B
    elif len(targets) != B:
        raise InvalidArgument(f"--target: {len(targets)} targets for {B} input{'s' if B != 1 else ''}; give one "
                              "per input, or one for all")
    else:
        target = targets[0] if inputs.single else targets
    return {"loss": loss, "target": target}


def cmd_sample(args) -> int:
    """``symft sample NET --input X --p SPEC --samples N --seed S [--method stratified|plain|hybrid [--order K]] [--loss L --target T]``.

    Stratified Monte Carlo by the number of failures by default
    (:func:`symft.engines.stratified.stratified_monte_carlo`); ``--method plain`` is the plain sampler
    (:func:`symft.engines.sampling.monte_carlo`, needed for ``--eps`` and ``--halfwidth``).
    """
    if args.method == "hybrid":
        from .hybrid import check_hybrid_args

        check_hybrid_args(args)
    net, inputs, x, model = load_net_input_model(args)
    loss_kw = loss_targets(args, net, inputs)
    method = args.method
    if method is None:       # the options only the plain sampler has select it; otherwise stratified
        method = ("plain" if (args.eps is not None or args.halfwidth is not None
                              or getattr(args, "scheduler", None) is not None
                              or getattr(args, "workers", None) is not None) and not loss_kw
                  and args.control == "none" else "stratified")
    if args.control != "none" and method == "plain":
        raise InvalidArgument("--control: a control variate of the stratified sampler; drop --method plain")
    if args.order is not None and method != "hybrid":
        raise InvalidArgument("--order: the number of crashes proved by --method hybrid; add --method hybrid")
    if method == "plain":
        if loss_kw:
            raise InvalidArgument("--loss: the plain sampler estimates the output error only; use --method "
                                  "stratified (the default)")
        return _sample_plain(args, net, inputs, x, model)
    if getattr(args, "scheduler", None) is not None or getattr(args, "workers", None) is not None:
        raise InvalidArgument(f"--scheduler: the {method} sampler runs in one process; the plain sampler "
                              "(--method plain, without --loss) spreads its draws over workers")
    for opt, v in (("--eps", args.eps), ("--halfwidth", args.halfwidth)):
        if v is not None:
            raise InvalidArgument(f"{opt}: needs the per-sample variance and tail counts of the plain sampler "
                                  "(--method plain, without --loss)")
    if args.interval != "t":
        raise InvalidArgument(f"--interval: the {method} sampler's intervals are Student t (Welch) and "
                              "Clopper–Pearson; --interval applies to --method plain")
    if method == "hybrid":
        from .hybrid import sample_hybrid

        return sample_hybrid(args, net, inputs, model, loss_kw)
    return _sample_stratified(args, net, inputs, model, loss_kw)


def _sample_stratified(args, net, inputs, model, loss_kw) -> int:
    from ..engines.stratified import stratified_monte_carlo

    rows = [inputs.values[0]] if inputs.single else list(inputs.values)
    targets = [loss_kw.get("target")] if inputs.single else (loss_kw.get("target") or [None] * len(rows))
    control = None if args.control == "none" else args.control.replace("-", "_")
    rs = [stratified_monte_carlo(net, xb, model, args.samples, args.seed, loss=loss_kw.get("loss"), target=tb,
                                 confidence=args.confidence, control=control,
                                 progress=None if not args.json else False)
          for xb, tb in zip(rows, targets)]
    for r in rs:
        require_finite({k: getattr(r, k) for k in ("mean", "ci_low", "ci_high")}, "stratified Monte Carlo")
    if args.json:
        ds = [r.as_dict() for r in rs]
        if inputs.single:
            d = ds[0]
        else:
            d = {k: [e[k] for e in ds] for k in ("mean", "ci_low", "ci_high", "standard_error", "change",
                                                 "change_low", "change_high", "method", "crashed_samples",
                                                 "enumerated_configurations", "warnings", "strata")}
            d["crashed_samples"] = sum(d["crashed_samples"])
            d["crashed_samples_per_input"] = [e["crashed_samples"] for e in ds]
            d["method"] = "enumerated" if set(d["method"]) == {"enumerated"} else "statistical"
            d.update({k: ds[0][k] for k in ("statistic", "interval", "confidence", "seed", "samples", "p_crash")})
        d["sampler"] = "stratified"
        if loss_kw:
            d["loss"] = loss_kw["loss"]
        emit(sample_json(d, model), args)
        return 0
    out = sys.stdout
    names = ["loss change"] if loss_kw else _names(net)
    what = f"E Δ_loss ({loss_kw['loss']} loss)" if loss_kw else "E Δ"
    r0 = rs[0]
    means = [np.ravel(r.mean) for r in rs]
    b, k = _largest_at(means)
    at = _at(None if inputs.single else b, names, k) if len(names) > 1 or not inputs.single else ""
    kind = (f"statistical, {100 * args.confidence:g}%, seed {args.seed}" if any(r.method != "enumerated" for r in rs)
            else "all configurations enumerated")
    out.write(f"{what} ∈ [{np.ravel(rs[b].ci_low)[k]:.6g}, {np.ravel(rs[b].ci_high)[k]:.6g}]{at} "
              f"({'largest |mean|; ' if at else ''}{kind})\n")
    out.write(f"  stratified Monte Carlo by the number of failures: budget {args.samples} configurations per "
              f"input; {r0.interval} intervals; P(at least one failure) = {r0.p_crash:.6g}\n")
    blocks = []
    for b, r in enumerate(rs):
        lines = [] if inputs.single else [f"input {b}"]
        lines.append(f"  {r.crashed_samples} sampled configurations (each with a failure), "
                     f"{r.enumerated_configurations} enumerated; {r.method}")
        lines.append(f"  {'output':<12} {'mean':>13} {'ci_low':>13} {'ci_high':>13}")
        lines += summarized([f"  {nm:<12} {np.ravel(r.mean)[k]:13.6g} {np.ravel(r.ci_low)[k]:13.6g} "
                             f"{np.ravel(r.ci_high)[k]:13.6g}" for k, nm in enumerate(names)], args.wide, "outputs")
        lines.append(f"  P(prediction changes) = {r.change:.6g} (exact: every configuration enumerated)"
                     if r.change_low == r.change == r.change_high else
                     f"  P(prediction changes) = {r.change:.6g} ∈ [{r.change_low:.6g}, {r.change_high:.6g}]")
        blocks.append(lines)
    out.write("\n".join(summarized_blocks(blocks, args.wide)) + "\n")
    return 0


def _at(b, names, k) -> str:
    """Where a value is: `` at input b, output k`` (no input for one input; a loss is one number, no output).

    Examples
    --------
    >>> _at(2, ["0", "1"], 1), _at(None, ["0", "1"], 0), _at(3, ["loss"], 0)
    (' at input 2, output 1', ' at output 0', ' at input 3')
    """
    parts = ([] if b is None else [f"input {b}"]) + ([] if names[k].startswith("loss") else [f"output {names[k]}"])
    return f" at {', '.join(parts)}" if parts else ""


def _names(net) -> list:
    """The output names of ``net``, or their numbers."""
    return list(net.output_names or [str(k) for k in range(net.n_outputs)])


def _largest_at(rows) -> tuple:
    """``(row, column)`` of the entry of largest magnitude in a list of vectors.

    Examples
    --------
    >>> _largest_at([np.array([0.1, -0.5]), np.array([0.2, 0.3])])
    (0, 1)
    """
    pos, _ = largest([np.ravel(r) for r in rows])
    return pos


def _sample_plain(args, net, inputs, x, model) -> int:
    from ..distributed import monte_carlo

    with open_scheduler(args) as sched:
        r = monte_carlo(net, x, model, args.samples, args.seed, confidence=args.confidence,
                        interval=args.interval, eps=args.eps, show_progress=None if not args.json else False,
                        scheduler=sched)
    require_finite({k: getattr(r, k) for k in ("mean", "var", "std", "ci_low", "ci_high")}, "Monte Carlo")
    needed = None
    if args.halfwidth is not None:
        from ..engines.sampling import samples_for_halfwidth

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
        d["sampler"] = "plain"
        emit(sample_json(d, model), args)
        return 0
    out = sys.stdout
    names = _names(net)
    stats = ("mean", "std", "ci_low", "ci_high")
    rows = [{s_: np.ravel(getattr(r, s_)) for s_ in stats}] if r.single else [
        {s_: np.ravel(getattr(r, s_)[b]) for s_ in stats} for b in range(len(r.mean))]
    b, k = _largest_at([d["mean"] for d in rows])
    many = len(names) > 1 or not r.single
    at = f" at {'' if r.single else f'input {b}, '}output {names[k]}" if many else ""
    out.write(f"E Δ ∈ [{rows[b]['ci_low'][k]:.6g}, {rows[b]['ci_high'][k]:.6g}]{at} "
              f"({'largest |mean|; ' if many else ''}statistical, {100 * r.confidence:g}%, seed {r.seed})\n")
    out.write(f"  plain Monte Carlo: {r.samples} samples, {r.crashed_samples} with at least one failure; "
              f"{r.interval} intervals\n")
    blocks = []
    for b, d in enumerate(rows):
        lines = [] if r.single else [f"input {b}"]
        lines.append(f"  {'output':<10} {'mean':>13} {'std':>12} {'ci_low':>13} {'ci_high':>13}")
        lines += summarized([f"  {nm:<10} {d['mean'][k]:13.6g} {d['std'][k]:12.6g} {d['ci_low'][k]:13.6g} "
                             f"{d['ci_high'][k]:13.6g}" for k, nm in enumerate(names)], args.wide, "outputs")
        if r.eps is not None:
            tails = []
            for k, nm in enumerate(names):
                lo, hi = r.tail_interval(k, b, "abs")
                tails.append(f"  P(|Δ_{nm}| ≥ {r.eps:g}) ∈ [{lo:.6g}, {hi:.6g}]  (Clopper–Pearson)")
            lines += summarized(tails, args.wide, "outputs")
        blocks.append(lines)
    out.write("\n".join(summarized_blocks(blocks, args.wide)) + "\n")
    if needed is not None:
        out.write(f"samples needed for ±{args.halfwidth:g} at {100 * r.confidence:g}% (largest observed "
                  f"variance): {needed}\n")
    return 0


def _certify_dataset(args) -> int:
    """``certify`` over a dataset (``--data``) or on a loss change (``--loss``): D5 over inputs and faults."""
    from ..distributed import dataset_certificate
    from ..faults import NeuronCrash
    from ..parsing import parse_p

    if args.dataset is not None and args.input is not None:
        raise InvalidArgument("--input: give either --input (one input) or --data (a dataset), not both")
    parse_exact(args.delta, "--delta", 0, 1, lo_open=True, hi_open=True)
    if args.inequality == "chebyshev":
        raise InvalidArgument("--inequality: with --data or --loss the per-input moment bounds use Cantelli's "
                              "inequality only; drop --inequality chebyshev")
    if args.alpha is not None:
        raise InvalidArgument("--alpha: only the Taylor estimate alone (--source t1, one input) uses α")
    if args.dataset is not None:
        from ..io.datasets import load_dataset

        net = load_network(args.net)
        with flag_names(data="--data"):
            data = load_dataset(args.dataset, net)
        if args.target is not None:
            raise InvalidArgument("--target: with --data the targets are the dataset's labels; drop --target")
        X, y, where = data.X, data.y, f"the empirical distribution of the {data.X.shape[0]} inputs of {data.name}"
    else:
        if args.population_confidence is not None:
            raise InvalidArgument("--population-confidence: needs --data (a sample of inputs)")
        net, inputs = load_net_and_inputs(args)
        if args.target is None:
            raise InvalidArgument("--target: --loss needs the target class (an index 0 … n_out − 1, or @FILE with "
                                  "one per input)")
        X, y = inputs.values, np.array(_class_targets(args.target, net, len(inputs.rows)))
        where = "the one input"
    if args.source == "t1":
        from ..analysis.dataset_certify import usable_sources

        ok = usable_sources(net, args.loss)
        raise InvalidArgument(f"--source: t1 is an approximation (no bound) and cannot be aggregated; use "
                              f"{', '.join(ok[:-1])} or {ok[-1]}")
    model = NeuronCrash(parse_p(args.p, net), args.semantics).check(net)
    samples = args.samples if args.samples is not None else (20_000 if args.dataset is not None else 100_000)
    flags = flag_names(source="--source", eps="--eps", delta="--delta", sided="--sided", loss="--loss", top="--top",
                       order="--order", samples="--samples", seed="--seed", confidence="--confidence",
                       population_confidence="--population-confidence", model="--p",
                       X="--data" if args.dataset is not None else "--input",
                       y="--data" if args.dataset is not None else "--target")
    # a batch of --input rows: each input is certified on its own (--data: over the inputs as well)
    parts = [(X, y)] if args.dataset is not None or X.shape[0] == 1 else [(X[b:b + 1], y[b:b + 1])
                                                                          for b in range(X.shape[0])]
    confidence = args.confidence if len(parts) == 1 else 1 - (1 - args.confidence) / len(parts)
    with open_scheduler(args) as sched, flags:
        cs = [dataset_certificate(net, Xb, model, args.eps, args.delta, y=yb, loss=args.loss, source=args.source,
                                  sided=args.sided, order=resolve_order(args.order, net, model, X.shape[0]),
                                  samples=samples, seed=args.seed,
                                  confidence=confidence, population_confidence=args.population_confidence,
                                  top=args.top, force=args.force,
                                  scheduler=None if sched.kind == "inprocess" else sched) for Xb, yb in parts]
    if len(cs) > 1:
        return _loss_certify_batch(args, cs, model, samples)
    c = cs[0]
    if args.json:
        d = c.as_dict()
        d.update({"command": "certify", "data": args.dataset, "model": model_rows(model),
                  "distribution": "empirical" if args.dataset is not None else "one input"})
        emit(dataset_certify_json(d), args)
        return 0
    out = sys.stdout
    iv = interval(c.bound_lo, c.bound_hi)
    kind = {"exact": "exact", "rigorous": "proved", "statistical": f"statistical, {100 * (c.confidence or 0):g}% "
            "confidence over the sampling, not a proof"}[c.method]
    out.write(f"{c.verdict.upper() if c.verdict == 'certified' else c.verdict}: "
              f"{c.as_dict()['claim']}\n")
    out.write(f"probability  {iv}  ({kind})\n")
    out.write(f"over         {where}\n")
    if c.population is not None:
        pp = c.population
        out.write(f"population   {pp['verdict']}: probability ≤ {rounded(pp['bound_hi'], 'up')} with {100 * pp['confidence']:g}% "
                  f"confidence ({pp['label']}; {pp['method']}; inputs assumed i.i.d.)\n")
        if pp["decide"]:
            out.write(f"             could decide: {pp['decide']}\n")
    out.write("per input    " + ", ".join(f"{k} {v}" for k, v in c.methods.items()) + " (method: inputs)\n")
    if c.method == "statistical" or "statistical" in c.methods:
        out.write(f"sampling     {samples} configurations per input, seed {args.seed}\n")
    if c.top:
        out.write("largest      " + ", ".join(f"input {t['index']}: {rounded(t['bound_hi'], 'up')}" for t in c.top) + "\n")
    if c.decide:
        out.write(f"could decide {c.decide}\n")
    for a in c.assumptions:
        out.write(f"assumes      {a}\n")
    for n in c.notes:
        out.write(f"note         {n}\n")
    out.write(f"time         {c.seconds:.3g} s\n")
    return 0


def _class_targets(text, net, n: int) -> list:
    """``--target`` of ``certify --loss``: a class index for every input, or ``@FILE`` with one per input.

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> _class_targets("1", random_network([2, 3, 2], seed=0), 3)
    [1, 1, 1]
    """
    rows = parse_inputs(text, "--target").rows
    vals = [v for r in rows for v in r]
    if len(vals) == 1:
        vals = vals * n
    if len(vals) != n:
        raise InvalidArgument(f"--target: {len(vals)} classes for {n} input{'s' if n != 1 else ''}; give one per "
                              "input (@FILE), or one for all")
    return [parse_integer(str(int(v)) if isinstance(v, float) and v.is_integer() else str(v), "--target", 0,
                          net.n_outputs - 1) for v in vals]


def _loss_certify_batch(args, cs, model, samples) -> int:
    """``certify --loss`` on a batch of inputs: certified when every input is, naming the first that is not."""
    n = len(cs)
    first = next((b for b, c in enumerate(cs) if c.verdict != "certified"), None)
    verdict = ("certified" if first is None else
               "not certified" if any(c.verdict == "not certified" for c in cs) else "undecided")
    if verdict == "not certified":
        first = next(b for b, c in enumerate(cs) if c.verdict == "not certified")
    worst = max(range(n), key=lambda b: cs[b].bound_hi)
    d0 = cs[0].as_dict()
    claim = f"{d0['claim']}, at each of the {n} inputs"
    if args.json:
        rows = [dataset_certify_json(c.as_dict()) for c in cs]
        shared = ("claim", "eps", "eps_exact", "delta", "delta_exact", "sided", "loss", "distribution", "n_inputs",
                  "population", "assumptions")
        top = dataset_certify_json({k: d0[k] for k in ("eps", "delta", "sided", "loss")})
        top.update({"claim": claim, "verdict": verdict, "certified": first is None, "input": first,
                    "bound_hi": cs[worst].bound_hi, "worst_input": worst,
                    "method": ", ".join(dict.fromkeys(c.method for c in cs)), "distribution": "each input",
                    "n_inputs": n, "assumptions": d0["assumptions"], "model": model_rows(model),
                    "per_input": input_rows([{k: v for k, v in r.items() if k not in shared} for r in rows])})
        emit(top, args)
        return 0
    out = sys.stdout
    head = "CERTIFIED" if first is None else f"{verdict.upper()} at input {first}"
    out.write(f"{head}: {claim}  (largest bound {rounded(cs[worst].bound_hi, 'up')} at input {worst})\n")
    blocks = [[f"input {b}: {c.verdict}, probability {interval(c.bound_lo, c.bound_hi)} ({c.method})"]
              for b, c in enumerate(cs)]
    keep = [worst] + ([] if first is None else [first])
    out.write("\n".join(summarized_blocks(blocks, args.wide, head=4, tail=2, keep=keep)) + "\n")
    if any(c.method == "statistical" for c in cs):
        out.write(f"sampling     {samples} configurations per input, seed {args.seed}; confidence "
                  f"{args.confidence:g} over all {n} inputs (Bonferroni)\n")
    for a in cs[0].assumptions:
        out.write(f"assumes      {a}\n")
    return 0


def cmd_certify(args) -> int:
    """``symft certify NET --input X --p SPEC --eps E --delta D``: an (ε, δ) certificate.

    With ``--data D`` the claim is over the inputs of the dataset as well (D5 as written), and with
    ``--loss L`` it is on the loss change (:func:`symft.analysis.dataset_certify.dataset_certificate`).
    """
    from ..analysis.certify import certify

    if getattr(args, "dataset", None) is not None or getattr(args, "loss", None) is not None:
        return _certify_dataset(args)
    if args.input is None:
        raise InvalidArgument("--input: expected an input (--input X, or a batch @FILE with one per row), or a "
                              "dataset (--data D)")
    if getattr(args, "scheduler", None) is not None or getattr(args, "workers", None) is not None:
        raise InvalidArgument("--scheduler: certify runs on a cluster over a dataset (--data D) or with --loss; "
                              "one input's certificate runs in this process")
    for opt, v in (("--population-confidence", args.population_confidence), ("--target", args.target)):
        if v is not None:
            raise InvalidArgument(f"{opt}: needs {'--data' if opt.startswith('--pop') else '--loss'}")
    if args.samples is None:
        args.samples = 100_000
    net, inputs, x, model = load_net_input_model(args)
    n = len(inputs.rows)
    kw = {}
    if args.alpha is not None:
        p_max = max((float(q) for _, q in model.p), default=0.0)
        if not args.alpha > p_max:
            raise InvalidArgument(f"--alpha: P3 needs p < α < 1, got α = {args.alpha:g} with p = {p_max:g}")
        kw["alpha"] = args.alpha
    if args.source == "statistical":        # a batch: Bonferroni over the inputs, --confidence for all of them
        kw.update(samples=args.samples, seed=args.seed,
                  confidence=args.confidence if n == 1 else 1 - (1 - args.confidence) / n)
    order = resolve_order(args.order, net, model, n)
    with flag_names(eps="--eps", delta="--delta", source="--source", inequality="--inequality", sided="--sided",
                    order="--order", alpha="--alpha", samples="--samples", seed="--seed", confidence="--confidence"):
        cs = [certify(net, xe, model, args.eps, args.delta, source=args.source, inequality=args.inequality,
                      sided=args.sided, order=order, **kw) for xe in inputs.rows]
    if inputs.single:
        return _certify_one(args, cs[0])
    return _certify_batch(args, cs)


def _certify_kind(c) -> str:
    return ("rigorous" if c.rigorous else "statistical, not a proof" if c.source == "monte-carlo"
            else "approximation, not a proof")


def _certify_one(args, c) -> int:
    if args.json:
        emit(certify_json(c.as_dict()), args)
        return 0
    out = sys.stdout
    d = c.as_dict()
    kind = _certify_kind(c)
    bound = rounded(c.delta_bound, "up")
    out.write(f"{'CERTIFIED' if c.certified else 'NOT CERTIFIED'}: {d['claim']}  (bound {bound}; {kind})\n")
    out.write(f"claim        {d['claim']}\n")
    out.write(f"certified    {'YES' if c.certified else 'no'}   (δ bound {bound})\n")
    out.write(f"method       {c.method}\n")
    out.write(f"rigorous     {'yes' if c.rigorous else ('no — statistical' if c.source == 'monte-carlo' else 'NO — approximation')}\n")
    if c.copies_needed is not None and not c.certified:
        out.write(f"median trick {c.copies_needed} independent copies reach δ (exact binomial tail)\n")
    if args.source == "statistical" or c.source == "monte-carlo":
        out.write(f"sampling     {args.samples} Monte Carlo draws given a failure, seed {args.seed}\n")
    for a in c.assumptions:
        out.write(f"assumes      {a}\n")
    for n in c.notes:
        out.write(f"note         {n}\n")
    out.write(f"network      sha256 {c.network_sha256}\n")
    return 0


def _certify_batch(args, cs) -> int:
    """Certificates of a batch of inputs: certified when every input is; the first input that is not named.

    Each input has its own claim (the probability is over the crashes at that input; ``--data`` is the
    claim over a dataset's inputs as well).
    """
    n = len(cs)
    first = next((b for b, c in enumerate(cs) if not c.certified), None)
    worst = max(range(n), key=lambda b: cs[b].delta_bound)
    d0 = cs[0].as_dict()
    claim = f"{d0['claim']}, at each of the {n} inputs"
    rigorous = all(c.rigorous for c in cs)
    methods = list(dict.fromkeys(c.method for c in cs))
    if args.json:
        top = certify_json({k: d0[k] for k in ("eps", "delta", "sided")})
        top.update({"claim": claim, "certified": first is None, "input": first, "delta_bound": cs[worst].delta_bound,
                    "worst_input": worst, "method": ", ".join(methods), "rigorous": rigorous,
                    "source": ", ".join(dict.fromkeys(c.source for c in cs)), "network_sha256": cs[0].network_sha256,
                    "per_input": input_rows([_certify_row(certify_json(c.as_dict())) for c in cs])})
        emit(top, args)
        return 0
    out = sys.stdout
    kind = _certify_kind(cs[worst]) if len({_certify_kind(c) for c in cs}) == 1 else "mixed: see each input"
    bound = rounded(cs[worst].delta_bound, "up")
    verdict = ("CERTIFIED" if first is None else
               f"NOT CERTIFIED at input {first} ({sum(not c.certified for c in cs)} of {n} inputs not certified)")
    out.write(f"{verdict}: {claim}  (largest bound {bound} at input {worst}; {kind})\n")
    out.write(f"method       {', '.join(methods)}   rigorous: {'yes' if rigorous else 'no'}\n")
    if any(c.source == "monte-carlo" for c in cs):
        out.write(f"sampling     {args.samples} Monte Carlo draws given a failure per input, seed {args.seed}; "
                  f"confidence {args.confidence:g} over all {n} inputs (Bonferroni)\n")
    mixed = len(methods) > 1
    blocks = [[f"input {b}: {'certified' if c.certified else 'NOT certified'}, δ bound {rounded(c.delta_bound, 'up')}"
               + (f" ({c.method}{'' if c.rigorous else '; not rigorous'})" if mixed else "")
               + ("" if c.certified or c.copies_needed is None else f"; median trick: {c.copies_needed} copies")]
              for b, c in enumerate(cs)]
    keep = [worst] + ([] if first is None else [first])
    out.write("\n".join(summarized_blocks(blocks, args.wide, head=4, tail=2, keep=keep)) + "\n")
    common = [a for a in cs[0].assumptions if all(a in c.assumptions for c in cs)]
    for a in common:
        out.write(f"assumes      {a}\n")
    noted = range(n) if args.wide else sorted(set(keep))
    for b in noted:
        for t in cs[b].notes:
            out.write(f"note         input {b}: {t}\n")
    if len(noted) < n and any(c.notes for c in cs):
        out.write("note         the notes of the other inputs: --wide or --json\n")
    out.write(f"network      sha256 {cs[0].network_sha256}\n")
    return 0


def _certify_row(d: dict) -> dict:
    """One input's certificate as a row of a batch: what is shared by the batch (the claim, the failure model,
    the versions, the network's hash) is said once, above the rows."""
    return {k: v for k, v in d.items() if k not in ("eps", "eps_exact", "delta", "delta_exact", "sided", "claim",
                                                     "p", "semantics", "versions", "network_sha256")}


def cmd_report(args) -> int:
    """``symft report NET… --input X --p SPEC``: every bound vs exact vs Monte Carlo, rank losses."""
    from ..faults import NeuronCrash
    from ..parsing import parse_p
    from ..analysis.report import compare

    if len(args.net) == 1:
        net, inputs, x, model = load_net_input_model(argparse.Namespace(**{**vars(args), "net": args.net[0]}))
        if isinstance(model, tuple):
            raise InvalidArgument("--synapse-p: the report handles neuron crashes only")
        rep = compare(net, inputs.values, model, samples=args.samples, seed=args.seed, output=args.output)
    else:
        nets = {path: load_network(path) for path in args.net}
        inputs = parse_inputs(args.input, net=next(iter(nets.values())))
        if not inputs.single:
            raise InvalidArgument("--input: with several networks, give one input")
        for path, n in nets.items():
            if n.n_inputs != inputs.values.shape[1]:
                raise InvalidArgument(f"--input: {path} expects {n.n_inputs} numbers, got {inputs.values.shape[1]}")
        model = lambda n: NeuronCrash(parse_p(args.p, n), args.semantics).check(n)  # noqa: E731
        rep = compare(nets, inputs.values[0], model, samples=args.samples, seed=args.seed, output=args.output)
    require_finite({"monte_carlo.mean": rep.mc_mean, "monte_carlo.ci_low": rep.mc_low,
                     "monte_carlo.ci_high": rep.mc_high}, "report")
    if args.figure:
        rep.figure(args.figure)
    if args.json:
        d = rep.as_dict()
        if args.figure:
            d["figure"] = args.figure
        emit(report_json(d), args)
        return 0
    sys.stdout.write(_report_text(rep, args.wide) + "\n")
    if args.figure:
        sys.stdout.write(f"figure written to {args.figure}\n")
    return 0


def cmd_check(args) -> int:
    """``symft check NET --input X --p SPEC``: do T1, exact/enclosure and Monte Carlo agree?

    With a batch of inputs each input is checked (the same seed and samples each); the verdict is the
    conjunction — ``disagree`` if any input disagrees, ``agree`` if every input agrees, else
    ``inconclusive`` — naming the first input that does not agree.  The statistical threshold is
    Bonferroni-corrected over the inputs too, so a false alarm is no likelier than for one input.
    """
    from ..analysis.report import check

    net, inputs, x, model = load_net_input_model(args)
    if isinstance(model, tuple):
        raise InvalidArgument("--synapse-p: check handles neuron crashes only")
    order = resolve_order(args.order, net, model, len(inputs.rows))
    confidence = 0.999 if inputs.single else 1 - 0.001 / len(inputs.rows)   # check's 0.999 over the batch
    rs = [check(net, xb, model, samples=args.samples, seed=args.seed, order=order, confidence=confidence)
          for xb in inputs.rows]
    for b, r in enumerate(rs):
        where = "" if inputs.single else f"per_input[{b}]."
        require_finite({f"{where}comparisons[{i}].{k}": c[k] for i, c in enumerate(r.comparisons)
                        for k in ("value_a", "value_b") if k in c}, "check")
    verdict, first = _batch_verdict([r.verdict for r in rs])
    if args.json:
        if inputs.single:
            emit(check_json(rs[0].as_dict()), args)
        else:
            r0 = rs[0].as_dict()
            emit({"verdict": verdict, "input": first, "threshold": r0["threshold"], "samples": r0["samples"],
                  "seed": r0["seed"], "per_input": input_rows([check_json(r.as_dict()) for r in rs])}, args)
        return 0
    sites = ", ".join(f"p = {q} at {k}" for k, q in model.p)
    setting = (f"setting: {sites}, {model.semantics}; enclosure order ≥ {order}; "
               f"{args.samples} samples, seed {args.seed}")
    if inputs.single:
        sys.stdout.write(_check_text(rs[0], setting, args.wide) + "\n")
        return 0
    n = len(rs)
    head = {"agree": f"AGREE at all {n} inputs",
            "disagree": f"DISAGREE at input {first} (the first of {sum(r.verdict == 'disagree' for r in rs)} "
                        f"of {n} inputs that disagree)",
            "inconclusive": f"INCONCLUSIVE at input {first} (the first of "
                            f"{sum(r.verdict != 'agree' for r in rs)} of {n} inputs without agreement)"}[verdict]
    why = rs[first if first is not None else 0].summary().split(": ", 1)[-1]
    lines = [f"{head}: {why}", setting]
    common = [t for t in rs[0].notes if all(t in r.notes for r in rs)]     # said once, after the inputs
    blocks = []
    for b, r in enumerate(rs):
        shown = [c for c in r.comparisons if args.wide or c["status"] != "agree"]
        blocks.append([f"input {b}: {r.summary()}"]
                      + [f"  output {c['output']} {c['quantity']:<4}  {c['a']}: {_comparison_detail(c)}"
                         + ("" if c.get("z") is None else f"  z = {c['z']:+.2f}") + f"  → {c['status']}"
                         for c in shown]
                      + [f"  note: {t}" for t in r.notes if t not in common])
    lines += summarized_blocks(blocks, args.wide, keep=[] if first is None else [first])
    lines += [f"note (every input): {t}" for t in common]
    r0 = rs[0]
    lines.append(f"verdict: {verdict.upper()}  (every input: {_counts([r.verdict for r in rs])}; |z| threshold "
                 f"{r0.threshold:.2f}, Bonferroni over the comparisons and the {n} inputs; {r0.samples} samples "
                 f"per input, seed {r0.seed})")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def _batch_verdict(verdicts) -> tuple:
    """``(verdict, input)``: the conjunction of per-input verdicts and the first input that does not agree.

    Examples
    --------
    >>> _batch_verdict(["agree", "inconclusive", "disagree"])
    ('disagree', 2)
    >>> _batch_verdict(["agree", "agree"]), _batch_verdict(["agree", "inconclusive"])
    (('agree', None), ('inconclusive', 1))
    """
    v = list(verdicts)
    if "disagree" in v:
        return "disagree", v.index("disagree")
    if all(x == "agree" for x in v):
        return "agree", None
    return "inconclusive", next(b for b, x in enumerate(v) if x != "agree")


def _counts(values) -> str:
    """How many of each value, in order of first appearance.

    Examples
    --------
    >>> _counts(["agree", "agree", "disagree"])
    '2 agree, 1 disagree'
    """
    v = list(values)
    return ", ".join(f"{v.count(x)} {x}" for x in dict.fromkeys(v))


#: What each bound of ``report`` is, in plain words (the papers' labels after them); at most 34 columns.
_BOUND_WORDS = {
    "b1_1": "norm propagation, 1-norm (b1; AP1)", "b1_2": "norm propagation, 2-norm (b1; P2)",
    "b1_inf": "norm propagation, max-norm (b1)", "b2": "absolute propagation (b2; AP2)",
    "AP10": "variance recursion, printed (AP10)", "AC1": "product over input crashes (AC1)",
    "T1_mean": "first-order mean (T1)", "T1_var": "first-order variance (T1 with E4)",
    "T1_var_paper": "first-order variance, printed (T1)", "b4": "single crashes only (b4)",
    "b4_paper": "single crashes as coded (b4)", "b4_std": "single-crash std as coded (b4)",
    "b2_std": "abs. propagation std as coded (b2)", "SRDS": "expected error propagation (SRDS)",
}


def _report_text(rep, wide: bool) -> str:
    """``symft report`` as text: the answer in one line, then one row per bound with the value and the
    reference at the first input, the relative error (the median over the inputs, with the rank loss,
    when there are several); ``wide``: every input."""
    import math

    rel = rep.relative_errors()
    cases = list(rep.cases)
    many = len(cases) > 1
    show = range(len(cases)) if wide else range(1)

    def med(errs):
        e = sorted(abs(v) for v in errs if math.isfinite(v))
        return e[len(e) // 2] if e else math.nan

    def pct(e):
        return f"{e:+.0%}" if math.isfinite(e) else "n/a"

    tight = sorted((med(re), n) for (n, _, _, r), re in zip(rep.bounds, rel) if r and math.isfinite(med(re)))
    n_b = sum(1 for b in rep.bounds if b[3])
    line = (f"{n_b} bounds and {len(rep.bounds) - n_b} estimates at {len(cases)} input{'s' if many else ''}"
            + (f"; tightest: {_BOUND_WORDS.get(tight[0][1], tight[0][1])}, {'median ' if many else ''}"
               f"error {pct(tight[0][0])}" if tight else ""))
    head = f"  {'bound or estimate':<34} {'quantity':<8} {'kind':<8}"
    brief = many and not wide                  # the errors only: at the first input, median, rank loss
    for j in show:
        tag = f" {cases[j]}" if wide and many else ""
        head += (f" {'error, ' + cases[j]:>14}" if brief else f" {'value' + tag:>11} {'reference':>11} {'error':>8}")
    if many:
        head += f" {'median':>8} {'rank loss':>9}"
    lines = [line, head]
    for (n, st, q, r), vals, refs, re in zip(rep.bounds, rep.values, rep.reference, rel):
        row = f"  {_BOUND_WORDS.get(n, f'{n} ({st})')[:34]:<34} {q:<8} {'bound' if r else 'estimate':<8}"
        for j in show:
            v, ref, e = vals[j], refs[j], re[j]
            if brief:
                row += f" {pct(e):>14}"
            else:
                row += (f" {v:>11.6g} {ref:>11.6g} {pct(e):>8}" if math.isfinite(v)
                        else f" {'—':>11} {ref:>11.6g} {'':>8}")
        if many:
            rl = rep.rank_loss.get(n)
            row += f" {pct(med(re)):>8} {'—' if rl is None else f'{rl:.2f}':>9}"
        lines.append(row)
    lines.append("  error: (value − reference) / |reference|" + (
        f"; median: of |error| over the {len(cases)} inputs" if many else "")
        + ("; --wide or --json for the values" if brief else ""))
    sources = {}
    for c, src in zip(cases, rep.reference_source):
        sources.setdefault(src, []).append(c)
    lines.append("  reference: " + "; ".join(f"{src}" + (f" ({len(cs)} inputs)" if many else "")
                                              for src, cs in sources.items()))
    kinds = {k for src in rep.reference_source for k in src.split("+")}
    from ..analysis.report import REFERENCE_KINDS

    lines += [f"    {k} = {w}" for k, w in REFERENCE_KINDS.items() if k in kinds]
    mc = [f"    {c}: {m:.6g} [{lo:.6g}, {hi:.6g}]" for c, m, lo, hi in
          zip(cases, rep.mc_mean, rep.mc_low, rep.mc_high)]
    lines.append(f"  Monte Carlo E Δ_{rep.output} ({rep.samples} samples, seed {rep.seed}):"
                 + (mc[0][3:] if not many else ""))
    if many:
        lines += summarized(mc, wide, "inputs", 2, 1)
    lines += [f"  note: {n}" for n in rep.notes]
    return "\n".join(lines)


def _comparison_detail(c) -> str:
    """A comparison of ``check``: its two values, intervals rounded outward (so a proved interval stays true).

    Examples
    --------
    >>> _comparison_detail({"value_a": 0.25, "value_b": [1 / 3, 2 / 3], "detail": "0.25 vs [0.333333, 0.666667]"})
    '0.25 vs [0.333333, 0.666667]'
    >>> _comparison_detail({"value_a": [0.1, 0.3], "value_b": 0.2, "detail": "0.2 ± 0.1 vs 0.2 (gap 0)"})
    '[0.1, 0.3] vs 0.2 (gap 0)'
    """
    def text(v):
        if isinstance(v, (list, tuple)) and len(v) == 2:
            return interval(v[0], v[1])
        return f"{v:.6g}" if isinstance(v, (int, float)) else str(v)

    if "value_a" not in c or "value_b" not in c:
        return str(c.get("detail", ""))
    detail = str(c.get("detail", ""))
    extra = detail[detail.index(" ("):] if " (" in detail else ""
    return f"{text(c['value_a'])} vs {text(c['value_b'])}{extra}"


def _check_text(r, setting: str, wide: bool) -> str:
    """``symft check`` as text: the verdict in one line, the setting, then the comparisons (without ``wide``:
    every one that does not agree, those of the first output, and a count of the others)."""
    lines = [r.summary(), setting]
    rows = []
    for c in r.comparisons:
        z = "" if c.get("z") is None else f"  z = {c['z']:+.2f}"
        rows.append((c, f"output {c['output']} {c['quantity']:<4}  {c['a']}: {_comparison_detail(c)}{z}  "
                        f"→ {c['status']}"))
    first = rows[0][0]["output"] if rows else None
    shown = [t for c, t in rows if wide or c["status"] != "agree" or c["output"] == first]
    lines += shown
    if len(shown) < len(rows):
        outs = sorted({c["output"] for c, t in rows if t not in shown}, key=str)
        lines.append(f"… {len(rows) - len(shown)} more comparisons, all agree (outputs {outs[0]} … {outs[-1]}; "
                     "--wide shows them)")
    lines += [f"note: {n}" for n in r.notes]
    from ..analysis.report import REFERENCE_KINDS

    lines.append(f"reference: {r.exact_source} ({REFERENCE_KINDS.get(r.exact_source, 'no reference value')})")
    lines.append(f"verdict: {r.verdict.upper()}  (|z| threshold {r.threshold:.2f}; {r.samples} samples: "
                 f"{r.crashed_samples} Monte Carlo draws given at least one failure, whose probability "
                 f"{r.p_crash:.4g} is computed, not sampled; seed {r.seed})")
    return "\n".join(lines)


# ---------------------------------------------------------------------- exact, enclose

def cmd_exact(args) -> int:
    """``symft exact NET --input X --p SPEC [--order K] [--distribution] [--polynomial]``: exact moments.

    JSON keys (the convention of :mod:`symft.cli.convention`; exact values
    also as text under ``<key>_exact``): ``mean``, ``var``, ``std`` (one
    entry per output; a list per input for a batch), ``method``
    (``"enumeration"`` or ``"enclosure"``), ``configurations``, ``seconds``,
    ``sites``; for enclosures also ``mean_lo``, ``mean_hi``, ``var_lo``,
    ``var_hi``, ``second_lo``, ``second_hi``, ``order``; with
    ``--distribution`` a ``distribution`` object (``atoms``: rows ``delta``,
    ``probability``); with ``--polynomial`` ``polynomial`` (one string per
    output, ``E Δ`` in p), ``coefficients`` (one list per output, increasing
    powers), ``polynomial_second`` (``E Δ²``).
    """
    from ..engines.enclosure import enclosure
    from ..engines.enumeration import enumerate_crashes, error_distribution, mean_polynomial
    from ..faults import NeuronCrash
    from ..parsing import parse_p

    net, inputs = load_net_and_inputs(args)
    probs = parse_p(args.p, net, allow_symbols=bool(args.polynomial))
    symbolic = any(is_sympy(q) and q.free_symbols for q in probs.values())
    x = inputs.rows[0] if inputs.single else inputs.rows
    exact = True if args.exact else (False if args.float else None)
    loss_kw = loss_targets(args, net, inputs)
    distributed = getattr(args, "scheduler", None) is not None or getattr(args, "workers", None) is not None
    if distributed and (args.order is not None or args.distribution or args.polynomial or symbolic):
        raise InvalidArgument("--scheduler: exact runs the enumeration of E Δ and Var Δ (numeric p) on a cluster; "
                              "--order, --distribution, --polynomial and symbolic p run in this process")
    out = {}
    text = []
    _budget(args)
    if args.loss and (args.width is not None or args.time is not None):
        raise InvalidArgument(f"{'--width' if args.width is not None else '--time'}: not available with --loss "
                              "(give a fixed --order K)")
    if args.order is not None and args.loss:
        if symbolic:
            raise InvalidArgument("--order: an enclosure needs numeric probabilities")
        model = NeuronCrash(probs, args.semantics)
        if args.loss == "zero_one":
            out.update(_zero_one_enclosure(net, inputs, loss_kw["target"], model,
                                           None if args.order == "auto" else args.order, args.force))
            what = "zero-one loss change (wrong under crashes minus wrong without)"
        else:
            from ..analysis.loss_bounds import loss_mean_enclosure

            out.update(loss_mean_enclosure(net, inputs.values[0] if inputs.single else inputs.values, model,
                                           args.loss, loss_kw["target"], order=args.order, force=args.force))
            what = (f"{args.loss.replace('_', '-')} loss change (from proved intervals of E Δ and E Δ² at the "
                    "outputs)")
        text.append(f"{what}, {out['method']}, up to {out['order']} crashes evaluated:")
        for b, (lo, hi) in enumerate(zip(out["loss_mean_lo"], out["loss_mean_hi"])):
            text.append(f"  {'' if inputs.single else f'input {b}: '}E Δ_loss ∈ {interval(lo, hi)}")
    elif args.order is not None:
        if symbolic:
            raise InvalidArgument("--order: an enclosure needs numeric probabilities")
        order = args.order
        r = enclosure(net, inputs.values[0] if inputs.single else inputs.values,
                      NeuronCrash(probs, args.semantics), order=order, force=args.force,
                      progress=None if not args.json else False, **_budget(args))
        out.update(r.as_dict())
        text += _enclosure_lines(r, net, args.wide)
    elif not symbolic:
        if distributed:
            from ..distributed import enumerate_crashes as enumerate_on

            with open_scheduler(args) as sched:
                r = enumerate_on(net, x, NeuronCrash(probs, args.semantics), exact=exact, force=args.force,
                                 scheduler=sched, **loss_kw)
        else:
            r = enumerate_crashes(net, x, NeuronCrash(probs, args.semantics), exact=exact, force=args.force,
                                  progress=None if not args.json else False, **loss_kw)
        out.update(r.as_dict())
        require_finite({k: out[k] for k in ("mean", "var", "std") if k in out}, "exact enumeration")
        if args.loss:
            out["loss"], out["loss_mean"], out["loss_var"] = args.loss, out["mean"], out["var"]
        names = ["loss"] if args.loss else _names(net)
        means = [r.mean] if inputs.single else list(r.mean)
        vars_ = [r.var] if inputs.single else list(r.var)
        stds = [r.std] if inputs.single else list(r.std)
        ex, wide = bool(args.exact), args.wide
        b, k = _largest_at([[float(v) for v in np.ravel(m)] for m in means])
        at = (f" at {'' if inputs.single else f'input {b}, '}output {names[k]} (the largest |E Δ|)"
              if len(names) > 1 or not inputs.single else "")
        what = "E Δ_loss" if args.loss else "E Δ"
        eq = "=" if ex else "≈"
        text.append(f"{what} {eq} {number(np.ravel(means[b])[k], ex)}, Var {eq} {number(np.ravel(vars_[b])[k], ex)}"
                    f"{at}  ({'exact: rational arithmetic' if r.exact else 'float64, rounding not bounded'})")
        text.append(f"  every crash configuration evaluated: {r.configurations} per input, {r.seconds:.3g} s")
        w = 24 if ex else 13
        blocks = []
        for b, (m, v, s_) in enumerate(zip(means, vars_, stds)):
            m, v, s_ = np.ravel(m), np.ravel(v), np.ravel(s_)
            lines = [] if inputs.single else [f"input {b}"]
            lines.append(f"  {'output':<10} {what:>{w}} {'Var Δ':>{w}} {'std Δ':>13}")
            lines += summarized([f"  {nm:<10} {number(m[k], ex):>{w}} {number(v[k], ex):>{w}} {float(s_[k]):13.6g}"
                                 for k, nm in enumerate(names)], wide, "outputs")
            blocks.append(lines)
        text += summarized_blocks(blocks, wide)
    if args.distribution:
        if symbolic:
            raise InvalidArgument("--distribution: needs numeric probabilities")
        d = error_distribution(net, x, NeuronCrash(probs, args.semantics), exact=exact, force=args.force,
                               progress=None if not args.json else False, **loss_kw)
        ds = [d] if inputs.single else list(d)
        out["distribution"] = ds[0].as_dict() if inputs.single else [e.as_dict() for e in ds]
        blocks = [_distribution_lines(e, None if inputs.single else b, bool(args.exact), args.wide)
                  for b, e in enumerate(ds)]
        text += summarized_blocks(blocks, args.wide)
    if args.polynomial:
        if not inputs.single:
            raise InvalidArgument("--polynomial: expected one input (the polynomial is per input)")
        crash = {l: (q if is_sympy(q) and q.free_symbols else sp.Symbol("p", nonnegative=True))
                 for l, q in probs.items()}
        crash = {l: q for l, q in crash.items() if not (not is_sympy(q) and q == 0)}
        p1 = mean_polynomial(net, x, crash, semantics=args.semantics, exact=exact, force=args.force,
                             progress=None if not args.json else False, **loss_kw)
        p2 = mean_polynomial(net, x, crash, moment=2, semantics=args.semantics, exact=exact, force=args.force,
                             progress=None if not args.json else False, **loss_kw)
        out["polynomial"] = [str(e) for e in p1.exprs]
        out["polynomial_second"] = [str(e) for e in p2.exprs]
        out["polynomial_exact_arithmetic"] = p1.exact
        out["symbols"] = [str(s_) for s_ in p1.symbols]
        if len(p1.symbols) == 1:
            out["coefficients"] = [[json_number(c) for c in p1.coefficients(k)] for k in range(len(p1.exprs))]
        text.append(str(p1))
        text.append(str(p2))
        out.setdefault("method", "enumeration")
    if args.json:
        emit(exact_json(out), args)
        return 0
    sys.stdout.write("\n".join(text) + "\n")
    return 0


def _zero_one_enclosure(net, inputs, target, model, order, force) -> dict:
    """``E Δ`` of the zero-one loss per input, as a proved interval (:func:`symft.analysis.accuracy.accuracy`).

    ``Δ_loss = 1[class under crashes ≠ target] − 1[clean class ≠ target]``, so ``E Δ_loss`` is the clean
    correctness minus the accuracy under crashes, whose interval the accuracy engine proves.
    """
    from ..analysis.accuracy import accuracy

    X = inputs.values
    targets = [target] * X.shape[0] if inputs.single or not isinstance(target, (list, tuple)) else list(target)
    los, his, methods, orders = [], [], [], []
    for b in range(X.shape[0]):
        r = accuracy(net, X[b:b + 1], [int(targets[b])], model, method="rigorous", order=order, force=force, top=0)
        los.append(float(np.nextafter(r.clean_accuracy - r.accuracy_hi, -np.inf)) if r.accuracy_hi != r.clean_accuracy
                   else 0.0)
        his.append(float(np.nextafter(r.clean_accuracy - r.accuracy_lo, np.inf)) if r.accuracy_lo != r.clean_accuracy
                   else 0.0)
        methods.append(r.method)
        orders.append(r.order)
    return {"loss": "zero_one", "loss_mean_lo": los, "loss_mean_hi": his,
            "method": "exact" if set(methods) == {"exact"} else "rigorous", "order": max(o or 0 for o in orders)}


def _budget(args) -> dict:
    """The enclosure's ``width``, ``time_limit`` and ``tail`` from ``--width``, ``--time``, ``--tail``."""
    width, tlim = getattr(args, "width", None), getattr(args, "time", None)
    if (width is not None or tlim is not None) and args.order != "auto":
        opt = "--width" if width is not None else "--time"
        got = "no --order" if args.order is None else f"--order {args.order}"
        raise InvalidArgument(f"{opt}: chooses the order, so it needs --order auto (got {got})")
    return {"width": width, "time_limit": tlim, "tail": getattr(args, "tail", "best"),
            "prune": not getattr(args, "no_prune", False)}


def add_budget(s) -> None:
    """``--width W``, ``--time T`` (with ``--order auto``) and ``--tail`` for the enclosure commands."""
    s.add_argument("--width", type=argument_type(parse_real, 0, lo_open=True), metavar="W",
                   help="with --order auto: the smallest order whose mean intervals are all at most W wide "
                        "(refused up front, with the estimated time, when out of reach)")
    s.add_argument("--time", type=argument_type(parse_real, 0, lo_open=True), metavar="T",
                   help="with --order auto: a budget in seconds; the order is raised while the next one's "
                        "estimated time (from the configurations per second measured here) fits")
    s.add_argument("--tail", choices=("best", "first-order", "pairwise"), default="best",
                   help="bound on the configurations with more crashes: the tighter of both (default), the "
                        "per-neuron first-order bound, or the exact linear part plus pairwise interactions")
    s.add_argument("--no-prune", action="store_true",
                   help="with --width / --time: evaluate every configuration of the orders reached (by default "
                        "the last order's least sensitive ones may be bounded instead, soundly)")


def cmd_enclose(args) -> int:
    """``symft enclose NET --input X --p SPEC [--order K]``: certified bounds on E Δ and Var Δ.

    The configurations with at most ``K`` crashes are enumerated exactly and
    the rest bounded (same JSON keys as ``symft exact --order K``).
    """
    from ..engines.enclosure import enclosure

    net, inputs, x, model = load_net_input_model(args)
    r = enclosure(net, x, model, order=args.order, force=args.force, progress=None if not args.json else False,
                  **_budget(args))
    if args.json:
        emit(enclose_json(r.as_dict()), args)
        return 0
    sys.stdout.write("\n".join(_enclosure_lines(r, net, args.wide)) + "\n")
    return 0


def _enclosure_lines(r, net, wide: bool) -> list:
    """A certified enclosure as text: the widest interval of E Δ first, then a table per input."""
    lo, hi, vlo, vhi = (np.atleast_2d(a) for a in (r.mean_lo, r.mean_hi, r.var_lo, r.var_hi))
    names = _names(net)
    B = lo.shape[0]
    b, k = np.unravel_index(int(np.argmax(hi - lo)), lo.shape)
    at = f" at {'' if B == 1 else f'input {b}, '}output {names[k]}" if lo.size > 1 else ""
    lines = [f"E Δ ∈ {interval(lo[b, k], hi[b, k])}{at}  ({'the widest; ' if at else ''}rigorous: certified "
             "enclosure)",
             f"  order {r.order}: {r.configurations} configurations per input evaluated (probability mass ≥ "
             f"{rounded(float(r.mass), 'down')}), "
             + (f"{r.pruned} more with at most {r.order} crashes pruned (bounded) and " if getattr(r, "pruned", 0)
                else "")
             + f"the rest bounded, floating-point error included; {r.seconds:.3g} s"]
    blocks = []
    for b in range(B):
        rows = [] if B == 1 else [f"input {b}"]
        rows.append(f"  {'output':<10} {'E Δ lo':>13} {'E Δ hi':>13} {'width':>10} {'Var lo':>13} {'Var hi':>13}")
        rows += summarized([f"  {names[k]:<10} {rounded(lo[b, k], 'down'):>13} {rounded(hi[b, k], 'up'):>13} "
                            f"{rounded(hi[b, k] - lo[b, k], 'up', 3):>10} {rounded(vlo[b, k], 'down'):>13} "
                            f"{rounded(vhi[b, k], 'up'):>13}" for k in range(lo.shape[1])], wide, "outputs")
        blocks.append(rows)
    return lines + summarized_blocks(blocks, wide)


def _distribution_lines(e, b, exact: bool, wide: bool) -> list:
    """The law of Δ: its most probable atoms (each a vector over the outputs), how many others and their mass.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> from symft.engines.enumeration import error_distribution
    >>> from symft.faults import NeuronCrash
    >>> d = error_distribution(mean_network(8), [1] * 8, NeuronCrash({0: sp.Rational(1, 2)}), exact=True)
    >>> lines = _distribution_lines(d, None, False, False)
    >>> lines[0], lines[1], lines[-1]
    ('law of Δ: 9 atoms (the 6 most probable)', '  P(Δ = [-0.5]) = 0.273438', '  … 3 more atoms, total probability 0.0390625')
    """
    atoms = list(zip(e.atoms, e.probabilities))
    order = sorted(range(len(atoms)), key=lambda i: -float(atoms[i][1]))
    keep = order if wide or len(order) <= 8 else order[:6]
    head = f"law of Δ{'' if b is None else f' (input {b})'}: {len(atoms)} atoms"
    lines = [head + ("" if len(keep) == len(atoms) else f" (the {len(keep)} most probable)")]
    for i in keep:
        a, w = atoms[i]
        lines.append(f"  P(Δ = {vector(a, exact, wide)}) = {number(w, exact)}")
    if len(keep) < len(atoms):
        rest = sum((atoms[i][1] for i in order[len(keep):]), sp.Integer(0) if exact else 0.0)
        lines.append(f"  … {len(atoms) - len(keep)} more atoms, total probability {number(rest, exact)}")
    return lines


# ---------------------------------------------------------------------- derive, taylor

def cmd_derive(args) -> int:
    """``symft derive NET --p SPEC [--order K] [--input X] [--latex]``: symbolic expansion, T1, remainder.

    Without ``--input`` the expansion is symbolic in the input (symbols ``x_0, x_1, …``).  With a batch
    of inputs it is derived at each input separately: the expansion's coefficients depend on the input
    (and, for piecewise activations such as ReLU, which piece is active), so one result per input.
    """
    from ..parsing import parse_p
    from ..engines.taylor import derive

    net = load_network(args.net)
    probs = parse_p(args.p, net, allow_symbols=True)
    xs, single = [None], True
    if args.input:
        inputs = check_input_size(net, parse_inputs(args.input, net=net))
        xs, single = inputs.rows, inputs.single
    if args.order == "auto":
        raise InvalidArgument("--order: derive has no automatic order; give the order of the Taylor expansion, "
                              "e.g. --order 2")
    ds = [derive(net, probs, x=x, order=args.order, semantics=args.semantics, force=args.force) for x in xs]
    if args.json:
        rows = [_derive_json(d) for d in ds]
        if single:
            emit(rows[0], args)
        else:       # the order and the crash variables ξ (they depend on --p only) are said once
            shared = ("order", "xi") if all(r["xi"] == rows[0]["xi"] for r in rows) else ("order",)
            emit({"order": rows[0]["order"], "exact": all(r["exact"] for r in rows),
                  **({"xi": rows[0]["xi"]} if "xi" in shared else {}),
                  "per_input": input_rows([{k: v for k, v in r.items() if k not in shared} for r in rows])}, args)
        return 0
    texts = [d.latex() if args.latex else str(d) for d in ds]
    if single:
        sys.stdout.write(texts[0] + "\n")
        return 0
    head = "% " if args.latex else ""
    blocks = [[f"{head}input {b}:"] + t.splitlines() for b, t in enumerate(texts)]
    lines = [f"{head}derived at each of the {len(ds)} inputs in turn (the expansion depends on the input)"]
    lines += summarized_blocks(blocks, args.wide, "inputs")
    if args.latex:       # the lines that are not LaTeX are comments
        lines = [f"% {t}" if t.startswith("…") else t for t in lines]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def _derive_json(d) -> dict:
    """One derivation in the JSON convention: the moments are numbers (null while symbols remain) with
    their text under ``<key>_exact``; the expansion is a formula in ξ (text)."""
    e = d.expansion
    return {"order": e.order, "exact": e.exact, "xi": [f"{l}:{i}" for l, i, _ in e.xi],
            "expansion": [str(v) for v in e.polynomials()],
            "mean": [sp.sympify(v) for v in d.moments.mean], "var": [sp.sympify(v) for v in d.moments.var],
            "t1_mean": [sp.sympify(v) for v in d.t1.mean], "t1_var": [sp.sympify(v) for v in d.t1.var],
            "t1_var_paper": [sp.sympify(v) for v in d.t1.var_paper],
            "remainder": None if d.remainder is None else [sp.sympify(v) for v in d.remainder],
            "remainder_note": d.remainder_note}


def cmd_taylor(args) -> int:
    """``symft taylor NET --input X --p SPEC [--json]``: numeric T1 with rigorous remainder bounds."""
    from ..parsing import parse_p
    from ..engines.taylor import t1, t1_loss

    net, inputs = load_net_and_inputs(args)
    probs = parse_p(args.p, net)
    loss_kw = loss_targets(args, net, inputs)
    x = inputs.values[0] if inputs.single else inputs.values
    if loss_kw:
        if loss_kw["loss"] == "zero_one":
            raise InvalidArgument("--loss: the zero-one loss is a step in the outputs, not smooth, so T1 does not "
                                  "apply; use `symft exact --loss zero_one --target T --order K` (a proved "
                                  "interval) or `symft sample --loss zero_one --target T`")
        r = t1_loss(net, x, probs, loss_kw["loss"], loss_kw["target"], semantics=args.semantics,
                    remainder=not args.no_remainder and "auto", force=args.force)
    else:
        r = t1(net, x, probs, semantics=args.semantics, remainder=not args.no_remainder and "auto",
               force=args.force)
    d = r.as_dict()
    require_finite({k: d[k] for k in ("mean", "var", "std") if k in d}, "T1")
    if args.json:
        if loss_kw:
            d["loss"] = loss_kw["loss"]
        emit(taylor_json(d), args)
        return 0
    if args.latex:
        sys.stdout.write(r.latex() + "\n")
        return 0
    sys.stdout.write("\n".join(_taylor_lines(r, ["loss"] if loss_kw else _names(net), loss_kw, args.wide)) + "\n")
    return 0


def _taylor_lines(r, names, loss_kw, wide: bool) -> list:
    """T1 as text: the largest mean with its proved interval first, then a table per input."""
    M, V, VP, S = (np.atleast_2d(a) for a in (r.mean, r.var, r.var_paper, r.std))
    RM = None if r.remainder_mean is None else np.atleast_2d(r.remainder_mean)
    RV = None if r.remainder_var is None else np.atleast_2d(r.remainder_var)
    B = M.shape[0]
    b, k = np.unravel_index(int(np.argmax(np.abs(M))), M.shape)
    what = f"E Δ_loss ({loss_kw['loss']} loss)" if loss_kw else "E Δ"
    at = _at(b if B > 1 else None, names, k) if M.size > 1 else ""
    largest_ = "largest |T1 mean|; " if at else ""
    if RM is not None:
        lo, hi = np.nextafter(M[b, k] - RM[b, k], -np.inf), np.nextafter(M[b, k] + RM[b, k], np.inf)
        first = f"{what} ∈ {interval(lo, hi)}{at}  ({largest_}rigorous: T1 ± its proved remainder)"
    else:
        first = f"{what} ≈ {M[b, k]:.6g}{at}  ({largest_}approximate: T1 alone, no remainder bound)"
    lines = [first, "  crash probabilities " + ", ".join(f"{l}: {q:g}" for l, q in r.p)
             + ("; ± is a proved bound on the distance to the true value" if RM is not None else "")]
    blocks = []
    for b in range(B):
        rows = [] if B == 1 else [f"input {b}"]
        rows.append(f"  {'output':<10} {'T1 mean':>12} {'±':>9} {'T1 var':>12} {'±':>9} {'var, printed':>12} "
                    f"{'std':>10}")
        rows += summarized([f"  {names[k]:<10} {M[b, k]:12.6g} "
                            f"{'—' if RM is None else rounded(RM[b, k], 'up', 3):>9} {V[b, k]:12.6g} "
                            f"{'—' if RV is None else rounded(RV[b, k], 'up', 3):>9} {VP[b, k]:12.6g} "
                            f"{S[b, k]:10.6g}" for k in range(M.shape[1])], wide, "outputs")
        blocks.append(rows)
    lines += summarized_blocks(blocks, wide)
    lines.append("  var, printed: the paper's form p Σ g² (T1 as printed); T1 var has the factor (1 − p) (E4)")
    if r.remainder_note:
        lines.append(f"  remainder: {r.remainder_note}")
    return lines


# ---------------------------------------------------------------------- parsers

def add_parsers(sub) -> dict:
    """Add the commands of this module to the subparsers ``sub``; returns ``{name: parser}``.

    Examples
    --------
    >>> import argparse
    >>> sub = argparse.ArgumentParser().add_subparsers()
    >>> add_parsers(sub)["sample"].parse_args(["n.json", "--input", "1", "--p", "0:0.1", "--seed", "3"]).seed
    3
    """
    out = {}
    s = out["sample"] = sub.add_parser("sample", help="Monte Carlo estimate of the output error under neuron or "
                                                      "synapse crashes, with confidence intervals")
    add_net(s)
    add_input(s)
    add_p(s, required=False)
    s.add_argument("--synapse-p", metavar="SPEC",
                   help="synapse crash probabilities: SITE:P[,…] (the weights into a site; layers 1 … L for chains)")
    add_semantics(s)
    add_samples(s, 100000)
    add_seed(s)
    s.add_argument("--confidence", type=argument_type(parse_real, 0, 1, lo_open=True, hi_open=True), default=0.95,
                   help="level of the intervals (default 0.95)")
    s.add_argument("--method", choices=("stratified", "plain", "hybrid"), default=None,
                   help="stratified: by the number of failures, with exact stratum probabilities (small strata "
                        "enumerated, the others sampled); plain: independent draws given a failure; hybrid: every "
                        "configuration with ≤ K crashes proved (rounding included), the rest sampled by strata — "
                        "reported as proved part + statistical part (default stratified; plain when --eps or "
                        "--halfwidth asks for what only it reports)")
    s.add_argument("--order", metavar="K", type=argument_type(order_or_auto), default=None,
                   help="--method hybrid: prove the configurations with ≤ K crashes (default auto: the largest K "
                        "whose configurations fit in half of --samples)")
    s.add_argument("--loss", choices=("squared", "zero_one", "cross_entropy"),
                   help="estimate the change of the loss instead of the output error (stratified and hybrid)")
    s.add_argument("--target", metavar="T", help="loss target: a class index, numbers for 'squared', or @FILE "
                                                 "with one per input")
    s.add_argument("--control", choices=("none", "single-crash", "first-order"), default="none",
                   help="control variate of the stratified sampler for E Δ and smooth losses: the exact effect of "
                        "each unit failing alone (one pass per unit), or the first-order sensitivities (T1; one reverse "
                        "sweep); "
                        "unbiased, same intervals, often far narrower (default none)")
    s.add_argument("--interval", choices=("t", "normal"), default="t",
                   help="quantile of the mean interval (--method plain)")
    s.add_argument("--eps", type=argument_type(parse_real),
                   help="also estimate P(Δ ≥ ε) and P(|Δ| ≥ ε) (Clopper–Pearson intervals; --method plain)")
    s.add_argument("--halfwidth", type=argument_type(parse_real, 0, lo_open=True), metavar="H",
                   help="also report the samples needed for a mean interval of half-width H (--method plain)")
    add_scheduler(s)
    add_json(s, "mean, ci_low, ci_high, crashed_samples, method, confidence, samples, seed (plain: also var, std)")

    s = out["certify"] = sub.add_parser("certify", help="(ε, δ) certificate: P(Δ ≥ ε) ≤ δ for every output, "
                                                        "labelled rigorous or approximate")
    add_net(s)
    add_input(s, required=False, help="one or many inputs, each certified on its own: comma-separated numbers, or "
                                      "@FILE (.json, .csv, or .npy, also shaped like the network's input); "
                                      "--data instead certifies over a dataset's inputs as well")
    # dest "dataset": --data and --input exclude each other (the other commands' --data is "data")
    s.add_argument("--data", dest="dataset", metavar="D",
                   help="certify over a dataset instead of one input: 'digits' (the 8×8 digits' test part) or an "
                        ".npz with arrays X and y; the probability is over the inputs and the crashes (D5)")
    add_p(s)
    add_semantics(s)
    s.add_argument("--population-confidence", type=argument_type(parse_real, 0, 1, lo_open=True, hi_open=True),
                   default=None, metavar="C",
                   help="with --data: also bound the probability over the population the inputs were drawn from "
                        "(i.i.d.), at this confidence over the inputs (e.g. 0.95)")
    s.add_argument("--loss", choices=("zero_one", "squared", "cross_entropy"), default=None,
                   help="certify the loss change instead of the output error (targets: --target, or the labels of "
                        "--data)")
    add_scheduler(s)
    s.add_argument("--target", metavar="K", help="the target class of --loss for one input")
    s.add_argument("--top", type=argument_type(parse_integer, 0, 10 ** 6), default=5, metavar="K",
                   help="with --data: how many inputs with the largest bound to list (default 5)")
    s.add_argument("--force", action="store_true", help="with --data: sample even when the estimated time is long")
    s.add_argument("--eps", required=True, type=validated(parse_exact),
                   help="error threshold ε (P(Δ ≥ ε) ≤ δ for every output)")
    s.add_argument("--delta", required=True, type=validated(parse_exact, 0, 1), help="failure probability δ")
    s.add_argument("--source", choices=("auto", "exact", "enclosure", "taylor", "t1", "statistical"), default="auto",
                   help="moments from exact enumeration, a certified enclosure, the first-order Taylor estimate "
                        "with its remainder bound, or the Taylor estimate (T1) alone (approximate, as printed in "
                        "P5); statistical: Monte Carlo of the event with a Clopper–Pearson bound (never rigorous); "
                        "default auto: the library picks the best available")
    s.add_argument("--inequality", choices=("cantelli", "chebyshev"), default="cantelli",
                   help="tail inequality (Cantelli is one-sided and never worse, see errata E6)")
    s.add_argument("--sided", choices=("upper", "abs"), default="upper",
                   help="the one-sided event Δ ≥ ε (D5) or the two-sided |Δ| ≥ ε")
    add_order(s, 2, "order of the enclosure: configurations with at most K crashes evaluated, the rest bounded")
    add_samples(s, None, "Monte Carlo draws given a failure, for --source statistical (default 100000; "
                         "20000 per input with --data)")
    add_seed(s, "seed of --source statistical")
    s.add_argument("--confidence", type=argument_type(parse_real, 0, 1, lo_open=True, hi_open=True),
                   default=0.99, metavar="C",
                   help="confidence of --source statistical over the sampling (default 0.99)")
    s.add_argument("--alpha", type=argument_type(parse_real, 0, 1, lo_open=True, hi_open=True), default=None,
                   help="α of the crash-count tail bound δ_0 (P3), with p < α < 1 (Taylor estimate alone only; "
                        "default 0.1)")
    add_json(s, "certified, delta_bound, method, rigorous, copies_needed; with --data or --loss: verdict, bound_lo, "
                "bound_hi, method, confidence, methods, population, top")

    s = out["report"] = sub.add_parser("report", help="every bound vs the exact value vs Monte Carlo, with rank "
                                                      "losses")
    s.add_argument("net", metavar="NET", nargs="+",
                   help="network file(s): symft JSON or ONNX; several = compare networks at one input")
    add_input(s)
    add_p(s)
    add_semantics(s)
    add_samples(s, 20000)
    add_seed(s, "seed of the Monte Carlo samples")
    s.add_argument("--output", type=argument_type(parse_integer, 0), default=0, metavar="K",
                   help="output component for per-output bounds (default 0)")
    s.add_argument("--figure", metavar="PNG", type=argument_type(check_output_file),
                   help="also write a matplotlib figure (.png, .pdf, .svg, …; needs symft[plot])")
    add_json(s)

    s = out["check"] = sub.add_parser("check", help="do the Taylor estimate (T1), the exact value (or a certified "
                                                    "enclosure) and Monte Carlo agree? z-scores and a verdict")
    add_net(s)
    add_input(s, help="one or many inputs: comma-separated numbers, or @FILE (.json, .csv, or .npy); a batch "
                      "agrees when every input agrees (the first that does not is named)")
    add_p(s)
    add_semantics(s)
    add_samples(s, 100000)
    add_seed(s, "seed of the Monte Carlo samples")
    add_order(s, 2, "order of the enclosure when enumeration is too large (at least K crashes evaluated)")
    add_json(s, "verdict, comparisons")

    s = out["exact"] = sub.add_parser("exact", help="exact moments of the output error over every crash "
                                                    "configuration (or a certified enclosure)")
    add_net(s)
    add_input(s)
    add_p(s, extra="; with --polynomial P may be a symbol (0:p)")
    add_semantics(s)
    add_order(s, None, "a certified enclosure instead of full enumeration: configurations with at most K "
                       "crashes evaluated exactly, the rest bounded",
              auto="the largest order whose configurations fit in 2^21, or the one that meets --width / --time",
              default_text="default: every configuration, no enclosure")
    add_budget(s)
    s.add_argument("--distribution", action="store_true", help="also print the atoms of Δ and their probabilities")
    s.add_argument("--polynomial", action="store_true", help="print E Δ(p) and E Δ²(p) as polynomials in p")
    s.add_argument("--loss", choices=("squared", "zero_one", "cross_entropy"),
                   help="report the change of the loss instead of the output error")
    s.add_argument("--target", metavar="T", help="loss target: a class index, numbers for 'squared', or @FILE "
                                                 "with one per input")
    g = s.add_mutually_exclusive_group()
    g.add_argument("--exact", action="store_true",
                   help="rational arithmetic (piecewise-linear rational nets), and the text shows the rationals "
                        "(default: 6 significant digits)")
    g.add_argument("--float", action="store_true", help="float64 arithmetic")
    s.add_argument("--force", action="store_true", help="enumerate even above the configuration limit")
    add_scheduler(s)
    add_json(s, "mean, var, std, method, configurations, seconds")

    s = out["enclose"] = sub.add_parser("enclose", help="certified bounds on E Δ and Var Δ: configurations with "
                                                        "at most K crashes exactly, the rest bounded")
    add_net(s)
    add_input(s)
    add_p(s)
    add_semantics(s)
    add_order(s, "auto", "enumerate the configurations with at most K crashes",
              auto="the largest order whose configurations fit in 2^21, or the one that meets --width / --time")
    add_budget(s)
    s.add_argument("--force", action="store_true", help="enumerate even above the configuration limit")
    add_json(s, "mean_lo, mean_hi, var_lo, var_hi, order")

    s = out["derive"] = sub.add_parser("derive", help="symbolic Taylor expansion of the output error, the "
                                                      "first-order estimate (T1) and its remainder")
    add_net(s, "network file: symft JSON (weights may be symbols) or an ONNX model")
    add_p(s, extra="; P may be a symbol (0:p)")
    add_order(s, 2, "order of the Taylor expansion", auto=None)
    add_input(s, required=False,
              help="one or many inputs: comma-separated numbers or @FILE, a batch derived at each input in turn "
                   "(default: symbols x_0, x_1, …)")
    add_semantics(s)
    s.add_argument("--latex", action="store_true", help="print LaTeX")
    s.add_argument("--force", action="store_true", help="expand even when predicted to take longer than --max-time "
                                                        "(it still stops at the limit; --max-time inf for none)")
    add_json(s, "expansion, mean, var, t1_mean, t1_var, remainder")

    s = out["taylor"] = sub.add_parser("taylor", help="the first-order Taylor estimate (T1) of E Δ and Var Δ (one "
                                                      "backward pass) with rigorous remainder bounds")
    add_net(s)
    add_input(s)
    add_p(s)
    add_semantics(s)
    s.add_argument("--loss", choices=("squared", "cross_entropy", "zero_one"),
                   help="the first-order estimate of the change of a smooth loss instead of the output error "
                        "(T1 of the loss; zero_one is not smooth: use exact --order or sample)")
    s.add_argument("--target", metavar="T", help="loss target: a class index, numbers for 'squared', or @FILE "
                                                 "with one per input")
    s.add_argument("--no-remainder", action="store_true", help="skip the remainder bounds (D_1, D_2)")
    s.add_argument("--force", action="store_true", help="compute the remainder even above the size limit")
    s.add_argument("--latex", action="store_true", help="print LaTeX")
    add_json(s, "mean, var, var_paper, std, remainder_mean, remainder_var")
    return out
