import os
import pathlib
import warnings

import numpy as np
import pytest

warnings.filterwarnings("ignore", message="No ccache found")

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED = pathlib.Path(os.environ.get("PADDLE_TRICKS_SHARED", ROOT.parent / "shared"))
CALTECH101 = SHARED / "data" / "caltech101"
FASHION_MNIST = SHARED / "data" / "fashion-mnist"


@pytest.fixture(autouse=True)
def _seed():
    import paddle
    paddle.seed(0)
    np.random.seed(0)
    yield


@pytest.fixture
def caltech101_root():
    if not CALTECH101.is_dir():
        pytest.fail(f"Caltech-101 not found at {CALTECH101}; put shared/ beside the repository")
    return CALTECH101


@pytest.fixture
def fashion_mnist_root():
    if not FASHION_MNIST.is_dir():
        pytest.fail(f"Fashion-MNIST not found at {FASHION_MNIST}; put shared/ beside the repository")
    return FASHION_MNIST
