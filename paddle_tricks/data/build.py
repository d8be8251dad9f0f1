"""Datasets and loaders from the ``Data`` section of a config."""
from __future__ import annotations

import json
import os

import numpy as np
import paddle

from ..errors import ConfigError, DataError, UserError
from .prefetch import prefetched
from .registry import DATASETS, check_dataset_options
from .transforms import build_transforms

__all__ = ["build_datasets", "build_loader", "EpochShuffleSampler", "InlineLoader"]


def build_datasets(data_cfg: dict, seed: int = 0):
    """``(train_set, eval_set)`` for ``Data.dataset`` (a ``DATASETS`` entry); both have ``classes``.

    ``Data.options`` is checked against the dataset's declared options before anything is read or drawn.
    """
    kind, root = data_cfg["dataset"], data_cfg["root"]
    try:
        build = DATASETS.get(kind)
    except KeyError as e:
        raise ConfigError(f"Data.dataset: {e}") from None
    opts = check_dataset_options(kind, dict(data_cfg["options"]))
    t_train = build_transforms(data_cfg["train_transforms"], "Data.train_transforms")
    t_eval = build_transforms(data_cfg["eval_transforms"], "Data.eval_transforms")
    train, evals = build(root, opts, t_train, t_eval, seed)
    for split, ds in (("training", train), ("evaluation", evals)):
        if len(ds) == 0:
            raise DataError(f"the {split} set of Data.dataset={kind} is empty; check Data.root and Data.options")
    if data_cfg["limit_train"]:
        train = _Subset(train, data_cfg["limit_train"])
    if data_cfg["limit_eval"]:
        evals = _Subset(evals, data_cfg["limit_eval"])
    return train, evals


class _Subset(paddle.io.Dataset):
    """The first ``n`` samples of a dataset, spread over its classes (every k-th sample)."""

    def __init__(self, dataset, n: int):
        super().__init__()
        self.dataset = dataset
        self.classes = getattr(dataset, "classes", None)
        step = max(1, len(dataset) // n)
        self.indices = list(range(0, len(dataset), step))[:n]

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, i):
        return self.dataset[self.indices[i]]


