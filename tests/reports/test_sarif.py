from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

import pytest
from jsonschema import Draft4Validator

from assay.reports import render
from assay.reports.sarif import to_sarif


def _valid(sarif: dict[str, Any], schema: dict[str, Any]) -> None:
    errors = sorted(Draft4Validator(schema).iter_errors(sarif), key=lambda e: list(map(str, e.path)))
    assert not errors, [f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors[:5]]


def test_schema_is_the_official_one(sarif_schema: dict[str, Any]) -> None:
    Draft4Validator.check_schema(sarif_schema)
    assert sarif_schema["id"].startswith("https://docs.oasis-open.org/sarif/sarif/v2.1.0/")
    assert "reportingDescriptor" in sarif_schema["definitions"]


def test_full_report_is_valid_sarif(rich_report: dict[str, Any], sarif_schema: dict[str, Any]) -> None:
    sarif = json.loads(render(rich_report, "sarif"))
    _valid(sarif, sarif_schema)
    assert sarif["version"] == "2.1.0"
    assert len(sarif["runs"]) == 1


def test_empty_report_is_valid_sarif(report_factory: Any, sarif_schema: dict[str, Any]) -> None:
    report = report_factory(compliance=False, vulnerabilities=False)
    report["findings"], report["rules"], report["warnings"] = [], [], []
    sarif = to_sarif(report)
    _valid(sarif, sarif_schema)
    assert sarif["runs"][0]["results"] == []


def test_rules_come_from_report_rules(rich_report: dict[str, Any]) -> None:
    driver = to_sarif(rich_report)["runs"][0]["tool"]["driver"]
    assert driver["name"] == "Assay"
    assert driver["version"] == rich_report["tool"]["version"]
    rules = {r["id"]: r for r in driver["rules"]}
    cred = rules["test-default-credential"]
    assert cred["shortDescription"]["text"] == "Default password"
    assert cred["fullDescription"]["text"].startswith("An account has a password")
    assert cred["helpUri"] == "https://cwe.mitre.org/data/definitions/1392.html"
    assert cred["properties"]["category"] == "default-credential"
    assert cred["properties"]["clause"] == "4.2.3.4.2.1"
    assert cred["properties"]["security-severity"] == "9.5"
    # A non-web reference never becomes a link.
    assert "javascript:" not in json.dumps(cred.get("help", {}))
    assert "helpUri" not in rules["test-setuid"]


def test_results_map_findings(rich_report: dict[str, Any]) -> None:
    run = to_sarif(rich_report)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    by_rule = {r["ruleId"]: r for r in run["results"]}
    for f in rich_report["findings"]:
        res = by_rule[f["rule"]]
        assert rules[res["ruleIndex"]]["id"] == f["rule"]
        assert res["partialFingerprints"]["assayFindingId/v1"] == f["id"]
        assert res["message"]["text"] == f["title"]
        loc = res["locations"][0]["physicalLocation"]["artifactLocation"]
        assert loc["uriBaseId"] == "ROOTFS"
        assert "/" + unquote(loc["uri"]) == f["path"]
        assert res["properties"]["evidence"] == f["evidence"]
        assert res["properties"]["sha256"] == f["evidence"][0]["sha256"]
    levels = {r["ruleId"]: r["level"] for r in run["results"]}
    assert levels["test-default-credential"] == "error"
    assert levels["test-remote-shell"] == "error"
    assert levels["test-setuid"] == "warning"
    assert levels["test-hostile"] == "note"


