"""``paddle-tricks train --nproc N``: one training over N processes through Paddle's own launcher.

The command runs ``python -m paddle.distributed.launch --nproc_per_node N --log_dir <run>/launch_log
python -m paddle_tricks train ...`` (the same arguments without ``--nproc``): one process per GPU on a GPU
machine, N processes sharing the cores on a CPU (gloo; ``utils.cpu_threads`` gives each its share of the math
threads). What each process trains is the rule of ``engine.data_parallel`` (``Data.batch_size_is``).

The console shows rank 0's own lines, as a single process would; the launcher's configuration dump and the other
ranks' output stay in ``<run>/launch_log/`` (``launcher.log``, ``workerlog.N``), unless ``--verbose``. An
``error:`` line of rank 0 goes to stderr; the exit code is then 2 (a user mistake), else the launcher's.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

from ..utils.console import Stopped
from . import run_files

__all__ = ["launch_command", "launch_training"]


def launch_command(nproc: int, log_dir: str, train_args: list[str]) -> list[str]:
    """The launcher's command line: ``nproc`` processes, each running ``paddle-tricks train train_args``."""
    # a training script not ending in .py is run as given: the interpreter, then `-m paddle_tricks train ...`
    return [sys.executable, "-m", "paddle.distributed.launch", "--nproc_per_node", str(nproc),
            "--log_dir", log_dir, sys.executable, "-m", "paddle_tricks", "train", *train_args]


def launch_training(nproc: int, output_dir: str, train_args: list[str], verbose: bool = False,
                    poll_s: float = 0.2) -> int:
    """Train over ``nproc`` processes; rank 0's output is shown as it comes. Returns the launcher's exit code."""
    log_dir = run_files.run_file(output_dir, run_files.LAUNCH_LOG)
    os.makedirs(log_dir, exist_ok=True)
    package_parent = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ)   # the processes import this copy of paddle_tricks, installed or not
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH")) if p)
    worker_log = os.path.join(log_dir, "workerlog.0")
    start = os.path.getsize(worker_log) if os.path.isfile(worker_log) else 0   # earlier launches append
    with open(os.path.join(log_dir, "launcher.log"), "a") as launcher_log:
        out = None if verbose else launcher_log
        proc = subprocess.Popen(launch_command(nproc, log_dir, train_args), env=env, stdout=out, stderr=out)
        if verbose:      # the launcher itself echoes rank 0's log
            return proc.wait()
        tail = _Tail(worker_log, start)
        done = threading.Event()
        follower = threading.Thread(target=tail.follow, args=(done, poll_s), daemon=True)
        follower.start()
        try:
            code = proc.wait()
        except KeyboardInterrupt as e:
            if isinstance(e, Stopped):   # SIGTERM came to this process alone: pass it on (Ctrl-C reaches all)
                proc.send_signal(signal.SIGTERM)
            code = proc.wait()           # the launcher stops its processes (SIGTERM, then SIGKILL after 30 s)
            raise
        finally:
            done.set()
            follower.join()
    # rank 0 said what was wrong: a user mistake (the launcher's own code may be that of a rank it then stopped)
    return 2 if code and tail.said_error else code


class _Tail:
    """Copies what is appended to rank 0's log to the console: ``error:`` lines to stderr, the rest to stdout
    (progress bars included, as they are drawn)."""

    def __init__(self, path: str, start: int):
        self.path, self.offset, self.pending = path, start, ""
        self.said_error = False

    def follow(self, done: threading.Event, poll_s: float) -> None:
        while not done.is_set():
            self.read()
            time.sleep(poll_s)
        self.read()
        self.emit(self.pending, final=True)

    def read(self) -> None:
        if not os.path.isfile(self.path):
            return
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            data = f.read()
        self.offset += len(data)
        if data:
            self.emit(self.pending + data.decode("utf-8", errors="replace"))

    def emit(self, text: str, final: bool = False) -> None:
        *lines, rest = text.split("\n")
        for line in lines:
            error = line.startswith("error:")
            self.said_error |= error
            (sys.stderr if error else sys.stdout).write(line + "\n")
        # a partial line is shown now (a progress bar redraws with \r) unless it may become an error line
        if rest and (final or not "error:".startswith(rest[:6])):
            sys.stdout.write(rest)
            rest = ""
        self.pending = rest
        sys.stdout.flush()
        sys.stderr.flush()
