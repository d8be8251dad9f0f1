"""Read ahead: a background thread prepares the next items of an iterable while the caller works.

Used by the inline loader (``Data.num_workers: 0``): the next batches are decoded, augmented and stacked
while the model trains on the current one. Image decoding (Pillow), resizing and NumPy release the GIL, as
Paddle's operators do, so the two overlap. The thread is the only reader of the data, so the batches, their
order and the random augmentations (drawn from the global ``random`` / ``numpy.random`` seeded per epoch)
are the same as when they are read inline, as long as nothing else draws from those generators during the
epoch (the training step does not: Paddle has its own generator).
"""
from __future__ import annotations

import queue
import threading
from typing import Iterable, Iterator

__all__ = ["prefetched"]

_END = object()
_POLL_SECONDS = 0.1


def _put(buffer: queue.Queue, item, stop: threading.Event) -> bool:
    """Put ``item`` unless ``stop`` is set first; whether it was put."""
    while not stop.is_set():
        try:
            buffer.put(item, timeout=_POLL_SECONDS)
            return True
        except queue.Full:
            continue
    return False


def prefetched(items: Iterable, depth: int) -> Iterator:
    """Yield the items of ``items`` in order, up to ``depth`` of them prepared ahead by a daemon thread.

    An exception raised while producing an item is raised here, in the caller's thread, as itself (with its
    traceback), after the items before it were yielded. Closing the generator early stops the thread.
    """
    buffer: queue.Queue = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if not _put(buffer, (item, None), stop):
                    return
        except BaseException as error:  # noqa: BLE001 - handed to the caller's thread, raised there
            _put(buffer, (_END, error), stop)
            return
        _put(buffer, (_END, None), stop)

    thread = threading.Thread(target=produce, name="paddle_tricks-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item, error = buffer.get()
            if item is _END:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()
        thread.join()
