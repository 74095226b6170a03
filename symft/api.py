"""The verbs of ``import symft``: one thin function per question, with the same keywords everywhere.

Each verb answers what the command of the same name answers and calls the
engine that command calls; only the keywords are made uniform:

* ``model`` — the failure model: a :class:`~symft.faults.NeuronCrash`, a
  mapping ``{site: p}`` or one probability for every hidden site
  (normalised by :func:`symft.problem.as_model`);
* ``samples`` and ``seed`` — the sample size and the seed of every verb that
  samples;
* ``progress`` — a progress bar for the verbs whose engine reports progress
  (``None``: only when stderr is a terminal; ``True`` also in Jupyter).

``import symft`` imports this module, and the engines behind it, only when a
verb is first used (see ``symft.__getattr__``).

Examples
--------
>>> import symft
>>> net = symft.mean_network(2)
>>> symft.exact(net, [1, 1], {0: "1/2"}).mean
array([-1/2], dtype=object)
"""

from __future__ import annotations

from .problem import as_model

__all__ = ["exact", "sample", "certify", "check", "worst_case", "accuracy"]


def _no_dtype(verb: str, options: dict) -> None:
    """Refuse ``dtype=``: the verbs compute in float64 (their rounding bounded where they claim rigour) or exactly."""
    if "dtype" in options:
        from .errors import InvalidArgument

        raise InvalidArgument(f"dtype: symft.{verb} computes in float64 (its rounding bounded where it claims "
                              "rigour) or exactly; the approximate float32 pass (no error bound) is "
                              "symft.forward(net, x, dtype=numpy.float32)")


def exact(net, x, model, *, moments: int = 2, arithmetic: bool | None = None, progress: bool | None = None,
          force: bool = False, **options):
    r"""The moments of the output error over every crash configuration (``symft exact``; theory §2).

    Parameters
    ----------
    net : Network
    x : array_like
        One input, or a batch (one row per input).  Exact values (``"1/3"``,
        ``Fraction``) are kept exactly.
    model : NeuronCrash, mapping or probability
        Independent neuron crashes.
    moments : int
        The highest moment computed (2: mean and variance).
    arithmetic : bool or None
        ``True``: rational arithmetic (exact); ``False``: float64 (not
        rigorous: its rounding is not bounded); ``None``: rational when the
        network is exact, else float64.  The result's ``exact`` says which ran.
    progress : bool or None
        Progress bar over the configurations.
    force : bool
        Run even when the estimated time is long (refused up front otherwise).
    **options
        Passed to :func:`symft.engines.enumeration.enumerate_crashes`
        (``loss``, ``target``, ``max_configurations``).

    Returns
    -------
    ExactMoments
        ``mean``, ``var``, ``std``, ``cov`` per output, and ``exact``.

    Examples
    --------
    >>> import symft
    >>> r = symft.exact(symft.mean_network(2), [1, 1], {0: "1/2"})
    >>> r.mean, r.var, r.exact
    (array([-1/2], dtype=object), array([1/8], dtype=object), True)
    """
    _no_dtype("exact", options)
    from .engines.enumeration import enumerate_crashes

    return enumerate_crashes(net, x, as_model(net, model), moments=moments, exact=arithmetic, progress=progress,
                             force=force, **options)


def sample(net, x, model, *, samples: int = 100_000, seed: int = 0, method: str = "stratified",
           confidence: float = 0.95, progress: bool | None = None, **options):
    r"""A statistical estimate of ``E Δ`` (and ``Var Δ``) with a confidence interval (``symft sample``).

    Parameters
    ----------
    net : Network
    x : array_like
        One input.
    model : NeuronCrash, mapping or probability
        Independent neuron crashes (``"plain"`` also takes synapse crashes).
    samples : int
        Number of crash configurations drawn.
    seed : int
        Seed of the draws (the result is reproducible from it).
    method : {"stratified", "plain"}
        ``"stratified"`` (the command's default): strata by the number of
        failures with exact probabilities, small strata enumerated
        (:func:`symft.engines.stratified.stratified_monte_carlo`);
        ``"plain"``: draws given at least one failure
        (:func:`symft.engines.sampling.monte_carlo`).
    confidence : float
        Level of the interval for the mean.
    progress : bool or None
        Progress bar over the configurations evaluated (the draws, and for
        ``"stratified"`` the enumerated configurations too).
    **options
        Passed to the sampler.

    Returns
    -------
    StratifiedResult or MonteCarloResult
        Labelled statistical: the interval holds with probability ``confidence``.

    Examples
    --------
    >>> import symft
    >>> net = symft.random_network([2, 4, 1], seed=0)
    >>> r = symft.sample(net, [0.5, -1.0], 0.05, samples=2000, seed=1)
    >>> bool(r.ci_low[0] <= r.mean[0] <= r.ci_high[0])
    True
    >>> symft.sample(net, [0.5, -1.0], 0.05, samples=500, seed=1, method="plain").samples
    500
    """
    _no_dtype("sample", options)
    m = as_model(net, model)
    if method == "stratified":
        from .engines.stratified import stratified_monte_carlo

        return stratified_monte_carlo(net, x, m, samples, seed, confidence=confidence, progress=progress, **options)
    if method == "plain":
        from .engines.sampling import monte_carlo

        return monte_carlo(net, x, m, samples, seed, confidence=confidence, show_progress=progress, **options)
    from .errors import InvalidArgument

    raise InvalidArgument(f"method: expected 'stratified' or 'plain', got {method!r}")


