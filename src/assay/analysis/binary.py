"""Static binary helpers: ELF layout, imports, call targets and string references.

Everything here reads bytes; nothing executes them. The data-flow tracker is a
deliberately small, linear, per-function constant propagator over capstone's
"lite" disassembly (mnemonic + operand text): enough to follow how compilers
build string addresses (MIPS lui/addiu and $gp GOT loads, ARM literal pools and
movw/movt, AArch64 adrp+add, x86-64 rip-relative lea), to name the callee of a
call (PLT stubs, GOT slots, MIPS stubs) and to see integer compares against
bytes loaded from a buffer (inlined memcmp/strcmp).
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import re
import struct
import typing
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import capstone as cs
import numpy as np
import numpy.typing as npt
from elftools.elf.enums import ENUM_D_TAG_COMMON, ENUM_D_TAG_MIPS, ENUM_E_MACHINE, ENUM_E_TYPE

COMPARE_FUNCTIONS = frozenset(
    {"strcmp", "strncmp", "memcmp", "strcasecmp", "strncasecmp", "strstr", "strcasestr", "bcmp"}
)
_COPY_FUNCTIONS = frozenset({"strcpy", "stpcpy", "strncpy", "memcpy", "memmove", "strcat", "strncat"})
_FORMAT_FUNCTIONS = frozenset({"sprintf", "snprintf", "__sprintf_chk", "__snprintf_chk"})
_CHK = {
    "__strcpy_chk": "strcpy",
    "__stpcpy_chk": "stpcpy",
    "__memcpy_chk": "memcpy",
    "__strcat_chk": "strcat",
}

Endian = typing.Literal["little", "big"]
# Instruction words as int64 arrays: masks, targets and lookups run in numpy, not per word in Python.
Words = npt.NDArray[np.int64]

# A value the tracker knows: an int (constant or address), or a tagged tuple:
# ("imp", name) an imported symbol; ("sp", off) a stack address;
# ("ld", base, off, size) bytes loaded from base+off; ("ret", addr) a call's result.
Value = Any

_ARG_REGS = {
    "mips": ("$a0", "$a1", "$a2", "$a3"),
    "arm": ("r0", "r1", "r2", "r3"),
    "aarch64": ("x0", "x1", "x2", "x3"),
    "x86_64": ("rdi", "rsi", "rdx", "rcx"),
}
_CLOBBER = {
    "mips": (
        [
            "$v0",
            "$v1",
            "$a0",
            "$a1",
            "$a2",
            "$a3",
            "$t0",
            "$t1",
            "$t2",
            "$t3",
            "$t4",
            "$t5",
            "$t6",
            "$t7",
            "$t8",
            "$t9",
            "$at",
        ]
    ),
    "arm": ["r0", "r1", "r2", "r3", "ip", "lr"],
    "aarch64": [f"x{i}" for i in range(19)],
    "x86_64": ["rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11"],
    "x86": ["eax", "ecx", "edx"],
}
_RET = {"mips": "$v0", "arm": "r0", "aarch64": "x0", "x86_64": "rax", "x86": "eax"}
_SP = {"mips": "$sp", "arm": "sp", "aarch64": "sp", "x86_64": "rsp", "x86": "esp"}

_X86_ALIAS: dict[str, str] = {}
for _r in ["ax", "bx", "cx", "dx", "si", "di", "bp", "sp"]:
    _X86_ALIAS["e" + _r] = "r" + _r
    _X86_ALIAS[_r] = "r" + _r
for _n in range(8, 16):
    for _suffix in ("d", "w", "b"):
        _X86_ALIAS[f"r{_n}{_suffix}"] = f"r{_n}"
for _a, _b in (("al", "rax"), ("bl", "rbx"), ("cl", "rcx"), ("dl", "rdx"), ("sil", "rsi"), ("dil", "rdi")):
    _X86_ALIAS[_a] = _b
_ARM_CONDITIONS = frozenset(
    {"eq", "ne", "lt", "gt", "le", "ge", "hi", "lo", "hs", "ls", "mi", "pl", "cc", "cs"}
)
_ARM_ALIAS = {"sb": "r9", "sl": "r10", "fp": "r11", "ip": "r12", "r12": "r12"}
_ARM_ALIAS["ip"] = "ip"
_ARM_ALIAS["r12"] = "ip"

_SIZE = {"byte": 1, "word": 2, "dword": 4, "qword": 8}


@dataclass(frozen=True)
class Section:
    name: str
    addr: int
    offset: int
    size: int
    alloc: bool
    execute: bool
    write: bool
    nobits: bool


@dataclass(frozen=True)
class StringRef:
    """A NUL-terminated string in the file, reached from code."""

    vaddr: int
    offset: int
    text: bytes


@dataclass(frozen=True)
class Literal:
    """A byte string code compares against: from .rodata, composed, or inlined as integers."""

    text: bytes
    offset: int  # file offset of the literal (or of the instruction holding it)
    how: str  # "rodata" | "composed" | "stack" | "inline"
    pieces: tuple[StringRef, ...] = ()


@dataclass(frozen=True)
class CompareSite:
    function: int
    address: int
    callee: str  # the import called, or "inline" for integer compares
    literal: Literal


@dataclass
class FunctionFacts:
    start: int
    end: int
    strings: list[StringRef] = field(default_factory=list)
    calls: list[tuple[int, str]] = field(default_factory=list)
    compares: list[CompareSite] = field(default_factory=list)


@dataclass
class ElfBinary:
    data: bytes
    arch: str
    bits: int
    little: bool
    entry: int
    elftype: str
    sections: list[Section]
    segments: list[tuple[int, int, int, int, int]]  # vaddr, memsz, offset, filesz, flags
    imports: set[str]
    defined_functions: dict[int, str]
    slot_imports: dict[int, str]
    has_interp: bool
    dynamic: dict[str, int]
    gnu_stack_flags: int | None
    has_relro: bool
    gp: int | None = None
    code: bool = True  # relocations read: stubs and GOT slots can name callees
    _mips_stubs: list[tuple[int, int, str]] = field(default_factory=list, repr=False)
    _stubs: list[tuple[int, int, str]] | None = field(default=None, repr=False)
    _stub_starts: list[int] = field(default_factory=list, repr=False)
    _alloc: list[Section] = field(default_factory=list, repr=False)
    _alloc_starts: list[int] = field(default_factory=list, repr=False)
    _cstrings: dict[tuple[int, int], StringRef | None] = field(default_factory=dict, repr=False)
    _words: dict[tuple[int, int], Words] = field(default_factory=dict, repr=False)
    # decoded operand text, shared by every walk of this binary (handlers never mutate them)
    _operands: dict[str, list[str]] = field(default_factory=dict, repr=False)
    _disassemblers: dict[bool, Any] = field(default_factory=dict, repr=False)  # by Thumb mode
    _loads: dict[tuple[int, int], Any] = field(default_factory=dict, repr=False)  # (addr, size) -> Value
    # (operands, jump, first destination) by (mnemonic, operand text)
    _shapes: dict[tuple[str, str], tuple[list[str], tuple[int | None, bool] | None, str | None]] = field(
        default_factory=dict, repr=False
    )

    def words(self, offset: int, size: int, width: int = 4) -> Words:
        """The bytes data[offset:offset+size] as unsigned words of `width` bytes (cached)."""
        key = (offset, width)
        w = self._words.get(key)
        if w is None:
            w = _as_words(self.data[offset : offset + size], self.little, width)
            self._words[key] = w
        return w

    def words_at(self, vaddrs: Words) -> Words:
        """The aligned 32-bit word at each virtual address; -1 where none is mapped."""
        out = np.full(vaddrs.shape, -1, dtype=np.int64)
        file_words = self.words(0, len(self.data))
        for va, _memsz, off, filesz, _flags in self.segments:
            inside = (vaddrs >= va) & (vaddrs < va + filesz)
            fo = vaddrs - va + off
            ok = inside & (fo % 4 == 0) & (fo // 4 < len(file_words))
            out[ok] = file_words[fo[ok] // 4]
        return out

    def imports_at(self, targets: Words) -> Words:
        """Index into self.stubs of the stub holding each target; -1 where none does."""
        if not self.stubs:
            return np.full(targets.shape, -1, dtype=np.int64)
        starts = np.array([st[0] for st in self.stubs], dtype=np.int64)
        ends = np.array([st[1] for st in self.stubs], dtype=np.int64)
        i = np.searchsorted(starts, targets, side="right") - 1
        ok = (i >= 0) & (targets < ends[np.maximum(i, 0)])
        return np.where(ok, i, -1)

    # -- layout ------------------------------------------------------------
    def offset_of(self, vaddr: int) -> int | None:
        for va, _memsz, off, filesz, _flags in self.segments:
            if va <= vaddr < va + filesz:
                return off + (vaddr - va)
        return None

    def section_at(self, vaddr: int) -> Section | None:
        if not self._alloc:
            self._alloc = sorted((s for s in self.sections if s.alloc and s.size), key=lambda s: s.addr)
            self._alloc_starts = [s.addr for s in self._alloc]
        i = bisect.bisect_right(self._alloc_starts, vaddr) - 1
        if i >= 0 and vaddr < self._alloc[i].addr + self._alloc[i].size:
            return self._alloc[i]
        return None

    def word(self, vaddr: int, size: int | None = None) -> int | None:
        size = size or self.bits // 8
        off = self.offset_of(vaddr)
        if off is None or off + size > len(self.data):
            return None
        return int.from_bytes(self.data[off : off + size], "little" if self.little else "big")

    def cstring(self, vaddr: int, limit: int = 256) -> StringRef | None:
        key = (vaddr, limit)
        if key in self._cstrings:
            return self._cstrings[key]
        ref = self._cstring(vaddr, limit)
        self._cstrings[key] = ref
        return ref

    def _cstring(self, vaddr: int, limit: int) -> StringRef | None:
        sec = self.section_at(vaddr)
        if sec is None or sec.execute or sec.nobits:
            return None
        off = sec.offset + (vaddr - sec.addr)
        end = self.data.find(b"\0", off, min(off + limit, sec.offset + sec.size))
        if end <= off:
            return None
        text = self.data[off:end]
        if not all(32 <= b < 127 or b in (9, 10, 13) for b in text):
            return None
        return StringRef(vaddr, off, text)

    def section_bytes(self, names: Iterable[str]) -> Iterator[tuple[Section, bytes]]:
        """(section, its bytes) of the named sections that have bytes in the file."""
        wanted = set(names)
        for sec in self.sections:
            if sec.name in wanted and not sec.nobits:
                yield sec, self.data[sec.offset : sec.offset + sec.size]

    def text_sections(self) -> list[Section]:
        skip = {".plt", ".plt.got", ".plt.sec", ".MIPS.stubs", ".init", ".fini", ".iplt"}
        return [s for s in self.sections if s.execute and not s.nobits and s.size and s.name not in skip]

    @property
    def stubs(self) -> list[tuple[int, int, str]]:
        """(start, end, import) of each PLT or MIPS stub; worked out on first use."""
        if self._stubs is None:
            stubs = list(self._mips_stubs)
            if self.code and self.arch != "mips" and (self.arch in _ARG_REGS or self.arch == "x86"):
                stubs.extend(_plt_stubs(self))
            stubs.sort()
            self._stubs = stubs
            self._stub_starts = [st[0] for st in stubs]
        return self._stubs

    def import_at(self, target: int) -> str | None:
        stubs = self.stubs
        i = bisect.bisect_right(self._stub_starts, target) - 1
        if i >= 0:
            start, end, name = stubs[i]
            if start <= target < end:
                return name
        return None

    # -- functions ---------------------------------------------------------
    def function_starts(self) -> list[int]:
        starts = set(self.defined_functions)
        starts.update(_eh_frame_hdr_starts(self))
        starts.update(_arm_exidx_starts(self))
        if self.entry:
            starts.add(self.entry & ~1)
        if self.arch == "mips":
            starts.update(_mips_prologues(self))
        elif self.arch == "arm":
            # unwind tables merge neighbours and skip leaf functions: without prologues a
            # stripped library's "function" can span hundreds of KiB
            starts.update(_arm_prologues(self))
        elif self.arch in ("x86_64", "x86") and len(starts) < 8:
            starts.update(_x86_call_targets(self))
        spans = sorted((s.addr, s.addr + s.size) for s in self.text_sections())
        if not spans or not starts:
            return []
        # unsigned: kernel images live at the top of the 64-bit address space
        los = np.array([lo for lo, _hi in spans], dtype=np.uint64)
        his = np.array([hi for _lo, hi in spans], dtype=np.uint64)
        valid = [a for a in starts if 0 <= a < 2**64]  # a corrupt unwind table can point anywhere
        found = np.unique(np.array(valid, dtype=np.uint64) & np.uint64(2**64 - 2))
        i = np.searchsorted(los, found, side="right") - 1
        inside = (i >= 0) & (found < his[np.maximum(i, 0)])
        return list(found[inside].tolist())


def load_elf(data: bytes, code: bool = True) -> ElfBinary | None:
    """Parse an ELF image from bytes; None if it is not one pyelftools can read.

    code=False skips what only code analysis needs (relocations, PLT stubs): headers,
    segments, dynamic tags and imports are enough for checksec-style questions.
    """
    if not data.startswith(b"\x7fELF"):
        return None
    try:
        return _load(data, code)
    except (ValueError, KeyError, AttributeError, IndexError, TypeError, OSError, struct.error):
        return None


class ElfCache:
    """Parsed ELFs of one scan, by content hash, so that checks reading the same binary parse it
    once. Bounded by the bytes held; word arrays are kept for the binary in use only."""

    def __init__(self, max_bytes: int = 256 << 20) -> None:
        self._items: OrderedDict[str, tuple[ElfBinary | None, int]] = OrderedDict()
        self._last: tuple[str, ElfBinary | None] | None = None
        self._held = 0
        self.max_bytes = max_bytes

    def load(self, key: str, data: bytes) -> ElfBinary | None:
        if self._last is not None and self._last[0] != key and self._last[1] is not None:
            self._last[1]._words.clear()  # word arrays are many times the file: keep only the current one's
        hit = self._items.get(key)
        if hit is not None:
            self._items.move_to_end(key)
            self._last = (key, hit[0])
            return hit[0]
        b = load_elf(data)
        self._last = (key, b)
        cost = 2 * len(data)
        self._items[key] = (b, cost)
        self._held += cost
        while self._held > self.max_bytes and len(self._items) > 1:
            _key, (_b, old) = self._items.popitem(last=False)
            self._held -= old
        return b


def elf_cache(memo: dict[str, Any]) -> ElfCache:
    """The ElfCache kept in a per-scan memo (CheckContext.memo)."""
    cache = memo.get("elf")
    if not isinstance(cache, ElfCache):
        cache = memo["elf"] = ElfCache()
    return cache


_ARCHES = {
    "EM_MIPS": "mips",
    "EM_ARM": "arm",
    "EM_AARCH64": "aarch64",
    "EM_X86_64": "x86_64",
    "EM_386": "x86",
}


def _enum(table: Any) -> dict[Any, Any]:
    # pyelftools' tables also map _default_ to a non-int: typed loosely for mypyc's checks
    return dict(table)


# pyelftools' own name tables, reversed: the headers are read with struct (see _load).
_MACHINES = {v: k for k, v in _enum(ENUM_E_MACHINE).items() if isinstance(v, int)}
_ELF_TYPES = {v: k for k, v in _enum(ENUM_E_TYPE).items() if isinstance(v, int)}
_DT_COMMON = {v: k for k, v in _enum(ENUM_D_TAG_COMMON).items() if isinstance(v, int)}
_DT_MIPS = {**_DT_COMMON, **{v: k for k, v in _enum(ENUM_D_TAG_MIPS).items() if isinstance(v, int)}}
_SHT_SYMTAB, _SHT_RELA, _SHT_DYNAMIC, _SHT_NOBITS, _SHT_REL, _SHT_DYNSYM = 2, 4, 6, 8, 9, 11
_PT_LOAD, _PT_INTERP, _PT_GNU_STACK, _PT_GNU_RELRO = 1, 3, 0x6474E551, 0x6474E552


def _load(data: bytes, code: bool = True) -> ElfBinary:
    # Headers, segments and dynamic tags are read with struct: pyelftools builds an object per
    # section and parses some contents (ARM attributes, notes) on the way, which cost more than
    # the rest of loading together on big libraries.
    if len(data) < 52 or data[4] not in (1, 2) or data[5] not in (1, 2):
        raise ValueError("not a valid ELF header")
    bits = 32 if data[4] == 1 else 64
    little = data[5] == 1
    e = "<" if little else ">"
    if bits == 32:
        (etype, machine, _v, entry, phoff, shoff, _fl, _eh, phentsize, phnum, shentsize, shnum, shstrndx) = (
            struct.unpack_from(e + "HHIIIIIHHHHHH", data, 16)
        )
        sh_fmt, ph_fmt = e + "IIIIIIIIII", e + "IIIIIIII"
    else:
        (etype, machine, _v, entry, phoff, shoff, _fl, _eh, phentsize, phnum, shentsize, shnum, shstrndx) = (
            struct.unpack_from(e + "HHIQQQIHHHHHH", data, 16)
        )
        sh_fmt, ph_fmt = e + "IIQQQQIIQQ", e + "IIQQQQQQ"
    machine_name = _MACHINES.get(machine, f"EM_{machine}")
    arch = _ARCHES.get(machine_name, machine_name.removeprefix("EM_").lower())
    # (type, flags, addr, offset, size, link, name offset) of each section
    raw: list[tuple[int, int, int, int, int, int, int]] = []
    if shoff and shentsize >= struct.calcsize(sh_fmt):
        if shnum == 0 and shoff + shentsize <= len(data):  # more than 0xff00 sections: count in entry 0
            shnum = _unpack_shdr(sh_fmt, data, shoff, bits)[4]
        for i in range(min(shnum, max(0, (len(data) - shoff) // shentsize))):
            name, stype, flags, addr, off, size, link = _unpack_shdr(
                sh_fmt, data, shoff + i * shentsize, bits
            )
            raw.append((stype, flags, addr, off, size, link, name))
        if shstrndx == 0xFFFF and raw:
            shstrndx = raw[0][5]
    names_at = raw[shstrndx][3] if 0 < shstrndx < len(raw) else None

    def name_of(n: int) -> str:
        if names_at is None:
            return ""
        end = data.find(b"\0", names_at + n)
        return data[names_at + n : end if end >= 0 else None].decode("latin-1")

    sections = [
        Section(
            name=name_of(name),
            addr=addr,
            offset=off,
            size=size,
            alloc=bool(flags & 2),
            execute=bool(flags & 4),
            write=bool(flags & 1),
            nobits=stype == _SHT_NOBITS,
        )
        for stype, flags, addr, off, size, _link, name in raw
    ]
    segments = []
    has_interp = False
    gnu_stack: int | None = None
    relro = False
    if phoff and phentsize >= struct.calcsize(ph_fmt):
        for i in range(min(phnum, max(0, (len(data) - phoff) // phentsize))):
            rec = struct.unpack_from(ph_fmt, data, phoff + i * phentsize)
            if bits == 32:
                t, p_off, vaddr, _pa, filesz, memsz, pflags, _al = rec
            else:
                t, pflags, p_off, vaddr, _pa, filesz, memsz, _al = rec
            if t == _PT_LOAD:
                segments.append((vaddr, memsz, p_off, filesz, pflags))
            elif t == _PT_INTERP:
                has_interp = True
            elif t == _PT_GNU_STACK:
                gnu_stack = pflags
            elif t == _PT_GNU_RELRO:
                relro = True
    headers = [(stype, off, size, link) for stype, _f, _a, off, size, link, _n in raw]
    imports: set[str] = set()
    defined: dict[int, str] = {}
    dynsyms: list[_Sym] = []
    for i, (stype, _off, _size, _link) in enumerate(headers):
        if stype not in (_SHT_DYNSYM, _SHT_SYMTAB):
            continue
        table = _symbols(data, headers, i, e, bits)
        if stype == _SHT_DYNSYM:
            dynsyms = table
        for sym in table:
            if sym.shndx == 0:
                if sym.name:
                    imports.add(sym.name)
            elif sym.type == 2 and sym.value:
                defined[sym.value] = sym.name
    tag_names = _DT_MIPS if machine_name == "EM_MIPS" else _DT_COMMON
    dynamic: dict[str, int] = {}
    for stype, off, size, _link in headers:
        if stype == _SHT_DYNAMIC:
            for tag, val in struct.iter_unpack(
                e + ("iI" if bits == 32 else "qQ"), data[off : off + size - size % (bits // 4)]
            ):
                dynamic[tag_names.get(tag, str(tag))] = val
                if tag == 0:  # DT_NULL ends the table
                    break
    slot_imports: dict[int, str] = {}
    # Relocatable objects (kernel modules) patch call sites, not GOT slots: nothing to name.
    relocatable = etype == 1
    for stype, off, size, link in headers if code and not relocatable else ():
        if stype not in (_SHT_REL, _SHT_RELA) or not 0 < link < len(headers):
            continue
        syms = dynsyms if headers[link][0] == _SHT_DYNSYM else _symbols(data, headers, link, e, bits)
        fmt = {
            (32, _SHT_REL): "II",
            (32, _SHT_RELA): "IIi",
            (64, _SHT_REL): "QQ",
            (64, _SHT_RELA): "QQq",
        }[(bits, stype)]
        ent = struct.calcsize(fmt)
        shift = 8 if bits == 32 else 32
        for rel in struct.iter_unpack(e + fmt, data[off : off + size - size % ent]):
            idx = rel[1] >> shift
            if 0 < idx < len(syms) and syms[idx].name:
                slot_imports[rel[0]] = syms[idx].name
    b = ElfBinary(
        data=data,
        arch=arch,
        bits=bits,
        little=little,
        entry=entry,
        elftype=_ELF_TYPES.get(etype, str(etype)).removeprefix("ET_").lower(),
        sections=sections,
        segments=segments,
        imports=imports,
        defined_functions=defined,
        slot_imports=slot_imports,
        has_interp=has_interp,
        dynamic=dynamic,
        gnu_stack_flags=gnu_stack,
        has_relro=relro,
    )
    b.code = code
    if code and arch == "mips":
        _mips_got(b, dynsyms)
        # MIPS lazy-binding stubs: an undefined function's st_value is its stub.
        b._mips_stubs = [
            (sym.value, sym.value + 16, sym.name)
            for sym in dynsyms
            if sym.shndx == 0 and sym.value and sym.name
        ]
    return b


@dataclass(frozen=True)
class _Sym:
    name: str
    value: int
    shndx: int
    type: int


def _unpack_shdr(fmt: str, data: bytes, at: int, bits: int) -> tuple[int, int, int, int, int, int, int]:
    """(name, type, flags, addr, offset, size, link) of the section header at `at`."""
    name, stype, flags, addr, off, size, link, *_rest = struct.unpack_from(fmt, data, at)
    return name, stype, flags, addr, off, size, link


def _symbols(data: bytes, headers: list[tuple[int, int, int, int]], i: int, e: str, bits: int) -> list[_Sym]:
    """A symbol table read with struct: pyelftools is too slow for libraries with thousands of symbols."""
    _t, off, size, link = headers[i]
    if not 0 <= link < len(headers):
        return []
    str_off, str_size = headers[link][1], headers[link][2]
    strtab = data[str_off : str_off + str_size]
    fmt = e + ("IIIBBH" if bits == 32 else "IBBHQQ")
    ent = struct.calcsize(fmt)
    out = []
    for rec in struct.iter_unpack(fmt, data[off : off + size - size % ent]):
        if bits == 32:
            name_off, value, _sz, info, _other, shndx = rec
        else:
            name_off, info, _other, shndx, value, _sz = rec
        end = strtab.find(b"\0", name_off)
        name = strtab[name_off : end if end >= 0 else None].decode("latin-1") if name_off else ""
        out.append(_Sym(name, value, shndx, info & 0xF))
    return out


def _mips_got(b: ElfBinary, dynsyms: list[_Sym]) -> None:
    got = b.dynamic.get("DT_PLTGOT")
    if got is None:
        return
    b.gp = got + 0x7FF0
    local = b.dynamic.get("DT_MIPS_LOCAL_GOTNO", 0)
    first = b.dynamic.get("DT_MIPS_GOTSYM", len(dynsyms))
    for i, sym in enumerate(dynsyms[first:]):
        if sym.name:
            b.slot_imports.setdefault(got + (local + i) * (b.bits // 8), sym.name)


def _eh_frame_hdr_starts(b: ElfBinary) -> list[int]:
    sec = next((s for s in b.sections if s.name == ".eh_frame_hdr"), None)
    if sec is None or sec.size < 12:
        return []
    d = b.data[sec.offset : sec.offset + sec.size]
    e = "<" if b.little else ">"
    # version 1; eh_frame_ptr pcrel|sdata4; fde_count udata4; table datarel|sdata4.
    if d[0] != 1 or d[2] != 0x03 or d[3] != 0x3B or d[1] & 0x0F != 0x0B:
        return []
    (count,) = struct.unpack_from(e + "I", d, 8)
    count = min(count, (len(d) - 12) // 8)
    return [sec.addr + loc for loc, _fde in struct.iter_unpack(e + "ii", d[12 : 12 + count * 8])]


def _as_words(d: bytes, little: bool, width: int = 4) -> Words:
    dt = np.dtype(("<" if little else ">") + {1: "u1", 2: "u2", 4: "u4", 8: "u8"}[width])
    return np.frombuffer(d, dtype=dt, count=len(d) // width).astype(np.int64)


def _match(w: Words, mask: int, value: int) -> Words:
    """Indices of the words with word & mask == value."""
    return np.flatnonzero((w & mask) == value)


def _signed_np(v: Words, bits: int) -> Words:
    v = v & ((1 << bits) - 1)
    return np.where(v >> (bits - 1) != 0, v - (1 << bits), v)


def _section_words(b: ElfBinary, s: Section, width: int = 4) -> tuple[Words, Words]:
    """(words, their virtual addresses) of a section."""
    w = b.words(s.offset, s.size, width)
    key = (s.offset, -width)  # the addresses, cached beside the words
    pcs = b._words.get(key)
    if pcs is None:
        pcs = b._words[key] = s.addr + width * np.arange(len(w), dtype=np.int64)
    return w, pcs


def _member(v: Words, table: Words) -> npt.NDArray[np.bool_]:
    """np.isin(v, table) for a sorted table, by binary search: several times faster on big v.
    Only values within the table's range are searched (string addresses are a narrow range)."""
    out = np.zeros(v.shape, dtype=bool)
    if not len(table):
        return out
    cand = np.flatnonzero((v >= table[0]) & (v <= table[-1]))
    if len(cand):
        sub = v[cand]
        i = np.minimum(np.searchsorted(table, sub), len(table) - 1)
        out[cand] = table[i] == sub
    return out


