"""keep_freed_memory: a freed 64 MB buffer stays mapped, so allocating it again faults no page in;
PADDLE_TRICKS_MALLOC=default keeps glibc's behaviour (the buffer is unmapped and faulted in again)."""
import json
import os
import subprocess
import sys
import textwrap

import pytest

from paddle_tricks.utils.memory import MALLOC_SWITCH

SCRIPT = textwrap.dedent("""
    import json, resource
    import numpy as np
    from paddle_tricks.utils.memory import keep_freed_memory
    kept = keep_freed_memory()
    faults = []
    for _ in range(4):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        buffer = np.ones(64 * 2 ** 20 // 8)   # above glibc's largest mmap threshold (32 MB)
        del buffer
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    print(json.dumps({"kept": kept, "faults": faults}))
""")


def run(switch=None):
    env = {k: v for k, v in os.environ.items() if k != MALLOC_SWITCH and not k.startswith("MALLOC_")}
    if switch:
        env[MALLOC_SWITCH] = switch
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=60,
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_freed_memory_is_kept_unless_switched_off():
    kept, default = run(), run("default")
    assert kept["kept"] and not default["kept"]
    assert all(f >= 32 for f in default["faults"][1:]), default   # >= 1 fault per 2 MB (huge pages)
    assert all(f <= 8 for f in kept["faults"][1:]), kept          # the first allocation faults, later none
    assert kept["faults"][0] >= 32
