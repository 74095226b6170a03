r"""Commands over a dataset: ``accuracy`` (accuracy and prediction changes under crashes).

Examples
--------
>>> import argparse
>>> sub = argparse.ArgumentParser().add_subparsers()
>>> add_parsers(sub)["accuracy"].parse_args(["net.json", "--data", "digits", "--p", "1e-3"]).method
'auto'
"""

from __future__ import annotations

import sys

from ..faults import NeuronCrash
from ..graph.netfile import load_network
from ..parsing import parse_p
from .format import emit
from .options import (SAMPLES, SEED, add_json, add_net, add_p, add_semantics, argument_type)

__all__ = ["cmd_accuracy", "add_parsers"]

#: How the three kinds of answer are described, in plain words first.
_KIND = {"exact": "exact: every crash configuration evaluated, every class decision proved",
         "rigorous": "rigorous: an interval proved to contain the value (the configurations not evaluated "
                     "count as both right and wrong)",
         "statistical": "statistical: a confidence interval from stratified Monte Carlo, not a proof"}


def _iv(lo, hi) -> str:
    return f"{lo:.6g}" if lo == hi else f"[{lo:.6g}, {hi:.6g}]"


def cmd_accuracy(args) -> int:
    """``symft accuracy NET --data D --p SPEC``: accuracy and prediction changes under crashes over a dataset."""
    from ..analysis.accuracy import accuracy
    from ..io.datasets import load_dataset

    net = load_network(args.net)
    data = load_dataset(args.data, net)
    model = NeuronCrash(parse_p(args.p, net), args.semantics).check(net)
    r = accuracy(net, data.X, data.y, model, method=args.method, order=args.order, n_samples=args.samples,
                 seed=args.seed, confidence=args.confidence, top=args.top, force=args.force)
    if args.json:
        d = r.as_dict()
        d.update({"command": "accuracy", "data": data.name, "p": args.p, "semantics": args.semantics})
        emit(d)
        return 0
    out = sys.stdout
    out.write(f"accuracy under crashes  {_iv(r.accuracy_lo, r.accuracy_hi)}   (clean {r.clean_accuracy:.6g}: "
              f"{r.clean_correct} of {r.n_inputs} inputs of {data.name})\n")
    out.write(f"P(prediction changes)   {_iv(r.change_lo, r.change_hi)}   averaged over the inputs\n")
    level = f", {100 * r.confidence:g}% confidence" if r.confidence is not None else ""
    out.write(f"method                  {_KIND.get(r.method, r.method)}{level}\n")
    if r.order is not None and r.method == "rigorous":
        out.write(f"                        up to {r.order} crashes evaluated; P(more) = {r.tail_probability:.3g}; "
                  f"undecided {r.undecided:.3g}\n")
    if r.method == "statistical":
        out.write(f"                        {r.samples} configurations per input, {r.crashed_samples} with a crash; "
                  f"seed {r.seed}\n")
    if r.per_class:
        out.write("per class               label  count  clean     accuracy under crashes   P(change)\n")
        for c in r.per_class:
            out.write(f"                        {c['label']:>5}  {c['count']:>5}  {c['clean_accuracy']:<8.4g}  "
                      f"{_iv(c['accuracy_lo'], c['accuracy_hi']):<23}  {_iv(c['change_lo'], c['change_hi'])}\n")
    if r.at_risk:
        out.write("most at risk            input  label  class  P(change)\n")
        for a in r.at_risk:
            out.write(f"                        {a['index']:>5}  {a['label']:>5}  {a['clean_class']:>5}  "
                      f"{_iv(a['change_lo'], a['change_hi'])}\n")
    out.write(f"time                    {r.seconds:.3g} s\n")
    return 0


def add_parsers(sub) -> dict:
    """Add ``accuracy`` to the subparsers ``sub``; returns ``{name: parser}``.

    Examples
    --------
    >>> import argparse
    >>> sub = argparse.ArgumentParser().add_subparsers()
    >>> sorted(add_parsers(sub))
    ['accuracy']
    """
    from ..parsing import parse_integer, parse_real

    out = {}
    s = out["accuracy"] = sub.add_parser(
        "accuracy", help="accuracy and how often the predicted class changes under neuron crashes, over a "
                         "dataset: exact, a proved interval, or a statistical one (labelled which)")
    add_net(s)
    s.add_argument("--data", required=True, metavar="D",
                   help="the dataset: 'digits' (the 8×8 digits' test part, as the examples split it; "
                        "'digits:train' or 'digits:all' for the others) or an .npz file with arrays X and y")
    add_p(s)
    add_semantics(s)
    s.add_argument("--method", choices=("auto", "exact", "rigorous", "statistical"), default="auto",
                   help="exact (every configuration), rigorous (a proved interval), statistical (stratified "
                        "Monte Carlo), or auto: the first that answers within the budget (default)")
    s.add_argument("--order", type=argument_type(parse_integer, 0, 64), default=None, metavar="K",
                   help="most crashes evaluated for the rigorous answer (default: as many as the budget allows)")
    s.add_argument("--samples", type=SAMPLES, default=4000, metavar="N",
                   help="configurations sampled per input for the statistical answer (default 4000)")
    s.add_argument("--seed", type=SEED, default=0, metavar="S", help="seed of the sampler (default 0)")
    s.add_argument("--confidence", type=argument_type(parse_real, 0, 1, lo_open=True, hi_open=True),
                   default=0.95, metavar="C", help="level of a statistical answer, over all inputs (default 0.95)")
    s.add_argument("--top", type=argument_type(parse_integer, 0, 10 ** 6), default=10, metavar="K",
                   help="how many inputs most at risk to list (default 10)")
    s.add_argument("--force", action="store_true", help="sample even when the estimated time is long")
    add_json(s, "clean_accuracy, accuracy_lo, accuracy_hi, change_lo, change_hi, method")
    return out
