"""How the command-line tools talk to the user: one ``error:`` line for a user mistake, Paddle's noise hidden.

``quiet()`` hides Paddle's Python warnings, its C++ log lines (glog INFO and WARNING: PIR notes, analysis
passes) and the INFO lines of any library (``import paddle`` gives the root logger an INFO handler, so e.g.
matplotlib's "generated new fontManager" would print); ``PADDLE_TRICKS_VERBOSE=1`` (or ``quiet(verbose=True)``)
keeps them, for debugging.

A user mistake (``UserError``: bad config, missing data, unfit checkpoint, a diverged run) ends with one
``error:`` line and exit code 2, never a traceback. So does a full disk or a read-only folder met outside
the checkpoint writer (``OSError`` ENOSPC, EDQUOT, EROFS, EACCES): finished epochs stay in the checkpoint.
Ctrl-C, and SIGTERM once ``stop_on_sigterm()`` is in place (``kill``, ``timeout``, a job scheduler), end with one
line (for train and ablate: what is kept and how to go on) and exit codes 130 and 143 (128 + the signal).
"""
from __future__ import annotations

import contextlib
import errno
import functools
import importlib
import io
import logging
import os
import signal
import sys
import warnings

from ..errors import ConfigError, UserError
from .messages import one_line

__all__ = ["user_errors", "stop_on_sigterm", "Stopped", "quiet", "is_verbose", "paddle_stderr_hidden", "under_launcher",
           "VERBOSE_SWITCH"]

VERBOSE_SWITCH = "PADDLE_TRICKS_VERBOSE"


def user_errors(fn=None, *, on_stop: str = ""):
    """Run ``fn``; turn a ``UserError`` into one message on stderr and exit code 2.

    A stop (Ctrl-C, or SIGTERM after ``stop_on_sigterm``) prints one line, followed by ``on_stop`` (what was
    kept and how to go on) when given. Use as ``@user_errors`` or ``@user_errors(on_stop="...")``."""
    if fn is None:
        return functools.partial(user_errors, on_stop=on_stop)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except UserError as e:
            # under paddle.distributed.launch every rank reads the same config: rank 0 alone says what is wrong
            if _first_process() or not isinstance(e, ConfigError):
                print(f"error: {one_line(e, limit=1000)}", file=sys.stderr)
            return 2
        except OSError as e:
            if e.errno not in _DISK_ERRNOS:
                raise
            where = f" {e.filename}" if e.filename else ""
            print(f"error: could not write{where}: {e.strerror}; finished epochs are kept in the last checkpoint. "
                  f"Fix it, then rerun with --resume", file=sys.stderr)
            return 2
        except KeyboardInterrupt as e:
            stopped = isinstance(e, Stopped)
            print(("stopped by SIGTERM" if stopped else "interrupted") + (f"; {on_stop}" if on_stop else ""),
                  file=sys.stderr)
            return 128 + (signal.SIGTERM if stopped else signal.SIGINT)
    return wrapper


_DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES}


class Stopped(KeyboardInterrupt):
    """SIGTERM, turned by ``stop_on_sigterm`` into the stop Ctrl-C makes."""


def stop_on_sigterm() -> None:
    """Let SIGTERM (``kill``, ``timeout``, a job scheduler stopping a job) stop this process as Ctrl-C does: a
    ``Stopped`` exception unwinds the work (finally blocks, DataLoader shutdown) and ``user_errors`` prints one
    line. Paddle's own handler, installed when it loads, prints a "C++ Traceback ... FatalError: `Termination
    signal`" block instead, so this loads Paddle first, then replaces it. A second SIGTERM kills at once.
    DataLoader workers forked afterwards inherit the handler, and Paddle's worker loop ends quietly on a
    KeyboardInterrupt."""
    importlib.import_module("paddle")  # its signal handlers are installed on load; this one must come after

    def handler(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        raise Stopped()

    signal.signal(signal.SIGTERM, handler)


def under_launcher() -> bool:
    """Whether this process is one of a ``paddle.distributed.launch`` job (the launcher sets ``PADDLE_TRAINER_ID``)."""
    return "PADDLE_TRAINER_ID" in os.environ


def _first_process() -> bool:
    """Rank 0 of a ``paddle.distributed.launch`` job (it sets ``PADDLE_TRAINER_ID``), or a single process."""
    return os.environ.get("PADDLE_TRAINER_ID", "0").strip() in ("", "0")


# read by glog when Paddle's library loads: 2 = errors only, no verbose logging
QUIET_ENVIRONMENT = {"GLOG_minloglevel": "2", "GLOG_v": "0"}
# warnings Paddle raises on behalf of its caller (stacklevel 2), so not caught by their module
PADDLE_MESSAGES = ("To copy construct from a tensor",)


def quiet(verbose: bool = False) -> bool:
    """Hide Paddle's warnings and C++ logging for this process and its children, unless ``verbose`` or
    ``PADDLE_TRICKS_VERBOSE`` is set; returns whether it did. Call it before Paddle loads (the C++ side
    reads its settings then); the Python warnings are hidden whenever it is called."""
    if verbose:
        os.environ[VERBOSE_SWITCH] = "1"
    if is_verbose():
        return False
    for name, value in QUIET_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    warnings.filterwarnings("ignore", module=r"paddle(\.|$)")
    for message in PADDLE_MESSAGES:
        warnings.filterwarnings("ignore", message=message)
    _root_logger_at_warning()
    return True


def _root_logger_at_warning() -> None:
    """Keep Python's default: library log records print from WARNING up. Paddle's ``get_logger(level)`` (called
    on import with name "root") adds an INFO handler to the root logger unless it already has one: give it one
    first, or, when Paddle got there before us, lower its level back."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.WARNING, format="%(message)s")
    elif root.level < logging.WARNING:
        root.setLevel(logging.WARNING)


def is_verbose() -> bool:
    """Whether Paddle's own messages are wanted (``--verbose`` or ``PADDLE_TRICKS_VERBOSE=1``)."""
    return os.environ.get(VERBOSE_SWITCH, "").strip() not in ("", "0")


@contextlib.contextmanager
def paddle_stderr_hidden():
    """Hide what Paddle prints on ``sys.stderr`` inside the block, unless verbose: ``init_parallel_env`` (also
    called by ``paddle.Model`` in a multi-process job) dumps every non-default flag there."""
    if is_verbose():
        yield
        return
    with contextlib.redirect_stderr(io.StringIO()):
        yield
