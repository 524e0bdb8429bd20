#!/usr/bin/env python3
"""Assay's unpacker against the unblob CLI on the shared test vectors.

For every file under VECTORS (binwalk and fact_extractor test inputs) it runs
`assay inspect --json` and `unblob -e OUT FILE` (each with a timeout), and prints per
format folder how many files each tool unpacked into at least one file. Where
neither could, Assay's one-line error says why.

    .venv/bin/python bench/unpack_vectors.py [VECTORS] [--jobs 2] [--timeout 120]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

VENV_BIN = Path(sys.executable).parent
SKIP_NAMES = {"LICENSE", "SHA256SUMS"}


def group_of(path: Path, root: Path) -> str:
    parts = path.relative_to(root).parts
    if "unpacking" in parts:
        return "fact/" + parts[parts.index("unpacking") + 1]
    if parts[0] == "fact_extractor":
        return "fact/test-data"
    return "binwalk/" + path.name.split(".")[0]


def count_files(root: Path) -> int:
    n = 0
    for dirpath, _dirs, files in os.walk(root, followlinks=False):
        for name in files:
            if os.path.isfile(os.path.join(dirpath, name)) and not os.path.islink(
                os.path.join(dirpath, name)
            ):
                n += 1
    return n


def run_assay(path: Path, timeout: float) -> tuple[int, str, float]:
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(
            [str(VENV_BIN / "assay"), "inspect", "--json", "--timeout", str(timeout), str(path)],
            capture_output=True,
            text=True,
            timeout=timeout + 30,
        )
    except subprocess.TimeoutExpired:
        return 0, "timeout", time.perf_counter() - t0
    took = time.perf_counter() - t0
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        return 0, (lines[-1] if lines else f"exit {proc.returncode}"), took
    data = json.loads(proc.stdout)
    files = sum(fs["files"] for fs in data["filesystems"])
    # Unpacked, yet no file came out (all encrypted, ...): the first warning says why.
    return files, "" if files else "; ".join(data["warnings"][:1]), took


def run_unblob(path: Path, timeout: float) -> tuple[int, str, float]:
    with tempfile.TemporaryDirectory(prefix="ub-vec-") as tmp:
        out = Path(tmp) / "out"
        out.mkdir()
        t0 = time.perf_counter()
        try:
            subprocess.run(
                [str(VENV_BIN / "unblob"), "-e", str(out), str(path)],
                capture_output=True,
                timeout=timeout,
                cwd=tmp,
            )
        except subprocess.TimeoutExpired:
            return count_files(out), "timeout", time.perf_counter() - t0
        return count_files(out), "", time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("vectors", nargs="?", default="/work/shared/vectors")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--json", help="also write per-file results here")
    args = ap.parse_args()
    root = Path(args.vectors)
    files = sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and not p.is_symlink() and p.name not in SKIP_NAMES and p.stat().st_size > 0
    )

    def one(p: Path) -> dict:
        a_files, a_err, a_t = run_assay(p, args.timeout)
        u_files, u_err, u_t = run_unblob(p, args.timeout)
        return {
            "file": str(p.relative_to(root)),
            "group": group_of(p, root),
            "assay": a_files,
            "assay_error": a_err,
            "assay_s": round(a_t, 2),
            "unblob": u_files,
            "unblob_error": u_err,
            "unblob_s": round(u_t, 2),
        }

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        rows = list(pool.map(one, files))

    groups: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        groups[r["group"]].append(r)
    print(f"{'format folder':32} {'files':>5} {'assay':>6} {'unblob':>6}")
    ta = tu = 0
    for g in sorted(groups):
        rs = groups[g]
        a = sum(1 for r in rs if r["assay"] > 0)
        u = sum(1 for r in rs if r["unblob"] > 0)
        ta += a
        tu += u
        mark = "  <" if a < u else ""
        print(f"{g:32} {len(rs):5} {a:6} {u:6}{mark}")
    print(f"{'TOTAL':32} {len(rows):5} {ta:6} {tu:6}")
    print(
        f"time: assay {sum(r['assay_s'] for r in rows):.0f} s, unblob {sum(r['unblob_s'] for r in rows):.0f} s"
    )
    print("\nunblob unpacked, assay did not:")
    for r in rows:
        if r["unblob"] > 0 and r["assay"] == 0:
            print(f"  {r['file']}: {r['assay_error']}")
    print("\nneither unpacked (assay's reason):")
    for r in rows:
        if r["unblob"] == 0 and r["assay"] == 0:
            print(f"  {r['file']}: {r['assay_error']}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
