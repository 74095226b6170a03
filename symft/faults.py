r"""Failure models (THEORY D2, D3) and crash patterns, as frozen value objects.

Failure *models* say how failures happen:

* :class:`NeuronCrash` — independent Bernoulli crashes ``ξ_l^i ~ Be(p_l)``
  at any set of layers ``0 … L`` (D3), with the crash semantics
  ``"output_zero"`` (default: a crashed neuron outputs 0, as T1, AP2 and P1's
  proof use) or ``"incoming_zeroed"`` (D3's other reading: incoming weights
  zeroed, so the neuron outputs ``φ(b)``; an input neuron then outputs 0).
* :class:`SynapseCrash` — each weight into layer ``l`` zeroed independently
  with probability ``p_l`` (the zeroing case of D2's weight failures).
* :class:`Byzantine` — failed neurons send any value in ``[-C, C]`` [WNF].
* :class:`StuckAt` — failed neurons output a fixed value.

A :class:`CrashPattern` says *which* neurons and synapses failed (and, for
Byzantine or stuck-at failures, the values they send).  All are frozen
dataclasses: hashable, comparable, loggable.

Examples
--------
>>> from symft.faults import NeuronCrash, CrashPattern
>>> m = NeuronCrash({1: 0.01, 0: 0.001})
>>> m.layers, m.probability(1), m.probability(2)
((0, 1), 0.01, 0)
>>> CrashPattern.from_layers({1: [2, 0]}).neurons
frozenset({(1, 0), (1, 2)})
"""

from __future__ import annotations

from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Mapping

import numpy as np
import sympy as sp

from .errors import FaultModelError

__all__ = [
    "SEMANTICS",
    "NeuronCrash",
    "SynapseCrash",
    "Byzantine",
    "StuckAt",
    "CrashPattern",
    "check_probability",
    "patterns_to_masks",
]

#: The crash semantics symft knows, default first.
SEMANTICS = ("output_zero", "incoming_zeroed")


def check_probability(p, where: str = "p"):
    """Validate a probability; a SymPy symbol passes unless provably outside [0, 1].

    Returns the value unchanged (floats stay floats, rationals stay exact).

    Examples
    --------
    >>> check_probability(0.25)
    0.25
    >>> check_probability(sp.Symbol("p")), check_probability(sp.Rational(1, 3))
    (p, 1/3)
    >>> check_probability(1.5, "--p 1")
    Traceback (most recent call last):
    ...
    symft.errors.FaultModelError: --p 1: expected a probability in [0, 1], got 1.5
    """
    if isinstance(p, bool) or p is None:
        raise FaultModelError(f"{where}: expected a probability in [0, 1], got {p!r}")
    if isinstance(p, sp.Basic):
        if not isinstance(p, sp.Expr) or p.has(sp.nan, sp.zoo):
            raise FaultModelError(f"{where}: expected a probability in [0, 1], got {p}")
        if p.is_extended_real is False or (p.is_number and not p.is_extended_real):
            raise FaultModelError(f"{where}: expected a probability in [0, 1] (a real number), got {p}")
        if (p < 0) == sp.true or (p > 1) == sp.true:
            raise FaultModelError(f"{where}: expected a probability in [0, 1], got {p}")
        return p
    if isinstance(p, Real):
        if not (0 <= p <= 1):  # also rejects NaN
            raise FaultModelError(f"{where}: expected a probability in [0, 1], got {p}")
        return p
    raise FaultModelError(f"{where}: expected a probability in [0, 1], got {type(p).__name__} {p!r}")


def _layer_probs(p, where, first):
    if not isinstance(p, Mapping):
        raise FaultModelError(f"{where}: expected a mapping {{layer: probability}}, got {type(p).__name__}")
    out = []
    for l, q in p.items():
        if not isinstance(l, Integral) or isinstance(l, bool) or l < first:
            raise FaultModelError(f"{where}: layer {l!r}: expected an integer ≥ {first}")
        out.append((int(l), check_probability(q, f"{where}[{l}]")))
    return tuple(sorted(out))


