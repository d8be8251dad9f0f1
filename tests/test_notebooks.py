"""The companion notebooks: sources that are real Python, stored outputs in sync with them, no re-defined
layers, no copied helpers or training loops, and a smoke execution of each notebook in a fresh kernel.

The sources are jupytext percent-format scripts in ``notebooks/_src``; ``notebooks/_build.py`` turns them into
the ``.ipynb`` files. The execution tests (marked ``slow``) run every notebook with ``PADDLE_TRICKS_SMOKE=1``
through ``nbclient`` and a clean ``python3`` kernel whose working folder is ``notebooks/``; any cell error fails
the test, and so does a notebook that takes longer than the budget (120 s, ``PADDLE_TRICKS_NOTEBOOK_BUDGET``
overrides it on slower machines).
"""
import ast
import importlib
import io
import os
import pathlib
import re
import sys
import time

import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
NB_DIR = ROOT / "notebooks"
EXPECTED = ["01_cnn_tricks_handbook.ipynb", "02_classic_nets.ipynb", "03_acnet.ipynb",
            "04_asymmnet_caltech16.ipynb", "05_d2l_fashion_mnist.ipynb"]
BUDGET = float(os.environ.get("PADDLE_TRICKS_NOTEBOOK_BUDGET", "120"))
SETTINGS = re.compile(r"\*\*Stored outputs:\*\* the outputs saved in this file were produced "
                      r"(with `PADDLE_TRICKS_SMOKE=1`|without `PADDLE_TRICKS_SMOKE`)")
MARKDOWN_TABLE = re.compile(r"^\|.*\|\s*\n\|[\s:|-]+\|\s*$", re.M)


def _read(name):
    return nbformat.read(NB_DIR / name, as_version=4)


def _outputs(nb):
    for cell in nb.cells:
        if cell.cell_type == "code":
            yield from cell.get("outputs", [])


def _has_figure(nb) -> bool:
    return any("image/png" in o.get("data", {}) for o in _outputs(nb))


def _has_table(nb) -> bool:
    for o in _outputs(nb):
        data = o.get("data", {})
        if "<table" in data.get("text/html", ""):
            return True
        if MARKDOWN_TABLE.search(data.get("text/markdown", "")):
            return True
    return False


def _code(nb) -> str:
    """The code cells as one Python module (IPython magics and shell lines dropped)."""
    lines = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            lines += [ln for ln in cell.source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
    return "\n".join(lines)


def _package_names() -> set:
    """Every public name the package exports (layers, models, losses, tricks, deploy, engine)."""
    import paddle_tricks.layers
    import paddle_tricks.models
    names = set(paddle_tricks.layers.__all__)
    modules = ["paddle_tricks.losses", "paddle_tricks.tricks", "paddle_tricks.deploy", "paddle_tricks.engine"]
    modules += [f"paddle_tricks.models.{p.stem}" for p in (ROOT / "paddle_tricks" / "models").glob("*.py")
                if not p.stem.startswith("_")]
    for mod in modules:
        names |= set(getattr(importlib.import_module(mod), "__all__", []))
    return names


def test_the_five_notebooks_exist_in_source_order():
    assert sorted(p.name for p in NB_DIR.glob("*.ipynb")) == EXPECTED


def test_test_helpers_detect_tables_and_figures():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x")])
    assert not _has_table(nb) and not _has_figure(nb)
    nb.cells[0].outputs = [nbformat.v4.new_output("display_data", {"text/markdown": "| a | b |\n|---|---|\n| 1 | 2 |"}),
                           nbformat.v4.new_output("display_data", {"image/png": "iVBOR"})]
    assert _has_table(nb) and _has_figure(nb)
    nb.cells[0].outputs = [nbformat.v4.new_output("display_data", {"text/markdown": "a | b, no table"})]
    assert not _has_table(nb)


@pytest.mark.parametrize("name", EXPECTED)
def test_stored_outputs_come_from_a_full_run(name):
    nb = _read(name)
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    assert code_cells, f"{name} has no code"
    not_run = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.execution_count is None]
    assert not not_run, f"{name}: cells {not_run} have no stored execution (run python notebooks/_build.py --execute)"
    errors = [o for o in _outputs(nb) if o.output_type == "error"]
    assert not errors, f"{name}: stored error output {errors[0].ename}: {errors[0].evalue}"
    assert _has_figure(nb), f"{name}: no figure (image/png) among the stored outputs"
    assert _has_table(nb), f"{name}: no table (HTML or Markdown) among the stored outputs"


@pytest.mark.parametrize("name", EXPECTED)
def test_first_cell_states_the_settings_of_the_stored_outputs(name):
    nb = _read(name)
    first = nb.cells[0]
    assert first.cell_type == "markdown"
    match = SETTINGS.search(first.source)
    assert match, f"{name}: the first cell does not say which settings produced the stored outputs"
    smoke = "=1" in match.group(1)
    assert nb.metadata.get("paddle_tricks", {}).get("outputs") == ("smoke" if smoke else "real")
    setup = next(c for c in nb.cells if c.cell_type == "code")
    printed = "".join(o.get("text", "") for o in setup.outputs if o.output_type == "stream")
    assert f"smoke mode: {'on' if smoke else 'off'}" in printed, \
        f"{name}: the first cell claims {'smoke' if smoke else 'real'} settings but the run printed {printed!r}"


@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_uses_the_package_and_defines_no_layer(name):
    tree = ast.parse(_code(_read(name)))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert any(m.startswith("paddle_tricks") for m in imported), f"{name} imports nothing from paddle_tricks"
    exported = _package_names()
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef):
            continue
        assert node.name not in exported, f"{name} re-defines {node.name}, which paddle_tricks exports"
        bases = [b.attr if isinstance(b, ast.Attribute) else getattr(b, "id", "") for b in node.bases]
        assert "Layer" not in bases, f"{name} defines the layer class {node.name}: layers belong in the package"


