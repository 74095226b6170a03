r"""Re-checks of crash sets, independent of the search that found them.

* :func:`recheck` — ``Δ_out`` of one crash set: exact (SymPy, through
  :func:`symft.engines.forward.forward`) for piecewise-linear networks;
  outward-rounded ``mpmath.iv`` intervals from 212 bits up for the others
  (:class:`Enclosures`, the :class:`~symft.walk.mpinterval.MPInterval`
  interpretation), each value fixing 50 significant digits.
* :class:`ExactPWL` — many crash sets of a piecewise-linear network at once
  in exact rational arithmetic (the :class:`~symft.walk.rational.Rational`
  interpretation, reusing the clean pass for every node no crash reaches):
  what brute force uses to decide the crash sets its float64 pass cannot.

Examples
--------
>>> from symft.graph.netfile import load_network
>>> net = load_network("tests/data/residual_mlp.json")
>>> ex = ExactPWL(net, [1, 0, -1, 2])
>>> [float(d) for d in ex.delta((("h1", 0),))] == [float(d) for d in recheck(net, [1, 0, -1, 2], [("h1", 0)])]
True
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import sympy as sp

from ..faults import CrashPattern, site_of
from ..walk.mpinterval import MPInterval, iv_abs, iv_digits, iv_lt, iv_max, iv_rational, iv_to_sympy
from ..walk.rational import Rational
from ..walk.walker import walk
from .common import exact_input, ge, is_pwl, to_sympy

__all__ = ["recheck", "ExactPWL", "Enclosures", "exact_checker", "class_changed", "first_argmax", "PRECISIONS"]

#: Precisions (bits) of the interval re-check: about 64, 128, 255, 510 and 1021 digits.
PRECISIONS = (212, 424, 848, 1696, 3392)


def recheck(net, x, crash_set, values=()):
    r"""``Δ_out`` of a crash set, independently of the search: the re-check of every reported crash set.

    Piecewise-linear networks: exact, with :func:`symft.engines.forward.forward`
    (``exact=True``, SymPy rationals; floats read as the binary rationals
    they hold).  Other activations (sigmoid, tanh, scaled forms such as
    ``1/2*tanh``, …): the exact network evaluated in outward-rounded interval
    arithmetic (``mpmath.iv``) from 212 bits upwards, the precision raised
    until the enclosure of each ``Δ_k`` fixes 50 significant digits; each
    value is returned as a SymPy Float carrying the digits proved (50, or
    fewer in the pathological case that 3392 bits do not fix them), and as
    an exact 0 when the crash set provably leaves the output unchanged.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> recheck(mean_network(2), [1, 3], [(0, 1)])
    (-3/2,)
    >>> from symft.graph.network import Network
    >>> net = Network.from_sympy([[[1]], [[1]]], activations=["1/2*tanh", "linear"])
    >>> d = recheck(net, ["1/3"], [(1, 0)])[0]
    >>> d                                          # −tanh(1/3)/2 to 50 digits
    -0.16075636876581717235970311121260323300264600125104
    """
    if not is_pwl(net):
        return Enclosures(net, x).values(crash_set, values)
    from ..engines.forward import forward

    pat = CrashPattern(crash_set, values=tuple((k, to_sympy(v)) for k, v in dict(values).items()))
    xe = np.array([to_sympy(v) for v in exact_input(net, x)], dtype=object)
    faulty = np.asarray(forward(net, xe, pat, exact=True)).reshape(-1)
    clean = np.asarray(forward(net, xe, exact=True)).reshape(-1)
    return tuple((a - b) if (a - b).is_Rational else sp.simplify(a - b) for a, b in zip(faulty, clean))


def first_argmax(vals, greater):
    """NumPy's argmax (first index on ties) with a comparison that may answer None (undecided).

    Examples
    --------
    >>> first_argmax([1, 3, 3], lambda a, b: a > b)
    1
    """
    best = 0
    for j in range(1, len(vals)):
        g = greater(vals[j], vals[best])
        if g is None:
            return None
        if g:
            best = j
    return best


def class_changed(net, x, cs, values=()) -> bool:
    """Whether the crash set changes the class, by exact forward passes (piecewise-linear nets).

    Examples
    --------
    >>> from symft.graph.network import Network
    >>> net = Network.from_sympy([[[1, 0], [0, 1]], [[1, 0], [0, 1]]], activations=["relu", "linear"])
    >>> class_changed(net, [2, 1], [(1, 0)]), class_changed(net, [2, 1], [(1, 1)])
    (True, False)
    """
    from ..engines.forward import forward

    xe = np.array([to_sympy(v) for v in exact_input(net, x)], dtype=object)
    pat = CrashPattern(cs, values=tuple((k, to_sympy(v)) for k, v in dict(values).items()))
    clean = list(np.asarray(forward(net, xe, exact=True)).reshape(-1))
    faulty = list(np.asarray(forward(net, xe, pat, exact=True)).reshape(-1))

    def argmax(vals):
        best = 0
        for j in range(1, len(vals)):
            if not ge(vals[best], vals[j]):  # strictly larger → new argmax (first index wins ties)
                best = j
        return best

    return argmax(clean) != argmax(faulty)


def _masks(net, sets):
    """``{site: bool (P, n)}`` for crash sets given as tuples of (key, index)."""
    P = len(sets)
    masks = {}
    for p, cs in enumerate(sets):
        for k, i in cs:
            s = site_of(net, k)
            if s not in masks:
                masks[s] = np.zeros((P, net.site_size(s)), dtype=bool)
            masks[s][p, i] = True
    return masks


class ExactPWL:
    """Exact outputs of crash sets in rational arithmetic (Fractions): piecewise-linear networks.

    The clean pass is kept; a batch of crash sets recomputes only the nodes
    downstream of a crashed site.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> ex = ExactPWL(mean_network(2), [1, 3])
    >>> ex.clean, ex.delta(((0, 0),))
    ([Fraction(2, 1)], [Fraction(-1, 2)])
    """

    def __init__(self, net, x):
        from ..walk.rational import as_fractions

        self.net = net.check_numeric()
        xs = exact_input(net, x)
        X = as_fractions(np.array(xs, dtype=object).reshape((1,) + tuple(net.input_shape)))
        self.known = walk(net, Rational(net), X)
        self.clean = list(np.asarray(self.known[net.output]).reshape(-1))

    def outputs_many(self, sets) -> list:
        """The exact outputs of each crash set (lists of Fractions).

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> ExactPWL(mean_network(2), [1, 3]).outputs_many([(), ((0, 1),)])
        [[Fraction(2, 1)], [Fraction(1, 2)]]
        """
        sets = [tuple(cs) for cs in sets]
        out = [None] * len(sets)
        idx = [p for p, cs in enumerate(sets) if cs]
        for p, cs in enumerate(sets):
            if not cs:
                out[p] = list(self.clean)
        if idx:
            masks = _masks(self.net, [sets[p] for p in idx])
            Y = walk(self.net, Rational(self.net, masks=masks), None, known=self.known, keep=False)
            Y = np.asarray(Y).reshape(len(idx), -1)
            for r, p in enumerate(idx):
                out[p] = list(Y[r])
        return out

    def outputs(self, cs):
        """The exact outputs of one crash set.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> ExactPWL(mean_network(2), [1, 3]).outputs(((0, 0), (0, 1)))
        [Fraction(0, 1)]
        """
        return self.outputs_many([cs])[0]

    def delta(self, cs):
        """``Δ`` of one crash set.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> ExactPWL(mean_network(2), [1, 3]).delta(())
        [Fraction(0, 1)]
        """
        return [a - b for a, b in zip(self.outputs(cs), self.clean)]

    def reaches(self, cs, eps, outs):
        """Whether ``|Δ_k| ≥ ε`` for some ``k`` of ``outs``.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> ExactPWL(mean_network(2), [1, 3]).reaches(((0, 0),), Fraction(1, 2), [0])
        True
        """
        d = self.delta(cs)
        return any(abs(d[k]) >= eps for k in outs)

    def clean_class(self):
        """The fault-free class (first index on ties).

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> ExactPWL(mean_network(2), [1, 3]).clean_class()
        0
        """
        return first_argmax(self.clean, lambda a, b: a > b)

    def changes_class(self, cs, kstar):
        """Whether the crash set moves the argmax away from ``kstar``.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> ExactPWL(mean_network(2), [1, 3]).changes_class(((0, 0),), 0)
        False
        """
        y = self.outputs(cs)
        return any(y[j] >= y[kstar] if j < kstar else y[j] > y[kstar] for j in range(len(y)) if j != kstar)


class Enclosures:
    """The exact network (weights and input as rationals) in outward-rounded interval arithmetic.

    ``mpmath.iv`` at the precisions of :data:`PRECISIONS`, through the
    :class:`~symft.walk.mpinterval.MPInterval` interpretation; every value
    is an interval that contains the exact one, so a decision read off
    disjoint intervals is proved.  Undecided comparisons are retried at the
    next precision; after the last they stay undecided (``None``), which the
    callers report as *unknown*.  A crash set that provably leaves a value
    unchanged reuses the clean value, so that an unaffected output gives the
    exact ``Δ = 0``.

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> e = Enclosures(random_network([2, 3, 1], seed=0, activation="tanh"), [1, 1])
    >>> e.values(())
    (0,)
    """

    def __init__(self, net, x):
        self.net = net.check_numeric()
        self.xs = exact_input(net, x)
        self._at = {}

    def state(self, prec):
        """``(ctx, clean values)`` at a precision.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> ctx, clean = Enclosures(mean_network(2), [1, 3]).state(212)
        >>> ctx.prec
        212
        """
        st = self._at.get(prec)
        if st is None:
            from mpmath.ctx_iv import MPIntervalContext

            ctx = MPIntervalContext()
            ctx.prec = prec
            clean = walk(self.net, MPInterval(self.net, ctx, self.xs), None)
            st = self._at[prec] = (ctx, clean)
        return st

    def outputs(self, cs, values, prec):
        """Faulty outputs and, per output, whether a crash may have changed it.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> out, changed = Enclosures(mean_network(2), [1, 3]).outputs(((0, 0),), (), 212)
        >>> changed
        [True]
        """
        ctx, clean = self.state(prec)
        sent = {k: Fraction(v) for k, v in dict(values).items()}
        crashed = {}
        for k, i in cs:
            crashed.setdefault(site_of(self.net, k), {})[i] = sent.get((k, i), Fraction(0))
        if not crashed:
            vals = clean[self.net.output][0]
            return vals, [False] * len(vals)
        interp = MPInterval(self.net, ctx, self.xs, crashed=crashed, clean=clean)
        vals, changed = walk(self.net, interp, None, known=clean, keep=False)
        return vals, list(changed)

    def delta(self, cs, values, prec):
        """Enclosures of ``Δ`` (exact 0 where no crash reaches).

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> Enclosures(mean_network(2), [1, 3]).delta((), (), 212)
        [mpi('0.0', '0.0')]
        """
        ctx, clean = self.state(prec)
        out, changed = self.outputs(cs, values, prec)
        c0 = clean[self.net.output][0]
        return [a - c if ch else ctx.mpf(0) for a, c, ch in zip(out, c0, changed)]

    def values(self, cs, values=()):
        """Δ as SymPy numbers fixing 50 digits each (see :func:`recheck`).

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> Enclosures(mean_network(2), [1, 3]).values(((0, 1),))
        (-1.5000000000000000000000000000000000000000000000000,)
        """
        for prec in PRECISIONS:
            d = self.delta(cs, values, prec)
            if all(iv_digits(v) >= 52 for v in d):
                break
        return tuple(iv_to_sympy(v) for v in d)

    def _decide(self, fn):
        for prec in PRECISIONS:
            r = fn(prec)
            if r is not None:
                return r
        return None

    def reaches(self, cs, eps, outs):
        """Whether ``|Δ_k| ≥ ε`` for some ``k``: True, False or None (undecided at 3392 bits).

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> Enclosures(mean_network(2), [1, 3]).reaches(((0, 1),), Fraction(3, 2), [0])
        True
        """
        def at(prec):
            ctx = self.state(prec)[0]
            e = iv_rational(ctx, eps)
            d = self.delta(cs, (), prec)
            lt = [iv_lt(iv_abs(ctx, d[k]), e) for k in outs]
            if any(v is False for v in lt):
                return True
            if all(v is True for v in lt):
                return False
            return None
        return self._decide(at)

    def abs_max(self, cs, outs, prec):
        """An enclosure of ``max_k |Δ_k|``.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> Enclosures(mean_network(2), [1, 3]).abs_max(((0, 1),), [0], 212)
        mpi('1.5', '1.5')
        """
        ctx = self.state(prec)[0]
        d = self.delta(cs, (), prec)
        return iv_max(ctx, [iv_abs(ctx, d[k]) for k in outs])

    def clean_class(self):
        """The fault-free class, or None when the outputs tie to 1000 digits.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> Enclosures(mean_network(2), [1, 3]).clean_class()
        0
        """
        return self._decide(lambda prec: first_argmax(self.state(prec)[1][self.net.output][0],
                                                      lambda a, b: iv_lt(b, a)))

    def changes_class(self, cs, kstar):
        """Whether the crash set changes the class: True, False or None (undecided).

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> Enclosures(mean_network(2), [1, 3]).changes_class(((0, 0),), 0)
        False
        """
        def at(prec):
            y, _ = self.outputs(cs, (), prec)
            res = []
            for j in range(len(y)):
                if j < kstar:    # the class changes iff y_j ≥ y_k*, i.e. not y_j < y_k*
                    lt = iv_lt(y[j], y[kstar])
                    res.append(None if lt is None else not lt)
                elif j > kstar:  # … iff y_k* < y_j
                    res.append(iv_lt(y[kstar], y[j]))
            if any(r is True for r in res):
                return True
            if all(r is False for r in res):
                return False
            return None
        return self._decide(at)


def exact_checker(net, x):
    """:class:`ExactPWL` for piecewise-linear networks, else :class:`Enclosures`.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> type(exact_checker(mean_network(2), [1, 1])).__name__
    'ExactPWL'
    """
    return ExactPWL(net, x) if is_pwl(net) else Enclosures(net, x)
