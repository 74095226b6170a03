r"""Side-by-side comparison of every bound with a reference value and Monte Carlo, and the three-way check.

Every reference value is labelled by what produced it (:data:`REFERENCE_KINDS`):
**rational enumeration** (exact), **enclosure** (rigorous: an interval that
contains the value, floating-point error included), **float enumeration**
(approximate: float64 rounding is not bounded, and under cancellation it can
be wrong in every digit) or **monte-carlo** (statistical).  Only the first two
can confirm an agreement.

* :func:`compare` — for one network and a set of inputs, or a set of
  networks and one input: every bound of :mod:`symft.analysis.bounds`, the reference
  value of the quantity it bounds or estimates (rational enumeration when
  it can run; else the enclosure's midpoint for the moments and a float
  enumeration, or Monte Carlo when the network is too wide, for the other
  functionals — the kind is recorded per quantity and case), Monte Carlo
  with an interval, the relative errors, and the **rank loss** of each
  bound: the fraction of pairs of cases that the bound orders differently
  from the reference values (as in [PFT] Figures 5–6 and Table 2b).  The
  result :class:`ComparisonReport` renders as text, JSON
  (:meth:`ComparisonReport.as_dict`) and a matplotlib figure
  (:meth:`ComparisonReport.figure`, needs the ``plot`` extra).
* :func:`check` — runs T1 (:mod:`symft.engines.taylor`), the best reference for the
  moments (rational enumeration, else a rigorous enclosure, else a float
  enumeration — :mod:`symft.engines.enumeration`) and Monte Carlo, and says with z-scores
  whether they agree: ``"agree"``, ``"disagree"`` or ``"inconclusive"``
  (:class:`CheckResult`).  T1 is only first order: it is compared within
  its rigorous remainder bound when one is available; otherwise its gap to
  the reference is reported as approximation error, not as disagreement.

Examples
--------
>>> from symft.graph.network import random_network
>>> from symft.faults import NeuronCrash
>>> net = random_network([2, 3, 1], seed=0)
>>> rep = compare(net, [[0.5, 1.0], [1.0, -1.0], [0.1, 0.2]], NeuronCrash({1: 0.1}), samples=2000, seed=0)
>>> 0 <= rep.rank_loss["b2"] <= 1
True
>>> check(net, [0.5, 1.0], NeuronCrash({1: 0.1}), samples=20000, seed=1).verdict
'agree'
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from ..engines import enumeration
from ..engines.forward import as_inputs
from ..engines.moments import NoSourceError, moments
from ..errors import InvalidArgument, SymftError, TooLargeError
from ..faults import NeuronCrash
from ..graph.numbers import to_fraction
from ..problem import make_problem, sharing
from ..engines.sampling import (SamplingWarning, crash_probability, crashed_errors, crashed_sample_size, error_bound,
                               interval_warnings, monte_carlo, normal_quantile)
from ..results import result
from ..rounding import interval, rounded

__all__ = ["ComparisonReport", "compare", "rank_loss", "CheckResult", "check", "NORM_FUNCTIONS"]

#: The exact functionals of Δ (shape (P, n_L)) each bound quantity refers to.
NORM_FUNCTIONS = {
    "E‖Δ‖_1": lambda d, k: np.abs(d).sum(axis=1),
    "E‖Δ‖_2": lambda d, k: np.sqrt((d * d).sum(axis=1)),
    "E‖Δ‖_inf": lambda d, k: np.abs(d).max(axis=1),
    "E|Δ_k|": lambda d, k: np.abs(d[:, k]),
    "E Δ_k": lambda d, k: d[:, k],
    "E Δ_k²": lambda d, k: d[:, k] ** 2,
}


def rank_loss(values, reference) -> float | None:
    r"""Fraction of pairs ``(a, b)`` with ``ref_a ≠ ref_b`` that ``values`` orders the other way.

    A tie in ``values`` counts one half.  ``None`` with fewer than two
    distinct reference values.

    Examples
    --------
    >>> rank_loss([1, 2, 3], [10, 20, 30]), rank_loss([3, 2, 1], [10, 20, 30]), rank_loss([1, 1, 2], [1, 2, 3])
    (0.0, 1.0, 0.16666666666666666)
    """
    v = [float(a) for a in values]
    r = [float(a) for a in reference]
    if len(v) != len(r):
        raise InvalidArgument(f"values, reference: expected the same length, got {len(v)} and {len(r)}")
    wrong, total = 0.0, 0
    for i in range(len(v)):
        for j in range(i + 1, len(v)):
            if r[i] == r[j]:
                continue
            total += 1
            if v[i] == v[j]:
                wrong += 0.5
            elif (v[i] < v[j]) != (r[i] < r[j]):
                wrong += 1
    return None if total == 0 else wrong / total


# ---------------------------------------------------------------------- reference values

#: What each kind of reference value is (the label every comparison carries).
REFERENCE_KINDS = {
    "rational enumeration": "exact: every crash configuration evaluated in rational arithmetic",
    "enclosure": "rigorous: an interval proved to contain the value, floating-point error included",
    "float enumeration": "approximate: every crash configuration evaluated in float64, rounding errors not bounded",
    "monte-carlo": "statistical: a Monte Carlo estimate",
}
#: The references a verdict of agreement can rest on.
RIGOROUS_REFERENCES = ("rational enumeration", "enclosure")
#: The methods of :func:`symft.engines.moments.moments` a reference value may come from (T1 is what the
#: check tests, never its reference).
REFERENCE_METHODS = ("rational", "enclosure", "float", "monte-carlo")
#: The enclosure used as a reference evaluates at most this many configurations (all of them — the full
#: order, where the only width left is the floating-point margin — when they fit).
ENCLOSURE_CONFIGURATIONS = 2 ** 18
_MOMENT_QUANTITIES = ("E Δ_k", "Var Δ_k", "E Δ_k²")


def _exact_functionals(dist, quantities, k):
    """Every quantity from an exact law of Δ (``E‖Δ‖_2`` to 30 digits)."""
    import mpmath

    atoms = [[to_fraction(v) for v in a] for a in dist.atoms]
    probs = [to_fraction(q) for q in dist.probabilities]
    exact_f = {
        "E‖Δ‖_1": lambda a: sum(abs(v) for v in a),
        "E‖Δ‖_inf": lambda a: max(abs(v) for v in a),
        "E|Δ_k|": lambda a: abs(a[k]),
        "E Δ_k": lambda a: a[k],
        "E Δ_k²": lambda a: a[k] * a[k],
    }
    mean_k = sum((p * a[k] for p, a in zip(probs, atoms)), Fraction(0))
    vals = {}
    for q in quantities:
        if q == "Var Δ_k":
            v = sum((p * (a[k] - mean_k) ** 2 for p, a in zip(probs, atoms)), Fraction(0))
        elif q == "E‖Δ‖_2":
            with mpmath.workdps(30):
                v = sum(mpmath.mpf(p.numerator) / p.denominator
                        * mpmath.sqrt(mpmath.mpf(sum(t * t for t in a).numerator) / sum(t * t for t in a).denominator)
                        for p, a in zip(probs, atoms))
        else:
            v = sum((p * exact_f[q](a) for p, a in zip(probs, atoms)), Fraction(0))
        vals[q] = float(v)
    return vals


def _float_functionals(dist, quantities, k):
    """Every quantity from a float64 law of Δ."""
    atoms = np.array(dist.atoms, dtype=float)
    probs = np.array([float(q) for q in dist.probabilities])
    vals = {}
    for q in quantities:
        if q == "Var Δ_k":
            m = float((probs * atoms[:, k]).sum())
            vals[q] = float((probs * (atoms[:, k] - m) ** 2).sum())
        else:
            vals[q] = float((probs * NORM_FUNCTIONS[q](atoms, k)).sum())
    return vals


def _reference(net, x, model, quantities, output, samples, seed):
    r"""Reference values of the quantities, and what each one is (a kind of :data:`REFERENCE_KINDS`).

    The moments come from :func:`symft.engines.moments.moments` among
    :data:`REFERENCE_METHODS`: rational enumeration when it can run (then its
    law gives every functional exactly; ``E‖Δ‖_2`` to 30 digits), else an
    enclosure (its midpoint; rigorous interval), else a float enumeration,
    else Monte Carlo (seed ``seed + 1``).  The other functionals come from the
    law an enumeration gave, else from a float enumeration of the law, else
    from Monte Carlo draws given a failure (seed ``seed + 1``).
    """
    pb = make_problem(net, x, model)
    vals, kinds = {}, {}
    try:
        m = moments(pb, among=REFERENCE_METHODS, distribution=True, configurations=ENCLOSURE_CONFIGURATIONS,
                    samples=samples, seed=seed + 1)
    except NoSourceError:
        m = None
    if m is not None and m.distribution is not None:
        law = _exact_functionals if m.method == "rational enumeration" else _float_functionals
        vals = law(m.distribution, quantities, output)
        return vals, {q: m.method for q in quantities}
    if m is not None:
        f = m.floats()
        second = (0.5 * (f["second_lo"] + f["second_hi"]) if "second_lo" in f else f["var"] + f["mean"] ** 2)
        mom = {"E Δ_k": f["mean"], "Var Δ_k": f["var"], "E Δ_k²": second}
        for q in quantities:
            if q in mom:
                vals[q] = float(mom[q][output])
                kinds[q] = m.method
    rest = [q for q in quantities if q not in vals]
    if rest:
        try:
            dist = enumeration.error_distribution(net, pb.X[0], model, exact=False)
            vals.update(_float_functionals(dist, rest, output))
            kinds.update({q: "float enumeration" for q in rest})
        except TooLargeError:
            pass
    rest = [q for q in quantities if q not in vals]
    if rest:
        # every functional here vanishes at Δ = 0: E f(Δ) = P(failure) · E[f(Δ) | failure]
        pc = crash_probability(net, model)
        d, pc = crashed_errors(net, pb.X[0], model, crashed_sample_size(samples, pc), seed + 1)
        n = d.shape[0]
        for q in rest:
            if n == 0:
                vals[q] = 0.0
            elif q == "Var Δ_k":
                mk, s2 = d[:, output].mean(), d[:, output].var(ddof=1) if n > 1 else 0.0
                vals[q] = float(pc * s2 * (1 - (1 - pc) / n) + pc * (1 - pc) * mk * mk)
            else:
                vals[q] = float(pc * NORM_FUNCTIONS[q](d, output).mean())
            kinds[q] = "monte-carlo"
    return vals, kinds


def _source_label(kinds: dict) -> str:
    order = list(REFERENCE_KINDS)
    return "+".join(sorted(set(kinds.values()), key=order.index)) or "none"


@result
@dataclass(frozen=True)
class ComparisonReport:
    r"""Bounds vs reference values vs Monte Carlo over a set of cases (inputs or networks).

    Each reference value is labelled with what produced it (a kind of
    :data:`REFERENCE_KINDS`): only ``"rational enumeration"`` is exact.

    Attributes
    ----------
    cases : tuple of str
        Case labels (``"input 0"``, … or network names).
    output : int
        The output component used for per-output quantities.
    bounds : tuple of (name, statement, quantity, rigorous)
    values : tuple of tuple
        ``values[j][c]``: bound ``j`` at case ``c`` (NaN when it does not apply).
    reference : tuple of tuple
        ``reference[j][c]``: the reference value of bound ``j``'s quantity at case ``c``.
    reference_source : tuple of str
        Per case, the kinds of reference used, joined by ``+``:
        ``"rational enumeration"`` (every quantity exact), or
        ``"enclosure+float enumeration"`` (the moments: midpoint of a rigorous
        enclosure; the norms: float64 enumeration), ``"float enumeration"``,
        ``"…+monte-carlo"`` (Monte Carlo with seed ``seed + 1`` for what
        cannot be enumerated).
    mc_mean, mc_low, mc_high : tuple of float
        Monte Carlo ``E Δ_output`` and its interval, per case.
    rank_loss : dict {bound name: float or None}
    samples, seed : int
    quantity_sources : tuple of dict
        Per case, ``{quantity: kind of its reference}``.
    notes : tuple of str
        Warnings of the Monte Carlo runs (few draws with a failure, skewed errors).

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> r = compare(mean_network(3), [[1, 1, 1], [1, 2, 3]], NeuronCrash({0: 0.1}), samples=500, seed=0)
    >>> r.cases, "b2" in r.rank_loss
    (('input 0', 'input 1'), True)
    """

    cases: tuple
    output: int
    bounds: tuple
    values: tuple
    reference: tuple
    reference_source: tuple
    mc_mean: tuple
    mc_low: tuple
    mc_high: tuple
    rank_loss: dict = field(compare=False)
    samples: int = 0
    seed: int = 0
    quantity_sources: tuple = field(default=(), compare=False)
    notes: tuple = ()

    def _kind(self, j, c):
        if not self.quantity_sources:
            return self.reference_source[c]
        return self.quantity_sources[c].get(self.bounds[j][2], "none")

    def relative_errors(self) -> tuple:
        r"""``(value − reference) / |reference|`` per bound and case (NaN when the reference is 0).

        Examples
        --------
        >>> from symft.graph.network import first_input_network
        >>> r = compare(first_input_network(2), [[2, 1]], NeuronCrash({0: 0.1}), samples=100, seed=0)
        >>> dict(zip([b[0] for b in r.bounds], r.relative_errors()))["b2"]   # AP2 is tight for y = x_1
        (0.0,)
        """
        out = []
        for vals, refs in zip(self.values, self.reference):
            out.append(tuple((v - r) / abs(r) if r != 0 and math.isfinite(v) else math.nan
                             for v, r in zip(vals, refs)))
        return tuple(out)

    def as_dict(self) -> dict:
        """JSON-ready dictionary (NaN becomes ``None``).

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> d = compare(mean_network(2), [[1, 1]], NeuronCrash({0: 0.1}), samples=100, seed=0).as_dict()
        >>> sorted(d)[:3]
        ['bounds', 'cases', 'monte_carlo']
        """
        def f(v):
            return None if v is None or not math.isfinite(v) else float(v)

        rel = self.relative_errors()
        C = range(len(self.cases))
        return {
            "cases": list(self.cases), "output": self.output, "samples": self.samples, "seed": self.seed,
            "reference_source": list(self.reference_source), "notes": list(self.notes),
            "monte_carlo": {"mean": [f(v) for v in self.mc_mean], "ci_low": [f(v) for v in self.mc_low],
                            "ci_high": [f(v) for v in self.mc_high]},
            "bounds": [{"name": n, "statement": s, "quantity": q, "rigorous": r,
                        "value": [f(v) for v in vals], "reference": [f(v) for v in refs],
                        "reference_source": [self._kind(j, c) for c in C],
                        # the exact value only where the reference is exact
                        "exact": [f(v) if self._kind(j, c) == "rational enumeration" else None
                                  for c, v in zip(C, refs)],
                        "relative_error": [f(v) for v in re], "rank_loss": f(self.rank_loss.get(n))}
                       for j, ((n, s, q, r), vals, refs, re) in enumerate(zip(self.bounds, self.values,
                                                                              self.reference, rel))],
        }

    def text(self) -> str:
        """A plain-text table (a proved upper bound rounded up, an estimate to nearest).

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> print(compare(mean_network(2), [[1, 1]], NeuronCrash({0: 0.1}), samples=100, seed=0).text())  # doctest: +ELLIPSIS
        bound ...
        """
        lines = [f"{'bound':<13} {'statement':<20} {'quantity':<10} {'kind':<9} {'rank loss':>9}  "
                 + "  ".join(f"{c:>24}" for c in self.cases)]
        rel = self.relative_errors()
        for (n, s, q, r), vals, refs, re in zip(self.bounds, self.values, self.reference, rel):
            rl = self.rank_loss.get(n)
            cells = []
            for v, ref, e in zip(vals, refs, re):
                vt = rounded(v, "up", 4) if r else f"{v:.4g}"      # a proved upper bound is printed rounded up
                cells.append(f"{vt:>11} / {ref:<10.4g}" + (f"{e:+7.0%}" if math.isfinite(e) else "    n/a")
                             if math.isfinite(v) else f"{'—':>24}")
            lines.append(f"{n:<13} {s[:20]:<20} {q:<10} {'bound' if r else 'estimate':<9} "
                         f"{'—' if rl is None else f'{rl:.2f}':>9}  " + "  ".join(f"{c:>24}" for c in cells))
        lines.append("cells: value / reference (relative error); reference: "
                     + "; ".join(f"{c}: {src}" for c, src in zip(self.cases, self.reference_source)))
        kinds = {k for src in self.reference_source for k in src.split("+")}
        for k in REFERENCE_KINDS:
            if k in kinds:
                lines.append(f"  {k} = {REFERENCE_KINDS[k]}")
        lines.append("Monte Carlo E Δ_%d: " % self.output + "; ".join(
            f"{c}: {m:.4g} [{lo:.4g}, {hi:.4g}]" for c, m, lo, hi in
            zip(self.cases, self.mc_mean, self.mc_low, self.mc_high)))
        for n in self.notes:
            lines.append(f"note: {n}")
        return "\n".join(lines)

    def figure(self, path=None):
        """A matplotlib figure: each bound against the exact value (log scale), and the rank losses.

        Needs the ``plot`` extra (``pip install symft[plot]``); raises
        :class:`~symft.errors.SymftError` otherwise.  Saves to ``path`` when given.  Uses a
        :class:`matplotlib.figure.Figure` of its own: no pyplot, no backend or global state changed.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> r = compare(mean_network(2), [[1, 1], [1, 2]], NeuronCrash({0: 0.1}), samples=100, seed=0)
        >>> fig = r.figure()   # doctest: +SKIP
        """
        try:
            import matplotlib  # noqa: F401  (the package itself first: a stale matplotlib.figure is not enough)
            from matplotlib.figure import Figure
        except ImportError:
            raise SymftError("the figure needs matplotlib: pip install 'symft[plot]'") from None
        fig = Figure(figsize=(11, 4.5))
        ax1, ax2 = fig.subplots(1, 2)
        for (n, s, q, r), vals, refs in zip(self.bounds, self.values, self.reference):
            pts = [(abs(a), abs(b)) for a, b in zip(refs, vals) if math.isfinite(a) and math.isfinite(b)
                   and a != 0 and b != 0]
            if pts:
                ax1.scatter(*zip(*pts), label=n, s=18)
        lims = [v for pair in self.reference for v in pair if math.isfinite(v) and v != 0]
        if lims:
            lo, hi = min(map(abs, lims)), max(map(abs, lims))
            ax1.plot([lo, hi], [lo, hi], "k--", lw=0.8, label="y = x")
        ax1.set_xscale("log")
        ax1.set_yscale("log")
        ax1.set_xlabel("reference value of the quantity (" + ", ".join(sorted(set(self.reference_source))) + ")")
        ax1.set_ylabel("bound / estimate")
        ax1.legend(fontsize=7)
        names = [b[0] for b in self.bounds if self.rank_loss.get(b[0]) is not None]
        ax2.bar(names, [self.rank_loss[n] for n in names])
        ax2.set_ylabel("rank loss (fraction of wrongly ordered pairs)")
        ax2.set_ylim(0, 1)
        ax2.tick_params(axis="x", rotation=60, labelsize=7)
        fig.tight_layout()
        if path is not None:
            fig.savefig(path, dpi=120)
        return fig


def compare(net_or_nets, x, model, *, samples: int = 20000, seed: int = 0, output: int = 0,
            confidence: float = 0.95) -> ComparisonReport:
    r"""Compare every bound with exact values and Monte Carlo over several cases.

    Parameters
    ----------
    net_or_nets : Network, or mapping {name: Network}
        One network (then ``x`` is a batch of inputs, one case each), or
        several networks (then ``x`` is one input, one case per network).
    x : array_like
    model : NeuronCrash, or callable ``net -> NeuronCrash``
        (A callable lets each network of a set get its own layers.)
    samples, seed : int
        Monte Carlo (also the fallback reference when enumeration is too large).
        The Monte Carlo column draws only configurations with a failure and
        scales by their exact probability (:func:`symft.engines.sampling.monte_carlo`).
    output : int
        The output component for per-output quantities.

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> nets = {f"seed {s}": random_network([2, 3, 1], seed=s) for s in range(3)}
    >>> r = compare(nets, [0.5, -0.5], NeuronCrash({1: 0.1}), samples=1000, seed=0)
    >>> r.cases
    ('seed 0', 'seed 1', 'seed 2')
    """
    from .bounds import all_bounds
    from ..graph.network import Network

    if isinstance(net_or_nets, Network):
        X, _ = as_inputs(net_or_nets, x, "x")
        cases = [(f"input {b}", net_or_nets, X[b]) for b in range(X.shape[0])]
    else:
        try:
            items = list(dict(net_or_nets).items())
        except (TypeError, ValueError):
            raise InvalidArgument("net_or_nets: expected a Network or a mapping {name: Network}") from None
        xv = np.asarray(x, dtype=float)
        if xv.ndim != 1:
            raise InvalidArgument("x: with several networks, expected one input vector")
        cases = [(str(n), v, xv) for n, v in items]
    if not cases:
        raise InvalidArgument("x: expected at least one case")
    names, stmts = [], {}
    per_case = []
    srcs, qsrcs, mcm, mcl, mch, notes = [], [], [], [], [], []
    for label, net, xc in cases:
        m = model(net) if callable(model) and not isinstance(model, NeuronCrash) else model
        if not 0 <= output < net.n_outputs:
            raise InvalidArgument(f"output: expected 0 … {net.n_outputs - 1}, got {output}")
        bs = all_bounds(net, xc, m)
        quantities = sorted({b.quantity for b in bs})
        ref, kinds = _reference(net, xc, m, quantities, output, samples, seed)
        row = {}
        for b in bs:
            v = b.value[output] if b.per_output else b.value[0]
            row[b.name] = (v, ref[b.quantity])
            if b.name not in stmts:
                names.append(b.name)
                stmts[b.name] = (b.name, b.statement, b.quantity, b.rigorous)
        per_case.append(row)
        srcs.append(_source_label(kinds))
        qsrcs.append(dict(kinds))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SamplingWarning)
            mc = monte_carlo(net, xc, m, samples, seed, confidence=confidence, show_progress=False)
        notes += [f"{label}: Monte Carlo: {w}" for w in mc.warnings]
        mcm.append(mc.mean[output])
        mcl.append(mc.ci_low[output])
        mch.append(mc.ci_high[output])
    values = tuple(tuple(row.get(n, (math.nan, math.nan))[0] for row in per_case) for n in names)
    reference = tuple(tuple(row.get(n, (math.nan, math.nan))[1] for row in per_case) for n in names)
    rl = {}
    for n, vals, refs in zip(names, values, reference):
        ok = [(v, r) for v, r in zip(vals, refs) if math.isfinite(v) and math.isfinite(r)]
        rl[n] = rank_loss(*zip(*ok)) if len(ok) >= 2 else None
    return ComparisonReport(tuple(c[0] for c in cases), output, tuple(stmts[n] for n in names), values, reference,
                            tuple(srcs), tuple(mcm), tuple(mcl), tuple(mch), rl, samples, seed,
                            tuple(qsrcs), tuple(notes))


# ---------------------------------------------------------------------- three-way check

@result
@dataclass(frozen=True)
class CheckResult:
    r"""The outcome of :func:`check`: pairwise comparisons with z-scores and a verdict.

    Attributes
    ----------
    verdict : {"agree", "disagree", "inconclusive"}
    comparisons : tuple of dict
        Each: ``output``, ``quantity``, ``a``/``b`` (the two methods; the
        reference is named by its kind), ``value_a``, ``value_b`` (or
        intervals), ``z`` (when statistical), ``status`` (``"agree"``,
        ``"disagree"``, ``"approximation error"``, or ``"untested"`` when
        every Monte Carlo draw gave the same error and no bound on ``|Δ|``
        is available to test with; with a proved bound, such a comparison
        uses the distribution-free interval of
        :class:`~symft.engines.sampling.MonteCarloResult` instead of a z-score).
    exact_source : str
        The reference that ran (a kind of :data:`REFERENCE_KINDS`):
        ``"rational enumeration"`` (exact), ``"enclosure"`` (rigorous
        interval), ``"float enumeration"`` (approximate: it cannot confirm
        agreement), or ``"none"``.
    t1_remainder : bool
        Whether T1 came with a rigorous remainder bound.
    threshold : float
        The ``|z|`` above which a statistical comparison disagrees.
    samples, seed : int
    notes : tuple of str
    crashed_samples : int
        Monte Carlo draws given at least one failure (see :func:`symft.engines.sampling.monte_carlo`).
    p_crash : float
        The probability of at least one failure.

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> r = check(mean_network(4), [1, 1, 1, 1], NeuronCrash({0: 0.1}), samples=20000, seed=0)
    >>> r.verdict, r.exact_source
    ('agree', 'rational enumeration')
    """

    verdict: str
    comparisons: tuple
    exact_source: str
    t1_remainder: bool
    threshold: float
    samples: int
    seed: int
    notes: tuple = ()
    crashed_samples: int = 0
    p_crash: float = 1.0

    @property
    def reference_rigorous(self) -> bool:
        """Whether the reference is exact or a rigorous enclosure (only then can the verdict be ``"agree"``).

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> check(mean_network(2), [1, 1], NeuronCrash({0: 0.1}), samples=1000, seed=0).reference_rigorous
        True
        """
        return self.exact_source in RIGOROUS_REFERENCES

    def as_dict(self) -> dict:
        """JSON-ready dictionary.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> check(mean_network(2), [1, 1], NeuronCrash({0: 0.1}), samples=1000, seed=0).as_dict()["verdict"]
        'agree'
        """
        return {"verdict": self.verdict, "exact_source": self.exact_source,
                "reference_rigorous": self.reference_rigorous, "t1_remainder": self.t1_remainder,
                "threshold": self.threshold, "samples": self.samples, "crashed_samples": self.crashed_samples,
                "p_crash": self.p_crash, "seed": self.seed,
                "comparisons": [dict(c) for c in self.comparisons], "notes": list(self.notes)}

    def summary(self) -> str:
        """The answer in one plain line: the verdict, and what it rests on.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> check(mean_network(2), [1, 1], NeuronCrash({0: 0.1}), samples=1000, seed=0).summary()[:6]
        'AGREE:'
        """
        st = [c["status"] for c in self.comparisons]
        n = len(st)
        if self.verdict == "disagree":
            return f"DISAGREE: {st.count('disagree')} of {n} comparisons disagree (below)"
        if self.verdict == "inconclusive":
            why = (f"{st.count('untested')} of {n} comparisons could not test anything" if "untested" in st
                   else "nothing independent of Monte Carlo to compare it with")
            return f"INCONCLUSIVE: {why} (see the notes)"
        t1 = " and Taylor (T1)" if any(c['a'].startswith('T1') for c in self.comparisons) else ""
        return f"AGREE: Monte Carlo{t1} match the {self.exact_source} on E Δ, Var Δ ({n} comparisons)"

    def text(self) -> str:
        """Human-readable summary (the one-line answer first); proved intervals rounded outward.

        Examples
        --------
        >>> from symft.graph.network import mean_network
        >>> "verdict" in check(mean_network(2), [1, 1], NeuronCrash({0: 0.1}), samples=1000, seed=0).text()
        True
        """
        lines = [self.summary()]
        for c in self.comparisons:
            z = "" if c.get("z") is None else f"  z = {c['z']:+.2f}"
            lines.append(f"output {c['output']}  {c['quantity']:<7} {c['a']:>18} vs {c['b']:<20} "
                         f"{c['detail']}{z}  → {c['status']}")
        for n in self.notes:
            lines.append(f"note: {n}")
        what = REFERENCE_KINDS.get(self.exact_source, "no reference value")
        lines.append(f"reference: {self.exact_source} ({what})")
        lines.append(f"verdict: {self.verdict.upper()}  (|z| threshold {self.threshold:.2f}; {self.samples} samples: "
                     f"{self.crashed_samples} Monte Carlo draws given at least one failure, whose probability "
                     f"{self.p_crash:.4g} is computed, not sampled; seed {self.seed})")
        return "\n".join(lines)


def _dist_to_interval(v, lo, hi):
    return 0.0 if lo <= v <= hi else (lo - v if v < lo else v - hi)


def check(net, x, model, *, samples: int = 100000, seed: int = 0, order: int = 2,
          confidence: float = 0.999) -> CheckResult:
    r"""Do T1, a reference value (exact or rigorously enclosed) and Monte Carlo agree?

    The reference is the best available, labelled by what it is
    (:data:`REFERENCE_KINDS`): **rational enumeration** (exact: every crash
    configuration in rational arithmetic, when the activations are
    piecewise linear with rational pieces and there are few
    configurations), else an **enclosure** (rigorous: floating-point error
    included; of the full order when the configurations fit, else of order
    ``order`` or more), else a **float enumeration** (approximate: float64
    rounding is not bounded — under cancellation it can be wrong in every
    digit, so it never confirms agreement).

    For every output ``k``:

    * **reference vs Monte Carlo** (mean and variance): ``z = (mc − ref) / se``
      (for an enclosure, the distance from the interval in standard errors);
      the standard error of the variance is that of its estimate (delta
      method on the draws).  Monte Carlo draws only the configurations with a
      failure and scales by their exact probability.
    * **T1 vs reference**: with T1's rigorous remainder bound ``r``, agreement
      means ``|ref − T1| ≤ r`` (for an enclosure: the intervals
      intersect); without one, the gap is reported as *approximation error*
      and does not count against agreement.
    * **T1 vs Monte Carlo** (only when there is no reference): the distance
      from T1's interval in standard errors.

    A statistical comparison disagrees when ``|z|`` exceeds the two-sided
    ``confidence`` quantile with a Bonferroni correction over all the
    statistical comparisons made.  Verdict: ``"disagree"`` if any comparison
    disagrees; ``"agree"`` if all agree and Monte Carlo was compared with
    an exact value or a rigorous enclosure (an independent method);
    ``"inconclusive"`` otherwise — also when a comparison is untested
    because every draw gave the same error.

    Examples
    --------
    >>> from symft.graph.network import first_input_network
    >>> check(first_input_network(3), [2, 5, 7], NeuronCrash({0: 0.1}), samples=20000, seed=3).verdict
    'agree'
    """
    if not isinstance(model, NeuronCrash):
        raise InvalidArgument(f"model: expected a NeuronCrash, got {type(model).__name__}")
    pb = make_problem(net, x, model)
    xf = pb.X[0]
    K = net.n_outputs
    notes = []
    with sharing(pb):   # one clean pass for Monte Carlo, the reference and T1
        # --- Monte Carlo (checked first: an absurd sample count is refused before any other work)
        pc = crash_probability(net, model)
        n = crashed_sample_size(samples, pc)
        d, pc = crashed_errors(net, xf, model, n, seed)
        # --- the reference: the moments chooser, among the methods independent of T1 and Monte Carlo
        kind = "none"
        try:
            ref = moments(pb, among=("rational", "enclosure", "float"), order=order,
                          configurations=ENCLOSURE_CONFIGURATIONS)
            notes += list(ref.notes)
            kind = ref.method
            f = ref.floats()
            r_mlo, r_mhi, r_vlo, r_vhi, r_m, r_v = (f[k] for k in ("mean_lo", "mean_hi", "var_lo", "var_hi", "mean",
                                                                     "var"))
            if kind not in RIGOROUS_REFERENCES:
                notes.append("the reference is a float64 enumeration: its rounding errors are not bounded, "
                             "so it cannot confirm agreement")
        except NoSourceError as e:
            notes += list(e.notes)
        # --- T1 (with its rigorous remainder bound when there is one)
        t1m = t1v = t1_iv = None
        try:
            t = moments(pb, "taylor")
            ft = t.floats()
            t1m, t1v = ft["mean"], ft["var"]
            if t.method == "taylor+remainder":
                t1_iv = {"mean": (ft["mean_lo"], ft["mean_hi"]), "var": (ft["var_lo"], ft["var_hi"])}
            else:
                notes.append(f"T1 remainder not available: {t.note}")
        except (ImportError, NotImplementedError, InvalidArgument, TooLargeError) as e:
            notes.append(f"T1 not available: {e}")
    # --- Monte Carlo statistics: E Δ = P(C) E[Δ | C]; Var Δ = P(C) E[Δ² | C] − (P(C) E[Δ | C])²
    if n >= 2:
        mean_c = d.mean(axis=0)
        s2 = d.var(axis=0, ddof=1)
        mc_mean = pc * mean_c
        se_mean = pc * np.sqrt(s2 / n)
        mc_var = pc * s2 * (1 - (1 - pc) / n) + pc * (1 - pc) * mean_c ** 2
        g = pc * d * d - 2 * pc * pc * mean_c * d         # the linearised variance estimate, per draw
        se_var = g.std(axis=0, ddof=1) / math.sqrt(n)
        same = np.all(d == d[:1], axis=0)                 # no variation at all: no standard error
        se_mean, se_var = np.where(same, 0.0, se_mean), np.where(same, 0.0, se_var)
        D = error_bound(net, xf[None, :], model)[0] if np.any(same) else np.full(K, np.inf)
        c3 = d - mean_c
        notes += [f"Monte Carlo: {w}" for w in interval_warnings(n, model.n_neurons(net), (c3 ** 2).sum(axis=0),
                                                         (c3 ** 3).sum(axis=0), confidence, same,
                                                         bool(np.all(np.isfinite(D[same]))))]
    else:   # nothing can fail: Δ = 0 exactly
        mc_mean = mc_var = se_mean = se_var = mean_c = np.zeros(K)
        same, D = np.zeros(K, dtype=bool), np.zeros(K)

    stat = []   # (comparison dict) to be judged with z
    comps = []
    for k in range(K):
        if kind in ("rational enumeration", "float enumeration"):
            for q, mcv, se, ev in (("mean", mc_mean[k], se_mean[k], r_m[k]), ("var", mc_var[k], se_var[k], r_v[k])):
                z = 0.0 if mcv == ev else ((mcv - ev) / se if se > 0 else None)
                c = {"output": k, "quantity": q, "a": "monte-carlo", "b": kind, "value_a": float(mcv),
                     "value_b": float(ev), "z": z if z is None else float(z), "detail": f"{mcv:.6g} vs {ev:.6g}",
                     "_ref": (ev, ev)}
                stat.append(c)
        elif kind == "enclosure":
            for q, mcv, se, lo, hi in (("mean", mc_mean[k], se_mean[k], r_mlo[k], r_mhi[k]),
                                       ("var", mc_var[k], se_var[k], r_vlo[k], r_vhi[k])):
                dist = _dist_to_interval(mcv, lo, hi)
                z = 0.0 if dist == 0 else (dist / se if se > 0 else None)
                stat.append({"output": k, "quantity": q, "a": "monte-carlo", "b": "enclosure",
                             "value_a": float(mcv), "value_b": [float(lo), float(hi)],
                             "z": z if z is None else float(z),
                             "detail": f"{mcv:.6g} vs {interval(lo, hi)}", "_ref": (lo, hi)})
        if t1m is not None:
            for q, tv in (("mean", t1m[k]), ("var", t1v[k])):
                iv = None if t1_iv is None else (t1_iv[q][0][k], t1_iv[q][1][k])
                if kind != "none":
                    ref_iv = (r_mlo[k], r_mhi[k]) if q == "mean" else (r_vlo[k], r_vhi[k])
                    ref_pt = r_m[k] if q == "mean" else r_v[k]
                    gap = tv - ref_pt
                    if iv is not None:
                        ok = ref_iv[1] >= iv[0] and ref_iv[0] <= iv[1]
                        comps.append({"output": k, "quantity": q, "a": "T1 ± remainder", "b": kind,
                                      "value_a": [float(iv[0]), float(iv[1])],
                                      "value_b": [float(ref_iv[0]), float(ref_iv[1])], "z": None,
                                      "detail": f"{interval(*iv)} vs {interval(*ref_iv)}",
                                      "status": "agree" if ok else "disagree"})
                    else:
                        comps.append({"output": k, "quantity": q, "a": "T1 (first order)", "b": kind,
                                      "value_a": float(tv), "value_b": [float(ref_iv[0]), float(ref_iv[1])],
                                      "z": None, "detail": f"{tv:.6g} vs {interval(*ref_iv)} (gap {gap:.3g})",
                                      "status": "approximation error"})
                else:
                    mcv, se = (mc_mean[k], se_mean[k]) if q == "mean" else (mc_var[k], se_var[k])
                    if iv is not None:
                        dist = _dist_to_interval(mcv, iv[0], iv[1])
                        z = 0.0 if dist == 0 else (dist / se if se > 0 else None)
                        stat.append({"output": k, "quantity": q, "a": "monte-carlo", "b": "T1 ± remainder",
                                     "value_a": float(mcv), "value_b": [float(iv[0]), float(iv[1])],
                                     "z": z if z is None else float(z),
                                     "detail": f"{mcv:.6g} vs {interval(*iv)}",
                                     "_ref": iv})
                    else:
                        comps.append({"output": k, "quantity": q, "a": "T1 (first order)", "b": "monte-carlo",
                                      "value_a": float(tv), "value_b": float(mcv), "z": float((mcv - tv) / se)
                                      if se > 0 else None, "detail": f"{tv:.6g} vs {mcv:.6g}",
                                      "status": "approximation error"})
    m = max(1, len(stat))
    alpha = 1 - confidence
    thr = normal_quantile(1 - alpha / (2 * m))
    too_wide = 0
    for c in stat:
        ref_lo, ref_hi = c.pop("_ref")
        if c["z"] is not None:
            c["status"] = "agree" if abs(c["z"]) <= thr else "disagree"
            k = c["output"]
            se = se_mean[k] if c["quantity"] == "mean" else se_var[k]
            if c["status"] == "agree" and ref_hi - ref_lo > 2 * thr * se:
                # an interval wider than Monte Carlo's own cannot catch an error Monte Carlo could see
                c["status"] = "untested"
                c["detail"] += " (the reference interval is wider than Monte Carlo's: it tests nothing)"
                too_wide += 1
            continue
        # Every draw gave the same error v: no standard error, and the draws may have missed rare
        # configurations with another error (a z of ±inf would be a false disagreement).  With a proved
        # bound |Δ| ≤ D, the distribution-free interval of the rule of three at the same level decides.
        k = c["output"]
        v, Dk = float(mean_c[k]), float(D[k])
        if not math.isfinite(Dk):
            c["status"] = "untested"
            c["detail"] += " (every draw gave the same error; no bound on |Δ| to test with)"
            continue
        u = -math.expm1(math.log(alpha / m) / n)
        a = u * (Dk + abs(v))                                # |E[Δ | failure] − v| ≤ a
        if c["quantity"] == "mean":
            lo, hi = pc * (v - a), pc * (v + a)
        else:
            b = u * (Dk * Dk + v * v)                        # |E[Δ² | failure] − v²| ≤ b
            mu_max = max(abs(v - a), abs(v + a))
            mu_min = 0.0 if v - a <= 0 <= v + a else min(abs(v - a), abs(v + a))
            lo = pc * max(0.0, v * v - b) - (pc * mu_max) * (pc * mu_max)     # beyond float64: ±inf, no error
            hi = pc * (v * v + b) - (pc * mu_min) * (pc * mu_min)
        if not (math.isfinite(lo) and math.isfinite(hi)):
            c["status"] = "untested"
            c["detail"] += " (every draw gave the same error; its interval is beyond the float64 range)"
            continue
        lo, hi = lo - 1e-12 * abs(lo), hi + 1e-12 * abs(hi)
        c["status"] = "agree" if lo <= ref_hi and ref_lo <= hi else "disagree"
        c["detail"] += f" (every draw the same: distribution-free interval [{lo:.6g}, {hi:.6g}])"
    allc = tuple(stat + comps)
    statuses = [c["status"] for c in allc]
    independent = any(c["a"] == "monte-carlo" and c["b"] in RIGOROUS_REFERENCES for c in stat)
    if "disagree" in statuses:
        verdict = "disagree"
    elif "untested" in statuses:
        verdict = "inconclusive"
        if too_wide:
            notes.append(f"{too_wide} comparison(s) tested nothing: the reference interval is wider than Monte "
                         "Carlo's confidence interval (a higher enclosure order, or fewer crashes, would narrow it)")
        if too_wide < statuses.count("untested"):
            notes.append("a Monte Carlo comparison could not be tested: every draw gave the same error and "
                         "|Δ| has no proved bound")
    elif independent:
        verdict = "agree"
    else:
        verdict = "inconclusive"
        notes.append("no exact value or rigorous enclosure to compare Monte Carlo with")
    allc = tuple(sorted(allc, key=lambda c: (c["output"], c["quantity"] != "mean", c["a"])))
    return CheckResult(verdict, allc, kind, t1_iv is not None, float(thr), int(samples), int(seed), tuple(notes),
                       int(n), float(pc))


