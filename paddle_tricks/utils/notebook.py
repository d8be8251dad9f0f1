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
from dataclasses import dataclass
from pathlib import Path

from ..errors import DataError, UserError

__all__ = ["SMOKE_ENV", "DATA_LOCATIONS", "smoke_mode", "start_notebook", "find_data", "run_history",
           "PageRecords", "page_records", "settings_table", "plot_record_curves",
           "comparison_lines"]

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


@dataclass
class PageRecords:
    """The committed run records of one results page, read by :mod:`paddle_tricks.report.pages`."""

    page: str
    folders: list
    rows: list                  # RunSummary per record, in folder order
    ema: list                   # each record's EMA top-1 per epoch ({} without an EMA)

    @property
    def block(self) -> str:
        """The page's generated block, exactly as ``paddle-tricks report --page`` writes it."""
        from ..report.pages import page_block
        return page_block(self.page, self.rows, self.ema)

    def settings(self):
        """:func:`settings_table` of the records' ``config.yaml``."""
        from ..report.runs import read_run
        return settings_table({row.label: read_run(f).config for row, f in zip(self.rows, self.folders)})

    def show(self, title: str) -> None:
        """Display, in a notebook: the settings table, the curves (:func:`plot_record_curves`) and the block."""
        import matplotlib.pyplot as plt
        from IPython.display import Markdown, display

        display(self.settings())
        plot_record_curves(self.rows, self.ema, title=title)
        plt.show()
        display(Markdown(self.block))


def page_records(results_dir: str | os.PathLike, page: str) -> PageRecords | None:
    """The records of ``<results_dir>/runs/<page>/``, or ``None`` when the page has none yet."""
    from ..report.pages import page_rows, record_folders
    try:
        folders = record_folders(str(results_dir), page)
    except UserError:
        return None
    rows, ema = page_rows(folders, log=lambda *_: None)
    return PageRecords(page, folders, rows, ema)


def _optimizer_text(opt: dict) -> str:
    text = opt["name"] + (f" {opt['momentum']:g}" if opt["name"] == "Momentum" else "")
    return text + f", weight decay {opt['weight_decay']:g}"


def _lr_text(lr: dict) -> str:
    text = f"{lr['name']} {lr['base_lr']:g}"
    warmup = "Warmup" in lr["name"] and lr["warmup_epochs"]
    return text + (f", warm-up {lr['warmup_epochs']:g} epochs" if warmup else "")


def settings_table(configs: dict):
    """One row per resolved config (``{label: config}``): model, input size, epochs, batch, optimizer, LR, seed,
    EMA, as a ``pandas.DataFrame`` indexed by label."""
    import pandas as pd

    from ..report.runs import eval_input_size
    rows = {}
    for label, cfg in configs.items():
        arch, data, ema = cfg["Arch"], cfg["Data"], cfg.get("EMA") or {}
        options = {k: v for k, v in (arch.get("options") or {}).items()
                   if k not in ("in_channels", "init", "input_size")}
        size = eval_input_size(cfg)
        rows[label] = {
            "model": arch["name"] + (" " + ", ".join(f"{k}={v}" for k, v in options.items()) if options else ""),
            "input (px)": "?" if size is None else str(size[0]) if size[0] == size[1] else f"{size[0]}×{size[1]}",
            "epochs": cfg["Global"]["epochs"], "batch": data["batch_size"],
            "optimizer": _optimizer_text(cfg["Optimizer"]), "LR": _lr_text(cfg["LR"]), "seed": cfg["Global"]["seed"],
            "EMA": f"on (decay {ema['decay']:g})" if ema.get("enable") else "off"}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("run")


def _unfinished(row) -> str:
    return "" if row.status == "finished" else f" (unfinished, {row.epochs_done}/{row.epochs_planned} epochs)"


def plot_record_curves(rows: list, ema: list, title: str = "Eval top-1 per epoch"):
    """Eval top-1 (%) per epoch of every record on one figure, its EMA top-1 dashed in the same colour; the figure."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(11, 4.8))
    cmap = plt.get_cmap("tab10" if len(rows) <= 10 else "tab20")
    for i, (row, curve) in enumerate(zip(rows, ema)):
        color = cmap(i % cmap.N)
        if row.curve:
            ax.plot([e for e, _ in row.curve], [100 * a for _, a in row.curve], "-", color=color, lw=1.5,
                    label=row.label + _unfinished(row))
        if curve:
            ax.plot(sorted(curve), [100 * curve[e] for e in sorted(curve)], "--", color=color, lw=1.2,
                    label=f"{row.label}, EMA")
    ax.set_xlabel("epoch")
    ax.set_ylabel("top-1 (%)")
    ax.set_ylim(bottom=0)
    ax.set_title(title)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    return fig


_SEEDED = re.compile(r"^(.+)_s(\d+)$")


def _final(row) -> str:
    text = "-" if row.final_top1 is None else f"{100 * row.final_top1:.1f}%"
    if row.ema_final_top1 is not None:
        text += f" (EMA {100 * row.ema_final_top1:.1f}%)"
    return text + _unfinished(row)


def _gap(a, b) -> str:
    return "" if a.final_top1 is None or b.final_top1 is None else \
        f" ({100 * (a.final_top1 - b.final_top1):+.1f} points)"


def comparison_lines(rows: list, baseline: str = "mobilenet_v2") -> list[str]:
    """Final eval top-1 of the records named ``<configuration>_s<seed>``, compared in pairs of the same seed.

    Each model against the ``baseline`` model under the same recipe (``<configuration>`` ending in ``_improved``
    is the improved recipe, any other the tutorial's), and each configuration's improved recipe against its
    tutorial recipe. Unfinished records say so.
    """
    named = {}
    for row in rows:
        match = _SEEDED.match(row.label)
        if match:
            named[(match.group(1), int(match.group(2)))] = row
    lines = []
    for (config, seed), row in named.items():
        improved = config.endswith("_improved")
        for (other, other_seed), base in named.items():
            if (other_seed != seed or other.endswith("_improved") != improved or base is row
                    or not (base.model or "").startswith(baseline) or (row.model or "").startswith(baseline)):
                continue
            madds = "" if row.madds is None or base.madds is None else \
                f"; {row.madds / 1e6:.1f} M vs {base.madds / 1e6:.1f} M MAdds"
            lines.append(f"{'improved' if improved else 'tutorial'} recipe, seed {seed}: {row.model} {_final(row)} "
                         f"vs {base.model} {_final(base)}{_gap(row, base)}{madds}")
    for (config, seed), row in named.items():
        tutorial = named.get((config[:-len("_improved")], seed)) if config.endswith("_improved") else None
        if tutorial is not None:
            lines.append(f"{row.model}, seed {seed}: improved recipe {_final(row)} vs tutorial recipe "
                         f"{_final(tutorial)}{_gap(row, tutorial)}")
    return lines
