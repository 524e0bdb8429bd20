"""unsafe-functions: how much a binary leans on libc calls that are easy to misuse.

Counts imports of unbounded string/format functions and shell-command helpers, with the number of
direct call sites per function read from instruction encodings (PLT/GOT/stub calls).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

from assay.analysis.binary import ElfCache, call_counts, elf_cache
from assay.checks.base import Check, CheckContext, evidence_of_file
from assay.index import FileEntry
from assay.model import Finding, Severity

_MAX_FILE = 32 << 20
# Unbounded copies and formats; shell and exec helpers (command injection); input without bounds.
UNSAFE = {
    "strcpy": "unbounded copy",
    "stpcpy": "unbounded copy",
    "strcat": "unbounded copy",
    "wcscpy": "unbounded copy",
    "wcscat": "unbounded copy",
    "sprintf": "unbounded format",
    "vsprintf": "unbounded format",
    "gets": "unbounded input",
    "scanf": "unbounded input",
    "sscanf": "unbounded input",
    "fscanf": "unbounded input",
    "vscanf": "unbounded input",
    "vsscanf": "unbounded input",
    "vfscanf": "unbounded input",
    "__isoc99_scanf": "unbounded input",
    "__isoc99_sscanf": "unbounded input",
    "__isoc99_fscanf": "unbounded input",
    "__isoc99_vsscanf": "unbounded input",
    "__isoc23_sscanf": "unbounded input",
    "system": "shell command",
    "popen": "shell command",
    "execl": "program execution",
    "execlp": "program execution",
    "execle": "program execution",
    "execv": "program execution",
    "execvp": "program execution",
    "execve": "program execution",
    "realpath": "unbounded output",
    "getwd": "unbounded output",
    "mktemp": "race-prone temporary file",
    "tmpnam": "race-prone temporary file",
}


def _usage(ctx: CheckContext, elves: ElfCache, entry: FileEntry) -> dict[str, Any]:
    """The unsafe imports of one binary and their call sites, as JSON data ({} for none)."""
    b = elves.load(entry.sha256 or entry.path, ctx.index.read(entry))
    if b is None:
        return {}
    used = sorted(n for n in b.imports if n in UNSAFE)
    if not used:
        return {}
    sites = call_counts(b)
    counts = {n: {"kind": UNSAFE[n], "call_sites": sites.get(n, 0)} for n in used}
    return {"functions": counts, "total_call_sites": sum(sites.get(n, 0) for n in used), "arch": b.arch}


def run(ctx: CheckContext) -> Iterator[Finding]:
    elves = elf_cache(ctx.memo)
    for entry in ctx.index.elves():
        if (
            not entry.is_file
            or entry.size > _MAX_FILE
            or entry.elf is None
            or entry.elf.elftype not in ("exec", "dyn")
        ):
            continue
        # kept in the result cache: a hit neither reads nor parses the binary
        usage = ctx.per_file(CHECK.id, entry, functools.partial(_usage, ctx, elves, entry))
        if not usage:
            continue
        counts = usage["functions"]
        used = list(counts)
        shown = ", ".join(f"{n} ({counts[n]['call_sites']})" for n in used[:6])
        yield CHECK.finding(
            entry.path,
            f"{entry.name} calls unsafe libc functions: {shown}{' ...' if len(used) > 6 else ''}",
            [
                evidence_of_file(
                    entry, note="dynamic imports and direct call sites", details={"functions": counts}
                )
            ],
            details=usage,
        )


CHECK = Check(
    id="unsafe-functions",
    category="hardening",
    severity=Severity.INFO,
    title="Binary imports unsafe libc functions",
    description=(
        "Counts of imported libc functions that are easy to misuse (strcpy, strcat, sprintf, gets, the "
        "scanf family, system, popen, exec*) per binary, with call-site counts from the code. They "
        "point a reviewer at the places where overflows and command injection usually start."
    ),
    run=run,
    clause="4.2.3.4.3",
    references=(
        "https://cwe.mitre.org/data/definitions/676.html",
        "https://cwe.mitre.org/data/definitions/78.html",
    ),
    false_positives="A call to strcpy or sprintf can be safe when the sizes are checked by the caller.",
)
