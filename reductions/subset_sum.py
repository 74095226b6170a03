r"""SUBSET SUM: instances, four independent solvers, and an independent witness check.

The problem (theory §3, P1): given integers ``a_1 … a_M``, is there a
**non-empty** set ``S ⊆ {0, …, M−1}`` with ``Σ_{i∈S} a_i = 0``?  (Indices are
0-based throughout.)

Instances (all seeded, see :func:`symft.utils.as_rng`):

* :func:`random_instance` — ``a_i`` uniform in ``[−bound, bound]``;
* :func:`planted_yes` — random, then one entry rewritten so that a random
  non-empty subset sums to 0 (a yes-instance by construction);
* :func:`known_no` — ``a_i = m·k_i + 1`` with ``m > M``: every non-empty
  subset has sum ``≡ |S| (mod m)`` with ``1 ≤ |S| ≤ M < m``, so no sum is 0.
  The entries have both signs and are otherwise random, so the solvers get
  no easy sign argument.

Solvers — each returns a frozen :class:`SubsetSumResult` with ``answer``
``True`` (and a witness, re-checked by :func:`check_witness` before it is
returned), ``False`` (with the reason it is a proof of absence) or ``None``
(*unknown*, with the reason — a timeout is never a "no"):

* :func:`solve_brute_force` — every one of the ``2^M − 1`` non-empty subsets
  (vectorized doubling of the table of sums);
* :func:`solve_meet_in_the_middle` — the sums of the two halves,
  ``O(2^{M/2} log)`` (Horowitz–Sahni);
* :func:`solve_z3` — Z3 with a pseudo-boolean equality ``PbEq`` (or linear
  integer arithmetic) and ``Or(s)``;
* :func:`solve_sat` — python-sat: ``Σ a_i s_i = 0`` through
  :class:`pysat.pb.PBEnc` (its back end normalizes negative coefficients by
  negating literals; the default is the *adder* encoding, whose size is
  ``O(M log max|a_i|)`` — the BDD-based ``best`` encoding explodes for
  9-digit coefficients) plus the clause ``s_1 ∨ … ∨ s_M``, solved by any
  of several SAT solvers (Glucose 4, CaDiCaL 1.5.3, MiniSat 2.2, …).
  Integers of any size are handled exactly: the entries are divided by
  their gcd and, when the sum of their magnitudes is more than one
  pseudo-boolean constraint can hold (:data:`PB_SUM_LIMIT`), the equation is
  split into base-``2^b`` digit columns linked by carries (see
  :func:`sat_encoding`).

Examples
--------
>>> r = solve_meet_in_the_middle([5, -3, 7, -2])
>>> r.answer, r.witness, check_witness([5, -3, 7, -2], r.witness)
(True, (0, 1, 3), True)
>>> solve_brute_force([1, 2, 4]).answer
False
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from numbers import Integral

import numpy as np

from symft.errors import InvalidArgument, TooLargeError
from symft.solvers import PB_SUM_LIMIT, solve_clauses
from symft.utils import as_rng

__all__ = [
    "SubsetSumInstance",
    "SubsetSumResult",
    "as_instance",
    "random_instance",
    "planted_yes",
    "known_no",
    "check_witness",
    "solve_brute_force",
    "solve_meet_in_the_middle",
    "solve_z3",
    "sat_encoding",
    "pb_fits",
    "PB_SUM_LIMIT",
    "solve_sat",
    "solve",
    "SAT_SOLVERS",
    "SOLVERS",
]

#: SAT solvers of python-sat offered by :func:`solve_sat` (names as pysat spells them).
SAT_SOLVERS = ("glucose4", "cadical153", "minisat22", "minisat-gh")

#: Sums beyond this do not fit int64 safely; larger instances use Python integers.
_INT64_SAFE = 2 ** 62

# PB_SUM_LIMIT (imported from symft.solvers, where the reasons are written down): the largest
# ``Σ|w_i| + |k|`` of one pseudo-boolean constraint handed to pysat.pb.


@dataclass(frozen=True)
class SubsetSumInstance:
    """A SUBSET SUM instance: the integers ``a`` and how they were made.

    Parameters
    ----------
    a : tuple of int
    kind : str
        ``"given"``, ``"random"``, ``"planted-yes"`` or ``"known-no"``.
    seed : int or None
        The seed of a generated instance.
    planted : tuple of int or None
        For ``"planted-yes"``: the planted zero-sum subset.

    Examples
    --------
    >>> inst = planted_yes(6, 100, seed=1)
    >>> inst.kind, len(inst.a), check_witness(inst.a, inst.planted)
    ('planted-yes', 6, True)
    """

    a: tuple
    kind: str = "given"
    seed: int | None = None
    planted: tuple | None = None

    @property
    def M(self) -> int:
        """Number of integers.

        Examples
        --------
        >>> as_instance([1, 2, 3]).M
        3
        """
        return len(self.a)


@dataclass(frozen=True)
class SubsetSumResult:
    """What a solver found.

    Attributes
    ----------
    answer : bool or None
        ``True``: a non-empty zero-sum subset exists (``witness`` holds one,
        already re-checked); ``False``: proved that none exists (``reason``
        says how); ``None``: unknown (``reason`` says why — e.g. a timeout).
    witness : tuple of int or None
        Sorted 0-based indices of a zero-sum subset.
    method : str
        ``"brute-force"``, ``"meet-in-the-middle"``, ``"z3"``, ``"sat:<solver>"``.
    reason : str
        The proof of absence or the reason for *unknown*; for a yes, how the
        witness was found.
    seconds : float
        Wall-clock time of the solve.

    Examples
    --------
    >>> r = solve_brute_force([3, -3])
    >>> r.answer, r.witness, r.method
    (True, (0, 1), 'brute-force')
    """

    answer: bool | None
    witness: tuple | None
    method: str
    reason: str
    seconds: float

    @property
    def status(self) -> str:
        """``"yes"``, ``"no"`` or ``"unknown"``.

        Examples
        --------
        >>> solve_brute_force([1, 2]).status
        'no'
        """
        return {True: "yes", False: "no", None: "unknown"}[self.answer]


def as_instance(a) -> SubsetSumInstance:
    """Validate a list of integers (or pass an instance through).

    Raises
    ------
    InvalidArgument
        Empty list, or an entry that is not an integer (floats with an
        integral value such as ``3.0`` are refused too: the problem is over
        the integers and a float may already have lost digits).

    Examples
    --------
    >>> as_instance([3, -3]).a
    (3, -3)
    >>> as_instance([1, 2.5])
    Traceback (most recent call last):
    ...
    symft.errors.InvalidArgument: a[1]: expected an integer, got 2.5
    """
    if isinstance(a, SubsetSumInstance):
        return a
    if isinstance(a, (str, bytes)) or not hasattr(a, "__iter__"):
        raise InvalidArgument(f"a: expected a sequence of integers, got {type(a).__name__}")
    vals = []
    for i, v in enumerate(a):
        if isinstance(v, bool) or not isinstance(v, Integral):
            raise InvalidArgument(f"a[{i}]: expected an integer, got {v!r}")
        vals.append(int(v))
    if not vals:
        raise InvalidArgument("a: expected at least one integer, got none")
    return SubsetSumInstance(tuple(vals))


def _check_gen(M, bound):
    if isinstance(M, bool) or not isinstance(M, Integral) or M < 1:
        raise InvalidArgument(f"M: expected a positive integer, got {M!r}")
    if isinstance(bound, bool) or not isinstance(bound, Integral) or bound < 1:
        raise InvalidArgument(f"bound: expected a positive integer, got {bound!r}")
    if bound >= 2 ** 62:
        raise InvalidArgument(f"bound: expected at most 2**62 - 1, got {bound}")


def _uniform(rng, bound, size):
    return [int(v) for v in rng.integers(-bound, bound, size=size, endpoint=True)]


def random_instance(M: int, bound: int, *, seed) -> SubsetSumInstance:
    """``M`` integers uniform in ``[−bound, bound]``.

    Examples
    --------
    >>> random_instance(4, 10, seed=0) == random_instance(4, 10, seed=0)
    True
    >>> max(abs(v) for v in random_instance(50, 10, seed=1).a) <= 10
    True
    """
    _check_gen(M, bound)
    rng = as_rng(seed)
    return SubsetSumInstance(tuple(_uniform(rng, bound, M)), "random", seed if isinstance(seed, int) else None)


def planted_yes(M: int, bound: int, *, seed, size: int | None = None) -> SubsetSumInstance:
    """A random instance with a planted non-empty zero-sum subset.

    A random subset ``S`` of ``size`` indices (default: random in
    ``2 … M``, or 1 when ``M = 1``) is chosen and its last index is
    rewritten to ``−Σ`` of the others, so ``Σ_S a_i = 0``; that entry may
    exceed ``bound`` in absolute value (by at most a factor ``|S| − 1``).

    Examples
    --------
    >>> inst = planted_yes(8, 1000, seed=3)
    >>> sum(inst.a[i] for i in inst.planted)
    0
    """
    _check_gen(M, bound)
    rng = as_rng(seed)
    a = _uniform(rng, bound, M)
    if size is None:
        size = int(rng.integers(2, M, endpoint=True)) if M >= 2 else 1
    if isinstance(size, bool) or not isinstance(size, Integral) or not 1 <= size <= M:
        raise InvalidArgument(f"size: expected an integer in 1 … {M}, got {size!r}")
    S = sorted(int(i) for i in rng.choice(M, size=size, replace=False))
    a[S[-1]] = -sum(a[i] for i in S[:-1])
    return SubsetSumInstance(tuple(a), "planted-yes", seed if isinstance(seed, int) else None, tuple(S))


def known_no(M: int, bound: int, *, seed) -> SubsetSumInstance:
    """A no-instance: ``a_i = m·k_i + 1`` with ``m = M + 1``.

    Every non-empty subset sum is ``≡ |S| (mod m)`` with ``1 ≤ |S| ≤ M < m``,
    hence non-zero.  The ``k_i`` are uniform with both signs so that
    ``|a_i| ≤ bound`` (``bound ≥ M + 2`` is needed for both signs to occur).

    Examples
    --------
    >>> inst = known_no(6, 50, seed=0)
    >>> all(v % 7 == 1 for v in inst.a), solve_brute_force(inst).answer
    (True, False)
    """
    _check_gen(M, bound)
    rng = as_rng(seed)
    m = M + 1
    kmax = (bound - 1) // m
    kmin = -((bound + 1) // m)
    ks = rng.integers(kmin, kmax, size=M, endpoint=True)
    return SubsetSumInstance(tuple(int(m * k + 1) for k in ks), "known-no",
                             seed if isinstance(seed, int) else None)


def check_witness(a, witness) -> bool:
    """Independent check that ``witness`` is a non-empty zero-sum subset of ``a``.

    Pure Python integers (no NumPy, no solver): the indices must be
    distinct, in range, at least one, and the sum exactly 0.

    Examples
    --------
    >>> check_witness([3, -3, 5], (0, 1)), check_witness([3, -3, 5], ()), check_witness([3, -3], (0, 0))
    (True, False, False)
    """
    a = as_instance(a).a
    if witness is None:
        return False
    w = list(witness)
    if not w or len(set(w)) != len(w):
        return False
    if not all(isinstance(i, Integral) and not isinstance(i, bool) and 0 <= i < len(a) for i in w):
        return False
    return sum(a[int(i)] for i in w) == 0


def _yes(a, witness, method, reason, t0):
    witness = tuple(sorted(int(i) for i in witness))
    if not check_witness(a, witness):  # pragma: no cover - would be a solver bug
        raise RuntimeError(f"{method}: returned {witness}, which is not a zero-sum subset of {a}")
    return SubsetSumResult(True, witness, method, reason, time.perf_counter() - t0)


def _bits(mask, offset=0):
    return [offset + i for i in range(int(mask).bit_length()) if (int(mask) >> i) & 1]


def _sums(a):
    """All 2^m subset sums of ``a``; index bit i set ⇔ a[i] in the subset."""
    big = sum(abs(v) for v in a) >= _INT64_SAFE
    s = np.zeros(1, dtype=object if big else np.int64)
    for v in a:
        s = np.concatenate([s, s + v])
    return s


def _refuse(M, limit, what, force):
    if M > limit and not force:
        raise TooLargeError(f"{what}: M = {M} needs about 2^{M if what == 'brute force' else M // 2 + 1} "
                            f"sums; refused above M = {limit} (pass force=True, or use "
                            f"{'solve_meet_in_the_middle' if what == 'brute force' else 'solve_z3 / solve_sat'})")


def solve_brute_force(a, *, force: bool = False) -> SubsetSumResult:
    """Exhaustive search over all ``2^M − 1`` non-empty subsets.

    Refuses ``M > 24`` unless ``force=True`` (``2^24`` int64 sums = 128 MB).

    Examples
    --------
    >>> solve_brute_force([2, -5, 3]).witness
    (0, 1, 2)
    >>> solve_brute_force(list(range(1, 40)))
    Traceback (most recent call last):
    ...
    symft.errors.TooLargeError: brute force: M = 39 needs about 2^39 sums; refused above M = 24 (pass force=True, or use solve_meet_in_the_middle)
    """
    a = as_instance(a).a
    _refuse(len(a), 24, "brute force", force)
    t0 = time.perf_counter()
    s = _sums(a)
    hits = np.flatnonzero(s[1:] == 0)
    if hits.size:
        return _yes(a, _bits(hits[0] + 1), "brute-force", "found by enumeration", t0)
    return SubsetSumResult(False, None, "brute-force",
                           f"all 2^{len(a)} - 1 non-empty subsets enumerated, none sums to 0",
                           time.perf_counter() - t0)


def solve_meet_in_the_middle(a, *, force: bool = False) -> SubsetSumResult:
    """Horowitz–Sahni: split in halves, match sums of one half with negated sums of the other.

    A zero-sum subset is non-empty in the left half only, the right half
    only, or both; all three cases are searched, so "no" is a proof.
    Refuses ``M > 50`` unless ``force=True``.

    Examples
    --------
    >>> solve_meet_in_the_middle([10, 20, -5, -25, 7]).answer
    True
    >>> solve_meet_in_the_middle([1, 2, 4, 8]).reason
    'no zero sum among the 2^2 x 2^2 pairs of half-sums (empty pair excluded)'
    """
    a = as_instance(a).a
    _refuse(len(a), 50, "meet in the middle", force)
    t0 = time.perf_counter()
    m = len(a) // 2
    left, right = a[:m], a[m:]
    L, R = _sums(left), _sums(right)
    hit = np.flatnonzero(L[1:] == 0)
    if hit.size:
        return _yes(a, _bits(hit[0] + 1), "meet-in-the-middle", "zero sum inside the left half", t0)
    hit = np.flatnonzero(R[1:] == 0)
    if hit.size:
        return _yes(a, _bits(hit[0] + 1, m), "meet-in-the-middle", "zero sum inside the right half", t0)
    if L.dtype == object or R.dtype == object:
        index = {}
        for j in range(1, len(R)):
            index.setdefault(-R[j], j)
        for i in range(1, len(L)):
            if L[i] in index:
                j = index[L[i]]
                return _yes(a, _bits(i) + _bits(j, m), "meet-in-the-middle", "matched half-sums", t0)
    else:
        common, il, ir = np.intersect1d(L[1:], -R[1:], assume_unique=False, return_indices=True)
        if common.size:
            return _yes(a, _bits(il[0] + 1) + _bits(ir[0] + 1, m), "meet-in-the-middle", "matched half-sums", t0)
    return SubsetSumResult(False, None, "meet-in-the-middle",
                           f"no zero sum among the 2^{m} x 2^{len(a) - m} pairs of half-sums (empty pair excluded)",
                           time.perf_counter() - t0)


def _check_timeout(timeout):
    if timeout is None:
        return None
    try:
        t = float(timeout)
    except (TypeError, ValueError):
        raise InvalidArgument(f"timeout: expected a positive number of seconds or None, got {timeout!r}") from None
    if not t > 0:
        raise InvalidArgument(f"timeout: expected a positive number of seconds or None, got {timeout!r}")
    return t


def solve_z3(a, *, timeout: float | None = None, encoding: str = "pb") -> SubsetSumResult:
    """Z3: Booleans ``s_i``, ``Σ a_i s_i = 0`` and ``s_1 ∨ … ∨ s_M``.

    Parameters
    ----------
    encoding : {"pb", "lia"}
        ``"pb"``: Z3's pseudo-boolean ``PbEq`` (32-bit coefficients only:
        larger entries switch to ``"lia"``, and the reason says so);
        ``"lia"``: ``Sum(If(s_i, a_i, 0)) == 0`` in linear integer arithmetic.
    timeout : float, optional
        Seconds; on timeout the answer is ``None`` (unknown).

    Examples
    --------
    >>> solve_z3([4, -1, -3, 9]).witness
    (0, 1, 2)
    >>> solve_z3([1, 2, 4], encoding="lia").reason
    'z3 (lia): unsat'
    """
    import z3

    a = as_instance(a).a
    timeout = _check_timeout(timeout)
    if encoding not in ("pb", "lia"):
        raise InvalidArgument(f"encoding: expected 'pb' or 'lia', got {encoding!r}")
    if encoding == "pb" and max(abs(v) for v in a) >= 2 ** 31:
        encoding = "lia"  # z3's PbEq takes 32-bit coefficients only
    t0 = time.perf_counter()
    ctx = z3.Context()
    s = [z3.Bool(f"s{i}", ctx) for i in range(len(a))]
    solver = z3.Solver(ctx=ctx)
    if timeout is not None:
        solver.set(timeout=max(1, int(timeout * 1000)))
    if encoding == "pb":
        solver.add(z3.PbEq([(s[i], a[i]) for i in range(len(a))], 0))
    else:
        solver.add(z3.Sum([z3.If(s[i], z3.IntVal(a[i], ctx), z3.IntVal(0, ctx)) for i in range(len(a))]) == 0)
    solver.add(z3.Or(s))
    r = solver.check()
    if r == z3.sat:
        model = solver.model()
        w = [i for i in range(len(a)) if z3.is_true(model.eval(s[i], model_completion=True))]
        return _yes(a, w, "z3", f"z3 ({encoding}): sat", t0)
    if r == z3.unsat:
        return SubsetSumResult(False, None, "z3", f"z3 ({encoding}): unsat", time.perf_counter() - t0)
    return SubsetSumResult(None, None, "z3", f"z3 ({encoding}): unknown ({solver.reason_unknown()})",
                           time.perf_counter() - t0)


def pb_fits(weights, bound=0, *, limit: int = PB_SUM_LIMIT) -> bool:
    """Whether ``Σ w_i l_i = bound`` is small enough for :mod:`pysat.pb` to encode exactly.

    True when ``Σ|w_i| + |bound| ≤ limit`` (default :data:`PB_SUM_LIMIT`,
    which says why a larger constraint is encoded wrongly, or not at all).

    Examples
    --------
    >>> pb_fits([2 ** 60, -2 ** 60]), pb_fits([2 ** 61, -2 ** 61])
    (True, False)
    """
    return sum(abs(int(w)) for w in weights) + abs(int(bound)) <= limit


def _subset_sum_equalities(a, limit):
    """Pseudo-boolean equalities over ``s_i`` (variable ``i + 1``) and fresh carry bits.

    Returns ``(equalities, nv, columns)``: each equality is
    ``(lits, weights, bound)`` with ``bound ≥ 0`` and ``pb_fits`` true;
    their conjunction is satisfiable by an assignment of ``s`` iff
    ``Σ a_i s_i = 0``; ``columns`` is ``None`` for the single equation or
    ``(J, b)`` for ``J`` digit columns in base ``2^b``.
    """
    M = len(a)
    nz = [i for i in range(M) if a[i] != 0]
    if not nz:
        return [], M, None
    g = 0
    for i in nz:
        g = math.gcd(g, a[i])
    c = {i: a[i] // g for i in nz}  # exact: Σ a_i s_i = 0 ⇔ Σ (a_i / g) s_i = 0
    if pb_fits(c.values(), 0, limit=limit):
        return [([i + 1 for i in nz], [c[i] for i in nz], 0)], M, None
    # Columns: |c_i| = Σ_j e_ij B^j with digits 0 ≤ e_ij < B = 2^b, and
    # d_ij = sign(c_i)·e_ij.  Column j states Σ_i d_ij s_i + κ_{j−1} = B·κ_j
    # with κ_{−1} = κ_{J−1} = 0.  Summing B^j·(column j) telescopes to
    # Σ c_i s_i = B^J κ_{J−1} − κ_{−1} = 0, so any solution of the columns
    # solves the equation.  Conversely, if Σ c_i s_i = 0 then the partial sum
    # P_j = Σ_{j' ≤ j} B^{j'} Σ_i d_ij' s_i is ≡ 0 mod B^{j+1} and
    # |P_j| ≤ n (B^{j+1} − 1) for the n non-zero entries, so the carry
    # κ_j = P_j / B^{j+1} is an integer with |κ_j| ≤ n − 1 =: R.  Each carry
    # is κ_j = −R + Σ_t 2^t β_jt over T = bit_length(2R) bits, which covers
    # −R … R, so no solution is lost.
    n = len(nz)
    R = n - 1
    T = (2 * R).bit_length()

    def worst(B):  # the largest Σ|w| + |bound| of a column in base B
        return n * (B - 1) + (2 ** T - 1) * (B + 1) + B * R

    b = limit.bit_length()
    while b >= 1 and worst(2 ** b) > limit:
        b -= 1
    if b < 1:
        raise TooLargeError(f"a: {n} non-zero entries are too many to split the equation into "
                            f"pseudo-boolean constraints of at most {limit} in total")
    B = 2 ** b
    J = -(-max(abs(v) for v in c.values()).bit_length() // b)
    nv = M
    carry = []
    for _ in range(J - 1):
        carry.append(list(range(nv + 1, nv + T + 1)))
        nv += T
    eqs = []
    for j in range(J):
        lits, ws = [], []
        for i in nz:
            e = (abs(c[i]) >> (b * j)) & (B - 1)
            if e:
                lits.append(i + 1)
                ws.append(e if c[i] > 0 else -e)
        bound = 0
        if j >= 1:  # + κ_{j−1} = −R + Σ 2^t β
            lits += carry[j - 1]
            ws += [2 ** t for t in range(T)]
            bound += R
        if j <= J - 2:  # − B κ_j = B R − Σ B 2^t β
            lits += carry[j]
            ws += [-B * 2 ** t for t in range(T)]
            bound -= B * R
        if bound < 0:
            ws, bound = [-w for w in ws], -bound
        if not pb_fits(ws, bound, limit=limit) or (bound and not ws):  # pragma: no cover - excluded above
            raise RuntimeError(f"column {j}: {ws} = {bound} exceeds {limit} or has no terms")
        eqs.append((lits, ws, bound))
    return eqs, nv, (J, b)


def sat_encoding(a, encoding: str = "adder", *, limit: int = PB_SUM_LIMIT):
    """The CNF of ``Σ a_i s_i = 0 ∧ (s_1 ∨ … ∨ s_M)``; variable ``i + 1`` is ``s_i``.

    Returns ``(clauses, n_vars)``.  ``encoding`` names a
    :class:`pysat.pb.EncType` (``adder``, ``binmerge``, ``seqcounter``, …)
    that produces clauses (``native`` does not and is refused).

    The encoding is exact for integers of any size.  The entries are first
    divided by their greatest common divisor.  If the sum of their
    magnitudes still exceeds ``limit`` (default :data:`PB_SUM_LIMIT`, the
    most one :mod:`pysat.pb` constraint holds exactly), the equation is split
    into base-``2^b`` digit columns, column ``j`` stating
    ``Σ_i d_ij s_i + κ_{j−1} = 2^b κ_j`` with integer carries
    ``|κ_j| ≤ M − 1`` kept in fresh binary variables, ``κ_{−1} = κ_{J−1} = 0``
    (the columns telescope back to the equation, and the carries of a
    solution always lie in that range); ``b`` is the largest for which every
    column fits ``limit``.

    Raises
    ------
    TooLargeError
        When no base fits ``limit`` (only for absurdly many entries, or a
        tiny ``limit``).

    Examples
    --------
    >>> clauses, nv = sat_encoding([3, -3])
    >>> [1, 2] in clauses, nv >= 2
    (True, True)
    >>> clauses, nv = sat_encoding([2 ** 100, -2 ** 100])  # the gcd leaves 1, -1: one small constraint
    >>> nv
    2
    >>> clauses, nv = sat_encoding([2 ** 100 + 1, -2 ** 100 - 1, 5])  # coprime: digit columns, carry bits
    >>> nv > 3
    True
    """
    a = as_instance(a).a
    _check_encoding(encoding)
    if isinstance(limit, bool) or not isinstance(limit, Integral) or not 1 <= limit <= PB_SUM_LIMIT:
        raise InvalidArgument(f"limit: expected an integer in 1 … {PB_SUM_LIMIT}, got {limit!r}")
    clauses, nv, _ = _sat_cnf(a, encoding, int(limit))
    return clauses, nv


def _check_encoding(encoding):
    from pysat.pb import EncType

    if not isinstance(encoding, str) or not hasattr(EncType, encoding) or encoding.startswith("_"):
        raise InvalidArgument(f"encoding: expected a pysat.pb.EncType name such as 'adder', got {encoding!r}")
    if encoding == "native":
        raise InvalidArgument("encoding: 'native' keeps the constraint outside the clauses; "
                              "expected one that produces clauses, such as 'adder'")


def _sat_cnf(a, encoding, limit):
    """``sat_encoding`` on validated arguments; also returns the columns ``(J, b)`` or ``None``."""
    from pysat.pb import EncType, PBEnc

    eqs, nv, columns = _subset_sum_equalities(a, limit)
    clauses = []
    for lits, ws, bound in eqs:
        cnf = PBEnc.equals(lits=lits, weights=ws, bound=bound, top_id=nv, encoding=getattr(EncType, encoding))
        clauses += [list(cl) for cl in cnf.clauses]
        nv = max(nv, cnf.nv)
    return clauses + [list(range(1, len(a) + 1))], nv, columns


def solve_sat(a, *, solver: str = "glucose4", encoding: str = "adder",
              timeout: float | None = None) -> SubsetSumResult:
    """SAT through a pseudo-boolean encoding (python-sat); see :func:`sat_encoding`.

    Parameters
    ----------
    solver : str
        A python-sat solver name, e.g. one of :data:`SAT_SOLVERS`.
    timeout : float, optional
        Seconds; the solver is interrupted and the answer is ``None``
        (unknown).  Solvers python-sat cannot interrupt (CaDiCaL, Lingeling)
        then run in a forked child process that is killed at the deadline.

    Examples
    --------
    >>> solve_sat([6, -2, -4, 11], solver="cadical153").witness
    (0, 1, 2)
    >>> solve_sat([1, 2, 4], solver="minisat22").reason
    'sat:minisat22 (adder encoding): unsat'

    Integers of any size (here beyond 64 bits, with no common divisor):

    >>> r = solve_sat([2 ** 70 + 1, 3, -2 ** 70 - 4])
    >>> r.witness, r.reason
    ((0, 1, 2), 'sat:glucose4 (adder encoding in 2 base-2^58 digit columns with carries): sat')
    """
    from pysat.solvers import SolverNames

    a = as_instance(a).a
    timeout = _check_timeout(timeout)
    if not any(solver in names for names in vars(SolverNames).values() if isinstance(names, tuple)):
        raise InvalidArgument(f"solver: unknown python-sat solver {solver!r}; try one of {', '.join(SAT_SOLVERS)}")
    t0 = time.perf_counter()
    method = f"sat:{solver}"
    _check_encoding(encoding)
    try:
        clauses, _, columns = _sat_cnf(a, encoding, PB_SUM_LIMIT)
    except TooLargeError as e:
        return SubsetSumResult(None, None, method, f"{method}: not encoded ({e})", time.perf_counter() - t0)
    if columns is not None:
        encoding = f"{encoding} encoding in {columns[0]} base-2^{columns[1]} digit columns with carries"
    else:
        encoding = f"{encoding} encoding"
    r, model = solve_clauses(solver, clauses, timeout)
    if r is True:
        w = [i for i in range(len(a)) if model[i] > 0]
        return _yes(a, w, method, f"{method} ({encoding}): sat", t0)
    if r is False:
        return SubsetSumResult(False, None, method, f"{method} ({encoding}): unsat",
                               time.perf_counter() - t0)
    return SubsetSumResult(None, None, method, f"{method}: interrupted after the {timeout} s timeout",
                           time.perf_counter() - t0)


#: Solver names accepted by :func:`solve`.
SOLVERS = ("brute-force", "meet-in-the-middle", "z3") + tuple(f"sat:{s}" for s in SAT_SOLVERS)


def solve(a, method: str = "auto", *, timeout: float | None = None) -> SubsetSumResult:
    """Solve with one named method, or ``"auto"`` (brute force up to M = 16, else meet in the middle ≤ 50, else Z3).

    Examples
    --------
    >>> solve([3, 5, -8]).method, solve([3, 5, -8], "sat:cadical153").answer
    ('brute-force', True)
    """
    inst = as_instance(a)
    M = inst.M
    if method == "auto":
        method = "brute-force" if M <= 16 else "meet-in-the-middle" if M <= 50 else "z3"
    if method == "brute-force":
        return solve_brute_force(inst)
    if method == "meet-in-the-middle":
        return solve_meet_in_the_middle(inst)
    if method == "z3":
        return solve_z3(inst, timeout=timeout)
    if method.startswith("sat:"):
        return solve_sat(inst, solver=method[4:], timeout=timeout)
    raise InvalidArgument(f"method: expected 'auto' or one of {', '.join(SOLVERS)}, got {method!r}")
