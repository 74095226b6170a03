"""Chunks of work on Dask: the same answer bit for bit on any number of workers, and the merges checked
against NumPy / Fraction computations written here."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from fractions import Fraction as F
from itertools import product
from unittest import mock

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

from symft import distributed as D                                    # noqa: E402
from symft.analysis.accuracy import accuracy as plain_accuracy        # noqa: E402
from symft.analysis.sweep import sweep as plain_sweep                 # noqa: E402
from symft.engines.sampling import crashed_errors                     # noqa: E402
from symft.faults import NeuronCrash                                  # noqa: E402
from symft.graph.network import Network                               # noqa: E402

from .test_cli import assert_one_line_error, run, run_json            # noqa: E402

RNG = np.random.default_rng(11)
W1, B1 = RNG.normal(size=(6, 3)), RNG.normal(size=6)
W2, B2 = RNG.normal(size=(2, 6)), RNG.normal(size=2)
XS = np.array([[0.5, -1.0, 2.0], [1.0, 0.25, -0.5]])
P = 0.3


def _tanh_net():
    return Network.from_numpy([W1, W2], [B1, B2], activations="tanh")


def _exact_mean(x):
    """E Δ over all 2^6 crash masks of the hidden layer (crashed neurons output 0), in NumPy."""
    h = np.tanh(W1 @ x + B1)
    clean = W2 @ h + B2
    m = np.zeros(2)
    for mask in product((0, 1), repeat=6):
        keep = 1 - np.array(mask)
        prob = P ** sum(mask) * (1 - P) ** (6 - sum(mask))
        m += prob * (W2 @ (h * keep) + B2 - clean)
    return m


class _Workers:
    """``clients[n]``: the client of one in-process LocalCluster scaled to ``n`` worker threads.

    One cluster, not one per size: a task's ``worker_client`` then finds this client as the default one
    for its scheduler instead of opening a client of its own, which a second cluster's teardown would
    leave reconnecting to a closed scheduler (the CommClosedError noise at the end of the run).
    """

    SIZES = (1, 2, 3)

    def __init__(self):
        self.cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                                dashboard_address=":0")
        self.client = distributed.Client(self.cluster)

    def __getitem__(self, n):
        self.cluster.scale(n)
        deadline = time.monotonic() + 30
        while len(self.client.scheduler_info(n_workers=-1)["workers"]) != n:
            assert time.monotonic() < deadline, f"the cluster did not reach {n} workers"
            time.sleep(0.05)
        return self.client

    def items(self):
        return ((n, self[n]) for n in self.SIZES)

    def close(self):
        self.client.close()             # the client first: the scheduler it talks to is still up
        self.cluster.close()


@pytest.fixture(scope="module")
def clients():
    """In-process Dask workers (threads: quick to start): ``clients[n]`` has ``n`` of them."""
    w = _Workers()
    yield w
    w.close()


def test_sample_chunks_merge_to_the_statistics_of_all_their_draws():
    net, m = _tanh_net(), NeuronCrash({1: P})
    r = D.monte_carlo(net, XS, m, 5000, seed=4, chunk=1000, confidence=0.999)
    pc = 1 - (1 - P) ** 6
    n_c = int(np.ceil(5000 * pc))
    assert r.crashed_samples == n_c and abs(r.p_crash - pc) < 1e-15
    sizes = [min(1000, n_c - i) for i in range(0, n_c, 1000)]
    draws = np.concatenate([crashed_errors(net, XS, m, s, D.chunk_seed(4, i))[0] for i, s in enumerate(sizes)])
    mean_c = draws.mean(axis=0)
    se = pc * draws.std(axis=0, ddof=1) / np.sqrt(n_c)
    np.testing.assert_allclose(np.array(r.mean), pc * mean_c, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(np.array(r.standard_error), se, rtol=1e-10)
    for b, x in enumerate(XS):
        exact = _exact_mean(x)
        assert all(r.ci_low[b][k] <= exact[k] <= r.ci_high[b][k] for k in range(2))


def test_sample_one_chunk_is_the_plain_run_and_the_seeds_differ_per_chunk():
    from symft.engines.sampling import monte_carlo as plain

    net, m = _tanh_net(), NeuronCrash({1: P})
    assert D.monte_carlo(net, XS[0], m, 800, seed=2) == plain(net, XS[0], m, 800, seed=2)
    seeds = {D.chunk_seed(2, i) for i in range(1000)}
    assert len(seeds) == 1000 and all(0 <= s < 2 ** 63 for s in seeds)


def _linear_relu_net():
    rng = np.random.default_rng(5)
    return rng.normal(size=(5, 4)), rng.normal(size=(3, 5))


def _exact_accuracy(Wa, Wb, X, y, p):
    """Per-input P(class changes) and P(class = label), every crash mask of the 5 hidden relu neurons
    enumerated, probabilities in Fractions, classes the first largest float output."""
    pf = F(p)
    ch, co = [], []
    for x, lab in zip(X, y):
        h = np.maximum(Wa @ x, 0)
        c0 = int(np.argmax(Wb @ h))
        a = b = F(0)
        for mask in product((0, 1), repeat=5):
            prob = F(1)
            for mm in mask:
                prob *= pf if mm else 1 - pf
            c = int(np.argmax(Wb @ (h * (1 - np.array(mask)))))
            a += prob * (c != c0)
            b += prob * (c == lab)
        ch.append(a)
        co.append(b)
    return ch, co


def test_accuracy_in_chunks_contains_the_enumeration_and_keeps_the_top_inputs():
    Wa, Wb = _linear_relu_net()
    net = Network.from_numpy([Wa, Wb], activations="relu")
    X = np.random.default_rng(6).normal(size=(10, 4))
    y = np.arange(10) % 3
    r = D.accuracy(net, X, y, NeuronCrash({1: 0.2}), chunk=3, top=4)
    ch, co = _exact_accuracy(Wa, Wb, X, y, 0.2)
    change, acc = sum(ch) / 10, sum(co) / 10
    assert r.method == "exact" and r.n_inputs == 10 and len(r.change_each) == 10
    assert F(r.change_lo) <= change <= F(r.change_hi) and r.change_hi - r.change_lo < 1e-15
    assert F(r.accuracy_lo) <= acc <= F(r.accuracy_hi) and r.accuracy_hi - r.accuracy_lo < 1e-15
    clean = [int(np.argmax(Wb @ np.maximum(Wa @ x, 0))) for x in X]
    assert r.clean_correct == sum(int(c == lab) for c, lab in zip(clean, y))
    for c in r.per_class:
        idx = [b for b in range(10) if y[b] == c["label"]]
        assert c["count"] == len(idx)
        assert F(c["change_lo"]) <= sum(ch[b] for b in idx) / len(idx) <= F(c["change_hi"])
    order = sorted(range(10), key=lambda b: (-ch[b], b))
    if len(set(ch)) == 10:
        assert [a["index"] for a in r.at_risk] == order[:4]
    for a in r.at_risk:
        assert F(a["change_lo"]) <= ch[a["index"]] <= F(a["change_hi"])


def test_accuracy_sampled_is_one_chunk_and_the_plain_answer():
    Wa, Wb = _linear_relu_net()
    net = Network.from_numpy([Wa, Wb], activations="relu")
    X = np.random.default_rng(6).normal(size=(10, 4))
    y = np.arange(10) % 3
    kw = dict(method="statistical", n_samples=300, seed=1)
    a = D.accuracy(net, X, y, NeuronCrash({1: 0.2}), chunk=3, **kw)
    b = plain_accuracy(net, X, y, NeuronCrash({1: 0.2}), **kw)
    assert {k: v for k, v in a.as_dict().items() if k != "seconds"} == \
        {k: v for k, v in b.as_dict().items() if k != "seconds"}


def _no_seconds(d):
    if isinstance(d, dict):
        return {k: _no_seconds(v) for k, v in d.items() if k != "seconds"}
    if isinstance(d, list):
        return [_no_seconds(v) for v in d]
    return d


def test_one_two_and_three_workers_give_the_in_process_answer_bit_for_bit(clients):
    net, m = _tanh_net(), NeuronCrash({1: P})
    Wa, Wb = _linear_relu_net()
    rnet = Network.from_numpy([Wa, Wb], activations="relu")
    X = np.random.default_rng(6).normal(size=(10, 4))
    y = np.arange(10) % 3
    mc = D.monte_carlo(net, XS, m, 5000, seed=7, chunk=700, eps=0.05)
    ac = D.accuracy(rnet, X, y, NeuronCrash({1: 0.2}), chunk=3)
    sw = D.sweep(rnet, X, y, [0.01, 0.2, 0.5], chunk=4, n_samples=200)
    assert ac.method == "exact" and len(sw.points) == 3
    for n, c in clients.items():
        with D.Scheduler(c) as s:
            assert s.n_workers == n
            got = D.monte_carlo(net, XS, m, 5000, seed=7, chunk=700, eps=0.05, scheduler=s)
            assert got == mc and json.dumps(got.as_dict()) == json.dumps(mc.as_dict())
            got = D.accuracy(rnet, X, y, NeuronCrash({1: 0.2}), chunk=3, scheduler=s)
            assert _no_seconds(got.as_dict()) == _no_seconds(ac.as_dict())
            got = D.sweep(rnet, X, y, [0.01, 0.2, 0.5], chunk=4, n_samples=200, scheduler=s)
            assert _no_seconds(got.as_dict()) == _no_seconds(sw.as_dict())
    # a sweep in one chunk per point is the plain sweep
    a = D.sweep(rnet, X, y, [0.01, 0.2], n_samples=200, scheduler=clients[2])
    assert _no_seconds(a.as_dict()) == _no_seconds(plain_sweep(rnet, X, y, [0.01, 0.2], n_samples=200).as_dict())


def _flaky(marker, x):
    """Raises the first time it sees x == 2 (a marker file remembers), like a worker lost mid-chunk."""
    if x == 2 and not os.path.exists(marker):
        open(marker, "w").close()
        raise RuntimeError("worker lost")
    return x * x


def test_a_chunk_that_fails_once_is_retried_without_changing_the_answer(clients, tmp_path, monkeypatch):
    marker = str(tmp_path / "failed-once")
    assert D.Scheduler(clients[2]).map(_flaky, range(5), shared=(marker,)) == [0, 1, 4, 9, 16]
    assert os.path.exists(marker)
    # a whole Monte Carlo run with its third chunk failing once
    net, m = _tanh_net(), NeuronCrash({1: P})
    want = D.monte_carlo(net, XS, m, 5000, seed=3, chunk=1000)
    real = D._sample_chunk
    marker2 = str(tmp_path / "chunk-failed-once")

    def once(net_, x_, model_, eps_, job):
        if job[1] == D.chunk_seed(3, 2) and not os.path.exists(marker2):
            open(marker2, "w").close()
            raise RuntimeError("worker lost")
        return real(net_, x_, model_, eps_, job)

    monkeypatch.setattr(D, "_sample_chunk", once)
    got = D.monte_carlo(net, XS, m, 5000, seed=3, chunk=1000, scheduler=clients[2])
    assert os.path.exists(marker2) and got == want
    # without retries the error reaches the caller
    os.remove(marker2)
    with pytest.raises(RuntimeError, match="worker lost"):
        D.monte_carlo(net, XS, m, 5000, seed=3, chunk=1000, scheduler=D.Scheduler(clients[2], retries=0))


_RACE = {"a": threading.Event(), "b": threading.Event(), "overlap": False}


def _blas_seen(who):
    """Task "a" runs until "b" has started; "b" then watches BLAS's threads while "a" ends (the most seen)."""
    from symft.threads import current_blas_threads

    if who == "a":
        _RACE["a"].set()
        _RACE["overlap"] = _RACE["b"].wait(10)
        return current_blas_threads()
    _RACE["a"].wait(10)
    _RACE["b"].set()
    seen, t = 0, time.monotonic()
    while time.monotonic() - t < 1.0:
        seen = max(seen, current_blas_threads())
        time.sleep(0.01)
    return seen


