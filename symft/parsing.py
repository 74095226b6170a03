r"""Parsers for the CLI conventions every subcommand shares.

* ``--input``: comma-separated numbers (``"1,0.5,1/3"``) or ``@FILE`` with one
  or many inputs — ``.json`` (a list of numbers, a list of lists, or an object
  with an ``"inputs"`` list), ``.npy`` (1-D or 2-D array) or ``.csv`` (one
  input per row).
* ``--p``: ``LAYER:P[,LAYER:P…]`` (layer 0 = input) or a bare probability
  meaning every hidden layer; ``P`` is a decimal, a rational ``1/1000``, or
  (where a command allows it) a symbol name such as ``p``.
* ``--crash``: ``LAYER:I,J,…`` (0-based neuron indices), repeatable.

Each parser raises :class:`~symft.errors.InvalidArgument` with a message that
names the option (and the file) and what was expected.

Examples
--------
>>> from symft.parsing import parse_inputs, parse_p, parse_crashes
>>> parse_inputs("1, 2.5, 1/4").values
array([[1.  , 2.5 , 0.25]])
>>> parse_p("0:0.01,2:1/1000")
{0: 0.01, 2: 1/1000}
>>> parse_crashes(["1:0,2", "0:3"]).neurons == {(1, 0), (1, 2), (0, 3)}
True
"""

from __future__ import annotations

import csv
import json
import os
import re
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy as sp

from .errors import InvalidArgument
from .faults import CrashPattern, check_probability

__all__ = ["Inputs", "parse_inputs", "parse_p", "parse_crashes", "parse_number"]

_SYMBOL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def parse_number(token: str, where: str):
    """Parse one number: an int, a decimal or a rational ``a/b`` (kept exact when not a decimal).

    Returns an ``int``, ``float`` or ``Fraction``.

    Examples
    --------
    >>> parse_number("3", "--input"), parse_number("0.5", "--input"), parse_number("-1/3", "--input")
    (3, 0.5, Fraction(-1, 3))
    >>> parse_number("abc", "--input[2]")
    Traceback (most recent call last):
    ...
    symft.errors.InvalidArgument: --input[2]: expected a number (like 0.5 or 1/3), got 'abc'
    """
    t = token.strip()
    try:
        if re.fullmatch(r"[+-]?\d+", t):
            return int(t)
        if re.fullmatch(r"[+-]?\d+\s*/\s*\d+", t):
            f = Fraction(t.replace(" ", ""))
            return f
        v = float(t)
    except (ValueError, ZeroDivisionError):
        raise InvalidArgument(f"{where}: expected a number (like 0.5 or 1/3), got {token!r}") from None
    if not np.isfinite(v):
        raise InvalidArgument(f"{where}: expected a finite number, got {token!r}")
    return v


@dataclass(frozen=True, eq=False)
class Inputs:
    """Parsed ``--input``: float values ``(B, n_0)``, exact rows, and whether one input was given.

    ``rows`` keeps each number as written (int, Fraction or float) for exact
    evaluation.

    Examples
    --------
    >>> parse_inputs("1/3,2").rows
    [[Fraction(1, 3), 2]]
    """

    values: np.ndarray
    rows: list
    single: bool
    source: str


def _check_rows(rows, where):
    if not rows:
        raise InvalidArgument(f"{where}: expected at least one input, got none")
    n = len(rows[0])
    if n == 0:
        raise InvalidArgument(f"{where}: expected at least one number per input")
    for r, row in enumerate(rows):
        if len(row) != n:
            raise InvalidArgument(f"{where}: input {r} has {len(row)} numbers, expected {n} like input 0")


def _json_value(v, where):
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        raise InvalidArgument(f"{where}: expected a number, got {json.dumps(v)}")
    if isinstance(v, str):
        return parse_number(v, where)
    if isinstance(v, float) and not np.isfinite(v):
        raise InvalidArgument(f"{where}: expected a finite number, got {v}")
    return v


