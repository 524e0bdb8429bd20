"""Check a report dict against the JSON Schema of the report contract."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

_SHOWN = 5


class ReportSchemaError(ValueError):
    """The report breaks the contract; `problems` lists every failure as 'where: what'."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        more = f" (and {len(problems) - _SHOWN} more)" if len(problems) > _SHOWN else ""
        super().__init__("report does not match its schema: " + "; ".join(problems[:_SHOWN]) + more)


def report_schema() -> dict[str, Any]:
    """The schema itself (a fresh copy, so callers may change it)."""
    return json.loads(json.dumps(_schema()))  # type: ignore[no-any-return]


@cache
def _schema() -> dict[str, Any]:
    text = files("assay").joinpath("schema/report.schema.json").read_text(encoding="utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


@cache
def _validator() -> Draft202012Validator:
    from jsonschema import Draft202012Validator  # only where reports are validated: 0.1 s to import

    schema = _schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _where(err: ValidationError) -> str:
    return "/".join(str(p) for p in err.absolute_path) or "(top level)"


def _describe(err: ValidationError) -> str:
    # oneOf/anyOf messages quote the whole instance; the most relevant cause says more.
    from jsonschema.exceptions import best_match

    cause = best_match(err.context) if err.context else None
    msg = (cause or err).message
    if len(msg) > 200:
        msg = msg[:197] + "..."
    return f"{_where(err)}: {msg}"


def _order(err: ValidationError) -> list[tuple[int, int, str]]:
    return [(0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in err.absolute_path]


def validate(report: dict[str, Any]) -> None:
    """Raise ReportSchemaError naming the first failures, in document order."""
    errors = sorted(_validator().iter_errors(report), key=_order)
    if errors:
        raise ReportSchemaError([_describe(e) for e in errors])


__all__ = ["ReportSchemaError", "report_schema", "validate"]
