r"""The ``symft`` command line: thin argparse subcommands over the library.

Conventions every subcommand follows:

* human-readable text by default; ``--json`` prints exactly one JSON object
  on stdout;
* a network argument (``NET``) is any model :func:`symft.graph.netfile.load_network`
  reads: symft JSON (version 1 chains, version 2 graphs) or an ONNX model;
* ``--input`` / ``--p`` / ``--crash`` follow :mod:`symft.parsing`: crash
  sites by name or number (layer numbers for chains), inputs as numbers or
  ``@FILE`` (a ``.npy`` file may be shaped like the network's input);
* bad input exits with status 2 and one line ``symft: error: …`` on stderr
  naming the file, field or argument and what was expected; never a
  traceback.  Any *unexpected* exception (a bug) is reported the same way,
  as one line that says so; the global flag ``--debug`` prints the full
  traceback instead;
* ``--input`` takes one input or a batch everywhere: commands answer per input, and ``worst``,
  ``check`` and ``certify`` also give one answer over the batch (the largest change, the
  conjunction of the verdicts) naming the input it comes from, with one row per input (``derive``
  derives at each input in turn);
* option values may be negative numbers (``--input -1,2,3``);
* one spelling per option across commands: ``--eps``, ``--max-crashes``,
  ``--order K|auto``, ``--seed`` (default 0, printed with the results),
  ``--samples``, ``--input``, ``--data``, ``--sites``; an old spelling
  (``--epsilon``, ``--layers``, ``--failures``, ``--max`` of ``fep``) still
  works and prints one ``symft: note:`` line on stderr;
* text output fits 100 columns (long lines wrapped, long vectors and tables
  summarized: the first and last few entries and a count), numbers with 6
  significant digits, the plain answer on the first line; ``--wide`` shows
  everything, ``--exact`` the exact values where a command has them;
* ``--json`` output follows one convention (:mod:`symft.cli.convention`,
  the page "JSON output" of the documentation): ``command``, ``version``,
  ``settings`` first, ``warnings`` last; numbers are JSON numbers, exact
  values also text under ``<key>_exact``; intervals ``<key>_lo`` /
  ``<key>_hi``; rows are objects; an infinite or undefined number is ``null``
  with a line in ``warnings``.  A JSON Schema per command ships in
  ``symft/schemas/``.

The commands, one module per group (each command parses its arguments, calls
one library function and formats the result; the choices of method belong
to the library):

* :mod:`symft.cli.network` — ``info``, ``eval``, ``convert``;
* :mod:`symft.cli.moments` — ``exact``, ``enclose``, ``derive``, ``taylor``,
  ``sample``, ``certify``, ``report``, ``check``;
* :mod:`symft.cli.worst` — ``worst``, ``fep``, ``reduce``;
* :mod:`symft.cli.data` — ``accuracy``, ``sweep`` (over a dataset), ``train``;
* :mod:`symft.cli.format`, :mod:`symft.cli.convention`, :mod:`symft.cli.shapes` and
  :mod:`symft.cli.options` — what they share (output, the JSON convention, the JSON shape of
  results, options).

Examples
--------
>>> build_parser().parse_args(["info", "net.json"]).command
'info'
>>> main(["info", "no/such/net.json"])  # prints "symft: error: no/such/net.json: no such file" on stderr
2
"""

from __future__ import annotations

import argparse
import sys
import traceback
import warnings

import numpy as np

from .. import __version__
from ..errors import InvalidArgument, SymftError
from ..utils import check_text, short_text
from . import data, moments, network, worst
from .format import WIDTH, WrappedOutput, error_line, one_line
from .moments import (cmd_certify, cmd_check, cmd_derive, cmd_enclose, cmd_exact, cmd_report, cmd_sample,
                      cmd_taylor)
from .data import cmd_accuracy, cmd_sweep, cmd_train
from .network import cmd_convert, cmd_eval, cmd_info
from .options import MAX_ORDER, MAX_SAMPLES, MAX_SEED, MAX_TIMEOUT, TIMED, add_max_time
from ..allocator import keep_freed_memory
from ..cost import time_limit
from .worst import cmd_fep, cmd_reduce, cmd_worst

