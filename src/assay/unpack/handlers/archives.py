"""Archives that carry their own metadata: cpio (newc, crc, odc), tar, zip."""

from __future__ import annotations

import stat
import tarfile
import zipfile
from pathlib import Path

from dissect.util.stream import RangeStream

from assay.errors import LimitExceeded
from assay.unpack.base import KIND_FILE, KIND_SYMLINK, MetaEntry, kind_from_mode
from assay.unpack.handlers.base import (
    Extracted,
    Handler,
    HandlerContext,
    HandlerError,
    TreeBuilder,
    read_chunks,
)

_TRAILER = "TRAILER!!!"


def _hex(b: bytes) -> int:
    return int(b, 16)


def _oct(b: bytes) -> int:
    return int(b, 8)


class CpioHandler(Handler):
    """cpio, parsed here: Python has no cpio reader, and GNU cpio run as root would
    restore setuid bits, owners, device nodes and symlinks on the host. Parsing the
    headers keeps mode/uid/gid/link targets as metadata and writes plain files only."""

    name = "cpio"
    patterns = (b"070701", b"070702", b"070707")

    def _entries(self, data: memoryview, start: int):  # type: ignore[no-untyped-def]
        """Yields (name, mode, uid, gid, mtime, ino, nlink, rdev, data_off, size); ends at the trailer."""
        pos = start
        end = len(data)
        while True:
            magic = bytes(data[pos : pos + 6])
            if magic in (b"070701", b"070702"):
                if pos + 110 > end:
                    raise ValueError("truncated header")
                f = [_hex(bytes(data[pos + 6 + 8 * i : pos + 14 + 8 * i])) for i in range(13)]
                ino, mode, uid, gid, nlink, mtime, size = f[:7]
                rdev = (f[9], f[10])
                namesize = f[11]
                name_off = pos + 110
                data_off = (name_off + namesize + 3) & ~3
                nxt = (data_off + size + 3) & ~3
            elif magic == b"070707":
                if pos + 76 > end:
                    raise ValueError("truncated header")
                h = bytes(data[pos : pos + 76])
                ino, mode, uid, gid, nlink = (_oct(h[12 + 6 * i : 18 + 6 * i]) for i in range(5))
                rdev_raw = _oct(h[42:48])
                rdev = (rdev_raw >> 8, rdev_raw & 0xFF)
                mtime = _oct(h[48:59])
                namesize = _oct(h[59:65])
                size = _oct(h[65:76])
                name_off = pos + 76
                data_off = name_off + namesize
                nxt = data_off + size
            else:
                raise ValueError(f"bad cpio magic at 0x{pos:x}")
            if namesize == 0 or data_off + size > end:
                raise ValueError("truncated entry")
            name = bytes(data[name_off : name_off + namesize]).split(b"\0", 1)[0]
            sname = name.decode("utf-8", "surrogateescape")
            if sname == _TRAILER:
                yield None, nxt
                return
            yield (sname, mode, uid, gid, mtime, ino, nlink, rdev, data_off, size), nxt
            pos = nxt

    def probe(self, data: memoryview, start: int) -> int | None:
        count = 0
        try:
            for entry, nxt in self._entries(data, start):
                if entry is None:
                    return nxt - start if count else None
                count += 1
        except ValueError:
            # A damaged archive that still holds entries is worth opening (with a warning).
            return len(data) - start if count > 1 else None
        return None

    def extract(
        self, src: Path, start: int, size: int, dest: Path, fs_id: str, ctx: HandlerContext
    ) -> Extracted:
        import mmap

        what = f"cpio at 0x{start:x} in {src.name}"
        tb = TreeBuilder(fs_id, "cpio", dest, ctx, what)
        links: dict[int, list[MetaEntry]] = {}
        with open(src, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            data = memoryview(mm)[: start + size]
            try:
                for entry, _nxt in self._entries(data, start):
                    if entry is None:
                        break
                    name, mode, uid, gid, mtime, ino, nlink, rdev, off, length = entry
                    kind = kind_from_mode(mode)
                    meta = MetaEntry(
                        path=tb.inner(name), kind=kind, mode=mode & 0o7777, uid=uid, gid=gid, mtime=mtime
                    )
                    if kind == KIND_SYMLINK:
                        meta.link_target = bytes(data[off : off + length]).decode("utf-8", "surrogateescape")
                        tb.add(meta)
                    elif kind == KIND_FILE:
                        tb.add(meta, [bytes(data[off : off + length])], length)
                        if nlink > 1:
                            links.setdefault(ino, []).append(meta)
                    else:
                        if kind in ("char", "block"):
                            meta.device = rdev
                        tb.add(meta)
            except ValueError as exc:
                tb.warn(f"damaged archive, stopped early: {exc}")
            finally:
                data.release()
        _fill_hardlinks(tb, links)
        return Extracted(filesystem=tb.fs)


def _fill_hardlinks(tb: TreeBuilder, links: dict[int, list[MetaEntry]]) -> None:
    """newc stores a hard-linked file's data once, with the last name."""
    for group in links.values():
        full = next((m for m in reversed(group) if m.size > 0), None)
        if full is None:
            continue
        host = tb.fs.host_root / full.path.lstrip("/")
        for m in group:
            if m.size == 0 and m is not full and tb.fs.entries.get(m.path) is m:
                with open(host, "rb") as fh:
                    tb.add(m, read_chunks(fh), full.size)


class TarHandler(Handler):
    name = "tar"
    patterns = (b"ustar",)
    magic_offset = 257

    def probe(self, data: memoryview, start: int) -> int | None:
        if len(data) - start < 512:
            return None
        header = bytes(data[start : start + 512])
        try:
            stored = int(header[148:156].replace(b"\0", b" ").strip() or b"-1", 8)
        except ValueError:
            return None
        if stored != sum(header[:148]) + 256 + sum(header[156:]):
            return None
        try:
            with tarfile.open(fileobj=_MemStream(data, start), mode="r:") as tf:  # type: ignore[call-overload]
                for _ in tf:
                    pass
                end = tf.offset
        except (tarfile.TarError, EOFError, OSError):
            return None
        return min(len(data) - start, end + 1024)

    def extract(
        self, src: Path, start: int, size: int, dest: Path, fs_id: str, ctx: HandlerContext
    ) -> Extracted:
        what = f"tar at 0x{start:x} in {src.name}"
        tb = TreeBuilder(fs_id, "tar", dest, ctx, what)
        with open(src, "rb") as fh, tarfile.open(fileobj=RangeStream(fh, start, size), mode="r:") as tf:
            try:
                for m in tf:
                    path = tb.inner(m.name)
                    meta = MetaEntry(
                        path=path,
                        kind=kind_from_mode(_tar_type(m) | m.mode),
                        mode=m.mode & 0o7777,
                        uid=m.uid,
                        gid=m.gid,
                        mtime=int(m.mtime),
                    )
                    if m.issym():
                        meta.link_target = m.linkname
                        tb.add(meta)
                    elif m.islnk():
                        target = tb.fs.entries.get(tb.inner(m.linkname))
                        host = tb.fs.host_root / (target.path.lstrip("/") if target else "")
                        if target is None or target.kind != KIND_FILE or not host.is_file():
                            tb.warn(f"hard link {m.name!r} -> {m.linkname!r}: target missing")
                            continue
                        with open(host, "rb") as lf:
                            tb.add(meta, read_chunks(lf), target.size)
                    elif m.isreg():
                        stream = tf.extractfile(m)
                        tb.add(meta, read_chunks(stream) if stream else [], m.size)
                    else:
                        if m.ischr() or m.isblk():
                            meta.device = (m.devmajor, m.devminor)
                        tb.add(meta)
            except LimitExceeded:
                raise
            except (tarfile.TarError, EOFError, OSError) as exc:
                tb.warn(f"damaged archive, stopped early: {exc}")
        return Extracted(filesystem=tb.fs)


def _tar_type(m: tarfile.TarInfo) -> int:
    if m.isdir():
        return stat.S_IFDIR
    if m.issym():
        return stat.S_IFLNK
    if m.ischr():
        return stat.S_IFCHR
    if m.isblk():
        return stat.S_IFBLK
    if m.isfifo():
        return stat.S_IFIFO
    return stat.S_IFREG


class _MemStream:
    """Minimal read/seek/tell over a memoryview slice, so probes need no file handle."""

    def __init__(self, data: memoryview, start: int) -> None:
        self.data = data
        self.start = start
        self.pos = 0

    def read(self, n: int = -1) -> bytes:
        base = self.start + self.pos
        end = len(self.data) if n < 0 else min(len(self.data), base + n)
        out = bytes(self.data[base:end])
        self.pos += len(out)
        return out

    def seek(self, pos: int, whence: int = 0) -> int:
        if whence == 0:
            self.pos = pos
        elif whence == 1:
            self.pos += pos
        else:
            self.pos = len(self.data) - self.start + pos
        return self.pos

    def tell(self) -> int:
        return self.pos

    def seekable(self) -> bool:
        return True


class ZipHandler(Handler):
    """zip: modes come from the Unix external attributes; owners are not recorded, so
    the filesystem is marked metadata_exact=False."""

    name = "zip"
    patterns = (b"PK\x03\x04",)

    def probe(self, data: memoryview, start: int) -> int | None:
        # The archive ends at the first end-of-central-directory record after it.
        tail = bytes(data[start:]) if len(data) - start < (64 << 20) else None
        if tail is None:
            return None
        eocd = tail.find(b"PK\x05\x06")
        if eocd < 0 or eocd + 22 > len(tail):
            return None
        comment = int.from_bytes(tail[eocd + 20 : eocd + 22], "little")
        size = min(len(tail), eocd + 22 + comment)
        try:
            with zipfile.ZipFile(_MemStream(data[: start + size], start)) as zf:  # type: ignore[arg-type]
                if not zf.infolist():
                    return None
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            return None
        return size

    def extract(
        self, src: Path, start: int, size: int, dest: Path, fs_id: str, ctx: HandlerContext
    ) -> Extracted:
        what = f"zip at 0x{start:x} in {src.name}"
        tb = TreeBuilder(fs_id, "zip", dest, ctx, what)
        tb.fs.metadata_exact = False
        with open(src, "rb") as fh, zipfile.ZipFile(RangeStream(fh, start, size)) as zf:
            for info in zf.infolist():
                unix = info.external_attr >> 16 if info.create_system == 3 else 0
                ftype = stat.S_IFDIR if info.is_dir() else stat.S_IFREG
                if stat.S_IFMT(unix):
                    full = unix
                elif unix:
                    full = ftype | (unix & 0o7777)
                else:
                    full = ftype | (0o755 if info.is_dir() else 0o644)
                meta = MetaEntry(
                    path=tb.inner(info.filename),
                    kind=kind_from_mode(full),
                    mode=full & 0o7777,
                    mtime=None,
                )
                try:
                    if info.flag_bits & 1:
                        tb.warn(f"{info.filename!r} is encrypted; not extracted")
                        continue
                    if meta.kind == KIND_SYMLINK:
                        meta.link_target = zf.read(info).decode("utf-8", "surrogateescape")
                        tb.add(meta)
                    elif meta.kind == KIND_FILE:
                        with zf.open(info) as stream:
                            tb.add(meta, read_chunks(stream), info.file_size)
                    else:
                        tb.add(meta)
                except LimitExceeded:
                    raise
                except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
                    tb.warn(f"{info.filename!r}: {exc}")
        if len(tb.fs.entries) <= 1:
            raise HandlerError("zip archive holds nothing readable")
        return Extracted(filesystem=tb.fs)
