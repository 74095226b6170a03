r"""Independent pieces of work on a Dask cluster, merged so that the answer does not depend on where they ran.

Monte Carlo sampling (:func:`monte_carlo`), the accuracy over a dataset (:func:`accuracy`) and the sweep over
crash probabilities (:func:`sweep`) are split into **fixed chunks** — of draws, of inputs, of probabilities
(each point of a sweep a task) —
whose size never depends on the number of workers.  Each chunk is a task with its own seed (derived from the
user's seed and the chunk's index with :class:`numpy.random.SeedSequence`), and the results are merged in
chunk order: moments with the same pairwise (Chan / Pébay) updates in the same order, proved intervals in
exact rationals rounded outward.  So the same seed gives the same answer, bit for bit, in-process (the
default, which runs the very same chunks one after the other) and on 1, 2 or 100 workers.  A chunk whose
worker dies is run again by Dask (and a chunk that raises is retried :data:`RETRIES` times); as a chunk is a
pure function of its inputs and seed, that cannot change the answer.

Where the work fits in one chunk, the functions return exactly what the single-process library functions
(:func:`symft.engines.sampling.monte_carlo`, :func:`symft.analysis.accuracy.accuracy`,
:func:`symft.analysis.sweep.sweep`) return.

Schedulers (:class:`Scheduler`): ``None`` (in-process), ``"local"`` (a Dask ``LocalCluster`` of ``workers``
threads in this process: no copying, useful when NumPy releases the GIL), ``"processes"`` (a ``LocalCluster``
of ``workers`` processes: the choice on one multi-core machine), an address such as
``"tcp://10.0.0.5:8786"`` (a running ``dask scheduler``; its workers need symft installed), or a
:class:`distributed.Client`.  Each task limits BLAS to one thread (:func:`symft.threads.blas_threads`) so that neither
the speed nor the rounding depends on where it runs, and runs under the caller's time limit (``--max-time``,
:func:`symft.cost.time_limit`, ``max_time=``; :mod:`symft.cost`), which travels with the task: work a task
predicts above it is refused there with the message it would have in one process.

Examples
--------
>>> from symft.graph.network import random_network
>>> from symft.faults import NeuronCrash
>>> from symft.engines import sampling
>>> net = random_network([3, 6, 2], seed=0)
>>> a = monte_carlo(net, [0.5, -1.0, 2.0], NeuronCrash({1: 0.3}), 5000, seed=1, chunk=1000)
>>> with Scheduler("local", workers=2) as s:                              # doctest: +SKIP
...     b = monte_carlo(net, [0.5, -1.0, 2.0], NeuronCrash({1: 0.3}), 5000, seed=1, chunk=1000, scheduler=s)
>>> a.crashed_samples                                                    # 5000 · (1 − 0.7^6), five chunks
4412
>>> c = monte_carlo(net, [0.5, -1.0, 2.0], NeuronCrash({1: 0.3}), 500, seed=1)   # one chunk: the plain run
>>> c == sampling.monte_carlo(net, [0.5, -1.0, 2.0], NeuronCrash({1: 0.3}), 500, seed=1)
True
"""

from __future__ import annotations

import math
import sys
import time
import uuid
from fractions import Fraction
from numbers import Integral, Real

import numpy as np

from .utils import fraction_down as _down, fraction_up as _up
from . import cost
from .errors import InvalidArgument, MissingDependency, SymftError, TooLargeError
from .faults import NeuronCrash
from .progress import Progress

__all__ = ["Scheduler", "scheduler", "worker_settings", "WorkerSettingsNote", "cluster_runner", "chunk_seed", "monte_carlo", "accuracy", "sweep", "dataset_certificate", "enumerate_crashes",
           "SAMPLE_CHUNK", "INPUT_CHUNK", "RETRIES", "CONNECT_TIMEOUT", "LOCAL_CONFIG"]

#: Draws given a failure per Monte Carlo chunk (the split never depends on the number of workers).
SAMPLE_CHUNK = 1 << 14
#: Most bytes of draws a Monte Carlo chunk holds (fewer draws per chunk for many inputs × outputs).
CHUNK_BYTES = 32 * 2 ** 20
#: Inputs per accuracy chunk.
INPUT_CHUNK = 128
#: How often Dask re-runs a chunk that raised (a chunk lost with its worker is re-run anyway).
RETRIES = 3
#: Seconds to wait for a scheduler address to answer.
CONNECT_TIMEOUT = 10
#: Scheduler names that are not addresses.
NAMES = ("local", "processes")
#: Dask settings of the local clusters a :class:`Scheduler` starts (measured on the 13-point digits sweep,
#: ``benchmarks/bench_distributed.py``): no statistical profiler sampling the task threads' stacks every
#: 10 ms, and worker processes started with glibc's thresholds of :func:`symft.allocator.keep_freed_memory`
#: instead of Dask's ``MALLOC_TRIM_THRESHOLD_`` of 64 KiB (which fixes glibc's threshold for large blocks at
#: its minimum, so every array a chunk allocates and frees is mapped and page-faulted afresh: about three
#: times the system CPU of one process; glibc's own adaptive thresholds still fault every block's arrays in
#: afresh, a fifth of the CPU time); and the event loops' routine
#: checks (blocked-loop tick every 500 ms instead of 20, system monitor every 2 s instead of 0.5, memory
#: monitor every 1 s instead of 0.1): an idle cluster of 2 worker processes then costs 0.7 instead of 3.7
#: CPU-seconds per 30 s (a cost that grows with the wall time, not with the work).
LOCAL_CONFIG = {"distributed.worker.profile.enabled": False,
                "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": 64 * 2 ** 20,
                "distributed.nanny.pre-spawn-environ.MALLOC_MMAP_THRESHOLD_": 32 * 2 ** 20,
                "distributed.admin.tick.interval": "500ms",
                "distributed.admin.system-monitor.interval": "2s",
                "distributed.worker.memory.monitor-interval": "1s"}

