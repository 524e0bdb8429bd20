"""File-level delta between two file views: added, removed, renamed and changed entries."""

from __future__ import annotations

import difflib
import io
import os
import posixpath
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import tlsh
from elftools.common.exceptions import ELFError
from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from assay.index import FileEntry, FileIndex

TEXT_TYPES = ("text", "script")
MAX_TEXT_BYTES = 1 << 20  # larger text files get a summary, not a diff
MAX_DIFF_LINES = 200
MAX_ELF_BYTES = 64 << 20
TLSH_MIN_BYTES = 50
# TLSH distance below which a removed and an added file count as one moved file.
RENAME_TLSH_DISTANCE = 40
MAX_FUZZY_CANDIDATES = 300


@dataclass
class FileChange:
    """One path (or pair of paths for a rename) that differs between the two sides."""

    status: str  # "added", "removed", "changed", "renamed"
    path: str
    old_path: str | None = None
    old: FileEntry | None = None
    new: FileEntry | None = None
    changes: list[str] = field(default_factory=list)  # "content", "mode", "owner", "setuid", ...
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"status": self.status, "path": self.path}
        if self.old_path is not None:
            d["old_path"] = self.old_path
        if self.changes:
            d["changes"] = list(self.changes)
        if self.old is not None:
            d["old"] = _entry_facts(self.old)
        if self.new is not None:
            d["new"] = _entry_facts(self.new)
        if self.details:
            d["details"] = self.details
        return d


def _entry_facts(e: FileEntry) -> dict[str, Any]:
    d: dict[str, Any] = {"kind": e.kind, "mode": e.mode_string, "uid": e.uid, "gid": e.gid}
    if e.is_file:
        d["size"] = e.size
        d["sha256"] = e.sha256
        if e.filetype:
            d["type"] = e.filetype
    if e.link_target is not None:
        d["link_target"] = e.link_target
    return d


def metadata_changes(a: FileEntry, b: FileEntry) -> list[str]:
    """What differs in the entries' metadata (never the mtime: it is not part of the view)."""
    out: list[str] = []
    if a.kind != b.kind:
        return ["kind"]
    if (a.mode & 0o6000) != (b.mode & 0o6000):
        out.append("setuid")
    if (a.mode & 0o1777) != (b.mode & 0o1777):
        out.append("mode")
    if (a.uid, a.gid) != (b.uid, b.gid):
        out.append("owner")
    if a.link_target != b.link_target:
        out.append("link_target")
    return out


def compare_entries(old: dict[str, FileEntry], new: dict[str, FileEntry]) -> list[FileChange]:
    """Match by path, then unmatched files by content hash (renames), then by TLSH (moved and edited)."""
    result: list[FileChange] = []
    for key in sorted(old.keys() & new.keys()):
        a, b = old[key], new[key]
        changes = metadata_changes(a, b)
        if a.kind == b.kind and a.is_file and a.sha256 != b.sha256:
            changes.insert(0, "content")
        if changes:
            result.append(FileChange("changed", key, old=a, new=b, changes=changes))

    removed = {k: old[k] for k in old.keys() - new.keys()}
    added = {k: new[k] for k in new.keys() - old.keys()}
    result.extend(_renames_by_hash(removed, added))
    result.extend(_renames_by_similarity(removed, added))
    for k, e in removed.items():
        result.append(FileChange("removed", k, old=e))
    for k, e in added.items():
        result.append(FileChange("added", k, new=e))
    order = {"changed": 0, "renamed": 1, "removed": 2, "added": 3}
    result.sort(key=lambda c: (order[c.status], c.path))
    return result


def _content_id(e: FileEntry) -> tuple[str, str] | None:
    if e.is_file and e.size > 0 and e.sha256:
        return ("file", e.sha256)
    if e.is_symlink and e.link_target:
        return ("symlink", e.link_target)
    return None


def _renames_by_hash(removed: dict[str, FileEntry], added: dict[str, FileEntry]) -> list[FileChange]:
    by_id: dict[tuple[str, str], list[str]] = defaultdict(list)
    for k, e in sorted(added.items()):
        cid = _content_id(e)
        if cid is not None:
            by_id[cid].append(k)
    out: list[FileChange] = []
    for k, e in sorted(removed.items()):
        cid = _content_id(e)
        candidates = by_id.get(cid) if cid else None
        if not candidates:
            continue
        # Several copies: prefer the one with the same base name.
        name = posixpath.basename(k)
        pick = next((c for c in candidates if posixpath.basename(c) == name), candidates[0])
        candidates.remove(pick)
        b = added.pop(pick)
        del removed[k]
        out.append(FileChange("renamed", pick, old_path=k, old=e, new=b, changes=metadata_changes(e, b)))
    return out


def index_read(index: FileIndex, e: FileEntry, limit: int | None = None) -> bytes:
    try:
        return index.read(e, limit)
    except OSError:
        return b""


