"""Algorithm 1: its certificate against an exact enumeration of every crash pattern and a Monte Carlo run of the
median of R copies, both written here in NumPy on the trained weights; each exit (infeasible by E Δ ≥ ε, by the
width cap, by the round limit) and each adjustment (raise μ, widen and raise λ) taken when its check says so."""

import itertools
import json
from fractions import Fraction

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from symft.errors import InvalidArgument  # noqa: E402
from symft.training.algorithm1 import algorithm1  # noqa: E402
from symft.training.train import load_data  # noqa: E402

X = np.random.default_rng(0).normal(size=(120, 3))
Y = (X[:, 0] > 0).astype(int)
DATA = (X, Y)
P = 1e-3


def deltas(result, x, xi):
    """Δ for crash patterns ``xi`` (rows of 0/1 over the hidden neurons), by hand: tanh hidden layer, linear out."""
    W1, b1, W2, b2 = (t.detach().numpy() for t in result.train.model.parameters())
    h = np.tanh(W1 @ x + b1)
    return ((1 - xi) * h) @ W2.T - (W2 @ h)


def test_certificate_agrees_with_exact_enumeration_and_monte_carlo_of_the_median():
    r = algorithm1(DATA, arch=(3, 16, 2), activation="tanh", p=P, eps=0.2, delta=1e-3, epochs=5)
    assert r.certified and not r.infeasible and r.rigorous and r.widths == (3, 16, 2)
    x = load_data(DATA, 0)[2][0]
    # Exact: every one of the 2^16 crash patterns.
    xi = np.array(list(itertools.product([0, 1], repeat=16)), dtype=float)
    prob = np.prod(np.where(xi == 1, P, 1 - P), axis=1)
    d = deltas(r, x, xi)
    fail = [(prob * (d[:, k] >= 0.2)).sum() for k in range(2)]
    assert max(fail) <= r.certificate.delta_bound
    for k, lo, hi, var_hi, _ in r.certificate.per_output:
        mean = (prob * d[:, k]).sum()
        assert lo - 1e-15 <= mean <= hi + 1e-15
        assert (prob * (d[:, k] - mean) ** 2).sum() <= var_hi + 1e-15
    # The median of R independent copies, by Monte Carlo: no more failures than δ allows (4 σ of slack).
    R = r.copies
    assert R >= 1 and (R == 1) == (Fraction(r.certificate.delta_bound) <= Fraction(1, 1000))
    rng = np.random.default_rng(1)
    n = 200_000
    med = np.median(np.stack([deltas(r, x, (rng.random((n, 16)) < P).astype(float)) for _ in range(R)]), axis=0)
    rate = (med >= 0.2).mean(axis=0).max()
    assert rate <= 1e-3 + 4 * np.sqrt(1e-3 / n)
    d_ = json.loads(json.dumps(r.as_dict(), allow_nan=False))
    assert d_["certified"] is True and d_["widths"] == [3, 16, 2] and d_["copies"] == R
    assert d_["var_delta"] > 0 and d_["accuracy"] == r.train.accuracy


def test_infeasible_when_the_mean_error_reaches_eps():
    r = algorithm1(DATA, arch=(3, 16, 2), activation="tanh", p=P, eps=1e-6, delta=1e-3, epochs=5)
    assert r.infeasible and not r.certified and r.copies is None
    assert r.reason.startswith("E Δ ≥ ") and r.rounds[-1].action == "E Δ ≥ eps: infeasible"
    k, lo = max(((o[0], o[1]) for o in r.certificate.per_output), key=lambda t: t[1])
    assert lo >= 1e-6
    # The exact mean of that output, by enumeration here, does reach eps.
    x = load_data(DATA, 0)[2][0]
    xi = np.array(list(itertools.product([0, 1], repeat=16)), dtype=float)
    prob = np.prod(np.where(xi == 1, P, 1 - P), axis=1)
    assert (prob * deltas(r, x, xi)[:, k]).sum() >= 1e-6


def test_a_loose_bound_widens_and_raises_lambda_until_the_cap():
    r = algorithm1(DATA, arch=(3, 8, 2), activation="tanh", p=P, eps=0.01, delta=1e-3, epochs=3, max_width=16,
                   lam=2.0)
    assert r.infeasible and "at their cap" in r.reason
    acts = [z.action for z in r.rounds]
    assert any(a.startswith("delta") and "widen" in a for a in acts[:-1])
    assert r.rounds[-1].widths == (3, 16, 2)
    widened = [z for z in r.rounds if "raise lambda" in z.action]
    for z, nxt in zip(r.rounds, r.rounds[1:]):
        if "raise lambda" in z.action:
            assert nxt.lam == 10 * z.lam and nxt.widths[1] == 2 * z.widths[1]
        if z.delta_bound is not None and "widen" in z.action:
            assert z.delta_bound > 1 / 3
    assert widened or r.rounds[0].delta0 > 1 / 3


def test_low_balance_raises_mu_and_the_round_limit_is_infeasible():
    r = algorithm1(DATA, arch=(3, 16, 2), activation="tanh", p=P, eps=0.2, delta=1e-3, epochs=2, q_min=0.999,
                   max_rounds=2)
    assert [z.action.split(":")[1].strip() for z in r.rounds] == ["raise mu", "raise mu"]
    assert [z.mu for z in r.rounds] == [0.0, 1e-3] and r.mu == 1e-2
    assert all(z.q < 0.999 for z in r.rounds)
    assert r.infeasible and r.reason == "no certificate within 2 rounds"


@pytest.mark.parametrize("kw, msg", [
    (dict(eps=0.0), r"^eps, delta: expected eps > 0"),
    (dict(delta=1.0), r"^eps, delta: expected eps > 0"),
    (dict(lam=-1.0), r"^lam: expected a non-negative number"),
    (dict(max_rounds=0), r"^max_rounds: expected a positive integer"),
    (dict(widen_factor=1), r"^widen_factor: expected an integer ≥ 2"),
])
def test_errors_name_the_argument(kw, msg):
    args = dict(arch=(3, 4, 2), eps=0.1, delta=0.01, epochs=1)
    args.update(kw)
    with pytest.raises(InvalidArgument, match=msg):
        algorithm1(DATA, **args)
