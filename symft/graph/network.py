r"""The network (theory D1) as a DAG of operators, walked in topological order.

A :class:`Network` is a ``networkx.DiGraph`` whose nodes are named and each
hold one op (:mod:`symft.graph.ops`): the input, dense layers, 2-D
convolutions, residual adds, elementwise activations, pooling, batch
normalization, reshapes.  Edges carry the argument position (``slot``).
Every engine of symft walks this graph (:mod:`symft.walk`).

**Neurons and crash sites.**  Every element of a site's output tensor is a
neuron; a *site* is a named node whose neurons may fail: by default the
input, every activation node, and the output node.  The neurons of a site
are numbered in row-major order of its tensor.  A site is addressed by its
name, or by an integer ``k`` (the ``k``-th site in topological order, 0 =
the input) when no site has that name.

**A chain of dense layers** (every network of file format version 1) is
just one such graph: the input ``"0"``, and for each layer ``l = 1 … L`` a
dense node ``"z<l>"`` followed by an activation node ``"<l>"`` (linear for
the output layer).  Its sites are named ``"0" … "L"``, so layer numbers keep
working everywhere (``--p 1:1e-3``, ``CrashPattern.from_layers({1: [0]})``).
The layer view (:meth:`Network.as_chain`, and :attr:`~Network.depth`,
:attr:`~Network.widths`, :meth:`~Network.weights` …) exists for chains only;
results the theory defines only for chains use it and refuse other graphs
with :class:`NotAChain`.

Values are never silently converted: an op's arrays are either read-only
float64 arrays or exact SymPy values (integers, rationals, symbols); see
:mod:`symft.graph.numbers`.

Examples
--------
>>> import numpy as np
>>> net = Network.from_numpy([np.array([[1.0, -2.0]]), np.array([[3.0]])], activations=["relu", "linear"])
>>> net.widths, net.depth, net.kind
((2, 1, 1), 2, 'float')
>>> net.order
('0', 'z1', '1', 'z2', '2')
>>> net.sites, net.site_size("1")
(('0', '1', '2'), 1)
>>> mean_network(3).weights_exact(1)
Matrix([[1/3, 1/3, 1/3]])
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from numbers import Integral
from typing import TYPE_CHECKING, Mapping, Sequence

import heapq
import math

import numpy as np
from ..lazyimport import sympy as sp

from ..errors import InvalidArgument, NetworkFormatError, SymbolicValueError
from ..utils import as_rng, check_text, to_exact
from .activations import Activation, get_activation
from .numbers import array_free_symbols, convert, exact_array, float_array, is_float_array

if TYPE_CHECKING:                 # networkx is imported where a graph is asked for, not to build a network
    import networkx as nx
from .ops import ActivationOp, AffineOp, Dense, Flatten, Identity, Input, Op

__all__ = [
    "Node",
    "ChainLayer",
    "Chain",
    "NotAChain",
    "Network",
    "random_network",
    "mean_network",
    "first_input_network",
    "rescale_lipschitz",
    "layer_norms",
]


class NotAChain(InvalidArgument):
    """A result defined only for chains of dense layers was asked of another graph.

    Examples
    --------
    >>> issubclass(NotAChain, ValueError)
    True
    """


@dataclass(frozen=True, eq=False)
class Node:
    """One node of the graph: its name, op, input node names, and shapes (per sample).

    Examples
    --------
    >>> n = mean_network(2).node("z1")
    >>> n.op.kind, n.inputs, n.shape, n.size
    ('dense', ('0',), (1,), 1)
    """

    name: str
    op: Op
    inputs: tuple
    shape: tuple
    in_shapes: tuple

    @property
    def size(self) -> int:
        """Number of elements of one sample's tensor.

        Examples
        --------
        >>> mean_network(4).node("0").size
        4
        """
        return math.prod(self.shape)


@dataclass(frozen=True, eq=False)
class ChainLayer:
    """Layer ``l`` of a chain: ``y_l = φ_l(W_l y_{l-1} + b_l)`` and the nodes it comes from.

    ``weight`` and ``bias`` are as stored (float64 or exact SymPy arrays;
    ``bias`` is never None: zeros when the dense op has none).

    Examples
    --------
    >>> lay = mean_network(2).as_chain().layers[0]
    >>> lay.shape, lay.activation.name, lay.site
    ((1, 2), 'linear', '1')
    """

    weight: np.ndarray
    bias: np.ndarray
    activation: Activation
    dense: str
    site: str

    @property
    def shape(self) -> tuple:
        """``(n_l, n_{l-1})``.

        Examples
        --------
        >>> mean_network(5).as_chain().layers[0].shape
        (1, 5)
        """
        return tuple(self.weight.shape)

    @property
    def weights(self) -> np.ndarray:
        """The stored weight matrix (same as :attr:`weight`).

        Examples
        --------
        >>> mean_network(2).as_chain().layers[0].weights.shape
        (1, 2)
        """
        return self.weight

    @property
    def free_symbols(self) -> frozenset:
        """Symbols in the layer's weights and bias.

        Examples
        --------
        >>> mean_network(2).as_chain().layers[0].free_symbols
        frozenset()
        """
        return array_free_symbols(self.weight) | array_free_symbols(self.bias)

    @property
    def is_float(self) -> bool:
        """Whether the layer stores float64 arrays.

        Examples
        --------
        >>> mean_network(2).as_chain().layers[0].is_float
        False
        """
        return is_float_array(self.weight)


@dataclass(frozen=True, eq=False)
class Chain:
    """The layer view of a chain of dense layers (see :meth:`Network.as_chain`).

    Examples
    --------
    >>> ch = random_network([3, 4, 1], seed=0).as_chain()
    >>> ch.depth, ch.widths, ch.sites
    (2, (3, 4, 1), ('0', '1', '2'))
    """

    layers: tuple
    input_site: str

    @property
    def depth(self) -> int:
        """``L``, the number of layers with weights.

        Examples
        --------
        >>> random_network([2, 5, 5, 1], seed=0).as_chain().depth
        3
        """
        return len(self.layers)

    @property
    def widths(self) -> tuple:
        """``(n_0, n_1, …, n_L)``.

        Examples
        --------
        >>> random_network([2, 5, 1], seed=0).as_chain().widths
        (2, 5, 1)
        """
        return (self.layers[0].shape[1],) + tuple(lay.shape[0] for lay in self.layers)

    @property
    def sites(self) -> tuple:
        """The site of each layer ``0 … L``.

        Examples
        --------
        >>> mean_network(2).as_chain().sites
        ('0', '1')
        """
        return (self.input_site,) + tuple(lay.site for lay in self.layers)


def _check_name(name, where):
    if not isinstance(name, str) or not name or not name.isprintable():
        raise NetworkFormatError(f"{where}: expected a non-empty printable string as node name, got {name!r}")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise NetworkFormatError(f"{where}: node name {name.encode('utf-8', 'backslashreplace').decode()!r} "
                                 "is not valid text") from None
    return name


class Network:
    """A feed-forward network: an immutable DAG of ops with one input and one output.

    Prefer the builders: :meth:`from_numpy`, :meth:`from_sympy`,
    :meth:`from_nodes`, :meth:`from_graph`, :func:`random_network`,
    :func:`mean_network`, :func:`first_input_network`, and
    :func:`symft.graph.netfile.load_network`.

    Parameters
    ----------
    nodes : sequence of (name, op, inputs), or of ChainLayer
        Every node, in any order: a unique name, an :class:`~symft.graph.ops.Op`
        and the names of its input nodes (empty for the input).  The layers of
        a chain (:attr:`layers`) also work: they build the chain.
    output : str, optional
        The output node (default: the only node nothing reads).
    sites : sequence of str, optional
        The crash sites (default: the input, every activation node, and the output).
    name : str, optional
    input_names, output_names : sequence of str, optional
        One name per input (output) element.
    metadata : mapping, optional
        Free-form JSON-compatible information (kept by file round trips).

    Examples
    --------
    >>> from symft.graph.ops import Add
    >>> net = Network([("x", Input((2,)), ()), ("h", ActivationOp("relu"), ("x",)),
    ...                ("y", Add(), ("x", "h"))])
    >>> net.order, net.sites, net.is_chain
    (('x', 'h', 'y'), ('x', 'h', 'y'), False)
    >>> net.depth
    Traceback (most recent call last):
    ...
    symft.graph.network.NotAChain: the network is not a chain of dense layers: node 'x' feeds 2 nodes; depth needs a chain
    """

    def __init__(self, nodes, output: str | None = None, *, sites: Sequence[str] | None = None,
                 name: str | None = None, input_names: Sequence[str] | None = None,
                 output_names: Sequence[str] | None = None, metadata: Mapping | None = None):
        nodes = list(nodes)
        if nodes and all(isinstance(x, ChainLayer) for x in nodes):
            chain = Network.from_layers([(x.weight, x.bias, x.activation) for x in nodes])
            nodes, output = [(n.name, n.op, n.inputs) for n in chain.nodes], chain.output
        entries = []
        for k, item in enumerate(nodes):
            if isinstance(item, Node):
                item = (item.name, item.op, item.inputs)
            try:
                nm, op, ins = item
            except (TypeError, ValueError):
                raise NetworkFormatError(f"nodes[{k}]: expected (name, op, inputs)") from None
            _check_name(nm, f"nodes[{k}]")
            if not isinstance(op, Op):
                raise NetworkFormatError(f"nodes[{k}] ({nm}): expected an op, got {type(op).__name__}")
            if isinstance(ins, str):
                ins = (ins,)
            ins = tuple(ins)
            for i in ins:
                _check_name(i, f"nodes[{k}] ({nm}).inputs")
            lo, hi = op.n_inputs
            if len(ins) < lo or (hi is not None and len(ins) > hi):
                want = f"{lo}" if lo == hi else (f"at least {lo}" if hi is None else f"{lo} … {hi}")
                raise NetworkFormatError(f"node {nm!r} ({op.kind}): expected {want} inputs, got {len(ins)}")
            entries.append((nm, op, ins))
        if not entries:
            raise NetworkFormatError("nodes: expected an input node and at least one layer, got none")
        names = [e[0] for e in entries]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise NetworkFormatError(f"nodes: duplicate node name {sorted(dup)[0]!r}")
        pos = {nm: k for k, (nm, _, _) in enumerate(entries)}
        succ = {nm: {} for nm in names}           # succ[u][v]: the input slots of v that read u (the graph's edges)
        for nm, op, ins in entries:
            for slot, i in enumerate(ins):
                if i not in succ:
                    raise NetworkFormatError(f"node {nm!r}: input {i!r} is not a node of the network")
                succ[i].setdefault(nm, []).append(slot)
        order = _topological_order(succ, pos)
        if order is None:
            cyc = _find_cycle({nm: op for nm, op, _ in entries}, succ)
            raise NetworkFormatError(f"nodes: the graph has a cycle through {cyc[0][0]!r}")
        inputs = [nm for nm, op, _ in entries if isinstance(op, Input)]
        if len(inputs) != 1:
            raise NetworkFormatError(f"nodes: expected exactly one input node, got {len(inputs)}"
                                     + (f" ({', '.join(inputs)})" if inputs else ""))
        if output is None:
            sinks = [nm for nm in names if not succ[nm]]
            if len(sinks) != 1:
                raise NetworkFormatError(f"output: the graph has {len(sinks)} nodes nothing reads "
                                         f"({', '.join(sinks)}); name the output")
            output = sinks[0]
        if output not in succ:
            raise NetworkFormatError(f"output: {output!r} is not a node of the network")
        preds = {nm: tuple(ins) for nm, _, ins in entries}
        unused = set(names) - _reachable(preds, [output])
        if unused:
            raise NetworkFormatError(f"nodes: node {sorted(unused)[0]!r} does not lead to the output {output!r}")
        built = {}
        table = {nm: (op, ins) for nm, op, ins in entries}
        for nm in order:
            op, ins = table[nm]
            in_shapes = tuple(built[i].shape for i in ins)
            try:
                shape = tuple(op.out_shape(list(in_shapes)))
            except NetworkFormatError as e:
                raise NetworkFormatError(f"node {nm!r}: {e}") from None
            built[nm] = Node(nm, op, ins, shape, in_shapes)
        self._nodes = built
        self._order = order
        self._input = inputs[0]
        self._output = output
        self._succ = succ
        self._sites = self._resolve_sites(sites)
        if name is not None:
            if not isinstance(name, str):
                raise NetworkFormatError(f"name: expected a string, got {type(name).__name__}")
            _check_text(name, "name")
        self.name = name
        self.input_names = _check_names(input_names, self.n_inputs, "input_names")
        self.output_names = _check_names(output_names, self.n_outputs, "output_names")
        self.metadata = dict(metadata) if metadata is not None else {}

    def _resolve_sites(self, sites):
        if sites is None:
            out = [n for n in self._order
                   if isinstance(self._nodes[n].op, (Input, ActivationOp)) or n == self._output]
        else:
            if isinstance(sites, str):
                raise NetworkFormatError("sites: expected a list of node names")
            out = []
            for s in sites:
                if s not in self._nodes:
                    raise NetworkFormatError(f"sites: {s!r} is not a node of the network")
                if s not in out:
                    out.append(s)
            out.sort(key=self._order.index)
        return tuple(out)

    # ------------------------------------------------------------------ builders
    @classmethod
    def from_nodes(cls, nodes, output=None, **kwargs) -> "Network":
        """Same as the constructor (a builder name to read well at call sites).

        Examples
        --------
        >>> Network.from_nodes([("x", Input((1,)), ())]).order
        ('x',)
        """
        return cls(nodes, output, **kwargs)

    @classmethod
    def from_layers(cls, layers, **kwargs) -> "Network":
        """A chain from ``(weight, bias, activation)`` triples (stored arrays, already validated).

        Examples
        --------
        >>> Network.from_layers([(float_array([[2.0]]), None, "relu")]).widths
        (1, 1)
        """
        layers = list(layers)
        if not layers:
            raise NetworkFormatError("layers: expected at least one layer (L ≥ 1), got none")
        nodes = [("0", Input((int(layers[0][0].shape[1]),)), ())]
        prev = "0"
        for l, (W, b, act) in enumerate(layers, start=1):
            if l > 1 and W.shape[1] != layers[l - 2][0].shape[0]:
                raise NetworkFormatError(
                    f"layers[{l - 1}].weights: expected {layers[l - 2][0].shape[0]} columns "
                    f"(the width of layer {l - 1}), got {W.shape[1]}")
            nodes.append((f"z{l}", Dense(W, b), (prev,)))
            nodes.append((str(l), ActivationOp(get_activation(act)), (f"z{l}",)))
            prev = str(l)
        return cls(nodes, prev, **kwargs)

    @classmethod
    def from_numpy(cls, weights: Sequence, biases: Sequence | None = None,
                   activations: str | Sequence = "relu", **kwargs) -> "Network":
        """Build a float chain from NumPy matrices.

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
            layers.append((float_array(w), float_array(b), a))
        return cls.from_layers(layers, **kwargs)

    @classmethod
    def from_sympy(cls, weights: Sequence, biases: Sequence | None = None,
                   activations: str | Sequence = "relu", **kwargs) -> "Network":
        """Build an exact (or symbolic) chain; every entry is kept exactly.

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
            bm = exact_array([0] * wm.shape[0]) if b is None else _exact_vector(b, f"biases[{k}]", wm.shape[0])
            layers.append((wm, bm, a))
        return cls.from_layers(layers, **kwargs)

    @classmethod
    def from_graph(cls, graph: nx.DiGraph, **kwargs) -> "Network":
        """Read a network back from a networkx graph.

        Two forms are read: an operator graph as :attr:`graph` gives (nodes
        carry ``op``, edges ``slots``; the graph attribute ``output`` names
        the output), or a layered *neuron* graph as :meth:`neuron_graph`
        gives (nodes ``(layer, index)`` carrying ``bias`` and ``activation``,
        edges ``weight``; missing edges are zero weights; a layer is exact
        when any of its values is exact).

        Examples
        --------
        >>> net = random_network([2, 3, 1], seed=1)
        >>> Network.from_graph(net.neuron_graph()) == net
        True
        >>> Network.from_graph(net.graph).order == net.order
        True
        """
        import networkx as nx

        if not isinstance(graph, nx.DiGraph):
            raise NetworkFormatError(f"graph: expected a networkx.DiGraph, got {type(graph).__name__}")
        if graph.number_of_nodes() and all("op" in d for _, d in graph.nodes(data=True)):
            nodes = []
            for nm, d in graph.nodes(data=True):
                preds = []
                for u in graph.predecessors(nm):
                    for s in graph.edges[u, nm].get("slots", [0]):
                        preds.append((s, u))
                nodes.append((nm, d["op"], tuple(u for _, u in sorted(preds))))
            g = graph.graph
            for key in ("name", "input_names", "output_names", "metadata", "sites"):
                if g.get(key) is not None:
                    kwargs.setdefault(key, g.get(key))
            return cls(nodes, g.get("output"), **kwargs)
        return _from_neuron_graph(cls, graph, **kwargs)

    # ------------------------------------------------------------------ the graph
    @property
    def graph(self) -> nx.DiGraph:
        """The operator DAG (frozen): node attribute ``op``, edge attribute ``slots``.

        Examples
        --------
        >>> G = mean_network(2).graph
        >>> G.nodes["z1"]["op"].kind, list(G.successors("z1"))
        ('dense', ['1'])
        """
        G = self.__dict__.get("_graph")
        if G is None:
            import networkx as nx

            G = self.__dict__["_graph"] = nx.freeze(_nx_graph({nm: self._nodes[nm].op for nm in self._succ},
                                                              self._succ))
        return G

    @property
    def order(self) -> tuple:
        """Node names in topological order (the walk order).

        Examples
        --------
        >>> mean_network(2).order
        ('0', 'z1', '1')
        """
        return self._order

    def node(self, name) -> Node:
        """The :class:`Node` called ``name``.

        Examples
        --------
        >>> mean_network(2).node("1").op
        Activation('linear')
        """
        try:
            return self._nodes[name]
        except (KeyError, TypeError):
            raise InvalidArgument(f"node: {name!r} is not a node of the network "
                                  f"(nodes: {', '.join(self._order)})") from None

    @property
    def nodes(self) -> tuple:
        """Every :class:`Node`, in topological order.

        Examples
        --------
        >>> [n.op.kind for n in mean_network(2).nodes]
        ['input', 'dense', 'activation']
        """
        return tuple(self._nodes[n] for n in self._order)

    @property
    def input(self) -> str:
        """The input node's name.

        Examples
        --------
        >>> mean_network(2).input
        '0'
        """
        return self._input

    @property
    def output(self) -> str:
        """The output node's name.

        Examples
        --------
        >>> mean_network(2).output
        '1'
        """
        return self._output

    @property
    def input_shape(self) -> tuple:
        """Shape of one input sample.

        Examples
        --------
        >>> mean_network(3).input_shape
        (3,)
        """
        return self._nodes[self._input].shape

    @property
    def output_shape(self) -> tuple:
        """Shape of one output sample.

        Examples
        --------
        >>> mean_network(3).output_shape
        (1,)
        """
        return self._nodes[self._output].shape

    @property
    def n_inputs(self) -> int:
        """Number of input elements (``n_0`` for a chain).

        Examples
        --------
        >>> mean_network(7).n_inputs
        7
        """
        return self._nodes[self._input].size

    @property
    def n_outputs(self) -> int:
        """Number of output elements (``n_L`` for a chain).

        Examples
        --------
        >>> mean_network(7).n_outputs
        1
        """
        return self._nodes[self._output].size

    def label(self, name) -> str:
        """How messages name a node: ``"layer l"`` for a chain's dense and activation nodes, else ``"node 'name'"``.

        Examples
        --------
        >>> mean_network(2).label("z1"), mean_network(2).label("0")
        ('layer 1', 'layer 0')
        """
        if self.is_chain:
            ch = self.as_chain()
            if name == ch.input_site:
                return "layer 0"
            for l, lay in enumerate(ch.layers, start=1):
                if name in (lay.dense, lay.site):
                    return f"layer {l}"
        return f"node {name!r}"

    def params(self, name, kind: str = "float") -> dict:
        """The parameters of node ``name`` in a number kind; errors name the field as a file would.

        Examples
        --------
        >>> mean_network(2).params("z1")["weight"]
        array([[0.5, 0.5]])
        """
        node = self.node(name)
        try:
            return node.op.params(kind)
        except (NetworkFormatError, SymbolicValueError) as e:
            msg = str(e)
            field = f"{name}"
            if self.is_chain:
                for l, lay in enumerate(self.as_chain().layers):
                    if lay.dense == name:
                        field = f"layers[{l}]"
            for arr in node.op.arrays:
                pre = f"{node.op.kind}.{arr}"
                if msg.startswith(pre):
                    nice = {"weight": "weights"}.get(arr, arr) if field.startswith("layers[") else arr
                    raise type(e)(f"{field}.{nice}{msg[len(pre):]}") from None
            raise

    def consumers(self, name) -> tuple:
        """The nodes that read ``name``, in topological order.

        Examples
        --------
        >>> mean_network(2).consumers("0")
        ('z1',)
        """
        cons = self.__dict__.get("_consumers")
        if cons is None:
            pos = {n: i for i, n in enumerate(self._order)}
            cons = {n: tuple(sorted(self._succ[n], key=pos.__getitem__)) for n in self._order}
            self.__dict__["_consumers"] = cons
        return cons[name]

    def downstream(self, names) -> tuple:
        """``names`` and every node that depends on them, in topological order.

        Examples
        --------
        >>> random_network([2, 2, 1], seed=0).downstream(["1"])
        ('1', 'z2', '2')
        """
        key = frozenset([names] if isinstance(names, str) else names)
        cache = self.__dict__.setdefault("_downstream", {})
        if key not in cache:
            reach = _reachable(self._succ, key)
            cache[key] = tuple(n for n in self._order if n in reach)
        return cache[key]

    def memo(self, key, make):
        """A value derived from the network, computed by ``make()`` on first use and kept (the network is immutable).

        For plans that engines would otherwise rebuild at every call (e.g. which nodes of the fault-free pass
        evaluate together); ``key`` names the value and must be hashable.

        Examples
        --------
        >>> net = mean_network(2)
        >>> net.memo("order length", lambda: len(net.order))
        3
        >>> net.memo("order length", lambda: 0)         # kept from the first call
        3
        """
        cache = self.__dict__.setdefault("_memo", {})
        if key not in cache:
            cache[key] = make()
        return cache[key]

    # ------------------------------------------------------------------ sites
    @property
    def sites(self) -> tuple:
        """The crash sites, in topological order.

        Examples
        --------
        >>> random_network([2, 3, 1], seed=0).sites
        ('0', '1', '2')
        """
        return self._sites

    @property
    def hidden_sites(self) -> tuple:
        """The sites other than the input and the output ("every hidden layer").

        Examples
        --------
        >>> random_network([2, 3, 3, 1], seed=0).hidden_sites
        ('1', '2')
        """
        return tuple(s for s in self._sites if s not in (self._input, self._output))

    def site(self, key, where: str = "site") -> str:
        """The site name for ``key``: a site's name, or an integer ``k`` for the ``k``-th site (0 = input).

        Raises
        ------
        InvalidArgument
            Naming the known sites.

        Examples
        --------
        >>> net = random_network([2, 3, 1], seed=0)
        >>> net.site(1), net.site("2")
        ('1', '2')
        >>> net.site(5, "--p")
        Traceback (most recent call last):
        ...
        symft.errors.InvalidArgument: --p: layer 5 does not exist; the network has layers 0 … 2
        """
        if isinstance(key, str):
            if key in self._sites:
                return key
            if key.strip().lstrip("-").isdigit():
                return self.site(int(key.strip()), where)
        elif isinstance(key, Integral) and not isinstance(key, bool):
            s = str(int(key))
            if s in self._sites:
                return s
            if any(n.isdigit() and n != str(i) for i, n in enumerate(self._sites)):
                # sites named by numbers (a PyTorch module path: input, 1, 3, 4): a number is a name, never a
                # position, which would crash another module than the one meant
                node = ""
                if s in self._nodes:
                    node = f"; node {s} is a {getattr(self.node(s).op, 'kind', '') or 'non-site'} node, not a crash site"
                known = ", ".join(self._sites[:20]) + (" …" if len(self._sites) > 20 else "")
                raise InvalidArgument(f"{where}: no crash site is named {s}: this network's sites are named {known} "
                                      f"(module paths; a number is read as a name here, not as a position){node}")
            if 0 <= key < len(self._sites):
                return self._sites[int(key)]
        if self.is_chain and isinstance(key, (Integral, str)) and str(key).strip().lstrip("-").isdigit():
            raise InvalidArgument(f"{where}: layer {int(str(key).strip())} does not exist; the network has "
                                  f"layers 0 … {self.as_chain().depth}")
        known = ", ".join(self._sites[:20]) + (" …" if len(self._sites) > 20 else "")
        raise InvalidArgument(f"{where}: site {key!r} does not exist; the sites are {known} "
                              f"(or 0 … {len(self._sites) - 1} by position)")

    def site_size(self, site) -> int:
        """Number of neurons of a site.

        Examples
        --------
        >>> random_network([2, 3, 1], seed=0).site_size(1)
        3
        """
        return self._nodes[self.site(site)].size

    def site_shape(self, site) -> tuple:
        """Tensor shape of a site (its neurons are numbered row-major).

        Examples
        --------
        >>> mean_network(3).site_shape(0)
        (3,)
        """
        return self._nodes[self.site(site)].shape

    def synapse_node(self, site) -> str:
        """The dense or convolution node whose weights are the synapses into ``site``.

        For an activation site it is the op feeding the activation; for an
        affine site, the site itself.

        Raises
        ------
        InvalidArgument
            When no dense or convolution op feeds the site.

        Examples
        --------
        >>> mean_network(2).synapse_node("1")
        'z1'
        """
        s = self.site(site)
        node = self._nodes[s]
        if isinstance(node.op, ActivationOp):
            node = self._nodes[node.inputs[0]]
        if node.op.kind not in ("dense", "conv2d"):
            raise InvalidArgument(f"site {s!r}: no dense or convolution op feeds it, so it has no synapses")
        return node.name

    # ------------------------------------------------------------------ numbers
    @property
    def free_symbols(self) -> frozenset:
        """Every symbol in the parameters.

        Examples
        --------
        >>> mean_network(2).free_symbols
        frozenset()
        """
        out = frozenset()
        for n in self._order:
            out |= self._nodes[n].op.free_symbols
        return out

    def check_numeric(self, what: str = "numeric work") -> "Network":
        """Raise :class:`~symft.errors.SymbolicValueError` when some parameter is a symbol.

        The message names the first node (the layer, for a chain) with symbols.

        Examples
        --------
        >>> n = sp.Symbol("n")
        >>> Network.from_sympy([[[1, 1]], [[1 / n]]], activations=["relu", "linear"]).check_numeric()
        Traceback (most recent call last):
        ...
        symft.errors.SymbolicValueError: layer 2 has symbolic weights ['n']; substitute values with net.subs({...}) for numeric work
        """
        for node in self.nodes:
            syms = node.op.free_symbols
            if syms:
                where = f"node {node.name!r}"
                if self.is_chain:
                    for l, lay in enumerate(self.as_chain().layers, start=1):
                        if lay.dense == node.name:
                            where = f"layer {l}"
                raise SymbolicValueError(f"{where} has symbolic weights {sorted(map(str, syms))}; "
                                         f"substitute values with net.subs({{...}}) for {what}")
        return self

    @cached_property
    def kind(self) -> str:
        """``'float'``, ``'exact'`` (all rational), ``'symbolic'`` or ``'mixed'``.

        Examples
        --------
        >>> mean_network(2).kind, random_network([1, 1], seed=0).kind
        ('exact', 'float')
        """
        if self.free_symbols:
            return "symbolic"
        arrays = [getattr(n.op, a) for n in self.nodes for a in n.op.arrays if getattr(n.op, a) is not None]
        if all(is_float_array(a) for a in arrays):
            return "float"
        if all(not is_float_array(a) and all(v.is_Rational for v in a.reshape(-1)) for a in arrays):
            return "exact"
        return "mixed"

    @property
    def n_params(self) -> int:
        """Number of stored parameters (weights, biases, scales …).

        Examples
        --------
        >>> mean_network(3).n_params
        4
        """
        return int(sum(getattr(n.op, a).size for n in self.nodes for a in n.op.arrays
                       if getattr(n.op, a) is not None))

    @property
    def activation_nodes(self) -> tuple:
        """The activation nodes, in topological order.

        Examples
        --------
        >>> [n.op.act.name for n in random_network([1, 2, 1], seed=0).activation_nodes]
        ['tanh', 'linear']
        """
        return tuple(n for n in self.nodes if isinstance(n.op, ActivationOp))

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

        def sub(a):
            if is_float_array(a):
                return a
            out = np.empty(a.shape, dtype=object)
            for i, v in enumerate(a.reshape(-1)):
                out.reshape(-1)[i] = sp.sympify(v).subs(values)
            out.setflags(write=False)
            return out

        return self._rebuild({n.name: n.op.map_arrays(sub) for n in self.nodes})

    def _rebuild(self, ops: Mapping) -> "Network":
        return Network([(n.name, ops.get(n.name, n.op), n.inputs) for n in self.nodes], self._output,
                       sites=self._sites, name=self.name, input_names=self.input_names,
                       output_names=self.output_names, metadata=self.metadata)

    def with_sites(self, sites) -> "Network":
        """The same network with another list of crash sites.

        Examples
        --------
        >>> mean_network(2).with_sites(["0", "z1"]).sites
        ('0', 'z1')
        """
        return Network([(n.name, n.op, n.inputs) for n in self.nodes], self._output, sites=sites, name=self.name,
                       input_names=self.input_names, output_names=self.output_names, metadata=self.metadata)

    # ------------------------------------------------------------------ the chain view
    @cached_property
    def _chain(self):
        return _find_chain(self)

    @property
    def is_chain(self) -> bool:
        """Whether the network is a chain of dense layers (see :meth:`as_chain`).

        Examples
        --------
        >>> mean_network(2).is_chain
        True
        """
        return isinstance(self._chain, Chain)

    def as_chain(self, what: str = "this") -> Chain:
        """The layer view of a chain of dense layers.

        A chain is: the input (optionally flattened), then dense nodes each
        optionally followed by one activation node, each reading the
        previous one, with identity nodes allowed anywhere; its sites are
        the input and each layer's output.

        Parameters
        ----------
        what : str
            What needs the chain, for the error message.

        Raises
        ------
        NotAChain
            With the reason.

        Examples
        --------
        >>> mean_network(2).as_chain().widths
        (2, 1)
        """
        if isinstance(self._chain, str):
            raise NotAChain(f"the network is not a chain of dense layers: {self._chain}; {what} needs a chain")
        return self._chain

    @property
    def layers(self) -> tuple:
        """The chain's layers ``1 … L`` (``layers[l - 1]`` is layer ``l``); chains only.

        Examples
        --------
        >>> len(mean_network(4).layers)
        1
        """
        return self.as_chain().layers

    @property
    def depth(self) -> int:
        """``L``, the number of layers with weights; chains only.

        Examples
        --------
        >>> random_network([2, 5, 5, 1], seed=0).depth
        3
        """
        return self.as_chain("depth").depth

    @property
    def widths(self) -> tuple:
        """``(n_0, n_1, …, n_L)``; chains only.

        Examples
        --------
        >>> random_network([2, 5, 1], seed=0).widths
        (2, 5, 1)
        """
        return self.as_chain("widths").widths

    @property
    def activations(self) -> tuple:
        """The activations of layers ``1 … L``; chains only.

        Examples
        --------
        >>> [a.name for a in random_network([1, 2, 1], seed=0, activation="relu").activations]
        ['relu', 'linear']
        """
        return tuple(lay.activation for lay in self.as_chain("activations").layers)

    def _layer(self, l, first=1):
        ch = self.as_chain("a layer number")
        if not isinstance(l, Integral) or isinstance(l, bool) or not first <= l <= ch.depth:
            raise InvalidArgument(f"layer: expected an integer in {first} … {ch.depth}, got {l!r}")
        return ch.layers[int(l) - 1]

    def activation(self, l: int) -> Activation:
        """The activation of layer ``l`` (1 … L); chains only.

        Examples
        --------
        >>> random_network([1, 2, 1], seed=0).activation(1).name
        'tanh'
        """
        return self._layer(l).activation

    def weights(self, l: int) -> np.ndarray:
        """``W_l`` as a read-only float64 array of shape ``n_l × n_{l-1}``; chains only.

        Raises
        ------
        SymbolicValueError
            When the layer has symbols (use :meth:`subs` first).

        Examples
        --------
        >>> mean_network(2).weights(1)
        array([[0.5, 0.5]])
        """
        lay = self._layer(l)
        syms = array_free_symbols(lay.weight) | array_free_symbols(lay.bias)
        if syms:
            raise SymbolicValueError(f"layer {l} has symbolic weights {sorted(map(str, syms))}; "
                                     "substitute values with net.subs({...}) for numeric work")
        return self.params(lay.dense)["weight"]

    def bias(self, l: int) -> np.ndarray:
        """``b_l`` as a read-only float64 vector; chains only.

        Examples
        --------
        >>> mean_network(2).bias(1)
        array([0.])
        """
        lay = self._layer(l)
        syms = array_free_symbols(lay.bias)
        if syms:
            raise SymbolicValueError(f"layer {l} has symbolic weights {sorted(map(str, syms))}; "
                                     "substitute values with net.subs({...}) for numeric work")
        return convert(lay.bias, "float", f"layers[{l - 1}].bias")

    def weights_exact(self, l: int) -> sp.ImmutableMatrix:
        """``W_l`` as a SymPy matrix, floats converted to the rational they hold; chains only.

        Examples
        --------
        >>> Network.from_numpy([[[0.5, 0.1]]]).weights_exact(1)[0]
        1/2
        """
        W = self._nodes[self._layer(l).dense].op.params("sympy")["weight"]
        return sp.ImmutableMatrix(W.shape[0], W.shape[1], list(W.reshape(-1)))

    def bias_exact(self, l: int) -> sp.ImmutableMatrix:
        """``b_l`` as an ``n_l × 1`` SymPy matrix (exact, see :meth:`weights_exact`); chains only.

        Examples
        --------
        >>> mean_network(2).bias_exact(1)
        Matrix([[0]])
        """
        return sp.ImmutableMatrix(list(convert(self._layer(l).bias, "sympy")))

    def neuron_graph(self) -> nx.DiGraph:
        """The chain as a layered graph of neurons (frozen); chains only.

        Nodes ``(l, i)`` carry ``layer``, ``index``, ``bias`` and
        ``activation`` (a name; ``None`` for inputs) and ``name`` when the
        network names its inputs/outputs.  Edges carry ``weight`` exactly as
        stored (float or SymPy).

        Examples
        --------
        >>> G = mean_network(2).neuron_graph()
        >>> G.edges[(0, 1), (1, 0)]["weight"]
        1/2
        >>> sorted(G.nodes)
        [(0, 0), (0, 1), (1, 0)]
        """
        import networkx as nx

        ch = self.as_chain("the neuron graph")
        G = nx.DiGraph(name=self.name, input_names=self.input_names, output_names=self.output_names,
                       metadata=self.metadata)
        widths = ch.widths
        for j in range(widths[0]):
            G.add_node((0, j), layer=0, index=j, bias=None, activation=None,
                       **({"name": self.input_names[j]} if self.input_names else {}))
        for l, lay in enumerate(ch.layers, start=1):
            W, b = lay.weight, lay.bias
            fl = is_float_array(W)
            for i in range(widths[l]):
                attrs = {"name": self.output_names[i]} if l == ch.depth and self.output_names else {}
                G.add_node((l, i), layer=l, index=i, bias=float(b[i]) if fl else b[i],
                           activation=lay.activation.name, **attrs)
            G.add_weighted_edges_from(((l - 1, j), (l, i), float(W[i, j]) if fl else W[i, j])
                                      for i in range(widths[l]) for j in range(widths[l - 1]))
        return nx.freeze(G)

    # ------------------------------------------------------------------ dunder
    def __eq__(self, other):
        if not isinstance(other, Network):
            return NotImplemented
        if self._order != other._order or self._output != other._output or self._sites != other._sites:
            return False
        for n in self._order:
            a, b = self._nodes[n], other._nodes[n]
            if a.inputs != b.inputs or not a.op.same(b.op):
                return False
        return (self.name == other.name and self.input_names == other.input_names
                and self.output_names == other.output_names and self.metadata == other.metadata)

    __hash__ = None

    def __repr__(self):
        name = f"name={self.name!r}, " if self.name else ""
        if self.is_chain:
            acts = tuple(a.name for a in self.activations)
            return f"Network({name}widths={self.widths}, activations={acts}, kind={self.kind!r})"
        return (f"Network({name}nodes={len(self._order)}, input={self.input_shape}, "
                f"output={self.output_shape}, sites={len(self._sites)}, kind={self.kind!r})")


def _find_chain(net):
    """A Chain, or a string saying why the network is not one."""
    layers = []
    cur = net.input
    input_site = net.input
    if input_site not in net.sites:
        return "the input is not a crash site"
    expect_sites = [input_site]
    while True:
        cons = net.consumers(cur)
        if not cons:
            break
        if len(cons) > 1:
            return f"node {cur!r} feeds {len(cons)} nodes"
        nxt = net.node(cons[0])
        op = nxt.op
        if isinstance(op, Identity) or (isinstance(op, Flatten) and not layers):
            if nxt.name in net.sites:
                return f"node {nxt.name!r} ({op.kind}) is a crash site"
            cur = nxt.name
            continue
        if isinstance(op, Dense):
            if nxt.name in net.sites and net.consumers(nxt.name):
                dn = nxt.name
                after = net.node(net.consumers(dn)[0])
                if isinstance(after.op, ActivationOp):
                    return f"dense node {dn!r} is a crash site and feeds an activation"
            dense = nxt.name
            cons2 = net.consumers(dense)
            act_node = None
            if len(cons2) == 1 and isinstance(net.node(cons2[0]).op, ActivationOp):
                act_node = cons2[0]
            elif len(cons2) > 1:
                return f"node {dense!r} feeds {len(cons2)} nodes"
            site = act_node if act_node is not None else dense
            if site not in net.sites:
                return f"layer output {site!r} is not a crash site"
            bias = op.bias if op.bias is not None else (
                float_array(np.zeros(op.weight.shape[0])) if is_float_array(op.weight)
                else exact_array([0] * op.weight.shape[0]))
            act = net.node(act_node).op.act if act_node is not None else get_activation("linear")
            layers.append(ChainLayer(op.weight, bias, act, dense, site))
            expect_sites.append(site)
            cur = site
            continue
        return f"node {nxt.name!r} ({op.kind}) does not follow a dense node"
    if not layers:
        return "it has no dense layer"
    if set(net.sites) != set(expect_sites):
        extra = sorted(set(net.sites) - set(expect_sites))
        return f"node {extra[0]!r} is a crash site inside a layer"
    return Chain(tuple(layers), input_site)


def _from_neuron_graph(cls, graph, **kwargs):
    by_layer: dict[int, list[int]] = {}
    for node in graph.nodes:
        if (not isinstance(node, tuple) or len(node) != 2
                or not all(isinstance(v, Integral) and not isinstance(v, bool) for v in node)):
            raise NetworkFormatError(f"graph: node {node!r}: expected a (layer, index) pair of integers")
        by_layer.setdefault(int(node[0]), []).append(int(node[1]))
    L = max(by_layer, default=-1)
    if L < 1 or sorted(by_layer) != list(range(L + 1)):
        raise NetworkFormatError(
            f"graph: expected nodes in consecutive layers 0 … L with L ≥ 1, got layers {sorted(by_layer)}")
    widths = []
    for l in range(L + 1):
        idx = sorted(by_layer[l])
        if idx != list(range(len(idx))):
            raise NetworkFormatError(f"graph: layer {l}: expected neuron indices 0 … n-1, got {idx}")
        widths.append(len(idx))
    for u, v in graph.edges:
        if v[0] != u[0] + 1:
            raise NetworkFormatError(f"graph: edge {u}→{v}: expected an edge between consecutive layers")
    layers = []
    for l in range(1, L + 1):
        W = [[graph.edges[(l - 1, j), (l, i)].get("weight", 0) if graph.has_edge((l - 1, j), (l, i)) else 0
              for j in range(widths[l - 1])] for i in range(widths[l])]
        b = [graph.nodes[(l, i)].get("bias", 0) for i in range(widths[l])]
        names = {_act_name(graph.nodes[(l, i)].get("activation", "linear")) for i in range(widths[l])}
        if len(names) != 1:
            raise NetworkFormatError(f"graph: layer {l}: expected one activation for the whole layer, "
                                     f"got {sorted(names)}")
        act = get_activation(graph.nodes[(l, 0)].get("activation", "linear"))
        values = [v for row in W for v in row] + list(b)
        if any(isinstance(v, (float, np.floating)) for v in values) and not any(
                isinstance(v, (sp.Basic, str)) or _is_fraction(v) for v in values):
            layers.append((float_array(_float_matrix(W, f"graph layer {l} weights")),
                           float_array(_float_vector(b, f"graph layer {l} bias", len(b))), act))
        else:
            layers.append((_exact_matrix(W, f"graph layer {l} weights"),
                           _exact_vector(b, f"graph layer {l} bias", len(b)), act))
    g = graph.graph
    for key in ("name", "input_names", "output_names", "metadata"):
        kwargs.setdefault(key, g.get(key))
    return cls.from_layers(layers, **kwargs)


# ---------------------------------------------------------------------- helpers

def _topological_order(succ, pos):
    """The nodes in topological order, ties broken by ``pos`` (as networkx's lexicographical sort), or ``None``
    when the graph has a cycle.  ``succ[u]`` holds the nodes that read ``u``."""
    indeg = dict.fromkeys(succ, 0)
    for u in succ:
        for v in succ[u]:
            indeg[v] += 1
    heap = [(pos[n], n) for n, d in indeg.items() if d == 0]
    heapq.heapify(heap)
    order = []
    while heap:
        _, u = heapq.heappop(heap)
        order.append(u)
        for v in succ[u]:
            indeg[v] -= 1
            if indeg[v] == 0:
                heapq.heappush(heap, (pos[v], v))
    return tuple(order) if len(order) == len(succ) else None


def _reachable(adj, start):
    """``start`` and every node reachable from it along ``adj`` (a mapping node → iterable of nodes)."""
    seen, stack = set(start), list(start)
    while stack:
        for v in adj[stack.pop()]:
            if v not in seen:
                seen.add(v)
                stack.append(v)
    return seen


def _nx_graph(ops, succ):
    """The operator graph as a networkx ``DiGraph`` (node attribute ``op``, edge attribute ``slots``)."""
    import networkx as nx

    G = nx.DiGraph()
    for nm, op in ops.items():
        G.add_node(nm, op=op)
    for u, vs in succ.items():
        for v, slots in vs.items():
            G.add_edge(u, v, slots=list(slots))
    return G


def _find_cycle(ops, succ):
    import networkx as nx

    return nx.find_cycle(_nx_graph(ops, succ))

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


def _check_text(text, where):
    try:
        check_text(text, where)
    except InvalidArgument as e:
        raise NetworkFormatError(str(e)) from None


def _activations_for(activations, L):
    if isinstance(activations, (str, Activation)):
        acts = [activations] * (L - 1) + ["linear"]
    else:
        acts = list(activations)
        if len(acts) != L:
            raise InvalidArgument(
                f"activations: expected one name for the hidden layers or {L} names (one per layer), "
                f"got {len(acts)}")
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
    out = np.empty((len(rows), n), dtype=object)
    for i, r in enumerate(rows):
        for j, v in enumerate(r):
            out[i, j] = _exact_entry(v, f"{where}[{i}][{j}]")
    out.setflags(write=False)
    return out


def _exact_vector(b, where, n):
    if isinstance(b, sp.MatrixBase):
        vals = list(b)
    elif isinstance(b, (str, bytes)) or not hasattr(b, "__iter__"):
        raise NetworkFormatError(f"{where}: expected a vector of {n} numbers")
    else:
        vals = list(np.asarray(b, dtype=object).ravel()) if isinstance(b, np.ndarray) else list(b)
    if len(vals) != n:
        raise NetworkFormatError(f"{where}: expected {n} numbers, got {len(vals)}")
    out = np.empty(n, dtype=object)
    for i, v in enumerate(vals):
        out[i] = _exact_entry(v, f"{where}[{i}]")
    out.setflags(write=False)
    return out


# ---------------------------------------------------------------------- builders

def random_network(widths: Sequence[int], *, seed, activation: str = "tanh",
                   output_activation: str = "linear", weight_scale: float = 1.0,
                   bias_scale: float = 0.1, rational_denominator: int | None = None,
                   name: str | None = None) -> Network:
    r"""A random chain with an explicit seed.

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
        Output-layer activation (theory §1: linear).

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
    Wq = [[[sp.Rational(int(round(v * d)), d) for v in row] for row in W] for W in Ws]
    bq = [[sp.Rational(int(round(v * d)), d) for v in b] for b in bs]
    return Network.from_sympy(Wq, bq, acts, name=name)


def mean_network(n: int) -> Network:
    r"""The toy network ``y = Σ_i x_i / n`` of theory §4 (exact weights ``1/n``).

    Under input crashes with probability p at ``x ≡ 1``:
    ``E Δ = -p`` and ``Var Δ = p(1-p)/n``.

    Examples
    --------
    >>> net = mean_network(4)
    >>> net.weights_exact(1)
    Matrix([[1/4, 1/4, 1/4, 1/4]])
    """
    n = _positive_int(n, "n")
    return Network.from_sympy([[[sp.Rational(1, n)] * n]], activations=["linear"], name=f"mean_of_{n}_inputs")


def first_input_network(n: int) -> Network:
    r"""The toy network ``y = x_1`` on ``n`` inputs (theory §4, erratum E3).

    Under input crashes: ``E Δ = -p x_1`` and ``Var Δ = p(1-p) x_1²``,
    which does not decay with n.

    Examples
    --------
    >>> first_input_network(3).weights_exact(1)
    Matrix([[1, 0, 0]])
    """
    n = _positive_int(n, "n")
    return Network.from_sympy([[[1] + [0] * (n - 1)]], activations=["linear"], name=f"first_of_{n}_inputs")


def _positive_int(n, field):
    if not isinstance(n, Integral) or isinstance(n, bool) or n < 1:
        raise InvalidArgument(f"{field}: expected a positive integer, got {n!r}")
    return int(n)


def rescale_lipschitz(net: Network) -> Network:
    r"""The K-Lipschitz rescaling of theory §1 (PFT footnote 1); chains only.

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
    >>> from symft.engines.forward import forward
    >>> bool(np.allclose(forward(net, x), forward(r, x), rtol=1e-14, atol=1e-15))
    True
    """
    ch = net.as_chain("the Lipschitz rescaling")
    layers = [(lay.weight, lay.bias, lay.activation) for lay in ch.layers]
    for l in range(1, ch.depth):
        W, b, act = layers[l - 1]
        K = act.lipschitz
        if K is None or K == sp.oo or not (K.is_Rational and K > 0):
            raise InvalidArgument(
                f"layer {l}: activation {act.name!r} has no finite rational Lipschitz constant (K = {K})")
        if K == 1:
            continue
        layers[l - 1] = (W, b, act.scaled(1 / K))
        W2, b2, a2 = layers[l]
        if is_float_array(W2):
            layers[l] = (float_array(W2 * float(K)), b2, a2)
        else:
            layers[l] = (exact_array(W2 * K), b2, a2)
    return Network.from_layers(layers, name=net.name, input_names=net.input_names,
                               output_names=net.output_names, metadata=net.metadata)


def layer_norms(net: Network) -> list[dict]:
    r"""Per-layer norms of ``W_l`` (float64) for reports and bounds; chains only.

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
    for l, lay in enumerate(net.as_chain("layer norms").layers, start=1):
        W = convert(lay.weight, "float", f"layer {l} weights")
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
