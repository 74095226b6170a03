r"""The network (THEORY D1) as a computation graph, with per-layer matrix views.

A :class:`Network` has layers ``0`` (input) … ``L`` (output) of widths
``n_0, …, n_L``.  Layer ``l ≥ 1`` computes ``y_l = φ_l(W_l y_{l-1} + b_l)``
with ``W_l`` of shape ``n_l × n_{l-1}``; THEORY §1 takes the last layer
linear, which is the default of every builder.

Two views of the same immutable data:

* **the graph** (:attr:`Network.graph`): a frozen ``networkx.DiGraph``
  whose nodes ``(l, i)`` carry ``bias`` and ``activation`` and whose edges
  ``(l-1, j) → (l, i)`` carry ``weight`` (zero weights are edges too, so the
  graph is the complete layered graph).  It is built on first use and
  :meth:`Network.from_graph` reads one back.
* **the matrices** (:meth:`Network.weights`, :meth:`Network.bias`,
  :meth:`Network.weights_exact` …), which every numeric algorithm uses.

Per-neuron dictionaries are far too slow for batched numeric work, so the
matrices are the storage and the graph is derived from them; both views are
read-only, so they cannot drift apart.

Values are never silently converted.  A layer is either a *float layer*
(float64 arrays) or an *exact layer* (a SymPy ``ImmutableMatrix`` holding
integers, rationals, symbols or — when a file mixes them — floats).
``weights(l)`` always gives float64 (refusing symbols), ``weights_exact(l)``
always gives SymPy with floats converted to the binary rational they hold.

Examples
--------
>>> import numpy as np
>>> from symft.network import Network, mean_network
>>> net = Network.from_numpy([np.array([[1.0, -2.0]]), np.array([[3.0]])],
...                          activations=["relu", "linear"])
>>> net.widths, net.depth, net.kind
((2, 1, 1), 2, 'float')
>>> mean_network(3).weights_exact(1)
Matrix([[1/3, 1/3, 1/3]])
>>> sorted(net.graph.nodes)
[(0, 0), (0, 1), (1, 0), (2, 0)]
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from numbers import Integral, Real
from typing import Mapping, Sequence

import networkx as nx
import numpy as np
import sympy as sp

from .activations import Activation, get_activation
from .errors import InvalidArgument, NetworkFormatError, SymbolicValueError
from .utils import as_rng, check_text, to_exact

__all__ = [
    "Layer",
    "Network",
    "random_network",
    "mean_network",
    "first_input_network",
    "rescale_lipschitz",
    "layer_norms",
]


def _readonly(a):
    a = np.array(a, dtype=float)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class Layer:
    """One layer ``y = φ(W y_prev + b)``: weights, bias and activation.

    ``weights`` and ``bias`` are either read-only float64 arrays (a float
    layer) or SymPy immutable matrices (an exact layer; ``bias`` is then an
    ``n × 1`` column).  Build layers through :class:`Network`'s builders,
    which validate them.

    Examples
    --------
    >>> lay = Network.from_numpy([np.eye(2)]).layers[0]
    >>> lay.is_float, lay.shape, lay.activation.name
    (True, (2, 2), 'linear')
    """

    weights: object
    bias: object
    activation: Activation

    @property
    def is_float(self) -> bool:
        """Whether the layer stores float64 arrays.

        Examples
        --------
        >>> mean_network(2).layers[0].is_float
        False
        """
        return isinstance(self.weights, np.ndarray)

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_l, n_{l-1})``.

        Examples
        --------
        >>> mean_network(5).layers[0].shape
        (1, 5)
        """
        return tuple(self.weights.shape)

    @cached_property
    def free_symbols(self) -> frozenset:
        """Symbols in the weights and bias (empty for numeric layers).

        Examples
        --------
        >>> n = sp.Symbol("n", positive=True)
        >>> Network.from_sympy([sp.Matrix([[1 / n, 1 / n]])]).layers[0].free_symbols
        frozenset({n})
        """
        if self.is_float:
            return frozenset()
        return frozenset(self.weights.free_symbols | self.bias.free_symbols)

    def _same(self, other: "Layer") -> bool:
        if self.activation != other.activation or self.is_float != other.is_float:
            return False
        if self.is_float:
            return (self.weights.shape == other.weights.shape
                    and np.array_equal(self.weights, other.weights)
                    and np.array_equal(self.bias, other.bias))
        return (self.weights.shape == other.weights.shape
                and all(type(a) is type(b) and a == b for a, b in zip(self.weights, other.weights))
                and all(type(a) is type(b) and a == b for a, b in zip(self.bias, other.bias)))


