r"""The high-precision interpretation: mpmath numbers at a stated precision.

Values are object arrays of ``mpmath.mpf`` with leading batch axes.  The
parameters are converted from their exact values (rounded once to the
working precision; floats exactly), and activations are evaluated by mpmath
with exact constants (:attr:`symft.graph.activations.Activation.mp_fn`), so
every operation runs at the precision the caller states — use it inside
``mpmath.workprec(bits)``.

Examples
--------
>>> import mpmath
>>> import numpy as np
>>> from symft.graph.network import random_network
>>> from symft.walk.walker import walk
>>> net = random_network([2, 3, 1], seed=0)
>>> with mpmath.workprec(200):
...     v = walk(net, HighPrecision(net), as_mpf(np.array([[0.5, -1.0]])), keep=False)
>>> from symft.walk.numeric import Numeric
>>> f = walk(net, Numeric(net), np.array([[0.5, -1.0]]), keep=False)
>>> bool(abs(float(v[0, 0]) - f[0, 0]) < 1e-15)
True
"""

from __future__ import annotations

import numpy as np

from ..errors import FaultModelError
from ..faults import SEMANTICS, crash_values, site_of
from ..graph.numbers import convert, exact_array
from .walker import Interpretation, elementwise, masked_objects

__all__ = ["HighPrecision", "as_mpf", "crash_values_mpf"]



def as_mpf(x) -> np.ndarray:
    """An object array of ``mpmath.mpf`` at the working precision (floats converted exactly).

    Examples
    --------
    >>> as_mpf(np.array([0.5]))
    array([mpf('0.5')], dtype=object)
    """
    a = np.asarray(x)
    if a.dtype == object:
        return convert(exact_array(a), "mpmath")
    return convert(np.asarray(a, dtype=float), "mpmath")


def crash_values_mpf(net, key, semantics: str) -> np.ndarray:
    """What a crashed neuron of a site outputs, in mpmath at the working precision.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> crash_values_mpf(mean_network(2), 0, "output_zero")
    array([mpf('0.0'), mpf('0.0')], dtype=object)
    """
    import mpmath

    return crash_values(net, key, semantics, zero=mpmath.mpf(0), kind="mpmath",
                        activate=lambda act, z: elementwise(act.mp_fn, z))


class HighPrecision(Interpretation):
    """mpmath evaluation at the working precision, optionally under crash masks ``{site: bool (P, n)}``.

    ``values`` ``{site: (P, n) object}`` gives what failed neurons send
    (``None`` entries follow the crash semantics).

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> HighPrecision(mean_network(2)).name
    'mpmath'
    """

    name = "mpmath"

    def __init__(self, net, *, masks=None, values=None, semantics: str = "output_zero"):
        if semantics not in SEMANTICS:
            raise FaultModelError(f"semantics: expected one of {', '.join(map(repr, SEMANTICS))}, got {semantics!r}")
        self.net = net.check_numeric()
        self.semantics = semantics
        self.masks = {site_of(net, k, "neuron_masks"): np.asarray(m, dtype=bool) for k, m in (masks or {}).items()}
        self.values = {site_of(net, k, "values"): v for k, v in (values or {}).items()}
        self.fault_nodes = frozenset(self.masks)
        self._base = {s: crash_values_mpf(net, s, semantics) for s in self.masks}

    def affine(self, node, args):
        return node.op.apply(args, node.op.params("mpmath"), node.in_shapes)

    def op_activation(self, node, args):
        act = node.op.act
        if act.name == "linear":
            return args[0]
        return elementwise(act.mp_fn, args[0])

    def op_maxpool2d(self, node, args):
        return node.op.apply(args[0], node.in_shapes[0])

    def at_site(self, node, Y):
        return masked_objects(node, Y, self.masks[node.name], self._base[node.name], self.values.get(node.name))
