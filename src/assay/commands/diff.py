"""`assay diff OLD NEW`: file and security delta between two images (exit 0 same, 1 differ, 2 error)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

FORMATS = ("text", "json", "html")


def fail(message: str) -> typer.Exit:
    """One line on stderr and exit 2, as diffoscope does for errors (not the scan's exit codes)."""
    typer.echo(f"assay: {message}", err=True)
    return typer.Exit(2)


def write_output(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise fail(f"cannot write {output}: {exc.strerror}") from None


def register(app: typer.Typer) -> None:
    @app.command()
    def diff(
        old: Annotated[Path, typer.Argument(help="The earlier image (file or unpacked directory).")],
        new: Annotated[Path, typer.Argument(help="The later image (file or unpacked directory).")],
        fmt: Annotated[str, typer.Option("--format", "-f", help="text, json or html.")] = "text",
        output: Annotated[
            Path | None, typer.Option("-o", "--output", help="Write here (default: stdout).")
        ] = None,
        db: Annotated[
            Path | None,
            typer.Option(help="Vulnerability database, to list the CVEs a version change adds or fixes."),
        ] = None,
        triage: Annotated[
            Path | None,
            typer.Option(help="Analyst triage file (VEX): CVEs triaged not affected are not counted."),
        ] = None,
        workdir: Annotated[
            Path | None, typer.Option(help="Keep both extracted trees in this directory.")
        ] = None,
    ) -> None:
        """Compare two firmware images: files added, removed, renamed and changed, and the security delta.

        Exit 0 when they hold the same files, 1 when they differ, 2 on error."""
        from assay.compare.diff import diff_images, vulnerability_matching_available
        from assay.compare.render import render_diff
        from assay.errors import AssayError
        from assay.pipeline import ScanOptions

        if fmt not in FORMATS:
            raise fail(f"usage: --format must be one of {', '.join(FORMATS)}")
        if triage is not None and not triage.is_file():
            raise fail(f"bad input: {triage}: triage file not found")
        options = ScanOptions(vuln_db=db, vex_triage=triage)
        if db is None:
            from assay.paths import existing_db_path

            options.vuln_db = existing_db_path()
        elif not db.is_file():
            raise fail(f"bad input: {db}: vulnerability database not found")
        elif not vulnerability_matching_available():
            raise fail(
                "usage: --db needs vulnerability matching (assay.vulns), which this installation lacks"
            )
        try:
            result = diff_images(old, new, options=options, workdir=workdir)
        except AssayError as exc:
            raise fail(f"{exc.kind}: {exc}") from None
        write_output(render_diff(result, fmt), output)
        raise typer.Exit(0 if result["identical"] else 1)
