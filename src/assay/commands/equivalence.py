"""`assay equivalence DEPLOYED REFERENCE`: binary equivalence (exit 0 equivalent, 1 different, 2 error)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from assay.commands.diff import fail, write_output

FORMATS = ("text", "json", "html")


def register(app: typer.Typer) -> None:
    @app.command()
    def equivalence(
        deployed: Annotated[
            Path, typer.Argument(help="The image taken from the device (file or directory).")
        ],
        reference: Annotated[
            Path, typer.Argument(help="The reference image, or a directory holding a local rebuild.")
        ],
        fmt: Annotated[str, typer.Option("--format", "-f", help="text, json or html.")] = "text",
        output: Annotated[
            Path | None, typer.Option("-o", "--output", help="Write here (default: stdout).")
        ] = None,
        metadata: Annotated[
            bool, typer.Option("--metadata/--no-metadata", help="Compare mode, owner and link targets too.")
        ] = True,
        workdir: Annotated[
            Path | None, typer.Option(help="Keep both extracted trees in this directory.")
        ] = None,
    ) -> None:
        """Is DEPLOYED the same build as REFERENCE, once build noise (build-id, signatures,
        gzip headers, archive mtimes) is normalized? Every normalization is named per file.

        Exit 0 when identical or equivalent, 1 when different, 2 on error."""
        from assay.compare.equivalence import equivalence as run
        from assay.compare.render import render_equivalence
        from assay.errors import AssayError

        if fmt not in FORMATS:
            raise fail(f"usage: --format must be one of {', '.join(FORMATS)}")
        try:
            result = run(deployed, reference, metadata=metadata, workdir=workdir)
        except AssayError as exc:
            raise fail(f"{exc.kind}: {exc}") from None
        write_output(render_equivalence(result, fmt), output)
        raise typer.Exit(1 if result["verdict"] == "different" else 0)
