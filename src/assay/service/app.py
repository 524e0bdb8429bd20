"""The assessment-centre web application: REST API, web pages, and the worker pool."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assay import __version__
from assay.service import api, web
from assay.service.jobs import WorkerPool, recover
from assay.service.settings import Settings
from assay.service.uploads import UploadLimitMiddleware
from assay.store import Store

log = logging.getLogger("assay.service")
STATIC = Path(__file__).parent / "static"

_PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def create_app(settings: Settings, *, workers: int | None = None) -> FastAPI:
    """workers: processes to start with the app (default settings.workers; 0 for none)."""
    settings = settings.prepared()
    count = settings.workers if workers is None else workers

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = Store(settings.database_url)  # runs alembic upgrade head
        app.state.store = store
        for r in recover(store, settings, at_start=True):
            log.warning("scan %s of stopped worker %s: %s", r.scan_id, r.worker_id, r.status)
        pool = WorkerPool(settings, count)
        pool.start()
        try:
            yield
        finally:
            pool.stop()
            store.close()

    app = FastAPI(
        title="Assay assessment centre",
        version=__version__,
        description="Upload firmware, follow scans, browse findings with evidence, download reports.",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.include_router(api.router)
    app.include_router(web.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie="assay_session",
        max_age=12 * 3600,
        same_site="lax",
        https_only=settings.cookie_secure,
    )
    app.add_middleware(UploadLimitMiddleware, max_bytes=settings.max_upload)
    app.add_middleware(SecurityHeaders)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if _wants_html(request):
            return web.error_page(request, exc.status_code, str(exc.detail), dict(exc.headers or {}))
        return JSONResponse({"detail": exc.detail}, exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = [{k: e[k] for k in ("type", "loc", "msg") if k in e} for e in exc.errors()]
        if _wants_html(request):
            msg = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)
            return web.error_page(request, 422, msg)
        return JSONResponse({"detail": errors}, 422)

    return app


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/")


class SecurityHeaders:
    """Headers every response gets; pages also get a strict CSP (no inline script)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(msg: Message) -> None:
            if msg["type"] == "http.response.start":
                headers = list(msg.get("headers") or [])
                names = {k.lower() for k, _ in headers}
                extra = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"same-origin"),
                ]
                if b"content-security-policy" not in names and not scope["path"].startswith("/api/docs"):
                    extra.append((b"content-security-policy", _PAGE_CSP.encode()))
                msg["headers"] = headers + [h for h in extra if h[0] not in names]
            await send(msg)

        await self.app(scope, receive, send_with_headers)
