"""The self-contained HTML conformance report (jinja2, autoescape always on).

The page is what a vendor hands its accreditation auditor, so it must stand
alone: one file, no network, inline CSS and SVG, readable with scripts off and
on paper. Every string that came from the registry under test (its name,
version, policy values, messages, IDs, request and answer contents) reaches
the page only through jinja2's autoescaping; nothing is marked safe.

This module turns a run document into a view (plain dicts and the geometry
of :mod:`charts` and :mod:`lineage`) and hands it to the template; it reads
the document only, never the suite. The same document always renders to the
same bytes; the run's date sits on one line of its own, so two runs of the
same suite differ only there.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import jinja2

from gc_conformance.reports.charts import COLOURS, LABELS, STATUS_ORDER, status_chart
from gc_conformance.reports.compare import compare_runs
from gc_conformance.reports.lineage import KIND_FILL, draw_lineage, step_went_wrong
from gc_conformance.reports.sections import section_reference

PROBLEM_STATUSES = ("fail", "error", "xpass")
_VERDICT_TEXT = {
    "pass": "Every check of a SHALL requirement that ran passed",
    "fail": "At least one check of a SHALL requirement failed",
    "error": "No SHALL check failed, but some checks got no usable answer from the registry",
    "incomplete": "The run was interrupted or crashed before every selected check had a "
    "result: this is no verdict on the registry",
    "no-checks": "No selected check ran: nothing was judged",
    "not-verified": "No check failed, but requirements of a claimed profile could not be "
    "verified through what the registry offers: not a pass",
    "waived": "No unexpected failure, but SHALL failures were waived by the vendor's xfail "
    "file: not a pass",
}


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("gc_conformance.reports", "templates"),
        autoescape=True,  # always: names, messages and IDs come from the registry under test
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_html(document: Mapping[str, Any], *, previous: Mapping[str, Any] | None = None) -> str:
    """Render a run document (compared with ``previous``, a run document of an earlier run,
    when given); the same documents always give the same bytes."""
    environment = _environment()
    environment.globals["anchor"] = anchor
    environment.globals["seconds"] = seconds
    environment.globals["id_parts"] = id_parts
    template = environment.get_template("report.html.j2")
    view = report_view(document)
    view["comparison"] = compare_runs(previous, document).to_plain() if previous else None
    return with_content_security_policy(template.render(**view))


def seconds(value: object) -> str:
    """A check's duration for the reader: ``0.41 s``, ``12 s``, or ``—`` when not recorded."""
    if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
        return "—"
    if value < 10:
        return f"{value:.2f} s"
    return f"{value:.0f} s"


def id_parts(check_id: str) -> list[str]:
    """A check ID cut after each dot: the template joins the parts with ``<wbr>``, so an ID
    wraps only between its words, never inside one."""
    parts = check_id.split(".")
    return [part + "." for part in parts[:-1]] + parts[-1:]


_INLINE = re.compile(r"<(style|script)>(.*?)</\1>", re.DOTALL)
_STYLE_ATTRIBUTE = re.compile(r'\sstyle="([^"]*)"')


