"""An export folder: the model files plus ``deploy.json``, written all at once or not at all.

The export is written into a hidden staging folder beside the destination and renamed into place when it is
complete and checked, so a full disk, an interrupt or a failed check never leaves a partial model. An existing
destination is replaced only if it is itself an export (it holds ``deploy.json``).

``deploy.json`` tells ``paddle-tricks infer`` how to use the model: format, model file, class names, the
eval preprocessing of the run (image mode and transforms), input size and where the weights came from.
"""
from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import tempfile

from ..errors import UserError
from ..utils.paths import check_folder_target

__all__ = ["DEPLOY_INFO", "staged_folder", "read_deploy_info", "write_deploy_info", "check_destination"]

DEPLOY_INFO = "deploy.json"


def check_destination(out_dir: str) -> None:
    """Refuse a destination that is a file, lies under a file, or is a folder of something else."""
    out_dir = check_folder_target(out_dir, "--out")
    if os.path.isdir(out_dir) and os.listdir(out_dir) and not os.path.isfile(os.path.join(out_dir, DEPLOY_INFO)):
        raise UserError(f"--out {out_dir} is a folder holding other files (no {DEPLOY_INFO}); choose an empty "
                        f"or new folder")


@contextlib.contextmanager
def staged_folder(out_dir: str):
    """Yield an empty staging folder; on success move it to ``out_dir`` (replacing an older export).

    A disk error ends as a ``UserError`` saying nothing was written; any failure removes the staging folder.
    """
    out_dir = os.path.abspath(out_dir)
    check_destination(out_dir)
    parent = os.path.dirname(out_dir)
    try:
        os.makedirs(parent, exist_ok=True)
        stage = tempfile.mkdtemp(prefix=f".{os.path.basename(out_dir)}.staging-", dir=parent)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(stage, 0o777 & ~umask)  # mkdtemp makes it private; the export is an ordinary folder
    except OSError as e:
        raise UserError(f"cannot create the export folder under {parent}: {e.strerror}") from None
    try:
        yield stage
        old = None
        if os.path.isdir(out_dir):
            old = tempfile.mkdtemp(prefix=f".{os.path.basename(out_dir)}.old-", dir=parent)
            os.rmdir(old)
            os.rename(out_dir, old)
        os.rename(stage, out_dir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except OSError as e:
        if e.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES):
            raise
        raise UserError(f"could not write the export to {out_dir} ({e.strerror}); nothing was written. "
                        f"Free disk space or choose another --out") from None
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def write_deploy_info(folder: str, info: dict) -> None:
    """Write ``deploy.json`` into ``folder``."""
    with open(os.path.join(folder, DEPLOY_INFO), "w", encoding="utf-8") as f:
        json.dump(info, f, indent=1)


def read_deploy_info(folder: str) -> dict:
    """Read ``deploy.json`` of an export folder; a missing or damaged one is a ``UserError``."""
    path = os.path.join(folder, DEPLOY_INFO)
    try:
        with open(path, encoding="utf-8") as f:
            info = json.load(f)
    except FileNotFoundError:
        raise UserError(f"{os.path.abspath(folder)} is not an export folder (no {DEPLOY_INFO}): give a run "
                        f"folder or the --out folder of `paddle-tricks export`") from None
    except (OSError, ValueError) as e:
        raise UserError(f"cannot read {os.path.abspath(path)}: {e}; export the model again") from None
    needed = ("format", "model", "classes", "image_mode", "transforms")
    if not isinstance(info, dict) or any(k not in info for k in needed) or info["format"] not in ("paddle", "onnx"):
        raise UserError(f"{os.path.abspath(path)} lacks one of {', '.join(needed)} or names an unknown format; "
                        f"export the model again")
    return info
