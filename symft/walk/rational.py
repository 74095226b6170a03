r"""The exact rational interpretation: Python ``Fraction`` arithmetic, no rounding anywhere.

Values are object arrays of :class:`~fractions.Fraction` with leading batch
axes, like the float interpretation; crash masks work the same way.  Every
parameter is converted exactly (floats are the binary rationals they hold),
and activations must be piecewise linear with rational pieces
(:attr:`symft.graph.activations.Activation.rational_fn`); anything else is a
:class:`~symft.walk.walker.NoRule` error naming the node.

Examples
--------
>>> import numpy as np
>>> from fractions import Fraction
>>> from symft.graph.network import Network
>>> from symft.walk.walker import walk
>>> net = Network.from_sympy([[["1/2", "-1/3"]], [[3]]], activations=["relu", "linear"])
>>> walk(net, Rational(net), as_fractions([[1, "1/2"]]), keep=False)
array([[Fraction(1, 1)]], dtype=object)
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from ..errors import FaultModelError
from ..faults import SEMANTICS, crash_values, site_of
from ..graph.numbers import to_fraction
from ..utils import to_exact
from .walker import Interpretation, NoRule, elementwise, masked_objects

__all__ = ["Rational", "as_fractions", "crash_values_rational"]


def as_fractions(x) -> np.ndarray:
    """An object array of Fractions from numbers, strings like ``"1/3"`` or floats (binary values).

    Examples
    --------
    >>> as_fractions([0.5, "1/3"])
    array([Fraction(1, 2), Fraction(1, 3)], dtype=object)
    """
    a = np.array(x, dtype=object)
    out = np.empty(a.shape, dtype=object)
    flat = out.reshape(-1)
    for i, v in enumerate(a.reshape(-1)):
        if isinstance(v, str):
            v = to_exact(v, "input")
        flat[i] = to_fraction(v, "input")
    return out



def crash_values_rational(net, key, semantics: str) -> np.ndarray:
    """What a crashed neuron of a site outputs, exactly (a vector of Fractions).

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> crash_values_rational(mean_network(2), 1, "incoming_zeroed")
    array([Fraction(0, 1)], dtype=object)
    """
    def activate(act, z):
        if act.rational_fn is None:
            raise NoRule(f"the rational interpretation has no rule for activation {act.name!r} "
                         f"(site {site_of(net, key)!r})")
        return elementwise(act.rational_fn, z)

    return crash_values(net, key, semantics, zero=Fraction(0), kind="fraction", activate=activate)


def _scaled_ints(a):
    """``(integer object array, common denominator)`` of an object array of Fractions."""
    flat = a.reshape(-1)
    d = math.lcm(*{v.denominator for v in flat}) if flat.size else 1
    return np.array([v.numerator * (d // v.denominator) for v in flat], dtype=object).reshape(a.shape), d


def _dense_fractions(op, x):
    """``x @ Wᵀ + b`` exactly, computed on integers over a common denominator (no Fraction per product)."""
    key = "int-scaled"
    if key not in op._cache:
        P = op.params("fraction")
        Wn, dW = _scaled_ints(P["weight"])
        b = P["bias"]
        op._cache[key] = (Wn.T.copy(), dW, b)
    WnT, dW, b = op._cache[key]
    xn, dx = _scaled_ints(x)
    zn = xn @ WnT
    den = dx * dW
    if b is not None:
        db = math.lcm(*{v.denominator for v in b}) if b.size else 1
        full = math.lcm(den, db)
        bn = np.array([v.numerator * (full // v.denominator) for v in b], dtype=object)
        zn = zn * (full // den) + bn
        den = full
    return np.frompyfunc(lambda v: Fraction(v, den), 1, 1)(zn).astype(object)


class Rational(Interpretation):
    """Exact evaluation in Fractions, optionally under crash masks (``{site: bool (P, n)}``).

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> from symft.walk.walker import walk
    >>> net = mean_network(2)
    >>> walk(net, Rational(net, masks={0: np.array([[True, False]])}), as_fractions([[1, 1]]), keep=False)
    array([[[Fraction(1, 2)]]], dtype=object)
    """

    name = "rational"
    kind = "fraction"

    def __init__(self, net, *, masks=None, values=None, semantics: str = "output_zero"):
        if semantics not in SEMANTICS:
            raise FaultModelError(f"semantics: expected one of {', '.join(map(repr, SEMANTICS))}, got {semantics!r}")
        self.net = net.check_numeric()
        self.semantics = semantics
        self.masks = {site_of(net, k, "neuron_masks"): np.asarray(m, dtype=bool) for k, m in (masks or {}).items()}
        self.values = {}
        for k, v in (values or {}).items():
            site = site_of(net, k, "values")
            if site not in self.masks:
                raise FaultModelError(f"values[{k}]: site {k} has values but no failed-neuron mask")
            self.values[site] = v
        self.fault_nodes = frozenset(self.masks)
        self._base = {s: crash_values_rational(net, s, semantics) for s in self.masks}

    def affine(self, node, args):
        op = node.op
        if op.kind == "dense" and args[0].size:
            return _dense_fractions(op, args[0])
        return op.apply(args, op.params("fraction"), node.in_shapes)

    def op_activation(self, node, args):
        act = node.op.act
        fn = act.rational_fn
        if fn is None:
            raise NoRule(f"the rational interpretation has no rule for activation {act.name!r} (node "
                         f"{node.name!r}): it is not piecewise linear with rational pieces")
        if act.name == "linear":
            return args[0]
        return elementwise(fn, args[0])

    def op_maxpool2d(self, node, args):
        return node.op.apply(args[0], node.in_shapes[0])

    def at_site(self, node, Y):
        return masked_objects(node, Y, self.masks[node.name], self._base[node.name], self.values.get(node.name))
