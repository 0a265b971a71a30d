"""Atomic file writes: nothing half-written survives a crash or a kill.

Every result file simcore writes goes through :func:`atomic_write` (or its text/bytes
helpers): the content is written to a temporary file in the same directory, flushed and
fsynced, then moved over the target with :func:`os.replace`, which is atomic on POSIX and
Windows.  A process killed mid-write leaves at most a stray ``.tmp-*`` file, never a
truncated target.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from .errors import SimcoreError

__all__ = ["atomic_write", "atomic_write_text", "atomic_write_bytes", "atomic_path",
           "writable_dir"]


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; on success move it over ``target``.

    The caller writes the file at the yielded path by any means (e.g. ``Dataset.to_netcdf``).
    If the block raises, the temporary file is removed and ``target`` is untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".tmp-{target.name}-", dir=target.parent)
    os.close(fd)
    # mkstemp creates the file owner-only (0600); give it the usual umask-based mode
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def atomic_write(target: str | Path, writer: Callable[[Path], object]) -> Path:
    """Call ``writer(tmp_path)`` and atomically move the result to ``target``."""
    with atomic_path(target) as tmp:
        writer(tmp)
    return Path(target)


def atomic_write_bytes(target: str | Path, data: bytes) -> Path:
    """Atomically write ``data`` to ``target``."""
    return atomic_write(target, lambda p: p.write_bytes(data))


def atomic_write_text(target: str | Path, text: str, encoding: str = "utf-8") -> Path:
    """Atomically write ``text`` to ``target``."""
    return atomic_write(target, lambda p: p.write_text(text, encoding=encoding))


def writable_dir(folder: Path, what: str) -> None:
    """Refuse, before any work, a folder that cannot be written: its first existing ancestor
    must be a directory in which a file can be created (tried, so it holds for root and for
    read-only file systems too)."""
    for parent in (folder, *folder.parents):
        if parent.exists():
            if not parent.is_dir():
                raise SimcoreError(f"{what}: {str(parent)!r} is not a directory")
            try:
                with tempfile.TemporaryFile(dir=parent):
                    pass
            except OSError as exc:
                raise SimcoreError(f"{what}: cannot write in {str(parent)!r} "
                                   f"({exc.strerror or exc})") from None
            return
