from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from assay import reports
from assay.model import BACKDOOR_CATEGORIES, SCHEMA_ID
from assay.reports.validate import ReportSchemaError, report_schema


def test_schema_is_valid_draft_2020_12() -> None:
    schema = report_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == SCHEMA_ID
    assert schema["required"] == ["schema", "image", "components", "findings"]


def test_backdoor_categories_fit_category_pattern() -> None:
    pattern = report_schema()["$defs"]["finding"]["properties"]["category"]
    for cat in BACKDOOR_CATEGORIES:
        Draft202012Validator(pattern).validate(cat)


def test_real_scan_validates(rich_report: dict[str, Any]) -> None:
    reports.validate(rich_report)
    assert len(rich_report["findings"]) == 4
    assert {c["verdict"] for c in rich_report["compliance"]} == {"pass", "fail", "needs-live-test"}


def test_extra_fields_are_allowed(rich_report: dict[str, Any]) -> None:
    rich_report["sbom"] = {"format": "cyclonedx"}
    rich_report["findings"][0]["confidence"] = "high"
    rich_report["components"][0]["licenses"] = ["GPL-2.0-only"]
    rich_report["vulnerabilities"].append({"id": "CVE-2000-0001", "anything": [1, 2]})
    reports.validate(rich_report)


def _broken(report: dict[str, Any], change: Any) -> str:
    bad = copy.deepcopy(report)
    change(bad)
    with pytest.raises(ReportSchemaError) as exc:
        reports.validate(bad)
    return str(exc.value)


@pytest.mark.parametrize(
    ("change", "where", "words"),
    [
        (lambda r: r.pop("findings"), "(top level)", "'findings' is a required property"),
        (lambda r: r["findings"][0].update(path="etc/shadow"), "findings/0/path", "does not match '^/'"),
        (lambda r: r["findings"][1].update(evidence=[]), "findings/1/evidence", "should be non-empty"),
        (lambda r: r["findings"][0].update(severity="severe"), "findings/0/severity", "is not one of"),
        (lambda r: r["findings"][0]["evidence"][0].pop("sha256"), "findings/0/evidence/0", "'sha256'"),
        (
            lambda r: r["findings"][0]["evidence"][0].update(sha256="abc"),
            "findings/0/evidence/0/sha256",
            "abc",
        ),
        (
            lambda r: r["findings"][0]["evidence"][0].update(offset=-1),
            "findings/0/evidence/0/offset",
            "minimum",
        ),
        (lambda r: r["findings"][2].pop("references"), "findings/2", "'references' is a required property"),
        (lambda r: r["findings"][0].update(category="Default Credential"), "findings/0/category", "match"),
        (lambda r: r["components"][0].pop("cpe"), "components/0", "'cpe' is a required property"),
        (lambda r: r["components"][0].update(paths=["bin/busybox"]), "components/0/paths/0", "'^/'"),
        (lambda r: r["compliance"][0].update(verdict="ok"), "compliance/0/verdict", "is not one of"),
        (lambda r: r["vulnerabilities"][0].pop("id"), "vulnerabilities/0", "'id' is a required property"),
        (
            lambda r: r["compliance"][0].update(evidence=[{"path": "/etc/shadow"}]),
            "compliance/0/evidence/0",
            "sha256",
        ),
        (
            lambda r: r["compliance"][0].update(findings="x"),
            "compliance/0/findings",
            "is not of type 'array'",
        ),
        (lambda r: r.update(schema="https://example.org/other"), "schema", "does not match"),
        (lambda r: r["image"].update(sha256="zz"), "image/sha256", "does not match"),
        (lambda r: r["files"][0].update(mode="rwxr-xr-x"), "files/0/mode", "does not match"),
    ],
)
def test_contract_violations_are_named(
    rich_report: dict[str, Any], change: Any, where: str, words: str
) -> None:
    msg = _broken(rich_report, change)
    assert msg.startswith("report does not match its schema: ")
    assert f"{where}: " in msg
    assert words in msg


def test_error_lists_first_failures_in_order(rich_report: dict[str, Any]) -> None:
    def wreck(r: dict[str, Any]) -> None:
        for f in r["findings"]:
            f["path"] = "relative"
        r["findings"][3]["severity"] = "urgent"

    bad = copy.deepcopy(rich_report)
    wreck(bad)
    with pytest.raises(ReportSchemaError) as exc:
        reports.validate(bad)
    assert len(exc.value.problems) == 5
    assert [p.split(":")[0] for p in exc.value.problems] == [
        "findings/0/path",
        "findings/1/path",
        "findings/2/path",
        "findings/3/path",
        "findings/3/severity",
    ]
    assert "(and" not in str(exc.value)
    bad["findings"][0]["evidence"] = []
    with pytest.raises(ReportSchemaError, match=r"\(and 1 more\)"):
        reports.validate(bad)


def test_report_schema_returns_a_copy() -> None:
    s = report_schema()
    s["required"].append("nonsense")
    assert "nonsense" not in report_schema()["required"]


def test_saved_json_report_validates(rich_report: dict[str, Any]) -> None:
    text = reports.render(rich_report, "json")
    assert text.endswith("\n")
    reports.validate(json.loads(text))
