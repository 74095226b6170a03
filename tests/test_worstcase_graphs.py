"""The worst case over crash sets on graphs that are not chains: the residual MLP, the small CNN and the
digits CNN imported from ONNX.  Every answer is compared with a brute force written here — its own
forward pass of each network from the parameters in the files (Fractions for the exact residual MLP,
NumPy for the float CNNs), never symft's forward pass."""

import json
import pathlib
import time
from fractions import Fraction
from itertools import combinations

import numpy as np
import pytest
import sympy as sp

from symft.graph.netfile import load_network
from symft.worstcase import class_change, exists_crash, worst_case

DATA = pathlib.Path(__file__).parent / "data"
ROOT = pathlib.Path(__file__).parent.parent


def _nodes(name):
    return {n["name"]: n for n in json.loads((DATA / name).read_text())["nodes"]}


# ---------------------------------------------------------------- residual MLP, exact (Fractions)

RES = load_network(DATA / "residual_mlp.json")
_R = _nodes("residual_mlp.json")


def _mat(node, field, conv):
    return [[conv(v) for v in row] for row in _R[node][field]] if field == "weight" else \
        [conv(v) for v in _R[node][field]]


def _fr(v):
    return Fraction(v) if isinstance(v, str) else Fraction(v)


RW = {n: (_mat(n, "weight", _fr), _mat(n, "bias", _fr)) for n in ("d1", "d2", "out")}


def _dense(n, v):
    W, b = RW[n]
    return [sum((w * y for w, y in zip(row, v)), Fraction(0)) + bi for row, bi in zip(W, b)]


def res_forward(x, crashed=()):
    """x (4) → relu h1 (6) → relu h2 (6) → out(h1 + h2) (2), in Fractions; crashed neurons output 0."""
    dead = set(crashed)
    x = [Fraction(0) if ("x", i) in dead else v for i, v in enumerate(x)]
    h1 = [max(v, Fraction(0)) for v in _dense("d1", x)]
    h1 = [Fraction(0) if ("h1", i) in dead else v for i, v in enumerate(h1)]
    h2 = [max(v, Fraction(0)) for v in _dense("d2", h1)]
    h2 = [Fraction(0) if ("h2", i) in dead else v for i, v in enumerate(h2)]
    return _dense("out", [a + b for a, b in zip(h1, h2)])


def res_reference(x, sites, f):
    """{crash set: Δ} over every crash set of at most f neurons of the sites."""
    width = {"x": 4, "h1": 6, "h2": 6}
    neurons = [(s, i) for s in sites for i in range(width[s])]
    clean = res_forward(x)
    out = {}
    for k in range(f + 1):
        for cs in combinations(neurons, k):
            out[cs] = [a - b for a, b in zip(res_forward(x, cs), clean)]
    return clean, out


def first_argmax(v):
    return max(range(len(v)), key=lambda j: (v[j], -j))


# the last two inputs: a single crash set of at most 2 hidden neurons (one of 79; two) changes the class
RES_X = [[Fraction(1), Fraction(-1, 2), Fraction(2), Fraction(0)], [Fraction(-1), Fraction(3, 4), Fraction(1, 3), 2],
         [Fraction(3, 2), Fraction(1, 2), 0, -1], [Fraction(-3, 4), -2, Fraction(-7, 4), -2]]
CASES = [(["h1", "h2"], 2), (["x"], 2), (["x", "h1"], 1), (["h2"], 1), (["x", "h1", "h2"], 2)]


@pytest.mark.parametrize("xi", range(3))
@pytest.mark.parametrize("sites,f", CASES)
def test_residual_worst_case_smt_and_brute_force_equal_a_fraction_brute_force(xi, sites, f):
    x = RES_X[xi]
    _, ref = res_reference(x, sites, f)
    best = max(max(abs(d) for d in delta) for delta in ref.values())
    for method in ("brute-force", "smt"):
        r = worst_case(RES, x, max_crashes=f, layers=sites, method=method)
        assert r.status == "proved", (method, r.reason)
        assert r.worst_delta == sp.Rational(best.numerator, best.denominator), method
        # the reported crash set reaches it in the independent forward pass
        assert max(abs(d) for d in ref[tuple(r.crash_set)]) == best
        assert all(s in sites for s, _ in r.crash_set)


