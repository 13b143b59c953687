"""Giving freed memory back to the system after a large build.

glibc keeps memory a process freed in its heap for reuse, so after a FAISS index is
replaced (a relayout, a rebuild's retired generation) the resident size stays at its high
mark. ``malloc_trim(0)`` returns the free pages. Other C libraries (musl, macOS) have no
such call: there ``release_memory`` only collects garbage.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import platform
from functools import cache

log = logging.getLogger(__name__)


@cache
def glibc() -> ctypes.CDLL | None:
    """The C library when it is glibc (which has ``malloc_trim``), else None."""
    if platform.libc_ver()[0] != "glibc":
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") else None


def release_memory() -> bool:
    """Collect garbage, then hand free heap pages back to the system where the C library
    allows it (glibc); returns whether pages were trimmed."""
    gc.collect()
    libc = glibc()
    if libc is None:
        return False
    return bool(libc.malloc_trim(0))
