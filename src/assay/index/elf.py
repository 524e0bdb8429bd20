"""ELF header facts for the index, read with pyelftools (headers only: cheap)."""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass
from typing import Any

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

_ARCH = {
    "EM_MIPS": "mips",
    "EM_MIPS_RS3_LE": "mips",
    "EM_ARM": "arm",
    "EM_AARCH64": "aarch64",
    "EM_X86_64": "x86_64",
    "EM_386": "x86",
    "EM_PPC": "powerpc",
    "EM_PPC64": "powerpc64",
    "EM_SPARC": "sparc",
    "EM_SH": "sh",
    "EM_RISCV": "riscv",
    "EM_ARC_COMPACT": "arc",
    "EM_ARCV2": "arc",
    "EM_XTENSA": "xtensa",
}


@dataclass(frozen=True)
class ElfInfo:
    arch: str
    bits: int
    endian: str  # "little" | "big"
    elftype: str  # "exec", "dyn", "rel", "core"
    interpreter: str | None
    stripped: bool
    static: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_elf(data: bytes) -> ElfInfo | None:
    if not data.startswith(b"\x7fELF"):
        return None
    try:
        elf = ELFFile(io.BytesIO(data))
        machine = elf.header["e_machine"]
        arch = _ARCH.get(machine, str(machine).removeprefix("EM_").lower())
        interp = None
        has_symtab = False
        has_dynamic = False
        for seg in elf.iter_segments():
            if seg["p_type"] == "PT_INTERP":
                interp = seg.get_interp_name()  # type: ignore[attr-defined]
            elif seg["p_type"] == "PT_DYNAMIC":
                has_dynamic = True
        for sec in elf.iter_sections():
            if sec["sh_type"] == "SHT_SYMTAB":
                has_symtab = True
                break
        return ElfInfo(
            arch=arch,
            bits=elf.elfclass,
            endian="little" if elf.little_endian else "big",
            elftype=str(elf.header["e_type"]).removeprefix("ET_").lower(),
            interpreter=interp,
            stripped=not has_symtab,
            static=not has_dynamic,
        )
    except (ELFError, ValueError, KeyError, AttributeError, IndexError, TypeError, OSError):
        return None
