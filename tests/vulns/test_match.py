"""Matching on the sample database: each range operator, exact criteria, AND/running-on, negate,
aliases, OSV ranges and version lists, kernel stable-branch fixes, KEV, no version."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from vuln_helpers import component

from assay.model import Component
from assay.vulns.cpe import parse_cpe
from assay.vulns.db import VulnDB
from assay.vulns.match import cpe_match_holds, match_components

CPE = "cpe:2.3:{part}:{vendor}:{product}:{version}:*:*:*:*:*:*:*"


def cpe(vendor: str, product: str, version: str, part: str = "a") -> str:
    return CPE.format(part=part, vendor=vendor, product=product, version=version)


def matched(db_path: Path, *components: Component) -> dict[tuple[str, str], dict[str, Any]]:
    with VulnDB(db_path) as db:
        result = match_components(db, list(components))
    return {(v["id"], str(v["version"])): v for v in result.vulnerabilities}


def ids(db_path: Path, *components: Component) -> set[str]:
    return {vid for vid, _ in matched(db_path, *components)}


@pytest.mark.parametrize(
    ("version", "hit"),
    [("1.34.1", True), ("1.34.1-r5", True), ("1.35.0", False), ("1.36.1", False), ("1.1.0", True)],
)
def test_version_end_excluding(sample_db: Path, version: str, hit: bool) -> None:
    # CVE-2099-1001 was re-analysed in the newer feed: before 1.35.0 (was 1.36.0).
    c = component("busybox", version, cpe=cpe("busybox", "busybox", version))
    assert ("CVE-2099-1001" in ids(sample_db, c)) is hit


@pytest.mark.parametrize(
    ("version", "hit"),
    [("1.0.1u", False), ("1.0.2", True), ("1.0.2k", True), ("1.0.2l", False), ("1.1.1", False)],
)
def test_version_start_and_end_including(sample_db: Path, version: str, hit: bool) -> None:
    assert ("CVE-2099-1002" in ids(sample_db, component("openssl", version))) is hit


@pytest.mark.parametrize(
    ("version", "hit"), [("2020.79", False), ("2020.80", True), ("2022.82", True), ("2022.83", False)]
)
def test_version_start_and_end_excluding(sample_db: Path, version: str, hit: bool) -> None:
    # found by name: the alias data gives dropbear's NVD vendor:product
    assert ("CVE-2099-1003" in ids(sample_db, component("dropbear", version))) is hit


def test_exact_version_criteria_with_update_field(sample_db: Path) -> None:
    assert "CVE-2099-1004" in ids(sample_db, component("openssh", "9.2p1"))  # criteria 9.2 + update p1
    assert "CVE-2099-1004" not in ids(sample_db, component("openssh", "9.2p2"))
    assert "CVE-2099-1004" not in ids(sample_db, component("openssh", "9.2"))
    assert "CVE-2099-1011" in ids(sample_db, component("openssl", "1.0.2k"))  # exact letter release
    assert "CVE-2099-1011" not in ids(sample_db, component("openssl", "1.0.2l"))


def test_running_on_configuration_matches_the_application_and_notes_the_platform(sample_db: Path) -> None:
    hits = matched(sample_db, component("dnsmasq", "2.85", cpe=cpe("thekelleys", "dnsmasq", "2.85")))
    v = hits[("CVE-2099-1005", "2.85")]
    assert v["match"]["versionEndIncluding"] == "2.89"
    assert v["match"]["platforms"] == ["cpe:2.3:h:examplevendor:router_x1:-:*:*:*:*:*:*:*"]
    assert "CVE-2099-1005" not in ids(sample_db, component("dnsmasq", "2.90"))


def test_negated_node(sample_db: Path) -> None:
    curl = component("libcurl", "7.88.1", cpe=cpe("haxx", "libcurl", "7.88.1"))
    # "libcurl < 8.0.0 AND NOT zlib 1.2.13": holds without that zlib, not with it
    assert "CVE-2099-1006" in ids(sample_db, curl)
    assert "CVE-2099-1006" in ids(sample_db, curl, component("zlib", "1.3"))
    assert "CVE-2099-1006" not in ids(sample_db, curl, component("zlib", "1.2.13"))


def test_aliases_between_vendor_products(sample_db: Path) -> None:
    # NVD files the zlib CVE under gnu:zlib, the component says zlib:zlib
    assert "CVE-2099-1007" in ids(sample_db, component("zlib", "1.2.13", cpe=cpe("zlib", "zlib", "1.2.13")))
    assert "CVE-2099-1007" in ids(sample_db, component("zlib", "1:1.2.13.dfsg-1"))
    # the curl CVE is under haxx:curl; libcurl (haxx:libcurl) shares it
    assert "CVE-2099-1008" in ids(
        sample_db, component("libcurl", "8.3.0", cpe=cpe("haxx", "libcurl", "8.3.0"))
    )
    assert "CVE-2099-1008" not in ids(sample_db, component("libcurl", "8.4.0"))
    # another vendor's product of no alias group never matches
    assert ids(sample_db, component("otherproduct", "1.0")) == set()


def test_component_without_version_matches_nothing_and_is_counted(sample_db: Path) -> None:
    with VulnDB(sample_db) as db:
        result = match_components(db, [component("busybox", None), component("dnsmasq", "")])
    assert result.vulnerabilities == []
    assert {u["component"] for u in result.stats["unknown_version"]} == {"busybox", "dnsmasq"}
    assert (
        next(u for u in result.stats["unknown_version"] if u["component"] == "busybox")["cves_naming_product"]
        == 1
    )


def test_scores_cwe_kev_and_references(sample_db: Path) -> None:
    hits = matched(
        sample_db,
        component("busybox", "1.30.1"),
        component("curl", "8.0.1", cpe=cpe("haxx", "curl", "8.0.1")),
    )
    bb = hits[("CVE-2099-1001", "1.30.1")]
    assert bb["kev"] is True and bb["kev_date_added"] == "2024-05-10"
    assert bb["cvss"] == {
        "version": "3.1",
        "score": 9.8,
        "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    }
    assert bb["severity"] == "critical" and bb["cwe"] == ["CWE-787"] and bb["source"] == "nvd"
    assert bb["references"] == ["https://example.org/advisories/CVE-2099-1001"]
    assert bb["paths"] == ["/usr/lib/busybox"] and bb["state"] == "affected"
    curl = hits[("CVE-2099-1008", "8.0.1")]
    assert curl["kev"] is False
    # v4 from a CNA (secondary) and v3.1 from NVD (primary): both kept, the primary stands
    assert {(s["version"], s["score"]) for s in curl["scores"]} == {("4.0", 9.3), ("3.1", 9.8)}
    assert curl["cvss"]["version"] == "3.1"


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        # stable fix 5.10.150 -> affected; 5.10.100 -> fixed; no 5.10 fix for 3002 but mainline 5.11-rc1
        ("5.10.120", {"CVE-2099-1009", "CVE-2099-3002"}),
        ("5.10.99", {"CVE-2099-1009", "CVE-2099-3001", "CVE-2099-3002"}),
        ("5.10.150", {"CVE-2099-3002"}),
        # 3004 was introduced in 5.12-rc1 and fixed in mainline 6.1-rc3
        ("5.15.10", {"CVE-2099-1009", "CVE-2099-3004"}),
        ("6.1.5", set()),
    ],
)
def test_kernel_stable_branch_fixes(sample_db: Path, version: str, expected: set[str]) -> None:
    kernel = component("linux", version, cpe=cpe("linux", "linux_kernel", version, part="o"))
    with VulnDB(sample_db) as db:
        result = match_components(db, [kernel])
    found = {v["id"] for v in result.vulnerabilities}
    assert found == expected
    for v in result.vulnerabilities:
        assert v["source"] == "kernel"
        assert v["match"]["branch"] in (f"stable {version.rsplit('.', 1)[0]}", "mainline")
    # 3003 (a 4.14 fix only) and 3005 (no fix known) cannot be decided for these branches
    assert result.stats["kernel_undecided"][version] >= 2


def test_kernel_entry_takes_nvd_metadata(sample_db: Path) -> None:
    hits = matched(
        sample_db, component("linux", "5.10.120", cpe=cpe("linux", "linux_kernel", "5.10.120", "o"))
    )
    v = hits[("CVE-2099-1009", "5.10.120")]
    assert v["severity"] == "high" and v["cwe"] == ["CWE-416"]
    assert v["match"] == {"branch": "stable 5.10", "fixed": "5.10.150"}
    assert hits[("CVE-2099-3002", "5.10.120")]["severity"] == "unknown"  # no score anywhere


def test_osv_ranges_and_versions(sample_db: Path) -> None:
    def osv_ids(c: Component) -> set[str]:
        return {i for i in ids(sample_db, c) if not i.startswith("CVE-")}

    # introduced 1.4.50 / last_affected 1.4.59, introduced 1.4.64 / fixed 1.4.70
    for version, hit in [
        ("1.4.49", False),
        ("1.4.50", True),
        ("1.4.59", True),
        ("1.4.60", False),
        ("1.4.64", True),
        ("1.4.69", True),
        ("1.4.70", False),
    ]:
        assert ("OSV-2099-0002" in osv_ids(component("lighttpd", version))) is hit, version
    assert osv_ids(component("dnsmasq", "2.86")) == {"OSV-2099-0003"}  # listed; the withdrawn one is gone
    assert osv_ids(component("dnsmasq", "2.88")) == set()


def test_osv_ecosystem_from_purl(sample_db: Path) -> None:
    deb = component("openssl", "3.0.11-1~deb12u1", purl="pkg:deb/debian/openssl@3.0.11-1~deb12u1?arch=armel")
    hits = matched(sample_db, deb)
    v = hits[("DEBIAN-CVE-2099-2001", "3.0.11-1~deb12u1")]
    assert v["aliases"] == ["CVE-2099-2001"] and v["source"] == "osv"
    assert v["cvss"]["score"] == 5.9 and v["severity"] == "medium"
    fixed = component("openssl", "3.0.11-1~deb12u2", purl="pkg:deb/debian/openssl@3.0.11-1~deb12u2")
    assert "DEBIAN-CVE-2099-2001" not in ids(sample_db, fixed)
    # a binary-string openssl (generic purl) is not judged by Debian's package versions
    assert "DEBIAN-CVE-2099-2001" not in ids(sample_db, component("openssl", "3.0.11"))


def test_cpe_match_holds_table() -> None:
    any_version = parse_cpe(cpe("busybox", "busybox", "*"))
    na = parse_cpe(cpe("busybox", "busybox", "-"))
    assert any_version is not None and na is not None
    assert cpe_match_holds(any_version, {}, "1.0")
    assert not cpe_match_holds(any_version, {}, None)
    assert not cpe_match_holds(na, {}, "1.0")
    escaped = parse_cpe(r"cpe:2.3:a:w1.fi:hostapd:2.10\:beta:*:*:*:*:*:*:*")
    assert escaped is not None and escaped.version == "2.10:beta"


def test_same_component_in_two_places_is_one_entry(sample_db: Path) -> None:
    a = Component("busybox", "1.30.1", None, None, ["/bin/busybox"])
    b = Component("busybox", "1.30.1", None, None, ["/rescue/busybox"])
    with VulnDB(sample_db) as db:
        found = [v for v in match_components(db, [a, b]).vulnerabilities if v["id"] == "CVE-2099-1001"]
    assert len(found) == 1 and found[0]["paths"] == ["/bin/busybox", "/rescue/busybox"]
