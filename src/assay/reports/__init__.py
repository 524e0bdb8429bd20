"""Report renderers. Each works on the report's JSON form, so any saved report can be re-rendered."""

from __future__ import annotations

import importlib
import json
from typing import Any

from assay.reports.validate import ReportSchemaError, validate

# format name -> module under assay.reports exposing render(report: dict) -> str
FORMATS = {
    "json": "assay.reports.jsonreport",
    "sarif": "assay.reports.sarif",
    "html": "assay.reports.html",
    "cyclonedx": "assay.reports.cyclonedx",
    "spdx": "assay.reports.spdx",
}


def render(report: dict[str, Any], fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format {fmt!r}; choose from {', '.join(FORMATS)}")
    return importlib.import_module(FORMATS[fmt]).render(report)  # type: ignore[no-any-return]


def load(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    if not isinstance(data, dict) or "findings" not in data or "schema" not in data:
        raise ValueError(f"{path}: not an Assay JSON report")
    return data


__all__ = ["FORMATS", "ReportSchemaError", "load", "render", "validate"]
