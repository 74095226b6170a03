r"""The exact engine: every crash configuration, exact moments and distributions.

Under Bernoulli neuron crashes (theory D3) at a set of crash sites (layers of
a chain, or any sites of a graph), with ``N`` neurons that may crash, the
output error ``Δ = y^{faulty} − y`` (D4) takes one value per crash
configuration ``s ⊆ {crashable neurons}``, with probability
``P(s) = Π_l p_l^{k_l} (1 − p_l)^{n_l − k_l}`` where ``k_l`` is the number of
crashed neurons of site ``l``.  This module evaluates all
``2^N`` configurations — the ground truth every approximate method of symft
is checked against:

* :func:`enumerate_crashes` — ``E Δ``, ``E Δ²``, ``Var Δ``, the standard
  deviation, the covariance across outputs and higher raw moments, for one
  input or a batch, in float64 (a vectorized pass with a fast path for one
  crashed layer) or exactly (rational arithmetic, on piecewise-linear
  networks with rational weights);
* :func:`error_distribution` — the law of Δ: its atoms and their
  probabilities (exact rationals when the network and ``p`` are rational);
* :func:`mean_polynomial` — ``E Δ`` (or ``E Δ²``) as a polynomial in ``p``,
  ``E Δ(p) = Σ_k p^k (1 − p)^{N−k} S_k`` with ``S_k`` the sum of the errors
  of the configurations with ``k`` crashes;
* :func:`single_crash_term` — bound b4 (theory §5): the exact contribution
  of the single-neuron crashes, ``Σ_i p (1 − p)^{n−1} Δ(e_i)``, from
  ``n_l`` forward passes;
* :func:`symft.engines.enclosure.enclosure` — certified intervals for
  networks too wide to enumerate (its own module).

Work that would explode is refused up front with
:class:`~symft.errors.TooLargeError` (an estimate of the configurations and
the time, and the options that would work), unless ``force=True``.

The loss change ``Δ_{L+1} = ω(ŷ_L, y*) − ω(y_L, y*)`` is handled by passing
``loss`` (``"squared"``, ``"zero_one"``, ``"cross_entropy"`` or a callable)
and ``target``.

Results are frozen value objects (:class:`ExactMoments`,
:class:`ErrorDistribution`, :class:`ErrorPolynomial`,
:class:`SingleCrashTerm`), each with a
``to_dict()`` (JSON numbers, exact values under ``<key>_exact``) and ``as_dict()`` (the command line's JSON: exact values as strings in place).  Shapes: one input gives arrays of
one entry per output; a batch ``(B, n_0)`` gives ``(B, n_out)`` (the CLI
prints a list per input).  Float results are computed in float64 over every
configuration (no sampling, no truncation); ``exact=True`` results are
rational (or polynomials in a symbolic p).

Examples
--------
>>> import sympy as sp
>>> from symft.graph.network import mean_network
>>> from symft.faults import NeuronCrash
>>> r = enumerate_crashes(mean_network(3), [1, 1, 1], NeuronCrash({0: sp.Rational(1, 10)}))
>>> r.mean, r.var          # E Δ = -p, Var Δ = p(1-p)/n (theory §4)
(array([-1/10], dtype=object), array([3/100], dtype=object))
>>> mean_polynomial(mean_network(3), [1, 1, 1], 0).expr()
-p
"""

from __future__ import annotations

import itertools
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from numbers import Integral
from typing import Callable, Mapping

import numpy as np

from .. import cost
from ..lazyimport import sympy as sp

from ..errors import FaultModelError, InvalidArgument, TooLargeError
from ..faults import NeuronCrash, site_order, site_key, site_of
from ..graph.numbers import to_fraction
from ..problem import as_model, make_problem
from ..progress import progress as _progress
from ..threads import limit_blas
from ..utils import json_number, jsonable, to_exact
from ..walk.configurations import Stage, consumer_columns, walk_configurations
from ..walk.numeric import Numeric, crash_values_float
from ..walk.rational import Rational, as_fractions, crash_values_rational
from ..walk.walker import walk
from .forward import forward_masked
from .losses import LOSSES, loss_functions
from ..results import latex_rows, result

__all__ = [
    "ExactMoments",
    "ErrorDistribution",
    "ErrorPolynomial",
    "SingleCrashTerm",
    "LOSSES",
    "MAX_CONFIGURATIONS",
    "EXACT_PIECES",
    "exact_blocks",
    "exact_block_groups",
    "merge_groups",
    "float_moments_input",
    "EXACT_AUTO_LIMIT",
    "count_configurations",
    "estimate_seconds",
    "enumeration_estimate",
    "CONFIGURATION_MACS",
    "enumerate_crashes",
    "error_distribution",
    "mean_polynomial",
    "single_crash_term",
    "node_cost",
    "exact_obstacle",
]

#: Default refusal limit (configurations × inputs) of the enumeration functions.
MAX_CONFIGURATIONS = 2 ** 22
#: With ``exact=None`` the rational engine is used only up to this many configurations × inputs.
EXACT_AUTO_LIMIT = 2 ** 14
#: Fixed work of one configuration (masks, bookkeeping), in multiply-adds, for the time model.
CONFIGURATION_MACS = 100
#: Losses known by name (``Δ_{L+1}``).
LOSSES = ("squared", "zero_one", "cross_entropy")
#: Memory budget of one chunk of configurations (bytes).
_CHUNK_BYTES = 4 * 2 ** 20


# =====================================================================================
# result objects
# =====================================================================================

@result
@dataclass(frozen=True, eq=False)
class ExactMoments:
    r"""Moments of the output error over every crash configuration.

    Arrays have one entry per output (``(n_out,)``), or, for a batch of
    ``B`` inputs, one row per input (``(B, n_out)``); covariances are
    ``(n_out, n_out)`` or ``(B, n_out, n_out)``.  With ``exact=True`` the
    arrays hold SymPy numbers (``dtype=object``); otherwise float64.

    Attributes
    ----------
    mean, second, var, std : ndarray
        ``E Δ``, ``E Δ²``, ``Var Δ = E Δ² − (E Δ)²`` and its square root.
    cov : ndarray
        ``Cov(Δ_j, Δ_k)`` across outputs.
    raw : dict {k: ndarray}
        Raw moments ``E Δ^k`` for ``k = 1 … moments``.
    configurations : int
        Crash configurations evaluated per input (``2^N``).
    seconds : float
        Wall time.
    method : str
        ``"enumeration"``.
    exact : bool
        Whether the values are exact (rational arithmetic).
    quantity : str
        ``"output"`` (``Δ_L``) or ``"loss"`` (``Δ_{L+1}``).
    layers : tuple of int
        The crashed layers.

    Examples
    --------
    >>> from symft.graph.network import first_input_network
    >>> r = enumerate_crashes(first_input_network(2), [3, 1], NeuronCrash({0: 0.5}))
    >>> r.mean, r.var, r.configurations, r.method
    (array([-1.5]), array([2.25]), 4, 'enumeration')
    >>> sorted(r.as_dict())[:4]
    ['configurations', 'cov', 'exact', 'layers']
    """

    mean: np.ndarray
    second: np.ndarray
    var: np.ndarray
    std: np.ndarray
    cov: np.ndarray
    raw: Mapping = field(repr=False)
    configurations: int = 0
    seconds: float = 0.0
    method: str = "enumeration"
    exact: bool = False
    quantity: str = "output"
    layers: tuple = ()

    def moment(self, k: int) -> np.ndarray:
        """The raw moment ``E Δ^k`` (computed when ``moments ≥ k`` was asked).

        Examples
        --------
        >>> from symft.graph.network import first_input_network
        >>> r = enumerate_crashes(first_input_network(1), [2], NeuronCrash({0: 0.5}), moments=3)
        >>> r.moment(3)
        array([-4.])
        """
        if k not in self.raw:
            raise InvalidArgument(f"k: moment {k} was not computed; pass moments={k} (have {sorted(self.raw)})")
        return self.raw[k]

    def _repr_latex_(self):
        r"""The exact moments as LaTeX (first input of a batch); ``None`` for float arithmetic.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> enumerate_crashes(mean_network(2), [1, 1], NeuronCrash({0: sp.Rational(1, 3)}))._repr_latex_()
        '$\\displaystyle \\begin{aligned}\\mathbb{E}\\,\\Delta_{0} &= - \\frac{1}{3} \\\\ \\operatorname{Var}\\Delta_{0} &= \\frac{1}{9}\\end{aligned}$'
        """
        if not self.exact:
            return None
        rows = []
        for k, (m, v) in enumerate(zip(np.atleast_2d(self.mean)[0], np.atleast_2d(self.var)[0])):
            rows += [(rf"\mathbb{{E}}\,\Delta_{{{k}}}", sp.latex(m)), (rf"\operatorname{{Var}}\Delta_{{{k}}}", sp.latex(v))]
        return latex_rows(rows)

    def as_dict(self) -> dict:
        """The command line's JSON-ready dict: ``mean``, ``var``, ``std``, ``second``, ``cov`` (lists; exact values as strings),
        ``method``, ``configurations``, ``seconds``, ``exact``, ``quantity``, ``layers``.

        Examples
        --------
        >>> from symft.graph.network import first_input_network
        >>> d = enumerate_crashes(first_input_network(1), [2], NeuronCrash({0: 0.5})).as_dict()
        >>> d["mean"], d["var"], d["method"]
        ([-1.0], [1.0], 'enumeration')
        """
        out = {"mean": _jsonable(self.mean), "var": _jsonable(self.var), "std": _jsonable(self.std),
               "second": _jsonable(self.second), "cov": _jsonable(self.cov),
               "method": self.method, "configurations": int(self.configurations),
               "seconds": float(self.seconds), "exact": bool(self.exact), "quantity": self.quantity,
               "layers": list(self.layers)}
        for k, v in sorted(self.raw.items()):
            if k > 2:
                out[f"moment{k}"] = _jsonable(v)
        return out


