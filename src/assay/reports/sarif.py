"""SARIF 2.1.0: one run; findings, vulnerabilities and failed compliance clauses as results."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
ROOT_BASE = "ROOTFS"

_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
# GitHub code scanning reads this property: >=9 critical, >=7 high, >=4 medium, else low.
_SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "2.0", "info": "0.0"}


def render(report: dict[str, Any]) -> str:
    return json.dumps(to_sarif(report), indent=2, ensure_ascii=False) + "\n"


def to_sarif(report: dict[str, Any]) -> dict[str, Any]:
    rules = _Rules()
    for rule in report.get("rules", []):
        rules.add(_rule_from_check(rule))
    arts = _Artifacts({f["path"]: f.get("sha256") for f in report.get("files", []) if "path" in f})
    results = [_finding_result(f, rules, arts) for f in report.get("findings", [])]
    results += [_vulnerability_result(v, rules, arts) for v in report.get("vulnerabilities") or []]
    by_id = {f["id"]: f for f in report.get("findings", [])}
    for clause in report.get("compliance") or []:
        if clause.get("verdict") == "fail":
            results.append(_compliance_result(clause, by_id, rules, arts))

    tool = report.get("tool", {})
    image = report.get("image", {})
    driver: dict[str, Any] = {
        "name": "Assay",
        "version": str(tool.get("version", "0")),
        "rules": rules.descriptors,
    }
    if tool.get("ruleset"):
        driver["properties"] = {"ruleset": tool["ruleset"]}
    run: dict[str, Any] = {
        "tool": {"driver": driver},
        "originalUriBaseIds": {
            ROOT_BASE: {"description": {"text": "Root of the unpacked firmware filesystem."}}
        },
        "invocations": [
            {
                "executionSuccessful": True,
                "toolExecutionNotifications": [
                    {"level": "warning", "message": {"text": w}} for w in report.get("warnings", [])
                ],
            }
        ],
        "artifacts": arts.artifacts,
        "results": results,
        "properties": {
            "image": {k: image.get(k) for k in ("name", "sha256", "format", "size")},
            "reportSchema": report.get("schema"),
        },
    }
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


class _Rules:
    """reportingDescriptors in order, with the index SARIF results point at."""

    def __init__(self) -> None:
        self.descriptors: list[dict[str, Any]] = []
        self._index: dict[str, int] = {}

    def add(self, descriptor: dict[str, Any]) -> int:
        rid = descriptor["id"]
        if rid not in self._index:
            self._index[rid] = len(self.descriptors)
            self.descriptors.append(descriptor)
        return self._index[rid]

    def index(self, rid: str) -> int | None:
        return self._index.get(rid)


class _Artifacts:
    """The files results point at, each once, with the sha256 the index recorded."""

    def __init__(self, hashes: dict[str, Any]) -> None:
        self.artifacts: list[dict[str, Any]] = []
        self._index: dict[str, int] = {}
        self._hashes = hashes

    def location(self, path: str, sha256: Any = None) -> dict[str, Any]:
        if path not in self._index:
            art: dict[str, Any] = {"location": _artifact(path)}
            digest = sha256 or self._hashes.get(path)
            if isinstance(digest, str) and digest:
                art["hashes"] = {"sha-256": digest}
            self._index[path] = len(self.artifacts)
            self.artifacts.append(art)
        return {**_artifact(path), "index": self._index[path]}


def _web_links(refs: list[Any]) -> list[str]:
    return [r for r in refs if isinstance(r, str) and r.startswith(("https://", "http://"))]


def _descriptor(
    rid: str,
    short: str,
    full: str | None,
    severity: str,
    refs: list[Any],
    properties: dict[str, Any],
) -> dict[str, Any]:
    d: dict[str, Any] = {
        "id": rid,
        "shortDescription": {"text": short or rid},
        "fullDescription": {"text": full or short or rid},
        "defaultConfiguration": {"level": _LEVEL.get(severity, "warning")},
        "properties": {
            "security-severity": _SECURITY_SEVERITY.get(severity, "5.5"),
            "severity": severity,
            **{k: v for k, v in properties.items() if v is not None},
        },
    }
    links = _web_links(refs)
    if links:
        d["helpUri"] = links[0]
        d["help"] = {"text": "References: " + ", ".join(links)}
    return d


def _tags(*tags: str) -> list[str]:
    return sorted({t for t in tags if t})


def _rule_from_check(rule: dict[str, Any]) -> dict[str, Any]:
    category = rule.get("category", "")
    return _descriptor(
        rule["id"],
        rule.get("title", ""),
        rule.get("description"),
        rule.get("severity", "medium"),
        rule.get("references", []),
        {"category": category, "clause": rule.get("clause"), "tags": _tags("security", category)},
    )


def _artifact(path: str) -> dict[str, Any]:
    # A URI reference relative to the root filesystem; spaces and '%' must be escaped.
    return {"uri": quote(path.lstrip("/"), safe="/-._~!$&'()*+,;=:@"), "uriBaseId": ROOT_BASE}


def _location(
    arts: _Artifacts, path: str, ev: dict[str, Any] | None = None, loc_id: int | None = None
) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": arts.location(path, ev.get("sha256") if ev else None)}
    region: dict[str, Any] = {}
    if ev is not None:
        if isinstance(ev.get("line"), int) and ev["line"] >= 1:
            region["startLine"] = ev["line"]
        if isinstance(ev.get("offset"), int):
            region["byteOffset"] = ev["offset"]
            if isinstance(ev.get("length"), int):
                region["byteLength"] = ev["length"]
        if region and ev.get("excerpt"):
            region["snippet"] = {"text": ev["excerpt"]}
    if region:
        physical["region"] = region
    loc: dict[str, Any] = {"physicalLocation": physical}
    if loc_id is not None:
        loc["id"] = loc_id
    if ev is not None and ev.get("note"):
        loc["message"] = {"text": ev["note"]}
    return loc


def _finding_result(f: dict[str, Any], rules: _Rules, arts: _Artifacts) -> dict[str, Any]:
    severity = f.get("severity", "medium")
    idx = rules.index(f["rule"])
    if idx is None:
        idx = rules.add(
            _descriptor(
                f["rule"],
                f.get("title", ""),
                None,
                severity,
                f.get("references", []),
                {"category": f.get("category"), "clause": f.get("clause")},
            )
        )
    evidence = f.get("evidence", [])
    # The primary location is the evidence about the finding's own path; the rest are related.
    primary = next((e for e in evidence if e.get("path") == f["path"]), None)
    related = [e for e in evidence if e is not primary]
    result: dict[str, Any] = {
        "ruleId": f["rule"],
        "ruleIndex": idx,
        "level": _LEVEL.get(severity, "warning"),
        "message": {"text": f.get("title") or f["rule"]},
        "locations": [_location(arts, f["path"], primary)],
        "partialFingerprints": {"assayFindingId/v1": f["id"]},
        "properties": {
            "id": f["id"],
            "category": f.get("category"),
            "severity": severity,
            "security-severity": _SECURITY_SEVERITY.get(severity, "5.5"),
            "sha256": primary["sha256"] if primary else (evidence[0]["sha256"] if evidence else None),
            "evidence": evidence,
            "references": f.get("references", []),
        },
    }
    if f.get("clause"):
        result["properties"]["clause"] = f["clause"]
    if related:
        result["relatedLocations"] = [_location(arts, e["path"], e, i) for i, e in enumerate(related, 1)]
    return result


def _vuln_paths(v: dict[str, Any]) -> list[str]:
    paths = v.get("paths")
    if not isinstance(paths, list):
        paths = [v.get("path")]
    return [p for p in paths if isinstance(p, str) and p.startswith("/")]


def _vulnerability_result(v: dict[str, Any], rules: _Rules, arts: _Artifacts) -> dict[str, Any]:
    vid = str(v["id"])
    severity = str(v.get("severity") or "medium").lower()
    if severity not in _LEVEL:
        severity = "medium"
    summary = v.get("summary") or v.get("description") or v.get("title") or ""
    refs = v.get("references") or v.get("urls") or []
    idx = rules.add(
        _descriptor(
            vid,
            f"{vid}: {summary}" if summary else vid,
            summary or None,
            severity,
            refs if isinstance(refs, list) else [],
            {"category": "vulnerability", "tags": _tags("security", "vulnerability")},
        )
    )
    component = v.get("component") or v.get("name") or ""
    if isinstance(component, dict):
        component = component.get("name", "")
    version = v.get("version") or ""
    where = f" in {component} {version}".rstrip() if component else ""
    result: dict[str, Any] = {
        "ruleId": vid,
        "ruleIndex": idx,
        "level": _LEVEL[severity],
        "message": {"text": f"{vid}{where}" + (f": {summary}" if summary else "")},
        "partialFingerprints": {"assayVulnerability/v1": f"{vid}|{component}|{version}"},
        "properties": {"vulnerability": v},
    }
    paths = _vuln_paths(v)
    if paths:
        result["locations"] = [_location(arts, p) for p in paths]
    return result


def _compliance_result(
    clause: dict[str, Any], by_id: dict[str, dict[str, Any]], rules: _Rules, arts: _Artifacts
) -> dict[str, Any]:
    rid = f"compliance/{clause['clause']}"
    idx = rules.add(
        _descriptor(
            rid,
            f"{clause['clause']} {clause.get('title', '')}".strip(),
            None,
            "high",
            [],
            {"category": "compliance", "clause": clause["clause"], "tags": _tags("compliance")},
        )
    )
    result: dict[str, Any] = {
        "ruleId": rid,
        "ruleIndex": idx,
        "level": "error",
        "message": {"text": f"{clause['clause']} {clause.get('title', '')}: {clause.get('reason', 'fail')}"},
        "partialFingerprints": {"assayCompliance/v1": rid},
        "properties": {"verdict": "fail", "findings": clause.get("findings", [])},
    }
    # Locate the failure where its evidence points; fall back to the paths of its findings.
    seen: set[tuple[Any, Any]] = set()
    locations = []
    for ev in clause.get("evidence") or []:
        key = (ev.get("path"), ev.get("offset")) if isinstance(ev, dict) else (None, None)
        if isinstance(key[0], str) and key[0].startswith("/") and key not in seen:
            seen.add(key)
            locations.append(_location(arts, key[0], ev))
    if not locations:
        paths = sorted({by_id[i]["path"] for i in clause.get("findings", []) if i in by_id})
        locations = [_location(arts, p) for p in paths]
    if locations:
        result["locations"] = locations
    return result
