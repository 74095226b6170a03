r"""Any affine op as explicit exact rows: the view the solver encodings and the interval re-check use.

:func:`affine_rows` turns an affine op (dense, convolution, pooling, batch
norm, add, reshapes) into, for each output element, the list of its nonzero
coefficients ``(j, w)`` over the row-major concatenation of the op's inputs,
and its offset ``b`` — all exact :class:`~fractions.Fraction` numbers
(floats are the binary rationals they hold).  Interpretations that work
element by element (Z3 terms, pseudo-boolean forms, mpmath intervals) then
need one affine rule for every affine op.

Examples
--------
>>> from symft.graph.network import Network
>>> net = Network.from_sympy([[["1/2", 0], [1, -1]]], activations=["linear"])
>>> rows, bias = affine_rows(net.node("z1"))
>>> rows
(((0, Fraction(1, 2)),), ((0, Fraction(1, 1)), (1, Fraction(-1, 1))))
>>> bias
(Fraction(0, 1), Fraction(0, 1))
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import numpy as np

__all__ = ["affine_rows"]


@lru_cache(maxsize=512)
def _rows(op, in_shapes):
    P = op.params("fraction")
    if op.kind == "dense":
        W = P["weight"]
        b = P.get("bias")
        rows = tuple(tuple((j, w) for j, w in enumerate(row) if w) for row in W.tolist())
        bias = tuple(b.tolist()) if b is not None else (Fraction(0),) * W.shape[0]
        return rows, bias
    sizes = [int(np.prod(s, dtype=np.int64)) for s in in_shapes]
    N = sum(sizes)
    zero, one = Fraction(0), Fraction(1)
    fast = _coded_rows(op, in_shapes, sizes, N, P)
    if fast is not None:
        return fast
    args, off = [], 0
    for s, n in zip(in_shapes, sizes):
        eye = np.full((N, n), zero, dtype=object)
        for i in range(n):
            eye[off + i, i] = one
        args.append(eye.reshape((N,) + tuple(s)))
        off += n
    A = np.asarray(op.apply(args, op.linear_params("fraction"), list(in_shapes)), dtype=object).reshape(N, -1)
    zeros = [np.full((1,) + tuple(s), zero, dtype=object) for s in in_shapes]
    b = np.asarray(op.apply(zeros, P, list(in_shapes)), dtype=object).reshape(-1)
    rows = tuple(tuple((j, Fraction(A[j, i])) for j in range(N) if A[j, i]) for i in range(A.shape[1]))
    return rows, tuple(Fraction(v) for v in b.tolist())


def _coded_rows(op, in_shapes, sizes, N, P):
    """Rows of a convolution, batch norm or average pooling from one float64 probe, or None.

    Each entry of these ops' matrices is one parameter (a convolution: one
    kernel entry per input/output pair; batch norm: one scale) or ``1/count``
    (average pooling).  Applying the op to the identity with every parameter
    replaced by its position ``1, 2, …`` (small integers: every float64 sum
    of one such term and zeros is exact) tells which parameter each entry
    is; the entries are then read from the exact parameters.  For average
    pooling the probe gives ``fl(1/count)``, from which ``count`` is
    recovered and checked.
    """
    if op.kind not in ("conv2d", "batchnorm", "avgpool2d") or len(in_shapes) != 1:
        return None
    shape = tuple(in_shapes[0])
    eye = np.eye(N).reshape((N,) + shape)
    if op.kind == "avgpool2d":
        A = np.asarray(op.apply([eye], op.params("float"), [shape])).reshape(N, -1)
        rows = []
        for i in range(A.shape[1]):
            row = []
            for j in np.flatnonzero(A[:, i]).tolist():
                c = int(round(1.0 / A[j, i]))
                if c < 1 or 1.0 / c != A[j, i]:  # pragma: no cover - not a reciprocal count
                    return None
                row.append((j, Fraction(1, c)))
            rows.append(tuple(row))
    else:
        names = [n for n in op.arrays if n not in op.offsets and P.get(n) is not None]
        if len(names) != 1:  # pragma: no cover - every such op has one coefficient array
            return None
        name = names[0]
        exact = np.asarray(P[name], dtype=object).ravel()
        Pc = dict(op.params("float"))
        Pc[name] = np.arange(1, exact.size + 1, dtype=float).reshape(np.shape(P[name]))
        for n in op.offsets:
            if n in Pc:
                Pc[n] = None
        A = np.asarray(op.apply([eye], Pc, [shape])).reshape(N, -1)
        rows = []
        for i in range(A.shape[1]):
            col = A[:, i]
            rows.append(tuple((j, exact[int(col[j]) - 1]) for j in np.flatnonzero(col).tolist()
                              if exact[int(col[j]) - 1]))
    zeros = [np.full((1,) + shape, Fraction(0), dtype=object)]
    b = np.asarray(op.apply(zeros, P, [shape]), dtype=object).reshape(-1)
    return tuple(rows), tuple(Fraction(v) for v in b.tolist())


def affine_rows(node) -> tuple:
    """``(rows, bias)`` of an affine node: ``rows[i]`` the nonzero ``(j, w)`` of output ``i``, exact.

    ``j`` indexes the row-major concatenation of the node's inputs (in the
    order of ``node.inputs``); cached per op and input shapes.

    Examples
    --------
    >>> from symft.graph.netfile import load_network
    >>> net = load_network("tests/data/residual_mlp.json")
    >>> rows, bias = affine_rows(net.node("res"))
    >>> rows[0], bias[0]
    (((0, Fraction(1, 1)), (6, Fraction(1, 1))), Fraction(0, 1))
    """
    return _rows(node.op, tuple(tuple(s) for s in node.in_shapes))
