"""Unpacking a dataset archive that comes from elsewhere: nothing lands outside the destination, and a damaged
or refused archive leaves nothing half-written behind.

Tar members pass through Python's ``data`` extraction filter (PEP 706: no absolute or ``..`` paths, no links
out of the destination, no device files); zip member names are checked the same way before anything is
written. The archive is unpacked into a fresh temporary folder beside the destination, which is renamed into
place only when every member is out, and removed on any failure.
"""
from __future__ import annotations

import gzip
import os
import shutil
import tarfile
import tempfile
import zipfile
import zlib

from ..errors import DataError
from ..utils.messages import one_line

__all__ = ["extract_archive"]

_DAMAGED = (zipfile.BadZipFile, tarfile.ReadError, tarfile.CompressionError, EOFError, zlib.error,
            gzip.BadGzipFile)


def _escapes(name: str, dest: str) -> bool:
    """Whether archive member ``name`` would be written outside ``dest``."""
    if os.path.isabs(name) or name.startswith(("/", "\\")):
        return True
    target = os.path.realpath(os.path.join(dest, name))
    return os.path.commonpath([target, os.path.realpath(dest)]) != os.path.realpath(dest)


def _unpack_zip(archive: str, dest: str) -> None:
    with zipfile.ZipFile(archive) as z:
        for name in z.namelist():
            if _escapes(name, dest):
                raise DataError(f"{archive}: refused, entry {name!r} would be written outside the destination; "
                                f"nothing was extracted")
        z.extractall(dest)


def _unpack_tar(archive: str, dest: str) -> None:
    with tarfile.open(archive) as t:
        if hasattr(tarfile, "data_filter"):
            t.extractall(dest, filter="data")
            return
        for m in t.getmembers():  # Python without PEP 706: refuse what the data filter would refuse
            if _escapes(m.name, dest) or ((m.issym() or m.islnk()) and _escapes(
                    os.path.join(os.path.dirname(m.name), m.linkname) if m.issym() else m.linkname, dest)):
                raise DataError(f"{archive}: refused, entry {m.name!r} would reach outside the destination")
            if not (m.isfile() or m.isdir() or m.issym() or m.islnk()):
                raise DataError(f"{archive}: refused, entry {m.name!r} is a device or pipe")
        t.extractall(dest)


def _unpack(archive: str, dest: str) -> None:
    try:
        if zipfile.is_zipfile(archive):
            _unpack_zip(archive, dest)
        elif tarfile.is_tarfile(archive):
            _unpack_tar(archive, dest)
        else:
            raise DataError(f"{archive} is neither a zip nor a tar archive")
    except tarfile.FilterError as e:
        raise DataError(f"{archive}: refused, entry {e.tarinfo.name!r}: {one_line(e, 200)}; "
                        f"nothing was kept") from None
    except _DAMAGED as e:
        raise DataError(f"{archive} is damaged or truncated ({type(e).__name__}: {one_line(e, 200)}); "
                        f"download it again") from None
    except OSError as e:
        raise DataError(f"could not extract {archive} into {os.path.dirname(dest)}: "
                        f"{e.strerror or one_line(e, 200)}") from None


def extract_archive(archive: str, out: str) -> str:
    """Unpack the zip or tar ``archive`` into the folder ``out`` (once: an existing ``out`` is reused).

    Raises:
        DataError: the archive is damaged, truncated, not an archive, has an entry that would escape ``out``,
            or ``out``'s folder cannot be written. No partial folder is left in any of these cases.
    """
    if os.path.isdir(out):
        return out
    if os.path.lexists(out):
        raise DataError(f"cannot extract {archive}: {out} exists and is not a folder")
    parent = os.path.dirname(os.path.abspath(out))
    try:
        tmp = tempfile.mkdtemp(prefix=os.path.basename(out) + ".tmp", dir=parent)
    except OSError as e:
        raise DataError(f"cannot extract {archive} into {parent}: {e.strerror}; copy the archive to a "
                        f"writable folder") from None
    try:
        _unpack(archive, tmp)
        try:
            os.replace(tmp, out)
        except OSError as e:
            if not os.path.isdir(out):  # else another process finished the same extraction first: use its folder
                raise DataError(f"could not move the extracted {archive} to {out}: {e.strerror}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out
