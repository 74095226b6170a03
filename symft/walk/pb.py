r"""The pseudo-boolean interpretation: threshold networks under crashes as SAT clauses.

For networks whose hidden activations are ``step`` and whose affine ops
have integer coefficients on every value a crash can reach, the value of a
node is a list (row-major) of linear forms ``const + Σ w·ℓ`` over Boolean
literals ``ℓ`` (:class:`Form`):

* input: constants;
* affine ops (dense, add, reshapes, and any other affine op through its
  exact rows, :func:`~symft.walk.exactrows.affine_rows`): sums of forms;
* ``step``: a new literal ``a ⇔ Σ w·ℓ + const > 0``, as two
  pseudo-boolean constraints with big-M selectors (``a ⇒ Σ ≥ ⌊−const⌋ + 1``,
  ``¬a ⇒ Σ ≤ ⌊−const⌋``); ``linear`` passes forms through;
* crash site: a crash literal ``c`` per neuron; a 0/1 neuron becomes
  ``y ⇔ a ∧ ¬c``, a constant ``v`` the form ``v·¬c``.

Every constraint is divided by the gcd of its coefficients, and refused
(:class:`~symft.errors.InvalidArgument`, one line) when ``Σ|w| + |bound|``
exceeds :data:`symft.solvers.PB_SUM_LIMIT` — beyond it python-sat's
encoders silently produce wrong clauses.  The clauses, the next free
variable and the crash literals are in :attr:`PBForms.clauses`,
:attr:`PBForms.top` and :attr:`PBForms.crash`.

Examples
--------
>>> from symft.graph.network import Network
>>> from symft.walk.walker import walk
>>> net = Network.from_sympy([[[1, -1]], [[2]]], activations=["step", "linear"])
>>> pb = PBForms(net, [Fraction(1), Fraction(0)], {"0": 0})
>>> out = walk(net, pb, None, keep=False)
>>> out[0].const, sorted(out[0].terms.values()), len(pb.crash)
(Fraction(0, 1), [Fraction(2, 1)], 2)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

from ..errors import InvalidArgument
from ..solvers import PB_SUM_LIMIT
from .exactrows import affine_rows
from .walker import Interpretation, NoRule

__all__ = ["Form", "PBForms"]


@dataclass
class Form:
    """A linear form ``const + Σ_ℓ terms[ℓ]·ℓ`` over literals (``ℓ < 0`` is the negation of ``−ℓ``).

    Examples
    --------
    >>> Form(Fraction(1), {3: Fraction(2)}).is_const
    False
    """

    const: Fraction
    terms: dict = field(default_factory=dict)

    @property
    def is_const(self) -> bool:
        """No literal.

        Examples
        --------
        >>> Form(Fraction(0)).is_const
        True
        """
        return not self.terms


class PBForms(Interpretation):
    """Linear forms over Booleans, with crash literals at the given sites, and the clauses defining them.

    Parameters
    ----------
    net : Network
    x : sequence of Fraction
        The input, flattened row-major.
    crash_sites : mapping {site name: key}
        Sites whose neurons may crash (the output is handled by the caller).

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> PBForms(mean_network(2), [Fraction(1)] * 2, {}).name
    'pseudo-boolean'
    """

    name = "pseudo-boolean"

    def __init__(self, net, x, crash_sites):
        self.net = net
        self.x = list(x)
        self.keys = dict(crash_sites)
        self.fault_nodes = frozenset(self.keys)
        self.top = 0
        self.clauses = []
        self.crash = {}
        self.TRUE = self.new()
        self.clauses.append([self.TRUE])

    def new(self) -> int:
        """A fresh variable.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> PBForms(mean_network(1), [Fraction(1)], {}).new()
        2
        """
        self.top += 1
        return self.top

    def pb(self, lits, weights, op, bound, where):
        """Add ``Σ w·ℓ (op) bound`` (op ``">="`` or ``"<="``), integer weights, normalised and encoded.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> p = PBForms(mean_network(1), [Fraction(1)], {})
        >>> p.pb([2, 3], [4, 6], ">=", 3, "here"); len(p.clauses) > 1
        True
        """
        from pysat.pb import EncType, PBEnc

        ls, ws = [], []
        bound = int(bound)
        for l_, w in zip(lits, weights):
            w = int(w)
            if w > 0:
                ls.append(l_)
                ws.append(w)
            elif w < 0:
                ls.append(-l_)
                ws.append(-w)
                bound -= w
        g = math.gcd(*ws) if ws else 1
        if g > 1:  # Σ (w/g)·ℓ ≥ ⌈bound/g⌉, ≤ ⌊bound/g⌋
            ws = [w // g for w in ws]
            bound = -((-bound) // g) if op == ">=" else bound // g
        total = sum(ws)
        if op == ">=":
            if bound <= 0:
                return
            if bound > total:
                self.clauses.append([])
                return
        else:
            if bound >= total:
                return
            if bound < 0:
                self.clauses.append([])
                return
        if total + abs(bound) > PB_SUM_LIMIT:
            raise InvalidArgument(f"SAT back end: a constraint at {where} has coefficients summing to about "
                                  f"2^{total.bit_length()}, beyond what python-sat encodes correctly (2^62); "
                                  "use method='smt'")
        enc = (PBEnc.atleast if op == ">=" else PBEnc.atmost)(lits=ls, weights=ws, bound=bound, top_id=self.top,
                                                              encoding=EncType.adder)
        self.top = max(self.top, enc.nv)
        self.clauses.extend(enc.clauses)

    def input(self, node, x):
        return [Form(v) for v in self.x]

    def affine(self, node, args):
        if node.op.kind in ("flatten", "reshape", "identity"):
            return args[0]
        ins = [f for a in args for f in a]
        rows, bias = affine_rows(node)
        out = []
        for row, b in zip(rows, bias):
            const, terms = b, {}
            for j, w in row:
                f = ins[j]
                const += w * f.const
                for l_, c in f.terms.items():
                    terms[l_] = terms.get(l_, 0) + w * c
            out.append(Form(const, {l_: c for l_, c in terms.items() if c}))
        return out

    def op_activation(self, node, args):
        act = node.op.act
        if act.name == "linear":
            return args[0]
        if act.name != "step":
            raise NoRule(f"the {self.name} interpretation has no rule for activation {act.name!r} (node "
                         f"{node.name!r}): only step and linear")
        out = []
        for f in args[0]:
            if f.is_const:
                out.append(Form(Fraction(1) if f.const > 0 else Fraction(0)))
                continue
            lits, ws = list(f.terms), list(f.terms.values())
            if any(w.denominator != 1 for w in ws):
                raise InvalidArgument(f"SAT back end: node {node.name!r} sums crashable values with non-integer "
                                      "weights; use method='smt'")
            t = math.floor(-f.const)                   # a ⇔ Σ ≥ t + 1 ;  ¬a ⇔ Σ ≤ t
            lo = sum(min(0, int(w)) for w in ws)
            hi = sum(max(0, int(w)) for w in ws)
            a = self.new()
            self.pb(lits + [-a], ws + [max(0, t + 1 - lo)], ">=", t + 1, f"node {node.name!r}")
            self.pb(lits + [a], ws + [-max(0, hi - t)], "<=", t, f"node {node.name!r}")
            out.append(Form(Fraction(0), {a: Fraction(1)}))
        return out

    def at_site(self, node, value):
        key = self.keys[node.name]
        out = []
        for i, f in enumerate(value):
            c = self.new()
            self.crash[(key, i)] = c
            if f.is_const:
                out.append(Form(Fraction(0), {-c: f.const}) if f.const else f)
            elif f.const == 0 and len(f.terms) == 1 and list(f.terms.values())[0] == 1 and list(f.terms)[0] > 0:
                a = list(f.terms)[0]
                y = self.new()  # y ⇔ a ∧ ¬c
                self.clauses += [[-y, a], [-y, -c], [y, -a, c]]
                out.append(Form(Fraction(0), {y: Fraction(1)}))
            else:
                raise NoRule(f"the {self.name} interpretation cannot crash neuron {i} of {node.name!r}: it holds a "
                             "sum, not a 0/1 value")
        return out
