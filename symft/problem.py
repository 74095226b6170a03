r"""A problem: a network, its inputs and a failure model, validated once.

Every engine of symft takes a :class:`Problem` (or the ``(net, x, model)``
it is made from).  :func:`make_problem` is the one place where

* inputs are validated (:func:`symft.engines.forward.as_inputs`; exact
  inputs — strings like ``"1/3"``, ``Fraction``, SymPy — are kept exactly
  beside their float view);
* the failure model is normalised (:func:`as_model`: a
  :class:`~symft.faults.NeuronCrash`, a mapping ``{site: p}``, or a bare
  probability meaning every hidden site) and checked against the network;
* the loss and the targets (one per input) are validated;

and :attr:`Problem.clean` computes the fault-free pass once, for every
engine that needs it.  A command that runs several engines on one input
(:func:`symft.analysis.report.check`, :func:`symft.analysis.certify.certify`)
wraps them in :func:`sharing`, so that the engines' own problems of the same
network and inputs reuse that one pass.

Examples
--------
>>> from symft.graph.network import random_network
>>> net = random_network([3, 4, 2], seed=0)
>>> pb = make_problem(net, [[0.1, 0.2, 0.3], [1, 0, -1]], 0.01)
>>> pb.B, pb.sites, pb.model.probability(1)
(2, ('1',), 0.01)
>>> pb.clean.output.shape
(2, 2)
"""

from __future__ import annotations

import contextvars
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from numbers import Integral, Real
from typing import Mapping

import numpy as np
import sympy as sp

from .engines.forward import Trace, as_inputs, exact_inputs, forward_trace
from .errors import FaultModelError, InvalidArgument
from .faults import SEMANTICS, Byzantine, NeuronCrash, StuckAt, SynapseCrash, check_probability

__all__ = ["Problem", "make_problem", "as_model", "sharing", "LOSSES"]

#: Problems whose clean pass other problems of the same network and inputs reuse (see :func:`sharing`).
_SHARED = contextvars.ContextVar("symft_shared_problems", default=None)

#: Losses known by name (the loss change ``Δ_{L+1}``).
LOSSES = ("squared", "zero_one", "cross_entropy")


def as_model(net, model, semantics: str | None = None):
    """The one normaliser of failure models.

    Parameters
    ----------
    net : Network
    model : NeuronCrash, SynapseCrash, Byzantine, StuckAt, mapping or probability
        A mapping ``{site: p}`` means neuron crashes at those sites; a bare
        probability means neuron crashes with that probability at every
        hidden site (every hidden layer of a chain).
    semantics : {"output_zero", "incoming_zeroed"}, optional
        For mappings and bare probabilities (default ``"output_zero"``); a
        :class:`~symft.faults.NeuronCrash` keeps its own.

    Raises
    ------
    FaultModelError
        For anything else, or sites the network does not have.

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> net = random_network([2, 3, 3, 1], seed=0)
    >>> as_model(net, 0.1).layers, as_model(net, {0: "1/10"}).probability(0)
    ((1, 2), 1/10)
    >>> as_model(net, "often")
    Traceback (most recent call last):
    ...
    symft.errors.FaultModelError: model: expected a failure model (e.g. NeuronCrash({1: 0.01})), a mapping {site: p} or a probability, got str 'often'
    """
    if isinstance(model, (NeuronCrash, SynapseCrash)):
        if semantics is not None and isinstance(model, NeuronCrash) and semantics != model.semantics:
            model = NeuronCrash(dict(model.p), semantics)
        if isinstance(model, NeuronCrash):
            model.check(net)
        return model
    if isinstance(model, (Byzantine, StuckAt)):
        return model
    sem = semantics or "output_zero"
    if sem not in SEMANTICS:
        raise FaultModelError(f"semantics: expected one of {', '.join(map(repr, SEMANTICS))}, got {sem!r}")
    if isinstance(model, Mapping):
        return NeuronCrash({k: _prob(v, f"p[{k}]") for k, v in model.items()}, sem).check(net)
    if isinstance(model, (Real, sp.Basic)) and not isinstance(model, bool):
        return NeuronCrash.hidden(net, check_probability(model, "p"), sem).check(net)
    raise FaultModelError("model: expected a failure model (e.g. NeuronCrash({1: 0.01})), a mapping {site: p} "
                          f"or a probability, got {type(model).__name__} {model!r}")


