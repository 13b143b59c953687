"""One writer per data directory: an exclusive lock that ``run``, ``ingest`` and ``reindex``
hold for as long as they live.

Two writers on one directory (an overlapping deploy, a second ``newsbot run``) would both
deliver the same pending alerts, poll the same feeds and race each other's rebuilds.
Readers (``ask``, ``search``, ``stats``, ``check``) never take the lock and keep working
beside a running bot. The lock is ``flock`` on ``data_dir/LOCK``: the kernel drops it when
the holder exits, however it exits (a SIGKILL included), so a crash never leaves a stale
lock behind. The file holds the holder's pid and command, for the refusal message.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

LOCK_NAME = "LOCK"


class DataDirLocked(RuntimeError):
    """Another process holds the data directory; the message names its pid and command."""

    def __init__(self, data_dir: Path, holder: str) -> None:
        super().__init__(
            f"{data_dir} is in use by another newsbot process ({holder}); stop it first or "
            "set another NEWSBOT_DATA_DIR (ask, search, stats and check work beside it)")
        self.holder = holder


class DataDirLock:
    """``with DataDirLock(data_dir, "newsbot run"):`` — raises ``DataDirLocked`` at once
    when another process holds it (it never waits)."""

    def __init__(self, data_dir: Path, command: str) -> None:
        self.path = Path(data_dir) / LOCK_NAME
        self.command = command
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise DataDirLocked(self.path.parent, holder) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} ({self.command})\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None

    def __enter__(self) -> DataDirLock:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def _read_holder(fd: int) -> str:
    """What the holder wrote ("pid 1234 (newsbot run)"), or a plain fallback while it has
    not written it yet."""
    text = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
    return text or "pid unknown"