_INSTALL = "pip install 'symft[distributed]'"


def _spawn_environ() -> dict:
    """This process's values of the variables a Dask nanny sets in ``os.environ`` before it spawns a worker.

    The nanny writes its ``distributed.nanny.pre-spawn-environ`` (``OMP_NUM_THREADS=1`` …) and a
    ``PYTHONHASHSEED`` into the environment of the process that starts the cluster (a spawned process can get
    them no other way) and never takes them back; :func:`_restore_environ` does.
    """
    import os

    import dask

    keys = set(dask.config.get("distributed.nanny.pre-spawn-environ", {}) or {}) | {"PYTHONHASHSEED"}
    return {k: os.environ.get(k) for k in keys}


def _restore_environ(saved: dict) -> None:
    """Put back the variables of :func:`_spawn_environ` that have changed since (``None``: unset)."""
    import os

    for k, v in saved.items():
        if os.environ.get(k) != v:
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def chunk_seed(seed: int, index: int) -> int:
    """The seed of chunk ``index`` of a run with ``seed``: a :class:`numpy.random.SeedSequence` child, 63 bits.

    Examples
    --------
    >>> chunk_seed(0, 1) == chunk_seed(0, 1) != chunk_seed(0, 2)
    True
    >>> 0 <= chunk_seed(2 ** 63 - 1, 10 ** 6) < 2 ** 63
    True
    """
    ss = np.random.SeedSequence(int(seed), spawn_key=(int(index),))
    return int(ss.generate_state(1, np.uint64)[0]) >> 1


# ---------------------------------------------------------------------- schedulers

def _one_thread():
    """A context limiting BLAS to one thread (:func:`symft.threads.blas_threads`, whose scan of the loaded
    libraries is cached: ``threadpoolctl.threadpool_limits`` scans them again at every task, about 0.6 ms)."""
    from .threads import blas_threads

    return blas_threads(1)


def _single_thread(limit, fn, *args):
    """Run ``fn(*args)`` with BLAS limited to one thread (same rounding and speed everywhere) and under the
    caller's time limit ``limit`` (``(seconds, how to raise it)`` from :func:`symft.cost.current_limit`): a
    worker's thread or process does not see the caller's :func:`symft.cost.time_limit`, so the limit travels
    with the task."""
    with _one_thread(), cost.time_limit(*limit):
        return fn(*args)


def _identity(v):
    return v


#: A shared value travels inside every task that needs it while its copies in all of them pickle to at most
#: this many bytes; beyond, it is sent once.
BY_VALUE_BYTES = 4 * 2 ** 20


def _send(client, shared, tag, n_tasks=1):
    """The shared values of a map of ``n_tasks`` tasks as they will see them: by value, or once as a task.

    By value, the tasks depend on no data, so the scheduler hands them to whichever worker is free (a
    dependency places them first on the worker holding it; idle workers then steal them, fetching the
    value once).  A value whose ``n_tasks`` copies would pickle to more than :data:`BY_VALUE_BYTES`
    (a sampled point's problem and plan, about 1 MB, in each of its 16 pieces) enters the graph once as
    a task (not scattered data): a worker lost with it makes the scheduler compute it again.
    """
    import pickle

    out = []
    for i, v in enumerate(shared):
        try:
            small = len(pickle.dumps(v, protocol=pickle.HIGHEST_PROTOCOL)) * max(1, n_tasks) <= BY_VALUE_BYTES
        except Exception:                    # not picklable by pickle (e.g. a closure): let Dask ship it once
            small = False
        out.append(v if small else client.submit(_identity, v, key=f"symft-shared-{tag}-{i}", pure=False))
    return out


def cluster_runner(piece, items, shared=()) -> list:
    r"""``[piece(*shared, item) for item in items]``: as tasks of the cluster when called inside a Dask task.

    The ``runner`` that :func:`accuracy` and :func:`sweep` hand to the library
    (:func:`symft.engines.stratified.stratified_statistics`): on a Dask worker the pieces become tasks of
    their own (the calling task leaves its slot while they run, ``distributed.worker_client``), retried like
    any chunk; anywhere else they run here, one after the other.  The results come back in the order of
    ``items``, so where they ran never changes the answer.

    Examples
    --------
    >>> cluster_runner(divmod, [3, 5], (17,))                   # not on a worker: in this process
    [(5, 2), (3, 2)]
    """
    items = list(items)
    try:
        from distributed import get_worker

        get_worker()
    except (ImportError, ValueError):
        return [piece(*shared, it) for it in items]
    from distributed import worker_client

    with worker_client() as c:
        tag = uuid.uuid4().hex[:12]
        sh = _send(c, shared, tag, len(items))
        # pieces of work already started go before new work (the points waiting for them hold memory)
        limit = cost.current_limit()          # this task's limit (the caller's, carried here) goes on
        futs = [c.submit(_single_thread, limit, piece, *sh, it, key=f"symft-piece-{tag}-{i}", retries=RETRIES,
                         pure=False, priority=PIECE_PRIORITY) for i, it in enumerate(items)]
        return c.gather(futs)


#: Dask priority of the pieces a running task hands out (above every chunk's priority).
PIECE_PRIORITY = 10 ** 6


