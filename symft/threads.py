r"""One policy for the BLAS threads of the engines' many small matrix products.

Enumeration, the masked forward pass, Monte Carlo, the certified enclosure
and the brute-force worst case evaluate thousands of small matrix products
in loops.  Multi-threaded OpenBLAS gains nothing on matrices that small and
stalls badly when the machine is loaded (enumeration of ``2^28``
configurations: 9 s with one thread, up to 85 s with two on a busy 2-core
machine).  So these engines run their loops with BLAS limited to **one
thread** by default, through :func:`blas_threads` (``threadpoolctl``), and
restore the previous setting when they return.

The user decides otherwise in either of two ways:

* the environment variable ``SYMFT_BLAS_THREADS``: a positive integer (that
  many threads), or ``0`` / ``none`` (leave BLAS as it is);
* an outer ``with blas_threads(n):`` block around the calls: the engines
  inside keep the outer setting (``n = None``: the environment's choice,
  else one thread; ``n = 0``: leave BLAS as it is).

Only the thread that entered the outer block is seen as "inside" it (the
nesting is tracked per thread); BLAS limits themselves are process-wide.

Examples
--------
>>> import numpy as np
>>> from symft.threads import blas_threads, current_blas_threads
>>> with blas_threads(1):
...     current_blas_threads()
1
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import threading

from .errors import InvalidArgument

__all__ = ["blas_threads", "limit_blas", "current_blas_threads", "ENV_VAR"]

#: The environment variable that overrides the default of one BLAS thread.
ENV_VAR = "SYMFT_BLAS_THREADS"

_local = threading.local()
_libs = [None, -1]     # the BLAS libraries threadpoolctl found, and len(sys.modules) then


def _blas_libraries():
    """threadpoolctl's controllers of the loaded BLAS libraries, cached: scanning the loaded libraries
    costs about a millisecond, too much per call of a small engine function; scanned again whenever
    new modules were imported since (a new BLAS comes with new modules)."""
    libs, seen = _libs
    if libs is None or seen != len(sys.modules):
        from threadpoolctl import ThreadpoolController

        libs = [lib for lib in ThreadpoolController().lib_controllers if lib.user_api == "blas"]
        _libs[:] = [libs, len(sys.modules)]
    return libs


def _resolve(threads):
    """The number of threads to set (``None``: leave BLAS alone) from an argument or the environment."""
    where = "threads"
    if threads is None:
        raw = os.environ.get(ENV_VAR, "").strip()
        if not raw:
            return 1
        if raw.lower() == "none":
            return None
        where = ENV_VAR
        try:
            threads = int(raw)
        except ValueError:
            raise InvalidArgument(f"{ENV_VAR}: expected a non-negative integer or 'none', got {raw!r}") from None
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 0:
        raise InvalidArgument(f"{where}: expected a non-negative integer (0: leave BLAS as it is), "
                              f"got {threads!r}")
    return threads or None


@contextlib.contextmanager
def blas_threads(threads: int | None = None):
    r"""Limit BLAS to ``threads`` threads inside the block, then restore the previous limits.

    Parameters
    ----------
    threads : int or None
        ``None``: the policy (``SYMFT_BLAS_THREADS`` if set, else 1), and a
        block nested in another :func:`blas_threads` block keeps the outer
        setting; a positive integer: that many threads; ``0``: leave BLAS
        as it is.

    Raises
    ------
    InvalidArgument
        A negative or non-integer ``threads`` (or ``SYMFT_BLAS_THREADS``).

    Examples
    --------
    >>> with blas_threads(1):
    ...     with blas_threads():        # nested: the outer setting stays
    ...         current_blas_threads()
    1
    """
    depth = getattr(_local, "depth", 0)
    n = None if (threads is None and depth) else _resolve(threads)
    changed = []
    if n is not None:
        for lib in _blas_libraries():
            old = lib.num_threads
            if old != n:
                lib.set_num_threads(n)
                changed.append((lib, old))
    _local.depth = depth + 1
    try:
        yield
    finally:
        _local.depth = depth
        for lib, old in reversed(changed):
            lib.set_num_threads(old)


def limit_blas(fn):
    """Decorator: run ``fn`` inside ``blas_threads()`` (the policy; an outer block's setting wins).

    Examples
    --------
    >>> @limit_blas
    ... def square(x):
    ...     return x * x
    >>> square(3)
    9
    """
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with blas_threads():
            return fn(*args, **kwargs)
    return wrapper


def current_blas_threads() -> int | None:
    """The largest number of threads of the loaded BLAS libraries (``None`` when none is loaded).

    Examples
    --------
    >>> isinstance(current_blas_threads(), (int, type(None)))
    True
    """
    from threadpoolctl import threadpool_info

    n = [d["num_threads"] for d in threadpool_info() if d.get("user_api") == "blas"]
    return max(n) if n else None
