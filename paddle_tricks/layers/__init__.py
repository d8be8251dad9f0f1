"""The tricks library: one module per trick, each citing its paper.

``from paddle_tricks.layers import ACBlock, BlurPool, DyReLUB, AconC, ...``: every module's
``__all__`` is re-exported here, so a new trick only needs its own file.
"""
import importlib as _importlib
import pkgutil as _pkgutil

__all__ = []
for _mod in sorted(_pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if _mod.name.startswith("_"):
        continue
    _module = _importlib.import_module(f"{__name__}.{_mod.name}")
    for _name in getattr(_module, "__all__", []):
        globals()[_name] = getattr(_module, _name)
        __all__.append(_name)