def _is_zero(q):
    return q == 0


@dataclass(frozen=True)
class NeuronCrash:
    r"""Independent Bernoulli neuron crashes at any set of layers (THEORY D3).

    Parameters
    ----------
    p : mapping {int: probability}
        Crash probability per layer; layer 0 is the input.  Probabilities
        may be floats, exact rationals or SymPy symbols.
    semantics : {"output_zero", "incoming_zeroed"}
        What a crashed neuron outputs: 0 (default), or ``φ(b)`` as when its
        incoming weights are zeroed (0 at the input layer).

    Examples
    --------
    >>> m = NeuronCrash({2: sp.Rational(1, 100)})
    >>> m == NeuronCrash({2: sp.Rational(1, 100)}), hash(m) == hash(NeuronCrash({2: sp.Rational(1, 100)}))
    (True, True)
    >>> NeuronCrash({1: 0.1}, semantics="zero")
    Traceback (most recent call last):
    ...
    symft.errors.FaultModelError: semantics: expected one of 'output_zero', 'incoming_zeroed', got 'zero'
    """

    p: tuple
    semantics: str = "output_zero"

    def __init__(self, p, semantics: str = "output_zero"):
        if isinstance(p, tuple) and all(isinstance(t, tuple) and len(t) == 2 for t in p):
            p = dict(p)
        object.__setattr__(self, "p", _layer_probs(p, "p", 0))
        if semantics not in SEMANTICS:
            raise FaultModelError(
                f"semantics: expected one of {', '.join(map(repr, SEMANTICS))}, got {semantics!r}"
            )
        object.__setattr__(self, "semantics", semantics)

    @classmethod
    def hidden(cls, net, p, semantics: str = "output_zero") -> "NeuronCrash":
        """Crashes with the same probability at every hidden layer ``1 … L-1``.

        Examples
        --------
        >>> from symft.network import random_network
        >>> NeuronCrash.hidden(random_network([2, 3, 3, 1], seed=0), 0.01).layers
        (1, 2)
        """
        if net.depth < 2:
            raise FaultModelError("p: a bare probability means every hidden layer, "
                                  f"but this network has none (L = {net.depth}); use LAYER:P")
        return cls({l: p for l in range(1, net.depth)}, semantics)

    @property
    def layers(self) -> tuple[int, ...]:
        """Layers with a non-zero crash probability.

        Examples
        --------
        >>> NeuronCrash({0: 0.1, 3: 0}).layers
        (0,)
        """
        return tuple(l for l, q in self.p if not _is_zero(q))

    def probability(self, layer: int):
        """Crash probability of a neuron of ``layer`` (0 when not listed).

        Examples
        --------
        >>> NeuronCrash({1: 0.5}).probability(0)
        0
        """
        return dict(self.p).get(layer, 0)

    def check(self, net) -> "NeuronCrash":
        """Raise :class:`~symft.errors.FaultModelError` unless every layer exists in ``net``.

        Examples
        --------
        >>> from symft.network import mean_network
        >>> NeuronCrash({2: 0.1}).check(mean_network(3))
        Traceback (most recent call last):
        ...
        symft.errors.FaultModelError: p: layer 2 does not exist; the network has layers 0 … 1
        """
        for l, _ in self.p:
            if l > net.depth:
                raise FaultModelError(f"p: layer {l} does not exist; the network has layers 0 … {net.depth}")
        return self

    def n_neurons(self, net) -> int:
        """Number of neurons that may crash.

        Examples
        --------
        >>> from symft.network import random_network
        >>> NeuronCrash({0: 0.1, 1: 0.1}).n_neurons(random_network([3, 4, 1], seed=0))
        7
        """
        self.check(net)
        return sum(net.widths[l] for l in self.layers)

    def sample(self, net, n_samples: int, seed) -> dict[int, np.ndarray]:
        """Draw ``n_samples`` independent crash masks (``True`` = crashed).

        Returns ``{layer: bool array of shape (n_samples, n_l)}``; feed it to
        :func:`symft.forward.forward_masked`.

        Examples
        --------
        >>> from symft.network import random_network
        >>> masks = NeuronCrash({1: 0.5}).sample(random_network([2, 6, 1], seed=0), 4, seed=1)
        >>> masks[1].shape, masks[1].dtype
        ((4, 6), dtype('bool'))
        """
        from .utils import as_rng

        self.check(net)
        rng = as_rng(seed)
        out = {}
        for l in self.layers:
            q = self.probability(l)
            if isinstance(q, sp.Basic) and q.free_symbols:
                raise FaultModelError(f"p[{l}] = {q} is symbolic; sampling needs a number")
            out[l] = rng.random((int(n_samples), net.widths[l])) < float(q)
        return out


