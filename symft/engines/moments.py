r"""The mean and variance of the output error from the best source available: one verb over every engine.

``E Δ`` and ``Var Δ`` (theory D4, under Bernoulli neuron crashes D3) can come
from several engines, which differ in cost and in how far their numbers can
be trusted.  :func:`moments` is the one place that chooses among them
(``method="auto"``) or runs the one asked for; :func:`symft.analysis.certify.certify`,
:func:`symft.analysis.report.check` and :func:`symft.analysis.report.compare`
all call it.  It returns a frozen :class:`Moments`: which method ran, its
rigour label, the numbers (intervals, or points) and notes saying what was
tried and why.

=================  ========================  =============  =====================================
``method=``        what runs                 label          certificate ``source``
=================  ========================  =============  =====================================
``"rational"``     rational enumeration      exact          ``"exact"``
``"enclosure"``    certified enclosure       rigorous       ``"enclosure"`` (``"estimate"`` for a
                                                            network float64 does not hold)
``"taylor"``       T1 + remainder bound      rigorous       ``"taylor+remainder"`` (``"taylor"``,
                                                            an estimate, without a remainder)
``"float"``        float64 enumeration       estimate       ``"estimate"``
``"t1"``           T1 alone (first order)    estimate       ``"taylor"``
``"monte-carlo"``  Monte Carlo               statistical    ``"monte-carlo"``
``"enumeration"``  rational, else float64    by what ran    by what ran
=================  ========================  =============  =====================================

**The rule of** ``method="auto"`` — the first of these that applies (``among``
restricts the list; a step that fails — too large, not defined on this graph,
not implemented — is noted and skipped):

1. **rational enumeration** (exact) when :func:`rational_obstacle` finds none:
   every activation piecewise linear with rational pieces, no symbolic
   weight, numeric probabilities, at most ``2^16`` configurations and an
   estimated time of at most :data:`RATIONAL_SECONDS`;
2. the **enclosure** (rigorous: floating-point error included) when the
   network as given is the float64 network it evaluates
   (:func:`float_rounding` is None), of order ``order``, raised to the
   largest order within ``configurations`` when that is given;
3. **T1 plus its rigorous remainder** (rigorous when the remainder exists:
   smooth activations, no kink the crashes can cross);
4. otherwise the best estimate: a **float64 enumeration**, else **T1
   alone** (the result of step 3 without its remainder), else **Monte
   Carlo** (``samples`` draws, ``seed``; a confidence interval for the
   mean, an estimate of the variance).

Probabilities given as floats are read as the decimals they print as
(``0.1`` is 1/10) for every exact or rigorous method (:func:`exact_model`),
inputs given exactly (``"1/3"``) are kept exactly, and floats everywhere
else are the binary rationals they hold.

Examples
--------
>>> from symft.graph.network import mean_network, random_network
>>> from symft.faults import NeuronCrash
>>> m = moments(mean_network(4), [1, 1, 1, 1], NeuronCrash({0: 0.1}))
>>> m.method, m.label, m.mean, m.var          # E Δ = −p, Var Δ = p(1 − p)/n (theory §4)
('rational enumeration', 'exact', (-1/10,), (9/400,))
>>> m = moments(random_network([3, 8, 2], seed=0), [0.5, -1.0, 2.0], {1: 0.01})
>>> m.method, m.label, bool(m.mean_lo[0] <= m.mean[0] <= m.mean_hi[0])
('enclosure', 'rigorous', True)
"""

from __future__ import annotations

from typing import ClassVar

import dataclasses
import math
import warnings
from dataclasses import dataclass, field
from fractions import Fraction
from numbers import Integral

import numpy as np
import sympy as sp

from ..errors import InvalidArgument, TooLargeError
from ..faults import NeuronCrash
from ..graph.numbers import is_float_array, to_fraction
from ..problem import Problem, make_problem, sharing
from ..results import latex_rows, result
from ..rounding import rounded
from ..utils import fraction_down, fraction_up
from . import enclosure as _enc
from . import enumeration as _enum

__all__ = [
    "moments",
    "Moments",
    "NoSourceError",
    "METHODS",
    "AUTO_ORDER",
    "RIGOROUS_SOURCES",
    "APPROXIMATE_SOURCES",
    "RATIONAL_SECONDS",
    "exact_moments",
    "enclosure_moments",
    "taylor_moments",
    "exact_model",
    "rational_obstacle",
    "float_rounding",
    "float_up",
    "float_down",
]

