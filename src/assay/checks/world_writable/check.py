"""world-writable: files and directories any local user may change."""

from __future__ import annotations

import stat
from collections.abc import Iterator

from assay.checks.base import Check, CheckContext, evidence_of_file
from assay.model import Finding, Severity

# Device nodes every Linux system makes 0666 on purpose.
_STANDARD_DEVICES = frozenset(
    {"null", "zero", "full", "random", "urandom", "tty", "ptmx", "fuse", "net/tun", "kmsg", "console"}
)


def run(ctx: CheckContext) -> Iterator[Finding]:
    for e in ctx.index:
        if not e.world_writable or e.is_symlink:
            continue  # symlinks are always 0777 and their mode means nothing
        if e.kind == "dir":
            if e.mode & stat.S_ISVTX:
                continue  # /tmp-like: sticky keeps users from removing each other's files
            yield CHECK.finding(
                e.path,
                f"World-writable directory without the sticky bit: {e.path}",
                [evidence_of_file(e, note="anyone may add, replace or delete entries")],
                details={"kind": "dir"},
            )
        elif e.is_file:
            yield CHECK.finding(
                e.path,
                f"World-writable file: {e.path}",
                [evidence_of_file(e, note="any local user may change this file")],
                severity=Severity.HIGH if e.executable or e.path.startswith("/etc/") else Severity.MEDIUM,
                details={"kind": "file"},
            )
        else:
            rel = e.path.removeprefix("/dev/")
            if e.path.startswith("/dev/") and rel in _STANDARD_DEVICES:
                continue
            yield CHECK.finding(
                e.path,
                f"World-writable {e.kind} node: {e.path}",
                [evidence_of_file(e, note=f"{e.kind} node writable by any local user")],
                severity=Severity.LOW,
                details={"kind": e.kind},
            )


CHECK = Check(
    id="world-writable",
    category="file-permissions",
    severity=Severity.MEDIUM,
    title="World-writable file or directory",
    description=(
        "Regular files writable by any user (high when executable or under /etc), directories "
        "writable by any user without the sticky bit, and world-writable device, FIFO or socket "
        "nodes other than the standard 0666 devices (/dev/null, zero, tty, ptmx ...), at low."
    ),
    run=run,
    clause="4.3.2.7",
    references=("https://cwe.mitre.org/data/definitions/732.html",),
    false_positives=(
        "Filesystems whose extractor resets modes show the extractor's modes; the filesystem's "
        "'metadata_exact' flag in the report says when that is the case."
    ),
)