@result
@dataclass(frozen=True, eq=False)
class ErrorDistribution:
    r"""The law of the output error: atoms ``Δ`` (vectors over outputs) and their probabilities.

    Attributes
    ----------
    atoms : tuple of tuple
        Distinct values of ``Δ`` (one tuple of ``n_out`` numbers each),
        sorted; exact SymPy rationals when :attr:`exact`.
    probabilities : tuple
        ``P(Δ = atom)``; they sum to 1 (exactly, when exact).
    exact : bool
    configurations : int
        Crash configurations merged into these atoms.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> d = error_distribution(mean_network(2), [1, 1], NeuronCrash({0: sp.Rational(1, 2)}))
    >>> d.atoms, d.probabilities
    (((-1,), (-1/2,), (0,)), (1/4, 1/2, 1/4))
    >>> d.mean()
    (-1/2,)
    """

    atoms: tuple
    probabilities: tuple
    exact: bool = False
    configurations: int = 0

    def __len__(self):
        return len(self.atoms)

    def moment(self, k: int) -> tuple:
        """``E Δ^k`` per output, from the atoms.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> error_distribution(mean_network(2), [1, 1], NeuronCrash({0: sp.Rational(1, 2)})).moment(2)
        (3/8,)
        """
        n = len(self.atoms[0]) if self.atoms else 0
        zero = sp.Integer(0) if self.exact else 0.0
        return tuple(sum((w * a[j] ** k for a, w in zip(self.atoms, self.probabilities)), zero) for j in range(n))

    def mean(self) -> tuple:
        """``E Δ`` per output.

        Examples
        --------
        >>> from symft.graph.network import first_input_network
        >>> error_distribution(first_input_network(1), [4], NeuronCrash({0: 0.25})).mean()
        (-1.0,)
        """
        return self.moment(1)

    def marginal(self, output: int = 0) -> "ErrorDistribution":
        """The law of one output's error (atoms merged).

        Examples
        --------
        >>> from symft.graph.network import random_network
        >>> d = error_distribution(random_network([2, 2], seed=0, activation="relu"), [1, 1],
        ...                        NeuronCrash({0: 0.5}))
        >>> len(d.marginal(0).atoms[0])
        1
        """
        acc: dict = {}
        for a, w in zip(self.atoms, self.probabilities):
            acc[a[output]] = acc.get(a[output], 0) + w
        keys = sorted(acc, key=float)
        return ErrorDistribution(tuple((k,) for k in keys), tuple(acc[k] for k in keys), self.exact,
                                 self.configurations)

    def cdf(self, t, output: int = 0):
        """``P(Δ_output ≤ t)``.

        Examples
        --------
        >>> from symft.graph.network import first_input_network
        >>> error_distribution(first_input_network(1), [4], NeuronCrash({0: 0.25})).cdf(-1)
        0.25
        """
        zero = sp.Integer(0) if self.exact else 0.0
        return sum((w for a, w in zip(self.atoms, self.probabilities) if a[output] <= t), zero)

    def as_dict(self) -> dict:
        """JSON-ready: ``atoms`` (list of lists), ``probabilities``, ``exact``, ``configurations``.

        Examples
        --------
        >>> from symft.graph.network import first_input_network
        >>> error_distribution(first_input_network(1), [4], NeuronCrash({0: sp.Rational(1, 4)})).as_dict()["probabilities"]
        ['1/4', '3/4']
        """
        return {"atoms": [[_fmt(v) for v in a] for a in self.atoms],
                "probabilities": [_fmt(w) for w in self.probabilities],
                "exact": bool(self.exact), "configurations": int(self.configurations)}


@result
@dataclass(frozen=True, eq=False)
class ErrorPolynomial:
    r"""``E Δ^m`` as a polynomial in the crash probabilities (one per output).

    ``E Δ^m = Σ_κ Π_l p_l^{k_l} (1 − p_l)^{n_l − k_l} S_κ`` where ``κ = (k_l)``
    runs over the crash counts per layer and ``S_κ`` is the sum of ``Δ^m``
    over the configurations with those counts (:attr:`sums`).

    Attributes
    ----------
    exprs : tuple of sympy.Expr
        The expanded polynomial of each output.
    symbols : tuple of sympy.Symbol
        The probability symbols that appear (one shared ``p``, or one per layer).
    moment : int
        ``m`` (1 for the mean, 2 for the second moment).
    exact : bool
        Exact rational coefficients; ``False`` means float coefficients
        (smooth activations), accurate to about ``1e-12`` relative only.
    layers, widths : tuple
        The crashed layers and their widths.
    sums : dict {κ: tuple}
        The Bernstein-form coefficients ``S_κ``.
    probabilities : tuple
        The probability (symbol or number) of each crashed layer.

    Examples
    --------
    >>> from symft.graph.network import first_input_network
    >>> ep = mean_polynomial(first_input_network(2), [3, 5], 0)
    >>> ep.expr(), ep.coefficients(), ep.linear_term()
    (-3*p, [0, -3], -3)
    """

    exprs: tuple
    symbols: tuple
    moment: int
    exact: bool
    layers: tuple
    widths: tuple
    sums: Mapping = field(repr=False)
    probabilities: tuple = ()

    def _repr_latex_(self) -> str:
        r"""The polynomials as LaTeX.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> mean_polynomial(mean_network(2), [1, 1], 0)._repr_latex_()
        '$\\displaystyle \\begin{aligned}\\mathbb{E}\\,\\Delta_{0} &= - p\\end{aligned}$'
        """
        power = "" if self.moment == 1 else f"^{{{self.moment}}}"
        return latex_rows((rf"\mathbb{{E}}\,\Delta_{{{k}}}{power}", sp.latex(e)) for k, e in enumerate(self.exprs))

    def expr(self, output: int = 0) -> sp.Expr:
        """The polynomial of one output as an expression.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> mean_polynomial(mean_network(2), [1, 1], 0, moment=2).expr()
        p**2/2 + p/2
        """
        return self.exprs[self._out(output)]

    def poly(self, output: int = 0) -> sp.Poly:
        """The polynomial as a :class:`sympy.Poly` in :attr:`symbols`.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> mean_polynomial(mean_network(2), [1, 1], 0).poly().degree()
        1
        """
        return sp.Poly(self.expr(output), *self.symbols) if self.symbols else sp.Poly(self.expr(output),
                                                                                         sp.Symbol("p"))

    def coefficients(self, output: int = 0) -> list:
        """Coefficients in increasing powers of the (single) symbol: ``[c_0, c_1, …]``.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> mean_polynomial(mean_network(2), [1, 1], 0, moment=2).coefficients()
        [0, 1/2, 1/2]
        """
        if len(self.symbols) != 1:
            raise InvalidArgument(f"coefficients: expected a polynomial in one symbol, this one has "
                                  f"{len(self.symbols)} ({', '.join(map(str, self.symbols))}); use poly()")
        return list(reversed(self.poly(output).all_coeffs()))

    def linear_term(self, output: int = 0):
        """The coefficient of ``p`` (the single-crash sum of b4 for the mean).

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> mean_polynomial(mean_network(4), [1, 1, 1, 1], 0).linear_term()
        -1
        """
        c = self.coefficients(output)
        return c[1] if len(c) > 1 else sp.Integer(0)

    def __call__(self, values=None):
        """Evaluate at numbers, in the stable Bernstein form; returns a tuple (one per output).

        ``values``: a number (for one symbol) or a mapping ``{symbol: number}``.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> mean_polynomial(mean_network(2), [1, 1], 0)(sp.Rational(1, 3))
        (-1/3,)
        """
        probs = self._probs(values)
        tot = [sp.Integer(0)] * len(self.exprs)
        for kappa, s in self.sums.items():
            w = sp.Integer(1)
            for q, n, k in zip(probs, self.widths, kappa):
                w = w * q ** k * (1 - q) ** (n - k)
            tot = [t + w * v for t, v in zip(tot, s)]
        return tuple(sp.expand(t) if isinstance(t, sp.Basic) and t.free_symbols else t for t in tot)

    def _probs(self, values):
        if values is None:
            values = {}
        if not isinstance(values, Mapping):
            if not self.symbols:
                raise InvalidArgument("values: this polynomial has no symbols (its probabilities are numbers); "
                                      "call it without arguments")
            if len(self.symbols) != 1:
                raise InvalidArgument(f"values: expected a mapping {{symbol: value}} for {self.symbols}")
            values = {self.symbols[0]: values}
        vals = {}
        for k, v in values.items():
            key = sp.Symbol(k) if isinstance(k, str) else k
            match = [s for s in self.symbols if s == key or s.name == getattr(key, "name", None)]
            if not match:
                raise InvalidArgument(f"values: unknown symbol {k!r}; expected one of {self.symbols}")
            vals[match[0]] = to_exact(v, f"values[{k}]") if self.exact else v
        return [sp.sympify(q).xreplace(vals) if isinstance(q, sp.Basic) else q for q in self.probabilities]

    def _out(self, output):
        if not isinstance(output, Integral) or not 0 <= output < len(self.exprs):
            raise InvalidArgument(f"output: expected an index 0 … {len(self.exprs) - 1}, got {output!r}")
        return int(output)

    def __str__(self):
        label = "" if self.exact else "  [float coefficients]"
        return "\n".join(f"E Δ{'' if self.moment == 1 else '^' + str(self.moment)}[{k}] = {e}{label}"
                         for k, e in enumerate(self.exprs))


