r"""Datasets for the analyses over inputs: scikit-learn's digits as the examples split it, or an ``.npz`` file.

:func:`load_dataset` takes a spec:

* ``"digits"`` (or ``"digits:test"``, ``"digits:train"``, ``"digits:all"``) —
  :func:`sklearn.datasets.load_digits`, pixels divided by 16, split as
  ``examples/train_digits.py`` does (``numpy.random.default_rng(0)``, each
  class split 75/25, then shuffled); the test part by default (the inputs the
  example network was not trained on).  Needs scikit-learn (the ``test`` and
  ``examples`` extras).
* a path to an ``.npz`` file with arrays ``X`` (inputs, one per row — or
  shaped like the network's input) and ``y`` (integer labels).

It returns a frozen :class:`Dataset`; passing the network validates the
shapes against its input and the labels against its outputs, with one-line
errors naming the file and the field.

Examples
--------
>>> import numpy as np, os, tempfile
>>> from symft.graph.network import random_network
>>> path = os.path.join(tempfile.mkdtemp(), "d.npz")
>>> np.savez(path, X=np.zeros((3, 4)), y=np.array([0, 1, 1]))
>>> d = load_dataset(path, random_network([4, 5, 2], seed=0))
>>> d.X.shape, d.y.tolist(), d.name
((3, 4), [0, 1, 1], 'd.npz')
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidArgument

__all__ = ["Dataset", "load_dataset", "digits", "stratified_split", "DIGITS_PARTS"]

#: Parts of the digits dataset.
DIGITS_PARTS = ("test", "train", "all")


@dataclass(frozen=True, eq=False)
class Dataset:
    """Inputs ``X`` ``(B, n_0)`` (float64), labels ``y`` ``(B,)`` (int64) and where they came from.

    Examples
    --------
    >>> Dataset(np.zeros((2, 3)), np.array([0, 1]), "toy").n
    2
    """

    X: np.ndarray
    y: np.ndarray
    name: str

    @property
    def n(self) -> int:
        """Number of inputs.

        Examples
        --------
        >>> Dataset(np.zeros((4, 1)), np.zeros(4, int), "toy").n
        4
        """
        return int(self.X.shape[0])


def stratified_split(y, test_fraction: float, rng):
    """Indices ``(train, test)``: each class split in the same ratio, then both shuffled (as the examples do).

    Examples
    --------
    >>> tr, te = stratified_split(np.array([0, 0, 0, 0, 1, 1, 1, 1]), 0.25, np.random.default_rng(0))
    >>> sorted(te.tolist()) in ([0, 4], [0, 5], [0, 6], [0, 7], [1, 4], [1, 5], [1, 6], [1, 7],
    ...                          [2, 4], [2, 5], [2, 6], [2, 7], [3, 4], [3, 5], [3, 6], [3, 7]), tr.size
    (True, 6)
    """
    train, test = [], []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        idx = idx[rng.permutation(idx.size)]
        n_test = int(round(test_fraction * idx.size))
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    train = np.concatenate(train)
    test = np.concatenate(test)
    return train[rng.permutation(train.size)], test[rng.permutation(test.size)]


def digits(part: str = "test") -> Dataset:
    """scikit-learn's digits (pixels / 16), the part ``"test"`` (default), ``"train"`` or ``"all"``.

    The split is the one of ``examples/train_digits.py`` (seed 0, 25% test per class).

    Examples
    --------
    >>> d = digits()                                        # doctest: +SKIP
    >>> d.X.shape, d.name                                   # doctest: +SKIP
    ((450, 64), 'digits:test')
    """
    if part not in DIGITS_PARTS:
        raise InvalidArgument(f"digits: expected a part among {', '.join(DIGITS_PARTS)}, got {part!r}")
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise InvalidArgument("digits: needs scikit-learn (pip install scikit-learn, or the 'test' extra)") from None
    data = load_digits()
    X = np.asarray(data.data, dtype=np.float64) / 16.0
    y = np.asarray(data.target, dtype=np.int64)
    if part == "all":
        return Dataset(X, y, "digits:all")
    train, test = stratified_split(y, 0.25, np.random.default_rng(0))
    idx = test if part == "test" else train
    return Dataset(X[idx], y[idx], f"digits:{part}")


def _npz(path) -> Dataset:
    name = os.path.basename(path)
    if not os.path.exists(path):
        raise InvalidArgument(f"{path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as f:
            keys = set(f.files)
            missing = [k for k in ("X", "y") if k not in keys]
            if missing:
                raise InvalidArgument(f"{path}: missing array {' and '.join(missing)} (expected arrays X and y; "
                                      f"found {', '.join(sorted(keys)) or 'none'})")
            X, y = f["X"], f["y"]
    except InvalidArgument:
        raise
    except (OSError, ValueError) as exc:
        raise InvalidArgument(f"{path}: not a readable .npz file ({str(exc).splitlines()[0]})") from None
    if X.dtype.kind not in "fiub":
        raise InvalidArgument(f"{path}: X: expected numbers, got dtype {X.dtype}")
    X = X.astype(np.float64)
    if X.ndim < 2:
        raise InvalidArgument(f"{path}: X: expected one input per row (at least 2 dimensions), got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise InvalidArgument(f"{path}: X: expected finite numbers (found NaN or infinity)")
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise InvalidArgument(f"{path}: y: expected {X.shape[0]} labels (one per row of X), got shape {y.shape}")
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
            raise InvalidArgument(f"{path}: y: expected integer labels")
    elif y.dtype.kind not in "iu":
        raise InvalidArgument(f"{path}: y: expected integer labels, got dtype {y.dtype}")
    return Dataset(X, y.astype(np.int64), name)


def load_dataset(spec, net=None) -> Dataset:
    """A dataset from a spec: ``"digits"`` / ``"digits:PART"`` or a path to an ``.npz`` with arrays ``X`` and ``y``.

    With ``net``, the inputs are checked against its input size (rows of
    ``n_0`` numbers, or shaped like its input; returned flat) and the labels
    against its outputs (``0 … n_out − 1``).

    Examples
    --------
    >>> import os, tempfile
    >>> from symft.graph.network import random_network
    >>> path = os.path.join(tempfile.mkdtemp(), "bad.npz")
    >>> np.savez(path, X=np.zeros((3, 4)), y=np.array([0, 1, 5]))
    >>> load_dataset(path, random_network([4, 2], seed=0))
    Traceback (most recent call last):
    ...
    symft.errors.InvalidArgument: bad.npz: y: label 5 out of range: the network has 2 outputs (classes 0 … 1)
    """
    if not isinstance(spec, (str, os.PathLike)):
        raise InvalidArgument(f"data: expected 'digits' or a path to an .npz file, got {type(spec).__name__}")
    s = os.fspath(spec)
    if s == "digits" or s.startswith("digits:"):
        d = digits(s.split(":", 1)[1] if ":" in s else "test")
    elif s.endswith(".npz") or os.path.exists(s):
        d = _npz(s)
    else:
        raise InvalidArgument(f"data: expected 'digits' or a path to an .npz file (arrays X and y), got {s!r}")
    if net is None:
        return d
    n0 = int(np.prod(net.input_shape))
    where = d.name
    if tuple(d.X.shape[1:]) not in ((n0,), tuple(net.input_shape)):
        raise InvalidArgument(f"{where}: X: expected rows of {n0} numbers (the network's input "
                              f"{'x'.join(map(str, net.input_shape))}), got shape {d.X.shape}")
    X = d.X.reshape(d.X.shape[0], n0)
    n_out = net.n_outputs
    if d.y.size and (d.y.min() < 0 or d.y.max() >= n_out):
        bad = int(d.y[(d.y < 0) | (d.y >= n_out)][0])
        raise InvalidArgument(f"{where}: y: label {bad} out of range: the network has {n_out} outputs "
                              f"(classes 0 … {n_out - 1})")
    return Dataset(X, d.y, d.name)
