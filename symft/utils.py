"""Small shared helpers: seeds, exact numbers, validation.

Randomness enters symft only through an explicit ``seed`` normalised by
:func:`as_rng` (one place), and exact values through :func:`to_exact`.

Examples
--------
>>> bool(as_rng(3).integers(10) == as_rng(3).integers(10))
True
>>> to_exact("1/3")
1/3
"""

from __future__ import annotations

import ast
import json
import math
import re
from fractions import Fraction
from numbers import Integral, Real

import numpy as np
from .lazyimport import sympy as sp

from .errors import InvalidArgument

__all__ = ["fraction_down", "fraction_up", "first_true", "as_rng", "to_exact", "parse_number_string", "exact_decimal", "is_exact_number", "json_number",
           "jsonable", "check_text", "short_text", "load_json", "MAX_DIGITS", "MAX_JSON_DEPTH"]

#: The most decimal digits an exact number may have (numerator or denominator): Python's own
#: limit for converting strings to integers, which also keeps exact arithmetic from exploding.
MAX_DIGITS = 4300
#: The deepest nesting of lists and objects accepted in a JSON file.
MAX_JSON_DEPTH = 100
#: The longest string accepted as one number or expression.
MAX_EXPR_CHARS = 20000

_NUMBER = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?(\s*/\s*\d+)?\s*$", re.ASCII)
_DECIMAL = re.compile(r"^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$", re.ASCII)
_EXPR_CHARS = re.compile(r"^[0-9A-Za-z_+\-*/(). ]+$", re.ASCII)
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)
# a numeric literal inside an expression (not part of an identifier such as w_1)
_LITERAL = re.compile(r"(?<![A-Za-z0-9_.])(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?(?![A-Za-z0-9_.])", re.ASCII)
_LOG10_2 = math.log10(2)



#: The largest finite float64, as a rational.
_MAX_FLOAT = Fraction(np.finfo(np.float64).max)


def fraction_down(fr: Fraction) -> float:
    """The largest float64 at most ``fr`` (a rational rounded downward, so a lower bound stays one).

    Beyond the float64 range: ``-inf`` below it, the largest float above it (still at most ``fr``).

    Examples
    --------
    >>> third = Fraction(1, 3)
    >>> Fraction(fraction_down(third)) < third < Fraction(fraction_up(third)), fraction_down(Fraction(1, 2))
    (True, 0.5)
    >>> fraction_down(Fraction(-10 ** 400)), fraction_down(Fraction(10 ** 400))
    (-inf, 1.7976931348623157e+308)
    """
    if fr > _MAX_FLOAT:
        return float(_MAX_FLOAT)
    if fr < -_MAX_FLOAT:
        return -math.inf
    v = float(fr)
    return float(np.nextafter(v, -np.inf)) if Fraction(v) > fr else v


def fraction_up(fr: Fraction) -> float:
    """The smallest float64 at least ``fr`` (a rational rounded upward, so an upper bound stays one).

    Beyond the float64 range: ``inf`` above it, the most negative float below it (still at least ``fr``).

    Examples
    --------
    >>> Fraction(fraction_up(Fraction(-1, 3))) > Fraction(-1, 3), fraction_up(Fraction(3, 4))
    (True, 0.75)
    >>> fraction_up(Fraction(10 ** 400)), fraction_up(Fraction(-10 ** 400))
    (inf, -1.7976931348623157e+308)
    """
    if fr > _MAX_FLOAT:
        return math.inf
    if fr < -_MAX_FLOAT:
        return -float(_MAX_FLOAT)
    v = float(fr)
    return float(np.nextafter(v, np.inf)) if Fraction(v) < fr else v


def first_true(pred, lo: int, hi: int) -> int:
    """The smallest integer ``m`` in ``(lo, hi]`` with ``pred(m)`` true, by bisection.

    ``pred`` must be monotone (false up to some point, true after it), false at
    ``lo`` (or ``lo`` below its domain: it is never called there) and true at ``hi``.

    Examples
    --------
    >>> first_true(lambda m: m * m >= 50, 0, 64)
    8
    """
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if pred(mid):
            hi = mid
        else:
            lo = mid
    return hi


