"""tools/prepare_data.py logic: linking an existing Caltech-101 copy gives the reference split."""
import os

import pytest

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