def _in_spans(starts: Words, ends: Words, v: Words) -> npt.NDArray[np.bool_]:
    i = np.searchsorted(starts, v, side="right") - 1
    return (i >= 0) & (v < ends[np.maximum(i, 0)])


def _mips_prologues(b: ElfBinary) -> list[int]:
    """PIC functions open with `lui $gp, hi; addiu $gp, $gp, lo; addu $gp, $gp, $t9`."""
    out: list[int] = []
    for s in b.text_sections():
        w, pcs = _section_words(b, s)
        i = _match(w[:-1], 0xFFFF0000, 0x3C1C0000)
        out.extend(pcs[i[(w[i + 1] >> 16) == 0x279C]].tolist())
    return out


def _x86_call_targets(b: ElfBinary) -> list[int]:
    """Stripped x86 without unwind tables: targets of `call rel32` and endbr64 landing pads."""
    out: list[int] = []
    for s in b.text_sections():
        d = b.data[s.offset : s.offset + s.size]
        lo, hi = s.addr, s.addr + s.size
        for m in re.finditer(rb"\xe8", d):
            pos = m.start()
            if pos + 5 <= len(d):
                (disp,) = struct.unpack_from("<i", d, pos + 1)
                t = s.addr + pos + 5 + disp
                if lo <= t < hi:
                    out.append(t)
        out.extend(s.addr + m.start() for m in re.finditer(rb"\xf3\x0f\x1e[\xfa\xfb]", d))
    return out


