"""The offline vulnerability database: one SQLite file, written by importers, read by matching.

NVD records keep their configurations as compact JSON (evaluated at match time) and one row
per cpeMatch (vendor, product, version, range bounds), indexed on (vendor, product): matching
first filters those rows by version and decodes the configurations of the few that hold. Upserts
are by id and the newer lastModified wins, so importing the same feed twice changes nothing.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assay.errors import DatabaseError, InputError

SCHEMA_VERSION = "2"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS nvd (
    id TEXT PRIMARY KEY, last_modified TEXT, published TEXT, description TEXT,
    scores TEXT, cwe TEXT, refs TEXT, configurations TEXT);
CREATE TABLE IF NOT EXISTS nvd_cpe (
    cve_id TEXT NOT NULL, vendor TEXT NOT NULL, product TEXT NOT NULL, version TEXT NOT NULL,
    start_incl TEXT, start_excl TEXT, end_incl TEXT, end_excl TEXT, vulnerable INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS nvd_cpe_vendor_product ON nvd_cpe (vendor, product);
CREATE INDEX IF NOT EXISTS nvd_cpe_cve ON nvd_cpe (cve_id);
CREATE TABLE IF NOT EXISTS osv (
    id TEXT PRIMARY KEY, modified TEXT, aliases TEXT, summary TEXT, scores TEXT,
    severity TEXT, cwe TEXT, refs TEXT, affected TEXT);
CREATE TABLE IF NOT EXISTS osv_pkg (vuln_id TEXT NOT NULL, ecosystem TEXT NOT NULL, name TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS osv_pkg_name ON osv_pkg (name, ecosystem);
CREATE INDEX IF NOT EXISTS osv_pkg_vuln ON osv_pkg (vuln_id);
CREATE TABLE IF NOT EXISTS kev (
    cve_id TEXT PRIMARY KEY, date_added TEXT, name TEXT, ransomware TEXT);
CREATE TABLE IF NOT EXISTS kernel_fix (
    cve_id TEXT NOT NULL, branch TEXT NOT NULL, fixed TEXT, introduced TEXT,
    PRIMARY KEY (cve_id, branch));
CREATE INDEX IF NOT EXISTS kernel_fix_branch ON kernel_fix (branch);
CREATE TABLE IF NOT EXISTS sources (
    path TEXT PRIMARY KEY, kind TEXT, records INTEGER, size INTEGER, mtime REAL, imported_at TEXT);
"""

_MAX_PARAMS = 900  # below SQLite's oldest default limit of host parameters
_CHILD_KEY = {"nvd_cpe": "cve_id", "osv_pkg": "vuln_id"}
# (id, timestamp, table row, child rows) of one record to upsert
_Row = tuple[str, str, tuple[Any, ...], list[tuple[Any, ...]]]


# One cpeMatch: (vendor, product, version, start_incl, start_excl, end_incl, end_excl, vulnerable)
CpeRow = tuple[str, str, str, str | None, str | None, str | None, str | None, int]


@dataclass(frozen=True)
class NvdRecord:
    id: str
    last_modified: str
    published: str
    description: str
    scores: list[dict[str, Any]]
    cwe: list[str]
    refs: list[str]
    configurations: list[dict[str, Any]]
    matches: frozenset[CpeRow]


@dataclass(frozen=True)
class OsvRecord:
    id: str
    modified: str
    aliases: list[str]
    summary: str
    scores: list[dict[str, Any]]
    severity: str | None
    cwe: list[str]
    refs: list[str]
    affected: list[dict[str, Any]]
    packages: frozenset[tuple[str, str]]  # (ecosystem, lower-case name)


def _dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _chunks(items: Sequence[Any], n: int = _MAX_PARAMS) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