class Network:
    """A feed-forward network as an immutable layered computation graph.

    Prefer the builders: :meth:`from_numpy`, :meth:`from_sympy`,
    :meth:`from_graph`, :func:`random_network`, :func:`mean_network`,
    :func:`first_input_network`, and :func:`symft.netfile.load_network`.

    Parameters
    ----------
    layers : sequence of Layer
        Layers ``1 … L``.
    name : str, optional
    input_names, output_names : sequence of str, optional
        One name per input (output) neuron.
    metadata : mapping, optional
        Free-form JSON-compatible information (kept by file round trips).

    Examples
    --------
    >>> net = random_network([3, 4, 2], seed=0)
    >>> net
    Network(widths=(3, 4, 2), activations=('tanh', 'linear'), kind='float')
    >>> net.n_params
    26
    """

    def __init__(self, layers: Sequence[Layer], *, name: str | None = None,
                 input_names: Sequence[str] | None = None,
                 output_names: Sequence[str] | None = None,
                 metadata: Mapping | None = None):
        layers = tuple(layers)
        if not layers:
            raise NetworkFormatError("layers: expected at least one layer (L ≥ 1), got none")
        for k, lay in enumerate(layers, start=1):
            if not isinstance(lay, Layer):
                raise NetworkFormatError(f"layers[{k - 1}]: expected a Layer, got {type(lay).__name__}")
            if k > 1 and lay.shape[1] != layers[k - 2].shape[0]:
                raise NetworkFormatError(
                    f"layers[{k - 1}].weights: expected {layers[k - 2].shape[0]} columns "
                    f"(the width of layer {k - 1}), got {lay.shape[1]}"
                )
        self._layers = layers
        if name is not None:
            if not isinstance(name, str):
                raise NetworkFormatError(f"name: expected a string, got {type(name).__name__}")
            _check_text(name, "name")
        self.name = name
        widths = self.widths
        self.input_names = _check_names(input_names, widths[0], "input_names")
        self.output_names = _check_names(output_names, widths[-1], "output_names")
        self.metadata = dict(metadata) if metadata is not None else {}
        self._float_cache: dict = {}
        self._exact_cache: dict = {}

    # ------------------------------------------------------------------ builders
    @classmethod
    def from_numpy(cls, weights: Sequence, biases: Sequence | None = None,
                   activations: str | Sequence = "relu", **kwargs) -> "Network":
        """Build a float network from NumPy matrices.

        Parameters
        ----------
        weights : sequence of array_like
            ``W_1 … W_L``, each ``n_l × n_{l-1}``.
        biases : sequence of array_like, optional
            ``b_1 … b_L``; zeros when omitted.
        activations : str or sequence of str
            One name for every hidden layer (the output layer is then
            ``linear``), or one name per layer ``1 … L``.
        **kwargs
            ``name``, ``input_names``, ``output_names``, ``metadata``.

        Examples
        --------
        >>> net = Network.from_numpy([[[1.0, 2.0]]], [[0.5]], activations=["tanh"])
        >>> net.weights(1), net.bias(1)
        (array([[1., 2.]]), array([0.5]))
        """
        acts = _activations_for(activations, len(weights))
        biases = _biases_for(biases, len(weights))
        layers = []
        for k, (w, b, a) in enumerate(zip(weights, biases, acts)):
            w = _float_matrix(w, f"weights[{k}]")
            b = np.zeros(w.shape[0]) if b is None else _float_vector(b, f"biases[{k}]", w.shape[0])
            layers.append(Layer(_readonly(w), _readonly(b), a))
        return cls(layers, **kwargs)

    @classmethod
    def from_sympy(cls, weights: Sequence, biases: Sequence | None = None,
                   activations: str | Sequence = "relu", **kwargs) -> "Network":
        """Build an exact (or symbolic) network; every entry is kept exactly.

        Entries may be integers, ``Fraction``, SymPy rationals, strings such
        as ``"1/3"``, or SymPy expressions with symbols.  A Python float is
        kept as the binary rational it holds (so prefer ``"0.1"`` to
        ``0.1``).

        Examples
        --------
        >>> n = sp.Symbol("n", positive=True)
        >>> net = Network.from_sympy([sp.Matrix([[1 / n, 1 / n]])], activations=["linear"])
        >>> net.kind, net.weights_exact(1)
        ('symbolic', Matrix([[1/n, 1/n]]))
        >>> Network.from_sympy([[["1/3", 2]]]).weights_exact(1)
        Matrix([[1/3, 2]])
        """
        acts = _activations_for(activations, len(weights))
        biases = _biases_for(biases, len(weights))
        layers = []
        for k, (w, b, a) in enumerate(zip(weights, biases, acts)):
            wm = _exact_matrix(w, f"weights[{k}]")
            if b is None:
                bm = sp.ImmutableMatrix.zeros(wm.shape[0], 1)
            else:
                bm = _exact_vector(b, f"biases[{k}]", wm.shape[0])
            layers.append(Layer(wm, bm, a))
        return cls(layers, **kwargs)

    @classmethod
    def from_graph(cls, graph: nx.DiGraph, **kwargs) -> "Network":
        """Read a network back from a layered ``networkx.DiGraph``.

        Nodes must be ``(layer, index)`` pairs with indices ``0 … n_l - 1``;
        non-input nodes carry ``bias`` (default 0) and ``activation`` (a
        name or :class:`~symft.activations.Activation`, the same for a whole
        layer, default ``linear``); edges go from layer ``l - 1`` to ``l`` and
        carry ``weight``.  Missing edges are zero weights.  A layer is exact
        when any of its values is exact (int, Fraction, SymPy), else float.

        Examples
        --------
        >>> net = random_network([2, 3, 1], seed=1)
        >>> Network.from_graph(net.graph) == net
        True
        """
        if not isinstance(graph, nx.DiGraph):
            raise NetworkFormatError(f"graph: expected a networkx.DiGraph, got {type(graph).__name__}")
        by_layer: dict[int, list[int]] = {}
        for node in graph.nodes:
            if (not isinstance(node, tuple) or len(node) != 2
                    or not all(isinstance(v, Integral) and not isinstance(v, bool) for v in node)):
                raise NetworkFormatError(f"graph: node {node!r}: expected a (layer, index) pair of integers")
            by_layer.setdefault(int(node[0]), []).append(int(node[1]))
        L = max(by_layer, default=-1)
        if L < 1 or sorted(by_layer) != list(range(L + 1)):
            raise NetworkFormatError(
                f"graph: expected nodes in consecutive layers 0 … L with L ≥ 1, got layers {sorted(by_layer)}"
            )
        widths = []
        for l in range(L + 1):
            idx = sorted(by_layer[l])
            if idx != list(range(len(idx))):
                raise NetworkFormatError(f"graph: layer {l}: expected neuron indices 0 … n-1, got {idx}")
            widths.append(len(idx))
        for u, v in graph.edges:
            if v[0] != u[0] + 1:
                raise NetworkFormatError(f"graph: edge {u}→{v}: expected an edge between consecutive layers")
        weights, biases, acts = [], [], []
        for l in range(1, L + 1):
            W = [[graph.edges[(l - 1, j), (l, i)].get("weight", 0) if graph.has_edge((l - 1, j), (l, i)) else 0
                  for j in range(widths[l - 1])] for i in range(widths[l])]
            b = [graph.nodes[(l, i)].get("bias", 0) for i in range(widths[l])]
            names = {_act_name(graph.nodes[(l, i)].get("activation", "linear")) for i in range(widths[l])}
            if len(names) != 1:
                raise NetworkFormatError(
                    f"graph: layer {l}: expected one activation for the whole layer, got {sorted(names)}"
                )
            weights.append(W)
            biases.append(b)
            acts.append(graph.nodes[(l, 0)].get("activation", "linear"))
        layers = []
        for k, (W, b, a) in enumerate(zip(weights, biases, acts)):
            values = [v for row in W for v in row] + list(b)
            if any(isinstance(v, (float, np.floating)) for v in values) and not any(
                    isinstance(v, (sp.Basic, str)) or _is_fraction(v) for v in values):
                layers.append(Layer(_readonly(_float_matrix(W, f"graph layer {k + 1} weights")),
                                    _readonly(_float_vector(b, f"graph layer {k + 1} bias", len(b))),
                                    get_activation(a)))
            else:
                layers.append(Layer(_exact_matrix(W, f"graph layer {k + 1} weights"),
                                    _exact_vector(b, f"graph layer {k + 1} bias", len(b)),
                                    get_activation(a)))
        g = graph.graph
        kwargs.setdefault("name", g.get("name"))
        kwargs.setdefault("input_names", g.get("input_names"))
        kwargs.setdefault("output_names", g.get("output_names"))
        kwargs.setdefault("metadata", g.get("metadata"))
        return cls(layers, **kwargs)

    # ------------------------------------------------------------------ structure
    @property
    def layers(self) -> tuple[Layer, ...]:
        """The layers ``1 … L`` (``layers[l - 1]`` is layer ``l``).

        Examples
        --------
        >>> len(mean_network(4).layers)
        1
        """
        return self._layers

    @property
    def depth(self) -> int:
        """``L``, the number of layers with weights.

        Examples
        --------
        >>> random_network([2, 5, 5, 1], seed=0).depth
        3
        """
        return len(self._layers)

    @property
    def widths(self) -> tuple[int, ...]:
        """``(n_0, n_1, …, n_L)``.

        Examples
        --------
        >>> random_network([2, 5, 1], seed=0).widths
        (2, 5, 1)
        """
        return (self._layers[0].shape[1],) + tuple(lay.shape[0] for lay in self._layers)

    @property
    def n_inputs(self) -> int:
        """``n_0``.

        Examples
        --------
        >>> mean_network(7).n_inputs
        7
        """
        return self.widths[0]

    @property
    def n_outputs(self) -> int:
        """``n_L``.

        Examples
        --------
        >>> mean_network(7).n_outputs
        1
        """
        return self.widths[-1]

    @property
    def n_params(self) -> int:
        """Number of weights and biases.

        Examples
        --------
        >>> mean_network(3).n_params
        4
        """
        return sum(lay.shape[0] * (lay.shape[1] + 1) for lay in self._layers)

    @property
    def activations(self) -> tuple[Activation, ...]:
        """The activations of layers ``1 … L``.

        Examples
        --------
        >>> [a.name for a in random_network([1, 2, 1], seed=0, activation="relu").activations]
        ['relu', 'linear']
        """
        return tuple(lay.activation for lay in self._layers)

    def activation(self, l: int) -> Activation:
        """The activation of layer ``l`` (1 … L).

        Examples
        --------
        >>> random_network([1, 2, 1], seed=0).activation(1).name
        'tanh'
        """
        return self._layers[self._check_layer(l, first=1) - 1].activation

    @property
    def free_symbols(self) -> frozenset:
        """Every symbol in the weights and biases.

        Examples
        --------
        >>> mean_network(2).free_symbols
        frozenset()
        """
        out = frozenset()
        for lay in self._layers:
            out |= lay.free_symbols
        return out

    @property
    def kind(self) -> str:
        """``'float'``, ``'exact'`` (all rational), ``'symbolic'`` or ``'mixed'``.

        Examples
        --------
        >>> mean_network(2).kind, random_network([1, 1], seed=0).kind
        ('exact', 'float')
        """
        if self.free_symbols:
            return "symbolic"
        if all(lay.is_float for lay in self._layers):
            return "float"
        if all(not lay.is_float and all(v.is_Rational for v in list(lay.weights) + list(lay.bias))
               for lay in self._layers):
            return "exact"
        return "mixed"

    def _check_layer(self, l, *, first: int = 0) -> int:
        if not isinstance(l, Integral) or isinstance(l, bool) or not first <= l <= self.depth:
            raise InvalidArgument(f"layer: expected an integer in {first} … {self.depth}, got {l!r}")
        return int(l)

    # ------------------------------------------------------------------ matrix views
    def weights(self, l: int) -> np.ndarray:
        """``W_l`` as a read-only float64 array of shape ``n_l × n_{l-1}``.

        Raises
        ------
        SymbolicValueError
            When the layer has symbols (use :meth:`subs` first).

        Examples
        --------
        >>> mean_network(2).weights(1)
        array([[0.5, 0.5]])
        """
        l = self._check_layer(l, first=1)
        return self._float(l)[0]

    def bias(self, l: int) -> np.ndarray:
        """``b_l`` as a read-only float64 vector.

        Examples
        --------
        >>> mean_network(2).bias(1)
        array([0.])
        """
        l = self._check_layer(l, first=1)
        return self._float(l)[1]

    def _float(self, l):
        if l not in self._float_cache:
            lay = self._layers[l - 1]
            if lay.is_float:
                self._float_cache[l] = (lay.weights, lay.bias)
            else:
                if lay.free_symbols:
                    raise SymbolicValueError(
                        f"layer {l} has symbolic weights {sorted(map(str, lay.free_symbols))}; "
                        "substitute values with net.subs({...}) for numeric work"
                    )
                W = np.array([[float(v) for v in lay.weights.row(i)] for i in range(lay.shape[0])])
                b = np.array([float(v) for v in lay.bias])
                for name, arr in (("weights", W), ("bias", b)):
                    if not np.isfinite(arr).all():
                        at = "".join(f"[{int(k)}]" for k in np.argwhere(~np.isfinite(arr))[0])
                        raise NetworkFormatError(
                            f"layers[{l - 1}].{name}{at}: the exact value is beyond the float64 range (±1.8e308); "
                            "numeric (float) methods cannot use this network — scale the weights down")
                self._float_cache[l] = (_readonly(W.reshape(lay.shape)), _readonly(b))
        return self._float_cache[l]

    def weights_exact(self, l: int) -> sp.ImmutableMatrix:
        """``W_l`` as a SymPy matrix, floats converted to the rational they hold.

        Examples
        --------
        >>> Network.from_numpy([[[0.5, 0.1]]]).weights_exact(1)[0]
        1/2
        """
        l = self._check_layer(l, first=1)
        return self._exact(l)[0]

    def bias_exact(self, l: int) -> sp.ImmutableMatrix:
        """``b_l`` as an ``n_l × 1`` SymPy matrix (exact, see :meth:`weights_exact`).

        Examples
        --------
        >>> mean_network(2).bias_exact(1)
        Matrix([[0]])
        """
        l = self._check_layer(l, first=1)
        return self._exact(l)[1]

    def _exact(self, l):
        if l not in self._exact_cache:
            lay = self._layers[l - 1]
            if lay.is_float:
                W = sp.ImmutableMatrix(lay.shape[0], lay.shape[1],
                                       [sp.Rational(float(v)) for v in lay.weights.ravel()])
                b = sp.ImmutableMatrix([sp.Rational(float(v)) for v in lay.bias])
            else:
                conv = {f: sp.Rational(f) for f in lay.weights.atoms(sp.Float) | lay.bias.atoms(sp.Float)}
                W = lay.weights.xreplace(conv) if conv else lay.weights
                b = lay.bias.xreplace(conv) if conv else lay.bias
            self._exact_cache[l] = (W, b)
        return self._exact_cache[l]

    def subs(self, values: Mapping) -> "Network":
        """Substitute values for symbols; returns a new network.

        Numbers stay exact: substituting ``n = 4`` into ``1/n`` gives ``1/4``.

        Examples
        --------
        >>> n = sp.Symbol("n", positive=True)
        >>> net = Network.from_sympy([sp.Matrix([[1 / n, 1 / n]])], activations=["linear"])
        >>> net.subs({n: 2}).weights_exact(1)
        Matrix([[1/2, 1/2]])
        """
        values = {sp.Symbol(k, real=True) if isinstance(k, str) else k: to_exact(v, f"values[{k}]")
                  for k, v in dict(values).items()}
        layers = []
        for lay in self._layers:
            if lay.is_float:
                layers.append(lay)
            else:
                layers.append(Layer(lay.weights.subs(values), lay.bias.subs(values), lay.activation))
        return self._replace(layers)

    def _replace(self, layers) -> "Network":
        return Network(layers, name=self.name, input_names=self.input_names,
                       output_names=self.output_names, metadata=self.metadata)

    # ------------------------------------------------------------------ graph view
    @cached_property
    def graph(self) -> nx.DiGraph:
        """The computation graph (frozen ``networkx.DiGraph``).

        Nodes ``(l, i)`` carry ``layer``, ``index``, ``bias`` and
        ``activation`` (a name; ``None`` for inputs) and ``name`` when the
        network names its inputs/outputs.  Edges carry ``weight`` exactly as
        stored (float or SymPy).

        Examples
        --------
        >>> G = mean_network(2).graph
        >>> G.edges[(0, 1), (1, 0)]["weight"]
        1/2
        >>> G.nodes[(1, 0)]["activation"]
        'linear'
        """
        G = nx.DiGraph(name=self.name, input_names=self.input_names,
                       output_names=self.output_names, metadata=self.metadata)
        widths = self.widths
        for j in range(widths[0]):
            G.add_node((0, j), layer=0, index=j, bias=None, activation=None,
                       **({"name": self.input_names[j]} if self.input_names else {}))
        for l, lay in enumerate(self._layers, start=1):
            W, b = lay.weights, lay.bias
            float_layer = lay.is_float
            for i in range(widths[l]):
                attrs = {}
                if l == self.depth and self.output_names:
                    attrs["name"] = self.output_names[i]
                G.add_node((l, i), layer=l, index=i,
                           bias=float(b[i]) if float_layer else b[i],
                           activation=lay.activation.name, **attrs)
            if float_layer:
                G.add_weighted_edges_from(
                    ((l - 1, j), (l, i), float(W[i, j])) for i in range(widths[l]) for j in range(widths[l - 1]))
            else:
                G.add_weighted_edges_from(
                    ((l - 1, j), (l, i), W[i, j]) for i in range(widths[l]) for j in range(widths[l - 1]))
        return nx.freeze(G)

    # ------------------------------------------------------------------ dunder
    def __eq__(self, other):
        if not isinstance(other, Network):
            return NotImplemented
        return (self.widths == other.widths
                and all(a._same(b) for a, b in zip(self._layers, other._layers))
                and self.name == other.name and self.input_names == other.input_names
                and self.output_names == other.output_names and self.metadata == other.metadata)

    __hash__ = None  # mutable-looking containers inside; compare, don't hash

    def __repr__(self):
        acts = tuple(a.name for a in self.activations)
        name = f"name={self.name!r}, " if self.name else ""
        return f"Network({name}widths={self.widths}, activations={acts}, kind={self.kind!r})"


