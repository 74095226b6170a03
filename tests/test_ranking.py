"""The supplement's bound comparison: rank loss, relative error, its random networks, the std versions of b2 and b4,
and the random-network experiment script — each against a brute force written here (pairs counted one by one,
NumPy forward passes, enumeration of every crash configuration in NumPy)."""

import importlib.util
import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symft.analysis.bounds import b2_std, b4_paper, b4_std
from symft.analysis.ranking import rank_loss, relative_error, supplement_random_network
from symft.errors import InvalidArgument
from symft.faults import NeuronCrash
from symft.graph.network import Network

SCRIPT = Path(__file__).resolve().parents[1] / "experiments" / "random_networks.py"


def brute_rank_loss(truth, est):
    """Pairs (i, j) with truth_i < truth_j that the estimate does not order strictly the same way."""
    n = len(truth)
    bad = sum(1 for i, j in itertools.combinations(range(n), 2)
              if (truth[i] < truth[j] and est[i] >= est[j]) or (truth[j] < truth[i] and est[j] >= est[i]))
    return bad / (n * (n - 1) / 2)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(-50, 50), st.integers(-5, 5)), min_size=2, max_size=25,
                unique_by=lambda t: t[0]))
def test_rank_loss_counts_misordered_pairs(pairs):
    truth = [a for a, _ in pairs]
    est = [b for _, b in pairs]
    r = rank_loss(truth, est)
    assert r == pytest.approx(brute_rank_loss(truth, est), abs=1e-12)
    assert rank_loss(truth, est, fold=True) == pytest.approx(min(r, 1 - r), abs=1e-12)


def test_rank_loss_extremes_and_errors():
    t = [0.3, -1.0, 2.0, 0.5]
    assert rank_loss(t, [2 * v + 1 for v in t]) == 0.0
    assert rank_loss(t, [-v for v in t]) == 1.0 and rank_loss(t, [-v for v in t], fold=True) == 0.0
    assert rank_loss(t, [7, 7, 7, 7]) == 1.0                     # ties in the estimate count as errors
    with pytest.raises(InvalidArgument, match="estimate"):
        rank_loss([1, 2], [1, 2, 3])
    with pytest.raises(InvalidArgument, match="truth"):
        rank_loss([1], [1])


def test_relative_error_caps_at_two():
    got = relative_error([2.0, -1.0, 0.0, 0.0, 4.0], [3.0, 5.0, 0.0, 1.0, 4.0])
    assert got.tolist() == [0.5, 2.0, 0.0, 2.0, 0.0]


def test_supplement_random_network_law():
    # The authors' law: W ~ N(0.1, (3/n_in)²), b ~ N(0.1, (3/n_out)²); checked on the moments of many draws.
    rng = np.random.default_rng(5)
    Ws, bs = [], []
    for _ in range(300):
        lay = supplement_random_network([20, 10, 1], seed=rng).as_chain().layers[0]
        Ws.append(np.asarray(lay.weights, dtype=float))
        bs.append(np.asarray(lay.bias, dtype=float))
    W, b = np.array(Ws), np.array(bs)
    assert W.shape == (300, 10, 20)
    assert abs(W.mean() - 0.1) < 4 * (3 / 20) / np.sqrt(W.size)
    assert abs(W.std() / (3 / 20) - 1) < 0.02
    assert abs(b.mean() - 0.1) < 4 * (3 / 10) / np.sqrt(b.size)
    assert abs(b.std() / (3 / 10) - 1) < 0.05
    net = supplement_random_network([4, 3, 2], seed=0)
    assert [lay.activation.name for lay in net.as_chain().layers] == ["relu", "linear"]
    with pytest.raises(InvalidArgument, match="widths"):
        supplement_random_network([4], seed=0)


def numpy_chain(seed, widths, act):
    rng = np.random.default_rng(seed)
    W = [rng.normal(0, 1 / np.sqrt(widths[l - 1]), (widths[l], widths[l - 1])) for l in range(1, len(widths))]
    b = [rng.normal(0, 0.3, widths[l]) for l in range(1, len(widths))]
    f = {"relu": lambda z: np.maximum(z, 0), "tanh": np.tanh}[act]
    return W, b, f


def forward(W, b, f, x, mask=None, site=1):
    """NumPy forward pass of the chain; ``mask`` multiplies the output of layer ``site`` (crashes output 0)."""
    h = np.asarray(x, dtype=float)
    for l in range(len(W)):
        h = W[l] @ h + b[l]
        if l < len(W) - 1:
            h = f(h)
        if mask is not None and l + 1 == site:
            h = h * mask
    return h


