"""A normal (non-editable) install: the configs are installed and every command works from any folder."""
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_non_editable_install_trains_the_quickstart_by_name(tmp_path):
    src = tmp_path / "src"   # a copy, so the build leaves nothing in the checkout
    top_level = {".git", "output", "data", "build", "notebooks", "docs", ".benchmarks", "log"}

    def skipped(folder, names):  # those top-level folders only: paddle_tricks/data is part of the package
        here = pathlib.Path(folder) == ROOT
        return [n for n in names if (here and n in top_level) or n == "__pycache__" or n.endswith(".egg-info")]

    shutil.copytree(ROOT, src, symlinks=True, ignore=skipped)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    pip = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--no-deps", "--no-build-isolation", str(src)],
                         capture_output=True, text=True)
    assert pip.returncode == 0, pip.stdout + pip.stderr
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}

    def run(*args):
        return subprocess.run([str(venv / "bin" / "paddle-tricks"), *args], cwd=work, capture_output=True,
                              text=True, env=env, timeout=300)

    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import paddle_tricks; print(paddle_tricks.__file__)"],
                           cwd=work, capture_output=True, text=True, env=env).stdout.strip()
    assert where.startswith(str(venv)), where   # the installed copy, not the checkout
    proc = run("configs")
    from paddle_tricks.configs import list_configs
    assert proc.returncode == 0 and proc.stdout.splitlines()[:-1] == list_configs()   # every shipped config
    proc = run("train", "-c", "quickstart", "-o", "Global.epochs=1",
               "-o", "Data.options.num_per_class=2", "-o", "Data.options.eval_per_class=1", "-o", "Global.output_dir=q")
    assert proc.returncode == 0, proc.stderr
    assert (work / "q" / "config.yaml").is_file()
    proc = run("eval", "-c", str(work / "q"))
    assert proc.returncode == 0 and "top-1:" in proc.stdout, proc.stderr
