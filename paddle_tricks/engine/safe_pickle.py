"""Read a pickled weights file (``.pdparams`` of PaddleClas or ``paddle.vision``, checkpoints of this suite's
earlier versions) without running any code it may carry.

A pickle names the functions to call while loading it; ``pickle.load`` calls whatever it names, such as
``os.system``. ``SafeUnpickler.find_class`` (the documented hook, Python's "Restricting Globals") allows only
what ``paddle.save`` writes for arrays, tensors and plain containers, and refuses anything else before it is
called. What ``paddle.save`` writes: numpy arrays (``numpy.core.multiarray._reconstruct``, ``numpy.ndarray``,
``numpy.dtype``, ``numpy.core.multiarray.scalar``; ``_codecs.encode`` for bytes under protocol 2),
``collections.OrderedDict``, a dygraph tensor as ``builtins.tuple((name, array))``, and a ``DenseTensor`` as
``builtins.eval('data', {'data': array})``, which is answered here by a look-up that evaluates nothing.
"""
from __future__ import annotations

import codecs
import collections
import pickle

import numpy as np

__all__ = ["UnsafePickle", "SafeUnpickler", "safe_load", "untuple_tensors"]


class UnsafePickle(pickle.UnpicklingError):
    """The pickle asks for something other than arrays, tensors and plain containers."""


def _named_value(expression, names=None, *_):
    """``eval(expression, names)`` for the one form ``paddle.save`` uses: a bare name looked up in ``names``."""
    if not (isinstance(expression, str) and isinstance(names, dict) and expression in names):
        raise UnsafePickle(f"it calls eval({expression!r}), which is refused")
    return names[expression]


# numpy's own array and scalar rebuilders, taken from what numpy pickles (their module moved in numpy 2)
_NUMPY_CORE = ("numpy.core.multiarray", "numpy._core.multiarray")
_RECONSTRUCT = np.zeros(1).__reduce__()[0]
_SCALAR = np.float32(0).__reduce__()[0]
_ALLOWED = {
    **{(m, "_reconstruct"): _RECONSTRUCT for m in _NUMPY_CORE},
    **{(m, "scalar"): _SCALAR for m in _NUMPY_CORE},
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("_codecs", "encode"): codecs.encode,
}
for _builtins in ("builtins", "__builtin__"):      # protocol 2 names Python 2's module
    _ALLOWED[(_builtins, "eval")] = _named_value
    _ALLOWED.update(((_builtins, t.__name__), t) for t in (tuple, list, dict, set, frozenset, int, float, complex,
                                                           bool, str, bytes, bytearray))


class SafeUnpickler(pickle.Unpickler):
    """An unpickler that builds only arrays, tensors (as arrays) and plain containers."""

    def find_class(self, module: str, name: str):
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise UnsafePickle(f"it asks for {module}.{name}, which is not an array, tensor or plain "
                               f"container") from None


def untuple_tensors(obj):
    """Replace the ``(name, array)`` pairs that ``paddle.save`` writes for tensors by the arrays, recursively."""
    if isinstance(obj, tuple) and len(obj) == 2 and isinstance(obj[0], str) and isinstance(obj[1], np.ndarray):
        return obj[1]
    if isinstance(obj, dict):
        return type(obj)((k, untuple_tensors(v)) for k, v in obj.items())
    if isinstance(obj, list):
        return [untuple_tensors(v) for v in obj]
    return obj


def safe_load(path: str):
    """The object pickled in ``path``, tensors as numpy arrays; ``UnsafePickle`` if it asks for anything else."""
    with open(path, "rb") as f:
        return untuple_tensors(SafeUnpickler(f).load())