class _Bar:
    """tqdm when it is installed, else symft's own bar; silent unless ``enabled``."""

    def __init__(self, total, label, enabled):
        if enabled is None:
            enabled = bool(getattr(sys.stderr, "isatty", lambda: False)())
        self._tqdm = None
        self._own = None
        if enabled:
            try:
                from tqdm.auto import tqdm
                self._tqdm = tqdm(total=total, desc=label, unit="chunk", file=sys.stderr, leave=False)
            except ImportError:
                pass
        if self._tqdm is None:
            self._own = Progress(total, label, enabled=enabled)

    def update(self, n=1):
        (self._tqdm or self._own).update(n)

    def close(self):
        if self._tqdm is not None:
            self._tqdm.close()
        else:
            self._own.__exit__(None, None, None)


class Scheduler:
    r"""Where chunks run: in-process, on a local Dask cluster, or on a Dask scheduler at an address.

    Parameters
    ----------
    spec : None, "local", "processes", str or distributed.Client
        ``None``: in this process, one chunk after the other.  ``"local"``: a ``LocalCluster`` of
        ``workers`` threads (BLAS limited to one thread in this process until :meth:`close`);
        ``"processes"``: of ``workers`` processes; any other string: the address of a
        running Dask scheduler (``tcp://HOST:8786``); a ``Client``: use it (not closed here).
    workers : int, optional
        Workers of ``"local"`` / ``"processes"`` (default: the number of CPUs).
    show_progress : bool or None
        A bar of chunks done on stderr (tqdm when installed); ``None``: when stderr is a terminal.
    retries : int
        How often a chunk that raised is run again before the error is reported.
    where : str
        The option named in errors (``"--scheduler"`` on the command line).

    Examples
    --------
    >>> with Scheduler(None) as s:
    ...     s.map(pow, [2, 3], shared=(10,))                 # pow(10, 2), pow(10, 3)
    [100, 1000]
    >>> Scheduler("tcp://", where="--scheduler")
    Traceback (most recent call last):
    ...
    symft.errors.InvalidArgument: --scheduler: expected 'local', 'processes' or a scheduler address HOST:PORT (e.g. tcp://10.0.0.5:8786), got 'tcp://'
    """

    def __init__(self, spec=None, workers: int | None = None, show_progress: bool | None = None,
                 retries: int = RETRIES, where: str = "scheduler"):
        self.show_progress = show_progress
        self.retries = int(retries)
        self.client = None
        self._owned = []
        self._blas = None
        self._environ = None
        if workers is not None and (isinstance(workers, bool) or not isinstance(workers, Integral) or workers < 1):
            raise InvalidArgument(f"workers: expected a positive integer, got {workers!r}")
        if spec is None or spec == "inprocess":
            self.kind = "inprocess"
            return
        if not isinstance(spec, str):
            self.kind = "client"
            self.client = spec
            return
        spec = spec.strip()
        port = spec.rsplit(":", 1)[-1]       # after the last colon: a port, or the path of an address without one
        bad_port = "/" not in port and not (port.isdigit() and 0 < int(port) < 65536)
        if spec not in NAMES and (":" not in spec or spec.endswith("/") or bad_port):
            raise InvalidArgument(f"{where}: expected 'local', 'processes' or a scheduler address HOST:PORT "
                                  f"(e.g. tcp://10.0.0.5:8786), got {spec!r}")
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise MissingDependency(f"{where}: running on Dask needs dask.distributed: {_INSTALL}") from None
        if spec in NAMES:
            import os

            import dask

            n = int(workers) if workers is not None else (os.cpu_count() or 1)
            if spec == "local":
                # the worker threads share this process's BLAS: one thread for the cluster's life (a
                # task's own limit, undone when it ends, would hand BLAS's default back to a task still
                # running in another worker thread)
                from threadpoolctl import threadpool_limits

                self._blas = threadpool_limits(1, user_api="blas")
            try:
                with dask.config.set(LOCAL_CONFIG):
                    # the nannies' variables go into this process's environment: taken back once the workers
                    # are up, after each map (a nanny restarting a lost worker sets them again) and at close
                    self._environ = _spawn_environ()
                    # dashboard_address=None still serves the dashboard on port 8787 (a known Dask bug), and a
                    # second cluster then warns that the port is in use: ":0" takes a free port instead
                    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=spec == "processes",
                                           dashboard_address=":0")
                _restore_environ(self._environ)
            except (OSError, RuntimeError) as e:
                self.close()
                raise SymftError(f"{where}: could not start a local Dask cluster of {n} workers "
                                 f"({type(e).__name__}: {e})") from None
            self._owned.append(cluster)
            self.kind = spec
            self.client = Client(cluster)
        else:
            self.kind = "address"
            try:
                self.client = Client(spec, timeout=f"{CONNECT_TIMEOUT}s")
            except (OSError, TimeoutError, ValueError) as e:
                raise SymftError(f"{where}: cannot reach a Dask scheduler at {spec!r} within {CONNECT_TIMEOUT} s "
                                 f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else 'no answer'})") from None
            _note_worker_settings(self.client, spec, where)
        self._owned.insert(0, self.client)

    @property
    def n_workers(self) -> int:
        """Workers available now (1 in-process).

        Examples
        --------
        >>> Scheduler().n_workers
        1
        """
        if self.client is None:
            return 1
        return len(self.client.scheduler_info().get("workers", {}))

    def map(self, fn, items, shared=(), label: str = "chunks", priorities=None) -> list:
        r"""``[fn(*shared, item) for item in items]``, in the order of ``items``, wherever the chunks run.

        ``shared`` (the network, the inputs …) is sent to the scheduler once, as a task the chunks depend on.  Progress is counted in chunks
        done, whichever worker did them.  An exception raised by a chunk (after the retries) is raised here.
        ``priorities`` (one number per item, larger first) only orders the work on a cluster (e.g. the
        longest chunks first); it never changes the results or their order.

        Examples
        --------
        >>> Scheduler().map(divmod, [3, 5], shared=(17,))
        [(5, 2), (3, 2)]
        """
        items = list(items)
        bar = _Bar(len(items), label, self.show_progress)
        try:
            if self.client is None:
                out = []
                with _one_thread():
                    for it in items:
                        out.append(fn(*shared, it))
                        bar.update(1)
                return out
            from distributed import as_completed

            c = self.client
            # the shared values enter the graph as tasks (not scattered data): a worker lost with them
            # makes the scheduler compute them again instead of failing the run
            tag = uuid.uuid4().hex[:12]
            sh = _send(c, shared, tag, len(items))
            prio = [0] * len(items) if priorities is None else list(priorities)
            limit = cost.current_limit()      # --max-time / time_limit() / the library's: applied in the tasks
            futs = [c.submit(_single_thread, limit, fn, *sh, it, key=f"symft-{label.replace(' ', '-')}-{tag}-{i}",
                             retries=self.retries, pure=False, priority=prio[i]) for i, it in enumerate(items)]
            for _ in as_completed(futs):
                bar.update(1)
            return c.gather(futs)
        finally:
            bar.close()
            if self._environ is not None:
                _restore_environ(self._environ)

    def close(self) -> None:
        """Close the client and the cluster this object started (a client passed in is left open).

        Examples
        --------
        >>> Scheduler().close()
        """
        for obj in self._owned:
            try:
                obj.close()
            except Exception:                 # pragma: no cover - closing a dead cluster
                pass
        self._owned = []
        if self._environ is not None:
            _restore_environ(self._environ)
            self._environ = None
        if self._blas is not None:                # after the worker threads have stopped
            self._blas.restore_original_limits()
            self._blas = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