class EpochShuffleSampler(paddle.io.Sampler):
    """Shuffles with ``RandomState(seed + epoch)``, so epoch k's order is the same in a resumed run.

    With several processes, each rank takes every ``nranks``-th index of the shuffled order (padded so all
    ranks have the same count), like ``paddle.io.DistributedBatchSampler``.
    """

    def __init__(self, dataset, seed: int = 0, shuffle: bool = True):
        super().__init__(dataset)
        self.n = len(dataset)
        self.seed, self.shuffle, self.epoch = seed, shuffle, 0
        env = paddle.distributed.ParallelEnv()
        self.rank, self.nranks = env.rank, max(1, env.world_size)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self):
        order = (np.random.RandomState((self.seed + self.epoch) % 2 ** 32).permutation(self.n) if self.shuffle
                 else np.arange(self.n))
        total = -(-self.n // self.nranks) * self.nranks
        order = np.concatenate([order, order[: total - self.n]])
        return iter(order[self.rank::self.nranks].tolist())

    def __len__(self):
        return -(-self.n // self.nranks)


def _collate(batch):
    """Paddle's default collate, with a clear error when the samples of a batch differ in shape."""
    try:
        return paddle.io.dataloader.collate.default_collate_fn(batch)
    except ValueError:
        shapes = sorted({tuple(np.shape(sample[0])) for sample in batch})
        if len(shapes) > 1:
            raise DataError(f"the samples of one batch have different shapes ({', '.join(map(str, shapes[:3]))}): "
                            f"add a Resize / CenterCrop to Data.train_transforms and Data.eval_transforms so "
                            f"every image ends at one size") from None
        raise


def _duplicate_collate(batch):
    """Stack a batch and repeat it: ``[x, x]`` and ``[y, y]`` (one concatenated pass for R-Drop)."""
    images, labels = _collate(batch)
    return np.concatenate([images, images]), np.concatenate([labels, labels])


# --- errors in DataLoader worker processes ------------------------------------------------------------
# Paddle re-raises a worker's exception in its reader thread, so the main thread only sees
# "SystemError: Blocking queue is killed" and the real message goes to a thread traceback. Instead, the
# worker catches the error and sends it as a special batch, which ``_CheckedLoader`` raises in the main
# thread as the original error class (UserErrors) or a RuntimeError carrying the worker's traceback.
_ERROR_KEY = "__paddle_tricks_data_error__"


class _Failed:
    """What ``_SafeDataset`` returns instead of a sample whose loading raised."""

    def __init__(self, error: BaseException):
        self.payload = _error_payload(error)


def _error_payload(error: BaseException) -> dict:
    import traceback
    return {"user": isinstance(error, UserError), "cls": type(error).__name__, "message": str(error),
            "traceback": "".join(traceback.format_exception(type(error), error, error.__traceback__))}


class _SafeDataset(paddle.io.Dataset):
    def __init__(self, dataset):
        super().__init__()
        self.dataset = dataset

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, i):
        try:
            return self.dataset[i]
        except Exception as e:  # sent to the main thread by the collate function below
            return _Failed(e)


def _safe_collate(collate):
    def run(batch):
        failed = next((b for b in batch if isinstance(b, _Failed)), None)
        if failed is None:
            try:
                return collate(batch)
            except Exception as e:
                failed = _Failed(e)
        blob = np.frombuffer(json.dumps(failed.payload).encode("utf-8"), dtype=np.uint8).copy()
        return {_ERROR_KEY: blob}
    return run


class _CheckedLoader:
    """A multi-process ``DataLoader`` whose worker errors are raised in the main thread."""

    def __init__(self, loader):
        self.loader = loader

    def __iter__(self):
        for batch in self.loader:
            if isinstance(batch, dict) and _ERROR_KEY in batch:
                blob = batch[_ERROR_KEY]
                blob = blob.numpy() if isinstance(blob, paddle.Tensor) else np.asarray(blob)
                payload = json.loads(blob.astype(np.uint8).tobytes().decode("utf-8"))
                if payload["user"]:
                    raise DataError(payload["message"])
                raise RuntimeError(f"a DataLoader worker failed with {payload['cls']}: {payload['message']}\n"
                                   f"worker traceback:\n{payload['traceback']}")
            yield batch

    def __len__(self) -> int:
        return len(self.loader)


class InlineLoader:
    """Batches read in the calling thread: the loader for ``num_workers=0``.

    Paddle's single-process ``DataLoader`` reads batches in a background thread, and when the dataset or the
    collate function raises, that thread dies without telling the main thread, which then waits forever
    (Paddle 3.3). Reading inline makes any such error surface where it happened, as itself. Yields
    ``[images, labels]`` tensors like ``DataLoader(return_list=True)``. With ``prefetch`` > 0 a background
    thread prepares that many batches ahead (``data.prefetch``); its errors are raised here all the same.
    """

    def __init__(self, dataset, batch_sampler, collate_fn, prefetch: int = 0):
        self.dataset, self.batch_sampler, self.collate_fn = dataset, batch_sampler, collate_fn
        self.prefetch = prefetch

    def batches(self):
        """The collated NumPy batches, read in the calling thread."""
        for indices in self.batch_sampler:
            yield self.collate_fn([self.dataset[i] for i in indices])

    def __iter__(self):
        batches = prefetched(self.batches(), self.prefetch) if self.prefetch else self.batches()
        for batch in batches:
            yield [paddle.to_tensor(x) for x in batch]

    def __len__(self) -> int:
        return len(self.batch_sampler)


def build_loader(dataset, batch_size: int, train: bool, num_workers: int = 0, seed: int = 0,
                 duplicate: bool = False, prefetch: int = 0):
    """A loader of ``[images, labels]`` batches; training batches come from an ``EpochShuffleSampler``.

    ``num_workers=0`` gives an ``InlineLoader`` (errors surface instead of hanging), more workers a
    ``paddle.io.DataLoader``. Workers are seeded from ``(seed, epoch, worker id)``, so random augmentations
    repeat exactly in a resumed run. ``duplicate`` repeats every batch (R-Drop's two passes as one
    concatenated pass). ``prefetch`` (inline loader only) is how many batches a background thread prepares
    ahead. The sampler is exposed as ``loader.epoch_sampler``.
    """
    sampler = EpochShuffleSampler(dataset, seed=seed, shuffle=train)
    batch_sampler = paddle.io.BatchSampler(sampler=sampler, batch_size=batch_size, drop_last=False)
    collate = _duplicate_collate if duplicate else _collate
    if num_workers == 0:
        loader = InlineLoader(dataset, batch_sampler, collate, prefetch=prefetch)
        loader.epoch_sampler = sampler
        return loader

    parent_pid = os.getpid()

    def init_worker(worker_id: int) -> None:
        from ..utils.seed import seed_everything
        from .workers import exit_with_parent
        exit_with_parent(parent_pid)
        seed_everything(seed * 1000 + sampler.epoch * 97 + worker_id + 1)

    loader = paddle.io.DataLoader(_SafeDataset(dataset), batch_sampler=batch_sampler, num_workers=num_workers,
                                  return_list=True, use_shared_memory=True, collate_fn=_safe_collate(collate),
                                  worker_init_fn=init_worker)
    loader = _CheckedLoader(loader)
    loader.epoch_sampler = sampler
    return loader
