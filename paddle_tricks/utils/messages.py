"""One-line messages from exceptions whose text spans many lines (Paddle's C++ errors, DataLoader workers)."""
from __future__ import annotations

import re

__all__ = ["one_line"]

_WORKER = re.compile(r"DataLoader worker\(\d+\) caught \w+ with message:")
_NOISE = ("Traceback (most recent call last)", "C++ Traceback", "----", "Error Message Summary", "File \"",
          "[Hint:", "[operator")


def one_line(error, limit: int = 400) -> str:
    """The gist of ``error`` (an exception or a text) on one line, at most ``limit`` characters.

    A re-raised DataLoader worker error carries the worker's whole traceback: its last line is the message.
    Paddle's enforce errors put the message after an ``Error Message Summary`` banner: that line is used.
    """
    text = str(error) if not isinstance(error, str) else error
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if _WORKER.search(text) and lines:
        last = lines[-1]
        # "paddle_tricks.errors.DataError: message" -> "message"
        m = re.match(r"^[\w.]+(Error|Exception|Diverged)\w*: (.*)$", last)
        lines = [m.group(2) if m else last]
    elif "Error Message Summary" in text:
        after = text.split("Error Message Summary", 1)[1]
        lines = [ln.strip() for ln in after.splitlines() if ln.strip() and not ln.strip().startswith("-")]
    else:
        kept = [ln for ln in lines if not ln.startswith(_NOISE)]
        lines = kept or lines
    msg = " ".join(lines[:1]) if lines else ""
    if not msg and not isinstance(error, str):
        msg = type(error).__name__
    return msg if len(msg) <= limit else msg[: limit - 3] + "..."
