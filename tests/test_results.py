"""What every result offers: ``to_dict``/``to_json`` (JSON numbers, exact values under ``<key>_exact``), reprs of
at most 20 lines, LaTeX for symbolic results and HTML tables; progress bars; no global matplotlib state."""

import dataclasses
import json
import math
import os
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

import symft
from symft.results import MAX_REPR_LINES, plain_dict


def test_exact_values_go_to_key_exact_as_strings():
    r = symft.worst_case(symft.mean_network(3), [1, 2, 3], max_crashes=1)
    d = r.to_dict()
    assert d["delta"] == [-1] and d["worst_delta"] == 1 and d["crash_set"] == [[0, 2]]
    m = symft.moments(symft.mean_network(2), [1, 1], {0: "1/3"}, "rational").to_dict()
    assert m["mean_hi_exact"] == ["-1/3"] and m["var_hi_exact"] == ["1/9"]
    assert m["mean_hi"] == [float(Fraction(-1, 3))] and isinstance(m["var_hi"][0], float)
    assert json.loads(json.dumps(m, allow_nan=False))["label"] == "exact"     # a property, kept too


def test_plain_dict_on_numbers_of_every_kind():
    d = plain_dict({"a": sp.Rational(1, 3), "b": np.array([np.inf, -np.inf, np.nan]), "c": sp.sqrt(2),
                    "d": [[Fraction(1, 2), 2], [0.5, 1]], "e": sp.Symbol("p") + 1, "f": np.int64(4), "g": True})
    assert d["a"] == 1 / 3 and d["a_exact"] == "1/3"
    assert d["b"] == ["inf", "-inf", "nan"] and "b_exact" not in d
    assert math.isclose(d["c"], 2 ** 0.5) and d["c_exact"] == "sqrt(2)"
    assert d["d"] == [[0.5, 2], [0.5, 1]] and d["d_exact"] == [["1/2", "2"], [None, "1"]]   # a float is its own value
    assert d["e"] is None and d["e_exact"] == "p + 1"
    assert d["f"] == 4 and d["g"] is True
    json.dumps(d, allow_nan=False)      # no NaN/Infinity tokens


def _results():
    net = symft.random_network([6, 40, 30, 5], seed=0)     # wide enough that a full repr would be long
    x = np.linspace(-1, 1, 6)
    exact_net = symft.mean_network(3)
    X = np.random.default_rng(0).normal(size=(30, 6))
    return {
        "exact": symft.exact(exact_net, [1, 2, 3], {0: "1/10"}),
        "sample": symft.sample(net, x, 0.01, samples=500, seed=0),
        "sample plain": symft.sample(net, x, 0.01, samples=500, seed=0, method="plain"),
        "certify": symft.certify(net, x, {1: 1e-3}, eps=0.5, delta=0.05),
        "check": symft.check(symft.random_network([2, 3, 1], seed=0), [0.5, -1.0], 0.01, samples=500, seed=0),
        "worst_case": symft.worst_case(exact_net, [1, 2, 3], max_crashes=1),
        "accuracy": symft.accuracy(net, X, np.zeros(30, int), 0.01, samples=100, seed=0, method="statistical"),
        "moments": symft.moments(net, x, {1: 1e-3}, "taylor"),
    }


@pytest.fixture(scope="module")
def results():
    return _results()


@pytest.mark.parametrize("name", ["exact", "sample", "sample plain", "certify", "check", "worst_case", "accuracy",
                                  "moments"])
def test_every_result_is_short_and_serialisable(results, name):
    r = results[name]
    text = repr(r)
    assert len(text.splitlines()) <= MAX_REPR_LINES, text
    assert len(text) < 4000
    d = r.to_dict()
    assert isinstance(d, dict) and d
    json.dumps(d, allow_nan=False)                    # JSON numbers only: no NaN/Infinity tokens
    assert isinstance(json.loads(r.to_json()), dict)
    assert (r._repr_html_() or "").startswith("<table>") or r._repr_latex_().startswith("$")


def test_the_short_repr_cuts_a_long_result():
    # without the cut this repr runs to thousands of characters
    from symft.results import short_repr
    from dataclasses import dataclass

    @dataclass
    class Long:
        values: np.ndarray
        names: tuple

    text = short_repr(Long(np.arange(10_000.0), tuple(f"n{i}" for i in range(500))))
    assert len(text) < 400 and "494 more" in text and "..." in text


def test_symbolic_results_show_latex_and_tables_show_html():
    from symft.engines.enumeration import mean_polynomial

    exact = symft.exact(symft.mean_network(2), [1, 1], {0: "1/3"})
    assert exact._repr_latex_() == ("$\\displaystyle \\begin{aligned}\\mathbb{E}\\,\\Delta_{0} &= - \\frac{1}{3} "
                                    "\\\\ \\operatorname{Var}\\Delta_{0} &= \\frac{1}{9}\\end{aligned}$")
    assert exact._repr_html_() is None            # the notebook shows the LaTeX, not the table
    poly = mean_polynomial(symft.mean_network(3), [1, 1, 1], 0, moment=2)
    assert poly.exprs[0] == sp.Rational(2, 3) * sp.Symbol("p") ** 2 + sp.Symbol("p") / 3
    assert poly._repr_latex_() == "$\\displaystyle \\begin{aligned}\\mathbb{E}\\,\\Delta_{0}^{2} &= " + \
        sp.latex(poly.exprs[0]) + "\\end{aligned}$"
    floats = symft.exact(symft.random_network([2, 3, 1], seed=0), [0.5, -1.0], 0.1, arithmetic=False)
    assert floats._repr_latex_() is None and "<table>" in floats._repr_html_()


def test_progress_is_off_without_a_terminal_and_uses_tqdm_when_asked(capsys):
    net, x = symft.random_network([2, 8, 1], seed=0), [1.0, 1.0]
    symft.exact(net, x, {1: 0.1})                  # stderr is not a terminal under pytest: no bar
    assert capsys.readouterr().err == ""
    symft.exact(net, x, {1: 0.1}, progress=True)
    err = capsys.readouterr().err
    assert "enumerating crash configurations" in err and "256/256" in err    # tqdm's count of 2^8


def test_a_figure_leaves_matplotlib_state_alone():
    import subprocess
    import sys

    code = ("import matplotlib, sys; before = dict(matplotlib.rcParams); backend = matplotlib.get_backend()\n"
            "import os, tempfile, symft\n"
            "from symft.analysis.report import compare\n"
            "r = compare(symft.mean_network(2), [[1, 1], [1, 2]], symft.NeuronCrash({0: 0.1}), samples=100, seed=0)\n"
            "r.figure(os.path.join(tempfile.mkdtemp(), 'f.png'))\n"
            "print(dict(matplotlib.rcParams) == before and matplotlib.get_backend() == backend)")
    env = dict(os.environ, MPLBACKEND="svg")      # not Agg, so that switching to Agg would show
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    assert out.strip() == "True"


def test_engine_results_are_short_and_serialisable_too():
    from symft.engines.enclosure import enclosure
    from symft.engines.enumeration import error_distribution
    from symft.engines.taylor import t1

    net, x, m = symft.random_network([6, 12, 10, 5], seed=0), np.linspace(-1, 1, 6), symft.NeuronCrash({1: 0.1})
    for r in (error_distribution(net, x, m), enclosure(net, x, m, order=1), t1(net, x, {1: 0.1})):
        assert len(repr(r).splitlines()) <= MAX_REPR_LINES
        d = json.loads(r.to_json())
        assert set(d) >= {f.name for f in dataclasses.fields(r) if f.repr}     # every field is kept
