"""Published figures that a page's run records are compared with, and the verdict per run.

A page that reproduces a table (the d2l article's Fashion-MNIST accuracies, say) keeps the published figures
beside its records, in ``docs/results/runs/<page>/references.yaml`` (plain data, read with ``yaml.safe_load``)::

    source: the d2l article, `train_ch6` output after 10 epochs
    metric: final_top1          # the record's figure compared: final_top1, best_top1, ema_final_top1
    tolerance: 0.02             # |ours - published| <= tolerance: "reproduced"
    runs:                       # record name -> what was published for it
      lenet_bn_28: {name: LeNet-BN, value: 0.830}
      alexnet_68: {name: AlexNet, value: null, note: screenshot only}

:func:`reference_table` turns it and the page's rows into a Markdown table: published value, ours, the
difference in percentage points and a verdict by the stated tolerance. ``paddle-tricks report`` puts the table
in the page's generated block (:func:`paddle_tricks.report.pages.page_block`).
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import yaml

from ..errors import UserError
from .compare import RunSummary

__all__ = ["REFERENCES_FILE", "METRICS", "References", "read_data_file", "load_references", "verdict",
           "reference_table"]

REFERENCES_FILE = "references.yaml"
# the RunSummary figures a reference may be compared with, and how the table names them
METRICS = {"final_top1": "final top-1", "best_top1": "best top-1", "ema_final_top1": "final EMA top-1"}


@dataclass
class References:
    """The published figures of one page (see the module docstring)."""

    source: str
    metric: str
    tolerance: float
    runs: dict[str, dict] = field(default_factory=dict)


def _fraction(value, what: str, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1 or math.isnan(value):
        raise UserError(f"{path}: {what} must be a number in [0, 1], got {value!r}")
    return float(value)


def read_data_file(folder: str, name: str) -> tuple[str, object] | None:
    """The path and plain data of the YAML file ``name`` in ``folder`` (``yaml.safe_load``: no tags that build
    objects); None without the file; an unreadable file is a ``UserError`` naming it."""
    path = os.path.join(folder, name)
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            return path, yaml.safe_load(f)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise UserError(f"{path}: not readable as YAML ({type(e).__name__})") from None


def load_references(folder: str) -> References | None:
    """The references of the record folder ``folder`` (``docs/results/runs/<page>``); None without the file.
    A malformed file is a ``UserError`` naming it."""
    found = read_data_file(folder, REFERENCES_FILE)
    if found is None:
        return None
    path, data = found
    if not isinstance(data, dict) or not isinstance(data.get("runs"), dict) or not data["runs"]:
        raise UserError(f"{path}: needs a 'runs' mapping of record name -> {{name, value}}")
    metric = data.get("metric", "final_top1")
    if metric not in METRICS:
        raise UserError(f"{path}: metric must be one of {', '.join(METRICS)}, got {metric!r}")
    runs = {}
    for run, entry in data["runs"].items():
        if not isinstance(entry, dict) or "value" not in entry:
            raise UserError(f"{path}: runs.{run} needs a 'value' (null when nothing was published)")
        value = None if entry["value"] is None else _fraction(entry["value"], f"runs.{run}.value", path)
        runs[str(run)] = {"name": str(entry.get("name", run)), "value": value, "note": entry.get("note")}
    return References(source=str(data.get("source", "?")), metric=metric,
                      tolerance=_fraction(data.get("tolerance", 0.02), "tolerance", path), runs=runs)


def verdict(ours: float | None, published: float | None, tolerance: float) -> str:
    """A plain verdict on ``ours`` against ``published`` (fractions), by ``tolerance``."""
    if published is None:
        return "no published figure"
    if ours is None:
        return "not measured"
    diff = ours - published
    if abs(diff) <= tolerance + 1e-12:
        return f"reproduced (within ±{100 * tolerance:.1f} pp)"
    return f"{'above' if diff > 0 else 'below'} the published figure by {100 * abs(diff):.1f} pp"


def reference_table(refs: References, rows: list[RunSummary]) -> str:
    """Published value, ours, difference and verdict, one line per reference, in the file's order. A run
    without a record reads 'no record yet'; an unfinished one gives its epochs instead of a verdict."""
    by_label = {r.label: r for r in rows}
    what = METRICS[refs.metric]
    lines = [f"| run | published {what} | ours | Δ (pp) | verdict |", "|---|--:|--:|--:|---|"]
    for run, entry in refs.runs.items():
        name = f"{entry['name']} (`{run}`)"
        published = "-" if entry["value"] is None else f"{100 * entry['value']:.1f}"
        if entry["note"] and entry["value"] is None:
            published = f"- ({entry['note']})"
        row = by_label.get(run)
        ours = None if row is None else getattr(row, refs.metric)
        if row is None:
            cells = ["-", "-", "no record yet"]
        elif row.status != "finished":
            cells = ["-" if ours is None else f"{100 * ours:.1f}", "-",
                     f"unfinished ({row.epochs_done} of {row.epochs_planned} epochs)"]
        else:
            diff = "-" if ours is None or entry["value"] is None else f"{100 * (ours - entry['value']):+.1f}"
            cells = ["-" if ours is None else f"{100 * ours:.1f}", diff,
                     verdict(ours, entry["value"], refs.tolerance)]
        lines.append(f"| {name} | {published} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