@result
@dataclass(frozen=True, eq=False)
class SingleCrashTerm:
    r"""Bound b4: the exact contribution of single-neuron crashes (theory §5).

    Attributes
    ----------
    deltas : dict {layer: ndarray}
        ``Δ(e_i)`` for each neuron ``i`` of each crashed layer, shape
        ``(n_l, n_out)`` (``(B, n_l, n_out)`` for a batch).
    sum_deltas : ndarray
        ``Σ_l Σ_i Δ(e_i)`` — with one shared ``p``, the coefficient of ``p``
        in ``E Δ(p)`` (the linear term of :func:`mean_polynomial`).
    mean : ndarray
        ``Σ_{(l,i)} P(only (l,i) crashes) Δ(e_i)``, i.e.
        ``Σ_i p(1−p)^{n−1} Δ(e_i)`` for one layer — the single-crash part
        of ``E Δ`` (exact, not an approximation of it).
    second : ndarray
        The same with ``Δ(e_i)²`` (single-crash part of ``E Δ²``).
    first_order : ndarray
        ``Σ_l p_l Σ_i Δ(e_i)``: the exact first-order term of ``E Δ`` in p.
    forward_passes : int
        Number of crashed forward passes (``Σ n_l`` per input).
    exact : bool

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> t = single_crash_term(mean_network(4), [1, 1, 1, 1], NeuronCrash({0: sp.Rational(1, 10)}))
    >>> t.sum_deltas, t.first_order, t.mean
    (array([-1], dtype=object), array([-1/10], dtype=object), array([-729/10000], dtype=object))
    """

    layers: tuple
    deltas: Mapping = field(repr=False)
    sum_deltas: np.ndarray = None
    mean: np.ndarray = None
    second: np.ndarray = None
    first_order: np.ndarray = None
    forward_passes: int = 0
    exact: bool = False


# =====================================================================================
# small helpers
# =====================================================================================

_fmt = json_number
_jsonable = jsonable


def _is_rational(q):
    if isinstance(q, (Fraction, Integral)) and not isinstance(q, bool):
        return True
    return isinstance(q, sp.Rational)


_frac = to_fraction


def _to_sympy(v):
    if isinstance(v, Fraction):
        return sp.Rational(v.numerator, v.denominator)
    return v


def _check_model(net, model, where="model") -> NeuronCrash:
    if isinstance(model, Integral) and not isinstance(model, bool):
        raise InvalidArgument(f"{where}: expected a NeuronCrash (e.g. NeuronCrash({{{model}: 0.01}})), "
                              f"got the integer {model}")
    if not isinstance(model, NeuronCrash):
        raise InvalidArgument(f"{where}: expected a NeuronCrash failure model, got {type(model).__name__}")
    return as_model(net, model)


def _symbolic_probs(model):
    return [l for l in model.layers if isinstance(model.probability(l), sp.Basic)
            and model.probability(l).free_symbols]


def _sizes(net, keys):
    return [net.site_size(k) for k in keys]


def count_configurations(net, model: NeuronCrash, order: int | None = None) -> int:
    r"""Number of crash configurations: ``2^N``, or those with at most ``order`` crashes.

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> net = random_network([3, 4, 1], seed=0)
    >>> count_configurations(net, NeuronCrash({0: 0.1, 1: 0.1}))
    128
    >>> count_configurations(net, NeuronCrash({0: 0.1, 1: 0.1}), order=1)
    8
    """
    model = _check_model(net, model)
    N = model.n_neurons(net)
    if order is None:
        return 2 ** N
    return sum(math.comb(N, j) for j in range(0, min(int(order), N) + 1))


def node_cost(node) -> int:
    """Multiply-adds of evaluating one node for one sample (the guard rails' unit of work).

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> node_cost(random_network([3, 4, 1], seed=0).node("z1"))
    12
    """
    if node.op.affine:
        return node.size * max(1, node.op.fan_in(node.in_shapes))
    if node.op.kind == "activation":
        return 4 * node.size
    if node.op.kind == "maxpool2d":
        return node.size * node.op.fan_in(node.in_shapes)
    return node.size


def _cost_per_configuration(net, sites):
    """Multiply-adds of one forward pass of the nodes downstream of the crashed sites."""
    if not sites:
        return 1
    return sum(node_cost(net.node(n)) for n in net.downstream([net.site(s) for s in sites])) + 1


def estimate_seconds(net, model: NeuronCrash, n_inputs: int = 1, *, exact: bool = False,
                     configurations: int | None = None) -> float:
    r"""The predicted wall time (seconds) of an enumeration (for the guard rails).

    ``configurations × n_inputs ×`` (the multiply-adds of a forward pass of
    the nodes downstream of the crashed sites + :data:`CONFIGURATION_MACS`),
    times the calibrated seconds per unit of :mod:`symft.cost` (paths
    ``"enumerate"`` and ``"enumerate_exact"``; see :func:`enumeration_estimate`).
    An order of magnitude, not a promise.

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> t = estimate_seconds(random_network([16, 20, 16, 1], seed=0), NeuronCrash({1: 0.1}))
    >>> 0.01 < t < 10
    True
    """
    return enumeration_estimate(net, model, n_inputs, exact=exact, configurations=configurations).seconds


def enumeration_estimate(net, model: NeuronCrash, n_inputs: int = 1, *, exact: bool = False,
                         configurations: int | None = None, path: str | None = None):
    r"""The predicted time (:class:`symft.cost.Estimate`) of evaluating crash configurations of ``model``.

    ``configurations`` defaults to every one (``2^N``); ``path`` to
    ``"enumerate_exact"`` or ``"enumerate"`` by ``exact`` (the enclosure
    passes ``"enclosure"``).

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> e = enumeration_estimate(random_network([16, 20, 16, 1], seed=0), NeuronCrash({1: 0.1}))
    >>> e.path, e.basis
    ('enumerate', '1,048,576 configurations')
    """
    model = _check_model(net, model)
    layers = model.layers
    if configurations is None:
        configurations = count_configurations(net, model) if layers else 0
    path = path or ("enumerate_exact" if exact else "enumerate")
    basis = f"{cost.format_count(configurations)} configurations" + (f" × {n_inputs} inputs" if n_inputs > 1 else "")
    if not layers:
        return cost.estimate(path, 0, basis)
    per = _cost_per_configuration(net, layers) + CONFIGURATION_MACS
    return cost.estimate(path, int(configurations) * int(n_inputs) * per, basis)


def _guard(net, model, n_inputs, max_configurations, force, exact, what="enumeration"):
    N = model.n_neurons(net)
    configs = 2 ** N
    if force:
        return configs
    est = enumeration_estimate(net, model, n_inputs, exact=exact, configurations=configs)
    limit, _ = cost.current_limit()
    if est.seconds > limit:
        k_ok = 0
        while k_ok < N and enumeration_estimate(net, model, n_inputs, configurations=count_configurations(
                net, model, k_ok + 1), path="enclosure").seconds <= limit:
            k_ok += 1
        alt = (f"a certified enclosure of order {k_ok} (--order {k_ok}, "
               f"{count_configurations(net, model, k_ok):.4g} configurations)" if k_ok else
               "a certified enclosure of a low order (--order 1)")
        cost.check(est, f"{what}: {N} neurons may crash, 2^{N} configurations",
                   f"use {alt}, sampling (symft sample), or force=True / --force")
    if max_configurations is not None and configs * n_inputs > max_configurations:
        est = estimate_seconds(net, model, n_inputs, exact=exact, configurations=configs)
        k_ok = 0
        while k_ok < N and count_configurations(net, model, k_ok + 1) * n_inputs <= max_configurations:
            k_ok += 1
        raise TooLargeError(
            f"{what}: {N} neurons may crash, 2^{N} = {configs:.4g} configurations"
            f"{f' × {n_inputs} inputs' if n_inputs > 1 else ''} exceed the limit of {max_configurations:.4g} "
            f"(estimated time ~{cost.format_seconds(est)}). Options: a certified enclosure "
            f"(symft.engines.enclosure.enclosure(..., order={max(k_ok, 1)}) / symft exact --order {max(k_ok, 1)}, "
            f"{count_configurations(net, model, max(k_ok, 1)):.4g} configurations), "
            f"sampling (symft sample), or force=True / --force to enumerate anyway"
        )
    return configs


