"""symft — symbolic and formal verification of neural-network fault tolerance.

The theory is that of El Mhamdi et al., *The Probabilistic Fault Tolerance of
Neural Networks in the Continuous Limit* and *When Neurons Fail* (restated in
THEORY.md).  The most used names are re-exported here.

Examples
--------
>>> import symft
>>> net = symft.mean_network(4)
>>> symft.output_error(net, [1, 1, 1, 1], symft.CrashPattern([(0, 2)]), exact=True)
array([-1/4], dtype=object)
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
    "load_network", "save_network",
    "Network", "random_network", "mean_network", "first_input_network", "rescale_lipschitz", "layer_norms",
]