@pytest.mark.parametrize("xi", range(len(RES_X)))
@pytest.mark.parametrize("sites,f", CASES[:3])
def test_residual_exists_crash_on_both_sides_of_the_maximum(xi, sites, f):
    x = RES_X[xi]
    _, ref = res_reference(x, sites, f)
    best = max(max(abs(d) for d in delta) for delta in ref.values())
    if best == 0:
        pytest.skip("no crash set changes the output at this input")
    for method in ("brute-force", "smt"):
        hit = exists_crash(RES, x, max_crashes=f, layers=sites, epsilon=best, method=method)
        assert hit.status == "found"
        assert max(abs(d) for d in ref[tuple(hit.crash_set)]) >= best
        miss = exists_crash(RES, x, max_crashes=f, layers=sites, epsilon=best * Fraction(1001, 1000), method=method)
        assert miss.status == "proved", method
        # one output component at a time
        for k in range(2):
            bk = max(abs(delta[k]) for delta in ref.values())
            if bk:
                assert exists_crash(RES, x, max_crashes=f, layers=sites, epsilon=bk, output=k,
                                    method=method).status == "found"
                assert exists_crash(RES, x, max_crashes=f, layers=sites, epsilon=bk * 2, output=k,
                                    method=method).status == "proved"


@pytest.mark.parametrize("xi", range(len(RES_X)))
@pytest.mark.parametrize("sites,f", CASES)
def test_residual_class_change_equals_the_fraction_brute_force(xi, sites, f):
    x = RES_X[xi]
    clean, ref = res_reference(x, sites, f)
    k0 = first_argmax(clean)
    changing = {cs for cs, d in ref.items() if first_argmax([c + e for c, e in zip(clean, d)]) != k0}
    for method in ("brute-force", "smt"):
        r = class_change(RES, x, max_crashes=f, layers=sites, method=method)
        assert r.status == ("found" if changing else "proved"), method
        if changing:
            assert tuple(r.crash_set) in changing


def test_residual_sites_by_position_and_default():
    x = RES_X[0]
    a = worst_case(RES, x, max_crashes=1, layers=[1, 2], method="brute-force")   # positions of h1, h2
    b = worst_case(RES, x, max_crashes=1, method="brute-force")                  # default: hidden sites
    c = worst_case(RES, x, max_crashes=1, layers=["h1", "h2"], method="smt")
    assert a.worst_delta == b.worst_delta == c.worst_delta
    assert "site 'h1' (6 neurons)" in b.question


def test_residual_per_site_budget():
    x = RES_X[1]
    _, ref = res_reference(x, ["h1", "h2"], 2)
    best = max(max(abs(d) for d in delta) for cs, delta in ref.items() if sum(s == "h2" for s, _ in cs) <= 0)
    for method in ("brute-force", "smt"):
        r = worst_case(RES, x, max_crashes=2, layers=["h1", "h2"], per_layer={"h2": 0}, method=method)
        assert r.worst_delta == sp.Rational(best.numerator, best.denominator)


# ---------------------------------------------------------------- small CNN (tanh): brute force, NumPy

CNN = load_network(DATA / "small_cnn.json")
_C = _nodes("small_cnn.json")


def _arr(node, field):
    return np.array(_C[node][field], dtype=object).astype(float) if not isinstance(
        np.array(_C[node][field]).ravel()[0], str) else np.vectorize(lambda s: float(Fraction(s)))(
        np.array(_C[node][field]))


CW = {n: (np.asarray(_arr(n, "weight"), float), np.asarray(_arr(n, "bias"), float)) for n in ("conv", "fc1", "out")}


def cnn_forward(x, masks):
    """x (25,), masks (P, 18) of 0/1 survivors at site r → outputs (P, 3): conv 3×3 valid → relu → avg-pool
    2×2 stride 1 → flatten → dense → tanh → dense."""
    W, b = CW["conv"]
    img = np.asarray(x, float).reshape(5, 5)
    z = np.zeros((2, 3, 3))
    for co in range(2):
        for i in range(3):
            for j in range(3):
                z[co, i, j] = np.sum(W[co, 0] * img[i:i + 3, j:j + 3]) + b[co]
    r = np.maximum(z, 0.0).reshape(1, 18) * masks                        # (P, 18)
    r = r.reshape(-1, 2, 3, 3)
    pool = (r[:, :, :2, :2] + r[:, :, 1:, :2] + r[:, :, :2, 1:] + r[:, :, 1:, 1:]) / 4
    a = pool.reshape(-1, 8) @ CW["fc1"][0].T + CW["fc1"][1]
    return np.tanh(a) @ CW["out"][0].T + CW["out"][1]


def cnn_reference(x, f):
    sets = [cs for k in range(f + 1) for cs in combinations(range(18), k)]
    masks = np.ones((len(sets), 18))
    for p, cs in enumerate(sets):
        masks[p, list(cs)] = 0.0
    out = cnn_forward(x, masks)
    return sets, out, out - out[0]


