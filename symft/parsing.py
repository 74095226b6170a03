r"""Parsers for the CLI conventions every subcommand shares.

* ``--input``: comma-separated numbers (``"1,0.5,1/3"``) or ``@FILE`` with one
  or many inputs — ``.json`` (a list of numbers, a list of lists, or an object
  with an ``"inputs"`` list), ``.npy`` (1-D or 2-D array; given the network,
  also an array shaped like its input, with or without a batch axis) or
  ``.csv`` (one input per row).  Inputs are flat rows, row-major; a model with
  an image input takes its total input size per row.
* ``--p``: ``SITE:P[,SITE:P…]`` or a bare probability meaning every hidden
  site; a site is a crash site's name (``features.1``) or number (its
  position among the sites, 0 = the input; for a chain of dense layers the
  layer number); ``P`` is a decimal, a rational ``1/1000``, or (where a
  command allows it) a symbol name such as ``p``.
* ``--crash``: ``SITE:I,J,…`` (0-based neuron indices, row-major in the
  site's tensor), repeatable.

Site names on the command line are printable ASCII without ``:`` or ``,``;
any other site is addressed by its number.

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
import math
import os
import re
import sys
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from .lazyimport import sympy as sp

from .errors import InvalidArgument
from .faults import CrashPattern, check_probability, numbered_site_name, site_key
from .utils import MAX_DIGITS, short_text, exact_decimal, load_json

__all__ = ["Inputs", "parse_inputs", "parse_p", "parse_crashes", "parse_number", "parse_integer", "parse_real",
           "parse_exact", "check_output_file"]

_SYMBOL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$", re.ASCII)
#: A site name on the command line: printable ASCII without ":" or "," (other names: use the site's number).
_SITE = re.compile(r"[!-+\--9;-~](?:[ -+\--9;-~]*[!-+\--9;-~])?", re.ASCII)
_NOT_FINITE = re.compile(r"^[+-]?(nan|inf|infinity)$", re.IGNORECASE)
_INT = re.compile(r"^[+-]?[0-9]+$", re.ASCII)
_RATIONAL = re.compile(r"^([+-]?[0-9]+)\s*/\s*([0-9]+)$", re.ASCII)
_DECIMAL = re.compile(r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$", re.ASCII)
_FLOAT_MAX = Fraction(sys.float_info.max)


def _in_float_range(q: Fraction, token, where):
    """Refuse an exact value that float64 cannot hold: beyond ±1.8e308, or non-zero but rounding to 0."""
    if abs(q) > _FLOAT_MAX:
        raise InvalidArgument(f"{where}: {short_text(token)!r} is beyond the float64 range (|x| ≤ 1.8e308)")
    if q != 0 and float(q) == 0.0:
        raise InvalidArgument(f"{where}: {short_text(token)!r} is too small for float64 (it rounds to 0)")


def parse_number(token: str, where: str):
    """Parse one number: an int, a decimal or a rational ``a/b`` (kept exact when not a decimal).

    Returns an ``int``, ``float`` or ``Fraction``.  Only ASCII digits are
    read; the value must fit in float64 (``1e400`` is refused, and so is a
    non-zero ``1e-400`` that would round to 0) and integers may have at most
    :data:`~symft.utils.MAX_DIGITS` digits.

    Examples
    --------
    >>> parse_number("3", "--input"), parse_number("0.5", "--input"), parse_number("-1/3", "--input")
    (3, 0.5, Fraction(-1, 3))
    >>> parse_number("abc", "--input[2]")
    Traceback (most recent call last):
    ...
    symft.errors.InvalidArgument: --input[2]: expected a number (like 0.5 or 1/3), got 'abc'
    >>> parse_number("1e400", "--input[0]")
    Traceback (most recent call last):
    ...
    symft.errors.InvalidArgument: --input[0]: '1e400' is beyond the float64 range (|x| ≤ 1.8e308)
    """
    if not isinstance(token, str):
        raise InvalidArgument(f"{where}: expected a number (like 0.5 or 1/3), got {token!r}")
    t = token.strip()
    if _NOT_FINITE.match(t):
        raise InvalidArgument(f"{where}: expected a finite number, got {short_text(token)!r}")
    if len(t) > 2 * MAX_DIGITS + 10:
        raise InvalidArgument(f"{where}: expected a number of at most {MAX_DIGITS} digits, got "
                              f"{len(t)} characters")
    if _INT.match(t):
        if len(t.lstrip("+-")) > MAX_DIGITS:
            raise InvalidArgument(f"{where}: expected a number of at most {MAX_DIGITS} digits, got "
                                  f"{len(t.lstrip('+-'))} digits")
        v = int(t)
        _in_float_range(Fraction(v), token, where)
        return v
    m = _RATIONAL.match(t)
    if m:
        if max(len(m.group(1).lstrip("+-")), len(m.group(2))) > MAX_DIGITS:
            raise InvalidArgument(f"{where}: expected a number of at most {MAX_DIGITS} digits")
        if int(m.group(2)) == 0:
            raise InvalidArgument(f"{where}: expected a number (like 0.5 or 1/3), got {token!r} (division by zero)")
        f = Fraction(int(m.group(1)), int(m.group(2)))
        _in_float_range(f, token, where)
        return f
    if not _DECIMAL.match(t):
        raise InvalidArgument(f"{where}: expected a number (like 0.5 or 1/3), got {short_text(token)!r}")
    v = float(t)
    if not math.isfinite(v):
        raise InvalidArgument(f"{where}: {short_text(token)!r} is beyond the float64 range (|x| ≤ 1.8e308)")
    if v == 0.0 and re.search(r"[1-9]", t.lower().partition("e")[0]):
        raise InvalidArgument(f"{where}: {short_text(token)!r} is too small for float64 (it rounds to 0)")
    return v


def parse_integer(token: str, where: str, lo: int | None = None, hi: int | None = None, *,
                  max_digits: int = 40) -> int:
    """Parse an integer option value (ASCII digits, at most ``max_digits``) and check ``lo ≤ value ≤ hi``.

    Examples
    --------
    >>> parse_integer("12", "--samples", 2)
    12
    >>> parse_integer("1e20", "--samples", 2, 10 ** 10)
    Traceback (most recent call last):
    ...
    symft.errors.InvalidArgument: --samples: expected an integer in 2 … 10000000000, got '1e20'
    """
    rng = (f"an integer in {lo} … {hi}" if lo is not None and hi is not None else
           f"an integer ≥ {lo}" if lo is not None else f"an integer ≤ {hi}" if hi is not None else "an integer")
    t = token.strip() if isinstance(token, str) else ""
    if not _INT.match(t):
        raise InvalidArgument(f"{where}: expected {rng}, got {short_text(token)!r}")
    if len(t.lstrip("+-")) > max_digits:
        raise InvalidArgument(f"{where}: expected {rng} of at most {max_digits} digits, got "
                              f"{len(t.lstrip('+-'))} digits")
    v = int(t)
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise InvalidArgument(f"{where}: expected {rng}, got {short_text(token)!r}")
    return v


def _interval(lo, hi, lo_open, hi_open) -> str:
    if lo is not None and hi is not None:
        return f"a number in {'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
    if lo is not None:
        return f"a number {'>' if lo_open else '≥'} {lo:g}"
    if hi is not None:
        return f"a number {'<' if hi_open else '≤'} {hi:g}"
    return "a finite number"


def parse_exact(token: str, where: str, lo=None, hi=None, *, lo_open: bool = False,
                hi_open: bool = False) -> Fraction:
    """Parse a number option exactly (decimals as written: ``"0.1"`` is 1/10) and check its range.

    The value must also fit in float64 (see :func:`parse_number`).

    Examples
    --------
    >>> parse_exact("0.1", "--eps", 0, lo_open=True)
    Fraction(1, 10)
    >>> parse_exact("nan", "--epsilon")
    Traceback (most recent call last):
    ...
    symft.errors.InvalidArgument: --epsilon: expected a finite number, got 'nan'
    >>> parse_exact("-1", "--C", 0)
    Traceback (most recent call last):
    ...
    symft.errors.InvalidArgument: --C: expected a number ≥ 0, got '-1'
    """
    v = parse_number(token, where)
    q = exact_decimal(token.strip(), where) if isinstance(v, float) else Fraction(v)
    if ((lo is not None and (q < lo or (lo_open and q == lo)))
            or (hi is not None and (q > hi or (hi_open and q == hi)))):
        raise InvalidArgument(f"{where}: expected {_interval(lo, hi, lo_open, hi_open)}, got {short_text(token)!r}")
    return q


def parse_real(token: str, where: str, lo=None, hi=None, *, lo_open: bool = False,
               hi_open: bool = False) -> float:
    """Parse a finite float option and check its range (see :func:`parse_exact`).

    Examples
    --------
    >>> parse_real("0.95", "--confidence", 0, 1, lo_open=True, hi_open=True)
    0.95
    >>> parse_real("1", "--confidence", 0, 1, lo_open=True, hi_open=True)
    Traceback (most recent call last):
    ...
    symft.errors.InvalidArgument: --confidence: expected a number in (0, 1), got '1'
    """
    parse_exact(token, where, lo, hi, lo_open=lo_open, hi_open=hi_open)
    return float(parse_number(token, where))


#: File types a matplotlib figure can be written as (without a backend that adds more).
FIGURE_SUFFIXES = (".png", ".pdf", ".svg", ".eps", ".ps", ".jpg", ".jpeg", ".tif", ".tiff", ".webp")


def check_output_file(path: str, where: str, suffixes=FIGURE_SUFFIXES) -> str:
    """Check that ``path`` names a file that can be created: its folder exists, it is not a folder,
    and it ends in one of ``suffixes`` (so nothing appends a suffix of its own).

    Examples
    --------
    >>> check_output_file("out.png", "--figure")
    'out.png'
    >>> check_output_file("no/such/folder/out.png", "--figure")
    Traceback (most recent call last):
    ...
    symft.errors.InvalidArgument: --figure: the folder 'no/such/folder' does not exist
    >>> check_output_file("out", "--figure")
    Traceback (most recent call last):
    ...
    symft.errors.InvalidArgument: --figure: expected a file name ending in .png, .pdf, .svg, .eps, .ps, .jpg, .jpeg, .tif, .tiff, .webp, got 'out'
    """
    if not isinstance(path, str) or not path.strip():
        raise InvalidArgument(f"{where}: expected a file name")
    if os.path.isdir(path):
        raise InvalidArgument(f"{where}: {short_text(path)!r} is a folder; expected a file name such as "
                              f"{os.path.join(path, 'figure' + suffixes[0])!r}")
    if os.path.splitext(path)[1].lower() not in suffixes:
        raise InvalidArgument(f"{where}: expected a file name ending in {', '.join(suffixes)}, got {short_text(path)!r}")
    folder = os.path.dirname(path)
    if folder and not os.path.isdir(folder):
        raise InvalidArgument(f"{where}: the folder {short_text(folder)!r} does not exist")
    if len(os.path.basename(path).encode("utf-8", "surrogateescape")) > 255:
        raise InvalidArgument(f"{where}: the file name is longer than 255 bytes")
    return path


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
        shown = "null" if v is None else "true" if v is True else "false" if v is False else \
            "a list" if isinstance(v, list) else "an object"
        raise InvalidArgument(f"{where}: expected a number, got {shown}")
    if isinstance(v, str):
        return parse_number(v, where)
    if isinstance(v, float) and not np.isfinite(v):
        raise InvalidArgument(f"{where}: expected a finite number, got {v}")
    if isinstance(v, int):
        _in_float_range(Fraction(v), str(v), where)
    return v


def _from_file(path, opt, net=None):
    where = f"{opt} @{path}"
    if not os.path.exists(path):
        raise InvalidArgument(f"{where}: no such file")
    ext = os.path.splitext(path)[1].lower()
    try:
        if ext == ".json":
            with open(path, encoding="utf-8") as fh:
                data = load_json(fh.read(), where)
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
            except (ValueError, EOFError) as e:
                raise InvalidArgument(f"{where}: not a numeric .npy array ({e})") from None
            ishape = tuple(net.input_shape) if net is not None else ()
            if len(ishape) > 1 and np.issubdtype(a.dtype, np.number) and not np.iscomplexobj(a):
                if a.shape == ishape:                                   # one input, shaped like the model's
                    return a.reshape(1, -1).astype(float).tolist(), True
                if a.ndim == len(ishape) + 1 and a.shape[1:] == ishape:   # a batch of them
                    return a.reshape(a.shape[0], -1).astype(float).tolist(), False
            if a.ndim not in (1, 2) or not (np.issubdtype(a.dtype, np.number)) or np.iscomplexobj(a):
                shaped = f", or of shape {ishape} with or without a batch axis" if len(ishape) > 1 else ""
                raise InvalidArgument(f"{where}: expected a 1-D or 2-D real array{shaped}, got {a.dtype} {a.shape}")
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
    except csv.Error as e:
        raise InvalidArgument(f"{where}: not a readable .csv file ({e})") from None
    except OSError as e:
        raise InvalidArgument(f"{where}: cannot be read ({e.strerror})") from None
    raise InvalidArgument(f"{where}: unknown file type {ext!r}; expected .json, .npy or .csv")


def parse_inputs(text: str, opt: str = "--input", net=None) -> Inputs:
    """Parse the ``--input`` convention (see the module docstring).

    ``net`` (optional) is the network the inputs are for: with it, a ``.npy``
    file may hold one input shaped like the network's input
    (``net.input_shape``) or a batch of them (``(B,) + input_shape``); rows
    are then the flattened inputs (row-major).

    Examples
    --------
    >>> parse_inputs("1,2,3").single
    True
    >>> import os, tempfile
    >>> from symft.graph.network import Network
    >>> from symft.graph.ops import Input, Flatten
    >>> net = Network([("x", Input((1, 2, 2)), ()), ("f", Flatten(), ("x",))])
    >>> with tempfile.TemporaryDirectory() as d:
    ...     np.save(os.path.join(d, "img.npy"), np.arange(4.0).reshape(1, 2, 2))
    ...     parse_inputs("@" + os.path.join(d, "img.npy"), net=net).values
    array([[0., 1., 2., 3.]])
    >>> parse_inputs("1,,3")
    Traceback (most recent call last):
    ...
    symft.errors.InvalidArgument: --input[1]: expected a number (like 0.5 or 1/3), got ''
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidArgument(f"{opt}: expected comma-separated numbers or @FILE")
    text = text.strip()
    if text.startswith("@"):
        rows, single = _from_file(text[1:], opt, net)
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
    """Parse ``--p``: ``SITE:P[,SITE:P…]`` or a bare ``P`` for every hidden site.

    Parameters
    ----------
    text : str
    net : Network, optional
        Needed for a bare ``P`` (to know the hidden sites) and to check that
        each site exists.  A site is a number (its position; the layer number
        when the sites are named by layers, as in version-1 chains) or a name.
    allow_symbols : bool
        Accept a symbol name (``0:p``) as a probability.

    Returns
    -------
    dict {site: probability}
        Sites as numbers (int) or names (str); probabilities as floats for
        decimals, exact SymPy rationals for ``a/b``, symbols when allowed.

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> parse_p("0.001", random_network([2, 3, 3, 1], seed=0))
    {1: 0.001, 2: 0.001}
    >>> parse_p("1:p", allow_symbols=True)
    {1: p}
    >>> from symft.graph.network import Network
    >>> from symft.graph.ops import ActivationOp, Add, Input
    >>> g = Network([("x", Input((2,)), ()), ("h", ActivationOp("relu"), ("x",)), ("y", Add(), ("x", "h"))])
    >>> parse_p("h:1/10", g), parse_p("0.5", g)
    ({'h': 1/10}, {'h': 0.5})
    >>> parse_p("1:1.5")
    Traceback (most recent call last):
    ...
    symft.errors.FaultModelError: --p 1: expected a probability in [0, 1], got 1.5
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidArgument(f"{opt}: expected LAYER:P[,LAYER:P…] or a bare probability")

    def prob(tok, where):
        tok = tok.strip()
        if _NOT_FINITE.match(tok):
            raise InvalidArgument(f"{where}: expected a probability like 0.001 or 1/1000, got {tok!r}")
        if allow_symbols and _SYMBOL.match(tok):
            return check_probability(sp.Symbol(tok, nonnegative=True), where)
        try:
            v = parse_number(tok, where)
        except InvalidArgument:
            hint = "" if allow_symbols else " (symbols are not accepted by this command)" if _SYMBOL.match(tok) else ""
            raise InvalidArgument(f"{where}: expected a probability like 0.001 or 1/1000, got {short_text(tok)!r}{hint}") \
                from None
        v = sp.Rational(v.numerator, v.denominator) if isinstance(v, Fraction) else v
        return check_probability(v, where)

    text = text.strip()
    # sites named by layer numbers (every version-1 chain): a key must be a number
    chain = net is not None and all(s.isdigit() for s in net.sites)
    if ":" not in text:
        p = prob(text, opt)
        if net is None:
            raise InvalidArgument(f"{opt}: a bare probability means every hidden site; give SITE:P instead")
        if not net.hidden_sites:
            first = "0"
            raise InvalidArgument(f"{opt}: a bare probability means every hidden site, but the network has "
                                  f"none (sites {', '.join(net.sites)}); use SITE:P, e.g. {first}:{text} for "
                                  "the inputs")
        return {site_key(s): p for s in net.hidden_sites}
    out = {}
    for part in text.split(","):
        if part.count(":") != 1:
            raise InvalidArgument(f"{opt}: expected {'LAYER' if chain or net is None else 'SITE'}:P, got "
                                  f"{short_text(part.strip())!r}")
        ls, ps = part.split(":")
        ls = ls.strip()
        if re.fullmatch(r"[0-9]{1,9}", ls):
            key = int(ls)
        elif not chain and _SITE.fullmatch(ls):
            key = ls
        else:
            what = "a non-negative integer" if chain else "a site name or a site number"
            raise InvalidArgument(f"{opt}: {'layer' if chain else 'site'} {short_text(ls)!r}: expected {what}")
        if key in out:
            raise InvalidArgument(f"{opt}: {'layer' if isinstance(key, int) else 'site'} {key} is given twice")
        if net is not None:
            numbered_site_name(net, key, opt)  # sites named by numbers (module paths): a number is a name
            name = net.site(key, opt)        # refuses a site that does not exist, naming the sites
            if any(net.site(k, opt) == name for k in out):
                raise InvalidArgument(f"{opt}: site {name!r} is given twice")
        out[key] = prob(ps, f"{opt} {key}")
    return out


def parse_crashes(specs, net=None, *, opt: str = "--crash") -> CrashPattern:
    """Parse repeated ``SITE:I,J,…`` (a site name, or a number such as a layer) into one crash pattern.

    Returns a :class:`~symft.faults.CrashPattern` (checked against ``net`` when given).

    Examples
    --------
    >>> parse_crashes(["relu1:0,2"]).neurons == {("relu1", 0), ("relu1", 2)}
    True
    >>> from symft.graph.network import mean_network
    >>> parse_crashes(["0:1"], mean_network(2)).neurons
    frozenset({(0, 1)})
    >>> parse_crashes(["0:4"], mean_network(2))
    Traceback (most recent call last):
    ...
    symft.errors.FaultModelError: --crash: neuron index 4 out of range for layer 0 (n_0 = 2, indices 0 … 1)
    >>> parse_crashes(["1-2"])
    Traceback (most recent call last):
    ...
    symft.errors.InvalidArgument: --crash: expected LAYER:I,J,… or SITE:I,J,… (e.g. 1:0,3) with indices below 10^9, got '1-2'
    """
    neurons = set()
    for spec in specs or ():
        m = re.fullmatch(r"\s*([^:,]+?)\s*:\s*([0-9]{1,9}(?:\s*,\s*[0-9]{1,9})*)\s*", spec or "", re.ASCII)
        site = m and m.group(1)
        if not m or not (re.fullmatch(r"[0-9]{1,9}", site) or _SITE.fullmatch(site)):
            raise InvalidArgument(f"{opt}: expected LAYER:I,J,… or SITE:I,J,… (e.g. 1:0,3) with indices below "
                                  f"10^9, got {short_text(spec)!r}")
        key = site_key(site, opt)
        neurons.update((key, int(i)) for i in m.group(2).split(","))
    pattern = CrashPattern(frozenset(neurons))
    if net is not None:
        pattern.check(net, opt)
    return pattern
