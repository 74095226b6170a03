"""Models from elsewhere: ONNX in and out, PyTorch in.

* :mod:`symft.io.onnx` — :func:`~symft.io.onnx.load_onnx` reads an ONNX model
  into a :class:`~symft.graph.network.Network` (sites named by the ONNX node
  names); :func:`~symft.io.onnx.save_onnx` writes a network as ONNX, so it
  runs in onnxruntime.  Needs the ``onnx`` package (``pip install symft[onnx]``).
* :mod:`symft.io.torch` — :func:`~symft.io.torch.from_torch` converts a
  PyTorch module (``nn.Sequential`` or any module torch.fx can trace; sites
  named by module path, e.g. ``features.1``).  Needs ``torch``
  (``pip install symft[torch]``).

:func:`symft.graph.netfile.load_network` recognises ONNX files by their
content and reads them through :func:`~symft.io.onnx.load_onnx`.  Neither
``onnx`` nor ``torch`` is imported until one of these functions is called.

Examples
--------
>>> from symft.io.onnx import SUPPORTED_OPS
>>> "Conv" in SUPPORTED_OPS
True
"""

__all__: list = []
