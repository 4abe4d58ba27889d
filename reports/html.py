"""The self-contained HTML conformance report (jinja2, autoescape always on)."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import groupby
from typing import Any

import jinja2

_STATUS_ORDER = ("fail", "error", "xpass", "xfail", "pass", "skip")
_COLOURS = {
    "pass": "#1a7f37",
    "fail": "#cf222e",
    "error": "#9a6700",
    "skip": "#8c959f",
    "xfail": "#8250df",
    "xpass": "#bf3989",
}


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("gc_conformance.reports", "templates"),
        autoescape=True,  # always: names, messages and IDs come from the registry under test
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _bars(counts: Mapping[str, int], width: int = 320) -> list[dict[str, Any]]:
    """Stacked-bar segments (x, width, colour) for an inline SVG status chart."""
    total = sum(counts.values()) or 1
    x = 0.0
    segments = []
    for status in _STATUS_ORDER:
        n = counts.get(status, 0)
        if not n:
            continue
        w = width * n / total
        segments.append(
            {
                "status": status,
                "n": n,
                "x": round(x, 2),
                "w": round(w, 2),
                "colour": _COLOURS[status],
            }
        )
        x += w
    return segments


def render_html(document: Mapping[str, Any]) -> str:
    """Render a run document; the same document always gives the same bytes."""
    requirements = sorted(
        document["requirements"],
        key=lambda r: (r["clause"].rsplit("/", 1)[1].strip().zfill(4), r["clause"], r["id"]),
    )
    by_clause = [
        {"clause": clause, "requirements": list(items)}
        for clause, items in groupby(requirements, key=lambda r: r["clause"])
    ]
    checks = document["checks"]
    template = _environment().get_template("report.html.j2")
    return template.render(
        doc=document,
        colours=_COLOURS,
        summary_bars=_bars(document["summary"]["counts"]),
        profiles=[{**p, "bars": _bars(p["counts"], 220)} for p in document["profiles"]],
        by_clause=by_clause,
        problems=[c for c in checks if c["status"] in ("fail", "error", "xpass")],
        expected_failures=[c for c in checks if c["status"] == "xfail"],
        skipped=[c for c in checks if c["status"] == "skip"],
        mismatches=[c for c in checks if c["code_mismatch"]],
    )
