"""JSON Schemas of the `diff` and `equivalence` results, for consumers and for the tests."""

from __future__ import annotations

from typing import Any

_STR_LIST = {"type": "array", "items": {"type": "string"}}


def _rows(required: list[str], changed: bool = False) -> dict[str, Any]:
    """An {added, removed[, changed]} object whose rows carry at least these fields."""
    row = {"type": "object", "required": required}
    props: dict[str, Any] = {
        "added": {"type": "array", "items": row},
        "removed": {"type": "array", "items": row},
    }
    if changed:
        props["changed"] = {
            "type": "array",
            "items": {"type": "object", "required": ["name", "changes", "old", "new"]},
        }
    return {"type": "object", "required": list(props), "properties": props}


_COMPONENT_CHANGE = {
    "type": "object",
    "required": ["name", "old_versions", "new_versions"],
    "properties": {
        "name": {"type": "string"},
        "old_versions": _STR_LIST,
        "new_versions": _STR_LIST,
        "cves_added": _STR_LIST,
        "cves_fixed": _STR_LIST,
    },
}
_SIDE = {
    "type": "object",
    "required": ["name", "sha256", "files"],
    "properties": {
        "name": {"type": "string"},
        "sha256": {"type": ["string", "null"]},
        "files": {"type": "integer"},
    },
}

DIFF_JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://assay.dev/schema/diff/1.0",
    "type": "object",
    "required": ["schema", "tool", "old", "new", "identical", "summary", "files", "security", "warnings"],
    "properties": {
        "schema": {"const": "https://assay.dev/schema/diff/1.0"},
        "old": _SIDE,
        "new": _SIDE,
        "identical": {"type": "boolean"},
        "summary": {
            "type": "object",
            "required": ["added", "removed", "renamed", "changed", "security_changes"],
            "additionalProperties": {"type": "integer"},
        },
        "files": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["status", "path"],
                "properties": {
                    "status": {"enum": ["added", "removed", "renamed", "changed"]},
                    "path": {"type": "string", "pattern": "^(/|fs[0-9]+:/)"},
                    "old_path": {"type": "string"},
                    "changes": _STR_LIST,
                    "details": {"type": "object"},
                },
            },
        },
        "security": {
            "type": "object",
            "required": ["findings", "components", "accounts", "keys", "services", "ports"],
            "properties": {
                "findings": _rows(["rule", "category", "severity", "path", "title", "id"]),
                "components": {
                    "type": "object",
                    "required": ["changed", "added", "removed", "vulnerabilities_known"],
                    "properties": {
                        "changed": {"type": "array", "items": _COMPONENT_CHANGE},
                        "vulnerabilities_known": {"type": "boolean"},
                        "cves_added": _STR_LIST,
                        "cves_fixed": _STR_LIST,
                    },
                },
                "accounts": _rows(["name", "uid", "shell", "password", "source"], changed=True),
                "keys": _rows(["kind", "type", "path", "fingerprint"]),
                "services": _rows(["program", "command", "source", "line", "enabled"]),
                "ports": _rows(["port", "proto", "program", "source", "from"]),
            },
        },
        "warnings": _STR_LIST,
        "stats": {"type": "object"},
    },
}

EQUIVALENCE_JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://assay.dev/schema/equivalence/1.0",
    "type": "object",
    "required": [
        "schema",
        "deployed",
        "reference",
        "verdict",
        "summary",
        "different",
        "only_deployed",
        "only_reference",
        "equivalent",
        "files",
        "notes",
    ],
    "properties": {
        "schema": {"const": "https://assay.dev/schema/equivalence/1.0"},
        "deployed": _SIDE,
        "reference": _SIDE,
        "verdict": {"enum": ["identical", "equivalent", "different"]},
        "different": _STR_LIST,
        "only_deployed": _STR_LIST,
        "only_reference": _STR_LIST,
        "files": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["path", "status"],
                "properties": {
                    "status": {
                        "enum": ["identical", "equivalent", "different", "only-deployed", "only-reference"]
                    },
                    "normalizations": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["name", "explanation"],
                            "properties": {"name": {"type": "string"}, "explanation": {"type": "string"}},
                        },
                    },
                    "reasons": _STR_LIST,
                },
            },
        },
        "notes": _STR_LIST,
    },
}
