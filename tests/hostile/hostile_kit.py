"""Shared pieces of the hostile-input suite: run a tool the way a user does, check that it refused cleanly,
and prove that a finished run was not touched.

The tools run in-process through their own ``tools/<name>.py`` script (``runpy``, with ``sys.argv`` set), so
the suite tests exactly what a user types, without paying Paddle's start-up for every case.
"""
from __future__ import annotations

import os
import pathlib
import pickle
import re
import runpy
import shutil
import sys
import traceback
from dataclasses import dataclass

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
NORM = {"Normalize": {"mean": [127.5] * 3, "std": [64.0] * 3, "data_format": "CHW"}}
TINY = {
    "Global": {"epochs": 2, "verbose": 0, "seed": 3},
    "Arch": {"name": "asymmnet_small", "num_classes": 16, "options": {"width_mult": 0.35}},
    "Data": {"dataset": "quickstart", "batch_size": 16,
             "options": {"num_per_class": 2, "eval_per_class": 1, "image_size": 32},
             "train_transforms": [{"Transpose": {}}, NORM], "eval_transforms": [{"Transpose": {}}, NORM]},
    "VisualDL": {"enable": False},
}

@dataclass
class Outcome:
    code: int | str
    out: str
    err: str


def run_tool(capfd, tool: str, *args) -> Outcome:
    """Run ``tools/<tool>.py args`` in this process; ``code`` is its exit code or ``'traceback'``."""
    script = str(ROOT / "tools" / f"{tool}.py")
    saved = sys.argv
    sys.argv = [script, *map(str, args)]
    crash = ""
    try:
        runpy.run_path(script, run_name="__main__")
        code: int | str = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:  # a traceback is a failure of the contract: keep it for the assertion message
        code, crash = "traceback", traceback.format_exc()
    finally:
        sys.argv = saved
    got = capfd.readouterr()
    return Outcome(code, got.out, got.err + crash)


_RAW_EXCEPTION = re.compile(r"^\s*(\w+\.)*\w*(Error|Exception)\b.*:", re.M)


def assert_refused(outcome: Outcome, *needles: str) -> str:
    """Exit code 2, exactly one ``error:`` line holding every needle, no traceback; returns that line."""
    text = outcome.out + outcome.err
    assert outcome.code == 2, f"exit {outcome.code}\n{text[-3000:]}"
    assert "Traceback" not in text, text[-3000:]
    errors = [ln for ln in outcome.err.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, outcome.err[-3000:]
    assert not _RAW_EXCEPTION.search(outcome.err.replace(errors[0], "")), outcome.err[-3000:]
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


def snapshot(folder) -> dict[str, bytes]:
    """Every file below ``folder`` (hidden ones too), relative path -> bytes."""
    out = {}
    for dirpath, _, files in os.walk(folder):
        for f in files:
            p = os.path.join(dirpath, f)
            out[os.path.relpath(p, folder)] = open(p, "rb").read()
    return out


def assert_unchanged(before: dict[str, bytes], folder) -> None:
    after = snapshot(folder)
    assert sorted(after) == sorted(before), f"files added/removed: {sorted(set(after) ^ set(before))}"
    changed = [k for k in before if before[k] != after[k]]
    assert not changed, f"files modified: {changed}"


def write_config(path, output_dir, **sections) -> str:
    """The tiny config with ``output_dir`` and per-section updates, written to ``path``."""
    cfg = {k: dict(v) for k, v in TINY.items()}
    cfg["Global"]["output_dir"] = str(output_dir)
    for sec, val in sections.items():
        cfg.setdefault(sec, {}).update(val)
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(cfg))
    return str(path)


class RunsCode:
    """A pickled object whose unpickling runs ``touch <marker>`` through ``os.system``."""

    def __init__(self, marker):
        self.command = f"touch {marker}"

    def __reduce__(self):
        return (os.system, (self.command,))


def write_malicious_pickle(path, marker, inside: str = "weights") -> str:
    """A file that looks like weights (``inside='weights'``) or a training checkpoint (``'checkpoint'``)
    and runs code when unpickled."""
    payload = {"stem.conv.weight": RunsCode(marker)}
    if inside == "checkpoint":
        payload = {"model": payload, "optimizer": {}, "epoch": 1}
    with open(path, "wb") as f:
        pickle.dump(payload, f, protocol=2)
    return str(path)


def copy_run(run_dir, dest) -> str:
    """A copy of a run folder (for cases that, unfixed, would write into it)."""
    shutil.copytree(run_dir, dest, symlinks=True)
    return str(dest)


def legacy_checkpoint(path, cfg_path, **fields) -> str:
    """A checkpoint in the format of the previous version (``paddle.save`` of a dict) for the tiny config,
    with ``fields`` replacing or (value ``None``) removing entries."""
    import paddle
    from paddle_tricks.config import load_config
    from paddle_tricks.models import build_network
    net = build_network(load_config(cfg_path))
    state = {"model": {k: v.numpy() for k, v in net.state_dict().items()}, "optimizer": {}, "epoch": 1,
             "best": {"metric": None, "value": -1.0, "epoch": None}, "history": []}
    for k, v in fields.items():
        if v is None:
            state.pop(k, None)
        else:
            state[k] = v
    paddle.save(state, str(path))
    return str(path)