def as_rng(seed) -> np.random.Generator:
    """Normalise a seed into a :class:`numpy.random.Generator`.

    Parameters
    ----------
    seed : int or numpy.random.Generator
        An explicit seed.  ``None`` is refused: results in symft are
        reproducible by construction.

    Examples
    --------
    >>> as_rng(0).random() == as_rng(0).random()
    True
    >>> as_rng(None)
    Traceback (most recent call last):
    ...
    symft.errors.InvalidArgument: seed: expected an integer or numpy Generator, got None (symft needs explicit seeds)
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, Integral) and not isinstance(seed, bool) and seed >= 0:
        return np.random.default_rng(int(seed))
    raise InvalidArgument(
        f"seed: expected an integer or numpy Generator, got {seed!r} (symft needs explicit seeds)"
    )


def _digits(n: int) -> int:
    """An upper bound on the number of decimal digits of ``|n|`` (no string conversion)."""
    return int(abs(n).bit_length() * _LOG10_2) + 1


def _too_big(q) -> bool:
    """Whether an exact rational has a numerator or denominator beyond :data:`MAX_DIGITS` digits."""
    return _digits(q.p if isinstance(q, sp.Rational) else q.numerator) > MAX_DIGITS or \
        _digits(q.q if isinstance(q, sp.Rational) else q.denominator) > MAX_DIGITS


def exact_decimal(text: str, where: str = "value") -> Fraction:
    """The exact value of a decimal literal (``"12"``, ``"-0.25"``, ``"1e-3"``, ``".5E+2"``).

    Only ASCII digits are accepted, and the exact value may have at most
    :data:`MAX_DIGITS` digits in its numerator and denominator, which is
    checked *before* any big integer is built (so ``"1e999999999"`` is
    refused at once instead of being computed).

    Examples
    --------
    >>> exact_decimal("1e-3"), exact_decimal("-2.50")
    (Fraction(1, 1000), Fraction(-5, 2))
    >>> exact_decimal("1e99999", "w")
    Traceback (most recent call last):
    ...
    symft.errors.InvalidArgument: w: '1e99999' has about 100000 digits; exact numbers may have at most 4300 digits
    """
    m = _DECIMAL.match(text.strip())
    if not m or not (m.group(2) or m.group(3)):
        raise InvalidArgument(f"{where}: expected a number, got {short_text(text)!r}")
    sign, whole, frac, exp = m.group(1), m.group(2), m.group(3) or "", m.group(4)
    if exp is not None and len(exp.lstrip("+-").lstrip("0")) > 9:
        raise InvalidArgument(f"{where}: the exponent of {short_text(text)!r} is too large")
    k = (int(exp) if exp is not None else 0) - len(frac)
    mantissa = (whole + frac).lstrip("0")
    if not mantissa:
        return Fraction(0)
    size = len(mantissa) + max(k, 0)
    if size > MAX_DIGITS or -k > MAX_DIGITS:
        raise InvalidArgument(f"{where}: {short_text(text)!r} has about {max(size, -k)} digits; exact numbers may have "
                              f"at most {MAX_DIGITS} digits")
    n = int(mantissa or "0")
    v = Fraction(n * 10 ** k) if k >= 0 else Fraction(n, 10 ** -k)
    return -v if sign == "-" else v


def short_text(text, n: int = 40) -> str:
    """``text`` cut to about ``n`` characters, for quoting a user's value in an error message.

    Parameters
    ----------
    text : object
        Converted with :func:`str`.
    n : int
        About how many characters to keep.

    Examples
    --------
    >>> short_text("1/3")
    '1/3'
    >>> short_text("9" * 100)
    '99999999999999999999…99999999 (100 characters)'
    """
    text = str(text)
    return text if len(text) <= n else f"{text[:n // 2]}…{text[-8:]} ({len(text)} characters)"


def _check_size(value, where, text):
    atoms = [value] if isinstance(value, sp.Rational) else value.atoms(sp.Rational)
    for a in atoms:
        if _too_big(a):
            raise InvalidArgument(f"{where}: {short_text(text)!r} gives a number with more than {MAX_DIGITS} digits")
    return value


def parse_number_string(text: str, where: str = "value"):
    """Parse a string holding an exact number or a simple symbolic expression.

    Accepted: integers, decimals and rationals (``"-2"``, ``"0.25"``,
    ``"1/3"``, ``"1e-3"``), all converted *exactly*; and arithmetic
    expressions (``+ - * / **`` and parentheses) of numbers and identifiers
    (``"1/n"``, ``"w_1 + 2*w_2"``), whose identifiers become real SymPy
    symbols.  Function calls and attribute access are refused, so a file
    cannot run code; division by zero, non-finite results and numbers of
    more than :data:`MAX_DIGITS` digits are refused *before* they are
    computed (``"10**10**10"`` is an error, not a hang).

    Examples
    --------
    >>> parse_number_string("0.1")
    1/10
    >>> parse_number_string("1/n")
    1/n
    >>> parse_number_string("2**-3 + w")
    w + 1/8
    >>> parse_number_string("exp(1)", "layers[0].bias[0]")
    Traceback (most recent call last):
    ...
    symft.errors.InvalidArgument: layers[0].bias[0]: expected a number, a rational like "1/3" or an arithmetic expression of symbols, got 'exp(1)'
    >>> parse_number_string("10**10**10", "w")
    Traceback (most recent call last):
    ...
    symft.errors.InvalidArgument: w: '10**10**10' gives a number with more than 4300 digits
    >>> parse_number_string("1/0", "w")
    Traceback (most recent call last):
    ...
    symft.errors.InvalidArgument: w: '1/0' divides by zero
    """
    if not isinstance(text, str):
        raise InvalidArgument(f"{where}: expected a string, got {type(text).__name__}")
    if len(text) > MAX_EXPR_CHARS:
        raise InvalidArgument(f"{where}: expected at most {MAX_EXPR_CHARS} characters, got {len(text)}")
    if _NUMBER.match(text):
        num, _, den = text.replace(" ", "").partition("/")
        q = exact_decimal(num, where)
        if den:
            d = exact_decimal(den, where)
            if d == 0:
                raise InvalidArgument(f"{where}: {short_text(text)!r} divides by zero")
            q = q / d
        return _check_size(sp.Rational(q.numerator, q.denominator), where, text)
    bad = InvalidArgument(
        f"{where}: expected a number, a rational like \"1/3\" or an arithmetic expression of "
        f"symbols, got {short_text(text)!r}"
    )
    if not _EXPR_CHARS.match(text) or "__" in text or re.search(r"[A-Za-z0-9_]\s*\(", text):
        raise bad
    literals = {}

    def literal(m):
        name = f"__n{len(literals)}"
        q = exact_decimal(m.group(0), where)
        literals[name] = sp.Rational(q.numerator, q.denominator)
        return name

    try:
        tree = ast.parse(_LITERAL.sub(literal, text).strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise bad from None
    try:
        expr = _eval_ast(tree.body, literals, where, text, bad)
    except RecursionError:
        raise InvalidArgument(f"{where}: {short_text(text)!r} is nested too deeply") from None
    if not isinstance(expr, sp.Expr) or expr.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        raise InvalidArgument(f"{where}: {short_text(text)!r} is not a finite number or expression")
    if expr.is_number and expr.is_real is False:
        raise InvalidArgument(f"{where}: {short_text(text)!r} is not a real number")
    return expr


_BINOPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b}


def _eval_ast(node, literals, where, text, bad):
    """Evaluate the arithmetic of :func:`parse_number_string` in SymPy, refusing anything else."""
    if isinstance(node, ast.Name):
        if node.id in literals:
            return literals[node.id]
        if node.id.startswith("__"):
            raise bad
        return sp.Symbol(node.id, real=True)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub)):
        v = _eval_ast(node.operand, literals, where, text, bad)
        return -v if isinstance(node.op, ast.USub) else v
    if not isinstance(node, ast.BinOp):
        raise bad
    a = _eval_ast(node.left, literals, where, text, bad)
    b = _eval_ast(node.right, literals, where, text, bad)
    if type(node.op) in _BINOPS:
        return _check_size(_BINOPS[type(node.op)](a, b), where, text)
    if isinstance(node.op, ast.Div):
        if b == 0:
            raise InvalidArgument(f"{where}: {short_text(text)!r} divides by zero")
        return _check_size(a / b, where, text)
    if not isinstance(node.op, ast.Pow):
        raise bad
    if b.is_Rational:
        # the size of a**b, estimated before it is computed
        if b.q > 64:
            raise InvalidArgument(f"{where}: {short_text(text)!r}: exponents must be integers or fractions "
                                  "with a small denominator")
        if a.is_Rational:
            if a == 0 and b < 0:
                raise InvalidArgument(f"{where}: {short_text(text)!r} divides by zero")
            size = max(_digits(a.p), _digits(a.q)) * abs(b.p) / b.q
        else:
            size = abs(b.p) / b.q
        if size > MAX_DIGITS:
            raise InvalidArgument(f"{where}: {short_text(text)!r} gives a number with more than {MAX_DIGITS} digits")
    elif not b.free_symbols:
        raise bad
    return _check_size(a ** b, where, text)


def check_text(text, where: str) -> str:
    """Refuse text that cannot be written out as UTF-8 (a lone surrogate such as ``"\\ud800"``).

    JSON escapes can put such characters into names; printing them later
    would fail, so they are refused where they are read.

    Examples
    --------
    >>> check_text("relu-net", "name")
    'relu-net'
    >>> check_text("bad\\ud800", "name")
    Traceback (most recent call last):
    ...
    symft.errors.InvalidArgument: name: not valid Unicode text (lone surrogate U+D800 at position 3)
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise InvalidArgument(f"{where}: not valid Unicode text (lone surrogate U+{ord(text[e.start]):04X} "
                              f"at position {e.start})") from None
    return text