# at the last input, 2 of the 172 crash sets of at most 2 neurons of r change the class
CNN_X = [np.linspace(-1, 1, 25), np.random.default_rng(3).normal(size=25), np.random.default_rng(8).normal(size=25)]


@pytest.mark.parametrize("xi", range(len(CNN_X)))
@pytest.mark.parametrize("f", [1, 2])
def test_small_cnn_worst_case_by_brute_force_equals_numpy(xi, f):
    x = CNN_X[xi]
    sets, out, d = cnn_reference(x, f)
    ref = np.max(np.abs(d))
    r = worst_case(CNN, x, max_crashes=f, layers=["r"], method="auto")
    assert r.method == "brute-force (auto)" and r.status == "proved"
    assert "tanh is not piecewise linear" in r.reason
    # the reported maximum carries 50 proved digits; NumPy's float64 maximum lies within the float64 error
    # bound the result reports (that bound holds for any summation order), and the bound is tight
    import re

    margin = float(re.search(r"float64 error bound ([0-9.e+-]+) on each", r.reason).group(1))
    assert abs(float(r.worst_delta) - ref) <= margin < 1e-11
    cs = tuple(i for _, i in r.crash_set)
    assert abs(np.max(np.abs(d[sets.index(cs)])) - ref) <= 1e-12 * max(1.0, ref)
    # labels: found just below the maximum, proved just above
    lo = exists_crash(CNN, x, max_crashes=f, layers=["r"], epsilon=float(ref) * (1 - 1e-9))
    hi = exists_crash(CNN, x, max_crashes=f, layers=["r"], epsilon=float(ref) * (1 + 1e-9))
    assert (lo.status, hi.status) == ("found", "proved")
    assert lo.method == hi.method == "brute-force (auto)"
    assert np.max(np.abs(d[sets.index(tuple(i for _, i in lo.crash_set))])) >= float(ref) * (1 - 1e-9) - 1e-12


@pytest.mark.parametrize("xi", range(len(CNN_X)))
def test_small_cnn_class_change_equals_numpy(xi):
    x = CNN_X[xi]
    sets, out, _ = cnn_reference(x, 2)
    k0 = int(np.argmax(out[0]))
    cls = np.argmax(out, axis=1)
    assert np.min(np.abs(out - out[:, [k0]])[:, [j for j in range(3) if j != k0]]) > 1e-9  # no near-tie here
    assert len({int(c) for c in cls}) == (2 if xi == 2 else 1)
    r = class_change(CNN, x, max_crashes=2, layers=["r"])
    changing = {sets[p] for p in np.flatnonzero(cls != k0)}
    assert r.status == ("found" if changing else "proved")
    if changing:
        assert tuple(i for _, i in r.crash_set) in changing


def test_smt_refuses_the_tanh_cnn_in_one_line():
    from symft.errors import InvalidArgument

    with pytest.raises(InvalidArgument, match="piecewise-linear"):
        worst_case(CNN, CNN_X[0], max_crashes=1, layers=["r"], method="smt")


# ---------------------------------------------------------------- the digits CNN from ONNX

def _digits():
    from onnx import load, numpy_helper

    from symft.io.onnx import load_onnx

    m = load(str(ROOT / "examples" / "digits_cnn.onnx"))
    P = {i.name: numpy_helper.to_array(i).astype(float) for i in m.graph.initializer}
    return load_onnx(str(ROOT / "examples" / "digits_cnn.onnx")), P


def digits_numpy(P, img, site, masks):
    """conv 3×3 pad 1 (8 ch) → relu (site features.1, 512) → avg-pool 2×2 stride 2 → flatten → dense 24 → tanh
    (site classifier.2) → dense 10; ``masks`` (Q, n_site) 0/1 survivors at ``site``."""
    W, b = P["features.0.weight"], P["features.0.bias"]
    x = np.pad(np.asarray(img, float).reshape(8, 8), 1)
    z = np.zeros((8, 8, 8))
    for c in range(8):
        for i in range(8):
            for j in range(8):
                z[c, i, j] = np.sum(W[c, 0] * x[i:i + 3, j:j + 3]) + b[c]
    r = np.maximum(z, 0.0).reshape(1, 512)
    if site == "features.1":
        r = r * masks
    r = r.reshape(-1, 8, 8, 8)
    pool = (r[:, :, 0::2, 0::2] + r[:, :, 1::2, 0::2] + r[:, :, 0::2, 1::2] + r[:, :, 1::2, 1::2]) / 4
    t = np.tanh(pool.reshape(-1, 128) @ P["classifier.1.weight"].T + P["classifier.1.bias"])
    if site == "classifier.2":
        t = t * masks
    return t @ P["classifier.3.weight"].T + P["classifier.3.bias"]


