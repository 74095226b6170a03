r"""Side-by-side comparison of every bound with the exact value and Monte Carlo, and the three-way check.

* :func:`compare` — for one network and a set of inputs, or a set of
  networks and one input: every bound of :mod:`symft.bounds`, the exact value
  of the quantity it bounds or estimates (enumeration; the enclosure's
  midpoint, or Monte Carlo, when the network is too wide — the source is
  recorded), Monte Carlo with an interval, the relative errors, and the
  **rank loss** of each bound: the fraction of pairs of cases that the bound
  orders differently from the exact values (as in [PFT] Figures 5–6 and
  Table 2b).  The result :class:`ComparisonReport` renders as text, JSON
  (:meth:`ComparisonReport.as_dict`) and a matplotlib figure
  (:meth:`ComparisonReport.figure`, needs the ``plot`` extra).
* :func:`check` — runs T1 (:mod:`symft.taylor`), the exact moments or a
  rigorous enclosure (:mod:`symft.exact`) and Monte Carlo, and says with
  z-scores whether they agree: ``"agree"``, ``"disagree"`` or
  ``"inconclusive"`` (:class:`CheckResult`).  T1 is only first order: it is
  compared within its rigorous remainder bound when one is available;
  otherwise its gap to the exact value is reported as approximation error,
  not as disagreement.

Examples
--------
>>> from symft.network import random_network
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
from dataclasses import dataclass, field

import numpy as np

from .errors import InvalidArgument, SymftError, TooLargeError
from .faults import NeuronCrash
from .sampling import monte_carlo, normal_quantile, sample_errors

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

def _reference(net, x, model, quantities, output, samples, seed):
    """Exact (enumeration) values of the quantities, else Monte Carlo estimates; plus the source."""
    from . import exact

    vals = {}
    try:
        dist = exact.error_distribution(net, x, model, exact=False)
        atoms = np.array(dist.atoms, dtype=float)
        probs = np.array([float(q) for q in dist.probabilities])
        for q in quantities:
            if q == "Var Δ_k":
                m = float((probs * atoms[:, output]).sum())
                vals[q] = float((probs * (atoms[:, output] - m) ** 2).sum())
            else:
                vals[q] = float((probs * NORM_FUNCTIONS[q](atoms, output)).sum())
        return vals, "exact"
    except TooLargeError:
        pass
    # moments: midpoint of the rigorous enclosure (its width is reported as a note);
    # other functionals: Monte Carlo with an independent seed (seed + 1).
    src = "monte-carlo"
    enc = None
    moment_q = {"E Δ_k", "Var Δ_k", "E Δ_k²"} & set(quantities)
    if moment_q:
        try:
            from .certify import _exact_model

            e = exact.enclosure(net, x, _exact_model(model), order=2)
            enc = {"E Δ_k": (e.mean_lo, e.mean_hi), "Var Δ_k": (e.var_lo, e.var_hi),
                   "E Δ_k²": (e.second_lo, e.second_hi)}
            src = "enclosure+monte-carlo" if set(quantities) - moment_q else "enclosure"
        except (TooLargeError, NotImplementedError, AttributeError):
            enc = None
    d = None
    for q in quantities:
        if enc is not None and q in enc:
            lo, hi = (float(np.ravel(a)[output]) for a in enc[q])
            vals[q] = 0.5 * (lo + hi)
            continue
        if d is None:
            d = sample_errors(net, x, model, samples, seed + 1, show_progress=False)
        if q == "Var Δ_k":
            vals[q] = float(d[:, output].var(ddof=1))
        else:
            vals[q] = float(NORM_FUNCTIONS[q](d, output).mean())
    return vals, src


@dataclass(frozen=True)
class ComparisonReport:
    r"""Bounds vs exact values vs Monte Carlo over a set of cases (inputs or networks).

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
        ``reference[j][c]``: the exact (or sampled) value of bound ``j``'s quantity.
    reference_source : tuple of str
        Per case: ``"exact"`` (enumeration), or ``"enclosure+monte-carlo"``
        (midpoint of the rigorous enclosure for moments, Monte Carlo with seed
        ``seed + 1`` for the other functionals), or ``"monte-carlo"``.
    mc_mean, mc_low, mc_high : tuple of float
        Monte Carlo ``E Δ_output`` and its interval, per case.
    rank_loss : dict {bound name: float or None}
    samples, seed : int

    Examples
    --------
    >>> from symft.network import mean_network
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

    def relative_errors(self) -> tuple:
        r"""``(value − reference) / |reference|`` per bound and case (NaN when the reference is 0).

        Examples
        --------
        >>> from symft.network import first_input_network
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
        >>> from symft.network import mean_network
        >>> d = compare(mean_network(2), [[1, 1]], NeuronCrash({0: 0.1}), samples=100, seed=0).as_dict()
        >>> sorted(d)[:3]
        ['bounds', 'cases', 'monte_carlo']
        """
        def f(v):
            return None if v is None or not math.isfinite(v) else float(v)

        rel = self.relative_errors()
        return {
            "cases": list(self.cases), "output": self.output, "samples": self.samples, "seed": self.seed,
            "reference_source": list(self.reference_source),
            "monte_carlo": {"mean": [f(v) for v in self.mc_mean], "ci_low": [f(v) for v in self.mc_low],
                            "ci_high": [f(v) for v in self.mc_high]},
            "bounds": [{"name": n, "statement": s, "quantity": q, "rigorous": r,
                        "value": [f(v) for v in vals], "exact": [f(v) for v in refs],
                        "relative_error": [f(v) for v in re], "rank_loss": f(self.rank_loss.get(n))}
                       for (n, s, q, r), vals, refs, re in zip(self.bounds, self.values, self.reference, rel)],
        }

    def text(self) -> str:
        """A plain-text table.

        Examples
        --------
        >>> from symft.network import mean_network
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
                cells.append(f"{v:11.4g} / {ref:<10.4g}" + (f"{e:+7.0%}" if math.isfinite(e) else "    n/a")
                             if math.isfinite(v) else f"{'—':>24}")
            lines.append(f"{n:<13} {s[:20]:<20} {q:<10} {'bound' if r else 'estimate':<9} "
                         f"{'—' if rl is None else f'{rl:.2f}':>9}  " + "  ".join(f"{c:>24}" for c in cells))
        lines.append("cells: value / exact (relative error); exact from "
                     + ", ".join(sorted(set(self.reference_source))))
        lines.append("Monte Carlo E Δ_%d: " % self.output + "; ".join(
            f"{c}: {m:.4g} [{lo:.4g}, {hi:.4g}]" for c, m, lo, hi in
            zip(self.cases, self.mc_mean, self.mc_low, self.mc_high)))
        return "\n".join(lines)

    def figure(self, path=None):
        """A matplotlib figure: each bound against the exact value (log scale), and the rank losses.

        Needs the ``plot`` extra (``pip install symft[plot]``); raises
        :class:`~symft.errors.SymftError` otherwise.  Saves to ``path`` when given.

        Examples
        --------
        >>> from symft.network import mean_network
        >>> r = compare(mean_network(2), [[1, 1], [1, 2]], NeuronCrash({0: 0.1}), samples=100, seed=0)
        >>> fig = r.figure()   # doctest: +SKIP
        """
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            raise SymftError("the figure needs matplotlib: pip install 'symft[plot]'") from None
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.5))
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
        ax1.set_xlabel("exact value of the quantity")
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
            plt.close(fig)
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
    output : int
        The output component for per-output quantities.

    Examples
    --------
    >>> from symft.network import random_network
    >>> nets = {f"seed {s}": random_network([2, 3, 1], seed=s) for s in range(3)}
    >>> r = compare(nets, [0.5, -0.5], NeuronCrash({1: 0.1}), samples=1000, seed=0)
    >>> r.cases
    ('seed 0', 'seed 1', 'seed 2')
    """
    from .bounds import all_bounds
    from .network import Network

    if isinstance(net_or_nets, Network):
        X = np.atleast_2d(np.asarray(x, dtype=float))
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
    srcs, mcm, mcl, mch = [], [], [], []
    for label, net, xc in cases:
        m = model(net) if callable(model) and not isinstance(model, NeuronCrash) else model
        if not 0 <= output < net.n_outputs:
            raise InvalidArgument(f"output: expected 0 … {net.n_outputs - 1}, got {output}")
        bs = all_bounds(net, xc, m)
        quantities = sorted({b.quantity for b in bs})
        ref, src = _reference(net, xc, m, quantities, output, samples, seed)
        row = {}
        for b in bs:
            v = b.value[output] if b.per_output else b.value[0]
            row[b.name] = (v, ref[b.quantity])
            if b.name not in stmts:
                names.append(b.name)
                stmts[b.name] = (b.name, b.statement, b.quantity, b.rigorous)
        per_case.append(row)
        srcs.append(src)
        mc = monte_carlo(net, xc, m, samples, seed, confidence=confidence, show_progress=False)
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
                            tuple(srcs), tuple(mcm), tuple(mcl), tuple(mch), rl, samples, seed)


