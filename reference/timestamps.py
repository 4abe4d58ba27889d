"""UTC timestamps, date stamps and production intervals, parsed strictly.

The standard fixes the wire format `YYYY-MM-DDThh:mm:ssZ` (D5) and gives an
example end stamp `2023-10-03T00:14:95Z` that is not a real time. Python's own
parsers are lenient in ways a conformance oracle must not be (``fromisoformat``
accepts offsets, fractions, a space separator and naive values), so parsing
here is by an exact pattern followed by calendar validation, and every failure
names the field it came from.

Time is always an argument in this package: nothing here reads a clock.
"""

from __future__ import annotations

import datetime as _dt
import re

import attrs

from gc_conformance.reference.errors import ErrorCode, InvalidInput

UTC = _dt.UTC
MAX_INTERVAL = _dt.timedelta(hours=1)

# re.ASCII: without it \d also matches non-ASCII digits (e.g. Arabic-Indic, full-width).
_TIMESTAMP = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z", re.ASCII)
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)


def parse_timestamp(value: object, field: str) -> _dt.datetime:
    """Parse a strict ``YYYY-MM-DDThh:mm:ssZ`` string, or accept an aware UTC datetime.

    Rejected, with ``INVALID_TIMESTAMP`` naming ``field``: a missing ``Z``, any
    offset (even ``+00:00``), fractional seconds, out-of-range fields such as
    95 seconds or a 30th of February, naive datetimes, and non-string values.
    """
    if type(value) is _dt.datetime and value.tzinfo is UTC and not value.microsecond:
        return value  # already what _require_utc would return (an equal UTC instant)
    if isinstance(value, _dt.datetime):
        return _require_utc(value, field)
    if not isinstance(value, str):
        raise InvalidInput(
            ErrorCode.INVALID_TIMESTAMP, field, f"expected a string, got {type(value).__name__}"
        )
    match = _TIMESTAMP.fullmatch(value)
    if match is None:
        raise InvalidInput(
            ErrorCode.INVALID_TIMESTAMP,
            field,
            f"{value!r} is not of the form YYYY-MM-DDThh:mm:ssZ (UTC, 'Z' suffix, no offset)",
        )
    year, month, day, hour, minute, second = (int(g) for g in match.groups())
    try:
        return _dt.datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError as exc:  # e.g. second=95, February 30th
        raise InvalidInput(
            ErrorCode.INVALID_TIMESTAMP, field, f"{value!r} is not a real instant: {exc}"
        ) from None


def _require_utc(value: _dt.datetime, field: str) -> _dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(
            ErrorCode.INVALID_TIMESTAMP, field, "naive datetime: the time zone must be UTC"
        )
    if value.utcoffset() != _dt.timedelta(0):
        raise InvalidInput(
            ErrorCode.INVALID_TIMESTAMP, field, f"offset {value.utcoffset()} is not UTC"
        )
    if value.microsecond:
        raise InvalidInput(
            ErrorCode.INVALID_TIMESTAMP, field, "sub-second precision is not representable"
        )
    return value.astimezone(UTC)


def format_timestamp(value: _dt.datetime) -> str:
    """The canonical wire form of an instant: ``YYYY-MM-DDThh:mm:ssZ``."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_date(value: object, field: str) -> _dt.date:
    """Parse a strict ``YYYY-MM-DD`` date stamp (or accept a ``date`` that is not a datetime)."""
    if isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
        return value
    if not isinstance(value, str):
        raise InvalidInput(
            ErrorCode.INVALID_DATE,
            field,
            f"expected a YYYY-MM-DD string, got {type(value).__name__}",
        )
    match = _DATE.fullmatch(value)
    if match is None:
        raise InvalidInput(
            ErrorCode.INVALID_DATE, field, f"{value!r} is not of the form YYYY-MM-DD"
        )
    try:
        return _dt.date(*(int(g) for g in match.groups()))
    except ValueError as exc:
        raise InvalidInput(
            ErrorCode.INVALID_DATE, field, f"{value!r} is not a real date: {exc}"
        ) from None


def format_date(value: _dt.date) -> str:
    return value.isoformat()


@attrs.frozen(order=True)
class Interval:
    """A half-open UTC interval ``[start, end)``.

    Production and storage intervals are at most one hour (D5, D7); use
    :func:`production_interval` for those. A bare ``Interval`` also models
    longer periods, such as a consumption period or an efficiency-factor
    window, which the standard does not limit to an hour.
    """

    start: _dt.datetime
    end: _dt.datetime

    @classmethod
    def parse(
        cls,
        start: object,
        end: object,
        *,
        field: str = "interval",
        max_length: _dt.timedelta | None = None,
    ) -> Interval:
        """Parse both ends strictly; ``start < end``; optionally ``end - start <= max_length``."""
        # An aware UTC datetime with whole seconds is taken as it is (parse_timestamp's own
        # first case), without building the field names its errors would need.
        if type(start) is _dt.datetime and start.tzinfo is UTC and not start.microsecond:
            begin = start
        else:
            begin = parse_timestamp(start, f"{field}.start")
        if type(end) is _dt.datetime and end.tzinfo is UTC and not end.microsecond:
            finish = end
        else:
            finish = parse_timestamp(end, f"{field}.end")
        if not begin < finish:
            raise InvalidInput(
                ErrorCode.INVALID_INTERVAL,
                field,
                f"start {format_timestamp(begin)} is not before end {format_timestamp(finish)}",
            )
        if max_length is not None and finish - begin > max_length:
            raise InvalidInput(
                ErrorCode.INTERVAL_TOO_LONG,
                field,
                f"length {finish - begin} exceeds the maximum of {max_length}",
            )
        return cls(begin, finish)

    @property
    def length(self) -> _dt.timedelta:
        return self.end - self.start

    @property
    def hours(self) -> float:
        return self.length.total_seconds() / 3600.0

    def overlaps(self, other: Interval) -> bool:
        return self.start < other.end and other.start < self.end

    def contains(self, other: Interval) -> bool:
        return self.start <= other.start and other.end <= self.end

    def to_plain(self) -> dict[str, str]:
        return {"start": format_timestamp(self.start), "end": format_timestamp(self.end)}

    def __str__(self) -> str:
        return f"{format_timestamp(self.start)}/{format_timestamp(self.end)}"


def production_interval(start: object, end: object, field: str = "interval") -> Interval:
    """A production or storage metering interval: strict UTC stamps, ``0 < length <= 1 hour``."""
    return Interval.parse(start, end, field=field, max_length=MAX_INTERVAL)