def test_local_worker_threads_keep_one_blas_thread_while_another_task_ends():
    from threadpoolctl import threadpool_limits

    from symft.threads import current_blas_threads

    with threadpool_limits(2, user_api="blas"):
        if current_blas_threads() != 2:
            pytest.skip("this BLAS cannot run two threads")
        with D.Scheduler("local", workers=2, show_progress=False) as s:
            seen = s.map(_blas_seen, ["a", "b"])
        assert _RACE["overlap"], "the two tasks must run at the same time"
        assert seen == [1, 1]                       # each task's own limit undone used to give "b" 2 threads
        assert current_blas_threads() == 2          # the caller's setting is back after close


def _worker_settings():
    import dask

    return (dask.config.get("distributed.worker.profile.enabled"), os.environ.get("MALLOC_TRIM_THRESHOLD_"),
            os.environ.get("MALLOC_MMAP_THRESHOLD_"), dask.config.get("distributed.admin.tick.interval"))


@pytest.mark.slow
def test_a_killed_worker_process_does_not_change_the_answer():
    net = Network.from_numpy([np.random.default_rng(0).normal(size=(64, 32)),
                              np.random.default_rng(1).normal(size=(10, 64))], activations="tanh")
    x = np.random.default_rng(2).normal(size=(16, 32))
    m = NeuronCrash({1: 0.05})
    want = D.monte_carlo(net, x, m, 400_000, seed=5, chunk=4096)
    with D.Scheduler("processes", workers=2) as s:
        # the local cluster's settings reached the worker processes: no profiler, glibc's thresholds keeping
        # freed memory (not Dask's 65536, which pages every freed array back in afresh), the slower routine checks
        seen = s.client.run(_worker_settings)
        assert list(seen.values()) == [(False, str(64 * 2 ** 20), str(32 * 2 ** 20), "500ms")] * 2
        pids = list(s.client.run(os.getpid).values())
        killed = []

        def kill():
            time.sleep(1.0)
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])

        t = threading.Thread(target=kill)
        t0 = time.perf_counter()
        t.start()
        got = D.monte_carlo(net, x, m, 400_000, seed=5, chunk=4096, scheduler=s)
        elapsed = time.perf_counter() - t0
        t.join()
    assert killed and elapsed > 1.5, "the worker must die while the run is under way"
    assert got == want


