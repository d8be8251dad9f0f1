"""Run a trick ablation: a base config and one variant per trick, same seed and budget, then compare them.

An ablation is a folder of configs (``configs/ablations/``): a base config, and one short delta config per
trick whose ``_base_`` is that base (a path relative to the delta file, or a list holding it). Every
``*.yaml`` of the base's folder whose ``_base_`` resolves to the base file is a variant, named after its
file (``acblock.yaml`` → ``acblock``). :func:`plan` makes one job per (variant, seed): a
``python -m paddle_tricks train`` subprocess with ``-o Global.output_dir=<out>/<name>_s<seed> -o Global.seed=<seed>``
and ``-o Global.resume=auto``, so an interrupted job continues from its last epoch and a finished one is skipped
(the base is named ``base``). Extra ``-o`` overrides (for example a shorter ``Global.epochs``) go to every
job, so base and variants always share the budget.

``--confirm-seeds`` runs, after the first pass, the base and the best variant (highest mean best top-1)
again with other seeds, so the noise between seeds can be set against the differences between tricks.
At the end :func:`paddle_tricks.report.compare.compare_runs` writes the per-run table and plots, and
``ablation.md`` adds one row per variant (mean over seeds, difference to the base). The command is
``paddle-tricks ablate`` (:mod:`paddle_tricks.cli.ablate`)::

    paddle-tricks ablate -c ablations/base_resnet18_shapes --tricks acblock,se --seeds 0,1
    paddle-tricks ablate -c ablations/base_resnet18_shapes --dry-run   # commands for a queue
"""
from __future__ import annotations

import datetime as _dt
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

import yaml

from .engine import run_files
from .errors import UserError
from .utils.console import Stopped

__all__ = ["Variant", "Job", "discover_variants", "select_variants", "plan", "job_finished", "run_jobs",
           "ablation_table", "ablate", "BASE_NAME", "TRAIN_COMMAND"]

BASE_NAME = "base"
TRAIN_COMMAND = [sys.executable, "-m", "paddle_tricks", "train"]   # works from any folder, installed or not


@dataclass
class Variant:
    """One config of the ablation: the base (``name == 'base'``) or a trick delta."""

    name: str
    config: str


@dataclass
class Job:
    """One training run of the ablation."""

    variant: Variant
    seed: int
    out_dir: str
    overrides: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.variant.name}_s{self.seed}"

    def args(self) -> list[str]:
        """The arguments of ``paddle-tricks train``."""
        out = ["-c", self.variant.config]
        for o in self.overrides:
            out += ["-o", o]
        # Global.resume=auto: continue from the job's checkpoint when there is one, else start it
        return out + ["-o", f"Global.output_dir={self.out_dir}", "-o", f"Global.seed={self.seed}",
                      "-o", "Global.resume=auto"]

    def command(self) -> list[str]:
        """The command a user would type for this run."""
        return ["paddle-tricks", "train"] + self.args()


def _bases_of(path: str) -> list[str]:
    """The ``_base_`` files of a config, as absolute paths (empty when it has none or cannot be read)."""
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except (OSError, yaml.YAMLError):
        return []
    bases = data.get("_base_") if isinstance(data, dict) else None
    if isinstance(bases, str):
        bases = [bases]
    if not isinstance(bases, list):
        return []
    return [os.path.abspath(os.path.join(os.path.dirname(path), b)) for b in bases if isinstance(b, str)]


def discover_variants(base: str) -> list[Variant]:
    """The trick variants of ``base``: every ``*.yaml`` / ``*.yml`` beside it whose ``_base_`` is ``base``.

    Args:
        base: the base config file.

    Returns:
        The variants sorted by name (the base itself not included).

    Raises:
        UserError: ``base`` is not a file, or a variant would be named ``base``.
    """
    if not os.path.isfile(base):
        raise UserError(f"base config not found: {base}")
    target = os.path.abspath(base)
    folder = os.path.dirname(base) or "."
    out = []
    for f in sorted(os.listdir(folder)):
        path = os.path.join(folder, f)
        if not f.endswith((".yaml", ".yml")) or os.path.abspath(path) == target or not os.path.isfile(path):
            continue
        if target in _bases_of(path):
            name = os.path.splitext(f)[0]
            if name == BASE_NAME:
                raise UserError(f"{path}: a variant cannot be named '{BASE_NAME}' (the name of the base runs)")
            out.append(Variant(name, path))
    return out


