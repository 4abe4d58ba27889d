"""The HTML report's content, judged on real run documents (see conftest)."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path
from typing import Any

from report_samples import CANCEL_OWNER_CHECK, OWNER_CHECK, SPLIT_CHECK, STORAGE_CHECK, run_document

from gc_conformance.reports import render_html


def _text(html: str) -> str:
    """The page's visible text, roughly: tags dropped, entities decoded, spaces collapsed."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", html.replace("<wbr>", ""), flags=re.S)
    text = re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", body)))
    return re.sub(r" ([,;:)])", r"\1", text)


def _section(html: str, element_id: str) -> str:
    """The HTML of the element with this id (up to the next element of the same tag)."""
    match = re.search(rf'<(\w+)[^>]*\bid="{re.escape(element_id)}"', html)
    assert match, f"no element with id {element_id!r}"
    end = html.find(f"</{match.group(1)}>", match.end())
    return html[match.start() : end].replace("<wbr>", "")  # IDs wrap only at their dots


def test_the_summary_says_who_and_what_was_tested(passing_doc: dict[str, Any]) -> None:
    text = _text(render_html(passing_doc))
    assert "Overall verdict: PASS" in text
    registry = passing_doc["registry"]
    assert f"{registry['name']}, version {registry['version']}" in text
    assert f"Adapter {passing_doc['run']['adapter']}" in text
    assert f"Standard revision {passing_doc['suite']['standard']}" in text
    assert f"Test suite gc-conformance {passing_doc['suite']['version']}" in text
    recorded = passing_doc["suite"].get("vectors_root_hash")
    assert f"Vector set hash {recorded or 'not recorded'}" in text
    assert f"Seed / examples per property {passing_doc['run']['seed']} / " in text
    assert f"started {passing_doc['run']['started']}" in text
    for name, value in registry["policies"].items():
        assert f"{name} {value}" in text
    assert f"Profiles claimed {', '.join(registry['profiles'])}" in text
    assert f"Issuance styles {', '.join(registry['issuance_styles'])}" in text


def test_the_vector_hash_is_shown_or_said_to_be_unrecorded(passing_doc: dict[str, Any]) -> None:
    doc = json.loads(json.dumps(passing_doc))
    doc["suite"]["vectors_root_hash"] = "sha256:0123abcd"
    assert "Vector set hash sha256:0123abcd" in _text(render_html(doc))
    del doc["suite"]["vectors_root_hash"]
    assert "Vector set hash not recorded" in _text(render_html(doc))
    doc["suite"]["vectors_root_hash"] = None
    assert "Vector set hash not recorded" in _text(render_html(doc))


def test_every_profile_has_a_verdict_and_a_bar_in_the_chart(limited_doc: dict[str, Any]) -> None:
    html = render_html(limited_doc)
    profiles = _section(html, "profiles") + html[html.find('<table class="profiles">') :]
    text = _text(profiles)
    assert "core yes PASS" in text
    assert "storage yes NOT SELECTED" in text
    chart = html[
        html.find('<svg class="chart"') : html.find("</svg>", html.find('<svg class="chart"'))
    ]
    for profile in limited_doc["profiles"]:
        assert f">{profile['profile']}</text>" in chart
        total = sum(profile["counts"].values())
        assert f">{total} checks</text>" in chart


def test_the_matrix_lists_every_requirement_grouped_by_clause_in_standard_order(
    passing_doc: dict[str, Any],
) -> None:
    html = render_html(passing_doc)
    matrix = html[html.find('id="matrix"') : html.find('id="xfail"')]
    clauses = re.findall(r'<section class="clause">\s*<h3>([^<]+?) <span', matrix)
    assert sorted(clauses) == sorted({unescape(r["clause"]) for r in passing_doc["requirements"]})
    numbers = [int(re.search(r"D(\d+)$", unescape(c)).group(1)) for c in clauses]  # type: ignore[union-attr]
    assert numbers == sorted(numbers)
    for requirement in passing_doc["requirements"]:
        row = _section(matrix, f"req-{requirement['id']}")
        assert f'data-status="{requirement["status"]}"' in row
        assert f">{requirement['level']}<" in row
        for check_id in requirement["checks"]:
            assert check_id in row
    owner_row = _text(_section(matrix, "req-AUTH-001"))
    assert "SHALL" in owner_row and "pass" in owner_row and OWNER_CHECK in owner_row


def test_every_failure_has_requirement_expected_observed_steps_and_command(
    overrun_doc: dict[str, Any],
) -> None:
    html = render_html(overrun_doc)
    failures = [c for c in overrun_doc["checks"] if c["status"] == "fail"]
    assert failures, "the faulty registry must fail some selected check"
    assert "Overall verdict: FAIL" in _text(html)
    for check in failures:
        section = _section(html, f"check-{check['id']}")
        text = _text(section)
        for rid in check["requirements"]:
            assert rid in text
        assert f"Expected {check['expected']}" in text
        assert f"Observed {check['observed']}" in text
        assert section.count("<tr") - 1 >= len(check["steps"])  # a row per step (+ headers)
        for step in check["steps"]:
            assert step["request"]["action"] in text
        assert f"<pre>{check['reproduce']}</pre>" in section
        assert check["reproduce"].startswith("gc-conformance run --adapter faulty:")


