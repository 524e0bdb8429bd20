"""`assay db import|update|stats`: the offline vulnerability database."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from assay.errors import InputError

db_app = typer.Typer(help="The offline vulnerability database (NVD, OSV, CISA KEV, kernel fixes).")
err = Console(stderr=True)

DbOption = Annotated[
    Path | None, typer.Option("--db", help="Database file (default: $ASSAY_VULN_DB or the XDG data path).")
]


def _db_path(db: Path | None) -> Path:
    from assay.paths import default_db_path

    return db or default_db_path()


def _progress(quiet: bool) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=quiet or not err.is_terminal,
    )


def _import(paths: list[Path], db: Path, quiet: bool) -> int:
    from assay.vulns.db import VulnDB
    from assay.vulns.importers import import_path

    total = 0
    with VulnDB(db, create=True) as conn, _progress(quiet) as bar:
        for p in paths:
            task = bar.add_task(f"import {p.name}", total=None)
            results = import_path(conn, p, lambda n, t=task: bar.update(t, completed=n))  # type: ignore[misc]
            bar.remove_task(task)
            for r in results:
                total += r.records
                if not quiet:
                    err.print(
                        f"{r.path}: {r.records} {r.kind} records",
                        markup=False,
                        highlight=False,
                        soft_wrap=True,
                    )
    return total


@db_app.command("import")
def import_cmd(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="NVD 2.0 JSON (.json/.json.gz, feeds or API pages), OSV JSON (files, directories, zips), "
            "CISA KEV CSV, kernel stream_fixes.json or CVEs.txt."
        ),
    ],
    db: DbOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress and no summary.")] = False,
) -> None:
    """Load feed files into the database. Re-importing is safe: the newer lastModified wins."""
    for f in files:
        if not f.exists():
            raise InputError(f"{f}: no such file or directory")
    path = _db_path(db)
    n = _import(files, path, quiet)
    if not quiet:
        err.print(f"{path}: {n} records imported", markup=False, highlight=False, soft_wrap=True)


@db_app.command("update")
def update_cmd(
    db: DbOption = None,
    cache: Annotated[
        Path | None, typer.Option(help="Download cache (default: feeds/ in the data directory).")
    ] = None,
    osv: Annotated[
        list[str] | None,
        typer.Option(help="Also fetch this OSV ecosystem (e.g. Debian, Alpine); repeatable."),
    ] = None,
    mirror: Annotated[
        str | None, typer.Option(help="Fetch every feed file from this base URL instead.")
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for a server.")] = 30.0,
    max_age: Annotated[
        float, typer.Option(help="Hours a finished download stays fresh before it is fetched again.")
    ] = 24.0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress and no summary.")] = False,
) -> None:
    """Download the current NVD 2.0 feeds, CISA KEV, kernel fix data (and OSV), then import them."""
    from assay.paths import data_dir
    from assay.vulns.db import VulnDB
    from assay.vulns.update import default_feeds, fetch_all

    cache_dir = cache or data_dir() / "feeds"
    feeds = default_feeds(tuple(osv or ()), mirror=mirror)
    with _progress(quiet) as bar:
        tasks: dict[str, object] = {}

        def progress(name: str, done: int, total: int | None) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(name, total=total)
            bar.update(tasks[name], completed=done, total=total)  # type: ignore[arg-type]

        fetched = fetch_all(feeds, cache_dir, timeout=timeout, progress=progress, max_age=max_age * 3600)
    path = _db_path(db)
    with VulnDB(path, create=True) as conn:
        todo = [p for p, _ in fetched if not conn.source_is_current(p)]
    n = _import(todo, path, quiet) if todo else 0
    if not quiet:
        err.print(
            f"{path}: {sum(1 for _, new in fetched if new)} files downloaded, {len(todo)} imported, {n} records",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


@db_app.command("stats")
def stats_cmd(
    db: DbOption = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """What the database holds: records per source, KEV entries, kernel branches, imported files."""
    from assay.vulns.db import VulnDB

    if fmt not in ("table", "json"):
        raise InputError("--format must be table or json")
    with VulnDB(_db_path(db)) as conn:
        stats = conn.stats()
    if fmt == "json":
        sys.stdout.write(json.dumps(stats, indent=2) + "\n")
        return
    table = Table(title=str(stats["path"]))
    table.add_column("what")
    table.add_column("count", justify="right")
    for key in (
        "nvd_cves",
        "nvd_products",
        "osv_records",
        "osv_packages",
        "kev_entries",
        "kernel_cves",
        "kernel_branches",
    ):
        table.add_row(key.replace("_", " "), str(stats[key]))
    table.add_row("last import", str(stats["last_import"]))
    Console(width=160).print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
