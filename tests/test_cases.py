"""Every case of tests/cases.py against symft.engines.forward: float, exact, errors, batched."""

import numpy as np
import pytest
import sympy as sp

from symft.faults import CrashPattern
from symft.engines.forward import forward, forward_masked, forward_patterns, output_error

from tests.cases import ALL_CASES, CASES, CASES_BY_NAME, SMOOTH_CASES

ids = lambda c: c.name  # noqa: E731


def _close(actual, expected, tol=1e-12):
    actual = np.asarray(actual, dtype=float)
    expected = np.array([float(v) for v in expected])
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol)


def test_table_shape():
    assert len(CASES) >= 8 and len(SMOOTH_CASES) >= 3
    assert set(CASES_BY_NAME) == {c.name for c in ALL_CASES}
    for c in CASES:
        assert c.expected_exact
        for v in c.expected_output + c.expected_crashed_output:
            assert isinstance(v, sp.Rational), (c.name, v)
        assert len(c.x) == c.net.n_inputs
        assert len(c.expected_output) == c.net.n_outputs
        c.pattern.check(c.net)


@pytest.mark.parametrize("case", ALL_CASES, ids=ids)
def test_forward_float(case):
    net, x = case.net, np.array(case.x_float)
    _close(forward(net, x), case.expected_output)
    _close(forward(net, x, case.pattern, semantics=case.semantics), case.expected_crashed_output)
    # batch form: shape (B, n_L)
    out = forward(net, np.stack([x, x]), case.pattern, semantics=case.semantics)
    assert out.shape == (2, net.n_outputs)
    _close(out[1], case.expected_crashed_output)


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_forward_exact(case):
    net = case.net
    clean = forward(net, list(case.x), exact=True)
    faulty = forward(net, list(case.x), case.pattern, semantics=case.semantics, exact=True)
    assert clean.dtype == object and faulty.dtype == object
    assert tuple(clean) == case.expected_output
    assert tuple(faulty) == case.expected_crashed_output
    assert all(isinstance(v, sp.Rational) for v in list(clean) + list(faulty))


@pytest.mark.parametrize("case", SMOOTH_CASES, ids=ids)
def test_forward_exact_smooth(case):
    # exact mode gives closed forms (tanh(…), exp(…)); their values match the formulas
    faulty = forward(case.net, list(case.x), case.pattern, semantics=case.semantics, exact=True)
    _close([float(sp.N(v, 30)) for v in faulty], case.expected_crashed_output)


@pytest.mark.parametrize("case", ALL_CASES, ids=ids)
def test_output_error(case):
    net = case.net
    err = output_error(net, np.array(case.x_float), case.pattern, semantics=case.semantics)
    _close(err, case.expected_error, tol=1e-11)
    if case.expected_exact:
        err = output_error(net, list(case.x), case.pattern, semantics=case.semantics, exact=True)
        assert tuple(err) == case.expected_error


def _fits(pattern, net):
    try:
        pattern.check(net)
        return True
    except ValueError:
        return False


@pytest.mark.parametrize("case", ALL_CASES, ids=ids)
def test_batched_patterns(case):
    """All the table's patterns that fit this net at once == one forward per pattern."""
    net = case.net
    pats = [CrashPattern()] + [c.pattern for c in ALL_CASES if _fits(c.pattern, net)]
    # and every single-neuron crash of every layer
    pats += [CrashPattern([(l, i)]) for l in range(net.depth + 1) for i in range(net.widths[l])]
    x2 = np.array(case.x_float) * 0.5 - 0.25
    X = np.stack([np.array(case.x_float), x2])
    got = forward_patterns(net, X, pats, semantics=case.semantics)
    assert got.shape == (len(pats), 2, net.n_outputs)
    for k, p in enumerate(pats):
        want = forward(net, X, p, semantics=case.semantics)
        np.testing.assert_allclose(got[k], want, rtol=1e-13, atol=1e-13)
    # the case's own pattern gives the hand-derived answer inside the batch
    k = pats.index(case.pattern)
    _close(got[k, 0], case.expected_crashed_output)
    _close(got[0, 0], case.expected_output)

    # forward_masked with masks built by hand (not via patterns_to_masks)
    masks = {l: np.zeros((len(pats), net.widths[l]), dtype=bool) for l in range(net.depth + 1)}
    for k, p in enumerate(pats):
        for l, i in p.neurons:
            masks[l][k, i] = True
    got2 = forward_masked(net, X, masks, semantics=case.semantics)
    np.testing.assert_allclose(got2, got, rtol=1e-13, atol=1e-13)
    # 1-D input gives (P, n_L)
    got1 = forward_masked(net, np.array(case.x_float), masks, semantics=case.semantics)
    assert got1.shape == (len(pats), net.n_outputs)
    _close(got1[pats.index(case.pattern)], case.expected_crashed_output)


def test_cases_sharing_a_net_batched_together():
    """Cases on the same network and semantics evaluated in one forward_patterns call."""
    groups = {}
    for c in ALL_CASES:
        groups.setdefault((c.net_factory, c.x, c.semantics), []).append(c)
    assert any(len(g) > 1 for g in groups.values())
    for (_, x, sem), cs in groups.items():
        out = forward_patterns(cs[0].net, np.array([float(v) for v in x]), [c.pattern for c in cs],
                               semantics=sem)
        for k, c in enumerate(cs):
            _close(out[k], c.expected_crashed_output)
