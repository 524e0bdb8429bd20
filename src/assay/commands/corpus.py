"""`assay scan-corpus` and `assay query`: many images into the database, and questions across them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

query_app = typer.Typer(help="Questions across every image in the database.", no_args_is_help=True)


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))


def _store() -> Any:
    from assay.store import Store

    return Store()


@query_app.command("same-key")
def same_key(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Private keys (by fingerprint) that occur in more than one image."""
    groups = _store().shared_values("fingerprint")
    _print_groups(groups, "key fingerprint", as_json)


@query_app.command("same-hash")
def same_hash(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Password hashes that occur in more than one image (vendor shown when known)."""
    groups = _store().shared_values("credential_hash")
    _print_groups(groups, "password hash", as_json)


@query_app.command("component")
def component(
    spec: Annotated[str, typer.Argument(help="NAME, NAME@VERSION, or a CVE id.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Images that contain a component, or that carry a vulnerability."""
    store = _store()
    name, _, version = spec.partition("@")
    if name.upper().startswith(("CVE-", "GHSA-")):
        rows = store.images_with_vulnerability(name)
    else:
        rows = store.images_with_component(name, version or None)
    if as_json:
        _print_json(rows)
        return
    table = Table("image", "sha256", "match", "scan")
    for r in rows:
        match = " ".join(str(x) for x in (r.get("vulnerability"), r.get("component"), r.get("version")) if x)
        table.add_row(r["image"], r["sha256"][:16], match, str(r["scan_id"]))
    Console().print(table if rows else f"no image contains {spec}")


def _print_groups(groups: list[dict[str, Any]], what: str, as_json: bool) -> None:
    if as_json:
        _print_json(groups)
        return
    console = Console()
    if not groups:
        console.print(f"no {what} is shared between images")
        return
    for g in groups:
        table = Table("image", "vendor", "paths", title=f"{what} {g['value']}", title_justify="left")
        for i in g["images"]:
            table.add_row(i["image"], i.get("vendor") or "", ", ".join(i["paths"]))
        console.print(table)


def _short_path(path: Path, source: Path) -> str:
    base = source if source.is_dir() else source.parent
    try:
        return str(path.relative_to(base.resolve()))
    except ValueError:
        return str(path)


def register(app: typer.Typer) -> None:
    app.add_typer(query_app, name="query")

    @app.command("scan-corpus")
    def scan_corpus(
        source: Annotated[
            Path, typer.Argument(help="Folder of images (searched recursively) or a list file.")
        ],
        dask: Annotated[
            str | None, typer.Option("--dask", help="Run on this Dask scheduler, e.g. tcp://host:8786.")
        ] = None,
        workers: Annotated[int, typer.Option("--workers", min=1, help="Parallel local scans.")] = 2,
        timeout: Annotated[
            float, typer.Option("--timeout", min=1, help="Seconds per image before it is killed.")
        ] = 600,
        glob: Annotated[str, typer.Option("--glob", help="Only file names matching this pattern.")] = "*",
        rescan: Annotated[bool, typer.Option("--rescan", help="Scan again images already done.")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print the per-image results as JSON.")] = False,
        cache: Annotated[
            Path | None,
            typer.Option(
                "--cache",
                help="SQLite file of per-file check results the scans share, so a program found in many "
                "images is analysed once (default: results-cache.sqlite beside an SQLite database, "
                "else in the data directory).",
            ),
        ] = None,
        no_cache: Annotated[bool, typer.Option("--no-cache", help="Keep no per-file check results.")] = False,
    ) -> None:
        """Scan every image into the database (ASSAY_DATABASE_URL or ASSAY_DATA_DIR). Images with
        a finished scan are skipped, so an interrupted run picks up where it stopped."""
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        from assay.corpus import collect_images, plan, run
        from assay.corpus.run import connect_dask
        from assay.paths import result_cache_option, result_cache_path

        err = Console(stderr=True)
        cache = result_cache_option(cache)
        images = collect_images(source, glob)
        client = connect_dask(dask) if dask else None
        store = _store()
        items = plan(store, images, rescan=rescan)
        todo = sum(1 for i in items if i.status == "pending")
        skipped = len(items) - todo
        if skipped and not as_json:
            err.print(
                f"{skipped} of {len(items)} images skipped (already scanned, duplicate or unreadable);"
                f" {todo} to scan",
                markup=False,
            )
        live = err.is_terminal and not as_json
        with Progress(
            TextColumn("[bold]scanning"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
            console=err,
            disable=not live,
        ) as bar:
            task = bar.add_task("", total=todo)
            finished = 0

            def advance(item: Any) -> None:
                nonlocal finished
                finished += 1
                bar.update(task, advance=1, description=f"{item.path.name}: {item.status}")
                if not live and not as_json:
                    # Logs and CI get one line per image instead of a redrawn bar.
                    note = f": {item.error}" if item.error else ""
                    err.print(
                        f"[{finished}/{todo}] {_short_path(item.path, source)} {item.status}"
                        f" ({item.seconds:.1f} s){note}",
                        markup=False,
                        highlight=False,
                        soft_wrap=True,
                    )

            try:
                run(
                    store,
                    items,
                    workers=workers,
                    timeout=timeout,
                    dask=client,
                    on_result=advance,
                    cache=None if no_cache else str(cache or result_cache_path(store.local_dir())),
                )
            except KeyboardInterrupt:
                err.print(
                    f"interrupted: {finished} of {todo} results recorded; run again to resume", markup=False
                )
                raise
            finally:
                if client is not None:
                    client.close()
        store.close()
        if as_json:
            _print_json([i.to_dict() for i in items])
            return
        table = Table(
            "image", "status", "findings", "crit/high/med/low", "seconds", "note", title="scan-corpus"
        )
        for i in items:
            sev = i.summary.get("by_severity") or {}
            table.add_row(
                _short_path(i.path, source),
                i.status,
                str(i.summary.get("findings", "")),
                "/".join(str(sev.get(s, 0)) for s in ("critical", "high", "medium", "low")) if sev else "",
                f"{i.seconds:.1f}" if i.status in ("done", "failed") else "",
                i.error or (f"scan {i.scan_id}" if i.scan_id else ""),
            )
        out = Console()
        out.print(table)
        counts = {s: sum(1 for i in items if i.status == s) for s in ("done", "skipped", "failed")}
        out.print(f"{counts['done']} scanned, {counts['skipped']} skipped, {counts['failed']} failed")