def certify(net, x, model, eps, delta, *, samples: int = 100_000, seed: int | None = None, **options):
    r"""Certify ``P{Δ_k ≥ ε} ≤ δ`` for every output ``k`` at ``x`` (``symft certify``; theory D5).

    Parameters
    ----------
    net : Network
    x : array_like
        One input.
    model : NeuronCrash, mapping or probability
        Independent neuron crashes.
    eps, delta : float
        The error threshold and the allowed probability.
    samples, seed
        Used only when the moments have to be sampled (the certificate is
        then labelled statistical, never rigorous).
    **options
        Passed to :func:`symft.analysis.certify.certify` (``source``,
        ``inequality``, ``sided``, ``order``, ``confidence``).

    Returns
    -------
    Certificate
        ``certified``, ``delta_bound``, ``rigorous`` and where the moments came from.

    Examples
    --------
    >>> import symft
    >>> c = symft.certify(symft.mean_network(2), [1, 1], {0: 0.01}, eps=0.5, delta=0.05)
    >>> c.certified, c.rigorous
    (True, True)
    """
    _no_dtype("certify", options)
    from .analysis.certify import certify as _certify

    return _certify(net, x, as_model(net, model), eps, delta, samples=samples, seed=seed, **options)


def check(net, x, model, *, samples: int = 100_000, seed: int = 0, **options):
    r"""Do T1, a reference value (exact or rigorously enclosed) and Monte Carlo agree? (``symft check``)

    Parameters
    ----------
    net : Network
    x : array_like
        One input.
    model : NeuronCrash, mapping or probability
        Independent neuron crashes.
    samples, seed
        The Monte Carlo run.
    **options
        Passed to :func:`symft.analysis.report.check` (``order``, ``confidence``).

    Returns
    -------
    CheckResult

    Examples
    --------
    >>> import symft
    >>> r = symft.check(symft.random_network([2, 3, 1], seed=0), [0.5, -1.0], 0.01, samples=2000, seed=0)
    >>> r.verdict, r.samples
    ('agree', 2000)
    """
    _no_dtype("check", options)
    from .analysis.report import check as _check

    return _check(net, x, as_model(net, model), samples=samples, seed=seed, **options)


def worst_case(net, x, *, max_crashes: int, **options):
    r"""The exact worst output error over crash sets of at most ``max_crashes`` neurons (``symft worst``).

    A solver's *unknown* or time-out is reported as such, never as a bound.

    Parameters
    ----------
    net : Network
    x : array_like
        One input.
    max_crashes : int
        The largest number of crashed neurons.
    **options
        Passed to :func:`symft.worstcase.worst_case` (``layers``, ``method``,
        ``timeout``, ``byzantine``, ``force``).

    Returns
    -------
    WorstCaseResult

    Examples
    --------
    >>> import symft
    >>> r = symft.worst_case(symft.mean_network(3), [1, 2, 3], max_crashes=1)
    >>> r.worst_delta, r.status, r.crash_set
    (1, 'proved', ((0, 2),))
    """
    _no_dtype("worst_case", options)
    from .worstcase import worst_case as _worst_case

    return _worst_case(net, x, max_crashes=max_crashes, **options)


def accuracy(net, X, y, model, *, samples: int = 4000, seed: int = 0, **options):
    r"""Clean accuracy, accuracy under crashes and ``P(prediction changes)`` over a dataset (``symft accuracy``).

    Parameters
    ----------
    net : Network
    X : array_like
        The inputs, one row each.
    y : array_like
        The labels.
    model : NeuronCrash, mapping or probability
        Independent neuron crashes.
    samples, seed
        Per-input sample size and seed when the statistical method runs.
    **options
        Passed to :func:`symft.analysis.accuracy.accuracy` (``method``,
        ``order``, ``confidence``, ``force``).

    Returns
    -------
    AccuracyResult

    Examples
    --------
    >>> import numpy as np, symft
    >>> net = symft.random_network([2, 4, 2], seed=0)
    >>> X = np.random.default_rng(0).normal(size=(10, 2))
    >>> r = symft.accuracy(net, X, np.zeros(10, int), 0.01, samples=200, seed=0)
    >>> 0 <= r.clean_accuracy <= 1
    True
    """
    _no_dtype("accuracy", options)
    from .analysis.accuracy import accuracy as _accuracy

    return _accuracy(net, X, y, as_model(net, model), n_samples=samples, seed=seed, **options)