def _popcount(a):
    a = np.asarray(a, dtype=np.int64)
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(a).astype(np.int64)
    out = np.zeros_like(a)
    while np.any(a):
        out += a & 1
        a = a >> 1
    return out


# =====================================================================================
# float engine
# =====================================================================================

def _weight_tables(net, model, layers):
    """pw[g][k] = p^k (1-p)^(n-k) in float64, per crashed site g."""
    tabs = []
    for l in layers:
        q = float(model.probability(l))
        n = net.site_size(l)
        k = np.arange(n + 1)
        with np.errstate(under="ignore"):
            tabs.append((q ** k) * ((1.0 - q) ** (n - k)))
    return tabs


@dataclass(frozen=True, eq=False)
class _Chunk:
    """Outputs of a chunk of configurations, with their crash counts and probabilities.

    Y (P, n_out).  Either ``w`` (P,) or the factorized ``(wa, wb)`` with
    ``P = len(wa) * len(wb)`` and row ``a * len(wb) + b`` of weight ``wa[a] wb[b]``.
    """

    Y: np.ndarray
    counts: np.ndarray
    w: np.ndarray | None = None
    wa: np.ndarray | None = None
    wb: np.ndarray | None = None

    def wsum(self, V):
        """Σ_rows weight · V  (V: (P, k)) -> (k,)."""
        if self.w is not None:
            return self.w @ V
        V3 = V.reshape(len(self.wa), len(self.wb) * V.shape[1])
        t = (self.wa @ V3).reshape(len(self.wb), V.shape[1])
        return self.wb @ t

    def probabilities(self):
        """The probability of each row (configuration), as one vector (P,)."""
        if self.w is not None:
            return self.w
        return (self.wa[:, None] * self.wb[None, :]).ravel()


def _fast_consumer(net, site):
    """The affine consumer of a lone crashed site that the split-half path can use, or None."""
    cons = net.consumers(site)
    if site == net.output or len(cons) != 1:
        return None
    c = net.node(cons[0])
    if not c.op.affine or c.inputs.count(site) != 1:
        return None
    return c


