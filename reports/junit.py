"""JUnit XML from a run document: what CI systems parse.

CI parsers (Jenkins, GitLab, GitHub actions, Azure) read ``testsuite``
attributes for the counts and each ``testcase``'s child for its outcome, so
the counts here are computed from the same checks the cases are written
from. Text from the registry may hold characters XML 1.0 cannot carry at all
(control characters); those are written as visible ``\\xNN`` escapes, because
one stray byte would make the whole file unparseable and the CI job would
report nothing.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Mapping
from typing import Any

MESSAGE_LIMIT = 500  # attribute values are shown on one line by most CI front ends
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: object) -> str:
    """``value`` as text XML 1.0 can hold: forbidden characters become ``\\xNN`` escapes."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", str(value))


def render_junit(document: Mapping[str, Any]) -> str:
    """One ``testcase`` per check; FAIL -> ``failure``, ERROR -> ``error``, SKIP -> ``skipped``.

    XFAIL of a SHALL check is a *waived* failure: it stays a ``failure``
    (``type="waived"``, counted), because the run's verdict is ``waived``, not a
    pass; an XFAIL of a SHOULD or MAY check is ``skipped`` with the vendor's
    reason. XPASS is a pass with a ``gc.status`` property, so it is visible
    without breaking the build. Requirement IDs are ``requirement`` properties
    of each testcase. The suite's name carries the verdict, so that an
    incomplete or waived run says so first in any CI front end.
    """
    checks = document["checks"]
    shall = {r["id"] for r in document.get("requirements", ()) if r.get("level") == "SHALL"}
    waived = {c["id"] for c in checks if c["status"] == "xfail" and shall & set(c["requirements"])}
    counts = Counter(check["status"] for check in checks)
    run = document["run"]
    summary = document["summary"]
    verdict = str(summary["verdict"])
    total_time = sum(_seconds(c) for c in checks)
    suite = ET.Element(
        "testsuite",
        {
            "name": xml_text(f"gc-conformance: {verdict.upper()}"),
            "tests": str(len(checks)),
            "failures": str(counts["fail"] + len(waived)),
            "errors": str(counts["error"]),
            "skipped": str(counts["skip"] + counts["xfail"] - len(waived)),
            "time": f"{total_time:.3f}",
            "timestamp": xml_text(run.get("started", "")),
        },
    )
    _suite_properties(ET.SubElement(suite, "properties"), document)
    xfail_reasons = run.get("xfail") or {}
    for check in checks:
        _testcase(suite, check, waived, xfail_reasons)
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def _suite_properties(properties: ET.Element, document: Mapping[str, Any]) -> None:
    """The run's verdict first (what a CI front end shows), then what the run was of."""
    summary, run, registry = document["summary"], document["run"], document["registry"]
    verdict = str(summary["verdict"])
    suite_info = document["suite"]
    first: list[tuple[str, object]] = [("verdict", verdict)]
    if summary.get("incomplete"):
        first.append(("incomplete", f"INCOMPLETE RUN: {summary['incomplete']}"))
    if summary.get("scope"):
        first.append(("scope", summary["scope"]))
    if summary.get("meaning"):
        first.append(("verdict.meaning", summary["meaning"]))
    for name, value in first:
        ET.SubElement(properties, "property", {"name": name, "value": xml_text(value)})
    for name, value in (
        ("adapter", run["adapter"]),
        ("seed", run["seed"]),
        ("registry", f"{registry['name']} {registry['version']}"),
        ("suite", f"{suite_info['name']} {suite_info['version']}"),
        ("standard", suite_info["standard"]),
        ("vectors_root_hash", suite_info.get("vectors_root_hash") or "not recorded"),
    ):
        ET.SubElement(properties, "property", {"name": name, "value": xml_text(value)})
    for policy, value in sorted(registry.get("policies", {}).items()):
        ET.SubElement(
            properties, "property", {"name": f"policy.{xml_text(policy)}", "value": xml_text(value)}
        )


def _testcase(
    suite: ET.Element,
    check: Mapping[str, Any],
    waived: set[str],
    xfail_reasons: Mapping[str, str],
) -> None:
    """One check as a ``testcase``: its requirements and gc.* properties, then its outcome."""
    case = ET.SubElement(
        suite,
        "testcase",
        {
            "classname": xml_text(f"gc_conformance.{check['profile']}"),
            "name": xml_text(check["id"]),
            "time": f"{_seconds(check):.3f}",
        },
    )
    props = ET.SubElement(case, "properties")
    for rid in check["requirements"]:
        ET.SubElement(props, "property", {"name": "requirement", "value": xml_text(rid)})
    ET.SubElement(props, "property", {"name": "gc.status", "value": check["status"]})
    if check.get("skip_kind"):
        ET.SubElement(
            props, "property", {"name": "gc.skip_kind", "value": xml_text(check["skip_kind"])}
        )
    if check.get("severity"):
        ET.SubElement(props, "property", {"name": "gc.severity", "value": check["severity"]})
    if check.get("failure_kind"):
        ET.SubElement(
            props, "property", {"name": "gc.failure_kind", "value": check["failure_kind"]}
        )
    status = check["status"]
    message = xml_text(check["message"][:MESSAGE_LIMIT])
    if status in ("fail", "error"):
        attributes = {"message": message}
        if status == "fail" and check.get("failure_kind"):
            attributes["type"] = str(check["failure_kind"])  # CI tools group by type
        element = ET.SubElement(case, "failure" if status == "fail" else "error", attributes)
        element.text = xml_text(_failure_text(check))
    elif status == "xfail" and check["id"] in waived:
        reason = xfail_reasons.get(check["id"], "listed in the xfail file")
        element = ET.SubElement(
            case,
            "failure",
            {
                "type": "waived",
                "message": xml_text(f"WAIVED SHALL failure: {reason}"[:MESSAGE_LIMIT]),
            },
        )
        element.text = xml_text(_failure_text(check))
    elif status == "skip" and check.get("skip_kind") == "not-verified":
        ET.SubElement(
            case,
            "skipped",
            {"message": xml_text(f"NOT VERIFIED: {check['message']}"[:MESSAGE_LIMIT])},
        )
    elif status == "skip":
        ET.SubElement(case, "skipped", {"message": message})
    elif status == "xfail":
        reason = xfail_reasons.get(check["id"], "listed in the xfail file")
        skipped = ET.SubElement(
            case,
            "skipped",
            {"message": xml_text(f"expected failure: {reason}"[:MESSAGE_LIMIT])},
        )
        skipped.text = xml_text(_failure_text(check))


def _seconds(check: Mapping[str, Any]) -> float:
    value = check.get("duration")
    return float(value) if isinstance(value, int | float) and value >= 0 else 0.0


def _failure_text(check: Mapping[str, Any]) -> str:
    lines = [check["message"]]
    if check.get("requirements"):
        lines.append(f"requirements: {', '.join(check['requirements'])}")
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
