#!/usr/bin/env python3
"""Wall time per image and the share of each check, from the reports' stats.

    python bench/checks_timing.py [--corpus /work/shared/corpus] [--reports DIR] [--top 10] [--json]
                                  [--only fw-01,fw-09] [--baseline OLD_SRC] [--repeat 3]

Scans every CORPUS/*/image.bin with `assay scan --format json -q` (keeping the reports in --reports,
a temporary directory by default), then prints per image the wall and CPU time of the scan, the
stage times from report["stats"]["timings"], how the back-door hunt (the nine back-door categories'
checks) compares with unpack + index, and the slowest checks; and over all images each check's
total seconds and its share of all check time.

Each image is also scanned with only the nine categories' checks (`--check`): with the default
--jobs (checks side by side in worker processes) and with --jobs 1 (in turn, the baseline of the
same run), --repeat times each (default 3); the checks stage of those scans is the hunt's wall
time, set against the unpack + index time of the same scans, each stage's least time over the
repeats (the estimate least disturbed by other work; --repeat 1 for single scans). The inventory
runs beside the checks, so each image is also scanned with `--check none` (the inventory alone):
what the hunt adds to a scan is the inventory-and-checks stage of a hunt-only scan less that.
A third hunt-only scan per image shares one result cache
(`--cache`, see assay.checks.cache) that is empty at the first image, as `assay scan-corpus` does:
a program already analysed in an earlier image is not analysed again.

--baseline OLD_SRC scans each image a second time, right after, with PYTHONPATH=OLD_SRC (an older
`src` tree, e.g. from `git archive REV src | tar -x -C /tmp/old`), so that both versions meet the
same machine load, and prints the hunt's time before and after. On a shared machine CPU seconds
are the steadier figure: wall time grows with other users' load.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from scans import HUNT_ONLY, scan

from assay.model import BACKDOOR_CATEGORIES


def hunt_wall(
    image: Path,
    out: Path,
    jobs: int,
    cache: Path | None = None,
    repeat: int = 1,
    checks: tuple[str, ...] = HUNT_ONLY,
) -> tuple[float, float, float] | None:
    """(checks-stage s, inventory + checks s, unpack + index s) of scans that run only `checks`
    (the back-door hunt by default): each the least of `repeat` scans, the estimate least
    disturbed by other work on the machine. The inventory runs beside the checks, so the
    checks stage is the stage's wall less the inventory's own run time."""
    kept = ("--cache", str(cache)) if cache is not None else ()
    best: tuple[float, float, float] | None = None
    for _ in range(max(1, repeat)):
        _w, _c, report, _e = scan(image, out, extra=(*checks, "--jobs", str(jobs), *kept))
        if report is None:
            return None
        t = report["stats"]["timings"]
        got = (
            float(t["checks"]),
            float(t["checks"]) + float(t["inventory"]),
            float(t["unpack"]) + float(t["index"]),
        )
        best = got if best is None else (min(best[0], got[0]), min(best[1], got[1]), min(best[2], got[2]))
    return best


def _ratio(a: float, b: float) -> float:
    return a / (b or 1e-9)


def _hunt_ratio(fig: dict[str, float], key: str = "s") -> float:
    """A hunt-only scan's hunt wall over its own unpack + index."""
    return _ratio(fig[key], fig["unpack_index_s"])


def _total(label: str, rows: list[dict[str, Any]], key: str) -> str:
    hunt = sum(x[key] for x in rows)
    base = sum(x["unpack_index_s"] for x in rows)
    return f"{label} {hunt:.2f}s; unpack+index {base:.2f}s; ratio {_ratio(hunt, base):.2f}"


