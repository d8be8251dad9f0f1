"""Device choice (``auto | gpu | cpu``) and the AMP settings that go with it."""
from __future__ import annotations

import paddle

from ..errors import ConfigError

__all__ = ["select_device", "gpu_available", "amp_configs"]


def gpu_available() -> bool:
    """True when Paddle is built with CUDA and at least one GPU is visible."""
    return paddle.device.is_compiled_with_cuda() and paddle.device.cuda.device_count() > 0


def select_device(name: str = "auto") -> str:
    """Set and return Paddle's device: ``'gpu'`` or ``'cpu'``. ``auto`` takes the GPU when there is one."""
    if name == "auto":
        name = "gpu" if gpu_available() else "cpu"
    if name == "gpu" and not gpu_available():
        raise ConfigError("Global.device=gpu but no GPU is usable (Paddle built without CUDA or no GPU visible); "
                          "use Global.device=auto or cpu")
    # under paddle.distributed.launch, 'gpu' maps to this process's own card (FLAGS_selected_gpus)
    paddle.set_device(name)
    return name


def amp_configs(amp_cfg: dict, device: str, log=print) -> dict | None:
    """``amp_configs`` for ``paddle.Model.prepare``, or ``None`` (fp32).

    On CPU AMP has no effect, so it is not passed and one line says training runs in fp32.
    """
    if not amp_cfg["enable"]:
        return None
    if device != "gpu":
        log(f"AMP {amp_cfg['level']} requested, but this run is on the CPU: training runs in fp32.")
        return None
    return {"level": amp_cfg["level"], "init_loss_scaling": amp_cfg["init_loss_scaling"],
            "incr_every_n_steps": amp_cfg["incr_every_n_steps"],
            "decr_every_n_nan_or_inf": amp_cfg["decr_every_n_nan_or_inf"]}
