r"""The JSON convention of every command's ``--json`` output, in one place.

One object per run: ``command``, ``version``, ``settings`` (the options it ran
with), the result's fields, ``warnings``.  Inside:

* numbers are JSON numbers; an exact value (a fraction, an exact SymPy
  number) is the nearest float under its key and additionally its exact
  text under ``<key>_exact`` (``"1/3"``, ``"sqrt(2)"``; an array of such
  values gets an array of texts, ``null`` where an entry is only a float);
* a formula in symbols (``p``) is ``null`` under its key and its text under
  ``<key>_exact``;
* NaN, ±inf and numbers beyond the float64 range are ``null``, with one line
  in ``warnings`` naming the field;
* intervals are two keys ``<key>_lo`` / ``<key>_hi``; rows are objects with
  named fields; keys are snake_case.

Commands shape their results with :func:`exact_values`, :func:`rows`,
:func:`split_intervals`, :func:`renamed` and :func:`neuron_objects`;
:func:`symft.cli.format.emit` writes the object through :func:`json_safe`.

Examples
--------
>>> json_safe({"a": float("inf"), "b": Fraction(1, 3), "c": (1, 2)})
{'a': None, 'b': 0.3333333333333333, 'b_exact': '1/3', 'c': [1, 2]}
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

import numpy as np

from ..errors import InvalidArgument
from ..lazyimport import is_sympy

__all__ = ["json_safe", "settings_of", "exact_values", "exact_number", "rows", "split_intervals", "renamed",
           "neuron_objects", "site_rows", "input_rows"]

#: Integers with more bits than this are beyond float64 and awkward for JSON readers: written as null + text.
_MAX_INT_BITS = 1000


def json_safe(v, path: str = "result", warnings_out: list | None = None):
    """A copy of ``v`` in the JSON convention, that :func:`json.dumps` accepts with ``allow_nan=False``.

    NaN, ±inf and numbers beyond the float64 range become ``null`` (with a
    line in ``warnings_out`` naming the field); exact numbers (fractions,
    SymPy numbers) become floats and, in a dict, the key also gets a sibling
    ``<key>_exact`` with the exact text (``"1/3"``, ``"sqrt(2)"``); a SymPy
    formula in symbols is ``null`` under the key and its text under
    ``<key>_exact``; a SymPy float is a plain float (it is not exact).
    NumPy scalars and arrays and tuples become JSON numbers and lists.

    Raises
    ------
    InvalidArgument
        For a value of another type (naming its path in the result).

    Examples
    --------
    >>> import sympy as sp
    >>> w = []
    >>> json_safe({"mean": [Fraction(1, 4), sp.Integer(2)], "x": float("nan")}, warnings_out=w)
    {'mean': [0.25, 2], 'mean_exact': ['1/4', '2'], 'x': None}
    >>> w
    ['x is nan: written as null']
    >>> json_safe({"e": sp.Symbol("p") / 2, "f": sp.Float(0.5)})
    {'e': None, 'e_exact': 'p/2', 'f': 0.5}
    """
    warnings_out = [] if warnings_out is None else warnings_out
    return _convert(v, path, warnings_out)[0]


def _null(path, what, warnings_out):
    where = path[len("result."):] if path.startswith("result.") else path
    warnings_out.append(f"{where} is {what}: written as null")
    return None


def _convert(v, path, warnings_out):
    """``(json_value, exact_text_or_None, has_exact)`` of ``v``."""
    if v is None or isinstance(v, bool):
        return v, None, False
    if isinstance(v, np.bool_):
        return bool(v), None, False
    if isinstance(v, str):
        return v, None, False               # text stays text (a node may be called "inf")
    if isinstance(v, (int, np.integer)):
        i = int(v)
        if i.bit_length() > _MAX_INT_BITS:
            return _null(path, "beyond the float64 range", warnings_out), str(i), True
        return i, None, False
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if not math.isfinite(f):
            return _null(path, "nan" if math.isnan(f) else ("inf" if f > 0 else "-inf"), warnings_out), None, False
        return f, None, False
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            k = str(k)
            a, e, has = _convert(x, f"{path}.{k}", warnings_out)
            out[k] = a
            if has and f"{k}_exact" not in v:
                out[f"{k}_exact"] = e
        return out, None, False
    if isinstance(v, np.ndarray):
        v = v.tolist()
    if isinstance(v, (list, tuple)):
        items = [_convert(x, f"{path}[{i}]", warnings_out) for i, x in enumerate(v)]
        has = any(h for _, _, h in items)
        return [a for a, _, _ in items], [e for _, e, _ in items] if has else None, has
    if isinstance(v, Fraction):
        text = str(v.numerator) if v.denominator == 1 else f"{v.numerator}/{v.denominator}"
        return _float_of(v, path, warnings_out), text, True
    if is_sympy(v):
        return _convert_sympy(v, path, warnings_out)
    raise InvalidArgument(f"--json: {path}: cannot be written as JSON ({type(v).__name__})")


def _convert_sympy(v, path, warnings_out):
    import sympy as sp

    if v.free_symbols:
        return None, str(v), True                       # a formula: only its text
    if v in (sp.oo, -sp.oo) or v.has(sp.nan, sp.zoo, sp.oo):
        return _null(path, str(v), warnings_out), str(v), True
    if v.is_Float:
        return _convert(float(v), path, warnings_out)[0], None, False
    if v.is_Integer:
        return _convert(int(v), path, warnings_out)[0], str(v), True
    if v.is_Rational:
        return _float_of(Fraction(int(v.p), int(v.q)), path, warnings_out), str(v), True
    if v.is_number:
        exact = None if v.has(sp.Float) else str(v)     # a float inside makes the text approximate
        try:
            f = float(sp.N(v, 30))
        except (TypeError, ValueError):                 # complex or undefined
            return _null(path, f"not a real number ({v})", warnings_out), exact, exact is not None
        if not math.isfinite(f):
            return _null(path, "beyond the float64 range", warnings_out), exact, exact is not None
        return f, exact, exact is not None
    raise InvalidArgument(f"--json: {path}: cannot be written as JSON ({type(v).__name__})")


def _float_of(q: Fraction, path, warnings_out):
    try:
        return float(q)                                 # correctly rounded
    except OverflowError:
        return _null(path, "beyond the float64 range", warnings_out)


#: Options that are not settings of the computation.
_NOT_SETTINGS = ("func", "json", "debug", "command")
#: Options whose values are names or files, kept as text even when they look like numbers (a site "1").
_NAMES = ("net", "model", "destination", "crash", "sites", "layers", "per_site", "data", "dataset",
          "out", "figure", "init", "scheduler", "arch", "reg")


def settings_of(args) -> dict:
    """The options a command ran with, for the ``settings`` object of its JSON output.

    A single number given as text (``--eps 0.5``, ``--delta 1/100``) becomes a
    JSON number (a fraction also keeps its text under ``<key>_exact``);
    names, files and specifications (``--p 1:0.1``, ``--sites 1``) stay text.

    Examples
    --------
    >>> import argparse
    >>> settings_of(argparse.Namespace(func=print, json=True, p="0:0.1", eps="1/2", seed=0, sites="1"))
    {'p': '0:0.1', 'eps': Fraction(1, 2), 'seed': 0, 'sites': '1'}
    """
    out = {}
    for k, v in vars(args).items():
        if k in _NOT_SETTINGS or callable(v):
            continue
        out[k.lower()] = _setting_value(v, k in _NAMES)
    return out


_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_RATIO = re.compile(r"^[+-]?\d+/\d+$")


def _setting_value(v, name: bool):
    if isinstance(v, str) and not name:
        t = v.strip()
        if _RATIO.match(t):
            try:
                return Fraction(t)
            except ZeroDivisionError:
                return v
        if _NUMBER.match(t):
            if re.match(r"^[+-]?\d+$", t):
                return int(t)
            return float(t)
        return v
    if isinstance(v, (list, tuple)):
        return [_setting_value(x, name) for x in v]
    if v is None or isinstance(v, (str, int, float, bool, Fraction, np.generic)) or is_sympy(v):
        return v
    return str(v)


def exact_number(v):
    """An exact number for the JSON output from its text (``"1/3"``, ``"2"``) or a SymPy value.

    Strings that are rationals become fractions, other strings SymPy
    expressions (``"sqrt(2)"``, ``"p/2"``); ``None`` and floats stay as they
    are.  :func:`json_safe` then writes the float plus ``<key>_exact``.

    Examples
    --------
    >>> import sympy as sp
    >>> exact_number("1/1000"), exact_number(None), exact_number(sp.Rational(1, 2)), exact_number("sqrt(2)")
    (Fraction(1, 1000), None, Fraction(1, 2), sqrt(2))
    """
    if v is None or isinstance(v, (bool, float, np.floating)):
        return v
    if isinstance(v, Fraction):
        return v
    if isinstance(v, (int, np.integer)):
        return Fraction(int(v))
    if is_sympy(v):
        return Fraction(int(v.p), int(v.q)) if v.is_Rational else v
    t = str(v).strip()
    if t.lower().lstrip("+-") in ("inf", "infinity", "nan", "oo"):
        return float(t.replace("oo", "inf"))
    try:
        return Fraction(t)
    except (ValueError, ZeroDivisionError):
        import sympy as sp

        return sp.sympify(t)


def exact_values(d: dict, *keys) -> dict:
    """``d`` with the values under ``keys`` (numbers, texts, nested lists) made exact numbers (:func:`exact_number`).

    Missing keys are skipped.  Used where a library result writes exact
    values as text (``"-1/8"``): the output then has the float under the key
    and the text under ``<key>_exact``.

    Examples
    --------
    >>> exact_values({"mean": ["-1/8", 0.5], "method": "x"}, "mean", "var")
    {'mean': [Fraction(-1, 8), 0.5], 'method': 'x'}
    """
    def conv(v):
        if isinstance(v, (list, tuple, np.ndarray)):
            return [conv(x) for x in v]
        return exact_number(v)

    return {k: (conv(v) if k in keys else v) for k, v in d.items()}


def rows(items, *names) -> list:
    """Positional tuples as objects with named fields.

    Examples
    --------
    >>> rows([(0, 0.5), (1, 0.25)], "output", "bound")
    [{'output': 0, 'bound': 0.5}, {'output': 1, 'bound': 0.25}]
    """
    out = []
    for t in items:
        t = list(t)
        if len(t) != len(names):
            raise InvalidArgument(f"--json: a row of {len(t)} values for the {len(names)} fields {names}")
        out.append(dict(zip(names, t)))
    return out


def split_intervals(d: dict, *keys) -> dict:
    """``d`` with each ``key`` holding ``[lo, hi]`` (or nested lists of such pairs) replaced by ``key_lo`` / ``key_hi``.

    A key holding one number (a point) gets ``key_lo == key_hi``; keys not in
    ``d`` are skipped; the new keys take the old key's place.

    Examples
    --------
    >>> split_intervals({"a": 1, "v": [0.5, 0.75], "w": 2.0, "each": [[0, 1], [2, 3]]}, "v", "w", "each")
    {'a': 1, 'v_lo': 0.5, 'v_hi': 0.75, 'w_lo': 2.0, 'w_hi': 2.0, 'each_lo': [0, 2], 'each_hi': [1, 3]}
    """
    out = {}
    for k, v in d.items():
        if k in keys:
            out[f"{k}_lo"], out[f"{k}_hi"] = _split(v, k)
        else:
            out[k] = v
    return out


def _split(v, key):
    if not isinstance(v, (list, tuple)):
        return v, v
    if len(v) == 2 and not any(isinstance(x, (list, tuple)) for x in v):
        return v[0], v[1]
    if all(isinstance(x, (list, tuple)) for x in v):
        parts = [_split(x, key) for x in v]
        return [a for a, _ in parts], [b for _, b in parts]
    raise InvalidArgument(f"--json: {key}: expected intervals [lo, hi], got {len(v)} values")


def renamed(d: dict, **names) -> dict:
    """``d`` with keys renamed (``old=new``), in place of the old ones.

    Examples
    --------
    >>> renamed({"ci_low": 1, "x": 2}, ci_low="mean_lo")
    {'mean_lo': 1, 'x': 2}
    """
    return {names.get(k, k): v for k, v in d.items()}


def neuron_objects(neurons) -> list:
    """Neurons ``(site, index)`` as JSON rows ``{"site": name, "index": i}``, sorted (numbered sites first).

    A site is always its name as text (``"1"`` for layer 1 of a chain), as
    in ``symft info``.

    Examples
    --------
    >>> neuron_objects([("r", 3), (1, 0)])
    [{'site': '1', 'index': 0}, {'site': 'r', 'index': 3}]
    """
    def key(t):
        s = t[0]
        return (isinstance(s, str) and not s.isdigit(), int(s) if not isinstance(s, str) or s.isdigit() else 0,
                str(s), int(t[1]))

    return [{"site": str(s), "index": int(i)} for s, i in sorted(neurons, key=key)]


def site_rows(mapping, field: str) -> list:
    """A mapping ``{site: value}`` as rows ``{"site": name, field: value}`` (site names are not JSON keys).

    Examples
    --------
    >>> site_rows({1: 0.1, "r": Fraction(1, 4)}, "p")
    [{'site': '1', 'p': 0.1}, {'site': 'r', 'p': Fraction(1, 4)}]
    """
    items = mapping.items() if isinstance(mapping, dict) else mapping
    return [{"site": str(s), field: v} for s, v in items]


def input_rows(results) -> list:
    """One row per input of a batch: each result (an object) with the input's index under ``input`` first.

    Commands that answer per input (``worst``, ``check``, ``certify``, ``derive``) write these rows
    under ``per_input`` when ``--input`` holds several inputs.

    Examples
    --------
    >>> input_rows([{"status": "proved"}, {"status": "found"}])
    [{'input': 0, 'status': 'proved'}, {'input': 1, 'status': 'found'}]
    """
    return [{"input": b, **r} for b, r in enumerate(results)]
