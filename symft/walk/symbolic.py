r"""The SymPy interpretation: the network's output as exact expressions.

Values are object arrays of SymPy expressions with leading batch axes.  The
parameters are taken exactly (rationals, symbols; floats as the binary
rationals they hold).  Crash sites can carry crash indicators ``ξ``: a
neuron's value ``y`` becomes ``(1 − ξ) y`` ("output is 0") or
``(1 − ξ) y + ξ γ`` with ``γ`` its value when its incoming synapses are cut
(``"incoming_zeroed"``).

Examples
--------
>>> import numpy as np
>>> import sympy as sp
>>> from symft.graph.network import mean_network
>>> from symft.walk.walker import walk
>>> net = mean_network(2)
>>> xi = np.array([sp.Symbol("a"), sp.Symbol("b")], dtype=object)
>>> x = np.array([sp.Integer(1), sp.Integer(3)], dtype=object)
>>> walk(net, Symbolic(net, crash_symbols={0: xi}), x, keep=False)
array([-a/2 - 3*b/2 + 2], dtype=object)
"""

from __future__ import annotations

import numpy as np
from ..lazyimport import sympy as sp

from ..errors import FaultModelError
from ..faults import SEMANTICS, crash_values, site_of
from .walker import Interpretation, elementwise, masked_objects

__all__ = ["Symbolic", "crash_values_sympy"]



def crash_values_sympy(net, key, semantics: str, kind: str = "sympy") -> np.ndarray:
    """What a crashed neuron of a site outputs, as exact SymPy values (a vector).

    Examples
    --------
    >>> from symft.graph.network import Network
    >>> net = Network.from_sympy([[[1]], [[1]]], [["1/2"], [0]], activations=["tanh", "linear"])
    >>> crash_values_sympy(net, 1, "incoming_zeroed")
    array([tanh(1/2)], dtype=object)
    """
    return crash_values(net, key, semantics, zero=sp.Integer(0), kind=kind,
                        activate=lambda act, z: elementwise(act.sympy, z))


class Symbolic(Interpretation):
    """Exact SymPy evaluation; ``crash_symbols`` ``{site: object array (n_site,) of symbols}`` adds ξ.

    ``floats=True`` keeps float parameters as SymPy ``Float`` (readable; smooth
    activations then evaluate to numbers) instead of exact rationals.
    ``masks`` ``{site: bool (P, n)}`` (and ``values`` ``{site: object (P, n)}``,
    ``None`` entries following the crash semantics) evaluate given crash
    patterns exactly instead; ``synapses`` ``{site: set of (i, j)}`` zeroes
    entries of the dense weights feeding a site (one pattern).

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> Symbolic(mean_network(2)).name
    'sympy'
    """

    name = "sympy"

    def __init__(self, net, *, crash_symbols=None, masks=None, values=None, synapses=None,
                 semantics: str = "output_zero", floats: bool = False):
        if semantics not in SEMANTICS:
            raise FaultModelError(f"semantics: expected one of {', '.join(map(repr, SEMANTICS))}, got {semantics!r}")
        self.net = net
        self.semantics = semantics
        self.kind = "sympy_float" if floats else "sympy"
        self.masks = {site_of(net, k, "neuron_masks"): np.asarray(m, dtype=bool) for k, m in (masks or {}).items()}
        self.values = {site_of(net, k, "values"): np.asarray(v, dtype=object) for k, v in (values or {}).items()}
        self.xi = {}
        for k, syms in (crash_symbols or {}).items():
            site = site_of(net, k, "crash_symbols")
            syms = np.asarray(syms, dtype=object).reshape(-1)
            if syms.size != net.site_size(site):
                raise FaultModelError(f"crash_symbols[{k}]: expected {net.site_size(site)} symbols, got {syms.size}")
            self.xi[site] = syms
        self.syn = {net.synapse_node(site_of(net, k, "synapses")): frozenset(v) for k, v in (synapses or {}).items()}
        self.recompute = frozenset(self.syn)
        if set(self.xi) & set(self.masks):
            raise FaultModelError("crash_symbols and masks: a site takes one or the other")
        self.fault_nodes = frozenset(self.xi) | frozenset(self.masks)
        self._base = {s: crash_values_sympy(net, s, semantics, self.kind) for s in self.fault_nodes}

    def affine(self, node, args):
        op = node.op
        P = op.params(self.kind)
        if op.kind == "dense":
            W, b = P["weight"], P["bias"]
            if node.name in self.syn:
                W = W.copy()
                for i, j in self.syn[node.name]:
                    W[i, j] = sp.Integer(0)
            x = args[0]
            lead = x.shape[:-1]
            out = np.empty(lead + (W.shape[0],), dtype=object)
            for idx in np.ndindex(*lead) if lead else [()]:
                row = x[idx]
                for i in range(W.shape[0]):
                    terms = [W[i, j] * row[j] for j in range(W.shape[1]) if W[i, j] != 0 and row[j] != 0]
                    out[idx + (i,)] = sp.Add(*terms) + (b[i] if b is not None else 0)
            return out
        return op.apply(args, P, node.in_shapes)

    def op_activation(self, node, args):
        act = node.op.act
        if act.name == "linear":
            return args[0]
        return elementwise(act.sympy, args[0])

    def op_maxpool2d(self, node, args):
        op = node.op
        in_shape = tuple(node.in_shapes[0])
        win = op.windows(args[0], in_shape)
        out = np.empty(win.shape[:-1], dtype=object)
        for idx in np.ndindex(*out.shape):
            out[idx] = sp.Max(*win[idx])
        _, (OH, OW), _ = op.index(in_shape)
        return out.reshape(win.shape[:-3] + (in_shape[0], OH, OW))

    def at_site(self, node, Y):
        if node.name in self.masks:
            return masked_objects(node, Y, self.masks[node.name], self._base[node.name],
                                  self.values.get(node.name))
        xi = self.xi[node.name].reshape(node.shape)
        base = self._base[node.name].reshape(node.shape)
        keep = np.frompyfunc(lambda s: 1 - s, 1, 1)(xi)
        out = Y * keep
        if self.semantics != "output_zero":
            out = out + xi * base
        return out