class VulnDB:
    """A connection to one database file. Use as a context manager, or call close()."""

    def __init__(self, path: Path, *, create: bool = False) -> None:
        self.path = path
        if not create and not path.is_file():
            raise InputError(
                f"{path}: no vulnerability database (run `assay db import` or `assay db update`)"
            )
        try:
            if create:
                path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(str(path))
            self.conn.execute("PRAGMA journal_mode=WAL" if create else "PRAGMA query_only=1")
            if create:
                self.conn.execute("PRAGMA synchronous=NORMAL")
                self.conn.executescript(_SCHEMA)
                self.conn.execute(
                    "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,)
                )
                self.conn.commit()
            version = self.conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        except (sqlite3.DatabaseError, OSError) as exc:
            raise DatabaseError(f"{path}: {exc}") from None
        if version is None or version[0] != SCHEMA_VERSION:
            raise DatabaseError(
                f"{path}: not an Assay vulnerability database of schema {SCHEMA_VERSION}"
                " (move it away and rebuild it with `assay db import` or `assay db update`)"
            )

    def __enter__(self) -> VulnDB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        try:
            with self.conn:
                yield self.conn
        except sqlite3.DatabaseError as exc:
            raise DatabaseError(f"{self.path}: {exc}") from None

    # -- writing ---------------------------------------------------------------------------

    def _newer(self, table: str, column: str, stamps: dict[str, str]) -> tuple[set[str], set[str]]:
        """Of the ids given with their timestamps: those to write, and those already present."""
        present: dict[str, str] = {}
        ids = list(stamps)
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            q = f"SELECT id, {column} FROM {table} WHERE id IN ({marks})"  # noqa: S608 - fixed names
            present.update((i, m or "") for i, m in self.conn.execute(q, chunk))
        write = {i for i in ids if i not in present or stamps[i] > present[i]}
        return write, set(present) & write

    def _upsert(self, table: str, stamp: str, children: str, items: Iterable[_Row]) -> int:
        """Write the rows whose timestamp is not older than the stored one; children replaced."""
        latest: dict[str, _Row] = {}
        for item in items:
            if item[0] not in latest or item[1] >= latest[item[0]][1]:
                latest[item[0]] = item
        with self.transaction() as c:
            write, replace = self._newer(table, stamp, {i: r[1] for i, r in latest.items()})
            ids = sorted(write)
            key = _CHILD_KEY[children]
            for chunk in _chunks(sorted(replace)):
                marks = ",".join("?" * len(chunk))
                c.execute(f"DELETE FROM {children} WHERE {key} IN ({marks})", chunk)  # noqa: S608
            if ids:
                marks = ",".join("?" * len(latest[ids[0]][2]))
                c.executemany(f"INSERT OR REPLACE INTO {table} VALUES ({marks})", [latest[i][2] for i in ids])  # noqa: S608
            rows = [(i, *child) for i in ids for child in latest[i][3]]
            if rows:
                marks = ",".join("?" * len(rows[0]))
                c.executemany(f"INSERT INTO {children} VALUES ({marks})", rows)  # noqa: S608
        return len(ids)

    def upsert_nvd(self, records: Iterable[NvdRecord]) -> int:
        return self._upsert(
            "nvd",
            "last_modified",
            "nvd_cpe",
            (
                (
                    r.id,
                    r.last_modified,
                    (r.id, r.last_modified, r.published, r.description)
                    + tuple(_dump(x) for x in (r.scores, r.cwe, r.refs, r.configurations)),
                    sorted(r.matches, key=str),
                )
                for r in records
            ),
        )

    def upsert_osv(self, records: Iterable[OsvRecord]) -> int:
        return self._upsert(
            "osv",
            "modified",
            "osv_pkg",
            (
                (
                    r.id,
                    r.modified,
                    (r.id, r.modified, _dump(r.aliases), r.summary, _dump(r.scores), r.severity)
                    + tuple(_dump(x) for x in (r.cwe, r.refs, r.affected)),
                    sorted(r.packages),
                )
                for r in records
            ),
        )

    def upsert_kev(self, rows: Iterable[tuple[str, str, str, str]]) -> int:
        batch = list(rows)
        with self.transaction() as c:
            c.executemany("INSERT OR REPLACE INTO kev VALUES (?,?,?,?)", batch)
        return len(batch)

    def upsert_kernel(self, rows: Iterable[tuple[str, str, str | None, str | None]]) -> int:
        """(cve, branch, fixed, introduced); a later source fills what an earlier one left out."""
        batch = list(rows)
        with self.transaction() as c:
            c.executemany(
                "INSERT INTO kernel_fix VALUES (?,?,?,?) ON CONFLICT (cve_id, branch) DO UPDATE SET "
                "fixed = coalesce(excluded.fixed, fixed), introduced = coalesce(excluded.introduced, introduced)",
                batch,
            )
        return len(batch)

    def record_source(self, path: Path, kind: str, records: int) -> None:
        st = path.stat()
        with self.transaction() as c:
            c.execute(
                "INSERT OR REPLACE INTO sources VALUES (?,?,?,?,?,?)",
                (str(path.resolve()), kind, records, st.st_size, st.st_mtime, _now()),
            )
            c.execute("INSERT OR REPLACE INTO meta VALUES ('last_import', ?)", (_now(),))

    def source_is_current(self, path: Path) -> bool:
        row = self.conn.execute(
            "SELECT size, mtime FROM sources WHERE path = ?", (str(path.resolve()),)
        ).fetchone()
        st = path.stat()
        return row is not None and row[0] == st.st_size and row[1] == st.st_mtime

    # -- reading ---------------------------------------------------------------------------

    def nvd_candidates(self, pairs: Iterable[tuple[str, str]]) -> list[str]:
        ids: set[str] = set()
        for vendor, product in pairs:
            ids.update(
                r[0]
                for r in self.conn.execute(
                    "SELECT cve_id FROM nvd_cpe WHERE vendor = ? AND product = ?", (vendor, product)
                )
            )
        return sorted(ids)

    def nvd_vulnerable_matches(
        self, pairs: Iterable[tuple[str, str]]
    ) -> list[tuple[str, str, str | None, str | None, str | None, str | None]]:
        """(cve, version, start_incl, start_excl, end_incl, end_excl) of vulnerable cpeMatches."""
        rows = []
        for vendor, product in pairs:
            rows += self.conn.execute(
                "SELECT cve_id, version, start_incl, start_excl, end_incl, end_excl FROM nvd_cpe "
                "WHERE vendor = ? AND product = ? AND vulnerable = 1",
                (vendor, product),
            ).fetchall()
        return rows

    def nvd_configurations(self, ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for chunk in _chunks(ids):
            q = f"SELECT id, configurations FROM nvd WHERE id IN ({','.join('?' * len(chunk))})"  # noqa: S608
            out.update((i, json.loads(c)) for i, c in self.conn.execute(q, chunk))
        return out

    def nvd(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(ids):
            q = f"SELECT * FROM nvd WHERE id IN ({','.join('?' * len(chunk))})"  # noqa: S608
            for row in self.conn.execute(q, chunk):
                out[row[0]] = {
                    "id": row[0],
                    "last_modified": row[1],
                    "published": row[2],
                    "description": row[3],
                    "scores": json.loads(row[4]),
                    "cwe": json.loads(row[5]),
                    "refs": json.loads(row[6]),
                    "configurations": json.loads(row[7]),
                }
        return out

    def osv_candidates(self, names: Iterable[str]) -> dict[str, set[str]]:
        """vuln id -> ecosystems it names any of these packages under."""
        out: dict[str, set[str]] = {}
        for name in {n.lower() for n in names}:
            for vid, eco in self.conn.execute(
                "SELECT vuln_id, ecosystem FROM osv_pkg WHERE name = ?", (name,)
            ):
                out.setdefault(vid, set()).add(eco)
        return out

    def osv(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(ids):
            q = f"SELECT * FROM osv WHERE id IN ({','.join('?' * len(chunk))})"  # noqa: S608
            for row in self.conn.execute(q, chunk):
                out[row[0]] = {
                    "id": row[0],
                    "modified": row[1],
                    "aliases": json.loads(row[2]),
                    "summary": row[3],
                    "scores": json.loads(row[4]),
                    "severity": row[5],
                    "cwe": json.loads(row[6]),
                    "refs": json.loads(row[7]),
                    "affected": json.loads(row[8]),
                }
        return out

    def kev(self, cve_ids: Iterable[str]) -> dict[str, dict[str, str]]:
        ids = sorted(set(cve_ids))
        out: dict[str, dict[str, str]] = {}
        for chunk in _chunks(ids):
            q = f"SELECT * FROM kev WHERE cve_id IN ({','.join('?' * len(chunk))})"  # noqa: S608
            for cve, added, name, ransomware in self.conn.execute(q, chunk):
                out[cve] = {"date_added": added, "name": name, "ransomware": ransomware}
        return out

    def kernel_rows(self, branch: str) -> list[tuple[str, str, str | None, str | None]]:
        """Every kernel fix row of this stable branch and of mainline."""
        return list(
            self.conn.execute(
                "SELECT cve_id, branch, fixed, introduced FROM kernel_fix WHERE branch IN (?, 'mainline')",
                (branch,),
            )
        )

    def kernel_cve_count(self) -> int:
        return int(self.conn.execute("SELECT COUNT(DISTINCT cve_id) FROM kernel_fix").fetchone()[0])

    def stats(self) -> dict[str, Any]:
        def count(q: str) -> int:
            return int(self.conn.execute(q).fetchone()[0])

        meta = dict(self.conn.execute("SELECT key, value FROM meta"))
        return {
            "path": str(self.path),
            "schema_version": meta.get("schema_version"),
            "last_import": meta.get("last_import"),
            "nvd_cves": count("SELECT COUNT(*) FROM nvd"),
            "nvd_products": count("SELECT COUNT(*) FROM (SELECT DISTINCT vendor, product FROM nvd_cpe)"),
            "osv_records": count("SELECT COUNT(*) FROM osv"),
            "osv_packages": count("SELECT COUNT(*) FROM (SELECT DISTINCT ecosystem, name FROM osv_pkg)"),
            "kev_entries": count("SELECT COUNT(*) FROM kev"),
            "kernel_cves": count("SELECT COUNT(DISTINCT cve_id) FROM kernel_fix"),
            "kernel_branches": count("SELECT COUNT(DISTINCT branch) FROM kernel_fix"),
            "sources": [
                {"path": p, "kind": k, "records": n, "imported_at": t}
                for p, k, n, t in self.conn.execute(
                    "SELECT path, kind, records, imported_at FROM sources ORDER BY path"
                )
            ],
        }


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


__all__ = ["CpeRow", "NvdRecord", "OsvRecord", "VulnDB"]
