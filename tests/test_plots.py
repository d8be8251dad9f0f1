"""The comparison plots: labels of nearby points do not overlap, axes start at 0."""
import itertools

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from paddle_tricks.report.compare import RunSummary  # noqa: E402
from paddle_tricks.report.plots import label_points, plot_accuracy_vs_madds  # noqa: E402


def _overlap(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def test_labels_of_points_close_together_do_not_overlap():
    fig, ax = plt.subplots(figsize=(8, 4.8), dpi=120)       # the geometry of plot_accuracy_vs_madds
    points = [(100 + 0.1 * i, 80 + 0.05 * i, f"resnet18_acblock_s{i}") for i in range(6)]
    ax.scatter([p[0] for p in points], [p[1] for p in points])
    ax.set_xlim(0, 125)
    ax.set_ylim(0, 100)
    before = [t.get_window_extent() for t in [ax.text(x, y, s, fontsize=8) for x, y, s in points]]
    assert any(_overlap(a, b) for a, b in itertools.combinations(before, 2))   # the problem exists
    for t in list(ax.texts):
        t.remove()
    texts = label_points(ax, points)
    fig.canvas.draw()
    boxes = [t.get_window_extent() for t in texts]
    assert [t.get_text() for t in texts] == [p[2] for p in points]
    assert not any(_overlap(a, b) for a, b in itertools.combinations(boxes, 2))
    plt.close(fig)


def test_madds_plot_axes_start_at_zero(tmp_path, monkeypatch):
    rows = [RunSummary(f"r{i}", f"r{i}", "finished", best_top1=0.9 + 0.01 * i, madds=300_000_000 + i) for i in range(3)]
    seen = {}
    monkeypatch.setattr(plt, "close", lambda fig: seen.setdefault("ax", fig.axes[0]))
    path = plot_accuracy_vs_madds(rows, str(tmp_path / "m.png"))
    assert (tmp_path / "m.png").stat().st_size > 0 and path.endswith("m.png")
    assert seen["ax"].get_xlim()[0] == 0 and seen["ax"].get_ylim()[0] == 0
