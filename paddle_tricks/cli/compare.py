"""``paddle-tricks compare``: compare run folders in one table and two plots (:mod:`paddle_tricks.report.compare`)."""
from __future__ import annotations

import argparse
import os
import shlex
import sys

from ..errors import UserError
from ..utils.console import quiet, user_errors
from ..utils.paths import check_folder_target

__all__ = ["compare_main"]


@user_errors
def compare_main(argv=None) -> int:
    """``paddle-tricks compare``: compare run folders in one table and two plots."""
    parser = argparse.ArgumentParser(
        prog="paddle-tricks compare",
        description="Compare training runs: a Markdown table (accuracy, parameters, MAdds, CPU latency, training "
                    "time) and PNG plots (top-1 per epoch; top-1 against MAdds). Unfinished runs are reported.")
    parser.add_argument("runs", nargs="+", metavar="RUN_DIR", help="run folders (Global.output_dir of each run)")
    parser.add_argument("--out", default="output/compare", help="output folder (default output/compare)")
    parser.add_argument("--latency", action=argparse.BooleanOptionalAction, default=True,
                        help="export each model and time batch-1 CPU inference (default on)")
    parser.add_argument("--input-size", type=int, default=None,
                        help="square input size for MAdds and latency (default: each run's eval transforms)")
    parser.add_argument("--repeats", type=int, default=50, help="timed inference runs per model (default 50)")
    parser.add_argument("--threads", type=int, default=1, help="CPU math threads for the latency (default 1)")
    parser.add_argument("--title", default=None, help="heading of compare.md")
    args = parser.parse_args(argv)
    if args.input_size is not None and args.input_size < 1:
        raise UserError(f"--input-size must be positive, got {args.input_size}")
    if args.repeats < 1 or args.threads < 1:
        raise UserError(f"--repeats and --threads must be positive, got {args.repeats}, {args.threads}")
    quiet()
    from ..report.compare import compare_runs, markdown_table
    out = check_folder_target(args.out, "--out")
    command = "paddle-tricks compare " + " ".join(shlex.quote(a) for a in (sys.argv[1:] if argv is None
                                                                              else argv))
    rep = compare_runs(args.runs, out, latency=args.latency, input_size=args.input_size,
                       repeats=args.repeats, threads=args.threads, title=args.title, command=command,
                       log=lambda m: print(m, file=sys.stderr))
    print(markdown_table(rep.rows), end="")
    for r in rep.rows:
        for n in r.notes:
            print(f"note: {r.label}: {n}")
    for s in rep.skipped:
        print(f"note: skipped {s}")
    print("written: " + ", ".join(os.path.abspath(f) for f in rep.files.values()))
    return 0
