"""Per-file check results kept between scans, keyed by the file's content and the code that made them.

Firmware images share most of their programs (one vendor SDK, one busybox build across a product
line), so a corpus scan disassembles the same binary many times. A check whose result for a file
depends on nothing but the file's bytes can keep that result here: the key is (check id, SHA-256 of
the file, fingerprint of Assay's code and data), so a changed rule or a new Assay release never
reads an old result. Values are JSON, never pickle: a cache file someone else could write must not
be able to run code. The cache is best effort: if it cannot be opened, read or written, the check
computes the result as it would without one.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import assay
from assay.analysis import binary

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS results (
        check_id TEXT NOT NULL,
        code TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (check_id, code, sha256)
    )""",
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
)
_SOURCES = (".py", ".yar", ".tsv", ".txt", ".json")
# Libraries whose behaviour is part of a result: the disassembler, YARA, the ELF tables, numpy.
_LIBRARIES = ("capstone", "yara", "elftools", "numpy")


def code_fingerprint(package: Path | None = None) -> str:
    """SHA-256 over the package's code and bundled data (rules, word lists) and the versions of the
    libraries that analyse files: any edit or upgrade changes it."""
    root = package or Path(assay.__file__).parent
    h = hashlib.sha256()
    for name in _LIBRARIES:
        try:
            version = getattr(importlib.import_module(name), "__version__", "?")
        except ImportError:
            version = "missing"
        h.update(f"{name}=={version}\n".encode())
    # the compiled build of a module runs the same source, but it is a different program
    h.update(f"binary={Path(binary.__file__).suffix}\n".encode())
    for path in sorted(p for p in root.rglob("*") if p.suffix in _SOURCES and "__pycache__" not in p.parts):
        h.update(str(path.relative_to(root)).encode() + b"\0")
        h.update(path.read_bytes())
    return h.hexdigest()


class ResultCache:
    """An SQLite file of JSON results. Safe to share between processes, forked ones included:
    each process opens its own connection."""

    def __init__(self, path: Path, code: str | None = None) -> None:
        self.path = path
        self.code = code or code_fingerprint()
        self._pid = -1
        self._conn: sqlite3.Connection | None = None
        # Connections a forked process inherited: never used and never closed there (closing a
        # parent's SQLite handle in a child is undefined), so they are kept referenced.
        self._inherited: list[sqlite3.Connection] = []
        self.broken: str | None = None  # why the cache was given up, if it was
        if self._connect() is not None:
            self._forget_other_code()

    def _connect(self) -> sqlite3.Connection | None:
        if self.broken:
            return None
        if self._conn is not None and self._pid == os.getpid():
            return self._conn
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            for statement in _SCHEMA:
                conn.execute(statement)
        except (OSError, sqlite3.Error) as exc:
            self.broken = f"result cache {self.path} not used: {exc}"
            return None
        # A connection inherited through fork belongs to the parent: leave it alone, open our own.
        if self._conn is not None:
            self._inherited.append(self._conn)
        self._conn, self._pid = conn, os.getpid()
        return conn

    def _forget_other_code(self) -> None:
        """Results of other code are never read again: drop them, once per change of code (the
        check is one row, so opening a big cache stays cheap)."""
        conn = self._connect()
        if conn is None:
            return
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = 'code'").fetchone()
        except sqlite3.Error:
            return
        if row is None or row[0] != self.code:
            self._write("DELETE FROM results WHERE code != ?", (self.code,))
            self._write("INSERT OR REPLACE INTO meta (key, value) VALUES ('code', ?)", (self.code,))

    def _write(self, sql: str, args: tuple[Any, ...]) -> None:
        conn = self._connect()
        if conn is None:
            return
        # another process holds the lock too long, or the disk is full: then it is just not kept
        with contextlib.suppress(sqlite3.Error):
            conn.execute(sql, args)

    def get(self, check_id: str, sha256: str) -> Any | None:
        conn = self._connect()
        if conn is None:
            return None
        try:
            row = conn.execute(
                "SELECT value FROM results WHERE check_id = ? AND code = ? AND sha256 = ?",
                (check_id, self.code, sha256),
            ).fetchone()
            return json.loads(row[0]) if row else None
        except (sqlite3.Error, ValueError):
            return None

    def put(self, check_id: str, sha256: str, value: Any) -> None:
        self._write(
            "INSERT OR REPLACE INTO results (check_id, code, sha256, value) VALUES (?, ?, ?, ?)",
            (check_id, self.code, sha256, json.dumps(value, separators=(",", ":"))),
        )

    def through(self, check_id: str, sha256: str, compute: Callable[[], Any]) -> Any:
        """The kept result, or compute() kept for next time (JSON data other than null)."""
        value = self.get(check_id, sha256)
        if value is None:
            value = compute()
            self.put(check_id, sha256, value)
        return value

    def close(self) -> None:
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        elif self._conn is not None:
            self._inherited.append(self._conn)
        self._conn = None