def _digits_check(site, n):
    from symft.engines.forward import forward_masked

    net, P = _digits()
    img = np.load(ROOT / "examples" / "digit0_image.npy")
    t0 = time.perf_counter()
    r = worst_case(net, img.ravel(), max_crashes=2, layers=[site], method="brute-force")
    seconds = time.perf_counter() - t0
    assert r.status == "proved"
    sets = [cs for k in range(3) for cs in combinations(range(n), k)]
    masks = np.ones((len(sets), n))
    for p, cs in enumerate(sets):
        masks[p, list(cs)] = 0.0
    ref = digits_numpy(P, img, site, masks)
    dref = np.max(np.abs(ref - ref[0]))
    own = forward_masked(net, img.reshape(1, 8, 8), {site: masks == 0})
    down = np.max(np.abs(own - own[0]))
    assert abs(float(r.worst_delta) - dref) <= 1e-12 * max(1.0, dref)
    assert abs(float(r.worst_delta) - down) <= 1e-12 * max(1.0, dref)
    cs = tuple(i for _, i in r.crash_set)
    assert abs(np.max(np.abs(ref[sets.index(cs)] - ref[0])) - dref) <= 1e-12 * max(1.0, dref)
    return seconds, len(sets)


def test_digits_cnn_worst_case_at_the_tanh_site():
    seconds, n = _digits_check("classifier.2", 24)
    assert n == 301
    print(f"digits_cnn, ≤ 2 crashes among the 24 tanh neurons: {n} crash sets, {seconds:.2f} s")


@pytest.mark.slow
def test_digits_cnn_worst_case_at_the_conv_site():
    seconds, n = _digits_check("features.1", 512)
    assert n == 131_329
    print(f"digits_cnn, ≤ 2 crashes among the 512 relu neurons of the convolution: {n} crash sets, {seconds:.2f} s")


# ---------------------------------------------------------------- the pieces brute force trusts, checked directly

def test_float_error_bound_holds_on_the_residual_mlp_and_is_zero_when_exact():
    # dyadic weights and inputs: the float pass of every crash set is exact, and the bound says so
    from symft.worstcase.brute_force import brute_outputs, float_error
    from symft.worstcase.space import crash_space

    for x in RES_X[:1] + RES_X[2:]:
        space = crash_space(RES, 2, layers=["x", "h1", "h2"])
        E, exact = float_error(RES, x, space)
        clean, ref = res_reference(x, ["x", "h1", "h2"], 2)
        n = 0
        for block in brute_outputs(RES, x, space):
            for p in range(len(block)):
                y = [c + d for c, d in zip(clean, ref[block.set(p)])]
                err = max(abs(Fraction(float(v)) - w) for v, w in zip(block.out[p], y))
                assert err <= Fraction(float(max(E))), (block.set(p), err, E)
                n += 1
        assert n == len(ref) == space.size
        assert exact == all(Fraction(float(v)) == v for v in x)


def test_float_error_bound_holds_on_the_small_cnn():
    # float weights, tanh: every float64 output of every crash set at r and t is within E of the exact output
    # (the exact network evaluated here with mpmath at 60 digits, from the file's binary values)
    import mpmath

    from symft.worstcase.brute_force import brute_outputs, float_error
    from symft.worstcase.space import crash_space

    x = CNN_X[2]
    space = crash_space(CNN, 2, layers=["r", "t"])
    E, exact = float_error(CNN, x, space)
    assert not exact and np.all(E > 0) and np.all(E < 1e-12)
    with mpmath.workdps(60):
        W, b = CW["conv"]
        img = [[mpmath.mpf(float(v)) for v in row] for row in np.asarray(x).reshape(5, 5)]
        r0 = []
        for co in range(2):
            for i in range(3):
                for j in range(3):
                    z = mpmath.mpf(float(b[co])) + mpmath.fsum(mpmath.mpf(float(W[co, 0, a, c])) * img[i + a][j + c]
                                                             for a in range(3) for c in range(3))
                    r0.append(max(z, mpmath.mpf(0)))

        def exact_out(cs):
            r = [mpmath.mpf(0) if ("r", i) in cs else v for i, v in enumerate(r0)]
            pool = [(r[c * 9 + i * 3 + j] + r[c * 9 + (i + 1) * 3 + j] + r[c * 9 + i * 3 + j + 1]
                     + r[c * 9 + (i + 1) * 3 + j + 1]) / 4 for c in range(2) for i in range(2) for j in range(2)]
            Wf, bf = CW["fc1"]
            t = [mpmath.tanh(mpmath.fsum(mpmath.mpf(float(w)) * v for w, v in zip(Wf[k], pool))
                             + mpmath.mpf(float(bf[k]))) for k in range(6)]
            t = [mpmath.mpf(0) if ("t", i) in cs else v for i, v in enumerate(t)]
            Wo, bo = CW["out"]
            return [mpmath.fsum(mpmath.mpf(float(w)) * v for w, v in zip(Wo[k], t)) + mpmath.mpf(float(bo[k]))
                    for k in range(3)]

        n = 0
        for block in brute_outputs(CNN, x, space):
            for p in range(len(block)):
                y = exact_out(set(block.set(p)))
                for k in range(3):
                    assert abs(mpmath.mpf(float(block.out[p, k])) - y[k]) <= mpmath.mpf(float(E[k]))
                n += 1
        assert n == space.size == sum(1 for _ in combinations(range(24), 0)) + 24 + 276


