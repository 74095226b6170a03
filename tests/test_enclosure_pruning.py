"""Pruning the enclosure's enumeration (symft.engines.pruning): every pruned block's bounds hold.

Each block's three bounds (first order, pairwise, second moment) are checked against an independent brute
force (Fractions, then 60-digit mpmath after a smooth activation; tests/test_label_exact_enclosure.py) on the
adversarial nets of that file — weights from 1e-8 to 1e6, cancelling rows, kinks, p up to 1/2 — for every
count vector, every ranked site and every cut.  Mutants (a block that under-counts its configurations, a
Geometry that forgets the float error) are caught by the same check, and enclosures that prune stay sound,
reach the requested width and evaluate fewer configurations.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symft.engines.enclosure import _bounds, enclosure
from symft.engines.enumeration import enumerate_crashes
from symft.engines.forward import output_error
from symft.engines.pruning import Block, Geometry, comb, plan_budget, plan_room
from symft.faults import CrashPattern, NeuronCrash
from symft.graph.network import Network, random_network
from symft.problem import make_problem

from .test_label_exact_enclosure import MP, PL_NAMES, SMOOTH_NAMES, _case, _model, _mpf, _network


def _geometry(net, x, model, tail="best"):
    pb = make_problem(net, x, model)
    layers = list(model.layers)
    bd = _bounds(net, dict(pb.clean.values), pb.model, 12)
    sizes = [net.site_size(l) for l in layers]
    if not all(np.all(np.isfinite(bd.c[l])) for l in layers):
        return None, sizes, layers
    geo = Geometry(sizes, {g: bd.c[l] for g, l in enumerate(layers)}, bd.pair if tail == "best" else None,
                   bd.eps, range(len(layers)))
    d = {}
    for g, l in enumerate(layers):
        rows = [np.asarray(output_error(net, x, CrashPattern([(l, i)]), semantics=model.semantics),
                           dtype=float).reshape(-1) for i in range(sizes[g])]
        d[g] = np.array(rows).reshape(sizes[g], net.n_outputs)
    geo.set_singles(d)
    return geo, sizes, layers


def _check_blocks(geo, sizes, layers, configs, n_out, block_type=Block):
    """Every block of every count vector with ≥ 2 crashes: its bounds contain the brute-force sums."""
    ranks = {g: np.argsort(geo.perms[g]) for g in range(len(sizes))}
    by_kappa = {}
    for crashed, delta, w in configs:
        kap = tuple(sum(1 for (l, _) in crashed if l == lay) for lay in layers)
        by_kappa.setdefault(kap, []).append((crashed, delta, w))
    checked = 0
    for kap, rows in by_kappa.items():
        if sum(kap) < 2:
            continue
        w_exact = rows[0][2]
        wf = Fraction(float(w_exact))
        werr = abs(w_exact - wf)
        for g0 in [g for g in range(len(sizes)) if kap[g] > 0]:
            for F in range(0, sizes[g0] - kap[g0] + 2):
                blk = block_type(kap, g0, F)
                inside = [(c, dl) for c, dl, _ in rows
                          if all(ranks[g0][i] >= F for (l, i) in c if l == layers[g0])]
                assert len(inside) == blk.pruned_count(sizes)
                first, shift, half, second = geo.exact(blk, wf, werr)
                for o in range(n_out):
                    s1 = MP.fsum(_mpf(w_exact) * _mpf(dl[o]) for _, dl in inside)
                    s2 = MP.fsum(_mpf(w_exact) * _mpf(dl[o]) ** 2 for _, dl in inside)
                    slack = MP.mpf(10) ** -40 * (1 + abs(s1) + s2)
                    assert abs(s1) <= _mpf(first[o]) + slack, ("first order", kap, g0, F, o)
                    assert s2 <= _mpf(second[o]) + slack, ("second moment", kap, g0, F, o)
                    if half is not None:
                        assert abs(s1 - _mpf(shift[o])) <= _mpf(half[o]) + slack, ("pairwise", kap, g0, F, o)
                checked += 1
    return checked


def _case_geometry(data, names):
    Ws, bs, acts, x, probs, semantics, configs = _case(data, "float", names)
    net, model = _network(Ws, bs, acts, "float"), _model(probs, semantics, "float")
    xf = np.array([float(v) for v in x])
    geo, sizes, layers = _geometry(net, xf, model)
    return geo, sizes, layers, configs, net.n_outputs


@settings(deadline=None, max_examples=25, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_pruned_blocks_bound_their_configurations_on_adversarial_nets(data):
    geo, sizes, layers, configs, n_out = _case_geometry(data, SMOOTH_NAMES + PL_NAMES[:4] + ["1/2*relu"])
    if geo is not None:
        _check_blocks(geo, sizes, layers, configs, n_out)


@pytest.mark.slow
@settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_pruned_blocks_bound_their_configurations_many(data):
    geo, sizes, layers, configs, n_out = _case_geometry(data, SMOOTH_NAMES + PL_NAMES)
    if geo is not None:
        _check_blocks(geo, sizes, layers, configs, n_out)


def _linear_case():
    """A linear net with positive weights: Δ(s) = Σ_{a∈s} Δ_a, so both block bounds are tight."""
    from .test_label_exact_enclosure import configurations

    W1 = [[1.0, 2.0, 0.5], [0.25, 1.0, 3.0], [2.0, 0.125, 1.0], [1.5, 0.75, 0.5]]
    W2 = [[1.0, 0.5, 2.0, 0.25]]
    x = [1.0, 2.0, 0.5]
    net = Network.from_numpy([np.array(W1), np.array(W2)], [np.zeros(4), np.zeros(1)], ["linear", "linear"])
    probs = {0: 0.25, 1: 0.125}
    fr = Fraction
    configs = list(configurations([[[fr(v) for v in r] for r in W] for W in (W1, W2)], [[fr(0)] * 4, [fr(0)]],
                                  ["linear", "linear"], [fr(v) for v in x], {l: fr(q) for l, q in probs.items()},
                                  "output_zero"))
    model = NeuronCrash(probs)
    geo, sizes, layers = _geometry(net, np.array(x), model)
    return geo, sizes, layers, configs


def test_pruning_check_catches_mutants():
    geo, sizes, layers, configs = _linear_case()
    assert _check_blocks(geo, sizes, layers, configs, 1) > 10       # the true bounds pass

    class Undercount(Block):                                         # one configuration per neuron too few
        def neuron_counts(self, sizes):
            a, per = super().neuron_counts(sizes)
            return max(a - 1, 0), {h: max(n - 1, 0) for h, n in per.items()}

    with pytest.raises(AssertionError):
        _check_blocks(geo, sizes, layers, configs, 1, block_type=Undercount)

    class WrongCut(Block):                                           # counts one cut too far (ranks ≥ F + 1)
        def neuron_counts(self, sizes):
            return Block(self.kappa, self.site, self.first + 1).neuron_counts(sizes)

    with pytest.raises(AssertionError):
        _check_blocks(geo, sizes, layers, configs, 1, block_type=WrongCut)

    # a Geometry whose single-crash effects are off by more than its ε: the pairwise form must fail
    bad = Geometry(geo.sizes, {g: geo.csort[g][np.argsort(geo.perms[g])] for g in geo.perms}, np.zeros((2, 2, 1)),
                   np.zeros(1), range(2))
    bad.set_singles({g: geo.d[g] * (1 + 1e-6) for g in geo.d})
    with pytest.raises(AssertionError, match="pairwise"):
        _check_blocks(bad, sizes, layers, configs, 1)


def test_block_counts_match_enumeration():
    sizes = [5, 3, 4]
    for kap in itertools.product(range(4), range(3), range(3)):
        for g0 in [g for g in range(3) if kap[g] > 0]:
            for F in range(sizes[g0] + 1):
                blk = Block(kap, g0, F)
                combos = [list(itertools.combinations(range(n), k)) for n, k in zip(sizes, kap)]
                Q = [c for c in itertools.product(*combos) if all(i >= F for i in c[g0])]
                assert blk.pruned_count(sizes) == len(Q)
                a, per = blk.neuron_counts(sizes)
                if F < sizes[g0]:
                    assert a == sum(1 for c in Q if sizes[g0] - 1 in c[g0])
                for h, n in per.items():
                    assert n == max(sum(1 for c in Q if i in c[h]) for i in range(sizes[h]))
                M = blk.pair_counts(sizes)
                for g in range(3):
                    for h in range(3):
                        true = max((sum(1 for c in Q if a_ in c[g] and b_ in c[h])
                                    for a_ in range(sizes[g]) for b_ in range(sizes[h]) if (g, a_) != (h, b_)),
                                   default=0)
                        assert M[g][h] >= true
                        if g == h == g0 or g != g0 and h != g0:
                            assert M[g][h] == true or true == 0
    assert comb(4, 5) == 0


def test_plans_respect_their_room_and_budget():
    rng = np.random.default_rng(0)
    sizes = [12, 9]
    c = {0: rng.lognormal(0, 3, (12, 2)), 1: rng.lognormal(0, 3, (9, 2))}
    geo = Geometry(sizes, c, rng.uniform(0, 1, (2, 2, 2)), np.full(2, 1e-12), range(2))
    geo.set_singles({g: rng.normal(size=v.shape) for g, v in c.items()})
    level = [(3, 0), (2, 1), (1, 2), (0, 3)]
    weights = {k: 1e-3 for k in level}
    total = {k: geo.first_order(Block(k, max(range(2), key=lambda g: comb(sizes[g], k[g])), 0), 1e-3) for k in level}
    room = 0.1 * sum(total.values())
    for use_pair in (np.array([False, False]), np.array([True, False])):
        plan = plan_room(geo, level, weights, room, use_pair)
        cost = sum((np.where(use_pair, geo.pairwise(b, 1e-3), geo.first_order(b, 1e-3)) for b in plan.values()),
                   np.zeros(2))
        assert np.all(cost <= room) and sum(b.pruned_count(sizes) for b in plan.values()) > 0
    plan = plan_budget(geo, level, weights, 100, np.ones(2), np.array([False, False]))
    kept = sum(comb(sizes[b.site], b.kappa[b.site]) * b.others(sizes) - b.pruned_count(sizes) for b in plan.values())
    assert 0 < kept <= 100


@pytest.mark.parametrize("act", ["relu", "sigmoid", "tanh"])
def test_enclosures_that_prune_are_sound_meet_the_width_and_evaluate_less(act):
    net = random_network([3, 8, 6, 2], seed=4, activation=act)
    x = np.array([0.3, -1.0, 2.0])
    m = NeuronCrash({1: 0.05, 2: 0.05})
    ex = enumerate_crashes(net, x, m)
    pruned_any = False
    for width in (1e-2, 1e-3, 1e-4, 1e-5):
        e = enclosure(net, x, m, order="auto", width=width)
        full = enclosure(net, x, m, order="auto", width=width, prune=False)
        for r in (e, full):
            assert np.all(r.width <= width)
            assert np.all((r.mean_lo <= ex.mean) & (ex.mean <= r.mean_hi))
            assert np.all((r.second_lo <= ex.second) & (ex.second <= r.second_hi))
            assert np.all((r.var_lo <= ex.var) & (ex.var <= r.var_hi))
        assert e.order == full.order and e.configurations + e.pruned == full.configurations
        pruned_any |= e.pruned > 0
        assert e.as_dict()["pruned"] == e.pruned
    assert pruned_any


def test_time_budget_spends_what_is_left_on_the_next_order():
    # order 3 is 1.5e5 configurations (a fraction of a second), order 4 is 3.3e6: it does not fit in what is
    # left, so its most sensitive configurations are evaluated and the rest bounded
    net = random_network([16, 48, 48, 4], seed=0, activation="relu")
    x = np.random.default_rng(1).normal(size=16)
    m = NeuronCrash({1: 0.01, 2: 0.01})
    # the budget is set from this machine's speed: order 3 fits in it, order 4 (about 14× its time here) does not
    t3 = enclosure(net, x, m, order=3).seconds
    limit = max(0.5, 4 * t3)
    e = enclosure(net, x, m, order="auto", time_limit=limit)
    assert e.seconds < limit * 1.25 + 0.1, (e.seconds, limit)        # a deadline: overrun by one block at most
    assert e.pruned > 0 and e.configurations < comb(96, e.order) + sum(comb(96, j) for j in range(e.order)), \
        (e.order, e.pruned, e.configurations, limit, t3)
    below = enclosure(net, x, m, order=e.order - 1)
    assert np.max(e.width) < np.max(below.width)
    assert np.all((e.mean_lo <= below.mean_hi) & (below.mean_lo <= e.mean_hi))
    assert np.all((e.var_lo <= below.var_hi) & (below.var_lo <= e.var_hi))
    assert enclosure(net, x, m, order="auto", time_limit=2.0, prune=False).pruned == 0


def test_cli_reports_pruned_configurations_and_no_prune(capsys, tmp_path):
    import json

    from symft.cli import main
    from symft.graph.netfile import save_network

    path = str(tmp_path / "n.json")
    save_network(random_network([3, 8, 6, 2], seed=4, activation="relu"), path)
    base = ["enclose", path, "--input", "0.3,-1,2", "--p", "1:0.05,2:0.05", "--order", "auto", "--width", "3e-3"]
    assert main(base + ["--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["pruned"] > 0 and max(h - lo for lo, h in zip(d["mean_lo"], d["mean_hi"])) <= 3e-3
    assert main(base + ["--json", "--no-prune"]) == 0
    d2 = json.loads(capsys.readouterr().out)
    assert d2["pruned"] == 0 and d2["configurations"] == d["configurations"] + d["pruned"]
    assert main(base) == 0
    out = capsys.readouterr().out
    assert f"{d['pruned']} more with at most {d['order']} crashes pruned (bounded)" in out.replace("\n      ", " ")