class WorkerSettingsNote(UserWarning):
    """Workers started by hand run with Dask settings that slow symft down (:func:`worker_settings`)."""


def worker_settings() -> dict:
    """The settings of :data:`LOCAL_CONFIG` that cannot be changed once a worker runs, as this process has them.

    ``profiler``: Dask's statistical profiler (its periodic callback is set up when the worker starts, so a
    ``dask.config.set`` in a task does not stop it); ``malloc_trim``, ``malloc_mmap``: the
    ``MALLOC_TRIM_THRESHOLD_`` and ``MALLOC_MMAP_THRESHOLD_`` variables (glibc reads them when the process
    starts).  :class:`Scheduler` runs this on the workers of a scheduler at an address and warns
    (:class:`WorkerSettingsNote`) when they differ from the local clusters'.

    Examples
    --------
    >>> sorted(worker_settings())
    ['malloc_mmap', 'malloc_trim', 'profiler']
    """
    import os

    import dask

    return {"profiler": bool(dask.config.get("distributed.worker.profile.enabled", True)),
            "malloc_trim": os.environ.get("MALLOC_TRIM_THRESHOLD_"),
            "malloc_mmap": os.environ.get("MALLOC_MMAP_THRESHOLD_")}


def _kept_memory(w) -> bool:
    """Whether worker settings ``w`` keep freed memory as :data:`LOCAL_CONFIG` does."""
    env = "distributed.nanny.pre-spawn-environ."
    return all(w[key] is not None and str(w[key]).isdigit() and int(w[key]) >= LOCAL_CONFIG[env + var]
               for key, var in (("malloc_trim", "MALLOC_TRIM_THRESHOLD_"), ("malloc_mmap", "MALLOC_MMAP_THRESHOLD_")))


def _note_worker_settings(client, spec, where) -> None:
    """One :class:`WorkerSettingsNote` when some worker at ``spec`` runs the profiler or glibc's own thresholds."""
    import warnings

    try:
        seen = list(client.run(worker_settings).values())
    except Exception:                     # a worker without this symft, or gone: no note
        return
    what = []
    if any(w["profiler"] for w in seen):
        what.append("Dask's profiler on")
    if not all(_kept_memory(w) for w in seen):
        what.append("memory handed back to the system at every free (MALLOC_TRIM_THRESHOLD_, MALLOC_MMAP_THRESHOLD_)")
    if what:
        n = sum(1 for w in seen if w["profiler"] or not _kept_memory(w))
        warnings.warn(f"{where}: {n} of {len(seen)} Dask workers at {spec} run with {' and '.join(what)}, which "
                      "costs symft CPU time; start them as the documentation's page 'Running on a cluster' shows",
                      WorkerSettingsNote, stacklevel=3)


def scheduler(spec=None, workers: int | None = None, show_progress: bool | None = None,
              where: str = "scheduler") -> Scheduler:
    """A :class:`Scheduler` (a ``Scheduler`` passed in is returned as it is).

    Examples
    --------
    >>> scheduler().kind
    'inprocess'
    """
    if isinstance(spec, Scheduler):
        return spec
    return Scheduler(spec, workers=workers, show_progress=show_progress, where=where)


class _Use:
    """Context: a scheduler from a spec (closed at the end when made here)."""

    def __init__(self, spec, show_progress):
        self.spec, self.show = spec, show_progress

    def __enter__(self):
        self.s = scheduler(self.spec, show_progress=self.show)
        return self.s

    def __exit__(self, *exc):
        if self.s is not self.spec:
            self.s.close()
        return False


# ---------------------------------------------------------------------- Monte Carlo

def _sample_chunk(net, x, model, eps, job):
    """Sufficient statistics of one chunk of draws given a failure: count, mean, M2, M3, min, max, tail counts."""
    from .engines.sampling import block_moments, crashed_errors

    size, seed = job
    d, _ = crashed_errors(net, x, model, size, seed, force=True)
    if d.ndim == 2:
        d = d[:, None, :]
    n, m, M2, M3 = block_moments(d)
    st = {"n": n, "mean": m, "M2": M2, "M3": M3, "min": d.min(axis=0), "max": d.max(axis=0)}
    if eps is not None:
        st["cu"] = (d >= eps).sum(axis=0).astype(np.int64)
        st["ca"] = (np.abs(d) >= eps).sum(axis=0).astype(np.int64)
    return st


