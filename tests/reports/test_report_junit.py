"""JUnit XML as CI parsers read it: counts in the suite attributes, one testcase per check."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest

from gc_conformance.reports import render_junit
from gc_conformance.reports.junit import xml_text


def _parse(document: dict[str, Any]) -> ET.Element:
    return ET.fromstring(render_junit(document).encode("utf-8"))


@pytest.mark.parametrize("name", ["pass", "overrun", "xfail", "limited"])
def test_suite_counts_match_the_testcases_outcomes(
    real_documents: dict[str, dict[str, Any]], name: str
) -> None:
    document = real_documents[name]
    suite = _parse(document)
    cases = suite.findall("testcase")
    assert int(suite.get("tests", "-1")) == len(cases) == len(document["checks"])
    for outcome, attribute in (
        ("failure", "failures"),
        ("error", "errors"),
        ("skipped", "skipped"),
    ):
        assert int(suite.get(attribute, "-1")) == sum(
            1 for c in cases if c.find(outcome) is not None
        )
    counts = document["summary"]["counts"]
    # A waived SHALL failure (xfail) stays a counted failure: the verdict is not a pass.
    waived = len(document["summary"]["waived"])
    assert int(suite.get("failures", "-1")) == counts["fail"] + waived
    assert int(suite.get("errors", "-1")) == counts["error"]
    assert int(suite.get("skipped", "-1")) == counts["skip"] + counts["xfail"] - waived


def test_each_testcase_carries_its_requirement_ids_and_status(
    real_documents: dict[str, dict[str, Any]],
) -> None:
    for document in real_documents.values():
        cases = {c.get("name"): c for c in _parse(document).findall("testcase")}
        for check in document["checks"]:
            case = cases[check["id"]]
            props = [(p.get("name"), p.get("value")) for p in case.iter("property")]
            assert [v for n, v in props if n == "requirement"] == check["requirements"]
            assert ("gc.status", check["status"]) in props
            assert case.get("classname") == f"gc_conformance.{check['profile']}"


def test_a_failure_carries_expected_observed_and_the_reproducing_command(
    overrun_doc: dict[str, Any],
) -> None:
    cases = {c.get("name"): c for c in _parse(overrun_doc).findall("testcase")}
    for check in overrun_doc["checks"]:
        if check["status"] != "fail":
            continue
        failure = cases[check["id"]].find("failure")
        assert failure is not None and failure.text
        assert f"expected: {check['expected']}" in failure.text
        assert f"reproduce: {check['reproduce']}" in failure.text


def test_a_waived_shall_failure_stays_a_marked_failure_and_xpass_passes(
    xfail_doc: dict[str, Any],
) -> None:
    cases = {c.get("name"): c for c in _parse(xfail_doc).findall("testcase")}
    for check in xfail_doc["checks"]:
        case = cases[check["id"]]
        if check["status"] == "xfail":
            waived = case.find("failure")
            assert waived is not None and waived.get("type") == "waived"
            assert xfail_doc["run"]["xfail"][check["id"]] in waived.get("message", "")
        if check["status"] == "xpass":
            assert [e.tag for e in case if e.tag != "properties"] == []


def test_characters_xml_cannot_hold_become_visible_escapes() -> None:
    assert xml_text("a\x00b\x1bc\ttab") == "a\\x00b\\x1bc\ttab"
    assert xml_text("Ωμέγα 日本語 😀") == "Ωμέγα 日本語 😀"
