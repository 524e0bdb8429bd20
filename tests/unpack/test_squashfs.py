"""SquashFS: metadata from the filesystem, contents via unsquashfs or dissect."""

from __future__ import annotations

import lzma
import shutil
import struct
from pathlib import Path

import pytest
from unpack_helpers import BUSYBOX, assert_metadata, make_tree, mksquashfs, need, run

from assay.errors import UnsupportedImage
from assay.unpack import Limits
from assay.unpack.handlers import squashfs as sqmod
from assay.unpack.handlers.base import HandlerContext, TreeBuilder
from assay.unpack.limits import Budget


def test_squashfs_keeps_modes_owners_links(tree: Path, tmp_path: Path, do_unpack) -> None:
    img = mksquashfs(tree, tmp_path / "fs.sqfs")
    result = do_unpack(img)
    assert result.image_format == "squashfs"
    assert result.roots[0].metadata_exact
    assert_metadata(result)


def test_all_root_keeps_modes(tree: Path, tmp_path: Path, do_unpack) -> None:
    img = mksquashfs(tree, tmp_path / "fs.sqfs", "-all-root")
    e = do_unpack(img).roots[0].entries
    assert e["/home/user/notes"].uid == 0
    assert e["/usr/bin/su"].mode == 0o4755
    assert e["/etc/shadow"].mode == 0o600


def test_pseudo_file_metadata(tmp_path: Path, do_unpack) -> None:
    src = make_tree(tmp_path / "src", owners=False)
    pseudo = tmp_path / "pseudo"
    pseudo.write_text(
        "home/user/notes m 640 1000 1000\n"
        "usr/bin/su m 4755 0 0\n"
        "etc/shadow m 600 0 42\n"
        "bin/ash s 777 0 0 /bin/busybox\n"
        "dev d 755 0 0\n"
        "dev/console c 600 0 0 5 1\n"
    )
    img = mksquashfs(src, tmp_path / "fs.sqfs", "-pf", str(pseudo))
    e = do_unpack(img).roots[0].entries
    assert (e["/home/user/notes"].uid, e["/home/user/notes"].gid, e["/home/user/notes"].mode) == (
        1000,
        1000,
        0o640,
    )
    assert e["/usr/bin/su"].mode == 0o4755
    assert (e["/etc/shadow"].mode, e["/etc/shadow"].gid) == (0o600, 42)
    assert e["/bin/ash"].link_target == "/bin/busybox"
    assert e["/dev/console"].kind == "char"


def test_dissect_path_gives_same_result(tree: Path, tmp_path: Path, do_unpack, monkeypatch) -> None:
    img = mksquashfs(tree, tmp_path / "fs.sqfs")
    monkeypatch.setattr(sqmod.shutil, "which", lambda _name: None)
    result = do_unpack(img)
    assert_metadata(result)


def test_dissect_takes_over_when_unsquashfs_fails(tree: Path, tmp_path: Path, do_unpack, monkeypatch) -> None:
    img = mksquashfs(tree, tmp_path / "fs.sqfs")

    def fails(_tool: str, _src: Path, _start: int, dest: Path, _tb: object) -> None:
        shutil.rmtree(dest, ignore_errors=True)  # as unsquashfs leaves it after a fatal error
        raise sqmod.SquashFSError("FATAL ERROR: File system corruption detected")

    monkeypatch.setattr(sqmod, "_unsquashfs_content", fails)
    result = do_unpack(img)
    assert_metadata(result)
    assert any("unsquashfs failed" in w and "reading through dissect" in w for w in result.warnings)


def test_vendor_lzma_blocks_without_the_size_field() -> None:
    """Some SDKs wrote LZMA blocks as props, dictionary size, raw stream (lc=1 lp=2 pb=2 here)."""
    data = b"root:x:0:0:root:/root:/bin/sh\n" * 300
    lc, lp, pb, dict_size = 1, 2, 2, 1 << 16
    raw = lzma.compress(
        data,
        lzma.FORMAT_RAW,
        filters=[{"id": lzma.FILTER_LZMA1, "lc": lc, "lp": lp, "pb": pb, "dict_size": dict_size}],
    )
    block = bytes([(pb * 5 + lp) * 9 + lc]) + dict_size.to_bytes(4, "little") + raw

    class Standard:
        def decompress(self, data: bytes, expected: int) -> bytes:
            return lzma.decompress(data, lzma.FORMAT_ALONE)

    codec = sqmod._VendorLzma(Standard())
    assert codec.decompress(block, 8192) == data[:8192]
    assert codec.decompress(lzma.compress(data, lzma.FORMAT_ALONE), len(data)) == data  # the standard form


