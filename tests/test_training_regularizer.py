"""The Eq. 1 regularizer in PyTorch: autodiff T1 against symft's numeric T1 (walker, reverse sweep) on random
dense and conv nets, against exact enumeration written here for a linear model, the loss form against the chain
rule in NumPy, its gradient against finite differences, R_2 / R_3 / ‖W‖_∞ against NumPy, and erratum E7."""

import itertools
import sys

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from symft.engines.taylor import t1  # noqa: E402
from symft.errors import FaultModelError, InvalidArgument, MissingDependency  # noqa: E402
from symft.io.torch import from_torch  # noqa: E402
from symft.theory.continuous import smoothness as np_smoothness  # noqa: E402
from symft.training import regularizer as R  # noqa: E402

ACTS = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "softplus": nn.Softplus, "relu": nn.ReLU, "elu": nn.ELU}


def dense_model(widths, act, seed):
    torch.manual_seed(seed)
    mods = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        mods.append(nn.Linear(a, b))
        if i < len(widths) - 2:
            mods.append(ACTS[act]())
    return nn.Sequential(*mods).double()


def conv_model(c_in, c, k, pool, act, seed):
    torch.manual_seed(seed)
    side = 6
    mods = [nn.Conv2d(c_in, c, k, padding=1), ACTS[act]()]
    s = side - k + 3
    if pool:
        mods.append(nn.AvgPool2d(2))
        s //= 2
    mods += [nn.Flatten(), nn.Linear(c * s * s, 5), ACTS[act](), nn.Linear(5, 3)]
    return nn.Sequential(*mods).double(), (c_in, side, side)


def compare_with_symft(model, x, data):
    net = from_torch(model, x)
    sites = list(net.sites)
    chosen = data.draw(st.lists(st.sampled_from(sites), min_size=1, max_size=len(sites), unique=True))
    p = {s: data.draw(st.floats(1e-4, 0.5)) for s in chosen}
    want = t1(net, x.numpy(), p, remainder=False)
    got = R.t1_variance(model, x, p).detach().numpy()
    got_paper = R.t1_variance(model, x, p, paper=True, create_graph=False).detach().numpy()
    scale = np.abs(want.var).max() + 1e-300
    assert np.abs(got - want.var).max() <= 1e-6 * scale, (got, want.var)
    assert np.abs(got_paper - want.var_paper).max() <= 1e-6 * (np.abs(want.var_paper).max() + 1e-300)
    assert scale > 0


@settings(max_examples=25, deadline=None)
@given(data=st.data(), widths=st.lists(st.integers(1, 6), min_size=2, max_size=4),
       act=st.sampled_from(sorted(ACTS)), seed=st.integers(0, 10_000))
