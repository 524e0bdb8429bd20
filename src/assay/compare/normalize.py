"""Content normalizations for binary equivalence: build noise that does not change what runs.

Each normalization is named and explained, so the reader can judge whether it was fair. Mtimes are
not here: they are filesystem metadata, which the file view does not compare at all.
"""

from __future__ import annotations

import io
import re
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

MAX_INFLATE = 256 << 20  # decompressed bytes compared for one gzip member
_MODSIG_MAGIC = b"~Module signature appended~\n"
_SIGNED_DATA_OID = bytes.fromhex("06092a864886f70d010702")  # PKCS#7 signedData
_PEM_SIG = re.compile(
    rb"-----BEGIN (PKCS7|SIGNATURE|PGP SIGNATURE|CMS|SSH SIGNATURE)-----[\s\S]{16,65536}?-----END \1-----\s*\Z"
)
_SIG_SECTIONS = {".sig", ".signature", ".note.signature", ".pkcs7", ".sign", ".modsig", ".signature_block"}
_ELF_ERRORS = (ELFError, ValueError, KeyError, AttributeError, IndexError, TypeError, struct.error, OSError)


@dataclass(frozen=True)
class Normalization:
    name: str
    explanation: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "explanation": self.explanation}


@dataclass
class Outcome:
    status: str  # "identical", "equivalent", "different"
    normalizations: list[Normalization] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- trailing signatures


def strip_trailing_signature(data: bytes) -> tuple[bytes, str | None]:
    """Remove a signature block appended to a file; say what it was."""
    if data.endswith(_MODSIG_MAGIC) and len(data) >= len(_MODSIG_MAGIC) + 12:
        info_end = len(data) - len(_MODSIG_MAGIC)
        (sig_len,) = struct.unpack(">I", data[info_end - 4 : info_end])
        start = info_end - 12 - sig_len
        if start > 0:
            return data[:start], f"Linux module signature ({sig_len} bytes) appended at offset {start}"
    der = _trailing_pkcs7(data)
    if der is not None:
        return data[:der], f"PKCS#7 signedData block ({len(data) - der} bytes) appended at offset {der}"
    tail = data[-70000:]
    m = _PEM_SIG.search(tail)
    if m is not None:
        start = len(data) - len(tail) + m.start()
        if start > 0:
            kind = m.group(1).decode()
            return data[:start], f"PEM {kind} block ({len(data) - start} bytes) appended at offset {start}"
    return data, None


def _trailing_pkcs7(data: bytes) -> int | None:
    """Offset of a DER SEQUENCE holding PKCS#7 signedData that ends exactly at the end of data."""
    floor = max(0, len(data) - (1 << 20))
    pos = data.rfind(_SIGNED_DATA_OID, floor)
    while pos > 0:
        for hdr in (2, 3, 4, 5):
            p = pos - hdr
            if p <= 0 or data[p] != 0x30:
                continue
            first = data[p + 1]
            if hdr == 2 and first < 0x80:
                length = first
            elif hdr > 2 and first == 0x80 | (hdr - 2):
                length = int.from_bytes(data[p + 2 : p + hdr], "big")
            else:
                continue
            end = p + hdr + length
            # Some signers pad the block to a 4- or 8-byte boundary with zeros.
            if end <= len(data) and len(data) - end < 8 and not data[end:].strip(b"\0"):
                return p
        pos = data.rfind(_SIGNED_DATA_OID, floor, pos)
    return None


# ---------------------------------------------------------------- ELF


@dataclass
class ElfView:
    normalized: bytes
    build_id: str | None
    debuglink_crc: str | None
    signature_sections: dict[str, int]  # name -> size
    sections: dict[str, tuple[Any, ...]]  # name -> (type, flags, addr, size, content digest)
    segments: list[tuple[Any, ...]]
    header: tuple[Any, ...]


def _align4(n: int) -> int:
    return (n + 3) & ~3


