"""Tests of symft.io.datasets: the digits split of the examples, .npz files and their one-line errors."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from symft.errors import InvalidArgument
from symft.graph.netfile import load_network
from symft.graph.network import random_network
from symft.io.datasets import load_dataset

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")


def test_digits_is_the_split_of_the_examples():
    pytest.importorskip("sklearn")
    net = load_network(os.path.join(EXAMPLES, "digits_sigmoid.json"))
    d = load_dataset("digits", net)
    assert d.name == "digits:test" and d.X.shape == (450, 64) and d.y.dtype == np.int64
    # the first test images are the ones the training script wrote (digits_inputs.json, digit0.csv)
    with open(os.path.join(EXAMPLES, "digits_inputs.json")) as f:
        saved = json.load(f)
    assert np.array_equal(d.X[:20], np.array(saved["inputs"])) and d.y[:20].tolist() == saved["labels"]
    assert np.array_equal(d.X[0], np.loadtxt(os.path.join(EXAMPLES, "digit0.csv"), delimiter=","))
    # the network's recorded test accuracy is recovered on this split
    acc = json.load(open(os.path.join(EXAMPLES, "digits_sigmoid.json")))["metadata"]["test_accuracy"]
    from symft.engines.forward import forward
    assert np.mean(np.argmax(forward(net, d.X), axis=1) == d.y) == acc
    tr = load_dataset("digits:train")
    al = load_dataset("digits:all")
    assert tr.n + d.n == al.n == 1797
    with pytest.raises(InvalidArgument, match="digits: expected a part"):
        load_dataset("digits:validation")


def save(tmp_path, name="d.npz", **arrays):
    path = tmp_path / name
    np.savez(path, **arrays)
    return str(path)


def test_npz_roundtrip_and_shaped_inputs(tmp_path):
    net = random_network([4, 5, 3], seed=0)
    X = np.arange(12, dtype=float).reshape(3, 4)
    d = load_dataset(save(tmp_path, X=X, y=np.array([0, 2, 1], dtype=np.int32)), net)
    assert np.array_equal(d.X, X) and d.y.tolist() == [0, 2, 1] and d.y.dtype == np.int64
    d = load_dataset(save(tmp_path, X=X, y=np.array([0.0, 2.0, 1.0])), net)       # integral floats are labels
    assert d.y.tolist() == [0, 2, 1]
    assert load_dataset(save(tmp_path, X=X, y=np.array([5, 6, 7]))).y.tolist() == [5, 6, 7]   # no net: no range


@pytest.mark.parametrize("arrays,match", [
    (dict(X=np.zeros((3, 4))), r"d\.npz: missing array y"),
    (dict(X=np.zeros((3, 5)), y=np.zeros(3, int)), r"X: expected rows of 4 numbers"),
    (dict(X=np.zeros(4), y=np.zeros(1, int)), r"X: expected one input per row"),
    (dict(X=np.zeros((3, 4)), y=np.zeros(2, int)), r"y: expected 3 labels"),
    (dict(X=np.zeros((3, 4)), y=np.array([0, 1, 3])), r"y: label 3 out of range: the network has 3 outputs"),
    (dict(X=np.zeros((3, 4)), y=np.array([0, -1, 1])), r"y: label -1 out of range"),
    (dict(X=np.zeros((3, 4)), y=np.array([0.5, 1, 1])), r"y: expected integer labels"),
    (dict(X=np.array([[np.nan] * 4]), y=np.zeros(1, int)), r"X: expected finite numbers"),
    (dict(X=np.array([["a"] * 4]), y=np.zeros(1, int)), r"X: expected numbers"),
])
def test_npz_errors_name_the_file_and_the_field(tmp_path, arrays, match):
    path = save(tmp_path, **arrays)
    with pytest.raises(InvalidArgument, match=match) as e:
        load_dataset(path, random_network([4, 5, 3], seed=0))
    assert "\n" not in str(e.value) and "d.npz" in str(e.value)


def test_bad_specs(tmp_path):
    with pytest.raises(InvalidArgument, match="no such file"):
        load_dataset(str(tmp_path / "missing.npz"))
    bad = tmp_path / "bad.npz"
    bad.write_text("not a zip")
    with pytest.raises(InvalidArgument, match="bad.npz: not a readable .npz file"):
        load_dataset(str(bad))
    with pytest.raises(InvalidArgument, match="data: expected 'digits' or a path"):
        load_dataset("mnist")
    with pytest.raises(InvalidArgument, match="data: expected"):
        load_dataset(3)