#: The methods :func:`moments` knows (``"auto"`` chooses among :data:`AUTO_ORDER`).
METHODS = ("auto", "rational", "enclosure", "taylor", "float", "t1", "monte-carlo", "enumeration")
#: The order in which ``method="auto"`` tries the sources (see the module docstring).
AUTO_ORDER = ("rational", "enclosure", "taylor", "float", "t1", "monte-carlo")
#: Sources of moments that may back a rigorous certificate: exact moments, rigorous
#: enclosures, T1 plus a proved remainder bound, or user moments declared as bounds.
RIGOROUS_SOURCES = ("exact", "enclosure", "taylor+remainder", "bounds")
#: Sources that can only back an approximate certificate.
APPROXIMATE_SOURCES = ("taylor", "monte-carlo", "estimate")
#: Rational enumeration runs in ``"auto"`` when its estimated time is at most this many seconds.
RATIONAL_SECONDS = 1.0
#: Monte Carlo sample size of ``"auto"``'s last resort (and of ``method="monte-carlo"`` by default).
SAMPLES = 100_000

_LONG = {"rational": "rational enumeration", "enclosure": "enclosure", "taylor": "T1 + remainder",
         "float": "float enumeration", "t1": "T1 alone", "monte-carlo": "Monte Carlo",
         "enumeration": "enumeration"}
_LABELS = {"exact": "exact", "enclosure": "rigorous", "taylor+remainder": "rigorous", "bounds": "rigorous",
           "monte-carlo": "statistical"}


class NoSourceError(InvalidArgument):
    """No method of :func:`moments` could give the moments; ``notes`` holds each one's reason (also in the message).

    Examples
    --------
    >>> e = NoSourceError("moments: no source", ("float enumeration: not used (too large)",))
    >>> e.notes, isinstance(e, ValueError)
    (('float enumeration: not used (too large)',), True)
    """

    def __init__(self, message: str, notes=()):
        super().__init__(message)
        self.notes = tuple(notes)


# ---------------------------------------------------------------------- outward rounding

def float_up(q) -> float:
    """The smallest float ``≥ q`` (outward rounding of an upper bound; ``inf`` beyond the float64 range).

    Examples
    --------
    >>> float_up(Fraction(1, 3)) >= Fraction(1, 3), float_up(Fraction(1, 2)), float_up(Fraction(10 ** 400))
    (True, 0.5, inf)
    """
    return fraction_up(to_fraction(q))


def float_down(q) -> float:
    """The largest float ``≤ q`` (``-inf`` below the float64 range).

    Examples
    --------
    >>> float_down(Fraction(1, 3)) <= Fraction(1, 3), float_down(Fraction(-10 ** 400))
    (True, -inf)
    """
    return fraction_down(to_fraction(q))


def float_nearest(q) -> float:
    """The float nearest ``q``; ``±inf`` beyond the float64 range (as IEEE rounding overflows).

    Examples
    --------
    >>> float_nearest(Fraction(1, 3)) == 1 / 3, float_nearest(Fraction(-10 ** 400))
    (True, -inf)
    """
    q = to_fraction(q)
    try:
        return float(q)
    except OverflowError:
        return math.inf if q > 0 else -math.inf


# ---------------------------------------------------------------------- the value object

def _tuple(v):
    if v is None:
        return None
    if isinstance(v, (int, float, Fraction, sp.Basic)):
        return (v,)
    return tuple(np.asarray(v, dtype=object).ravel().tolist()) if isinstance(v, np.ndarray) else tuple(v)


def _mid(lo, hi):
    if lo == hi:
        return lo
    if isinstance(lo, float) or isinstance(hi, float):
        return 0.5 * (float(lo) + float(hi))
    return (lo + hi) / 2


