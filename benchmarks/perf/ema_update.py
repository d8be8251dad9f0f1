"""EMA update against its floor, with ``benchmarks/bench_ema.py``'s measurement: on MobileNetV2 (paddle.vision,
262 tensors) the old per-tensor update, ``ModelEMA.update`` and one ``lerp_`` over a flat fp32 buffer of as many
values alternate single calls (rotating order) after warm-up calls of all three."""
from __future__ import annotations

from .stats import ms, paired_ratio
from .workload import Sizes


def section(sizes: Sizes, data_root: str) -> tuple[str, list]:
    from benchmarks.bench_ema import measure
    r = measure(rounds=sizes.ema_rounds, warmup=sizes.warmup)
    times, names = r["times"], r["names"]
    floor = len(names) - 1
    ratios = [paired_ratio(times[:, i], times[:, floor]) for i in range(floor)]
    lines = [f"MobileNetV2 (paddle.vision, {r['tensors']} tensors, {r['values']:,} values), {len(times)} rounds of "
             f"one call each after {sizes.warmup} warm-up rounds.", "",
             "| variant | median ms/update | / floor |", "|---|--:|--:|"]
    for i, name in enumerate(names):
        lines.append(f"| {name} | {ms(times[:, i])} | {ratios[i] if i < floor else '1'} |")
    return "\n".join(lines), ratios
