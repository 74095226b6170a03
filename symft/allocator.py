r"""Keep freed memory in the process instead of handing it back to the system at every free (glibc only).

The batched passes under crash masks (:func:`symft.engines.forward.forward_masked`, run block after block by
the samplers and the enumerations) allocate arrays of a few MiB per node and block, and free them at the end
of the block.  glibc's malloc maps such blocks afresh or trims them off the top of the heap when they are
freed, so every block touches new pages: on the 13-point digits sweep (``benchmarks/bench_distributed.py``)
about 5.6 million page faults and a fifth of the CPU time, in the kernel.  :func:`keep_freed_memory` raises
glibc's thresholds (``mallopt``: blocks up to :data:`MMAP_THRESHOLD` come from the heap, and up to
:data:`TRIM_THRESHOLD` of free memory stays at its top), so a block reuses the pages of the one before.  The
numbers computed are the same; the process keeps up to :data:`TRIM_THRESHOLD` bytes it no longer uses.

It changes the whole process, for good (glibc has no way back to its adaptive thresholds), so the library
never calls it by itself: the ``symft`` command does, for its own process; a program can, for its own.
Elsewhere than glibc (macOS, musl, Windows) it does nothing and says so.

Examples
--------
>>> import platform
>>> keep_freed_memory() == (platform.system() == "Linux" and platform.libc_ver()[0] == "glibc")
True
"""

from __future__ import annotations

import ctypes
import platform

__all__ = ["MMAP_THRESHOLD", "TRIM_THRESHOLD", "keep_freed_memory"]

#: Blocks of up to this many bytes come from the heap (glibc's ``M_MMAP_THRESHOLD``; 32 MiB is the largest
#: value its adaptive threshold reaches by itself on 64-bit systems).
MMAP_THRESHOLD = 32 * 2 ** 20
#: Free memory at the top of the heap kept up to this many bytes (glibc's ``M_TRIM_THRESHOLD``).
TRIM_THRESHOLD = 64 * 2 ** 20

_M_TRIM_THRESHOLD = -1        # glibc's malloc.h
_M_MMAP_THRESHOLD = -3
_DONE = []


def keep_freed_memory() -> bool:
    """Set glibc's malloc thresholds to :data:`MMAP_THRESHOLD` and :data:`TRIM_THRESHOLD` (once per process).

    Returns
    -------
    bool
        Whether the thresholds are set (``False`` where the C library is not glibc).

    Examples
    --------
    >>> keep_freed_memory() == keep_freed_memory()
    True
    """
    if _DONE:
        return _DONE[0]
    ok = False
    if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
        try:
            libc = ctypes.CDLL(None)
            ok = (libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
                  and libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1)
        except (OSError, AttributeError):         # pragma: no cover - a glibc without mallopt
            ok = False
    _DONE.append(ok)
    return ok