def _arm_prologues(b: ElfBinary) -> list[int]:
    """Stripped ARM without unwind tables: BL targets and `push {..., lr}` open functions."""
    out: list[int] = []
    for s in b.text_sections():
        d = b.data[s.offset : s.offset + s.size]
        if looks_thumb(d):
            h, hpcs = _section_words(b, s, 2)
            out.extend(hpcs[((h & 0xFF00) == 0xB500) | (h == 0xE92D)].tolist())
        w, pcs = _section_words(b, s)
        out.extend(pcs[((w & 0xFFFF4000) == 0xE92D4000) | (w == 0xE52DE004)].tolist())
        i = _match(w, 0xFF000000, 0xEB000000)
        out.extend((pcs[i] + 8 + (_signed_np(w[i] & 0xFFFFFF, 24) << 2)).tolist())
    return out


def _arm_exidx_starts(b: ElfBinary) -> list[int]:
    sec = next((s for s in b.sections if s.name == ".ARM.exidx"), None)
    if sec is None:
        return []
    e = "<" if b.little else ">"
    out = []
    d = b.data[sec.offset : sec.offset + sec.size - sec.size % 8]
    for i, (word, _x) in enumerate(struct.iter_unpack(e + "II", d)):
        rel = word & 0x7FFFFFFF
        if rel & 0x40000000:
            rel -= 0x80000000
        out.append((sec.addr + 8 * i + rel) & 0xFFFFFFFF)
    return out


def _plt_stubs(b: ElfBinary) -> list[tuple[int, int, str]]:
    """Each PLT stub jumps through a GOT slot; the slot's relocation names the import."""
    out: list[tuple[int, int, str]] = []
    for sec in b.sections:
        if sec.name not in (".plt", ".plt.sec", ".plt.got") or sec.nobits:
            continue
        fast = (
            _arm_plt_stubs(b, sec)
            if b.arch == "arm"
            else _x64_plt_stubs(b, sec)
            if b.arch == "x86_64"
            else []
        )
        if fast:
            out.extend(fast)
            continue
        code = b.data[sec.offset : sec.offset + sec.size]
        tracker = _Tracker(b, sec.addr)
        begin = sec.addr
        for addr, size, mnem, ops in tracker.disasm(code, sec.addr):
            slot = tracker.step(addr, size, mnem, ops)
            if isinstance(slot, tuple) and slot[0] == "jump":
                # a jump to the slot's address (ARM's ldr pc), or to what it loaded (AArch64's br x17)
                dest = slot[1]
                name = b.slot_imports.get(dest) if isinstance(dest, int) else None
                if isinstance(dest, tuple) and dest[0] == "imp":
                    name = str(dest[1])
                if name:
                    out.append((begin, addr + size, name))
                begin = addr + size
                tracker.reset()
    return out


def _x64_plt_stubs(b: ElfBinary, sec: Section) -> list[tuple[int, int, str]]:
    """The stubs of an x86-64 PLT in the standard layout, read from its bytes; [] for any other
    layout (the disassembling path then takes it). Same stubs as that path: one per `jmp [rip+X]`,
    from the end of the previous such jump to the end of this one."""
    d = b.data[sec.offset : sec.offset + sec.size]
    if sec.name == ".plt":
        regular = len(d) % 16 == 0 and len(d) >= 32 and d[0:2] == b"\xff\x35" and d[6:8] == b"\xff\x25"
        regular = regular and all(
            d[k : k + 2] == b"\xff\x25" and d[k + 6] == 0x68 and d[k + 11] == 0xE9
            for k in range(16, len(d), 16)
        )
        jumps = [6] + list(range(16, len(d), 16))
    elif sec.name == ".plt.got":
        regular = len(d) % 8 == 0 and len(d) >= 8
        regular = regular and all(
            d[k : k + 2] == b"\xff\x25" and d[k + 6 : k + 8] == b"\x66\x90" for k in range(0, len(d), 8)
        )
        jumps = list(range(0, len(d), 8))
    else:
        return []
    if not regular:
        return []
    out: list[tuple[int, int, str]] = []
    begin = sec.addr
    for k in jumps:
        end = sec.addr + k + 6
        (disp,) = struct.unpack_from("<i", d, k + 2)
        name = b.slot_imports.get(end + disp)
        if name:
            out.append((begin, end, name))
        begin = end
    return out


def _arm_rotated(w: Words) -> Words:
    """The value of an ARM data-processing immediate: imm8 rotated right by twice the rot field."""
    imm, rot = w & 0xFF, ((w >> 8) & 0xF) * 2
    return ((imm >> rot) | (imm << ((32 - rot) % 32))) & 0xFFFFFFFF