def _from_file(path, opt):
    where = f"{opt} @{path}"
    if not os.path.exists(path):
        raise InvalidArgument(f"{where}: no such file")
    ext = os.path.splitext(path)[1].lower()
    try:
        if ext == ".json":
            with open(path, encoding="utf-8") as fh:
                try:
                    data = json.load(fh, parse_constant=lambda c: float("nan"))
                except json.JSONDecodeError as e:
                    raise InvalidArgument(f"{where}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") \
                        from None
            if isinstance(data, dict):
                if "inputs" not in data:
                    raise InvalidArgument(f"{where}: expected a list of numbers, a list of lists, "
                                          "or an object with an \"inputs\" list")
                data = data["inputs"]
            if not isinstance(data, list) or not data:
                raise InvalidArgument(f"{where}: expected a non-empty list of numbers or of lists of numbers")
            single = not isinstance(data[0], list)
            raw = [data] if single else data
            rows = []
            for r, row in enumerate(raw):
                if not isinstance(row, list):
                    raise InvalidArgument(f"{where}: inputs[{r}]: expected a list of numbers")
                rows.append([_json_value(v, f"{where}: inputs[{r}][{c}]" if not single else f"{where}: [{c}]")
                             for c, v in enumerate(row)])
            return rows, single
        if ext == ".npy":
            try:
                a = np.load(path, allow_pickle=False)
            except ValueError as e:
                raise InvalidArgument(f"{where}: not a numeric .npy array ({e})") from None
            if a.ndim not in (1, 2) or not (np.issubdtype(a.dtype, np.number)) or np.iscomplexobj(a):
                raise InvalidArgument(f"{where}: expected a 1-D or 2-D real array, got {a.dtype} {a.shape}")
            single = a.ndim == 1
            rows = (a[None, :] if single else a).astype(float).tolist()
            return rows, single
        if ext == ".csv":
            with open(path, encoding="utf-8", newline="") as fh:
                lines = [row for row in csv.reader(fh) if row and any(c.strip() for c in row)]
            rows = [[parse_number(c, f"{where}: row {r}, column {c_i}") for c_i, c in enumerate(row)]
                    for r, row in enumerate(lines)]
            return rows, len(rows) == 1
    except UnicodeDecodeError:
        raise InvalidArgument(f"{where}: not a text file") from None
    except OSError as e:
        raise InvalidArgument(f"{where}: cannot be read ({e.strerror})") from None
    raise InvalidArgument(f"{where}: unknown file type {ext!r}; expected .json, .npy or .csv")