def test_cli_sample_on_worker_processes_prints_the_in_process_json(capsys, tmp_path):
    p = tmp_path / "net.json"
    p.write_text(json.dumps({"format": "symft.network", "version": 1, "layers": [
        {"weights": W1.tolist(), "bias": B1.tolist(), "activation": "tanh"},
        {"weights": W2.tolist(), "bias": B2.tolist(), "activation": "linear"}]}))
    args = ["sample", p, "--input", "0.5,-1,2", "--p", f"1:{P}", "--samples", "40000", "--seed", "9",
            "--eps", "0.1"]
    a = run_json(capsys, *args)
    assert a["crashed_samples"] > D.SAMPLE_CHUNK                # more than one chunk
    b = run_json(capsys, *args, "--scheduler", "processes", "--workers", "2")
    assert a.pop("settings")["scheduler"] is None and b.pop("settings")["workers"] == 2
    assert a == b
    exact = _exact_mean(np.array([0.5, -1.0, 2.0]))
    assert all(lo - 1e-3 <= e <= hi + 1e-3 for lo, e, hi in zip(a["mean_lo"], exact, a["mean_hi"]))


def test_cli_scheduler_errors_are_one_line(capsys, tmp_path, monkeypatch):
    p = tmp_path / "net.json"
    p.write_text(json.dumps({"format": "symft.network", "version": 1,
                             "layers": [{"weights": W1.tolist(), "activation": "tanh"},
                                        {"weights": W2.tolist(), "activation": "linear"}]}))
    base = ["sample", p, "--input", "0.5,-1,2", "--p", "1:0.1", "--seed", "1", "--samples", "100"]
    monkeypatch.setattr(D, "CONNECT_TIMEOUT", 1)
    assert_one_line_error(*run(capsys, *base, "--scheduler", "tcp://127.0.0.1:9"), "--scheduler",
                          "cannot reach a Dask scheduler", "127.0.0.1:9")
    assert_one_line_error(*run(capsys, *base, "--scheduler", "nowhere"), "--scheduler", "HOST:PORT")
    for bad in ("tcp://localhost:notaport", "tcp://localhost:0", "localhost:70000"):   # no Python text about int()
        code, out, err = run(capsys, *base, "--scheduler", bad)
        assert_one_line_error(code, out, err, "--scheduler", "HOST:PORT")
        assert "ValueError" not in err and "int()" not in err
    assert_one_line_error(*run(capsys, *base, "--workers", "2"), "--workers", "--scheduler local")
    monkeypatch.setitem(__import__("sys").modules, "distributed", None)
    assert_one_line_error(*run(capsys, *base, "--scheduler", "local"), "--scheduler", "symft[distributed]")


