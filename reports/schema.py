"""The run document's JSON Schema, and reading a saved run document against it.

A saved ``RUN.json`` is the auditor's record, and ``gc-conformance report
--from`` re-renders it long after the run. A hand-edited or truncated file
must be refused with the field and the rule named, never rendered into a
report that looks authoritative but says something the run did not. So the
document is checked against the schema below, then for internal consistency
(the summary's counts must agree with the checks it summarises).

The schema describes format ``gc-conformance-run/1`` (docs/run-json.md). It
requires what the reports read and allows additional properties everywhere:
within a format version fields are only ever added.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jsonschema

from gc_conformance.errors import UsageError
from gc_conformance.outcomes import FailureKind, SkipKind
from gc_conformance.verdicts import INTEGRITY_FIELD, Verdict, decide_document, digest

FORMAT = "gc-conformance-run/1"
STATUSES = ("pass", "fail", "error", "skip", "xfail", "xpass")

_TEXT: dict[str, Any] = {"type": "string"}
_TEXT_LIST: dict[str, Any] = {"type": "array", "items": {"type": "string"}}
_STATUS: dict[str, Any] = {"enum": list(STATUSES)}
_COUNTS: dict[str, Any] = {
    "type": "object",
    "required": list(STATUSES),
    "properties": {status: {"type": "integer", "minimum": 0} for status in STATUSES},
}
_STEP: dict[str, Any] = {
    "type": "object",
    "required": ["number", "request", "answer", "expectation"],
    "properties": {
        "number": {"type": "integer", "minimum": 1},
        "request": {
            "type": "object",
            "required": ["action"],
            "properties": {"action": _TEXT, "actor": _TEXT, "now": _TEXT},
        },
        "answer": {
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "required": ["accepted"],
                    "properties": {
                        "accepted": {"type": "boolean"},
                        "result": {"type": ["object", "null"]},
                        "code": {"type": ["string", "null"]},
                        "message": {"type": ["string", "null"]},
                    },
                },
            ]
        },
        "expectation": _TEXT,
        "error": {"type": ["string", "null"]},
    },
}

#: JSON Schema (draft 2020-12) of a run document, format ``gc-conformance-run/1``.
RUN_DOCUMENT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://energytag.org/gc-conformance/run-1.schema.json",
    "title": "gc-conformance run document",
    "type": "object",
    "required": [
        "format",
        "summary",
        "suite",
        "run",
        "registry",
        "profiles",
        "requirements",
        "checks",
    ],
    "properties": {
        "format": {"const": FORMAT},
        "summary": {
            "type": "object",
            "required": ["verdict", "counts", "code_mismatches", "untested_shall"],
            "properties": {
                "verdict": {"enum": [v.value for v in Verdict]},
                "meaning": _TEXT,
                "exit_code": {"type": "integer"},
                "incomplete": {"type": ["string", "null"]},
                "scope": _TEXT,
                "not_verified": _TEXT_LIST,
                "waived": _TEXT_LIST,
                "counts": _COUNTS,
                "code_mismatches": {"type": "integer", "minimum": 0},
                "untested_shall": _TEXT_LIST,
            },
        },
        "suite": {
            "type": "object",
            "required": ["name", "version", "standard"],
            "properties": {
                "name": _TEXT,
                "version": _TEXT,
                "standard": _TEXT,
                "vectors_root_hash": {"type": ["string", "null"]},
                "catalogue_sha256": _TEXT,
                "extensions": _TEXT_LIST,
            },
        },
        "vectors": {
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "required": ["root", "shipped"],
                    "properties": {
                        "root": _TEXT,
                        "index_root": {"type": ["string", "null"]},
                        "shipped": {"type": "boolean"},
                        "replayed": {"type": "boolean"},
                        "cases": {"type": "integer", "minimum": 0},
                        "passed": {"type": "integer", "minimum": 0},
                        "failed": {"type": "integer", "minimum": 0},
                    },
                },
            ]
        },
        "integrity": {
            "type": "object",
            "required": ["algorithm", "digest"],
            "properties": {
                "algorithm": {"const": "sha256"},
                "digest": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            },
        },
        "run": {
            "type": "object",
            "required": ["adapter", "profiles", "seed", "max_examples", "strict_codes", "xfail"],
            "properties": {
                "adapter": _TEXT,
                "profiles": {"oneOf": [{"type": "null"}, _TEXT_LIST]},
                "seed": {"type": "integer"},
                "max_examples": {"type": "integer", "minimum": 0},
                "strict_codes": {"type": "boolean"},
                "xfail": {"type": "object", "additionalProperties": _TEXT},
                "check_timeout": {"type": ["number", "null"], "exclusiveMinimum": 0},
                "clock_start": {"type": ["string", "null"]},
                "latest_instant": {"type": ["string", "null"]},
                "started": _TEXT,
                "finished": _TEXT,
            },
        },
        "registry": {
            "type": "object",
            "required": ["name", "version", "profiles", "issuance_styles", "clock", "policies"],
            "properties": {
                "name": _TEXT,
                "version": _TEXT,
                "profiles": _TEXT_LIST,
                "issuance_styles": _TEXT_LIST,
                "clock": _TEXT,
                "policies": {"type": "object", "additionalProperties": _TEXT},
            },
        },
        "profiles": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["profile", "claimed", "status", "counts"],
                "properties": {
                    "profile": _TEXT,
                    "claimed": {"type": "boolean"},
                    "status": _STATUS,
                    "counts": _COUNTS,
                },
            },
        },
        "requirements": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "title", "clause", "level", "profile", "status", "checks"],
                "properties": {
                    "id": _TEXT,
                    "title": _TEXT,
                    "clause": _TEXT,
                    "level": {"enum": ["SHALL", "SHOULD", "MAY"]},
                    "profile": _TEXT,
                    "policies": _TEXT_LIST,
                    "note": _TEXT,
                    "status": _STATUS,
                    "checks": _TEXT_LIST,
                },
            },
        },
        "checks": {
            "type": "array",
            "items": {
                "type": "object",
                "required": [
                    "id",
                    "status",
                    "requirements",
                    "profile",
                    "title",
                    "message",
                    "steps",
                    "code_mismatch",
                ],
                "properties": {
                    "id": _TEXT,
                    "status": _STATUS,
                    "requirements": _TEXT_LIST,
                    "profile": _TEXT,
                    "title": _TEXT,
                    "message": _TEXT,
                    "expected": {"type": ["string", "null"]},
                    "observed": {"type": ["string", "null"]},
                    "severity": {"enum": ["critical", "major", "minor", None]},
                    "code_mismatch": {"type": "boolean"},
                    "failure_kind": {"enum": [*(k.value for k in FailureKind), None]},
                    "steps": {"type": "array", "items": _STEP},
                    "reproduce": {"type": ["string", "null"]},
                    "seed": {"type": ["integer", "null"]},
                    "skip_kind": {"enum": [*(k.value for k in SkipKind), None]},
                    "duration": {"type": ["number", "null"], "minimum": 0},
                },
            },
        },
    },
}


class RunDocumentError(UsageError, ValueError):
    """A run document that does not follow the schema; names the field and the rule broken."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(rule, field=field)
        self.field = field
        self.rule = rule


