"""Flash and disk filesystems read through dissect: ext2/3/4, JFFS2 (both byte orders),
cramfs. The readers parse inodes themselves, so mode, owner, setuid bits and link
targets are exactly what the image records."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from dissect.util.stream import RangeStream

from assay.errors import LimitExceeded
from assay.unpack.base import KIND_DIR, KIND_FILE, KIND_SYMLINK, MetaEntry, kind_from_mode
from assay.unpack.handlers.base import (
    Extracted,
    Handler,
    HandlerContext,
    HandlerError,
    TreeBuilder,
    read_chunks,
)

if TYPE_CHECKING:
    from dissect.extfs import ExtFS

_MAX_PATH_DEPTH = 256


def walk_tree(
    tb: TreeBuilder,
    root: Any,
    children: Callable[[Any], Iterable[tuple[str, Any]]],
    describe: Callable[[Any], tuple[int, int, int, int, int | None]],
    key: Callable[[Any], Any],
) -> None:
    """Depth-first copy of a dissect tree. describe(node) -> (mode, uid, gid, size, mtime)."""
    seen: set[Any] = set()
    stack: list[tuple[str, Any]] = [("/", root)]
    while stack:
        path, node = stack.pop()
        try:
            mode, uid, gid, size, mtime = describe(node)
            kind = kind_from_mode(mode)
            meta = MetaEntry(path=path, kind=kind, mode=mode & 0o7777, uid=uid, gid=gid, mtime=mtime)
            if kind == KIND_DIR:
                if key(node) in seen or path.count("/") > _MAX_PATH_DEPTH:
                    tb.warn(f"{path}: directory loop; not followed")
                    continue
                seen.add(key(node))
                tb.add(meta)
                for name, child in children(node):
                    if name in ("", ".", "..") or "/" in name:
                        if name not in (".", ".."):
                            tb.warn(f"entry name {name!r} in {path} skipped")
                        continue
                    stack.append((path.rstrip("/") + "/" + name, child))
            elif kind == KIND_SYMLINK:
                meta.link_target = node.link
                tb.add(meta)
            elif kind == KIND_FILE:
                tb.add(meta, read_chunks(node.open(), size), size)
            else:
                tb.add(meta)
        except LimitExceeded:
            raise
        except Exception as exc:  # one bad inode must not lose the rest of the tree
            tb.warn(f"{path}: {type(exc).__name__}: {exc}")


def _ts(dt: Any) -> int | None:
    try:
        return int(dt.timestamp())
    except (AttributeError, ValueError, OverflowError, OSError):
        return None


class ExtHandler(Handler):
    name = "extfs"
    patterns = (b"\x53\xef",)
    magic_offset = 0x438

    def probe(self, data: memoryview, start: int) -> int | None:
        sb = start + 1024
        if len(data) - sb < 264:
            return None
        (inodes, blocks_lo) = struct.unpack_from("<II", data, sb)
        (first_data_block, log_block, log_cluster) = struct.unpack_from("<III", data, sb + 20)
        (blocks_per_group, _c, inodes_per_group) = struct.unpack_from("<III", data, sb + 32)
        (state, errors) = struct.unpack_from("<HH", data, sb + 58)
        (rev,) = struct.unpack_from("<I", data, sb + 76)
        if log_block > 6 or log_cluster > 16 or rev > 1 or state > 7 or not 1 <= errors <= 3:
            return None
        if inodes < 10 or not blocks_per_group or not inodes_per_group or first_data_block > 1:
            return None
        size = blocks_lo * (1024 << log_block)
        if size < 8192:
            return None
        return min(size, len(data) - start)

    def extract(
        self, src: Path, start: int, size: int, dest: Path, fs_id: str, ctx: HandlerContext
    ) -> Extracted:
        tb = TreeBuilder(fs_id, "extfs", dest, ctx, f"ext filesystem at 0x{start:x} in {src.name}")
        # The readers are imported when an image needs them: each builds its structure parsers
        # at import, which would cost every scan a tenth of a second.
        from dissect.extfs import ExtFS

        with open(src, "rb") as fh:
            fs = ExtFS(RangeStream(fh, start, size))
            tb.fs.fstype = _ext_version(fs)

            def describe(n: Any) -> tuple[int, int, int, int, int | None]:
                i = n.inode
                return (
                    i.i_mode,
                    i.i_uid | (i.i_uid_high << 16),
                    i.i_gid | (i.i_gid_high << 16),
                    n.size,
                    _ts(n.mtime),
                )

            walk_tree(
                tb,
                fs.get(2),
                lambda n: ((c.filename, c) for c in n.iterdir()),
                describe,
                lambda n: n.inum,
            )
        return Extracted(filesystem=tb.fs)


def _ext_version(fs: ExtFS) -> str:
    incompat = fs.sb.s_feature_incompat
    if incompat & 0x2C0:  # extents, 64bit, flex_bg
        return "ext4"
    if fs.sb.s_feature_compat & 0x4:  # has_journal
        return "ext3"
    return "ext2"


_JFFS2_NODES = {0xE001, 0xE002, 0x2003, 0x2004, 0x2006, 0xE008, 0xE009, 0x0000}


def _jffs2_crc(b: bytes) -> int:
    return zlib.crc32(b, 0xFFFFFFFF) ^ 0xFFFFFFFF


class Jffs2Handler(Handler):
    """JFFS2 in either byte order. dissect reads little-endian only, so a big-endian
    image is rewritten node by node into a little-endian copy first (payloads are
    byte-order free; dissect ignores node CRCs)."""

    name = "jffs2"
    patterns = (b"\x85\x19", b"\x19\x85")

    def _node(self, data: memoryview, pos: int, endian: str) -> int | None:
        if len(data) - pos < 12:
            return None
        magic, ntype, totlen, crc = struct.unpack_from(endian + "HHII", data, pos)
        if magic not in (0x1985, 0x1984) or ntype & 0xFFF not in {t & 0xFFF for t in _JFFS2_NODES}:
            return None
        if totlen < 12 or pos + totlen > len(data):
            return None
        if _jffs2_crc(bytes(data[pos : pos + 8])) != crc:
            return None
        return totlen

    def probe(self, data: memoryview, start: int) -> int | None:
        if start % 4:
            return None
        endian = "<" if bytes(data[start : start + 2]) == b"\x85\x19" else ">"
        pos = start
        nodes = 0
        end = start
        while pos < len(data):
            totlen = self._node(data, pos, endian)
            if totlen is not None:
                nodes += 1
                pos += (totlen + 3) & ~3
                end = pos
                continue
            # Erase-block padding (0xff or 0x00) between nodes; anything else ends the fs.
            skip = _skip_padding(data, pos)
            if skip == pos:
                break
            pos = skip
        if nodes < 2:
            return None
        # Trailing padding belongs to the image (erase blocks are padded out).
        return max(end, min(pos, len(data))) - start

    def extract(
        self, src: Path, start: int, size: int, dest: Path, fs_id: str, ctx: HandlerContext
    ) -> Extracted:
        what = f"jffs2 at 0x{start:x} in {src.name}"
        tb = TreeBuilder(fs_id, "jffs2", dest, ctx, what)
        with open(src, "rb") as fh:
            fh.seek(start)
            big = fh.read(2) == b"\x19\x85"
            raw: BinaryIO
            if big:
                fh.seek(start)
                raw = cast(BinaryIO, _BytesIO(_jffs2_be_to_le(fh.read(size))))
                tb.fs.fstype = "jffs2-be"
            else:
                raw = RangeStream(fh, start, size)  # type: ignore[assignment]
            from dissect.jffs import JFFS2

            try:
                fs = JFFS2(raw)
            except Exception as exc:
                raise HandlerError(f"jffs2 not readable: {exc}") from None

            def describe(n: Any) -> tuple[int, int, int, int, int | None]:
                if n.inum == 1:
                    return (0o040755, 0, 0, 0, None)
                return (n.mode, n.uid, n.gid, n.size, _ts(n.mtime))

            walk_tree(tb, fs.root, lambda n: n.iterdir(), describe, lambda n: n.inum)
        if len(tb.fs.entries) <= 1:
            raise HandlerError("jffs2 image holds no files")
        return Extracted(filesystem=tb.fs)


def _skip_padding(data: memoryview, pos: int) -> int:
    end = len(data)
    while pos < end:
        block = bytes(data[pos : min(end, pos + 65536)])
        stripped = block.lstrip(b"\xff") if block[:1] == b"\xff" else block.lstrip(b"\x00")
        if not stripped:
            pos += len(block)
            continue
        pos += len(block) - len(stripped)
        return pos & ~3
    return pos


def _jffs2_be_to_le(buf: bytes) -> bytes:
    out = bytearray(buf)
    pos = 0
    n = len(buf)
    while pos + 12 <= n:
        magic, ntype, totlen = struct.unpack_from(">HHI", buf, pos)
        if magic not in (0x1985, 0x1984) or totlen < 12 or pos + totlen > n:
            pos += 4
            continue
        struct.pack_into("<HHII", out, pos, magic, ntype, totlen, struct.unpack_from(">I", buf, pos + 8)[0])
        if ntype == 0xE001 and totlen >= 40:
            for off in (12, 16, 20, 24, 32, 36):
                _swap32(buf, out, pos + off)
        elif ntype == 0xE002 and totlen >= 68:
            for off in (12, 16, 20, 28, 32, 36, 40, 44, 48, 52, 60, 64):
                _swap32(buf, out, pos + off)
            for off in (24, 26, 58):
                struct.pack_into("<H", out, pos + off, struct.unpack_from(">H", buf, pos + off)[0])
        pos += (totlen + 3) & ~3
    return bytes(out)


def _swap32(src: bytes, out: bytearray, off: int) -> None:
    struct.pack_into("<I", out, off, struct.unpack_from(">I", src, off)[0])


class _BytesIO:
    """Read/seek over bytes without copying slices twice (io.BytesIO would copy all)."""

    def __init__(self, data: bytes) -> None:
        self.data = memoryview(data)
        self.pos = 0

    def read(self, n: int = -1) -> bytes:
        end = len(self.data) if n is None or n < 0 else self.pos + n
        out = bytes(self.data[self.pos : end])
        self.pos += len(out)
        return out

    def seek(self, pos: int, whence: int = 0) -> int:
        self.pos = pos if whence == 0 else (self.pos + pos if whence == 1 else len(self.data) + pos)
        return self.pos

    def tell(self) -> int:
        return self.pos


class CramfsHandler(Handler):
    name = "cramfs"
    patterns = (b"\x45\x3d\xcd\x28",)

    def probe(self, data: memoryview, start: int) -> int | None:
        if len(data) - start < 64 or bytes(data[start + 16 : start + 32]) != b"Compressed ROMFS":
            return None
        (size,) = struct.unpack_from("<I", data, start + 4)
        if size < 64:
            return None
        return min(size, len(data) - start)

    def extract(
        self, src: Path, start: int, size: int, dest: Path, fs_id: str, ctx: HandlerContext
    ) -> Extracted:
        tb = TreeBuilder(fs_id, "cramfs", dest, ctx, f"cramfs at 0x{start:x} in {src.name}")
        from dissect.cramfs import CramFS

        with open(src, "rb") as fh:
            fs = CramFS(RangeStream(fh, start, size))

            def describe(n: Any) -> tuple[int, int, int, int, int | None]:
                return (n.mode, n.uid, n.gid, n.size, None)

            walk_tree(tb, fs.root, lambda n: ((c.name, c) for c in n.iterdir()), describe, lambda n: n.offset)
        return Extracted(filesystem=tb.fs)
