"""`assay vulns SBOM.json`: match an existing CycloneDX SBOM against the database, no re-scan."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from assay.errors import InputError

_RANK = {"unknown": 0, "info": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}


def vulns(
    sbom: Annotated[
        Path, typer.Argument(help="A CycloneDX JSON SBOM (from `assay scan -f cyclonedx` or any tool).")
    ],
    db: Annotated[
        Path | None,
        typer.Option("--db", help="Database file (default: $ASSAY_VULN_DB or the XDG data path)."),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    triage: Annotated[
        Path | None, typer.Option(help="Analyst triage file (CycloneDX VEX) to honour.")
    ] = None,
    fail_on: Annotated[
        str | None,
        typer.Option(
            help="Exit 1 if an affected vulnerability has at least this severity (critical ... info)."
        ),
    ] = None,
) -> None:
    """Known vulnerabilities of the components listed in SBOM."""
    from assay.paths import default_db_path
    from assay.vulns import check_components
    from assay.vulns.sbom import read_cyclonedx
    from assay.vulns.vex import AFFECTED_STATES

    if fmt not in ("table", "json"):
        raise InputError("--format must be table or json")
    if fail_on is not None and fail_on not in _RANK:
        raise InputError(f"--fail-on must be one of {', '.join(k for k in _RANK if k != 'unknown')}")
    if not sbom.is_file():
        raise InputError(f"{sbom}: no such file")
    components = read_cyclonedx(sbom)
    found, stats = check_components(components, db or default_db_path(), triage)
    if fmt == "json":
        out: dict[str, Any] = {"sbom": str(sbom), "vulnerabilities": found, "stats": stats}
        sys.stdout.write(json.dumps(out, indent=2) + "\n")
    else:
        _print_table(found, stats, len(components))
    if fail_on is not None:
        threshold = _RANK[fail_on]
        if any(v["state"] in AFFECTED_STATES and _RANK.get(v["severity"], 0) >= threshold for v in found):
            raise typer.Exit(1)


def _print_table(found: list[dict[str, Any]], stats: dict[str, Any], n_components: int) -> None:
    console = Console(width=160)
    table = Table(title=f"{len(found)} vulnerabilities in {n_components} components")
    for col in ("id", "severity", "cvss", "component", "version", "state", "kev", "source"):
        table.add_column(col)
    for v in found:
        cvss = v.get("cvss") or {}
        table.add_row(
            v["id"],
            v["severity"],
            f"{cvss.get('score')} (v{cvss.get('version')})" if cvss else "",
            v["component"],
            v["version"] or "",
            v["state"] + (f" ({v['justification']})" if v.get("justification") else ""),
            "KEV" if v["kev"] else "",
            v["source"],
        )
    console.print(table)
    unknown = stats.get("unknown_version") or []
    console.print(
        f"affected: {stats['affected']}; by state: {stats['by_state']}"
        + (f"; not checked (no version): {', '.join(u['component'] for u in unknown)}" if unknown else ""),
        markup=False,
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.command(name="vulns")(vulns)
