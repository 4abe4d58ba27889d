"""Strict UTC timestamps, date stamps and production intervals (D5, D6)."""

from __future__ import annotations

import datetime as dt

import pytest
from core_builders import invalid

from gc_conformance.reference import (
    ErrorCode,
    Interval,
    format_date,
    format_timestamp,
    parse_date,
    parse_timestamp,
    production_interval,
)


def test_a_strict_stamp_parses_to_an_aware_utc_instant() -> None:
    parsed = parse_timestamp("2023-10-03T00:00:00Z", "start")
    assert parsed == dt.datetime(2023, 10, 3, tzinfo=dt.UTC)
    assert parsed.utcoffset() == dt.timedelta(0)
    assert format_timestamp(parsed) == "2023-10-03T00:00:00Z"


@pytest.mark.parametrize(
    "text",
    [
        "2023-10-03T00:14:95Z",  # the standard's own example end stamp: 95 seconds
        "2023-10-03T00:00:00",  # no Z
        "2023-10-03T00:00:00+00:00",  # an offset, even a zero one
        "2023-10-03T01:00:00+01:00",
        "2023-10-03T00:00:00.500Z",  # fractional seconds
        "2023-10-03T00:00:00.0Z",
        "2023-02-30T00:00:00Z",  # no 30th of February
        "2023-02-29T00:00:00Z",  # 2023 is not a leap year
        "2023-10-03T24:00:00Z",
        "2023-10-03T23:60:00Z",
        "2023-12-31T23:59:60Z",  # a leap second is not representable
        "2023-10-03 00:00:00Z",  # space instead of T
        "2023-10-03t00:00:00z",  # lower case
        "2023-10-03T00:00Z",  # no seconds
        "23-10-03T00:00:00Z",
        "2023-10-03",
        " 2023-10-03T00:00:00Z",
        "",
        "٢٠٢٣-10-03T00:00:00Z",  # non-ASCII digits
        "２０２３-10-03T00:00:00Z",
    ],
)
def test_malformed_stamps_are_rejected_naming_the_field(text: str) -> None:
    invalid(
        lambda: parse_timestamp(text, "interval.end"), ErrorCode.INVALID_TIMESTAMP, "interval.end"
    )


def test_a_leap_day_stamp_in_a_leap_year_is_real() -> None:
    assert parse_timestamp("2024-02-29T23:00:00Z", "t") == dt.datetime(
        2024, 2, 29, 23, tzinfo=dt.UTC
    )


@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(2023, 10, 3),  # naive
        dt.datetime(2023, 10, 3, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        dt.datetime(2023, 10, 3, 0, 0, 0, 1, tzinfo=dt.UTC),  # microseconds
        1696291200,
        None,
        dt.date(2023, 10, 3),
    ],
)
def test_non_utc_or_non_stamp_values_are_rejected(value: object) -> None:
    invalid(lambda: parse_timestamp(value, "now"), ErrorCode.INVALID_TIMESTAMP, "now")


def test_an_aware_datetime_with_a_zero_offset_is_accepted_as_utc() -> None:
    zero = dt.timezone(dt.timedelta(0), "GMT")
    parsed = parse_timestamp(dt.datetime(2024, 1, 1, 5, tzinfo=zero), "now")
    assert parsed == dt.datetime(2024, 1, 1, 5, tzinfo=dt.UTC)
    assert parsed.tzinfo is dt.UTC


def test_issuance_date_stamps_are_strict() -> None:
    assert parse_date("2024-02-29", "d") == dt.date(2024, 2, 29)
    assert format_date(dt.date(2024, 3, 1)) == "2024-03-01"
    for text in ("2024-02-30", "2024-3-01", "2024-03-01T00:00:00Z", "20240301", "２０２４-03-01"):
        invalid(
            lambda text=text: parse_date(text, "issuance_date"),
            ErrorCode.INVALID_DATE,
            "issuance_date",
        )
    invalid(lambda: parse_date(dt.datetime(2024, 3, 1, tzinfo=dt.UTC), "d"), ErrorCode.INVALID_DATE)
    invalid(lambda: parse_date(20240301, "d"), ErrorCode.INVALID_DATE)


def test_a_production_interval_may_be_up_to_exactly_one_hour() -> None:
    hour = production_interval("2024-03-01T10:00:00Z", "2024-03-01T11:00:00Z")
    assert hour.length == dt.timedelta(hours=1)
    assert hour.hours == 1.0
    quarter = production_interval("2024-03-01T10:00:00Z", "2024-03-01T10:15:00Z")
    assert quarter.length == dt.timedelta(minutes=15)
    assert str(quarter) == "2024-03-01T10:00:00Z/2024-03-01T10:15:00Z"


def test_sixty_one_minutes_is_too_long() -> None:
    invalid(
        lambda: production_interval("2024-03-01T10:00:00Z", "2024-03-01T11:01:00Z"),
        ErrorCode.INTERVAL_TOO_LONG,
        "interval",
    )
    invalid(
        lambda: production_interval("2024-03-01T10:00:00Z", "2024-03-01T11:00:01Z"),
        ErrorCode.INTERVAL_TOO_LONG,
    )


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2024-03-01T10:00:00Z", "2024-03-01T10:00:00Z"),
        ("2024-03-01T11:00:00Z", "2024-03-01T10:00:00Z"),
    ],
)
def test_start_must_be_strictly_before_end(start: str, end: str) -> None:
    invalid(lambda: production_interval(start, end), ErrorCode.INVALID_INTERVAL, "interval")


def test_interval_stamp_errors_name_which_end_is_wrong() -> None:
    invalid(
        lambda: production_interval("2023-10-03T00:00:00Z", "2023-10-03T00:14:95Z"),
        ErrorCode.INVALID_TIMESTAMP,
        "interval.end",
    )
    invalid(
        lambda: Interval.parse("2023-10-03T00:00:00", "2023-10-03T00:14:00Z", field="period"),
        ErrorCode.INVALID_TIMESTAMP,
        "period.start",
    )


def test_a_bare_interval_may_be_longer_than_an_hour_and_compares_half_open() -> None:
    month = Interval.parse("2024-03-01T00:00:00Z", "2024-04-01T00:00:00Z")
    hour = production_interval("2024-03-31T23:00:00Z", "2024-04-01T00:00:00Z")
    after = production_interval("2024-04-01T00:00:00Z", "2024-04-01T01:00:00Z")
    assert month.contains(hour)
    assert month.overlaps(hour)
    assert not month.overlaps(after)  # touching ends do not overlap
    assert not month.contains(after)
    assert hour.to_plain() == {"start": "2024-03-31T23:00:00Z", "end": "2024-04-01T00:00:00Z"}
