"""Recursion policy: which files inside an unpacked filesystem are opened again.

A root filesystem holds thousands of files and many are compressed (man pages, locale
data, kernel modules). Opening all of them costs minutes and finds nothing a scan
needs, so a member file is descended into only when it can hold code or
configuration of its own:

* its first bytes carry the magic of a filesystem image, a cpio/initramfs, a tar or
  zip archive, or a firmware header (uImage, FIT, TRX) — checked by the handler's own
  `probe`, so the container must also be valid;
* it is compressed (gzip, xz, lzma, bzip2, zstd) and the first KiB of its payload is
  one of the containers above (a `.tar.gz`, an `initramfs.cpio.xz`); compressed data,
  man pages and the like stay closed;
* it is not below a data-only tree (`/usr/share`, `/usr/lib/locale`, `/lib/modules`,
  `/proc`, `/sys`, `/dev`) and is not a kernel module, and it is at least 512 bytes.

Blobs that are not members of a filesystem (the image itself, a payload a wrapper
produced, a chunk carved by the unblob fallback) are carved in full instead.
"""

from __future__ import annotations

import bz2
import lzma
import mmap
import os
import zlib
from collections.abc import Sequence
from pathlib import Path

import pyzstd

from assay.unpack.base import MetaEntry
from assay.unpack.handlers.base import Handler

SKIP_PREFIXES = ("/usr/share/", "/usr/lib/locale/", "/lib/modules/", "/proc/", "/sys/", "/dev/")
SKIP_SUFFIXES = (".ko", ".ko.gz", ".ko.xz", ".ko.zst", ".mo", ".gz.sig")
MIN_SIZE = 512
HEAD = 4096  # bytes of a member read to decide

_COMPRESSED: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b\x08", "gzip"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"BZh", "bzip2"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"\x5d\x00\x00", "lzma"),
)
_COMPRESSED_NAMES = frozenset(n for _, n in _COMPRESSED)


def worth_opening(meta: MetaEntry, host: Path, handlers: Sequence[Handler]) -> str | None:
    """The reason to open this member file, or None to leave it closed."""
    path = meta.path
    if meta.size < MIN_SIZE or path.startswith(SKIP_PREFIXES) or path.endswith(SKIP_SUFFIXES):
        return None
    try:
        fd = os.open(host, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        head = fh.read(HEAD)
        if _magic_at_start(head, handlers):
            size = os.fstat(fh.fileno()).st_size
            with mmap.mmap(fh.fileno(), size, access=mmap.ACCESS_READ) as mm:
                view = memoryview(mm)
                try:
                    found = _container_at_start(bytes(head), handlers, view)
                finally:
                    view.release()
            if found:
                return found
    for magic, name in _COMPRESSED:
        if head.startswith(magic):
            inner = _inflate_head(head, name)
            if inner and (found := _magic_at_start(inner, handlers)):
                return f"{name} holding {found}"
            return None
    return None


def _magic_at_start(head: bytes, handlers: Sequence[Handler]) -> str | None:
    """A container handler whose magic sits where it belongs at offset 0."""
    for h in handlers:
        if h.name in _COMPRESSED_NAMES:
            continue
        for pat in h.patterns:
            if head[h.magic_offset : h.magic_offset + len(pat)] == pat:
                return h.name
    return None


def _container_at_start(head: bytes, handlers: Sequence[Handler], view: memoryview) -> str | None:
    for h in handlers:
        if h.name in _COMPRESSED_NAMES:
            continue
        for pat in h.patterns:
            if head[h.magic_offset : h.magic_offset + len(pat)] == pat and h.probe(view, 0):
                return h.name
    return None


def _inflate_head(head: bytes, name: str) -> bytes:
    try:
        if name == "gzip":
            return zlib.decompressobj(31).decompress(head, 2048)
        if name == "xz":
            return lzma.LZMADecompressor(lzma.FORMAT_XZ).decompress(head, 2048)
        if name == "lzma":
            return lzma.LZMADecompressor(lzma.FORMAT_ALONE).decompress(head, 2048)
        if name == "bzip2":
            return bz2.BZ2Decompressor().decompress(head, 2048)
        return pyzstd.ZstdDecompressor().decompress(head, 2048)
    except (zlib.error, lzma.LZMAError, OSError, EOFError, ValueError, pyzstd.ZstdError):
        return b""
