"""Independent forward passes of the two reference graphs, written by hand from the network files.

``tests/data/residual_mlp.json``: x (4) → dense d1 → relu h1 (6) → dense d2 → relu h2 (6) →
add(h1, h2) → dense out (2).  ``tests/data/small_cnn.json``: x (1×5×5) → conv 3×3 (valid, 2
channels) → relu r (2×3×3) → avg-pool 2×2 stride 1 → flatten (8) → dense fc1 → tanh t (6) →
dense out (3).  The numbers are read from the JSON files (not through symft), as Fractions or
floats; nothing here calls symft's forward pass."""

import json
import pathlib
from fractions import Fraction

import numpy as np

DATA = pathlib.Path(__file__).parent / "data"


def params(name, exact=False):
    """{node: {field: array}} of the weights and biases in a network file (Fractions or floats)."""
    d = json.loads((DATA / name).read_text())
    conv = (lambda s: Fraction(s)) if exact else (lambda s: float(Fraction(s)) if isinstance(s, str) else float(s))
    out = {}
    for n in d["nodes"]:
        arrs = {}
        for k in ("weight", "bias"):
            if k in n:
                a = np.vectorize(conv, otypes=[object])(np.array(n[k], dtype=object))
                arrs[k] = a if exact else a.astype(float)
        out[n["name"]] = arrs
    return out


def relu(z):
    return np.maximum(z, 0 * z)


def residual_parts(x, act=relu, exact=False):
    """The residual MLP at one input: dict of z1, h1, z2, h2, y (object arrays of Fractions when exact)."""
    P = params("residual_mlp.json", exact)
    x = np.asarray(x, dtype=object if exact else float)
    z1 = P["d1"]["weight"].dot(x) + P["d1"]["bias"]
    h1 = act(z1)
    z2 = P["d2"]["weight"].dot(h1) + P["d2"]["bias"]
    h2 = act(z2)
    y = P["out"]["weight"].dot(h1 + h2) + P["out"]["bias"]
    return dict(z1=z1, h1=h1, z2=z2, h2=h2, y=y)


def residual_forward(X, act=relu, crash=None):
    """Outputs (B, 2) for a batch X (B, 4); ``crash`` {site: multiplier (B, n)} scales h1, h2 or out."""
    P = params("residual_mlp.json")
    crash = crash or {}
    h1 = act(X @ P["d1"]["weight"].T + P["d1"]["bias"]) * crash.get("h1", 1)
    h2 = act(h1 @ P["d2"]["weight"].T + P["d2"]["bias"]) * crash.get("h2", 1)
    return ((h1 + h2) @ P["out"]["weight"].T + P["out"]["bias"]) * crash.get("out", 1)


def pool_matrix():
    """The avg-pool 2×2 stride 1 + flatten of a (2, 3, 3) tensor as an (8, 18) matrix (row-major)."""
    A = np.zeros((8, 18))
    for c in range(2):
        for i in range(2):
            for j in range(2):
                for a in range(2):
                    for b in range(2):
                        A[c * 4 + i * 2 + j, c * 9 + (i + a) * 3 + (j + b)] = 0.25
    return A


def cnn_parts(X, crash=None, conv_act=relu):
    """The small CNN on a batch X (B, 25): dict of conv pre-activations z (B, 2, 3, 3), r (B, 18),
    fc1 pre-activations a (B, 6), t (B, 6) and y (B, 3); ``crash`` {site: multiplier} scales
    r (B, 18), t (B, 6) or out (B, 3)."""
    P = params("small_cnn.json")
    crash = crash or {}
    W, b = P["conv"]["weight"], P["conv"]["bias"]
    x = np.asarray(X, float).reshape(-1, 5, 5)
    z = np.zeros((x.shape[0], 2, 3, 3))
    for co in range(2):
        for a in range(3):
            for c in range(3):
                z[:, co] += W[co, 0, a, c] * x[:, a:a + 3, c:c + 3]
        z[:, co] += b[co]
    r = conv_act(z).reshape(x.shape[0], 18) * crash.get("r", 1)
    a = r @ pool_matrix().T @ P["fc1"]["weight"].T + P["fc1"]["bias"]
    t = np.tanh(a) * crash.get("t", 1)
    y = (t @ P["out"]["weight"].T + P["out"]["bias"]) * crash.get("out", 1)
    return dict(z=z, r=r, a=a, t=t, y=y)
