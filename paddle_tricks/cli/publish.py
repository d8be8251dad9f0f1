"""``paddle-tricks publish``: copy a run's text record into ``docs/results/runs/<page>/<name>/``.

    paddle-tricks publish output/caltech16_cpu/asymmnet_large_112 --page caltech16
    paddle-tricks publish output/ablations/caltech16/base_s0 --page ablation_caltech16 --command "bash ..."

See :mod:`paddle_tricks.report.publish` for what a record holds; ``paddle-tricks report --page NAME`` then
regenerates the page's tables from its records.
"""
from __future__ import annotations

import argparse
import os

from ..utils.console import quiet, user_errors

__all__ = ["publish_main"]


@user_errors
def publish_main(argv=None) -> int:
    """Publish one run's record (config, metrics, best epoch, classes, data report, summary; never weights)."""
    parser = argparse.ArgumentParser(
        prog="paddle-tricks publish",
        description="Copy a run's record (config.yaml, metrics.jsonl, best.json, classes.json, data_report.json, "
                    "and a summary.json) into RESULTS_DIR/runs/PAGE/NAME/. Text only, never weights. An unfinished "
                    "run is published marked so; another run's record is not replaced without --force.")
    parser.add_argument("run", metavar="RUN_DIR", help="the run folder (Global.output_dir of the run)")
    parser.add_argument("--page", required=True, help="the results page it belongs to, e.g. caltech16")
    parser.add_argument("--name", default=None, help="the record's name (default: the run folder's name)")
    parser.add_argument("--results-dir", default="docs/results", help="the results pages folder (default "
                                                                      "docs/results)")
    parser.add_argument("--command", default=None, help="the command that trained the run, kept in summary.json")
    parser.add_argument("--force", action="store_true", help="replace an existing record of another run")
    args = parser.parse_args(argv)
    quiet()
    from ..report.publish import publish_run
    done = publish_run(args.run, args.results_dir, args.page, name=args.name, force=args.force,
                       command=args.command, log=lambda *_: None)
    print(f"{done.action}: {os.path.abspath(done.path)} ({done.status})")
    return 0