def test_affine_rows_of_the_digits_convolution_are_its_kernel():
    # output (c, h, w) of the 3×3 convolution with padding 1 sums W[c, 0, a, b]·x[h + a − 1, w + b − 1]
    from symft.walk.exactrows import affine_rows

    net, P = _digits()
    rows, bias = affine_rows(net.node("features.0"))
    W = P["features.0.weight"]
    for c, h, w in [(0, 0, 0), (3, 4, 5), (7, 7, 7), (5, 0, 6)]:
        want = {}
        for a in range(3):
            for b_ in range(3):
                i, j = h + a - 1, w + b_ - 1
                if 0 <= i < 8 and 0 <= j < 8 and W[c, 0, a, b_]:
                    want[i * 8 + j] = Fraction(float(W[c, 0, a, b_]))
        assert dict(rows[c * 64 + h * 8 + w]) == want
        assert bias[c * 64 + h * 8 + w] == Fraction(float(P["features.0.bias"][c]))


# ---------------------------------------------------------------- SAT on a threshold network that is not a chain

def _step_residual(tmp_path):
    """The residual MLP with its weights times 8 (integers) and step activations: a threshold DAG."""
    d = json.loads((DATA / "residual_mlp.json").read_text())
    W = {}
    for n in d["nodes"]:
        if n["op"] == "activation":
            n["activation"] = "step"
        for k in ("weight", "bias"):
            if k in n:
                n[k] = np.vectorize(lambda s: str(int(Fraction(s) * 8)))(np.array(n[k], dtype=object)).tolist()
        if n["op"] == "dense":
            W[n["name"]] = ([[int(v) for v in row] for row in n["weight"]], [int(v) for v in n["bias"]])
    p = tmp_path / "step_residual.json"
    p.write_text(json.dumps(d))
    return load_network(p), W


def test_sat_on_a_residual_threshold_network_equals_a_brute_force(tmp_path):
    net, W = _step_residual(tmp_path)

    def dense(n, v):
        return [sum(w * y for w, y in zip(row, v)) + b for row, b in zip(*W[n])]

    def fwd(x, dead):
        x = [0 if ("x", i) in dead else v for i, v in enumerate(x)]
        h1 = [0 if ("h1", i) in dead else int(v > 0) for i, v in enumerate(dense("d1", x))]
        h2 = [0 if ("h2", i) in dead else int(v > 0) for i, v in enumerate(dense("d2", h1))]
        return dense("out", [a + b for a, b in zip(h1, h2)])

    bests = []
    for x in ([1, -1, 2, 0], [3, 1, 0, -2], [-2, 2, 1, 1]):
        for sites in (["h1", "h2"], ["x", "h2"]):
            neurons = [(s, i) for s in sites for i in range({"x": 4, "h1": 6, "h2": 6}[s])]
            clean = fwd(x, set())
            best = max(max(abs(a - b) for a, b in zip(fwd(x, set(cs)), clean))
                       for k in range(3) for cs in combinations(neurons, k))
            bests.append(best)
            for method in ("sat", "smt", "brute-force"):
                r = worst_case(net, x, max_crashes=2, layers=sites, method=method)
                assert (r.status, r.worst_delta) == ("proved", best), (x, sites, method)
            if best:
                assert exists_crash(net, x, max_crashes=2, layers=sites, epsilon=best, method="sat").status == "found"
                assert exists_crash(net, x, max_crashes=2, layers=sites, epsilon=best + 1,
                                    method="sat").status == "proved"
    assert len(set(bests)) > 2 and min(bests) > 0