def with_content_security_policy(page: str) -> str:
    """Add a restrictive Content-Security-Policy allowing only this page's own inline code.

    Nothing may load from the network, and only the exact inline ``<style>`` and
    ``<script>`` blocks rendered here (by SHA-256) may run, so text a registry
    managed to smuggle into the page could never execute even if escaping failed.
    """
    import base64
    import hashlib
    import html as _html

    def source(text: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"

    blocks: dict[str, list[str]] = {"style": [], "script": []}
    for kind, body in _INLINE.findall(page):
        blocks[kind].append(source(body))
    attributes = sorted({source(_html.unescape(v)) for v in _STYLE_ATTRIBUTE.findall(page)})
    style = " ".join([*blocks["style"], *(["'unsafe-hashes'", *attributes] if attributes else [])])
    policy = (
        "default-src 'none'; img-src data:; base-uri 'none'; form-action 'none'; "
        f"style-src {style or chr(39) + 'none' + chr(39)}; "
        f"script-src {' '.join(blocks['script']) or chr(39) + 'none' + chr(39)}"
    )
    meta = f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
    return page.replace('<meta charset="utf-8">', f'<meta charset="utf-8">\n{meta}', 1)


def report_view(document: Mapping[str, Any]) -> dict[str, Any]:
    """Everything the template shows, derived from the document alone."""
    requirements: Sequence[Mapping[str, Any]] = document["requirements"]
    checks: Sequence[Mapping[str, Any]] = document["checks"]
    by_id = {r["id"]: r for r in requirements}
    check_status = {c["id"]: c["status"] for c in checks}
    shall = {r["id"] for r in requirements if r["level"] == "SHALL"}
    run = document["run"]
    profiles = [
        {**p, "verdict": _profile_verdict(p, run.get("profiles"), checks, shall)}
        for p in document["profiles"]
    ]
    suite = document["suite"]
    return {
        "doc": document,
        "colours": COLOURS,
        "lineage_fill": KIND_FILL,
        "labels": LABELS,
        "status_order": STATUS_ORDER,
        "verdict_text": _VERDICT_TEXT.get(
            document["summary"]["verdict"], str(document["summary"].get("meaning", ""))
        ),
        "vectors_hash": suite.get("vectors_root_hash") or None,
        "date_line": _date_line(run),
        "profiles": profiles,
        "profile_names": [p["profile"] for p in profiles],
        "chart": status_chart([(p["profile"], p["counts"]) for p in profiles]),
        "overall_chart": status_chart([("all checks", document["summary"]["counts"])]),
        "clauses": _clauses(requirements, check_status),
        "problems": [_problem(c, by_id) for c in checks if c["status"] in PROBLEM_STATUSES],
        "failure_kinds": sorted(
            Counter(str(c["failure_kind"]) for c in checks if c.get("failure_kind")).items()
        ),
        "expected_failures": [c for c in checks if c["status"] == "xfail"],
        "xfail_reasons": run.get("xfail") or {},
        "skip_groups": _skip_groups(checks),
        "mismatches": [c for c in checks if c.get("code_mismatch")],
        "untested_shall": [
            by_id.get(rid, {"id": rid, "title": ""})
            for rid in document["summary"]["untested_shall"]
        ],
        "status_counts": _row_counts(checks),
        "scope": _scope(document, profiles),
        "environment": _environment_rows(document),
        "timing": _timing(document),
        "passed_checks": [c for c in checks if c["status"] == "pass" and "#" not in c["id"]],
        "passed_vectors": _passed_vector_groups(checks),
        "other_checks": [c for c in checks if c["status"] not in ("pass", "skip")],
        "section_of": {r["clause"]: section_reference(r["clause"]) for r in requirements},
    }


def _scope(document: Mapping[str, Any], profiles: Sequence[Mapping[str, Any]]) -> str:
    """What the verdict covers, in one line: the judged profiles, the unjudged, the vectors."""
    recorded = document["summary"].get("scope")
    if isinstance(recorded, str) and recorded:
        return recorded  # the run's own line (verdict, judged profiles, vectors)
    judged = [p["profile"] for p in profiles if p["verdict"] in ("pass", "fail", "error")]
    parts = [f"judged: {', '.join(judged) if judged else 'no profile'}"]
    by_reason: dict[str, list[str]] = defaultdict(list)
    for p in profiles:
        if p["profile"] not in judged:
            by_reason[p["verdict"]].append(p["profile"])
    parts += [f"{reason}: {', '.join(names)}" for reason, names in sorted(by_reason.items())]
    styles = document["registry"].get("issuance_styles") or []
    if styles:
        parts.append(f"issuance: {', '.join(styles)}")
    vectors = document.get("vectors")
    if isinstance(vectors, Mapping) and vectors.get("replayed", True) and "cases" in vectors:
        parts.append(
            f"golden vectors: {vectors.get('passed', '?')} of {vectors['cases']} cases passed"
        )
    else:
        parts.append("golden vectors: not replayed in this run")
    return "; ".join(parts)


def _passed_vector_groups(checks: Sequence[Mapping[str, Any]]) -> list[tuple[str, int]]:
    """Passed golden vector cases (IDs ``file#case``), one entry per vector file: hundreds of
    passing cases read as a line, the failing ones stay in full among the failures."""
    groups: Counter[str] = Counter(
        c["id"].partition("#")[0] for c in checks if c["status"] == "pass" and "#" in c["id"]
    )
    return sorted(groups.items())


def _environment_rows(document: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The command line and the machine that made the run (optional in the document)."""
    env = document.get("environment")
    if not isinstance(env, Mapping):
        return []
    rows = [
        (label, str(env[key]))
        for key, label in (
            ("command", "Command line"),
            ("python", "Python"),
            ("os", "Operating system"),
            ("machine", "Machine"),
        )
        if env.get(key)
    ]
    packages = env.get("packages")
    if isinstance(packages, Mapping) and packages:
        rows.append(("Packages", ", ".join(f"{k} {v}" for k, v in sorted(packages.items()))))
    return rows


def _timing(document: Mapping[str, Any]) -> str:
    """Total time spent in checks and the slowest one, from the optional per-check durations."""
    timed = [
        (float(c["duration"]), c["id"])
        for c in document["checks"]
        if isinstance(c.get("duration"), int | float) and not isinstance(c.get("duration"), bool)
    ]
    if not timed:
        return "per-check durations not recorded"
    slowest = max(timed)
    return (
        f"{seconds(sum(d for d, _ in timed))} in {len(timed)} timed checks; "
        f"slowest {slowest[1]} ({seconds(slowest[0])})"
    )


def anchor(check_id: str) -> str:
    """An HTML id for a check: its ID with anything outside a plain URL fragment replaced."""
    return "check-" + re.sub(r"[^A-Za-z0-9._:-]", "_", check_id)


def _date_line(run: Mapping[str, Any]) -> str:
    started, finished = run.get("started") or "not recorded", run.get("finished") or "not recorded"
    return f"started {started}, finished {finished}"


def _profile_verdict(
    profile: Mapping[str, Any],
    selected: Sequence[str] | None,
    checks: Sequence[Mapping[str, Any]],
    shall: set[str],
) -> str:
    """A profile's verdict by the run's own rule, or why it was not judged."""
    if not profile["claimed"]:
        return "not claimed"
    if selected is not None and profile["profile"] not in selected:
        return "not selected"
    members = [c for c in checks if c["profile"] == profile["profile"]]
    if not members or all(c["status"] == "skip" for c in members):
        return "not tested"
    if any(c["status"] == "fail" and shall & set(c["requirements"]) for c in members):
        return "fail"
    if any(c["status"] == "error" for c in members):
        return "error"
    if any(c["status"] == "skip" and c.get("skip_kind") == "not-verified" for c in members):
        return "not verified"
    if any(c["status"] == "xfail" and shall & set(c["requirements"]) for c in members):
        return "waived"
    return "pass"


def _clause_key(clause: str) -> tuple[int, str]:
    match = re.search(r"\bD(\d+)\s*$", clause)
    return (int(match.group(1)) if match else 10_000, clause)


def _clauses(
    requirements: Sequence[Mapping[str, Any]], check_status: Mapping[str, str]
) -> list[dict[str, Any]]:
    groups: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for requirement in requirements:
        groups[requirement["clause"]].append(requirement)
    out = []
    for clause in sorted(groups, key=_clause_key):
        rows = []
        for r in sorted(groups[clause], key=lambda r: _natural(r["id"])):
            rows.append(
                {
                    **r,
                    "check_rows": [
                        {"id": cid, "status": check_status.get(cid, "skip")} for cid in r["checks"]
                    ],
                }
            )
        counts = Counter(r["status"] for r in rows)
        out.append(
            {
                "clause": clause,
                "section": section_reference(clause),
                "requirements": rows,
                "counts": [(s, counts[s]) for s in STATUS_ORDER if counts[s]],
            }
        )
    return out


def _natural(text: str) -> tuple[Any, ...]:
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text))


def changed_step(message: str) -> int | None:
    """The step a failure names first (``"step 8: the refused cancel changed ..."``): the
    harness's convention for the step that went wrong although its answer looked right."""
    match = re.match(r"step (\d+)\b", message)
    return int(match.group(1)) if match else None


def _problem(check: Mapping[str, Any], by_id: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    steps = check.get("steps") or []
    named = changed_step(str(check.get("message", "")))
    return {
        **check,
        "requirement_rows": [
            {**row, "section": section_reference(str(row.get("clause", "")))}
            for row in (
                by_id.get(
                    rid, {"id": rid, "level": "?", "title": "(not in this document's catalogue)"}
                )
                for rid in check["requirements"]
            )
        ],
        "step_rows": [_step_row(step, named) for step in steps],
        "lineage": draw_lineage(steps, changed_by=named) if steps else None,
    }


def _step_row(step: Mapping[str, Any], named: int | None = None) -> dict[str, Any]:
    request = step.get("request") or {}
    fields = {k: v for k, v in request.items() if k not in ("action", "actor", "now")}
    answer = step.get("answer")
    if not isinstance(answer, Mapping):
        answer_text = f"ADAPTER ERROR: {step.get('error') or 'no answer'}"
    elif answer.get("accepted"):
        answer_text = "accepted " + _compact(answer.get("result") or {})
    else:
        answer_text = f"rejected {answer.get('code')}"
        if answer.get("message"):
            answer_text += f": {answer['message']}"
    return {
        "number": step.get("number"),
        "now": request.get("now", ""),
        "actor": request.get("actor", ""),
        "action": request.get("action", ""),
        "fields": _compact(fields),
        "expectation": step.get("expectation", ""),
        "answer": answer_text,
        "wrong": step_went_wrong(step) or (named is not None and step.get("number") == named),
        "wire": [_wire_row(e) for e in step.get("exchanges") or () if isinstance(e, Mapping)],
    }


def _wire_row(exchange: Mapping[str, Any]) -> dict[str, str]:
    """One recorded HTTP exchange of a step (HTTP adapters record them, secrets redacted)."""
    outcome = exchange.get("error") or f"HTTP {exchange.get('status', '?')}"
    return {
        "line": f"{exchange.get('method', '?')} {exchange.get('url', '?')} -> {outcome}",
        "curl": str(exchange.get("curl", "")),
    }


def _compact(value: object) -> str:
    """Readable JSON: non-ASCII kept as written (escaping for HTML is the template's job)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(", ", ": "))


def _skip_groups(checks: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Skips grouped by reason: ninety skips for one unclaimed profile read as one line."""
    groups: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for check in checks:
        if check["status"] == "skip":
            groups[check["message"]].append(check)
    return [
        {"reason": reason, "checks": members, "profiles": sorted({c["profile"] for c in members})}
        for reason, members in sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))
    ]


def _row_counts(checks: Sequence[Mapping[str, Any]]) -> list[tuple[str, int]]:
    counts = Counter(c["status"] for c in checks)
    return [(status, counts[status]) for status in STATUS_ORDER]