# ---------------------------------------------------------------------- helpers

def _check_text(text, where):
    try:
        check_text(text, where)
    except InvalidArgument as e:
        raise NetworkFormatError(str(e)) from None


def _is_fraction(v):
    from fractions import Fraction

    return isinstance(v, Fraction)


def _act_name(a):
    return a.name if isinstance(a, Activation) else str(a)


def _check_names(names, n, field):
    if names is None:
        return None
    if not isinstance(names, (list, tuple)) or not all(isinstance(s, str) for s in names):
        raise NetworkFormatError(f"{field}: expected a list of {n} strings")
    names = tuple(names)
    for k, s in enumerate(names):
        _check_text(s, f"{field}[{k}]")
    if len(names) != n:
        raise NetworkFormatError(f"{field}: expected {n} names, got {len(names)}")
    return names


def _activations_for(activations, L):
    if isinstance(activations, (str, Activation)):
        acts = [activations] * (L - 1) + ["linear"]
    else:
        acts = list(activations)
        if len(acts) != L:
            raise InvalidArgument(
                f"activations: expected one name for the hidden layers or {L} names (one per layer), "
                f"got {len(acts)}"
            )
    return [get_activation(a) for a in acts]


def _biases_for(biases, L):
    if biases is None:
        return [None] * L
    biases = list(biases)
    if len(biases) != L:
        raise InvalidArgument(f"biases: expected {L} vectors (one per layer), got {len(biases)}")
    return biases


