"""ext2/3/4 (dissect.extfs), JFFS2 in both byte orders (dissect.jffs), cramfs."""

from __future__ import annotations

from pathlib import Path

import pytest
from unpack_helpers import assert_metadata, need, run


@pytest.mark.parametrize("kind", ["ext2", "ext4"])
def test_ext_from_mke2fs_d(tree: Path, tmp_path: Path, do_unpack, kind: str) -> None:
    need("mke2fs")
    img = tmp_path / f"fs.{kind}"
    run("mke2fs", "-q", "-F", "-t", kind, "-b", "1024", "-d", tree, img, "2048")
    result = do_unpack(img)
    assert result.roots[0].fstype == kind
    assert_metadata(result)


@pytest.mark.parametrize("endian", ["-l", "-b"])
def test_jffs2_both_byte_orders(tree: Path, tmp_path: Path, do_unpack, endian: str) -> None:
    need("mkfs.jffs2")
    img = tmp_path / f"fs{endian}.jffs2"
    run("mkfs.jffs2", endian, "-r", tree, "-o", img, "-e", "0x10000", "-p")
    result = do_unpack(img)
    assert result.roots[0].fstype == ("jffs2-be" if endian == "-b" else "jffs2")
    assert_metadata(result)


def test_cramfs(tree: Path, tmp_path: Path, do_unpack) -> None:
    need("mkfs.cramfs")
    img = tmp_path / "fs.cramfs"
    run("mkfs.cramfs", tree, img)
    result = do_unpack(img)
    assert result.roots[0].fstype == "cramfs"
    # cramfs stores 8-bit gids and 16-bit uids; 1000 fits the uid only.
    assert result.roots[0].entries["/home/user/notes"].uid == 1000
    assert_metadata(result, owners=False)


def test_ubifs_in_ubi(tree: Path, tmp_path: Path, do_unpack) -> None:
    need("mkfs.ubifs", "ubinize")
    ubifs = tmp_path / "root.ubifs"
    run("mkfs.ubifs", "-r", tree, "-m", "2048", "-e", "126976", "-c", "64", "-o", ubifs)
    cfg = tmp_path / "ubi.cfg"
    cfg.write_text(
        f"[rootfs]\nmode=ubi\nimage={ubifs}\nvol_id=0\nvol_type=dynamic\nvol_name=rootfs\nvol_flags=autoresize\n"
    )
    img = tmp_path / "flash.ubi"
    run("ubinize", "-o", img, "-m", "2048", "-p", "128KiB", "-s", "2048", cfg)
    result = do_unpack(img)
    assert result.roots[0].fstype == "ubifs"
    assert_metadata(result)
    bare = do_unpack(ubifs)
    assert bare.image_format == "ubifs"
    assert_metadata(bare)
