"""The HTML report in a real browser: headless Chromium loads it from disk, runs its script,
and draws it. Skipped, saying why, where Chromium is not installed (``.ci/run`` installs it
when it can: ``apt-get install chromium``).
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path
from typing import Any

import pytest

from gc_conformance.reports import render_html

WIDTH, HEIGHT = 1280, 1800


def _chromium() -> str:
    for name in (os.environ.get("GC_CHROMIUM", ""), "chromium", "chromium-browser"):
        if name and (path := shutil.which(name)):
            return path
    pytest.skip(
        "Chromium is not installed (apt-get install chromium, or set GC_CHROMIUM); "
        "the real-browser report check did not run"
    )


def _browse(report: Path, tmp_path: Path, *mode: str) -> subprocess.CompletedProcess[str]:
    command = [
        _chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--window-size={WIDTH},{HEIGHT}",
        *mode,
        report.as_uri(),
    ]
    # The timeout only stops a hung browser from hanging the suite; nothing is timed.
    return subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)


def _png_pixels(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and the raw (filtered) scanlines of a PNG, with the standard library."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    position, compressed = 8, b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        if kind == b"IDAT":
            compressed += data[position + 8 : position + 8 + length]
        position += 12 + length
    return width, height, zlib.decompress(compressed)


@pytest.fixture
def failing_report(tmp_path: Path, overrun_doc: dict[str, Any]) -> Path:
    path = tmp_path / "report.html"
    path.write_text(render_html(overrun_doc), encoding="utf-8")
    return path


def test_chromium_shows_the_summary_the_matrix_and_working_filters(
    failing_report: Path, tmp_path: Path, overrun_doc: dict[str, Any]
) -> None:
    done = _browse(failing_report, tmp_path, "--dump-dom")
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    assert "Overall verdict:" in dom and ">FAIL</span>" in dom
    assert 'id="matrix"' in dom and "Requirement matrix" in dom
    for requirement in overrun_doc["requirements"]:
        assert f'id="req-{requirement["id"]}"' in dom
    # The inline script ran: the filter form is revealed and counts the rows it filters.
    assert '<form id="filters" aria-label' in dom
    assert "table rows shown" in dom


def test_chromium_draws_a_non_trivial_screenshot(failing_report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    done = _browse(failing_report, tmp_path, f"--screenshot={shot}")
    assert done.returncode == 0, done.stderr[-2000:]
    assert shot.is_file()
    width, height, pixels = _png_pixels(shot.read_bytes())
    assert (width, height) == (WIDTH, HEIGHT)
    assert len(set(pixels)) > 64, "the page drew (text, colours, chart), not a blank canvas"
    assert pixels.count(0xFF) < 0.98 * len(pixels)
