"""What an audit writes: the JSON document, JUnit XML (one test case per risk) and HTML."""

from __future__ import annotations

import html
import json
from collections import Counter
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from gc_conformance.audit.engines import AuditResult
from gc_conformance.reference.invariants import Risk

FORMAT = "gc-conformance-audit/1"


def document(result: AuditResult, inputs: list[Path]) -> dict[str, Any]:
    counts = Counter(f.risk.name for f in result.findings)
    return {
        "format": FORMAT,
        "verdict": "clean" if result.ok else "findings",
        "inputs": [str(p) for p in inputs],
        "actions": result.actions,
        "engine": result.engine,
        "engine_used": result.engine_used,
        "fallback": list(result.fallback),
        "seconds": round(result.seconds, 3),
        "counts": {risk.name: counts.get(risk.name, 0) for risk in Risk},
        "risks": {risk.name: risk.value for risk in Risk},
        "findings": [f.to_plain() for f in result.findings],
    }


def write_json(path: Path, doc: dict[str, Any]) -> None:
    path.write_text(json.dumps(doc, indent=2, default=str) + "\n", encoding="utf-8")


def write_junit(path: Path, doc: dict[str, Any]) -> None:
    """One test case per risk: failed when the audit found anything under it."""
    findings = doc["findings"]
    suite = ET.Element(
        "testsuite",
        name="gc-conformance audit",
        tests=str(len(Risk)),
        failures=str(sum(1 for r in Risk if doc["counts"][r.name])),
        errors="0",
        time=str(doc["seconds"]),
    )
    for risk in Risk:
        case = ET.SubElement(suite, "testcase", classname="audit", name=risk.name)
        mine = [f for f in findings if f["risk"] == risk.name]
        if mine:
            failure = ET.SubElement(
                case, "failure", message=f"{len(mine)} finding(s): {risk.value}"
            )
            failure.text = "\n".join(
                f"action {f['action_id']} bundle {f['bundle_id']}: {f['message']}"
                for f in mine[:1000]
            )
    root = ET.Element("testsuites")
    root.append(suite)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def write_html(path: Path, doc: dict[str, Any]) -> None:
    """A self-contained page: the verdict, counts per risk and every finding (first 10,000)."""
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(f['risk'])}</td><td>{e(str(f['action_id']))}</td>"
        f"<td>{e(str(f['bundle_id']))}</td><td>{e(f['message'])}</td></tr>"
        for f in doc["findings"][:10_000]
    )
    counts = "".join(
        f"<tr><td>{e(name)}</td><td>{e(doc['risks'][name])}</td><td>{n}</td></tr>"
        for name, n in doc["counts"].items()
    )
    fallback = (
        f"<p><b>Judged by the Python oracle</b> ({e('; '.join(doc['fallback']))}).</p>"
        if doc["fallback"]
        else ""
    )
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>gc-conformance audit</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:2px 6px;text-align:left}}</style></head><body>
<h1>gc-conformance audit: {e(doc["verdict"].upper())}</h1>
<p>{doc["actions"]:,} actions from {e(", ".join(doc["inputs"]))}; engine {e(doc["engine"])}
(used: {e(doc["engine_used"])}), {doc["seconds"]} s.</p>{fallback}
<h2>Findings per risk</h2><table><tr><th>risk</th><th>meaning</th><th>findings</th></tr>
{counts}</table>
<h2>Findings ({len(doc["findings"]):,})</h2>
<table><tr><th>risk</th><th>action</th><th>bundle</th><th>message</th></tr>{rows}</table>
</body></html>
"""
    path.write_text(page, encoding="utf-8")
