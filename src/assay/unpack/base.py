"""Types the unpack stage hands to the index stage."""

from __future__ import annotations

import stat
from dataclasses import dataclass, field
from pathlib import Path

KIND_FILE = "file"
KIND_DIR = "dir"
KIND_SYMLINK = "symlink"
KIND_CHAR = "char"
KIND_BLOCK = "block"
KIND_FIFO = "fifo"
KIND_SOCKET = "socket"


def kind_from_mode(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return KIND_DIR
    if stat.S_ISLNK(mode):
        return KIND_SYMLINK
    if stat.S_ISCHR(mode):
        return KIND_CHAR
    if stat.S_ISBLK(mode):
        return KIND_BLOCK
    if stat.S_ISFIFO(mode):
        return KIND_FIFO
    if stat.S_ISSOCK(mode):
        return KIND_SOCKET
    return KIND_FILE


@dataclass
class MetaEntry:
    """One inode as the filesystem itself records it (not as the host disk shows it)."""

    path: str  # inside the filesystem, starts with '/'
    kind: str
    mode: int  # permission bits including setuid/setgid/sticky (0o7777)
    uid: int = 0
    gid: int = 0
    size: int = 0
    link_target: str | None = None
    mtime: int | None = None
    device: tuple[int, int] | None = None


@dataclass
class Layer:
    """One container found in the image: where it sat and which handler opened it."""

    handler: str
    offset: int
    size: int | None
    depth: int
    parent: str | None  # path of the blob it was found in, relative to the image
    note: str | None = None


@dataclass
class ExtractedFS:
    """A filesystem tree materialised under host_root, with its true metadata."""

    id: str
    fstype: str
    host_root: Path
    entries: dict[str, MetaEntry] = field(default_factory=dict)
    source: str = ""  # e.g. "image.bin@0x1000" or "/lib/firmware/x.cpio"
    metadata_exact: bool = True  # False when modes came from a tool that resets them

    @property
    def looks_like_root(self) -> bool:
        return any(p in self.entries for p in ("/etc", "/bin", "/sbin"))


@dataclass
class UnpackResult:
    filesystems: list[ExtractedFS]
    layers: list[Layer]
    warnings: list[str] = field(default_factory=list)
    image_format: str = "unknown"

    @property
    def roots(self) -> list[ExtractedFS]:
        roots = [fs for fs in self.filesystems if fs.looks_like_root]
        return roots or self.filesystems
