"""What both SBOM renderers derive from a report: a stable document id and the creation time.

An SBOM is a pure function of the report, so re-rendering a saved report gives the same bytes
(the service serves it twice, attestations sign it). The time is the report's own when it has
one, else SOURCE_DATE_EPOCH (the reproducible-builds convention), else unknown (None).
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from datetime import UTC, datetime
from typing import Any


def document_uuid(report: dict[str, Any]) -> uuid.UUID:
    image = report.get("image") or {}
    basis = {
        "image": [image.get("name"), image.get("sha256")],
        "tool": report.get("tool"),
        "components": report.get("components") or [],
    }
    digest = hashlib.sha256(json.dumps(basis, sort_keys=True, default=str).encode()).hexdigest()
    return uuid.uuid5(uuid.NAMESPACE_URL, f"https://assay.dev/sbom/{digest}")


def created(report: dict[str, Any]) -> datetime | None:
    for key in ("created", "scanned_at"):
        value = report.get(key)
        if isinstance(value, str):
            try:
                return (
                    datetime.fromisoformat(value.replace("Z", "+00:00"))
                    .astimezone(UTC)
                    .replace(microsecond=0)
                )
            except ValueError:
                pass
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), UTC)
    return None


__all__ = ["created", "document_uuid"]