def select_variants(variants: list[Variant], names: list[str] | None) -> list[Variant]:
    """The variants named in ``names`` (all when ``None``), in the given order; unknown names raise."""
    if names is None:
        return list(variants)
    by_name = {v.name: v for v in variants}
    unknown = [n for n in names if n not in by_name and n != BASE_NAME]
    if unknown:
        raise UserError(f"unknown trick(s) {', '.join(unknown)}; the variants of this base are: "
                        f"{', '.join(by_name) or '(none)'}")
    seen, out = set(), []
    for n in names:
        if n in by_name and n not in seen:
            seen.add(n)
            out.append(by_name[n])
    return out


def plan(base: str, variants: list[Variant], seeds: list[int], out: str,
         overrides: list[str] | None = None) -> list[Job]:
    """Jobs for the base and every variant, each with every seed (seed-major: a whole first pass first)."""
    rows = [Variant(BASE_NAME, base)] + list(variants)
    return [Job(v, s, os.path.join(out, f"{v.name}_s{s}"), list(overrides or [])) for s in seeds for v in rows]


def job_finished(job: Job) -> bool:
    """True when the job's folder already holds as many epoch records as its resolved config asks for."""
    from .config import load_config
    from .report.runs import NotARunError, read_run
    try:
        run = read_run(job.out_dir)
    except NotARunError:
        return False
    cfg = load_config(job.variant.config, job.overrides + [f"Global.seed={job.seed}"])
    return bool(run.records) and run.epochs_done >= cfg["Global"]["epochs"]


def _duration(s: float) -> str:
    s = int(round(s))
    return f"{s // 3600}h {s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m {s % 60:02d}s"


def _env_finding_this_package() -> dict:
    """The environment with this copy of ``paddle_tricks`` first on the path (a checkout not installed)."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": here + (os.pathsep + path if path else "")}


def _error_line(log_path: str) -> str:
    """The ``error:`` line of a failed job's log (its last line if it has none)."""
    try:
        with open(log_path, encoding="utf-8", errors="replace") as f:
            lines = [ln.strip() for ln in f if ln.strip()]
    except OSError:
        return "no log"
    errors = [ln[len("error:"):].strip() for ln in lines if ln.startswith("error:")]
    return errors[-1] if errors else (lines[-1] if lines else "no output")


def run_jobs(jobs: list[Job], log_dir: str, train_cmd: list[str] | None = None, log=print) -> dict[str, str]:
    """Run the jobs one after the other, skipping finished ones; returns ``{job name: status}``.

    Args:
        jobs: from :func:`plan`.
        log_dir: each job's output goes to ``<log_dir>/<job>.log``.
        train_cmd: the command that takes the ``paddle-tricks train`` arguments (default:
            ``python -m paddle_tricks train`` with this Python).
        log: where progress lines go.

    A failed job is reported and the others still run.
    """
    train_cmd = train_cmd or TRAIN_COMMAND
    try:
        os.makedirs(log_dir, exist_ok=True)
    except OSError as e:
        raise UserError(f"cannot create the ablation folder {log_dir}: {e.strerror}; choose another --out") from None
    status: dict[str, str] = {}
    for i, job in enumerate(jobs, 1):
        head = f"[{i}/{len(jobs)}] {job.name}"
        if job_finished(job):
            log(f"{head}: already finished in {job.out_dir}, skipped")
            status[job.name] = "skipped"
            continue
        path = os.path.join(log_dir, f"{job.name}.log")
        log(f"{head}: training {job.variant.config} (seed {job.seed}) -> {job.out_dir}  (log: {path})")
        start = time.time()
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"$ {shlex.join(train_cmd + job.args())}\n")
            f.flush()
            rc = _train(train_cmd + job.args(), f)
        took = _duration(time.time() - start)
        if rc == 0:
            log(f"{head}: done in {took}")
            status[job.name] = "ran"
        else:
            with open(path, encoding="utf-8", errors="replace") as f:
                tail = [ln for ln in f.read().splitlines() if ln.strip()][-3:]
            log(f"{head}: FAILED (exit code {rc}) after {took}; last lines of {path}:\n    " + "\n    ".join(tail))
            status[job.name] = f"failed ({rc})"
    return status