def _float_chunks(net, clean, model, layers, *, chunk_bytes=None):
    """Yield _Chunk objects over all configurations of one input (``clean``: its clean pass).

    One crashed site whose only consumer is affine uses the split-half fast
    path; otherwise the configurations go through the staged walk
    (:func:`symft.walk.configurations.walk_configurations`).
    """
    if chunk_bytes is None:
        chunk_bytes = _CHUNK_BYTES
    sem = model.semantics
    tabs = _weight_tables(net, model, layers)
    interp = Numeric(net, skip_linear=True, tall=True)
    if len(layers) == 1 and _fast_consumer(net, net.site(layers[0])) is not None:
        s = net.site(layers[0])
        c = _fast_consumer(net, s)
        n = net.site_size(s)
        q = float(model.probability(layers[0]))
        y = clean[s].reshape(-1)
        cval = crash_values_float(net, s, sem)
        d = y - cval
        cols = consumer_columns(net, s, c.name)                     # (n,) + c.shape
        cols = cols.reshape(n, -1)
        args = [cval.reshape((1,) + tuple(net.node(s).shape)) if i == s else clean[i] for i in c.inputs]
        base = c.op.apply(args, c.op.params("float"), c.in_shapes).reshape(-1)   # every neuron crashed
        hA = n // 2
        hB = n - hA
        idxA = np.arange(2 ** hA, dtype=np.int64)
        idxB = np.arange(2 ** hB, dtype=np.int64)
        bitsA = ((idxA[:, None] >> np.arange(hA)) & 1).astype(bool)
        bitsB = ((idxB[:, None] >> np.arange(hB)) & 1).astype(bool)
        # survivors contribute A e_i d_i (relative to every neuron crashed = base)
        PA = (~bitsA).astype(float) @ (cols[:hA] * d[:hA, None])           # (2^hA, size_c)
        PB = (~bitsB).astype(float) @ (cols[hA:] * d[hA:, None]) + base    # (2^hB, size_c)
        kA = bitsA.sum(axis=1)
        kB = bitsB.sum(axis=1)
        with np.errstate(under="ignore"):
            wA = q ** kA * (1.0 - q) ** (hA - kA)
            wB = q ** kB * (1.0 - q) ** (hB - kB)
        width = max(net.node(m).size for m in net.downstream([c.name]))
        per_a = 2 ** hB * width * 8 * 2
        ca = max(1, int(chunk_bytes // per_a))
        # one buffer for every chunk's pre-activations: a fresh multi-megabyte array per chunk costs page
        # faults (the allocator maps and unmaps it), which made this loop up to 1.7x slower in some processes
        buf = np.empty((min(ca, 2 ** hA), 2 ** hB, PA.shape[1]))
        after = net.consumers(c.name)
        if len(after) == 1 and after[0] != net.output and net.node(after[0]).op.kind == "activation":
            # the activation after c may evaluate in place, in buf (not the output: a chunk's Y must not
            # change when the next chunk is computed)
            interp.overwrite = frozenset(after)
        for a0 in range(0, 2 ** hA, ca):
            a1 = min(2 ** hA, a0 + ca)
            Z = np.add(PA[a0:a1, None, :], PB[None, :, :], out=buf[:a1 - a0]).reshape((-1,) + tuple(c.shape))
            Y = walk(net, interp, None, known=clean, overrides={c.name: Z}, keep=False)
            counts = (kA[a0:a1, None] + kB[None, :]).reshape(-1, 1)
            yield _Chunk(Y.reshape(Z.shape[0], -1), counts, wa=wA[a0:a1], wb=wB)
        return
    stages = [Stage(net.site(l), crash=crash_values_float(net, l, sem), all_subsets=net.site_size(l))
              for l in layers]
    for Y, choice in walk_configurations(net, clean, stages, interp, chunk_bytes=chunk_bytes):
        counts = _popcount(choice)
        yield _Chunk(Y, counts, w=_chunk_weights(tabs, counts))


def _chunk_weights(tabs, counts):
    w = tabs[0][counts[:, 0]]
    for j in range(1, len(tabs)):
        w = w * tabs[j][counts[:, j]]
    return w


def _one_clean(pb, b):
    """The clean pass of input ``b`` alone (every node, leading axis 1)."""
    return {n: v[b:b + 1] for n, v in pb.clean.values.items()}


def float_moments_input(net, model, layers, moments, job) -> tuple:
    r"""One input's float64 enumeration (a piece :func:`enumerate_crashes` hands to a runner).

    ``job`` is ``(clean, lossf)``: the input's clean pass (every node, leading axis 1) and the loss or
    ``None``.  Returns ``(mean, second, var, cov, raw moments)`` exactly as the in-process loop computes them.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> from symft.problem import make_problem
    >>> net, m = mean_network(2), NeuronCrash({0: 0.5})
    >>> pb = make_problem(net, [1.0, 1.0], m)
    >>> clean = {n: v[0:1] for n, v in pb.clean.values.items()}
    >>> float(float_moments_input(net, m, ["0"], 2, (clean, None))[0][0])     # E Δ = −p
    -0.5
    """
    clean, lossf = job
    return _float_moments_one(net, clean, model, layers, moments, lossf, None)


def _float_moments_one(net, clean, model, layers, moments, lossf, bar):
    out = clean[net.output].reshape(1, -1)
    clean_out = out[0]
    clean_q = lossf(out)[0] if lossf else None
    n_out = 1 if lossf else net.n_outputs
    S = {k: np.zeros(n_out) for k in range(1, moments + 1)}
    C = np.zeros((n_out, n_out))
    for ch in _float_chunks(net, clean, model, layers):
        Y = ch.Y
        if lossf:
            D = (lossf(Y) - clean_q)[:, None]
        else:
            D = Y - clean_out
        S[1] += ch.wsum(D)
        if n_out > 1:
            C += (D * ch.probabilities()[:, None]).T @ D
        D2 = D * D
        S[2] += ch.wsum(D2)
        Dk = D2
        for k in range(3, moments + 1):
            Dk = Dk * D
            S[k] += ch.wsum(Dk)
        if bar is not None:
            bar.update(Y.shape[0])
    if n_out == 1:
        C = S[2][:, None].copy()
    mean, second = S[1], S[2]
    Ccov = C - np.outer(mean, mean)
    var = np.maximum(second - mean ** 2, 0.0)
    return mean, second, var, Ccov, {k: S[k] for k in range(1, moments + 1)}


# =====================================================================================
# exact (rational) engine
# =====================================================================================

def _exact_capable(net):
    """Reason string why the rational engine cannot run, or None (every node is evaluated exactly)."""
    for node in net.activation_nodes:
        if node.op.act.rational_fn is None:
            return (f"node {node.name!r}'s activation {node.op.act.name!r} is not piecewise linear with "
                    "rational pieces") if not net.is_chain else (
                f"layer {net.as_chain().sites.index(node.name)}'s activation {node.op.act.name!r} is not "
                "piecewise linear with rational pieces")
    if net.free_symbols:
        return f"the network has symbolic weights {sorted(map(str, net.free_symbols))} (use net.subs)"
    return None


def exact_obstacle(net):
    """Why rational enumeration cannot evaluate ``net``, or None (every node is evaluated exactly).

    It needs every activation piecewise linear with rational pieces and no
    symbolic weight.

    Examples
    --------
    >>> from symft.graph.network import mean_network, random_network
    >>> exact_obstacle(mean_network(2)) is None
    True
    >>> exact_obstacle(random_network([2, 2, 1], seed=0))
    "layer 1's activation 'tanh' is not piecewise linear with rational pieces"
    """
    return _exact_capable(net)


def _exact_row(pb, b):
    """Input ``b`` as Fractions (binary values of floats, exact values as given)."""
    row = pb.exact_rows[b]
    for c, e in enumerate(row):
        if not e.is_Rational:
            where = f"x[{c}]" if pb.single else f"x[{b}][{c}]"
            raise InvalidArgument(f"{where}: expected a rational number for exact evaluation, got {e}")
    return as_fractions(np.array([row], dtype=object).reshape((1,) + tuple(pb.net.input_shape)))


def _exact_grouped(net, xrow, model, layers, *, moments=2, cross=True, atoms=False, lossx=None, bar=None,
                   block=None):
    """Per crash-count vector κ: number of configs, Σ Δ^k (k ≤ moments), Σ Δ Δᵀ, atom counts.

    ``block = (c0, c1)``: only the configurations whose crashes at the first layer are the subsets
    ``c0 … c1 − 1`` (bit ``i`` of the subset: neuron ``i`` crashed).
    """
    interp = Rational(net)
    clean = walk(net, interp, xrow)
    out0 = list(np.asarray(clean[net.output]).reshape(-1))
    clean_q = (lossx(out0),) if lossx else tuple(out0)
    groups: dict = {}
    stages = [Stage(net.site(l), crash=crash_values_rational(net, l, model.semantics), all_subsets=net.site_size(l))
              for l in layers]
    if block is not None:
        c0, c1 = block
        st = stages[0]
        stages[0] = Stage(st.site, crash=st.crash, masks=st.mask_rows(c0, c1, int(st.all_subsets)))
    for Y, choice in walk_configurations(net, clean, stages, interp, item_bytes=64):
        if block is not None:
            choice = np.array(choice, dtype=np.int64)
            choice[:, 0] += block[0]                 # back to the subset's bits
        counts = _popcount(choice)
        for row, kap in zip(Y, counts):
            kappa = tuple(int(v) for v in kap)
            q = (lossx(list(row)),) if lossx else tuple(row)
            delta = tuple(a - b for a, b in zip(q, clean_q))
            g = groups.get(kappa)
            if g is None:
                n = len(delta)
                g = groups[kappa] = {"count": 0, "S": {k: [Fraction(0)] * n for k in range(1, moments + 1)},
                                     "C": [[Fraction(0)] * n for _ in range(n)] if cross else None,
                                     "atoms": Counter() if atoms else None}
            g["count"] += 1
            for k in range(1, moments + 1):
                Sk = g["S"][k]
                for j, v in enumerate(delta):
                    if v:
                        Sk[j] += v ** k
            if cross and len(delta) > 1:
                C = g["C"]
                for a, va in enumerate(delta):
                    if va:
                        for c, vc in enumerate(delta):
                            if vc:
                                C[a][c] += va * vc
            if atoms:
                g["atoms"][delta] += 1
        if bar is not None:
            bar.update(Y.shape[0])
    return groups


#: Pieces of configurations per input the rational enumeration hands to a runner (a fixed split).
EXACT_PIECES = 16


def exact_blocks(net, layers) -> list:
    r"""The blocks ``(c0, c1)`` of first-layer crash subsets the rational enumeration is split into.

    At most :data:`EXACT_PIECES` blocks of about equal size, covering ``0 … 2^{n_1} − 1`` (``n_1`` the
    size of the first crashed layer); every configuration lies in exactly one.

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> exact_blocks(random_network([2, 5, 1], seed=0), ["1"])
    [(0, 2), (2, 4), (4, 6), (6, 8), (8, 10), (10, 12), (12, 14), (14, 16), (16, 18), (18, 20), (20, 22), (22, 24), (24, 26), (26, 28), (28, 30), (30, 32)]
    """
    total = 2 ** net.site_size(layers[0])
    n = min(total, EXACT_PIECES)
    cut = [total * i // n for i in range(n + 1)]
    return [(cut[i], cut[i + 1]) for i in range(n)]


def exact_block_groups(net, model, layers, moments, job) -> dict:
    r"""One piece of the rational enumeration: the sums per crash-count vector over one block of configurations.

    ``job`` is ``(xrow, lossx, (c0, c1))`` (an input as Fractions, the loss or ``None``, a block of
    :func:`exact_blocks`).  Exact rational sums: :func:`merge_groups` of the blocks is the enumeration of
    all configurations, whatever the order.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> net, m = mean_network(2), NeuronCrash({0: Fraction(1, 2)})
    >>> x = np.array([[Fraction(1), Fraction(1)]], dtype=object)
    >>> parts = [exact_block_groups(net, m, ["0"], 2, (x, None, b)) for b in exact_blocks(net, ["0"])]
    >>> g = merge_groups(parts)
    >>> sorted((k, v["count"], v["S"][1][0]) for k, v in g.items())      # Δ = −(crashed)/2
    [((0,), 1, Fraction(0, 1)), ((1,), 2, Fraction(-1, 1)), ((2,), 1, Fraction(-1, 1))]
    """
    xrow, lossx, block = job
    return _exact_grouped(net, xrow, model, layers, moments=max(moments, 2), cross=True, lossx=lossx, block=block)


def merge_groups(parts) -> dict:
    r"""The groups of :func:`exact_block_groups` pieces added up (counts, sums, cross sums, atoms: exact).

    Examples
    --------
    >>> a = {(1,): {"count": 1, "S": {1: [Fraction(1, 2)]}, "C": None, "atoms": None}}
    >>> merge_groups([a, a])[(1,)]["S"][1]
    [Fraction(1, 1)]
    """
    out: dict = {}
    for part in parts:
        for kappa, g in part.items():
            h = out.get(kappa)
            if h is None:
                out[kappa] = {"count": g["count"], "S": {k: list(v) for k, v in g["S"].items()},
                              "C": [list(r) for r in g["C"]] if g["C"] is not None else None,
                              "atoms": Counter(g["atoms"]) if g["atoms"] is not None else None}
                continue
            h["count"] += g["count"]
            for k, v in g["S"].items():
                h["S"][k] = [a + b for a, b in zip(h["S"][k], v)]
            if g["C"] is not None:
                h["C"] = [[a + b for a, b in zip(ra, rb)] for ra, rb in zip(h["C"], g["C"])]
            if g["atoms"] is not None:
                h["atoms"].update(g["atoms"])
    return out


def _kappa_weight(probs, widths, kappa, exact_numbers):
    if exact_numbers:
        w = Fraction(1)
        for q, n, k in zip(probs, widths, kappa):
            w *= q ** k * (1 - q) ** (n - k)
        return w
    w = sp.Integer(1)
    for q, n, k in zip(probs, widths, kappa):
        w = w * q ** k * (1 - q) ** (n - k)
    return w


def _exact_probs(model, layers):
    """Fractions when every p is a number (floats read exactly), else SymPy values."""
    ps = [model.probability(l) for l in layers]
    if all(not (isinstance(q, sp.Basic) and q.free_symbols) for q in ps):
        return [_frac(q) for q in ps], True
    return [sp.sympify(q) if not isinstance(q, float) else sp.Rational(q) for q in ps], False


def _exact_moments_one(net, xrow, model, layers, moments, lossx, bar, groups=None):
    if groups is None:
        groups = _exact_grouped(net, xrow, model, layers, moments=max(moments, 2), cross=True, lossx=lossx, bar=bar)
    probs, numeric = _exact_probs(model, layers)
    widths = _sizes(net, layers)
    n_out = len(next(iter(groups.values()))["S"][1])
    zero = Fraction(0) if numeric else sp.Integer(0)
    S = {k: [zero] * n_out for k in range(1, max(moments, 2) + 1)}
    C = [[zero] * n_out for _ in range(n_out)]
    for kappa, g in groups.items():
        w = _kappa_weight(probs, widths, kappa, numeric)
        for k in S:
            S[k] = [a + w * _sp_or_frac(b, numeric) for a, b in zip(S[k], g["S"][k])]
        if n_out > 1:
            for a in range(n_out):
                for b in range(n_out):
                    C[a][b] += w * _sp_or_frac(g["C"][a][b], numeric)
    conv = (lambda v: _to_sympy(v)) if numeric else (lambda v: sp.expand(v))
    mean = [conv(v) for v in S[1]]
    second = [conv(v) for v in S[2]]
    if n_out == 1:
        C = [[S[2][0]]]
    cov = [[conv(C[a][b]) - mean[a] * mean[b] for b in range(n_out)] for a in range(n_out)]
    if not numeric:
        cov = [[sp.expand(v) for v in row] for row in cov]
    var = [sp.expand(s - m ** 2) if not numeric else s - m ** 2 for s, m in zip(second, mean)]
    raw = {k: [conv(v) for v in S[k]] for k in range(1, moments + 1)}
    return mean, second, var, cov, raw


# =====================================================================================
# public API
# =====================================================================================

def _sp_or_frac(v, numeric):
    return v if numeric else _to_sympy(v)


def _obj(rows):
    a = np.empty(np.shape(rows) if not isinstance(rows, np.ndarray) else rows.shape, dtype=object)
    flat = a.reshape(-1)
    for i, v in enumerate(np.asarray(rows, dtype=object).reshape(-1)):
        flat[i] = v
    return a


def _sqrt_exact(v):
    return sp.sqrt(v) if isinstance(v, sp.Basic) else sp.sqrt(sp.sympify(v))


def _problem(net, x, model, loss, target, where="model"):
    """One Problem for the enumeration functions (NeuronCrash models only)."""
    model = _check_model(net, model, where)
    return make_problem(net, x, model, loss=loss, target=target)


def _lossfs(pb):
    if pb.loss is None:
        return [(None, None)] * pb.B
    return [loss_functions(pb.loss, pb.target(b), pb.net.n_outputs) for b in range(pb.B)]


def _decide_exact(net, model, layers, exact, n_inputs, lossx_ok=True):
    configs = 2 ** model.n_neurons(net)
    reason = _exact_capable(net) if layers else None
    if not lossx_ok:
        reason = reason or "the loss has no exact form (use 'squared' or 'zero_one')"
    symbolic = bool(_symbolic_probs(model))
    if exact is None:
        if symbolic:
            exact = True
        else:
            exact = (reason is None and net.kind == "exact"
                     and all(_is_rational(model.probability(l)) for l in layers)
                     and configs * n_inputs <= EXACT_AUTO_LIMIT)
    if exact and reason is not None:
        raise InvalidArgument(f"exact: rational enumeration impossible: {reason}; use exact=False (float64)")
    if symbolic and not exact:
        raise FaultModelError(f"p of layer {_symbolic_probs(model)[0]} is symbolic; use exact=True "
                              "(or mean_polynomial) for a result in p")
    return bool(exact)


@limit_blas
def enumerate_crashes(net, x, model: NeuronCrash, *, loss=None, target=None, moments: int = 2,
                      exact: bool | None = None, force: bool = False, progress: bool | None = None,
                      max_configurations: int | None = MAX_CONFIGURATIONS, runner=None) -> ExactMoments:
    r"""Exact moments of the error over all ``2^N`` crash configurations.

    Parameters
    ----------
    net : Network
    x : array_like
        One input ``(n_0,)`` or a batch ``(B, n_0)``.  For exact evaluation
        entries may be ints, ``Fraction``, strings ``"1/3"`` or SymPy
        rationals; floats are read as the binary rationals they hold.
    model : NeuronCrash
        Crash probabilities per layer (input, hidden, output, several at
        once) and the crash semantics.  Probabilities may be floats, exact
        rationals, or SymPy symbols (then ``exact`` is implied and the
        moments are polynomials in them).
    loss : {"squared", "zero_one", "cross_entropy"} or callable, optional
        Report the loss change ``Δ_{L+1} = ω(ŷ_L, y*) − ω(y_L, y*)`` instead
        of ``Δ_L``.  ``squared``: ``Σ_k (y_k − t_k)²``; ``zero_one``:
        ``[argmax y ≠ t]``; ``cross_entropy``: ``−log softmax(y)_t``; a
        callable gets ``(outputs (P, n_L), target)`` and returns ``(P,)``.
    target : array_like or int, optional
        ``y*`` (a vector for ``squared``, a class index otherwise); one per
        input for a batch.
    moments : int
        Highest raw moment ``E Δ^k`` to compute (≥ 2).
    exact : bool or None
        ``True``: rational arithmetic (piecewise-linear activations with
        rational pieces, rational weights).  ``False``: float64.  ``None``
        (default): exact when the network is rational and piecewise linear,
        every p is rational (or symbolic) and there are at most
        :data:`EXACT_AUTO_LIMIT` configurations × inputs; float64 otherwise.
        The result's ``exact`` says which.
    force : bool
        Enumerate even above ``max_configurations``.
    progress : bool or None
        Show a progress bar on stderr (``None``: when stderr is a terminal).
    max_configurations : int or None
        Refuse (``TooLargeError``) when ``2^N × B`` exceeds it (the rational
        engine refuses above ``min(max_configurations, 2^16)``).

    runner : callable, optional
        Where the independent pieces run: ``runner(piece, items, shared)`` returns
        ``[piece(*shared, item) for item in items]`` in order (:mod:`symft.distributed` runs them on a
        cluster).  Rational: blocks of configurations (:func:`exact_blocks`) whose exact sums are added
        up; float64: one input each.  Either way the answer is the in-process one.

    Returns
    -------
    ExactMoments

    Raises
    ------
    TooLargeError
        Too many configurations; the message gives the count, a time estimate,
        and the alternatives (an enclosure order, sampling, ``force``).

    Notes
    -----
    Float path: the configurations are processed in chunks (bounded
    memory).  With one crashed layer ``l < L`` the layer is split into two
    halves A, B: the next pre-activation is
    ``W_A (ŷ_A) + W_B (ŷ_B) + b``, so the ``2^{|A|}`` and ``2^{|B|}``
    partial sums are computed once and combined by broadcasting — the cost
    per configuration is one addition per neuron of layer ``l + 1`` plus
    the rest of the network, close to the floor of evaluating the
    activations.  Otherwise chunks of masks go through
    :func:`symft.engines.forward.forward_masked`.  Probabilities are grouped by
    crash counts, ``P(s) = Π_l p_l^{k_l}(1 − p_l)^{n_l − k_l}``.

    Examples
    --------
    >>> from symft.graph.network import mean_network, random_network
    >>> import sympy as sp
    >>> p = sp.Symbol("p")
    >>> enumerate_crashes(mean_network(2), [1, 1], NeuronCrash({0: p})).var
    array([-p**2/2 + p/2], dtype=object)
    >>> net = random_network([3, 4, 2], seed=0)
    >>> r = enumerate_crashes(net, [[0.1, 0.2, 0.3], [1, 0, -1]], NeuronCrash({1: 0.1}))
    >>> r.mean.shape, r.cov.shape, r.configurations
    ((2, 2), (2, 2, 2), 16)
    """
    t0 = time.perf_counter()
    if not isinstance(moments, Integral) or moments < 2:
        raise InvalidArgument(f"moments: expected an integer ≥ 2, got {moments!r}")
    pb = _problem(net, x, model, loss, target)
    model = pb.model
    layers = model.layers
    B, single = pb.B, pb.single
    n_out = 1 if loss is not None else net.n_outputs
    lossfs = _lossfs(pb)
    exact = _decide_exact(net, model, layers, exact, B, lossx_ok=loss is None or lossfs[0][1] is not None)
    configs = _guard(net, model, B, max_configurations if not exact else _exact_limit(max_configurations),
                     force, exact)
    results = []
    if runner is not None and layers:
        # independent pieces: a block of configurations of one input (rational: exact sums, merged in any
        # order), or one input (float64: its whole enumeration, as here)
        if exact:
            blocks = exact_blocks(net, layers)
            jobs = [(_exact_row(pb, b), lossfs[b][1], blk) for b in range(B) for blk in blocks]
            parts = runner(exact_block_groups, jobs, (net, model, layers, moments))
            for b in range(B):
                groups = merge_groups(parts[b * len(blocks):(b + 1) * len(blocks)])
                results.append(_exact_moments_one(net, None, model, layers, moments, None, None, groups=groups))
        else:
            jobs = [(_one_clean(pb, b), lossfs[b][0]) for b in range(B)]
            results = runner(float_moments_input, jobs, (net, model, layers, moments))
    else:
        with _progress(configs * B, "enumerating crash configurations", enabled=progress) as bar:
            for b in range(B):
                if not layers:
                    z = np.zeros(n_out)
                    results.append((z, z, z, np.zeros((n_out, n_out)), {k: z for k in range(1, moments + 1)}))
                    bar.update(1)
                    continue
                if exact:
                    results.append(_exact_moments_one(net, _exact_row(pb, b), model, layers, moments, lossfs[b][1], bar))
                else:
                    results.append(_float_moments_one(net, _one_clean(pb, b), model, layers, moments, lossfs[b][0],
                                                      bar))
    if exact:
        if not layers:
            results = [tuple(_obj(np.vectorize(sp.Integer, otypes=[object])(np.asarray(r, dtype=int)))
                             if not isinstance(r, dict) else {k: _obj([sp.Integer(0)] * n_out) for k in r}
                             for r in res) for res in results]
        mean = _obj([r[0] for r in results])
        second = _obj([r[1] for r in results])
        var = _obj([r[2] for r in results])
        cov = _obj([r[3] for r in results])
        std = np.vectorize(_sqrt_exact, otypes=[object])(var) if var.size else var
        raw = {k: _obj([r[4][k] for r in results]) for k in range(1, moments + 1)}
    else:
        mean = np.array([r[0] for r in results])
        second = np.array([r[1] for r in results])
        var = np.array([r[2] for r in results])
        cov = np.array([r[3] for r in results])
        std = np.sqrt(var)
        raw = {k: np.array([r[4][k] for r in results]) for k in range(1, moments + 1)}
    if single:
        mean, second, var, std, cov = mean[0], second[0], var[0], std[0], cov[0]
        raw = {k: v[0] for k, v in raw.items()}
    return ExactMoments(mean=mean, second=second, var=var, std=std, cov=cov, raw=raw,
                        configurations=configs if layers else 1, seconds=time.perf_counter() - t0,
                        method="enumeration", exact=exact, quantity="loss" if loss is not None else "output",
                        layers=tuple(layers))


def _exact_limit(max_configurations):
    if max_configurations is None:
        return None
    return min(max_configurations, 2 ** 16)


@limit_blas
def error_distribution(net, x, model: NeuronCrash, *, loss=None, target=None, exact: bool | None = None,
                       decimals: int | None = None, force: bool = False, progress: bool | None = None,
                       max_configurations: int | None = 2 ** 20):
    r"""The full distribution of the error: atoms (values of Δ) and their probabilities.

    Parameters
    ----------
    net, x, model, loss, target, force, progress, max_configurations
        As in :func:`enumerate_crashes`.  ``x`` may be a batch: then a tuple
        of distributions, one per input, is returned.
    exact : bool or None
        Rational atoms and probabilities (``None``: when the network is
        rational and piecewise linear and every p is rational).
    decimals : int, optional
        Float mode only: round atoms to this many decimals before merging
        (merges values that differ by rounding noise).  By default only
        bit-identical atoms are merged.

    Returns
    -------
    ErrorDistribution or tuple of ErrorDistribution

    Examples
    --------
    >>> from symft.graph.network import first_input_network
    >>> d = error_distribution(first_input_network(3), [2, 5, 7], NeuronCrash({0: sp.Rational(1, 10)}))
    >>> d.atoms, d.probabilities      # Δ = -x_1 when x_1 crashes, else 0 (erratum E3)
    (((-2,), (0,)), (1/10, 9/10))
    """
    pb = _problem(net, x, model, loss, target)
    model = pb.model
    layers = model.layers
    if _symbolic_probs(model):
        raise FaultModelError("p: the distribution needs numeric probabilities; use mean_polynomial for p symbolic")
    B, single = pb.B, pb.single
    lossfs = _lossfs(pb)
    exact = _decide_exact(net, model, layers, exact, B, lossx_ok=loss is None or lossfs[0][1] is not None)
    configs = _guard(net, model, B, max_configurations if not exact else _exact_limit(max_configurations),
                     force, exact, "distribution")
    n_out = 1 if loss is not None else net.n_outputs
    out = []
    with _progress(configs * B, "enumerating crash configurations", enabled=progress) as bar:
        for b in range(B):
            if not layers:
                z = (sp.Integer(0),) * n_out if exact else (0.0,) * n_out
                out.append(ErrorDistribution((z,), (sp.Integer(1) if exact else 1.0,), exact, 1))
                continue
            if exact:
                groups = _exact_grouped(net, _exact_row(pb, b), model, layers, moments=1, cross=False, atoms=True,
                                        lossx=lossfs[b][1], bar=bar)
                probs, _ = _exact_probs(model, layers)
                widths = _sizes(net, layers)
                acc: dict = {}
                for kappa, g in groups.items():
                    w = _kappa_weight(probs, widths, kappa, True)
                    for a, c in g["atoms"].items():
                        acc[a] = acc.get(a, 0) + c * w
                keys = sorted(acc)
                out.append(ErrorDistribution(tuple(tuple(_to_sympy(v) for v in a) for a in keys),
                                             tuple(_to_sympy(acc[a]) for a in keys), True, configs))
            else:
                lossf = lossfs[b][0]
                cl = _one_clean(pb, b)
                clean = cl[net.output].reshape(-1)
                clean_q = lossf(clean[None, :])[0] if lossf else None
                acc = {}
                for ch in _float_chunks(net, cl, model, layers):
                    Y = ch.Y
                    D = (lossf(Y) - clean_q)[:, None] if lossf else Y - clean
                    if decimals is not None:
                        D = np.round(D, decimals) + 0.0
                    w = ch.probabilities()
                    uniq, inv = np.unique(D, axis=0, return_inverse=True)
                    ws = np.bincount(inv.ravel(), weights=w, minlength=len(uniq))
                    for row, wv in zip(map(tuple, uniq.tolist()), ws.tolist()):
                        acc[row] = acc.get(row, 0.0) + wv
                    bar.update(Y.shape[0])
                keys = sorted(acc)
                out.append(ErrorDistribution(tuple(keys), tuple(acc[a] for a in keys), False, configs))
    return out[0] if single else tuple(out)


def _polynomial_layers(net, crash, p):
    """-> (layers, probabilities per layer (symbols or numbers), symbols)."""
    if isinstance(crash, NeuronCrash):
        crash.check(net)
        layers = crash.layers
        probs = [crash.probability(l) for l in layers]
        if p is not None:
            raise InvalidArgument("p: give the symbols inside the NeuronCrash, or pass layers and p")
    else:
        if isinstance(crash, Integral) and not isinstance(crash, bool):
            crash = [crash]
        if isinstance(crash, str):
            crash = [crash]
        if isinstance(crash, Mapping):
            keyed = {site_key(k, "crash"): v for k, v in crash.items()}
            layers = sorted(keyed, key=site_order)
            probs = [keyed[l] for l in layers]
        else:
            try:
                layers = sorted({site_key(l, "crash") for l in crash}, key=site_order)
            except (TypeError, FaultModelError):
                raise InvalidArgument("crash: expected a NeuronCrash, a layer, a list of layers or a mapping "
                                      "{layer: symbol}") from None
            sym = sp.Symbol("p") if p is None else (sp.Symbol(p) if isinstance(p, str) else p)
            probs = [sym] * len(layers)
        for l in layers:
            try:
                site_of(net, l, "crash")
            except FaultModelError as e:
                raise InvalidArgument(str(e)) from None
    # the one float→rational rule: a float probability is the binary rational it holds
    probs = [sp.Rational(q) if isinstance(q, float) else q for q in probs]
    syms = []
    for q in probs:
        if isinstance(q, sp.Basic):
            for s in sorted(q.free_symbols, key=str):
                if s not in syms:
                    syms.append(s)
    return tuple(layers), tuple(probs), tuple(syms)


@limit_blas
def mean_polynomial(net, x, crash, *, p=None, moment: int = 1, exact: bool | None = None, loss=None,
                    target=None, semantics: str = "output_zero", force: bool = False,
                    progress: bool | None = None,
                    max_configurations: int | None = 2 ** 16) -> ErrorPolynomial:
    r"""``E Δ`` (or ``E Δ^moment``) as a polynomial in the crash probability.

    Grouping the configurations by the number of crashes,
    ``E Δ(p) = Σ_k p^k (1 − p)^{N − k} S_k`` with ``S_k`` the sum of ``Δ``
    over the configurations with ``k`` crashes; with several crashed layers
    the counts are per layer.  The linear coefficient is ``Σ_i Δ(e_i)``,
    the single-crash sum of b4 (:func:`single_crash_term`).

    Parameters
    ----------
    net : Network
    x : array_like
        One input.
    crash : NeuronCrash, int, sequence of int, or mapping {layer: symbol}
        Which layers crash.  With layers only, every one gets the symbol
        ``p`` (a shared probability); a mapping or a ``NeuronCrash`` may give
        one symbol per layer (or numbers).
    p : str or sympy.Symbol, optional
        The shared symbol (default ``p``).
    moment : int
        1 for ``E Δ``, 2 for ``E Δ²``, …
    exact : bool or None
        Rational coefficients via rational arithmetic (default when the
        network is rational and piecewise linear).  ``False`` (forced for
        smooth activations): float coefficients, labelled ``exact=False``.
    loss, target
        Polynomial of the loss change ``Δ_{L+1}`` (see :func:`enumerate_crashes`).
    semantics : {"output_zero", "incoming_zeroed"}
    force, progress, max_configurations
        Guard rails, as in :func:`enumerate_crashes` (default limit ``2^16``).

    Returns
    -------
    ErrorPolynomial

    Examples
    --------
    >>> from symft.graph.network import mean_network, random_network
    >>> mean_polynomial(mean_network(3), [1, 1, 1], 0, moment=2).expr()   # Var = p(1-p)/3: E Δ² = p/3 + 2p²/3
    2*p**2/3 + p/3
    >>> net = random_network([2, 3, 1], seed=0, rational_denominator=4, activation="relu")
    >>> ep = mean_polynomial(net, [1, -1], {0: "q", 1: "p"})
    >>> ep.symbols
    (q, p)
    >>> mean_polynomial(random_network([2, 2, 1], seed=0), [1, 1], 1).exact    # tanh: float coefficients
    False
    """
    if not isinstance(moment, Integral) or moment < 1:
        raise InvalidArgument(f"moment: expected a positive integer, got {moment!r}")
    if isinstance(crash, Mapping):
        crash = {l: (sp.Symbol(v, nonnegative=True) if isinstance(v, str) else v) for l, v in crash.items()}
    layers, probs, syms = _polynomial_layers(net, crash, p)
    if isinstance(crash, NeuronCrash):
        semantics = crash.semantics
    # a model with harmless numeric placeholders to drive the enumeration and the guard rails
    model = NeuronCrash({l: sp.Rational(1, 2) for l in layers}, semantics)
    pb = make_problem(net, x, model, loss=loss, target=target)
    if not pb.single:
        raise InvalidArgument("x: mean_polynomial takes one input; call it once per input")
    lossf, lossx = _lossfs(pb)[0]
    reason = _exact_capable(net) if layers else None
    if loss is not None and lossx is None:
        reason = reason or f"the loss {loss!r} has no exact form"
    if exact is None:
        exact = reason is None
    if exact and reason is not None:
        raise InvalidArgument(f"exact: rational coefficients impossible: {reason}; use exact=False")
    configs = _guard(net, model, 1, max_configurations, force, exact, "polynomial")
    widths = tuple(_sizes(net, layers))
    n_out = 1 if loss is not None else net.n_outputs
    sums: dict = {}
    if not layers:
        sums[()] = (sp.Integer(0),) * n_out
    elif exact:
        with _progress(configs, "enumerating crash configurations", enabled=progress) as bar:
            groups = _exact_grouped(net, _exact_row(pb, 0), model, layers, moments=moment, cross=False, lossx=lossx,
                                    bar=bar)
        for kappa, g in groups.items():
            sums[kappa] = tuple(_to_sympy(v) for v in g["S"][moment])
    else:
        cl = _one_clean(pb, 0)
        clean = cl[net.output].reshape(-1)
        clean_q = lossf(clean[None, :])[0] if lossf else None
        radix = [w + 1 for w in widths]
        n_groups = int(np.prod(radix))
        acc = np.zeros((n_groups, n_out))
        with _progress(configs, "enumerating crash configurations", enabled=progress) as bar:
            for ch in _float_chunks(net, cl, model, layers):
                Y, counts = ch.Y, ch.counts
                D = (lossf(Y) - clean_q)[:, None] if lossf else Y - clean
                kidx = np.zeros(len(D), dtype=np.int64)
                for j, r in enumerate(radix):
                    kidx = kidx * r + counts[:, j]
                Dm = D ** moment
                for o in range(n_out):
                    acc[:, o] += np.bincount(kidx, weights=Dm[:, o], minlength=n_groups)
                bar.update(len(D))
        for g_idx in range(n_groups):
            kappa = []
            rem = g_idx
            for r in reversed(radix):
                kappa.append(rem % r)
                rem //= r
            sums[tuple(reversed(kappa))] = tuple(sp.Float(v) for v in acc[g_idx])
    exprs = []
    for o in range(n_out):
        e = sp.Integer(0)
        for kappa, s in sums.items():
            if s[o] == 0:
                continue
            w = sp.Integer(1)
            for q, n, k in zip(probs, widths, kappa):
                q = sp.sympify(q)
                w = w * q ** k * (1 - q) ** (n - k)
            e += w * s[o]
        exprs.append(sp.expand(e))
    return ErrorPolynomial(tuple(exprs), syms, int(moment), bool(exact), layers, widths, sums,
                           tuple(sp.sympify(q) for q in probs))


@limit_blas
def single_crash_term(net, x, crash, *, exact: bool | None = None, loss=None, target=None) -> SingleCrashTerm:
    r"""Bound b4 (theory §5): the exact contribution of the single-neuron crashes.

    For each crashable neuron ``i`` one crashed forward pass gives ``Δ(e_i)``
    (``n_l`` passes per layer, vectorized).  For one crashed layer,
    ``E Δ = Σ_i p(1 − p)^{n − 1} Δ(e_i) + (configurations with ≥ 2 crashes)``;
    the first term is :attr:`SingleCrashTerm.mean` and its first order in p,
    ``p Σ_i Δ(e_i)``, is :attr:`SingleCrashTerm.first_order` — exact to
    first order with no derivative (compare T1's ``p Σ_i ∂y/∂ξ_i``).  With
    several layers the probability of "only neuron (l, i) crashes" is
    ``p_l (1 − p_l)^{n_l − 1} Π_{l' ≠ l} (1 − p_{l'})^{n_{l'}}``.

    Parameters
    ----------
    net : Network
    x : array_like
        One input or a batch.
    crash : NeuronCrash or int
        The crash model, or a layer (then p stays the symbol ``p``).
    exact : bool or None
        Rational arithmetic (default: when possible and the network is rational).
    loss, target
        Use the loss change ``Δ_{L+1}`` (see :func:`enumerate_crashes`).

    Examples
    --------
    >>> from symft.graph.network import first_input_network
    >>> t = single_crash_term(first_input_network(3), [2, 5, 7], 0)
    >>> t.deltas[0].ravel(), t.mean
    (array([-2, 0, 0], dtype=object), array([-2*p*(1 - p)**2], dtype=object))
    """
    if isinstance(crash, Integral) and not isinstance(crash, bool):
        crash = NeuronCrash({int(crash): sp.Symbol("p", nonnegative=True)})
    pb = _problem(net, x, crash, loss, target, "crash")
    model = pb.model
    layers = model.layers
    B, single = pb.B, pb.single
    lossfs = _lossfs(pb)
    reason = _exact_capable(net) if layers else None
    if loss is not None and lossfs[0][1] is None:
        reason = reason or "the loss has no exact form"
    symbolic = bool(_symbolic_probs(model))
    if exact is None:
        exact = reason is None and net.kind == "exact"
    if exact and reason is not None:
        raise InvalidArgument(f"exact: {reason}; use exact=False")
    n_out = 1 if loss is not None else net.n_outputs
    deltas = {}
    if exact:
        interp = Rational(net)
        for l in layers:
            s = net.site(l)
            n = net.site_size(s)
            st = Stage(s, crash=crash_values_rational(net, l, model.semantics), combos=np.arange(n)[:, None])
            per = []
            for b in range(B):
                lossx = lossfs[b][1]
                clean = walk(net, interp, _exact_row(pb, b))
                out0 = list(np.asarray(clean[net.output]).reshape(-1))
                cq = (lossx(out0),) if lossx else tuple(out0)
                rows_l = [None] * n
                for Y, choice in walk_configurations(net, clean, [st], interp, item_bytes=64):
                    for row, c in zip(Y, choice[:, 0]):
                        q = (lossx(list(row)),) if lossx else tuple(row)
                        rows_l[int(c)] = [_to_sympy(a - v) for a, v in zip(q, cq)]
                per.append(rows_l)
            deltas[l] = _obj(per)
    else:
        clean = pb.clean.output
        for l in layers:
            n = net.site_size(l)
            masks = {l: np.eye(n, dtype=bool)}
            Y = forward_masked(net, pb.X, masks, semantics=model.semantics, trace=pb.clean)  # (n, B, n_out)
            per = []
            for b in range(B):
                lossf = lossfs[b][0]
                if lossf:
                    per.append((lossf(Y[:, b, :]) - lossf(clean[b][None, :])[0])[:, None])
                else:
                    per.append(Y[:, b, :] - clean[b])
            deltas[l] = np.array(per)
    probs = [model.probability(l) for l in layers]
    if exact or symbolic:
        probs = [sp.sympify(q) if not isinstance(q, float) else sp.Rational(q) for q in probs]
    widths = _sizes(net, layers)
    none_w = [(1 - q) ** n for q, n in zip(probs, widths)]
    zero = sp.Integer(0) if (exact or symbolic) else 0.0
    sum_d = np.full((B, n_out), zero, dtype=object if (exact or symbolic) else float)
    mean = np.full((B, n_out), zero, dtype=sum_d.dtype)
    second = np.full((B, n_out), zero, dtype=sum_d.dtype)
    first = np.full((B, n_out), zero, dtype=sum_d.dtype)
    for j, l in enumerate(layers):
        D = deltas[l]  # (B, n_l, n_out)
        w = probs[j] * (1 - probs[j]) ** (widths[j] - 1)
        for jj in range(len(layers)):
            if jj != j:
                w = w * none_w[jj]
        s = D.sum(axis=1)
        sum_d = sum_d + s
        mean = mean + w * s
        second = second + w * (D * D).sum(axis=1)
        first = first + probs[j] * s
    if single:
        deltas = {l: d[0] for l, d in deltas.items()}
        sum_d, mean, second, first = sum_d[0], mean[0], second[0], first[0]
    return SingleCrashTerm(tuple(layers), deltas, sum_d, mean, second, first,
                           forward_passes=sum(widths) * B, exact=bool(exact))