def _arm_plt_stubs(b: ElfBinary, sec: Section) -> list[tuple[int, int, str]]:
    """GNU ld's ARM PLT entries, `add ip, pc, #a; add ip, ip, #b; ldr pc, [ip, #c]!`, decoded
    from their encodings: the GOT slot is entry + 8 + a + b + c. [] when the section holds
    other entries (long PLT, other linkers): the caller disassembles those."""
    w, pcs = _section_words(b, sec)
    if len(w) < 3:
        return []
    i = np.flatnonzero(
        ((w[:-2] & 0xFFFFF000) == 0xE28FC000)
        & ((w[1:-1] & 0xFFFFF000) == 0xE28CC000)
        & ((w[2:] & 0xFFFFF000) == 0xE5BCF000)
    )
    slots = pcs[i] + 8 + _arm_rotated(w[i]) + _arm_rotated(w[i + 1]) + (w[i + 2] & 0xFFF)
    out: list[tuple[int, int, str]] = []
    begin = sec.addr  # like the disassembling path: a stub runs from the previous one's end
    for pc, slot in zip(pcs[i].tolist(), slots.tolist(), strict=True):
        name = b.slot_imports.get(slot)
        if name:
            out.append((begin, pc + 12, name))
        begin = pc + 12
    return out


# ---------------------------------------------------------------------------
# The tracker


# What an instruction handler raises on operand text it cannot read: the instruction is skipped.
_HANDLER_ERRORS = (ValueError, IndexError, TypeError, OverflowError)


def _imm(text: str) -> int | None:
    t = text.strip().lstrip("#$").strip()
    try:
        return int(t, 0)
    except ValueError:
        return None


def _operand_list(ops: str) -> list[str]:
    return _split_ops(ops) if "[" in ops or "(" in ops else ops.split(", ") if ops else []


# A comma not inside brackets: capstone's operand text never nests them.
_OPERAND_COMMA = re.compile(r",(?![^\[(]*[\])])")


def _split_ops(ops: str) -> list[str]:
    return [x.strip() for x in _OPERAND_COMMA.split(ops)] if ops.strip() else []


@functools.lru_cache(maxsize=8192)
def _arm_mem(text: str) -> tuple[str, int, str] | None:
    """(base register, offset, "!" for write-back) of an ARM/AArch64 memory operand."""
    mm = _ARM_MEM.match(text)
    return (mm.group(1), int(mm.group(2) or "0", 0), mm.group(3)) if mm else None


@functools.lru_cache(maxsize=8192)
def _mips_mem(text: str) -> tuple[str, int] | None:
    """(base register, offset) of a MIPS memory operand."""
    mm = _MIPS_MEM.search(text)
    return (mm.group(2), int(mm.group(1) or "0", 0)) if mm else None


@functools.lru_cache(maxsize=8192)
def _x86_mem_parts(text: str) -> tuple[int, int, tuple[str, ...]] | None:
    """(access size or 0 for the word size, displacement, added registers) of an x86 memory
    operand; None for none, or for a scaled index the tracker does not follow."""
    mm = _X86_MEM.search(text)
    if not mm:
        return None
    disp = 0
    regs: list[str] = []
    for p in re.findall(r"[+-]?[^+-]+", mm.group(2).replace(" ", "")):
        sign = -1 if p.startswith("-") else 1
        p = p.lstrip("+-")
        v = _imm(p)
        if v is not None:
            disp += sign * v
        elif "*" in p:
            return None
        else:
            regs.append(p)
    return _SIZE.get(mm.group(1) or "", 0), disp, tuple(regs)


_X86_MEM = re.compile(r"(?:(byte|word|dword|qword) ptr )?(?:\w+:)?\[([^\]]+)\]")
_ARM_MEM = re.compile(r"\[(\w+)(?:, #(-?0x[0-9a-f]+|-?\d+))?\](!?)")
_MIPS_MEM = re.compile(r"(-?0x[0-9a-f]+|-?\d+)?\((\$\w+)\)")