def _outputs(net, x):
    return net.n_outputs + 0 * len(x)


def test_a_network_whose_activations_have_cached_views_travels_to_the_workers(clients):
    from symft.graph.activations import get_activation

    _ = get_activation("tanh").mp_fn          # a cached mpmath function: it does not pickle, it must not travel
    assert D.Scheduler(clients[2]).map(_outputs, [[1], [1, 2]], shared=(_tanh_net(),)) == [2, 2]


def test_progress_counts_chunks_done_on_any_worker_and_is_silent_when_asked(clients, capsys):
    s = D.Scheduler(clients[2], show_progress=True)
    assert s.map(_outputs, [[1]] * 3, shared=(_tanh_net(),), label="demo") == [2, 2, 2]
    err = capsys.readouterr().err
    assert "demo" in err and "/3 [" in err          # a bar over the 3 chunks
    s = D.Scheduler(clients[2], show_progress=False)
    assert s.map(_outputs, [[1]] * 3, shared=(_tanh_net(),), label="demo") == [2, 2, 2]
    assert capsys.readouterr().err == ""


def test_sample_scheduler_selects_the_plain_sampler_and_the_stratified_one_refuses_it(capsys, tmp_path):
    # the stratified sampler runs in one process: --scheduler picks the plain sampler unless a loss asks
    # for the stratified one, which then refuses --scheduler in one line
    p = tmp_path / "net.json"
    p.write_text(json.dumps({"format": "symft.network", "version": 1,
                             "layers": [{"weights": W1.tolist(), "activation": "tanh"},
                                        {"weights": W2.tolist(), "activation": "linear"}]}))
    base = ["sample", p, "--input", "0.5,-1,2", "--p", "1:0.1", "--seed", "1", "--samples", "200"]
    code, out, err = run(capsys, *base, "--scheduler", "local", "--workers", "1", "--json")
    assert code == 0, err
    d = json.loads(out)
    code, out, err = run(capsys, *base, "--method", "plain", "--json")
    assert code == 0, err
    plain = json.loads(out)
    assert d["mean"] == plain["mean"] and d["mean_lo"] == plain["mean_lo"] and "var" in d
    assert_one_line_error(*run(capsys, *base, "--scheduler", "local", "--loss", "zero_one", "--target", "0"),
                          "--scheduler", "--method plain")


