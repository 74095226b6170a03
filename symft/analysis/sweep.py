r"""Accuracy and prediction changes against the crash probability: the curve fault-tolerance papers plot.

:func:`sweep` runs :func:`symft.analysis.accuracy.accuracy` at each probability of a grid, for crashes at
the chosen sites, and keeps each point's interval and how it was obtained (exact, rigorous or
statistical); :meth:`Sweep.figure` draws it with matplotlib without touching matplotlib's global state.

Examples
--------
>>> from symft.graph.network import random_network
>>> net = random_network([4, 6, 3], seed=0, activation="tanh")
>>> X = np.random.default_rng(0).normal(size=(10, 4))
>>> s = sweep(net, X, np.zeros(10, int), [1e-3, 1e-1])
>>> [pt["method"] for pt in s.points], s.points[0]["change_hi"] <= s.points[1]["change_hi"]
(['exact', 'exact'], True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real

import numpy as np

from ..errors import InvalidArgument, SymftError
from ..faults import NeuronCrash

__all__ = ["Sweep", "sweep", "probability_grid"]


def probability_grid(text: str, where: str = "--p") -> list:
    """``LO:HI:N``: ``N`` probabilities spaced evenly on a log scale from ``LO`` to ``HI`` (or one number).

    Examples
    --------
    >>> probability_grid("1e-4:1e-1:4")
    [0.0001, 0.001, 0.01, 0.1]
    >>> probability_grid("0.2")
    [0.2]
    """
    from ..parsing import parse_integer, parse_real

    parts = str(text).split(":")
    if len(parts) == 1:
        return [parse_real(parts[0], where, 0, 1, lo_open=True)]
    if len(parts) != 3:
        raise InvalidArgument(f"{where}: expected LO:HI:N (e.g. 1e-4:1e-1:13) or one probability, got {text!r}")
    lo = parse_real(parts[0], f"{where} LO", 0, 1, lo_open=True)
    hi = parse_real(parts[1], f"{where} HI", 0, 1, lo_open=True)
    n = parse_integer(parts[2], f"{where} N", 1, 1000)
    if hi < lo:
        raise InvalidArgument(f"{where}: expected LO ≤ HI, got {lo:g} > {hi:g}")
    if n == 1:
        return [lo]
    return [float(f"{v:.6g}") for v in np.geomspace(lo, hi, n)]


@dataclass(frozen=True)
class Sweep:
    """Points ``{"p", "clean_accuracy", "accuracy_lo", "accuracy_hi", "change_lo", "change_hi", "method",
    "seconds"}`` of a sweep, the sites and the number of inputs.

    Examples
    --------
    >>> Sweep((), ("1",), 0, "toy").as_dict()["sites"]
    ['1']
    """

    points: tuple
    sites: tuple
    n_inputs: int
    data: str = ""

    def as_dict(self) -> dict:
        """JSON-ready dictionary.

        Examples
        --------
        >>> Sweep((), ("1",), 3).as_dict()["n_inputs"]
        3
        """
        return {"points": [dict(pt) for pt in self.points], "sites": list(self.sites), "n_inputs": self.n_inputs,
                "data": self.data}

    def figure(self, path=None):
        """Accuracy and P(prediction changes) against p (log scale), each point's interval as a band.

        Uses a :class:`matplotlib.figure.Figure` of its own (no pyplot, no backend change); saves to
        ``path`` (.png, .svg or .pdf) when given and returns the figure.

        Examples
        --------
        >>> s = Sweep(({"p": 0.01, "clean_accuracy": 1.0, "accuracy_lo": 0.9, "accuracy_hi": 0.92,
        ...             "change_lo": 0.08, "change_hi": 0.1, "method": "exact", "seconds": 0.0},), ("1",), 5)
        >>> s.figure().axes[0].get_xscale()      # doctest: +SKIP
        'log'
        """
        try:
            from matplotlib.backends.backend_agg import FigureCanvasAgg
            from matplotlib.figure import Figure
        except ImportError:
            raise SymftError("the figure needs matplotlib: pip install 'symft[plot]'") from None
        fig = Figure(figsize=(9, 3.8))
        FigureCanvasAgg(fig)
        ax1, ax2 = fig.subplots(1, 2)
        p = [pt["p"] for pt in self.points]
        for ax, key, label in ((ax1, "accuracy", "accuracy under crashes"),
                               (ax2, "change", "P(prediction changes)")):
            lo = [pt[f"{key}_lo"] for pt in self.points]
            hi = [pt[f"{key}_hi"] for pt in self.points]
            ax.fill_between(p, lo, hi, alpha=0.3, step=None, label="interval (exact, proved or statistical)")
            ax.plot(p, [(a + b) / 2 for a, b in zip(lo, hi)], "o-", ms=3, label=label)
            for x, pt, y in zip(p, self.points, hi):
                ax.annotate(pt["method"][0], (x, y), fontsize=6, xytext=(0, 3), textcoords="offset points")
            ax.set_xscale("log")
            ax.set_xlabel("crash probability p at " + ", ".join(map(str, self.sites)))
            ax.set_ylabel(label)
            ax.grid(alpha=0.3)
        if self.points:
            ax1.axhline(self.points[0]["clean_accuracy"], color="k", lw=0.8, ls="--", label="without crashes")
        ax1.legend(fontsize=7)
        fig.suptitle(f"{self.data or 'dataset'}: {self.n_inputs} inputs (e = exact, r = rigorous, s = statistical)",
                     fontsize=9)
        fig.tight_layout()
        if path is not None:
            fig.savefig(path)
        return fig


def sweep(net, X, y, probabilities, *, sites=None, semantics: str = "output_zero", method: str = "auto",
          n_samples: int = 4000, seed: int = 0, confidence: float = 0.95, data: str = "",
          progress=None) -> Sweep:
    r"""Accuracy under crashes and ``P(prediction changes)`` at each crash probability of a grid.

    Parameters
    ----------
    net : Network
    X, y : array_like
        Inputs ``(B, n_0)`` and labels.
    probabilities : sequence of float
        Crash probabilities in ``(0, 1]`` (see :func:`probability_grid`).
    sites : sequence, optional
        The crash sites (default: every hidden site); every neuron of them crashes independently with the
        probability of the point.
    semantics, method, n_samples, seed, confidence
        As :func:`symft.analysis.accuracy.accuracy` (each point says which method answered).
    data : str
        A name for the dataset (recorded).
    progress : callable, optional
        Called with ``(index, p)`` before each point.

    Returns
    -------
    Sweep
    """
    from .accuracy import accuracy

    probs = list(probabilities)
    if not probs or not all(isinstance(q, Real) and not isinstance(q, bool) and 0 < float(q) <= 1 for q in probs):
        raise InvalidArgument("probabilities: expected crash probabilities in (0, 1]")
    sites = tuple(net.hidden_sites if sites is None else sites)
    if not sites:
        raise InvalidArgument("sites: the network has no hidden site; name the sites to crash")
    points = []
    for i, q in enumerate(probs):
        if progress is not None:
            progress(i, q)
        r = accuracy(net, X, y, NeuronCrash({s: float(q) for s in sites}, semantics), method=method,
                     n_samples=n_samples, seed=seed, confidence=confidence, top=0)
        points.append({"p": float(q), "clean_accuracy": r.clean_accuracy, "accuracy_lo": r.accuracy_lo,
                       "accuracy_hi": r.accuracy_hi, "change_lo": r.change_lo, "change_hi": r.change_hi,
                       "method": r.method, "seconds": r.seconds})
    if any(not math.isfinite(v) for pt in points for k, v in pt.items() if isinstance(v, float)):
        raise SymftError("sweep: a point came out not finite")  # pragma: no cover - accuracy refuses before
    return Sweep(tuple(points), sites, int(np.asarray(X).shape[0]), data)