@dataclass(frozen=True)
class SynapseCrash:
    r"""Each synapse into layer ``l`` (entry of ``W_l``) zeroed with probability ``p_l``.

    This is the zeroing special case of weight failures (THEORY D2:
    ``U^{ij} = -W^{ij}`` with probability p).  Layers are ``1 … L``.

    Examples
    --------
    >>> SynapseCrash({1: 0.01}).layers
    (1,)
    >>> SynapseCrash({0: 0.1})
    Traceback (most recent call last):
    ...
    symft.errors.FaultModelError: p: layer 0: expected an integer ≥ 1
    """

    p: tuple

    def __init__(self, p):
        object.__setattr__(self, "p", _layer_probs(p, "p", 1))

    @property
    def layers(self) -> tuple[int, ...]:
        """Layers whose incoming synapses may crash.

        Examples
        --------
        >>> SynapseCrash({2: 0.1, 1: 0.0}).layers
        (2,)
        """
        return tuple(l for l, q in self.p if not _is_zero(q))

    def probability(self, layer: int):
        """Crash probability of a synapse into ``layer``.

        Examples
        --------
        >>> SynapseCrash({2: 0.1}).probability(2)
        0.1
        """
        return dict(self.p).get(layer, 0)

    def sample(self, net, n_samples: int, seed) -> dict[int, np.ndarray]:
        """Draw masks ``{layer: bool array (n_samples, n_l, n_{l-1})}``.

        Examples
        --------
        >>> from symft.network import random_network
        >>> m = SynapseCrash({1: 0.5}).sample(random_network([2, 3, 1], seed=0), 5, seed=0)
        >>> m[1].shape
        (5, 3, 2)
        """
        from .utils import as_rng

        rng = as_rng(seed)
        out = {}
        for l in self.layers:
            if l > net.depth:
                raise FaultModelError(f"p: layer {l} does not exist; the network has layers 1 … {net.depth}")
            out[l] = rng.random((int(n_samples), net.widths[l], net.widths[l - 1])) < float(self.probability(l))
        return out


@dataclass(frozen=True)
class Byzantine:
    r"""Byzantine neurons [WNF]: a failed neuron sends any value in ``[-C, C]``.

    ``capacity`` is the synaptic transmission capacity C.  If correct
    outputs can have the other sign, the deviation a Byzantine neuron causes
    is up to ``2C`` (see :attr:`deviation`, which bounds it by ``C + sup|y|``
    given the range of correct outputs).

    Examples
    --------
    >>> Byzantine(1).deviation((0, 1))
    2
    """

    capacity: object

    def __post_init__(self):
        c = self.capacity
        if isinstance(c, bool) or not isinstance(c, (Real, sp.Basic)) or (
                isinstance(c, Real) and not (0 <= c < float("inf"))):
            raise FaultModelError(f"capacity: expected a finite number C ≥ 0, got {c!r}")

    def deviation(self, output_range) -> object:
        """Largest ``|v - y|`` for ``v ∈ [-C, C]`` and ``y`` in ``output_range``.

        Examples
        --------
        >>> Byzantine(2).deviation((-1, 1))
        3
        """
        lo, hi = output_range
        return max(abs(self.capacity - lo), abs(-self.capacity - lo),
                   abs(self.capacity - hi), abs(-self.capacity - hi))


