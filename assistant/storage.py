"""Crash-safe file operations for the index: synced folders, atomic replacement, a lock.

A process killed at any point leaves either the old file or the new one, never a
mix: new content is written to a temporary name, flushed to disk, then renamed over
the old name (rename is atomic on POSIX file systems).
"""

from __future__ import annotations

import os
from pathlib import Path


def sync_tree(folder: Path) -> None:
    """Flush every file under `folder`, and the folder itself, to disk."""
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
    sync_dir(folder)


def sync_dir(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def replace_file(path: Path, text: str) -> None:
    """Atomically make `path` hold `text`; the temporary file is `.NAME.PID` beside it."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    sync_dir(path.parent)


class BusyError(Exception):
    """The lock is held by another process."""


class ExclusiveLock:
    """A non-blocking exclusive flock on `path`; raises BusyError(busy_message) when taken.

    The kernel releases the lock when the holder dies, so a killed build never leaves
    a stale lock behind.
    """

    def __init__(self, path: Path, *, busy_message: str) -> None:
        self._path = path
        self._busy_message = busy_message
        self._handle = None

    def __enter__(self) -> ExclusiveLock:
        import fcntl

        self._handle = open(self._path, "w")
        try:
            fcntl.flock(self._handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            self._handle.close()
            raise BusyError(self._busy_message) from error
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._handle is not None:
            self._handle.close()
