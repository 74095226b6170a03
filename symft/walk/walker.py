r"""The one walker: every engine of symft evaluates a network through it.

:func:`walk` visits the nodes of a :class:`~symft.graph.network.Network` in
topological order and asks an :class:`Interpretation` for the value of each
node from the values of its inputs; :func:`walk_reverse` visits them in
reverse order and asks for vector–Jacobian products.  What a value *is*
depends on the interpretation: a float64 array with leading batch axes
(:mod:`symft.walk.numeric`), exact rationals (:mod:`symft.walk.rational`),
SymPy expressions (:mod:`symft.walk.symbolic`), mpmath numbers at a stated
precision (:mod:`symft.walk.highprec`), outward-rounded intervals
(:mod:`symft.walk.interval`), derivatives (:mod:`symft.walk.backward`), or
solver terms.

An interpretation gives one method per op kind, ``op_<kind>(node, args)``,
and may give a single ``affine(node, args)`` rule that serves every affine
op (dense, convolution, pooling, batch norm, add, reshapes).  A missing rule
raises :class:`NoRule` naming the op and the interpretation.  Faults enter
through :meth:`Interpretation.at_site`, called on the value of every node
listed in :attr:`Interpretation.fault_nodes`.

Examples
--------
>>> import numpy as np
>>> from symft.graph.network import mean_network
>>> from symft.walk.numeric import Numeric
>>> net = mean_network(2)
>>> walk(net, Numeric(net), np.array([[1.0, 3.0]]))[net.output]
array([[2.]])
"""

from __future__ import annotations

from typing import ClassVar

from ..errors import SymftError

__all__ = ["NoRule", "Interpretation", "walk", "walk_reverse", "elementwise", "masked_objects"]


def elementwise(fn, a):
    """``fn`` applied to every entry of an object array (exact numbers, SymPy, mpmath), as an object array.

    Examples
    --------
    >>> import numpy as np
    >>> from fractions import Fraction
    >>> elementwise(lambda v: 2 * v, np.array([Fraction(1, 3)], dtype=object))
    array([Fraction(2, 3)], dtype=object)
    """
    import numpy as np

    return np.frompyfunc(fn, 1, 1)(a).astype(object) if a.size else a.copy()


def masked_objects(node, Y, mask, base, values=None):
    """The crash rule of the object-array interpretations: where ``mask`` is set, the crash value.

    ``Y``: the node's values ``(P, B) + shape``; ``mask``: ``(P, n)`` booleans (crashed neurons per
    pattern); ``base``: ``(n,)`` what a crashed neuron outputs; ``values``: optional ``(P, n)`` values sent
    instead (None entries keep ``base``).

    Examples
    --------
    >>> import numpy as np
    >>> from symft.graph.network import mean_network
    >>> node = mean_network(2).node("0")
    >>> Y = np.array([[[1, 2]]], dtype=object)
    >>> masked_objects(node, Y, np.array([[True, False]]), np.array([0, 0], dtype=object))
    array([[[0, 2]]], dtype=object)
    """
    import numpy as np

    P = mask.shape[0]
    shape = node.shape
    if values is not None:
        vals = np.asarray(values, dtype=object)
        none = np.vectorize(lambda v: v is None, otypes=[bool])(vals)
        b = np.where(none, base[None, :], vals).reshape((P, 1) + shape)
    else:
        b = base.reshape(shape)
    return np.where(mask.reshape((P, 1) + shape), b, Y)


class NoRule(SymftError, NotImplementedError):
    """An interpretation has no rule for an op.

    Examples
    --------
    >>> str(NoRule("the float interpretation has no rule for 'conv3d' ops (node 'c1')"))
    "the float interpretation has no rule for 'conv3d' ops (node 'c1')"
    """


class Interpretation:
    """What the walker computes: one rule per op kind, plus the faults hook.

    Subclasses define ``op_<kind>(node, args)`` methods (``args``: the
    values of the node's inputs, in order) and optionally ``affine(node,
    args)`` for every affine op without a specific rule; ``input(node, x)``
    turns the walk's input into the input node's value.

    Attributes
    ----------
    name : str
        Used in messages ("the interval interpretation has no rule …").
    fault_nodes : frozenset
        Names of the nodes whose value :meth:`at_site` rewrites (crashed
        sites); empty without faults.
    recompute : frozenset
        Names of nodes that must be recomputed even when their inputs did
        not change (e.g. nodes with failed synapses).

    Examples
    --------
    >>> class Count(Interpretation):
    ...     name = "count"
    ...     def input(self, node, x):
    ...         return 1
    ...     def affine(self, node, args):
    ...         return sum(args) + 1
    ...     def op_activation(self, node, args):
    ...         return args[0] + 1
    >>> from symft.graph.network import random_network
    >>> walk(random_network([2, 3, 1], seed=0), Count(), None, keep=False)
    5
    """

    name: ClassVar[str] = "generic"
    fault_nodes: frozenset = frozenset()
    recompute: frozenset = frozenset()

    def rule(self, node):
        """The method computing ``node``'s value; :class:`NoRule` when there is none.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> Interpretation().rule(mean_network(2).node("z1"))
        Traceback (most recent call last):
        ...
        symft.walk.walker.NoRule: the generic interpretation has no rule for dense ops (node 'z1')
        """
        kind = node.op.kind
        m = getattr(self, "op_" + kind, None)
        if m is None and node.op.affine:
            m = getattr(self, "affine", None)
        if m is None:
            raise NoRule(f"the {self.name} interpretation has no rule for {kind} ops (node {node.name!r})")
        return m

    def input(self, node, x):
        """The value of the input node, from the walk's input ``x`` (default: ``x`` itself).

        Examples
        --------
        >>> Interpretation().input(None, 3)
        3
        """
        return x

    def op_input(self, node, args):  # pragma: no cover - the walker calls input() instead
        raise NoRule("input nodes take the walk's input")

    def op_identity(self, node, args):
        """The identity passes its value through (every interpretation).

        Examples
        --------
        >>> Interpretation().op_identity(None, ["v"])
        'v'
        """
        return args[0]

    def at_site(self, node, value):
        """Apply the faults at ``node`` (one of :attr:`fault_nodes`) to its value.

        Examples
        --------
        >>> Interpretation().at_site(None, 2.0)
        2.0
        """
        return value


