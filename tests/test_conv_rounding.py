"""The rounding of the float64 convolution kernels against exact rationals, and the bounds that rely on it.

The stride-1 kernel sums each output as ``K + 1`` products (the ``K`` taps and ``bias · 1``) in BLAS's
order; the 1×1 and the general kernels add the bias after a ``K``-term product.  Either way the computed value is
within ``γ_{K+1} (Σ |w x| + |b|)`` of the exact one (Higham; ``γ_n = n u / (1 − n u)``, ``u = 2^-53``,
any order, FMA or not).  The tests check that claim on weights, inputs and biases from 1e-8 to 1e12
(with biases that cancel the sum), exactly in ``Fraction``, and that every rigorous consumer of the
kernel covers it: the interval rule (``interval_affine``), the error bound of the certified enclosure
(``BoxAndError``) and the brute force's bound (``FloatErrorBound``, including its claim that sums of
small dyadic numbers are exact).
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest

from symft.engines.forward import forward
from symft.graph.network import Network
from symft.graph.numbers import float_array
from symft.graph.ops import Conv2d, Input
from symft.walk.errorbound import BoxAndError
from symft.walk.floaterror import FloatErrorBound
from symft.walk.interval import Interval, interval_affine
from symft.walk.walker import walk

U = Fraction(1, 2 ** 53)

#: (kernel, stride, padding, dilation, groups, (C, H, W)) and the float kernel apply picks: "rows" (stride 1 on
#: whole padded rows), "pointwise" (1×1), "columns" (the general one), "same" (the output grid is the input grid,
#: rows too short for "rows": the columns' products, copied tap by tap)
CASES = [((3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1, (3, 4, 16)),
         ((3, 2), (1, 1), (0, 2, 1, 0), (1, 2), 2, (4, 3, 16)),
         ((1, 1), (1, 1), (0, 0, 0, 0), (1, 1), 2, (6, 3, 4)),
         ((1, 1), (1, 1), (1, 0, 0, 1), (1, 1), 1, (3, 3, 16)),
         ((3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1, (3, 5, 5)),
         ((2, 3), (2, 1), (1, 0, 0, 1), (1, 1), 1, (3, 5, 4)),
         ((3, 3), (2, 2), (1, 1, 1, 1), (2, 1), 2, (4, 6, 6))]
PICKS = ["rows", "rows", "pointwise", "rows", "same", "columns", "columns"]
KERNELS = {"rows": "_apply_wide", "pointwise": "_apply_pointwise", "columns": "_apply_cols",
           "same": "_apply_same"}


def gamma(n):
    return n * U / (1 - n * U)


def wild(rng, shape):
    """Signed numbers whose magnitudes spread uniformly (in log) from 1e-8 to 1e12."""
    return rng.choice([-1.0, 1.0], size=shape) * 10.0 ** rng.uniform(-8, 12, size=shape)


def exact_conv(x, Wt, b, stride, pad, dil, groups):
    """Exact sums (Fractions) and sums of magnitudes over the taps of every output, x (B, C, H, W)."""
    B, C, H, W = x.shape
    Co, Cg, KH, KW = Wt.shape
    t, l, bt, r = pad
    OH = (H + t + bt - dil[0] * (KH - 1) - 1) // stride[0] + 1
    OW = (W + l + r - dil[1] * (KW - 1) - 1) // stride[1] + 1
    val = np.empty((B, Co, OH, OW), dtype=object)
    mag = np.empty((B, Co, OH, OW), dtype=object)
    for n, co, oh, ow in itertools.product(range(B), range(Co), range(OH), range(OW)):
        g = co // (Co // groups)
        s = Fraction(b[co]) if b is not None else Fraction(0)
        m = abs(s)
        for c, i, j in itertools.product(range(Cg), range(KH), range(KW)):
            h, w = oh * stride[0] + i * dil[0] - t, ow * stride[1] + j * dil[1] - l
            if 0 <= h < H and 0 <= w < W:
                p = Fraction(Wt[co, c, i, j]) * Fraction(x[n, g * Cg + c, h, w])
                s += p
                m += abs(p)
        val[n, co, oh, ow], mag[n, co, oh, ow] = s, m
    return val, mag


def conv_net(op, in_shape):
    return Network([("x", Input(in_shape), ()), ("c", op, ("x",))])


def make_case(rng, case, cancel=True):
    (KH, KW), stride, pad, dil, groups, (C, H, W) = case
    Co = 4
    Wt = wild(rng, (Co, C // groups, KH, KW))
    x = wild(rng, (2, C, H, W))
    b = wild(rng, Co)
    if cancel:        # a bias that cancels the sum at one output of each channel: a tiny result, all error
        zero = Conv2d(float_array(Wt), None, stride=stride, padding=pad, dilation=dil, groups=groups)
        b = -zero.apply([x], zero.params(), [(C, H, W)])[0, :, 0, 0]
    op = Conv2d(float_array(Wt), float_array(b), stride=stride, padding=pad, dilation=dil, groups=groups)
    return op, Wt, b, x


@pytest.fixture
def kernels_used(monkeypatch):
    """Which float kernels the convolutions took (so each one is known to be tested)."""
    used = set()

    def spy(name, method):
        def run(self, *a, **k):
            used.add(name)
            return method(self, *a, **k)
        return run

    for name, attr in KERNELS.items():
        monkeypatch.setattr(Conv2d, attr, spy(name, getattr(Conv2d, attr)))
    return used


@pytest.mark.parametrize("case", CASES)
def test_float_convolution_is_within_gamma_k_plus_1(case, kernels_used):
    """Every float kernel that fits (whole padded rows for stride 1, 1×1, columns for any stride) and the one
    apply picks."""
    rng = np.random.default_rng(31)
    op, Wt, b, x = make_case(rng, case)
    in_shape = case[-1]
    got = {"apply": op.apply([x], op.params(), [in_shape])}
    assert kernels_used == {PICKS[CASES.index(case)]}
    got["columns"] = op._apply_cols(x, op.params(), in_shape, (len(x),))
    if case[1] == (1, 1):
        got["rows"] = op._apply_wide(x, op.params(), in_shape, (len(x),))
    if PICKS[CASES.index(case)] == "pointwise":
        got["pointwise"] = op._apply_pointwise(x, op.params(), in_shape, (len(x),))
    if op._same_size(in_shape):
        got["same"] = op._apply_same(x, op.params(), in_shape, (len(x),))
    val, mag = exact_conv(x, Wt, b, case[1], case[2], case[3], case[4])
    K = int(np.prod(Wt.shape[1:]))
    for y in got.values():
        worst = Fraction(0)
        for idx in np.ndindex(val.shape):
            err = abs(Fraction(y[idx]) - val[idx])
            assert err <= gamma(K + 1) * mag[idx], (idx, float(err), float(mag[idx]))
            if mag[idx]:
                worst = max(worst, err / mag[idx])
        assert worst > 0        # the numbers do round: the test is not vacuous


@pytest.mark.parametrize("case", CASES)
def test_interval_and_error_bounds_cover_the_kernel(case, kernels_used):
    """interval_affine's box holds the exact output; BoxAndError's and FloatErrorBound's e bound the computed one."""
    rng = np.random.default_rng(32)
    op, Wt, b, x = make_case(rng, case)
    in_shape = case[-1]
    net = conv_net(op, in_shape)
    val, _ = exact_conv(x, Wt, b, case[1], case[2], case[3], case[4])
    computed = forward(net, x.reshape(len(x), -1))
    box = interval_affine(net.node("c"), [Interval.point(x)])
    box_e, e = walk(net, BoxAndError(net, {}), x, keep=False)
    for n in range(len(x)):
        lo, hi, ef, _ = walk(net, FloatErrorBound(net, [], order=0, x=[Fraction(v) for v in x[n].ravel()]), None,
                             keep=False)
        for idx in np.ndindex(val.shape[1:]):
            v, c = val[(n,) + idx], Fraction(float(computed[n, np.ravel_multi_index(idx, val.shape[1:])]))
            assert Fraction(box.lo[(n,) + idx]) <= v <= Fraction(box.hi[(n,) + idx])
            assert Fraction(box_e.lo[(n,) + idx]) <= v <= Fraction(box_e.hi[(n,) + idx])
            assert abs(c - v) <= Fraction(e[(n,) + idx])
            assert Fraction(lo[(0,) + idx]) <= v <= Fraction(hi[(0,) + idx])
            assert abs(c - v) <= Fraction(ef[(0,) + idx])
    assert kernels_used == {PICKS[CASES.index(case)]}


@pytest.mark.parametrize("case", CASES)
def test_small_dyadic_convolution_is_exact_as_claimed(case):
    """Integers and halves: FloatErrorBound proves e = 0, and the kernel (bias inside the product) is exact."""
    rng = np.random.default_rng(33)
    (KH, KW), stride, pad, dil, groups, (C, H, W) = case
    Wt = rng.integers(-8, 9, size=(4, C // groups, KH, KW)) / 2.0
    b = rng.integers(-1000, 1001, size=4) / 4.0
    x = rng.integers(-50, 51, size=(1, C, H, W)) / 8.0
    op = Conv2d(float_array(Wt), float_array(b), stride=stride, padding=pad, dilation=dil, groups=groups)
    net = conv_net(op, (C, H, W))
    _, _, ef, grid = walk(net, FloatErrorBound(net, [], order=0, x=[Fraction(v) for v in x.ravel()]), None,
                          keep=False)
    assert grid is not None and not ef.any()
    val, _ = exact_conv(x, Wt, b, stride, pad, dil, groups)
    got = op.apply([x], op.params(), [(C, H, W)])
    assert all(Fraction(got[i]) == val[i] for i in np.ndindex(val.shape))