def test_sampled_points_hand_their_pieces_to_the_cluster_and_keep_the_plain_answer(clients):
    Wa, Wb = _linear_relu_net()
    rnet = Network.from_numpy([Wa, Wb], activations="relu")
    X = np.random.default_rng(8).normal(size=(9, 4))
    y = np.arange(9) % 3
    probs = [0.05, 0.3]
    want = plain_sweep(rnet, X, y, probs, method="statistical", n_samples=400)
    with distributed.get_task_stream(clients[2]) as ts:
        got = D.sweep(rnet, X, y, probs, method="statistical", n_samples=400, scheduler=clients[2])
    assert _no_seconds(got.as_dict()) == _no_seconds(want.as_dict())
    assert {pt["method"] for pt in got.points} == {"statistical"} == {pt["abs_method"] for pt in got.points}
    pieces = [t for t in ts.data if "symft-piece" in str(t["key"])]
    # per point: blocks of draws and Clopper–Pearson limits (accuracy, at two levels), blocks of draws (E|Δ|)
    assert len(pieces) >= 2 * 4
    m = NeuronCrash({1: 0.3})
    a = D.accuracy(rnet, X, y, m, method="statistical", n_samples=400, scheduler=clients[2])
    assert _no_seconds(a.as_dict()) == _no_seconds(plain_accuracy(rnet, X, y, m, method="statistical",
                                                                  n_samples=400).as_dict())


