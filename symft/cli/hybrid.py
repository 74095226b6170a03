r"""``symft sample --method hybrid``: the configurations with few crashes proved, the rest sampled.

The command reads its arguments (through :mod:`symft.cli.moments`), calls
:func:`symft.analysis.hybrid.hybrid_estimate` once per input and prints both parts: the proved part
``[a, b]`` for the configurations with at most ``K`` crashes, the statistical part (estimate and
interval at the stated confidence) for the rest, and their sum, labelled "proved for ≤ K crashes,
statistical (confidence) for the rest" — never "rigorous".

Examples
--------
>>> import argparse
>>> args = argparse.Namespace(order=None, control="none", loss="zero_one", synapse_p=None)
>>> check_hybrid_args(args)
>>> check_hybrid_args(argparse.Namespace(order=None, control="first-order", loss=None, synapse_p=None))
Traceback (most recent call last):
...
symft.errors.InvalidArgument: --control: the hybrid takes none or single-crash (first-order is for --method stratified)
"""

from __future__ import annotations

import sys

from ..errors import InvalidArgument
from .convention import input_rows
from .format import emit, require_finite
from .shapes import hybrid_json

__all__ = ["check_hybrid_args", "sample_hybrid"]


def check_hybrid_args(args) -> None:
    """Refuse, in one line, the options ``--method hybrid`` cannot honour.

    Examples
    --------
    >>> import argparse
    >>> check_hybrid_args(argparse.Namespace(order=2, control="none", loss=None, synapse_p="1:0.1"))
    Traceback (most recent call last):
    ...
    symft.errors.InvalidArgument: --synapse-p: the hybrid's proved part handles neuron crashes only; use --method stratified
    """
    if getattr(args, "synapse_p", None):
        raise InvalidArgument("--synapse-p: the hybrid's proved part handles neuron crashes only; use --method "
                              "stratified")
    if args.control == "first-order":
        raise InvalidArgument("--control: the hybrid takes none or single-crash (first-order is for --method "
                              "stratified)")
    if args.control != "none" and args.loss == "zero_one":
        raise InvalidArgument("--control: not with --loss zero_one (its Clopper–Pearson intervals need 0/1 draws)")


def sample_hybrid(args, net, inputs, model, loss_kw) -> int:
    """Run the hybrid on every input and print the result (text, or one JSON object with ``--json``).

    Examples
    --------
    >>> import argparse, contextlib, io
    >>> from symft.graph.network import mean_network
    >>> from symft.faults import NeuronCrash
    >>> from symft.parsing import parse_inputs
    >>> args = argparse.Namespace(order=1, samples=200, seed=0, confidence=0.9, control="none", json=False)
    >>> out = io.StringIO()
    >>> with contextlib.redirect_stdout(out):
    ...     code = sample_hybrid(args, mean_network(4), parse_inputs("1,1,1,1"), NeuronCrash({0: 0.1}), {})
    >>> code, "proved for ≤ 1 crashes, statistical (90% confidence) for the rest" in out.getvalue()
    (0, True)
    """
    from ..analysis.hybrid import hybrid_estimate

    rows = [inputs.values[0]] if inputs.single else list(inputs.values)
    targets = [loss_kw.get("target")] if inputs.single else (loss_kw.get("target") or [None] * len(rows))
    order = "auto" if args.order is None else args.order
    control = None if args.control == "none" else args.control.replace("-", "_")
    rs = [hybrid_estimate(net, xb, model, args.samples, args.seed, order=order, loss=loss_kw.get("loss"),
                          target=tb, confidence=args.confidence, control=control)
          for xb, tb in zip(rows, targets)]
    for r in rs:
        require_finite({"low": r.low, "high": r.high, "estimate": r.estimate}, "the hybrid estimate")
    if args.json:
        ds = [r.as_dict() for r in rs]
        d = ds[0] if inputs.single else {"per_input": input_rows(ds), "sampler": "hybrid",
                                         "statistic": ds[0]["statistic"], "confidence": args.confidence,
                                         "seed": args.seed, "samples": args.samples}
        if loss_kw:
            d["loss"] = loss_kw["loss"]
        emit(hybrid_json(d, model), args)
        return 0
    out = sys.stdout
    names = ["loss change"] if loss_kw else (net.output_names or [str(k) for k in range(net.n_outputs)])
    what = f"E Δ_loss ({loss_kw['loss']} loss)" if loss_kw else "E Δ"
    out.write(f"hybrid estimate of {what}: budget {args.samples} configurations per input (seed {args.seed}); "
              f"statistical part at {100 * args.confidence:g}% confidence\n")
    for b, r in enumerate(rs):
        if not inputs.single:
            out.write(f"input {b}\n")
        out.write(f"  proved part: every configuration with ≤ {r.order} crashes ({r.proved_configurations} "
                  f"configurations, probability {r.proved_probability:.10g}), rounding included\n")
        if r.method == "hybrid":
            out.write(f"  statistical part: the rest (probability {r.sampled_probability:.4g}) sampled, "
                      f"{r.sampled_draws} draws in {len(r.strata)} strata by the number of crashes, exact "
                      f"stratum weights; {r.interval} intervals"
                      f"{', single-crash control variate' if r.control else ''}\n")
        else:
            out.write(f"  the rest (probability {r.sampled_probability:.4g}) bounded rigorously, not sampled\n")
        out.write(f"  {'output':<12} {'proved lo':>13} {'proved hi':>13} {'sampled est':>13} {'sampled lo':>13} "
                  f"{'sampled hi':>13} {'combined lo':>13} {'combined hi':>13}\n")
        for k, nm in enumerate(names):
            out.write(f"  {nm:<12} {r.proved_low[k]:13.6g} {r.proved_high[k]:13.6g} {r.stat_mean[k]:13.6g} "
                      f"{r.stat_low[k]:13.6g} {r.stat_high[k]:13.6g} {r.low[k]:13.6g} {r.high[k]:13.6g}\n")
        out.write(f"  combined interval: {r.label}{'' if r.method == 'proved' else ' — not a proof'}\n")
    return 0

