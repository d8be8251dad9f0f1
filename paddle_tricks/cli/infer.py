"""``paddle-tricks infer``: classify images with a trained run or an exported model."""
from __future__ import annotations

import argparse
import os
import sys

from ..errors import UserError
from ..utils.console import quiet, user_errors
from .common import check_output_file, check_positive, load_cli_config

__all__ = ["infer_main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="paddle-tricks infer",
        description="Classify images (files, folders, glob patterns or list files) with the best weights of a "
                    "training run or with a model written by `paddle-tricks export` (Paddle or ONNX).")
    parser.add_argument("images", nargs="+", help="image files, folders (searched recursively), glob patterns "
                                                  "(quote them) or list files (.txt: one image per line)")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("-m", "--model", help="a run folder (Global.output_dir) or an export folder")
    which.add_argument("-c", "--config", help="a config (file or shipped name): the run in its output_dir")
    parser.add_argument("-o", "--override", action="append", default=[], metavar="Section.key=value",
                        help="override a value of -c (YAML syntax); repeatable")
    parser.add_argument("--ema", action="store_true", help="use the run's best EMA weights")
    parser.add_argument("-k", "--top-k", type=int, default=5, help="classes shown per image (default 5)")
    parser.add_argument("-b", "--batch-size", type=int, default=32, help="images per batch (default 32)")
    parser.add_argument("--threads", type=int, default=None,
                        help="CPU threads of an exported model's runtime (default: every core)")
    parser.add_argument("--out", default=None, help="also write the predictions to a .csv or .json file")
    return parser


@user_errors
def infer_main(argv=None) -> int:
    """Print the top-k classes of every image; optionally write them to CSV or JSON."""
    args = _parser().parse_args(argv)
    check_positive(top_k=args.top_k, batch_size=args.batch_size, threads=args.threads)
    check_output_file(args.out, "--out", (".csv", ".json"))
    if args.override and not args.config:
        raise UserError("-o overrides apply to -c CONFIG; a run or export folder (-m) keeps its own settings")
    quiet()
    from ..infer.classifier import classifier_from_run, open_classifier
    from ..infer.predict import classify_images, write_predictions
    from ..infer.sources import collect_images
    images = collect_images(args.images)
    if args.config:
        classifier = classifier_from_run(load_cli_config(args.config, args.override), args.ema)
    else:
        classifier = open_classifier(args.model, args.ema, args.threads)
    print(f"model: {classifier.source}")
    predictions, skipped = classify_images(classifier, images, args.batch_size, args.top_k)
    for p in predictions:
        top = ", ".join(f"{c} {q:.3f}" for c, q in zip(p.classes, p.probabilities))
        print(f"{p.path}: {top}")
    for path, reason in skipped:
        print(f"warning: skipped {path}: {reason}", file=sys.stderr)
    if not predictions:
        raise UserError(f"none of the {len(images)} image(s) could be read (first: {skipped[0][0]})")
    if args.out:
        out = os.path.abspath(args.out)
        write_predictions(predictions, out)
        print(f"predictions written to {out}")
    print(f"{len(predictions)} image(s) classified" + (f", {len(skipped)} skipped" if skipped else ""))
    return 0
