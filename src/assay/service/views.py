"""Plain-data views of stored scans shared by the API and the web pages."""

from __future__ import annotations

import importlib.util
from typing import Any

from assay.model import Severity
from assay.reports import FORMATS
from assay.store import Image, Scan, as_utc

REPORT_MEDIA = {
    "json": ("application/json", "json"),
    "sarif": ("application/sarif+json", "sarif"),
    "html": ("text/html; charset=utf-8", "html"),
    "cyclonedx": ("application/vnd.cyclonedx+json", "cdx.json"),
    "spdx": ("application/spdx+json", "spdx.json"),
}
_SEV_RANK = {s.value: s.rank for s in Severity}


def available_formats() -> list[str]:
    """Report formats whose renderer module is present in this build (some are optional)."""
    out = []
    for fmt in REPORT_MEDIA:
        try:
            found = fmt in FORMATS and importlib.util.find_spec(FORMATS[fmt]) is not None
        except ImportError:
            found = False
        if found:
            out.append(fmt)
    return out


def iso(value: Any) -> str | None:
    dt = as_utc(value)
    return dt.isoformat() if dt else None


def image_json(img: Image) -> dict[str, Any]:
    return {
        "id": img.id,
        "sha256": img.sha256,
        "name": img.name,
        "size": img.size,
        "vendor": img.vendor,
        "model": img.model,
        "uploaded_at": iso(img.uploaded_at),
    }


def scan_json(scan: Scan) -> dict[str, Any]:
    return {
        "id": scan.id,
        "status": scan.status,
        "stage": scan.stage,
        "error": scan.error,
        "source": scan.source,
        "attempts": scan.attempts,
        "created_at": iso(scan.created_at),
        "started_at": iso(scan.started_at),
        "finished_at": iso(scan.finished_at),
        "heartbeat_at": iso(scan.heartbeat_at),
        "worker": scan.worker_id,
        "summary": scan.summary,
        "image": image_json(scan.image),
        "links": {
            "self": f"/api/v1/scans/{scan.id}",
            "findings": f"/api/v1/scans/{scan.id}/findings",
            "components": f"/api/v1/scans/{scan.id}/components",
            "vulnerabilities": f"/api/v1/scans/{scan.id}/vulnerabilities",
            "files": f"/api/v1/scans/{scan.id}/files",
            "report": {fmt: f"/api/v1/scans/{scan.id}/report?format={fmt}" for fmt in available_formats()},
            "ui": f"/scans/{scan.id}",
        },
    }


def severity_rank(value: str | None) -> int:
    return _SEV_RANK.get(value or "", -1)


def _vuln_key(v: dict[str, Any]) -> str:
    comp = v.get("component")
    name = comp.get("name") if isinstance(comp, dict) else comp
    return f"{v.get('id') or v.get('cve') or '?'} {name or ''}".strip()


def compare_reports(a: dict[str, Any], b: dict[str, Any], *, max_files: int = 500) -> dict[str, Any]:
    """Side-by-side of two stored reports: findings by (rule, path), components by name,
    vulnerabilities by id and component, files by path and content hash."""
    fa = {(f["rule"], f["path"]): f for f in a.get("findings") or []}
    fb = {(f["rule"], f["path"]): f for f in b.get("findings") or []}
    findings = {
        "only_a": [fa[k] for k in sorted(fa.keys() - fb.keys())],
        "only_b": [fb[k] for k in sorted(fb.keys() - fa.keys())],
        "both": [
            {"a": fa[k], "b": fb[k], "same_evidence": fa[k].get("id") == fb[k].get("id")}
            for k in sorted(fa.keys() & fb.keys())
        ],
    }
    for key in ("only_a", "only_b"):
        findings[key].sort(key=lambda f: (-severity_rank(f.get("severity")), f.get("path", "")))

    ca = {c["name"]: c for c in a.get("components") or []}
    cb = {c["name"]: c for c in b.get("components") or []}
    components = {
        "only_a": [ca[n] for n in sorted(ca.keys() - cb.keys())],
        "only_b": [cb[n] for n in sorted(cb.keys() - ca.keys())],
        "changed": [
            {"name": n, "a": ca[n].get("version"), "b": cb[n].get("version")}
            for n in sorted(ca.keys() & cb.keys())
            if ca[n].get("version") != cb[n].get("version")
        ],
        "same": [
            {"name": n, "version": ca[n].get("version")}
            for n in sorted(ca.keys() & cb.keys())
            if ca[n].get("version") == cb[n].get("version")
        ],
    }
    va = {_vuln_key(v): v for v in a.get("vulnerabilities") or []}
    vb = {_vuln_key(v): v for v in b.get("vulnerabilities") or []}
    vulnerabilities = {
        "only_a": [va[k] for k in sorted(va.keys() - vb.keys())],
        "only_b": [vb[k] for k in sorted(vb.keys() - va.keys())],
        "both": sorted(va.keys() & vb.keys()),
    }
    files_a = {f["path"]: f for f in a.get("files") or []}
    files_b = {f["path"]: f for f in b.get("files") or []}
    added = sorted(files_b.keys() - files_a.keys())
    removed = sorted(files_a.keys() - files_b.keys())
    changed = [
        {
            "path": p,
            "a": {k: files_a[p].get(k) for k in ("sha256", "mode", "size", "link_target")},
            "b": {k: files_b[p].get(k) for k in ("sha256", "mode", "size", "link_target")},
        }
        for p in sorted(files_a.keys() & files_b.keys())
        if any(
            files_a[p].get(k) != files_b[p].get(k) for k in ("sha256", "mode", "uid", "gid", "link_target")
        )
    ]
    files = {
        "counts": {"added": len(added), "removed": len(removed), "changed": len(changed)},
        "added": added[:max_files],
        "removed": removed[:max_files],
        "changed": changed[:max_files],
        "truncated": max(len(added), len(removed), len(changed)) > max_files,
    }
    return {
        "a": {"image": a.get("image"), "summary": a.get("summary")},
        "b": {"image": b.get("image"), "summary": b.get("summary")},
        "findings": findings,
        "components": components,
        "vulnerabilities": vulnerabilities,
        "files": files,
    }


def file_tree(files: list[dict[str, Any]], limit: int = 20000) -> dict[str, Any]:
    """Nested {name, entry, children} from the flat file list; one tree per filesystem."""
    roots: dict[str, dict[str, Any]] = {}
    for f in files[:limit]:
        fs = f.get("fs") or "fs0"
        node = roots.setdefault(fs, {"name": fs, "entry": None, "children": {}})
        parts = [p for p in str(f.get("path", "")).split("/") if p]
        for part in parts:
            node = node["children"].setdefault(part, {"name": part, "entry": None, "children": {}})
        node["entry"] = f if parts else node["entry"]
    return {"filesystems": roots, "truncated": len(files) > limit, "total": len(files)}