def test_squashfs_at_offset_inside_blob(tree: Path, tmp_path: Path, do_unpack) -> None:
    img = mksquashfs(tree, tmp_path / "fs.sqfs")
    blob = tmp_path / "vendor.bin"
    blob.write_bytes(b"VENDORHDR" + b"\0" * 503 + img.read_bytes() + b"\xff" * 1000)
    result = do_unpack(blob)
    assert result.layers[0].offset == 512
    assert_metadata(result)


def test_old_squashfs_via_unsquashfs_listing() -> None:
    # unsquashfs -lln lines for pre-4.0 images; modes must survive the text round trip.
    m = sqmod._LLN.match("-rwsr-xr-x 0/0                    8651 2009-02-12 09:09 R/bin/su")
    assert m and sqmod._perm_bits(m["mode"][1:]) == 0o4755
    m = sqmod._LLN.match("lrwxrwxrwx 0/0 7 2009-02-12 09:09 R/bin/adsl -> adslctl")
    assert m and m["name"] == "R/bin/adsl -> adslctl"
    assert sqmod._perm_bits("rwxr-sr-T") == 0o3754


def test_unsquashfs_listing_matches_the_inode_tables(tree: Path, tmp_path: Path) -> None:
    """The listing path (pre-4.0 and big-endian images) against dissect's, on one real image."""
    need("unsquashfs")
    img = mksquashfs(tree, tmp_path / "fs.sqfs")
    ctx = HandlerContext(limits=Limits(), budget=Budget(Limits()))
    tb = TreeBuilder("fs0", "squashfs", tmp_path / "out", ctx, "test")
    listed = {m.path: m for m in sqmod._lln_meta("unsquashfs", img, 0, tb)}
    walked = {m.path: m for m in sqmod._dissect_meta(img, 0, img.stat().st_size, tb)}
    assert ctx.warnings == []
    assert listed.keys() == walked.keys() and "/" in listed
    for path, m in walked.items():
        got = listed[path]
        assert (got.kind, got.mode, got.uid, got.gid, got.link_target) == (
            m.kind,
            m.mode,
            m.uid,
            m.gid,
            m.link_target,
        ), path
    assert listed["/usr/bin/su"].mode == 0o4755 and listed["/bin/sh"].link_target == "busybox"


_SUPER = "IIIIIHHHHHHQQQQQQQQ"  # squashfs 4.0 superblock, 96 bytes


def test_vendor_variants_get_a_clear_reason(tree: Path, tmp_path: Path, do_unpack) -> None:
    img = mksquashfs(tree, tmp_path / "fs.sqfs")
    raw = img.read_bytes()
    swapped = struct.pack(">" + _SUPER, *struct.unpack_from("<" + _SUPER, raw))  # an AVM-style superblock
    be = tmp_path / "be.sqfs"
    be.write_bytes(swapped + raw[96:])
    with pytest.raises(UnsupportedImage, match="big-endian squashfs 4.0"):
        do_unpack(be)
    lzma3 = bytearray(96)
    lzma3[:4] = b"hsqs"
    struct.pack_into("<HH", lzma3, 28, 3, 0x4C)
    assert "LZMA-compressed squashfs 3.x" in (sqmod.unreadable_variant(bytes(lzma3)) or "")
    struct.pack_into("<HH", lzma3, 28, 3, 1)
    assert sqmod.unreadable_variant(bytes(lzma3)) is None