def validate_run_document(document: object) -> Mapping[str, Any]:
    """Return ``document`` if it is a well-formed run document, else raise :class:`RunDocumentError`.

    Of several faults the one at the first field (in document order of the
    path) is reported, so the same file always gives the same message.
    """
    validator = jsonschema.Draft202012Validator(RUN_DOCUMENT_SCHEMA)
    errors = sorted(
        validator.iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path]
    )
    if errors:
        error = errors[0]
        raise RunDocumentError(_field_of(error), _rule_of(error))
    assert isinstance(document, Mapping)
    _check_consistency(document)
    return document


def load_run_document(path: Path, *, require_integrity: bool = True) -> Mapping[str, Any]:
    """Read and validate a saved run document (``gc-conformance run --json``).

    Beyond the schema, the stored verdict must be the one its results give, and
    the document's digest must match its content: an edited verdict, an edited
    result or a removed failure is refused, never rendered.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RunDocumentError(str(path), "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RunDocumentError(str(path), f"cannot be read as UTF-8 text ({exc})") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RunDocumentError(
            "(document)", f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise RunDocumentError("(document)", "nested too deeply to be a run document") from None
    checked = validate_run_document(document)
    check_integrity(checked, require=require_integrity)
    return checked


def check_integrity(document: Mapping[str, Any], *, require: bool = True) -> None:
    """Refuse a document whose verdict or digest disagrees with its own content."""
    stored = document["summary"]["verdict"]
    recomputed = decide_document(document).value
    if stored != recomputed:
        raise RunDocumentError(
            "summary.verdict",
            f"says {stored!r} but the document's own results give {recomputed!r}: "
            "the document was edited after the run",
        )
    seal = document.get(INTEGRITY_FIELD)
    if seal is None:
        if require:
            raise RunDocumentError(
                INTEGRITY_FIELD, "is required: a run document without a digest cannot be trusted"
            )
        return
    try:
        actual = digest(document)
    except ValueError as exc:  # NaN or Infinity: never written by a run
        raise RunDocumentError("(document)", f"holds a value JSON cannot carry: {exc}") from None
    if seal["digest"] != actual:
        raise RunDocumentError(
            f"{INTEGRITY_FIELD}.digest",
            "does not match the document's content: the document was edited after the run",
        )


def _check_consistency(document: Mapping[str, Any]) -> None:
    """The summary must describe the checks listed, or the report would contradict itself."""
    checks: Sequence[Mapping[str, Any]] = document["checks"]
    seen: set[str] = set()
    for index, check in enumerate(checks):
        if check["id"] in seen:
            raise RunDocumentError(f"checks[{index}].id", f"{check['id']!r} is listed twice")
        seen.add(check["id"])
    actual = Counter(check["status"] for check in checks)
    for status in STATUSES:
        declared = document["summary"]["counts"][status]
        if declared != actual.get(status, 0):
            raise RunDocumentError(
                f"summary.counts.{status}",
                f"says {declared} but {actual.get(status, 0)} checks have status {status!r}",
            )


def _field_of(error: jsonschema.ValidationError) -> str:
    path = "".join(
        f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.absolute_path
    ).lstrip(".")
    if error.validator == "required" and isinstance(error.instance, Mapping):
        required = error.validator_value if isinstance(error.validator_value, list) else []
        missing = [name for name in required if name not in error.instance]
        if missing:
            return f"{path}.{missing[0]}" if path else missing[0]
    return path or "(document)"


def _rule_of(error: jsonschema.ValidationError) -> str:
    if error.validator == "required":
        return "is required"
    if error.validator == "const":
        return f"must be {error.validator_value!r} (found {_short(error.instance)})"
    if error.validator == "enum":
        values = error.validator_value if isinstance(error.validator_value, list) else []
        allowed = ", ".join(repr(v) for v in values)
        return f"must be one of {allowed} (found {_short(error.instance)})"
    if error.validator == "type":
        return f"must be of type {error.validator_value} (found {_short(error.instance)})"
    if error.validator == "oneOf":
        return f"has the wrong shape (found {_short(error.instance)})"
    return str(error.message)


def _short(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."