def test_certify_over_a_dataset_on_the_cluster_is_the_in_process_certificate(clients, capsys, tmp_path):
    from symft.analysis.certify import certify
    from symft.analysis.dataset_certify import dataset_certificate as plain_certificate
    from symft.engines.moments import float_up

    net = _tanh_net()
    X = np.random.default_rng(4).normal(size=(19, 3))
    m = NeuronCrash({1: 0.05})
    want = plain_certificate(net, X, m, 0.5, 0.3, source="enclosure", top=4)
    # the aggregate is the exact mean of the per-input bounds, rounded up once
    per = [certify(net, x, m, 0.5, 0.3, source="enclosure").per_output for x in X]
    hi = max(sum((F(po[k][4]) for po in per), F(0)) / len(X) for k in range(2))
    assert want.bound_hi == float_up(hi)
    for n in (1, 2):
        got = D.dataset_certificate(net, X, m, 0.5, 0.3, source="enclosure", top=4, scheduler=clients[n])
        assert _no_seconds(got.as_dict()) == _no_seconds(want.as_dict())
    st = dict(source="statistical", samples=400, seed=3)
    assert (_no_seconds(D.dataset_certificate(net, X[:5], m, 0.5, 0.3, scheduler=clients[2], **st).as_dict())
            == _no_seconds(plain_certificate(net, X[:5], m, 0.5, 0.3, **st).as_dict()))
    # the command: the same JSON in-process and on two workers; one input refuses --scheduler in one line
    path = tmp_path / "net.json"
    from symft.graph.netfile import save_network
    save_network(net, path)
    np.savez(tmp_path / "d.npz", X=X, y=np.zeros(len(X), int))
    args = ("certify", path, "--data", tmp_path / "d.npz", "--p", "1:0.05", "--eps", "0.5", "--delta", "0.3",
            "--source", "enclosure")
    a = run_json(capsys, *args)
    b = run_json(capsys, *args, "--scheduler", "local", "--workers", "2")
    assert a.pop("settings")["scheduler"] is None and b.pop("settings")["workers"] == 2
    assert _no_seconds(a) == _no_seconds(b) and a["bound_hi"] == want.bound_hi
    np.save(tmp_path / "x.npy", X[0])
    assert_one_line_error(*run(capsys, "certify", path, "--input", f"@{tmp_path / 'x.npy'}", "--p", "1:0.05",
                               "--eps", "0.5", "--delta", "0.3", "--scheduler", "local"), "--scheduler")


