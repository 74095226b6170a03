"""The walker and its interpretations: how every engine evaluates a network.

* :mod:`symft.walk.walker` — :func:`walk` (topological order) and
  :func:`walk_reverse` (vector–Jacobian products), :class:`Interpretation`,
  :class:`NoRule`;
* interpretations, one module each: :mod:`~symft.walk.numeric` (float64,
  batched, crash masks), :mod:`~symft.walk.rational` (exact ``Fraction``),
  :mod:`~symft.walk.symbolic` (SymPy, crash indicators),
  :mod:`~symft.walk.highprec` (mpmath at a stated precision),
  :mod:`~symft.walk.interval` (outward-rounded intervals),
  :mod:`~symft.walk.backward` (reverse mode), :mod:`~symft.walk.jets`
  (second-order forward mode: gradients and Hessians w.r.t. the input).
"""

from .walker import Interpretation, NoRule, walk, walk_reverse

__all__ = ["Interpretation", "NoRule", "walk", "walk_reverse"]
