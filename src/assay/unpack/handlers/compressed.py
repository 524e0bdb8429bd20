"""Single-stream compressors (gzip, xz, lzma-alone, bzip2, zstd): wrappers whose payload
is written out as a blob and scanned again.

The stream is decompressed in 1 MiB steps; every step is counted against the byte
budget and the per-stream ratio, so a bomb stops at the limit instead of filling the
disk. Only decompression tells where a stream ends, so `extract` reports the size.
"""

from __future__ import annotations

import bz2
import lzma
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import pyzstd

from assay.errors import LimitExceeded
from assay.unpack.handlers.base import CHUNK, Extracted, Handler, HandlerContext, HandlerError
from assay.unpack.limits import SafeWriter

_TRIAL = 4096  # input bytes a probe decompresses to weed out chance magic


class _Stream:
    """One decompressor behind one interface: feed input, pull bounded output."""

    def __init__(self, make: Callable[[], Any], zlib_style: bool) -> None:
        self.d = make()
        self.zlib_style = zlib_style
        self.pending = b""

    @property
    def eof(self) -> bool:
        return bool(self.d.eof)

    def unused(self) -> int:
        extra = len(self.d.unused_data)
        return extra + len(self.pending)

    def step(self, data: bytes) -> bytes:
        """Decompress up to CHUNK bytes from data (plus what is pending)."""
        if self.zlib_style:
            out = self.d.decompress(self.pending + data, CHUNK)
            self.pending = self.d.unconsumed_tail
            return bytes(out)
        return bytes(self.d.decompress(data, CHUNK))

    def wants_input(self) -> bool:
        if self.zlib_style:
            return not self.pending
        return bool(self.d.needs_input)


class CompressedHandler(Handler):
    kind = "wrapper"
    suffix: ClassVar[str]
    zlib_style: ClassVar[bool] = False

    def new(self) -> _Stream:
        raise NotImplementedError

    def header_ok(self, data: memoryview, start: int) -> bool:
        return True

    def probe(self, data: memoryview, start: int) -> int | None:
        if not self.header_ok(data, start):
            return None
        s = self.new()
        try:
            out = s.step(bytes(data[start : start + _TRIAL]))
        except (zlib.error, lzma.LZMAError, OSError, EOFError, ValueError, pyzstd.ZstdError):
            return None
        if not out and not s.eof and len(data) - start > _TRIAL:
            return None
        return len(data) - start  # the real end is known after extraction

    def extract(
        self, src: Path, start: int, size: int, dest: Path, fs_id: str, ctx: HandlerContext
    ) -> Extracted:
        deadline = ctx.deadline(f"{self.name} decompression at 0x{start:x} in {src.name}")
        writer = SafeWriter(dest, ctx.budget)
        s = self.new()
        fed = 0
        written = 0
        limit_ratio = ctx.limits.max_ratio

        def chunks():  # type: ignore[no-untyped-def]
            nonlocal fed, written
            with open(src, "rb") as fh:
                fh.seek(start)
                data = b""
                while not s.eof:
                    deadline.check()
                    if s.wants_input():
                        data = fh.read(min(CHUNK, size - fed))
                        if not data:
                            break
                        fed += len(data)
                    else:
                        data = b""
                    try:
                        out = s.step(data)
                    except (
                        zlib.error,
                        lzma.LZMAError,
                        OSError,
                        EOFError,
                        ValueError,
                        pyzstd.ZstdError,
                    ) as exc:
                        if written:
                            ctx.warnings.append(
                                f"{self.name} at 0x{start:x} in {src.name}: corrupt after {written} bytes ({exc})"
                            )
                            return
                        raise HandlerError(f"{self.name} stream is corrupt: {exc}") from None
                    written += len(out)
                    if written > ctx.limits.ratio_after and written > limit_ratio * max(fed, 1):
                        raise LimitExceeded(
                            f"{self.name} at 0x{start:x} in {src.name} expands more than "
                            f"{limit_ratio}x (decompression bomb?); stopped at {written} bytes"
                        )
                    if out:
                        yield out

        writer.write_stream("/" + _payload_name(src.name, self.suffix), chunks())
        if not s.eof:
            ctx.warnings.append(f"{self.name} at 0x{start:x} in {src.name}: stream is truncated")
        consumed = fed - s.unused() if s.eof else fed
        if written == 0:
            raise HandlerError(f"{self.name} stream at 0x{start:x} holds nothing")
        payload = dest / _payload_name(src.name, self.suffix)
        return Extracted(
            blobs=[(payload.name, payload)],
            size=consumed,
            note=f"{written} bytes decompressed",
        )


def _payload_name(name: str, suffix: str) -> str:
    if suffix and name.endswith(suffix) and len(name) > len(suffix):
        return name[: -len(suffix)]
    return name + ".unpacked"


class GzipHandler(CompressedHandler):
    name = "gzip"
    patterns = (b"\x1f\x8b\x08",)
    suffix = ".gz"
    zlib_style = True

    def header_ok(self, data: memoryview, start: int) -> bool:
        return len(data) - start > 18 and data[start + 3] & 0xE0 == 0

    def new(self) -> _Stream:
        return _Stream(lambda: zlib.decompressobj(31), True)


class XzHandler(CompressedHandler):
    name = "xz"
    patterns = (b"\xfd7zXZ\x00",)
    suffix = ".xz"

    def new(self) -> _Stream:
        return _Stream(lambda: lzma.LZMADecompressor(lzma.FORMAT_XZ), False)


class LzmaHandler(CompressedHandler):
    """lzma-alone: a weak 3-byte magic, so the header is checked field by field."""

    name = "lzma"
    patterns = (b"\x5d\x00\x00",)
    suffix = ".lzma"

    def header_ok(self, data: memoryview, start: int) -> bool:
        if len(data) - start < 13:
            return False
        (dict_size,) = struct.unpack_from("<I", data, start + 1)
        (usize,) = struct.unpack_from("<Q", data, start + 5)
        if not (1 << 12) <= dict_size <= (1 << 30):
            return False
        if dict_size & (dict_size - 1) and dict_size % (3 << (dict_size.bit_length() - 2)):
            return False
        return usize == (1 << 64) - 1 or usize < (1 << 36)

    def new(self) -> _Stream:
        return _Stream(lambda: lzma.LZMADecompressor(lzma.FORMAT_ALONE), False)


class Bzip2Handler(CompressedHandler):
    name = "bzip2"
    patterns = (b"BZh",)
    suffix = ".bz2"

    def header_ok(self, data: memoryview, start: int) -> bool:
        head = bytes(data[start : start + 10])
        return len(head) == 10 and 0x31 <= head[3] <= 0x39 and head[4:10] in (b"1AY&SY", b"\x17rE8P\x90")

    def new(self) -> _Stream:
        return _Stream(bz2.BZ2Decompressor, False)


class ZstdHandler(CompressedHandler):
    name = "zstd"
    patterns = (b"\x28\xb5\x2f\xfd",)
    suffix = ".zst"

    def new(self) -> _Stream:
        return _Stream(pyzstd.ZstdDecompressor, False)
