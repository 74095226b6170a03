"""The second-order forward-mode interpretation (symft.walk.jets) and input_hessian on graphs.

Every reference is a NumPy forward pass written by hand from the network files' numbers
(tests/reference_graphs.py, and the max-pool graph below), never symft's forward: Hessians against
central finite differences of it, gradients against differences and, for the exact ReLU residual
MLP, against its Jacobian in Fractions."""

import pathlib
from fractions import Fraction

import numpy as np
import pytest

from symft.errors import InvalidArgument
from symft.graph.netfile import load_network
from symft.graph.network import Network, random_network
from symft.graph.ops import ActivationOp, BatchNorm, Conv2d, Dense, Flatten, Input, MaxPool2d
from symft.theory.continuous import input_hessian
from symft.walk.jets import Jets
from symft.walk.walker import walk
from tests.reference_graphs import cnn_parts, params, residual_forward, residual_parts

DATA = pathlib.Path(__file__).parent / "data"


def softplus(z):
    return np.logaddexp(0.0, z)


def cnn_forward(X):
    parts = cnn_parts(X)
    return parts["y"], parts["z"]


def fd_hessian(f, x, h):
    """Central differences: H[k, i, j] ≈ (f(x+he_i+he_j) − f(x+he_i−he_j) − f(x−he_i+he_j) + f(x−he_i−he_j)) / 4h²."""
    n = x.size
    E = np.eye(n) * h
    pts = np.stack([x + si * E[i] + sj * E[j] for i in range(n) for j in range(n)
                    for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1))])
    Y = f(pts).reshape(n, n, 4, -1)
    H = (Y[:, :, 0] - Y[:, :, 1] - Y[:, :, 2] + Y[:, :, 3]) / (4 * h * h)
    return np.moveaxis(H, 2, 0)


def fd_gradient(f, x, h):
    n = x.size
    E = np.eye(n) * h
    Y = f(np.concatenate([x + E, x - E]))
    return ((Y[:n] - Y[n:]) / (2 * h)).T


# ------------------------------------------------------------------ the small CNN (relu, then tanh)

def _cnn_inputs(k, margin=1e-3):
    """k inputs at which no relu pre-activation is within ``margin`` of 0 (smooth there)."""
    rng = np.random.default_rng(11)
    out = []
    while len(out) < k:
        x = rng.normal(size=25)
        _, z = cnn_forward(x[None])
        if np.abs(z).min() > margin:
            out.append(x)
    return np.array(out)


def test_cnn_hessian_against_finite_differences():
    net = load_network(DATA / "small_cnn.json")
    X = _cnn_inputs(2)
    G, H = input_hessian(net, X)
    assert G.shape == (2, 3, 25) and H.shape == (2, 3, 25, 25)
    for b, x in enumerate(X):
        Hfd = fd_hessian(lambda P: cnn_forward(P)[0], x, 1e-4)
        assert np.abs(Hfd).max() > 1e-2                          # tanh makes it curved
        assert np.allclose(H[b], Hfd, atol=2e-6), np.abs(H[b] - Hfd).max()
        assert np.allclose(H[b], np.swapaxes(H[b], 1, 2), atol=1e-15)
        assert np.allclose(G[b], fd_gradient(lambda P: cnn_forward(P)[0], x, 1e-6), atol=1e-8)
    v, _, _ = walk(net, Jets(net), X.reshape(2, 1, 5, 5), keep=False)
    assert np.allclose(v, cnn_forward(X)[0], rtol=1e-14, atol=1e-15)
    g1, h1 = input_hessian(net, X[0].reshape(1, 5, 5))           # one input, shaped like the model's
    assert np.allclose(g1, G[0], rtol=1e-13, atol=1e-16) and np.allclose(h1, H[0], rtol=1e-13, atol=1e-16)


# ------------------------------------------------------------------ the residual MLP

def _with_activation(net, name):
    return Network([(n.name, ActivationOp(name) if isinstance(n.op, ActivationOp) else n.op, n.inputs)
                    for n in net.nodes])


@pytest.mark.parametrize("act, fn", [("softplus", softplus), ("tanh", np.tanh)])
def test_residual_mlp_smooth_variant_hessian_against_finite_differences(act, fn):
    net = _with_activation(load_network(DATA / "residual_mlp.json"), act)
    x = np.array([0.3, -0.7, 1.1, 0.4])
    G, H = input_hessian(net, x)
    Hfd = fd_hessian(lambda X: residual_forward(X, fn), x, 1e-4)
    assert np.abs(Hfd).max() > 1e-2
    assert np.allclose(H, Hfd, atol=1e-6), np.abs(H - Hfd).max()
    assert np.allclose(G, fd_gradient(lambda X: residual_forward(X, fn), x, 1e-6), atol=1e-8)


