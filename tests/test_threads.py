"""The BLAS thread policy (symft.threads): one thread inside the engines' loops unless the user says otherwise."""

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import symft.engines.forward as fwd
from symft.errors import InvalidArgument
from symft.graph.network import mean_network
from symft.threads import ENV_VAR, blas_threads, current_blas_threads

pytestmark = pytest.mark.skipif(not any(d.get("user_api") == "blas" for d in threadpool_info()),
                                reason="no BLAS library loaded")


def blas():
    return max(d["num_threads"] for d in threadpool_info() if d["user_api"] == "blas")


@pytest.fixture
def two_threads(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    with threadpool_limits(2, user_api="blas"):
        yield


def test_default_is_one_thread_and_restored(two_threads):
    with blas_threads():
        assert blas() == 1
    assert blas() == 2


def test_engine_runs_single_threaded(two_threads, monkeypatch):
    seen = []
    walk = fwd.walk

    def spy(*a, **k):
        seen.append(blas())
        return walk(*a, **k)

    monkeypatch.setattr(fwd, "walk", spy)
    net = mean_network(3)
    out = fwd.forward_masked(net, np.ones(3), {0: np.array([[True, False, False]])})
    assert seen and set(seen) == {1}
    assert blas() == 2
    assert out[0, 0] == pytest.approx(2 / 3)


def test_outer_block_wins(two_threads, monkeypatch):
    seen = []
    walk = fwd.walk
    monkeypatch.setattr(fwd, "walk", lambda *a, **k: (seen.append(blas()), walk(*a, **k))[1])
    with blas_threads(0):                    # leave BLAS as it is
        fwd.forward_masked(mean_network(2), np.ones(2), {0: np.array([[True, False]])})
    assert set(seen) == {2}


@pytest.mark.parametrize("value, expected", [("none", 2), ("0", 2), ("2", 2), ("1", 1)])
def test_environment_override(two_threads, monkeypatch, value, expected):
    monkeypatch.setenv(ENV_VAR, value)
    with blas_threads():
        assert blas() == expected
    assert current_blas_threads() == 2


@pytest.mark.parametrize("value", ["two", "-1", "1.5"])
def test_bad_environment_is_a_one_line_error(two_threads, monkeypatch, value):
    monkeypatch.setenv(ENV_VAR, value)
    with pytest.raises(InvalidArgument, match=ENV_VAR):
        with blas_threads():
            pass


@pytest.mark.parametrize("value", [-1, 1.5, True, "2"])
def test_bad_argument(value):
    with pytest.raises(InvalidArgument, match="threads"):
        with blas_threads(value):
            pass