def elf_view(data: bytes) -> ElfView | None:
    """Parse once; zero the build-id descriptor and debuglink CRC in a copy of the bytes."""
    try:
        elf = ELFFile(io.BytesIO(data))
        buf = bytearray(data)
        end = "<" if elf.little_endian else ">"
        build_id = crc = None
        sig: dict[str, int] = {}
        raw_sections = []
        for sec in elf.iter_sections():
            name, off, size = sec.name, int(sec["sh_offset"]), int(sec["sh_size"])
            has_bytes = sec["sh_type"] != "SHT_NOBITS" and off + size <= len(data)
            if sec["sh_type"] == "SHT_NOTE" and has_bytes:
                pos = off
                while pos + 12 <= off + size:
                    namesz, descsz, ntype = struct.unpack(end + "III", data[pos : pos + 12])
                    desc = pos + 12 + _align4(namesz)
                    if data[pos + 12 : pos + 12 + namesz].rstrip(b"\0") == b"GNU" and ntype == 3:
                        build_id = data[desc : desc + descsz].hex()
                        buf[desc : desc + descsz] = bytes(descsz)
                    pos = desc + _align4(descsz)
            elif name == ".gnu_debuglink" and has_bytes and size >= 8:
                crc = data[off + size - 4 : off + size].hex()
                buf[off + size - 4 : off + size] = bytes(4)
            if _is_signature_section(name, data[off : off + min(size, 64)] if has_bytes else b""):
                sig[name] = size
            raw_sections.append(
                (name, sec["sh_type"], int(sec["sh_flags"]), int(sec["sh_addr"]), off, size, has_bytes)
            )
        norm = bytes(buf)
        sections: dict[str, tuple[Any, ...]] = {}
        for name, stype, flags, addr, off, size, has_bytes in raw_sections:
            if name in sig or name == ".shstrtab" or not name:
                continue
            content = zlib.crc32(norm[off : off + size]) if has_bytes else None
            sections[name] = (stype, flags, addr, size, content, norm[off : off + size] if has_bytes else b"")
        # The first segment maps the ELF header, whose section-table fields mean nothing at run time.
        seg_buf = bytearray(norm)
        for off, size in ((0x20, 4), (0x30, 4)) if elf.elfclass == 32 else ((0x28, 8), (0x3C, 4)):
            seg_buf[off : off + size] = bytes(size)
        segments = []
        for seg in elf.iter_segments():
            o, fsz = int(seg["p_offset"]), int(seg["p_filesz"])
            segments.append(
                (
                    seg["p_type"],
                    int(seg["p_flags"]),
                    int(seg["p_vaddr"]),
                    fsz,
                    int(seg["p_memsz"]),
                    bytes(seg_buf[o : o + fsz]),
                )
            )
        h = elf.header
        header = (
            h["e_ident"]["EI_CLASS"],
            h["e_ident"]["EI_DATA"],
            h["e_type"],
            h["e_machine"],
            h["e_entry"],
            h["e_flags"],
            h["e_phoff"],
            h["e_phnum"],
        )
        return ElfView(norm, build_id, crc, sig, sections, segments, header)
    except _ELF_ERRORS:
        return None


def _is_signature_section(name: str, head: bytes) -> bool:
    if name in _SIG_SECTIONS:
        return True
    return head[:1] == b"\x30" and _SIGNED_DATA_OID in head[:24]


