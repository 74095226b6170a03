r"""Crash spaces: which neurons may fail (named sites of any graph) and how many.

A site is addressed by a key: a layer number for a chain (0 = the inputs …
L = the outputs, as before), else the site's name (any activation node, the
input, the output) or its position in ``net.sites``.  Crash sets are tuples
of ``(key, index)`` with the neuron's row-major index in the site.

Examples
--------
>>> from symft.graph.netfile import load_network
>>> s = crash_space(load_network("tests/data/residual_mlp.json"), 2, layers=["h1", "x"])
>>> s.layers, s.widths, s.size
(('x', 'h1'), (4, 6), 56)
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from math import comb
from numbers import Integral

from ..errors import InvalidArgument
from .common import check_int

__all__ = ["CrashSpace", "crash_space", "allocations"]


@dataclass(frozen=True)
class CrashSpace:
    """Which neurons may fail and how many: ``max_crashes`` in total, ``per_layer[key]`` per site.

    Attributes
    ----------
    layers : tuple
        The site keys (layer numbers for a chain, else site names), in topological order.
    widths : tuple of int
        Neurons per site.
    max_crashes : int
    per_layer : tuple of (key, int)
    sites : tuple of str
        The network's site names of ``layers``.

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> s = crash_space(random_network([2, 3, 3, 1], seed=0), max_crashes=2)
    >>> s.layers, s.size
    ((1, 2), 22)
    """

    layers: tuple
    widths: tuple
    max_crashes: int
    per_layer: tuple
    sites: tuple = ()

    @property
    def neurons(self) -> list:
        """Candidate neurons ``(key, i)`` in order.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> crash_space(mean_network(2), 1, layers=[0]).neurons
        [(0, 0), (0, 1)]
        """
        return [(l, i) for l, n in zip(self.layers, self.widths) for i in range(n)]

    @property
    def caps(self) -> tuple:
        """The largest number of crashes at each site (its width, its budget, the total budget).

        Examples
        --------
        >>> from symft.graph.network import random_network
        >>> crash_space(random_network([2, 3, 3, 1], seed=0), 2, per_layer={1: 1}).caps
        (1, 2)
        """
        per = dict(self.per_layer)
        return tuple(min(n, per.get(l, n), self.max_crashes) for l, n in zip(self.layers, self.widths))

    @property
    def size(self) -> int:
        """Number of crash sets (including the empty one).

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> crash_space(mean_network(48), 3, layers=[0]).size
        18473
        """
        return sum(c for _, c in allocations(self))

    def describe(self) -> str:
        """One line for reports.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> crash_space(mean_network(3), 1, layers=[0]).describe()
        'at most 1 crash among layer 0 (3 neurons)'
        """
        parts = ", ".join(f"{_label(l)} ({n} neurons)" for l, n in zip(self.layers, self.widths))
        s = f"at most {self.max_crashes} crash{'es' if self.max_crashes != 1 else ''} among {parts}"
        if self.per_layer:
            s += "; per layer " + ", ".join(f"≤ {f} in {_label(l)}" for l, f in self.per_layer)
        return s

    def iter_sets(self):
        """All crash sets, as tuples of neurons, smallest first.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> list(crash_space(mean_network(2), 1, layers=[0]).iter_sets())
        [(), ((0, 0),), ((0, 1),)]
        """
        caps = dict(zip(self.layers, self.caps))
        neurons = self.neurons
        for k in range(self.max_crashes + 1):
            for c in combinations(neurons, k):
                counts = {}
                for l, _ in c:
                    counts[l] = counts.get(l, 0) + 1
                if any(counts[l] > caps[l] for l in counts):
                    continue
                yield c


def _label(key):
    return f"layer {key}" if isinstance(key, int) else f"site {key!r}"


def allocations(space):
    """``(ks, count)`` for every allocation ``ks`` (crashes per site) of the space, smallest total first.

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> list(allocations(crash_space(random_network([2, 3, 3, 1], seed=0), 1)))
    [((0, 0), 1), ((1, 0), 3), ((0, 1), 3)]
    """
    caps = space.caps
    out = []

    def rec(j, left, ks):
        if j == len(caps):
            out.append(tuple(ks))
            return
        for k in range(min(caps[j], left) + 1):
            rec(j + 1, left - k, ks + [k])

    rec(0, space.max_crashes, [])
    out.sort(key=lambda ks: (sum(ks), [-k for k in ks]))
    for ks in out:
        c = 1
        for k, n in zip(ks, space.widths):
            c *= comb(n, k)
        yield ks, c


def crash_space(net, max_crashes: int, layers=None, per_layer=None) -> CrashSpace:
    """Validate and build a :class:`CrashSpace`.

    Parameters
    ----------
    max_crashes : int
        Total budget ``f``.
    layers : sequence of site keys, optional
        Sites whose neurons may fail: layer numbers of a chain (0 = inputs …
        L = outputs), or site names / positions of any graph; default the
        hidden sites (the inputs when there is none).
    per_layer : mapping {site key: int}, optional
        Extra per-site budgets.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> crash_space(mean_network(3), 1, layers=[2])
    Traceback (most recent call last):
    ...
    symft.errors.InvalidArgument: layers: layer 2 does not exist; expected 0 … 1
    """
    f = check_int(max_crashes, "max_crashes")
    chain = net.is_chain
    L = len(net.sites) - 1
    if layers is None:
        layers = list(range(1, L)) or [0] if chain else list(net.hidden_sites) or [net.input]
    if isinstance(layers, (Integral, str)):
        layers = [layers]
    pos = {s: i for i, s in enumerate(net.sites)}
    keys, names = [], []
    for l in layers:
        key, name = _resolve(net, l, chain, L, "layers")
        if name not in names:
            keys.append(key)
            names.append(name)
    if not keys:
        raise InvalidArgument("layers: expected at least one layer")
    order = sorted(range(len(keys)), key=lambda i: pos[names[i]])
    keys = [keys[i] for i in order]
    names = [names[i] for i in order]
    pl = []
    for l, fl in dict(per_layer or {}).items():
        try:
            key, name = _resolve(net, l, chain, L, "per_layer")
        except InvalidArgument:
            key, name = l, None
        if name not in names:
            raise InvalidArgument(f"per_layer: layer {l} is not among the crashable layers {keys}")
        pl.append((key, check_int(fl, f"per_layer[{l}]")))
    pl.sort(key=lambda t: pos[names[keys.index(t[0])]])
    return CrashSpace(tuple(keys), tuple(net.site_size(s) for s in names), f, tuple(pl), tuple(names))


def _resolve(net, l, chain, L, where):
    """``(key, site name)``: layer numbers for a chain, else site names."""
    if chain:
        if isinstance(l, str) and l.strip().isdigit():
            l = int(l.strip())
        elif isinstance(l, str) and l in net.sites:     # a site's name (a PyTorch or ONNX chain): its layer number
            l = net.sites.index(l)
        if isinstance(l, bool) or not isinstance(l, Integral) or not 0 <= l <= L:
            raise InvalidArgument(f"{where}: layer {l} does not exist; expected 0 … {L}")
        return int(l), net.site(int(l))
    if isinstance(l, bool) or not isinstance(l, (Integral, str)):
        raise InvalidArgument(f"{where}: expected a site name or position, got {l!r}")
    name = net.site(l, where)
    return name, name
