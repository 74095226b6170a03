"""Training: bit-identical under a seed, learns on digits, var_delta against an exact enumeration of the crash
patterns written here in NumPy (the trained weights run by hand), and one-line errors naming the argument."""

import itertools

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

from symft.errors import InvalidArgument  # noqa: E402
from symft.training.train import TrainResult, load_data, stratified_split, train  # noqa: E402


def test_two_runs_with_one_seed_are_bit_identical_and_another_seed_differs():
    kw = dict(arch=(64, 12, 10), activation="tanh", reg={"lam": 5.0, "mu": 1e-3}, epochs=2, batch_size=256,
              var_inputs=0)
    a = train("digits", seed=3, **kw)
    b = train("digits", seed=3, **kw)
    c = train("digits", seed=4, **kw)
    pa, pb, pc = ([t.detach().numpy() for t in r.model.parameters()] for r in (a, b, c))
    assert all(np.array_equal(u, v) for u, v in zip(pa, pb))
    assert not all(np.array_equal(u, v) for u, v in zip(pa, pc))
    assert [h.as_dict() for h in a.history] == [h.as_dict() for h in b.history]
    assert a.dtype == "float64" and pa[0].dtype == np.float64


def test_a_small_run_learns_digits():
    r = train("digits", arch=(64, 32, 10), activation="tanh", epochs=5, seed=0, var_inputs=2)
    assert isinstance(r, TrainResult)
    assert r.accuracy > 0.8                 # chance is 0.1
    assert r.history[-1].loss < r.history[0].loss
    d = r.as_dict()
    assert isinstance(d["accuracy"], float) and isinstance(d["var_delta"], float) and d["var_delta"] > 0
    assert d["var_label"] in ("exact", "rigorous") and d["var_delta_lo"] <= d["var_delta"] <= d["var_delta_hi"]
    # The returned network is the trained model: same outputs on the test images.
    Xte = load_data("digits", 0)[2][:10]
    from symft.engines.forward import forward
    with torch.no_grad():
        want = r.model(torch.as_tensor(Xte)).numpy()
    np.testing.assert_allclose(forward(r.network, Xte), want, rtol=1e-12, atol=1e-12)


def test_the_split_is_the_example_scripts():
    # examples/train_digits.py with its default seed 0: rng = default_rng(0); stratified_split(y, 0.25, rng) on
    # pixels / 16 — the same split for every training seed (7 here), as symft accuracy --data digits uses
    from sklearn.datasets import load_digits
    d = load_digits()
    tr, te = stratified_split(d.target, 0.25, np.random.default_rng(0))
    Xtr, ytr, Xte, yte = load_data("digits", 7)
    assert np.array_equal(Xte, d.data[te] / 16.0) and np.array_equal(ytr, d.target[tr])
    assert len(set(tr) | set(te)) == 1797 and not set(tr) & set(te)


def test_var_delta_equals_an_exact_enumeration_written_here():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    y = (X[:, 0] - X[:, 2] > 0).astype(int)
    p = 0.01
    r = train((X, y), arch=(3, 4, 2), activation="tanh", p=p, reg={"lam": 1.0}, epochs=3, seed=1, var_inputs=3)
    W1, b1, W2, b2 = (t.detach().numpy() for t in r.model.parameters())
    Xte = load_data((X, y), 1)[2][:3]
    want = []
    for x in Xte:
        h = np.tanh(W1 @ x + b1)
        clean = W2 @ h + b2
        m1 = np.zeros(2)
        m2 = np.zeros(2)
        for xi in itertools.product([0, 1], repeat=4):
            xi = np.array(xi)
            prob = np.prod(np.where(xi == 1, p, 1 - p))
            d = W2 @ ((1 - xi) * h) + b2 - clean
            m1 += prob * d
            m2 += prob * d * d
        want.append((m2 - m1 ** 2).sum())
    assert r.var_label in ("exact", "rigorous")
    assert r.var_delta_lo - 1e-12 <= np.mean(want) <= r.var_delta_hi + 1e-12
    assert r.var_delta_hi - r.var_delta_lo <= 1e-3 * np.mean(want)      # and tight
    assert abs(r.var_delta - np.mean(want)) <= 1e-3 * np.mean(want)
    assert r.p == {"1": 0.01}


def test_float32_runs_and_says_so():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(40, 2))
    y = (X[:, 0] > 0).astype(int)
    r = train((X, y), arch=(2, 3, 2), activation="sigmoid", epochs=1, seed=0, dtype="float32", var_inputs=1)
    assert r.dtype == "float32" and next(r.model.parameters()).dtype == torch.float32
    assert r.as_dict()["dtype"] == "float32"


@pytest.mark.parametrize("kw, msg", [
    (dict(reg={"lambda": 1.0}), r"^reg: unknown term 'lambda'"),
    (dict(dtype="float16"), r"^dtype: expected one of float64, float32"),
    (dict(epochs=0), r"^epochs: expected an integer ≥ 1"),
    (dict(activation="swish"), r"^activation: expected one of"),
    (dict(arch=(2,)), r"^arch: expected at least two positive widths"),
    (dict(data="nope"), r"^data: cannot read 'nope'"),
    (dict(arch=(2, 3, 1)), r"^data: labels go up to 1 but the model has 1 outputs"),
    (dict(p={"9": 0.1}, reg={"lam": 1.0}), r"^p: site '9' is not 'input' nor a submodule"),
])
def test_errors_name_the_argument(kw, msg):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 2))
    args = dict(data=(X, (X[:, 0] > 0).astype(int)), arch=(2, 3, 2), epochs=1, var_inputs=0)
    args.update(kw)
    with pytest.raises(InvalidArgument, match=msg):
        train(args.pop("data"), **args)


def test_a_conv_model_trains_and_its_var_delta_is_enclosed():
    # A CNN as imported models are (conv, relu, avgpool, flatten, dense, tanh, dense) on the 8×8 digit images.
    from torch import nn
    Xtr, ytr, Xte, yte = load_data("digits", 0)
    imgs = (Xtr.reshape(-1, 1, 8, 8)[:300], ytr[:300], Xte.reshape(-1, 1, 8, 8)[:60], yte[:60])
    torch.manual_seed(0)
    cnn = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(27, 12), nn.Tanh(),
                        nn.Linear(12, 10))
    r = train(imgs, init=cnn, p={"1": 1e-3, "5": 1e-3}, reg={"lam": 1.0, "mu": 1e-3}, epochs=3, seed=0,
              var_inputs=2)
    assert r.arch == () and r.p == {"1": 1e-3, "5": 1e-3}
    assert r.history[-1].r1 > 0 and r.var_label in ("exact", "rigorous")
    assert r.var_delta_lo <= r.var_delta <= r.var_delta_hi
    assert [n for n in r.network.sites if n in ("1", "5")] == ["1", "5"]
    # The initial module is copied, not trained in place.
    assert not torch.equal(cnn[0].weight, r.model[0].weight.float())
