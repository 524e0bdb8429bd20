"""SquashFS 4.0 through dissect.squashfs, which keeps mode, owner and link targets."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from dissect.squashfs import SquashFS
from dissect.util.stream import RangeStream

from assay.unpack.base import KIND_DIR, KIND_FILE, KIND_SYMLINK, ExtractedFS, MetaEntry, kind_from_mode
from assay.unpack.handlers.base import Extracted, Handler, HandlerContext
from assay.unpack.limits import Deadline, SafeWriter


class SquashFSHandler(Handler):
    name = "squashfs"
    patterns = (b"hsqs",)

    def probe(self, data: memoryview, start: int) -> int | None:
        if len(data) - start < 96:
            return None
        major, minor = struct.unpack_from("<HH", data, start + 28)
        if (major, minor) != (4, 0):
            return None
        (block_size,) = struct.unpack_from("<I", data, start + 12)
        if block_size & (block_size - 1) or not (4096 <= block_size <= 1 << 20):
            return None
        (bytes_used,) = struct.unpack_from("<Q", data, start + 40)
        if bytes_used < 96 or start + bytes_used > len(data):
            return None
        return int(bytes_used)

    def extract(
        self, src: Path, start: int, size: int, dest: Path, fs_id: str, ctx: HandlerContext
    ) -> Extracted:
        deadline = Deadline(ctx.limits.max_seconds_per_extractor, f"squashfs extraction of {src.name}")
        writer = SafeWriter(dest, ctx.budget)
        fs = ExtractedFS(id=fs_id, fstype="squashfs", host_root=dest)
        with open(src, "rb") as fh:
            sq = SquashFS(RangeStream(fh, start, size))
            stack = [("/", sq.get("/"))]
            while stack:
                path, node = stack.pop()
                deadline.check()
                kind = kind_from_mode(node.mode)
                meta = MetaEntry(
                    path=path,
                    kind=kind,
                    mode=node.mode & 0o7777,
                    uid=node.uid,
                    gid=node.gid,
                    size=node.size if kind == KIND_FILE else 0,
                    mtime=int(node.mtime.timestamp()),
                )
                if kind == KIND_DIR:
                    writer.mkdir(path)
                    for child in node.iterdir():
                        name = child.name
                        if name in (".", "..") or "/" in name:
                            ctx.warnings.append(f"squashfs entry name {name!r} skipped")
                            continue
                        stack.append((path.rstrip("/") + "/" + name, child))
                elif kind == KIND_SYMLINK:
                    meta.link_target = node.link
                elif kind == KIND_FILE:
                    writer.write_stream(path, _chunks(node.open()), node.size)
                fs.entries[path] = meta
                ctx.budget.add_file()
        return Extracted(filesystem=fs)


def _chunks(stream: BinaryIO) -> Iterator[bytes]:
    while chunk := stream.read(1 << 20):
        yield chunk