@result
@dataclass(frozen=True)
class Moments:
    r"""``E Δ`` and ``Var Δ`` for each output ``k``, where they came from and how far to trust them.

    ``mean_lo[k] ≤ E Δ_k ≤ mean_hi[k]`` and ``var_lo[k] ≤ Var Δ_k ≤ var_hi[k]``
    — proved when :attr:`label` is ``"exact"`` or ``"rigorous"``; a confidence
    interval for the mean (and an estimate of the variance) when it is
    ``"statistical"``; point estimates when it is ``"estimate"``.

    Attributes
    ----------
    mean_lo, mean_hi, var_hi : tuple
        Bounds (exact values, as SymPy rationals, for rational enumeration).
    source : str
        In the certificates' words (:data:`RIGOROUS_SOURCES`,
        :data:`APPROXIMATE_SOURCES`): ``"exact"``, ``"enclosure"``,
        ``"taylor+remainder"``, ``"taylor"``, ``"estimate"``, ``"monte-carlo"``
        or ``"bounds"`` (moments you supply, declared as bounds).
    note : str
        What the numbers are, when that needs saying (e.g. which value float64 rounded).
    var_lo : tuple
        Lower bounds of the variance (default 0).
    second_lo, second_hi : tuple or None
        Bounds of ``E Δ_k²`` when the method gives them.
    mean, var : tuple
        Point values: exact, the T1 value, the estimate, or the midpoint of
        the interval (default).
    method : str
        What ran: ``"rational enumeration"``, ``"enclosure"``,
        ``"taylor+remainder"``, ``"float enumeration"``, ``"taylor"`` (T1
        alone), ``"monte-carlo"``, or ``""`` for moments you supply.
    notes : tuple of str
        How the source was chosen: what was tried before and why it was not used.
    seed : int or None
        The seed of a Monte Carlo run.
    distribution : ErrorDistribution or None
        The law of ``Δ`` when an enumeration ran with ``distribution=True``
        (not part of equality).

    Examples
    --------
    >>> m = Moments.point([0.0], [1e-4], "estimate")
    >>> m.mean_hi, m.rigorous, m.label
    ((0.0,), False, 'estimate')
    >>> Moments((-1.0,), (1.0,), (4.0,), "enclosure").mean
    (0.0,)
    """

    #: Properties that :meth:`to_dict` keeps besides the fields.
    dict_extra: ClassVar[tuple] = ("label", "rigorous")

    mean_lo: tuple
    mean_hi: tuple
    var_hi: tuple
    source: str
    note: str = ""
    var_lo: tuple = None
    second_lo: tuple = None
    second_hi: tuple = None
    mean: tuple = None
    var: tuple = None
    method: str = ""
    notes: tuple = ()
    seed: int = None
    distribution: object = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        for name in ("mean_lo", "mean_hi", "var_hi", "var_lo", "second_lo", "second_hi", "mean", "var"):
            object.__setattr__(self, name, _tuple(getattr(self, name)))
        n = len(self.mean_lo)
        if not (n == len(self.mean_hi) == len(self.var_hi)) or not n:
            raise InvalidArgument("moments: mean_lo, mean_hi and var_hi must have the same non-zero length")
        if self.source not in RIGOROUS_SOURCES + APPROXIMATE_SOURCES:
            raise InvalidArgument(f"source: expected one of {RIGOROUS_SOURCES + APPROXIMATE_SOURCES}, "
                                  f"got {self.source!r}")
        if self.var_lo is None:
            object.__setattr__(self, "var_lo", (0,) * n)
        if self.mean is None:
            object.__setattr__(self, "mean", tuple(_mid(a, b) for a, b in zip(self.mean_lo, self.mean_hi)))
        if self.var is None:
            object.__setattr__(self, "var", tuple(_mid(a, b) for a, b in zip(self.var_lo, self.var_hi)))
        object.__setattr__(self, "notes", tuple(self.notes))

    @classmethod
    def point(cls, mean, var, source: str, note: str = "", **kw) -> "Moments":
        """Point values (``mean_lo = mean_hi``, ``var_lo = var_hi``).

        Examples
        --------
        >>> Moments.point([1.0, 2.0], [0.1, 0.2], "exact").var_hi
        (0.1, 0.2)
        """
        mean, var = _tuple(mean), _tuple(var)
        return cls(mean, mean, var, source, note, var_lo=var, mean=mean, var=var, **kw)

    @property
    def rigorous(self) -> bool:
        """Whether the source can back a rigorous certificate (exact or rigorous).

        Examples
        --------
        >>> Moments.point([0], [0], "taylor").rigorous
        False
        """
        return self.source in RIGOROUS_SOURCES

    @property
    def label(self) -> str:
        """``"exact"``, ``"rigorous"``, ``"estimate"`` or ``"statistical"``.

        Examples
        --------
        >>> Moments.point([0], [0], "monte-carlo").label, Moments.point([0], [0], "exact").label
        ('statistical', 'exact')
        """
        return _LABELS.get(self.source, "estimate")

    def _repr_latex_(self):
        r"""Exact moments as LaTeX; ``None`` unless :attr:`label` is ``"exact"`` (the table shows the rest).

        Examples
        --------
        >>> Moments.point([Fraction(1, 3)], [Fraction(2, 9)], "exact")._repr_latex_()
        '$\\displaystyle \\begin{aligned}\\mathbb{E}\\,\\Delta_{0} &= \\frac{1}{3} \\\\ \\operatorname{Var}\\Delta_{0} &= \\frac{2}{9}\\end{aligned}$'
        """
        if self.label != "exact":
            return None
        rows = []
        for k, (m, v) in enumerate(zip(self.mean_hi, self.var_hi)):
            rows += [(rf"\mathbb{{E}}\,\Delta_{{{k}}}", sp.latex(sp.sympify(m))),
                     (rf"\operatorname{{Var}}\Delta_{{{k}}}", sp.latex(sp.sympify(v)))]
        return latex_rows(rows)

    def floats(self) -> dict:
        r"""The numbers as float64 arrays, bounds rounded outward (``mean``/``var``: to nearest).

        Keys ``mean_lo``, ``mean_hi``, ``var_lo``, ``var_hi``, ``mean``, ``var``,
        and ``second_lo``, ``second_hi`` when known.

        Examples
        --------
        >>> m = Moments.point([Fraction(1, 3)], [Fraction(2, 9)], "exact")
        >>> f = m.floats()
        >>> bool(f["mean_lo"][0] <= Fraction(1, 3) <= f["mean_hi"][0]), bool(f["mean"][0] == 1 / 3)
        (True, True)
        """
        def arr(vals, rnd):
            return np.array([v if isinstance(v, float) else rnd(v) for v in vals], dtype=float)

        out = {"mean_lo": arr(self.mean_lo, float_down), "mean_hi": arr(self.mean_hi, float_up),
               "var_lo": arr(self.var_lo, float_down), "var_hi": arr(self.var_hi, float_up),
               "mean": arr(self.mean, float_nearest), "var": arr(self.var, float_nearest)}
        if self.second_lo is not None:
            out["second_lo"] = arr(self.second_lo, float_down)
            out["second_hi"] = arr(self.second_hi, float_up)
        return out

    def as_dict(self) -> dict:
        """JSON-ready dictionary (exact values as strings).

        Examples
        --------
        >>> d = Moments.point([Fraction(1, 3)], [0.5], "exact", method="rational enumeration").as_dict()
        >>> d["mean"], d["label"], d["method"]
        (['1/3'], 'exact', 'rational enumeration')
        """
        def j(v):
            return None if v is None else [x if isinstance(x, (int, float)) else str(x) for x in v]

        return {"method": self.method, "label": self.label, "source": self.source,
                "mean": j(self.mean), "var": j(self.var), "mean_lo": j(self.mean_lo), "mean_hi": j(self.mean_hi),
                "var_lo": j(self.var_lo), "var_hi": j(self.var_hi), "note": self.note, "notes": list(self.notes),
                "seed": self.seed}