@pytest.mark.parametrize("act", ["relu", "tanh"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_std_versions_of_b2_and_b4_against_numpy(act, seed):
    widths = [5, 6, 4, 2]
    W, b, f = numpy_chain(seed, widths, act)
    net = Network.from_numpy(W, b, [act, act, "linear"])
    x = np.random.default_rng(100 + seed).standard_normal(5)
    p = 0.02
    model = NeuronCrash({1: p})
    clean = forward(W, b, f, x)
    deltas = np.array([forward(W, b, f, x, mask=1.0 - np.eye(6)[i]) - clean for i in range(6)])
    np.testing.assert_allclose(b4_paper(net, x, model).value, p * deltas.sum(axis=0), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(b4_std(net, x, model).value, np.sqrt(p * (deltas ** 2).sum(axis=0)), rtol=1e-12)
    # b2's std version, the paper's formula: sqrt(p (W3∘W3)(W2∘W2) y1²) (tanh and ReLU are 1-Lipschitz).
    y1 = f(W[0] @ x + b[0])
    want = np.sqrt(p * (W[2] ** 2) @ (W[1] ** 2) @ (y1 ** 2))
    np.testing.assert_allclose(b2_std(net, x, model).value, want, rtol=1e-9)
    # The paper's b4 is the first-order term of the exact E Δ(p): compare with a full NumPy enumeration at small p.
    q = 1e-6
    exact = np.zeros(2)
    for bits in itertools.product([0, 1], repeat=6):
        k = sum(bits)
        exact += q ** k * (1 - q) ** (6 - k) * (forward(W, b, f, x, mask=1.0 - np.array(bits)) - clean)
    np.testing.assert_allclose(b4_paper(net, x, NeuronCrash({1: q})).value, exact, rtol=1e-4, atol=1e-18)


def test_b2_std_with_two_crashed_layers_adds_the_terms():
    W, b, f = numpy_chain(7, [3, 4, 3, 1], "tanh")
    net = Network.from_numpy(W, b, ["tanh", "tanh", "linear"])
    x = np.array([0.5, -1.0, 2.0])
    y1 = f(W[0] @ x + b[0])
    y2 = f(W[1] @ y1 + b[1])
    want = np.sqrt(0.01 * (W[2] ** 2) @ (W[1] ** 2) @ (y1 ** 2) + 0.03 * (W[2] ** 2) @ (y2 ** 2))
    np.testing.assert_allclose(b2_std(net, x, NeuronCrash({1: 0.01, 2: 0.03})).value, want, rtol=1e-9)


def load_script():
    spec = importlib.util.spec_from_file_location("random_networks", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_random_networks_script_on_a_tiny_setting(tmp_path):
    mod = load_script()
    res = mod.run(networks=3, inputs=4, seed=3, mc=500)
    assert res == mod.run(networks=3, inputs=4, seed=3, mc=500) | {"seconds": res["seconds"]}   # deterministic
    st_in = res["settings"]["variable input"]
    # The truth of the first row against an enumeration of all 2^15 crash configurations in NumPy.
    rng = np.random.default_rng(3)
    net = supplement_random_network([20, 15, 14, 1], seed=rng)
    x = rng.standard_normal((4, 20))[0] * 2
    chain = net.as_chain()
    W = [np.asarray(lay.weights, dtype=float) for lay in chain.layers]
    bb = [np.asarray(lay.bias, dtype=float) for lay in chain.layers]
    relu = lambda z: np.maximum(z, 0)  # noqa: E731
    h1 = relu(W[0] @ x + bb[0])
    masks = ((np.arange(2 ** 15)[:, None] >> np.arange(15)) & 1).astype(float)
    probs = 1e-3 ** masks.sum(1) * (1 - 1e-3) ** (15 - masks.sum(1))
    out = W[2] @ relu(W[1] @ (h1 * (1 - masks)).T + bb[1][:, None]) + bb[2][:, None]
    clean = W[2] @ relu(W[1] @ h1 + bb[1]) + bb[2]
    d = out[0] - clean[0]
    mean = probs @ d
    std = np.sqrt(probs @ d ** 2 - mean ** 2)
    assert st_in["rows"][0]["mean"] == pytest.approx(mean, rel=1e-9)
    assert st_in["rows"][0]["std"] == pytest.approx(std, rel=1e-6)
    # The summary's rank losses recomputed pair by pair from the rows.
    for st_ in res["settings"].values():
        for q in ("mean", "std"):
            t = [r[q] for r in st_["rows"]]
            for k, v in st_["summary"][q].items():
                assert v["rank_loss"] == pytest.approx(brute_rank_loss(t, [r[f"{q}_estimates"][k] for r in st_["rows"]]))
    text = mod.table(res)
    assert "b4 (paper: p sum)" in text and "b2_std (paper)" in text
    paths = mod.figures(res, tmp_path)
    assert all(p.exists() and p.stat().st_size > 1000 for p in paths)


def test_script_truth_falls_back_to_a_labelled_enclosure():
    mod = load_script()
    net = supplement_random_network([20, 20, 20, 1], seed=11)
    x = np.random.default_rng(12).standard_normal(20) * 2 + 0.1
    model = NeuronCrash({1: 1e-2})
    m_exact, s_exact, label = mod.truth(net, x, model, 2 ** 20)
    assert label.startswith("enumeration")
    m_enc, s_enc, label = mod.truth(net, x, model, 2 ** 10)
    assert label.startswith("enclosure midpoint")
    from symft.engines.moments import enclosure_moments
    e = enclosure_moments(net, x, model, order=3)
    assert e.mean_lo[0] <= m_exact <= e.mean_hi[0]
    assert abs(m_enc - m_exact) <= 0.5 * (e.mean_hi[0] - e.mean_lo[0]) + 1e-15
    assert e.var_lo[0] <= s_exact ** 2 * (1 + 1e-12) and s_exact ** 2 <= e.var_hi[0] * (1 + 1e-12)


@pytest.mark.slow
def test_random_networks_full_run_reproduces_the_committed_json_and_the_papers_finding():
    import json

    mod = load_script()
    res = json.loads(json.dumps(mod.run(networks=100, inputs=100, seed=0, mc=50000)))
    committed = json.loads((SCRIPT.parent / "random_networks.json").read_text())
    res.pop("seconds"), committed.pop("seconds")
    assert res == committed
    for st_ in res["settings"].values():
        s = st_["summary"]
        # The supplement's finding: only b3 and b4 order the networks (and inputs) well, b4 best.
        assert s["mean"]["b4 (paper: p sum)"]["rank_loss"] <= 0.01 and s["std"]["b4_std (paper)"]["rank_loss"] <= 0.01
        assert s["mean"]["b3 (T1)"]["rank_loss"] <= 0.05
        assert min(s["mean"][k]["rank_loss_folded"] for k in ("b1_1", "b1_2", "b1_inf", "b2", "SRDS")) >= 0.09
