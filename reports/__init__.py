"""Rendering a run document (see ``gc_conformance.results``) for people and for CI.

* :func:`render_html` — one self-contained HTML page (inline CSS and SVG, no
  network), autoescaped: every string that came from the registry under test
  is escaped.
* :func:`render_junit` — JUnit XML, one testcase per check, requirement IDs as
  properties; an adapter error is a JUnit ``error``, a failure a ``failure``.
"""

from gc_conformance.reports.html import render_html
from gc_conformance.reports.junit import render_junit

__all__ = ["render_html", "render_junit"]
