r"""Commands over a dataset: ``accuracy`` (accuracy and prediction changes under crashes), ``sweep`` (the same
and E|Δ| against the crash probability) and ``train``
(training with the Eq. 1 regularizer, and Algorithm 1).

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
from .format import emit, interval, summarized
from .shapes import accuracy_json, model_rows, train_json
from .options import (add_json, add_net, add_order, add_p, add_samples, add_scheduler, add_seed,
                      add_semantics, argument_type, flag_names, open_scheduler)

__all__ = ["cmd_accuracy", "cmd_sweep", "cmd_train", "parse_reg", "parse_train_p", "add_parsers"]

#: How the three kinds of answer are described, in plain words first.
_KIND = {"exact": "exact: every crash configuration evaluated, every class decision proved",
         "rigorous": "rigorous: an interval proved to contain the value (the configurations not evaluated "
                     "count as both right and wrong)",
         "statistical": "statistical: a confidence interval from stratified Monte Carlo, not a proof"}


def _iv(lo, hi) -> str:
    """An interval (or an exact value) to 6 significant digits, rounded outward so that it stays true."""
    return interval(lo, hi)


def cmd_sweep(args) -> int:
    """``symft sweep NET --data D --p LO:HI:N``: accuracy, prediction changes and E|Δ| against p (JSON, figure)."""
    from ..analysis.sweep import NORM, probability_grid
    from ..distributed import sweep
    from ..io.datasets import load_dataset
    from ..parsing import check_output_file

    net = load_network(args.net)
    with flag_names(data="--data"):
        data = load_dataset(args.data, net)
    probs = probability_grid(args.p)
    sites = None
    if args.sites:
        sites = tuple(net.site(t.strip(), "--sites") for t in args.sites.split(",") if t.strip())
    figure = check_output_file(args.figure, "--figure") if args.figure else None
    with open_scheduler(args) as sched:
        r = sweep(net, data.X, data.y, probs, sites=sites, semantics=args.semantics, method=args.method,
                  n_samples=args.samples, seed=args.seed, data=data.name, scheduler=sched)
    if figure is not None:
        r.figure(figure)
    if args.json:
        d = r.as_dict()
        d.update({"command": "sweep", "figure": figure})
        emit(d, args)
        return 0
    out = sys.stdout
    pts = r.points
    worst = min(pts, key=lambda pt: pt["accuracy_lo"])
    kinds = sorted({pt["method"] for pt in pts} | {pt["abs_method"] for pt in pts})
    out.write(f"accuracy under crashes: {_iv(pts[0]['accuracy_lo'], pts[0]['accuracy_hi'])} at p = "
              f"{pts[0]['p']:.6g} … {_iv(pts[-1]['accuracy_lo'], pts[-1]['accuracy_hi'])} at p = {pts[-1]['p']:.6g}\n")
    seed = f"; statistical points: seed {args.seed}" if "statistical" in kinds else ""
    out.write(f"  {data.name}: {r.n_inputs} inputs, clean accuracy {pts[0]['clean_accuracy']:.6g}, crashes at "
              f"{', '.join(map(str, r.sites))}; lowest accuracy "
              f"{_iv(worst['accuracy_lo'], worst['accuracy_hi'])} at p = {worst['p']:.6g}; {'/'.join(kinds)}{seed}\n")
    out.write(f"  {'p':>9}  {'accuracy under crashes':<22} {'P(prediction changes)':<26} {'E max_k |Δ_k|':<22} "
              "method\n")
    rows = []
    for pt in pts:
        how = pt["method"] if pt["method"] == pt["abs_method"] else f"{pt['method']}/{pt['abs_method']}"
        rows.append(f"  {pt['p']:>9.3g}  {_iv(pt['accuracy_lo'], pt['accuracy_hi']):<22} "
                    f"{_iv(pt['change_lo'], pt['change_hi']):<26} {_iv(pt['abs_mean_lo'], pt['abs_mean_hi']):<22} "
                    f"{how}")
    out.write("\n".join(summarized(rows, args.wide, "probabilities", 8, 4)) + "\n")
    out.write(f"  E max_k |Δ_k|: {NORM}\n")
    if figure is not None:
        out.write(f"  figure: {figure}\n")
    return 0


def cmd_accuracy(args) -> int:
    """``symft accuracy NET --data D --p SPEC``: accuracy and prediction changes under crashes over a dataset."""
    from ..distributed import accuracy
    from ..io.datasets import load_dataset

    net = load_network(args.net)
    with flag_names(data="--data"):
        data = load_dataset(args.data, net)
    model = NeuronCrash(parse_p(args.p, net), args.semantics).check(net)
    with open_scheduler(args) as sched:
        order = None if args.order == "auto" else args.order
        r = accuracy(net, data.X, data.y, model, method=args.method, order=order, n_samples=args.samples,
                     seed=args.seed, confidence=args.confidence, top=args.top, force=args.force, scheduler=sched)
    if args.json:
        d = r.as_dict()
        d.update({"command": "accuracy", "data": data.name, "model": model_rows(model)})
        emit(accuracy_json(d), args)
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
        rows = [f"                        {c['label']:>5}  {c['count']:>5}  {c['clean_accuracy']:<8.6g}  "
                f"{_iv(c['accuracy_lo'], c['accuracy_hi']):<23}  {_iv(c['change_lo'], c['change_hi'])}"
                for c in r.per_class]
        out.write("\n".join(summarized(rows, args.wide, "classes", 12, 3)) + "\n")
    if r.at_risk:
        out.write("most at risk            input  label  class  P(change)\n")
        for a in r.at_risk:
            out.write(f"                        {a['index']:>5}  {a['label']:>5}  {a['clean_class']:>5}  "
                      f"{_iv(a['change_lo'], a['change_hi'])}\n")
    out.write(f"time                    {r.seconds:.3g} s\n")
    return 0


#: ``--reg`` names: the paper's letters, spelled out, and the keyword of the library.
_REG_KEYS = {"lambda": "lam", "lam": "lam", "mu": "mu", "psi": "psi", "nu": "nu"}


def parse_reg(text) -> dict:
    """``--reg lambda=L,mu=M,psi=S,nu=N`` (any subset) as the keywords of the regularizer.

    Examples
    --------
    >>> parse_reg("lambda=10,nu=1e-3")
    {'lam': 10.0, 'nu': 0.001}
    >>> parse_reg("kappa=1")
    Traceback (most recent call last):
    ...
    symft.errors.InvalidArgument: --reg: unknown term 'kappa'; expected lambda, mu, psi or nu (e.g. lambda=10)
    """
    from ..errors import InvalidArgument
    from ..parsing import parse_real

    out = {}
    for part in str(text).split(","):
        name, eq, value = part.strip().partition("=")
        if not eq or name.strip() not in _REG_KEYS:
            raise InvalidArgument(f"--reg: unknown term {name.strip()!r}; expected lambda, mu, psi or nu "
                                  "(e.g. lambda=10)")
        out[_REG_KEYS[name.strip()]] = parse_real(value, f"--reg {name.strip()}", 0, 1e12)
    return out


def parse_train_p(text):
    """``--p`` of ``train``: one probability for every hidden site, or ``SITE:P,SITE:P`` (sites by module name).

    Examples
    --------
    >>> parse_train_p("1e-3"), parse_train_p("1:0.01,3:0.02")
    (0.001, {'1': 0.01, '3': 0.02})
    """
    from ..parsing import parse_real

    if ":" not in text:
        return parse_real(text, "--p", 0, 1)
    out = {}
    for part in text.split(","):
        site, _, value = part.strip().partition(":")
        out[site.strip()] = parse_real(value, f"--p {site.strip()}", 0, 1)
    return out


def cmd_train(args) -> int:
    """``symft train --data D --arch … --p P --reg lambda=… --epochs E --seed S --out F``: train (or Algorithm 1)."""
    import os

    from ..errors import InvalidArgument
    from ..parsing import parse_integer

    from ..training.train import is_conv_arch, parse_arch

    try:
        arch = parse_arch(args.arch)
    except InvalidArgument as e:
        raise InvalidArgument("--" + str(e)) from None
    for t in arch:
        if isinstance(t, int):
            parse_integer(str(t), "--arch", 1, 100_000)
    out_path = None
    if args.out is not None:
        out_path = args.out
        if not str(out_path).endswith((".json", ".onnx")):
            raise InvalidArgument(f"--out: {out_path}: expected a file name ending in .json or .onnx")
        folder = os.path.dirname(os.path.abspath(out_path))
        if not os.path.isdir(folder):
            raise InvalidArgument(f"--out: {out_path}: the folder {folder} does not exist")
    if args.data != "digits" and not os.path.isfile(args.data):
        raise InvalidArgument(f"--data: {args.data}: no such file (expected 'digits' or an .npz file with arrays "
                              "X and y, or X_train, y_train, X_test and y_test)")
    init = load_network(args.init) if args.init else None
    p = parse_train_p(args.p)
    reg = parse_reg(args.reg) if args.reg else {}
    progress = None if not args.json else False
    flags = flag_names(data="--data", arch="--arch", activation="--act", init="--init", p="--p", reg="--reg",
                       epochs="--epochs", batch_size="--batch-size", lr="--lr", seed="--seed", dtype="--dtype",
                       eps="--eps", delta="--delta", lam="--reg", mu="--reg", psi="--reg", nu="--reg")
    if args.algorithm1:
        from ..training.algorithm1 import algorithm1

        if args.eps is None or args.delta is None:
            raise InvalidArgument("--algorithm1: needs --eps and --delta (the claim P(Δ ≥ ε) ≤ δ to certify)")
        if init is not None:
            raise InvalidArgument("--algorithm1: starts from --arch (it widens the network itself), not --init")
        if is_conv_arch(arch):
            raise InvalidArgument("--algorithm1: widens dense layers only; give --arch as dense widths, e.g. "
                                  "64,32,16,10")
        with flags:
            r = algorithm1(args.data, eps=args.eps, delta=args.delta, arch=arch, activation=args.act, p=p,
                           lam=reg.get("lam", 1.0), mu=reg.get("mu", 0.0), psi=reg.get("psi", 0.0),
                           nu=reg.get("nu", 0.0), epochs=args.epochs, seed=args.seed, progress=progress)
        net = r.train.network if r.train is not None else None
        d = r.as_dict()
    else:
        from ..training.train import train

        with flags:
            r = train(args.data, arch=arch, activation=args.act, init=init, p=p, reg=reg, epochs=args.epochs,
                      batch_size=args.batch_size, lr=args.lr, seed=args.seed, dtype=args.dtype, progress=progress)
        net = r.network
        d = r.as_dict()
    if out_path is not None and net is not None:
        if str(out_path).endswith(".onnx"):
            from ..io.onnx import save_onnx

            save_onnx(net, out_path)
        else:
            from ..graph.netfile import save_network

            save_network(net, out_path)
        d["out"] = str(out_path)
    d["command"] = "train"
    if args.json:
        emit(train_json(d), args)
        return 0
    out = sys.stdout
    if args.algorithm1:
        verdict = "CERTIFIED" if r.certified else ("INFEASIBLE" if r.infeasible else "NOT CERTIFIED")
        out.write(f"Algorithm 1: {verdict}  P(Δ ≥ {args.eps:g}) ≤ {args.delta:g}   ({r.reason})\n")
        out.write(f"widths      {','.join(map(str, r.widths))}\n")
        if r.copies is not None:
            out.write(f"copies      {r.copies} (the median of this many independent copies; median trick)\n")
        out.write(f"rigorous    {'yes' if r.rigorous else 'no'}\n")
        out.write(f"rounds      {len(r.rounds)}; λ = {r.lam:g}, μ = {r.mu:g}, ψ = {r.psi:g}; seed {args.seed}\n")
    else:
        last = r.history[-1] if r.history else None
        out.write(f"test accuracy {r.accuracy:.6g}  (train {r.train_accuracy:.6g}; {r.epochs} epochs, seed {r.seed}, "
                  f"{r.dtype})\n")
        out.write(f"Var Δ         {r.var_delta:.6g}  [{r.var_delta_lo:.6g}, {r.var_delta_hi:.6g}]  "
                  f"({r.var_label}, {r.var_method}; summed over outputs, mean over {r.var_inputs} test inputs)\n")
        if last is not None:
            out.write(f"last epoch    loss {last.loss:.6g}  R_1 {last.r1:.4g}  R_2 {last.r2:.4g}  R_3 {last.r3:.4g}  "
                      f"max|w| {last.w_inf:.4g}\n")
    if out_path is not None and net is not None:
        out.write(f"wrote         {out_path}\n")
    return 0


def add_parsers(sub) -> dict:
    """Add ``accuracy``, ``sweep`` and ``train`` to the subparsers ``sub``; returns ``{name: parser}``.

    Examples
    --------
    >>> import argparse
    >>> sub = argparse.ArgumentParser().add_subparsers()
    >>> sorted(add_parsers(sub))
    ['accuracy', 'sweep', 'train']
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
    add_order(s, "auto", "most crashes evaluated for the rigorous answer",
              auto="as many as the budget allows")
    add_samples(s, 4000, "configurations sampled per input for the statistical answer")
    add_seed(s, "seed of the sampler")
    s.add_argument("--confidence", type=argument_type(parse_real, 0, 1, lo_open=True, hi_open=True),
                   default=0.95, metavar="C", help="level of a statistical answer, over all inputs (default 0.95)")
    s.add_argument("--top", type=argument_type(parse_integer, 0, 10 ** 6), default=10, metavar="K",
                   help="how many inputs most at risk to list (default 10)")
    s.add_argument("--force", action="store_true", help="sample even when the estimated time is long")
    add_scheduler(s)
    add_json(s, "clean_accuracy, accuracy_lo, accuracy_hi, change_lo, change_hi, method")

    s = out["sweep"] = sub.add_parser(
        "sweep", help="accuracy, how often the predicted class changes, and the mean size of the output error "
                      "(E max_k |Δ_k|) against the crash probability, over a dataset: a table, JSON, and a figure "
                      "(--figure)")
    add_net(s)
    s.add_argument("--data", required=True, metavar="D", help="the dataset, as for accuracy ('digits' or an .npz)")
    s.add_argument("--p", required=True, metavar="LO:HI:N",
                   help="N crash probabilities from LO to HI on a log scale (e.g. 1e-4:1e-1:13), or one P")
    s.add_argument("--sites", metavar="S1,S2,…", help="the crash sites (default: every hidden site)")
    add_semantics(s)
    s.add_argument("--method", choices=("auto", "exact", "rigorous", "statistical"), default="auto",
                   help="as for accuracy; each point says which answered")
    add_samples(s, 4000, "configurations sampled per input where a point is statistical")
    add_seed(s, "seed of the sampler")
    s.add_argument("--figure", metavar="FILE", help="draw the curves into FILE (.png, .svg or .pdf; matplotlib)")
    add_scheduler(s)
    add_json(s, "points (p, accuracy_lo, accuracy_hi, change_lo, change_hi, method, abs_mean_lo, abs_mean_hi, "
                "abs_method), sites, norm")

    from ..training.train import ACTIVATIONS

    s = out["train"] = sub.add_parser(
        "train", help="train a classifier with the fault-tolerance regularizer (Eq. 1), or run Algorithm 1 to "
                      "train until an (ε, δ) claim is certified; needs PyTorch (pip install symft[torch])")
    s.add_argument("--data", default="digits", metavar="D",
                   help="'digits' (the 8×8 digits, split as the examples do; default) or an .npz with X and y")
    s.add_argument("--arch", default="64,32,16,10", metavar="LAYERS",
                   help="the architecture, comma-separated: dense widths input … output (default 64,32,16,10), "
                        "or conv and pool layers then dense widths, the last the output, e.g. conv8k3,pool2,32,10: "
                        "conv{C}k{K}[p{P}][s{S}] is a convolution with C channels, a K×K kernel, padding P, "
                        "stride S, then the activation; pool{K} is K×K average pooling, maxpool{K} max pooling; "
                        "with conv layers the inputs are read as images (8×8 digits: one channel)")
    s.add_argument("--act", default="sigmoid", choices=ACTIVATIONS, help="hidden activation (default sigmoid)")
    s.add_argument("--init", metavar="NET",
                   help="start from this network (.json or .onnx): one sequence of dense, conv, pooling, flatten "
                        "and activation layers, e.g. examples/digits_cnn.onnx")
    s.add_argument("--p", default="1e-3", metavar="P",
                   help="crash probability of the regularizer and of Var Δ: one P for every hidden site, or "
                        "SITE:P,… (default 1e-3)")
    s.add_argument("--reg", metavar="lambda=L,…",
                   help="weights of the regularizer's terms: lambda (the first-order variance of the crash error, "
                        "T1's R_1), "
                        "mu (weight balance, R_2), psi (smoothness, R_3), nu (largest weight); default none")
    s.add_argument("--epochs", type=argument_type(parse_integer, 1, 100_000), default=100, metavar="E",
                   help="training epochs (default 100)")
    s.add_argument("--batch-size", type=argument_type(parse_integer, 1, 10 ** 6), default=64, metavar="B")
    s.add_argument("--lr", type=argument_type(parse_real, 0, 10, lo_open=True), default=1e-2, metavar="R",
                   help="Adam's learning rate (default 0.01)")
    add_seed(s, "seed of the initial weights and the batches")
    s.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    s.add_argument("--out", metavar="F", help="write the trained network (.json: symft, .onnx: ONNX)")
    s.add_argument("--algorithm1", action="store_true",
                   help="Algorithm 1: train, check the balance, smoothness and the certificate, and adjust "
                        "(raise the weights, widen) until P(Δ ≥ ε) ≤ δ is certified or found infeasible")
    s.add_argument("--eps", type=argument_type(parse_real, 0, 1e12, lo_open=True), metavar="E",
                   help="ε of Algorithm 1's claim")
    s.add_argument("--delta", type=argument_type(parse_real, 0, 1, lo_open=True, hi_open=True), metavar="D",
                   help="δ of Algorithm 1's claim")
    add_json(s, "accuracy, var_delta; with --algorithm1 also certified, widths, copies")
    return out
