"""Where a run's controlled clock starts (``--clock-start``), and moving a saved sequence there.

A registry with a controlled but forward-only test clock and no reset remembers the latest
instant it was sent and refuses anything earlier (``TIME_REVERSAL``). One run keeps time moving
forward by itself (each check starts past the instants sent before it), but a second run on the
same instance would start again at the suite's fixed first day, in the registry's past, and every
dated request would be refused: false failures. ``--clock-start INSTANT`` moves the whole run
later instead.

The one rule, shared by ``run`` and ``replay``: a run starts on the **first 1 March, 00:00 UTC, at
or after the instant**. Production happens on that day and requests are dated from the day after,
exactly as at the suite's default start (1 March 2024), so every check keeps the calendar it was
written for (no scenario straddles a calendar year, the end-of-year validity edges fall where they
did). A replay moves a saved sequence by whole days, from the 1 March its first request belongs to
onto the one the rule gives, so every gap between its instants and every time of day stays the same.

Pure: nothing here reads a clock.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping
from typing import Any

from gc_conformance.errors import UsageError

#: The suite's wire form of an instant: whole seconds, UTC, ``Z``.
STAMP = "%Y-%m-%dT%H:%M:%SZ"

#: The latest start accepted: a registry without reset moves a year further per check (and per
#: example of a property-based check), and the calendar ends with the year 9999.
LATEST_START = _dt.datetime(5000, 1, 1, tzinfo=_dt.UTC)

_STAMP_SHAPE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", re.ASCII)
_DATE_SHAPE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def stamp(moment: _dt.datetime) -> str:
    return moment.astimezone(_dt.UTC).strftime(STAMP)


def read_stamp(text: str) -> _dt.datetime:
    """An instant in the suite's wire form (raises ``ValueError`` for anything else)."""
    return _dt.datetime.strptime(text, STAMP).replace(tzinfo=_dt.UTC)


def parse_clock_start(text: str, option: str = "--clock-start") -> _dt.datetime:
    """The instant ``text`` names (ISO 8601 with an offset), in UTC; a :class:`UsageError`
    naming ``option`` for a malformed, naive or out-of-range one."""
    example = "e.g. 2031-01-01T00:00:00Z or 2031-01-01T01:00:00+01:00"
    try:
        moment = _dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"{text!r} is not an ISO 8601 instant ({example})", field=option) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise UsageError(
            f"{text!r} has no UTC offset: say which instant it is ({example})", field=option
        )
    moment = moment.astimezone(_dt.UTC)
    if moment >= LATEST_START:
        raise UsageError(
            f"{text!r} is too late: the run moves its clock on by up to a year per check, so it "
            f"must start before {stamp(LATEST_START)}",
            field=option,
        )
    return moment.replace(microsecond=0)


def epoch_at_or_after(moment: _dt.datetime) -> _dt.datetime:
    """The first 1 March, 00:00 UTC, at or after ``moment``: the day a run starting there
    produces on (its requests are dated from the day after)."""
    moment = moment.astimezone(_dt.UTC)
    candidate = _dt.datetime(moment.year, 3, 1, tzinfo=_dt.UTC)
    return candidate if candidate >= moment else candidate.replace(year=moment.year + 1)


def epoch_at_or_before(moment: _dt.datetime) -> _dt.datetime:
    """The last 1 March, 00:00 UTC, at or before ``moment``."""
    moment = moment.astimezone(_dt.UTC)
    candidate = _dt.datetime(moment.year, 3, 1, tzinfo=_dt.UTC)
    return candidate if candidate <= moment else candidate.replace(year=moment.year - 1)


def sequence_shift(first_now: _dt.datetime, start: _dt.datetime) -> _dt.timedelta:
    """How far (whole days) a saved sequence whose first request is dated ``first_now`` moves
    so that it begins as a run starting at ``start`` would: from its own 1 March to that run's.
    Zero or negative shifts are allowed: an earlier start moves the sequence back."""
    return epoch_at_or_after(start) - epoch_at_or_before(first_now)


def shift_instants(value: Any, delta: _dt.timedelta) -> Any:
    """``value`` (a request, or any JSON value in one) with every instant and date moved by
    ``delta``; anything else, malformed dates included, unchanged.

    Instants are strings in the suite's wire form (``2024-03-02T00:00:00Z``), dates are
    ``2024-03-01`` (a device's operational date, a storage start-up day): the only two shapes the
    checks send, so nothing else can be mistaken for one.
    """
    if isinstance(value, str):
        return _shift_text(value, delta)
    if isinstance(value, Mapping):
        return {k: shift_instants(v, delta) for k, v in value.items()}
    if isinstance(value, list):
        return [shift_instants(v, delta) for v in value]
    return value


def _shift_text(text: str, delta: _dt.timedelta) -> str:
    try:
        if _STAMP_SHAPE.fullmatch(text):
            return stamp(read_stamp(text) + delta)
        if _DATE_SHAPE.fullmatch(text):
            return (_dt.date.fromisoformat(text) + _dt.timedelta(days=delta.days)).isoformat()
    except (ValueError, OverflowError):
        pass  # an impossible date sent on purpose (hostile input) stays as it was
    return text


def latest_instant(requests: Any) -> str | None:
    """The latest ``now`` among ``requests`` (plain requests), or None when none is dated."""
    found: list[_dt.datetime] = []
    for request in requests:
        text = request.get("now") if isinstance(request, Mapping) else None
        if isinstance(text, str):
            try:
                found.append(read_stamp(text))
            except ValueError:
                continue
    return stamp(max(found)) if found else None


__all__ = [
    "LATEST_START",
    "STAMP",
    "epoch_at_or_after",
    "epoch_at_or_before",
    "latest_instant",
    "parse_clock_start",
    "read_stamp",
    "sequence_shift",
    "shift_instants",
    "stamp",
]
