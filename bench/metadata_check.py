#!/usr/bin/env python3
"""Do Assay's reports list each root filesystem's files as Debian's own tools see them?

For every CORPUS/<name>/image.bin it runs `assay scan` (or reads REPORTS/<name>.json when
--reports is given), validates the report against the schema, and lists the same image
with a reference tool chosen from the image's own magic, independently of Assay:

* squashfs (bare or behind a header): `unsquashfs -lln -o OFFSET`;
* gzip/plain newc cpio: `cpio -itv --numeric-uid-gid`;
* ext2/3/4: `debugfs` (`ls -p` per directory, `stat` per symlink);
* JFFS2: the raw nodes, newest version per inode and dirent (mtd-utils has no lister:
  `jffs2reader` skips version-0 dirents).

It prints per image: files compared, and mismatches of presence, kind, mode (with the
setuid/setgid/sticky bits), uid, gid and symlink target.

    .venv/bin/python bench/metadata_check.py [CORPUS] [--reports DIR] [-v]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import stat
import struct
import subprocess
import sys
import tempfile
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

VENV_BIN = Path(sys.executable).parent

# path -> (kind, perm 0o7777, uid, gid, link target)
Listing = dict[str, tuple[str, int, int, int, str | None]]

_KINDS = {"-": "file", "d": "dir", "l": "symlink", "c": "char", "b": "block", "p": "fifo", "s": "socket"}


def _perm(s: str) -> int:
    """'rwsr-xr-x' -> 0o4755."""
    mode = 0
    for i, ch in enumerate(s[:9]):
        if ch not in "-STl":
            mode |= 1 << (8 - i)
        if i % 3 == 2 and ch in "sStT":
            mode |= (0o4000, 0o2000, 0o1000)[i // 3]
    return mode


def _norm(path: str) -> str:
    parts = [p for p in path.split("/") if p not in ("", ".")]
    return "/" + "/".join(parts)


_IFMT = {
    stat.S_IFREG: "file",
    stat.S_IFDIR: "dir",
    stat.S_IFLNK: "symlink",
    stat.S_IFCHR: "char",
    stat.S_IFBLK: "block",
    stat.S_IFIFO: "fifo",
    stat.S_IFSOCK: "socket",
}


def _kind(mode: int) -> str:
    return _IFMT.get(stat.S_IFMT(mode), "file")


def _parse_ls(out: str, rx: re.Pattern[str]) -> Listing:
    """`ls -l`-style lines; rx groups: type char, permissions, uid, gid, name[ -> target]."""
    listing: Listing = {}
    for line in out.splitlines():
        m = rx.match(line)
        if not m:
            continue
        name, target = m[5], None
        if m[1] == "l":
            name, target = name.split(" -> ", 1)
        listing[_norm(name)] = (_KINDS[m[1]], _perm(m[2]), int(m[3]), int(m[4]), target)
    return listing


def list_squashfs(image: Path, offset: int) -> Listing:
    cmd = ["unsquashfs", "-lln", "-UTC", "-o", str(offset), "-d", "R", str(image)]
    out = subprocess.run(cmd, capture_output=True, check=True).stdout.decode("utf-8", "surrogateescape")
    # drwxr-xr-x 0/0                 3 2023-01-01 00:00 R/bin
    return _parse_ls(out, re.compile(r"^([-dlcbps])(\S{9}) (\d+)/(\d+) +\S+(?:, *\d+)? \S+ \S+ R(.*)$"))


def list_cpio(data: bytes) -> Listing:
    cmd = ["cpio", "-itv", "--numeric-uid-gid", "--quiet"]
    out = subprocess.run(cmd, input=data, capture_output=True, check=True).stdout.decode(
        "utf-8", "surrogateescape"
    )
    # drwxr-xr-x   2 0        0               0 Jan  1  2023 bin
    return _parse_ls(
        out, re.compile(r"^([-dlcbps])(\S{9}) +\d+ +(\d+) +(\d+) +[\d, ]+ \w{3} +\d+ +[\d:]+ (.*)$")
    )


def _debugfs(image: Path, commands: list[str]) -> str:
    proc = subprocess.run(
        ["debugfs", "-f", "-", str(image)],
        input="\n".join(commands).encode(),
        capture_output=True,
        check=True,
    )
    return proc.stdout.decode("utf-8", "surrogateescape")


def list_ext(image: Path) -> Listing:
    listing: Listing = {"/": ("dir", 0, 0, 0, None)}
    level = ["/"]
    while level:
        text = _debugfs(image, [f'ls -p "{d}"' for d in level])
        nxt: list[str] = []
        cur = ""
        for line in text.splitlines():
            if line.startswith("debugfs: ls -p "):
                cur = line[len('debugfs: ls -p "') : -1]
                continue
            parts = line.split("/")
            if len(parts) < 7 or not parts[2].isdigit():
                continue
            mode = int(parts[2], 8)
            name = "/".join(parts[5:-2])
            path = _norm(cur + "/" + name)
            if name in ("", ".", ".."):
                continue  # the directory itself, its parent, and unused slots
            listing[path] = (_kind(mode), mode & 0o7777, int(parts[3]), int(parts[4]), None)
            if stat.S_ISDIR(mode):
                nxt.append(path)
        level = nxt
    links = [p for p, v in listing.items() if v[0] == "symlink"]
    if links:
        text = _debugfs(image, [f'stat "{p}"' for p in links])
        cur = ""
        for line in text.splitlines():
            if line.startswith("debugfs: stat "):
                cur = line[len('debugfs: stat "') : -1]
            m = re.match(r'\s*Fast link dest: "(.*)"$', line)
            if m and cur in listing:
                listing[cur] = listing[cur][:4] + (m[1],)
    return listing


def list_jffs2(data: bytes) -> Listing:
    """Newest inode node per ino and newest dirent per (parent, name), little endian."""
    inodes: dict[int, tuple[int, int, int, int, bytes]] = {}  # ino -> version, mode, uid, gid, data
    dirents: dict[tuple[int, bytes], tuple[int, int]] = {}  # (pino, name) -> version, ino
    pos = 0
    while pos + 12 <= len(data):
        magic, ntype, totlen = struct.unpack_from("<HHI", data, pos)
        if magic != 0x1985 or totlen < 12:
            pos += 4
            continue
        if ntype == 0xE001:  # dirent
            pino, ver, ino, _mct, nsize = struct.unpack_from("<IIIIB", data, pos + 12)
            name = data[pos + 40 : pos + 40 + nsize]
            if (pino, name) not in dirents or dirents[(pino, name)][0] <= ver:
                dirents[(pino, name)] = (ver, ino)
        elif ntype == 0xE002:  # inode
            ino, ver, mode, uid, gid = struct.unpack_from("<IIIHH", data, pos + 12)
            csize, dsize, compr = struct.unpack_from("<IIB", data, pos + 52)
            raw = data[pos + 68 : pos + 68 + csize]
            if compr == 6:
                raw = zlib.decompress(raw)[:dsize]
            if ino not in inodes or inodes[ino][0] <= ver:
                inodes[ino] = (ver, mode, uid, gid, raw if stat.S_ISLNK(mode) else b"")
        pos += (totlen + 3) & ~3
    children: dict[int, list[tuple[bytes, int]]] = {}
    for (pino, name), (_v, ino) in dirents.items():
        if ino:
            children.setdefault(pino, []).append((name, ino))
    listing: Listing = {"/": ("dir", 0o755, 0, 0, None)}
    stack = [(1, "/")]
    while stack:
        pino, path = stack.pop()
        for name, ino in children.get(pino, []):
            if ino not in inodes:
                continue
            _v, mode, uid, gid, raw = inodes[ino]
            p = _norm(path + "/" + name.decode("utf-8", "surrogateescape"))
            target = raw.decode("utf-8", "surrogateescape") if stat.S_ISLNK(mode) else None
            listing[p] = (_kind(mode), mode & 0o7777, uid, gid, target)
            if stat.S_ISDIR(mode):
                stack.append((ino, p))
    return listing


def _squashfs_offset(image: Path, data: bytes) -> int | None:
    for m in re.finditer(b"hsqs|sqsh", data):
        probe = subprocess.run(["unsquashfs", "-s", "-o", str(m.start()), str(image)], capture_output=True)
        if probe.returncode == 0:
            return m.start()
    return None


def reference(image: Path) -> tuple[str, Listing]:
    raw = image.read_bytes()
    data = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    if data[:6] in (b"070701", b"070702"):
        return "cpio -itv", list_cpio(data)
    if data[1080:1082] == b"\x53\xef":
        return "debugfs", list_ext(image)
    if data[:2] == b"\x85\x19":
        return "jffs2 nodes", list_jffs2(data)
    off = _squashfs_offset(image, raw)
    if off is None:
        raise SystemExit(f"{image}: no reference tool recognises it")
    return f"unsquashfs -lln -o {off}", list_squashfs(image, off)


def assay_listing(report: dict[str, Any]) -> Listing:
    roots = {fs["id"] for fs in report["filesystems"] if fs["root"]}
    listing: Listing = {}
    for f in report["files"]:
        if f["fs"] in roots:
            listing[f["path"]] = (f["kind"], int(f["mode"], 8), f["uid"], f["gid"], f.get("link_target"))
    return listing


def compare(ref: Listing, got: Listing) -> tuple[Counter[str], list[str]]:
    bad: Counter[str] = Counter()
    notes: list[str] = []
    for path, (kind, mode, uid, gid, target) in sorted(ref.items()):
        if path == "/":
            continue  # the root's own inode: not every tool lists it
        g = got.get(path)
        if g is None:
            bad["missing"] += 1
            notes.append(f"missing {path}")
            continue
        for what, a, b in (
            ("kind", kind, g[0]),
            ("mode", mode, g[1]),
            ("uid", uid, g[2]),
            ("gid", gid, g[3]),
        ):
            if a != b:
                bad[what] += 1
                notes.append(
                    f"{what} {path}: ref {a if what != 'mode' else oct(a)}, assay {b if what != 'mode' else oct(b)}"
                )
        if kind == "symlink" and target != g[4]:
            bad["link"] += 1
            notes.append(f"link {path}: ref {target!r}, assay {g[4]!r}")
    extra = sorted(set(got) - set(ref) - {"/"})
    bad["extra"] = len(extra)
    notes.extend(f"extra {p}" for p in extra)
    return bad, notes


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", nargs="?", default="/work/shared/corpus")
    ap.add_argument("--reports", type=Path, help="read REPORTS/<name>.json instead of scanning")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    from assay.reports import ReportSchemaError, validate

    images = sorted(Path(args.corpus).glob("*/image.bin"))
    cols = ("missing", "extra", "kind", "mode", "uid", "gid", "link")
    print(
        f"{'image':10} {'reference':28} {'schema':6} {'files':>5} {'links':>5} {'setuid':>6} "
        + " ".join(f"{c:>7}" for c in cols)
    )
    failed = 0
    with tempfile.TemporaryDirectory(prefix="assay-meta-") as tmp:
        for image in images:
            name = image.parent.name
            if args.reports:
                report = json.loads((args.reports / f"{name}.json").read_text())
            else:
                out = Path(tmp) / f"{name}.json"
                subprocess.run(
                    [str(VENV_BIN / "assay"), "scan", "-q", str(image), "-o", str(out)], check=True
                )
                report = json.loads(out.read_text())
            try:
                validate(report)
                valid = "ok"
            except ReportSchemaError as exc:
                valid = "FAIL"
                print(f"  {name}: {exc}")
            tool, ref = reference(image)
            got = assay_listing(report)
            bad, notes = compare(ref, got)
            setuid = sum(1 for v in ref.values() if v[1] & 0o6000)
            links = sum(1 for v in ref.values() if v[0] == "symlink")
            compared = len(ref) - 1
            print(
                f"{name:10} {tool:28} {valid:6} {compared:5} {links:5} {setuid:6} "
                + " ".join(f"{bad[c]:7}" for c in cols)
            )
            if args.verbose:
                for n in notes[:20]:
                    print("    " + n)
            failed += valid != "ok" or any(bad.values())
    print(
        f"\n{len(images) - failed}/{len(images)} images: valid report and every file's metadata as the reference shows it"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
