r"""Failure models (theory D2, D3) and crash patterns, as frozen value objects.

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

Failures address **crash sites** of the network graph (see
:mod:`symft.graph.network`): a key is a site's name, or an integer — the
layer number of a chain (its sites are named ``"0" … "L"``), or more
generally the position of the site (0 = the input).  Keys are kept as given,
with strings of digits read as integers, so ``{1: 0.01}`` and
``{"1": 0.01}`` are the same model; :func:`site_of` resolves a key against a
network.

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
from .lazyimport import sympy as sp

from .errors import FaultModelError, InvalidArgument

__all__ = [
    "SEMANTICS",
    "NeuronCrash",
    "SynapseCrash",
    "Byzantine",
    "StuckAt",
    "CrashPattern",
    "check_probability",
    "site_key",
    "site_order",
    "site_of",
    "numbered_site_name",
    "synapse_shape",
    "patterns_to_masks",
    "zeroed_preactivation",
    "crash_values",
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


def site_key(key, where: str = "site", first: int = 0):
    """Normalise a site key: an integer ≥ ``first``, or a site name (digit strings become integers).

    Examples
    --------
    >>> site_key(" 2"), site_key("relu1"), site_key(3)
    (2, 'relu1', 3)
    >>> site_key(-1)
    Traceback (most recent call last):
    ...
    symft.errors.FaultModelError: site: layer -1: expected an integer ≥ 0 or a site name
    """
    if isinstance(key, str):
        t = key.strip()
        if t.isdigit():
            key = int(t)
        elif t and t.isprintable():
            return t
        else:
            raise FaultModelError(f"{where}: expected a site name or a layer number, got {key!r}")
    if isinstance(key, Integral) and not isinstance(key, bool) and key >= first:
        return int(key)
    raise FaultModelError(f"{where}: layer {key!r}: expected an integer ≥ {first} or a site name")


def site_order(k):
    """A sort key for site keys: layer numbers first (in order), then site names (alphabetically).

    Examples
    --------
    >>> sorted(["h1", 2, "a", 0], key=site_order)
    [0, 2, 'a', 'h1']
    """
    return (1, k) if isinstance(k, str) else (0, k)


def site_of(net, key, where: str = "site") -> str:
    """The network's site name for a key (see :meth:`symft.graph.network.Network.site`).

    Raises
    ------
    FaultModelError
        When the site does not exist.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> site_of(mean_network(2), 1)
    '1'
    >>> site_of(mean_network(2), 2, "p")
    Traceback (most recent call last):
    ...
    symft.errors.FaultModelError: p: layer 2 does not exist; the network has layers 0 … 1
    """
    numbered_site_name(net, key, where)
    try:
        return net.site(key, where)
    except FaultModelError:
        raise
    except InvalidArgument as e:
        raise FaultModelError(str(e)) from None


def numbered_site_name(net, key, where: str = "site") -> None:
    """Refuse a number that would name a site by its position where sites are *named* by numbers.

    A network converted from PyTorch names its sites by module path: ``nn.Sequential(Linear, ReLU, Linear,
    Tanh, Linear)`` has the sites ``input, 1, 3, 4``.  There a number is the module's name (``3`` is the
    tanh), and a number that names no site (``0``, the first ``Linear``; ``2``) is refused, naming the sites,
    instead of being read as a position (``0`` the input, ``2`` the tanh) — which would crash something
    other than the module meant.  Networks whose numbered sites are at their own positions (``0, 1, 2``)
    are unaffected (a number past their last site is refused, as :meth:`~symft.graph.network.Network.site`
    refuses it).

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> numbered_site_name(random_network([2, 3, 1], seed=0), 1)      # sites 0, 1, 2: nothing to refuse
    """
    if isinstance(key, bool) or not (isinstance(key, Integral) or (isinstance(key, str) and key.strip().isdigit())):
        return
    try:
        net.site(int(key), where)           # the rule lives in Network.site: it refuses the number, naming the sites
    except InvalidArgument as e:
        raise FaultModelError(str(e)) from None


def _layer_probs(p, where, first):
    if not isinstance(p, Mapping):
        raise FaultModelError(f"{where}: expected a mapping {{site: probability}}, got {type(p).__name__}")
    out = {}
    for l, q in p.items():
        k = site_key(l, where, first)
        if k in out:
            raise FaultModelError(f"{where}: site {k!r} is given twice")
        out[k] = check_probability(q, f"{where}[{k}]")
    return tuple(sorted(out.items(), key=lambda t: site_order(t[0])))


def _is_zero(q):
    return q == 0


@dataclass(frozen=True)
class NeuronCrash:
    r"""Independent Bernoulli neuron crashes at any set of layers (theory D3).

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
        """Crashes with the same probability at every hidden site (every hidden layer ``1 … L-1`` of a chain).

        Examples
        --------
        >>> from symft.graph.network import random_network
        >>> NeuronCrash.hidden(random_network([2, 3, 3, 1], seed=0), 0.01).layers
        (1, 2)
        """
        hidden = net.hidden_sites
        if not hidden:
            L = f" (L = {net.as_chain().depth})" if net.is_chain else ""
            raise FaultModelError("p: a bare probability means every hidden layer, "
                                  f"but this network has none{L}; use LAYER:P (e.g. 0:P for the inputs)")
        return cls({site_key(s): p for s in hidden}, semantics)

    @property
    def layers(self) -> tuple:
        """Sites (layer numbers or names) with a non-zero crash probability.

        Examples
        --------
        >>> NeuronCrash({0: 0.1, 3: 0}).layers
        (0,)
        """
        return tuple(l for l, q in self.p if not _is_zero(q))

    sites = layers

    def probability(self, layer):
        """Crash probability of a neuron of ``layer`` (a site key; 0 when not listed).

        Examples
        --------
        >>> NeuronCrash({1: 0.5}).probability(0), NeuronCrash({1: 0.5}).probability("1")
        (0, 0.5)
        """
        return dict(self.p).get(site_key(layer), 0)

    def check(self, net) -> "NeuronCrash":
        """Raise :class:`~symft.errors.FaultModelError` unless every site exists in ``net``.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> NeuronCrash({2: 0.1}).check(mean_network(3))
        Traceback (most recent call last):
        ...
        symft.errors.FaultModelError: p: layer 2 does not exist; the network has layers 0 … 1
        """
        seen = {}
        for l, _ in self.p:
            s = site_of(net, l, "p")
            if s in seen:
                raise FaultModelError(f"p: {seen[s]!r} and {l!r} name the same site {s!r}")
            seen[s] = l
        return self

    def site_names(self, net) -> tuple:
        """The network's site names of :attr:`layers`, in the network's topological order.

        Examples
        --------
        >>> from symft.graph.network import random_network
        >>> NeuronCrash({2: 0.1, 0: 0.1}).site_names(random_network([2, 2, 1], seed=0))
        ('0', '2')
        """
        self.check(net)
        names = {site_of(net, l, "p") for l in self.layers}
        return tuple(s for s in net.sites if s in names)

    def n_neurons(self, net) -> int:
        """Number of neurons that may crash.

        Examples
        --------
        >>> from symft.graph.network import random_network
        >>> NeuronCrash({0: 0.1, 1: 0.1}).n_neurons(random_network([3, 4, 1], seed=0))
        7
        """
        self.check(net)
        return sum(net.site_size(l) for l in self.layers)

    def sample(self, net, n_samples: int, seed) -> dict:
        """Draw ``n_samples`` independent crash masks (``True`` = crashed).

        Returns ``{site key: bool array of shape (n_samples, n_site)}``; feed
        it to :func:`symft.engines.forward.forward_masked`.

        Examples
        --------
        >>> from symft.graph.network import random_network
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
            out[l] = rng.random((int(n_samples), net.site_size(l))) < float(q)
        return out


@dataclass(frozen=True)
class SynapseCrash:
    r"""Each synapse into a site zeroed independently with probability ``p``.

    The synapses into a site are the weights of the dense (or convolution)
    op that feeds it: for a chain, the entries of ``W_l`` for layer
    ``l = 1 … L``.  This is the zeroing special case of weight failures
    (theory D2: ``U^{ij} = -W^{ij}`` with probability p).

    Examples
    --------
    >>> SynapseCrash({1: 0.01}).layers
    (1,)
    >>> SynapseCrash({0: 0.1})
    Traceback (most recent call last):
    ...
    symft.errors.FaultModelError: p: layer 0: expected an integer ≥ 1 or a site name
    """

    p: tuple

    def __init__(self, p):
        object.__setattr__(self, "p", _layer_probs(p, "p", 1))

    @property
    def layers(self) -> tuple:
        """Sites whose incoming synapses may crash.

        Examples
        --------
        >>> SynapseCrash({2: 0.1, 1: 0.0}).layers
        (2,)
        """
        return tuple(l for l, q in self.p if not _is_zero(q))

    sites = layers

    def probability(self, layer):
        """Crash probability of a synapse into ``layer``.

        Examples
        --------
        >>> SynapseCrash({2: 0.1}).probability(2)
        0.1
        """
        return dict(self.p).get(site_key(layer), 0)

    def sample(self, net, n_samples: int, seed) -> dict:
        """Draw masks ``{site key: bool array (n_samples, n_out, n_in)}`` over the weight matrix.

        Examples
        --------
        >>> from symft.graph.network import random_network
        >>> m = SynapseCrash({1: 0.5}).sample(random_network([2, 3, 1], seed=0), 5, seed=0)
        >>> m[1].shape
        (5, 3, 2)
        """
        from .utils import as_rng

        rng = as_rng(seed)
        out = {}
        for l in self.layers:
            shape = synapse_shape(net, l, "p")
            out[l] = rng.random((int(n_samples),) + shape) < float(self.probability(l))
        return out


def synapse_shape(net, key, where: str = "synapses") -> tuple:
    """``(n_out, n_in)`` of the weight matrix of the dense op feeding a site.

    Raises
    ------
    FaultModelError
        When the site does not exist or no dense op feeds it (synapse
        failures are supported on dense ops).

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> synapse_shape(random_network([2, 3, 1], seed=0), 2)
    (1, 3)
    """
    if isinstance(key, int) and net.is_chain:
        L = net.as_chain().depth
        if not 1 <= key <= L:
            raise FaultModelError(f"{where}: synapse layer {key} does not exist; expected 1 … {L}")
    site = site_of(net, key, where)
    try:
        node = net.node(net.synapse_node(site))
    except InvalidArgument as e:
        raise FaultModelError(f"{where}: {e}") from None
    if node.op.kind != "dense":
        raise FaultModelError(f"{where}: site {site!r} is fed by a {node.op.kind} op; synapse failures are "
                              "supported on dense ops only")
    return tuple(node.op.weight.shape)


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
    neurons : frozenset of (site, index)
        Failed neurons: a site key (layer number, site position or name;
        0 = the inputs) and the neuron's row-major index in the site.
    synapses : frozenset of (site, i, j)
        Failed synapses: entry ``W[i, j]`` of the dense op feeding the site
        (for a chain, ``W_layer``: from neuron ``j`` of layer ``layer - 1``
        to neuron ``i`` of ``layer``).
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
        """Build from ``{site: [indices]}`` (layer numbers for a chain).

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
        return tuple(sorted({l for l, _ in self.neurons}, key=site_order))

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
        """Raise :class:`~symft.errors.FaultModelError` if a site or index does not exist in ``net``.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> CrashPattern([(0, 5)]).check(mean_network(3))
        Traceback (most recent call last):
        ...
        symft.errors.FaultModelError: crash: neuron index 5 out of range for layer 0 (n_0 = 3, indices 0 … 2)
        """
        for l, i in sorted(self.neurons, key=lambda t: (site_order(t[0]), t[1])):
            s = site_of(net, l, where)
            n = net.site_size(s)
            if not 0 <= i < n:
                label = f"layer {l} (n_{l} = {n}" if isinstance(l, int) else f"site {l!r} ({n} neurons"
                raise FaultModelError(f"{where}: neuron index {i} out of range for {label}, indices 0 … {n - 1})")
        for l, i, j in sorted(self.synapses, key=lambda t: (site_order(t[0]), t[1], t[2])):
            m, n = synapse_shape(net, l, where)
            if not (0 <= i < m and 0 <= j < n):
                what = f"W_{l}" if isinstance(l, int) and net.is_chain else f"the weight matrix into {l!r}"
                raise FaultModelError(f"{where}: synapse ({l}, {i}, {j}) out of range; {what} is {m} × {n}")
        return self

    def neuron_masks(self, net) -> dict:
        """``{site key: bool vector of length n_site}`` (``True`` = failed).

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> CrashPattern([(0, 1)]).neuron_masks(mean_network(3))
        {0: array([False,  True, False])}
        """
        self.check(net)
        out = {}
        for l, i in self.neurons:
            out.setdefault(l, np.zeros(net.site_size(l), dtype=bool))[i] = True
        return out


