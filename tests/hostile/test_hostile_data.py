"""Hostile data (issue 11.4, 11.5): archives that escape or are damaged, Fashion-MNIST files with bad labels,
image folders with odd names, broken links and bombs. Archives and unusable datasets end in one error line
with nothing left behind; a few bad images in a usable folder are skipped and reported."""
import gzip
import io
import json
import os
import struct
import tarfile
import zipfile
import zlib

import numpy as np
import pytest
from PIL import Image

from hostile_kit import NORM, ROOT, assert_refused, run_tool, write_config


# ------------------------------------------------------------------------------------------------- archives
def tar_with(path, *members):
    with tarfile.open(path, "w:gz") as t:
        for info, data in members:
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return path


def link(name, target):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = tarfile.SYMTYPE, target
    return info


def make_archive(kind, folder):
    path = folder / {"tar": "data.tar.gz", "zip": "data.zip"}[kind.split("_")[0]]
    if kind == "tar_dotdot":
        tar_with(path, (tarfile.TarInfo("ok.txt"), b"ok"), (tarfile.TarInfo("../../escaped.txt"), b"x"))
    elif kind == "tar_absolute_link":
        tar_with(path, (link("etc", "/etc"), b""))
    elif kind == "tar_link_then_write":
        tar_with(path, (link("up", "../.."), b""), (tarfile.TarInfo("up/escaped.txt"), b"x"))
    elif kind == "tar_truncated":
        tar_with(path, *[(tarfile.TarInfo(f"f{i}"), os.urandom(20000)) for i in range(4)])
        path.write_bytes(path.read_bytes()[:30000])
    elif kind == "zip_dotdot":
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("ok.txt", "ok")
            z.writestr("../../escaped.txt", "x")
    elif kind == "zip_corrupt":
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("a.txt", "hello " * 2000)
        raw = path.read_bytes()
        i = raw.index(b"hello")
        path.write_bytes(raw[:i] + b"\0" * 64 + raw[i + 64:])
    elif kind == "zip_text":
        path.write_text("not an archive at all\n")
    return path


@pytest.mark.parametrize("kind", ["tar_dotdot", "tar_absolute_link", "tar_link_then_write", "tar_truncated",
                                  "zip_dotdot", "zip_corrupt", "zip_text"])
def test_prepare_data_refuses_hostile_or_damaged_archives(tmp_path, capfd, kind):
    box = tmp_path / "box"
    box.mkdir()
    archive = make_archive(kind, box)
    out = run_tool(capfd, "prepare_data", "caltech16", "--source", archive, "--dest", tmp_path / "dest" / "c101")
    assert_refused(out, archive.name)
    assert os.listdir(box) == [archive.name]                        # no *.extracted(.tmp) folder left
    assert sorted(os.listdir(tmp_path)) == ["box"]                  # nothing escaped, no --dest made


@pytest.mark.parametrize("dataset", ["caltech16", "fashion_mnist"])
def test_prepare_data_dest_under_a_file(tmp_path, capfd, dataset):
    (tmp_path / "a_file").write_text("x")
    out = run_tool(capfd, "prepare_data", dataset, "--source", tmp_path, "--dest", tmp_path / "a_file" / "d")
    assert_refused(out, "a_file")
    assert (tmp_path / "a_file").read_text() == "x"


def test_prepare_data_fashion_mnist_without_its_files(tmp_path, capfd):
    assert_refused(run_tool(capfd, "prepare_data", "fashion_mnist", "--source", tmp_path, "--dest",
                            tmp_path / "fm"), "lacks")


# ---------------------------------------------------------------------------------------------- Fashion-MNIST
def write_idx(folder, labels, images=None, n_images=None):
    n = len(labels) if n_images is None else n_images
    pixels = bytes(n * 28 * 28) if images is None else images
    for prefix in ("train", "t10k"):
        with gzip.open(folder / f"{prefix}-images-idx3-ubyte.gz", "wb") as f:
            f.write(struct.pack(">iiii", 2051, n, 28, 28) + pixels)
        with gzip.open(folder / f"{prefix}-labels-idx1-ubyte.gz", "wb") as f:
            f.write(struct.pack(">ii", 2049, len(labels)) + bytes(labels))


def train_fashion(capfd, tmp_path):
    cfg = ROOT / "paddle_tricks" / "configs" / "fashion_mnist" / "lenet.yaml"
    return run_tool(capfd, "train", "-c", cfg, "-o", f"Data.root={tmp_path}", "-o",
                    f"Global.output_dir={tmp_path / 'run'}", "-o", "Global.epochs=1")


