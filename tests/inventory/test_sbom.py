"""CycloneDX 1.6 and SPDX 2.3 SBOMs of a scanned image, checked by the libraries' own validators."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from spdx_tools.spdx.parser.parse_anything import parse_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from assay.pipeline import ScanOptions, scan
from assay.reports import render

DPKG_STATUS = "Package: zlib1g\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1:1.2.13.dfsg-1\n"


@pytest.fixture
def report(build_c: Callable[..., bytes], make_squashfs: Callable[..., Path]) -> dict[str, Any]:
    busybox = build_c(("BusyBox v1.36.1 (2023-06-01 10:00:00 UTC) multi-call binary.",))
    libcrypto = build_c(("OpenSSL 3.0.11 19 Sep 2023",), shared_soname="libcrypto.so.3")
    libssl = build_c("int SSL_CTX_new(void) { return 3; }\n", shared_soname="libssl.so.3")
    image = make_squashfs(
        {
            "/bin/busybox": busybox,
            "/usr/lib/libcrypto.so.3": libcrypto,
            "/usr/lib/libssl.so.3": libssl,
            "/var/lib/dpkg/status": DPKG_STATUS,
            "/lib/modules/5.15.134/modules.dep": "",
        },
        name="router fw.sqsh",
    )
    data = scan(image, ScanOptions(only_checks=["none"])).to_dict()
    assert data["image"]["sha256"] == hashlib.sha256(image.read_bytes()).hexdigest()
    return data


def test_cyclonedx_is_valid_1_6_with_hashes_cpe_and_purl(report: dict[str, Any]) -> None:
    text = render(report, "cyclonedx")
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    bom = json.loads(text)
    assert bom["specVersion"] == "1.6"
    meta = bom["metadata"]["component"]
    assert (meta["type"], meta["name"]) == ("firmware", "router fw.sqsh")
    assert meta["hashes"] == [{"alg": "SHA-256", "content": report["image"]["sha256"]}]
    comps = {c["name"]: c for c in bom["components"]}
    assert set(comps) == {"busybox", "openssl", "zlib", "linux"}
    ossl = comps["openssl"]
    assert (ossl["version"], ossl["purl"]) == ("3.0.11", "pkg:generic/openssl@3.0.11")
    assert ossl["cpe"] == "cpe:2.3:a:openssl:openssl:3.0.11:*:*:*:*:*:*:*"
    assert ossl["type"] == "library"
    hashes = next(c for c in report["components"] if c["name"] == "openssl")["hashes"]
    occurrences = {o["location"]: o for o in ossl["evidence"]["occurrences"]}
    assert set(occurrences) == {"/usr/lib/libcrypto.so.3", "/usr/lib/libssl.so.3"}
    for path, sha in hashes.items():
        assert occurrences[path]["additionalContext"] == f"sha256:{sha}"
    techniques = {m["technique"] for m in ossl["evidence"]["identity"][0]["methods"]}
    assert techniques == {"binary-analysis"}
    assert comps["busybox"]["hashes"][0]["alg"] == "SHA-256"
    assert comps["zlib"]["purl"].startswith("pkg:deb/debian/zlib1g@")
    assert comps["linux"]["type"] == "operating-system"
    deps = {d["ref"]: d.get("dependsOn", []) for d in bom["dependencies"]}
    assert sorted(deps["image"]) == sorted(c["bom-ref"] for c in bom["components"])


def test_spdx_is_valid_2_3_and_describes_the_image(report: dict[str, Any], tmp_path: Path) -> None:
    text = render(report, "spdx")
    path = tmp_path / "sbom.spdx.json"
    path.write_text(text)
    doc = parse_file(str(path))
    assert validate_full_spdx_document(doc) == []

    data = json.loads(text)
    assert data["spdxVersion"] == "SPDX-2.3"
    packages = {p["SPDXID"]: p for p in data["packages"]}
    (described,) = data["documentDescribes"]
    image = packages[described]
    assert image["checksums"] == [{"algorithm": "SHA256", "checksumValue": report["image"]["sha256"]}]
    assert image["primaryPackagePurpose"] == "FIRMWARE"
    contains = [(r["spdxElementId"], r["relatedSpdxElement"]) for r in data["relationships"]]
    contains = [
        pair
        for pair, r in zip(contains, data["relationships"], strict=True)
        if r["relationshipType"] == "CONTAINS"
    ]
    (ossl_id,) = [i for i, p in packages.items() if p["name"] == "openssl"]
    ossl = packages[ossl_id]
    refs = {r["referenceType"]: r["referenceLocator"] for r in ossl["externalRefs"]}
    assert refs == {
        "cpe23Type": "cpe:2.3:a:openssl:openssl:3.0.11:*:*:*:*:*:*:*",
        "purl": "pkg:generic/openssl@3.0.11",
    }
    assert (described, ossl_id) in contains
    files = {packages[b]["name"]: packages[b] for a, b in contains if a == ossl_id}
    hashes = next(c for c in report["components"] if c["name"] == "openssl")["hashes"]
    assert {n: f["checksums"][0]["checksumValue"] for n, f in files.items()} == hashes
    assert all(f["primaryPackagePurpose"] == "FILE" for f in files.values())


def test_sbom_of_a_report_without_components_or_image_hash() -> None:
    empty = {"schema": "x", "image": {"name": "rootfs", "sha256": None}, "components": [], "findings": []}
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(render(empty, "cyclonedx")) is None
    data = json.loads(render(empty, "spdx"))
    assert [p["name"] for p in data["packages"]] == ["rootfs"]


def test_sbom_is_a_pure_function_of_the_report(
    report: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    for fmt, time_of in (
        ("cyclonedx", lambda d: d["metadata"]["timestamp"]),
        ("spdx", lambda d: d["creationInfo"]["created"]),
    ):
        monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
        first = render(report, fmt)
        assert render(json.loads(json.dumps(report)), fmt) == first
        assert render(dict(report, components=report["components"][1:]), fmt) != first
        monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
        assert time_of(json.loads(render(report, fmt))).startswith("2023-11-14T22:13:20")
