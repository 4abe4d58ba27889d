"""The report as a document an auditor files: printed length and page 1, column widths, the
command line and environment, per-check durations, the comparison with a previous run, the
standard's section references, and failures that name the step that changed the state."""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from report_samples import CONSERVE_CHECK, OWNER_CHECK, SPLIT_CHECK

from gc_conformance.catalogue import load_catalogue
from gc_conformance.cli import main
from gc_conformance.reports import render_html
from gc_conformance.reports.compare import compare_runs
from gc_conformance.reports.sections import SECTION_OF_KEY, digest_key, section_reference

MAX_PAGES = 12


def _text(html: str) -> str:
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", html.replace("<wbr>", ""), flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", body)))


def _chromium() -> str:
    for name in (os.environ.get("GC_CHROMIUM", ""), "chromium", "chromium-browser"):
        if name and (path := shutil.which(name)):
            return path
    pytest.skip(
        "Chromium is not installed (apt-get install chromium, or set GC_CHROMIUM); "
        "the printed-report check did not run"
    )


def _pdf_pages(pdf: Path) -> list[str]:
    """The text of each page, with pypdf (a plain dependency of the tests) or poppler."""
    try:
        from pypdf import PdfReader
    except ImportError:
        if not shutil.which("pdftotext"):
            pytest.skip("neither pypdf nor poppler-utils (pdftotext) is installed")
        text = subprocess.run(
            ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")
    return [page.extract_text() or "" for page in PdfReader(str(pdf)).pages]


# ---------------------------------------------------------------- printed


def test_a_seven_failure_run_prints_in_at_most_twelve_pages_with_the_verdict_on_page_one(
    seven_failures_doc: dict[str, Any], tmp_path: Path
) -> None:
    browser = _chromium()
    assert seven_failures_doc["summary"]["counts"]["fail"] == 7
    report, pdf = tmp_path / "report.html", tmp_path / "report.pdf"
    report.write_text(render_html(seven_failures_doc), encoding="utf-8")
    done = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-pdf-header-footer",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--print-to-pdf={pdf}",
            report.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,  # only stops a hung browser; nothing is timed
        check=False,
    )
    assert done.returncode == 0 and pdf.is_file(), done.stderr[-2000:]
    pages = _pdf_pages(pdf)
    assert 1 <= len(pages) <= MAX_PAGES, f"{len(pages)} pages"
    first = re.sub(r"\s+", " ", pages[0])
    assert "Overall verdict" in first and "FAIL" in first
    assert "Scope" in first and "core" in first
    for check in seven_failures_doc["checks"]:
        if check["status"] == "fail":  # every failure is named on page 1
            assert check["id"].split(".")[-1] in first.replace(" ", ""), check["id"]


def test_the_print_stylesheet_collapses_passes_and_keeps_failures_whole(
    overrun_doc: dict[str, Any],
) -> None:
    html = render_html(overrun_doc)
    style = html[html.find("<style>") : html.find("</style>")]
    printed = style[style.find("@media print") :]
    assert ".matrix tr.ok td" in printed and "nowrap" in printed
    assert "@page" in style and "size: A4" in style
    # passing requirements are the collapsible rows; failing ones are not
    for requirement in overrun_doc["requirements"]:
        row = re.search(rf'<tr class="([^"]*)" id="req-{re.escape(requirement["id"])}"', html)
        assert row, requirement["id"]
        assert ("ok" in row.group(1).split()) == (requirement["status"] in ("pass", "skip"))
    # each passed check is one line in the list of passes
    passed = [c["id"] for c in overrun_doc["checks"] if c["status"] == "pass"]
    listed = re.findall(r'<li class="filterable" data-status="pass"[^>]*>(.*?)</li>', html)
    assert len(listed) == len(passed)


