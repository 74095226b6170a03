r"""The Z3 interpretation: a network under crashes as Z3 terms over exact rationals.

The value of a node is a list (row-major over its tensor) of entries
``(v, bound)``: ``v`` an exact :class:`~fractions.Fraction` (a value no crash
can change) or a Z3 real term, and ``bound`` an exact enclosure ``(lo, hi)``
valid for every crash set, or None.

* affine ops (dense, convolution, average pooling, batch norm, add) are
  exact affine maps (:func:`~symft.walk.exactrows.affine_rows`): each output
  that depends on a term gets a real variable ``z`` with ``z = Σ w·v + b``
  and its bounds; flatten, reshape and identity pass the entries through;
* piecewise-linear activations are if-then-else chains built from
  :attr:`~symft.graph.activations.Activation.pieces`, keeping only the
  pieces the bounds can reach (a ReLU that is always active is linear);
* max pooling is a chain ``If(a ≥ b, a, b)``;
* at a crash site every neuron gets a Boolean ``c``: ``ŷ = If(c, 0, y)``,
  or ``If(c, v, y)`` with a free real ``v ∈ [−C, C]`` for Byzantine
  neurons (:attr:`Z3Terms.crash`, :attr:`Z3Terms.byz`).

The defining equalities and bounds are collected in
:attr:`Z3Terms.constraints`.

Examples
--------
>>> import z3
>>> from fractions import Fraction
>>> from symft.graph.network import Network
>>> from symft.walk.walker import walk
>>> net = Network.from_sympy([[[1, 1], [1, -1]], [[1, 2]]], activations=["relu", "linear"])
>>> t = Z3Terms(net, [Fraction(1), Fraction(0)], {"1": 1}, ctx=z3.Context())
>>> out = walk(net, t, None, keep=False)
>>> s = z3.Solver(ctx=t.ctx); s.add(*t.constraints); s.add(out[0][0] == 1)
>>> s.check(), sorted(str(k) for k in t.crash)
(sat, ['(1, 0)', '(1, 1)'])
"""

from __future__ import annotations

from fractions import Fraction

import sympy as sp

from ..graph.numbers import to_fraction
from .exactrows import affine_rows
from .walker import Interpretation, NoRule

__all__ = ["Z3Terms", "z3_fraction"]



def pwl_value(act, z: Fraction) -> Fraction:
    """A piecewise-linear activation at an exact rational.

    Examples
    --------
    >>> from symft.graph.activations import get_activation
    >>> pwl_value(get_activation("hardtanh"), Fraction(-3))
    Fraction(-1, 1)
    """
    for pc in act.pieces:
        if pc.hi == sp.oo or z <= to_fraction(pc.hi):
            return to_fraction(pc.slope) * z + to_fraction(pc.intercept)
    raise AssertionError("unreachable")  # pragma: no cover


def z3_fraction(v) -> Fraction:
    """A Z3 rational (or integer) value as a Fraction.

    Examples
    --------
    >>> import z3
    >>> z3_fraction(z3.RealVal("3/4"))
    Fraction(3, 4)
    """
    import z3

    if z3.is_int_value(v):
        return Fraction(v.as_long())
    f = v.as_fraction()
    return Fraction(f.numerator, f.denominator)