def hunt_seconds(report: dict[str, Any]) -> float:
    """Seconds of the checks whose rules report in the nine back-door categories."""
    per_check = report.get("stats", {}).get("timings", {}).get("per_check", {})
    hunt = {r["id"] for r in report.get("rules", []) if r.get("category") in BACKDOOR_CATEGORIES}
    return sum(float(v) for k, v in per_check.items() if k in hunt)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--corpus", type=Path, default=Path("/work/shared/corpus"))
    ap.add_argument("--reports", type=Path, default=None, help="keep reports here (NAME.json)")
    ap.add_argument("--top", type=int, default=5, help="slowest checks to list per image")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--only", default="", help="comma-separated image folder names")
    ap.add_argument(
        "--jobs", type=int, default=0, help="scan --jobs for the hunt's wall time (0: assay's default)"
    )
    ap.add_argument("--baseline", type=Path, default=None, help="an older src tree to compare with")
    ap.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="hunt-only scans per image and mode (side by side, in turn); each stage's least time counts",
    )
    args = ap.parse_args(argv)

    only = {n for n in args.only.split(",") if n}
    images = [i for i in sorted(args.corpus.glob("*/image.bin")) if not only or i.parent.name in only]
    if not images:
        print(f"no */image.bin under {args.corpus}", file=sys.stderr)
        return 3
    tmp = None
    reports = args.reports
    if reports is None:
        tmp = tempfile.TemporaryDirectory(prefix="assay-bench-")
        reports = Path(tmp.name)
    reports.mkdir(parents=True, exist_ok=True)
    cache = reports / "results-cache.sqlite"
    for leftover in reports.glob("results-cache.sqlite*"):
        leftover.unlink()  # empty at the first image

    per_image: list[dict[str, Any]] = []
    totals: dict[str, float] = defaultdict(float)
    for image in images:
        name = image.parent.name
        wall, cpu, report, error = scan(image, reports / f"{name}.json")
        row: dict[str, Any] = {"image": name, "wall_s": round(wall, 3), "cpu_s": round(cpu, 3)}
        if report is None:
            row["error"] = error
        else:
            timings = report.get("stats", {}).get("timings", {})
            base = float(timings.get("unpack", 0)) + float(timings.get("index", 0))
            row["hunt_s"] = round(hunt_seconds(report), 3)
            row["unpack_index_s"] = round(base, 3)
            # The hunt's wall time: scans that run only its checks, side by side (as `assay scan` does
            # by default), in turn (--jobs 1, the baseline of this run), and side by side with the
            # corpus's result cache.
            # The cached scan runs once: a repeat would find every result of its image kept.
            # A scan without checks gives the inventory's time alone: what the hunt adds to a scan
            # is the inventory and checks stage of a hunt-only scan less that.
            alone = hunt_wall(
                image, reports / f"{name}.none.json", args.jobs, None, args.repeat, ("--check", "none")
            )
            for key, jobs, kept, repeat in (
                ("hunt_wall", args.jobs, None, args.repeat),
                ("hunt_wall_serial", 1, None, args.repeat),
                ("hunt_wall_cached", args.jobs, cache, 1),
            ):
                got = hunt_wall(image, reports / f"{name}.{key}.json", jobs, kept, repeat)
                if got is not None:
                    row[key] = {"s": round(got[0], 3), "unpack_index_s": round(got[2], 3)}
                    if alone is not None:
                        row[key]["added_s"] = round(got[1] - alone[1], 3)
            if args.baseline is not None:
                old_out = reports / f"{name}.baseline.json"
                bwall, bcpu, old, _err = scan(image, old_out, args.baseline)
                if old is not None:
                    row["baseline"] = {
                        "wall_s": round(bwall, 3),
                        "cpu_s": round(bcpu, 3),
                        "hunt_s": round(hunt_seconds(old), 3),
                        "unpack_index_s": round(
                            sum(float(old["stats"]["timings"].get(k, 0)) for k in ("unpack", "index")), 3
                        ),
                    }
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
        ratio = _ratio(row["hunt_s"], row["unpack_index_s"])
        print(
            f"{row['image']:<10} wall {row['wall_s']:6.2f}s cpu {row['cpu_s']:6.2f}s  {stages}\n"
            f"           back-door hunt work {row['hunt_s']:.2f}s = {ratio:.1f} x (unpack+index)\n"
            f"           slowest checks: {top}"
        )
        if "hunt_wall" in row and "hunt_wall_serial" in row:
            hw, hs = row["hunt_wall"], row["hunt_wall_serial"]
            print(
                f"           hunt-only scans: hunt wall {hw['s']:.2f}s = {_hunt_ratio(hw):.2f} x "
                f"(unpack+index); in turn (--jobs 1) {hs['s']:.2f}s = {_hunt_ratio(hs):.2f} x"
            )
            if "added_s" in hw:
                print(
                    f"           added to a scan without checks: {hw['added_s']:.2f}s = "
                    f"{_hunt_ratio(hw, 'added_s'):.2f} x (unpack+index)"
                )
        if "hunt_wall_cached" in row:
            hc = row["hunt_wall_cached"]
            print(
                f"           with the corpus's result cache: hunt wall {hc['s']:.2f}s = "
                f"{_hunt_ratio(hc):.2f} x (unpack+index)"
            )
        if "baseline" in row:
            b = row["baseline"]
            print(
                f"           baseline: wall {b['wall_s']:.2f}s cpu {b['cpu_s']:.2f}s hunt {b['hunt_s']:.2f}s "
                f"= {_ratio(b['hunt_s'], b['unpack_index_s']):.1f} x (unpack+index); "
                f"hunt now {_ratio(row['hunt_s'], b['hunt_s']):.2f} of baseline"
            )
    done = [r for r in per_image if "hunt_s" in r]
    hunt = sum(r["hunt_s"] for r in done)
    base = sum(r["unpack_index_s"] for r in done)
    print(
        f"\nback-door hunt work (sum of its checks' times) over all images: {hunt:.2f}s; unpack+index {base:.2f}s; "
        f"ratio {_ratio(hunt, base):.2f}"
    )
    for key, label in (
        ("hunt_wall", "side by side (default --jobs)"),
        ("hunt_wall_serial", "in turn (--jobs 1)"),
        ("hunt_wall_cached", "side by side, one result cache over the corpus, empty at the first image"),
    ):
        rows = [r[key] for r in done if key in r]
        if rows:
            print(_total(f"hunt-only scans, {label}: hunt wall", rows, "s"))
        if rows and all("added_s" in x for x in rows):
            print(_total(f"  added to scans without checks, {label}:", rows, "added_s"))
    olds = [r["baseline"] for r in done if "baseline" in r]
    if olds:
        print(
            f"{_total('baseline: hunt', olds, 'hunt_s')}; CPU s of all scans "
            f"{sum(b['cpu_s'] for b in olds):.1f} -> {sum(r['cpu_s'] for r in done if 'baseline' in r):.1f}"
        )
    print("\nall images, per check:")
    for name, fig in summary.items():
        print(f"  {name:<28} {fig['s']:8.3f}s  {fig['share']:6.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
