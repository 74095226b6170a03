r"""Output of the command line: one-line errors, JSON in one convention, numbers as text.

Every command prints human-readable text by default and, with ``--json``,
exactly one JSON object on one line (:func:`emit`), in the convention of
:mod:`symft.cli.convention`: ``command``, ``version``, ``settings``, the
result, ``warnings``; numbers as JSON numbers (exact ones also as text under
``<key>_exact``), NaN and ±inf as ``null`` with a warning.

Examples
--------
>>> json_safe({"a": float("inf"), "b": float("nan"), "c": (1, 2)})
{'a': None, 'b': None, 'c': [1, 2]}
>>> one_line("two\nlines")
'two\\x0alines'
"""

from __future__ import annotations

import json
import math
import sys
from fractions import Fraction

import numpy as np
from ..lazyimport import is_sympy, sympy as sp

from ..errors import FloatOverflowError
from ..rounding import interval, rounded   # the library's outward rounding, used by every text here
from .convention import json_safe, settings_of

__all__ = ["one_line", "error_line", "json_safe", "emit", "exact_text", "approx", "require_finite",
           "dims", "sorted_neurons", "neuron_list", "WIDTH", "number", "vector", "summarized",
           "wrap_line", "WrappedOutput", "summarized_blocks", "largest", "rounded", "interval"]

#: Columns of the text output (``--wide`` lifts the limit).
WIDTH = 100

# characters that str.splitlines() treats as line breaks
_LINE_BREAKS = {c: f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"
                for c in (0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029)}


def one_line(text) -> str:
    """``text`` as one printable line: line breaks escaped, lone surrogates backslash-escaped.

    Examples
    --------
    >>> one_line("a\\u2028b")
    'a\\\\u2028b'
    """
    text = str(text).translate(_LINE_BREAKS)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def error_line(message) -> None:
    """Write ``symft: error: MESSAGE`` on stderr, as one line (a very long message is cut in the middle).

    Examples
    --------
    >>> import contextlib, io
    >>> err = io.StringIO()
    >>> with contextlib.redirect_stderr(err):
    ...     error_line("bad\\nvalue")
    >>> err.getvalue()
    'symft: error: bad\\\\x0avalue\\n'
    """
    message = one_line(message)
    if len(message) > 1000:
        message = f"{message[:700]} … {message[-200:]}"
    sys.stderr.write(f"symft: error: {message}\n")
    sys.stderr.flush()


def emit(obj, args=None) -> None:
    """Print one JSON object (one line) on stdout, in the command line's JSON convention.

    The object starts with ``command``, ``version`` and ``settings`` (the
    options in ``args``, the parsed command line; see
    :func:`symft.cli.convention.settings_of`), then the result's own fields
    converted by :func:`symft.cli.convention.json_safe` (numbers as JSON
    numbers, exact values also as text under ``<key>_exact``, NaN and ±inf
    as ``null``), and ends with ``warnings``: the result's own warnings and
    one line per value written as ``null``.

    Examples
    --------
    >>> import argparse
    >>> emit({"mean": [0.5, float("nan")]}, argparse.Namespace(command="sample", seed=0))  # doctest: +ELLIPSIS
    {"command": "sample", "version": "...", "settings": {"seed": 0}, "mean": [0.5, null], "warnings": ["mean[1] is nan: written as null"]}
    """
    from .. import __version__

    warnings_out: list = []
    command = getattr(args, "command", None) if args is not None else obj.get("command")
    settings = json_safe(settings_of(args), "settings", warnings_out) if args is not None else {}
    body = json_safe({k: x for k, x in obj.items() if k not in ("command", "version", "settings", "warnings")},
                     "result", warnings_out)
    own = obj.get("warnings") or []
    own = [own] if isinstance(own, str) else [str(w) for w in own]
    text = json.dumps({"command": command, "version": __version__, "settings": settings, **body,
                       "warnings": own + warnings_out}, allow_nan=False)
    sys.stdout.write(text + "\n")


def exact_text(x):
    """An exact SymPy number for JSON: an int, ``"p/q"``, ``"inf"``, or the expression as text.

    Examples
    --------
    >>> exact_text(sp.Rational(1, 4)), exact_text(sp.Integer(3)), exact_text(sp.oo), exact_text(0.5)
    ('1/4', 3, 'inf', 0.5)
    """
    if x is None:
        return None
    if isinstance(x, Fraction):
        return int(x) if x.denominator == 1 else str(x)
    if is_sympy(x):
        if x == sp.oo:
            return "inf"
        if x.is_Rational:
            return int(x) if x.is_Integer else str(x)
        return str(x)
    return x


