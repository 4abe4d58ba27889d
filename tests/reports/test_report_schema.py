"""The run document's schema, and `gc-conformance report --from` re-rendering saved runs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from gc_conformance.cli import main
from gc_conformance.reports import render_html
from gc_conformance.reports.schema import (
    RUN_DOCUMENT_SCHEMA,
    RunDocumentError,
    load_run_document,
    validate_run_document,
)

ROOT = Path(__file__).resolve().parents[2]


def test_the_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(RUN_DOCUMENT_SCHEMA)


def test_every_real_run_document_follows_the_schema(
    real_documents: dict[str, dict[str, Any]],
) -> None:
    for name, document in real_documents.items():
        assert validate_run_document(document) is document, name


def test_the_schema_is_documented_field_by_field() -> None:
    """docs/run-json.md names every field the schema knows, so the two cannot drift apart."""
    text = (ROOT / "docs" / "run-json.md").read_text(encoding="utf-8")
    names: set[str] = set()

    def collect(schema: dict[str, Any]) -> None:
        for name, sub in schema.get("properties", {}).items():
            names.add(name)
            collect(sub)
        if isinstance(schema.get("items"), dict):
            collect(schema["items"])
        for option in schema.get("oneOf", []):
            collect(option)

    collect(RUN_DOCUMENT_SCHEMA)
    missing = sorted(n for n in names if not re.search(rf'"{re.escape(n)}"', text))
    assert missing == []
    assert "gc-conformance report --schema" in text


def _broken(document: dict[str, Any], edit: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(json.dumps(document))
    if edit == "no verdict":
        del doc["summary"]["verdict"]
    elif edit == "bad status":
        doc["checks"][1]["status"] = "passed"
    elif edit == "bad format":
        doc["format"] = "gc-conformance-run/9"
    elif edit == "step without request":
        del doc["checks"][0]["steps"][2]["request"]
    elif edit == "counts disagree":
        doc["summary"]["counts"]["pass"] += 1
    elif edit == "duplicate check":
        doc["checks"].append(doc["checks"][0])
        doc["summary"]["counts"][doc["checks"][0]["status"]] += 1
    elif edit == "policy not text":
        doc["registry"]["policies"]["rounding"] = 3
    return doc


@pytest.mark.parametrize(
    ("edit", "field", "rule"),
    [
        ("no verdict", "summary.verdict", "is required"),
        ("bad status", "checks[1].status", "must be one of"),
        ("bad format", "format", "must be 'gc-conformance-run/1'"),
        ("step without request", "checks[0].steps[2].request", "is required"),
        ("counts disagree", "summary.counts.pass", "checks have status 'pass'"),
        ("duplicate check", "checks[3].id", "listed twice"),
        ("policy not text", "registry.policies.rounding", "must be of type string"),
    ],
)
def test_a_malformed_document_is_refused_naming_the_field_and_the_rule(
    passing_doc: dict[str, Any], edit: str, field: str, rule: str
) -> None:
    with pytest.raises(RunDocumentError) as caught:
        validate_run_document(_broken(passing_doc, edit))
    assert caught.value.field == field
    assert rule in caught.value.rule


def test_a_file_that_is_not_json_is_refused_with_its_position(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    path.write_text('{"format": "gc-conformance-run/1",\n  "summary": }', encoding="utf-8")
    with pytest.raises(RunDocumentError, match=r"not JSON: .* line 2 column 14"):
        load_run_document(path)


def test_report_from_a_saved_run_gives_the_same_html_and_junit_as_the_run(
    tmp_path: Path, overrun_doc: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "run.json"
    saved.write_text(json.dumps(overrun_doc, indent=2, sort_keys=True), encoding="utf-8")
    html, xml = tmp_path / "out.html", tmp_path / "out.xml"
    code = main(["report", "--from", str(saved), "--html", str(html), "--junitxml", str(xml)])
    assert code == 0
    assert html.read_text(encoding="utf-8") == render_html(overrun_doc)
    assert xml.read_text(encoding="utf-8").startswith("<?xml")
    assert f"written {html}" in capsys.readouterr().out


def test_report_refuses_a_malformed_run_names_the_field_and_writes_nothing(
    tmp_path: Path, passing_doc: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "run.json"
    saved.write_text(json.dumps(_broken(passing_doc, "bad status")), encoding="utf-8")
    html, xml = tmp_path / "out.html", tmp_path / "out.xml"
    code = main(["report", "--from", str(saved), "--html", str(html), "--junitxml", str(xml)])
    assert code == 2
    error = capsys.readouterr().err
    assert "checks[1].status" in error and "must be one of" in error
    assert not html.exists() and not xml.exists()


def test_report_needs_a_source_and_an_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "--html", str(tmp_path / "x.html")]) == 2
    assert main(["report", "--from", str(tmp_path / "missing.json")]) == 2
    assert main(["report", "--from", str(tmp_path / "missing.json"), "--html", "x.html"]) == 2
    assert "no such file" in capsys.readouterr().err
    assert not (tmp_path / "x.html").exists()


def test_report_prints_the_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--schema"]) == 0
    assert json.loads(capsys.readouterr().out) == RUN_DOCUMENT_SCHEMA


def test_a_vectors_verify_document_follows_the_schema_and_shows_its_hash(tmp_path: Path) -> None:
    """`gc-conformance vectors verify` writes the same format; the report names the vector set."""
    out = tmp_path / "vectors.json"
    case = "cancel_claim/request_sequence#6"
    code = main(
        [
            "vectors",
            "verify",
            "--adapter",
            "reference",
            "--case",
            case,
            "--json",
            str(out),
            "--quiet",
        ]
    )
    assert code == 0
    document = load_run_document(out)
    root = document["suite"]["vectors_root_hash"]
    assert root
    assert f"<code>{root}</code>" in render_html(document)
