"""SPDX 2.3 JSON SBOM of a report's components, built and validated with spdx-tools.

The document describes the firmware image (a package with its sha256), which CONTAINS one
package per component (version, CPE and PURL as external references). SPDX File elements
need a SHA1 the report does not hold, so each file of a component is a package with the
purpose FILE and its sha256, CONTAINED by the component.
"""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime
from typing import Any

from spdx_tools.spdx.model import (
    Actor,
    ActorType,
    Checksum,
    ChecksumAlgorithm,
    CreationInfo,
    Document,
    ExternalPackageRef,
    ExternalPackageRefCategory,
    Package,
    PackagePurpose,
    Relationship,
    RelationshipType,
    SpdxNoAssertion,
)
from spdx_tools.spdx.writer.json.json_writer import write_document_to_stream

from assay.inventory.sbom import created, document_uuid

_NAMESPACE = "https://assay.dev/spdx"
_UNKNOWN_TIME = (
    "Rendered from a report that records no time; SPDX requires one, so this is the Unix epoch. "
    "Set SOURCE_DATE_EPOCH to state it."
)


def render(report: dict[str, Any]) -> str:
    image = report.get("image") or {}
    tool = report.get("tool") or {}
    name = str(image.get("name") or "firmware")
    when = created(report)
    doc = Document(
        CreationInfo(
            spdx_version="SPDX-2.3",
            spdx_id="SPDXRef-DOCUMENT",
            name=f"assay SBOM of {name}",
            document_namespace=f"{_NAMESPACE}/{_id_part(name)}-{document_uuid(report)}",
            creators=[Actor(ActorType.TOOL, f"assay-{tool.get('version') or 'unknown'}")],
            created=when or datetime.fromtimestamp(0, UTC),
            creator_comment=None if when else _UNKNOWN_TIME,
        )
    )
    root = Package(
        spdx_id="SPDXRef-Image",
        name=name,
        download_location=SpdxNoAssertion(),
        files_analyzed=False,
        checksums=[Checksum(ChecksumAlgorithm.SHA256, image["sha256"])] if image.get("sha256") else [],
        primary_package_purpose=PackagePurpose.FIRMWARE,
    )
    doc.packages.append(root)
    doc.relationships.append(Relationship("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, root.spdx_id))
    files: dict[str, str] = {}  # path -> SPDX id, each file once even if two components claim it
    for n, c in enumerate(report.get("components") or (), 1):
        pkg = _package(c, f"SPDXRef-Package-{n}-{_id_part(str(c['name']))}")
        doc.packages.append(pkg)
        doc.relationships.append(Relationship(root.spdx_id, RelationshipType.CONTAINS, pkg.spdx_id))
        hashes: dict[str, str] = dict(c.get("hashes") or {})
        for path in sorted(set(c.get("paths") or ()) | set(hashes)):
            if path not in files:
                files[path] = f"SPDXRef-File-{len(files) + 1}"
                doc.packages.append(_file(path, files[path], hashes.get(path)))
            doc.relationships.append(Relationship(pkg.spdx_id, RelationshipType.CONTAINS, files[path]))
    out = io.StringIO()
    write_document_to_stream(doc, out, validate=True)
    # spdx-tools writes only the DESCRIBES relationship; older readers look for this field.
    data = json.loads(out.getvalue())
    data["documentDescribes"] = [root.spdx_id]
    return json.dumps(data, indent=2)


def _package(c: dict[str, Any], spdx_id: str) -> Package:
    refs = []
    if c.get("cpe"):
        refs.append(ExternalPackageRef(ExternalPackageRefCategory.SECURITY, "cpe23Type", c["cpe"]))
    if c.get("purl"):
        refs.append(ExternalPackageRef(ExternalPackageRefCategory.PACKAGE_MANAGER, "purl", c["purl"]))
    found = sorted({f"{e.get('source')}: {e.get('path')}: {e.get('match')}" for e in c.get("evidence") or ()})
    return Package(
        spdx_id=spdx_id,
        name=str(c["name"]),
        version=c.get("version") or None,
        download_location=SpdxNoAssertion(),
        files_analyzed=False,
        external_references=refs,
        primary_package_purpose=_purpose(c),
        comment=("Version evidence: " + "; ".join(found)) if found else None,
    )


def _purpose(c: dict[str, Any]) -> PackagePurpose:
    if str(c.get("cpe") or "").startswith("cpe:2.3:o:"):
        return PackagePurpose.OPERATING_SYSTEM
    paths = c.get("paths") or ()
    if paths and all(".so" in p.rsplit("/", 1)[-1] for p in paths):
        return PackagePurpose.LIBRARY
    return PackagePurpose.APPLICATION


def _file(path: str, spdx_id: str, sha256: str | None) -> Package:
    return Package(
        spdx_id=spdx_id,
        name=path,
        file_name=path,
        download_location=SpdxNoAssertion(),
        files_analyzed=False,
        checksums=[Checksum(ChecksumAlgorithm.SHA256, sha256)] if sha256 else [],
        primary_package_purpose=PackagePurpose.FILE,
    )


def _id_part(text: str) -> str:
    # SPDX ids and our namespace path allow letters, digits, '.' and '-' only.
    return re.sub(r"[^A-Za-z0-9.-]+", "-", text).strip("-") or "x"


__all__ = ["render"]
