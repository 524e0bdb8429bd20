"""binary-hardening: checksec for every ELF executable and shared object.

NX (PT_GNU_STACK without PF_X), PIE (ET_DYN with an interpreter), RELRO (PT_GNU_RELRO, full with
BIND_NOW), stack canary (__stack_chk_fail/__stack_chk_guard imported) and FORTIFY (__*_chk
imports). One finding per binary that lacks a protection, with every flag in its details, so a
report can be filtered or summarised per protection.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

from assay.analysis.binary import ElfBinary, ElfCache, elf_cache
from assay.checks.base import Check, CheckContext, evidence_of_file
from assay.index import FileEntry
from assay.model import Finding, Severity

_MAX_FILE = 64 << 20
_PF_X = 1
_DF_BIND_NOW = 0x8
_DF_1_NOW = 0x1
_DF_1_PIE = 0x08000000


def checksec(b: ElfBinary) -> dict[str, Any]:
    """The protections of one ELF, as checksec names them."""
    dyn = b.dynamic
    bind_now = (
        "DT_BIND_NOW" in dyn
        or bool(dyn.get("DT_FLAGS", 0) & _DF_BIND_NOW)
        or bool(dyn.get("DT_FLAGS_1", 0) & _DF_1_NOW)
    )
    shared_object = b.elftype == "dyn" and not b.has_interp and not dyn.get("DT_FLAGS_1", 0) & _DF_1_PIE
    static = not dyn
    names = b.imports | (set(b.defined_functions.values()) if static else set())
    fortified = sorted(
        n for n in names if n.startswith("__") and n.endswith("_chk") and n != "__stack_chk_fail"
    )
    canary: bool | None = bool(names & {"__stack_chk_fail", "__stack_chk_guard", "__stack_chk_fail_local"})
    if static and not b.defined_functions:
        canary = None  # stripped static binary: imports tell nothing
    return {
        "type": "shared-object" if shared_object else ("static-executable" if static else "executable"),
        "nx": b.gnu_stack_flags is not None and not b.gnu_stack_flags & _PF_X,
        "pie": None if shared_object else b.elftype == "dyn",
        "relro": "full" if b.has_relro and bind_now else ("partial" if b.has_relro else "none"),
        "canary": canary,
        "fortify": bool(fortified),
        "fortified_functions": fortified[:20],
        "arch": b.arch,
    }


def _missing(flags: dict[str, Any]) -> list[str]:
    out = []
    if not flags["nx"]:
        out.append("NX")
    if flags["pie"] is False:
        out.append("PIE")
    if flags["relro"] != "full":
        out.append("full RELRO" if flags["relro"] == "partial" else "RELRO")
    if flags["canary"] is False:
        out.append("stack canary")
    if not flags["fortify"]:
        out.append("FORTIFY")
    return out


def _severity(flags: dict[str, Any], missing: list[str]) -> Severity:
    # An executable stack or a binary with none of the compiler defences is worth a look;
    # one missing defence alone is information.
    if "NX" in missing:
        return Severity.LOW
    weak = sum(m in missing for m in ("PIE", "RELRO", "stack canary"))
    return Severity.LOW if weak >= 2 else Severity.INFO


def _candidates(ctx: CheckContext) -> Iterator[FileEntry]:
    for entry in ctx.index.elves():
        elf = entry.elf
        if entry.is_file and elf is not None and elf.elftype in ("exec", "dyn") and entry.size <= _MAX_FILE:
            yield entry


def _flags(ctx: CheckContext, elves: ElfCache, entry: FileEntry) -> dict[str, Any]:
    """checksec of one binary as JSON data ({} when it does not parse)."""
    b = elves.load(entry.sha256 or entry.path, ctx.index.read(entry))
    return {} if b is None else checksec(b)


def run(ctx: CheckContext) -> Iterator[Finding]:
    elves = elf_cache(ctx.memo)
    for entry in _candidates(ctx):
        # kept in the result cache: a hit neither reads nor parses the binary
        flags = dict(ctx.per_file(CHECK.id, entry, functools.partial(_flags, ctx, elves, entry)))
        if not flags:
            continue
        missing = _missing(flags)
        if not missing:
            continue
        flags["missing"] = missing
        yield CHECK.finding(
            entry.path,
            f"{entry.name}: no {', no '.join(missing)}",
            [evidence_of_file(entry, note="ELF program headers, dynamic section and imports", details=flags)],
            severity=_severity(flags, missing),
            details=flags,
        )


CHECK = Check(
    id="binary-hardening",
    category="hardening",
    severity=Severity.LOW,
    title="ELF binary built without exploit mitigations",
    description=(
        "checksec for every ELF executable and shared object: non-executable stack (NX), position "
        "independent executable (PIE), RELRO (partial or full with BIND_NOW), stack canaries and "
        "FORTIFY_SOURCE. Missing mitigations make memory-safety bugs in network services easier to "
        "exploit."
    ),
    run=run,
    clause="4.3.3.1.2",
    references=(
        "https://www.trapkit.de/tools/checksec/",
        "https://wiki.debian.org/Hardening",
        "https://www.3gpp.org/ftp/Specs/archive/33_series/33.117/",
    ),
    false_positives=(
        "FORTIFY shows only when a fortifiable call was compiled in; small programs may be built with "
        "it and still import no __*_chk function. Canary detection needs imports or symbols; stripped "
        "static binaries report it as unknown."
    ),
)
