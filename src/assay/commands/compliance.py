"""`assay compliance REPORT.json`: the compliance table of an existing report."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from assay.errors import InputError


def compliance(
    report: Annotated[Path, typer.Argument(help="A JSON report written by `assay scan`.")],
    profile: Annotated[
        str, typer.Option(help="Profile to evaluate when the report has no table yet.")
    ] = "ts33117",
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Print the compliance table stored in REPORT (or evaluate it from the report's findings)."""
    from assay.compliance import evaluate
    from assay.compliance.table import print_table
    from assay.reports import load

    if fmt not in ("table", "json"):
        raise InputError("--format must be table or json")
    if not report.is_file():
        raise InputError(f"{report}: no such report")
    try:
        data = load(str(report))
    except (ValueError, OSError) as exc:
        raise InputError(str(exc).splitlines()[0]) from None
    rows = data.get("compliance")
    if rows is None:
        rows = evaluate(data, profile)
    if fmt == "json":
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
    else:
        print_table(rows, Console(width=160))
    if any(r["verdict"] == "fail" for r in rows):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command(name="compliance")(compliance)
