"""The names of the files in a run folder (``Global.output_dir``), in one place for every tool that reads them."""
from __future__ import annotations

import os

__all__ = ["CONFIG", "METRICS", "BEST", "BEST_EMA", "BEST_JSON", "CHECKPOINT", "CLASSES", "DATA_REPORT",
           "FAILURE_LOG", "LAUNCH_LOG", "LEGACY_CHECKPOINT", "LOCK", "VISUALDL", "RESULTS", "run_file"]

CONFIG = "config.yaml"                                  # the resolved config of the run
METRICS = "metrics.jsonl"                               # one JSON record per epoch
BEST = "best.safetensors"                               # weights of the best epoch
BEST_EMA = "best.ema.safetensors"                       # EMA weights of that epoch
BEST_JSON = "best.json"                                 # which epoch was best, and its record
CHECKPOINT = os.path.join("checkpoints", "latest.safetensors")  # everything needed to resume
CLASSES = "classes.json"                                # the class names, in label order
DATA_REPORT = "data_report.json"                        # files the loader skipped or replaced
FAILURE_LOG = "data_failures.log"
LEGACY_CHECKPOINT = os.path.join("checkpoints", "latest.pdckpt")  # the pickle of versions before safetensors
LOCK = "run.lock"                                       # held by the training process (engine/run_lock.py)
VISUALDL = "vdl"                                        # VisualDL logs
LAUNCH_LOG = "launch_log"                               # `train --nproc N`: the launcher's and each process's log

# what marks a folder as holding a run's results (a new run there needs --resume or --backup)
RESULTS = (CONFIG, METRICS, BEST, BEST_EMA, BEST_JSON, CHECKPOINT, LEGACY_CHECKPOINT, CLASSES, DATA_REPORT,
           FAILURE_LOG, VISUALDL)


def run_file(output_dir: str, name: str) -> str:
    """The absolute path of file ``name`` (one of the constants above) of the run in ``output_dir``."""
    return os.path.abspath(os.path.join(output_dir, name))
