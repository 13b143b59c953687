"""Facts about the machine a benchmark ran on, so its numbers can be compared fairly.

Load average is recorded before and after: on a shared machine other processes take cores
from the model, and a run under load is not comparable with a quiet one.
"""

from __future__ import annotations

import os
import platform
import sqlite3
import sys
from pathlib import Path
from typing import Any

# The flags that decide how fast the model and FAISS run here.
NOTABLE_FLAGS = ("sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512_vnni",
                 "avx512_bf16", "avx512_fp16", "amx_bf16", "amx_int8")


def machine_facts() -> dict[str, Any]:
    cpu = _cpuinfo()
    flags = cpu.get("flags", "").split()
    facts: dict[str, Any] = {
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu": cpu.get("model name", platform.processor() or platform.machine()),
        "notable_flags": [f for f in NOTABLE_FLAGS if f in flags],
        "flags": flags,
        "memory_gb": _mem_total_gb(),
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }
    facts.update(_library_versions())
    return facts


def load_average() -> list[float] | None:
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None


def _cpuinfo() -> dict[str, str]:
    out: dict[str, str] = {}
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return out
    for line in text.splitlines():
        if not line.strip():
            break  # the first processor is enough
        key, _, value = line.partition(":")
        out[key.strip()] = value.strip()
    return out


def _mem_total_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def _library_versions() -> dict[str, Any]:
    import faiss
    import numpy

    out: dict[str, Any] = {"faiss": faiss.__version__, "numpy": numpy.__version__}
    get_options = getattr(faiss, "get_compile_options", None)
    if get_options is not None:
        out["faiss_build"] = get_options().strip()
    if "torch" in sys.modules:  # only report what the run itself loaded
        torch = sys.modules["torch"]
        out["torch"] = torch.__version__
        out["torch_threads"] = torch.get_num_threads()
    return out