def _float_matrix(w, where):
    try:
        a = np.asarray(w)
    except ValueError:
        raise NetworkFormatError(f"{where}: ragged rows; expected a rectangular matrix") from None
    if a.dtype == object:
        raise NetworkFormatError(f"{where}: expected a rectangular matrix of numbers")
    if a.ndim != 2 or a.shape[0] == 0 or a.shape[1] == 0:
        raise NetworkFormatError(f"{where}: expected a non-empty 2-D matrix, got shape {a.shape}")
    if not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
        raise NetworkFormatError(f"{where}: expected real numbers, got dtype {a.dtype}")
    if np.issubdtype(a.dtype, np.integer) and np.abs(a).max() > 2 ** 53:
        raise NetworkFormatError(f"{where}: integers above 2**53 are not exact in float64; use from_sympy")
    a = a.astype(float)
    if not np.isfinite(a).all():
        i, j = np.argwhere(~np.isfinite(a))[0]
        raise NetworkFormatError(f"{where}[{i}][{j}]: expected a finite number, got {a[i, j]}")
    return a


def _float_vector(b, where, n):
    try:
        a = np.asarray(b)
    except ValueError:
        raise NetworkFormatError(f"{where}: expected a vector of {n} numbers") from None
    if a.dtype == object or a.ndim != 1 or a.shape[0] != n:
        raise NetworkFormatError(f"{where}: expected a vector of {n} numbers, got shape {a.shape}")
    if not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
        raise NetworkFormatError(f"{where}: expected real numbers, got dtype {a.dtype}")
    a = a.astype(float)
    if not np.isfinite(a).all():
        i = int(np.argwhere(~np.isfinite(a))[0][0])
        raise NetworkFormatError(f"{where}[{i}]: expected a finite number, got {a[i]}")
    return a


