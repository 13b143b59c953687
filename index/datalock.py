"""One writer per data directory: an exclusive lock that ``run``, ``ingest`` and ``reindex``
hold for as long as they live.

Two writers on one directory (an overlapping deploy, a second ``newsbot run``) would both
deliver the same pending alerts, poll the same feeds and race each other's rebuilds.
Readers (``ask``, ``search``, ``stats``, ``check``) never take the lock and keep working
beside a running bot. The lock is ``flock`` on ``data_dir/LOCK``: the kernel drops it when
the holder exits, however it exits (a SIGKILL included), so a crash never leaves a stale
lock behind. The file holds the holder's pid and command, for the refusal message.

With a database server (``NEWSBOT_DATABASE_URL``) the state several processes share lives
in the database, where outbox claims with leases and advisory locks keep them apart
(docs/postgres.md); the data directory keeps only what each process may share or own.
There ``newsbot run`` takes the lock *shared* (``shared=True``): any number of them may
use one data directory, while a command that needs the directory to itself (exclusive) is
refused beside them, and they beside it, as before.
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


SHARED_HOLDERS = "newsbot run processes sharing a database"


class DataDirLock:
    """``with DataDirLock(data_dir, "newsbot run"):`` — raises ``DataDirLocked`` at once
    when another process holds it (it never waits). ``shared`` holders coexist with each
    other, never with an exclusive one."""

    def __init__(self, data_dir: Path, command: str, *, shared: bool = False) -> None:
        self.path = Path(data_dir) / LOCK_NAME
        self.command = command
        self.shared = shared
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if self.shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise DataDirLocked(self.path.parent, holder) from None
        # Shared holders all write the same line: no exclusive holder can be alive now.
        holder = SHARED_HOLDERS if self.shared else f"pid {os.getpid()} ({self.command})"
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{holder}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            if not self.shared:  # other shared holders may still be there
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
