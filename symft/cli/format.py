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
from .convention import json_safe, settings_of

__all__ = ["one_line", "error_line", "json_safe", "emit", "exact_text", "approx", "require_finite",
           "dims", "sorted_neurons", "neuron_list"]

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
