"""Firmware wrappers: legacy uImage, FIT, Broadcom TRX; and compressed payloads."""

from __future__ import annotations

import bz2
import gzip
import lzma
import struct
import zlib
from pathlib import Path

import pytest
import pyzstd
from unpack_helpers import assert_metadata, mksquashfs, need, run


def test_uimage_filesystem(tree: Path, tmp_path: Path, do_unpack) -> None:
    need("mkimage")
    sq = mksquashfs(tree, tmp_path / "root.sqfs")
    img = tmp_path / "fw.uimage"
    run(
        "mkimage",
        "-A",
        "mips",
        "-O",
        "linux",
        "-T",
        "filesystem",
        "-C",
        "none",
        "-n",
        "rootfs",
        "-d",
        sq,
        img,
    )
    result = do_unpack(img)
    assert [layer.handler for layer in result.layers] == ["uimage", "squashfs"]
    assert not result.warnings  # data CRC matches
    assert_metadata(result)


def test_uimage_gzip_kernel_then_rootfs(tree: Path, tmp_path: Path, do_unpack) -> None:
    need("mkimage")
    kernel = tmp_path / "vmlinux.gz"
    kernel.write_bytes(gzip.compress(b"Linux version 5.10.0 (builder@host) " + b"\x90" * 5000))
    img = tmp_path / "kernel.uimage"
    run(
        "mkimage",
        "-A",
        "arm",
        "-O",
        "linux",
        "-T",
        "kernel",
        "-C",
        "gzip",
        "-a",
        "0x8000",
        "-e",
        "0x8000",
        "-d",
        kernel,
        img,
    )
    sq = mksquashfs(tree, tmp_path / "root.sqfs")
    fw = tmp_path / "fw.bin"
    fw.write_bytes(img.read_bytes().ljust(0x10000, b"\xff") + sq.read_bytes())
    result = do_unpack(fw)
    assert [(layer.handler, layer.depth) for layer in result.layers] == [
        ("uimage", 0),
        ("squashfs", 0),
        ("gzip", 1),
    ]
    assert_metadata(result)


def test_uimage_bad_header_crc_is_not_a_uimage(tmp_path: Path, do_unpack) -> None:
    need("mkimage")
    payload = tmp_path / "p.bin"
    payload.write_bytes(b"x" * 100)
    img = tmp_path / "k.uimage"
    run("mkimage", "-T", "kernel", "-C", "none", "-a", "0", "-e", "0", "-d", payload, img)
    from assay.unpack.handlers.firmware import UImageHandler

    good = img.read_bytes()
    assert UImageHandler().probe(memoryview(good), 0) == len(good)
    bad = bytearray(good)
    bad[40] ^= 0xFF  # inside the name field, covered by the header CRC
    assert UImageHandler().probe(memoryview(bytes(bad)), 0) is None


def test_fit_image(tree: Path, tmp_path: Path, do_unpack) -> None:
    need("mkimage")
    sq = mksquashfs(tree, tmp_path / "root.sqfs")
    fit = tmp_path / "fw.itb"
    run(
        "mkimage",
        "-f",
        "auto",
        "-A",
        "arm",
        "-O",
        "linux",
        "-T",
        "kernel",
        "-C",
        "none",
        "-a",
        "0",
        "-e",
        "0",
        "-d",
        sq,
        fit,
    )
    result = do_unpack(fit)
    assert [layer.handler for layer in result.layers] == ["fit", "squashfs"]
    assert_metadata(result)


def _trx(parts: list[bytes], version: int = 1) -> bytes:
    count = 3 if version == 1 else 4
    header_len = 16 + 4 * count
    offsets, body, pos = [], b"", header_len
    for p in parts:
        pad = -pos % 4096 if offsets else 0
        body += b"\0" * pad
        pos += pad
        offsets.append(pos)
        body += p
        pos += len(p)
    offsets += [0] * (count - len(offsets))
    tail = struct.pack("<HH", 0, version) + struct.pack(f"<{count}I", *offsets) + body
    crc = zlib.crc32(tail) ^ 0xFFFFFFFF  # stored without the final inversion
    return b"HDR0" + struct.pack("<II", 12 + len(tail), crc) + tail


@pytest.mark.parametrize("version", [1, 2])
def test_trx_kernel_and_rootfs(tree: Path, tmp_path: Path, do_unpack, version: int) -> None:
    sq = mksquashfs(tree, tmp_path / "root.sqfs").read_bytes()
    kernel = gzip.compress(b"Linux version 4.4.0 " + b"\0" * 20000)
    img = tmp_path / "fw.trx"
    img.write_bytes(_trx([kernel, sq], version))
    result = do_unpack(img)
    assert [layer.handler for layer in result.layers] == ["trx", "gzip", "squashfs"]
    assert not result.warnings
    assert_metadata(result)
    bad = bytearray(img.read_bytes())
    bad[-1] ^= 0xFF
    img.write_bytes(bytes(bad))
    assert any("CRC32" in w for w in do_unpack(img).warnings)


@pytest.mark.parametrize(
    "name,pack",
    [
        ("gz", gzip.compress),
        ("xz", lzma.compress),
        ("lzma", lambda b: lzma.compress(b, format=lzma.FORMAT_ALONE)),
        ("bz2", bz2.compress),
        ("zst", pyzstd.compress),
    ],
)
def test_compressed_squashfs(tree: Path, tmp_path: Path, do_unpack, name: str, pack) -> None:
    sq = mksquashfs(tree, tmp_path / "root.sqfs").read_bytes()
    img = tmp_path / f"root.sqfs.{name}"
    img.write_bytes(pack(sq) + b"trailing junk")
    result = do_unpack(img)
    assert result.layers[0].handler in ("gzip", "xz", "lzma", "bzip2", "zstd")
    assert result.layers[1].handler == "squashfs"
    assert_metadata(result)


def test_bare_compressed_file_becomes_payload(tmp_path: Path, do_unpack) -> None:
    img = tmp_path / "notes.txt.xz"
    img.write_bytes(lzma.compress(b"just some text\n" * 100))
    result = do_unpack(img)
    fs = result.filesystems[0]
    assert fs.fstype == "payload" and not fs.metadata_exact
    assert (fs.host_root / "notes.txt").read_bytes() == b"just some text\n" * 100


def test_android_sparse_ext4(tree: Path, tmp_path: Path, do_unpack) -> None:
    need("mke2fs", "img2simg", "simg2img")
    raw = tmp_path / "system.img"
    run("mke2fs", "-q", "-t", "ext4", "-d", tree, raw, "8M")
    sparse = tmp_path / "system.simg"
    run("img2simg", raw, sparse)
    assert sparse.read_bytes()[:4] == b"\x3a\xff\x26\xed" and sparse.stat().st_size < raw.stat().st_size
    result = do_unpack(sparse)
    assert [(x.handler, x.depth) for x in result.layers] == [("android-sparse", 0), ("extfs", 1)]
    assert_metadata(result)
    back = tmp_path / "back.img"
    run("simg2img", sparse, back)  # the reference expansion equals ours
    expanded = next(p for p in (tmp_path / "work-system.simg").rglob("partition.img"))
    assert expanded.read_bytes() == back.read_bytes()
