"""Shared test helpers: non-trivial BatchNorm statistics (``paddle_tricks.utils.bn``), a jit export round trip, one
``error:`` line, and the processes still running for a run folder."""
import os

import numpy as np
import paddle
import paddle.nn as nn
from paddle.static import InputSpec

from paddle_tricks.utils.bn import randomise_bn  # noqa: F401  (the tests import it from here)


def assert_export_roundtrip(layer: nn.Layer, x, tmp_path, dynamic_hw: bool = False, atol: float = 1e-5) -> None:
    """``paddle.jit.save`` the eval-mode ``layer``, load it back and compare outputs on ``x``."""
    layer.eval()
    ref = layer(x).numpy()
    shape = [None, x.shape[1]] + ([None, None] if dynamic_hw else list(x.shape[2:]))
    static = paddle.jit.to_static(layer, input_spec=[InputSpec(shape, "float32")], full_graph=True)
    path = str(tmp_path / "model")
    paddle.jit.save(static, path)
    loaded = paddle.jit.load(path)
    loaded.eval()
    np.testing.assert_allclose(loaded(x).numpy(), ref, rtol=1e-5, atol=atol)


def assert_one_error(capsys, *needles) -> str:
    """The captured stderr holds exactly one ``error:`` line, no traceback, and each of ``needles``."""
    err = capsys.readouterr().err
    errors = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in err, err
    for n in needles:
        assert n in errors[0], errors[0]
    return errors[0]


def processes_naming(text: str) -> list[int]:
    """The pids whose command line contains ``text`` (e.g. a run folder: a training and its DataLoader workers)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if text.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found
