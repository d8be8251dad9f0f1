"""benchmarks/bench_deploy.py runs (tiny settings) and reports the three runtimes side by side."""
import importlib.util
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_bench_deploy_reports_every_runtime(capsys, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")   # the script sets it; restored after the test
    spec = importlib.util.spec_from_file_location("bench_deploy", ROOT / "benchmarks" / "bench_deploy.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--models", "resnet18", "--size", "32", "--batches", "1,2", "--rounds", "2",
                       "--seconds", "0.1", "--warmup", "1", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "| model | batch | dygraph | paddle.inference | ONNX Runtime |" in out
    rows = [ln for ln in out.splitlines() if ln.startswith("| resnet18 |")]
    assert [r.split("|")[2].strip() for r in rows] == ["1", "2"]
    for row in rows:   # images per second: positive numbers in the three runtime columns
        assert all(float(c) > 0 for c in row.split("|")[3:6])
    assert "resnet18 onnx: max abs diff vs dygraph" in out and "command: `python benchmarks/bench_deploy.py" in out
