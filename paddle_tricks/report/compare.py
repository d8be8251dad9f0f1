"""Compare finished (or unfinished) training runs: one Markdown table and two PNG plots.

``compare_runs(paths, out_dir)`` reads each run folder (:func:`paddle_tricks.report.runs.read_run`), and for
each run computes:

* accuracy from ``metrics.jsonl``: best eval top-1 (and its epoch), final eval top-1 and top-5 (top-k for
  fewer than 5 classes), best EMA top-1 when the run kept an EMA;
* complexity of the config's network (``build_network``, so with its ``Arch.tricks``): parameters of the
  network as trained (BN running statistics excluded), MAdds of one image through the *deploy* form
  (:func:`paddle_tricks.deploy.reparameterize`: ACBlocks fused; for every other net the same as the train
  form) at the run's evaluation input size (:func:`~paddle_tricks.report.runs.eval_input_size` or a flag);
* CPU latency of the exported model (optional, :mod:`paddle_tricks.report.latency`), with the run's
  ``best.pdparams`` when it exists;
* training time: the sum of the per-epoch train seconds of the records (evaluation not included).

It writes ``compare.md`` (the table, then notes: unfinished or unreadable runs, paths that are not runs,
what the columns mean, machine and date), ``summary.json`` (the same numbers), ``top1_per_epoch.png`` (eval
top-1 of every run per epoch) and ``top1_vs_madds.png`` (best top-1 against MAdds, labelled points). A run
that is missing, unfinished or partly unreadable is reported, never fatal. The command is
``paddle-tricks compare`` (:mod:`paddle_tricks.cli.compare`).
"""
from __future__ import annotations

import copy
import datetime as _dt
import json
import os
from dataclasses import asdict, dataclass, field

from ..errors import UserError
from ..utils.machine import machine_info
from ..utils.paths import write_whole
from .plots import CURVES_PNG, MADDS_PNG, plot_accuracy_vs_madds, plot_curves
from .runs import NotARunError, Run, eval_input_size, read_run, run_labels, trick_summary

__all__ = ["RunSummary", "Report", "summarize_run", "compare_runs", "markdown_table", "common_epoch", "dataset_name",
           "plot_curves", "plot_accuracy_vs_madds"]



