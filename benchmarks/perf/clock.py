"""Time accumulators: wrap a method of one object so every call adds its duration to a bucket."""
from __future__ import annotations

import functools
import time
from collections import defaultdict


class Buckets(defaultdict):
    """Seconds per named bucket (``buckets['eval']``) and calls per bucket (``buckets.calls['eval']``)."""

    def __init__(self):
        super().__init__(float)
        self.calls = defaultdict(int)

    def wrap(self, obj, method: str, bucket: str) -> None:
        """Replace ``obj.method`` (on the instance only) by a version that times each call into ``bucket``."""
        original = getattr(obj, method)

        @functools.wraps(original)
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self[bucket] += time.perf_counter() - start
                self.calls[bucket] += 1
        setattr(obj, method, timed)
