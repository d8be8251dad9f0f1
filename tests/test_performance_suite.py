"""The performance suite (benchmarks/perf): its statistics, its step pairing, and a --quick run of every section
that must write a complete page (every section, a CI for every ratio, the CPU model and the command)."""
import re
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT))

from benchmarks.perf.overhead import PairedBatches  # noqa: E402
from benchmarks.perf.stats import paired_ratio  # noqa: E402
from paddle_tricks.utils.machine import cpu_model  # noqa: E402

SECTIONS = ["Trainer overhead", "EMA update", "Checkpoint save", "Data loader", "Inference per backend",
            "Freed memory kept", "One end-to-end epoch", "Data parallel"]
RATIO = re.compile(r"\*\*(\d+\.\d+)\*\* \(95% CI (\d+\.\d+)–(\d+\.\d+), (\d+) pairs\)")


def test_paired_ratio_is_the_median_per_pair_ratio_with_an_interval_around_it():
    rng = np.random.default_rng(0)
    base = rng.uniform(0.5, 2.0, 200)                 # load varies a lot between pairs ...
    noisy = 1.25 * base * rng.normal(1.0, 0.02, 200)  # ... but the ratio within a pair does not
    r = paired_ratio(noisy, base)
    assert abs(r.value - 1.25) < 0.01
    assert r.low <= r.value <= r.high and r.high - r.low < 0.02 and r.pairs == 200
    assert paired_ratio(base, noisy).value == pytest.approx(1 / 1.25, abs=0.01)   # direction: first / second
    with pytest.raises(ValueError):
        paired_ratio([1.0], [1.0])


def test_paired_batches_alternate_bare_and_trainer_steps_and_time_the_trainer_step_alone():
    order = []

    def bare_step(batch):
        order.append(("bare", batch))
        time.sleep(0.01)
        return 0.01

    sampler = object()
    paired = PairedBatches(["a", "b"], steps=4, bare_step=bare_step, sampler=sampler)
    assert len(paired) == 4 and paired.epoch_sampler is sampler
    for _ in range(2):                               # two epochs, as Model.fit would iterate
        for batch in paired:
            order.append(("trainer", batch))
            time.sleep(0.03)                         # the Trainer's step
        time.sleep(0.05)                             # its epoch end
    assert order[:8] == [("bare", "a"), ("trainer", "a"), ("trainer", "b"), ("bare", "b"),
                         ("bare", "a"), ("trainer", "a"), ("trainer", "b"), ("bare", "b")]
    assert [len(e) for e in paired.trainer] == [4, 4] and [len(e) for e in paired.bare] == [4, 4]
    assert all(0.03 <= t < 0.039 for t in np.concatenate(paired.trainer))   # the bare step is not in it
    (start, end), = paired.epoch_ends
    assert 0.05 <= end - start < 0.06


def test_a_wrong_section_name_is_one_error_line():
    proc = subprocess.run(["bash", str(ROOT / "benchmarks" / "run_performance.sh"), "--only", "overhead,nosuch"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()] and proc.stderr.startswith("error: ")
    assert "nosuch" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.slow
def test_quick_run_writes_every_section_with_a_ci_per_ratio(tmp_path, caltech101_root):
    out = tmp_path / "performance.md"
    proc = subprocess.run(["bash", str(ROOT / "benchmarks" / "run_performance.sh"), "--quick", "--out", str(out),
                           "--data-root", str(caltech101_root)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = out.read_text()
    titles = re.findall(r"^## (.+)$", text, re.M)
    assert titles == ["Method", *SECTIONS]
    assert "failed" not in text
    assert f"- CPU: {cpu_model()}, " in text                             # model name and vector ISA
    assert f"- command: `bash benchmarks/run_performance.sh --quick --out {out} --data-root {caltech101_root}`" in text
    assert re.search(r"- load average: [\d.]+, [\d.]+, [\d.]+ .* before, [\d.]+, [\d.]+, [\d.]+ .* after", text)
    assert re.search(r"- git commit: [0-9a-f]{7,}", text)
    # every bold figure is a ratio with its interval, and each section but the epoch breakdown has one
    bodies = dict(zip(titles, re.split(r"^## .+$", text, flags=re.M)[1:]))
    counts = {title: len(RATIO.findall(body)) for title, body in bodies.items()}
    assert counts == {"Method": 0, "Trainer overhead": 3, "EMA update": 2, "Checkpoint save": 2, "Data loader": 1,
                      "Inference per backend": 4, "Freed memory kept": 1,
                      "One end-to-end epoch": 3, "Data parallel": 1}
    assert len(re.findall(r"\*\*\d+\.\d+\*\*", text)) == sum(counts.values())
    for value, low, high, pairs in RATIO.findall(text):
        assert float(low) <= float(value) <= float(high) and int(pairs) >= 2
    # the Trainer's fixed cost per step, measured where the step is short, set against the batch-32 bare step
    assert re.search(r"the Trainer step takes -?\d+\.\d \(95% CI -?\d+\.\d to -?\d+\.\d, \d+ pairs\) ms more",
                     bodies["Trainer overhead"])
    # the breakdowns of this checkout, the base and this checkout on 2 processes each add up to their wall time
    epoch = bodies["One end-to-end epoch"]
    assert "| part | this (s) | base (s) | this, 2 processes (s) | share (this) |" in epoch
    rows = re.findall(r"^\| (?!wall time)[^|]+ \| (\d+\.\d+) \| (\d+\.\d+) \| (\d+\.\d+) \| [\d.]+% \|$", epoch, re.M)
    walls = re.search(r"^\| wall time[^|]+\| (\d+\.\d+) \| (\d+\.\d+) \| (\d+\.\d+) \| 100% \|$", epoch, re.M).groups()
    assert len(rows) == 7
    for column, wall in enumerate(walls):
        assert sum(float(row[column]) for row in rows) == pytest.approx(float(wall), abs=0.05)
    # the three runs' accuracy after every epoch, from their metrics.jsonl
    assert "| epoch | eval top-1 this | eval top-1 base | eval top-1 2 processes | EMA top-1 this |" in epoch
    assert re.findall(r"^\| (\d)(?: \| [\d.]+){6} \|$", epoch, re.M) == ["1", "2"]
    assert re.search(r"^- this / base after epoch 2: ", epoch, re.M)


def test_the_speed_figures_quoted_in_readme_and_results_are_the_committed_pages():
    page = (ROOT / "docs" / "results" / "performance.md").read_text()
    date = re.search(r"^- date: (\d{4}-\d\d-\d\d) (\d\d:\d\d) UTC", page, re.M).groups()
    readme, results = (ROOT / "README.md").read_text(), (ROOT / "docs" / "RESULTS.md").read_text()
    assert f"From the run of {date[0]} {date[1]} UTC" in results
    quoted = readme[readme.index("MobileNetV2 (16 classes) at 112 px, images/s"):readme.index("At 224 px")]
    assert f"`bash benchmarks/run_performance.sh`, {date[0]}\n{date[1]} UTC" in quoted
    # the README's table: batch, then images/s of dygraph, paddle.inference and ONNX Runtime, as on the page
    table = re.findall(r"^\| (\d+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|$", quoted, re.M)
    measured = re.findall(r"^\| (\d+) \| \d+ \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|", page, re.M)
    assert table and table == measured
