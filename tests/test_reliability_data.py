"""Bad data: a folder dataset full of broken, odd and empty files trains to the end; what was skipped at
build time and what was replaced at load time is counted, named and written to data_report.json."""
import io
import json
import os
import struct
import zlib

import numpy as np
import pytest
import yaml
from PIL import Image

from paddle_tricks.cli import train_main
from paddle_tricks.config import validate
from paddle_tricks.data.build import build_datasets
from paddle_tricks.data.image_list import load_rgb, printable

NORM = {"Normalize": {"mean": [127.5] * 3, "std": [64.0] * 3, "data_format": "CHW"}}


def noise(h, w, colour, seed):
    rng = np.random.RandomState(seed)
    return np.clip(np.array(colour) + rng.normal(0, 30, (h, w, 3)), 0, 255).astype(np.uint8)


def png16_rgb(arr: np.ndarray) -> bytes:
    """A 16-bit-per-channel RGB PNG (Pillow cannot write one)."""
    h, w, _ = arr.shape
    raw = b"".join(b"\x00" + arr[y].astype(">u2").tobytes() for y in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def encoded(arr, fmt) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, fmt)
    return buf.getvalue()


def make_bad_folder(root):
    """root/{train,eval}/{blue,green,red}: green is empty; red and blue hold every kind of trouble."""
    for split in ("train", "eval"):
        for c in ("blue", "green", "red"):
            (root / split / c).mkdir(parents=True)
    blue, red = root / "train" / "blue", root / "train" / "red"
    Image.fromarray(noise(40, 36, (40, 60, 200), 1)).save(blue / "b0.png")
    Image.fromarray(noise(32, 48, (40, 60, 200), 2)).save(blue / "b1.png")
    Image.fromarray(noise(30, 30, (90, 90, 90), 3)[..., 0], "L").save(blue / "gray.png")          # grayscale
    Image.fromarray((np.arange(36 * 36).reshape(36, 36) * 50).astype(np.uint16)).save(blue / "g16.png")  # I;16
    (blue / "rgb16.png").write_bytes(png16_rgb(noise(33, 35, (40, 60, 200), 4).astype(np.uint16) * 257))
    (blue / ".DS_Store").write_bytes(b"\x00\x01junk")                                             # hidden: ignored
    (blue / "sub").mkdir()                                                                         # folder: ignored
    Image.fromarray(noise(20, 20, (0, 0, 0), 5)).save(blue / "sub" / "nested.png")
    Image.fromarray(noise(44, 40, (200, 40, 40), 6)).save(red / "r0.png")
    (red / "r1.jpg").write_bytes(encoded(noise(38, 38, (200, 40, 40), 7), "JPEG"))
    Image.new("CMYK", (34, 34), (0, 220, 220, 10)).save(red / "cmyk.jpg")                        # CMYK JPEG
    Image.fromarray(noise(34, 34, (200, 40, 40), 8)).convert("P").save(red / "palette.png")      # palette
    Image.fromarray(noise(34, 34, (200, 40, 40), 9)).convert("RGBA").save(red / "rgba.png")      # alpha
    (red / "empty.jpg").write_bytes(b"")                                                           # skipped
    (red / "notes.txt").write_text("not an image\n")                                               # skipped
    (red / "trunc.png").write_bytes(encoded(noise(40, 40, (200, 40, 40), 10), "PNG")[:300])       # skipped
    jpg = encoded(noise(96, 96, (200, 40, 40), 11), "JPEG")
    assert len(jpg) > 3000                                         # the cuts below fall in the image data
    (red / "trunc.jpg").write_bytes(jpg[: len(jpg) // 2])          # header fine, data cut: replaced when loaded
    Image.fromarray(noise(36, 36, (40, 60, 200), 12)).save(root / "eval" / "blue" / "b.png")
    Image.fromarray(noise(36, 36, (200, 40, 40), 13)).save(root / "eval" / "red" / "r.png")
    (root / "eval" / "red" / "trunc2.jpg").write_bytes(jpg[: len(jpg) // 3 * 2])
    return root


def folder_cfg(root, out, workers=0, resize=True):
    lead = [{"Resize": {"size": [32, 32]}}] if resize else []
    return {"Global": {"output_dir": str(out), "epochs": 2, "verbose": 0, "seed": 1},
            "Arch": {"name": "asymmnet_small", "num_classes": 3, "options": {"width_mult": 0.35}},
            "Data": {"dataset": "folder", "root": str(root), "batch_size": 4, "num_workers": workers,
                     "train_transforms": lead + [{"Transpose": {}}, NORM],
                     "eval_transforms": lead + [{"Transpose": {}}, NORM]},
            "LR": {"name": "Constant", "base_lr": 0.01}}


def test_odd_formats_are_converted_to_8bit_rgb(tmp_path):
    g16 = np.array([[0, 65535, 32896]], dtype=np.uint16)
    Image.fromarray(g16).save(tmp_path / "g16.png")
    np.testing.assert_array_equal(np.asarray(load_rgb(str(tmp_path / "g16.png")))[0], [[0] * 3, [255] * 3, [128] * 3])
    rgb16 = np.array([[[65535, 32896, 257]]], dtype=np.uint16)
    (tmp_path / "rgb16.png").write_bytes(png16_rgb(rgb16))
    np.testing.assert_array_equal(np.asarray(load_rgb(str(tmp_path / "rgb16.png")))[0, 0], [255, 128, 1])
    Image.new("CMYK", (8, 8), (0, 255, 255, 0)).save(tmp_path / "c.jpg")
    np.testing.assert_allclose(np.asarray(load_rgb(str(tmp_path / "c.jpg")))[4, 4], [255, 0, 0], atol=2)
    Image.new("L", (3, 3), 77).save(tmp_path / "l.png")
    np.testing.assert_array_equal(np.asarray(load_rgb(str(tmp_path / "l.png")))[1, 1], [77, 77, 77])
    Image.new("RGBA", (3, 3), (10, 20, 30, 0)).save(tmp_path / "a.png")
    got = load_rgb(str(tmp_path / "a.png"))
    assert got.mode == "RGB" and np.asarray(got)[0, 0].tolist() == [10, 20, 30]


def test_the_folder_dataset_keeps_what_it_can(tmp_path):
    root = make_bad_folder(tmp_path / "data")
    train, evals = build_datasets(validate(folder_cfg(root, tmp_path / "out"))["Data"])
    assert train.classes == evals.classes == ["blue", "green", "red"]
    names = sorted(p.split("/")[-1] for p, _ in train.samples)
    assert names == ["b0.png", "b1.png", "cmyk.jpg", "g16.png", "gray.png", "palette.png", "r0.png", "r1.jpg",
                     "rgb16.png", "rgba.png", "trunc.jpg"]
    assert sorted((p.split("/")[-1], r.split(" (")[0]) for p, r in train.skipped) == [
        ("empty.jpg", "empty file"), ("notes.txt", "not a readable image"), ("trunc.png", "not a readable image")]
    # every kept sample comes out as a float CHW tensor of the configured size, with its folder's label
    labels = {p.split("/")[-1]: lbl for p, lbl in train.samples}
    for i, (path, label) in enumerate(train.samples):
        x, y = train[i]
        assert x.shape == (3, 32, 32) and x.dtype == np.float32
        if not path.endswith("trunc.jpg"):
            assert int(y) == label == labels[path.split("/")[-1]]
    # the truncated JPEG was replaced by the next sample (same output as that sample) and recorded once
    i = [p.split("/")[-1] for p, _ in train.samples].index("trunc.jpg")
    np.testing.assert_array_equal(train[i][0], train[(i + 1) % len(train)][0])
    assert list(train.failed) == [str(root / "train" / "red" / "trunc.jpg")]
    assert "cannot be decoded (OSError" in train.failed[str(root / "train" / "red" / "trunc.jpg")]


@pytest.mark.parametrize("workers", [0, 1])
def test_a_real_run_on_bad_data_finishes_and_reports(tmp_path, capfd, workers):
    root = make_bad_folder(tmp_path / "data")
    out = tmp_path / "out"
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(folder_cfg(root, out, workers)))
    code = train_main(["-c", str(tmp_path / "cfg.yaml")])
    got = capfd.readouterr()
    assert code == 0, got.err
    assert "Traceback" not in got.out + got.err
    err = got.err
    assert "warning: skipped 3 unusable file(s): empty.jpg, notes.txt, trunc.png (in the train split)" in err
    assert f"warning: 1 empty class folder(s) in {root / 'train'}: green" in err
    assert f"warning: 1 empty class folder(s) in {root / 'eval'}: green" in err
    assert "trunc.jpg cannot be decoded (OSError" in err and "trunc2.jpg cannot be decoded" in err
    final = [ln for ln in err.splitlines() if ln.startswith("warning: data:")]
    assert len(final) == 1, err
    assert final[0].startswith("warning: data: 3 file(s) skipped when the datasets were built, 2 replaced at "
                               "load time (")
    assert "trunc.jpg" in final[0] and "trunc2.jpg" in final[0] and str(out / "data_report.json") in final[0]
    report = json.loads((out / "data_report.json").read_text())
    assert sorted((r["split"], r["path"].split("/")[-1]) for r in report["skipped"]) == [
        ("train", "empty.jpg"), ("train", "notes.txt"), ("train", "trunc.png")]
    assert sorted((r["split"], r["path"].split("/")[-1]) for r in report["replaced"]) == [
        ("eval", "trunc2.jpg"), ("train", "trunc.jpg")]
    for quiet in ("gray.png", "g16.png", "rgb16.png", "cmyk.jpg", "palette.png", "rgba.png", ".DS_Store", "nested"):
        assert quiet not in err and quiet not in json.dumps(report), quiet   # converted or ignored silently
    assert [json.loads(x)["epoch"] for x in (out / "metrics.jsonl").read_text().splitlines()] == [1, 2]


@pytest.mark.parametrize("workers", [0, 1])
def test_images_of_different_sizes_without_resize_stop_with_one_line(tmp_path, capfd, workers):
    """A batch that cannot be stacked: one error line, from the main process or re-raised from a worker
    (Paddle's own single-process loader would hang here: its reader thread dies silently)."""
    root = make_bad_folder(tmp_path / "data")
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(folder_cfg(root, tmp_path / "out", workers, resize=False)))
    code = train_main(["-c", str(tmp_path / "cfg.yaml")])
    got = capfd.readouterr()
    assert code == 2
    errors = [ln for ln in got.err.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in got.err + got.out
    assert "the samples of one batch have different shapes" in errors[0] and "Resize" in errors[0]


class Raising:
    """A dataset whose sample 2 raises ``error``."""

    def __init__(self, error):
        self.error = error

    def __len__(self):
        return 4

    def __getitem__(self, i):
        if i == 2:
            raise self.error
        return np.full((3, 4, 4), i, np.float32), np.array(i, np.int64)


@pytest.mark.parametrize("workers", [0, 1])
def test_loader_errors_reach_the_main_thread_as_themselves(workers):
    """Paddle's own loaders would hang (0 workers) or raise a bare SystemError (workers)."""
    from paddle_tricks.data.build import build_loader
    from paddle_tricks.errors import DataError
    loader = build_loader(Raising(DataError("sample 2 is bad")), 2, train=False, num_workers=workers)
    assert len(loader) == 2
    batches = iter(loader)
    x, y = next(batches)
    assert y.numpy().tolist() == [0, 1] and x.shape == [2, 3, 4, 4]
    with pytest.raises(DataError, match="^sample 2 is bad$"):
        next(batches)
    loader = build_loader(Raising(ZeroDivisionError("a bug")), 2, train=False, num_workers=workers)
    with pytest.raises(RuntimeError if workers else ZeroDivisionError, match="a bug") as info:
        list(loader)
    if workers:
        assert "ZeroDivisionError" in str(info.value) and "worker traceback" in str(info.value)


def add_hostile_names_and_links(root):
    """Unusable files whose names hold a non-UTF-8 byte, a tab or a newline, and links that dangle or loop."""
    red = os.fsencode(root / "train" / "red")
    open(os.path.join(red, b"bad\xff.jpg"), "wb").write(b"not an image")             # skipped when built
    open(os.path.join(red, b"new\nline.png"), "wb").write(b"")                      # skipped: empty
    jpg = encoded(noise(96, 96, (200, 40, 40), 21), "JPEG")
    open(os.path.join(red, b"tab\tcut.jpg"), "wb").write(jpg[: len(jpg) // 2])      # replaced when loaded
    os.symlink("nowhere.png", root / "train" / "red" / "dangling.png")
    os.symlink("loop.png", root / "train" / "red" / "loop.png")


def test_odd_names_and_broken_links_are_skipped_and_reported_under_a_printable_path(tmp_path):
    root = make_bad_folder(tmp_path / "data")
    add_hostile_names_and_links(root)
    train, _ = build_datasets(validate(folder_cfg(root, tmp_path / "out"))["Data"])
    red = str(root / "train" / "red")
    skipped = dict(train.skipped)
    assert skipped[red + "/bad\\xff.jpg"].startswith("not a readable image")
    assert skipped[red + "/new\\nline.png"] == "empty file"
    assert skipped[red + "/dangling.png"] == "dangling symbolic link (to nowhere.png)"
    assert skipped[red + "/loop.png"] == "symbolic link loop"
    assert printable("a\\tb\udcfe\t") == "a\\\\tb\\xfe\\t"          # distinct names never render alike


@pytest.mark.parametrize("workers", [0, 1])
def test_a_run_on_odd_names_reports_them_in_data_report_json(tmp_path, capfd, workers):
    root = make_bad_folder(tmp_path / "data")
    add_hostile_names_and_links(root)
    out = tmp_path / "out"
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump(folder_cfg(root, out, workers)))
    code = train_main(["-c", str(tmp_path / "cfg.yaml")])
    got = capfd.readouterr()
    assert code == 0 and "Traceback" not in got.err, got.err
    report = json.loads((out / "data_report.json").read_text(encoding="utf-8"))
    red = str(root / "train" / "red")
    assert {r["path"] for r in report["skipped"]} >= {red + "/bad\\xff.jpg", red + "/new\\nline.png",
                                                     red + "/dangling.png", red + "/loop.png"}
    assert len(report["skipped"]) == 7                            # the 3 of make_bad_folder and these 4
    assert red + "/tab\\tcut.jpg" in {r["path"] for r in report["replaced"]}   # through the failure log too
    assert all(r["split"] in ("train", "eval") for r in report["replaced"])


def test_caltech16_counts_broken_links_as_skipped(tmp_path):
    from paddle_tricks.data.caltech16 import CALTECH16_CLASSES, Caltech16
    for i, c in enumerate(CALTECH16_CLASSES):
        (tmp_path / c).mkdir()
        for j in range(2):
            Image.fromarray(noise(20, 20, (10 * i, 40, 40), j)).save(tmp_path / c / f"image_{j:04d}.jpg")
    os.symlink("gone.jpg", tmp_path / "watch" / "image_0009.jpg")
    os.symlink("image_0010.jpg", tmp_path / "watch" / "image_0010.jpg")
    train = Caltech16(str(tmp_path), "train")
    watch = str(tmp_path / "watch")
    assert sorted(train.skipped) == [(f"{watch}/image_0009.jpg", "dangling symbolic link (to gone.jpg)"),
                                     (f"{watch}/image_0010.jpg", "symbolic link loop")]


def test_a_worker_whose_parent_is_already_gone_ends_at_once():
    """``exit_with_parent`` called after the parent died (the race it guards): the worker signals itself."""
    import signal
    import subprocess
    import sys
    code = ("import os, runpy; exit_with_parent = runpy.run_path('paddle_tricks/data/workers.py')"  # no Paddle
            "['exit_with_parent']; exit_with_parent(os.getppid() + 1); print('still alive')")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert proc.returncode == -signal.SIGTERM and "still alive" not in proc.stdout
