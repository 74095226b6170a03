r"""What the commands share: argparse types over :mod:`symft.parsing`, the common options, and reading
NET, ``--input`` and the failure model.

Every network argument takes any file :func:`symft.graph.netfile.load_network`
reads (symft JSON version 1 or 2, or an ONNX model); ``--input`` also takes a
``.npy`` array shaped like the network's input (e.g. ``1×8×8``).

Examples
--------
>>> import argparse
>>> s = argparse.ArgumentParser()
>>> add_net(s); add_input(s); add_json(s)
>>> s.parse_args(["net.onnx", "--input", "@x.npy"]).input
'@x.npy'
"""

from __future__ import annotations

import argparse
import contextlib
import warnings

from ..cost import DEFAULT_MAX_TIME, parse_max_time
from ..errors import InvalidArgument
from ..faults import SEMANTICS, NeuronCrash, SynapseCrash
from ..graph.netfile import load_network
from ..parsing import parse_inputs, parse_integer, parse_p, parse_real
from ..utils import short_text
from .format import dims

__all__ = ["MAX_SAMPLES", "MAX_TIMEOUT", "MAX_ORDER", "MAX_SEED", "argument_type", "validated", "order_or_auto",
           "SAMPLES", "SEED", "ORDER", "TIMEOUT", "NET_HELP", "add_net", "add_input", "add_p", "add_semantics",
           "add_json", "add_scheduler", "open_scheduler", "check_input_size", "load_net_and_inputs",
           "load_net_input_model", "OldSpelling", "DeprecatedAlias", "add_alias", "add_order", "add_seed", "add_samples",
           "add_exact_text", "resolve_order", "ORDER_OR_AUTO", "flag_names", "TIMED", "MAX_TIME", "add_max_time"]

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

NET_HELP = "network file: symft JSON (version 1 or 2) or an ONNX model"

#: The commands whose work is predicted and refused above ``--max-time`` (:mod:`symft.cost`).
TIMED = ("sample", "certify", "report", "check", "exact", "enclose", "derive", "taylor", "worst", "accuracy",
         "sweep")


def argument_type(parse, *args, **kw):
    """An argparse ``type`` from a :mod:`symft.parsing` parser (its message, without the option prefix).

    argparse then reports ``argument --samples: expected an integer in 2 … …, got '1e20'``.

    Examples
    --------
    >>> argument_type(parse_integer, 0)("12")
    12
    >>> argument_type(parse_integer, 0)("-1")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected an integer ≥ 0, got '-1'
    """
    def convert(text):
        try:
            return parse(text, "\0", *args, **kw)
        except InvalidArgument as e:
            raise argparse.ArgumentTypeError(str(e).replace("\0: ", "", 1).replace("\0", "value")) from None

    convert.__name__ = parse.__name__.replace("parse_", "")
    return convert


def validated(parse, *args, **kw):
    """An argparse ``type`` that checks a number but keeps the text (for engines that read it exactly).

    Examples
    --------
    >>> from symft.parsing import parse_exact
    >>> validated(parse_exact, 0)(" 1/3 ")
    '1/3'
    """
    check = argument_type(parse, *args, **kw)

    def convert(text):
        check(text)
        return text.strip()

    convert.__name__ = check.__name__
    return convert


def order_or_auto(text, where):
    """An order ``0 … MAX_ORDER`` or ``"auto"``.

    Examples
    --------
    >>> order_or_auto("auto", "--order"), order_or_auto("3", "--order")
    ('auto', 3)
    """
    if isinstance(text, str) and text.strip() == "auto":
        return "auto"
    try:
        return parse_integer(text, where, 0, MAX_ORDER)
    except InvalidArgument:
        raise InvalidArgument(f"{where}: expected a non-negative integer (at most {MAX_ORDER}) or 'auto', "
                              f"got {short_text(text)!r}") from None


SAMPLES = argument_type(parse_integer, 2, MAX_SAMPLES)
SEED = argument_type(parse_integer, 0, MAX_SEED)
ORDER = argument_type(parse_integer, 0, MAX_ORDER)
TIMEOUT = argument_type(parse_real, 0, MAX_TIMEOUT, lo_open=True)
ORDER_OR_AUTO = argument_type(order_or_auto)
#: ``--max-time SECONDS``: a positive number or ``inf``.
MAX_TIME = argument_type(lambda text, where: parse_max_time(text, where))
MAX_TIME.__name__ = "max_time"


