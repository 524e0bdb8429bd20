"""FileEntry and FileIndex: what checks query."""

from __future__ import annotations

import fnmatch
import hashlib
import os
import posixpath
import stat
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assay.index.elf import ElfInfo, parse_elf
from assay.index.filetype import classify
from assay.unpack.base import KIND_DIR, KIND_FILE, KIND_SYMLINK, ExtractedFS, MetaEntry

_HEAD = 8192
_SYMLINK_HOPS = 40


@dataclass
class FileEntry:
    fs: str
    path: str
    kind: str
    mode: int
    uid: int
    gid: int
    size: int
    link_target: str | None = None
    sha256: str | None = None
    filetype: str | None = None
    elf: ElfInfo | None = None
    host_path: Path | None = field(default=None, repr=False, compare=False)

    @property
    def name(self) -> str:
        return posixpath.basename(self.path)

    @property
    def is_file(self) -> bool:
        return self.kind == KIND_FILE

    @property
    def is_symlink(self) -> bool:
        return self.kind == KIND_SYMLINK

    @property
    def setuid(self) -> bool:
        return bool(self.mode & stat.S_ISUID)

    @property
    def setgid(self) -> bool:
        return bool(self.mode & stat.S_ISGID)

    @property
    def world_writable(self) -> bool:
        return bool(self.mode & stat.S_IWOTH)

    @property
    def executable(self) -> bool:
        return bool(self.mode & 0o111)

    @property
    def mode_string(self) -> str:
        type_char = {"dir": "d", "symlink": "l", "char": "c", "block": "b", "fifo": "p", "socket": "s"}
        return type_char.get(self.kind, "-") + stat.filemode(self.mode & 0o7777)[1:]

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "fs": self.fs,
            "path": self.path,
            "kind": self.kind,
            "mode": f"{self.mode & 0o7777:04o}",
            "uid": self.uid,
            "gid": self.gid,
            "size": self.size,
        }
        if self.link_target is not None:
            d["link_target"] = self.link_target
        if self.sha256:
            d["sha256"] = self.sha256
        if self.filetype:
            d["type"] = self.filetype
        if self.elf:
            d["elf"] = self.elf.to_dict()
        return d


class FileIndex:
    """All files of all unpacked filesystems; the primary root filesystem answers first."""

    def __init__(self, entries: Iterable[FileEntry], fs_order: list[str]) -> None:
        self._by_fs: dict[str, dict[str, FileEntry]] = {fs: {} for fs in fs_order}
        for e in entries:
            self._by_fs.setdefault(e.fs, {})[e.path] = e
        self.fs_order = list(self._by_fs)

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_fs.values())

    def __iter__(self) -> Iterator[FileEntry]:
        for fs in self.fs_order:
            yield from self._by_fs[fs].values()

    def files(self) -> Iterator[FileEntry]:
        """Regular files only."""
        return (e for e in self if e.kind == KIND_FILE)

    def elves(self) -> Iterator[FileEntry]:
        return (e for e in self if e.elf is not None)

    def of_type(self, *types: str) -> Iterator[FileEntry]:
        return (e for e in self.files() if e.filetype in types)

    def get(self, path: str, fs: str | None = None) -> FileEntry | None:
        path = _norm(path)
        if fs is not None:
            return self._by_fs.get(fs, {}).get(path)
        for order in self.fs_order:
            e = self._by_fs[order].get(path)
            if e is not None:
                return e
        return None

    def glob(self, pattern: str) -> Iterator[FileEntry]:
        """fnmatch over paths; '*' crosses '/' as in fnmatch."""
        return (e for e in self if fnmatch.fnmatchcase(e.path, pattern))

    def by_name(self, *names: str) -> Iterator[FileEntry]:
        wanted = set(names)
        return (e for e in self if e.name in wanted)

    def children(self, directory: str, fs: str | None = None) -> Iterator[FileEntry]:
        directory = _norm(directory)
        prefix = directory.rstrip("/") + "/"
        for order in [fs] if fs else self.fs_order:
            for p, e in self._by_fs.get(order, {}).items():
                if p.startswith(prefix) and "/" not in p[len(prefix) :]:
                    yield e

    def resolve(self, path: str, fs: str | None = None) -> FileEntry | None:
        """Follow symlinks inside the image's own tree; never onto the host."""
        entry = self.get(path, fs)
        hops = 0
        while entry is not None and entry.kind == KIND_SYMLINK and hops < _SYMLINK_HOPS:
            target = entry.link_target or ""
            base = posixpath.dirname(entry.path)
            nxt = target if target.startswith("/") else posixpath.join(base, target)
            entry = self.get(_norm(nxt), entry.fs)
            hops += 1
        return None if entry is None or entry.kind == KIND_SYMLINK else entry

    def read(self, entry: FileEntry, limit: int | None = None) -> bytes:
        if entry.kind != KIND_FILE or entry.host_path is None:
            return b""
        return _read_nofollow(entry.host_path, limit)

    def text(self, entry: FileEntry, limit: int | None = None) -> str:
        return self.read(entry, limit).decode("utf-8", errors="replace")

    def filesystems(self) -> list[str]:
        return list(self.fs_order)