def _tlsh_of(e: FileEntry) -> str | None:
    if not e.is_file or e.host_path is None or e.size < TLSH_MIN_BYTES:
        return None
    try:
        fd = os.open(e.host_path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as fh:
            data = fh.read(MAX_ELF_BYTES)
    except OSError:
        return None
    h = tlsh.hash(data)
    return None if not h or h == "TNULL" else str(h)


def _renames_by_similarity(removed: dict[str, FileEntry], added: dict[str, FileEntry]) -> list[FileChange]:
    """A file moved and edited: same type, TLSH distance under the threshold. Bounded work."""
    olds = [(k, e) for k, e in sorted(removed.items()) if e.is_file and e.size >= TLSH_MIN_BYTES]
    news = [(k, e) for k, e in sorted(added.items()) if e.is_file and e.size >= TLSH_MIN_BYTES]
    if not olds or not news or len(olds) * len(news) > MAX_FUZZY_CANDIDATES**2:
        return []
    hashes_new = [(k, e, _tlsh_of(e)) for k, e in news]
    pairs: list[tuple[int, str, str]] = []
    for ko, eo in olds:
        ho = _tlsh_of(eo)
        if ho is None:
            continue
        for kn, en, hn in hashes_new:
            if hn is None or en.filetype != eo.filetype:
                continue
            d = tlsh.diff(ho, hn)
            if d <= RENAME_TLSH_DISTANCE:
                pairs.append((d, ko, kn))
    out: list[FileChange] = []
    used_o: set[str] = set()
    used_n: set[str] = set()
    for d, ko, kn in sorted(pairs):
        if ko in used_o or kn in used_n:
            continue
        used_o.add(ko)
        used_n.add(kn)
        a, b = removed.pop(ko), added.pop(kn)
        change = FileChange(
            "renamed", kn, old_path=ko, old=a, new=b, changes=["content", *metadata_changes(a, b)]
        )
        change.details["tlsh_distance"] = d
        out.append(change)
    return out


def content_details(old_index: FileIndex, new_index: FileIndex, change: FileChange) -> None:
    """Fill in what changed inside a file: a unified diff for text, sections and symbols for ELF."""
    a, b = change.old, change.new
    if a is None or b is None or "content" not in change.changes or not (a.is_file and b.is_file):
        return
    da = index_read(old_index, a, MAX_ELF_BYTES)
    db = index_read(new_index, b, MAX_ELF_BYTES)
    change.details["size_delta"] = b.size - a.size
    if len(da) >= TLSH_MIN_BYTES and len(db) >= TLSH_MIN_BYTES and "tlsh_distance" not in change.details:
        ha, hb = tlsh.hash(da), tlsh.hash(db)
        if ha and hb and "TNULL" not in (ha, hb):
            change.details["tlsh_distance"] = tlsh.diff(ha, hb)
    if a.filetype in TEXT_TYPES and b.filetype in TEXT_TYPES:
        change.details["diff"] = text_diff(da, db, change.old_path or change.path, change.path)
    elif a.elf is not None and b.elf is not None:
        change.details["elf"] = elf_diff(da, db)


def text_diff(a: bytes, b: bytes, old_name: str, new_name: str) -> dict[str, Any]:
    if len(a) > MAX_TEXT_BYTES or len(b) > MAX_TEXT_BYTES:
        return {"lines": [], "truncated": True, "note": "text larger than 1 MiB: not diffed"}
    la = a.decode("utf-8", errors="replace").splitlines()
    lb = b.decode("utf-8", errors="replace").splitlines()
    lines = list(difflib.unified_diff(la, lb, "a" + old_name, "b" + new_name, lineterm="", n=2))
    added = sum(1 for x in lines if x.startswith("+") and not x.startswith("+++"))
    removed = sum(1 for x in lines if x.startswith("-") and not x.startswith("---"))
    return {
        "lines": lines[:MAX_DIFF_LINES],
        "truncated": len(lines) > MAX_DIFF_LINES,
        "added": added,
        "removed": removed,
    }


@dataclass
class ElfFacts:
    sections: dict[str, int]
    imports: set[str]
    exports: set[str]
    needed: list[str]


def elf_facts(data: bytes) -> ElfFacts | None:
    try:
        elf = ELFFile(io.BytesIO(data))
        sections: dict[str, int] = {}
        imports: set[str] = set()
        exports: set[str] = set()
        needed: list[str] = []
        for sec in elf.iter_sections():
            if sec.name:
                sections[sec.name] = int(sec["sh_size"])
            if isinstance(sec, SymbolTableSection) and sec["sh_type"] == "SHT_DYNSYM":
                for sym in sec.iter_symbols():
                    if not sym.name:
                        continue
                    if sym["st_shndx"] == "SHN_UNDEF":
                        imports.add(sym.name)
                    elif sym["st_info"]["bind"] in ("STB_GLOBAL", "STB_WEAK"):
                        exports.add(sym.name)
            elif isinstance(sec, DynamicSection):
                needed.extend(
                    str(getattr(t, "needed", "")) for t in sec.iter_tags() if t.entry.d_tag == "DT_NEEDED"
                )
        return ElfFacts(sections, imports, exports, needed)
    except (ELFError, ValueError, KeyError, AttributeError, IndexError, TypeError, OSError):
        return None


def elf_diff(a: bytes, b: bytes) -> dict[str, Any]:
    fa, fb = elf_facts(a), elf_facts(b)
    if fa is None or fb is None:
        return {"note": "ELF headers could not be parsed on one side"}
    sec_changed = {
        n: {"old": fa.sections[n], "new": fb.sections[n]}
        for n in sorted(fa.sections.keys() & fb.sections.keys())
        if fa.sections[n] != fb.sections[n]
    }
    return {
        "sections_added": {n: fb.sections[n] for n in sorted(fb.sections.keys() - fa.sections.keys())},
        "sections_removed": {n: fa.sections[n] for n in sorted(fa.sections.keys() - fb.sections.keys())},
        "sections_resized": sec_changed,
        "imports_added": sorted(fb.imports - fa.imports),
        "imports_removed": sorted(fa.imports - fb.imports),
        "exports_added": sorted(fb.exports - fa.exports),
        "exports_removed": sorted(fa.exports - fb.exports),
        "needed_added": sorted(set(fb.needed) - set(fa.needed)),
        "needed_removed": sorted(set(fa.needed) - set(fb.needed)),
    }
