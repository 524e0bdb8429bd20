"""UBI images and bare UBIFS through ubi-reader. Its own extract_files would create
symlinks and device nodes on the host, so the UBIFS index is walked here and the
inode metadata (mode, uid, gid, link target) recorded instead. Volumes that are not
UBIFS (a squashfs in a static volume, a kernel) are handed back as blobs.

ubi-reader prints to stdout and calls sys.exit on fatal errors; both are contained.
"""

from __future__ import annotations

import contextlib
import io
import struct
import zlib
from pathlib import Path
from typing import Any

from assay.errors import LimitExceeded
from assay.unpack.base import KIND_DIR, KIND_FILE, KIND_SYMLINK, MetaEntry, kind_from_mode
from assay.unpack.handlers.base import Extracted, Handler, HandlerContext, HandlerError, TreeBuilder
from assay.unpack.limits import SafeWriter

_UBIFS_MAGIC = b"\x31\x18\x10\x06"


def _crc(b: bytes) -> int:
    # UBI/UBIFS: crc32 seeded with 0xffffffff and no final inversion.
    return zlib.crc32(b) ^ 0xFFFFFFFF


@contextlib.contextmanager
def _contained():  # type: ignore[no-untyped-def]
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            yield
        except SystemExit:
            raise HandlerError("ubi-reader gave up on this image") from None


def _walk_ubifs(ubifs: Any, tb: TreeBuilder) -> None:
    from ubireader.ubifs import walk
    from ubireader.ubifs.decrypt import decrypt_symlink_target
    from ubireader.ubifs.misc import process_reg_file

    inodes: dict[int, Any] = {}
    bad: list[int] = []
    walk.index(ubifs, ubifs.master_node.root_lnum, ubifs.master_node.root_offs, inodes, bad)
    if len(inodes) < 2 or 1 not in inodes:
        raise HandlerError("UBIFS index holds no inodes")
    if bad:
        tb.warn(f"bad blocks in LEBs {bad[:8]}; some data may be missing")
    root = inodes[1]["ino"]
    tb.add(MetaEntry(path="/", kind=KIND_DIR, mode=root.mode & 0o7777, uid=root.uid, gid=root.gid))
    stack: list[tuple[str, Any]] = [("", d) for d in inodes[1].get("dent", [])]
    seen: set[int] = {1}
    while stack:
        parent, dent = stack.pop()
        name = dent.name if isinstance(dent.name, str) else dent.name.decode("utf-8", "surrogateescape")
        if not name or name in (".", "..") or "/" in name or dent.inum not in inodes:
            continue
        path = f"{parent}/{name}"
        inode = inodes[dent.inum]
        ino = inode["ino"]
        kind = kind_from_mode(ino.mode)
        meta = MetaEntry(
            path=path, kind=kind, mode=ino.mode & 0o7777, uid=ino.uid, gid=ino.gid, mtime=ino.mtime_sec
        )
        try:
            if kind == KIND_DIR:
                if dent.inum in seen:
                    continue
                seen.add(dent.inum)
                tb.add(meta)
                stack.extend((path, d) for d in inode.get("dent", []))
            elif kind == KIND_SYMLINK:
                meta.link_target = decrypt_symlink_target(ubifs, inodes, dent)
                tb.add(meta)
            elif kind == KIND_FILE:
                data = process_reg_file(ubifs, inode, path, inodes)
                data = bytes(data[: ino.size]) if ino.size <= len(data) else bytes(data)
                tb.add(meta, [data], len(data))
            else:
                tb.add(meta)
        except (LimitExceeded, HandlerError):
            raise
        except Exception as exc:
            tb.warn(f"{path}: {exc}")


