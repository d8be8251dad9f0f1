"""paddle_tricks: CNN design tricks and the networks of five Paddle tutorials, reproduced and tested."""
from .utils.cpu_threads import use_all_cores as _use_all_cores

# every core for Paddle's math (it would use one), without its OMP_NUM_THREADS warning
_use_all_cores()

__version__ = "0.1.0"