def test_enumeration_in_blocks_of_configurations_is_the_in_process_enumeration(clients, capsys, tmp_path):
    from symft.engines.enumeration import enumerate_crashes as plain_enumerate
    from symft.engines.enumeration import exact_blocks
    from symft.graph.netfile import save_network

    rng = np.random.default_rng(12)
    net = Network.from_numpy([rng.normal(size=(7, 3)), rng.normal(size=(4, 7)), rng.normal(size=(2, 4))],
                             activations=["relu", "relu", "linear"])
    X = rng.normal(size=(2, 3))
    m = NeuronCrash({1: F(1, 5), 2: F(1, 3)})
    assert len(exact_blocks(net, ["1", "2"])) == 16
    want = plain_enumerate(net, X, m, exact=True)
    wantf = plain_enumerate(net, X, NeuronCrash({1: 0.2, 2: 0.3}), exact=False)
    assert want.exact and want.configurations == 2 ** 11
    for n in (1, 2):
        got = D.enumerate_crashes(net, X, m, exact=True, scheduler=clients[n])
        for key in ("mean", "var", "cov"):
            assert np.array_equal(getattr(got, key), getattr(want, key))
        gotf = D.enumerate_crashes(net, X, NeuronCrash({1: 0.2, 2: 0.3}), exact=False, scheduler=clients[n])
        assert not gotf.exact and np.array_equal(gotf.mean, wantf.mean) and np.array_equal(gotf.cov, wantf.cov)
    path = tmp_path / "net.json"
    save_network(net, path)
    np.save(tmp_path / "x.npy", X)
    args = ("exact", path, "--input", f"@{tmp_path / 'x.npy'}", "--p", "1:1/5,2:1/3", "--exact")
    a = run_json(capsys, *args)
    b = run_json(capsys, *args, "--scheduler", "local", "--workers", "2")
    assert a.pop("settings")["scheduler"] is None and b.pop("settings")["workers"] == 2
    assert _no_seconds(a) == _no_seconds(b) and a["method"] == "enumeration"
    assert_one_line_error(*run(capsys, *args, "--order", "2", "--scheduler", "local"), "--scheduler")


def _enumerate_one(net, model, x):
    from symft.engines.enumeration import enumerate_crashes

    return enumerate_crashes(net, x, model).mean.tolist()


def _limit_here(_):
    from symft import cost

    return cost.current_limit()


def _limit_in_pieces(n):
    return D.cluster_runner(_limit_here, range(n))


def test_workers_apply_the_callers_time_limit_and_refuse_with_the_same_line(clients):
    from symft import cost
    from symft.errors import TooLargeError

    net, m = _tanh_net(), NeuronCrash({1: P})
    with cost.time_limit(1e-9, "--max-time SECONDS"):
        with pytest.raises(TooLargeError) as here:
            _enumerate_one(net, m, XS[0])
        with pytest.raises(TooLargeError) as there:
            D.Scheduler(clients[2], retries=0).map(_enumerate_one, [XS[0]], shared=(net, m))
    assert str(there.value) == str(here.value) and "--max-time SECONDS" in str(here.value)
    assert "\n" not in str(there.value)
    # the limit every task and every piece a task hands out sees: the caller's, or the library's without one
    s = D.Scheduler(clients[2])
    with cost.time_limit(7.5, "--max-time SECONDS"):
        assert s.map(_limit_here, [0, 1, 2]) == [(7.5, "--max-time SECONDS")] * 3
        assert s.map(_limit_in_pieces, [2]) == [[(7.5, "--max-time SECONDS")] * 2]
    assert s.map(_limit_here, [0]) == [(cost.LIBRARY_MAX_TIME, "max_time=SECONDS")]
    with cost.time_limit(float("inf")):
        assert s.map(_limit_here, [0]) == [(float("inf"), "max_time=SECONDS")]


def test_a_sweep_on_workers_chooses_its_orders_within_the_callers_limit(clients):
    from symft import cost

    rng = np.random.default_rng(5)
    net = Network.from_numpy([rng.normal(size=(24, 4)), rng.normal(size=(3, 24))], activations="relu")
    X = np.random.default_rng(6).normal(size=(10, 4))
    y = np.arange(10) % 3
    free = plain_sweep(net, X, y, [0.01], n_samples=200)
    with cost.time_limit(0.05):
        want = plain_sweep(net, X, y, [0.01], n_samples=200)
        got = D.sweep(net, X, y, [0.01], n_samples=200, scheduler=clients[2])
        chunked = D.sweep(net, X, y, [0.01], n_samples=200, chunk=4, scheduler=clients[2])
        chunked_here = D.sweep(net, X, y, [0.01], n_samples=200, chunk=4)
    # the limit's share per part (0.05 / 2 s) gives lower orders than the library's hour
    assert want.points[0]["abs_order"] < free.points[0]["abs_order"]
    assert _no_seconds(got.as_dict()) == _no_seconds(want.as_dict())
    assert _no_seconds(chunked.as_dict()) == _no_seconds(chunked_here.as_dict())


_SPAWN_KEYS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MALLOC_TRIM_THRESHOLD_",
               "MALLOC_MMAP_THRESHOLD_", "PYTHONHASHSEED")