class _Tracker:
    """Per-function register/stack state; step() interprets one instruction."""

    def __init__(self, b: ElfBinary, start: int, thumb: bool = False) -> None:
        self.b = b
        self.arch = b.arch
        self.thumb = thumb
        self.mask = (1 << b.bits) - 1
        self.endian: Endian = "little" if b.little else "big"
        md = b._disassemblers.get(thumb)
        if md is None:
            md = b._disassemblers[thumb] = self._disassembler(b, thumb)
        self.md = md
        self._op = getattr(self, "_" + b.arch.replace("x86_64", "x64"))
        self._alias = _X86_ALIAS if b.arch == "x86_64" else _ARM_ALIAS if b.arch == "arm" else None
        # literal fragments copied into stack buffers, by buffer offset (see _compose)
        self.pieces: dict[int, tuple[StringRef, ...]] = {}
        self._next = 0  # the address after the x86 instruction being interpreted (rip)
        self.reset()

    @staticmethod
    def _disassembler(b: ElfBinary, thumb: bool) -> cs.Cs:
        md: cs.Cs
        mode: int
        if b.arch == "mips":
            mode = cs.CS_MODE_MIPS32 if b.bits == 32 else cs.CS_MODE_MIPS64
            mode |= cs.CS_MODE_LITTLE_ENDIAN if b.little else cs.CS_MODE_BIG_ENDIAN
            md = cs.Cs(cs.CS_ARCH_MIPS, mode)
        elif b.arch == "arm":
            mode = cs.CS_MODE_THUMB if thumb else cs.CS_MODE_ARM
            mode |= cs.CS_MODE_LITTLE_ENDIAN if b.little else cs.CS_MODE_BIG_ENDIAN
            md = cs.Cs(cs.CS_ARCH_ARM, mode)
        elif b.arch == "aarch64":
            md = cs.Cs(cs.CS_ARCH_ARM64, cs.CS_MODE_ARM)
        elif b.arch == "x86_64":
            md = cs.Cs(cs.CS_ARCH_X86, cs.CS_MODE_64)
        else:
            md = cs.Cs(cs.CS_ARCH_X86, cs.CS_MODE_32)
        md.skipdata = True
        return md

    def disasm(self, code: bytes, addr: int) -> Iterator[tuple[int, int, str, str]]:
        return self.md.disasm_lite(code, addr)

    def reset(self) -> None:
        self.regs: dict[str, Value] = {}
        self.stack: dict[int, Value] = {}  # stack offset -> stored word value
        self.sbytes: dict[int, int] = {}  # stack offset -> known byte
        self.pushed: list[Value] = []
        self.regs[_SP.get(self.arch, "sp")] = ("sp", 0)
        if self.arch == "mips" and self.b.gp is not None:
            self.regs["$gp"] = self.b.gp
        if self.arch == "x86":
            gotplt = next((s.addr for s in self.b.sections if s.name == ".got.plt"), None)
            if gotplt is not None:
                self.regs["ebx"] = gotplt

    # -- register access -------------------------------------------------
    def reg(self, name: str) -> str:
        """The register's canonical name (operand text comes stripped)."""
        alias = self._alias
        if alias is not None:
            return alias.get(name, name)
        if self.arch == "aarch64":
            if name.startswith("w") and name[1:].isdigit():
                return "x" + name[1:]
            return "sp" if name == "wsp" else name
        return name

    def get(self, op: str) -> Value:
        op = op.strip()
        if op and op[0] in "#-0123456789":
            return _imm(op)
        r = self.reg(op)
        if r in ("$zero", "xzr", "wzr"):
            return 0
        return self.regs.get(r)

    def set(self, op: str, value: Value) -> None:
        r = self.reg(op)
        if self.arch == "mips" and r in ("$gp", "$zero"):
            return
        if self.arch == "x86" and r == "ebx" and value is None:
            return
        if isinstance(value, int):
            value &= self.mask
        self.regs[r] = value

    def add(self, a: Value, b: Value) -> Value:
        if isinstance(a, int) and isinstance(b, int):
            return (a + b) & self.mask
        if isinstance(a, tuple) and a[0] == "sp" and isinstance(b, int):
            return ("sp", a[1] + _signed(b, self.b.bits))
        if isinstance(b, tuple) and b[0] == "sp" and isinstance(a, int):
            return ("sp", b[1] + _signed(a, self.b.bits))
        if isinstance(a, tuple) and a[0] == "ret" and isinstance(b, int):
            return ("ptr", a, b)
        if isinstance(a, tuple) and a[0] == "ptr" and isinstance(b, int):
            return ("ptr", a[1], a[2] + b)
        return None

    def load(self, base: Value, off: int, size: int) -> Value:
        """Value of a memory load from base+off."""
        addr = self.add(base, off)
        if isinstance(addr, int):
            # constant addresses: the answer depends on the file alone, so is kept per binary
            key = (addr, size)
            if key in self.b._loads:
                return self.b._loads[key]
            name = self.b.slot_imports.get(addr)
            value: Value = None
            if name:
                value = ("imp", name)
            else:
                sec = self.b.section_at(addr)
                if (
                    sec is not None
                    and not sec.nobits
                    and not (sec.write and sec.name not in (".got", ".got.plt"))
                ):
                    value = self.b.word(addr, size)
            self.b._loads[key] = value
            return value
        if isinstance(addr, tuple) and addr[0] == "sp":
            if size >= 4 and addr[1] in self.stack:
                return self.stack[addr[1]]
            return ("ld", "sp", addr[1], size)
        if base is None:
            return None
        if isinstance(base, tuple) and base[0] == "ptr":
            return ("ld", base[1], base[2] + off, size)
        return ("ld", base, off, size)

    def store(self, base: Value, off: int, size: int, value: Value) -> None:
        addr = self.add(base, off)
        if not (isinstance(addr, tuple) and addr[0] == "sp"):
            return
        o = addr[1]
        self.stack[o] = value
        if isinstance(value, int):
            for i, byte in enumerate((value & ((1 << (8 * size)) - 1)).to_bytes(size, self.endian)):
                self.sbytes[o + i] = byte
        else:
            for i in range(size):
                self.sbytes.pop(o + i, None)

    def clobber(self, ret: Value) -> None:
        for r in _CLOBBER.get(self.arch, ()):
            self.regs.pop(r, None)
        self.regs[_RET[self.arch]] = ret

    def args(self) -> list[Value]:
        if self.arch == "x86":
            sp = self.regs.get("esp")
            base = sp[1] if isinstance(sp, tuple) and sp[0] == "sp" else 0
            return [self.stack.get(base + 4 * i) for i in range(4)]
        regs = [self.regs.get(r) for r in _ARG_REGS[self.arch]]
        sp = self.regs.get(_SP[self.arch])
        base = sp[1] if isinstance(sp, tuple) and sp[0] == "sp" else None
        if self.arch in ("mips", "arm") and base is not None:
            # o32 reserves 16 bytes of home space for a0-a3; AAPCS passes the 5th word at [sp]
            first = base + (16 if self.arch == "mips" else 0)
            regs += [self.stack.get(first + 4 * i) for i in range(4)]
        elif self.arch == "x86_64":
            regs += [self.regs.get("r8"), self.regs.get("r9")]
        elif self.arch == "aarch64":
            regs += [self.regs.get(f"x{i}") for i in range(4, 8)]
        return regs

    # -- one instruction -----------------------------------------------
    def step(self, addr: int, size: int, mnem: str, ops: str) -> Any:
        """Interpret one instruction. Returns ("call", target), ("jump", slot), ("cmp", a, b) or None."""
        try:
            o = self.b._operands.get(ops)
            if o is None:
                o = self.b._operands[ops] = _operand_list(ops)
            return self._op(addr, size, mnem, o)
        except _HANDLER_ERRORS:
            return None

    def _mips(self, addr: int, size: int, m: str, o: list[str]) -> Any:
        if m == "lui":
            self.set(o[0], (_imm(o[1]) or 0) << 16)
        elif m in ("addiu", "addi", "daddiu", "ori") and len(o) == 3:
            imm = _imm(o[2]) or 0
            base = self.get(o[1])
            if m == "ori":
                self.set(o[0], base | imm if isinstance(base, int) else None)
            else:
                self.set(o[0], self.add(base, imm))
        elif m in ("addu", "daddu", "or") and len(o) == 3:
            a, b2 = self.get(o[1]), self.get(o[2])
            self.set(o[0], a if b2 == 0 else b2 if a == 0 else self.add(a, b2))
        elif m == "move":
            self.set(o[0], self.get(o[1]))
        elif m in ("li",):
            self.set(o[0], _imm(o[1]))
        elif m in ("lw", "ld", "lh", "lhu", "lb", "lbu"):
            mm = _mips_mem(o[1])
            if mm:
                sz = {"lw": 4, "ld": 8, "lh": 2, "lhu": 2, "lb": 1, "lbu": 1}[m]
                self.set(o[0], self.load(self.get(mm[0]), mm[1], sz))
        elif m in ("sw", "sd", "sh", "sb"):
            mm = _mips_mem(o[1])
            if mm:
                sz = {"sw": 4, "sd": 8, "sh": 2, "sb": 1}[m]
                self.store(self.get(mm[0]), mm[1], sz, self.get(o[0]))
        elif m in ("jalr", "jal", "bal", "jr", "j", "b"):
            tgt = self.get(o[-1]) if m in ("jalr", "jr") else _imm(o[-1])
            if m in ("jalr", "jal", "bal"):
                return ("call", tgt)
            if m == "jr" and o[-1] != "$ra":
                return ("jump", tgt)
        elif m in ("beq", "bne") and len(o) == 3:
            return ("cmp", self.get(o[0]), self.get(o[1]))
        elif m in ("xor", "subu") and len(o) == 3:
            self.set(o[0], None)
            return ("cmp", self.get(o[1]), self.get(o[2]))
        elif m in ("xori",) and len(o) == 3:
            self.set(o[0], None)
            return ("cmp", self.get(o[1]), _imm(o[2]))
        elif (
            m in ("sltiu",)
            or o
            and o[0].startswith("$")
            and m not in ("sw", "sb", "sh", "sd")
            and not m.startswith("b")
        ):
            self.set(o[0], None)
        return None

    def _arm_imm(self, o: list[str], i: int) -> int | None:
        v = _imm(o[i]) if i < len(o) else None
        if v is not None and i + 1 < len(o):
            rot = _imm(o[i + 1])
            if rot is not None and o[i + 1].startswith("#"):
                v = ((v >> rot) | (v << (32 - rot))) & 0xFFFFFFFF
        return v

    def _pc(self, addr: int) -> int:
        return addr + (4 if self.thumb else 8)

    def _arm(self, addr: int, size: int, m: str, o: list[str]) -> Any:
        base_m = m.rstrip(".w").removesuffix(".n")
        if base_m.startswith(("bl", "blx")) and base_m in ("bl", "blx"):
            tgt = _imm(o[0]) if o[0].startswith("#") else self.get(o[0])
            return ("call", tgt)
        if base_m in ("b", "bx") and o:
            if o[0] == "lr":
                return None
            return None if o[0].startswith("#") else ("jump", self.get(o[0]))
        if base_m == "ldr" and o[0] == "pc":
            mm = _arm_mem(o[1])
            if mm:
                base = self._arm_reg_value(mm[0], addr)
                slot = self.add(base, mm[1])
                return ("jump", slot)
            return None
        if base_m in ("ldr", "ldrb", "ldrh", "ldrsb", "ldrsh") and len(o) >= 2:
            mm = _arm_mem(o[1])
            if mm:
                sz = {"ldr": 4, "ldrb": 1, "ldrh": 2, "ldrsb": 1, "ldrsh": 2}[base_m]
                r = mm[0]
                off = mm[1]
                if r == "pc":
                    pc = self._pc(addr) & ~3
                    self.set(o[0], self.b.word(pc + off, sz))
                else:
                    self.set(o[0], self.load(self.get(r), off, sz))
                    if mm[2] == "!":
                        self.set(r, self.add(self.get(r), off))
            else:
                self.set(o[0], None)
            return None
        if base_m in ("str", "strb", "strh") and len(o) >= 2:
            mm = _arm_mem(o[1])
            if mm:
                sz = {"str": 4, "strb": 1, "strh": 2}[base_m]
                self.store(self.get(mm[0]), mm[1], sz, self.get(o[0]))
            return None
        if base_m == "strd" and len(o) >= 3:
            mm = _arm_mem(o[2])
            if mm:
                base = self.get(mm[0])
                off = mm[1]
                self.store(base, off, 4, self.get(o[0]))
                self.store(base, off + 4, 4, self.get(o[1]))
            return None
        if base_m in ("mov", "movs") and len(o) == 2:
            self.set(o[0], self.get(o[1]) if not o[1].startswith("#") else self._arm_imm(o, 1))
            return None
        if base_m in ("movw",):
            self.set(o[0], _imm(o[1]))
            return None
        if base_m == "movt":
            lo = self.get(o[0])
            self.set(o[0], ((_imm(o[1]) or 0) << 16) | (lo & 0xFFFF) if isinstance(lo, int) else None)
            return None
        if base_m in ("mvn",):
            v = self._arm_imm(o, 1) if o[1].startswith("#") else None
            self.set(o[0], (~v) & 0xFFFFFFFF if v is not None else None)
            return None
        if base_m == "adr":
            self.set(o[0], ((self._pc(addr) & ~3) + (_imm(o[1]) or 0)))
            return None
        if base_m in ("add", "adds", "sub", "subs", "orr") and len(o) >= 2:
            if len(o) == 2:
                o = [o[0], o[0], o[1]]
            a = self._arm_reg_value(o[1], addr)
            b = self._arm_imm(o, 2) if o[2].startswith("#") else self._arm_reg_value(o[2], addr)
            if base_m[-2:] in _ARM_CONDITIONS:
                self.set(o[0], None)
            elif base_m.startswith("sub"):
                self.set(
                    o[0], self.add(a, -b if isinstance(b, int) else None) if isinstance(b, int) else None
                )
            elif base_m == "orr":
                self.set(o[0], a | b if isinstance(a, int) and isinstance(b, int) else None)
            else:
                self.set(o[0], self.add(a, b))
            return None
        if base_m in ("cmp", "cmn") and len(o) == 2:
            b = self._arm_imm(o, 1) if o[1].startswith("#") else self.get(o[1])
            return ("cmp", self.get(o[0]), b)
        if base_m in ("eor", "eors") and len(o) == 3:
            res = ("cmp", self.get(o[1]), self._arm_imm(o, 2) if o[2].startswith("#") else self.get(o[2]))
            self.set(o[0], None)
            return res
        if base_m in ("ldm", "ldmia") and o and o[0].rstrip("!") != "sp":
            base = self.get(o[0].rstrip("!"))
            regs = re.findall(r"\w+", ops_join(o[1:]))
            for i, r in enumerate(regs):
                # a small struct or string copied from .rodata word by word
                self.set(r, self.load(base, 4 * i, 4) if isinstance(base, int) else None)
            return None
        if base_m in ("push", "pop", "stm", "stmdb", "ldm", "ldmia"):
            if base_m.startswith(("pop", "ldm")):
                for r in re.findall(r"\w+", ops_join(o[1:] if base_m.startswith("ldm") else o)):
                    self.regs.pop(self.reg(r), None)
            return None
        if o and not base_m.startswith(("c", "t", "st", "b", "push")):
            self.set(o[0], None)
        return None

    def _arm_reg_value(self, r: str, addr: int) -> Value:
        return self._pc(addr) if r == "pc" else self.get(r)

    def _aarch64(self, addr: int, size: int, m: str, o: list[str]) -> Any:
        if m in ("adrp", "adr"):
            self.set(o[0], _imm(o[1]))
        elif m in ("add", "sub") and len(o) == 3:
            a = self.get(o[1])
            b = self.get(o[2])
            if m == "sub":
                b = -b if isinstance(b, int) else None
            self.set(o[0], self.add(a, b) if b is not None else None)
        elif m in ("mov",) and len(o) == 2:
            self.set(o[0], self.get(o[1]))
        elif m == "movz" or (m == "mov" and o[1].startswith("#")):
            self.set(o[0], _imm(o[1]))
        elif m == "movk" and len(o) >= 2:
            cur = self.get(o[0])
            shift = int(re.sub(r"[^0-9x]", "", o[2].split("#")[-1]) or "0", 0) if len(o) > 2 else 0
            imm = _imm(o[1]) or 0
            if isinstance(cur, int):
                cur = (cur & ~(0xFFFF << shift)) | (imm << shift)
            self.set(o[0], cur if isinstance(cur, int) else None)
        elif m in ("ldr", "ldrb", "ldrh", "ldur", "ldrsw") and len(o) >= 2:
            mm = _arm_mem(o[1])
            sz = {"ldrb": 1, "ldrh": 2, "ldrsw": 4}.get(m, 8 if o[0].startswith("x") else 4)
            if mm:
                off = mm[1]
                self.set(o[0], self.load(self.get(mm[0]), off, sz))
                if mm[2] == "!":
                    self.set(mm[0], self.add(self.get(mm[0]), off))
            elif o[1].startswith("#"):
                self.set(o[0], self.load(_imm(o[1]), 0, sz))
            else:
                self.set(o[0], None)
        elif m in ("str", "strb", "strh", "stur") and len(o) >= 2:
            mm = _arm_mem(o[1])
            if mm:
                sz = {"strb": 1, "strh": 2}.get(m, 8 if o[0].startswith("x") else 4)
                self.store(self.get(mm[0]), mm[1], sz, self.get(o[0]))
        elif m == "stp" and len(o) >= 3:
            mm = _arm_mem(o[2])
            if mm:
                sz = 8 if o[0].startswith("x") else 4
                base = self.get(mm[0])
                off = mm[1]
                self.store(base, off, sz, self.get(o[0]))
                self.store(base, off + sz, sz, self.get(o[1]))
        elif m in ("bl", "blr"):
            return ("call", _imm(o[0]) if m == "bl" else self.get(o[0]))
        elif m == "br":
            return ("jump", self.get(o[0]))
        elif m in ("cmp", "cmn") and len(o) == 2:
            return ("cmp", self.get(o[0]), self.get(o[1]))
        elif m in ("eor",) and len(o) == 3:
            res = ("cmp", self.get(o[1]), self.get(o[2]))
            self.set(o[0], None)
            return res
        elif m in ("ldp",) and len(o) >= 2:
            self.set(o[0], None)
            self.set(o[1], None)
        elif (
            o
            and m not in ("ret", "b", "cbz", "cbnz", "tbz", "tbnz", "nop")
            and not m.startswith(("b.", "st"))
        ):
            self.set(o[0], None)
        return None

    def _x86_mem(self, text: str) -> tuple[Value, int, int] | None:
        parsed = _x86_mem_parts(text)
        if parsed is None:
            return None
        size, disp, regs = parsed
        base: Value = 0
        for r in regs:
            base = self.add(base, self._next if r == "rip" else self.regs.get(self.reg(r)))
        return base, disp, size or self.b.bits // 8

    def _x64(self, addr: int, size: int, m: str, o: list[str]) -> Any:
        return self._x86(addr, size, m, o)

    def _x86(self, addr: int, size: int, m: str, o: list[str]) -> Any:
        self._next = addr + size
        if m in ("call", "jmp"):
            if "[" in o[0]:
                mem = self._x86_mem(o[0])
                slot = self.add(mem[0], mem[1]) if mem else None
                if m == "jmp":
                    return ("jump", slot)
                name = self.b.slot_imports.get(slot) if isinstance(slot, int) else None
                return ("call", ("imp", name) if name else None)
            if m == "call":
                v = _imm(o[0])
                return ("call", v if v is not None else self.get(o[0]))
            return None
        if m == "lea" and len(o) == 2:
            mem = self._x86_mem(o[1])
            self.set(o[0], self.add(mem[0], mem[1]) if mem else None)
            return None
        if m in ("mov", "movabs", "movzx", "movsx", "movsxd") and len(o) == 2:
            if "[" in o[0]:
                mem = self._x86_mem(o[0])
                if mem:
                    self.store(mem[0], mem[1], mem[2], self.get(o[1]))
                return None
            if "[" in o[1]:
                mem = self._x86_mem(o[1])
                self.set(o[0], self.load(mem[0], mem[1], mem[2]) if mem else None)
                return None
            self.set(o[0], self.get(o[1]))
            return None
        if m == "push" and self.arch == "x86":
            sp = self.regs.get("esp")
            if isinstance(sp, tuple):
                self.regs["esp"] = ("sp", sp[1] - 4)
                self.store(self.regs["esp"], 0, 4, self.get(o[0]) if "[" not in o[0] else None)
            return None
        if m in ("add", "sub") and len(o) == 2 and "[" not in o[0]:
            b = self.get(o[1]) if "[" not in o[1] else None
            if m == "sub":
                b = -b if isinstance(b, int) else None
            if self.arch == "x86" and o[0] == "ebx" and isinstance(b, int):
                return None  # the PIC GOT pointer is set from the thunk: keep it
            self.set(o[0], self.add(self.get(o[0]), b) if b is not None else None)
            return None
        if m == "cmp" and len(o) == 2:
            a = self._x86_operand(o[0])
            b = self._x86_operand(o[1])
            return ("cmp", a, b)
        if m == "xor" and len(o) == 2:
            a = self._x86_operand(o[0])
            b = self._x86_operand(o[1])
            self.set(o[0], 0 if o[0] == o[1] else None) if "[" not in o[0] else None
            return ("cmp", a, b) if o[0] != o[1] else None
        if o and "[" not in o[0] and m not in ("test", "push", "nop", "ret") and not m.startswith("j"):
            self.set(o[0], None)
        return None

    def _x86_operand(self, text: str) -> Value:
        if "[" in text:
            mem = self._x86_mem(text)
            return self.load(mem[0], mem[1], mem[2]) if mem else None
        return self.get(text)