def _prob(v, where):
    if isinstance(v, str):
        from .utils import to_exact

        v = to_exact(v, where)
    return check_probability(v, where)


@dataclass(frozen=True, eq=False)
class Problem:
    """A network, a batch of inputs, a failure model (and optionally a loss), validated once.

    Build it with :func:`make_problem`.  ``X`` is the float view ``(B, n_in)``;
    :attr:`exact_rows` the exact values (SymPy), ``single`` whether one
    input was given.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> pb = make_problem(mean_network(2), ["1/3", 1], {0: 0.5})
    >>> pb.exact_rows, pb.single
    ([[1/3, 1]], True)
    """

    net: object
    X: np.ndarray
    single: bool
    model: object = None
    loss: object = None
    targets: tuple = None
    exact_given: tuple = None

    @property
    def B(self) -> int:
        """Number of inputs.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> make_problem(mean_network(2), [[1, 2], [3, 4]]).B
        2
        """
        return int(self.X.shape[0])

    @cached_property
    def clean(self) -> Trace:
        """The fault-free pass of every input (computed once, on first use).

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> make_problem(mean_network(2), [1, 3]).clean.output
        array([[2.]])
        """
        shared = _SHARED.get()
        if shared is not None:
            other = shared.get(_share_key(self.net, self.X))
            if other is not None and other is not self:
                return other.clean
        return forward_trace(self.net, self.X)

    @cached_property
    def exact_rows(self) -> list:
        """The inputs as rows of exact SymPy values (floats as the binary rationals they hold).

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> make_problem(mean_network(2), [0.5, 1]).exact_rows
        [[1/2, 1]]
        """
        if self.exact_given is not None:
            return [list(r) for r in self.exact_given]
        return [[sp.Rational(float(v)) for v in row] for row in self.X]

    @property
    def sites(self) -> tuple:
        """The network's site names where the failure model acts, in topological order.

        Examples
        --------
        >>> from symft.graph.network import random_network
        >>> make_problem(random_network([2, 2, 2, 1], seed=0), [0, 0], {2: 0.1, 0: 0.1}).sites
        ('0', '2')
        """
        if self.model is None or not hasattr(self.model, "site_names"):
            return ()
        return self.model.site_names(self.net)

    def target(self, b: int):
        """The target of input ``b`` (``None`` without a loss).

        Examples
        --------
        >>> from symft.graph.network import random_network
        >>> make_problem(random_network([2, 3], seed=0), [[0, 0], [1, 1]], loss="zero_one", target=[2, 0]).target(1)
        0
        """
        return None if self.targets is None else self.targets[b]


def _share_key(net, X):
    return id(net), X.shape, X.dtype.str, X.tobytes()


@contextmanager
def sharing(pb: "Problem"):
    """Within the block, every problem of ``pb``'s network and inputs reuses ``pb``'s clean pass.

    For a command that runs several engines on one ``(net, x)``: each engine
    validates its own arguments, but the fault-free forward pass is computed
    once.  The network must not be changed inside the block.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> net = mean_network(2)
    >>> pb = make_problem(net, [1, 3])
    >>> with sharing(pb):
    ...     other = make_problem(net, [1.0, 3.0])
    ...     other.clean is pb.clean
    True
    >>> make_problem(net, [1, 3]).clean is pb.clean
    False
    """
    if not isinstance(pb, Problem):
        raise InvalidArgument(f"pb: expected a Problem, got {type(pb).__name__}")
    outer = _SHARED.get()
    table = dict(outer or {})
    table[_share_key(pb.net, pb.X)] = pb
    token = _SHARED.set(table)
    try:
        yield pb
    finally:
        _SHARED.reset(token)


