#!/usr/bin/env python3
"""Does the hunt find the same things when the same root filesystem comes in another package?

    python bench/repack_variants.py [--corpus /work/shared/corpus] [--only fw-01,fw-07]
                                    [--variants sqfs-gzip,jffs2-be] [--keep DIR]

For every CORPUS/*/image.bin: unpack it with Assay, rebuild each root filesystem it holds in a
staging directory with the true metadata (modes, owners, setuid bits, symlinks; as root), pack
that again with Debian's tools in other formats (squashfs with other compressors, big- and
little-endian JFFS2, cramfs, ext2, UBI/UBIFS, cpio, tar, zip, a uImage ramdisk), scan each with
only the nine back-door categories' checks, and compare (rule, category, path) of every finding
and (name, version) of every component with the scan of the original image. Prints one row per
image and variant: same, or what went missing or appeared, and the scan's wall time.

Formats that cannot carry some metadata are expected to differ there, and the row says so (zip
keeps no owners; cramfs keeps 8-bit group ids). Needs root, for the owners. Never part of the
tests: it reads /work/shared.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scans import HUNT_ONLY, scan

from assay.unpack import Limits, unpack
from assay.unpack.base import KIND_DIR, KIND_FILE, KIND_SYMLINK, ExtractedFS


def stage(fs: ExtractedFS, dest: Path) -> None:
    """The filesystem as a real tree under dest: files, directories, symlinks, true metadata."""
    entries = sorted(fs.entries.values(), key=lambda e: e.path)
    for e in entries:
        if e.path == "/":
            continue
        target = dest / e.path.lstrip("/")
        if e.kind == KIND_DIR:
            target.mkdir(parents=True, exist_ok=True)
        elif e.kind == KIND_FILE:
            target.parent.mkdir(parents=True, exist_ok=True)
            src = fs.host_root / e.path.lstrip("/")
            if src.is_file():
                shutil.copyfile(src, target)
            else:
                target.write_bytes(b"")
        elif e.kind == KIND_SYMLINK and e.link_target is not None:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(e.link_target, target)
    # Owners and modes last, deepest first, so that a read-only directory is filled before.
    for e in sorted(entries, key=lambda e: -e.path.count("/")):
        target = dest / e.path.lstrip("/") if e.path != "/" else dest
        if not os.path.lexists(target):
            continue
        os.lchown(target, e.uid, e.gid)
        if e.kind != KIND_SYMLINK:
            os.chmod(target, e.mode & 0o7777)


def _run(*cmd: str, cwd: Path | None = None, stdin: Any = None, stdout: Any = None) -> None:
    subprocess.run(
        cmd, check=True, cwd=cwd, stdin=stdin, stdout=stdout or subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def _squashfs(comp: str) -> Callable[[Path, Path, Path], None]:
    def pack(src: Path, out: Path, _tmp: Path) -> None:
        _run("mksquashfs", str(src), str(out), "-comp", comp, "-noappend", "-quiet", "-no-progress")

    return pack


def _jffs2(flag: str) -> Callable[[Path, Path, Path], None]:
    def pack(src: Path, out: Path, _tmp: Path) -> None:
        _run("mkfs.jffs2", flag, "-r", str(src), "-o", str(out), "-e", "128KiB", "-n")

    return pack


def _cramfs(src: Path, out: Path, _tmp: Path) -> None:
    _run("mkfs.cramfs", str(src), str(out))


def _ext2(src: Path, out: Path, _tmp: Path) -> None:
    size = sum(p.lstat().st_size for p in src.rglob("*")) // 1024 * 2 + 8192
    _run("mke2fs", "-F", "-q", "-t", "ext2", "-d", str(src), str(out), f"{size}k")


def _cpio(src: Path, tmp: Path) -> Path:
    names = subprocess.run(["find", "."], cwd=src, check=True, capture_output=True).stdout
    raw = tmp / "root.cpio"
    with open(raw, "wb") as fh:
        subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd=src, input=names, stdout=fh, check=True)
    return raw


def _cpio_xz(src: Path, out: Path, tmp: Path) -> None:
    raw = _cpio(src, tmp)
    with open(out, "wb") as fh:
        _run("xz", "--check=crc32", "-c", str(raw), stdout=fh)


def _uimage_ramdisk(src: Path, out: Path, tmp: Path) -> None:
    raw = _cpio(src, tmp)
    gz = tmp / "root.cpio.gz"
    with open(gz, "wb") as fh:
        _run("gzip", "-9", "-n", "-c", str(raw), stdout=fh)
    _run(
        "mkimage",
        "-A",
        "arm",
        "-O",
        "linux",
        "-T",
        "ramdisk",
        "-C",
        "gzip",
        "-n",
        "rootfs",
        "-d",
        str(gz),
        str(out),
    )


def _tar_gz(src: Path, out: Path, _tmp: Path) -> None:
    _run("tar", "--numeric-owner", "-czf", str(out), "-C", str(src), ".")


def _zip(src: Path, out: Path, _tmp: Path) -> None:
    _run("zip", "-q", "-r", "-y", str(out.resolve()), ".", cwd=src)


def _ubi(src: Path, out: Path, tmp: Path) -> None:
    ubifs = tmp / "root.ubifs"
    _run("mkfs.ubifs", "-r", str(src), "-m", "2048", "-e", "126976", "-c", "2047", "-o", str(ubifs))
    cfg = tmp / "ubi.cfg"
    cfg.write_text(
        "[rootfs]\nmode=ubi\nimage=" + str(ubifs) + "\nvol_id=0\nvol_type=dynamic\nvol_name=rootfs\n"
        "vol_flags=autoresize\n"
    )
    _run("ubinize", "-o", str(out), "-m", "2048", "-p", "128KiB", "-s", "2048", str(cfg))


VARIANTS: dict[str, tuple[Callable[[Path, Path, Path], None], str]] = {
    "sqfs-gzip": (_squashfs("gzip"), ""),
    "sqfs-lzo": (_squashfs("lzo"), ""),
    "sqfs-lz4": (_squashfs("lz4"), ""),
    "sqfs-zstd": (_squashfs("zstd"), ""),
    "jffs2-be": (_jffs2("-b"), ""),
    "jffs2-le": (_jffs2("-l"), ""),
    "cramfs": (_cramfs, "8-bit group ids"),
    "ext2": (_ext2, ""),
    "ubi": (_ubi, ""),
    "cpio-xz": (_cpio_xz, ""),
    "uimage-ramdisk": (_uimage_ramdisk, ""),
    "tar-gz": (_tar_gz, ""),
    "zip": (_zip, "no owners"),
}


def hunt(image: Path, out: Path) -> tuple[float, dict[str, Any] | None, str]:
    wall, _cpu, report, error = scan(image, out, extra=HUNT_ONLY)
    return wall, report, error


def keys(report: dict[str, Any]) -> tuple[set[tuple[str, str, str]], set[tuple[str, str]]]:
    found = {(f["rule"], f["category"], f["path"]) for f in report["findings"]}
    comps = {(c["name"], c.get("version") or "") for c in report["components"]}
    return found, comps


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--corpus", type=Path, default=Path("/work/shared/corpus"))
    ap.add_argument("--only", default="", help="comma-separated image folder names")
    ap.add_argument("--variants", default="", help=f"comma-separated, of {', '.join(VARIANTS)}")
    ap.add_argument("--keep", type=Path, default=None, help="keep the repacked images here")
    args = ap.parse_args(argv)
    if os.geteuid() != 0:
        print("needs root: the staged trees carry the firmware's owners", file=sys.stderr)
        return 3
    only = {n for n in args.only.split(",") if n}
    chosen = [v for v in args.variants.split(",") if v] or list(VARIANTS)
    unknown = [v for v in chosen if v not in VARIANTS]
    if unknown:
        print(f"unknown variant {', '.join(unknown)}", file=sys.stderr)
        return 3
    images = [i for i in sorted(args.corpus.glob("*/image.bin")) if not only or i.parent.name in only]
    same = differ = failed = 0
    with tempfile.TemporaryDirectory(prefix="assay-repack-") as tmpdir:
        tmp = Path(tmpdir)
        for image in images:
            name = image.parent.name
            wall, report, error = hunt(image, tmp / f"{name}.json")
            if report is None:
                print(f"{name:<8} original: {error}")
                continue
            base_found, base_comps = keys(report)
            print(
                f"{name:<8} original {wall:5.2f}s  {len(base_found)} findings, {len(base_comps)} components"
            )
            work = tmp / name
            unpacked = unpack(image, work / "extract", Limits())
            roots = unpacked.roots
            if len(roots) != 1:
                print(f"{name:<8} {len(roots)} root filesystems: skipped")
                continue
            staged = work / "stage"
            staged.mkdir()
            stage(roots[0], staged)
            for variant in chosen:
                pack, caveat = VARIANTS[variant]
                out = (args.keep or work) / f"{name}.{variant}.bin"
                out.parent.mkdir(parents=True, exist_ok=True)
                scratch = work / f"scratch-{variant}"
                scratch.mkdir()
                try:
                    pack(staged, out, scratch)
                except subprocess.CalledProcessError as exc:
                    failed += 1
                    why = (exc.stderr or b"").decode(errors="replace").strip().splitlines()
                    print(f"{'':<8} {variant:<15} packing failed: {why[-1] if why else exc}")
                    continue
                vwall, vreport, verror = hunt(out, work / f"{variant}.json")
                if vreport is None:
                    failed += 1
                    print(f"{'':<8} {variant:<15} {vwall:5.2f}s  scan failed: {verror}")
                    continue
                found, comps = keys(vreport)
                missing, extra = base_found - found, found - base_found
                cmiss, cextra = base_comps - comps, comps - base_comps
                if not (missing or extra or cmiss or cextra):
                    same += 1
                    print(f"{'':<8} {variant:<15} {vwall:5.2f}s  same")
                    continue
                differ += 1
                note = f" (format: {caveat})" if caveat else ""
                print(f"{'':<8} {variant:<15} {vwall:5.2f}s  DIFFERENT{note}")
                for label, items in (
                    ("missing", missing),
                    ("extra", extra),
                    ("component missing", cmiss),
                    ("component extra", cextra),
                ):
                    for item in sorted(items):
                        print(f"{'':<12} {label}: {' '.join(item)}")
            shutil.rmtree(work, ignore_errors=True)
    print(f"\n{same} same, {differ} different, {failed} failed")
    return 0 if not differ and not failed else 1


if __name__ == "__main__":
    raise SystemExit(main())
