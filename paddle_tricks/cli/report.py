"""``paddle-tricks report``: regenerate a results page's tables and plots from its committed run records.

    paddle-tricks report --page caltech16           # rewrites the marked block of docs/results/caltech16.md
    paddle-tricks report --page caltech16 --check   # exit 1 when the page differs from its records

See :mod:`paddle_tricks.report.pages`.
"""
from __future__ import annotations

import argparse
import os

from ..utils.console import quiet, user_errors

__all__ = ["report_main"]


@user_errors
def report_main(argv=None) -> int:
    """Rewrite the generated block and the two plots of one or more results pages."""
    parser = argparse.ArgumentParser(
        prog="paddle-tricks report",
        description="Regenerate the tables between '<!-- table:PAGE begin/end -->' in RESULTS_DIR/PAGE.md and the "
                    "plots PAGE_top1_per_epoch.png / PAGE_top1_vs_madds.png from RESULTS_DIR/runs/PAGE/.")
    parser.add_argument("--page", action="append", required=True, help="the page name (repeatable)")
    parser.add_argument("--results-dir", default="docs/results", help="the results pages folder (default "
                                                                      "docs/results)")
    parser.add_argument("--plots", action=argparse.BooleanOptionalAction, default=True,
                        help="also redraw the two plots (default on)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when a page is out of date")
    args = parser.parse_args(argv)
    quiet()
    from ..report.pages import regenerate_page
    stale = []
    for page in args.page:
        changed = regenerate_page(args.results_dir, page, plots=args.plots and not args.check, check=args.check,
                                  log=lambda *_: None)
        path = os.path.abspath(os.path.join(args.results_dir, f"{page}.md"))
        if args.check:
            print(f"{path}: {'out of date' if changed else 'up to date'}")
            stale += [path] if changed else []
        else:
            print(f"{path}: {'rewritten' if changed else 'unchanged'}")
    return 1 if stale else 0
