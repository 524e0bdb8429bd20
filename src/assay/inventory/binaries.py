"""Version evidence from the bytes of binaries: one yara pass per file, then exact regex extraction."""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections import Counter
from dataclasses import dataclass, field

from assay.index import FileEntry, FileIndex
from assay.inventory.catalogue import Catalogue, Signature
from assay.model import VersionEvidence

# Types worth reading: text and scripts hold no banners, compressed data hides them.
_SCANNED_TYPES = {"elf", "data", "uimage", None}
_MAX_FILE = 256 << 20
_MAX_HITS_PER_STRING = 64
_UIMAGE_NAME = slice(32, 64)


@dataclass
class Hit:
    """One component seen in one file, with or without a version."""

    sig: Signature
    entry: FileEntry
    version: str | None
    evidence: VersionEvidence | None
    marker: VersionEvidence | None = None
    inherited_from: list[str] = field(default_factory=list)


def scan_binaries(index: FileIndex, cat: Catalogue) -> list[Hit]:
    hits: list[Hit] = []
    for entry in index.files():
        # A script or completion file may share a program's name; only binaries count.
        if entry.filetype not in _SCANNED_TYPES:
            continue
        hinted = cat.hinted_for(entry.path)
        if entry.size > _MAX_FILE or entry.size == 0:
            continue
        data = index.read(entry)
        hits.extend(_scan_file(entry, data, cat, hinted))
    return hits


def _scan_file(entry: FileEntry, data: bytes, cat: Catalogue, hinted: list[Signature]) -> list[Hit]:
    found: dict[str, list[tuple[str, int, str]]] = {}  # component -> [(version, offset, text)]
    sigs: dict[str, Signature] = {}
    for match in cat.rules.match(data=data, fast=False):
        for sm in match.strings:
            si, pi = cat.rule_map[sm.identifier]
            sig = cat.signatures[si]
            pattern = sig.patterns[pi]
            for inst in sm.instances[:_MAX_HITS_PER_STRING]:
                m = pattern.match(data, inst.offset) or pattern.search(data, inst.offset, inst.offset + 1024)
                if m is None:
                    continue
                version = sig.normalise(m.group("v").decode("latin-1"))
                found.setdefault(sig.name, []).append((version, m.start(), _text(m.group(0))))
                sigs[sig.name] = sig
    for sig in hinted:
        if sig.name in found or not _has_marker(sig, data, required=bool(sig.markers)):
            continue
        for pattern in sig.hinted:
            for m in pattern.finditer(data):
                version = sig.normalise(m.group("v").decode("latin-1"))
                found.setdefault(sig.name, []).append((version, m.start(), _text(m.group(0))))
                sigs[sig.name] = sig
                break
            if sig.name in found:
                break
    if entry.filetype == "uimage" and len(data) >= 64:
        image_name = data[_UIMAGE_NAME].split(b"\0", 1)[0]
        m = re.match(rb"Linux-(?P<v>[2-6]\.[0-9]+(?:\.[0-9]+)?)", image_name)
        linux = cat.by_name("linux")
        if m and linux is not None:
            found.setdefault("linux", []).append((m.group("v").decode(), 32, _text(image_name)))
            sigs["linux"] = linux

    hits: list[Hit] = []
    for name, seen in found.items():
        sig = sigs[name]
        if not sig.matches_file(entry.path) and _links_against(sig, data):
            # The banner belongs to a library this file only links to dynamically.
            continue
        if any(other in found for other in sig.excluded_by):
            # A compatibility string of the project this one is a fork of (libjpeg-turbo's "6b").
            continue
        counts = _fold_prefixes(Counter(v for v, _, _ in seen))
        seen = [s for s in seen if s[0] in counts]
        version = max(counts, key=lambda v: (counts[v], -min(o for vv, o, _ in seen if vv == v)))
        _, offset, text = min((s for s in seen if s[0] == version), key=lambda s: s[1])
        ev = VersionEvidence(entry.path, entry.sha256 or "", offset, text, "binary-string")
        hits.append(Hit(sig, entry, version, ev))

    if hits:
        return hits
    for sig in hinted:
        fv = _filename_version(sig, entry)
        if fv is not None:
            ev = VersionEvidence(entry.path, entry.sha256 or "", None, entry.name, "filename")
            hits.append(Hit(sig, entry, fv, ev))
    if hits:
        return hits
    for sig in hinted:
        marker = _marker_evidence(sig, entry, data)
        if marker is not None:
            hits.append(Hit(sig, entry, None, None, marker))
    return hits


def _fold_prefixes(counts: Counter[str]) -> Counter[str]:
    """Count "9.2" as "9.2p1" when the file prints both: the longer one is the full version."""
    out = Counter(counts)
    for short in counts:
        longer = [v for v in counts if v != short and v.startswith(short) and not v[len(short)].isdigit()]
        if len(longer) == 1:
            out[longer[0]] += out.pop(short)
    return out


def _text(raw: bytes) -> str:
    return raw.decode("latin-1").replace("\x00", "\\x00").replace("\n", "\\n").replace("\r", "\\r")


def _has_marker(sig: Signature, data: bytes, required: bool) -> bool:
    if not required:
        return True
    return any(m in data for m in sig.markers)


def _marker_evidence(sig: Signature, entry: FileEntry, data: bytes) -> VersionEvidence | None:
    for marker in sig.markers:
        pos = data.find(marker)
        if pos >= 0:
            return VersionEvidence(entry.path, entry.sha256 or "", pos, marker.decode("latin-1"), "marker")
    return None


def _filename_version(sig: Signature, entry: FileEntry) -> str | None:
    for pattern in sig.filename_version:
        m = pattern.match(entry.name)
        if m:
            return m.group("v")
    return None


def _links_against(sig: Signature, data: bytes) -> bool:
    """Whether data names one of the component's shared libraries as a NUL-terminated string."""
    for glob in sig.files:
        base = posixpath.basename(glob)
        if not base.startswith("lib") or ".so" not in base:
            continue
        rx = fnmatch.translate(base).removeprefix("(?s:").removesuffix(")\\Z")
        rx = rx.replace(".*", "[^\\x00/]*")
        if re.search(b"\x00" + rx.encode() + b"\x00", data):
            return True
    return False


__all__ = ["Hit", "scan_binaries"]