def parse_inputs(text: str, opt: str = "--input") -> Inputs:
    """Parse the ``--input`` convention (see the module docstring).

    Examples
    --------
    >>> parse_inputs("1,2,3").single
    True
    >>> parse_inputs("1,,3")
    Traceback (most recent call last):
    ...
    symft.errors.InvalidArgument: --input[1]: expected a number (like 0.5 or 1/3), got ''
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidArgument(f"{opt}: expected comma-separated numbers or @FILE")
    text = text.strip()
    if text.startswith("@"):
        rows, single = _from_file(text[1:], opt)
        source = text[1:]
    else:
        rows = [[parse_number(t, f"{opt}[{i}]") for i, t in enumerate(text.split(","))]]
        single, source = True, "command line"
    _check_rows(rows, opt if source == "command line" else f"{opt} @{source}")
    values = np.array([[float(v) for v in row] for row in rows], dtype=float)
    if not np.isfinite(values).all():
        r, c = np.argwhere(~np.isfinite(values))[0]
        raise InvalidArgument(f"{opt}: input {r}, entry {c}: expected a finite number")
    return Inputs(values, rows, single, source)


def parse_p(text: str, net=None, *, opt: str = "--p", allow_symbols: bool = False) -> dict:
    """Parse ``--p``: ``LAYER:P[,LAYER:P…]`` or a bare ``P`` for every hidden layer.

    Parameters
    ----------
    text : str
    net : Network, optional
        Needed for a bare ``P`` (to know the hidden layers) and to check that
        each layer exists.
    allow_symbols : bool
        Accept a symbol name (``0:p``) as a probability.

    Returns
    -------
    dict {layer: probability}
        Floats for decimals, exact SymPy rationals for ``a/b``, symbols when
        allowed.

    Examples
    --------
    >>> from symft.network import random_network
    >>> parse_p("0.001", random_network([2, 3, 3, 1], seed=0))
    {1: 0.001, 2: 0.001}
    >>> parse_p("1:p", allow_symbols=True)
    {1: p}
    >>> parse_p("1:1.5")
    Traceback (most recent call last):
    ...
    symft.errors.FaultModelError: --p 1: expected a probability in [0, 1], got 1.5
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidArgument(f"{opt}: expected LAYER:P[,LAYER:P…] or a bare probability")

    def prob(tok, where):
        tok = tok.strip()
        if allow_symbols and _SYMBOL.match(tok):
            return check_probability(sp.Symbol(tok, nonnegative=True), where)
        try:
            v = parse_number(tok, where)
        except InvalidArgument:
            hint = "" if allow_symbols else " (symbols are not accepted by this command)" if _SYMBOL.match(tok) else ""
            raise InvalidArgument(f"{where}: expected a probability like 0.001 or 1/1000, got {tok!r}{hint}") \
                from None
        v = sp.Rational(v.numerator, v.denominator) if isinstance(v, Fraction) else v
        return check_probability(v, where)

    text = text.strip()
    if ":" not in text:
        p = prob(text, opt)
        if net is None:
            raise InvalidArgument(f"{opt}: a bare probability means every hidden layer; give LAYER:P instead")
        if net.depth < 2:
            raise InvalidArgument(f"{opt}: a bare probability means every hidden layer, but the network has "
                                  f"none (L = {net.depth}); use LAYER:P, e.g. 0:{text} for the inputs")
        return {l: p for l in range(1, net.depth)}
    out = {}
    for part in text.split(","):
        if part.count(":") != 1:
            raise InvalidArgument(f"{opt}: expected LAYER:P, got {part.strip()!r}")
        ls, ps = part.split(":")
        ls = ls.strip()
        if not re.fullmatch(r"\d+", ls):
            raise InvalidArgument(f"{opt}: layer {ls!r}: expected a non-negative integer")
        l = int(ls)
        if l in out:
            raise InvalidArgument(f"{opt}: layer {l} is given twice")
        if net is not None and l > net.depth:
            raise InvalidArgument(f"{opt}: layer {l} does not exist; the network has layers 0 … {net.depth}")
        out[l] = prob(ps, f"{opt} {l}")
    return out


def parse_crashes(specs, net=None, *, opt: str = "--crash") -> CrashPattern:
    """Parse repeated ``LAYER:I,J,…`` into one :class:`~symft.faults.CrashPattern`.

    Examples
    --------
    >>> from symft.network import mean_network
    >>> parse_crashes(["0:1"], mean_network(2)).neurons
    frozenset({(0, 1)})
    >>> parse_crashes(["0:4"], mean_network(2))
    Traceback (most recent call last):
    ...
    symft.errors.FaultModelError: --crash: neuron index 4 out of range for layer 0 (n_0 = 2, indices 0 … 1)
    >>> parse_crashes(["1-2"])
    Traceback (most recent call last):
    ...
    symft.errors.InvalidArgument: --crash: expected LAYER:I,J,… (e.g. 1:0,3), got '1-2'
    """
    neurons = set()
    for spec in specs or ():
        m = re.fullmatch(r"\s*(\d+)\s*:\s*(\d+(?:\s*,\s*\d+)*)\s*", spec or "")
        if not m:
            raise InvalidArgument(f"{opt}: expected LAYER:I,J,… (e.g. 1:0,3), got {spec!r}")
        l = int(m.group(1))
        neurons.update((l, int(i)) for i in m.group(2).split(","))
    pattern = CrashPattern(frozenset(neurons))
    if net is not None:
        pattern.check(net, opt)
    return pattern
