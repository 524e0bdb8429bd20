"""Software a production device does not need (TS 33.117 4.3.2.3): compilers, debuggers, samples."""

from __future__ import annotations

import re
from collections.abc import Iterable

from assay.checks.base import Check, CheckContext, evidence_of_file
from assay.model import Finding, Severity

REFS = ("https://www.3gpp.org/ftp/Specs/archive/33_series/33.117/",)

# name -> what it is; matched on executables (ELF or scripts) in the usual program directories.
TOOLS = {
    "gcc": "compiler",
    "cc": "compiler",
    "c++": "compiler",
    "g++": "compiler",
    "tcc": "compiler",
    "clang": "compiler",
    "as": "assembler",
    "ld": "linker",
    "make": "build tool",
    "gdb": "debugger",
    "gdbserver": "remote debugger",
    "strace": "tracer",
    "ltrace": "tracer",
    "objdump": "binary inspection tool",
    "readelf": "binary inspection tool",
    "valgrind": "debugger",
    "perf": "profiler",
    "tcpdump": "packet capture tool",
    "devmem": "physical memory access tool",
    "devmem2": "physical memory access tool",
    "memtester": "test tool",
    "iperf": "test tool",
    "iperf3": "test tool",
}
_PROGRAM_DIRS = ("/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/", "/usr/local/bin/", "/usr/local/sbin/", "/opt/")
_TRIPLET = re.compile(r"^[\w]+-[\w]+-[\w-]+-(gcc|g\+\+|cc|as|ld|gdb|objdump|readelf)$")
_SAMPLES = re.compile(r"(^|/)(examples?|samples?|tests?|testing|demo)(/|$)", re.I)


def _run(ctx: CheckContext) -> Iterable[Finding]:
    idx = ctx.index
    for e in idx:
        if not e.path.startswith(_PROGRAM_DIRS):
            continue
        name = e.name
        kind = TOOLS.get(name) or ("cross " + TOOLS[m.group(1)] if (m := _TRIPLET.match(name)) else None)
        if kind is None:
            continue
        target = idx.resolve(e.path, e.fs) if e.is_symlink else e
        if target is None or target.filetype not in ("elf", "script"):
            continue
        if e.is_symlink and target.name == "busybox":
            # A busybox applet (e.g. devmem, tcpdump-less builds) still counts: it is reachable.
            kind += " (busybox applet)"
        yield CHECK.finding(
            e.path,
            f"{kind.capitalize()} on the device: {name}",
            [evidence_of_file(target, note=f"{e.path} -> {target.path}" if target is not e else kind)],
            details={"tool": name, "kind": kind},
        )
    for e in idx.files():
        rel = e.path
        if rel.startswith(("/usr/share/doc/", "/usr/lib/python", "/usr/share/perl", "/lib/modules/")):
            continue
        if (
            _SAMPLES.search(rel.rsplit("/", 1)[0] + "/")
            and e.filetype in ("script", "elf", "text")
            and rel.startswith(("/www/", "/var/www/", "/usr/share/", "/home/", "/root/", "/usr/local/"))
        ):
            yield CHECK.finding(
                e.path,
                f"Example or test file shipped: {e.path}",
                [evidence_of_file(e, note="file in an example/test directory")],
                severity=Severity.LOW,
                details={"kind": "sample"},
            )


CHECK = Check(
    id="unused-software",
    category="unused-software",
    severity=Severity.MEDIUM,
    title="Unneeded software on the device",
    description="Compilers, assemblers, linkers, debuggers (gdb, gdbserver), tracers, packet capture and raw memory tools, and example or test files in web roots and shared directories.",
    clause="4.3.2.3",
    references=REFS,
    false_positives="tcpdump or iperf kept on purpose as field diagnostics; a file named like a tool that is something else.",
    run=_run,
)
