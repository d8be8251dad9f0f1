"""Fashion-MNIST IDX reader on the shared copy of the original files."""
import gzip
import hashlib
import shutil

import numpy as np
import paddle
import pytest

from paddle_tricks.data.fashion_mnist import FASHION_MNIST_CLASSES, FashionMNIST
from paddle_tricks.errors import DataError


def test_train_split(fashion_mnist_root):
    ds = FashionMNIST(fashion_mnist_root, "train")
    assert isinstance(ds, paddle.io.Dataset)
    assert len(ds) == 60000
    assert np.bincount(ds.labels).tolist() == [6000] * 10
    img, label = ds[0]
    assert img.shape == (28, 28, 1) and img.dtype == np.uint8
    assert label.dtype == np.int64 and int(label) == 9  # the first training image is an ankle boot
    assert ds.labels[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
    assert int(img.sum()) == 76247
    assert hashlib.md5(img.tobytes()).hexdigest() == "4faf81e309af5194c477affdbefc6116"
    assert ds.classes[9] == "Ankle boot" and len(FASHION_MNIST_CLASSES) == 10


def test_test_split_matches_paddle_reader(fashion_mnist_root):
    ds = FashionMNIST(fashion_mnist_root, "test")
    assert len(ds) == 10000
    assert np.bincount(ds.labels).tolist() == [1000] * 10
    assert ds.labels[:10].tolist() == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]
    assert hashlib.md5(ds.images.tobytes()).hexdigest() == "b7656a891b218fc13e45205c48a92cae"
    # an independent decoder: paddle.vision's own FashionMNIST parser, pointed at the same files
    ref = paddle.vision.datasets.FashionMNIST(
        image_path=str(fashion_mnist_root / "t10k-images-idx3-ubyte.gz"),
        label_path=str(fashion_mnist_root / "t10k-labels-idx1-ubyte.gz"),
        mode="test", download=False, backend="cv2")
    for i in (0, 1, 4321, 9999):
        ref_img, ref_label = ref[i]
        np.testing.assert_array_equal(ds[i][0][:, :, 0], np.asarray(ref_img).reshape(28, 28))
        assert int(ds[i][1]) == int(np.asarray(ref_label).ravel()[0])


def test_transform_receives_pil_image(fashion_mnist_root):
    import paddle.vision.transforms as T
    ds = FashionMNIST(fashion_mnist_root, "test",
                      transform=T.Compose([T.Resize(96), T.Transpose(), T.Normalize([127.5], [127.5])]))
    x, y = ds[0]
    assert x.shape == (1, 96, 96) and x.dtype == np.float32 and int(y) == 9
    assert -1.0 <= x.min() < x.max() <= 1.0


def test_missing_folder_names_it(tmp_path):
    missing = tmp_path / "no-such-fashion-mnist"
    with pytest.raises(DataError) as e:
        FashionMNIST(missing, "train")
    assert str(missing) in str(e.value) and "download" in str(e.value)


def test_missing_or_bad_file(tmp_path, fashion_mnist_root):
    shutil.copy(fashion_mnist_root / "t10k-images-idx3-ubyte.gz", tmp_path)
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz"):
        FashionMNIST(tmp_path, "test")
    # a labels file where the images file should be: wrong magic number
    shutil.copy(fashion_mnist_root / "t10k-labels-idx1-ubyte.gz", tmp_path / "t10k-images-idx3-ubyte.gz")
    shutil.copy(fashion_mnist_root / "t10k-labels-idx1-ubyte.gz", tmp_path)
    with pytest.raises(DataError, match="magic number 2049, expected 2051"):
        FashionMNIST(tmp_path, "test")
    # truncated data
    header = np.array([2049, 5], dtype=">i4").tobytes()
    with gzip.open(tmp_path / "t10k-labels-idx1-ubyte.gz", "wb") as f:
        f.write(header + bytes([1, 2, 3]))
    shutil.copy(fashion_mnist_root / "t10k-images-idx3-ubyte.gz", tmp_path)
    with pytest.raises(DataError, match="damaged"):
        FashionMNIST(tmp_path, "test")
    with pytest.raises(ValueError, match="mode"):
        FashionMNIST(tmp_path, "val")


def test_a_label_out_of_range_is_refused_with_its_index(tmp_path):
    images = np.array([2051, 3, 28, 28], dtype=">i4").tobytes() + bytes(3 * 28 * 28)
    with gzip.open(tmp_path / "t10k-images-idx3-ubyte.gz", "wb") as f:
        f.write(images)
    for labels, ok in (([9, 0, 3], True), ([1, 10, 255], False)):
        with gzip.open(tmp_path / "t10k-labels-idx1-ubyte.gz", "wb") as f:
            f.write(np.array([2049, 3], dtype=">i4").tobytes() + bytes(labels))
        if ok:
            assert FashionMNIST(tmp_path, "test").labels.tolist() == labels
            continue
        with pytest.raises(DataError, match=r"2 label\(s\) outside 0-9 \(first: 10 at index 1\)"):
            FashionMNIST(tmp_path, "test")


def test_a_missing_folder_names_the_command_that_prepares_it(tmp_path):
    from paddle_tricks.data.fashion_mnist import build_fashion_mnist
    with pytest.raises(DataError, match=r"not found at .*nowhere: .*`paddle-tricks prepare-data fashion_mnist"):
        build_fashion_mnist(str(tmp_path / "nowhere"), {}, None, None, 0)
