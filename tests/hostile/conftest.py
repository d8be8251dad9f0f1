"""Fixtures of the hostile-input suite: one finished tiny run shared by every case that reads it."""
import os
import runpy
import sys

import pytest

from hostile_kit import ROOT, write_config


@pytest.fixture(scope="session")
def finished_run(tmp_path_factory):
    """``(config path, run folder)`` of a finished 2-epoch tiny run (trained once per session, ~3 s)."""
    base = tmp_path_factory.mktemp("finished")
    cfg = write_config(base / "cfg.yaml", base / "run")
    script = str(ROOT / "tools" / "train.py")
    saved = sys.argv
    sys.argv = [script, "-c", cfg]
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as e:
        assert not e.code, f"the shared tiny run failed (exit {e.code})"
    finally:
        sys.argv = saved
    run = str(base / "run")
    assert os.path.isfile(os.path.join(run, "metrics.jsonl")), os.listdir(run)
    return cfg, run
