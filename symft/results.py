"""What every result object offers: ``to_dict``, ``to_json``, a short ``repr`` and an HTML table.

:func:`result` decorates a result dataclass.  It adds

* ``to_dict()`` (unless the class has one): the fields as JSON-ready values —
  numbers as JSON numbers (floats; ``"inf"``, ``"-inf"``, ``"nan"`` as
  strings), and every exact value (a ``Fraction`` or SymPy number, or an
  array holding them) *also* as strings under ``<key>_exact``, so that the
  float is for reading and the string is the value;
* ``to_json()``: that dict as JSON text (never ``NaN`` or ``Infinity`` tokens);
* ``__repr__``: the class name and fields, at most :data:`MAX_REPR_LINES`
  lines, long values cut (``to_dict`` has them all); arrays of floats are
  shown to 6 digits, those of a field holding interval ends (``mean_lo``,
  ``ci_high``, …) rounded outward so that the text still bounds;
* ``_repr_html_``: the fields as an HTML table, for Jupyter.

Examples
--------
>>> from dataclasses import dataclass
>>> from fractions import Fraction
>>> @result
... @dataclass
... class Demo:
...     mean: object
...     label: str
>>> d = Demo(Fraction(1, 3), "exact")
>>> d.to_dict()
{'mean': 0.3333333333333333, 'mean_exact': '1/3', 'label': 'exact'}
>>> d
Demo(mean=1/3, label='exact')
"""

from __future__ import annotations

import dataclasses
import html
import json
import math
import re
from fractions import Fraction
from numbers import Integral, Real

import numpy as np

from .lazyimport import is_sympy
from .rounding import rounded

__all__ = ["MAX_REPR_LINES", "MAX_LATEX_ROWS", "result", "plain", "plain_dict", "short_repr", "latex_rows"]

#: The most lines a result's ``repr`` takes.
MAX_REPR_LINES = 20
#: The most rows a result's LaTeX shows.
MAX_LATEX_ROWS = 16
#: The most characters one field takes in a ``repr``.
_FIELD_CHARS = 160


def _number(v):
    """``(float or str or None, exact str or None)`` for one number, or ``None`` when ``v`` is not one."""
    if isinstance(v, bool) or isinstance(v, np.bool_):
        return None
    if isinstance(v, Fraction):
        return _finite(float(v)), str(v)
    if isinstance(v, Integral):
        return int(v), None
    if isinstance(v, (float, np.floating)) or (isinstance(v, Real) and not is_sympy(v)):
        return _finite(float(v)), None
    if is_sympy(v):
        if v.is_Integer:
            return int(v), None
        if v.is_number:
            try:
                f = _finite(float(v))
            except (TypeError, ValueError):
                f = None
            return f, str(v)
        return None, str(v)
    return None


def _finite(f):
    return f if math.isfinite(f) else ("nan" if math.isnan(f) else ("inf" if f > 0 else "-inf"))


def _split(v):
    """``(plain, exact, has_exact)`` for a number, an array or a nested sequence of numbers."""
    n = _number(v)
    if n is not None:
        return n[0], n[1], n[1] is not None
    if isinstance(v, np.ndarray) and v.dtype.kind in "biuf":
        if v.dtype.kind == "f":
            return _split(v.astype(object))[0], None, False
        return v.tolist(), None, False
    if isinstance(v, (np.ndarray, list, tuple)):
        seq = v.tolist() if isinstance(v, np.ndarray) and v.dtype.kind != "O" else list(v)
        items = [_split(x) for x in seq]
        if any(i is None for i in items):
            return None
        has = any(h for _, _, h in items)
        return [p for p, _, _ in items], (_exact_text(seq) if has else None), has
    return None


def _exact_text(v):
    """The exact strings of a (nested) sequence of numbers: ``None`` for a float (it is its own value)."""
    if isinstance(v, (np.ndarray, list, tuple)):
        return [_exact_text(x) for x in (v.tolist() if isinstance(v, np.ndarray) and v.dtype.kind != "O" else v)]
    p, e = _number(v)
    return e if e is not None else (str(p) if isinstance(p, int) else None)


def plain(v):
    """A JSON-ready value (exact numbers as floats; see :func:`plain_dict` for the exact strings).

    Examples
    --------
    >>> import numpy as np
    >>> plain(np.array([0.5, np.inf])), plain((1, "a", None)), plain({"k": np.float64(2)})
    ([0.5, 'inf'], [1, 'a', None], {'k': 2.0})
    """
    if v is None or isinstance(v, (str, bool)):
        return v
    if isinstance(v, np.bool_):
        return bool(v)
    s = _split(v)
    if s is not None:
        return s[0]
    if hasattr(v, "to_dict") and not isinstance(v, type):
        return v.to_dict()
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return plain_dict({f.name: getattr(v, f.name) for f in dataclasses.fields(v) if f.repr})
    if isinstance(v, dict):
        return plain_dict(v)
    if isinstance(v, (list, tuple, set, frozenset, np.ndarray)):
        return [plain(x) for x in v]
    return str(v)


def plain_dict(d: dict) -> dict:
    """``d`` JSON-ready, exact values also as strings under ``<key>_exact``.

    Examples
    --------
    >>> from fractions import Fraction
    >>> plain_dict({"var": [Fraction(1, 8), 0.25], "n": 3})
    {'var': [0.125, 0.25], 'var_exact': ['1/8', None], 'n': 3}
    """
    out = {}
    for k, v in d.items():
        k = str(k)
        s = _split(v) if not isinstance(v, (str, bool, type(None))) else None
        if s is not None:
            out[k] = s[0]
            if s[2]:
                out[f"{k}_exact"] = s[1]
        else:
            out[k] = plain(v)
    return out


