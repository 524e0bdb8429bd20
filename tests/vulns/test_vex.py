"""CycloneDX VEX out of a report (validated by cyclonedx's strict validator) and triage back in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from vuln_helpers import component

from assay.errors import InputError
from assay.vulns import check_components
from assay.vulns.vex import load_triage, render_vex


def _report(vulns: list[dict[str, Any]]) -> dict[str, Any]:
    comps = {(v["component"], v["version"]): v for v in vulns}
    return {
        "components": [
            {"name": n, "version": ver, "purl": v["purl"], "cpe": v["cpe"], "paths": v["paths"]}
            for (n, ver), v in comps.items()
        ],
        "vulnerabilities": vulns,
    }


@pytest.fixture
def found(sample_db: Path) -> list[dict[str, Any]]:
    comps = [
        component("busybox", "1.30.1", purl="pkg:generic/busybox@1.30.1"),
        component("linux", "5.10.120", cpe="cpe:2.3:o:linux:linux_kernel:5.10.120:*:*:*:*:*:*:*"),
        component("openssl", "3.0.11-1~deb12u1", purl="pkg:deb/debian/openssl@3.0.11-1~deb12u1"),
    ]
    vulns, _ = check_components(comps, sample_db)
    assert len(vulns) >= 4
    return vulns


def test_vex_is_valid_cyclonedx_1_6(found: list[dict[str, Any]]) -> None:
    text = render_vex(_report(found))
    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    assert errors is None, errors
    vex = json.loads(text)
    assert vex["specVersion"] == "1.6"
    refs = {c["bom-ref"] for c in vex["components"]}
    by_id = {v["id"]: v for v in vex["vulnerabilities"]}
    bb = by_id["CVE-2099-1001"]
    assert bb["affects"] == [{"ref": "component:busybox@1.30.1"}] and bb["affects"][0]["ref"] in refs
    assert bb["analysis"]["state"] == "exploitable"
    assert {"method": "CVSSv31", "score": 9.8, "severity": "critical"}.items() <= bb["ratings"][0].items()
    assert bb["cwes"] == [787]
    assert by_id["DEBIAN-CVE-2099-2001"]["references"][0]["id"] == "CVE-2099-2001"
    assert by_id["CVE-2099-3002"].get("ratings", []) == []  # no score known: none invented


def test_triage_round_trip(tmp_path: Path, sample_db: Path, found: list[dict[str, Any]]) -> None:
    vex = json.loads(render_vex(_report(found)))
    for v in vex["vulnerabilities"]:
        if v["id"] == "CVE-2099-1001":
            v["analysis"] = {
                "state": "not_affected",
                "justification": "code_not_reachable",
                "detail": "ash is not reachable: no shell is exposed",
            }
        if v["id"] == "CVE-2099-2001" or v["id"] == "DEBIAN-CVE-2099-2001":
            v["analysis"] = {"state": "false_positive", "detail": "backported"}
    triage = tmp_path / "triage.cdx.json"
    triage.write_text(json.dumps(vex))
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(triage.read_text()) is None

    comps = [
        # a later scan: same component, another version still in range
        component("busybox", "1.31.0"),
        component("linux", "5.10.120", cpe="cpe:2.3:o:linux:linux_kernel:5.10.120:*:*:*:*:*:*:*"),
        component("openssl", "3.0.11-1~deb12u1", purl="pkg:deb/debian/openssl@3.0.11-1~deb12u1"),
    ]
    before, stats_before = check_components(comps, sample_db)
    after, stats = check_components(comps, sample_db, triage)
    assert len(after) == len(before)  # triaged vulnerabilities stay in the report
    bb = next(v for v in after if v["id"] == "CVE-2099-1001")
    assert (bb["state"], bb["justification"]) == ("not_affected", "code_not_reachable")
    assert bb["detail"] == "ash is not reachable: no shell is exposed" and bb["triaged"] is True
    assert next(v for v in after if v["id"] == "DEBIAN-CVE-2099-2001")["state"] == "false_positive"
    assert stats["triaged"] == 2
    assert stats["affected"] == stats_before["affected"] - 2
    assert stats["by_state"]["not_affected"] == 1
    # and the state survives into the next VEX
    again = {v["id"]: v for v in json.loads(render_vex(_report(after)))["vulnerabilities"]}
    assert again["CVE-2099-1001"]["analysis"]["state"] == "not_affected"
    assert again["CVE-2099-1001"]["analysis"]["justification"] == "code_not_reachable"


def test_triage_of_another_component_does_not_apply(tmp_path: Path, sample_db: Path) -> None:
    triage = tmp_path / "t.json"
    triage.write_text(
        json.dumps(
            {
                "bomFormat": "CycloneDX",
                "specVersion": "1.6",
                "components": [{"type": "library", "name": "other", "bom-ref": "x"}],
                "vulnerabilities": [
                    {"id": "CVE-2099-1001", "analysis": {"state": "not_affected"}, "affects": [{"ref": "x"}]}
                ],
            }
        )
    )
    vulns, stats = check_components([component("busybox", "1.30.1")], sample_db, triage)
    assert vulns[0]["state"] == "affected" and stats["triaged"] == 0
    # other tools' VEX name components by purl
    doc = json.loads(triage.read_text())
    doc["vulnerabilities"][0]["affects"] = [{"ref": "pkg:generic/busybox@1.30.1"}]
    triage.write_text(json.dumps(doc))
    vulns, stats = check_components([component("busybox", "1.30.1")], sample_db, triage)
    assert vulns[0]["state"] == "not_affected" and stats["triaged"] == 1


def test_bad_triage_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(InputError, match="not a readable CycloneDX VEX"):
        load_triage(bad)
    bad.write_text('{"bomFormat": "CycloneDX"}')
    with pytest.raises(InputError, match="no vulnerabilities list"):
        load_triage(bad)


def test_vex_of_minimal_entries_from_other_tools() -> None:
    text = render_vex(
        {"components": [], "vulnerabilities": [{"id": "CVE-2099-0001"}, {"id": "X-1", "component": "zlib"}]}
    )
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    vex = json.loads(text)
    assert [c["name"] for c in vex["components"]] == ["zlib"]
    by_id = {v["id"]: v for v in vex["vulnerabilities"]}
    assert "affects" not in by_id["CVE-2099-0001"] and by_id["X-1"]["affects"] == [{"ref": "component:zlib@"}]
