"""What every check declares, and the helpers they share to build evidence."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from assay.checks.cache import ResultCache
from assay.index import FileEntry, FileIndex
from assay.model import Component, Evidence, Finding, Severity


@dataclass(frozen=True)
class CheckContext:
    """Everything a check may look at. Checks must not touch anything else."""

    index: FileIndex
    options: dict[str, Any] = field(default_factory=dict)
    components: tuple[Component, ...] = ()  # the inventory's, for checks that declare needs_components
    # Per-scan memo the checks share (parsed ELFs, the boot model: analysis.binary.elf_cache,
    # analysis.initsystem.shared_boot_model); never configuration.
    memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    # Set when a split check runs one part of its work (see Check.split): that part's keys, which
    # are file paths unless the check says otherwise.
    part: frozenset[str] | None = None
    # Processes a check may start for itself (password cracking); None: its own choice. Checks
    # running in a worker of a parallel run get 1: the CPUs are already busy, and a pool of
    # their own would outlive a killed worker.
    processes: int | None = None
    # Results kept between scans (see checks.cache); None: every result is computed.
    results: ResultCache | None = field(default=None, compare=False, repr=False)

    def per_file(self, check_id: str, entry: FileEntry, compute: Callable[[], Any]) -> Any:
        """compute() for this file's content: once per scan, and taken from the result cache when
        there is one. Only for results that depend on the file's bytes alone, as JSON data."""
        if not entry.sha256:
            return compute()
        memo = self.memo.setdefault(f"per-file:{check_id}", {})
        if entry.sha256 not in memo:
            memo[entry.sha256] = (
                self.results.through(check_id, entry.sha256, compute) if self.results else compute()
            )
        return memo[entry.sha256]

    def kept(self, check_id: str, entry: FileEntry) -> bool:
        """Whether per_file has this file's result at hand without computing it. A result read from
        the cache is memoised, so per_file (in this process, or a worker forked after) reads it once."""
        memo = self.memo.setdefault(f"per-file:{check_id}", {})
        if entry.sha256 and entry.sha256 not in memo and self.results is not None:
            value = self.results.get(check_id, entry.sha256)
            if value is not None:
                memo[entry.sha256] = value
        return bool(entry.sha256) and entry.sha256 in memo

    def wants(self, entry: FileEntry) -> bool:
        """Whether this run covers the file: always, unless it runs one part of a split check."""
        return self.part is None or entry.path in self.part


CheckFn = Callable[[CheckContext], Iterable[Finding]]
# Independent parts of a check's work, each (estimated seconds, keys such as file paths): run() with
# ctx.part set to each part's keys (or to the union of several parts' keys), in any order and any
# process, yields the findings of one whole run. The estimates order the parts, and light parts
# are handed out together.
SplitFn = Callable[[CheckContext], list[tuple[float, frozenset[str]]]]


@dataclass(frozen=True)
class Check:
    id: str
    category: str
    severity: Severity
    title: str
    description: str
    run: CheckFn
    clause: str | None = None  # 3GPP TS 33.117 section this check informs
    references: tuple[str, ...] = ()
    false_positives: str = ""  # known sources of false positives, for docs/checks.md
    split: SplitFn | None = None  # for checks heavy enough to share among worker processes
    # Reads ctx.components. The runner starts such checks once the inventory is done (it runs
    # beside the other checks); any other check that reads them fails (see runner.NOT_YET).
    needs_components: bool = False

    def finding(
        self,
        path: str,
        title: str,
        evidence: Iterable[Evidence],
        *,
        severity: Severity | None = None,
        category: str | None = None,
        references: Iterable[str] = (),
        details: dict[str, Any] | None = None,
    ) -> Finding:
        return Finding(
            rule=self.id,
            category=category or self.category,
            severity=severity or self.severity,
            title=title,
            path=path,
            evidence=tuple(evidence),
            references=tuple(self.references) + tuple(r for r in references if r not in self.references),
            clause=self.clause,
            details=details or {},
        )


def excerpt_of(data: bytes, start: int, end: int, context: int = 0) -> str:
    """Printable excerpt of data[start:end]; non-printables escaped so evidence stays exact."""
    chunk = data[max(0, start - context) : min(len(data), end + context)]
    out = []
    for b in chunk:
        if 32 <= b < 127 and b != 0x5C:
            out.append(chr(b))
        elif b == 0x5C:
            out.append("\\\\")
        elif b == 0x0A:
            out.append("\\n")
        elif b == 0x09:
            out.append("\\t")
        else:
            out.append(f"\\x{b:02x}")
    return "".join(out)


def evidence_at(
    entry: FileEntry,
    data: bytes,
    offset: int,
    length: int,
    *,
    note: str | None = None,
    details: dict[str, Any] | None = None,
) -> Evidence:
    """Evidence for the bytes data[offset:offset+length] of a file, with its line if text."""
    line = data.count(b"\n", 0, offset) + 1 if entry.filetype in ("text", "script") else None
    return Evidence(
        path=entry.path,
        sha256=entry.sha256 or "",
        offset=offset,
        length=length,
        excerpt=excerpt_of(data, offset, offset + length),
        line=line,
        note=note,
        details=details or {},
    )


def evidence_of_file(
    entry: FileEntry, note: str | None = None, details: dict[str, Any] | None = None
) -> Evidence:
    """Evidence that is about the file as a whole (its mode, its existence)."""
    return Evidence(
        path=entry.path,
        sha256=entry.sha256 or "",
        note=note,
        details={"mode": entry.mode_string, "uid": entry.uid, "gid": entry.gid, **(details or {})},
    )


def line_span(data: bytes, offset: int) -> tuple[int, int]:
    """Start and end offsets of the line that holds offset."""
    start = data.rfind(b"\n", 0, offset) + 1
    end = data.find(b"\n", offset)
    return start, len(data) if end < 0 else end