def approx(v) -> str:
    """Six significant digits of an exact number, also beyond the float64 range (``1.2e+400``).

    Examples
    --------
    >>> approx(Fraction(1, 3)), approx(sp.Integer(10) ** 400)
    ('0.333333', '1.00000e+400')
    """
    f = float(v)
    return f"{f:.6g}" if math.isfinite(f) else sp.Float(v, 6).__format__("")


def require_finite(values: dict, what: str) -> None:
    """Refuse a float result that is ±inf or NaN.

    An estimate or a moment is never infinite, so one that is means a float64
    overflow inside the computation (e.g. Δ² beyond 1.8e308).  ``values``
    maps field names to numbers or nested lists; exact entries (strings) are
    skipped.

    Raises
    ------
    FloatOverflowError
        Naming ``what`` and the field.

    Examples
    --------
    >>> require_finite({"mean": [1.0, 2.0]}, "T1")
    >>> require_finite({"mean": [1.0, float("inf")]}, "T1")
    Traceback (most recent call last):
    ...
    symft.errors.FloatOverflowError: T1: mean[1] is inf: the float64 computation overflowed ...
    """
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


def dims(shape) -> str:
    """A tensor shape as ``8×8×8`` (a scalar shape as ``1``).

    Examples
    --------
    >>> dims((1, 8, 8)), dims((10,)), dims(())
    ('1×8×8', '10', '1')
    """
    return "×".join(str(int(s)) for s in shape) or "1"


def sorted_neurons(neurons) -> list:
    """``(site, index)`` pairs sorted: numbered sites first, then named ones.

    Examples
    --------
    >>> sorted_neurons({("r", 1), (2, 0), (0, 3)})
    [[0, 3], [2, 0], ['r', 1]]
    """
    return [list(n) for n in sorted(neurons, key=lambda t: (isinstance(t[0], str), t[0] if isinstance(t[0], str)
                                                            else int(t[0]), t[1]))]


def neuron_list(neurons) -> str:
    """Crashed neurons as text: ``(1,0), (r,3)`` or ``none``.

    Examples
    --------
    >>> neuron_list([[1, 0], ["r", 3]]), neuron_list([])
    ('(1,0), (r,3)', 'none')
    """
    return ", ".join(f"({l},{i})" for l, i in neurons) or "none"


def number(v, exact: bool = False) -> str:
    """A number as text: 6 significant digits, or with ``exact`` as it is (a rational ``p/q``, every digit).

    Examples
    --------
    >>> number(Fraction(1, 3)), number(Fraction(1, 3), exact=True), number(sp.Integer(7)), number(2.5e-12)
    ('0.333333', '1/3', '7', '2.5e-12')
    """
    if exact:
        if is_sympy(v) and v.is_Rational:
            return str(exact_text(v))
        return str(v)
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool) and abs(int(v)) < 10 ** 6:
        return str(int(v))
    if is_sympy(v) and v.is_Integer and abs(int(v)) < 10 ** 6:
        return str(int(v))
    try:
        return approx(v)
    except (TypeError, ValueError):
        return str(v)  # a symbolic value has no decimal form


def vector(values, exact: bool = False, wide: bool = False, head: int = 4, tail: int = 2) -> str:
    """A vector as ``[a, b, …]``: with more than ``head + tail`` entries, the first and last few and a count.

    Examples
    --------
    >>> vector([Fraction(k, 3) for k in range(10)])
    '[0, 0.333333, 0.666667, 1, …, 2.66667, 3]  (10 values)'
    >>> vector([1, 2, 3], exact=True)
    '[1, 2, 3]'
    """
    vs = list(values)
    if wide or len(vs) <= head + tail + 1:
        return "[" + ", ".join(number(v, exact) for v in vs) + "]"
    return ("[" + ", ".join(number(v, exact) for v in vs[:head]) + ", …, "
            + ", ".join(number(v, exact) for v in vs[-tail:]) + f"]  ({len(vs)} values)")


