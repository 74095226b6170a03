r"""Losses: the loss change ``Δ_{L+1} = ω(ŷ, y*) − ω(y, y*)`` of theory §1, in float and exactly.

* ``"squared"`` — ``Σ_k (y_k − t_k)²`` (target: a vector);
* ``"zero_one"`` — ``[argmax y ≠ t]`` (target: a class index); ties go to the
  first maximal output, as ``numpy.argmax`` does;
* ``"cross_entropy"`` — ``−log softmax(y)_t`` (float only);
* a callable ``loss(Y (P, n_out), target) -> (P,)`` (float only).

Examples
--------
>>> import numpy as np
>>> f, fx = loss_functions("zero_one", 1, 2)
>>> f(np.array([[0.0, 1.0], [2.0, 1.0]])), fx([Fraction(0), Fraction(1)])
(array([0., 1.]), Fraction(0, 1))
"""

from __future__ import annotations

from fractions import Fraction
from numbers import Integral

import numpy as np

from ..errors import InvalidArgument
from ..graph.numbers import to_fraction
from ..utils import to_exact

__all__ = ["LOSSES", "loss_functions"]

#: Losses known by name.
LOSSES = ("squared", "zero_one", "cross_entropy")


def loss_functions(loss, target, n_out: int):
    """``(float function, exact function or None)`` of a loss for one target.

    The float function maps outputs ``(P, n_out)`` to ``(P,)``; the exact one
    maps a list of ``Fraction`` outputs to a ``Fraction`` (``None`` when the
    loss has no exact form).

    Examples
    --------
    >>> f, fx = loss_functions("squared", [1, 0], 2)
    >>> f(np.array([[1.0, 1.0]])), fx([Fraction(1, 2), Fraction(0)])
    (array([1.]), Fraction(1, 4))
    """
    if callable(loss):
        def f(Y):
            v = np.asarray(loss(Y, target), dtype=float)
            if v.shape != (Y.shape[0],):
                raise InvalidArgument(f"loss: the callable must return one number per row, got shape {v.shape}")
            return v
        return f, None
    if loss not in LOSSES:
        raise InvalidArgument(f"loss: expected one of {', '.join(LOSSES)} or a callable, got {loss!r}")
    if target is None:
        raise InvalidArgument(f"target: loss {loss!r} needs a target")
    if loss == "squared":
        t = np.asarray(target, dtype=float).ravel()
        if t.shape != (n_out,):
            raise InvalidArgument(f"target: expected {n_out} numbers for the squared loss, got {t.size}")
        tex = [to_fraction(to_exact(v, "target")) if not isinstance(v, (float, np.floating)) else Fraction(float(v))
               for v in np.asarray(target, dtype=object).ravel()]
        return (lambda Y: ((Y - t) ** 2).sum(axis=1)), (lambda y: sum((a - b) ** 2 for a, b in zip(y, tex)))
    if not isinstance(target, Integral) or isinstance(target, bool) or not 0 <= target < n_out:
        raise InvalidArgument(f"target: expected a class index 0 … {n_out - 1} for loss {loss!r}, got {target!r}")
    c = int(target)
    if loss == "zero_one":
        def exact01(y):
            m = max(y)
            return Fraction(0) if list(y).index(m) == c else Fraction(1)
        return (lambda Y: (np.argmax(Y, axis=1) != c).astype(float)), exact01

    def ce(Y):
        m = Y.max(axis=1, keepdims=True)
        return (np.log(np.exp(Y - m).sum(axis=1)) + m[:, 0]) - Y[:, c]
    return ce, None