def test_package_names_cover_layers_and_models():
    names = _package_names()
    assert {"ACBlock", "BlurPool", "DyReLUB", "RDropLoss", "AsymmNet", "MobileNetV2", "apply_tricks"} <= names


def _builder():
    saved = list(sys.path)
    sys.path.insert(0, str(NB_DIR))
    try:
        return importlib.import_module("_build")
    finally:
        sys.path[:] = saved


def test_every_notebook_has_a_source():
    build = _builder()
    assert [spec["file"] for spec in build.NOTEBOOKS.values()] == EXPECTED
    assert [spec["source"].name for spec in build.NOTEBOOKS.values()] == [n[:-6] + ".py" for n in EXPECTED]


def test_stored_notebooks_match_their_sources():
    build = _builder()
    for key, spec in build.NOTEBOOKS.items():
        stored = _read(spec["file"])
        fresh = build.build(key)
        assert [c.cell_type for c in stored.cells] == [c.cell_type for c in fresh.cells], spec["file"]
        # the first cell's settings sentence depends on the run; everything else must be identical
        assert stored.cells[0].source.split("**Stored outputs:**")[0] == fresh.cells[0].source.split(
            "**Stored outputs:**")[0], spec["file"]
        for i, (a, b) in enumerate(zip(stored.cells[1:], fresh.cells[1:]), start=1):
            assert a.source == b.source, f"{spec['file']} cell {i} differs from notebooks/_src: rebuild it"


def test_build_reads_the_percent_format(tmp_path, monkeypatch):
    build = _builder()
    source = tmp_path / "09_demo.py"
    source.write_text("# %% [markdown]\n# # Title\n#\n# Text.\n\n# %%\nx = 1\n\n\ny = 2\n\n"
                      "# %% [markdown]\n# ## Next\n")
    monkeypatch.setitem(build.NOTEBOOKS, "09", {"source": source, "file": "09_demo.ipynb"})
    nb = build.build("09")
    assert [c.cell_type for c in nb.cells] == ["markdown", "code", "markdown"]
    assert nb.cells[0].source.startswith("# Title\n\nText.\n\n**Stored outputs:** none yet")
    assert nb.cells[1].source == "x = 1\n\n\ny = 2"
    assert [c.id for c in nb.cells] == ["09-cell-00", "09-cell-01", "09-cell-02"]
    source.write_text("# %%\nx = 1\n")
    with pytest.raises(ValueError, match="Markdown title"):
        build.build("09")


def _sources():
    return sorted((NB_DIR / "_src").glob("[0-9][0-9]_*.py"))


@pytest.mark.parametrize("source", _sources(), ids=lambda p: p.name)
def test_source_is_clean_python(source):
    """No syntax error, undefined name or unused import (pyflakes), as for any module of the package."""
    from pyflakes.api import check
    from pyflakes.reporter import Reporter

    out = io.StringIO()
    problems = check(source.read_text(encoding="utf-8"), str(source), Reporter(out, out))
    assert problems == 0, out.getvalue()


def test_pyflakes_check_catches_an_unused_import_and_an_undefined_name():
    from pyflakes.api import check
    from pyflakes.reporter import Reporter

    out = io.StringIO()
    assert check("import os\nprint(undefined_name)\n", "x.py", Reporter(out, out)) == 2


def _functions(source) -> set:
    tree = ast.parse(source.read_text(encoding="utf-8"))
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}


def test_no_helper_is_copied_between_notebooks():
    """A function written in two notebooks belongs in ``paddle_tricks.utils.notebook``."""
    seen = {}
    for source in _sources():
        for name in _functions(source):
            assert name not in seen, f"{name} is defined in {seen.get(name)} and {source.name}: share it"
            seen[name] = source.name


def test_no_notebook_trains_by_hand():
    """Training goes through ``paddle_tricks.engine.trainer.Trainer``: no backward pass, no optimizer."""
    for source in _sources():
        tree = ast.parse(source.read_text(encoding="utf-8"))
        calls = {n.func.attr for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)}
        assert "backward" not in calls, f"{source.name} runs its own backward pass: use the Trainer"
        names = {ast.unparse(n) for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        assert not any(n.startswith("paddle.optimizer.") and not n.startswith("paddle.optimizer.lr")
                       for n in names), f"{source.name} builds its own optimizer: use the Trainer"


@pytest.mark.slow
@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_runs_in_smoke_mode(name, tmp_path, monkeypatch):
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = _read(name)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    monkeypatch.setenv("PADDLE_TRICKS_SMOKE", "1")
    monkeypatch.setenv("TMPDIR", str(tmp_path))         # the notebooks' temporary run folders go here
    client = NotebookClient(nb, timeout=int(BUDGET), kernel_name="python3",
                            resources={"metadata": {"path": str(NB_DIR)}})
    start = time.time()
    try:
        client.execute()
    except CellExecutionError as e:
        pytest.fail(f"{name} failed in smoke mode:\n{str(e)[-3000:]}")
    elapsed = time.time() - start
    assert elapsed < BUDGET, f"{name} took {elapsed:.0f} s in smoke mode (budget {BUDGET:.0f} s)"
    setup = next(c for c in nb.cells if c.cell_type == "code")
    assert "smoke mode: on" in "".join(o.get("text", "") for o in setup.outputs)
    assert _has_figure(nb) and _has_table(nb), f"{name}: the smoke run produced no figure or no table"
