"""``SurgeryLeaf``: the mark of a layer whose insides the trick surgery never converts.

The surgery of :mod:`paddle_tricks.tricks` walks a network and swaps convolutions, activations and pools.
A trick layer (ACBlock, BlurPool, DY-ReLU, ...) or an attention / gate module holds such layers of its own,
which must stay as they are: converting the ReLU inside an SE gate or the 3x3 inside an ACBlock would
change the trick itself. Such a layer inherits this mixin; the surgery may replace the layer as a whole
but does not look inside it. A new layer declares this in its own file, so no list in the surgery has to
know about it.
"""
from __future__ import annotations

__all__ = ["SurgeryLeaf"]


class SurgeryLeaf:
    """Mixin for ``nn.Layer`` subclasses: ``class MyGate(SurgeryLeaf, nn.Layer)``."""
