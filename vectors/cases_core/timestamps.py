"""Cases about timestamps and intervals: the wire form of a stamp, D15, interval lengths, dates."""

from __future__ import annotations

from collections.abc import Callable

from gc_conformance.session import device_record
from gc_conformance.vectors.cases_core._flags import (
    BAD_STAMP,
    D15_STAMP,
    DATES,
    HAND,
    INTERVAL,
    TIMES,
    VALID,
    production,
)
from gc_conformance.vectors.catalog import ACCOUNTS, BOB, CAST, ISSUER, add, case
from gc_conformance.vectors.tape import Tape

_BAD_STAMPS = {
    "no-zone": "2024-03-01T00:00:00",
    "offset": "2024-03-01T00:00:00+00:00",
    "fraction": "2024-03-01T00:00:00.000Z",
    "space": "2024-03-01 00:00:00Z",
    "hour-24": "2024-03-01T24:00:00Z",
    "minute-60": "2024-03-01T00:60:00Z",
    "second-60": "2024-03-01T00:00:60Z",
    "february-30": "2024-02-30T00:00:00Z",
    "no-padding": "2024-3-1T0:00:00Z",
    "empty": "",
    "basic-format": "20240301T000000Z",
    "lowercase": "2024-03-01t00:00:00z",
    "date-only": "2024-03-01",
    "year-0": "0000-03-01T00:00:00Z",
}


def _bad_start(text: str) -> Callable[[Tape], None]:
    def run(t: Tape) -> None:
        production(t, text, "2024-03-01T01:00:00Z")

    return run


def _bad_end(text: str) -> Callable[[Tape], None]:
    def run(t: Tape) -> None:
        production(t, "2024-03-01T00:00:00Z", text)

    return run


for _label, _text in _BAD_STAMPS.items():
    add(
        TIMES,
        CAST,
        f"start-{_label}",
        f"production start {_text!r} is not a strict UTC stamp",
        _bad_start(_text),
        flags=[BAD_STAMP],
        requirements=["TIME-001", "IT-004"],
    )
for _label in ("no-zone", "offset", "fraction", "second-60", "february-30"):
    add(
        TIMES,
        CAST,
        f"end-{_label}",
        f"production end {_BAD_STAMPS[_label]!r} is not a strict UTC stamp",
        _bad_end(_BAD_STAMPS[_label]),
        flags=[BAD_STAMP],
        requirements=["TIME-001", "IT-004"],
    )


@case(
    TIMES,
    CAST,
    "d15-end-95-seconds",
    "the standard's example end stamp 2023-10-03T00:14:95Z is refused (95 seconds)",
    flags=[D15_STAMP, HAND],
    requirements=["TIME-001"],
)
def _d15_stamp(t: Tape) -> None:
    production(t, "2023-10-03T00:00:00Z", "2023-10-03T00:14:95Z")
    t.hand_refused("INVALID_TIMESTAMP")


@case(
    TIMES,
    CAST,
    "d15-start-correct-form",
    "the standard's example start stamp 2023-10-03T00:00:00Z with a 15-minute end is well formed "
    "(refused as too old only where every use ends with the calendar year: own_hour_use "
    "NOT_EXEMPT)",
    flags=[D15_STAMP],
    requirements=["TIME-001", "VAL-008"],
)
def _d15_start(t: Tape) -> None:
    production(t, "2023-10-03T00:00:00Z", "2023-10-03T00:15:00Z")


for _minutes, _ok in ((15, True), (30, True), (60, True), (61, False), (120, False), (1, True)):

    def _length(t: Tape, minutes: int = _minutes) -> None:
        start, end = t.hour(2, minutes=minutes)
        production(t, start, end, "10")

    add(
        TIMES,
        CAST,
        f"interval-{_minutes}-minutes",
        f"a production interval of {_minutes} minutes is "
        + ("accepted as given" if _ok else "longer than one hour"),
        _length,
        flags=[INTERVAL] if not _ok else [INTERVAL, VALID],
        requirements=["TIME-004", "TIME-005"] if _ok else ["TIME-002"],
    )


@case(
    TIMES, CAST, "interval-empty", "start equal to end", flags=[INTERVAL], requirements=["TIME-003"]
)
def _empty(t: Tape) -> None:
    production(t, "2024-03-01T03:00:00Z", "2024-03-01T03:00:00Z")


@case(
    TIMES, CAST, "interval-reversed", "start after end", flags=[INTERVAL], requirements=["TIME-003"]
)
def _reversed(t: Tape) -> None:
    production(t, "2024-03-01T04:00:00Z", "2024-03-01T03:00:00Z")


@case(
    TIMES,
    CAST,
    "interval-not-ended",
    "production for an hour that ends after the request's time",
    flags=[INTERVAL],
    requirements=["PROD-006"],
)
def _not_ended(t: Tape) -> None:
    production(t, "2024-03-01T23:30:00Z", "2024-03-02T00:30:00Z")


@case(
    TIMES,
    CAST,
    "leap-day-production",
    "production on 29 February 2024 (a real date) is accepted",
    flags=[VALID, DATES],
    requirements=["TIME-001", "TIME-005"],
)
def _leap(t: Tape) -> None:
    production(t, "2024-02-29T10:00:00Z", "2024-02-29T11:00:00Z", "500")


@case(
    TIMES,
    CAST,
    "cross-midnight-hour",
    "an hour that crosses midnight UTC is one interval",
    flags=[VALID],
    requirements=["TIME-005"],
)
def _midnight(t: Tape) -> None:
    production(t, "2024-02-29T23:30:00Z", "2024-03-01T00:30:00Z", "700")


for _label, _date, _good in (
    ("leap-day", "2020-02-29", True),
    ("month-13", "2020-13-01", False),
    ("february-30", "2021-02-30", False),
    ("no-padding", "2020-1-1", False),
    ("with-time", "2020-01-01T00:00:00Z", False),
    ("non-leap-29", "2019-02-29", False),
):

    def _operational(t: Tape, date: str = _date) -> None:
        record = device_record("DEV-HYDRO", "M-HYDRO", ACCOUNTS[BOB], 100_000, "hydro")
        record["operational_date"] = date
        t.send("register_device", ISSUER, device=record)

    add(
        TIMES,
        CAST,
        f"operational-date-{_label}",
        f"a device's start of operation {_date!r} is "
        + ("a real date" if _good else "not a strict YYYY-MM-DD date"),
        _operational,
        flags=[DATES, VALID] if _good else [DATES],
        requirements=["TIME-006", "DEV-001"],
    )