__all__ = ["main", "build_parser", "MAX_ORDER", "MAX_SAMPLES", "MAX_SEED", "MAX_TIMEOUT"]


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line and exit status 2."""

    def error(self, message):  # noqa: D401 - argparse API
        error_line(f"{message} (see '{self.prog} --help')")
        raise SystemExit(2)


def _commands() -> dict:
    """The function of each command, looked up when the parser is built."""
    return {"info": cmd_info, "eval": cmd_eval, "convert": cmd_convert, "sample": cmd_sample,
            "certify": cmd_certify, "report": cmd_report, "check": cmd_check, "exact": cmd_exact,
            "enclose": cmd_enclose, "derive": cmd_derive, "taylor": cmd_taylor, "reduce": cmd_reduce,
            "fep": cmd_fep, "worst": cmd_worst, "accuracy": cmd_accuracy,
            "sweep": cmd_sweep, "train": cmd_train}


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
    commands = _commands()
    for group in (network, moments, worst, data):
        for name, s in group.add_parsers(sub).items():
            s.set_defaults(func=commands[name])
    for name in TIMED:
        add_max_time(sub.choices[name])
    for s in sub.choices.values():  # --debug also after the command (SUPPRESS: a global --debug stays)
        s.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="on an unexpected error, print the full traceback (for bug reports)")
        s.add_argument("--wide", action="store_true",
                       help=f"text output unabridged: every output, atom and row, lines longer than {WIDTH} "
                            "columns (default: summarized and wrapped)")
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


#: Commands with a --dtype option (eval: the approximate float32 pass; convert: the element type of a file).
_DTYPE_COMMANDS = ("eval", "convert")


def _refuse_dtype(parser, argv):
    """``--dtype`` given to a command that computes in float64 or exactly: one line saying where float32 is."""
    sub = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
    command = next((t for t in argv if sub is not None and t in sub.choices), None)
    if command is None or command in _DTYPE_COMMANDS:
        return
    if any(t == "--dtype" or t.startswith("--dtype=") for t in argv):
        raise InvalidArgument(f"--dtype: symft {command} computes in float64 (its rounding bounded where it claims "
                              "rigour) or exactly; the approximate float32 pass (no error bound) is only in "
                              "'symft eval --dtype float32'")


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


def _run(args) -> int:
    """Run the command; its text output (not ``--json``, ``--wide`` or ``--latex``) wrapped at :data:`WIDTH` columns.

    The command's process keeps the memory it frees (:func:`symft.allocator.keep_freed_memory`): the batched
    passes then reuse their pages instead of faulting fresh ones in at every block.
    """
    keep_freed_memory()
    with time_limit(getattr(args, "max_time", None), "--max-time SECONDS"):
        if getattr(args, "json", False) or getattr(args, "wide", False) or getattr(args, "latex", False):
            return args.func(args)
        stdout = sys.stdout
        sys.stdout = wrapped = WrappedOutput(stdout)
        try:
            return args.func(args)
        finally:
            sys.stdout = stdout
            wrapped.flush()


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
            _refuse_dtype(parser, argv)
            args = parser.parse_args(argv)
            debug = bool(getattr(args, "debug", False))
            code = _run(args)
        for w in caught:
            if not issubclass(w.category, _QUIET):
                sys.stderr.write(f"symft: warning: {one_line(w.message)}\n")
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
        error_line(str(e))
        return 2
    except Exception as e:  # noqa: BLE001 - the command line never ends in a traceback
        if debug:
            traceback.print_exc()
        detail = short_text(str(e), 300) if str(e) else "no message"
        error_line(f"internal error ({type(e).__name__}: {detail}); this is a bug in symft — please report it "
                    "with the output of the same command run with 'symft --debug'")
        return 2
    finally:
        sys.set_int_max_str_digits(old_digits)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