def _exact_entry(v, where):
    if isinstance(v, (float, np.floating)):
        if not np.isfinite(v):
            raise NetworkFormatError(f"{where}: expected a finite number, got {v}")
        return sp.Float(float(v))  # kept as a float value; exact views convert exactly
    if isinstance(v, np.integer):
        v = int(v)
    try:
        return to_exact(v, where)
    except InvalidArgument as e:
        raise NetworkFormatError(str(e)) from None


def _exact_matrix(w, where):
    if isinstance(w, sp.MatrixBase):
        rows = [[w[i, j] for j in range(w.shape[1])] for i in range(w.shape[0])]
    elif isinstance(w, np.ndarray):
        if w.ndim != 2:
            raise NetworkFormatError(f"{where}: expected a 2-D matrix, got shape {w.shape}")
        rows = w.tolist()
    else:
        if isinstance(w, (str, bytes)) or not hasattr(w, "__iter__"):
            raise NetworkFormatError(f"{where}: expected a list of rows")
        rows = [list(r) if hasattr(r, "__iter__") and not isinstance(r, str) else None for r in w]
        for i, r in enumerate(rows):
            if r is None:
                raise NetworkFormatError(f"{where}[{i}]: expected a row (list of numbers)")
    if not rows or not rows[0]:
        raise NetworkFormatError(f"{where}: expected a non-empty matrix")
    n = len(rows[0])
    for i, r in enumerate(rows):
        if len(r) != n:
            raise NetworkFormatError(f"{where}[{i}]: ragged rows: expected {n} numbers, got {len(r)}")
    entries = [_exact_entry(v, f"{where}[{i}][{j}]") for i, r in enumerate(rows) for j, v in enumerate(r)]
    return sp.ImmutableMatrix(len(rows), n, entries)