def ops_join(o: list[str]) -> str:
    return ",".join(o)


def _signed(v: int, bits: int) -> int:
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


# ---------------------------------------------------------------------------
# Function analysis


Focus = Callable[[int, int], list[tuple[int, int]] | None]


def analyze(
    b: ElfBinary,
    want_function: Any = None,
    max_instructions: int = 400_000,
    only: Iterable[int] | None = None,
    require: Iterable[int] | None = None,
    focus: Focus | None = None,
) -> list[FunctionFacts]:
    """Walk functions once each: their string references, calls and compares against literals.

    only: walk just the functions holding these addresses (see referencing_functions);
    require: and of those, just the ones that also hold one of these (see call_sites);
    focus(start, end): the address ranges of a function worth walking, each from a fresh state
    (None: all of it; []: none), so that a huge function costs only its interesting parts.
    want_function(facts) -> bool may drop functions early (only kept ones are returned).
    """
    out: list[FunctionFacts] = []
    budget = max_instructions
    for start, end, sec in _holding(function_bounds(b), [x for x in (only, require) if x is not None]):
        if budget <= 0:
            break
        ranges = focus(start, end) if focus is not None else None
        facts = FunctionFacts(start, end)
        seen: set[int] = set()
        for lo, hi in [(start, end)] if ranges is None else ranges:
            off = sec.offset + (lo - sec.addr)
            code = b.data[off : off + (hi - lo)]
            tracker = _Tracker(b, lo, b.arch == "arm" and looks_thumb(code))
            part, n = _walk(b, tracker, code, lo, hi)
            budget -= n
            facts.strings.extend(r for r in part.strings if r.vaddr not in seen)
            seen.update(r.vaddr for r in part.strings)
            facts.calls.extend(part.calls)
            facts.compares.extend(dataclasses.replace(c, function=start) for c in part.compares)
        if want_function is None or want_function(facts):
            out.append(facts)
    return out


def _holding(
    bounds: list[tuple[int, int, Section]], filters: list[Iterable[int]]
) -> list[tuple[int, int, Section]]:
    """The functions, in their order, that hold at least one address of every filter."""
    if not filters:
        return bounds
    order = sorted(range(len(bounds)), key=lambda i: bounds[i][0])
    starts = [bounds[i][0] for i in order]
    keep: set[int] | None = None
    for addresses in filters:
        hit = set()
        for a in addresses:
            j = bisect.bisect_right(starts, a) - 1
            if j >= 0 and a < bounds[order[j]][1]:
                hit.add(order[j])
        keep = hit if keep is None else keep & hit
    return [bounds[i] for i in sorted(keep or ())]


def looks_thumb(code: bytes) -> bool:
    """ARM-mode code is mostly unconditional (condition nibble 0xE); Thumb code read as words is not."""
    words = len(code) // 4
    if words == 0:
        return False
    top = np.frombuffer(code, dtype=np.uint8, count=words * 4)[3::4]
    return int(np.count_nonzero((top & 0xF0) == 0xE0)) < words * 0.45


def function_bounds(b: ElfBinary) -> list[tuple[int, int, Section]]:
    """(start, end, section) of each function: symbols, .eh_frame_hdr, .ARM.exidx, MIPS prologues."""
    starts = b.function_starts()  # sorted
    out: list[tuple[int, int, Section]] = []
    for sec in b.text_sections():
        lo = bisect.bisect_left(starts, sec.addr)
        sec_starts = starts[lo : bisect.bisect_left(starts, sec.addr + sec.size)] or [sec.addr]
        if sec_starts[0] != sec.addr:
            sec_starts.insert(0, sec.addr)
        for start, end in zip(sec_starts, sec_starts[1:] + [sec.addr + sec.size], strict=True):
            out.append((start, end, sec))
    return out


_TAIL = re.compile(rb"^|(?<=[^A-Za-z0-9_])(?=[A-Za-z0-9_])")


