"""``--clock-start`` (issue 14): a run, and a replay, that start later on a controlled clock.

A registry with a forward-only test clock and no reset refuses anything dated before the last
instant it saw; a second run would start in its past. The option moves the whole run to the first
1 March at or after the instant given. The two-runs-on-one-GridLedger proof is in
``tests/examples/test_real_registry.py``; here: the rule, its validation, the run document,
the report, the reproduction command and the replay round trip.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from gc_conformance import run as run_module
from gc_conformance.adapter import Capabilities
from gc_conformance.adapters.reference import ReferenceAdapter
from gc_conformance.cli import main
from gc_conformance.clock import (
    epoch_at_or_after,
    parse_clock_start,
    sequence_shift,
    shift_instants,
)
from gc_conformance.errors import UsageError
from gc_conformance.reports import render_html
from gc_conformance.reports.schema import RUN_DOCUMENT_SCHEMA
from gc_conformance.session import Session

UTC = dt.UTC
OWNER_CHECK = "core.transfer.non_owner_refused"
FAULT = "faulty:non-owner-transfer"


def _at(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=UTC)


def test_the_start_is_the_first_1_march_at_or_after_the_instant() -> None:
    assert epoch_at_or_after(_at(2031, 1, 1)) == _at(2031, 3, 1)
    assert epoch_at_or_after(_at(2031, 3, 1)) == _at(2031, 3, 1)
    assert epoch_at_or_after(_at(2031, 3, 1, 0, 0, 1)) == _at(2032, 3, 1)
    assert epoch_at_or_after(_at(2031, 2, 28, 23, 59, 59)) == _at(2031, 3, 1)
    # An offset is honoured: 1 March 00:30 at +01:00 is still 28 February in UTC.
    assert epoch_at_or_after(parse_clock_start("2031-03-01T00:30:00+01:00")) == _at(2031, 3, 1)


def test_the_latest_start_is_refused_and_one_second_before_it_taken() -> None:
    assert parse_clock_start("4999-12-31T23:59:59Z") == _at(4999, 12, 31, 23, 59, 59)
    with pytest.raises(UsageError, match="too late"):
        parse_clock_start("5000-01-01T00:00:00Z")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("2031-01-01T00:00:00", "no UTC offset"),
        ("2031-01-01", "no UTC offset"),
        ("next tuesday", "not an ISO 8601 instant"),
        ("2031-02-30T00:00:00Z", "not an ISO 8601 instant"),
        ("", "not an ISO 8601 instant"),
        ("6000-01-01T00:00:00Z", "too late"),
    ],
)
def test_a_naive_malformed_or_too_late_instant_is_refused_naming_the_option(
    text: str, says: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with pytest.raises(UsageError, match=says) as caught:
        parse_clock_start(text)
    assert caught.value.field == "--clock-start"
    assert main(["run", "--adapter", "reference", "--clock-start", text]) == 2
    err = capsys.readouterr().err
    assert "--clock-start" in err and says in err and "Traceback" not in err
    saved = tmp_path / "saved.json"
    saved.write_text("{}")
    assert main(["replay", str(saved), "--adapter", "reference", "--clock-start", text]) == 2
    assert "--clock-start" in capsys.readouterr().err


def test_a_registry_that_dates_requests_itself_refuses_the_option(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = {**ReferenceAdapter().capabilities(), "clock": "fixed"}
    monkeypatch.setattr(run_module, "probe_adapter", lambda *_: Capabilities.from_plain(plain))
    code = main(
        [
            "run",
            "--adapter",
            "reference",
            "--check",
            OWNER_CHECK,
            "--clock-start",
            "2031-01-01T00:00:00Z",
        ]
    )
    assert code == 2
    assert "--clock-start" in capsys.readouterr().out


def test_a_session_on_a_controlled_clock_starts_there_and_a_fixed_one_ignores_it() -> None:
    adapter = ReferenceAdapter()
    capabilities = Capabilities.from_plain(adapter.capabilities())
    moved = Session(adapter, capabilities, clock_start=_at(2031, 6, 1))
    assert moved.epoch == _at(2032, 3, 1) and moved.now == _at(2032, 3, 2)
    assert Session(adapter, capabilities).epoch == _at(2024, 3, 1)
    fixed = Capabilities.from_plain({**adapter.capabilities(), "clock": "fixed"})
    today = Session(
        adapter, fixed, wall_clock=lambda: _at(2027, 6, 10, 10), clock_start=_at(2031, 1, 1)
    )
    assert today.epoch == _at(2027, 6, 8)


def _nows(check: dict[str, Any]) -> list[str]:
    return [step["request"]["now"] for step in check["steps"]]


def test_the_run_document_report_and_reproduction_carry_the_start(tmp_path: Path) -> None:
    out, saved = tmp_path / "run.json", tmp_path / "failures"
    start = "2031-06-01T02:00:00+02:00"
    code = main(
        [
            "run",
            "--quiet",
            "--adapter",
            FAULT,
            "--check",
            OWNER_CHECK,
            "--json",
            str(out),
            "--clock-start",
            start,
            "--save-failures",
            str(saved),
        ]
    )
    assert code == 1
    document = json.loads(out.read_text())
    jsonschema.validate(document, RUN_DOCUMENT_SCHEMA)
    assert document["run"]["clock_start"] == "2031-06-01T00:00:00Z"  # in UTC
    (check,) = document["checks"]
    assert check["status"] == "fail"
    assert min(_nows(check)) == "2032-03-02T00:00:00Z"  # a day after the first 1 March
    assert document["run"]["latest_instant"] == max(_nows(check))
    assert check["reproduce"].endswith("--clock-start 2031-06-01T00:00:00Z")
    assert "2031-06-01T00:00:00Z" in render_html(document)
    # Without the option the document says so.
    main(["run", "--quiet", "--adapter", "reference", "--check", OWNER_CHECK, "--json", str(out)])
    assert json.loads(out.read_text())["run"]["clock_start"] is None

    # The saved failure records the start; its instants are the run's, already moved.
    (path,) = saved.glob("*.json")
    data = json.loads(path.read_text())
    assert data["clock_start"] == "2031-06-01T00:00:00Z"
    assert data["steps"][0]["request"]["now"] == "2032-03-02T00:00:00Z"


def test_a_replay_sends_the_saved_instants_or_moves_them_all_to_its_own_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "failures"
    main(
        [
            "run",
            "--quiet",
            "--adapter",
            FAULT,
            "--check",
            OWNER_CHECK,
            "--clock-start",
            "2031-01-01T00:00:00Z",
            "--save-failures",
            str(saved),
        ]
    )
    (path,) = saved.glob("*.json")
    recorded = [s["request"]["now"] for s in json.loads(path.read_text())["steps"]]
    capsys.readouterr()

    # Unchanged: the same instants go out again, and the fault is found again.
    from gc_conformance.adapters import load_adapter
    from gc_conformance.replay import replay

    again = replay(path, load_adapter(FAULT))
    assert again.status.value == "fail"
    assert [s.request["now"] for s in again.steps] == recorded[: len(again.steps)]

    # Moved: whole days, from the sequence's 1 March to the new start's, gaps kept.
    moved = replay(path, load_adapter(FAULT), clock_start=_at(2040, 1, 1))
    assert moved.status.value == "fail"
    delta = _at(2040, 3, 1) - _at(2031, 3, 1)
    assert [s.request["now"] for s in moved.steps] == [
        shift_instants(n, delta) for n in recorded[: len(moved.steps)]
    ]
    assert moved.steps[0].request["now"] == "2040-03-02T00:00:00Z"
    assert "moved by" in moved.message
    assert (
        main(["replay", str(path), "--adapter", FAULT, "--clock-start", "2040-01-01T00:00:00Z"])
        == 1
    )
    printed = capsys.readouterr().out
    assert "2040-03-02T00:00:00Z" in printed and "--clock-start 2040-01-01T00:00:00Z" in printed
    assert (
        main(
            ["replay", str(path), "--adapter", "reference", "--clock-start", "2040-01-01T00:00:00Z"]
        )
        == 0
    )


def test_shifting_moves_instants_and_dates_only() -> None:
    delta = sequence_shift(_at(2024, 3, 2), _at(2027, 1, 1))
    assert delta == _at(2027, 3, 1) - _at(2024, 3, 1)
    request = {
        "now": "2024-03-02T00:00:00Z",
        "start": "2024-03-01T05:00:00Z",
        "device": {"operational_date": "2024-03-01", "name": "2024-03-01 wind"},
        "bad": ["2024-02-30T00:00:00Z", "2024-13-01"],
        "quantity": 5,
    }
    assert shift_instants(request, delta) == {
        "now": "2027-03-02T00:00:00Z",
        "start": "2027-03-01T05:00:00Z",
        "device": {"operational_date": "2027-03-01", "name": "2024-03-01 wind"},
        "bad": ["2024-02-30T00:00:00Z", "2024-13-01"],
        "quantity": 5,
    }
    # The calendar year ends on the same day after the move (March to February is the same
    # length in every year until the next 29 February).
    assert shift_instants("2024-12-31T23:59:59Z", delta) == "2027-12-31T23:59:59Z"