def summarized(rows: list, wide: bool = False, what: str = "rows", head: int = 6, tail: int = 3) -> list:
    """Table rows, or with more than ``head + tail + 1`` of them the first and last few and a line saying how many.

    Examples
    --------
    >>> summarized([f"row {k}" for k in range(20)], what="outputs", head=2, tail=1)
    ['row 0', 'row 1', '  … 17 more outputs (--wide shows all)', 'row 19']
    """
    rows = list(rows)
    if wide or len(rows) <= head + tail + 1:
        return rows
    return rows[:head] + [f"  … {len(rows) - head - tail} more {what} (--wide shows all)"] + rows[-tail:]


def summarized_blocks(blocks: list, wide: bool = False, what: str = "inputs", head: int = 2, tail: int = 1,
                      keep=()) -> list:
    """Blocks of lines (one per input), the first and last few and a line saying how many are left out.

    The blocks numbered in ``keep`` (the input an answer comes from) are shown wherever they are.

    Examples
    --------
    >>> summarized_blocks([[f"input {k}", "  row"] for k in range(5)], head=1, tail=1)
    ['input 0', '  row', '… 3 more inputs (--wide shows all)', 'input 4', '  row']
    >>> summarized_blocks([[f"input {k}"] for k in range(7)], head=1, tail=1, keep=[3])
    ['input 0', '… 2 more inputs (--wide shows all)', 'input 3', '… 2 more inputs (--wide shows all)', 'input 6']
    """
    blocks = list(blocks)
    if wide or len(blocks) <= head + tail + 1:
        return [line for b in blocks for line in b]
    shown = sorted({*range(head), *range(len(blocks) - tail, len(blocks)), *(k for k in keep if 0 <= k < len(blocks))})
    out, last = [], -1
    for k in shown:
        if k > last + 1:
            n = k - last - 1
            out.append(f"… {n} more {what[:-1] if n == 1 and what.endswith('s') else what} (--wide shows all)")
        out += blocks[k]
        last = k
    return out


def largest(values) -> tuple:
    """``(position, value)`` of the entry of largest magnitude (a 2-D array gives a ``(row, column)`` position).

    Examples
    --------
    >>> largest([0.5, -2.0, 1.0]), largest([[1.0, 0.0], [0.0, -3.0]])
    ((1, -2.0), ((1, 1), -3.0))
    """
    a = np.asarray(values, dtype=float)
    k = int(np.argmax(np.abs(a)))
    pos = np.unravel_index(k, a.shape)
    return (int(pos[0]) if a.ndim == 1 else tuple(int(i) for i in pos)), float(a.reshape(-1)[k])


def wrap_line(line: str, width: int = WIDTH) -> list:
    """One line of text as lines of at most ``width`` columns, continuation lines indented.

    Breaks at spaces; a word longer than a line (a long rational) is cut.

    Examples
    --------
    >>> wrap_line("note: " + "word " * 30, 40)[:2]
    ['note: word word word word word word word', '    word word word word word word word']
    """
    if len(line) <= width:
        return [line]
    import textwrap

    lead = line[:len(line) - len(line.lstrip(" "))]
    indent = lead + "    " if len(lead) + 4 < width // 2 else lead
    return textwrap.wrap(line, width, initial_indent="", subsequent_indent=indent, break_long_words=True,
                         break_on_hyphens=False, drop_whitespace=True) or [line[:width]]


class WrappedOutput:
    """A stdout stand-in that wraps every line longer than :data:`WIDTH` (the default of text output).

    Examples
    --------
    >>> import io
    >>> buf = io.StringIO()
    >>> w = WrappedOutput(buf, 20)
    >>> _ = w.write("a b c d e f g h i j k l m n\\nshort\\n"); w.flush()
    >>> print(buf.getvalue(), end="")
    a b c d e f g h i j
        k l m n
    short
    """

    def __init__(self, stream, width: int = WIDTH):
        self.stream, self.width, self._pending = stream, width, ""

    def write(self, text) -> int:
        data = self._pending + str(text)
        *lines, self._pending = data.split("\n")
        for line in lines:
            for part in wrap_line(line.rstrip(), self.width):
                self.stream.write(part + "\n")
        return len(str(text))

    def flush(self) -> None:
        if self._pending:
            for part in wrap_line(self._pending.rstrip(), self.width):
                self.stream.write(part)
            self._pending = ""
        self.stream.flush()

    def __getattr__(self, name):
        return getattr(self.stream, name)