# ---------------------------------------------------------------------- what each source needs

def exact_model(model) -> NeuronCrash:
    """The model with float probabilities read as the decimals they print as (``1e-3`` is 1/1000).

    This is how every exact or rigorous method of :func:`moments` reads a
    probability typed as a float (the Monte Carlo sampler draws with the
    float itself, which is the same float).

    Examples
    --------
    >>> exact_model(NeuronCrash({1: 0.1})).probability(1)
    1/10
    """
    p = {l: (sp.Rational(repr(float(q))) if isinstance(q, float) else q) for l, q in model.p}
    return NeuronCrash(p, model.semantics)


def rational_obstacle(net, model, seconds: float | None = None):
    """Why rational enumeration does not run under ``method="auto"``, or None.

    It needs every activation piecewise linear with rational pieces, numeric
    weights (:func:`symft.engines.enumeration.exact_obstacle`) and
    probabilities, at most ``2^16`` configurations and an estimated time of at
    most ``seconds`` (default :data:`RATIONAL_SECONDS`).

    Examples
    --------
    >>> from symft.graph.network import mean_network, random_network
    >>> rational_obstacle(mean_network(3), NeuronCrash({0: 0.1})) is None
    True
    >>> rational_obstacle(mean_network(20), NeuronCrash({0: 0.1}))
    '2^20 configurations exceed its limit of 2^16'
    """
    reason = _enum.exact_obstacle(net)
    if reason is not None:
        return reason
    if any(isinstance(q, sp.Basic) and q.free_symbols for _, q in model.p):
        return "p is symbolic"
    N = model.n_neurons(net)
    if N > 16:
        return f"2^{N} configurations exceed its limit of 2^16"
    limit = RATIONAL_SECONDS if seconds is None else seconds
    t = _enum.estimate_seconds(net, model, exact=True)
    if t > limit:
        return f"estimated {t:.2g} s, above {limit:g} s"
    return None


def float_rounding(net):
    """Why the float64 network differs from the network as given (a parameter float64 cannot hold), or None.

    The float engines (enclosure, float enumeration, Monte Carlo) evaluate the
    float64 rounding of every stored parameter; an enclosure is rigorous for
    the network as given only when that rounding changes nothing.  (Inputs
    given exactly, e.g. ``"1/10"``, are not a reason: the enclosure
    certifies them as given.)  Any graph: every array of every op is read.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> float_rounding(mean_network(2)) is None, float_rounding(mean_network(3))
    (True, 'weight 1/3 of layer 1 is not a float64 value')
    """
    if net.free_symbols:
        return "the network has symbolic weights"
    layer = {}
    if net.is_chain:
        layer = {lay.dense: l for l, lay in enumerate(net.as_chain().layers, start=1)}
    for name in net.order:
        op = net.node(name).op
        if op.is_float:
            continue
        for arr in op.arrays:
            a = getattr(op, arr)
            if a is None or is_float_array(a):
                continue
            for v in a.reshape(-1):
                q = to_fraction(v, f"{name}.{arr}")
                if Fraction(float(q)) != q:
                    where = f"of layer {layer[name]}" if name in layer else f"of node {name!r}"
                    return f"{arr} {v} {where} is not a float64 value"
    return None