class UbifsHandler(Handler):
    name = "ubifs"
    patterns = (_UBIFS_MAGIC,)

    def probe(self, data: memoryview, start: int) -> int | None:
        # The first node of a UBIFS image is its superblock node (type 6).
        if len(data) - start < 4096 or data[start + 20] != 6:
            return None
        (crc,) = struct.unpack_from("<I", data, start + 4)
        (length,) = struct.unpack_from("<I", data, start + 16)
        if not 24 < length <= 4096 or _crc(bytes(data[start + 8 : start + length])) != crc:
            return None
        (leb_size, leb_cnt) = struct.unpack_from("<II", data, start + 36)
        if not leb_size or not leb_cnt:
            return None
        return min(leb_size * leb_cnt, len(data) - start)

    def extract(
        self, src: Path, start: int, size: int, dest: Path, fs_id: str, ctx: HandlerContext
    ) -> Extracted:
        from ubireader.ubi_io import ubi_file
        from ubireader.ubifs import ubifs as Ubifs

        with open(src, "rb") as fh:
            fh.seek(start + 36)
            (leb_size,) = struct.unpack("<I", fh.read(4))
        tb = TreeBuilder(fs_id, "ubifs", dest, ctx, f"ubifs at 0x{start:x} in {src.name}")
        with _contained():
            ufile = ubi_file(str(src), leb_size, start, start + size)
            try:
                _walk_ubifs(Ubifs(ufile), tb)
            finally:
                ufile.close()
        return Extracted(filesystem=tb.fs)


class UbiHandler(Handler):
    """UBI: erase-counter headers ('UBI#') at the start of every physical erase block."""

    name = "ubi"
    patterns = (b"UBI#",)

    def _peb(self, data: memoryview, start: int) -> int | None:
        if len(data) - start < 64 or data[start + 4] != 1:
            return None
        (crc,) = struct.unpack_from(">I", data, start + 60)
        if _crc(bytes(data[start : start + 60])) != crc:
            return None
        for shift in range(12, 22):  # 4 KiB .. 2 MiB erase blocks
            nxt = start + (1 << shift)
            if nxt + 4 <= len(data) and bytes(data[nxt : nxt + 4]) == b"UBI#":
                return 1 << shift
        return None

    def probe(self, data: memoryview, start: int) -> int | None:
        peb = self._peb(data, start)
        if peb is None:
            return None
        pos = start
        while pos + 4 <= len(data) and bytes(data[pos : pos + 4]) == b"UBI#":
            pos += peb
        return min(pos, len(data)) - start

    def extract(
        self, src: Path, start: int, size: int, dest: Path, fs_id: str, ctx: HandlerContext
    ) -> Extracted:
        import mmap

        from ubireader.ubi import ubi as Ubi
        from ubireader.ubi_io import leb_virtual_file, ubi_file
        from ubireader.ubifs import ubifs as Ubifs

        with open(src, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            view = memoryview(mm)
            try:
                peb = self._peb(view, start)
            finally:
                view.release()
        if peb is None:
            raise HandlerError("UBI erase block size not found")
        tb = TreeBuilder(fs_id, "ubi", dest, ctx, f"ubi at 0x{start:x} in {src.name}")
        writer: SafeWriter | None = None
        blobs: list[tuple[str, Path]] = []
        ubifs_found = False
        with _contained():
            ufile = ubi_file(str(src), peb, start, start + size)
            try:
                ubi = Ubi(ufile)
                for image in ubi.images:
                    for vname, volume in image.volumes.items():
                        blocks = volume.get_blocks(ubi.blocks)
                        if not blocks:
                            continue
                        label = "".join(c if c.isalnum() or c in "-_." else "_" for c in vname) or "volume"
                        lebv = leb_virtual_file(ubi, blocks)
                        lebv.seek(0)
                        if lebv.read(4) == _UBIFS_MAGIC and not ubifs_found:
                            lebv.seek(0)
                            _walk_ubifs(Ubifs(lebv), tb)
                            tb.fs.fstype = "ubifs"
                            ubifs_found = True
                            continue
                        if writer is None:
                            writer = SafeWriter(dest.with_name(dest.name + "-volumes"), ctx.budget)
                        chunks = [bytes(b) for b in volume.reader(ubi)]
                        writer.write_stream("/" + label, chunks)
                        blobs.append((label, writer.root / label))
            finally:
                ufile.close()
        if not ubifs_found and not blobs:
            raise HandlerError("UBI image holds no readable volume")
        return Extracted(
            filesystem=tb.fs if ubifs_found else None,
            blobs=blobs,
            note=f"PEB size {peb}",
        )
