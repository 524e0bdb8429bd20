"""Known vulnerabilities: the offline database, matching, VEX and triage."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assay.model import Component

if TYPE_CHECKING:
    from assay.pipeline import Report


def check_components(
    components: Sequence[Component], db_path: Path | None, triage_path: Path | None = None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The vulnerabilities of these components, with triage applied, and matching stats."""
    from assay.vulns.db import VulnDB
    from assay.vulns.match import match_components
    from assay.vulns.vex import AFFECTED_STATES, apply_triage, load_triage

    vulns: list[dict[str, Any]] = []
    stats: dict[str, Any] = {}
    if db_path is not None:
        with VulnDB(db_path) as db:
            result = match_components(db, components)
        vulns, stats = result.vulnerabilities, result.stats
        stats["database"] = str(db_path)
    if triage_path is not None:
        stats["triaged"] = apply_triage(vulns, load_triage(triage_path))
    states = Counter(v["state"] for v in vulns)
    stats["by_state"] = dict(sorted(states.items()))
    stats["affected"] = sum(n for s, n in states.items() if s in AFFECTED_STATES)
    stats["affected_by_severity"] = dict(
        sorted(Counter(v["severity"] for v in vulns if v["state"] in AFFECTED_STATES).items())
    )
    stats["kev_affected"] = sum(1 for v in vulns if v["kev"] and v["state"] in AFFECTED_STATES)
    return vulns, stats


def annotate_report(report: Report, db_path: Path | None, triage_path: Path | None) -> None:
    """Set report.vulnerabilities and a `vulnerabilities` entry in report.stats."""
    vulns, stats = check_components(report.components, db_path, triage_path)
    report.vulnerabilities = vulns
    report.stats["vulnerabilities"] = stats


__all__ = ["annotate_report", "check_components"]