def test_sat_refuses_coefficients_beyond_what_python_sat_encodes():
    from symft.errors import InvalidArgument
    from symft.graph.network import Network

    # Σ|w| of the first neuron's constraint is 2^62 + 3 > 2^62 − 1 (no common divisor): python-sat's encoders
    # would silently produce wrong clauses there, so the SAT back end refuses in one line; SMT answers
    net = Network.from_sympy([[[2 ** 62, -3], [1, 1]], [[1, 1]]], activations=["step", "linear"])
    with pytest.raises(InvalidArgument, match="beyond what python-sat encodes correctly"):
        exists_crash(net, [1, 1], max_crashes=1, epsilon=1, layers=[0], method="sat")
    assert exists_crash(net, [1, 1], max_crashes=1, epsilon=1, layers=[0], method="smt").status == "found"


# ---------------------------------------------------------------- property: adversarial residual graphs

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_MAGS = [0.0, 1e-8, 1e-5, 0.1, 0.5, 1.0, 3.0, 1e6, 1e12]
_PWL = {"relu": lambda z: max(z, Fraction(0)), "hardtanh": lambda z: min(max(z, Fraction(-1)), Fraction(1)),
        "linear": lambda z: z}


@st.composite
def residual_graphs(draw):
    """x (n0) → dense → φ h1 (n) → dense → φ h2 (n) → add(h1, h2) → dense out (m), float weights of wildly
    different magnitudes (1e-8 … 1e12, with a big bias that the next layer cancels)."""
    n0, n, m = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
    mag = st.builds(lambda v, s: s * v, st.sampled_from(_MAGS), st.sampled_from([1.0, -1.0]))

    def mat(r, c):
        return [[draw(mag) for _ in range(c)] for _ in range(r)]

    W1, b1, W2, b2, W3, b3 = mat(n, n0), [draw(mag) for _ in range(n)], mat(n, n), [draw(mag) for _ in range(n)], \
        mat(m, n), [draw(mag) for _ in range(m)]
    if draw(st.booleans()):
        B = draw(st.sampled_from([1e6, 1e12]))
        b1[0], W2[0][0], b2[0] = B, 1.0, -B
    acts = [draw(st.sampled_from(sorted(_PWL))) for _ in range(2)]
    d = {"format": "symft.network", "version": 2, "output": "out", "nodes": [
        {"name": "x", "op": "input", "shape": [n0]},
        {"name": "d1", "op": "dense", "inputs": ["x"], "weight": W1, "bias": b1},
        {"name": "h1", "op": "activation", "inputs": ["d1"], "activation": acts[0]},
        {"name": "d2", "op": "dense", "inputs": ["h1"], "weight": W2, "bias": b2},
        {"name": "h2", "op": "activation", "inputs": ["d2"], "activation": acts[1]},
        {"name": "res", "op": "add", "inputs": ["h1", "h2"]},
        {"name": "out", "op": "dense", "inputs": ["res"], "weight": W3, "bias": b3}]}
    x = [draw(mag) for _ in range(n0)]
    sites = sorted(draw(st.sets(st.sampled_from(["x", "h1", "h2", "out"]), min_size=1)))
    return d, x, sites, draw(st.integers(1, 2))


def _residual_reference(d, x, sites, f):
    nodes = {n["name"]: n for n in d["nodes"]}
    P = {k: ([[Fraction(w) for w in row] for row in nodes[k]["weight"]], [Fraction(v) for v in nodes[k]["bias"]])
         for k in ("d1", "d2", "out")}
    a1, a2 = _PWL[nodes["h1"]["activation"]], _PWL[nodes["h2"]["activation"]]

    def dense(k, v):
        W, b = P[k]
        return [sum((w * y for w, y in zip(row, v)), Fraction(0)) + bi for row, bi in zip(W, b)]

    def fwd(dead):
        def kill(s, v):
            return [Fraction(0) if (s, i) in dead else e for i, e in enumerate(v)]
        h0 = kill("x", [Fraction(v) for v in x])
        h1 = kill("h1", [a1(z) for z in dense("d1", h0)])
        h2 = kill("h2", [a2(z) for z in dense("d2", h1)])
        return kill("out", dense("out", [a + b for a, b in zip(h1, h2)]))

    size = {"x": len(x), "h1": len(P["d1"][1]), "h2": len(P["d2"][1]), "out": len(P["out"][1])}
    neurons = [(s, i) for s in ("x", "h1", "h2", "out") if s in sites for i in range(size[s])]
    return {cs: fwd(set(cs)) for k in range(f + 1) for cs in combinations(neurons, k)}


