"""Feed importers: NVD CVE API 2.0 JSON, OSV JSON, CISA KEV CSV, Linux kernel fix data.

Feeds are streamed (ijson) and written in batches, one transaction per batch: a full NVD
download is 1.5 GB of JSON and must never be loaded whole.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import ijson  # type: ignore[import-untyped]

from assay.errors import InputError
from assay.vulns.cpe import parse_cpe
from assay.vulns.db import CpeRow, NvdRecord, OsvRecord, VulnDB
from assay.vulns.scores import osv_scores, score_entry

BATCH = 2000
_MAX_REFS = 25
_RANGE_KEYS = ("versionStartIncluding", "versionStartExcluding", "versionEndIncluding", "versionEndExcluding")
_KERNEL_LINE = re.compile(r"^(CVE-\d{4}-\d+):\s.*\((?:unk|v([^\s)]+)) to (?:unk|v([^\s)]+))\)\s*$")
_KERNEL_RANGE = re.compile(r"^(?:unk|v(\S+)) to (?:unk|v(\S+))$")

Progress = Callable[[int], None]


@dataclass(frozen=True)
class ImportResult:
    path: Path
    kind: str
    records: int  # records written: new, or newer than the stored copy


# -- opening and sniffing --------------------------------------------------------------------


def _open(path: Path) -> IO[bytes]:
    fh: IO[bytes] = open(path, "rb")  # noqa: SIM115 - returned to the caller
    magic = fh.read(2)
    fh.seek(0)
    if magic == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=fh)  # type: ignore[return-value]
    return fh


def _sniff(head: bytes) -> str | None:
    text = head.decode("utf-8", "replace").lstrip("\ufeff \t\r\n")
    if text.startswith("cveID,") or text.startswith('"cveID",'):
        return "kev"
    if re.match(r"CVEid:|CVE-\d{4}-\d+: ", text):
        return "kernel-text"
    if re.match(r'\{\s*"CVE-\d{4}-\d+"\s*:', text):
        return "kernel-stream"
    if re.search(r'"format"\s*:\s*"NVD_CVE"', text) or re.search(r'"vulnerabilities"\s*:\s*\[', text):
        return "nvd"
    if text.startswith("[") or re.search(r'"(affected|schema_version|modified)"\s*:', text):
        return "osv"
    return None


def import_path(db: VulnDB, path: Path, progress: Progress | None = None) -> list[ImportResult]:
    """Import one file, a zip of OSV records, or a directory of them; returns what was read."""
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in (".json", ".gz", ".zip"))
        results = []
        osv_files = []
        for f in files:
            if f.suffix == ".json" and _sniff(_head(f)) == "osv":
                osv_files.append(f)
            else:
                results += import_path(db, f, progress)
        if osv_files:
            n = _import_osv_stream(db, (_read_osv(f) for f in osv_files), progress)
            results.append(ImportResult(path, "osv", n))
        return results
    if zipfile.is_zipfile(path):
        n = _import_zip(db, path, progress)
        db.record_source(path, "zip", n)
        return [ImportResult(path, "zip", n)]
    kind = _sniff(_head(path))
    importer = _IMPORTERS.get(kind or "")
    if importer is None:
        raise InputError(f"{path}: not an NVD 2.0, OSV, KEV CSV or kernel CVE file")
    try:
        n = importer(db, path, progress)
    except (ijson.JSONError, json.JSONDecodeError, UnicodeDecodeError, EOFError, gzip.BadGzipFile) as exc:
        raise InputError(f"{path}: malformed {kind} data: {str(exc).splitlines()[0]}") from None
    db.record_source(path, kind or "", n)
    return [ImportResult(path, kind or "", n)]


def _head(path: Path, size: int = 1 << 16) -> bytes:
    try:
        with _open(path) as fh:
            return fh.read(size)
    except (OSError, EOFError) as exc:
        raise InputError(f"{path}: {exc}") from None


# -- NVD -------------------------------------------------------------------------------------


def _walk_matches(nodes: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for node in nodes:
        yield from node.get("cpeMatch") or ()
        yield from _walk_matches(node.get("children") or ())


def _compact_node(node: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"operator": node.get("operator", "OR"), "negate": bool(node.get("negate"))}
    out["cpeMatch"] = [
        {"vulnerable": bool(m.get("vulnerable")), "criteria": m["criteria"]}
        | {k: str(m[k]) for k in _RANGE_KEYS if m.get(k) is not None}
        for m in node.get("cpeMatch") or ()
        if m.get("criteria")
    ]
    if node.get("children"):
        out["children"] = [_compact_node(c) for c in node["children"]]
    return out


def nvd_record(cve: dict[str, Any]) -> NvdRecord:
    """The parts of an NVD CVE API 2.0 `cve` object that Assay keeps."""
    descriptions = cve.get("descriptions") or []
    desc = next((d.get("value", "") for d in descriptions if d.get("lang") == "en"), "")
    metrics = cve.get("metrics") or {}
    scores = [
        entry
        for key in ("cvssMetricV40", "cvssMetricV31", "cvssMetricV30", "cvssMetricV2")
        for m in metrics.get(key) or ()
        if (entry := score_entry(m)) is not None
    ]
    cwe = sorted(
        {
            d.get("value", "")
            for w in cve.get("weaknesses") or ()
            for d in w.get("description") or ()
            if str(d.get("value", "")).startswith("CWE-")
        }
    )
    refs = [r["url"] for r in (cve.get("references") or ())[:_MAX_REFS] if r.get("url")]
    configurations = [
        {
            "operator": c.get("operator", "OR"),
            "negate": bool(c.get("negate")),
            "nodes": [_compact_node(n) for n in c.get("nodes") or ()],
        }
        for c in cve.get("configurations") or ()
    ]
    matches: set[CpeRow] = set()
    for c in cve.get("configurations") or ():
        for m in _walk_matches(c.get("nodes") or ()):
            parsed = parse_cpe(m.get("criteria"))
            if parsed is not None:
                si, se, ei, ee = (None if m.get(k) is None else str(m[k]) for k in _RANGE_KEYS)
                vulnerable = int(bool(m.get("vulnerable")))
                matches.add((parsed.vendor, parsed.product, parsed.full_version, si, se, ei, ee, vulnerable))
    return NvdRecord(
        id=cve["id"],
        last_modified=str(cve.get("lastModified") or ""),
        published=str(cve.get("published") or ""),
        description=desc,
        scores=scores,
        cwe=cwe,
        refs=refs,
        configurations=configurations,
        matches=frozenset(matches),
    )


def _import_nvd(db: VulnDB, path: Path, progress: Progress | None) -> int:
    with _open(path) as fh:
        return _import_nvd_stream(db, fh, progress)


def _batched(records: Iterable[Any], upsert: Callable[[list[Any]], int], progress: Progress | None) -> int:
    """Write records in batches, one transaction each, so memory stays flat."""
    total, batch = 0, []
    for rec in records:
        batch.append(rec)
        if len(batch) >= BATCH:
            total += upsert(batch)
            batch = []
            if progress:
                progress(total)
    total += upsert(batch)
    if progress:
        progress(total)
    return total


def _nvd_records(fh: IO[bytes]) -> Iterator[NvdRecord]:
    for item in ijson.items(fh, "vulnerabilities.item", use_float=True):
        cve = item.get("cve") if isinstance(item, dict) else None
        if not isinstance(cve, dict) or not cve.get("id"):
            continue
        if str(cve.get("vulnStatus", "")).lower() == "rejected":
            continue
        yield nvd_record(cve)


def _import_nvd_stream(db: VulnDB, fh: IO[bytes], progress: Progress | None) -> int:
    return _batched(_nvd_records(fh), db.upsert_nvd, progress)


# -- OSV -------------------------------------------------------------------------------------


def osv_record(data: dict[str, Any]) -> OsvRecord | None:
    if not isinstance(data, dict) or not data.get("id") or data.get("withdrawn"):
        return None
    affected = [a for a in data.get("affected") or () if isinstance(a, dict)]
    packages = {
        (str(a["package"].get("ecosystem", "")), str(a["package"].get("name", "")).lower())
        for a in affected
        if isinstance(a.get("package"), dict) and a["package"].get("name")
    }
    db_specific = data.get("database_specific") or {}
    severity = db_specific.get("severity") if isinstance(db_specific, dict) else None
    cwe = db_specific.get("cwe_ids") if isinstance(db_specific, dict) else None
    return OsvRecord(
        id=str(data["id"]),
        modified=str(data.get("modified") or ""),
        aliases=[str(a) for a in data.get("aliases") or ()],
        summary=str(data.get("summary") or data.get("details") or "")[:2000],
        scores=osv_scores(data.get("severity") or []),
        severity=str(severity).lower() if severity else None,
        cwe=[str(c) for c in cwe or ()],
        refs=[r["url"] for r in (data.get("references") or ())[:_MAX_REFS] if r.get("url")],
        affected=[
            {k: a[k] for k in ("package", "ranges", "versions") if k in a}
            for a in affected
            if isinstance(a.get("package"), dict)
        ],
        packages=frozenset(packages),
    )


def _read_osv(path: Path) -> Iterator[dict[str, Any]]:
    with _open(path) as fh:
        yield from _osv_items(fh)


def _osv_items(fh: IO[bytes]) -> Iterator[dict[str, Any]]:
    # A record is small, but a file may hold a list of them: stream the list.
    head = fh.read(1 << 12)
    rest = io.BufferedReader(_Prefixed(head, fh))  # type: ignore[arg-type]
    if head.lstrip().startswith(b"["):
        yield from ijson.items(rest, "item", use_float=True)
    else:
        yield json.load(rest)


class _Prefixed(io.RawIOBase):
    """A stream that replays bytes already read, then continues with the source."""

    def __init__(self, head: bytes, src: IO[bytes]) -> None:
        self.head, self.src = head, src

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        if self.head:
            n = min(len(buf), len(self.head))
            buf[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        data = self.src.read(len(buf))
        buf[: len(data)] = data
        return len(data)


def _import_osv_stream(
    db: VulnDB, sources: Iterable[Iterable[dict[str, Any]]], progress: Progress | None
) -> int:
    records = (rec for items in sources for data in items if (rec := osv_record(data)) is not None)
    return _batched(records, db.upsert_osv, progress)


def _import_osv(db: VulnDB, path: Path, progress: Progress | None) -> int:
    return _import_osv_stream(db, [_read_osv(path)], progress)


def _import_zip(db: VulnDB, path: Path, progress: Progress | None) -> int:
    """A zip of OSV records (as OSV publishes per ecosystem), or of NVD feed files."""
    total = 0
    with zipfile.ZipFile(path) as zf:
        names = [n for n in zf.namelist() if n.endswith(".json")]
        osv_names = []
        for name in names:
            with zf.open(name) as fh:
                kind = _sniff(fh.read(1 << 16))
            if kind == "nvd":
                with zf.open(name) as fh:
                    total += _import_nvd_stream(db, fh, progress)
            elif kind == "osv":
                osv_names.append(name)

        def records(name: str) -> Iterator[dict[str, Any]]:
            with zf.open(name) as fh:
                yield from _osv_items(fh)

        total += _import_osv_stream(db, (records(n) for n in osv_names), progress)
    return total


# -- KEV -------------------------------------------------------------------------------------


def _import_kev(db: VulnDB, path: Path, progress: Progress | None) -> int:
    with _open(path) as raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as text:
        reader = csv.DictReader(text)
        if not reader.fieldnames or "cveID" not in reader.fieldnames:
            raise InputError(f"{path}: a KEV CSV needs a cveID column")
        rows = [
            (
                r["cveID"].strip(),
                (r.get("dateAdded") or "").strip(),
                (r.get("vulnerabilityName") or "").strip(),
                (r.get("knownRansomwareCampaignUse") or "").strip(),
            )
            for r in reader
            if (r.get("cveID") or "").startswith("CVE-")
        ]
    n = db.upsert_kev(rows)
    if progress:
        progress(n)
    return n


# -- Linux kernel ----------------------------------------------------------------------------


def _import_kernel_stream(db: VulnDB, path: Path, progress: Progress | None) -> int:
    """stream_fixes.json: {CVE: {stable branch: {cmt_id, fixed_version}}}; or kernel_cves.json."""
    rows: list[tuple[str, str, str | None, str | None]] = []
    cves = 0
    with _open(path) as fh:
        for cve, branches in ijson.kvitems(fh, ""):
            if not isinstance(branches, dict):
                continue
            cves += 1
            # kernel_cves.json, from the same project, has the mainline range per CVE instead
            m = _KERNEL_RANGE.search(str(branches.get("affected_versions", "")))
            if m and (m.group(1) or m.group(2)):
                rows.append((cve, "mainline", m.group(2), m.group(1)))
            for branch, fix in branches.items():
                fixed = fix.get("fixed_version") if isinstance(fix, dict) else None
                if fixed:
                    rows.append((cve, str(branch), str(fixed), None))
            if len(rows) >= BATCH:
                db.upsert_kernel(rows)
                rows = []
    db.upsert_kernel(rows)
    if progress:
        progress(cves)
    return cves


def _import_kernel_text(db: VulnDB, path: Path, progress: Progress | None) -> int:
    """CVEs.txt: `CVE: breaks - fixes (vINTRODUCED to vFIXED)` for mainline releases."""
    rows: list[tuple[str, str, str | None, str | None]] = []
    with _open(path) as raw, io.TextIOWrapper(raw, encoding="utf-8", errors="replace") as text:
        for line in text:
            m = _KERNEL_LINE.match(line.strip())
            if m and (m.group(2) or m.group(3)):
                rows.append((m.group(1), "mainline", m.group(3), m.group(2)))
    n = db.upsert_kernel(rows)
    if progress:
        progress(n)
    return n


_IMPORTERS: dict[str, Callable[[VulnDB, Path, Progress | None], int]] = {
    "nvd": _import_nvd,
    "osv": _import_osv,
    "kev": _import_kev,
    "kernel-stream": _import_kernel_stream,
    "kernel-text": _import_kernel_text,
}

__all__ = ["ImportResult", "import_path", "nvd_record", "osv_record"]
