"""Helpers shared by the companion notebooks in ``notebooks/``: set-up, data look-up, run histories, reports.

The notebooks import them instead of copying them. They need the notebook extras (``matplotlib``, ``pandas``,
``IPython``), which are imported inside the functions, so importing this module costs nothing.
"""
from __future__ import annotations

import contextlib
import io
import os
import re
import warnings
from pathlib import Path

from ..errors import DataError

__all__ = ["SMOKE_ENV", "DATA_LOCATIONS", "smoke_mode", "start_notebook", "find_data", "run_history",
           "show_markdown_file"]

SMOKE_ENV = "PADDLE_TRICKS_SMOKE"       # "1": tiny sizes and a few batches


def smoke_mode() -> bool:
    """Whether the notebooks run with their quick settings (``PADDLE_TRICKS_SMOKE=1``)."""
    return os.environ.get(SMOKE_ENV) == "1"


def start_notebook(root: str | os.PathLike | None = None, seed: int = 0) -> bool:
    """The set-up of every notebook: quiet imports, plot and table defaults, seeds, one status line.

    Args:
        root: the repository the notebook put first on ``sys.path`` (only to say where the package came from).
        seed: seed of Paddle and NumPy.

    Returns:
        Whether smoke mode is on.
    """
    warnings.filterwarnings("ignore", message="No ccache found")
    warnings.filterwarnings("ignore", category=UserWarning, module=r"paddle(\..*)?")
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    with contextlib.redirect_stderr(io.StringIO()):   # Paddle prints a thread-count notice on import
        import paddle
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd

    import paddle_tricks

    plt.rcParams.update({"figure.dpi": 72, "axes.grid": True, "grid.alpha": 0.3, "font.size": 10})
    pd.set_option("display.precision", 4)
    paddle.seed(seed)
    np.random.seed(seed)
    smoke = smoke_mode()
    here = root is not None and Path(paddle_tricks.__file__).resolve().is_relative_to(Path(root).resolve())
    print(f"smoke mode: {'on' if smoke else 'off'} | paddle {paddle.__version__} | "
          f"paddle_tricks {paddle_tricks.__version__} from {'this repository' if here else 'the installed package'}"
          f" | device: {paddle.device.get_device()}")
    return smoke


def _caltech101(path: str) -> str:
    from ..data.caltech16 import find_caltech101_root
    return find_caltech101_root(path)


def _fashion_mnist(path: str) -> str:
    if not os.path.isfile(os.path.join(path, "t10k-images-idx3-ubyte.gz")):
        raise DataError(f"no Fashion-MNIST files (t10k-images-idx3-ubyte.gz, ...) in {path}")
    return path


# data set -> (environment variable, folder name under data/, check that returns the root to use)
DATA_LOCATIONS = {
    "caltech101": ("PADDLE_TRICKS_CALTECH101", "caltech101", _caltech101),
    "fashion-mnist": ("PADDLE_TRICKS_FASHION_MNIST", "fashion-mnist", _fashion_mnist),
}


def find_data(name: str, root: str | os.PathLike, log=print) -> str | None:
    """The first usable folder of data set ``name`` (a key of ``DATA_LOCATIONS``), or ``None``.

    Looks at ``$<its variable>``, then ``<root>/data/<folder>`` (where ``tools/prepare_data.py`` puts it), then
    ``<shared>/data/<folder>`` with ``<shared>`` = ``$PADDLE_TRICKS_SHARED`` or the ``shared`` folder beside the
    repository ``root``. A folder that exists but does not hold the data is reported through ``log`` and skipped.
    """
    if name not in DATA_LOCATIONS:
        raise KeyError(f"unknown data set '{name}'; known: {', '.join(DATA_LOCATIONS)}")
    variable, folder, check = DATA_LOCATIONS[name]
    shared = Path(os.environ.get("PADDLE_TRICKS_SHARED", Path(root).parent / "shared"))
    for candidate in (os.environ.get(variable), Path(root) / "data" / folder, shared / "data" / folder):
        if candidate and Path(candidate).exists():
            try:
                return check(str(candidate))
            except DataError as e:
                log(f"skipping {candidate}: {e}")
    return None


def run_history(output_dir: str):
    """The epoch records of a run folder's ``metrics.jsonl`` as a ``pandas.DataFrame`` indexed by epoch."""
    import pandas as pd

    from ..report.runs import read_run
    records = read_run(output_dir).records        # epoch order, a resumed epoch counted once
    return pd.DataFrame(records).set_index("epoch") if records else pd.DataFrame(index=pd.Index([], name="epoch"))


def show_markdown_file(path: str | os.PathLike, log=print) -> bool:
    """Display a Markdown file (a results page) with its relative links pointed at its folder.

    Returns ``False`` (and says so through ``log``) when the file does not exist.
    """
    from IPython.display import Markdown, display

    path = Path(path)
    if not path.is_file():
        log(f"{path.name} has not been written yet")
        return False
    base = os.path.relpath(path.parent, Path.cwd()).replace(os.sep, "/")
    display(Markdown(re.sub(r"\]\((?!https?://|/|#)([^)]+)\)", rf"]({base}/\1)", path.read_text(encoding="utf-8"))))
    return True
