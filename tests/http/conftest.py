"""A real ``gc-conformance serve --test-mode`` on a free loopback port, per test session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from http_server_support import Served, start_server, stop_server


@pytest.fixture(scope="session")
def served() -> Iterator[Served]:
    server = start_server("--test-mode")
    yield server
    stop_server(server)