def test_a_failing_sequence_gets_its_certificate_lineage_drawn(overrun_doc: dict[str, Any]) -> None:
    html = render_html(overrun_doc)
    check = next(c for c in overrun_doc["checks"] if c["id"] == SPLIT_CHECK)
    section = _section(html, f"check-{check['id']}")
    svg = section[section.find("<svg") : section.find("</svg>")]
    assert "Certificate lineage" in section
    assert "issuance 1" in svg and "bundle 1" in svg
    assert svg.count("<rect") >= 4 and svg.count("<path") >= 3  # issuance, parent, two parts
    assert "transfer 300 Wh to ACC-BOB" in _text(section)


def test_a_wrongly_accepted_step_is_marked_in_the_steps_and_the_lineage(
    xfail_doc: dict[str, Any],
) -> None:
    html = render_html(xfail_doc)
    check = next(c for c in xfail_doc["checks"] if c["id"] == CANCEL_OWNER_CHECK)
    assert check["status"] == "fail"
    section = _section(html, f"check-{CANCEL_OWNER_CHECK}")
    wrong = [s for s in check["steps"] if s["answer"]["accepted"] and s["expectation"] != "accept"]
    assert wrong
    assert section.count('class="wrong"') == len(wrong)
    assert 'stroke="#cf222e"' in section  # the bundle the wrong step changed is outlined red
    assert "✗ not as expected" in section


def test_expected_failures_and_unexpected_passes_are_listed(xfail_doc: dict[str, Any]) -> None:
    statuses = {c["id"]: c["status"] for c in xfail_doc["checks"]}
    assert statuses[OWNER_CHECK] == "xfail" and statuses[SPLIT_CHECK] == "xpass"
    html = render_html(xfail_doc)
    xfail = _text(html[html.find('id="xfail"') : html.find('id="skips"')])
    assert OWNER_CHECK in xfail and "vendor ticket 12 <b>owner</b> check" in xfail
    assert f"Unexpected passes (listed as expected failures, but passed): {SPLIT_CHECK}" in xfail
    assert "remove the entry" in _text(_section(html, f"check-{SPLIT_CHECK}"))


def test_skips_are_listed_with_their_reasons(limited_doc: dict[str, Any]) -> None:
    html = render_html(limited_doc)
    skips = _text(html[html.find('id="skips"') : html.find('id="mismatches"')])
    skipped = next(c for c in limited_doc["checks"] if c["id"] == STORAGE_CHECK)
    assert skipped["status"] == "skip"
    assert f"1 check(s): {skipped['message']}" in skips
    assert STORAGE_CHECK in skips


def test_the_page_is_self_contained_printable_and_readable_without_scripts(
    overrun_doc: dict[str, Any],
) -> None:
    html = render_html(overrun_doc)
    assert not re.search(r'\b(src|href)="(?!#)', html), "every link is in-page, nothing loads"
    assert "@import" not in html and "url(" not in html
    assert "@media print" in html
    assert '<form id="filters" hidden' in html  # the script reveals the filters
    assert "hidden-by-filter" not in html.split("<script>")[0].split("</style>")[1]
    for status in ("fail", "pass", "skip", "error", "xfail", "xpass"):
        assert f'data-filter="status" value="{status}"' in html
    for profile in overrun_doc["profiles"]:
        assert f'data-filter="profile" value="{profile["profile"]}"' in html


def test_the_same_document_gives_the_same_bytes(overrun_doc: dict[str, Any]) -> None:
    assert render_html(overrun_doc) == render_html(json.loads(json.dumps(overrun_doc)))


def test_two_runs_of_the_same_suite_differ_only_on_the_date_line(tmp_path: Path) -> None:
    args = ("--adapter", "faulty:partial-transfer-range-overrun", "--check", SPLIT_CHECK)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = run_document(tmp_path / "a", *args), run_document(tmp_path / "b", *args)
    # Two runs may start within one second; a different stamp makes the date line differ for sure.
    first["run"]["started"] = "2000-01-01T00:00:00Z"
    # What legitimately differs between two runs besides the date: the command line (its
    # output paths) and the measured durations. The same document renders the same bytes.
    for doc in (first, second):
        doc.pop("environment", None)
        for check in doc["checks"]:
            check.pop("duration", None)
    lines_a, lines_b = render_html(first).splitlines(), render_html(second).splitlines()
    assert len(lines_a) == len(lines_b)
    differing = [(a, b) for a, b in zip(lines_a, lines_b, strict=True) if a != b]
    assert len(differing) == 1
    assert 'class="date"' in differing[0][0] and "2000-01-01T00:00:00Z" in differing[0][0]


def test_a_failing_step_recorded_over_http_shows_the_exchange_and_its_curl_escaped(
    overrun_doc: dict[str, Any],
) -> None:
    doc = json.loads(json.dumps(overrun_doc))
    failing = next(c for c in doc["checks"] if c["status"] == "fail" and c["steps"])
    failing["steps"][-1]["exchanges"] = [
        {
            "method": "POST",
            "url": "http://127.0.0.1:8000/certificates/certificates/transfer",
            "status": 202,
            "curl": "curl -sS -X POST 'http://127.0.0.1:8000/x' --data-raw '{\"a\":\"<script>\"}'",
        }
    ]
    html = render_html(doc)
    text = _text(html)
    assert "POST http://127.0.0.1:8000/certificates/certificates/transfer -> HTTP 202" in text
    assert "curl -sS -X POST 'http://127.0.0.1:8000/x'" in text
    assert '<script>"}' not in html and "&lt;script&gt;" in html
