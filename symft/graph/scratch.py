"""Scratch arrays reused from call to call: the temporaries of the float convolution kernels.

A convolution of a batch copies its input, in chunks of samples, into padded rows and into columns, and
multiplies them into a chunk of outputs: a few MiB of temporaries per call.  Allocated afresh at every call,
such arrays come from the operating system each time (glibc maps blocks of more than 128 KiB, and gives
the memory back when they are freed), and touching every new page costs a page fault: on the residual CNN
of ``benchmarks/bench_onnx.py`` (batch 256), measured on a loaded machine, 2500 – 3000 faults per pass and
a fifth (float64) to two fifths (float32) of its CPU time.  :func:`scratch` hands out one buffer per *role*
per thread instead, grown when a larger one is needed and kept for the next call.

Rules: a scratch array holds garbage (callers write before they read, or clear it); it is valid until the
next :func:`scratch` call of the same role in the same thread, so a kernel never returns one (its results
are fresh arrays) and two arrays in use at once have different roles.  Each thread has its own buffers (a
forward pass on threads of a Dask worker never shares one).  Arrays larger than :data:`KEEP_BYTES` are
allocated afresh and not kept, so a huge one-off convolution does not pin its memory.

Examples
--------
>>> import numpy as np
>>> a = scratch("example", (2, 3), np.float64)
>>> a.shape, a.dtype
((2, 3), dtype('float64'))
>>> b = scratch("example", (3,), np.float32)        # the same memory, another view
>>> np.shares_memory(a, b)
True
"""

from __future__ import annotations

import math
import threading

import numpy as np

__all__ = ["KEEP_BYTES", "scratch", "zeros"]

#: The largest buffer kept per role and thread (larger requests get a fresh array each time).  The kernels'
#: chunks are sized to about 4 MiB, so this keeps them all; a pass on images so large that one sample's
#: temporaries exceed it is long enough that fresh pages do not matter, and its memory is not pinned.
KEEP_BYTES = 8 * 2 ** 20

_LOCAL = threading.local()


def scratch(role: str, shape: tuple, dtype) -> np.ndarray:
    """A C-contiguous array of ``shape`` and ``dtype`` from this thread's buffer for ``role`` (contents undefined).

    Parameters
    ----------
    role : str
        What the array is for; arrays in use at the same time need different roles.
    shape : tuple of int
    dtype : numpy dtype

    Returns
    -------
    ndarray
        A view of the role's buffer (grown if too small), or a fresh array above :data:`KEEP_BYTES`.

    Examples
    --------
    >>> import numpy as np
    >>> x = scratch("doc", (4,), np.float64)
    >>> x[:] = 1.0
    >>> float(scratch("doc", (2, 2), np.float64).sum())      # the same buffer: its old contents
    4.0
    >>> scratch("doc", (0, 5), np.float64).shape
    (0, 5)
    >>> big = (KEEP_BYTES // 8 + 1,)                    # above the cap: a fresh array each time
    >>> np.shares_memory(scratch("doc", big, np.float64), scratch("doc", big, np.float64))
    False
    """
    dtype = np.dtype(dtype)
    n = math.prod(shape) * dtype.itemsize
    if n > KEEP_BYTES:
        return np.empty(shape, dtype=dtype)
    bufs = _LOCAL.__dict__.setdefault("bufs", {})
    got = bufs.get(role)
    if got is None or got[0].nbytes < n + 64:
        # 64 extra bytes: the view starts on a 64-byte boundary (a cache line; what BLAS kernels like); the
        # buffer and that start are kept together (asking an array for its address costs microseconds)
        buf = np.empty(max(n, 64) + 64, dtype=np.uint8)
        got = bufs[role] = (buf, -buf.__array_interface__["data"][0] % 64)
    buf, start = got
    return buf[start:start + n].view(dtype).reshape(shape)


def zeros(n: int, dtype) -> np.ndarray:
    """A read-only array of ``n`` zeros of ``dtype``, shared (grown when a longer one is needed, never written).

    Parameters
    ----------
    n : int
    dtype : numpy dtype

    Returns
    -------
    ndarray
        1-D, read-only.

    Examples
    --------
    >>> import numpy as np
    >>> z = zeros(3, np.float32)
    >>> z, z.flags.writeable
    (array([0., 0., 0.], dtype=float32), False)
    """
    dtype = np.dtype(dtype)
    have = _ZEROS.get(dtype.str)
    if have is None or have.size < n:
        have = np.zeros(max(n, 1024), dtype=dtype)         # calloc: pages of zeros the system maps lazily
        have.flags.writeable = False
        _ZEROS[dtype.str] = have
    return have[:n]


_ZEROS: dict = {}
