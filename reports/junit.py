"""JUnit XML from a run document: what CI systems parse."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any


def render_junit(document: Mapping[str, Any]) -> str:
    """One ``testcase`` per check; FAIL -> ``failure``, ERROR -> ``error``, SKIP -> ``skipped``.

    XFAIL is reported as ``skipped`` with the vendor's reason (JUnit has no
    expected failure); XPASS as a pass with a ``gc.status`` property, so it is
    visible without breaking the build.
    """
    checks = document["checks"]
    counts = document["summary"]["counts"]
    suite = ET.Element(
        "testsuite",
        {
            "name": "gc-conformance",
            "tests": str(len(checks)),
            "failures": str(counts.get("fail", 0)),
            "errors": str(counts.get("error", 0)),
            "skipped": str(counts.get("skip", 0) + counts.get("xfail", 0)),
            "timestamp": str(document["run"].get("started", "")),
        },
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("adapter", document["run"]["adapter"]),
        ("seed", document["run"]["seed"]),
        ("registry", f"{document['registry']['name']} {document['registry']['version']}"),
        ("verdict", document["summary"]["verdict"]),
    ):
        ET.SubElement(properties, "property", {"name": name, "value": str(value)})
    for check in checks:
        case = ET.SubElement(
            suite,
            "testcase",
            {"classname": f"gc_conformance.{check['profile']}", "name": check["id"]},
        )
        props = ET.SubElement(case, "properties")
        for rid in check["requirements"]:
            ET.SubElement(props, "property", {"name": "requirement", "value": rid})
        ET.SubElement(props, "property", {"name": "gc.status", "value": check["status"]})
        status = check["status"]
        text = _failure_text(check)
        if status == "fail":
            element = ET.SubElement(case, "failure", {"message": check["message"][:500]})
            element.text = text
        elif status == "error":
            element = ET.SubElement(case, "error", {"message": check["message"][:500]})
            element.text = text
        elif status in ("skip", "xfail"):
            ET.SubElement(case, "skipped", {"message": check["message"][:500]})
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def _failure_text(check: Mapping[str, Any]) -> str:
    lines = [check["message"]]
    if check.get("expected"):
        lines.append(f"expected: {check['expected']}")
    if check.get("observed"):
        lines.append(f"observed: {check['observed']}")
    for step in check.get("steps", ()):
        answer = step.get("answer") or {}
        lines.append(f"step {step['number']}: {step['request']} -> {answer or step.get('error')}")
    if check.get("reproduce"):
        lines.append(f"reproduce: {check['reproduce']}")
    return "\n".join(lines)
