"""``paddle-tricks train --nproc N``: the launcher's command, and rank 0's log shown on the console."""
import sys
import threading

from paddle_tricks.engine import run_files
from paddle_tricks.engine.launcher import _Tail, launch_command
from paddle_tricks.engine.run import move_to_backup


def test_the_command_runs_paddle_tricks_train_under_paddles_launcher():
    cmd = launch_command(3, "/runs/a/launch_log", ["-c", "quickstart", "-o", "Global.epochs=2", "--backup"])
    assert cmd[1:7] == ["-m", "paddle.distributed.launch", "--nproc_per_node", "3", "--log_dir", "/runs/a/launch_log"]
    # not a .py script: the launcher runs it as given, so no package folder lands on sys.path
    assert cmd[7:] == [sys.executable, "-m", "paddle_tricks", "train", "-c", "quickstart", "-o", "Global.epochs=2",
                       "--backup"]
    assert "--nproc" not in cmd


def test_the_tail_sends_error_lines_to_stderr_and_shows_progress_as_drawn(tmp_path, capsys):
    log = tmp_path / "workerlog.0"
    log.write_text("from an earlier launch\n")
    tail = _Tail(str(log), start=log.stat().st_size)
    with open(log, "a") as f:
        f.write("run folder: x\n\repoch 1/2:  50%")      # a progress bar without its newline yet
        f.flush()
        tail.read()
        assert capsys.readouterr().out == "run folder: x\n\repoch 1/2:  50%"   # shown before the line ends
        f.write("\n" + "err")                             # the start of an error line, split across reads
        f.flush()
        tail.read()
        assert capsys.readouterr().out == "\n"
        f.write("or: Data.root is missing\nlast")
    done = threading.Event()
    done.set()
    tail.follow(done, 0.0)
    seen = capsys.readouterr()
    assert seen.err == "error: Data.root is missing\n" and seen.out == "last" and tail.said_error
    assert "earlier launch" not in seen.out


def test_backup_leaves_the_live_launchers_logs_in_place(tmp_path):
    out = tmp_path / "run"
    (out / run_files.LAUNCH_LOG).mkdir(parents=True)
    (out / run_files.METRICS).write_text("{}\n")
    backup = move_to_backup(str(out))
    assert sorted(p.name for p in out.iterdir()) == [run_files.LAUNCH_LOG]
    assert (tmp_path / backup.split("/")[-1] / run_files.METRICS).exists()
