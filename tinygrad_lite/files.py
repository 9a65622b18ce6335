"""Writing files so that a failure part-way never leaves a half-written one.

Every file the project writes goes through :func:`atomic_write`: the content is written to a
temporary file in the target's folder, flushed to disk, and moved over the target in one
``os.replace``. An exception, a Ctrl-C or a SIGKILL during the write leaves the previous file
(or no file) where the target is, never a truncated one; the temporary file is removed on an
exception.

    with atomic_write("model.npz", "wb") as f:
        np.savez(f, **arrays)
    write_text("page.html", html)
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from typing import IO, Any

__all__ = ["atomic_write", "write_text", "write_bytes"]


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8",
                 newline: str | None = None) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path`` for writing; on a clean exit, move it into place.

    ``mode`` is "w" (text, ``encoding``) or "wb". The file gets the permissions a plain
    ``open(path, "w")`` would give (umask applied), not tempfile's 0600.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write: mode must be 'w' or 'wb', got {mode!r}")
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".",
                               suffix=".part")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        if "b" in mode:
            f = os.fdopen(fd, mode)
        else:
            f = os.fdopen(fd, mode, encoding=encoding, newline=newline)
        with f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> str:
    """Write ``text`` to ``path`` atomically; returns the path as a str."""
    with atomic_write(path, "w", encoding=encoding) as f:
        f.write(text)
    return os.fspath(path)


def write_bytes(path: str | os.PathLike, data: bytes) -> str:
    """Write ``data`` to ``path`` atomically; returns the path as a str."""
    with atomic_write(path, "wb") as f:
        f.write(data)
    return os.fspath(path)
