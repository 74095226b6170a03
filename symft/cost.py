r"""How long expensive work would take, predicted before it starts, and the one time limit.

Every expensive path of symft (symbolic derivation, exact enumeration, the
enclosure, brute-force worst cases, sampling, the rigorous T1 remainder)
counts its work first — a number it knows or can compute cheaply before doing
any of it, such as configurations × multiply-adds — and turns it into
seconds with one constant per path:

    predicted seconds = work × seconds per unit of work

The constants are measured by ``benchmarks/bench_cost_model.py`` (which runs
every path on a few sizes, fits each constant as the median of measured
time ÷ work, and prints predicted against measured side by side); the file it
writes, ``symft/cost_constants.json``, ships with the package and records the
machine and the date of the calibration.  A prediction is an order of
magnitude on another machine, not a promise.

Work whose prediction exceeds the time limit is refused before it starts
(:class:`~symft.errors.TooLargeError`): the message says how long it would
take, from what count, and what would work instead.  The limit is
:data:`DEFAULT_MAX_TIME` seconds on the command line (``--max-time``), and
:data:`LIBRARY_MAX_TIME` seconds in Python unless a function is given
``max_time=`` or runs inside :func:`time_limit`.  ``force=True`` skips it.

Solvers (Z3, SAT) have no time model: how long a proof takes is not
predictable from the size of the problem.  They are bounded by the size of
the problem they are given and by a timeout, after which the answer is
*unknown* — never *safe*.

Examples
--------
>>> e = estimate("enumerate", 2 ** 20 * 500, "2^20 configurations")
>>> e.seconds > 0 and "2^20 configurations" in e.text()
True
>>> with time_limit(1e-9):
...     check(e, "enumeration", "use --order 2")
Traceback (most recent call last):
...
symft.errors.TooLargeError: enumeration: would take about ... (estimated from 2^20 configurations), more than the limit of ...; use --order 2, or raise the limit with max_time=SECONDS
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import InvalidArgument, TimeLimitReached, TooLargeError

__all__ = ["DEFAULT_MAX_TIME", "LIBRARY_MAX_TIME", "PATHS", "CONSTANTS_FILE", "Estimate", "constants",
           "seconds_per_unit", "estimate", "time_limit", "current_limit", "check", "format_seconds", "format_count",
           "parse_max_time", "Deadline"]

#: The time limit (seconds) of the command line: a person waits at a terminal for a minute before
#: suspecting a hang, and every command's default settings on the shipped examples fit in it.
DEFAULT_MAX_TIME = 60.0
#: The time limit (seconds) of library calls that give no ``max_time=`` (a script chose its sizes;
#: an hour, the limit the samplers had before).
LIBRARY_MAX_TIME = 3600.0

#: The paths with a time model: what one unit of work is.
PATHS = {
    "derive": "outputs × non-zero Taylor derivatives × leaves of an output's expression tree (symbolic)",
    "derive_symbolic": "the same as derive, with symbolic inputs x_0, x_1, … (derive without --input)",
    "enumerate": "configurations × inputs × (multiply-adds downstream of the crash sites + 100), float64",
    "enumerate_exact": "configurations × inputs × (multiply-adds downstream of the crash sites + 100), rational",
    "enclosure": "configurations with at most K crashes × inputs × (multiply-adds downstream + 100)",
    "accuracy": "the same as enclosure, with each class decision and its error bound (accuracy with an order)",
    "brute_force": "crash sets × (multiply-adds downstream of the crash sites + 100)",
    "sample": "draws with a failure × (inputs × multiply-adds downstream of the failing sites + 2000)",
    "t1_remainder": "crash indicators² × multiply-adds downstream (crash indicators × them when all is affine)",
}

#: The shipped constants (written by ``benchmarks/bench_cost_model.py --write``).
CONSTANTS_FILE = Path(__file__).with_name("cost_constants.json")

_LIMIT = contextvars.ContextVar("symft_max_time", default=None)
_STARTED = contextvars.ContextVar("symft_started", default=None)
_CACHE = {}


def constants() -> dict:
    """The shipped calibration: ``{"machine": …, "date": …, "constants": {path: {...}}}``.

    Examples
    --------
    >>> sorted(constants()["constants"]) == sorted(PATHS)
    True
    """
    if "c" not in _CACHE:
        _CACHE["c"] = json.loads(CONSTANTS_FILE.read_text(encoding="utf-8"))
    return _CACHE["c"]


def seconds_per_unit(path: str) -> float:
    """The calibrated seconds per unit of work of ``path`` (one of :data:`PATHS`).

    Examples
    --------
    >>> 0 < seconds_per_unit("sample") < 1e-3
    True
    """
    if path not in PATHS:
        raise InvalidArgument(f"path: expected one of {', '.join(PATHS)}, got {path!r}")
    return float(constants()["constants"][path]["seconds_per_unit"])


@dataclass(frozen=True)
class Estimate:
    """A predicted wall time: ``work`` units of ``path`` at the calibrated rate.

    Attributes
    ----------
    path : str
        One of :data:`PATHS`.
    work : float
        Units of work (see :data:`PATHS`).
    seconds : float
        ``work × seconds_per_unit(path)``.
    basis : str
        The count the estimate comes from, in plain words ("2^20 configurations").

    Examples
    --------
    >>> Estimate("sample", 10.0, 90.0, "10 draws").text()
    'about 1.5 min (estimated from 10 draws)'
    """

    path: str
    work: float
    seconds: float
    basis: str

    def text(self) -> str:
        """``about 40 min (estimated from …)``.

        Examples
        --------
        >>> Estimate("derive", 1.0, 0.2, "1 step").text()
        'about 0.2 s (estimated from 1 step)'
        """
        return f"about {format_seconds(self.seconds)} (estimated from {self.basis})"


def estimate(path: str, work: float, basis: str) -> Estimate:
    """The predicted wall time of ``work`` units of ``path``.

    Examples
    --------
    >>> e = estimate("derive", 0, "nothing")
    >>> e.seconds
    0.0
    """
    try:
        work = float(work)
    except OverflowError:
        work = math.inf
    return Estimate(path, work, work * seconds_per_unit(path), basis)


def format_count(n) -> str:
    """A count in plain words: with thousands separators below 10^12, else ``1.07e+301``.

    Examples
    --------
    >>> format_count(1048576), format_count(2 ** 1000)
    ('1,048,576', '1.07e+301')
    """
    if n < 10 ** 12:
        return f"{int(n):,}"
    try:
        return f"{float(n):.3g}"
    except OverflowError:
        return f"10^{len(str(int(n))) - 1}"


def parse_max_time(value, where: str = "max_time") -> float:
    """A time limit in seconds: a positive number, or ``inf`` / ``"inf"`` for none.

    Examples
    --------
    >>> parse_max_time("90"), parse_max_time("inf")
    (90.0, inf)
    >>> parse_max_time("-1", "--max-time")
    Traceback (most recent call last):
    ...
    symft.errors.InvalidArgument: --max-time: expected a number of seconds > 0 or 'inf', got '-1'
    """
    try:
        t = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        t = math.nan
    if isinstance(value, bool) or not t > 0:
        raise InvalidArgument(f"{where}: expected a number of seconds > 0 or 'inf', got {value!r}")
    return t


@contextlib.contextmanager
def time_limit(seconds, hint: str = "max_time=SECONDS"):
    """Run a block with this time limit (``None``: keep the current one); ``hint`` says how to raise it.

    Examples
    --------
    >>> with time_limit(5, "--max-time S"):
    ...     current_limit()
    (5.0, '--max-time S')
    >>> current_limit()
    (3600.0, 'max_time=SECONDS')
    """
    if seconds is None:
        yield
        return
    token = _LIMIT.set((parse_max_time(seconds), hint))
    started = _STARTED.set(time.perf_counter())
    try:
        yield
    finally:
        _STARTED.reset(started)
        _LIMIT.reset(token)


def current_limit(max_time=None) -> tuple:
    """``(seconds, how to raise it)``: ``max_time`` when given, else :func:`time_limit`'s, else the library's.

    Examples
    --------
    >>> current_limit(10)
    (10.0, 'max_time=SECONDS')
    """
    got = _LIMIT.get()
    hint = got[1] if got else "max_time=SECONDS"
    if max_time is not None:
        return parse_max_time(max_time), hint
    return (got[0], hint) if got else (LIBRARY_MAX_TIME, hint)


def check(est: Estimate, where: str, options: str, *, max_time=None, force: bool = False) -> Estimate:
    """Refuse (before any work) an estimate above the time limit; otherwise return it.

    The message reads ``WHERE: would take about T (estimated from COUNT), more than the limit of L;
    OPTIONS, or raise the limit with --max-time SECONDS``.

    Examples
    --------
    >>> e = Estimate("sample", 1.0, 7200.0, "1e9 draws")
    >>> check(e, "sampling", "use --samples 1000")
    Traceback (most recent call last):
    ...
    symft.errors.TooLargeError: sampling: would take about 2 h (estimated from 1e9 draws), more than the limit of 1 h; use --samples 1000, or raise the limit with max_time=SECONDS
    >>> check(e, "sampling", "", force=True).seconds
    7200.0
    """
    if force:
        return est
    limit, hint = current_limit(max_time)
    if est.seconds > limit:
        raise TooLargeError(f"{where}: would take {est.text()}, more than the limit of {format_seconds(limit)}; "
                            f"{options + ', or ' if options else ''}raise the limit with {hint}")
    return est


class Deadline:
    """The time limit as a deadline: work that checks it between its steps stops there.

    The prediction of :func:`check` refuses work before it starts; where the model can be wrong
    (symbolic expressions whose size is only bounded below), a :class:`Deadline` stops the work
    itself once the limit has passed, with :class:`~symft.errors.TimeLimitReached` (a
    :class:`~symft.errors.TooLargeError`, like a refusal).
    The clock starts at the enclosing :func:`time_limit` (the whole command on the command line),
    or when the deadline is made if ``max_time`` is given or there is none.  A single step that
    cannot be interrupted (one SymPy call) may run past the limit; the check comes after it.

    Parameters
    ----------
    where : str
        What the work is ("symbolic Taylor expansion of order 2 in 4 crash indicators").
    options : str
        What would work instead, in plain words.
    max_time : float, optional
        The limit (default: :func:`current_limit`); ``inf`` never stops.

    Examples
    --------
    >>> d = Deadline("derivation", "use --order 1", max_time=1e-9)
    >>> d.check("computing the moments", 3, 10)
    Traceback (most recent call last):
    ...
    symft.errors.TimeLimitReached: derivation: stopped at the time limit of ... after ..., while computing the moments: 3 of 10 done; use --order 1, or raise the limit with max_time=SECONDS
    >>> Deadline("derivation", "", max_time="inf").check("anything")
    """

    def __init__(self, where: str, options: str = "", *, max_time=None):
        self.where, self.options = where, options
        self.limit, self.hint = current_limit(max_time)
        started = _STARTED.get() if max_time is None else None
        self.started = time.perf_counter() if started is None else started

    def elapsed(self) -> float:
        """Seconds since the clock started.

        Examples
        --------
        >>> Deadline("x", max_time=10).elapsed() >= 0
        True
        """
        return time.perf_counter() - self.started

    def check(self, doing: str, done=None, total=None) -> None:
        """Raise :class:`~symft.errors.TimeLimitReached` if the limit has passed, saying what was being done and how far.

        Examples
        --------
        >>> Deadline("x", max_time=60).check("step one", 1, 2) is None
        True
        """
        if math.isinf(self.limit):
            return
        t = self.elapsed()
        if t <= self.limit:
            return
        far = "" if done is None else (f": {format_count(done)} of {format_count(total)} done" if total is not None
                                       else f": {format_count(done)} done")
        raise TimeLimitReached(f"{self.where}: stopped at the time limit of {format_seconds(self.limit)} after "
                            f"{format_seconds(t)}, while {doing}{far}; "
                            f"{self.options + ', or ' if self.options else ''}raise the limit with {self.hint}")


def format_seconds(t: float) -> str:
    """A duration in plain words with two significant digits: ``0.5 s``, ``40 s``, ``12 min``, ``3.2 h``, ``5 days``.

    Examples
    --------
    >>> [format_seconds(t) for t in (0.004, 42, 600, 7200, 86400 * 3, 1e12)]
    ['0.004 s', '42 s', '10 min', '2 h', '3 days', '3.2e+04 years']
    """
    t = float(t)
    if math.isinf(t):
        return "forever"
    if t < 60:
        return f"{t:.2g} s" if t < 10 else f"{t:.0f} s"
    if t < 3600:
        return f"{t / 60:.2g} min"
    if t < 86400:
        return f"{t / 3600:.2g} h"
    if t < 86400 * 365:
        return f"{t / 86400:.2g} days"
    return f"{t / (86400 * 365):.2g} years"
