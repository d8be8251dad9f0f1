"""The results sections of notebooks 04 and 05 show what the committed run records give, no more.

Their records cell (the one that calls ``page_records``) stores the page's generated block
(``page_block(page, *page_rows(record_folders("docs/results", page)))``) as Markdown; this test regenerates the
block from the records now and compares, so a record published or changed after the notebook was built fails it
until the notebook is rebuilt (``python notebooks/_build.py --execute --only 04``). A page without records must
store one sentence naming the script that makes them, and no table or figure. Reading only: nothing is executed.
"""
import json
import pathlib
import shutil

import nbformat
import pytest

from paddle_tricks.errors import UserError
from paddle_tricks.report.pages import markers, page_block, page_rows, record_folders

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "results"
NOTEBOOKS = {"04_asymmnet_caltech16.ipynb": ("caltech16", "bash benchmarks/caltech16_recipes.sh"),
             "05_d2l_fashion_mnist.ipynb": ("fashion_mnist", "bash benchmarks/fashion_mnist_d2l.sh")}


def records_cell(nb):
    """The code cell that reads the page's records (it calls ``page_records``)."""
    cells = [c for c in nb.cells if c.cell_type == "code" and "page_records(" in c.source]
    assert len(cells) == 1, f"expected one records cell, found {len(cells)}"
    return cells[0]


def stored_records_mismatch(nb, results_dir, page: str, script: str) -> str | None:
    """Why the stored output of ``nb``'s records cell disagrees with the records of ``page`` in
    ``results_dir``; ``None`` when it agrees."""
    outputs = records_cell(nb).get("outputs", [])
    begin = markers(page)[0]
    blocks = [o["data"]["text/markdown"] for o in outputs
              if o.get("output_type") in ("display_data", "execute_result")
              and o.get("data", {}).get("text/markdown", "").startswith(begin)]
    try:
        folders = record_folders(str(results_dir), page)
    except UserError:
        folders = None
    if folders is None:
        shown = [k for o in outputs for k in o.get("data", {}) if k != "text/plain"]
        text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
        if blocks or shown:
            return f"{page} has no record, but the stored output shows {shown}: rebuild the notebook"
        if script not in text or "no " not in text.lower():
            return f"{page} has no record, and the stored output does not say so with `{script}`: {text!r}"
        return None
    if not blocks:
        return f"{page} has {len(folders)} record(s), but the stored output has no generated block: rebuild"
    expected = page_block(page, *page_rows(folders, log=lambda *_: None))
    if blocks != [expected]:
        return f"the stored block of {page} differs from its records: rebuild the notebook"
    return None


@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_stored_records_output_equals_the_records_now(name):
    page, script = NOTEBOOKS[name]
    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    problem = stored_records_mismatch(nb, RESULTS, page, script)
    assert problem is None, f"{name}: {problem} (python notebooks/_build.py --execute --only {name[:2]})"


def _notebook_showing(block: str | None, text: str = ""):
    cell = nbformat.v4.new_code_cell('RECORDS = page_records(ROOT / "docs" / "results", "demo")')
    if block is not None:
        cell.outputs = [nbformat.v4.new_output("display_data", {"text/markdown": block, "text/plain": "<Markdown>"})]
    else:
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("from x import page_records"), cell])


def _change_one_eval_top1(folder: pathlib.Path) -> None:
    metrics = folder / "metrics.jsonl"
    lines = metrics.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[0])
    record["eval_top1"] = round(record["eval_top1"] + 0.01, 6)
    lines[0] = json.dumps(record)
    metrics.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_a_record_changed_after_the_build_is_a_mismatch(tmp_path):
    """Built from records that later change (quickstart's records as a stand-in page), the stored block no
    longer agrees; and a page with records but a stored no-record sentence, or the reverse, disagrees too."""
    shutil.copytree(RESULTS / "runs" / "quickstart", tmp_path / "runs" / "demo")
    block = page_block("demo", *page_rows(record_folders(str(tmp_path), "demo"), log=lambda *_: None))
    nb = _notebook_showing(block)
    assert stored_records_mismatch(nb, tmp_path, "demo", "bash make.sh") is None
    _change_one_eval_top1(tmp_path / "runs" / "demo" / "quickstart_s42")
    assert "differs from its records" in stored_records_mismatch(nb, tmp_path, "demo", "bash make.sh")
    said = _notebook_showing(None, "No record is committed yet: `bash make.sh` makes them.\n")
    assert "no generated block" in stored_records_mismatch(said, tmp_path, "demo", "bash make.sh")
    shutil.rmtree(tmp_path / "runs" / "demo")
    assert stored_records_mismatch(said, tmp_path, "demo", "bash make.sh") is None
    assert "shows ['text/markdown']" in stored_records_mismatch(nb, tmp_path, "demo", "bash make.sh")
    assert "does not say so" in stored_records_mismatch(_notebook_showing(None, "nothing\n"), tmp_path, "demo",
                                                        "bash make.sh")


def test_the_committed_records_of_a_notebook_page_changed_are_a_mismatch(tmp_path):
    """The same with the real notebooks: their stored block agrees with a copy of the records, not after one
    eval_top1 of that copy changes."""
    checked = 0
    for name, (page, script) in sorted(NOTEBOOKS.items()):
        try:
            record_folders(str(RESULTS), page)
        except UserError:
            continue                                   # no record yet: nothing to change
        shutil.copytree(RESULTS / "runs" / page, tmp_path / "runs" / page)
        nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
        if stored_records_mismatch(nb, tmp_path, page, script) is not None:
            continue                                   # stale notebook: the test above reports it
        _change_one_eval_top1(pathlib.Path(record_folders(str(tmp_path), page)[0]))
        assert "differs from its records" in stored_records_mismatch(nb, tmp_path, page, script), name
        checked += 1
    if not checked:
        pytest.skip("no notebook page has committed records yet (the quickstart stand-in test covers the check)")
