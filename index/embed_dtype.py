"""Which number format the embedding model computes in: float32, or bfloat16 where the CPU
computes it natively.

bfloat16 keeps float32's range with 8 bits of mantissa. On a CPU with bf16 instructions
(``avx512_bf16``: Intel Cooper Lake, AMD Zen 4 and later; ``amx_bf16``: Intel Sapphire Rapids
and later) oneDNN runs the model's matrix products in it at about twice the speed; without
them bf16 is emulated and slower than float32. So ``auto`` picks bfloat16 only when the flags
are there. Vectors leave the model as float32 either way and are stored as before;
docs/performance.md ("bfloat16") has the speed and the answer quality of both.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from index.cpufeatures import cpu_flags

EmbedDtypeSetting = Literal["auto", "float32", "bfloat16"]
Dtype = Literal["float32", "bfloat16"]
# Either is enough for oneDNN's native bf16 matrix kernels on x86.
NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


@dataclass(frozen=True, slots=True)
class EmbedDtype:
    """The dtype chosen, the setting it came from and the CPU's native bf16 flags."""

    dtype: Dtype
    setting: EmbedDtypeSetting
    bf16_flags: tuple[str, ...]

    def describe(self) -> str:
        """One line for ``newsbot stats``, ``doctor`` and ``bench``."""
        cpu = (f"CPU has {' '.join(self.bf16_flags)}" if self.bf16_flags
               else "CPU has no native bfloat16")
        how = "auto" if self.setting == "auto" else "set by NEWSBOT_EMBED_DTYPE"
        return f"{self.dtype} ({how}; {cpu})"


def choose_embed_dtype(setting: EmbedDtypeSetting,
                       flags: Iterable[str] | None = None) -> EmbedDtype:
    """Resolve ``NEWSBOT_EMBED_DTYPE``: ``auto`` is bfloat16 only when ``flags`` (default:
    this machine's) include a native bf16 instruction set; a forced value is kept as is."""
    have = frozenset(cpu_flags() if flags is None else flags)
    native = tuple(f for f in NATIVE_BF16_FLAGS if f in have)
    if setting == "auto":
        dtype: Dtype = "bfloat16" if native else "float32"
    elif setting in ("float32", "bfloat16"):
        dtype = setting
    else:
        raise ValueError(f"embedding dtype {setting!r}: use auto, float32 or bfloat16")
    return EmbedDtype(dtype, setting, native)