@pytest.mark.parametrize("case", ["label_10", "label_255", "truncated_images", "count_mismatch"])
def test_fashion_mnist_damaged_files(tmp_path, capfd, case):
    if case == "label_10":
        write_idx(tmp_path, [0, 1, 10, 3])
    elif case == "label_255":
        write_idx(tmp_path, [255, 1, 2, 3])
    elif case == "truncated_images":
        write_idx(tmp_path, [0, 1, 2, 3], images=bytes(3 * 28 * 28))
    else:
        write_idx(tmp_path, [0, 1, 2, 3], n_images=3)
    line = assert_refused(train_fashion(capfd, tmp_path), "ubyte.gz")
    assert ("outside 0-9" in line) == case.startswith("label")
    assert not (tmp_path / "run" / "metrics.jsonl").exists()


# ------------------------------------------------------------------------------------------------ image folders
def good_image(path, seed):
    rng = np.random.RandomState(seed)
    Image.fromarray(rng.randint(0, 255, (36, 36, 3), dtype=np.uint8)).save(path)


def png_bomb() -> bytes:
    """A tiny PNG whose header claims 100,000 x 100,000 pixels."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def image_folder(root, hostile=True):
    for split in ("train", "eval"):
        for i, c in enumerate(("a", "b")):
            (root / split / c).mkdir(parents=True)
            for j in range(2):
                good_image(root / split / c / f"{j}.png", 10 * i + j)
    if hostile:
        a = os.fsencode(root / "train" / "a")
        open(os.path.join(a, b"latin1-\xe9t\xe9.png"), "wb").write(b"junk")
        open(os.path.join(a, b"line\nbreak.png"), "wb").write(b"junk")
        open(os.path.join(a, b"tab\there.png"), "wb").write(b"")
        (root / "train" / "a" / "bomb.png").write_bytes(png_bomb())
        os.symlink("missing.png", root / "train" / "a" / "dangling.png")
        os.symlink("self.png", root / "train" / "a" / "self.png")
    return root


def folder_config(tmp_path, root):
    resize = [{"Resize": {"size": [32, 32]}}, {"Transpose": {}}, NORM]
    return write_config(tmp_path / "cfg.yaml", tmp_path / "run", Global={"epochs": 1},
                        Arch={"num_classes": 2},
                        Data={"dataset": "folder", "root": str(root), "batch_size": 4, "options": {},
                              "train_transforms": resize, "eval_transforms": resize})


def test_an_image_folder_with_hostile_names_links_and_a_bomb_trains_and_reports(tmp_path, capfd):
    root = image_folder(tmp_path / "data")
    out = run_tool(capfd, "train", "-c", folder_config(tmp_path, root))
    assert out.code == 0 and "Traceback" not in out.err, out.err[-3000:]
    report = json.loads((tmp_path / "run" / "data_report.json").read_text(encoding="utf-8"))
    a = str(root / "train" / "a")
    reasons = {r["path"]: r["reason"] for r in report["skipped"]}
    assert set(reasons) == {f"{a}/latin1-\\xe9t\\xe9.png", f"{a}/line\\nbreak.png", f"{a}/tab\\there.png",
                            f"{a}/bomb.png", f"{a}/dangling.png", f"{a}/self.png"}
    assert reasons[f"{a}/dangling.png"].startswith("dangling symbolic link")
    assert reasons[f"{a}/self.png"] == "symbolic link loop"
    assert "DecompressionBomb" in reasons[f"{a}/bomb.png"]
    warning = [ln for ln in out.err.splitlines() if "skipped 6 unusable file(s)" in ln]
    assert len(warning) == 1 and "\n" not in warning[0]


def test_an_image_folder_where_nothing_can_be_read(tmp_path, capfd):
    root = image_folder(tmp_path / "data", hostile=False)
    for d, _, files in os.walk(root):
        for f in files:
            open(os.path.join(d, f), "wb").write(b"junk")
    assert_refused(run_tool(capfd, "train", "-c", folder_config(tmp_path, root)), "can be read")


def test_an_image_folder_root_that_is_a_file(tmp_path, capfd):
    (tmp_path / "data").write_text("x")
    assert_refused(run_tool(capfd, "train", "-c", folder_config(tmp_path, tmp_path / "data")), "data")
