#!/usr/bin/env python3
"""Wall time and peak memory per corpus image of plain extraction with Debian tools
(unsquashfs, gzip|cpio, debugfs, jefferson), Assay's unpack+index, and the whole `assay scan`,
all measured in the same run; then unpack+index of a generated ~50 MB, 6000-file squashfs
against `unsquashfs`.

Each measurement runs in a child process; peak memory is the child's ru_maxrss. Targets:
unpack+index within 3x plain extraction; the 50 MB / 6000-file image within 10 s.

    .venv/bin/python bench/scan_speed.py [CORPUS] [--skip-big] [--only fw-01,fw-02]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

VENV_BIN = Path(sys.executable).parent


_RUNNER = """
import json, resource, subprocess, sys, time
t0 = time.perf_counter()
proc = subprocess.run(json.loads(sys.argv[1]), capture_output=True, text=True)
took = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
print(json.dumps([took, peak, proc.returncode, proc.stdout]))
"""


def measure(cmd: list[str]) -> tuple[float, int, int, str]:
    """(seconds, peak RSS in MiB, exit code, stdout) of cmd, run under a fresh runner process so
    that RUSAGE_CHILDREN's high-water mark belongs to this command alone."""
    out = subprocess.run(
        [sys.executable, "-c", _RUNNER, json.dumps(cmd)], capture_output=True, text=True, check=True
    ).stdout
    took, peak, rc, stdout = json.loads(out)
    return float(took), int(peak), int(rc), str(stdout)


def native_extract(fmt: str, image: Path, layout: list[dict], out: Path) -> list[str] | None:
    """A shell command that extracts the root filesystem with Debian tools."""
    rootfs = next((p for p in layout if p["part"] == "rootfs"), None)
    off = rootfs["offset"] if rootfs else 0
    if fmt.startswith("squashfs") or fmt in ("uimage-squashfs", "trx"):
        return ["unsquashfs", "-q", "-n", "-o", str(off), "-d", str(out), str(image)]
    if fmt == "cpio-gzip":
        out.mkdir(parents=True, exist_ok=True)
        return ["sh", "-c", f"cd {out} && gzip -dc {image} | cpio -idm --quiet --no-absolute-filenames"]
    if fmt == "ext4":
        out.mkdir(parents=True, exist_ok=True)
        return ["debugfs", "-R", f"rdump / {out}", str(image)]
    if fmt.startswith("jffs2"):
        jefferson = VENV_BIN / "jefferson"
        if jefferson.exists():
            return [str(jefferson), "-d", str(out), "-f", str(image)]
    return None


def make_big_squashfs(dest: Path, files: int = 6000, seed: int = 1) -> Path:
    """~50 MB xz squashfs of random and text files (random data does not compress)."""
    rnd = random.Random(seed)
    tree = dest / "tree"
    words = [b"alpha", b"beta", b"config", b"option", b"value", b"router", b"network"]
    for i in range(files):
        d = tree / f"d{i // 100}" / f"s{i % 7}"
        d.mkdir(parents=True, exist_ok=True)
        if i % 3:
            data = rnd.randbytes(rnd.randint(9000, 12500))
        else:
            data = b" ".join(rnd.choice(words) for _ in range(rnd.randint(200, 2500)))
        (d / f"f{i}").write_bytes(data)
    for name in ("etc", "bin", "sbin"):
        (tree / name).mkdir(exist_ok=True)
    (tree / "etc/passwd").write_bytes(b"root:x:0:0::/root:/bin/sh\n")
    img = dest / "big.sqfs"
    subprocess.run(
        ["mksquashfs", str(tree), str(img), "-comp", "xz", "-noappend", "-quiet", "-no-progress"],
        check=True,
        capture_output=True,
    )
    shutil.rmtree(tree)
    return img


