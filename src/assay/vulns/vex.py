"""CycloneDX 1.6 VEX out of a report, and analyst triage files (CycloneDX VEX) read back in.

A report vulnerability in state ``affected`` is an automatic version match, written as
analysis state ``exploitable`` ("the component is affected") with a detail saying so. An
analyst edits the file: ``not_affected`` + a justification + a detail. Later scans given it
with ``--triage`` keep the vulnerability but carry the state over; it then no longer counts
as affected. A triage entry applies to the same vulnerability id (or one of its aliases) in a
component of the same name, whatever its version: the reasons analysts give (code not
present, not reachable, needs a configuration) are about the build, not the release number.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from cyclonedx.model import XsUri
from cyclonedx.model.bom import Bom
from cyclonedx.model.bom_ref import BomRef
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.impact_analysis import ImpactAnalysisJustification, ImpactAnalysisState
from cyclonedx.model.vulnerability import (
    BomTarget,
    Vulnerability,
    VulnerabilityAnalysis,
    VulnerabilityRating,
    VulnerabilityReference,
    VulnerabilityScoreSource,
    VulnerabilitySeverity,
    VulnerabilitySource,
)
from cyclonedx.output.json import JsonV1Dot6
from packageurl import PackageURL

from assay.errors import InputError
from assay.model import AFFECTED_STATES

# Report state <-> CycloneDX analysis state.
_TO_CDX = {
    "affected": ImpactAnalysisState.EXPLOITABLE,
    "not_affected": ImpactAnalysisState.NOT_AFFECTED,
    "under_investigation": ImpactAnalysisState.IN_TRIAGE,
    "false_positive": ImpactAnalysisState.FALSE_POSITIVE,
    "resolved": ImpactAnalysisState.RESOLVED,
    "resolved_with_pedigree": ImpactAnalysisState.RESOLVED_WITH_PEDIGREE,
}
_FROM_CDX = {v.value: k for k, v in _TO_CDX.items()}
_METHOD = {
    "4.0": VulnerabilityScoreSource.CVSS_V4,
    "3.1": VulnerabilityScoreSource.CVSS_V3_1,
    "3.0": VulnerabilityScoreSource.CVSS_V3,
    "2.0": VulnerabilityScoreSource.CVSS_V2,
}
_SOURCES = {
    "nvd": ("NVD", "https://nvd.nist.gov/vuln/detail/{id}"),
    "kernel": ("Linux kernel CVE data", "https://nvd.nist.gov/vuln/detail/{id}"),
    "osv": ("OSV", "https://osv.dev/vulnerability/{id}"),
}


def component_ref(name: str, version: str | None) -> str:
    return f"component:{name}@{version or ''}"


def _component(c: dict[str, Any]) -> Component:
    purl = None
    if c.get("purl"):
        try:
            purl = PackageURL.from_string(c["purl"])
        except ValueError:
            purl = None
    return Component(
        name=c["name"],
        version=c.get("version"),
        type=ComponentType.OPERATING_SYSTEM
        if (c.get("cpe") or "").startswith("cpe:2.3:o:")
        else ComponentType.LIBRARY,
        purl=purl,
        cpe=c.get("cpe"),
        bom_ref=BomRef(component_ref(c["name"], c.get("version"))),
    )


def _vulnerability(v: dict[str, Any], ref: str | None) -> Vulnerability:
    name, url = _SOURCES.get(str(v.get("source")), _SOURCES["nvd"])
    ratings = []
    for s in v.get("scores") or ():
        if s.get("score") is None:
            continue
        ratings.append(
            VulnerabilityRating(
                source=VulnerabilitySource(name=s.get("source") or name),
                score=Decimal(str(s["score"])),
                severity=_severity(s["score"]),
                method=_METHOD.get(str(s.get("version")), VulnerabilityScoreSource.OTHER),
                vector=s.get("vector") or None,
            )
        )
    state = str(v.get("state") or "affected")
    detail = v.get("detail")
    if detail is None and state == "affected":
        detail = f"Version {v.get('version')} of {v.get('component')} matches the {v.get('source')} data; not yet analysed."
    justification = None
    if v.get("justification"):
        try:
            justification = ImpactAnalysisJustification(v["justification"])
        except ValueError:
            justification = None
    cwes = [int(c[4:]) for c in v.get("cwe") or () if str(c).startswith("CWE-") and c[4:].isdigit()]
    return Vulnerability(
        bom_ref=BomRef(f"{v['id']}|{ref or ''}"),
        id=v["id"],
        source=VulnerabilitySource(name=name, url=XsUri(url.format(id=v["id"]))),
        references=[
            VulnerabilityReference(id=a, source=VulnerabilitySource(name=_alias_source(a)))
            for a in v.get("aliases") or ()
        ],
        ratings=ratings,
        cwes=cwes,
        description=v.get("description") or None,
        analysis=VulnerabilityAnalysis(
            state=_TO_CDX.get(state, ImpactAnalysisState.IN_TRIAGE),
            justification=justification,
            detail=detail,
        ),
        affects=[BomTarget(ref=ref)] if ref else [],
    )


def _alias_source(alias: str) -> str:
    return "NVD" if alias.startswith("CVE-") else "OSV"


def _severity(score: float) -> VulnerabilitySeverity:
    from assay.vulns.scores import severity_of

    return VulnerabilitySeverity(severity_of(float(score)).replace("info", "none"))


def render_vex(report: dict[str, Any]) -> str:
    """CycloneDX 1.6 JSON: the report's components, and each vulnerability with its analysis."""
    bom = Bom()
    refs: dict[tuple[str, str | None], str] = {}
    for c in report.get("components") or ():
        key = (c["name"], c.get("version"))
        if key not in refs:
            refs[key] = component_ref(*key)
            bom.components.add(_component(c))
    for v in report.get("vulnerabilities") or ():
        name = v.get("component")
        if not isinstance(name, str) or not name:
            bom.vulnerabilities.add(_vulnerability(v, None))  # another tool's entry: no component known
            continue
        key = (name, v.get("version"))
        if key not in refs:
            refs[key] = component_ref(*key)
            bom.components.add(
                _component({"name": key[0], "version": key[1], "purl": v.get("purl"), "cpe": v.get("cpe")})
            )
        bom.vulnerabilities.add(_vulnerability(v, refs[key]))
    return str(JsonV1Dot6(bom).output_as_string(indent=2))


