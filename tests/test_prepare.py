"""tools/prepare_data.py logic: linking an existing Caltech-101 copy gives the reference split; archives from
elsewhere are unpacked only inside their destination, and a refused or damaged one leaves nothing behind."""
import io
import os
import tarfile
import zipfile

import pytest

from paddle_tricks.data.archive import extract_archive
from paddle_tricks.data.prepare import prepare_caltech16, prepare_fashion_mnist
from paddle_tricks.errors import DataError


def test_link_caltech(tmp_path, caltech101_root):
    msgs = []
    dest = tmp_path / "data" / "caltech101"
    prepare_caltech16(str(caltech101_root), dest=str(dest), log=msgs.append)
    assert os.path.islink(dest) and os.path.realpath(dest) == os.path.realpath(caltech101_root)
    assert "1447 train / 370 eval" in msgs[-1]
    with pytest.raises(DataError, match="--source PATH"):
        prepare_caltech16(None, dest=str(tmp_path / "other"))


def test_link_fashion_mnist(tmp_path, fashion_mnist_root):
    dest = tmp_path / "fm"
    prepare_fashion_mnist(str(fashion_mnist_root), dest=str(dest), log=lambda *_: None)
    assert sorted(os.listdir(dest)) == sorted(os.listdir(fashion_mnist_root))
    with pytest.raises(DataError, match="lacks"):
        prepare_fashion_mnist(str(tmp_path), dest=str(tmp_path / "x"))


def write_tar(path, members, mode="w:gz"):
    """A tar of ``(TarInfo fields, data)`` members."""
    with tarfile.open(path, mode) as t:
        for fields, data in members:
            info = tarfile.TarInfo(fields.pop("name"))
            for k, v in fields.items():
                setattr(info, k, v)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return path


def test_a_good_tar_and_zip_are_unpacked_once(tmp_path):
    tar = write_tar(tmp_path / "a.tar.gz", [({"name": "d/x.txt"}, b"tar"),
                                            ({"name": "d/l", "type": tarfile.SYMTYPE, "linkname": "x.txt"}, b"")])
    out = extract_archive(str(tar), str(tmp_path / "a.out"))
    assert open(os.path.join(out, "d", "l")).read() == "tar"          # a link inside the tree is kept
    with zipfile.ZipFile(tmp_path / "b.zip", "w") as z:
        z.writestr("e/y.txt", "zip")
    out = extract_archive(str(tmp_path / "b.zip"), str(tmp_path / "b.out"))
    assert open(os.path.join(out, "e", "y.txt")).read() == "zip"
    os.remove(tmp_path / "b.zip")                                      # the folder is reused, not re-extracted
    assert extract_archive(str(tmp_path / "b.zip"), str(tmp_path / "b.out")) == str(tmp_path / "b.out")


ESCAPES = {
    "dotdot_tar": lambda p: write_tar(p, [({"name": "ok.txt"}, b"ok"), ({"name": "../escaped.txt"}, b"x")]),
    "absolute_link_tar": lambda p: write_tar(p, [({"name": "l", "type": tarfile.SYMTYPE,
                                                   "linkname": "/etc/passwd"}, b"")]),
    "link_then_write_through_it_tar": lambda p: write_tar(p, [
        ({"name": "up", "type": tarfile.SYMTYPE, "linkname": ".."}, b""), ({"name": "up/escaped.txt"}, b"x")]),
    "device_tar": lambda p: write_tar(p, [({"name": "dev", "type": tarfile.CHRTYPE, "devmajor": 1,
                                            "devminor": 3}, b"")]),
}


@pytest.mark.parametrize("pep706", [True, False], ids=["data_filter", "older_python"])
@pytest.mark.parametrize("kind", sorted(ESCAPES))
def test_a_tar_whose_entries_escape_is_refused_and_nothing_is_left(tmp_path, monkeypatch, kind, pep706):
    if not pep706:                                   # the checks used where tarfile has no extraction filters
        monkeypatch.delattr(tarfile, "data_filter")
    box = tmp_path / "box"
    box.mkdir()
    archive = ESCAPES[kind](box / "evil.tar")
    with pytest.raises(DataError, match=r"evil.tar: refused, entry '"):
        extract_archive(str(archive), str(box / "evil.tar.extracted"))
    assert os.listdir(box) == ["evil.tar"] and os.listdir(tmp_path) == ["box"]


def test_a_zip_whose_entries_escape_is_refused_before_anything_is_written(tmp_path):
    for name in ("../escaped.txt", "/abs.txt", "a/../../escaped.txt"):
        with zipfile.ZipFile(tmp_path / "evil.zip", "w") as z:
            z.writestr("first.txt", "written first?")
            z.writestr(name, "x")
        with pytest.raises(DataError, match="refused, entry .* would be written outside"):
            extract_archive(str(tmp_path / "evil.zip"), str(tmp_path / "out"))
        assert sorted(os.listdir(tmp_path)) == ["evil.zip"], name


def test_damaged_archives_leave_no_partial_folder(tmp_path):
    with zipfile.ZipFile(tmp_path / "good.zip", "w") as z:
        z.writestr("a/b.txt", "hello " * 1000)
        z.writestr("a/c.txt", "world " * 1000)
    raw = (tmp_path / "good.zip").read_bytes()
    i = raw.index(b"world")
    (tmp_path / "bad_crc.zip").write_bytes(raw[:i] + b"X" * 40 + raw[i + 40:])
    big = write_tar(tmp_path / "big.tar.gz", [({"name": f"f{i}"}, os.urandom(30000)) for i in range(4)])
    (tmp_path / "trunc.tar.gz").write_bytes(big.read_bytes()[: big.stat().st_size // 2])
    (tmp_path / "text.zip").write_text("not an archive")
    for name, why in (("bad_crc.zip", "damaged or truncated"), ("trunc.tar.gz", "damaged or truncated"),
                      ("text.zip", "neither a zip nor a tar")):
        with pytest.raises(DataError, match=why):
            extract_archive(str(tmp_path / name), str(tmp_path / (name + ".extracted")))
        assert not [f for f in os.listdir(tmp_path) if ".extracted" in f], name


def test_dest_under_a_file_is_refused_before_any_work(tmp_path, caltech101_root):
    (tmp_path / "afile").write_text("x")
    for prepare in (prepare_caltech16, prepare_fashion_mnist):
        with pytest.raises(DataError, match="afile is a file, not a folder"):
            prepare(str(caltech101_root), dest=str(tmp_path / "afile" / "sub" / "d"))
    assert os.listdir(tmp_path) == ["afile"]