def _norm(path: str) -> str:
    p = posixpath.normpath("/" + path.lstrip("/"))
    return "/" if p in ("//", "/.") else p


def _read_nofollow(path: Path, limit: int | None) -> bytes:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as fh:
        return fh.read() if limit is None else fh.read(limit)


def _hash_and_type(host: Path) -> tuple[str, str, ElfInfo | None]:
    h = hashlib.sha256()
    fd = os.open(host, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as fh:
        head = fh.read(_HEAD)
        h.update(head)
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    ftype = classify(head)
    elf = None
    if ftype == "elf":
        # Section headers sit at the end; pyelftools needs the whole file.
        elf = parse_elf(_read_nofollow(host, None))
    return h.hexdigest(), ftype, elf


def build_index(
    filesystems: list[ExtractedFS],
    progress: Callable[[int, int], None] | None = None,
) -> FileIndex:
    """Hash, classify and ELF-parse every regular file; keep metadata from the filesystem itself."""
    order = sorted(filesystems, key=lambda f: (not f.looks_like_root, f.id))
    jobs: list[tuple[ExtractedFS, MetaEntry]] = []
    for fs in order:
        for meta in fs.entries.values():
            jobs.append((fs, meta))

    def make(job: tuple[ExtractedFS, MetaEntry]) -> FileEntry:
        fs, meta = job
        entry = FileEntry(
            fs=fs.id,
            path=meta.path,
            kind=meta.kind,
            # plain ints: filesystem readers hand out their own int subclasses, which do not pickle
            mode=int(meta.mode) & 0o7777,
            uid=int(meta.uid),
            gid=int(meta.gid),
            size=int(meta.size),
            link_target=meta.link_target,
        )
        if meta.kind == KIND_FILE:
            host = fs.host_root / meta.path.lstrip("/")
            try:
                entry.sha256, entry.filetype, entry.elf = _hash_and_type(host)
                entry.host_path = host
                entry.size = host.stat().st_size
            except OSError:
                entry.filetype = "missing"
        elif meta.kind == KIND_DIR:
            entry.size = 0
        return entry

    entries: list[FileEntry] = []
    total = len(jobs)
    # hashlib and file reads release the GIL, so threads help on 2+ cores.
    with ThreadPoolExecutor(max_workers=min(8, (os.cpu_count() or 2) * 2)) as pool:
        for i, entry in enumerate(pool.map(make, jobs, chunksize=64), 1):
            entries.append(entry)
            if progress and (i % 256 == 0 or i == total):
                progress(i, total)
    return FileIndex(entries, [fs.id for fs in order])
