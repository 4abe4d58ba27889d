"""GridLedger (``examples/real_registry``) in process, through its mapping file: a mutation target.

The realistic example normally runs as its own HTTP service. For mutation
testing (``tools/mutation.py --target gridledger``) each mutant of its ledger
must start fresh and fast inside a forked child, so this adapter builds the
ASGI application on an in-memory sqlite database and sends the HTTP adapter's
requests to it through Starlette's in-process transport: the same routes,
mapping, ID tables, inferred results and error table as over a socket, without
one. A mutant that crashes answers 500, which the adapter reports as a failure
(an *error* verdict: killed). Lives outside ``examples/real_registry``, which
imports nothing of the suite.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

with warnings.catch_warnings():  # starlette's notice about httpx: the transport is what is used
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from gc_conformance.adapters.http import HttpAdapter
from gc_conformance.adapters.http_mapping import HttpMapping
from gc_conformance.session import ISSUER_ID

ROOT = Path(__file__).resolve().parents[1]
MAPPING = ROOT / "examples" / "real_registry" / "mapping.json"
ADMIN_KEY = "gridledger-mutation-admin-key-0123"
BASE_URL = "http://gridledger.invalid"


#: The header GridLedger's testing aid reads the request's instant from (``gridledger-clock``).
TEST_CLOCK_HEADER = "X-GridLedger-Test-Now"


def test_clock_mapping() -> HttpMapping:
    """``mapping.json`` with the clock declared controlled through GridLedger's test header.

    Derived in code, not kept as a second file, so that the two mappings cannot drift apart.
    """
    raw: dict[str, Any] = json.loads(MAPPING.read_text(encoding="utf-8"))
    raw["capabilities"]["clock"] = "controlled"
    raw["clock_header"] = TEST_CLOCK_HEADER
    raw["name"] += ", test clock"
    # The test clock's own refusal, read before the table's catch-all.
    raw["errors"]["patterns"].insert(
        0, {"match": "the request is dated before", "code": "TIME_REVERSAL"}
    )
    return HttpMapping.from_plain(raw, f"{MAPPING} (test clock)")


class GridLedgerInProcess(HttpAdapter):
    """A fresh GridLedger (in-memory sqlite) behind ``mapping.json``, without a socket."""

    name = "gridledger-in-process"
    description = "examples/real_registry in process, through its mapping file"
    #: None: the wall clock, as deployed; a header name: GridLedger's testing aid dates requests.
    test_clock_header: str | None = None

    def __init__(self) -> None:
        # Imported here, after tools/mutation.py has put a mutant in place of the ledger.
        from examples.real_registry.app import create_app
        from examples.real_registry.ledger import Ledger

        app = create_app(
            Ledger(":memory:", ISSUER_ID, "NL"),
            ADMIN_KEY,
            test_clock_header=self.test_clock_header,
        )
        self._in_process = TestClient(app, base_url=BASE_URL, raise_server_exceptions=False)
        self._in_process.__enter__()  # one event loop for every request, not one each
        super().__init__(
            BASE_URL,
            mapping=test_clock_mapping() if self.test_clock_header else HttpMapping.load(MAPPING),
            token=ADMIN_KEY,
            transport=self._in_process._transport,
        )

    def close(self) -> None:
        super().close()
        self._in_process.__exit__(None, None, None)


class GridLedgerTestClockInProcess(GridLedgerInProcess):
    """GridLedger with its testing aid on: the suite moves its clock (one-second validity edges).

    The wall-clock target cannot place a request in the very second a validity ends or
    production finishes; this one can, so the time-dependent checks judge GridLedger's own
    code there. GridLedger still has no reset: each check starts on a later 1 March.
    """

    name = "gridledger-test-clock-in-process"
    description = "examples/real_registry in process, clock moved through its test header"
    test_clock_header = TEST_CLOCK_HEADER