def test_check_ids_wrap_only_between_their_words(overrun_doc: dict[str, Any]) -> None:
    html = render_html(overrun_doc)
    ids = re.findall(r'<code class="cid">(.*?)</code>', html)
    assert ids
    for shown in ids:
        for piece in shown.split("<wbr>")[:-1]:
            assert piece.endswith("."), f"a break opportunity inside a word: {shown}"
    style = html[html.find("<style>") : html.find("</style>")]
    assert re.search(r"code\.cid \{[^}]*overflow-wrap: normal", style)


# ---------------------------------------------------------------- command, environment, time


def test_the_run_document_and_report_carry_the_command_line_and_environment(
    passing_doc: dict[str, Any],
) -> None:
    env = passing_doc["environment"]
    assert env["command"].startswith("gc-conformance run --quiet --json ")
    assert OWNER_CHECK in env["command"]
    assert env["python"] and env["os"]
    assert env["packages"]["gc-conformance"] and env["packages"]["pytest"]
    text = _text(render_html(passing_doc))
    assert f"Command line {env['command']}" in text
    assert f"Python {env['python']}" in text
    assert "gc-conformance " + env["packages"]["gc-conformance"] in text


def test_a_document_without_environment_or_durations_still_renders(
    passing_doc: dict[str, Any],
) -> None:
    doc = copy.deepcopy(passing_doc)
    doc.pop("environment", None)
    for check in doc["checks"]:
        check.pop("duration", None)
    text = _text(render_html(doc))
    assert "Command line and environment not recorded in this run document" in text
    assert "per-check durations not recorded" in text


def test_per_check_durations_are_shown(overrun_doc: dict[str, Any]) -> None:
    doc = copy.deepcopy(overrun_doc)
    for number, check in enumerate(doc["checks"]):
        check["duration"] = 0.25 + number
    failing = next(c for c in doc["checks"] if c["status"] == "fail")
    html = render_html(doc)
    section = html[html.find(f'id="check-{failing["id"]}"') :]
    assert f"{failing['duration']:.2f} s" in _text(section[: section.find("</h3>")])
    slowest = max(doc["checks"], key=lambda c: c["duration"])
    assert f"slowest {slowest['id']}" in _text(html)
    for check in doc["checks"]:
        if check["status"] == "pass":
            assert f"{check['duration']:.2f} s" in _text(html)


# ---------------------------------------------------------------- comparison


def test_comparison_sorts_checks_into_new_failures_fixed_and_unchanged(
    passing_doc: dict[str, Any], overrun_doc: dict[str, Any]
) -> None:
    comparison = compare_runs(passing_doc, overrun_doc)
    failing_now = {c["id"] for c in overrun_doc["checks"] if c["status"] == "fail"}
    assert {c.check_id for c in comparison.new_failures} == failing_now
    assert comparison.fixed == ()
    back = compare_runs(overrun_doc, passing_doc)
    assert {c.check_id for c in back.fixed} == failing_now
    assert back.new_failures == ()
    assert back.unchanged == len(passing_doc["checks"]) - len(failing_now)
    same = compare_runs(overrun_doc, overrun_doc)
    assert {c.check_id for c in same.still_failing} == failing_now
    assert same.unchanged == len(overrun_doc["checks"]) - len(failing_now)


def test_a_check_only_in_one_run_is_listed_not_dropped(passing_doc: dict[str, Any]) -> None:
    older = copy.deepcopy(passing_doc)
    older["checks"] = [c for c in older["checks"] if c["id"] != SPLIT_CHECK]
    comparison = compare_runs(older, passing_doc)
    added = [c for c in comparison.other_changes if c.check_id == SPLIT_CHECK]
    assert added and added[0].before == "absent" and added[0].after == "pass"


