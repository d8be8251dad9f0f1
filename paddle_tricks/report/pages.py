"""Regenerate a results page's tables and plots from its committed run records (``docs/results/runs/<page>/``).

The generated part of ``docs/results/<page>.md`` sits between two marker lines::

    <!-- table:caltech16 begin -->
    ...
    <!-- table:caltech16 end -->

:func:`regenerate_page` rewrites only that block: the per-run table of
:func:`paddle_tricks.report.compare.markdown_table` (columns that no record can fill, such as CPU latency without
weights, left out), the eval top-1 of every record per epoch (and the EMA top-1 of those with an EMA), and for an
ablation (records named ``<variant>_s<seed>`` with a ``base``), or for records of several seeds, the per-variant
table of :func:`paddle_tricks.ablate.ablation_table` (mean over seeds), with, where the records sit beside a
``ranking.yaml``, the tricks ranked against another ablation page (:mod:`paddle_tricks.report.ranking`); where
the records sit beside a ``references.yaml``, the published figures against ours
(:mod:`paddle_tricks.report.references`). The two
plots go beside the page as ``<page>_top1_per_epoch.png`` and ``<page>_top1_vs_madds.png``. The block holds
no date, so the same records always give the same text; the command is ``paddle-tricks report --page NAME``
(:mod:`paddle_tricks.cli.report`).
"""
from __future__ import annotations

import os
import re

from ..errors import UserError
from .compare import RunSummary, markdown_table, summarize_run
from .plots import plot_accuracy_vs_madds, plot_curves
from .publish import check_name
from .ranking import RANKING_FILE, load_ranking, ranking_table
from .references import REFERENCES_FILE, load_references, reference_table
from .runs import is_run_folder, read_run

__all__ = ["markers", "record_folders", "page_rows", "page_block", "replace_block", "regenerate_page",
           "drop_empty_columns", "epoch_table"]

_SEED = re.compile(r"^(.+)_s(\d+)$")


def markers(page: str) -> tuple[str, str]:
    """The begin and end marker lines of ``page``'s generated block."""
    return f"<!-- table:{page} begin -->", f"<!-- table:{page} end -->"


def record_folders(results_dir: str, page: str) -> list[str]:
    """The record folders of ``page``, sorted by name; a missing or empty folder is a ``UserError``."""
    folder = os.path.join(results_dir, "runs", check_name(page, "page"))
    found = sorted(os.path.join(folder, d) for d in os.listdir(folder)) if os.path.isdir(folder) else []
    found = [d for d in found if is_run_folder(d)]
    if not found:
        raise UserError(f"no run record in {folder}; publish runs first (paddle-tricks publish RUN_DIR --page {page})")
    return found


def page_rows(folders: list[str], log=print) -> tuple[list[RunSummary], list[dict[int, float]]]:
    """One comparison row per record folder, labelled with its name (no latency: records hold no weights), and
    each record's EMA top-1 per epoch (empty without an EMA)."""
    runs = [read_run(f) for f in folders]
    ema = [{int(r["epoch"]): float(r["ema_top1"]) for r in run.evaluated()
            if isinstance(r.get("ema_top1"), (int, float))} for run in runs]
    return [summarize_run(run, latency=False, log=log) for run in runs], ema


def drop_empty_columns(text: str) -> str:
    """``text`` (a Markdown table, then any other lines) without the table columns whose every body cell is ``-``."""
    lines = text.rstrip("\n").split("\n")
    n_table = next((i for i, line in enumerate(lines) if not line.startswith("|")), len(lines))
    cells = [[c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]] for line in lines[:n_table]]
    body = cells[2:]
    keep = [i for i in range(len(cells[0])) if not body or any(row[i] != "-" for row in body)]
    table = ["| " + " | ".join(row[i] for i in keep) + " |" if n != 1 else
             "|" + "|".join(row[i] for i in keep) + "|" for n, row in enumerate(cells)]
    return "\n".join(table + lines[n_table:]) + "\n"


def epoch_table(labels: list[str], curves: list[dict[int, float]]) -> str:
    """Accuracy (%) per epoch, one column per run; ``-`` where a run has no value at that epoch."""
    epochs = sorted(set().union(*curves)) if curves else []
    lines = ["| Epoch | " + " | ".join(labels) + " |", "|--:|" + "--:|" * len(labels)]
    for e in epochs:
        lines.append(f"| {e} | " + " | ".join(f"{100 * c[e]:.1f}" if e in c else "-" for c in curves) + " |")
    return "\n".join(lines) + "\n"