UNPACK_INDEX = """
import sys, time, tempfile
from pathlib import Path
from assay.unpack import unpack
from assay.index import build_index
t0 = time.perf_counter()
r = unpack(Path(sys.argv[1]), Path(tempfile.mkdtemp(dir=sys.argv[2])))
t1 = time.perf_counter()
idx = build_index(r.filesystems)
t2 = time.perf_counter()
print(f"{t1 - t0:.2f} {t2 - t1:.2f} {len(idx)}")
"""


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", nargs="?", default="/work/shared/corpus")
    ap.add_argument("--skip-big", action="store_true")
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    corpus = Path(args.corpus)
    only = {s for s in args.only.split(",") if s}
    print(f"load average at start: {os.getloadavg()[0]:.1f} (2 cores shared; ratios are the fair figure)")
    print(
        f"{'image':8} {'format':16} {'tool':10} {'native s':>8} {'MiB':>4} {'unpack+index s':>15} {'MiB':>4} "
        f"{'x native':>8} {'scan s':>7} {'MiB':>4}"
    )
    ratios = []
    with tempfile.TemporaryDirectory(prefix="assay-speed-") as tmp:
        for d in sorted(corpus.iterdir()):
            truth = d / "truth.json"
            if not truth.exists() or (only and d.name not in only):
                continue
            t = json.loads(truth.read_text())
            image = d / t.get("image", "image.bin")
            work = Path(tmp) / d.name
            work.mkdir()
            cmd = native_extract(t["format"], image, t.get("layout", []), work / "native")
            if cmd is None:
                ns, nmib, tool = float("nan"), 0, "-"
            else:
                ns, nmib, rc, _out = measure(cmd)
                tool = Path(cmd[0]).name if cmd[0] != "sh" else "gzip|cpio"
                files = sum(1 for _ in (work / "native").rglob("*"))
                if rc != 0 and files == 0:
                    ns, tool = float("nan"), f"{tool}:exit{rc}"
            ui, uimib, rc, out = measure([sys.executable, "-c", UNPACK_INDEX, str(image), str(work)])
            stages = out.split() if rc == 0 else ["nan", "nan", "0"]
            ss, smib, src, _out = measure(
                [str(VENV_BIN / "assay"), "scan", str(image), "-q", "-o", str(work / "report.json")]
            )
            shutil.rmtree(work, ignore_errors=True)
            inner = float(stages[0]) + float(stages[1])  # unpack + index, without interpreter start-up
            ratio = inner / ns if ns == ns and ns > 0 else float("nan")
            if ratio == ratio:
                ratios.append(ratio)
            status = "" if src == 0 else f" (scan exit {src})"
            print(
                f"{d.name:8} {t['format']:16} {tool:10} {ns:8.2f} {nmib:4} {inner:8.2f} ({ui:4.1f}) {uimib:4} "
                f"{ratio:8.1f} {ss:7.2f} {smib:4}{status}"
            )
        if ratios:
            print(
                f"unpack+index / native extraction: median {sorted(ratios)[len(ratios) // 2]:.1f}x, "
                f"max {max(ratios):.1f}x (target 3x); in parentheses: the process with Python start-up"
            )
        if args.skip_big:
            return 0
        big = make_big_squashfs(Path(tmp))
        size_mb = big.stat().st_size / 1e6
        ns, nmib, _rc, _out = measure(["unsquashfs", "-q", "-n", "-d", str(Path(tmp) / "uq"), str(big)])
        took, mib, rc, out = measure([sys.executable, "-c", UNPACK_INDEX, str(big), tmp])
        unpack_s, index_s, entries = out.split() if rc == 0 else ("nan", "nan", "0")
        print(
            f"\nbig squashfs {size_mb:.1f} MB, {entries} entries: unsquashfs {ns:.2f} s ({nmib} MiB); "
            f"assay unpack {unpack_s} s + index {index_s} s (process {took:.2f} s, {mib} MiB); "
            f"ratio (unpack+index)/unsquashfs = {(float(unpack_s) + float(index_s)) / ns:.1f} (target 3x, "
            f"and within 10 s)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