# -- triage ----------------------------------------------------------------------------------


def load_triage(path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """(vulnerability id, component name) -> {state, justification, detail, response}."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a readable CycloneDX VEX file: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict) or not isinstance(data.get("vulnerabilities"), list):
        raise InputError(f"{path}: not a CycloneDX VEX file (no vulnerabilities list)")
    names = {
        c.get("bom-ref"): c.get("name")
        for c in _walk_components(data.get("components") or [])
        if isinstance(c, dict) and c.get("bom-ref")
    }
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for v in data["vulnerabilities"]:
        analysis = v.get("analysis") if isinstance(v, dict) else None
        if not isinstance(analysis, dict) or analysis.get("state") not in _FROM_CDX:
            continue
        entry = {
            "state": _FROM_CDX[analysis["state"]],
            "justification": analysis.get("justification"),
            "detail": analysis.get("detail"),
            "response": analysis.get("response") or [],
        }
        ids = [v.get("id")] + [r.get("id") for r in v.get("references") or () if isinstance(r, dict)]
        for target in v.get("affects") or [{"ref": "*"}]:
            ref = target.get("ref") if isinstance(target, dict) else None
            name = names.get(ref) or _name_from_ref(str(ref or "*"))
            for vid in ids:
                if vid:
                    out[(str(vid), name)] = entry
    return out


def _walk_components(items: list[Any]) -> list[dict[str, Any]]:
    out = []
    for c in items:
        if isinstance(c, dict):
            out.append(c)
            out += _walk_components(c.get("components") or [])
    return out


def _name_from_ref(ref: str) -> str:
    """A component name from a bom-ref: Assay's own, or a purl as other tools use; else any."""
    if ref.startswith("component:"):
        return ref[len("component:") :].rsplit("@", 1)[0]
    if ref.startswith("pkg:"):
        try:
            return str(PackageURL.from_string(ref).name)
        except ValueError:
            return "*"
    return "*"


def apply_triage(vulns: list[dict[str, Any]], triage: dict[tuple[str, str], dict[str, Any]]) -> int:
    """Carry the analyst's verdicts over; returns how many vulnerabilities they changed."""
    changed = 0
    for v in vulns:
        for vid in [v["id"], *(v.get("aliases") or ())]:
            entry = triage.get((vid, v["component"])) or triage.get((vid, "*"))
            # "exploitable" without a justification is what Assay itself writes: nothing to carry.
            if entry is not None and (entry["state"] != "affected" or entry["justification"]):
                v["state"] = entry["state"]
                v["justification"] = entry["justification"]
                v["detail"] = entry["detail"]
                if entry["response"]:
                    v["response"] = entry["response"]
                v["triaged"] = True
                changed += 1
                break
    return changed


__all__ = ["AFFECTED_STATES", "apply_triage", "component_ref", "load_triage", "render_vex"]