def test_autodiff_t1_equals_symft_t1_dense(data, widths, act, seed):
    model = dense_model(widths, act, seed)
    x = torch.randn(3, widths[0], dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    compare_with_symft(model, x, data)


@settings(max_examples=12, deadline=None)
@given(data=st.data(), c_in=st.integers(1, 2), c=st.integers(1, 3), k=st.sampled_from([2, 3]),
       pool=st.booleans(), act=st.sampled_from(sorted(ACTS)), seed=st.integers(0, 10_000))
def test_autodiff_t1_equals_symft_t1_conv(data, c_in, c, k, pool, act, seed):
    model, shape = conv_model(c_in, c, k, pool, act, seed)
    x = torch.rand(2, *shape, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    compare_with_symft(model, x, data)


def test_linear_model_matches_exact_enumeration_written_here():
    # y = W x is linear in ξ, so T1's first-order variance is the exact Var Δ: enumerate the 2^4 crash sets.
    rng = np.random.default_rng(3)
    W = rng.normal(size=(2, 4))
    x = rng.normal(size=4)
    p = 0.3
    model = nn.Sequential(nn.Linear(4, 2, bias=False)).double()
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor(W))
    m1 = np.zeros(2)
    m2 = np.zeros(2)
    for xi in itertools.product([0, 1], repeat=4):
        xi = np.array(xi)
        prob = np.prod(np.where(xi == 1, p, 1 - p))
        d = W @ ((1 - xi) * x) - W @ x
        m1 += prob * d
        m2 += prob * d * d
    exact = m2 - m1 ** 2
    got = R.t1_variance(model, torch.tensor(x[None, :]), {"input": p}).detach().numpy()[0]
    np.testing.assert_allclose(got, exact, rtol=1e-12)


def test_loss_form_is_the_chain_rule_of_the_output_sensitivities():
    model = dense_model([5, 4, 3, 4], "tanh", 1)
    x = torch.randn(6, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    target = torch.tensor([0, 1, 2, 3, 0, 1])
    p = {"1": 0.01, "3": 0.02}
    net = from_torch(model, x)
    ref = t1(net, x.numpy(), p, remainder=False)
    with torch.no_grad():
        y = model(x).numpy()
    e = np.exp(y - y.max(axis=1, keepdims=True))
    dldy = e / e.sum(axis=1, keepdims=True) - np.eye(4)[target.numpy()]    # softmax cross-entropy, by hand
    grads = {net.site(k): g for k, g in ref.gradients.items()}
    want = np.zeros(6)
    for s, q in p.items():
        g = np.einsum("bk,bki->bi", dldy, grads[s])
        want += q * (1 - q) * (g * g).sum(axis=1)
    loss = nn.CrossEntropyLoss(reduction="none")
    got = R.t1_variance(model, x, p, of="loss", loss_fn=loss, target=target).detach().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-10)


def test_r1_gradient_matches_finite_differences():
    model = dense_model([3, 4, 2], "sigmoid", 2)
    x = torch.randn(4, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    p = {"1": 0.05}
    model.zero_grad()
    R.r1(model, x, p).backward()
    w = model[0].weight
    grad = w.grad.clone()
    assert grad.abs().max() > 0
    h = 1e-6
    for i, j in [(0, 0), (1, 2), (3, 1)]:
        with torch.no_grad():
            w[i, j] += h
            up = float(R.r1(model, x, p, create_graph=False))
            w[i, j] -= 2 * h
            down = float(R.r1(model, x, p, create_graph=False))
            w[i, j] += h
        assert abs((up - down) / (2 * h) - float(grad[i, j])) <= 1e-6 * max(1.0, abs(float(grad[i, j])))


def balance_numpy(W):
    t = np.abs(W.reshape(W.shape[0], -1)).sum(axis=1)
    return t.min() / t.max()


def test_r2_both_forms_against_numpy_on_dense_and_conv():
    model, _ = conv_model(2, 3, 3, True, "tanh", 4)
    Ws = [m.weight.detach().numpy() for m in model if isinstance(m, (nn.Linear, nn.Conv2d))]
    qs = [balance_numpy(W) for W in Ws]
    assert abs(float(R.r2(model).detach()) - sum(1 / q ** 2 for q in qs)) <= 1e-12 * sum(1 / q ** 2 for q in qs)
    assert abs(float(R.r2(model, form="printed").detach()) - sum(q ** 2 for q in qs)) <= 1e-12
    assert abs(float(R.r2(model, ["0"]).detach()) - 1 / qs[0] ** 2) <= 1e-12 / qs[0] ** 2


def descend(form, steps=300):
    torch.manual_seed(0)
    lin = nn.Linear(8, 6).double()
    opt = torch.optim.SGD(lin.parameters(), lr=0.005)
    q0 = balance_numpy(lin.weight.detach().numpy())
    for _ in range(steps):
        opt.zero_grad()
        R.r2(lin, form=form).backward()
        opt.step()
    return q0, balance_numpy(lin.weight.detach().numpy())


def test_e7_printed_q_squared_rewards_imbalance_inverse_penalises_it():
    q0, q_printed = descend("printed")
    q0b, q_inverse = descend("inverse")
    assert q0 == q0b and 0.2 < q0 < 0.9
    assert q_printed < 0.5 * q0          # minimising q² unbalances the layer (E7)
    assert q_inverse > q0 and q_inverse > 0.9      # minimising 1/q² balances it


def test_r3_against_numpy_smoothness_and_direct_c1():
    model = dense_model([7, 5, 3], "relu", 5)
    want = 0.0
    for m in (model[0], model[2]):
        W = m.weight.detach().numpy()
        s = np_smoothness(W, sigma=0.1)
        assert abs(s.C1 - sum(abs(W[i + 1, j] - W[i, j]) for i in range(W.shape[0] - 1)
                              for j in range(W.shape[1]))) <= 1e-12
        want += s.total
        got = [float(c) for c in R.smoothness(m.weight.detach(), sigma=0.1)]
        np.testing.assert_allclose(got, [s.C1, s.C2, s.C3], rtol=1e-12, atol=1e-15)
    assert abs(float(R.r3(model, sigma=0.1).detach()) - want) <= 1e-12 * want


def test_weight_max_and_regularizer_total():
    model = dense_model([4, 3, 2], "tanh", 6)
    want = max(np.abs(m.weight.detach().numpy()).max() for m in (model[0], model[2]))
    assert float(R.weight_max(model).detach()) == want
    x = torch.randn(3, 4, dtype=torch.float64)
    reg = R.Regularizer(p={1: 0.01}, lam=2.0, mu=0.5, psi=0.25, nu=3.0)
    total, terms = reg(model, x)
    expect = 2.0 * terms["r1"] + 0.5 * terms["r2"] + 0.25 * terms["r3"] + 3.0 * terms["w_inf"]
    assert torch.isclose(total, expect, rtol=1e-14)
    total.backward()
    assert model[0].weight.grad.abs().max() > 0


def test_errors_name_the_argument(monkeypatch):
    model = dense_model([2, 2, 1], "tanh", 0)
    x = torch.zeros(1, 2, dtype=torch.float64)
    with pytest.raises(FaultModelError, match=r"^p: site 'nope' is not 'input' nor a submodule"):
        R.t1_variance(model, x, {"nope": 0.1})
    with pytest.raises(FaultModelError, match=r"^p\['1'\]: expected a probability"):
        R.t1_variance(model, x, {"1": 1.5})
    with pytest.raises(InvalidArgument, match=r"^form: expected one of"):
        R.r2(model, form="q")
    with pytest.raises(InvalidArgument, match=r"^layers: '1' is not a Linear or Conv2d"):
        R.r2(model, ["1"])
    with pytest.raises(InvalidArgument, match=r"^lam: expected a non-negative number"):
        R.Regularizer(p={"1": 0.1}, lam=-1.0)
    with pytest.raises(InvalidArgument, match=r"^loss_fn: expected one loss per example"):
        R.t1_variance(model, x, {"1": 0.1}, of="loss", loss_fn=nn.MSELoss(), target=torch.zeros(1, 1))
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(MissingDependency, match="pip install symft\\[torch\\]"):
        R.r2(model)
