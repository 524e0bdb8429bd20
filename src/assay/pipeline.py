"""The scan pipeline: unpack -> index -> analyze -> report."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assay import __version__
from assay.checks import RULESET_VERSION, CheckContext, all_checks, run_checks
from assay.checks.cache import ResultCache
from assay.checks.runner import INVENTORY
from assay.index import FileEntry, FileIndex, build_index
from assay.model import AFFECTED_STATES, SCHEMA_ID, Component, Finding, Severity
from assay.unpack import Limits, UnpackResult, unpack
from assay.unpack.base import Layer


@dataclass
class ScanOptions:
    limits: Limits = field(default_factory=Limits)
    workdir: Path | None = None  # kept when given; a temporary one is removed after the scan
    check_options: dict[str, Any] = field(default_factory=dict)
    profile: str | None = None
    vuln_db: Path | None = None
    vex_triage: Path | None = None
    only_checks: list[str] | None = None  # ids or categories; None: all checks; []: none
    jobs: int = 1  # processes the checks run in (see checks.runner); the CLI uses one per CPU
    # SQLite file of per-file check results shared by scans (see checks.cache); None: not kept
    result_cache: Path | None = None


@dataclass
class Report:
    image: dict[str, Any]
    filesystems: list[dict[str, Any]]
    files: list[FileEntry]
    components: list[Component]
    findings: list[Finding]
    vulnerabilities: list[dict[str, Any]] = field(default_factory=list)
    compliance: list[dict[str, Any]] | None = None
    warnings: list[str] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    rules: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        sev = Counter(f.severity.value for f in self.findings)
        cat = Counter(f.category for f in self.findings)
        # Triaged not-affected entries stay in the report but no longer count as vulnerabilities.
        affected = sum(1 for v in self.vulnerabilities if v.get("state", "affected") in AFFECTED_STATES)
        return {
            "files": len(self.files),
            "components": len(self.components),
            "findings": len(self.findings),
            "vulnerabilities": affected,
            "vulnerabilities_triaged": len(self.vulnerabilities) - affected,
            "by_severity": {s.value: sev.get(s.value, 0) for s in Severity},
            "by_category": dict(sorted(cat.items())),
        }

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "schema": SCHEMA_ID,
            "tool": {"name": "assay", "version": __version__, "ruleset": RULESET_VERSION},
            "image": self.image,
            "summary": self.summary(),
            "filesystems": self.filesystems,
            "components": [c.to_dict() for c in self.components],
            "findings": [f.to_dict() for f in self.findings],
            "vulnerabilities": self.vulnerabilities,
            "rules": self.rules,
            "files": [e.to_dict() for e in self.files],
            "warnings": self.warnings,
            "stats": self.stats,
        }
        if self.compliance is not None:
            d["compliance"] = self.compliance
        return d


Progress = Callable[[str, int | None, int | None], None]


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def scan(image: Path, options: ScanOptions | None = None, progress: Progress | None = None) -> Report:
    options = options or ScanOptions()
    tmp = None
    if options.workdir is None:
        tmp = tempfile.mkdtemp(prefix="assay-")
        workdir = Path(tmp)
    else:
        workdir = options.workdir
    try:
        return _scan(image, workdir, options, progress or (lambda *_: None))
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def _scan(image: Path, workdir: Path, options: ScanOptions, progress: Progress) -> Report:
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    progress("unpack", None, None)
    unpacked = unpack(
        image, workdir / "extract", options.limits, progress=lambda msg: progress("unpack " + msg, None, None)
    )
    timings["unpack"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    index = build_index(unpacked.filesystems, progress=lambda i, n: progress("index", i, n))
    timings["index"] = time.perf_counter() - t0

    checks = all_checks()
    if options.only_checks is not None:
        checks = [c for c in checks if c.id in options.only_checks or c.category in options.only_checks]
    # The inventory runs beside the checks (see checks.runner): both read only the index.
    t0 = time.perf_counter()
    progress("inventory", None, None)
    results = ResultCache(options.result_cache) if options.result_cache else None
    ctx = CheckContext(index=index, options=dict(options.check_options), results=results)
    try:
        run = run_checks(
            ctx,
            checks,
            progress=lambda cid: progress(cid if cid == INVENTORY else "check " + cid, None, None),
            jobs=options.jobs,
            inventory=lambda: identify_components(index, unpacked.layers),
        )
    finally:
        if results is not None:
            results.close()
    components = list(run.components)
    # The inventory's own run time, and what the checks add to it: the stage times still sum to
    # the scan's, and "checks" is what a scan without checks would save.
    timings["inventory"] = run.inventory_seconds
    timings["checks"] = time.perf_counter() - t0 - run.inventory_seconds
    warnings = list(unpacked.warnings) + [f"check {k} failed: {v}" for k, v in sorted(run.errors.items())]
    if results is not None and results.broken:
        warnings.append(results.broken)

    report = Report(
        image=image_info(image, unpacked),
        filesystems=filesystems_info(unpacked, index),
        files=list(index),
        components=components,
        findings=run.findings,
        warnings=warnings,
        stats={
            "timings": {**timings, "per_check": run.timings},
            "check_jobs": run.jobs,
            "result_cache": str(options.result_cache) if results is not None and not results.broken else None,
        },
        rules=[
            {
                "id": c.id,
                "category": c.category,
                "severity": c.severity.value,
                "title": c.title,
                "clause": c.clause,
                "description": c.description,
                "references": list(c.references),
            }
            for c in checks
        ],
    )
    enrich(report, options, index)
    return report


def identify_components(index: FileIndex, layers: list[Layer] | None = None) -> list[Component]:
    from assay.inventory.identify import identify_components as identify

    return identify(index, layers or ())


def enrich(report: Report, options: ScanOptions, index: FileIndex | None = None) -> None:
    """Stages that work on the report itself: vulnerability matching, compliance."""
    if options.vuln_db is not None or options.vex_triage is not None:
        from assay.vulns import annotate_report

        annotate_report(report, options.vuln_db, options.vex_triage)
    if options.profile:
        from assay.compliance import evaluate

        report.compliance = evaluate(report.to_dict(), options.profile, index)


def image_info(image: Path, unpacked: UnpackResult) -> dict[str, Any]:
    info: dict[str, Any] = {
        "name": image.name,
        "format": unpacked.image_format,
        "layers": [{k: v for k, v in vars(layer).items() if v is not None} for layer in unpacked.layers],
    }
    if image.is_file():
        info["sha256"] = sha256_file(image)
        info["size"] = image.stat().st_size
    else:
        info["sha256"] = None
        info["size"] = None
    return info


def filesystems_info(unpacked: UnpackResult, index: FileIndex) -> list[dict[str, Any]]:
    counts = Counter(e.fs for e in index)
    return [
        {
            "id": fs.id,
            "type": fs.fstype,
            "source": fs.source,
            "root": fs.looks_like_root,
            "files": counts.get(fs.id, 0),
            "metadata_exact": fs.metadata_exact,
        }
        for fs in unpacked.filesystems
    ]
