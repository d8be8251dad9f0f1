"""Deploy a trained network: reparameterise, save as a Paddle program or ONNX, check, keep in one folder.

* :mod:`.network`: :func:`export_network` (fuse, trace, save, run in the deploy runtime, compare);
* :mod:`.onnx_format`: the ``paddle2onnx`` conversion;
* :mod:`.folder`: the export folder with its ``deploy.json``, written all at once or not at all.

The command is ``paddle-tricks export`` (:mod:`paddle_tricks.cli.export`).
"""
from .network import FORMATS, ExportError, ExportResult, export_network

__all__ = ["ExportError", "ExportResult", "export_network", "FORMATS"]
