r"""Symbolic network evaluation: ``y_L`` as a SymPy expression (theory D1, D3).

The output of a network is written as a SymPy expression of

* the inputs (numbers, or the symbols ``x_0 … x_{n_0-1}`` when no input is
  given),
* the crash indicators ``ξ_l^i`` (:func:`xi_symbol`), one per neuron of every
  layer that may crash: a crashed neuron's output is multiplied by
  ``1 − ξ_l^i`` (theory D3, "output is 0"), or, under the
  ``"incoming_zeroed"`` semantics, replaced by ``φ(b)`` when ``ξ = 1``;
* the weights and biases as the network stores them (exact rationals,
  symbols, or floats read as the binary rationals they hold).

The expression is produced by the walker (:func:`symft.walk.walker.walk`)
with the SymPy interpretation (:class:`symft.walk.symbolic.Symbolic`), on any
graph: the same walk as the numeric forward pass, only the per-operation
rules differ (STYLE lesson 3).

Examples
--------
>>> from symft.graph.network import mean_network
>>> ev = symbolic_forward(mean_network(2), crash_layers=[0])
>>> ev.outputs[0]
x_0*(1 - xi_0^0)/2 + x_1*(1 - xi_0^1)/2
>>> ev.xi_symbols
(xi_0^0, xi_0^1)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
import sympy as sp

from ..errors import FaultModelError, InvalidArgument, TooLargeError
from ..faults import SEMANTICS, NeuronCrash, site_key, site_of
from ..utils import to_exact
from ..walk.symbolic import Symbolic
from ..walk.walker import walk
from ..results import result

__all__ = [
    "xi_symbol",
    "input_symbols",
    "crash_layers_of",
    "latex_block",
    "symbolic_ops",
    "SymbolicEvaluation",
    "symbolic_forward",
    "MAX_SYMBOLIC_OPS",
]

#: Default limit on the number of scalar operations of a symbolic forward pass.
MAX_SYMBOLIC_OPS = 200_000


def xi_symbol(layer, index: int) -> sp.Symbol:
    r"""The crash indicator ``ξ_l^i`` of neuron ``index`` of site ``layer`` (a layer number or a site name).

    It prints as ``xi_l^i`` and renders in LaTeX as :math:`\xi^{i}_{l}`.

    Examples
    --------
    >>> xi_symbol(1, 2), xi_symbol("h1", 0)
    (xi_1^2, xi_h1^0)
    >>> sp.latex(xi_symbol(1, 2))
    '\\xi^{2}_{1}'
    """
    key = layer if isinstance(layer, str) else int(layer)
    return sp.Symbol(f"xi_{key}^{int(index)}", real=True)


def input_symbols(n: int) -> tuple:
    """The input symbols ``x_0 … x_{n-1}`` (real).

    Examples
    --------
    >>> input_symbols(3)
    (x_0, x_1, x_2)
    """
    return tuple(sp.Symbol(f"x_{j}", real=True) for j in range(int(n)))


def crash_layers_of(net, crashes) -> tuple:
    """Normalise "which sites may crash": a NeuronCrash, a mapping {site: p} or an iterable of site keys.

    Sites with probability exactly 0 are dropped.  Returns the keys (layer
    numbers for a chain, site names otherwise) in the network's topological
    order.

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> net = random_network([2, 3, 1], seed=0)
    >>> crash_layers_of(net, {1: 0.1, 0: 0}), crash_layers_of(net, [1, 0])
    ((1,), (0, 1))
    >>> crash_layers_of(net, [3])
    Traceback (most recent call last):
    ...
    symft.errors.FaultModelError: crash layers: layer 3 does not exist; the network has layers 0 … 2
    """
    if isinstance(crashes, NeuronCrash):
        layers = crashes.layers
    elif isinstance(crashes, dict):
        layers = tuple(l for l, q in crashes.items() if not (q == 0 and not isinstance(q, sp.Symbol)))
    elif isinstance(crashes, Iterable) and not isinstance(crashes, (str, bytes)):
        layers = tuple(crashes)
    else:
        raise FaultModelError(f"crash layers: expected a NeuronCrash, a mapping {{layer: p}} or a list of "
                              f"layers, got {type(crashes).__name__}")
    keys = {}
    for l in layers:
        if isinstance(l, bool):
            raise FaultModelError(f"crash layers: layer {l!r} does not exist")
        k = site_key(l, "crash layers")
        keys[site_of(net, k, "crash layers")] = k
    return tuple(keys[s] for s in net.sites if s in keys)


def latex_block(rows: Sequence[tuple[str, str]]) -> str:
    r"""``\begin{aligned} a &= b \\ … \end{aligned}`` from (lhs, rhs) LaTeX pairs.

    Examples
    --------
    >>> latex_block([("y", "1"), ("z", "2")])
    '\\begin{aligned}y &= 1 \\\\ z &= 2\\end{aligned}'
    """
    body = r" \\ ".join(f"{a} &= {b}" for a, b in rows)
    return r"\begin{aligned}" + body + r"\end{aligned}"


@result
@dataclass(frozen=True)
class SymbolicEvaluation:
    r"""The network output as SymPy expressions.

    Attributes
    ----------
    outputs : tuple of sympy.Expr
        ``y_L^k`` for ``k = 0 … n_L - 1``.
    inputs : tuple
        The input values or symbols used.
    xi : tuple of (layer, index, Symbol)
        The crash indicators, in the order used everywhere (layer, then index).
    semantics : str
        The crash semantics.

    Examples
    --------
    >>> from symft.graph.network import first_input_network
    >>> ev = symbolic_forward(first_input_network(2), [3, 4], crash_layers=[0])
    >>> ev.outputs, ev.at_no_crash()
    ((3 - 3*xi_0^0,), (3,))
    >>> print(ev)
    y_0 = 3 - 3*xi_0^0
    """

    outputs: tuple
    inputs: tuple
    xi: tuple
    semantics: str = "output_zero"

    @property
    def xi_symbols(self) -> tuple:
        """The ``ξ`` symbols in order.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> symbolic_forward(mean_network(1), crash_layers=[0]).xi_symbols
        (xi_0^0,)
        """
        return tuple(s for _, _, s in self.xi)

    def at_no_crash(self) -> tuple:
        """The fault-free outputs (every ``ξ = 0``).

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> symbolic_forward(mean_network(2), [1, 1], crash_layers=[0]).at_no_crash()
        (1,)
        """
        zero = {s: 0 for s in self.xi_symbols}
        return tuple(sp.expand(e.xreplace(zero)) if e.is_polynomial() else e.xreplace(zero) for e in self.outputs)

    def latex(self) -> str:
        r"""LaTeX of the outputs (an ``aligned`` block).

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> symbolic_forward(mean_network(1), crash_layers=[0]).latex()
        '\\begin{aligned}y_{0} &= x_{0} \\left(1 - \\xi^{0}_{0}\\right)\\end{aligned}'
        """
        return latex_block([(f"y_{{{k}}}", sp.latex(e)) for k, e in enumerate(self.outputs)])

    def _repr_latex_(self) -> str:
        return f"$\\displaystyle {self.latex()}$"

    def __str__(self) -> str:
        return "\n".join(f"y_{k} = {e}" for k, e in enumerate(self.outputs))


def symbolic_ops(net, start=0) -> int:
    """Scalar operations of a symbolic pass from site ``start`` (the multiply-adds of the nodes downstream of it).

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> symbolic_ops(mean_network(3))
    7
    """
    from .enumeration import node_cost

    s0 = net.site(start)
    return sum(node_cost(net.node(n)) for n in net.downstream([s0]) if n != s0)


def symbolic_forward(net, x=None, crash_layers=(), *, semantics: str = "output_zero",
                     start=0, exact: bool | None = None, force: bool = False) -> SymbolicEvaluation:
    r"""Evaluate the network symbolically, with crash indicators at some sites.

    Parameters
    ----------
    net : Network
        Float, exact or symbolic weights (floats are read exactly as the
        binary rationals they hold); any graph.
    x : sequence, optional
        The value at site ``start`` (numbers, strings like ``"1/3"``, SymPy
        expressions), flat in row-major order.  Default: the symbols
        ``x_0, x_1, …``.
    crash_layers : NeuronCrash, mapping or iterable of site keys
        Sites whose neurons get a crash indicator ``ξ_l^i``.
    semantics : {"output_zero", "incoming_zeroed"}
        A crashed neuron outputs 0 (``ŷ = (1 − ξ) y``) or its value with the
        incoming synapses cut, ``γ = φ(b)`` (``ŷ = (1 − ξ) y + ξ γ``; 0 at
        the input).
    start : int or str
        Start the walk at this site (``x`` is then its value); everything
        downstream of it must depend on it only (always true for a chain).
    exact : bool or None
        Read float weights and float inputs as the binary rationals they hold
        (``True``) or as SymPy ``Float`` (``False``: readable, smooth
        activations evaluate to numbers, ~16 significant digits).  Default:
        exact unless the network is a float network.
    force : bool
        Skip the size guard.

    Raises
    ------
    TooLargeError
        When the walk needs more than :data:`MAX_SYMBOLIC_OPS` scalar
        operations (use the numeric path, :func:`symft.engines.forward.forward`).

    Examples
    --------
    >>> from symft.graph.network import Network
    >>> w = sp.Symbol("w", real=True)
    >>> net = Network.from_sympy([[[w, 1]], [[2]]], activations=["tanh", "linear"])
    >>> symbolic_forward(net, [1, 0], crash_layers=[1]).outputs
    (2*(1 - xi_1^0)*tanh(w),)
    >>> f = Network.from_numpy([[[0.5]], [[2.0]]], activations=["tanh", "linear"])
    >>> symbolic_forward(f, [1.0], crash_layers=[1]).outputs
    (0.924234314520019 - 0.924234314520019*xi_1^0,)
    """
    if semantics not in SEMANTICS:
        raise FaultModelError(f"semantics: expected one of {', '.join(map(repr, SEMANTICS))}, got {semantics!r}")
    try:
        s0 = net.site(start, "start") if not isinstance(start, bool) else None
    except InvalidArgument:
        s0 = None
    if s0 is None or s0 == net.output:
        hi = (f"a layer in 0 … {net.as_chain().depth - 1}" if net.is_chain
              else f"a site other than the output ({', '.join(net.sites[:-1])})")
        raise InvalidArgument(f"start: expected {hi}, got {start!r}")
    down = set(net.downstream([s0]))
    for n in down - {s0}:
        missing = [i for i in net.node(n).inputs if i not in down]
        if missing:
            raise InvalidArgument(f"start: node {n!r} also reads {missing[0]!r}, which does not depend on "
                                  f"{s0!r}; start at the input instead")
    layers = crash_layers_of(net, crash_layers)
    layers = tuple(l for l in layers if net.site(l) in down)
    ops = symbolic_ops(net, s0)
    if ops > MAX_SYMBOLIC_OPS and not force:
        raise TooLargeError(f"symbolic forward pass: about {ops} scalar operations (limit {MAX_SYMBOLIC_OPS}); "
                            "use the numeric forward pass (symft.engines.forward.forward / `symft eval`) or force=True")
    n0 = net.site_size(s0)
    if exact is None:
        exact = net.kind != "float"

    def num(v, where):
        if not exact and isinstance(v, (float, np.floating)):
            return sp.Float(float(v))
        return to_exact(v, where)

    if x is None:
        y0 = list(input_symbols(n0))
    else:
        if isinstance(x, sp.MatrixBase):
            x = list(x)
        if isinstance(x, (str, bytes)) or not hasattr(x, "__iter__"):
            raise InvalidArgument(f"x: expected a vector of {n0} values")
        y0 = [num(v, f"x[{j}]") for j, v in enumerate(np.asarray(list(x), dtype=object).reshape(-1))]
        if len(y0) != n0:
            raise InvalidArgument(f"x: expected {n0} values (width of layer {start}), got {len(y0)}")
    xi = tuple((l, i, xi_symbol(l, i)) for l in layers for i in range(net.site_size(l)))
    by_site = {}
    for l, i, sym in xi:
        by_site.setdefault(l, []).append(sym)
    interp = Symbolic(net, crash_symbols={l: syms for l, syms in by_site.items()}, semantics=semantics,
                      floats=not exact)
    v0 = np.empty(n0, dtype=object)
    for j, v in enumerate(y0):
        v0[j] = v
    v0 = v0.reshape((1,) + tuple(net.node(s0).shape))
    out = walk(net, interp, None, known={s0: v0} if s0 != net.input else None,
               overrides={s0: v0} if s0 != net.input else None, keep=False) if s0 != net.input else \
        walk(net, interp, v0, keep=False)
    return SymbolicEvaluation(tuple(np.asarray(out, dtype=object).reshape(-1)), tuple(y0), xi, semantics)
