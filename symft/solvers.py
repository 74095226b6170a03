r"""Running a python-sat solver on a CNF with a timeout, interruptibly.

The worst-case SAT back end (:mod:`symft.worstcase.sat`) and the SUBSET SUM
reduction (``reductions.subset_sum``) hand clauses to a python-sat solver
through :func:`solve_clauses`: solvers that python-sat can interrupt
(Glucose, MiniSat, …) run in this process and are interrupted by a timer at
the deadline; the others (CaDiCaL, Lingeling) run in a forked child process
that is killed at the deadline.  A timeout answers ``None`` (unknown), never
*unsat*.

:data:`PB_SUM_LIMIT` is the largest ``Σ|w_i| + |bound|`` of one
pseudo-boolean constraint that python-sat's encoders handle correctly.

Examples
--------
>>> solve_clauses("glucose4", [[1, 2], [-1], [-2, 3]])
(True, [-1, 2, 3])
>>> solve_clauses("minisat22", [[1], [-1]], timeout=5.0)
(False, None)
"""

from __future__ import annotations

import threading

__all__ = ["PB_SUM_LIMIT", "interruptible", "run_sat", "run_sat_in_child", "solve_clauses"]

#: The largest ``Σ|w_i| + |k|`` of one constraint ``Σ w_i l_i (op) k`` handed to
#: :mod:`pysat.pb`.  Its encoders run in pindakaas (Rust), which holds every
#: coefficient and the bound in a 64-bit integer and sums them with
#: wrap-around: a weight ``≥ 2^63`` is a ``TypeError`` in python-sat, ``−2^63``
#: a ``PanicException``, and ``Σ|w_i| ≥ 2^63`` a wrong CNF without any error
#: (``2^62·s_1 − 2^62·s_2 = 0`` encodes as unsatisfiable under adder,
#: binmerge, watchdog and mixedradix).  binmerge and watchdog are wrong
#: already for ``Σ|w_i| + k`` just below ``2^63`` when one coefficient has
#: 63 bits; at or below ``2^62 − 1`` no encoder was found wrong (the test
#: ``test_pb_sum_limit_holds_at_the_boundary`` checks it).
PB_SUM_LIMIT = 2 ** 62 - 1


def interruptible(solver: str) -> bool:
    """Whether python-sat can interrupt ``solver`` (CaDiCaL and Lingeling cannot).

    Examples
    --------
    >>> interruptible("glucose4"), interruptible("cadical153")
    (True, False)
    """
    from pysat.solvers import Solver

    s = Solver(name=solver)
    try:
        cls = type(s.solver)
        import inspect

        return "NotImplementedError" not in inspect.getsource(cls.interrupt)
    except (OSError, TypeError):  # pragma: no cover - no source: assume not
        return False
    finally:
        s.delete()


def run_sat(solver: str, clauses, timeout: float | None):
    """Solve in this process; ``(True, model)``, ``(False, None)`` or ``(None, None)`` after ``timeout`` s.

    Examples
    --------
    >>> run_sat("glucose4", [[1], [-1, 2]], None)
    (True, [1, 2])
    """
    from pysat.solvers import Solver

    s = Solver(name=solver, bootstrap_with=clauses)
    try:
        if timeout is None:
            r = s.solve()
        else:
            timer = threading.Timer(timeout, s.interrupt)
            timer.start()
            try:
                r = s.solve_limited(expect_interrupt=True)
            finally:
                timer.cancel()
        return r, (s.get_model() if r else None)
    finally:
        s.delete()


def _child(solver, clauses, conn):  # pragma: no cover - runs in a child process
    conn.send(run_sat(solver, clauses, None))
    conn.close()


def run_sat_in_child(solver: str, clauses, timeout: float | None):
    """Solve in a forked process, killed after ``timeout`` seconds (for solvers without interrupt).

    Examples
    --------
    >>> run_sat_in_child("cadical153", [[1, 2], [-1]], 10.0)
    (True, [-1, 2])
    """
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(solver, clauses, child), daemon=True)
    proc.start()
    child.close()
    try:
        if parent.poll(timeout):
            return parent.recv()
        return None, None
    finally:
        if proc.is_alive():
            proc.terminate()
        proc.join()
        parent.close()


def solve_clauses(solver: str, clauses, timeout: float | None = None):
    """Solve with a timeout: in this process when the solver can be interrupted, else in a child process.

    Returns ``(True, model)``, ``(False, None)``, or ``(None, None)`` when the
    timeout ran out (unknown).

    Examples
    --------
    >>> solve_clauses("cadical153", [[1], [-1, -2]], timeout=10.0)
    (True, [1, -2])
    """
    if timeout is None or interruptible(solver):
        return run_sat(solver, clauses, timeout)
    return run_sat_in_child(solver, clauses, timeout)
