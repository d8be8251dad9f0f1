"""Switch a trick on for a whole network by model surgery: ``apply_tricks(model, {...})``.

The user manual (every key, type and option, with the papers) is ``docs/TRICKS.md``. Layout:

* :mod:`.surgery`, :mod:`.probe`, :mod:`.report`, :mod:`.options`: the mechanism (walk, replace, probe
  forward pass, report, option checks), which knows no trick;
* :mod:`.conv3x3`, :mod:`.act`, :mod:`.downsample` (+ :mod:`.blurpool`), :mod:`.attention`,
  :mod:`.regularize`: one module per config key; their types are registered by the layers
  (``register_act``, ``register_attn``) or here (``register_conv3x3``, ``register_downsample``);
* :mod:`.apply`: the trick table and ``apply_tricks``.
"""
from .apply import SLOTS, TRICK_ORDER, apply_tricks, available_tricks
from .blurpool import BLURPOOL
from .conv3x3 import register_conv3x3
from .downsample import Downsampler, register_downsample
from .regularize import DropoutLinear
from .report import Skip, TrickReport, TrickResult
from .surgery import PostOps

__all__ = ["apply_tricks", "available_tricks", "TrickReport", "TrickResult", "DropoutLinear", "PostOps",
           "TRICK_ORDER", "SLOTS", "Skip", "register_conv3x3", "register_downsample", "Downsampler", "BLURPOOL"]

# Every module of the package is imported, so a trick type in a new file (register_downsample,
# register_conv3x3) is registered with the package.
import importlib as _importlib  # noqa: E402
import pkgutil as _pkgutil  # noqa: E402

for _mod in _pkgutil.iter_modules(__path__):
    if not _mod.name.startswith("_"):
        _importlib.import_module(f"{__name__}.{_mod.name}")
