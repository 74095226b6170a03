"""The notebook API: the verbs of ``import symft`` and their keywords."""

import inspect

import numpy as np
import pytest

import symft

VERBS = ("exact", "sample", "certify", "check", "worst_case", "accuracy", "load_network", "from_torch")


def test_the_verbs_are_attributes_and_listed():
    for verb in VERBS:
        assert callable(getattr(symft, verb)), verb
        assert verb in dir(symft) and verb in symft.__all__
    with pytest.raises(AttributeError, match="no attribute 'exactly'"):
        symft.exactly


def test_the_keywords_are_the_same_across_the_verbs():
    # no engine-specific spellings leak out: samples (not n_samples), progress (not show_progress)
    for verb in ("exact", "sample", "certify", "check", "accuracy"):
        params = inspect.signature(getattr(symft, verb)).parameters
        assert "model" in params, verb
        assert not {"n_samples", "show_progress", "n_draws"} & set(params), verb
    for verb in ("sample", "certify", "check", "accuracy"):
        params = inspect.signature(getattr(symft, verb)).parameters
        assert {"samples", "seed"} <= set(params), verb
    for verb in ("exact", "sample"):
        assert "progress" in inspect.signature(getattr(symft, verb)).parameters


def test_the_verbs_answer_what_the_engines_answer():
    from symft.engines.enumeration import enumerate_crashes
    from symft.engines.sampling import monte_carlo

    net = symft.random_network([3, 4, 2], seed=3)
    x = [0.25, -0.5, 1.0]
    model = symft.NeuronCrash({1: 0.1})
    a, b = symft.exact(net, x, {1: 0.1}), enumerate_crashes(net, x, model)
    assert np.array_equal(a.mean, b.mean) and np.array_equal(a.var, b.var)
    s = symft.sample(net, x, model, samples=300, seed=7, method="plain")
    t = monte_carlo(net, x, model, 300, 7)
    assert np.array_equal(s.mean, t.mean) and s.samples == 300 and s.seed == 7
    with pytest.raises(symft.InvalidArgument, match="method: expected 'stratified' or 'plain'"):
        symft.sample(net, x, model, method="fast")
