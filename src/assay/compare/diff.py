"""`assay diff`: what changed between two firmware images, file by file and for security."""

from __future__ import annotations

import contextlib
import importlib
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from assay import __version__
from assay.compare.files import compare_entries, content_details
from assay.compare.security import is_empty, security_delta
from assay.compare.sides import Side, load_sides, scratch_dir
from assay.pipeline import ScanOptions

DIFF_SCHEMA = "https://assay.dev/schema/diff/1.0"
MAX_DETAILED = 2000  # changed files that get a content diff; the rest are listed only


def side_info(side: Side) -> dict[str, Any]:
    return {
        "name": side.label,
        "sha256": side.image.get("sha256"),
        "size": side.image.get("size"),
        "format": side.image.get("format"),
        "files": len(side.index),
        "findings": len(side.report.findings) if side.report else None,
    }


def diff_sides(old: Side, new: Side, vulns_checked: bool = False) -> dict[str, Any]:
    changes = compare_entries(old.keyed(), new.keyed())
    detailed = 0
    for c in changes:
        if "content" in c.changes and detailed < MAX_DETAILED:
            content_details(old.index, new.index, c)
            detailed += 1
    touched = (
        [c.old for c in changes if c.old is not None],
        [c.new for c in changes if c.new is not None],
    )
    security = security_delta(old.index, new.index, old.report, new.report, touched, vulns_checked)
    counts = {s: sum(1 for c in changes if c.status == s) for s in ("added", "removed", "renamed", "changed")}
    warnings = []
    if detailed == MAX_DETAILED and sum(1 for c in changes if "content" in c.changes) > MAX_DETAILED:
        warnings.append(f"only the first {MAX_DETAILED} changed files have content details")
    for side in (old, new):
        if side.report is not None:
            warnings.extend(f"{side.label}: {w}" for w in side.report.warnings)
    identical = not changes and is_empty(security)
    return {
        "schema": DIFF_SCHEMA,
        "tool": {"name": "assay", "version": __version__},
        "old": side_info(old),
        "new": side_info(new),
        "identical": identical,
        "summary": {**counts, "security_changes": _security_count(security)},
        "files": [c.to_dict() for c in changes],
        "security": security,
        "warnings": warnings,
    }


def _security_count(sec: dict[str, Any]) -> int:
    n = 0
    for part in sec.values():
        for k in ("added", "removed", "changed"):
            n += len(part.get(k, []))
    return n


def vulnerability_matching_available() -> bool:
    """assay.vulns is optional for a diff: without it, version changes are listed without CVEs."""
    try:
        module = importlib.import_module("assay.vulns")
    except ImportError:
        return False
    return callable(getattr(module, "annotate_report", None))


def diff_images(
    old: Path,
    new: Path,
    *,
    options: ScanOptions | None = None,
    workdir: Path | None = None,
    jobs: int | None = None,
) -> dict[str, Any]:
    """Scan both inputs (images or directories) and compare them."""
    options = options or ScanOptions()
    notes: list[str] = []
    if options.vuln_db is not None and not vulnerability_matching_available():
        notes.append(f"vulnerability matching is not available: {options.vuln_db} not used")
        options = replace(options, vuln_db=None)
    with contextlib.ExitStack() as stack:
        if workdir is None:
            scratch = scratch_dir(options.limits)
            workdir = Path(
                stack.enter_context(tempfile.TemporaryDirectory(prefix="assay-diff-", dir=scratch))
            )
        t0 = time.perf_counter()
        a, b = load_sides(old, new, workdir, full_scan=True, options=options, jobs=jobs)
        t1 = time.perf_counter()
        result = diff_sides(a, b, options.vuln_db is not None)
        # Where the time goes: scanning the two sides, or comparing them.
        result["stats"] = {"timings": {"scan_sides": t1 - t0, "compare": time.perf_counter() - t1}}
        for key, side in (("old", a), ("new", b)):
            if side.report is not None:
                stages = side.report.stats.get("timings", {})
                result["stats"][key] = {k: v for k, v in stages.items() if k != "per_check"}
    result["warnings"][:0] = notes
    return result
