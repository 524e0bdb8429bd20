"""Evaluate a compliance profile: a verdict per clause, with the findings and files behind it."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from assay.errors import InputError
from assay.index import FileIndex

VERDICTS = ("pass", "fail", "not-applicable", "needs-live-test")
_PROFILES = Path(__file__).parent


@dataclass
class Verdict:
    verdict: str
    reason: str
    findings: list[str] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Inputs:
    """What a clause's logic may look at: the report, and the index while the scan runs."""

    report: dict[str, Any]
    index: FileIndex | None

    def findings_for(self, checks: list[str]) -> list[dict[str, Any]]:
        wanted = set(checks)
        return [f for f in self.report.get("findings", []) if f["rule"] in wanted or f["category"] in wanted]

    def has_path(self, *paths: str) -> bool:
        if self.index is not None:
            return any(self.index.get(p) is not None for p in paths)
        present = {f["path"] for f in self.report.get("files", [])}
        return any(p in present for p in paths)


Logic = Callable[[dict[str, Any], Inputs], Verdict]


def available_profiles() -> list[str]:
    return sorted(p.stem for p in _PROFILES.glob("*.json"))


@cache
def load_profile(name: str) -> dict[str, Any]:
    path = _PROFILES / f"{name}.json"
    if not path.is_file():
        raise InputError(f"unknown compliance profile {name!r}; available: {', '.join(available_profiles())}")
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def finding_evidence(findings: list[dict[str, Any]], limit: int = 20) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for f in findings:
        for ev in f["evidence"]:
            out.append({"finding": f["id"], **{k: v for k, v in ev.items() if k != "details"}})
            if len(out) >= limit:
                return out
    return out


def fail_from(findings: list[dict[str, Any]], what: str) -> Verdict:
    titles = sorted({f["title"] for f in findings})
    shown = "; ".join(titles[:3]) + (f"; and {len(titles) - 3} more" if len(titles) > 3 else "")
    return Verdict(
        "fail", f"{len(findings)} {what}: {shown}", [f["id"] for f in findings], finding_evidence(findings)
    )


def evaluate(report: dict[str, Any], profile: str, index: FileIndex | None = None) -> list[dict[str, Any]]:
    from assay.compliance.logic import LOGIC

    spec = load_profile(profile)
    inputs = Inputs(report, index)
    rows: list[dict[str, Any]] = []
    for clause in spec["clauses"]:
        logic = LOGIC[clause["logic"]]
        v = logic(clause, inputs)
        if v.verdict not in VERDICTS:
            raise ValueError(f"clause {clause['clause']}: bad verdict {v.verdict}")
        rows.append(
            {
                "clause": clause["clause"],
                "title": clause["title"],
                "verdict": v.verdict,
                "reason": v.reason,
                "findings": v.findings,
                "evidence": v.evidence,
                "checks": clause.get("checks", []),
                "lab": clause.get("lab", ""),
            }
        )
    return rows
