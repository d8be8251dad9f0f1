"""use_all_cores: with paddle_tricks imported before Paddle, Paddle's math runs on as many threads as asked
(counted by the CPU time each thread used), and Paddle prints no OMP_NUM_THREADS warning."""
import os
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SCRIPT = textwrap.dedent("""
    import os, sys
    if sys.argv[1:] == ["paddle-first"]:
        import paddle
    import paddle_tricks
    import paddle

    def cpu_ticks():
        ticks = {}
        for tid in os.listdir("/proc/self/task"):
            fields = open(f"/proc/self/task/{tid}/stat").read().rsplit(")", 1)[1].split()
            ticks[tid] = int(fields[11]) + int(fields[12])    # utime + stime
        return ticks

    w = paddle.randn([1200, 1200])
    w @ w
    before = cpu_ticks()
    for _ in range(12):
        w @ w                                      # MKL's matmul, on OpenMP threads
    used = [t - before.get(tid, 0) for tid, t in cpu_ticks().items()]
    busy = sum(u >= max(used) / 4 for u in used)   # threads that did a real share of the work
    print(busy, os.environ.get("PADDLE_TRICKS_NUM_THREADS", "-"))
""")


def run(*args, **env):
    full = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "PADDLE_TRICKS_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", SCRIPT, *args], capture_output=True, text=True, cwd=ROOT, timeout=120,
                         env={**full, **env, "PYTHONWARNINGS": "ignore"})
    assert out.returncode == 0, out.stderr
    assert "OMP_NUM_THREADS" not in out.stderr, out.stderr
    busy, wanted = out.stdout.split()
    return int(busy), wanted


def test_the_thread_count_reaches_paddle_without_its_warning():
    assert run(PADDLE_TRICKS_NUM_THREADS="1") == (1, "1")
    assert run(PADDLE_TRICKS_NUM_THREADS="2") == (2, "2")
    # a user's OMP_NUM_THREADS is honoured, and Paddle does not warn about it (checked in run)
    assert run(OMP_NUM_THREADS="2") == (2, "2")
    # a child of a Paddle process inherits OMP_NUM_THREADS=1 (Paddle writes it): the count it was given wins
    assert run(OMP_NUM_THREADS="1", PADDLE_TRICKS_NUM_THREADS="2") == (2, "2")
    # a script that loaded Paddle first chose its threads then: left alone
    assert run("paddle-first", OMP_NUM_THREADS="1") == (1, "-")


def test_the_cores_are_shared_among_the_processes_of_a_launch(monkeypatch):
    from paddle_tricks.utils.cpu_threads import wanted_threads
    for name in ("PADDLE_TRICKS_NUM_THREADS", "OMP_NUM_THREADS", "PADDLE_LOCAL_SIZE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert wanted_threads() == 8
    monkeypatch.setenv("PADDLE_LOCAL_SIZE", "2")
    assert wanted_threads() == 4
    monkeypatch.setenv("OMP_NUM_THREADS", "1")       # what the launcher's own import of Paddle leaves
    assert wanted_threads() == 4
    monkeypatch.setenv("OMP_NUM_THREADS", "3")       # the user's, passed through the launcher
    assert wanted_threads() == 3
    monkeypatch.delenv("OMP_NUM_THREADS")
    monkeypatch.setenv("PADDLE_LOCAL_SIZE", "16")
    assert wanted_threads() == 1
    monkeypatch.setenv("PADDLE_TRICKS_NUM_THREADS", "3")
    assert wanted_threads() == 3