def test_residual_mlp_relu_exact_jacobian_and_zero_hessian():
    # piecewise linear: the Hessian is 0 and the gradient is W3 (D1 + D2 W2 D1) W1, D = relu'(z) (Fractions)
    net = load_network(DATA / "residual_mlp.json")
    P = params("residual_mlp.json", exact=True)
    x = np.array([Fraction(1, 2), Fraction(-1, 4), Fraction(3, 4), Fraction(1)], dtype=object)
    ref = residual_parts(x, exact=True)
    assert all(v != 0 for v in list(ref["z1"]) + list(ref["z2"]))
    D1 = np.diag([Fraction(int(v > 0)) for v in ref["z1"]])
    D2 = np.diag([Fraction(int(v > 0)) for v in ref["z2"]])
    J = P["out"]["weight"].dot(D1 + D2.dot(P["d2"]["weight"]).dot(D1)).dot(P["d1"]["weight"])
    G, H = input_hessian(net, np.array([float(v) for v in x]))
    assert np.allclose(G, J.astype(float), rtol=1e-14, atol=1e-15)
    assert not H.any()


# ------------------------------------------------------------------ max pooling, batch norm, directions

def _pool_net():
    rng = np.random.default_rng(5)
    return Network([
        ("x", Input((1, 4, 4)), ()),
        ("c", Conv2d(rng.normal(size=(2, 1, 2, 2)), rng.normal(size=2) * 0.1), ("x",)),
        ("bn", BatchNorm(np.array([1.5, -0.7]), np.array([0.1, 0.2])), ("c",)),
        ("t", ActivationOp("tanh"), ("bn",)),
        ("mp", MaxPool2d((2, 2), 1), ("t",)),
        ("f", Flatten(), ("mp",)),
        ("d", Dense(rng.normal(size=(4, 8)) * 0.5, rng.normal(size=4) * 0.1), ("f",)),
        ("s", ActivationOp("softplus"), ("d",)),
        ("o", Dense(rng.normal(size=(2, 4)), None), ("s",)),
    ])


def pool_forward(net, X):
    """The max-pool net above by hand (its parameters read from the ops); also the smallest
    gap between a window's largest and second-largest value."""
    W = net.node("c").op.weight
    b = net.node("c").op.bias
    bn = net.node("bn").op
    x = X.reshape(-1, 4, 4)
    z = np.zeros((X.shape[0], 2, 3, 3))
    for co in range(2):
        for a in range(2):
            for c in range(2):
                z[:, co] += W[co, 0, a, c] * x[:, a:a + 3, c:c + 3]
        z[:, co] = (z[:, co] + b[co]) * bn.scale[co] + bn.shift[co]
    t = np.tanh(z)
    win = np.stack([t[:, :, :-1, :-1], t[:, :, 1:, :-1], t[:, :, :-1, 1:], t[:, :, 1:, 1:]], axis=-1)
    srt = np.sort(win, axis=-1)
    m = srt[..., -1]
    gap = (srt[..., -1] - srt[..., -2]).min()
    d = net.node("d").op
    s = softplus(m.reshape(X.shape[0], 8) @ d.weight.T + d.bias)
    return s @ net.node("o").op.weight.T, gap


def test_max_pool_routes_by_the_argmax_and_batch_norm_drops_its_shift():
    net = _pool_net()
    rng = np.random.default_rng(2)
    x = next(v for v in (rng.normal(size=16) for _ in range(100)) if pool_forward(net, v[None])[1] > 1e-2)
    G, H = input_hessian(net, x)
    Hfd = fd_hessian(lambda P: pool_forward(net, P)[0], x, 1e-4)
    assert np.allclose(H, Hfd, atol=1e-6), np.abs(H - Hfd).max()
    assert np.allclose(G, fd_gradient(lambda P: pool_forward(net, P)[0], x, 1e-6), atol=1e-8)


def test_directions_and_first_order():
    net = random_network([3, 4, 2], seed=0, activation="sigmoid")
    x = np.array([[0.2, -0.4, 0.9]])
    D = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, -1.0]])
    _, g, h = walk(net, Jets(net, directions=D), x, keep=False)
    G, H = input_hessian(net, x[0])
    assert np.allclose(g[0], D @ G.T, rtol=1e-13)
    assert np.allclose(h[0], np.einsum("ai,kij,cj->ack", D, H, D), rtol=1e-12, atol=1e-15)
    v1, g1, h1 = walk(net, Jets(net, order=1), x, keep=False)
    assert h1 is None and np.allclose(g1[0], G.T, rtol=1e-15)
    with pytest.raises(InvalidArgument, match="directions"):
        Jets(net, directions=np.ones((2, 4)))
    with pytest.raises(InvalidArgument, match="order"):
        Jets(net, order=3)
