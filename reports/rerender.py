"""``gc-conformance report``: render a saved run document again, long after the run.

Everything is rendered in memory first and written only when all outputs
rendered, so a malformed document (refused with the field named, see
:mod:`schema`) leaves no half-written report behind.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gc_conformance.reports.html import render_html
from gc_conformance.reports.junit import render_junit
from gc_conformance.reports.schema import RUN_DOCUMENT_SCHEMA, load_run_document


def rerender(
    source: Path,
    *,
    html: Path | None,
    junit: Path | None,
    previous: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Validate ``source`` and write the requested outputs; return the paths written.

    Raises :class:`~gc_conformance.reports.schema.RunDocumentError` for a bad
    document, before anything is written.
    """
    document = load_run_document(source)
    outputs: list[tuple[Path, str]] = []
    if html is not None:
        outputs.append((html, render_html(document, previous=previous)))
    if junit is not None:
        outputs.append((junit, render_junit(document)))
    for path, text in outputs:
        path.write_text(text, encoding="utf-8")
    return [path for path, _ in outputs]


def schema_text() -> str:
    """The run document's JSON Schema, as published by ``gc-conformance report --schema``."""
    return json.dumps(RUN_DOCUMENT_SCHEMA, indent=2, sort_keys=True) + "\n"
