"""How the command-line tools talk to the user: one ``error:`` line for a user mistake, Paddle's noise hidden.

A user mistake (``UserError``: bad config, missing data, unfit checkpoint, a diverged run) ends with one
``error:`` line and exit code 2, never a traceback. So does a full disk or a read-only folder met outside
the checkpoint writer (``OSError`` ENOSPC, EDQUOT, EROFS, EACCES): finished epochs stay in the checkpoint.
"""
from __future__ import annotations

import errno
import functools
import sys
import warnings

from ..errors import UserError
from .messages import one_line

__all__ = ["user_errors", "quiet"]


def user_errors(fn):
    """Run ``fn``; turn a ``UserError`` into one message on stderr and exit code 2."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except UserError as e:
            print(f"error: {one_line(e, limit=1000)}", file=sys.stderr)
            return 2
        except OSError as e:
            if e.errno not in _DISK_ERRNOS:
                raise
            where = f" {e.filename}" if e.filename else ""
            print(f"error: could not write{where}: {e.strerror}; finished epochs are kept in the last checkpoint. "
                  f"Fix it, then rerun with --resume", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("interrupted; the last finished epoch is saved: rerun with --resume to continue",
                  file=sys.stderr)
            return 130
    return wrapper


_DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES}


def quiet() -> None:
    """Hide the Python warnings of Paddle that say nothing about the user's run."""
    warnings.filterwarnings("ignore", message="No ccache found")
    warnings.filterwarnings("ignore", message="When training, we now always track global mean")