def compare_elf(a: bytes, b: bytes) -> Outcome | None:
    va, vb = elf_view(a), elf_view(b)
    if va is None or vb is None:
        return None
    norms: list[Normalization] = []
    if va.build_id != vb.build_id:
        norms.append(
            Normalization(
                "elf-build-id",
                f".note.gnu.build-id differs ({va.build_id} vs {vb.build_id}); descriptor zeroed on both sides",
            )
        )
    if va.debuglink_crc != vb.debuglink_crc:
        norms.append(
            Normalization(
                "elf-debuglink-crc",
                f".gnu_debuglink CRC of the separate debug file differs ({va.debuglink_crc} vs {vb.debuglink_crc});"
                " CRC zeroed",
            )
        )
    if va.normalized == vb.normalized:
        return Outcome("equivalent" if norms else "identical", norms)
    # Not byte-equal: compare what the loader and linker see, section by section.
    reasons: list[str] = []
    if va.header != vb.header:
        reasons.append("ELF header differs (type, machine, entry point or program header table)")
    if [s[:5] for s in va.segments] != [s[:5] for s in vb.segments]:
        reasons.append("program headers differ")
    else:
        for i, (sa, sb) in enumerate(zip(va.segments, vb.segments, strict=True)):
            if sa[5] != sb[5]:
                reasons.append(f"segment {i} ({sa[0]}) content differs")
    for name in sorted(va.sections.keys() | vb.sections.keys()):
        x, y = va.sections.get(name), vb.sections.get(name)
        if x is None or y is None:
            reasons.append(f"section {name} only in {'reference' if x is None else 'deployed'}")
        elif x[:4] != y[:4]:
            reasons.append(f"section {name} header differs (size {x[3]} vs {y[3]})")
        elif x[4] != y[4] or x[5] != y[5]:
            reasons.append(f"section {name} content differs")
    if reasons:
        return Outcome("different", norms, reasons)
    for side, own, other in (("deployed", va, vb), ("reference", vb, va)):
        for name, size in sorted(own.signature_sections.items()):
            if name not in other.signature_sections:
                norms.append(
                    Normalization(
                        "elf-signature-section",
                        f"section {name} ({size} bytes) present only in {side}: a signature, left out of the comparison",
                    )
                )
            elif own is va:
                norms.append(
                    Normalization(
                        "elf-signature-section",
                        f"signature section {name} differs; left out of the comparison",
                    )
                )
    if not norms:
        norms.append(
            Normalization(
                "elf-layout", "section header table laid out differently; all sections and segments equal"
            )
        )
    return Outcome("equivalent", norms)


# ---------------------------------------------------------------- archives


def _gunzip(data: bytes) -> bytes | None:
    try:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = d.decompress(data, MAX_INFLATE)
        return out if not d.unconsumed_tail else None
    except zlib.error:
        return None


def _gzip_header(data: bytes) -> dict[str, Any]:
    flags = data[3]
    info: dict[str, Any] = {"mtime": struct.unpack("<I", data[4:8])[0], "os": data[9]}
    if flags & 0x08:
        pos = 10 + (2 + struct.unpack("<H", data[10:12])[0] if flags & 0x04 else 0)
        endname = data.find(b"\0", pos)
        info["name"] = data[pos:endname].decode("latin-1") if endname > 0 else None
    return info


def normalize_tar(data: bytes) -> bytes | None:
    """Zero the mtime and checksum of each ustar header; None if this is not a plain tar."""
    if len(data) < 512 or data[257:262] != b"ustar":
        return None
    buf = bytearray(data)
    pos = 0
    while pos + 512 <= len(buf):
        block = buf[pos : pos + 512]
        if not any(block):
            return bytes(buf)
        if block[257:262] != b"ustar":
            return None
        try:
            size = int(block[124:136].split(b"\0")[0].strip() or b"0", 8)
        except ValueError:
            return None
        buf[pos + 136 : pos + 148] = bytes(12)
        buf[pos + 148 : pos + 156] = bytes(8)
        pos += 512 + _round(size, 512)
    return bytes(buf)


def normalize_cpio(data: bytes) -> bytes | None:
    """Zero the inode number and mtime of each newc header; None if this is not newc cpio."""
    if not data.startswith((b"070701", b"070702")):
        return None
    buf = bytearray(data)
    pos = 0
    while pos + 110 <= len(buf):
        if buf[pos : pos + 6] not in (b"070701", b"070702"):
            return None
        try:
            fields = [int(buf[pos + 6 + 8 * i : pos + 14 + 8 * i], 16) for i in range(13)]
        except ValueError:
            return None
        namesize, filesize = fields[11], fields[6]
        name = bytes(buf[pos + 110 : pos + 110 + namesize])
        buf[pos + 6 : pos + 14] = b"0" * 8  # c_ino
        buf[pos + 46 : pos + 54] = b"0" * 8  # c_mtime
        if name.rstrip(b"\0") == b"TRAILER!!!":
            return bytes(buf)
        pos = _round(pos + 110 + namesize, 4)
        pos = _round(pos + filesize, 4)
    return None


def _round(n: int, to: int) -> int:
    return (n + to - 1) // to * to


def _compare_archive(a: bytes, b: bytes) -> Outcome | None:
    for fn, name, what in (
        (normalize_tar, "tar-mtime", "tar header mtimes (and their checksums) zeroed"),
        (normalize_cpio, "cpio-mtime", "cpio newc inode numbers and mtimes zeroed"),
    ):
        na, nb = fn(a), fn(b)
        if na is not None and nb is not None:
            if na == nb:
                return Outcome("equivalent", [Normalization(name, what)])
            return Outcome("different", [], [f"{name.split('-')[0]} archive members differ beyond mtimes"])
    return None