def test_truncated_squashfs_is_unsupported(tree: Path, tmp_path: Path, do_unpack) -> None:
    img = mksquashfs(tree, tmp_path / "fs.sqfs")
    cut = tmp_path / "cut.sqfs"
    raw = img.read_bytes()
    (used,) = struct.unpack_from("<Q", raw, 40)
    cut.write_bytes(raw[: used // 2])
    with pytest.raises(UnsupportedImage, match="truncated"):
        do_unpack(cut)


def test_probe_rejects_bad_superblock() -> None:
    h = sqmod.SquashFSHandler()
    sb = bytearray(b"hsqs" + b"\0" * 200)
    struct.pack_into("<I", sb, 12, 3000)  # not a power of two
    struct.pack_into("<HH", sb, 28, 4, 0)
    struct.pack_into("<Q", sb, 40, 150)
    assert h.probe(memoryview(bytes(sb)), 0) is None
    struct.pack_into("<I", sb, 12, 4096)
    assert h.probe(memoryview(bytes(sb)), 0) == 150


def test_busybox_payload_is_intact(tree: Path, tmp_path: Path, do_unpack) -> None:
    need("unsquashfs")
    img = mksquashfs(tree, tmp_path / "fs.sqfs")
    fs = do_unpack(img).roots[0]
    assert (fs.host_root / "bin/busybox").read_bytes() == BUSYBOX
    listing = run("unsquashfs", "-lln", img).stdout.decode()
    assert "-rwsr-xr-x" in listing  # the reference agrees with what the test asserts


def test_empty_filesystem_is_not_a_result(tmp_path: Path, do_unpack) -> None:
    (tmp_path / "empty").mkdir()
    img = mksquashfs(tmp_path / "empty", tmp_path / "empty.sqfs")
    with pytest.raises(
        UnsupportedImage, match="squashfs at 0x0 not unpacked: EmptyFilesystem: it holds no entries"
    ):
        do_unpack(img)


def test_sevenzip_reader_keeps_metadata(tree: Path, tmp_path: Path) -> None:
    """7-Zip reads the LZMA 2.x/3.x vendor variants; the same code on an image mksquashfs makes."""
    need("7zz")
    img = mksquashfs(tree, tmp_path / "fs.sqfs")
    blob = tmp_path / "vendor.bin"
    blob.write_bytes(b"HDR0" * 16 + img.read_bytes())  # at an offset, as behind a vendor header
    ctx = HandlerContext(limits=Limits(), budget=Budget(Limits()))
    tb = TreeBuilder("fs0", "squashfs", tmp_path / "out", ctx, "test")
    sqmod._sevenzip("7zz", blob, 64, img.stat().st_size, tmp_path / "out", tb)
    e = tb.fs.entries
    assert e["/usr/bin/su"].mode == 0o4755 and e["/etc/shadow"].mode == 0o600
    assert e["/bin/sh"].kind == "symlink" and e["/bin/sh"].link_target == "busybox"
    assert (tmp_path / "out/bin/busybox").read_bytes() == BUSYBOX
    assert not (tmp_path / "out/usr/bin/su").stat().st_mode & 0o6000
    assert not (tmp_path / "out/bin/sh").exists()  # links live in the metadata only
    lzma3 = bytearray(96)
    lzma3[:4] = b"hsqs"
    struct.pack_into("<HH", lzma3, 28, 3, 0x4C)
    assert sqmod._legacy_lzma(bytes(lzma3))


def test_unreadable_file_keeps_its_metadata(tree: Path, tmp_path: Path, do_unpack, monkeypatch) -> None:
    """A block unsquashfs cannot decode costs that file's data, never its mode or owner."""
    need("unsquashfs")
    img = mksquashfs(tree, tmp_path / "fs.sqfs")
    real = sqmod._unsquashfs_content

    def loses_su(tool: str, src: Path, start: int, dest: Path, tb: TreeBuilder) -> None:
        real(tool, src, start, dest, tb)
        (dest / "usr/bin/su").unlink()  # as with -ig after a data error

    monkeypatch.setattr(sqmod, "_unsquashfs_content", loses_su)
    result = do_unpack(img)
    assert result.roots[0].entries["/usr/bin/su"].mode == 0o4755
    assert any("1 of 5 files could not be read (metadata only): /usr/bin/su" in w for w in result.warnings)
    from assay.index import build_index

    su = build_index(result.filesystems).get("/usr/bin/su")
    assert su is not None and su.setuid and su.filetype == "missing" and su.sha256 is None
