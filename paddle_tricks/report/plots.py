"""The two plots of a run comparison: eval top-1 per epoch, and best top-1 against MAdds.

Both start their axes at 0, give each run one colour in both, and mark unfinished runs (dashed curve, ``x``
marker); the labels of the MAdds plot are placed by ``adjustText`` so that they do not overlap.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .compare import RunSummary

__all__ = ["plot_curves", "plot_accuracy_vs_madds", "label_points", "CURVES_PNG", "MADDS_PNG"]

CURVES_PNG = "top1_per_epoch.png"
MADDS_PNG = "top1_vs_madds.png"


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _colors(rows: list[RunSummary]) -> dict[str, tuple]:
    """One colour per run, the same in both plots."""
    plt = _pyplot()
    cmap = plt.get_cmap("tab10" if len(rows) <= 10 else "tab20")
    return {r.label: cmap(i % cmap.N) for i, r in enumerate(rows)}


def plot_curves(rows: list[RunSummary], path: str, title: str = "Eval top-1 per epoch") -> str:
    """Eval top-1 (%) per epoch of every run on one chart; unfinished runs dashed."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.8), dpi=120)
    colors = _colors(rows)
    drawn = 0
    for r in rows:
        if not r.curve:
            continue
        ep = [c[0] for c in r.curve]
        acc = [100 * c[1] for c in r.curve]
        unfinished = r.status != "finished"
        name = r.label + (f" ({r.epochs_done}/{r.epochs_planned}, unfinished)" if unfinished else "")
        ax.plot(ep, acc, color=colors[r.label], ls="--" if unfinished else "-",
                marker="o" if len(ep) <= 12 else None, ms=3, lw=1.6, label=name)
        drawn += 1
    if not drawn:
        ax.text(0.5, 0.5, "no evaluated epoch in any run", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("epoch")
    ax.set_ylabel("eval top-1 (%)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.set_ylim(bottom=0)
    if drawn:
        from matplotlib.ticker import MaxNLocator
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(fontsize=8, loc="lower right" if drawn <= 6 else "center left",
                  bbox_to_anchor=None if drawn <= 6 else (1.01, 0.5))
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def label_points(ax, points: list[tuple[float, float, str]]) -> list:
    """Write each label beside its point, moved apart by ``adjustText`` so that no two overlap; the texts."""
    from adjustText import adjust_text
    texts = [ax.text(x, y, label, fontsize=8) for x, y, label in points]
    if len(texts) > 1:
        adjust_text(texts, ax=ax, max_move=None, arrowprops={"arrowstyle": "-", "color": "0.5", "lw": 0.5})
    return texts


def plot_accuracy_vs_madds(rows: list[RunSummary], path: str,
                           title: str = "Best eval top-1 against MAdds") -> str:
    """Best eval top-1 (%) against MAdds (millions), one labelled point per run."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.8), dpi=120)
    colors = _colors(rows)
    pts = [(r.madds / 1e6, 100 * r.best_top1, r) for r in rows if r.madds and r.madds > 0 and r.best_top1 is not None]
    if not pts:
        ax.text(0.5, 0.5, "no run with both an accuracy and a MAdds count", ha="center", va="center",
                transform=ax.transAxes)
    for x, y, r in pts:
        ax.scatter([x], [y], s=36, color=colors[r.label], marker="o" if r.status == "finished" else "x", zorder=3)
    ax.set_xlabel("MAdds (millions, deploy form, at each run's input size)")
    ax.set_ylabel("best eval top-1 (%)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if pts:
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        ax.set_xlim(0, 1.25 * max(xs))
        ax.set_ylim(0, min(105.0, 1.1 * max(ys) + 0.5))
    fig.tight_layout()
    label_points(ax, [(x, y, r.label + ("" if r.status == "finished" else " (unfinished)")) for x, y, r in pts])
    fig.savefig(path)
    plt.close(fig)
    return path
