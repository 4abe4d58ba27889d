"""Everything the registry under test says reaches the reports as text, never as markup.

The hostile document is a real run document with every registry-supplied
string (name, version, policy names and values, messages, expected/observed,
step requests and answers, bundle IDs, adapter errors, the adapter spec, the
vendor's xfail reasons, the vector hash) replaced by markup, quotes,
non-ASCII, control characters and one 5000-character word.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from typing import Any

from report_samples import LONG, SHOWN_TAGS, hostile

from gc_conformance.reports import render_html, render_junit
from gc_conformance.reports.schema import validate_run_document

#: Every element the report itself uses; anything else came from the data.
REPORT_TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "p", "div",
    "span", "b", "i", "small", "br", "a", "nav", "table", "thead", "tbody", "tr", "th", "td",
    "code", "pre", "ul", "li", "section", "form", "fieldset", "legend", "label", "input",
    "svg", "g", "rect", "text", "path", "footer", "script", "wbr",
}  # fmt: skip


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend((name, value or "") for name, value in attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    return page


def test_the_hostile_document_is_a_valid_run_document(hostile_doc: dict[str, Any]) -> None:
    validate_run_document(hostile_doc)


def test_no_registry_string_becomes_markup_in_the_html_report(hostile_doc: dict[str, Any]) -> None:
    html = render_html(hostile_doc)
    page = _parse(html)
    assert page.tags.count("script") == 1, "only the report's own filter script"
    assert set(page.tags) <= REPORT_TAGS, set(page.tags) - REPORT_TAGS
    handlers = [name for name, _ in page.attributes if name.startswith("on")]
    assert handlers == [], "an attribute injection created an event handler"
    assert not any("://" in value or "javascript:" in value for _, value in page.attributes)
    assert "<script>alert" not in html and "<img src=x" not in html


def test_every_registry_string_is_shown_as_text(hostile_doc: dict[str, Any]) -> None:
    text = "".join(_parse(render_html(hostile_doc)).text)
    for tag in SHOWN_TAGS:
        assert hostile(tag) in text, f"the {tag} field is not shown verbatim (as escaped text)"
    assert LONG in text
    assert "Ωμέγα 日本語" in text


def test_junit_escapes_hostile_and_control_characters_and_still_parses(
    hostile_doc: dict[str, Any],
) -> None:
    xml = render_junit(hostile_doc)
    root = ET.fromstring(xml.split("\n", 1)[1])
    assert root.tag == "testsuite"
    failure = next(
        case.find("failure") for case in root.iter("testcase") if case.find("failure") is not None
    )
    assert failure is not None
    assert hostile("message") in failure.get("message", "")
    assert "\\x1b" in failure.get("message", "") and "\\x00" in (failure.text or "")
    properties = {p.get("name"): p.get("value") for p in root.find("properties") or []}
    assert properties["registry"].startswith(hostile("registry-name"))
    assert properties[f"policy.{hostile('policy-name')}"] == "x"
