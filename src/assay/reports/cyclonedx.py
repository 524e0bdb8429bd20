"""CycloneDX 1.6 JSON SBOM of a report's components, built with cyclonedx-python-lib.

metadata.component is the firmware image (with its sha256); every identified component
depends from it. A component carries its PURL and CPE, the sha256 of each of its files (an
evidence occurrence per path, and the component hash when it is one file) and how its version
was found (evidence identity: technique, confidence and the matched string).
Vulnerabilities are not written here: `assay.vulns.vex` renders those (--vex). The output is
a pure function of the report (see `assay.inventory.sbom`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from cyclonedx.model import HashAlgorithm, HashType, Property
from cyclonedx.model.bom import Bom
from cyclonedx.model.bom_ref import BomRef
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.component_evidence import (
    AnalysisTechnique,
    ComponentEvidence,
    Identity,
    IdentityField,
    Method,
    Occurrence,
)
from cyclonedx.output.json import JsonV1Dot6
from packageurl import PackageURL

from assay.inventory.sbom import created, document_uuid

# report evidence source -> (technique, confidence)
_TECHNIQUE = {
    "package-db": (AnalysisTechnique.MANIFEST_ANALYSIS, Decimal("1")),
    "binary-string": (AnalysisTechnique.BINARY_ANALYSIS, Decimal("0.9")),
    "version-file": (AnalysisTechnique.MANIFEST_ANALYSIS, Decimal("0.8")),
    "sibling": (AnalysisTechnique.BINARY_ANALYSIS, Decimal("0.6")),
    "module-directory": (AnalysisTechnique.FILENAME, Decimal("0.7")),
    "filename": (AnalysisTechnique.FILENAME, Decimal("0.5")),
}
_OTHER = (AnalysisTechnique.OTHER, Decimal("0.3"))


def render(report: dict[str, Any]) -> str:
    bom = Bom(serial_number=document_uuid(report))
    # The library stamps "now"; an unknown time is left out instead (the field is optional).
    bom.metadata.timestamp = created(report)  # type: ignore[assignment]
    tool = report.get("tool") or {}
    bom.metadata.tools.components.add(
        Component(type=ComponentType.APPLICATION, name="assay", version=tool.get("version"))
    )
    image = _image(report.get("image") or {})
    bom.metadata.component = image
    refs: set[str] = set()
    members = []
    for c in report.get("components") or ():
        comp = _component(c, refs)
        bom.components.add(comp)
        members.append(comp)
    bom.register_dependency(image, members)
    return str(JsonV1Dot6(bom).output_as_string(indent=2))


def _image(image: dict[str, Any]) -> Component:
    sha = image.get("sha256")
    props = [
        Property(name=f"assay:image:{k}", value=str(image[k])) for k in ("format", "size") if image.get(k)
    ]
    return Component(
        type=ComponentType.FIRMWARE,
        name=str(image.get("name") or "firmware"),
        bom_ref=BomRef("image"),
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=sha)] if sha else None,
        properties=props,
    )


def _component(c: dict[str, Any], refs: set[str]) -> Component:
    name, version = str(c["name"]), c.get("version")
    ref = f"component:{name}@{version or ''}"
    n = 1
    while ref in refs:  # a hand-edited report may repeat a (name, version)
        n += 1
        ref = f"component:{name}@{version or ''}#{n}"
    refs.add(ref)
    cpe = c.get("cpe")
    hashes: dict[str, str] = dict(c.get("hashes") or {})
    paths = sorted(set(c.get("paths") or ()) | set(hashes))
    return Component(
        type=_type(cpe, paths),
        name=name,
        version=version,
        bom_ref=BomRef(ref),
        purl=_purl(c.get("purl")),
        cpe=cpe,
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=hashes[paths[0]])]
        if len(paths) == 1 and paths[0] in hashes
        else None,
        evidence=_evidence(c, ref, paths, hashes),
    )


def _type(cpe: str | None, paths: list[str]) -> ComponentType:
    if (cpe or "").startswith("cpe:2.3:o:"):
        return ComponentType.OPERATING_SYSTEM
    if paths and all(".so" in p.rsplit("/", 1)[-1] for p in paths):
        return ComponentType.LIBRARY
    return ComponentType.APPLICATION


def _purl(text: str | None) -> PackageURL | None:
    if not text:
        return None
    try:
        return PackageURL.from_string(text)
    except ValueError:
        return None


def _evidence(
    c: dict[str, Any], ref: str, paths: list[str], hashes: dict[str, str]
) -> ComponentEvidence | None:
    version_evidence = [e for e in c.get("evidence") or () if isinstance(e, dict) and e.get("path")]
    offsets = {e["path"]: e.get("offset") for e in version_evidence}
    occurrences = []
    for path in sorted(set(paths) | set(offsets)):
        sha = hashes.get(path)
        occurrences.append(
            Occurrence(
                # Without a ref the library cannot order occurrences, and the output would vary.
                bom_ref=BomRef(f"{ref}|{path}"),
                location=path,
                offset=offsets.get(path),
                additional_context=f"sha256:{sha}" if sha else None,
            )
        )
    identity = None
    if c.get("version") and version_evidence:
        methods = []
        for e in version_evidence:
            technique, confidence = _TECHNIQUE.get(str(e.get("source")), _OTHER)
            value = f"{e['path']}: {e.get('match', '')}"
            methods.append(Method(technique=technique, confidence=confidence, value=value))
        identity = [
            Identity(
                field=IdentityField.VERSION,
                confidence=max(m.confidence for m in methods),
                concluded_value=str(c["version"]),
                methods=methods,
            )
        ]
    if not occurrences and identity is None:
        return None
    return ComponentEvidence(identity=identity, occurrences=occurrences)


__all__ = ["render"]