def _train(cmd: list[str], log_file) -> int:
    """Run one training; when this process is stopped, stop it the same way and let it finish its cleanup.

    Ctrl-C reaches the training too (the terminal signals the whole process group); SIGTERM, sent to this
    process alone (``kill``, a job scheduler), is passed on."""
    proc = subprocess.Popen(cmd, stdout=log_file, stderr=subprocess.STDOUT, env=_env_finding_this_package())
    try:
        return proc.wait()
    except KeyboardInterrupt as e:
        if isinstance(e, Stopped):
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        raise


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs)


def variant_of(label: str) -> str:
    """``acblock_s0`` -> ``acblock`` (a label without the seed suffix is returned as is)."""
    m = re.fullmatch(r"(.+)_s(\d+)", label)
    return m.group(1) if m else label


def ablation_table(rows, base_name: str = BASE_NAME) -> str:
    """One row per variant over its seeds: best top-1 of each seed, mean, difference to the base mean.

    Args:
        rows: :class:`paddle_tricks.report.compare.RunSummary` rows labelled ``<variant>_s<seed>``.
        base_name: the variant the differences refer to.
    """
    from .report.compare import format_count, format_seconds
    groups: dict[str, list] = {}
    for r in rows:
        name = variant_of(r.label)
        groups.setdefault(name, []).append(r)
    done = {n: [r for r in rs if r.status == "finished" and r.best_top1 is not None] for n, rs in groups.items()}
    base = [r.best_top1 for r in done.get(base_name, [])]
    base_mean = _mean(base) if base else None
    head = ["Variant", "Trick(s)", "Seeds", "Best top-1 per seed", "Mean best top-1", "Δ vs base (pp)",
            "Mean final top-1", "Params", "MAdds", "CPU latency ms", "Train time / run"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] * 2 + ["--:"] * (len(head) - 2)) + "|"]
    order = [base_name] + sorted(n for n in groups if n != base_name)
    for n in order:
        if n not in groups:
            continue
        rs, ok = groups[n], done[n]
        first = rs[0]
        per_seed = ", ".join(f"{100 * r.best_top1:.2f} (s{r.seed})" for r in ok) or "-"
        missing = len(rs) - len(ok)
        if missing:
            per_seed += f" + {missing} unfinished"
        mean = _mean([r.best_top1 for r in ok]) if ok else None
        delta = "-" if mean is None or base_mean is None or n == base_name else f"{100 * (mean - base_mean):+.2f}"
        fin = [r.final_top1 for r in ok if r.final_top1 is not None]
        lat = [r.latency_ms for r in ok if r.latency_ms is not None]
        times = [r.train_seconds for r in ok if r.train_seconds]
        cells = [n, first.tricks, str(len(ok)), per_seed, "-" if mean is None else f"{100 * mean:.2f}", delta,
                 f"{100 * _mean(fin):.2f}" if fin else "-", format_count(first.params), format_count(first.madds),
                 f"{_mean(lat):.2f}" if lat else "-", format_seconds(_mean(times)) if times else "-"]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    text = "\n".join(lines) + "\n"
    if len(base) > 1:
        text += (f"\nSeed-to-seed spread of the base: {100 * (max(base) - min(base)):.2f} pp "
                 f"(best top-1 {', '.join(f'{100 * b:.2f}' for b in base)}).\n")
    return text


def _best_variant(rows, names: list[str]) -> str | None:
    scores = {}
    for r in rows:
        name = variant_of(r.label)
        if name in names and name != BASE_NAME and r.best_top1 is not None and r.status == "finished":
            scores.setdefault(name, []).append(r.best_top1)
    return max(scores, key=lambda n: _mean(scores[n])) if scores else None


