"""``paddle-tricks ablate``: train a base config and its trick variants, then compare them
(:mod:`paddle_tricks.ablate`)."""
from __future__ import annotations

import argparse
import os
import shlex
import sys

from ..errors import UserError
from ..utils.console import quiet, stop_on_sigterm, user_errors

__all__ = ["ablate_main"]


def _int_list(text: str, what: str) -> list[int]:
    from ..config import MAX_SEED
    try:
        vals = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise UserError(f"{what} must be comma-separated integers, got {text!r}") from None
    if not vals or any(v < 0 or v > MAX_SEED for v in vals):
        raise UserError(f"{what} must be integers from 0 to {MAX_SEED} (Global.seed), got {text!r}")
    return list(dict.fromkeys(vals))


@user_errors(on_stop="finished runs are kept, and the stopped one keeps its last finished epoch: rerun the same "
                     "command to go on")
def ablate_main(argv=None) -> int:
    """``paddle-tricks ablate``: run a base config and its trick variants, then compare them."""
    parser = argparse.ArgumentParser(
        prog="paddle-tricks ablate",
        description="Train a base config and each of its trick variants (the configs beside it whose _base_ is "
                    "the base) with the same seeds and budget, one after the other, then compare them.")
    parser.add_argument("-c", "--config", required=True, help="the base config, e.g. "
                                                               "configs/ablations/base_resnet18_shapes.yaml")
    parser.add_argument("--tricks", default=None, help="comma-separated variant names (default: all)")
    parser.add_argument("--seeds", default=None, help="comma-separated seeds (default: the base config's seed)")
    parser.add_argument("--confirm-seeds", default=None,
                        help="after the first pass, also run the base and the best variant with these seeds")
    parser.add_argument("--out", default=None, help="output folder (default output/ablations/<base name>)")
    parser.add_argument("-o", "--override", action="append", default=[], metavar="Section.key=value",
                        help="override for every run (YAML value), e.g. -o Global.epochs=3; repeatable")
    parser.add_argument("--dry-run", action="store_true", help="print the training commands, run nothing")
    parser.add_argument("--latency", action=argparse.BooleanOptionalAction, default=True,
                        help="time each exported model on the CPU in the comparison (default on)")
    parser.add_argument("--repeats", type=int, default=50, help="timed inference runs per model (default 50)")
    parser.add_argument("--threads", type=int, default=1, help="CPU math threads for the latency (default 1)")
    args = parser.parse_args(argv)
    quiet()  # before the seed check: it imports the config module, which loads Paddle
    stop_on_sigterm()
    tricks = [t.strip() for t in args.tricks.split(",") if t.strip()] if args.tricks else None
    seeds = _int_list(args.seeds, "--seeds") if args.seeds else None
    confirm = _int_list(args.confirm_seeds, "--confirm-seeds") if args.confirm_seeds else None
    bad = [o for o in args.override if o.split("=", 1)[0].strip() in ("Global.output_dir", "Global.seed")]
    if bad:
        raise UserError(f"{bad[0]}: the output folder and seed of each run are set by ablate (--out, --seeds)")
    command = "paddle-tricks ablate " + shlex.join(sys.argv[1:] if argv is None else argv)
    from ..ablate import ablate
    from ..configs import resolve_config
    out = os.path.abspath(args.out) if args.out else None   # every path it prints is then in full
    return ablate(resolve_config(args.config), tricks, seeds, out, args.override, args.dry_run, confirm,
                  args.latency, args.repeats, args.threads, command=command, log=lambda m: print(m, file=sys.stderr))