def monte_carlo(net, x, model, n_samples: int, seed: int, *, confidence: float = 0.95, interval: str = "t",
                eps: float | None = None, force: bool = False, scheduler=None, chunk: int = SAMPLE_CHUNK,
                show_progress: bool | None = None):
    r""":func:`symft.engines.sampling.monte_carlo` in fixed chunks of draws, run by a scheduler, merged exactly.

    The draws given a failure (:func:`symft.engines.sampling.crashed_sample_size` of them) are split into
    chunks of ``chunk`` draws; chunk ``i`` is
    :func:`symft.engines.sampling.crashed_errors` with the seed :func:`chunk_seed` ``(seed, i)``; the chunks'
    means and second and third central moments are merged in chunk order by the pairwise updates of
    :func:`~symft.engines.sampling.monte_carlo`, and the intervals, the warnings and the bound used when
    every draw agrees are made as there.  When the draws fit in one chunk this *is*
    :func:`~symft.engines.sampling.monte_carlo` with ``seed``.

    Parameters
    ----------
    net, x, model, n_samples, seed, confidence, interval, eps, force
        As :func:`symft.engines.sampling.monte_carlo`.
    scheduler : None, str, Client or Scheduler
        Where the chunks run (:class:`Scheduler`); never changes the answer.
    chunk : int
        Draws per chunk, at most :data:`CHUNK_BYTES` of errors (the answer depends on it and on the
        problem, never on the workers).
    show_progress : bool or None
        A bar of chunks done (``None``: when stderr is a terminal).

    Returns
    -------
    symft.engines.sampling.MonteCarloResult

    Examples
    --------
    >>> from symft.graph.network import mean_network
    >>> r = monte_carlo(mean_network(4), [1, 1, 1, 1], NeuronCrash({0: 0.25}), 20000, seed=0, chunk=4096)
    >>> r.crashed_samples, bool(r.ci_low[0] <= -0.25 <= r.ci_high[0])      # E Δ = −p (theory §4)
    (13672, True)
    """
    from .engines import sampling as S

    if isinstance(chunk, bool) or not isinstance(chunk, Integral) or chunk < 2:
        raise InvalidArgument(f"chunk: expected an integer ≥ 2, got {chunk!r}")
    if isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0:
        raise InvalidArgument(f"seed: expected a non-negative integer (recorded in the result), got {seed!r}")
    if eps is not None:
        if isinstance(eps, bool) or not isinstance(eps, Real) or not math.isfinite(float(eps)):
            raise InvalidArgument(f"eps: expected a finite number, got {eps!r}")
        eps = float(eps)
    if isinstance(confidence, bool) or not isinstance(confidence, Real) or not 0 < float(confidence) < 1:
        raise InvalidArgument(f"confidence: expected a number strictly between 0 and 1, got {confidence!r}")
    confidence = float(confidence)
    if interval not in ("t", "normal"):
        raise InvalidArgument(f"interval: expected 't' or 'normal', got {interval!r}")
    pc = S.crash_probability(net, model)
    n_c = S.crashed_sample_size(n_samples, pc)
    from .problem import make_problem

    pb = make_problem(net, x, None, where="input")
    X, single, B = pb.X, pb.single, pb.X.shape[0]
    # a chunk's draws are held in memory: fewer per chunk for many inputs and outputs (a property of the
    # problem, never of the workers)
    chunk = min(int(chunk), max(2, CHUNK_BYTES // (8 * B * max(1, net.n_outputs))))
    if n_c <= chunk:
        return S.monte_carlo(net, x, model, n_samples, seed, confidence=confidence, interval=interval, eps=eps,
                             force=force, show_progress=show_progress)
    if not force:
        cost.check(S.draw_estimate(net, model, n_c, B), f"n_samples: {n_samples:.4g} samples",
                   "use fewer samples (--samples), force=True, or an enclosure (symft exact --order K)")
    jobs = [(min(chunk, n_c - i * chunk), chunk_seed(seed, i)) for i in range(-(-n_c // chunk))]
    with _Use(scheduler, show_progress) as s:
        parts = s.map(_sample_chunk, jobs, shared=(net, x, model, eps), label="monte carlo")
    moments = None
    for st in parts:
        moments = S.merge_moments(moments, (st["n"], st["mean"], st["M2"], st["M3"]))
    dmin = np.minimum.reduce([st["min"] for st in parts])
    dmax = np.maximum.reduce([st["max"] for st in parts])
    counts = (sum(st["cu"] for st in parts), sum(st["ca"] for st in parts)) if eps is not None else None
    return S.monte_carlo_result(net, X, model, moments, dmin, dmax, counts, n_samples=n_samples, seed=seed,
                                confidence=confidence, interval=interval, eps=eps, single=single)


# ---------------------------------------------------------------------- accuracy and sweep

def _accuracy_chunk(net, model, kw, job):
    """The accuracy of one chunk of inputs (the labels and inputs travel with the chunk)."""
    from .analysis.accuracy import accuracy as acc

    X, y = job
    return acc(net, X, y, model, **kw)


def _wmean(pairs, rnd):
    """``rnd(Σ w·v / Σ w)`` in rationals, for ``(w, v)`` pairs with float ``v``."""
    tot = sum(w for w, _ in pairs)
    return rnd(sum((w * Fraction(v) for w, v in pairs), Fraction(0)) / tot)


def _merge_accuracy(parts, offsets, confidence, top, seconds):
    """One :class:`~symft.analysis.accuracy.AccuracyResult` from the results of chunks of inputs.

    Means over the inputs are the chunks' bounds weighted by their sizes, summed in rationals and rounded
    outward (each chunk's bound is already outward); a statistical chunk was run at level
    ``1 − (1 − confidence)/chunks``, so the merged interval holds at ``confidence`` (union bound).
    """
    from .analysis.accuracy import AccuracyResult

    B = sum(r.n_inputs for r in parts)
    sized = lambda key: [(r.n_inputs, getattr(r, key)) for r in parts]  # noqa: E731
    methods = {r.method for r in parts}
    method = "statistical" if "statistical" in methods else "rigorous" if "rigorous" in methods else "exact"
    stat = [r for r in parts if r.method == "statistical"]
    rig = [r for r in parts if r.method != "statistical"]
    per = {}
    for r in parts:
        for c in r.per_class:
            per.setdefault(c["label"], []).append(c)
    per_class = []
    for lab in sorted(per):
        cs = per[lab]
        n = sum(c["count"] for c in cs)
        row = {"label": lab, "count": n,
               "clean_accuracy": float(sum(Fraction(c["clean_accuracy"]) * c["count"] for c in cs) / n)}
        for key, rnd in (("accuracy_lo", _down), ("accuracy_hi", _up), ("change_lo", _down), ("change_hi", _up)):
            row[key] = _wmean([(c["count"], c[key]) for c in cs], rnd)
        per_class.append(row)
    risk = [dict(a, index=a["index"] + off) for r, off in zip(parts, offsets) for a in r.at_risk]
    risk = sorted(risk, key=lambda a: (-a["change_hi"], -a["change_lo"], a["index"]))[:top]
    correct = sum(r.clean_correct for r in parts)
    first_stat = stat[0] if stat else None
    return AccuracyResult(
        clean_accuracy=correct / B, clean_correct=correct, n_inputs=B,
        accuracy_lo=_wmean(sized("accuracy_lo"), _down), accuracy_hi=_wmean(sized("accuracy_hi"), _up),
        change_lo=_wmean(sized("change_lo"), _down), change_hi=_wmean(sized("change_hi"), _up),
        method=method, confidence=float(confidence) if stat else None,
        order=rig[0].order if not stat else None,
        tail_probability=max(r.tail_probability for r in rig) if not stat else 0.0,
        undecided=_wmean(sized("undecided"), _up) if not stat else 0.0,
        clean_undecided=sum(r.clean_undecided for r in parts),
        samples=first_stat.samples if stat else 0, crashed_samples=first_stat.crashed_samples if stat else 0,
        seed=first_stat.seed if stat else None, per_class=tuple(per_class), at_risk=tuple(risk),
        change_each=tuple(c for r in parts for c in r.change_each), seconds=seconds)


def _accuracy_jobs(net, X, y, model, method, order, max_configurations, max_width, n_samples, seed,
                   confidence, top, force, chunk):
    """The chunks of an accuracy run and the keyword arguments every chunk gets (one chunk: the plain call)."""
    from .analysis.accuracy import METHODS
    from .engines.enclosure import choose_order
    from .engines.sampling import failure_groups

    if isinstance(chunk, bool) or not isinstance(chunk, Integral) or chunk < 1:
        raise InvalidArgument(f"chunk: expected a positive integer, got {chunk!r}")
    kw = dict(method=method, order=order, max_configurations=max_configurations, max_width=max_width,
              n_samples=n_samples, seed=seed, confidence=confidence, top=top, force=force)
    try:
        X = np.asarray(X, dtype=float)
        y = np.asarray(y)
    except (TypeError, ValueError):
        return [(X, y)], kw                  # let accuracy() say what is wrong
    if method not in METHODS:
        raise InvalidArgument(f"method: expected one of {', '.join(METHODS)}, got {method!r}")
    if isinstance(confidence, bool) or not isinstance(confidence, Real) or not 0 < float(confidence) < 1:
        raise InvalidArgument(f"confidence: expected a number strictly between 0 and 1, got {confidence!r}")
    B = X.shape[0] if X.ndim >= 1 else 0
    n_chunks = max(1, -(-B // chunk))
    if y.ndim != 1 or y.shape[0] != B:
        return [(X, y)], kw                  # let accuracy() report the mismatch
    if n_chunks > 1:
        groups, _ = failure_groups(net, model)
        if method == "statistical" or not all(kind == "neuron" for kind, _, _, _ in groups):
            n_chunks = 1          # sampled: every input shares the draws, so one chunk (splitting costs draws)
        elif groups:
            # the same order for every chunk: the one the whole dataset gets (the budget is configurations × inputs)
            if order is None:
                kw["order"] = choose_order(net, model, max_configurations, B, path="accuracy")
            if method == "auto" and isinstance(kw["order"], Integral) and not isinstance(kw["order"], bool):
                from .engines.stratified import crash_count_tail

                k = min(int(kw["order"]), sum(n for _, _, n, _ in groups))
                if crash_count_tail(net, model, k) > Fraction(max_width):
                    n_chunks = 1  # auto goes straight to sampling
        if n_chunks == 1:
            kw["order"] = order
        else:
            kw["confidence"] = 1 - (1 - float(confidence)) / n_chunks
    if n_chunks == 1:
        return [(X, y)], kw
    jobs = [(X[i:i + chunk], y[i:i + chunk]) for i in range(0, max(B, 1), chunk)]
    return jobs, kw


def accuracy(net, X, y, model, *, method: str = "auto", order: int | None = None,
             max_configurations: int = 2 ** 21, max_width: float = 1e-2, n_samples: int = 4000, seed: int = 0,
             confidence: float = 0.95, top: int = 10, force: bool = False, scheduler=None,
             chunk: int = INPUT_CHUNK, show_progress: bool | None = None):
    r""":func:`symft.analysis.accuracy.accuracy` over fixed chunks of ``chunk`` inputs, run by a scheduler.

    With at most ``chunk`` inputs, and whenever the answer is sampled (``method="statistical"``, failures
    other than neuron crashes, or ``"auto"`` when the crash-count tail beyond the affordable order exceeds
    ``max_width``: every input shares the draws, so splitting would repeat them), this is
    :func:`~symft.analysis.accuracy.accuracy` itself, run as one task.  Otherwise every chunk gets the order the whole dataset would get (``max_configurations`` shared by all inputs) and, for a
    statistical answer, the same seed (the same draws for every input) at level
    ``1 − (1 − confidence)/chunks``; the means over the inputs are the chunks' bounds weighted by their sizes,
    summed in rationals and rounded outward, so an exact or rigorous answer stays proved (an exact one may then
    be an interval an ulp or two wide around the exact value) and a statistical one holds at ``confidence``
    (union bound over the chunks; a mix of proved and statistical chunks is statistical).  The answer depends on ``chunk``, never on the
    scheduler.

    Parameters
    ----------
    net, X, y, model, method, order, max_configurations, max_width, n_samples, seed, confidence, top, force
        As :func:`symft.analysis.accuracy.accuracy`.
    scheduler : None, str, Client or Scheduler
        Where the chunks run (:class:`Scheduler`).
    chunk : int
        Inputs per chunk.
    show_progress : bool or None
        A bar of chunks done.

    Returns
    -------
    symft.analysis.accuracy.AccuracyResult

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> from symft.analysis.accuracy import accuracy as plain
    >>> net = random_network([4, 8, 3], seed=0, activation="relu")
    >>> X = np.random.default_rng(0).normal(size=(10, 4)); y = np.arange(10) % 3
    >>> a = accuracy(net, X, y, NeuronCrash({1: 0.1}), chunk=4)          # three chunks of inputs
    >>> b = plain(net, X, y, NeuronCrash({1: 0.1}))
    >>> a.method, b.method, a.clean_correct == b.clean_correct
    ('exact', 'exact', True)
    >>> bool(a.change_lo <= b.change_lo <= b.change_hi <= a.change_hi and a.change_hi - a.change_lo < 1e-15)
    True
    """
    t0 = time.perf_counter()
    jobs, kw = _accuracy_jobs(net, X, y, model, method, order, max_configurations, max_width, n_samples, seed,
                              confidence, top, force, chunk)
    if len(jobs) == 1 and scheduler is None:
        return _accuracy_chunk(net, model, kw, jobs[0])
    kw["runner"] = cluster_runner              # a sampled chunk hands its blocks of draws to the cluster
    with _Use(scheduler, show_progress) as s:
        if len(jobs) == 1:
            return s.map(_accuracy_chunk, jobs, shared=(net, model, kw), label="accuracy")[0]
        parts = s.map(_accuracy_chunk, jobs, shared=(net, model, kw), label="accuracy")
    offsets = np.cumsum([0] + [len(j[1]) for j in jobs[:-1]]).tolist()
    return _merge_accuracy(parts, offsets, confidence, top, time.perf_counter() - t0)


def sweep(net, X, y, probabilities, *, sites=None, semantics: str = "output_zero", method: str = "auto",
          n_samples: int = 4000, seed: int = 0, confidence: float = 0.95, data: str = "", scheduler=None,
          chunk: int | None = None, show_progress: bool | None = None):
    r""":func:`symft.analysis.sweep.sweep` with every part of a point (and chunk of inputs) a task of its own.

    The plain sweep with a ``runner`` that hands its parts (each point's accuracy and its ``E max_k |Δ_k|``,
    :func:`symft.analysis.sweep.sweep_part`) to the scheduler at once, the larger probabilities (sampled, so
    longer) first, and a sampled part's blocks of draws to the cluster as pieces (:func:`cluster_runner`).
    By default (``chunk=None``) a point's accuracy is one task over every input: the very point
    :func:`~symft.analysis.sweep.sweep` computes, the points running in parallel.  With ``chunk``, it is
    :func:`accuracy`'s chunks of inputs, merged as there.

    Parameters
    ----------
    net, X, y, probabilities, sites, semantics, method, n_samples, seed, confidence, data
        As :func:`symft.analysis.sweep.sweep`.
    scheduler, show_progress
        As :func:`accuracy`.
    chunk : int, optional
        Inputs per chunk of a point (default: all of them).

    Returns
    -------
    symft.analysis.sweep.Sweep

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> from symft.analysis.sweep import sweep as plain
    >>> net = random_network([4, 6, 3], seed=0, activation="tanh")
    >>> X = np.random.default_rng(0).normal(size=(10, 4))
    >>> a = sweep(net, X, np.zeros(10, int), [1e-3, 1e-1])
    >>> b = plain(net, X, np.zeros(10, int), [1e-3, 1e-1])
    >>> [{k: v for k, v in pt.items() if k != "seconds"} for pt in a.points] == \
    ...     [{k: v for k, v in pt.items() if k != "seconds"} for pt in b.points]
    True
    """
    from .analysis.sweep import sweep as plain

    if chunk is not None and (isinstance(chunk, bool) or not isinstance(chunk, Integral) or chunk < 1):
        raise InvalidArgument(f"chunk: expected a positive integer, got {chunk!r}")
    with _Use(scheduler, show_progress) as s:
        return plain(net, X, y, probabilities, sites=sites, semantics=semantics, method=method,
                     n_samples=n_samples, seed=seed, confidence=confidence, data=data,
                     runner=_SweepRunner(s, chunk), piece_runner=cluster_runner)


class _SweepRunner:
    """The ``runner`` of :func:`sweep`: the parts of a sweep as tasks, by decreasing probability, the accuracy
    (the longer) before E|Δ|; with ``chunk``, a point's accuracy as :func:`accuracy`'s chunks of inputs."""

    def __init__(self, sched, chunk):
        self.sched, self.chunk = sched, chunk

    def __call__(self, piece, items, shared=()):
        net, X, y, st = shared
        rank = {q: r for r, q in enumerate(sorted({q for _, q in items}))}
        jobs, spans, prio = [], [], []
        for kind, q in items:
            js = [("part", (kind, q))]
            if kind == "accuracy" and self.chunk is not None:
                with cost.time_limit(st.share, st.hint):    # the order every chunk gets: chosen within the share
                    cj, kw = _accuracy_jobs(net, X, y, st.model(q), st.method, None, 2 ** 21, 1e-2, st.n_samples,
                                            st.seed, st.confidence, 0, False, self.chunk)
                if len(cj) > 1:
                    kw["runner"] = st.piece_runner
                    js = [("chunk", q, kw, jx, jy) for jx, jy in cj]
            spans.append((len(jobs), len(js)))
            jobs += js
            prio += [2 * rank[q] + (kind == "accuracy")] * len(js)
        res = self.sched.map(_sweep_task, jobs, shared=(piece, net, X, y, st), label="sweep", priorities=prio)
        out = []
        for start, n in spans:
            parts = res[start:start + n]
            if n == 1:
                out.append(parts[0])
            else:
                offsets = np.cumsum([0] + [p.n_inputs for p in parts[:-1]]).tolist()
                out.append(_merge_accuracy(parts, offsets, st.confidence, 0, sum(p.seconds for p in parts)))
        return out


def _sweep_task(piece, net, X, y, st, job):
    """One task of a sweep: a part (:func:`symft.analysis.sweep.sweep_part`), or a chunk of a point's accuracy."""
    if job[0] == "part":
        return piece(net, X, y, st, job[1])
    _, q, kw, jx, jy = job
    with cost.time_limit(st.share, st.hint):
        return _accuracy_chunk(net, st.model(q), kw, (jx, jy))


# ---------------------------------------------------------------------- certificates over a dataset

class _MapRunner:
    """A ``runner`` (``runner(piece, items, shared)``) that hands the pieces to a :class:`Scheduler`."""

    def __init__(self, sched, label):
        self.sched, self.label = sched, label

    def __call__(self, piece, items, shared=()):
        return self.sched.map(piece, items, shared=tuple(shared), label=self.label)


def dataset_certificate(net, X, model, eps, delta, *, scheduler=None, show_progress: bool | None = None, **kw):
    r""":func:`symft.analysis.dataset_certify.dataset_certificate` with its independent pieces run by a scheduler.

    The per-input bounds (:func:`~symft.analysis.dataset_certify.certify_inputs`, a few inputs per task) and
    the blocks of a sampled answer are tasks; their results are aggregated as in-process — in exact
    rationals, rounded outward once — so the certificate is the same, bit for bit, wherever they ran.

    Parameters
    ----------
    net, X, model, eps, delta, **kw
        As :func:`symft.analysis.dataset_certify.dataset_certificate`.
    scheduler, show_progress
        As :func:`accuracy`.

    Returns
    -------
    symft.analysis.dataset_certify.DatasetCertificate

    Examples
    --------
    >>> from symft.graph.network import random_network
    >>> from symft.analysis import dataset_certify as DC
    >>> net = random_network([3, 4, 2], seed=0, activation="tanh")
    >>> X = np.random.default_rng(0).normal(size=(20, 3))
    >>> a = dataset_certificate(net, X, {1: 0.01}, 0.5, 0.2, source="enclosure")
    >>> b = DC.dataset_certificate(net, X, {1: 0.01}, 0.5, 0.2, source="enclosure")
    >>> a.verdict, (a.bound_lo, a.bound_hi) == (b.bound_lo, b.bound_hi)
    ('certified', True)
    """
    from .analysis.dataset_certify import dataset_certificate as plain

    if scheduler is None:
        return plain(net, X, model, eps, delta, **kw)
    with _Use(scheduler, show_progress) as s:
        return plain(net, X, model, eps, delta, runner=_MapRunner(s, "certify"), **kw)


# ---------------------------------------------------------------------- enumeration

def enumerate_crashes(net, x, model, *, scheduler=None, show_progress: bool | None = None, **kw):
    r""":func:`symft.engines.enumeration.enumerate_crashes` with its independent pieces run by a scheduler.

    Rational enumeration: each input's configurations in blocks of first-layer crash subsets
    (:func:`symft.engines.enumeration.exact_blocks`), whose exact sums per crash-count vector are added up;
    float64: one input per task.  The moments are those of the in-process run, exactly.

    Parameters
    ----------
    net, x, model, **kw
        As :func:`symft.engines.enumeration.enumerate_crashes`.
    scheduler, show_progress
        As :func:`accuracy`.

    Returns
    -------
    symft.engines.enumeration.ExactMoments

    Examples
    --------
    >>> from fractions import Fraction
    >>> from symft.graph.network import random_network
    >>> from symft.engines import enumeration as E
    >>> net = random_network([2, 6, 2], seed=1, activation="relu")
    >>> a = enumerate_crashes(net, [0.5, -1.0], NeuronCrash({1: Fraction(1, 4)}), exact=True)
    >>> b = E.enumerate_crashes(net, [0.5, -1.0], NeuronCrash({1: Fraction(1, 4)}), exact=True)
    >>> a.exact, list(a.mean) == list(b.mean) and list(a.var) == list(b.var)
    (True, True)
    """
    from .engines.enumeration import enumerate_crashes as plain

    if scheduler is None:
        return plain(net, x, model, **kw)
    with _Use(scheduler, show_progress) as s:
        return plain(net, x, model, runner=_MapRunner(s, "enumeration"), progress=False, **kw)