def _environ_here(keys):
    return {k: os.environ.get(k) for k in keys}


def test_worker_processes_leave_this_process_environment_as_it_was(monkeypatch):
    from symft import cost

    for k in _SPAWN_KEYS:
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")                 # one set by the user, which Dask keeps too
    before = _environ_here(_SPAWN_KEYS)
    with D.Scheduler("processes", workers=1, show_progress=False) as s:
        assert _environ_here(_SPAWN_KEYS) == before             # Dask's nanny wrote them here; taken back
        (seen,) = s.client.run(_environ_here, _SPAWN_KEYS).values()
        # the worker process still got the nanny's variables (glibc's thresholds: LOCAL_CONFIG's, not Dask's)
        assert seen["OMP_NUM_THREADS"] == "3" and seen["OPENBLAS_NUM_THREADS"] == "1"
        assert seen["PYTHONHASHSEED"] is not None
        assert (seen["MALLOC_TRIM_THRESHOLD_"], seen["MALLOC_MMAP_THRESHOLD_"]) == (str(64 * 2 ** 20), str(32 * 2 ** 20))
        # and a worker process applies the caller's time limit too
        with cost.time_limit(2.5, "--max-time SECONDS"):
            assert s.map(_limit_here, [0, 1]) == [(2.5, "--max-time SECONDS")] * 2
        assert _environ_here(_SPAWN_KEYS) == before
    assert _environ_here(_SPAWN_KEYS) == before


def test_a_scheduler_at_an_address_notes_workers_that_run_the_profiler(clients, recwarn):
    import dask

    address = clients[2].scheduler.address
    kept = {"MALLOC_TRIM_THRESHOLD_": str(64 * 2 ** 20), "MALLOC_MMAP_THRESHOLD_": str(32 * 2 ** 20)}
    # in-process workers: this process's configuration and variables are theirs
    with dask.config.set({"distributed.worker.profile.enabled": True}), mock.patch.dict(os.environ, kept):
        with pytest.warns(D.WorkerSettingsNote, match=r"2 of 2 Dask workers at .* run with Dask's profiler on, "):
            D.Scheduler(address).close()
    with dask.config.set({"distributed.worker.profile.enabled": False}):
        with mock.patch.dict(os.environ, dict(kept, MALLOC_TRIM_THRESHOLD_="65536")):
            with pytest.warns(D.WorkerSettingsNote, match="run with memory handed back to the system"):
                D.Scheduler(address).close()
        with mock.patch.dict(os.environ, kept):
            recwarn.clear()
            D.Scheduler(address).close()
            assert not [w for w in recwarn if issubclass(w.category, D.WorkerSettingsNote)]


def test_the_worker_configuration_file_of_the_docs_sets_the_local_clusters_settings():
    import pathlib
    import re

    yaml = pytest.importorskip("yaml")
    text = (pathlib.Path(__file__).parents[1] / "docs" / "cluster.rst").read_text(encoding="utf-8")
    block = re.search(r"\.\. code-block:: yaml\n\n(.*?)\n\n", text, re.S).group(1)
    flat = {}

    def walk(d, prefix):
        for k, v in d.items():
            if isinstance(v, dict):
                walk(v, f"{prefix}{k}.")
            else:
                flat[f"{prefix}{k}"] = v

    walk(yaml.safe_load(block), "")
    assert flat == D.LOCAL_CONFIG


def test_a_local_cluster_does_not_claim_the_dashboard_port():
    # with port 8787 taken (another cluster, a notebook's dashboard), starting one warns nothing about it
    import socket
    import warnings

    sock = socket.socket()
    try:
        sock.bind(("127.0.0.1", 8787))
        sock.listen(1)
    except OSError:
        pass                              # taken already: the same situation
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with D.Scheduler("local", workers=1, show_progress=False) as s:
                assert s.map(abs, [-1, 2], label="abs") == [1, 2]
        assert not [w for w in caught if "8787" in str(w.message)], [str(w.message) for w in caught]
    finally:
        sock.close()