# ---------------------------------------------------------------------- the problem

def _problem(net, x, model, method):
    """``(problem, method)``: a Problem is accepted first (then ``x`` may be the method)."""
    if isinstance(net, Problem):
        if isinstance(x, str) and model is None and method == "auto":
            method = x
        elif x is not None or model is not None:
            raise InvalidArgument("x, model: give either a Problem or (net, x, model), not both")
        pb = net
    else:
        pb = make_problem(net, x, model)
    if not isinstance(pb.model, NeuronCrash):
        got = "no failure model" if pb.model is None else type(pb.model).__name__
        raise InvalidArgument(f"model: the moments need a NeuronCrash (independent neuron crashes), got {got}")
    if pb.B != 1:
        raise InvalidArgument(f"x: the moments are computed for one input at a time, got a batch of {pb.B}")
    if method not in METHODS:
        raise InvalidArgument(f"method: expected one of {', '.join(map(repr, METHODS))}, got {method!r}")
    return pb, method


def _given_x(pb):
    """The input as given: exact values (SymPy) when it was given exactly, else the floats."""
    if pb.exact_given is not None:
        return list(pb.exact_rows[0])
    return [float(v) for v in pb.X[0]]


def _outputs(v, n):
    a = np.asarray(v, dtype=object).ravel()
    if a.size != n:
        raise InvalidArgument(f"internal: expected {n} values, got {a.size}")
    return tuple(a.tolist())


def _rational(v):
    return isinstance(v, (Integral, Fraction, sp.Rational)) and not isinstance(v, bool)


# ---------------------------------------------------------------------- the sources

_FLOAT_NOTE = "float enumeration: float64 rounding errors not bounded (not exact, not rigorous)"


def _from_distribution(dist, n, exact):
    """(mean, var, second) per output from an :class:`ErrorDistribution`."""
    if exact:
        probs = [to_fraction(q) for q in dist.probabilities]
        atoms = [[to_fraction(v) for v in a] for a in dist.atoms]
        mean = [sum((p * a[k] for p, a in zip(probs, atoms)), Fraction(0)) for k in range(n)]
        second = [sum((p * a[k] * a[k] for p, a in zip(probs, atoms)), Fraction(0)) for k in range(n)]
        var = [sum((p * (a[k] - mean[k]) ** 2 for p, a in zip(probs, atoms)), Fraction(0)) for k in range(n)]
        sym = lambda vs: tuple(sp.Rational(v.numerator, v.denominator) for v in vs)  # noqa: E731
        return sym(mean), sym(var), sym(second)
    atoms = np.array(dist.atoms, dtype=float).reshape(len(dist.atoms), n)
    probs = np.array([float(q) for q in dist.probabilities])
    mean = (probs[:, None] * atoms).sum(axis=0)
    var = (probs[:, None] * (atoms - mean) ** 2).sum(axis=0)
    second = (probs[:, None] * atoms * atoms).sum(axis=0)
    return tuple(map(float, mean)), tuple(map(float, var)), tuple(map(float, second))


def _enumerate(pb, em, exact, distribution):
    """An enumeration (``exact``: True, False or None to let the engine decide), labelled by what ran."""
    net, n = pb.net, pb.net.n_outputs
    x = _given_x(pb) if exact is not False else [float(v) for v in pb.X[0]]
    dist = None
    if distribution:
        dist = _enum.error_distribution(net, x, em, exact=exact)
        ran_exact = dist.exact
        mean, var, second = _from_distribution(dist, n, ran_exact)
    else:
        r = _enum.enumerate_crashes(net, x, em, exact=exact)
        ran_exact = bool(getattr(r, "exact", False))
        mean, var, second = _outputs(r.mean, n), _outputs(r.var, n), _outputs(r.second, n)
    if ran_exact and all(_rational(v) for v in mean + var):
        return Moments.point(mean, var, "exact", method="rational enumeration", second_lo=second,
                             second_hi=second, distribution=dist)
    mean, var, second = (tuple(float(v) for v in t) for t in (mean, var, second))
    return Moments.point(mean, var, "estimate", _FLOAT_NOTE, method="float enumeration", second_lo=second,
                         second_hi=second, distribution=dist)


