"""`assay serve`: the assessment centre (web UI, REST API, scan workers)."""

from __future__ import annotations

from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
        workers: Annotated[
            int | None, typer.Option(help="Scan worker processes (default ASSAY_WORKERS or 2).", min=0)
        ] = None,
        scan_timeout: Annotated[
            float | None, typer.Option(help="Seconds one scan may take before it is killed.")
        ] = None,
        log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    ) -> None:
        """Run the web UI and REST API (/api/v1, docs at /api/docs). Data lives in ASSAY_DATA_DIR;
        the database is SQLite there unless ASSAY_DATABASE_URL names PostgreSQL. Migrations run
        on start, and scans left running by a stopped server are queued again."""
        import uvicorn

        from assay.service import Settings, create_app
        from assay.store import Store

        settings = Settings.from_env(workers=workers, scan_timeout=scan_timeout)
        Store(settings.database_url).close()  # migrate now, so a bad database fails with exit 8
        uvicorn.run(
            create_app(settings), host=host, port=port, log_level=log_level, timeout_graceful_shutdown=10
        )