@dataclass
class RunSummary:
    """One row of the comparison (accuracies in [0, 1], times in seconds)."""

    label: str
    path: str
    status: str
    model: str | None = None
    dataset: str | None = None
    tricks: str = "?"
    best_top1: float | None = None
    best_epoch: int | None = None
    final_top1: float | None = None
    final_topk: float | None = None
    topk: int | None = None
    ema_best_top1: float | None = None
    ema_final_top1: float | None = None
    params: int | None = None
    madds: int | None = None
    input_hw: list[int] | None = None
    latency_ms: float | None = None
    latency_p10_ms: float | None = None
    latency_p90_ms: float | None = None
    latency_backend: str | None = None
    train_seconds: float | None = None
    epochs_done: int = 0
    epochs_planned: int | None = None
    seed: int | None = None
    curve: list[list[float]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Report:
    """What :func:`compare_runs` produced."""

    rows: list[RunSummary]
    skipped: list[str]
    markdown: str
    files: dict[str, str]


def _in_channels(net) -> int:
    import paddle.nn as nn
    for layer in net.sublayers():
        if isinstance(layer, nn.Conv2D):
            return int(layer._in_channels)
    return 3


def _accuracy(run: Run, row: RunSummary) -> None:
    """Best / final top-1 of the raw weights and of the EMA; a run that evaluated only its EMA
    (``Global.eval_weights: ema``) has the EMA columns only."""
    ev = run.evaluated()
    raw = [r for r in ev if isinstance(r.get("eval_top1"), (int, float))]
    row.curve = [[int(r["epoch"]), float(r["eval_top1"])] for r in raw]
    if raw:
        best = max(raw, key=lambda r: r["eval_top1"])  # the first epoch wins a tie
        row.best_top1, row.best_epoch = float(best["eval_top1"]), int(best["epoch"])
        last = raw[-1]
        row.final_top1 = float(last["eval_top1"])
        key = run.topk_key("eval")
        if key and key in last:
            row.topk, row.final_topk = int(key[len("eval_top"):]), float(last[key])
    ema = [r for r in ev if isinstance(r.get("ema_top1"), (int, float))]
    if ema:
        row.ema_best_top1 = max(float(r["ema_top1"]) for r in ema)
        row.ema_final_top1 = float(ev[-1]["ema_top1"]) if ev[-1] is ema[-1] else None
    times = [float(r["time"]) for r in run.records if isinstance(r.get("time"), (int, float))]
    row.train_seconds = sum(times) if times else None


def _complexity(run: Run, row: RunSummary, input_hw, latency: bool, export_dir: str, repeats: int,
                threads: int, log) -> None:
    """Params, deploy-form MAdds and (optionally) latency; any failure becomes a note."""
    import paddle
    from ..deploy import reparameterize
    from ..models import build_network
    from ..utils.complexity import count_madds, count_params

    paddle.set_device("cpu")

    def build():  # silently: the row names the tricks; their conversion lines were in the run's own log
        return build_network(run.config, log=None)
    try:
        net = build()
    except Exception as e:  # noqa: BLE001 - report, do not stop the comparison
        row.notes.append(f"network not built ({type(e).__name__}: {e})")
        return
    row.params = count_params(net)
    if input_hw is None:
        row.notes.append("input size unknown (no Resize/CenterCrop in Data.eval_transforms): "
                         "no MAdds or latency; pass --input-size")
        return
    h, w = input_hw
    c = _in_channels(net)
    # MAdds of the deploy form, on a copy: once exported, a to_static network reports dynamic (-1) shapes
    try:
        deploy = copy.deepcopy(net)
    except Exception:  # noqa: BLE001 - a layer that cannot be copied: build the net again
        deploy = build()
    try:
        reparameterize(deploy)
    except Exception as e:  # noqa: BLE001
        row.notes.append(f"MAdds of the train form: reparameterize failed ({type(e).__name__}: {e})")
        deploy = build()
    try:
        row.madds = count_madds(deploy, (1, c, h, w))
    except Exception as e:  # noqa: BLE001
        row.notes.append(f"MAdds not counted ({type(e).__name__}: {str(e).splitlines()[0]})")
    del deploy
    if not latency:
        return
    if h != w:
        row.notes.append(f"latency skipped: the export takes square inputs, the eval size is {h}x{w}")
        return
    from ..engine.run_files import BEST
    weights = os.path.join(run.path, BEST)
    try:
        if os.path.isfile(weights):
            from ..engine.checkpoint import load_weights
            load_weights(net, weights)
        else:
            row.notes.append(f"latency measured with the initial weights (no {BEST})")
        from .latency import measure_latency
        res = measure_latency(net, export_dir, h, c, repeats=repeats, threads=threads)
        row.latency_ms, row.latency_p10_ms, row.latency_p90_ms = res.median_ms, res.p10_ms, res.p90_ms
        row.latency_backend = res.backend
        log(f"  {row.label}: latency {res.median_ms:.2f} ms ({res.backend}, {threads} thread(s), "
            f"median of {repeats}); export at {res.export_prefix}")
    except Exception as e:  # noqa: BLE001
        row.notes.append(f"latency not measured ({type(e).__name__}: {str(e).splitlines()[0]})")


def dataset_name(cfg: dict) -> str | None:
    """``Data.dataset`` of a run's config; a folder dataset is named by its folder (``folder:flowers``)."""
    data = cfg.get("Data") or {}
    kind = data.get("dataset")
    root = data.get("root")
    if kind == "folder" and isinstance(root, str) and root:
        return f"folder:{os.path.basename(os.path.normpath(root))}"
    return kind if isinstance(kind, str) else None


def summarize_run(run: Run, label: str | None = None, input_size: int | None = None, latency: bool = False,
                  export_dir: str | None = None, repeats: int = 50, threads: int = 1, log=print) -> RunSummary:
    """The comparison row of one run.

    Args:
        run: a run read by :func:`~paddle_tricks.report.runs.read_run`.
        label: row label (default: the folder name).
        input_size: square input size for MAdds and latency (default: the run's eval size).
        latency: export the network and time it.
        export_dir: where the exported model goes (default: ``<run>/export_latency``).
        repeats: timed runs of the latency measurement.
        threads: CPU math threads of the latency measurement.
        log: where progress lines go.
    """
    row = RunSummary(label=label or run.name, path=run.path, status=run.status,
                     epochs_done=run.epochs_done, epochs_planned=run.planned_epochs)
    row.notes += run.problems
    _accuracy(run, row)
    cfg = run.config
    if cfg is None:
        return row
    row.model = (cfg.get("Arch") or {}).get("name")
    opts = (cfg.get("Arch") or {}).get("options") or {}
    if isinstance(opts, dict) and opts.get("width_mult") not in (None, 1, 1.0):
        row.model = f"{row.model} x{opts['width_mult']:g}"
    row.tricks = trick_summary(cfg)
    row.dataset = dataset_name(cfg)
    row.seed = (cfg.get("Global") or {}).get("seed")
    hw = (input_size, input_size) if input_size else eval_input_size(cfg)
    row.input_hw = list(hw) if hw else None
    _complexity(run, row, hw, latency, export_dir or os.path.join(run.path, "export_latency"), repeats, threads, log)
    return row


# --------------------------------------------------------------------------------------------- formatting

def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.2f}"