class _BadLiteral:
    """A JSON number that cannot be read; reported with its field by :func:`load_json`."""

    __slots__ = ("text", "reason")

    def __init__(self, text, reason):
        self.text, self.reason = text, reason


def _json_int(text):
    if len(text.lstrip("-")) > MAX_DIGITS:
        return _BadLiteral(text, f"an integer with {len(text.lstrip('-'))} digits; at most {MAX_DIGITS} are accepted")
    return int(text)


def _json_float(text):
    v = float(text)
    if not math.isfinite(v):
        return _BadLiteral(text, f"{short_text(text)} is beyond the float64 range (±1.8e308); write it as a string "
                                 f"such as \"1e400\" for an exact value")
    if v == 0.0 and re.search(r"[1-9]", text.lower().partition("e")[0]):
        return _BadLiteral(text, f"{short_text(text)} rounds to 0 in float64; write it as a string such as "
                                 f"\"1e-400\" for an exact value")
    return v


def _json_constant(text):
    return _BadLiteral(text, f"{text} is not a number; expected finite numbers")


def load_json(text: str, source: str):
    """Decode JSON text read from ``source`` with every problem reported as one line.

    Beyond :func:`json.loads`: nesting deeper than :data:`MAX_JSON_DEPTH`,
    ``NaN``/``Infinity``, numbers beyond float64 (``1e400``) or that round
    to zero (``1e-400``), integers of more than :data:`MAX_DIGITS` digits
    and lone surrogates in strings are refused with the path of the field
    (``source: layers[0].weights[1][2]: …``).

    Raises
    ------
    InvalidArgument

    Examples
    --------
    >>> load_json('{"a": [1, 2.5]}', "f.json")
    {'a': [1, 2.5]}
    >>> load_json('{"a": [1, 1e400]}', "f.json")
    Traceback (most recent call last):
    ...
    symft.errors.InvalidArgument: f.json: a[1]: 1e400 is beyond the float64 range (±1.8e308); write it as a string such as "1e400" for an exact value
    >>> load_json("[" * 200 + "]" * 200, "deep.json")
    Traceback (most recent call last):
    ...
    symft.errors.InvalidArgument: deep.json: nested deeper than 100 levels of lists and objects
    """
    deep = InvalidArgument(f"{source}: nested deeper than {MAX_JSON_DEPTH} levels of lists and objects")
    try:
        data = json.loads(text, parse_int=_json_int, parse_float=_json_float, parse_constant=_json_constant)
    except json.JSONDecodeError as e:
        raise InvalidArgument(f"{source}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    except RecursionError:
        raise deep from None
    # iterative walk: depth, unreadable numbers, text that cannot be printed
    stack = [(data, "", 0)]
    while stack:
        v, path, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise deep
        if isinstance(v, _BadLiteral):
            raise InvalidArgument(f"{source}: {path or 'value'}: {v.reason}")
        if isinstance(v, str):
            check_text(v, f"{source}: {path or 'value'}")
        elif isinstance(v, list):
            stack.extend((x, f"{path}[{i}]", depth + 1) for i, x in reversed(list(enumerate(v))))
        elif isinstance(v, dict):
            for k in v:
                check_text(k, f"{source}: {path or 'value'}: key")
            stack.extend((x, f"{path}.{k}" if path else str(k), depth + 1) for k, x in reversed(list(v.items())))
    return data


def to_exact(value, where: str = "value"):
    """Convert a number to an exact SymPy value without losing anything.

    Integers and ``Fraction`` become rationals, strings are parsed with
    :func:`parse_number_string`, SymPy expressions pass through, and floats
    become the binary rational they hold exactly (``0.1`` is not ``1/10``).

    Raises
    ------
    InvalidArgument
        For NaN, infinities, complex values, booleans and other types.

    Examples
    --------
    >>> to_exact(0.5), to_exact(Fraction(2, 6)), to_exact(3)
    (1/2, 1/3, 3)
    >>> to_exact(float("nan"), "x[0]")
    Traceback (most recent call last):
    ...
    symft.errors.InvalidArgument: x[0]: expected a finite number, got nan
    """
    if isinstance(value, bool) or value is None:
        raise InvalidArgument(f"{where}: expected a number, got {value!r}")
    if isinstance(value, Integral):
        return sp.Integer(int(value))
    if isinstance(value, Fraction):
        return sp.Rational(value.numerator, value.denominator)
    if isinstance(value, str):
        return parse_number_string(value, where)
    if isinstance(value, sp.Basic):
        if not isinstance(value, sp.Expr) or value.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
            raise InvalidArgument(f"{where}: expected a finite number or expression, got {value}")
        if value.is_number and value.is_real is False:
            raise InvalidArgument(f"{where}: expected a real number, got {value}")
        if isinstance(value, sp.Float):
            return sp.Rational(value)
        return value
    if isinstance(value, Real):
        v = float(value)
        if not math.isfinite(v):
            raise InvalidArgument(f"{where}: expected a finite number, got {v}")
        return sp.Rational(v)
    raise InvalidArgument(f"{where}: expected a number, got {type(value).__name__} {value!r}")


def is_exact_number(value) -> bool:
    """Whether ``value`` is an exact rational (int, Fraction, SymPy Rational).

    Examples
    --------
    >>> is_exact_number(Fraction(1, 3)), is_exact_number(0.5)
    (True, False)
    """
    if isinstance(value, bool):
        return False
    if isinstance(value, (Integral, Fraction)):
        return True
    return isinstance(value, sp.Rational)


def json_number(v, irrational: str = "float"):
    """A number for JSON output, never losing exactness silently.

    Integers (Python, SymPy or ``Fraction``) become JSON integers, other
    exact rationals the string ``"p/q"``, floats a JSON float, and symbolic
    expressions their string.  Other SymPy numbers (``tanh(1/2)``) become a
    float, or with ``irrational="str"`` their exact expression.

    Examples
    --------
    >>> json_number(sp.Rational(1, 3)), json_number(Fraction(4, 2)), json_number(0.5), json_number(sp.Symbol("p"))
    ('1/3', 2, 0.5, 'p')
    """
    if isinstance(v, sp.Basic):
        if v.is_Integer:
            return int(v)
        if v.is_Rational:
            return str(v)
        if v.is_number and irrational == "float":
            return float(v)
        return str(v)
    if isinstance(v, Fraction):
        return int(v) if v.denominator == 1 else str(v)
    if isinstance(v, Integral) and not isinstance(v, bool):
        return int(v)
    return float(v)


def jsonable(a, irrational: str = "float"):
    """Nested lists of :func:`json_number` values from an array (or scalar).

    Examples
    --------
    >>> jsonable(np.array([[1.0, 2.5]]))
    [[1.0, 2.5]]
    >>> jsonable(np.array([sp.Rational(-1, 4)], dtype=object))
    ['-1/4']
    """
    a = np.asarray(a, dtype=object) if not isinstance(a, np.ndarray) else a
    if a.ndim == 0:
        return json_number(a.item(), irrational)
    return [jsonable(x, irrational) for x in a]
