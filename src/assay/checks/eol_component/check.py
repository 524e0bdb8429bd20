"""Unsupported components (TS 33.117 4.3.2.5): upstream end-of-life branches, dates kept as data."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from assay.checks.base import Check, CheckContext
from assay.model import Component, Evidence, Finding, Severity

_DATA = Path(__file__).with_name("eol.json")


@cache
def eol_table() -> dict[str, Any]:
    return json.loads(_DATA.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _numbers(version: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", version.split("-")[0])[:4])


def eol_status(name: str, version: str | None) -> tuple[str, str, str] | None:
    """(why, EOL date, source) when the component's branch is out of upstream support."""
    if not version:
        return None
    entry = eol_table()["components"].get(name.lower())
    if entry is None:
        return None
    nums = _numbers(version)
    best = None
    for branch, date in entry.get("branches", {}).items():
        b = _numbers(branch)
        if nums[: len(b)] == b and (best is None or len(b) > len(_numbers(best[0].removeprefix("branch ")))):
            best = (f"branch {branch}", date)
    if best is None and "before" in entry and nums and nums < _numbers(entry["before"]["version"]):
        before = entry["before"]
        best = (before.get("note") or f"releases before {before['version']}", before["date"])
    if best is None:
        return None
    return best[0], best[1], entry.get("source", "")


def _evidence(c: Component) -> list[Evidence]:
    evs = [
        Evidence(
            path=v.path,
            sha256=v.sha256,
            offset=v.offset,
            excerpt=v.match,
            note=f"version evidence ({v.source})",
        )
        for v in c.evidence
    ]
    if not evs:
        evs = [Evidence(path=p, sha256=c.hashes.get(p, ""), note="component file") for p in sorted(c.paths)]
    return evs


def _run(ctx: CheckContext) -> Iterable[Finding]:
    today = dt.date.fromisoformat(ctx.options.get("today") or dt.date.today().isoformat())
    for c in ctx.components:
        status = eol_status(c.name, c.version)
        if status is None:
            continue
        why, date, source = status
        if dt.date.fromisoformat(date) > today:
            continue
        evidence = _evidence(c)
        if not evidence:
            continue
        yield CHECK.finding(
            evidence[0].path,
            f"{c.name} {c.version} is out of upstream support ({why}; support ended {date})",
            evidence,
            references=[source] if source else [],
            details={"component": c.name, "version": c.version, "why": why, "eol": date},
        )


CHECK = Check(
    id="eol-component",
    category="unsupported-component",
    severity=Severity.MEDIUM,
    title="Component past its upstream end of life",
    description="A component of the inventory whose release branch no longer gets upstream security fixes (OpenSSL, the Linux kernel, Python, PHP, uClibc, OpenWrt), judged against the end-of-life dates in eol.json.",
    clause="4.3.2.5",
    references=("https://endoflife.date/",),
    false_positives="A vendor or distribution that back-ports fixes to an upstream-EOL branch (e.g. Debian LTS) still ships supported code.",
    run=_run,
    needs_components=True,
)