def _exact_vector(b, where, n):
    if isinstance(b, sp.MatrixBase):
        vals = list(b)
    elif isinstance(b, (str, bytes)) or not hasattr(b, "__iter__"):
        raise NetworkFormatError(f"{where}: expected a vector of {n} numbers")
    else:
        vals = list(np.asarray(b, dtype=object).ravel()) if isinstance(b, np.ndarray) else list(b)
    if len(vals) != n:
        raise NetworkFormatError(f"{where}: expected {n} numbers, got {len(vals)}")
    return sp.ImmutableMatrix([_exact_entry(v, f"{where}[{i}]") for i, v in enumerate(vals)])


# ---------------------------------------------------------------------- builders

def random_network(widths: Sequence[int], *, seed, activation: str = "tanh",
                   output_activation: str = "linear", weight_scale: float = 1.0,
                   bias_scale: float = 0.1, rational_denominator: int | None = None,
                   name: str | None = None) -> Network:
    r"""A random network with an explicit seed.

    Weights are ``N(0, weight_scale² / n_{l-1})`` (LeCun scaling) and biases
    ``N(0, bias_scale²)``.  With ``rational_denominator=d`` every value is
    rounded to a multiple of ``1/d`` and the network is exact (rationals),
    which the exact and symbolic tests use.

    Parameters
    ----------
    widths : sequence of int
        ``(n_0, …, n_L)``, at least two entries.
    seed : int or numpy.random.Generator
        Required; see :func:`symft.utils.as_rng`.
    activation : str
        Hidden-layer activation.
    output_activation : str
        Output-layer activation (THEORY §1: linear).

    Examples
    --------
    >>> a = random_network([3, 4, 1], seed=7)
    >>> b = random_network([3, 4, 1], seed=7)
    >>> a == b
    True
    >>> random_network([2, 2, 1], seed=0, rational_denominator=8).kind
    'exact'
    """
    widths = list(widths)
    if len(widths) < 2 or not all(isinstance(n, Integral) and not isinstance(n, bool) and n >= 1
                                  for n in widths):
        raise InvalidArgument(f"widths: expected at least two positive integers, got {widths!r}")
    rng = as_rng(seed)
    Ws, bs = [], []
    for l in range(1, len(widths)):
        Ws.append(rng.normal(0.0, weight_scale / np.sqrt(widths[l - 1]), size=(widths[l], widths[l - 1])))
        bs.append(rng.normal(0.0, bias_scale, size=widths[l]))
    acts = [activation] * (len(widths) - 2) + [output_activation]
    if rational_denominator is None:
        return Network.from_numpy(Ws, bs, acts, name=name)
    d = int(rational_denominator)
    if d < 1:
        raise InvalidArgument(f"rational_denominator: expected a positive integer, got {rational_denominator!r}")
    Wq = [sp.ImmutableMatrix(W.shape[0], W.shape[1], [sp.Rational(int(round(v * d)), d) for v in W.ravel()])
          for W in Ws]
    bq = [[sp.Rational(int(round(v * d)), d) for v in b] for b in bs]
    return Network.from_sympy(Wq, bq, acts, name=name)