class Z3Terms(Interpretation):
    """Z3 terms for one exact input, with crash (or Byzantine) variables at the given sites.

    Parameters
    ----------
    net : Network
        Piecewise-linear activations only (others raise :class:`NoRule`).
    x : sequence of Fraction
        The input, flattened row-major.
    crash_sites : mapping {site name: key}
        The sites whose neurons may fail; ``key`` names them in
        :attr:`crash` (a layer number for a chain, else the site name).
    byzantine : Fraction, optional
        Capacity ``C``: a failed neuron sends a free real in ``[−C, C]``.
    ctx : z3.Context

    Attributes
    ----------
    crash : dict {(key, index): z3 Bool}
    byz : dict {(key, index): z3 Real}
    constraints : list of z3 Bool terms

    Examples
    --------
    >>> import z3
    >>> from symft.graph.network import mean_network
    >>> Z3Terms(mean_network(2), [Fraction(1)] * 2, {}, ctx=z3.Context()).name
    'z3'
    """

    name = "z3"

    def __init__(self, net, x, crash_sites, *, byzantine=None, ctx=None):
        import z3

        self.z3 = z3
        self.ctx = ctx if ctx is not None else z3.Context()
        self.net = net
        self.x = list(x)
        self.keys = dict(crash_sites)
        self.byzantine = byzantine
        self.crash = {}
        self.byz = {}
        self.constraints = []
        self.fault_nodes = frozenset(self.keys)

    def Q(self, fr: Fraction):
        """A rational as a Z3 real constant.

        Examples
        --------
        >>> import z3
        >>> from symft.graph.network import mean_network
        >>> Z3Terms(mean_network(1), [Fraction(1)], {}, ctx=z3.Context()).Q(Fraction(-1, 3))
        -1/3
        """
        return self.z3.RealVal(f"{fr.numerator}/{fr.denominator}", self.ctx)

    def term(self, v):
        """An entry's value as a Z3 term (constants become rational constants).

        Examples
        --------
        >>> import z3
        >>> from symft.graph.network import mean_network
        >>> Z3Terms(mean_network(1), [Fraction(1)], {}, ctx=z3.Context()).term(Fraction(2))
        2
        """
        return self.Q(v) if isinstance(v, Fraction) else v

    def input(self, node, x):
        return [(v, (v, v)) for v in self.x]

    def affine(self, node, args):
        if node.op.kind in ("flatten", "reshape", "identity"):
            return args[0]
        ins = [e for a in args for e in a]
        rows, bias = affine_rows(node)
        out = []
        for i, (row, b) in enumerate(zip(rows, bias)):
            const, terms = b, []
            lo = hi = b
            for j, w in row:
                v, bd = ins[j]
                if lo is not None:
                    if bd is None:
                        lo = hi = None
                    else:
                        lo += min(w * bd[0], w * bd[1])
                        hi += max(w * bd[0], w * bd[1])
                if isinstance(v, Fraction):
                    const += w * v
                else:
                    terms.append(self.Q(w) * v)
            if not terms:
                out.append((const, (const, const)))
                continue
            zv = self.z3.Real(f"z_{node.name}_{i}", self.ctx)
            self.constraints.append(zv == self.z3.Sum(terms) + self.Q(const))
            if lo is not None:
                self.constraints += [zv >= self.Q(lo), zv <= self.Q(hi)]
            out.append((zv, None if lo is None else (lo, hi)))
        return out

    def op_activation(self, node, args):
        act = node.op.act
        if act.pieces is None:
            raise NoRule(f"the z3 interpretation has no rule for activation {act.name!r} (node {node.name!r}): "
                         "it is not piecewise linear")
        if act.name == "linear":
            return args[0]
        out = []
        for v, bd in args[0]:
            if isinstance(v, Fraction):
                y = pwl_value(act, v)
                out.append((y, (y, y)))
                continue
            out.append((self._pieces(act, v, bd),
                        (pwl_value(act, bd[0]), pwl_value(act, bd[1])) if bd is not None and act.monotone else None))
        return out

    def _pieces(self, act, zv, bounds):
        z3, Q = self.z3, self.Q
        pieces = list(act.pieces)
        if bounds is not None:  # keep the pieces (lo, hi] that meet [zlo, zhi]
            zlo, zhi = bounds
            pieces = [pc for pc in pieces if (pc.lo == -sp.oo or to_fraction(pc.lo) < zhi)
                      and (pc.hi == sp.oo or to_fraction(pc.hi) >= zlo)]
        expr = None
        for pc in reversed(pieces):
            c = Q(to_fraction(pc.intercept))
            val = Q(to_fraction(pc.slope)) * zv + c if pc.slope != 0 else c
            expr = val if expr is None else z3.If(zv <= Q(to_fraction(pc.hi)), val, expr)
        return expr

    def op_maxpool2d(self, node, args):
        import numpy as np

        x = args[0]
        idx = np.asarray(node.op.index(node.in_shapes[0])[0])
        idx = idx.reshape(-1, idx.shape[-1])                   # one row of input positions per output
        out = []
        for win in idx.tolist():
            ents = [x[j] for j in dict.fromkeys(win)]
            if all(isinstance(v, Fraction) for v, _ in ents):
                m = max(v for v, _ in ents)
                out.append((m, (m, m)))
                continue
            best, bd = ents[0]
            for v, b2 in ents[1:]:
                a, c = self.term(best), self.term(v)
                best = self.z3.If(a >= c, a, c)
                bd = None if bd is None or b2 is None else (max(bd[0], b2[0]), max(bd[1], b2[1]))
            out.append((best, bd))
        return out

    def at_site(self, node, value):
        z3, Q = self.z3, self.Q
        key = self.keys[node.name]
        C = self.byzantine
        out = []
        for i, (v, bd) in enumerate(value):
            c = z3.Bool(f"c_{node.name}_{i}", self.ctx)
            self.crash[(key, i)] = c
            if C is not None:
                s = z3.Real(f"v_{node.name}_{i}", self.ctx)
                self.byz[(key, i)] = s
                self.constraints += [s >= Q(-C), s <= Q(C)]
                out.append((z3.If(c, s, self.term(v)), None if bd is None else (min(bd[0], -C), max(bd[1], C))))
            else:
                out.append((z3.If(c, Q(Fraction(0)), self.term(v)),
                            None if bd is None else (min(bd[0], Fraction(0)), max(bd[1], Fraction(0)))))
        return out
