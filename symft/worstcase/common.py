r"""What every worst-case back end shares: the result type, the exact input, numbers and messages.

Examples
--------
>>> exact_input(__import__("symft.graph.network", fromlist=["x"]).mean_network(2), [1, "1/3"])
[Fraction(1, 1), Fraction(1, 3)]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from numbers import Integral, Real

import numpy as np
import sympy as sp

from .. import cost
from ..errors import InvalidArgument
from ..faults import CrashPattern
from ..graph.numbers import to_fraction
from ..results import result

__all__ = ["WorstCaseResult", "METHODS", "exact_input", "float_input", "frac", "to_sympy", "abs_max", "ge",
           "is_pwl", "show", "check_method", "check_timeout", "check_eps", "check_output", "check_byz",
           "check_int"]

#: Methods accepted by the functions of :mod:`symft.worstcase`.
METHODS = ("auto", "smt", "sat", "brute-force")


@result
@dataclass(frozen=True)
class WorstCaseResult:
    """The outcome of a worst-case question.

    Attributes
    ----------
    status : {"proved", "found", "unknown"}
    question : str
        What was asked, in words.
    crash_set : tuple of (site, index) or None
        The crash set found (sorted); for :func:`~symft.worstcase.worst_case` a
        maximizer.  Sites are layer numbers for a chain, else site names.
    values : tuple of ((site, index), value)
        Byzantine values the failed neurons send (empty for crashes).
    delta : tuple or None
        The exact re-checked ``Δ_out`` of ``crash_set`` (SymPy numbers).
    worst_delta : SymPy number or None
        For :func:`~symft.worstcase.worst_case`: the maximum of ``|Δ_out|``
        (proved) or the best found (``found``); for the other questions
        ``max_k |Δ_k|`` of ``crash_set``.
    method : str
        The back end that answered (``"smt:z3"``, ``"sat:glucose4"``,
        ``"brute-force"``), with ``" (auto)"`` when chosen automatically.
    reason : str
        Why: the proof, or the reason for *unknown*.
    n_configurations : int
        Number of crash sets in the search space.
    seconds : float

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> from symft.worstcase import worst_case
    >>> r = worst_case(mean_network(4), [1, 1, 1, 1], max_crashes=2, layers=[0])
    >>> r.status, r.worst_delta, r.n_configurations
    ('proved', 1/2, 11)
    """

    status: str
    question: str
    crash_set: tuple | None
    values: tuple
    delta: tuple | None
    worst_delta: object
    method: str
    reason: str
    n_configurations: int
    seconds: float

    @property
    def pattern(self) -> CrashPattern | None:
        """The crash set as a :class:`~symft.faults.CrashPattern` (``None`` if there is none).

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> from symft.worstcase import worst_case
        >>> worst_case(mean_network(2), [1, 1], max_crashes=1, layers=[0]).pattern.neurons
        frozenset({(0, 0)})
        """
        if self.crash_set is None:
            return None
        return CrashPattern(self.crash_set, values=self.values)


def check_int(v, where, lo=0):
    """An integer ≥ ``lo`` or a one-line error.

    Examples
    --------
    >>> check_int(3, "max_crashes")
    3
    """
    if isinstance(v, bool) or not isinstance(v, Integral) or v < lo:
        raise InvalidArgument(f"{where}: expected an integer ≥ {lo}, got {v!r}")
    return int(v)


def exact_input(net, x):
    """One input as a flat list of Fractions (floats become the binary rationals they hold).

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> exact_input(mean_network(2), [0.5, 2])
    [Fraction(1, 2), Fraction(2, 1)]
    """
    from ..utils import to_exact

    if isinstance(x, np.ndarray):
        if x.ndim != 1 and x.shape != tuple(net.input_shape):
            raise InvalidArgument("x: expected one input vector (one input per call)")
        x = x.reshape(-1).tolist()
    if isinstance(x, (str, bytes)) or not hasattr(x, "__iter__"):
        raise InvalidArgument(f"x: expected a vector of {net.n_inputs} numbers")
    vals = list(x)
    if len(vals) != net.n_inputs:
        raise InvalidArgument(f"x: expected {net.n_inputs} numbers (n_0 = {net.n_inputs}), got {len(vals)}")
    out = []
    for c, v in enumerate(vals):
        if isinstance(v, Fraction):
            out.append(v)
            continue
        e = to_exact(v, f"x[{c}]")
        if not e.is_Rational:
            raise InvalidArgument(f"x[{c}]: expected a number, got {v!r}")
        out.append(Fraction(int(e.p), int(e.q)))
    return out


def float_input(net, x):
    """The input in float64 (a one-line error beyond the float64 range).

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> float_input(mean_network(2), ["1/4", 1]).tolist()
    [0.25, 1.0]
    """
    out = []
    for c, v in enumerate(exact_input(net, x)):
        try:
            out.append(float(v))
        except OverflowError:
            raise InvalidArgument(f"x[{c}]: the value is beyond the float64 range (about 1.8e308), which brute "
                                  f"force evaluates in; use method='smt'") from None
    return np.array(out)


def frac(v) -> Fraction:
    """A SymPy (or Python) rational as a Fraction.

    Examples
    --------
    >>> frac(sp.Rational(1, 3))
    Fraction(1, 3)
    """
    return to_fraction(v)


def to_sympy(v):
    """A Fraction as a SymPy rational (anything else unchanged).

    Examples
    --------
    >>> to_sympy(Fraction(1, 2))
    1/2
    """
    if isinstance(v, Fraction):
        return sp.Rational(v.numerator, v.denominator)
    return v


def abs_max(delta):
    """``max |Δ_k|``, exactly (or with 50-digit keys for Floats).

    Examples
    --------
    >>> abs_max([sp.Rational(-1, 2), sp.Rational(1, 3)])
    1/2
    """
    vals = [sp.Abs(d) for d in delta]
    if all(v.is_Rational for v in vals):
        return max(vals)
    return max(vals, key=lambda v: v.evalf(50))  # 50-digit Floats: a float64 key would tie at 1e-16


def ge(a, b) -> bool:
    """Exact (or 50-digit) comparison ``a ≥ b`` of SymPy numbers.

    Examples
    --------
    >>> ge(sp.Rational(1, 3), sp.Rational(1, 3))
    True
    """
    d = sp.sympify(a) - sp.sympify(b)
    if d.is_Rational:
        return bool(d >= 0)
    v = d.evalf(50)
    return bool(v >= 0)


def is_pwl(net) -> bool:
    """Whether every activation of the network is piecewise linear.

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> is_pwl(random_network([2, 2, 1], seed=0, activation="relu"))
    True
    """
    return all(n.op.act.is_piecewise_linear for n in net.activation_nodes)


def show(q: Fraction) -> str:
    """A rational for a message: exactly when short, else about 15 significant digits (``≈``).

    Examples
    --------
    >>> show(Fraction(1, 3))
    '1/3'
    """
    n, d = abs(q.numerator), q.denominator
    if n.bit_length() + d.bit_length() <= 256:
        return str(q)
    sn, sd = max(0, n.bit_length() - 64), max(0, d.bit_length() - 64)
    l10 = math.log10((n >> sn) / (d >> sd)) + (sn - sd) * math.log10(2)
    e = math.floor(l10)
    return f"≈{'-' if q < 0 else ''}{10 ** (l10 - e):.14f}e{e:+d}"


def check_method(method):
    """Validate ``method``.

    Examples
    --------
    >>> check_method("smt")
    """
    if method not in METHODS:
        raise InvalidArgument(f"method: expected one of {', '.join(METHODS)}, got {method!r}")


def check_timeout(timeout):
    """Validate a timeout (None or positive seconds); None becomes the time limit of :mod:`symft.cost`.

    Solvers have no time model (how long a proof takes is not predictable from
    the size of the problem), so without a timeout of their own they stop at
    the time limit, and the answer is then *unknown* — never *safe*.

    Examples
    --------
    >>> check_timeout(2)
    2.0
    >>> from symft.cost import time_limit
    >>> with time_limit(30):
    ...     check_timeout(None)
    30.0
    """
    if timeout is None:
        limit = cost.current_limit()[0]
        return None if math.isinf(limit) else limit
    if isinstance(timeout, bool) or not isinstance(timeout, Real) or not timeout > 0:
        raise InvalidArgument(f"timeout: expected a positive number of seconds, got {timeout!r}")
    return float(timeout)


def check_eps(epsilon):
    """``ε`` as a positive Fraction.

    Examples
    --------
    >>> check_eps("1/4")
    Fraction(1, 4)
    """
    if isinstance(epsilon, bool) or epsilon is None:
        raise InvalidArgument(f"epsilon: expected a positive number, got {epsilon!r}")
    e = Fraction(str(epsilon)) if isinstance(epsilon, str) else (
        frac(sp.sympify(epsilon)) if isinstance(epsilon, sp.Basic) else Fraction(epsilon))
    if e <= 0:
        raise InvalidArgument(f"epsilon: expected a positive number, got {epsilon!r}")
    return e


def check_output(net, output):
    """The output components asked about.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> check_output(mean_network(2), None)
    [0]
    """
    if output is None:
        return list(range(net.n_outputs))
    if isinstance(output, bool) or not isinstance(output, Integral) or not 0 <= output < net.n_outputs:
        raise InvalidArgument(f"output: expected an output index 0 … {net.n_outputs - 1} or None, got {output!r}")
    return [int(output)]


def check_byz(byzantine):
    """The Byzantine capacity ``C`` as a Fraction (None: crashes).

    Examples
    --------
    >>> check_byz(2)
    Fraction(2, 1)
    """
    if byzantine is None:
        return None
    if isinstance(byzantine, bool) or not isinstance(byzantine, (Real, sp.Basic, str)):
        raise InvalidArgument(f"byzantine: expected the capacity C ≥ 0, got {byzantine!r}")
    c = Fraction(str(byzantine)) if isinstance(byzantine, (str, float)) else Fraction(byzantine) \
        if not isinstance(byzantine, sp.Basic) else frac(sp.sympify(byzantine))
    if c < 0:
        raise InvalidArgument(f"byzantine: expected the capacity C ≥ 0, got {byzantine!r}")
    return c