def mean_network(n: int) -> Network:
    r"""The toy network ``y = Σ_i x_i / n`` of THEORY §4 (exact weights ``1/n``).

    Under input crashes with probability p at ``x ≡ 1``:
    ``E Δ = -p`` and ``Var Δ = p(1-p)/n``.

    Examples
    --------
    >>> net = mean_network(4)
    >>> net.weights_exact(1)
    Matrix([[1/4, 1/4, 1/4, 1/4]])
    """
    n = _positive_int(n, "n")
    return Network.from_sympy([[[sp.Rational(1, n)] * n]], activations=["linear"],
                              name=f"mean_of_{n}_inputs")


def first_input_network(n: int) -> Network:
    r"""The toy network ``y = x_1`` on ``n`` inputs (THEORY §4, erratum E3).

    Under input crashes: ``E Δ = -p x_1`` and ``Var Δ = p(1-p) x_1²``,
    which does not decay with n.

    Examples
    --------
    >>> first_input_network(3).weights_exact(1)
    Matrix([[1, 0, 0]])
    """
    n = _positive_int(n, "n")
    return Network.from_sympy([[[1] + [0] * (n - 1)]], activations=["linear"],
                              name=f"first_of_{n}_inputs")


def _positive_int(n, field):
    if not isinstance(n, Integral) or isinstance(n, bool) or n < 1:
        raise InvalidArgument(f"{field}: expected a positive integer, got {n!r}")
    return int(n)


