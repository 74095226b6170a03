r"""The mpmath-interval interpretation: the exact network in outward-rounded interval arithmetic.

Values are ``(vals, changed)``: ``vals`` a list (row-major over the node's
tensor) of ``mpmath.iv`` intervals at the context's precision (212 bits and
up in :mod:`symft.worstcase.rechecks`), each containing the exact value of
the network whose parameters and input are exact rationals (floats read as
the binary rationals they hold); ``changed`` says, per element, whether a
crash may have changed it.  An element no crash can reach keeps its clean
interval (the ``clean`` pass given to :class:`MPInterval`), so an unaffected
output has exactly ``Δ = 0``.

* affine ops: exact rows (:func:`~symft.walk.exactrows.affine_rows`), every
  coefficient enclosed at the working precision;
* activations: monotone piecewise-linear ones through their pieces (the end
  points of the interval, each piece exact), others through their SymPy
  expression compiled onto intervals (:func:`compile_activation`) — every
  constant enclosed, never a double;
* max pooling: the interval maximum over the window;
* crash sites: crashed neurons send the given exact values (0 for a crash).

Examples
--------
>>> from fractions import Fraction
>>> from mpmath.ctx_iv import MPIntervalContext
>>> from symft.graph.network import Network
>>> from symft.walk.walker import walk
>>> net = Network.from_sympy([[[1]], [[1]]], activations=["tanh", "linear"])
>>> ctx = MPIntervalContext(); ctx.prec = 212
>>> vals, _ = walk(net, MPInterval(net, ctx, [Fraction(1, 3)]), None, keep=False)
>>> print(str(vals[0])[:20])
[0.32151273753163434
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import cmp_to_key

import sympy as sp

from ..errors import InvalidArgument
from ..graph.numbers import to_fraction
from .exactrows import affine_rows
from .walker import Interpretation, NoRule

__all__ = ["MPInterval", "iv_rational", "iv_lt", "iv_abs", "iv_max", "iv_digits", "iv_to_sympy",
           "compile_activation", "raw_max", "raw_min", "raw_key"]



def iv_rational(ctx, q: Fraction):
    """The rational ``q`` as an mpmath interval: a point when q is binary and fits, else outward-rounded.

    Examples
    --------
    >>> from mpmath.ctx_iv import MPIntervalContext
    >>> ctx = MPIntervalContext(); ctx.prec = 53
    >>> iv_rational(ctx, Fraction(1, 4))
    mpi('0.25', '0.25')
    """
    n, d = q.numerator, q.denominator
    if not d & (d - 1) and n.bit_length() <= ctx.prec:
        from mpmath.libmp import from_man_exp

        v = from_man_exp(n, -(d.bit_length() - 1))
        return ctx.make_mpf((v, v))
    return ctx.mpf(n) / d


def raw_max(a, b):
    """Max of two raw mpf values.

    Examples
    --------
    >>> from mpmath.libmp import from_int
    >>> raw_max(from_int(1), from_int(2)) == from_int(2)
    True
    """
    from mpmath.libmp import mpf_lt

    return b if mpf_lt(a, b) else a


def raw_min(a, b):
    """Min of two raw mpf values.

    Examples
    --------
    >>> from mpmath.libmp import from_int
    >>> raw_min(from_int(1), from_int(2)) == from_int(1)
    True
    """
    from mpmath.libmp import mpf_lt

    return a if mpf_lt(a, b) else b


def raw_key(raw):
    """A sort key for raw mpf values.

    Examples
    --------
    >>> from mpmath.libmp import from_int
    >>> sorted([from_int(2), from_int(1)], key=raw_key) == [from_int(1), from_int(2)]
    True
    """
    from mpmath.libmp import mpf_cmp

    return cmp_to_key(mpf_cmp)(raw)


def iv_lt(a, b):
    """``a < b`` for intervals: True, False or None (undecided).

    Examples
    --------
    >>> from mpmath import iv
    >>> iv_lt(iv.mpf(1), iv.mpf(2)), iv_lt(iv.mpf([1, 3]), iv.mpf(2))
    (True, None)
    """
    from mpmath.libmp import mpf_ge, mpf_lt

    if mpf_lt(a._mpi_[1], b._mpi_[0]):
        return True
    if mpf_ge(a._mpi_[0], b._mpi_[1]):
        return False
    return None


def iv_abs(ctx, v):
    """``|v|`` of an interval.

    Examples
    --------
    >>> from mpmath import iv
    >>> iv_abs(iv, iv.mpf([-3, 1]))
    mpi('0.0', '3.0')
    """
    from mpmath.libmp import fzero, mpf_ge, mpf_le, mpf_neg

    a, b = v._mpi_
    if mpf_ge(a, fzero):
        return v
    if mpf_le(b, fzero):
        return -v
    na = mpf_neg(a)
    return ctx.make_mpf((fzero, b if mpf_ge(b, na) else na))


def iv_max(ctx, vs):
    """The interval maximum of intervals.

    Examples
    --------
    >>> from mpmath import iv
    >>> iv_max(iv, [iv.mpf([0, 2]), iv.mpf([1, 1])])
    mpi('1.0', '2.0')
    """
    lo, hi = vs[0]._mpi_
    for v in vs[1:]:
        lo, hi = raw_max(lo, v._mpi_[0]), raw_max(hi, v._mpi_[1])
    return ctx.make_mpf((lo, hi))


def iv_digits(v) -> float:
    """How many significant decimal digits the interval fixes (inf for a point).

    Examples
    --------
    >>> from mpmath import iv
    >>> iv_digits(iv.mpf(1)), round(iv_digits(iv.mpf([1, 1.001])))
    (inf, 3)
    """
    from mpmath.libmp import fzero, mpf_abs, mpf_div, mpf_le, mpf_neg, mpf_sub, to_float

    a, b = v._mpi_
    if a == b:
        return math.inf
    if mpf_le(a, fzero) and mpf_le(fzero, b):
        return 0.0
    w = mpf_sub(b, a, 64, "u")
    q = to_float(mpf_div(w, mpf_neg(raw_max(mpf_neg(mpf_abs(a)), mpf_neg(mpf_abs(b)))), 64, "u"))
    return 300.0 if q == 0 else -math.log10(q)


def iv_to_sympy(v, digits=50):
    """A SymPy number for the interval: exact 0 for a point 0, else a Float of the digits it fixes.

    Examples
    --------
    >>> from mpmath import iv
    >>> iv_to_sympy(iv.mpf(0)), iv_to_sympy(iv.mpf("0.5"))
    (0, 0.5)
    """
    from mpmath.libmp import fzero, mpf_add, mpf_shift, to_str

    a, b = v._mpi_
    if a == b == fzero:
        return sp.Integer(0)
    mid = mpf_shift(mpf_add(a, b, v.ctx.prec + 8), -1)
    n = int(max(1, min(digits, iv_digits(v))))
    return sp.Float(to_str(mid, n + 5), n)


def compile_activation(act, ctx):
    """An activation as a function on mpmath intervals at the context's precision (inclusion isotone).

    Monotone piecewise-linear activations map ``[a, b]`` to ``[φ(a), φ(b)]``
    piece by piece (a breakpoint the comparison cannot place hulls every
    piece); others compile their SymPy expression, every constant enclosed
    (``Rational(1, 3)`` is an interval around 1/3, never a double).

    Examples
    --------
    >>> from mpmath import iv
    >>> from symft.graph.activations import get_activation
    >>> compile_activation(get_activation("relu"), iv)(iv.mpf([-1, 2]))
    mpi('0.0', '2.0')
    """
    if act.is_piecewise_linear and act.monotone:
        return _iv_pwl(ctx, act)
    return _iv_compile(act.expr, ctx)


def _iv_compile(expr, ctx):
    from ..graph.activations import S

    fns = {"exp": ctx.exp, "log": ctx.log, "sqrt": ctx.sqrt, "erf": ctx.erf, "sin": ctx.sin, "cos": ctx.cos}
    two = ctx.mpf(2)

    def tanh(z):  # tanh = expm1(2z) / (expm1(2z) + 2), both monotone pieces enclosed
        e = ctx.expm1(two * z)
        return e / (e + two)

    def c(e):
        if e == S:
            return lambda z: z
        if e.is_Rational:
            k = iv_rational(ctx, Fraction(int(e.p), int(e.q)))
            return lambda z: k
        if e.is_Float:
            k = iv_rational(ctx, to_fraction(e))
            return lambda z: k
        if e is sp.pi or e is sp.E:
            k = ctx.pi if e is sp.pi else ctx.e
            return lambda z: k
        if isinstance(e, sp.Piecewise):
            return _iv_piecewise(ctx, e, c)
        args = [c(a) for a in e.args]
        if isinstance(e, sp.Add):
            return lambda z: sum((f(z) for f in args[1:]), args[0](z))
        if isinstance(e, sp.Mul):
            def mul(z):
                r = args[0](z)
                for f in args[1:]:
                    r = r * f(z)
                return r
            return mul
        if isinstance(e, sp.Pow):
            fb, fe = args
            p = e.exp
            if p.is_Integer:
                k = int(p)
                return lambda z: fb(z) ** k
            if p == sp.Rational(1, 2):
                return lambda z: ctx.sqrt(fb(z))
            return lambda z: ctx.exp(fe(z) * ctx.log(fb(z)))
        if isinstance(e, sp.tanh):
            return lambda z: tanh(args[0](z))
        if isinstance(e, sp.Abs):
            return lambda z: iv_abs(ctx, args[0](z))
        if isinstance(e, (sp.Max, sp.Min)):
            sign = 1 if isinstance(e, sp.Max) else -1  # min(a, b) = −max(−a, −b)
            return lambda z: sign * iv_max(ctx, [sign * f(z) for f in args])
        name = type(e).__name__
        if isinstance(e, sp.Function) and name in fns:
            fn = fns[name]
            return lambda z: fn(args[0](z))
        raise InvalidArgument(f"activation: no rigorous interval evaluation of {name} ({e}) is known to symft; "
                              "the exact re-check of brute force needs one")

    return c(sp.sympify(expr))


def _iv_piecewise(ctx, e, compile_):
    """A Piecewise on intervals: the first branch whose condition is proved, hulled with every
    earlier branch whose condition is undecided."""
    from mpmath.libmp import mpf_lt

    branches = []
    for val, cond in e.args:
        if cond is sp.true:
            branches.append((compile_(val), None))
            break
        if not isinstance(cond, (sp.StrictLessThan, sp.LessThan, sp.StrictGreaterThan, sp.GreaterThan)):
            raise InvalidArgument(f"activation: no rigorous interval evaluation of the condition {cond} is known "
                                  "to symft; the exact re-check of brute force needs one")
        lhs, rhs = compile_(cond.lhs), compile_(cond.rhs)
        strict = isinstance(cond, (sp.StrictLessThan, sp.StrictGreaterThan))
        less = isinstance(cond, (sp.StrictLessThan, sp.LessThan))
        branches.append((compile_(val), (lhs, rhs, strict, less)))

    def holds(test, z):
        lhs, rhs, strict, less = test
        a, b = (lhs(z), rhs(z)) if less else (rhs(z), lhs(z))  # a < b or a ≤ b
        if mpf_lt(a._mpi_[1], b._mpi_[0]) or not strict and a._mpi_[1] == b._mpi_[0]:
            return True
        if mpf_lt(b._mpi_[1], a._mpi_[0]) or strict and b._mpi_[1] == a._mpi_[0]:
            return False
        return None

    def f(z):
        out = None
        for val, test in branches:
            h = True if test is None else holds(test, z)
            if h is False:
                continue
            v = val(z)
            out = v if out is None else ctx.make_mpf((raw_min(out._mpi_[0], v._mpi_[0]),
                                                      raw_max(out._mpi_[1], v._mpi_[1])))
            if h:
                return out
        if out is None:
            raise InvalidArgument(f"activation: {e} is undefined at {z}")
        return out

    return f


def _pwl_table(act):
    return tuple((None if pc.hi == sp.oo else to_fraction(pc.hi), to_fraction(pc.slope),
                  to_fraction(pc.intercept)) for pc in act.pieces)


def _iv_pwl(ctx, act):
    """A monotone piecewise-linear activation on intervals: φ([a, b]) = [φ(a), φ(b)], each exact piece."""
    from mpmath.libmp import mpf_le, mpf_lt

    tab = [(None if hi is None else iv_rational(ctx, hi), iv_rational(ctx, s), iv_rational(ctx, c))
           for hi, s, c in _pwl_table(act)]

    def at(raw):
        z = ctx.make_mpf((raw, raw))
        for hi, s, c in tab:
            if hi is None or mpf_le(raw, hi._mpi_[0]):
                return s * z + c
            if not mpf_lt(hi._mpi_[1], raw):  # undecided: hull every piece (sound)
                vs = [s_ * z + c_ for _, s_, c_ in tab]
                return ctx.make_mpf((min((v._mpi_[0] for v in vs), key=raw_key),
                                     max((v._mpi_[1] for v in vs), key=raw_key)))
        raise AssertionError("unreachable")  # pragma: no cover

    def f(v):
        a, b = v._mpi_
        return ctx.make_mpf((at(a)._mpi_[0], at(b)._mpi_[1]))

    return f


class MPInterval(Interpretation):
    """Outward-rounded ``mpmath.iv`` evaluation of one exact input, with crashes.

    Parameters
    ----------
    net : Network
    ctx : mpmath.ctx_iv.MPIntervalContext
        Its ``prec`` is the working precision.
    x : sequence of Fraction
        The input, flattened row-major.
    crashed : mapping {site name: {index: Fraction}}, optional
        What each failed neuron sends (0 for a crash).
    clean : dict, optional
        The values of a pass without faults (from this interpretation):
        elements no crash can reach keep them.

    Examples
    --------
    >>> from mpmath import iv
    >>> from symft.graph.network import mean_network
    >>> MPInterval(mean_network(2), iv, [Fraction(1)] * 2).name
    'mpmath-interval'
    """

    name = "mpmath-interval"

    def __init__(self, net, ctx, x, *, crashed=None, clean=None):
        self.net = net
        self.ctx = ctx
        self.x = list(x)
        self.crashed = {s: dict(v) for s, v in (crashed or {}).items()}
        self.clean = clean
        self.fault_nodes = frozenset(self.crashed)
        self._acts = {}
        self._rows = {}

    def input(self, node, x):
        return [iv_rational(self.ctx, v) for v in self.x], [False] * len(self.x)

    def affine(self, node, args):
        if node.op.kind in ("flatten", "reshape", "identity"):
            return args[0]
        ins = [v for a in args for v in a[0]]
        ch = [c for a in args for c in a[1]]
        rows = self._rows.get(node.name)
        if rows is None:
            R, B = affine_rows(node)
            rows = self._rows[node.name] = ([[(j, iv_rational(self.ctx, w)) for j, w in r] for r in R],
                                            [iv_rational(self.ctx, b) for b in B])
        W, b = rows
        old = None if self.clean is None else self.clean[node.name][0]
        vals, changed = [], []
        for i, (row, bi) in enumerate(zip(W, b)):
            c = any(ch[j] for j, _ in row)
            if old is not None and not c:
                vals.append(old[i])
            else:
                vals.append(sum((w * ins[j] for j, w in row), bi))
            changed.append(c)
        return vals, changed

    def op_activation(self, node, args):
        act = node.op.act
        if act.name == "linear":
            return args[0]
        f = self._acts.get(act.name)
        if f is None:
            try:
                f = self._acts[act.name] = compile_activation(act, self.ctx)
            except InvalidArgument as e:
                raise NoRule(f"the {self.name} interpretation has no rule for activation {act.name!r} "
                             f"(node {node.name!r}): {e}") from None
        vals, ch = args[0]
        old = None if self.clean is None else self.clean[node.name][0]
        return [f(v) if old is None or c else old[i] for i, (v, c) in enumerate(zip(vals, ch))], list(ch)

    def op_maxpool2d(self, node, args):
        import numpy as np

        vals, ch = args[0]
        idx = np.asarray(node.op.index(node.in_shapes[0])[0])
        idx = idx.reshape(-1, idx.shape[-1])
        out, och = [], []
        for win in idx.tolist():
            out.append(iv_max(self.ctx, [vals[j] for j in win]))
            och.append(any(ch[j] for j in win))
        return out, och

    def at_site(self, node, value):
        from mpmath.libmp import fzero

        vals, ch = list(value[0]), list(value[1])
        for i, v in self.crashed[node.name].items():
            if not (v == 0 and vals[i]._mpi_ == (fzero, fzero)):
                ch[i] = True
            vals[i] = iv_rational(self.ctx, Fraction(v))
        return vals, ch
