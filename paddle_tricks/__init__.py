"""paddle_tricks: CNN design tricks and the networks of five Paddle tutorials, reproduced and tested."""
import os as _os

# ``import paddle`` pins OpenMP to one thread when the variable is unset; use every core instead.
_os.environ.setdefault("OMP_NUM_THREADS", str(_os.cpu_count() or 1))

__version__ = "0.1.0"