# ---------------------------------------------------------------- U-Boot legacy image headers

_UIMAGE_MAGIC = b"\x27\x05\x19\x56"
_UIMAGE_HEADER = 64


def _uimage(data: bytes) -> tuple[int, bytes, bytes] | None:
    """(ih_time, the header fields that describe the payload, the payload) of a legacy uImage."""
    if len(data) < _UIMAGE_HEADER or not data.startswith(_UIMAGE_MAGIC):
        return None
    (size,) = struct.unpack(">I", data[12:16])
    if _UIMAGE_HEADER + size > len(data):
        return None
    (stamp,) = struct.unpack(">I", data[8:12])
    # load address, entry point, os, arch, type, compression and name; not the CRCs, size or time
    fields = data[16:24] + data[28:_UIMAGE_HEADER]
    return stamp, fields, data[_UIMAGE_HEADER : _UIMAGE_HEADER + size]


def _compare_uimage(a: bytes, b: bytes, depth: int) -> Outcome | None:
    ua, ub = _uimage(a), _uimage(b)
    if ua is None or ub is None:
        return None
    if ua[1] != ub[1]:
        return Outcome("different", [], ["uImage header differs (load address, entry point, type or name)"])
    norms = []
    if ua[0] != ub[0]:
        norms.append(
            Normalization(
                "uimage-header-time",
                f"uImage header timestamp {ua[0]} vs {ub[0]} (and the header CRC over it) ignored",
            )
        )
    inner = compare_content(ua[2], ub[2], depth=depth + 1)
    if inner.status == "different":
        return Outcome("different", norms + inner.normalizations, inner.reasons or ["uImage payload differs"])
    return Outcome("equivalent", norms + inner.normalizations)


# ---------------------------------------------------------------- entry point


def compare_content(a: bytes, b: bytes, *, depth: int = 0) -> Outcome:
    """Is b the same program or data as a, once build noise is removed?"""
    if a == b:
        return Outcome("identical")
    norms: list[Normalization] = []
    a2, sig_a = strip_trailing_signature(a)
    b2, sig_b = strip_trailing_signature(b)
    for side, sig in (("deployed", sig_a), ("reference", sig_b)):
        if sig:
            norms.append(Normalization("trailing-signature", f"{side}: {sig}, stripped before comparing"))
    if norms and a2 == b2:
        return Outcome("equivalent", norms)
    if a2.startswith(b"\x7fELF") and b2.startswith(b"\x7fELF"):
        elf = compare_elf(a2, b2)
        if elf is not None:
            elf.normalizations[:0] = norms
            if elf.status == "identical":
                elf.status = "equivalent"
            return elf
    if depth < 3:
        uimage = _compare_uimage(a2, b2, depth)
        if uimage is not None:
            uimage.normalizations[:0] = norms
            return uimage
    if a2[:2] == b"\x1f\x8b" and b2[:2] == b"\x1f\x8b" and depth < 2:
        pa, pb = _gunzip(a2), _gunzip(b2)
        if pa is not None and pb is not None:
            ha, hb = _gzip_header(a2), _gzip_header(b2)
            diffs = ", ".join(
                f"{k} {ha.get(k)} vs {hb.get(k)}" for k in ("mtime", "name", "os") if ha.get(k) != hb.get(k)
            )
            norm = Normalization(
                "gzip-header",
                f"gzip header differs ({diffs or 'compression settings'}); decompressed content compared",
            )
            inner = compare_content(pa, pb, depth=depth + 1)
            if inner.status != "different":
                return Outcome("equivalent", [*norms, norm, *inner.normalizations])
            return Outcome(
                "different",
                [*norms, norm, *inner.normalizations],
                inner.reasons or ["decompressed content differs"],
            )
    archive = _compare_archive(a2, b2)
    if archive is not None:
        archive.normalizations[:0] = norms
        return archive
    reason = f"content differs ({len(a)} vs {len(b)} bytes)"
    if a2[:4] == b2[:4] == b"\x7fELF":
        reason = "ELF could not be parsed for comparison; bytes differ"
    return Outcome("different", norms, [reason])
