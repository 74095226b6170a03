"""``symft train``: the command's contract (keys, the written network, determinism, Algorithm 1, errors)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from .test_cli import assert_one_line_error, run, run_json

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

BASE = ("train", "--data", "digits", "--arch", "64,16,10", "--act", "sigmoid", "--p", "1e-3", "--epochs", "2",
        "--seed", "4")


def test_train_json_contract_writes_the_network_and_is_deterministic(capsys, tmp_path):
    from symft.engines.forward import forward
    from symft.graph.netfile import load_network
    from symft.io.datasets import load_dataset

    outs = []
    for name in ("a.json", "b.json"):
        d = run_json(capsys, *BASE, "--reg", "lambda=10", "--out", tmp_path / name)
        assert isinstance(d["accuracy"], float) and isinstance(d["var_delta"], float)
        assert d["var_delta_lo"] <= d["var_delta"] <= d["var_delta_hi"]
        outs.append(d)
    # one seed, the same network, bit for bit
    assert (tmp_path / "a.json").read_text() == (tmp_path / "b.json").read_text()
    assert outs[0]["accuracy"] == outs[1]["accuracy"]
    # the written network is the one whose accuracy was reported
    net = load_network(tmp_path / "a.json")
    data = load_dataset("digits", net)
    acc = float(np.mean(np.argmax(forward(net, data.X), axis=1) == data.y))
    assert acc == pytest.approx(outs[0]["accuracy"], abs=1e-12)
    other = run_json(capsys, *BASE[:-1], "5")
    assert other["accuracy"] != outs[0]["accuracy"] or other["var_delta"] != outs[0]["var_delta"]


def test_train_writes_onnx(capsys, tmp_path):
    pytest.importorskip("onnx")
    from symft.graph.netfile import load_network

    code, out, err = run(capsys, *BASE, "--out", tmp_path / "m.onnx")
    assert code == 0, err
    assert out.splitlines()[0].startswith("test accuracy ") and "wrote" in out
    assert load_network(tmp_path / "m.onnx").n_inputs == 64


def test_algorithm1_json_contract(capsys):
    d = run_json(capsys, "train", "--algorithm1", "--eps", "0.5", "--delta", "0.1", "--arch", "64,16,10",
                 "--epochs", "2", "--seed", "1")
    assert isinstance(d["certified"], bool) and isinstance(d["widths"], list) and d["widths"][0] == 64
    assert d["copies"] is None or isinstance(d["copies"], int)
    if d["certified"]:
        assert d["copies"] >= 1


def test_train_bad_input_is_one_line(capsys, tmp_path):
    assert_one_line_error(*run(capsys, "train", "--reg", "kappa=1"), "--reg", "kappa")
    assert_one_line_error(*run(capsys, "train", "--reg", "lambda=-1"), "--reg lambda")
    assert_one_line_error(*run(capsys, "train", "--arch", "64"), "--arch")
    assert_one_line_error(*run(capsys, "train", "--out", tmp_path / "x.txt"), "--out", ".json or .onnx")
    assert_one_line_error(*run(capsys, "train", "--out", tmp_path / "no" / "x.json"), "--out", "does not exist")
    assert_one_line_error(*run(capsys, "train", "--algorithm1"), "--eps")
    assert_one_line_error(*run(capsys, "train", "--p", "2"), "--p")


def test_train_refuses_an_arch_that_does_not_fit_the_data(capsys, tmp_path):
    data = tmp_path / "d.npz"
    np.savez(data, X=np.zeros((8, 2)), y=np.array([0, 1] * 4))
    assert_one_line_error(*run(capsys, "train", "--data", data, "--epochs", "1"), "arch", "(64)", "(2)")