def format_count(v: int | None) -> str:
    if v is None:
        return "-"
    if v >= 1e9:
        return f"{v / 1e9:.2f}G"
    if v >= 1e5:
        return f"{v / 1e6:.2f}M"
    return f"{v / 1e3:.1f}K"


def format_seconds(s: float | None) -> str:
    if s is None:
        return "-"
    s = int(round(s))
    if s >= 3600:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m {s % 60:02d}s"
    return f"{s}s"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown_table(rows: list[RunSummary]) -> str:
    """The comparison table (GitHub Markdown)."""
    ks = sorted({r.topk for r in rows if r.topk})
    topk = f"Top-{ks[0]}" if len(ks) == 1 else "Top-k"
    head = ["Run", "Model", "Trick(s)", "Top-1 best (epoch)", "Top-1 final", f"{topk} final", "EMA top-1 best",
            "Params", "MAdds (input)", "CPU latency ms", "Train time", "Epochs", "Dataset"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] * 3 + ["--:"] * (len(head) - 3)) + "|"]
    for r in rows:
        best = "-" if r.best_top1 is None else f"{_pct(r.best_top1)} ({r.best_epoch})"
        final_k = _pct(r.final_topk) + (f" (top-{r.topk})" if r.topk and len(ks) > 1 else "")
        size = "" if not r.input_hw else f" ({r.input_hw[0]}px)" if r.input_hw[0] == r.input_hw[1] \
            else f" ({r.input_hw[0]}x{r.input_hw[1]})"
        madds = "-" if r.madds is None else format_count(r.madds) + size
        lat = "-" if r.latency_ms is None else f"{r.latency_ms:.2f}"
        planned = "?" if r.epochs_planned is None else str(r.epochs_planned)
        epochs = f"{r.epochs_done}/{planned}" + ("" if r.status == "finished" else f" ({r.status})")
        cells = [r.label, r.model or "?", r.tricks, best, _pct(r.final_top1), final_k, _pct(r.ema_best_top1),
                 format_count(r.params), madds, lat, format_seconds(r.train_seconds), epochs, r.dataset or "?"]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------- driver

def common_epoch(rows: list[RunSummary]) -> tuple[int, dict[str, float]] | None:
    """The last epoch that every run with an evaluation has evaluated, and each run's eval top-1 there.

    ``None`` when fewer than two runs have evaluations, they share no epoch, or they all end at the same epoch.
    """
    curves = {r.label: dict((int(e), a) for e, a in r.curve) for r in rows if r.curve}
    if len(curves) < 2:
        return None
    shared = set.intersection(*(set(c) for c in curves.values()))
    if not shared or len({max(c) for c in curves.values()}) == 1:
        return None
    ep = max(shared)
    return ep, {label: c[ep] for label, c in curves.items()}


