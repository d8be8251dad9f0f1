"""The inline loader's read-ahead thread: same batches, same augmentations, errors raised in the main thread."""
import threading

import numpy as np
import pytest

from paddle_tricks.data.build import build_datasets, build_loader
from paddle_tricks.data.prefetch import prefetched
from paddle_tricks.errors import DataError
from paddle_tricks.utils.seed import seed_everything
from test_reliability_data import Raising

NORM = {"Normalize": {"mean": [127.5] * 3, "std": [64.0] * 3, "data_format": "CHW"}}
RANDOM_AUGMENT = [{"RandomHorizontalFlip": {}}, {"RandomRotation": {"degrees": 20}}, {"Transpose": {}}, NORM]


def prefetch_threads():
    return [t for t in threading.enumerate() if t.name == "paddle_tricks-prefetch"]


def test_items_in_order_errors_after_the_items_before_them_and_an_early_stop_ends_the_thread():
    assert list(prefetched(iter(range(50)), 3)) == list(range(50))

    def failing():
        yield from range(3)
        raise ZeroDivisionError("a bug in item 3")
    got = []
    with pytest.raises(ZeroDivisionError, match="a bug in item 3") as info:
        for item in prefetched(failing(), 2):
            got.append(item)
    assert got == [0, 1, 2]
    assert info.value.__traceback__ is not None                      # raised as itself, with its traceback

    endless = prefetched(iter(range(10 ** 9)), 2)
    assert next(endless) == 0 and len(prefetch_threads()) == 1
    endless.close()
    assert prefetch_threads() == []


def quickstart(limit=None):
    data = {"dataset": "quickstart", "root": None, "options": {"num_per_class": 3, "eval_per_class": 1,
                                                                "image_size": 32},
            "train_transforms": RANDOM_AUGMENT, "eval_transforms": [{"Transpose": {}}, NORM],
            "limit_train": limit, "limit_eval": None}
    return build_datasets(data, seed=3)[0]


def test_prefetched_batches_and_augmentations_equal_the_inline_ones():
    train = quickstart()
    epochs = {}
    for depth in (0, 1, 4):
        loader = build_loader(train, 8, train=True, seed=5, prefetch=depth)
        seen = []
        for epoch in (0, 1):
            seed_everything(100 + epoch)                             # what EpochSeeder does
            loader.epoch_sampler.set_epoch(epoch)
            for images, labels in loader:
                seen.append((images.numpy(), labels.numpy()))
        epochs[depth] = seen
    assert len(epochs[0]) == 2 * 6
    assert not np.array_equal(epochs[0][0][0], epochs[0][6][0])     # augmentations and order change per epoch
    for depth in (1, 4):
        for (xa, ya), (xb, yb) in zip(epochs[0], epochs[depth]):
            np.testing.assert_array_equal(xb, xa)
            np.testing.assert_array_equal(yb, ya)


def test_loader_errors_reach_the_main_thread_as_themselves():
    batches = iter(build_loader(Raising(DataError("sample 2 is bad")), 2, train=False, prefetch=2))
    x, y = next(batches)
    assert y.numpy().tolist() == [0, 1]
    with pytest.raises(DataError, match="^sample 2 is bad$"):
        next(batches)
    with pytest.raises(ZeroDivisionError, match="a bug"):
        list(build_loader(Raising(ZeroDivisionError("a bug")), 2, train=False, prefetch=2))
    assert prefetch_threads() == []


def test_a_training_run_with_prefetch_ends_with_the_weights_of_one_without(tmp_path):
    from test_trainer import state, tiny_cfg

    from paddle_tricks.engine.trainer import Trainer
    finals = []
    for depth in (0, 2):
        cfg = tiny_cfg(tmp_path / str(depth), Global={"epochs": 2}, VisualDL={"enable": False},
                       Data={"prefetch": depth, "train_transforms": RANDOM_AUGMENT})
        t = Trainer(cfg, log=lambda *_: None)
        t.fit()
        finals.append(state(t))
    for k in finals[0]:
        np.testing.assert_array_equal(finals[1][k], finals[0][k], err_msg=k)
