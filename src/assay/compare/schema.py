"""JSON Schemas of the `diff` and `equivalence` results, for consumers and for the tests."""

from __future__ import annotations

from typing import Any

_STR_LIST = {"type": "array", "items": {"type": "string"}}
_ADDED_REMOVED = {
    "type": "object",
    "required": ["added", "removed"],
    "properties": {"added": {"type": "array"}, "removed": {"type": "array"}, "changed": {"type": "array"}},
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
                "findings": _ADDED_REMOVED,
                "components": {
                    "type": "object",
                    "required": ["changed", "added", "removed", "vulnerabilities_known"],
                },
                "accounts": {**_ADDED_REMOVED, "required": ["added", "removed", "changed"]},
                "keys": _ADDED_REMOVED,
                "services": _ADDED_REMOVED,
                "ports": _ADDED_REMOVED,
            },
        },
        "warnings": _STR_LIST,
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
