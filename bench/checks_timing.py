#!/usr/bin/env python3
"""Wall time per image and the share of each check, from the reports' stats.

    python bench/checks_timing.py [--corpus /work/shared/corpus] [--reports DIR] [--top 10] [--json]

Scans every CORPUS/*/image.bin with `assay scan --format json -q` (keeping the reports in --reports,
a temporary directory by default), then prints per image the wall time, the stage times from
report["stats"]["timings"] and the slowest checks; and over all images each check's total seconds
and its share of all check time.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ASSAY = Path(sys.executable).with_name("assay")


def scan(image: Path, out: Path) -> tuple[float, dict[str, Any] | None, str]:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [str(ASSAY), "scan", str(image), "--format", "json", "-o", str(out), "-q"],
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - t0
    if not out.exists():
        return wall, None, (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
    return wall, json.loads(out.read_text(encoding="utf-8")), ""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--corpus", type=Path, default=Path("/work/shared/corpus"))
    ap.add_argument("--reports", type=Path, default=None, help="keep reports here (NAME.json)")
    ap.add_argument("--top", type=int, default=5, help="slowest checks to list per image")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args(argv)

    images = sorted(args.corpus.glob("*/image.bin"))
    if not images:
        print(f"no */image.bin under {args.corpus}", file=sys.stderr)
        return 3
    tmp = None
    reports = args.reports
    if reports is None:
        tmp = tempfile.TemporaryDirectory(prefix="assay-bench-")
        reports = Path(tmp.name)
    reports.mkdir(parents=True, exist_ok=True)

    per_image: list[dict[str, Any]] = []
    totals: dict[str, float] = defaultdict(float)
    for image in images:
        name = image.parent.name
        wall, report, error = scan(image, reports / f"{name}.json")
        row: dict[str, Any] = {"image": name, "wall_s": round(wall, 3)}
        if report is None:
            row["error"] = error
        else:
            timings = report.get("stats", {}).get("timings", {})
            per_check = {k: float(v) for k, v in timings.get("per_check", {}).items()}
            checks_s = sum(per_check.values()) or 1e-9
            row["stages_s"] = {k: round(float(v), 3) for k, v in timings.items() if k != "per_check"}
            row["checks"] = {
                k: {"s": round(v, 4), "share": round(v / checks_s, 4)}
                for k, v in sorted(per_check.items(), key=lambda kv: -kv[1])
            }
            for k, v in per_check.items():
                totals[k] += v
        per_image.append(row)
    all_s = sum(totals.values()) or 1e-9
    summary = {
        k: {"s": round(v, 3), "share": round(v / all_s, 4)}
        for k, v in sorted(totals.items(), key=lambda kv: -kv[1])
    }
    if tmp is not None:
        tmp.cleanup()

    if args.json:
        print(json.dumps({"images": per_image, "checks": summary}, indent=2))
        return 0
    for row in per_image:
        if "error" in row:
            print(f"{row['image']:<10} {row['wall_s']:7.2f}s  error: {row['error']}")
            continue
        stages = " ".join(f"{k}={v:.2f}" for k, v in row["stages_s"].items())
        top = ", ".join(
            f"{k} {v['s']:.2f}s ({v['share']:.0%})" for k, v in list(row["checks"].items())[: args.top]
        )
        print(f"{row['image']:<10} {row['wall_s']:7.2f}s  {stages}\n           slowest checks: {top}")
    print("\nall images, per check:")
    for k, v in summary.items():
        print(f"  {k:<28} {v['s']:8.3f}s  {v['share']:6.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