def _enclosure(pb, em, order, configurations, notes):
    net, n = pb.net, pb.net.n_outputs
    k = order
    if configurations is not None:
        k = max(int(order), _enc.choose_order(net, em, max_configurations=configurations))
    e = _enc.enclosure(net, _given_x(pb), em, order=k)
    lo, hi, vlo, vhi, slo, shi = (tuple(float(v) for v in np.ravel(a))
                                  for a in (e.mean_lo, e.mean_hi, e.var_lo, e.var_hi, e.second_lo, e.second_hi))
    full = k >= em.n_neurons(net)
    notes.append(f"enclosure of order {k} ({'all configurations' if full else 'the rest bounded'}"
                 f"; mean width ≤ {rounded(max(Fraction(b) - Fraction(a) for a, b in zip(lo, hi)), 'up', 3)})")
    rounding = float_rounding(net)
    source, note = "enclosure", ""
    if rounding is not None:
        source, note = "estimate", f"enclosure of the float64 rounding of the network: {rounding}"
    mean = tuple(0.5 * (a + b) for a, b in zip(lo, hi))
    var = tuple(0.5 * (a + b) for a, b in zip(vlo, vhi))
    return Moments(lo, hi, vhi, source, note, var_lo=vlo, second_lo=slo, second_hi=shi, mean=mean, var=var,
                   method="enclosure")


def _t1(pb, em, remainder):
    from . import taylor as _taylor

    net, n = pb.net, pb.net.n_outputs
    xe = [v if isinstance(v, float) else to_fraction(v, "x") for v in _given_x(pb)]
    r = _taylor.t1(net, xe, dict(em.p), semantics=em.semantics, remainder="auto" if remainder else False)
    mean = tuple(float(v) for v in _outputs(r.mean, n))
    var = tuple(float(v) for v in _outputs(r.var, n))
    if r.remainder_mean is None or r.remainder_var is None:
        why = r.remainder_note or "not asked for"
        return Moments.point(mean, var, "taylor", f"T1 first order: the Taylor remainder is dropped ({why})",
                             method="taylor")
    rm = [float(v) for v in _outputs(r.remainder_mean, n)]
    rv = [float(v) for v in _outputs(r.remainder_var, n)]
    lo = tuple(float_down(Fraction(m) - Fraction(a)) for m, a in zip(mean, rm))
    hi = tuple(float_up(Fraction(m) + Fraction(a)) for m, a in zip(mean, rm))
    vlo = tuple(float_down(Fraction(v) - Fraction(b)) for v, b in zip(var, rv))
    vhi = tuple(float_up(Fraction(v) + Fraction(b)) for v, b in zip(var, rv))
    return Moments(lo, hi, vhi, "taylor+remainder",
                   "T1 first order plus its rigorous Lagrange-remainder bound (symft.engines.taylor.remainder_bound) "
                   "and the proved rounding error of its float passes", var_lo=vlo, mean=mean, var=var,
                   method="taylor+remainder")


def _monte_carlo(pb, samples, seed, confidence):
    from .sampling import SamplingWarning, monte_carlo

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)
        r = monte_carlo(pb.net, pb.X[0], pb.model, samples, seed, confidence=confidence, show_progress=False)
    note = (f"Monte Carlo: {r.crashed_samples} draws given at least one failure (probability {r.p_crash:.4g}), "
            f"seed {seed}; a {100 * confidence:g}% interval for the mean, an estimate of the variance")
    notes = tuple(f"Monte Carlo: {w}" for w in r.warnings)
    return Moments(r.ci_low, r.ci_high, r.var, "monte-carlo", note, var_lo=r.var, mean=r.mean, var=r.var,
                   method="monte-carlo", seed=seed, notes=notes)


def _run(step, pb, em, **kw):
    with sharing(pb):   # the engines' own problems reuse pb's clean pass
        return _run_step(step, pb, em, **kw)


def _run_step(step, pb, em, *, order, configurations, rational_seconds, distribution, samples, seed, confidence,
              notes):
    if step == "rational":
        return _enumerate(pb, em, True, distribution)
    if step == "enumeration":
        exact = True if rational_obstacle(pb.net, em, rational_seconds) is None else None
        return _enumerate(pb, em, exact, distribution)
    if step == "float":
        return _enumerate(pb, em, False, distribution)
    if step == "enclosure":
        return _enclosure(pb, em, order, configurations, notes)
    if step in ("taylor", "t1"):
        return _t1(pb, em, step == "taylor")
    return _monte_carlo(pb, samples, seed, confidence)


#: What ``"auto"`` catches from a step (and notes) before trying the next.
_SKIP = (TooLargeError, NotImplementedError, ImportError, InvalidArgument)


def _short(e):
    return str(e).split(" (estimated")[0]


