"""Latency of exported ResNet-18: plain vs ACNet fused vs ACNet unfused, in one run on this CPU.

    python benchmarks/bench_acnet_export.py [--size 224] [--reps 15] [--iters 10] [--threads 1]

The three networks are exported with ``paddle.jit.save`` (``paddle_tricks.export.export_network``: the plain
and the fused ACNet nets are reparameterised, every BN folded; the unfused ACNet net is exported as trained)
and run with ``paddle.inference`` (IR optimisation on) at batch 1. Repetitions are interleaved (the order
rotates every repetition) so that load from other processes hits all three alike; each repetition times
``--iters`` runs after a warm-up, and the table gives the median over repetitions of the per-run time.
ACNet's claim is that the fused net costs exactly what the plain one does: the script exits with status 1
if the fused / plain ratio (median over repetitions of the ratio within each repetition) exceeds
``--max-ratio`` (1.03). BN statistics are calibrated on random images first (trained-like activations).
Prints a Markdown report.
"""
from __future__ import annotations

import argparse
import copy
import datetime
import os
import platform
import sys
import tempfile
import time
import warnings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from paddle_tricks.utils.machine import cpu_model  # noqa: E402


def machine_info(threads: int) -> str:
    """CPU model, cores, OS, Python / Paddle versions, threads and the current load average."""
    import paddle

    load = f"{os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else "n/a"
    return (f"{cpu_model()}, {os.cpu_count()} logical cores, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, Paddle {paddle.__version__}, {threads} thread(s); "
            f"load average at start {load}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=224, help="input height and width (batch 1)")
    parser.add_argument("--reps", type=int, default=15, help="interleaved repetitions (median over them)")
    parser.add_argument("--iters", type=int, default=10, help="timed runs per repetition and model")
    parser.add_argument("--warmup", type=int, default=5, help="untimed runs per model before timing")
    parser.add_argument("--threads", type=int, default=1, help="CPU math threads of each predictor")
    parser.add_argument("--max-ratio", type=float, default=1.03, help="largest allowed fused/plain ratio")
    parser.add_argument("--out", default=None, help="export folder (default: a temporary folder)")
    args = parser.parse_args(argv)
    command = "python " + " ".join([os.path.relpath(__file__, ROOT)] + (argv if argv is not None else sys.argv[1:]))

    warnings.filterwarnings("ignore")
    import numpy as np
    import paddle
    from paddle import inference

    from paddle_tricks.export import export_network
    from paddle_tricks.models import create_model
    from paddle_tricks.tricks import apply_tricks

    paddle.set_device("cpu")
    paddle.seed(0)
    info = machine_info(args.threads)
    out_dir = args.out or tempfile.mkdtemp(prefix="bench_acnet_")

    def calibrate_bn(net):
        """Trained-like BN statistics: the running stats become the batch stats of random images, so that
        activations stay O(1) (default stats make an untrained ACNet's activations grow 3x per unit, and
        tiny or huge values can change CPU speed)."""
        momenta = {}
        for m in net.sublayers():
            if isinstance(m, paddle.nn.BatchNorm2D):
                momenta[id(m)] = m._momentum
                m._momentum = 0.0
        net.train()
        with paddle.no_grad():
            net(paddle.to_tensor(np.random.RandomState(2).standard_normal((8, 3, args.size, args.size))
                                 .astype("float32")))
        for m in net.sublayers():
            if id(m) in momenta:
                m._momentum = momenta[id(m)]
        net.eval()

    plain = create_model("resnet18", num_classes=1000)
    acnet = apply_tricks(create_model("resnet18", num_classes=1000), {"conv3x3": "acblock"}, log=None)
    calibrate_bn(plain)
    calibrate_bn(acnet)
    nets = {"ResNet-18 (plain, BN folded)": (plain, True),
            "ACNet ResNet-18, fused": (copy.deepcopy(acnet), True),
            "ACNet ResNet-18, unfused (train form)": (acnet, False)}
    predictors, params = {}, {}
    for i, (label, (net, fuse)) in enumerate(nets.items()):
        res = export_network(net, os.path.join(out_dir, f"m{i}"), input_size=args.size, fuse=fuse)
        params[label] = (res.params_deploy, res.max_abs_diff)
        cfg = inference.Config(res.path_prefix + ".json", res.path_prefix + ".pdiparams")
        cfg.disable_gpu()
        cfg.switch_ir_optim(True)
        cfg.set_cpu_math_library_num_threads(args.threads)
        cfg.disable_glog_info()
        predictors[label] = inference.create_predictor(cfg)

    x = np.random.RandomState(1).standard_normal((1, 3, args.size, args.size)).astype("float32")

    def run(pred) -> None:
        h = pred.get_input_handle(pred.get_input_names()[0])
        h.reshape(x.shape)
        h.copy_from_cpu(x)
        pred.run()
        pred.get_output_handle(pred.get_output_names()[0]).copy_to_cpu()

    for pred in predictors.values():
        for _ in range(args.warmup):
            run(pred)
    labels = list(predictors)
    times = {l: [] for l in labels}
    for rep in range(args.reps):
        order = labels[rep % len(labels):] + labels[:rep % len(labels)]
        for label in order:
            pred = predictors[label]
            t0 = time.perf_counter()
            for _ in range(args.iters):
                run(pred)
            times[label].append((time.perf_counter() - t0) / args.iters * 1000.0)
    med = {l: float(np.median(v)) for l, v in times.items()}
    base = med[labels[0]]
    # paired: fused / plain within each repetition (same load), then the median over repetitions
    ratio = float(np.median(np.array(times[labels[1]]) / np.array(times[labels[0]])))
    load_end = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")

    print(f"### Exported ACNet ResNet-18 vs plain ResNet-18 (paddle.inference, batch 1, {args.size}x{args.size})\n")
    print(f"- date: {datetime.datetime.now().isoformat(timespec='seconds')}")
    print(f"- machine: {info}; load average at end {load_end:.2f}")
    print(f"- command: `{command}`")
    print(f"- method: {args.reps} interleaved repetitions x {args.iters} runs after {args.warmup} warm-up runs; "
          f"median over repetitions of the mean time per run; IQR = 25th-75th percentile over repetitions\n")
    print("| model | learnable params | latency median (ms) | IQR (ms) | vs plain | export check (max abs diff) |")
    print("|---|---:|---:|---:|---:|---:|")
    for label in labels:
        q1, q3 = np.percentile(times[label], [25, 75])
        print(f"| {label} | {params[label][0]:,} | {med[label]:.2f} | {q1:.2f}-{q3:.2f} | "
              f"{med[label] / base:.3f} | {params[label][1]:.1e} |")
    ok = ratio <= args.max_ratio
    print(f"\nfused / plain = {ratio:.3f} (median of the per-repetition ratios; ratio of the medians "
          f"{med[labels[1]] / base:.3f}) -> {'PASS' if ok else 'FAIL'}: must be <= {args.max_ratio}. "
          f"Unfused / fused = {med[labels[2]] / med[labels[1]]:.2f}.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