@dataclass(frozen=True)
class StuckAt:
    """A failed neuron outputs the fixed ``value``.

    Examples
    --------
    >>> StuckAt(1.0).value
    1.0
    """

    value: object

    def __post_init__(self):
        v = self.value
        if isinstance(v, bool) or not isinstance(v, (Real, sp.Basic)) or (
                isinstance(v, Real) and not np.isfinite(float(v))):
            raise FaultModelError(f"value: expected a finite number, got {v!r}")


@dataclass(frozen=True)
class CrashPattern:
    r"""Which neurons and synapses failed — one configuration of the failure model.

    Parameters
    ----------
    neurons : frozenset of (layer, index)
        Failed neurons (layer 0 = inputs).
    synapses : frozenset of (layer, i, j)
        Failed synapses: entry ``W_layer[i, j]``, from neuron ``j`` of layer
        ``layer - 1`` to neuron ``i`` of ``layer``.
    values : tuple of ((layer, index), value)
        For Byzantine or stuck-at failures, the value a failed neuron sends;
        failed neurons without one follow the crash semantics.

    Examples
    --------
    >>> p = CrashPattern(neurons=[(1, 0)], values={(1, 0): 5.0})
    >>> p.value_map
    {(1, 0): 5.0}
    >>> CrashPattern() == CrashPattern(frozenset(), frozenset())
    True
    """

    neurons: frozenset = field(default_factory=frozenset)
    synapses: frozenset = field(default_factory=frozenset)
    values: tuple = ()

    def __post_init__(self):
        neurons = frozenset(_pair(n) for n in self.neurons)
        synapses = frozenset(_triple(s) for s in self.synapses)
        values = self.values.items() if isinstance(self.values, Mapping) else self.values
        values = tuple(sorted((_pair(k), v) for k, v in values))
        for k, v in values:
            if k not in neurons:
                raise FaultModelError(f"values: neuron {k} has a value but is not among the failed neurons")
            if isinstance(v, bool) or not isinstance(v, (Real, sp.Basic)) or (
                    isinstance(v, Real) and not np.isfinite(float(v))):
                raise FaultModelError(f"values[{k}]: expected a finite number, got {v!r}")
        object.__setattr__(self, "neurons", neurons)
        object.__setattr__(self, "synapses", synapses)
        object.__setattr__(self, "values", values)

    @classmethod
    def from_layers(cls, crashed: Mapping, synapses=(), values=()) -> "CrashPattern":
        """Build from ``{layer: [indices]}``.

        Examples
        --------
        >>> CrashPattern.from_layers({0: [1], 2: [0, 3]}).layers
        (0, 2)
        """
        neurons = []
        for l, idx in dict(crashed).items():
            if isinstance(idx, Integral):
                idx = [idx]
            neurons.extend((l, i) for i in idx)
        return cls(frozenset(neurons), frozenset(synapses), values)

    @property
    def layers(self) -> tuple[int, ...]:
        """Layers with a failed neuron, sorted.

        Examples
        --------
        >>> CrashPattern([(3, 0), (1, 1)]).layers
        (1, 3)
        """
        return tuple(sorted({l for l, _ in self.neurons}))

    @property
    def value_map(self) -> dict:
        """``{(layer, index): value}`` for neurons that send a value.

        Examples
        --------
        >>> CrashPattern([(0, 0)]).value_map
        {}
        """
        return dict(self.values)

    def __len__(self):
        return len(self.neurons) + len(self.synapses)

    def check(self, net, where: str = "crash") -> "CrashPattern":
        """Raise :class:`~symft.errors.FaultModelError` if an index is out of range for ``net``.

        Examples
        --------
        >>> from symft.network import mean_network
        >>> CrashPattern([(0, 5)]).check(mean_network(3))
        Traceback (most recent call last):
        ...
        symft.errors.FaultModelError: crash: neuron index 5 out of range for layer 0 (n_0 = 3, indices 0 … 2)
        """
        widths = net.widths
        for l, i in sorted(self.neurons):
            if not 0 <= l <= net.depth:
                raise FaultModelError(f"{where}: layer {l} does not exist; the network has layers 0 … {net.depth}")
            if not 0 <= i < widths[l]:
                raise FaultModelError(f"{where}: neuron index {i} out of range for layer {l} "
                                      f"(n_{l} = {widths[l]}, indices 0 … {widths[l] - 1})")
        for l, i, j in sorted(self.synapses):
            if not 1 <= l <= net.depth:
                raise FaultModelError(f"{where}: synapse layer {l} does not exist; expected 1 … {net.depth}")
            if not (0 <= i < widths[l] and 0 <= j < widths[l - 1]):
                raise FaultModelError(f"{where}: synapse ({l}, {i}, {j}) out of range; W_{l} is "
                                      f"{widths[l]} × {widths[l - 1]}")
        return self

    def neuron_masks(self, net) -> dict[int, np.ndarray]:
        """``{layer: bool vector of length n_l}`` (``True`` = failed).

        Examples
        --------
        >>> from symft.network import mean_network
        >>> CrashPattern([(0, 1)]).neuron_masks(mean_network(3))
        {0: array([False,  True, False])}
        """
        self.check(net)
        out = {}
        for l, i in self.neurons:
            out.setdefault(l, np.zeros(net.widths[l], dtype=bool))[i] = True
        return out


