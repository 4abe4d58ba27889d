"""Geometry of the report's status charts, computed here so the template only places shapes.

Colour is never the only carrier of meaning: every segment wide enough shows
its count, every segment has a tooltip, the legend names each colour, and the
tables next to the chart give the same numbers as text (for print in black
and white, and for screen readers).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

#: Worst first: the order segments, legends and filters use.
STATUS_ORDER = ("fail", "error", "xpass", "xfail", "pass", "skip")
COLOURS = {
    "pass": "#1a7f37",
    "fail": "#cf222e",
    "error": "#9a6700",
    "skip": "#8c959f",
    "xfail": "#8250df",
    "xpass": "#bf3989",
}
LABELS = {
    "pass": "pass",
    "fail": "fail",
    "error": "error (no verdict)",
    "skip": "skipped",
    "xfail": "expected failure",
    "xpass": "unexpected pass",
}


@attrs.frozen
class Segment:
    status: str
    count: int
    x: float
    width: float
    colour: str
    show_count: bool  # wide enough to print the number inside


@attrs.frozen
class ChartRow:
    label: str
    y: int
    total: int
    segments: tuple[Segment, ...]


@attrs.frozen
class StatusChart:
    """A horizontal stacked bar per row (profile), sharing one scale: the longest row is full."""

    width: int
    height: int
    label_width: int
    bar_width: int
    bar_height: int
    rows: tuple[ChartRow, ...]
    legend: tuple[tuple[str, str, float], ...]  # (label, colour, x)
    legend_y: int


def segments(counts: Mapping[str, int], width: float, scale_total: int) -> tuple[Segment, ...]:
    """Stacked segments, worst status first, on a bar where ``scale_total`` fills ``width``."""
    out = []
    x = 0.0
    for status in STATUS_ORDER:
        n = int(counts.get(status, 0))
        if n <= 0:
            continue
        w = width * n / max(scale_total, 1)
        wide = w >= 8 * len(str(n)) + 6
        out.append(Segment(status, n, round(x, 2), round(w, 2), COLOURS[status], wide))
        x += w
    return tuple(out)


def status_chart(
    rows: Sequence[tuple[str, Mapping[str, int]]],
    *,
    label_width: int = 150,
    bar_width: int = 460,
    bar_height: int = 20,
    row_gap: int = 8,
) -> StatusChart:
    scale = max((sum(counts.values()) for _, counts in rows), default=0)
    chart_rows = []
    for index, (label, counts) in enumerate(rows):
        chart_rows.append(
            ChartRow(
                label=label,
                y=index * (bar_height + row_gap),
                total=sum(counts.values()),
                segments=segments(counts, bar_width, scale),
            )
        )
    legend = []
    x = 0.0
    for status in STATUS_ORDER:
        legend.append((LABELS[status], COLOURS[status], x))
        x += 22 + 7.2 * len(LABELS[status])
    legend_y = len(rows) * (bar_height + row_gap) + 6
    return StatusChart(
        width=label_width + bar_width + 90,
        height=legend_y + 18,
        label_width=label_width,
        bar_width=bar_width,
        bar_height=bar_height,
        rows=tuple(chart_rows),
        legend=tuple(legend),
        legend_y=legend_y,
    )
