r"""The P1 reduction (SUBSET SUM → ``E Δ^k`` under input crashes), as printed and corrected.

theory §3, P1 [PFT]: the input is ``x = a`` (one input neuron per integer),
every input crashes independently with probability ``p`` (a crashed input
outputs 0, so the surviving inputs are a random subset ``S``); layer 1 has
two neurons with all weights +1 and all weights −1 and a ramp activation;
layer 2 is one threshold neuron with weights ``(1, 1)`` and bias −1.5; the
output layer is the identity.  The network outputs 1 iff ``Σ_{i∈S} a_i = 0``.

The printed construction is wrong twice (errata E1, E2); this module
builds every variant as a symft :class:`~symft.graph.network.Network` (exact
weights, widths ``[M, 2, 1, 1]``) and decides an instance *through the
network*:

``"printed"``
    The ramp goes from 0 at ``−ε`` to 1 at ``+ε`` (``ε = 1/2`` by default):
    symft's ``ramp`` (``clip(t + 1, 0, 1)``) applied to
    ``t = ±s/(2ε) − 1/2``, i.e. weights ``±1/(2ε)`` and bias ``−1/2``, so
    ``φ(0) = 1/2``.  Decision rule as printed: yes iff ``E Δ^k > 0``.
    Fails on every zero-sum instance (E1): for ``a = (3, −3)`` it outputs 0.
``"ramp-fixed"``
    E1 fixed (``ramp = clip(s + 1, 0, 1)``, weights ±1, no bias: on integers
    ``φ(s) = 1`` iff ``s ≥ 0``) but the printed rule ``E Δ^k > 0`` kept: it
    answers yes on *every* instance because the all-crashed configuration
    has the empty sum 0 (E2): for ``a = (1, 2, 4)``, ``p = 0.1``,
    ``E Δ = 10⁻³ = p³``.
``"corrected"`` (the default; **the fix symft documents and uses**)
    The ramp-fixed network with the rule "yes iff the clean output is 1
    (the whole set sums to 0) or ``E Δ^k > p^M``".  When the clean output
    is 0, ``Δ = y(x_S) ∈ {0, 1}`` so ``Δ^k = Δ`` and
    ``E Δ^k = Σ_{S zero-sum} (1−p)^{|S|} p^{M−|S|}``, where the empty set
    contributes exactly ``p^M``; hence ``E Δ^k = p^M`` iff no non-empty
    zero-sum subset exists.
``"guarded"``
    The other fix of E2: the network itself outputs 0 on the empty
    configuration.  Layer 1 gets ``2M`` more ramp neurons
    ``ramp(x_i − 1)`` and ``ramp(−x_i − 1)`` (on integers: 1 iff
    ``x_i ≥ 1``, resp. ``x_i ≤ −1``), whose sum counts the surviving
    non-zero inputs; the threshold neuron computes
    ``step(r₊ + r₋ + count/(M+1) − 2)``, which is 1 iff both sum neurons are
    1 and at least one input survived (a positive ``count/(M+1)`` lies in
    ``[1/(M+1), M/(M+1)]``: a margin of ``1/(M+1)`` on both sides of the
    threshold).  Rule: yes iff the clean output is 1
    or ``E Δ^k > 0``.  A zero entry ``a_i = 0`` is indistinguishable from a
    crashed input, so such instances are answered yes directly (``{i}`` is
    a witness) — a polynomial-time preprocessing step of the reduction.

Deciding through the network: :func:`p1_expected_error` computes ``E Δ^k``
exactly (``fractions.Fraction``) by evaluating the network on all ``2^M``
crash configurations; :func:`p1_decide` applies the variant's rule and, with
``method="solver"``, asks Z3 whether a crash configuration that changes the
output exists (:func:`symft.worstcase.exists_crash`, input layer, at most
``M − 1`` crashes for the corrected rule, which excludes exactly the empty
configuration).  :func:`check_instance` compares both with the SUBSET SUM
solvers of :mod:`reductions.subset_sum`.

Examples
--------
>>> d = p1_decide([3, -3], "printed")
>>> d.answer, d.clean_output
(False, 0)
>>> p1_decide([3, -3]).answer
True
>>> e = p1_expected_error([1, 2, 4], p="0.1", variant="ramp-fixed")
>>> e, e == Fraction(1, 10) ** 3
(Fraction(1, 1000), True)
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from fractions import Fraction
from itertools import product

import numpy as np
import sympy as sp

from symft.errors import InvalidArgument, TooLargeError
from symft.faults import CrashPattern
from symft.engines.forward import forward, forward_masked
from symft.graph.network import Network

from .subset_sum import as_instance, check_witness, solve

__all__ = [
    "VARIANTS",
    "p1_network",
    "p1_rule",
    "P1Decision",
    "p1_output_counts",
    "p1_expected_error",
    "p1_decide",
    "CheckResult",
    "check_instance",
    "errata_demo",
]

#: The P1 variants: network and decision rule (see the module docstring).
VARIANTS = ("printed", "ramp-fixed", "corrected", "guarded")

#: Exhaustive enumeration of crash configurations is refused above this M (unless forced).
MAX_ENUM_M = 20


def _check_variant(variant):
    if variant not in VARIANTS:
        raise InvalidArgument(f"variant: expected one of {', '.join(VARIANTS)}, got {variant!r}")
    return variant


def _as_p(p):
    if isinstance(p, bool):
        raise InvalidArgument(f"p: expected a probability in (0, 1), got {p!r}")
    try:
        q = Fraction(str(p)) if isinstance(p, (str, float)) else Fraction(p)
    except (TypeError, ValueError):
        raise InvalidArgument(f"p: expected a probability in (0, 1), got {p!r}") from None
    if not 0 < q < 1:
        raise InvalidArgument(f"p: expected a probability in (0, 1) (strictly), got {p!r}")
    return q


def p1_network(M: int, variant: str = "corrected", *, eps=sp.Rational(1, 2)) -> Network:
    r"""The P1 network for instances of size ``M`` (the instance is the *input* ``x = a``).

    Parameters
    ----------
    M : int
        Number of integers.
    variant : str
        One of :data:`VARIANTS`; ``"ramp-fixed"`` and ``"corrected"`` share
        the same network (they differ in the decision rule).
    eps : rational
        Half-width of the printed ramp (``"printed"`` only).

    Examples
    --------
    >>> net = p1_network(3)
    >>> net.widths, [a.name for a in net.activations]
    ((3, 2, 1, 1), ['ramp', 'step', 'linear'])
    >>> p1_network(3, "printed").node("z1").op.params("sympy")["weight"]   # the first dense layer, exact
    array([[1, 1, 1],
           [-1, -1, -1]], dtype=object)
    >>> p1_network(2, "guarded").widths
    (2, 6, 1, 1)
    """
    _check_variant(variant)
    if isinstance(M, bool) or not isinstance(M, int) or M < 1:
        raise InvalidArgument(f"M: expected a positive integer, got {M!r}")
    eps = sp.sympify(eps)
    if not (eps.is_Rational and eps > 0):
        raise InvalidArgument(f"eps: expected a positive rational, got {eps}")
    if variant == "printed":
        c = 1 / (2 * eps)
        W1 = [[c] * M, [-c] * M]
        b1 = [sp.Rational(-1, 2)] * 2
        W2, b2 = [[1, 1]], [sp.Rational(-3, 2)]
    elif variant in ("ramp-fixed", "corrected"):
        W1, b1 = [[1] * M, [-1] * M], [0, 0]
        W2, b2 = [[1, 1]], [sp.Rational(-3, 2)]
    else:  # guarded
        W1 = [[1] * M, [-1] * M]
        b1 = [0, 0]
        for i in range(M):
            W1.append([1 if j == i else 0 for j in range(M)])
            b1.append(-1)
            W1.append([-1 if j == i else 0 for j in range(M)])
            b1.append(-1)
        W2 = [[1, 1] + [sp.Rational(1, M + 1)] * (2 * M)]
        b2 = [-2]
    return Network.from_sympy([W1, W2, [[1]]], [b1, b2, [0]], ["ramp", "step", "linear"],
                              name=f"P1-{variant}-M{M}")


def p1_rule(variant: str) -> str:
    """The decision rule of a variant, in words.

    Examples
    --------
    >>> p1_rule("corrected")
    'yes iff y(a) = 1 or E Δ^k > p^M'
    """
    return {
        "printed": "yes iff E Δ^k > 0 (as printed)",
        "ramp-fixed": "yes iff E Δ^k > 0 (as printed)",
        "corrected": "yes iff y(a) = 1 or E Δ^k > p^M",
        "guarded": "yes iff some a_i = 0, y(a) = 1, or E Δ^k > 0",
    }[_check_variant(variant)]


def _float_safe(a):
    return sum(abs(v) for v in a) < 2 ** 52


def p1_output_counts(a, variant: str = "corrected", *, force: bool = False):
    r"""Evaluate the P1 network on all ``2^M`` crash configurations.

    Returns ``(clean, counts)``: the clean output (0 or 1) and, for each
    number of surviving inputs ``c = 0 … M``, how many configurations with
    ``c`` survivors make the network output 1.

    Exactness: every weight and bias is a dyadic rational (``±1``, ``±1/2``,
    ``−3/2``), except ``1/(M+1)`` in the guarded variant, whose sum of at
    most ``M`` such terms keeps a margin of ``1/(M+1)`` from the threshold)
    and the inputs are integers with ``Σ|a_i| < 2^52``, so the float64 pass
    of :func:`symft.engines.forward.forward_masked` computes every pre-activation
    of the first two layers exactly (for the guarded variant, up to a
    rounding error far below the ``1/M`` margin); larger inputs use the exact
    engine (:func:`symft.engines.forward.forward` with ``exact=True``).  Outputs are
    checked to be exactly 0 or 1.

    Examples
    --------
    >>> p1_output_counts([1, 2, -3])
    (1, [1, 0, 0, 1])
    """
    a = as_instance(a).a
    _check_variant(variant)
    M = len(a)
    if M > MAX_ENUM_M and not force:
        raise TooLargeError(f"P1 enumeration: M = {M} needs 2^{M} network evaluations; refused above "
                            f"M = {MAX_ENUM_M} (pass force=True, or decide with method='solver')")
    net = p1_network(M, variant)
    if _float_safe(a):
        bits = np.array(list(product([False, True], repeat=M)), dtype=bool)  # True = crashed
        outs = forward_masked(net, np.array(a, dtype=float), {0: bits})[:, 0]
        clean = forward(net, np.array(a, dtype=float))[0]
        if not np.all((outs == 0) | (outs == 1)) or clean not in (0.0, 1.0):  # pragma: no cover
            raise RuntimeError("P1 network produced an output other than 0/1")
        survivors = M - bits.sum(axis=1)
        counts = np.bincount(survivors[outs == 1], minlength=M + 1)
        return int(clean), [int(c) for c in counts]
    counts = [0] * (M + 1)
    for crashed in product([False, True], repeat=M):
        pat = CrashPattern([(0, i) for i in range(M) if crashed[i]])
        y = forward(net, list(a), pat, exact=True)[0]
        if y == 1:
            counts[M - sum(crashed)] += 1
    clean = int(forward(net, list(a), exact=True)[0])
    return clean, counts


def p1_expected_error(a, p="1/10", k: int = 1, variant: str = "corrected", *, force: bool = False) -> Fraction:
    r"""Exact ``E Δ^k`` of the P1 network under input crashes with probability ``p``.

    ``Δ = y(x_S) − y(a)``; the expectation is the exact sum over all ``2^M``
    configurations, grouped by the number of survivors ``c``:
    ``Σ_S P(S) Δ(S)^k`` with ``P(S) = (1−p)^c p^{M−c}``.

    Examples
    --------
    >>> p1_expected_error([1, 2, 4], p="1/10")   # no-instance: exactly p^M (E2)
    Fraction(1, 1000)
    >>> p1_expected_error([1, -1, 5], p="1/2")   # yes: {0, 1} and the empty set
    Fraction(1, 4)
    """
    p = _as_p(p)
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise InvalidArgument(f"k: expected a positive integer, got {k!r}")
    a = as_instance(a).a
    M = len(a)
    clean, counts = p1_output_counts(a, variant, force=force)
    total_ones = Fraction(0)
    for c, n in enumerate(counts):
        total_ones += n * (1 - p) ** c * p ** (M - c)
    # Δ = y_S − clean with y_S ∈ {0, 1}: if clean = 0, Δ^k = y_S; if clean = 1, Δ^k = (−1)^k (1 − y_S).
    if clean == 0:
        return total_ones
    return (-1) ** k * (1 - total_ones)


@dataclass(frozen=True)
class P1Decision:
    """The answer the P1 network gives for one instance.

    Attributes
    ----------
    answer : bool or None
        The network's answer under the variant's rule (``None`` = the solver
        query was unknown).
    variant, rule, method : str
        ``method`` is ``"enumeration"`` or ``"solver:<name>"``.
    clean_output : int
        ``y(a)``, the fault-free output.
    expected : Fraction or None
        ``E Δ^k`` (enumeration only).
    threshold : Fraction or None
        What ``E Δ^k`` is compared with (0 or ``p^M``).
    surviving : tuple or None
        Indices of a surviving set on which the network outputs 1 (a
        non-empty one when the rule needs it), re-checked to sum to 0 when
        non-empty.
    p : Fraction
    k : int
    seconds : float

    Examples
    --------
    >>> d = p1_decide([5, -2, -3])
    >>> d.answer, d.clean_output, d.surviving
    (True, 1, (0, 1, 2))
    """

    answer: bool | None
    variant: str
    rule: str
    method: str
    clean_output: int
    expected: Fraction | None
    threshold: Fraction | None
    surviving: tuple | None
    p: Fraction
    k: int
    seconds: float


def _first_surviving(a, variant, need_nonempty):
    """A surviving set on which the network outputs 1 (smallest index order), from enumeration."""
    M = len(a)
    net = p1_network(M, variant)
    bits = np.array(list(product([False, True], repeat=M)), dtype=bool)
    if _float_safe(a):
        outs = forward_masked(net, np.array(a, dtype=float), {0: bits})[:, 0]
        for row, y in zip(bits, outs):
            if y == 1 and (not need_nonempty or not row.all()):
                return tuple(int(i) for i in np.flatnonzero(~row))
    return None


def p1_decide(a, variant: str = "corrected", *, p="1/10", k: int = 1, method: str = "enumeration",
              timeout: float | None = None, force: bool = False) -> P1Decision:
    r"""Decide a SUBSET SUM instance through the P1 network.

    Parameters
    ----------
    a : sequence of int
    variant : str
        One of :data:`VARIANTS`.
    p : probability in (0, 1)
        Input crash probability (exact; strings like ``"1/10"`` welcome).
    k : int
        The moment ``E Δ^k``.
    method : {"enumeration", "solver"}
        ``"enumeration"``: exact ``E Δ^k`` over all ``2^M`` configurations.
        ``"solver"``: Z3 on the crashed network (:func:`symft.worstcase.exists_crash`):
        is there a crash set of the inputs — of size at most ``M − 1`` for
        the corrected rule, any size for the printed rule — on which the
        output differs from ``y(a)``?  Since ``E Δ^k`` is a sum of
        non-negative terms (when ``y(a) = 0``), that is equivalent to the
        variant's rule.
    timeout : float, optional
        Solver timeout in seconds (unknown → ``answer = None``).

    Examples
    --------
    >>> p1_decide([1, 2, 4], "ramp-fixed").answer     # E2: the printed rule says yes
    True
    >>> p1_decide([1, 2, 4]).answer
    False
    >>> p1_decide([1, 2, 4], method="solver").method
    'solver:z3'
    """
    t0 = time.perf_counter()
    inst = as_instance(a)
    a = inst.a
    M = len(a)
    _check_variant(variant)
    pf = _as_p(p)
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise InvalidArgument(f"k: expected a positive integer, got {k!r}")
    rule = p1_rule(variant)
    threshold = pf ** M if variant == "corrected" else Fraction(0)
    if variant == "guarded" and 0 in a:
        i = a.index(0)
        return P1Decision(True, variant, rule, "preprocessing (a_i = 0)", 0, None, threshold, (i,), pf, k,
                          time.perf_counter() - t0)
    net = p1_network(M, variant)
    if method == "enumeration":
        clean, counts = p1_output_counts(a, variant, force=force)
        expected = p1_expected_error(a, pf, k, variant, force=force)
        if variant in ("printed", "ramp-fixed"):
            answer = expected > 0
        else:
            answer = clean == 1 or expected > threshold
        surviving = None
        if clean == 1:
            surviving = tuple(range(M))
        elif answer:
            surviving = _first_surviving(a, variant, need_nonempty=variant == "corrected")
        return P1Decision(bool(answer), variant, rule, "enumeration", clean, expected, threshold, surviving,
                          pf, k, time.perf_counter() - t0)
    if method == "solver":
        from symft.worstcase import exists_crash

        clean = int(forward(net, list(a), exact=True)[0])
        if clean == 1 and variant in ("corrected", "guarded"):
            return P1Decision(True, variant, rule, "solver:z3", clean, None, threshold, tuple(range(M)), pf, k,
                              time.perf_counter() - t0)
        f = M - 1 if variant == "corrected" else M
        res = exists_crash(net, list(a), max_crashes=f, layers=[0], epsilon=sp.Rational(1, 2),
                           method="smt", timeout=timeout)
        if res.status == "unknown":
            answer, surviving = None, None
        elif res.status == "found":
            answer = True
            crashed = {i for (_, i) in res.crash_set}
            surviving = tuple(i for i in range(M) if i not in crashed)
        else:
            answer, surviving = False, None
        if variant in ("printed", "ramp-fixed") and clean == 1:
            # printed rule "E Δ^k > 0" while Δ = y_S − 1 ≤ 0: a change counts only for even k
            answer = None if answer is None else bool(answer and k % 2 == 0)
            surviving = tuple(range(M))
        return P1Decision(answer, variant, rule, "solver:z3", clean, None, threshold, surviving, pf, k,
                          time.perf_counter() - t0)
    raise InvalidArgument(f"method: expected 'enumeration' or 'solver', got {method!r}")


@dataclass(frozen=True)
class CheckResult:
    """The P1 network's answer next to the SUBSET SUM solvers' answers.

    Attributes
    ----------
    a : tuple
    answer : bool or None
        The SUBSET SUM answer (solvers).
    witness : tuple or None
        A zero-sum subset (re-checked), when ``answer``.
    network_answer : bool or None
    agree : bool
        Whether the network's answer equals the solvers' (``False`` also when
        either is unknown).
    method : str
        How the network decided, and which solvers answered.
    decision : P1Decision
    solver_results : tuple of SubsetSumResult

    Examples
    --------
    >>> r = check_instance([3, -3], "printed")
    >>> r.answer, r.network_answer, r.agree
    (True, False, False)
    """

    a: tuple
    answer: bool | None
    witness: tuple | None
    network_answer: bool | None
    agree: bool
    method: str
    decision: P1Decision
    solver_results: tuple


def check_instance(a, variant: str = "corrected", *, p="1/10", k: int = 1, method: str = "enumeration",
                   solvers=("auto",), timeout: float | None = None) -> CheckResult:
    """Decide ``a`` through the P1 network and with SUBSET SUM solvers, and compare.

    Parameters
    ----------
    solvers : sequence of str
        Methods of :func:`reductions.subset_sum.solve`; they must agree with
        each other (a disagreement raises ``RuntimeError``: a bug).

    Examples
    --------
    >>> r = check_instance([7, -2, -5, 1], solvers=("brute-force", "z3", "sat:glucose4"))
    >>> r.answer, r.network_answer, r.agree, r.witness
    (True, True, True, (0, 1, 2))
    """
    inst = as_instance(a)
    results = tuple(solve(inst, s, timeout=timeout) for s in solvers)
    known = {r.answer for r in results if r.answer is not None}
    if len(known) > 1:  # pragma: no cover - would be a solver bug
        raise RuntimeError(f"SUBSET SUM solvers disagree on {inst.a}: {results}")
    answer = known.pop() if known else None
    witness = next((r.witness for r in results if r.witness is not None), None)
    d = p1_decide(inst, variant, p=p, k=k, method=method, timeout=timeout)
    if d.surviving and d.answer and variant in ("corrected", "guarded") and d.surviving != ():
        if not check_witness(inst.a, d.surviving):  # pragma: no cover - would be a reduction bug
            raise RuntimeError(f"P1 network's surviving set {d.surviving} does not sum to 0")
    agree = answer is not None and d.answer is not None and answer == d.answer
    how = f"network: {d.method} ({d.rule}); solvers: " + ", ".join(f"{r.method}={r.status}" for r in results)
    return CheckResult(inst.a, answer, witness, d.answer, agree, how, d, results)


def errata_demo() -> dict:
    r"""The two concrete counterexamples of theory E1 and E2, computed through the networks.

    Returns a dict with, for E1 (``a = (3, −3)``), the clean outputs of the
    printed and fixed networks, and for E2 (``a = (1, 2, 4)``, ``p = 1/10``)
    the exact ``E Δ`` of the ramp-fixed network, ``p^M``, and the answers of
    the printed rule and of the corrected one.

    Examples
    --------
    >>> d = errata_demo()
    >>> d["E1"]["printed_output"], d["E1"]["fixed_output"]
    (0, 1)
    >>> d["E2"]["expected_error"], d["E2"]["p^M"], d["E2"]["printed_rule_answer"], d["E2"]["corrected_answer"]
    (Fraction(1, 1000), Fraction(1, 1000), True, False)
    """
    e1 = (3, -3)
    printed = int(forward(p1_network(2, "printed"), list(e1), exact=True)[0])
    fixed = int(forward(p1_network(2, "corrected"), list(e1), exact=True)[0])
    e2 = (1, 2, 4)
    p = Fraction(1, 10)
    ed = p1_expected_error(e2, p, 1, "ramp-fixed")
    return {
        "E1": {"a": e1, "printed_output": printed, "fixed_output": fixed,
               "subset_sum_answer": solve(e1).answer,
               "printed_answer": p1_decide(e1, "printed").answer},
        "E2": {"a": e2, "p": p, "expected_error": ed, "p^M": p ** 3,
               "subset_sum_answer": solve(e2).answer,
               "printed_rule_answer": p1_decide(e2, "ramp-fixed", p=p).answer,
               "corrected_answer": p1_decide(e2, "corrected", p=p).answer},
    }