# ---------------------------------------------------------------------- three-way check

@dataclass(frozen=True)
class CheckResult:
    r"""The outcome of :func:`check`: pairwise comparisons with z-scores and a verdict.

    Attributes
    ----------
    verdict : {"agree", "disagree", "inconclusive"}
    comparisons : tuple of dict
        Each: ``output``, ``quantity``, ``a``/``b`` (the two methods),
        ``value_a``, ``value_b`` (or intervals), ``z`` (when statistical),
        ``status`` (``"agree"``, ``"disagree"``, ``"approximation error"``).
    exact_source : str
        ``"exact"``, ``"enclosure"`` or ``"none"``.
    t1_remainder : bool
        Whether T1 came with a rigorous remainder bound.
    threshold : float
        The ``|z|`` above which a statistical comparison disagrees.
    samples, seed : int
    notes : tuple of str

    Examples
    --------
    >>> from symft.network import mean_network
    >>> r = check(mean_network(4), [1, 1, 1, 1], NeuronCrash({0: 0.1}), samples=20000, seed=0)
    >>> r.verdict, r.exact_source
    ('agree', 'exact')
    """

    verdict: str
    comparisons: tuple
    exact_source: str
    t1_remainder: bool
    threshold: float
    samples: int
    seed: int
    notes: tuple = ()

    def as_dict(self) -> dict:
        """JSON-ready dictionary.

        Examples
        --------
        >>> from symft.network import mean_network
        >>> check(mean_network(2), [1, 1], NeuronCrash({0: 0.1}), samples=1000, seed=0).as_dict()["verdict"]
        'agree'
        """
        return {"verdict": self.verdict, "exact_source": self.exact_source, "t1_remainder": self.t1_remainder,
                "threshold": self.threshold, "samples": self.samples, "seed": self.seed,
                "comparisons": [dict(c) for c in self.comparisons], "notes": list(self.notes)}

    def text(self) -> str:
        """Human-readable summary.

        Examples
        --------
        >>> from symft.network import mean_network
        >>> "verdict" in check(mean_network(2), [1, 1], NeuronCrash({0: 0.1}), samples=1000, seed=0).text()
        True
        """
        lines = []
        for c in self.comparisons:
            z = "" if c.get("z") is None else f"  z = {c['z']:+.2f}"
            lines.append(f"output {c['output']}  {c['quantity']:<7} {c['a']:>18} vs {c['b']:<12} "
                         f"{c['detail']}{z}  → {c['status']}")
        for n in self.notes:
            lines.append(f"note: {n}")
        lines.append(f"verdict: {self.verdict.upper()}  (exact source: {self.exact_source}; "
                     f"|z| threshold {self.threshold:.2f}; {self.samples} samples, seed {self.seed})")
        return "\n".join(lines)


