r"""Monte Carlo estimation of the output error, with confidence intervals.

:func:`monte_carlo` draws exact independent Bernoulli crash masks — per
neuron (:class:`~symft.faults.NeuronCrash`) and/or per synapse
(:class:`~symft.faults.SynapseCrash`) — from an explicit seed, evaluates
``Δ_L = y_L^{faulty} − y_L`` for whole blocks of samples at once with
:func:`symft.forward.forward_masked`, and returns a frozen
:class:`MonteCarloResult` with means, variances, confidence intervals for the
means (Student t or normal) and Clopper–Pearson intervals for tail
probabilities ``P{Δ ≥ ε}`` and ``P{|Δ| ≥ ε}``.

Design points:

* **Exact masks.**  Each mask entry is ``u < p`` for a fresh uniform ``u``
  (the Bernoulli law of D3, up to the float64 value of ``p``).
* **Zero-crash samples are free.**  A sample in which nothing failed has
  ``Δ = 0`` exactly; only the samples with at least one failure are
  propagated.  At ``p = 1e-3`` that is a few percent of the samples.
* **Bounded memory.**  Samples are drawn and evaluated in blocks whose size
  depends only on the network and the failure model (not on a user memory
  setting), so a given seed gives the same answer whatever the chunking of
  the forward pass; moments are combined across blocks with Chan's
  parallel update (numerically stable).
* **Reproducible.**  Block ``k`` uses the generator
  ``numpy.random.default_rng([seed, k])``; the seed is recorded in the result.

Also here: the quantiles these intervals need, without SciPy
(:func:`normal_quantile`, :func:`t_quantile`), :func:`clopper_pearson`, and
the sample-size planners :func:`samples_for_halfwidth` and
:func:`samples_for_proportion`.

Examples
--------
>>> from symft.network import mean_network
>>> from symft.faults import NeuronCrash
>>> r = monte_carlo(mean_network(4), [1, 1, 1, 1], NeuronCrash({0: 0.25}), 20000, seed=0)
>>> r.samples, r.seed
(20000, 0)
>>> bool(r.ci_low[0] <= -0.25 <= r.ci_high[0])     # E Δ = -p (THEORY §4)
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from numbers import Integral, Real
from statistics import NormalDist

import numpy as np

from .errors import FaultModelError, InvalidArgument
from .faults import NeuronCrash, SynapseCrash
from .forward import as_inputs, forward_masked, forward_trace
from .progress import progress

__all__ = [
    "MonteCarloResult",
    "monte_carlo",
    "sample_errors",
    "normal_quantile",
    "t_quantile",
    "mean_interval",
    "binomial_cdf",
    "clopper_pearson",
    "samples_for_halfwidth",
    "samples_for_proportion",
]

#: Memory budget (bytes) of the masks of one block of samples.
BLOCK_BYTES = 32 * 2 ** 20
#: Largest block of samples.
MAX_BLOCK = 1 << 14


# ---------------------------------------------------------------------- quantiles

def _check_level(confidence, where="confidence"):
    if isinstance(confidence, bool) or not isinstance(confidence, Real) or not (0 < float(confidence) < 1):
        raise InvalidArgument(f"{where}: expected a number strictly between 0 and 1, got {confidence!r}")
    return float(confidence)


def normal_quantile(q: float) -> float:
    r"""The standard normal quantile ``Φ^{-1}(q)`` (Wichura's AS 241, ~1e-16).

    Examples
    --------
    >>> round(normal_quantile(0.975), 6), normal_quantile(0.5)
    (1.959964, 0.0)
    """
    q = _check_level(q, "q")
    return NormalDist().inv_cdf(q)


def _t_abs_cdf(t: float, df: int) -> float:
    """``P{|T| ≤ t}`` for Student's t with integer ``df`` (A&S 26.7.3/26.7.4, finite series)."""
    theta = math.atan(t / math.sqrt(df))
    c2 = math.cos(theta) ** 2
    s = math.sin(theta)
    if df % 2 == 1:
        if df == 1:
            return 2 * theta / math.pi
        term, acc = 1.0, 1.0
        for k in range(1, (df - 3) // 2 + 1):
            term *= c2 * (2 * k) / (2 * k + 1)
            acc += term
        return 2 / math.pi * (theta + s * math.cos(theta) * acc)
    term, acc = 1.0, 1.0
    for k in range(1, (df - 2) // 2 + 1):
        term *= c2 * (2 * k - 1) / (2 * k)
        acc += term
    return s * acc


def t_quantile(q: float, df: int) -> float:
    r"""Student's t quantile with ``df`` degrees of freedom, without SciPy.

    For ``df ≤ 1000``: bisection on the exact finite-series CDF of an
    integer-``df`` t variable (Abramowitz & Stegun 26.7.3–4).  Above:
    the Cornish–Fisher expansion A&S 26.7.5 to order ``df^{-4}`` (error far
    below 1e-12 there).

    Parameters
    ----------
    q : float
        Probability in (0, 1).
    df : int
        Degrees of freedom, ≥ 1.

    Examples
    --------
    >>> round(t_quantile(0.975, 10), 4), round(t_quantile(0.995, 1), 3)
    (2.2281, 63.657)
    >>> t_quantile(0.5, 3)
    0.0
    """
    q = _check_level(q, "q")
    if isinstance(df, bool) or not isinstance(df, Integral) or df < 1:
        raise InvalidArgument(f"df: expected a positive integer, got {df!r}")
    df = int(df)
    if q == 0.5:
        return 0.0
    if q < 0.5:
        return -t_quantile(1 - q, df)
    if df > 1000:
        z = normal_quantile(q)
        g1 = (z ** 3 + z) / 4
        g2 = (5 * z ** 5 + 16 * z ** 3 + 3 * z) / 96
        g3 = (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / 384
        g4 = (79 * z ** 9 + 776 * z ** 7 + 1482 * z ** 5 - 1920 * z ** 3 - 945 * z) / 92160
        return z + g1 / df + g2 / df ** 2 + g3 / df ** 3 + g4 / df ** 4
    target = 2 * q - 1  # P{|T| ≤ t}
    lo, hi = 0.0, 1.0
    while _t_abs_cdf(hi, df) < target:
        hi *= 2
    for _ in range(200):
        mid = (lo + hi) / 2
        if mid in (lo, hi):
            break
        if _t_abs_cdf(mid, df) < target:
            lo = mid
        else:
            hi = mid
    return hi


def mean_interval(mean: float, std: float, n: int, confidence: float = 0.95, method: str = "t"):
    r"""Two-sided confidence interval for a mean: ``mean ± c · std / sqrt(n)``.

    ``c`` is the Student t quantile with ``n − 1`` degrees of freedom
    (``method="t"``) or the normal one (``"normal"``).  ``std`` is the sample
    standard deviation (``ddof = 1``).

    Examples
    --------
    >>> lo, hi = mean_interval(1.0, 2.0, 100, 0.95, "normal")
    >>> round(lo, 4), round(hi, 4)
    (0.608, 1.392)
    """
    confidence = _check_level(confidence)
    if method not in ("t", "normal"):
        raise InvalidArgument(f"method: expected 't' or 'normal', got {method!r}")
    if not isinstance(n, Integral) or n < 2:
        raise InvalidArgument(f"n: expected at least 2 samples for an interval, got {n!r}")
    q = 0.5 + confidence / 2
    c = t_quantile(q, int(n) - 1) if method == "t" else normal_quantile(q)
    h = c * float(std) / math.sqrt(n)
    return float(mean) - h, float(mean) + h


# ---------------------------------------------------------------------- Clopper–Pearson

def binomial_cdf(k: int, n: int, p: float) -> float:
    r"""``P{Bin(n, p) ≤ k}`` in float64, accurate to about 1e-12 relative.

    The probability mass is summed in log space around the mode: terms more
    than ``40`` standard deviations (plus 60) away are below ``e^{-800}``
    and dropped.  Log-probabilities come from ``math.lgamma`` at the mode and
    the exact ratio recurrence ``f(j+1)/f(j) = (n−j)/(j+1) · p/(1−p)``.

    Examples
    --------
    >>> binomial_cdf(1, 3, 0.5)          # (1 + 3)/8
    0.5
    >>> round(binomial_cdf(0, 10, 0.1), 12) == round(0.9 ** 10, 12)
    True
    """
    n, k = int(n), int(k)
    p = float(p)
    if k < 0:
        return 0.0
    if k >= n or p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 0.0
    sd = math.sqrt(n * p * (1 - p))
    mode = min(n, max(0, int(math.floor((n + 1) * p))))
    w = int(40 * sd) + 60
    a, b = max(0, mode - w), min(n, mode + w)
    if k < a:
        return 0.0
    j = np.arange(a, b + 1, dtype=float)
    lr = np.log((n - j[:-1]) / (j[:-1] + 1)) + math.log(p) - math.log1p(-p)
    la = math.lgamma(n + 1) - math.lgamma(a + 1) - math.lgamma(n - a + 1) + a * math.log(p) + (n - a) * math.log1p(-p)
    logf = la + np.concatenate(([0.0], np.cumsum(lr)))
    m = logf.max()
    w_ = np.exp(logf - m)
    tot = w_.sum()
    upto = w_[: min(k, b) - a + 1].sum()
    # normalise by the total mass of the window (it is 1 up to e^{-800}) for extra accuracy
    return float(min(1.0, upto / tot))


def _bisect_p(f, target, increasing):
    lo, hi = 0.0, 1.0
    for _ in range(1100):
        mid = (lo + hi) / 2
        if mid in (lo, hi) or hi - lo <= 1e-13 * hi:
            break
        v = f(mid)
        if (v < target) == increasing:
            lo = mid
        else:
            hi = mid
    return lo, hi


#: Relative outward margin applied to Clopper–Pearson limits (covers the ~1e-12 CDF error).
CP_MARGIN = 1e-9


def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    r"""Exact (Clopper–Pearson) two-sided interval for a binomial proportion.

    The lower limit ``p_L`` solves ``P{Bin(n, p_L) ≥ k} = α/2`` and the upper
    ``p_U`` solves ``P{Bin(n, p_U) ≤ k} = α/2`` (α = 1 − confidence), i.e. the
    Beta quantiles ``B(α/2; k, n−k+1)`` and ``B(1−α/2; k+1, n−k)``.  Both
    are found by bisection on :func:`binomial_cdf`; the limits are then moved
    outward by the relative margin :data:`CP_MARGIN` so that the ~1e-12
    error of the float CDF cannot make the interval too narrow.

    Examples
    --------
    >>> lo, hi = clopper_pearson(0, 100, 0.95)
    >>> lo, round(hi, 5)                  # 1 - 0.025^(1/100)
    (0.0, 0.03622)
    >>> lo, hi = clopper_pearson(5, 10, 0.95)
    >>> round(lo, 4), round(hi, 4)
    (0.1871, 0.8129)
    """
    confidence = _check_level(confidence)
    for name, v in (("k", k), ("n", n)):
        if isinstance(v, bool) or not isinstance(v, Integral) or v < 0:
            raise InvalidArgument(f"{name}: expected a non-negative integer, got {v!r}")
    if n == 0 or k > n:
        raise InvalidArgument(f"k, n: expected 0 ≤ k ≤ n and n ≥ 1, got k = {k}, n = {n}")
    a = (1 - confidence) / 2
    if k == 0:
        lo = 0.0
    else:
        # P{X ≥ k} = 1 - cdf(k-1) increases with p
        lo, _ = _bisect_p(lambda p: 1 - binomial_cdf(k - 1, n, p), a, True)
        lo = max(0.0, lo * (1 - CP_MARGIN))
    if k == n:
        hi = 1.0
    else:
        # P{X ≤ k} decreases with p
        _, hi = _bisect_p(lambda p: binomial_cdf(k, n, p), a, False)
        hi = min(1.0, hi * (1 + CP_MARGIN) + 1e-300)
    return lo, hi


# ---------------------------------------------------------------------- planners

def samples_for_halfwidth(halfwidth: float, var: float, confidence: float = 0.95,
                          method: str = "t") -> int:
    r"""Samples needed for a confidence interval of half-width ``halfwidth`` on a mean.

    ``var`` is a variance estimate or an upper bound (e.g. an enclosure's
    ``var_hi``).  Methods: ``"normal"`` — ``n = ⌈(z σ / h)²⌉``;
    ``"t"`` — the smallest ``n`` with ``t_{n−1} σ / √n ≤ h``;
    ``"chebyshev"`` — distribution-free, ``n = ⌈σ² / (α h²)⌉`` so that
    ``P{|mean − μ| ≥ h} ≤ α`` by Chebyshev's inequality.

    Examples
    --------
    >>> samples_for_halfwidth(0.01, 1.0, 0.95, "normal")
    38415
    >>> samples_for_halfwidth(0.5, 1.0, 0.95, "t")
    18
    >>> samples_for_halfwidth(0.1, 1.0, 0.95, "chebyshev")
    2000
    """
    confidence = _check_level(confidence)
    h = float(halfwidth)
    v = float(var)
    if not (h > 0 and math.isfinite(h)):
        raise InvalidArgument(f"halfwidth: expected a positive number, got {halfwidth!r}")
    if not (v >= 0 and math.isfinite(v)):
        raise InvalidArgument(f"var: expected a finite non-negative number, got {var!r}")
    if v == 0:
        return 2
    alpha = 1 - confidence
    if method == "chebyshev":
        return max(2, math.ceil(v / (alpha * h * h)))
    z = normal_quantile(0.5 + confidence / 2)
    n = max(2, math.ceil((z * z * v) / (h * h)))
    if method == "normal":
        return n
    if method != "t":
        raise InvalidArgument(f"method: expected 't', 'normal' or 'chebyshev', got {method!r}")
    sd = math.sqrt(v)
    while t_quantile(0.5 + confidence / 2, n - 1) * sd / math.sqrt(n) > h:
        n += max(1, n // 1000)
    # step back to the minimum (the step above may overshoot by < n/1000)
    while n > 2 and t_quantile(0.5 + confidence / 2, n - 2) * sd / math.sqrt(n - 1) <= h:
        n -= 1
    return n


def samples_for_proportion(halfwidth: float, confidence: float = 0.95, p: float | None = None) -> int:
    r"""Samples needed to estimate a probability within ``± halfwidth``.

    With no guess ``p`` (or any ``p``), Hoeffding's inequality gives the
    distribution-free ``n = ⌈ln(2/α) / (2 h²)⌉``; with a guess ``p`` the
    normal approximation ``n = ⌈z² p(1−p) / h²⌉`` is returned instead (smaller,
    approximate).

    Examples
    --------
    >>> samples_for_proportion(0.01, 0.95)
    18445
    >>> samples_for_proportion(0.01, 0.95, p=0.01)
    381
    """
    confidence = _check_level(confidence)
    h = float(halfwidth)
    if not (0 < h < 1):
        raise InvalidArgument(f"halfwidth: expected a number in (0, 1), got {halfwidth!r}")
    if p is None:
        return math.ceil(math.log(2 / (1 - confidence)) / (2 * h * h))
    p = float(p)
    if not 0 <= p <= 1:
        raise InvalidArgument(f"p: expected a probability in [0, 1], got {p!r}")
    z = normal_quantile(0.5 + confidence / 2)
    return max(1, math.ceil(z * z * p * (1 - p) / (h * h)))


# ---------------------------------------------------------------------- the sampler

def _models(model):
    if isinstance(model, (NeuronCrash, SynapseCrash)):
        model = (model,)
    try:
        model = tuple(model)
    except TypeError:
        raise FaultModelError(f"model: expected a NeuronCrash, a SynapseCrash or a pair of them, "
                              f"got {type(model).__name__}") from None
    neuron = [m for m in model if isinstance(m, NeuronCrash)]
    syn = [m for m in model if isinstance(m, SynapseCrash)]
    if len(neuron) + len(syn) != len(model) or len(neuron) > 1 or len(syn) > 1 or not model:
        raise FaultModelError("model: expected a NeuronCrash, a SynapseCrash, or one of each")
    return (neuron[0] if neuron else None), (syn[0] if syn else None)


def _block_size(net, neuron, syn):
    per = 1
    if neuron is not None:
        per += sum(net.widths[l] for l in neuron.layers) * 9  # bools + float uniforms
    if syn is not None:
        per += sum(net.widths[l] * net.widths[l - 1] for l in syn.layers) * 9
    return int(max(1, min(MAX_BLOCK, BLOCK_BYTES // per)))


def _check_n(n_samples):
    if isinstance(n_samples, bool) or not isinstance(n_samples, Integral) or n_samples < 2:
        raise InvalidArgument(f"n_samples: expected an integer ≥ 2, got {n_samples!r}")
    return int(n_samples)


def _check_seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0:
        raise InvalidArgument(f"seed: expected a non-negative integer (recorded in the result), got {seed!r}")
    return int(seed)


def _blocks(net, X, model, n_samples, seed, show_progress, label):
    """Yield (m, idx, delta) per block: m samples, idx of crashed samples, delta (k, B, n_L)."""
    neuron, syn = _models(model)
    if neuron is not None:
        neuron.check(net)
    semantics = neuron.semantics if neuron is not None else "output_zero"
    trace = forward_trace(net, X)
    clean = trace.output
    block = _block_size(net, neuron, syn)
    with progress(n_samples, label, enabled=show_progress) as bar:
        for kb, start in enumerate(range(0, n_samples, block)):
            m = min(block, n_samples - start)
            rng = np.random.default_rng([seed, kb])
            nm = neuron.sample(net, m, rng) if neuron is not None else {}
            sm = syn.sample(net, m, rng) if syn is not None else {}
            any_ = np.zeros(m, dtype=bool)
            for a in nm.values():
                any_ |= a.any(axis=1)
            for a in sm.values():
                any_ |= a.reshape(m, -1).any(axis=1)
            idx = np.flatnonzero(any_)
            if idx.size:
                y = forward_masked(net, X, {l: a[idx] for l, a in nm.items()},
                                   synapse_masks={l: a[idx] for l, a in sm.items()},
                                   semantics=semantics, trace=trace)
                delta = y - clean[None, :, :]
            else:
                delta = np.zeros((0,) + clean.shape)
            yield m, idx, delta
            bar.update(m)


def sample_errors(net, x, model, n_samples: int, seed: int, *, show_progress: bool | None = False) -> np.ndarray:
    r"""All ``n_samples`` output errors ``Δ`` (memory ``n_samples × B × n_L`` floats).

    The same draws as :func:`monte_carlo` with the same seed.  Returns shape
    ``(n_samples, n_L)`` for a 1-D input, else ``(n_samples, B, n_L)``.

    Examples
    --------
    >>> from symft.network import first_input_network
    >>> d = sample_errors(first_input_network(2), [2.0, 1.0], NeuronCrash({0: 0.5}), 6, seed=1)
    >>> sorted(set(d.ravel().tolist())) <= [-2.0, 0.0]
    True
    """
    n_samples, seed = _check_n(n_samples), _check_seed(seed)
    X, single = as_inputs(net, x)
    out = np.zeros((n_samples, X.shape[0], net.n_outputs))
    pos = 0
    for m, idx, delta in _blocks(net, X, model, n_samples, seed, show_progress, "sampling"):
        out[pos + idx] = delta
        pos += m
    return out[:, 0, :] if single else out


def _tuples(a, single, cast=float):
    t = tuple(tuple(cast(v) for v in row) for row in a)
    return t[0] if single else t


@dataclass(frozen=True)
class MonteCarloResult:
    r"""Monte Carlo estimates of ``Δ_L`` for each input ``b`` and output ``k``.

    Every statistic is a tuple indexed by output ``k`` for a single input,
    or a tuple of tuples indexed ``[b][k]`` for a batch of ``B`` inputs.  ``var`` and ``std`` are the unbiased sample variance and its
    square root; ``ci_low``/``ci_high`` the two-sided ``confidence`` interval
    for the mean (``interval`` = ``"t"`` or ``"normal"``).  When ``eps`` was
    given, ``count_upper[b][k]`` = #{Δ ≥ ε} and ``count_abs[b][k]`` =
    #{``|Δ|`` ≥ ε}; :meth:`tail_interval` turns them into Clopper–Pearson
    intervals.

    Examples
    --------
    >>> from symft.network import first_input_network
    >>> r = monte_carlo(first_input_network(2), [1.0, 1.0], NeuronCrash({0: 0.1}), 1000, seed=3, eps=0.5)
    >>> r.count_abs[0] >= r.count_upper[0]
    True
    >>> lo, hi = r.tail_interval(0, sided="abs")
    >>> bool(lo <= 0.1 <= hi)
    True
    """

    mean: tuple
    var: tuple
    std: tuple
    ci_low: tuple
    ci_high: tuple
    samples: int
    seed: int
    confidence: float
    interval: str
    single: bool
    crashed_samples: int
    eps: float | None = None
    count_upper: tuple | None = None
    count_abs: tuple | None = None
    model: tuple = field(default=(), compare=True)

    def _at(self, stat, k, b):
        return stat[k] if self.single else stat[b][k]

    def stderr(self, k: int = 0, b: int = 0) -> float:
        """Standard error ``std / √n`` of the mean of output ``k`` at input ``b``.

        Examples
        --------
        >>> from symft.network import mean_network
        >>> r = monte_carlo(mean_network(2), [1.0, 1.0], NeuronCrash({0: 0.5}), 100, seed=0)
        >>> r.stderr() == r.std[0] / 10
        True
        """
        return self._at(self.std, k, b) / math.sqrt(self.samples)

    def tail_interval(self, k: int = 0, b: int = 0, sided: str = "upper",
                      confidence: float | None = None) -> tuple[float, float]:
        r"""Clopper–Pearson interval for ``P{Δ ≥ ε}`` (``"upper"``) or ``P{|Δ| ≥ ε}`` (``"abs"``).

        Examples
        --------
        >>> from symft.network import first_input_network
        >>> r = monte_carlo(first_input_network(1), [1.0], NeuronCrash({0: 0.5}), 400, seed=0, eps=0.5)
        >>> lo, hi = r.tail_interval(sided="abs")      # |Δ| = 1 exactly when input 0 crashes
        >>> bool(lo < 0.5 < hi)
        True
        """
        if self.eps is None:
            raise InvalidArgument("eps: this result has no tail counts; pass eps= to monte_carlo")
        if sided not in ("upper", "abs"):
            raise InvalidArgument(f"sided: expected 'upper' or 'abs', got {sided!r}")
        counts = self.count_upper if sided == "upper" else self.count_abs
        return clopper_pearson(int(self._at(counts, k, b)), self.samples, confidence or self.confidence)

    def as_dict(self) -> dict:
        """JSON-ready dictionary (single input: one list entry per output).

        Examples
        --------
        >>> from symft.network import mean_network
        >>> r = monte_carlo(mean_network(2), [1.0, 1.0], NeuronCrash({0: 0.5}), 10, seed=0)
        >>> sorted(r.as_dict())[:4]
        ['ci_high', 'ci_low', 'confidence', 'crashed_samples']
        """
        pick = list if self.single else (lambda t: [list(r) for r in t])
        d = {"mean": pick(self.mean), "var": pick(self.var), "std": pick(self.std),
             "ci_low": pick(self.ci_low), "ci_high": pick(self.ci_high),
             "samples": self.samples, "seed": self.seed, "confidence": self.confidence,
             "interval": self.interval, "crashed_samples": self.crashed_samples,
             "model": [list(m) for m in self.model]}
        if self.eps is not None:
            d["eps"] = self.eps
            d["count_upper"] = pick(self.count_upper)
            d["count_abs"] = pick(self.count_abs)
            B = 1 if self.single else len(self.mean)
            K = len(self.mean) if self.single else len(self.mean[0])
            up = [[list(self.tail_interval(k, b, "upper")) for k in range(K)] for b in range(B)]
            ab = [[list(self.tail_interval(k, b, "abs")) for k in range(K)] for b in range(B)]
            d["tail_upper_ci"] = up[0] if self.single else up
            d["tail_abs_ci"] = ab[0] if self.single else ab
        return d


def _describe(model):
    neuron, syn = _models(model)
    out = []
    if neuron is not None:
        out.append(("neuron", neuron.semantics) + tuple(f"{l}:{q}" for l, q in neuron.p))
    if syn is not None:
        out.append(("synapse",) + tuple(f"{l}:{q}" for l, q in syn.p))
    return tuple(out)


def monte_carlo(net, x, model, n_samples: int, seed: int, *, confidence: float = 0.95,
                interval: str = "t", eps: float | None = None,
                show_progress: bool | None = None) -> MonteCarloResult:
    r"""Monte Carlo estimate of the mean and variance of ``Δ_L`` with confidence intervals.

    Parameters
    ----------
    net : Network
        Numeric (float or exact) weights.
    x : array_like, shape (n_0,) or (B, n_0)
        One input or a batch (each input gets its own statistics; the same
        crash draws are used for every input of the batch).
    model : NeuronCrash, SynapseCrash, or a pair (one of each)
        Independent Bernoulli failures.
    n_samples : int
        Number of independent crash configurations, ≥ 2.
    seed : int
        Explicit seed (recorded).
    confidence : float
        Level of the intervals (default 0.95).
    interval : {"t", "normal"}
        Student t (default) or normal quantile for the mean interval.
    eps : float, optional
        Also count ``Δ ≥ ε`` and ``|Δ| ≥ ε`` (for Clopper–Pearson tail intervals).
    show_progress : bool or None
        Progress bar on stderr (``None``: when stderr is a terminal).

    Returns
    -------
    MonteCarloResult

    Examples
    --------
    >>> from symft.network import random_network
    >>> net = random_network([3, 5, 2], seed=0)
    >>> r = monte_carlo(net, [0.5, -1.0, 2.0], NeuronCrash({1: 0.1}), 5000, seed=1, confidence=0.99)
    >>> len(r.mean), r.interval
    (2, 't')
    """
    n_samples, seed = _check_n(n_samples), _check_seed(seed)
    confidence = _check_level(confidence)
    if interval not in ("t", "normal"):
        raise InvalidArgument(f"interval: expected 't' or 'normal', got {interval!r}")
    if eps is not None:
        if isinstance(eps, bool) or not isinstance(eps, Real) or not math.isfinite(float(eps)):
            raise InvalidArgument(f"eps: expected a finite number, got {eps!r}")
        eps = float(eps)
    X, single = as_inputs(net, x)
    shape = (X.shape[0], net.n_outputs)
    n_tot, mean, M2 = 0, np.zeros(shape), np.zeros(shape)
    cu = np.zeros(shape, dtype=np.int64)
    ca = np.zeros(shape, dtype=np.int64)
    crashed = 0
    for m, idx, delta in _blocks(net, X, model, n_samples, seed, show_progress, "monte carlo"):
        k = idx.size
        crashed += k
        s = delta.sum(axis=0)
        bm = s / m
        # M2 of the block: crashed samples plus (m - k) exact zeros
        bM2 = ((delta - bm) ** 2).sum(axis=0) + (m - k) * bm ** 2
        if n_tot == 0:
            mean, M2 = bm, bM2
        else:
            d = bm - mean
            tot = n_tot + m
            mean = mean + d * (m / tot)
            M2 = M2 + bM2 + d * d * (n_tot * m / tot)
        n_tot += m
        if eps is not None:
            cu += (delta >= eps).sum(axis=0) + (m - k) * (0.0 >= eps)
            ca += (np.abs(delta) >= eps).sum(axis=0) + (m - k) * (0.0 >= eps)
    var = M2 / (n_tot - 1)
    std = np.sqrt(var)
    q = 0.5 + confidence / 2
    c = t_quantile(q, n_tot - 1) if interval == "t" else normal_quantile(q)
    h = c * std / math.sqrt(n_tot)
    return MonteCarloResult(
        mean=_tuples(mean, single), var=_tuples(var, single), std=_tuples(std, single),
        ci_low=_tuples(mean - h, single), ci_high=_tuples(mean + h, single),
        samples=n_tot, seed=seed, confidence=confidence, interval=interval, single=single,
        crashed_samples=int(crashed), eps=eps,
        count_upper=_tuples(cu, single, int) if eps is not None else None,
        count_abs=_tuples(ca, single, int) if eps is not None else None,
        model=_describe(model),
    )
