r"""The shared table of tiny networks with hand-derived answers (STYLE lesson 8).

Every method symft grows (exact enumeration, Taylor expansion, bounds,
solvers, sampling) is checked against this table.  Each :class:`Case` is one
network, one input and one crash pattern, with the fault-free and the faulty
output derived *by hand* in the comment above it (the arithmetic is shown,
so a reader can re-check it without running anything).

* :data:`CASES` — piecewise-linear networks with rational weights; the
  expected outputs are exact SymPy rationals (``expected_exact = True``).
* :data:`SMOOTH_CASES` (alias :data:`SIGMOID_CASES`) — smooth activations;
  the expected outputs are floats computed by an independent formula
  (``math.tanh``, ``math.exp``, ``math.log1p``), so compare to ~1e-12.

Conventions (theory D1, D3): ``y_l = φ_l(W_l y_{l-1} + b_l)``; a crashed
neuron outputs 0 (``semantics="output_zero"``) or, under
``"incoming_zeroed"``, ``φ_l(b_l^i)`` (0 at the input layer).  At kinks:
``relu(0) = 0``, ``step(0) = 0`` (step is 1 only for ``s > 0``),
``ramp(s) = clip(s + 1, 0, 1)``, ``hardtanh(s) = clip(s, -1, 1)``.

Examples
--------
>>> c = CASES_BY_NAME["mean4_input0"]
>>> c.expected_output, c.expected_crashed_output
((1,), (3/4,))
>>> c.pattern
CrashPattern(neurons=frozenset({(0, 0)}), synapses=frozenset(), values=())
>>> c.expected_error
(-1/4,)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Mapping

import sympy as sp

from symft.faults import CrashPattern
from symft.graph.network import Network, first_input_network, mean_network

__all__ = ["Case", "CASES", "SMOOTH_CASES", "SIGMOID_CASES", "ALL_CASES", "CASES_BY_NAME"]

R = sp.Rational


@dataclass(frozen=True)
class Case:
    """One tiny network, one input, one crash pattern, hand-derived outputs.

    Parameters
    ----------
    name : str
        Unique key of :data:`CASES_BY_NAME`.
    net_factory : callable
        ``() -> Network``; called through :attr:`net` (cached per factory).
    x : tuple
        The input, exact (ints / SymPy rationals) for exact cases.
    crash : mapping {layer: tuple of indices}
        The crashed neurons (layer 0 = inputs, L = outputs).
    expected_output : tuple
        Fault-free output ``y_L(x)``.
    expected_crashed_output : tuple
        Output under the crash pattern.
    notes : str
        What the case exercises.
    semantics : str
        ``"output_zero"`` (default) or ``"incoming_zeroed"``.
    expected_exact : bool
        Whether the expected values are exact SymPy numbers (else floats).
    """

    name: str
    net_factory: Callable[[], Network]
    x: tuple
    crash: Mapping
    expected_output: tuple
    expected_crashed_output: tuple
    notes: str = ""
    semantics: str = "output_zero"
    expected_exact: bool = True

    @property
    def net(self) -> Network:
        """The network (built once per factory)."""
        return _build(self.net_factory)

    @property
    def pattern(self) -> CrashPattern:
        """The crash as a :class:`~symft.faults.CrashPattern`."""
        return CrashPattern.from_layers({l: list(ix) for l, ix in self.crash.items()})

    @property
    def x_float(self) -> tuple:
        return tuple(float(v) for v in self.x)

    @property
    def expected_error(self) -> tuple:
        """``Δ_L = y_faulty − y`` (exact for exact cases)."""
        return tuple(a - b for a, b in zip(self.expected_crashed_output, self.expected_output))


@lru_cache(maxsize=None)
def _build(factory):
    return factory()


# --------------------------------------------------------------------------- networks

def _mean4():
    return mean_network(4)


def _first3():
    return first_input_network(3)


def relu_221():
    r"""2 → 2 → 1, relu hidden, rational weights.

    W1 = [[1/2, -1/3], [-1, 1]], b1 = [1/6, -1/2]; W2 = [[3, -2]], b2 = [1/4].
    """
    return Network.from_sympy([[["1/2", "-1/3"], [-1, 1]], [[3, -2]]],
                              [["1/6", "-1/2"], ["1/4"]], ["relu", "linear"], name="relu_221")


def hardtanh_221():
    r"""2 → 2 → 1, hardtanh hidden.

    W1 = [[1, 1], [2, -1]], b1 = [0, 1/2]; W2 = [[2, -1]], b2 = [0].
    """
    return Network.from_sympy([[[1, 1], [2, -1]], [[2, -1]]], [[0, "1/2"], [0]],
                              ["hardtanh", "linear"], name="hardtanh_221")


def p1_ramp_net():
    r"""Corrected P1 construction (theory P1 + E1) for M = 2 inputs.

    Layer 1: two ramp neurons, weights (1, 1) and (-1, -1), no bias.
    Layer 2: one step neuron, weights (1, 1), bias -3/2.
    Layer 3: identity 1 × 1 linear.
    """
    return Network.from_sympy([[[1, 1], [-1, -1]], [[1, 1]], [[1]]],
                              [[0, 0], ["-3/2"], [0]], ["ramp", "step", "linear"], name="p1_ramp")


def step_231():
    r"""2 → 3 → 1 step net.  W1 = [[1, 1], [1, 0], [0, -1]], b1 = 0; W2 = [[4, 2, 1]], b2 = [1/2]."""
    return Network.from_sympy([[[1, 1], [1, 0], [0, -1]], [[4, 2, 1]]], [[0, 0, 0], ["1/2"]],
                              ["step", "linear"], name="step_231")


def relu_222():
    r"""2 → 2 → 2 relu net.  W1 = [[1, -1], [1, 1]], b1 = 0; W2 = [[1, 2], [-1, 1]], b2 = [1, 0]."""
    return Network.from_sympy([[[1, -1], [1, 1]], [[1, 2], [-1, 1]]], [[0, 0], [1, 0]],
                              ["relu", "linear"], name="relu_222")


def linear_deep():
    r"""2 → 2 → 2 → 1, all linear.

    W1 = [[1, 2], [0, 1]], b1 = 0; W2 = [[1, -1], [1/2, 1]], b2 = [1, 0];
    W3 = [[2, 1]], b3 = [-1].
    """
    return Network.from_sympy([[[1, 2], [0, 1]], [[1, -1], ["1/2", 1]], [[2, 1]]],
                              [[0, 0], [1, 0], [-1]], ["linear", "linear", "linear"],
                              name="linear_deep")


def relu_bias_121():
    r"""1 → 2 → 1 relu net with a hidden bias 1/2.

    W1 = [[1], [-1]], b1 = [1/2, 0]; W2 = [[2, 3]], b2 = [0].
    """
    return Network.from_sympy([[[1], [-1]], [[2, 3]]], [["1/2", 0], [0]], ["relu", "linear"],
                              name="relu_bias_121")


def float_dyadic():
    r"""A *float* network (from_numpy) whose values are dyadic, so exact == float.

    W1 = [[0.5, -0.25], [1.5, 0.75]], b1 = [0.125, -1]; W2 = [[1, -2]], b2 = [0.5]; relu.
    """
    return Network.from_numpy([[[0.5, -0.25], [1.5, 0.75]], [[1.0, -2.0]]],
                              [[0.125, -1.0], [0.5]], ["relu", "linear"], name="float_dyadic")


# --------------------------------------------------------------------------- exact cases

CASES = [
    # mean_network(4): y = (x1+x2+x3+x4)/4.  x = (1,1,1,1): y = 4/4 = 1.
    # Crash input 0: y = (0+1+1+1)/4 = 3/4.   Δ = -1/4.
    Case("mean4_input0", _mean4, (1, 1, 1, 1), {0: (0,)}, (R(1),), (R(3, 4),),
         "theory §4 toy: E Δ = -p at x ≡ 1"),
    # first_input_network(3): y = x1.  x = (2,5,7): y = 2.
    # Crash input 0: y = 0 (Δ = -2 = -x1, erratum E3's sign).
    Case("first3_input0", _first3, (2, 5, 7), {0: (0,)}, (R(2),), (R(0),),
         "theory E3: Δ = -x1 when the read input crashes"),
    # Crash input 1: the net ignores x2, y stays 2 (Δ = 0).
    Case("first3_input1", _first3, (2, 5, 7), {0: (1,)}, (R(2),), (R(2),),
         "a crash the output does not read"),
    # relu_221 at x = (2, 3):
    #   z1_0 = 1/2*2 - 1/3*3 + 1/6 = 1 - 1 + 1/6 = 1/6  -> relu 1/6
    #   z1_1 = -2 + 3 - 1/2 = 1/2                        -> relu 1/2
    #   y = 3*(1/6) - 2*(1/2) + 1/4 = 1/2 - 1 + 1/4 = -1/4
    # Crash hidden (1, 1): y = 3*(1/6) - 0 + 1/4 = 3/4   (the sign of y flips).
    Case("relu221_hidden1", relu_221, (2, 3), {1: (1,)}, (R(-1, 4),), (R(3, 4),),
         "a hidden crash flips the sign of the output"),
    # Same net, crash hidden (1, 0): y = 0 - 2*(1/2) + 1/4 = -3/4.
    Case("relu221_hidden0", relu_221, (2, 3), {1: (0,)}, (R(-1, 4),), (R(-3, 4),),
         "a hidden crash pushes the output further down"),
    # relu_221, crash input 1 (x = (2, 0)):
    #   z1_0 = 1 - 0 + 1/6 = 7/6 -> 7/6;   z1_1 = -2 + 0 - 1/2 = -5/2 -> relu 0 (neuron switches off)
    #   y = 3*(7/6) - 0 + 1/4 = 7/2 + 1/4 = 15/4.
    Case("relu221_input1", relu_221, (2, 3), {0: (1,)}, (R(-1, 4),), (R(15, 4),),
         "an input crash switches a relu off"),
    # hardtanh_221 at x = (1/2, 1/4):
    #   z1_0 = 1/2 + 1/4 + 0 = 3/4 -> 3/4;  z1_1 = 1 - 1/4 + 1/2 = 5/4 -> clipped to 1
    #   y = 2*(3/4) - 1 = 1/2
    # Crash input 1 (x = (1/2, 0)): z1_0 = 1/2 -> 1/2;  z1_1 = 1 + 1/2 = 3/2 -> 1
    #   y = 2*(1/2) - 1 = 0.
    Case("hardtanh221_input1", hardtanh_221, (R(1, 2), R(1, 4)), {0: (1,)}, (R(1, 2),), (R(0),),
         "hardtanh saturating at +1"),
    # hardtanh_221 at x = (-3, 1):
    #   z1_0 = -3 + 1 = -2 -> -1;  z1_1 = -6 - 1 + 1/2 = -13/2 -> -1
    #   y = 2*(-1) - (-1) = -1
    # Crash hidden (1, 0): y = 0 - (-1) = 1.
    Case("hardtanh221_hidden0", hardtanh_221, (-3, 1), {1: (0,)}, (R(-1),), (R(1),),
         "hardtanh saturating at -1; crash flips the output"),
    # Corrected P1 on a = (3, -3):
    #   A = ramp(3 - 3) = ramp(0) = clip(1, 0, 1) = 1;  B = ramp(-3 + 3) = ramp(0) = 1
    #   step(1 + 1 - 3/2) = step(1/2) = 1;  y = 1   (zero sum recognised, erratum E1 fixed)
    # Crash input 0 (surviving x = (0, -3)):
    #   A = ramp(-3) = clip(-2, 0, 1) = 0;  B = ramp(3) = clip(4, 0, 1) = 1
    #   step(0 + 1 - 3/2) = step(-1/2) = 0;  y = 0.
    Case("p1_ramp_input0", p1_ramp_net, (3, -3), {0: (0,)}, (R(1),), (R(0),),
         "theory P1/E1: the surviving sum -3 is not zero"),
    # Crash both inputs: surviving sum is the empty sum 0: A = B = ramp(0) = 1,
    #   step(1/2) = 1, y = 1 (erratum E2: the empty configuration also says 'zero sum').
    Case("p1_ramp_all_inputs", p1_ramp_net, (3, -3), {0: (0, 1)}, (R(1),), (R(1),),
         "theory E2: all inputs crashed still outputs 1"),
    # step_231 at x = (1, -1):
    #   z1 = (1 - 1, 1, 0 + 1) = (0, 1, 1) -> step = (0, 1, 1)   [step(0) = 0]
    #   y = 4*0 + 2*1 + 1*1 + 1/2 = 7/2
    # Crash input 1 (x = (1, 0)): z1 = (1, 1, 0) -> (1, 1, 0);  y = 4 + 2 + 0 + 1/2 = 13/2.
    Case("step231_input1", step_231, (1, -1), {0: (1,)}, (R(7, 2),), (R(13, 2),),
         "step with a pre-activation exactly 0 on both sides; the crash increases y"),
    # relu_222 at x = (3, 1):
    #   z1 = (3 - 1, 3 + 1) = (2, 4) -> (2, 4)
    #   y = (2 + 2*4 + 1, -2 + 4 + 0) = (11, 2)
    # Crash OUTPUT neuron (2, 1): y = (11, 0).
    Case("relu222_output1", relu_222, (3, 1), {2: (1,)}, (R(11), R(2)), (R(11), R(0)),
         "a crash at the output layer zeroes that output"),
    # Crash at two layers at once, input (0, 1) and hidden (1, 0):
    #   x' = (3, 0): z1 = (3, 3) -> (3, 3); hidden 0 crashed -> (0, 3)
    #   y = (0 + 2*3 + 1, 0 + 3 + 0) = (7, 3).
    Case("relu222_two_layers", relu_222, (3, 1), {0: (1,), 1: (0,)}, (R(11), R(2)), (R(7), R(3)),
         "crashes at layers 0 and 1 at once"),
    # linear_deep at x = (1, 1):
    #   y1 = (1 + 2, 0 + 1) = (3, 1)
    #   y2 = (3 - 1 + 1, 3/2 + 1 + 0) = (3, 5/2)
    #   y3 = 2*3 + 5/2 - 1 = 15/2
    # Crash hidden (1, 0): by linearity Δ = W3 W2 (-3 e_0) = -3 * W3 (1, 1/2)ᵀ = -3*(2 + 1/2) = -15/2,
    #   so y = 0; directly: y1 = (0, 1), y2 = (0 - 1 + 1, 0 + 1) = (0, 1), y3 = 0 + 1 - 1 = 0.
    Case("linear_deep_hidden10", linear_deep, (1, 1), {1: (0,)}, (R(15, 2),), (R(0),),
         "3 linear layers: Δ = W3 W2 (-y1_0 e_0)"),
    # Crash hidden (2, 1) of the second hidden layer: Δ = W3 (-(5/2) e_1) = -5/2, y = 15/2 - 5/2 = 5.
    # Directly: y2 = (3, 0), y3 = 6 + 0 - 1 = 5.
    Case("linear_deep_hidden21", linear_deep, (1, 1), {2: (1,)}, (R(15, 2),), (R(5),),
         "3 linear layers, crash in the second hidden layer"),
    # relu_bias_121 at x = (1,): z1 = (1 + 1/2, -1) = (3/2, -1) -> (3/2, 0); y = 2*(3/2) + 0 = 3.
    # "incoming_zeroed": crashed (1, 0) outputs relu(b) = relu(1/2) = 1/2 (not 0): y = 2*(1/2) = 1.
    Case("relu_bias_incoming_zeroed", relu_bias_121, (1,), {1: (0,)}, (R(3),), (R(1),),
         "D3's other reading: incoming weights zeroed, output φ(b) = 1/2",
         semantics="incoming_zeroed"),
    # The same crash under the default "output_zero": y = 2*0 + 0 = 0.
    Case("relu_bias_output_zero", relu_bias_121, (1,), {1: (0,)}, (R(3),), (R(0),),
         "contrast with the incoming_zeroed case"),
    # "incoming_zeroed" at the INPUT layer is still 0: x' = (0,): z1 = (1/2, 0) -> (1/2, 0), y = 1.
    Case("relu_bias_incoming_zeroed_input", relu_bias_121, (1,), {0: (0,)}, (R(3),), (R(1),),
         "an input neuron has no incoming weights: it outputs 0 under both semantics",
         semantics="incoming_zeroed"),
    # float_dyadic (float layers!) at x = (2, 4):
    #   z1_0 = 1 - 1 + 1/8 = 1/8 -> 1/8;  z1_1 = 3 + 3 - 1 = 5 -> 5
    #   y = 1/8 - 10 + 1/2 = -75/8
    # Crash hidden (1, 1): y = 1/8 + 1/2 = 5/8.
    Case("float_dyadic_hidden1", float_dyadic, (2, 4), {1: (1,)}, (R(-75, 8),), (R(5, 8),),
         "float layers with dyadic values: exact mode reads the binary rationals"),
]


# --------------------------------------------------------------------------- smooth cases

def tanh_221():
    """W1 = [[0.5, -1], [1.5, 0.25]], b1 = [0.1, -0.2]; W2 = [[1, -2]], b2 = [0.3]; tanh."""
    return Network.from_numpy([[[0.5, -1.0], [1.5, 0.25]], [[1.0, -2.0]]], [[0.1, -0.2], [0.3]],
                              ["tanh", "linear"], name="tanh_221")


def sigmoid_231():
    """W1 = [[1, -1], [0.5, 2], [-1.5, 0.25]], b1 = [0, 0.5, -0.5]; W2 = [[1, 2, -3]], b2 = [0]."""
    return Network.from_numpy([[[1.0, -1.0], [0.5, 2.0], [-1.5, 0.25]], [[1.0, 2.0, -3.0]]],
                              [[0.0, 0.5, -0.5], [0.0]], ["sigmoid", "linear"], name="sigmoid_231")


def softplus_tanh_deep():
    """2 → 2 (softplus) → 2 (tanh) → 1.

    W1 = [[1, 0.5], [-0.5, 1]], b1 = [0, 0.25]; W2 = [[1, -1], [0.5, 0.5]], b2 = [0.1, 0];
    W3 = [[2, -1]], b3 = [0].
    """
    return Network.from_numpy([[[1.0, 0.5], [-0.5, 1.0]], [[1.0, -1.0], [0.5, 0.5]], [[2.0, -1.0]]],
                              [[0.0, 0.25], [0.1, 0.0], [0.0]], ["softplus", "tanh", "linear"],
                              name="softplus_tanh_deep")


def _sig(t):
    return 1.0 / (1.0 + math.exp(-t))


def _sp(t):
    return math.log1p(math.exp(t))


# tanh_221 at x = (0.4, -0.7):
#   h0 = tanh(0.5*0.4 + 0.7 + 0.1) = tanh(1.0);   h1 = tanh(0.6 - 0.175 - 0.2) = tanh(0.225)
#   y = h0 - 2 h1 + 0.3;   crash (1, 1): y = h0 + 0.3
_t0, _t1 = math.tanh(1.0), math.tanh(0.225)
# sigmoid_231 at x = (1, -1):
#   s0 = σ(1 + 1) = σ(2);  s1 = σ(0.5 - 2 + 0.5) = σ(-1);  s2 = σ(-1.5 - 0.25 - 0.5) = σ(-2.25)
#   y = s0 + 2 s1 - 3 s2;   crash input 0 (x = (0, -1)): σ(1), σ(-2 + 0.5) = σ(-1.5), σ(-0.25 - 0.5) = σ(-0.75)
_s = (_sig(2.0), _sig(-1.0), _sig(-2.25))
_sc = (_sig(1.0), _sig(-1.5), _sig(-0.75))
# softplus_tanh_deep at x = (1, 2):
#   a0 = sp(1 + 1) = sp(2);  a1 = sp(-0.5 + 2 + 0.25) = sp(1.75)
#   c0 = tanh(a0 - a1 + 0.1);  c1 = tanh(0.5 a0 + 0.5 a1);  y = 2 c0 - c1
#   crash (1, 0) and (2, 1) at once: a0 -> 0;  c0 = tanh(-a1 + 0.1);  c1 -> 0;  y = 2 c0
_a0, _a1 = _sp(2.0), _sp(1.75)

SMOOTH_CASES = [
    Case("tanh221_hidden1", tanh_221, (0.4, -0.7), {1: (1,)},
         (_t0 - 2 * _t1 + 0.3,), (_t0 + 0.3,), "tanh, hidden crash", expected_exact=False),
    Case("sigmoid231_input0", sigmoid_231, (1.0, -1.0), {0: (0,)},
         (_s[0] + 2 * _s[1] - 3 * _s[2],), (_sc[0] + 2 * _sc[1] - 3 * _sc[2],),
         "sigmoid, input crash", expected_exact=False),
    Case("softplus_tanh_two_layers", softplus_tanh_deep, (1.0, 2.0), {1: (0,), 2: (1,)},
         (2 * math.tanh(_a0 - _a1 + 0.1) - math.tanh(0.5 * _a0 + 0.5 * _a1),),
         (2 * math.tanh(-_a1 + 0.1),),
         "softplus then tanh, crashes at two hidden layers", expected_exact=False),
    # incoming_zeroed on a sigmoid layer: crashed (1, 1) outputs σ(b) = σ(0.5).
    Case("sigmoid231_incoming_zeroed", sigmoid_231, (1.0, -1.0), {1: (1,)},
         (_s[0] + 2 * _s[1] - 3 * _s[2],), (_s[0] + 2 * _sig(0.5) - 3 * _s[2],),
         "sigmoid, incoming_zeroed outputs σ(b)", semantics="incoming_zeroed", expected_exact=False),
]
SIGMOID_CASES = SMOOTH_CASES

ALL_CASES = CASES + SMOOTH_CASES
CASES_BY_NAME = {c.name: c for c in ALL_CASES}
if len(CASES_BY_NAME) != len(ALL_CASES):  # pragma: no cover - table sanity
    raise RuntimeError("tests/cases.py: duplicate case names")
