"""Rich terminal summary of a report. Firmware strings go in as Text, never as markup."""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

SEVERITIES = ("critical", "high", "medium", "low", "info")
_STYLE = {
    "critical": "bold white on red",
    "high": "bold red",
    "medium": "yellow",
    "low": "cyan",
    "info": "dim",
}
TOP = 20


def print_summary(report: dict[str, Any], console: Console, top: int = TOP) -> None:
    img = report.get("image", {})
    findings = report.get("findings", [])
    files = report.get("summary", {}).get("files", len(report.get("files", [])))
    head = Text()
    head.append(str(img.get("name", "?")), style="bold")
    head.append(f" ({img.get('format') or 'unknown'}) sha256 {img.get('sha256') or '-'}")
    console.print(head, soft_wrap=True)
    console.print(
        Text(
            f"{files} files, {len(report.get('components', []))} components, "
            f"{len(findings)} findings, {len(report.get('vulnerabilities') or [])} vulnerabilities"
        ),
        soft_wrap=True,
    )

    counts = Counter(f.get("severity") for f in findings)
    line = Text("findings by severity: ")
    for i, sev in enumerate(SEVERITIES):
        if i:
            line.append("  ")
        line.append(f"{sev} {counts.get(sev, 0)}", style=_STYLE[sev] if counts.get(sev) else "dim")
    console.print(line, soft_wrap=True)

    if findings:
        table = Table(show_header=True, header_style="bold", title=_title(len(findings), top))
        for col in ("severity", "category", "path", "title"):
            table.add_column(col, overflow="fold")
        ranked = sorted(findings, key=lambda f: _rank(f.get("severity")))
        for f in ranked[:top]:
            sev = str(f.get("severity", ""))
            table.add_row(
                Text(sev, style=_STYLE.get(sev, "")),
                Text(str(f.get("category", ""))),
                Text(str(f.get("path", ""))),
                Text(str(f.get("title", ""))),
            )
        console.print(table)

    compliance = report.get("compliance")
    if compliance:
        verdicts = Counter(c.get("verdict") for c in compliance)
        console.print(
            Text("compliance: " + ", ".join(f"{v} {n}" for v, n in sorted(verdicts.items()))), soft_wrap=True
        )

    for w in report.get("warnings", []):
        t = Text("warning: ", style="yellow")
        t.append(str(w))
        console.print(t, soft_wrap=True)


def _rank(sev: Any) -> int:
    return SEVERITIES.index(sev) if sev in SEVERITIES else len(SEVERITIES)


def _title(total: int, top: int) -> str:
    return f"top {top} of {total} findings" if total > top else f"{total} findings"
