"""symft — symbolic and formal verification of neural-network fault tolerance.

The theory is that of El Mhamdi et al., *The Probabilistic Fault Tolerance of
Neural Networks in the Continuous Limit* and *When Neurons Fail* (restated on the
documentation's theory page, ``docs/theory.rst``).  The most used names are re-exported here.

Examples
--------
>>> import symft
>>> net = symft.mean_network(4)
>>> symft.output_error(net, [1, 1, 1, 1], symft.CrashPattern([(0, 2)]), exact=True)
array([-1/4], dtype=object)

Models from elsewhere: ``symft.load_network("model.onnx")`` reads ONNX (by
content), ``symft.from_torch(module, example_input)`` converts a PyTorch
module, ``symft.save_onnx(net, path)`` writes ONNX.  The ``onnx`` and
``torch`` packages are imported only when these are called.

The verbs, one per command, with the same keywords (``model``, ``samples``,
``seed``, ``progress``; :mod:`symft.api`): ``symft.exact`` (the moments over
every crash configuration), ``symft.sample`` (a statistical estimate),
``symft.certify`` ((ε, δ) certificates), ``symft.check`` (three methods
compared), ``symft.worst_case`` (the worst crash set) and ``symft.accuracy``
(accuracy under crashes over a dataset); ``symft.moments`` (E Δ and Var Δ
from the best source, labelled) and ``symft.train`` (training with the
fault-tolerance regularizer; needs torch).  They, and the engines and
libraries behind them (SymPy, SciPy, z3, …), are imported on first use, so
``import symft`` stays light.
"""

__version__ = "0.1.0"

from .graph.activations import Activation, custom_activation, get_activation, register_activation
from .errors import (FaultModelError, InvalidArgument, NetworkFormatError, SolverUnknown,
                     SymbolicValueError, SymftError, TooLargeError)
from .faults import Byzantine, CrashPattern, NeuronCrash, StuckAt, SynapseCrash
from .engines.forward import backward, forward, forward_masked, forward_patterns, forward_trace, output_error
from .graph.netfile import load_network, save_network
from .graph.network import (Network, first_input_network, layer_norms, mean_network, random_network,
                      rescale_lipschitz)

__all__ = [
    "__version__",
    "Activation", "custom_activation", "get_activation", "register_activation",
    "SymftError", "InvalidArgument", "NetworkFormatError", "FaultModelError", "SymbolicValueError",
    "TooLargeError", "SolverUnknown",
    "NeuronCrash", "SynapseCrash", "Byzantine", "StuckAt", "CrashPattern",
    "forward", "forward_trace", "forward_masked", "forward_patterns", "output_error", "backward",
    "load_network", "save_network", "load_onnx", "save_onnx", "from_torch",
    "exact", "sample", "moments", "certify", "check", "worst_case", "accuracy", "train",
    "Network", "random_network", "mean_network", "first_input_network", "rescale_lipschitz", "layer_norms",
]


#: Names served lazily, so that ``import symft`` never imports onnx or torch (nor the engines it does not need).
_LAZY = {"load_onnx": ("symft.io.onnx", "load_onnx"), "save_onnx": ("symft.io.onnx", "save_onnx"),
         "from_torch": ("symft.io.torch", "from_torch"),
         "moments": ("symft.engines.moments", "moments"), "train": ("symft.training.train", "train"),
         **{verb: ("symft.api", verb) for verb in ("exact", "sample", "certify", "check", "worst_case", "accuracy")}}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        mod, attr = _LAZY[name]
        value = getattr(importlib.import_module(mod), attr)
        globals()[name] = value          # later reads are plain attribute reads
        return value
    raise AttributeError(f"module 'symft' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
