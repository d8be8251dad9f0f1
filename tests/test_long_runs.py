"""benchmarks/long_runs.sh: the runner of the long-run scripts trains, publishes, regenerates, and skips on a rerun."""
import json
import os
import subprocess

import yaml

from helpers import processes_naming

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIB = os.path.join(ROOT, "benchmarks", "long_runs.sh")
NORM = {"Normalize": {"mean": [127.5] * 3, "std": [64.0] * 3, "data_format": "CHW"}}


def tiny_config(path):
    cfg = {"Global": {"epochs": 2, "seed": 3, "verbose": 0},
           "Arch": {"name": "asymmnet_small", "num_classes": 16, "options": {"width_mult": 0.35}},
           "Data": {"dataset": "quickstart", "batch_size": 16,
                    "options": {"num_per_class": 2, "eval_per_class": 1, "image_size": 32},
                    "train_transforms": [{"Transpose": {}}, NORM], "eval_transforms": [{"Transpose": {}}, NORM]},
           "VisualDL": {"enable": False}}
    path.write_text(yaml.safe_dump(cfg))
    return str(path)


def run_script(tmp_path, body, **env_vars):
    env = {**os.environ, "RESULTS_DIR": str(tmp_path / "results"), "RUNS_OUT": str(tmp_path / "out"), **env_vars}
    script = f"source {LIB}\n{body}\n"
    return subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=600)


def test_runner_trains_publishes_regenerates_and_skips_finished_runs(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    (results / "demo.md").write_text("# Demo\n\n<!-- table:demo begin -->\n<!-- table:demo end -->\n")
    cfg = tiny_config(tmp_path / "tiny.yaml")
    body = (f"plan demo good 30 -c {cfg}\nplan demo bad 90 -c {cfg} -o Arch.name=no_such_net\n"
            f"run_plan\nfinish_pages demo")
    first = run_script(tmp_path, body, THREADS="2")
    assert first.returncode == 0, first.stderr[-2000:]
    assert "estimated time: 2 runs, 2.0 h at 1 thread in all (1.0 h wall" in first.stdout
    assert "still to run: 2 runs" in first.stdout

    record = results / "runs" / "demo" / "good"
    summary = json.loads((record / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["epochs_done"] == 2
    assert "Global.resume=auto" in summary["command"] and "OMP_NUM_THREADS=2" in summary["command"]
    trained = tmp_path / "out" / "demo" / "good"
    assert (trained / "best.safetensors").is_file() and not list(record.glob("*.safetensors"))
    assert "FAILED bad" in first.stderr and not (results / "runs" / "demo" / "bad").exists()
    assert (tmp_path / "out" / "demo" / "failed.txt").read_text().split() == ["bad"]
    page = (results / "demo.md").read_text()
    assert "| good |" in page and (results / "demo_top1_per_epoch.png").is_file()

    second = run_script(tmp_path, body)
    assert "skip good" in second.stdout and "still to run: 1 runs" in second.stdout
    assert json.loads((record / "summary.json").read_text())["published"] == summary["published"]
    assert (results / "demo.md").read_text() == page


def test_only_restricts_a_script_to_the_runs_it_names(tmp_path):
    body = ("plan demo a 30 -c x.yaml\nplan demo b 90 -c x.yaml\nplan demo c 60 -c x.yaml\n"
            "ESTIMATE_ONLY=1\nrun_plan")
    everything = run_script(tmp_path, body)
    assert "estimated time: 3 runs, 3.0 h" in everything.stdout
    some = run_script(tmp_path, body, ONLY="c a")
    assert some.returncode == 0 and "estimated time: 2 runs, 1.5 h" in some.stdout
    assert not (tmp_path / "out").exists()


def test_the_queue_names_every_long_run_script_in_order_and_estimate_trains_nothing(tmp_path):
    env = {**os.environ, "RESULTS_DIR": str(tmp_path / "results"), "RUNS_OUT": str(tmp_path / "out")}
    proc = subprocess.run(["bash", os.path.join(ROOT, "benchmarks", "long_runs_queue.sh"), "--estimate"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    named = [line.split()[1].rstrip(":") for line in proc.stdout.splitlines() if line.startswith("== ")]
    assert named == ["caltech16_recipes.sh", "ablation_cpu.sh", "fashion_mnist_d2l.sh", "ablation_caltech16.sh"]
    assert proc.stdout.count("estimated time:") == 4 and not (tmp_path / "out").exists()
    for script in named:
        assert os.path.isfile(os.path.join(ROOT, "benchmarks", script))


def test_stopping_a_script_stops_its_runs_which_keep_their_epochs(tmp_path):
    # without the trap, `kill <script>` left its trainings running on, orphaned, writing into their run folders
    import signal
    import time
    cfg = tiny_config(tmp_path / "tiny.yaml")
    env = {**os.environ, "RESULTS_DIR": str(tmp_path / "results"), "RUNS_OUT": str(tmp_path / "out")}
    script = f"source {LIB}\nplan demo long 30 -c {cfg} -o Global.epochs=300\nrun_plan\n"
    proc = subprocess.Popen(["bash", "-c", script], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    metrics = tmp_path / "out" / "demo" / "long" / "metrics.jsonl"
    deadline = time.time() + 120
    while not (metrics.is_file() and metrics.read_text().count("\n") >= 1):
        assert proc.poll() is None and time.time() < deadline, proc.stderr.read()
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=150)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "stopped by SIGTERM: the runs keep their last finished epoch; the same command resumes them" in err
    assert "FAILED" not in err and not (tmp_path / "out" / "demo" / "failed.txt").exists()
    assert processes_naming(str(tmp_path / "out")) == []
    log = (tmp_path / "out" / "demo" / "long.log").read_text()
    assert "stopped by SIGTERM; the last finished epoch is saved" in log and "FatalError" not in log
    kept = len(metrics.read_text().splitlines())
    time.sleep(2)
    assert len(metrics.read_text().splitlines()) == kept
