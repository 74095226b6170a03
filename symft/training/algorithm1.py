r"""Algorithm 1 of the paper (theory §6): train, check, adjust, until an (ε, δ) certificate — or *infeasible*.

Each round trains a dense chain from the seed with the Eq. 1 regularizer
(:func:`symft.training.train.train`), then checks, in the paper's order:

1. the balance ``q`` (AA1, :func:`symft.graph.network.layer_norms`) of the
   crashing layers — below ``q_min`` (``1e-2``): raise ``μ``, retrain;
2. P3's ``δ_0`` (:func:`symft.analysis.certify.p3_delta0`) — above 1/3: widen;
3. ``R_3`` (the smoothness of the weights) — above the complexity guess ``C``
   (when given): raise ``ψ``;
4. ``E Δ`` and ``Var Δ`` at the point ``x`` with the certificate of
   :func:`symft.analysis.certify.certify` (its moments from
   :func:`symft.engines.moments.moments`: exact enumeration or a rigorous
   enclosure where possible, T1 plus remainder, else a labelled estimate) —
   when the mean error provably reaches ``ε`` at some output (``E Δ ≥ ε``:
   no tail inequality can certify) the answer is **infeasible**;
5. the failure bound ``δ_1`` of one copy — at most ``δ``: certified with one
   copy; at most 1/3: certified for the componentwise median of ``R``
   copies, ``R`` the smallest with ``P{Bin(R, δ_1) ≥ ⌈R/2⌉} ≤ δ`` (exact
   binomial tail, not the printed ``(1/3)^{R/2}`` — erratum E5); otherwise
   widen the hidden layers and raise ``λ``.

The loop ends certified, infeasible (E Δ ≥ ε, widths at their cap, or no
certificate within ``max_rounds``) — never with an unproved claim: the
certificate's ``rigorous`` flag and ``source`` say what backs it.

Examples
--------
>>> import numpy as np
>>> X = np.random.default_rng(0).normal(size=(120, 3)); y = (X[:, 0] > 0).astype(int)
>>> r = algorithm1((X, y), arch=(3, 8, 2), activation="tanh", p=1e-3, eps=0.2, delta=1e-3, epochs=5)
>>> [z.action for z in r.rounds]
['delta_0 = 0.345 > 1/3: widen', 'certified with the median of 3 copies']
>>> r.certified, r.copies, r.widths, r.rigorous, r.certificate.method
(True, 3, (3, 16, 2), True, 'cantelli(enclosure)')
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from fractions import Fraction
from numbers import Real

import numpy as np

from ..errors import InvalidArgument
from .train import evaluate_var_delta, load_data, train
from ..results import result
from ..rounding import rounded

__all__ = ["Round", "Algorithm1Result", "algorithm1"]


@dataclass(frozen=True)
class Round:
    """One round of Algorithm 1: the widths and weights trained, what was checked, and the action taken.

    Examples
    --------
    >>> Round(1, (4, 8, 2), 1.0, 0.0, 0.0, 0.9, 0.5, 1e-3, 2.0, 0.0, 1e-4, 1e-3, "certified").as_dict()["action"]
    'certified'
    """

    round: int
    widths: tuple
    lam: float
    mu: float
    psi: float
    accuracy: float
    q: float
    delta0: float
    r3: float
    mean_hi: float | None
    var_hi: float | None
    delta_bound: float | None
    action: str

    def as_dict(self) -> dict:
        """JSON-ready dict.

        Examples
        --------
        >>> Round(1, (4, 2), 1.0, 0.0, 0.0, 0.9, 1.0, 0.0, 0.0, None, None, None, "x").as_dict()["widths"]
        [4, 2]
        """
        d = dict(self.__dict__)
        d["widths"] = list(self.widths)
        return d


@result
@dataclass(frozen=True)
class Algorithm1Result:
    r"""What :func:`algorithm1` returns.

    Attributes
    ----------
    certified : bool
        ``P{Δ_k ≥ ε} ≤ δ`` for every output at ``x`` is established for the
        median of ``copies`` independent copies (``copies = 1``: the network
        itself), by :attr:`certificate` (see its ``rigorous`` and ``source``).
    infeasible : bool
    reason : str
    widths : tuple
        The final widths (input … output).
    copies : int or None
        ``R`` of the median trick (None unless certified).
    rigorous : bool
        Whether the certificate is proved (exact moments, a rigorous
        enclosure or T1 with its remainder bound) rather than an estimate.
    certificate : Certificate or None
        The last certificate computed (for one copy).
    rounds : tuple of Round
    train : TrainResult or None
        The last training (its ``network`` is the weights).
    lam, mu, psi : float
        The final regularizer weights.
    """

    certified: bool
    infeasible: bool
    reason: str
    widths: tuple
    copies: int | None
    rigorous: bool
    certificate: object = field(repr=False)
    rounds: tuple = ()
    train: object = field(default=None, repr=False, compare=False)
    lam: float = 0.0
    mu: float = 0.0
    psi: float = 0.0

    @property
    def accuracy(self) -> float | None:
        """The final network's test accuracy (None without a training).

        Examples
        --------
        >>> Algorithm1Result(False, True, "", (2, 1), None, False, None).accuracy is None
        True
        """
        return None if self.train is None else self.train.accuracy

    @property
    def var_delta(self) -> float | None:
        """The final network's ``Var Δ`` (:attr:`TrainResult.var_delta <symft.training.train.TrainResult>`).

        Examples
        --------
        >>> Algorithm1Result(False, True, "", (2, 1), None, False, None).var_delta is None
        True
        """
        return None if self.train is None else self.train.var_delta

    def as_dict(self) -> dict:
        """JSON-ready dict (``certified``, ``widths``, ``copies``, ``reason``, the rounds, the certificate,
        and the last training's ``accuracy`` and ``var_delta``).

        Examples
        --------
        >>> Algorithm1Result(False, True, "E Δ ≥ ε", (2, 1), None, False, None).as_dict()["infeasible"]
        True
        """
        d = {"certified": self.certified, "infeasible": self.infeasible, "reason": self.reason,
             "widths": list(self.widths), "copies": self.copies, "rigorous": self.rigorous,
             "lam": self.lam, "mu": self.mu, "psi": self.psi,
             "rounds": [r.as_dict() for r in self.rounds],
             "certificate": None if self.certificate is None else self.certificate.as_dict()}
        if self.train is not None:
            t = self.train.as_dict()
            d["accuracy"] = t["accuracy"]
            d["var_delta"] = t["var_delta"]
        return d


def _nonneg(v, name):
    if isinstance(v, bool) or not isinstance(v, Real) or not np.isfinite(v) or v < 0:
        raise InvalidArgument(f"{name}: expected a non-negative number, got {v!r}")
    return float(v)


def algorithm1(data="digits", *, eps, delta, arch=(64, 32, 16, 10), activation: str = "sigmoid", p=1e-3, x=None,
               C: float | None = None, lam: float = 1.0, mu: float = 0.0, psi: float = 0.0, nu: float = 0.0,
               q_min: float = 1e-2, alpha: float = 0.1, raise_factor: float = 10.0, widen_factor: int = 2,
               max_width: int = 512, max_rounds: int = 6, epochs: int = 40, seed: int = 0,
               inequality: str = "cantelli", var_inputs: int = 20, progress: bool | None = None) -> Algorithm1Result:
    r"""Algorithm 1 (see the module docstring): train and adjust until ``(ε, δ)`` is certified at ``x``.

    Parameters
    ----------
    data, arch, activation, p, epochs, seed, progress
        As :func:`symft.training.train.train` (``p``: a number for every hidden
        layer, or ``{site: probability}``).
    eps, delta : float
        The target: ``P{Δ_k ≥ ε} ≤ δ`` for every output ``k``.
    x : array_like, optional
        The point certified (default: the first test input).
    C : float, optional
        The complexity guess: ``R_3`` above it raises ``ψ`` (no check when None).
    lam, mu, psi, nu : float
        Initial regularizer weights (``μ``, ``ψ`` start at ``1e-3`` when raised from 0).
    q_min, alpha : float
        The balance threshold (1e-2 in the paper) and P3's ``α``.
    raise_factor, widen_factor : number
        How much ``λ, μ, ψ`` grow and the hidden widths multiply per step.
    max_width, max_rounds : int
        Caps: beyond them the answer is infeasible.
    inequality : {"cantelli", "chebyshev"}
        Passed to :func:`symft.analysis.certify.certify`.
    var_inputs : int
        Test inputs of the final network's ``var_delta`` (computed once, at the end; 0: skip).

    Returns
    -------
    Algorithm1Result
    """
    from ..analysis.certify import certify, p3_delta0
    from ..faults import NeuronCrash
    from ..graph.network import layer_norms

    eps_f, delta_f = _nonneg(eps, "eps"), _nonneg(delta, "delta")
    if not eps_f > 0 or not 0 < delta_f < 1:
        raise InvalidArgument(f"eps, delta: expected eps > 0 and 0 < delta < 1, got {eps!r}, {delta!r}")
    lam, mu, psi, nu = (_nonneg(v, n) for v, n in ((lam, "lam"), (mu, "mu"), (psi, "psi"), (nu, "nu")))
    if C is not None:
        C = _nonneg(C, "C")
    if isinstance(max_rounds, bool) or not isinstance(max_rounds, int) or max_rounds < 1:
        raise InvalidArgument(f"max_rounds: expected a positive integer, got {max_rounds!r}")
    if isinstance(widen_factor, bool) or not isinstance(widen_factor, int) or widen_factor < 2:
        raise InvalidArgument(f"widen_factor: expected an integer ≥ 2, got {widen_factor!r}")
    if not (isinstance(raise_factor, Real) and raise_factor > 1):
        raise InvalidArgument(f"raise_factor: expected a number > 1, got {raise_factor!r}")
    widths = tuple(int(w) for w in arch)
    if x is None:
        x = load_data(data, seed)[2][0]
    x = np.asarray(x, dtype=np.float64)
    rounds = []
    cert = result = None

    def finish(certified, infeasible, reason, copies=None):
        nonlocal result
        if var_inputs and result is not None:
            vd = evaluate_var_delta(result.network, load_data(data, seed)[2][:var_inputs], result.p)
            result = dataclasses.replace(result, **vd)
        rigorous = bool(certified and cert is not None and cert.rigorous)
        return Algorithm1Result(certified, infeasible, reason, widths, copies, rigorous, cert, tuple(rounds), result,
                                lam, mu, psi)

    def widen():
        new = (widths[0],) + tuple(min(max_width, w * widen_factor) for w in widths[1:-1]) + (widths[-1],)
        return None if new == widths else new

    for k in range(1, max_rounds + 1):
        result = train(data, arch=widths, activation=activation, p=p, reg={"lam": lam, "mu": mu, "psi": psi, "nu": nu},
                       epochs=epochs, seed=seed, var_inputs=0, progress=progress)
        net = result.network
        model = NeuronCrash(dict(result.p))
        chain = net.as_chain("Algorithm 1")
        norms = layer_norms(net)
        crash_layers = [chain.sites.index(net.site(s)) for s in result.p]
        q = min((norms[l - 1]["q_balance"] if l > 0 else 1.0) for l in crash_layers)
        d0 = p3_delta0(net, model, alpha)
        r3 = result.history[-1].r3

        def record(action, c=None):
            rounds.append(Round(k, widths, lam, mu, psi, result.accuracy, q, d0, r3,
                                None if c is None else max(o[2] for o in c.per_output),
                                None if c is None else max(o[3] for o in c.per_output),
                                None if c is None else c.delta_bound, action))

        if q < q_min:
            record(f"q = {q:.3g} < {q_min}: raise mu")
            mu = mu * raise_factor if mu > 0 else 1e-3
            continue
        if d0 > 1 / 3:
            new = widen()
            if new is None:
                record("delta_0 > 1/3 at the maximal width: infeasible")
                return finish(False, True, f"P3's delta_0 = {d0:.3g} > 1/3 with the widths at their cap")
            record(f"delta_0 = {d0:.3g} > 1/3: widen")
            widths = new
            continue
        if C is not None and r3 > C:
            record(f"R_3 = {r3:.3g} > C = {C}: raise psi")
            psi = psi * raise_factor if psi > 0 else 1e-3
            continue
        cert = certify(net, x, model, eps, delta, inequality=inequality, seed=seed)
        worst = max(cert.per_output, key=lambda o: o[1])
        if worst[1] >= eps_f:
            record("E Δ ≥ eps: infeasible", cert)
            return finish(False, True, f"E Δ ≥ {rounded(worst[1], 'down', 3)} ≥ eps = {eps} at output {worst[0]} "
                                       f"(no tail inequality can certify)")
        if cert.certified:
            record("certified", cert)
            return finish(True, False, f"certified with one copy ({cert.method})", 1)
        if Fraction(cert.delta_bound) <= Fraction(1, 3) and cert.copies_needed is not None:
            record(f"certified with the median of {cert.copies_needed} copies", cert)
            return finish(True, False, f"one copy fails with probability ≤ {rounded(cert.delta_bound, 'up', 3)} "
                                       f"({cert.method}); the median of {cert.copies_needed} copies fails with "
                                       f"probability ≤ {delta} (exact binomial tail)", cert.copies_needed)
        new = widen()
        if new is None:
            record("delta > 1/3 at the maximal width: infeasible", cert)
            return finish(False, True, f"one copy's failure bound {cert.delta_bound:.3g} > 1/3 with the widths "
                                       f"at their cap")
        record(f"delta = {cert.delta_bound:.3g} > 1/3: widen and raise lambda", cert)
        widths = new
        lam = lam * raise_factor if lam > 0 else 1.0
    return finish(False, True, f"no certificate within {max_rounds} rounds")