def check_residual_case(case):
    """The float64 pass with its running error bound, and the exact re-checks, against Fractions: every label;
    SMT (exact rationals) on the same graph."""
    from symft.graph.netfile import network_from_dict

    d, x, sites, f = case
    net = network_from_dict(d)
    ref = _residual_reference(d, x, sites, f)
    clean = ref[()]
    absd = {cs: max(abs(a - b) for a, b in zip(y, clean)) for cs, y in ref.items()}
    best = max(absd.values())
    r = worst_case(net, x, max_crashes=f, layers=sites, method="brute-force")
    assert r.status == "proved" and r.worst_delta == sp.Rational(best.numerator, best.denominator)
    assert absd[tuple(r.crash_set)] == best
    s = worst_case(net, x, max_crashes=f, layers=sites, method="smt")
    assert (s.status, s.worst_delta) == ("proved", r.worst_delta)
    if best > 0:
        for eps, want in ((best, "found"), (best * Fraction(1 + 2 ** -30), "proved")):
            e = exists_crash(net, x, max_crashes=f, layers=sites, epsilon=eps, method="brute-force")
            assert e.status == want, (eps, best, e.reason)
    if len(clean) > 1:
        k0 = first_argmax(clean)
        changing = {cs for cs, y in ref.items() if first_argmax(y) != k0}
        c = class_change(net, x, max_crashes=f, layers=sites, method="brute-force")
        assert c.status == ("found" if changing else "proved")
        if changing:
            assert tuple(c.crash_set) in changing



@settings(deadline=None, max_examples=12, suppress_health_check=[HealthCheck.too_slow])
@given(residual_graphs())
def test_property_brute_force_and_smt_on_adversarial_residual_graphs(case):
    check_residual_case(case)


@pytest.mark.slow
@settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(residual_graphs())
def test_property_brute_force_and_smt_on_adversarial_residual_graphs_many(case):
    check_residual_case(case)

# ---------------------------------------------------------------- max pooling (SMT via If, intervals, error bound)

def _maxpool_net(act, rng):
    """x (1×4×4) → conv 2×2 (2 channels) → act r (2×3×3) → max-pool 2×2 stride 1 → flatten (8) → dense out (2)."""
    q = lambda: str(Fraction(int(rng.integers(-8, 9)), 8))  # noqa: E731
    W = [[[[q(), q()], [q(), q()]]], [[[q(), q()], [q(), q()]]]]
    b = [q(), q()]
    Wo = [[q() for _ in range(8)] for _ in range(2)]
    bo = [q(), q()]
    d = {"format": "symft.network", "version": 2, "output": "out", "nodes": [
        {"name": "x", "op": "input", "shape": [1, 4, 4]},
        {"name": "conv", "op": "conv2d", "inputs": ["x"], "weight": W, "bias": b},
        {"name": "r", "op": "activation", "inputs": ["conv"], "activation": act},
        {"name": "pool", "op": "maxpool2d", "inputs": ["r"], "kernel": [2, 2], "stride": [1, 1]},
        {"name": "flat", "op": "flatten", "inputs": ["pool"]},
        {"name": "out", "op": "dense", "inputs": ["flat"], "weight": Wo, "bias": bo}]}
    return d


def _maxpool_reference(d, x, f, act):
    nodes = {n["name"]: n for n in d["nodes"]}
    W = [[[[Fraction(v) for v in row] for row in k] for k in ch] for ch in nodes["conv"]["weight"]]
    b = [Fraction(v) for v in nodes["conv"]["bias"]]
    Wo = [[Fraction(v) for v in row] for row in nodes["out"]["weight"]]
    bo = [Fraction(v) for v in nodes["out"]["bias"]]
    img = [[x[i * 4 + j] for j in range(4)] for i in range(4)]
    r0 = [act(sum(W[c][0][a][e] * img[i + a][j + e] for a in range(2) for e in range(2)) + b[c])
          for c in range(2) for i in range(3) for j in range(3)]

    def fwd(dead):
        r = [0 * v if ("r", i) in dead else v for i, v in enumerate(r0)]
        pool = [max(r[c * 9 + (i + a) * 3 + j + e] for a in range(2) for e in range(2))
                for c in range(2) for i in range(2) for j in range(2)]
        return [sum(w * v for w, v in zip(row, pool)) + bb for row, bb in zip(Wo, bo)]

    return {cs: fwd(set(cs)) for k in range(f + 1) for cs in combinations([("r", i) for i in range(18)], k)}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_max_pooling_graph_smt_and_brute_force_equal_a_fraction_brute_force(seed):
    from symft.graph.netfile import network_from_dict

    rng = np.random.default_rng(seed)
    d = _maxpool_net("relu", rng)
    net = network_from_dict(d)
    x = [Fraction(int(v), 4) for v in rng.integers(-6, 7, size=16)]
    ref = _maxpool_reference(d, x, 2, lambda z: max(z, Fraction(0)))
    clean = ref[()]
    best = max(max(abs(a - b) for a, b in zip(y, clean)) for y in ref.values())
    assert best > 0
    k0 = first_argmax(clean)
    changing = {cs for cs, y in ref.items() if first_argmax(y) != k0}
    for method in ("brute-force", "smt"):
        r = worst_case(net, x, max_crashes=2, layers=["r"], method=method)
        assert (r.status, r.worst_delta) == ("proved", best), method
        assert exists_crash(net, x, max_crashes=2, layers=["r"], epsilon=best, method=method).status == "found"
        assert exists_crash(net, x, max_crashes=2, layers=["r"], epsilon=best * Fraction(101, 100),
                            method=method).status == "proved"
        c = class_change(net, x, max_crashes=2, layers=["r"], method=method)
        assert c.status == ("found" if changing else "proved")


