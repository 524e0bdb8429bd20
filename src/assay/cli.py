"""The `assay` command line. Sub-commands beyond `scan` live in assay/commands/*.py."""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from assay import __version__
from assay.errors import AssayError, InputError
from assay.unpack import Limits

app = typer.Typer(
    name="assay",
    help="Evidence-based security assessment of network-equipment firmware.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)

EXIT_INTERNAL = 70


def _version(value: bool) -> None:
    if value:
        typer.echo(f"assay {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    pass


@app.command()
def scan(
    image: Annotated[
        Path,
        # readable=False: unpack() reports an unreadable image as bad input (exit 3), not click.
        typer.Argument(
            help="Firmware image file, or a directory holding an unpacked root filesystem.", readable=False
        ),
    ],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the report here (default: stdout).")
    ] = None,
    fmt: Annotated[
        list[str] | None,
        typer.Option(
            "--format",
            "-f",
            help="json, sarif, html, cyclonedx, spdx; repeat for several (then -o is a directory).",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the JSON report on stdout, nothing else.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress and no summary.")] = False,
    workdir: Annotated[Path | None, typer.Option(help="Keep the extracted files in this directory.")] = None,
    profile: Annotated[str | None, typer.Option(help="Compliance profile to evaluate, e.g. ts33117.")] = None,
    db: Annotated[
        Path | None, typer.Option(help="Vulnerability database (default: the XDG data path if present).")
    ] = None,
    vex: Annotated[Path | None, typer.Option(help="Also write CycloneDX VEX to this file.")] = None,
    triage: Annotated[
        Path | None, typer.Option(help="Analyst triage file (VEX) that this scan honours.")
    ] = None,
    max_bytes: Annotated[int, typer.Option(help="Limit on bytes extracted.")] = Limits.max_total_bytes,
    max_files: Annotated[int, typer.Option(help="Limit on files extracted.")] = Limits.max_files,
    max_depth: Annotated[int, typer.Option(help="Limit on container nesting.")] = Limits.max_depth,
    timeout: Annotated[
        float, typer.Option(help="Seconds allowed per extractor.")
    ] = Limits.max_seconds_per_extractor,
    fail_on: Annotated[
        str | None,
        typer.Option(help="Exit 1 if a finding has at least this severity (critical, high, medium, low)."),
    ] = None,
    crack: Annotated[
        str,
        typer.Option(
            help="Password cracking depth: 'quick' gives each slow hash (sha512crypt, bcrypt) about "
            "a CPU second of the most likely candidates; 'full' tries the whole bundled list."
        ),
    ] = "quick",
    crack_seconds: Annotated[
        float | None,
        typer.Option(help="Wall-clock budget for all password cracking in one scan (default 20)."),
    ] = None,
    checks: Annotated[
        list[str] | None,
        typer.Option(
            "--check",
            help=(
                "Run only this check (an id or a category, see docs/checks.md); repeat for several. "
                "'none': no checks, only the inventory (for an SBOM)."
            ),
        ),
    ] = None,
    jobs: Annotated[
        int,
        typer.Option(help="Processes the checks run in (default 0: one per CPU, at most 4; 1: in turn)."),
    ] = 0,
    cache: Annotated[
        Path | None,
        typer.Option(
            "--cache",
            envvar="ASSAY_RESULT_CACHE",
            help="SQLite file of per-file check results to reuse and extend, so a program seen in an "
            "earlier scan is not analysed again (default: none kept).",
        ),
    ] = None,
) -> None:
    """Unpack IMAGE, index it, hunt for back doors and weaknesses, and report with evidence."""
    from assay.checks import default_jobs
    from assay.model import Severity
    from assay.paths import result_cache_option
    from assay.pipeline import ScanOptions
    from assay.pipeline import scan as run_scan
    from assay.reports import FORMATS, render

    formats = fmt or ["json"]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise typer.BadParameter(f"unknown --format {', '.join(unknown)}; choose from {', '.join(FORMATS)}")
    if as_json:
        formats, output, quiet = ["json"], None, True
    if len(formats) > 1 and output is None:
        raise InputError("several --format values need -o DIRECTORY")
    if crack not in ("quick", "full"):
        raise InputError("--crack must be quick or full")
    if fail_on is not None and fail_on not in {s.value for s in Severity}:
        raise InputError(f"--fail-on must be one of {', '.join(s.value for s in Severity)}")
    if jobs < 0:
        raise InputError("--jobs must be 0 (one per CPU) or more")
    if checks == ["none"]:
        checks = []
    elif checks:
        from assay.checks import all_checks

        known = {name for c in all_checks() for name in (c.id, c.category)}
        unknown = sorted(set(checks) - known)
        if unknown:
            raise InputError(f"unknown --check {', '.join(unknown)}; see docs/checks.md for the ids")
    options = ScanOptions(
        limits=Limits(
            max_total_bytes=max_bytes,
            max_files=max_files,
            max_depth=max_depth,
            max_seconds_per_extractor=timeout,
        ),
        workdir=workdir,
        # Only what the user set: each check keeps its own defaults.
        check_options={"crack_depth": crack}
        | ({"crack_seconds": crack_seconds} if crack_seconds is not None else {}),
        profile=profile,
        vuln_db=db,
        vex_triage=triage,
        only_checks=checks,
        jobs=jobs or default_jobs(),
        result_cache=result_cache_option(cache),
    )
    if db is None:
        from assay.paths import existing_db_path

        options.vuln_db = existing_db_path()

    # The bar is for a terminal; piped stderr gets only the summary and errors.
    if quiet or not err.is_terminal:
        report = run_scan(image, options)
    else:
        with Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        ) as bar:
            task = bar.add_task("starting", total=None)

            def progress(stage: str, done: int | None, total: int | None) -> None:
                bar.update(task, description=stage, completed=done or 0, total=total)

            report = run_scan(image, options, progress)
    data = report.to_dict()
    if vex is not None:
        _write_vex(data, vex)

    if output is not None and len(formats) > 1:
        output.mkdir(parents=True, exist_ok=True)
        stem = image.name
        ext = {"json": "json", "sarif": "sarif", "html": "html", "cyclonedx": "cdx.json", "spdx": "spdx.json"}
        for f in formats:
            (output / f"{stem}.{ext.get(f, f)}").write_text(render(data, f), encoding="utf-8")
    else:
        text = render(data, formats[0])
        if output is None:
            sys.stdout.write(text)
        else:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(text, encoding="utf-8")
    if not quiet:
        from assay.reports.terminal import print_summary

        print_summary(data, err)
        if data.get("compliance") is not None:
            from assay.compliance.table import print_table

            print_table(data["compliance"], err)
    if fail_on is not None:
        threshold = Severity(fail_on).rank
        if any(Severity(f["severity"]).rank >= threshold for f in data["findings"]):
            raise typer.Exit(1)


def _write_vex(data: dict, path: Path) -> None:
    from assay.vulns.vex import render_vex

    path.write_text(render_vex(data), encoding="utf-8")


@app.command()
def inspect(
    image: Annotated[Path, typer.Argument(help="Firmware image or blob to unpack.", readable=False)],
    workdir: Annotated[Path | None, typer.Option(help="Extract here and keep the files.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    max_bytes: Annotated[int, typer.Option(help="Limit on bytes extracted.")] = Limits.max_total_bytes,
    max_files: Annotated[int, typer.Option(help="Limit on files extracted.")] = Limits.max_files,
    max_depth: Annotated[int, typer.Option(help="Limit on container nesting.")] = Limits.max_depth,
    timeout: Annotated[
        float, typer.Option(help="Seconds allowed per extractor.")
    ] = Limits.max_seconds_per_extractor,
) -> None:
    """Unpack IMAGE and list its layers and filesystems, without running checks."""
    import shutil
    import tempfile

    from assay.unpack import unpack

    limits = Limits(
        max_total_bytes=max_bytes,
        max_files=max_files,
        max_depth=max_depth,
        max_seconds_per_extractor=timeout,
    )
    tmp = None
    if workdir is None:
        tmp = tempfile.mkdtemp(prefix="assay-inspect-")
        workdir = Path(tmp)
    try:
        result = unpack(image, workdir, limits)
        out: dict[str, Any] = {
            "image": str(image),
            "format": result.image_format,
            "layers": [{k: v for k, v in vars(layer).items() if v is not None} for layer in result.layers],
            "filesystems": [
                {
                    "id": fs.id,
                    "type": fs.fstype,
                    "root": fs.looks_like_root,
                    "entries": len(fs.entries),
                    "files": sum(1 for e in fs.entries.values() if e.kind == "file"),
                    "setuid": sorted(
                        p for p, e in fs.entries.items() if e.kind == "file" and e.mode & 0o6000
                    ),
                    "metadata_exact": fs.metadata_exact,
                    "source": fs.source,
                    "host_root": str(fs.host_root) if tmp is None else None,
                }
                for fs in result.filesystems
            ],
            "warnings": result.warnings,
        }
        if as_json:
            typer.echo(json.dumps(out, indent=2, default=str))
        else:
            for layer in result.layers:
                size = "?" if layer.size is None else str(layer.size)
                note = f"  ({layer.note})" if layer.note else ""
                typer.echo(f"{'  ' * layer.depth}{layer.handler} at 0x{layer.offset:x} size {size}{note}")
            for fs in out["filesystems"]:
                flags = (" (root)" if fs["root"] else "") + (
                    "" if fs["metadata_exact"] else " (modes inexact)"
                )
                typer.echo(
                    f"{fs['id']}: {fs['type']} {fs['files']} files, {fs['entries']} entries{flags}"
                    f" from {fs['source']}"
                )
            for w in result.warnings:
                typer.echo(f"warning: {w}")
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


def _register_commands() -> None:
    import assay.commands as pkg

    for mod in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"assay.commands.{mod.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)


_register_commands()


def main() -> None:
    """Entry point: one-line errors with documented exit codes, never a traceback."""
    try:
        # Without standalone mode click returns a typer.Exit's code instead of exiting.
        rc = app(standalone_mode=False)
        if isinstance(rc, int) and rc:
            sys.exit(rc)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except AssayError as exc:
        err.print(f"assay: {exc.kind}: {exc}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except (typer.BadParameter, typer.Abort) as exc:  # pragma: no cover - click handles most
        err.print(f"assay: usage: {exc}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("assay: interrupted")
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:
        import click

        if isinstance(exc, click.exceptions.ClickException):
            err.print(f"assay: usage: {exc.format_message()}", markup=False, highlight=False, soft_wrap=True)
            sys.exit(exc.exit_code)
        if os.environ.get("ASSAY_DEBUG"):
            raise
        err.print(
            f"assay: internal error: {type(exc).__name__}: {exc}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(EXIT_INTERNAL)
