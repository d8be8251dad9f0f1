"""Helpers shared by the notebook sources: cell constructors and the setup cell every notebook starts with."""
from __future__ import annotations


def md(text: str) -> tuple[str, str]:
    """A Markdown cell."""
    return ("md", text)


def code(text: str) -> tuple[str, str]:
    """A code cell."""
    return ("code", text)


# The first code cell of every notebook: the smoke switch, the package import from the repository next to the
# notebook (or an installed copy), quiet imports and plotting defaults. ``{extra}`` adds per-notebook imports.
SETUP = '''
# Setup: smoke switch, the package, plotting defaults.
import contextlib, io, os, pathlib, sys, tempfile, time, warnings

SMOKE = os.environ.get("PADDLE_TRICKS_SMOKE") == "1"   # "1": tiny sizes and a few batches

# This notebook lives in <repository>/notebooks: put the repository first on the import path, so that the
# package next to the notebook is the one used (without a checkout, an installed paddle_tricks is used).
ROOT = pathlib.Path.cwd().resolve()
for _folder in (ROOT, *ROOT.parents):
    if (_folder / "paddle_tricks" / "__init__.py").is_file():
        ROOT = _folder
        sys.path.insert(0, str(ROOT))
        break

warnings.filterwarnings("ignore", message="No ccache found")
warnings.filterwarnings("ignore", category=UserWarning, module=r"paddle(\\..*)?")
warnings.filterwarnings("ignore", category=DeprecationWarning)
with contextlib.redirect_stderr(io.StringIO()):   # Paddle prints a thread-count notice on import
    import paddle
import paddle.nn as nn
import paddle_tricks

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

plt.rcParams.update({"figure.dpi": 72, "axes.grid": True, "grid.alpha": 0.3, "font.size": 10})
pd.set_option("display.precision", 4)
paddle.seed(0)
np.random.seed(0)
_where = "this repository" if str(ROOT) in paddle_tricks.__file__ else "the installed package"
print(f"smoke mode: {'on' if SMOKE else 'off'} | paddle {paddle.__version__} | "
      f"paddle_tricks {paddle_tricks.__version__} from {_where} | device: {paddle.device.get_device()}")
'''


def setup(extra: str = "") -> tuple[str, str]:
    """The setup code cell, followed by ``extra`` import lines."""
    return code(SETUP.strip("\n") + ("\n\n" + extra.strip("\n") if extra.strip() else ""))
