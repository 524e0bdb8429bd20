"""Rich terminal summary of a report."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan", "info": "dim"}


def print_summary(report: dict[str, Any], console: Console) -> None:
    img = report["image"]
    s = report["summary"]
    console.print(
        f"[bold]{img['name']}[/] ({img.get('format')}) sha256 {img.get('sha256') or '-'}: "
        f"{s['files']} files, {s['components']} components, {s['findings']} findings",
        highlight=False,
    )
    if report["findings"]:
        table = Table(show_header=True, header_style="bold")
        for col in ("severity", "category", "path", "title"):
            table.add_column(col)
        for f in report["findings"]:
            table.add_row(
                f"[{_STYLE.get(f['severity'], '')}]{f['severity']}[/]",
                f["category"],
                f["path"],
                f["title"],
            )
        console.print(table)
    for w in report.get("warnings", []):
        console.print(f"[yellow]warning:[/] {w}", highlight=False, markup=True)