def _pair(n):
    try:
        l, i = n
    except (TypeError, ValueError):
        raise FaultModelError(f"neurons: expected (layer, index) pairs, got {n!r}") from None
    bad = FaultModelError(f"neurons: expected (layer, index) pairs of non-negative integers "
                          f"(or a site name and an index), got {n!r}")
    if not isinstance(i, Integral) or isinstance(i, bool) or i < 0:
        raise bad
    try:
        return site_key(l, "neurons"), int(i)
    except FaultModelError:
        raise bad from None


def _triple(s):
    try:
        l, i, j = s
    except (TypeError, ValueError):
        raise FaultModelError(f"synapses: expected (layer, i, j) triples, got {s!r}") from None
    bad = FaultModelError(f"synapses: expected non-negative integer triples (layer, i, j), got {s!r}")
    if not all(isinstance(v, Integral) and not isinstance(v, bool) for v in (i, j)) or min(i, j) < 0:
        raise bad
    try:
        return site_key(l, "synapses"), int(i), int(j)
    except FaultModelError:
        raise bad from None


def patterns_to_masks(net, patterns) -> tuple[dict, dict, dict]:
    """Stack crash patterns into batched masks for :func:`symft.engines.forward.forward_masked`.

    Returns ``(neuron_masks, values, synapse_masks)``: ``{site: (P, n_site)
    bool}``, ``{site: (P, n_site) float}`` holding the values failed neurons
    send (NaN where the crash semantics decide), and ``{site: (P, n_out,
    n_in) bool}``, keyed by the patterns' site keys.

    Examples
    --------
    >>> from symft.graph.network import random_network
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
    nm, vals, sm = {}, {}, {}
    for k, pat in enumerate(patterns):
        if not isinstance(pat, CrashPattern):
            raise FaultModelError(f"patterns[{k}]: expected a CrashPattern, got {type(pat).__name__}")
        pat.check(net, f"patterns[{k}]")
        for l, i in pat.neurons:
            nm.setdefault(l, np.zeros((P, net.site_size(l)), dtype=bool))[k, i] = True
        for (l, i), v in pat.values:
            vals.setdefault(l, np.full((P, net.site_size(l)), np.nan))[k, i] = float(v)
        for l, i, j in pat.synapses:
            sm.setdefault(l, np.zeros((P,) + synapse_shape(net, l), dtype=bool))[k, i, j] = True
    return nm, vals, sm


def zeroed_preactivation(net, key, where: str = "crash"):
    """What a crashed neuron computes under ``"incoming_zeroed"``: ``(affine node, activation or None)``.

    With its incoming synapses zeroed, a neuron of an activation site
    outputs ``φ(A(0) + b)`` where ``A(·) + b`` is the affine op feeding the
    activation (its bias, for a dense or convolution op); a neuron of an
    affine site outputs ``A(0) + b``; an input neuron outputs 0 (returned as
    ``(None, None)``).

    Raises
    ------
    FaultModelError
        When the site's pre-activation does not come from an affine op.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> zeroed_preactivation(mean_network(2), 1)
    ('z1', Activation('linear'))
    """
    site = site_of(net, key, where)
    node = net.node(site)
    if node.op.kind == "input":
        return None, None
    act = None
    if node.op.kind == "activation":
        act = node.op.act
        node = net.node(node.inputs[0])
    if not node.op.affine:
        raise FaultModelError(f"{where}: the crash semantics 'incoming_zeroed' needs site {site!r} to be fed "
                              f"by an affine op (dense, convolution, …), not {node.op.kind}")
    return node.name, act


def crash_values(net, key, semantics: str, *, zero, kind: str, activate) -> np.ndarray:
    """What a crashed neuron of a site outputs, in one arithmetic (a vector over the site's neurons).

    ``"output_zero"``: ``zero``.  ``"incoming_zeroed"``: the affine op feeding
    the site evaluated on zero inputs with its parameters in the view ``kind``
    (``"float"``, ``"fraction"``, ``"sympy"``, ``"mpmath"`` …), then
    ``activate(act, values)`` when an activation follows.  Every
    interpretation's crash values are this function with its own numbers.

    Examples
    --------
    >>> from symft.graph.network import Network
    >>> net = Network.from_numpy([[[1.0]], [[1.0]]], [[-2.0], [0.0]], activations=["tanh", "linear"])
    >>> crash_values(net, 1, "incoming_zeroed", zero=0.0, kind="float", activate=lambda act, z: act(z))
    array([-0.96402758])
    """
    site = site_of(net, key)
    n = net.site_size(site)
    dtype = float if isinstance(zero, float) else object
    if semantics == "output_zero":
        return np.full(n, zero, dtype=dtype)
    aff, act = zeroed_preactivation(net, site)
    if aff is None:
        return np.full(n, zero, dtype=dtype)
    node = net.node(aff)
    zeros = [np.full((1,) + tuple(s), zero, dtype=dtype) for s in node.in_shapes]
    pre = node.op.apply(zeros, node.op.params(kind), node.in_shapes)[0]
    if act is not None:
        pre = activate(act, pre)
    return np.asarray(pre, dtype=dtype).reshape(-1)
