"""``paddle-tricks export``: fuse a trained network, save it as a Paddle program or ONNX, check it.

The check runs the saved model in its deploy runtime (``paddle.inference`` or ONNX Runtime) on the first
eval images of the config and compares with the dygraph network; without readable eval images it checks on
random inputs of ``--input-size``. The folder is written all at once (see :mod:`paddle_tricks.export.folder`).
"""
from __future__ import annotations

import argparse
import os
import sys

from ..errors import UserError
from ..utils.console import quiet, user_errors
from .common import add_config_arguments, check_positive, load_cli_config

__all__ = ["export_main"]


def _eval_images(cfg: dict, count: int):
    """The first ``count`` preprocessed eval images as one float32 batch, or ``(None, reason)``."""
    import numpy as np

    from ..data.build import build_datasets
    try:
        _, eval_set = build_datasets(cfg["Data"], seed=cfg["Global"]["seed"])
        images = [np.asarray(eval_set[i][0], dtype=np.float32) for i in range(min(count, len(eval_set)))]
    except (UserError, ValueError, OSError) as e:
        return None, str(e)
    shape = images[0].shape
    if len(shape) != 3 or shape[0] > 4:
        return None, f"the eval transforms give arrays of shape {list(shape)}, not channels-first images"
    return np.stack(images), None


def _check_samples(cfg: dict, args):
    """The inputs the export is checked on, and what they are (for the report line)."""
    import numpy as np

    from ..infer.run_folder import image_mode, native_size
    samples, reason = _eval_images(cfg, args.samples)
    if samples is not None:
        channels, height, width = samples.shape[1:]
        if args.in_channels and args.in_channels != channels:
            raise UserError(f"--in-channels {args.in_channels}: the eval images of this config have {channels} "
                            f"channel(s); drop --in-channels")
        if args.input_size and (height, width) != (args.input_size, args.input_size):
            raise UserError(f"--input-size {args.input_size}: the eval transforms of this config give {height}x"
                            f"{width} images, which is what `paddle-tricks infer` feeds the export; drop "
                            f"--input-size, or change the size in Data.eval_transforms with -o")
        return samples, f"{len(samples)} eval images of {height}x{width}"
    size = args.input_size or native_size(cfg)
    if size is None:
        raise UserError(f"cannot read the eval images to check the export ({reason}); pass --input-size (and "
                        f"--in-channels) to check on random inputs instead")
    print(f"note: checking on random inputs: {reason}", file=sys.stderr)
    channels = args.in_channels or (1 if image_mode(cfg) == "L" else 3)
    rng = np.random.RandomState(0)
    return rng.standard_normal((2, channels, size, size)).astype("float32"), f"2 random inputs of {size}x{size}"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="paddle-tricks export",
        description="Fuse (reparameterise) the network of a config or run, save it as a Paddle inference "
                    "program or ONNX, run the saved model and check it against the dygraph network.")
    add_config_arguments(parser, run_folder=True)
    parser.add_argument("-w", "--weights", default=None,
                        help="a .pdparams file or training checkpoint (default: the run's best weights)")
    parser.add_argument("--ema", action="store_true", help="export the run's best EMA weights")
    parser.add_argument("--out", default=None, help="output folder (default: <output_dir>/export)")
    parser.add_argument("--format", choices=["paddle", "onnx"], default="paddle",
                        help="paddle: model.json + model.pdiparams for paddle.inference; onnx: model.onnx")
    parser.add_argument("--input-size", type=int, default=None,
                        help="input height and width (default: the size of the config's eval images)")
    parser.add_argument("--in-channels", type=int, default=None,
                        help="image channels (default: those of the eval images)")
    parser.add_argument("--samples", type=int, default=8, help="eval images the export is checked on")
    parser.add_argument("--atol", type=float, default=1e-4, help="largest allowed output difference")
    parser.add_argument("--no-fuse", action="store_true", help="export the train form (no reparameterisation)")
    return parser


@user_errors
def export_main(argv=None) -> int:
    """Export the network of ``-c`` with its trained weights into one checked folder."""
    args = _parser().parse_args(argv)
    check_positive(input_size=args.input_size, in_channels=args.in_channels, samples=args.samples)
    quiet()
    from ..engine import run_files
    from ..export.folder import check_destination, staged_folder, write_deploy_info
    from ..infer.backends import require_onnx
    if args.format == "onnx":
        require_onnx("--format onnx")
    cfg = load_cli_config(args.config, args.override, run_folder=True)
    out = os.path.abspath(args.out or run_files.run_file(cfg["Global"]["output_dir"], "export"))
    check_destination(out)
    from ..engine.checkpoint import load_weights
    from ..engine.device import select_device
    from ..export import export_network
    from ..infer.run_folder import image_mode, run_classes, run_weights
    from ..models import build_network
    select_device(cfg["Global"]["device"])
    net = build_network(cfg)
    weights = args.weights
    if weights is None:
        try:
            weights = run_weights(cfg, args.ema)
        except UserError:
            if args.ema:
                raise
            print("note: no --weights and no trained weights in the run folder: exporting the initial weights",
                  file=sys.stderr)
    if weights is not None:
        weights = os.path.abspath(weights)
        load_weights(net, weights)
        print(f"weights: {weights}")
    samples, described = _check_samples(cfg, args)
    with staged_folder(out) as stage:
        res = export_network(net, stage, samples=samples, atol=args.atol, fuse=not args.no_fuse, fmt=args.format)
        files = [os.path.basename(f) for f in res.files]
        write_deploy_info(stage, {
            "format": args.format, "model": next(f for f in files if f.endswith((".json", ".onnx"))),
            "classes": run_classes(cfg), "image_mode": image_mode(cfg), "transforms": cfg["Data"]["eval_transforms"],
            "input_size": int(samples.shape[2]) if samples.shape[2] == samples.shape[3] else None,
            "input_shape": list(samples.shape[1:]), "weights": weights, "max_abs_diff": res.max_abs_diff})
    print(f"parameters: {res.params_train:,} (train form) -> {res.params_deploy:,} (deploy form)")
    print(f"max abs diff, {res.runtime} vs dygraph on {described}: {res.max_abs_diff:.3g} "
          f"(allowed {args.atol * res.output_scale:.3g}; max |output| {res.output_scale:.3g})")
    print(f"saved: {out}")
    for f in files + ["deploy.json"]:
        print(f"  {os.path.join(out, f)}")
    print(f"run it: paddle-tricks infer -m {out} IMAGES")
    return 0
