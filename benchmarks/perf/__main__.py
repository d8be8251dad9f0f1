"""``python -m benchmarks.perf [--quick] [--out PATH]``: run every measurement and write the page
(``bash benchmarks/run_performance.sh`` is the one command)."""
from __future__ import annotations

import argparse
import datetime
import os
import shlex
import sys
import time
import traceback

from . import checkpoint_save, ema_update, epoch, inference, loader, memory, overhead, page, parallel
from .workload import DATA_ROOT, FULL, QUICK, ROOT

SECTIONS = {
    "overhead": ("Trainer overhead", overhead),
    "ema": ("EMA update", ema_update),
    "checkpoint": ("Checkpoint save", checkpoint_save),
    "loader": ("Data loader", loader),
    "inference": ("Inference per backend", inference),
    "memory": ("Freed memory kept", memory),
    "epoch": ("One end-to-end epoch", epoch),
    "parallel": ("Data parallel", parallel),
}


def fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(prog="run_performance.sh", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run of the whole suite")
    parser.add_argument("--out", default=os.path.join(ROOT, "docs", "results", "performance.md"),
                        help="the page to write (default docs/results/performance.md)")
    parser.add_argument("--data-root", default=DATA_ROOT, help="the Caltech-101 folder (default %(default)s)")
    parser.add_argument("--base", default=epoch.BASE,
                        help="the commit the epoch is compared with (default %(default)s, the start of issue 15; "
                             "'none': no comparison)")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help="comma-separated sections to run (default all: %(default)s)")
    args = parser.parse_args(argv)
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown or not chosen:
        return fail(f"--only: unknown section(s) {', '.join(unknown) or '(none given)'}; "
                    f"choose from {', '.join(SECTIONS)}")
    if not os.path.isdir(args.data_root):
        return fail(f"--data-root: no folder at {os.path.abspath(args.data_root)} (the Caltech-101 class folders)")
    out_dir = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(out_dir):
        return fail(f"--out: the folder {out_dir} does not exist")

    from paddle_tricks.utils.console import quiet
    from paddle_tricks.utils.memory import keep_freed_memory
    quiet()
    kept = keep_freed_memory()     # measured in-process as the training process runs
    command = os.environ.get("PERF_LAUNCHER", "python -m benchmarks.perf") + (" " + shlex.join(argv) if argv else "")
    sizes = QUICK if args.quick else FULL
    started, load_before, clock = datetime.datetime.now(datetime.timezone.utc), page.load_average(), time.time()
    parts, failed = [], []
    for key in chosen:
        title, module = SECTIONS[key]
        t0 = time.time()
        try:
            extra = {"base": None if args.base.lower() == "none" else args.base} if module is epoch else {}
            body, _ = module.section(sizes, args.data_root, **extra)
        except Exception as e:  # noqa: BLE001 - one failing measurement must not lose the others
            failed.append(key)
            body = f"**This measurement failed**: {type(e).__name__}: {e}"
            traceback.print_exc()
        print(f"{title}: {time.time() - t0:.0f} s", file=sys.stderr)
        parts.append(page.section(title, body))
    head = page.header(command, load_before, started, (time.time() - clock) / 60, args.quick, kept)
    from paddle_tricks.utils.atomic import atomic_write_text
    atomic_write_text("\n\n".join([head, *parts]) + "\n", args.out)
    print(f"wrote {args.out}", file=sys.stderr)
    if failed:
        print(f"error: section(s) failed: {', '.join(failed)} (see the page and the tracebacks above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
