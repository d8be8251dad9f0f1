"""Caltech-16: the class rule, the split sizes and the class order."""
import os

import numpy as np

from paddle_tricks.data.caltech16 import (CALTECH16_CLASSES, Caltech16, caltech16_split,
                                          derive_caltech16_classes, find_caltech101_root)


def test_class_list_follows_the_rule(caltech101_root):
    assert derive_caltech16_classes(str(caltech101_root)) == CALTECH16_CLASSES


def test_split_sizes_and_order(caltech101_root):
    train, evals = caltech16_split(str(caltech101_root))
    assert (len(train), len(evals)) == (1447, 370)
    # labels follow the listed class order; every 5th sorted file (index 0, 5, ...) is eval
    watch = sorted(f for f in os.listdir(caltech101_root / "watch") if f.endswith(".jpg"))
    assert [os.path.basename(p) for p, y in evals if y == 0] == watch[::5]
    assert {y for _, y in train} == set(range(16))
    assert evals[-1][1] == 15 and os.path.basename(os.path.dirname(evals[-1][0])) == "buddha"
    assert not {p for p, _ in train} & {p for p, _ in evals}


def test_dataset_returns_uint8_rgb(caltech101_root):
    ds = Caltech16(str(caltech101_root), "eval", check=False)
    img, label = ds[0]
    assert img.mode == "RGB" and int(label) == 0 and label.dtype == np.int64


def test_missing_root_is_a_clear_error(tmp_path):
    import pytest
    from paddle_tricks.errors import DataError
    with pytest.raises(DataError, match="Caltech-101 not found"):
        find_caltech101_root(str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match="not a Caltech-101 folder"):
        find_caltech101_root(str(tmp_path))