def test_report_and_run_compare_with_a_previous_run_document(
    tmp_path: Path,
    passing_doc: dict[str, Any],
    overrun_doc: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps(passing_doc), encoding="utf-8")
    new.write_text(json.dumps(overrun_doc), encoding="utf-8")
    out = tmp_path / "r.html"
    assert main(["report", "--from", str(new), "--compare", str(old), "--html", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    failing = [c["id"] for c in overrun_doc["checks"] if c["status"] == "fail"]
    compare = _text(html[html.find('id="compare"') : html.find('id="failures"')])
    assert f"New failures ({len(failing)})" in compare
    for check_id in failing:
        assert check_id in compare
    assert "Fixed (0)" in compare
    # run --compare prints the comparison and puts it in the report
    report = tmp_path / "run.html"
    code = main(
        [
            "run",
            "--quiet",
            "--adapter",
            "reference",
            *("--check", OWNER_CHECK, "--check", SPLIT_CHECK, "--check", CONSERVE_CHECK),
            "--compare",
            str(new),
            "--report",
            str(report),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert f"{len(failing)} fixed" in printed and "0 new failure(s)" in printed
    assert f"written report: {report}" in printed
    assert f"Fixed ({len(failing)})" in _text(report.read_text(encoding="utf-8"))


def test_a_bad_previous_run_document_is_refused_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc_conformance.run as run_module

    def never(*_: Any, **__: Any) -> Any:
        raise AssertionError("the suite ran although --compare was unusable")

    monkeypatch.setattr(run_module, "run", never)
    bad = tmp_path / "old.json"
    bad.write_text('{"format": "gc-conformance-run/1"}', encoding="utf-8")
    assert main(["run", "--adapter", "reference", "--compare", str(bad)]) == 2
    assert "--compare" in capsys.readouterr().err
    assert main(["run", "--adapter", "reference", "--compare", str(tmp_path / "no.json")]) == 2


# ---------------------------------------------------------------- section references


def test_every_requirement_clause_has_a_section_reference_of_the_standard() -> None:
    for requirement in load_catalogue().values():
        key = digest_key(requirement.clause)
        assert key in SECTION_OF_KEY, requirement.clause
        assert section_reference(requirement.clause).startswith("Standard v2 §")


def test_the_report_shows_the_section_beside_the_digest_key(
    overrun_doc: dict[str, Any],
) -> None:
    html = render_html(overrun_doc)
    matrix = html[html.find('id="matrix"') : html.find('id="xfail"')]
    for clause in {r["clause"] for r in overrun_doc["requirements"]}:
        assert f"{clause} {section_reference(clause)}" in _text(matrix)
    failing = next(c for c in overrun_doc["checks"] if c["status"] == "fail")
    section = html[html.find(f'id="check-{failing["id"]}"') :]
    requirement = next(r for r in overrun_doc["requirements"] if r["id"] in failing["requirements"])
    assert section_reference(requirement["clause"]) in _text(section[: section.find("</table>")])


# ---------------------------------------------------------------- the step that changed state


def test_an_atomicity_failure_names_the_step_marks_it_and_the_lineage_agrees(
    tmp_path: Path,
) -> None:
    from report_samples import run_document

    doc = run_document(
        tmp_path,
        "--adapter",
        "faulty:refused-partial-leaves-split",
        "--check",
        "core.withdraw.holder_refused",
    )
    (check,) = doc["checks"]
    assert check["status"] == "fail"
    assert check["message"].startswith("step 8: the refused withdraw changed the registry's state")
    assert "step 8 (withdraw by alice, refused NOT_AUTHORISED)" in check["observed"]
    assert (
        "bundles removed (1): DEV-WIND 2024-03-01T00:00:00Z certificates +0..+999 (1000) "
        "ACC-ALICE ACTIVE"
    ) in check["observed"]
    assert "certificates +0..+4 (5) ACC-ALICE ACTIVE" in check["observed"]
    assert "accounts: unchanged (ACC-ALICE, ACC-BOB, ACC-CAROL)" in check["observed"]
    html = render_html(doc)
    section = html[html.find(f'id="check-{check["id"]}"') :]
    wrong_rows = re.findall(r'<tr class="wrong"><td class="n">(\d+) ✗', section)
    assert wrong_rows == ["8"]
    svg = section[section.find("<svg") : section.find("</svg>")]
    assert "changed by refused step 8" in svg and 'stroke="#cf222e"' in svg
    assert "withdraw refused, yet the registry's state changed" in _text(section)
