r"""(ε, δ) certificates over a dataset: D5 as the theory page writes it, a probability over inputs *and* faults.

D5 asks ``P_{x,U}{Δ ≥ ε} ≤ δ`` where ``x`` is random as well as the crashes ``U``.
:func:`dataset_certificate` answers it for two laws of ``x``:

**The empirical distribution of a dataset** (``x`` uniform over the ``B`` given inputs).
    ``P_{x,U}{Δ_k ≥ ε} = (1/B) Σ_b P_U{Δ_k(x_b) ≥ ε}``, so the mean of per-input
    lower and upper bounds encloses it.  The per-input values are, per input
    (``method`` of each):

    ``"exact"``
        the exact law of ``Δ`` (every crash configuration, rational arithmetic:
        :func:`symft.engines.enumeration.error_distribution`);
    ``"rigorous"``
        a proved upper bound: Cantelli on rigorous moments (:func:`symft.analysis.certify.certify`),
        or for the zero-one loss the proved interval of the accuracy engine;
    ``"statistical"``
        a one-sided Clopper–Pearson bound of Monte Carlo draws
        (:func:`symft.analysis.certify.statistical_certificate`; for a loss, stratified
        Monte Carlo of the event, :func:`symft.engines.stratified.bounded_interval`), each at level
        ``1 − (1 − confidence)/B`` so that all ``B`` hold together with
        probability ``confidence`` (union bound).

    The mean is summed in exact rationals and rounded outward once, so it is
    exact (up to that rounding) when every input is exact, and a proved
    bound when every input is exact or rigorous.  A per-input moment bound
    from an *approximate* source (T1 without remainder, float moments) is not a
    bound: that input counts as ``[0, 1]`` and the answer says so.

**The population the dataset samples** (``population_confidence = 1 − α_x``).
    Assuming the inputs are drawn i.i.d. from a population, the per-input
    probabilities ``q(x_b) ∈ [0, 1]`` are i.i.d. with mean ``P_{x,U}{Δ_k ≥ ε}``.
    Hoeffding's inequality for ``[0, 1]``-valued variables in its
    relative-entropy form (Hoeffding 1963, Theorem 1: ``P{q̄ ≤ μ − t} ≤
    exp(−B kl(μ − t ‖ μ))``) gives the upper confidence bound
    ``sup{μ ≥ m : B kl(m ‖ μ) ≤ ln(K/α_x)}`` for the sample mean ``m`` (:func:`population_upper_bound`;
    Bonferroni over the ``K`` outputs).  It depends on the sample only through
    its mean and increases with it, so feeding it the mean of the per-input
    *upper bounds* keeps it valid.  The statement is **statistical over
    inputs, rigorous over faults** (per-input bounds exact or proved); with
    statistical per-input bounds the two confidences combine by the union
    bound: ``1 − α_x − (1 − confidence)``.

The verdict is ``"certified"`` when the upper bound is at most ``δ``, ``"not
certified"`` when a lower bound exceeds ``δ`` (the claim is false, or with a
statistical lower bound, shown false at the stated confidence), and
``"undecided"`` otherwise, with the option that could decide.

Examples
--------
>>> from fractions import Fraction
>>> from symft.graph.network import Network
>>> from symft.faults import NeuronCrash
>>> net = Network.from_numpy([[[-1.0, -1.0]]], activations=["linear"])      # Δ = x_i for each crashed x_i
>>> c = dataset_certificate(net, [[1.0, 1.0], [2.0, 0.0]], NeuronCrash({0: 0.25}), 0.5, 0.4)
>>> c.verdict, c.bound_lo, c.method          # (P(x_1 or x_2 crashes) + P(x_1 crashes)) / 2 = (7/16 + 1/4) / 2
('certified', 0.34375, 'exact')
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from fractions import Fraction
from numbers import Integral, Real

import numpy as np

from ..engines.moments import float_down, float_up
from ..errors import InvalidArgument, TooLargeError
from ..faults import NeuronCrash
from ..problem import as_model
from .certify import certify, statistical_certificate, to_fraction
from ..results import result

__all__ = ["DatasetCertificate", "dataset_certificate", "certify_inputs", "INPUT_PIECE", "population_upper_bound", "population_lower_bound",
           "SOURCES", "LOSSES", "SOURCES_FOR_LOSS", "loss_words",
           "usable_sources"]

#: Where the per-input values come from (``"auto"``: the exact law when it fits, else a rigorous bound).
SOURCES = ("auto", "exact", "enclosure", "taylor", "statistical")

#: Losses whose change ``Δ_loss`` can be certified instead of the output error.
LOSSES = ("zero_one", "squared", "cross_entropy")

#: The sources that bound each loss change (``None``: the output errors).  A loss change is not a
#: moment of the outputs, so Cantelli on moments (``"enclosure"``, ``"taylor"``) does not bound it; the
#: zero-one loss has a proved interval from the configurations evaluated (``"enclosure"``, the accuracy
#: engine); the cross-entropy loss is a logarithm, so it has no exact rational law.
SOURCES_FOR_LOSS = {None: SOURCES, "zero_one": ("auto", "exact", "enclosure", "statistical"),
                    "squared": ("auto", "exact", "statistical"), "cross_entropy": ("auto", "statistical")}

#: Why a source does not bound a loss change (the refusal's reason).
_WHY_NOT = {("zero_one", "taylor"): "a change of class has no Taylor expansion; its proved interval comes from "
                                    "evaluating the configurations with few crashes, as enclosure does",
            ("squared", "enclosure"): "bounds on the moments of the outputs do not bound a loss change",
            ("squared", "taylor"): "bounds on the moments of the outputs do not bound a loss change",
            ("cross_entropy", "exact"): "its values are logarithms, not rational numbers, so it has no exact law",
            ("cross_entropy", "enclosure"): "bounds on the moments of the outputs do not bound a loss change",
            ("cross_entropy", "taylor"): "bounds on the moments of the outputs do not bound a loss change"}

_RANK = {"exact": 0, "rigorous": 1, "statistical": 2}


def loss_words(loss) -> str:
    """A loss's name in plain words (``"cross_entropy"`` → ``"cross-entropy"``; ``None``: the output error).

    Examples
    --------
    >>> loss_words("zero_one"), loss_words(None)
    ('zero-one loss', 'output error')
    """
    return "output error" if loss is None else loss.replace("_", "-") + " loss"


def usable_sources(net, loss=None) -> tuple:
    """The sources of :func:`dataset_certificate` that bound the ``loss`` change (or the output error) of ``net``.

    ``"exact"`` only when the network's operators have an exact rational law (it may still be too large).

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> usable_sources(random_network([2, 3, 2], seed=0, activation="relu"), "squared")
    ('auto', 'exact', 'statistical')
    >>> usable_sources(random_network([2, 3, 2], seed=0, activation="tanh"), "zero_one")
    ('auto', 'enclosure', 'statistical')
    """
    from ..engines.enumeration import exact_obstacle

    ok = SOURCES_FOR_LOSS[loss]
    return ok if exact_obstacle(net) is None else tuple(v for v in ok if v != "exact")


def _one_of(values) -> str:
    """``"a, b or c"``."""
    values = list(values)
    return values[0] if len(values) == 1 else ", ".join(values[:-1]) + " or " + values[-1]


# ---------------------------------------------------------------------- the population bound

def _kl(m: float, q: float) -> float:
    """Bernoulli relative entropy ``kl(m ‖ q)`` (float; ``0 log 0 = 0``)."""
    out = 0.0
    if m > 0:
        out += m * math.log(m / q) if q > 0 else math.inf
    if m < 1:
        out += (1 - m) * math.log((1 - m) / (1 - q)) if q < 1 else math.inf
    return out


def _check_values(values, alpha):
    v = np.asarray(values, dtype=float).ravel()
    if v.size == 0:
        raise InvalidArgument("values: expected at least one value")
    if not np.all((v >= 0) & (v <= 1)):
        raise InvalidArgument("values: expected numbers in [0, 1] (per-input probabilities)")
    if isinstance(alpha, bool) or not isinstance(alpha, Real) or not 0 < float(alpha) < 1:
        raise InvalidArgument(f"confidence: expected a number strictly between 0 and 1, got {1 - alpha!r}")
    # the mean rounded up (resp. down) from the exact sum of the floats
    s = sum((Fraction(float(a)) for a in v), Fraction(0))
    return s / v.size, v.size


def population_upper_bound(values, confidence: float = 0.95) -> float:
    r"""Upper confidence bound on the mean of i.i.d. ``[0, 1]``-valued variables (Hoeffding's relative-entropy form).

    ``sup{μ ≥ m : n kl(m ‖ μ) ≤ ln(1/α)}`` with ``m`` the sample mean and
    ``α = 1 − confidence`` (Hoeffding 1963, Theorem 1): with probability at
    least ``confidence`` the true mean is at most the returned number.  Valid
    for any law on ``[0, 1]`` (no variance assumption); it depends on the
    sample through ``m`` only and increases with it, so upper bounds of the
    variables may be given instead of the variables.  ``m`` is computed
    exactly and rounded up; the root is bracketed by bisection and the upper
    end returned with a relative margin that covers the float evaluation of
    ``kl``.

    Examples
    --------
    >>> round(population_upper_bound([0.0] * 100, 0.95), 6)       # 1 − 0.05^(1/100)
    0.029513
    >>> population_upper_bound([0.5] * 10, 0.95) > 0.5
    True
    """
    m, n = _check_values(values, 1 - confidence if isinstance(confidence, Real) else confidence)
    alpha = 1 - float(confidence)
    c = math.log(1 / alpha) / n * (1 + 1e-9)
    lo = float_up(m)
    if lo >= 1:
        return 1.0
    if _kl(lo, 1.0) <= c:
        return 1.0
    hi = 1.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if mid <= lo or mid >= hi:
            break
        if _kl(float_up(m), mid) > c:
            hi = mid
        else:
            lo = mid
    return min(1.0, math.nextafter(hi * (1 + 1e-12), math.inf))


def population_lower_bound(values, confidence: float = 0.95) -> float:
    r"""Lower confidence bound on the mean of i.i.d. ``[0, 1]``-valued variables (mirror of :func:`population_upper_bound`).

    ``inf{μ ≤ m : n kl(m ‖ μ) ≤ ln(1/α)}``, ``m`` the exact sample mean rounded down; lower bounds of
    the variables may be given instead of the variables.

    Examples
    --------
    >>> round(population_lower_bound([1.0] * 100, 0.95), 6)       # 0.05^(1/100)
    0.970487
    >>> population_lower_bound([0.0, 0.0], 0.95)
    0.0
    """
    m, n = _check_values(values, 1 - confidence if isinstance(confidence, Real) else confidence)
    c = math.log(1 / (1 - float(confidence))) / n * (1 + 1e-9)
    top = float_down(m)
    if top <= 0:
        return 0.0
    lo, hi = 0.0, top
    for _ in range(200):
        mid = (lo + hi) / 2
        if mid <= lo or mid >= hi:
            break
        if _kl(top, mid) > c:
            lo = mid
        else:
            hi = mid
    return max(0.0, math.nextafter(lo * (1 - 1e-12), -math.inf))


# ---------------------------------------------------------------------- the result

@result
@dataclass(frozen=True)
class DatasetCertificate:
    r"""The answer of :func:`dataset_certificate` (see the module docstring).

    Attributes
    ----------
    verdict : {"certified", "not certified", "undecided"}
        Over the empirical distribution of the inputs.
    bound_lo, bound_hi : float
        ``P_{x,U}{Δ_k ≥ ε}`` over the dataset, largest over the outputs ``k`` (outward rounded).
    method : {"exact", "rigorous", "statistical"}
        The weakest per-input method used.
    confidence : float or None
        With statistical per-input bounds: the probability that every one holds (over the sampling).
    methods : dict
        How many inputs each per-input method answered.
    per_output : tuple of dict
        ``{"output", "bound_lo", "bound_hi"}`` per output.
    population : dict or None
        ``{"verdict", "bound_lo", "bound_hi", "confidence", "method", "label", "assumptions", "decide"}``.
    top : tuple of dict
        The inputs with the largest upper bound: ``{"index", "bound_lo", "bound_hi", "method"}``.
    decide : str
        When the verdict is not "certified" and more work could change that: which option could decide.

    Examples
    --------
    >>> from symft.graph.network import Network
    >>> net = Network.from_numpy([[[-1.0, -1.0]]], activations=["linear"])
    >>> sorted(dataset_certificate(net, [[1.0, 1.0]], {0: 0.25}, 0.5, 0.5).as_dict())[:4]
    ['assumptions', 'bound_exact', 'bound_hi', 'bound_lo']
    """

    eps: str
    delta: str
    sided: str
    n_inputs: int
    verdict: str
    bound_lo: float
    bound_hi: float
    method: str
    confidence: float | None
    methods: dict
    per_output: tuple
    population: dict | None = None
    top: tuple = ()
    decide: str = ""
    loss: str | None = None
    bound_exact: str | None = None
    assumptions: tuple = ()
    notes: tuple = ()
    each: tuple = field(default=(), repr=False)
    seconds: float = 0.0

    @property
    def certified(self) -> bool:
        """The empirical verdict is "certified"."""
        return self.verdict == "certified"

    def as_dict(self) -> dict:
        """JSON-ready dictionary (numbers as numbers; the per-input bounds as ``each``: ``[lo, hi]`` per input).

        Examples
        --------
        >>> from symft.graph.network import Network
        >>> net = Network.from_numpy([[[-1.0, -1.0]]], activations=["linear"])
        >>> dataset_certificate(net, [[1.0, 1.0]], {0: 0.25}, 0.5, 0.5).as_dict()["each"]
        [[0.4375, 0.4375]]
        """
        return {"claim": _claim(self.eps, self.delta, self.sided, self.loss), "verdict": self.verdict,
                "certified": self.certified, "distribution": "empirical", "n_inputs": self.n_inputs,
                "eps": self.eps, "delta": self.delta, "sided": self.sided, "loss": self.loss,
                "bound_lo": self.bound_lo, "bound_hi": self.bound_hi, "bound_exact": self.bound_exact,
                "method": self.method, "confidence": self.confidence, "methods": dict(self.methods),
                "per_output": [dict(d) for d in self.per_output],
                "population": None if self.population is None else dict(self.population),
                "top": [dict(t) for t in self.top], "decide": self.decide, "assumptions": list(self.assumptions),
                "notes": list(self.notes), "each": [list(e) for e in self.each], "seconds": self.seconds}


def _claim(eps, delta, sided, loss):
    d = "Δ_loss" if loss else "Δ_k"
    ev = f"|{d}| ≥ {eps}" if sided == "abs" else f"{d} ≥ {eps}"
    return f"P_x,U({ev}) ≤ {delta}" + ("" if loss else " for every output k")


# ---------------------------------------------------------------------- per-input values

def _exact_laws(net, X, model, eps, sided, loss, targets, max_configurations):
    """Exact per-input tails ``([(lo, hi) per output], None)`` from the exact law, or ``(None, why not)``."""
    from ..engines.enumeration import error_distribution, exact_obstacle

    why = exact_obstacle(net)
    if why is not None:
        return None, re.sub(r"'([^']*)'", r"\1", why)
    try:
        if loss is None:
            laws = error_distribution(net, X, model, exact=True, max_configurations=max_configurations)
        else:
            laws = tuple(error_distribution(net, X[b], model, loss=loss, target=targets[b], exact=True,
                                            max_configurations=max_configurations) for b in range(X.shape[0]))
    except TooLargeError:
        return None, (f"at most {max_configurations} crash configurations over all the inputs, and these "
                      f"{X.shape[0]} inputs need more")
    except InvalidArgument as exc:
        return None, str(exc)
    out = []
    for law in laws:
        row = []
        for k in range(len(law.atoms[0])):
            s = Fraction(0)
            for a, w in zip(law.atoms, law.probabilities):
                v = to_fraction(a[k])
                if (abs(v) if sided == "abs" else v) >= eps:
                    s += to_fraction(w)
            row.append((s, s))
        out.append(row)
    return out, None


def _zero_one_values(net, X, y, model, eps, method, order, samples, seed, confidence, force, runner=None):
    """``P{Δ_01 ≥ ε}`` per input from the accuracy engine: ``[clean class = label] · P(class changes)``."""
    from .accuracy import accuracy

    B = X.shape[0]
    r = accuracy(net, X, y, model, method=method, order=order, n_samples=max(2, samples), seed=seed,
                 confidence=confidence, top=B, force=force, runner=runner)
    clean = {a["index"]: a["clean_class"] for a in r.at_risk}
    proved = r.clean_undecided == 0
    rows = []
    for b, (lo, hi) in enumerate(r.change_each):
        if eps > 1:
            rows.append([(Fraction(0), Fraction(0))])
        elif clean[b] == int(y[b]):
            rows.append([(Fraction(lo), Fraction(hi))])
        else:                                      # clean answer wrong: Δ_01 ∈ {−1, 0} < ε
            rows.append([(Fraction(0), Fraction(0) if proved else Fraction(hi))])
    m = "rigorous" if r.method in ("exact", "rigorous") else "statistical"
    return rows, m, r


def _loss_statistical(net, X, targets, model, loss, eps, sided, samples, seed, confidence, force, runner=None):
    """``P{Δ_loss ≥ ε}`` per input by stratified Monte Carlo, each interval at ``1 − (1 − confidence)/B``.

    The event is decided on the float64 loss (statistical, like the classes of the sampled
    configurations in :mod:`symft.analysis.accuracy`); ``ε > 0``, so the crash-free configuration,
    whose loss change is 0, never counts.
    """
    from ..engines.losses import loss_functions
    from ..engines.stratified import bounded_interval, check_budget, plan_strata, stratified_statistics
    from ..problem import make_problem

    B = X.shape[0]
    pb = make_problem(net, X, None, where="X")
    fs = [loss_functions(loss, t, net.n_outputs)[0] for t in targets]
    Y0 = pb.clean.output.reshape(B, -1)
    base = [float(f(Y0[b][None, :])[0]) for b, f in enumerate(fs)]
    ef = float(eps)

    def fn(Y):
        cols = []
        for b, f in enumerate(fs):
            dl = f(Y[:, b, :]) - base[b]
            cols.append(((np.abs(dl) if sided == "abs" else dl) >= ef).astype(float))
        return np.stack(cols, axis=1)

    plan = plan_strata(net, model, samples)
    check_budget(net, model, plan, B, force)
    stats = stratified_statistics(pb, model, plan, seed, fn, runner=runner)
    if not stats:
        return [[(Fraction(0), Fraction(0))] for _ in range(B)]
    _, lo, hi = bounded_interval(stats, 1 - (1 - float(confidence)) / B, runner=runner)
    return [[(Fraction(max(0.0, float(lo[b]))), Fraction(min(1.0, float(hi[b]))))] for b in range(B)]


# ---------------------------------------------------------------------- the certificate

#: Inputs per piece of the per-input certificates of :func:`dataset_certificate`.
INPUT_PIECE = 8


def _in_order(piece, items, shared):
    return [piece(*shared, it) for it in items]


def certify_inputs(net, X, model, eps, delta, source, sided, order, samples, seed, each_conf, K, indices) -> list:
    r"""The per-input bounds of :func:`dataset_certificate` for the inputs ``indices``: one independent piece.

    Returns one ``(method, [(lo, hi) per output], approximate)`` per input: the exact rational bounds of
    :func:`symft.analysis.certify.certify` (``"rigorous"``; ``[0, 1]`` and ``approximate`` when its moments
    are not a bound), or of :func:`symft.analysis.certify.statistical_certificate` at ``each_conf`` with the
    seed ``seed + index`` (``"statistical"``).  Pure: the same inputs give the same rows wherever they run.

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> net = random_network([3, 4, 2], seed=0, activation="relu")
    >>> X = np.random.default_rng(0).normal(size=(2, 3))
    >>> rows = certify_inputs(net, X, NeuronCrash({1: 0.01}), 0.5, 0.2, "enclosure", "upper", 2, 0, 0, 0.99, 2, [1])
    >>> [(m, len(r), a) for m, r, a in rows]
    [('rigorous', 2, False)]
    """
    out = []
    for b in indices:
        if source == "statistical":
            c = statistical_certificate(net, X[b], model, eps, delta, samples=samples, seed=seed + b,
                                        confidence=each_conf, sided=sided)
            out.append(("statistical", [(Fraction(0), Fraction(po[4])) for po in c.per_output], False))
            continue
        c = certify(net, X[b], model, eps, delta, source="auto" if source == "auto" else source,
                    sided=sided, order=order)
        if c.rigorous:
            out.append(("rigorous", [(Fraction(0), Fraction(po[4])) for po in c.per_output], False))
        else:
            out.append(("rigorous", [(Fraction(0), Fraction(1))] * K, True))
    return out


def _text(v, e):
    if isinstance(v, str):
        return v.strip()
    return repr(float(v)) if isinstance(v, float) else str(e)


def dataset_certificate(net, X, model, eps, delta, *, y=None, loss=None, source: str = "auto",
                        sided: str = "upper", order: int = 2, samples: int = 20_000, seed: int = 0,
                        confidence: float = 0.99, population_confidence: float | None = None,
                        top: int = 10, max_configurations: int = 2 ** 16, force: bool = False,
                        runner=None) -> DatasetCertificate:
    r"""Certify D5 over a dataset: ``P_{x,U}{Δ ≥ ε} ≤ δ`` for ``x`` uniform over ``X`` (and its population).

    Parameters
    ----------
    net : Network
    X : array_like
        Inputs ``(B, n_0)`` (floats).
    model : NeuronCrash, mapping or probability
        Independent neuron crashes (as :func:`symft.analysis.certify.certify`).
    eps, delta : number or str
        The claim (decimals are read as the decimals they print as).
    y : array_like, optional
        One label per input: the targets of ``loss`` (``squared``: the one-hot vector of the label).
    loss : {"zero_one", "squared", "cross_entropy"}, optional
        Certify the loss change ``Δ_loss = ω(ŷ, y) − ω(y_clean, y)`` instead of the output errors.
    source : {"auto", "exact", "enclosure", "taylor", "statistical"}
        The per-input values: ``"exact"`` the exact law (rational enumeration, or it refuses);
        ``"enclosure"``/``"taylor"`` Cantelli on those rigorous moments; ``"statistical"`` Monte Carlo
        of the event; ``"auto"``: the exact law when it fits in ``max_configurations`` (configurations
        × inputs), else :func:`~symft.analysis.certify.certify`'s choice of rigorous moments.  With
        ``loss="zero_one"`` the rigorous and statistical values come from the accuracy engine
        (:func:`symft.analysis.accuracy.accuracy`; ``order`` its crashes evaluated, default its own choice);
        the squared and cross-entropy losses have their exact law or, for ``"auto"`` and
        ``"statistical"``, stratified Monte Carlo of the event (``ε > 0``).
    sided : {"upper", "abs"}
    order : int
        The enclosure's order.
    samples, seed, confidence
        The statistical per-input bounds: draws per input, seed, and the level at which all of them
        hold together (each at ``1 − (1 − confidence)/B``).
    population_confidence : float, optional
        Also bound the probability over the population the inputs were drawn from (i.i.d.), at this level.
    top : int
        How many inputs with the largest bound to list.
    runner : callable, optional
        Where the independent pieces run — the per-input bounds (:func:`certify_inputs`, ``INPUT_PIECE``
        inputs each) and the sampled blocks (:func:`symft.engines.stratified.stratified_statistics`):
        ``runner(piece, items, shared)`` returns ``[piece(*shared, item) for item in items]`` in order
        (:func:`symft.distributed.dataset_certificate` runs them on a cluster).  The aggregation is exact,
        so the answer never depends on where they ran.

    Returns
    -------
    DatasetCertificate

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> net = random_network([3, 4, 2], seed=0, activation="relu")
    >>> X = np.random.default_rng(0).normal(size=(20, 3))
    >>> c = dataset_certificate(net, X, {1: 0.01}, 0.5, 0.2, population_confidence=0.95)
    >>> c.verdict, c.method, c.population["verdict"], c.bound_hi < c.population["bound_hi"] < 0.2
    ('certified', 'exact', 'certified', True)
    """
    t0 = time.perf_counter()
    if not isinstance(model, NeuronCrash):
        model = as_model(net, model)
    if source not in SOURCES:
        raise InvalidArgument(f"source: expected one of {', '.join(SOURCES)}, got {source!r}")
    if sided not in ("upper", "abs"):
        raise InvalidArgument(f"sided: expected 'upper' or 'abs', got {sided!r}")
    if loss is not None and loss not in LOSSES:
        raise InvalidArgument(f"loss: expected one of {', '.join(LOSSES)}, got {loss!r}")
    if source not in SOURCES_FOR_LOSS[loss]:
        raise InvalidArgument(f"source: {source} does not bound the {loss_words(loss)} change "
                              f"({_WHY_NOT[loss, source]}); use {_one_of(usable_sources(net, loss))}")
    for name, v in (("confidence", confidence), ("population_confidence", population_confidence)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, Real) or not 0 < float(v) < 1):
            raise InvalidArgument(f"{name}: expected a number strictly between 0 and 1, got {v!r}")
    if isinstance(top, bool) or not isinstance(top, Integral) or top < 0:
        raise InvalidArgument(f"top: expected a non-negative integer, got {top!r}")
    e = to_fraction(eps, "eps", decimal=True)
    d = to_fraction(delta, "delta", decimal=True)
    if not 0 < d < 1:
        raise InvalidArgument(f"delta: expected a probability in (0, 1), got {delta!r}")
    try:
        X = np.asarray(X, dtype=float)
    except (TypeError, ValueError):
        raise InvalidArgument("X: expected a batch of numbers (B, n_0)") from None
    n0 = int(np.prod(net.input_shape))
    if X.ndim != 2 or X.shape[1] != n0 or X.shape[0] == 0:
        got = "no input" if X.ndim == 0 or X.shape[0] == 0 else (
            f"{X.shape[0]} inputs of {X.shape[1]} numbers" if X.ndim == 2 else f"an array of {X.ndim} dimensions")
        raise InvalidArgument(f"X: expected one or more inputs of {n0} numbers each (one per row), got {got}")
    if not np.all(np.isfinite(X)):
        raise InvalidArgument("X: expected finite numbers")
    B = X.shape[0]
    targets = None
    if loss is not None:
        if y is None:
            raise InvalidArgument(f"y: the {loss_words(loss)} needs one label per input (a dataset with labels)")
        yl = np.asarray(y)
        if yl.shape != (B,) or yl.dtype.kind not in "iu" or yl.min() < 0 or yl.max() >= net.n_outputs:
            raise InvalidArgument(f"y: expected {B} integer labels in 0 … {net.n_outputs - 1}")
        targets = [int(v) if loss != "squared" else [1.0 if k == int(v) else 0.0 for k in range(net.n_outputs)]
                   for v in yl]
    K = 1 if loss is not None else net.n_outputs
    stat_conf = None
    notes, assumptions = [], ["independent Bernoulli crashes with the stated probabilities",
                              "weights and inputs are the binary rationals their floats hold"]
    rows, methods = None, None
    if source in ("auto", "exact"):
        rows, why = _exact_laws(net, X, model, e, sided, loss, targets, max_configurations)
        if rows is not None:
            methods = ["exact"] * B
        elif source == "exact":
            others = [v for v in SOURCES_FOR_LOSS[loss] if v != "exact"]
            raise InvalidArgument(f"source: the exact law of the {loss_words(loss)} is out of reach: it needs {why}; "
                                  f"use {_one_of(others)}")
    if rows is None and loss == "zero_one":
        if sided != "upper":
            raise InvalidArgument("sided: beyond the exact law the zero-one loss change is certified for the "
                                  "one-sided event Δ_loss ≥ ε only (upper)")
        if e <= 0:
            raise InvalidArgument(f"eps: beyond the exact law the zero-one loss change is certified for ε > 0 "
                                  f"only, got {_text(eps, e)}")
        m = "statistical" if source == "statistical" else "rigorous"
        rows, how, r = _zero_one_values(net, X, yl, model, e, m, None if source == "statistical" else
                                        (order if source == "enclosure" else None), samples, seed,
                                        confidence, force, runner)
        methods = [how] * B
        if how == "statistical":
            stat_conf = float(confidence)
        elif r.order is not None and r.tail_probability > 0:
            notes.append(f"zero-one loss from the accuracy engine: up to {r.order} crashes evaluated, "
                         f"P(more) = {r.tail_probability:.3g} counted as changes")
    elif rows is None and loss is not None:
        if e <= 0:
            raise InvalidArgument(f"eps: beyond the exact law the {loss_words(loss)} change is certified for ε > 0 "
                                  f"only (the crash-free run has Δ_loss = 0), got {_text(eps, e)}")
        rows = _loss_statistical(net, X, targets, model, loss, e, sided, samples, seed, confidence, force, runner)
        methods = ["statistical"] * B
        stat_conf = float(confidence)
        notes.append(f"{loss_words(loss)}: stratified Monte Carlo ({samples} configurations, seed {seed}), events decided "
                     "on the float64 loss")
    if rows is None:
        each_conf = 1 - (1 - float(confidence)) / B
        # per-input bounds: independent pieces of INPUT_PIECE inputs (a runner may spread them)
        pieces = [list(range(a, min(B, a + INPUT_PIECE))) for a in range(0, B, INPUT_PIECE)]
        shared = (net, X, model, eps, delta, source, sided, order, samples, seed, each_conf, K)
        parts = (runner or _in_order)(certify_inputs, pieces, shared)
        got = [row for part in parts for row in part]
        methods = [m_ for m_, _, _ in got]
        rows = [r_ for _, r_, _ in got]
        if source == "statistical":
            stat_conf = float(confidence)
        if any(approx for _, _, approx in got):
            notes.append("an input whose moments are only approximate counts as [0, 1] (not a bound)")
    # aggregation: exact rational means, rounded outward once
    per_output, lo_k, hi_k = [], [], []
    for k in range(K):
        lo = sum((r_[k][0] for r_ in rows), Fraction(0)) / B
        hi = sum((r_[k][1] for r_ in rows), Fraction(0)) / B
        lo_k.append(lo)
        hi_k.append(hi)
        per_output.append({"output": k, "bound_lo": float_down(lo), "bound_hi": float_up(hi)})
    LO, HI = max(lo_k), max(hi_k)
    method = max(set(methods), key=_RANK.get)
    verdict = "certified" if HI <= d else ("not certified" if LO > d else "undecided")
    counts = {m: methods.count(m) for m in ("exact", "rigorous", "statistical") if methods.count(m)}
    if stat_conf is not None:
        assumptions.append(f"statistical over faults: every per-input bound holds together with probability "
                           f"≥ {stat_conf:g} (union bound over the {B} inputs; seed {seed}); not a proof")
    decide = ""
    if verdict != "certified":
        decide = _what_decides(method, verdict, LO, HI, d, source, loss)
    population = None
    if population_confidence is not None:
        population = _population(rows, K, float(population_confidence), stat_conf, d, B)
        if stat_conf is not None:
            assumptions.append("population: the confidences over inputs and over faults combine by the union bound")
    worst = sorted(range(B), key=lambda b: -max(h for _, h in rows[b]))[:int(top)]
    topl = tuple({"index": int(b), "bound_lo": float_down(max(lo for lo, _ in rows[b])),
                  "bound_hi": float_up(max(h for _, h in rows[b])), "method": methods[b]} for b in worst)
    exact_text = None
    if method == "exact" and LO == HI and len(str(HI)) <= 200:
        exact_text = str(HI)
    return DatasetCertificate(
        eps=_text(eps, e), delta=_text(delta, d), sided=sided, n_inputs=B, verdict=verdict,
        bound_lo=float_down(LO), bound_hi=float_up(HI), method=method, confidence=stat_conf, methods=counts,
        per_output=tuple(per_output), population=population, top=topl, decide=decide, loss=loss,
        bound_exact=exact_text, assumptions=tuple(assumptions), notes=tuple(notes),
        each=tuple((float_down(max(lo for lo, _ in r_)), float_up(max(h for _, h in r_))) for r_ in rows),
        seconds=time.perf_counter() - t0)


def _population(rows, K, pc, stat_conf, d, B):
    alpha = 1 - pc
    level = 1 - alpha / K                         # Bonferroni over the outputs
    his = [population_upper_bound([float_up(r[k][1]) for r in rows], level) for k in range(K)]
    los = [population_lower_bound([float_down(r[k][0]) for r in rows], level) for k in range(K)]
    hi, lo = max(his), max(los)
    conf = pc if stat_conf is None else max(0.0, pc - (1 - stat_conf))
    verdict = "certified" if hi <= d else ("not certified" if lo > d else "undecided")
    decide = ""
    if verdict == "undecided":
        decide = ("more inputs (the bound over inputs tightens as their number grows), a lower "
                  "population confidence, or tighter per-input bounds")
    return {"verdict": verdict, "bound_lo": lo, "bound_hi": hi, "confidence": conf, "n_inputs": B, "decide": decide,
            "method": "hoeffding-kl" + (f" (Bonferroni over {K} outputs)" if K > 1 else ""),
            "label": "statistical over inputs, " + ("statistical" if stat_conf is not None else "rigorous")
                     + " over faults",
            "assumptions": ["the inputs are drawn independently from one population (i.i.d.)",
                            "Hoeffding's relative-entropy bound for the mean of [0, 1]-valued variables "
                            "(Hoeffding 1963, Theorem 1), applied to the per-input upper bounds"]}


def _what_decides(method, verdict, lo, hi, d, source, loss):
    if verdict == "not certified":
        if method == "statistical":
            return "the statistical lower bound exceeds δ; the claim is false at this confidence"
        return ""
    ways = []
    if method == "rigorous" and loss is None:
        ways.append("a higher enclosure order (--order)")
        ways.append("the statistical certificate (--source statistical), which the moment inequality does not limit")
    elif method == "rigorous":
        ways.append("more crashes evaluated (--order) or the statistical answer (--source statistical)")
    elif method == "statistical":
        ways.append("more draws per input (--samples)")
    if not ways:
        return ""
    return "; or ".join(ways)
