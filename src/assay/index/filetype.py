"""A small, fast content classifier: enough for checks to pick what to read."""

from __future__ import annotations

_MAGICS: tuple[tuple[bytes, str], ...] = (
    (b"\x7fELF", "elf"),
    (b"\x1f\x8b", "gzip"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"BZh", "bzip2"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"hsqs", "squashfs"),
    (b"sqsh", "squashfs"),
    (b"070701", "cpio"),
    (b"070702", "cpio"),
    (b"070707", "cpio"),
    (b"PK\x03\x04", "zip"),
    (b"\x27\x05\x19\x56", "uimage"),
    (b"HDR0", "trx"),
    (b"UBI#", "ubi"),
    (b"\x31\x18\x10\x06", "ubifs"),
    (b"\x85\x19", "jffs2"),
    (b"\x19\x85", "jffs2"),
    (b"\x45\x3d\xcd\x28", "cramfs"),
    (b"\x28\xcd\x3d\x45", "cramfs"),
    (b"-----BEGIN", "pem"),
    (b"\x89PNG", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF8", "gif"),
    (b"SQLite format 3", "sqlite"),
    (b"\x00asm", "wasm"),
)

_TEXT_BYTES = bytes(range(32, 127)) + b"\t\n\r\f\b\x1b"


def classify(head: bytes) -> str:
    """Classify by the first bytes of a file (the caller passes at least 4 KiB)."""
    if not head:
        return "empty"
    for magic, name in _MAGICS:
        if head.startswith(magic):
            return name
    if head.startswith(b"#!"):
        return "script"
    if len(head) > 1080 and head[1080:1082] == b"\x53\xef":
        return "ext"
    if len(head) > 262 and head[257:262] == b"ustar":
        return "tar"
    sample = head[:4096]
    if b"\x00" in sample:
        return "data"
    try:
        sample.decode("utf-8")
        return "text"
    except UnicodeDecodeError as exc:
        # A multibyte sequence cut at the sample's end is still text.
        if exc.start >= len(sample) - 4:
            return "text"
    nontext = sum(1 for b in sample if b not in _TEXT_BYTES and b < 0x80)
    return "text" if nontext == 0 else "data"