def _pair(n):
    try:
        l, i = n
    except (TypeError, ValueError):
        raise FaultModelError(f"neurons: expected (layer, index) pairs, got {n!r}") from None
    if not all(isinstance(v, Integral) and not isinstance(v, bool) for v in (l, i)) or l < 0 or i < 0:
        raise FaultModelError(f"neurons: expected (layer, index) pairs of non-negative integers, got {n!r}")
    return int(l), int(i)


def _triple(s):
    try:
        l, i, j = s
    except (TypeError, ValueError):
        raise FaultModelError(f"synapses: expected (layer, i, j) triples, got {s!r}") from None
    if not all(isinstance(v, Integral) and not isinstance(v, bool) for v in (l, i, j)) or min(l, i, j) < 0:
        raise FaultModelError(f"synapses: expected non-negative integer triples, got {s!r}")
    return int(l), int(i), int(j)


def patterns_to_masks(net, patterns) -> tuple[dict, dict, dict]:
    """Stack crash patterns into batched masks for :func:`symft.forward.forward_masked`.

    Returns ``(neuron_masks, values, synapse_masks)``: ``{layer: (P, n_l)
    bool}``, ``{layer: (P, n_l) float}`` holding the values failed neurons
    send (NaN where the crash semantics decide), and ``{layer: (P, n_l,
    n_{l-1}) bool}``.

    Examples
    --------
    >>> from symft.network import random_network
    >>> net = random_network([2, 3, 1], seed=0)
    >>> nm, vals, sm = patterns_to_masks(net, [CrashPattern([(1, 0)]), CrashPattern([(1, 2)])])
    >>> nm[1].astype(int)
    array([[1, 0, 0],
           [0, 0, 1]])
    >>> vals, sm
    ({}, {})
    """
    patterns = list(patterns)
    P = len(patterns)
    widths = net.widths
    nm, vals, sm = {}, {}, {}
    for k, pat in enumerate(patterns):
        if not isinstance(pat, CrashPattern):
            raise FaultModelError(f"patterns[{k}]: expected a CrashPattern, got {type(pat).__name__}")
        pat.check(net, f"patterns[{k}]")
        for l, i in pat.neurons:
            nm.setdefault(l, np.zeros((P, widths[l]), dtype=bool))[k, i] = True
        for (l, i), v in pat.values:
            vals.setdefault(l, np.full((P, widths[l]), np.nan))[k, i] = float(v)
        for l, i, j in pat.synapses:
            sm.setdefault(l, np.zeros((P, widths[l], widths[l - 1]), dtype=bool))[k, i, j] = True
    return nm, vals, sm
