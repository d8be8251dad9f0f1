"""Build, and optionally execute, the companion notebooks from their sources in ``_src/``.

Each source ``_src/NN_name.py`` is a jupytext percent-format script (``# %%`` code cells, ``# %% [markdown]``
text cells), so the notebook code is plain Python that editors, linters and reviews read as such. This script
turns ``_src/NN_name.py`` into ``NN_name.ipynb`` with ``jupytext``. The first cell of each notebook says which
settings produced its stored outputs; this script writes that sentence to match the run it makes.

Usage (from the repository root)::

    python notebooks/_build.py                       # write all five notebooks without outputs
    python notebooks/_build.py --execute             # execute all in smoke mode (PADDLE_TRICKS_SMOKE=1)
    python notebooks/_build.py --execute --real 02   # notebook 02 with the real settings, the others smoke
    python notebooks/_build.py --execute --only 03   # rebuild and execute one notebook

Execution uses ``nbclient`` with a fresh ``python3`` kernel whose working folder is ``notebooks/``.
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import jupytext
import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "_src"
SMOKE_ENV = "PADDLE_TRICKS_SMOKE"


def sources() -> dict[str, Path]:
    """The notebook sources by key: ``{'01': _src/01_cnn_tricks_handbook.py, ...}``."""
    return {p.name[:2]: p for p in sorted(SOURCES.glob("[0-9][0-9]_*.py"))}


NOTEBOOKS = {key: {"source": path, "file": path.stem + ".ipynb"} for key, path in sources().items()}


def settings_sentence(mode: str, seconds: float | None = None) -> str:
    """The statement of the first cell: which settings produced the stored outputs."""
    if mode == "none":
        return ("**Stored outputs:** none yet. Run `python notebooks/_build.py --execute` to store them, "
                f"or run the cells yourself (set `{SMOKE_ENV}=1` for the quick settings).")
    try:
        import paddle
        paddle_version = paddle.__version__
    except ImportError:  # pragma: no cover
        paddle_version = "?"
    device = f"{os.cpu_count()}-core CPU, no GPU"
    when = datetime.date.today().isoformat()
    took = f", {seconds:.0f} s in total" if seconds is not None else ""
    if mode == "smoke":
        how = (f"were produced with `{SMOKE_ENV}=1` (smoke settings: tiny sizes, a few batches; the numbers show "
               f"that the code runs, not what the methods achieve)")
    else:
        how = (f"were produced without `{SMOKE_ENV}` (the real settings of this notebook)")
    return (f"**Stored outputs:** the outputs saved in this file {how}, by `python notebooks/_build.py --execute`, "
            f"on a {device} (Paddle {paddle_version}, Python {platform.python_version()}), {when}{took}. "
            f"Unset `{SMOKE_ENV}` to run the real settings (a GPU is advised where the notebook trains); "
            f"set `{SMOKE_ENV}=1` for a run of under two minutes on a CPU.")


def build(key: str, mode: str = "none", seconds: float | None = None) -> nbformat.NotebookNode:
    """The notebook ``key`` (e.g. ``'01'``) with its first cell stating ``mode`` ('none', 'smoke', 'real')."""
    text = jupytext.read(NOTEBOOKS[key]["source"], fmt="py:percent")
    cells = [new_markdown_cell(c.source) if c.cell_type == "markdown" else new_code_cell(c.source)
             for c in text.cells]
    if not cells or cells[0].cell_type != "markdown":
        raise ValueError(f"{NOTEBOOKS[key]['source'].name}: the first cell must be the Markdown title")
    cells[0].source = cells[0].source.strip() + "\n\n" + settings_sentence(mode, seconds)
    for i, cell in enumerate(cells):
        cell.id = f"{key}-cell-{i:02d}"          # stable ids keep the diffs of rebuilt notebooks small
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata["paddle_tricks"] = {"outputs": mode}
    return nb


def execute(nb: nbformat.NotebookNode, smoke: bool, timeout: int = 1800) -> float:
    """Execute ``nb`` in place in a fresh kernel (cwd ``notebooks/``); returns the seconds it took."""
    from nbclient import NotebookClient

    env = dict(os.environ)
    env.pop(SMOKE_ENV, None)
    if smoke:
        env[SMOKE_ENV] = "1"
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(HERE)}})
    with tempfile.TemporaryDirectory(prefix="notebook_runs_") as tmp:
        env["TMPDIR"] = tmp                      # the notebooks' temporary run folders are removed afterwards
        start = time.time()
        client.execute(env=env)
        return time.time() - start


def path_of(key: str) -> Path:
    """Where notebook ``key`` is stored."""
    return HERE / NOTEBOOKS[key]["file"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--execute", action="store_true", help="execute and store the outputs")
    ap.add_argument("--real", nargs="*", default=[], metavar="NN",
                    help="notebooks to execute with the real settings (default: smoke for all)")
    ap.add_argument("--only", nargs="*", default=None, metavar="NN", help="notebooks to build (default: all)")
    args = ap.parse_args(argv)
    keys = args.only or list(NOTEBOOKS)
    for key in keys:
        if key not in NOTEBOOKS:
            ap.error(f"unknown notebook {key}; choose from {', '.join(NOTEBOOKS)}")
        if not args.execute:
            nbformat.write(build(key), path_of(key))
            print(f"wrote {path_of(key).name} (no outputs)")
            continue
        mode = "real" if key in args.real else "smoke"
        nb = build(key, mode)
        seconds = execute(nb, smoke=mode == "smoke")
        # restate the first cell with the measured time, keeping the executed outputs
        nb.cells[0].source = build(key, mode, seconds).cells[0].source
        nbformat.write(nb, path_of(key))
        print(f"wrote {path_of(key).name}: executed with {mode} settings in {seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