def add_max_time(s) -> None:
    """The ``--max-time SECONDS`` option: refuse work predicted to take longer (:mod:`symft.cost`).

    Examples
    --------
    >>> s = argparse.ArgumentParser(); add_max_time(s)
    >>> s.parse_args([]).max_time, s.parse_args(["--max-time", "inf"]).max_time
    (60.0, inf)
    """
    s.add_argument("--max-time", type=MAX_TIME, default=DEFAULT_MAX_TIME, metavar="SECONDS",
                   help=f"refuse at once work predicted to take longer than this, with the estimate and an option "
                        f"that fits; 'inf' for no limit (default {DEFAULT_MAX_TIME:g}; solvers get it as their "
                        "timeout, after which the answer is unknown)")


class OldSpelling(UserWarning):
    """An option was given by its old spelling (``symft`` prints it as one ``symft: warning:`` line)."""


class DeprecatedAlias(argparse.Action):
    """An old spelling of an option: stores into the new option's destination and warns once.

    Hidden from ``--help`` (:func:`add_alias` adds it with ``help=argparse.SUPPRESS``).  The warning
    is an :class:`OldSpelling`; :func:`symft.cli.main` prints it as one line on stderr after a success
    (a failing command prints only its one error line).

    Examples
    --------
    >>> import warnings
    >>> s = argparse.ArgumentParser(); _ = s.add_argument("--eps"); add_alias(s, "--epsilon", "--eps")
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     s.parse_args(["--epsilon", "0.5"]).eps
    '0.5'
    >>> str(caught[0].message)
    '--epsilon is the old spelling of --eps; it still works, but write --eps'
    """

    def __init__(self, option_strings, dest, new=None, **kw):
        super().__init__(option_strings, dest, **kw)
        self.new = new

    def __call__(self, parser, namespace, values, option_string=None):
        warnings.warn(f"{option_string} is the old spelling of {self.new}; it still works, but write {self.new}",
                      OldSpelling, stacklevel=2)
        setattr(namespace, self.dest, values)