def test_max_pooling_graph_with_tanh_by_brute_force():
    # tanh before the max pooling: the interval re-check and the float error bound go through max pooling
    import mpmath

    from symft.graph.netfile import network_from_dict

    rng = np.random.default_rng(5)
    d = _maxpool_net("tanh", rng)
    net = network_from_dict(d)
    x = [Fraction(int(v), 4) for v in rng.integers(-6, 7, size=16)]
    with mpmath.workdps(60):
        ref = _maxpool_reference(d, [mpmath.mpf(v.numerator) / v.denominator for v in x], 2,
                                 lambda z: mpmath.tanh(z))
        clean = ref[()]
        best = max(max(abs(a - b) for a, b in zip(y, clean)) for y in ref.values())
        r = worst_case(net, x, max_crashes=2, layers=["r"])
        assert r.method == "brute-force (auto)" and r.status == "proved"
        assert abs(mpmath.mpf(str(r.worst_delta)) - best) < mpmath.mpf(10) ** -45 * (1 + best)
        assert abs(max(abs(a - b) for a, b in zip(ref[tuple(r.crash_set)], clean)) - best) < mpmath.mpf(10) ** -45



# ---------------------------------------------------------------- batch norm (an affine op of its own)

def test_batchnorm_graph_smt_and_brute_force_equal_a_fraction_brute_force():
    from symft.graph.netfile import network_from_dict

    rng = np.random.default_rng(11)
    q = lambda: str(Fraction(int(rng.integers(-8, 9)), 4))  # noqa: E731
    W1 = [[q() for _ in range(3)] for _ in range(4)]
    b1, scale, shift = [q() for _ in range(4)], [q() for _ in range(4)], [q() for _ in range(4)]
    W2 = [[q() for _ in range(4)] for _ in range(2)]
    b2 = [q(), q()]
    d = {"format": "symft.network", "version": 2, "output": "out", "nodes": [
        {"name": "x", "op": "input", "shape": [3]},
        {"name": "d1", "op": "dense", "inputs": ["x"], "weight": W1, "bias": b1},
        {"name": "bn", "op": "batchnorm", "inputs": ["d1"], "scale": scale, "shift": shift},
        {"name": "h", "op": "activation", "inputs": ["bn"], "activation": "relu"},
        {"name": "out", "op": "dense", "inputs": ["h"], "weight": W2, "bias": b2}]}
    net = network_from_dict(d)
    F = lambda a: [Fraction(v) for v in a]  # noqa: E731
    for x in ([1, -2, 3], [Fraction(1, 2), 0, -1], [2, 2, -1]):
        def fwd(dead):
            x0 = [Fraction(0) if ("x", i) in dead else Fraction(v) for i, v in enumerate(x)]
            z = [sum(w * v for w, v in zip(F(row), x0)) + b for row, b in zip(W1, F(b1))]
            h = [Fraction(0) if ("h", i) in dead else max(s * v + t, Fraction(0))
                 for i, (v, s, t) in enumerate(zip(z, F(scale), F(shift)))]
            return [sum(w * v for w, v in zip(F(row), h)) + b for row, b in zip(W2, F(b2))]

        neurons = [("x", i) for i in range(3)] + [("h", i) for i in range(4)]
        clean = fwd(set())
        best = max(max(abs(a - b) for a, b in zip(fwd(set(cs)), clean))
                   for k in range(3) for cs in combinations(neurons, k))
        for method in ("brute-force", "smt"):
            r = worst_case(net, x, max_crashes=2, layers=["x", "h"], method=method)
            assert (r.status, r.worst_delta) == ("proved", best), (x, method)