def moments(net, x=None, model=None, method: str = "auto", *, among=None, order: int = 2,
            configurations: int | None = None, rational_seconds: float | None = None,
            distribution: bool = False, samples: int = SAMPLES, seed: int = 0,
            confidence: float = 0.95) -> Moments:
    r"""``E Δ`` and ``Var Δ`` at one input, from the method asked for or the best one available.

    Parameters
    ----------
    net : Network or Problem
        A network (then ``x`` and ``model`` follow), or a :class:`~symft.problem.Problem`
        (then ``moments(problem, method)`` or ``moments(problem, method=…)``).
        Any graph the engines can evaluate; T1 and its remainder where
        :mod:`symft.engines.taylor` supports the graph.
    x : array_like
        One input (exact values such as ``"1/3"`` are kept exactly).
    model : NeuronCrash, mapping {site: p} or probability
        Normalised by :func:`symft.problem.as_model`.
    method : str
        One of :data:`METHODS` (see the table in the module docstring).
        ``"auto"`` follows the rule there; a named method runs alone and its
        errors propagate (:class:`~symft.errors.TooLargeError`, or the
        reason it does not apply).
    among : iterable of str, optional
        With ``"auto"``: try only these methods, in the order of
        :data:`AUTO_ORDER` (e.g. ``("rational", "enclosure", "float")`` for
        an independent reference that T1 and Monte Carlo are compared with).
    order : int
        Order of the enclosure (configurations with at most ``order`` crashes
        are evaluated, the rest bounded).
    configurations : int, optional
        Raise the enclosure's order to the largest whose configurations fit
        in this many (the full order when they all fit).
    rational_seconds : float, optional
        The time limit of rational enumeration under ``"auto"`` (default
        :data:`RATIONAL_SECONDS`).
    distribution : bool
        When an enumeration runs, also keep the law of ``Δ``
        (:attr:`Moments.distribution`, for functionals other than moments).
    samples, seed, confidence
        Monte Carlo: sample size, seed (recorded) and the level of the
        interval for the mean.

    Returns
    -------
    Moments
        ``method`` (what ran), ``label`` (exact / rigorous / estimate /
        statistical), the numbers, and ``notes`` (what was tried first and why
        it was not used).

    Raises
    ------
    NoSourceError
        ``"auto"`` found no method that runs (every reason is given).

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> from symft.faults import NeuronCrash
    >>> net = random_network([2, 4, 1], seed=0)
    >>> moments(net, [0.5, -1.0], NeuronCrash({1: 0.01}), "taylor").method
    'taylor+remainder'
    >>> m = moments(net, [0.5, -1.0], NeuronCrash({1: 0.01}), among=("rational", "float"))
    >>> m.method, m.label, m.notes[0][:40]
    ('float enumeration', 'estimate', "rational enumeration: not used (layer 1'")
    """
    pb, method = _problem(net, x, model, method)
    em = exact_model(pb.model)
    kw = dict(order=order, configurations=configurations, rational_seconds=rational_seconds,
              distribution=distribution, samples=samples, seed=seed, confidence=confidence)
    if method != "auto":
        notes = []
        m = _run(method, pb, em, notes=notes, **kw)
        return dataclasses.replace(m, notes=tuple(notes) + m.notes)
    steps = AUTO_ORDER
    if among is not None:
        among = tuple(among)
        bad = [s for s in among if s not in AUTO_ORDER]
        if bad:
            raise InvalidArgument(f"among: expected methods of {AUTO_ORDER}, got {bad}")
        steps = tuple(s for s in AUTO_ORDER if s in among)
    notes, best = [], None            # best: the T1-alone result of the "taylor" step, kept for "t1"
    for step in steps:
        name = _LONG[step]
        if step == "rational":
            why = rational_obstacle(pb.net, em, rational_seconds)
            if why is not None:
                notes.append(f"{name}: not used ({why})")
                continue
        if step == "enclosure":
            why = float_rounding(pb.net)
            if why is not None:
                notes.append(f"{name}: not used ({why}, and the enclosure is computed for the float64 network)")
                continue
        if step == "t1" and best is not None:
            return dataclasses.replace(best, notes=tuple(notes) + best.notes)
        try:
            m = _run(step, pb, em, notes=notes, **kw)
        except _SKIP as e:
            notes.append(f"{name}: not used ({type(e).__name__}: {_short(e)})")
            continue
        if step == "taylor" and not m.rigorous:
            notes.append(f"{name}: no remainder bound ({m.note})")
            best = m
            continue
        return dataclasses.replace(m, notes=tuple(notes) + m.notes)
    if best is not None and "t1" in steps:
        return dataclasses.replace(best, notes=tuple(notes) + best.notes)
    raise NoSourceError("moments: no source of moments is available: " + "; ".join(notes), notes)


