"""Writes the two reference graphs of the test suite as version-2 network files.

* ``residual_mlp.json`` — input 4 → dense 6 → relu ``h1`` → dense 6 → relu ``h2``
  → add(``h1``, ``h2``) → dense 2 (``out``); exact weights (multiples of 1/8), so the
  rational engines run on it.
* ``small_cnn.json`` — input 1×5×5 → conv 3×3 (2 channels, stride 1) → relu ``r``
  (18 neurons) → average pool 2×2 stride 1 → flatten → dense 6 → tanh ``t`` →
  dense 3 (``out``); float weights.

Run ``python tests/data/make_graph_nets.py`` to regenerate (deterministic).
"""

import json
import pathlib

import numpy as np

HERE = pathlib.Path(__file__).parent


def _q(a, d=8):
    return [_q(v, d) for v in a] if isinstance(a, list) else f"{int(round(a * d))}/{d}"


def residual_mlp():
    rng = np.random.default_rng(2026)
    W1, b1 = rng.normal(0, 0.8, (6, 4)), rng.normal(0, 0.2, 6)
    W2, b2 = rng.normal(0, 0.6, (6, 6)), rng.normal(0, 0.2, 6)
    W3, b3 = rng.normal(0, 0.6, (2, 6)), rng.normal(0, 0.2, 2)
    return {"format": "symft.network", "version": 2, "name": "residual-mlp",
            "metadata": {"description": "dense → relu → dense → relu → add skip → dense, exact weights"},
            "nodes": [
                {"name": "x", "op": "input", "shape": [4]},
                {"name": "d1", "op": "dense", "inputs": ["x"], "weight": _q(W1.tolist()), "bias": _q(b1.tolist())},
                {"name": "h1", "op": "activation", "inputs": ["d1"], "activation": "relu"},
                {"name": "d2", "op": "dense", "inputs": ["h1"], "weight": _q(W2.tolist()), "bias": _q(b2.tolist())},
                {"name": "h2", "op": "activation", "inputs": ["d2"], "activation": "relu"},
                {"name": "res", "op": "add", "inputs": ["h1", "h2"]},
                {"name": "out", "op": "dense", "inputs": ["res"], "weight": _q(W3.tolist()), "bias": _q(b3.tolist())},
            ],
            "output": "out"}


def small_cnn():
    rng = np.random.default_rng(2027)
    K, bk = rng.normal(0, 0.5, (2, 1, 3, 3)), rng.normal(0, 0.1, 2)
    W1, b1 = rng.normal(0, 0.5, (6, 8)), rng.normal(0, 0.1, 6)
    W2, b2 = rng.normal(0, 0.5, (3, 6)), rng.normal(0, 0.1, 3)
    return {"format": "symft.network", "version": 2, "name": "small-cnn",
            "metadata": {"description": "conv 3x3 → relu → avg-pool → flatten → dense → tanh → dense, float weights"},
            "nodes": [
                {"name": "x", "op": "input", "shape": [1, 5, 5]},
                {"name": "conv", "op": "conv2d", "inputs": ["x"], "weight": K.tolist(), "bias": bk.tolist(),
                 "stride": [1, 1], "padding": [0, 0, 0, 0], "dilation": [1, 1], "groups": 1},
                {"name": "r", "op": "activation", "inputs": ["conv"], "activation": "relu"},
                {"name": "pool", "op": "avgpool2d", "inputs": ["r"], "kernel": [2, 2], "stride": [1, 1],
                 "padding": [0, 0, 0, 0], "count_include_pad": False},
                {"name": "flat", "op": "flatten", "inputs": ["pool"]},
                {"name": "fc1", "op": "dense", "inputs": ["flat"], "weight": W1.tolist(), "bias": b1.tolist()},
                {"name": "t", "op": "activation", "inputs": ["fc1"], "activation": "tanh"},
                {"name": "out", "op": "dense", "inputs": ["t"], "weight": W2.tolist(), "bias": b2.tolist()},
            ],
            "output": "out"}


if __name__ == "__main__":
    for name, make in (("residual_mlp.json", residual_mlp), ("small_cnn.json", small_cnn)):
        (HERE / name).write_text(json.dumps(make(), indent=1) + "\n")
        print("wrote", HERE / name)