def _fields(obj) -> dict:
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj) if f.repr}


def _bound_side(name: str):
    """``"down"`` for a field holding lower ends (``mean_lo``, ``ci_low``), ``"up"`` for upper ends, else None."""
    if re.search(r"(^|_)(lo|low|lower)$", name):
        return "down"
    if re.search(r"(^|_)(hi|high|upper)$", name):
        return "up"
    return None


def _value_text(v, side=None) -> str:
    if isinstance(v, np.ndarray):
        # floats shortened to 6 digits: the ends of an interval rounded outward, so the text keeps the bound
        fmt = None if side is None or v.dtype.kind != "f" else {"float_kind": lambda x: rounded(x, side)}
        with np.printoptions(threshold=8, edgeitems=3, precision=6, linewidth=100, formatter=fmt):
            text = np.array2string(v, separator=", ") if v.dtype != object else repr(v.tolist())
    elif isinstance(v, (list, tuple)) and len(v) > 8:
        inner = ", ".join(_value_text(x) for x in v[:6])
        text = f"{'[' if isinstance(v, list) else '('}{inner}, … {len(v) - 6} more{']' if isinstance(v, list) else ')'}"
    elif isinstance(v, dict) and len(v) > 8:
        text = "{" + ", ".join(f"{k!r}: {_value_text(x)}" for k, x in list(v.items())[:6]) + f", … {len(v) - 6} more}}"
    elif isinstance(v, Fraction) or is_sympy(v):
        text = str(v)
    else:
        text = repr(v)
    text = " ".join(text.split())
    return text if len(text) <= _FIELD_CHARS else text[:_FIELD_CHARS - 1] + "…"


def short_repr(obj) -> str:
    """``Name(field=value, …)`` in at most :data:`MAX_REPR_LINES` lines, long values cut.

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class Big:
    ...     xs: tuple
    >>> short_repr(Big(tuple(range(1000))))
    'Big(xs=(0, 1, 2, 3, 4, 5, … 994 more))'
    """
    name = type(obj).__name__
    parts = [f"{k}={_value_text(v, _bound_side(k))}" for k, v in _fields(obj).items()]
    one = f"{name}({', '.join(parts)})"
    if len(one) <= 100:
        return one
    lines = [f"{name}("] + [f"    {p}," for p in parts] + [")"]
    if len(lines) > MAX_REPR_LINES:
        keep = MAX_REPR_LINES - 3
        lines = lines[:keep + 1] + [f"    … {len(parts) - keep} more fields (see .to_dict())", ")"]
    return "\n".join(lines)


def _to_dict(self) -> dict:
    """The fields as JSON-ready values; exact values also as strings under ``<key>_exact``.

    Examples
    --------
    >>> import symft
    >>> d = symft.worst_case(symft.mean_network(3), [1, 2, 3], max_crashes=1).to_dict()
    >>> d["worst_delta"], d["status"]
    (1, 'proved')
    """
    d = _fields(self)
    for name in getattr(type(self), "dict_extra", ()):       # properties worth keeping (e.g. a label)
        d[name] = getattr(self, name)
    return plain_dict(d)


def _to_json(self, **kwargs) -> str:
    """:meth:`to_dict` as JSON text (keyword arguments go to :func:`json.dumps`).

    Examples
    --------
    >>> import json, symft
    >>> json.loads(symft.worst_case(symft.mean_network(3), [1, 2, 3], max_crashes=1).to_json())["status"]
    'proved'
    """
    return json.dumps(self.to_dict(), allow_nan=False, **kwargs)


def latex_rows(rows) -> str:
    r"""``$\displaystyle\begin{aligned} a &= b \\ … \end{aligned}$`` from (lhs, rhs) LaTeX pairs, at most
    :data:`MAX_LATEX_ROWS` of them (the rest counted).

    Examples
    --------
    >>> latex_rows([("x", "1"), ("y", r"\frac{1}{2}")])
    '$\\displaystyle \\begin{aligned}x &= 1 \\\\ y &= \\frac{1}{2}\\end{aligned}$'
    """
    rows = list(rows)
    more = len(rows) - MAX_LATEX_ROWS
    if more > 0:
        rows = rows[:MAX_LATEX_ROWS] + [(r"\dots", rf"\text{{{more} more rows}}")]
    body = r" \\ ".join(f"{a} &= {b}" for a, b in rows)
    return r"$\displaystyle \begin{aligned}" + body + r"\end{aligned}$"


def _repr_html_(self):
    latex = getattr(self, "_repr_latex_", None)
    if latex is not None and latex() is not None:
        return None                    # a symbolic result: the notebook shows its LaTeX
    rows = []
    for k, v in _fields(self).items():
        rows.append(f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
                    f"<td style='text-align:left'>{html.escape(_value_text(v, _bound_side(k)))}</td></tr>")
    return (f"<table><caption style='text-align:left'><b>{html.escape(type(self).__name__)}</b></caption>"
            + "".join(rows) + "</table>")


def result(cls):
    """Give a result dataclass ``to_dict``/``to_json`` (unless it has them), a short repr and an HTML table.

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> @result
    ... @dataclass
    ... class R:
    ...     value: float
    >>> R(0.5).to_json(), R(0.5)._repr_html_().startswith("<table>")
    ('{"value": 0.5}', True)
    """
    if "to_dict" not in cls.__dict__:
        cls.to_dict = _to_dict
    if "to_json" not in cls.__dict__:
        cls.to_json = _to_json
    if "_repr_html_" not in cls.__dict__:
        cls._repr_html_ = _repr_html_
    cls.__repr__ = short_repr
    return cls
