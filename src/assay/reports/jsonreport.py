"""The JSON report: the contract of DEVELOPERS.md, validated by schema/report.schema.json."""

from __future__ import annotations

import json
from typing import Any


def render(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, sort_keys=False, ensure_ascii=False) + "\n"
