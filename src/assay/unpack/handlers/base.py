"""The handler interface (a small class per format, as in unblob) and the tree builder
that every filesystem/archive handler feeds."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, ClassVar

from assay.errors import UnsafeArchive
from assay.unpack.base import KIND_DIR, KIND_FILE, KIND_SYMLINK, ExtractedFS, MetaEntry
from assay.unpack.limits import Budget, Deadline, Limits, SafeWriter, check_raw_name, safe_inner_path

CHUNK = 1 << 20


@dataclass
class HandlerContext:
    limits: Limits
    budget: Budget
    warnings: list[str] = field(default_factory=list)

    def deadline(self, what: str) -> Deadline:
        return Deadline(self.limits.max_seconds_per_extractor, what)


@dataclass
class Extracted:
    """What a handler produced: a filesystem with metadata, and/or blobs to look into next."""

    filesystem: ExtractedFS | None = None
    blobs: list[tuple[str, Path]] = field(default_factory=list)  # (label, host path)
    note: str | None = None
    size: int | None = None  # bytes really consumed, when only extraction can tell


class HandlerError(Exception):
    """The container is damaged or not what its magic promised; becomes a warning."""


class Handler:
    name: ClassVar[str]
    # Magic bytes, found at `magic_offset` bytes after the start of the container.
    patterns: ClassVar[tuple[bytes, ...]]
    magic_offset: ClassVar[int] = 0
    # filesystem: yields a tree with metadata; wrapper: yields a payload blob.
    kind: ClassVar[str] = "filesystem"

    def probe(self, data: memoryview, start: int) -> int | None:
        """The container's size if a valid one starts at `start`, else None."""
        raise NotImplementedError

    def extract(
        self, src: Path, start: int, size: int, dest: Path, fs_id: str, ctx: HandlerContext
    ) -> Extracted:
        raise NotImplementedError


def read_chunks(stream: IO[bytes], size: int | None = None) -> Iterator[bytes]:
    left = size
    while left is None or left > 0:
        chunk = stream.read(CHUNK if left is None else min(CHUNK, left))
        if not chunk:
            return
        if left is not None:
            left -= len(chunk)
        yield chunk


class TreeBuilder:
    """Records each entry's true metadata and writes only files and directories to disk.

    An entry below a path that the archive itself made a symlink is refused: writing it
    would mean following the link, which is how archives escape their root.
    """

    def __init__(self, fs_id: str, fstype: str, dest: Path, ctx: HandlerContext, what: str) -> None:
        self.ctx = ctx
        self.writer = SafeWriter(dest, ctx.budget)
        self.fs = ExtractedFS(id=fs_id, fstype=fstype, host_root=dest)
        self.deadline = ctx.deadline(what)
        self.what = what
        self._links: set[str] = set()
        self.fs.entries["/"] = MetaEntry(path="/", kind=KIND_DIR, mode=0o755)

    def warn(self, msg: str) -> None:
        self.ctx.warnings.append(f"{self.what}: {msg}")

    def inner(self, raw: str) -> str:
        """A raw archive name as an inner path, warning when it tried to escape."""
        msg = check_raw_name(raw)
        if msg:
            self.warn(msg)
        return safe_inner_path(raw)

    def _under_link(self, path: str) -> str | None:
        parent = posixpath.dirname(path)
        while parent != "/":
            if parent in self._links:
                return parent
            parent = posixpath.dirname(parent)
        return None

    def add(
        self,
        meta: MetaEntry,
        data: Iterable[bytes] | None = None,
        declared_size: int | None = None,
    ) -> bool:
        """Add one entry; False (and a warning) when it was refused."""
        self.deadline.check()
        path = meta.path
        link = self._under_link(path)
        if link is not None:
            self.warn(f"entry {path!r} lies below the symlink {link!r}; not written")
            return False
        old = self.fs.entries.get(path)
        try:
            if meta.kind == KIND_DIR:
                if old is not None and old.kind != KIND_DIR and path != "/":
                    self.warn(f"entry {path!r} is both a {old.kind} and a directory; kept the first")
                    return False
                self.writer.mkdir(path)
                self.ctx.budget.add_file()
            elif meta.kind == KIND_FILE:
                if old is not None and old.kind == KIND_DIR:
                    self.warn(f"entry {path!r} is both a directory and a file; kept the directory")
                    return False
                self._ensure_parents(path)
                written = self.writer.write_stream(path, data if data is not None else [], declared_size)
                meta.size = written
            else:
                if path == "/":
                    return False
                self._ensure_parents(path)
                self.ctx.budget.add_file()
        except UnsafeArchive as exc:
            self.warn(str(exc))
            return False
        if meta.kind == KIND_SYMLINK:
            self._links.add(path)
        else:
            self._links.discard(path)
        if path == "/" and old is not None and meta.kind != KIND_DIR:
            return False
        self.fs.entries[path] = meta
        return True

    def _ensure_parents(self, path: str) -> None:
        """Archives may omit directory entries; give implied parents a plain 0755 entry."""
        parent = posixpath.dirname(path)
        missing: list[str] = []
        while parent not in self.fs.entries:
            missing.append(parent)
            parent = posixpath.dirname(parent)
        for p in reversed(missing):
            self.fs.entries[p] = MetaEntry(path=p, kind=KIND_DIR, mode=0o755)