# ---------------------------------------------------------------------- one method each (public API)

def exact_moments(net, x, model, *, rational_seconds: float | None = None) -> Moments:
    """``E Δ`` and ``Var Δ`` by enumeration (``moments(..., method="enumeration")``), labelled by the arithmetic.

    Rational arithmetic whenever it can run — activations piecewise linear
    with rational pieces, numeric weights (a float is read as the binary
    rational it holds), at most ``2^16`` configurations — and its estimated
    time is at most ``rational_seconds`` (or :mod:`symft.engines.enumeration`
    picks it by itself, for an exact network): source ``"exact"``.
    Otherwise float64 enumeration runs, and its result is labelled
    ``"estimate"`` with the note ``"float enumeration …"``: its rounding
    errors are not bounded (under cancellation they can change every digit),
    so it cannot back a rigorous certificate — an enclosure should be used.

    Raises :class:`~symft.errors.TooLargeError` when enumeration would explode.

    Examples
    --------
    >>> from symft.graph.network import mean_network, Network
    >>> m = exact_moments(mean_network(2), [1, 1], NeuronCrash({0: 0.5}))
    >>> m.mean_hi, m.var_hi, m.source
    ((-1/2,), (1/8,), 'exact')
    >>> # float weights that cancel: 1e16·x + x − 1e16·x = x (float64 evaluates 0); rational arithmetic is exact
    >>> net = Network.from_numpy([[[1.0], [1.0], [1.0]], [[1e16, 1.0, -1e16]]], activations=["linear", "linear"])
    >>> exact_moments(net, [1.0], NeuronCrash({1: 0.5})).mean_hi     # E Δ = −x/2
    (-1/2,)
    """
    return moments(net, x, model, "enumeration", rational_seconds=rational_seconds)


def enclosure_moments(net, x, model, order: int = 2) -> Moments:
    """Rigorous intervals for ``E Δ`` and ``Var Δ`` (``moments(..., method="enclosure")``).

    The enclosure (:func:`symft.engines.enclosure.enclosure`) evaluates the
    float64 network, with rigorous margins for the rounding of that
    evaluation and of inputs given exactly.  It is rigorous for the network
    as given when every stored weight and bias *is* a float64 value;
    otherwise (a weight ``1/10``) it encloses the moments of a slightly
    different network, and the result is labelled ``"estimate"`` with a note
    saying which value was rounded (:func:`float_rounding`).

    Examples
    --------
    >>> from symft.graph.network import mean_network, random_network
    >>> m = enclosure_moments(random_network([2, 3, 1], seed=0), [0.5, -1.0], NeuronCrash({1: 0.1}), order=3)
    >>> m.source, bool(m.mean_lo[0] <= m.mean_hi[0])
    ('enclosure', True)
    >>> m = enclosure_moments(mean_network(3), [1, 1, 1], NeuronCrash({0: 0.1}))
    >>> m.source, m.note
    ('estimate', 'enclosure of the float64 rounding of the network: weight 1/3 of layer 1 is not a float64 value')
    """
    return moments(net, x, model, "enclosure", order=order)


def taylor_moments(net, x, model, *, remainder: bool = True) -> Moments:
    r"""T1's first-order moments (:func:`symft.engines.taylor.t1`), with its rigorous remainder when available.

    ``moments(..., method="taylor")`` (``"t1"`` with ``remainder=False``).
    T1 runs at the exact input (floats are the binary values they hold,
    fractions are enclosed) and the stated probabilities (a float ``0.1``
    is the decimal 1/10, as in :func:`exact_moments`).  Its
    ``remainder_mean`` and ``remainder_var`` bound ``|E Δ − m|`` and
    ``|Var Δ − v|`` for the float64 values ``m`` and ``v`` themselves: the
    Lagrange remainder (:func:`symft.engines.taylor.remainder_bound`) plus the
    proved rounding error of the float passes, so no cancellation in the
    float passes can make the interval miss.  The result is
    ``[m − r_m, m + r_m]`` and ``[v − r_v, v + r_v]`` (source
    ``"taylor+remainder"``, rigorous), rounded outward.  Without a
    remainder (non-smooth activation, a kink the crashes can cross, too
    large), the point values are returned with source ``"taylor"``
    (approximate: the remainder is dropped).

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> m = taylor_moments(random_network([3, 5, 1], seed=2), [0.2, -0.4, 1.0], NeuronCrash({1: 0.01}))
    >>> m.source, m.mean_lo[0] < m.mean_hi[0]
    ('taylor+remainder', True)
    >>> taylor_moments(random_network([2, 3, 1], seed=0), [0.1, 0.2], NeuronCrash({1: 0.01}), remainder=False).source
    'taylor'
    """
    return moments(net, x, model, "taylor" if remainder else "t1")