def _seed_grouping(rows: list[RunSummary]) -> str | None:
    """``ablation`` when every record is named ``<name>_s<seed>`` and one name is ``base``; ``seeds`` when every
    record is so named and some name has several seeds; ``None`` otherwise."""
    names = [m.group(1) if m else None for m in (_SEED.match(r.label) for r in rows)]
    if None in names:
        return None
    if "base" in names:
        return "ablation"
    return "seeds" if len(set(names)) < len(names) else None


def page_block(page: str, rows: list[RunSummary], ema: list[dict[int, float]] | None = None) -> str:
    """The generated block of ``page``, markers included; ``ema``: each run's EMA top-1 per epoch, if any."""
    begin, end = markers(page)
    parts = [begin, f"<!-- generated by `paddle-tricks report --page {page}` from docs/results/runs/{page}/: "
                    f"edit the records, not this block -->", ""]
    grouping = _seed_grouping(rows)
    if grouping:
        from ..ablate import ablation_table
        head = ("Per trick (mean over seeds; Δ against the base):" if grouping == "ablation" else
                "Per configuration (records named `<configuration>_s<seed>`; mean over seeds):")
        parts += [head, "", drop_empty_columns(ablation_table(rows))]
        ranking = load_ranking(os.path.dirname(rows[0].path)) if grouping == "ablation" else None
        if ranking:
            runs_dir = os.path.dirname(os.path.dirname(rows[0].path))
            there, _ = page_rows(record_folders(os.path.dirname(runs_dir), ranking.against), log=lambda *_: None)
            parts += [f"Ranked against [{ranking.against}.md]({ranking.against}.md) ({ranking.label}; "
                      f"`runs/{page}/{RANKING_FILE}`):", "",
                      ranking_table(rows, there, ranking.this_label, ranking.label)]
        parts += ["Per run:", ""]
    parts += [drop_empty_columns(markdown_table(rows))]
    refs = load_references(os.path.dirname(rows[0].path)) if rows else None
    if refs:
        parts += [f"Against the published figures ({refs.source}; `runs/{page}/{REFERENCES_FILE}`):", "",
                  reference_table(refs, rows)]
    unfinished = [r.label for r in rows if r.status != "finished"]
    if unfinished:
        parts += [f"Unfinished records (their figures are not final): {', '.join(unfinished)}.", ""]
    parts += ["Eval top-1 (%) per epoch:", "", epoch_table([r.label for r in rows],
                                                         [{int(e): a for e, a in r.curve} for r in rows])]
    with_ema = [(r.label, c) for r, c in zip(rows, ema or []) if c]
    if with_ema:
        parts += ["EMA top-1 (%) per epoch (runs with an EMA):", "",
                  epoch_table([label for label, _ in with_ema], [c for _, c in with_ema])]
    return "\n".join(parts + [end])


def replace_block(text: str, page: str, block: str, where: str = "the page") -> str:
    """``text`` with the marked block of ``page`` replaced by ``block``; missing or repeated markers raise."""
    begin, end = markers(page)
    if text.count(begin) != 1 or text.count(end) != 1 or text.index(begin) > text.index(end):
        raise UserError(f"{where} needs exactly one '{begin}' line followed by one '{end}' line where the "
                        f"generated tables go")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return head + block + tail


def regenerate_page(results_dir: str, page: str, plots: bool = True, check: bool = False, log=print) -> bool:
    """Rewrite the generated block (and the plots) of ``<results_dir>/<page>.md`` from its records.

    Args:
        results_dir: the results pages folder (``docs/results``).
        page: the page name.
        plots: also draw ``<page>_top1_per_epoch.png`` and ``<page>_top1_vs_madds.png``.
        check: write nothing; only report whether the page is up to date.
        log: where progress lines go.

    Returns:
        True when the page's block differed from the records (and, unless ``check``, was rewritten).
    """
    path = os.path.join(results_dir, f"{check_name(page, 'page')}.md")
    if not os.path.isfile(path):
        raise UserError(f"{path}: no such page; pages are the .md files of {results_dir}")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    rows, ema = page_rows(record_folders(results_dir, page), log=log)
    new = replace_block(text, page, page_block(page, rows, ema), where=path)
    changed = new != text
    if check:
        return changed
    if changed:
        with open(path, "w", encoding="utf-8") as f:
            f.write(new)
    if plots:
        plot_curves(rows, os.path.join(results_dir, f"{page}_top1_per_epoch.png"))
        plot_accuracy_vs_madds(rows, os.path.join(results_dir, f"{page}_top1_vs_madds.png"))
    return changed
