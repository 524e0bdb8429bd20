"""Firmware headers that wrap payloads: legacy U-Boot uImage, U-Boot FIT, Broadcom TRX.

Each yields its payload(s) as blobs; the engine scans them again (a gzip kernel, a
squashfs rootfs, ...). A bad data checksum is a warning, not a refusal: vendors patch
images and leave the checksum stale, and the contents are what Assay judges.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from assay.unpack.handlers.base import CHUNK, Extracted, Handler, HandlerContext, HandlerError
from assay.unpack.limits import SafeWriter

_UIMAGE_COMP = {0: "none", 1: "gzip", 2: "bzip2", 3: "lzma", 4: "lzo", 5: "lz4", 6: "zstd"}
_UIMAGE_TYPE = {
    1: "standalone",
    2: "kernel",
    3: "ramdisk",
    4: "multi",
    5: "firmware",
    6: "script",
    7: "filesystem",
}


def _copy_range(src: Path, start: int, length: int, writer: SafeWriter, name: str) -> Path:
    def chunks():  # type: ignore[no-untyped-def]
        with open(src, "rb") as fh:
            fh.seek(start)
            left = length
            while left > 0:
                data = fh.read(min(CHUNK, left))
                if not data:
                    return
                left -= len(data)
                yield data

    writer.write_stream("/" + name, chunks(), length)
    return writer.root / name


def _read_range(src: Path, start: int, size: int) -> bytes:
    with open(src, "rb") as fh:
        fh.seek(start)
        return fh.read(size)


def _crc_of_range(src: Path, start: int, length: int) -> int:
    crc = 0
    with open(src, "rb") as fh:
        fh.seek(start)
        left = length
        while left > 0:
            data = fh.read(min(CHUNK, left))
            if not data:
                break
            crc = zlib.crc32(data, crc)
            left -= len(data)
    return crc


class UImageHandler(Handler):
    """Legacy uImage: a 64-byte big-endian header whose own CRC32 must match."""

    name = "uimage"
    kind = "wrapper"
    patterns = (b"\x27\x05\x19\x56",)

    def probe(self, data: memoryview, start: int) -> int | None:
        if len(data) - start < 64:
            return None
        header = bytearray(data[start : start + 64])
        (hcrc,) = struct.unpack_from(">I", header, 4)
        header[4:8] = b"\0\0\0\0"
        if zlib.crc32(header) != hcrc:
            return None
        (size,) = struct.unpack_from(">I", header, 12)
        return min(64 + size, len(data) - start)

    def extract(
        self, src: Path, start: int, size: int, dest: Path, fs_id: str, ctx: HandlerContext
    ) -> Extracted:
        with open(src, "rb") as fh:
            fh.seek(start)
            header = fh.read(64)
        (declared, dcrc) = struct.unpack_from(">I8xI", header, 12)
        os_, arch, itype, comp = header[28:32]
        name = header[32:64].split(b"\0", 1)[0].decode("latin-1")
        what = f"uimage at 0x{start:x} in {src.name}"
        body = size - 64
        if body < declared:
            ctx.warnings.append(f"{what}: truncated, {body} of {declared} payload bytes present")
        elif _crc_of_range(src, start + 64, declared) != dcrc:
            ctx.warnings.append(f"{what}: payload CRC32 does not match the header")
        writer = SafeWriter(dest, ctx.budget)
        kind = _UIMAGE_TYPE.get(itype, str(itype))
        blobs: list[tuple[str, Path]] = []
        if itype == 4:  # multi-file: a zero-terminated table of sizes, images 4-byte aligned
            with open(src, "rb") as fh:
                fh.seek(start + 64)
                sizes: list[int] = []
                while len(sizes) < 64:
                    raw = fh.read(4)
                    if len(raw) < 4 or (n := struct.unpack(">I", raw)[0]) == 0:
                        break
                    sizes.append(n)
            pos = start + 64 + 4 * (len(sizes) + 1)
            for i, n in enumerate(sizes):
                n = min(n, start + size - pos)
                if n <= 0:
                    break
                blobs.append((f"image{i}", _copy_range(src, pos, n, writer, f"image{i}")))
                pos += (n + 3) & ~3
        else:
            label = f"{kind}.{_UIMAGE_COMP.get(comp, 'bin')}"
            blobs.append((label, _copy_range(src, start + 64, body, writer, label)))
        note = f"{kind} {name!r}, compression {_UIMAGE_COMP.get(comp, comp)}, arch {arch}, os {os_}"
        return Extracted(blobs=blobs, note=note)


class FitHandler(Handler):
    """U-Boot FIT: a flattened device tree whose /images/* nodes carry the payloads,
    either inline (`data`) or after the tree (`data-offset`/`data-position` + `data-size`).
    A plain .dtb without /images is not a container and is left alone."""

    name = "fit"
    kind = "wrapper"
    patterns = (b"\xd0\x0d\xfe\xed",)

    def probe(self, data: memoryview, start: int) -> int | None:
        if len(data) - start < 40:
            return None
        total, off_struct, off_strings, _off_rsv, version = struct.unpack_from(">IIIII", data, start + 4)
        if not (17 >= version >= 16 and 40 <= total <= len(data) - start):
            return None
        if not (off_struct < total and off_strings < total):
            return None
        try:
            images = _fit_images(bytes(data[start : start + total]))
        except (struct.error, ValueError, IndexError):
            return None
        if not images:
            return None
        end = total
        for _name, props in images:
            if "data-size" in props:
                base = props.get("data-position", (props.get("data-offset", 0) + ((total + 3) & ~3)))
                end = max(end, base + props["data-size"])
        return min(end, len(data) - start)

    def extract(
        self, src: Path, start: int, size: int, dest: Path, fs_id: str, ctx: HandlerContext
    ) -> Extracted:
        blob = _read_range(src, start, size)
        (total,) = struct.unpack_from(">I", blob, 4)
        writer = SafeWriter(dest, ctx.budget)
        blobs: list[tuple[str, Path]] = []
        for name, props in _fit_images(blob[:total]):
            label = "".join(c if c.isalnum() or c in "-_.@" else "_" for c in name) or "image"
            if "data" in props:
                payload = props["data"]
            elif "data-size" in props:
                base = props.get("data-position", props.get("data-offset", 0) + ((total + 3) & ~3))
                payload = blob[base : base + props["data-size"]]
            else:
                continue
            writer.write_bytes("/" + label, payload)
            blobs.append((label, dest / label))
        if not blobs:
            raise HandlerError("FIT image has no image data")
        return Extracted(blobs=blobs, note=f"{len(blobs)} FIT image(s)")


def _fit_images(fdt: bytes) -> list[tuple[str, dict]]:
    """(name, props) for each child of /images; props keep raw `data`, ints for the rest."""
    (off_struct, off_strings) = struct.unpack_from(">II", fdt, 8)
    pos = off_struct
    stack: list[str] = []
    images: list[tuple[str, dict]] = []
    current: dict | None = None
    while pos + 4 <= len(fdt):
        (token,) = struct.unpack_from(">I", fdt, pos)
        pos += 4
        if token == 1:  # begin node
            end = fdt.index(b"\0", pos)
            name = fdt[pos:end].decode("latin-1")
            pos = (end + 4) & ~3
            stack.append(name)
            if len(stack) == 3 and stack[1] == "images":
                current = {}
                images.append((name, current))
        elif token == 2:  # end node
            if not stack:
                raise ValueError("unbalanced FDT")
            if len(stack) == 3:
                current = None
            stack.pop()
        elif token == 3:  # property
            length, nameoff = struct.unpack_from(">II", fdt, pos)
            pos += 8
            value = fdt[pos : pos + length]
            pos = (pos + length + 3) & ~3
            if current is not None and len(stack) == 3:
                end = fdt.index(b"\0", off_strings + nameoff)
                pname = fdt[off_strings + nameoff : end].decode("latin-1")
                if pname == "data":
                    current["data"] = value
                elif pname in ("data-size", "data-offset", "data-position") and length == 4:
                    current[pname] = struct.unpack(">I", value)[0]
        elif token == 4:  # nop
            continue
        elif token == 9:  # end
            break
        else:
            raise ValueError(f"bad FDT token {token}")
    return images


class TrxHandler(Handler):
    """Broadcom TRX v1/v2: 'HDR0', total length, CRC32 and 3 (v1) or 4 (v2) partition
    offsets from the header start. Each partition becomes a blob."""

    name = "trx"
    kind = "wrapper"
    patterns = (b"HDR0",)

    def _parse(self, data: memoryview, start: int) -> tuple[int, int, list[int]] | None:
        if len(data) - start < 28:
            return None
        length, crc, _flags, version = struct.unpack_from("<IIHH", data, start + 4)
        if version not in (1, 2):
            return None
        count = 3 if version == 1 else 4
        header = 12 + 4 + 4 * count
        if len(data) - start < header or length < header:
            return None
        offsets = [o for o in struct.unpack_from(f"<{count}I", data, start + 16) if o]
        if not offsets or offsets != sorted(offsets) or offsets[0] < header:
            return None
        if offsets[-1] >= length:
            return None
        return length, crc, offsets

    def probe(self, data: memoryview, start: int) -> int | None:
        parsed = self._parse(data, start)
        if parsed is None:
            return None
        length = parsed[0]
        return min(length, len(data) - start)

    def extract(
        self, src: Path, start: int, size: int, dest: Path, fs_id: str, ctx: HandlerContext
    ) -> Extracted:
        with open(src, "rb") as fh:
            fh.seek(start)
            head = fh.read(32)
        parsed = self._parse(memoryview(head), 0)
        if parsed is None:
            raise HandlerError("TRX header changed under us")
        length, crc, offsets = parsed
        what = f"trx at 0x{start:x} in {src.name}"
        if size < length:
            ctx.warnings.append(f"{what}: truncated, {size} of {length} bytes present")
        else:
            computed = _crc_of_range(src, start + 12, length - 12)
            # Broadcom stores the CRC without the final inversion; accept either form.
            if crc not in (computed, computed ^ 0xFFFFFFFF):
                ctx.warnings.append(f"{what}: CRC32 does not match the header")
        writer = SafeWriter(dest, ctx.budget)
        blobs: list[tuple[str, Path]] = []
        bounds = [*offsets, min(length, size)]
        for i, (a, b) in enumerate(zip(bounds, bounds[1:], strict=False)):
            if b > a:
                blobs.append((f"part{i}", _copy_range(src, start + a, b - a, writer, f"part{i}")))
        return Extracted(blobs=blobs, note=f"TRX with {len(blobs)} partition(s)")


_SPARSE_RAW, _SPARSE_FILL, _SPARSE_SKIP, _SPARSE_CRC = 0xCAC1, 0xCAC2, 0xCAC3, 0xCAC4


class AndroidSparseHandler(Handler):
    """Android sparse image (what fastboot flashes): chunks of raw, filled and skipped
    blocks; expanded back into the plain partition image (ext4 in most firmware)."""

    name = "android-sparse"
    patterns = (b"\x3a\xff\x26\xed",)
    kind = "wrapper"

    def _walk(self, data: memoryview, start: int) -> tuple[int, int, list[tuple[int, int, int]]] | None:
        """(block size, consumed bytes, chunks as (type, blocks, data offset)) or None."""
        if len(data) - start < 28:
            return None
        major, _minor, hdr, chdr, blk, total_blks, total_chunks = struct.unpack_from(
            "<HHHHIII", data, start + 4
        )
        if major != 1 or hdr < 28 or chdr < 12 or blk == 0 or blk % 4 or total_chunks > 1 << 24:
            return None
        pos, blocks, chunks = start + hdr, 0, []
        for _ in range(total_chunks):
            if pos + chdr > len(data):
                return None
            ctype, _res, n, total = struct.unpack_from("<HHII", data, pos)
            if ctype not in (_SPARSE_RAW, _SPARSE_FILL, _SPARSE_SKIP, _SPARSE_CRC) or total < chdr:
                return None
            if ctype == _SPARSE_RAW and total - chdr != n * blk:
                return None
            chunks.append((ctype, n, pos + chdr))
            blocks += 0 if ctype == _SPARSE_CRC else n
            pos += total
        if pos > len(data) or blocks != total_blks:
            return None
        return blk, pos - start, chunks

    def probe(self, data: memoryview, start: int) -> int | None:
        walked = self._walk(data, start)
        return walked[1] if walked else None

    def extract(
        self, src: Path, start: int, size: int, dest: Path, fs_id: str, ctx: HandlerContext
    ) -> Extracted:
        data = _read_range(src, start, size)
        walked = self._walk(memoryview(data), 0)
        if walked is None:
            raise HandlerError("sparse image changed under us")
        blk, _size, chunks = walked
        deadline = ctx.deadline(f"android-sparse at 0x{start:x} in {src.name}")

        def expand():  # type: ignore[no-untyped-def]
            for ctype, n, off in chunks:
                deadline.check()
                if ctype == _SPARSE_RAW:
                    for i in range(0, n * blk, CHUNK):
                        yield data[off + i : off + min(i + CHUNK, n * blk)]
                elif ctype in (_SPARSE_FILL, _SPARSE_SKIP):
                    # Skipped blocks read as zeros: offsets inside the partition must hold.
                    unit = data[off : off + 4] if ctype == _SPARSE_FILL else b"\0\0\0\0"
                    left = n * blk
                    while left:
                        step = min(left, CHUNK)
                        yield unit * (step // 4)
                        left -= step

        writer = SafeWriter(dest, ctx.budget)
        total = sum(n for t, n, _ in chunks if t != _SPARSE_CRC) * blk
        writer.write_stream("/partition.img", expand(), total)
        return Extracted(blobs=[("partition.img", dest / "partition.img")], note=f"{total} bytes expanded")