def referencing_functions(b: ElfBinary, targets: Iterable[StringRef]) -> set[int]:
    """Addresses of code that may reference any target string: a cheap over-approximation.

    Scans instruction encodings (MIPS addiu low halves, ARM/Thumb literal pools and movw,
    AArch64 adrp+add, x86 rip-relative and GOT-relative displacements, absolute words)
    without disassembling, so that only the functions involved need the full walk.
    """
    targets = list(targets)
    spans = sorted((t.vaddr, t.vaddr + max(1, len(t.text))) for t in targets)
    if not spans:
        return set()
    # MIPS matches addiu's low 16 bits only: every byte of thousands of strings would match most
    # of them. Linkers merge a string into the tail of a longer one, so a reference may point
    # inside one; such tails start a word.
    tails = {t.vaddr + m.end() for t in targets for m in _TAIL.finditer(t.text)}
    starts = np.array([s for s, _ in spans], dtype=np.int64)
    ends = np.array([e for _, e in spans], dtype=np.int64)

    out: set[int] = set()
    for sec in b.text_sections():
        d = b.data[sec.offset : sec.offset + sec.size]
        # absolute addresses: non-PIC literal pools and immediates
        if b.arch in ("mips", "arm") and b.bits == 32:
            w, pcs = _section_words(b, sec)
            out.update(pcs[_member(w, starts)].tolist())
        elif b.arch in ("x86_64", "x86"):
            u8, v32 = _x86_section(b, sec)  # imm32, or the low half of a movabs imm64
            out.update((sec.addr + np.flatnonzero(_member(v32, starts))).tolist())
        elif b.arch == "aarch64":
            w, pcs = _section_words(b, sec)
            out.update(pcs[_member(w, starts)].tolist())
        else:
            for s, _end in spans:
                needle = s.to_bytes(b.bits // 8, "little" if b.little else "big")
                pos = d.find(needle)
                while pos >= 0:
                    out.add(sec.addr + pos)
                    pos = d.find(needle, pos + 1)
        if b.arch == "mips":
            w, pcs = _section_words(b, sec)
            lows = np.array(sorted({a & 0xFFFF for a in tails}), dtype=np.int64)
            op = w & 0xFC000000
            sel = ((op == 0x24000000) | (op == 0x64000000)) & _member(w & 0xFFFF, lows)  # (d)addiu
            out.update(pcs[sel].tolist())
        elif b.arch == "aarch64":
            w, pcs = _section_words(b, sec)
            i = _match(w, 0x9F000000, 0x90000000)  # adrp
            imm = ((w[i] >> 29) & 3) | (((w[i] >> 5) & 0x7FFFF) << 2)
            page = (pcs[i] & ~0xFFF) + (_signed_np(imm, 21) << 12)
            for k in range(1, 4):
                j = np.minimum(i + k, len(w) - 1)
                w2 = w[j]
                sel = ((w2 & 0xFF800000) == 0x91000000) & (i + k < len(w))
                sel &= _in_spans(starts, ends, page + ((w2 >> 10) & 0xFFF))
                out.update(pcs[i[sel]].tolist())
        elif b.arch == "arm":
            out |= _arm_refs(b, sec, spans, starts, ends)
        elif b.arch == "x86_64":
            # rip-relative lea/mov: [REX] 8d|8b modrm(mod=00, rm=101) disp32
            u8, v32 = _x86_section(b, sec)
            n = len(u8) - 5
            p = np.flatnonzero(((u8[:n] == 0x8D) | (u8[:n] == 0x8B)) & _RIP_MODRM[u8[1 : n + 1]])
            target = sec.addr + p + 6 + _s32(v32[p + 2])
            out.update((sec.addr + p[_in_spans(starts, ends, target)]).tolist())
        elif b.arch == "x86":
            got = next((x.addr for x in b.sections if x.name == ".got.plt"), None)
            if got is not None:  # PIC: lea reg, [ebx + disp32] off the GOT pointer
                u8, v32 = _x86_section(b, sec)
                n = len(u8) - 5
                p = np.flatnonzero((u8[:n] == 0x8D) & _EBX_MODRM[u8[1 : n + 1]])
                target = (got + _s32(v32[p + 2])) & 0xFFFFFFFF
                out.update((sec.addr + p[_in_spans(starts, ends, target)]).tolist())
    return out


# ModRM bytes of [rip+disp32] and of [ebx+disp32], any register: tables indexed by the byte
_RIP_MODRM = np.isin(np.arange(256), [0x05, 0x0D, 0x15, 0x1D, 0x25, 0x2D, 0x35, 0x3D])
_EBX_MODRM = np.isin(np.arange(256), [0x83, 0x8B, 0x93, 0x9B, 0xA3, 0xAB, 0xB3, 0xBB])


def _x86_section(b: ElfBinary, sec: Section) -> tuple[npt.NDArray[np.uint8], Words]:
    """(bytes, the little-endian 32-bit value at every offset) of a section: x86 is not aligned."""
    code = memoryview(b.data)[sec.offset : sec.offset + sec.size]
    u8 = np.frombuffer(code, dtype=np.uint8)
    key = (sec.offset, 0)
    v32 = b._words.get(key)
    if v32 is None:
        # one unaligned, overlapping view (a stride of one byte) read in one pass
        n = max(0, len(code) - 3)
        v32 = np.ndarray((n,), dtype="<u4", buffer=code, strides=(1,)).astype(np.int64)
        b._words[key] = v32
    return u8, v32


def _s32(v: Words) -> Words:
    return (v ^ 0x80000000) - 0x80000000


def _arm_refs(
    b: ElfBinary, sec: Section, spans: list[tuple[int, int]], starts: Words, ends: Words
) -> set[int]:
    out: set[int] = set()
    lows = np.array(sorted({s & 0xFFFF for s, _ in spans}), dtype=np.int64)
    # PIC pools hold (string - pc); the matching `add rY, pc, rX` (or `rX, pc`) follows the load
    # within a few words, and only an add of that register counts: any add in the window would let
    # every string within 48 bytes of a prompt pass for it. Both instruction sets: ARM and Thumb
    # functions share a section.
    w, pcs = _section_words(b, sec)
    i = _match(w, 0x0F7F0000, 0x051F0000)  # ldr rX, [pc, #+-imm12]
    pc, imm = pcs[i], w[i] & 0xFFF
    v = b.words_at(pc + 8 + np.where(w[i] & 0x00800000 != 0, imm, -imm))
    found = _in_spans(starts, ends, v)
    rx = (w[i] >> 12) & 0xF
    for k in range(1, 12):
        j = np.minimum(i + k, len(w) - 1)
        a = w[j]
        rn, rm = (a >> 16) & 0xF, a & 0xF
        pic_add = ((a & 0x0FE00FF0) == 0x00800000) & (((rn == 15) & (rm == rx)) | ((rn == rx) & (rm == 15)))
        pic_add &= (a >> 28) != 0xF
        found |= pic_add & (i + k < len(w)) & _in_spans(starts, ends, (v + pcs[j] + 8) & 0xFFFFFFFF)
    out.update(pc[found & (v >= 0)].tolist())
    i = _match(w, 0x0FF00000, 0x03000000)  # movw
    out.update(pcs[i[_member(((w[i] >> 4) & 0xF000) | (w[i] & 0xFFF), lows)]].tolist())
    h, hpcs = _section_words(b, sec, 2)
    i = _match(h, 0xF800, 0x4800)  # Thumb ldr rX, [pc, #imm8*4]
    pc = hpcs[i]
    v = b.words_at(((pc + 4) & ~3) + (h[i] & 0xFF) * 4)
    found = _in_spans(starts, ends, v)
    add_pc = 0x4478 | ((h[i] >> 8) & 7)  # add rX, pc (rX is a low register here)
    for k in range(1, 24):
        j = np.minimum(i + k, len(h) - 1)
        pic_add = (h[j] == add_pc) & (i + k < len(h))
        found |= pic_add & _in_spans(starts, ends, (v + hpcs[j] + 4) & 0xFFFFFFFF)
    out.update(pc[found & (v >= 0)].tolist())
    return out


def _walk(b: ElfBinary, t: _Tracker, code: bytes, start: int, end: int) -> tuple[FunctionFacts, int]:
    facts = FunctionFacts(start, end)
    seen_str: set[int] = set()
    inline: dict[Any, list[_Chain]] = {}
    pending_delay: Any = None
    pending_branch: tuple[int, bool] | None = None
    snapshots: dict[int, dict[str, Value]] = {}
    dead = False  # the previous instruction never falls through
    n = 0
    insns = list(t.disasm(code, start))
    shapes = b._shapes
    handle = t._op
    for idx, (addr, size, mnem, ops) in enumerate(insns):
        n += 1
        if mnem == ".byte":
            continue
        snap = snapshots.pop(addr, None)
        if snap is not None:
            # Forward branches carry their state: path-insensitive, but not path-blind.
            if dead:
                t.regs = snap
            else:
                t.regs = {k: v for k, v in t.regs.items() if snap.get(k) == v}
        dead = False
        # Tracker.step, inlined with one lookup of what the instruction's text decodes to
        shape = shapes.get((mnem, ops))
        if shape is None:
            first = _first_dest(ops)
            o = b._operands.get(ops)
            if o is None:
                o = b._operands[ops] = _operand_list(ops)
            shape = (o, _branch(b.arch, mnem, ops), t.reg(first) if first is not None else None)
            shapes[(mnem, ops)] = shape
        o, br, dest = shape
        try:
            ev = handle(addr, size, mnem, o)
        except _HANDLER_ERRORS:
            ev = None
        # string references: any register just written that points at a C string
        if dest is not None:
            v = t.regs.get(dest)
            if isinstance(v, int) and v not in seen_str and v > 0x100:
                ref = b.cstring(v)
                if ref is not None:
                    seen_str.add(v)
                    facts.strings.append(ref)
        if pending_delay is not None:
            _on_call(b, t, facts, pending_delay[0], pending_delay[1], seen_str)
            pending_delay = None
        if pending_branch is not None:
            _snapshot(snapshots, pending_branch[0], t.regs)
            dead = pending_branch[1]
            pending_branch = None
        if br is not None:
            target, uncond = br
            if b.arch == "mips":
                pending_branch = (target if target is not None and target > addr else -1, uncond)
            else:
                if target is not None and target > addr:
                    _snapshot(snapshots, target, t.regs)
                dead = uncond
        if ev is None:
            continue
        kind = ev[0]
        if kind == "call":
            callee: Value = ev[1]
            if b.arch == "mips" and idx + 1 < len(insns):
                # the delay slot runs before the callee: interpret it first
                pending_delay = (addr, callee)
                continue
            _on_call(b, t, facts, addr, callee, seen_str)
        elif kind == "cmp":
            _on_cmp(t, inline, addr, ev[1], ev[2])
    if pending_delay is not None:
        _on_call(b, t, facts, pending_delay[0], pending_delay[1], seen_str)
    for lit in _assemble_inline(b, t, inline):
        facts.compares.append(CompareSite(start, lit[1], "inline", lit[0]))
    return facts, n


def _snapshot(snapshots: dict[int, dict[str, Value]], target: int, regs: dict[str, Value]) -> None:
    if target < 0:
        return
    prev = snapshots.get(target)
    if prev is None:
        snapshots[target] = dict(regs)
    else:
        snapshots[target] = {k: v for k, v in prev.items() if regs.get(k) == v}


_COND_ARM = ("eq", "ne", "lt", "gt", "le", "ge", "hi", "lo", "hs", "ls", "mi", "pl", "cc", "cs", "vs", "vc")


# The first letters of every jump mnemonic below, and the jumps that do not start with them.
_JUMP_PREFIXES = {"mips": ("j", "b"), "arm": ("b", "pop", "ldm", "cb"), "aarch64": ("b", "cb", "tb")}
_OTHER_JUMPS = frozenset({"ret", "hlt", "ud2"})


def _branch(arch: str, m: str, ops: str) -> tuple[int | None, bool] | None:
    """(target, unconditional) for a jump that is not a call; None otherwise."""
    if not m.startswith(_JUMP_PREFIXES.get(arch, "j")) and m not in _OTHER_JUMPS:
        return None  # most instructions: decided without parsing the operands
    last = ops.rsplit(",", 1)[-1].strip() if ops else ""
    target = _imm(last) if last[:1] in "#0123456789" else None
    if arch == "mips":
        if m in ("jr", "j", "b"):
            return target, True
        if m.startswith("b") and m not in ("bal", "break"):
            return target, False
        return None
    if arch == "arm":
        mm = m.removesuffix(".w").removesuffix(".n")
        if mm == "b":
            return target, True
        if mm in ("bx",) or (mm.startswith("pop") and "pc" in ops) or (mm.startswith("ldm") and "pc" in ops):
            return None, True
        if (mm.startswith("b") and mm[1:] in _COND_ARM) or mm in ("cbz", "cbnz"):
            return target, False
        return None
    if arch == "aarch64":
        if m == "b":
            return target, True
        if m in ("ret", "br"):
            return None, True
        if m.startswith("b.") or m in ("cbz", "cbnz", "tbz", "tbnz"):
            return target, False
        return None
    if m == "jmp":
        return target, True
    if m in ("ret", "hlt", "ud2"):
        return None, True
    if m.startswith("j"):
        return target, False
    return None


def _first_dest(ops: str) -> str | None:
    if not ops:
        return None
    first = ops.split(",", 1)[0].strip()
    if not first or "[" in first or "(" in first or first[0] in "#-0123456789":
        return None
    return first


def _callee(b: ElfBinary, target: Value) -> str | None:
    if isinstance(target, tuple) and target[0] == "imp":
        return str(target[1])
    if isinstance(target, int):
        name = b.import_at(target & ~1)
        if name:
            return name
        return b.defined_functions.get(target & ~1)
    return None


def _string_of(b: ElfBinary, t: _Tracker, v: Value) -> Literal | None:
    if isinstance(v, int):
        ref = b.cstring(v)
        if ref is not None:
            return Literal(ref.text, ref.offset, "rodata", (ref,))
        return None
    if isinstance(v, tuple) and v[0] == "sp":
        o = v[1]
        buf = bytearray()
        while o in t.sbytes and t.sbytes[o] != 0 and len(buf) < 128:
            buf.append(t.sbytes[o])
            o += 1
        if len(buf) >= 2 and o in t.sbytes:
            pieces = t.pieces.get(v[1], ())
            how = "composed" if pieces else "stack"
            off = pieces[0].offset if pieces else 0
            return Literal(bytes(buf), off, how, pieces)
    return None


def _on_call(
    b: ElfBinary, t: _Tracker, facts: FunctionFacts, addr: int, target: Value, seen: set[int]
) -> None:
    name = _callee(b, target)
    name = _CHK.get(name or "", name)
    args = t.args()
    if name:
        facts.calls.append((addr, name))
        if name in COMPARE_FUNCTIONS:
            for a in args[:2]:
                lit = _string_of(b, t, a)
                if lit is not None:
                    if lit.how == "stack" and not lit.pieces:
                        lit = Literal(lit.text, b.offset_of(addr) or 0, "stack")
                    facts.compares.append(CompareSite(facts.start, addr, name, lit))
        elif name in _COPY_FUNCTIONS or name in _FORMAT_FUNCTIONS:
            _compose(b, t, name, args)
        else:
            _escape(t, args)
    else:
        _escape(t, args)
    ret: Value = ("ret", addr)
    if name in ("strlen",) and isinstance(args[0], tuple) and args[0][0] == "sp":
        ret = ("len", args[0][1])
    t.clobber(ret)


def _escape(t: _Tracker, args: list[Value]) -> None:
    """A stack buffer handed to an unknown callee may be written by it."""
    for a in args:
        if isinstance(a, tuple) and a[0] == "sp":
            lo = a[1]
            for o in [k for k in t.stack if lo <= k < lo + 512]:
                del t.stack[o]
            for o in [k for k in t.sbytes if lo <= k < lo + 512]:
                del t.sbytes[o]


def _compose(b: ElfBinary, t: _Tracker, name: str, args: list[Value]) -> None:
    """Follow literal fragments copied into a stack buffer (strcpy+strcat, sprintf "%s%s")."""
    dest = args[0]
    if isinstance(dest, tuple) and dest[0] == "ptr" and isinstance(dest[1], tuple) and dest[1][0] == "len":
        dest = ("sp", dest[1][1])  # buf + strlen(buf): an inlined strcat
        name = "strcat"
    if not (isinstance(dest, tuple) and dest[0] == "sp"):
        return
    base = dest[1]
    srcs: list[StringRef] = []
    if name in _FORMAT_FUNCTIONS:
        fmt_i = 2 if "snprintf" in name else 1
        if "_chk" in name:
            fmt_i += 2
        if fmt_i >= len(args):
            return
        fmt = b.cstring(args[fmt_i]) if isinstance(args[fmt_i], int) else None
        if fmt is None or fmt.text.replace(b"%s", b"") != b"":
            return
        rest = args[fmt_i + 1 :]
        if len(rest) < fmt.text.count(b"%s"):
            return
        for v in rest[: fmt.text.count(b"%s")]:
            ref = b.cstring(v) if isinstance(v, int) else None
            if ref is None:
                return
            srcs.append(ref)
        text = b"".join(s.text for s in srcs)
    else:
        ref = b.cstring(args[1]) if isinstance(args[1], int) else None
        if ref is None:
            return
        srcs.append(ref)
        text = ref.text
        if name in ("strncpy", "memcpy", "memmove", "strncat") and isinstance(args[2], int):
            text = (ref.text + b"\0")[: args[2]]
    at = base
    if name in ("strcat", "strncat"):
        while at in t.sbytes and t.sbytes[at] != 0:
            at += 1
        if at not in t.sbytes:
            return
        srcs = list(t.pieces.get(base, ())) + srcs
    for i, byte in enumerate(text + b"\0" if not text.endswith(b"\0") else text):
        t.sbytes[at + i] = byte
    t.pieces[base] = tuple(srcs)


class _Chain:
    """Consecutive compares of buffer bytes against constants: an inlined memcmp/strcmp."""

    __slots__ = ("expect", "text", "addr", "done")

    def __init__(self, expect: int, addr: int) -> None:
        self.expect = expect
        self.text = bytearray()
        self.addr = addr
        self.done = False


def _on_cmp(t: _Tracker, inline: dict[Any, list[_Chain]], addr: int, a: Value, b: Value) -> None:
    if isinstance(b, tuple) and isinstance(a, int):
        a, b = b, a
    if not (isinstance(a, tuple) and a[0] == "ld" and isinstance(b, int)):
        return
    _, base, off, size = a
    chunk = (b & ((1 << (8 * size)) - 1)).to_bytes(size, t.endian)
    body = chunk.split(b"\0", 1)[0]
    terminated = len(body) < len(chunk)
    if not all(32 < c < 127 for c in body):
        return
    chains = inline.setdefault(base, [])
    chain = next((c for c in chains if not c.done and c.expect == off), None)
    if chain is None:
        if not body:
            return
        chain = _Chain(off, addr)
        chains.append(chain)
    chain.text += body
    chain.expect = off + size
    chain.done = terminated


def _assemble_inline(
    b: ElfBinary, t: _Tracker, inline: dict[Any, list[_Chain]]
) -> Iterator[tuple[Literal, int]]:
    for chains in inline.values():
        for c in chains:
            if len(c.text) >= 4 and (c.done or len(c.text) >= 6):
                yield Literal(bytes(c.text), b.offset_of(c.addr) or 0, "inline"), c.addr


def call_counts(b: ElfBinary) -> dict[str, int]:
    """Direct call sites per imported function (see call_sites)."""
    counts: dict[str, int] = {}
    for _addr, name in call_sites(b):
        counts[name] = counts.get(name, 0) + 1
    return counts


def call_sites(b: ElfBinary, names: Iterable[str] | None = None) -> list[tuple[int, str]]:
    """(address, import) of every direct call, from instruction encodings (no disassembly).

    MIPS: `lw $t9, off($gp)` GOT loads and `jal`/`j` to stubs; ARM: BL/B; Thumb: BL/BLX/B.W; AArch64: BL/B;
    x86: `call`/`jmp rel32` to PLT stubs and `call`/`jmp [rip+disp]` through GOT slots.
    names: only calls to these imports.
    """
    wanted = None if names is None else frozenset(names)
    out: list[tuple[int, str]] = []
    stub_names = [st[2] for st in b.stubs]
    # which stubs are wanted, so that calls to the others are dropped in numpy, not one by one
    stub_ok = None if wanted is None else np.array([n in wanted for n in stub_names], dtype=bool)

    def add(pcs: Words, targets: Words) -> None:
        """Calls at pcs whose targets fall in a PLT/MIPS stub."""
        idx = b.imports_at(targets)
        keep = idx >= 0
        if stub_ok is not None:
            keep[keep] = stub_ok[idx[keep]]
        out.extend(zip(pcs[keep].tolist(), [stub_names[i] for i in idx[keep].tolist()], strict=True))

    for sec in b.text_sections():
        if b.arch == "mips":
            w, pcs = _section_words(b, sec)
            if b.gp is not None:
                i = _match(w, 0xFFFF0000, 0x8F990000)  # lw $t9, off($gp)
                slots = (b.gp + _signed_np(w[i] & 0xFFFF, 16)).tolist()
                for pc, slot in zip(pcs[i].tolist(), slots, strict=True):
                    name = b.slot_imports.get(slot)
                    if name and (wanted is None or name in wanted):
                        out.append((pc, name))
            i = _match(w, 0xF8000000, 0x08000000)  # jal, and j as a tail call
            add(pcs[i], ((pcs[i] + 4) & 0xF0000000) | ((w[i] & 0x3FFFFFF) << 2))
        elif b.arch == "arm":
            w, pcs = _section_words(b, sec)
            i = _match(w, 0x0E000000, 0x0A000000)  # bl, and b as a tail call
            i = i[(w[i] >> 28) != 0xF]
            add(pcs[i], pcs[i] + 8 + (_signed_np(w[i] & 0xFFFFFF, 24) << 2))
            h, hpcs = _section_words(b, sec, 2)
            i = _match(h[:-1], 0xF800, 0xF000)
            h1, h2 = h[i], h[i + 1]
            # BL/BLX, and Thumb-2's B.W as a tail call (armhf code reaches a PLT entry's Thumb stub so)
            keep = ((h2 & 0xC000) == 0xC000) | ((h2 & 0xD000) == 0x9000)
            i, h1, h2 = i[keep], h1[keep], h2[keep]
            sgn = (h1 >> 10) & 1
            i1 = 1 - (((h2 >> 13) & 1) ^ sgn)
            i2 = 1 - (((h2 >> 11) & 1) ^ sgn)
            off = (sgn << 24) | (i1 << 23) | (i2 << 22) | ((h1 & 0x3FF) << 12) | ((h2 & 0x7FF) << 1)
            pc = hpcs[i] + 4
            pc = np.where(h2 & 0x1000 != 0, pc, pc & ~3)  # BLX: to ARM code, word aligned
            add(hpcs[i], pc + _signed_np(off, 25))
        elif b.arch == "aarch64":
            w, pcs = _section_words(b, sec)
            i = _match(w, 0x7C000000, 0x14000000)  # bl, and b as a tail call
            add(pcs[i], pcs[i] + (_signed_np(w[i] & 0x3FFFFFF, 26) << 2))
        elif b.arch in ("x86_64", "x86"):
            u8, v32 = _x86_section(b, sec)
            n = len(u8) - 4
            p = np.flatnonzero((u8[:n] == 0xE8) | (u8[:n] == 0xE9))  # call/jmp rel32
            target = sec.addr + p + 5 + _s32(v32[p + 1])
            add(sec.addr + p, target & 0xFFFFFFFF if b.bits == 32 else target)
            n = len(u8) - 5
            p = np.flatnonzero((u8[:n] == 0xFF) & ((u8[1 : n + 1] == 0x15) | (u8[1 : n + 1] == 0x25)))
            disp = _s32(v32[p + 2])  # call/jmp [rip+disp32], [disp32] on x86
            slots = sec.addr + p + 6 + disp if b.arch == "x86_64" else disp & 0xFFFFFFFF
            for pc, slot in zip((sec.addr + p).tolist(), slots.tolist(), strict=True):
                name = b.slot_imports.get(slot)
                if name and (wanted is None or name in wanted):
                    out.append((pc, name))
    return out


def imported_names(data: bytes) -> set[str]:
    """Undefined dynamic symbols of an ELF (what it imports), cheaply."""
    b = load_elf(data, code=False)
    return set() if b is None else set(b.imports)


def strings_in(b: ElfBinary, sections: Iterable[str] = (".rodata",)) -> Iterator[StringRef]:
    """Printable NUL-terminated strings of the given sections."""
    for s, d in b.section_bytes(sections):
        for m in re.finditer(rb"[\x20-\x7e\t\n\r]{3,}(?=\0)", d):
            yield StringRef(s.addr + m.start(), s.offset + m.start(), m.group())
