"""The compliance table on a terminal."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

_STYLE = {"pass": "green", "fail": "bold red", "not-applicable": "dim", "needs-live-test": "yellow"}


def print_table(rows: list[dict[str, Any]], console: Console) -> None:
    table = Table(title="TS 33.117 compliance", show_lines=False)
    table.add_column("clause", no_wrap=True)
    table.add_column("title")
    table.add_column("verdict", no_wrap=True)
    table.add_column("reason")
    for r in rows:
        style = _STYLE.get(r["verdict"], "")
        table.add_row(r["clause"], r["title"], f"[{style}]{r['verdict']}[/]", r["reason"])
    console.print(table)
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
    console.print(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())), highlight=False)
