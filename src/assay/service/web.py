"""Server-rendered pages (Jinja2, autoescaped). Writes need a session made from an API token
and the session's CSRF token in the form."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from assay.model import Severity
from assay.reports.html import mode_string
from assay.service.api import MAX_ID, ScanId, report_response
from assay.service.auth import Principal, check_csrf, csrf_token, session_user, store_of
from assay.service.jobs import enqueue_upload
from assay.service.views import (
    REPORT_MEDIA,
    available_formats,
    compare_reports,
    file_tree,
    iso,
    severity_rank,
)

router = APIRouter(include_in_schema=False)

_env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True)
_env.filters["iso"] = iso
_env.filters["pretty"] = lambda v: json.dumps(v, indent=2, sort_keys=True, default=str)
_env.filters["size"] = lambda n: _human(n)
_env.filters["modestr"] = lambda e: _mode_string(e)
templates = Jinja2Templates(env=_env)

SEVERITIES = [s.value for s in Severity]
TABS = ("findings", "files", "components", "vulnerabilities", "reports")


def _mode_string(entry: Any) -> str:
    """'-rwsr-xr-x' from a report file entry (kind + octal mode), as ls shows it."""
    if not isinstance(entry, dict):
        return ""
    try:
        return mode_string(str(entry.get("kind")), str(entry.get("mode", "")))
    except ValueError:
        return str(entry.get("mode", ""))


def _human(n: Any) -> str:
    if not isinstance(n, int):
        return "-"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return str(n)


def page(
    request: Request, name: str, status: int = 200, user: Principal | None = None, **ctx: Any
) -> HTMLResponse:
    ctx.update(request=request, user=user, csrf=csrf_token(request))
    return templates.TemplateResponse(request, name, ctx, status_code=status)


def error_page(
    request: Request, status: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    resp = templates.TemplateResponse(
        request,
        "error.html",
        {"request": request, "user": None, "status": status, "message": message, "csrf": ""},
        status_code=status,
    )
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


@router.get("/", response_class=HTMLResponse)
def index(request: Request) -> HTMLResponse:
    store = store_of(request)
    return page(
        request,
        "index.html",
        user=session_user(request),
        scans=store.list_scans(limit=50),
        max_upload=request.app.state.settings.max_upload,
    )


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> HTMLResponse:
    return page(request, "login.html", user=session_user(request), error=None)


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form(max_files=0, max_fields=5)
    check_csrf(request, form.get("csrf_token"))
    token = form.get("token")
    token = token.strip() if isinstance(token, str) else ""
    check = await run_in_threadpool(store_of(request).verify_token, token)
    if check.status != "ok" or check.token_id is None:
        msg = "That token has been revoked." if check.status == "revoked" else "That token is not valid."
        return page(request, "login.html", status=403, error=msg)
    request.session.clear()
    request.session["tid"] = check.token_id
    csrf_token(request)  # a fresh CSRF token for the new session
    return RedirectResponse("/", status_code=303)


@router.post("/logout")
async def logout(request: Request) -> Response:
    form = await request.form(max_files=0, max_fields=5)
    check_csrf(request, form.get("csrf_token"))
    request.session.clear()
    return RedirectResponse("/", status_code=303)


@router.post("/upload")
async def upload(request: Request) -> Response:
    user = await run_in_threadpool(session_user, request)
    if user is None:
        raise HTTPException(401, "sign in with an API token before uploading")
    # CSRF is checked before the file is stored: the field must come before the file in the form.
    form = await request.form(max_files=1, max_fields=10)
    try:
        check_csrf(request, form.get("csrf_token"))
        file = form.get("file")
        if not isinstance(file, UploadFile) or not file.filename:
            raise HTTPException(422, "choose a firmware image to upload")
        vendor, model = form.get("vendor"), form.get("model")
        scan_id = await enqueue_upload(
            request,
            file,
            vendor=vendor if isinstance(vendor, str) else None,
            model=model if isinstance(model, str) else None,
            user_id=user.user_id,
        )
    finally:
        await form.close()
    return RedirectResponse(f"/scans/{scan_id}", status_code=303)


@router.get("/scans/{scan_id}", response_class=HTMLResponse)
def scan_page(
    request: Request,
    scan_id: ScanId,
    tab: str = "findings",
    severity: str | None = None,
    category: str | None = Query(None, max_length=64),
) -> HTMLResponse:
    store = store_of(request)
    scan = store.get_scan(scan_id)
    if scan is None:
        raise HTTPException(404, f"no scan {scan_id}")
    tab = tab if tab in TABS else "findings"
    ctx: dict[str, Any] = {"scan": scan, "tab": tab, "formats": available_formats(), "severities": SEVERITIES}
    if scan.status == "done":
        all_findings = store.findings(scan_id)
        ctx["categories"] = sorted(Counter(f.get("category") for f in all_findings).items())
        ctx["by_severity"] = Counter(f.get("severity") for f in all_findings)
        findings = [
            f
            for f in all_findings
            if (not severity or f.get("severity") == severity)
            and (not category or f.get("category") == category)
        ]
        findings.sort(
            key=lambda f: (-severity_rank(f.get("severity")), f.get("category", ""), f.get("path", ""))
        )
        ctx.update(findings=findings, severity=severity, category=category, total_findings=len(all_findings))
        if tab == "components":
            ctx["components"] = store.components(scan_id)
        elif tab == "vulnerabilities":
            ctx["vulnerabilities"] = store.vulnerabilities(scan_id)
        elif tab == "files":
            report = store.report(scan_id) or {}
            ctx["tree"] = file_tree(report.get("files") or [])
    return page(request, "scan.html", user=session_user(request), **ctx)


@router.get("/scans/{scan_id}/findings/{finding_id}", response_class=HTMLResponse)
def finding_page(request: Request, scan_id: ScanId, finding_id: str) -> HTMLResponse:
    store = store_of(request)
    scan = store.get_scan(scan_id)
    if scan is None or scan.status != "done":
        raise HTTPException(404, f"no finished scan {scan_id}")
    finding = next((f for f in store.findings(scan_id) if f.get("id") == finding_id), None)
    if finding is None:
        raise HTTPException(404, "no such finding in this scan")
    report = store.report(scan_id) or {}
    rule = next((r for r in report.get("rules") or [] if r.get("id") == finding.get("rule")), None)
    return page(request, "finding.html", user=session_user(request), scan=scan, finding=finding, rule=rule)


@router.get("/scans/{scan_id}/download/{fmt}")
def download(request: Request, scan_id: ScanId, fmt: str) -> Response:
    if fmt not in REPORT_MEDIA:
        raise HTTPException(404, "unknown report format")
    if fmt not in available_formats():
        raise HTTPException(404, f"the {fmt} report format is not available in this build")
    store = store_of(request)
    scan = store.get_scan(scan_id)
    report = store.report(scan_id) if scan is not None and scan.status == "done" else None
    if report is None:
        raise HTTPException(404, f"no finished scan {scan_id}")
    return report_response(report, fmt, scan_id, download=True)


@router.get("/compare", response_class=HTMLResponse)
def compare_page(
    request: Request,
    a: int | None = Query(None, ge=1, le=MAX_ID),
    b: int | None = Query(None, ge=1, le=MAX_ID),
) -> HTMLResponse:
    store = store_of(request)
    done = store.list_scans(limit=500, status="done")
    result = None
    if a is not None and b is not None:
        ra, rb = store.report(a), store.report(b)
        if ra is None or rb is None:
            raise HTTPException(404, "both scans must exist and be finished")
        result = compare_reports(ra, rb)
    return page(request, "compare.html", user=session_user(request), scans=done, a=a, b=b, result=result)


@router.get("/images", response_class=HTMLResponse)
def images_page(request: Request) -> HTMLResponse:
    return page(request, "images.html", user=session_user(request), images=store_of(request).list_images())


@router.get("/query", response_class=HTMLResponse)
def query_page(
    request: Request,
    kind: str = "same-key",
    q: str | None = Query(None, max_length=255),
) -> HTMLResponse:
    store = store_of(request)
    rows: list[dict[str, Any]] = []
    groups: list[dict[str, Any]] = []
    if kind == "same-key":
        groups = store.shared_values("fingerprint")
    elif kind == "same-hash":
        groups = store.shared_values("credential_hash")
    elif kind == "component" and q:
        name, _, version = q.partition("@")
        if name.upper().startswith(("CVE-", "GHSA-")):
            rows = store.images_with_vulnerability(name)
        else:
            rows = store.images_with_component(name, version or None)
    return page(request, "query.html", user=session_user(request), kind=kind, q=q, rows=rows, groups=groups)
