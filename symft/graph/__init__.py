"""The data: a network as a DAG of operators, its activations, numbers and file format.

* :mod:`symft.graph.network` — :class:`~symft.graph.network.Network`, sites,
  the chain view, builders;
* :mod:`symft.graph.ops` — the operators;
* :mod:`symft.graph.activations` — the activation registry and every view of
  each function;
* :mod:`symft.graph.numbers` — number kinds and the one float→rational rule;
* :mod:`symft.graph.netfile` — the network file (versions 1 and 2).
"""