def _notes(rows: list[RunSummary], skipped: list[str], latency: bool, repeats: int, threads: int,
           warnings: list[str] = ()) -> str:
    out = [f"- warning: {w}" for w in warnings]
    for r in rows:
        for n in r.notes:
            out.append(f"- `{r.label}`: {n}")
    for s in skipped:
        out.append(f"- skipped: {s}")
    text = ""
    common = common_epoch(rows)
    if common:
        ep, accs = common
        text += (f"The runs stopped at different epochs; eval top-1 at epoch {ep}, the last one all of them "
                 "evaluated: " + ", ".join(f"`{k}` {100 * v:.2f}" for k, v in accs.items()) + ".\n\n")
    if out:
        text += "Problems:\n\n" + "\n".join(out) + "\n\n"
    text += ("Columns: accuracies in % on the run's eval set (best = highest eval top-1 over the evaluated "
             "epochs, with its epoch; final = last evaluated epoch); EMA top-1 only for runs with an EMA. "
             "Params: the network as trained (BN running statistics excluded). MAdds: one image through the "
             "deploy form (ACBlocks fused; conv and linear layers) at the eval input size. Train time: sum of "
             "the per-epoch training seconds in metrics.jsonl (evaluation excluded).")
    if latency:
        text += (f" CPU latency: batch 1, median of {repeats} runs of the exported, reparameterised model in "
                 f"paddle.inference with {threads} math thread(s).")
    return text + "\n"


def compare_runs(paths: list[str], out_dir: str, latency: bool = True, input_size: int | None = None,
                 repeats: int = 50, threads: int = 1, title: str | None = None, command: str | None = None,
                 log=print) -> Report:
    """Compare run folders: write ``compare.md``, ``summary.json`` and the two PNG plots to ``out_dir``.

    Args:
        paths: run folders (``Global.output_dir`` of training runs).
        out_dir: output folder (created).
        latency: export each network and time it on the CPU.
        input_size: square input size for every run (default: each run's eval size).
        repeats: timed runs of each latency measurement.
        threads: CPU math threads of the latency measurement.
        title: heading of ``compare.md``.
        command: the command line to record in ``compare.md``.
        log: where progress and problems go.

    Returns:
        A :class:`Report`.

    Raises:
        UserError: none of the paths could be read as a run folder.
    """
    runs, skipped = [], []
    for p in paths:
        try:
            runs.append(read_run(p))
        except NotARunError as e:
            skipped.append(str(e))
            log(f"warning: {e}")
    if not runs:
        raise UserError("no run folder to compare: " + "; ".join(skipped) if skipped else
                        "no run folder to compare: pass at least one")
    os.makedirs(out_dir, exist_ok=True)
    labels = run_labels([r.path for r in runs])
    rows = []
    for run, label in zip(runs, labels):
        log(f"reading {run.path} ({run.status}, {run.epochs_done}/{run.planned_epochs} epochs)")
        export_dir = os.path.join(out_dir, "export", label.replace("/", "_").replace("#", "_"))
        rows.append(summarize_run(run, label, input_size=input_size, latency=latency, export_dir=export_dir,
                                  repeats=repeats, threads=threads, log=log))
    datasets = sorted({r.dataset for r in rows if r.dataset})
    warnings = []
    if len(datasets) > 1:
        warnings.append(f"the runs come from {len(datasets)} datasets ({', '.join(datasets)}): their accuracies "
                        f"are not comparable; compare runs of one dataset")
        log(f"warning: {warnings[-1]}")
    files = {"markdown": os.path.join(out_dir, "compare.md"), "json": os.path.join(out_dir, "summary.json"),
             "curves": plot_curves(rows, os.path.join(out_dir, CURVES_PNG)),
             "madds": plot_accuracy_vs_madds(rows, os.path.join(out_dir, MADDS_PNG))}
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    md = [f"# {title or 'Run comparison'}", "",
          f"Generated {now} on {machine_info()}.", ""]
    if command:
        md += ["```", command, "```", ""]
    md += [markdown_table(rows), _notes(rows, skipped, latency, repeats, threads, warnings),
           f"![eval top-1 per epoch]({CURVES_PNG})", "", f"![top-1 against MAdds]({MADDS_PNG})", ""]
    markdown = "\n".join(md)
    write_whole(markdown, files["markdown"])
    write_whole(json.dumps({"generated": now, "machine": machine_info(), "command": command, "skipped": skipped,
                            "rows": [asdict(r) for r in rows]}, indent=1), files["json"])
    return Report(rows, skipped, markdown, files)
