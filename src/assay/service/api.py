"""REST API under /api/v1 (OpenAPI at /api/v1/openapi.json, docs at /api/docs)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from assay.reports import render
from assay.service.auth import Principal, require_token, store_of
from assay.service.jobs import enqueue_upload
from assay.service.views import REPORT_MEDIA, compare_reports, image_json, scan_json
from assay.store import Scan, Store

router = APIRouter(prefix="/api/v1", tags=["api"])

ReportFormat = Literal["json", "sarif", "html", "cyclonedx", "spdx"]
MAX_ID = 2**31 - 1
ScanId = Annotated[int, Path(ge=1, le=MAX_ID, description="scan id")]
ScanRef = Annotated[int, Query(ge=1, le=MAX_ID, description="scan id")]

_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "the firmware image"},
                        "vendor": {"type": "string"},
                        "model": {"type": "string"},
                    },
                }
            }
        },
    }
}


def _scan_or_404(store: Store, scan_id: int) -> Scan:
    scan = store.get_scan(scan_id)
    if scan is None:
        raise HTTPException(404, f"no scan {scan_id}")
    return scan


def _done_or_409(store: Store, scan_id: int) -> Scan:
    scan = _scan_or_404(store, scan_id)
    if scan.status != "done":
        raise HTTPException(409, f"scan {scan_id} is {scan.status}; results exist once it is done")
    return scan


def _report(store: Store, scan_id: int) -> dict[str, Any]:
    _done_or_409(store, scan_id)
    report = store.report(scan_id)
    if report is None:
        raise HTTPException(404, f"scan {scan_id} has no stored report")
    return report


@router.post(
    "/scans",
    status_code=202,
    openapi_extra=_UPLOAD_BODY,
    summary="Upload a firmware image and queue a scan (bearer token required)",
)
async def create_scan(
    request: Request, principal: Annotated[Principal, Depends(require_token)]
) -> dict[str, Any]:
    # The form is parsed only after the token checks out, so anonymous bodies never hit the disk.
    form = await request.form(max_files=1, max_fields=10)
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise HTTPException(
                422,
                [
                    {
                        "type": "missing",
                        "loc": ["body", "file"],
                        "msg": "Field required: a file part named 'file'",
                    }
                ],
            )
        vendor, model = form.get("vendor"), form.get("model")
        scan_id = await enqueue_upload(
            request,
            upload,
            vendor=vendor if isinstance(vendor, str) else None,
            model=model if isinstance(model, str) else None,
            user_id=principal.user_id,
        )
    finally:
        await form.close()
    scan = store_of(request).get_scan(scan_id)
    assert scan is not None
    return scan_json(scan)


@router.get("/scans", summary="List scans, newest first")
def list_scans(
    request: Request,
    status: Annotated[Literal["queued", "running", "done", "failed"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    store = store_of(request)
    scans = store.list_scans(limit=limit, offset=offset, status=status)
    return {"total": store.count_scans(status), "scans": [scan_json(s) for s in scans]}


@router.get("/scans/{scan_id}", summary="One scan: status, progress stage, summary, links")
def get_scan(request: Request, scan_id: ScanId) -> dict[str, Any]:
    return scan_json(_scan_or_404(store_of(request), scan_id))


@router.get("/scans/{scan_id}/findings", summary="Findings of a finished scan, with evidence")
def get_findings(
    request: Request,
    scan_id: ScanId,
    severity: Annotated[Literal["critical", "high", "medium", "low", "info"] | None, Query()] = None,
    category: Annotated[str | None, Query(max_length=64)] = None,
) -> list[dict[str, Any]]:
    store = store_of(request)
    _done_or_409(store, scan_id)
    return store.findings(scan_id, severity=severity, category=category)


@router.get("/scans/{scan_id}/components", summary="SBOM components of a finished scan")
def get_components(request: Request, scan_id: ScanId) -> list[dict[str, Any]]:
    store = store_of(request)
    _done_or_409(store, scan_id)
    return store.components(scan_id)


@router.get("/scans/{scan_id}/vulnerabilities", summary="Known vulnerabilities of the components")
def get_vulnerabilities(request: Request, scan_id: ScanId) -> list[dict[str, Any]]:
    store = store_of(request)
    _done_or_409(store, scan_id)
    return store.vulnerabilities(scan_id)


@router.get("/scans/{scan_id}/files", summary="Files of the unpacked image (optionally under a prefix)")
def get_files(
    request: Request,
    scan_id: ScanId,
    prefix: Annotated[str | None, Query(max_length=4096, description="only paths under this one")] = None,
) -> list[dict[str, Any]]:
    files: list[dict[str, Any]] = _report(store_of(request), scan_id).get("files") or []
    if prefix:
        base = "/" + prefix.strip("/")
        files = [
            f
            for f in files
            if f.get("path") == base or str(f.get("path", "")).startswith(base.rstrip("/") + "/")
        ]
    return files


@router.get("/scans/{scan_id}/report", summary="The report in one of the formats Assay writes")
def get_report(
    request: Request,
    scan_id: ScanId,
    format: Annotated[ReportFormat, Query()] = "json",  # noqa: A002 - the public parameter name
    download: bool = False,
) -> Response:
    report = _report(store_of(request), scan_id)
    return report_response(report, format, scan_id, download)


def report_response(report: dict[str, Any], fmt: str, scan_id: int, download: bool) -> Response:
    try:
        text = render(report, fmt)
    except ImportError:
        raise HTTPException(501, f"the {fmt} report format is not available in this build") from None
    except Exception as exc:  # noqa: BLE001 - a renderer bug must not take the page down
        raise HTTPException(500, f"the {fmt} renderer failed: {type(exc).__name__}") from None
    media, ext = REPORT_MEDIA[fmt]
    headers = {
        "Content-Disposition": f'{"attachment" if download else "inline"}; filename="scan-{scan_id}.{ext}"'
    }
    if fmt == "html":
        # The report is untrusted content from the image: an opaque origin keeps it away from our cookies.
        headers["Content-Security-Policy"] = (
            "sandbox allow-popups; default-src 'none'; style-src 'unsafe-inline'; img-src data:"
        )
    return Response(text, media_type=media, headers=headers)


@router.get("/compare", summary="Compare two finished scans: findings, components, vulnerabilities, files")
def compare(request: Request, a: ScanRef, b: ScanRef) -> dict[str, Any]:
    store = store_of(request)
    ra, rb = _report(store, a), _report(store, b)
    result = compare_reports(ra, rb)
    result["a"]["scan_id"], result["b"]["scan_id"] = a, b
    return result


@router.get("/images", summary="Uploaded and corpus images with their latest finished scan")
def list_images(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[dict[str, Any]]:
    out = []
    for img, n, last in store_of(request).list_images(limit=limit, offset=offset):
        out.append({**image_json(img), "scans": n, "latest_done_scan": last.id if last else None})
    return out


@router.get("/query/same-key", summary="Private keys (by fingerprint) found in more than one image")
def same_key(request: Request) -> list[dict[str, Any]]:
    return store_of(request).shared_values("fingerprint")


@router.get("/query/same-hash", summary="Password hashes found in more than one image")
def same_hash(request: Request) -> list[dict[str, Any]]:
    return store_of(request).shared_values("credential_hash")


@router.get("/query/component", summary="Images that contain a component (name, optional version)")
def component(
    request: Request,
    name: Annotated[str, Query(min_length=1, max_length=255)],
    version: Annotated[str | None, Query(max_length=255)] = None,
) -> list[dict[str, Any]]:
    return store_of(request).images_with_component(name, version)


@router.get("/query/vulnerability", summary="Images with a known vulnerability (CVE id)")
def vulnerability(
    request: Request, id: Annotated[str, Query(min_length=3, max_length=64)]
) -> list[dict[str, Any]]:  # noqa: A002
    return store_of(request).images_with_vulnerability(id)


@router.get("/health", summary="Liveness and queue depth")
async def health(request: Request) -> dict[str, Any]:
    store = store_of(request)
    counts = await run_in_threadpool(lambda: {s: store.count_scans(s) for s in ("queued", "running")})
    return {"status": "ok", **counts}