def add_alias(s, old: str, new: str) -> None:
    """Accept ``old`` as a hidden, deprecated spelling of the option ``new`` already added to ``s``.

    The alias takes the same value type; its default is left to ``new``.

    Examples
    --------
    >>> s = argparse.ArgumentParser(); _ = s.add_argument("--sites"); add_alias(s, "--layers", "--sites")
    >>> "--layers" in s.format_help()
    False
    """
    target = next(a for a in s._actions if new in a.option_strings)
    s.add_argument(old, dest=target.dest, type=target.type, metavar=target.metavar, action=DeprecatedAlias,
                   new=new, default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def add_order(s, default, what: str, auto="the largest order whose configurations fit in 2^21",
              default_text: str | None = None) -> None:
    """The ``--order K|auto`` option: ``what`` says what K counts, ``auto`` what ``auto`` picks.

    With ``auto=None`` the command has no automatic order: ``auto`` is accepted by the parser and the
    command refuses it in one line (exit 2) naming what to give instead.

    Examples
    --------
    >>> s = argparse.ArgumentParser(); add_order(s, 2, "the order of the enclosure")
    >>> s.parse_args(["--order", "auto"]).order, s.parse_args([]).order
    ('auto', 2)
    """
    d = default_text or f"default {default}"
    s.add_argument("--order", metavar="K|auto" if auto else "K", type=ORDER_OR_AUTO, default=default,
                   help=f"{what} ({f'auto: {auto}; ' if auto else ''}{d})")


def resolve_order(order, net, model, n_inputs: int = 1):
    """An integer order from ``--order``: ``auto`` is the largest order within ``2^21`` configurations × inputs.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> from symft.faults import NeuronCrash
    >>> resolve_order("auto", mean_network(4), NeuronCrash({0: 0.1})), resolve_order(2, None, None)
    (4, 2)
    """
    if order != "auto":
        return order
    from ..engines.enclosure import choose_order

    m = model[0] if isinstance(model, tuple) else model
    return choose_order(net, m, n_inputs=n_inputs)


def add_seed(s, what: str = "seed of the random draws") -> None:
    """The ``--seed S`` option: default 0, printed with every result that used randomness.

    Examples
    --------
    >>> s = argparse.ArgumentParser(); add_seed(s)
    >>> s.parse_args([]).seed
    0
    """
    s.add_argument("--seed", type=SEED, default=0, metavar="S",
                   help=f"{what} (default 0; the same seed gives the same answer, and the output says which)")


def add_samples(s, default, what: str = "number of Monte Carlo samples") -> None:
    """The ``--samples N`` option.

    Examples
    --------
    >>> s = argparse.ArgumentParser(); add_samples(s, 100)
    >>> s.parse_args(["--samples", "20"]).samples
    20
    """
    tail = f" (default {default})" if default is not None and "default" not in what else ""
    s.add_argument("--samples", type=SAMPLES, default=default, metavar="N", help=what + tail)


def add_exact_text(s) -> None:
    """The ``--exact`` flag of commands whose text shows exact values (rationals) only when asked.

    Examples
    --------
    >>> s = argparse.ArgumentParser(); add_exact_text(s)
    >>> s.parse_args(["--exact"]).exact
    True
    """
    s.add_argument("--exact", action="store_true",
                   help="show exact values (rationals, or every digit) instead of 6 significant digits")

_SITES = "SITE:P[,…] (a crash site's name or number; layer numbers for chains)"


def add_net(s, help: str = NET_HELP) -> None:
    """The positional ``NET`` argument.

    Examples
    --------
    >>> s = argparse.ArgumentParser(); add_net(s)
    >>> s.parse_args(["m.onnx"]).net
    'm.onnx'
    """
    s.add_argument("net", metavar="NET", help=help)


def add_input(s, required: bool = True, one: bool = False, help: str | None = None) -> None:
    """The ``--input X`` option (``one``: the command takes one input).

    Examples
    --------
    >>> s = argparse.ArgumentParser(); add_input(s, required=False)
    >>> s.parse_args([]).input is None
    True
    """
    text = help or (("one input" if one else "one or many inputs") + ": comma-separated numbers, or @FILE "
                    "(.json, .csv, or .npy, also shaped like the network's input, e.g. 1×8×8)")
    s.add_argument("--input", required=required, metavar="X", help=text)


def add_p(s, required: bool = True, extra: str = "") -> None:
    """The ``--p SPEC`` option: neuron crash probabilities per site.

    Examples
    --------
    >>> s = argparse.ArgumentParser(); add_p(s)
    >>> s.parse_args(["--p", "1e-3"]).p
    '1e-3'
    """
    s.add_argument("--p", required=required, metavar="SPEC",
                   help=f"neuron crash probabilities: {_SITES}, or a bare P for every hidden site{extra}")


def add_semantics(s) -> None:
    """The ``--semantics`` option: what a crashed neuron outputs.

    Examples
    --------
    >>> s = argparse.ArgumentParser(); add_semantics(s)
    >>> s.parse_args([]).semantics
    'output_zero'
    """
    s.add_argument("--semantics", choices=SEMANTICS, default="output_zero",
                   help="what a crashed neuron outputs: 0 (default), or φ(bias) as when its incoming weights "
                        "are zeroed")


def add_json(s, keys: str = "") -> None:
    """The ``--json`` flag.

    Examples
    --------
    >>> s = argparse.ArgumentParser(); add_json(s, "mean, var")
    >>> s.parse_args(["--json"]).json
    True
    """
    s.add_argument("--json", action="store_true",
                   help="print one JSON object" + (f" (keys {keys}, …)" if keys else ""))


def add_scheduler(s) -> None:
    """The ``--scheduler`` and ``--workers`` options: where the independent chunks of work run.

    Examples
    --------
    >>> s = argparse.ArgumentParser(); add_scheduler(s)
    >>> a = s.parse_args(["--scheduler", "processes", "--workers", "2"]); a.scheduler, a.workers
    ('processes', 2)
    >>> s.parse_args([]).scheduler is None
    True
    """
    s.add_argument("--scheduler", metavar="local|processes|ADDRESS", default=None,
                   help="run the chunks of work on Dask: 'local' (worker threads in this process), 'processes' "
                        "(worker processes on this machine) or the address of a running Dask scheduler "
                        "(tcp://HOST:8786); the answer is the same bit for bit (default: in this process; "
                        "needs pip install 'symft[distributed]')")
    s.add_argument("--workers", type=argument_type(parse_integer, 1, 4096), default=None, metavar="N",
                   help="workers of --scheduler local or processes (default: the number of CPUs)")


def open_scheduler(args):
    """The :class:`symft.distributed.Scheduler` of ``--scheduler`` / ``--workers`` (progress off with ``--json``).

    Examples
    --------
    >>> with open_scheduler(argparse.Namespace(scheduler=None, workers=None, json=True)) as s:
    ...     s.kind
    'inprocess'
    """
    from ..distributed import Scheduler

    if args.workers is not None and args.scheduler not in ("local", "processes"):
        raise InvalidArgument("--workers: only with --scheduler local or processes (a scheduler at an address "
                              "has the workers started there)")
    return Scheduler(args.scheduler, workers=args.workers, show_progress=False if args.json else None,
                     where="--scheduler")


def check_input_size(net, inputs, opt: str = "--input"):
    """Refuse parsed inputs whose rows do not have one number per input element of ``net``.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> from symft.parsing import parse_inputs
    >>> check_input_size(mean_network(3), parse_inputs("1,2"))
    Traceback (most recent call last):
    ...
    symft.errors.InvalidArgument: --input: expected 3 numbers per input (n_0 = 3), got 2
    """
    n, got = net.n_inputs, inputs.values.shape[1]
    if got == n:
        return inputs
    if len(net.input_shape) == 1 and net.is_chain:
        raise InvalidArgument(f"{opt}: expected {n} numbers per input (n_0 = {n}), got {got}")
    raise InvalidArgument(f"{opt}: expected {n} numbers per input (the input {net.input!r} is "
                          f"{dims(net.input_shape)}), got {got}; a .npy file may hold it in that shape")


def load_net_and_inputs(args):
    """The network of ``NET`` and the ``--input`` rows (flat, row-major), checked to fit the network.

    Examples
    --------
    >>> ns = argparse.Namespace(net="examples/mean_of_inputs.json", input="1,2,3,4")
    >>> net, inputs = load_net_and_inputs(ns)
    >>> inputs.values.shape
    (1, 4)
    """
    net = load_network(args.net)
    return net, check_input_size(net, parse_inputs(args.input, net=net))


def load_net_input_model(args, allow_batch: bool = True):
    """The network, the inputs, the input array and the failure model of ``--p`` / ``--synapse-p``.

    Returns ``(net, inputs, x, model)``: ``x`` is one input (a vector) or a
    batch (rows); ``model`` a :class:`~symft.faults.NeuronCrash`, a
    :class:`~symft.faults.SynapseCrash` or a tuple of both.

    Examples
    --------
    >>> ns = argparse.Namespace(net="examples/mean_of_inputs.json", input="1,2,3,4", p="0:0.1", synapse_p=None)
    >>> load_net_input_model(ns)[3]
    NeuronCrash(p=((0, 0.1),), semantics='output_zero')
    """
    net, inputs = load_net_and_inputs(args)
    if not allow_batch and not inputs.single:
        raise InvalidArgument(f"--input: expected one input, got {inputs.values.shape[0]} "
                              "(pick one row, e.g. a .csv with one line)")
    models = []
    if getattr(args, "p", None):
        models.append(NeuronCrash(parse_p(args.p, net), getattr(args, "semantics", "output_zero")).check(net))
    if getattr(args, "synapse_p", None):
        sp_ = parse_p(args.synapse_p, net, opt="--synapse-p")
        for k in sp_:
            if net.site(k, "--synapse-p") == net.input:
                if net.is_chain:
                    raise InvalidArgument("--synapse-p: layer 0 has no incoming synapses; use layers 1 … L")
                raise InvalidArgument(f"--synapse-p: the input {net.input!r} has no incoming synapses")
        models.append(SynapseCrash(sp_))
    if not models:
        raise InvalidArgument("--p: expected a failure model (--p SPEC and/or --synapse-p SPEC)")
    x = inputs.values[0] if inputs.single else inputs.values
    return net, inputs, x, (models[0] if len(models) == 1 else tuple(models))


@contextlib.contextmanager
def flag_names(**flags):
    """Errors of a library call in the command line's words: a message that starts with a Python argument's
    name (``source: …``, ``failures[0]: …``, ``data X: …``) is re-raised starting with its flag
    (``--source: …``), and a keyword the message mentions (``sided='upper'``, ``C=…``) is written as its
    flag and value (``--sided upper``, ``--C …``).

    ``flags`` maps argument names to flags; other errors pass unchanged.

    Examples
    --------
    >>> with flag_names(source="--source"):
    ...     raise InvalidArgument("source: expected one of auto, exact")
    Traceback (most recent call last):
    ...
    symft.errors.InvalidArgument: --source: expected one of auto, exact
    >>> with flag_names(failures="--per-site", sided="--sided"):
    ...     raise InvalidArgument("failures[0]: too large; or use sided='abs'")
    Traceback (most recent call last):
    ...
    symft.errors.InvalidArgument: --per-site[0]: too large; or use --sided abs
    """
    try:
        yield
    except InvalidArgument as e:
        raise InvalidArgument(_in_flags(str(e), flags)) from None


def _in_flags(msg: str, flags: dict) -> str:
    """``msg`` with its leading argument name and the keywords it mentions written as the flags ``flags``."""
    import re

    m = re.match(r"([A-Za-z_]\w*)(?=[:\[ ])", msg)
    if m and m.group(1) in flags and ":" in msg:
        msg = flags[m.group(1)] + msg[m.end():]
    for name, flag in flags.items():
        msg = re.sub(rf"(?<![\w-]){re.escape(name)}=(?:'([^']*)'|\"([^\"]*)\")",
                     lambda g: f"{flag} {g.group(1) if g.group(1) is not None else g.group(2)}", msg)
        msg = re.sub(rf"(?<![\w-]){re.escape(name)}=", f"{flag} ", msg)
    return msg
