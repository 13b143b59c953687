"""What the processor can do, read from ``/proc/cpuinfo`` (no torch import needed).

The embedding dtype depends on it (``index.embed_dtype``), and ``newsbot bench`` records it
beside its figures so runs on different machines can be compared fairly.
"""

from __future__ import annotations

from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")


def cpuinfo(path: Path = CPUINFO) -> dict[str, str]:
    """The first processor's fields (``model name``, ``flags``, …); empty where there is no
    such file (not Linux) or it cannot be read."""
    out: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return out
    for line in text.splitlines():
        if not line.strip():
            break  # the first processor is enough: all cores of a machine share the flags
        key, _, value = line.partition(":")
        out[key.strip()] = value.strip()
    return out


def cpu_flags(path: Path = CPUINFO) -> frozenset[str]:
    """The instruction-set flags the kernel reports (``avx2``, ``avx512_bf16``, …)."""
    return frozenset(cpuinfo(path).get("flags", "").split())
