"""Forward time and parameters of every trick layer next to the plain layer it replaces, at the same width.

    python benchmarks/bench_layers.py [--channels 64] [--size 56] [--batch 8] [--reps 7] [--iters 3] [--threads 1]

Dygraph, eval mode, no gradients, float32 on the CPU. Each row times the trick layer and its baseline in
interleaved repetitions (the order alternates) and reports the median over repetitions of the mean time per
forward pass. Baselines: a bias-free 3×3 ``nn.Conv2D`` for the conv replacements (grouped like the layer when the
layer is grouped), ``nn.ReLU`` for the activations, the strided conv / max-pool for the anti-aliased downsampling,
global average pooling for SPP, and — for layers that replace nothing (attention, DropBlock) — the 3×3 conv they
follow, as a scale. Parameters are learnable ones (BN running statistics excluded). Prints a Markdown table.
"""
from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
import warnings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--channels", type=int, default=64)
    parser.add_argument("--size", type=int, default=56)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--reps", type=int, default=7, help="interleaved repetitions (median over them)")
    parser.add_argument("--iters", type=int, default=3, help="timed forward passes per repetition")
    parser.add_argument("--threads", type=int, default=1, help="OMP threads (set before Paddle starts)")
    parser.add_argument("--only", default=None, help="run only rows whose name contains this text")
    args = parser.parse_args(argv)
    command = "python " + " ".join([os.path.relpath(__file__, ROOT)] + (argv if argv is not None else sys.argv[1:]))
    os.environ["OMP_NUM_THREADS"] = str(args.threads)

    warnings.filterwarnings("ignore")
    import numpy as np
    import paddle
    import paddle.nn as nn

    from bench_acnet_export import machine_info
    from paddle_tricks.layers import (ACBlock, AconC, BlurPool, ConvBlurPool, CoordConv, CSPStage, DeformableConv,
                                      DropBlock, DyReLUA, DyReLUB, DyReLUC, MaxBlurPool, MetaAconC, NAM, OctaveConv,
                                      PyConv, SEModule, SKConv, SpatialPyramidPooling, SplitAttention, SPConv)
    from paddle_tricks.layers.conv_bn import ConvBNAct

    paddle.set_device("cpu")
    paddle.seed(0)
    c, s, b = args.channels, args.size, args.batch
    rng = np.random.RandomState(0)
    x = paddle.to_tensor(rng.standard_normal((b, c, s, s)).astype("float32"))
    half = c // 2
    x_oct = (paddle.to_tensor(rng.standard_normal((b, c - half, s, s)).astype("float32")),
             paddle.to_tensor(rng.standard_normal((b, half, s // 2, s // 2)).astype("float32")))

    def conv3(groups=1):
        return nn.Conv2D(c, c, 3, padding=1, groups=groups, bias_attr=False)

    def acb_deploy():
        layer = ACBlock(c, c, 3)
        layer.switch_to_deploy()
        return layer

    def basic_block(ch):
        return nn.Sequential(ConvBNAct(ch, ch, 3), ConvBNAct(ch, ch, 3, act=None))

    # (name, layer factory, its input, what it replaces, baseline factory, baseline input, train mode?)
    rows = [
        ("ACBlock 3×3 (train form)", lambda: ACBlock(c, c, 3), x, "3×3 conv", conv3, x, False),
        ("ACBlock 3×3 (deploy form)", acb_deploy, x, "3×3 conv", conv3, x, False),
        ("SPConv α=1/2", lambda: SPConv(c, c, ratio=0.5), x, "3×3 conv", conv3, x, False),
        ("PyConv stage 1 (3/5/7/9, g 1/4/8/16)", lambda: PyConv.for_stage(c, c, 1), x, "3×3 conv", conv3, x, False),
        ("PyConv stage 3 (3/5, g 1/4)", lambda: PyConv.for_stage(c, c, 3), x, "3×3 conv", conv3, x, False),
        ("OctaveConv α=0.5 (H/L in, H/L out)", lambda: OctaveConv(c, c, 3, 0.5, 0.5), x_oct, "3×3 conv",
         conv3, x, False),
        ("CoordConv", lambda: CoordConv(c, c, 3, bias=False), x, "3×3 conv", conv3, x, False),
        ("DeformableConv v1", lambda: DeformableConv(c, c, 3), x, "3×3 conv", conv3, x, False),
        ("DeformableConv v2 (modulated)", lambda: DeformableConv(c, c, 3, modulated=True), x, "3×3 conv",
         conv3, x, False),
        ("SKConv (M=2, g=32, incl. BN+ReLU)", lambda: SKConv(c, c, groups=32), x, "3×3 conv, groups 32",
         lambda: conv3(32), x, False),
        ("SplitAttention (radix 2, incl. BN+ReLU)", lambda: SplitAttention(c, c, radix=2), x, "3×3 conv",
         conv3, x, False),
        ("DyReLU-A", lambda: DyReLUA(c), x, "ReLU", nn.ReLU, x, False),
        ("DyReLU-B", lambda: DyReLUB(c), x, "ReLU", nn.ReLU, x, False),
        ("DyReLU-C", lambda: DyReLUC(c), x, "ReLU", nn.ReLU, x, False),
        ("ACON-C", lambda: AconC(c), x, "ReLU", nn.ReLU, x, False),
        ("Meta-ACON-C", lambda: MetaAconC(c), x, "ReLU", nn.ReLU, x, False),
        ("SE (r=16)", lambda: SEModule(c), x, "nothing (3×3 conv as scale)", conv3, x, False),
        ("NAM (channel)", lambda: NAM(c), x, "nothing (3×3 conv as scale)", conv3, x, False),
        ("DropBlock bs 7, keep 0.9 (training)", lambda: DropBlock(7, 0.9), x, "nothing (3×3 conv as scale)",
         conv3, x, True),
        ("BlurPool filt 4, s2", lambda: BlurPool(c, 4), x, "stride-2 subsampling x[::2, ::2]",
         lambda: _Subsample(), x, False),
        ("ConvBlurPool 3×3 (conv s1+BN+ReLU+blur)", lambda: ConvBlurPool(c, c, 3), x, "ConvBNAct 3×3 s2",
         lambda: ConvBNAct(c, c, 3, stride=2), x, False),
        ("MaxBlurPool (max 2 s1 + blur s2)", lambda: MaxBlurPool(c), x, "MaxPool 3×3 s2",
         lambda: nn.MaxPool2D(3, 2, 1), x, False),
        ("SpatialPyramidPooling (4, 2, 1)", lambda: SpatialPyramidPooling((4, 2, 1)), x, "global average pool",
         lambda: nn.AdaptiveAvgPool2D(1), x, False),
        ("CSPStage (s1, 1 basic block at C/2)", lambda: CSPStage(c, c, 1, basic_block, stride=1), x,
         "two 3×3 ConvBNAct (basic block at C)", lambda: basic_block(c), x, False),
    ]
    if args.only:
        rows = [r for r in rows if args.only.lower() in r[0].lower()]

    def n_params(layer):
        return sum(int(np.prod(p.shape)) for p in layer.parameters() if not p.stop_gradient)

    def call(layer, inp):
        return layer(*inp) if isinstance(inp, tuple) else layer(inp)

    def timed(layer, inp):
        t0 = time.perf_counter()
        for _ in range(args.iters):
            call(layer, inp)
        return (time.perf_counter() - t0) / args.iters * 1000.0

    info = machine_info(args.threads)
    results = []
    with paddle.no_grad():
        for name, make, inp, replaces, make_base, base_inp, train in rows:
            layer, base = make(), make_base()
            for m in (layer, base):
                m.train() if train else m.eval()
            call(layer, inp), call(base, base_inp)  # warm-up
            t_layer, t_base = [], []
            for rep in range(args.reps):
                pair = [(layer, inp, t_layer), (base, base_inp, t_base)]
                for m, i, acc in (pair if rep % 2 == 0 else pair[::-1]):
                    acc.append(timed(m, i))
            results.append((name, n_params(layer), float(np.median(t_layer)), replaces, n_params(base),
                            float(np.median(t_base))))
            print(f"  done: {name}", file=sys.stderr)

    load_end = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"### Trick layers vs the layer they replace ({b}×{c}×{s}×{s} input, dygraph eval forward, CPU)\n")
    print(f"- date: {datetime.datetime.now().isoformat(timespec='seconds')}")
    print(f"- machine: {info}; load average at end {load_end:.2f}")
    print(f"- command: `{command}`")
    print(f"- method: {args.reps} interleaved repetitions × {args.iters} forward passes (after one warm-up); "
          f"median over repetitions of the mean time per pass; params = learnable parameters\n")
    print("| layer | params | time (ms) | replaces | params | time (ms) | time ratio |")
    print("|---|---:|---:|---|---:|---:|---:|")
    for name, p, t, replaces, pb, tb in results:
        print(f"| {name} | {p:,} | {t:.2f} | {replaces} | {pb:,} | {tb:.2f} | {t / tb:.2f} |")
    return 0


def _Subsample():
    import paddle.nn as nn

    class Subsample(nn.Layer):
        def forward(self, x):
            return x[:, :, ::2, ::2]

    return Subsample()


if __name__ == "__main__":
    sys.exit(main())
