"""One call that seeds Python, NumPy and Paddle."""
import random

import numpy as np
import paddle

__all__ = ["seed_everything"]


def seed_everything(seed: int) -> None:
    """Seed ``random``, ``numpy.random`` and ``paddle`` with ``seed``."""
    random.seed(seed)
    np.random.seed(seed % (2 ** 32))
    paddle.seed(seed)
