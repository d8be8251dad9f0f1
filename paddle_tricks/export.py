"""Export a trained network for deployment: reparameterise, ``paddle.jit.save``, reload, check.

``export_network(net, out_dir)`` turns ``net`` into its deploy form with
:func:`paddle_tricks.deploy.reparameterize` (ACBlocks fused into one conv each, BatchNorms folded into their
convs), traces it with ``paddle.jit.to_static``, saves it with ``paddle.jit.save``, loads the saved program
back with ``paddle.jit.load`` and checks that it gives the dygraph eval-mode output of the *unfused* net
(max abs difference ≤ ``atol``, relative to the largest output when that exceeds 1). ``export_main`` is ``tools/export.py``::

    python tools/export.py -c CONFIG [--weights PATH] [--out DIR] [--input-size 224]

It builds the config's network (with its ``Arch.tricks``) and loads the weights (a ``.pdparams`` or a
training checkpoint; without ``--weights`` the run's ``best.pdparams`` if it exists). A user mistake (bad
config, unfit weights) and an export whose output differs end with one ``error:`` line and exit code 2.
"""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass

import numpy as np
import paddle
import paddle.nn as nn

from .utils.console import user_errors
from .errors import UserError

__all__ = ["ExportError", "ExportResult", "export_network", "export_main"]


class ExportError(UserError):
    """The exported program does not reproduce the dygraph output (or could not be written)."""


@dataclass
class ExportResult:
    """Where the model went and how close the reloaded program is to the dygraph net."""

    path_prefix: str
    files: list[str]
    max_abs_diff: float
    params_train: int   # learnable parameters before / after reparameterisation
    params_deploy: int
    output_scale: float = 1.0


def _num_params(net: nn.Layer) -> int:
    """Learnable parameters (Paddle also lists BN running statistics as parameters: not counted)."""
    return int(sum(int(np.prod(p.shape)) for p in net.parameters() if not p.stop_gradient))


def export_network(net: nn.Layer, out_dir: str, input_size: int = 224, in_channels: int = 3,
                   name: str = "model", atol: float = 1e-4, fuse: bool = True, seed: int = 0) -> ExportResult:
    """Reparameterise ``net`` (in place), save it as a static program and check the reloaded copy.

    Args:
        net: the trained network (train form); it is left in eval mode, in its deploy form if ``fuse``.
        out_dir: output folder (created).
        input_size: height and width of the exported input (the batch size stays dynamic).
        in_channels: image channels.
        name: file prefix inside ``out_dir``.
        atol: largest allowed difference between the reloaded program and the dygraph net, absolute for
            outputs up to 1 in magnitude and relative to ``max|output|`` beyond (float32 rounding grows with
            the output; an untrained multi-branch net in eval mode can have logits in the thousands).
        fuse: reparameterise before export (``False`` exports the train form, e.g. for benchmarks).
        seed: seed of the random check input.

    Returns:
        An :class:`ExportResult`.

    Raises:
        ExportError: the reloaded program's output differs by more than ``atol``.
    """
    from .deploy import reparameterize

    net.eval()
    rng = np.random.RandomState(seed)
    x = paddle.to_tensor(rng.standard_normal((2, in_channels, input_size, input_size)).astype("float32"))
    params_train = _num_params(net)
    with paddle.no_grad():
        reference = net(x).numpy()
    if fuse:
        reparameterize(net)
    params_deploy = _num_params(net)
    os.makedirs(out_dir, exist_ok=True)
    prefix = os.path.join(out_dir, name)
    spec = [paddle.static.InputSpec([None, in_channels, input_size, input_size], "float32", "image")]
    try:
        static = paddle.jit.to_static(net, input_spec=spec, full_graph=True)
        paddle.jit.save(static, prefix, input_spec=spec)
    except Exception as e:  # noqa: BLE001 - tracing errors come in many types
        raise ExportError(f"paddle.jit could not export {type(net).__name__}: {type(e).__name__}: {e}") from None
    loaded = paddle.jit.load(prefix)
    loaded.eval()
    with paddle.no_grad():
        out = loaded(x)
    out = (out[0] if isinstance(out, (list, tuple)) else out).numpy()
    if out.shape != reference.shape:
        raise ExportError(f"the exported model outputs shape {list(out.shape)}, the network {list(reference.shape)}")
    diff = float(np.abs(out - reference).max())
    scale = max(1.0, float(np.abs(reference).max()))
    files = sorted(os.path.join(out_dir, f) for f in os.listdir(out_dir) if f.startswith(name + "."))
    if not diff <= atol * scale:
        raise ExportError(f"the exported model differs from the dygraph network: max abs diff {diff:.3g} > "
                          f"{atol:g} x max(1, max|output|={scale:.3g}) (saved anyway at {prefix}.*)")
    return ExportResult(prefix, files, diff, params_train, params_deploy, scale)


@user_errors
def export_main(argv=None) -> int:
    """``tools/export.py``: reparameterise and export the network of a config."""
    parser = argparse.ArgumentParser(
        description="Fuse (reparameterise) the network of a config, export it with paddle.jit.save, reload it "
                    "and check that it reproduces the dygraph output.")
    parser.add_argument("-c", "--config", required=True, help="YAML config file")
    parser.add_argument("-o", "--override", action="append", default=[], metavar="Section.key=value",
                        help="override a config value (YAML syntax); repeatable")
    parser.add_argument("-w", "--weights", default=None,
                        help="a .pdparams file or training checkpoint (default: <output_dir>/best.pdparams if it "
                             "exists, else the initial weights)")
    parser.add_argument("--out", default=None, help="output folder (default: <output_dir>/export)")
    parser.add_argument("--input-size", type=int, default=224, help="input height and width (default 224)")
    parser.add_argument("--in-channels", type=int, default=3, help="image channels (default 3)")
    parser.add_argument("--atol", type=float, default=1e-4, help="largest allowed output difference")
    parser.add_argument("--no-fuse", action="store_true", help="export the train form (no reparameterisation)")
    args = parser.parse_args(argv)
    if args.input_size < 1 or args.in_channels < 1:
        raise UserError(f"--input-size and --in-channels must be positive, got {args.input_size}, {args.in_channels}")
    from .utils.console import quiet
    quiet()
    from .config import load_config
    from .engine.checkpoint import load_weights
    from .engine.device import select_device
    from .models import build_network
    cfg = load_config(args.config, args.override)
    select_device(cfg["Global"]["device"])
    net = build_network(cfg)
    out_dir = cfg["Global"]["output_dir"]
    weights = args.weights
    if weights is None and os.path.isfile(os.path.join(out_dir, "best.pdparams")):
        weights = os.path.join(out_dir, "best.pdparams")
    if weights is not None:
        load_weights(net, weights)
        print(f"weights: {weights}")
    else:
        print("note: no --weights and no best.pdparams in the output folder: exporting the initial weights",
              file=sys.stderr)
    res = export_network(net, args.out or os.path.join(out_dir, "export"), input_size=args.input_size,
                         in_channels=args.in_channels, atol=args.atol, fuse=not args.no_fuse)
    print(f"parameters: {res.params_train:,} (train form) -> {res.params_deploy:,} (deploy form)")
    bound = args.atol * res.output_scale
    print(f"max abs diff, reloaded export vs dygraph eval: {res.max_abs_diff:.3g} (allowed {bound:.3g}; "
          f"max |output| {res.output_scale:.3g})")
    print(f"saved: {res.path_prefix} ({', '.join(os.path.basename(f) for f in res.files)})")
    return 0
