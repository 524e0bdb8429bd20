"""Components of an existing CycloneDX JSON SBOM, for matching without a re-scan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from assay.errors import InputError
from assay.model import Component


def _walk(items: list[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for c in items:
        if isinstance(c, dict):
            out.append(c)
            out += _walk(c.get("components") or [])
    return out


def _paths(c: dict[str, Any]) -> list[str]:
    # Assay's own SBOMs name the files of a component in properties or evidence occurrences.
    paths = [
        str(p.get("value"))
        for p in c.get("properties") or ()
        if isinstance(p, dict) and str(p.get("name", "")).endswith(":path")
    ]
    evidence = c.get("evidence") or {}
    paths += [
        str(o.get("location"))
        for o in (evidence.get("occurrences") or () if isinstance(evidence, dict) else ())
        if isinstance(o, dict) and o.get("location")
    ]
    return sorted({p for p in paths if p.startswith("/")})


def read_cyclonedx(path: Path) -> list[Component]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a readable JSON file: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict) or data.get("bomFormat") != "CycloneDX":
        raise InputError(f"{path}: not a CycloneDX JSON SBOM (no bomFormat: CycloneDX)")
    items = _walk(data.get("components") or [])
    meta = (data.get("metadata") or {}).get("component")
    if isinstance(meta, dict):
        items.insert(0, meta)
    components = []
    for c in items:
        name = c.get("name")
        if not isinstance(name, str) or not name:
            continue
        version = c.get("version")
        components.append(
            Component(
                name=name,
                version=str(version) if version else None,
                purl=c.get("purl") if isinstance(c.get("purl"), str) else None,
                cpe=c.get("cpe") if isinstance(c.get("cpe"), str) else None,
                paths=_paths(c),
            )
        )
    return components


__all__ = ["read_cyclonedx"]