def test_regions_carry_offsets_and_lines(rich_report: dict[str, Any]) -> None:
    run = to_sarif(rich_report)["runs"][0]
    shell = next(r for r in run["results"] if r["ruleId"] == "test-remote-shell")
    ev = next(f for f in rich_report["findings"] if f["rule"] == "test-remote-shell")["evidence"]
    region = shell["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] == ev[0]["line"] == 3
    assert region["byteOffset"] == ev[0]["offset"]
    assert region["byteLength"] == ev[0]["length"]
    assert region["snippet"]["text"] == "telnetd -l /bin/sh"
    # The second piece of evidence is a related location without a byte region.
    related = shell["relatedLocations"][0]
    assert related["physicalLocation"]["artifactLocation"]["uri"] == "bin/helper"
    assert "region" not in related["physicalLocation"]
    assert related["message"]["text"] == "the shell it serves"


def test_hostile_paths_become_uri_references(
    rich_report: dict[str, Any], sarif_schema: dict[str, Any]
) -> None:
    f = rich_report["findings"][0]
    f["path"] = f["evidence"][0]["path"] = "/www/cgi bin/100%<x>.sh"
    run = to_sarif(rich_report)["runs"][0]
    uri = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert " " not in uri and "<" not in uri
    assert unquote(uri) == "www/cgi bin/100%<x>.sh"
    _valid({"version": "2.1.0", "runs": [run]}, sarif_schema)


def test_vulnerabilities_are_results_with_one_rule_per_cve(rich_report: dict[str, Any]) -> None:
    rich_report["vulnerabilities"].append(
        {
            "id": "CVE-2022-48174",
            "component": {"name": "busybox-extra"},
            "version": "1.35.0",
            "severity": "HIGH",
        }
    )
    rich_report["vulnerabilities"].append({"id": "CVE-2021-42386"})
    run = to_sarif(rich_report)["runs"][0]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert rule_ids.count("CVE-2022-48174") == 1
    assert "CVE-2021-42386" in rule_ids
    vulns = [r for r in run["results"] if r["ruleId"].startswith("CVE-")]
    assert len(vulns) == 3
    first, second, bare = vulns
    assert first["level"] == "error"
    assert "busybox 1.35.0" in first["message"]["text"]
    assert first["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "bin/helper"
    assert "busybox-extra" in second["message"]["text"]
    assert first["partialFingerprints"] != second["partialFingerprints"]
    assert "locations" not in bare
    rule = run["tool"]["driver"]["rules"][first["ruleIndex"]]
    assert rule["helpUri"] == "https://nvd.nist.gov/vuln/detail/CVE-2022-48174"


def test_only_failed_compliance_clauses_are_results(rich_report: dict[str, Any]) -> None:
    run = to_sarif(rich_report)["runs"][0]
    comp = [r for r in run["results"] if r["ruleId"].startswith("compliance/")]
    assert [r["ruleId"] for r in comp] == ["compliance/4.2.3.4.2.1"]
    assert comp[0]["level"] == "error"
    assert "root has a default password" in comp[0]["message"]["text"]
    assert comp[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "etc/shadow"


def test_warnings_are_notifications(rich_report: dict[str, Any]) -> None:
    inv = to_sarif(rich_report)["runs"][0]["invocations"][0]
    texts = [n["message"]["text"] for n in inv["toolExecutionNotifications"]]
    assert texts == rich_report["warnings"]


@pytest.mark.parametrize(("sev", "level"), [("critical", "error"), ("low", "note"), ("info", "note")])
def test_unknown_rule_gets_a_descriptor(rich_report: dict[str, Any], sev: str, level: str) -> None:
    rich_report["rules"] = []
    rich_report["findings"][0]["severity"] = sev
    run = to_sarif(rich_report)["runs"][0]
    res = run["results"][0]
    assert res["level"] == level
    assert run["tool"]["driver"]["rules"][res["ruleIndex"]]["id"] == res["ruleId"]


def test_artifacts_carry_the_file_hashes(rich_report: dict[str, Any]) -> None:
    run = to_sarif(rich_report)["runs"][0]
    arts = run["artifacts"]
    uris = [a["location"]["uri"] for a in arts]
    assert len(uris) == len(set(uris))
    hashes = {f["path"]: f.get("sha256") for f in rich_report["files"]}
    for res in run["results"]:
        for loc in res.get("locations", []) + res.get("relatedLocations", []):
            al = loc["physicalLocation"]["artifactLocation"]
            art = arts[al["index"]]
            assert art["location"]["uri"] == al["uri"]
            path = "/" + unquote(al["uri"])
            if hashes.get(path):
                assert art["hashes"]["sha-256"] == hashes[path]
    shadow = next(a for a in arts if a["location"]["uri"] == "etc/shadow")
    assert shadow["hashes"]["sha-256"] == rich_report["findings"][0]["evidence"][0]["sha256"]


def test_compliance_failure_located_by_its_evidence(rich_report: dict[str, Any]) -> None:
    passwd = next(f for f in rich_report["files"] if f["path"] == "/etc/passwd")
    ev = {"path": "/etc/passwd", "sha256": passwd["sha256"], "offset": 0, "length": 4, "excerpt": "root"}
    rich_report["compliance"][0]["evidence"] = [ev, dict(ev)]
    run = to_sarif(rich_report)["runs"][0]
    res = next(r for r in run["results"] if r["ruleId"].startswith("compliance/"))
    assert len(res["locations"]) == 1  # the same spot twice is one location
    phys = res["locations"][0]["physicalLocation"]
    assert phys["artifactLocation"]["uri"] == "etc/passwd"
    assert phys["region"] == {"byteOffset": 0, "byteLength": 4, "snippet": {"text": "root"}}