def rescale_lipschitz(net: Network) -> Network:
    r"""The K-Lipschitz rescaling of THEORY §1 (PFT footnote 1).

    Every hidden layer whose activation has Lipschitz constant ``K ≠ 1`` gets
    the activation ``φ/K`` (1-Lipschitz) and the weights that read its
    outputs are multiplied by ``K``.  The function computed is unchanged.
    The output layer is left alone (nothing reads it).  Exact layers stay
    exact; the factor ``K`` must be rational.

    Raises
    ------
    InvalidArgument
        When a hidden activation has no finite, known Lipschitz constant.

    Examples
    --------
    >>> net = random_network([2, 3, 1], seed=0, activation="sigmoid")
    >>> r = rescale_lipschitz(net)
    >>> r.activation(1).name, r.activation(1).lipschitz
    ('4*sigmoid', 1)
    >>> x = np.array([[0.3, -1.2]])
    >>> from symft.forward import forward
    >>> bool(np.allclose(forward(net, x), forward(r, x), rtol=1e-14, atol=1e-15))
    True
    """
    layers = list(net.layers)
    for l in range(1, net.depth):
        act = layers[l - 1].activation
        K = act.lipschitz
        if K is None or K == sp.oo or not (K.is_Rational and K > 0):
            raise InvalidArgument(
                f"layer {l}: activation {act.name!r} has no finite rational Lipschitz constant (K = {K})"
            )
        if K == 1:
            continue
        layers[l - 1] = Layer(layers[l - 1].weights, layers[l - 1].bias, act.scaled(1 / K))
        nxt = layers[l]
        if nxt.is_float:
            layers[l] = Layer(_readonly(nxt.weights * float(K)), nxt.bias, nxt.activation)
        else:
            layers[l] = Layer(sp.ImmutableMatrix(nxt.weights * K), nxt.bias, nxt.activation)
    return net._replace(layers)


def layer_norms(net: Network) -> list[dict]:
    r"""Per-layer norms of ``W_l`` (float64) for reports and bounds.

    For each layer ``l = 1 … L``: ``spectral`` (‖W‖₂, used by P2),
    ``inf`` (max row sum of ``abs(W)``, the ‖·‖∞ operator norm of AP1/AC1),
    ``one`` (max column sum), ``frobenius``, ``max_abs`` (the ``w_m`` of
    Fep), and the per-neuron totals ``W_l^i = Σ_j |W_l^{ij}|`` of D3 through
    their min, max and ``q = min/max`` (the balance of AA1).

    Examples
    --------
    >>> r = layer_norms(mean_network(4))[0]
    >>> r["spectral"], r["inf"], r["one"], r["max_abs"], r["q_balance"]
    (0.5, 1.0, 0.25, 0.25, 1.0)
    """
    out = []
    for l in range(1, net.depth + 1):
        W = net.weights(l)
        totals = np.abs(W).sum(axis=1)
        mx = float(totals.max())
        out.append({
            "layer": l,
            "shape": list(W.shape),
            "spectral": float(np.linalg.norm(W, 2)),
            "inf": float(np.abs(W).sum(axis=1).max()),
            "one": float(np.abs(W).sum(axis=0).max()),
            "frobenius": float(np.linalg.norm(W)),
            "max_abs": float(np.abs(W).max()),
            "neuron_total_min": float(totals.min()),
            "neuron_total_max": mx,
            "q_balance": float(totals.min() / mx) if mx > 0 else 1.0,
        })
    return out
