"""The exception hierarchy of symft.

Every error symft raises on purpose derives from :class:`SymftError`, and each
is *also* the builtin exception a Python user would expect (``ValueError`` for
bad values, ``RuntimeError`` for refused work), so ``except ValueError`` keeps
working.  The CLI turns any :class:`SymftError` into exit status 2 and one
line on stderr; anything else is a bug in symft.

Examples
--------
>>> from symft.errors import NetworkFormatError, SymftError
>>> issubclass(NetworkFormatError, ValueError) and issubclass(NetworkFormatError, SymftError)
True
"""

__all__ = [
    "SymftError",
    "InvalidArgument",
    "NetworkFormatError",
    "FaultModelError",
    "SymbolicValueError",
    "TooLargeError",
    "TimeLimitReached",
    "SolverUnknown",
    "FloatOverflowError",
    "NotSmooth",
    "MissingDependency",
]


class SymftError(Exception):
    """Base class of every error symft raises deliberately.

    Examples
    --------
    >>> try:
    ...     raise SymftError("something is off")
    ... except SymftError as e:
    ...     print(e)
    something is off
    """


class InvalidArgument(SymftError, ValueError):
    """An argument has the wrong shape, type or value.

    The message names the argument and what was expected.

    Examples
    --------
    >>> isinstance(InvalidArgument("x: expected 3 numbers, got 2"), ValueError)
    True
    """


class NetworkFormatError(InvalidArgument):
    """A network (file, dict or matrices) is malformed.

    The message names the file (when there is one) and the field, e.g.
    ``net.json: layers[1].weights[0]: expected 3 numbers, got 2``.

    Examples
    --------
    >>> str(NetworkFormatError("net.json: layers: missing"))
    'net.json: layers: missing'
    """


class FaultModelError(InvalidArgument):
    """A failure model or crash pattern is invalid (e.g. p outside [0, 1]).

    Examples
    --------
    >>> issubclass(FaultModelError, ValueError)
    True
    """


class SymbolicValueError(InvalidArgument):
    """A numeric operation was asked of a network whose weights are symbolic.

    Substitute values first (:meth:`symft.graph.network.Network.subs`).

    Examples
    --------
    >>> issubclass(SymbolicValueError, InvalidArgument)
    True
    """


class TooLargeError(SymftError, RuntimeError):
    """Work refused up front because it would explode.

    The message gives an estimate of the work and the option that would work
    instead (e.g. ``force=True``, a lower order, sampling).

    Examples
    --------
    >>> issubclass(TooLargeError, RuntimeError)
    True
    """


class TimeLimitReached(TooLargeError):
    """Work stopped at the time limit (:class:`symft.cost.Deadline`), where its prediction was wrong.

    A :class:`TooLargeError` like a refusal up front; the message says what was
    being done, how far it got, and what would work instead.

    Examples
    --------
    >>> issubclass(TimeLimitReached, TooLargeError)
    True
    """


class SolverUnknown(SymftError, RuntimeError):
    """A solver answered *unknown* (timeout, resource limit, incompleteness).

    Unknown is never safe: code that catches this must not report a proof.

    Examples
    --------
    >>> str(SolverUnknown("z3: timeout after 10 s"))
    'z3: timeout after 10 s'
    """


class FloatOverflowError(SymftError, OverflowError):
    """A float64 computation overflowed (a value beyond ±1.8e308, or an undefined ``inf − inf``).

    Raised instead of returning ``inf`` or ``nan`` as if they were results.
    The message names the layer; exact arithmetic or smaller weights avoid it.

    Examples
    --------
    >>> issubclass(FloatOverflowError, OverflowError) and issubclass(FloatOverflowError, SymftError)
    True
    """


class NotSmooth(SymftError, ValueError):
    """The output is not (known to be) differentiable where a derivative bound is asked for.

    Raised by the interval derivative interpretations (the T1 remainder and
    the rounding enclosure of T1's point value) when a pre-activation
    interval meets a kink of a piecewise-linear activation, a max-pooling
    window has no strict winner, or an activation has no derivative
    enclosure (a custom one).  The message names the reason.

    Examples
    --------
    >>> issubclass(NotSmooth, ValueError)
    True
    """


class MissingDependency(SymftError, ImportError):
    """An optional package a feature needs is not installed.

    The message names the package and the ``pip install`` line that adds it
    (e.g. ``pip install symft[onnx]``).

    Examples
    --------
    >>> issubclass(MissingDependency, ImportError)
    True
    """