def ablate(base: str, tricks: list[str] | None = None, seeds: list[int] | None = None, out: str | None = None,
           overrides: list[str] | None = None, dry_run: bool = False, confirm_seeds: list[int] | None = None,
           latency: bool = True, repeats: int = 50, threads: int = 1, train_cmd: list[str] | None = None,
           command: str | None = None, log=print) -> int:
    """Plan, run (or print) and compare an ablation; returns the exit code (1 if a job failed).

    Args:
        base: the base config.
        tricks: variant names (default: all variants of the base).
        seeds: seeds of the first pass (default: the base config's ``Global.seed``).
        out: output folder (default ``output/ablations/<base name>``).
        overrides: ``Section.key=value`` overrides for every job.
        dry_run: print the commands instead of running them.
        confirm_seeds: after the first pass, run the base and the best variant with these seeds too.
        latency: measure the CPU latency of each exported model in the comparison.
        repeats: timed runs of each latency measurement.
        threads: CPU math threads of the latency measurement.
        train_cmd: the training command (default: ``python -m paddle_tricks train`` with this Python).
        command: the command line, recorded in the report.
        log: where progress lines go.
    """
    from .config import load_config
    overrides = list(overrides or [])
    base_cfg = load_config(base, overrides)  # a broken base fails here, before any job runs
    variants = select_variants(discover_variants(base), tricks)
    if not variants:
        raise UserError(f"no trick variant found for {base}: a variant is a config in the same folder whose "
                        f"_base_ is {os.path.basename(base)}")
    for v in variants:
        load_config(v.config, overrides)  # every variant must load before hours of training start
    seeds = seeds or [base_cfg["Global"]["seed"]]
    out = out or os.path.join("output", "ablations", os.path.splitext(os.path.basename(base))[0])
    jobs = plan(base, variants, seeds, out, overrides)
    if dry_run:
        for job in jobs:
            print(shlex.join(job.command()))
        if confirm_seeds:
            extra = plan(base, [], confirm_seeds, out, overrides)
            for job in extra:
                print(shlex.join(job.command()))
            print(f"# then the best variant of the first pass with seed(s) {','.join(map(str, confirm_seeds))} "
                  f"(picked automatically when run without --dry-run)")
        print(f"# then: paddle-tricks compare {shlex.quote(out)}/*_s* --out {shlex.quote(os.path.join(out, 'report'))}")
        return 0
    status = run_jobs(jobs, os.path.join(out, "logs"), train_cmd, log)
    from .report.compare import compare_runs
    report_dir = os.path.join(out, "report")
    if confirm_seeds:
        first = compare_runs([j.out_dir for j in jobs if os.path.isdir(j.out_dir)], report_dir, latency=False,
                             log=lambda *_: None)
        best = _best_variant(first.rows, [v.name for v in variants])
        if best is None:
            log("no finished variant: the confirmation seeds are skipped")
        else:
            log(f"best variant of the first pass: {best}; running the base and {best} with seed(s) "
                f"{','.join(map(str, confirm_seeds))}")
            extra = plan(base, [v for v in variants if v.name == best], confirm_seeds, out, overrides)
            extra = [j for j in extra if j.name not in {k.name for k in jobs}]
            status.update(run_jobs(extra, os.path.join(out, "logs"), train_cmd, log))
            jobs += extra
    dirs = [j.out_dir for j in jobs if os.path.isfile(os.path.join(j.out_dir, run_files.METRICS))]
    if not dirs:
        first = jobs[0]
        log_path = os.path.join(out, "logs", f"{first.name}.log")
        raise UserError(f"every training job failed, so there is nothing to compare; {first.name}: "
                        f"{_error_line(log_path)} (log: {os.path.abspath(log_path)})")
    title = f"Ablation of {os.path.basename(base)}"
    rep = compare_runs(dirs, report_dir, latency=latency, repeats=repeats, threads=threads, title=title,
                       command=command, log=log)
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    summary = ablation_table(rep.rows)
    path = os.path.join(report_dir, "ablation.md")
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"# {title}\n\nGenerated {now}.\n\n" + (f"```\n{command}\n```\n\n" if command else "")
                + "Per variant (finished runs; best top-1 = highest eval top-1 over the epochs):\n\n" + summary
                + "\n## Per run\n\n" + rep.markdown.split("\n", 1)[1].lstrip())
    print(summary, end="")
    log(f"written: {path}, " + ", ".join(rep.files.values()))
    failed = [n for n, s in status.items() if s.startswith("failed")]
    if failed:
        log(f"{len(failed)} job(s) failed: {', '.join(failed)}; see {os.path.join(out, 'logs')}")
    return 1 if failed else 0
