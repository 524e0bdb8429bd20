"""Benchmark: `assay diff` on two ~50 MB images must take at most 2x one `assay scan`.

Builds a synthetic 6000-file root filesystem, packs it with mksquashfs, changes a few hundred
files (edits, additions, removals, renames, mode changes, a new telnetd, a new password hash),
packs it again, then times both commands as a user runs them.

    .venv/bin/python bench/diff_speed.py [--files 6000] [--mb 50] [--rounds 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ASSAY = Path(sys.executable).with_name("assay")


def build_tree(root: Path, files: int, total_mb: int, rng: random.Random) -> None:
    """Half the files text, half incompressible data sized so the packed image is about total_mb."""
    per_file = total_mb * 1024 * 1024 // files
    for d in ("etc/init.d", "bin", "sbin", "usr/lib", "usr/share", "www", "lib/modules"):
        (root / d).mkdir(parents=True, exist_ok=True)
    (root / "etc/passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\nadmin:x:1000:1000::/home/admin:/bin/sh\n"
    )
    (root / "etc/shadow").write_text(
        "root:$1$abcdefgh$0123456789abcdefghijkl:19000:0:99999:7:::\nadmin:*:19000::::::\n"
    )
    (root / "etc/init.d/rcS").write_text("#!/bin/sh\nmount -a\n/sbin/syslogd -n &\n/usr/sbin/httpd -p 80 &\n")
    (root / "etc/inittab").write_text("::sysinit:/etc/init.d/rcS\n")
    words = [f"word{i}" for i in range(500)]
    for i in range(files):
        sub = root / ("usr/share" if i % 3 == 0 else "usr/lib" if i % 3 == 1 else "www") / f"d{i % 60:02d}"
        sub.mkdir(exist_ok=True)
        # text compresses about 4x in squashfs; data does not
        size = max(64, int(per_file * rng.uniform(0.5, 1.5) * (0.4 if i % 2 == 0 else 1.8)))
        if i % 2 == 0:
            lines, n = [], 0
            while n < size:
                line = " ".join(rng.choice(words) for _ in range(10)) + "\n"
                lines.append(line)
                n += len(line)
            (sub / f"f{i:05d}.txt").write_text("".join(lines))
        else:
            (sub / f"f{i:05d}.bin").write_bytes(rng.randbytes(size))


def mutate(root: Path, rng: random.Random) -> dict[str, int]:
    txt = sorted(root.rglob("*.txt"))
    bins = sorted(root.rglob("*.bin"))
    rng.shuffle(txt)
    rng.shuffle(bins)
    for p in txt[:60]:
        with open(p, "a") as fh:
            fh.write("an appended line that makes this file differ\n")
    for p in bins[:40]:
        data = bytearray(p.read_bytes())
        data[len(data) // 2] ^= 0xFF
        p.write_bytes(bytes(data))
    for p in txt[60:80]:
        p.unlink()
    for i, p in enumerate(txt[80:100]):
        p.rename(p.with_name(f"renamed{i}.txt"))
    for p in bins[40:60]:
        p.chmod(0o755)
    for i in range(20):
        (root / f"www/new{i}.html").write_text(f"<html>new page {i}</html>\n" * 20)
    with open(root / "etc/init.d/rcS", "a") as fh:
        fh.write("/usr/sbin/telnetd -l /bin/sh &\n")
    shadow = (
        (root / "etc/shadow").read_text().replace("$1$abcdefgh$0123456789abcdefghijkl", "$6$salt$newhash")
    )
    (root / "etc/shadow").write_text(shadow)
    return {"edited": 100, "removed": 20, "renamed": 20, "mode_changed": 20, "added": 20}


def pack(src: Path, out: Path) -> None:
    subprocess.run(
        ["mksquashfs", str(src), str(out), "-noappend", "-quiet", "-no-progress", "-all-root"],
        check=True,
        capture_output=True,
    )


def timed(*args: str) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system of the child and its workers) and exit code."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run([str(ASSAY), *args], capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode not in (0, 1):
        sys.exit(f"assay {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return elapsed, cpu, proc.returncode


def _rounded(d: dict[str, Any]) -> dict[str, Any]:
    return {k: _rounded(v) if isinstance(v, dict) else round(v, 2) for k, v in d.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=6000)
    ap.add_argument("--mb", type=int, default=50)
    ap.add_argument("--keep", type=Path, help="build here and keep the images (reused when there)")
    ap.add_argument("--rounds", type=int, default=3, help="diffs timed, each between two scans")
    args = ap.parse_args()
    if shutil.which("mksquashfs") is None:
        sys.exit("mksquashfs is not installed")
    base = args.keep or Path(tempfile.mkdtemp(prefix="assay-bench-"))
    base.mkdir(parents=True, exist_ok=True)
    try:
        a, b = base / "old.sqfs", base / "new.sqfs"
        made = base / "changes.json"
        t0 = time.perf_counter()
        if args.keep is not None and a.exists() and b.exists() and made.exists():
            changes = json.loads(made.read_text())  # images of an earlier run with --keep
        else:
            rng = random.Random(20261123)
            old_root, new_root = base / "old", base / "new"
            for r in (old_root, new_root):
                if r.exists():
                    shutil.rmtree(r)
            build_tree(old_root, args.files, args.mb, rng)
            shutil.copytree(old_root, new_root, symlinks=True)
            changes = mutate(new_root, rng)
            pack(old_root, a)
            pack(new_root, b)
            made.write_text(json.dumps(changes))
        build = time.perf_counter() - t0
        # Other work on the machine changes every timing: each diff sits between two scans, and
        # the verdict is the median over the rounds.
        load_before = os.getloadavg()[0]
        scan_json, diff_json = str(base / "scan.json"), str(base / "diff.json")
        scans = [timed("scan", str(a), "-q", "-o", scan_json)]
        diffs = []
        for _ in range(args.rounds):
            diffs.append(timed("diff", str(a), str(b), "--format", "json", "-o", diff_json))
            scans.append(timed("scan", str(a), "-q", "-o", scan_json))
        ratios = [d[0] / ((s0[0] + s1[0]) / 2) for d, s0, s1 in zip(diffs, scans, scans[1:], strict=False)]
        ratio = statistics.median(ratios)
        result = json.loads((base / "diff.json").read_text())
        scan_stages = json.loads((base / "scan.json").read_text())["stats"]["timings"]
        print(
            json.dumps(
                {
                    "files": args.files,
                    "image_mb": [round(a.stat().st_size / 2**20, 1), round(b.stat().st_size / 2**20, 1)],
                    "changes_made": changes,
                    "build_s": round(build, 2),
                    "cpus": os.cpu_count(),
                    "load_avg_before": round(load_before, 2),
                    "load_avg_after": round(os.getloadavg()[0], 2),
                    "scan_s": [round(x[0], 2) for x in scans],
                    "diff_s": [round(x[0], 2) for x in diffs],
                    "diff_over_scan_per_round": [round(r, 2) for r in ratios],
                    "diff_over_scan_median": round(ratio, 2),
                    # CPU work, which load does not stretch: the diff scans two images
                    "scan_cpu_s": [round(x[1], 2) for x in scans],
                    "diff_cpu_s": [round(x[1], 2) for x in diffs],
                    "last_scan_stages_s": {
                        k: round(v, 2) for k, v in scan_stages.items() if k != "per_check"
                    },
                    "last_diff_stages_s": _rounded(result.get("stats", {})),
                    "diff_exit": diffs[-1][2],
                    "diff_summary": result["summary"],
                    "within_2x": ratio <= 2.0,
                },
                indent=2,
            )
        )
        if ratio > 2.0:
            sys.exit(1)
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