def _float_view(x):
    """``(float array, None)`` when every entry is a plain float or int, else ``(None, x)`` (exact values)."""
    if isinstance(x, np.ndarray) and x.dtype != object:
        return x, None
    try:
        a = np.asarray(x, dtype=object)
    except (TypeError, ValueError):
        return None, x
    plain = (float, int, np.floating, np.integer)
    if a.size and all(isinstance(v, plain) and not isinstance(v, bool) and
                      (not isinstance(v, (int, np.integer)) or abs(int(v)) <= 2 ** 53) for v in a.reshape(-1)):
        try:
            return np.asarray(x, dtype=float), None
        except (TypeError, ValueError, OverflowError):
            return None, x
    return None, x


def make_problem(net, x, model=None, *, loss=None, target=None, semantics: str | None = None,
                 where: str = "x") -> Problem:
    """Validate a network, its inputs, a failure model and a loss once (see the module docstring).

    Parameters
    ----------
    net : Network
    x : array_like
        One input or a batch (flat or shaped like the model's input); exact
        values (``"1/3"``, ``Fraction``, SymPy) are kept exactly.
    model : failure model, mapping, probability or None
        See :func:`as_model`.
    loss : {"squared", "zero_one", "cross_entropy"}, callable or None
    target : array_like or int, optional
        One target per input (a class index, or a vector for ``squared``).
    semantics : str, optional
        Crash semantics for mappings and bare probabilities.
    where : str
        The name of ``x`` in messages.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> make_problem(mean_network(2), [1, 2, 3])
    Traceback (most recent call last):
    ...
    symft.errors.InvalidArgument: x: expected 2 numbers (n_0 = 2), got 3
    """
    from .graph.network import Network

    if isinstance(x, Problem):
        raise InvalidArgument(f"{where}: expected inputs, got a Problem")
    if not isinstance(net, Network):
        raise InvalidArgument(f"net: expected a Network, got {type(net).__name__}")
    Xf, raw = _float_view(x)
    exact_given = None
    if raw is not None:
        rows, single = exact_inputs(net, raw, where)
        exact_given = tuple(tuple(r) for r in rows)
        X, _ = as_inputs(net, np.array([[float(v) for v in r] for r in rows], dtype=float), where)
    else:
        X, single = as_inputs(net, Xf, where)
    m = None if model is None else as_model(net, model, semantics)
    targets = _targets(net, loss, target, X.shape[0], single)
    return Problem(net, X, single, m, loss, targets, exact_given)


def _targets(net, loss, target, B, single):
    if loss is None:
        if target is not None:
            raise InvalidArgument("target: given without a loss; pass loss='squared' (or another) too")
        return None
    if not callable(loss) and loss not in LOSSES:
        raise InvalidArgument(f"loss: expected one of {', '.join(LOSSES)} or a callable, got {loss!r}")
    if target is None:
        raise InvalidArgument(f"target: loss {loss!r} needs a target" if not callable(loss)
                              else "target: the loss needs a target (None is not one)")
    ts = [target] if single else target
    if not single:
        if isinstance(target, (Integral, str)) or not hasattr(target, "__len__") or len(target) != B:
            raise InvalidArgument(f"target: expected one target per input ({B}) for a batch")
    out = []
    for b, t in enumerate(ts):
        where = "target" if single else f"target[{b}]"
        if loss == "squared":
            v = np.asarray(t, dtype=float).ravel()
            if v.shape != (net.n_outputs,):
                raise InvalidArgument(f"{where}: expected {net.n_outputs} numbers for the squared loss, got {v.size}")
            if not np.isfinite(v).all():
                raise InvalidArgument(f"{where}: expected finite numbers")
            out.append(t)
        elif loss in ("zero_one", "cross_entropy"):
            if isinstance(t, (float, np.floating)) and float(t).is_integer():
                t = int(t)
            if not isinstance(t, Integral) or isinstance(t, bool) or not 0 <= t < net.n_outputs:
                raise InvalidArgument(f"{where}: expected a class index 0 … {net.n_outputs - 1} for loss {loss!r}, "
                                      f"got {t!r}")
            out.append(int(t))
        else:
            out.append(t)
    return tuple(out)