def _dist_to_interval(v, lo, hi):
    return 0.0 if lo <= v <= hi else (lo - v if v < lo else v - hi)


def check(net, x, model, *, samples: int = 100000, seed: int = 0, order: int = 2,
          confidence: float = 0.999) -> CheckResult:
    r"""Do T1, the exact moments (or an enclosure) and Monte Carlo agree?

    For every output ``k``:

    * **exact vs Monte Carlo** (mean and variance): ``z = (mc − exact) / se``
      (for an enclosure, the distance from the interval in standard errors);
      the standard error of the variance uses the sample fourth moment.
    * **T1 vs exact**: with T1's rigorous remainder bound ``r``, agreement
      means ``|exact − T1| ≤ r`` (for an enclosure: the intervals
      intersect); without one, the gap is reported as *approximation error*
      and does not count against agreement.
    * **T1 vs Monte Carlo** (only when there is no exact value): the distance
      from T1's interval in standard errors.

    A statistical comparison disagrees when ``|z|`` exceeds the two-sided
    ``confidence`` quantile with a Bonferroni correction over all the
    statistical comparisons made.  Verdict: ``"disagree"`` if any comparison
    disagrees; ``"agree"`` if all agree and Monte Carlo was compared with an
    exact value or a rigorous enclosure (an independent method);
    ``"inconclusive"`` otherwise.

    Examples
    --------
    >>> from symft.network import first_input_network
    >>> check(first_input_network(3), [2, 5, 7], NeuronCrash({0: 0.1}), samples=20000, seed=3).verdict
    'agree'
    """
    if not isinstance(model, NeuronCrash):
        raise InvalidArgument(f"model: expected a NeuronCrash, got {type(model).__name__}")
    from .certify import T1_FLOAT_MARGIN, _exact_model, _float_view

    xf = np.asarray(_float_view(x), dtype=float)
    K = net.n_outputs
    notes = []
    # --- exact or enclosure
    ex_mean = ex_var = None
    enc = None
    exact_source = "none"
    try:
        from . import exact
        r = exact.enumerate_crashes(net, list(np.asarray(x, dtype=object).ravel()), _exact_model(model))
        ex_mean = np.asarray(r.mean, dtype=float).ravel()
        ex_var = np.asarray(r.var, dtype=float).ravel()
        exact_source = "exact"
    except TooLargeError as e:
        notes.append(f"{str(e).split(' (estimated')[0]}; using the enclosure")
        try:
            from . import exact
            e2 = exact.enclosure(net, xf, _exact_model(model), order=order)
            enc = (np.ravel(e2.mean_lo).astype(float), np.ravel(e2.mean_hi).astype(float),
                   np.ravel(e2.var_lo).astype(float), np.ravel(e2.var_hi).astype(float))
            exact_source = "enclosure"
        except (TooLargeError, NotImplementedError) as e3:
            notes.append(f"enclosure not available ({e3})")
    except ImportError:
        notes.append("symft.exact not available")
    # --- T1
    t1m = t1v = t1rm = t1rv = None
    try:
        from . import taylor
        t = taylor.t1(net, xf, {l: float(q) for l, q in model.p}, semantics=model.semantics)
        t1m, t1v = np.ravel(t.mean), np.ravel(t.var)
        if t.remainder_mean is not None:
            t1rm, t1rv = np.ravel(t.remainder_mean), np.ravel(t.remainder_var)
        elif t.remainder_note:
            notes.append(f"T1 remainder not available: {t.remainder_note}")
    except ImportError:
        notes.append("symft.taylor not available")
    # --- Monte Carlo
    d = sample_errors(net, xf, model, samples, seed, show_progress=False)
    n = d.shape[0]
    mc_mean = d.mean(axis=0)
    mc_var = d.var(axis=0, ddof=1)
    se_mean = np.sqrt(mc_var / n)
    m4 = ((d - mc_mean) ** 4).mean(axis=0)
    se_var = np.sqrt(np.maximum(m4 - mc_var ** 2, 0.0) / n)

    stat = []   # (comparison dict) to be judged with z
    comps = []
    for k in range(K):
        if exact_source == "exact":
            for q, mcv, se, ev in (("mean", mc_mean[k], se_mean[k], ex_mean[k]),
                                   ("var", mc_var[k], se_var[k], ex_var[k])):
                z = 0.0 if se == 0 and mcv == ev else ((mcv - ev) / se if se > 0 else math.inf)
                c = {"output": k, "quantity": q, "a": "monte-carlo", "b": "exact", "value_a": float(mcv),
                     "value_b": float(ev), "z": float(z), "detail": f"{mcv:.6g} vs {ev:.6g}"}
                if se == 0 and mcv != ev:
                    c["detail"] += " (no sample variation)"
                stat.append(c)
        elif exact_source == "enclosure":
            lo_m, hi_m, lo_v, hi_v = (a[k] for a in enc)
            for q, mcv, se, lo, hi in (("mean", mc_mean[k], se_mean[k], lo_m, hi_m),
                                       ("var", mc_var[k], se_var[k], lo_v, hi_v)):
                dist = _dist_to_interval(mcv, lo, hi)
                z = 0.0 if dist == 0 else (dist / se if se > 0 else math.inf)
                stat.append({"output": k, "quantity": q, "a": "monte-carlo", "b": "enclosure",
                             "value_a": float(mcv), "value_b": [float(lo), float(hi)], "z": float(z),
                             "detail": f"{mcv:.6g} vs [{lo:.6g}, {hi:.6g}]"})
        if t1m is not None:
            for q, tv, tr, in (("mean", t1m[k], None if t1rm is None else t1rm[k]),
                               ("var", t1v[k], None if t1rv is None else t1rv[k])):
                ref = None
                if exact_source == "exact":
                    ref = (ex_mean if q == "mean" else ex_var)[k]
                    ref_iv = (ref, ref)
                elif exact_source == "enclosure":
                    ref_iv = (enc[0][k], enc[1][k]) if q == "mean" else (enc[2][k], enc[3][k])
                if tr is not None:
                    # float64 evaluation of T1 and of the reference: the margin of certify.T1_FLOAT_MARGIN
                    tr = tr + T1_FLOAT_MARGIN * (abs(tv) + tr + math.sqrt(abs(t1v[k])))
                if exact_source != "none":
                    gap = tv - (ref if ref is not None else 0.5 * (ref_iv[0] + ref_iv[1]))
                    if tr is not None:
                        ok = ref_iv[1] >= tv - tr and ref_iv[0] <= tv + tr
                        comps.append({"output": k, "quantity": q, "a": "T1 ± remainder", "b": exact_source,
                                      "value_a": [float(tv - tr), float(tv + tr)],
                                      "value_b": [float(ref_iv[0]), float(ref_iv[1])], "z": None,
                                      "detail": f"{tv:.6g} ± {tr:.3g} vs {_iv(ref_iv)}",
                                      "status": "agree" if ok else "disagree"})
                    else:
                        comps.append({"output": k, "quantity": q, "a": "T1 (first order)", "b": exact_source,
                                      "value_a": float(tv), "value_b": [float(ref_iv[0]), float(ref_iv[1])],
                                      "z": None, "detail": f"{tv:.6g} vs {_iv(ref_iv)} (gap {gap:.3g})",
                                      "status": "approximation error"})
                else:
                    mcv, se = (mc_mean[k], se_mean[k]) if q == "mean" else (mc_var[k], se_var[k])
                    if tr is not None:
                        dist = _dist_to_interval(mcv, tv - tr, tv + tr)
                        z = 0.0 if dist == 0 else (dist / se if se > 0 else math.inf)
                        stat.append({"output": k, "quantity": q, "a": "monte-carlo", "b": "T1 ± remainder",
                                     "value_a": float(mcv), "value_b": [float(tv - tr), float(tv + tr)],
                                     "z": float(z), "detail": f"{mcv:.6g} vs {tv:.6g} ± {tr:.3g}"})
                    else:
                        comps.append({"output": k, "quantity": q, "a": "T1 (first order)", "b": "monte-carlo",
                                      "value_a": float(tv), "value_b": float(mcv), "z": float((mcv - tv) / se)
                                      if se > 0 else None, "detail": f"{tv:.6g} vs {mcv:.6g}",
                                      "status": "approximation error"})
    m = max(1, len(stat))
    alpha = 1 - confidence
    thr = normal_quantile(1 - alpha / (2 * m))
    for c in stat:
        c["status"] = "agree" if abs(c["z"]) <= thr else "disagree"
    allc = tuple(stat + comps)
    statuses = [c["status"] for c in allc]
    independent = any(c["a"] == "monte-carlo" and c["b"] in ("exact", "enclosure") for c in stat)
    if "disagree" in statuses:
        verdict = "disagree"
    elif independent:
        verdict = "agree"
    else:
        verdict = "inconclusive"
        notes.append("no exact value or rigorous enclosure to compare Monte Carlo with")
    allc = tuple(sorted(allc, key=lambda c: (c["output"], c["quantity"] != "mean", c["a"])))
    return CheckResult(verdict, allc, exact_source, t1rm is not None, float(thr), int(n), int(seed), tuple(notes))


def _iv(iv):
    lo, hi = iv
    return f"{lo:.6g}" if lo == hi else f"[{lo:.6g}, {hi:.6g}]"