def walk(net, interp: Interpretation, x, *, known: dict | None = None, keep: bool = True,
         stop: str | None = None, overrides: dict | None = None):
    """Evaluate the network under an interpretation, in topological order.

    Parameters
    ----------
    net : Network
    interp : Interpretation
    x : object
        The input value (what ``interp.input`` accepts).
    known : dict, optional
        Values already computed without faults (a clean pass).  A node is
        then recomputed only when it lies downstream of a fault node or of a
        node in ``interp.recompute``; other nodes reuse their known value
        (``x`` is then unused unless the input itself must be computed).
    keep : bool
        Return every computed value (``True``), or only the output's value
        (``False``, freeing intermediate values as soon as possible).
    stop : str, optional
        A node to stop at (its value is the result with ``keep=False``).
    overrides : dict, optional
        ``{node: value}``: use these values instead of computing the nodes
        (with ``known``, everything downstream of them is recomputed).

    Returns
    -------
    dict {node name: value} (``keep=True``) or the output value.

    Examples
    --------
    >>> import numpy as np
    >>> from symft.graph.network import random_network
    >>> from symft.walk.numeric import Numeric
    >>> net = random_network([2, 3, 1], seed=0)
    >>> vals = walk(net, Numeric(net), np.zeros((4, 2)))
    >>> sorted(vals), vals["1"].shape
    (['0', '1', '2', 'z1', 'z2'], (4, 3))
    """
    target = stop if stop is not None else net.output
    overrides = overrides or {}
    if known is None:
        todo = net.order
        changed = None
    else:
        starts = set(interp.fault_nodes) | set(interp.recompute) | set(overrides)
        todo = net.downstream(starts) if starts else ()
        changed = set()
    remaining = None
    if not keep and known is None:
        remaining = {n: len(net.consumers(n)) for n in net.order}
    values = {} if known is None else dict(known)
    for name in todo:
        node = net.node(name)
        if name in overrides:
            v = overrides[name]
        elif changed is not None and name in values and name not in interp.recompute \
                and not any(i in changed for i in node.inputs):
            v = values[name]
        elif node.op.kind == "input":
            v = interp.input(node, x)
        else:
            v = interp.rule(node)(node, [values[i] for i in node.inputs])
        if name in interp.fault_nodes:
            v = interp.at_site(node, v)
        values[name] = v
        if changed is not None:
            changed.add(name)
        if remaining is not None:
            for i in node.inputs:
                remaining[i] -= 1
                if remaining[i] == 0 and i != target:
                    values.pop(i, None)
        if name == target and stop is not None:
            break
    if keep:
        return values
    return values[target]


def walk_reverse(net, interp, values: dict, seed, wrt) -> dict:
    """Vector–Jacobian products from the output back to the nodes ``wrt``, in reverse topological order.

    Parameters
    ----------
    net : Network
    interp : Interpretation
        Gives ``vjp(node, g, values) -> list`` (one entry per input of the
        node, ``None`` for no contribution) and ``add(a, b)``.
    values : dict
        The forward values the rules need (e.g. pre-activations).
    seed : object
        The cotangent at the output.
    wrt : iterable of str
        The nodes whose cotangents are wanted.

    Returns
    -------
    dict {node name: cotangent} for every node of ``wrt`` (``None`` when the
    output does not depend on it).

    Examples
    --------
    >>> import numpy as np
    >>> from symft.graph.network import mean_network
    >>> from symft.walk.backward import Backward
    >>> net = mean_network(2)
    >>> walk_reverse(net, Backward(), {}, np.ones((1, 1, 1)), ["0"])["0"]
    array([[[0.5, 0.5]]])
    """
    wrt = list(wrt)
    need = set(net.downstream(wrt))
    grads = {net.output: seed}
    for name in reversed(net.order):
        if name not in need or name not in grads:
            continue
        node = net.node(name)
        if name in wrt and len(wrt) == 1 and name == wrt[0]:
            break
        if node.op.kind == "input":
            continue
        g = grads[name] if name in wrt else grads.pop(name)
        parts = interp.vjp(node, g, values)
        for inp, gi in zip(node.inputs, parts):
            if gi is None or inp not in need:
                continue
            grads[inp] = gi if inp not in grads else interp.add(grads[inp], gi)
    return {w: grads.get(w) for w in wrt}
